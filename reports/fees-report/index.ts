import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Sql } from '../../db/database.js';
import type { FeeScheduleSet } from '../../reconcile/fees/index.js';
import { compareFees, type FeeComparison, type PeriodGrouping } from './compare.js';
import { readLines, selectStatements, type SelectedStatement } from './lines.js';
import { writeFeesCsv, writeFeesWorkbook, writeWhatIfCsv } from './write.js';

export { compareFees, contractedFee, periodOf, toWhatIfLine, PERIOD_GROUPINGS, type FeeComparison, type FeeComparisonRow, type WhatIfReportRow, type PeriodGrouping } from './compare.js';
export { readLines, selectStatements, type FeeReportLine, type SelectedStatement, type LineSelection } from './lines.js';
export { writeFeesCsv, writeWhatIfCsv, writeFeesWorkbook, FEE_COLUMNS, WHATIF_COLUMNS } from './write.js';

export interface FeeReportOptions {
  from: string;
  to: string;
  fees: FeeScheduleSet;
  /** Folder for fees.xlsx, fees.csv, fees-whatif.csv. */
  out: string;
  /** Periods the rows are split into (default `month`, clipped to the range). */
  by?: PeriodGrouping;
  /** Also statements loaded outside daily runs whose period lies inside the range (default true). */
  includeAdhoc?: boolean;
}

export interface FeeReportResult {
  files: { xlsx: string; csv: string; whatIfCsv: string };
  statements: SelectedStatement[];
  comparison: FeeComparison;
}

/** `recon report fees`: fees charged vs contracted per provider, method/wallet, currency and period, plus the what-if. */
export async function writeFeeReport(db: Sql, options: FeeReportOptions): Promise<FeeReportResult> {
  const by = options.by ?? 'month';
  const statements = await selectStatements(db, { from: options.from, to: options.to, includeAdhoc: options.includeAdhoc ?? true });
  const lines = await readLines(db, statements);
  const comparison = await compareFees(lines, options.fees.schedules, { from: options.from, to: options.to, by });
  const dir = resolve(options.out);
  await mkdir(dir, { recursive: true });
  const files = { xlsx: join(dir, 'fees.xlsx'), csv: join(dir, 'fees.csv'), whatIfCsv: join(dir, 'fees-whatif.csv') };
  await writeFeesCsv(files.csv, comparison.rows);
  await writeWhatIfCsv(files.whatIfCsv, comparison.whatIf);
  await writeFeesWorkbook(files.xlsx, comparison, { from: options.from, to: options.to, by, scheduleFile: options.fees.file, scheduleTitle: options.fees.title, statements });
  return { files, statements, comparison };
}
