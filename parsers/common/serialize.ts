import type { StatementLine, StatementSummary } from '../contract.js';

/** A statement line as plain JSON (amounts as decimal strings, instants as ISO UTC): goldens, logs. */
export function lineToJson(line: StatementLine): Record<string, unknown> {
  return {
    provider: line.provider,
    type: line.type,
    providerTxnId: line.providerTxnId,
    parentTxnId: line.parentTxnId,
    merchantRef: line.merchantRef,
    merchantOrderId: line.merchantOrderId,
    gross: line.gross.toString(),
    fee: line.fee.toString(),
    net: line.net.toString(),
    currency: line.currency,
    ...(line.original ? { original: { amount: line.original.amount.toString(), currency: line.original.currency } } : {}),
    occurredAt: line.occurredAt.toISOString(),
    paymentMethod: line.paymentMethod,
    wallet: line.wallet,
    status: line.status,
    description: line.description,
    needsReview: line.needsReview,
    source: line.source,
    extra: line.extra,
  };
}

export function summaryToJson(summary: StatementSummary): Record<string, unknown> {
  return {
    provider: summary.provider,
    layout: summary.layout,
    account: summary.account,
    period: summary.period ? { start: summary.period.start.toISOString(), end: summary.period.end.toISOString() } : null,
    timeZone: summary.timeZone,
    lineCount: summary.lineCount,
    controls: summary.controls,
  };
}
