import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * `matches` is looked up by line and by ledger row for one question only: did an earlier day's daily
 * run already pair it (and, for a daily run's cleared and matched items, with what). An ad-hoc run
 * (`recon reconcile`) consumes nothing, so its pairs need no entry in either index; they are read by run
 * alone (the block-range index). Each match now says whether its run is daily, and the two indexes hold
 * the daily ones. Writing a million ad-hoc pairs kept both btrees up to date for lookups that never come.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE matches ADD COLUMN daily boolean NOT NULL DEFAULT false;
    UPDATE matches m SET daily = true FROM recon_runs r WHERE r.id = m.run_id AND r.kind = 'daily';
    ALTER TABLE matches ALTER COLUMN daily DROP DEFAULT;
    DROP INDEX IF EXISTS matches_line;
    DROP INDEX IF EXISTS matches_ledger;
    CREATE INDEX matches_daily_line ON matches (statement_line_id) WHERE daily;
    CREATE INDEX matches_daily_ledger ON matches (ledger_entry_id) WHERE daily;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS matches_daily_line;
    DROP INDEX IF EXISTS matches_daily_ledger;
    CREATE INDEX matches_ledger ON matches (ledger_entry_id);
    CREATE INDEX matches_line ON matches (statement_line_id);
    ALTER TABLE matches DROP COLUMN daily;
  `);
}
