/**
 * Fee schedules: what each provider is contracted to charge, as data an accountant writes (see
 * `reconcile/fees/README.md` for the file format and `fixtures/fees/example-fees.json` for an example).
 *
 * One schedule ENTRY prices the payments, refunds and chargebacks of one provider in one currency,
 * optionally narrowed to an account, a payment method and/or a wallet, optionally for a validity period.
 *
 * Rules (the fee before caps and rounding, on A = |gross| of the line):
 * - `percentage`            A × rate
 * - `flat`                  flat
 * - `percentage_plus_flat`  A × rate + flat                     (PayPal 3.49% + 0.49, Stripe 2.9% + 0.30)
 * - `tiered`                bands on A, the amount of the line itself (per transaction), each band with a
 *                           rate and/or a flat; `up_to` is inclusive, the last band is open-ended.
 *                           `tier_mode: "whole_amount"`: the band A falls into prices all of A;
 *                           `tier_mode: "graduated"`: each slice of A is priced at its band's rate, plus the
 *                           flat of every band A reaches (like tax brackets).
 *   Tiers by monthly VOLUME are not supported: they depend on every other line of the month, which a pure
 *   per-line function cannot know; write one entry per volume level with `from`/`to` instead.
 * Then `min` / `max` caps apply to that fee, and the capped fee is rounded ONCE, with the entry's
 * `rounding: { places, mode }`. Refunds follow `refund_fee`; chargebacks cost `chargeback_fee`.
 *
 * Resolution: of the entries whose provider, currency, validity and selectors match a line, the one with the
 * most selectors (account, payment_method, wallet) wins; two matching entries with the same number of
 * selectors are an error (`ambiguous`), never a guess. The loader rejects any two entries that could ever
 * tie that way, so a loaded file never raises it.
 */
import type { Decimal } from '../../core/money/index.js';
import type { LineType, ProviderId } from '../../parsers/contract.js';
import { localDate } from '../../core/time.js';
import { FeeScheduleError } from './errors.js';

export const RULE_KINDS = ['percentage', 'flat', 'percentage_plus_flat', 'tiered'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const ROUNDING_MODES = ['half_up', 'half_even', 'down', 'up'] as const;
/** `half_up`: 0.125 → 0.13; `half_even`: 0.125 → 0.12, 0.135 → 0.14; `down`: towards zero; `up`: away from zero. */
export type RoundingMode = (typeof ROUNDING_MODES)[number];

export const REFUND_FEE_POLICIES = ['returned_pro_rata', 'not_returned', 'returned_full'] as const;
/**
 * What happens to the payment's fee when it is refunded:
 * - `not_returned`: nothing comes back (expected fee of the refund line: 0);
 * - `returned_pro_rata`: the share refunded comes back: fee × refunded / original, computed cumulatively over
 *   the payment's refunds so that refunding everything returns exactly the fee charged;
 * - `returned_full`: the whole fee comes back with the payment's first refund, even a partial one.
 */
export type RefundFeePolicy = (typeof REFUND_FEE_POLICIES)[number];

export const TIER_MODES = ['whole_amount', 'graduated'] as const;
export type TierMode = (typeof TIER_MODES)[number];

export interface Rounding {
  places: number;
  mode: RoundingMode;
}

/** A rate, as a fraction (0.006), with the text the file wrote (`0.60%`). */
export interface Rate {
  value: Decimal;
  text: string;
}

export interface TierBand {
  /** Inclusive upper bound of the band on |gross|; null for the last, open-ended band. */
  upTo: Decimal | null;
  rate: Rate | null;
  flat: Decimal | null;
}

export type FeeRule =
  | { kind: 'percentage'; rate: Rate }
  | { kind: 'flat'; flat: Decimal }
  | { kind: 'percentage_plus_flat'; rate: Rate; flat: Decimal }
  | { kind: 'tiered'; mode: TierMode; bands: TierBand[] };

/** One schedule entry, validated. Selectors are stored lower-cased; null = any value. */
export interface FeeSchedule {
  id: string;
  provider: ProviderId;
  currency: string;
  account: string[] | null;
  paymentMethod: string[] | null;
  wallet: string[] | null;
  /** Inclusive calendar dates `YYYY-MM-DD`, in the provider's time zone; null = unbounded. */
  from: string | null;
  to: string | null;
  rule: FeeRule;
  min: Decimal | null;
  max: Decimal | null;
  rounding: Rounding;
  refundFee: RefundFeePolicy;
  /** Fee charged per chargeback (positive); null when the schedule states none (chargebacks not priceable). */
  chargebackFee: Decimal | null;
  note: string | null;
  /** Where the entry was written, for messages. */
  source: { file: string; path: string };
}

/** What resolution and pricing need of a line: a `StatementLine` fits, plus the account when known. */
export interface FeeLine {
  provider: ProviderId;
  type: LineType;
  gross: Decimal;
  currency: string;
  paymentMethod: string | null;
  wallet: string | null;
  occurredAt: Date;
  /** The provider account (Alipay 账号, WeChat 商户号, Adyen merchant account), when known. */
  account?: string | null;
}

/**
 * The time zone of each provider's calendar days, for `from` / `to`. Same values as the parsers'
 * `*_TIME_ZONE` constants (a test checks they agree); kept here so pricing does not load the parsers.
 */
export const PROVIDER_TIME_ZONES: Readonly<Record<ProviderId, string>> = Object.freeze({
  alipay: 'Asia/Shanghai',
  wechatpay: 'Asia/Shanghai',
  paypal: 'America/Los_Angeles',
  stripe: 'Etc/UTC',
  adyen: 'Etc/UTC',
});

/** Number of selectors an entry sets: 0 (provider-wide) to 3 (account + method + wallet). */
export function specificity(s: FeeSchedule): number {
  return (s.account ? 1 : 0) + (s.paymentMethod ? 1 : 0) + (s.wallet ? 1 : 0);
}

function selectorMatches(selector: string[] | null, value: string | null | undefined): boolean {
  if (selector === null) return true;
  if (value === null || value === undefined) return false;
  return selector.includes(value.trim().toLowerCase());
}

/** The calendar day of the line in its provider's zone, `YYYY-MM-DD`. */
export function lineDate(line: Pick<FeeLine, 'provider' | 'occurredAt'>): string {
  return localDate(line.occurredAt, PROVIDER_TIME_ZONES[line.provider]);
}

/** Does the entry apply to the line (provider, currency, validity, selectors)? */
export function scheduleMatches(s: FeeSchedule, line: FeeLine, day: string = lineDate(line)): boolean {
  if (s.provider !== line.provider || s.currency !== line.currency) return false;
  if (s.from !== null && day < s.from) return false;
  if (s.to !== null && day > s.to) return false;
  return selectorMatches(s.account, line.account) && selectorMatches(s.paymentMethod, line.paymentMethod) && selectorMatches(s.wallet, line.wallet);
}

function describe(s: FeeSchedule): string {
  return `${JSON.stringify(s.id)} (${s.source.path})`;
}

/**
 * The entry that prices `line`: the most specific of those that match, or null when none does (the line
 * is then "not priceable" for the caller). Two matching entries of equal specificity throw
 * `FeeScheduleError` with code `ambiguous`.
 */
export function resolveSchedule(schedules: readonly FeeSchedule[], line: FeeLine): FeeSchedule | null {
  const day = lineDate(line);
  let best: FeeSchedule | null = null;
  let bestSpec = -1;
  let tie: FeeSchedule | null = null;
  for (const s of schedules) {
    if (!scheduleMatches(s, line, day)) continue;
    const spec = specificity(s);
    if (spec > bestSpec) {
      best = s;
      bestSpec = spec;
      tie = null;
    } else if (spec === bestSpec) {
      tie = s;
    }
  }
  if (best !== null && tie !== null) {
    throw new FeeScheduleError(
      'ambiguous',
      best.source.file,
      best.source.path,
      `a ${line.provider} ${line.type} of ${line.currency} on ${day} (method ${JSON.stringify(line.paymentMethod)}, wallet ${JSON.stringify(line.wallet)}) matches both ${describe(best)} and ${describe(tie)} with the same specificity; add a more specific entry or narrow one of them`,
    );
  }
  return best;
}

function intersects(a: string[], b: string[]): boolean {
  return a.some((v) => b.includes(v));
}

function periodsOverlap(a: FeeSchedule, b: FeeSchedule): boolean {
  const aFrom = a.from ?? '0000-00-00';
  const bFrom = b.from ?? '0000-00-00';
  const aTo = a.to ?? '9999-99-99';
  const bTo = b.to ?? '9999-99-99';
  return aFrom <= bTo && bFrom <= aTo;
}

/**
 * True when some line could match both entries with the same specificity — exactly the pairs that would
 * make `resolveSchedule` throw. Same provider, currency and specificity, overlapping periods, and on every
 * selector that both set, a common value (a selector only one of them sets can always be satisfied).
 */
export function couldTie(a: FeeSchedule, b: FeeSchedule): boolean {
  if (a.provider !== b.provider || a.currency !== b.currency) return false;
  if (specificity(a) !== specificity(b)) return false;
  if (!periodsOverlap(a, b)) return false;
  for (const key of ['account', 'paymentMethod', 'wallet'] as const) {
    const x = a[key];
    const y = b[key];
    if (x !== null && y !== null && !intersects(x, y)) return false;
  }
  return true;
}

/** Throws `FeeScheduleError` (`overlap`) for the first pair of entries that could tie. */
export function assertNoOverlap(schedules: readonly FeeSchedule[]): void {
  for (let i = 0; i < schedules.length; i++) {
    for (let j = i + 1; j < schedules.length; j++) {
      const a = schedules[i]!;
      const b = schedules[j]!;
      if (couldTie(a, b)) {
        throw new FeeScheduleError(
          'overlap',
          b.source.file,
          b.source.path,
          `overlaps ${describe(a)}: same provider (${a.provider}), currency (${a.currency}) and specificity (${specificity(a)} selector(s)), overlapping validity, so a line could match both; narrow the selectors or split the dates (from/to are inclusive)`,
        );
      }
    }
  }
}
