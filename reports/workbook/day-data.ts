import { Decimal } from '../../core/money/index.js';
import { localDate } from '../../core/time.js';
import type { Sql } from '../../db/database.js';
import { CALENDARS } from '../../reconcile/calendars.js';
import type { RunSummary } from '../../reconcile/run.js';
import { discrepancyRows, timingRows, type DiscrepancyRow, type TimingRow } from '../discrepancy-rows.js';

/** The completed daily runs of one bill date: what the day workbook reports on. */
export interface DayRun {
  id: string;
  provider: string;
  account: string;
  version: number;
  summary: RunSummary;
  statementFileIds: string[];
}

export async function dayRuns(db: Sql, date: string, providers?: readonly string[]): Promise<DayRun[]> {
  const runs = await db.query<{ id: string; provider: string; account: string; version: number; summary: RunSummary; files: string[] | null }>(
    `SELECT r.id::text AS id, r.provider, coalesce(r.account, '') AS account, r.version, r.summary,
            (SELECT array_agg(s.statement_file_id::text ORDER BY s.statement_file_id) FROM recon_run_statements s WHERE s.run_id = r.id) AS files
       FROM recon_runs r
      WHERE r.kind = 'daily' AND r.status = 'completed' AND r.bill_date = $1::date
        AND ($2::text[] IS NULL OR r.provider = ANY($2::text[]))
      ORDER BY r.provider, coalesce(r.account, '')`,
    [date, providers ? [...providers] : null],
  );
  return runs.map((r) => ({ id: String(r.id), provider: r.provider, account: r.account, version: r.version, summary: r.summary, statementFileIds: r.files ?? [] }));
}

/** One Summary row: a run's figures in one currency. Amounts are numeric text. */
export interface SummaryRow {
  runId: string;
  provider: string;
  account: string;
  currency: string;
  lines: number;
  /** Payments, refunds and chargebacks: the lines that can be paired with the ledger. */
  movements: number;
  matched: number;
  gross: string;
  fee: string;
  net: string;
  payouts: string;
  payoutLines: number;
  discrepancies: number;
  pending: number;
  cleared: number;
}

/**
 * Per run and currency: the day's statement lines (all types; gross, fee and net leave payout lines out,
 * `payouts` is Σ gross of the payout lines), how many of the pairable lines this run matched, and the
 * counts of the day's discrepancies, pending and cleared items.
 */
export async function summaryRows(db: Sql, runs: readonly DayRun[]): Promise<SummaryRow[]> {
  if (runs.length === 0) return [];
  const ids = runs.map((r) => r.id);
  const lines = await db.query<{ run_id: string; currency: string; lines: number; movements: number; matched: number; gross: string; fee: string; net: string; payouts: string; payout_lines: number }>(
    `SELECT rs.run_id::text AS run_id, trim(sl.currency) AS currency, count(*)::int AS lines,
            count(*) FILTER (WHERE sl.type IN ('payment', 'refund', 'chargeback'))::int AS movements,
            count(*) FILTER (WHERE EXISTS (SELECT 1 FROM matches m WHERE m.run_id = rs.run_id AND m.daily AND m.statement_line_id = sl.id))::int AS matched,
            coalesce(sum(sl.gross) FILTER (WHERE sl.type <> 'payout'), 0)::text AS gross,
            coalesce(sum(sl.fee) FILTER (WHERE sl.type <> 'payout'), 0)::text AS fee,
            coalesce(sum(sl.net) FILTER (WHERE sl.type <> 'payout'), 0)::text AS net,
            coalesce(sum(sl.gross) FILTER (WHERE sl.type = 'payout'), 0)::text AS payouts,
            count(*) FILTER (WHERE sl.type = 'payout')::int AS payout_lines
       FROM recon_run_statements rs JOIN statement_lines sl ON sl.statement_file_id = rs.statement_file_id
      WHERE rs.run_id = ANY($1::bigint[])
      GROUP BY rs.run_id, trim(sl.currency)`,
    [ids],
  );
  const counts = await db.query<{ run_id: string; currency: string; what: 'discrepancies' | 'pending' | 'cleared'; n: number }>(
    `SELECT d.run_id::text AS run_id, trim(coalesce(d.currency, '')) AS currency, 'discrepancies' AS what, count(*)::int AS n
       FROM discrepancies d WHERE d.run_id = ANY($1::bigint[]) GROUP BY d.run_id, trim(coalesce(d.currency, ''))
     UNION ALL
     SELECT p.run_id::text, trim(coalesce(sl.currency, le.currency, '')), 'pending', count(*)::int
       FROM pending_items p LEFT JOIN statement_lines sl ON sl.id = p.statement_line_id LEFT JOIN ledger_entries le ON le.id = p.ledger_entry_id
      WHERE p.run_id = ANY($1::bigint[]) GROUP BY p.run_id, trim(coalesce(sl.currency, le.currency, ''))
     UNION ALL
     SELECT c.run_id::text, trim(coalesce(sl.currency, le.currency, '')), 'cleared', count(*)::int
       FROM cleared_items c LEFT JOIN statement_lines sl ON sl.id = c.statement_line_id LEFT JOIN ledger_entries le ON le.id = c.ledger_entry_id
      WHERE c.run_id = ANY($1::bigint[]) GROUP BY c.run_id, trim(coalesce(sl.currency, le.currency, ''))`,
    [ids],
  );
  const out: SummaryRow[] = [];
  for (const run of runs) {
    const currencies = new Set<string>();
    for (const l of lines) if (l.run_id === run.id) currencies.add(l.currency);
    for (const c of counts) if (c.run_id === run.id) currencies.add(c.currency);
    if (currencies.size === 0) currencies.add('');
    for (const ccy of [...currencies].sort()) {
      const l = lines.find((x) => x.run_id === run.id && x.currency === ccy);
      const n = (what: string) => counts.find((c) => c.run_id === run.id && c.currency === ccy && c.what === what)?.n ?? 0;
      out.push({
        runId: run.id, provider: run.provider, account: run.account, currency: ccy,
        lines: l?.lines ?? 0, movements: l?.movements ?? 0, matched: l?.matched ?? 0,
        gross: l?.gross ?? '0', fee: l?.fee ?? '0', net: l?.net ?? '0', payouts: l?.payouts ?? '0', payoutLines: l?.payout_lines ?? 0,
        discrepancies: n('discrepancies'), pending: n('pending'), cleared: n('cleared'),
      });
    }
  }
  return out;
}

/** Age buckets of open exceptions, in days since first seen (as of the report date). */
export const AGE_BUCKETS = [
  { label: '0 days', min: 0, max: 0 },
  { label: '1–6 days', min: 1, max: 6 },
  { label: '7–29 days', min: 7, max: 29 },
  { label: '30+ days', min: 30, max: Infinity },
] as const;

export interface OpenAgeRow {
  provider: string;
  account: string;
  currency: string;
  kind: string;
  open: number;
  /** Counts per AGE_BUCKETS entry. */
  buckets: number[];
  oldestFirstSeen: string;
  oldestAgeDays: number;
}

/**
 * Exceptions open as of `date` (status `open` now, first seen on or before the date) of the providers
 * and accounts that have a run that day, by provider, account, currency and kind, with their age.
 */
export async function openByKindAndAge(db: Sql, date: string, runs: readonly DayRun[]): Promise<OpenAgeRow[]> {
  if (runs.length === 0) return [];
  const rows = await db.query<{ provider: string; account: string; currency: string; kind: string; age: number; n: number; oldest: string }>(
    `SELECT x.provider, x.account, trim(coalesce(x.currency, '')) AS currency, x.kind, ($1::date - x.first_seen_on)::int AS age,
            count(*)::int AS n, min(x.first_seen_on)::text AS oldest
       FROM exceptions x
      WHERE x.status = 'open' AND x.first_seen_on <= $1::date
        AND (x.provider, x.account) IN (SELECT * FROM unnest($2::text[], $3::text[]))
      GROUP BY 1, 2, 3, 4, 5
      ORDER BY 1, 2, 3, 4, 5`,
    [date, runs.map((r) => r.provider), runs.map((r) => r.account)],
  );
  const byKey = new Map<string, OpenAgeRow>();
  for (const r of rows) {
    const key = [r.provider, r.account, r.currency, r.kind].join('\u0000');
    let row = byKey.get(key);
    if (!row) {
      row = { provider: r.provider, account: r.account, currency: r.currency, kind: r.kind, open: 0, buckets: AGE_BUCKETS.map(() => 0), oldestFirstSeen: r.oldest, oldestAgeDays: r.age };
      byKey.set(key, row);
    }
    row.open += r.n;
    const i = AGE_BUCKETS.findIndex((b) => r.age >= b.min && r.age <= b.max);
    row.buckets[i]! += r.n;
    if (r.age > row.oldestAgeDays) {
      row.oldestAgeDays = r.age;
      row.oldestFirstSeen = r.oldest;
    }
  }
  return [...byKey.values()];
}

export type DayDiscrepancyRow = DiscrepancyRow & { account: string; first_seen_on: string; age_days: string };

/** The day's discrepancies, run by run (each run's rows in discrepancies.csv order), with their exception's age. */
export async function dayDiscrepancies(db: Sql, date: string, runs: readonly DayRun[]): Promise<DayDiscrepancyRow[]> {
  const out: DayDiscrepancyRow[] = [];
  for (const run of runs) {
    const rows = await discrepancyRows(db, run.id);
    const ids = rows.map((r) => r.exception_id).filter((id) => id !== '');
    const seen = ids.length === 0 ? [] : await db.query<{ id: string; first_seen_on: string; age: number }>(
      `SELECT id::text AS id, first_seen_on::text AS first_seen_on, ($2::date - first_seen_on)::int AS age FROM exceptions WHERE id = ANY($1::bigint[])`,
      [ids, date],
    );
    const byId = new Map(seen.map((s) => [String(s.id), s]));
    for (const r of rows) {
      const x = byId.get(r.exception_id);
      out.push({ ...r, account: run.account, first_seen_on: x?.first_seen_on ?? '', age_days: x ? String(x.age) : '' });
    }
  }
  return out;
}

export type DayTimingRow = TimingRow & { account: string };

export async function dayTimingRows(db: Sql, runs: readonly DayRun[], which: 'pending' | 'cleared'): Promise<DayTimingRow[]> {
  const out: DayTimingRow[] = [];
  for (const run of runs) for (const r of await timingRows(db, run.id, which)) out.push({ ...r, account: run.account });
  return out;
}

/** One Payouts row: the provider's payout, the sum of its lines, and the bank deposit that answered it. */
export interface PayoutRow {
  provider: string;
  account: string;
  currency: string;
  payout: string;
  reference: string;
  date: string;
  /** The payout line's gross on the day's statement (empty for a payout derived from other lines). */
  statementAmount: string;
  /** The derived payout's amount (provider side, negative: money leaving the provider). */
  payoutAmount: string;
  linesTotal: string;
  lineCount: number | null;
  /** payout − lines total. */
  linesDifference: string;
  bankAmount: string;
  bankCurrency: string;
  valueDate: string;
  bankDifference: string;
  status: string;
  bankText: string;
}

/**
 * The day's payouts: every payout line on the day's statements, joined to the payout derived from it
 * (`recon payouts`, tables `payouts`, `payout_matches`, `bank_lines`) when there is one, plus derived
 * payouts of the day's providers expected on the day that no payout line of the day stands for. Where no
 * payout was derived or no bank deposit matched, the status says the bank side is not available.
 */
export async function payoutRows(db: Sql, date: string, runs: readonly DayRun[]): Promise<PayoutRow[]> {
  if (runs.length === 0) return [];
  const rows = await db.query<{
    provider: string; account: string; currency: string; payout: string | null; reference: string | null; date: string | null; occurred_at: Date | null;
    statement_amount: string | null; payout_amount: string | null; lines_total: string | null; line_count: number | null;
    bank_amount: string | null; bank_currency: string | null; value_date: string | null; bank_difference: string | null;
    status: string | null; derived: boolean; bank_text: string | null;
  }>(
    `WITH day_lines AS (
       SELECT DISTINCT ON (sl.id) sl.id, sl.provider, coalesce(r.account, '') AS account, trim(sl.currency) AS currency,
              sl.provider_txn_id, sl.merchant_ref, sl.gross, sl.occurred_at
         FROM recon_runs r JOIN recon_run_statements rs ON rs.run_id = r.id
         JOIN statement_lines sl ON sl.statement_file_id = rs.statement_file_id
        WHERE r.id = ANY($1::bigint[]) AND sl.type = 'payout'
        ORDER BY sl.id
     ), linked AS (
       SELECT dl.*, (SELECT p.id FROM payouts p WHERE p.provider = dl.provider AND dl.id = ANY(p.source_line_ids) ORDER BY p.id LIMIT 1) AS payout_id
         FROM day_lines dl
     ), rows AS (
       SELECT l.provider, l.account, l.currency, coalesce(p.payout_key, l.provider_txn_id) AS payout,
              coalesce(p.reference, l.merchant_ref) AS reference,
              p.expected_date::text AS date, l.occurred_at,
              l.gross::text AS statement_amount, p.amount::text AS payout_amount, p.lines_total::text AS lines_total,
              CASE WHEN p.id IS NULL THEN NULL ELSE p.line_count END AS line_count, p.id IS NOT NULL AS derived,
              l.id AS ord_line, p.id AS pid
         FROM linked l LEFT JOIN payouts p ON p.id = l.payout_id
       UNION ALL
       SELECT p.provider, p.account, trim(p.currency), p.payout_key, p.reference, p.expected_date::text, NULL::timestamptz, NULL, p.amount::text,
              p.lines_total::text, p.line_count, true, NULL, p.id
         FROM payouts p
        WHERE p.expected_date = $2::date AND p.provider = ANY($3::text[])
          AND NOT EXISTS (SELECT 1 FROM linked l WHERE l.payout_id = p.id)
     )
     SELECT x.provider, x.account, x.currency, x.payout, x.reference, x.date, x.occurred_at, x.statement_amount, x.payout_amount, x.lines_total,
            x.line_count, x.derived, b.amount::text AS bank_amount, trim(b.currency) AS bank_currency,
            coalesce(b.value_date, b.booking_date)::text AS value_date, m.amount_difference::text AS bank_difference, m.status,
            concat_ws(' ', b.counterparty_name, b.remittance) AS bank_text
       FROM rows x LEFT JOIN payout_matches m ON m.payout_id = x.pid LEFT JOIN bank_lines b ON b.id = m.bank_line_id
      ORDER BY x.provider, x.account, x.currency, coalesce(x.date, x.occurred_at::date::text), x.ord_line NULLS LAST, x.payout`,
    [runs.map((r) => r.id), date, [...new Set(runs.map((r) => r.provider))]],
  );
  return rows.map((r) => {
    const diff = r.payout_amount !== null && r.lines_total !== null ? subtract(r.payout_amount, r.lines_total) : '';
    const status = r.status ?? (r.derived ? 'no bank deposit matched yet (bank side not available)' : 'bank side not available (no payout derived: run `recon payouts` with the bank statements loaded)');
    const tz = (CALENDARS as Record<string, { timeZone: string } | undefined>)[r.provider]?.timeZone ?? 'UTC';
    const date = r.date ?? (r.occurred_at ? localDate(new Date(r.occurred_at), tz) : '');
    return {
      provider: r.provider, account: r.account, currency: r.currency, payout: r.payout ?? '', reference: r.reference ?? '', date,
      statementAmount: r.statement_amount ?? '', payoutAmount: r.payout_amount ?? '', linesTotal: r.lines_total ?? '', lineCount: r.line_count,
      linesDifference: diff, bankAmount: r.bank_amount ?? '', bankCurrency: r.bank_currency ?? '', valueDate: r.value_date ?? '',
      bankDifference: r.bank_difference ?? '', status, bankText: r.bank_text ?? '',
    };
  });
}

function subtract(a: string, b: string): string {
  return new Decimal(a).minus(b).toFixed();
}

/** Fees the day's statements charged, by provider, account, currency, payment method, wallet and line type. */
export interface DayFeeRow {
  provider: string;
  account: string;
  currency: string;
  payment_method: string;
  wallet: string;
  type: string;
  lines: number;
  gross: string;
  fee: string;
  net: string;
}

export async function dayFeeRows(db: Sql, runs: readonly DayRun[]): Promise<DayFeeRow[]> {
  if (runs.length === 0) return [];
  return db.query<DayFeeRow>(
    `SELECT r.provider, coalesce(r.account, '') AS account, trim(sl.currency) AS currency, coalesce(sl.payment_method, '') AS payment_method,
            coalesce(sl.wallet, '') AS wallet, sl.type, count(*)::int AS lines, sum(sl.gross)::text AS gross, sum(sl.fee)::text AS fee, sum(sl.net)::text AS net
       FROM recon_runs r JOIN recon_run_statements rs ON rs.run_id = r.id JOIN statement_lines sl ON sl.statement_file_id = rs.statement_file_id
      WHERE r.id = ANY($1::bigint[])
      GROUP BY 1, 2, 3, 4, 5, 6
      ORDER BY 1, 2, 3, 4, 5, 6`,
    [runs.map((r) => r.id)],
  );
}
