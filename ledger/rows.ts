import { basename } from 'node:path';
import type { CopyValue } from '../db/copy-text.js';
import { LedgerFormatError } from '../core/errors.js';
import { decimalPlacesOf, fixedDecimalText, isKnownCurrency, minorUnits } from '../core/money/index.js';
import { isProviderId, LEDGER_TYPES, type ProviderId } from '../parsers/contract.js';
import { ledgerKeys } from '../reconcile/keys.js';
import { csvRecordBatches } from './csv-records.js';

/**
 * A ledger CSV read and checked against the contract, row by row, and written as COPY rows: what the
 * import needs from the file, without the database (the copy worker runs this alone).
 */

/** The ledger CSV columns of the contract; order is free and extra columns are ignored. */
const REQUIRED = ['ledger_id', 'provider', 'type', 'order_id', 'provider_txn_id', 'amount', 'currency', 'booked_at'] as const;
const OPTIONAL = ['fee'] as const;

// ISO 8601 with an explicit offset (Z or ±hh:mm / ±hhmm); seconds and fractions optional.
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/;
// Fees may be finer than the currency's minor unit (WeChat Pay computes fees to 5 decimals).
const FEE_MAX_PLACES = 6;

export interface LedgerRow {
  ledgerId: string;
  provider: ProviderId;
  type: string;
  orderId: string | null;
  providerTxnId: string | null;
  amount: string;
  fee: string | null;
  currency: string;
  bookedAt: string;
  line: number;
}

export const STAGE_COLUMNS = ['ledger_id', 'provider', 'type', 'order_id', 'provider_txn_id', 'amount', 'fee', 'currency', 'booked_at', 'txn_key', 'ref_key', 'source_line'] as const;

/** Where each contract column sits in a record (the last one of that name, like a Map over the header); -1: absent. */
interface Columns {
  ledgerId: number;
  provider: number;
  type: number;
  orderId: number;
  providerTxnId: number;
  amount: number;
  fee: number;
  currency: number;
  bookedAt: number;
}

function columnsOf(header: readonly string[]): Columns | string[] {
  const index = new Map(header.map((name, i) => [name.trim(), i]));
  const missing = REQUIRED.filter((c) => !index.has(c));
  if (missing.length > 0) return missing;
  const at = (name: string): number => index.get(name) ?? -1;
  return {
    ledgerId: at('ledger_id'), provider: at('provider'), type: at('type'), orderId: at('order_id'), providerTxnId: at('provider_txn_id'),
    amount: at('amount'), fee: at('fee'), currency: at('currency'), bookedAt: at('booked_at'),
  };
}

const field = (record: readonly string[], i: number): string => (i < 0 ? '' : (record[i] ?? ''));

/** Validates one record against the contract; throws a LedgerFormatError naming file, line and field. */
function toLedgerRow(file: string, line: number, record: readonly string[], cols: Columns): LedgerRow {
  const fail = (name: string, detail: string): never => {
    throw new LedgerFormatError({ file, line, field: name }, detail);
  };
  const ledgerId = field(record, cols.ledgerId).trim();
  if (ledgerId === '') fail('ledger_id', 'is empty; every ledger row needs its own id');
  const provider = field(record, cols.provider).trim();
  if (!isProviderId(provider)) fail('provider', `${JSON.stringify(provider)} is not one of alipay, wechatpay, paypal, stripe, adyen`);
  const type = field(record, cols.type).trim();
  if (!(LEDGER_TYPES as readonly string[]).includes(type)) fail('type', `${JSON.stringify(type)} is not one of ${LEDGER_TYPES.join(', ')}`);
  const currencyText = field(record, cols.currency);
  const currency = currencyText.trim().toUpperCase();
  if (!isKnownCurrency(currency)) fail('currency', `${JSON.stringify(currencyText)} is not an ISO 4217 currency code`);
  const amountText = field(record, cols.amount).trim();
  const amountPlaces = decimalPlacesOf(amountText);
  if (amountPlaces < 0) return fail('amount', `${JSON.stringify(amountText)} is not a decimal amount`);
  if (amountText.charCodeAt(0) === 0x2d) fail('amount', `${amountText} is negative; amounts are positive, the type gives the direction`);
  if (amountPlaces > minorUnits(currency)) fail('amount', `${amountText} has more decimals than ${currency} has minor units (${minorUnits(currency)})`);
  const feeText = field(record, cols.fee).trim();
  let fee: string | null = null;
  if (feeText !== '') {
    const feePlaces = decimalPlacesOf(feeText);
    if (feePlaces < 0) return fail('fee', `${JSON.stringify(feeText)} is not a decimal amount`);
    if (feePlaces > FEE_MAX_PLACES) fail('fee', `${feeText} has more than ${FEE_MAX_PLACES} decimals`);
    fee = fixedDecimalText(feeText, feePlaces);
  }
  const bookedAt = field(record, cols.bookedAt).trim();
  if (!ISO_WITH_OFFSET.test(bookedAt) || Number.isNaN(Date.parse(bookedAt))) {
    fail('booked_at', `${JSON.stringify(bookedAt)} is not an ISO 8601 timestamp with an offset`);
  }
  const orderId = field(record, cols.orderId).trim() || null;
  const providerTxnId = field(record, cols.providerTxnId).trim() || null;
  const amount = fixedDecimalText(amountText, amountPlaces);
  return { ledgerId, provider: provider as ProviderId, type, orderId, providerTxnId, amount, fee, currency, bookedAt, line };
}

/** Validated rows of a ledger CSV, a batch (a read of the file) at a time; the error handling of readLedgerCsv. */
async function* ledgerRowBatches(path: string): AsyncGenerator<LedgerRow[]> {
  const file = basename(path);
  let cols: Columns | undefined;
  try {
    for await (const { records, lines } of csvRecordBatches(path)) {
      const rows: LedgerRow[] = [];
      for (let k = 0; k < records.length; k++) {
        const record = records[k]!;
        const line = lines[k]!;
        if (!cols) {
          const found = columnsOf(record);
          if (Array.isArray(found)) {
            throw new LedgerFormatError({ file, line, field: found[0] }, `missing column(s) ${found.join(', ')}; the ledger CSV needs ${REQUIRED.join(', ')} (and optionally ${OPTIONAL.join(', ')})`);
          }
          cols = found;
          continue;
        }
        let row: LedgerRow;
        try {
          row = toLedgerRow(file, line, record, cols);
        } catch (err) {
          // The rows before the bad one go out first, as they did when rows were read one at a time.
          if (rows.length > 0) yield rows.splice(0);
          throw err;
        }
        rows.push(row);
      }
      if (rows.length > 0) yield rows;
    }
  } catch (err) {
    if (err instanceof LedgerFormatError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new LedgerFormatError({ file, line: e.lines }, `not valid CSV: ${e.message}`);
    }
    throw err;
  }
  if (!cols) throw new LedgerFormatError({ file, line: 1 }, 'is empty: no header row');
}

/** Streams and validates a ledger CSV (contract: UTF-8, optional BOM, RFC 4180, header row). */
export async function* readLedgerCsv(path: string): AsyncGenerator<LedgerRow> {
  for await (const rows of ledgerRowBatches(path)) {
    for (const row of rows) yield row;
  }
}

export const ENTRY_COLUMNS = [...STAGE_COLUMNS, 'import_id'] as const;

/** A validated ledger file as batches of COPY rows, ending with the import's id when one is given (a copy straight into ledger_entries). */
export async function* ledgerCopyRows(path: string, importId?: string): AsyncGenerator<CopyValue[][]> {
  for await (const batch of ledgerRowBatches(path)) {
    const rows: CopyValue[][] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const keys = ledgerKeys(r);
      const row: CopyValue[] = [r.ledgerId, r.provider, r.type, r.orderId, r.providerTxnId, r.amount, r.fee, r.currency, r.bookedAt, keys.txnKey, keys.refKey, String(r.line)];
      if (importId !== undefined) row.push(importId);
      rows[i] = row;
    }
    yield rows;
  }
}
