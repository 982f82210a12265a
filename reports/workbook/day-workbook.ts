import { removeAbandonedTemps, tempPathFor } from '../../core/atomic-files.js';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import ExcelJS from 'exceljs';
import type { Sql } from '../../db/database.js';
import { AMOUNT_COLUMNS, DISCREPANCY_COLUMNS, type DiscrepancyRow } from '../discrepancy-rows.js';
import { amountCell, countCell, discrepancyCells, effectiveRate, header, note, PERCENT_FORMAT, rateCell, textCell, title } from './cells.js';
import {
  AGE_BUCKETS, dayDiscrepancies, dayFeeRows, dayRuns, dayTimingRows, openByKindAndAge, payoutRows, summaryRows,
  type DayDiscrepancyRow, type DayFeeRow, type DayRun, type DayTimingRow, type OpenAgeRow, type PayoutRow, type SummaryRow,
} from './day-data.js';
import { Decimal } from '../../core/money/index.js';
import { daysInRange } from '../../core/time.js';

export const DAY_SHEETS = ['Summary', 'Discrepancies', 'Pending', 'Cleared', 'Payouts', 'Fees'] as const;

/** Everything a day workbook shows, read from the database. */
export interface DayWorkbookData {
  date: string;
  runs: DayRun[];
  summary: SummaryRow[];
  openByAge: OpenAgeRow[];
  discrepancies: DayDiscrepancyRow[];
  pending: DayTimingRow[];
  cleared: DayTimingRow[];
  payouts: PayoutRow[];
  fees: DayFeeRow[];
}

export async function dayWorkbookData(db: Sql, date: string, providers?: readonly string[]): Promise<DayWorkbookData> {
  const runs = await dayRuns(db, date, providers);
  return {
    date,
    runs,
    summary: await summaryRows(db, runs),
    openByAge: await openByKindAndAge(db, date, runs),
    discrepancies: await dayDiscrepancies(db, date, runs),
    pending: await dayTimingRows(db, runs, 'pending'),
    cleared: await dayTimingRows(db, runs, 'cleared'),
    payouts: await payoutRows(db, date, runs),
    fees: await dayFeeRows(db, runs),
  };
}

/** The same data restricted to one provider (the per-provider workbook). */
export function forProvider(data: DayWorkbookData, provider: string): DayWorkbookData {
  const only = <T extends { provider: string }>(rows: T[]) => rows.filter((r) => r.provider === provider);
  return {
    date: data.date,
    runs: only(data.runs),
    summary: only(data.summary),
    openByAge: only(data.openByAge),
    discrepancies: only(data.discrepancies),
    pending: only(data.pending),
    cleared: only(data.cleared),
    payouts: only(data.payouts),
    fees: only(data.fees),
  };
}

type Extra<R> = { name: string; value: (r: R) => string; kind: 'text' | 'count' };

function columnWidth(name: string): number {
  if (AMOUNT_COLUMNS.has(name as never)) return 16;
  if (name.endsWith('_id') || name === 'order_id' || name === 'statement_file' || name === 'note' || name === 'proposal') return 30;
  return 18;
}

/** A sheet of discrepancy-shaped rows: the discrepancies.csv columns, then `extra`. */
function discrepancySheet<R extends DiscrepancyRow>(wb: ExcelJS.Workbook, name: string, rows: readonly R[], extra: Extra<R>[]): ExcelJS.Worksheet {
  const sheet = wb.addWorksheet(name);
  const names = [...DISCREPANCY_COLUMNS, ...extra.map((e) => e.name)];
  header(sheet, names, { filter: true });
  sheet.columns.forEach((c, i) => (c.width = columnWidth(names[i]!)));
  for (const r of rows) {
    const row = sheet.addRow([]);
    discrepancyCells(row, r);
    extra.forEach((e, j) => {
      const cell = row.getCell(DISCREPANCY_COLUMNS.length + j + 1);
      const v = e.value(r);
      if (e.kind === 'count') countCell(cell, v === '' ? null : Number(v));
      else textCell(cell, v);
    });
  }
  return sheet;
}

function summarySheet(wb: ExcelJS.Workbook, data: DayWorkbookData, scope: string): void {
  const s = wb.addWorksheet('Summary');
  s.columns = Array.from({ length: 17 }, (_, i) => ({ width: i < 3 ? 16 : 14 }));
  const top = s.addRow([]);
  textCell(top.getCell(1), 'Reconciliation');
  textCell(top.getCell(2), data.date);
  textCell(top.getCell(3), scope);
  top.font = { bold: true };
  if (data.runs.length === 0) note(s, 'No completed daily run for this date.');

  s.addRow([]);
  title(s, 'Runs');
  const rh = s.addRow([]);
  // No run id or version here: rerunning a day with the same inputs gives the same workbook.
  ['provider', 'account', 'statements'].forEach((h, i) => textCell(rh.getCell(i + 1), h));
  rh.font = { bold: true };
  for (const run of data.runs) {
    const row = s.addRow([]);
    textCell(row.getCell(1), run.provider);
    textCell(row.getCell(2), run.account);
    textCell(row.getCell(3), (run.summary.statements ?? []).map((f) => f.file).join(', '));
  }

  // Open exceptions per provider, account and currency (for the main table).
  const open = new Map<string, { n: number; oldest: number }>();
  for (const o of data.openByAge) {
    const k = [o.provider, o.account, o.currency].join('\u0000');
    const cur = open.get(k) ?? { n: 0, oldest: 0 };
    open.set(k, { n: cur.n + o.open, oldest: Math.max(cur.oldest, o.oldestAgeDays) });
  }

  s.addRow([]);
  title(s, 'By provider and currency');
  const cols = ['provider', 'account', 'currency', 'statement lines', 'pairable lines', 'matched', 'match rate', 'gross', 'fees', 'net', 'payouts',
    'payout lines', 'discrepancies today', 'pending', 'cleared', 'open discrepancies', 'oldest open (days)'];
  const h = s.addRow([]);
  cols.forEach((c, i) => textCell(h.getCell(i + 1), c));
  h.font = { bold: true };
  for (const r of data.summary) {
    const row = s.addRow([]);
    textCell(row.getCell(1), r.provider);
    textCell(row.getCell(2), r.account);
    textCell(row.getCell(3), r.currency);
    countCell(row.getCell(4), r.lines);
    countCell(row.getCell(5), r.movements);
    countCell(row.getCell(6), r.matched);
    rateCell(row.getCell(7), r.movements === 0 ? null : new Decimal(r.matched).dividedBy(r.movements), PERCENT_FORMAT);
    amountCell(row.getCell(8), r.gross, r.currency);
    amountCell(row.getCell(9), r.fee, r.currency);
    amountCell(row.getCell(10), r.net, r.currency);
    amountCell(row.getCell(11), r.payouts, r.currency);
    countCell(row.getCell(12), r.payoutLines);
    countCell(row.getCell(13), r.discrepancies);
    countCell(row.getCell(14), r.pending);
    countCell(row.getCell(15), r.cleared);
    const o = open.get([r.provider, r.account, r.currency].join('\u0000'));
    countCell(row.getCell(16), o?.n ?? 0);
    if (o) countCell(row.getCell(17), o.oldest);
  }
  s.addRow([]);
  note(s, 'Pairable lines: payments, refunds and chargebacks on the day\'s statements; match rate = matched / pairable lines.');
  note(s, 'Gross, fees and net: all the day\'s statement lines except payouts; payouts: gross of the payout lines (money leaving the provider is negative).');

  s.addRow([]);
  title(s, `Open discrepancies by kind and age (status open, first seen on or before ${data.date}; age in days since first seen)`);
  const ah = s.addRow([]);
  ['provider', 'account', 'currency', 'kind', 'open', ...AGE_BUCKETS.map((b) => b.label), 'oldest first seen'].forEach((c, i) => textCell(ah.getCell(i + 1), c));
  ah.font = { bold: true };
  for (const o of data.openByAge) {
    const row = s.addRow([]);
    textCell(row.getCell(1), o.provider);
    textCell(row.getCell(2), o.account);
    textCell(row.getCell(3), o.currency);
    textCell(row.getCell(4), o.kind);
    countCell(row.getCell(5), o.open);
    o.buckets.forEach((n, i) => countCell(row.getCell(6 + i), n));
    textCell(row.getCell(6 + AGE_BUCKETS.length), o.oldestFirstSeen);
  }
}

const PAYOUT_COLUMNS = ['provider', 'account', 'currency', 'payout', 'reference', 'date', 'statement_amount', 'payout_amount', 'lines_total', 'line_count',
  'payout_minus_lines', 'bank_amount', 'bank_currency', 'value_date', 'bank_difference', 'status', 'bank_text'] as const;

function payoutSheet(wb: ExcelJS.Workbook, rows: readonly PayoutRow[]): void {
  const p = wb.addWorksheet('Payouts');
  header(p, PAYOUT_COLUMNS, { filter: true });
  p.columns.forEach((c, i) => (c.width = PAYOUT_COLUMNS[i] === 'status' || PAYOUT_COLUMNS[i] === 'bank_text' ? 40 : 16));
  for (const r of rows) {
    const row = p.addRow([]);
    textCell(row.getCell(1), r.provider);
    textCell(row.getCell(2), r.account);
    textCell(row.getCell(3), r.currency);
    textCell(row.getCell(4), r.payout);
    textCell(row.getCell(5), r.reference);
    textCell(row.getCell(6), r.date);
    amountCell(row.getCell(7), r.statementAmount, r.currency);
    amountCell(row.getCell(8), r.payoutAmount, r.currency);
    amountCell(row.getCell(9), r.linesTotal, r.currency);
    countCell(row.getCell(10), r.lineCount);
    amountCell(row.getCell(11), r.linesDifference, r.currency);
    amountCell(row.getCell(12), r.bankAmount, r.bankCurrency || r.currency);
    textCell(row.getCell(13), r.bankCurrency);
    textCell(row.getCell(14), r.valueDate);
    amountCell(row.getCell(15), r.bankDifference, r.bankCurrency || r.currency);
    textCell(row.getCell(16), r.status);
    textCell(row.getCell(17), r.bankText);
  }
  p.addRow([]);
  note(p, 'Provider side (statement_amount, payout_amount, lines_total) is negative: money leaving the provider balance; lines_total = −Σ net of the lines the payout pays out.');
  note(p, 'bank_amount is the deposit as the bank books it (positive); bank_difference = bank amount − expected bank amount. Bank columns are empty when no deposit was matched.');
}

const FEE_COLUMNS = ['provider', 'account', 'currency', 'payment_method', 'wallet', 'type', 'lines', 'gross', 'fee', 'net', 'effective_rate'] as const;

function feeSheet(wb: ExcelJS.Workbook, rows: readonly DayFeeRow[]): void {
  const f = wb.addWorksheet('Fees');
  header(f, FEE_COLUMNS, { filter: true });
  f.columns.forEach((c) => (c.width = 16));
  for (const r of rows) {
    const row = f.addRow([]);
    [r.provider, r.account, r.currency, r.payment_method, r.wallet, r.type].forEach((v, i) => textCell(row.getCell(i + 1), v));
    countCell(row.getCell(7), r.lines);
    amountCell(row.getCell(8), r.gross, r.currency);
    amountCell(row.getCell(9), r.fee, r.currency);
    amountCell(row.getCell(10), r.net, r.currency);
    rateCell(row.getCell(11), effectiveRate(r.fee, r.gross));
  }
  f.addRow([]);
  note(f, 'effective_rate = |fee / gross|; wallet shows Apple Pay / Google Pay and similar where the statement names it.');
}

/** The day workbook for `data` (all providers, or one provider's share). */
export function buildDayWorkbook(data: DayWorkbookData, scope = 'all providers'): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'walletrecon';
  summarySheet(wb, data, scope);
  discrepancySheet(wb, 'Discrepancies', data.discrepancies, [
    { name: 'account', value: (r) => r.account, kind: 'text' },
    { name: 'first_seen_on', value: (r) => r.first_seen_on, kind: 'text' },
    { name: 'age_days', value: (r) => r.age_days, kind: 'count' },
  ]);
  discrepancySheet(wb, 'Pending', data.pending, [
    { name: 'pending_since', value: (r) => r.pending_since, kind: 'text' },
    { name: 'due_by', value: (r) => r.due_by, kind: 'text' },
    { name: 'account', value: (r) => r.account, kind: 'text' },
  ]);
  discrepancySheet(wb, 'Cleared', data.cleared, [
    { name: 'pending_since', value: (r) => r.pending_since, kind: 'text' },
    { name: 'cleared_on', value: (r) => r.cleared_on, kind: 'text' },
    { name: 'account', value: (r) => r.account, kind: 'text' },
  ]);
  payoutSheet(wb, data.payouts);
  feeSheet(wb, data.fees);
  return wb;
}

export interface DayWorkbookOptions {
  date: string;
  reportsDir: string;
  /** Only these providers' runs (default: every provider with a completed daily run that day). */
  providers?: readonly string[];
  /** Also (re)write each provider's `<date>/<provider>/reconciliation.xlsx` (default true). */
  perProvider?: boolean;
}

export interface DayWorkbookFiles {
  date: string;
  /** `<reportsDir>/<date>/reconciliation.xlsx`; null when the day has no completed daily run. */
  combined: string | null;
  /** provider → `<reportsDir>/<date>/<provider>/reconciliation.xlsx`. */
  perProvider: Record<string, string>;
  runs: number;
}

async function writeAtomically(wb: ExcelJS.Workbook, path: string): Promise<void> {
  await removeAbandonedTemps(dirname(path));
  const tmp = tempPathFor(path);
  try {
    await wb.xlsx.writeFile(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes the day's reconciliation workbook from the database: `<reportsDir>/<date>/reconciliation.xlsx`
 * for all providers of the day together, and (unless `perProvider: false`) each provider's
 * `<reportsDir>/<date>/<provider>/reconciliation.xlsx` with the same sheets restricted to it. Each file
 * goes through a temporary name, so a reader never sees half a workbook. A day without any completed
 * daily run writes nothing.
 */
export async function writeDayWorkbook(db: Sql, options: DayWorkbookOptions): Promise<DayWorkbookFiles> {
  const data = await dayWorkbookData(db, options.date, options.providers);
  const result: DayWorkbookFiles = { date: options.date, combined: null, perProvider: {}, runs: data.runs.length };
  if (data.runs.length === 0) return result;
  const dir = resolve(options.reportsDir, options.date);
  await mkdir(dir, { recursive: true });
  const combined = join(dir, 'reconciliation.xlsx');
  await writeAtomically(buildDayWorkbook(data), combined);
  result.combined = combined;
  if (options.perProvider !== false) {
    for (const provider of [...new Set(data.runs.map((r) => r.provider))]) {
      const pdir = join(dir, provider);
      await mkdir(pdir, { recursive: true });
      const path = join(pdir, 'reconciliation.xlsx');
      await writeAtomically(buildDayWorkbook(forProvider(data, provider), provider), path);
      result.perProvider[provider] = path;
    }
  }
  return result;
}

/** `recon report day --date D [--to D2]`: the day workbooks of every day of the range. */
export async function writeDayWorkbooks(db: Sql, options: Omit<DayWorkbookOptions, 'date'> & { from: string; to: string }): Promise<DayWorkbookFiles[]> {
  const out: DayWorkbookFiles[] = [];
  for (const date of daysInRange(options.from, options.to)) {
    const { from: _f, to: _t, ...rest } = options;
    out.push(await writeDayWorkbook(db, { ...rest, date }));
  }
  return out;
}
