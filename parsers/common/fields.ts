import { StatementFormatError, type StatementLocation } from '../../core/errors.js';
import { parseDecimal, type Decimal } from '../../core/money/index.js';

/** Parses an amount cell, or throws naming the file, line and field. Empty is an error unless allowed. */
export function amountField(text: string, loc: StatementLocation & { field: string }, opts: { emptyAs?: Decimal } = {}): Decimal {
  const t = text.trim();
  if (t === '' && opts.emptyAs !== undefined) return opts.emptyAs;
  const value = parseDecimal(t);
  if (value === undefined) {
    throw new StatementFormatError('bad_amount', loc, `${JSON.stringify(text)} is not a decimal amount`);
  }
  return value;
}

/** Maps a header row to column indexes by name. Names are normalised by `normalise` before lookup. */
export function indexHeader(cells: readonly string[], normalise: (name: string) => string = (n) => n.trim()): Map<string, number> {
  const index = new Map<string, number>();
  cells.forEach((cell, i) => {
    const name = normalise(cell);
    if (name !== '' && !index.has(name)) index.set(name, i);
  });
  return index;
}

/** Full-width ASCII variants (（元） → (元)) and surrounding whitespace removed, for header matching. */
export function normaliseHeaderName(name: string): string {
  return name
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
}

/** Empty cell → null, for optional ids and texts. */
export const orNull = (text: string | undefined): string | null => {
  if (text === undefined) return null;
  const t = text.trim();
  return t === '' ? null : t;
};
