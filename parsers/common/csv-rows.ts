import { createReadStream } from 'node:fs';
import { CsvError, parse as csvParse } from 'csv-parse';
import { StatementFormatError } from '../../core/errors.js';
import { decodeUtf8, pipeWithErrors } from './decode.js';

export interface CsvRow {
  /** 1-based physical line the record starts on. */
  line: number;
  cells: string[];
}

/**
 * Streams an RFC 4180 UTF-8 CSV (BOM allowed) as records with the physical line each starts on. The
 * line is counted from the records' raw text, because csv-parse's own count drifts after a quoted
 * field that holds a line break. Invalid UTF-8 and malformed CSV are reported with their line.
 */
export async function* csvRows(path: string, file: string): AsyncGenerator<CsvRow> {
  const bytes = createReadStream(path);
  const text = decodeUtf8(bytes);
  const parser = pipeWithErrors(text, csvParse({ bom: true, raw: true, info: true, relax_column_count: true }));
  let line = 1;
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const start = line;
      line += (rec.raw.match(/\r\n|\r|\n/g) ?? []).length;
      if (rec.raw.includes('\uFFFD')) {
        throw new StatementFormatError('bad_encoding', { file, line: start }, 'bytes that are not valid UTF-8 (is the file in another encoding?)');
      }
      yield { line: start, cells: rec.record };
    }
  } catch (err) {
    if (err instanceof CsvError) {
      const at = typeof err['lines'] === 'number' ? (err['lines'] as number) : undefined;
      throw new StatementFormatError('bad_csv', { file, line: at }, `not valid CSV: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    parser.destroy();
    bytes.destroy();
  }
}
