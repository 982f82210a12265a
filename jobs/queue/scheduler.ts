import cron from 'node-cron';
import type { Queue } from 'bullmq';
import type { Config } from '../../core/config.js';
import type { Logger } from '../../core/logger.js';
import type { Database } from '../../db/database.js';
import type { ProviderId } from '../../parsers/contract.js';
import { addDays, CALENDARS } from '../../reconcile/calendars.js';
import { runDay, type DayKey, type StepDeps } from '../steps.js';
import type { FlowEnqueuer } from './flow.js';
import { configuredProviders, type ConfiguredProvider } from './providers.js';
import { idPart, type TriggerJobData } from './queues.js';

/**
 * When each provider's statement for D−1 can be fetched, as a cron pattern in the provider's own time
 * zone. Each time is the provider's publication time plus a margin; a statement still not ready then
 * is asked for again later by the worker (delayed, not an attempt), so a time a little early costs a
 * retry, never a day.
 */
export const DAILY_SCHEDULES: Readonly<Record<ProviderId, { pattern: string; tz: string; why: string }>> = {
  wechatpay: { pattern: '30 10 * * *', tz: 'Asia/Shanghai', why: 'WeChat Pay generates the trade bill of D−1 after 10:00 China time (before that: BILL_CREATING); 10:30 leaves a margin' },
  alipay: { pattern: '0 10 * * *', tz: 'Asia/Shanghai', why: 'Alipay generates the bill of D−1 in the early morning China time (ready after about 09:00); 10:00 leaves a margin, and before 12:00 "no bill" is treated as not ready' },
  paypal: { pattern: '30 12 * * *', tz: 'America/Los_Angeles', why: 'PayPal drops the STL settlement report of D−1 (a Pacific-time day) on the SFTP server in the early hours Pacific time, with late deliveries into the morning; 12:30 PT is past the usual delays' },
  stripe: { pattern: '0 12 * * *', tz: 'UTC', why: 'Stripe report data (UTC days) is refreshed about twice a day; by 12:00 UTC data_available_end normally covers all of D−1' },
  adyen: { pattern: '0 9 * * *', tz: 'Europe/Amsterdam', why: 'Adyen generates the settlement details report about two hours after the batch closes in the early hours Amsterdam time; 09:00 CET/CEST is after that on ordinary days' },
};

/** How many days back a scheduler tick looks for days without a completed daily run (`RECON_CATCHUP_DAYS`, default 7; 0 or 1: D−1 only). */
export function catchUpDays(env: NodeJS.ProcessEnv): number {
  const v = env.RECON_CATCHUP_DAYS;
  return v !== undefined && /^\d+$/.test(v) ? Number.parseInt(v, 10) : 7;
}

/** The calendar date of an instant in a time zone, `YYYY-MM-DD`. */
export function localDate(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

export function schedulerId(p: ConfiguredProvider): string {
  return `daily-${p.provider}-${idPart(p.account)}`;
}

/**
 * The days a tick at `now` should run for (provider, account): D−1 (D = today in the provider's bill
 * time zone) and every earlier day of the last `catchUp` days that has no completed daily run in
 * `recon_runs` — a day missed while everything was down. Oldest first (the engine carries pending
 * items forward, so days run in date order).
 */
export async function daysToRun(db: Database, p: ConfiguredProvider, now: Date, catchUp: number): Promise<string[]> {
  const yesterday = addDays(localDate(now, CALENDARS[p.provider].timeZone), -1);
  const first = addDays(yesterday, -(Math.max(1, catchUp) - 1));
  const done = await db.query<{ d: string }>(
    `SELECT bill_date::text AS d FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND provider = $1 AND coalesce(account, '') = $2 AND bill_date BETWEEN $3 AND $4`,
    [p.provider, p.account, first, yesterday],
  );
  const have = new Set(done.map((r) => r.d));
  const days: string[] = [];
  for (let d = first; d <= yesterday; d = addDays(d, 1)) if (!have.has(d)) days.push(d);
  return days;
}

/**
 * A scheduler tick, run by a worker: enqueues the daily flow (generation `daily`) of each day from
 * `daysToRun`. Enqueueing is a no-op for a day whose flow is waiting or running; a day whose daily flow
 * failed or finished without a completed run is replaced, so the catch-up tries it again.
 */
export async function handleTrigger(ctx: { db: Database; enqueuer: FlowEnqueuer; log: Logger; env: NodeJS.ProcessEnv }, data: TriggerJobData, now: Date): Promise<{ days: string[]; added: number }> {
  const days = await daysToRun(ctx.db, data, now, catchUpDays(ctx.env));
  let added = 0;
  for (const date of days) {
    const r = await ctx.enqueuer.enqueueDay({ provider: data.provider, account: data.account, date }, 'daily', { replaceFinished: true });
    if (r.added) added += 1;
  }
  ctx.log.info('trigger.enqueued', { days, added });
  return { days, added };
}

export interface RegisteredSchedule extends ConfiguredProvider {
  id: string;
  pattern: string;
  tz: string;
  next: string | null;
}

/**
 * Registers one BullMQ job scheduler per configured provider and account (`upsertJobScheduler`:
 * registering again changes nothing, or updates the pattern in place). Each tick is a `trigger` job a
 * worker turns into the day's flow (`handleTrigger`).
 */
export async function registerSchedules(queue: Queue, deps: Pick<StepDeps, 'env' | 'fetcherFor'>, requested: readonly ProviderId[] = []): Promise<{ schedules: RegisteredSchedule[]; skipped: Array<{ provider: ProviderId; reason: string }> }> {
  const { providers, skipped } = configuredProviders(deps, requested);
  const schedules: RegisteredSchedule[] = [];
  for (const p of providers) {
    const s = DAILY_SCHEDULES[p.provider];
    const id = schedulerId(p);
    const data: TriggerJobData = { provider: p.provider, account: p.account };
    await queue.upsertJobScheduler(id, { pattern: s.pattern, tz: s.tz }, {
      name: 'trigger',
      data,
      opts: { attempts: 5, backoff: { type: 'exponential', delay: 60_000, jitter: 0.5 }, removeOnComplete: 100, removeOnFail: 500 },
    });
    const stored = await queue.getJobScheduler(id);
    schedules.push({ ...p, id, pattern: s.pattern, tz: s.tz, next: stored?.next ? new Date(stored.next).toISOString() : null });
  }
  return { schedules, skipped };
}

/**
 * The embedded single-process mode (`recon scheduler --embedded`, no Redis): node-cron with the same
 * table, each tick running `runDay` inline for the days `daysToRun` gives, one day at a time (ticks of
 * several providers queue behind each other). Returns a stop function.
 */
export function startEmbeddedScheduler(opts: { db: Database; config: Config; env: NodeJS.ProcessEnv; log: Logger; providers: ConfiguredProvider[]; runNow?: boolean }): { stop(): Promise<void>; idle(): Promise<void> } {
  let chain: Promise<void> = Promise.resolve();
  const deps: StepDeps = { db: opts.db, config: opts.config, log: opts.log, env: opts.env };
  const tick = (p: ConfiguredProvider) => {
    chain = chain.then(async () => {
      const days = await daysToRun(opts.db, p, new Date(), catchUpDays(opts.env));
      for (const date of days) {
        const key: DayKey = { provider: p.provider, account: p.account, date };
        try {
          const { run } = await runDay(deps, key);
          opts.log.info('embedded.day-done', { ...key, runId: run.runId, version: run.version });
        } catch (err) {
          opts.log.error('embedded.day-failed', { ...key, reason: err instanceof Error ? err.message : String(err) });
          break; // later days wait for this one (date order); the next tick catches up
        }
      }
    });
    return chain;
  };
  const tasks = opts.providers.map((p) => {
    const s = DAILY_SCHEDULES[p.provider];
    return cron.schedule(s.pattern, () => void tick(p), { timezone: s.tz, name: schedulerId(p) });
  });
  for (const p of opts.providers) opts.log.info('embedded.scheduled', { provider: p.provider, account: p.account, pattern: DAILY_SCHEDULES[p.provider].pattern, tz: DAILY_SCHEDULES[p.provider].tz });
  if (opts.runNow) for (const p of opts.providers) void tick(p);
  return {
    async stop() {
      for (const t of tasks) await t.stop();
      await chain;
    },
    idle: () => chain,
  };
}
