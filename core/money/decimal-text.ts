/**
 * Decimal numerals read as text (the ledger CSV's amounts): the checks and the canonical text decimal.js
 * would give, without building a Decimal per amount (a million rows a file). Money never becomes a JS number here.
 */

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

/**
 * Decimal places of a plain decimal numeral (the grammar of `isDecimalText`: optional sign, digits with an
 * optional point, or a point and digits) as decimal.js counts them: trailing zeros do not count, so
 * `7.50` has 1 and `7.000` has 0. -1 when `text` is not such a numeral.
 */
export function decimalPlacesOf(text: string): number {
  const n = text.length;
  let i = 0;
  let c = text.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) i = 1;
  const intFrom = i;
  while (i < n && isDigit(text.charCodeAt(i))) i += 1;
  const intDigits = i - intFrom;
  if (i === n) return intDigits > 0 ? 0 : -1;
  if (text.charCodeAt(i) !== 0x2e) return -1;
  i += 1;
  const fracFrom = i;
  let places = 0;
  for (; i < n; i += 1) {
    c = text.charCodeAt(i);
    if (!isDigit(c)) return -1;
    if (c !== 0x30) places = i - fracFrom + 1;
  }
  if (intDigits === 0 && i === fracFrom) return -1;
  return places;
}

/**
 * What decimal.js's `toFixed()` gives for a numeral `decimalPlacesOf` accepted (`places` is its result):
 * no `+`, no leading zeros (`007.50` → `7.5`, `.5` → `0.5`), no trailing fraction zeros, no point without
 * digits after it, `-` only on a non-zero value (`-0.00` → `0`). Plain text work: no number, no rounding.
 */
export function fixedDecimalText(text: string, places: number): string {
  const n = text.length;
  const c0 = text.charCodeAt(0);
  const signed = c0 === 0x2b || c0 === 0x2d;
  let from = signed ? 1 : 0;
  let point = text.indexOf('.', from);
  if (point === -1) point = n;
  while (from < point && text.charCodeAt(from) === 0x30) from += 1;
  const zeroInt = from === point;
  const end = places > 0 ? point + 1 + places : point;
  let body: string;
  if (!zeroInt) body = from === 0 && end === n ? text : text.slice(from, end);
  else if (from > (signed ? 1 : 0)) body = text.slice(from - 1, end); // keep one of the leading zeros
  else body = '0' + text.slice(from, end); // `.5`
  return c0 === 0x2d && (!zeroInt || places > 0) ? '-' + body : body;
}

/** The negation of a plain decimal numeral, as a numeral: `7.50` → `-7.50`, `+7` → `-7`, `-7` → `7`. */
export function negatedNumeral(text: string): string {
  const c0 = text.charCodeAt(0);
  if (c0 === 0x2d) return text.slice(1);
  return c0 === 0x2b ? `-${text.slice(1)}` : `-${text}`;
}
