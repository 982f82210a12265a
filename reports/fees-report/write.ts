import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { formatAmount, isKnownCurrency, type Decimal } from '../../core/money/index.js';
import { amountCell, countCell, header, note, rateCell, textCell, title } from '../workbook/cells.js';
import { safeText } from '../safe-text.js';
import type { FeeComparison, FeeComparisonRow, WhatIfReportRow } from './compare.js';
import type { SelectedStatement } from './lines.js';

const amt = (v: Decimal, ccy: string) => (isKnownCurrency(ccy) ? formatAmount(v, ccy) : v.toFixed());
const rateText = (r: Decimal | null) => (r === null ? '' : r.toFixed(8));
const reasons = (r: Record<string, number>) => Object.entries(r).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}:${n}`).join(' ');

type Kind = 'text' | 'amount' | 'count' | 'rate';
interface Column<R> { name: string; kind: Kind; value: (r: R) => string | number | Decimal | null }

// Where nothing was priced, expected_fee and difference stay empty: never a zero that looks like a price.
export const FEE_COLUMNS: Column<FeeComparisonRow>[] = [
  { name: 'period_from', kind: 'text', value: (r) => r.periodFrom },
  { name: 'period_to', kind: 'text', value: (r) => r.periodTo },
  { name: 'provider', kind: 'text', value: (r) => r.provider },
  { name: 'currency', kind: 'text', value: (r) => r.currency },
  { name: 'payment_method', kind: 'text', value: (r) => r.paymentMethod },
  { name: 'wallet', kind: 'text', value: (r) => r.wallet },
  { name: 'count', kind: 'count', value: (r) => r.count },
  { name: 'payments', kind: 'count', value: (r) => r.payments },
  { name: 'refunds', kind: 'count', value: (r) => r.refunds },
  { name: 'chargebacks', kind: 'count', value: (r) => r.chargebacks },
  { name: 'volume', kind: 'amount', value: (r) => r.volume },
  { name: 'refund_volume', kind: 'amount', value: (r) => r.refundVolume },
  { name: 'fees_charged', kind: 'amount', value: (r) => r.feesCharged },
  { name: 'effective_rate', kind: 'rate', value: (r) => r.effectiveRate },
  { name: 'priced_count', kind: 'count', value: (r) => r.pricedCount },
  { name: 'priced_volume', kind: 'amount', value: (r) => r.pricedVolume },
  { name: 'priced_fees_charged', kind: 'amount', value: (r) => r.pricedCharged },
  { name: 'expected_fee', kind: 'amount', value: (r) => (r.pricedCount === 0 ? null : r.expectedFee) },
  { name: 'contracted_rate', kind: 'rate', value: (r) => r.contractedRate },
  { name: 'overcharge', kind: 'amount', value: (r) => r.overcharge },
  { name: 'undercharge', kind: 'amount', value: (r) => r.undercharge },
  { name: 'difference', kind: 'amount', value: (r) => (r.pricedCount === 0 ? null : r.pricedCharged.minus(r.expectedFee)) },
  { name: 'unpriced_count', kind: 'count', value: (r) => r.unpricedCount },
  { name: 'unpriced_volume', kind: 'amount', value: (r) => r.unpricedVolume },
  { name: 'unpriced_reasons', kind: 'text', value: (r) => reasons(r.unpricedReasons) },
  { name: 'schedules', kind: 'text', value: (r) => r.schedules.join(' ') },
];

export const WHATIF_COLUMNS: Column<WhatIfReportRow>[] = [
  { name: 'period_from', kind: 'text', value: (r) => r.periodFrom },
  { name: 'period_to', kind: 'text', value: (r) => r.periodTo },
  { name: 'source_provider', kind: 'text', value: (r) => r.source },
  { name: 'currency', kind: 'text', value: (r) => r.currency },
  { name: 'target_provider', kind: 'text', value: (r) => r.target },
  { name: 'count', kind: 'count', value: (r) => r.row.count },
  { name: 'payments', kind: 'count', value: (r) => r.row.payments },
  { name: 'refunds', kind: 'count', value: (r) => r.row.refunds },
  { name: 'chargebacks', kind: 'count', value: (r) => r.row.chargebacks },
  { name: 'volume', kind: 'amount', value: (r) => r.row.volume },
  { name: 'refund_volume', kind: 'amount', value: (r) => r.row.refundVolume },
  { name: 'expected_fee', kind: 'amount', value: (r) => (r.row.count === 0 ? null : r.row.totalExpectedFee) },
  { name: 'effective_rate', kind: 'rate', value: (r) => r.row.effectiveRate },
  { name: 'actual_fee', kind: 'amount', value: (r) => r.actualFee },
  { name: 'actual_volume', kind: 'amount', value: (r) => r.actualVolume },
  { name: 'not_priceable_count', kind: 'count', value: (r) => r.row.notPriceable.count },
  { name: 'not_priceable_volume', kind: 'amount', value: (r) => r.row.notPriceable.volume },
  { name: 'not_priceable_reasons', kind: 'text', value: (r) => reasons(r.row.notPriceable.reasons) },
  { name: 'refunds_assumed_full', kind: 'count', value: (r) => r.row.refundsAssumedFull },
  { name: 'schedules_used', kind: 'text', value: (r) => r.row.schedulesUsed.join(' ') },
];

function csvValue<R extends { currency: string }>(c: Column<R>, r: R): string {
  const v = c.value(r);
  if (v === null) return '';
  switch (c.kind) {
    case 'text': return safeText(String(v));
    case 'count': return String(v);
    case 'amount': return amt(v as Decimal, r.currency);
    case 'rate': return rateText(v as Decimal);
  }
}

async function writeCsv<R extends { currency: string }>(path: string, columns: Column<R>[], rows: readonly R[]): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    const out = createWriteStream(tmp);
    const csv = stringify({ header: true, columns: columns.map((c) => c.name), record_delimiter: 'unix' });
    csv.pipe(out);
    for (const r of rows) csv.write(columns.map((c) => csvValue(c, r)));
    csv.end();
    await finished(out);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** fees.csv: one row per period, provider, currency, payment method and wallet. Amounts exact decimals, rates fractions. */
export const writeFeesCsv = (path: string, rows: readonly FeeComparisonRow[]) => writeCsv(path, FEE_COLUMNS, rows);
/** fees-whatif.csv: one row per period, source provider (or `all`), currency and target provider. */
export const writeWhatIfCsv = (path: string, rows: readonly WhatIfReportRow[]) => writeCsv(path, WHATIF_COLUMNS, rows);

function table<R extends { currency: string }>(sheet: ExcelJS.Worksheet, columns: Column<R>[], rows: readonly R[]): void {
  header(sheet, columns.map((c) => c.name), { filter: true });
  sheet.columns.forEach((col, i) => (col.width = columns[i]!.kind === 'text' ? 18 : 15));
  for (const r of rows) {
    const row = sheet.addRow([]);
    columns.forEach((c, i) => {
      const cell = row.getCell(i + 1);
      const v = c.value(r);
      if (c.kind === 'text') textCell(cell, v === null ? '' : String(v));
      else if (c.kind === 'count') countCell(cell, v as number);
      else if (c.kind === 'amount') amountCell(cell, v as Decimal, r.currency);
      else rateCell(cell, v as Decimal | null);
    });
  }
}

export interface FeesWorkbookInfo {
  from: string;
  to: string;
  by: string;
  scheduleFile: string;
  scheduleTitle: string | null;
  statements: readonly SelectedStatement[];
}

/** fees.xlsx: Fees (the comparison), What-if, About (range, schedules, statements, what was not compared). */
export async function writeFeesWorkbook(path: string, cmp: FeeComparison, info: FeesWorkbookInfo): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'walletrecon';
  table(wb.addWorksheet('Fees'), FEE_COLUMNS, cmp.rows);
  table(wb.addWorksheet('What-if'), WHATIF_COLUMNS, cmp.whatIf);

  const a = wb.addWorksheet('About');
  a.columns = [{ width: 28 }, { width: 30 }, { width: 16 }, { width: 16 }, { width: 16 }];
  const kv = (k: string, v: string) => {
    const row = a.addRow([]);
    textCell(row.getCell(1), k);
    textCell(row.getCell(2), v);
  };
  title(a, 'Fee comparison across providers');
  kv('from', info.from);
  kv('to', info.to);
  kv('periods', info.by);
  kv('fee schedules', info.scheduleFile);
  kv('schedule title', info.scheduleTitle ?? '');
  const lr = a.addRow([]);
  textCell(lr.getCell(1), 'lines read');
  countCell(lr.getCell(2), cmp.linesRead);
  for (const [type, n] of Object.entries(cmp.skippedByType).sort()) {
    const row = a.addRow([]);
    textCell(row.getCell(1), `not compared: ${type} lines`);
    countCell(row.getCell(2), n);
  }
  a.addRow([]);
  note(a, 'fees_charged: Σ fee of the payments, refunds and chargebacks on the statements (fees returned on refunds are negative); effective_rate = fees_charged / volume (Σ gross of payments).');
  note(a, 'expected_fee: Σ of the schedule\'s expected fee per priced line; contracted_rate = expected_fee / priced_volume. overcharge / undercharge: Σ (charged − expected) per line, split by sign.');
  note(a, 'Lines no schedule entry can price are counted as unpriced (with the reason), never as a zero fee; they are left out of expected_fee, overcharge and undercharge, and expected_fee stays empty where nothing could be priced.');
  note(a, 'What-if: the same lines priced under every configured provider\'s schedules (account-specific entries never apply); source_provider "all" is every provider\'s lines together.');
  a.addRow([]);
  title(a, 'Statements');
  const sh = a.addRow([]);
  ['statement', 'provider', 'account', 'day', 'source'].forEach((h, i) => textCell(sh.getCell(i + 1), h));
  sh.font = { bold: true };
  for (const s of info.statements) {
    const row = a.addRow([]);
    [s.name, s.provider, s.account ?? '', s.day, s.source].forEach((v, i) => textCell(row.getCell(i + 1), v));
  }

  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await wb.xlsx.writeFile(tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
