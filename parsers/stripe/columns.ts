import type { LineType } from '../contract.js';

/**
 * Columns of Stripe's itemized Reports API CSVs (`payout_reconciliation.itemized.5`,
 * `balance_change_from_activity.itemized.3`). The column set and order are chosen when the report run is
 * requested (`parameters[columns][]`), so every column is located BY NAME and only a few are required.
 */
export const COL = {
  balanceTransactionId: 'balance_transaction_id',
  createdUtc: 'created_utc',
  created: 'created',
  availableOnUtc: 'available_on_utc',
  availableOn: 'available_on',
  currency: 'currency',
  gross: 'gross',
  fee: 'fee',
  net: 'net',
  reportingCategory: 'reporting_category',
  sourceId: 'source_id',
  description: 'description',
  chargeId: 'charge_id',
  paymentMethodType: 'payment_method_type',
  cardBrand: 'card_brand',
  automaticPayoutId: 'automatic_payout_id',
  automaticPayoutEffectiveAt: 'automatic_payout_effective_at',
  automaticPayoutEffectiveAtUtc: 'automatic_payout_effective_at_utc',
} as const;

/** Required in every layout (plus one of `created_utc` / `created`). */
export const REQUIRED_COLUMNS: readonly string[] = [COL.currency, COL.gross, COL.fee, COL.net, COL.reportingCategory];

/**
 * Layout: a `payout_reconciliation.itemized.*` run itemizes the contents of automatic payouts and so
 * carries `automatic_payout_id` / `automatic_payout_effective_at(_utc)`; `balance_change_from_activity`
 * has no payout columns. A payout reconciliation run requested WITHOUT those columns cannot be told
 * apart and is labelled balance_change (its lines are the same balance transactions either way).
 */
export const PAYOUT_RECONCILIATION_MARKERS: readonly string[] = [COL.automaticPayoutId, COL.automaticPayoutEffectiveAtUtc, COL.automaticPayoutEffectiveAt];

export type StripeLayout = 'stripe.payout_reconciliation.itemized.5' | 'stripe.balance_change_from_activity.itemized.3';

/**
 * `reporting_category` → canonical line type (https://docs.stripe.com/reports/reporting-categories).
 * Amounts keep the file's signs: `dispute_reversal` (a dispute won: the funds come back) is an
 * `adjustment` with POSITIVE gross (and usually a negative fee: the dispute fee returned) — the ledger
 * has no row for it to pair with, and it carries its dispute's id, so as a `chargeback` it would read as
 * a duplicate of the dispute; `payout_reversal` is a `payout` with positive gross.
 * A category not in this table → `adjustment` with `needsReview`.
 */
export const REPORTING_CATEGORIES: Readonly<Record<string, LineType>> = Object.freeze({
  charge: 'payment',
  refund: 'refund',
  dispute: 'chargeback',
  dispute_reversal: 'adjustment',
  fee: 'fee',
  payout: 'payout',
  payout_reversal: 'payout',
  transfer: 'transfer',
  transfer_reversal: 'transfer',
  connect_collection_transfer: 'transfer',
  refund_failure: 'adjustment',
  partial_capture_reversal: 'adjustment',
  charge_failure: 'adjustment',
  other_adjustment: 'adjustment',
  advance: 'adjustment',
  advance_funding: 'adjustment',
  anticipation_repayment: 'adjustment',
  risk_reserved_funds: 'adjustment',
  connect_reserved_funds: 'adjustment',
  tax: 'adjustment',
  platform_earning: 'adjustment',
  platform_earning_refund: 'adjustment',
  contribution: 'adjustment',
  network_cost: 'adjustment',
  topup: 'adjustment',
  topup_reversal: 'adjustment',
  unreconciled_customer_funds: 'adjustment',
  financing_paydown: 'adjustment',
  financing_paydown_reversal: 'adjustment',
  issuing_authorization_hold: 'adjustment',
  issuing_authorization_release: 'adjustment',
  issuing_dispute: 'adjustment',
  issuing_transaction: 'adjustment',
  climate_order_purchase: 'adjustment',
  climate_order_refund: 'adjustment',
});

/**
 * Metadata columns read as the merchant's order number (`payment_metadata[key]` is requested by key;
 * the first non-empty wins). For payments it is `merchantRef`; for refunds and disputes it is
 * `merchantOrderId` (the original payment's order), and `merchantRef` comes from REFUND_REFERENCE_KEYS.
 */
export const ORDER_ID_KEYS: readonly string[] = ['order_id', 'order_number', 'orderId', 'order', 'merchant_reference', 'reference'];
export const REFUND_REFERENCE_KEYS: readonly string[] = ['refund_id', 'refund_reference', 'refund_request_id', 'out_refund_no', 'reference'];
export const paymentMetadata = (key: string): string => `payment_metadata[${key}]`;
export const refundMetadata = (key: string): string => `refund_metadata[${key}]`;

/**
 * Wallet from `payment_method_type` when the method IS a wallet. Card wallets (Apple Pay, Google Pay)
 * show as `card` in the reports: no wallet column is documented, so they stay null here.
 */
export const WALLET_BY_METHOD_TYPE: Readonly<Record<string, string>> = Object.freeze({
  alipay: 'alipay',
  wechat_pay: 'wechat_pay',
  amazon_pay: 'amazon_pay',
  cashapp: 'cash_app_pay',
  link: 'link',
  paypal: 'paypal',
  grabpay: 'grabpay',
  revolut_pay: 'revolut_pay',
});

/** Columns consumed into canonical fields; every other non-empty cell goes to `extra` under its name. */
export const CONSUMED_COLUMNS: ReadonlySet<string> = new Set([
  COL.createdUtc,
  COL.currency,
  COL.gross,
  COL.fee,
  COL.net,
  COL.reportingCategory,
  COL.description,
  COL.paymentMethodType,
]);
