import { Decimal, ZERO } from '../../core/money/index.js';
import type { ProviderId } from '../../parsers/contract.js';
import {
  expectedFee, FeeNotComputableError, FeeScheduleError, resolveSchedule, whatIf,
  type FeeLine, type FeeSchedule, type WhatIfLine, type WhatIfRow,
} from '../../reconcile/fees/index.js';
import type { FeeReportLine } from './lines.js';

export type PeriodGrouping = 'range' | 'month' | 'day';
export const PERIOD_GROUPINGS: readonly PeriodGrouping[] = ['range', 'month', 'day'];

const PRICED = new Set(['payment', 'refund', 'chargeback']);
const RATE_PLACES = 8;

/** The period a day belongs to, clipped to the report's range. */
export function periodOf(day: string, by: PeriodGrouping, from: string, to: string): { from: string; to: string } {
  if (by === 'range') return { from, to };
  if (by === 'day') return { from: day, to: day };
  const start = `${day.slice(0, 7)}-01`;
  const [y, m] = [Number(day.slice(0, 4)), Number(day.slice(5, 7))];
  const end = new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
  return { from: start < from ? from : start, to: end > to ? to : end };
}

/** One row of fees.csv: a provider's lines of one payment method / wallet and currency in one period. */
export interface FeeComparisonRow {
  periodFrom: string;
  periodTo: string;
  provider: ProviderId;
  currency: string;
  paymentMethod: string;
  wallet: string;
  /** Payments + refunds + chargebacks. */
  count: number;
  payments: number;
  refunds: number;
  chargebacks: number;
  /** Σ gross of the payments. */
  volume: Decimal;
  /** Σ |gross| of the refunds. */
  refundVolume: Decimal;
  /** Σ fee the statements charged on these lines (refund fees returned are negative). */
  feesCharged: Decimal;
  /** feesCharged / volume. */
  effectiveRate: Decimal | null;
  /** Lines the schedule priced, their payments' volume, what they were charged and what the schedule expects. */
  pricedCount: number;
  pricedVolume: Decimal;
  pricedCharged: Decimal;
  expectedFee: Decimal;
  /** expectedFee / pricedVolume. */
  contractedRate: Decimal | null;
  /** Σ (charged − expected) over the priced lines where positive: the merchant paid more than contracted. */
  overcharge: Decimal;
  /** Σ (charged − expected) where negative (a negative number). */
  undercharge: Decimal;
  /** Lines no schedule entry could price, never counted as a zero fee. */
  unpricedCount: number;
  unpricedVolume: Decimal;
  unpricedReasons: Record<string, number>;
  schedules: string[];
}

/** One row of fees-whatif.csv: a source's lines priced under a target provider's schedules. */
export interface WhatIfReportRow {
  periodFrom: string;
  periodTo: string;
  /** The provider whose lines were priced, or `all` for every provider's lines together. */
  source: ProviderId | 'all';
  target: ProviderId;
  currency: string;
  /** Σ fee the statements actually charged on the source's payments, refunds and chargebacks in this currency. */
  actualFee: Decimal;
  actualVolume: Decimal;
  row: WhatIfRow;
}

export interface FeeComparison {
  rows: FeeComparisonRow[];
  whatIf: WhatIfReportRow[];
  /** Lines read; lines of other types (payouts, fee invoices, transfers…) are not compared. */
  linesRead: number;
  skippedByType: Record<string, number>;
}

function rate(fee: Decimal, volume: Decimal): Decimal | null {
  return volume.isZero() ? null : fee.dividedBy(volume).toDecimalPlaces(RATE_PLACES, Decimal.ROUND_HALF_EVEN);
}

function emptyRow(period: { from: string; to: string }, l: FeeReportLine): FeeComparisonRow {
  return {
    periodFrom: period.from, periodTo: period.to, provider: l.provider, currency: l.currency,
    paymentMethod: l.paymentMethod ?? '', wallet: l.wallet ?? '',
    count: 0, payments: 0, refunds: 0, chargebacks: 0, volume: ZERO, refundVolume: ZERO, feesCharged: ZERO, effectiveRate: null,
    pricedCount: 0, pricedVolume: ZERO, pricedCharged: ZERO, expectedFee: ZERO, contractedRate: null, overcharge: ZERO, undercharge: ZERO,
    unpricedCount: 0, unpricedVolume: ZERO, unpricedReasons: {}, schedules: [],
  };
}

type Priced = { ok: true; expected: Decimal; scheduleId: string } | { ok: false; reason: string };

/** The contracted fee of one line under its own provider's schedules (account-specific entries apply). */
export function contractedFee(schedules: readonly FeeSchedule[], l: FeeReportLine): Priced {
  const line: FeeLine = {
    provider: l.provider, type: l.type, gross: l.gross, currency: l.currency, paymentMethod: l.paymentMethod, wallet: l.wallet,
    occurredAt: l.occurredAt, account: l.account,
  };
  let schedule: FeeSchedule | null;
  try {
    schedule = resolveSchedule(schedules, line);
  } catch (err) {
    if (err instanceof FeeScheduleError) return { ok: false, reason: err.code };
    throw err;
  }
  if (schedule === null) return { ok: false, reason: 'no_schedule' };
  try {
    const e = expectedFee(schedule, line, { original: l.originalGross ? { gross: l.originalGross } : null, earlierRefunds: l.earlierRefunds });
    return { ok: true, expected: e.expected, scheduleId: e.scheduleId };
  } catch (err) {
    if (err instanceof FeeNotComputableError) return { ok: false, reason: err.code };
    throw err;
  }
}

export function toWhatIfLine(l: FeeReportLine): WhatIfLine {
  return {
    provider: l.provider, type: l.type, gross: l.gross, currency: l.currency, paymentMethod: l.paymentMethod, wallet: l.wallet,
    occurredAt: l.occurredAt, original: l.originalGross ? { gross: l.originalGross } : null,
  };
}

/**
 * The fee comparison: per period, provider, currency, payment method and wallet, what the statements
 * charged against what the provider's own schedule says (`expectedFee` per line, summed), and the
 * what-if: each period's lines (per source provider, and all together) priced under every configured
 * provider's schedules (`whatIf`).
 */
export async function compareFees(
  lines: readonly FeeReportLine[],
  schedules: readonly FeeSchedule[],
  range: { from: string; to: string; by: PeriodGrouping },
): Promise<FeeComparison> {
  const rows = new Map<string, FeeComparisonRow>();
  const used = new Map<FeeComparisonRow, Set<string>>();
  const skippedByType: Record<string, number> = {};
  const groups = new Map<string, { period: { from: string; to: string }; source: ProviderId | 'all'; lines: FeeReportLine[] }>();
  const group = (period: { from: string; to: string }, source: ProviderId | 'all') => {
    const key = `${period.from}|${source}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { period, source, lines: [] }));
    return g;
  };

  for (const l of lines) {
    const period = periodOf(l.day, range.by, range.from, range.to);
    if (!PRICED.has(l.type)) {
      skippedByType[l.type] = (skippedByType[l.type] ?? 0) + 1;
      continue;
    }
    group(period, 'all').lines.push(l);
    group(period, l.provider).lines.push(l);
    const key = [period.from, l.provider, l.currency, l.paymentMethod ?? '', l.wallet ?? ''].join('\u0000');
    let row = rows.get(key);
    if (!row) {
      rows.set(key, (row = emptyRow(period, l)));
      used.set(row, new Set());
    }
    row.count++;
    row.feesCharged = row.feesCharged.plus(l.fee);
    if (l.type === 'payment') {
      row.payments++;
      row.volume = row.volume.plus(l.gross);
    } else if (l.type === 'refund') {
      row.refunds++;
      row.refundVolume = row.refundVolume.plus(l.gross.abs());
    } else {
      row.chargebacks++;
    }
    const priced = contractedFee(schedules, l);
    if (!priced.ok) {
      row.unpricedCount++;
      row.unpricedVolume = row.unpricedVolume.plus(l.gross.abs());
      row.unpricedReasons[priced.reason] = (row.unpricedReasons[priced.reason] ?? 0) + 1;
      continue;
    }
    row.pricedCount++;
    if (l.type === 'payment') row.pricedVolume = row.pricedVolume.plus(l.gross);
    row.pricedCharged = row.pricedCharged.plus(l.fee);
    row.expectedFee = row.expectedFee.plus(priced.expected);
    const diff = l.fee.minus(priced.expected);
    if (diff.isPositive() && !diff.isZero()) row.overcharge = row.overcharge.plus(diff);
    else if (diff.isNegative() && !diff.isZero()) row.undercharge = row.undercharge.plus(diff);
    used.get(row)!.add(priced.scheduleId);
  }

  const out = [...rows.values()];
  for (const r of out) {
    r.effectiveRate = rate(r.feesCharged, r.volume);
    r.contractedRate = rate(r.expectedFee, r.pricedVolume);
    r.schedules = [...used.get(r)!].sort();
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  out.sort((a, b) => cmp(a.periodFrom, b.periodFrom) || cmp(a.provider, b.provider) || cmp(a.currency, b.currency) || cmp(a.paymentMethod, b.paymentMethod) || cmp(a.wallet, b.wallet));

  const whatIfRows: WhatIfReportRow[] = [];
  const ordered = [...groups.values()].sort((a, b) => cmp(a.period.from, b.period.from) || (a.source === 'all' ? 1 : b.source === 'all' ? -1 : cmp(a.source, b.source)));
  for (const g of ordered) {
    const report = await whatIf(schedules, g.lines.map(toWhatIfLine));
    for (const target of report.targets) {
      for (const row of target.rows) {
        const mine = g.lines.filter((l) => l.currency === row.currency);
        whatIfRows.push({
          periodFrom: g.period.from, periodTo: g.period.to, source: g.source, target: target.provider, currency: row.currency,
          actualFee: mine.reduce((s, l) => s.plus(l.fee), ZERO),
          actualVolume: mine.filter((l) => l.type === 'payment').reduce((s, l) => s.plus(l.gross), ZERO),
          row,
        });
      }
    }
  }
  return { rows: out, whatIf: whatIfRows, linesRead: lines.length, skippedByType };
}
