import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A run can write a row per line into its discrepancies, pending, cleared items and proposals: a day
 * whose ledger is empty or from another day makes a million discrepancies. Each row's foreign-key check
 * locks the line or ledger row it names (FOR KEY SHARE: a write to that row's page, and WAL): such a
 * run's INSERT took 29 s with them and 20 s without. The ids come from the run's scratch tables, built
 * from statement_lines and ledger_entries in the same transaction, and neither table deletes rows a run
 * points at (as for `matches`, 20261125090000). The run's own key (cascade on delete) stays.
 */
const TABLES = ['discrepancies', 'pending_items', 'cleared_items', 'match_proposals'] as const;

export async function up(knex: Knex): Promise<void> {
  await execScript(knex, TABLES.map((t) => `
    ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${t}_statement_line_id_fkey;
    ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${t}_ledger_entry_id_fkey;`).join(''));
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, TABLES.map((t) => `
    ALTER TABLE ${t} ADD CONSTRAINT ${t}_statement_line_id_fkey FOREIGN KEY (statement_line_id) REFERENCES statement_lines(id);
    ALTER TABLE ${t} ADD CONSTRAINT ${t}_ledger_entry_id_fkey FOREIGN KEY (ledger_entry_id) REFERENCES ledger_entries(id);`).join(''));
}
