import { ANALYZE_AFTER_ROWS, textField, type Database } from '../db/database.js';
import type { ParseOptions, ProviderId, StatementLine, StatementParser, StatementSummary } from '../parsers/contract.js';
import { NumeralLine } from '../parsers/common/numeral-line.js';
import { statementKeys } from '../reconcile/keys.js';
import { archiveOriginal, type ArchivedFile } from './archive.js';
import { LineTally, type TallyRow } from './line-tally.js';

export interface LoadedStatement {
  id: string;
  provider: ProviderId;
  sha256: string;
  sizeBytes: number;
  archivePath: string;
  originalName: string;
  layout: string;
  account: string | null;
  period: { start: Date; end: Date } | null;
  /** The span of the lines' instants, or null for an empty statement. */
  span: { first: Date; last: Date } | null;
  lineCount: number;
  controls: StatementSummary['controls'];
  /** True when this exact file had been loaded before and was not parsed again. */
  alreadyLoaded: boolean;
  /** The lines by currency, type, payment method and wallet, counted as they loaded (see LineTally); null when not parsed here or not exact. */
  tally: TallyRow[] | null;
}

const LINE_COLUMNS = [
  'statement_file_id', 'line_no', 'source_member', 'source_line', 'provider', 'type',
  'provider_txn_id', 'parent_txn_id', 'merchant_ref', 'merchant_order_id',
  'gross', 'fee', 'currency', 'original_amount', 'original_currency', 'occurred_at', 'payment_method', 'wallet', 'status',
  'description', 'needs_review', 'txn_key', 'ref_key', 'extra',
] as const;

/**
 * The columns that runs select and join statement lines by, whose statistics a large load refreshes
 * before it commits. The others (amounts, texts, the provider's JSON) wait for autovacuum: computing
 * their statistics too took 0.67–1.9 s after a 1M-line load against 0.28–1.7 s (alternating, one noisy hour).
 */
const PLANNED_COLUMNS = ['statement_file_id', 'provider', 'type', 'provider_txn_id', 'parent_txn_id'] as const;

/**
 * One statement line as a line of COPY's text format, written directly: numbers, instants and flags
 * need no escaping by construction; every text that comes from the file goes through `textField`
 * (which leaves JSON alone, where CSV would double each of its quotes). A line's numerals go as the file
 * wrote them (the column's type reads `7.50` as `7.5`); `net` is the table's own, `gross - fee`.
 */
export function lineText(filePrefix: string, lineNo: number, l: StatementLine, instant: (at: Date) => string): string {
  const keys = statementKeys(l);
  const json = JSON.stringify(l.extra);
  const extra = json === '{}' ? null : json;
  return (
    `${filePrefix}${lineNo}\t${textField(l.source.member)}\t${l.source.line}\t${textField(l.provider)}\t${l.type}\t` +
    `${textField(l.providerTxnId)}\t${textField(l.parentTxnId)}\t${textField(l.merchantRef)}\t${textField(l.merchantOrderId)}\t` +
    (l instanceof NumeralLine ? `${l.grossText}\t${l.feeText}\t` : `${l.gross.toFixed()}\t${l.fee.toFixed()}\t`) +
    `${textField(l.currency)}\t` +
    `${l.original ? l.original.amount.toFixed() : '\\N'}\t${textField(l.original ? l.original.currency : null)}\t${instant(l.occurredAt)}\t` +
    `${textField(l.paymentMethod)}\t${textField(l.wallet)}\t${textField(l.status)}\t${textField(l.description)}\t${l.needsReview ? 't' : 'f'}\t` +
    `${textField(keys.txnKey)}\t${textField(keys.refKey)}\t${textField(extra)}\n`
  );
}

/** toISOString, remembering the last instant: a bill lists many lines per second (0.6 s of a 1M-line load). */
export function isoWriter(): (at: Date) => string {
  let lastMs = NaN;
  let lastIso = '';
  return (at) => {
    const ms = at.getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = at.toISOString();
    }
    return lastIso;
  };
}

interface FileRow {
  id: string;
  layout: string | null;
  account: string | null;
  period_start: Date | null;
  period_end: Date | null;
  line_count: number | null;
  controls: StatementSummary['controls'] | null;
  loaded_at: Date | null;
  first_at: Date | null;
  last_at: Date | null;
}

async function findLoaded(db: Database, provider: string, sha256: string): Promise<FileRow | undefined> {
  const rows = await db.query<FileRow>(
    `SELECT f.id, f.layout, f.account, f.period_start, f.period_end, f.line_count, f.controls, f.loaded_at,
            (SELECT min(occurred_at) FROM statement_lines l WHERE l.statement_file_id = f.id) AS first_at,
            (SELECT max(occurred_at) FROM statement_lines l WHERE l.statement_file_id = f.id) AS last_at
       FROM statement_files f WHERE f.provider = $1 AND f.sha256 = $2 AND f.loaded_at IS NOT NULL`,
    [provider, sha256],
  );
  return rows[0];
}

/**
 * Keeps the original bytes, then parses and loads the statement in one transaction: its lines are
 * streamed into `statement_lines` with COPY, and committed only when the whole file parsed and its
 * control totals held. A rejected file leaves no row behind (its archived bytes stay, as evidence).
 * Loading the same bytes again is a no-op that returns the earlier load.
 */
export async function loadStatement(
  db: Database,
  args: {
    parser: StatementParser;
    path: string;
    archiveDir: string;
    options?: ParseOptions;
    source?: string;
    /** The file's name as the provider delivered it, when `path` is not (an archived copy). */
    originalName?: string;
    /** Called when the archive step ends, the bytes kept or not, before any parse: work that waits for it may start. */
    onArchived?: () => void;
    /** The archive step of `path`, already started (`archiveOriginal`): `recon reconcile` keeps the bytes while the database opens. */
    archiving?: Promise<ArchivedFile>;
  },
): Promise<LoadedStatement> {
  const { parser, path } = args;
  const archiving = args.archiving ?? archiveOriginal(args.archiveDir, parser.provider, path);
  const archived = await archiving.finally(() => args.onArchived?.());
  if (args.originalName) archived.originalName = args.originalName;
  const base = { provider: parser.provider, ...archived };

  const existing = await findLoaded(db, parser.provider, archived.sha256);
  if (existing) {
    return {
      ...base,
      id: String(existing.id),
      layout: existing.layout ?? '',
      account: existing.account,
      period: existing.period_start && existing.period_end ? { start: existing.period_start, end: existing.period_end } : null,
      span: existing.first_at && existing.last_at ? { first: existing.first_at, last: existing.last_at } : null,
      lineCount: existing.line_count ?? 0,
      controls: existing.controls ?? [],
      alreadyLoaded: true,
      tally: null,
    };
  }

  return db.transaction(async (tx) => {
    const [file] = await tx.query<{ id: string }>(
      `INSERT INTO statement_files (provider, sha256, size_bytes, original_name, archive_path, source, time_zone)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (provider, sha256) DO UPDATE SET provider = EXCLUDED.provider
       RETURNING id`,
      [parser.provider, archived.sha256, String(archived.sizeBytes), archived.originalName, archived.archivePath, args.source ?? 'cli', parser.timeZone],
    );
    const fileId = String(file!.id);
    // A file row left without loaded_at by an interrupted load holds no lines (same transaction), but be sure.
    await tx.query(`DELETE FROM statement_lines WHERE statement_file_id = $1`, [fileId]);

    // Parse the verified archived copy: the bytes parsed are the bytes hashed and kept.
    const parsed = parser.parse({ path: archived.archivePath, displayName: archived.originalName }, args.options);
    let lineNo = 0;
    // The span in epoch milliseconds: comparing Dates converts both to numbers on every line.
    let first = Infinity;
    let last = -Infinity;
    const filePrefix = `${fileId}\t`;
    const instant = isoWriter();
    const tally = new LineTally();
    const toLine = (line: StatementLine): string => {
      lineNo += 1;
      tally.add(line);
      const ms = line.occurredAt.getTime();
      if (ms < first) first = ms;
      if (ms > last) last = ms;
      return lineText(filePrefix, lineNo, line, instant);
    };
    await tx.copyFromBatches('statement_lines', LINE_COLUMNS, parsed.batches(), toLine, 'text');
    const summary = await parsed.summary;
    if (lineNo >= ANALYZE_AFTER_ROWS) await tx.query(`ANALYZE statement_lines (${PLANNED_COLUMNS.join(', ')})`);

    await tx.query(
      `UPDATE statement_files SET layout = $2, account = $3, period_start = $4, period_end = $5,
              time_zone = $6, line_count = $7, controls = $8, loaded_at = now()
        WHERE id = $1`,
      [fileId, summary.layout, summary.account, summary.period?.start ?? null, summary.period?.end ?? null, summary.timeZone, lineNo, JSON.stringify(summary.controls)],
    );
    return {
      ...base,
      id: fileId,
      layout: summary.layout,
      account: summary.account,
      period: summary.period,
      span: lineNo > 0 ? { first: new Date(first), last: new Date(last) } : null,
      lineCount: lineNo,
      controls: summary.controls,
      alreadyLoaded: false,
      tally: tally.rows(),
    };
  });
}
