import { migrationSource } from '../migrations/index.js';
import type { Database } from './database.js';

/** Brings the schema up to date (knex's lock table serialises concurrent callers). */
export async function migrateLatest(db: Database): Promise<void> {
  await db.knex.migrate.latest({ migrationSource });
}
