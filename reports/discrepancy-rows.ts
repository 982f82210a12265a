import type { Sql } from '../db/database.js';
import { Decimal, formatAmount } from '../core/money/index.js';
import { DISCREPANCY_IDENTITY_SQL } from '../reconcile/exceptions.js';

/** The contract's discrepancies.csv columns, in order; more may follow (EXTRA_COLUMNS). */
export const CONTRACT_COLUMNS = [
  'kind', 'provider', 'type', 'provider_txn_id', 'order_id', 'currency',
  'statement_amount', 'ledger_amount', 'statement_fee', 'ledger_fee', 'ledger_id',
] as const;
export const EXTRA_COLUMNS = ['difference', 'ledger_currency', 'statement_file', 'statement_line', 'occurred_at', 'booked_at', 'exception_id', 'status', 'note', 'fee_basis', 'expected_fee', 'fee_rule', 'proposal'] as const;
export const DISCREPANCY_COLUMNS = [...CONTRACT_COLUMNS, ...EXTRA_COLUMNS] as const;
export type DiscrepancyColumn = (typeof DISCREPANCY_COLUMNS)[number];

/** Columns that hold amounts (numeric cells in the workbook, never text). */
export const AMOUNT_COLUMNS: ReadonlySet<DiscrepancyColumn> = new Set(['statement_amount', 'ledger_amount', 'statement_fee', 'ledger_fee', 'difference', 'expected_fee']);

export type DiscrepancyRow = Record<DiscrepancyColumn, string>;

interface Raw {
  kind: string; provider: string; type: string | null; provider_txn_id: string | null; order_id: string | null;
  currency: string | null; statement_amount: string | null; ledger_amount: string | null; statement_fee: string | null;
  ledger_fee: string | null; ledger_id: string | null; ledger_currency: string | null; statement_file: string | null;
  source_member: string | null; source_line: number | null; occurred_at: Date | null; booked_at: Date | null;
  exception_id?: string | null; status?: string | null; note?: string | null;
  fee_basis?: string | null; expected_fee?: string | null; fee_rule?: string | null; proposal?: string | null;
}

function difference(r: Raw): string {
  const ccy = r.currency?.trim() ?? '';
  if (r.kind === 'amount_mismatch' && r.statement_amount !== null && r.ledger_amount !== null) {
    return formatAmount(new Decimal(r.statement_amount).minus(r.ledger_amount), ccy);
  }
  if (r.kind === 'fee_mismatch' && r.fee_basis === 'schedule' && r.statement_fee !== null && r.expected_fee != null) {
    return formatAmount(new Decimal(r.statement_fee).minus(r.expected_fee), ccy);
  }
  if (r.kind === 'fee_mismatch' && r.statement_fee !== null && r.ledger_fee !== null) {
    return formatAmount(new Decimal(r.statement_fee).minus(r.ledger_fee), ccy);
  }
  return '';
}

/** A run's discrepancies as report rows: amounts as canonical decimal strings, empty for a missing side. */
export async function discrepancyRows(db: Sql, runId: string): Promise<DiscrepancyRow[]> {
  const out: DiscrepancyRow[] = [];
  for await (const page of discrepancyRowPages(db, runId)) for (const row of page) out.push(row);
  return out;
}

/** A run's discrepancies are read this many at a time by `discrepancyRowPages`. */
export const DISCREPANCY_PAGE_ROWS = 5_000;

/**
 * The same, a page at a time: reports stream a run's discrepancies in bounded memory however many it has
 * (a day whose ledger export is missing has one per line). A page is a range of `ord`, the run's order
 * (1, 2, 3, …), bounded on both sides so that each page reads only its own rows. Paging by
 * `ord > after … LIMIT n` was planned on statistics from before the run wrote its rows, and joined every
 * remaining row for each page (4 s a page at a million rows).
 */
export async function* discrepancyRowPages(db: Sql, runId: string, pageRows = DISCREPANCY_PAGE_ROWS): AsyncGenerator<DiscrepancyRow[]> {
  const [last] = await db.query<{ ord: number | null }>(`SELECT max(ord) AS ord FROM discrepancies WHERE run_id = $1`, [runId]);
  const lastOrd = last?.ord ?? 0;
  for (let after = 0; after < lastOrd; after += pageRows) {
    const raws = await db.query<Raw>(
      `SELECT d.kind, d.provider, d.type, d.provider_txn_id, d.order_id, d.currency,
              d.statement_amount::text, d.ledger_amount::text, d.statement_fee::text, d.ledger_fee::text,
              d.ledger_id, d.ledger_currency, f.original_name AS statement_file, sl.source_member, sl.source_line,
              sl.occurred_at, le.booked_at, x.id::text AS exception_id, x.status, x.note,
              d.fee_basis, d.expected_fee::text, d.fee_rule,
              (SELECT p.rule || ': ' || CASE WHEN d.kind = 'missing_in_ledger' THEN 'ledger row ' || pl.ledger_id
                                             ELSE 'statement line ' || coalesce(ps.provider_txn_id, ps.merchant_ref, '') END
                      || ' (difference ' || trim_scale(p.amount_difference)::text || ')'
                 FROM match_proposals p
                 JOIN ledger_entries pl ON pl.id = p.ledger_entry_id JOIN statement_lines ps ON ps.id = p.statement_line_id
                WHERE p.run_id = d.run_id
                  AND ((d.kind = 'missing_in_ledger' AND p.statement_line_id = d.statement_line_id)
                    OR (d.kind = 'missing_in_statement' AND p.ledger_entry_id = d.ledger_entry_id))
                LIMIT 1) AS proposal
         FROM discrepancies d
         JOIN recon_runs r ON r.id = d.run_id
         LEFT JOIN exceptions x ON x.provider = d.provider AND x.account = coalesce(r.account, '') AND x.identity = ${DISCREPANCY_IDENTITY_SQL}
         LEFT JOIN statement_lines sl ON sl.id = d.statement_line_id
         LEFT JOIN statement_files f ON f.id = sl.statement_file_id
         LEFT JOIN ledger_entries le ON le.id = d.ledger_entry_id
        WHERE d.run_id = $1 AND d.ord > $2 AND d.ord <= $3
        ORDER BY d.ord`,
      [runId, after, after + pageRows],
    );
    if (raws.length > 0) yield raws.map(toRow);
  }
}

/** Every row of pages, one at a time. */
export async function* rowsOf<T>(pages: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}

/** A raw row (amounts as numeric text, ids, sides' references) as a report row. */
export function toRow(r: Raw): DiscrepancyRow {
  const ccy = r.currency?.trim() ?? '';
  const lccy = r.ledger_currency?.trim() ?? ccy;
  const amt = (v: string | null, c: string) => (v === null ? '' : formatAmount(new Decimal(v), c));
  return {
    kind: r.kind,
    provider: r.provider,
    type: r.type ?? '',
    provider_txn_id: r.provider_txn_id ?? '',
    order_id: r.order_id ?? '',
    currency: ccy,
    statement_amount: amt(r.statement_amount, ccy),
    ledger_amount: amt(r.ledger_amount, lccy),
    statement_fee: amt(r.statement_fee, ccy),
    ledger_fee: amt(r.ledger_fee, lccy),
    ledger_id: r.ledger_id ?? '',
    difference: difference(r),
    ledger_currency: r.ledger_currency?.trim() ?? '',
    statement_file: r.statement_file ? (r.source_member ? `${r.statement_file}!${r.source_member}` : r.statement_file) : '',
    statement_line: r.source_line === null ? '' : String(r.source_line),
    occurred_at: r.occurred_at ? r.occurred_at.toISOString() : '',
    booked_at: r.booked_at ? r.booked_at.toISOString() : '',
    exception_id: r.exception_id ?? '',
    status: r.status ?? '',
    note: r.note ?? '',
    fee_basis: r.fee_basis ?? '',
    expected_fee: r.expected_fee == null ? '' : formatAmount(new Decimal(r.expected_fee), ccy),
    fee_rule: r.fee_rule ?? '',
    proposal: r.proposal ?? '',
  };
}

export type TimingRow = DiscrepancyRow & { pending_since: string; due_by: string; cleared_on: string };

/**
 * Items of a daily run that wait for a later day (`pending`) or that waited and were paired on the run's
 * day (`cleared`): the discrepancy they would be (or would have been), with their dates.
 */
export async function timingRows(db: Sql, runId: string, which: 'pending' | 'cleared'): Promise<TimingRow[]> {
  const table = which === 'pending' ? 'pending_items' : 'cleared_items';
  const dates = which === 'pending' ? 'p.pending_since::text AS pending_since, p.due_date::text AS due_by, NULL AS cleared_on' : 'p.pending_since::text AS pending_since, NULL AS due_by, p.cleared_on::text AS cleared_on';
  // The counterpart of a cleared item is the row it was paired with in this run.
  const raws = await db.query<Raw & { pending_since: string | null; due_by: string | null; cleared_on: string | null }>(
    `SELECT CASE WHEN p.side = 'statement' THEN 'missing_in_ledger' ELSE 'missing_in_statement' END AS kind,
            r.provider, coalesce(sl.type, le.type) AS type, coalesce(sl.provider_txn_id, le.provider_txn_id) AS provider_txn_id,
            coalesce(sl.merchant_ref, le.order_id) AS order_id, coalesce(sl.currency, le.currency) AS currency,
            sl.gross::text AS statement_amount,
            CASE WHEN le.id IS NULL THEN NULL WHEN le.type = 'payment' THEN le.amount ELSE -le.amount END::text AS ledger_amount,
            sl.fee::text AS statement_fee, le.fee::text AS ledger_fee, le.ledger_id, le.currency AS ledger_currency,
            f.original_name AS statement_file, sl.source_member, sl.source_line, sl.occurred_at, le.booked_at, ${dates}
       FROM ${table} p
       JOIN recon_runs r ON r.id = p.run_id
       LEFT JOIN matches m ON m.run_id = p.run_id AND m.daily
             AND ((p.side = 'statement' AND m.statement_line_id = p.statement_line_id) OR (p.side = 'ledger' AND m.ledger_entry_id = p.ledger_entry_id))
       LEFT JOIN statement_lines sl ON sl.id = coalesce(p.statement_line_id, m.statement_line_id)
       LEFT JOIN statement_files f ON f.id = sl.statement_file_id
       LEFT JOIN ledger_entries le ON le.id = coalesce(p.ledger_entry_id, m.ledger_entry_id)
      WHERE p.run_id = $1
      ORDER BY p.side DESC, p.pending_since, sl.statement_file_id, sl.line_no, le.import_id, le.source_line, le.ledger_id`,
    [runId],
  );
  return raws.map((r) => ({ ...toRow(r), pending_since: r.pending_since ?? '', due_by: r.due_by ?? '', cleared_on: r.cleared_on ?? '' }));
}
