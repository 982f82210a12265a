import { Decimal } from '../../core/money/index.js';
import { dayBounds, localDate } from '../../core/time.js';
import type { Sql } from '../../db/database.js';
import { isProviderId, type LineType, type ProviderId } from '../../parsers/contract.js';
import { CALENDARS } from '../../reconcile/calendars.js';

/** A statement line as the fee comparison reads it. */
export interface FeeReportLine {
  id: string;
  provider: ProviderId;
  account: string | null;
  type: LineType;
  providerTxnId: string | null;
  gross: Decimal;
  fee: Decimal;
  currency: string;
  occurredAt: Date;
  paymentMethod: string | null;
  wallet: string | null;
  /** The day the line is reported under: its statement's day (see `selectStatements`). */
  day: string;
  /** For a refund: the refunded payment's gross when that payment is loaded (found by the refund's parent id). */
  originalGross: Decimal | null;
  /** For a refund: Σ |gross| of the same payment's refunds before this one. */
  earlierRefunds: Decimal;
}

export interface SelectedStatement {
  statementFileId: string;
  provider: ProviderId;
  account: string | null;
  name: string;
  /** The statement's day: the bill date of its completed daily run, or (ad hoc) its own bill date / period start. */
  day: string;
  source: 'daily' | 'adhoc';
}

export interface LineSelection {
  from: string;
  to: string;
  /** Also statements loaded outside any daily run whose period lies inside the range (default true). */
  includeAdhoc?: boolean;
}

const timeZone = (provider: string) => (CALENDARS as Record<string, { timeZone: string } | undefined>)[provider]?.timeZone ?? 'UTC';

/**
 * The statements a fee report covers:
 * - every statement of a completed daily run whose bill date is in [from, to] (its day: that bill date);
 * - with `includeAdhoc`, every loaded statement never attached to any daily run (e.g. `recon reconcile`)
 *   whose period lies wholly inside the range, taken as calendar days in the provider's time zone (its
 *   day: its bill date, else the day its period starts). A statement only partly inside is left out, so
 *   that a period is never counted twice by two adjacent reports.
 * A statement that belongs to a superseded daily run only (replaced by a rerun) is not counted.
 */
export async function selectStatements(db: Sql, sel: LineSelection): Promise<SelectedStatement[]> {
  const daily = await db.query<{ id: string; provider: string; account: string | null; name: string; day: string }>(
    `SELECT f.id::text AS id, f.provider, coalesce(nullif(min(coalesce(r.account, '')), ''), f.account) AS account, f.original_name AS name,
            min(r.bill_date)::text AS day
       FROM recon_runs r JOIN recon_run_statements rs ON rs.run_id = r.id JOIN statement_files f ON f.id = rs.statement_file_id
      WHERE r.kind = 'daily' AND r.status = 'completed' AND r.bill_date BETWEEN $1::date AND $2::date
      GROUP BY f.id ORDER BY f.id`,
    [sel.from, sel.to],
  );
  const out: SelectedStatement[] = daily
    .filter((f) => isProviderId(f.provider))
    .map((f) => ({ statementFileId: String(f.id), provider: f.provider as ProviderId, account: f.account, name: f.name, day: f.day, source: 'daily' as const }));
  if (sel.includeAdhoc !== false) {
    const adhoc = await db.query<{ id: string; provider: string; account: string | null; name: string; bill_date: string | null; period_start: Date | null; period_end: Date | null }>(
      `SELECT f.id::text AS id, f.provider, f.account, f.original_name AS name, f.bill_date::text AS bill_date, f.period_start, f.period_end
         FROM statement_files f
        WHERE f.loaded_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM recon_run_statements rs JOIN recon_runs r ON r.id = rs.run_id WHERE rs.statement_file_id = f.id AND r.kind = 'daily')
        ORDER BY f.id`,
    );
    for (const f of adhoc) {
      if (!isProviderId(f.provider)) continue;
      const tz = timeZone(f.provider);
      let day: string | null = null;
      if (f.bill_date !== null) {
        day = f.bill_date >= sel.from && f.bill_date <= sel.to ? f.bill_date : null;
      } else if (f.period_start && f.period_end) {
        const start = new Date(f.period_start);
        const end = new Date(f.period_end);
        if (start >= dayBounds(sel.from, tz).start && end <= dayBounds(sel.to, tz).end) day = localDate(start, tz);
      }
      if (day !== null) out.push({ statementFileId: String(f.id), provider: f.provider, account: f.account, name: f.name, day, source: 'adhoc' });
    }
  }
  return out;
}

/** The lines of the selected statements, each with its statement's day and, for refunds, what pricing needs. */
export async function readLines(db: Sql, statements: readonly SelectedStatement[]): Promise<FeeReportLine[]> {
  if (statements.length === 0) return [];
  const byId = new Map(statements.map((s) => [s.statementFileId, s]));
  const rows = await db.query<{
    id: string; statement_file_id: string; provider: string; type: LineType; provider_txn_id: string | null; gross: string; fee: string;
    currency: string; occurred_at: Date; payment_method: string | null; wallet: string | null; original_gross: string | null; earlier_refunds: string | null;
  }>(
    `SELECT sl.id::text AS id, sl.statement_file_id::text AS statement_file_id, sl.provider, sl.type, sl.provider_txn_id,
            sl.gross::text AS gross, sl.fee::text AS fee, trim(sl.currency) AS currency, sl.occurred_at, sl.payment_method, sl.wallet,
            CASE WHEN sl.type = 'refund' AND sl.parent_txn_id IS NOT NULL THEN
              (SELECT p.gross::text FROM statement_lines p
                WHERE p.provider = sl.provider AND p.type = 'payment' AND p.provider_txn_id = sl.parent_txn_id AND p.currency = sl.currency
                ORDER BY p.id LIMIT 1) END AS original_gross,
            CASE WHEN sl.type = 'refund' AND sl.parent_txn_id IS NOT NULL THEN
              (SELECT sum(abs(q.gross))::text FROM (
                 SELECT DISTINCT ON (coalesce(r2.provider_txn_id, 'line:' || r2.id::text)) r2.gross
                   FROM statement_lines r2
                  WHERE r2.provider = sl.provider AND r2.type = 'refund' AND r2.parent_txn_id = sl.parent_txn_id
                    AND coalesce(r2.provider_txn_id, 'line:' || r2.id::text) <> coalesce(sl.provider_txn_id, 'line:' || sl.id::text)
                    AND (r2.occurred_at < sl.occurred_at OR (r2.occurred_at = sl.occurred_at AND r2.id < sl.id))
                  ORDER BY coalesce(r2.provider_txn_id, 'line:' || r2.id::text), r2.id) q) END AS earlier_refunds
       FROM statement_lines sl
      WHERE sl.statement_file_id = ANY($1::bigint[])
      ORDER BY sl.provider, sl.occurred_at, sl.id`,
    [[...byId.keys()]],
  );
  return rows.map((r) => {
    const st = byId.get(String(r.statement_file_id))!;
    return {
      id: String(r.id),
      provider: r.provider as ProviderId,
      account: st.account,
      type: r.type,
      providerTxnId: r.provider_txn_id,
      gross: new Decimal(r.gross),
      fee: new Decimal(r.fee),
      currency: r.currency,
      occurredAt: new Date(r.occurred_at),
      paymentMethod: r.payment_method,
      wallet: r.wallet,
      day: st.day,
      originalGross: r.original_gross === null ? null : new Decimal(r.original_gross),
      earlierRefunds: r.earlier_refunds === null ? new Decimal(0) : new Decimal(r.earlier_refunds),
    };
  });
}
