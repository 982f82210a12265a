import { Decimal, ZERO } from './decimal.js';

const SCALE_DIGITS = 9;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** Whole parts of up to this many digits are exact JS integers (< 10¹⁵ < 2⁵³). */
const WHOLE_DIGITS = 15;
/** The running Number sums move into the BigInt before one more value could take them past 2⁵³. */
const FLUSH_AT = 2 ** 52;

/**
 * An exact running total of decimal numerals. Whole parts and fractions (in 10⁻⁹ units) add up in two
 * JS numbers, exact as integers below 2⁵³ and moved into a BigInt before they get there: a control total
 * over millions of lines costs two integer additions per value, where a BigInt per value cost 1.3 s of a
 * 1M-line load. A numeral with more than nine decimals or fifteen whole digits (none of our providers
 * writes one) is added as a Decimal instead, so the total stays exact whatever comes.
 */
export class DecimalSum {
  private whole = 0;
  private fraction = 0;
  private units = 0n;
  private rest: Decimal | null = null;

  /** Adds a plain decimal numeral, already checked with `isDecimalText` (sign, digits, optional point). */
  add(text: string): void {
    if (text === '0' || text === '0.00') return; // most of a statement's amount cells
    const length = text.length;
    let start = 0;
    let negative = false;
    const c = text.charCodeAt(0);
    if (c === 45 /* - */) {
      negative = true;
      start = 1;
    } else if (c === 43 /* + */) start = 1;
    const dot = text.indexOf('.', start);
    const wholeEnd = dot < 0 ? length : dot;
    const fractionDigits = dot < 0 ? 0 : length - dot - 1;
    if (fractionDigits > SCALE_DIGITS || wholeEnd - start > WHOLE_DIGITS) {
      this.rest = (this.rest ?? ZERO).plus(new Decimal(text));
      return;
    }
    let w = 0;
    for (let i = start; i < wholeEnd; i++) w = w * 10 + (text.charCodeAt(i) - 48);
    let f = 0;
    for (let i = wholeEnd + 1; i < length; i++) f = f * 10 + (text.charCodeAt(i) - 48);
    f *= POW10[SCALE_DIGITS - fractionDigits]!;
    if (negative) {
      this.whole -= w;
      this.fraction -= f;
    } else {
      this.whole += w;
      this.fraction += f;
    }
    if (Math.abs(this.whole) >= FLUSH_AT || Math.abs(this.fraction) >= FLUSH_AT) this.flush();
  }

  /** Adds a Decimal (a value already computed). */
  addDecimal(value: Decimal): void {
    this.rest = (this.rest ?? ZERO).plus(value);
  }

  isZero(): boolean {
    this.flush();
    return this.units === 0n && (this.rest === null || this.rest.isZero());
  }

  value(): Decimal {
    this.flush();
    const negative = this.units < 0n;
    const digits = (negative ? -this.units : this.units).toString().padStart(SCALE_DIGITS + 1, '0');
    const total = new Decimal(`${negative ? '-' : ''}${digits.slice(0, -SCALE_DIGITS)}.${digits.slice(-SCALE_DIGITS)}`);
    return this.rest === null ? total : total.plus(this.rest);
  }

  private flush(): void {
    if (this.whole === 0 && this.fraction === 0) return;
    this.units += BigInt(this.whole) * SCALE + BigInt(this.fraction);
    this.whole = 0;
    this.fraction = 0;
  }
}
