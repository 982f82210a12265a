import { createHash, createSign, createVerify, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { FaultQueue } from '../common/fault-queue.js';
import { listenLoopback, trackSockets } from '../common/listen.js';

/**
 * A local stand-in for WeChat Pay APIv3 bill download (`/v3/bill/tradebill`, `/v3/bill/fundflowbill`,
 * `/v3/billdownload/file`), for tests and `recon demo`. Dev-only.
 *
 * Reproduced:
 * - every request must carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",
 *   timestamp="…",serial_no="…",signature="…"`; the emulator parses it, checks mchid and the merchant
 *   certificate serial, refuses a timestamp more than 5 minutes off, and verifies the signature over
 *   `METHOD\nPATH?QUERY\nTIMESTAMP\nNONCE\nBODY\n` with the merchant public key. Any failure → HTTP 401
 *   `{"code":"SIGN_ERROR","message":…}`;
 * - JSON answers are signed with the platform key: `Wechatpay-Timestamp`, `Wechatpay-Nonce`,
 *   `Wechatpay-Signature` (over `ts\nnonce\nbody\n`), `Wechatpay-Serial` (the platform public key id), and
 *   carry `Request-ID`. The file answer is not signed (as WeChat Pay's);
 * - apply answer `{"hash_type":"SHA1","hash_value":"<sha1 of the plain bill>","download_url":"<url>/v3/
 *   billdownload/file?token=…"}`; `tar_type=GZIP` serves the gzip of the bill, the hash stays over the
 *   plain bill;
 * - no bill for the date → 400 `NO_STATEMENT_EXIST` "账单文件不存在"; bad `bill_date`/`bill_type` → 400
 *   `PARAM_ERROR`; an expired or unknown download token → 400 `INVALID_REQUEST` (link lifetime
 *   `linkTtlMs`, WeChat: 5 min in current docs).
 * The trade bill map serves the same file for any `bill_type` (tests give the ALL bill).
 */

export type WechatpayStage = 'api' | 'download';

export type WechatpayFault =
  | { kind: 'http-500'; on?: WechatpayStage }
  | { kind: 'http-429'; retryAfterSeconds?: number; on?: WechatpayStage }
  | { kind: 'slow'; delayMs: number; on?: WechatpayStage }
  /** Download: `cut` = full Content-Length, half the body, then the socket is destroyed;
   *  `short` = a consistent Content-Length over the first half (caught by the hash). */
  | { kind: 'truncate'; mode?: 'cut' | 'short' }
  /** The apply answer's `hash_value` is of other bytes. */
  | { kind: 'wrong-hash' }
  /** 400 STATEMENT_CREATING (the bill is still being generated). */
  | { kind: 'statement-creating' }
  /** 400 NO_STATEMENT_EXIST although a bill exists. */
  | { kind: 'no-statement' }
  /** The apply answer's Wechatpay-Signature is over other text. */
  | { kind: 'bad-signature' }
  /** The apply answer carries no Wechatpay-* headers. */
  | { kind: 'missing-signature' }
  /** The apply answer is signed correctly but 10 minutes ago (replay). */
  | { kind: 'stale-signature' }
  /** 401 SIGN_ERROR whatever the request (the merchant's key was replaced). */
  | { kind: 'sign-error' }
  /** The download_url issued by this apply is already expired. */
  | { kind: 'expired-link' };

export interface WechatpayBill {
  /** The plain (not gzipped) bill as WeChat Pay generates it. */
  bytes: Buffer;
}

export interface WechatpayEmulatorOptions {
  /** Trade bills: bill date (`yyyy-MM-dd`) → bill. */
  bills?: Record<string, WechatpayBill>;
  /** Fund-flow bills (account BASIC): bill date → bill. */
  fundflowBills?: Record<string, WechatpayBill>;
  mchid?: string;
  faults?: WechatpayFault[];
  /** Download link lifetime. Default 300 000 ms. */
  linkTtlMs?: number;
  /** Allowed request timestamp skew. Default 300 s. */
  maxSkewSeconds?: number;
}

export interface WechatpayRequestRecord {
  stage: WechatpayStage | 'other';
  method: string;
  path: string;
  status: number;
  code?: string;
  fault?: WechatpayFault['kind'];
}

export interface WechatpayEmulator {
  /** Base URL (`http://127.0.0.1:<port>`), the client's `baseUrl`. */
  url: string;
  mchid: string;
  /** Merchant side: the API certificate serial and private key the client signs with. */
  merchantSerialNo: string;
  merchantPrivateKeyPem: string;
  merchantPublicKeyPem: string;
  /** Platform side: the public key the client verifies answers with, and its id (`Wechatpay-Serial`). */
  platformPublicKeyPem: string;
  platformPublicKeyId: string;
  bills: Map<string, WechatpayBill>;
  fundflowBills: Map<string, WechatpayBill>;
  faults: FaultQueue<WechatpayFault>;
  requests: WechatpayRequestRecord[];
  close(): Promise<void>;
}

const TRADE_BILL_TYPES = new Set(['ALL', 'SUCCESS', 'REFUND', 'RECHARGE_REFUND', 'ALL_SPECIAL', 'SUC_SPECIAL', 'REF_SPECIAL']);
const ACCOUNT_TYPES = new Set(['BASIC', 'OPERATION', 'FEES']);

function stageOf(f: WechatpayFault): WechatpayStage {
  if (f.kind === 'truncate') return 'download';
  if ('on' in f && f.on) return f.on;
  return 'api';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Parses `WECHATPAY2-SHA256-RSA2048 k="v",k="v"`; undefined when malformed. */
function parseAuthorization(header: string | undefined): Record<string, string> | undefined {
  if (!header) return undefined;
  const m = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(header);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  for (const part of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) out[part[1]!] = part[2]!;
  for (const k of ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature']) if (!out[k]) return undefined;
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startWechatpayEmulator(opts: WechatpayEmulatorOptions = {}): Promise<WechatpayEmulator> {
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const platform = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchantPrivateKeyPem = merchant.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const merchantPublicKeyPem = merchant.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const platformPublicKeyPem = platform.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const merchantSerialNo = randomBytes(20).toString('hex').toUpperCase();
  const platformPublicKeyId = `PUB_KEY_ID_01${String(randomInt(10 ** 11, 10 ** 12))}${String(randomInt(10 ** 11, 10 ** 12))}`;
  const mchid = opts.mchid ?? '1900000109';
  const bills = new Map(Object.entries(opts.bills ?? {}));
  const fundflowBills = new Map(Object.entries(opts.fundflowBills ?? {}));
  const faults = new FaultQueue<WechatpayFault>(opts.faults ?? []);
  const requests: WechatpayRequestRecord[] = [];
  const linkTtlMs = opts.linkTtlMs ?? 300_000;
  const maxSkew = opts.maxSkewSeconds ?? 300;
  const tokens = new Map<string, { served: Buffer; expiresAt: number }>();
  let base = '';

  function json(res: ServerResponse, rec: WechatpayRequestRecord, status: number, payload: unknown, signMode: 'sign' | 'bad' | 'none' | 'stale' = 'sign', extra: Record<string, string> = {}) {
    const body = JSON.stringify(payload);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'request-id': randomBytes(12).toString('hex').toUpperCase(),
      ...extra,
    };
    if (signMode !== 'none') {
      const ts = Math.floor(Date.now() / 1000) - (signMode === 'stale' ? 600 : 0);
      const nonce = randomBytes(16).toString('hex');
      const message = `${ts}\n${nonce}\n${signMode === 'bad' ? `${body} ` : body}\n`;
      headers['wechatpay-timestamp'] = String(ts);
      headers['wechatpay-nonce'] = nonce;
      headers['wechatpay-signature'] = createSign('RSA-SHA256').update(message, 'utf8').sign(platform.privateKey, 'base64');
      headers['wechatpay-serial'] = platformPublicKeyId;
    }
    rec.status = status;
    const code = (payload as { code?: unknown }).code;
    if (typeof code === 'string') rec.code = code;
    res.writeHead(status, headers);
    res.end(body);
  }

  /** The merchant request check; returns the SIGN_ERROR message, or undefined when the request is authentic. */
  function authFailure(req: IncomingMessage, body: string): string | undefined {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return 'Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》';
    if (auth.mchid !== mchid) return '商户号与签名信息不匹配';
    if (auth.serial_no !== merchantSerialNo) return '商户证书序列号有误，请确认证书序列号是否正确';
    if (!/^\d+$/.test(auth.timestamp!) || Math.abs(Math.floor(Date.now() / 1000) - Number(auth.timestamp)) > maxSkew) return '请求时间戳与当前时间相差过大';
    const message = `${req.method}\n${req.url}\n${auth.timestamp}\n${auth.nonce_str}\n${body}\n`;
    let ok = false;
    try {
      ok = createVerify('RSA-SHA256').update(message, 'utf8').verify(merchant.publicKey, auth.signature!, 'base64');
    } catch {
      ok = false;
    }
    return ok ? undefined : '签名错误，请检查后再试';
  }

  async function infraFault(f: WechatpayFault | undefined, res: ServerResponse, rec: WechatpayRequestRecord): Promise<boolean> {
    if (!f) return false;
    if (f.kind === 'http-500') {
      json(res, rec, 500, { code: 'SYSTEM_ERROR', message: '系统错误' }, 'none');
      return true;
    }
    if (f.kind === 'http-429') {
      json(res, rec, 429, { code: 'FREQUENCY_LIMITED', message: '频率超限' }, 'none', { 'retry-after': String(f.retryAfterSeconds ?? 0) });
      return true;
    }
    if (f.kind === 'slow') await sleep(f.delayMs);
    return false;
  }

  async function apply(req: IncomingMessage, res: ServerResponse, url: URL, rec: WechatpayRequestRecord, statement: 'tradebill' | 'fundflowbill') {
    const body = (await readBody(req)).toString('utf8');
    const fault = faults.nextIf((f) => stageOf(f) === 'api');
    if (fault) rec.fault = fault.kind;
    if (await infraFault(fault, res, rec)) return;
    const refused = fault?.kind === 'sign-error' ? '签名错误，请检查后再试' : authFailure(req, body);
    if (refused) return json(res, rec, 401, { code: 'SIGN_ERROR', message: refused }, 'none');

    const billDate = url.searchParams.get('bill_date') ?? '';
    const tarType = url.searchParams.get('tar_type');
    const kindParam = statement === 'tradebill' ? url.searchParams.get('bill_type') ?? 'ALL' : url.searchParams.get('account_type') ?? 'BASIC';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate) || (tarType !== null && tarType !== 'GZIP') || !(statement === 'tradebill' ? TRADE_BILL_TYPES : ACCOUNT_TYPES).has(kindParam)) {
      return json(res, rec, 400, { code: 'PARAM_ERROR', message: '参数错误' });
    }
    const signMode = fault?.kind === 'bad-signature' ? 'bad' : fault?.kind === 'missing-signature' ? 'none' : fault?.kind === 'stale-signature' ? 'stale' : 'sign';
    if (fault?.kind === 'statement-creating') return json(res, rec, 400, { code: 'STATEMENT_CREATING', message: '账单生成中' }, signMode);
    const bill = (statement === 'tradebill' ? bills : fundflowBills).get(billDate);
    if (!bill || fault?.kind === 'no-statement') return json(res, rec, 400, { code: 'NO_STATEMENT_EXIST', message: '账单文件不存在' }, signMode);

    const token = randomBytes(24).toString('base64url');
    const issued = Date.now();
    tokens.set(token, { served: tarType === 'GZIP' ? gzipSync(bill.bytes) : bill.bytes, expiresAt: fault?.kind === 'expired-link' ? issued - 1 : issued + linkTtlMs });
    const hashOf = fault?.kind === 'wrong-hash' ? Buffer.concat([bill.bytes, Buffer.from('x')]) : bill.bytes;
    return json(
      res,
      rec,
      200,
      { hash_type: 'SHA1', hash_value: createHash('sha1').update(hashOf).digest('hex'), download_url: `${base}/v3/billdownload/file?token=${token}` },
      signMode,
    );
  }

  async function downloadFile(req: IncomingMessage, res: ServerResponse, url: URL, rec: WechatpayRequestRecord) {
    const body = (await readBody(req)).toString('utf8');
    const fault = faults.nextIf((f) => stageOf(f) === 'download');
    if (fault) rec.fault = fault.kind;
    if (await infraFault(fault, res, rec)) return;
    const refused = authFailure(req, body);
    if (refused) return json(res, rec, 401, { code: 'SIGN_ERROR', message: refused }, 'none');
    const entry = tokens.get(url.searchParams.get('token') ?? '');
    if (!entry || Date.now() > entry.expiresAt) {
      return json(res, rec, 400, { code: 'INVALID_REQUEST', message: '参数错误，请按申请账单API指引重新获取账单地址后再请求' });
    }
    const bytes = entry.served;
    const headers = { 'content-type': 'application/octet-stream', 'request-id': randomBytes(12).toString('hex').toUpperCase() };
    rec.status = 200;
    if (fault?.kind === 'truncate') {
      const half = bytes.subarray(0, Math.floor(bytes.length / 2));
      if ((fault.mode ?? 'cut') === 'cut') {
        res.writeHead(200, { ...headers, 'content-length': bytes.length });
        res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': half.length });
      res.end(half);
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': bytes.length });
    res.end(bytes);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', base);
    const statement = url.pathname === '/v3/bill/tradebill' ? 'tradebill' : url.pathname === '/v3/bill/fundflowbill' ? 'fundflowbill' : undefined;
    const stage: WechatpayRequestRecord['stage'] = statement ? 'api' : url.pathname === '/v3/billdownload/file' ? 'download' : 'other';
    const rec: WechatpayRequestRecord = { stage, method: req.method ?? 'GET', path: url.pathname, status: 0 };
    requests.push(rec);
    const run =
      statement && req.method === 'GET'
        ? apply(req, res, url, rec, statement)
        : stage === 'download' && req.method === 'GET'
          ? downloadFile(req, res, url, rec)
          : Promise.resolve().then(() => json(res, rec, 404, { code: 'RESOURCE_NOT_EXISTS', message: '查询的资源不存在' }, 'none'));
    run.catch(() => {
      rec.status = 500;
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  const sockets = trackSockets(server);
  const port = await listenLoopback(server);
  base = `http://127.0.0.1:${port}`;

  return {
    url: base,
    mchid,
    merchantSerialNo,
    merchantPrivateKeyPem,
    merchantPublicKeyPem,
    platformPublicKeyPem,
    platformPublicKeyId,
    bills,
    fundflowBills,
    faults,
    requests,
    close: () => sockets.closeAll(),
  };
}
