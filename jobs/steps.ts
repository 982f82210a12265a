import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { registerSecrets } from '../core/logger.js';
import type { Database } from '../db/database.js';
import type { ProviderId } from '../parsers/contract.js';
import { parserFor } from '../parsers/registry.js';
import { fetcherFromEnv, type ConfiguredFetcher } from '../fetch/registry.js';
import { retryPolicyFromEnv, type RetryPolicy } from '../fetch/retry.js';
import { loadStatement } from '../storage/statements.js';
import { reconcileDay, type DailyRunResult } from '../reconcile/daily.js';
import { loadFeeSchedules } from '../reconcile/fees/index.js';
import { loadMatchRules } from '../reconcile/rules.js';
import { writeDailyReports, type DailyReportFiles } from '../reports/daily-reports.js';
import { writeDayWorkbook } from '../reports/workbook/index.js';
import { fetchStatement } from './fetch-statement.js';
import { notifyMorningMail } from '../reports/mail/morning-mail.js';

/**
 * The steps of the daily pipeline for one (provider, account, bill date). Each step is idempotent and
 * reads what the previous one left in PostgreSQL, so a step can be retried alone, on any machine, and
 * the inline runner (`recon run`), the embedded scheduler and the BullMQ workers run the very same code.
 */
export interface DayKey {
  provider: ProviderId;
  account: string;
  /** The bill date, `YYYY-MM-DD`, in the provider's time zone. */
  date: string;
}

export interface StepDeps {
  db: Database;
  config: Config;
  log: Logger;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  retry?: RetryPolicy;
  /** How to get a provider's download client (tests may pass their own). */
  fetcherFor?: (provider: ProviderId) => ConfiguredFetcher;
}

export const STEPS = ['fetch', 'load', 'reconcile', 'report', 'notify'] as const;
export type StepName = (typeof STEPS)[number];

/** The download client and account configured for a provider. */
export function configuredFetcher(deps: Pick<StepDeps, 'env' | 'fetcherFor'>, provider: ProviderId): ConfiguredFetcher {
  const configured = deps.fetcherFor ? deps.fetcherFor(provider) : fetcherFromEnv(provider, deps.env);
  registerSecrets(configured.secrets);
  return configured;
}

export async function fetchStep(deps: StepDeps, key: DayKey): Promise<{ status: 'fetched' | 'empty'; files: number; fetchId: string }> {
  const { fetcher } = configuredFetcher(deps, key.provider);
  const outcome = await fetchStatement(deps.db, {
    fetcher,
    request: { provider: key.provider, account: key.account, billDate: key.date },
    archiveDir: deps.config.archiveDir,
    retry: deps.retry ?? retryPolicyFromEnv(deps.env),
    context: { ...(deps.signal ? { signal: deps.signal } : {}), log: (event, fields) => deps.log.info(event, fields) },
  });
  return { status: outcome.status, files: outcome.files.length, fetchId: outcome.fetchId };
}

/** The statement files of the day's latest successful fetch (empty for an empty day). */
export async function statementFilesOfDay(db: Database, key: DayKey): Promise<Array<{ id: string; archive_path: string; original_name: string }>> {
  const [latest] = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM fetches
      WHERE provider = $1 AND account = $2 AND bill_date = $3 AND status IN ('fetched', 'empty')
      ORDER BY id DESC LIMIT 1`,
    [key.provider, key.account, key.date],
  );
  if (!latest) throw new Error(`${key.provider} ${key.date}: nothing has been fetched for that day yet`);
  return db.query(
    `SELECT f.id, f.archive_path, f.original_name FROM fetch_files ff JOIN statement_files f ON f.id = ff.statement_file_id
      WHERE ff.fetch_id = $1 ORDER BY f.original_name, f.id`,
    [latest.id],
  );
}

export async function loadStep(deps: StepDeps, key: DayKey): Promise<{ statementFileIds: string[]; lines: number }> {
  const parser = parserFor(key.provider);
  const files = await statementFilesOfDay(deps.db, key);
  const ids: string[] = [];
  let lines = 0;
  for (const f of files) {
    const loaded = await loadStatement(deps.db, { parser, path: f.archive_path, originalName: f.original_name, archiveDir: deps.config.archiveDir, source: 'fetch' });
    ids.push(loaded.id);
    lines += loaded.lineCount;
  }
  return { statementFileIds: ids, lines };
}

/** Reconciles the day; `loaded` is the result of a `loadStep` the caller already ran (not loaded twice). */
export async function reconcileStep(deps: StepDeps, key: DayKey, loaded?: { statementFileIds: string[] }): Promise<DailyRunResult> {
  const { statementFileIds } = loaded ?? (await loadStep(deps, key));
  const fees = deps.config.feesFile ? await loadFeeSchedules(deps.config.feesFile) : undefined;
  const rules = deps.config.rulesFile ? loadMatchRules(deps.config.rulesFile) : undefined;
  return reconcileDay(deps.db, { ...key, statementFileIds, ...(fees ? { feeSchedules: fees.schedules } : {}), ...(rules ? { rules } : {}) });
}

/** The day's report files for the provider, then the day's workbook across every provider reconciled so far. */
export async function reportStep(deps: StepDeps, key: DayKey): Promise<DailyReportFiles> {
  const files = await writeDailyReports(deps.db, key, deps.config.reportsDir);
  await writeDayWorkbook(deps.db, { date: key.date, reportsDir: deps.config.reportsDir });
  return files;
}

/**
 * The day's one-page HTML reports, and the morning e-mail to the configured recipients (SMTP_URL,
 * REPORT_EMAIL_TO[_<PROVIDER>]): sent once per day and run; a rerun sends a marked correction.
 */
export async function notifyStep(deps: StepDeps, key: DayKey): Promise<{ sent: boolean }> {
  return notifyMorningMail(deps, key);
}

/** All steps inline, in order: `recon run` and the embedded scheduler. */
export async function runDay(deps: StepDeps, key: DayKey): Promise<{ run: DailyRunResult; reports: DailyReportFiles }> {
  const log = deps.log.child({ provider: key.provider, account: key.account, date: key.date });
  const scoped = { ...deps, log };
  await fetchStep(scoped, key);
  const run = await reconcileStep(scoped, key);
  const reports = await reportStep(scoped, key);
  await notifyStep(scoped, key);
  return { run, reports };
}
