/**
 * Column names of Adyen's Settlement details report (`settlement_detail_report_batch_N.csv` and its
 * XLSX export). Columns are located BY NAME: Adyen reorders them between account generations, and a
 * merchant can add optional columns. Layouts (decided from the header alone):
 * - `adyen.sdr.classic`: the 30-column header (`… Modification Merchant Reference, Batch Number,
 *   Reserved4..10`), possibly reordered or with extra optional columns (`Merchant Order Reference`);
 * - `adyen.sdr.newer`: has `Booking Date` (and `Booking Date TimeZone`), `Modification Merchant
 *   Reference` moved to the end;
 * - `adyen.sdr.extended`: additionally has the balance-platform columns (`Metadata`, `Balance Currency`,
 *   `Payment Fees (NC)`, …);
 * - `adyen.sdr.xlsx`: the same report exported as an Excel workbook (any of the column sets).
 */
export const COL = {
  companyAccount: 'Company Account',
  merchantAccount: 'Merchant Account',
  pspReference: 'Psp Reference',
  merchantReference: 'Merchant Reference',
  paymentMethod: 'Payment Method',
  creationDate: 'Creation Date',
  timeZone: 'TimeZone',
  type: 'Type',
  modificationReference: 'Modification Reference',
  grossCurrency: 'Gross Currency',
  grossDebit: 'Gross Debit (GC)',
  grossCredit: 'Gross Credit (GC)',
  exchangeRate: 'Exchange Rate',
  netCurrency: 'Net Currency',
  netDebit: 'Net Debit (NC)',
  netCredit: 'Net Credit (NC)',
  commission: 'Commission (NC)',
  markup: 'Markup (NC)',
  schemeFees: 'Scheme Fees (NC)',
  interchange: 'Interchange (NC)',
  paymentMethodVariant: 'Payment Method Variant',
  modificationMerchantReference: 'Modification Merchant Reference',
  batchNumber: 'Batch Number',
  bookingDate: 'Booking Date',
  bookingDateTimeZone: 'Booking Date TimeZone',
  metadata: 'Metadata',
  balanceCurrency: 'Balance Currency',
  paymentFees: 'Payment Fees (NC)',
  dccMarkup: 'DCC Markup (NC)',
  grossFees: 'Gross Fees (NC)',
} as const;

/** Columns every layout has; a header missing one of them is not a settlement detail report. */
export const REQUIRED_COLUMNS: readonly string[] = [
  COL.pspReference,
  COL.merchantReference,
  COL.paymentMethod,
  COL.creationDate,
  COL.timeZone,
  COL.type,
  COL.modificationReference,
  COL.grossCurrency,
  COL.grossDebit,
  COL.grossCredit,
  COL.exchangeRate,
  COL.netCurrency,
  COL.netDebit,
  COL.netCredit,
  COL.commission,
  COL.markup,
  COL.schemeFees,
  COL.interchange,
  COL.batchNumber,
];

/**
 * The fee columns that make up `fee` (all in NC): Commission (blended pricing) or
 * Markup + Scheme Fees + Interchange (Interchange++).
 *
 * NOT added: `Payment Fees (NC)`, `DCC Markup (NC)`, `Gross Fees (NC)` of the extended layout. The
 * samples show `Payment Fees (NC)` = Markup + Scheme Fees + Interchange of the same row (emptynetcredit:
 * 0 + 0.04 + 0.10 = 0.14, and Net = Gross×rate − 0.14), i.e. an aggregate: adding it would count the
 * fees twice; it also appears on non-fee rows (InvoiceDeduction). They are kept in `extra` verbatim, and
 * the per-row check `Net = Gross − fees` (same currency) flags any row where they really were extra.
 */
export const FEE_COLUMNS: readonly string[] = [COL.commission, COL.markup, COL.schemeFees, COL.interchange];

/** Columns consumed into canonical fields; every other non-empty cell goes to `extra` under its header. */
export const CONSUMED_COLUMNS: ReadonlySet<string> = new Set([
  COL.pspReference,
  COL.merchantReference,
  COL.paymentMethod,
  COL.creationDate,
  COL.timeZone,
  COL.type,
  COL.grossDebit,
  COL.grossCredit,
  COL.netCurrency,
  COL.netDebit,
  COL.netCredit,
  COL.commission,
  COL.markup,
  COL.schemeFees,
  COL.interchange,
]);

/** Placeholder columns carrying nothing. */
export const isReservedColumn = (name: string): boolean => /^Reserved\d+$/.test(name);

/** Header markers of Adyen's *Payment accounting report*, a different report the samples include. */
export const ACCOUNTING_REPORT_MARKERS: readonly string[] = ['Record Type', 'Main Amount', 'Payable (SC)'];

export type AdyenLayout = 'adyen.sdr.classic' | 'adyen.sdr.newer' | 'adyen.sdr.extended' | 'adyen.sdr.xlsx';

export function csvLayoutOf(header: ReadonlyMap<string, number>): AdyenLayout {
  if (header.has(COL.metadata) || header.has(COL.balanceCurrency) || header.has(COL.paymentFees)) return 'adyen.sdr.extended';
  if (header.has(COL.bookingDate)) return 'adyen.sdr.newer';
  return 'adyen.sdr.classic';
}
