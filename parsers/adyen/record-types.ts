import type { LineType } from '../contract.js';

/**
 * Adyen settlement detail report `Type` (journal type) → canonical line type.
 *
 * Amount signs never come from this table: Adyen writes unsigned amounts in Debit/Credit column pairs,
 * and the parser signs them (credit − debit). Reversals (`ChargebackReversed`, `RefundedReversed`,
 * `PaidOutReversed`) are `adjustment` lines with the sign the columns give: the ledger records payments,
 * refunds and chargebacks as positive amounts whose type gives the direction, so it has no row a
 * reversal could pair with — and a reversal carrying its chargeback's key must not read as a duplicate.
 * A type that is not listed becomes an `adjustment` with `needsReview`.
 */
export const RECORD_TYPES: Readonly<Record<string, LineType>> = Object.freeze({
  settled: 'payment',
  settledbulk: 'payment',
  settledexternallywithinfo: 'payment',
  refunded: 'refund',
  refundedbulk: 'refund',
  refundedexternallywithinfo: 'refund',
  chargeback: 'chargeback',
  secondchargeback: 'chargeback',
  chargebackexternallywithinfo: 'chargeback',
  chargebackreversed: 'adjustment',
  chargebackreversedexternallywithinfo: 'adjustment',
  fee: 'fee',
  misccosts: 'fee',
  merchantpayout: 'payout',
  balancetransfer: 'transfer',
  depositcorrection: 'adjustment',
  invoicededuction: 'adjustment',
  reserveadjustment: 'adjustment',
  refundedreversed: 'adjustment',
  paidout: 'adjustment',
  paidoutreversed: 'adjustment',
  manualcorrected: 'adjustment',
  matchedstatement: 'adjustment',
});

export function lineTypeOf(recordType: string): { type: LineType; known: boolean } {
  const type = RECORD_TYPES[recordType.trim().toLowerCase()];
  return type === undefined ? { type: 'adjustment', known: false } : { type, known: true };
}

/**
 * Wallet markers in `Payment Method Variant` (or `Payment Method`): Adyen writes the card brand with a
 * wallet suffix (`visa_applepay`, `mc_googlepay`, legacy `visa_androidpay`), or the wallet itself as the
 * method (`applepay`, `paywithgoogle`, `googlepay`, `alipay`, `wechatpayQR`, …).
 */
export const WALLET_SUFFIXES: ReadonlyArray<readonly [suffix: string, wallet: string]> = [
  ['_applepay', 'apple_pay'],
  ['_googlepay', 'google_pay'],
  ['_paywithgoogle', 'google_pay'],
  ['_androidpay', 'google_pay'],
  ['_samsungpay', 'samsung_pay'],
];

export const WALLET_METHODS: Readonly<Record<string, string>> = Object.freeze({
  applepay: 'apple_pay',
  googlepay: 'google_pay',
  paywithgoogle: 'google_pay',
  androidpay: 'google_pay',
  samsungpay: 'samsung_pay',
  alipay: 'alipay',
  alipay_hk: 'alipay',
  alipay_wap: 'alipay',
  wechatpay: 'wechat_pay',
  wechatpayqr: 'wechat_pay',
  wechatpayweb: 'wechat_pay',
  wechatpaysdk: 'wechat_pay',
  wechatpayminiprogram: 'wechat_pay',
  amazonpay: 'amazon_pay',
  paypal: 'paypal',
});

/** The wallet a variant / method names, or null (a plain card, a bank transfer, …). */
export function walletOf(variant: string, method: string): string | null {
  for (const text of [variant, method]) {
    const v = text.trim().toLowerCase();
    if (v === '') continue;
    const exact = WALLET_METHODS[v];
    if (exact !== undefined) return exact;
    for (const [suffix, wallet] of WALLET_SUFFIXES) if (v.endsWith(suffix)) return wallet;
  }
  return null;
}
