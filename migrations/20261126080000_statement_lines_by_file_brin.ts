import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * A file's lines are written by one COPY in one transaction, so they lie together in the table, and they
 * are only ever read by file as a whole (a run's candidates, the reports, a rerun's lookup). A block-range
 * index answers that; the unique btree on (file, line) cost a btree insert per line of every load. Line
 * numbers stay unique per file by construction: a load deletes whatever its file row held, then numbers
 * the lines it writes from 1.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE statement_lines DROP CONSTRAINT IF EXISTS statement_lines_statement_file_id_line_no_key;
    CREATE INDEX statement_lines_file ON statement_lines USING brin (statement_file_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP INDEX IF EXISTS statement_lines_file;
    ALTER TABLE statement_lines ADD CONSTRAINT statement_lines_statement_file_id_line_no_key UNIQUE (statement_file_id, line_no);
  `);
}
