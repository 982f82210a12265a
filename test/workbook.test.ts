import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal } from '../core/money/index.js';
import { openDatabase } from '../db/database.js';
import { migrateLatest } from '../db/migrate.js';
import { importLedger } from '../ledger/import.js';
import type { LineType, ProviderId, StatementLine, StatementParser } from '../parsers/contract.js';
import { parsedStatement } from '../parsers/common/parsed-statement.js';
import { reconcileDay } from '../reconcile/daily.js';
import { writeDailyReports } from '../reports/daily-reports.js';
import { AMOUNT_COLUMNS, CONTRACT_COLUMNS, DISCREPANCY_COLUMNS } from '../reports/discrepancy-rows.js';
import { safeText } from '../reports/safe-text.js';
import { DAY_SHEETS, writeDayWorkbook, writeDayWorkbooks } from '../reports/workbook/index.js';
import { registerReportCommands } from '../cli/report-commands.js';
import { loadStatement } from '../storage/statements.js';
import type { Sql } from '../db/database.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { tempDir, writeLedger } from './helpers/json-statement.js';

/** Test statement lines with the fields the reports group by (method, wallet) that the shared helper leaves out. */
interface Line { type: LineType; txn?: string; parent?: string; ref?: string; gross: string; fee?: string; currency?: string; at?: string; method?: string; wallet?: string }

function parser(provider: ProviderId): StatementParser {
  return {
    provider,
    timeZone: 'Asia/Shanghai',
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
            provider, type: l.type, providerTxnId: l.txn ?? null, parentTxnId: l.parent ?? null, merchantRef: l.ref ?? null, merchantOrderId: null,
            gross, fee, net: gross.minus(fee), currency: l.currency ?? 'CNY', original: null, occurredAt: new Date(l.at ?? '2026-11-23T04:00:00Z'),
            paymentMethod: l.method ?? null, wallet: l.wallet ?? null, status: null, description: null, needsReview: false,
            source: { member: null, line: n + 1 }, extra: {},
          };
          yield line;
        }
        return {
          provider, layout: 'test.json', account: null, timeZone: 'Asia/Shanghai', lineCount: n, controls: [],
          period: doc.period ? { start: new Date(doc.period[0]), end: new Date(doc.period[1]) } : null,
        };
      });
    },
  };
}

const HYPERLINK = '=HYPERLINK("http://x","y")';

async function workbook(path: string): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(path);
  return wb;
}

/** Rows of a sheet as arrays of cell values (1-based columns → 0-based array). */
function rows(sheet: ExcelJS.Worksheet): unknown[][] {
  const out: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const vals: unknown[] = [];
    for (let c = 1; c <= sheet.columnCount; c++) vals.push(row.getCell(c).value ?? null);
    out.push(vals);
  });
  return out;
}

/** The table under the header row whose first cells are `first`: rows until the first empty row. */
function table(sheet: ExcelJS.Worksheet, first: string[]): Record<string, unknown>[] {
  const all = rows(sheet);
  const h = all.findIndex((r) => first.every((v, i) => r[i] === v));
  expect(h, `header ${first.join(',')} in ${sheet.name}`).toBeGreaterThanOrEqual(0);
  const names = all[h]!.map((v) => (v === null ? '' : String(v)));
  const out: Record<string, unknown>[] = [];
  for (const r of all.slice(h + 1)) {
    if (r.every((v) => v === null || v === '')) break;
    out.push(Object.fromEntries(names.map((n, i) => [n, r[i]])));
  }
  return out;
}

function noFormulas(wb: ExcelJS.Workbook): void {
  for (const sheet of wb.worksheets) {
    sheet.eachRow({ includeEmpty: false }, (row) => row.eachCell((cell) => expect(cell.type, `${sheet.name}!${cell.address}`).not.toBe(ExcelJS.ValueType.Formula)));
  }
}

async function sqlSums(db: Sql, date: string) {
  return db.query<{ provider: string; currency: string; lines: number; gross: string; fee: string; net: string; payouts: string }>(
    `SELECT r.provider, trim(sl.currency) AS currency, count(*)::int AS lines,
            coalesce(sum(sl.gross) FILTER (WHERE sl.type <> 'payout'), 0)::text AS gross, coalesce(sum(sl.fee) FILTER (WHERE sl.type <> 'payout'), 0)::text AS fee,
            coalesce(sum(sl.net) FILTER (WHERE sl.type <> 'payout'), 0)::text AS net, coalesce(sum(sl.gross) FILTER (WHERE sl.type = 'payout'), 0)::text AS payouts
       FROM recon_runs r JOIN recon_run_statements rs ON rs.run_id = r.id JOIN statement_lines sl ON sl.statement_file_id = rs.statement_file_id
      WHERE r.kind = 'daily' AND r.status = 'completed' AND r.bill_date = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [date],
  );
}

const cents = (v: unknown) => new Decimal(String(v)).toFixed(2);

describe.each(BACKENDS)('the day workbook on $name', ({ fresh }) => {
  let t: TestDatabase;
  let dir: string;
  let reports: string;
  let n = 0;

  async function day(provider: ProviderId, date: string, lines: Line[], ledger: string[][] = []) {
    n += 1;
    const path = join(dir, `s${n}.json`);
    writeFileSync(path, JSON.stringify({ lines }));
    const st = await loadStatement(t.db, { parser: parser(provider), path, archiveDir: join(dir, 'archive') });
    if (ledger.length > 0) await importLedger(t.db, writeLedger(dir, `l${n}.csv`, ledger));
    const run = await reconcileDay(t.db, { provider, account: 'acct', date, statementFileIds: [st.id] });
    await writeDailyReports(t.db, { provider, account: 'acct', date }, reports);
    return run;
  }

  beforeAll(async () => {
    t = await fresh();
    dir = tempDir();
    reports = join(dir, 'reports');
    // 2026-11-23 in China: [2026-11-22T16:00Z, 2026-11-23T16:00Z)
    await day('wechatpay', '2026-11-23', [
      { type: 'payment', txn: 'W-A', ref: 'A', gross: '10.00', fee: '0.06', method: 'JSAPI', at: '2026-11-23T02:00:00Z' },
      { type: 'payment', txn: HYPERLINK, ref: '+SUM(A1)', gross: '1234.50', fee: '7.40700', method: '-2+3', at: '2026-11-23T03:00:00Z' },
      { type: 'refund', txn: 'R3', ref: '@cmd', gross: '-3.00', fee: '-0.01800', method: 'JSAPI', at: '2026-11-23T04:00:00Z' },
      { type: 'payout', txn: 'PO-1', gross: '-1000.00', at: '2026-11-23T05:00:00Z' },
    ], [
      ['wA', 'wechatpay', 'payment', 'A', 'W-A', '10.00', '', 'CNY', '2026-11-23T10:00:00+08:00'],
      ['wC', 'wechatpay', 'payment', 'C', 'W-C', '12.00', '', 'CNY', '2026-11-23T23:59:50+08:00'], // near cut-off: pending, cleared next day
      ['wE', 'wechatpay', 'payment', '=1+1', 'W-E', '13.00', '', 'CNY', '2026-11-23T12:00:00+08:00'], // missing in statement
    ]);
    await day('alipay', '2026-11-23', [
      { type: 'payment', txn: 'T-X', ref: 'X1', gross: '8.00', fee: '0.05', method: 'QR', wallet: 'alipay', at: '2026-11-23T03:00:00Z' },
    ], [
      ['ax1', 'alipay', 'payment', 'X1', 'T-X', '8.00', '', 'CNY', '2026-11-23T11:00:00+08:00'],
      ['ax2', 'alipay', 'payment', 'X2', 'T-Y', '9.00', '', 'CNY', '2026-11-23T12:00:00+08:00'],
    ]);
    await day('wechatpay', '2026-11-24', [
      { type: 'payment', txn: 'W-C', ref: 'C', gross: '12.00', fee: '0.07', method: 'JSAPI', at: '2026-11-23T16:00:05Z' },
      { type: 'payment', txn: 'W-F', ref: 'F', gross: '15.00', fee: '0.09', method: 'JSAPI', at: '2026-11-24T03:00:00Z' },
    ], [['wF', 'wechatpay', 'payment', 'F', 'W-F', '15.00', '', 'CNY', '2026-11-24T11:00:00+08:00']]);

    // A payout derived from the day-1 payout line and paid into the bank (as `recon payouts` records it).
    const [line] = await t.db.query<{ id: string }>(`SELECT id::text AS id FROM statement_lines WHERE provider_txn_id = 'PO-1'`);
    const [payout] = await t.db.query<{ id: string }>(
      `INSERT INTO payouts (provider, account, payout_key, reference, currency, amount, expected_date, lines_total, line_count, source_line_ids)
       VALUES ('wechatpay', '', 'PO-1', '@bankref', 'CNY', -1000.00, '2026-11-23', -999.50, 3, ARRAY[$1::bigint]) RETURNING id::text AS id`,
      [line!.id],
    );
    const [bf] = await t.db.query<{ id: string }>(
      `INSERT INTO bank_statement_files (sha256, size_bytes, original_name, archive_path) VALUES (repeat('a', 64), 1, 'bank.xml', '/dev/null') RETURNING id::text AS id`,
    );
    const [bl] = await t.db.query<{ id: string }>(
      `INSERT INTO bank_lines (bank_statement_file_id, line_no, source_line, statement_id, statement_index, entry_index, account, currency, amount, booking_date, value_date, remittance, status)
       VALUES ($1, 1, 1, 'S1', 0, 0, 'DE00', 'CNY', 999.90, '2026-11-24', '2026-11-24', '=cmd|'' /C calc''!A0', 'BOOK') RETURNING id::text AS id`,
      [bf!.id],
    );
    await t.db.query(
      `INSERT INTO payout_matches (payout_id, bank_line_id, provider, status, rule, lag_days, expected_bank_amount, amount_difference, as_of)
       VALUES ($1, $2, 'wechatpay', 'payout_amount_mismatch', 'reference', 1, 1000.00, -0.10, '2026-11-24')`,
      [payout!.id, bl!.id],
    );
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('writes one workbook per day of a range, for all providers and per provider, and nothing for a day without runs', async () => {
    const files = await writeDayWorkbooks(t.db, { from: '2026-11-23', to: '2026-11-25', reportsDir: reports });
    expect(files.map((f) => [f.date, f.runs, f.combined !== null, Object.keys(f.perProvider).sort()])).toEqual([
      ['2026-11-23', 2, true, ['alipay', 'wechatpay']],
      ['2026-11-24', 1, true, ['wechatpay']],
      ['2026-11-25', 0, false, []],
    ]);
    for (const d of ['2026-11-23', '2026-11-24']) expect(existsSync(join(reports, d, 'reconciliation.xlsx'))).toBe(true);
    expect(existsSync(join(reports, '2026-11-25'))).toBe(false);
    const wb = await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual([...DAY_SHEETS]);
  });

  it('puts the database figures in the Summary, to the cent, as numbers in the currency format', async () => {
    const wb = await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'));
    const s = wb.getWorksheet('Summary')!;
    const main = table(s, ['provider', 'account', 'currency', 'statement lines']);
    const sums = await sqlSums(t.db, '2026-11-23');
    expect(main.map((r) => [r.provider, r.currency, r['statement lines']])).toEqual(sums.map((x) => [x.provider, x.currency, x.lines]));
    for (const x of sums) {
      const r = main.find((m) => m.provider === x.provider && m.currency === x.currency)!;
      expect([cents(r.gross), cents(r.fees), cents(r.net), cents(r.payouts)]).toEqual([cents(x.gross), cents(x.fee), cents(x.net), cents(x.payouts)]);
      expect(r.gross).toBe(Number(x.gross));
      expect(r.fees).toBe(Number(x.fee)); // WeChat's 5-decimal fees survive exactly
    }
    const wechat = main.find((r) => r.provider === 'wechatpay')!;
    expect([wechat['pairable lines'], wechat.matched, wechat['discrepancies today'], wechat.pending]).toEqual([3, 1, 3, 1]);
    expect(wechat['match rate']).toBeCloseTo(1 / 3, 9);
    let headerRow = 0;
    s.eachRow((row, i) => { if (row.getCell(4).value === 'statement lines') headerRow = i; });
    const first = s.getRow(headerRow + 1);
    expect([first.getCell(8).type, first.getCell(8).numFmt, first.getCell(7).numFmt]).toEqual([ExcelJS.ValueType.Number, '#,##0.00###;-#,##0.00###', '0.00%']);
    noFormulas(wb);
  });

  it('shows open discrepancies by kind and age since first seen', async () => {
    const wb = await workbook(join(reports, '2026-11-24', 'reconciliation.xlsx'));
    const open = table(wb.getWorksheet('Summary')!, ['provider', 'account', 'currency', 'kind', 'open']);
    const expected = await t.db.query<{ kind: string; n: number; age: number }>(
      `SELECT kind, count(*)::int AS n, max('2026-11-24'::date - first_seen_on)::int AS age FROM exceptions
        WHERE provider = 'wechatpay' AND status = 'open' AND first_seen_on <= '2026-11-24' GROUP BY kind ORDER BY kind`,
    );
    expect(open.map((r) => [r.provider, r.kind, r.open])).toEqual(expected.map((e) => ['wechatpay', e.kind, e.n]));
    const mis = open.find((r) => r.kind === 'missing_in_statement')!;
    expect([mis['0 days'], mis['1–6 days'], mis['oldest first seen']]).toEqual([0, 1, '2026-11-23']);
  });

  it('lists every discrepancy of the day with ids as text, amounts as numbers, exception status, a frozen filtered header', async () => {
    const wb = await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'));
    const d = wb.getWorksheet('Discrepancies')!;
    expect(d.views[0]).toMatchObject({ state: 'frozen', ySplit: 1 });
    expect(d.autoFilter).toBeTruthy();
    const body = table(d, ['kind', 'provider']);
    const [db] = await t.db.query<{ n: number; stmt: string; ledger: string }>(
      `SELECT count(*)::int AS n, coalesce(sum(statement_amount), 0)::text AS stmt, coalesce(sum(ledger_amount), 0)::text AS ledger
         FROM discrepancies d JOIN recon_runs r ON r.id = d.run_id WHERE r.kind = 'daily' AND r.status = 'completed' AND r.bill_date = '2026-11-23'`,
    );
    expect(body.length).toBe(db!.n);
    const total = (col: string) => body.reduce((s, r) => s.plus(typeof r[col] === 'number' ? new Decimal(r[col] as number) : 0), new Decimal(0));
    expect(total('statement_amount').toFixed(2)).toBe(new Decimal(db!.stmt).toFixed(2));
    expect(total('ledger_amount').toFixed(2)).toBe(new Decimal(db!.ledger).toFixed(2));
    const planted = body.find((r) => r.provider_txn_id === HYPERLINK)!;
    expect([planted.order_id, planted.statement_amount, planted.statement_fee, planted.status]).toEqual(['+SUM(A1)', 1234.5, 7.407, 'open']);
    expect(body.find((r) => r.order_id === '@cmd')).toBeDefined();
    expect(body.find((r) => r.order_id === '=1+1')!.first_seen_on).toBe('2026-11-23');
    // every text column is a text cell (ids such as 00123 or =1+1 stay as written)
    d.eachRow((row, i) => {
      if (i === 1) return;
      DISCREPANCY_COLUMNS.forEach((col, c) => {
        const cell = row.getCell(c + 1);
        if (!AMOUNT_COLUMNS.has(col) && cell.value !== null) expect(cell.type, `${col} ${cell.address}`).toBe(ExcelJS.ValueType.String);
        if (AMOUNT_COLUMNS.has(col) && cell.value !== null) expect(cell.type).toBe(ExcelJS.ValueType.Number);
      });
    });
    noFormulas(wb);
  });

  it('keeps each per-provider workbook\'s Discrepancies the same rows as its discrepancies.csv', async () => {
    for (const provider of ['wechatpay', 'alipay']) {
      const base = join(reports, '2026-11-23', provider);
      const csv = parse(readFileSync(join(base, 'discrepancies.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
      const wb = await workbook(join(base, 'reconciliation.xlsx'));
      expect(wb.getWorksheet('Fees')).toBeDefined();
      const body = table(wb.getWorksheet('Discrepancies')!, ['kind', 'provider']);
      expect(body.length).toBe(csv.length);
      body.forEach((r, i) => {
        for (const col of CONTRACT_COLUMNS) {
          const v = r[col];
          if (AMOUNT_COLUMNS.has(col)) expect(v === null ? '' : new Decimal(v as number).toFixed(), col).toBe(csv[i]![col] === '' ? '' : new Decimal(csv[i]![col]!).toFixed());
          else expect(safeText((v ?? '') as string), col).toBe(csv[i]![col]);
        }
      });
      noFormulas(wb);
    }
    // and the CSV neutralised the planted formulas
    const text = readFileSync(join(reports, '2026-11-23', 'wechatpay', 'discrepancies.csv'), 'utf8');
    expect(text).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(text).toContain(`'+SUM(A1)`);
    expect(text).toContain(`'@cmd`);
  });

  it('shows pending items with their dates, and the next day the cleared ones', async () => {
    const p = table((await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'))).getWorksheet('Pending')!, ['kind', 'provider']);
    expect(p.map((r) => [r.provider, r.order_id, r.ledger_amount, r.pending_since, r.due_by])).toEqual([['wechatpay', 'C', 12, '2026-11-23', '2026-11-24']]);
    const c = table((await workbook(join(reports, '2026-11-24', 'reconciliation.xlsx'))).getWorksheet('Cleared')!, ['kind', 'provider']);
    expect(c.map((r) => [r.order_id, r.statement_amount, r.ledger_amount, r.pending_since, r.cleared_on])).toEqual([['C', 12, 12, '2026-11-23', '2026-11-24']]);
  });

  it('compares the payout with the sum of its lines and the bank deposit; without a derived payout says the bank side is not available', async () => {
    const wb = await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'));
    const p = table(wb.getWorksheet('Payouts')!, ['provider', 'account']);
    expect(p.map((r) => [r.provider, r.payout, r.reference, r.statement_amount, r.payout_amount, r.lines_total, r.payout_minus_lines, r.bank_amount, r.value_date, r.bank_difference, r.status, r.bank_text])).toEqual([
      ['wechatpay', 'PO-1', '@bankref', -1000, -1000, -999.5, -0.5, 999.9, '2026-11-24', -0.1, 'payout_amount_mismatch', "=cmd|' /C calc'!A0"],
    ]);
    noFormulas(wb);
    await t.db.query(`DELETE FROM payout_matches`);
    await t.db.query(`DELETE FROM payouts`);
    const again = await writeDayWorkbook(t.db, { date: '2026-11-23', reportsDir: join(dir, 'nopayouts') });
    const q = table((await workbook(again.combined!)).getWorksheet('Payouts')!, ['provider', 'account']);
    expect(q.map((r) => [r.provider, r.payout, r.statement_amount, r.payout_amount, r.bank_amount])).toEqual([['wechatpay', 'PO-1', -1000, null, null]]);
    expect(String(q[0]!.status)).toMatch(/bank side not available/);
  });

  it('sums the fees per provider, method / wallet and currency as in the database', async () => {
    const wb = await workbook(join(reports, '2026-11-23', 'reconciliation.xlsx'));
    const f = table(wb.getWorksheet('Fees')!, ['provider', 'account']);
    const db = await t.db.query<{ provider: string; method: string; wallet: string; type: string; lines: number; gross: string; fee: string }>(
      `SELECT r.provider, coalesce(sl.payment_method, '') AS method, coalesce(sl.wallet, '') AS wallet, sl.type, count(*)::int AS lines, sum(sl.gross)::text AS gross, sum(sl.fee)::text AS fee
         FROM recon_runs r JOIN recon_run_statements rs ON rs.run_id = r.id JOIN statement_lines sl ON sl.statement_file_id = rs.statement_file_id
        WHERE r.kind = 'daily' AND r.status = 'completed' AND r.bill_date = '2026-11-23' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    );
    expect(f.map((r) => [r.provider, r.payment_method, r.wallet, r.type, r.lines, r.gross, r.fee])).toEqual(db.map((x) => [x.provider, x.method, x.wallet, x.type, x.lines, Number(x.gross), Number(x.fee)]));
    const planted = f.find((r) => r.payment_method === '-2+3')!;
    expect(planted.effective_rate).toBeCloseTo(7.407 / 1234.5, 10);
    let methodCell: ExcelJS.Cell | undefined;
    wb.getWorksheet('Fees')!.eachRow((row) => { if (row.getCell(4).value === '-2+3') methodCell = row.getCell(4); });
    expect(methodCell!.type).toBe(ExcelJS.ValueType.String);
  });
});

describe('recon report day', () => {
  it('(re)writes the day workbooks of a range from the command line', async () => {
    const home = tempDir();
    const db = await openDatabase({ pgliteDir: join(home, 'pgdata') });
    await migrateLatest(db);
    const dir = tempDir();
    for (const [i, date] of ['2026-11-23', '2026-11-24'].entries()) {
      const path = join(dir, `s${i}.json`);
      writeFileSync(path, JSON.stringify({ lines: [{ type: 'payment', txn: `P${i}`, ref: `O${i}`, gross: '5.00', fee: '0.03', at: `${date}T04:00:00Z` }] }));
      const st = await loadStatement(db, { parser: parser('wechatpay'), path, archiveDir: join(dir, 'archive') });
      await reconcileDay(db, { provider: 'wechatpay', account: '', date, statementFileIds: [st.id] });
    }
    await db.close();
    const reportsDir = join(home, 'reports');
    const program = new Command('recon').exitOverride();
    registerReportCommands(program, { databaseUrl: undefined, home, archiveDir: join(home, 'archive'), reportsDir, redisUrl: 'redis://127.0.0.1:6379', feesFile: undefined });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'recon', 'report', 'day', '--date', '2026-11-22', '--to', '2026-11-24']);
    } finally {
      process.stdout.write = write;
    }
    expect(out.join('')).toContain('2026-11-22: no completed daily run');
    expect(out.join('')).toContain('2 day workbooks written');
    for (const date of ['2026-11-23', '2026-11-24']) {
      const wb = await workbook(join(reportsDir, date, 'reconciliation.xlsx'));
      const main = table(wb.getWorksheet('Summary')!, ['provider', 'account', 'currency', 'statement lines']);
      expect(main.map((r) => [r.provider, r.gross, r.fees, r.net])).toEqual([['wechatpay', 5, 0.03, 4.97]]);
      expect(existsSync(join(reportsDir, date, 'wechatpay', 'reconciliation.xlsx'))).toBe(true);
    }
    await expect(program.parseAsync(['node', 'recon', 'report', 'day', '--date', '2026-11-24', '--to', '2026-11-23'])).rejects.toThrow('--to 2026-11-23 is before --date 2026-11-24');
  });
});
