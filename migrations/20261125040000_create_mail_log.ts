import type { Knex } from 'knex';
import { execScript } from './exec-script.js';

/**
 * The morning mails that went out: one row per message, so a day's mail is sent once per (bill date,
 * recipients, set of runs) and a rerun of a day sends a marked correction instead of a second copy.
 * A row is claimed ('sending') before the message is handed to the SMTP server and marked 'sent' with
 * the server's message id after; the unique key makes concurrent senders of the same mail send it once.
 */
export async function up(knex: Knex): Promise<void> {
  await execScript(knex, `
    CREATE TABLE mail_log (
      id             bigserial PRIMARY KEY,
      bill_date      date NOT NULL,
      kind           text NOT NULL CHECK (kind IN ('original','correction','update')),
      providers      text[] NOT NULL,
      recipients     text[] NOT NULL,
      -- sorted, lower-cased recipients joined by ','
      recipient_key  text NOT NULL,
      -- [{provider, account, run_id, version}] of the runs the mail reported
      runs           jsonb NOT NULL,
      -- the runs' ids, sorted, joined by ','
      run_key        text NOT NULL,
      subject        text NOT NULL,
      message_id     text,
      status         text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending','sent')),
      created_at     timestamptz NOT NULL DEFAULT now(),
      sent_at        timestamptz,
      UNIQUE (bill_date, recipient_key, run_key)
    );
    CREATE INDEX mail_log_day ON mail_log (bill_date, recipient_key);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await execScript(knex, `DROP TABLE IF EXISTS mail_log;`);
}
