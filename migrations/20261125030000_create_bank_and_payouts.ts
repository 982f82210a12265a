import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

// Money: numeric(24,6) (as in the core schema). Rates: numeric(24,12).
const MONEY = 'numeric(24,6)';
const RATE = 'numeric(24,12)';

/**
 * Bank statements (camt.053, MT940) and provider payouts, for payout ↔ bank-deposit matching.
 *
 * Signs: a bank line is signed from the account holder's view (credit +, debit −). A payout is signed
 * from the merchant's view on the PROVIDER side: money leaving the provider balance for the bank is
 * negative; the bank deposit that answers it is positive. `lines_total` is −Σ net of the payout's lines,
 * in the payout's sign, so that a payout that equals its lines has `amount = lines_total`.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE TABLE bank_statement_files (
      id              bigserial PRIMARY KEY,
      sha256          char(64) NOT NULL UNIQUE,
      size_bytes      bigint NOT NULL,
      original_name   text NOT NULL,
      archive_path    text NOT NULL,
      format          text,
      message_id      text,
      account         text,
      currency        char(3),
      period_from     date,
      period_to       date,
      line_count      integer,
      statements      jsonb,
      controls        jsonb,
      warnings        jsonb,
      source          text NOT NULL DEFAULT 'cli',
      received_at     timestamptz NOT NULL DEFAULT now(),
      loaded_at       timestamptz
    );

    CREATE TABLE bank_lines (
      id                      bigserial PRIMARY KEY,
      bank_statement_file_id  bigint NOT NULL REFERENCES bank_statement_files(id) ON DELETE CASCADE,
      line_no                 integer NOT NULL,
      source_line             integer NOT NULL,
      statement_id            text NOT NULL,
      statement_index         integer NOT NULL,
      entry_index             integer NOT NULL,
      account                 text NOT NULL,
      currency                char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      amount                  ${MONEY} NOT NULL,
      booking_date            date NOT NULL,
      value_date              date,
      entry_ref               text,
      end_to_end_id           text,
      refs                    jsonb,
      remittance              text,
      additional_info         text,
      counterparty_name       text,
      counterparty_account    text,
      bank_tx_code            text,
      status                  text NOT NULL CHECK (status IN ('BOOK','PDNG','INFO','FUTR')),
      reversal                boolean NOT NULL DEFAULT false,
      batch                   jsonb,
      UNIQUE (bank_statement_file_id, line_no)
    );
    CREATE INDEX bank_lines_currency_amount ON bank_lines (currency, amount);
    CREATE INDEX bank_lines_value_date ON bank_lines (value_date);

    CREATE TABLE payouts (
      id                  bigserial PRIMARY KEY,
      provider            text NOT NULL,
      account             text NOT NULL DEFAULT '',
      payout_key          text NOT NULL,
      reference           text,
      refs                text[] NOT NULL DEFAULT '{}',
      currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      amount              ${MONEY} NOT NULL,
      expected_date       date NOT NULL,
      lines_total         ${MONEY},
      line_count          integer NOT NULL DEFAULT 0,
      fx_currency         char(3) CHECK (fx_currency ~ '^[A-Z]{3}$'),
      fx_rate             ${RATE},
      fx_amount           ${MONEY},
      source_line_ids     bigint[] NOT NULL,
      derived_at          timestamptz NOT NULL DEFAULT now(),
      UNIQUE (provider, account, payout_key, currency),
      CHECK ((fx_currency IS NULL) = (fx_rate IS NULL))
    );
    CREATE INDEX payouts_expected ON payouts (provider, expected_date);

    CREATE TABLE payout_matches (
      id                    bigserial PRIMARY KEY,
      payout_id             bigint REFERENCES payouts(id) ON DELETE CASCADE,
      bank_line_id          bigint REFERENCES bank_lines(id) ON DELETE CASCADE,
      provider              text NOT NULL,
      status                text NOT NULL CHECK (status IN ('matched','payout_amount_mismatch','payout_currency_mismatch','payout_missing_in_bank','payout_pending','deposit_without_payout')),
      rule                  text CHECK (rule IN ('reference','amount_in_window')),
      lag_days              integer,
      expected_bank_amount  ${MONEY},
      amount_difference     ${MONEY},
      fx_difference         ${MONEY},
      as_of                 date NOT NULL,
      matched_at            timestamptz NOT NULL DEFAULT now(),
      CHECK (payout_id IS NOT NULL OR bank_line_id IS NOT NULL)
    );
    CREATE UNIQUE INDEX payout_matches_payout ON payout_matches (payout_id) WHERE payout_id IS NOT NULL;
    CREATE UNIQUE INDEX payout_matches_bank_line ON payout_matches (bank_line_id) WHERE bank_line_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP TABLE IF EXISTS payout_matches, payouts, bank_lines, bank_statement_files CASCADE;
  `);
}
