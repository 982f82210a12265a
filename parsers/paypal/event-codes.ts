import type { LineType } from '../contract.js';

/**
 * PayPal transaction event codes (`Transaction Event Code`, `Tnnnn`) → canonical line type and label.
 *
 * Sources: PayPal "Transaction event codes" reference
 * (https://developer.paypal.com/docs/transaction-search/transaction-event-codes,
 * https://developer.paypal.com/docs/reports/reference/tcodes) and the mapping used by
 * repo:wikimedia/wikimedia-fundraising-SmashPig:PaymentProviders/PayPal/Audit/BaseParser.php
 * (getTransactionCodes), summarised in ../shared/research/formats.md §3.6.
 *
 * Only codes listed here are mapped. Any other code is kept as an `adjustment` line with
 * `needsReview: true` (see `lookupEventCode`): never dropped, never guessed from its group.
 *
 * Decisions:
 * - T1106 (payment reversal initiated by PayPal) and T1201 (chargeback) are `chargeback`.
 * - T1202 (chargeback reversal: the disputed money comes back) is an `adjustment` with a positive gross,
 *   not a `chargeback`. The ledger records payments, refunds and chargebacks; a reversal has its own
 *   Transaction ID that no ledger row carries, and typing it `chargeback` would make matching report it
 *   as a chargeback missing from the ledger. Its PayPal Reference ID (→ `parentTxnId`) links it to the
 *   chargeback or payment it reverses.
 * - Fee events (T01xx, T0106 chargeback fee, T1108/T1109 fee reversal/refund) are `fee` lines. PayPal
 *   writes their amount in the gross columns, so the parser keeps it in `gross` (a fee charged is a DR,
 *   gross negative; a fee given back is a CR, gross positive), which is also how the SF/RF footers count it.
 * - T0200/T0201/T0202 currency conversions are `transfer` (a pair of rows, DR in one currency and CR in
 *   the other); T03xx bank funding and T20xx/T22xx balance moves are `transfer` too.
 * - T04xx withdrawals to the bank are `payout`.
 * - Holds and releases (T1110/T1111, T15xx, T21xx), corrections (T1900) and other adjustments are
 *   `adjustment`.
 * - T13xx authorizations (and their voids) move no money: `moneyless` (see parse.ts for how such TRR
 *   events are kept).
 */
export interface EventCodeInfo {
  type: LineType;
  label: string;
  /** The event never moves money (authorizations, voids): its amounts are informational. */
  moneyless?: boolean;
}

const pay = (label: string): EventCodeInfo => ({ type: 'payment', label });
const fee = (label: string): EventCodeInfo => ({ type: 'fee', label });
const adj = (label: string): EventCodeInfo => ({ type: 'adjustment', label });
const xfer = (label: string): EventCodeInfo => ({ type: 'transfer', label });

export const EVENT_CODES: Readonly<Record<string, EventCodeInfo>> = Object.freeze({
  // T00xx PayPal account-to-account payments
  T0000: pay('General payment'),
  T0001: pay('MassPay payment'),
  T0002: pay('Subscription payment'),
  T0003: pay('Pre-approved payment (BillUser API)'),
  T0004: pay('eBay auction payment'),
  T0005: pay('Direct payment API'),
  T0006: pay('PayPal Checkout APIs payment'),
  T0007: pay('Website Payments Standard payment'),
  T0008: pay('Postage payment to carrier'),
  T0009: pay('Gift certificate payment'),
  T0010: pay('Third-party auction payment'),
  T0011: pay('Mobile payment'),
  T0012: pay('Virtual Terminal payment'),
  T0013: pay('Donation payment'),
  T0014: pay('Rebate payment'),
  T0015: pay('Third-party payout'),
  T0016: pay('Third-party recoupment'),
  T0017: pay('Store-to-store transfer'),
  T0018: pay('PayPal Here payment'),
  T0019: pay('Generic instrument-funded payment'),
  // T01xx fees
  T0100: fee('General fee'),
  T0101: fee('Website Payments Pro account monthly fee'),
  T0102: fee('Foreign bank withdrawal fee'),
  T0103: fee('WorldLink check withdrawal fee'),
  T0104: fee('Mass Pay batch fee'),
  T0105: fee('Check withdrawal fee'),
  T0106: fee('Chargeback processing fee'),
  T0107: fee('Payment fee'),
  T0108: fee('ATM withdrawal fee'),
  T0109: fee('Auto-sweep from account fee'),
  T0110: fee('International credit card withdrawal fee'),
  T0111: fee('Warranty fee'),
  T0112: fee('Gift certificate expiration fee'),
  T0113: fee('Partner fee'),
  // T02xx currency conversion
  T0200: xfer('General currency conversion'),
  T0201: xfer('User-initiated currency conversion'),
  T0202: xfer('Currency conversion to cover a negative balance'),
  // T03xx funding of the PayPal balance from a bank
  T0300: xfer('General funding of PayPal account'),
  T0301: xfer('PayPal balance manager funding'),
  T0302: xfer('ACH funding for funds recovery from account balance'),
  T0303: xfer('Electronic funds transfer (EFT) funding'),
  // T04xx withdrawals to the bank
  T0400: { type: 'payout', label: 'General withdrawal from PayPal account' },
  T0401: { type: 'payout', label: 'AutoSweep withdrawal' },
  // T11xx reversals
  T1100: adj('General reversal'),
  T1101: adj('Reversal of ACH withdrawal'),
  T1104: adj('Reversal of ACH deposit'),
  T1105: adj('Reversal of general account hold'),
  T1106: { type: 'chargeback', label: 'Payment reversal initiated by PayPal' },
  T1107: { type: 'refund', label: 'Payment refund initiated by merchant' },
  T1108: fee('Fee reversal'),
  T1109: fee('Fee refund'),
  T1110: adj('Hold for dispute investigation'),
  T1111: adj('Cancellation of hold for dispute resolution'),
  // T12xx adjustments
  T1200: adj('General account adjustment'),
  T1201: { type: 'chargeback', label: 'Chargeback' },
  T1202: adj('Chargeback reversal'),
  T1203: adj('Charge-off adjustment'),
  T1204: adj('Incentive adjustment'),
  T1205: adj('Reimbursement of chargeback'),
  T1207: adj('Chargeback re-presentment rejection'),
  T1208: adj('Chargeback cancellation'),
  // T13xx authorizations: no money moves
  T1300: { type: 'adjustment', label: 'General authorization', moneyless: true },
  T1301: { type: 'adjustment', label: 'Reauthorization', moneyless: true },
  T1302: { type: 'adjustment', label: 'Void of authorization', moneyless: true },
  // T15xx temporary holds
  T1500: adj('General temporary hold'),
  T1501: adj('Account hold for open authorization'),
  T1502: adj('Account hold for ACH deposit'),
  T1503: adj('Temporary hold on available balance'),
  // T19xx corrections
  T1900: adj('General adjustment without business-related event'),
  // T20xx / T21xx / T22xx balance moves, reserves and releases
  T2000: xfer('General intra-account transfer'),
  T2001: xfer('Settlement consolidation'),
  T2101: adj('General hold'),
  T2102: adj('General hold release'),
  T2103: adj('Reserve hold'),
  T2104: adj('Reserve release'),
  T2105: adj('Payment review hold'),
  T2106: adj('Payment review release'),
  T2107: adj('Payment hold'),
  T2108: adj('Payment hold release'),
});

/** The mapping of an event code; unknown codes are `adjustment` and must be reviewed by a person. */
export function lookupEventCode(code: string): EventCodeInfo & { known: boolean } {
  const info = EVENT_CODES[code];
  if (info) return { ...info, known: true };
  return { type: 'adjustment', label: code === '' ? 'Missing event code' : `Unknown event code ${code}`, known: false };
}
