import type { Sql } from '../db/database.js';
import type { LineTypeCount } from '../reconcile/run.js';
import { mergeTallies, type TallyRow } from '../storage/line-tally.js';
import type { LoadedStatement } from '../storage/statements.js';

/** The statements' lines by currency, type, payment method and wallet (see LineTally, which counts them as they load). */
export type FeeRow = TallyRow;

export interface FeeCheckRow {
  currency: string;
  type: string;
  pairs: number;
  statement_fee: string;
  ledger_fee: string;
  mismatches: number;
}

/** Fees the statements charged, by currency, line type, payment method and wallet (no method or wallet: ''), in code-point order. */
export async function feeRows(db: Sql, statementFileIds: string[]): Promise<FeeRow[]> {
  return db.query<FeeRow>(
    `SELECT currency, type, payment_method, wallet,
            count(*)::int AS lines, sum(gross)::text AS gross, sum(fee)::text AS fee, sum(net)::text AS net
       FROM (SELECT currency::text COLLATE "C" AS currency, type COLLATE "C" AS type,
                    coalesce(payment_method, '') COLLATE "C" AS payment_method, coalesce(wallet, '') COLLATE "C" AS wallet, gross, fee, net
               FROM statement_lines WHERE statement_file_id = ANY($1::bigint[])) l
      GROUP BY currency, type, payment_method, wallet
      ORDER BY currency, type, payment_method, wallet`,
    [statementFileIds],
  );
}

/** The fee rows of statements: from what their loads counted when each was loaded here, else from the stored lines. */
export async function loadedFeeRows(db: Sql, statements: readonly LoadedStatement[]): Promise<FeeRow[]> {
  const tallies = statements.map((s) => s.tally);
  if (tallies.every((t): t is TallyRow[] => t !== null)) return mergeTallies(tallies);
  return feeRows(db, statements.map((s) => s.id));
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
