import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe/server.js';
import { FetchAuthError, FetchError, IntegrityError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { createStripeFetcher, dayInterval, defaultStripeColumns, ReportRunFailedError, stripeOptionsFromEnv, type StripeFetcherOptions } from './client.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FAST: RetryPolicy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 5, retryNotReady: true };

const fixture = (name: string, fallback: string) => {
  const u = new URL(`../../fixtures/stripe/${name}`, import.meta.url);
  return existsSync(u) ? readFileSync(u) : Buffer.from(fallback);
};
const payoutCsv = fixture(
  'payout_reconciliation_usd.csv',
  'automatic_payout_id,automatic_payout_effective_at_utc,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category\npo_1,2024-03-06 00:00:00,txn_1,2024-03-01 09:15:02,usd,100.00,3.20,96.80,charge\n',
);
const jpyCsv = fixture('balance_change_jpy_reordered.csv', 'reporting_category,net,gross,fee,currency,created_utc\ncharge,9640,10000,360,jpy,2024-05-10 03:00:00\n');

const DAY = '2024-03-01';
const UTC_DAY = { start: Date.UTC(2024, 2, 1) / 1000, end: Date.UTC(2024, 2, 2) / 1000 };
// 2024-05-10 in Asia/Tokyo (UTC+9): 2024-05-09T15:00Z … 2024-05-10T15:00Z
const TOKYO_DAY = { start: Date.UTC(2024, 4, 9, 15) / 1000, end: Date.UTC(2024, 4, 10, 15) / 1000 };

let emu: StripeEmulator;
let base: StripeFetcherOptions;

beforeAll(async () => {
  emu = await startStripeEmulator({
    pendingPolls: 1,
    reports: [
      { reportType: 'payout_reconciliation.itemized.5', intervalStart: UTC_DAY.start, intervalEnd: UTC_DAY.end, csv: payoutCsv },
      { reportType: 'balance_change_from_activity.itemized.3', intervalStart: TOKYO_DAY.start, intervalEnd: TOKYO_DAY.end, csv: jpyCsv },
    ],
  });
  base = { apiKey: emu.apiKey, apiBase: emu.url, pollIntervalMs: 5, maxPollMs: 200, timeoutMs: 1_000 };
});
afterAll(() => emu?.close());
beforeEach(() => emu.faults.clear());

const req = { provider: 'stripe' as const, account: 'acct_1Recon', billDate: DAY };

function noSecrets(err: unknown) {
  const e = err as Error;
  expect(`${e.message}\n${e.stack}`).not.toContain(emu.apiKey);
  expect(e.message).not.toMatch(/sk_test_/);
}
const failure = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeDefined();
  noSecrets(err);
  return err as Error;
};

describe('stripe Reports API fetch against the emulator', () => {
  it('creates a run for the UTC day with the explicit columns, polls it, and downloads the exact bytes', async () => {
    const res = await createStripeFetcher(base).fetch(req);
    expect(res.files).toHaveLength(1);
    expect(sha(res.files[0]!.bytes)).toBe(sha(payoutCsv));
    expect(res.files[0]!.name).toBe("stripe-payout_reconciliation.itemized.5-2024-03-01.csv");
    const run = emu.runs.get(res.notes!.reportRunId!)!;
    expect(run.reportType).toBe('payout_reconciliation.itemized.5');
    expect(run.parameters).toEqual({ interval_start: UTC_DAY.start, interval_end: UTC_DAY.end, columns: defaultStripeColumns('payout_reconciliation.itemized.5'), timezone: 'Etc/UTC' });
    expect(run.parameters.columns).toContain('payment_metadata[order_id]');
    expect(run.parameters.columns).toContain('automatic_payout_id');
    expect(res.files[0]!.integrity).toEqual({ algorithm: 'size', value: String(payoutCsv.length), over: 'bytes' });
  });

  it('balance_change_from_activity in a configured time zone passes parameters.timezone and the local day', async () => {
    const res = await createStripeFetcher({ ...base, reportType: 'balance_change_from_activity.itemized.3', timezone: 'Asia/Tokyo' }).fetch({ ...req, billDate: '2024-05-10' });
    expect(sha(res.files[0]!.bytes)).toBe(sha(jpyCsv));
    const run = emu.runs.get(res.notes!.reportRunId!)!;
    expect(run.parameters.interval_start).toBe(TOKYO_DAY.start);
    expect(run.parameters.timezone).toBe('Asia/Tokyo');
    expect(run.parameters.columns).not.toContain('automatic_payout_id');
  });

  it('a day without activity gives Stripe\'s header-only CSV', async () => {
    const res = await createStripeFetcher(base).fetch({ ...req, billDate: '2024-03-02' });
    expect(res.files[0]!.bytes.toString()).toBe(defaultStripeColumns('payout_reconciliation.itemized.5').join(',') + '\n');
  });

  it('a run still pending after the bounded poll → StatementNotReadyError; the retry resumes the SAME run', async () => {
    emu.faults.push({ on: 'create', kind: 'pending', polls: 30 });
    const runsBefore = emu.runs.size;
    const fetcher = createStripeFetcher({ ...base, pollIntervalMs: 5, maxPollMs: 30 });
    const err = await failure(fetcher.fetch(req));
    expect(err).toBeInstanceOf(StatementNotReadyError);
    expect(err.message).toMatch(/report run frr_\w+ .* is still pending/);
    const res = await withRetry(() => fetcher.fetch(req), { ...FAST, attempts: 20 });
    expect(sha(res.files[0]!.bytes)).toBe(sha(payoutCsv));
    expect(emu.runs.size - runsBefore).toBe(1);
  });

  it('a failed run → ReportRunFailedError with Stripe\'s error text, not retried', async () => {
    emu.faults.push({ on: 'create', kind: 'fail-run', error: 'The report could not be generated: too many rows for the requested interval.' });
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, createStripeFetcher(base).fetch(req)), FAST));
    expect(err).toBeInstanceOf(ReportRunFailedError);
    expect(err.message).toContain('too many rows for the requested interval');
    expect(attempts).toBe(1);
    // failing later, while being polled: the run id is named
    emu.faults.push({ on: 'create', kind: 'fail-run', error: 'Internal report generation error.', afterPolls: 2 });
    const late = await failure(createStripeFetcher(base).fetch(req));
    expect(late).toBeInstanceOf(ReportRunFailedError);
    expect((late as ReportRunFailedError).runId).toMatch(/^frr_/);
    expect(emu.runs.get((late as ReportRunFailedError).runId)?.failure).toBe('Internal report generation error.');
    expect(late.message).toContain('Internal report generation error.');
  });

  it('a wrong key → FetchAuthError without the key, not retried', async () => {
    const wrongKey = 'sk_test_wrongwrongwrong1234';
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, createStripeFetcher({ ...base, apiKey: wrongKey }).fetch(req)), FAST));
    expect(err).toBeInstanceOf(FetchAuthError);
    expect(err.message).not.toContain(wrongKey);
    expect(err.message).not.toContain('1234');
    expect(attempts).toBe(1);
    emu.faults.push({ on: 'contents', kind: 'bad-auth' });
    expect(await failure(createStripeFetcher(base).fetch(req))).toBeInstanceOf(FetchAuthError);
  });

  it('5xx, 429 with Retry-After and a slow answer are transient; withRetry succeeds', async () => {
    emu.faults.push({ kind: 'status', status: 500 });
    expect(await failure(createStripeFetcher(base).fetch(req))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ on: 'create', kind: 'rate-limit', retryAfterSec: 7 });
    const limited = await failure(createStripeFetcher(base).fetch(req));
    expect(limited).toBeInstanceOf(TransientFetchError);
    expect((limited as TransientFetchError).retryAfterMs).toBe(7_000);
    emu.faults.push({ on: 'retrieve', kind: 'slow', delayMs: 1_500 });
    const slow = await failure(createStripeFetcher({ ...base, timeoutMs: 300 }).fetch(req));
    expect(slow).toBeInstanceOf(TransientFetchError);

    emu.faults.push(
      { on: 'report_types', kind: 'status', status: 503 },
      { on: 'create', kind: 'rate-limit', retryAfterSec: 0 },
      { on: 'retrieve', kind: 'slow', delayMs: 1_500 },
      { on: 'contents', kind: 'status', status: 502 },
    );
    const seen: string[] = [];
    const fetcher = createStripeFetcher({ ...base, timeoutMs: 300 });
    const res = await withRetry(() => fetcher.fetch(req), { ...FAST, attempts: 8 }, { onRetry: (e) => seen.push(e.message.replace(/frr_\w+/, 'frr')) });
    expect(sha(res.files[0]!.bytes)).toBe(sha(payoutCsv));
    expect(seen).toHaveLength(4);
    expect(seen[0]).toMatch(/HTTP 503/);
    expect(seen[1]).toMatch(/HTTP 429/);
    expect(seen[3]).toMatch(/HTTP 502/);
  });

  it('a truncated download → IntegrityError, whether the File object or Content-Length gives it away', async () => {
    emu.faults.push({ on: 'contents', kind: 'truncate', keepBytes: 100 });
    const err = await failure(createStripeFetcher(base).fetch(req));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(`received 100 bytes but the File object says ${payoutCsv.length}`);
    emu.faults.push({ on: 'contents', kind: 'cut', keepBytes: 100 });
    const cut = await failure(createStripeFetcher(base).fetch(req));
    expect(cut).toBeInstanceOf(IntegrityError);
    expect(cut.message).toContain(`the body ended after 100 of ${payoutCsv.length} bytes`);
  });

  it('a day whose data Stripe has not refreshed yet → StatementNotReadyError; bad parameters → FetchError', async () => {
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    const err = await failure(createStripeFetcher(base).fetch({ ...req, billDate: future }));
    expect(err).toBeInstanceOf(StatementNotReadyError);
    const bad = await failure(createStripeFetcher({ ...base, columns: ['gross', 'no_such_column'] }).fetch(req));
    expect(bad.constructor).toBe(FetchError);
    expect(bad.message).toContain("Invalid column 'no_such_column'");
    const badType = await failure(createStripeFetcher({ ...base, reportType: 'payout_reconciliation.itemized.99' }).fetch(req));
    expect(badType.constructor).toBe(FetchError);
  });
});

describe('stripe emulator protocol', () => {
  it('accepts Basic `sk_…:` as well as Bearer and answers Stripe-shaped errors', async () => {
    const path = `${emu.url}/v1/reporting/report_types/payout_reconciliation.itemized.5`;
    const basic = await fetch(path, { headers: { Authorization: `Basic ${Buffer.from(`${emu.apiKey}:`).toString('base64')}` } });
    expect(basic.status).toBe(200);
    expect(await basic.json()).toMatchObject({ object: 'reporting.report_type', id: 'payout_reconciliation.itemized.5' });
    const none = await fetch(path);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    const bad = await fetch(`${emu.url}/v1/reporting/report_runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emu.apiKey}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'report_type=payout_reconciliation.itemized.5&parameters[interval_start]=10&parameters[interval_end]=abc',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { type: 'invalid_request_error', message: 'Invalid integer: parameters[interval_end]', code: 'parameter_invalid_integer', param: 'parameters[interval_end]' } });
  });
});

describe('stripe helpers', () => {
  it('computes day intervals across DST', () => {
    expect(dayInterval('2024-03-01')).toEqual(UTC_DAY);
    expect(dayInterval('2024-05-10', 'Asia/Tokyo')).toEqual(TOKYO_DAY);
    // US spring-forward day is 23 hours long
    const ny = dayInterval('2024-03-10', 'America/New_York');
    expect(ny.start).toBe(Date.UTC(2024, 2, 10, 5) / 1000);
    expect(ny.end - ny.start).toBe(23 * 3600);
    expect(() => dayInterval('2024-3-1')).toThrow(/YYYY-MM-DD/);
  });

  it('reads the environment', () => {
    expect(stripeOptionsFromEnv({ STRIPE_API_KEY: 'sk_test_x', STRIPE_API_BASE: 'http://127.0.0.1:1' })).toEqual({ apiKey: 'sk_test_x', apiBase: 'http://127.0.0.1:1' });
    expect(() => stripeOptionsFromEnv({})).toThrow(/STRIPE_API_KEY/);
  });
});
