import { createHash, randomBytes } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { Queue, type DefaultJobOptions } from 'bullmq';
import type { ProviderId } from '../../parsers/contract.js';

/**
 * The queue of the daily pipeline. One queue carries every step job; the job NAME is the step
 * (`fetch`, `reconcile`, `report`, `notify`, and `trigger` for a scheduler's daily tick), so any worker
 * can process any step and Bull Board shows a day's flow in one place.
 *
 * Keys live under a prefix (`RECON_QUEUE_PREFIX`, default `recon`): two deployments, or two test runs,
 * on one Redis never see each other's jobs.
 */
export const QUEUE_NAME = 'recon-daily';

export const STEP_JOBS = ['fetch', 'reconcile', 'report', 'notify'] as const;
export type StepJobName = (typeof STEP_JOBS)[number];
export type JobName = StepJobName | 'trigger';

/** What a step job carries: the day and its run generation. Never a secret (job data is visible in Redis and Bull Board). */
export interface DayJobData {
  provider: ProviderId;
  account: string;
  /** Bill date `YYYY-MM-DD` in the provider's time zone. */
  date: string;
  /** Run generation: `daily` for scheduled runs, the backfill request id for a backfill (see flow.ts). */
  generation: string;
  /** First time a "statement not ready" answer came back (ms since epoch), to give up eventually. */
  notReadySince?: number;
}

/** A scheduler tick: enqueue yesterday's flow for (provider, account) and catch up missed days. */
export interface TriggerJobData {
  provider: ProviderId;
  account: string;
}

const int = (v: string | undefined, fallback: number): number => (v !== undefined && /^\d+$/.test(v.trim()) ? Number.parseInt(v.trim(), 10) : fallback);

export interface QueueSettings {
  redisUrl: string;
  prefix: string;
  /** Attempts of a step job in all (the first included). `RECON_JOB_ATTEMPTS`, default 6. */
  attempts: number;
  /** First retry delay; exponential with jitter from there. `RECON_JOB_BACKOFF_MS`, default 30 s. */
  backoffMs: number;
  /** How long a worker's lock on a job lasts without renewal. `RECON_WORKER_LOCK_MS`, default 60 s. */
  lockDurationMs: number;
  /** How often workers look for jobs whose worker died. `RECON_WORKER_STALLED_MS`, default 30 s. */
  stalledIntervalMs: number;
  /** Times a job may be found stalled (its worker died) before it is failed. `RECON_WORKER_MAX_STALLED`, default 3. */
  maxStalledCount: number;
  /** Wait before re-checking a reconcile job whose previous day is not reconciled yet. `RECON_ORDER_WAIT_MS`, default 2 s. */
  orderWaitMs: number;
  /** Wait before asking again for a statement that is not ready. `RECON_NOT_READY_DELAY_MS`, default 15 min. */
  notReadyDelayMs: number;
  /** Give up on a statement still not ready after this long. `RECON_NOT_READY_GIVE_UP_MS`, default 24 h. */
  notReadyGiveUpMs: number;
}

export function queueSettings(env: NodeJS.ProcessEnv = process.env): QueueSettings {
  return {
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    prefix: env.RECON_QUEUE_PREFIX || 'recon',
    attempts: Math.max(1, int(env.RECON_JOB_ATTEMPTS, 6)),
    backoffMs: int(env.RECON_JOB_BACKOFF_MS, 30_000),
    lockDurationMs: Math.max(1000, int(env.RECON_WORKER_LOCK_MS, 60_000)),
    stalledIntervalMs: Math.max(500, int(env.RECON_WORKER_STALLED_MS, 30_000)),
    maxStalledCount: int(env.RECON_WORKER_MAX_STALLED, 3),
    orderWaitMs: int(env.RECON_ORDER_WAIT_MS, 2_000),
    notReadyDelayMs: int(env.RECON_NOT_READY_DELAY_MS, 15 * 60_000),
    notReadyGiveUpMs: int(env.RECON_NOT_READY_GIVE_UP_MS, 24 * 3600_000),
  };
}

/**
 * A Redis connection for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires for the blocking
 * connections of workers; a command waits for Redis to come back instead of failing the job.
 */
export function redisConnection(settings: Pick<QueueSettings, 'redisUrl'>, options: RedisOptions = {}): Redis {
  return new Redis(settings.redisUrl, { maxRetriesPerRequest: null, ...options });
}

/**
 * Retries: `attempts` in all, exponential backoff from `backoffMs` with 50 % jitter so that the jobs of a
 * provider that was down do not all come back in the same second. Finished jobs are kept for a while
 * (Bull Board, `recon backfill --wait`, duplicate detection by job id), then trimmed.
 */
export function defaultJobOptions(settings: QueueSettings): DefaultJobOptions {
  return {
    attempts: settings.attempts,
    backoff: { type: 'exponential', delay: settings.backoffMs, jitter: 0.5 },
    removeOnComplete: { age: 14 * 24 * 3600, count: 20_000 },
    removeOnFail: { age: 60 * 24 * 3600, count: 20_000 },
  };
}

export function openQueue(settings: QueueSettings, connection: Redis): Queue {
  return new Queue(QUEUE_NAME, { connection, prefix: settings.prefix, defaultJobOptions: defaultJobOptions(settings) });
}

/**
 * A value made safe for a job id: BullMQ ids must not contain `:` (its key separator) and must not be
 * all digits. Anything outside `[A-Za-z0-9_.@-]` becomes `_`, with a short hash of the original so two
 * accounts that differ only there never share ids.
 */
export function idPart(value: string): string {
  const safe = value.replace(/[^A-Za-z0-9_.@-]/g, '_');
  if (safe === value && safe !== '') return safe;
  return `${safe}~${createHash('sha256').update(value).digest('hex').slice(0, 8)}`;
}

/** A fresh backfill request id: sortable by time, unique, safe in a job id. */
export function newRequestId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `bf${stamp}-${randomBytes(3).toString('hex')}`;
}
