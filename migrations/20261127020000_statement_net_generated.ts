import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A statement line's `net` is `gross - fee` by definition (it was a CHECK): the table now computes it.
 * The loader writes two amounts per line instead of three, and no parser builds the difference on the
 * load path (see parsers/common/numeral-line.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE statement_lines DROP COLUMN net;
    ALTER TABLE statement_lines ADD COLUMN net numeric(24,6) GENERATED ALWAYS AS (gross - fee) STORED;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE statement_lines DROP COLUMN net;
    ALTER TABLE statement_lines ADD COLUMN net numeric(24,6);
    UPDATE statement_lines SET net = gross - fee;
    ALTER TABLE statement_lines ALTER COLUMN net SET NOT NULL, ADD CHECK (net = gross - fee);
  `);
}
