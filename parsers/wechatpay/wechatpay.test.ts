import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import { Decimal, ZERO } from '../../core/money/index.js';
import { runParserConformance } from '../../test/conformance/run-parser-conformance.js';
import type { StatementLine } from '../contract.js';
import { collect } from '../common/parsed-statement.js';
import { wechatpayParser } from './index.js';

const FIXTURES = 'fixtures/wechatpay';
const SAMPLES = '../shared/samples/wechatpay';
const FUNDFLOW_DOC_SAMPLE = 'DOC-SAMPLE_fundflowbill_from_wechatpay_docs.csv';

runParserConformance({
  parser: wechatpayParser,
  fixturesDir: FIXTURES,
  ignore: ['make-fixtures.mjs'],
  rejections: [
    { file: 'count-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '总交易单数' },
    { file: 'settlement-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '应结订单总金额' },
    { file: 'refund-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '退款总金额' },
    { file: 'recharge-refund-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '充值券退款总金额' },
    { file: 'fee-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '手续费总金额', message: '0.672' },
    { file: 'order-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '订单总金额' },
    { file: 'requested-refund-total-mismatch.csv', code: 'control_total_mismatch', line: 15, field: '申请退款总金额' },
    { file: 'truncated.csv', code: 'truncated', line: 13 },
    { file: 'truncated-summary-values.csv', code: 'truncated', line: 14 },
    { file: 'truncated.csv.gz', code: 'truncated', message: 'gzip' },
    { file: 'corrupt-crc.csv.gz', code: 'bad_gzip' },
    { file: 'gbk.csv', code: 'bad_encoding', line: 1 },
    { file: 'gbk-row.csv', code: 'bad_encoding', line: 3 },
    { file: 'unknown-layout.csv', code: 'unknown_layout', line: 1, field: '应结订单金额', message: '结算金额' },
    { file: 'unknown-column.csv', code: 'unknown_layout', line: 1, field: '优惠标签' },
    { file: 'unknown-summary-column.csv', code: 'unknown_layout', line: 14, field: '结算总金额' },
    { file: 'not-a-bill.csv', code: 'unknown_layout', line: 1 },
    { file: 'bad-amount.csv', code: 'bad_amount', line: 4, field: '应结订单金额' },
    { file: 'bad-fee.csv', code: 'bad_amount', line: 4, field: '手续费' },
    { file: 'negative-amount.csv', code: 'bad_amount', line: 4, field: '应结订单金额', message: 'negative' },
    { file: 'bad-date.csv', code: 'bad_date', line: 4, field: '交易时间' },
    { file: 'bad-currency.csv', code: 'bad_currency', line: 4, field: '货币种类' },
    { file: 'column-count.csv', code: 'column_count', line: 4 },
    { file: 'bad-summary-count.csv', code: 'bad_amount', line: 15, field: '总交易单数' },
    { file: 'trailing-data.csv', code: 'trailing_data', line: 16 },
    { file: 'unbackticked-row.csv', code: 'unexpected_line', line: 4 },
    { file: 'fundflow-count-mismatch.csv', code: 'control_total_mismatch', line: 4, field: '资金流水总笔数' },
    { file: 'fundflow-bad-direction.csv', code: 'bad_value', line: 2, field: '收支类型' },
  ],
  samplesDir: SAMPLES,
  // The doc sample is an excerpt: its summary counts 20 records but it prints one row.
  sampleOptions: { [FUNDFLOW_DOC_SAMPLE]: { acceptControlTotalMismatch: true } },
});

// The samples folder's consumer-export/ subfolder (the suite lists files only) is checked below:
// 'refuses the consumer export as a wrong document'.

const parse = (path: string, options = {}) => collect(wechatpayParser.parse({ path }, options));
const total = (lines: StatementLine[], of: 'gross' | 'fee' | 'net', type?: string) =>
  lines.filter((l) => type === undefined || l.type === type).reduce((s, l) => s.plus(l[of]), ZERO);
const d = (s: string) => new Decimal(s);

describe('wechatpay: real bill.ALL.csv', () => {
  it('parses 45 lines, 31 payments and 14 refunds, with the sums of its summary row', async () => {
    const { lines, summary } = await parse(join(SAMPLES, 'bill.ALL.csv'));
    expect(lines).toHaveLength(45);
    expect(summary.layout).toBe('wechatpay.tradebill.ALL');
    expect(summary.account).toBe('1921000401');
    expect(summary.period).toBeNull();
    expect(summary.timeZone).toBe('Asia/Shanghai');
    expect(lines.filter((l) => l.type === 'payment')).toHaveLength(31);
    expect(lines.filter((l) => l.type === 'refund')).toHaveLength(14);
    expect(total(lines, 'gross', 'payment').equals(d('0.47'))).toBe(true);
    expect(total(lines, 'gross', 'refund').equals(d('-0.14'))).toBe(true);
    expect(total(lines, 'fee').equals(d('0.08'))).toBe(true);
    expect(total(lines, 'net').equals(d('0.25'))).toBe(true);
    expect(lines.every((l) => !l.needsReview && l.currency === 'CNY' && l.wallet === 'wechat_pay')).toBe(true);
    const labels = summary.controls.map((c) => `${c.label}=${c.expected}`);
    expect(labels).toEqual(['总交易单数=45', '应结订单总金额=0.47', '退款总金额=0.14', '充值券退款总金额=0', '手续费总金额=0.08', '订单总金额=0.47', '申请退款总金额=0.14']);
  });

  it('maps a refund row: refund_id, parent transaction_id, out_refund_no, time in Asia/Shanghai', async () => {
    const { lines } = await parse(join(SAMPLES, 'bill.ALL.csv'));
    const first = lines[0]!;
    expect(first).toMatchObject({
      type: 'refund',
      providerTxnId: '50000709672019011908420787722',
      parentTxnId: '4200000263201902167700134212',
      merchantRef: 'REF4200000263201902167700963919',
      merchantOrderId: 'autotest_20190216081946_82335',
      paymentMethod: 'JSAPI',
      status: 'REFUND',
      source: { member: null, line: 2 },
    });
    expect(first.gross.toString()).toBe('-0.01');
    expect(first.occurredAt.toISOString()).toBe('2019-02-18T21:01:46.000Z');
    expect(first.extra['退款状态']).toBe('SUCCESS');
    expect(first.extra['特约商户号']).toBeUndefined();
  });
});

describe('wechatpay: fixture specifics', () => {
  it('keeps commas, double quotes and JSON in 商品名称 and 商户数据包', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    expect(lines[0]!.description).toBe('Tea "Oolong", 2 boxes, gift-wrapped');
    expect(JSON.parse(lines[0]!.extra['商户数据包']!)).toEqual({ store: 'A1', items: ['tea', 'cup'], note: 'a, b' });
    expect(lines[1]!.description).toBe('矿泉水，550ml');
  });

  it('takes 手续费 exactly as written: 5 decimals, negative on refunds, net = gross - fee', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    expect(lines[1]!.fee.equals(d('0.006'))).toBe(true);
    expect(lines[2]!.fee.equals(d('0.005'))).toBe(true); // not rounded to cents either way
    expect(lines[2]!.net.equals(d('0.825'))).toBe(true);
    const refund = lines[6]!;
    expect(refund.type).toBe('refund');
    expect(refund.gross.equals(d('-30'))).toBe(true);
    expect(refund.fee.equals(d('-0.18'))).toBe(true);
    expect(refund.net.equals(d('-29.82'))).toBe(true);
    expect(total(lines, 'fee').equals(d('0.672'))).toBe(true);
  });

  it('keeps amount columns in extra only when they are not zero', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    const coupons = lines.map((l) => l.extra['代金券金额'] ?? null);
    expect(coupons.filter((c) => c !== null)).toEqual(['5.00', '2.00']);
    expect(lines[0]!.extra['订单金额']).toBe('100.00');
    expect(lines[0]!.extra['代金券金额']).toBeUndefined();
    expect(lines[0]!.extra['申请退款金额']).toBeUndefined();
    expect(lines.find((l) => l.type === 'refund')!.extra['申请退款金额']).toBe('30.00');
  });

  it('links several partial refunds to their payment and flags a refund still PROCESSING', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    const payment = lines[0]!;
    const refunds = lines.filter((l) => l.type === 'refund' && l.parentTxnId === payment.providerTxnId);
    expect(refunds.map((r) => r.merchantRef)).toEqual(['RF20240301-0001-1', 'RF20240301-0001-2', 'RF20240301-0001-3']);
    expect(refunds.every((r) => r.merchantOrderId === payment.merchantRef)).toBe(true);
    expect(refunds.reduce((s, r) => s.plus(r.gross), ZERO).equals(payment.gross.negated())).toBe(true);
    expect(refunds.map((r) => r.needsReview)).toEqual([false, false, true]);
  });

  it('keeps REVOKED as a flagged payment and an unknown status as a flagged adjustment', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    const revoked = lines.find((l) => l.status === 'REVOKED')!;
    expect(revoked).toMatchObject({ type: 'payment', needsReview: true, paymentMethod: 'MICROPAY' });
    const odd = lines.find((l) => l.status === 'ABNORMAL')!;
    expect(odd).toMatchObject({ type: 'adjustment', needsReview: true });
    expect(odd.gross.equals(d('3'))).toBe(true);
  });

  it('converts China time to UTC (a 00:05 payment is on the previous UTC day)', async () => {
    const { lines } = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    expect(lines[0]!.occurredAt.toISOString()).toBe('2024-02-29T16:05:12.000Z');
  });

  it('reads the gzip bill exactly like the plain one', async () => {
    const plain = await parse(join(FIXTURES, 'all-bom-crlf.csv'));
    const gz = await parse(join(FIXTURES, 'all.csv.gz'));
    expect(gz.lines.map((l) => [l.type, l.gross.toString(), l.fee.toString(), l.providerTxnId])).toEqual(
      plain.lines.map((l) => [l.type, l.gross.toString(), l.fee.toString(), l.providerTxnId]),
    );
    expect(gz.summary.controls).toEqual(plain.summary.controls);
  });

  it('recognises each layout by its header', async () => {
    const layouts = await Promise.all(
      ['all-bom-crlf.csv', 'success-lf-float-summary.csv', 'refund.csv', 'historic.csv', 'historic-v2.csv', 'fundflow.csv'].map(
        async (f) => (await parse(join(FIXTURES, f))).summary.layout,
      ),
    );
    expect(layouts).toEqual([
      'wechatpay.tradebill.ALL',
      'wechatpay.tradebill.SUCCESS',
      'wechatpay.tradebill.REFUND',
      'wechatpay.tradebill.historic',
      'wechatpay.tradebill.historic',
      'wechatpay.fundflow',
    ]);
  });

  it('accepts a float-formatted summary count (3.0)', async () => {
    const { lines, summary } = await parse(join(FIXTURES, 'success-lf-float-summary.csv'));
    expect(lines).toHaveLength(3);
    expect(summary.controls[0]).toMatchObject({ label: '总交易单数', expected: '3', actual: '3' });
  });

  it('REFUND bill: every row a refund, refund times kept in extra, 交易时间 as occurredAt', async () => {
    const { lines } = await parse(join(FIXTURES, 'refund.csv'));
    expect(lines.every((l) => l.type === 'refund')).toBe(true);
    expect(lines[0]!.extra['退款成功时间']).toBe('2024-03-02 10:00:05');
    expect(lines[0]!.occurredAt.toISOString()).toBe('2024-03-02T02:00:00.000Z');
    expect(lines[2]!.extra['退款成功时间']).toBeUndefined();
    expect(lines[0]!.net.equals(d('-49.73'))).toBe(true);
  });

  it('parses an empty bill to no lines', async () => {
    const { lines, summary } = await parse(join(FIXTURES, 'empty.csv'));
    expect(lines).toHaveLength(0);
    expect(summary.account).toBeNull();
    expect(summary.controls.length).toBe(7);
  });

  it('fund-flow bill: signs from 收支类型, fee rows as type fee with gross 0', async () => {
    const { lines } = await parse(join(FIXTURES, 'fundflow.csv'));
    expect(lines.map((l) => [l.type, l.gross.toString(), l.fee.toString(), l.net.toString(), l.needsReview])).toEqual([
      ['payment', '100', '0', '100', false],
      ['fee', '0', '0.6', '-0.6', false],
      ['refund', '-30', '0', '-30', false],
      ['fee', '0', '-0.18', '0.18', false],
      ['adjustment', '50', '0', '50', true],
      ['payout', '-1000', '0', '-1000', false],
    ]);
  });

  it('fund-flow doc sample: an excerpt, refused by its control totals unless accepted', async () => {
    const err = await parse(join(SAMPLES, FUNDFLOW_DOC_SAMPLE)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementFormatError);
    expect((err as StatementFormatError).code).toBe('control_total_mismatch');
    const { lines } = await parse(join(SAMPLES, FUNDFLOW_DOC_SAMPLE), { acceptControlTotalMismatch: true });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ type: 'refund', merchantRef: 'REF4200000068201801293084726067', description: '缺货' });
    expect(lines[0]!.gross.toString()).toBe('-0.02');
  });

  it('refuses the consumer export as a wrong document, saying what it is', async () => {
    const err = await parse(join(SAMPLES, 'consumer-export', 'example-wechat-records.csv')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongDocumentError);
    expect((err as Error).message).toContain('WeChat Pay consumer (personal) bill export');
    expect((err as Error).message).toContain('not a merchant bill');
  });
});
