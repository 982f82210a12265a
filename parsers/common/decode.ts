import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import iconv from 'iconv-lite';

/** Decodes a byte stream as GB18030 (a superset of GBK, what Alipay's "ANSI" files really are). */
export function decodeGbk(bytes: Readable): Readable {
  return bytes.pipe(iconv.decodeStream('gb18030')) as unknown as Readable;
}

/** Decodes a byte stream as UTF-8; invalid sequences become U+FFFD, which `textLines` reports. */
export function decodeUtf8(bytes: Readable): Readable {
  return bytes.pipe(iconv.decodeStream('utf8')) as unknown as Readable;
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

/** Opens a file as bytes, transparently gunzipping it when it starts with the gzip magic. */
export async function openMaybeGzip(path: string): Promise<{ bytes: Readable; gzip: boolean }> {
  const head = await readHead(path, 2);
  const raw = createReadStream(path);
  if (isGzip(head)) return { bytes: raw.pipe(createGunzip()), gzip: true };
  return { bytes: raw, gzip: false };
}
