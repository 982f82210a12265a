import type { Database, Sql, Tx } from '../db/database.js';
import { UsageError } from '../core/errors.js';

export const EXCEPTION_STATUSES = ['open', 'explained', 'resolved', 'written_off'] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/** What a discrepancy is about, the same across reruns and versions of a day (SQL over `discrepancies d`). */
export const DISCREPANCY_IDENTITY_SQL = `d.kind || '|' || coalesce(d.type, '') || '|' || coalesce(d.provider_txn_id, '') || '|' || coalesce(d.order_id, '') || '|' || coalesce(d.ledger_id, '') || '|' || coalesce(d.fee_basis, '')`;

/**
 * Brings the exceptions up to date with a daily run, inside the run's transaction: a discrepancy seen
 * for the first time opens an exception; one seen again refreshes its figures and keeps its status,
 * note and history (a rerun never loses what people wrote). An exception that a person had closed and
 * that is reported again on a later day is reopened (its history shows `seen again` with the new
 * status); one that a rerun of the same day no longer reports is gone.
 */
export async function recordExceptions(tx: Tx, run: { runId: string; provider: string; account: string; date: string; previousVersionRunId: string | null }): Promise<void> {
  await tx.query(
    `WITH seen AS (
       SELECT DISTINCT ON (${DISCREPANCY_IDENTITY_SQL}) ${DISCREPANCY_IDENTITY_SQL} AS identity, d.*
         FROM discrepancies d WHERE d.run_id = $1
        ORDER BY ${DISCREPANCY_IDENTITY_SQL}, d.ord
     ), upserted AS (
       INSERT INTO exceptions AS e (provider, account, identity, kind, type, provider_txn_id, order_id, ledger_id, currency,
                                    first_seen_on, last_seen_on, last_run_id, details)
       SELECT $2, $3, s.identity, s.kind, s.type, s.provider_txn_id, s.order_id, s.ledger_id, s.currency, $4::date, $4::date, $1,
              jsonb_build_object('statement_amount', s.statement_amount, 'ledger_amount', s.ledger_amount,
                                 'statement_fee', s.statement_fee, 'ledger_fee', s.ledger_fee)
         FROM seen s
       ON CONFLICT (provider, account, identity) DO UPDATE SET
         last_seen_on = GREATEST(e.last_seen_on, EXCLUDED.last_seen_on),
         last_run_id = EXCLUDED.last_run_id,
         details = EXCLUDED.details,
         status = CASE WHEN e.status IN ('resolved', 'written_off') AND EXCLUDED.last_seen_on > e.last_seen_on THEN 'open' ELSE e.status END,
         updated_at = now()
       RETURNING e.id, (xmax = 0) AS inserted, e.status
     )
     INSERT INTO exception_history (exception_id, actor, event, to_status, run_id)
     SELECT id, 'recon', CASE WHEN inserted THEN 'opened' ELSE 'seen again' END, status, $1 FROM upserted`,
    [run.runId, run.provider, run.account, run.date],
  );
  if (run.previousVersionRunId === null) return;
  // What the day's earlier version reported and this rerun no longer does is gone: an open exception
  // is resolved by the rerun (a person's explanation or write-off stays as it is); the history says so.
  await tx.query(
    `WITH gone AS (
       SELECT e.id, e.status FROM exceptions e
        WHERE e.provider = $2 AND e.account = $3 AND e.last_run_id = $4
          AND NOT EXISTS (SELECT 1 FROM discrepancies d WHERE d.run_id = $1 AND ${DISCREPANCY_IDENTITY_SQL} = e.identity)
     ), closed AS (
       UPDATE exceptions e SET status = CASE WHEN e.status = 'open' THEN 'resolved' ELSE e.status END,
                               last_run_id = $1, updated_at = now()
         FROM gone WHERE e.id = gone.id
       RETURNING e.id, gone.status AS from_status, e.status AS to_status
     )
     INSERT INTO exception_history (exception_id, actor, event, from_status, to_status, run_id)
     SELECT id, 'recon', 'gone on rerun', from_status, to_status, $1 FROM closed`,
    [run.runId, run.provider, run.account, run.previousVersionRunId],
  );
}

export interface ExceptionRow {
  id: string;
  provider: string;
  account: string;
  kind: string;
  type: string | null;
  provider_txn_id: string | null;
  order_id: string | null;
  ledger_id: string | null;
  currency: string | null;
  first_seen_on: string;
  last_seen_on: string;
  status: ExceptionStatus;
  note: string | null;
}

export async function listExceptions(db: Sql, filter: { provider?: string; status?: string; from?: string; to?: string } = {}): Promise<ExceptionRow[]> {
  if (filter.status !== undefined && !(EXCEPTION_STATUSES as readonly string[]).includes(filter.status)) {
    throw new UsageError(`--status ${JSON.stringify(filter.status)} is not one of ${EXCEPTION_STATUSES.join(', ')}`);
  }
  return db.query<ExceptionRow>(
    `SELECT id::text, provider, account, kind, type, provider_txn_id, order_id, ledger_id, currency,
            first_seen_on::text, last_seen_on::text, status, note
       FROM exceptions
      WHERE ($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR status = $2)
        AND ($3::date IS NULL OR last_seen_on >= $3) AND ($4::date IS NULL OR first_seen_on <= $4)
      ORDER BY last_seen_on DESC, id`,
    [filter.provider ?? null, filter.status ?? null, filter.from ?? null, filter.to ?? null],
  );
}

/** A person changes an exception's status and writes why; the history keeps every step. */
export async function resolveException(db: Database, args: { id: string; status: string; note: string; actor: string }): Promise<ExceptionRow> {
  if (!(EXCEPTION_STATUSES as readonly string[]).includes(args.status)) {
    throw new UsageError(`--status ${JSON.stringify(args.status)} is not one of ${EXCEPTION_STATUSES.join(', ')}`);
  }
  if (args.note.trim() === '') throw new UsageError('--note is required: say why');
  return db.transaction(async (tx) => {
    const [before] = await tx.query<{ status: string }>(`SELECT status FROM exceptions WHERE id = $1 FOR UPDATE`, [args.id]);
    if (!before) throw new UsageError(`no exception ${args.id}`);
    await tx.query(`UPDATE exceptions SET status = $2, note = $3, updated_at = now() WHERE id = $1`, [args.id, args.status, args.note]);
    await tx.query(
      `INSERT INTO exception_history (exception_id, actor, event, from_status, to_status, note) VALUES ($1, $2, 'status', $3, $4, $5)`,
      [args.id, args.actor, before.status, args.status, args.note],
    );
    const [row] = await tx.query<ExceptionRow>(
      `SELECT id::text, provider, account, kind, type, provider_txn_id, order_id, ledger_id, currency,
              first_seen_on::text, last_seen_on::text, status, note FROM exceptions WHERE id = $1`,
      [args.id],
    );
    return row!;
  });
}

export async function exceptionHistory(db: Sql, id: string): Promise<Array<{ actor: string; event: string; from_status: string | null; to_status: string | null; note: string | null }>> {
  return db.query(`SELECT actor, event, from_status, to_status, note FROM exception_history WHERE exception_id = $1 ORDER BY id`, [id]);
}
