import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FaultQueue } from '../common/fault-queue.js';
import { listenLoopback, trackSockets } from '../common/listen.js';

/** Which endpoint a fault is aimed at; a fault without `on` hits whatever request comes next. */
export type StripeEndpoint = 'report_types' | 'create' | 'retrieve' | 'contents';

export type StripeFault = { on?: StripeEndpoint } & (
  | { kind: 'status'; status: number }
  | { kind: 'rate-limit'; retryAfterSec?: number }
  /** Answer only after `delayMs` (beyond the client's timeout). */
  | { kind: 'slow'; delayMs: number }
  /** Refuse the key on this request (401). */
  | { kind: 'bad-auth' }
  /** (contents) Serve only `keepBytes` (default half) with a consistent Content-Length: shorter than the File's `size`. */
  | { kind: 'truncate'; keepBytes?: number }
  /** (contents) Declare the full Content-Length, send part of the body, close the connection. */
  | { kind: 'cut'; keepBytes?: number }
  /** (create) The run stays pending for `polls` retrieves. */
  | { kind: 'pending'; polls: number }
  /** (create) The run fails with Stripe's `error` text, at once or after `afterPolls` pending retrieves. */
  | { kind: 'fail-run'; error?: string; afterPolls?: number }
);

export interface StripeReport {
  reportType: string;
  /** Unix seconds; the run's interval must equal these to get this CSV. */
  intervalStart: number;
  intervalEnd: number;
  csv: Buffer | string;
}

export interface StripeEmulatorOptions {
  apiKey?: string;
  reports?: StripeReport[];
  /** Retrieves that answer `pending` before a run succeeds (default 1). */
  pendingPolls?: number;
  /** `data_available_end` of every report type (Unix seconds; default: now). */
  dataAvailableEnd?: number;
  dataAvailableStart?: number;
  faults?: StripeFault[];
}

export interface StripeEmulatorRun {
  id: string;
  reportType: string;
  parameters: { interval_start: number; interval_end: number; columns?: string[]; timezone?: string; currency?: string };
  pollsLeft: number;
  failure?: string;
  /** Set as `failure` when the pending polls run out. */
  pendingFailure?: string;
  fileId?: string;
  created: number;
}

export interface StripeEmulator {
  url: string;
  apiKey: string;
  reports: StripeReport[];
  runs: Map<string, StripeEmulatorRun>;
  faults: FaultQueue<StripeFault>;
  /** Requests served, as `METHOD path`. */
  requests: string[];
  close(): Promise<void>;
}

/** Columns each emulated report type accepts (a subset of Stripe's documented schema). */
const COMMON_COLUMNS = [
  'balance_transaction_id', 'created_utc', 'created', 'available_on_utc', 'available_on', 'currency', 'gross', 'fee', 'net',
  'reporting_category', 'source_id', 'description', 'customer_facing_amount', 'customer_facing_currency', 'customer_id',
  'customer_email', 'customer_name', 'customer_description', 'charge_id', 'payment_intent_id', 'charge_created_utc',
  'charge_created', 'invoice_id', 'subscription_id', 'payment_method_type', 'card_brand', 'card_funding', 'card_country',
  'statement_descriptor', 'dispute_reason', 'connected_account_id', 'connected_account_name', 'connected_account_country',
  'connected_account_direct_charge_id', 'shipping_address_line1', 'shipping_address_city', 'shipping_address_postal_code',
  'shipping_address_country',
];
const PAYOUT_COLUMNS = ['automatic_payout_id', 'automatic_payout_effective_at_utc', 'automatic_payout_effective_at'];
export const STRIPE_REPORT_TYPES: Readonly<Record<string, readonly string[]>> = {
  'payout_reconciliation.itemized.5': [...COMMON_COLUMNS, ...PAYOUT_COLUMNS],
  'payout_reconciliation.itemized.4': [...COMMON_COLUMNS, ...PAYOUT_COLUMNS],
  'balance_change_from_activity.itemized.3': COMMON_COLUMNS,
  'balance_change_from_activity.itemized.2': COMMON_COLUMNS,
};
const allowedColumn = (type: string, col: string) =>
  (STRIPE_REPORT_TYPES[type] ?? []).includes(col) || /^(payment|refund|transfer)_metadata\[[^\]]+\]$/.test(col);

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;

/**
 * A Stripe Reports API (v1) emulator over node:http: report types, report runs (form-encoded create,
 * polling), and file contents, with Stripe's auth (Bearer or Basic secret key) and error JSON shape.
 */
export async function startStripeEmulator(opts: StripeEmulatorOptions = {}): Promise<StripeEmulator> {
  const apiKey = opts.apiKey ?? `sk_test_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'Z')}`;
  const reports = [...(opts.reports ?? [])];
  const runs = new Map<string, StripeEmulatorRun>();
  const files = new Map<string, { bytes: Buffer; run: string }>();
  const faults = new FaultQueue<StripeFault>(opts.faults);
  const requests: string[] = [];
  let url = '';

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body, null, 2);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Request-Id': id('req'), ...headers });
    res.end(text);
  };
  const error = (res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    send(res, status, { error: { type, message, ...extra } }, headers);

  const authorized = (req: IncomingMessage): 'ok' | 'missing' | 'wrong' => {
    const h = req.headers.authorization;
    if (!h) return 'missing';
    let key: string | undefined;
    if (/^Bearer /i.test(h)) key = h.slice(7).trim();
    else if (/^Basic /i.test(h)) key = Buffer.from(h.slice(6).trim(), 'base64').toString().split(':')[0];
    return key === apiKey ? 'ok' : 'wrong';
  };
  const masked = (req: IncomingMessage) => {
    const h = req.headers.authorization ?? '';
    const key = /^Bearer /i.test(h) ? h.slice(7) : Buffer.from(h.slice(6), 'base64').toString().split(':')[0] ?? '';
    return `${key.slice(0, 8)}****${key.slice(-4)}`;
  };

  const runObject = (run: StripeEmulatorRun) => {
    const status = run.failure !== undefined ? 'failed' : run.fileId ? 'succeeded' : 'pending';
    const file = run.fileId ? files.get(run.fileId)! : undefined;
    return {
      id: run.id,
      object: 'reporting.report_run',
      created: run.created,
      error: run.failure ?? null,
      livemode: false,
      parameters: run.parameters,
      report_type: run.reportType,
      result: file
        ? { id: run.fileId, object: 'file', created: run.created + 1, expires_at: run.created + 86_400 * 365, filename: `${run.id}.csv`, links: null, purpose: 'finance_report_run', size: file.bytes.length, title: `${run.reportType} ${run.id}`, type: 'csv', url: `${url}/v1/files/${run.fileId}/contents` }
        : null,
      status,
      succeeded_at: status === 'succeeded' ? run.created + 1 : null,
    };
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString()));
      req.on('error', reject);
    });

  const availableEnd = () => opts.dataAvailableEnd ?? Math.floor(Date.now() / 1000);
  const availableStart = () => opts.dataAvailableStart ?? 1_262_304_000; // 2010-01-01

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const route = `${req.method} ${u.pathname}`;
    requests.push(route);
    const endpoint: StripeEndpoint | undefined =
      req.method === 'GET' && /^\/v1\/reporting\/report_types\/[^/]+$/.test(u.pathname) ? 'report_types'
      : req.method === 'POST' && u.pathname === '/v1/reporting/report_runs' ? 'create'
      : req.method === 'GET' && /^\/v1\/reporting\/report_runs\/[^/]+$/.test(u.pathname) ? 'retrieve'
      : req.method === 'GET' && /^\/v1\/files\/[^/]+\/contents$/.test(u.pathname) ? 'contents'
      : undefined;
    const body = await readBody(req);
    const fault = faults.nextIf((f) => f.on === undefined || f.on === endpoint);

    if (fault?.kind === 'slow') {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (res.destroyed || req.socket.destroyed) return;
    }
    if (fault?.kind === 'status') return error(res, fault.status, 'api_error', 'An unknown error occurred — please try again.');
    if (fault?.kind === 'rate-limit') {
      return error(res, 429, 'invalid_request_error', 'Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.', { code: 'rate_limit' }, fault.retryAfterSec !== undefined ? { 'Retry-After': String(fault.retryAfterSec) } : {});
    }
    const auth = fault?.kind === 'bad-auth' ? 'wrong' : authorized(req);
    if (auth === 'missing') return error(res, 401, 'invalid_request_error', 'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').');
    if (auth === 'wrong') return error(res, 401, 'invalid_request_error', `Invalid API Key provided: ${masked(req)}`);

    if (endpoint === 'report_types') {
      const type = decodeURIComponent(u.pathname.split('/').pop()!);
      if (!STRIPE_REPORT_TYPES[type]) return error(res, 404, 'invalid_request_error', `No such report type: '${type}'`, { code: 'resource_missing', param: 'id' });
      return send(res, 200, { id: type, object: 'reporting.report_type', data_available_start: availableStart(), data_available_end: availableEnd(), default_columns: STRIPE_REPORT_TYPES[type]!.slice(0, 12), livemode: false, name: type, updated: availableEnd(), version: Number(type.split('.').pop()) });
    }

    if (endpoint === 'create') {
      if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return error(res, 400, 'invalid_request_error', 'Invalid request: unsupported Content-Type. The request body must be application/x-www-form-urlencoded.');
      const form = new URLSearchParams(body);
      const reportType = form.get('report_type');
      if (!reportType) return error(res, 400, 'invalid_request_error', 'Missing required param: report_type.', { code: 'parameter_missing', param: 'report_type' });
      if (!STRIPE_REPORT_TYPES[reportType]) return error(res, 400, 'invalid_request_error', `Invalid report_type: '${reportType}' is not a valid report type.`, { code: 'parameter_invalid', param: 'report_type' });
      const int = (name: string) => {
        const v = form.get(`parameters[${name}]`);
        return v !== null && /^\d+$/.test(v) ? Number(v) : v === null ? undefined : NaN;
      };
      const start = int('interval_start');
      const end = int('interval_end');
      for (const [name, v] of [['interval_start', start], ['interval_end', end]] as const) {
        if (v === undefined) return error(res, 400, 'invalid_request_error', `Missing required param: parameters[${name}].`, { code: 'parameter_missing', param: `parameters[${name}]` });
        if (Number.isNaN(v)) return error(res, 400, 'invalid_request_error', `Invalid integer: parameters[${name}]`, { code: 'parameter_invalid_integer', param: `parameters[${name}]` });
      }
      if (start! >= end!) return error(res, 400, 'invalid_request_error', 'parameters[interval_start] must be before parameters[interval_end].', { param: 'parameters[interval_start]' });
      if (start! < availableStart() || end! > availableEnd()) {
        return error(res, 400, 'invalid_request_error', `The requested interval is outside the data available for ${reportType} (${availableStart()} to ${availableEnd()}).`, { param: 'parameters[interval_end]' });
      }
      const columns = [...form.entries()].filter(([k]) => /^parameters\[columns\]\[\d*\]$/.test(k)).map(([, v]) => v);
      const badColumn = columns.find((c) => !allowedColumn(reportType, c));
      if (badColumn !== undefined) return error(res, 400, 'invalid_request_error', `Invalid column '${badColumn}' for report type ${reportType}.`, { code: 'parameter_invalid', param: 'parameters[columns]' });
      const timezone = form.get('parameters[timezone]') ?? undefined;
      if (timezone !== undefined) {
        try {
          new Intl.DateTimeFormat('en', { timeZone: timezone });
        } catch {
          return error(res, 400, 'invalid_request_error', `Invalid timezone: ${timezone}`, { param: 'parameters[timezone]' });
        }
      }
      const currency = form.get('parameters[currency]') ?? undefined;
      const run: StripeEmulatorRun = {
        id: id('frr'),
        reportType,
        parameters: { interval_start: start!, interval_end: end!, ...(columns.length ? { columns } : {}), ...(timezone ? { timezone } : {}), ...(currency ? { currency } : {}) },
        pollsLeft: fault?.kind === 'pending' ? fault.polls : (opts.pendingPolls ?? 1),
        created: Math.floor(Date.now() / 1000),
      };
      if (fault?.kind === 'fail-run') {
        const text = fault.error ?? 'An error occurred while generating the report. Please try again or contact support.';
        if (fault.afterPolls === undefined) run.failure = text;
        else {
          run.pendingFailure = text;
          run.pollsLeft = fault.afterPolls;
        }
      }
      runs.set(run.id, run);
      return send(res, 200, runObject(run));
    }

    if (endpoint === 'retrieve') {
      const run = runs.get(decodeURIComponent(u.pathname.split('/').pop()!));
      if (!run) return error(res, 404, 'invalid_request_error', `No such report run: '${u.pathname.split('/').pop()}'`, { code: 'resource_missing', param: 'id' });
      if (run.failure === undefined && !run.fileId) {
        if (run.pollsLeft > 0) run.pollsLeft--;
        else if (run.pendingFailure !== undefined) run.failure = run.pendingFailure;
        else {
          const match = reports.find((r) => r.reportType === run.reportType && r.intervalStart === run.parameters.interval_start && r.intervalEnd === run.parameters.interval_end);
          // No data in the interval: Stripe still produces the CSV, with its header row only.
          const bytes = match ? (Buffer.isBuffer(match.csv) ? match.csv : Buffer.from(match.csv)) : Buffer.from((run.parameters.columns ?? STRIPE_REPORT_TYPES[run.reportType]!.slice(0, 12)).join(',') + '\n');
          run.fileId = id('file');
          files.set(run.fileId, { bytes, run: run.id });
        }
      }
      return send(res, 200, runObject(run));
    }

    if (endpoint === 'contents') {
      const file = files.get(u.pathname.split('/')[3]!);
      if (!file) return error(res, 404, 'invalid_request_error', 'No such file', { code: 'resource_missing', param: 'id' });
      let bytes = file.bytes;
      if (fault?.kind === 'truncate') bytes = bytes.subarray(0, fault.keepBytes ?? Math.floor(bytes.length / 2));
      if (fault?.kind === 'cut') {
        res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Length': file.bytes.length });
        res.write(file.bytes.subarray(0, fault.keepBytes ?? Math.floor(file.bytes.length / 2)));
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/csv', 'Content-Length': bytes.length, 'Content-Disposition': `attachment; filename="${file.run}.csv"` });
      return void res.end(bytes);
    }

    return error(res, 404, 'invalid_request_error', `Unrecognized request URL (${req.method}: ${u.pathname}).`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) error(res, 500, 'api_error', 'emulator failure');
      else res.destroy();
    });
  });
  const tracker = trackSockets(server);
  const port = await listenLoopback(server);
  url = `http://127.0.0.1:${port}`;
  return { url, apiKey, reports, runs, faults, requests, close: () => tracker.closeAll() };
}
