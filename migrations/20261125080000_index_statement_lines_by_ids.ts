import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/** A refund's payment and earlier refunds are looked up by provider ids when fees are checked. */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE INDEX statement_lines_provider_txn ON statement_lines (provider, provider_txn_id);
    CREATE INDEX statement_lines_parent_txn ON statement_lines (provider, parent_txn_id) WHERE parent_txn_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS statement_lines_parent_txn;
    DROP INDEX IF EXISTS statement_lines_provider_txn;
  `);
}
