import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/** A run's fee check (statement against ledger fees over its pairs), computed once inside the run. */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE recon_runs ADD COLUMN fee_checks jsonb;`);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `ALTER TABLE recon_runs DROP COLUMN IF EXISTS fee_checks;`);
}
