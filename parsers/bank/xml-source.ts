import type { Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { StatementFormatError } from '../../core/errors.js';
import { readHead } from '../common/decode.js';
import { decodeFile } from './common.js';

/**
 * Opens an XML file as decoded text, streaming. The encoding comes from a byte-order mark, else from the
 * XML declaration, else UTF-8 (the XML default). A BOM is stripped.
 */
export async function openXmlText(path: string, file: string): Promise<{ text: Readable; encoding: string }> {
  const head = await readHead(path, 1024);
  let encoding = 'utf-8';
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) encoding = 'utf-8';
  else if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  else {
    const decl = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head.toString('latin1'));
    if (decl) encoding = decl[1]!.toLowerCase();
  }
  if (!iconv.encodingExists(encoding)) {
    throw new StatementFormatError('bad_encoding', { file, line: 1 }, `unsupported XML encoding ${JSON.stringify(encoding)}`);
  }
  const text = decodeFile(path, encoding);
  return { text, encoding };
}
