/**
 * PayPal SFTP Settlement Report (STL) and Transaction Detail Report (TRR) parser.
 *
 * The file is a sequence of records whose first cell is the record type (formats.md §3.2):
 * RH report header, FH file header, SH section header, CH column header, SB section body (one event),
 * SF section footer, SC section record count, RF report footer, RC report record count, FF file footer.
 * It is read streaming (csv-parse), comma or tab delimited (decided from the first line), UTF-8 with or
 * without BOM (UTF-16 with BOM too: very old reports), quoted or not. SB columns are found by the names
 * of the CH row (columns.ts); the layout is `paypal.stl.<9|8|7|pre7>` from the STL columns, or
 * `paypal.trr.<RH report version | unversioned>` when the CH row has TRR-only columns.
 *
 * Amounts: unsigned integers ×100 for every currency, JPY included (PayPal: "100,00 yen and $100.00 USD
 * are both represented as 10000", https://developer.paypal.com/docs/reports/sftp-reports/settlement-report/).
 * Gross sign from `Transaction Debit or Credit` (CR +, DR −); fee sign from `Fee Debit or Credit`
 * (DR = fee charged → fee +, CR = fee given back → fee −); empty fee → 0. net = gross − fee.
 * A fee in another currency than the gross cannot be netted: the line is rejected (`fee_currency_mismatch`).
 * Standalone fee events (T01xx, T1108/T1109) carry their amount in the gross columns and keep it in `gross`.
 *
 * Times: `yyyy/MM/dd HH:mm:ss ±hhmm`, always with the offset → exact instants. occurredAt = Transaction
 * Initiation Date; the completion date is kept in `extra.completedAt`.
 *
 * Keys: providerTxnId = Transaction ID; parentTxnId = PayPal Reference ID when its type is TXN, for every
 * line that is not a payment (refunds, chargebacks, fees, conversions, reversals); on payments the
 * reference (often an order or billing agreement) is kept in `extra.referenceId`. merchantRef = Invoice ID
 * (the Custom Field is free-form merchant data, not a reliable order number: kept in `extra.customField`);
 * merchantOrderId = Invoice ID on refunds and chargebacks (PayPal repeats the payment's invoice there).
 * An outgoing payment (T00xx written DR: the merchant paid someone) is not a customer payment: it becomes
 * a `transfer`, so that matching never pairs it with a ledger payment.
 *
 * TRR events that move no money — authorizations and their voids (T13xx) and any event whose
 * Transactional Status is `D` (denied) — are kept as lines (never dropped) of type `adjustment` with
 * canonical gross = fee = net = 0 and `status` set; what the file wrote is kept in
 * `extra.statedGross`/`extra.statedFee`, the type the event code maps to in `extra.eventType` and the
 * reason in `extra.noMoney`. Balance sums over lines therefore stay equal to the balance movement, and
 * matching (payment/refund/chargeback only) never pairs them. Other statuses (S, P, V) keep their amounts.
 *
 * Control totals (SF/RF per currency, SC/RC/FF record counts) are all checked; see `readMoneyFooter`
 * for the field order and its source. The SF/RF balance fields (beginning/ending balances) are not
 * line totals and are not checked. A file that starts with RH but has no FF is `truncated` (unless the
 * caller explicitly accepts missing footers).
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { parse as csvParse } from 'csv-parse';
import iconv from 'iconv-lite';
import { StatementFormatError, WrongDocumentError } from '../../core/errors.js';
import { Decimal, ZERO, fromScaledInteger, isKnownCurrency, type Decimal as DecimalT } from '../../core/money/index.js';
import { ControlTotals } from '../common/control-totals.js';
import { readHead, pipeWithErrors } from '../common/decode.js';
import { parsedStatement } from '../common/parsed-statement.js';
import { LINE_TYPES, type ControlTotal, type LineType, type ParseOptions, type ParsedStatement, type StatementLine, type StatementSource, type StatementSummary } from '../contract.js';
import { REQUIRED_COLUMNS, TRR_ONLY_COLUMNS, canonicalName, mapColumns, stlLayoutVersion, type ColumnKey, type ColumnMap } from './columns.js';
import { lookupEventCode } from './event-codes.js';

export const PAYPAL_TIME_ZONE = 'America/Los_Angeles';

/**
 * RH reporting window → the zone whose calendar days the report covers. The window letters name a span
 * of zones (A: America/New_York→America/Los_Angeles, H: LA→Hong Kong, R: Hong Kong→London,
 * X: London→New York; formats.md §3.2); the real sample `stl_brl_refund.csv` (window A) has SH days
 * 00:00:00–23:59:59 -0800, i.e. the days end in the second zone of the span.
 */
const WINDOW_TIME_ZONES: Readonly<Record<string, string>> = {
  A: 'America/Los_Angeles',
  H: 'Asia/Hong_Kong',
  R: 'Europe/London',
  X: 'America/New_York',
};

const RECORD_TYPES = new Set(['RH', 'FH', 'SH', 'CH', 'SB', 'SF', 'SC', 'RF', 'RC', 'FF']);
const ALL_TYPES: LineType[] = [...LINE_TYPES];

/** The SF/RF money fields, in file order after the currency (see readMoneyFooter). */
const MONEY_FOOTER_FIELDS = [
  { key: 'grossCr', name: 'Total Gross Amount Credit' },
  { key: 'grossDr', name: 'Total Gross Amount Debit' },
  { key: 'feeCr', name: 'Total Fee Amount Credit' },
  { key: 'feeDr', name: 'Total Fee Amount Debit' },
] as const;

interface Totals {
  grossCr: DecimalT;
  grossDr: DecimalT;
  feeCr: DecimalT;
  feeDr: DecimalT;
  count: number;
}

const newTotals = (): Totals => ({ grossCr: ZERO, grossDr: ZERO, feeCr: ZERO, feeDr: ZERO, count: 0 });

function addTo(map: Map<string, Totals>, line: StatementLine): void {
  let t = map.get(line.currency);
  if (!t) {
    t = newTotals();
    map.set(line.currency, t);
  }
  if (line.gross.isPositive() && !line.gross.isZero()) t.grossCr = t.grossCr.plus(line.gross);
  if (line.gross.isNegative() && !line.gross.isZero()) t.grossDr = t.grossDr.minus(line.gross);
  if (line.fee.isPositive() && !line.fee.isZero()) t.feeDr = t.feeDr.plus(line.fee);
  if (line.fee.isNegative() && !line.fee.isZero()) t.feeCr = t.feeCr.minus(line.fee);
  t.count += 1;
}

const PAYPAL_TIME = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/** `2026/01/06 23:31:39 -0800` → the instant. Undefined for anything else (including a missing offset). */
export function parsePayPalTime(text: string): Date | undefined {
  const m = PAYPAL_TIME.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s, oh, om] = [m[1], m[2], m[3], m[4], m[5], m[6], m[8], m[9]].map((v) => Number.parseInt(v!, 10)) as [
    number, number, number, number, number, number, number, number,
  ];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || oh > 14 || om > 59) return undefined;
  const day = new Date(Date.UTC(y, mo - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== mo - 1 || day.getUTCDate() !== d) return undefined;
  const offset = (m[7] === '-' ? -1 : 1) * (oh * 60 + om);
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000);
}

const UNSIGNED = /^\d+$/;

/** Which encoding the bytes are in: UTF-16 when they start with its BOM (very old reports), else UTF-8. */
function sniffEncoding(head: Buffer): 'utf8' | 'utf16le' | 'utf16be' {
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return 'utf16be';
  return 'utf8';
}

/** Comma or tab, from the first line: the character after the first (record type) cell. */
function sniffDelimiter(firstLine: string): ',' | '\t' {
  const m = /^"?[A-Za-z]{2}"?([,\t])/.exec(firstLine);
  if (m) return m[1] as ',' | '\t';
  const tabs = firstLine.split('\t').length - 1;
  const commas = firstLine.split(',').length - 1;
  return tabs > commas ? '\t' : ',';
}

/**
 * A first row that is not a PayPal SFTP record: the website's activity/statement downloads are recognised
 * (localised headers, `1,653.75` / `49,37` amounts) and refused as the wrong document; anything else is an
 * unknown layout.
 */
function refuseFirstRow(cells: string[], file: string, line: number): never {
  const names = cells.map((c) => c.replace(/^\uFEFF/, '').trim().toLowerCase());
  const dateFirst = ['date', 'fecha', 'datum', 'data', 'date de la transaction', '日期'].includes(names[0] ?? '');
  const hasGross = names.some((n) => ['gross', 'bruto', 'brutto', 'brut', 'lordo', '总额'].includes(n));
  if (dateFirst && hasGross) {
    const activity = names.includes('type') && names.includes('status');
    const what = activity
      ? 'a PayPal website activity download (Activity → Download: one row per transaction with Type and Status, locale-formatted amounts)'
      : 'a PayPal website statement download (monthly statement CSV with Description and Balance, locale-formatted amounts)';
    throw new WrongDocumentError(
      { file, line },
      `this is ${what}, not an SFTP Settlement (STL) or Transaction Detail (TRR) report; download the STL/TRR file from the reports SFTP server (reports.paypal.com:/ppreports/outgoing)`,
    );
  }
  throw new StatementFormatError(
    'unknown_layout',
    { file, line, field: 'record type' },
    `the first row starts with ${JSON.stringify(cells[0] ?? '')}, not a PayPal report record type (RH, FH, SH, CH, SB…): not a PayPal STL/TRR report`,
  );
}

interface Section {
  line: number;
  totals: Map<string, Totals>;
  count: number;
  moneyFooters: Set<string>;
  hasMoneyFooter: boolean;
  closed: boolean;
}

export function parsePayPal(source: StatementSource, options: ParseOptions = {}): ParsedStatement {
  const file = source.displayName ?? basename(source.path);
  return parsedStatement(() => run(source.path, file, options));
}

async function* run(path: string, file: string, options: ParseOptions): AsyncGenerator<StatementLine, StatementSummary, undefined> {
  const head = await readHead(path, 8192);
  const encoding = sniffEncoding(head);
  const headText = iconv.decode(head, encoding).replace(/^\uFEFF/, '');
  const delimiter = sniffDelimiter(headText.split(/\r\n|\r|\n/, 1)[0] ?? '');

  const bytes = createReadStream(path);
  const text = pipeWithErrors(bytes, iconv.decodeStream(encoding)) as unknown as Readable;
  const records = pipeWithErrors(
    text,
    csvParse({ delimiter, bom: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: false, info: true }),
  );

  const controls = new ControlTotals(file, options);
  const fail = (code: string, line: number, field: string | undefined, detail: string): never => {
    throw new StatementFormatError(code, { file, line, ...(field !== undefined ? { field } : {}) }, detail);
  };

  let nextLine = 1;
  let lastLine = 0;
  let firstRecord = true;
  let rh: { line: number; account: string | null; version: string | null; window: string | null } | null = null;
  let ffSeen = false;
  let columns: ColumnMap | null = null;
  let layout: string | null = null;
  let account: string | null = null;
  let periodStart: Date | null = null;
  let periodEnd: Date | null = null;
  let section: Section | null = null;
  const report = { totals: new Map<string, Totals>(), count: 0, moneyFooters: new Set<string>(), hasMoneyFooter: false, closed: false };
  let fileCount = 0;
  let lineCount = 0;

  const closeSection = (line: number) => {
    if (!section || section.closed) return;
    section.closed = true;
    if (!section.hasMoneyFooter) return;
    for (const [currency, t] of section.totals) {
      if (section.moneyFooters.has(currency)) continue;
      controls.check({ label: `SF ${currency} record count (no SF row for ${currency})`, member: null, line, currency, expected: '0', actual: t.count });
    }
  };
  const closeReport = (line: number) => {
    if (report.closed) return;
    report.closed = true;
    if (!report.hasMoneyFooter) return;
    for (const [currency, t] of report.totals) {
      if (report.moneyFooters.has(currency)) continue;
      controls.check({
        label: `RF ${currency} record count (no RF row for ${currency})`, member: null, line, currency, expected: '0', actual: t.count,
        measure: { of: 'count', types: ALL_TYPES },
      });
    }
  };

  /** A count-only footer cell (SC, RC, FF, TRR-style SF/RF). */
  const countCell = (cells: string[], line: number, row: string): string => {
    const value = (cells[1] ?? '').trim();
    if (!UNSIGNED.test(value)) fail('bad_footer', line, `${row} record count`, `${JSON.stringify(value)} is not a record count`);
    return value;
  };

  /**
   * SF/RF money footer: `"SF","GBP",834,134,87,47,"CR",547,"CR",5530,…,1`.
   * Field order after the currency: total gross credit, total gross debit, total fee credit, total fee
   * debit; then (CR|DR, balance) pairs (beginning/ending balances, not line totals); then a record count.
   * formats.md §3.2 marked this order UNCONFIRMED. Evidence: SmashPig's STL parser computes a currency's
   * settled total from the RF row as `row[2] - row[3] + row[4] - row[5]` (+ payouts), i.e. credit, debit,
   * fee credit, fee debit (repo:wikimedia/wikimedia-fundraising-SmashPig:
   * PaymentProviders/PayPal/Audit/STLFileParser.php getAggregateRow, citing
   * https://developer.paypal.com/docs/reports/sftp-reports/settlement-report/#report-data), and the one
   * SmashPig fixture whose fee totals agree with its lines (stl_dr_payment.csv: fees DR 201 + DR 499,
   * RF `0,700`) has fee credit before fee debit. The trailing count is read as the number of SB rows of
   * that currency (it equals it for AUD in stl.csv) — the weakest of these assumptions.
   */
  const readMoneyFooter = (cells: string[], line: number, row: 'SF' | 'RF', totalsByCurrency: Map<string, Totals>, wholeFile: boolean) => {
    const currency = (cells[1] ?? '').trim();
    if (!isKnownCurrency(currency)) fail('bad_currency', line, `${row} currency`, `${JSON.stringify(currency)} is not an ISO 4217 currency`);
    const t = totalsByCurrency.get(currency) ?? newTotals();
    const stated: Partial<Record<(typeof MONEY_FOOTER_FIELDS)[number]['key'], DecimalT>> = {};
    MONEY_FOOTER_FIELDS.forEach(({ key, name }, i) => {
      const raw = (cells[2 + i] ?? '').trim();
      const label = `${row} ${currency} ${name}`;
      if (!UNSIGNED.test(raw)) fail('bad_footer', line, label, `${JSON.stringify(raw)} is not an unsigned amount`);
      stated[key] = fromScaledInteger(raw, 2);
      controls.check({ label, member: null, line, currency, expected: stated[key]!, actual: t[key] });
    });
    if (wholeFile) {
      // The same totals in canonical terms, so the conformance suite recomputes them from the lines.
      controls.check({
        label: `${row} ${currency} gross credit − gross debit`, member: null, line, currency,
        expected: stated.grossCr!.minus(stated.grossDr!), actual: t.grossCr.minus(t.grossDr),
        measure: { of: 'gross', types: ALL_TYPES },
      });
      controls.check({
        label: `${row} ${currency} fee debit − fee credit`, member: null, line, currency,
        expected: stated.feeDr!.minus(stated.feeCr!), actual: t.feeDr.minus(t.feeCr),
        measure: { of: 'fee', types: ALL_TYPES },
      });
    }
    let i = 6;
    while (i + 1 < cells.length && /^(CR|DR)$/.test((cells[i] ?? '').trim())) i += 2;
    const count = (cells[i] ?? '').trim();
    if (count !== '') {
      if (!UNSIGNED.test(count)) fail('bad_footer', line, `${row} ${currency} record count`, `${JSON.stringify(count)} is not a record count`);
      controls.check({
        label: `${row} ${currency} record count`, member: null, line, currency, expected: count, actual: t.count,
        ...(wholeFile ? { measure: { of: 'count' as const, types: ALL_TYPES } } : {}),
      });
    }
    return currency;
  };

  try {
    for await (const item of records as AsyncIterable<{ record: string[] }>) {
      const raw = item.record;
      const line = nextLine;
      let breaks = 0;
      for (const cell of raw) breaks += (cell.match(/\r\n|\r|\n/g) ?? []).length;
      nextLine = line + breaks + 1;
      lastLine = nextLine - 1;

      const cells = raw.map((c, i) => (i === 0 ? c.replace(/^\uFEFF/, '') : c).trim());
      if (cells.every((c) => c === '')) continue;
      if (cells.some((c) => c.includes('\uFFFD'))) {
        fail('bad_encoding', line, undefined, `bytes that are not valid ${encoding === 'utf8' ? 'UTF-8' : 'UTF-16'} (is the file in another encoding?)`);
      }
      const type = cells[0]!;
      if (firstRecord) {
        firstRecord = false;
        if (!RECORD_TYPES.has(type)) refuseFirstRow(cells, file, line);
      }
      if (ffSeen) fail('unexpected_record', line, 'record type', `${type} row after the file footer (FF)`);

      switch (type) {
        case 'RH': {
          if (rh) fail('unexpected_record', line, 'record type', `second report header (RH); the first is on line ${rh.line}`);
          const window = cells[2] || null;
          const version = cells[4] || null;
          rh = { line, account: cells[3] || null, version, window };
          account = rh.account;
          break;
        }
        case 'FH':
          break;
        case 'SH': {
          closeSection(line);
          const start = parsePayPalTime(cells[1] ?? '');
          if (!start) fail('bad_date', line, 'SH period start', `${JSON.stringify(cells[1] ?? '')} is not a yyyy/MM/dd HH:mm:ss ±hhmm time`);
          const endInclusive = parsePayPalTime(cells[2] ?? '');
          if (!endInclusive) fail('bad_date', line, 'SH period end', `${JSON.stringify(cells[2] ?? '')} is not a yyyy/MM/dd HH:mm:ss ±hhmm time`);
          // The SH end is the last second of the period (23:59:59): the exclusive end is one second later.
          const end = new Date(endInclusive!.getTime() + 1000);
          if (periodStart === null || start!.getTime() < periodStart.getTime()) periodStart = start!;
          if (periodEnd === null || end.getTime() > periodEnd.getTime()) periodEnd = end;
          if (account === null && cells[3]) account = cells[3];
          section = { line, totals: new Map(), count: 0, moneyFooters: new Set(), hasMoneyFooter: false, closed: false };
          break;
        }
        case 'CH': {
          const map = mapColumns(cells);
          for (const key of REQUIRED_COLUMNS) {
            if (map.index[key] === undefined) {
              fail('unknown_layout', line, canonicalName(key), `the column header (CH) has no ${JSON.stringify(canonicalName(key))} column: not a known STL/TRR layout`);
            }
          }
          columns = map;
          if (layout === null) {
            const trr = TRR_ONLY_COLUMNS.some((k) => map.index[k] !== undefined);
            const version = rh?.version ? (/^\d+$/.test(rh.version) ? rh.version.replace(/^0+(?=\d)/, '') : rh.version) : 'unversioned';
            layout = trr ? `paypal.trr.${version}` : `paypal.stl.${stlLayoutVersion(map)}`;
          }
          break;
        }
        case 'SB': {
          if (!columns) fail('unknown_layout', line, 'CH', 'a section body (SB) row before any column header (CH) row');
          const stLine = buildLine(cells, columns!, file, line);
          if (section) {
            addTo(section.totals, stLine);
            section.count += 1;
          }
          addTo(report.totals, stLine);
          report.count += 1;
          fileCount += 1;
          lineCount += 1;
          yield stLine;
          break;
        }
        case 'SF': {
          const moneyShape = /^[A-Za-z]{3}$/.test(cells[1] ?? '');
          if (moneyShape) {
            const totals = section?.totals ?? report.totals;
            // With a single section (or none) the section is the whole file: let the suite recompute.
            const currency = readMoneyFooter(cells, line, 'SF', totals, false);
            if (section) {
              section.moneyFooters.add(currency);
              section.hasMoneyFooter = true;
            }
          } else {
            const n = countCell(cells, line, 'SF');
            controls.check({ label: 'SF section record count', member: null, line, currency: null, expected: n, actual: section ? section.count : report.count });
          }
          break;
        }
        case 'SC': {
          const n = countCell(cells, line, 'SC');
          controls.check({ label: 'SC section record count', member: null, line, currency: null, expected: n, actual: section ? section.count : report.count });
          closeSection(line);
          break;
        }
        case 'RF': {
          closeSection(line);
          if (/^[A-Za-z]{3}$/.test(cells[1] ?? '')) {
            const currency = readMoneyFooter(cells, line, 'RF', report.totals, true);
            report.moneyFooters.add(currency);
            report.hasMoneyFooter = true;
          } else {
            const n = countCell(cells, line, 'RF');
            controls.check({ label: 'RF report record count', member: null, line, currency: null, expected: n, actual: report.count, measure: { of: 'count', types: ALL_TYPES } });
          }
          break;
        }
        case 'RC': {
          closeSection(line);
          closeReport(line);
          const n = countCell(cells, line, 'RC');
          controls.check({ label: 'RC report record count', member: null, line, currency: null, expected: n, actual: report.count, measure: { of: 'count', types: ALL_TYPES } });
          break;
        }
        case 'FF': {
          closeSection(line);
          closeReport(line);
          const n = countCell(cells, line, 'FF');
          controls.check({ label: 'FF file record count', member: null, line, currency: null, expected: n, actual: fileCount, measure: { of: 'count', types: ALL_TYPES } });
          ffSeen = true;
          break;
        }
        default:
          fail('unknown_record', line, 'record type', `${JSON.stringify(type)} is not a PayPal report record type (RH, FH, SH, CH, SB, SF, SC, RF, RC, FF)`);
      }
    }
  } catch (err) {
    if (err instanceof StatementFormatError) throw err;
    const e = err as { code?: string; lines?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new StatementFormatError('bad_csv', { file, line: e.lines ?? nextLine }, `not readable as ${delimiter === '\t' ? 'tab-delimited' : 'CSV'} text: ${e.message ?? e.code}`, { cause: err });
    }
    throw err;
  }

  if (firstRecord) fail('unknown_layout', 1, undefined, 'the file is empty: not a PayPal STL/TRR report');
  if (!columns || layout === null) fail('unknown_layout', lastLine, 'CH', 'no column header (CH) row: not a known STL/TRR layout');
  if (rh && !ffSeen && !options.acceptMissingFooters) {
    fail('truncated', lastLine, 'FF', `the report header (RH, line ${rh.line}) announces a complete report but the file ends on line ${lastLine} without its file footer (FF): the file is truncated`);
  }
  closeSection(lastLine);
  closeReport(lastLine);

  const controlList: ControlTotal[] = controls.list;
  return {
    provider: 'paypal',
    layout: layout!,
    account,
    period: periodStart && periodEnd ? { start: periodStart, end: periodEnd } : null,
    timeZone: (rh?.window && WINDOW_TIME_ZONES[rh.window]) || PAYPAL_TIME_ZONE,
    lineCount,
    controls: controlList,
  };
}

function buildLine(cells: string[], columns: ColumnMap, file: string, line: number): StatementLine {
  const cell = (key: ColumnKey): string => {
    const i = columns.index[key];
    return i === undefined ? '' : (cells[i] ?? '');
  };
  const field = (key: ColumnKey): string => columns.names[key] ?? canonicalName(key);
  const fail = (code: string, key: ColumnKey, detail: string): never => {
    throw new StatementFormatError(code, { file, line, field: field(key) }, detail);
  };
  const amount = (key: ColumnKey): DecimalT => {
    const raw = cell(key);
    if (!UNSIGNED.test(raw)) fail('bad_amount', key, `${JSON.stringify(raw)} is not an unsigned amount in hundredths (PayPal writes 10000 for 100.00)`);
    return fromScaledInteger(raw, 2);
  };
  const direction = (key: ColumnKey): 1 | -1 => {
    const raw = cell(key);
    if (raw === 'CR') return 1;
    if (raw === 'DR') return -1;
    return fail('bad_direction', key, `${JSON.stringify(raw)} is neither CR nor DR`);
  };
  const time = (key: ColumnKey): Date => {
    const t = parsePayPalTime(cell(key));
    if (!t) fail('bad_date', key, `${JSON.stringify(cell(key))} is not a yyyy/MM/dd HH:mm:ss ±hhmm time`);
    return t!;
  };
  const orNull = (key: ColumnKey): string | null => (cell(key) === '' ? null : cell(key));

  const code = cell('eventCode');
  const event = lookupEventCode(code);
  const currency = cell('grossCurrency');
  if (!isKnownCurrency(currency)) fail('bad_currency', 'grossCurrency', `${JSON.stringify(currency)} is not an ISO 4217 currency`);

  // A zero amount is written 0 whatever its direction: never keep a negative zero.
  const signed = (value: DecimalT, sign: 1 | -1): DecimalT => (value.isZero() ? ZERO : value.times(sign));
  const gross = signed(amount('grossAmount'), direction('grossDirection'));
  let fee: DecimalT = ZERO;
  const feeText = cell('feeAmount');
  if (feeText !== '') {
    const value = amount('feeAmount');
    if (cell('feeDirection') === '' && !value.isZero()) fail('bad_direction', 'feeDirection', `a fee of ${feeText} without its direction (CR or DR)`);
    if (cell('feeDirection') !== '') fee = signed(value, direction('feeDirection') === 1 ? -1 : 1);
    const feeCurrency = cell('feeCurrency');
    if (feeCurrency !== '' && feeCurrency !== currency && !value.isZero()) {
      fail('fee_currency_mismatch', 'feeCurrency', `the fee is in ${feeCurrency} but the gross in ${currency}: a fee in another currency cannot be netted`);
    }
  } else if (cell('feeDirection') !== '') {
    direction('feeDirection');
  }
  const occurredAt = time('initiatedAt');
  const completedAt = cell('completedAt') === '' ? null : time('completedAt');
  const status = orNull('status');

  let type: LineType = event.type;
  let description = event.label;
  if (type === 'payment' && gross.isNegative() && !gross.isZero()) {
    type = 'transfer';
    description = `${event.label} (sent by the merchant)`;
  }

  const extra: Record<string, string> = {};
  const keep = (name: string, value: string | null) => {
    if (value !== null && value !== '') extra[name] = value;
  };
  keep('eventCode', code);
  keep('referenceId', orNull('referenceId'));
  keep('referenceIdType', orNull('referenceIdType'));
  if (completedAt) extra.completedAt = completedAt.toISOString();
  for (const key of ['customField', 'consumerId', 'paymentTrackingId', 'storeId', 'bankReferenceId', 'creditTransactionalFee', 'creditPromotionalFee', 'creditTerm', 'subject', 'note', 'itemId', 'cardType', 'paymentSource', 'authorizationReviewStatus', 'protectionEligibility'] as const) {
    keep(key, orNull(key));
  }
  for (const key of ['insuranceAmount', 'salesTaxAmount', 'shippingAmount'] as const) {
    const raw = cell(key);
    if (raw !== '') extra[key] = UNSIGNED.test(raw) ? fromScaledInteger(raw, 2).toFixed(2) : raw;
  }

  let canonicalGross = gross;
  let canonicalFee = fee;
  const noMoney = event.moneyless ? 'authorization event' : status === 'D' ? 'denied' : null;
  if (noMoney !== null) {
    extra.statedGross = gross.toFixed(2);
    extra.statedFee = fee.toFixed(2);
    extra.eventType = type;
    extra.noMoney = noMoney;
    type = 'adjustment';
    description = `${description} (no money moved: ${noMoney})`;
    canonicalGross = new Decimal(0);
    canonicalFee = new Decimal(0);
  }

  const referenceId = orNull('referenceId');
  const invoice = orNull('invoiceId');
  const paymentMethod = orNull('cardType') ?? orNull('paymentSource');
  return {
    provider: 'paypal',
    type,
    providerTxnId: orNull('transactionId'),
    parentTxnId: cell('referenceIdType') === 'TXN' && event.type !== 'payment' ? referenceId : null,
    merchantRef: invoice,
    merchantOrderId: type === 'refund' || type === 'chargeback' ? invoice : null,
    gross: canonicalGross,
    fee: canonicalFee,
    net: canonicalGross.minus(canonicalFee),
    currency,
    occurredAt,
    paymentMethod,
    wallet: 'paypal',
    status,
    description,
    needsReview: !event.known,
    source: { member: null, line },
    extra,
  };
}
