import { StatementFormatError } from '../../core/errors.js';
import { Decimal, ZERO, isKnownCurrency, type Decimal as DecimalT } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import { LINE_TYPES, type ControlTotal, type LineType, type ParseOptions, type StatementLine, type StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { amountField, orNull } from '../common/fields.js';
import type { TextLine } from '../common/text-lines.js';
import {
  HISTORIC_SETTLEMENT_NAME,
  TRADE_COLUMNS,
  TRADE_REQUIRED,
  TRADE_SUMMARY_COLUMNS,
  TRADE_SUMMED,
  mapHeader,
  type TradeColumn,
  type TradeLayout,
  type TradeSummaryColumn,
} from './columns.js';
import { WECHATPAY_TIME_ZONE, billBody, headerCells, summaryNumber } from './structure.js';

/** Provider columns kept in `extra` (non-empty values only, keyed by the header name as the file writes it). */
const EXTRA_COLUMNS: TradeColumn[] = [
  'appId', 'mchId', 'subMchId', 'deviceInfo', 'openId', 'bankType', 'couponAmount', 'refundApplyTime', 'refundSuccessTime',
  'rechargeRefundAmount', 'refundType', 'refundStatus', 'attach', 'rate', 'orderAmount', 'requestedRefundAmount', 'rateRemark',
];

/** `0` is how the trade bill writes "none" in id columns (特约商户号, 微信退款单号/商户退款单号 on payment rows). */
const idOrNull = (text: string | undefined): string | null => {
  const t = orNull(text);
  return t === '0' ? null : t;
};

function layoutOf(present: Set<TradeColumn>, settlementName: string): TradeLayout {
  const historic = settlementName === HISTORIC_SETTLEMENT_NAME;
  const kind = present.has('refundApplyTime') || present.has('refundSuccessTime') ? 'REFUND' : present.has('refundAmount') ? 'ALL' : 'SUCCESS';
  if (!historic) return kind;
  return kind === 'ALL' ? 'historic' : kind === 'REFUND' ? 'historic.REFUND' : 'historic.SUCCESS';
}

/**
 * The APIv3 trade bill (交易账单). Sign conventions (contract): a payment row (交易状态 SUCCESS) has
 * gross = +应结订单金额 (historic: 总金额); a refund row (REFUND) gross = −退款金额; 手续费 is taken exactly as
 * written as the canonical fee (positive charged, negative given back on refunds), net = gross − fee.
 */
export async function* parseTradeBill(
  headerRow: TextLine,
  lines: AsyncIterator<TextLine>,
  file: string,
  options: ParseOptions,
): AsyncGenerator<StatementLine, StatementSummary, undefined> {
  const header = headerCells(headerRow.text);
  const { columns, unknown, duplicate } = mapHeader(header, TRADE_COLUMNS);
  const headerLoc = (field: string) => ({ file, line: headerRow.line, field });
  if (duplicate.length > 0) throw new StatementFormatError('unknown_layout', headerLoc(duplicate[0]!), `column ${duplicate[0]} appears twice`);
  const settlementCol = columns.get('settlementAmount');
  const layout = layoutOf(new Set(columns.keys()), settlementCol?.name ?? '');
  for (const key of TRADE_REQUIRED[layout]) {
    if (!columns.has(key)) {
      const extraNote = unknown.length > 0 ? ` (unknown columns: ${unknown.join(', ')})` : '';
      throw new StatementFormatError('unknown_layout', headerLoc(TRADE_COLUMNS[key][0]), `trade bill header has no column ${TRADE_COLUMNS[key].join(' / ')}${extraNote}`);
    }
  }
  if (unknown.length > 0) {
    throw new StatementFormatError('unknown_layout', headerLoc(unknown[0]!), `unknown trade bill column ${JSON.stringify(unknown[0])}`);
  }
  const isRefundLayout = layout === 'REFUND' || layout === 'historic.REFUND';

  // Running totals: one per summed detail column, plus what the canonical measures need.
  const sums = new Map<TradeColumn, DecimalT>();
  for (const [, col] of TRADE_SUMMED) if (columns.has(col)) sums.set(col, ZERO);
  let count = 0;
  let settlementOutsidePayments = ZERO;
  let refundOutsideRefunds = ZERO;
  let account: string | null | undefined;
  let currency: string | null | undefined;

  for await (const ev of billBody(lines, file, headerRow.line, header.length, '总交易单数')) {
    if (ev.kind === 'row') {
      const { line, cells } = ev;
      const cell = (k: TradeColumn): string | undefined => {
        const c = columns.get(k);
        return c === undefined ? undefined : cells[c.index];
      };
      const loc = (k: TradeColumn) => ({ file, line, field: columns.get(k)?.name ?? TRADE_COLUMNS[k][0] });
      const amount = (k: TradeColumn, opts: { signed?: boolean; emptyAsZero?: boolean } = {}): DecimalT | undefined => {
        const text = cell(k);
        if (text === undefined) return undefined;
        const v = amountField(text, loc(k), opts.emptyAsZero ? { emptyAs: ZERO } : {});
        if (!opts.signed && v.isNegative()) {
          throw new StatementFormatError('bad_amount', loc(k), `${JSON.stringify(text)} is negative where the bill writes unsigned amounts`);
        }
        return v;
      };

      const timeText = cell('tradeTime') ?? '';
      const occurredAt = parseNaiveTime(timeText, WECHATPAY_TIME_ZONE);
      if (occurredAt === undefined) {
        throw new StatementFormatError('bad_date', loc('tradeTime'), `${JSON.stringify(timeText)} is not a yyyy-MM-dd HH:mm:ss time`);
      }
      const cur = (cell('currency') ?? '').trim();
      if (!isKnownCurrency(cur)) throw new StatementFormatError('bad_currency', loc('currency'), `${JSON.stringify(cur)} is not an ISO 4217 currency code`);

      const settlement = amount('settlementAmount')!;
      const refundAmount = amount('refundAmount', { emptyAsZero: true });
      const fee = amount('fee', { signed: true })!;
      const rowSums = new Map<TradeColumn, DecimalT>([
        ['settlementAmount', settlement],
        ['fee', fee],
      ]);
      if (refundAmount !== undefined) rowSums.set('refundAmount', refundAmount);
      for (const k of ['rechargeRefundAmount', 'orderAmount', 'requestedRefundAmount'] as const) {
        const v = amount(k, { emptyAsZero: true });
        if (v !== undefined) rowSums.set(k, v);
      }
      // Other amount columns are kept as text in `extra`, but must still be amounts.
      amount('couponAmount', { emptyAsZero: true });
      for (const [k, v] of rowSums) sums.set(k, sums.get(k)!.plus(v));

      const state = (cell('tradeState') ?? '').trim();
      const refundStatus = orNull(cell('refundStatus'));
      let type: LineType;
      let needsReview = false;
      if (isRefundLayout || (state === 'REFUND' && refundAmount !== undefined)) {
        type = 'refund';
        // Every row of a REFUND bill is a refund; one with another 交易状态, or a refund not (yet) SUCCESS
        // (PROCESSING / FAIL / CHANGE are snapshots at bill time), is kept but flagged.
        needsReview = state !== 'REFUND' || (refundStatus !== null && refundStatus !== 'SUCCESS');
      } else if (state === 'SUCCESS') {
        type = 'payment';
      } else if (state === 'REVOKED') {
        // A revoked (撤销) micropay: kept as the payment WeChat counts in 应结订单总金额, flagged for a person.
        type = 'payment';
        needsReview = true;
      } else {
        type = 'adjustment';
        needsReview = true;
      }

      let gross: DecimalT;
      if (type === 'payment') gross = settlement;
      else if (type === 'refund') gross = (refundAmount ?? ZERO).negated();
      else gross = settlement.minus(refundAmount ?? ZERO);
      if (type !== 'payment') settlementOutsidePayments = settlementOutsidePayments.plus(settlement);
      if (type !== 'refund') refundOutsideRefunds = refundOutsideRefunds.plus(refundAmount ?? ZERO);

      const extra: Record<string, string> = {};
      const keep = (k: TradeColumn) => {
        const v = orNull(cell(k));
        if (v !== null) extra[columns.get(k)!.name] = v;
      };
      for (const k of EXTRA_COLUMNS) {
        if (k === 'subMchId') {
          const v = idOrNull(cell(k));
          if (v !== null) extra[columns.get(k)!.name] = v;
        } else keep(k);
      }
      // Amounts that the line's type does not carry in `gross`, when not zero: kept, never lost.
      if (type !== 'payment' && !settlement.isZero()) keep('settlementAmount');
      if (type !== 'refund' && refundAmount !== undefined && !refundAmount.isZero()) keep('refundAmount');
      if (type !== 'refund') {
        for (const k of ['refundId', 'outRefundNo'] as const) {
          const v = idOrNull(cell(k));
          if (v !== null) extra[columns.get(k)!.name] = v;
        }
      }

      const mch = orNull(cell('mchId'));
      account = account === undefined ? mch : account === mch ? account : null;
      currency = currency === undefined ? cur : currency === cur ? currency : null;
      count += 1;

      const transactionId = idOrNull(cell('transactionId'));
      const outTradeNo = idOrNull(cell('outTradeNo'));
      yield {
        provider: 'wechatpay',
        type,
        providerTxnId: type === 'refund' ? idOrNull(cell('refundId')) : transactionId,
        parentTxnId: type === 'refund' ? transactionId : null,
        merchantRef: type === 'refund' ? idOrNull(cell('outRefundNo')) : outTradeNo,
        merchantOrderId: type === 'refund' ? outTradeNo : null,
        gross,
        fee,
        net: gross.minus(fee),
        currency: cur,
        occurredAt,
        paymentMethod: orNull(cell('tradeType')),
        wallet: 'wechat_pay',
        status: state === '' ? null : state,
        description: orNull(cell('body')),
        needsReview,
        source: { member: null, line },
        extra,
      };
      continue;
    }

    // The summary: header names → values, each checked against what the rows add up to.
    const summary = mapHeader(ev.header, TRADE_SUMMARY_COLUMNS);
    const sloc = (field: string) => ({ file, line: ev.headerLine, field });
    if (summary.duplicate.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.duplicate[0]!), `summary column ${summary.duplicate[0]} appears twice`);
    if (summary.unknown.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.unknown[0]!), `unknown trade bill summary column ${JSON.stringify(summary.unknown[0])}`);
    for (const key of ['count', 'settlementTotal', 'feeTotal'] as const) {
      if (!summary.columns.has(key)) throw new StatementFormatError('unknown_layout', sloc(TRADE_SUMMARY_COLUMNS[key][0]), `summary has no column ${TRADE_SUMMARY_COLUMNS[key].join(' / ')}`);
    }
    const totals = new ControlTotals(file, options);
    const ccy = currency ?? null;
    const allTypes = [...LINE_TYPES];
    const measures: Partial<Record<TradeSummaryColumn, ControlTotal['measure']>> = {
      count: { of: 'count', types: allTypes },
      feeTotal: { of: 'fee', types: allTypes },
      // Canonical only when no other line type carries an amount in that column (then Σ equals the lines').
      ...(settlementOutsidePayments.isZero() ? { settlementTotal: { of: 'gross', types: ['payment'] } } : {}),
      ...(refundOutsideRefunds.isZero() ? { refundTotal: { of: 'gross', types: ['refund'], absolute: true } } : {}),
    };
    const detailOf = new Map(TRADE_SUMMED);
    for (const [key, { index, name }] of summary.columns) {
      const loc = { file, line: ev.valuesLine, field: name };
      const expected = summaryNumber(ev.values[index] ?? '', loc, key === 'count');
      let actual: DecimalT;
      if (key === 'count') actual = new Decimal(count);
      else {
        const sum = sums.get(detailOf.get(key)!);
        if (sum === undefined) {
          throw new StatementFormatError('unknown_layout', sloc(name), `summary column ${name} has no detail column to add up in this layout`);
        }
        actual = sum;
      }
      const measure = measures[key];
      totals.check({ label: name, member: null, line: ev.valuesLine, currency: ccy, expected, actual, ...(measure ? { measure } : {}) });
    }
    return {
      provider: 'wechatpay',
      layout: `wechatpay.tradebill.${layout}`,
      account: account ?? null,
      period: null,
      timeZone: WECHATPAY_TIME_ZONE,
      lineCount: count,
      controls: totals.list,
    };
  }
  // billBody either yields the summary or throws.
  throw new StatementFormatError('truncated', { file }, 'the file ends without its summary rows');
}
