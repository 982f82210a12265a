import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createGunzip } from 'node:zlib';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import type { ParseOptions, ParsedStatement, StatementLine, StatementSource, StatementSummary } from '../contract.js';
import { decodeUtf8, isGzip, readHead } from '../common/decode.js';
import { parsedStatementOfBatches } from '../common/parsed-statement.js';
import { textLineBatches, type TextLine } from '../common/text-lines.js';
import { parseFundflowBill } from './fundflow.js';
import { headerCells } from './structure.js';
import { parseTradeBill } from './tradebill.js';

/**
 * The lines of a WeChat Pay bill, plain or gzip (`tar_type=GZIP`), decoded as UTF-8 (BOM dropped), streamed in batches.
 * Opens the bill (gunzipping it when it starts with the gzip magic) and keeps hold of every stream so that a read or gunzip error reaches the reader
 * (a truncated gzip becomes `truncated`, not an unhandled stream error) and an early stop closes the file.
 */
async function* billLines(path: string, file: string): AsyncGenerator<TextLine[]> {
  const gzip = isGzip(await readHead(path, 2));
  const raw = createReadStream(path);
  const gunzip = gzip ? createGunzip() : null;
  const text = decodeUtf8(gunzip ? raw.pipe(gunzip) : raw);
  const fail = (err: Error) => text.destroy(err);
  raw.on('error', fail);
  gunzip?.on('error', fail);
  let last = 0;
  try {
    for await (const batch of textLineBatches(text, file, 'UTF-8')) {
      last = batch[batch.length - 1]!.line;
      yield batch;
    }
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (gzip && !(err instanceof StatementFormatError) && typeof code === 'string' && code.startsWith('Z_')) {
      const loc = { file, ...(last > 0 ? { line: last } : {}) };
      if (code === 'Z_BUF_ERROR') {
        throw new StatementFormatError('truncated', loc, `the gzip stream ends early after line ${last}: the download is truncated`, { cause: err });
      }
      throw new StatementFormatError('bad_gzip', loc, `the gzip stream is corrupt after line ${last} (${(err as Error).message})`, { cause: err });
    }
    throw err;
  } finally {
    raw.destroy();
    gunzip?.destroy();
    text.destroy();
  }
}

/** What the first line says the file is. */
function sniff(first: TextLine, file: string): 'trade' | 'fundflow' {
  const cells = headerCells(first.text);
  const loc = { file, line: first.line };
  if (first.text.includes('微信支付账单明细') || (cells.includes('交易对方') && cells.includes('收/支'))) {
    throw new WrongDocumentError(
      loc,
      'this is a WeChat Pay consumer (personal) bill export (微信支付账单明细), not a merchant bill: use the merchant trade bill (交易账单) downloaded from the merchant platform or APIv3 /v3/bill/tradebill',
    );
  }
  if (cells.includes('记账时间') && cells.includes('收支类型')) return 'fundflow';
  if (cells[0] === '交易时间') return 'trade';
  if (first.text.startsWith('`')) {
    throw new StatementFormatError('unknown_layout', loc, 'the file starts with a backticked row: the header row is missing');
  }
  throw new StatementFormatError(
    'unknown_layout',
    { ...loc, field: cells[0] ?? '' },
    `not a WeChat Pay trade bill (header starting 交易时间,…) nor a fund-flow bill (记账时间,…,收支类型,…)`,
  );
}

/** Parses a WeChat Pay APIv3 trade bill (ALL / SUCCESS / REFUND / historic) or fund-flow bill. */
export function parseWechatpay(source: StatementSource, options: ParseOptions = {}): ParsedStatement {
  const file = source.displayName ?? basename(source.path);
  return parsedStatementOfBatches(async function* (): AsyncGenerator<StatementLine[], StatementSummary, undefined> {
    const batches = billLines(source.path, file);
    try {
      const head = await batches.next();
      if (head.done) throw new StatementFormatError('truncated', { file }, 'the file is empty');
      const [first, ...rest] = head.value;
      const kind = sniff(first!, file);
      // The body: the rest of the first batch, then the batches after it.
      const body = (async function* () {
        if (rest.length > 0) yield rest;
        for (let next = await batches.next(); !next.done; next = await batches.next()) yield next.value;
      })();
      if (kind === 'fundflow') return yield* parseFundflowBill(first!, body, file, options);
      return yield* parseTradeBill(first!, body, file, options);
    } finally {
      await batches.return(undefined);
    }
  });
}
