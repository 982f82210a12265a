/**
 * "What would this volume have cost elsewhere": prices every line under each configured provider's
 * schedules (the line's own provider included, as the baseline), per target provider and currency.
 *
 * For a target provider T, a line is priced as if it had gone through T: same type, gross, currency,
 * payment method, wallet and date; the account is dropped (an account of one provider means nothing at
 * another, so account-specific entries never apply). T's entries are resolved as usual: a method- or
 * wallet-specific entry of T applies only when T's selector names the line's method / wallet, otherwise
 * T's provider-wide entry for the currency prices it.
 *
 * Never a silent zero: a line T cannot price (no entry of T for its currency and date, a chargeback under
 * an entry without `chargeback_fee`, …) is counted under `notPriceable` with its reason, and left out of
 * count, volume, fee and rate. Refunds whose fee depends on the payment they refund (pro rata on a rule
 * with a flat part or caps, `returned_full`) are priced as full refunds of a payment of the same amount
 * unless the line carries `original`; each such assumption is counted in `refundsAssumedFull`.
 * Only payments, refunds and chargebacks are priced; other line types are counted in `skipped`.
 */
import { Decimal, ZERO } from '../../core/money/index.js';
import { PROVIDER_IDS, type LineType, type ProviderId } from '../../parsers/contract.js';
import { FeeNotComputableError } from './errors.js';
import { expectedFee, type RefundContext } from './expected-fee.js';
import { resolveSchedule, type FeeLine, type FeeSchedule } from './schedule.js';

export interface WhatIfLine {
  provider: ProviderId;
  type: LineType;
  gross: Decimal;
  currency: string;
  paymentMethod: string | null;
  wallet: string | null;
  occurredAt: Date;
  /** For a refund: the payment it refunds, when known (makes pro-rata and returned_full exact). */
  original?: { gross: Decimal } | null;
}

export interface WhatIfRow {
  /** The provider whose schedules priced the lines. */
  provider: ProviderId;
  currency: string;
  /** Lines priced (payments + refunds + chargebacks). */
  count: number;
  payments: number;
  refunds: number;
  chargebacks: number;
  /** Σ gross of the priced payments: the base of the effective rate. */
  volume: Decimal;
  /** Σ |gross| of the priced refunds. */
  refundVolume: Decimal;
  /** Σ expected fee: payments and chargebacks charged, minus fees returned on refunds. */
  totalExpectedFee: Decimal;
  /** totalExpectedFee / volume, as a fraction rounded half-even to 8 places; null when volume is zero. */
  effectiveRate: Decimal | null;
  /** Refunds priced as full refunds of a payment of the same amount (no `original` on the line). */
  refundsAssumedFull: number;
  notPriceable: { count: number; volume: Decimal; reasons: Record<string, number> };
  /** Ids of the schedule entries that priced at least one line. */
  schedulesUsed: string[];
}

export interface WhatIfTarget {
  provider: ProviderId;
  /** One row per currency present in the input, in order of first appearance. */
  rows: WhatIfRow[];
}

export interface WhatIfReport {
  linesRead: number;
  /** Lines that are not payments, refunds or chargebacks (fees, payouts, transfers, adjustments). */
  skipped: { count: number; byType: Partial<Record<LineType, number>> };
  targets: WhatIfTarget[];
}

export interface WhatIfOptions {
  /** Target providers; default: every provider that has at least one schedule entry. */
  providers?: readonly ProviderId[];
}

const PRICED_TYPES: ReadonlySet<LineType> = new Set<LineType>(['payment', 'refund', 'chargeback']);
const RATE_PLACES = 8;

function emptyRow(provider: ProviderId, currency: string): WhatIfRow {
  return {
    provider,
    currency,
    count: 0,
    payments: 0,
    refunds: 0,
    chargebacks: 0,
    volume: ZERO,
    refundVolume: ZERO,
    totalExpectedFee: ZERO,
    effectiveRate: null,
    refundsAssumedFull: 0,
    notPriceable: { count: 0, volume: ZERO, reasons: {} },
    schedulesUsed: [],
  };
}

function notPriceable(row: WhatIfRow, line: WhatIfLine, reason: string): void {
  row.notPriceable.count++;
  row.notPriceable.volume = row.notPriceable.volume.plus(line.gross.abs());
  row.notPriceable.reasons[reason] = (row.notPriceable.reasons[reason] ?? 0) + 1;
}

function price(schedule: FeeSchedule, line: FeeLine, original: RefundContext['original']): { fee: Decimal; assumed: boolean } {
  try {
    return { fee: expectedFee(schedule, line, { original: original ?? null }).expected, assumed: false };
  } catch (err) {
    if (line.type === 'refund' && !original && err instanceof FeeNotComputableError && err.code === 'original_needed') {
      return { fee: expectedFee(schedule, line, { original: { gross: line.gross.abs() } }).expected, assumed: true };
    }
    throw err;
  }
}

/** Prices the lines under every target provider's schedules. Reads the iterable once. */
export async function whatIf(
  schedules: readonly FeeSchedule[],
  lines: AsyncIterable<WhatIfLine> | Iterable<WhatIfLine>,
  options: WhatIfOptions = {},
): Promise<WhatIfReport> {
  const targets = options.providers ?? PROVIDER_IDS.filter((p) => schedules.some((s) => s.provider === p));
  const byProvider = new Map<ProviderId, FeeSchedule[]>(targets.map((p) => [p, schedules.filter((s) => s.provider === p)]));
  const rows = new Map<ProviderId, Map<string, WhatIfRow>>(targets.map((p) => [p, new Map()]));
  const used = new Map<WhatIfRow, Set<string>>();
  const report: WhatIfReport = { linesRead: 0, skipped: { count: 0, byType: {} }, targets: [] };

  for await (const line of lines) {
    report.linesRead++;
    if (!PRICED_TYPES.has(line.type)) {
      report.skipped.count++;
      report.skipped.byType[line.type] = (report.skipped.byType[line.type] ?? 0) + 1;
      continue;
    }
    for (const target of targets) {
      const perCurrency = rows.get(target)!;
      let row = perCurrency.get(line.currency);
      if (row === undefined) {
        row = emptyRow(target, line.currency);
        perCurrency.set(line.currency, row);
        used.set(row, new Set());
      }
      const asTarget: FeeLine = {
        provider: target,
        type: line.type,
        gross: line.gross,
        currency: line.currency,
        paymentMethod: line.paymentMethod,
        wallet: line.wallet,
        occurredAt: line.occurredAt,
        account: null,
      };
      const schedule = resolveSchedule(byProvider.get(target)!, asTarget);
      if (schedule === null) {
        notPriceable(row, line, 'no_schedule');
        continue;
      }
      let priced: { fee: Decimal; assumed: boolean };
      try {
        priced = price(schedule, asTarget, line.original);
      } catch (err) {
        if (err instanceof FeeNotComputableError) {
          notPriceable(row, line, err.code);
          continue;
        }
        throw err;
      }
      row.count++;
      row.totalExpectedFee = row.totalExpectedFee.plus(priced.fee);
      if (priced.assumed) row.refundsAssumedFull++;
      used.get(row)!.add(schedule.id);
      if (line.type === 'payment') {
        row.payments++;
        row.volume = row.volume.plus(line.gross);
      } else if (line.type === 'refund') {
        row.refunds++;
        row.refundVolume = row.refundVolume.plus(line.gross.abs());
      } else {
        row.chargebacks++;
      }
    }
  }

  for (const target of targets) {
    const list = [...rows.get(target)!.values()];
    for (const row of list) {
      row.effectiveRate = row.volume.isZero() ? null : row.totalExpectedFee.dividedBy(row.volume).toDecimalPlaces(RATE_PLACES, Decimal.ROUND_HALF_EVEN);
      row.schedulesUsed = [...used.get(row)!].sort();
    }
    report.targets.push({ provider: target, rows: list });
  }
  return report;
}
