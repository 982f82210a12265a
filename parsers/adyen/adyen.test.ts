import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ControlTotalMismatchError, StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import { Decimal } from '../../core/money/index.js';
import { runParserConformance } from '../../test/conformance/run-parser-conformance.js';
import { collect } from '../common/parsed-statement.js';
import { adyenParser } from './index.js';
import { offsetOfAbbreviation } from './time-zones.js';
import { lineTypeOf, walletOf } from './record-types.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixturesDir = join(root, 'fixtures/adyen');
const samplesDir = join(root, '../shared/samples/adyen');
const ACCOUNTING = 'an Adyen Payment accounting report';
const mismatch = { acceptControlTotalMismatch: true };

runParserConformance({
  parser: adyenParser,
  fixturesDir,
  rejections: [
    { file: 'not_netting.csv', code: 'control_total_mismatch', line: 3, field: 'MerchantPayout TX999XT (batch 9) EUR', message: 'says 100 but the lines add up to 99.99' },
    { file: 'unknown_tz.csv', code: 'bad_value', line: 3, field: 'TimeZone', message: '"XYZT"' },
    { file: 'bad_amount.csv', code: 'bad_amount', line: 2, field: 'Net Credit (NC)', message: '"12,49"' },
    { file: 'bad_date.csv', code: 'bad_date', line: 3, field: 'Creation Date' },
    { file: 'unknown_layout.csv', code: 'unknown_layout', line: 1, field: 'Payment Method' },
    { file: 'unclosed_quote.csv', code: 'bad_csv' },
  ],
  samplesDir,
  sampleRejections: [
    { file: 'payments_accounting_report_chargeback.csv', code: 'wrong_document', message: ACCOUNTING },
    { file: 'payments_accounting_report_gravy_chargeback.csv', code: 'wrong_document', message: ACCOUNTING },
    { file: 'payments_accounting_report_nyce.csv', code: 'wrong_document', message: ACCOUNTING },
  ],
  sampleOptions: {
    // SmashPig test files whose MerchantPayout does not equal the batch's other lines.
    'settlement_detail_report_chargeback.csv': mismatch,
    'settlement_detail_report_refund.csv': mismatch,
    'settlement_detail_report_donation-ideal.csv': mismatch,
    // OCA test workbook: row 10 says Gross 1598, Commission 6.66, Net 659.34.
    'adyen_test.xlsx': mismatch,
  },
});

const sample = (name: string) => join(samplesDir, name);
const fixture = (name: string) => join(fixturesDir, name);
const parse = (path: string, options?: { acceptControlTotalMismatch?: boolean }) => collect(adyenParser.parse({ path }, options));
const rejection = (path: string) => parse(path).then(() => undefined, (e: unknown) => e);

describe('adyen: real samples', () => {
  it('batch_380: 228 rows, 220 Settled, 6 Refunded, the payout equals the batch', async () => {
    const { lines, summary } = await parse(sample('settlement_detail_report_batch_380.csv'));
    expect(summary.layout).toBe('adyen.sdr.newer');
    expect(summary.account).toBe('YOURCOMPANY_ACCOUNT');
    expect(lines).toHaveLength(228);
    expect(lines.filter((l) => l.status === 'Settled')).toHaveLength(220);
    expect(lines.filter((l) => l.type === 'payment')).toHaveLength(220);
    expect(lines.filter((l) => l.type === 'refund')).toHaveLength(6);
    const payout = lines.find((l) => l.type === 'payout')!;
    expect(payout.net.toFixed(2)).toBe('-55308.07');
    expect(payout.gross.toFixed(2)).toBe('-55308.07');
    expect(payout.providerTxnId).toBe('TX635094301XT');
    expect(payout.extra['payout_reference']).toBe('TX635094301XT');
    expect(payout.source.line).toBe(229);
    const control = summary.controls.find((c) => c.label.startsWith('MerchantPayout'))!;
    expect(control).toMatchObject({ expected: '55308.07', actual: '55308.07', currency: 'USD', line: 229 });
    const first = lines[0]!;
    expect(first).toMatchObject({ type: 'payment', providerTxnId: '1829098024817852', merchantRef: 'CM1000028854', paymentMethod: 'mc', currency: 'USD' });
    expect([first.gross.toFixed(2), first.fee.toFixed(2), first.net.toFixed(2)]).toEqual(['31.45', '0.30', '31.15']);
    // 2021-01-05 00:21:32 CET = 2021-01-04 23:21:32 UTC
    expect(first.occurredAt.toISOString()).toBe('2021-01-04T23:21:32.000Z');
    expect(first.extra['booked_at']).toBe('2021-01-06T22:50:00.000Z');
    expect(first.extra['Batch Number']).toBe('380');
  });

  it('batch_238 (no payout): closes with a Balancetransfer to the next batch, nets to zero', async () => {
    const { lines, summary } = await parse(sample('settlement_detail_report_batch_238.csv'));
    expect(summary.layout).toBe('adyen.sdr.classic');
    expect(lines.map((l) => l.type)).toEqual(['transfer', 'fee', 'transfer']);
    expect(lines[1]!.fee.toString()).toBe('0.09');
    expect(lines[1]!.gross.isZero()).toBe(true);
    expect(lines[1]!.description).toBe('Transaction Fees March     01 2022');
    expect(lines[0]!.description).toBe('Balancetransfer from batch 237');
    expect(summary.controls.map((c) => c.label)).toEqual(['rows', 'batch balance (batch 238) USD']);
  });

  it('chargeback: Commission is the chargeback fee; the unbalanced test batch names its MerchantPayout', async () => {
    const err = await rejection(sample('settlement_detail_report_chargeback.csv'));
    expect(err).toBeInstanceOf(ControlTotalMismatchError);
    expect((err as StatementFormatError).field).toBe('MerchantPayout TX3488899933XT (batch 3) USD');
    expect((err as StatementFormatError).line).toBe(4);
    const { lines } = await parse(sample('settlement_detail_report_chargeback.csv'), mismatch);
    const cb = lines[0]!;
    expect(cb).toMatchObject({ type: 'chargeback', providerTxnId: '4555568869855336', parentTxnId: '4555568860022701', merchantOrderId: '92598318.0' });
    expect([cb.gross.toFixed(2), cb.fee.toFixed(2), cb.net.toFixed(2)]).toEqual(['-1.00', '2.00', '-3.00']);
    // PST = UTC-8
    expect(cb.occurredAt.toISOString()).toBe('2016-02-10T18:25:36.000Z');
  });

  it('chargeback reversed: quoted empties, .11, positive gross on an adjustment (a reversal has no ledger row)', async () => {
    const { lines, summary } = await parse(sample('settlement_detail_report_chargeback_reversed.csv'));
    expect(summary.controls.map((c) => c.label)).toEqual(['rows']);
    expect(lines[0]).toMatchObject({ type: 'adjustment', status: 'ChargebackReversed', merchantRef: '92598312.0' });
    expect([lines[0]!.gross.toString(), lines[0]!.fee.toString(), lines[0]!.net.toString()]).toEqual(['52', '0.11', '51.89']);
  });

  it('emptynetcredit: INR gross converted to USD; line in NC with GC kept in extra; Payment Fees not double counted', async () => {
    const { lines, summary } = await parse(sample('settlement_detail_report_emptynetcredit.csv'));
    expect(summary.layout).toBe('adyen.sdr.extended');
    const l = lines[0]!;
    expect(l.currency).toBe('USD');
    expect([l.gross.toString(), l.fee.toString(), l.net.toString()]).toEqual(['0.11', '0.14', '-0.03']);
    expect(l.extra).toMatchObject({ gross_gc: '10', 'Gross Currency': 'INR', 'Exchange Rate': '0.011', 'Payment Fees (NC)': '0.14', ARN: '1.2302025304E+022' });
    expect(JSON.parse(l.extra['Metadata']!)).toMatchObject({ gr4vy_tx_ref: '239460213.5' });
  });

  it('reordered columns give the same lines as the original order', async () => {
    const a = await parse(sample('settlement_detail_report_donation.csv'));
    const b = await parse(sample('settlement_detail_report_donation_reordered.csv'));
    const strip = (l: (typeof a.lines)[number]) => ({ ...l, source: null, extra: null });
    expect(b.lines.map(strip)).toEqual(a.lines.map(strip));
  });

  it('deposit correction and invoice deduction are adjustments', async () => {
    const dc = await parse(sample('settlement_detail_report_deposit_correction.csv'));
    expect(dc.lines.map((l) => [l.type, l.net.toString()])).toEqual([['adjustment', '-500'], ['adjustment', '300']]);
    const inv = await parse(sample('settlement_detail_report_invoice_deduction.csv'));
    expect(inv.lines.map((l) => [l.type, l.gross.toString(), l.fee.toString(), l.net.toString()])).toEqual([
      ['adjustment', '-0.06', '0', '-0.06'],
      ['adjustment', '0.03', '0', '0.03'],
    ]);
  });

  it('xlsx export: parses as adyen.sdr.xlsx, numeric cells become exact decimals, CDT applied', async () => {
    const { lines, summary } = await parse(sample('adyen_test_credit_fees.xlsx'));
    expect(summary.layout).toBe('adyen.sdr.xlsx');
    expect(lines).toHaveLength(40);
    expect(lines[0]!.source).toEqual({ member: 'Data', line: 5 });
    expect(lines[0]).toMatchObject({ type: 'refund', providerTxnId: '1514649466943109', parentTxnId: '1414648783376705', merchantRef: 'test payment', merchantOrderId: '19000000180' });
    expect([lines[0]!.gross.toString(), lines[0]!.fee.toString(), lines[0]!.net.toString()]).toEqual(['-6', '0.2', '-6.2']);
    // 2016-06-03 04:39:26 CDT = 09:39:26 UTC
    expect(lines[0]!.occurredAt.toISOString()).toBe('2016-06-03T09:39:26.000Z');
    const fx = lines.find((l) => l.extra['Gross Currency'] === 'GBP')!;
    expect(fx.extra['Exchange Rate']).toBe('1.29839409151712');
    expect(fx.net.toString()).toBe('2827.21');
    expect(fx.gross.toString()).toBe('2853.87'); // 2827.21 + 17.12 + 0.88 + 8.66
    expect(summary.controls.find((c) => c.label.startsWith('MerchantPayout'))).toMatchObject({ expected: '10506.69', actual: '10506.69' });
  });

  it('xlsx with an inconsistent row names the line, and keeps net when accepted', async () => {
    const err = await rejection(sample('adyen_test.xlsx'));
    expect(err).toBeInstanceOf(ControlTotalMismatchError);
    expect((err as StatementFormatError).line).toBe(10);
    const { lines } = await parse(sample('adyen_test.xlsx'), mismatch);
    const bad = lines.find((l) => l.source.line === 10)!;
    expect(bad.needsReview).toBe(true);
    expect([bad.gross.toString(), bad.fee.toString(), bad.net.toString()]).toEqual(['1598', '938.66', '659.34']);
    expect(bad.extra['fees_stated']).toBe('6.66');
    expect(lines[0]!.providerTxnId).toBe('4814769000000000');
  });

  it('payment accounting reports are recognised and rejected', async () => {
    const err = await rejection(sample('payments_accounting_report_nyce.csv'));
    expect(err).toBeInstanceOf(WrongDocumentError);
    expect((err as Error).message).toContain('not a settlement detail report');
  });
});

describe('adyen: own fixtures', () => {
  it('batch_501: wallets, CET/CEST around the DST switch, FX line in EUR, payout control', async () => {
    const { lines, summary } = await parse(fixture('settlement_detail_report_batch_501.csv'));
    expect(lines.map((l) => l.wallet)).toEqual(['apple_pay', 'google_pay', null, null, 'apple_pay', null, null, null, null]);
    expect(lines[0]!.occurredAt.toISOString()).toBe('2024-03-30T22:10:05.000Z'); // CET
    expect(lines[1]!.occurredAt.toISOString()).toBe('2024-03-31T00:59:59.000Z'); // CET, last second before the switch
    expect(lines[2]!.occurredAt.toISOString()).toBe('2024-03-31T01:00:01.000Z'); // CEST
    const fx = lines[3]!;
    expect([fx.currency, fx.gross.toFixed(2), fx.fee.toFixed(2), fx.net.toFixed(2)]).toEqual(['EUR', '58.21', '0.39', '57.82']);
    expect(fx.extra).toMatchObject({ gross_gc: '50', 'Gross Currency': 'GBP', 'Exchange Rate': '1.1642' });
    const refund = lines[4]!;
    expect(refund).toMatchObject({ type: 'refund', providerTxnId: '8815000000000201', parentTxnId: '8815000000000001', merchantRef: 'RF-2001-1', merchantOrderId: 'ORD-2001' });
    const payout = lines[8]!;
    expect(payout.net.equals(new Decimal('-265.19'))).toBe(true);
    expect(summary.controls[1]).toMatchObject({ label: 'MerchantPayout TX100200300XT (batch 501) EUR', expected: '265.19', actual: '265.19' });
  });

  it('batch_77: unknown record type is kept for review; PDT and PST on the same wall clock are an hour apart', async () => {
    const { lines } = await parse(fixture('settlement_detail_report_batch_77.csv'));
    const odd = lines.find((l) => l.status === 'FancyNewType')!;
    expect(odd).toMatchObject({ type: 'adjustment', needsReview: true });
    expect(lines[2]!.occurredAt.getTime() - lines[1]!.occurredAt.getTime()).toBe(3_600_000);
    expect(lines[3]!.merchantRef).toBe('555001.0'); // no Modification Merchant Reference: fallback
    expect(lines[1]!.fee.toString()).toBe('0.35');
  });
});

describe('adyen: tables', () => {
  it('maps abbreviations explicitly and refuses unknown ones', () => {
    expect(offsetOfAbbreviation('CEST')).toBe(120);
    expect(offsetOfAbbreviation('CET')).toBe(60);
    expect(offsetOfAbbreviation('PDT')).toBe(-420);
    expect(offsetOfAbbreviation('GMT+05:30')).toBe(330);
    expect(offsetOfAbbreviation('IST')).toBeUndefined();
  });
  it('maps record types, unknown ones to a reviewed adjustment', () => {
    expect(lineTypeOf('Settled')).toEqual({ type: 'payment', known: true });
    expect(lineTypeOf('SettledBulk')).toEqual({ type: 'payment', known: true });
    expect(lineTypeOf('RefundedBulk')).toEqual({ type: 'refund', known: true });
    expect(lineTypeOf('SecondChargeback')).toEqual({ type: 'chargeback', known: true });
    expect(lineTypeOf('ChargebackReversed')).toEqual({ type: 'adjustment', known: true });
    expect(lineTypeOf('MerchantPayout')).toEqual({ type: 'payout', known: true });
    expect(lineTypeOf('Balancetransfer')).toEqual({ type: 'transfer', known: true });
    expect(lineTypeOf('ReserveAdjustment')).toEqual({ type: 'adjustment', known: true });
    expect(lineTypeOf('SomethingElse')).toEqual({ type: 'adjustment', known: false });
  });
  it('reads wallets from variant suffixes', () => {
    expect(walletOf('visa_applepay', 'visa')).toBe('apple_pay');
    expect(walletOf('mc_googlepay', 'nyce')).toBe('google_pay');
    expect(walletOf('visa_androidpay', 'visa')).toBe('google_pay');
    expect(walletOf('amex_samsungpay', 'amex')).toBe('samsung_pay');
    expect(walletOf('', 'paywithgoogle')).toBe('google_pay');
    expect(walletOf('visadebit', 'visa')).toBeNull();
  });
});
