import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../db/database.js';
import { migrateLatest } from '../../db/migrate.js';

/** The PostgreSQL server tests use: `TEST_DATABASE_URL`, else the local server on this machine. */
export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  db: Database;
  /** The connection string (postgres) or null (PGlite in memory). */
  url: string | null;
  drop(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, migrated database of its own on the real PostgreSQL server; `drop()` removes it. */
export async function freshPostgres(): Promise<TestDatabase> {
  const name = `recon_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(SERVER_URL, name);
  const db = await openDatabase({ url });
  await migrateLatest(db);
  return {
    db,
    url,
    async drop() {
      await db.close();
      const a = new pg.Client({ connectionString: SERVER_URL });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A fresh, migrated in-memory PGlite. */
export async function freshPglite(): Promise<TestDatabase> {
  const db = await openDatabase({ pgliteDir: null });
  await migrateLatest(db);
  return { db, url: null, drop: () => db.close() };
}

/** Both backends the product supports; database tests run `describe.each(BACKENDS)`. */
export const BACKENDS = [
  { name: 'postgres', fresh: freshPostgres },
  { name: 'pglite', fresh: freshPglite },
] as const;
