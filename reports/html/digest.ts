import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Sql } from '../../db/database.js';
import { Decimal } from '../../core/money/index.js';
import type { RunChanges } from '../../reconcile/daily.js';
import { DISCREPANCY_KINDS } from '../../reconcile/match.js';
import type { RunSummary } from '../../reconcile/run.js';
import { dayCharts, matchRate, type DayCharts } from '../charts/index.js';
import { discrepancyRows } from '../discrepancy-rows.js';
import { maskValue, PersonalData } from '../mail/mask.js';

/** One discrepancy as the mail and the page show it: ids kept, personal data masked. */
export interface ShownDiscrepancy {
  kind: string;
  type: string;
  provider_txn_id: string;
  order_id: string;
  ledger_id: string;
  currency: string;
  statement_amount: string;
  ledger_amount: string;
  difference: string;
  /** The payer, masked (from the statement line's or ledger row's payer fields), or ''. */
  payer: string;
  status: string;
  note: string;
}

/** The current daily run of one (provider, account) on the day, with what the mail and page show of it. */
export interface RunDigest {
  provider: string;
  account: string;
  runId: string;
  version: number;
  finishedAt: string | null;
  summary: RunSummary;
  /** What this run changed against the day's previous version (null for a first run). */
  changes: RunChanges | null;
  matchRate: number | null;
  discrepancyTotal: number;
  /** The largest discrepancies (by amount), at most `top` of them. */
  top: ShownDiscrepancy[];
  /** The provider's report folder `<reportsDir>/<date>/<provider>` and the report files found in it. */
  reportDir: string;
  files: string[];
}

export interface DayDigest {
  date: string;
  reportsDir: string;
  runs: RunDigest[];
  charts: DayCharts;
  generatedAt: string;
}

/** Report files of a provider's day folder, in the order the page lists them. */
export const REPORT_FILES = ['reconciliation.xlsx', 'discrepancies.csv', 'pending.csv', 'cleared.csv', 'summary.json', 'report.html'] as const;

/** What the payer column shows: a name if the provider gave one, else an e-mail address, else an id. */
function preferredPayer(found: Array<{ key: string; value: string }>): string {
  const rank = (k: string) => (/name|姓名|counterparty|对方|买家/i.test(k) ? 0 : /mail|邮箱/i.test(k) ? 1 : 2);
  return [...found].sort((a, b) => rank(a.key) - rank(b.key))[0]!.value;
}

const parseJson = <T>(v: T | string | null): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

function magnitude(r: { statement_amount: string; ledger_amount: string; difference: string }): Decimal {
  let best = new Decimal(0);
  for (const v of [r.statement_amount, r.ledger_amount, r.difference]) if (v !== '') best = Decimal.max(best, new Decimal(v).abs());
  return best;
}

/**
 * Everything the morning mail and the HTML report show of a day: the current daily run of every
 * (provider, account) of `date` (all providers, or the given ones), their figures, their largest
 * discrepancies with personal data masked, and the charts.
 */
export async function dayDigest(db: Sql, opts: { date: string; providers?: readonly string[]; reportsDir: string; top?: number; chartDays?: number }): Promise<DayDigest> {
  const reportsDir = resolve(opts.reportsDir);
  const runs = await db.query<{ id: string; provider: string; account: string | null; version: number; finished_at: Date | null; summary: RunSummary | string; changes: RunChanges | string | null }>(
    `SELECT id::text AS id, provider, account, version, finished_at, summary, changes FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND summary IS NOT NULL AND bill_date = $1::date
        AND ($2::text[] IS NULL OR provider = ANY($2::text[]))
      ORDER BY provider, coalesce(account, ''), id`,
    [opts.date, opts.providers ? [...opts.providers] : null],
  );
  const out: RunDigest[] = [];
  for (const run of runs) {
    const summary = parseJson(run.summary)!;
    const rows = await discrepancyRows(db, run.id);
    const personal = new PersonalData();
    const extras = await db.query<{ kind: string; provider_txn_id: string | null; order_id: string | null; ledger_id: string | null; line_extra: unknown; ledger_extra: unknown }>(
      `SELECT d.kind, d.provider_txn_id, d.order_id, d.ledger_id, sl.extra::json AS line_extra, le.extra AS ledger_extra
         FROM discrepancies d
         LEFT JOIN statement_lines sl ON sl.id = d.statement_line_id
         LEFT JOIN ledger_entries le ON le.id = d.ledger_entry_id
        WHERE d.run_id = $1 ORDER BY d.ord`,
      [run.id],
    );
    const payerOf = new Map<string, string>();
    for (const e of extras) {
      const found = [...personal.addExtra(e.line_extra), ...personal.addExtra(e.ledger_extra)];
      const key = [e.kind, e.provider_txn_id ?? '', e.order_id ?? '', e.ledger_id ?? ''].join('\u0000');
      if (found.length > 0 && !payerOf.has(key)) payerOf.set(key, preferredPayer(found));
    }
    const ranked = rows
      .map((r, i) => ({ r, i, m: magnitude(r) }))
      .sort((a, b) => b.m.comparedTo(a.m) || a.i - b.i)
      .slice(0, opts.top ?? 10)
      .map(({ r }) => {
        const payer = payerOf.get([r.kind, r.provider_txn_id, r.order_id, r.ledger_id].join('\u0000'));
        return {
          kind: r.kind,
          type: r.type,
          provider_txn_id: personal.maskId(r.provider_txn_id),
          order_id: personal.maskId(r.order_id),
          ledger_id: personal.maskId(r.ledger_id),
          currency: r.currency,
          statement_amount: r.statement_amount,
          ledger_amount: r.ledger_amount,
          difference: r.difference,
          payer: payer ? maskValue(payer) : '',
          status: r.status,
          note: personal.maskText(r.note),
        } satisfies ShownDiscrepancy;
      });
    const reportDir = join(reportsDir, opts.date, run.provider);
    out.push({
      provider: run.provider,
      account: run.account ?? '',
      runId: run.id,
      version: run.version,
      finishedAt: run.finished_at ? new Date(run.finished_at).toISOString() : null,
      summary,
      changes: parseJson(run.changes),
      matchRate: matchRate(summary),
      discrepancyTotal: DISCREPANCY_KINDS.reduce((s, k) => s + (summary.discrepancies[k] ?? 0), 0),
      top: ranked,
      reportDir,
      files: REPORT_FILES.filter((f) => existsSync(join(reportDir, f))),
    });
  }
  const providers = opts.providers ?? [...new Set(out.map((r) => r.provider))];
  const charts = await dayCharts(db, { date: opts.date, providers, ...(opts.chartDays ? { days: opts.chartDays } : {}) });
  return { date: opts.date, reportsDir, runs: out, charts, generatedAt: new Date().toISOString() };
}
