import ExcelJS from 'exceljs';
import { Decimal } from '../../core/money/index.js';
import type { RunSummary } from '../../reconcile/run.js';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyRow } from '../discrepancy-rows.js';
import type { FeeCheckRow, FeeRow } from '../fee-rows.js';
import { amountCell, discrepancyCells } from './cells.js';

const boldRow = (sheet: ExcelJS.Worksheet, names: readonly string[]): void => {
  sheet.addRow([...names]).font = { bold: true };
};

export interface WorkbookInput {
  summary: RunSummary;
  /** The rows of discrepancies.csv, in its order; a stream is taken as it comes. */
  discrepancies: AsyncIterable<DiscrepancyRow> | Iterable<DiscrepancyRow>;
  fees: FeeRow[];
  feeChecks: FeeCheckRow[];
  /** Rows the Discrepancies sheet holds at most (default: as many as Excel opens, one kept for the note). */
  maxDiscrepancyRows?: number;
}

/** Excel opens at most 1,048,576 rows a sheet: the header, the rows, and a last one saying where the rest are. */
export const XLSX_MAX_DISCREPANCY_ROWS = 1_048_576 - 2;

/**
 * reconciliation.xlsx: Summary, Discrepancies (the CSV's rows) and Fees. Text cells are always written
 * as strings, so provider or ledger text that looks like a formula stays text. Written as a stream, each
 * discrepancy row committed as it is filled: a 10M-line day has tens of thousands of them, which the
 * in-memory workbook model could not hold in the bin's heap.
 */
export async function writeWorkbook(path: string, input: WorkbookInput): Promise<void> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useStyles: true, useSharedStrings: false });
  wb.creator = 'walletrecon';
  const { summary } = input;

  const s = wb.addWorksheet('Summary');
  s.columns = [{ width: 28 }, { width: 20 }, { width: 20 }, { width: 20 }, { width: 20 }];
  s.addRow(['Provider', summary.provider]).font = { bold: true };
  s.addRow(['Run', summary.run_id]);
  s.addRow(['Period start (UTC)', summary.period.start]);
  s.addRow(['Period end (UTC)', summary.period.end]);
  for (const f of summary.statements) s.addRow(['Statement', f.file, f.layout, f.sha256]);
  s.addRow([]);
  s.addRow(['Statement lines', summary.statement_lines]);
  s.addRow(['Ledger rows', summary.ledger_rows]);
  s.addRow(['Matched', summary.matched]);
  const rate = s.addRow(['Match rate', summary.ledger_rows + summary.statement_lines === 0 ? 0 : summary.matched / Math.max(summary.ledger_rows, 1)]);
  rate.getCell(2).numFmt = '0.00%';
  s.addRow([]);
  s.addRow(['Discrepancies', 'count']).font = { bold: true };
  for (const [kind, n] of Object.entries(summary.discrepancies)) s.addRow([kind, n]);
  s.addRow([]);
  s.addRow(['Currency', 'Statement gross', 'Statement fee', 'Statement net', 'Ledger amount']).font = { bold: true };
  for (const [ccy, t] of Object.entries(summary.totals)) {
    const row = s.addRow([ccy]);
    amountCell(row.getCell(2), t.statement_gross, ccy);
    amountCell(row.getCell(3), t.statement_fee, ccy);
    amountCell(row.getCell(4), t.statement_net, ccy);
    amountCell(row.getCell(5), t.ledger_amount, ccy);
  }

  // The zip takes one sheet at a time: a sheet left open holds every later sheet's rows in memory. With
  // the Summary sheet left open, a million discrepancy rows grew the process past 850 MB.
  s.commit();

  // A streamed sheet takes its frozen header view when it is created.
  const frozenHeader = { views: [{ state: 'frozen' as const, ySplit: 1 }] };
  const d = wb.addWorksheet('Discrepancies', frozenHeader);
  boldRow(d, [...DISCREPANCY_COLUMNS]);
  d.columns.forEach((c, i) => {
    const name = DISCREPANCY_COLUMNS[i]!;
    c.width = AMOUNT_COLUMNS.has(name) ? 16 : name.endsWith('_id') || name === 'order_id' ? 30 : 18;
    if (!AMOUNT_COLUMNS.has(name)) c.numFmt = '@';
  });
  const max = input.maxDiscrepancyRows ?? XLSX_MAX_DISCREPANCY_ROWS;
  let written = 0;
  for await (const r of input.discrepancies) {
    if (written === max) {
      // The CSV has every row; a workbook past Excel's limit would not open at all.
      const total = Object.values(summary.discrepancies).reduce((n, k) => n + k, 0);
      d.addRow([`… the sheet stops at ${max} rows; all ${total} are in discrepancies.csv`]).commit();
      break;
    }
    const row = d.addRow([]);
    discrepancyCells(row, r);
    row.commit();
    written += 1;
  }
  d.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: DISCREPANCY_COLUMNS.length } };
  d.commit();

  const f = wb.addWorksheet('Fees', frozenHeader);
  boldRow(f, ['currency', 'type', 'payment_method', 'wallet', 'lines', 'gross', 'fee', 'net', 'effective_rate']);
  f.columns.forEach((c) => (c.width = 16));
  for (const r of input.fees) {
    const row = f.addRow([r.currency.trim(), r.type, r.payment_method, r.wallet, r.lines]);
    amountCell(row.getCell(6), r.gross, r.currency.trim());
    amountCell(row.getCell(7), r.fee, r.currency.trim());
    amountCell(row.getCell(8), r.net, r.currency.trim());
    const gross = new Decimal(r.gross);
    if (!gross.isZero()) {
      row.getCell(9).value = new Decimal(r.fee).dividedBy(gross).abs().toDecimalPlaces(8).toNumber();
      row.getCell(9).numFmt = '0.000%';
    }
  }
  if (input.feeChecks.length > 0) {
    f.addRow([]);
    f.addRow(['Fee check against the ledger']).font = { bold: true };
    f.addRow(['currency', 'type', 'pairs', 'statement_fee', 'ledger_fee', 'difference', 'mismatches']).font = { bold: true };
    for (const r of input.feeChecks) {
      const ccy = r.currency.trim();
      const row = f.addRow([ccy, r.type, r.pairs]);
      amountCell(row.getCell(4), r.statement_fee, ccy);
      amountCell(row.getCell(5), r.ledger_fee, ccy);
      amountCell(row.getCell(6), new Decimal(r.statement_fee).minus(r.ledger_fee).toFixed(), ccy);
      row.getCell(7).value = r.mismatches;
    }
  }

  await wb.commit();
}
