import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A run pairs up to millions of rows in one statement; a foreign-key check per inserted match (two
 * index probes a row) cost more than the pairing. The ids come from the run's own scratch tables, built
 * from statement_lines and ledger_entries in the same transaction, and neither table ever deletes rows
 * a run points at — so the checks are dropped. The run's own key (cascade on delete) stays.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches DROP CONSTRAINT IF EXISTS matches_statement_line_id_fkey;
    ALTER TABLE matches DROP CONSTRAINT IF EXISTS matches_ledger_entry_id_fkey;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches ADD CONSTRAINT matches_statement_line_id_fkey FOREIGN KEY (statement_line_id) REFERENCES statement_lines(id);
    ALTER TABLE matches ADD CONSTRAINT matches_ledger_entry_id_fkey FOREIGN KEY (ledger_entry_id) REFERENCES ledger_entries(id);
  `);
}
