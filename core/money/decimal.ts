import { Decimal as DecimalJs } from 'decimal.js';

/**
 * The one Decimal constructor of walletrecon. Every amount in code is an instance of it; a JS `number`
 * never holds money. Precision 40 covers numeric(24,6) sums of tens of millions of lines with room to
 * spare. Half-even is the default only for the rare place that divides; each provider states its own
 * rounding rule next to its parser.
 */
export const Decimal = DecimalJs.clone({
  precision: 40,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -40,
  toExpPos: 40,
});
export type Decimal = DecimalJs;

export const ZERO = new Decimal(0);

const DECIMAL_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** True when `text` is a plain decimal numeral (no exponent, no thousands separators, no currency sign). */
export function isDecimalText(text: string): boolean {
  return DECIMAL_TEXT.test(text);
}

/**
 * Parses a plain decimal numeral straight from its source text. Returns `undefined` for anything else,
 * so that the caller can raise an error naming its own file, line and field.
 */
export function parseDecimal(text: string): Decimal | undefined {
  const t = text.trim();
  const hit = parsed.get(t);
  if (hit !== undefined) return hit;
  if (!DECIMAL_TEXT.test(t)) return undefined;
  const value = new Decimal(t);
  if (parsed.size >= PARSED_CACHE_SIZE) parsed.clear();
  parsed.set(t, value);
  return value;
}

// Statements repeat the same amount texts (0.00, common prices, fees) over and over; a Decimal is
// immutable, so one instance per text serves them all.
const PARSED_CACHE_SIZE = 50_000;
const parsed = new Map<string, Decimal>();

export function sum(values: Iterable<Decimal>): Decimal {
  let total = ZERO;
  for (const v of values) total = total.plus(v);
  return total;
}
