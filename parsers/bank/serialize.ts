import type { BankBalance, BankLine, BankStatementInfo, BankStatementSummary } from './contract.js';

/** A bank line as plain JSON (amounts as decimal strings): goldens, logs. */
export function bankLineToJson(line: BankLine): Record<string, unknown> {
  return {
    account: line.account,
    statementId: line.statementId,
    statementIndex: line.statementIndex,
    entryIndex: line.entryIndex,
    currency: line.currency,
    amount: line.amount.toString(),
    bookingDate: line.bookingDate,
    valueDate: line.valueDate,
    entryRef: line.entryRef,
    endToEndId: line.endToEndId,
    references: line.references,
    remittance: line.remittance,
    additionalInfo: line.additionalInfo,
    counterpartyName: line.counterpartyName,
    counterpartyAccount: line.counterpartyAccount,
    bankTxCode: line.bankTxCode,
    status: line.status,
    reversal: line.reversal,
    batch: line.batch ? { ...line.batch, entryAmount: line.batch.entryAmount.toString() } : null,
    source: line.source,
  };
}

const balanceToJson = (b: BankBalance | null) => (b ? { ...b, amount: b.amount.toString() } : null);

function statementToJson(s: BankStatementInfo): Record<string, unknown> {
  return {
    ...s,
    opening: balanceToJson(s.opening),
    closing: balanceToJson(s.closing),
    otherBalances: s.otherBalances.map(balanceToJson),
  };
}

export function bankSummaryToJson(summary: BankStatementSummary): Record<string, unknown> {
  return {
    format: summary.format,
    messageId: summary.messageId,
    statements: summary.statements.map(statementToJson),
    lineCount: summary.lineCount,
    controls: summary.controls,
    warnings: summary.warnings,
  };
}
