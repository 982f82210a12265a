import type { Database, Tx } from '../db/database.js';
import { dayBounds } from '../core/time.js';
import type { ProviderId } from '../parsers/contract.js';
import { addBusinessDays, addDays, CALENDARS, type SettlementCalendar } from './calendars.js';
import { DISCREPANCY_IDENTITY_SQL, recordExceptions } from './exceptions.js';
import { matchRun } from './match.js';
import type { FeeSchedule } from './fees/index.js';
import type { MatchRule } from './rules.js';
import { summarise, type RunSummary } from './run.js';

export interface DailyRunRequest {
  provider: ProviderId;
  account: string;
  /** The bill date, `YYYY-MM-DD`, a calendar day in the provider's time zone. */
  date: string;
  statementFileIds: string[];
  calendar?: SettlementCalendar;
  /** Contracted fee schedules to check every statement line's fee against. */
  feeSchedules?: readonly FeeSchedule[];
  /** Matching rules in priority order (default DEFAULT_RULES). */
  rules?: readonly MatchRule[];
}

/** What a rerun changed against the day's previous version. */
export interface RunChanges {
  previousRunId: string | null;
  new: number;
  gone: number;
  changed: number;
  items: Array<{ change: 'new' | 'gone' | 'changed'; kind: string; type: string | null; provider_txn_id: string | null; order_id: string | null; ledger_id: string | null }>;
}

export interface DailyRunResult {
  runId: string;
  version: number;
  summary: RunSummary;
  changes: RunChanges;
}


// Key of a discrepancy across versions (the same as its exception's): the same movement, the same kind.
const IDENTITY_COLUMNS = `d.kind, coalesce(d.type, '') AS type, coalesce(d.provider_txn_id, '') AS provider_txn_id,
  coalesce(d.order_id, '') AS order_id, coalesce(d.ledger_id, '') AS ledger_id, ${DISCREPANCY_IDENTITY_SQL} AS identity`;

async function diffRuns(tx: Tx, previous: string | null, current: string): Promise<RunChanges> {
  if (previous === null) return { previousRunId: null, new: 0, gone: 0, changed: 0, items: [] };
  const rows = await tx.query<{ change: 'new' | 'gone' | 'changed'; kind: string; type: string; provider_txn_id: string; order_id: string; ledger_id: string }>(
    `WITH a AS (SELECT ${IDENTITY_COLUMNS}, statement_amount, ledger_amount, statement_fee, ledger_fee, currency FROM discrepancies d WHERE run_id = $1),
          b AS (SELECT ${IDENTITY_COLUMNS}, statement_amount, ledger_amount, statement_fee, ledger_fee, currency FROM discrepancies d WHERE run_id = $2)
     SELECT 'new' AS change, b.kind, b.type, b.provider_txn_id, b.order_id, b.ledger_id FROM b
      WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.identity = b.identity)
     UNION ALL
     SELECT 'gone', a.kind, a.type, a.provider_txn_id, a.order_id, a.ledger_id FROM a
      WHERE NOT EXISTS (SELECT 1 FROM b WHERE a.identity = b.identity)
     UNION ALL
     SELECT DISTINCT 'changed', b.kind, b.type, b.provider_txn_id, b.order_id, b.ledger_id FROM b JOIN a ON a.identity = b.identity
      WHERE (a.statement_amount, a.ledger_amount, a.statement_fee, a.ledger_fee, a.currency)
            IS DISTINCT FROM (b.statement_amount, b.ledger_amount, b.statement_fee, b.ledger_fee, b.currency)
     ORDER BY 1, 2, 4, 5, 6`,
    [previous, current],
  );
  const count = (c: string) => rows.filter((r) => r.change === c).length;
  const orNull = (v: string) => (v === '' ? null : v);
  return {
    previousRunId: previous,
    new: count('new'),
    gone: count('gone'),
    changed: count('changed'),
    items: rows.slice(0, 200).map((r) => ({ change: r.change, kind: r.kind, type: orNull(r.type), provider_txn_id: orNull(r.provider_txn_id), order_id: orNull(r.order_id), ledger_id: orNull(r.ledger_id) })),
  };
}

/**
 * The daily run of one (provider, account, bill date): the day's statement against the stored ledger,
 * carrying what the previous day left pending. It replaces the day's earlier run atomically (one
 * transaction; the earlier run stays as a superseded version) and records what changed. Concurrent
 * runs of the same day are serialised by an advisory lock.
 */
export async function reconcileDay(db: Database, req: DailyRunRequest): Promise<DailyRunResult> {
  const cal = req.calendar ?? CALENDARS[req.provider];
  const period = dayBounds(req.date, cal.timeZone);
  const lookbackStart = dayBounds(addDays(req.date, -cal.lookbackDays), cal.timeZone).start;
  const account = req.account;
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`recon-day:${req.provider}:${account}:${req.date}`]);
    const [previousVersion] = await tx.query<{ id: string; version: number }>(
      `SELECT id, version FROM recon_runs
        WHERE kind = 'daily' AND status = 'completed' AND provider = $1 AND coalesce(account, '') = $2 AND bill_date = $3`,
      [req.provider, account, req.date],
    );
    const [previousDay] = await tx.query<{ id: string }>(
      `SELECT id FROM recon_runs
        WHERE kind = 'daily' AND status = 'completed' AND provider = $1 AND coalesce(account, '') = $2 AND bill_date < $3
        ORDER BY bill_date DESC LIMIT 1`,
      [req.provider, account, req.date],
    );
    const version = (previousVersion?.version ?? 0) + 1;
    const [run] = await tx.query<{ id: string }>(
      `INSERT INTO recon_runs (provider, account, kind, bill_date, period_start, period_end, version)
       VALUES ($1, $2, 'daily', $3, $4, $5, $6) RETURNING id`,
      [req.provider, account, req.date, period.start, period.end, version],
    );
    const runId = String(run!.id);
    for (const fileId of req.statementFileIds) {
      await tx.query(`INSERT INTO recon_run_statements (run_id, statement_file_id) VALUES ($1, $2)`, [runId, fileId]);
    }
    const outcome = await matchRun(tx, {
      mode: 'daily',
      runId,
      provider: req.provider,
      account,
      statementFileIds: req.statementFileIds,
      periodStart: period.start,
      periodEnd: period.end,
      runDate: req.date,
      nextDate: addDays(req.date, 1),
      previousRunId: previousDay ? String(previousDay.id) : null,
      lookbackStart,
      cutoffGraceMinutes: cal.cutoffGraceMinutes,
      ledgerDueDate: addBusinessDays(req.date, cal.settlementLagBusinessDays, cal),
      ...(req.feeSchedules ? { feeSchedules: req.feeSchedules } : {}),
      ...(req.rules ? { rules: req.rules } : {}),
    });
    await recordExceptions(tx, { runId, provider: req.provider, account, date: req.date, previousVersionRunId: previousVersion ? String(previousVersion.id) : null });
    const summary = await summarise(tx, runId, { provider: req.provider, statementFileIds: req.statementFileIds, period }, outcome);
    const [counts] = await tx.query<{ pending: number; cleared: number }>(
      `SELECT (SELECT count(*) FROM pending_items WHERE run_id = $1)::int AS pending,
              (SELECT count(*) FROM cleared_items WHERE run_id = $1)::int AS cleared`,
      [runId],
    );
    summary.pending = counts!.pending;
    summary.cleared = counts!.cleared;
    const changes = await diffRuns(tx, previousVersion ? String(previousVersion.id) : null, runId);
    if (previousVersion) {
      await tx.query(`UPDATE recon_runs SET status = 'superseded', superseded_by = $2 WHERE id = $1`, [previousVersion.id, runId]);
    }
    await tx.query(
      `UPDATE recon_runs SET status = 'completed', finished_at = now(), summary = $2, changes = $3 WHERE id = $1`,
      [runId, JSON.stringify(summary), JSON.stringify(changes)],
    );
    return { runId, version, summary, changes };
  });
}

/** The current (completed) daily run of a day, if any. */
export async function currentDailyRun(db: Database, key: { provider: string; account: string; date: string }): Promise<{ id: string; version: number; summary: RunSummary; changes: RunChanges | null } | undefined> {
  const [row] = await db.query<{ id: string; version: number; summary: RunSummary; changes: RunChanges | null }>(
    `SELECT id, version, summary, changes FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND provider = $1 AND coalesce(account, '') = $2 AND bill_date = $3`,
    [key.provider, key.account, key.date],
  );
  return row ? { ...row, id: String(row.id) } : undefined;
}
