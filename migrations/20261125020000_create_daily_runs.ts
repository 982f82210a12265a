import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * Daily runs keep state across days: each completed run of (provider, account, bill date) records the
 * items still pending at its end (what may legitimately arrive later, with its due date) and the items
 * it cleared. A rerun supersedes the day's earlier run atomically and records what changed.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE recon_runs ADD COLUMN version integer NOT NULL DEFAULT 1;
    ALTER TABLE recon_runs ADD COLUMN superseded_by bigint REFERENCES recon_runs(id);
    ALTER TABLE recon_runs ADD COLUMN changes jsonb;
    CREATE UNIQUE INDEX recon_runs_one_current_day ON recon_runs (provider, coalesce(account, ''), bill_date)
      WHERE kind = 'daily' AND status = 'completed';
    CREATE INDEX recon_runs_daily ON recon_runs (provider, bill_date) WHERE kind = 'daily';

    CREATE INDEX matches_ledger ON matches (ledger_entry_id);
    CREATE INDEX matches_line ON matches (statement_line_id);

    CREATE TABLE pending_items (
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      side               text NOT NULL CHECK (side IN ('statement','ledger')),
      statement_line_id  bigint REFERENCES statement_lines(id),
      ledger_entry_id    bigint REFERENCES ledger_entries(id),
      pending_since      date NOT NULL,
      due_date           date NOT NULL,
      CHECK ((side = 'statement') = (statement_line_id IS NOT NULL)),
      CHECK ((side = 'ledger') = (ledger_entry_id IS NOT NULL))
    );
    CREATE INDEX pending_items_run ON pending_items (run_id);

    CREATE TABLE cleared_items (
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      side               text NOT NULL CHECK (side IN ('statement','ledger')),
      statement_line_id  bigint REFERENCES statement_lines(id),
      ledger_entry_id    bigint REFERENCES ledger_entries(id),
      pending_since      date NOT NULL,
      cleared_on         date NOT NULL
    );
    CREATE INDEX cleared_items_run ON cleared_items (run_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP TABLE IF EXISTS cleared_items, pending_items;
    DROP INDEX IF EXISTS matches_line;
    DROP INDEX IF EXISTS matches_ledger;
    DROP INDEX IF EXISTS recon_runs_daily;
    DROP INDEX IF EXISTS recon_runs_one_current_day;
    ALTER TABLE recon_runs DROP COLUMN IF EXISTS changes;
    ALTER TABLE recon_runs DROP COLUMN IF EXISTS superseded_by;
    ALTER TABLE recon_runs DROP COLUMN IF EXISTS version;
  `);
}
