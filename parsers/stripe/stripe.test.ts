import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StatementFormatError } from '../../core/errors.js';
import { runParserConformance } from '../../test/conformance/run-parser-conformance.js';
import { collect } from '../common/parsed-statement.js';
import { stripeParser } from './index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixturesDir = join(root, 'fixtures/stripe');

runParserConformance({
  parser: stripeParser,
  fixturesDir,
  rejections: [
    { file: 'net_mismatch.csv', code: 'bad_value', line: 3, field: 'net', message: 'is not gross 50.00 − fee 1.75' },
    { file: 'jpy_decimals.csv', code: 'bad_amount', line: 2, field: 'gross', message: 'more decimals than JPY allows (0)' },
    { file: 'bad_amount.csv', code: 'bad_amount', line: 3, field: 'gross', message: '"1,000.00"' },
    { file: 'bad_date.csv', code: 'bad_date', line: 2, field: 'created_utc' },
    { file: 'unknown_layout.csv', code: 'unknown_layout', line: 1, field: 'currency' },
    { file: 'unknown_currency.csv', code: 'bad_value', line: 3, field: 'currency', message: '"xyz"' },
  ],
});

const parse = (name: string) => collect(stripeParser.parse({ path: join(fixturesDir, name) }));
const triple = (l: { gross: { toString(): string }; fee: { toString(): string }; net: { toString(): string } }) => [l.gross.toString(), l.fee.toString(), l.net.toString()];

describe('stripe: payout_reconciliation.itemized.5', () => {
  it('recognises the layout by its automatic payout columns and keeps them in extra', async () => {
    const { lines, summary } = await parse('payout_reconciliation_usd.csv');
    expect(summary).toMatchObject({ layout: 'stripe.payout_reconciliation.itemized.5', period: null, timeZone: 'Etc/UTC', lineCount: 8 });
    expect(summary.controls).toEqual([
      { label: 'rows', member: null, line: 1, currency: null, expected: '8', actual: '8', measure: { of: 'count', types: ['payment', 'refund', 'chargeback', 'fee', 'payout', 'transfer', 'adjustment'] } },
    ]);
    expect(lines.every((l) => l.extra['automatic_payout_id'] === 'po_1OxPAYOUTa0001' && l.extra['automatic_payout_effective_at_utc'] === '2024-03-06 00:00:00')).toBe(true);
    expect(lines.map((l) => l.type)).toEqual(['payment', 'payment', 'refund', 'chargeback', 'adjustment', 'fee', 'payment', 'adjustment']);
  });

  it('maps charges, refunds and disputes to their keys and signs', async () => {
    const { lines } = await parse('payout_reconciliation_usd.csv');
    const [charge, fx, refund, dispute, reversal, fee, alipay] = lines as [typeof lines[number], ...typeof lines];
    expect(charge).toMatchObject({ providerTxnId: 'ch_3OxA0001', merchantRef: 'ORD-1001', currency: 'USD', paymentMethod: 'card', wallet: null });
    expect(charge.extra['card_brand']).toBe('visa');
    expect(charge.occurredAt.toISOString()).toBe('2024-03-01T09:15:02.000Z'); // created_utc, not created
    expect(triple(charge)).toEqual(['100', '3.2', '96.8']);
    expect(fx!.extra).toMatchObject({ customer_facing_amount: '50.00', customer_facing_currency: 'eur' });
    expect(fx!.description).toBe('Order 1002, gift');
    expect(refund).toMatchObject({ type: 'refund', providerTxnId: 're_3OxA0003', parentTxnId: 'ch_3OxA0001', merchantRef: 'RF-1001-1', merchantOrderId: 'ORD-1001' });
    expect(triple(refund!)).toEqual(['-25', '0', '-25']);
    expect(dispute).toMatchObject({ type: 'chargeback', status: 'dispute', providerTxnId: 'du_3OxA0004', parentTxnId: 'ch_3OwZ0990', merchantOrderId: 'ORD-0990' });
    expect(triple(dispute!)).toEqual(['-40', '15', '-55']);
    expect(reversal).toMatchObject({ type: 'adjustment', status: 'dispute_reversal', providerTxnId: 'du_3OxA0004', parentTxnId: 'ch_3OwZ0990' });
    expect(triple(reversal!)).toEqual(['40', '-15', '55']);
    expect(fee).toMatchObject({ type: 'fee', providerTxnId: 'txn_3OxA0006', description: 'Radar (2024-02-01 - 2024-02-29)' });
    expect(alipay).toMatchObject({ paymentMethod: 'alipay', wallet: 'alipay' });
  });
});

describe('stripe: balance_change_from_activity.itemized.3', () => {
  it('reads a reordered JPY column set in yen, with payouts and an unknown category for review', async () => {
    const { lines, summary } = await parse('balance_change_jpy_reordered.csv');
    expect(summary.layout).toBe('stripe.balance_change_from_activity.itemized.3');
    expect(lines.map((l) => [l.type, l.currency, ...triple(l)])).toEqual([
      ['payment', 'JPY', '10000', '360', '9640'],
      ['payment', 'JPY', '5000', '180', '4820'],
      ['refund', 'JPY', '-3000', '0', '-3000'],
      ['transfer', 'JPY', '-1000', '0', '-1000'],
      ['adjustment', 'JPY', '500', '0', '500'],
      ['payout', 'JPY', '-10960', '0', '-10960'],
      ['payout', 'JPY', '10960', '0', '10960'],
    ]);
    expect(lines[1]!.wallet).toBe('wechat_pay');
    expect(lines[4]).toMatchObject({ needsReview: true, status: 'new_fancy_category' });
    expect(lines.filter((l) => l.needsReview)).toHaveLength(1);
    expect(lines[5]).toMatchObject({ providerTxnId: 'po_3PJa0006', description: 'STRIPE PAYOUT' });
    expect(lines[0]!.description).toBe('注文 A-5001');
  });

  it('without created_utc reads created as UTC and says so', async () => {
    const { lines } = await parse('balance_change_eur_created_only.csv');
    expect(lines[0]!.occurredAt.toISOString()).toBe('2024-07-15T18:45:00.000Z');
    expect(lines[0]!.extra['created_time_zone']).toContain('assumed Etc/UTC');
    expect(lines[1]).toMatchObject({ type: 'payout', providerTxnId: 'po_3QEu0002' });
  });

  it('accepts a header-only report (no activity) with zero lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-'));
    const path = join(dir, 'empty.csv');
    writeFileSync(path, 'balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\n');
    const { lines, summary } = await collect(stripeParser.parse({ path }));
    expect(lines).toHaveLength(0);
    expect(summary.controls[0]).toMatchObject({ expected: '0', actual: '0' });
  });

  it('tolerates an explicit UTC designator on created_utc', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-'));
    const path = join(dir, 'z.csv');
    writeFileSync(path, 'created_utc,currency,gross,fee,net,reporting_category\r\n2024-03-01T09:15:02Z,usd,1.00,0.33,0.67,charge\r\n');
    const { lines } = await collect(stripeParser.parse({ path }));
    expect(lines[0]!.occurredAt.toISOString()).toBe('2024-03-01T09:15:02.000Z');
    expect(lines[0]!.source.line).toBe(2);
  });

  it('rejects an empty file as unknown layout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-'));
    const path = join(dir, 'nothing.csv');
    writeFileSync(path, '');
    await expect(collect(stripeParser.parse({ path }))).rejects.toBeInstanceOf(StatementFormatError);
  });
});
