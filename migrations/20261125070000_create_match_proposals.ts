import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/** Matches a tolerant rule proposes for a person to review: never counted as matched until accepted. */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE TABLE match_proposals (
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      statement_line_id  bigint NOT NULL REFERENCES statement_lines(id),
      ledger_entry_id    bigint NOT NULL REFERENCES ledger_entries(id),
      rule               text NOT NULL,
      amount_difference  numeric(24,6) NOT NULL,
      PRIMARY KEY (run_id, statement_line_id, ledger_entry_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `DROP TABLE IF EXISTS match_proposals;`);
}
