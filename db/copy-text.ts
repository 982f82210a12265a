/**
 * PostgreSQL's COPY formats, written from JavaScript values, and the byte chunks they travel in. No
 * database code here: a worker thread that only writes COPY text loads this and nothing heavier.
 */

/** A value as it travels to PostgreSQL in a COPY row: text, or null for SQL NULL. */
export type CopyValue = string | null;

// Rows are sent to the server in chunks of about this many bytes: small enough to stay in V8's young
// generation (chunks of 20,000 joined rows, ~10 MB, made the garbage collector the biggest cost of a
// 1M-line load). PGlite runs one COPY statement per run of chunks of about PGLITE_COPY_CHUNK_BYTES.
export const COPY_CHUNK_BYTES = 64 * 1024;
export const PGLITE_COPY_CHUNK_BYTES = 8 * 1024 * 1024;

// Quoted: what CSV needs quoted, and a backslash (so that no value reads as the \. end marker).
// White space needs nothing: in CSV format PostgreSQL keeps every character of an unquoted value.
const NEEDS_QUOTES = /[",\r\n\\]/;
const QUOTE = /"/g;

/** One value in PostgreSQL's CSV COPY format: unquoted empty is NULL, quoted "" is the empty string. */
export function csvField(v: CopyValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (v === '' || NEEDS_QUOTES.test(v)) return `"${v.replace(QUOTE, '""')}"`;
  return v;
}

export type CopyFormat = 'csv' | 'text';

// COPY's text format escapes only these, so JSON and most text go through untouched (CSV doubles every quote).
const TEXT_SPECIAL = /[\\\t\n\r]/;
const TEXT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const TEXT_SPECIAL_ALL = /[\\\t\n\r]/g;

/** One value in PostgreSQL's text COPY format: \N is NULL. */
export function textField(v: CopyValue | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return TEXT_SPECIAL.test(v) ? v.replace(TEXT_SPECIAL_ALL, (c) => TEXT_ESCAPES[c]!) : v;
}

/** One row in PostgreSQL's CSV COPY format, with its line break. */
export function copyCsvRow(values: readonly CopyValue[]): string {
  let out = csvField(values[0]);
  for (let i = 1; i < values.length; i++) out += ',' + csvField(values[i]);
  return out + '\n';
}

/**
 * Writes items as COPY lines, UTF-8 encoded straight into byte chunks of about `chunkBytes`, counting
 * the lines. Each line is encoded once where it lands: joining lines into a string first and encoding
 * the joined string took 5 s of a 1M-line load (V8 flattens the concatenation), against 1 s this way.
 */
export async function* copyChunks<T>(batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, counter: { n: number }, chunkBytes: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(chunkBytes);
  let used = 0;
  for await (const batch of batches) {
    for (const item of batch) {
      const line = toLine(item);
      // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
      const room = line.length * 3;
      if (used + room > buf.length) {
        if (used > 0) yield buf.subarray(0, used);
        // A chunk handed on is never written again: the consumer may still hold it.
        buf = Buffer.allocUnsafe(Math.max(chunkBytes, room));
        used = 0;
      }
      used += buf.write(line, used);
      counter.n += 1;
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}
