import type { Knex } from 'knex';
import * as createCoreSchema from './20261125000000_create_core_schema.js';
import * as createFetches from './20261125010000_create_fetches.js';
import * as createDailyRuns from './20261125020000_create_daily_runs.js';
import * as createBankAndPayouts from './20261125030000_create_bank_and_payouts.js';
import * as createMailLog from './20261125040000_create_mail_log.js';
import * as createExceptions from './20261125050000_create_exceptions.js';
import * as addExpectedFees from './20261125060000_add_expected_fees.js';
import * as createMatchProposals from './20261125070000_create_match_proposals.js';
import * as indexStatementLinesByIds from './20261125080000_index_statement_lines_by_ids.js';
import * as matchesWithoutRowFkChecks from './20261125090000_matches_without_row_fk_checks.js';
import * as leanBulkTables from './20261126000000_lean_bulk_tables.js';
import * as matchesKeyedByPair from './20261126010000_matches_keyed_by_pair.js';
import * as runFeeChecks from './20261126020000_run_fee_checks.js';
import * as hashStatementProviderTxn from './20261126030000_hash_statement_provider_txn.js';
import * as matchesByRunBrin from './20261126040000_matches_by_run_brin.js';
import * as statementExtraAsJson from './20261126050000_statement_extra_as_json.js';
import * as indexPaymentsByProviderId from './20261126060000_index_payments_by_provider_id.js';
import * as runItemsWithoutRowFkChecks from './20261126070000_run_items_without_row_fk_checks.js';
import * as statementLinesByFileBrin from './20261126080000_statement_lines_by_file_brin.js';
import * as matchesIndexedForDailyRuns from './20261127000000_matches_indexed_for_daily_runs.js';
import * as statementExtraAsText from './20261127010000_statement_extra_as_text.js';
import * as statementNetGenerated from './20261127020000_statement_net_generated.js';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Append a new entry whenever the schema changes; never edit or reorder an entry that has shipped. */
export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261125000000_create_core_schema', createCoreSchema],
  ['20261125010000_create_fetches', createFetches],
  ['20261125020000_create_daily_runs', createDailyRuns],
  ['20261125030000_create_bank_and_payouts', createBankAndPayouts],
  ['20261125040000_create_mail_log', createMailLog],
  ['20261125050000_create_exceptions', createExceptions],
  ['20261125060000_add_expected_fees', addExpectedFees],
  ['20261125070000_create_match_proposals', createMatchProposals],
  ['20261125080000_index_statement_lines_by_ids', indexStatementLinesByIds],
  ['20261125090000_matches_without_row_fk_checks', matchesWithoutRowFkChecks],
  ['20261126000000_lean_bulk_tables', leanBulkTables],
  ['20261126010000_matches_keyed_by_pair', matchesKeyedByPair],
  ['20261126020000_run_fee_checks', runFeeChecks],
  ['20261126030000_hash_statement_provider_txn', hashStatementProviderTxn],
  ['20261126040000_matches_by_run_brin', matchesByRunBrin],
  ['20261126050000_statement_extra_as_json', statementExtraAsJson],
  ['20261126060000_index_payments_by_provider_id', indexPaymentsByProviderId],
  ['20261126070000_run_items_without_row_fk_checks', runItemsWithoutRowFkChecks],
  ['20261126080000_statement_lines_by_file_brin', statementLinesByFileBrin],
  ['20261127000000_matches_indexed_for_daily_runs', matchesIndexedForDailyRuns],
  ['20261127010000_statement_extra_as_text', statementExtraAsText],
  ['20261127020000_statement_net_generated', statementNetGenerated],
];

/** A knex migration source over the list above (no directory scanning: works from src and from dist). */
export const migrationSource: Knex.MigrationSource<readonly [string, Migration]> = {
  async getMigrations() {
    return [...MIGRATIONS];
  },
  getMigrationName(entry) {
    return entry[0];
  },
  async getMigration(entry) {
    return entry[1];
  },
};
