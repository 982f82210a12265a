import { StatementFormatError } from '../../core/errors.js';
import { Decimal } from '../../core/money/index.js';
import { normaliseHeaderName } from '../common/fields.js';
import type { TextLine } from '../common/text-lines.js';

/** WeChat Pay writes naive China time. */
export const WECHATPAY_TIME_ZONE = 'Asia/Shanghai';

/** The two-character separator of backticked values; a value written `` ,` `` cannot be told from it. */
const SEPARATOR = ',`';

/** Splits a header row (not backticked, comma-separated) into normalised names. */
export function headerCells(text: string): string[] {
  return text.split(',').map(normaliseHeaderName);
}

/** Splits a backticked row (detail or summary values): drop the first backtick, split on `` ,` ``. */
export function backtickedCells(row: TextLine, expected: number, file: string): string[] {
  const cells = row.text.slice(1).split(SEPARATOR);
  if (cells.length !== expected) {
    throw new StatementFormatError(
      'column_count',
      { file, line: row.line },
      `${cells.length} values where the header has ${expected} columns (a value containing ",\`"?)`,
    );
  }
  return cells;
}

export type BillEvent =
  | { kind: 'row'; line: number; cells: string[] }
  | { kind: 'summary'; headerLine: number; header: string[]; valuesLine: number; values: string[] };

const BACKTICK = 0x60;

/**
 * The body of a WeChat bill after its header, a batch of events per batch of lines: backticked detail
 * rows, then the summary header (its first column named `summaryFirst`) and the backticked summary
 * values, which must be the last line (the summary event ends the last batch). A file that stops before
 * the summary is truncated; anything after it (but empty lines) is refused. A bad line ends its batch:
 * the rows before it are yielded, then the error is thrown.
 */
export async function* billBody(
  batches: AsyncIterator<TextLine[]>,
  file: string,
  headerLine: number,
  columnCount: number,
  summaryFirst: string,
): AsyncGenerator<BillEvent[]> {
  let last = headerLine;
  for (;;) {
    const next = await batches.next();
    if (next.done) throw truncated(file, last, `the summary rows (${summaryFirst},…)`);
    const batch = next.value;
    const events: BillEvent[] = [];
    let summaryAt = -1;
    try {
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!;
        last = row.line;
        if (row.text.charCodeAt(0) !== BACKTICK) {
          summaryAt = i;
          break;
        }
        events.push({ kind: 'row', line: row.line, cells: backtickedCells(row, columnCount, file) });
      }
    } catch (err) {
      if (events.length > 0) yield events;
      throw err;
    }
    if (summaryAt === -1) {
      yield events;
      continue;
    }
    if (events.length > 0) yield events;
    yield [await billSummary(batch[summaryAt]!, batch.slice(summaryAt + 1), batches, file, summaryFirst)];
    return;
  }
}

const truncated = (file: string, last: number, what: string) =>
  new StatementFormatError('truncated', { file, line: last }, `the file ends after line ${last} without ${what}: it is truncated`);

/** The summary header row, the values row after it, and nothing but empty lines after those. */
async function billSummary(row: TextLine, rest: TextLine[], batches: AsyncIterator<TextLine[]>, file: string, summaryFirst: string): Promise<BillEvent> {
  const header = headerCells(row.text);
  if (header[0] !== summaryFirst) {
    throw new StatementFormatError(
      'unexpected_line',
      { file, line: row.line },
      `neither a detail row (values start with \`) nor the summary header (${summaryFirst},…)`,
    );
  }
  let pending = rest;
  const following = async (): Promise<TextLine | undefined> => {
    while (pending.length === 0) {
      const next = await batches.next();
      if (next.done) return undefined;
      pending = next.value;
    }
    return pending.shift();
  };
  const valuesRow = await following();
  if (valuesRow === undefined) throw truncated(file, row.line, 'the summary values row');
  if (valuesRow.text.charCodeAt(0) !== BACKTICK) {
    throw new StatementFormatError('unexpected_line', { file, line: valuesRow.line }, 'the summary values row must follow the summary header (values start with `)');
  }
  const values = backtickedCells(valuesRow, header.length, file);
  for (let after = await following(); after !== undefined; after = await following()) {
    if (after.text.trim() !== '') {
      throw new StatementFormatError('trailing_data', { file, line: after.line }, 'data after the summary values row, which must be the last line');
    }
  }
  return { kind: 'summary', headerLine: row.line, header, valuesLine: valuesRow.line, values };
}

const SUMMARY_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A summary value. WeChat writes them float-formatted (`45.0`, `0.0`), so an exponent form is accepted here
 * (parsed by the Decimal constructor from the text, never through a JS number); a count must be whole.
 */
export function summaryNumber(text: string, loc: { file: string; line: number; field: string }, count = false): Decimal {
  const t = text.trim();
  if (!SUMMARY_NUMBER.test(t)) throw new StatementFormatError('bad_amount', loc, `${JSON.stringify(text)} is not a number`);
  const value = new Decimal(t);
  if (count && !value.isInteger()) throw new StatementFormatError('bad_amount', loc, `${JSON.stringify(text)} is not a whole count`);
  return value;
}

