import type { Config } from '../core/config.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateLatest } from '../db/migrate.js';

/** Opens the configured database (PostgreSQL at DATABASE_URL, else the embedded one), migrated, for one command. */
export async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url: config.databaseUrl, pgliteDir: `${config.home}/pgdata` });
  try {
    await migrateLatest(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}
