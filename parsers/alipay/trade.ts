import { ControlTotalMismatchError, StatementFormatError } from '../../core/errors.js';
import { ZERO, type Decimal } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import type { LineType, ParseOptions, StatementLine } from '../contract.js';
import { amountField } from '../common/fields.js';
import type { ControlTotals } from '../common/control-totals.js';
import { mapHeader, TRADE_AMOUNT_COLUMNS, TRADE_COLUMNS, type HeaderMap, type TradeColumn } from './columns.js';
import { ALIPAY_TIME_ZONE, isBlank, isEnvelope, parseTotalLine, splitCells, type TotalLine } from './envelope.js';
import { canonicalFeeFromServiceFee } from './fee.js';
import type { LineReader } from './input.js';

export interface DocContext {
  /** Name for messages: `bill.csv` or `bill.csv.zip!member.csv`. */
  file: string;
  /** Zip member name, or null for a bare file. */
  member: string | null;
  options: ParseOptions;
}

/** What the 业务明细 lines add up to, for the 汇总 member's 合计 row. */
export interface TradeTotals {
  paymentCount: number;
  refundCount: number;
  received: Decimal;
  serviceFee: Decimal;
  net: Decimal;
  orderAmount: Decimal;
  hasOrderAmount: boolean;
}

export interface TradeResult {
  layout: string;
  totals: TradeTotals;
}

const REQUIRED: readonly (readonly TradeColumn[])[] = [['tradeNo'], ['outTradeNo'], ['bizType'], ['completedAt', 'createdAt'], ['received']];

/** 业务类型 → canonical type. Anything else is kept as an adjustment for a person to look at. */
function lineType(bizType: string): { type: LineType; needsReview: boolean } {
  if (bizType === '交易') return { type: 'payment', needsReview: false };
  if (bizType === '退款') return { type: 'refund', needsReview: false };
  return { type: 'adjustment', needsReview: true };
}

/** Amount columns copied to `extra` when they hold a non-zero amount (a zero discount says nothing). */
const EXTRA_AMOUNTS: readonly TradeColumn[] = [
  'alipayRedPacket',
  'jifenbao',
  'alipayDiscount',
  'merchantDiscount',
  'discountTotal',
  'voucherAmount',
  'merchantRedPacket',
  'cardAmount',
  'profitShare',
];
/** Text columns copied to `extra` when non-empty. 对方账户/对账账户 (masked buyer account) are deliberately not kept. */
const EXTRA_TEXTS: readonly TradeColumn[] = ['merchantId', 'storeId', 'storeName', 'store', 'operator', 'terminalId', 'voucherName', 'feeRate', 'remark'];

/**
 * Parses the body of a 业务明细 from just after its `业务明细列表` start marker: the header row, the data
 * rows, the end marker and the `#交易合计` / `#退款合计` footer, which are checked against the rows.
 */
export async function* parseTradeBody(reader: LineReader, ctx: DocContext, controls: ControlTotals): AsyncGenerator<StatementLine, TradeResult> {
  const { file, member } = ctx;
  let header: HeaderMap<TradeColumn> | undefined;
  let ended = false;
  let tradeTotal: { line: number; total: TotalLine } | undefined;
  let refundTotal: { line: number; total: TotalLine } | undefined;
  const totals: TradeTotals = { paymentCount: 0, refundCount: 0, received: ZERO, serviceFee: ZERO, net: ZERO, orderAmount: ZERO, hasOrderAmount: false };
  let paymentGross: Decimal = ZERO;
  let refundGross: Decimal = ZERO;
  let netWritten: Decimal = ZERO;

  for (;;) {
    const tl = await reader.next();
    if (tl === undefined) break;
    const { line, text } = tl;
    if (isEnvelope(text)) {
      if (text.includes('业务明细列表结束')) {
        if (header === undefined) throw new StatementFormatError('unknown_layout', { file, line }, 'the 业务明细 list ends before any header row');
        ended = true;
      } else if (ended && text.includes('交易合计')) {
        tradeTotal = { line, total: parseTotalLine(text, { file, line, field: '#交易合计' }) };
      } else if (ended && text.includes('退款合计')) {
        refundTotal = { line, total: parseTotalLine(text, { file, line, field: '#退款合计' }) };
      }
      continue;
    }
    if (isBlank(text)) continue;
    if (ended) {
      throw new StatementFormatError('unknown_layout', { file, line }, 'a data line after the 业务明细列表结束 marker');
    }
    const cells = splitCells(text, { file, line });
    if (header === undefined) {
      header = mapHeader(cells, TRADE_COLUMNS, REQUIRED, { file, line }, '业务明细');
      totals.hasOrderAmount = header.index.orderAmount !== undefined;
      continue;
    }
    const h: HeaderMap<TradeColumn> = header;
    if (cells.length !== h.width && !(cells.length > h.width && cells.slice(h.width).every((c) => c === ''))) {
      throw new StatementFormatError('column_count', { file, line }, `the row has ${cells.length} cells but the header has ${h.width}`);
    }
    const cell = (k: TradeColumn): string => {
      const i = h.index[k];
      return i === undefined ? '' : (cells[i] ?? '');
    };
    const field = (k: TradeColumn): string => h.names[k] ?? TRADE_COLUMNS[k][0]!;
    const amount = (k: TradeColumn, required = false): Decimal =>
      h.index[k] === undefined ? ZERO : amountField(cell(k), { file, line, field: field(k) }, required ? {} : { emptyAs: ZERO });

    const tradeNo = cell('tradeNo');
    if (tradeNo === '') throw new StatementFormatError('missing_field', { file, line, field: field('tradeNo') }, 'the row has no 支付宝交易号');
    const outTradeNo = cell('outTradeNo');
    const bizType = cell('bizType');
    const { type, needsReview } = lineType(bizType);

    for (const k of TRADE_AMOUNT_COLUMNS) if (k !== 'received') amount(k);
    const gross = amount('received', true);
    const serviceFee = amount('serviceFee');
    const fee = canonicalFeeFromServiceFee(serviceFee);
    const net = gross.minus(fee);
    if (type === 'refund' && gross.isPositive() && !gross.isZero()) {
      throw new StatementFormatError('bad_amount', { file, line, field: field('received') }, `a 退款 row with a positive ${field('received')} (${cell('received')}): Alipay writes refunds negative`);
    }
    if (h.index.netReceived !== undefined && cell('netReceived') !== '') {
      const written = amount('netReceived');
      netWritten = netWritten.plus(written);
      if (!written.equals(net) && !ctx.options.acceptControlTotalMismatch) {
        throw new ControlTotalMismatchError({ file, line, field: field('netReceived') }, `${field('netReceived')} (商家实收 + 服务费)`, written.toString(), net.toString());
      }
    } else {
      netWritten = netWritten.plus(net);
    }

    const timeField: TradeColumn = cell('completedAt') !== '' || h.index.createdAt === undefined ? 'completedAt' : 'createdAt';
    const timeText = cell(timeField);
    const occurredAt = parseNaiveTime(timeText, ALIPAY_TIME_ZONE);
    if (occurredAt === undefined) {
      throw new StatementFormatError('bad_date', { file, line, field: field(timeField) }, `${JSON.stringify(timeText)} is not a date and time (yyyy-MM-dd HH:mm:ss)`);
    }

    const extra: Record<string, string> = {};
    if (cell('orderAmount') !== '') extra.orderAmount = cell('orderAmount');
    for (const k of EXTRA_AMOUNTS) if (cell(k) !== '' && !amount(k).isZero()) extra[k] = cell(k);
    for (const k of EXTRA_TEXTS) if (cell(k) !== '') extra[k] = cell(k);
    if (cell('netReceived') !== '') extra.netReceived = cell('netReceived');

    let merchantRef: string | null = outTradeNo || null;
    let merchantOrderId: string | null = null;
    let parentTxnId: string | null = null;
    const requestNo = cell('refundRequestNo');
    if (type === 'refund') {
      parentTxnId = tradeNo;
      merchantOrderId = outTradeNo || null;
      if (requestNo !== '') {
        merchantRef = requestNo;
      } else {
        // Alipay: out_request_no defaults to out_trade_no when the refund request did not give one.
        merchantRef = outTradeNo || null;
        extra.refundRequestNoDefaulted = 'true';
      }
    } else if (requestNo !== '') {
      extra.refundRequestNo = requestNo;
    }
    if (type === 'adjustment') extra.businessType = bizType;

    if (type === 'payment') {
      totals.paymentCount += 1;
      paymentGross = paymentGross.plus(gross);
    } else if (type === 'refund') {
      totals.refundCount += 1;
      refundGross = refundGross.plus(gross);
    }
    totals.received = totals.received.plus(gross);
    totals.serviceFee = totals.serviceFee.plus(serviceFee);
    totals.net = totals.net.plus(net);
    totals.orderAmount = totals.orderAmount.plus(amount('orderAmount'));

    yield {
      provider: 'alipay',
      type,
      providerTxnId: tradeNo,
      parentTxnId,
      merchantRef,
      merchantOrderId,
      gross,
      fee,
      net,
      currency: 'CNY',
      occurredAt,
      paymentMethod: cell('payMethod') || null,
      wallet: 'alipay',
      status: null,
      description: cell('subject') || null,
      needsReview,
      source: { member, line },
      extra,
    };
  }

  const last = reader.last;
  if (header === undefined) {
    throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} before the 业务明细 header row: it is truncated`);
  }
  if (!ended) {
    throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} without the 业务明细列表结束 marker: it is truncated`);
  }
  if (tradeTotal === undefined || refundTotal === undefined) {
    const missing = tradeTotal === undefined ? '#交易合计' : '#退款合计';
    throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} without its ${missing} line: it is truncated`);
  }

  controls.check({
    label: '#交易合计 笔数',
    member,
    line: tradeTotal.line,
    currency: null,
    expected: String(tradeTotal.total.count),
    actual: totals.paymentCount,
    measure: { of: 'count', types: ['payment'] },
  });
  controls.check({
    label: `#交易合计 ${tradeTotal.total.amountLabel}`,
    member,
    line: tradeTotal.line,
    currency: 'CNY',
    expected: tradeTotal.total.amount,
    actual: paymentGross,
    measure: { of: 'gross', types: ['payment'] },
  });
  controls.check({
    label: '#退款合计 笔数',
    member,
    line: refundTotal.line,
    currency: null,
    expected: String(refundTotal.total.count),
    actual: totals.refundCount,
    measure: { of: 'count', types: ['refund'] },
  });
  controls.check({
    label: `#退款合计 ${refundTotal.total.amountLabel}`,
    member,
    line: refundTotal.line,
    currency: 'CNY',
    expected: refundTotal.total.amount,
    actual: refundGross,
    measure: { of: 'gross', types: ['refund'] },
  });
  if (header.index.netReceived !== undefined) {
    // Rows are checked one by one above; the column sum is recorded so the suite can recompute it.
    controls.check({
      label: `${header.names.netReceived} (sum of rows)`,
      member,
      line: last,
      currency: 'CNY',
      expected: netWritten,
      actual: totals.net,
      measure: { of: 'net', types: ['payment', 'refund', 'adjustment'] },
    });
  }
  return { layout: `alipay.trade.${header.named}`, totals };
}
