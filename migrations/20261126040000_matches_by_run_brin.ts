import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A run writes its matches together, a million on a busy day, and they are read by run (its reports)
 * or by line and row (what earlier runs consumed). The btree primary key on (run, line, row) cost ~1 s
 * of writing 1M matches for lookups a block-range index on the run answers as well: a run's matches lie
 * together in the table. Uniqueness of a pair within a run holds by construction (each rule pairs rows
 * that no earlier rule paired, a group once per line and row); no reader relied on the key for it.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches DROP CONSTRAINT matches_pkey;
    CREATE INDEX matches_run ON matches USING brin (run_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS matches_run;
    ALTER TABLE matches ADD CONSTRAINT matches_pkey PRIMARY KEY (run_id, statement_line_id, ledger_entry_id);
  `);
}
