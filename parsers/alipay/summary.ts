import { StatementFormatError } from '../../core/errors.js';
import type { Decimal } from '../../core/money/index.js';
import { amountField } from '../common/fields.js';
import type { ControlTotals } from '../common/control-totals.js';
import { mapHeader, SUMMARY_COLUMNS, type HeaderMap, type SummaryColumn } from './columns.js';
import { isBlank, isEnvelope, splitCells } from './envelope.js';
import type { LineReader } from './input.js';
import type { TradeTotals } from './trade.js';

/** The 合计 row of a 业务明细(汇总) member (formats.md §1.5). */
export interface TradeSummaryTotal {
  file: string;
  member: string;
  line: number;
  names: Partial<Record<SummaryColumn, string>>;
  paymentCount: number;
  refundCount: number;
  received: Decimal;
  serviceFee: Decimal | undefined;
  netReceived: Decimal | undefined;
  orderAmount: Decimal | undefined;
}

/** Reads a 业务明细(汇总) member (small: one row per store) down to its 合计 row. */
export async function readTradeSummary(reader: LineReader, file: string, member: string): Promise<TradeSummaryTotal> {
  let header: HeaderMap<SummaryColumn> | undefined;
  for (;;) {
    const tl = await reader.next();
    if (tl === undefined) break;
    const { line, text } = tl;
    if (isEnvelope(text)) {
      if (text.includes('明细查询')) {
        throw new StatementFormatError('unknown_layout', { file, line }, 'the 汇总 member is not a 业务汇总 (it reads as a detail file)');
      }
      continue;
    }
    if (isBlank(text)) continue;
    const cells = splitCells(text, { file, line });
    if (header === undefined) {
      header = mapHeader(cells, SUMMARY_COLUMNS, [['paymentCount'], ['refundCount'], ['received']], { file, line }, '业务明细(汇总)');
      continue;
    }
    if (cells[0] !== '合计') continue;
    const h = header;
    const cell = (k: SummaryColumn): string => {
      const i = h.index[k];
      return i === undefined ? '' : (cells[i] ?? '');
    };
    const count = (k: SummaryColumn): number => {
      const t = cell(k);
      if (!/^\d+$/.test(t)) throw new StatementFormatError('bad_amount', { file, line, field: h.names[k] }, `${JSON.stringify(t)} is not a count`);
      return Number.parseInt(t, 10);
    };
    const amount = (k: SummaryColumn): Decimal | undefined =>
      h.index[k] === undefined || cell(k) === '' ? undefined : amountField(cell(k), { file, line, field: h.names[k]! });
    return {
      file,
      member,
      line,
      names: h.names,
      paymentCount: count('paymentCount'),
      refundCount: count('refundCount'),
      received: amountField(cell('received'), { file, line, field: h.names.received! }),
      serviceFee: amount('serviceFee'),
      netReceived: amount('netReceived'),
      orderAmount: amount('orderAmount'),
    };
  }
  throw new StatementFormatError('truncated', { file, line: reader.last }, `the 业务明细(汇总) ends at line ${reader.last} without its 合计 row: it is truncated`);
}

/** Checks the 汇总 合计 row against what the 业务明细 rows add up to. */
export function checkTradeSummary(total: TradeSummaryTotal, lines: TradeTotals, controls: ControlTotals): void {
  const all = ['payment', 'refund', 'adjustment'] as const;
  const base = { member: total.member, line: total.line };
  const label = (k: SummaryColumn): string => `业务明细(汇总) 合计 ${total.names[k] ?? SUMMARY_COLUMNS[k][0]}`;
  controls.check({ label: label('paymentCount'), ...base, currency: null, expected: String(total.paymentCount), actual: lines.paymentCount, measure: { of: 'count', types: ['payment'] } });
  controls.check({ label: label('refundCount'), ...base, currency: null, expected: String(total.refundCount), actual: lines.refundCount, measure: { of: 'count', types: ['refund'] } });
  controls.check({ label: label('received'), ...base, currency: 'CNY', expected: total.received, actual: lines.received, measure: { of: 'gross', types: [...all] } });
  if (total.serviceFee !== undefined) {
    // As written (merchant's cash view, see fee.ts); the canonical fee is checked through 实收净额 = net.
    controls.check({ label: label('serviceFee'), ...base, currency: 'CNY', expected: total.serviceFee, actual: lines.serviceFee });
  }
  if (total.netReceived !== undefined) {
    controls.check({ label: label('netReceived'), ...base, currency: 'CNY', expected: total.netReceived, actual: lines.net, measure: { of: 'net', types: [...all] } });
  }
  if (total.orderAmount !== undefined && lines.hasOrderAmount) {
    controls.check({ label: label('orderAmount'), ...base, currency: 'CNY', expected: total.orderAmount, actual: lines.orderAmount });
  }
}
