import { basename } from 'node:path';
import { StatementFormatError } from '../../core/errors.js';
import { Decimal, isKnownCurrency, minorUnits, parseDecimal, type Decimal as DecimalT } from '../../core/money/index.js';
import { parseNaiveTime } from '../../core/time.js';
import { LINE_TYPES, type ParseOptions, type ParsedStatement, type StatementLine, type StatementSource, type StatementSummary } from '../contract.js';
import { ControlTotals } from '../common/control-totals.js';
import { indexHeader, orNull } from '../common/fields.js';
import { csvRows } from '../common/csv-rows.js';
import { parsedStatement } from '../common/parsed-statement.js';
import {
  COL,
  CONSUMED_COLUMNS,
  ORDER_ID_KEYS,
  PAYOUT_RECONCILIATION_MARKERS,
  REFUND_REFERENCE_KEYS,
  REPORTING_CATEGORIES,
  REQUIRED_COLUMNS,
  WALLET_BY_METHOD_TYPE,
  paymentMetadata,
  refundMetadata,
  type StripeLayout,
} from './columns.js';

/**
 * Stripe Reports API itemized CSV parser (`payout_reconciliation.itemized.5`,
 * `balance_change_from_activity.itemized.3`), any requested column subset and order.
 *
 * - Amounts: major-unit decimals as written (JPY in yen); more decimals than the currency's ISO minor
 *   units is `bad_amount`. gross/fee/net keep the file's signs (fee positive when charged); a row where
 *   net ≠ gross − fee is rejected (`bad_value`, field `net`, naming the line).
 * - Currency: lower-case in the file → upper-case ISO 4217; an unknown code is `bad_value`.
 * - Time: `created_utc` (naive UTC `yyyy-MM-dd HH:mm:ss`) when requested; otherwise `created`, which is
 *   in the report run's `timezone` parameter — not stated in the file — and is therefore READ AS UTC,
 *   said on every such line by `extra.created_time_zone`.
 * - Keys: providerTxnId = charge_id for charges; source_id (re_… / dp_… / du_…) for refunds and
 *   disputes, with parentTxnId = charge_id; otherwise source_id, else balance_transaction_id.
 *   merchantRef = `payment_metadata[order_id]` (see ORDER_ID_KEYS) for payments; for refunds and
 *   disputes merchantOrderId = that order and merchantRef = `refund_metadata[refund_id]` (see
 *   REFUND_REFERENCE_KEYS) or null. status = reporting_category. paymentMethod = payment_method_type.
 *   Every other non-empty column (card_brand, automatic_payout_id, automatic_payout_effective_at(_utc),
 *   balance_transaction_id, source_id, metadata, …) is kept in `extra` under its column name.
 * - summary.period = null (the file states none; the caller computes the span); time zone `Etc/UTC`.
 * - Control totals: the file states none. The per-row check net = gross − fee is enforced line by line;
 *   `controls` holds `rows`: data rows read from the CSV = lines emitted (measure: count of all types).
 */

const PROVIDER = 'stripe' as const;
export const STRIPE_TIME_ZONE = 'Etc/UTC';

interface Row {
  line: number;
  cells: string[];
}


const isBlank = (cells: readonly string[]): boolean => cells.every((c) => c.trim() === '');

export function parseStripe(source: StatementSource, options: ParseOptions = {}): ParsedStatement {
  const file = source.displayName ?? basename(source.path);
  return parsedStatement(() => run(source.path, file, options));
}

async function* run(path: string, file: string, options: ParseOptions): AsyncGenerator<StatementLine, StatementSummary, undefined> {
  const controls = new ControlTotals(file, options);
  let header: Map<string, number> | undefined;
  let headerNames: string[] = [];
  let headerLine = 1;
  let layout: StripeLayout = 'stripe.balance_change_from_activity.itemized.3';
  let rowsRead = 0;
  let emitted = 0;

  for await (const row of csvRows(path, file)) {
    if (isBlank(row.cells)) continue;
    if (header === undefined) {
      const candidate = indexHeader(row.cells);
      const missing = REQUIRED_COLUMNS.filter((c) => !candidate.has(c));
      if (!candidate.has(COL.createdUtc) && !candidate.has(COL.created)) missing.push(COL.createdUtc);
      if (missing.length > 0) {
        throw new StatementFormatError(
          'unknown_layout',
          { file, line: row.line, field: missing[0] },
          `not a Stripe itemized report (payout_reconciliation / balance_change_from_activity): the header lacks ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
        );
      }
      header = candidate;
      headerNames = row.cells.map((c) => c.trim());
      headerLine = row.line;
      layout = PAYOUT_RECONCILIATION_MARKERS.some((m) => candidate.has(m))
        ? 'stripe.payout_reconciliation.itemized.5'
        : 'stripe.balance_change_from_activity.itemized.3';
      continue;
    }
    rowsRead += 1;
    const line = buildLine(row, header, headerNames, file);
    emitted += 1;
    yield line;
  }
  if (header === undefined) {
    throw new StatementFormatError('unknown_layout', { file }, 'empty file: no Stripe report header');
  }
  controls.check({
    label: 'rows',
    member: null,
    line: headerLine,
    currency: null,
    expected: new Decimal(rowsRead),
    actual: emitted,
    measure: { of: 'count', types: [...LINE_TYPES] },
  });
  return {
    provider: PROVIDER,
    layout,
    account: null,
    period: null,
    timeZone: STRIPE_TIME_ZONE,
    lineCount: emitted,
    controls: controls.list,
  };
}

function buildLine(row: Row, header: ReadonlyMap<string, number>, headerNames: readonly string[], file: string): StatementLine {
  const { line } = row;
  const cell = (name: string): string => {
    const i = header.get(name);
    return i === undefined ? '' : (row.cells[i] ?? '').trim();
  };
  const loc = (field: string) => ({ file, line, field });
  const firstOf = (names: readonly string[]): string | null => {
    for (const n of names) {
      const v = orNull(cell(n));
      if (v !== null) return v;
    }
    return null;
  };

  const rawCurrency = cell(COL.currency);
  const currency = rawCurrency.toUpperCase();
  if (!isKnownCurrency(currency)) throw new StatementFormatError('bad_value', loc(COL.currency), `unknown currency code ${JSON.stringify(rawCurrency)}`);
  const units = minorUnits(currency);
  const amount = (name: string): DecimalT => {
    const raw = cell(name);
    const value = parseDecimal(raw);
    if (value === undefined) throw new StatementFormatError('bad_amount', loc(name), `${JSON.stringify(raw)} is not a decimal amount`);
    if (value.decimalPlaces() > units) {
      throw new StatementFormatError('bad_amount', loc(name), `${JSON.stringify(raw)} has more decimals than ${currency} allows (${units})`);
    }
    return value;
  };
  const gross = amount(COL.gross);
  const fee = amount(COL.fee);
  const net = amount(COL.net);
  if (!gross.minus(fee).equals(net)) {
    throw new StatementFormatError('bad_value', loc(COL.net), `net ${cell(COL.net)} is not gross ${cell(COL.gross)} − fee ${cell(COL.fee)} (= ${gross.minus(fee).toFixed()})`);
  }

  const category = cell(COL.reportingCategory);
  if (category === '') throw new StatementFormatError('bad_value', loc(COL.reportingCategory), 'empty reporting_category');
  const mapped = REPORTING_CATEGORIES[category.toLowerCase()];
  const type = mapped ?? 'adjustment';

  const extra: Record<string, string> = {};
  headerNames.forEach((name, i) => {
    if (name === '' || CONSUMED_COLUMNS.has(name) || header.get(name) !== i) return;
    const v = (row.cells[i] ?? '').trim();
    if (v !== '') extra[name] = v;
  });

  let timeField: string = COL.createdUtc;
  if (!header.has(COL.createdUtc)) {
    timeField = COL.created;
    extra['created_time_zone'] = 'assumed Etc/UTC: no created_utc column and the report timezone is not in the file';
  }
  const timeText = cell(timeField);
  // `*_utc` columns are naive UTC; tolerate an explicit UTC designator (`Z`, `+00:00`) on them.
  const naiveText = timeField === COL.createdUtc ? timeText.replace(/(?:Z|[+-]00:?00)$/, '') : timeText;
  const occurredAt = parseNaiveTime(naiveText, 'Etc/UTC');
  if (occurredAt === undefined || !/\d{1,2}:\d{2}/.test(naiveText)) {
    throw new StatementFormatError('bad_date', loc(timeField), `${JSON.stringify(timeText)} is not a yyyy-MM-dd HH:mm:ss time`);
  }

  const sourceId = orNull(cell(COL.sourceId));
  const chargeId = orNull(cell(COL.chargeId));
  const btId = orNull(cell(COL.balanceTransactionId));
  const orderId = firstOf(ORDER_ID_KEYS.map(paymentMetadata));
  let providerTxnId: string | null;
  let parentTxnId: string | null = null;
  let merchantRef: string | null = null;
  let merchantOrderId: string | null = null;
  if (type === 'payment') {
    providerTxnId = chargeId ?? sourceId ?? btId;
    merchantRef = orderId;
  } else if (type === 'refund' || type === 'chargeback' || category.toLowerCase() === 'dispute_reversal') {
    providerTxnId = sourceId ?? btId;
    parentTxnId = chargeId;
    merchantRef = firstOf(REFUND_REFERENCE_KEYS.map(refundMetadata));
    merchantOrderId = orderId;
  } else {
    providerTxnId = sourceId ?? btId;
  }

  // The amount the customer saw, when Stripe converted it: a ledger booked in that currency is compared
  // with it. Stripe writes it unsigned for refunds and disputes in some exports; it takes gross's sign.
  let original: { amount: DecimalT; currency: string } | null = null;
  const cfaText = extra['customer_facing_amount'];
  const cfcText = extra['customer_facing_currency']?.toUpperCase();
  if (cfaText !== undefined && cfcText !== undefined && cfcText !== currency && (type === 'payment' || type === 'refund' || type === 'chargeback')) {
    const cfa = parseDecimal(cfaText);
    if (cfa === undefined) throw new StatementFormatError('bad_amount', loc('customer_facing_amount'), `${JSON.stringify(cfaText)} is not a decimal amount`);
    if (!isKnownCurrency(cfcText)) throw new StatementFormatError('bad_value', loc('customer_facing_currency'), `unknown currency code ${JSON.stringify(cfcText)}`);
    original = { amount: gross.isNegative() ? cfa.abs().negated() : cfa.abs(), currency: cfcText };
  }

  const methodType = orNull(cell(COL.paymentMethodType));
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
    currency,
    original,
    occurredAt,
    paymentMethod: methodType,
    wallet: methodType === null ? null : (WALLET_BY_METHOD_TYPE[methodType.toLowerCase()] ?? null),
    status: category,
    description: orNull(cell(COL.description)),
    needsReview: mapped === undefined,
    source: { member: null, line },
    extra,
  };
}
