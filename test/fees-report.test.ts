import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerReportCommands } from '../cli/report-commands.js';
import { openDatabase } from '../db/database.js';
import { migrateLatest } from '../db/migrate.js';
import { Decimal } from '../core/money/index.js';
import type { LineType, ProviderId, StatementLine, StatementParser } from '../parsers/contract.js';
import { parsedStatement } from '../parsers/common/parsed-statement.js';
import { reconcileDay } from '../reconcile/daily.js';
import { parseFeeSchedules, whatIf, type FeeScheduleSet, type WhatIfLine } from '../reconcile/fees/index.js';
import { writeFeeReport, type FeeReportResult } from '../reports/fees-report/index.js';
import { loadStatement } from '../storage/statements.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { tempDir } from './helpers/json-statement.js';

interface Line { type: LineType; txn?: string; parent?: string; gross: string; fee?: string; currency?: string; at: string; method?: string; wallet?: string }

function parser(provider: ProviderId): StatementParser {
  return {
    provider,
    timeZone: 'UTC',
    accepts: 'test JSON statements',
    parse(source) {
      return parsedStatement(async function* () {
        const doc = JSON.parse(readFileSync(source.path, 'utf8')) as { lines: Line[]; period?: [string, string] };
        let n = 0;
        for (const l of doc.lines) {
          n += 1;
          const gross = new Decimal(l.gross);
          const fee = new Decimal(l.fee ?? '0');
          const line: StatementLine = {
            provider, type: l.type, providerTxnId: l.txn ?? null, parentTxnId: l.parent ?? null, merchantRef: null, merchantOrderId: null,
            gross, fee, net: gross.minus(fee), currency: l.currency ?? 'USD', original: null, occurredAt: new Date(l.at),
            paymentMethod: l.method ?? null, wallet: l.wallet ?? null, status: null, description: null, needsReview: false,
            source: { member: null, line: n + 1 }, extra: {},
          };
          yield line;
        }
        return {
          provider, layout: 'test.json', account: null, timeZone: 'UTC', lineCount: n, controls: [],
          period: doc.period ? { start: new Date(doc.period[0]), end: new Date(doc.period[1]) } : null,
        };
      });
    },
  };
}

const SCHEDULES = {
  format: 'walletrecon-fees/1',
  provider_defaults: {
    wechatpay: { rounding: { places: 2, mode: 'half_up' }, refund_fee: 'returned_pro_rata' },
    stripe: { rounding: { mode: 'half_up' }, refund_fee: 'not_returned' },
    paypal: { rounding: { mode: 'half_up' }, refund_fee: 'not_returned' },
  },
  schedules: [
    { id: 'wechatpay-cny', provider: 'wechatpay', currency: 'CNY', rule: 'percentage', rate: '0.60%' },
    { id: 'stripe-usd', provider: 'stripe', currency: 'USD', rule: 'percentage_plus_flat', rate: '2.9%', flat: '0.30', chargeback_fee: '15.00' },
    { id: 'stripe-usd-applepay', provider: 'stripe', currency: 'USD', wallet: 'apple_pay', rule: 'percentage', rate: '2.5%', chargeback_fee: '15.00' },
    { id: 'paypal-usd', provider: 'paypal', currency: 'USD', rule: 'percentage_plus_flat', rate: '3.49%', flat: '0.49' },
  ],
};

const HYPERLINK = '=HYPERLINK("http://x","y")';

// Stripe, daily run of 2026-11-10 (UTC).
const STRIPE: Line[] = [
  { type: 'payment', txn: 'ch_1', gross: '100.00', fee: '3.20', method: 'card', at: '2026-11-10T10:00:00Z' }, // expected 3.20
  { type: 'payment', txn: 'ch_2', gross: '50.00', fee: '1.80', method: 'card', at: '2026-11-10T11:00:00Z' }, // expected 1.75: over 0.05
  { type: 'payment', txn: 'ch_3', gross: '200.00', fee: '4.00', method: 'card', wallet: 'apple_pay', at: '2026-11-10T12:00:00Z' }, // expected 5.00: under 1.00
  { type: 'refund', txn: 're_1', parent: 'ch_1', gross: '-100.00', fee: '0', method: 'card', at: '2026-11-10T13:00:00Z' }, // not returned: 0
  { type: 'chargeback', txn: 'dp_1', parent: 'ch_2', gross: '-50.00', fee: '15.00', method: 'card', at: '2026-11-10T14:00:00Z' }, // 15.00
  { type: 'payment', txn: 'ch_4', gross: '20.00', fee: '0.50', currency: 'EUR', method: 'card', at: '2026-11-10T15:00:00Z' }, // no EUR schedule
  { type: 'payout', txn: 'po_1', gross: '-180.00', fee: '0', at: '2026-11-10T23:00:00Z' },
];
// WeChat Pay, daily run of 2026-11-11 (China); formula payloads in the payment method.
const WECHAT: Line[] = [
  { type: 'payment', txn: 'W1', gross: '100.00', fee: '0.60000', currency: 'CNY', method: HYPERLINK, at: '2026-11-11T02:00:00Z' },
  { type: 'payment', txn: 'W2', gross: '0.75', fee: '0.00000', currency: 'CNY', method: '+SUM(A1)', at: '2026-11-11T03:00:00Z' },
  { type: 'refund', txn: 'WR1', parent: 'W1', gross: '-50.00', fee: '-0.30000', currency: 'CNY', method: HYPERLINK, at: '2026-11-11T04:00:00Z' },
  { type: 'payment', txn: 'W3', gross: '10.00', fee: '0.07000', currency: 'CNY', method: '@cmd', wallet: '-2+3', at: '2026-11-11T05:00:00Z' },
];
// PayPal, loaded ad hoc (no daily run), its period inside the range.
const PAYPAL: Line[] = [
  { type: 'payment', txn: 'PP1', gross: '30.00', fee: '1.54', method: 'paypal', at: '2026-11-12T18:00:00Z' }, // 1.047 + 0.49 = 1.537 → 1.54
];

describe.each(BACKENDS)('fee comparison across providers on $name', ({ fresh }) => {
  let t: TestDatabase;
  let dir: string;
  let fees: FeeScheduleSet;
  let report: FeeReportResult;
  let fileIds: string[] = [];
  let n = 0;

  async function load(provider: ProviderId, lines: Line[], period?: [string, string]): Promise<string> {
    n += 1;
    const path = join(dir, `s${n}.json`);
    writeFileSync(path, JSON.stringify({ lines, ...(period ? { period } : {}) }));
    return (await loadStatement(t.db, { parser: parser(provider), path, archiveDir: join(dir, 'archive') })).id;
  }

  beforeAll(async () => {
    t = await fresh();
    dir = tempDir();
    fees = parseFeeSchedules(JSON.stringify(SCHEDULES), 'fees.json');
    const stripe = await load('stripe', STRIPE);
    await reconcileDay(t.db, { provider: 'stripe', account: 'acct', date: '2026-11-10', statementFileIds: [stripe] });
    const wechat = await load('wechatpay', WECHAT);
    await reconcileDay(t.db, { provider: 'wechatpay', account: 'acct', date: '2026-11-11', statementFileIds: [wechat] });
    const paypal = await load('paypal', PAYPAL, ['2026-11-12T08:00:00Z', '2026-11-13T08:00:00Z']);
    // outside the range: a daily run of an earlier day, and an ad-hoc statement whose period ends after the range
    const early = await load('stripe', [{ type: 'payment', txn: 'ch_9', gross: '999.00', fee: '29.27', method: 'card', at: '2026-11-05T10:00:00Z' }]);
    await reconcileDay(t.db, { provider: 'stripe', account: 'acct', date: '2026-11-05', statementFileIds: [early] });
    await load('paypal', [{ type: 'payment', txn: 'PP9', gross: '77.00', fee: '3.18', at: '2026-11-14T18:00:00Z' }], ['2026-11-14T08:00:00Z', '2026-11-16T08:00:00Z']);
    fileIds = [stripe, wechat, paypal];
    report = await writeFeeReport(t.db, { from: '2026-11-10', to: '2026-11-14', fees, out: join(dir, 'fees'), by: 'range' });
  });
  afterAll(async () => {
    await t?.drop();
  });

  const csv = (name: string) => parse(readFileSync(join(dir, 'fees', name), 'utf8'), { columns: true }) as Record<string, string>[];

  it('takes the statements of completed daily runs in the range and ad-hoc statements whose period lies inside it', () => {
    expect(report.statements.map((s) => [s.provider, s.day, s.source])).toEqual([
      ['stripe', '2026-11-10', 'daily'], ['wechatpay', '2026-11-11', 'daily'], ['paypal', '2026-11-12', 'adhoc'],
    ]);
  });

  it('compares fees charged with the contracted fees per provider, method / wallet and currency, to the cent of the database', async () => {
    const rows = csv('fees.csv');
    const db = await t.db.query<{ provider: string; currency: string; method: string; wallet: string; count: number; volume: string; fee: string }>(
      `SELECT provider, trim(currency) AS currency, coalesce(payment_method, '') AS method, coalesce(wallet, '') AS wallet, count(*)::int AS count,
              coalesce(sum(gross) FILTER (WHERE type = 'payment'), 0)::text AS volume, sum(fee)::text AS fee
         FROM statement_lines WHERE statement_file_id = ANY($1::bigint[]) AND type IN ('payment', 'refund', 'chargeback')
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
      [fileIds],
    );
    const key = (p: string, c: string, m: string, w: string) => [p, c, m, w].join('|');
    expect(rows.map((r) => key(r.provider!, r.currency!, r.payment_method!.replace(/^'/, ''), r.wallet!.replace(/^'/, ''))).sort())
      .toEqual(db.map((d) => key(d.provider, d.currency, d.method, d.wallet)).sort());
    for (const d of db) {
      const r = rows.find((x) => key(x.provider!, x.currency!, x.payment_method!.replace(/^'/, ''), x.wallet!.replace(/^'/, '')) === key(d.provider, d.currency, d.method, d.wallet))!;
      expect([Number(r.count), new Decimal(r.volume!).toFixed(2), new Decimal(r.fees_charged!).toFixed(5)]).toEqual([d.count, new Decimal(d.volume).toFixed(2), new Decimal(d.fee).toFixed(5)]);
    }
    const pick = (p: string, c: string, m: string, w = '') => rows.find((x) => x.provider === p && x.currency === c && x.payment_method === m && x.wallet === w)!;
    const card = pick('stripe', 'USD', 'card');
    expect([card.count, card.payments, card.refunds, card.chargebacks, card.volume, card.fees_charged, card.expected_fee, card.overcharge, card.undercharge, card.difference, card.unpriced_count, card.schedules])
      .toEqual(['4', '2', '1', '1', '150.00', '20.00', '19.95', '0.05', '0.00', '0.05', '0', 'stripe-usd']);
    expect([card.effective_rate, card.contracted_rate]).toEqual(['0.13333333', '0.13300000']);
    const apple = pick('stripe', 'USD', 'card', 'apple_pay');
    expect([apple.fees_charged, apple.expected_fee, apple.overcharge, apple.undercharge, apple.contracted_rate, apple.schedules]).toEqual(['4.00', '5.00', '0.00', '-1.00', '0.02500000', 'stripe-usd-applepay']);
    const eur = pick('stripe', 'EUR', 'card');
    expect([eur.count, eur.fees_charged, eur.priced_count, eur.expected_fee, eur.contracted_rate, eur.unpriced_count, eur.unpriced_volume, eur.unpriced_reasons])
      .toEqual(['1', '0.50', '0', '', '', '1', '20.00', 'no_schedule:1']);
    // the refund is priced pro rata against its payment (found by its parent id): 0.60 × 50/100 returned
    const w1 = pick('wechatpay', 'CNY', `'${HYPERLINK}`);
    expect([w1.count, w1.fees_charged, w1.expected_fee, w1.overcharge, w1.undercharge]).toEqual(['2', '0.30', '0.30', '0.00', '0.00']);
    expect(pick('paypal', 'USD', 'paypal').expected_fee).toBe('1.54');
  });

  it('neutralises formula payloads in the CSV and keeps them text in the workbook, with numbers as numbers', async () => {
    const text = readFileSync(join(dir, 'fees', 'fees.csv'), 'utf8');
    for (const planted of [`"'=HYPERLINK(""http://x"",""y"")"`, `'+SUM(A1)`, `'@cmd`, `'-2+3`]) expect(text).toContain(planted);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(report.files.xlsx);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Fees', 'What-if', 'About']);
    const sheet = wb.getWorksheet('Fees')!;
    const names = (sheet.getRow(1).values as unknown[]).slice(1) as string[];
    const col = (name: string) => names.indexOf(name) + 1;
    const texts = new Set<unknown>();
    sheet.eachRow((row, i) => {
      row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula));
      if (i === 1) return;
      for (const c of ['payment_method', 'wallet']) {
        const cell = row.getCell(col(c));
        if (cell.value !== null && cell.value !== '') {
          expect(cell.type).toBe(ExcelJS.ValueType.String);
          texts.add(cell.value);
        }
      }
      expect(row.getCell(col('fees_charged')).type).toBe(ExcelJS.ValueType.Number);
    });
    for (const v of [HYPERLINK, '+SUM(A1)', '@cmd', '-2+3']) expect(texts.has(v)).toBe(true);
    // the workbook's numbers are the CSV's
    const rows = csv('fees.csv');
    sheet.eachRow((row, i) => {
      if (i === 1) return;
      const r = rows[i - 2]!;
      for (const c of ['volume', 'fees_charged', 'expected_fee', 'overcharge', 'undercharge']) expect(row.getCell(col(c)).value ?? null, c).toBe(r[c] === '' ? null : Number(r[c]));
      expect(row.getCell(col('fees_charged')).numFmt).toMatch(/^#,##0/);
    });
    wb.getWorksheet('What-if')!.eachRow((row) => row.eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula)));
  });

  it('prices the whole volume under every configured provider exactly as whatIf does, and counts what it cannot price', async () => {
    const at = (l: Line) => new Date(l.at);
    const lines: WhatIfLine[] = [
      ...STRIPE.map((l) => ({ provider: 'stripe' as const, l })),
      ...WECHAT.map((l) => ({ provider: 'wechatpay' as const, l })),
      ...PAYPAL.map((l) => ({ provider: 'paypal' as const, l })),
    ].map(({ provider, l }) => ({
      provider, type: l.type, gross: new Decimal(l.gross), currency: l.currency ?? 'USD', paymentMethod: l.method ?? null, wallet: l.wallet ?? null, occurredAt: at(l),
      original: l.txn === 'WR1' ? { gross: new Decimal('100.00') } : l.txn === 're_1' ? { gross: new Decimal('100.00') } : null,
    }));
    const expected = await whatIf(fees.schedules, lines);
    const rows = csv('fees-whatif.csv').filter((r) => r.source_provider === 'all');
    const flat = expected.targets.flatMap((tg) => tg.rows.map((r) => ({ target: tg.provider, r })));
    expect(rows.map((r) => [r.target_provider, r.currency])).toEqual(flat.map((f) => [f.target, f.r.currency]));
    for (const { target, r } of flat) {
      const got = rows.find((x) => x.target_provider === target && x.currency === r.currency)!;
      const dec = (v: string | undefined) => new Decimal(v ?? 'NaN');
      expect([got.count, got.payments, got.refunds, got.chargebacks, got.not_priceable_count, got.refunds_assumed_full], `${target} ${r.currency}`)
        .toEqual([r.count, r.payments, r.refunds, r.chargebacks, r.notPriceable.count, r.refundsAssumedFull].map(String));
      expect(dec(got.volume).eq(r.volume) && dec(got.not_priceable_volume).eq(r.notPriceable.volume), `${target} ${r.currency}`).toBe(true);
      if (r.count === 0) expect(got.expected_fee).toBe('');
      else expect(dec(got.expected_fee).eq(r.totalExpectedFee), `${target} ${r.currency} ${got.expected_fee}`).toBe(true);
      expect(got.effective_rate).toBe(r.effectiveRate === null ? '' : r.effectiveRate.toFixed(8));
      expect(got.schedules_used).toBe(r.schedulesUsed.join(' '));
    }
    // CNY volume cannot be priced at Stripe or PayPal (no CNY entry): counted, never a zero fee
    const stripeCny = rows.find((x) => x.target_provider === 'stripe' && x.currency === 'CNY')!;
    expect([stripeCny.count, stripeCny.expected_fee, stripeCny.not_priceable_count, stripeCny.not_priceable_reasons]).toEqual(['0', '', '4', 'no_schedule:4']);
    // per source provider too: the Stripe lines priced at PayPal
    const stripeAtPaypal = csv('fees-whatif.csv').find((r) => r.source_provider === 'stripe' && r.target_provider === 'paypal' && r.currency === 'USD')!;
    expect([stripeAtPaypal.volume, stripeAtPaypal.actual_fee]).toEqual(['350.00', '24.00']);
  });

  it('splits the rows into periods (days, months) of the statements', async () => {
    const byDay = await writeFeeReport(t.db, { from: '2026-11-10', to: '2026-11-14', fees, out: join(dir, 'by-day'), by: 'day', includeAdhoc: false });
    expect([...new Set(byDay.comparison.rows.map((r) => `${r.periodFrom}..${r.periodTo} ${r.provider}`))]).toEqual(['2026-11-10..2026-11-10 stripe', '2026-11-11..2026-11-11 wechatpay']);
    const byMonth = await writeFeeReport(t.db, { from: '2026-11-01', to: '2026-11-20', fees, out: join(dir, 'by-month') });
    expect([...new Set(byMonth.comparison.rows.map((r) => `${r.periodFrom}..${r.periodTo}`))]).toEqual(['2026-11-01..2026-11-20']);
    expect(byMonth.statements.length).toBe(5); // with the 2026-11-05 run and the ad-hoc statement of 14–15 November
  });
});

describe('recon report fees', () => {
  it('writes fees.xlsx, fees.csv and fees-whatif.csv into $REPORTS_DIR/fees/<from>_<to>/ from the command line', async () => {
    const home = tempDir();
    const dir = tempDir();
    const db = await openDatabase({ pgliteDir: join(home, 'pgdata') });
    await migrateLatest(db);
    const path = join(dir, 's.json');
    writeFileSync(path, JSON.stringify({ lines: STRIPE }));
    const st = await loadStatement(db, { parser: parser('stripe'), path, archiveDir: join(dir, 'archive') });
    await reconcileDay(db, { provider: 'stripe', account: '', date: '2026-11-10', statementFileIds: [st.id] });
    await db.close();
    const feesFile = join(dir, 'fees.json');
    writeFileSync(feesFile, JSON.stringify(SCHEDULES));
    const reportsDir = join(home, 'reports');
    const program = new Command('recon').exitOverride();
    registerReportCommands(program, { databaseUrl: undefined, home, archiveDir: join(home, 'archive'), reportsDir, redisUrl: 'redis://127.0.0.1:6379', feesFile: undefined });
    await expect(program.parseAsync(['node', 'recon', 'report', 'fees', '--from', '2026-11-01', '--to', '2026-11-30'])).rejects.toThrow('--fees <schedule.json> is required');
    await expect(program.parseAsync(['node', 'recon', 'report', 'fees', '--from', '2026-11-01', '--to', '2026-11-30', '--fees', feesFile, '--by', 'week'])).rejects.toThrow('--by "week"');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'recon', 'report', 'fees', '--from', '2026-11-01', '--to', '2026-11-30', '--fees', feesFile]);
    } finally {
      process.stdout.write = write;
    }
    const folder = join(reportsDir, 'fees', '2026-11-01_2026-11-30');
    const rows = parse(readFileSync(join(folder, 'fees.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.period_from, r.period_to, r.provider, r.currency, r.wallet, r.fees_charged, r.expected_fee])).toEqual([
      ['2026-11-01', '2026-11-30', 'stripe', 'EUR', '', '0.50', ''],
      ['2026-11-01', '2026-11-30', 'stripe', 'USD', '', '20.00', '19.95'],
      ['2026-11-01', '2026-11-30', 'stripe', 'USD', 'apple_pay', '4.00', '5.00'],
    ]);
    expect(readFileSync(join(folder, 'fees-whatif.csv'), 'utf8')).toContain('stripe');
    expect(out.join('')).toContain('stripe    USD card/apple_pay        1 lines  fees 4.00  expected 5.00  undercharged -1.00');
    expect(out.join('')).toContain('stripe    EUR card                  1 lines  fees 0.50  1 not priceable');
    expect(out.join('')).toContain('1 statement, 6 payments/refunds/chargebacks compared, 1 not priceable');
  });
});
