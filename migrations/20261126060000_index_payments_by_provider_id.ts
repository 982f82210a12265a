import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * Lines are looked up by provider id for one thing: a refund's payment (fee checks, the fee report),
 * always with `type = 'payment'`. Indexing the payments alone, as a btree, keeps each insert at the
 * index's right edge wherever a provider's ids ascend in time (WeChat Pay, Alipay): refund ids, a second
 * ascending sequence in the same index, had split pages in its middle. The hash index over every line
 * took its inserts on random pages, which stops being cheap once the index outgrows shared buffers.
 * Server time of COPY of the same bench lines (WeChat Pay, ~10% refunds): 1M 12.6–13.6 s without the
 * index, +1.1–1.7 s with this one, +2.9–4.5 s with the hash index; 10M 95–110 s without, 128 s with this
 * one, 153 s with a btree over every line, 182 s with the hash index.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS statement_lines_provider_txn_hash;
    CREATE INDEX statement_lines_payment_txn ON statement_lines (provider_txn_id) WHERE type = 'payment';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS statement_lines_payment_txn;
    CREATE INDEX statement_lines_provider_txn_hash ON statement_lines USING hash (provider_txn_id);
  `);
}
