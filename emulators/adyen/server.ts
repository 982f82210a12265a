import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FaultQueue } from '../common/fault-queue.js';
import { listenLoopback, trackSockets } from '../common/listen.js';

export type AdyenFault =
  | { kind: 'status'; status: number }
  | { kind: 'rate-limit'; retryAfterSec?: number }
  /** Answer only after `delayMs`. */
  | { kind: 'slow'; delayMs: number }
  /** Refuse the credentials on this request (401). */
  | { kind: 'bad-auth' }
  /** Declare the full Content-Length, send `keepBytes` (default half) and close the connection. */
  | { kind: 'truncate'; keepBytes?: number }
  /** 404 for this request, as if the report were not generated yet. */
  | { kind: 'not-generated' };

export interface AdyenEmulatorOptions {
  merchantAccount?: string;
  /** Report user (`report@Company.<CompanyAccount>`) and its password; default random password. */
  reportUser?: string;
  reportPassword?: string;
  /** API key of the report user (X-API-Key); default random. */
  apiKey?: string;
  /** File name → content, downloadable under the merchant account. */
  files?: Record<string, Buffer | string>;
  faults?: AdyenFault[];
}

export interface AdyenEmulator {
  url: string;
  merchantAccount: string;
  reportUser: string;
  reportPassword: string;
  apiKey: string;
  files: Map<string, Buffer>;
  faults: FaultQueue<AdyenFault>;
  requests: string[];
  close(): Promise<void>;
}

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * Adyen's report download endpoint over node:http:
 * `GET /reports/download/MerchantAccount/<merchantAccount>/<fileName>`, authenticated with HTTP Basic
 * (the report user) or `X-API-Key`. 401 for bad credentials, 403 for another merchant account, 404 for
 * a file that does not exist (yet).
 */
export async function startAdyenEmulator(opts: AdyenEmulatorOptions = {}): Promise<AdyenEmulator> {
  const merchantAccount = opts.merchantAccount ?? 'ReconShopECOM';
  const reportUser = opts.reportUser ?? 'report@Company.ReconCompany';
  const reportPassword = opts.reportPassword ?? randomBytes(12).toString('base64url');
  const apiKey = opts.apiKey ?? `AQE${randomBytes(24).toString('base64url')}`;
  const files = new Map<string, Buffer>(Object.entries(opts.files ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));
  const faults = new FaultQueue<AdyenFault>(opts.faults);
  const requests: string[] = [];

  const text = (res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/html;charset=UTF-8', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  };

  const authorized = (req: IncomingMessage): boolean => {
    const key = req.headers['x-api-key'];
    if (typeof key === 'string') return same(key, apiKey);
    const h = req.headers.authorization;
    if (!h || !/^Basic /i.test(h)) return false;
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString();
    const i = decoded.indexOf(':');
    return i > 0 && same(decoded.slice(0, i), reportUser) && same(decoded.slice(i + 1), reportPassword);
  };

  const server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${u.pathname}`);
    req.resume();
    const fault = faults.next();
    if (fault?.kind === 'slow') {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
    }
    if (fault?.kind === 'status') return text(res, fault.status, `<html><body>HTTP Status ${fault.status}</body></html>`);
    if (fault?.kind === 'rate-limit') return text(res, 429, 'Too Many Requests', fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : {});
    if (fault?.kind === 'bad-auth' || !authorized(req)) return text(res, 401, '<html><body>HTTP Status 401 - Unauthorized</body></html>', { 'WWW-Authenticate': 'Basic realm="Adyen PAL Service Authentication"' });
    const m = /^\/reports\/download\/MerchantAccount\/([^/]+)\/([^/]+)$/.exec(u.pathname);
    if (req.method !== 'GET' || !m) return text(res, 404, 'Not Found');
    const account = decodeURIComponent(m[1]!);
    const name = decodeURIComponent(m[2]!);
    if (account !== merchantAccount) return text(res, 403, '<html><body>HTTP Status 403 - Forbidden</body></html>');
    const bytes = files.get(name);
    if (fault?.kind === 'not-generated' || !bytes) return text(res, 404, '<html><body>HTTP Status 404 - Not Found</body></html>');
    res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Length': bytes.length, 'Content-Disposition': `attachment; filename=${name}` });
    if (fault?.kind === 'truncate') {
      res.write(bytes.subarray(0, fault.keepBytes ?? Math.floor(bytes.length / 2)));
      setTimeout(() => res.socket?.end(), 10);
      return;
    }
    res.end(bytes);
  });
  const tracker = trackSockets(server);
  const port = await listenLoopback(server);
  return { url: `http://127.0.0.1:${port}`, merchantAccount, reportUser, reportPassword, apiKey, files, faults, requests, close: () => tracker.closeAll() };
}
