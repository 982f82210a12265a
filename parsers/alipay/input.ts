import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import yauzl from 'yauzl';
import { StatementFormatError } from '../../core/errors.js';
import { decodeGbk } from '../common/decode.js';
import { textLines, type TextLine } from '../common/text-lines.js';

/** How many bytes are sniffed before decoding, to tell GBK from UTF-8. */
const SNIFF_BYTES = 4096;

/** A decoded document being read line by line, with one line of look-back for error messages. */
export class LineReader {
  /** The physical number of the last line read (0 before the first). */
  last = 0;
  constructor(private readonly lines: AsyncGenerator<TextLine>) {}
  async next(): Promise<TextLine | undefined> {
    const step = await this.lines.next();
    if (step.done) return undefined;
    this.last = step.value.line;
    return step.value;
  }
}

export interface OpenedText {
  reader: LineReader;
  close(): void;
}

/**
 * Refuses bytes that are UTF-8 with non-ASCII text: Alipay delivers its bills in GBK, so such a file has
 * been converted or re-saved by someone, and decoding it as GBK would give garbage. GBK Chinese text is
 * practically never valid UTF-8 over more than a few characters, so a strict UTF-8 decode of the head
 * tells them apart. `complete` says whether `head` is the whole file (else a sequence may be cut).
 */
export function refuseUtf8(head: Buffer, complete: boolean, file: string): void {
  const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const firstHigh = bom ? 0 : head.findIndex((b) => b >= 0x80);
  if (firstHigh < 0) return;
  let utf8 = bom;
  for (let cut = 0; !utf8 && cut <= (complete ? 0 : 3) && cut < head.length; cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      utf8 = true;
    } catch {
      // not UTF-8 with this cut
    }
  }
  if (!utf8) return;
  let line = 1;
  for (let i = 0; i < firstHigh; i++) if (head[i] === 0x0a) line += 1;
  throw new StatementFormatError(
    'bad_encoding',
    { file, line },
    'the file looks UTF-8 (its Chinese text decodes as UTF-8), but Alipay delivers merchant bills in GBK: it was converted or re-saved after download; use the file exactly as downloaded',
  );
}

/** Sniffs the head of a byte stream (refusing UTF-8), then decodes it as GBK/GB18030 and splits it into lines. */
export async function openGbkText(raw: Readable, file: string): Promise<OpenedText> {
  const it = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < SNIFF_BYTES) {
    const step = await it.next();
    if (step.done) {
      done = true;
      break;
    }
    chunks.push(step.value);
    length += step.value.length;
  }
  const head = Buffer.concat(chunks, length);
  refuseUtf8(head, done, file);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length > 0) yield head;
    if (done) return;
    for (;;) {
      const step = await it.next();
      if (step.done) return;
      yield step.value;
    }
  }
  const bytes = Readable.from(replay(), { objectMode: false });
  const text = decodeGbk(bytes);
  // `pipe` does not forward errors (a cut zip member): hand them on so that the line reader rejects.
  bytes.on('error', (err) => text.destroy(err));
  return {
    reader: new LineReader(textLines(text, file, 'GBK (GB18030)')),
    close: () => {
      raw.destroy();
      bytes.destroy();
      text.destroy();
    },
  };
}

export function openFileText(path: string, file: string): Promise<OpenedText> {
  return openGbkText(createReadStream(path), file);
}

export interface ZipMember {
  /** The member name, decoded (GBK unless the UTF-8 flag is set). */
  name: string;
  entry: yauzl.Entry;
}

export interface OpenedZip {
  members: ZipMember[];
  open(member: ZipMember): Promise<Readable>;
  close(): void;
}

/** Member names: the UTF-8 flag (general purpose bit 11) says UTF-8; without it Alipay writes GBK. */
export function decodeMemberName(raw: Buffer, generalPurposeBitFlag: number): string {
  return (generalPurposeBitFlag & 0x800) !== 0 ? raw.toString('utf8') : iconv.decode(raw, 'gb18030');
}

const corrupt = (file: string, err: unknown): StatementFormatError =>
  new StatementFormatError('truncated', { file }, `the zip archive is truncated or corrupt (${err instanceof Error ? err.message : String(err)})`, { cause: err });

/** Opens a zip and lists its members (central directory only; members are streamed on demand). */
export async function openZip(path: string, file: string): Promise<OpenedZip> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(path, { lazyEntries: true, decodeStrings: false, autoClose: false, validateEntrySizes: true });
  } catch (err) {
    throw corrupt(file, err);
  }
  const members: ZipMember[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      const raw = (entry.fileNameRaw ?? (entry.fileName as unknown as Buffer)) as Buffer;
      const name = decodeMemberName(raw, entry.generalPurposeBitFlag);
      if (name.endsWith('/')) continue;
      members.push({ name, entry });
    }
  } catch (err) {
    zip.close();
    throw corrupt(file, err);
  }
  return {
    members,
    async open(member) {
      try {
        return await zip.openReadStreamPromise(member.entry);
      } catch (err) {
        throw corrupt(`${file}!${member.name}`, err);
      }
    },
    close: () => zip.close(),
  };
}

export { corrupt as zipCorruptError };
