import type { Sql } from '../db/database.js';
import type { LineTypeCount } from '../reconcile/run.js';

export interface FeeRow {
  currency: string;
  type: string;
  payment_method: string;
  wallet: string;
  lines: number;
  gross: string;
  fee: string;
  net: string;
}

export interface FeeCheckRow {
  currency: string;
  type: string;
  pairs: number;
  statement_fee: string;
  ledger_fee: string;
  mismatches: number;
}

/** Fees the statements charged, by currency, line type, payment method and wallet. */
export async function feeRows(db: Sql, statementFileIds: string[]): Promise<FeeRow[]> {
  return db.query<FeeRow>(
    `SELECT currency, type, coalesce(payment_method, '') AS payment_method, coalesce(wallet, '') AS wallet,
            count(*)::int AS lines, sum(gross)::text AS gross, sum(fee)::text AS fee, sum(net)::text AS net
       FROM statement_lines WHERE statement_file_id = ANY($1::bigint[])
      GROUP BY currency, type, payment_method, wallet
      ORDER BY currency, type, payment_method, wallet`,
    [statementFileIds],
  );
}

/** Line counts by type, from the fee rows (which group every line of the statements). */
export function lineTypesOf(rows: readonly FeeRow[]): LineTypeCount[] {
  const byType = new Map<string, number>();
  for (const r of rows) byType.set(r.type, (byType.get(r.type) ?? 0) + r.lines);
  return [...byType].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([type, n]) => ({ type, n }));
}

/**
 * Statement fees against the fees the ledger expected, over paired rows whose ledger fee is given: as
 * the run computed them, or (runs from before it did) from its matches.
 */
export async function feeCheckRows(db: Sql, runId: string): Promise<FeeCheckRow[]> {
  const [stored] = await db.query<{ fee_checks: FeeCheckRow[] | null }>(`SELECT fee_checks FROM recon_runs WHERE id = $1`, [runId]);
  if (stored?.fee_checks) return stored.fee_checks;
  return db.query<FeeCheckRow>(
    `SELECT sl.currency, sl.type, count(*)::int AS pairs, sum(sl.fee)::text AS statement_fee, sum(le.fee)::text AS ledger_fee,
            count(*) FILTER (WHERE sl.fee <> le.fee)::int AS mismatches
       FROM matches m JOIN statement_lines sl ON sl.id = m.statement_line_id JOIN ledger_entries le ON le.id = m.ledger_entry_id
      WHERE m.run_id = $1 AND le.fee IS NOT NULL AND le.currency = sl.currency
      GROUP BY sl.currency, sl.type ORDER BY sl.currency, sl.type`,
    [runId],
  );
}
