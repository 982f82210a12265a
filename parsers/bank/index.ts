import { StatementFormatError } from '../../core/errors.js';
import { readHead } from '../common/decode.js';
import { basename } from 'node:path';
import { camt053Parser } from './camt053.js';
import type { BankFormat, BankStatementParser } from './contract.js';
import { mt940Parser } from './mt940.js';

export * from './contract.js';
export { camt053Parser } from './camt053.js';
export { mt940Parser } from './mt940.js';
export { collectBank, parsedBankStatement } from './parsed-bank-statement.js';
export { bankLineToJson, bankSummaryToJson } from './serialize.js';

/** Every bank statement parser. */
export const bankParsers: readonly BankStatementParser[] = [camt053Parser, mt940Parser];

/**
 * Recognises a bank statement by its first bytes: an XML document whose root holds `BkToCstmrStmt`
 * (or names a camt.053 namespace) is camt.053; SWIFT blocks `{1:`…`{2:…940` or a tag stream starting
 * with `:940:` / `:20:` followed by `:25:` is MT940. Anything else (camt.052/054, CSV, …): null.
 */
export async function detectBankFormat(path: string): Promise<BankFormat | null> {
  const head = (await readHead(path, 8192)).toString('latin1').replace(/^\xEF\xBB\xBF/, '');
  const start = head.trimStart();
  if (start.startsWith('<')) {
    if (/<(?:\w+:)?BkToCstmrStmt[\s>]/.test(head) || /urn:iso:std:iso:20022:tech:xsd:camt\.053\./.test(head)) return 'camt053';
    return null;
  }
  if (/^\{1:[^}]*\}\s*\{2:[IO]940/.test(start)) return 'mt940';
  if (/^(?::940:\s*\r?\n)?[^\n]*?(^|\n):20:[^\n]*\r?\n(?:[^\n]*\r?\n)*?:25:/m.test(start) && /^(:940:|:20:)/.test(start)) return 'mt940';
  return null;
}

/** The parser for a file, or a StatementFormatError `unknown_layout` naming the file. */
export async function bankParserFor(path: string, displayName?: string): Promise<BankStatementParser> {
  const format = await detectBankFormat(path);
  const parser = bankParsers.find((p) => p.format === format);
  if (!parser) {
    throw new StatementFormatError('unknown_layout', { file: displayName ?? basename(path) }, 'not a bank statement this product reads (camt.053 XML or SWIFT MT940)');
  }
  return parser;
}
