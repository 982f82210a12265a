import { pipeWithErrors } from '../common/decode.js';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { ControlTotalMismatchError, StatementFormatError } from '../../core/errors.js';
import { Decimal, parseDecimal, ZERO, type Decimal as DecimalT } from '../../core/money/index.js';
import { isIsoDate } from '../../core/time.js';
import type { BankControl, BankParseOptions } from './contract.js';

/** Collects a bank file's control totals and throws `ControlTotalMismatchError` on the first that disagrees. */
export class BankControls {
  readonly list: BankControl[] = [];
  constructor(
    private readonly file: string,
    private readonly options: BankParseOptions,
  ) {}

  check(control: Omit<BankControl, 'expected' | 'actual'> & { expected: DecimalT; actual: DecimalT }): void {
    const entry: BankControl = { ...control, expected: control.expected.toString(), actual: control.actual.toString() };
    this.list.push(entry);
    if (!control.expected.equals(control.actual) && !this.options.acceptControlTotalMismatch) {
      throw new ControlTotalMismatchError({ file: this.file, line: control.line, field: control.label }, control.label, entry.expected, entry.actual);
    }
  }
}

/** An unsigned amount with a decimal point (camt). */
export function unsignedAmount(text: string, file: string, line: number, field: string): DecimalT {
  const t = text.trim();
  const value = /^\d+(?:\.\d+)?$/.test(t) ? parseDecimal(t) : undefined;
  if (value === undefined) throw new StatementFormatError('bad_amount', { file, line, field }, `${JSON.stringify(text)} is not an unsigned decimal amount`);
  return value;
}

/** An MT940 amount: digits, a mandatory decimal COMMA, up to 15 characters, leading zeros allowed. */
export function swiftAmount(text: string, file: string, line: number, field: string): DecimalT {
  const t = text.trim();
  const value = /^\d{1,14},\d*$/.test(t) && t.length <= 15 ? parseDecimal(t.replace(',', '.')) : undefined;
  if (value === undefined) throw new StatementFormatError('bad_amount', { file, line, field }, `${JSON.stringify(text)} is not a SWIFT amount (digits with a decimal comma)`);
  return value;
}

export function checkedDate(text: string, file: string, line: number, field: string): string {
  if (!isIsoDate(text)) throw new StatementFormatError('bad_date', { file, line, field }, `${JSON.stringify(text)} is not a valid date`);
  return text;
}

export const signed = (amount: DecimalT, credit: boolean): DecimalT => (credit ? amount : amount.negated());

export const one = new Decimal(1);
export { ZERO };

const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
export const isIban = (text: string): boolean => IBAN.test(text);

/** Collapses white-space runs to one space and trims; empty → null. */
export function cleanText(text: string | null | undefined): string | null {
  if (text === null || text === undefined) return null;
  const t = text.replace(/\s+/g, ' ').trim();
  return t === '' ? null : t;
}

/** Opens a file decoded with iconv, forwarding read errors (ENOENT, EACCES…) to the decoded stream. */
export function decodeFile(path: string, encoding: string): Readable {
  return pipeWithErrors(createReadStream(path), iconv.decodeStream(encoding)) as unknown as Readable;
}
