import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import { Decimal } from '../../core/money/index.js';
import { runParserConformance } from '../../test/conformance/run-parser-conformance.js';
import { collect } from '../common/parsed-statement.js';
import type { StatementLine } from '../contract.js';
import { canonicalFeeFromServiceFee } from './fee.js';
import { alipayParser } from './index.js';
import { decodeMemberName } from './input.js';

const FIXTURES = 'fixtures/alipay';
const MAIN_ZIP = join(FIXTURES, '20880211096256330156_20190916.csv.zip');
const DETAIL_MEMBER = '20880211096256330156_20190916_业务明细.csv';
const SUMMARY_MEMBER = '20880211096256330156_20190916_业务明细(汇总).csv';

runParserConformance({
  parser: alipayParser,
  fixturesDir: FIXTURES,
  ignore: ['make-fixtures.ts'],
  rejections: [
    { file: 'trade-total-mismatch.csv', code: 'control_total_mismatch', line: 13, field: '#交易合计 商家实收' },
    { file: 'summary-total-mismatch.csv.zip', code: 'control_total_mismatch', line: 8, field: '业务明细(汇总) 合计 商家实收（元）', message: SUMMARY_MEMBER },
    { file: 'truncated-no-end-marker.csv', code: 'truncated', line: 8, message: '业务明细列表结束' },
    { file: 'truncated-no-totals.csv', code: 'truncated', line: 12, message: '#交易合计' },
    { file: 'utf8-instead-of-gbk.csv', code: 'bad_encoding', line: 1, message: 'looks UTF-8' },
    { file: 'invalid-gbk-bytes.csv', code: 'bad_encoding', line: 7 },
    { file: 'missing-column.csv', code: 'unknown_layout', line: 5, field: '商户订单号' },
    { file: 'bad-amount.csv', code: 'bad_amount', line: 7, field: '商家实收（元）' },
    { file: 'bad-date.csv', code: 'bad_date', line: 8, field: '完成时间' },
    { file: 'column-count.csv', code: 'column_count', line: 9 },
    { file: 'isv-net-mismatch.csv', code: 'control_total_mismatch', line: 6, field: '实收净额（元）' },
    { file: 'no-detail-member.csv.zip', code: 'unknown_layout', message: `members found: ${SUMMARY_MEMBER}, 说明.txt` },
    { file: 'truncated.csv.zip', code: 'truncated' },
  ],
  samplesDir: '../shared/samples/alipay/consumer-export',
  sampleRejections: [{ file: 'example-alipay-records.csv', code: 'wrong_document', message: 'consumer' }],
});

const parse = (file: string, options = {}) => collect(alipayParser.parse({ path: join(FIXTURES, file) }, options));
const d = (v: string) => new Decimal(v);
const money = (l: StatementLine) => [l.gross.toString(), l.fee.toString(), l.net.toString()];

describe('alipay: the bill-download zip (汇总 member first, GBK names)', () => {
  it('reads the 业务明细 member, not the first one, and states account, period and layout', async () => {
    const { lines, summary } = await collect(alipayParser.parse({ path: MAIN_ZIP }));
    expect(lines).toHaveLength(6);
    expect(lines.every((l) => l.source.member === DETAIL_MEMBER)).toBe(true);
    expect(lines.map((l) => l.source.line)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(summary.layout).toBe('alipay.trade.25');
    expect(summary.account).toBe('20880211096256330156');
    expect(summary.period?.start.toISOString()).toBe('2019-09-15T16:00:00.000Z');
    expect(summary.period?.end.toISOString()).toBe('2019-09-16T16:00:00.000Z');
    expect(summary.timeZone).toBe('Asia/Shanghai');
  });

  it('checks the 交易合计/退款合计 lines and the 汇总 合计 row', async () => {
    const { summary } = await collect(alipayParser.parse({ path: MAIN_ZIP }));
    const byLabel = new Map(summary.controls.map((c) => [c.label, c]));
    expect(byLabel.get('#交易合计 笔数')).toMatchObject({ expected: '3', actual: '3', member: DETAIL_MEMBER, line: 13 });
    expect(byLabel.get('#交易合计 商家实收')).toMatchObject({ expected: '150.01', actual: '150.01' });
    expect(byLabel.get('#退款合计 商家实收退款')).toMatchObject({ expected: '-60', actual: '-60', line: 14 });
    expect(byLabel.get('业务明细(汇总) 合计 交易订单总笔数')).toMatchObject({ expected: '3', member: SUMMARY_MEMBER, line: 8 });
    expect(byLabel.get('业务明细(汇总) 合计 退款订单总笔数')).toMatchObject({ expected: '3', actual: '3' });
    expect(byLabel.get('业务明细(汇总) 合计 商家实收（元）')).toMatchObject({ expected: '90.01', actual: '90.01' });
    expect(byLabel.get('业务明细(汇总) 合计 服务费（元）')).toMatchObject({ expected: '-0.54', actual: '-0.54' });
    expect(byLabel.get('业务明细(汇总) 合计 实收净额（元）')).toMatchObject({ expected: '89.47', actual: '89.47' });
    expect(byLabel.get('业务明细(汇总) 合计 订单金额（元）')).toMatchObject({ expected: '98.01', actual: '98.01' });
  });

  it('maps a payment with a service fee: fee = −服务费, net = 商家实收 + 服务费', async () => {
    const { lines } = await collect(alipayParser.parse({ path: MAIN_ZIP }));
    const pay = lines.find((l) => l.type === 'payment' && l.providerTxnId === '2019091622001458860515315453')!;
    expect(money(pay)).toEqual(['100', '0.6', '99.4']);
    expect(pay).toMatchObject({ parentTxnId: null, merchantRef: 'service_1568601259302', merchantOrderId: null, currency: 'CNY', wallet: 'alipay', status: null, needsReview: false });
    expect(pay.occurredAt.toISOString()).toBe('2019-09-16T02:33:45.000Z');
    const early = lines[0]!;
    expect(early.occurredAt.toISOString()).toBe('2019-09-15T16:05:00.000Z');
  });

  it('maps partial refunds: the trade number as id and parent, the request number as merchantRef', async () => {
    const { lines } = await collect(alipayParser.parse({ path: MAIN_ZIP }));
    const refunds = lines.filter((l) => l.type === 'refund');
    expect(refunds.map((l) => l.merchantRef)).toEqual(['RF20190916001', 'RF20190916002', 'service_1568601259302']);
    for (const r of refunds) {
      expect(r.providerTxnId).toBe('2019091622001458860515315453');
      expect(r.parentTxnId).toBe('2019091622001458860515315453');
      expect(r.merchantOrderId).toBe('service_1568601259302');
      expect(r.gross.isNegative()).toBe(true);
      expect(r.fee.isNegative()).toBe(true); // the fee is given back on a refund
    }
    expect(money(refunds[0]!)).toEqual(['-30', '-0.18', '-29.82']);
    expect(refunds[0]!.occurredAt.toISOString()).toBe('2019-09-16T07:20:00.000Z'); // 完成时间, the refund time
    expect(refunds[0]!.extra.refundRequestNoDefaulted).toBeUndefined();
    expect(refunds[2]!.extra.refundRequestNoDefaulted).toBe('true');
  });

  it('reads a quoted 商品名称 holding a comma and keeps discounts in extra', async () => {
    const { lines } = await collect(alipayParser.parse({ path: MAIN_ZIP }));
    const gift = lines.find((l) => l.providerTxnId === '2019091622001458860515315460')!;
    expect(gift.description).toBe('礼盒装, 大号');
    expect(gift.extra).toEqual({ orderAmount: '58.00', alipayRedPacket: '3.00', alipayDiscount: '5.00', storeId: 'ST001', storeName: '南京西路店', operator: '0001', terminalId: 'T01', remark: '会员日' });
    expect(money(gift)).toEqual(['50', '0.3', '49.7']);
  });

  it('uses the display name in messages and names the zip member', async () => {
    const err = await collect(alipayParser.parse({ path: join(FIXTURES, 'bad/summary-total-mismatch.csv.zip'), displayName: 'bill.zip' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementFormatError);
    expect((err as StatementFormatError).file).toBe(`bill.zip!${SUMMARY_MEMBER}`);
  });

  it('records but accepts a mismatching total when asked', async () => {
    const { lines, summary } = await collect(alipayParser.parse({ path: join(FIXTURES, 'bad/trade-total-mismatch.csv') }, { acceptControlTotalMismatch: true }));
    expect(lines).toHaveLength(6);
    expect(summary.controls.find((c) => c.label === '#交易合计 商家实收')).toMatchObject({ expected: '150.02', actual: '150.01' });
  });

  it('stops cleanly when the consumer stops reading', async () => {
    const parsed = alipayParser.parse({ path: MAIN_ZIP });
    for await (const line of parsed) {
      expect(line.type).toBe('payment');
      break;
    }
  });
});

describe('alipay: other 业务明细 layouts', () => {
  it('a bare csv with half-width (元) headers and trailing tabs; unknown 业务类型 kept for review', async () => {
    const { lines, summary } = await parse('20880211096256330156_20190917_业务明细.csv');
    expect(summary.layout).toBe('alipay.trade.25');
    expect(lines.map((l) => l.type)).toEqual(['payment', 'refund', 'adjustment']);
    expect(lines.every((l) => l.source.member === null)).toBe(true);
    const refund = lines[1]!;
    expect(refund).toMatchObject({ providerTxnId: '2019091522001400000000000099', parentTxnId: '2019091522001400000000000099', merchantRef: 'RB-0999-1', merchantOrderId: 'O-0999' });
    expect(money(refund)).toEqual(['-200', '-1.2', '-198.8']);
    const adj = lines[2]!;
    expect(adj).toMatchObject({ needsReview: true, merchantRef: 'O-1001', parentTxnId: null });
    expect(adj.extra.businessType).toBe('分账');
    expect(adj.extra.remark).toBe('分账给服务商');
    expect(summary.period?.start.toISOString()).toBe('2019-09-16T16:00:00.000Z');
  });

  it('the older 22-column layout: 交易金额 read as 商家实收, 退款批次号 as the request number', async () => {
    const { lines, summary } = await parse('20886126836996110156_20160906_业务明细.csv');
    expect(summary.layout).toBe('alipay.trade.22');
    expect(summary.account).toBe('20886126836996110156');
    expect(lines.map(money)).toEqual([
      ['20', '0.12', '19.88'],
      ['15.5', '0.09', '15.41'],
      ['-5.5', '-0.03', '-5.47'],
    ]);
    expect(lines[2]!.merchantRef).toBe('2016090618000001');
    expect(summary.controls.map((c) => c.label)).toEqual(['#交易合计 笔数', '#交易合计 交易金额', '#退款合计 笔数', '#退款合计 退款金额']);
  });

  it('the bank/ISV variant: backticks stripped, 手续费 under the fee rule, 实收净额 checked, 交易方式 kept', async () => {
    const { lines, summary } = await parse('isv-bank-channel_业务明细.csv');
    expect(summary.layout).toBe('alipay.trade.28');
    expect(lines.map(money)).toEqual([
      ['100', '0.38', '99.62'],
      ['-40', '-0.15', '-39.85'],
    ]);
    expect(lines[0]).toMatchObject({ providerTxnId: '2017071221001004660224927787', merchantRef: 'DD20170712143447202138429', paymentMethod: 'ALI_NATIVE' });
    expect(lines[0]!.extra).toMatchObject({ merchantId: 'm20170628000004866', feeRate: '0.0038', netReceived: '99.62' });
    expect(lines[1]).toMatchObject({ type: 'refund', merchantRef: 'RR20170712160028098723', merchantOrderId: 'DD20170712143447202138429' });
  });

  it('an empty day parses to no lines with its 0笔 totals checked (zip with UTF-8 flagged names)', async () => {
    const { lines, summary } = await parse('20880211096256330156_20191001.csv.zip');
    expect(lines).toEqual([]);
    expect(summary.lineCount).toBe(0);
    expect(summary.controls.length).toBeGreaterThanOrEqual(4);
    expect(summary.controls.every((c) => d(c.expected).isZero())).toBe(true);
  });
});

describe('alipay: 账务明细 (signcustomer)', () => {
  it('maps types and signs; fee rows carry the fee, net is the balance movement', async () => {
    const { lines, summary } = await parse('20888011365400330156_20121229_账务明细.csv');
    expect(summary.layout).toBe('alipay.account');
    expect(summary.account).toBe('20888011365400330156');
    expect(lines.map((l) => l.type)).toEqual(['payment', 'fee', 'refund', 'payout', 'transfer', 'adjustment']);
    expect(lines.map((l) => l.net.toString())).toEqual(['2274', '-13.64', '-100', '-2000', '50', '-10']);
    expect(money(lines[1]!)).toEqual(['0', '13.64', '-13.64']);
    expect(lines[0]).toMatchObject({ providerTxnId: '2012122923922029', merchantRef: '3226563' });
    expect(lines[0]!.extra.accountEntryNo).toBe('54632446537371');
    expect(lines[5]!.needsReview).toBe(true);
    expect(summary.controls.map((c) => [c.label, c.expected, c.actual])).toEqual([
      ['#收入合计 笔数', '2', '2'],
      ['#收入合计 金额', '2324', '2324'],
      ['#支出合计 笔数', '4', '4'],
      ['#支出合计 金额 (absolute)', '2123.64', '2123.64'],
    ]);
  });
});

describe('alipay: building blocks', () => {
  it('the fee sign rule: a fee charged (−0.60 in the file) is a positive canonical fee', () => {
    expect(canonicalFeeFromServiceFee(d('-0.60')).toString()).toBe('0.6');
    expect(canonicalFeeFromServiceFee(d('0.18')).toString()).toBe('-0.18');
    expect(Object.is(canonicalFeeFromServiceFee(d('0.00')).toNumber(), 0)).toBe(true);
  });

  it('decodes zip member names as GBK without the UTF-8 flag and as UTF-8 with it', () => {
    const name = '2088_20190916_业务明细(汇总).csv';
    expect(decodeMemberName(iconv.encode(name, 'gbk'), 0)).toBe(name);
    expect(decodeMemberName(Buffer.from(name, 'utf8'), 0x800)).toBe(name);
  });

  it('refuses the consumer export as a WrongDocumentError', async () => {
    const err = await collect(alipayParser.parse({ path: '../shared/samples/alipay/consumer-export/example-alipay-records.csv' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongDocumentError);
    expect((err as Error).message).toContain('Alipay consumer (personal) export, not a merchant bill');
  });

  it('refuses a bare 业务明细(汇总) as the wrong document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-'));
    const path = join(dir, 'x_业务明细(汇总).csv');
    writeFileSync(path, iconv.encode('#支付宝业务汇总查询\r\n#账号：[2088]\r\n', 'gbk'));
    const err = await collect(alipayParser.parse({ path })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongDocumentError);
    expect((err as StatementFormatError).line).toBe(1);
  });

  it('accepts trailing empty cells beyond the header (a trailing comma) but not missing ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'alipay-'));
    const body = (row: string) =>
      ['#支付宝业务明细查询', '#---业务明细列表---', '支付宝交易号,商户订单号,业务类型,完成时间,商家实收（元）', row, '#---业务明细列表结束---', '#交易合计：1笔，商家实收共1.00元', '#退款合计：0笔，商家实收退款共0.00元'].join('\r\n');
    const ok = join(dir, 'ok.csv');
    writeFileSync(ok, iconv.encode(body('2019\t,O1\t,交易\t,2019-09-16 10:00:00\t,1.00\t,,'), 'gbk'));
    const { lines, summary } = await collect(alipayParser.parse({ path: ok }));
    expect(lines).toHaveLength(1);
    expect(summary.layout).toBe('alipay.trade.5');
    expect(summary.period).toBeNull();
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, iconv.encode(body('2019\t,O1\t,交易\t,2019-09-16 10:00:00'), 'gbk'));
    await expect(collect(alipayParser.parse({ path: bad }))).rejects.toMatchObject({ code: 'column_count', line: 4 });
  });
});
