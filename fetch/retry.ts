import { FetchError, StatementNotReadyError, TransientFetchError } from './errors.js';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** First backoff; doubles each attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry "not ready yet" answers too (a report run still pending). */
  retryNotReady: boolean;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, retryNotReady: true };

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

/** Full-jitter exponential backoff (AWS architecture blog): uniform in [0, min(max, base·2^n)]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.round(random() * ceiling);
}

/**
 * Runs `op` and retries transient failures (and, by policy, "not ready") with exponential backoff and
 * jitter, honouring a provider's Retry-After. Anything else (auth, signature, integrity) is thrown at once.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, opts: { signal?: AbortSignal; onRetry?: (err: FetchError, delayMs: number, attempt: number) => void } = {}): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      const retryable = err instanceof TransientFetchError || (policy.retryNotReady && err instanceof StatementNotReadyError);
      if (!retryable || attempt + 1 >= policy.attempts) throw err;
      const hinted = (err as TransientFetchError | StatementNotReadyError).retryAfterMs;
      const delay = hinted !== undefined ? Math.min(hinted, policy.maxDelayMs) : backoffDelay(policy, attempt);
      opts.onRetry?.(err as FetchError, delay, attempt);
      await sleep(delay, opts.signal);
    }
  }
}

/** Parses an HTTP Retry-After header (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = /^\d+$/.test(header.trim()) ? Number.parseInt(header.trim(), 10) : undefined;
  if (seconds !== undefined) return seconds * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The retry policy, with `RECON_FETCH_ATTEMPTS` and `RECON_FETCH_RETRY_BASE_MS` overriding the defaults. */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const int = (v: string | undefined, fallback: number) => (v !== undefined && /^\d+$/.test(v) ? Number.parseInt(v, 10) : fallback);
  return {
    ...DEFAULT_RETRY,
    attempts: Math.max(1, int(env.RECON_FETCH_ATTEMPTS, DEFAULT_RETRY.attempts)),
    baseDelayMs: int(env.RECON_FETCH_RETRY_BASE_MS, DEFAULT_RETRY.baseDelayMs),
  };
}
