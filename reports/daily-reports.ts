import { join } from 'node:path';
import type { Database } from '../db/database.js';
import { currentDailyRun } from '../reconcile/daily.js';
import { writeRunReports, type RunReportFiles } from './write-run-reports.js';

export type DailyReportFiles = RunReportFiles & { dir: string; runId: string; version: number };

/**
 * Writes the current daily run's reports of (provider, account, date) into
 * `<reportsDir>/<yyyy-mm-dd>/<provider>/` (CONTRACT.md), replacing the day's earlier files.
 */
export async function writeDailyReports(db: Database, key: { provider: string; account: string; date: string }, reportsDir: string): Promise<DailyReportFiles> {
  const run = await currentDailyRun(db, key);
  if (!run) throw new Error(`${key.provider} ${key.date}: the day has not been reconciled yet`);
  const ids = await db.query<{ statement_file_id: string }>(`SELECT statement_file_id FROM recon_run_statements WHERE run_id = $1 ORDER BY statement_file_id`, [run.id]);
  const dir = join(reportsDir, key.date, key.provider);
  const files = await writeRunReports(db, run.summary, ids.map((r) => String(r.statement_file_id)), dir, { daily: true });
  return { ...files, dir, runId: run.id, version: run.version };
}
