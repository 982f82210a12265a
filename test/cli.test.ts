import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/database.js';
import { freshPostgres, type TestDatabase } from './helpers/db.js';
import { tempDir } from './helpers/json-statement.js';

const run = promisify(execFile);
const CLI = join(process.cwd(), 'dist/cli/recon.js');
const DEMO = join(process.cwd(), 'fixtures/demo');
const ALIPAY_ZIP = join(DEMO, 'alipay/20880211096256330156_20261124.csv.zip');
const WECHAT_BILL = join(DEMO, 'wechatpay/tradebill-ALL-2026-11-24.csv');
const LEDGER = join(DEMO, 'ledger.csv');

async function recon(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** How many ledger imports the PostgreSQL database holds (null on the embedded database). */
async function ledgerImports(env: Record<string, string>): Promise<number | null> {
  if (!env.DATABASE_URL) return null;
  const db = await openDatabase({ url: env.DATABASE_URL });
  try {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_imports`);
    return row!.n;
  } finally {
    await db.close();
  }
}

const readCsv = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];
const brief = (rows: Record<string, string>[]) =>
  rows.map((r) => [r.kind, r.type, r.provider_txn_id, r.order_id, r.currency, r.statement_amount, r.ledger_amount, r.statement_fee, r.ledger_fee, r.ledger_id]);

const backends: Array<{ name: string; env: () => Promise<{ env: Record<string, string>; done: () => Promise<void> }> }> = [
  {
    name: 'embedded PGlite',
    env: async () => ({ env: { RECON_HOME: join(tempDir(), '.recon') }, done: async () => undefined }),
  },
  {
    name: 'PostgreSQL at DATABASE_URL',
    env: async () => {
      const t: TestDatabase = await freshPostgres();
      await t.db.close();
      return { env: { DATABASE_URL: t.url!, RECON_HOME: join(tempDir(), '.recon') }, done: () => t.drop() };
    },
  },
];

describe.each(backends)('recon CLI on $name', ({ env: makeEnv }) => {
  let env: Record<string, string>;
  let done: () => Promise<void>;
  let dir: string;
  beforeAll(async () => {
    ({ env, done } = await makeEnv());
    dir = tempDir();
  });
  afterAll(async () => {
    await done?.();
  });

  it('reconciles the Alipay bill zip against the ledger, exactly', async () => {
    const out = join(dir, 'alipay');
    const r = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', LEDGER, '--out', out], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(brief(readCsv(join(out, 'discrepancies.csv')))).toEqual([
      ['missing_in_ledger', 'payment', '2026112422001458860500000007', 'AP20261124-0007', 'CNY', '42.00', '', '0.25', '', ''],
      ['missing_in_statement', 'payment', '', 'AP20261124-0009', 'CNY', '', '58.00', '', '', 'GL-1009'],
      ['amount_mismatch', 'payment', '2026112422001458860500000005', 'AP20261124-0005', 'CNY', '560.00', '650.00', '3.36', '3.36', 'GL-1005'],
      ['fee_mismatch', 'payment', '2026112422001458860500000006', 'AP20261124-0006', 'CNY', '300.00', '300.00', '1.80', '1.20', 'GL-1006'],
    ]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      provider: 'alipay', statement_lines: 11, ledger_rows: 11, matched: 10,
      discrepancies: { missing_in_ledger: 1, missing_in_statement: 1, amount_mismatch: 1, fee_mismatch: 1, currency_mismatch: 0, duplicate_in_statement: 0, duplicate_in_ledger: 0 },
      totals: { CNY: { statement_gross: '1205.40', statement_fee: '7.23', statement_net: '1198.17', ledger_amount: '1311.40' } },
    });
    expect(existsSync(join(out, 'reconciliation.xlsx'))).toBe(true);
    expect(r.stdout).toContain('alipay: 11 statement lines, 11 ledger rows, 10 matched');
  });

  it('reconciles the WeChat Pay trade bill for its --date, exactly', async () => {
    const out = join(dir, 'wechatpay');
    const r = await recon(['reconcile', '--provider', 'wechatpay', '--statement', WECHAT_BILL, '--ledger', LEDGER, '--out', out, '--date', '2026-11-24'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(brief(readCsv(join(out, 'discrepancies.csv')))).toEqual([
      ['currency_mismatch', 'payment', '4200002166202611240000000007', 'WX20261124-0007', 'CNY', '12.00', '12.00', '0.07', '0.07', 'GL-2007'],
      ['duplicate_in_ledger', 'payment', '', 'WX20261124-0007', 'CNY', '', '12.00', '', '', 'GL-2107'],
    ]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({
      provider: 'wechatpay', statement_lines: 9, matched: 9, statement_lines_by_type: { payment: 7, refund: 2 },
      totals: { CNY: { statement_gross: '302.51', statement_fee: '1.81006', statement_net: '300.69994' } },
    });
  });

  it('gives the same results when run again, and stores the statement once', async () => {
    const out = join(dir, 'again');
    const a = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', LEDGER, '--out', out], env);
    const first = readFileSync(join(out, 'discrepancies.csv'), 'utf8');
    const b = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', LEDGER, '--out', out], env);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(readFileSync(join(out, 'discrepancies.csv'), 'utf8')).toBe(first);
  });

  it('rejects a statement whose control totals disagree with exit status 2, naming file, line and field, and writes nothing', async () => {
    const bad = join(dir, 'tampered.csv');
    const text = readFileSync(WECHAT_BILL, 'utf8').replace('`25.00,`0.00,`0,`0', '`25.01,`0.00,`0,`0');
    writeFileSync(bad, text);
    const out = join(dir, 'rejected');
    const importsBefore = await ledgerImports(env);
    const r = await recon(['reconcile', '--provider', 'wechatpay', '--statement', bad, '--ledger', LEDGER, '--out', out, '--date', '2026-11-24'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tampered\.csv, line 12, field "应结订单总金额"/);
    expect(existsSync(join(out, 'discrepancies.csv'))).toBe(false);
    // On PostgreSQL the ledger is imported beside the statement: it is rolled back with it.
    expect(await ledgerImports(env)).toBe(importsBefore);
  });

  it('rejects a bad ledger with exit status 2 naming its line and field', async () => {
    const ledger = join(dir, 'bad-ledger.csv');
    copyFileSync(LEDGER, ledger);
    writeFileSync(ledger, readFileSync(LEDGER, 'utf8').replace('GL-1002,alipay,payment,AP20261124-0002,2026112422001458860500000002,128.50', 'GL-1002,alipay,payment,AP20261124-0002,2026112422001458860500000002,12x.50'));
    const r = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', ledger, '--out', join(dir, 'x')], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-ledger.csv, line 3, field "amount"');
  });

  it('names a statement file it cannot read, writes nothing and leaves nothing half kept in the archive', async () => {
    // The first statement's bytes are kept while the database opens: its error must still come out.
    const missing = join(dir, 'no-such-bill.csv');
    const out = join(dir, 'unread');
    const r = await recon(['reconcile', '--provider', 'wechatpay', '--statement', missing, '--ledger', LEDGER, '--out', out, '--date', '2026-11-24'], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(missing);
    expect(existsSync(join(out, 'discrepancies.csv'))).toBe(false);
    const archive = join(env.RECON_HOME!, 'archive');
    const kept = existsSync(archive) ? readdirSync(archive, { recursive: true }).map(String) : [];
    expect(kept.filter((name) => name.includes('.incoming'))).toEqual([]);
  });

  it('imports a ledger idempotently', async () => {
    const a = await recon(['ledger', 'import', '--file', LEDGER], env);
    const b = await recon(['ledger', 'import', '--file', LEDGER], env);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe('ledger.csv: 42 rows (0 new, 0 updated, 42 unchanged)\n');
  });

  const E2E = join(process.cwd(), 'fixtures/e2e');
  const providerCases: Array<[string, string, string, string[][], Record<string, unknown>]> = [
    ['paypal', 'STL-20261124.01.009.CSV', 'paypal-ledger.csv', [
      // JPY amounts are ×100 in the file; partial refunds, a chargeback, its fee and a withdrawal pair or stay out
      ['missing_in_ledger', 'payment', '7AB00009', 'INV-P4', 'USD', '19.99', '', '0.88', '', ''],
      ['missing_in_statement', 'payment', '7AB00010', 'INV-P5', 'USD', '', '10.00', '', '', 'L-P10'],
      ['currency_mismatch', 'payment', '7AB00008', 'INV-P3', 'EUR', '25.00', '25.00', '1.03', '', 'L-P8'],
    ], { statement_lines: 9, ledger_rows: 7, matched: 6, totals: { JPY: { statement_gross: '5000', statement_fee: '195', statement_net: '4805', ledger_amount: '5000' } } }],
    ['stripe', 'stripe-payout-reconciliation.csv', 'stripe-ledger.csv', [
      ['missing_in_statement', 'payment', '', 'ORD-S6', 'USD', '', '10.00', '', '', 'L-S6'],
      ['amount_mismatch', 'payment', 'ch_5', 'ORD-S5', 'USD', '10.00', '12.00', '0.59', '', 'L-S5'],
    ], { statement_lines: 8, ledger_rows: 8, matched: 7 }],
    ['adyen', 'settlement_detail_report_batch_612.csv', 'adyen-ledger.csv', [
      ['missing_in_statement', 'payment', '8815000000001009', 'ORD-A9', 'EUR', '', '5.00', '', '', 'L-A9'],
      ['fee_mismatch', 'payment', '8815000000001002', 'ORD-A2', 'EUR', '45.50', '45.50', '0.31', '0.35', 'L-A2'],
    ], { statement_lines: 7, ledger_rows: 6, matched: 5, matched_by_rule: { 'exact:parent_txn': 1, 'exact:txn': 4 } }],
  ];
  it.each(providerCases)('reconciles a %s statement it has never seen, exactly', async (provider, statement, ledger, expected, summary) => {
    const out = join(dir, `e2e-${provider}`);
    const r = await recon(['reconcile', '--provider', provider, '--statement', join(E2E, statement), '--ledger', join(E2E, ledger), '--out', out], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(brief(readCsv(join(out, 'discrepancies.csv')))).toEqual(expected);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toMatchObject({ provider, ...summary });
  });

  it('checks every line\'s fee against the contracted schedule with --fees, saying what it expected and why', async () => {
    const out = join(dir, 'fees');
    const r = await recon(['reconcile', '--provider', 'stripe', '--statement', join(E2E, 'stripe-payout-reconciliation.csv'), '--ledger', join(E2E, 'stripe-ledger.csv'),
      '--out', out, '--fees', join(process.cwd(), 'fixtures/fees/example-fees.json')], env);
    expect(r.code).toBe(0);
    const fee = readCsv(join(out, 'discrepancies.csv')).filter((row) => row.kind === 'fee_mismatch');
    // with the ledger row it was paired with
    expect(fee.map((row) => [row.provider_txn_id, row.statement_fee, row.fee_basis, row.expected_fee, row.difference, row.fee_rule, row.ledger_id])).toEqual([
      ['ch_4', '1.88', 'schedule', '1.87', '0.01', '2.90% of 54.31 + 0.30 = 1.57499 + 0.30 = 1.87499; rounded half_up to 2 places: 1.87', 'L-S4'],
    ]);
    const bad = await recon(['reconcile', '--provider', 'stripe', '--statement', join(E2E, 'stripe-payout-reconciliation.csv'), '--ledger', join(E2E, 'stripe-ledger.csv'),
      '--out', out, '--fees', join(E2E, 'stripe-ledger.csv')], env);
    expect(bad.code).toBe(2);
  });

  it('matches with the rules a rules file gives, in its order', async () => {
    const rules = join(dir, 'rules.json');
    writeFileSync(rules, JSON.stringify([{ id: 'exact:txn', shape: 'one_to_one', key: 'txn' }]));
    const out = join(dir, 'rules');
    const r = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', LEDGER, '--out', out, '--rules', rules], env);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    // GL-1003 has no provider id: only the merchant-reference rule (not given here) could pair it.
    expect(summary.matched_by_rule).toEqual({ 'exact:txn': 9 });
    expect(readCsv(join(out, 'discrepancies.csv')).filter((row) => row.order_id === 'AP20261124-0003').map((row) => row.kind)).toEqual(['missing_in_ledger', 'missing_in_statement']);
    writeFileSync(rules, JSON.stringify([{ id: 'x', shape: 'fuzzy' }]));
    const bad = await recon(['reconcile', '--provider', 'alipay', '--statement', ALIPAY_ZIP, '--ledger', LEDGER, '--out', out, '--rules', rules], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('rules[0].shape: one of one_to_one, group, proposal');
  });

  it('answers a usage error with exit status 2', async () => {
    const r = await recon(['reconcile', '--provider', 'venmo', '--statement', LEDGER, '--ledger', LEDGER, '--out', dir], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--provider "venmo" is not one of alipay, wechatpay, paypal, stripe, adyen');
  });
});

describe('recon demo', () => {
  it('fetches a day of all five providers from their emulators, reconciles it on the embedded default and writes the reports', async () => {
    const cwd = tempDir();
    const r = await recon(['demo'], { RECON_HOME: join(cwd, '.recon'), REPORTS_DIR: join(cwd, 'reports') });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const line of [
      'ledger: 42 rows from ledger.csv',
      'alipay: 11 statement lines, 11 ledger rows, 10 matched',
      'wechatpay: 9 statement lines, 10 ledger rows, 9 matched',
      'paypal: 9 statement lines, 7 ledger rows, 6 matched',
      'stripe: 8 statement lines, 8 ledger rows, 7 matched',
      'adyen: 7 statement lines, 6 ledger rows, 5 matched',
    ]) expect(r.stdout).toContain(line);
    for (const p of ['alipay', 'wechatpay', 'paypal', 'stripe', 'adyen']) {
      for (const f of ['discrepancies.csv', 'summary.json', 'reconciliation.xlsx', 'pending.csv', 'cleared.csv']) {
        expect(existsSync(join(cwd, 'reports', '2026-11-24', p, f))).toBe(true);
      }
    }
    // Stripe settles T+2: a ledger payment of the day that is not on the statement yet is pending, not missing.
    const pending = readCsv(join(cwd, 'reports', '2026-11-24', 'stripe', 'pending.csv'));
    expect(pending.map((row) => [row.kind, row.order_id, row.ledger_amount, row.pending_since, row.due_by])).toEqual([
      ['missing_in_statement', 'ORD-S6', '10.00', '2026-11-24', '2026-11-26'],
    ]);
  });
});
