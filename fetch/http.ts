import { FetchAuthError, IntegrityError, TransientFetchError } from './errors.js';
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
 * The body is read completely here. A body that ends before its declared Content-Length is an
 * `IntegrityError` (the bytes are not the file the provider announced), not retried; a connection lost
 * before any length was promised is transient.
 */
export async function httpCall(url: string, init: RequestInit, opts: HttpCallOptions): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 30_000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const where = new URL(url);
  const target = `${init.method ?? 'GET'} ${where.origin}${where.pathname}`;
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal });
  } catch (err) {
    const reason = timeout.aborted ? 'timed out' : (err as Error).message;
    throw new TransientFetchError(opts.provider, opts.billDate, `${target}: ${reason}`, { cause: err });
  }
  const declared = res.headers.get('content-length');
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    if (res.body) {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        chunks.push(Buffer.from(chunk));
        received += chunk.length;
      }
    }
  } catch (err) {
    if (declared !== null && !timeout.aborted && res.status < 300) {
      throw new IntegrityError(opts.provider, opts.billDate, `${target}: the body ended after ${received} of ${declared} bytes — truncated download`);
    }
    const reason = timeout.aborted ? 'timed out' : (err as Error).message;
    throw new TransientFetchError(opts.provider, opts.billDate, `${target}: ${reason} after ${received} bytes`, { cause: err });
  }
  const body = Buffer.concat(chunks, received);
  if (declared !== null && /^\d+$/.test(declared) && res.status < 300 && received !== Number.parseInt(declared, 10)) {
    throw new IntegrityError(opts.provider, opts.billDate, `${target}: the body has ${received} bytes but Content-Length says ${declared} — truncated download`);
  }
  if (res.status === 429 || res.status >= 500) {
    throw new TransientFetchError(opts.provider, opts.billDate, `${target}: HTTP ${res.status}`, { retryAfterMs: retryAfterMs(res.headers.get('retry-after')) });
  }
  if (res.status === 401 || res.status === 403) {
    throw new FetchAuthError(opts.provider, opts.billDate, `${target}: HTTP ${res.status} — the credentials were refused`);
  }
  return { status: res.status, headers: res.headers, body };
}
