import { createHash, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startWechatpayEmulator, type WechatpayEmulator } from '../../emulators/wechatpay/server.js';
import { FetchAuthError, IntegrityError, SignatureError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { createWechatpayFetcher, wechatpayAuthorization, wechatpayOptionsFromEnv, wechatpaySignMessage, type WechatpayFetcherOptions } from './client.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/wechatpay', import.meta.url));
const DATE = '2024-07-09';
const FUND_DATE = '2024-07-10';

function fixtureOr(name: string, fallback: () => string): Buffer {
  const p = join(FIXTURES, name);
  return existsSync(p) ? readFileSync(p) : Buffer.from(fallback(), 'utf8');
}

// The ALL trade bill: UTF-8 BOM, CRLF, backticked values (formats.md §2.3); built when the fixture is absent.
const tradeBill = fixtureOr('all-bom-crlf.csv', () =>
  [
    '\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注',
    '`2024-07-09 10:00:00,`wx2421b1c4370ec43b,`1900000109,`0,`,`4200002166202407090001,`ORDER1,`oUser,`JSAPI,`SUCCESS,`OTHERS,`CNY,`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,`商品,`,`0.60000,`0.60%,`100.00,`0.00,`',
    '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额',
    '`1,`100.00,`0.00,`0.00,`0.60000,`100.00,`0.00',
    '',
  ].join('\r\n'),
);
const fundBill = fixtureOr('fundflow.csv', () =>
  [
    '\uFEFF记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号',
    '`2024-07-10 10:00:00,`4200002166202407100001,`1900000109202407100001,`交易,`交易,`收入,`100.00,`100.00,`system,`,`ORDER1',
    '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额',
    '`1,`1,`100.00,`0,`0.00',
    '',
  ].join('\r\n'),
);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

const TINY: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, retryNotReady: true };

let emu: WechatpayEmulator;
const messages: string[] = [];

function client(over: Partial<WechatpayFetcherOptions> = {}) {
  return createWechatpayFetcher({
    mchid: emu.mchid,
    serialNo: emu.merchantSerialNo,
    privateKeyPem: emu.merchantPrivateKeyPem,
    platformPublicKeyPem: emu.platformPublicKeyPem,
    platformSerial: emu.platformPublicKeyId,
    baseUrl: emu.url,
    timeoutMs: 2_000,
    ...over,
  });
}
const req = (billDate = DATE) => ({ provider: 'wechatpay' as const, account: '1900000109', billDate });

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
  emu = await startWechatpayEmulator({ bills: { [DATE]: { bytes: tradeBill } }, fundflowBills: { [FUND_DATE]: { bytes: fundBill } } });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.faults.clear();
  emu.requests.length = 0;
});

describe('wechatpay signing rules', () => {
  it('signs METHOD\\nURL\\nTS\\nNONCE\\nBODY\\n and formats the Authorization header', () => {
    expect(wechatpaySignMessage('GET', '/v3/bill/tradebill?bill_date=2024-07-09&bill_type=ALL', 1554208460, '593BEC0C930BF1AFEB40B4A08C8FB242', '')).toBe(
      'GET\n/v3/bill/tradebill?bill_date=2024-07-09&bill_type=ALL\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n',
    );
    const key = createPrivateKey(emu.merchantPrivateKeyPem);
    const h = wechatpayAuthorization({ mchid: '1900000109', serialNo: 'ABC', privateKey: key, method: 'GET', canonicalUrl: '/x', timestamp: 1554208460, nonce: 'N1' });
    expect(h).toMatch(/^WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="N1",timestamp="1554208460",serial_no="ABC",signature="[A-Za-z0-9+/]+=*"$/);
  });
});

describe('wechatpay fetch against the emulator', () => {
  it('downloads the trade bill byte for byte and checks its SHA1', async () => {
    const res = await client().fetch(req());
    const f = res.files[0]!;
    expect(res.files).toHaveLength(1);
    expect(sha256(f.bytes)).toBe(sha256(tradeBill));
    expect(f.name).toBe(`wechatpay-tradebill-ALL-${DATE}.csv`);
    expect(f.integrity).toEqual({ algorithm: 'SHA1', value: sha1(tradeBill), over: 'bytes' });
    expect(res.notes?.request_id).toMatch(/^[0-9A-F]{24}$/);
    expect(emu.requests.map((r) => `${r.stage}:${r.status}`)).toEqual(['api:200', 'download:200']);
  });

  it('GZIP: returns the gzip bytes as served, hash checked over the decompressed bill', async () => {
    const res = await client({ tarType: 'GZIP' }).fetch(req());
    const f = res.files[0]!;
    expect(f.bytes.subarray(0, 2).toString('hex')).toBe('1f8b');
    expect(sha256(gunzipSync(f.bytes))).toBe(sha256(tradeBill));
    expect(f.name).toBe(`wechatpay-tradebill-ALL-${DATE}.csv.gz`);
    expect(f.integrity).toEqual({ algorithm: 'SHA1', value: sha1(tradeBill), over: 'decompressed' });
  });

  it('fundflowbill through the option', async () => {
    const res = await client({ statement: 'fundflowbill' }).fetch(req(FUND_DATE));
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(fundBill));
    expect(res.files[0]!.name).toBe(`wechatpay-fundflowbill-BASIC-${FUND_DATE}.csv`);
    expect((await client().fetch(req(FUND_DATE))).files).toEqual([]); // no trade bill that day
  });

  it('HTTP 500 (SYSTEM_ERROR) is transient and succeeds on retry', async () => {
    emu.faults.push({ kind: 'http-500' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'http-500' }, { kind: 'http-500', on: 'download' });
    const res = await withRetry(() => client().fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeBill));
    expect(emu.requests.filter((r) => r.status === 500)).toHaveLength(3);
  });

  it('429 carries Retry-After and succeeds on retry', async () => {
    emu.faults.push({ kind: 'http-429', retryAfterSeconds: 3 });
    const err = await failure(client().fetch(req()));
    expect(err).toBeInstanceOf(TransientFetchError);
    expect((err as TransientFetchError).retryAfterMs).toBe(3000);
    emu.faults.push({ kind: 'http-429', retryAfterSeconds: 1 });
    expect((await withRetry(() => client().fetch(req()), TINY)).files).toHaveLength(1);
  });

  it('a slow answer times out (transient) and succeeds on retry', async () => {
    emu.faults.push({ kind: 'slow', delayMs: 1_500 });
    const err = await failure(client({ timeoutMs: 300 }).fetch(req()));
    expect(err).toBeInstanceOf(TransientFetchError);
    expect(err.message).toMatch(/timed out/);
    emu.faults.push({ kind: 'slow', delayMs: 1_500, on: 'download' });
    expect(await failure(client({ timeoutMs: 300 }).fetch(req()))).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'slow', delayMs: 1_500 });
    const res = await withRetry(() => client({ timeoutMs: 300 }).fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeBill));
  });

  it('STATEMENT_CREATING is "not ready" and succeeds on retry', async () => {
    emu.faults.push({ kind: 'statement-creating' });
    const err = await failure(client().fetch(req()));
    expect(err).toBeInstanceOf(StatementNotReadyError);
    expect(err.message).toMatch(/STATEMENT_CREATING/);
    emu.faults.push({ kind: 'statement-creating' }, { kind: 'statement-creating' });
    const res = await withRetry(() => client().fetch(req()), TINY);
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeBill));
  });

  it('NO_STATEMENT_EXIST is an empty day', async () => {
    const none = await client().fetch(req('2024-07-01'));
    expect(none.files).toEqual([]);
    expect(none.notes?.code).toBe('NO_STATEMENT_EXIST');
    emu.faults.push({ kind: 'no-statement' });
    expect((await client().fetch(req())).files).toEqual([]);
    expect(emu.requests.map((r) => `${r.status}:${r.code}`)).toEqual(['400:NO_STATEMENT_EXIST', '400:NO_STATEMENT_EXIST']);
  });

  it('a cut body is an IntegrityError and is not retried', async () => {
    emu.faults.push({ kind: 'truncate', mode: 'cut' });
    let attempts = 0;
    const err = await failure(withRetry(() => (attempts++, client().fetch(req())), TINY));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toMatch(/ended after \d+ of \d+ bytes — truncated download/);
    expect(attempts).toBe(1);
  });

  it('a short body with a consistent length fails the hash (plain) or the gzip (GZIP)', async () => {
    emu.faults.push({ kind: 'truncate', mode: 'short' });
    const plain = await failure(client().fetch(req()));
    expect(plain).toBeInstanceOf(IntegrityError);
    expect(plain.message).toMatch(/SHA1 of the bill is [0-9a-f]{40}, the provider said [0-9a-f]{40}/);
    emu.faults.push({ kind: 'truncate', mode: 'short' });
    const gz = await failure(client({ tarType: 'GZIP' }).fetch(req()));
    expect(gz).toBeInstanceOf(IntegrityError);
    expect(gz.message).toMatch(/not a readable gzip/);
  });

  it('a wrong hash_value is an IntegrityError', async () => {
    emu.faults.push({ kind: 'wrong-hash' });
    const err = await failure(client().fetch(req()));
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err.message).toContain(sha1(tradeBill));
    emu.faults.push({ kind: 'wrong-hash' });
    expect(await failure(client({ tarType: 'GZIP' }).fetch(req()))).toBeInstanceOf(IntegrityError);
  });

  it('an expired download link (400 INVALID_REQUEST) is renewed inside the fetch', async () => {
    emu.faults.push({ kind: 'expired-link' });
    const res = await client().fetch(req());
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeBill));
    expect(res.notes?.link_renewals).toBe('1');
    expect(emu.requests.map((r) => `${r.stage}:${r.status}`)).toEqual(['api:200', 'download:400', 'api:200', 'download:200']);
    emu.faults.push({ kind: 'expired-link' }, { kind: 'expired-link' });
    expect(await failure(client({ maxLinkRenewals: 1 }).fetch(req()))).toBeInstanceOf(TransientFetchError);
  });

  it('bad, missing or stale answer signatures are SignatureError, not retried', async () => {
    emu.faults.push({ kind: 'bad-signature' });
    let attempts = 0;
    const bad = await failure(withRetry(() => (attempts++, client().fetch(req())), TINY));
    expect(bad).toBeInstanceOf(SignatureError);
    expect(bad.message).toMatch(/does not verify/);
    expect(attempts).toBe(1);
    emu.faults.push({ kind: 'missing-signature' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(SignatureError);
    emu.faults.push({ kind: 'stale-signature' });
    const stale = await failure(client().fetch(req()));
    expect(stale).toBeInstanceOf(SignatureError);
    expect(stale.message).toMatch(/more than 300 s off/);
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await failure(client({ platformPublicKeyPem: otherKey }).fetch(req()))).toBeInstanceOf(SignatureError);
    expect(await failure(client({ platformSerial: 'PUB_KEY_ID_OTHER' }).fetch(req()))).toBeInstanceOf(SignatureError);
  });

  it('an unsigned or badly signed NO_STATEMENT_EXIST is never taken as an empty day', async () => {
    emu.faults.push({ kind: 'missing-signature' });
    expect(await failure(client().fetch(req('2024-07-01')))).toBeInstanceOf(SignatureError);
    emu.faults.push({ kind: 'bad-signature' });
    expect(await failure(client().fetch(req('2024-07-01')))).toBeInstanceOf(SignatureError);
  });

  it('wrong credentials are FetchAuthError (SIGN_ERROR)', async () => {
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(await failure(client({ privateKeyPem: otherKey }).fetch(req()))).toBeInstanceOf(FetchAuthError);
    expect(await failure(client({ serialNo: '0123456789ABCDEF' }).fetch(req()))).toBeInstanceOf(FetchAuthError);
    expect(await failure(client({ mchid: '1900000999' }).fetch(req()))).toBeInstanceOf(FetchAuthError);
    expect(await failure(client({ now: () => Date.now() - 10 * 60_000 }).fetch(req()))).toBeInstanceOf(FetchAuthError);
    emu.faults.push({ kind: 'sign-error' });
    expect(await failure(client().fetch(req()))).toBeInstanceOf(FetchAuthError);
    expect(emu.requests.map((r) => `${r.status}:${r.code}`)).toEqual(Array(5).fill('401:SIGN_ERROR'));
  });
});

describe('the WeChat Pay emulator checks requests like the provider', () => {
  async function rawGet(path: string, mutate: (h: string) => string = (h) => h, ts = Math.floor(Date.now() / 1000)) {
    const auth = wechatpayAuthorization({ mchid: emu.mchid, serialNo: emu.merchantSerialNo, privateKey: createPrivateKey(emu.merchantPrivateKeyPem), method: 'GET', canonicalUrl: path, timestamp: ts });
    const res = await fetch(`${emu.url}${path}`, { headers: { authorization: mutate(auth), accept: 'application/json' } });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }
  const path = `/v3/bill/tradebill?bill_date=${DATE}&bill_type=ALL`;

  it('accepts a correctly signed request', async () => {
    const r = await rawGet(path);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ hash_type: 'SHA1', hash_value: sha1(tradeBill) });
    expect(r.body.download_url).toMatch(/\/v3\/billdownload\/file\?token=/);
  });

  it('rejects a tampered signature with 401 SIGN_ERROR', async () => {
    const r = await rawGet(path, (h) => h.replace(/signature="(.)/, (_m, c: string) => `signature="${c === 'A' ? 'B' : 'A'}`));
    expect(r).toEqual({ status: 401, body: { code: 'SIGN_ERROR', message: expect.stringMatching(/签名错误/) } });
  });

  it('rejects a signature over another URL, a stale timestamp, another serial and a malformed header', async () => {
    // signed for `path`, sent to another date:
    const auth = wechatpayAuthorization({ mchid: emu.mchid, serialNo: emu.merchantSerialNo, privateKey: createPrivateKey(emu.merchantPrivateKeyPem), method: 'GET', canonicalUrl: path, timestamp: Math.floor(Date.now() / 1000) });
    const moved = await fetch(`${emu.url}/v3/bill/tradebill?bill_date=2024-07-08&bill_type=ALL`, { headers: { authorization: auth } });
    expect(moved.status).toBe(401);
    expect((await rawGet(path, (h) => h, Math.floor(Date.now() / 1000) - 301)).body.message).toMatch(/时间戳/);
    expect((await rawGet(path, (h) => h.replace(/serial_no="[^"]+"/, 'serial_no="00"'))).body.message).toMatch(/序列号/);
    expect((await rawGet(path, (h) => h.replace('WECHATPAY2-SHA256-RSA2048', 'Bearer'))).body).toMatchObject({ code: 'SIGN_ERROR' });
  });
});

describe('wechatpay configuration from the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wechatpay-env-'));
  beforeAll(() => {
    writeFileSync(join(dir, 'apiclient_key.pem'), emu.merchantPrivateKeyPem);
    writeFileSync(join(dir, 'platform.pem'), emu.platformPublicKeyPem);
  });
  const env = () => ({
    WECHATPAY_MCHID: emu.mchid,
    WECHATPAY_SERIAL_NO: emu.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY_FILE: join(dir, 'apiclient_key.pem'),
    WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: join(dir, 'platform.pem'),
    WECHATPAY_BASE_URL: emu.url,
  });

  it('reads the files named by the variables and fetches with them', async () => {
    const res = await createWechatpayFetcher(wechatpayOptionsFromEnv(env())).fetch(req());
    expect(sha256(res.files[0]!.bytes)).toBe(sha256(tradeBill));
  });

  it('names the missing variable or file and never prints key material', () => {
    for (const name of ['WECHATPAY_MCHID', 'WECHATPAY_SERIAL_NO', 'WECHATPAY_PRIVATE_KEY_FILE', 'WECHATPAY_PLATFORM_PUBLIC_KEY_FILE'] as const) {
      const e = { ...env() } as Record<string, string>;
      delete e[name];
      expect(() => wechatpayOptionsFromEnv(e)).toThrow(new RegExp(`${name} is not set`));
    }
    let msg = '';
    try {
      wechatpayOptionsFromEnv({ ...env(), WECHATPAY_PRIVATE_KEY_FILE: join(dir, 'platform.pem') });
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toBe('WECHATPAY_PRIVATE_KEY_FILE: not a readable RSA private key (PKCS#1 or PKCS#8 PEM expected)');
  });
});

describe('wechatpay error messages', () => {
  it('were collected from the fault cases above', () => {
    expect(messages.length).toBeGreaterThanOrEqual(20);
  });

  it('name the provider and bill date and contain no key material, signature or token', () => {
    const keyLines = [emu.merchantPrivateKeyPem, emu.merchantPublicKeyPem, emu.platformPublicKeyPem]
      .flatMap((pem) => pem.split('\n'))
      .filter((l) => l.length > 20 && !l.startsWith('-----'));
    for (const m of messages) {
      expect(m).toMatch(/^wechatpay \d{4}-\d{2}-\d{2}: /);
      for (const line of keyLines) expect(m).not.toContain(line);
      expect(m).not.toMatch(/[A-Za-z0-9+/]{41,}={0,2}/); // no base64 signature or key body (a SHA1 hex is 40)
      expect(m).not.toMatch(/token=|signature="/);
    }
  });
});
