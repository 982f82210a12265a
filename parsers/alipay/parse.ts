import { basename } from 'node:path';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import type { ParsedStatement, ParseOptions, StatementLine, StatementSource, StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { isZip, readHead } from '../common/decode.js';
import { parsedStatement } from '../common/parsed-statement.js';
import { parseAccountBody } from './account.js';
import { ALIPAY_TIME_ZONE, isBlank, isEnvelope, readEnvelopeFacts, type Envelope } from './envelope.js';
import { openFileText, openGbkText, openZip, zipCorruptError, type LineReader, type OpenedText, type ZipMember } from './input.js';
import { checkTradeSummary, readTradeSummary, type TradeSummaryTotal } from './summary.js';
import { parseTradeBody, type DocContext } from './trade.js';

const CONSUMER_MESSAGE =
  'this is an Alipay consumer (personal) export, not a merchant bill (a 交易明细 / 电子客户回单 download from a personal account): walletrecon reads the merchant 业务明细 (or 账务明细) from the bill-download zip (…csv.zip)';

/** How many lines may precede the start marker before the file is declared not an Alipay bill. */
const MAX_PREAMBLE_LINES = 40;

type DocumentKind = 'trade' | 'account';

/**
 * Reads the `#` envelope down to the start marker and says what the document is. Consumer exports and
 * summary files are recognised and refused with a `wrong_document` error.
 */
async function recognise(reader: LineReader, file: string, env: Envelope): Promise<DocumentKind> {
  // The first non-`#` line before any marker: not a merchant bill, unless a later line says what it is
  // (the consumer export opens with a banner of dashes and its signature comes on the next lines).
  let stray: number | undefined;
  const notABill = (line: number) =>
    new StatementFormatError('unknown_layout', { file, line }, 'not an Alipay merchant bill: a data line before any 业务明细列表 / 账务明细列表 marker');
  for (;;) {
    const tl = await reader.next();
    if (tl === undefined) {
      if (stray !== undefined) throw notABill(stray);
      if (reader.last === 0) throw new StatementFormatError('truncated', { file }, 'the file is empty');
      throw new StatementFormatError('truncated', { file, line: reader.last }, `the file ends at line ${reader.last} before any 业务明细列表 / 账务明细列表 marker: it is truncated or not an Alipay merchant bill`);
    }
    const { line, text } = tl;
    if (/电子客户回单|交易记录明细查询|^\s*导出信息[：:]|^\s*交易时间\s*,\s*交易分类|^\s*交易号\s*,\s*商家订单号/.test(text)) {
      throw new WrongDocumentError({ file, line }, CONSUMER_MESSAGE);
    }
    if (text.includes('汇总查询') || text.includes('汇总列表')) {
      throw new WrongDocumentError({ file, line }, 'this is an Alipay 业务明细(汇总)/账务汇总 summary, not the detail: give the bill-download zip or its …_业务明细.csv member');
    }
    if (text.includes('业务明细列表') && !text.includes('业务明细列表结束')) return 'trade';
    if (text.includes('账务明细列表') && !text.includes('账务明细列表结束')) return 'account';
    if (stray !== undefined) {
      if (line - stray >= MAX_PREAMBLE_LINES) throw notABill(stray);
      continue;
    }
    if (isEnvelope(text)) {
      readEnvelopeFacts(text, env, { file, line });
    } else if (!isBlank(text)) {
      stray = line;
    }
    if (line >= MAX_PREAMBLE_LINES) {
      throw new StatementFormatError('unknown_layout', { file, line }, `not an Alipay merchant bill: no 业务明细列表 / 账务明细列表 marker in the first ${MAX_PREAMBLE_LINES} lines`);
    }
  }
}

/** Parses one decoded detail document (a bare csv or the chosen zip member). */
async function* parseDocument(
  text: OpenedText,
  ctx: DocContext,
  summaryOf: TradeSummaryTotal | undefined,
): AsyncGenerator<StatementLine, StatementSummary> {
  const env: Envelope = { account: null, period: null };
  const kind = await recognise(text.reader, ctx.file, env);
  const controls = new ControlTotals(ctx.file, ctx.options);
  let lineCount = 0;
  let layout: string;
  const extraControls = [];
  if (kind === 'trade') {
    const body = parseTradeBody(text.reader, ctx, controls);
    let step = await body.next();
    while (!step.done) {
      lineCount += 1;
      yield step.value;
      step = await body.next();
    }
    layout = step.value.layout;
    if (summaryOf !== undefined) {
      const summaryControls = new ControlTotals(summaryOf.file, ctx.options);
      checkTradeSummary(summaryOf, step.value.totals, summaryControls);
      extraControls.push(...summaryControls.list);
    }
  } else {
    const body = parseAccountBody(text.reader, ctx, controls);
    let step = await body.next();
    while (!step.done) {
      lineCount += 1;
      yield step.value;
      step = await body.next();
    }
    layout = step.value.layout;
  }
  return {
    provider: 'alipay',
    layout,
    account: env.account,
    period: env.period,
    timeZone: ALIPAY_TIME_ZONE,
    lineCount,
    controls: [...controls.list, ...extraControls],
  };
}

const memberBase = (name: string): string => name.slice(name.lastIndexOf('/') + 1);
const isSummaryMember = (name: string): boolean => /汇总/.test(memberBase(name));
const isTradeDetailMember = (name: string): boolean => /业务明细\.csv$/i.test(memberBase(name)) && !isSummaryMember(name);
const isAccountDetailMember = (name: string): boolean => /(账务|财务)明细\.csv$/i.test(memberBase(name)) && !isSummaryMember(name);
const isTradeSummaryMember = (name: string): boolean => /业务明细[(（]汇总[)）]\.csv$/i.test(memberBase(name));

/** Rethrows anything that is not already a format error as a corrupt/truncated member. */
function asFormatError(err: unknown, file: string): unknown {
  return err instanceof StatementFormatError ? err : zipCorruptError(file, err);
}

async function* parseZip(path: string, display: string, options: ParseOptions): AsyncGenerator<StatementLine, StatementSummary> {
  const zip = await openZip(path, display);
  try {
    const names = zip.members.map((m) => m.name);
    const pick = (test: (name: string) => boolean): ZipMember | undefined => {
      const found = zip.members.filter((m) => test(m.name));
      if (found.length > 1) {
        throw new StatementFormatError('unknown_layout', { file: display }, `the zip holds several detail members (${found.map((m) => m.name).join(', ')}); give one bill at a time`);
      }
      return found[0];
    };
    const detail = pick(isTradeDetailMember) ?? pick(isAccountDetailMember);
    if (detail === undefined) {
      throw new StatementFormatError('unknown_layout', { file: display }, `the zip has no …_业务明细.csv member (members found: ${names.length === 0 ? 'none' : names.join(', ')})`);
    }

    let summaryTotal: TradeSummaryTotal | undefined;
    const summaryMember = isTradeDetailMember(detail.name) ? pick(isTradeSummaryMember) : undefined;
    if (summaryMember !== undefined) {
      const file = `${display}!${summaryMember.name}`;
      let text: OpenedText | undefined;
      try {
        text = await openGbkText(await zip.open(summaryMember), file);
        summaryTotal = await readTradeSummary(text.reader, file, summaryMember.name);
      } catch (err) {
        throw asFormatError(err, file);
      } finally {
        text?.close();
      }
    }

    const file = `${display}!${detail.name}`;
    let text: OpenedText | undefined;
    try {
      text = await openGbkText(await zip.open(detail), file);
      return yield* parseDocument(text, { file, member: detail.name, options }, summaryTotal);
    } catch (err) {
      throw asFormatError(err, file);
    } finally {
      text?.close();
    }
  } finally {
    zip.close();
  }
}

/**
 * The Alipay merchant bill parser. The input is recognised by content: a zip (the bill download) or a
 * bare GBK `…_业务明细.csv` / `…_账务明细.csv`.
 */
export function parseAlipay(source: StatementSource, options: ParseOptions = {}): ParsedStatement {
  return parsedStatement(async function* () {
    const display = source.displayName ?? basename(source.path);
    const head = await readHead(source.path, 4);
    if (isZip(head)) return yield* parseZip(source.path, display, options);
    const text = await openFileText(source.path, display);
    try {
      return yield* parseDocument(text, { file: display, member: null, options }, undefined);
    } finally {
      text.close();
    }
  });
}
