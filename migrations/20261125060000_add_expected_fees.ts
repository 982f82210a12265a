import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/** A fee mismatch says against what: the ledger's expected fee, or the contracted fee schedule. */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE discrepancies ADD COLUMN fee_basis text CHECK (fee_basis IN ('ledger', 'schedule'));
    ALTER TABLE discrepancies ADD COLUMN expected_fee numeric(24,6);
    ALTER TABLE discrepancies ADD COLUMN fee_rule text;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE discrepancies DROP COLUMN IF EXISTS fee_rule;
    ALTER TABLE discrepancies DROP COLUMN IF EXISTS expected_fee;
    ALTER TABLE discrepancies DROP COLUMN IF EXISTS fee_basis;
  `);
}
