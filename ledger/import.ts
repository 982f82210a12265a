import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'csv-parse';
import type { Database, CopyValue } from '../db/database.js';
import { LedgerFormatError } from '../core/errors.js';
import { isKnownCurrency, minorUnits, parseDecimal } from '../core/money/index.js';
import { isProviderId, LEDGER_TYPES, type ProviderId } from '../parsers/contract.js';
import { ledgerKeys } from '../reconcile/keys.js';
import { hashFile } from '../storage/archive.js';
import { pipeWithErrors } from '../parsers/common/decode.js';

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

/** Validates one record against the contract; throws a LedgerFormatError naming file, line and field. */
function toLedgerRow(file: string, line: number, get: (name: string) => string): LedgerRow {
  const fail = (field: string, detail: string): never => {
    throw new LedgerFormatError({ file, line, field }, detail);
  };
  const ledgerId = get('ledger_id').trim();
  if (ledgerId === '') fail('ledger_id', 'is empty; every ledger row needs its own id');
  const provider = get('provider').trim();
  if (!isProviderId(provider)) fail('provider', `${JSON.stringify(provider)} is not one of alipay, wechatpay, paypal, stripe, adyen`);
  const type = get('type').trim();
  if (!(LEDGER_TYPES as readonly string[]).includes(type)) fail('type', `${JSON.stringify(type)} is not one of ${LEDGER_TYPES.join(', ')}`);
  const currency = get('currency').trim().toUpperCase();
  if (!isKnownCurrency(currency)) fail('currency', `${JSON.stringify(get('currency'))} is not an ISO 4217 currency code`);
  const amountText = get('amount').trim();
  const amount = parseDecimal(amountText);
  if (amount === undefined) return fail('amount', `${JSON.stringify(amountText)} is not a decimal amount`);
  if (amount.isNegative()) fail('amount', `${amountText} is negative; amounts are positive, the type gives the direction`);
  if (amount.decimalPlaces() > minorUnits(currency)) fail('amount', `${amountText} has more decimals than ${currency} has minor units (${minorUnits(currency)})`);
  const feeText = get('fee').trim();
  let fee: string | null = null;
  if (feeText !== '') {
    const f = parseDecimal(feeText);
    if (f === undefined) return fail('fee', `${JSON.stringify(feeText)} is not a decimal amount`);
    if (f.decimalPlaces() > FEE_MAX_PLACES) fail('fee', `${feeText} has more than ${FEE_MAX_PLACES} decimals`);
    fee = f.toFixed();
  }
  const bookedAt = get('booked_at').trim();
  if (!ISO_WITH_OFFSET.test(bookedAt) || Number.isNaN(Date.parse(bookedAt))) {
    fail('booked_at', `${JSON.stringify(bookedAt)} is not an ISO 8601 timestamp with an offset`);
  }
  const orderId = get('order_id').trim() || null;
  const providerTxnId = get('provider_txn_id').trim() || null;
  return { ledgerId, provider: provider as ProviderId, type, orderId, providerTxnId, amount: amount.toFixed(), fee, currency, bookedAt, line };
}

/** Streams and validates a ledger CSV (contract: UTF-8, optional BOM, RFC 4180, header row). */
export async function* readLedgerCsv(path: string): AsyncGenerator<LedgerRow> {
  const file = basename(path);
  const parser = pipeWithErrors(createReadStream(path), parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: false }));
  let index: Map<string, number> | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!index) {
        index = new Map(record.map((name, i) => [name.trim(), i]));
        const missing = REQUIRED.filter((c) => !index!.has(c));
        if (missing.length > 0) {
          throw new LedgerFormatError({ file, line: info.lines, field: missing[0] }, `missing column(s) ${missing.join(', ')}; the ledger CSV needs ${REQUIRED.join(', ')} (and optionally ${OPTIONAL.join(', ')})`);
        }
        continue;
      }
      const cols = index;
      yield toLedgerRow(file, info.lines, (name) => {
        const i = cols.get(name);
        return i === undefined ? '' : (record[i] ?? '');
      });
    }
  } catch (err) {
    if (err instanceof LedgerFormatError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new LedgerFormatError({ file, line: e.lines }, `not valid CSV: ${e.message}`);
    }
    throw err;
  }
  if (!index) throw new LedgerFormatError({ file, line: 1 }, 'is empty: no header row');
}

/**
 * Loads or updates ledger rows, idempotent by `ledger_id`: rows are staged with COPY and upserted in one
 * transaction; a row whose content did not change is left as it is. The same `ledger_id` twice in one
 * file with different content is an error (which one is true?); identical repeats are harmless.
 */
export async function importLedger(db: Database, path: string): Promise<LedgerImportResult> {
  const file = basename(path);
  const { sha256 } = await hashFile(path);
  return db.transaction(async (tx) => {
    await tx.query(`CREATE TEMP TABLE ledger_stage (
        ledger_id text, provider text, type text, order_id text, provider_txn_id text, amount numeric(24,6),
        fee numeric(24,6), currency char(3), booked_at timestamptz, txn_key text, ref_key text, source_line integer
      ) ON COMMIT DROP`);
    async function* rows(): AsyncGenerator<CopyValue[]> {
      for await (const r of readLedgerCsv(path)) {
        const keys = ledgerKeys(r);
        yield [r.ledgerId, r.provider, r.type, r.orderId, r.providerTxnId, r.amount, r.fee, r.currency, r.bookedAt, keys.txnKey, keys.refKey, String(r.line)];
      }
    }
    const count = await tx.copyFrom('ledger_stage', STAGE_COLUMNS, rows());

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

    const [imp] = await tx.query<{ id: string }>(
      `INSERT INTO ledger_imports (file_name, sha256, row_count) VALUES ($1, $2, $3) RETURNING id`,
      [file, sha256, count],
    );
    const importId = String(imp!.id);
    const [stats] = await tx.query<{ inserted: number; updated: number; unchanged: number }>(
      `WITH src AS (
         SELECT DISTINCT ON (ledger_id) * FROM ledger_stage ORDER BY ledger_id, source_line
       ), before AS (
         SELECT e.ledger_id,
                (e.provider, e.type, e.order_id, e.provider_txn_id, e.amount, e.fee, e.currency, e.booked_at)
                  IS NOT DISTINCT FROM (s.provider, s.type, s.order_id, s.provider_txn_id, s.amount, s.fee, s.currency, s.booked_at) AS same
           FROM ledger_entries e JOIN src s USING (ledger_id)
       ), up AS (
         INSERT INTO ledger_entries AS e (ledger_id, provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at, txn_key, ref_key, import_id, source_line)
         SELECT ledger_id, provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at, txn_key, ref_key, $1, source_line FROM src
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
              (SELECT count(*) FROM up)::int AS written`,
      [importId],
    );
    return { importId, file, sha256, rows: count, inserted: stats!.inserted, updated: stats!.updated, unchanged: stats!.unchanged };
  });
}
