import { Decimal, ZERO } from './decimal.js';

const SCALE_DIGITS = 9;

/**
 * An exact running total of decimal numerals, kept as a BigInt count of 10⁻⁹ units: a control total
 * over millions of lines costs one BigInt addition per value instead of a Decimal object and a Decimal
 * addition. A numeral with more than nine decimals (none of our providers writes one) is added as a
 * Decimal instead, so the total stays exact whatever comes.
 */
export class DecimalSum {
  private units = 0n;
  private rest: Decimal | null = null;

  /** Adds a plain decimal numeral, already checked with `isDecimalText` (sign, digits, optional point). */
  add(text: string): void {
    if (text === '0' || text === '0.00') return; // most of a statement's amount cells
    let t = text;
    let negative = false;
    const c = t.charCodeAt(0);
    if (c === 45 /* - */) {
      negative = true;
      t = t.slice(1);
    } else if (c === 43 /* + */) t = t.slice(1);
    const dot = t.indexOf('.');
    const whole = dot < 0 ? t : t.slice(0, dot);
    const fraction = dot < 0 ? '' : t.slice(dot + 1);
    if (fraction.length > SCALE_DIGITS) {
      this.rest = (this.rest ?? ZERO).plus(new Decimal(text));
      return;
    }
    const v = BigInt((whole === '' ? '0' : whole) + fraction.padEnd(SCALE_DIGITS, '0'));
    this.units += negative ? -v : v;
  }

  /** Adds a Decimal (a value already computed). */
  addDecimal(value: Decimal): void {
    this.rest = (this.rest ?? ZERO).plus(value);
  }

  isZero(): boolean {
    return this.units === 0n && (this.rest === null || this.rest.isZero());
  }

  value(): Decimal {
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(SCALE_DIGITS + 1, '0');
    const total = new Decimal(`${negative ? '-' : ''}${digits.slice(0, -SCALE_DIGITS)}.${digits.slice(-SCALE_DIGITS)}`);
    return this.rest === null ? total : total.plus(this.rest);
  }
}
