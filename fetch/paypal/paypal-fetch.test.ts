import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPaypalEmulator, type PaypalEmulator } from '../../emulators/paypal/server.js';
import { FetchAuthError, IntegrityError, SignatureError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import { createPaypalFetcher, parseHostKeySha256, paypalOptionsFromEnv, stlFilesForDay, type PaypalFetcherOptions } from './client.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const FAST: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5, retryNotReady: true };

/** A small valid STL (spec 9 layout, BOM, CRLF); a PayPal fixture is used instead when one exists. */
function stl(day: string, seq: string, rows: string[]): Buffer {
  const d = `${day.slice(0, 4)}/${day.slice(4, 6)}/${day.slice(6, 8)}`;
  const lines = [
    `"RH",${d} 02:21:10 -0800,"A","EZ782AXEUJUW8",009,`,
    `"FH",${seq}`,
    `"SH",${d} 00:00:00 -0800,${d} 23:59:59 -0800,"EZ782AXEUJUW8",""`,
    `"CH","Transaction ID","Invoice ID","PayPal Reference ID","PayPal Reference ID Type","Transaction Event Code","Transaction Initiation Date","Transaction Completion Date","Transaction Debit or Credit","Gross Transaction Amount","Gross Transaction Currency","Fee Debit or Credit","Fee Amount","Fee Currency","Custom Field","Consumer ID","Payment Tracking ID","Store ID","Bank Reference ID","Credit Transactional Fee","Credit Promotional Fee","Credit Term"`,
    ...rows,
    `"SF","USD",10000,0,0,320,"CR",0,"CR",9680,${rows.length}`,
    `"SC",${rows.length}`,
    `"RF","USD",10000,0,0,320,"CR",0,"CR",9680,${rows.length}`,
    `"RC",${rows.length}`,
    `"FF",${rows.length + 9}`,
  ];
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(lines.join('\r\n') + '\r\n')]);
}

const fixtureDir = new URL('../../fixtures/paypal/', import.meta.url);
const fixtureStl = existsSync(fixtureDir) ? readdirSync(fixtureDir).find((n) => /^STL-\d{8}\.\d+\.\d+\.(CSV|TAB)$/i.test(n)) : undefined;

const DAY = '2025-12-23';
const part1 = fixtureStl ? readFileSync(new URL(fixtureStl, fixtureDir)) : stl('20251223', '01', [`"SB","5T123456AB123456C","INV-1001","","","T0006",2025/12/23 10:11:12 -0800,2025/12/23 10:11:12 -0800,"CR",10000,"USD","DR",320,"USD","ORD-1001","","","","","","",""`]);
const part2 = stl('20251223', '02', [`"SB","7K987654ZX987654Y","INV-1002","","","T0006",2025/12/23 11:00:00 -0800,2025/12/23 11:00:00 -0800,"CR",5000,"USD","DR",175,"USD","ORD-1002","","","","","","",""`]);
const otherDay = stl('20251222', '01', []);

let emu: PaypalEmulator;
let base: PaypalFetcherOptions;

beforeAll(async () => {
  emu = await startPaypalEmulator({
    files: {
      'STL-20251223.02.009.CSV': part2,
      'STL-20251223.01.009.CSV': part1,
      'STL-20251222.01.009.CSV': otherDay,
      'TRR-20251223.01.009.CSV': Buffer.from('not a settlement file'),
    },
  });
  base = { host: emu.host, port: emu.port, username: emu.username, password: emu.password, hostKeySha256: emu.hostKeyFingerprint, connectTimeoutMs: 2_000, timeoutMs: 5_000 };
});
afterAll(() => emu?.close());

const req = { provider: 'paypal' as const, account: 'EZ782AXEUJUW8', billDate: DAY };

function noSecrets(err: unknown) {
  const text = `${(err as Error).message} ${String((err as Error).stack)}`;
  expect(text).not.toContain(emu.password);
  expect(text).not.toContain('PRIVATE KEY');
  expect(text).not.toContain(emu.clientPrivateKey.split('\n')[1]!);
}

async function failWith(opts: PaypalFetcherOptions) {
  const err = await createPaypalFetcher(opts).fetch(req).then(() => undefined, (e: unknown) => e);
  expect(err).toBeDefined();
  noSecrets(err);
  return err as Error;
}

describe('paypal SFTP fetch against the emulator', () => {
  it('downloads every STL file of the day, in sequence order, byte for byte (password auth)', async () => {
    const res = await createPaypalFetcher(base).fetch(req);
    expect(res.files.map((f) => f.name)).toEqual(['STL-20251223.01.009.CSV', 'STL-20251223.02.009.CSV']);
    expect(sha(res.files[0]!.bytes)).toBe(sha(part1));
    expect(sha(res.files[1]!.bytes)).toBe(sha(part2));
    expect(res.files[1]!.integrity).toEqual({ algorithm: 'size', value: String(part2.length), over: 'bytes' });
    expect(res.notes?.hostKey).toBe(emu.hostKeyFingerprint);
  });

  it('authenticates with a private key and accepts the pin as hex or padded base64', async () => {
    const { password: _omit, ...noPassword } = base;
    const hex = await createPaypalFetcher({ ...noPassword, privateKey: emu.clientPrivateKey, hostKeySha256: emu.hostKeySha256Hex }).fetch(req);
    expect(sha(hex.files[0]!.bytes)).toBe(sha(part1));
    const b64 = Buffer.from(emu.hostKeySha256Hex, 'hex').toString('base64');
    expect(b64.endsWith('=')).toBe(true);
    const res = await createPaypalFetcher({ ...noPassword, privateKey: emu.clientPrivateKey, hostKeySha256: b64 }).fetch({ ...req, billDate: '2025-12-22' });
    expect(res.files.map((f) => f.name)).toEqual(['STL-20251222.01.009.CSV']);
    expect(res.files[0]!.bytes.equals(otherDay)).toBe(true);
  });

  it('a different host key is a SignatureError and is not retried', async () => {
    emu.faults.push({ kind: 'wrong-host-key' });
    const before = emu.connections;
    let attempts = 0;
    const err = await withRetry(() => (attempts++, createPaypalFetcher(base).fetch(req)), FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureError);
    expect(attempts).toBe(1);
    expect(emu.connections - before).toBe(1);
    expect((err as Error).message).toContain(`pinned ${emu.hostKeyFingerprint}`);
    noSecrets(err);
    // and a pin that is simply wrong, against the real key
    const wrong = await failWith({ ...base, hostKeySha256: 'SHA256:' + Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '') });
    expect(wrong).toBeInstanceOf(SignatureError);
  });

  it('wrong password, wrong key, refused credentials → FetchAuthError without the secret', async () => {
    const wrongPw = await failWith({ ...base, password: 'hunter2-wrong-password' });
    expect(wrongPw).toBeInstanceOf(FetchAuthError);
    expect(wrongPw.message).not.toContain('hunter2-wrong-password');
    const { password: _omit, ...noPassword } = base;
    const other = await startPaypalEmulator();
    const otherKey = other.clientPrivateKey;
    await other.close();
    const wrongKey = await failWith({ ...noPassword, privateKey: otherKey });
    expect(wrongKey).toBeInstanceOf(FetchAuthError);
    expect(wrongKey.message).not.toContain(otherKey.split('\n')[1]!);
    emu.faults.push({ kind: 'reject-auth' });
    expect(await failWith(base)).toBeInstanceOf(FetchAuthError);
    const garbageKey = await failWith({ ...noPassword, privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END OPENSSH PRIVATE KEY-----' });
    expect(garbageKey).toBeInstanceOf(FetchAuthError);
    expect(garbageKey.message).not.toContain('c2VjcmV0LWtleS1tYXRlcmlhbA');
  });

  it('no file for the day yet → StatementNotReadyError; retried until it is delivered', async () => {
    emu.faults.push({ kind: 'not-delivered' });
    const err = await failWith(base);
    expect(err).toBeInstanceOf(StatementNotReadyError);
    expect(err.message).toContain('STL-20251223');
    // delivered now (the fault was consumed by that one connection)
    const res = await createPaypalFetcher(base).fetch(req);
    expect(res.files).toHaveLength(2);
  });

  it('a day PayPal never delivered stays not-ready', async () => {
    const err = await createPaypalFetcher(base).fetch({ ...req, billDate: '2025-12-24' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementNotReadyError);
  });

  it('not delivered, dropped connection, stalled handshake: withRetry gets the files', async () => {
    emu.faults.push({ kind: 'not-delivered', names: ['STL-20251223.01.009.CSV', 'STL-20251223.02.009.CSV'] }, { kind: 'disconnect' }, { kind: 'slow', delayMs: 1_500 });
    const errors: string[] = [];
    const res = await withRetry(() => createPaypalFetcher({ ...base, connectTimeoutMs: 300 }).fetch(req), FAST, { onRetry: (e) => errors.push(e.constructor.name) });
    expect(errors).toEqual(['StatementNotReadyError', 'TransientFetchError', 'TransientFetchError']);
    expect(res.files.map((f) => sha(f.bytes))).toEqual([sha(part1), sha(part2)]);
  });

  it('each transient fault alone is a TransientFetchError', async () => {
    emu.faults.push({ kind: 'disconnect' });
    expect(await failWith(base)).toBeInstanceOf(TransientFetchError);
    emu.faults.push({ kind: 'slow', delayMs: 1_500 });
    const slow = await failWith({ ...base, connectTimeoutMs: 300 });
    expect(slow).toBeInstanceOf(TransientFetchError);
    expect(slow.message).toMatch(/timed out/);
    const refused = await failWith({ ...base, port: 1 });
    expect(refused).toBeInstanceOf(TransientFetchError);
  });

  it('truncated transfer or a size that changes between listing and download → IntegrityError', async () => {
    emu.faults.push({ kind: 'truncate', keepBytes: 40 });
    const cut = await failWith(base);
    expect(cut).toBeInstanceOf(IntegrityError);
    expect(cut.message).toContain(`read 40 bytes but the listing says ${part1.length}`);
    emu.faults.push({ kind: 'size-change', delta: 5 });
    const grew = await failWith(base);
    expect(grew).toBeInstanceOf(IntegrityError);
    expect(grew.message).toContain(`(${part1.length} bytes) and download (${part1.length + 5} bytes)`);
    // IntegrityError is not retried
    emu.faults.push({ kind: 'truncate' });
    let attempts = 0;
    await expect(withRetry(() => (attempts++, createPaypalFetcher(base).fetch(req)), FAST)).rejects.toBeInstanceOf(IntegrityError);
    expect(attempts).toBe(1);
  });
});

describe('paypal configuration', () => {
  it('reads the environment', () => {
    const opts = paypalOptionsFromEnv({ PAYPAL_SFTP_HOST: 'reports.paypal.com', PAYPAL_SFTP_USER: 'u', PAYPAL_SFTP_PASSWORD: 'p', PAYPAL_SFTP_HOST_KEY_SHA256: 'SHA256:' + 'A'.repeat(43) });
    expect(opts).toMatchObject({ host: 'reports.paypal.com', port: 22, username: 'u', password: 'p', dir: '/ppreports/outgoing' });
    expect(() => paypalOptionsFromEnv({ PAYPAL_SFTP_HOST: 'h', PAYPAL_SFTP_USER: 'u', PAYPAL_SFTP_HOST_KEY_SHA256: 'ab'.repeat(32) })).toThrow(/PAYPAL_SFTP_PASSWORD or PAYPAL_SFTP_KEY_FILE/);
    expect(() => paypalOptionsFromEnv({ PAYPAL_SFTP_HOST: 'h', PAYPAL_SFTP_USER: 'u', PAYPAL_SFTP_PASSWORD: 'p' })).toThrow(/PAYPAL_SFTP_HOST_KEY_SHA256/);
    expect(() => paypalOptionsFromEnv({ PAYPAL_SFTP_HOST: 'h', PAYPAL_SFTP_USER: 'u', PAYPAL_SFTP_PASSWORD: 'p', PAYPAL_SFTP_HOST_KEY_SHA256: 'md5:abc' })).toThrow(/SHA-256 fingerprint/);
  });

  it('parses the pin forms and picks the day files', () => {
    const d = Buffer.alloc(32, 0xab);
    const b64 = d.toString('base64');
    for (const pin of [`SHA256:${b64.replace(/=$/, '')}`, b64, d.toString('hex'), d.toString('hex').toUpperCase().match(/../g)!.join(':')]) {
      expect(parseHostKeySha256(pin).equals(d)).toBe(true);
    }
    expect(stlFilesForDay(['STL-20251223.10.009.CSV', 'STL-20251223.02.009.CSV', 'STL-20251224.01.009.CSV', 'TRR-20251223.01.009.CSV', 'STL-20251223.01.009.TAB'], '2025-12-23')).toEqual([
      'STL-20251223.01.009.TAB',
      'STL-20251223.02.009.CSV',
      'STL-20251223.10.009.CSV',
    ]);
  });
});
