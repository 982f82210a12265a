import { Command, Option } from 'commander';
import { loadConfig, type Config } from '../core/config.js';
import { isInputRejected, ReconError, UsageError } from '../core/errors.js';
import { createLogger, redact, registerSecrets } from '../core/logger.js';
import { isIsoDate } from '../core/time.js';
import { withDatabase } from './with-database.js';
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../parsers/contract.js';
import { EXCEPTION_STATUSES, exceptionHistory, listExceptions, resolveException } from '../reconcile/exceptions.js';
import { formatRunSummary } from './format.js';
import { registerPipelineCommands } from './pipeline-commands.js';
import { registerPayoutCommands } from './payout-commands.js';
import { registerReportCommands } from './report-commands.js';
import { resolve } from 'node:path';

// Each command imports what it runs when it runs: loading every command's modules (the queue, the
// provider clients, exceljs) took ~1 s of each command's start.

/** The log level from RECON_LOG_LEVEL, else the command's default. */
function logLevel(fallback: 'info' | 'warn' | 'error'): 'info' | 'warn' | 'error' {
  const v = process.env.RECON_LOG_LEVEL;
  return v === 'info' || v === 'warn' || v === 'error' ? v : fallback;
}

/** Exit status of the contract: 0 completed, 2 an input was rejected, 1 any other failure. */
const EXIT_REJECTED = 2;
const EXIT_FAILED = 1;

function providerOption(value: string): ProviderId {
  if (!isProviderId(value)) throw new UsageError(`--provider ${JSON.stringify(value)} is not one of ${PROVIDER_IDS.join(', ')}`);
  return value;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function buildProgram(config: Config = loadConfig()): Command {
  const program = new Command('recon')
    .description('walletrecon: reconcile payment-provider statements against the internal ledger')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('reconcile')
    .description('ad-hoc: one provider statement (or several) against a ledger CSV, reports into a folder')
    .requiredOption('--provider <id>', `provider: ${PROVIDER_IDS.join(', ')}`)
    .requiredOption('--statement <file>', 'the statement exactly as the provider delivers it (repeatable)', collect)
    .requiredOption('--ledger <ledger.csv>', 'ledger export (see CONTRACT.md)')
    .requiredOption('--out <dir>', 'folder for discrepancies.csv, summary.json, reconciliation.xlsx')
    .option('--date <YYYY-MM-DD>', "the statement's bill date (provider time zone); overrides its own period")
    .option('--fees <file>', 'contracted fee schedules (JSON, see reconcile/fees/README.md): each line\'s fee is checked against them')
    .option('--rules <file>', 'matching rules in priority order (JSON array, see reconcile/rules.ts); default: the built-in rules', config.rulesFile)
    .addOption(new Option('--accept-control-total-mismatch', 'load a statement whose own control totals disagree with its lines (recorded, not hidden)'))
    .addOption(new Option('--accept-missing-footers', 'load a statement that ends after its lines without the footers a complete report has'))
    .action(async (opts: { provider: string; statement: string[]; ledger: string; out: string; date?: string; fees?: string; rules?: string; acceptControlTotalMismatch?: boolean; acceptMissingFooters?: boolean }) => {
      const provider = providerOption(opts.provider);
      // Loads, and keeps the first statement's bytes, while the database opens and migrates.
      const loading = import('../jobs/reconcile-statement.js');
      loading.catch(() => undefined); // awaited below
      // The original bytes need no database (0.3 s each for a 259 MB bill and a new database's migrations).
      const firstArchiving = import('../storage/archive.js').then((m) => m.archiveOriginal(config.archiveDir, provider, opts.statement[0]!));
      firstArchiving.catch(() => undefined); // awaited by the statement's load, which reports its error
      await withDatabase(config, async (db) => {
        const { reconcileStatements } = await loading;
        const result = await reconcileStatements(db, {
          firstArchiving,
          provider,
          statements: opts.statement,
          ledger: opts.ledger,
          out: opts.out,
          date: opts.date,
          feesFile: opts.fees ?? config.feesFile,
          rulesFile: opts.rules,
          archiveDir: config.archiveDir,
          parseOptions: { acceptControlTotalMismatch: opts.acceptControlTotalMismatch === true, acceptMissingFooters: opts.acceptMissingFooters === true },
        });
        process.stdout.write(formatRunSummary(result.summary, result.files));
      });
    });

  program
    .command('fetch')
    .description("download that day's statement over the provider's real channel, archive the original bytes, print its path and sha256")
    .requiredOption('--provider <id>', `provider: ${PROVIDER_IDS.join(', ')}`)
    .requiredOption('--date <YYYY-MM-DD>', 'the bill date (provider time zone)')
    .option('--file <name>', 'adyen: the report file to download (repeatable); default: the daily file name template', collect)
    .action(async (opts: { provider: string; date: string; file?: string[] }) => {
      const provider = providerOption(opts.provider);
      if (!isIsoDate(opts.date)) throw new UsageError(`--date ${JSON.stringify(opts.date)} is not a YYYY-MM-DD date`);
      const [{ fetcherFromEnv }, { fetchStatement }, { retryPolicyFromEnv }] = await Promise.all([
        import('../fetch/registry.js'), import('../jobs/fetch-statement.js'), import('../fetch/retry.js'),
      ]);
      const configured = fetcherFromEnv(provider, process.env, { files: opts.file ?? [] });
      registerSecrets(configured.secrets);
      const log = createLogger({ scope: { provider, account: configured.account, date: opts.date } });
      await withDatabase(config, async (db) => {
        log.info('fetch.start');
        const outcome = await fetchStatement(db, {
          fetcher: configured.fetcher,
          request: { provider, account: configured.account, billDate: opts.date },
          archiveDir: config.archiveDir,
          retry: retryPolicyFromEnv(process.env),
          context: { log: (event, fields) => log.info(event, fields) },
        });
        if (outcome.files.length === 0) process.stdout.write(`${provider} ${opts.date}: the provider has no statement for that day\n`);
        for (const f of outcome.files) {
          process.stdout.write(`${f.archivePath}  sha256:${f.sha256}  ${f.name} (${f.sizeBytes} bytes${f.alreadyStored ? ', already stored' : ''})\n`);
        }
        log.info('fetch.done', { files: outcome.files.length, fetchId: outcome.fetchId });
      });
    });

  const ledger = program.command('ledger').description('the internal ledger');
  ledger
    .command('import')
    .description('load or update ledger rows from a CSV (idempotent by ledger_id)')
    .requiredOption('--file <ledger.csv>', 'ledger export (see CONTRACT.md)')
    .action(async (opts: { file: string }) => {
      const { importLedger } = await import('../ledger/import.js');
      await withDatabase(config, async (db) => {
        const r = await importLedger(db, opts.file);
        process.stdout.write(`${r.file}: ${r.rows} rows (${r.inserted} new, ${r.updated} updated, ${r.unchanged} unchanged)\n`);
      });
    });

  const exceptions = program.command('exceptions').description('discrepancies as work items: status, note, history');
  exceptions
    .command('list')
    .description('list exceptions (newest first)')
    .option('--provider <id>', 'only this provider')
    .option('--status <status>', `only this status: ${EXCEPTION_STATUSES.join(', ')}`)
    .option('--from <YYYY-MM-DD>', 'seen on or after this day')
    .option('--to <YYYY-MM-DD>', 'first seen on or before this day')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { provider?: string; status?: string; from?: string; to?: string; json?: boolean }) => {
      await withDatabase(config, async (db) => {
        const rows = await listExceptions(db, opts);
        if (opts.json) {
          for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        if (rows.length === 0) process.stdout.write('no exceptions\n');
        for (const r of rows) {
          const what = [r.type, r.provider_txn_id, r.order_id, r.ledger_id].filter((v) => v).join(' ');
          process.stdout.write(`${r.id.padStart(6)}  ${r.status.padEnd(11)} ${r.provider.padEnd(9)} ${r.kind.padEnd(22)} ${what}  (${r.first_seen_on}..${r.last_seen_on})${r.note ? `  — ${r.note}` : ''}\n`);
        }
      });
    });
  exceptions
    .command('resolve')
    .description('set an exception\'s status, with a note saying why')
    .argument('<id>', 'the exception id (from `recon exceptions list`)')
    .requiredOption('--status <status>', EXCEPTION_STATUSES.join(', '))
    .requiredOption('--note <text>', 'why')
    .option('--by <name>', 'who (default $USER)')
    .action(async (id: string, opts: { status: string; note: string; by?: string }) => {
      await withDatabase(config, async (db) => {
        const row = await resolveException(db, { id, status: opts.status, note: opts.note, actor: opts.by ?? process.env.USER ?? 'unknown' });
        process.stdout.write(`${row.id}: ${row.status} — ${row.note}\n`);
        for (const h of await exceptionHistory(db, row.id)) {
          process.stdout.write(`  ${h.actor}: ${h.event}${h.to_status ? ` → ${h.to_status}` : ''}${h.note ? ` (${h.note})` : ''}\n`);
        }
      });
    });

  program
    .command('demo')
    .description('the main job on the embedded default: a day of every provider served by local emulators, fetched, reconciled, reports written')
    .option('--out <dir>', 'reports folder (default $REPORTS_DIR, ./reports)')
    .action(async (opts: { out?: string }) => {
      const demoConfig = { ...config, reportsDir: opts.out ? resolve(opts.out) : config.reportsDir };
      const log = createLogger({ level: logLevel('warn') });
      const { runDemo } = await import('../jobs/demo.js');
      await withDatabase(demoConfig, async (db) => {
        const result = await runDemo(db, { config: demoConfig, log, workDir: demoConfig.home });
        process.stdout.write(`ledger: ${result.ledger.rows} rows from ${result.ledger.file}\n`);
        for (const d of result.days) process.stdout.write(formatRunSummary(d.run.summary, d.reports));
      });
    });

  registerPipelineCommands(program, config);
  registerPayoutCommands(program, config);
  registerReportCommands(program, config);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // commander has printed its own message (usage, help, version).
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : EXIT_REJECTED;
    }
    if (isInputRejected(err)) {
      process.stderr.write(redact(`recon: rejected: ${(err as Error).message}\n`));
      return EXIT_REJECTED;
    }
    // Known failures (a provider refusing credentials, a bad signature) say enough in their message.
    const known = err instanceof ReconError;
    process.stderr.write(redact(`recon: failed: ${err instanceof Error ? (known ? err.message : (err.stack ?? err.message)) : String(err)}\n`));
    return EXIT_FAILED;
  }
}
