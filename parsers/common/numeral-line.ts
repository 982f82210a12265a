import { Decimal } from '../../core/money/index.js';
import type { LineType, ProviderId, StatementLine } from '../contract.js';

/** A line's fields other than its amounts. */
export type LineFields = Omit<StatementLine, 'gross' | 'fee' | 'net'>;

/**
 * A statement line whose gross and fee are the checked decimal numerals of its file: the Decimals are
 * built when read, and a loader writes the numerals as they are. On the load path nothing reads them
 * (control totals add the numerals), and building three Decimals per line took 0.6–0.7 s of a 1M-line
 * load's main thread, with their garbage besides; the line itself costs what a literal does.
 * `net` is `gross - fee`, as the contract says, computed exactly when read.
 */
export class NumeralLine implements StatementLine {
  readonly provider: ProviderId;
  readonly type: LineType;
  readonly providerTxnId: string | null;
  readonly parentTxnId: string | null;
  readonly merchantRef: string | null;
  readonly merchantOrderId: string | null;
  readonly currency: string;
  readonly original: StatementLine['original'];
  readonly occurredAt: Date;
  readonly paymentMethod: string | null;
  readonly wallet: string | null;
  readonly status: string | null;
  readonly description: string | null;
  readonly needsReview: boolean;
  readonly source: StatementLine['source'];
  readonly extra: Record<string, string>;

  /** `grossText`, `feeText`: plain decimal numerals (`isDecimalText`), signed as the contract signs them. */
  constructor(fields: LineFields, readonly grossText: string, readonly feeText: string) {
    // Field by field: V8 gives every line one shape, where Object.assign would not.
    this.provider = fields.provider;
    this.type = fields.type;
    this.providerTxnId = fields.providerTxnId;
    this.parentTxnId = fields.parentTxnId;
    this.merchantRef = fields.merchantRef;
    this.merchantOrderId = fields.merchantOrderId;
    this.currency = fields.currency;
    this.original = fields.original ?? null;
    this.occurredAt = fields.occurredAt;
    this.paymentMethod = fields.paymentMethod;
    this.wallet = fields.wallet;
    this.status = fields.status;
    this.description = fields.description;
    this.needsReview = fields.needsReview;
    this.source = fields.source;
    this.extra = fields.extra;
  }

  get gross(): Decimal {
    return new Decimal(this.grossText);
  }

  get fee(): Decimal {
    return new Decimal(this.feeText);
  }

  get net(): Decimal {
    return this.gross.minus(this.fee);
  }
}
