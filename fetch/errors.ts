import { InputRejectedError, ReconError } from '../core/errors.js';

/**
 * Download errors, by what the caller should do about them:
 * - `TransientFetchError`: network error, timeout, 5xx, 429 — retry with backoff (`retryAfterMs` when the
 *   provider said how long to wait).
 * - `StatementNotReadyError`: the provider is still generating the statement — try again later.
 * - `FetchAuthError`, `SignatureError`: bad credentials or a response whose signature does not verify —
 *   never retried; a person must fix the configuration (or someone is in the middle).
 * - `IntegrityError`: the bytes arrived but are not what the provider said (hash, length, truncation) —
 *   an input rejection (exit status 2); nothing is recorded as fetched.
 * Messages name the provider and bill date and never contain secrets.
 */
export class FetchError extends ReconError {
  constructor(
    readonly provider: string,
    readonly billDate: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${provider} ${billDate}: ${message}`, options);
  }
}

export class TransientFetchError extends FetchError {
  retryAfterMs: number | undefined;
  constructor(provider: string, billDate: string, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(provider, billDate, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export class StatementNotReadyError extends FetchError {
  retryAfterMs: number | undefined;
  constructor(provider: string, billDate: string, message: string, options?: { retryAfterMs?: number }) {
    super(provider, billDate, message);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export class FetchAuthError extends FetchError {}
export class SignatureError extends FetchError {}

/** The served bytes are not the statement the provider described. Rejected input: exit status 2. */
export class IntegrityError extends InputRejectedError {
  constructor(
    readonly provider: string,
    readonly billDate: string,
    detail: string,
  ) {
    super(`${provider} ${billDate}: ${detail}`);
  }
}
