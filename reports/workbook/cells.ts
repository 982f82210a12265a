import type ExcelJS from 'exceljs';
import { Decimal, isKnownCurrency, minorUnits } from '../../core/money/index.js';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyRow } from '../discrepancy-rows.js';

const currencyFormats = new Map<string, string>();

/** Excel number format for a currency: its minor units, plus optional finer digits (WeChat fees). */
export function currencyFormat(currency: string): string {
  let format = currencyFormats.get(currency);
  if (format === undefined) {
    const units = isKnownCurrency(currency) ? minorUnits(currency) : 2;
    const places = units === 0 ? '' : '.' + '0'.repeat(units);
    format = `#,##0${places}${units === 0 ? '' : '###'};-#,##0${places}${units === 0 ? '' : '###'}`;
    currencyFormats.set(currency, format);
  }
  return format;
}

export const RATE_FORMAT = '0.000%';
export const PERCENT_FORMAT = '0.00%';

/**
 * The one place a decimal becomes a spreadsheet number: XLSX stores numbers as IEEE doubles. Amounts
 * of up to 15 significant digits round-trip exactly; the CSV keeps the exact decimal text regardless.
 */
export function cellNumber(text: string | Decimal): number {
  return (typeof text === 'string' ? new Decimal(text) : text).toNumber();
}

/** A bold header row that stays in view (frozen) and, optionally, carries an autofilter. */
export function header(sheet: ExcelJS.Worksheet, names: readonly string[], opts: { filter?: boolean } = {}): ExcelJS.Row {
  const row = sheet.addRow([...names]);
  row.font = { bold: true };
  sheet.views = [{ state: 'frozen', ySplit: row.number }];
  if (opts.filter) sheet.autoFilter = { from: { row: row.number, column: 1 }, to: { row: row.number, column: names.length } };
  return row;
}

/**
 * How a cell takes its number format. `own`: a style object of its own, which may be restyled later (a
 * bold row). `shared`: one style object per format, shared by every such cell, for rows written in bulk
 * and never restyled (restyling one would restyle them all). exceljs looks a shared style object up, where
 * it renders each cell's own copy to XML and compares the text: in a run that wrote a million
 * discrepancies (a 1M-line day against an empty ledger), about 50 s of CPU, a quarter of the run.
 */
export type CellStyling = 'own' | 'shared';

const sharedStyles = new Map<string, Partial<ExcelJS.Style>>();

function setFormat(cell: ExcelJS.Cell, numFmt: string, styling: CellStyling): void {
  if (styling === 'own') {
    cell.numFmt = numFmt;
    return;
  }
  let style = sharedStyles.get(numFmt);
  if (style === undefined) sharedStyles.set(numFmt, (style = { numFmt }));
  cell.style = style;
}

/** A numeric amount cell in the currency's format; empty text leaves the cell empty. */
export function amountCell(cell: ExcelJS.Cell, text: string | Decimal | null | undefined, currency: string, styling: CellStyling = 'own'): void {
  if (text === '' || text === null || text === undefined) return;
  cell.value = cellNumber(text);
  setFormat(cell, currencyFormat(currency), styling);
}

/**
 * A text cell: always a string value with the text format, so provider or ledger text that looks like a
 * formula (`=HYPERLINK(…)`, `+SUM(A1)`, `@cmd`, `-2+3`) or a number (an id like `00123`) stays text.
 * exceljs only writes a formula for a `{ formula }` value, never for a string.
 */
export function textCell(cell: ExcelJS.Cell, text: string | null | undefined, styling: CellStyling = 'own'): void {
  cell.value = text ?? '';
  setFormat(cell, '@', styling);
}

/** A whole-number cell. */
export function countCell(cell: ExcelJS.Cell, n: number | null | undefined): void {
  if (n === null || n === undefined) return;
  cell.value = n;
  cell.numFmt = '0';
}

/** A rate (a fraction) as a percentage cell; null leaves the cell empty. */
export function rateCell(cell: ExcelJS.Cell, rate: Decimal | null, format = RATE_FORMAT): void {
  if (rate === null) return;
  cell.value = rate.toDecimalPlaces(10).toNumber();
  cell.numFmt = format;
}

/** fee / gross as a positive fraction, null when gross is zero. */
export function effectiveRate(fee: string | Decimal, gross: string | Decimal): Decimal | null {
  const g = new Decimal(gross);
  if (g.isZero()) return null;
  return new Decimal(fee).dividedBy(g).abs().toDecimalPlaces(8);
}

/** A bold title line (a section heading inside a sheet). */
export function title(sheet: ExcelJS.Worksheet, text: string): ExcelJS.Row {
  const row = sheet.addRow([]);
  textCell(row.getCell(1), text);
  row.font = { bold: true };
  return row;
}

/** A plain note line (explanations under a table). */
export function note(sheet: ExcelJS.Worksheet, text: string): ExcelJS.Row {
  const row = sheet.addRow([]);
  textCell(row.getCell(1), text);
  row.font = { italic: true };
  return row;
}

/**
 * The discrepancies.csv columns of one row, from the row's first cell: amounts in their currency (a
 * ledger amount or fee in the ledger's currency when it differs), everything else as text. The cells
 * share their styles: a discrepancy row is written in bulk and never restyled.
 */
export function discrepancyCells(row: ExcelJS.Row, r: DiscrepancyRow): void {
  DISCREPANCY_COLUMNS.forEach((col, i) => {
    const cell = row.getCell(i + 1);
    if (AMOUNT_COLUMNS.has(col)) {
      const ccy = (col === 'ledger_amount' || col === 'ledger_fee') && r.ledger_currency ? r.ledger_currency : r.currency;
      amountCell(cell, r[col], ccy, 'shared');
    } else {
      textCell(cell, r[col], 'shared');
    }
  });
}
