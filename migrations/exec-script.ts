import type { Knex } from 'knex';

/**
 * Runs a DDL script statement by statement: PGlite (through knex) prepares each query, and a prepared
 * statement holds one command. Statements end with `;` at the end of a line; no function bodies here.
 */
export async function execScript(knex: Knex, script: string): Promise<void> {
  for (const statement of script.split(/;\s*$/m)) {
    if (statement.trim() !== '') await knex.raw(statement);
  }
}
