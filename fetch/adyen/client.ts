import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { UsageError } from '../../core/errors.js';
import type { FetchContext, FetchedFile, FetchRequest, FetchResult, StatementFetcher } from '../contract.js';
import { FetchAuthError, FetchError, IntegrityError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { retryAfterMs } from '../retry.js';

/**
 * Adyen Settlement details report download:
 * `GET <base>/reports/download/MerchantAccount/<merchantAccount>/<fileName>` with HTTP Basic auth of the
 * report user (`report@Company.<CompanyAccount>`) or the report user's API key in `X-API-Key`.
 *
 * WHICH FILES. The report is generated per settlement BATCH by default
 * (`settlement_detail_report_batch_<N>.csv`, announced by a `REPORT_AVAILABLE` webhook whose
 * `pspReference` is the file name); Adyen offers no listing endpoint. So:
 * - `fileNames` (the CLI's `--file`, or names taken from REPORT_AVAILABLE notifications) are downloaded
 *   as given — the normal way for batch reports;
 * - otherwise the day's file name comes from `fileNameTemplate`, default
 *   `settlement_detail_report_{yyyy}_{MM}_{dd}.csv`: the date-stamped name of a report generated per
 *   date rather than per batch (Adyen documents that the name "includes the batch number, date, and/or
 *   a unique identifier, depending on how you generate the report"; the exact date form is UNCONFIRMED —
 *   set the template to match the account's configuration).
 * 404 → `StatementNotReadyError` (not generated yet; Adyen generates it about two hours after the
 * payable batch closes). 401/403 → `FetchAuthError`; 429/5xx/network/timeout → `TransientFetchError`.
 * A body shorter than its Content-Length (the connection closed early) → `IntegrityError` — the download
 * is read with node:http directly so that the declared length can be compared with what arrived.
 */
export interface AdyenFetcherOptions {
  /** `https://ca-live.adyen.com` (test: `https://ca-test.adyen.com`). */
  baseUrl: string;
  merchantAccount: string;
  reportUser?: string;
  reportPassword?: string;
  apiKey?: string;
  /** Explicit report files to download (batch reports). */
  fileNames?: readonly string[];
  /** Day-based file name, with `{yyyy}`, `{MM}`, `{dd}` placeholders. */
  fileNameTemplate?: string;
  /** Whole-request timeout, ms (default 60 000). */
  timeoutMs?: number;
}

export const ADYEN_DEFAULT_TEMPLATE = 'settlement_detail_report_{yyyy}_{MM}_{dd}.csv';

export function adyenOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<AdyenFetcherOptions> = {}): AdyenFetcherOptions {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new UsageError(`${name} is not set`);
    return v;
  };
  const baseUrl = need('ADYEN_REPORT_BASE_URL');
  const merchantAccount = need('ADYEN_MERCHANT_ACCOUNT');
  const reportUser = env.ADYEN_REPORT_USER?.trim() || undefined;
  const reportPassword = env.ADYEN_REPORT_PASSWORD || undefined;
  const apiKey = env.ADYEN_API_KEY?.trim() || undefined;
  if (!apiKey && !(reportUser && reportPassword)) throw new UsageError('ADYEN_REPORT_USER and ADYEN_REPORT_PASSWORD, or ADYEN_API_KEY, must be set');
  return { baseUrl, merchantAccount, reportUser, reportPassword, apiKey, ...overrides };
}

/** The day's file name from the template. */
export function adyenFileNameForDay(template: string, billDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(billDate);
  if (!m) throw new UsageError(`adyen: bill date must be YYYY-MM-DD, got ${JSON.stringify(billDate)}`);
  return template.replace(/\{yyyy\}/g, m[1]!).replace(/\{MM\}/g, m[2]!).replace(/\{dd\}/g, m[3]!);
}

interface Download {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** Content-Length as declared, when it was. */
  declared?: number;
  /** The connection ended before the body was complete. */
  cut: boolean;
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined): Promise<Download | { error: Error; timedOut: boolean }> {
  return new Promise((resolve) => {
    let done = false;
    let timedOut = false;
    const settle = (v: Download | { error: Error; timedOut: boolean }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'GET', headers: { Accept: 'text/csv, */*', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      const cl = res.headers['content-length'];
      const declared = cl !== undefined && /^\d+$/.test(cl) ? Number(cl) : undefined;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
      });
      const finish = (cut: boolean) => settle({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, received), declared, cut });
      res.on('end', () => finish(declared !== undefined && received < declared));
      res.on('error', () => (timedOut ? settle({ error: new Error('timed out'), timedOut }) : finish(true)));
      res.on('close', () => (timedOut ? settle({ error: new Error('timed out'), timedOut }) : finish(!res.complete)));
    });
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error('timed out'));
    }, timeoutMs);
    const onAbort = () => req.destroy(new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error) => settle({ error, timedOut }));
    req.end();
  });
}

export function createAdyenFetcher(options: AdyenFetcherOptions): StatementFetcher {
  if (!options.apiKey && !(options.reportUser && options.reportPassword)) throw new UsageError('adyen: a report user and password, or an API key, are required');
  const base = options.baseUrl.replace(/\/+$/, '');
  const auth: Record<string, string> = options.apiKey
    ? { 'X-API-Key': options.apiKey }
    : { Authorization: `Basic ${Buffer.from(`${options.reportUser}:${options.reportPassword}`).toString('base64')}` };
  const timeoutMs = options.timeoutMs ?? 60_000;

  return {
    provider: 'adyen',
    async fetch(req: FetchRequest, ctx: FetchContext = {}): Promise<FetchResult> {
      const { billDate } = req;
      const account = options.merchantAccount || req.account;
      const names = options.fileNames?.length ? [...options.fileNames] : [adyenFileNameForDay(options.fileNameTemplate ?? ADYEN_DEFAULT_TEMPLATE, billDate)];
      const files: FetchedFile[] = [];
      for (const name of names) {
        if (!name || name.includes('/') || name === '.' || name === '..') throw new UsageError(`adyen: not a report file name: ${JSON.stringify(name)}`);
        const url = new URL(`${base}/reports/download/MerchantAccount/${encodeURIComponent(account)}/${encodeURIComponent(name)}`);
        const target = `GET ${url.origin}${url.pathname}`;
        const r = await get(url, auth, timeoutMs, ctx.signal);
        if ('error' in r) {
          if (ctx.signal?.aborted) throw new FetchError('adyen', billDate, `${target}: aborted`, { cause: ctx.signal.reason });
          const code = (r.error as NodeJS.ErrnoException).code;
          throw new TransientFetchError('adyen', billDate, `${target}: ${r.timedOut ? `timed out after ${timeoutMs} ms` : `${code ?? ''} ${r.error.message}`.trim()}`, { cause: r.error });
        }
        if (r.status === 429 || r.status >= 500) {
          const ra = r.headers['retry-after'];
          throw new TransientFetchError('adyen', billDate, `${target}: HTTP ${r.status}`, { retryAfterMs: retryAfterMs(Array.isArray(ra) ? ra[0] : ra) });
        }
        if (r.status === 401) throw new FetchAuthError('adyen', billDate, `${target}: HTTP 401 — the ${options.apiKey ? 'API key' : `report user ${options.reportUser}`} was refused`);
        if (r.status === 403) throw new FetchAuthError('adyen', billDate, `${target}: HTTP 403 — the report user may not download reports of merchant account ${account} (role "Merchant Report" needed)`);
        if (r.status === 404) throw new StatementNotReadyError('adyen', billDate, `${name} is not available (HTTP 404): not generated yet — Adyen generates the settlement details report about two hours after the batch closes`);
        if (r.status !== 200) throw new FetchError('adyen', billDate, `${target}: unexpected HTTP ${r.status}`);
        if (r.cut || (r.declared !== undefined && r.body.length !== r.declared)) {
          throw new IntegrityError('adyen', billDate, r.declared !== undefined ? `${name}: received ${r.body.length} bytes but Content-Length says ${r.declared} — truncated download` : `${name}: the connection closed after ${r.body.length} bytes, before the end of the body — truncated download`);
        }
        files.push({ name, bytes: r.body, ...(r.declared !== undefined ? { integrity: { algorithm: 'size', value: String(r.declared), over: 'bytes' as const } } : {}) });
        ctx.log?.('adyen.file', { name, bytes: r.body.length });
      }
      return { files, notes: { merchantAccount: account, files: names.join(',') } };
    },
  };
}
