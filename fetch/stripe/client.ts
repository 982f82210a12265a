import { dayBounds, isIsoDate } from '../../core/time.js';
import Stripe from 'stripe';
import { UsageError } from '../../core/errors.js';
import type { FetchContext, FetchRequest, FetchResult, StatementFetcher } from '../contract.js';
import { FetchAuthError, FetchError, IntegrityError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { httpCall } from '../http.js';
import { retryAfterMs } from '../retry.js';

/**
 * Stripe itemized report download through the Reports API (v1), with the official `stripe` SDK:
 *
 * 1. `GET /v1/reporting/report_types/<type>`: when the bill day ends after `data_available_end` the data
 *    is not refreshed yet (Stripe refreshes about twice a day) → `StatementNotReadyError`;
 * 2. `POST /v1/reporting/report_runs` with the day's interval [00:00, 24:00) in `timezone` (UTC by
 *    default; `parameters[timezone]` is passed so the local date columns use it too) and an EXPLICIT
 *    column list (the columns `parsers/stripe` reads, by report type);
 * 3. poll `GET /v1/reporting/report_runs/<id>` every `pollIntervalMs` for at most `maxPollMs`.
 *    POLLING DECISION: a bounded loop inside the call; if the run is still `pending` after it, the call
 *    throws `StatementNotReadyError` (the orchestrator's `withRetry` comes back later) and REMEMBERS the
 *    run id, so the next call for the same day resumes polling that run instead of starting a new one.
 *    `failed` → `ReportRunFailedError` carrying Stripe's `error` text (not retried; the remembered run is
 *    dropped so a later manual rerun starts afresh). NB the SDK throws for any 2xx body with a truthy
 *    `error` field — which a failed run is — so that error is recognised and mapped here too;
 * 4. download `result.url` with the secret key (Bearer) and check the byte count against the File
 *    object's `size` (and Content-Length) → `IntegrityError` on a mismatch. A connection cut mid-body is
 *    a `TransientFetchError` (`fetch/http.ts`).
 * SDK retries and telemetry are off (`maxNetworkRetries: 0`, `telemetry: false`): one attempt per call.
 * Errors: 401/403 → `FetchAuthError`; 429 (with Retry-After), 5xx, network and timeouts →
 * `TransientFetchError`; other 4xx → `FetchError`. Messages never contain the key.
 */
export type StripeReportType = 'payout_reconciliation.itemized.5' | 'balance_change_from_activity.itemized.3';

export interface StripeFetcherOptions {
  apiKey: string;
  /** Default `https://api.stripe.com`. */
  apiBase?: string;
  /** Default `payout_reconciliation.itemized.5`. */
  reportType?: StripeReportType | string;
  /** IANA zone of the bill day; default `Etc/UTC`. */
  timezone?: string;
  /** Overrides the default column list of the report type. */
  columns?: readonly string[];
  /** Restrict the report to one currency (lower-case ISO). */
  currency?: string;
  /** Per-request timeout, ms (default 30 000). */
  timeoutMs?: number;
  /** Polling inside one call (defaults 2 000 ms, at most 60 000 ms). */
  pollIntervalMs?: number;
  maxPollMs?: number;
}

/** Stripe reported the run as `failed`. Not retried: the error text says what to fix. */
export class ReportRunFailedError extends FetchError {
  constructor(billDate: string, readonly runId: string, readonly stripeError: string) {
    super('stripe', billDate, `report run ${runId} failed: ${stripeError}`);
  }
}

const BALANCE_COLUMNS = [
  'balance_transaction_id', 'created_utc', 'created', 'available_on_utc', 'available_on', 'currency', 'gross', 'fee', 'net',
  'reporting_category', 'source_id', 'description', 'customer_facing_amount', 'customer_facing_currency', 'charge_id',
  'payment_intent_id', 'payment_method_type', 'card_brand', 'payment_metadata[order_id]', 'refund_metadata[order_id]',
  'refund_metadata[refund_id]',
] as const;
const PAYOUT_COLUMNS = ['automatic_payout_id', 'automatic_payout_effective_at_utc', 'automatic_payout_effective_at'] as const;

/** The explicit column list requested for a report type (payout columns only where the type has them). */
export function defaultStripeColumns(reportType: string): string[] {
  return reportType.startsWith('payout_reconciliation.') ? [...BALANCE_COLUMNS, ...PAYOUT_COLUMNS] : [...BALANCE_COLUMNS];
}

/** The bill day's interval [00:00, 24:00) in `zone`, as Stripe's Unix-second `interval_start`/`interval_end`. */
export function dayInterval(billDate: string, zone = 'Etc/UTC'): { start: number; end: number } {
  if (!isIsoDate(billDate)) throw new UsageError(`stripe: bill date must be YYYY-MM-DD, got ${JSON.stringify(billDate)}`);
  const day = dayBounds(billDate, zone);
  return { start: Math.floor(day.start.getTime() / 1000), end: Math.floor(day.end.getTime() / 1000) };
}

export function stripeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): StripeFetcherOptions {
  const apiKey = env.STRIPE_API_KEY?.trim();
  if (!apiKey) throw new UsageError('STRIPE_API_KEY is not set');
  return { apiKey, apiBase: env.STRIPE_API_BASE?.trim() || undefined };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });

type StripeErrorLike = Error & { type?: string; statusCode?: number; headers?: Record<string, string | string[] | undefined>; code?: string; param?: string; raw?: { type?: unknown } };

export function createStripeFetcher(options: StripeFetcherOptions): StatementFetcher {
  if (!options.apiKey) throw new UsageError('stripe: an API key is required');
  const base = new URL(options.apiBase ?? 'https://api.stripe.com');
  const protocol = base.protocol === 'http:' ? 'http' : 'https';
  const reportType = options.reportType ?? 'payout_reconciliation.itemized.5';
  const timezone = options.timezone ?? 'Etc/UTC';
  const columns = [...(options.columns ?? defaultStripeColumns(reportType))];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const stripe = new Stripe(options.apiKey, {
    host: base.hostname,
    port: base.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 0,
    telemetry: false,
    timeout: timeoutMs,
    appInfo: { name: 'walletrecon' },
  });
  /** Pending runs by day, so a retry resumes polling instead of creating another run. */
  const pendingRuns = new Map<string, string>();
  const secretLike = /\b(sk|rk)_(test|live)_[A-Za-z0-9*]+/g;
  const redact = (s: string) => s.split(options.apiKey).join('[redacted]').replace(secretLike, '[redacted key]');

  const mapError = (err: unknown, billDate: string, what: string, runId?: string): Error => {
    if (err instanceof FetchError || err instanceof IntegrityError) return err;
    const e = err as StripeErrorLike;
    const status = e.statusCode;
    // SDK quirk: a 2xx body with a truthy `error` field is thrown as an (OAuth-style) error whose `type`
    // is that string. For a report run that is exactly a FAILED run: `{ status: 'failed', error: '…' }`.
    if (status !== undefined && status >= 200 && status < 300 && typeof e.raw?.type === 'string') {
      return new ReportRunFailedError(billDate, runId ?? 'unknown', redact(e.raw.type));
    }
    if (e.type === 'StripeAuthenticationError' || e.type === 'StripePermissionError' || status === 401 || status === 403) {
      return new FetchAuthError('stripe', billDate, `${what}: HTTP ${status ?? '401'} — the Stripe API key was refused (check STRIPE_API_KEY and its report permissions)`);
    }
    if (e.type === 'StripeRateLimitError' || status === 429) {
      const header = e.headers?.['retry-after'];
      return new TransientFetchError('stripe', billDate, `${what}: HTTP 429 rate limited`, { cause: err, retryAfterMs: retryAfterMs(Array.isArray(header) ? header[0] : header) });
    }
    if (e.type === 'StripeConnectionError' || e.type === 'StripeAPIError' || (status !== undefined && status >= 500)) {
      return new TransientFetchError('stripe', billDate, `${what}: ${status ? `HTTP ${status} ` : ''}${redact(e.message ?? 'connection error')}`, { cause: err });
    }
    return new FetchError('stripe', billDate, `${what}: ${status ? `HTTP ${status} ` : ''}${redact(e.message ?? String(err))}${e.param ? ` (param ${e.param})` : ''}`);
  };

  return {
    provider: 'stripe',
    async fetch(req: FetchRequest, ctx: FetchContext = {}): Promise<FetchResult> {
      const { billDate } = req;
      const { start, end } = dayInterval(billDate, timezone);
      const key = `${reportType}|${timezone}|${options.currency ?? ''}|${billDate}`;
      const call = async <T>(what: string, op: () => Promise<T>, runId?: string): Promise<T> => {
        try {
          return await op();
        } catch (err) {
          const mapped = mapError(err, billDate, what, runId);
          if (mapped instanceof ReportRunFailedError) pendingRuns.delete(key);
          throw mapped;
        }
      };

      let runId = pendingRuns.get(key);
      let run: Stripe.Reporting.ReportRun;
      if (runId) {
        run = await call(`retrieve report run ${runId}`, () => stripe.reporting.reportRuns.retrieve(runId!), runId).catch((err: unknown) => {
          pendingRuns.delete(key); // an unknown/expired run id: start afresh next time
          throw err;
        });
      } else {
        const type = await call(`report type ${reportType}`, () => stripe.reporting.reportTypes.retrieve(reportType));
        if (end > type.data_available_end) {
          throw new StatementNotReadyError('stripe', billDate, `${reportType} data is available until ${new Date(type.data_available_end * 1000).toISOString()}; the day ends ${new Date(end * 1000).toISOString()}`);
        }
        run = await call('create report run', () =>
          stripe.reporting.reportRuns.create({
            report_type: reportType,
            parameters: { interval_start: start, interval_end: end, timezone, columns, ...(options.currency ? { currency: options.currency } : {}) },
          }),
        );
        runId = run.id;
        ctx.log?.('stripe.report_run.created', { runId, reportType, intervalStart: start, intervalEnd: end });
      }

      const deadline = Date.now() + (options.maxPollMs ?? 60_000);
      while (run.status === 'pending') {
        if (Date.now() + (options.pollIntervalMs ?? 2_000) > deadline) {
          pendingRuns.set(key, run.id);
          throw new StatementNotReadyError('stripe', billDate, `report run ${run.id} (${reportType}) is still pending`);
        }
        await sleep(options.pollIntervalMs ?? 2_000, ctx.signal);
        const id = run.id;
        run = await call(`retrieve report run ${id}`, () => stripe.reporting.reportRuns.retrieve(id), id).catch((err: unknown) => {
          if (err instanceof TransientFetchError) pendingRuns.set(key, id);
          throw err;
        });
      }
      if (run.status === 'failed') {
        pendingRuns.delete(key);
        throw new ReportRunFailedError(billDate, run.id, redact(run.error ?? 'no error text'));
      }
      if (run.status !== 'succeeded' || !run.result?.url) {
        pendingRuns.delete(key);
        throw new FetchError('stripe', billDate, `report run ${run.id} has status ${run.status} and no result file`);
      }
      pendingRuns.set(key, run.id); // a failed download retries the same run's file

      const file = run.result;
      const fileUrl = file.url!;
      const { status, headers, body } = await httpCall(fileUrl, { method: 'GET', headers: { Authorization: `Bearer ${options.apiKey}` } }, { provider: 'stripe', billDate, timeoutMs, signal: ctx.signal });
      if (status === 404) throw new FetchError('stripe', billDate, `report file ${file.id} of run ${run.id} is gone (HTTP 404)`);
      if (status !== 200) throw new FetchError('stripe', billDate, `report file ${file.id}: HTTP ${status}`);
      const declared = headers.get('content-length');
      if (declared !== null && Number(declared) !== body.length) {
        throw new IntegrityError('stripe', billDate, `report file ${file.id}: received ${body.length} bytes but Content-Length says ${declared}`);
      }
      if (typeof file.size === 'number' && body.length !== file.size) {
        throw new IntegrityError('stripe', billDate, `report file ${file.id}: received ${body.length} bytes but the File object says ${file.size} — truncated download`);
      }
      pendingRuns.delete(key);
      return {
        // Named by what it is (Stripe's file name is a random file id); the ids are kept in the notes.
        files: [{ name: `stripe-${reportType}-${billDate}.csv`, bytes: body, integrity: { algorithm: 'size', value: String(body.length), over: 'bytes' } }],
        notes: { reportRunId: run.id, reportType, fileId: file.id, intervalStart: String(start), intervalEnd: String(end), timezone },
      };
    },
  };
}
