import type { Database, Tx } from '../../db/database.js';
import { MINOR_UNITS } from '../../core/money/index.js';
import type { ProviderId } from '../../parsers/contract.js';
import { MIN_REFERENCE_TOKEN, PAYOUT_RULES, type PayoutRule } from './rules.js';

/**
 * Payouts ↔ bank deposits, set-based in SQL, in one transaction. Results replace the earlier ones of
 * the same scope in `payout_matches` (one row per payout, one row per unclaimed provider deposit).
 *
 * Candidates: the scope's payouts (`pp`), and the bank lines that can be a payout's deposit (`bl`):
 * booked (`BOOK`) credits that are not reversals and that no payout already claims. A line that repeats
 * a line of an earlier bank file (same account, currency, amount, dates, references and remittance: the
 * same deposit in an MT940 and a camt.053 of the same day) is that line, not a second deposit. Each bank
 * line is recognised as a provider's deposit when exactly one provider's `depositPattern` (rules.ts)
 * meets its counterparty, remittance or additional information.
 *
 * 1. `reference` — a payout's reference (Adyen `TX…XT`, Stripe `po_…`, PayPal transaction id or Bank
 *    Reference ID, WeChat/Alipay business number) appears as a whole token in the bank line's remittance
 *    information, additional information, end-to-end id, entry reference or other references
 *    (case-insensitive, tokens of at least MIN_REFERENCE_TOKEN characters). Paired only when the
 *    payout has exactly one such line and the line names exactly one payout: never a guess.
 * 2. `amount_in_window` — what is left: same currency and exactly the payout amount (or, for a payout in
 *    another currency than the bank line, payout × the provider's rate within the FX tolerance), value
 *    date within the provider's lag window (business days after the expected date), the line not
 *    recognised as another provider's deposit and not carrying a payout reference (pass 1 spoke for it).
 *    Paired ONLY when the payout has exactly one candidate line and the line exactly one candidate payout.
 * 3. A paired payout is compared: expected bank amount = −amount (same currency) or round(−amount × fx
 *    rate, minor units of the bank currency) (FX); difference = bank amount − expected. Same currency: any
 *    difference is a `payout_amount_mismatch`. FX: the difference is the FX difference, reported; the pair
 *    is `matched` within the provider's tolerance, a `payout_amount_mismatch` beyond. A bank line in
 *    neither the payout's nor its FX currency is a `payout_currency_mismatch`.
 * 4. An unpaired payout is `payout_missing_in_bank` once more business days than its window allows have
 *    passed by `asOf` (default: the latest booking date of the bank lines loaded), else `payout_pending`.
 * 5. A recognised provider deposit (of a provider in scope, value date within the period) that no payout
 *    claims is `deposit_without_payout`.
 */
export const PAYOUT_STATUSES = [
  'matched',
  'payout_amount_mismatch',
  'payout_currency_mismatch',
  'payout_missing_in_bank',
  'payout_pending',
  'deposit_without_payout',
] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export interface PayoutMatchScope {
  providers: readonly ProviderId[];
  /** Payouts expected on or after this day, deposits valued on or after it (`YYYY-MM-DD`). */
  from?: string | null;
  /** Payouts expected on or before this day, deposits valued on or before it. */
  to?: string | null;
  /** The day the report is as of; default: the latest booking date of the bank lines loaded. */
  asOf?: string | null;
  rules?: Readonly<Record<ProviderId, PayoutRule>>;
}

export interface PayoutMatchResult {
  asOf: string;
  counts: Record<PayoutStatus, number>;
}

function rulesJson(rules: Readonly<Record<ProviderId, PayoutRule>>): string {
  return JSON.stringify(
    Object.values(rules).map((r) => ({
      provider: r.provider,
      min: r.lag.minBusinessDays,
      max: r.lag.maxBusinessDays,
      weekend: r.weekendDays,
      holidays: r.holidays,
      tol: r.fxTolerance,
      pattern: r.depositPattern,
    })),
  );
}

/** Business days in (a, b] (negative when b is before a), by the payout's calendar in `pp`. */
function businessDays(a: string, b: string): string {
  const count = (lo: string, hi: string) => `(SELECT count(*)::int FROM generate_series((${lo} + 1)::timestamp, (${hi})::timestamp, interval '1 day') d
              WHERE NOT (extract(dow FROM d)::int = ANY(pp.weekend)) AND NOT (d::date = ANY(pp.holidays)))`;
  return `CASE WHEN ${b} >= ${a} THEN ${count(a, b)} ELSE -${count(b, a)} END`;
}

/** The comparison of a pair (pp, bl): expected bank amount, difference, FX difference, status. */
const PAIR_COLUMNS = `
       x.expected AS expected_bank_amount,
       bl.amount - x.expected AS amount_difference,
       CASE WHEN x.fx THEN bl.amount - x.expected END AS fx_difference,
       CASE WHEN x.expected IS NULL THEN 'payout_currency_mismatch'
            WHEN bl.amount = x.expected THEN 'matched'
            WHEN x.fx AND abs(bl.amount - x.expected) <= pp.fx_tolerance THEN 'matched'
            ELSE 'payout_amount_mismatch' END AS status`;
const PAIR_LATERAL = `CROSS JOIN LATERAL (
         SELECT CASE WHEN bl.currency = pp.currency THEN pp.expected_same
                     WHEN bl.currency = pp.fx_currency THEN pp.expected_fx END AS expected,
                (bl.currency <> pp.currency AND bl.currency = pp.fx_currency) AS fx) x`;

async function latestBankDay(tx: Tx): Promise<string> {
  const [row] = await tx.query<{ d: string }>(
    `SELECT to_char(coalesce(max(b.booking_date), current_date), 'YYYY-MM-DD') AS d
       FROM bank_lines b JOIN bank_statement_files f ON f.id = b.bank_statement_file_id AND f.loaded_at IS NOT NULL`,
  );
  return row!.d;
}

export async function matchPayoutDeposits(db: Database, scope: PayoutMatchScope): Promise<PayoutMatchResult> {
  const rules = scope.rules ?? PAYOUT_RULES;
  const providers = [...scope.providers];
  const from = scope.from ?? null;
  const to = scope.to ?? null;
  return db.transaction(async (tx) => {
    const asOf = scope.asOf ?? (await latestBankDay(tx));

    await tx.query(
      `CREATE TEMP TABLE pr ON COMMIT DROP AS
       SELECT r->>'provider' AS provider, (r->>'min')::int AS min_lag, (r->>'max')::int AS max_lag,
              ARRAY(SELECT jsonb_array_elements_text(r->'weekend')::int) AS weekend,
              ARRAY(SELECT jsonb_array_elements_text(r->'holidays')::date) AS holidays,
              (r->>'tol')::numeric AS fx_tolerance, r->>'pattern' AS pattern
         FROM jsonb_array_elements($1::jsonb) r`,
      [rulesJson(rules)],
    );
    await tx.query(
      `CREATE TEMP TABLE cd ON COMMIT DROP AS
       SELECT key AS currency, value::int AS decimals FROM jsonb_each_text($1::jsonb)`,
      [JSON.stringify(MINOR_UNITS)],
    );

    // The scope's earlier results are replaced.
    await tx.query(
      `DELETE FROM payout_matches m USING payouts p
        WHERE m.payout_id = p.id AND p.provider = ANY($1::text[])
          AND ($2::date IS NULL OR p.expected_date >= $2::date) AND ($3::date IS NULL OR p.expected_date <= $3::date)`,
      [providers, from, to],
    );
    await tx.query(`DELETE FROM payout_matches WHERE payout_id IS NULL AND provider = ANY($1::text[])`, [providers]);

    await tx.query(
      `CREATE TEMP TABLE pp ON COMMIT DROP AS
       SELECT p.id, p.provider, p.currency::text AS currency, p.amount, p.expected_date, p.fx_currency::text AS fx_currency,
              p.fx_rate, p.refs, -p.amount AS expected_same,
              CASE WHEN p.fx_rate IS NOT NULL THEN round(-p.amount * p.fx_rate, coalesce(cd.decimals, 2)) END AS expected_fx,
              r.min_lag, r.max_lag, r.weekend, r.holidays, r.fx_tolerance
         FROM payouts p JOIN pr r ON r.provider = p.provider LEFT JOIN cd ON cd.currency = p.fx_currency
        WHERE p.provider = ANY($1::text[])
          AND ($2::date IS NULL OR p.expected_date >= $2::date) AND ($3::date IS NULL OR p.expected_date <= $3::date)
          AND NOT EXISTS (SELECT 1 FROM payout_matches m WHERE m.payout_id = p.id)`,
      [providers, from, to],
    );
    await tx.query(
      `CREATE TEMP TABLE bl ON COMMIT DROP AS
       SELECT b.id, b.currency::text AS currency, b.amount, coalesce(b.value_date, b.booking_date) AS value_date,
              (SELECT CASE WHEN count(*) = 1 THEN min(r.provider) END FROM pr r
                WHERE concat_ws(' ', b.counterparty_name, b.remittance, b.additional_info) ~* r.pattern) AS dep_provider
         FROM bank_lines b JOIN bank_statement_files f ON f.id = b.bank_statement_file_id AND f.loaded_at IS NOT NULL
        WHERE b.amount > 0 AND b.status = 'BOOK' AND NOT b.reversal
          AND NOT EXISTS (SELECT 1 FROM payout_matches m WHERE m.bank_line_id = b.id AND m.payout_id IS NOT NULL)
          AND NOT EXISTS (
                SELECT 1 FROM bank_lines e
                 WHERE e.bank_statement_file_id < b.bank_statement_file_id
                   AND e.account = b.account AND e.currency = b.currency AND e.amount = b.amount
                   AND e.booking_date = b.booking_date AND e.value_date IS NOT DISTINCT FROM b.value_date
                   AND e.entry_ref IS NOT DISTINCT FROM b.entry_ref AND e.end_to_end_id IS NOT DISTINCT FROM b.end_to_end_id
                   AND e.remittance IS NOT DISTINCT FROM b.remittance)`,
    );
    await tx.query(`CREATE INDEX ON bl (currency, amount)`);

    // 1. By reference.
    await tx.query(
      `CREATE TEMP TABLE bt ON COMMIT DROP AS
       SELECT DISTINCT x.id, x.token FROM (
         SELECT b.id, t AS token
           FROM bl JOIN bank_lines b ON b.id = bl.id,
                regexp_split_to_table(upper(concat_ws(' ', b.remittance, b.additional_info, b.end_to_end_id, b.entry_ref,
                  (SELECT string_agg(e->>'value', ' ') FROM jsonb_array_elements(coalesce(b.refs, '[]'::jsonb)) e))), '[^A-Z0-9_]+') t
         UNION ALL
         SELECT b.id, upper(v)
           FROM bl JOIN bank_lines b ON b.id = bl.id,
                unnest(ARRAY[b.end_to_end_id, b.entry_ref]
                       || ARRAY(SELECT e->>'value' FROM jsonb_array_elements(coalesce(b.refs, '[]'::jsonb)) e)) v
       ) x WHERE length(x.token) >= $1`,
      [MIN_REFERENCE_TOKEN],
    );
    await tx.query(
      `CREATE TEMP TABLE rc ON COMMIT DROP AS
       SELECT DISTINCT pp.id AS payout_id, bt.id AS bank_line_id
         FROM pp CROSS JOIN LATERAL unnest(pp.refs) r JOIN bt ON bt.token = upper(r)
        WHERE length(r) >= $1`,
      [MIN_REFERENCE_TOKEN],
    );
    await tx.query(
      `CREATE TEMP TABLE res ON COMMIT DROP AS
       SELECT pp.id AS payout_id, bl.id AS bank_line_id, pp.provider, 'reference'::text AS rule,
              ${businessDays('pp.expected_date', 'bl.value_date')} AS lag_days, ${PAIR_COLUMNS}
         FROM rc JOIN pp ON pp.id = rc.payout_id JOIN bl ON bl.id = rc.bank_line_id
         ${PAIR_LATERAL}
        WHERE (SELECT count(*) FROM rc r2 WHERE r2.payout_id = rc.payout_id) = 1
          AND (SELECT count(*) FROM rc r2 WHERE r2.bank_line_id = rc.bank_line_id) = 1`,
    );

    // 2. By amount within the lag window, only where unique on both sides.
    await tx.query(
      `CREATE TEMP TABLE ac ON COMMIT DROP AS
       WITH open_pp AS (SELECT * FROM pp WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.payout_id = pp.id)),
            open_bl AS (SELECT * FROM bl WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.bank_line_id = bl.id)
                                           AND NOT EXISTS (SELECT 1 FROM rc WHERE rc.bank_line_id = bl.id)),
            pairs AS (
              SELECT pp.id AS payout_id, bl.id AS bank_line_id FROM open_pp pp JOIN open_bl bl
                ON bl.currency = pp.currency AND bl.amount = pp.expected_same
               WHERE bl.dep_provider IS NULL OR bl.dep_provider = pp.provider
              UNION
              SELECT pp.id, bl.id FROM open_pp pp JOIN open_bl bl
                ON bl.currency = pp.fx_currency AND bl.amount BETWEEN pp.expected_fx - pp.fx_tolerance AND pp.expected_fx + pp.fx_tolerance
               WHERE pp.fx_currency IS NOT NULL AND (bl.dep_provider IS NULL OR bl.dep_provider = pp.provider))
       SELECT pairs.payout_id, pairs.bank_line_id, ${businessDays('pp.expected_date', 'bl.value_date')} AS lag_days
         FROM pairs JOIN pp ON pp.id = pairs.payout_id JOIN bl ON bl.id = pairs.bank_line_id`,
    );
    await tx.query(
      `DELETE FROM ac USING pp WHERE pp.id = ac.payout_id AND NOT (ac.lag_days BETWEEN pp.min_lag AND pp.max_lag)`,
    );
    await tx.query(
      `INSERT INTO res
       SELECT pp.id, bl.id, pp.provider, 'amount_in_window', ac.lag_days, ${PAIR_COLUMNS}
         FROM ac JOIN pp ON pp.id = ac.payout_id JOIN bl ON bl.id = ac.bank_line_id
         ${PAIR_LATERAL}
        WHERE (SELECT count(*) FROM ac a2 WHERE a2.payout_id = ac.payout_id) = 1
          AND (SELECT count(*) FROM ac a2 WHERE a2.bank_line_id = ac.bank_line_id) = 1`,
    );

    // 4. Payouts the bank has not shown: overdue or still within their window.
    await tx.query(
      `INSERT INTO res
       SELECT pp.id, NULL, pp.provider, NULL,
              ${businessDays('pp.expected_date', '$1::date')},
              NULL, NULL, NULL,
              CASE WHEN ${businessDays('pp.expected_date', '$1::date')} > pp.max_lag THEN 'payout_missing_in_bank' ELSE 'payout_pending' END
         FROM pp WHERE NOT EXISTS (SELECT 1 FROM res WHERE res.payout_id = pp.id)`,
      [asOf],
    );

    // 5. Provider deposits no payout claims.
    await tx.query(
      `INSERT INTO res
       SELECT NULL, bl.id, bl.dep_provider, NULL, NULL, NULL, NULL, NULL, 'deposit_without_payout'
         FROM bl
        WHERE bl.dep_provider = ANY($1::text[])
          AND NOT EXISTS (SELECT 1 FROM res WHERE res.bank_line_id = bl.id)
          AND ($2::date IS NULL OR bl.value_date >= $2::date) AND ($3::date IS NULL OR bl.value_date <= $3::date)`,
      [providers, from, to],
    );

    // A line now claimed by a payout is no longer another provider's unclaimed deposit.
    await tx.query(
      `DELETE FROM payout_matches m USING res
        WHERE m.payout_id IS NULL AND m.bank_line_id = res.bank_line_id`,
    );
    await tx.query(
      `INSERT INTO payout_matches (payout_id, bank_line_id, provider, status, rule, lag_days,
                                   expected_bank_amount, amount_difference, fx_difference, as_of)
       SELECT payout_id, bank_line_id, provider, status, rule, lag_days,
              expected_bank_amount, amount_difference, fx_difference, $1::date
         FROM res`,
      [asOf],
    );

    const counts = Object.fromEntries(PAYOUT_STATUSES.map((s) => [s, 0])) as Record<PayoutStatus, number>;
    for (const r of await tx.query<{ status: PayoutStatus; n: number }>(`SELECT status, count(*)::int AS n FROM res GROUP BY status`)) {
      counts[r.status] = r.n;
    }
    return { asOf, counts };
  });
}
