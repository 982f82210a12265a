import { createSign, createVerify, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FaultQueue } from '../common/fault-queue.js';
import { listenLoopback, trackSockets } from '../common/listen.js';

/**
 * A local stand-in for the Alipay OpenAPI gateway (`/gateway.do`) and its bill file host
 * (`/downloadBillFile.resource`), for tests and `recon demo`. Dev-only.
 *
 * Gateway behaviour reproduced (OpenAPI v2):
 * - params from the query string and the form body; missing `app_id`/`method`/`sign`/`sign_type` →
 *   code 40001 `isv.missing-*`; unknown `app_id` → 40002 `isv.invalid-app-id` with Alipay's placeholder
 *   sign (the gateway cannot sign for an app it does not know); other method → `isv.invalid-method`;
 *   `sign_type` other than RSA2 → `isv.invalid-signature-type`; bad `timestamp` → `isv.invalid-timestamp`;
 *   `sign` that does not verify with the app public key over the sorted non-empty params except `sign` →
 *   40002 `isv.invalid-signature` (whose sub_msg quotes the gateway's string to sign, as Alipay does);
 * - no bill for the date → 40004 `isp.bill_not_exist` "账单不存在" (Alipay's one answer for "no bill" and
 *   "not generated yet"); bad `bill_type`/`bill_date` → 40004 `isv.invalid_arguments`;
 * - success → `{"alipay_data_dataservice_bill_downloadurl_query_response":{"code":"10000","msg":"Success",
 *   "bill_download_url":"…"},"sign":"…"}` with `/` written `\/` as Alipay does, signed over the raw text of
 *   the response object with the emulator's Alipay private key.
 * File host: the link carries `bizType`, `userId` (PID+0156), `fileType=csv.zip`, `bizDates`,
 * `downloadFileName`, `timestamp`, `token`; it expires `linkTtlMs` after issue (Alipay: 30 s). An expired
 * or unknown link is answered HTTP 200 `text/html` with the page text "下载超时，请重新下载" (what Alipay's
 * host shows), never with a zip.
 */

export type AlipayStage = 'api' | 'download';

export type AlipayFault =
  /** HTTP 500 with an HTML error page. */
  | { kind: 'http-500'; on?: AlipayStage }
  /** HTTP 429 with Retry-After. */
  | { kind: 'http-429'; retryAfterSeconds?: number; on?: AlipayStage }
  /** The answer is held back `delayMs` (beyond the client's timeout), then sent. */
  | { kind: 'slow'; delayMs: number; on?: AlipayStage }
  /** Download: `cut` = full Content-Length, half the body, then the socket is destroyed;
   *  `short` = a consistent Content-Length over the first half of the zip (an unreadable zip). */
  | { kind: 'truncate'; mode?: 'cut' | 'short' }
  /** The URL issued by this query is already expired when the client uses it. */
  | { kind: 'expired-link' }
  /** `isp.bill_not_exist` although a bill exists (not generated yet, from the client's view). */
  | { kind: 'bill-not-exist' }
  /** code 20000 `isp.unknow-error` (service currently unavailable), signed. */
  | { kind: 'system-error' }
  /** The answer's `sign` is replaced by a signature over other text. */
  | { kind: 'bad-signature' }
  /** The answer carries no `sign`. */
  | { kind: 'missing-signature' }
  /** Answered as for an app id the gateway does not know (placeholder sign). */
  | { kind: 'invalid-app-id' };

export interface AlipayBill {
  bytes: Buffer;
  /** `downloadFileName`; default `<pid>0156_<yyyyMMdd>.csv.zip`. */
  name?: string;
}

export interface AlipayEmulatorOptions {
  /** bill_type `trade`: bill date (`yyyy-MM-dd`) → zip. */
  bills?: Record<string, AlipayBill>;
  /** bill_type `signcustomer`: bill date → zip. */
  accountBills?: Record<string, AlipayBill>;
  appId?: string;
  /** The merchant PID (16 digits, 2088…). */
  pid?: string;
  faults?: AlipayFault[];
  /** Link lifetime. Default 30 000 ms. */
  linkTtlMs?: number;
  /** Encoding of the exposed app private key. Default `pkcs8`. */
  privateKeyFormat?: 'pkcs1' | 'pkcs8';
}

export interface AlipayRequestRecord {
  stage: AlipayStage | 'other';
  method: string;
  path: string;
  status: number;
  subCode?: string;
  fault?: AlipayFault['kind'];
}

export interface AlipayEmulator {
  /** Base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** The gateway URL to give the client (`<url>/gateway.do`). */
  gateway: string;
  appId: string;
  pid: string;
  /** Merchant side: the app private key the client signs with. */
  appPrivateKeyPem: string;
  /** The app public key the gateway verifies requests with (as uploaded to Alipay). */
  appPublicKeyPem: string;
  /** Alipay's public key, the client verifies answers with. */
  alipayPublicKeyPem: string;
  bills: Map<string, AlipayBill>;
  accountBills: Map<string, AlipayBill>;
  faults: FaultQueue<AlipayFault>;
  requests: AlipayRequestRecord[];
  close(): Promise<void>;
}

const METHOD = 'alipay.data.dataservice.bill.downloadurl.query';
const RESPONSE_KEY = `${METHOD.replaceAll('.', '_')}_response`;
/** What Alipay sends as `sign` when it cannot sign (unknown app). */
const PLACEHOLDER_SIGN = 'ERITJKEIJKJHKKKKKKKHJEREEEEEEEEEEE';
const EXPIRED_PAGE = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>支付宝</title></head><body><p>下载超时，请重新下载</p></body></html>';

function stageOf(f: AlipayFault): AlipayStage {
  if (f.kind === 'truncate') return 'download';
  if ('on' in f && f.on) return f.on;
  return 'api';
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startAlipayEmulator(opts: AlipayEmulatorOptions = {}): Promise<AlipayEmulator> {
  const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const alipay = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appPrivateKeyPem = app.privateKey.export({ type: opts.privateKeyFormat ?? 'pkcs8', format: 'pem' }).toString();
  const appPublicKeyPem = app.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const alipayPublicKeyPem = alipay.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const appId = opts.appId ?? `2021${randomInt(10 ** 11, 10 ** 12)}`;
  const pid = opts.pid ?? '2088021109625633';
  const bills = new Map(Object.entries(opts.bills ?? {}));
  const accountBills = new Map(Object.entries(opts.accountBills ?? {}));
  const faults = new FaultQueue<AlipayFault>(opts.faults ?? []);
  const requests: AlipayRequestRecord[] = [];
  const linkTtlMs = opts.linkTtlMs ?? 30_000;
  const tokens = new Map<string, { bill: AlipayBill; name: string; expiresAt: number }>();
  let base = '';

  /** The gateway's string to sign: non-empty params except sign, sorted, k=v joined by &. */
  const signContent = (params: Map<string, string>) =>
    [...params.entries()]
      .filter(([k, v]) => k !== 'sign' && v !== '')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join('&');

  function answer(res: ServerResponse, rec: AlipayRequestRecord, body: Record<string, string>, signMode: 'sign' | 'placeholder' | 'bad' | 'none' = 'sign') {
    // Alipay writes `/` as `\/` inside the response object; the signature is over that exact text.
    const inner = JSON.stringify(body).replaceAll('/', '\\/');
    let sign: string | undefined;
    if (signMode === 'sign') sign = createSign('RSA-SHA256').update(inner, 'utf8').sign(alipay.privateKey, 'base64');
    else if (signMode === 'bad') sign = createSign('RSA-SHA256').update(`${inner} `, 'utf8').sign(alipay.privateKey, 'base64');
    else if (signMode === 'placeholder') sign = PLACEHOLDER_SIGN;
    const text = `{"${RESPONSE_KEY}":${inner}${sign !== undefined ? `,"sign":"${sign}"` : ''}}`;
    rec.status = 200;
    if (body.sub_code) rec.subCode = body.sub_code;
    res.writeHead(200, { 'content-type': 'text/html;charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  const failure = (code: string, msg: string, subCode: string, subMsg: string) => ({ code, msg, sub_code: subCode, sub_msg: subMsg });

  /** Infrastructure faults common to both stages; true when the request was consumed. */
  async function infraFault(f: AlipayFault | undefined, res: ServerResponse, rec: AlipayRequestRecord): Promise<boolean> {
    if (!f) return false;
    if (f.kind === 'http-500') {
      rec.status = 500;
      res.writeHead(500, { 'content-type': 'text/html;charset=utf-8' });
      res.end('<html><body>500 Internal Server Error</body></html>');
      return true;
    }
    if (f.kind === 'http-429') {
      rec.status = 429;
      res.writeHead(429, { 'content-type': 'text/html;charset=utf-8', 'retry-after': String(f.retryAfterSeconds ?? 0) });
      res.end('<html><body>429 Too Many Requests</body></html>');
      return true;
    }
    if (f.kind === 'slow') await sleep(f.delayMs);
    return false;
  }

  async function gateway(req: IncomingMessage, res: ServerResponse, url: URL, rec: AlipayRequestRecord) {
    const params = new Map<string, string>();
    for (const [k, v] of url.searchParams) params.set(k, v);
    if (req.method === 'POST') {
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      for (const [k, v] of form) params.set(k, v);
    }
    const fault = faults.nextIf((f) => stageOf(f) === 'api');
    if (fault) rec.fault = fault.kind;
    if (await infraFault(fault, res, rec)) return;

    for (const [name, sub] of [['app_id', 'isv.missing-app-id'], ['method', 'isv.missing-method'], ['sign', 'isv.missing-signature'], ['sign_type', 'isv.missing-signature-type']] as const) {
      if (!params.get(name)) return answer(res, rec, failure('40001', 'Missing Required Arguments', sub, `缺少${name}参数`), 'none');
    }
    if (params.get('app_id') !== appId || fault?.kind === 'invalid-app-id') {
      return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-app-id', '无效的AppID参数'), 'placeholder');
    }
    if (params.get('method') !== METHOD) return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-method', '不存在的方法名'));
    if (params.get('sign_type') !== 'RSA2') return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-signature-type', '无效的签名类型'));
    if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(params.get('timestamp') ?? '')) {
      return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-timestamp', '非法的时间戳参数'));
    }
    const content = signContent(params);
    let ok = false;
    try {
      ok = createVerify('RSA-SHA256').update(content, 'utf8').verify(app.publicKey, params.get('sign')!, 'base64');
    } catch {
      ok = false;
    }
    if (!ok) {
      return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-signature', `验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：${content}`));
    }
    let biz: { bill_type?: unknown; bill_date?: unknown };
    try {
      biz = JSON.parse(params.get('biz_content') ?? '') as typeof biz;
    } catch {
      return answer(res, rec, failure('40002', 'Invalid Arguments', 'isv.invalid-parameter', '参数无效'));
    }
    const billType = biz.bill_type;
    const billDate = typeof biz.bill_date === 'string' ? biz.bill_date : '';
    if ((billType !== 'trade' && billType !== 'signcustomer') || !/^\d{4}-\d{2}(-\d{2})?$/.test(billDate)) {
      return answer(res, rec, failure('40004', 'Business Failed', 'isv.invalid_arguments', '入参不合法'));
    }
    const signMode = fault?.kind === 'bad-signature' ? 'bad' : fault?.kind === 'missing-signature' ? 'none' : 'sign';
    if (fault?.kind === 'system-error') return answer(res, rec, { code: '20000', msg: 'Service Currently Unavailable', sub_code: 'isp.unknow-error', sub_msg: '系统繁忙' }, signMode);
    const bill = (billType === 'trade' ? bills : accountBills).get(billDate);
    if (!bill || fault?.kind === 'bill-not-exist') return answer(res, rec, failure('40004', 'Business Failed', 'isp.bill_not_exist', '账单不存在'), signMode);

    const compact = billDate.replaceAll('-', '');
    const name = bill.name ?? `${pid}0156_${compact}.csv.zip`;
    const token = randomBytes(16).toString('hex');
    const issued = Date.now();
    tokens.set(token, { bill, name, expiresAt: fault?.kind === 'expired-link' ? issued - 1 : issued + linkTtlMs });
    const link = new URL(`${base}/downloadBillFile.resource`);
    link.searchParams.set('bizType', billType === 'trade' ? 'trade' : 'fnd');
    link.searchParams.set('userId', `${pid}0156`);
    link.searchParams.set('fileType', 'csv.zip');
    link.searchParams.set('bizDates', compact);
    link.searchParams.set('downloadFileName', name);
    link.searchParams.set('fileId', `/${billType}/${pid}0156/${compact}`);
    link.searchParams.set('timestamp', String(issued));
    link.searchParams.set('token', token);
    return answer(res, rec, { code: '10000', msg: 'Success', bill_download_url: link.toString() }, signMode);
  }

  async function downloadFile(res: ServerResponse, url: URL, rec: AlipayRequestRecord) {
    const fault = faults.nextIf((f) => stageOf(f) === 'download');
    if (fault) rec.fault = fault.kind;
    if (await infraFault(fault, res, rec)) return;
    const entry = tokens.get(url.searchParams.get('token') ?? '');
    if (!entry || Date.now() > entry.expiresAt) {
      rec.status = 200;
      res.writeHead(200, { 'content-type': 'text/html;charset=utf-8', 'content-length': Buffer.byteLength(EXPIRED_PAGE) });
      res.end(EXPIRED_PAGE);
      return;
    }
    const bytes = entry.bill.bytes;
    const headers = {
      'content-type': 'application/oct-stream',
      'content-disposition': `attachment; filename="${encodeURIComponent(entry.name)}"`,
    };
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
    const stage: AlipayRequestRecord['stage'] = url.pathname === '/gateway.do' ? 'api' : url.pathname === '/downloadBillFile.resource' ? 'download' : 'other';
    const rec: AlipayRequestRecord = { stage, method: req.method ?? 'GET', path: url.pathname, status: 0 };
    requests.push(rec);
    const run = stage === 'api' ? gateway(req, res, url, rec) : stage === 'download' ? downloadFile(res, url, rec) : Promise.resolve().then(() => {
      rec.status = 404;
      res.writeHead(404).end();
    });
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
    gateway: `${base}/gateway.do`,
    appId,
    pid,
    appPrivateKeyPem,
    appPublicKeyPem,
    alipayPublicKeyPem,
    bills,
    accountBills,
    faults,
    requests,
    close: () => sockets.closeAll(),
  };
}
