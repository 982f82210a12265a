import type { Readable } from 'node:stream';
import { StatementFormatError } from '../../core/errors.js';

export interface TextLine {
  /** 1-based physical line number. */
  line: number;
  /** The line without its terminator (CR, LF or CRLF) and, on line 1, without a BOM. */
  text: string;
}

const TERMINATOR = /\r\n|\n|\r/g;

/** A CR not followed by LF (a CR at the very end counts: it may be half a CRLF). Twice as fast as /\r(?!\n)/. */
function hasLoneCr(s: string): boolean {
  for (let p = s.indexOf('\r'); p !== -1; p = s.indexOf('\r', p + 2)) {
    if (s.charCodeAt(p + 1) !== 0x0a) return true;
  }
  return false;
}

/**
 * The whole lines at the start of `s`, as readline reads them (LF, CRLF or a lone CR ends a line), and
 * the text after the last one. Unless `atEnd`, a CR at the very end may be half a CRLF: it waits.
 */
function splitLines(s: string, atEnd: boolean): { lines: string[]; rest: string } {
  const lines: string[] = [];
  const len = s.length;
  let pos = 0;
  if (!hasLoneCr(s)) {
    // LF or CRLF only (every statement we know): a search for the next LF per line.
    for (let nl = s.indexOf('\n'); nl !== -1; nl = s.indexOf('\n', pos)) {
      lines.push(s.slice(pos, nl > pos && s.charCodeAt(nl - 1) === 0x0d ? nl - 1 : nl));
      pos = nl + 1;
    }
  } else {
    TERMINATOR.lastIndex = 0;
    for (let m = TERMINATOR.exec(s); m !== null; m = TERMINATOR.exec(s)) {
      if (!atEnd && m[0] === '\r' && m.index === len - 1) break;
      lines.push(s.slice(pos, m.index));
      pos = m.index + m[0].length;
    }
  }
  if (atEnd && pos < len) {
    lines.push(s.slice(pos));
    pos = len;
  }
  return { lines, rest: s.slice(pos) };
}

/**
 * Splits a decoded text stream into physical lines, streaming, one batch per chunk of text. Parsers that
 * loop over a batch do in one step what a generator per line did in several (passing lines from one
 * generator to the next took 1.4 s of a million-line bill). A U+FFFD in the text means the bytes were
 * not valid in the expected encoding: that is reported with the line, never passed on as data.
 */
export async function* textLineBatches(text: Readable, file: string, encoding: string): AsyncGenerator<TextLine[]> {
  let line = 0;
  let rest = '';
  const batchOf = (lines: string[]): TextLine[] => {
    const batch: TextLine[] = new Array(lines.length);
    for (let i = 0; i < lines.length; i++) {
      line += 1;
      let t = lines[i]!;
      if (line === 1 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
      if (t.includes('\uFFFD')) {
        throw new StatementFormatError('bad_encoding', { file, line }, `bytes that are not valid ${encoding} (is the file in another encoding?)`);
      }
      batch[i] = { line, text: t };
    }
    return batch;
  };
  for await (const piece of text) {
    const split = splitLines(rest + (piece as string), false);
    rest = split.rest;
    if (split.lines.length > 0) yield batchOf(split.lines);
  }
  const last = splitLines(rest, true);
  if (last.lines.length > 0) yield batchOf(last.lines);
}

/** The same lines one at a time, for readers that take them so (line-by-line grammars, small files). */
export async function* textLines(text: Readable, file: string, encoding: string): AsyncGenerator<TextLine> {
  for await (const batch of textLineBatches(text, file, encoding)) yield* batch;
}
