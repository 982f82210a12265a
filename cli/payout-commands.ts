import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { isIsoDate } from '../core/time.js';
import { withDatabase } from './with-database.js';
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../parsers/contract.js';
import type { PayoutReportRow } from '../reconcile/payouts/index.js';
import type { LoadedBankStatement } from '../storage/bank-statements.js';

function dateOption(name: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (!isIsoDate(value)) throw new UsageError(`${name} ${JSON.stringify(value)} is not a YYYY-MM-DD date`);
  return value;
}

/** What `recon bank import` prints: lines loaded, and each statement's balances with their check. */
export function formatBankLoad(r: LoadedBankStatement): string {
  const out: string[] = [];
  out.push(`${r.originalName}: ${r.format}, ${r.lineCount} lines ${r.alreadyLoaded ? 'already loaded (same sha256)' : 'loaded'}  sha256:${r.sha256}`);
  for (const s of r.statements) {
    const bal = (b: typeof s.opening) => (b ? `${b.type} ${b.amount} (${b.date})` : 'none');
    out.push(`  statement ${s.id}  ${s.account} ${s.currency}  ${s.entryCount} entries, ${s.lineCount} lines  opening ${bal(s.opening)} → closing ${bal(s.closing)}`);
  }
  const failed = r.controls.filter((c) => c.expected !== c.actual);
  out.push(`  balances check: ${r.controls.length} control${r.controls.length === 1 ? '' : 's'}, ${failed.length === 0 ? 'all hold' : `${failed.length} disagree (accepted)`}`);
  for (const c of failed) out.push(`    ${c.label}: says ${c.expected}, lines add up to ${c.actual}`);
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join('\n') + '\n';
}

/** The payouts table as people read it on a terminal. */
export function formatPayoutTable(rows: readonly PayoutReportRow[]): string {
  const cols: [keyof PayoutReportRow, string][] = [
    ['status', 'status'], ['provider', 'provider'], ['payout', 'payout'], ['currency', 'ccy'], ['amount', 'amount'],
    ['lines_total', 'lines'], ['bank_line', 'bank line'], ['value_date', 'value date'], ['lag_days', 'lag'],
    ['difference', 'diff'], ['fx_difference', 'fx diff'],
  ];
  const cells = [cols.map(([, h]) => h), ...rows.map((r) => cols.map(([k]) => r[k]))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** `recon bank import` and `recon payouts`. */
export function registerPayoutCommands(program: Command, config: Config): void {
  const bank = program.command('bank').description('bank statements (camt.053, MT940) for payout ↔ deposit matching');
  bank
    .command('import')
    .description('archive and load a bank statement (camt.053 XML or SWIFT MT940, recognised by content; idempotent by sha256)')
    .requiredOption('--file <statement>', 'the statement exactly as the bank delivers it')
    .option('--accept-control-total-mismatch', 'load a statement whose balances disagree with its entries (recorded, not hidden)')
    .option('--accept-missing-balance', 'load a statement that states no opening or closing balance')
    .action(async (opts: { file: string; acceptControlTotalMismatch?: boolean; acceptMissingBalance?: boolean }) => {
      const { loadBankStatement } = await import('../storage/bank-statements.js');
      await withDatabase(config, async (db) => {
        const r = await loadBankStatement(db, {
          path: opts.file,
          archiveDir: config.archiveDir,
          options: { acceptControlTotalMismatch: opts.acceptControlTotalMismatch === true, acceptMissingBalance: opts.acceptMissingBalance === true },
        });
        process.stdout.write(formatBankLoad(r));
      });
    });

  program
    .command('payouts')
    .description('derive payouts from the loaded statements, match them to the loaded bank deposits, write payouts.csv')
    .option('--from <YYYY-MM-DD>', 'payouts expected (deposits valued) on or after this day')
    .option('--to <YYYY-MM-DD>', 'payouts expected (deposits valued) on or before this day')
    .option('--provider <id>', `only this provider: ${PROVIDER_IDS.join(', ')}`)
    .option('--as-of <YYYY-MM-DD>', 'the day overdue payouts are judged by (default: the latest bank booking date loaded)')
    .option('--out <dir>', 'folder for payouts.csv (default $REPORTS_DIR/payouts)')
    .action(async (opts: { from?: string; to?: string; provider?: string; asOf?: string; out?: string }) => {
      let providers: readonly ProviderId[] = PROVIDER_IDS;
      if (opts.provider !== undefined) {
        if (!isProviderId(opts.provider)) throw new UsageError(`--provider ${JSON.stringify(opts.provider)} is not one of ${PROVIDER_IDS.join(', ')}`);
        providers = [opts.provider];
      }
      const from = dateOption('--from', opts.from);
      const to = dateOption('--to', opts.to);
      const asOf = dateOption('--as-of', opts.asOf);
      const out = resolve(opts.out ?? `${config.reportsDir}/payouts`);
      const { reconcilePayouts } = await import('../reconcile/payouts/index.js');
      await withDatabase(config, async (db) => {
        const r = await reconcilePayouts(db, { providers, from, to, asOf, out });
        process.stdout.write(formatPayoutTable(r.rows));
        const found = Object.entries(r.matched.counts).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`);
        if (r.payoutMismatches > 0) found.unshift(`payout_mismatch ${r.payoutMismatches}`);
        process.stdout.write(`payouts: ${r.derived.total} derived; as of ${r.matched.asOf}: ${found.join(', ') || 'nothing to report'}\n`);
        process.stdout.write(`report: ${r.csv}\n`);
      });
    });
}
