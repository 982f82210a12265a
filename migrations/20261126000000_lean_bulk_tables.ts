import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * The tables that take a million rows a day pay for every index and foreign key on every row. Measured
 * on 1M statement lines: the two key indexes cost ~4 s of COPY and the per-row foreign-key check ~2.6 s.
 * What goes:
 * - the (provider, txn_key) / (provider, ref_key) indexes of statement_lines and ledger_entries: matching
 *   joins the run's scratch copies with hash joins, and nothing looks a single key up;
 * - the row-level foreign keys from statement_lines to its file, from ledger_entries to its import and
 *   from matches to its run: each row is written by the same transaction that writes its parent, and
 *   files, imports and runs are never deleted (a run is superseded, a file kept as evidence).
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS statement_lines_txn_key;
    DROP INDEX IF EXISTS statement_lines_ref_key;
    DROP INDEX IF EXISTS ledger_entries_txn_key;
    DROP INDEX IF EXISTS ledger_entries_ref_key;
    ALTER TABLE statement_lines DROP CONSTRAINT IF EXISTS statement_lines_statement_file_id_fkey;
    ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_import_id_fkey;
    ALTER TABLE matches DROP CONSTRAINT IF EXISTS matches_run_id_fkey;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches ADD CONSTRAINT matches_run_id_fkey FOREIGN KEY (run_id) REFERENCES recon_runs(id) ON DELETE CASCADE;
    ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_import_id_fkey FOREIGN KEY (import_id) REFERENCES ledger_imports(id);
    ALTER TABLE statement_lines ADD CONSTRAINT statement_lines_statement_file_id_fkey FOREIGN KEY (statement_file_id) REFERENCES statement_files(id) ON DELETE CASCADE;
    CREATE INDEX ledger_entries_ref_key ON ledger_entries (provider, ref_key);
    CREATE INDEX ledger_entries_txn_key ON ledger_entries (provider, txn_key);
    CREATE INDEX statement_lines_ref_key ON statement_lines (provider, ref_key);
    CREATE INDEX statement_lines_txn_key ON statement_lines (provider, txn_key);
  `);
}
