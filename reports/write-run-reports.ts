import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Database } from '../db/database.js';
import { removeAbandonedTemps, tempPathFor } from '../core/atomic-files.js';
import type { RunSummary } from '../reconcile/run.js';
import { discrepancyRowPages, rowsOf, timingRows } from './discrepancy-rows.js';
import { writeDiscrepanciesCsv } from './discrepancies-csv.js';
import { feeCheckRows, feeRows, type FeeRow } from './fee-rows.js';
import { writeSummaryJson } from './summary-json.js';

/**
 * The workbook writer loads exceljs, ~0.3 s of module loading that a command which writes no workbook
 * should not pay, and that a run can pay while the database matches: `prefetchWorkbookWriter` starts it.
 */
let workbookWriter: Promise<typeof import('./workbook/run-workbook.js')> | undefined;
const loadWorkbookWriter = () => (workbookWriter ??= import('./workbook/run-workbook.js'));

/** Starts loading the workbook writer now, while the caller waits on something else; a failure shows when it is used. */
export function prefetchWorkbookWriter(): void {
  loadWorkbookWriter().catch(() => undefined);
}

export interface RunReportFiles {
  discrepancies: string;
  summary: string;
  workbook: string;
  pending?: string;
  cleared?: string;
}

/**
 * Writes a run's report files into `out`: discrepancies.csv, summary.json, reconciliation.xlsx and, for
 * a daily run, pending.csv and cleared.csv. Each goes through a temporary name and all are renamed
 * into place only once every one is written, so a reader never sees half a report or a mix of runs.
 * A daily run's summary.json leaves out the run id, so that rerunning a day gives identical files.
 * `opts.fees`: the statements' fee rows (`feeRows`), when the caller has read them already.
 */
export async function writeRunReports(
  db: Database,
  summary: RunSummary,
  statementFileIds: string[],
  out: string,
  opts: { daily?: boolean; fees?: FeeRow[] } = {},
): Promise<RunReportFiles> {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  // Read twice, a page at a time (the CSV, then the workbook): never the whole run in memory.
  const rows = () => rowsOf(discrepancyRowPages(db, summary.run_id));
  const files: RunReportFiles = {
    discrepancies: join(dir, 'discrepancies.csv'),
    summary: join(dir, 'summary.json'),
    workbook: join(dir, 'reconciliation.xlsx'),
    ...(opts.daily ? { pending: join(dir, 'pending.csv'), cleared: join(dir, 'cleared.csv') } : {}),
  };
  await removeAbandonedTemps(dir);
  const tmp = tempPathFor;
  const all = Object.values(files) as string[];
  try {
    await writeDiscrepanciesCsv(tmp(files.discrepancies), rows());
    if (opts.daily) {
      const { run_id: _runId, ...stable } = summary;
      await writeSummaryJson(tmp(files.summary), stable);
      await writeDiscrepanciesCsv(tmp(files.pending!), await timingRows(db, summary.run_id, 'pending'), ['pending_since', 'due_by']);
      await writeDiscrepanciesCsv(tmp(files.cleared!), await timingRows(db, summary.run_id, 'cleared'), ['pending_since', 'cleared_on']);
    } else {
      await writeSummaryJson(tmp(files.summary), summary);
    }
    const { writeWorkbook } = await loadWorkbookWriter();
    await writeWorkbook(tmp(files.workbook), {
      summary,
      discrepancies: rows(),
      fees: opts.fees ?? (await feeRows(db, statementFileIds)),
      feeChecks: await feeCheckRows(db, summary.run_id),
    });
    for (const p of all) await rename(tmp(p), p);
  } catch (err) {
    await Promise.all(all.map((p) => rm(tmp(p), { force: true })));
    throw err;
  }
  return files;
}
