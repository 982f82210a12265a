import { StatementFormatError } from '../../core/errors.js';
import { Decimal, DecimalSum, isDecimalText, isKnownCurrency, negatedNumeral, type Decimal as DecimalT } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import { LINE_TYPES, type ControlTotal, type LineType, type ParseOptions, type StatementLine, type StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { orNull } from '../common/fields.js';
import { mapHeaderCells } from '../common/header.js';
import { NumeralLine } from '../common/numeral-line.js';
import type { TextLine } from '../common/text-lines.js';
import {
  HISTORIC_SETTLEMENT_NAME,
  TRADE_COLUMNS,
  TRADE_REQUIRED,
  TRADE_SUMMARY_COLUMNS,
  TRADE_SUMMED,
  type TradeColumn,
  type TradeLayout,
  type TradeSummaryColumn,
} from './columns.js';
import { WECHATPAY_TIME_ZONE, billBody, headerCells, summaryNumber, type BillEvent } from './structure.js';

/** Provider columns kept in `extra` (non-empty values only, keyed by the header name as the file writes it). */
const EXTRA_COLUMNS: TradeColumn[] = [
  'appId', 'mchId', 'subMchId', 'deviceInfo', 'openId', 'bankType', 'couponAmount', 'refundApplyTime', 'refundSuccessTime',
  'rechargeRefundAmount', 'refundType', 'refundStatus', 'attach', 'rate', 'orderAmount', 'requestedRefundAmount', 'rateRemark',
];

/**
 * Amount columns among them, in the order a line checks them: kept only when not zero. A zero coupon or requested refund says nothing, and
 * such zeros were 28% of the `extra` that a 1M-line bill stored (295 MB; the archived file keeps every byte).
 */
const EXTRA_AMOUNTS = ['rechargeRefundAmount', 'orderAmount', 'requestedRefundAmount', 'couponAmount'] as const;

/** A checked decimal numeral that is zero (`0`, `0.00`, `.0`). */
const ZERO_TEXT = /^[+-]?0*\.?0*$/;

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
  lines: AsyncIterator<TextLine[]>,
  file: string,
  options: ParseOptions,
): AsyncGenerator<StatementLine[], StatementSummary, undefined> {
  const header = headerCells(headerRow.text);
  const { columns, unknown, duplicate } = mapHeaderCells(header, TRADE_COLUMNS);
  const headerLoc = (field: string) => ({ file, line: headerRow.line, field });
  if (duplicate.length > 0) throw new StatementFormatError('unknown_layout', headerLoc(duplicate[0]!.name), `column ${duplicate[0]!.name} appears twice`);
  const settlementCol = columns.get('settlementAmount');
  const layout = layoutOf(new Set(columns.keys()), settlementCol?.name ?? '');
  for (const key of TRADE_REQUIRED[layout]) {
    if (!columns.has(key)) {
      const extraNote = unknown.length > 0 ? ` (unknown columns: ${unknown.map((c) => c.name).join(', ')})` : '';
      throw new StatementFormatError('unknown_layout', headerLoc(TRADE_COLUMNS[key][0]), `trade bill header has no column ${TRADE_COLUMNS[key].join(' / ')}${extraNote}`);
    }
  }
  if (unknown.length > 0) {
    throw new StatementFormatError('unknown_layout', headerLoc(unknown[0]!.name), `unknown trade bill column ${JSON.stringify(unknown[0]!.name)}`);
  }
  const isRefundLayout = layout === 'REFUND' || layout === 'historic.REFUND';

  // Column positions resolved once; -1 where the layout has no such column.
  const at = (k: TradeColumn): number => columns.get(k)?.index ?? -1;
  const nameOf = (k: TradeColumn): string => columns.get(k)?.name ?? TRADE_COLUMNS[k][0];
  const ix = {
    tradeTime: at('tradeTime'), currency: at('currency'), settlement: at('settlementAmount'), refund: at('refundAmount'),
    fee: at('fee'), tradeState: at('tradeState'), refundStatus: at('refundStatus'), mchId: at('mchId'),
    transactionId: at('transactionId'), outTradeNo: at('outTradeNo'), refundId: at('refundId'), outRefundNo: at('outRefundNo'),
    tradeType: at('tradeType'), body: at('body'),
  };
  // Running totals (exact, BigInt-scaled): one per summed detail column present, plus what the
  // canonical measures need.
  const sums = new Map<TradeColumn, DecimalSum>();
  for (const [, col] of TRADE_SUMMED) if (columns.has(col)) sums.set(col, new DecimalSum());
  const settlementSum = sums.get('settlementAmount')!;
  const feeSum = sums.get('fee')!;
  const refundSum = sums.get('refundAmount');
  // Unsigned amount columns that are only checked and summed (empty counts as zero).
  const checkedOnly = EXTRA_AMOUNTS.filter((k) => columns.has(k)).map((k) => ({ key: k, index: at(k), name: nameOf(k), sum: sums.get(k) }));
  const extraColumns = EXTRA_COLUMNS.filter((k) => columns.has(k))
    .map((k) => ({ index: at(k), name: nameOf(k), id: k === 'subMchId', amount: (EXTRA_AMOUNTS as readonly TradeColumn[]).includes(k) }));
  const idColumnsOutsideRefunds = (['refundId', 'outRefundNo'] as const).filter((k) => columns.has(k)).map((k) => ({ index: at(k), name: nameOf(k) }));
  const names = {
    tradeTime: nameOf('tradeTime'), currency: nameOf('currency'), settlement: nameOf('settlementAmount'),
    refund: nameOf('refundAmount'), fee: nameOf('fee'),
  };
  let count = 0;
  const settlementOutsidePayments = new DecimalSum();
  const refundOutsideRefunds = new DecimalSum();
  let account: string | null | undefined;
  let currency: string | null | undefined;
  // Lines list many trades per second: the same time text converts once.
  let lastTimeText = '';
  let lastTime = 0;

  /** An amount cell's text, checked: a plain decimal (unsigned unless `signed`); empty is zero where allowed. */
  const amountText = (cells: string[], line: number, index: number, field: string, signed: boolean, emptyAsZero: boolean): string => {
    const raw = cells[index]!;
    const t = raw.trim();
    if (t === '' && emptyAsZero) return '0';
    if (!isDecimalText(t)) throw new StatementFormatError('bad_amount', { file, line, field }, `${JSON.stringify(raw)} is not a decimal amount`);
    if (!signed && t.charCodeAt(0) === 45) {
      throw new StatementFormatError('bad_amount', { file, line, field }, `${JSON.stringify(raw)} is negative where the bill writes unsigned amounts`);
    }
    return t;
  };

  /** One detail row as its canonical line; running totals, account and currency take it in. */
  const lineOf = (line: number, cells: string[]): StatementLine => {
    const timeText = ix.tradeTime < 0 ? '' : cells[ix.tradeTime]!;
    if (timeText !== lastTimeText) {
      const at = parseNaiveTime(timeText, WECHATPAY_TIME_ZONE);
      if (at === undefined) {
        throw new StatementFormatError('bad_date', { file, line, field: names.tradeTime }, `${JSON.stringify(timeText)} is not a yyyy-MM-dd HH:mm:ss time`);
      }
      lastTimeText = timeText;
      lastTime = at.getTime();
    }
    const occurredAt = new Date(lastTime);
    const cur = (ix.currency < 0 ? '' : cells[ix.currency]!).trim();
    if (!isKnownCurrency(cur)) throw new StatementFormatError('bad_currency', { file, line, field: names.currency }, `${JSON.stringify(cur)} is not an ISO 4217 currency code`);

    const settlementText = amountText(cells, line, ix.settlement, names.settlement, false, false);
    const refundText = ix.refund < 0 ? undefined : amountText(cells, line, ix.refund, names.refund, false, true);
    const feeText = amountText(cells, line, ix.fee, names.fee, true, false);
    settlementSum.add(settlementText);
    feeSum.add(feeText);
    if (refundText !== undefined) refundSum!.add(refundText);
    // Other amount columns are kept as text in `extra`, but must still be amounts (and add up).
    for (const c of checkedOnly) {
      const t = amountText(cells, line, c.index, c.name, false, true);
      c.sum?.add(t);
    }

    const state = (ix.tradeState < 0 ? '' : cells[ix.tradeState]!).trim();
    const refundStatus = ix.refundStatus < 0 ? null : orNull(cells[ix.refundStatus]);
    let type: LineType;
    let needsReview = false;
    if (isRefundLayout || (state === 'REFUND' && refundText !== undefined)) {
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

    // The line keeps the numerals (NumeralLine); only an adjustment's gross is computed.
    let grossText: string;
    if (type === 'payment') grossText = settlementText;
    else if (type === 'refund') grossText = refundText === undefined ? '0' : negatedNumeral(refundText);
    else grossText = new Decimal(settlementText).minus(refundText ?? '0').toFixed();
    const settlementIsZero = ZERO_TEXT.test(settlementText);
    const refundIsZero = refundText === undefined || ZERO_TEXT.test(refundText);
    if (type !== 'payment' && !settlementIsZero) settlementOutsidePayments.add(settlementText);
    if (type !== 'refund' && !refundIsZero) refundOutsideRefunds.add(refundText!);

    const extra: Record<string, string> = {};
    for (const c of extraColumns) {
      const v = c.id ? idOrNull(cells[c.index]) : orNull(cells[c.index]);
      if (v !== null && !(c.amount && ZERO_TEXT.test(v))) extra[c.name] = v;
    }
    // Amounts that the line's type does not carry in `gross`, when not zero: kept, never lost.
    if (type !== 'payment' && !settlementIsZero) extra[names.settlement] = cells[ix.settlement]!.trim();
    if (type !== 'refund' && !refundIsZero) extra[names.refund] = cells[ix.refund]!.trim();
    if (type !== 'refund') {
      for (const c of idColumnsOutsideRefunds) {
        const v = idOrNull(cells[c.index]);
        if (v !== null) extra[c.name] = v;
      }
    }

    const mch = ix.mchId < 0 ? null : orNull(cells[ix.mchId]);
    account = account === undefined ? mch : account === mch ? account : null;
    currency = currency === undefined ? cur : currency === cur ? currency : null;
    count += 1;

    const transactionId = ix.transactionId < 0 ? null : idOrNull(cells[ix.transactionId]);
    const outTradeNo = ix.outTradeNo < 0 ? null : idOrNull(cells[ix.outTradeNo]);
    const refundId = ix.refundId < 0 ? null : idOrNull(cells[ix.refundId]);
    const outRefundNo = ix.outRefundNo < 0 ? null : idOrNull(cells[ix.outRefundNo]);
    return new NumeralLine({
      provider: 'wechatpay',
      type,
      providerTxnId: type === 'refund' ? refundId : transactionId,
      parentTxnId: type === 'refund' ? transactionId : null,
      merchantRef: type === 'refund' ? outRefundNo : outTradeNo,
      merchantOrderId: type === 'refund' ? outTradeNo : null,
      currency: cur,
      occurredAt,
      paymentMethod: ix.tradeType < 0 ? null : orNull(cells[ix.tradeType]),
      wallet: 'wechat_pay',
      status: state === '' ? null : state,
      description: ix.body < 0 ? null : orNull(cells[ix.body]),
      needsReview,
      source: { member: null, line },
      extra,
    }, grossText, feeText);
  };

  for await (const events of billBody(lines, file, headerRow.line, header.length, '总交易单数')) {
    const out: StatementLine[] = [];
    for (const ev of events) {
      if (ev.kind === 'row') {
        try {
          out.push(lineOf(ev.line, ev.cells));
        } catch (err) {
          // The lines before the bad one go out first, as they did when lines were read one at a time.
          if (out.length > 0) yield out;
          throw err;
        }
        continue;
      }
      // The summary event ends the body (billBody yields it last).
      if (out.length > 0) yield out;
      return checkSummary(ev);
    }
    yield out;
  }
  // billBody either yields the summary or throws.
  throw new StatementFormatError('truncated', { file }, 'the file ends without its summary rows');

  /** The summary: header names → values, each checked against what the rows add up to. */
  function checkSummary(ev: Extract<BillEvent, { kind: 'summary' }>): StatementSummary {
    const summary = mapHeaderCells(ev.header, TRADE_SUMMARY_COLUMNS);
    const sloc = (field: string) => ({ file, line: ev.headerLine, field });
    if (summary.duplicate.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.duplicate[0]!.name), `summary column ${summary.duplicate[0]!.name} appears twice`);
    if (summary.unknown.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.unknown[0]!.name), `unknown trade bill summary column ${JSON.stringify(summary.unknown[0]!.name)}`);
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
        actual = sum.value();
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
}
