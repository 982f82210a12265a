import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { RunSummary } from '../reconcile/run.js';
import { DISCREPANCY_COLUMNS, type DiscrepancyRow } from '../reports/discrepancy-rows.js';
import { writeDiscrepanciesCsv } from '../reports/discrepancies-csv.js';
import { writeWorkbook } from '../reports/workbook/run-workbook.js';
import { tempDir } from './helpers/json-statement.js';

const row = (i: number): DiscrepancyRow => ({
  ...(Object.fromEntries(DISCREPANCY_COLUMNS.map((c) => [c, ''])) as DiscrepancyRow),
  kind: 'missing_in_ledger', provider: 'wechatpay', type: 'payment', provider_txn_id: `T${i}`, order_id: `O${i}`,
  currency: 'CNY', statement_amount: `${i}.00`,
});

/** Rows as a stream that counts how far it has been read. */
function stream(n: number, read: { upTo: number }): AsyncGenerator<DiscrepancyRow> {
  return (async function* () {
    for (let i = 1; i <= n; i++) {
      read.upTo = i;
      yield row(i);
    }
  })();
}

const summary: RunSummary = {
  provider: 'wechatpay', statement_lines: 5, ledger_rows: 0, matched: 0,
  discrepancies: { missing_in_ledger: 5, missing_in_statement: 0, amount_mismatch: 0, fee_mismatch: 0, currency_mismatch: 0, duplicate_in_statement: 0, duplicate_in_ledger: 0 },
  totals: {}, run_id: '1', period: { start: '2026-11-23T16:00:00.000Z', end: '2026-11-24T16:00:00.000Z' },
  matched_by_rule: {}, statement_lines_by_type: { payment: 5 }, statements: [],
};

describe('run reports from streamed rows', () => {
  it('writes discrepancies.csv from a stream, every row in order, and a header alone for none', async () => {
    const dir = tempDir();
    const read = { upTo: 0 };
    await writeDiscrepanciesCsv(join(dir, 'd.csv'), stream(5, read));
    const records = parse(readFileSync(join(dir, 'd.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.provider_txn_id, r.statement_amount])).toEqual([['T1', '1.00'], ['T2', '2.00'], ['T3', '3.00'], ['T4', '4.00'], ['T5', '5.00']]);
    expect(read.upTo).toBe(5);

    await writeDiscrepanciesCsv(join(dir, 'none.csv'), stream(0, read));
    expect(readFileSync(join(dir, 'none.csv'), 'utf8')).toBe(DISCREPANCY_COLUMNS.join(',') + '\n');
  });

  it('stops the Discrepancies sheet at its row limit with a note, and reads no further', async () => {
    const dir = tempDir();
    const read = { upTo: 0 };
    const path = join(dir, 'r.xlsx');
    await writeWorkbook(path, { summary, discrepancies: stream(5, read), fees: [], feeChecks: [], maxDiscrepancyRows: 3 });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    const sheet = wb.getWorksheet('Discrepancies')!;
    const ids = [];
    for (let r = 2; r <= sheet.rowCount; r++) ids.push(String(sheet.getRow(r).getCell(DISCREPANCY_COLUMNS.indexOf('provider_txn_id') + 1).value ?? ''));
    expect(ids).toEqual(['T1', 'T2', 'T3', '']);
    expect(String(sheet.getRow(5).getCell(1).value)).toBe('… the sheet stops at 3 rows; all 5 are in discrepancies.csv');
    expect(read.upTo).toBe(4);
  });
});
