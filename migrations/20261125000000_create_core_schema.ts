import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

// Money columns: numeric(24,6) holds any amount to the micro-unit (WeChat fees have 5 decimals, KWD 3).
// Rates: numeric(24,12). Never knex's default decimal(8,2).
const MONEY = 'numeric(24,6)';

export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE TABLE statement_files (
      id              bigserial PRIMARY KEY,
      provider        text NOT NULL,
      account         text,
      sha256          char(64) NOT NULL,
      size_bytes      bigint NOT NULL,
      original_name   text NOT NULL,
      archive_path    text NOT NULL,
      layout          text,
      period_start    timestamptz,
      period_end      timestamptz,
      bill_date       date,
      time_zone       text,
      line_count      integer,
      controls        jsonb,
      source          text NOT NULL DEFAULT 'cli',
      received_at     timestamptz NOT NULL DEFAULT now(),
      loaded_at       timestamptz,
      UNIQUE (provider, sha256)
    );

    CREATE TABLE statement_lines (
      id                 bigserial PRIMARY KEY,
      statement_file_id  bigint NOT NULL REFERENCES statement_files(id) ON DELETE CASCADE,
      line_no            integer NOT NULL,
      source_member      text,
      source_line        integer NOT NULL,
      provider           text NOT NULL,
      type               text NOT NULL CHECK (type IN ('payment','refund','chargeback','fee','payout','transfer','adjustment')),
      provider_txn_id    text,
      parent_txn_id      text,
      merchant_ref       text,
      merchant_order_id  text,
      gross              ${MONEY} NOT NULL,
      fee                ${MONEY} NOT NULL,
      net                ${MONEY} NOT NULL,
      currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      original_amount    ${MONEY},
      original_currency  char(3) CHECK (original_currency ~ '^[A-Z]{3}$'),
      occurred_at        timestamptz NOT NULL,
      payment_method     text,
      wallet             text,
      status             text,
      description        text,
      needs_review       boolean NOT NULL DEFAULT false,
      txn_key            text,
      ref_key            text,
      extra              jsonb,
      UNIQUE (statement_file_id, line_no),
      CHECK (net = gross - fee)
    );
    CREATE INDEX statement_lines_txn_key ON statement_lines (provider, txn_key);
    CREATE INDEX statement_lines_ref_key ON statement_lines (provider, ref_key);

    CREATE TABLE ledger_imports (
      id             bigserial PRIMARY KEY,
      file_name      text NOT NULL,
      sha256         char(64) NOT NULL,
      row_count      integer NOT NULL,
      imported_at    timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE ledger_entries (
      id               bigserial PRIMARY KEY,
      ledger_id        text NOT NULL UNIQUE,
      provider         text NOT NULL,
      type             text NOT NULL CHECK (type IN ('payment','refund','chargeback')),
      order_id         text,
      provider_txn_id  text,
      amount           ${MONEY} NOT NULL CHECK (amount >= 0),
      fee              ${MONEY},
      currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      booked_at        timestamptz NOT NULL,
      txn_key          text,
      ref_key          text,
      import_id        bigint REFERENCES ledger_imports(id),
      source_line      integer,
      extra            jsonb,
      updated_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX ledger_entries_txn_key ON ledger_entries (provider, txn_key);
    CREATE INDEX ledger_entries_ref_key ON ledger_entries (provider, ref_key);
    CREATE INDEX ledger_entries_booked ON ledger_entries (provider, booked_at);

    CREATE TABLE recon_runs (
      id               bigserial PRIMARY KEY,
      provider         text NOT NULL,
      account          text,
      kind             text NOT NULL CHECK (kind IN ('adhoc','daily')),
      bill_date        date,
      period_start     timestamptz NOT NULL,
      period_end       timestamptz NOT NULL,
      ledger_import_id bigint REFERENCES ledger_imports(id),
      status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running','completed','failed','superseded')),
      started_at       timestamptz NOT NULL DEFAULT now(),
      finished_at      timestamptz,
      summary          jsonb
    );

    CREATE TABLE recon_run_statements (
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      statement_file_id  bigint NOT NULL REFERENCES statement_files(id),
      PRIMARY KEY (run_id, statement_file_id)
    );

    CREATE TABLE matches (
      id                 bigserial PRIMARY KEY,
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      statement_line_id  bigint NOT NULL REFERENCES statement_lines(id),
      ledger_entry_id    bigint NOT NULL REFERENCES ledger_entries(id),
      rule               text NOT NULL,
      -- the rows one rule paired together: one line and one row, or a 1:N / N:1 group
      group_no           bigint NOT NULL,
      UNIQUE (run_id, statement_line_id, ledger_entry_id)
    );

    CREATE TABLE discrepancies (
      id                 bigserial PRIMARY KEY,
      run_id             bigint NOT NULL REFERENCES recon_runs(id) ON DELETE CASCADE,
      ord                integer NOT NULL,
      kind               text NOT NULL CHECK (kind IN ('missing_in_ledger','missing_in_statement','amount_mismatch','fee_mismatch','currency_mismatch','duplicate_in_statement','duplicate_in_ledger')),
      provider           text NOT NULL,
      type               text,
      provider_txn_id    text,
      order_id           text,
      currency           text,
      statement_amount   ${MONEY},
      ledger_amount      ${MONEY},
      statement_fee      ${MONEY},
      ledger_fee         ${MONEY},
      ledger_id          text,
      statement_line_id  bigint REFERENCES statement_lines(id),
      ledger_entry_id    bigint REFERENCES ledger_entries(id),
      ledger_currency    text,
      UNIQUE (run_id, ord)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP TABLE IF EXISTS discrepancies, matches, recon_run_statements, recon_runs,
      ledger_entries, ledger_imports, statement_lines, statement_files CASCADE;
  `);
}
