import { hostname } from 'node:os';
import { DelayedError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { loadConfig, type Config } from '../../core/config.js';
import { isInputRejected } from '../../core/errors.js';
import { createLogger, redact, type Logger } from '../../core/logger.js';
import { openDatabase, type Database } from '../../db/database.js';
import { migrateLatest } from '../../db/migrate.js';
import { FetchAuthError, SignatureError, StatementNotReadyError } from '../../fetch/errors.js';
import { addDays } from '../../reconcile/calendars.js';
import { fetchStep, loadStep, notifyStep, reconcileStep, reportStep, type DayKey, type StepDeps } from '../steps.js';
import { FlowEnqueuer, stepJobId } from './flow.js';
import { openQueue, QUEUE_NAME, queueSettings, redisConnection, type DayJobData, type JobName, type QueueSettings, type TriggerJobData } from './queues.js';
import { handleTrigger } from './scheduler.js';

/**
 * `recon worker`: processes any job of the daily pipeline by calling the step functions of
 * `jobs/steps.ts` — the very code `recon run` runs inline. Run it any number of times on any number of
 * machines (they share PostgreSQL through `DATABASE_URL` and the queue through `REDIS_URL`).
 *
 * Failures, by what should happen next:
 * - rejected input (`InputRejectedError`: a malformed statement, a hash mismatch) and refused
 *   credentials or signatures (`FetchAuthError`, `SignatureError`): the job fails at once, no retry
 *   (`UnrecoverableError`), listed with its reason (`rejected: …`, `refused: …`);
 * - statement not ready yet (`StatementNotReadyError`): the job goes back to the delayed set
 *   (`moveToDelayed` + `DelayedError`) and asks again later — not an attempt; after
 *   `RECON_NOT_READY_GIVE_UP_MS` it fails (`not ready: …`);
 * - anything else (network, 5xx after the fetch client's own retries, a database hiccup): thrown, so
 *   BullMQ retries it with exponential backoff and jitter up to `attempts`.
 *
 * Days of one (provider, account) reconcile in date order: the engine carries the previous day's
 * pending items. The reconcile job of day D waits (delayed, not an attempt) while the reconcile job of
 * D−1 of the same generation exists and is not finished; when D−1 failed for good, D goes ahead
 * against the latest completed day before it (and D−1 is listed as failed).
 *
 * A worker killed with SIGKILL loses nothing: its lock expires (`RECON_WORKER_LOCK_MS`) and another
 * worker's stalled check (`RECON_WORKER_STALLED_MS`) moves the job back to waiting. Every step is
 * idempotent; the reconcile step, if its transaction had committed before the kill, finds the run it
 * made (same statement files, started after the job was created) and does not make a second version.
 */

export interface WorkerOptions {
  config?: Config;
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
  /** Name of this worker in Bull Board and the logs (default host:pid). */
  name?: string;
  log?: Logger;
  /** An open database to use (tests); by default one is opened from the config and closed on shutdown. */
  db?: Database;
  settings?: QueueSettings;
}

export interface RunningWorker {
  worker: Worker;
  queue: Queue;
  /** Graceful: waits for the jobs in hand, then closes worker, database, Redis — each even if another fails. */
  close(force?: boolean): Promise<void>;
  /** Resolves once `close` has finished. */
  closed: Promise<void>;
}

export type ReconcileJobResult = { runId: string; version: number; statementLines: number; matched: number; pending: number | null; reused: boolean; changes: { new: number; gone: number; changed: number } };

function errorReason(kind: string, err: unknown): string {
  return redact(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
}

export async function startWorker(opts: WorkerOptions = {}): Promise<RunningWorker> {
  const env = opts.env ?? process.env;
  const config = opts.config ?? loadConfig(env);
  const settings = opts.settings ?? queueSettings(env);
  const baseLog = opts.log ?? createLogger();
  const name = opts.name ?? env.RECON_WORKER_NAME ?? `${hostname()}-${process.pid}`;
  const concurrency = Math.max(1, opts.concurrency ?? (Number.parseInt(env.RECON_WORKER_CONCURRENCY ?? '', 10) || 2));
  const log = baseLog.child({ worker: name });

  const ownDb = !opts.db;
  const db = opts.db ?? (await openDatabase({ url: config.databaseUrl, pgliteDir: `${config.home}/pgdata` }));
  if (ownDb) {
    if (db.kind === 'pglite') log.warn('worker.embedded-database', { reason: 'no DATABASE_URL: this worker uses the embedded PGlite, which only one process can open; set DATABASE_URL to run several workers' });
    await migrateLatest(db);
  }
  const connection = redisConnection(settings);
  const queueConnection = redisConnection(settings);
  const queue = openQueue(settings, queueConnection);
  const enqueuer = new FlowEnqueuer(settings, queue, queueConnection);

  const processor = async (job: Job, token?: string, signal?: AbortSignal): Promise<unknown> => {
    const step = job.name as JobName;
    const started = Date.now();
    if (step === 'trigger') {
      const data = job.data as TriggerJobData;
      const jlog = log.child({ provider: data.provider, account: data.account, jobId: job.id, step });
      return handleTrigger({ db, enqueuer, log: jlog, env }, data, new Date());
    }
    const data = job.data as DayJobData;
    const key: DayKey = { provider: data.provider, account: data.account, date: data.date };
    const jlog = log.child({ provider: key.provider, account: key.account, date: key.date, jobId: job.id, step, attempt: job.attemptsMade + 1 });
    const deps: StepDeps = { db, config, log: jlog, env, ...(signal ? { signal } : {}) };
    jlog.info('job.start');
    try {
      let result: unknown;
      switch (step) {
        case 'fetch':
          result = await fetchStep(deps, key);
          break;
        case 'reconcile':
          await waitForPreviousDay(job, token, key, data.generation, jlog);
          result = await reconcileOnce(deps, key, job);
          break;
        case 'report': {
          const r = await reportStep(deps, key);
          result = { dir: r.dir, runId: r.runId, version: r.version };
          break;
        }
        case 'notify':
          result = await notifyStep(deps, key);
          break;
        default:
          throw new UnrecoverableError(`unknown job ${JSON.stringify(job.name)}`);
      }
      jlog.info('job.done', { ms: Date.now() - started });
      return result;
    } catch (err) {
      if (err instanceof DelayedError || err instanceof UnrecoverableError) throw err;
      if (isInputRejected(err)) {
        jlog.error('job.rejected', { reason: (err as Error).message });
        throw new UnrecoverableError(errorReason('rejected', err));
      }
      if (err instanceof FetchAuthError || err instanceof SignatureError) {
        jlog.error('job.refused', { reason: err.message });
        throw new UnrecoverableError(errorReason('refused', err));
      }
      if (err instanceof StatementNotReadyError) {
        const since = data.notReadySince ?? Date.now();
        if (Date.now() - since >= settings.notReadyGiveUpMs) {
          jlog.error('job.not-ready.give-up', { reason: err.message, since: new Date(since).toISOString() });
          throw new UnrecoverableError(errorReason('not ready', err));
        }
        const delay = err.retryAfterMs ?? settings.notReadyDelayMs;
        jlog.info('job.not-ready', { reason: err.message, delayMs: delay });
        if (data.notReadySince === undefined) await job.updateData({ ...data, notReadySince: since });
        await job.moveToDelayed(Date.now() + delay, token);
        throw new DelayedError();
      }
      jlog.warn('job.error', { reason: err instanceof Error ? err.message : String(err), willRetry: job.attemptsMade + 1 < (job.opts.attempts ?? 1) });
      throw err instanceof Error ? new Error(redact(err.message)) : new Error(redact(String(err)));
    }
  };

  /** Day D of a generation reconciles only after D−1 of the same generation has (or has failed for good). */
  async function waitForPreviousDay(job: Job, token: string | undefined, key: DayKey, generation: string, jlog: Logger): Promise<void> {
    const prevId = stepJobId('reconcile', { ...key, date: addDays(key.date, -1) }, generation);
    const prev = await queue.getJob(prevId);
    if (!prev) return;
    const state = await prev.getState();
    if (state === 'completed' || state === 'unknown') return;
    if (state === 'failed') {
      jlog.warn('reconcile.previous-day-failed', { previousJobId: prevId, reason: prev.failedReason });
      return;
    }
    jlog.info('reconcile.waiting-for-previous-day', { previousJobId: prevId, state });
    await job.moveToDelayed(Date.now() + settings.orderWaitMs, token);
    throw new DelayedError();
  }

  const worker = new Worker(QUEUE_NAME, processor, {
    connection,
    prefix: settings.prefix,
    concurrency,
    name,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const d = job.data as Partial<DayJobData>;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    log.child({ provider: d.provider, account: d.account, date: d.date, jobId: job.id, step: job.name })[final ? 'error' : 'warn'](final ? 'job.failed' : 'job.retry', { reason: err.message, attemptsMade: job.attemptsMade });
  });
  worker.on('stalled', (jobId) => log.warn('job.stalled', { jobId, reason: 'its worker stopped renewing the lock; the job is back in the queue' }));
  worker.on('error', (err) => log.error('worker.error', { reason: err.message }));
  await worker.waitUntilReady();
  log.info('worker.ready', { queue: QUEUE_NAME, prefix: settings.prefix, concurrency, lockDurationMs: settings.lockDurationMs, stalledIntervalMs: settings.stalledIntervalMs });

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const close = (force = false): Promise<void> => {
    if (closing && !force) return closing;
    const run = async () => {
      log.info('worker.closing', { force });
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['worker', () => worker.close(force)],
        ['enqueuer', () => enqueuer.close()],
        ['queue', () => queue.close()],
        ['database', () => (ownDb ? db.close() : Promise.resolve())],
        ['redis', () => Promise.all([connection.quit(), queueConnection.quit()])],
      ];
      for (const [what, fn] of steps) {
        try {
          await fn();
        } catch (err) {
          log.error('worker.close-failed', { what, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      log.info('worker.closed');
      resolveClosed();
    };
    closing = run();
    return closing;
  };
  return { worker, queue, close, closed };
}

/**
 * The reconcile step, once per job: when a completed run of the day exists that started after this job
 * was created and covers exactly the statement files the day's latest fetch holds, that run is this
 * job's own (an earlier attempt committed, then its worker died before the job was marked done) and is
 * returned as it is. Otherwise `reconcileStep` runs (a new version of the day's run).
 */
async function reconcileOnce(deps: StepDeps, key: DayKey, job: Job): Promise<ReconcileJobResult> {
  const { statementFileIds } = await loadStep(deps, key);
  const [current] = await deps.db.query<{ id: string; version: number; summary: { statement_lines: number; matched: number; pending?: number }; changes: { new: number; gone: number; changed: number } | null; files: string[] | null }>(
    `SELECT r.id, r.version, r.summary, r.changes,
            (SELECT array_agg(s.statement_file_id::text ORDER BY s.statement_file_id) FROM recon_run_statements s WHERE s.run_id = r.id) AS files
       FROM recon_runs r
      WHERE r.kind = 'daily' AND r.status = 'completed' AND r.provider = $1 AND coalesce(r.account, '') = $2 AND r.bill_date = $3
        AND r.started_at >= to_timestamp($4::double precision / 1000)`,
    [key.provider, key.account, key.date, job.timestamp],
  );
  const wanted = [...statementFileIds].map(String).sort((a, b) => Number(a) - Number(b));
  const have = (current?.files ?? []).map(String).sort((a, b) => Number(a) - Number(b));
  if (current && wanted.length === have.length && wanted.every((v, i) => v === have[i])) {
    deps.log.info('reconcile.already-done', { runId: String(current.id), version: current.version });
    return { runId: String(current.id), version: current.version, statementLines: current.summary.statement_lines, matched: current.summary.matched, pending: current.summary.pending ?? null, reused: true, changes: { new: current.changes?.new ?? 0, gone: current.changes?.gone ?? 0, changed: current.changes?.changed ?? 0 } };
  }
  const run = await reconcileStep(deps, key, { statementFileIds });
  return { runId: run.runId, version: run.version, statementLines: run.summary.statement_lines, matched: run.summary.matched, pending: run.summary.pending ?? null, reused: false, changes: { new: run.changes.new, gone: run.changes.gone, changed: run.changes.changed } };
}

/** `recon worker` in the foreground: runs until SIGTERM or SIGINT (a second signal hands jobs back at once). */
export async function runWorkerUntilSignal(opts: WorkerOptions = {}): Promise<void> {
  const running = await startWorker(opts);
  const onSignal = (signal: NodeJS.Signals) => {
    const again = signalled;
    signalled = true;
    (opts.log ?? createLogger()).info('worker.signal', { signal, force: again });
    void running.close(again);
  };
  let signalled = false;
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await running.closed;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}
