import type { ProviderId, StatementLine } from '../parsers/contract.js';

/**
 * Matching keys. A movement is identified by its provider id (`txn_key`) or, failing that, by the
 * merchant's reference (`ref_key`). Both sides compute keys the same way per provider, so that the
 * SQL join stays a plain equality.
 *
 * Alipay refunds have no id of their own: they share the trade number with their payment and with
 * every other refund of that trade, and are told apart by the refund request number (退款批次号/请求号,
 * `out_request_no`), which is unique only within its trade. So their key is `trade_no#out_request_no`.
 */
export interface MatchKeys {
  txnKey: string | null;
  refKey: string | null;
}

const clean = (v: string | null | undefined): string | null => {
  if (v === null || v === undefined) return null;
  const t = v.trim();
  return t === '' ? null : t;
};

const compound = (a: string | null, b: string | null): string | null => (a !== null && b !== null ? `${a}#${b}` : null);

function sharesTradeNumber(provider: string, type: string): boolean {
  return provider === 'alipay' && type === 'refund';
}

export function statementKeys(line: Pick<StatementLine, 'provider' | 'type' | 'providerTxnId' | 'merchantRef'>): MatchKeys {
  const txn = clean(line.providerTxnId);
  const ref = clean(line.merchantRef);
  if (sharesTradeNumber(line.provider, line.type)) return { txnKey: compound(txn, ref), refKey: ref };
  return { txnKey: txn, refKey: ref };
}

export interface LedgerKeyFields {
  provider: ProviderId;
  type: string;
  orderId: string | null;
  providerTxnId: string | null;
}

export function ledgerKeys(row: LedgerKeyFields): MatchKeys {
  const txn = clean(row.providerTxnId);
  const ref = clean(row.orderId);
  if (sharesTradeNumber(row.provider, row.type)) return { txnKey: compound(txn, ref), refKey: ref };
  return { txnKey: txn, refKey: ref };
}
