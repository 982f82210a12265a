import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { pipeWithErrors } from '../parsers/common/decode.js';

/** Records in file order, each with the line number csv-parse gives it (`info.lines`). */
export interface RecordBatch {
  records: string[][];
  lines: number[];
}

/** The csv-parse options of the ledger contract (info: line numbers for the error messages). */
const CSV_OPTIONS = { bom: true, info: true, skip_empty_lines: true, relax_column_count: false } as const;

const LF = 0x0a;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The record delimiter csv-parse settled on: not seen yet, LF or CRLF (CR alone is left to csv-parse). */
type LineEnd = 'unknown' | 'lf' | 'crlf';

/** The plain-file splitter; `bailed` once it met something it leaves to csv-parse. */
class PlainCsv {
  bailed = false;
  private lineEnd: LineEnd = 'unknown';
  private line = 1;
  private width = -1;

  /** Splits `text` (whole lines; at the end of the file the last one may lack its line break). */
  split(text: string, out: RecordBatch): void {
    if (this.lineEnd === 'unknown' && !this.discoverLineEnd(text)) return;
    const crlf = this.lineEnd === 'crlf';
    const len = text.length;
    let pos = 0;
    while (pos < len) {
      const nl = text.indexOf('\n', pos);
      let end: number;
      let next: number;
      if (nl === -1) {
        end = len;
        next = len;
      } else if (crlf) {
        // A bare LF inside a CRLF file is field content to csv-parse.
        if (nl === pos || text.charCodeAt(nl - 1) !== 0x0d) return this.bail();
        end = nl - 1;
        next = nl + 1;
      } else {
        end = nl;
        next = nl + 1;
      }
      if (end === pos) {
        // skip_empty_lines
        this.line += 1;
        pos = next;
        continue;
      }
      const content = text.slice(pos, end);
      if (content.indexOf('\r') !== -1) return this.bail();
      const fields = content.indexOf('"') === -1 ? content.split(',') : splitQuoted(content);
      if (fields === undefined) return this.bail();
      if (this.width === -1) this.width = fields.length;
      else if (fields.length !== this.width) return this.bail();
      out.records.push(fields);
      out.lines.push(this.line);
      this.line += 1;
      pos = next;
    }
  }

  /** csv-parse takes the first CR or LF of the file (outside quotes) as the record delimiter. */
  private discoverLineEnd(text: string): boolean {
    const lf = text.indexOf('\n');
    const cr = text.indexOf('\r');
    if (cr === -1 && lf === -1) return true; // a single line without a line break: nothing to discover
    if (cr === -1 || (lf !== -1 && lf < cr)) this.lineEnd = 'lf';
    else if (text.charCodeAt(cr + 1) === LF) this.lineEnd = 'crlf';
    else {
      this.bail(); // CR-only line ends (or a CR at the very end)
      return false;
    }
    return true;
  }

  private bail(): void {
    this.bailed = true;
  }
}

/**
 * Fields of one line that contains a quote, when it is plain RFC 4180: each quoted field opens at the
 * field's start and closes right before a comma or the end of the line. Anything else (undefined) is
 * left to csv-parse, which either reads it (a quoted line break) or rejects it with its own message.
 */
function splitQuoted(content: string): string[] | undefined {
  const fields: string[] = [];
  const len = content.length;
  let i = 0;
  for (;;) {
    if (content.charCodeAt(i) === 0x22) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = content.indexOf('"', from);
        if (q === -1) return undefined; // not closed on this line
        if (content.charCodeAt(q + 1) === 0x22) {
          value += content.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        value += content.slice(from, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i === len) return fields;
      if (content.charCodeAt(i) !== 0x2c) return undefined; // text after the closing quote
      i += 1;
    } else {
      const comma = content.indexOf(',', i);
      const value = comma === -1 ? content.slice(i) : content.slice(i, comma);
      if (value.indexOf('"') !== -1) return undefined; // a quote inside an unquoted field
      fields.push(value);
      if (comma === -1) return fields;
      i = comma + 1;
    }
    if (i === len) {
      fields.push('');
      return fields;
    }
  }
}

/**
 * The records of a CSV file as csv-parse reads them under the ledger contract's options, in batches (one
 * per read of the file); `chunkSize` is the read size (tests make it tiny).
 *
 * The contract's parser is csv-parse (BOM, RFC 4180, header row, empty lines skipped, every record as
 * long as the first). Its per-record bookkeeping costs more than the ledger's validation, so plain files
 * are split here with string searches: lines ending in the file's own record delimiter (LF or CRLF, as
 * csv-parse discovers it), fields split on commas, quoted fields with `""` escapes, valid UTF-8. The
 * first thing outside that subset (a line break or stray CR inside a field, a quote out of place, a
 * record of another length, invalid UTF-8, a UTF-16 BOM, CR-only line ends) hands the file to csv-parse
 * itself, which re-reads it from the start and skips the records already delivered. So every record and
 * line number is the one csv-parse gives, and every malformed file fails with csv-parse's own error.
 */
export async function* csvRecordBatches(path: string, chunkSize = 64 * 1024): AsyncGenerator<RecordBatch> {
  const plain = new PlainCsv();
  let delivered = 0;
  const stream = createReadStream(path, { highWaterMark: chunkSize });
  try {
    let started = false;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const take = (buf: Buffer, end: number): RecordBatch => {
      const batch: RecordBatch = { records: [], lines: [] };
      if (!isUtf8(buf.subarray(0, end))) plain.bailed = true;
      else plain.split(buf.toString('utf8', 0, end), batch);
      return batch;
    };
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!started) {
        if (pendingBytes < 3) continue;
        started = true;
        let head = Buffer.concat(pending, pendingBytes);
        if (head[0] === 0xff && head[1] === 0xfe) {
          plain.bailed = true; // UTF-16 LE BOM: csv-parse switches encoding
          break;
        }
        if (head.subarray(0, 3).equals(UTF8_BOM)) head = head.subarray(3);
        pending = [head];
        pendingBytes = head.length;
      }
      if (chunk.lastIndexOf(LF) === -1) continue;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      const end = buf.lastIndexOf(LF) + 1;
      const batch = take(buf, end);
      const rest = buf.subarray(end);
      pending = rest.length > 0 ? [rest] : [];
      pendingBytes = rest.length;
      if (batch.records.length > 0) {
        delivered += batch.records.length;
        yield batch;
      }
      if (plain.bailed) break;
    }
    if (!plain.bailed && pendingBytes > 0) {
      // The last line without a line break (or a file shorter than a BOM: csv-parse looks for none).
      const buf = Buffer.concat(pending, pendingBytes);
      const batch = take(buf, buf.length);
      if (batch.records.length > 0) {
        delivered += batch.records.length;
        yield batch;
      }
    }
  } finally {
    stream.destroy();
  }
  if (plain.bailed) yield* csvParseBatches(path, delivered);
}

/** csv-parse over the whole file, leaving out the first `skip` records (already delivered). */
async function* csvParseBatches(path: string, skip: number): AsyncGenerator<RecordBatch> {
  const parser = pipeWithErrors(createReadStream(path), parse(CSV_OPTIONS));
  let seen = 0;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    seen += 1;
    if (seen <= skip) continue;
    yield { records: [record], lines: [info.lines] };
  }
}
