import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAdyenEmulator, type AdyenEmulator } from '../../emulators/adyen/server.js';
import { FetchAuthError, IntegrityError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { adyenFileNameForDay, adyenOptionsFromEnv, createAdyenFetcher, type AdyenFetcherOptions } from './client.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FAST: RetryPolicy = { attempts: 5, baseDelayMs: 1, maxDelayMs: 5, retryNotReady: true };

const HEADER = 'Company Account,Merchant Account,Psp Reference,Merchant Reference,Payment Method,Creation Date,TimeZone,Type,Modification Reference,Gross Currency,Gross Debit (GC),Gross Credit (GC),Exchange Rate,Net Currency,Net Debit (NC),Net Credit (NC),Commission (NC),Markup (NC),Scheme Fees (NC),Interchange (NC),Payment Method Variant,Modification Merchant Reference,Batch Number,Reserved4,Reserved5,Reserved6,Reserved7,Reserved8,Reserved9,Reserved10';
const fixture = (name: string, rows: string[]) => {
  const u = new URL(`../../fixtures/adyen/${name}`, import.meta.url);
  return existsSync(u) ? readFileSync(u) : Buffer.from([HEADER, ...rows].join('\n') + '\n');
};
const batch501 = fixture('settlement_detail_report_batch_501.csv', [
  'ReconCompany,ReconShopECOM,8815000000000001,ORD-1,visa,2024-06-03 10:00:00,CEST,Settled,8815000000000001,EUR,,100.00,1,EUR,,98.50,1.50,,,,visa,,501,,,,,,,',
  'ReconCompany,ReconShopECOM,,,,2024-06-04 08:00:00,CEST,MerchantPayout,"TX1234XT batch 501, ReconShopECOM",,,,,EUR,98.50,,,,,,,,501,,,,,,,',
]);
const batch77 = fixture('settlement_detail_report_batch_77.csv', []);
const daily = Buffer.from([HEADER, 'ReconCompany,ReconShopECOM,8815000000000009,ORD-9,mc,2024-06-05 11:00:00,CEST,Settled,8815000000000009,EUR,,10.00,1,EUR,,9.70,0.30,,,,mc,,502,,,,,,,'].join('\r\n') + '\r\n');

let emu: AdyenEmulator;
let basic: AdyenFetcherOptions;

beforeAll(async () => {
  emu = await startAdyenEmulator({
    merchantAccount: 'ReconShopECOM',
    files: { 'settlement_detail_report_batch_501.csv': batch501, 'settlement_detail_report_batch_77.csv': batch77, 'settlement_detail_report_2024_06_05.csv': daily },
  });
  basic = { baseUrl: emu.url, merchantAccount: emu.merchantAccount, reportUser: emu.reportUser, reportPassword: emu.reportPassword, timeoutMs: 1_000 };
});
afterAll(() => emu?.close());
beforeEach(() => emu.faults.clear());

const req = { provider: 'adyen' as const, account: 'ReconShopECOM', billDate: '2024-06-05' };

function noSecrets(err: unknown) {
  const e = err as Error;
  const text = `${e.message}\n${e.stack}`;
  expect(text).not.toContain(emu.reportPassword);
  expect(text).not.toContain(emu.apiKey);
  expect(text).not.toContain(Buffer.from(`${emu.reportUser}:${emu.reportPassword}`).toString('base64'));
}
const failure = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeDefined();
  noSecrets(err);
  return err as Error;
};

describe('adyen report download against the emulator', () => {
  it('downloads explicit batch files byte for byte with Basic auth', async () => {
    const res = await createAdyenFetcher({ ...basic, fileNames: ['settlement_detail_report_batch_77.csv', 'settlement_detail_report_batch_501.csv'] }).fetch(req);
    expect(res.files.map((f) => f.name)).toEqual(['settlement_detail_report_batch_77.csv', 'settlement_detail_report_batch_501.csv']);
    expect(sha(res.files[0]!.bytes)).toBe(sha(batch77));
    expect(sha(res.files[1]!.bytes)).toBe(sha(batch501));
    expect(res.files[1]!.integrity).toEqual({ algorithm: 'size', value: String(batch501.length), over: 'bytes' });
    expect(emu.requests.at(-1)).toBe('GET /reports/download/MerchantAccount/ReconShopECOM/settlement_detail_report_batch_501.csv');
  });

  it('finds the day file by the date template, with the API key', async () => {
    const { reportUser: _u, reportPassword: _p, ...noBasic } = basic;
    const res = await createAdyenFetcher({ ...noBasic, apiKey: emu.apiKey }).fetch(req);
    expect(res.files.map((f) => f.name)).toEqual(['settlement_detail_report_2024_06_05.csv']);
    expect(sha(res.files[0]!.bytes)).toBe(sha(daily));
  });

  it('a report not generated yet → StatementNotReadyError; withRetry waits for it', async () => {
    const err = await failure(createAdyenFetcher(basic).fetch({ ...req, billDate: '2024-06-06' }));
    expect(err).toBeInstanceOf(StatementNotReadyError);
    expect(err.message).toContain('settlement_detail_report_2024_06_06.csv');
    emu.faults.push({ kind: 'not-generated' }, { kind: 'not-generated' });
    const res = await withRetry(() => createAdyenFetcher(basic).fetch(req), FAST);
    expect(sha(res.files[0]!.bytes)).toBe(sha(daily));
  });

  it('wrong password, wrong API key, another merchant account → FetchAuthError, not retried, no secret', async () => {
    let attempts = 0;
    const wrongPw = await failure(withRetry(() => (attempts++, createAdyenFetcher({ ...basic, reportPassword: 'Secr3t-but-wrong' }).fetch(req)), FAST));
    expect(wrongPw).toBeInstanceOf(FetchAuthError);
    expect(wrongPw.message).not.toContain('Secr3t-but-wrong');
    expect(attempts).toBe(1);
    const wrongKey = await failure(createAdyenFetcher({ baseUrl: emu.url, merchantAccount: emu.merchantAccount, apiKey: 'AQEwrong-key-value' }).fetch(req));
    expect(wrongKey).toBeInstanceOf(FetchAuthError);
    expect(wrongKey.message).not.toContain('AQEwrong-key-value');
    const other = await failure(createAdyenFetcher({ ...basic, merchantAccount: 'SomeoneElse' }).fetch(req));
    expect(other).toBeInstanceOf(FetchAuthError);
    expect(other.message).toContain('HTTP 403');
    emu.faults.push({ kind: 'bad-auth' });
    expect(await failure(createAdyenFetcher(basic).fetch(req))).toBeInstanceOf(FetchAuthError);
  });

  it('5xx, 429 with Retry-After and a slow answer are transient; withRetry succeeds', async () => {
    emu.faults.push({ kind: 'status', status: 503 });
    expect(await failure(createAdyenFetcher(basic).fetch(req))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'rate-limit', retryAfterSec: 3 });
    const limited = await failure(createAdyenFetcher(basic).fetch(req));
    expect(limited).toBeInstanceOf(TransientFetchError);
    expect((limited as TransientFetchError).retryAfterMs).toBe(3_000);
    emu.faults.push({ kind: 'slow', delayMs: 1_000 });
    const slow = await failure(createAdyenFetcher({ ...basic, timeoutMs: 200 }).fetch(req));
    expect(slow).toBeInstanceOf(TransientFetchError);
    expect(slow.message).toContain('timed out after 200 ms');
    const refused = await failure(createAdyenFetcher({ ...basic, baseUrl: 'http://127.0.0.1:1' }).fetch(req));
    expect(refused).toBeInstanceOf(TransientFetchError);

    emu.faults.push({ kind: 'status', status: 500 }, { kind: 'rate-limit', retryAfterSec: 0 }, { kind: 'slow', delayMs: 1_000 });
    const seen: string[] = [];
    const res = await withRetry(() => createAdyenFetcher({ ...basic, timeoutMs: 200 }).fetch(req), FAST, { onRetry: (e) => seen.push(e.message) });
    expect(seen.map((m) => /HTTP (\d+)|timed out/.exec(m)?.[0])).toEqual(['HTTP 500', 'HTTP 429', 'timed out']);
    expect(sha(res.files[0]!.bytes)).toBe(sha(daily));
  });

  it('a body shorter than its Content-Length → IntegrityError, not retried', async () => {
    emu.faults.push({ kind: 'truncate', keepBytes: 64 });
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, createAdyenFetcher(basic).fetch(req)), FAST));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(`received 64 bytes but Content-Length says ${daily.length}`);
    expect(attempts).toBe(1);
  });
});

describe('adyen configuration', () => {
  it('reads the environment and builds day names', () => {
    expect(adyenOptionsFromEnv({ ADYEN_REPORT_BASE_URL: 'https://ca-test.adyen.com', ADYEN_MERCHANT_ACCOUNT: 'M', ADYEN_API_KEY: 'k' })).toEqual({ baseUrl: 'https://ca-test.adyen.com', merchantAccount: 'M', reportUser: undefined, reportPassword: undefined, apiKey: 'k' });
    expect(() => adyenOptionsFromEnv({ ADYEN_REPORT_BASE_URL: 'x', ADYEN_MERCHANT_ACCOUNT: 'M', ADYEN_REPORT_USER: 'u' })).toThrow(/ADYEN_REPORT_PASSWORD, or ADYEN_API_KEY/);
    expect(() => adyenOptionsFromEnv({ ADYEN_MERCHANT_ACCOUNT: 'M', ADYEN_API_KEY: 'k' })).toThrow(/ADYEN_REPORT_BASE_URL/);
    expect(adyenFileNameForDay('settlement_detail_report_{yyyy}_{MM}_{dd}.csv', '2024-06-05')).toBe('settlement_detail_report_2024_06_05.csv');
    expect(adyenFileNameForDay('sdr_{dd}{MM}{yyyy}.csv', '2024-06-05')).toBe('sdr_05062024.csv');
  });
});
