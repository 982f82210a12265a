import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import type { Sql } from '../../db/database.js';
import type { ProviderId } from '../../parsers/contract.js';
import { safeText } from '../../reports/safe-text.js';

/**
 * payouts.csv: one row per payout with its bank outcome (`status` from payout_matches), one further row
 * `payout_mismatch` for a payout whose amount is not the sum of its lines (difference = amount − lines
 * total), and one row per provider deposit no payout claims (`deposit_without_payout`).
 *
 * Signs: `amount` and `lines_total` are the payout as the provider books it (negative: money leaving the
 * provider for the bank); `bank_amount` is the deposit as the bank books it (positive); `difference` =
 * bank amount − expected bank amount (−amount, or −amount × fx rate for a payout in another currency);
 * `fx_difference` is that difference for a payout paid in another currency; `lag_days` = business days
 * from the expected date to the bank's value date (for an unpaired payout: to the report's as-of day).
 */
export const PAYOUT_REPORT_COLUMNS = [
  'payout', 'provider', 'reference', 'currency', 'amount', 'lines_total', 'bank_line', 'value_date', 'lag_days',
  'difference', 'fx_difference', 'status',
  'expected_date', 'bank_account', 'bank_ref', 'bank_currency', 'bank_amount', 'expected_bank_amount',
  'fx_currency', 'fx_rate', 'rule', 'bank_text',
] as const;
export type PayoutReportColumn = (typeof PAYOUT_REPORT_COLUMNS)[number];
export type PayoutReportRow = Record<PayoutReportColumn, string>;

const NUMERIC: ReadonlySet<PayoutReportColumn> = new Set([
  'amount', 'lines_total', 'lag_days', 'difference', 'fx_difference', 'bank_amount', 'expected_bank_amount', 'fx_rate', 'bank_line',
]);

/** Status order in the report. */
const ORDER = ['payout_mismatch', 'payout_amount_mismatch', 'payout_currency_mismatch', 'payout_missing_in_bank', 'deposit_without_payout', 'payout_pending', 'matched'];

/** Trailing zeros of numeric(24,6) text off: 120.200000 → 120.2, 0.926239316239 stays. */
const num = (v: string | null): string => {
  if (v === null) return '';
  if (!v.includes('.')) return v;
  const t = v.replace(/0+$/, '').replace(/\.$/, '');
  return t === '-0' ? '0' : t;
};

export interface PayoutReportScope {
  providers: readonly ProviderId[];
  from?: string | null;
  to?: string | null;
}

type Raw = { [K in PayoutReportColumn]: string | null } & { ord: number };

export async function payoutReportRows(db: Sql, scope: PayoutReportScope): Promise<PayoutReportRow[]> {
  const rows = await db.query<Raw>(
    `WITH sp AS (
       SELECT * FROM payouts p
        WHERE p.provider = ANY($1::text[])
          AND ($2::date IS NULL OR p.expected_date >= $2::date) AND ($3::date IS NULL OR p.expected_date <= $3::date)
     ), r AS (
       SELECT p.payout_key AS payout, p.provider, p.reference, p.currency::text AS currency, p.amount::text AS amount,
              p.lines_total::text AS lines_total, m.bank_line_id::text AS bank_line,
              to_char(coalesce(b.value_date, b.booking_date), 'YYYY-MM-DD') AS value_date, m.lag_days::text AS lag_days,
              m.amount_difference::text AS difference, m.fx_difference::text AS fx_difference, m.status,
              to_char(p.expected_date, 'YYYY-MM-DD') AS expected_date, b.account AS bank_account,
              coalesce(b.entry_ref, b.end_to_end_id) AS bank_ref, b.currency::text AS bank_currency, b.amount::text AS bank_amount,
              m.expected_bank_amount::text AS expected_bank_amount, p.fx_currency::text AS fx_currency, p.fx_rate::text AS fx_rate,
              m.rule, concat_ws(' ', b.counterparty_name, b.remittance) AS bank_text
         FROM sp p JOIN payout_matches m ON m.payout_id = p.id LEFT JOIN bank_lines b ON b.id = m.bank_line_id
       UNION ALL
       SELECT p.payout_key, p.provider, p.reference, p.currency::text, p.amount::text, p.lines_total::text, NULL, NULL, NULL,
              (p.amount - p.lines_total)::text, NULL, 'payout_mismatch', to_char(p.expected_date, 'YYYY-MM-DD'),
              NULL, NULL, NULL, NULL, NULL, p.fx_currency::text, p.fx_rate::text, NULL, NULL
         FROM sp p WHERE p.lines_total IS NOT NULL AND p.lines_total <> p.amount
       UNION ALL
       SELECT NULL, m.provider, NULL, NULL, NULL, NULL, b.id::text, to_char(coalesce(b.value_date, b.booking_date), 'YYYY-MM-DD'),
              NULL, NULL, NULL, m.status, NULL, b.account, coalesce(b.entry_ref, b.end_to_end_id), b.currency::text, b.amount::text,
              NULL, NULL, NULL, NULL, concat_ws(' ', b.counterparty_name, b.remittance)
         FROM payout_matches m JOIN bank_lines b ON b.id = m.bank_line_id
        WHERE m.payout_id IS NULL AND m.provider = ANY($1::text[])
     )
     SELECT r.*, array_position($4::text[], r.status) AS ord FROM r
      ORDER BY ord, provider, coalesce(expected_date, value_date), payout, bank_line`,
    [scope.providers, scope.from ?? null, scope.to ?? null, ORDER],
  );
  return rows.map((raw) => {
    const row = {} as PayoutReportRow;
    for (const c of PAYOUT_REPORT_COLUMNS) {
      const v = raw[c];
      row[c] = NUMERIC.has(c) ? num(v === undefined ? null : v) : (v ?? '');
    }
    return row;
  });
}

/** UTF-8, RFC 4180, header row; text cells guarded against spreadsheet formulas, numbers as written. */
export async function writePayoutsCsv(path: string, rows: Iterable<PayoutReportRow>): Promise<void> {
  const out = createWriteStream(path);
  const csv = stringify({ header: true, columns: [...PAYOUT_REPORT_COLUMNS], record_delimiter: 'unix' });
  csv.pipe(out);
  for (const row of rows) {
    const record: Record<string, string> = {};
    for (const c of PAYOUT_REPORT_COLUMNS) record[c] = NUMERIC.has(c) ? row[c] : safeText(row[c]);
    csv.write(record);
  }
  csv.end();
  await finished(out);
}
