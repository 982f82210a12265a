import type { Sql } from '../../db/database.js';
import { Decimal, formatAmount } from '../../core/money/index.js';
import { addDays } from '../../reconcile/calendars.js';

/** A colour per provider, the same in every chart and page. */
export const PROVIDER_COLOURS: Readonly<Record<string, string>> = {
  alipay: '#1677ff',
  wechatpay: '#07a35a',
  paypal: '#003087',
  stripe: '#635bff',
  adyen: '#e8710a',
};

/**
 * The match rate of a day's run(s): matched ÷ ledger rows in scope, as the workbook's Summary sheet
 * computes it (capped at 100 %: a N:1 group can pair more lines than rows). Null when the day had no
 * ledger rows (nothing to rate).
 */
export function matchRate(figures: { matched: number; ledger_rows: number }): number | null {
  if (figures.ledger_rows <= 0) return null;
  return Math.min(1, figures.matched / figures.ledger_rows);
}

export interface MatchRateHistory {
  /** The days of the window, oldest first, ending on the report's date. */
  days: string[];
  series: Array<{ provider: string; points: Array<number | null>; matched: number[]; ledgerRows: number[] }>;
}

/**
 * Match rate per provider and day over the `days` days ending on `date` (inclusive), from the current
 * (completed) daily runs; a provider's accounts are added together. Days without a run are null.
 */
export async function matchRateHistory(db: Sql, opts: { date: string; days?: number; providers?: readonly string[] }): Promise<MatchRateHistory> {
  const span = opts.days ?? 30;
  const first = addDays(opts.date, -(span - 1));
  const days = Array.from({ length: span }, (_, i) => addDays(first, i));
  const rows = await db.query<{ provider: string; day: string; matched: number; ledger_rows: number }>(
    `SELECT provider, bill_date::text AS day,
            sum((summary->>'matched')::int)::int AS matched, sum((summary->>'ledger_rows')::int)::int AS ledger_rows
       FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND summary IS NOT NULL
        AND bill_date BETWEEN $1::date AND $2::date
        AND ($3::text[] IS NULL OR provider = ANY($3::text[]))
      GROUP BY provider, bill_date
      ORDER BY provider, bill_date`,
    [first, opts.date, opts.providers ? [...opts.providers] : null],
  );
  const providers = [...new Set([...(opts.providers ?? []), ...rows.map((r) => r.provider)])].sort();
  return {
    days,
    series: providers.map((provider) => {
      const byDay = new Map(rows.filter((r) => r.provider === provider).map((r) => [r.day, r]));
      return {
        provider,
        points: days.map((d) => {
          const r = byDay.get(d);
          return r ? matchRate(r) : null;
        }),
        matched: days.map((d) => byDay.get(d)?.matched ?? 0),
        ledgerRows: days.map((d) => byDay.get(d)?.ledger_rows ?? 0),
      };
    }),
  };
}

export interface FeesByCurrency {
  currency: string;
  /** Fees the statements charged on the day (positive charged, negative returned), per provider. */
  providers: Array<{ provider: string; fee: string }>;
}

/** The fees each provider's statements charged on `date`, per currency, from the current daily runs. */
export async function feesByProvider(db: Sql, opts: { date: string; providers?: readonly string[] }): Promise<FeesByCurrency[]> {
  const rows = await db.query<{ provider: string; summary: { totals?: Record<string, { statement_fee: string }> } }>(
    `SELECT provider, summary FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND summary IS NOT NULL AND bill_date = $1::date
        AND ($2::text[] IS NULL OR provider = ANY($2::text[]))
      ORDER BY provider, account, id`,
    [opts.date, opts.providers ? [...opts.providers] : null],
  );
  const acc = new Map<string, Map<string, Decimal>>();
  for (const r of rows) {
    const summary = typeof r.summary === 'string' ? (JSON.parse(r.summary) as typeof r.summary) : r.summary;
    for (const [ccy, t] of Object.entries(summary.totals ?? {})) {
      const byProvider = acc.get(ccy) ?? new Map<string, Decimal>();
      byProvider.set(r.provider, (byProvider.get(r.provider) ?? new Decimal(0)).plus(t.statement_fee));
      acc.set(ccy, byProvider);
    }
  }
  return [...acc.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, m]) => ({
      currency,
      providers: [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([provider, fee]) => ({ provider, fee: formatAmount(fee, currency) })),
    }));
}
