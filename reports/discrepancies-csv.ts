import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyRow } from './discrepancy-rows.js';
import { safeText } from './safe-text.js';

/** Writes discrepancies.csv: UTF-8, RFC 4180, header row, the contract's columns first. */
export async function writeDiscrepanciesCsv(path: string, rows: Iterable<DiscrepancyRow>): Promise<void> {
  const out = createWriteStream(path);
  const csv = stringify({ header: true, columns: [...DISCREPANCY_COLUMNS], record_delimiter: 'unix' });
  csv.pipe(out);
  for (const row of rows) {
    const record: Record<string, string> = {};
    for (const col of DISCREPANCY_COLUMNS) record[col] = AMOUNT_COLUMNS.has(col) ? row[col] : safeText(row[col]);
    csv.write(record);
  }
  csv.end();
  await finished(out);
}
