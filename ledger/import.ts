import { basename } from 'node:path';
import { ANALYZE_AFTER_ROWS, copyCsvRow, type CopyValue, type Database, type Tx } from '../db/database.js';
import { LedgerFormatError } from '../core/errors.js';
import { decimalPlacesOf, fixedDecimalText, isKnownCurrency, minorUnits } from '../core/money/index.js';
import { isProviderId, LEDGER_TYPES, type ProviderId } from '../parsers/contract.js';
import { ledgerKeys } from '../reconcile/keys.js';
import { hashFile } from '../storage/archive.js';
import { csvRecordBatches } from './csv-records.js';

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

export interface LedgerImportResult {
  importId: string;
  file: string;
  sha256: string;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
}

const STAGE_COLUMNS = ['ledger_id', 'provider', 'type', 'order_id', 'provider_txn_id', 'amount', 'fee', 'currency', 'booked_at', 'txn_key', 'ref_key', 'source_line'] as const;

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

/**
 * The upsert of the staged rows: new ids are inserted, known ones updated (their `updated_at` moves only when
 * the content changed), and the counts say which was which. Each row takes the import's id; new ids are
 * drawn in file order, as the straight copy draws them.
 */
const UPSERT_SQL = `WITH src AS (
         SELECT DISTINCT ON (ledger_id) * FROM ledger_stage ORDER BY ledger_id, source_line
       ), before AS (
         SELECT e.ledger_id,
                (e.provider, e.type, e.order_id, e.provider_txn_id, e.amount, e.fee, e.currency, e.booked_at)
                  IS NOT DISTINCT FROM (s.provider, s.type, s.order_id, s.provider_txn_id, s.amount, s.fee, s.currency, s.booked_at) AS same
           FROM ledger_entries e JOIN src s USING (ledger_id)
       ), up AS (
         INSERT INTO ledger_entries AS e (ledger_id, provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at, txn_key, ref_key, import_id, source_line)
         SELECT ledger_id, provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at, txn_key, ref_key, $1, source_line
           FROM src ORDER BY source_line
         ON CONFLICT (ledger_id) DO UPDATE SET
           provider = EXCLUDED.provider, type = EXCLUDED.type, order_id = EXCLUDED.order_id,
           provider_txn_id = EXCLUDED.provider_txn_id, amount = EXCLUDED.amount, fee = EXCLUDED.fee,
           currency = EXCLUDED.currency, booked_at = EXCLUDED.booked_at, txn_key = EXCLUDED.txn_key,
           ref_key = EXCLUDED.ref_key, import_id = EXCLUDED.import_id, source_line = EXCLUDED.source_line,
           updated_at = CASE WHEN (e.provider, e.type, e.order_id, e.provider_txn_id, e.amount, e.fee, e.currency, e.booked_at)
                               IS NOT DISTINCT FROM (EXCLUDED.provider, EXCLUDED.type, EXCLUDED.order_id, EXCLUDED.provider_txn_id,
                                                     EXCLUDED.amount, EXCLUDED.fee, EXCLUDED.currency, EXCLUDED.booked_at)
                             THEN e.updated_at ELSE now() END
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM src)::int - (SELECT count(*) FROM before)::int AS inserted,
              (SELECT count(*) FROM before WHERE NOT same)::int AS updated,
              (SELECT count(*) FROM before WHERE same)::int AS unchanged,
              (SELECT count(*) FROM up)::int AS written`;

const UNIQUE_VIOLATION = '23505';

const ENTRY_COLUMNS = [...STAGE_COLUMNS, 'import_id'] as const;

/** A validated ledger file as batches of COPY rows, ending with the import's id when one is given (a copy straight into ledger_entries). */
async function* copyRows(path: string, importId?: string): AsyncGenerator<CopyValue[][]> {
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

/**
 * The common first load: every ledger_id of the file is new (and none repeats), so the rows are copied
 * straight into ledger_entries, ids drawn in file order, without a staging table and the insert that
 * empties it (which took 3 s to stage and 12 s to write of a 1M-row load). Any ledger_id that is known
 * already or repeats in the file breaks the unique key: nothing is written and the result is null, for the
 * staged upsert to decide. A known id committed meanwhile by a concurrent import ends the same way.
 */
async function copyNewOnly(tx: Tx, path: string, importId: string): Promise<number | null> {
  await tx.query('SAVEPOINT ledger_copy_new');
  try {
    const count = await tx.copyFromBatches('ledger_entries', ENTRY_COLUMNS, copyRows(path, importId), copyCsvRow, 'csv');
    await tx.query('RELEASE SAVEPOINT ledger_copy_new');
    return count;
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT ledger_copy_new');
    return null;
  }
}

/**
 * Loads or updates ledger rows, idempotent by `ledger_id`, in one transaction: a file of new ids is copied
 * straight in; one that brings known ids is staged with COPY and upserted, and a row whose content did
 * not change is left as it is. The same `ledger_id` twice in one
 * file with different content is an error (which one is true?); identical repeats are harmless.
 */
export async function importLedger(db: Database, path: string, opts: { commitAfter?: Promise<unknown> } = {}): Promise<LedgerImportResult> {
  const file = basename(path);
  const { sha256 } = await hashFile(path);
  return db.transaction(async (tx) => {
    const result = await writeImport(tx, path, file, sha256);
    // Work that runs beside the import (a statement loading) decides whether it commits: if that
    // fails, the import is rolled back with it.
    if (opts.commitAfter) await opts.commitAfter;
    return result;
  });
}

async function writeImport(tx: Tx, path: string, file: string, sha256: string): Promise<LedgerImportResult> {
  const [imp] = await tx.query<{ id: string }>(
    `INSERT INTO ledger_imports (file_name, sha256, row_count) VALUES ($1, $2, 0) RETURNING id`,
    [file, sha256],
  );
  const importId = String(imp!.id);
  const copied = await copyNewOnly(tx, path, importId);
  const result = copied !== null
    ? { importId, file, sha256, rows: copied, inserted: copied, updated: 0, unchanged: 0 }
    : await stageAndUpsert(tx, path, file, sha256, importId);
  await tx.query(`UPDATE ledger_imports SET row_count = $2 WHERE id = $1`, [importId, result.rows]);
  if (result.rows >= ANALYZE_AFTER_ROWS) await tx.query(`ANALYZE ledger_entries`);
  return result;
}

/** Files that bring known ids (a corrected or repeated export) or repeat one: staged, checked, then upserted. */
async function stageAndUpsert(tx: Tx, path: string, file: string, sha256: string, importId: string): Promise<LedgerImportResult> {
  await tx.query(`CREATE TEMP TABLE ledger_stage (
      ledger_id text, provider text, type text, order_id text, provider_txn_id text, amount numeric(24,6),
      fee numeric(24,6), currency char(3), booked_at timestamptz, txn_key text, ref_key text, source_line integer
    ) ON COMMIT DROP`);
  const count = await tx.copyFromBatches('ledger_stage', STAGE_COLUMNS, copyRows(path), copyCsvRow, 'csv');

  // Only a repeated ledger_id can conflict; counting distinct ids is much cheaper than grouping rows.
  const [ids] = await tx.query<{ repeated: boolean }>(`SELECT count(*) <> count(DISTINCT ledger_id) AS repeated FROM ledger_stage`);
  if (ids?.repeated !== false) {
    const conflicts = await tx.query<{ ledger_id: string; lines: number[] }>(
      `SELECT ledger_id, array_agg(source_line ORDER BY source_line) AS lines
         FROM ledger_stage GROUP BY ledger_id
        HAVING count(DISTINCT (provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at)) > 1
        ORDER BY min(source_line) LIMIT 1`,
    );
    if (conflicts[0]) {
      const c = conflicts[0];
      throw new LedgerFormatError({ file, line: c.lines[1], field: 'ledger_id' }, `ledger_id ${JSON.stringify(c.ledger_id)} appears on lines ${c.lines.join(', ')} with different content`);
    }
  }
  const [stats] = await tx.query<{ inserted: number; updated: number; unchanged: number }>(UPSERT_SQL, [importId]);
  return { importId, file, sha256, rows: count, inserted: stats!.inserted, updated: stats!.updated, unchanged: stats!.unchanged };
}
