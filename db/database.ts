import { mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';

/** A value as it travels to PostgreSQL in a COPY row: text, or null for SQL NULL. */
export type CopyValue = string | null;

export interface Sql {
  /** Runs one statement with `$1`-style parameters; returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Tx extends Sql {
  /**
   * Bulk-loads rows with COPY … FROM in CSV format, streaming: rows are sent in chunks as they are
   * produced, so a file of any size loads in bounded memory. Returns the number of rows.
   */
  copyFrom(table: string, columns: readonly string[], rows: AsyncIterable<CopyValue[]> | Iterable<CopyValue[]>): Promise<number>;
  /**
   * The same, for rows already written as lines: CSV (`csvField` values joined by commas) or COPY's text
   * format (`textField` values joined by tabs), each ending in a line break.
   */
  copyFromLines(table: string, columns: readonly string[], lines: AsyncIterable<string> | Iterable<string>, format?: CopyFormat): Promise<number>;
  /**
   * The same, for items that `toLine` writes as lines as they stream: no generator stands between a
   * parser and COPY only to map each item (a step per line, 0.3 s of a 1M-line load). Counts the items.
   */
  copyFromItems<T>(table: string, columns: readonly string[], items: AsyncIterable<T> | Iterable<T>, toLine: (item: T) => string, format?: CopyFormat): Promise<number>;
  /** The same, for items that arrive in batches (a parser's): one step per batch, not per item. */
  copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format?: CopyFormat): Promise<number>;
}

/**
 * The database walletrecon keeps its state in: a PostgreSQL server (`DATABASE_URL`) or an embedded
 * PGlite under `./.recon/`. Both run the same migrations and the same SQL; numeric values come back as
 * strings and bigint ids as strings on both.
 */
export interface Database extends Sql {
  readonly kind: 'postgres' | 'pglite';
  /** Knex over the same database, for migrations and simple queries. */
  readonly knex: Knex;
  /** Runs `fn` in one transaction: everything it wrote is committed together or not at all. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

// Rows are sent to the server in chunks of about this many bytes: small enough to stay in V8's young
// generation (chunks of 20,000 joined rows, ~10 MB, made the garbage collector the biggest cost of a
// 1M-line load). PGlite runs one COPY statement per chunk, so it gets bigger ones.
const COPY_CHUNK_BYTES = 64 * 1024;
const PGLITE_COPY_CHUNK_BYTES = 8 * 1024 * 1024;

// Quoted: what CSV needs quoted, and a backslash (so that no value reads as the \. end marker).
// White space needs nothing: in CSV format PostgreSQL keeps every character of an unquoted value.
const NEEDS_QUOTES = /[",\r\n\\]/;
const QUOTE = /"/g;

/** One value in PostgreSQL's CSV COPY format: unquoted empty is NULL, quoted "" is the empty string. */
export function csvField(v: CopyValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (v === '' || NEEDS_QUOTES.test(v)) return `"${v.replace(QUOTE, '""')}"`;
  return v;
}

export type CopyFormat = 'csv' | 'text';

// COPY's text format escapes only these, so JSON and most text go through untouched (CSV doubles every quote).
const TEXT_SPECIAL = /[\\\t\n\r]/;
const TEXT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const TEXT_SPECIAL_ALL = /[\\\t\n\r]/g;

/** One value in PostgreSQL's text COPY format: \N is NULL. */
export function textField(v: CopyValue | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return TEXT_SPECIAL.test(v) ? v.replace(TEXT_SPECIAL_ALL, (c) => TEXT_ESCAPES[c]!) : v;
}

/** One row in PostgreSQL's CSV COPY format, with its line break. */
export function copyCsvRow(values: readonly CopyValue[]): string {
  let out = csvField(values[0]);
  for (let i = 1; i < values.length; i++) out += ',' + csvField(values[i]);
  return out + '\n';
}

/**
 * Writes items as COPY lines, UTF-8 encoded straight into byte chunks of about `chunkBytes`, counting
 * the lines. Each line is encoded once where it lands: joining lines into a string first and encoding
 * the joined string took 5 s of a 1M-line load (V8 flattens the concatenation), against 1 s this way.
 */
async function* copyChunks<T>(batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, counter: { n: number }, chunkBytes: number): AsyncGenerator<Buffer> {
  let buf = Buffer.allocUnsafe(chunkBytes);
  let used = 0;
  for await (const batch of batches) {
    for (const item of batch) {
      const line = toLine(item);
      // At most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
      const room = line.length * 3;
      if (used + room > buf.length) {
        if (used > 0) yield buf.subarray(0, used);
        // A chunk handed on is never written again: the consumer may still hold it.
        buf = Buffer.allocUnsafe(Math.max(chunkBytes, room));
        used = 0;
      }
      used += buf.write(line, used);
      counter.n += 1;
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}

/** Items one at a time as batches of one (a sync iterable: as one batch per few hundred). */
async function* batchesOf<T>(items: AsyncIterable<T> | Iterable<T>): AsyncGenerator<readonly T[]> {
  if (Symbol.asyncIterator in items) {
    for await (const item of items) yield [item];
    return;
  }
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === 512) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

const ident = (name: string): string => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain SQL identifier: ${name}`);
  return name;
};

function copySql(table: string, columns: readonly string[], source: string, format: CopyFormat = 'csv'): string {
  return `COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM ${source} WITH (FORMAT ${format})`;
}

/** The COPY entry points over the one each backend implements, `copyFromBatches`. */
abstract class CopyingTx implements Tx {
  abstract query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  abstract copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format?: CopyFormat): Promise<number>;
  copyFromItems<T>(table: string, columns: readonly string[], items: AsyncIterable<T> | Iterable<T>, toLine: (item: T) => string, format: CopyFormat = 'csv'): Promise<number> {
    return this.copyFromBatches(table, columns, batchesOf(items), toLine, format);
  }
  copyFrom(table: string, columns: readonly string[], rows: AsyncIterable<CopyValue[]> | Iterable<CopyValue[]>): Promise<number> {
    return this.copyFromItems(table, columns, rows, copyCsvRow, 'csv');
  }
  copyFromLines(table: string, columns: readonly string[], lines: AsyncIterable<string> | Iterable<string>, format: CopyFormat = 'csv'): Promise<number> {
    return this.copyFromItems(table, columns, lines, (line) => line, format);
  }
}

/**
 * A load of at least this many rows refreshes its table's statistics before it commits: the run that
 * follows would otherwise plan a million rows as the few dozen the table held when it was last analysed.
 */
export const ANALYZE_AFTER_ROWS = 10_000;

// ---------------------------------------------------------------- PostgreSQL server

class PgTx extends CopyingTx {
  constructor(private readonly client: pg.PoolClient) {
    super();
  }
  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.client.query(sql, params as unknown[]);
    return res.rows as T[];
  }
  async copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format: CopyFormat = 'csv'): Promise<number> {
    const counter = { n: 0 };
    const stream = this.client.query(copyFromStdin(copySql(table, columns, 'STDIN', format)));
    await pipeline(Readable.from(copyChunks(batches, toLine, counter, COPY_CHUNK_BYTES)), stream);
    return counter.n;
  }
}

/**
 * Session settings for a batch job that sorts, hashes and scans a million-row scratch table per run:
 * PostgreSQL's defaults (work_mem 4 MB, temp_buffers 8 MB) send every such sort, hash and temp-table
 * scan to disk. JIT compiles without LLVM's inlining and optimisation passes: scratch tables are planned
 * before their statistics exist, every estimate crossed those thresholds, and each pass cost 0.3–0.5 s
 * of a 1–2 s statement. `PGOPTIONS`, or `options` in DATABASE_URL, replace them.
 */
export const DEFAULT_SESSION_OPTIONS = '-c work_mem=128MB -c temp_buffers=256MB -c jit_inline_above_cost=-1 -c jit_optimize_above_cost=-1';

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 4, options: process.env.PGOPTIONS ?? DEFAULT_SESSION_OPTIONS });
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 2 } });
  return {
    kind: 'postgres',
    knex,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const res = await pool.query(sql, params as unknown[]);
      return res.rows as T[];
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn(new PgTx(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await Promise.allSettled([pool.end(), knex.destroy()]);
    },
  };
}

// ---------------------------------------------------------------- PGlite (embedded)

interface PgliteLike {
  query<T>(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: T[] }>;
}

class PgliteTx extends CopyingTx {
  constructor(private readonly db: PgliteLike) {
    super();
  }
  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const res = await this.db.query<T>(sql, params as unknown[]);
    return res.rows;
  }
  async copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format: CopyFormat = 'csv'): Promise<number> {
    // PGlite has no COPY FROM STDIN; it reads '/dev/blob'. One COPY per chunk keeps memory bounded.
    const counter = { n: 0 };
    for await (const chunk of copyChunks(batches, toLine, counter, PGLITE_COPY_CHUNK_BYTES)) {
      await this.db.query(copySql(table, columns, `'/dev/blob'`, format), [], { blob: new Blob([chunk as Buffer<ArrayBuffer>]) });
    }
    return counter.n;
  }

}

async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // int8 as text, like node-postgres: ids never pass through a JS number.
  const pglite = new PGlite({ ...(dataDir ? { dataDir } : {}), parsers: { 20: (v: string) => v } });
  await pglite.waitReady;
  const knex = knexFactory({ client: ClientPgLite as unknown as typeof knexFactory.Client, dialect: 'postgres', connection: () => ({ pglite }) as object } as Knex.Config);
  let closed = false;
  return {
    kind: 'pglite',
    knex,
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const res = await pglite.query<T>(sql, params as unknown[]);
      return res.rows;
    },
    async transaction<T>(fn: (tx: Tx) => Promise<T>) {
      return pglite.transaction(async (tx) => fn(new PgliteTx(tx as unknown as PgliteLike)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await knex.destroy().catch(() => undefined);
      if (!pglite.closed) await pglite.close();
    },
  };
}

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, the embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `null` for an in-memory database (tests). */
  pgliteDir?: string | null;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) return openPostgres(options.url);
  return openPglite(options.pgliteDir === undefined ? '.recon/pgdata' : options.pgliteDir);
}
