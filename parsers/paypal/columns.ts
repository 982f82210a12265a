/**
 * Column headers of the PayPal SFTP Settlement (STL) and Transaction Detail (TRR) reports, as written in
 * the `CH` row. Columns are found by name, never by position: PayPal added columns over the spec
 * versions (Payment Tracking ID and Store ID in 7.x, Bank Reference ID in 8.0, the Credit * fields in 9.0;
 * repo:OpenMage/magento-lts:app/code/core/Mage/Paypal/Model/Report/Settlement.php `_csvColumns` 'old'/'new'
 * and ../shared/research/formats.md §3.3), and very old files wrote the names without spaces
 * (`TransactionID`, `GrossTransactionAmount`, `TransactionDebitOrCredit`).
 *
 * Matching is on a normalised key (lower case, letters and digits only), so `Transaction Debit or Credit`
 * and `TransactionDebitOrCredit` are the same column. Synonyms beyond that are listed explicitly.
 */

/** The columns the parser reads, by a stable key. */
export const COLUMNS = {
  transactionId: ['Transaction ID'],
  invoiceId: ['Invoice ID'],
  referenceId: ['PayPal Reference ID'],
  referenceIdType: ['PayPal Reference ID Type'],
  eventCode: ['Transaction Event Code', 'Event Code'],
  initiatedAt: ['Transaction Initiation Date'],
  completedAt: ['Transaction Completion Date'],
  grossDirection: ['Transaction Debit or Credit', 'Transaction Debit Or Credit'],
  grossAmount: ['Gross Transaction Amount'],
  grossCurrency: ['Gross Transaction Currency'],
  feeDirection: ['Fee Debit or Credit'],
  feeAmount: ['Fee Amount'],
  feeCurrency: ['Fee Currency'],
  customField: ['Custom Field'],
  consumerId: ['Consumer ID'],
  paymentTrackingId: ['Payment Tracking ID'],
  storeId: ['Store ID'],
  bankReferenceId: ['Bank Reference ID'],
  creditTransactionalFee: ['Credit Transactional Fee'],
  creditPromotionalFee: ['Credit Promotional Fee'],
  creditTerm: ['Credit Term'],
  // TRR only
  status: ['Transactional Status', 'Transaction Status'],
  insuranceAmount: ['Insurance Amount'],
  salesTaxAmount: ['Sales Tax Amount'],
  shippingAmount: ['Shipping Amount'],
  subject: ['Transaction Subject'],
  note: ['Transaction Note'],
  itemId: ['Item ID'],
  cardType: ['Card Type'],
  paymentSource: ['Payment Source'],
  authorizationReviewStatus: ['Authorization Review Status'],
  protectionEligibility: ['Protection Eligibility'],
} as const satisfies Record<string, readonly string[]>;

export type ColumnKey = keyof typeof COLUMNS;

/** Without these a line cannot be built: a CH row that lacks one is an unknown layout. */
export const REQUIRED_COLUMNS: readonly ColumnKey[] = [
  'transactionId',
  'eventCode',
  'initiatedAt',
  'grossDirection',
  'grossAmount',
  'grossCurrency',
  'feeDirection',
  'feeAmount',
];

/** Columns that exist only in the Transaction Detail report: their presence makes a CH row a TRR layout. */
export const TRR_ONLY_COLUMNS: readonly ColumnKey[] = ['status', 'subject', 'paymentSource'];

/** `Transaction Debit or Credit` → `transactiondebitorcredit`. */
export function normaliseColumnName(name: string): string {
  return name.replace(/^\uFEFF/, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}

const LOOKUP: ReadonlyMap<string, ColumnKey> = new Map(
  (Object.entries(COLUMNS) as [ColumnKey, readonly string[]][]).flatMap(([key, names]) => names.map((n) => [normaliseColumnName(n), key] as const)),
);

export interface ColumnMap {
  /** Index of each known column in the SB rows (the record-type cell is index 0). */
  index: Partial<Record<ColumnKey, number>>;
  /** The header text as the file wrote it, for error messages. */
  names: Partial<Record<ColumnKey, string>>;
  /** Number of cells of the CH row. */
  width: number;
}

/** Maps the cells of a CH row (including the leading `CH`) to column indexes. First occurrence wins. */
export function mapColumns(cells: readonly string[]): ColumnMap {
  const index: Partial<Record<ColumnKey, number>> = {};
  const names: Partial<Record<ColumnKey, string>> = {};
  cells.forEach((cell, i) => {
    if (i === 0) return;
    const key = LOOKUP.get(normaliseColumnName(cell));
    if (key !== undefined && index[key] === undefined) {
      index[key] = i;
      names[key] = cell.trim();
    }
  });
  return { index, names, width: cells.length };
}

/** The canonical (current spec) name of a column, for messages about a column the file lacks. */
export function canonicalName(key: ColumnKey): string {
  return COLUMNS[key][0];
}

/**
 * The STL column layout version a CH row corresponds to, from the columns each spec version added
 * (formats.md §3.3): `9` has the Credit * fields, `8` the Bank Reference ID, `7` Payment Tracking ID /
 * Store ID, `pre7` stops at Consumer ID.
 */
export function stlLayoutVersion(map: ColumnMap): string {
  const has = (k: ColumnKey) => map.index[k] !== undefined;
  if (has('creditTransactionalFee') || has('creditPromotionalFee') || has('creditTerm')) return '9';
  if (has('bankReferenceId')) return '8';
  if (has('paymentTrackingId') || has('storeId')) return '7';
  return 'pre7';
}
