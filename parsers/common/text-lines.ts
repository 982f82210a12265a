import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { StatementFormatError } from '../../core/errors.js';

export interface TextLine {
  /** 1-based physical line number. */
  line: number;
  /** The line without its terminator (CR, LF or CRLF) and, on line 1, without a BOM. */
  text: string;
}

/**
 * Splits a decoded text stream into physical lines, streaming. A U+FFFD in the text means the bytes were
 * not valid in the expected encoding: that is reported with the line, never passed on as data.
 */
export async function* textLines(text: Readable, file: string, encoding: string): AsyncGenerator<TextLine> {
  const rl = createInterface({ input: text, crlfDelay: Infinity });
  let line = 0;
  for await (const raw of rl) {
    line += 1;
    let t = raw;
    if (line === 1 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
    if (t.endsWith('\r')) t = t.slice(0, -1);
    if (t.includes('\uFFFD')) {
      throw new StatementFormatError('bad_encoding', { file, line }, `bytes that are not valid ${encoding} (is the file in another encoding?)`);
    }
    yield { line, text: t };
  }
}
