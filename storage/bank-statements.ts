import type { CopyValue, Database } from '../db/database.js';
import { bankParserFor, type BankControl, type BankLine, type BankParseOptions, type BankStatementInfo } from '../parsers/bank/index.js';
import { archiveOriginal } from './archive.js';

/** Bank statements are archived beside the provider statements, under `<archive>/bank/`. */
export const BANK_ARCHIVE_NAMESPACE = 'bank';

/** One statement of the file, as kept in `bank_statement_files.statements` (amounts as decimal text). */
export interface LoadedBankStatementInfo {
  id: string;
  sequence: string | null;
  account: string;
  iban: string | null;
  bic: string | null;
  currency: string;
  opening: { type: string; amount: string; date: string } | null;
  closing: { type: string; amount: string; date: string } | null;
  period: { from: string; to: string } | null;
  entryCount: number;
  lineCount: number;
}

export interface LoadedBankStatement {
  id: string;
  sha256: string;
  sizeBytes: number;
  archivePath: string;
  originalName: string;
  /** `camt.053.001.0x` or `mt940`. */
  format: string;
  messageId: string | null;
  statements: LoadedBankStatementInfo[];
  lineCount: number;
  /** Every balance and total the file states, with what its lines add up to (all hold unless accepted). */
  controls: BankControl[];
  warnings: string[];
  /** True when these exact bytes had been loaded before and were not parsed again. */
  alreadyLoaded: boolean;
}

const LINE_COLUMNS = [
  'bank_statement_file_id', 'line_no', 'source_line', 'statement_id', 'statement_index', 'entry_index',
  'account', 'currency', 'amount', 'booking_date', 'value_date', 'entry_ref', 'end_to_end_id', 'refs',
  'remittance', 'additional_info', 'counterparty_name', 'counterparty_account', 'bank_tx_code', 'status',
  'reversal', 'batch',
] as const;

function lineRow(fileId: string, lineNo: number, l: BankLine): CopyValue[] {
  return [
    fileId, String(lineNo), String(l.source.line), l.statementId, String(l.statementIndex), String(l.entryIndex),
    l.account, l.currency, l.amount.toFixed(), l.bookingDate, l.valueDate, l.entryRef, l.endToEndId,
    l.references.length > 0 ? JSON.stringify(l.references) : null,
    l.remittance, l.additionalInfo, l.counterpartyName, l.counterpartyAccount, l.bankTxCode, l.status,
    l.reversal ? 't' : 'f',
    l.batch ? JSON.stringify({ ...l.batch, entryAmount: l.batch.entryAmount.toFixed() }) : null,
  ];
}

const balanceJson = (b: BankStatementInfo['opening']) => (b ? { type: b.type, amount: b.amount.toFixed(), date: b.date } : null);

function statementJson(s: BankStatementInfo): LoadedBankStatementInfo {
  return {
    id: s.id,
    sequence: s.sequence,
    account: s.account.id,
    iban: s.account.iban,
    bic: s.account.bic,
    currency: s.currency,
    opening: balanceJson(s.opening),
    closing: balanceJson(s.closing),
    period: s.period,
    entryCount: s.entryCount,
    lineCount: s.lineCount,
  };
}

interface FileRow {
  id: string;
  format: string | null;
  message_id: string | null;
  line_count: number | null;
  statements: LoadedBankStatementInfo[] | null;
  controls: BankControl[] | null;
  warnings: string[] | null;
}

/**
 * Keeps the original bytes of a bank statement (camt.053 or MT940, recognised by content), then parses
 * it and loads its lines in one transaction: COPY into `bank_lines`, committed only when the whole file
 * parsed and every balance and total it states held (or the caller accepted a mismatch, which stays
 * recorded in `controls`). A rejected file leaves no row behind; its archived bytes stay as evidence.
 * Loading the same bytes again (by sha256) is a no-op that returns the earlier load.
 */
export async function loadBankStatement(
  db: Database,
  args: { path: string; archiveDir: string; options?: BankParseOptions; source?: string },
): Promise<LoadedBankStatement> {
  const archived = await archiveOriginal(args.archiveDir, BANK_ARCHIVE_NAMESPACE, args.path);
  // Recognise the format before anything is written: a file that is not a bank statement is refused.
  const parser = await bankParserFor(args.path, archived.originalName);

  const [existing] = await db.query<FileRow>(
    `SELECT id, format, message_id, line_count, statements, controls, warnings
       FROM bank_statement_files WHERE sha256 = $1 AND loaded_at IS NOT NULL`,
    [archived.sha256],
  );
  if (existing) {
    return {
      ...archived,
      id: String(existing.id),
      format: existing.format ?? parser.format,
      messageId: existing.message_id,
      statements: existing.statements ?? [],
      lineCount: existing.line_count ?? 0,
      controls: existing.controls ?? [],
      warnings: existing.warnings ?? [],
      alreadyLoaded: true,
    };
  }

  return db.transaction(async (tx) => {
    const [file] = await tx.query<{ id: string }>(
      `INSERT INTO bank_statement_files (sha256, size_bytes, original_name, archive_path, source)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (sha256) DO UPDATE SET original_name = EXCLUDED.original_name
       RETURNING id`,
      [archived.sha256, String(archived.sizeBytes), archived.originalName, archived.archivePath, args.source ?? 'cli'],
    );
    const fileId = String(file!.id);
    await tx.query(`DELETE FROM bank_lines WHERE bank_statement_file_id = $1`, [fileId]);

    const parsed = parser.parse({ path: args.path, displayName: archived.originalName }, args.options);
    let lineNo = 0;
    async function* rows(): AsyncGenerator<CopyValue[]> {
      for await (const line of parsed) {
        lineNo += 1;
        yield lineRow(fileId, lineNo, line);
      }
    }
    await tx.copyFrom('bank_lines', LINE_COLUMNS, rows());
    const summary = await parsed.summary;

    const statements = summary.statements.map(statementJson);
    const first = statements[0];
    const froms = statements.map((s) => s.period?.from).filter((d): d is string => d !== undefined).sort();
    const tos = statements.map((s) => s.period?.to).filter((d): d is string => d !== undefined).sort();
    const accounts = new Set(statements.map((s) => s.account));
    const currencies = new Set(statements.map((s) => s.currency));
    await tx.query(
      `UPDATE bank_statement_files
          SET format = $2, message_id = $3, account = $4, currency = $5, period_from = $6, period_to = $7,
              line_count = $8, statements = $9, controls = $10, warnings = $11, loaded_at = now()
        WHERE id = $1`,
      [
        fileId, summary.format, summary.messageId,
        accounts.size === 1 ? first!.account : null,
        currencies.size === 1 ? first!.currency : null,
        froms[0] ?? null, tos[tos.length - 1] ?? null,
        lineNo, JSON.stringify(statements), JSON.stringify(summary.controls), JSON.stringify(summary.warnings),
      ],
    );
    return {
      ...archived,
      id: fileId,
      format: summary.format,
      messageId: summary.messageId,
      statements,
      lineCount: lineNo,
      controls: summary.controls,
      warnings: summary.warnings,
      alreadyLoaded: false,
    };
  });
}
