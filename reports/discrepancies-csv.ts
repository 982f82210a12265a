import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyColumn } from './discrepancy-rows.js';
import { safeText } from './safe-text.js';

/**
 * Writes discrepancies.csv (and pending.csv / cleared.csv, which add their date columns): UTF-8,
 * RFC 4180, header row, the contract's columns first. Rows may arrive as a stream: each is taken only
 * when the file has room for it, so memory stays bounded however many there are.
 */
export async function writeDiscrepanciesCsv<R extends Record<DiscrepancyColumn, string>>(
  path: string,
  rows: AsyncIterable<R> | Iterable<R>,
  extraColumns: ReadonlyArray<Exclude<keyof R, DiscrepancyColumn> & string> = [],
): Promise<void> {
  const columns = [...DISCREPANCY_COLUMNS, ...extraColumns];
  async function* records(): AsyncGenerator<Record<string, string>> {
    for await (const row of rows) {
      const record: Record<string, string> = {};
      for (const col of columns) {
        const v = String((row as Record<string, string>)[col] ?? '');
        record[col] = AMOUNT_COLUMNS.has(col as DiscrepancyColumn) ? v : safeText(v);
      }
      yield record;
    }
  }
  await pipeline(Readable.from(records()), stringify({ header: true, columns, record_delimiter: 'unix' }), createWriteStream(path));
}
