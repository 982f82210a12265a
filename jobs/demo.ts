import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { projectRoot } from '../core/project-root.js';
import type { Database } from '../db/database.js';
import { startEmulators } from '../emulators/all.js';
import { importLedger, type LedgerImportResult } from '../ledger/import.js';
import { PROVIDER_IDS, type ProviderId } from '../parsers/contract.js';
import { configuredFetcher, runDay, type StepDeps } from './steps.js';
import type { DailyRunResult } from '../reconcile/daily.js';
import type { DailyReportFiles } from '../reports/daily-reports.js';

/** The bundled example day: each provider's statement in its real format, served by its emulator. */
export const DEMO_DAY = '2026-11-24';

export interface DemoResult {
  ledger: LedgerImportResult;
  days: Array<{ provider: ProviderId; account: string; run: DailyRunResult; reports: DailyReportFiles }>;
}

/**
 * `recon demo`, the main job on the embedded default: starts a local emulator for each provider's
 * channel (signatures and credentials checked as the providers do), imports the bundled ledger, then
 * runs the daily pipeline for the example day for all five — fetch over the real client, archive,
 * parse, load, reconcile, reports — exactly as the scheduled pipeline would.
 */
export async function runDemo(db: Database, opts: { config: Config; log: Logger; workDir: string }): Promise<DemoResult> {
  const fixtures = join(projectRoot(), 'fixtures');
  const bytes = (p: string) => readFileSync(join(fixtures, p));
  const emulators = await startEmulators({
    keyDir: join(opts.workDir, 'emulator-keys'),
    day: DEMO_DAY,
    statements: {
      alipay: { name: '20880211096256330156_20261124.csv.zip', bytes: bytes('demo/alipay/20880211096256330156_20261124.csv.zip') },
      wechatpay: { bytes: bytes('demo/wechatpay/tradebill-ALL-2026-11-24.csv') },
      paypal: [{ name: 'STL-20261124.01.009.CSV', bytes: bytes('e2e/STL-20261124.01.009.CSV') }],
      stripe: { reportType: 'payout_reconciliation.itemized.5', csv: bytes('e2e/stripe-payout-reconciliation.csv') },
      adyen: { bytes: bytes('e2e/settlement_detail_report_batch_612.csv') },
    },
  });
  try {
    const ledger = await importLedger(db, join(fixtures, 'demo', 'ledger.csv'));
    const deps: StepDeps = { db, config: opts.config, log: opts.log, env: { ...process.env, ...emulators.env } };
    const days: DemoResult['days'] = [];
    for (const provider of PROVIDER_IDS) {
      const { account } = configuredFetcher(deps, provider);
      const { run, reports } = await runDay(deps, { provider, account, date: DEMO_DAY });
      days.push({ provider, account, run, reports });
    }
    return { ledger, days };
  } finally {
    await emulators.close();
  }
}
