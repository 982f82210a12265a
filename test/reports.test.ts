import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedger } from '../ledger/import.js';
import { reconcileRun } from '../reconcile/run.js';
import { writeRunReports } from '../reports/write-run-reports.js';
import { loadStatement } from '../storage/statements.js';
import { CONTRACT_COLUMNS } from '../reports/discrepancy-rows.js';
import { freshPglite, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger } from './helpers/json-statement.js';

describe('report files', () => {
  let t: TestDatabase;
  let dir: string;
  let out: string;
  beforeAll(async () => {
    t = await freshPglite();
    dir = tempDir();
    out = join(dir, 'out');
    const parser = jsonParser('wechatpay');
    const st = await loadStatement(t.db, {
      parser,
      archiveDir: join(dir, 'archive'),
      path: writeJsonStatement(dir, 's.json', {
        period: ['2026-11-23T16:00:00Z', '2026-11-24T16:00:00Z'],
        lines: [
          { type: 'payment', txn: '=HYPERLINK("http://x","y")', ref: '+SUM(A1)', gross: '1234.50', fee: '7.40700' },
          { type: 'payment', txn: 'T2', ref: '@cmd', gross: '10.00', fee: '0.06' },
          { type: 'refund', txn: 'R3', ref: '-R3', gross: '-3.00', fee: '-0.01800' },
        ],
      }),
    });
    const imp = await importLedger(t.db, writeLedger(dir, 'l.csv', [
      ['L1', 'wechatpay', 'payment', '+SUM(A1)', '', '1234.00', '7.41', 'CNY', '2026-11-24T10:00:00+08:00'],
      ['L9', 'wechatpay', 'payment', '=1+1', 'T9', '5.00', '', 'CNY', '2026-11-24T10:00:00+08:00'],
    ]));
    const summary = await reconcileRun(t.db, {
      provider: 'wechatpay', kind: 'adhoc', statementFileIds: [st.id],
      period: { start: new Date('2026-11-23T16:00:00Z'), end: new Date('2026-11-24T16:00:00Z') }, billDate: '2026-11-24', ledgerImportId: imp.importId,
    });
    await writeRunReports(t.db, summary, [st.id], out);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('writes discrepancies.csv with the contract columns first and formula-looking text neutralised', () => {
    const text = readFileSync(join(out, 'discrepancies.csv'), 'utf8');
    const rows = parse(text) as string[][];
    expect(rows[0]!.slice(0, CONTRACT_COLUMNS.length)).toEqual([...CONTRACT_COLUMNS]);
    expect(rows.slice(1).map((r) => r.slice(0, 11))).toEqual([
      ['missing_in_ledger', 'wechatpay', 'payment', 'T2', "'@cmd", 'CNY', '10.00', '', '0.06', '', ''],
      ['missing_in_ledger', 'wechatpay', 'refund', 'R3', "'-R3", 'CNY', '-3.00', '', '-0.018', '', ''],
      ['missing_in_statement', 'wechatpay', 'payment', 'T9', "'=1+1", 'CNY', '', '5.00', '', '', 'L9'],
      ['amount_mismatch', 'wechatpay', 'payment', `'=HYPERLINK("http://x","y")`, "'+SUM(A1)", 'CNY', '1234.50', '1234.00', '7.407', '7.41', 'L1'],
      ['fee_mismatch', 'wechatpay', 'payment', `'=HYPERLINK("http://x","y")`, "'+SUM(A1)", 'CNY', '1234.50', '1234.00', '7.407', '7.41', 'L1'],
    ]);
    expect(rows[4]![11]).toBe('0.50');
    expect(rows[5]![11]).toBe('-0.003');
  });

  it('writes summary.json with every kind and decimal-string totals', () => {
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s).toMatchObject({
      provider: 'wechatpay', statement_lines: 3, ledger_rows: 2, matched: 1,
      discrepancies: { missing_in_ledger: 2, missing_in_statement: 1, amount_mismatch: 1, fee_mismatch: 1, currency_mismatch: 0, duplicate_in_statement: 0, duplicate_in_ledger: 0 },
      totals: { CNY: { statement_gross: '1241.50', statement_fee: '7.449', statement_net: '1234.051', ledger_amount: '1239.00' } },
    });
  });

  it('writes a workbook whose amounts are numbers in the currency format and whose text never becomes a formula', async () => {
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(join(out, 'reconciliation.xlsx'));
    expect(wb.worksheets.map((w) => w.name)).toEqual(['Summary', 'Discrepancies', 'Fees']);
    const d = wb.getWorksheet('Discrepancies')!;
    expect(d.rowCount).toBe(6);
    const mismatch = d.getRow(5);
    expect(mismatch.getCell(1).value).toBe('amount_mismatch');
    expect(mismatch.getCell(4).type).toBe(ExcelJS.ValueType.String);
    expect(mismatch.getCell(4).value).toBe('=HYPERLINK("http://x","y")');
    expect(mismatch.getCell(5).value).toBe('+SUM(A1)');
    expect(mismatch.getCell(7).value).toBe(1234.5);
    expect(mismatch.getCell(7).numFmt).toBe('#,##0.00###;-#,##0.00###');
    for (let r = 1; r <= d.rowCount; r++) {
      d.getRow(r).eachCell((cell) => expect(cell.type).not.toBe(ExcelJS.ValueType.Formula));
    }
    const fees = wb.getWorksheet('Fees')!;
    const payments = fees.getRow(2);
    expect([payments.getCell(1).value, payments.getCell(2).value, payments.getCell(5).value, payments.getCell(7).value]).toEqual(['CNY', 'payment', 2, 7.467]);
  });
});
