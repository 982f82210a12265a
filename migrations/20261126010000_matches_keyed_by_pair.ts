import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A match is identified by its run, line and row; the surrogate id (a sequence call and a fifth index
 * entry for each of a million matches a day) was never read. The natural key becomes the primary key.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches DROP CONSTRAINT matches_pkey;
    ALTER TABLE matches DROP COLUMN id;
    ALTER TABLE matches DROP CONSTRAINT matches_run_id_statement_line_id_ledger_entry_id_key;
    ALTER TABLE matches ADD CONSTRAINT matches_pkey PRIMARY KEY (run_id, statement_line_id, ledger_entry_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches DROP CONSTRAINT matches_pkey;
    ALTER TABLE matches ADD CONSTRAINT matches_run_id_statement_line_id_ledger_entry_id_key UNIQUE (run_id, statement_line_id, ledger_entry_id);
    ALTER TABLE matches ADD COLUMN id bigserial PRIMARY KEY;
  `);
}
