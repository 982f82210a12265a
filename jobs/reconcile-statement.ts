import type { Database } from '../db/database.js';
import { UsageError } from '../core/errors.js';
import { dayBounds, isIsoDate, localDate } from '../core/time.js';
import { importLedger, importLedgerIn, type LedgerImportResult } from '../ledger/import.js';
import type { ParseOptions, ProviderId } from '../parsers/contract.js';
import { parserFor } from '../parsers/registry.js';
import { loadFeeSchedules } from '../reconcile/fees/index.js';
import { loadMatchRules } from '../reconcile/rules.js';
import { prepareAdhocLedger } from '../reconcile/match.js';
import { adhocRunDate, reconcileRun, reconcileRunIn, type RunRequest, type RunSummary } from '../reconcile/run.js';
import { loadedFeeRows, lineTypesOf, type FeeRow } from '../reports/fee-rows.js';
import { prefetchWorkbookWriter, writeRunReports } from '../reports/write-run-reports.js';
import type { ArchivedFile } from '../storage/archive.js';
import { loadStatement, type LoadedStatement } from '../storage/statements.js';

export interface ReconcileRequest {
  provider: ProviderId;
  statements: string[];
  ledger: string;
  out: string;
  /** Overrides the statement's own period with this calendar day in the provider's time zone. */
  date?: string | undefined;
  archiveDir: string;
  parseOptions?: ParseOptions;
  /** A fee schedule file (`--fees`): every statement line's fee is checked against it. */
  feesFile?: string | undefined;
  /** A matching rules file (`--rules`): the rules in priority order. */
  rulesFile?: string | undefined;
  /** The first statement's archive step (`archiveOriginal`), started before the database was open. */
  firstArchiving?: Promise<ArchivedFile> | undefined;
}

export interface ReconcileResult {
  summary: RunSummary;
  statements: LoadedStatement[];
  ledger: LedgerImportResult;
  files: { discrepancies: string; summary: string; workbook: string };
}

/**
 * The statement's period: `--date` when given; else what the files state; else the calendar days
 * (provider time zone) their lines span. Several statements: the union.
 */
export function statementPeriod(statements: LoadedStatement[], timeZone: string, date?: string): { start: Date; end: Date; billDate: string | null } {
  if (date !== undefined) {
    const b = dayBounds(date, timeZone);
    return { ...b, billDate: date };
  }
  let start: Date | null = null;
  let end: Date | null = null;
  const widen = (s: Date, e: Date) => {
    if (start === null || s < start) start = s;
    if (end === null || e > end) end = e;
  };
  for (const st of statements) {
    if (st.period) widen(st.period.start, st.period.end);
    else if (st.span) widen(dayBounds(localDate(st.span.first, timeZone), timeZone).start, dayBounds(localDate(st.span.last, timeZone), timeZone).end);
  }
  if (start === null || end === null) {
    throw new UsageError('the statement states no period and has no lines to infer one from: give --date YYYY-MM-DD');
  }
  const s: Date = start;
  const e: Date = end;
  const days = (e.getTime() - s.getTime()) / 86_400_000;
  return { start: s, end: e, billDate: days <= 1.05 ? localDate(s, timeZone) : null };
}

/**
 * `recon reconcile`: one provider's statement file(s) against a ledger CSV. Statements are archived and
 * loaded (a rejected file stops everything before any result exists) while the ledger is imported;
 * then the run pairs them and the reports are written into `out` (replacing, never adding).
 */
export async function reconcileStatements(db: Database, req: ReconcileRequest): Promise<ReconcileResult> {
  if (req.date !== undefined && !isIsoDate(req.date)) throw new UsageError(`--date ${JSON.stringify(req.date)} is not a YYYY-MM-DD date`);
  if (req.statements.length === 0) throw new UsageError('give at least one --statement file');
  const parser = parserFor(req.provider);
  const fees = req.feesFile ? await loadFeeSchedules(req.feesFile) : undefined;
  const rules = req.rulesFile ? loadMatchRules(req.rulesFile) : undefined;

  // The first statement's archive copy and hash, done or failed: the ledger's import waits for it.
  let firstArchived!: () => void;
  const archivedFirst = new Promise<void>((resolve) => (firstArchived = resolve));
  const loadAll = async (): Promise<LoadedStatement[]> => {
    const loaded: LoadedStatement[] = [];
    for (const [i, path] of req.statements.entries()) {
      const archiving = i === 0 ? req.firstArchiving : undefined;
      loaded.push(await loadStatement(db, { parser, path, archiveDir: req.archiveDir, options: req.parseOptions ?? {}, onArchived: firstArchived, ...(archiving ? { archiving } : {}) }));
    }
    return loaded;
  };
  const runRequest = (statements: LoadedStatement[], ledger: LedgerImportResult): RunRequest => {
    const period = statementPeriod(statements, parser.timeZone, req.date);
    return {
      provider: req.provider,
      kind: 'adhoc',
      statementFileIds: statements.map((s) => s.id),
      period: { start: period.start, end: period.end },
      billDate: period.billDate,
      ledgerImportId: ledger.importId,
      ...(fees ? { feeSchedules: fees.schedules } : {}),
      ...(rules ? { rules } : {}),
    };
  };
  let statements: LoadedStatement[];
  let ledger: LedgerImportResult;
  let summary: RunSummary;
  let chargedFees: Promise<FeeRow[]> | undefined;
  if (db.kind === 'postgres') {
    // The ledger is imported while the statements load (two connections: the server takes both COPYs
    // while this thread parses). The import and the run share one transaction, which goes on only once
    // every statement has loaded: a rejected statement still stops everything before any result exists.
    // When the run's day is known beforehand (--date), the ledger side of the matching is made in that
    // transaction while the statements still load.
    const loading = loadAll();
    loading.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const early = req.date !== undefined ? statementPeriod([], parser.timeZone, req.date) : null;
    ({ statements, ledger, summary } = await db.transaction(async (tx) => {
      let imported: LedgerImportResult;
      try {
        // The statement is the longer load and its parse waits for its archive copy and hash: the ledger,
        // which finishes well before it, starts once that is done instead of slowing it (2.6 GB hashed
        // and copied beside the ledger's parse took 14 s at 10M, alone 7-10 s).
        await archivedFirst;
        imported = await importLedgerIn(tx, req.ledger);
        if (early) {
          await prepareAdhocLedger(tx, {
            provider: req.provider, ledgerImportId: imported.importId, periodStart: early.start, periodEnd: early.end,
            runDate: adhocRunDate({ billDate: early.billDate, period: early }),
          });
        }
      } catch (err) {
        await loading; // a statement's own error comes first, as when it loads alone
        throw err;
      }
      const loaded = await loading;
      // The matching keeps one core busy. Beside it, this process loads the workbook writer. What the reports
      // need of the statements, their loads counted; a statement loaded earlier is read from the stored lines
      // by another connection once the run has made its scratch tables (at 10M, the two scans of the
      // statements side by side took as long as one after the other).
      prefetchWorkbookWriter();
      const readCharged = () => {
        if (!chargedFees) {
          chargedFees = loadedFeeRows(db, loaded);
          chargedFees.catch(() => undefined); // awaited by the summary and the reports
        }
        return chargedFees;
      };
      const run = await reconcileRunIn(tx, runRequest(loaded, imported), {
        ledgerPrepared: early !== null,
        onCandidates: () => void readCharged(),
        lineTypes: () => readCharged().then(lineTypesOf),
      });
      return { statements: loaded, ledger: imported, summary: run };
    }));
  } else {
    // PGlite is one connection: one transaction after the other.
    statements = await loadAll();
    ledger = await importLedger(db, req.ledger);
    summary = await reconcileRun(db, runRequest(statements, ledger));
  }
  const charged = await (chargedFees ?? loadedFeeRows(db, statements));
  const files = await writeRunReports(db, summary, statements.map((s) => s.id), req.out, { fees: charged });
  return { summary, statements, ledger, files };
}
