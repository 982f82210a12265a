import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A statement line's `extra` (the provider's own columns, as the file writes them) is stored as `json`:
 * checked JSON text, kept as written. As `jsonb` every line's object was rebuilt into the binary form
 * on COPY, 2.5 s of a 1M-line load (jsonb 7.2 s, json 5.3 s for the same rows into a bare table), for
 * lookups that `->>` serves on json as well: extra is read per line (reports, payout references),
 * never indexed or compared whole.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE statement_lines ALTER COLUMN extra TYPE json USING extra::json;`);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE statement_lines ALTER COLUMN extra TYPE jsonb USING extra::jsonb;`);
}
