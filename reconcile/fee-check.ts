import type { CopyValue, Tx } from '../db/database.js';
import { Decimal } from '../core/money/index.js';
import type { LineType, ProviderId } from '../parsers/contract.js';
import { expectedFee, FeeNotComputableError, resolveSchedule, type FeeSchedule } from './fees/index.js';

interface Candidate {
  id: string;
  provider: ProviderId;
  type: LineType;
  gross: string;
  currency: string;
  payment_method: string | null;
  wallet: string | null;
  occurred_at: Date;
  account: string | null;
  original_gross: string | null;
  earlier_refunds: string | null;
}

/**
 * The fee each candidate statement line should have cost under the contracted schedule, into the
 * scratch table `ef` (line id, expected fee, the rule in words, schedule id). A refund is priced with
 * its payment (found by its parent id on any loaded statement) and the refunds before it, so that
 * pro-rata returns add up. A line no schedule covers, or that cannot be priced (its payment is not on
 * any statement), is left out and counted — never priced as zero.
 */
export async function computeExpectedFees(tx: Tx, schedules: readonly FeeSchedule[]): Promise<{ priced: number; unpriced: number }> {
  await tx.query(`CREATE TEMP TABLE ef (line_id bigint PRIMARY KEY, expected numeric(24,6) NOT NULL, rule text NOT NULL, schedule_id text NOT NULL) ON COMMIT DROP`);
  const lines = await tx.query<Candidate>(
    `SELECT s.id::text, l.provider, l.type, l.gross::text, l.currency, l.payment_method, l.wallet, l.occurred_at, f.account,
            (SELECT p.gross::text FROM statement_lines p
              WHERE l.type = 'refund' AND p.provider = l.provider AND p.type = 'payment' AND p.provider_txn_id = l.parent_txn_id
              ORDER BY p.statement_file_id DESC LIMIT 1) AS original_gross,
            -- each earlier refund once, however many statement files carry it (corrected files, overlaps)
            (SELECT (-sum(r.gross))::text FROM (
               SELECT DISTINCT ON (coalesce(r.txn_key, r.id::text)) r.gross FROM statement_lines r
                WHERE l.type = 'refund' AND r.provider = l.provider AND r.type = 'refund' AND r.parent_txn_id = l.parent_txn_id
                  AND r.occurred_at < l.occurred_at AND r.txn_key IS DISTINCT FROM l.txn_key
                ORDER BY coalesce(r.txn_key, r.id::text), r.statement_file_id DESC) r) AS earlier_refunds
       FROM rs s JOIN statement_lines l ON l.id = s.id JOIN statement_files f ON f.id = l.statement_file_id
      WHERE s.copy_no = 1
      ORDER BY s.id`,
  );
  let unpriced = 0;
  const rows: CopyValue[][] = [];
  for (const c of lines) {
    const line = {
      provider: c.provider, type: c.type, gross: new Decimal(c.gross), currency: c.currency.trim(),
      paymentMethod: c.payment_method, wallet: c.wallet, occurredAt: c.occurred_at, account: c.account,
    };
    const schedule = resolveSchedule(schedules, line);
    if (!schedule) {
      unpriced += 1;
      continue;
    }
    try {
      const fee = expectedFee(schedule, line, {
        original: c.original_gross === null ? null : { gross: new Decimal(c.original_gross) },
        earlierRefunds: c.earlier_refunds === null ? null : new Decimal(c.earlier_refunds),
      });
      rows.push([c.id, fee.expected.toFixed(), fee.rule, fee.scheduleId]);
    } catch (err) {
      if (!(err instanceof FeeNotComputableError)) throw err;
      unpriced += 1;
    }
  }
  await tx.copyFrom('ef', ['line_id', 'expected', 'rule', 'schedule_id'], rows);
  return { priced: rows.length, unpriced };
}
