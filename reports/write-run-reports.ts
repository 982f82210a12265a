import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Database } from '../db/database.js';
import type { RunSummary } from '../reconcile/run.js';
import { discrepancyRows } from './discrepancy-rows.js';
import { writeDiscrepanciesCsv } from './discrepancies-csv.js';
import { feeCheckRows, feeRows } from './fee-rows.js';
import { writeSummaryJson } from './summary-json.js';
import { writeWorkbook } from './workbook.js';

/** Writes the three report files into `out`, each through a temporary name so a reader never sees half a file. */
export async function writeRunReports(db: Database, summary: RunSummary, statementFileIds: string[], out: string) {
  const dir = resolve(out);
  await mkdir(dir, { recursive: true });
  const rows = await discrepancyRows(db, summary.run_id);
  const files = {
    discrepancies: join(dir, 'discrepancies.csv'),
    summary: join(dir, 'summary.json'),
    workbook: join(dir, 'reconciliation.xlsx'),
  };
  const tmp = (p: string) => `${p}.${process.pid}.tmp`;
  try {
    await writeDiscrepanciesCsv(tmp(files.discrepancies), rows);
    await writeSummaryJson(tmp(files.summary), summary);
    await writeWorkbook(tmp(files.workbook), {
      summary,
      discrepancies: rows,
      fees: await feeRows(db, statementFileIds),
      feeChecks: await feeCheckRows(db, summary.run_id),
    });
    for (const p of Object.values(files)) await rename(tmp(p), p);
  } catch (err) {
    await Promise.all(Object.values(files).map((p) => rm(tmp(p), { force: true })));
    throw err;
  }
  return files;
}
