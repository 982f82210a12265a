import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/** Downloads: every fetch of a (provider, account, bill date), what it brought, and how it ended. */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    ALTER TABLE statement_files ADD COLUMN fetched_at timestamptz;
    ALTER TABLE statement_files ADD COLUMN integrity jsonb;

    CREATE TABLE fetches (
      id            bigserial PRIMARY KEY,
      provider      text NOT NULL,
      account       text NOT NULL,
      bill_date     date NOT NULL,
      started_at    timestamptz NOT NULL DEFAULT now(),
      finished_at   timestamptz,
      status        text NOT NULL CHECK (status IN ('running','fetched','empty','failed')),
      error         text,
      notes         jsonb
    );
    CREATE INDEX fetches_day ON fetches (provider, account, bill_date);

    CREATE TABLE fetch_files (
      fetch_id           bigint NOT NULL REFERENCES fetches(id) ON DELETE CASCADE,
      statement_file_id  bigint NOT NULL REFERENCES statement_files(id),
      PRIMARY KEY (fetch_id, statement_file_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `
    DROP TABLE IF EXISTS fetch_files, fetches;
    ALTER TABLE statement_files DROP COLUMN IF EXISTS integrity;
    ALTER TABLE statement_files DROP COLUMN IF EXISTS fetched_at;
  `);
}
