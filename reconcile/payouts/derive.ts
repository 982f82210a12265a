import type { Sql } from '../../db/database.js';
import type { ProviderId } from '../../parsers/contract.js';

/**
 * Derives payouts from the statement lines already loaded, set-based in SQL, one statement per provider,
 * and upserts them into `payouts` (key: provider, account, payout key, currency), so that deriving
 * again after more statements arrived updates a payout instead of duplicating it.
 *
 * Each payout has its provider-side amount (negative: money leaving the provider balance for the bank),
 * the provider's references the bank may quote, an expected date (the day the provider sends it; the
 * bank's value date follows within the lag window of rules.ts), and `lines_total`: −Σ net of the lines
 * the provider says make up the payout (null when the provider itemises none). `amount ≠ lines_total`
 * is a `payout_mismatch`.
 *
 * - Stripe (payout reconciliation report): the lines of an automatic payout carry its id in
 *   `automatic_payout_id`. Lines are taken once per balance transaction (the latest file wins, so two
 *   overlapping reports do not count a line twice) and grouped by payout and currency. The amount is the
 *   payout line itself when the report lists one (`reporting_category` payout, its `source_id` the
 *   `po_…` id), else −Σ net of the lines. Expected date: `automatic_payout_effective_at(_utc)`.
 * - Adyen (settlement detail report): a batch (merchant account, batch number, net currency) that
 *   closes with a `MerchantPayout` line is a payout: amount = Σ net of the payout line(s), lines_total =
 *   −Σ net of every other line of the batch (the parser already checked it as a control total; the
 *   latest file of a batch wins). Reference: the `TX…XT` token. Expected date: the payout line's booking
 *   date (else its creation date). A payout line whose Gross Currency differs from the Net Currency is
 *   paid out converted: fx currency = Gross Currency, fx rate = 1 / Adyen's Exchange Rate (which converts
 *   GC → NC), fx amount = the GC amount Adyen states.
 * - PayPal (STL/TRR): each withdrawal (`T0400`/`T0401`) is a payout; there are no lines to add up.
 *   References: the transaction id and the Bank Reference ID. When PayPal converted the balance for the
 *   withdrawal — a `T0200`/`T0201` pair in the same file whose PayPal Reference ID is the withdrawal,
 *   one leg out of another currency and one leg into the withdrawal's currency for exactly its amount —
 *   the payout is the money that left that other balance (out-leg currency and amount) with PayPal's
 *   rate (in-leg / out-leg) into the withdrawal's currency. Expected date: the withdrawal's day in
 *   PayPal's reporting time zone.
 * - WeChat Pay (fund-flow bill) and Alipay (account bill, 账务明细): each `提现` withdrawal line is a
 *   payout, keyed by the provider's business number; references: that number, the voucher number, the
 *   WeChat 资金流水单号 / Alipay account entry number. Expected date: its day in China time.
 */
export interface DerivedPayouts {
  /** Payouts inserted or updated, per provider. */
  byProvider: Partial<Record<ProviderId, number>>;
  total: number;
}

const TARGET = `INSERT INTO payouts (provider, account, payout_key, reference, refs, currency, amount, expected_date,
                                  lines_total, line_count, fx_currency, fx_rate, fx_amount, source_line_ids)`;
const UPSERT = `ON CONFLICT (provider, account, payout_key, currency) DO UPDATE SET
       reference = EXCLUDED.reference, refs = EXCLUDED.refs, amount = EXCLUDED.amount,
       expected_date = EXCLUDED.expected_date, lines_total = EXCLUDED.lines_total, line_count = EXCLUDED.line_count,
       fx_currency = EXCLUDED.fx_currency, fx_rate = EXCLUDED.fx_rate, fx_amount = EXCLUDED.fx_amount,
       source_line_ids = EXCLUDED.source_line_ids, derived_at = now()
     RETURNING id`;

const STRIPE = `
  WITH l AS (
    SELECT DISTINCT ON (coalesce(sl.extra::json->>'balance_transaction_id', 'line:' || sl.id::text))
           sl.id, sl.type, sl.net, sl.currency, sl.occurred_at, sl.extra::json AS extra, f.account AS file_account,
           coalesce(sl.extra::json->>'automatic_payout_id',
                    CASE WHEN sl.type = 'payout' AND sl.provider_txn_id LIKE 'po\\_%' THEN sl.provider_txn_id END) AS payout_key
      FROM statement_lines sl JOIN statement_files f ON f.id = sl.statement_file_id
     WHERE sl.provider = 'stripe' AND f.loaded_at IS NOT NULL
       AND (sl.extra::json->>'automatic_payout_id' IS NOT NULL OR (sl.type = 'payout' AND sl.provider_txn_id LIKE 'po\\_%'))
     ORDER BY coalesce(sl.extra::json->>'balance_transaction_id', 'line:' || sl.id::text), sl.statement_file_id DESC, sl.line_no
  ), g AS (
    SELECT payout_key, currency, coalesce(max(file_account), '') AS account,
           sum(net) FILTER (WHERE type = 'payout') AS payout_net,
           -sum(net) FILTER (WHERE type <> 'payout') AS lines_total,
           count(*) FILTER (WHERE type <> 'payout') AS line_count,
           max(left(coalesce(extra->>'automatic_payout_effective_at_utc', extra->>'automatic_payout_effective_at'), 10)) AS effective_on,
           max(occurred_at) AS last_at,
           array_agg(id ORDER BY id) FILTER (WHERE type = 'payout') AS payout_ids,
           array_agg(id ORDER BY id) AS all_ids
      FROM l GROUP BY payout_key, currency
  )
  ${TARGET}
  SELECT 'stripe', account, payout_key, payout_key, ARRAY[payout_key], currency,
         coalesce(payout_net, lines_total),
         coalesce(CASE WHEN effective_on ~ '^\\d{4}-\\d{2}-\\d{2}$' THEN effective_on::date END, (last_at AT TIME ZONE 'UTC')::date),
         lines_total, line_count, NULL, NULL, NULL, coalesce(payout_ids, all_ids)
    FROM g
  ${UPSERT}`;

const ADYEN = `
  WITH l AS (
    SELECT sl.id, sl.statement_file_id, sl.line_no, sl.type, sl.net, sl.currency, sl.occurred_at,
           sl.original_amount, sl.original_currency, sl.extra::json AS extra,
           coalesce(sl.extra::json->>'Merchant Account', f.account, '') AS account, sl.extra::json->>'Batch Number' AS batch
      FROM statement_lines sl JOIN statement_files f ON f.id = sl.statement_file_id
     WHERE sl.provider = 'adyen' AND f.loaded_at IS NOT NULL
  ), closing AS (
    SELECT account, batch, currency, max(statement_file_id) AS file_id
      FROM l WHERE type = 'payout' GROUP BY account, batch, currency
  ), g AS (
    SELECT c.account, c.batch, c.currency,
           sum(l.net) FILTER (WHERE l.type = 'payout') AS payout_net,
           -sum(l.net) FILTER (WHERE l.type <> 'payout') AS lines_total,
           count(*) FILTER (WHERE l.type <> 'payout') AS line_count,
           min(l.extra->>'payout_reference') FILTER (WHERE l.type = 'payout') AS ref,
           max(coalesce((l.extra->>'booked_at')::timestamptz, l.occurred_at)) FILTER (WHERE l.type = 'payout') AS paid_at,
           min(l.original_currency) FILTER (WHERE l.type = 'payout') AS fx_currency,
           sum(l.original_amount) FILTER (WHERE l.type = 'payout') AS fx_amount,
           min(l.extra->>'Exchange Rate') FILTER (WHERE l.type = 'payout' AND l.original_currency IS NOT NULL) AS rate_text,
           array_agg(l.id ORDER BY l.line_no) FILTER (WHERE l.type = 'payout') AS payout_ids
      FROM closing c
      JOIN l ON l.statement_file_id = c.file_id AND l.account = c.account
            AND l.batch IS NOT DISTINCT FROM c.batch AND l.currency = c.currency
     GROUP BY c.account, c.batch, c.currency
  )
  ${TARGET}
  SELECT 'adyen', account, coalesce(ref, 'batch ' || coalesce(batch, '?')), ref,
         CASE WHEN ref IS NULL THEN '{}'::text[] ELSE ARRAY[ref] END, currency,
         payout_net, (paid_at AT TIME ZONE 'UTC')::date, lines_total, line_count,
         CASE WHEN fx_rate IS NOT NULL THEN fx_currency END, fx_rate,
         CASE WHEN fx_rate IS NOT NULL THEN fx_amount END, payout_ids
    FROM (SELECT g.*,
                 CASE WHEN fx_currency IS NOT NULL THEN
                   round(CASE WHEN rate_text ~ '^[0-9]*\\.?[0-9]+$' AND rate_text::numeric > 0 THEN 1 / rate_text::numeric
                              ELSE fx_amount / nullif(payout_net, 0) END, 12) END AS fx_rate
            FROM g) x
  ${UPSERT}`;

const PAYPAL = `
  WITH w AS (
    SELECT DISTINCT ON (sl.provider_txn_id)
           sl.id, sl.statement_file_id, sl.provider_txn_id, sl.net, sl.currency, sl.occurred_at, sl.extra::json AS extra,
           coalesce(f.account, '') AS account, coalesce(f.time_zone, 'UTC') AS tz
      FROM statement_lines sl JOIN statement_files f ON f.id = sl.statement_file_id
     WHERE sl.provider = 'paypal' AND sl.type = 'payout' AND sl.provider_txn_id IS NOT NULL AND f.loaded_at IS NOT NULL
     ORDER BY sl.provider_txn_id, sl.statement_file_id DESC, sl.line_no
  ), conv AS (
    SELECT c.statement_file_id, c.parent_txn_id,
           count(*) FILTER (WHERE c.net < 0) AS n_out, count(*) FILTER (WHERE c.net > 0) AS n_in,
           min(c.currency) FILTER (WHERE c.net < 0) AS out_ccy, sum(c.net) FILTER (WHERE c.net < 0) AS out_amount,
           min(c.currency) FILTER (WHERE c.net > 0) AS in_ccy, sum(c.net) FILTER (WHERE c.net > 0) AS in_amount,
           array_agg(c.id ORDER BY c.line_no) AS ids
      FROM statement_lines c
     WHERE c.provider = 'paypal' AND c.type = 'transfer' AND c.extra::json->>'eventCode' IN ('T0200', 'T0201')
       AND c.parent_txn_id IN (SELECT provider_txn_id FROM w)
     GROUP BY c.statement_file_id, c.parent_txn_id
  ), p AS (
    SELECT w.*,
           coalesce(cv.n_out = 1 AND cv.n_in = 1 AND cv.in_ccy = w.currency AND cv.out_ccy <> w.currency AND cv.in_amount = -w.net, false) AS fx,
           cv.out_ccy, cv.out_amount, cv.in_amount, cv.ids AS conv_ids
      FROM w LEFT JOIN conv cv ON cv.statement_file_id = w.statement_file_id AND cv.parent_txn_id = w.provider_txn_id
  )
  ${TARGET}
  SELECT 'paypal', account, provider_txn_id, provider_txn_id,
         array_remove(ARRAY[provider_txn_id, extra->>'bankReferenceId'], NULL),
         CASE WHEN fx THEN out_ccy ELSE currency END,
         CASE WHEN fx THEN out_amount ELSE net END,
         (occurred_at AT TIME ZONE tz)::date, NULL, 0,
         CASE WHEN fx THEN currency END,
         CASE WHEN fx THEN round(in_amount / -out_amount, 12) END,
         CASE WHEN fx THEN net END,
         CASE WHEN fx THEN conv_ids || id ELSE ARRAY[id] END
    FROM p
  ${UPSERT}`;

/** WeChat Pay fund-flow and Alipay account bills: one withdrawal line, one payout. */
const WITHDRAWAL_LINES = `
  WITH w AS (
    SELECT DISTINCT ON (coalesce(sl.provider_txn_id, sl.merchant_ref, 'line:' || sl.id::text))
           sl.id, sl.provider_txn_id, sl.merchant_ref, sl.net, sl.currency, sl.occurred_at, sl.extra::json AS extra,
           coalesce(sl.provider_txn_id, sl.merchant_ref, 'line:' || sl.id::text) AS payout_key,
           coalesce(f.account, '') AS account, coalesce(f.time_zone, 'Asia/Shanghai') AS tz
      FROM statement_lines sl JOIN statement_files f ON f.id = sl.statement_file_id
     WHERE sl.provider = $1::text AND sl.type = 'payout' AND f.loaded_at IS NOT NULL
     ORDER BY coalesce(sl.provider_txn_id, sl.merchant_ref, 'line:' || sl.id::text), sl.statement_file_id DESC, sl.line_no
  )
  ${TARGET}
  SELECT $1::text, account, payout_key, coalesce(provider_txn_id, merchant_ref),
         array_remove(ARRAY[provider_txn_id, merchant_ref, extra->>'资金流水单号', extra->>'accountEntryNo'], NULL), currency, net,
         (occurred_at AT TIME ZONE tz)::date, NULL, 0, NULL, NULL, NULL, ARRAY[id]
    FROM w
  ${UPSERT}`;

const DERIVATIONS: Record<ProviderId, { sql: string; params: unknown[] }> = {
  stripe: { sql: STRIPE, params: [] },
  adyen: { sql: ADYEN, params: [] },
  paypal: { sql: PAYPAL, params: [] },
  wechatpay: { sql: WITHDRAWAL_LINES, params: ['wechatpay'] },
  alipay: { sql: WITHDRAWAL_LINES, params: ['alipay'] },
};

export async function derivePayouts(db: Sql, providers: readonly ProviderId[]): Promise<DerivedPayouts> {
  const byProvider: Partial<Record<ProviderId, number>> = {};
  let total = 0;
  for (const provider of providers) {
    const d = DERIVATIONS[provider];
    const rows = await db.query<{ id: string }>(d.sql, d.params);
    byProvider[provider] = rows.length;
    total += rows.length;
  }
  return { byProvider, total };
}
