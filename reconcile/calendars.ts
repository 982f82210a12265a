import type { ProviderId } from '../parsers/contract.js';

/**
 * Each provider's settlement calendar, as data. It decides when an unpaired item stops being a timing
 * difference and becomes a discrepancy.
 * - Statements that list movements by their own date (Alipay and WeChat Pay trade bills, PayPal STL)
 *   cover their whole day: `settlementLagBusinessDays` 0. Only items within `cutoffGraceMinutes` of the
 *   day's end may show up on the next day (the ledger's and the provider's clocks differ).
 * - Settlement-based statements (Stripe payout reconciliation, Adyen batches) bring a day's movements
 *   T+N business days later: a ledger row waits that long before it is missing.
 * `holidays` are the days the provider does not settle (bank holidays), `YYYY-MM-DD`.
 */
export interface SettlementCalendar {
  provider: ProviderId;
  timeZone: string;
  cutoffGraceMinutes: number;
  settlementLagBusinessDays: number;
  /** Days of the week with no settlement, 0 = Sunday … 6 = Saturday. */
  weekendDays: readonly number[];
  holidays: readonly string[];
  /** Ledger rows booked this many days before the day are still candidates for its statement lines. */
  lookbackDays: number;
}

export const CALENDARS: Readonly<Record<ProviderId, SettlementCalendar>> = {
  alipay: { provider: 'alipay', timeZone: 'Asia/Shanghai', cutoffGraceMinutes: 10, settlementLagBusinessDays: 0, weekendDays: [], holidays: [], lookbackDays: 3 },
  wechatpay: { provider: 'wechatpay', timeZone: 'Asia/Shanghai', cutoffGraceMinutes: 10, settlementLagBusinessDays: 0, weekendDays: [], holidays: [], lookbackDays: 3 },
  paypal: { provider: 'paypal', timeZone: 'America/Los_Angeles', cutoffGraceMinutes: 10, settlementLagBusinessDays: 0, weekendDays: [], holidays: [], lookbackDays: 3 },
  stripe: { provider: 'stripe', timeZone: 'Etc/UTC', cutoffGraceMinutes: 10, settlementLagBusinessDays: 2, weekendDays: [0, 6], holidays: [], lookbackDays: 10 },
  adyen: { provider: 'adyen', timeZone: 'Etc/UTC', cutoffGraceMinutes: 10, settlementLagBusinessDays: 2, weekendDays: [0, 6], holidays: [], lookbackDays: 10 },
};

const parse = (d: string): Date => new Date(`${d}T00:00:00Z`);
const fmt = (d: Date): string => d.toISOString().slice(0, 10);

export function addDays(date: string, days: number): string {
  const d = parse(date);
  d.setUTCDate(d.getUTCDate() + days);
  return fmt(d);
}

export function isBusinessDay(date: string, cal: SettlementCalendar): boolean {
  return !cal.weekendDays.includes(parse(date).getUTCDay()) && !cal.holidays.includes(date);
}

/** `date` plus `n` business days of the calendar (n = 0: the date itself). */
export function addBusinessDays(date: string, n: number, cal: SettlementCalendar): string {
  let d = date;
  let left = n;
  while (left > 0) {
    d = addDays(d, 1);
    if (isBusinessDay(d, cal)) left -= 1;
  }
  return d;
}
