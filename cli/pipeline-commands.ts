import { Command, Option } from 'commander';
import type { Config } from '../core/config.js';
import { InputRejectedError, isInputRejected, ReconError, UsageError } from '../core/errors.js';
import { createLogger, redact, type Logger } from '../core/logger.js';
import { isIsoDate } from '../core/time.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateLatest } from '../db/migrate.js';
import { isProviderId, PROVIDER_IDS, type ProviderId } from '../parsers/contract.js';
import type { StepDeps } from '../jobs/steps.js';
import { formatRunSummary } from './format.js';

/**
 * The daily-pipeline commands (CONTRACT.md): `recon run`, `recon backfill`, `recon worker`,
 * `recon scheduler`, `recon dashboard`. Exit status follows the contract: 0 all done, 2 an input was
 * rejected (bad command line, or — for run and backfill — the only failed days failed on a rejected
 * statement), 1 any other failure.
 */

// Each command imports the pipeline's modules when it runs: the queue (bullmq, ioredis, Bull Board) and
// the provider clients are most of a second of module loading that the other commands should not pay.
const queueModules = async () => {
  const [queues, flow, backfill, providers, scheduler] = await Promise.all([
    import('../jobs/queue/queues.js'), import('../jobs/queue/flow.js'), import('../jobs/queue/backfill.js'),
    import('../jobs/queue/providers.js'), import('../jobs/queue/scheduler.js'),
  ]);
  return { ...queues, ...flow, ...backfill, ...providers, ...scheduler };
};

/** Some days failed (exit status 1 through the CLI's error mapping). */
export class PipelineFailedError extends ReconError {}
/** Some days failed, all on rejected input (exit status 2). */
export class PipelineRejectedError extends InputRejectedError {}

function logLevel(fallback: 'info' | 'warn' | 'error'): 'info' | 'warn' | 'error' {
  const v = process.env.RECON_LOG_LEVEL;
  return v === 'info' || v === 'warn' || v === 'error' ? v : fallback;
}

function providerOption(value: string, previous: ProviderId[] = []): ProviderId[] {
  if (!isProviderId(value)) throw new UsageError(`--provider ${JSON.stringify(value)} is not one of ${PROVIDER_IDS.join(', ')}`);
  return [...previous, value];
}

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number.parseInt(value, 10) < 1) throw new UsageError(`${name} ${JSON.stringify(value)} is not a positive whole number`);
    return Number.parseInt(value, 10);
  };
}

async function openDb(config: Config): Promise<Database> {
  const db = await openDatabase({ url: config.databaseUrl, pgliteDir: `${config.home}/pgdata` });
  try {
    await migrateLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** Waits for SIGTERM or SIGINT. */
function untilSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (s: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      log.info('signal', { signal: s });
      resolve(s);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export function registerPipelineCommands(program: Command, config: Config): Command {
  program
    .command('run')
    .description('the whole daily pipeline inline, no queue: fetch, parse and load, reconcile against the stored ledger, reports, e-mail')
    .requiredOption('--date <YYYY-MM-DD>', 'the bill date (provider time zone)')
    .option('--provider <id>', `provider (repeatable; default: every configured one): ${PROVIDER_IDS.join(', ')}`, providerOption)
    .action(async (opts: { date: string; provider?: ProviderId[] }) => {
      if (!isIsoDate(opts.date)) throw new UsageError(`--date ${JSON.stringify(opts.date)} is not a YYYY-MM-DD date`);
      const log = createLogger({ level: logLevel('info') });
      const [{ configuredProviders }, { runDay }] = await Promise.all([import('../jobs/queue/providers.js'), import('../jobs/steps.js')]);
      const deps0 = { env: process.env };
      const { providers, skipped } = configuredProviders(deps0, opts.provider ?? []);
      for (const s of skipped) log.info('run.provider-skipped', { provider: s.provider, reason: s.reason });
      const db = await openDb(config);
      const failures: Array<{ provider: ProviderId; reason: string; rejected: boolean }> = [];
      try {
        const deps: StepDeps = { db, config, log, env: process.env };
        for (const p of providers) {
          try {
            const { run, reports } = await runDay(deps, { provider: p.provider, account: p.account, date: opts.date });
            process.stdout.write(formatRunSummary(run.summary, reports));
          } catch (err) {
            const reason = redact(err instanceof Error ? err.message : String(err));
            failures.push({ provider: p.provider, reason, rejected: isInputRejected(err) });
            log.error('run.failed', { provider: p.provider, account: p.account, date: opts.date, reason });
            process.stdout.write(`${p.provider} ${opts.date}: FAILED: ${reason}\n`);
          }
        }
      } finally {
        await db.close();
      }
      process.stdout.write(`run ${opts.date}: ${providers.length - failures.length} done, ${failures.length} failed of ${providers.length}\n`);
      if (failures.length === 0) return;
      const list = failures.map((f) => `${f.provider}: ${f.reason}`).join('; ');
      if (failures.every((f) => f.rejected)) throw new PipelineRejectedError(list);
      throw new PipelineFailedError(`${failures.length} of ${providers.length} providers failed — ${list}`);
    });

  program
    .command('backfill')
    .description('enqueue the daily pipeline for every provider and day in the range; shows progress; --wait returns when all are done')
    .requiredOption('--from <YYYY-MM-DD>', 'first bill date')
    .requiredOption('--to <YYYY-MM-DD>', 'last bill date (inclusive)')
    .option('--provider <id>', `provider (repeatable; default: every configured one): ${PROVIDER_IDS.join(', ')}`, providerOption)
    .option('--wait', 'wait until every day is done or failed, print a summary; exit 1 when any failed')
    .option('--request-id <id>', 'name this backfill request: the same id enqueued again is a no-op (default: a new id, so days already done run again)')
    .option('--timeout <seconds>', 'with --wait: give up waiting after this long (exit 1)', positiveInt('--timeout'))
    .action(async (opts: { from: string; to: string; provider?: ProviderId[]; wait?: boolean; requestId?: string; timeout?: number }) => {
      const { queueSettings, redisConnection, openQueue, FlowEnqueuer, enqueueBackfill, waitForBackfill, progressSink, formatBackfillSummary, backfillExitStatus } = await queueModules();
      const settings = queueSettings(process.env);
      const connection = redisConnection(settings);
      const queue = openQueue(settings, connection);
      const enqueuer = new FlowEnqueuer(settings, queue, connection);
      try {
        const enq = await enqueueBackfill(enqueuer, { env: process.env }, {
          from: opts.from,
          to: opts.to,
          ...(opts.provider ? { providers: opts.provider } : {}),
          ...(opts.requestId !== undefined ? { requestId: opts.requestId } : {}),
        });
        for (const s of enq.skipped) process.stderr.write(`backfill: ${s.provider} skipped: ${s.reason}\n`);
        const providers = [...new Set(enq.days.map((d) => d.provider))];
        process.stdout.write(`backfill ${enq.requestId}: ${opts.from}..${opts.to} × ${providers.join(', ')}: ${enq.days.length} days enqueued (${enq.added} new)\n`);
        if (!opts.wait) return;
        const summary = await waitForBackfill(queue, enq, {
          progress: progressSink(process.stderr),
          pollMs: Number.parseInt(process.env.RECON_PROGRESS_MS ?? '', 10) || 1000,
          ...(opts.timeout ? { timeoutMs: opts.timeout * 1000 } : {}),
        });
        process.stdout.write(formatBackfillSummary(summary));
        const status = backfillExitStatus(summary);
        const what = `${summary.failed} of ${summary.outcomes.length} days failed${summary.timedOut ? ' or did not finish in time' : ''} (backfill ${summary.requestId})`;
        if (status === 1) throw new PipelineFailedError(what);
        if (status === 2) throw new PipelineRejectedError(what);
      } finally {
        await enqueuer.close().catch(() => undefined);
        await queue.close().catch(() => undefined);
        await connection.quit().catch(() => undefined);
      }
    });

  program
    .command('worker')
    .description('a BullMQ worker process (any number of them, on any number of machines); stops gracefully on SIGTERM/SIGINT')
    .option('--concurrency <n>', 'jobs processed at once (default $RECON_WORKER_CONCURRENCY or 2)', positiveInt('--concurrency'))
    .option('--name <name>', 'worker name in Bull Board and logs (default $RECON_WORKER_NAME or host-pid)')
    .action(async (opts: { concurrency?: number; name?: string }) => {
      const log = createLogger({ level: logLevel('info') });
      const { runWorkerUntilSignal } = await import('../jobs/queue/worker.js');
      await runWorkerUntilSignal({
        config,
        env: process.env,
        log,
        ...(opts.concurrency ? { concurrency: opts.concurrency } : {}),
        ...(opts.name ? { name: opts.name } : {}),
      });
    });

  program
    .command('scheduler')
    .description("registers each provider's daily schedule (cron and time zone) as a BullMQ job scheduler; --embedded runs them in this process without Redis")
    .option('--provider <id>', `provider (repeatable; default: every configured one): ${PROVIDER_IDS.join(', ')}`, providerOption)
    .addOption(new Option('--embedded', 'no Redis: keep running, fire the same schedules with node-cron and run each day inline'))
    .addOption(new Option('--run-now', 'with --embedded: run the due and missed days at start too'))
    .action(async (opts: { provider?: ProviderId[]; embedded?: boolean; runNow?: boolean }) => {
      const log = createLogger({ level: logLevel('info') });
      const { configuredProviders, startEmbeddedScheduler, DAILY_SCHEDULES, queueSettings, redisConnection, openQueue, registerSchedules } = await queueModules();
      if (opts.embedded) {
        const { providers, skipped } = configuredProviders({ env: process.env }, opts.provider ?? []);
        for (const s of skipped) log.info('scheduler.provider-skipped', { provider: s.provider, reason: s.reason });
        const db = await openDb(config);
        const sched = startEmbeddedScheduler({ db, config, env: process.env, log, providers, runNow: opts.runNow === true });
        for (const p of providers) process.stdout.write(`${p.provider} ${p.account}: ${DAILY_SCHEDULES[p.provider].pattern} ${DAILY_SCHEDULES[p.provider].tz} (embedded)\n`);
        await untilSignal(log);
        await sched.stop().catch((err) => log.error('scheduler.stop-failed', { reason: String(err) }));
        await db.close();
        return;
      }
      const settings = queueSettings(process.env);
      const connection = redisConnection(settings);
      const queue = openQueue(settings, connection);
      try {
        const { schedules, skipped } = await registerSchedules(queue, { env: process.env }, opts.provider ?? []);
        for (const s of skipped) process.stderr.write(`scheduler: ${s.provider} skipped: ${s.reason}\n`);
        for (const s of schedules) process.stdout.write(`${s.id}: ${s.pattern} ${s.tz}, next ${s.next ?? '?'}\n`);
      } finally {
        await queue.close().catch(() => undefined);
        await connection.quit().catch(() => undefined);
      }
    });

  program
    .command('dashboard')
    .description('Bull Board for the pipeline queue and Prometheus /metrics')
    .option('--port <port>', 'port (default 3000)', positiveInt('--port'), 3000)
    .option('--host <address>', 'address to bind (default 127.0.0.1)', '127.0.0.1')
    .option('--read-only', 'no retry/clean/remove buttons')
    .action(async (opts: { port: number; host: string; readOnly?: boolean }) => {
      const log = createLogger({ level: logLevel('info') });
      const [{ queueSettings, redisConnection, openQueue }, { startDashboard }] = await Promise.all([queueModules(), import('../jobs/queue/dashboard.js')]);
      const settings = queueSettings(process.env);
      const connection = redisConnection(settings);
      const queue = openQueue(settings, connection);
      let db: Database | undefined;
      try {
        db = await openDb(config);
      } catch (err) {
        log.warn('dashboard.no-database', { reason: err instanceof Error ? err.message : String(err) });
      }
      const dash = await startDashboard({ queue, settings, ...(db ? { db } : {}), port: opts.port, host: opts.host, log, readOnly: opts.readOnly === true });
      process.stdout.write(`dashboard: ${dash.url}/ui  metrics: ${dash.url}/metrics\n`);
      await untilSignal(log);
      for (const fn of [() => dash.close(), () => queue.close(), () => db?.close(), () => connection.quit()]) {
        try {
          await fn();
        } catch (err) {
          log.error('dashboard.close-failed', { reason: err instanceof Error ? err.message : String(err) });
        }
      }
    });

  return program;
}
