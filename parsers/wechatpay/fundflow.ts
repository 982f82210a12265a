import { StatementFormatError } from '../../core/errors.js';
import { Decimal, ZERO, type Decimal as DecimalT } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import { LINE_TYPES, type LineType, type ParseOptions, type StatementLine, type StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { amountField, orNull } from '../common/fields.js';
import type { TextLine } from '../common/text-lines.js';
import { mapHeaderCells } from '../common/header.js';
import { FUNDFLOW_COLUMNS, FUNDFLOW_REQUIRED, FUNDFLOW_SUMMARY_COLUMNS, type FundflowColumn } from './columns.js';
import { WECHATPAY_TIME_ZONE, billBody, headerCells, summaryNumber } from './structure.js';

/** 业务类型 → canonical type, and the 收支类型 it is expected with (another one is kept but flagged). */
const BUSINESS_TYPES: Record<string, { type: LineType; direction: '收入' | '支出' }> = {
  交易: { type: 'payment', direction: '收入' },
  退款: { type: 'refund', direction: '支出' },
  扣除交易手续费: { type: 'fee', direction: '支出' },
  退还交易手续费: { type: 'fee', direction: '收入' },
  提现: { type: 'payout', direction: '支出' },
};

const EXTRA_COLUMNS: FundflowColumn[] = ['flowNo', 'businessName', 'businessType', 'direction', 'balance', 'initiator'];

/**
 * The fund-flow bill (资金账单, /v3/bill/fundflowbill), layout `wechatpay.fundflow`. 收支金额(元) is unsigned;
 * 收支类型 收入 / 支出 gives the sign of the movement on the balance. Canonical lines:
 * - 交易 → payment, 退款 → refund, 提现 → payout: gross = ±收支金额, fee 0;
 * - 扣除交易手续费 / 退还交易手续费 → type `fee` with gross 0 and fee = ∓收支金额 (charged positive, returned
 *   negative), so net = ±收支金额 is the balance movement, like for every other line;
 * - any other 业务类型 (退款关闭, 充值, 分账, …) → adjustment, gross = ±收支金额, needsReview.
 * The bill states no currency (the basic account is CNY) and no merchant id.
 */
export async function* parseFundflowBill(
  headerRow: TextLine,
  lines: AsyncIterator<TextLine[]>,
  file: string,
  options: ParseOptions,
): AsyncGenerator<StatementLine[], StatementSummary, undefined> {
  const header = headerCells(headerRow.text);
  const { columns, unknown, duplicate } = mapHeaderCells(header, FUNDFLOW_COLUMNS);
  const headerLoc = (field: string) => ({ file, line: headerRow.line, field });
  if (duplicate.length > 0) throw new StatementFormatError('unknown_layout', headerLoc(duplicate[0]!.name), `column ${duplicate[0]!.name} appears twice`);
  for (const key of FUNDFLOW_REQUIRED) {
    if (!columns.has(key)) throw new StatementFormatError('unknown_layout', headerLoc(FUNDFLOW_COLUMNS[key][0]), `fund-flow bill header has no column ${FUNDFLOW_COLUMNS[key][0]}`);
  }
  if (unknown.length > 0) throw new StatementFormatError('unknown_layout', headerLoc(unknown[0]!.name), `unknown fund-flow bill column ${JSON.stringify(unknown[0]!.name)}`);

  let count = 0;
  let incomeCount = 0;
  let expenseCount = 0;
  let income = ZERO;
  let expense = ZERO;
  const currency = 'CNY';

  for await (const events of billBody(lines, file, headerRow.line, header.length, '资金流水总笔数')) {
    let out: StatementLine[] = [];
    try {
      for (const ev of events) {
        if (ev.kind === 'row') {
          const { line, cells } = ev;
          const cell = (k: FundflowColumn): string => cells[columns.get(k)!.index] ?? '';
          const loc = (k: FundflowColumn) => ({ file, line, field: columns.get(k)!.name });

          const timeText = cell('postedAt');
          const occurredAt = parseNaiveTime(timeText, WECHATPAY_TIME_ZONE);
          if (occurredAt === undefined) throw new StatementFormatError('bad_date', loc('postedAt'), `${JSON.stringify(timeText)} is not a yyyy-MM-dd HH:mm:ss time`);
          const amount = amountField(cell('amount'), loc('amount'));
          if (amount.isNegative()) throw new StatementFormatError('bad_amount', loc('amount'), `${JSON.stringify(cell('amount'))} is negative where the bill writes unsigned amounts`);
          amountField(cell('balance'), loc('balance'), { emptyAs: ZERO });
          const direction = cell('direction').trim();
          if (direction !== '收入' && direction !== '支出') {
            throw new StatementFormatError('bad_value', loc('direction'), `${JSON.stringify(direction)} is neither 收入 nor 支出`);
          }
          const signed = direction === '收入' ? amount : amount.negated();
          if (direction === '收入') {
            incomeCount += 1;
            income = income.plus(amount);
          } else {
            expenseCount += 1;
            expense = expense.plus(amount);
          }

          const businessType = cell('businessType').trim();
          const known = BUSINESS_TYPES[businessType];
          const type: LineType = known?.type ?? 'adjustment';
          const needsReview = known === undefined || known.direction !== direction;
          const gross = type === 'fee' ? ZERO : signed;
          const fee = type === 'fee' ? signed.negated() : ZERO;

          const extra: Record<string, string> = {};
          for (const k of EXTRA_COLUMNS) {
            const v = orNull(cell(k));
            if (v !== null) extra[columns.get(k)!.name] = v;
          }
          count += 1;
          out.push({
            provider: 'wechatpay',
            type,
            providerTxnId: orNull(cell('businessNo')),
            parentTxnId: null,
            merchantRef: orNull(cell('voucherNo')),
            merchantOrderId: null,
            gross,
            fee,
            net: gross.minus(fee),
            currency,
            occurredAt,
            paymentMethod: null,
            wallet: 'wechat_pay',
            status: null,
            description: orNull(cell('remark')),
            needsReview,
            source: { member: null, line },
            extra,
          });
          continue;
        }
        // The summary event ends the body (billBody yields it last).
        const done = out;
        out = [];
        if (done.length > 0) yield done;

        const summary = mapHeaderCells(ev.header, FUNDFLOW_SUMMARY_COLUMNS);
        const sloc = (field: string) => ({ file, line: ev.headerLine, field });
        if (summary.unknown.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.unknown[0]!.name), `unknown fund-flow summary column ${JSON.stringify(summary.unknown[0]!.name)}`);
        if (summary.duplicate.length > 0) throw new StatementFormatError('unknown_layout', sloc(summary.duplicate[0]!.name), `summary column ${summary.duplicate[0]!.name} appears twice`);
        const totals = new ControlTotals(file, options);
        const actuals: Record<keyof typeof FUNDFLOW_SUMMARY_COLUMNS, DecimalT> = {
          count: new Decimal(count),
          incomeCount: new Decimal(incomeCount),
          incomeAmount: income,
          expenseCount: new Decimal(expenseCount),
          expenseAmount: expense,
        };
        for (const key of Object.keys(FUNDFLOW_SUMMARY_COLUMNS) as (keyof typeof FUNDFLOW_SUMMARY_COLUMNS)[]) {
          const col = summary.columns.get(key);
          if (col === undefined) throw new StatementFormatError('unknown_layout', sloc(FUNDFLOW_SUMMARY_COLUMNS[key][0]), `summary has no column ${FUNDFLOW_SUMMARY_COLUMNS[key][0]}`);
          const loc = { file, line: ev.valuesLine, field: col.name };
          const expected = summaryNumber(ev.values[col.index] ?? '', loc, key === 'count' || key === 'incomeCount' || key === 'expenseCount');
          totals.check({
            label: col.name,
            member: null,
            line: ev.valuesLine,
            currency,
            expected,
            actual: actuals[key],
            ...(key === 'count' ? { measure: { of: 'count' as const, types: [...LINE_TYPES] } } : {}),
          });
        }
        return {
          provider: 'wechatpay',
          layout: 'wechatpay.fundflow',
          account: null,
          period: null,
          timeZone: WECHATPAY_TIME_ZONE,
          lineCount: count,
          controls: totals.list,
        };
      }
    } catch (err) {
      // The lines before the bad one go out first, as they did when lines were read one at a time.
      if (out.length > 0) yield out;
      throw err;
    }
    yield out;
  }
  throw new StatementFormatError('truncated', { file }, 'the file ends without its summary rows');
}
