/**
 * The fee a schedule entry says a line should have cost, and how that compares with what was charged.
 * Pure: no I/O, no clock; amounts are Decimals from start to end.
 *
 * Sign convention (as `StatementLine.fee`): positive = charged to the merchant, negative = given back.
 * - payment: the rule on |gross| → capped by min/max → rounded once (entry's `rounding`) → positive.
 * - refund: per `refund_fee` (see schedule.ts) → zero or negative.
 * - chargeback: the entry's `chargeback_fee` → positive; an entry without one cannot price chargebacks.
 * - fee, payout, transfer, adjustment lines are not priced (FeeNotComputableError `line_type`).
 */
import { Decimal, ZERO, formatAmount, minorUnits } from '../../core/money/index.js';
import type { Decimal as DecimalJs } from 'decimal.js';
import { FeeNotComputableError } from './errors.js';
import type { FeeLine, FeeSchedule, Rate, Rounding, RoundingMode } from './schedule.js';

export interface ExpectedFee {
  /** Positive = charged, negative = returned, in the line's currency, rounded per the entry. */
  expected: Decimal;
  /** Human explanation, e.g. `0.60% of 100.00 = 0.60; rounded half_up to 2 places: 0.60`. */
  rule: string;
  scheduleId: string;
}

/** Facts about the payment a refund belongs to; needed whenever the refund's fee depends on them. */
export interface RefundContext {
  /** The refunded payment (its gross; the sign is ignored). */
  original?: { gross: Decimal } | null;
  /** Total refunded on that payment BEFORE this refund (absolute; default 0). */
  earlierRefunds?: Decimal | null;
}

export type FeeComparison = 'match' | 'overcharge' | 'undercharge';

const DECIMAL_MODES: Record<RoundingMode, DecimalJs.Rounding> = {
  half_up: Decimal.ROUND_HALF_UP,
  half_even: Decimal.ROUND_HALF_EVEN,
  down: Decimal.ROUND_DOWN,
  up: Decimal.ROUND_UP,
};

/** Rounds a fee magnitude (callers round non-negative values and apply the sign afterwards). */
export function applyRounding(value: Decimal, rounding: Rounding): Decimal {
  return value.toDecimalPlaces(rounding.places, DECIMAL_MODES[rounding.mode]);
}

/** A rate as a percentage with at least two decimals: 0.006 → `0.60%`, 0.0349 → `3.49%`, 0.39 → `39.00%`. */
export function formatRate(rate: Rate): string {
  const pct = rate.value.times(100);
  return `${pct.toFixed(Math.max(2, pct.decimalPlaces()))}%`;
}

function negate(v: Decimal): Decimal {
  return v.isZero() ? ZERO : v.negated();
}

interface Priced {
  /** After caps, before rounding. */
  raw: Decimal;
  text: string;
}

/** The fee of one amount under the entry's rule and caps, unrounded, with its explanation. */
function priceAmount(s: FeeSchedule, amount: Decimal): Priced {
  const places = Math.max(s.rounding.places, minorUnits(s.currency));
  const num = (v: Decimal) => v.toFixed(Math.max(places, v.decimalPlaces()));
  const amt = (v: Decimal) => formatAmount(v, s.currency);
  const rule = s.rule;
  let raw: Decimal;
  let text: string;
  switch (rule.kind) {
    case 'percentage':
      raw = amount.times(rule.rate.value);
      text = `${formatRate(rule.rate)} of ${amt(amount)} = ${num(raw)}`;
      break;
    case 'flat':
      raw = rule.flat;
      text = `flat ${amt(rule.flat)}`;
      break;
    case 'percentage_plus_flat': {
      const pct = amount.times(rule.rate.value);
      raw = pct.plus(rule.flat);
      text = `${formatRate(rule.rate)} of ${amt(amount)} + ${amt(rule.flat)} = ${num(pct)} + ${amt(rule.flat)} = ${num(raw)}`;
      break;
    }
    case 'tiered': {
      if (rule.mode === 'whole_amount') {
        let lower: Decimal | null = null;
        let index = 0;
        for (const band of rule.bands) {
          index++;
          if (band.upTo === null || amount.lte(band.upTo)) break;
          lower = band.upTo;
        }
        const band = rule.bands[index - 1]!;
        const range = `${lower === null ? '' : `${amt(lower)} < `}amount${band.upTo === null ? '' : ` ≤ ${amt(band.upTo)}`}`;
        const parts: string[] = [];
        raw = ZERO;
        if (band.rate) {
          raw = raw.plus(amount.times(band.rate.value));
          parts.push(`${formatRate(band.rate)} of ${amt(amount)}`);
        }
        if (band.flat) {
          raw = raw.plus(band.flat);
          parts.push(amt(band.flat));
        }
        text = `tier ${index} (${range}): ${parts.join(' + ')} = ${num(raw)}`;
      } else {
        let lower = ZERO;
        raw = ZERO;
        const parts: string[] = [];
        for (const band of rule.bands) {
          const top = band.upTo === null ? amount : Decimal.min(amount, band.upTo);
          const slice = Decimal.max(top.minus(lower), ZERO);
          if (band.rate) {
            raw = raw.plus(slice.times(band.rate.value));
            parts.push(`${formatRate(band.rate)} of ${amt(slice)}`);
          }
          if (band.flat) {
            raw = raw.plus(band.flat);
            parts.push(amt(band.flat));
          }
          if (band.upTo === null || amount.lte(band.upTo)) break;
          lower = band.upTo;
        }
        text = `graduated tiers: ${parts.join(' + ')} = ${num(raw)}`;
      }
      break;
    }
  }
  if (s.min !== null && raw.lt(s.min)) {
    text += `, below min ${amt(s.min)} → ${amt(s.min)}`;
    raw = s.min;
  }
  if (s.max !== null && raw.gt(s.max)) {
    text += `, above max ${amt(s.max)} → ${amt(s.max)}`;
    raw = s.max;
  }
  return { raw, text };
}

function roundingText(s: FeeSchedule, rounded: Decimal): string {
  return `rounded ${s.rounding.mode} to ${s.rounding.places} place${s.rounding.places === 1 ? '' : 's'}: ${rounded.toFixed(s.rounding.places)}`;
}

/** True when the fee is exactly rate × amount for every amount (pro-rata needs no original then). */
function isProportional(s: FeeSchedule): s is FeeSchedule & { rule: { kind: 'percentage'; rate: Rate } } {
  return s.rule.kind === 'percentage' && s.min === null && s.max === null;
}

/**
 * The fee the entry expects for the line. Throws `FeeNotComputableError` when it cannot say (see the
 * module comment); never answers a silent zero. For refunds, `context` gives the refunded payment: it is
 * required for `returned_full`, and for `returned_pro_rata` unless the fee is a pure percentage (then
 * rate × refunded amount is the pro-rata share whatever the original was).
 */
export function expectedFee(schedule: FeeSchedule, line: FeeLine, context: RefundContext = {}): ExpectedFee {
  const s = schedule;
  const scheduleId = s.id;
  if (line.currency !== s.currency) {
    throw new FeeNotComputableError('currency_mismatch', scheduleId, `prices ${s.currency}, not ${line.currency}`);
  }
  const amount = line.gross.abs();
  const amt = (v: Decimal) => formatAmount(v, s.currency);

  switch (line.type) {
    case 'payment': {
      const { raw, text } = priceAmount(s, amount);
      const expected = applyRounding(raw, s.rounding);
      return { expected, rule: `${text}; ${roundingText(s, expected)}`, scheduleId };
    }
    case 'chargeback': {
      if (s.chargebackFee === null) {
        throw new FeeNotComputableError('no_chargeback_fee', scheduleId, 'states no chargeback_fee, so chargebacks cannot be priced (write "chargeback_fee": "0.00" if they cost nothing)');
      }
      return { expected: s.chargebackFee, rule: `chargeback fee ${amt(s.chargebackFee)} per chargeback`, scheduleId };
    }
    case 'refund':
      return refundFee(s, amount, context);
    default:
      throw new FeeNotComputableError('line_type', scheduleId, `prices payments, refunds and chargebacks, not ${line.type} lines`);
  }
}

function refundFee(s: FeeSchedule, refunded: Decimal, context: RefundContext): ExpectedFee {
  const scheduleId = s.id;
  const amt = (v: Decimal) => formatAmount(v, s.currency);
  if (s.refundFee === 'not_returned') {
    return { expected: ZERO, rule: `refund of ${amt(refunded)}: the fee is not returned (refund_fee not_returned)`, scheduleId };
  }
  const earlier = (context.earlierRefunds ?? ZERO).abs();
  const original = context.original ? context.original.gross.abs() : null;

  if (original === null) {
    if (s.refundFee === 'returned_pro_rata' && isProportional(s)) {
      const raw = refunded.times(s.rule.rate.value);
      const back = applyRounding(raw, s.rounding);
      return {
        expected: negate(back),
        rule: `refund of ${amt(refunded)}: ${formatRate(s.rule.rate)} of ${amt(refunded)} = ${raw.toFixed(Math.max(s.rounding.places, raw.decimalPlaces()))} returned pro rata; ${roundingText(s, back)}`,
        scheduleId,
      };
    }
    throw new FeeNotComputableError(
      'original_needed',
      scheduleId,
      `refund_fee ${s.refundFee} with a ${s.rule.kind}${s.min !== null || s.max !== null ? ' (capped)' : ''} rule needs the original payment's amount to price a refund`,
    );
  }
  if (original.isZero()) {
    throw new FeeNotComputableError('original_needed', scheduleId, 'the original payment amount is zero: nothing to return pro rata');
  }
  if (earlier.plus(refunded).gt(original)) {
    throw new FeeNotComputableError(
      'refund_exceeds_original',
      scheduleId,
      `refunds of ${amt(earlier.plus(refunded))} exceed the original payment of ${amt(original)}`,
    );
  }
  const { raw, text } = priceAmount(s, original);
  const charged = applyRounding(raw, s.rounding);

  if (s.refundFee === 'returned_full') {
    if (earlier.isZero()) {
      return {
        expected: negate(charged),
        rule: `refund of ${amt(refunded)} on a payment of ${amt(original)}: its whole fee is returned (returned_full): ${text}; ${roundingText(s, charged)}`,
        scheduleId,
      };
    }
    return {
      expected: ZERO,
      rule: `refund of ${amt(refunded)} on a payment of ${amt(original)}: the fee was already returned in full with an earlier refund (returned_full)`,
      scheduleId,
    };
  }

  // returned_pro_rata, cumulative: what all refunds so far return, minus what the earlier ones returned.
  const upToNow = applyRounding(raw.times(earlier.plus(refunded)).dividedBy(original), s.rounding);
  const before = applyRounding(raw.times(earlier).dividedBy(original), s.rounding);
  const back = upToNow.minus(before);
  const share = `${amt(refunded)}/${amt(original)}`;
  const detail = earlier.isZero()
    ? `fee of the payment (${text}) × ${share}, ${roundingText(s, back)}`
    : `fee of the payment (${text}) × (${amt(earlier)} + ${amt(refunded)})/${amt(original)} rounded = ${upToNow.toFixed(s.rounding.places)}, minus ${before.toFixed(s.rounding.places)} returned by earlier refunds = ${back.toFixed(s.rounding.places)}`;
  return { expected: negate(back), rule: `refund of ${amt(refunded)}: returned pro rata: ${detail}`, scheduleId };
}

/**
 * Compares the fee charged with the fee expected (same sign convention): `overcharge` when the merchant
 * paid more (or got back less) than the schedule says, `undercharge` when less, `match` when the difference
 * is within the absolute `tolerance` (inclusive; default 0: exact, numerically, so 0.6 = 0.60000).
 */
export function compareFee(expected: Decimal, actual: Decimal, tolerance: Decimal = ZERO): FeeComparison {
  if (tolerance.isNegative()) throw new RangeError(`tolerance must not be negative: ${tolerance.toString()}`);
  const diff = actual.minus(expected);
  if (diff.abs().lte(tolerance)) return 'match';
  return diff.isPositive() ? 'overcharge' : 'undercharge';
}
