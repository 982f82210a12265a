import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorSet } from '../../emulators/all.js';
import { importLedger } from '../../ledger/import.js';
import { PROVIDER_IDS } from '../../parsers/contract.js';
import { QUEUE_NAME } from '../../jobs/queue/queues.js';
import { daysToRun } from '../../jobs/queue/scheduler.js';
import { freshPostgres, type TestDatabase } from '../helpers/db.js';
import { tempDir } from '../helpers/json-statement.js';
import { filesUnder, obliterate, reportContent, randomPrefix, REDIS_URL, runCli, spawnWorker, startMultiDayEmulators, type SpawnedWorker } from './helpers.js';

/**
 * The distributed pipeline end to end: real Redis (a random key prefix per test), real PostgreSQL (a
 * database per test), the five provider emulators, and `recon worker` / `recon backfill` as separate
 * processes, as in production.
 */
const DAYS = ['2026-11-22', '2026-11-23', '2026-11-24'];
const LEDGER = join(process.cwd(), 'fixtures', 'demo', 'ledger.csv');

interface Env {
  t: TestDatabase;
  env: Record<string, string>;
  prefix: string;
  reports: string;
}

describe('the daily pipeline on BullMQ', () => {
  let emu: EmulatorSet;
  let dir: string;
  const envs: Env[] = [];
  const workers: SpawnedWorker[] = [];

  async function environment(extra: Record<string, string> = {}): Promise<Env> {
    const t = await freshPostgres();
    await importLedger(t.db, LEDGER);
    const prefix = randomPrefix();
    const reports = join(dir, `reports-${prefix}`);
    const env = {
      PATH: process.env.PATH ?? '',
      ...emu.env,
      DATABASE_URL: t.url!,
      REDIS_URL,
      RECON_QUEUE_PREFIX: prefix,
      RECON_HOME: join(dir, `home-${prefix}`),
      REPORTS_DIR: reports,
      RECON_FETCH_RETRY_BASE_MS: '20',
      RECON_FETCH_ATTEMPTS: '2',
      RECON_JOB_ATTEMPTS: '3',
      RECON_JOB_BACKOFF_MS: '200',
      RECON_WORKER_LOCK_MS: '2000',
      RECON_WORKER_STALLED_MS: '1000',
      RECON_ORDER_WAIT_MS: '150',
      RECON_PROGRESS_MS: '200',
      ...extra,
    };
    const e = { t, env, prefix, reports };
    envs.push(e);
    return e;
  }

  async function stopWorkers(): Promise<void> {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) {
        w.child.kill('SIGTERM');
        const r = await w.exited;
        expect(r.code).toBe(0); // graceful shutdown: closed worker, database and Redis, exit 0
        expect(w.stderr()).toContain('"event":"worker.closed"');
      }
    }
  }

  const dailyRuns = (t: TestDatabase) =>
    t.db.query<{ provider: string; bill_date: string; total: number; completed: number; version: number }>(
      `SELECT provider, bill_date::text AS bill_date, count(*)::int AS total,
              count(*) FILTER (WHERE status = 'completed')::int AS completed, max(version)::int AS version
         FROM recon_runs WHERE kind = 'daily' GROUP BY 1, 2 ORDER BY 2, 1`,
    );
  const rowCounts = async (t: TestDatabase) => {
    const [r] = await t.db.query<Record<string, number>>(
      `SELECT (SELECT count(*) FROM statement_files)::int AS statement_files, (SELECT count(*) FROM statement_lines)::int AS statement_lines,
              (SELECT count(*) FROM ledger_entries)::int AS ledger_entries`,
    );
    return r!;
  };
  const everyDay = DAYS.flatMap((d) => PROVIDER_IDS.map((p) => ({ provider: p, bill_date: d }))).sort((a, b) => a.bill_date.localeCompare(b.bill_date) || a.provider.localeCompare(b.provider));

  beforeAll(async () => {
    dir = tempDir();
    emu = await startMultiDayEmulators(join(dir, 'keys'), DAYS);
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await emu?.close();
    for (const e of envs) {
      await obliterate(e.prefix).catch(() => undefined);
      await e.t.drop().catch(() => undefined);
    }
  });

  let first: Env;
  let firstReports: Map<string, Buffer>;

  it('two workers and a backfill of several days × providers: each (provider, date) reconciled exactly once, in date order', async () => {
    first = await environment();
    workers.push(await spawnWorker(first.env, 'w1'), await spawnWorker(first.env, 'w2'));
    const r = await runCli(['backfill', '--from', DAYS[0]!, '--to', DAYS.at(-1)!, '--wait', '--timeout', '200'], first.env);
    expect(r.stderr).toMatch(/backfill: 15\/15 \(15 done, 0 failed\)/);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.match(/^done /gm)).toHaveLength(15);
    expect(r.stdout).toMatch(/: 15 done, 0 failed of 15/);

    const runs = await dailyRuns(first.t);
    expect(runs.map((x) => ({ provider: x.provider, bill_date: x.bill_date }))).toEqual(everyDay);
    for (const x of runs) expect([x.total, x.completed, x.version]).toEqual([1, 1, 1]);
    // date order within each provider: the run of D was made after the run of D−1
    const order = await first.t.db.query<{ provider: string; dates: string[] }>(
      `SELECT provider, array_agg(bill_date::text ORDER BY id) AS dates FROM recon_runs WHERE kind = 'daily' GROUP BY provider`,
    );
    for (const o of order) expect(o.dates).toEqual(DAYS);
    // both workers took part, and every log line of a job names provider, account, date and job id
    for (const w of workers) expect(w.stderr()).toContain('"event":"job.done"');
    const jobLines = workers.flatMap((w) => w.stderr().split('\n')).filter((l) => l.includes('"event":"job.'));
    expect(jobLines.length).toBeGreaterThan(60);
    for (const l of jobLines) expect(Object.keys(JSON.parse(l))).toEqual(expect.arrayContaining(['provider', 'account', 'date', 'jobId']));

    firstReports = filesUnder(first.reports);
    for (const d of DAYS) for (const p of PROVIDER_IDS) for (const f of ['discrepancies.csv', 'summary.json', 'reconciliation.xlsx']) expect(firstReports.has(join(d, p, f))).toBe(true);
  });

  it('running the same backfill again gives identical reports, a new run version, and no new statement or ledger rows', async () => {
    const before = await rowCounts(first.t);
    const r = await runCli(['backfill', '--from', DAYS[0]!, '--to', DAYS.at(-1)!, '--wait', '--timeout', '200'], first.env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await rowCounts(first.t)).toEqual(before);
    const runs = await dailyRuns(first.t);
    for (const x of runs) expect([x.total, x.completed, x.version]).toEqual([2, 1, 2]);
    const changes = await first.t.db.query<{ changes: { new: number; gone: number; changed: number } }>(`SELECT changes FROM recon_runs WHERE kind = 'daily' AND status = 'completed'`);
    for (const c of changes) expect([c.changes.new, c.changes.gone, c.changes.changed]).toEqual([0, 0, 0]);
    const again = filesUnder(first.reports);
    expect([...again.keys()]).toEqual([...firstReports.keys()]);
    for (const [name, bytes] of firstReports) {
      // CSV and JSON byte for byte; a workbook by its cells (its zip carries its creation time, its Summary the run id)
      if (name.endsWith('.xlsx')) expect(await reportContent(name, again.get(name)!, { dropDbIds: false }), name).toEqual(await reportContent(name, bytes, { dropDbIds: false }));
      else expect(again.get(name)!.equals(bytes), name).toBe(true);
    }
    await stopWorkers();
  });

  it('a worker killed with SIGKILL in the middle of a job loses nothing: the results equal the undisturbed run', async () => {
    const e = await environment();
    // Slow Adyen downloads so that the kill lands inside a job.
    emu.adyen.faults.push(...Array.from({ length: 3 }, () => ({ kind: 'slow' as const, delayMs: 1500 })));
    const victim = await spawnWorker(e.env, 'victim', 3);
    workers.push(victim);
    const backfill = runCli(['backfill', '--from', DAYS[0]!, '--to', DAYS.at(-1)!, '--wait', '--timeout', '200'], e.env);
    await victim.waitFor(/"event":"job.start".*"step":"fetch"|"step":"fetch".*"event":"job.start"/);
    await new Promise((r) => setTimeout(r, 300));
    victim.child.kill('SIGKILL');
    const killed = await victim.exited;
    expect(killed.signal).toBe('SIGKILL');
    const started = victim.stderr().split('\n').filter((l) => l.includes('"event":"job.start"')).length;
    const finished = victim.stderr().split('\n').filter((l) => l.includes('"event":"job.done"')).length;
    expect(started).toBeGreaterThan(finished); // it died holding at least one job
    const rescuer = await spawnWorker(e.env, 'rescuer');
    workers.push(rescuer);
    const r = await backfill;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(rescuer.stderr()).toMatch(/"event":"job.stalled"|"event":"job.start"/);
    const runs = await dailyRuns(e.t);
    expect(runs.map((x) => ({ provider: x.provider, bill_date: x.bill_date }))).toEqual(everyDay);
    for (const x of runs) expect([x.total, x.completed]).toEqual([1, 1]);
    const got = filesUnder(e.reports);
    expect([...got.keys()]).toEqual([...firstReports.keys()]);
    // another database: the same content up to its own ids (run id, exception ids)
    for (const [name, bytes] of firstReports) expect(await reportContent(name, got.get(name)!, { dropDbIds: true }), name).toEqual(await reportContent(name, bytes, { dropDbIds: true }));
    await stopWorkers();
  });

  it('a provider failing all day does not stop the others, and is listed with its reason', async () => {
    const e = await environment({ STRIPE_API_KEY: 'sk_test_not_the_right_key_000' });
    emu.adyen.faults.clear();
    emu.adyen.faults.push(...Array.from({ length: 100 }, () => ({ kind: 'status' as const, status: 500 })));
    workers.push(await spawnWorker(e.env, 'w3'));
    const day = DAYS.at(-1)!;
    const r = await runCli(['backfill', '--from', day, '--to', day, '--wait', '--timeout', '200'], e.env);
    emu.adyen.faults.clear();
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^failed +${day} stripe .*fetch: refused: stripe ${day}: `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^failed +${day} adyen .*fetch: adyen ${day}: .*500`, 'm'));
    for (const p of ['alipay', 'wechatpay', 'paypal']) expect(r.stdout).toMatch(new RegExp(`^done +${day} ${p} `, 'm'));
    expect(r.stdout).toContain(': 3 done, 2 failed of 5');
    expect(r.stderr).toContain('recon: failed: 2 of 5 days failed');
    expect(r.stdout + r.stderr).not.toContain('sk_test_not_the_right_key_000');
    const runs = await dailyRuns(e.t);
    expect(runs.map((x) => x.provider)).toEqual(['alipay', 'paypal', 'wechatpay']);
    // the refused credential was not retried: one attempt
    const prefix = e.prefix;
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const q = new Queue(QUEUE_NAME, { connection, prefix });
    try {
      const failed = await q.getFailed();
      const stripeFetch = failed.find((j) => j.name === 'fetch' && j.data.provider === 'stripe')!;
      expect(stripeFetch.attemptsMade).toBe(1);
      const adyenFetch = failed.find((j) => j.name === 'fetch' && j.data.provider === 'adyen')!;
      expect(adyenFetch.attemptsMade).toBe(3);
    } finally {
      await q.close();
      await connection.quit();
    }
    await stopWorkers();
  });

  it('the scheduler catch-up finds the days of the last N without a completed daily run', async () => {
    const p = { provider: 'wechatpay' as const, account: emu.env.WECHATPAY_MCHID! };
    // 2026-11-25 11:00 China time: D−1 is 2026-11-24; the three days of DAYS are done.
    const days = await daysToRun(first.t.db, p, new Date('2026-11-25T03:00:00Z'), 5);
    expect(days).toEqual(['2026-11-20', '2026-11-21']);
    // 2026-11-26 00:30 China time is still 2026-11-25 in UTC: the provider's own day counts.
    expect(await daysToRun(first.t.db, p, new Date('2026-11-25T16:30:00Z'), 1)).toEqual(['2026-11-25']);
  });
});
