import { parse as parseCsv } from 'csv-parse/sync';
import { StatementFormatError, type StatementLocation } from '../../core/errors.js';
import { parseNaiveTime } from '../../core/time.js';
import { stripCell } from './columns.js';

/** Alipay's time zone: bill times are naive China Standard Time (formats.md §1.4). */
export const ALIPAY_TIME_ZONE = 'Asia/Shanghai';

/** A `#` envelope line: any line whose first cell starts with `#` (some re-saves append commas). */
export const isEnvelope = (text: string): boolean => /^[\s"\uFEFF]*#/.test(text);

/** A line with nothing but separators and whitespace. */
export const isBlank = (text: string): boolean => /^[\s,"]*$/.test(text);

/** Splits one data line with a real CSV parser (quoted cells may hold commas) and trims every cell. */
export function splitCells(text: string, loc: StatementLocation): string[] {
  let records: string[][];
  try {
    records = parseCsv(text, { relax_quotes: true, relax_column_count: true, trim: true, skip_empty_lines: false }) as string[][];
  } catch (err) {
    throw new StatementFormatError('bad_csv', loc, `the line is not valid CSV (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return (records[0] ?? []).map(stripCell);
}

/** Facts of the `#` header lines: `#账号：[…]`, `#起始日期：[…]   终止日期：[…]`. */
export interface Envelope {
  account: string | null;
  period: { start: Date; end: Date } | null;
}

const CN_DATETIME = /^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

/** `2019年09月16日 00:00:00` (or `2019-09-16 00:00:00`) in Asia/Shanghai → instant. */
export function parseEnvelopeTime(text: string): Date | undefined {
  const t = text.trim();
  const m = CN_DATETIME.exec(t);
  if (!m) return parseNaiveTime(t, ALIPAY_TIME_ZONE);
  const [y, mo, d, h, mi, s] = [m[1]!, m[2]!, m[3]!, m[4] ?? '0', m[5] ?? '00', m[6] ?? '00'];
  return parseNaiveTime(`${y}-${mo}-${d} ${h}:${mi}:${s}`, ALIPAY_TIME_ZONE);
}

/** Reads the account and period facts of an envelope line into `env`. */
export function readEnvelopeFacts(text: string, env: Envelope, loc: StatementLocation): void {
  const account = /账号[：:]\s*\[([^\]]*)\]/.exec(text);
  if (account && env.account === null) env.account = account[1]!.trim() || null;
  const start = /起始日期[：:]\s*\[([^\]]*)\]/.exec(text);
  const end = /终止日期[：:]\s*\[([^\]]*)\]/.exec(text);
  if (start && end) {
    const s = parseEnvelopeTime(start[1]!);
    if (!s) throw new StatementFormatError('bad_date', { ...loc, field: '起始日期' }, `${JSON.stringify(start[1])} is not a date and time`);
    const e = parseEnvelopeTime(end[1]!);
    if (!e) throw new StatementFormatError('bad_date', { ...loc, field: '终止日期' }, `${JSON.stringify(end[1])} is not a date and time`);
    env.period = { start: s, end: e };
  }
}

/** A `#交易合计：N笔，商家实收共X元，…` style footer line, read tolerantly (wording varies by year). */
export interface TotalLine {
  count: number;
  /** What the first amount is called (`商家实收`, `商家实收退款`, `交易金额`, …). */
  amountLabel: string;
  amount: string;
}

export function parseTotalLine(text: string, loc: StatementLocation & { field: string }): TotalLine {
  const count = /(\d+)\s*笔/.exec(text);
  const amount = /([^，,：:；;\s#]*?)\s*共\s*(-?\d+(?:\.\d+)?)\s*元/.exec(text) ?? /()(-?\d+(?:\.\d+)?)\s*元/.exec(text);
  if (!count || !amount) {
    throw new StatementFormatError('bad_amount', loc, `cannot read the count (N笔) and amount (X元) of the control total line ${JSON.stringify(text)}`);
  }
  return { count: Number.parseInt(count[1]!, 10), amountLabel: amount[1]! || '金额', amount: amount[2]! };
}
