/**
 * Settlement and payout reconciliation (issue 6 item 4) on both backends:
 * bank statements load (camt.053, MT940) with their balances checked and idempotently; payouts are
 * derived from Stripe, Adyen and PayPal statements with their lines total; payouts are matched to bank
 * deposits by reference, then by amount within the lag window only when unique; FX, missing payouts
 * and deposits without payout are reported; payouts.csv and the CLI commands.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerPayoutCommands } from '../cli/payout-commands.js';
import type { Config } from '../core/config.js';
import { StatementFormatError } from '../core/errors.js';
import type { Database } from '../db/database.js';
import { parserFor } from '../parsers/registry.js';
import { derivePayouts, matchPayoutDeposits, PAYOUT_REPORT_COLUMNS, reconcilePayouts } from '../reconcile/payouts/index.js';
import { loadBankStatement } from '../storage/bank-statements.js';
import { loadStatement } from '../storage/statements.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const fx = (p: string) => join(root, 'fixtures', p);

const STATEMENTS = [
  ['stripe', fx('payouts/stripe_payout_reconciliation_eur.csv')],
  ['adyen', fx('e2e/settlement_detail_report_batch_612.csv')],
  ['paypal', fx('payouts/STL-20261125.01.009.CSV')],
] as const;
const CAMT = fx('payouts/camt053-payout-deposits.xml');
const MT940 = fx('payouts/mt940-payout-deposits.940');

async function loadAll(db: Database, archiveDir: string): Promise<void> {
  for (const [provider, path] of STATEMENTS) await loadStatement(db, { parser: parserFor(provider), path, archiveDir });
  await loadBankStatement(db, { path: CAMT, archiveDir });
  await loadBankStatement(db, { path: MT940, archiveDir });
}

interface Outcome {
  payout_key: string;
  provider: string;
  currency: string;
  amount: string;
  lines_total: string | null;
  expected_date: string;
  fx_currency: string | null;
  fx_rate: string | null;
  status: string;
  rule: string | null;
  lag_days: number | null;
  bank_amount: string | null;
  bank_account: string | null;
  expected_bank_amount: string | null;
  amount_difference: string | null;
  fx_difference: string | null;
}

async function outcomes(db: Database): Promise<Map<string, Outcome>> {
  const rows = await db.query<Outcome>(
    `SELECT p.payout_key, p.provider, p.currency::text AS currency, p.amount::text AS amount, p.lines_total::text AS lines_total,
            to_char(p.expected_date, 'YYYY-MM-DD') AS expected_date, p.fx_currency::text AS fx_currency, p.fx_rate::text AS fx_rate,
            m.status, m.rule, m.lag_days, b.amount::text AS bank_amount, b.account AS bank_account,
            m.expected_bank_amount::text AS expected_bank_amount, m.amount_difference::text AS amount_difference,
            m.fx_difference::text AS fx_difference
       FROM payouts p LEFT JOIN payout_matches m ON m.payout_id = p.id LEFT JOIN bank_lines b ON b.id = m.bank_line_id`,
  );
  return new Map(rows.map((r) => [r.payout_key, r]));
}

async function depositsWithoutPayout(db: Database): Promise<{ provider: string; amount: string; remittance: string | null }[]> {
  return db.query(
    `SELECT m.provider, b.amount::text AS amount, b.remittance FROM payout_matches m JOIN bank_lines b ON b.id = m.bank_line_id
      WHERE m.status = 'deposit_without_payout' ORDER BY b.amount`,
  );
}

describe.each(BACKENDS)('payouts on $name', ({ fresh }) => {
  let t: TestDatabase;
  let archiveDir: string;

  beforeAll(async () => {
    t = await fresh();
    archiveDir = await mkdtemp(join(tmpdir(), 'recon-payouts-archive-'));
    await loadAll(t.db, archiveDir);
  });
  afterAll(async () => {
    await t?.drop();
    await rm(archiveDir, { recursive: true, force: true });
  });

  describe('bank statements', () => {
    it('loads the camt.053 lines with dates, references, counterparties and the checked balances', async () => {
      const [file] = await t.db.query<{ format: string; account: string; currency: string; period_from: string; period_to: string; line_count: number; controls: { label: string; expected: string; actual: string }[] }>(
        `SELECT format, account, currency::text AS currency, to_char(period_from, 'YYYY-MM-DD') AS period_from,
                to_char(period_to, 'YYYY-MM-DD') AS period_to, line_count, controls
           FROM bank_statement_files WHERE original_name = 'camt053-payout-deposits.xml'`,
      );
      expect(file).toMatchObject({ format: 'camt.053.001.08', account: 'DE89370400440532013000', currency: 'EUR', period_from: '2026-11-26', period_to: '2026-12-03', line_count: 4 });
      expect(file!.controls).toEqual([expect.objectContaining({ label: 'statement WR-CAMT-20261203-EUR CLBD', expected: '6159.15', actual: '6159.15' })]);
      const lines = await t.db.query<{ amount: string; booking_date: string; value_date: string; entry_ref: string; counterparty_name: string | null; remittance: string }>(
        `SELECT b.amount::text AS amount, to_char(b.booking_date, 'YYYY-MM-DD') AS booking_date, to_char(b.value_date, 'YYYY-MM-DD') AS value_date,
                b.entry_ref, b.counterparty_name, b.remittance
           FROM bank_lines b JOIN bank_statement_files f ON f.id = b.bank_statement_file_id
          WHERE f.original_name = 'camt053-payout-deposits.xml' ORDER BY b.line_no`,
      );
      expect(lines.map((l) => Number(l.amount))).toEqual([736, 344.65, 88.4, -9.9]);
      expect(lines[0]).toMatchObject({ booking_date: '2026-11-26', value_date: '2026-11-26', entry_ref: '2026112600000101', counterparty_name: 'STRIPE PAYMENTS EUROPE LTD', remittance: 'STRIPE PAYOUT po_1WRpayoutA0001' });
    });

    it('loads the MT940 lines, signed, with the structured :86: parsed', async () => {
      const lines = await t.db.query<{ account: string; amount: string; end_to_end_id: string | null; counterparty_name: string; value_date: string }>(
        `SELECT b.account, b.amount::text AS amount, b.end_to_end_id, b.counterparty_name, to_char(b.value_date, 'YYYY-MM-DD') AS value_date
           FROM bank_lines b JOIN bank_statement_files f ON f.id = b.bank_statement_file_id
          WHERE f.format = 'mt940' ORDER BY b.line_no`,
      );
      expect(lines.map((l) => [l.amount, l.counterparty_name])).toEqual([
        ['120.190000', 'Adyen N.V.'],
        ['108.320000', 'PayPal Europe S.a r.l.'],
        ['55.000000', 'Kunde GmbH'],
      ]);
      expect(lines[0]).toMatchObject({ account: 'NL91ABNA0417164300', end_to_end_id: 'TX612000001XT', value_date: '2026-11-27' });
    });

    it('is idempotent by sha256 and keeps the original bytes', async () => {
      const again = await loadBankStatement(t.db, { path: MT940, archiveDir });
      expect(again.alreadyLoaded).toBe(true);
      expect(again.lineCount).toBe(3);
      expect(again.statements[0]).toMatchObject({ id: 'WR940-261127', opening: { amount: '1000', date: '2026-11-26' }, closing: { amount: '1283.51', date: '2026-11-27' } });
      expect(await readFile(again.archivePath)).toEqual(await readFile(MT940));
      const [n] = await t.db.query<{ files: number; lines: number }>(`SELECT (SELECT count(*)::int FROM bank_statement_files) AS files, (SELECT count(*)::int FROM bank_lines) AS lines`);
      expect(n).toEqual({ files: 2, lines: 7 });
    });

    it('refuses a statement whose balances disagree, leaving no row behind', async () => {
      const err = await loadBankStatement(t.db, { path: fx('bank/bad/mt940-balance-mismatch.940'), archiveDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StatementFormatError);
      expect((err as StatementFormatError).code).toBe('control_total_mismatch');
      const [n] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM bank_statement_files WHERE original_name = 'mt940-balance-mismatch.940'`);
      expect(n!.n).toBe(0);
    });
  });

  describe('derived payouts', () => {
    beforeAll(async () => {
      await derivePayouts(t.db, ['stripe', 'adyen', 'paypal', 'wechatpay', 'alipay']);
    });

    it('derives one payout per Stripe automatic payout, Adyen MerchantPayout and PayPal withdrawal', async () => {
      const rows = await t.db.query<{ provider: string; payout_key: string; reference: string | null; refs: string[]; currency: string; amount: string; lines_total: string | null; line_count: number; expected_date: string }>(
        `SELECT provider, payout_key, reference, refs, currency::text AS currency, amount::text AS amount, lines_total::text AS lines_total,
                line_count, to_char(expected_date, 'YYYY-MM-DD') AS expected_date
           FROM payouts ORDER BY provider, payout_key`,
      );
      expect(rows).toEqual([
        { provider: 'adyen', payout_key: 'TX612000001XT', reference: 'TX612000001XT', refs: ['TX612000001XT'], currency: 'EUR', amount: '-120.200000', lines_total: '-120.200000', line_count: 6, expected_date: '2026-11-26' },
        { provider: 'paypal', payout_key: '9PW00001', reference: '9PW00001', refs: ['9PW00001', '8812345670'], currency: 'USD', amount: '-117.000000', lines_total: null, line_count: 0, expected_date: '2026-11-25' },
        { provider: 'paypal', payout_key: '9PW00002', reference: '9PW00002', refs: ['9PW00002', '8812345671'], currency: 'USD', amount: '-25.000000', lines_total: null, line_count: 0, expected_date: '2026-11-25' },
        { provider: 'stripe', payout_key: 'po_1WRpayoutA0001', reference: 'po_1WRpayoutA0001', refs: ['po_1WRpayoutA0001'], currency: 'EUR', amount: '-736.000000', lines_total: '-736.000000', line_count: 4, expected_date: '2026-11-26' },
        // The report lists the payout line itself (−344.65) but its lines add up to 344.55 only.
        { provider: 'stripe', payout_key: 'po_1WRpayoutB0002', reference: 'po_1WRpayoutB0002', refs: ['po_1WRpayoutB0002'], currency: 'EUR', amount: '-344.650000', lines_total: '-344.550000', line_count: 2, expected_date: '2026-11-27' },
      ]);
    });

    it("carries PayPal's conversion rate for a withdrawal converted from another balance", async () => {
      const [p] = await t.db.query<{ fx_currency: string; fx_rate: string; fx_amount: string; n: number }>(
        `SELECT fx_currency::text AS fx_currency, fx_rate::text AS fx_rate, fx_amount::text AS fx_amount, cardinality(source_line_ids) AS n
           FROM payouts WHERE payout_key = '9PW00001'`,
      );
      // T0201 −117.00 USD / +108.37 EUR, then T0400 −108.37 EUR: the payout left the USD balance.
      expect(p).toEqual({ fx_currency: 'EUR', fx_rate: '0.926239316239', fx_amount: '-108.370000', n: 3 });
      const [plain] = await t.db.query<{ fx_currency: string | null }>(`SELECT fx_currency FROM payouts WHERE payout_key = '9PW00002'`);
      expect(plain!.fx_currency).toBeNull();
    });

    it('is idempotent: deriving again updates, never duplicates', async () => {
      const again = await derivePayouts(t.db, ['stripe', 'adyen', 'paypal']);
      expect(again.byProvider).toEqual({ stripe: 2, adyen: 1, paypal: 2 });
      const [n] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM payouts`);
      expect(n!.n).toBe(5);
    });
  });

  describe('matching to bank deposits', () => {
    let byKey: Map<string, Outcome>;
    beforeAll(async () => {
      const r = await matchPayoutDeposits(t.db, { providers: ['stripe', 'adyen', 'paypal', 'wechatpay', 'alipay'] });
      expect(r.asOf).toBe('2026-12-03');
      expect(r.counts).toEqual({ matched: 3, payout_amount_mismatch: 1, payout_currency_mismatch: 0, payout_missing_in_bank: 1, payout_pending: 0, deposit_without_payout: 1 });
      byKey = await outcomes(t.db);
    });

    it('finds a Stripe payout by its po_ id in the remittance information', () => {
      expect(byKey.get('po_1WRpayoutA0001')).toMatchObject({ status: 'matched', rule: 'reference', lag_days: 0, bank_amount: '736.000000', bank_account: 'DE89370400440532013000', amount_difference: '0.000000', fx_difference: null });
    });

    it('finds a Stripe payout without reference by amount, 1 business day after the Friday it was sent', () => {
      expect(byKey.get('po_1WRpayoutB0002')).toMatchObject({ status: 'matched', rule: 'amount_in_window', lag_days: 1, bank_amount: '344.650000', amount_difference: '0.000000' });
    });

    it('reports the Adyen payout whose deposit is 0.01 short', () => {
      expect(byKey.get('TX612000001XT')).toMatchObject({ status: 'payout_amount_mismatch', rule: 'reference', lag_days: 1, bank_amount: '120.190000', expected_bank_amount: '120.200000', amount_difference: '-0.010000', bank_account: 'NL91ABNA0417164300' });
    });

    it('matches the converted PayPal payout in EUR and shows the FX difference', () => {
      expect(byKey.get('9PW00001')).toMatchObject({ status: 'matched', rule: 'reference', lag_days: 2, currency: 'USD', amount: '-117.000000', bank_amount: '108.320000', expected_bank_amount: '108.370000', amount_difference: '-0.050000', fx_difference: '-0.050000' });
    });

    it('reports the PayPal payout the bank never showed once its 5-day window has passed', () => {
      expect(byKey.get('9PW00002')).toMatchObject({ status: 'payout_missing_in_bank', rule: null, bank_amount: null, lag_days: 6 });
    });

    it('reports a provider deposit no payout claims, and ignores a customer transfer and debits', async () => {
      expect(await depositsWithoutPayout(t.db)).toEqual([{ provider: 'adyen', amount: '88.400000', remittance: 'TX613000001XT batch 613, ShopCoEU' }]);
    });

    it('keeps a payout pending while its window is open', async () => {
      const r = await matchPayoutDeposits(t.db, { providers: ['paypal'], asOf: '2026-12-01' });
      expect(r.counts).toMatchObject({ matched: 1, payout_pending: 1, payout_missing_in_bank: 0 });
      expect((await outcomes(t.db)).get('9PW00002')).toMatchObject({ status: 'payout_pending', lag_days: 4 });
      // The other providers' results are untouched by a PayPal-only run.
      expect((await outcomes(t.db)).get('TX612000001XT')!.status).toBe('payout_amount_mismatch');
      await matchPayoutDeposits(t.db, { providers: ['paypal'] });
    });

    it('reports an FX difference beyond the tolerance as a mismatch', async () => {
      const tight = { ...(await import('../reconcile/payouts/rules.js')).PAYOUT_RULES };
      tight.paypal = { ...tight.paypal, fxTolerance: '0.01' };
      await matchPayoutDeposits(t.db, { providers: ['paypal'], rules: tight });
      expect((await outcomes(t.db)).get('9PW00001')).toMatchObject({ status: 'payout_amount_mismatch', fx_difference: '-0.050000' });
      await matchPayoutDeposits(t.db, { providers: ['paypal'] });
      expect((await outcomes(t.db)).get('9PW00001')!.status).toBe('matched');
    });

    it('never guesses between two deposits of the same amount in the window', async () => {
      // A second Stripe credit of 344.65 on the same day: the amount no longer names one deposit.
      await t.db.query(
        `INSERT INTO bank_lines (bank_statement_file_id, line_no, source_line, statement_id, statement_index, entry_index, account, currency,
                                 amount, booking_date, value_date, entry_ref, remittance, counterparty_name, status, reversal)
         SELECT bank_statement_file_id, 99, source_line, statement_id, statement_index, 99, account, currency,
                amount, booking_date, value_date, '2026113000000199', remittance, counterparty_name, status, reversal
           FROM bank_lines WHERE entry_ref = '2026113000000102'`,
      );
      try {
        const r = await matchPayoutDeposits(t.db, { providers: ['stripe'] });
        expect(r.counts).toMatchObject({ matched: 1, payout_missing_in_bank: 1, deposit_without_payout: 2 });
        expect((await outcomes(t.db)).get('po_1WRpayoutB0002')).toMatchObject({ status: 'payout_missing_in_bank', bank_amount: null });
      } finally {
        await t.db.query(`DELETE FROM bank_lines WHERE entry_ref = '2026113000000199'`);
        await matchPayoutDeposits(t.db, { providers: ['stripe'] });
      }
      expect((await outcomes(t.db)).get('po_1WRpayoutB0002')!.status).toBe('matched');
    });
  });

  describe('payouts.csv', () => {
    let out: string;
    beforeAll(async () => {
      out = await mkdtemp(join(tmpdir(), 'recon-payouts-out-'));
    });
    afterAll(async () => {
      await rm(out, { recursive: true, force: true });
    });

    it('writes one row per payout, per lines mismatch and per unclaimed deposit, with real values', async () => {
      const r = await reconcilePayouts(t.db, { out });
      expect(r.csv).toBe(join(out, 'payouts.csv'));
      expect(r.payoutMismatches).toBe(1);
      const text = await readFile(r.csv!, 'utf8');
      const records = parseCsv(text, { columns: true }) as Record<string, string>[];
      expect(text.split('\n')[0]).toBe(PAYOUT_REPORT_COLUMNS.join(','));
      const pick = (rec: Record<string, string>) => [rec.status, rec.provider, rec.payout, rec.reference, rec.currency, rec.amount, rec.lines_total, rec.value_date, rec.lag_days, rec.difference, rec.fx_difference];
      expect(records.map(pick)).toEqual([
        ['payout_mismatch', 'stripe', 'po_1WRpayoutB0002', 'po_1WRpayoutB0002', 'EUR', '-344.65', '-344.55', '', '', '-0.1', ''],
        ['payout_amount_mismatch', 'adyen', 'TX612000001XT', 'TX612000001XT', 'EUR', '-120.2', '-120.2', '2026-11-27', '1', '-0.01', ''],
        ['payout_missing_in_bank', 'paypal', '9PW00002', '9PW00002', 'USD', '-25', '', '', '6', '', ''],
        ['deposit_without_payout', 'adyen', '', '', '', '', '', '2026-11-30', '', '', ''],
        ['matched', 'paypal', '9PW00001', '9PW00001', 'USD', '-117', '', '2026-11-27', '2', '-0.05', '-0.05'],
        ['matched', 'stripe', 'po_1WRpayoutA0001', 'po_1WRpayoutA0001', 'EUR', '-736', '-736', '2026-11-26', '0', '0', ''],
        ['matched', 'stripe', 'po_1WRpayoutB0002', 'po_1WRpayoutB0002', 'EUR', '-344.65', '-344.55', '2026-11-30', '1', '0', ''],
      ]);
      const paypal = records.find((rec) => rec.payout === '9PW00001')!;
      expect(paypal).toMatchObject({ bank_currency: 'EUR', bank_amount: '108.32', expected_bank_amount: '108.37', fx_currency: 'EUR', fx_rate: '0.926239316239', rule: 'reference', bank_ref: '2611270000002' });
      const deposit = records.find((rec) => rec.status === 'deposit_without_payout')!;
      expect(deposit).toMatchObject({ bank_amount: '88.4', bank_currency: 'EUR', bank_text: 'Adyen N.V. TX613000001XT batch 613, ShopCoEU' });
    });

    it('restricts to a provider and a period', async () => {
      const r = await reconcilePayouts(t.db, { providers: ['stripe'], from: '2026-11-27', to: '2026-11-30' });
      expect(r.rows.map((row) => [row.status, row.payout])).toEqual([
        ['payout_mismatch', 'po_1WRpayoutB0002'],
        ['matched', 'po_1WRpayoutB0002'],
      ]);
      const all = await reconcilePayouts(t.db, {});
      expect(all.rows).toHaveLength(7);
    });
  });

  describe('WeChat Pay and Alipay withdrawals', () => {
    it('derives a payout from each 提现 line of the fund-flow and account bills', async () => {
      await loadStatement(t.db, { parser: parserFor('wechatpay'), path: fx('wechatpay/fundflow.csv'), archiveDir });
      await loadStatement(t.db, { parser: parserFor('alipay'), path: fx('alipay/20888011365400330156_20121229_账务明细.csv'), archiveDir });
      const d = await derivePayouts(t.db, ['wechatpay', 'alipay']);
      expect(d.byProvider).toEqual({ wechatpay: 1, alipay: 1 });
      const rows = await t.db.query<Record<string, unknown>>(
        `SELECT provider, account, payout_key, refs, currency::text AS currency, amount::text AS amount, lines_total,
                to_char(expected_date, 'YYYY-MM-DD') AS expected_date
           FROM payouts WHERE provider IN ('wechatpay', 'alipay') ORDER BY provider`,
      );
      expect(rows).toEqual([
        { provider: 'alipay', account: '20888011365400330156', payout_key: '20121229000000009001', refs: ['20121229000000009001', '54632446537390'], currency: 'CNY', amount: '-2000.000000', lines_total: null, expected_date: '2012-12-29' },
        { provider: 'wechatpay', account: '', payout_key: '100012024030118000000001', refs: ['100012024030118000000001', '1900000109202403010000000006'], currency: 'CNY', amount: '-1000.000000', lines_total: null, expected_date: '2024-03-01' },
      ]);
    });
  });
});

describe('CLI: recon bank import, recon payouts', () => {
  let home: string;
  let config: Config;
  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'recon-payouts-cli-'));
    config = { databaseUrl: undefined, home, archiveDir: join(home, 'archive'), reportsDir: join(home, 'reports'), redisUrl: 'redis://127.0.0.1:6379' };
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  async function run(args: string[]): Promise<string> {
    const program = new Command('recon').exitOverride();
    registerPayoutCommands(program, config);
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(args, { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    return chunks.join('');
  }

  it('imports a bank statement and prints its lines and balances check', async () => {
    const text = await run(['bank', 'import', '--file', CAMT]);
    expect(text).toContain('camt053-payout-deposits.xml: camt.053.001.08, 4 lines loaded');
    expect(text).toContain('opening OPBD 5000 (2026-11-25) → closing CLBD 6159.15 (2026-12-03)');
    expect(text).toContain('balances check: 1 control, all hold');
    expect(await run(['bank', 'import', '--file', CAMT])).toContain('4 lines already loaded (same sha256)');
  });

  it('derives, matches and writes payouts.csv into $REPORTS_DIR/payouts', async () => {
    // The provider statements go in the way `recon reconcile` loads them.
    const { openDatabase } = await import('../db/database.js');
    const { migrateLatest } = await import('../db/migrate.js');
    const db = await openDatabase({ pgliteDir: `${home}/pgdata` });
    try {
      await migrateLatest(db);
      for (const [provider, path] of STATEMENTS) await loadStatement(db, { parser: parserFor(provider), path, archiveDir: config.archiveDir });
    } finally {
      await db.close();
    }
    await run(['bank', 'import', '--file', MT940]);
    const text = await run(['payouts']);
    expect(text).toMatch(/payout_amount_mismatch\s+adyen\s+TX612000001XT\s+EUR\s+-120\.2\s+-120\.2\s+\d+\s+2026-11-27\s+1\s+-0\.01/);
    expect(text).toContain('payouts: 5 derived; as of 2026-12-03: payout_mismatch 1, matched 3, payout_amount_mismatch 1, payout_missing_in_bank 1, deposit_without_payout 1');
    const csv = await readFile(join(home, 'reports', 'payouts', 'payouts.csv'), 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(8);
  });

  it('refuses a bad date', async () => {
    await expect(run(['payouts', '--from', '2026-13-01'])).rejects.toThrow(/--from "2026-13-01" is not a YYYY-MM-DD date/);
  });
});
