import type { Database, Tx } from '../db/database.js';
import { Decimal, formatAmount } from '../core/money/index.js';
import { DISCREPANCY_KINDS, matchRun, pairedIn, type DiscrepancyKind, type MatchOutcome, type MatchScope } from './match.js';
import type { FeeSchedule } from './fees/index.js';
import type { MatchRule } from './rules.js';

export interface RunSummary {
  provider: string;
  statement_lines: number;
  ledger_rows: number;
  matched: number;
  discrepancies: Record<DiscrepancyKind, number>;
  totals: Record<string, { statement_gross: string; statement_fee: string; statement_net: string; ledger_amount: string }>;
  run_id: string;
  period: { start: string; end: string };
  matched_by_rule: Record<string, number>;
  statement_lines_by_type: Record<string, number>;
  statements: Array<{ file: string; sha256: string; layout: string; lines: number }>;
  /** Daily runs: items waiting for a later day, and earlier items paired today. */
  pending?: number;
  cleared?: number;
}

export interface RunRequest {
  provider: string;
  kind: 'adhoc' | 'daily';
  statementFileIds: string[];
  period: { start: Date; end: Date };
  billDate: string | null;
  ledgerImportId: string | null;
  /** Contracted fee schedules to check every statement line's fee against. */
  feeSchedules?: readonly FeeSchedule[];
  /** Matching rules in priority order (default DEFAULT_RULES). */
  rules?: readonly MatchRule[];
}

/** How many lines of the run's statements have a type, in type order. */
export interface LineTypeCount {
  type: string;
  n: number;
}

/**
 * The run's figures, read from its scratch tables and results (inside the run's transaction).
 * `known.lineTypes`: the statements' line counts by type, when the caller reads them elsewhere (its
 * statements are committed, so another connection can count them while this one matches).
 */
export async function summarise(
  tx: Tx,
  runId: string,
  req: Pick<RunRequest, 'provider' | 'statementFileIds' | 'period'>,
  outcome: MatchOutcome,
  known: { lineTypes?: () => Promise<LineTypeCount[]> } = {},
): Promise<RunSummary> {
  // Each line of the run is one row of `rs` (lines that are not payments, refunds or chargebacks are
  // counted from the statement), paired by at most one rule: the rules counted what they paired.
  const matchedByRule = new Map<string, number>();
  for (const p of outcome.pairs) matchedByRule.set(p.rule, (matchedByRule.get(p.rule) ?? 0) + p.lines);
  const kinds = await tx.query<{ kind: DiscrepancyKind; n: number }>(
    `SELECT kind, count(*)::int AS n FROM discrepancies WHERE run_id = $1 GROUP BY kind`,
    [runId],
  );
  const types = known.lineTypes
    ? await known.lineTypes()
    : await tx.query<LineTypeCount>(
        `SELECT type, count(*)::int AS n FROM statement_lines WHERE statement_file_id = ANY($1::bigint[]) GROUP BY type ORDER BY type`,
        [req.statementFileIds],
      );
  const statementLines = types.reduce((n, t) => n + t.n, 0);
  // The ledger side counts the run's own rows: those due in it, and earlier or later ones it paired.
  const ownLedger = `NOT l.carried AND (l.due_date IS NOT NULL OR ${pairedIn('l', 'ul')})`;
  const totals = await tx.query<{ currency: string; gross: string; fee: string; net: string; ledger: string; rows: number }>(
    `WITH st AS (
       -- this run's own lines and rows: items carried from an earlier day were counted on their day
       SELECT currency, sum(gross) AS gross, sum(fee) AS fee, sum(net) AS net FROM rs WHERE NOT carried GROUP BY currency
     ), lt AS (
       SELECT currency, sum(signed_amount) AS ledger, count(*) AS rows FROM rl l WHERE ${ownLedger} GROUP BY currency
     )
     SELECT coalesce(st.currency, lt.currency) AS currency,
            coalesce(st.gross, 0)::text AS gross, coalesce(st.fee, 0)::text AS fee,
            coalesce(st.net, 0)::text AS net, coalesce(lt.ledger, 0)::text AS ledger, coalesce(lt.rows, 0)::int AS rows
       FROM st FULL JOIN lt ON lt.currency = st.currency
      ORDER BY 1`,
  );
  const files = await tx.query<{ original_name: string; sha256: string; layout: string; line_count: number }>(
    `SELECT original_name, sha256, layout, line_count FROM statement_files WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [req.statementFileIds],
  );
  const fmt = (v: string, ccy: string) => formatAmount(new Decimal(v), ccy);
  return {
    provider: req.provider,
    statement_lines: statementLines,
    ledger_rows: totals.reduce((n, t) => n + t.rows, 0),
    matched: [...matchedByRule.values()].reduce((n, m) => n + m, 0),
    discrepancies: Object.fromEntries(DISCREPANCY_KINDS.map((k) => [k, kinds.find((r) => r.kind === k)?.n ?? 0])) as Record<DiscrepancyKind, number>,
    totals: Object.fromEntries(
      totals.map((t) => [
        t.currency.trim(),
        {
          statement_gross: fmt(t.gross, t.currency.trim()),
          statement_fee: fmt(t.fee, t.currency.trim()),
          statement_net: fmt(t.net, t.currency.trim()),
          ledger_amount: fmt(t.ledger, t.currency.trim()),
        },
      ]),
    ),
    run_id: runId,
    period: { start: req.period.start.toISOString(), end: req.period.end.toISOString() },
    matched_by_rule: Object.fromEntries([...matchedByRule].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    statement_lines_by_type: Object.fromEntries(types.map((t) => [t.type, t.n])),
    statements: files.map((f) => ({ file: f.original_name, sha256: f.sha256.trim(), layout: f.layout, lines: f.line_count })),
  };
}

/**
 * One ad-hoc reconciliation run: pairs the statements' lines with the ledger and records matches,
 * discrepancies and the summary, all in one transaction (a run either completes or leaves nothing).
 */
export async function reconcileRun(db: Database, req: RunRequest): Promise<RunSummary> {
  return db.transaction((tx) => reconcileRunIn(tx, req));
}

/** The run's day: the bill date, else the last day of the period (every ad-hoc row is due at once). */
export const adhocRunDate = (req: Pick<RunRequest, 'billDate' | 'period'>): string => req.billDate ?? req.period.end.toISOString().slice(0, 10);

/**
 * The same inside the caller's transaction. `ledgerPrepared`: the ledger side was made beforehand in
 * this transaction (`prepareAdhocLedger`, for the request's provider, import, period and day).
 * `onCandidates`: as for `matchRun`; `lineTypes`: as for `summarise`.
 */
export async function reconcileRunIn(
  tx: Tx,
  req: RunRequest,
  opts: { ledgerPrepared?: boolean; onCandidates?: () => void; lineTypes?: () => Promise<LineTypeCount[]> } = {},
): Promise<RunSummary> {
  const [run] = await tx.query<{ id: string }>(
    `INSERT INTO recon_runs (provider, kind, bill_date, period_start, period_end, ledger_import_id)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [req.provider, req.kind, req.billDate, req.period.start, req.period.end, req.ledgerImportId],
  );
  const runId = String(run!.id);
  for (const fileId of req.statementFileIds) {
    await tx.query(`INSERT INTO recon_run_statements (run_id, statement_file_id) VALUES ($1, $2)`, [runId, fileId]);
  }
  const scope: MatchScope = {
    mode: 'adhoc',
    runId,
    provider: req.provider,
    statementFileIds: req.statementFileIds,
    periodStart: req.period.start,
    periodEnd: req.period.end,
    runDate: adhocRunDate(req),
    ledgerImportId: req.ledgerImportId,
    ...(req.feeSchedules ? { feeSchedules: req.feeSchedules } : {}),
    ...(req.rules ? { rules: req.rules } : {}),
  };
  const outcome = await matchRun(tx, scope, { ledgerPrepared: opts.ledgerPrepared === true, ...(opts.onCandidates ? { onCandidates: opts.onCandidates } : {}) });
  const summary = await summarise(tx, runId, req, outcome, opts.lineTypes ? { lineTypes: opts.lineTypes } : {});
  await tx.query(`UPDATE recon_runs SET status = 'completed', finished_at = now(), summary = $2 WHERE id = $1`, [runId, JSON.stringify(summary)]);
  return summary;
}
