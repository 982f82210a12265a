import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputRejectedError } from '../../core/errors.js';
import { Decimal } from '../../core/money/index.js';
import type { ProviderId } from '../../parsers/contract.js';
import { collect } from '../../parsers/common/parsed-statement.js';
import { wechatpayParser } from '../../parsers/wechatpay/index.js';
import { WECHATPAY_TIME_ZONE } from '../../parsers/wechatpay/structure.js';
import { ALIPAY_TIME_ZONE } from '../../parsers/alipay/envelope.js';
import { PAYPAL_TIME_ZONE } from '../../parsers/paypal/parse.js';
import { STRIPE_TIME_ZONE } from '../../parsers/stripe/parse.js';
import { ADYEN_TIME_ZONE } from '../../parsers/adyen/parse.js';
import { FeeNotComputableError, FeeScheduleError } from './errors.js';
import { compareFee, expectedFee } from './expected-fee.js';
import { FEE_FILE_FORMAT, loadFeeSchedules, parseFeeSchedules, validateFeeSchedules } from './load.js';
import { PROVIDER_TIME_ZONES, resolveSchedule, type FeeLine, type FeeSchedule } from './schedule.js';
import { whatIf, type WhatIfLine } from './what-if.js';

const EXAMPLE = 'fixtures/fees/example-fees.json';
const d = (v: string) => new Decimal(v);

/** Asserts a Decimal by its exact text at the given places (so 0.6 vs 0.60 mismatches are visible). */
function expectAmount(actual: Decimal, expected: string): void {
  expect(actual.toFixed(Math.max(actual.decimalPlaces(), (expected.split('.')[1] ?? '').length))).toBe(expected);
}

type Entry = Record<string, unknown>;

function doc(schedules: Entry[], extra: Entry = {}): Entry {
  return { format: FEE_FILE_FORMAT, schedules, ...extra };
}

const BASE: Entry = {
  id: 't',
  provider: 'stripe',
  currency: 'USD',
  rounding: { places: 2, mode: 'half_up' },
  refund_fee: 'not_returned',
};

/** One entry, validated through the loader (so every test also exercises validation). */
function one(entry: Entry): FeeSchedule {
  return validateFeeSchedules(doc([{ ...BASE, ...entry }]), 'test.json').schedules[0]!;
}

function line(partial: Partial<FeeLine> & { gross?: Decimal } = {}): FeeLine {
  return {
    provider: 'stripe',
    type: 'payment',
    gross: d('100.00'),
    currency: 'USD',
    paymentMethod: null,
    wallet: null,
    occurredAt: new Date('2025-03-01T12:00:00Z'),
    ...partial,
  };
}

const pay = (s: FeeSchedule, gross: string, extra: Partial<FeeLine> = {}) => expectedFee(s, line({ currency: s.currency, provider: s.provider, gross: d(gross), ...extra }));

function loaderError(document: unknown): FeeScheduleError {
  try {
    validateFeeSchedules(document, 'fees.json');
  } catch (err) {
    expect(err).toBeInstanceOf(FeeScheduleError);
    expect(err).toBeInstanceOf(InputRejectedError);
    return err as FeeScheduleError;
  }
  throw new Error('expected the loader to reject the document');
}

describe('fees: rules', () => {
  it('percentage: 0.60% of 100.00 = 0.60, with a readable explanation', () => {
    const s = one({ rule: 'percentage', rate: '0.60%' });
    const r = pay(s, '100.00');
    expectAmount(r.expected, '0.60');
    expect(r.scheduleId).toBe('t');
    expect(r.rule).toBe('0.60% of 100.00 = 0.60; rounded half_up to 2 places: 0.60');
  });

  it('percentage: a rate written as a fraction equals the same rate in percent', () => {
    const a = one({ rule: 'percentage', rate: '0.006' });
    const b = one({ rule: 'percentage', rate: '0.6 %' });
    expectAmount(pay(a, '12.34').expected, '0.07'); // 0.07404
    expectAmount(pay(b, '12.34').expected, '0.07');
    expect(pay(a, '12.34').rule).toContain('0.60% of 12.34 = 0.07404');
  });

  it('flat: the same amount whatever the gross', () => {
    const s = one({ rule: 'flat', flat: '0.30' });
    expectAmount(pay(s, '1.00').expected, '0.30');
    expectAmount(pay(s, '10000.00').expected, '0.30');
    expect(pay(s, '1.00').rule).toBe('flat 0.30; rounded half_up to 2 places: 0.30');
  });

  it('percentage_plus_flat: Stripe 2.9% + 0.30 and PayPal 3.49% + 0.49', () => {
    const stripe = one({ rule: 'percentage_plus_flat', rate: '2.9%', flat: '0.30' });
    expectAmount(pay(stripe, '10.00').expected, '0.59');
    expectAmount(pay(stripe, '100.00').expected, '3.20');
    const paypal = one({ rule: 'percentage_plus_flat', rate: '3.49%', flat: '0.49' });
    expectAmount(pay(paypal, '100.00').expected, '3.98');
    expectAmount(pay(paypal, '12.34').expected, '0.92'); // 0.430666 + 0.49 = 0.920666
    expect(pay(paypal, '12.34').rule).toBe('3.49% of 12.34 + 0.49 = 0.430666 + 0.49 = 0.920666; rounded half_up to 2 places: 0.92');
  });

  it('payments are priced on |gross| (a negative gross gives the same positive fee)', () => {
    const s = one({ rule: 'percentage', rate: '1%' });
    expectAmount(pay(s, '-50.00').expected, '0.50');
  });
});

describe('fees: tiered by the amount of the line', () => {
  const whole = one({
    rule: 'tiered',
    tier_mode: 'whole_amount',
    tiers: [{ up_to: '100.00', flat: '0.35' }, { up_to: '1000.00', rate: '0.3%', flat: '0.10' }, { rate: '0.2%' }],
    max: '5.00',
  });

  it('whole_amount: band edges are inclusive; a cent above each edge is priced by the next band', () => {
    expectAmount(pay(whole, '0.01').expected, '0.35');
    expectAmount(pay(whole, '99.99').expected, '0.35');
    expectAmount(pay(whole, '100.00').expected, '0.35'); // edge
    expectAmount(pay(whole, '100.01').expected, '0.40'); // CONTROL: 0.30003 + 0.10
    expectAmount(pay(whole, '1000.00').expected, '3.10'); // edge: 3.00 + 0.10
    expectAmount(pay(whole, '1000.01').expected, '2.00'); // CONTROL: 2.00002
    expectAmount(pay(whole, '5000.00').expected, '5.00'); // 10.00 capped
    expect(pay(whole, '100.01').rule).toBe('tier 2 (100.00 < amount ≤ 1000.00): 0.30% of 100.01 + 0.10 = 0.40003; rounded half_up to 2 places: 0.40');
    expect(pay(whole, '100.00').rule).toContain('tier 1 (amount ≤ 100.00): 0.35');
    expect(pay(whole, '5000.00').rule).toContain('tier 3 (1000.00 < amount): 0.20% of 5000.00 = 10.00, above max 5.00 → 5.00');
  });

  it('graduated: each slice at its band rate, plus the flat of each band reached', () => {
    const grad = one({
      rule: 'tiered',
      tier_mode: 'graduated',
      tiers: [{ up_to: '100.00', rate: '1%', flat: '0.10' }, { up_to: '1000.00', rate: '0.5%', flat: '0.05' }, { rate: '0.25%' }],
    });
    expectAmount(pay(grad, '50.00').expected, '0.60');
    expectAmount(pay(grad, '100.00').expected, '1.10'); // edge: band 2 not reached
    expectAmount(pay(grad, '100.01').expected, '1.15'); // CONTROL: 1.00 + 0.10 + 0.00005 + 0.05
    expectAmount(pay(grad, '1000.00').expected, '5.65'); // 1.00 + 0.10 + 4.50 + 0.05
    expectAmount(pay(grad, '2000.00').expected, '8.15'); // + 2.50
    expect(pay(grad, '100.01').rule).toBe('graduated tiers: 1.00% of 100.00 + 0.10 + 0.50% of 0.01 + 0.05 = 1.15005; rounded half_up to 2 places: 1.15');
  });
});

describe('fees: min and max caps', () => {
  const s = one({ rule: 'percentage', rate: '0.6%', min: '0.50', max: '5.00' });
  it('applies min below it and max above it, before rounding', () => {
    expectAmount(pay(s, '50.00').expected, '0.50'); // 0.30 → min
    expect(pay(s, '50.00').rule).toContain('below min 0.50 → 0.50');
    expectAmount(pay(s, '100.00').expected, '0.60'); // CONTROL above min
    expect(pay(s, '100.00').rule).not.toContain('min');
    expectAmount(pay(s, '900.00').expected, '5.00'); // 5.40 → max
    expect(pay(s, '900.00').rule).toContain('above max 5.00 → 5.00');
    expectAmount(pay(s, '833.00').expected, '5.00'); // CONTROL: 4.998 rounds to 5.00, not capped
    expect(pay(s, '833.00').rule).not.toContain('max');
    expectAmount(pay(s, '820.00').expected, '4.92');
  });
});

describe('fees: rounding', () => {
  const withMode = (mode: string) => one({ rule: 'percentage', rate: '1%', rounding: { places: 2, mode } });

  it('each mode at a half cent: 1% of 12.50 = 0.125 and 1% of 13.50 = 0.135', () => {
    expectAmount(pay(withMode('half_up'), '12.50').expected, '0.13');
    expectAmount(pay(withMode('half_even'), '12.50').expected, '0.12');
    expectAmount(pay(withMode('down'), '12.50').expected, '0.12');
    expectAmount(pay(withMode('up'), '12.50').expected, '0.13');
    expectAmount(pay(withMode('half_up'), '13.50').expected, '0.14');
    expectAmount(pay(withMode('half_even'), '13.50').expected, '0.14');
    expectAmount(pay(withMode('down'), '13.50').expected, '0.13');
    expectAmount(pay(withMode('up'), '13.50').expected, '0.14');
  });

  it('just off the half cent: 0.1251 and 0.1249', () => {
    expectAmount(pay(withMode('half_even'), '12.51').expected, '0.13');
    expectAmount(pay(withMode('down'), '12.51').expected, '0.12');
    expectAmount(pay(withMode('half_up'), '12.49').expected, '0.12');
    expectAmount(pay(withMode('up'), '12.49').expected, '0.13');
  });

  it('5 places (WeChat-like precision): 0.54% of 0.03 = 0.000162', () => {
    const five = one({ currency: 'CNY', provider: 'wechatpay', rule: 'percentage', rate: '0.54%', rounding: { places: 5, mode: 'half_up' } });
    expectAmount(pay(five, '0.03').expected, '0.00016');
    const fiveUp = one({ currency: 'CNY', provider: 'wechatpay', rule: 'percentage', rate: '0.54%', rounding: { places: 5, mode: 'up' } });
    expectAmount(pay(fiveUp, '0.03').expected, '0.00017');
    const two = one({ currency: 'CNY', provider: 'wechatpay', rule: 'percentage', rate: '39%', rounding: { places: 5, mode: 'half_up' } });
    expectAmount(pay(two, '0.03').expected, '0.01170');
    expect(pay(two, '0.03').rule).toBe('39.00% of 0.03 = 0.01170; rounded half_up to 5 places: 0.01170');
  });

  it('JPY (0 places): places default to the currency minor unit', () => {
    const jpy = one({ currency: 'JPY', rule: 'percentage', rate: '3.6%', rounding: { mode: 'half_up' } });
    expect(jpy.rounding.places).toBe(0);
    expectAmount(pay(jpy, '1234').expected, '44'); // 44.424
    expectAmount(pay(jpy, '125').expected, '5'); // 4.5 half_up
    const even = one({ currency: 'JPY', rule: 'percentage', rate: '3.6%', rounding: { mode: 'half_even' } });
    expectAmount(pay(even, '125').expected, '4'); // 4.5 half_even
    expect(pay(jpy, '1234').rule).toBe('3.60% of 1234 = 44.424; rounded half_up to 0 places: 44');
  });

  it('KWD (3 places): 1.5% + 0.100 and a half-fils case', () => {
    const kwd = one({ currency: 'KWD', rule: 'percentage_plus_flat', rate: '1.5%', flat: '0.100', rounding: { mode: 'half_up' } });
    expect(kwd.rounding.places).toBe(3);
    expectAmount(pay(kwd, '12.345').expected, '0.285'); // 0.185175 + 0.100
    const half = (mode: string) => one({ currency: 'KWD', rule: 'percentage', rate: '2.5%', rounding: { mode } });
    expectAmount(pay(half('half_up'), '0.100').expected, '0.003'); // 0.0025
    expectAmount(pay(half('half_even'), '0.100').expected, '0.002');
  });
});

describe('fees: WeChat Pay rounding inferred from the public sample bill.ALL.csv', () => {
  // 0.03 at 39.00% = 0.0117 is written 0.01000; 0.01 at 39.00% = 0.0039 is written 0.00000. The fee is
  // computed to the fen (2 places) and printed with 5 decimals. half_up, half_even and down all fit this
  // sample; up and 5-place rounding do not.
  const schedule = (places: number, mode: string) =>
    one({ id: `wx-${places}-${mode}`, provider: 'wechatpay', currency: 'CNY', rule: 'percentage', rate: '39.00%', rounding: { places, mode }, refund_fee: 'returned_pro_rata' });

  async function verdicts(s: FeeSchedule): Promise<Record<string, number>> {
    const { lines } = await collect(wechatpayParser.parse({ path: '../shared/samples/wechatpay/bill.ALL.csv' }));
    expect(lines).toHaveLength(45);
    const out: Record<string, number> = {};
    for (const l of lines) {
      expect(l.extra['费率']).toBe('39.00%');
      const v = compareFee(expectedFee(s, l).expected, l.fee);
      out[v] = (out[v] ?? 0) + 1;
    }
    return out;
  }

  it('2 places half_up (and half_even, down) match all 45 lines', async () => {
    expect(await verdicts(schedule(2, 'half_up'))).toEqual({ match: 45 });
    expect(await verdicts(schedule(2, 'half_even'))).toEqual({ match: 45 });
    expect(await verdicts(schedule(2, 'down'))).toEqual({ match: 45 });
  });

  it('CONTROL: 5 places and 2 places up do not', async () => {
    // 5 places: payments expect 0.01170 / 0.00390 (all 31 more than charged), refunds −0.00390 (14 got less back).
    expect(await verdicts(schedule(5, 'half_up'))).toEqual({ undercharge: 31, overcharge: 14 });
    // 2 places up: payments expect 0.02 / 0.01, refunds −0.01.
    expect(await verdicts(schedule(2, 'up'))).toEqual({ undercharge: 31, overcharge: 14 });
  });
});

describe('fees: refunds', () => {
  const refund = (s: FeeSchedule, gross: string, ctx = {}) =>
    expectedFee(s, line({ provider: s.provider, currency: s.currency, type: 'refund', gross: d(gross) }), ctx);
  const ppf = (policy: string) => one({ rule: 'percentage_plus_flat', rate: '2.9%', flat: '0.30', refund_fee: policy });

  it('not_returned: zero', () => {
    const r = refund(ppf('not_returned'), '-50.00');
    expect(r.expected.isZero()).toBe(true);
    expect(r.expected.isNegative()).toBe(false);
    expect(r.rule).toBe('refund of 50.00: the fee is not returned (refund_fee not_returned)');
  });

  it('returned_pro_rata on a pure percentage: rate × refunded amount, negative, no original needed', () => {
    const s = one({ provider: 'wechatpay', currency: 'CNY', rule: 'percentage', rate: '0.60%', refund_fee: 'returned_pro_rata' });
    const r = refund(s, '-50.00');
    expectAmount(r.expected, '-0.30');
    expect(r.rule).toBe('refund of 50.00: 0.60% of 50.00 = 0.30 returned pro rata; rounded half_up to 2 places: 0.30');
    expectAmount(refund(s, '-50.00', { original: { gross: d('100.00') } }).expected, '-0.30');
  });

  it('returned_pro_rata on a partial refund: fee of the payment × refunded / original', () => {
    const s = ppf('returned_pro_rata');
    const r = refund(s, '-25.00', { original: { gross: d('100.00') } });
    expectAmount(r.expected, '-0.80'); // 3.20 × 25/100
    expect(r.rule).toContain('× 25.00/100.00');
    expectAmount(refund(s, '-100.00', { original: { gross: d('100.00') } }).expected, '-3.20'); // full refund: the whole fee
  });

  it('returned_pro_rata over several partial refunds returns exactly the fee charged (no rounding drift)', () => {
    const s = ppf('returned_pro_rata');
    const original = { gross: d('10.00') }; // fee 0.59
    const a = refund(s, '-3.33', { original }).expected; // round(0.19647) = 0.20
    const b = refund(s, '-3.33', { original, earlierRefunds: d('3.33') }).expected; // 0.39 − 0.20
    const c = refund(s, '-3.34', { original, earlierRefunds: d('6.66') }).expected; // 0.59 − 0.39
    expectAmount(a, '-0.20');
    expectAmount(b, '-0.19');
    expectAmount(c, '-0.20');
    expectAmount(a.plus(b).plus(c), '-0.59');
  });

  it('returned_pro_rata with a flat part or caps needs the original payment', () => {
    const s = ppf('returned_pro_rata');
    expect(() => refund(s, '-25.00')).toThrow(FeeNotComputableError);
    try {
      refund(s, '-25.00');
    } catch (err) {
      expect((err as FeeNotComputableError).code).toBe('original_needed');
    }
    const capped = one({ rule: 'percentage', rate: '0.6%', min: '0.50', refund_fee: 'returned_pro_rata' });
    expect(() => refund(capped, '-10.00')).toThrow(/original payment/);
  });

  it('returned_full: the whole fee with the first refund, even a partial one; nothing with later ones', () => {
    const s = ppf('returned_full');
    const original = { gross: d('100.00') };
    expectAmount(refund(s, '-10.00', { original }).expected, '-3.20');
    expect(refund(s, '-10.00', { original, earlierRefunds: d('10.00') }).expected.isZero()).toBe(true);
    expect(() => refund(s, '-10.00')).toThrow(FeeNotComputableError);
  });

  it('a refund beyond the original payment is refused', () => {
    expect(() => refund(ppf('returned_pro_rata'), '-60.00', { original: { gross: d('100.00') }, earlierRefunds: d('50.00') })).toThrow(/exceed/);
  });
});

describe('fees: chargebacks and unpriced lines', () => {
  it('charges the chargeback_fee', () => {
    const s = one({ rule: 'percentage', rate: '1%', chargeback_fee: '15.00' });
    const r = expectedFee(s, line({ type: 'chargeback', gross: d('-100.00') }));
    expectAmount(r.expected, '15.00');
    expect(r.rule).toBe('chargeback fee 15.00 per chargeback');
  });

  it('refuses to price a chargeback without chargeback_fee, a payout, or another currency', () => {
    const s = one({ rule: 'percentage', rate: '1%' });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(FeeNotComputableError);
        return (err as FeeNotComputableError).code;
      }
      return 'no error';
    };
    expect(code(() => expectedFee(s, line({ type: 'chargeback', gross: d('-10.00') })))).toBe('no_chargeback_fee');
    expect(code(() => expectedFee(s, line({ type: 'payout', gross: d('-10.00') })))).toBe('line_type');
    expect(code(() => expectedFee(s, line({ currency: 'EUR' })))).toBe('currency_mismatch');
  });
});

describe('fees: compareFee', () => {
  it('exact by default, numerically (0.60 = 0.60000)', () => {
    expect(compareFee(d('0.60'), d('0.60000'))).toBe('match');
    expect(compareFee(d('0.60'), d('0.61'))).toBe('overcharge');
    expect(compareFee(d('0.60'), d('0.59'))).toBe('undercharge');
  });
  it('with an inclusive absolute tolerance', () => {
    expect(compareFee(d('0.60'), d('0.61'), d('0.01'))).toBe('match');
    expect(compareFee(d('0.60'), d('0.59'), d('0.01'))).toBe('match');
    expect(compareFee(d('0.60'), d('0.62'), d('0.01'))).toBe('overcharge');
    expect(compareFee(d('0.60'), d('0.58'), d('0.01'))).toBe('undercharge');
    expect(() => compareFee(d('0.60'), d('0.60'), d('-0.01'))).toThrow(RangeError);
  });
  it('refunds: getting less back is an overcharge, more an undercharge', () => {
    expect(compareFee(d('-0.30'), d('-0.20'))).toBe('overcharge');
    expect(compareFee(d('-0.30'), d('-0.40'))).toBe('undercharge');
    expect(compareFee(d('-0.30'), d('-0.30000'))).toBe('match');
  });
});

describe('fees: resolution', () => {
  const set = validateFeeSchedules(
    doc([
      { ...BASE, id: 'wide', rule: 'percentage', rate: '2.9%' },
      { ...BASE, id: 'card', payment_method: 'card', rule: 'percentage', rate: '2.5%' },
      { ...BASE, id: 'acct1-card', account: 'acct_1', payment_method: 'card', rule: 'percentage', rate: '2.0%' },
      { ...BASE, id: 'visa-mc', payment_method: ['visa', 'MC'], wallet: 'apple_pay', rule: 'percentage', rate: '1.5%' },
      { ...BASE, id: 'eur', currency: 'EUR', rule: 'percentage', rate: '1.4%' },
    ]),
    'resolve.json',
  ).schedules;
  const id = (l: Partial<FeeLine>) => resolveSchedule(set, line(l))?.id ?? null;

  it('the most specific matching entry wins: account + method > method > provider-wide', () => {
    expect(id({ account: 'acct_1', paymentMethod: 'card' })).toBe('acct1-card');
    expect(id({ account: 'acct_2', paymentMethod: 'card' })).toBe('card');
    expect(id({ paymentMethod: 'card' })).toBe('card');
    expect(id({ account: 'acct_1', paymentMethod: 'sepa' })).toBe('wide');
    expect(id({})).toBe('wide');
  });

  it('selectors compare case-insensitively and may list several values', () => {
    expect(id({ paymentMethod: 'CARD' })).toBe('card');
    expect(id({ paymentMethod: 'mc', wallet: 'apple_pay' })).toBe('visa-mc');
    expect(id({ paymentMethod: 'Visa', wallet: 'Apple_Pay' })).toBe('visa-mc');
    expect(id({ paymentMethod: 'visa', wallet: 'google_pay' })).toBe('wide'); // CONTROL
  });

  it('nothing for another provider or an unconfigured currency', () => {
    expect(id({ currency: 'EUR' })).toBe('eur');
    expect(id({ currency: 'GBP' })).toBeNull();
    expect(id({ provider: 'adyen' })).toBeNull();
  });

  it('a line matching two entries of equal specificity is an error, never a guess', () => {
    const a = validateFeeSchedules(doc([{ ...BASE, id: 'by-method', payment_method: 'card', rule: 'percentage', rate: '2%' }]), 'a.json').schedules;
    const b = validateFeeSchedules(doc([{ ...BASE, id: 'by-wallet', wallet: 'apple_pay', rule: 'percentage', rate: '1%' }]), 'b.json').schedules;
    const both = [...a, ...b];
    expect(resolveSchedule(both, line({ paymentMethod: 'card', wallet: 'google_pay' }))?.id).toBe('by-method');
    expect(resolveSchedule(both, line({ paymentMethod: 'sepa', wallet: 'apple_pay' }))?.id).toBe('by-wallet');
    let err: unknown;
    try {
      resolveSchedule(both, line({ paymentMethod: 'card', wallet: 'apple_pay' }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FeeScheduleError);
    expect((err as FeeScheduleError).code).toBe('ambiguous');
    expect((err as FeeScheduleError).message).toContain('"by-method" (schedules[0])');
    expect((err as FeeScheduleError).message).toContain('"by-wallet" (schedules[0])');
  });

  it('validity dates are inclusive calendar days in the provider time zone', () => {
    const wx = validateFeeSchedules(
      doc([
        { ...BASE, id: 'q1', provider: 'wechatpay', currency: 'CNY', to: '2025-03-31', rule: 'percentage', rate: '0.6%' },
        { ...BASE, id: 'q2', provider: 'wechatpay', currency: 'CNY', from: '2025-04-01', rule: 'percentage', rate: '0.38%' },
        { ...BASE, id: 'jan', provider: 'paypal', currency: 'USD', from: '2025-01-01', to: '2025-01-31', rule: 'percentage', rate: '3%' },
      ]),
      'dates.json',
    ).schedules;
    const at = (provider: ProviderId, iso: string, currency = 'CNY') => resolveSchedule(wx, line({ provider, currency, occurredAt: new Date(iso) }))?.id ?? null;
    expect(at('wechatpay', '2025-03-31T15:59:59Z')).toBe('q1'); // 23:59:59 in Shanghai
    expect(at('wechatpay', '2025-03-31T16:00:00Z')).toBe('q2'); // 00:00 on 04-01 in Shanghai
    expect(at('paypal', '2025-02-01T07:59:59Z', 'USD')).toBe('jan'); // 23:59:59 on 01-31 in Los Angeles
    expect(at('paypal', '2025-02-01T08:00:00Z', 'USD')).toBeNull();
    expect(at('paypal', '2024-12-31T12:00:00Z', 'USD')).toBeNull();
  });

  it('the provider time zones agree with the parsers', () => {
    expect(PROVIDER_TIME_ZONES).toEqual({
      alipay: ALIPAY_TIME_ZONE,
      wechatpay: WECHATPAY_TIME_ZONE,
      paypal: PAYPAL_TIME_ZONE,
      stripe: STRIPE_TIME_ZONE,
      adyen: ADYEN_TIME_ZONE,
    });
  });
});

describe('fees: loader', () => {
  it('loads the example file: all five providers, every rule kind, defaults applied', async () => {
    const set = await loadFeeSchedules(EXAMPLE);
    expect(set.file).toBe('example-fees.json');
    expect(set.title).toMatch(/NOT real contracted prices/);
    expect(set.schedules.map((s) => s.id)).toEqual([
      'alipay-cny', 'wechatpay-cny', 'paypal-usd', 'stripe-usd-card', 'stripe-usd-ach', 'stripe-jpy', 'adyen-eur', 'adyen-eur-ideal', 'adyen-eur-sepa',
    ]);
    expect(new Set(set.schedules.map((s) => s.provider))).toEqual(new Set(['alipay', 'wechatpay', 'paypal', 'stripe', 'adyen']));
    expect(new Set(set.schedules.map((s) => s.rule.kind))).toEqual(new Set(['percentage', 'flat', 'percentage_plus_flat', 'tiered']));
    const byId = new Map(set.schedules.map((s) => [s.id, s]));
    expect(byId.get('wechatpay-cny')!.rounding).toEqual({ places: 2, mode: 'half_up' });
    expect(byId.get('wechatpay-cny')!.refundFee).toBe('returned_pro_rata');
    expect(byId.get('stripe-jpy')!.rounding).toEqual({ places: 0, mode: 'half_up' });
    expect(byId.get('paypal-usd')!.refundFee).toBe('not_returned');
    expect(byId.get('adyen-eur')!.source).toEqual({ file: 'example-fees.json', path: 'schedules[6]' });
    const p = (id: string, gross: string, extra: Partial<FeeLine> = {}) => pay(byId.get(id)!, gross, extra).expected;
    expectAmount(p('alipay-cny', '100.00'), '0.60');
    expectAmount(p('paypal-usd', '100.00'), '3.98');
    expectAmount(p('stripe-usd-card', '100.00'), '3.20');
    expectAmount(p('stripe-usd-ach', '1000.00'), '5.00');
    expectAmount(p('stripe-jpy', '10000'), '360');
    expectAmount(p('adyen-eur', '100.00'), '0.71');
    expectAmount(p('adyen-eur-ideal', '100.00'), '0.29');
    expectAmount(p('adyen-eur-sepa', '500.00'), '1.60');
  });

  it('a file that cannot be read or parsed names itself', async () => {
    await expect(loadFeeSchedules('fixtures/fees/no-such-file.json')).rejects.toMatchObject({ code: 'unreadable', file: 'no-such-file.json' });
    expect(() => parseFeeSchedules('{ "format": ', 'broken.json')).toThrow(/^broken\.json: not valid JSON/);
    const dir = await mkdtemp(join(tmpdir(), 'fees-'));
    const path = join(dir, 'bom.json');
    await writeFile(path, '\ufeff' + JSON.stringify(doc([{ ...BASE, rule: 'flat', flat: '0.30' }])));
    expect((await loadFeeSchedules(path)).schedules).toHaveLength(1);
  });

  const cases: Array<{ name: string; document: unknown; path: string; field?: string; code: string; message: RegExp }> = [
    { name: 'wrong format tag', document: { format: 'fees/0', schedules: [] }, path: 'format', code: 'invalid_value', message: /not a format/ },
    { name: 'unknown top-level key', document: { ...doc([{ ...BASE, rule: 'flat', flat: '1.00' }]), version: 2 }, path: 'version', code: 'unknown_key', message: /unknown key "version"/ },
    { name: 'no schedules', document: doc([]), path: 'schedules', code: 'invalid_value', message: /non-empty/ },
    {
      name: 'unknown key in an entry (a typo)',
      document: doc([{ ...BASE, id: 'a', rule: 'flat', flat: '1.00' }, { ...BASE, id: 'b', currency: 'EUR', rule: 'percentage', rat: '1%' }]),
      path: 'schedules[1].rat', field: 'rat', code: 'unknown_key', message: /unknown key "rat"/,
    },
    { name: 'missing rate', document: doc([{ ...BASE, rule: 'percentage' }]), path: 'schedules[0].rate', field: 'rate', code: 'missing', message: /is required/ },
    { name: 'rate as a JSON number', document: doc([{ ...BASE, rule: 'percentage', rate: 0.006 }]), path: 'schedules[0].rate', code: 'invalid_value', message: /as strings/ },
    { name: 'bare rate that reads as 60%', document: doc([{ ...BASE, rule: 'percentage', rate: '0.6' }]), path: 'schedules[0].rate', code: 'invalid_value', message: /ambiguous: write "60%".*"0\.6%"/ },
    { name: 'rate above 100%', document: doc([{ ...BASE, rule: 'percentage', rate: '120%' }]), path: 'schedules[0].rate', code: 'invalid_value', message: /more than 100%/ },
    { name: 'flat as a JSON number', document: doc([{ ...BASE, rule: 'flat', flat: 0.3 }]), path: 'schedules[0].flat', code: 'invalid_value', message: /write amounts as strings/ },
    { name: 'negative amount', document: doc([{ ...BASE, rule: 'flat', flat: '-0.30' }]), path: 'schedules[0].flat', code: 'invalid_value', message: /non-negative/ },
    { name: 'JPY flat with decimals', document: doc([{ ...BASE, currency: 'JPY', rounding: { mode: 'half_up' }, rule: 'flat', flat: '30.5' }]), path: 'schedules[0].flat', code: 'invalid_value', message: /JPY amounts of this entry take at most 0/ },
    { name: 'a key of another rule', document: doc([{ ...BASE, rule: 'percentage', rate: '1%', flat: '0.30' }]), path: 'schedules[0].flat', code: 'unknown_key', message: /does not belong to a percentage rule/ },
    { name: 'no rounding anywhere', document: doc([{ ...BASE, rounding: undefined, rule: 'flat', flat: '1.00' }]), path: 'schedules[0].rounding', code: 'missing', message: /provider_defaults\.stripe\.rounding/ },
    { name: 'unknown rounding mode', document: doc([{ ...BASE, rounding: { places: 2, mode: 'bankers' }, rule: 'flat', flat: '1.00' }]), path: 'schedules[0].rounding.mode', code: 'invalid_value', message: /half_up, half_even, down, up/ },
    { name: 'places coarser than the currency', document: doc([{ ...BASE, rounding: { places: 1, mode: 'half_up' }, rule: 'flat', flat: '1.00' }]), path: 'schedules[0].rounding.places', code: 'invalid_value', message: /coarser than the 2 minor-unit digits of USD/ },
    { name: 'places not an integer', document: doc([{ ...BASE, rounding: { places: '2', mode: 'half_up' }, rule: 'flat', flat: '1.00' }]), path: 'schedules[0].rounding.places', code: 'invalid_value', message: /whole number/ },
    { name: 'no refund_fee', document: doc([{ ...BASE, refund_fee: undefined, rule: 'flat', flat: '1.00' }]), path: 'schedules[0].refund_fee', code: 'missing', message: /returned_pro_rata, not_returned, returned_full/ },
    { name: 'unknown provider', document: doc([{ ...BASE, provider: 'square', rule: 'flat', flat: '1.00' }]), path: 'schedules[0].provider', code: 'invalid_value', message: /not a provider/ },
    { name: 'lower-case currency', document: doc([{ ...BASE, currency: 'usd', rule: 'flat', flat: '1.00' }]), path: 'schedules[0].currency', code: 'invalid_value', message: /ISO 4217/ },
    { name: 'impossible date', document: doc([{ ...BASE, from: '2025-02-30', rule: 'flat', flat: '1.00' }]), path: 'schedules[0].from', code: 'invalid_value', message: /YYYY-MM-DD/ },
    { name: 'to before from', document: doc([{ ...BASE, from: '2025-03-01', to: '2025-02-01', rule: 'flat', flat: '1.00' }]), path: 'schedules[0].to', code: 'invalid_value', message: /before from/ },
    { name: 'min above max', document: doc([{ ...BASE, rule: 'percentage', rate: '1%', min: '5.00', max: '1.00' }]), path: 'schedules[0].max', code: 'invalid_value', message: /below min/ },
    { name: 'empty selector list', document: doc([{ ...BASE, payment_method: [], rule: 'flat', flat: '1.00' }]), path: 'schedules[0].payment_method', code: 'invalid_value', message: /empty list/ },
    {
      name: 'tiered: the last band is closed',
      document: doc([{ ...BASE, rule: 'tiered', tier_mode: 'whole_amount', tiers: [{ up_to: '100.00', rate: '1%' }, { up_to: '200.00', rate: '0.5%' }] }]),
      path: 'schedules[0].tiers[1].up_to', code: 'invalid_value', message: /open-ended/,
    },
    {
      name: 'tiered: bands that do not rise',
      document: doc([{ ...BASE, rule: 'tiered', tier_mode: 'whole_amount', tiers: [{ up_to: '100.00', rate: '1%' }, { up_to: '100.00', rate: '0.8%' }, { rate: '0.5%' }] }]),
      path: 'schedules[0].tiers[1].up_to', code: 'invalid_value', message: /bands must rise/,
    },
    {
      name: 'tiered: a band with neither rate nor flat',
      document: doc([{ ...BASE, rule: 'tiered', tier_mode: 'graduated', tiers: [{ up_to: '100.00' }, { rate: '0.5%' }] }]),
      path: 'schedules[0].tiers[0]', code: 'missing', message: /a rate, a flat, or both/,
    },
    { name: 'tiered: no tier_mode', document: doc([{ ...BASE, rule: 'tiered', tiers: [{ rate: '0.5%' }] }]), path: 'schedules[0].tier_mode', code: 'missing', message: /is required/ },
    { name: 'duplicate id', document: doc([{ ...BASE, rule: 'flat', flat: '1.00' }, { ...BASE, currency: 'EUR', rule: 'flat', flat: '1.00' }]), path: 'schedules[1].id', code: 'duplicate_id', message: /already the id of schedules\[0\]/ },
    {
      name: 'provider_defaults for an unknown provider',
      document: doc([{ ...BASE, rule: 'flat', flat: '1.00' }], { provider_defaults: { venmo: { refund_fee: 'not_returned' } } }),
      path: 'provider_defaults.venmo', code: 'unknown_key', message: /not a provider/,
    },
    {
      name: 'same selectors, overlapping dates (inclusive)',
      document: doc([
        { ...BASE, id: 'a', to: '2025-03-31', rule: 'percentage', rate: '3%' },
        { ...BASE, id: 'b', from: '2025-03-31', rule: 'percentage', rate: '2%' },
      ]),
      path: 'schedules[1]', code: 'overlap', message: /overlaps "a" \(schedules\[0\]\)/,
    },
    {
      name: 'equal specificity on different selectors (method vs wallet)',
      document: doc([
        { ...BASE, id: 'm', payment_method: 'card', rule: 'percentage', rate: '3%' },
        { ...BASE, id: 'w', wallet: 'apple_pay', rule: 'percentage', rate: '2%' },
      ]),
      path: 'schedules[1]', code: 'overlap', message: /specificity \(1 selector/,
    },
    {
      name: 'selector lists sharing a value',
      document: doc([
        { ...BASE, id: 'a', payment_method: ['visa', 'mc'], rule: 'percentage', rate: '3%' },
        { ...BASE, id: 'b', payment_method: ['MC', 'amex'], rule: 'percentage', rate: '2%' },
      ]),
      path: 'schedules[1]', code: 'overlap', message: /overlaps "a"/,
    },
  ];

  for (const c of cases) {
    it(`rejects: ${c.name} → ${c.path}`, () => {
      const err = loaderError(c.document);
      expect(err.code).toBe(c.code);
      expect(err.file).toBe('fees.json');
      expect(err.path).toBe(c.path);
      if (c.field !== undefined) expect(err.field).toBe(c.field);
      expect(err.message.startsWith(`fees.json: ${c.path}: `)).toBe(true);
      expect(err.message).toMatch(c.message);
    });
  }

  it('accepts what does not overlap: adjacent periods, disjoint lists, different specificity', () => {
    const set = validateFeeSchedules(
      doc([
        { ...BASE, id: 'old', to: '2025-03-30', rule: 'percentage', rate: '3%' },
        { ...BASE, id: 'new', from: '2025-03-31', rule: 'percentage', rate: '2%' },
        { ...BASE, id: 'visa', payment_method: ['visa'], rule: 'percentage', rate: '1.9%' },
        { ...BASE, id: 'amex', payment_method: ['amex'], rule: 'percentage', rate: '3.5%' },
        { ...BASE, id: 'visa-apple', payment_method: 'visa', wallet: 'apple_pay', rule: 'percentage', rate: '1.8%' },
      ]),
      'ok.json',
    );
    expect(set.schedules).toHaveLength(5);
  });
});

describe('fees: what-if', () => {
  async function* stream(lines: WhatIfLine[]): AsyncGenerator<WhatIfLine> {
    for (const l of lines) yield l;
  }
  const at = new Date('2025-03-01T04:00:00Z');
  const wl = (provider: ProviderId, type: WhatIfLine['type'], gross: string, currency: string, paymentMethod: string | null = null): WhatIfLine => ({
    provider, type, gross: d(gross), currency, paymentMethod, wallet: null, occurredAt: at,
  });

  it('prices the volume under every provider, with effective rates and not-priceable counts', async () => {
    const { schedules } = await loadFeeSchedules(EXAMPLE);
    const report = await whatIf(schedules, stream([
      wl('alipay', 'payment', '100.00', 'CNY'),
      wl('wechatpay', 'payment', '200.00', 'CNY', 'JSAPI'),
      wl('wechatpay', 'refund', '-50.00', 'CNY', 'JSAPI'),
      wl('stripe', 'payment', '10.00', 'USD', 'card'),
      wl('paypal', 'payment', '100.00', 'USD'),
      wl('stripe', 'refund', '-10.00', 'USD', 'card'),
      wl('stripe', 'payment', '1234', 'JPY', 'card'),
      wl('adyen', 'payment', '50.00', 'EUR', 'visa'),
      wl('alipay', 'payout', '-100.00', 'CNY'),
      wl('paypal', 'chargeback', '-100.00', 'USD'),
    ]));
    expect(report.linesRead).toBe(10);
    expect(report.skipped).toEqual({ count: 1, byType: { payout: 1 } });
    expect(report.targets.map((t) => t.provider)).toEqual(['alipay', 'wechatpay', 'paypal', 'stripe', 'adyen']);
    const row = (p: ProviderId, c: string) => report.targets.find((t) => t.provider === p)!.rows.find((r) => r.currency === c)!;
    for (const t of report.targets) expect(t.rows.map((r) => r.currency)).toEqual(['CNY', 'USD', 'JPY', 'EUR']);

    for (const p of ['alipay', 'wechatpay'] as const) {
      const r = row(p, 'CNY');
      expect([r.count, r.payments, r.refunds, r.chargebacks]).toEqual([3, 2, 1, 0]);
      expectAmount(r.volume, '300.00');
      expectAmount(r.refundVolume, '50.00');
      expectAmount(r.totalExpectedFee, '1.50'); // 0.60 + 1.20 − 0.30
      expectAmount(r.effectiveRate!, '0.005');
      expect(r.notPriceable.count).toBe(0);
      expect(r.schedulesUsed).toEqual([`${p}-cny`]);
    }
    const paypalUsd = row('paypal', 'USD');
    expect(paypalUsd.count).toBe(4);
    expectAmount(paypalUsd.volume, '110.00');
    expectAmount(paypalUsd.totalExpectedFee, '24.82'); // 0.84 + 3.98 + 0 + 20.00
    expectAmount(paypalUsd.effectiveRate!, '0.22563636');
    const stripeUsd = row('stripe', 'USD');
    expectAmount(stripeUsd.totalExpectedFee, '18.79'); // 0.59 + 3.20 + 0 + 15.00
    expectAmount(stripeUsd.effectiveRate!, '0.17081818');
    expect(stripeUsd.schedulesUsed).toEqual(['stripe-usd-card']);
    expectAmount(row('stripe', 'JPY').totalExpectedFee, '44');
    expectAmount(row('adyen', 'EUR').totalExpectedFee, '0.41');

    const paypalCny = row('paypal', 'CNY');
    expect(paypalCny.count).toBe(0);
    expect(paypalCny.totalExpectedFee.isZero()).toBe(true);
    expect(paypalCny.effectiveRate).toBeNull();
    expect(paypalCny.notPriceable).toEqual({ count: 3, volume: d('350.00'), reasons: { no_schedule: 3 } });
    expect(row('alipay', 'USD').notPriceable.count).toBe(4);
    expectAmount(row('alipay', 'USD').notPriceable.volume, '220.00');
  });

  it('counts a chargeback under a schedule without chargeback_fee as not priceable, and refunds priced as full', async () => {
    const { schedules } = validateFeeSchedules(
      doc([{ ...BASE, id: 'pp', provider: 'paypal', rule: 'percentage_plus_flat', rate: '3.49%', flat: '0.49', refund_fee: 'returned_pro_rata' }]),
      'w.json',
    );
    const report = await whatIf(schedules, [
      wl('stripe', 'payment', '100.00', 'USD'),
      wl('stripe', 'refund', '-10.00', 'USD'),
      { ...wl('stripe', 'refund', '-10.00', 'USD'), original: { gross: d('100.00') } },
      wl('stripe', 'chargeback', '-100.00', 'USD'),
    ]);
    const r = report.targets[0]!.rows[0]!;
    expect(report.targets.map((t) => t.provider)).toEqual(['paypal']);
    expect(r.count).toBe(3);
    expect(r.refundsAssumedFull).toBe(1);
    // 3.98 − 0.84 (assumed full refund of a 10.00 payment) − 0.40 (3.98 × 10/100)
    expectAmount(r.totalExpectedFee, '2.74');
    expect(r.notPriceable).toEqual({ count: 1, volume: d('100.00'), reasons: { no_chargeback_fee: 1 } });
  });
});
