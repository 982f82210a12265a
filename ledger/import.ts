import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ANALYZE_AFTER_ROWS, copyCsvRow, type Database, type Tx } from '../db/database.js';
import { LedgerFormatError } from '../core/errors.js';
import { hashFile } from '../storage/archive.js';
import { ledgerCopyChunks } from './copy-in-worker.js';
import { ENTRY_COLUMNS, ledgerCopyRows, STAGE_COLUMNS } from './rows.js';

export { readLedgerCsv, type LedgerRow } from './rows.js';

export interface LedgerImportResult {
  importId: string;
  file: string;
  sha256: string;
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
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

/**
 * Who reads a ledger file and writes its COPY rows: a worker thread, or this one. `recon reconcile`
 * imports the ledger while a statement loads, and this thread's time goes to parsing the statement:
 * a million-row ledger took 4.6 s of it. Small files stay here (a worker takes ~50 ms to start).
 */
export type LedgerReader = 'worker' | 'thread';
const WORKER_MIN_BYTES = 4 * 1024 * 1024;

async function readerFor(path: string, reader: LedgerReader | undefined): Promise<LedgerReader> {
  return reader ?? ((await stat(path)).size >= WORKER_MIN_BYTES ? 'worker' : 'thread');
}

/** COPYs a ledger file's rows into `table` (ending each with the import id when given); their count. */
async function copyLedgerRows(tx: Tx, table: string, columns: readonly string[], path: string, importId: string | undefined, reader: LedgerReader): Promise<number> {
  if (reader === 'thread') return tx.copyFromBatches(table, columns, ledgerCopyRows(path, importId), copyCsvRow, 'csv');
  const counter = { n: 0 };
  await tx.copyFromEncoded(table, columns, ledgerCopyChunks(path, importId, counter), 'csv');
  return counter.n;
}

/**
 * The common first load: every ledger_id of the file is new (and none repeats), so the rows are copied
 * straight into ledger_entries, ids drawn in file order, without a staging table and the insert that
 * empties it (which took 3 s to stage and 12 s to write of a 1M-row load). Any ledger_id that is known
 * already or repeats in the file breaks the unique key: nothing is written and the result is null, for the
 * staged upsert to decide. A known id committed meanwhile by a concurrent import ends the same way.
 */
async function copyNewOnly(tx: Tx, path: string, importId: string, reader: LedgerReader): Promise<number | null> {
  await tx.query('SAVEPOINT ledger_copy_new');
  try {
    const count = await copyLedgerRows(tx, 'ledger_entries', ENTRY_COLUMNS, path, importId, reader);
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
export async function importLedger(db: Database, path: string, opts: { reader?: LedgerReader } = {}): Promise<LedgerImportResult> {
  const { sha256 } = await hashFile(path);
  const reader = await readerFor(path, opts.reader);
  return db.transaction((tx) => writeImport(tx, path, basename(path), sha256, reader));
}

/** The same inside the caller's transaction (which then decides whether the import commits). */
export async function importLedgerIn(tx: Tx, path: string, opts: { reader?: LedgerReader } = {}): Promise<LedgerImportResult> {
  const { sha256 } = await hashFile(path);
  return writeImport(tx, path, basename(path), sha256, await readerFor(path, opts.reader));
}

async function writeImport(tx: Tx, path: string, file: string, sha256: string, reader: LedgerReader): Promise<LedgerImportResult> {
  const [imp] = await tx.query<{ id: string }>(
    `INSERT INTO ledger_imports (file_name, sha256, row_count) VALUES ($1, $2, 0) RETURNING id`,
    [file, sha256],
  );
  const importId = String(imp!.id);
  const copied = await copyNewOnly(tx, path, importId, reader);
  const result = copied !== null
    ? { importId, file, sha256, rows: copied, inserted: copied, updated: 0, unchanged: 0 }
    : await stageAndUpsert(tx, path, file, sha256, importId, reader);
  await tx.query(`UPDATE ledger_imports SET row_count = $2 WHERE id = $1`, [importId, result.rows]);
  // Statistics of the columns that runs select ledger rows by; the others wait for autovacuum (every
  // column of 1M rows: 0.43–0.44 s, these: 0.21–0.34 s).
  if (result.rows >= ANALYZE_AFTER_ROWS) await tx.query(`ANALYZE ledger_entries (provider, import_id, booked_at, type)`);
  return result;
}

/** Files that bring known ids (a corrected or repeated export) or repeat one: staged, checked, then upserted. */
async function stageAndUpsert(tx: Tx, path: string, file: string, sha256: string, importId: string, reader: LedgerReader): Promise<LedgerImportResult> {
  await tx.query(`CREATE TEMP TABLE ledger_stage (
      ledger_id text, provider text, type text, order_id text, provider_txn_id text, amount numeric(24,6),
      fee numeric(24,6), currency char(3), booked_at timestamptz, txn_key text, ref_key text, source_line integer
    ) ON COMMIT DROP`);
  const count = await copyLedgerRows(tx, 'ledger_stage', STAGE_COLUMNS, path, undefined, reader);

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
