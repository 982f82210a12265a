import { StatementFormatError } from '../../core/errors.js';
import { ZERO, type Decimal } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import type { LineType, StatementLine } from '../contract.js';
import { amountField } from '../common/fields.js';
import type { ControlTotals } from '../common/control-totals.js';
import { ACCOUNT_COLUMNS, mapHeader, type AccountColumn, type HeaderMap } from './columns.js';
import { ALIPAY_TIME_ZONE, isBlank, isEnvelope, parseTotalLine, splitCells, type TotalLine } from './envelope.js';
import type { LineReader } from './input.js';
import type { DocContext } from './trade.js';

/**
 * 账务明细 业务类型 → canonical type (formats.md §1.6). Unknown types are kept as adjustments for review.
 */
function accountLineType(bizType: string): { type: LineType; needsReview: boolean } {
  switch (bizType) {
    case '在线支付':
    case '交易付款':
      return { type: 'payment', needsReview: false };
    case '退款':
    case '交易退款':
      return { type: 'refund', needsReview: false };
    case '收费':
      return { type: 'fee', needsReview: false };
    case '提现':
      return { type: 'payout', needsReview: false };
    case '转账':
      return { type: 'transfer', needsReview: false };
    default:
      return { type: 'adjustment', needsReview: true };
  }
}

const REQUIRED: readonly (readonly AccountColumn[])[] = [['entryNo'], ['occurredAt'], ['income'], ['expense'], ['bizType']];
const EXTRA_TEXTS: readonly AccountColumn[] = ['balance', 'channel', 'remark', 'bizDescription', 'bizBaseOrderNo', 'bizOrderNo', 'billSource'];

/**
 * Parses the body of a 账务明细 (signcustomer fund-flow bill) from just after its `账务明细列表` marker.
 * Each row is one balance movement: signed amount = 收入 − |支出| (the expense column is written positive
 * in some years and negative in others). A fee row (收费) is written as gross 0, fee = −signed (positive
 * when charged), so that `net` is the balance movement of every line.
 */
export async function* parseAccountBody(reader: LineReader, ctx: DocContext, controls: ControlTotals): AsyncGenerator<StatementLine, { layout: string }> {
  const { file, member } = ctx;
  let header: HeaderMap<AccountColumn> | undefined;
  let ended = false;
  let incomeTotal: { line: number; total: TotalLine } | undefined;
  let expenseTotal: { line: number; total: TotalLine } | undefined;
  let incomeCount = 0;
  let expenseCount = 0;
  let incomeSum: Decimal = ZERO;
  let expenseSum: Decimal = ZERO;

  for (;;) {
    const tl = await reader.next();
    if (tl === undefined) break;
    const { line, text } = tl;
    if (isEnvelope(text)) {
      if (text.includes('账务明细列表结束')) {
        if (header === undefined) throw new StatementFormatError('unknown_layout', { file, line }, 'the 账务明细 list ends before any header row');
        ended = true;
      } else if (ended && text.includes('收入合计')) {
        incomeTotal = { line, total: parseTotalLine(text, { file, line, field: '#收入合计' }) };
      } else if (ended && text.includes('支出合计')) {
        expenseTotal = { line, total: parseTotalLine(text, { file, line, field: '#支出合计' }) };
      }
      continue;
    }
    if (isBlank(text)) continue;
    if (ended) throw new StatementFormatError('unknown_layout', { file, line }, 'a data line after the 账务明细列表结束 marker');
    const cells = splitCells(text, { file, line });
    if (header === undefined) {
      header = mapHeader(cells, ACCOUNT_COLUMNS, REQUIRED, { file, line }, '账务明细');
      continue;
    }
    const h: HeaderMap<AccountColumn> = header;
    if (cells.length !== h.width && !(cells.length > h.width && cells.slice(h.width).every((c) => c === ''))) {
      throw new StatementFormatError('column_count', { file, line }, `the row has ${cells.length} cells but the header has ${h.width}`);
    }
    const cell = (k: AccountColumn): string => {
      const i = h.index[k];
      return i === undefined ? '' : (cells[i] ?? '');
    };
    const field = (k: AccountColumn): string => h.names[k] ?? ACCOUNT_COLUMNS[k][0]!;

    const income = amountField(cell('income'), { file, line, field: field('income') }, { emptyAs: ZERO });
    const expense = amountField(cell('expense'), { file, line, field: field('expense') }, { emptyAs: ZERO }).abs();
    if (h.index.balance !== undefined) amountField(cell('balance'), { file, line, field: field('balance') }, { emptyAs: ZERO });
    const signed = income.minus(expense);
    const timeText = cell('occurredAt');
    const occurredAt = parseNaiveTime(timeText, ALIPAY_TIME_ZONE);
    if (occurredAt === undefined) {
      throw new StatementFormatError('bad_date', { file, line, field: field('occurredAt') }, `${JSON.stringify(timeText)} is not a date and time (yyyy-MM-dd HH:mm:ss)`);
    }
    const bizType = cell('bizType');
    const { type, needsReview } = accountLineType(bizType);
    const gross = type === 'fee' ? ZERO : signed;
    const fee = type === 'fee' && !signed.isZero() ? signed.negated() : ZERO;
    const net = gross.minus(fee);

    if (!income.isZero()) {
      incomeCount += 1;
      incomeSum = incomeSum.plus(income);
    }
    if (!expense.isZero()) {
      expenseCount += 1;
      expenseSum = expenseSum.plus(expense);
    }

    const entryNo = cell('entryNo');
    const bizNo = cell('bizNo');
    const outTradeNo = cell('outTradeNo') || null;
    const extra: Record<string, string> = { accountEntryNo: entryNo };
    for (const k of EXTRA_TEXTS) if (cell(k) !== '') extra[k] = cell(k);
    if (needsReview || type === 'transfer') extra.businessType = bizType;

    yield {
      provider: 'alipay',
      type,
      providerTxnId: bizNo || entryNo || null,
      parentTxnId: type === 'refund' ? bizNo || null : null,
      merchantRef: outTradeNo,
      merchantOrderId: type === 'refund' ? outTradeNo : null,
      gross,
      fee,
      net,
      currency: 'CNY',
      occurredAt,
      paymentMethod: null,
      wallet: 'alipay',
      status: null,
      description: cell('subject') || null,
      needsReview,
      source: { member, line },
      extra,
    };
  }

  const last = reader.last;
  if (header === undefined) throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} before the 账务明细 header row: it is truncated`);
  if (!ended) throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} without the 账务明细列表结束 marker: it is truncated`);
  if (incomeTotal === undefined || expenseTotal === undefined) {
    const missing = incomeTotal === undefined ? '#收入合计' : '#支出合计';
    throw new StatementFormatError('truncated', { file, line: last }, `the file ends at line ${last} without its ${missing} line: it is truncated`);
  }
  controls.check({ label: '#收入合计 笔数', member, line: incomeTotal.line, currency: null, expected: String(incomeTotal.total.count), actual: incomeCount });
  controls.check({ label: '#收入合计 金额', member, line: incomeTotal.line, currency: 'CNY', expected: incomeTotal.total.amount, actual: incomeSum });
  controls.check({ label: '#支出合计 笔数', member, line: expenseTotal.line, currency: null, expected: String(expenseTotal.total.count), actual: expenseCount });
  controls.check({ label: '#支出合计 金额 (absolute)', member, line: expenseTotal.line, currency: 'CNY', expected: expenseTotal.total.amount.replace(/^-/, ''), actual: expenseSum });
  return { layout: 'alipay.account' };
}
