import { describe, expect, it } from 'vitest';
import { Decimal, DecimalSum, formatAmount, fromScaledInteger, minorUnits, parseDecimal, roundToMinor } from '../core/money/index.js';

describe('money', () => {
  it('knows each currency’s minor units as data', () => {
    expect([minorUnits('CNY'), minorUnits('JPY'), minorUnits('KWD'), minorUnits('CLF')]).toEqual([2, 0, 3, 4]);
    expect(() => minorUnits('XXX')).toThrow('unknown currency code "XXX"');
  });

  it('formats with the currency’s minor units and never drops a stored digit', () => {
    expect(formatAmount(new Decimal('0.60000'), 'CNY')).toBe('0.60');
    expect(formatAmount(new Decimal('0.00600'), 'CNY')).toBe('0.006');
    expect(formatAmount(new Decimal('15000'), 'JPY')).toBe('15000');
    expect(formatAmount(new Decimal('1.5'), 'KWD')).toBe('1.500');
    expect(formatAmount(new Decimal('-0.1'), 'USD')).toBe('-0.10');
  });

  it('parses only plain decimal numerals', () => {
    expect(parseDecimal(' 0.11 ')?.toString()).toBe('0.11');
    expect(parseDecimal('.11')?.toString()).toBe('0.11');
    expect(parseDecimal('-23.45')?.toString()).toBe('-23.45');
    for (const bad of ['1,000.00', '1e3', '¥5', '', 'NaN', '0x10']) expect(parseDecimal(bad)).toBeUndefined();
  });

  it('adds exactly where binary floating point does not', () => {
    const sum = ['0.1', '0.2'].map((v) => new Decimal(v)).reduce((a, b) => a.plus(b));
    expect(sum.equals(new Decimal('0.3'))).toBe(true);
  });

  it('rounds half-cent cases with the rounding mode it is given', () => {
    expect(roundToMinor(new Decimal('0.125'), 'CNY', Decimal.ROUND_HALF_EVEN).toFixed(2)).toBe('0.12');
    expect(roundToMinor(new Decimal('0.125'), 'CNY', Decimal.ROUND_HALF_UP).toFixed(2)).toBe('0.13');
    expect(roundToMinor(new Decimal('0.5'), 'JPY', Decimal.ROUND_HALF_UP).toFixed(0)).toBe('1');
  });

  it('reads integer-scaled amounts (PayPal: ×100 in every currency)', () => {
    expect(fromScaledInteger('15000', 2).toFixed(2)).toBe('150.00');
  });
});

describe('DecimalSum', () => {
  it('adds decimal numerals exactly, whatever their sign and number of decimals', () => {
    const texts = ['0.00', '26.64', '-0.15984', '+7', '.5', '3.', '-12.000000001', '0.1234567891', '99999999999999.99'];
    const s = new DecimalSum();
    for (const t of texts) s.add(t);
    const expected = texts.reduce((acc, t) => acc.plus(new Decimal(t)), new Decimal(0));
    expect(s.value().toFixed()).toBe(expected.toFixed());
    expect(s.value().toFixed()).toBe('100000000000025.0936167881');
  });

  it('stays exact past 2⁵³ and with sixteen whole digits or ten decimals', () => {
    const s = new DecimalSum();
    const big = '999999999999999.999999999'; // 15 whole digits, 9 decimals: the widest the fast path takes
    for (let i = 0; i < 1000; i++) s.add(big);
    s.add('-1234567890123456.5'); // 16 whole digits
    s.add('0.0000000001'); // 10 decimals
    s.add('-0.000000001');
    const expected = new Decimal(big).times(1000).minus('1234567890123456.5').plus('0.0000000001').minus('0.000000001');
    expect(s.value().toFixed()).toBe(expected.toFixed());
    expect(s.value().toFixed()).toBe('998765432109876543.4999989991');
  });

  it('agrees with Decimal over many mixed numerals (seeded)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const s = new DecimalSum();
    let expected = new Decimal(0);
    for (let i = 0; i < 5000; i++) {
      const whole = String(next() % 10 ** (1 + (next() % 12)));
      const decimals = next() % 10;
      const fraction = decimals === 0 ? '' : '.' + String(next()).padStart(10, '0').slice(0, decimals);
      const text = (next() % 3 === 0 ? '-' : '') + whole + fraction;
      s.add(text);
      expected = expected.plus(text);
    }
    expect(s.value().toFixed()).toBe(expected.toFixed());
  });

  it('is zero until something that is not zero is added, and takes computed Decimals too', () => {
    const s = new DecimalSum();
    s.add('0.00');
    s.add('-0');
    expect(s.isZero()).toBe(true);
    expect(s.value().toFixed()).toBe('0');
    s.add('-1.5');
    s.addDecimal(new Decimal('0.25'));
    expect(s.isZero()).toBe(false);
    expect(s.value().toFixed()).toBe('-1.25');
  });
});
