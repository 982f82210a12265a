import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../core/config.js';
import { UsageError } from '../core/errors.js';
import { formatAmount, isKnownCurrency, type Decimal } from '../core/money/index.js';
import { daysInRange, isIsoDate } from '../core/time.js';
import { withDatabase } from './with-database.js';
import { isProviderId, PROVIDER_IDS } from '../parsers/contract.js';
import { loadFeeSchedules } from '../reconcile/fees/index.js';
// The report writers (exceljs) load when a report command runs, not at every command's start.
import { PERIOD_GROUPINGS, type PeriodGrouping } from '../reports/fees-report/compare.js';

function dateOption(name: string, value: string): string {
  if (!isIsoDate(value)) throw new UsageError(`${name} ${JSON.stringify(value)} is not a YYYY-MM-DD date`);
  return value;
}

/** A date range from the command line: `to` defaults to `from`; at most ~3 years. */
export function dateRange(fromName: string, from: string, toName: string, to: string | undefined): { from: string; to: string } {
  const f = dateOption(fromName, from);
  const t = to === undefined ? f : dateOption(toName, to);
  if (t < f) throw new UsageError(`${toName} ${t} is before ${fromName} ${f}`);
  if (daysInRange(f, t).length > 1100) throw new UsageError(`${fromName} ${f} ${toName} ${t}: the range is longer than 1100 days`);
  return { from: f, to: t };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.');

/** `recon report day` (the day workbooks) and `recon report fees` (fee comparison across providers). */
export function registerReportCommands(program: Command, config: Config): void {
  const report = program.command('report').description('reports people read: the day workbook, the fee comparison across providers');

  report
    .command('day')
    .description('(re)write the reconciliation workbook of each day in the range from the database: <reports>/<date>/reconciliation.xlsx (all providers) and <reports>/<date>/<provider>/reconciliation.xlsx')
    .requiredOption('--date <YYYY-MM-DD>', 'the (first) bill date')
    .option('--to <YYYY-MM-DD>', 'the last bill date of the range (default: --date)')
    .option('--provider <id>', `only this provider (repeatable): ${PROVIDER_IDS.join(', ')}`, collect)
    .option('--out <dir>', 'reports folder (default $REPORTS_DIR)')
    .action(async (opts: { date: string; to?: string; provider?: string[]; out?: string }) => {
      const range = dateRange('--date', opts.date, '--to', opts.to);
      for (const p of opts.provider ?? []) {
        if (!isProviderId(p)) throw new UsageError(`--provider ${JSON.stringify(p)} is not one of ${PROVIDER_IDS.join(', ')}`);
      }
      const reportsDir = resolve(opts.out ?? config.reportsDir);
      const { writeDayWorkbook } = await import('../reports/workbook/day-workbook.js');
      await withDatabase(config, async (db) => {
        let written = 0;
        for (const date of daysInRange(range.from, range.to)) {
          const r = await writeDayWorkbook(db, { date, reportsDir, ...(opts.provider ? { providers: opts.provider } : {}) });
          if (r.combined === null) {
            process.stdout.write(`${date}: no completed daily run, nothing written\n`);
            continue;
          }
          written++;
          const per = Object.keys(r.perProvider);
          process.stdout.write(`${date}: ${shown(r.combined)} (${r.runs} run${r.runs === 1 ? '' : 's'}; per provider: ${per.join(', ')})\n`);
        }
        process.stdout.write(`${written} day workbook${written === 1 ? '' : 's'} written\n`);
      });
    });

  report
    .command('fees')
    .description('fees charged vs contracted per provider, payment method / wallet, currency and period, and what the volume would have cost under every configured provider: fees.xlsx, fees.csv, fees-whatif.csv')
    .requiredOption('--from <YYYY-MM-DD>', 'first day (statement days, in each provider\'s time zone)')
    .requiredOption('--to <YYYY-MM-DD>', 'last day, inclusive')
    .option('--fees <schedule.json>', 'contracted fee schedules (reconcile/fees/README.md); default RECON_FEES_FILE')
    .option('--out <dir>', 'folder for the report (default $REPORTS_DIR/fees/<from>_<to>)')
    .option('--by <period>', `rows per ${PERIOD_GROUPINGS.join(' | ')} (default month, clipped to the range)`, 'month')
    .option('--daily-only', 'only statements of completed daily runs (default: also statements loaded ad hoc whose period lies in the range)')
    .action(async (opts: { from: string; to: string; fees?: string; out?: string; by: string; dailyOnly?: boolean }) => {
      const range = dateRange('--from', opts.from, '--to', opts.to);
      if (!(PERIOD_GROUPINGS as readonly string[]).includes(opts.by)) throw new UsageError(`--by ${JSON.stringify(opts.by)} is not one of ${PERIOD_GROUPINGS.join(', ')}`);
      const feesFile = opts.fees ?? config.feesFile;
      if (!feesFile) throw new UsageError('--fees <schedule.json> is required (or set RECON_FEES_FILE)');
      const fees = await loadFeeSchedules(feesFile);
      const out = resolve(opts.out ?? `${config.reportsDir}/fees/${range.from}_${range.to}`);
      const { writeFeeReport } = await import('../reports/fees-report/index.js');
      await withDatabase(config, async (db) => {
        const r = await writeFeeReport(db, { ...range, fees, out, by: opts.by as PeriodGrouping, includeAdhoc: opts.dailyOnly !== true });
        const unpriced = r.comparison.rows.reduce((n, row) => n + row.unpricedCount, 0);
        const compared = r.comparison.rows.reduce((n, row) => n + row.count, 0);
        process.stdout.write(`${range.from} .. ${range.to}: ${r.statements.length} statement${r.statements.length === 1 ? '' : 's'}, ${compared} payments/refunds/chargebacks compared, ${unpriced} not priceable under the schedules\n`);
        for (const row of r.comparison.rows) {
          const amt = (v: Decimal) => (isKnownCurrency(row.currency) ? formatAmount(v, row.currency) : v.toFixed());
          const parts = [`fees ${amt(row.feesCharged)}`];
          if (row.pricedCount > 0) parts.push(`expected ${amt(row.expectedFee)}`);
          if (!row.overcharge.isZero()) parts.push(`overcharged ${amt(row.overcharge)}`);
          if (!row.undercharge.isZero()) parts.push(`undercharged ${amt(row.undercharge)}`);
          if (row.unpricedCount > 0) parts.push(`${row.unpricedCount} not priceable`);
          const method = [row.paymentMethod, row.wallet].filter((v) => v !== '').join('/') || '-';
          process.stdout.write(`  ${row.periodFrom}..${row.periodTo}  ${row.provider.padEnd(9)} ${row.currency} ${method.padEnd(16)} ${String(row.count).padStart(6)} lines  ${parts.join('  ')}\n`);
        }
        process.stdout.write(`reports: ${shown(r.files.xlsx)}, ${shown(r.files.csv)}, ${shown(r.files.whatIfCsv)}\n`);
      });
    });
}
