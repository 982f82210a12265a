import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from '../../db/database.js';
import { PROVIDER_IDS, type ProviderId } from '../../parsers/contract.js';
import { derivePayouts, type DerivedPayouts } from './derive.js';
import { matchPayoutDeposits, type PayoutMatchResult } from './match-deposits.js';
import { payoutReportRows, writePayoutsCsv, type PayoutReportRow } from './report.js';
import type { PayoutRule } from './rules.js';

export { derivePayouts } from './derive.js';
export { matchPayoutDeposits, PAYOUT_STATUSES, type PayoutStatus } from './match-deposits.js';
export { payoutReportRows, writePayoutsCsv, PAYOUT_REPORT_COLUMNS, type PayoutReportRow } from './report.js';
export { PAYOUT_RULES, type PayoutRule } from './rules.js';

export interface PayoutRunOptions {
  providers?: readonly ProviderId[];
  from?: string | null;
  to?: string | null;
  asOf?: string | null;
  rules?: Readonly<Record<ProviderId, PayoutRule>>;
  /** Folder for payouts.csv; nothing is written when absent. */
  out?: string;
}

export interface PayoutRunResult {
  derived: DerivedPayouts;
  matched: PayoutMatchResult;
  /** Payouts whose amount is not the sum of their lines. */
  payoutMismatches: number;
  rows: PayoutReportRow[];
  csv: string | null;
}

/** `recon payouts`: derive payouts from the loaded statements, match them to bank deposits, report. */
export async function reconcilePayouts(db: Database, options: PayoutRunOptions = {}): Promise<PayoutRunResult> {
  const providers = options.providers ?? PROVIDER_IDS;
  const derived = await db.transaction((tx) => derivePayouts(tx, providers));
  const matched = await matchPayoutDeposits(db, { providers, from: options.from ?? null, to: options.to ?? null, asOf: options.asOf ?? null, ...(options.rules ? { rules: options.rules } : {}) });
  const rows = await payoutReportRows(db, { providers, from: options.from ?? null, to: options.to ?? null });
  let csv: string | null = null;
  if (options.out !== undefined) {
    await mkdir(options.out, { recursive: true });
    csv = join(options.out, 'payouts.csv');
    await writePayoutsCsv(csv, rows);
  }
  return { derived, matched, payoutMismatches: rows.filter((r) => r.status === 'payout_mismatch').length, rows, csv };
}
