import { mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { COPY_CHUNK_BYTES, PGLITE_COPY_CHUNK_BYTES, copyChunks, copyCsvRow, type CopyFormat, type CopyValue } from './copy-text.js';

export { copyCsvRow, csvField, textField, type CopyFormat, type CopyValue } from './copy-text.js';

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
   * The same, for items that `toLine` writes as lines as they stream (no mapping generator in between).
   * Counts the items. Many items that arrive one by one cost a step each: a parser's go through
   * `copyFromBatches`.
   */
  copyFromItems<T>(table: string, columns: readonly string[], items: AsyncIterable<T> | Iterable<T>, toLine: (item: T) => string, format?: CopyFormat): Promise<number>;
  /** The same, for items that arrive in batches (a parser's): one step per batch, not per item. */
  copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format?: CopyFormat): Promise<number>;
  /**
   * The same, for rows already encoded (by a worker thread): UTF-8 COPY text in chunks that each end
   * with a whole line. The producer counts the rows.
   */
  copyFromEncoded(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array>, format?: CopyFormat): Promise<void>;
  /**
   * Runs `fn` inside the transaction just before it commits (in the order given; not on rollback): for
   * work that must not outlive the transaction but cannot be left to ON COMMIT, such as dropping tables
   * that are not temporary.
   */
  beforeCommit(fn: () => Promise<void>): void;
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

/** An async iterable's items as batches of one each; a sync iterable's in batches of 512. */
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

/** The COPY entry points over the one each backend implements, `copyFromEncoded`. */
abstract class CopyingTx implements Tx {
  private readonly commitHooks: Array<() => Promise<void>> = [];
  beforeCommit(fn: () => Promise<void>): void {
    this.commitHooks.push(fn);
  }
  /** The transaction's body ran to its end: what waits for the commit runs now. */
  async finish(): Promise<void> {
    for (const fn of this.commitHooks.splice(0)) await fn();
  }
  abstract query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  abstract copyFromEncoded(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array>, format?: CopyFormat): Promise<void>;
  async copyFromBatches<T>(table: string, columns: readonly string[], batches: AsyncIterable<readonly T[]> | Iterable<readonly T[]>, toLine: (item: T) => string, format: CopyFormat = 'csv'): Promise<number> {
    const counter = { n: 0 };
    await this.copyFromEncoded(table, columns, copyChunks(batches, toLine, counter, COPY_CHUNK_BYTES), format);
    return counter.n;
  }
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
  async copyFromEncoded(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array>, format: CopyFormat = 'csv'): Promise<void> {
    const stream = this.client.query(copyFromStdin(copySql(table, columns, 'STDIN', format)));
    await pipeline(Readable.from(chunks), stream);
  }
}

/**
 * Session settings for a batch job that sorts, hashes and scans a million-row scratch table per run:
 * PostgreSQL's defaults (work_mem 4 MB, temp_buffers 8 MB) send every such sort, hash and temp-table
 * scan to disk. JIT is off: its compile time is paid per statement and per parallel worker, and a run's
 * statements are hash joins and sorts over scratch tables that compiled expressions barely speed up.
 * Measured on a 1M-line run, already without LLVM's inlining and optimisation passes: the matching SQL
 * took 15.0–15.1 s with JIT and 12.9–14.0 s without it (four runs each). `PGOPTIONS`, or `options` in
 * DATABASE_URL, replace them.
 */
export const DEFAULT_SESSION_OPTIONS = '-c work_mem=128MB -c temp_buffers=256MB -c jit=off';

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
        const tx = new PgTx(client);
        const result = await fn(tx);
        await tx.finish();
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
  async copyFromEncoded(table: string, columns: readonly string[], chunks: AsyncIterable<Uint8Array>, format: CopyFormat = 'csv'): Promise<void> {
    // PGlite has no COPY FROM STDIN; it reads '/dev/blob'. Chunks are gathered into one COPY per ~8 MB,
    // which keeps memory bounded: every chunk ends with a whole line, so any run of them does.
    let parts: Uint8Array<ArrayBuffer>[] = [];
    let bytes = 0;
    const flush = async () => {
      if (bytes === 0) return;
      await this.db.query(copySql(table, columns, `'/dev/blob'`, format), [], { blob: new Blob(parts) });
      parts = [];
      bytes = 0;
    };
    for await (const chunk of chunks) {
      parts.push(chunk as Uint8Array<ArrayBuffer>);
      bytes += chunk.length;
      if (bytes >= PGLITE_COPY_CHUNK_BYTES) await flush();
    }
    await flush();
  }
}

async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Loaded only for the embedded database: a command on a PostgreSQL server does not pay for them.
  const [{ PGlite }, { default: ClientPgLite }] = await Promise.all([import('@electric-sql/pglite'), import('knex-pglite')]);
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
      return pglite.transaction(async (raw) => {
        const tx = new PgliteTx(raw as unknown as PgliteLike);
        const result = await fn(tx);
        await tx.finish();
        return result;
      });
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
