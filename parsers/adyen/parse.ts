import { basename } from 'node:path';
import type ExcelJS from 'exceljs';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import { Decimal, ZERO, isKnownCurrency, minorUnits, parseDecimal, type Decimal as DecimalT } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import { LINE_TYPES, type LineType, type ParseOptions, type ParsedStatement, type StatementLine, type StatementSource, type StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { isZip, readHead } from '../common/decode.js';
import { indexHeader, orNull } from '../common/fields.js';
import { csvRows } from '../common/csv-rows.js';
import { parsedStatement } from '../common/parsed-statement.js';
import {
  ACCOUNTING_REPORT_MARKERS,
  COL,
  CONSUMED_COLUMNS,
  FEE_COLUMNS,
  REQUIRED_COLUMNS,
  csvLayoutOf,
  isReservedColumn,
  type AdyenLayout,
} from './columns.js';
import { lineTypeOf, walletOf } from './record-types.js';
import { offsetOfAbbreviation } from './time-zones.js';

/**
 * Adyen Settlement details report parser (CSV in its classic / newer / extended layouts, and the XLSX
 * export of the same report).
 *
 * Canonical line (all amounts in NET currency NC, the batch's settlement currency):
 * - gross: Gross Credit − Gross Debit (GC) when GC = NC; net: Net Credit − Net Debit (NC);
 *   fee: Commission + Markup + Scheme Fees + Interchange (NC) — see FEE_COLUMNS for what is not added.
 * - GC ≠ NC (currency conversion): a line has ONE currency, so it is put in NC with gross = net + fee, and
 *   the signed GC amount, GC currency and Exchange Rate are kept in `extra` (`gross_gc`, `Gross Currency`,
 *   `Exchange Rate`). Adyen rounds gross × rate itself, so the NC gross is taken from net + fee, never
 *   recomputed from the rate.
 * - Rows without gross amounts (Fee, MerchantPayout, Balancetransfer, corrections): a `Fee` row's amount
 *   IS a fee: gross 0, fee = −net (fee positive when charged); every other such row has gross = net + fee.
 * - Same-currency rows must satisfy net = gross − fee. A row that does not is reported as a failing
 *   control total (`control_total_mismatch` naming the line); with `acceptControlTotalMismatch` the line
 *   keeps the stated gross and net, takes fee = gross − net, keeps the stated fees in `extra.fees_stated`
 *   and is flagged `needsReview`.
 *
 * Keys: providerTxnId = Psp Reference (payments, fees, adjustments); Modification Reference for refunds
 * and chargebacks (null when absent) with parentTxnId = Psp Reference; the `TX…XT` payout reference for
 * MerchantPayout (kept also as `extra.payout_reference`). merchantRef = Merchant Reference for payments;
 * Modification Merchant Reference (fallback Merchant Reference) for refunds/chargebacks, whose
 * merchantOrderId is the Merchant Reference. `<auto>` (Adyen's "none given") counts as empty.
 *
 * Time: occurredAt = Creation Date in the offset its `TimeZone` abbreviation denotes (time-zones.ts).
 * Booking Date, when present, is kept as `extra.booked_at` (ISO). Calendar days: the account's IANA zone
 * is not in the file, so the parser's time zone is `Etc/UTC`; `summary.period` is null (the file states
 * none; the caller computes the span of line dates).
 *
 * Control totals (per net currency):
 * - `rows`: data rows read = lines emitted (always);
 * - a batch that is closed in the file — it has a MerchantPayout line, or a Balancetransfer carrying the
 *   balance to the next batch (Net Debit) — must net to zero: with a MerchantPayout the control is
 *   "MerchantPayout … (batch N)": expected = the amount paid out (−Σ payout nets), actual = Σ net of every
 *   other line; without one it is "batch N balance": expected 0, actual = Σ net of all lines. A file with
 *   no closing line (a single chargeback reversal, a correction) has only the `rows` control.
 *
 * XLSX: the first worksheet whose row carries the report header; rows above it (title block) are
 * skipped; `source.member` is the worksheet name and `source.line` the sheet row number. Numeric cells
 * are converted through the exact decimal text of the JS number (Decimal(value).toFixed(), no float
 * arithmetic) and amounts are then rounded half-even to the currency's minor units (an Excel float like
 * 0.30000000000000004 becomes 0.30); in CSV an amount with more decimals than its currency allows is an
 * error. Date cells (Excel serials, which exceljs returns as UTC-encoded wall-clock Dates) go back to
 * their naive `yyyy-MM-dd HH:mm:ss` text, rounded to the second, before the TimeZone column applies.
 * Psp References that Excel stored as numbers are taken as their integer text.
 */

interface Row {
  line: number;
  cells: string[];
}

const PROVIDER = 'adyen' as const;
export const ADYEN_TIME_ZONE = 'Etc/UTC';

// ---------------------------------------------------------------- row sources


const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** The text of an XLSX cell value, without float arithmetic (see the module comment). */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? new Decimal(value).toFixed() : '';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    const t = Math.round(value.getTime() / 1000) * 1000;
    const d = new Date(t);
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  }
  if (typeof value === 'object') {
    if ('richText' in value && Array.isArray(value.richText)) return value.richText.map((r) => r.text).join('');
    if ('result' in value) return cellText((value as { result?: ExcelJS.CellValue }).result ?? null);
    if ('text' in value && typeof (value as { text: unknown }).text === 'string') return (value as { text: string }).text;
    if ('error' in value) return '';
  }
  return '';
}

async function* xlsxRows(path: string, sheet: { name: string | null }): AsyncGenerator<Row> {
  // exceljs loads only for an XLSX report: every parser is registered at each command's start.
  const { default: ExcelJS } = await import('exceljs');
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'emit',
  });
  for await (const ws of reader) {
    sheet.name = (ws as unknown as { name?: string }).name ?? null;
    for await (const row of ws as unknown as AsyncIterable<ExcelJS.Row>) {
      const values = row.values as ExcelJS.CellValue[];
      const cells: string[] = [];
      for (let i = 1; i < values.length; i += 1) cells.push(cellText(values[i] ?? null));
      yield { line: row.number, cells };
    }
    return; // the report is the first worksheet
  }
}

// ---------------------------------------------------------------- helpers

const isBlank = (cells: readonly string[]): boolean => cells.every((c) => c.trim() === '');
const noAuto = (text: string | null): string | null => (text === null || text === '<auto>' ? null : text);
const PAYOUT_REFERENCE = /\bTX\w+XT\b/;

function describeHeaderForError(header: ReadonlyMap<string, number>): string | null {
  if (ACCOUNTING_REPORT_MARKERS.every((m) => header.has(m))) {
    return 'this is an Adyen Payment accounting report (Record Type, Main Amount, Payable (SC)), not a settlement detail report';
  }
  return null;
}

// ---------------------------------------------------------------- the parse

export function parseAdyen(source: StatementSource, options: ParseOptions = {}): ParsedStatement {
  const file = source.displayName ?? basename(source.path);
  return parsedStatement(() => run(source.path, file, options));
}

async function* run(path: string, file: string, options: ParseOptions): AsyncGenerator<StatementLine, StatementSummary, undefined> {
  const head = await readHead(path, 8);
  const xlsx = isZip(head);
  const sheet: { name: string | null } = { name: null };
  const rows = xlsx ? xlsxRows(path, sheet) : csvRows(path, file);
  const controls = new ControlTotals(file, options);

  let header: Map<string, number> | undefined;
  let headerNames: string[] = [];
  let layout: AdyenLayout = 'adyen.sdr.classic';
  let headerLine = 1;
  let rowsRead = 0;
  let emitted = 0;
  let account: string | null = null;
  let batch: string | null = null;
  // per net currency: Σ net of payout lines, Σ net of other lines, closing line, whether it closes
  const perCurrency = new Map<string, { payout: DecimalT; others: DecimalT; payoutLine: number | null; closeLine: number | null; payoutRef: string | null }>();

  for await (const row of rows) {
    if (header === undefined) {
      if (isBlank(row.cells)) continue;
      const candidate = indexHeader(row.cells);
      const wrong = describeHeaderForError(candidate);
      if (wrong !== null) throw new WrongDocumentError({ file, line: row.line }, wrong);
      const missing = REQUIRED_COLUMNS.filter((c) => !candidate.has(c));
      if (missing.length > 0) {
        // An XLSX export may have a title block above the header: keep looking a few rows.
        if (xlsx && row.line < 20 && !candidate.has(COL.type)) continue;
        throw new StatementFormatError(
          'unknown_layout',
          { file, line: row.line, field: missing[0] },
          `not an Adyen settlement detail report: the header lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
        );
      }
      header = candidate;
      headerNames = row.cells.map((c) => c.trim());
      layout = xlsx ? 'adyen.sdr.xlsx' : csvLayoutOf(candidate);
      headerLine = row.line;
      continue;
    }
    if (isBlank(row.cells)) continue;
    rowsRead += 1;
    const line = buildLine(row, header, headerNames, file, xlsx ? sheet.name : null, xlsx, controls);
    account ??= line.extra[COL.merchantAccount] ?? null;
    batch ??= line.extra[COL.batchNumber] ?? null;

    let acc = perCurrency.get(line.currency);
    if (!acc) {
      acc = { payout: ZERO, others: ZERO, payoutLine: null, closeLine: null, payoutRef: null };
      perCurrency.set(line.currency, acc);
    }
    if (line.type === 'payout') {
      acc.payout = acc.payout.plus(line.net);
      acc.payoutLine = row.line;
      acc.payoutRef ??= line.extra['payout_reference'] ?? null;
    } else {
      acc.others = acc.others.plus(line.net);
      if (line.type === 'transfer' && line.net.isNegative()) acc.closeLine = row.line;
    }
    emitted += 1;
    yield line;
  }

  if (header === undefined) {
    throw new StatementFormatError('unknown_layout', { file }, 'empty file: no Adyen settlement detail report header');
  }

  const member = xlsx ? sheet.name : null;
  controls.check({
    label: 'rows',
    member,
    line: headerLine,
    currency: null,
    expected: new Decimal(rowsRead),
    actual: emitted,
    measure: { of: 'count', types: [...LINE_TYPES] },
  });
  const batchText = batch === null ? '' : ` (batch ${batch})`;
  for (const [currency, acc] of [...perCurrency.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (acc.payoutLine !== null) {
      const ref = acc.payoutRef === null ? '' : ` ${acc.payoutRef}`;
      controls.check({
        label: `MerchantPayout${ref}${batchText} ${currency}`,
        member,
        line: acc.payoutLine,
        currency,
        expected: acc.payout.negated(),
        actual: acc.others,
        measure: { of: 'net', types: LINE_TYPES.filter((t): t is LineType => t !== 'payout') },
      });
    } else if (acc.closeLine !== null) {
      controls.check({
        label: `batch balance${batchText} ${currency}`,
        member,
        line: acc.closeLine,
        currency,
        expected: ZERO,
        actual: acc.others,
        measure: { of: 'net', types: [...LINE_TYPES] },
      });
    }
  }

  return {
    provider: PROVIDER,
    layout,
    account,
    period: null,
    timeZone: ADYEN_TIME_ZONE,
    lineCount: emitted,
    controls: controls.list,
  };
}

function buildLine(
  row: Row,
  header: ReadonlyMap<string, number>,
  headerNames: readonly string[],
  file: string,
  member: string | null,
  xlsx: boolean,
  controls: ControlTotals,
): StatementLine {
  const { line } = row;
  const cell = (name: string): string => {
    const i = header.get(name);
    return i === undefined ? '' : (row.cells[i] ?? '').trim();
  };
  const loc = (field: string) => ({ file, line, field });

  const currencyOf = (name: string): string | null => {
    const raw = cell(name);
    if (raw === '') return null;
    const code = raw.toUpperCase();
    if (!isKnownCurrency(code)) throw new StatementFormatError('bad_value', loc(name), `unknown currency code ${JSON.stringify(raw)}`);
    return code;
  };
  const amount = (name: string, currency: string | null): DecimalT | null => {
    const raw = cell(name);
    if (raw === '') return null;
    const value = parseDecimal(raw);
    if (value === undefined) throw new StatementFormatError('bad_amount', loc(name), `${JSON.stringify(raw)} is not a decimal amount`);
    if (value.isNegative()) throw new StatementFormatError('bad_amount', loc(name), `${JSON.stringify(raw)}: Debit/Credit amounts are unsigned`);
    if (currency === null) return value;
    const units = minorUnits(currency);
    if (xlsx) return value.toDecimalPlaces(units, Decimal.ROUND_HALF_EVEN);
    if (value.decimalPlaces() > units) {
      throw new StatementFormatError('bad_amount', loc(name), `${JSON.stringify(raw)} has more decimals than ${currency} allows (${units})`);
    }
    return value;
  };

  const recordType = cell(COL.type);
  if (recordType === '') throw new StatementFormatError('bad_value', loc(COL.type), 'empty record Type');
  const { type, known } = lineTypeOf(recordType);

  // time
  const tzText = cell(COL.timeZone);
  const offset = offsetOfAbbreviation(tzText);
  if (offset === undefined) {
    throw new StatementFormatError('bad_value', loc(COL.timeZone), `unknown time zone abbreviation ${JSON.stringify(tzText)} (not in the explicit table)`);
  }
  const created = cell(COL.creationDate);
  const naive = parseNaiveTime(created, 'Etc/UTC');
  if (naive === undefined) throw new StatementFormatError('bad_date', loc(COL.creationDate), `${JSON.stringify(created)} is not a yyyy-MM-dd HH:mm:ss time`);
  const occurredAt = new Date(naive.getTime() - offset * 60_000);

  // amounts
  const nc = currencyOf(COL.netCurrency);
  if (nc === null) throw new StatementFormatError('bad_value', loc(COL.netCurrency), 'empty Net Currency');
  const netDebit = amount(COL.netDebit, nc);
  const netCredit = amount(COL.netCredit, nc);
  const net = (netCredit ?? ZERO).minus(netDebit ?? ZERO);
  let feeCols = ZERO;
  for (const name of FEE_COLUMNS) feeCols = feeCols.plus(amount(name, nc) ?? ZERO);
  const grossDebitText = cell(COL.grossDebit);
  const grossCreditText = cell(COL.grossCredit);
  const hasGross = grossDebitText !== '' || grossCreditText !== '';
  const gc = hasGross ? currencyOf(COL.grossCurrency) : null;
  if (hasGross && gc === null) throw new StatementFormatError('bad_value', loc(COL.grossCurrency), 'gross amounts without a Gross Currency');
  const grossGc = hasGross ? (amount(COL.grossCredit, gc) ?? ZERO).minus(amount(COL.grossDebit, gc) ?? ZERO) : null;

  const extra: Record<string, string> = {};
  headerNames.forEach((name, i) => {
    if (name === '' || CONSUMED_COLUMNS.has(name) || isReservedColumn(name)) return;
    if (header.get(name) !== i) return; // duplicate header name: first wins
    const v = (row.cells[i] ?? '').trim();
    if (v !== '') extra[name] = v;
  });

  let gross: DecimalT;
  let fee: DecimalT;
  let original: { amount: DecimalT; currency: string } | null = null;
  let needsReview = !known;
  if (grossGc === null) {
    if (type === 'fee' && feeCols.isZero()) {
      gross = ZERO;
      fee = net.negated();
    } else {
      fee = feeCols;
      gross = net.plus(fee);
    }
  } else if (gc === nc) {
    gross = grossGc;
    fee = feeCols;
    if (!gross.minus(fee).equals(net)) {
      controls.check({
        label: `line ${line}: Net = Gross − fees`,
        member,
        line,
        currency: nc,
        expected: net,
        actual: gross.minus(fee),
      });
      // Reached only with acceptControlTotalMismatch: keep stated gross and net, fee is the residual.
      extra['fees_stated'] = feeCols.toFixed();
      fee = gross.minus(net);
      needsReview = true;
    }
  } else {
    fee = feeCols;
    gross = net.plus(fee);
    extra['gross_gc'] = grossGc.toFixed();
    if (gc !== null) original = { amount: grossGc, currency: gc };
  }

  // booking date
  const booking = cell(COL.bookingDate);
  if (booking !== '') {
    const bookingTz = cell(COL.bookingDateTimeZone) || tzText;
    const bOffset = offsetOfAbbreviation(bookingTz);
    if (bOffset === undefined) {
      throw new StatementFormatError('bad_value', loc(COL.bookingDateTimeZone), `unknown time zone abbreviation ${JSON.stringify(bookingTz)} (not in the explicit table)`);
    }
    const b = parseNaiveTime(booking, 'Etc/UTC');
    if (b === undefined) throw new StatementFormatError('bad_date', loc(COL.bookingDate), `${JSON.stringify(booking)} is not a yyyy-MM-dd HH:mm:ss time`);
    extra['booked_at'] = new Date(b.getTime() - bOffset * 60_000).toISOString();
  }

  // keys
  const psp = orNull(cell(COL.pspReference));
  const modRef = orNull(cell(COL.modificationReference));
  const merchantReference = noAuto(orNull(cell(COL.merchantReference)));
  const modMerchantRef = noAuto(orNull(cell(COL.modificationMerchantReference)));
  let providerTxnId: string | null = psp;
  let parentTxnId: string | null = null;
  let merchantRef: string | null = merchantReference;
  let merchantOrderId: string | null = null;
  let description: string | null = null;
  // Reversals keep their chargeback's keys, so a person can follow one to the other.
  if (type === 'refund' || type === 'chargeback' || /reversed/i.test(recordType)) {
    providerTxnId = modRef;
    parentTxnId = psp;
    merchantRef = modMerchantRef ?? merchantReference;
    merchantOrderId = merchantReference;
  } else if (type !== 'payment') {
    description = modMerchantRef !== null && type === 'transfer' ? modMerchantRef : modRef;
  }
  if (type === 'payout') {
    const token = modRef === null ? null : PAYOUT_REFERENCE.exec(modRef);
    if (token) extra['payout_reference'] = token[0];
    providerTxnId = token ? token[0] : modRef;
  }

  const method = cell(COL.paymentMethod);
  const variant = cell(COL.paymentMethodVariant);
  return {
    provider: PROVIDER,
    type,
    providerTxnId,
    parentTxnId,
    merchantRef,
    merchantOrderId,
    gross,
    fee,
    net,
    currency: nc,
    original,
    occurredAt,
    paymentMethod: orNull(method),
    wallet: walletOf(variant, method),
    status: recordType,
    description,
    needsReview,
    source: { member, line },
    extra,
  };
}
