import { createReadStream } from 'node:fs';
import type { Duplex, Readable } from 'node:stream';
import iconv from 'iconv-lite';

/**
 * `src.pipe(dest)` that also hands `src`'s errors to `dest` (plain `pipe` drops them: a read error
 * would never reach the reader of `dest`), so a failing file read surfaces where the parse is awaited.
 */
export function pipeWithErrors<T extends NodeJS.ReadWriteStream | Duplex>(src: Readable, dest: T): T {
  src.on('error', (err) => (dest as unknown as Duplex).destroy(err));
  return src.pipe(dest as NodeJS.WritableStream) as unknown as T;
}

/** Decodes a byte stream as GB18030 (a superset of GBK, what Alipay's "ANSI" files really are). */
export function decodeGbk(bytes: Readable): Readable {
  return pipeWithErrors(bytes, iconv.decodeStream('gb18030')) as unknown as Readable;
}

/** Decodes a byte stream as UTF-8; invalid sequences become U+FFFD, which `textLines` reports. */
export function decodeUtf8(bytes: Readable): Readable {
  return pipeWithErrors(bytes, iconv.decodeStream('utf8')) as unknown as Readable;
}

/** Reads the first bytes of a file (for content sniffing). */
export async function readHead(path: string, length = 4096): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1 })) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks, total);
}

export const isZip = (head: Buffer): boolean => head.length >= 4 && head.readUInt32LE(0) === 0x04034b50;
export const isGzip = (head: Buffer): boolean => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
