import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A statement line's `extra` is JSON text that one writer makes: the statement loader, with
 * JSON.stringify. As `json` the server checked every line's text again on COPY, 0.9 s of a 1M-line load's
 * 7.5 s into the bare table (6.6 s as text; alternating runs). Its readers (payout references, the digest)
 * take a few lines each and cast: `extra::json->>'key'`.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE statement_lines ALTER COLUMN extra TYPE text;`);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE statement_lines ALTER COLUMN extra TYPE json USING extra::json;`);
}
