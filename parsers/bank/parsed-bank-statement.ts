import { collectStream, parsedStream } from '../common/parsed-statement.js';
import type { BankLine, BankStatementSummary, ParsedBankStatement } from './contract.js';

export function parsedBankStatement(run: () => AsyncGenerator<BankLine, BankStatementSummary, undefined>): ParsedBankStatement {
  return parsedStream(run);
}

/** Reads a whole parse into memory: for tests and small files only. */
export const collectBank = (parsed: ParsedBankStatement): Promise<{ lines: BankLine[]; summary: BankStatementSummary }> => collectStream(parsed);
