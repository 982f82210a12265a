import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../emulators/all.js';
import { freshPostgres, type TestDatabase } from './helpers/db.js';
import { tempDir } from './helpers/json-statement.js';

const execFileP = promisify(execFile);
const CLI = join(process.cwd(), 'dist/cli/recon.js');
const DAY = '2026-11-24';
const fixture = (p: string) => readFileSync(join(process.cwd(), 'fixtures', p));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const SERVED = {
  alipay: fixture('demo/alipay/20880211096256330156_20261124.csv.zip'),
  wechatpay: fixture('demo/wechatpay/tradebill-ALL-2026-11-24.csv'),
  paypal: fixture('e2e/STL-20261124.01.009.CSV'),
  stripe: fixture('e2e/stripe-payout-reconciliation.csv'),
  adyen: fixture('e2e/settlement_detail_report_batch_612.csv'),
};

describe('recon fetch against the provider emulators', () => {
  let emu: EmulatorSet;
  let t: TestDatabase;
  let env: Record<string, string>;
  const transcript: string[] = [];

  beforeAll(async () => {
    const dir = tempDir();
    emu = await startEmulators({
      keyDir: join(dir, 'keys'),
      day: DAY,
      statements: {
        alipay: { name: '20880211096256330156_20261124.csv.zip', bytes: SERVED.alipay },
        wechatpay: { bytes: SERVED.wechatpay },
        paypal: [{ name: 'STL-20261124.01.009.CSV', bytes: SERVED.paypal }],
        stripe: { reportType: 'payout_reconciliation.itemized.5', csv: SERVED.stripe },
        adyen: { bytes: SERVED.adyen },
      },
    });
    t = await freshPostgres();
    env = { PATH: process.env.PATH ?? '', ...emu.env, DATABASE_URL: t.url!, RECON_HOME: join(dir, '.recon'), RECON_FETCH_RETRY_BASE_MS: '20' };
  });
  afterAll(async () => {
    await emu?.close();
    await t?.drop();
  });

  async function fetch(provider: string): Promise<{ code: number; stdout: string; stderr: string }> {
    let r: { code: number; stdout: string; stderr: string };
    try {
      const { stdout, stderr } = await execFileP(process.execPath, [CLI, 'fetch', '--provider', provider, '--date', DAY], { env });
      r = { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      r = { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
    transcript.push(r.stdout, r.stderr);
    return r;
  }

  it.each(Object.keys(SERVED) as Array<keyof typeof SERVED>)('downloads %s over its channel, prints the archive path and the sha256 of the bytes served, and is idempotent', async (provider) => {
    const first = await fetch(provider);
    expect(first.code).toBe(0);
    const expected = sha256(SERVED[provider]);
    const m = /^(\S+)  sha256:([0-9a-f]{64})  (.+) \((\d+) bytes\)$/m.exec(first.stdout);
    expect(m).not.toBeNull();
    expect(m![2]).toBe(expected);
    expect(sha256(readFileSync(m![1]!))).toBe(expected);
    expect(Number.parseInt(m![4]!, 10)).toBe(SERVED[provider].length);

    const second = await fetch(provider);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`${m![1]}  sha256:${expected}`);
    expect(second.stdout).toContain('already stored');
    const rows = await t.db.query<{ n: number; bill_date: string }>(
      `SELECT count(*)::int AS n, min(bill_date)::text AS bill_date FROM statement_files WHERE provider = $1 AND source = 'fetch'`,
      [provider],
    );
    expect(rows[0]).toEqual({ n: 1, bill_date: DAY });
  });

  it('still succeeds through 5xx, 429 and a report run that stays pending', async () => {
    emu.wechatpay.faults.push({ kind: 'http-500' }, { kind: 'http-429', retryAfterSeconds: 0 });
    emu.adyen.faults.push({ kind: 'status', status: 503 }, { kind: 'rate-limit', retryAfterSec: 0 });
    emu.stripe.faults.push({ on: 'create', kind: 'pending', polls: 3 });
    for (const p of ['wechatpay', 'adyen', 'stripe']) {
      const r = await fetch(p);
      expect(r.stderr).toContain('"event":"fetch.done"');
      expect(r.code).toBe(0);
    }
  });

  it('exits 2 naming provider and date on a wrong hash or a truncated body, and records nothing as fetched', async () => {
    const before = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM statement_files`);
    emu.wechatpay.faults.push({ kind: 'wrong-hash' });
    const hash = await fetch('wechatpay');
    expect(hash.code).toBe(2);
    expect(hash.stderr).toContain(`wechatpay ${DAY}`);
    emu.adyen.faults.push({ kind: 'truncate', keepBytes: 50 });
    const cut = await fetch('adyen');
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain(`adyen ${DAY}`);
    const after = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM statement_files`);
    expect(after[0]!.n).toBe(before[0]!.n);
    const failed = await t.db.query<{ provider: string; files: number }>(
      `SELECT f.provider, (SELECT count(*) FROM fetch_files ff WHERE ff.fetch_id = f.id)::int AS files
         FROM fetches f WHERE f.status = 'failed' ORDER BY f.id`,
    );
    expect(failed).toEqual([{ provider: 'wechatpay', files: 0 }, { provider: 'adyen', files: 0 }]);
  });

  it('refuses bad credentials without retrying, with a clear error', async () => {
    emu.adyen.faults.push({ kind: 'bad-auth' });
    const before = emu.adyen.requests.length;
    const r = await fetch('adyen');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/adyen 2026-11-24: .*HTTP 401 — the report user \S+ was refused/);
    expect(emu.adyen.requests.length - before).toBe(1);
  });

  it('never lets a secret reach the logs or the terminal', () => {
    const all = transcript.join('\n');
    expect(all.length).toBeGreaterThan(1000);
    expect(all).not.toContain('PRIVATE KEY');
    for (const secret of emu.secrets) expect(all).not.toContain(secret);
  });
});
