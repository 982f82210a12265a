import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ControlTotalMismatchError, StatementFormatError } from '../../core/errors.js';
import { runParserConformance, type Rejection } from '../../test/conformance/run-parser-conformance.js';
import { collect } from '../common/parsed-statement.js';
import type { ParseOptions, StatementLine } from '../contract.js';
import { lookupEventCode } from './event-codes.js';
import { paypalParser } from './index.js';
import { parsePayPalTime } from './parse.js';

const FIXTURES = 'fixtures/paypal';
const SAMPLES = '../shared/samples/paypal';
const ACCEPT: ParseOptions = { acceptControlTotalMismatch: true };

const rejections: Rejection[] = [
  { file: 'bad-amount.csv', code: 'bad_amount', line: 6, field: 'Gross Transaction Amount' },
  { file: 'bad-date.csv', code: 'bad_date', line: 5, field: 'Transaction Initiation Date' },
  { file: 'bad-direction.csv', code: 'bad_direction', line: 6, field: 'Transaction Debit or Credit', message: 'neither CR nor DR' },
  { file: 'bad-fee-direction.csv', code: 'bad_direction', line: 5, field: 'Fee Debit or Credit' },
  { file: 'fee-currency-mismatch.csv', code: 'fee_currency_mismatch', line: 5, field: 'Fee Currency' },
  { file: 'footer-mismatch.csv', code: 'control_total_mismatch', line: 9, field: 'RF USD Total Fee Amount Debit', message: 'says 3.39 but the lines add up to 4.81' },
  { file: 'missing-column.csv', code: 'unknown_layout', line: 4, field: 'Fee Amount' },
  { file: 'no-column-header.csv', code: 'unknown_layout', line: 4, field: 'CH' },
  { file: 'truncated.csv', code: 'truncated', line: 6, field: 'FF' },
  { file: 'unknown-record-type.csv', code: 'unknown_record', line: 6, field: 'record type' },
];

const sampleRejections: Rejection[] = [
  { file: 'activity_en.csv', code: 'wrong_document', message: 'PayPal website activity download' },
  { file: 'statement_en.csv', code: 'wrong_document', message: 'PayPal website statement download' },
  { file: 'statement_es.csv', code: 'wrong_document', message: 'PayPal website statement download' },
];

// SOURCES.md: the SmashPig fixtures' footers were hand-edited and disagree with their lines.
const sampleOptions: Record<string, ParseOptions> = {
  'stl_brl_refund.csv': { acceptMissingFooters: true },
  'stl.csv': ACCEPT,
  'stl_dr_payment.csv': ACCEPT,
  'stl_payout_currency_convert.csv': ACCEPT,
  'trr_express_with_non_data_rows.csv': ACCEPT,
};

runParserConformance({ parser: paypalParser, fixturesDir: FIXTURES, rejections, samplesDir: SAMPLES, sampleRejections, sampleOptions });

async function parse(path: string, options?: ParseOptions) {
  return collect(paypalParser.parse({ path }, options));
}
const byId = (lines: StatementLine[], id: string): StatementLine => {
  const line = lines.find((l) => l.providerTxnId === id);
  if (!line) throw new Error(`no line ${id}`);
  return line;
};
const amounts = (l: StatementLine) => [l.gross.toString(), l.fee.toString(), l.net.toString(), l.currency];
const rejection = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as StatementFormatError);

describe('paypal amounts and signs', () => {
  it('reads every currency, JPY included, as integer hundredths', async () => {
    const { lines } = await parse(join(SAMPLES, 'trr_express_checkout_donation.csv'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.type).toBe('payment');
    expect(amounts(lines[0]!)).toEqual(['150', '43', '107', 'JPY']);
    const main = await parse(join(FIXTURES, 'stl-multi-currency.csv'));
    expect(amounts(byId(main.lines, '4GG77777HH8888899'))).toEqual(['15000', '54', '14946', 'JPY']);
  });

  it('gives a refund (T1107) a negative gross and the fee PayPal returns (CR) a negative fee', async () => {
    const { lines } = await parse(join(SAMPLES, 'stl.csv'), ACCEPT);
    const refund = byId(lines, '6899');
    expect(refund.type).toBe('refund');
    expect(amounts(refund)).toEqual(['-1.34', '-0.47', '-0.87', 'GBP']);
    expect(refund.parentTxnId).toBe('99900');
    const payment = byId(lines, '5678');
    expect(amounts(payment)).toEqual(['52', '2.25', '49.75', 'AUD']);
    const trr = await parse(join(SAMPLES, 'trr_express_checkout_refund.csv'));
    expect(amounts(trr.lines[0]!)).toEqual(['-150', '-43', '-107', 'JPY']);
    expect(trr.lines[0]!.parentTxnId).toBe('1V551844CE5526421');
    expect(trr.lines[0]!.merchantOrderId).toBe('46239229.1');
  });

  it('keeps a T0200 currency conversion as a pair of transfers, one per currency, linked to the payment', async () => {
    const { lines } = await parse(join(SAMPLES, 'stl_currency_convert.csv'));
    const [payment, out, into] = lines;
    expect(payment!.type).toBe('payment');
    expect(amounts(payment!)).toEqual(['22', '3.6', '18.4', 'BRL']);
    expect([out!.type, into!.type]).toEqual(['transfer', 'transfer']);
    expect(amounts(out!)).toEqual(['-18.4', '0', '-18.4', 'BRL']);
    expect(amounts(into!)).toEqual(['3.27', '0', '3.27', 'USD']);
    expect([out!.parentTxnId, into!.parentTxnId]).toEqual(['1DV3', '1DV3']);
  });

  it('maps chargebacks, their fees and reversals', async () => {
    const { lines } = await parse(join(FIXTURES, 'stl-multi-currency.csv'));
    const cb = byId(lines, '8QQ55555RR6666677');
    expect([cb.type, ...amounts(cb), cb.parentTxnId, cb.merchantOrderId]).toEqual(['chargeback', '-49.9', '0', '-49.9', 'USD', '2CC33333DD4444455', 'INV-1002']);
    const cbFee = byId(lines, '9SS77777TT8888899');
    expect([cbFee.type, ...amounts(cbFee), cbFee.parentTxnId]).toEqual(['fee', '-20', '0', '-20', 'USD', '8QQ55555RR6666677']);
    const reversal = byId(lines, '0UU99999VV0000011');
    expect([reversal.type, ...amounts(reversal), reversal.description]).toEqual(['adjustment', '49.9', '0', '49.9', 'USD', 'Chargeback reversal']);
    const feeBack = byId(lines, '1WW11111XX2222233');
    expect([feeBack.type, ...amounts(feeBack)]).toEqual(['fee', '20', '0', '20', 'USD']);
    const payout = byId(lines, '2YY33333ZZ4444455');
    expect([payout.type, ...amounts(payout), payout.extra.bankReferenceId]).toEqual(['payout', '-100', '0', '-100', 'USD', '7705123498']);
  });

  it('treats an outgoing T00xx payment (DR) as a transfer, not a customer payment', async () => {
    const { lines } = await parse(join(SAMPLES, 'trr_dr_payment.csv'));
    expect([lines[0]!.type, ...amounts(lines[0]!)]).toEqual(['transfer', '-150', '4.99', '-154.99', 'USD']);
  });
});

describe('paypal TRR events that move no money', () => {
  it('keeps auth, void and denied events with zero canonical amounts and the stated ones in extra', async () => {
    const { lines, summary } = await parse(join(FIXTURES, 'trr-non-money-events.csv'));
    expect(summary.layout).toBe('paypal.trr.8');
    expect(lines).toHaveLength(8);
    const voided = byId(lines, '7BB00000VO0000002');
    expect([voided.type, voided.status, ...amounts(voided)]).toEqual(['adjustment', 'V', '0', '0', '0', 'USD']);
    expect(voided.extra).toMatchObject({ eventCode: 'T1302', statedGross: '50.00', statedFee: '0.00', noMoney: 'authorization event' });
    const denied = byId(lines, '9DD00000DE0000004');
    expect([denied.type, denied.status, ...amounts(denied)]).toEqual(['adjustment', 'D', '0', '0', '0', 'USD']);
    expect(denied.extra).toMatchObject({ statedGross: '30.00', eventType: 'payment', noMoney: 'denied' });
    const pending = byId(lines, '0EE00000PE0000005');
    expect([pending.type, pending.status, ...amounts(pending)]).toEqual(['payment', 'P', '12', '0.65', '11.35', 'USD']);
    const unknown = byId(lines, '2GG00000UN0000007');
    expect([unknown.type, unknown.needsReview, unknown.description]).toEqual(['adjustment', true, 'Unknown event code T9999']);
    const jpy = byId(lines, '3HH00000JP0000008');
    expect([...amounts(jpy), jpy.paymentMethod, jpy.wallet]).toEqual(['150', '43', '107', 'JPY', 'Visa', 'paypal']);
    // 09:15 at -0700 (US daylight time began on 2026-03-08) is 16:15 UTC.
    expect(byId(lines, '8CC00000PA0000003').occurredAt.toISOString()).toBe('2026-03-09T16:15:00.000Z');
  });

  it('keeps the T1302 void of the real sample and flags its unknown T9900 companion for review', async () => {
    const { lines } = await parse(join(SAMPLES, 'trr_void.csv'));
    expect(lines.map((l) => [l.type, l.status, l.gross.toString(), l.needsReview])).toEqual([
      ['adjustment', 'S', '15.6', true],
      ['adjustment', 'V', '0', false],
    ]);
  });

  it('has no unknown-code fallback by group: unmapped codes are reviewed', () => {
    expect(lookupEventCode('T0006')).toMatchObject({ type: 'payment', known: true });
    expect(lookupEventCode('T0199')).toMatchObject({ type: 'adjustment', known: false });
  });
});

describe('paypal report structure', () => {
  it('names exactly which footer total disagrees', async () => {
    const err = await rejection(parse(join(SAMPLES, 'stl.csv')));
    expect(err).toBeInstanceOf(ControlTotalMismatchError);
    const e = err as ControlTotalMismatchError;
    expect([e.line, e.field, e.expected, e.actual]).toEqual([8, 'SF GBP Total Gross Amount Debit', '1.34', '2.34']);
  });

  it('still records every total when the mismatch is accepted', async () => {
    const { summary } = await parse(join(SAMPLES, 'stl_payout_currency_convert.csv'), ACCEPT);
    const bad = summary.controls.filter((c) => c.expected !== c.actual).map((c) => c.label);
    expect(bad).toEqual(['RF USD record count', 'RF AUD record count']);
  });

  it('reads the period, account and window time zone of a tab-delimited report with two sections', async () => {
    const { lines, summary } = await parse(join(FIXTURES, 'stl-two-sections.tab'));
    expect(summary.layout).toBe('paypal.stl.8');
    expect(summary.account).toBe('EXAMPLEACCT02');
    expect(summary.timeZone).toBe('Asia/Hong_Kong');
    expect(summary.period).toEqual({ start: new Date('2026-02-28T16:00:00Z'), end: new Date('2026-03-02T16:00:00Z') });
    expect(lines.map((l) => l.source.line)).toEqual([5, 6, 12, 13]);
  });

  it('reads a pre-7 report with space-less column names in UTF-16', async () => {
    const { lines, summary } = await parse(join(FIXTURES, 'stl-pre7-utf16.csv'));
    expect(summary.layout).toBe('paypal.stl.pre7');
    expect(lines.map((l) => [l.type, ...amounts(l)])).toEqual([
      ['payment', '33', '1.26', '31.74', 'AUD'],
      ['refund', '-33', '-1.26', '-31.74', 'AUD'],
    ]);
    expect(lines[0]!.extra.customField).toBe('cart 19');
  });

  it('parses the SH period as [start, end + 1 s)', async () => {
    const { summary } = await parse(join(FIXTURES, 'stl-multi-currency.csv'));
    expect(summary.period).toEqual({ start: new Date('2026-03-01T08:00:00Z'), end: new Date('2026-03-02T08:00:00Z') });
    expect(summary.layout).toBe('paypal.stl.9');
    expect(summary.timeZone).toBe('America/Los_Angeles');
  });

  it('refuses a real sample with RH and no footers as truncated, and reads it only when told its footers are missing', async () => {
    // SmashPig's copy starts with RH/FH/SH but was cut after three SB rows: no SF/RF/FF at all.
    const err = await rejection(parse(join(SAMPLES, 'stl_brl_refund.csv'), ACCEPT));
    expect([err?.code, err?.line]).toEqual(['truncated', 7]);
    const { lines } = await collect(paypalParser.parse({ path: join(SAMPLES, 'stl_brl_refund.csv') }, { acceptMissingFooters: true }));
    expect(lines.map((l) => [l.type, l.gross.toFixed(2), l.fee.toFixed(2), l.currency])).toEqual([
      ['refund', '-15.00', '-3.38', 'BRL'],
      ['transfer', '-2.11', '0.00', 'USD'],
      ['transfer', '11.62', '0.00', 'BRL'],
    ]);
  });

  it('parses times only with their explicit offset', () => {
    expect(parsePayPalTime('2025/12/23 08:57:17 -0800')?.toISOString()).toBe('2025-12-23T16:57:17.000Z');
    expect(parsePayPalTime('2026/03/01 08:00:00 +0530')?.toISOString()).toBe('2026-03-01T02:30:00.000Z');
    expect(parsePayPalTime('2025/12/23 08:57:17')).toBeUndefined();
    expect(parsePayPalTime('2026/02/30 08:57:17 -0800')).toBeUndefined();
  });

  it('counts physical lines across a quoted note with an embedded CRLF', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paypal-'));
    const lines = readFileSync(join(FIXTURES, 'trr-non-money-events.csv'), 'utf8').split('\n');
    lines[9] = lines[9]!.replace('"Customer returned the item"', '"Customer returned\r\nthe item"');
    const path = join(dir, 'trr-multiline-note.csv');
    writeFileSync(path, lines.join('\r\n'));
    const parsed = await parse(path);
    expect(parsed.lines.map((l) => l.source.line)).toEqual([5, 6, 7, 8, 9, 10, 12, 13]);
    expect(byId(parsed.lines, '1FF00000RE0000006').extra.note).toBe('Customer returned\r\nthe item');
  });

  it('refuses bytes that are not UTF-8, naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paypal-'));
    const bytes = readFileSync(join(FIXTURES, 'stl-unknown-event-code.csv'));
    const text = bytes.toString('latin1').replace('INV-1101', 'INV-\u00e9');
    const path = join(dir, 'latin1.csv');
    writeFileSync(path, Buffer.from(text, 'latin1'));
    const err = await rejection(parse(path));
    expect([err?.code, err?.line]).toEqual(['bad_encoding', 5]);
  });
});
