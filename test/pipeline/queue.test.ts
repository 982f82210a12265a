import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorSet } from '../../emulators/all.js';
import { silentLogger } from '../../core/logger.js';
import { importLedger } from '../../ledger/import.js';
import { FlowEnqueuer, dayOutcome, stepJobId } from '../../jobs/queue/flow.js';
import { openQueue, queueSettings, type QueueSettings } from '../../jobs/queue/queues.js';
import { DAILY_SCHEDULES, handleTrigger, registerSchedules } from '../../jobs/queue/scheduler.js';
import { enqueueBackfill } from '../../jobs/queue/backfill.js';
import { startDashboard } from '../../jobs/queue/dashboard.js';
import { freshPostgres, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/json-statement.js';
import { obliterate, randomPrefix, REDIS_URL, runCli, startMultiDayEmulators } from './helpers.js';

/** Queue plumbing on the real Redis (a random prefix per test) without workers, and `recon run` inline. */
describe('queue plumbing', () => {
  let emu: EmulatorSet;
  let dir: string;
  let t: TestDatabase;
  const prefixes: string[] = [];
  const connections: Redis[] = [];

  function open(): { settings: QueueSettings; queue: ReturnType<typeof openQueue>; enqueuer: FlowEnqueuer; prefix: string } {
    const prefix = randomPrefix();
    prefixes.push(prefix);
    const settings = queueSettings({ REDIS_URL, RECON_QUEUE_PREFIX: prefix });
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(connection);
    const queue = openQueue(settings, connection);
    return { settings, queue, enqueuer: new FlowEnqueuer(settings, queue, connection), prefix };
  }

  beforeAll(async () => {
    dir = tempDir();
    emu = await startMultiDayEmulators(join(dir, 'keys'), ['2026-11-24']);
    t = await freshPostgres();
  });
  afterAll(async () => {
    await emu?.close();
    await t?.drop();
    for (const p of prefixes) await obliterate(p).catch(() => undefined);
    for (const c of connections) await c.quit().catch(() => undefined);
  });

  it('a duplicate enqueue is a no-op; a new backfill request is a new generation', async () => {
    const { queue, enqueuer } = open();
    const key = { provider: 'stripe' as const, account: 'acct_1', date: '2026-11-24' };
    expect(await enqueuer.enqueueDay(key, 'bfA')).toEqual({ rootId: 'notify-stripe-acct_1-2026-11-24-bfA', added: true });
    const counts = await queue.getJobCounts();
    expect(await enqueuer.enqueueDay(key, 'bfA')).toEqual({ rootId: 'notify-stripe-acct_1-2026-11-24-bfA', added: false });
    expect(await queue.getJobCounts()).toEqual(counts);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(4); // fetch, reconcile, report, notify
    // the tree: fetch waits, the others wait for their children
    expect(await (await queue.getJob(stepJobId('fetch', key, 'bfA')))!.getState()).toBe('waiting');
    expect(await (await queue.getJob(stepJobId('notify', key, 'bfA')))!.getState()).toBe('waiting-children');
    expect(await enqueuer.enqueueDay(key, 'bfB')).toMatchObject({ added: true });
    // ids never contain ':' (an account with one gets a safe form plus a hash)
    expect(stepJobId('fetch', { ...key, account: 'a:b' }, 'bfA')).toMatch(/^fetch-stripe-a_b~[0-9a-f]{8}-2026-11-24-bfA$/);
    // the same backfill request id twice through the command line adds nothing the second time
    const env = { PATH: process.env.PATH ?? '', ...emu.env, REDIS_URL, RECON_QUEUE_PREFIX: open().prefix };
    const a = await runCli(['backfill', '--from', '2026-11-23', '--to', '2026-11-24', '--request-id', 'req-1'], env);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toContain('backfill req-1: 2026-11-23..2026-11-24 × alipay, wechatpay, paypal, stripe, adyen: 10 days enqueued (10 new)');
    const b = await runCli(['backfill', '--from', '2026-11-23', '--to', '2026-11-24', '--request-id', 'req-1'], env);
    expect(b.stdout).toContain('10 days enqueued (0 new)');
  });

  it('refuses a bad range or an unconfigured provider with exit status 2', async () => {
    const env = { PATH: process.env.PATH ?? '', REDIS_URL, RECON_QUEUE_PREFIX: open().prefix, STRIPE_API_KEY: 'sk_test_x' };
    const reversed = await runCli(['backfill', '--from', '2026-11-24', '--to', '2026-11-20'], env);
    expect([reversed.code, reversed.stderr]).toEqual([2, 'recon: rejected: --from 2026-11-24 is after --to 2026-11-20\n']);
    const unconfigured = await runCli(['backfill', '--from', '2026-11-24', '--to', '2026-11-24', '--provider', 'adyen'], env);
    expect(unconfigured.code).toBe(2);
    expect(unconfigured.stderr).toMatch(/ADYEN_/);
    const bad = await runCli(['run', '--date', '2026-13-01'], env);
    expect(bad.code).toBe(2);
  });

  it('registering the schedules twice leaves one job scheduler per provider and account, with its cron and time zone', async () => {
    const { queue } = open();
    const deps = { env: { ...emu.env } };
    const first = await registerSchedules(queue, deps);
    const second = await registerSchedules(queue, deps);
    expect(first.schedules.map((s) => s.id)).toEqual(second.schedules.map((s) => s.id));
    expect(await queue.getJobSchedulersCount()).toBe(5);
    const stored = await queue.getJobSchedulers();
    for (const s of stored) {
      const provider = s.key.split('-')[1] as keyof typeof DAILY_SCHEDULES;
      expect([s.pattern, s.tz]).toEqual([DAILY_SCHEDULES[provider].pattern, DAILY_SCHEDULES[provider].tz]);
    }
    // the command does the same, idempotently
    const env = { PATH: process.env.PATH ?? '', ...emu.env, REDIS_URL, RECON_QUEUE_PREFIX: open().prefix };
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['scheduler'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^daily-wechatpay-\S+: 30 10 \* \* \* Asia\/Shanghai, next 20\d\d-/m);
    }
    const { queue: q2 } = { queue: openQueue(queueSettings({ REDIS_URL, RECON_QUEUE_PREFIX: env.RECON_QUEUE_PREFIX }), connections[0]!) };
    expect(await q2.getJobSchedulersCount()).toBe(5);
    await q2.close();
  });

  it('a scheduler tick enqueues D−1 and the missed days, and replaces a daily flow that failed', async () => {
    const { queue, enqueuer } = open();
    const data = { provider: 'stripe' as const, account: 'default' };
    const env = { RECON_CATCHUP_DAYS: '3' };
    const tick = await handleTrigger({ db: t.db, enqueuer, log: silentLogger, env }, data, new Date('2026-11-25T13:00:00Z'));
    expect(tick).toEqual({ days: ['2026-11-22', '2026-11-23', '2026-11-24'], added: 3 });
    expect(await handleTrigger({ db: t.db, enqueuer, log: silentLogger, env }, data, new Date('2026-11-25T13:00:00Z'))).toMatchObject({ added: 0 });
    // the three flows fail for good (a refused credential): the failure climbs each tree to its root,
    // and the next tick enqueues the three days again
    const { Worker, UnrecoverableError } = await import('bullmq');
    const w = new Worker(queue.name, async (job) => {
      throw new UnrecoverableError(`refused: stripe ${job.data.date}: test`);
    }, { connection: connections[0]!.duplicate({ maxRetriesPerRequest: null }), prefix: queue.opts.prefix });
    const key = { ...data, date: '2026-11-24' };
    const root = (await queue.getJob(stepJobId('notify', key, 'daily')))!;
    for (let i = 0; i < 200 && (await root.getState()) !== 'failed'; i++) await new Promise((r) => setTimeout(r, 50));
    await w.close();
    expect(await root.getState()).toBe('failed');
    expect(await dayOutcome(queue, key, 'daily')).toMatchObject({ state: 'failed', failedStep: 'fetch', reason: 'refused: stripe 2026-11-24: test' });
    for (let i = 0; i < 100 && (await queue.getJobCounts('failed')).failed < 12; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await handleTrigger({ db: t.db, enqueuer, log: silentLogger, env }, data, new Date('2026-11-25T13:00:00Z'))).toMatchObject({ added: 3 });
    expect(await dayOutcome(queue, key, 'daily')).toMatchObject({ state: 'running' });
    expect(await queue.getJobCounts('failed', 'waiting', 'waiting-children')).toEqual({ failed: 0, waiting: 3, 'waiting-children': 9 });
  });

  it('serves Bull Board and Prometheus metrics', async () => {
    const { queue, settings, enqueuer } = open();
    await enqueueBackfill(enqueuer, { env: { STRIPE_API_KEY: 'sk_test_x' } }, { from: '2026-11-24', to: '2026-11-24', requestId: 'm1' });
    const dash = await startDashboard({ queue, settings, db: t.db, port: 0, log: silentLogger });
    try {
      const metrics = await (await fetch(`${dash.url}/metrics`)).text();
      expect(metrics).toContain('recon_queue_jobs{queue="recon-daily",state="waiting"} 1');
      expect(metrics).toContain('recon_queue_jobs{queue="recon-daily",state="waiting-children"} 3');
      expect(metrics).toContain('# TYPE recon_step_duration_seconds histogram');
      expect(metrics).toContain('# TYPE recon_match_rate gauge');
      const ui = await fetch(`${dash.url}/ui`);
      expect(ui.status).toBe(200);
      expect(await ui.text()).toContain('<html');
      const api = await (await fetch(`${dash.url}/ui/api/queues`)).json() as { queues: Array<{ name: string }> };
      expect(api.queues.map((q) => q.name)).toEqual(['recon-daily']);
    } finally {
      await dash.close();
    }
  });

  it('recon run: the day inline, no queue, with a summary per provider', async () => {
    await importLedger(t.db, join(process.cwd(), 'fixtures', 'demo', 'ledger.csv'));
    const env = { PATH: process.env.PATH ?? '', ...emu.env, DATABASE_URL: t.url!, RECON_HOME: join(dir, 'home'), REPORTS_DIR: join(dir, 'reports'), RECON_FETCH_RETRY_BASE_MS: '20', RECON_LOG_LEVEL: 'warn' };
    const r = await runCli(['run', '--date', '2026-11-24', '--provider', 'wechatpay', '--provider', 'stripe'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('run 2026-11-24: 2 done, 0 failed of 2');
    const runs = await t.db.query<{ provider: string }>(`SELECT provider FROM recon_runs WHERE kind = 'daily' AND status = 'completed' ORDER BY provider`);
    expect(runs.map((x) => x.provider)).toEqual(['stripe', 'wechatpay']);
    const failing = await runCli(['run', '--date', '2026-11-24', '--provider', 'stripe'], { ...env, STRIPE_API_KEY: 'sk_test_wrong_wrong' });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toContain('stripe 2026-11-24: FAILED:');
  });
});
