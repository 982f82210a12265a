import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { DISCREPANCY_COLUMNS, type DiscrepancyRow } from '../reports/discrepancy-rows.js';
import { discrepancyCells, header, textCell, title } from '../reports/workbook/cells.js';

const row = (over: Partial<DiscrepancyRow>): DiscrepancyRow =>
  ({ ...Object.fromEntries(DISCREPANCY_COLUMNS.map((c) => [c, ''])), ...over }) as DiscrepancyRow;

describe('workbook cells', () => {
  it('gives bulk discrepancy cells one shared style per format, which a later bold row does not reach', async () => {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('Discrepancies');
    header(sheet, [...DISCREPANCY_COLUMNS]);
    const cny = sheet.addRow([]);
    discrepancyCells(cny, row({ kind: 'missing_in_ledger', provider: 'wechatpay', currency: 'CNY', statement_amount: '10.50' }));
    const jpy = sheet.addRow([]);
    discrepancyCells(jpy, row({ kind: 'missing_in_ledger', provider: 'stripe', currency: 'JPY', statement_amount: '1050' }));
    // Written after the bulk rows, with cells of their own style: bold stays on this row.
    const heading = title(sheet, 'Notes');
    const plain = sheet.addRow([]);
    textCell(plain.getCell(1), 'own style');

    const amount = DISCREPANCY_COLUMNS.indexOf('statement_amount') + 1;
    expect(cny.getCell(1).style).toBe(jpy.getCell(1).style);
    expect(cny.getCell(amount).style).not.toBe(jpy.getCell(amount).style);
    expect(cny.getCell(1).style).not.toBe(plain.getCell(1).style);

    const back = new ExcelJS.Workbook();
    await back.xlsx.load(await wb.xlsx.writeBuffer());
    const s = back.getWorksheet('Discrepancies')!;
    expect(s.getRow(1).getCell(1).font?.bold).toBe(true);
    expect([s.getRow(2).getCell(1).value, s.getRow(2).getCell(1).numFmt, s.getRow(2).getCell(1).font?.bold ?? false]).toEqual(['missing_in_ledger', '@', false]);
    expect([s.getRow(2).getCell(amount).value, s.getRow(2).getCell(amount).numFmt]).toEqual([10.5, '#,##0.00###;-#,##0.00###']);
    expect([s.getRow(3).getCell(amount).value, s.getRow(3).getCell(amount).numFmt]).toEqual([1050, '#,##0;-#,##0']);
    expect(s.getRow(3).getCell(2).font?.bold ?? false).toBe(false);
    expect([s.getRow(heading.number).getCell(1).value, s.getRow(heading.number).getCell(1).font?.bold]).toEqual(['Notes', true]);
    expect([s.getRow(plain.number).getCell(1).numFmt, s.getRow(plain.number).getCell(1).font?.bold ?? false]).toEqual(['@', false]);
  });
});
