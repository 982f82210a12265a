import type { Decimal } from '../core/money/index.js';

/** The providers walletrecon reconciles. The id is the one of the CLI, the ledger CSV and the reports. */
export const PROVIDER_IDS = ['alipay', 'wechatpay', 'paypal', 'stripe', 'adyen'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value);
}

/**
 * What a statement line is, in canonical terms.
 * - `payment`, `refund`, `chargeback`: movements the internal ledger records and matching pairs.
 * - `fee`: a fee charged on its own line (PayPal T01xx, Adyen `Fee`, Alipay 收费).
 * - `payout`: money leaving the provider balance for the merchant's bank (withdrawal, MerchantPayout).
 * - `transfer`: balance movements between accounts or batches, currency conversions.
 * - `adjustment`: corrections, reversals of the above, anything the provider books by hand; also the
 *   home of unknown event codes (kept with `needsReview`, never dropped).
 */
export const LINE_TYPES = ['payment', 'refund', 'chargeback', 'fee', 'payout', 'transfer', 'adjustment'] as const;
export type LineType = (typeof LINE_TYPES)[number];

/** The line types the ledger records and `recon reconcile` pairs one to one. */
export const LEDGER_TYPES = ['payment', 'refund', 'chargeback'] as const;
export type LedgerType = (typeof LEDGER_TYPES)[number];

/**
 * One canonical statement line.
 *
 * Sign convention (merchant's view, as in the contract): `gross` is positive when money comes in
 * (a payment) and negative when it goes out (refund, chargeback, payout). `fee` is positive when the
 * provider charges it and negative when it gives it back. `net = gross - fee`, exactly, always.
 * All amounts are in major units of `currency`, with every digit the file wrote.
 */
export interface StatementLine {
  provider: ProviderId;
  type: LineType;
  /** The provider's own id of this movement (Alipay trade_no, WeChat transaction_id or refund_id, …). */
  providerTxnId: string | null;
  /** For refunds and chargebacks: the provider id of the payment they belong to. */
  parentTxnId: string | null;
  /** The merchant's reference of the movement: order number for payments, refund request number for refunds. */
  merchantRef: string | null;
  /** For refunds and chargebacks: the merchant's order number of the original payment. */
  merchantOrderId: string | null;
  gross: Decimal;
  fee: Decimal;
  net: Decimal;
  /** ISO 4217, upper case. */
  currency: string;
  /**
   * When the statement settles in another currency than the customer paid in (Adyen GC ≠ NC, Stripe
   * customer-facing amount): the signed gross in the customer's currency, as the merchant's ledger books
   * it. Matching compares a ledger row in that currency against this amount.
   */
  original?: { amount: Decimal; currency: string } | null;
  /** When the movement happened, as an instant (the parser applies the provider's time zone). */
  occurredAt: Date;
  /** Provider-specific method (`JSAPI`, `visa`, `alipay`, …) when the statement says. */
  paymentMethod: string | null;
  /** Wallet used (`apple_pay`, `google_pay`, `alipay`, `wechat_pay`, …) when the statement shows it. */
  wallet: string | null;
  /** Provider status of the line when it has one (`SUCCESS`, `REFUND`, `PROCESSING`, …). */
  status: string | null;
  /** Free text the provider gives (subject, description). */
  description: string | null;
  /** True when the parser could not map the line with certainty (unknown event code): a person must look. */
  needsReview: boolean;
  /** Where the line came from: member name (for archives) and 1-based physical line in that member. */
  source: { member: string | null; line: number };
  /** Provider fields worth keeping that have no canonical column (discounts, rates, batch numbers). */
  extra: Record<string, string>;
}

/**
 * A control total the file states about itself (a summary row, a footer), and what the lines add up to.
 * Parsers throw `ControlTotalMismatchError` when they differ; they are returned as well so that the
 * conformance suite and the reports can show them.
 */
export interface ControlTotal {
  /** As the file names it, e.g. `#交易合计 笔数`, `应结订单总金额`. */
  label: string;
  /** Where the file states it. */
  member: string | null;
  line: number;
  currency: string | null;
  expected: string;
  actual: string;
  /**
   * When the total is expressible in canonical terms, how to recompute it from the emitted lines,
   * so that the conformance suite checks the parser's own arithmetic independently.
   */
  measure?: { of: 'count' | 'gross' | 'fee' | 'net'; types: LineType[]; absolute?: boolean };
}

/** Header facts of the statement, known once the whole file has been read. */
export interface StatementSummary {
  provider: ProviderId;
  /** Which layout the parser recognised, e.g. `alipay.trade.25`, `wechatpay.tradebill.ALL`. */
  layout: string;
  /** The provider account the statement is for, when the file says (Alipay 账号, WeChat 商户号). */
  account: string | null;
  /** The period the file states about itself, [start, end), or null when it states none. */
  period: { start: Date; end: Date } | null;
  /** The provider's time zone for calendar days of this statement (IANA name). */
  timeZone: string;
  lineCount: number;
  controls: ControlTotal[];
}

export interface ParseOptions {
  /**
   * Accept a file whose control totals disagree with its lines. The mismatch is still recorded in
   * `summary.controls`; use only for statements known to carry inconsistent footers.
   */
  acceptControlTotalMismatch?: boolean;
  /**
   * Accept a file that ends cleanly after its last line but lacks the footers a complete report carries
   * (a published sample cut short). Its totals cannot be checked; use only for files known to be so.
   */
  acceptMissingFooters?: boolean;
}

/** The bytes to parse: a path on disk (parsers open it themselves so that they can stream or seek). */
export interface StatementSource {
  path: string;
  /** The name to use in messages (defaults to the basename of `path`). */
  displayName?: string;
}

/**
 * A parse in progress: iterate it to get the lines, in file order; `summary` resolves once the last
 * line has been read and every control total checked, and rejects with the same error as the iteration
 * when the file is bad. Nothing is held in memory beyond the current batch of lines and running totals.
 */
export interface ParsedStatement extends AsyncIterable<StatementLine> {
  readonly summary: Promise<StatementSummary>;
  /** The same lines in the batches the parser made them, for loaders (iterate one or the other, once). */
  batches(): AsyncIterable<readonly StatementLine[]>;
}

/**
 * The per-provider parser contract. Parsers are pure in the sense that matters: the same bytes always
 * give the same lines and summary; they read the file and nothing else.
 */
export interface StatementParser {
  readonly provider: ProviderId;
  /** The provider's time zone for its calendar days (bill dates, cut-offs). */
  readonly timeZone: string;
  /** A short description of what the parser accepts, for `--help` and error messages. */
  readonly accepts: string;
  parse(source: StatementSource, options?: ParseOptions): ParsedStatement;
}
