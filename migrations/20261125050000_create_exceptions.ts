import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * Exceptions: the people's side of a discrepancy. A discrepancy a daily run reports becomes (or
 * refreshes) an exception identified by provider, account and what it is about (kind, type, provider
 * id, merchant reference, ledger id), so a rerun finds the same exception again and keeps its status,
 * note and history.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE TABLE exceptions (
      id               bigserial PRIMARY KEY,
      provider         text NOT NULL,
      account          text NOT NULL DEFAULT '',
      identity         text NOT NULL,
      kind             text NOT NULL,
      type             text,
      provider_txn_id  text,
      order_id         text,
      ledger_id        text,
      currency         text,
      first_seen_on    date NOT NULL,
      last_seen_on     date NOT NULL,
      last_run_id      bigint REFERENCES recon_runs(id),
      status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open','explained','resolved','written_off')),
      note             text,
      details          jsonb,
      updated_at       timestamptz NOT NULL DEFAULT now(),
      UNIQUE (provider, account, identity)
    );
    CREATE INDEX exceptions_status ON exceptions (status, provider);

    CREATE TABLE exception_history (
      id            bigserial PRIMARY KEY,
      exception_id  bigint NOT NULL REFERENCES exceptions(id) ON DELETE CASCADE,
      at            timestamptz NOT NULL DEFAULT now(),
      actor         text NOT NULL,
      event         text NOT NULL,
      from_status   text,
      to_status     text,
      note          text,
      run_id        bigint REFERENCES recon_runs(id)
    );
    CREATE INDEX exception_history_exception ON exception_history (exception_id, id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `DROP TABLE IF EXISTS exception_history, exceptions;`);
}
