import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyColumn } from './discrepancy-rows.js';
import { safeText } from './safe-text.js';

/**
 * Writes discrepancies.csv (and pending.csv / cleared.csv, which add their date columns): UTF-8,
 * RFC 4180, header row, the contract's columns first.
 */
export async function writeDiscrepanciesCsv<R extends Record<DiscrepancyColumn, string>>(
  path: string,
  rows: Iterable<R>,
  extraColumns: ReadonlyArray<Exclude<keyof R, DiscrepancyColumn> & string> = [],
): Promise<void> {
  const out = createWriteStream(path);
  const columns = [...DISCREPANCY_COLUMNS, ...extraColumns];
  const csv = stringify({ header: true, columns, record_delimiter: 'unix' });
  csv.pipe(out);
  for (const row of rows) {
    const record: Record<string, string> = {};
    for (const col of columns) {
      const v = String((row as Record<string, string>)[col] ?? '');
      record[col] = AMOUNT_COLUMNS.has(col as DiscrepancyColumn) ? v : safeText(v);
    }
    csv.write(record);
  }
  csv.end();
  await finished(out);
}
