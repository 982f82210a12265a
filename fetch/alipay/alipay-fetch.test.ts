import { createHash, createSign, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAlipayEmulator, type AlipayEmulator } from '../../emulators/alipay/server.js';
import { FetchAuthError, IntegrityError, SignatureError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { ALIPAY_BILL_METHOD, alipayOptionsFromEnv, alipayTimestamp, createAlipayFetcher, zipDefect, type AlipayFetcherOptions } from './client.js';
import { alipaySignContent, topLevelMembers } from './signing.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/alipay', import.meta.url));
const TRADE_DATE = '2019-09-16';
const ACCOUNT_DATE = '2019-10-01';
const PID = '2088021109625633';

/** A minimal stored (uncompressed) zip: the fallback when the fixtures are not there. */
function storedZip(members: Array<{ name: string; data: Buffer }>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const crc = crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(m.data.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(m.data.length, 20);
    central.writeUInt32LE(m.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, m.data);
    centrals.push(central, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function fixtureOr(name: string, fallback: () => Buffer): Buffer {
  const p = join(FIXTURES, name);
  return existsSync(p) ? readFileSync(p) : fallback();
}

const tradeZip = fixtureOr(`20880211096256330156_20190916.csv.zip`, () =>
  storedZip([{ name: `${PID}0156_20190916_detail.csv`, data: Buffer.from('#支付宝业务明细查询\r\n') }]),
);
const accountZip = fixtureOr(`20880211096256330156_20191001.csv.zip`, () =>
  storedZip([{ name: `${PID}0156_20191001_account.csv`, data: Buffer.from('#支付宝账务明细查询\r\n') }]),
);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const TINY: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, retryNotReady: true };

let emu: AlipayEmulator;
/** Every error message produced in this file, checked for secrets at the end. */
const messages: string[] = [];

function client(over: Partial<AlipayFetcherOptions> = {}) {
  return createAlipayFetcher({
    appId: emu.appId,
    privateKeyPem: emu.appPrivateKeyPem,
    alipayPublicKeyPem: emu.alipayPublicKeyPem,
    gateway: emu.gateway,
    timeoutMs: 2_000,
    ...over,
  });
}

const req = (billDate = TRADE_DATE) => ({ provider: 'alipay' as const, account: PID, billDate });

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    messages.push((err as Error).message);
    return err as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  emu = await startAlipayEmulator({ pid: PID, bills: { [TRADE_DATE]: { bytes: tradeZip } }, accountBills: { [ACCOUNT_DATE]: { bytes: accountZip } } });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.faults.clear();
  emu.requests.length = 0;
});

describe('alipay signing rules', () => {
  it('builds the string to sign like the gateway (sorted, non-empty, sign excluded, sign_type included)', () => {
    // The gateway's own string quoted in an isv.invalid-signature answer (alipay-sdk-nodejs-all src/alipay.ts comment).
    const content = alipaySignContent({
      timestamp: '2024-05-13 17:49:20',
      version: '1.0',
      sign_type: 'RSA2',
      method: 'alipay.security.risk.content.analyze',
      charset: 'utf-8',
      app_id: '2021000122671080',
      sign: 'ignored',
      app_auth_token: '',
    });
    expect(content).toBe('app_id=2021000122671080&charset=utf-8&method=alipay.security.risk.content.analyze&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0');
  });

  it('formats the timestamp in China time', () => {
    expect(alipayTimestamp(Date.parse('2024-05-13T09:49:20Z'))).toBe('2024-05-13 17:49:20');
  });

  it('cuts the raw response object text exactly, even with a "sign" inside a value', () => {
    const raw = '{"a_response":{"code":"10000","x":"\\"sign\\":{}","u":"https:\\/\\/h\\/p"},"sign":"abc"}';
    const m = topLevelMembers(raw)!;
    expect(m.get('a_response')).toBe('{"code":"10000","x":"\\"sign\\":{}","u":"https:\\/\\/h\\/p"}');
    expect(m.get('sign')).toBe('"abc"');
    expect(topLevelMembers('<html>')).toBeUndefined();
  });

  it('recognises whole and truncated zips by the end-of-central-directory record', () => {
    expect(zipDefect(tradeZip)).toBeUndefined();
    expect(zipDefect(tradeZip.subarray(0, tradeZip.length - 10))).toMatch(/end-of-central-directory/);
    expect(zipDefect(Buffer.from('<html>下载超时</html>'))).toMatch(/no zip local header|too short/);
  });
});

describe('alipay fetch against the emulator', () => {
  it('downloads the trade bill zip byte for byte', async () => {
    const res = await client().fetch(req());
    expect(res.files).toHaveLength(1);
    const f = res.files[0]!;
    expect(sha256(f.bytes)).toBe(sha256(tradeZip));
    expect(f.name).toBe(`${PID}0156_20190916.csv.zip`);
    expect(f.integrity).toEqual({ algorithm: 'content-length', value: String(tradeZip.length), over: 'bytes' });
    expect(res.notes).toEqual({ bill_type: 'trade', link_renewals: '0' });
    expect(emu.requests.map((r) => `${r.stage}:${r.status}`)).toEqual(['api:200', 'download:200']);
  });

  it('downloads the signcustomer (account) bill when asked, with a PKCS#1 key', async () => {
    const pkcs1 = await startAlipayEmulator({ pid: PID, privateKeyFormat: 'pkcs1', accountBills: { [ACCOUNT_DATE]: { bytes: accountZip } } });
    try {
      expect(pkcs1.appPrivateKeyPem).toContain('BEGIN RSA PRIVATE KEY');
      const c = createAlipayFetcher({ appId: pkcs1.appId, privateKeyPem: pkcs1.appPrivateKeyPem, alipayPublicKeyPem: pkcs1.alipayPublicKeyPem, gateway: pkcs1.gateway, billType: 'signcustomer' });
      const res = await c.fetch(req(ACCOUNT_DATE));
      expect(sha256(res.files[0]!.bytes)).toBe(sha256(accountZip));
      // the trade map is empty on this emulator: a trade fetch would be an empty day, so the bill type was sent
      expect((await createAlipayFetcher({ appId: pkcs1.appId, privateKeyPem: pkcs1.appPrivateKeyPem, alipayPublicKeyPem: pkcs1.alipayPublicKeyPem, gateway: pkcs1.gateway }).fetch(req(ACCOUNT_DATE))).files).toEqual([]);
    } finally {
      await pkcs1.close();
    }
  });

  it('HTTP 500 is transient and succeeds on retry', async () => {
    emu.faults.push({ kind: 'http-500' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'http-500' }, { kind: 'http-500', on: 'download' });
    const res = await withRetry(() => client().fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeZip));
    expect(emu.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it('429 carries Retry-After and succeeds on retry', async () => {
    emu.faults.push({ kind: 'http-429', retryAfterSeconds: 7 });
    const err = await failure(client().fetch(req()));
    expect(err).toBeInstanceOf(TransientFetchError);
    expect((err as TransientFetchError).retryAfterMs).toBe(7000);
    emu.faults.push({ kind: 'http-429', retryAfterSeconds: 1 });
    const delays: number[] = [];
    const res = await withRetry(() => client().fetch(req()), TINY, { onRetry: (_e, d) => delays.push(d) });
    expect(delays).toEqual([5]); // the hint, capped by maxDelayMs
    expect(res.files).toHaveLength(1);
  });

  it('a slow gateway or file host times out (transient) and succeeds on retry', async () => {
    emu.faults.push({ kind: 'slow', delayMs: 1_500 });
    const err = await failure(client({ timeoutMs: 300 }).fetch(req()));
    expect(err).toBeInstanceOf(TransientFetchError);
    expect(err.message).toMatch(/timed out/);
    emu.faults.push({ kind: 'slow', delayMs: 1_500, on: 'download' });
    expect(await failure(client({ timeoutMs: 300 }).fetch(req()))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'slow', delayMs: 1_500 });
    const res = await withRetry(() => client({ timeoutMs: 300 }).fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeZip));
  });

  it('a body cut below its Content-Length is an IntegrityError, not retried', async () => {
    emu.faults.push({ kind: 'truncate', mode: 'cut' });
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, client().fetch(req())), TINY));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toMatch(/ended after \d+ of \d+ bytes — truncated download/);
    expect(attempts).toBe(1);
  });

  it('a short zip with a consistent Content-Length is an IntegrityError (no end record)', async () => {
    emu.faults.push({ kind: 'truncate', mode: 'short' });
    const err = await failure(client().fetch(req()));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toMatch(/not a whole zip/);
  });

  it('an expired download link ("下载超时") asks for a new URL inside the same fetch', async () => {
    emu.faults.push({ kind: 'expired-link' });
    const res = await client().fetch(req());
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeZip));
    expect(res.notes?.link_renewals).toBe('1');
    expect(emu.requests.map((r) => r.stage)).toEqual(['api', 'download', 'api', 'download']);
  });

  it('gives up (transient) after the bounded number of renewals', async () => {
    emu.faults.push({ kind: 'expired-link' }, { kind: 'expired-link' });
    const err = await failure(client({ maxLinkRenewals: 1 }).fetch(req()));
    expect(err).toBeInstanceOf(TransientFetchError);
    expect(err.message).toMatch(/expired 2 times/);
    expect(emu.requests.filter((r) => r.stage === 'api')).toHaveLength(2);
  });

  it('isp.bill_not_exist for a past day is an empty day', async () => {
    const res = await client().fetch(req('2019-09-20'));
    expect(res.files).toEqual([]);
    expect(res.notes).toEqual({ bill_type: 'trade', sub_code: 'isp.bill_not_exist' });
    expect(emu.requests[0]!.subCode).toBe('isp.bill_not_exist');
  });

  it('isp.bill_not_exist before noon China time of the next day is "not ready", and retried', async () => {
    const morningAfter = () => Date.parse('2019-09-17T10:30:00+08:00');
    emu.faults.push({ kind: 'bill-not-exist' });
    const err = await failure(client({ now: morningAfter }).fetch(req()));
    expect(err).toBeInstanceOf(StatementNotReadyError);
    emu.faults.push({ kind: 'bill-not-exist' });
    const res = await withRetry(() => client({ now: morningAfter }).fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeZip));
    // after the cut the same answer is an empty day
    emu.faults.push({ kind: 'bill-not-exist' });
    expect((await client({ now: () => Date.parse('2019-09-17T12:00:01+08:00') }).fetch(req())).files).toEqual([]);
  });

  it('code 20000 (isp.unknow-error) is transient', async () => {
    emu.faults.push({ kind: 'system-error' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(TransientFetchError);
  });

  it('a bad or missing response sign is a SignatureError and is not retried', async () => {
    emu.faults.push({ kind: 'bad-signature' });
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, client().fetch(req())), TINY));
    expect(err).toBeInstanceOf(SignatureError);
    expect(err.message).toMatch(/does not verify/);
    expect(attempts).toBe(1);
    emu.faults.push({ kind: 'missing-signature' });
    const missing = await failure(client().fetch(req()));
    expect(missing).toBeInstanceOf(SignatureError);
    expect(missing.message).toMatch(/missing/);
  });

  it('an unverified "no bill" answer is never taken as an empty day', async () => {
    emu.faults.push({ kind: 'missing-signature' });
    expect(await failure(client().fetch(req('2019-09-20')))).toBeInstanceOf(SignatureError);
  });

  it('a response signed by another key than the configured Alipay key is a SignatureError', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await failure(client({ alipayPublicKeyPem: other }).fetch(req()))).toBeInstanceOf(SignatureError);
  });

  it('wrong credentials are FetchAuthError (wrong key → isv.invalid-signature; unknown app → isv.invalid-app-id)', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const wrongKey = await failure(client({ privateKeyPem: otherKey }).fetch(req()));
    expect(wrongKey).toBeInstanceOf(FetchAuthError);
    expect(wrongKey.message).toMatch(/isv\.invalid-signature/);
    expect(emu.requests.at(-1)!.subCode).toBe('isv.invalid-signature');
    const wrongApp = await failure(client({ appId: '2021000000000000' }).fetch(req()));
    expect(wrongApp).toBeInstanceOf(FetchAuthError);
    expect(wrongApp.message).toMatch(/isv\.invalid-app-id/);
    emu.faults.push({ kind: 'invalid-app-id' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(FetchAuthError);
  });
});

describe('the Alipay emulator checks requests like the gateway', () => {
  async function rawCall(mutate: (p: Record<string, string>) => void) {
    const params: Record<string, string> = {
      app_id: emu.appId,
      method: ALIPAY_BILL_METHOD,
      format: 'JSON',
      charset: 'utf-8',
      sign_type: 'RSA2',
      timestamp: alipayTimestamp(Date.now()),
      version: '1.0',
      biz_content: JSON.stringify({ bill_type: 'trade', bill_date: TRADE_DATE }),
    };
    params.sign = createSign('RSA-SHA256').update(alipaySignContent(params), 'utf8').sign(emu.appPrivateKeyPem, 'base64');
    mutate(params);
    const res = await fetch(emu.gateway, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8' }, body: new URLSearchParams(params).toString() });
    const raw = await res.text();
    return (JSON.parse(raw) as Record<string, Record<string, string>>)[`${ALIPAY_BILL_METHOD.replaceAll('.', '_')}_response`]!;
  }

  it('accepts a correctly signed form request', async () => {
    const a = await rawCall(() => {});
    expect(a.code).toBe('10000');
    expect(a.bill_download_url).toMatch(/downloadBillFile\.resource\?bizType=trade&userId=20880211096256330156&fileType=csv\.zip&bizDates=20190916/);
  });

  it('rejects a tampered signature with isv.invalid-signature', async () => {
    const a = await rawCall((p) => {
      p.sign = `${p.sign!.slice(0, 10)}${p.sign![10] === 'A' ? 'B' : 'A'}${p.sign!.slice(11)}`;
    });
    expect(a).toMatchObject({ code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-signature' });
    expect(a.sub_msg).toContain('app_id=');
  });

  it('rejects a tampered parameter (signature over other params)', async () => {
    const a = await rawCall((p) => {
      p.biz_content = JSON.stringify({ bill_type: 'trade', bill_date: '2019-09-15' });
    });
    expect(a.sub_code).toBe('isv.invalid-signature');
  });

  it('rejects sign_type RSA, an unknown app and a missing sign', async () => {
    expect((await rawCall((p) => (p.sign_type = 'RSA'))).sub_code).toBe('isv.invalid-signature-type');
    expect((await rawCall((p) => (p.app_id = '2021999999999999'))).sub_code).toBe('isv.invalid-app-id');
    expect((await rawCall((p) => delete p.sign)).sub_code).toBe('isv.missing-signature');
  });
});

describe('alipay configuration from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alipay-env-'));
  beforeAll(() => {
    writeFileSync(join(dir, 'app.pem'), emu.appPrivateKeyPem);
    writeFileSync(join(dir, 'alipay.pem'), emu.alipayPublicKeyPem);
    writeFileSync(join(dir, 'garbage.pem'), 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ-not-a-key');
  });

  it('reads the key files named by the variables and fetches with them', async () => {
    const opts = alipayOptionsFromEnv({ ALIPAY_APP_ID: emu.appId, ALIPAY_PRIVATE_KEY_FILE: join(dir, 'app.pem'), ALIPAY_PUBLIC_KEY_FILE: join(dir, 'alipay.pem'), ALIPAY_GATEWAY: emu.gateway });
    expect(opts.gateway).toBe(emu.gateway);
    const res = await createAlipayFetcher(opts).fetch(req());
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeZip));
  });

  it('names the missing or unreadable variable and never prints key material', () => {
    expect(() => alipayOptionsFromEnv({ ALIPAY_PRIVATE_KEY_FILE: 'x' })).toThrow(/ALIPAY_APP_ID is not set/);
    expect(() => alipayOptionsFromEnv({ ALIPAY_APP_ID: '1', ALIPAY_PUBLIC_KEY_FILE: join(dir, 'alipay.pem') })).toThrow(/ALIPAY_PRIVATE_KEY_FILE is not set/);
    expect(() => alipayOptionsFromEnv({ ALIPAY_APP_ID: '1', ALIPAY_PRIVATE_KEY_FILE: join(dir, 'nope.pem'), ALIPAY_PUBLIC_KEY_FILE: join(dir, 'alipay.pem') })).toThrow(/ALIPAY_PRIVATE_KEY_FILE \(ENOENT\)/);
    let msg = '';
    try {
      alipayOptionsFromEnv({ ALIPAY_APP_ID: '1', ALIPAY_PRIVATE_KEY_FILE: join(dir, 'garbage.pem'), ALIPAY_PUBLIC_KEY_FILE: join(dir, 'alipay.pem') });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/ALIPAY_PRIVATE_KEY_FILE: not a readable RSA private key/);
    expect(msg).not.toContain('MIIEvQ');
  });
});

describe('alipay error messages', () => {
  it('were collected from the fault cases above', () => {
    expect(messages.length).toBeGreaterThanOrEqual(15);
  });

  it('name the provider and bill date and contain no key material, signature or link token', () => {
    const keyLines = [emu.appPrivateKeyPem, emu.appPublicKeyPem, emu.alipayPublicKeyPem]
      .flatMap((pem) => pem.split('\n'))
      .filter((l) => l.length > 20 && !l.startsWith('-----'));
    for (const m of messages) {
      expect(m).toMatch(/^alipay \d{4}-\d{2}-\d{2}: /);
      for (const line of keyLines) expect(m).not.toContain(line);
      expect(m).not.toMatch(/[A-Za-z0-9+/]{40,}={0,2}/); // no base64 signature or key body
      expect(m).not.toMatch(/token=/);
      expect(m).not.toMatch(/BEGIN/);
    }
  });
});
