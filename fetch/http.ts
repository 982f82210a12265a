import { FetchAuthError, TransientFetchError } from './errors.js';
import { retryAfterMs } from './retry.js';

export interface HttpCallOptions {
  provider: string;
  billDate: string;
  /** Whole-request timeout (connect, headers and body). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * One HTTP exchange with a provider, with the status mapping every client shares: network errors,
 * timeouts, 5xx and 429 become `TransientFetchError` (with Retry-After), 401/403 `FetchAuthError`.
 * Other statuses are returned for the client to interpret (a 404 can mean "no bill that day").
 * The body is read completely here, so a connection cut mid-body is a transient error too.
 */
export async function httpCall(url: string, init: RequestInit, opts: HttpCallOptions): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const where = new URL(url);
  const target = `${init.method ?? 'GET'} ${where.origin}${where.pathname}`;
  let res: Response;
  let body: Buffer;
  try {
    res = await fetch(url, { ...init, signal });
    body = Buffer.from(await res.arrayBuffer());
  } catch (err) {
    const reason = timeout.aborted ? 'timed out' : (err as Error).message;
    throw new TransientFetchError(opts.provider, opts.billDate, `${target}: ${reason}`, { cause: err });
  }
  if (res.status === 429 || res.status >= 500) {
    throw new TransientFetchError(opts.provider, opts.billDate, `${target}: HTTP ${res.status}`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
  }
  if (res.status === 401 || res.status === 403) {
    throw new FetchAuthError(opts.provider, opts.billDate, `${target}: HTTP ${res.status} — the credentials were refused`);
  }
  return { status: res.status, headers: res.headers, body };
}
