import type { Queue } from 'bullmq';
import { UsageError } from '../../core/errors.js';
import { isIsoDate } from '../../core/time.js';
import type { ProviderId } from '../../parsers/contract.js';
import { addDays } from '../../reconcile/calendars.js';
import type { DayKey, StepDeps } from '../steps.js';
import { dayOutcome, type DayOutcome, type FlowEnqueuer } from './flow.js';
import { configuredProviders } from './providers.js';
import { newRequestId } from './queues.js';

/**
 * `recon backfill --from --to [--provider …] [--request-id …] [--wait]`: enqueues the daily flow of every
 * (configured provider, day) in the range as one backfill REQUEST. The request id is the flows'
 * generation (flow.ts): a new request reruns days already done (each rerun is a new version of the
 * day's run with the same content when the inputs are the same); the same `--request-id` again is a
 * no-op. Days are enqueued oldest first; the worker keeps each provider's days in date order.
 *
 * With `--wait` it returns when every flow has finished and prints a summary, one line a day. Exit
 * status: 0 when every day is done; 1 when any day failed for another reason than its input
 * (provider down, credentials refused, statement never ready); 2 when the only failures are rejected
 * inputs (a statement file that does not parse, a hash mismatch) — the contract's "2: an input was
 * rejected"; and 2 for a bad command line (dates, an unconfigured provider asked for by name).
 */
export const MAX_BACKFILL_DAYS = 366;

export function dateRange(from: string, to: string): string[] {
  if (!isIsoDate(from)) throw new UsageError(`--from ${JSON.stringify(from)} is not a YYYY-MM-DD date`);
  if (!isIsoDate(to)) throw new UsageError(`--to ${JSON.stringify(to)} is not a YYYY-MM-DD date`);
  if (from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) {
    days.push(d);
    if (days.length > MAX_BACKFILL_DAYS) throw new UsageError(`the range ${from}..${to} is longer than ${MAX_BACKFILL_DAYS} days; split it`);
  }
  return days;
}

export interface BackfillRequest {
  from: string;
  to: string;
  providers?: ProviderId[];
  requestId?: string;
}

export interface EnqueuedBackfill {
  requestId: string;
  days: DayKey[];
  added: number;
  skipped: Array<{ provider: ProviderId; reason: string }>;
}

export async function enqueueBackfill(enqueuer: FlowEnqueuer, deps: Pick<StepDeps, 'env' | 'fetcherFor'>, req: BackfillRequest): Promise<EnqueuedBackfill> {
  const dates = dateRange(req.from, req.to);
  if (req.requestId !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(req.requestId)) throw new UsageError(`--request-id ${JSON.stringify(req.requestId)}: letters, digits, '_', '.', '-' only (at most 64)`);
  const { providers, skipped } = configuredProviders(deps, req.providers ?? []);
  const requestId = req.requestId ?? newRequestId();
  const days: DayKey[] = [];
  let added = 0;
  for (const date of dates) {
    for (const p of providers) {
      const key: DayKey = { provider: p.provider, account: p.account, date };
      days.push(key);
      if ((await enqueuer.enqueueDay(key, requestId)).added) added += 1;
    }
  }
  return { requestId, days, added, skipped };
}

export interface ProgressSink {
  /** A line of progress (replaces the previous one on a terminal). */
  update(done: number, failed: number, total: number, etaMs: number | null): void;
  end(): void;
}

const clock = (ms: number): string => {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
};

/** A bar with counts and ETA on a terminal; plain lines (only when something changed) otherwise. */
export function progressSink(stream: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean }): ProgressSink {
  const tty = 'isTTY' in stream && stream.isTTY === true;
  let last = '';
  return {
    update(done, failed, total, etaMs) {
      const finished = done + failed;
      const eta = etaMs === null ? 'ETA --:--' : `ETA ${clock(etaMs)}`;
      const counts = `${finished}/${total} (${done} done, ${failed} failed)`;
      if (tty) {
        const width = 30;
        const fill = total === 0 ? width : Math.round((finished / total) * width);
        const line = `[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${counts} ${eta}`;
        if (line !== last) stream.write(`\r${line}\x1b[K`);
        last = line;
      } else {
        const line = `backfill: ${counts} ${eta}`;
        if (counts !== last) stream.write(`${line}\n`);
        last = counts;
      }
    },
    end() {
      if (tty && last !== '') stream.write('\n');
    },
  };
}

export interface BackfillSummary {
  requestId: string;
  outcomes: DayOutcome[];
  done: number;
  failed: number;
  /** Failures whose reason is a rejected input only. */
  rejected: number;
  timedOut: boolean;
}

/** Polls each day's flow until all have finished (or `timeoutMs`), reporting progress. */
export async function waitForBackfill(queue: Queue, enq: EnqueuedBackfill, opts: { progress?: ProgressSink; pollMs?: number; timeoutMs?: number; now?: () => number } = {}): Promise<BackfillSummary> {
  const now = opts.now ?? Date.now;
  const started = now();
  const pollMs = opts.pollMs ?? 1000;
  const outcomes = new Map<number, DayOutcome>();
  const finishedAt: number[] = [];
  let timedOut = false;
  for (;;) {
    for (let i = 0; i < enq.days.length; i++) {
      if (outcomes.has(i)) continue;
      const o = await dayOutcome(queue, enq.days[i]!, enq.requestId);
      if (o.state !== 'running') {
        outcomes.set(i, o);
        finishedAt.push(now());
      }
    }
    const done = [...outcomes.values()].filter((o) => o.state === 'done').length;
    const failed = outcomes.size - done;
    const remaining = enq.days.length - outcomes.size;
    const elapsed = now() - started;
    const eta = outcomes.size === 0 ? null : remaining === 0 ? 0 : Math.round((elapsed / outcomes.size) * remaining);
    opts.progress?.update(done, failed, enq.days.length, eta);
    if (remaining === 0) break;
    if (opts.timeoutMs !== undefined && elapsed >= opts.timeoutMs) {
      timedOut = true;
      break;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  opts.progress?.end();
  const list = enq.days.map((key, i) => outcomes.get(i) ?? { key, state: 'running' as const });
  const failedList = list.filter((o) => o.state === 'failed');
  return {
    requestId: enq.requestId,
    outcomes: list,
    done: list.filter((o) => o.state === 'done').length,
    failed: failedList.length,
    rejected: failedList.filter((o) => (o.reason ?? '').startsWith('rejected:')).length,
    timedOut,
  };
}

export function formatBackfillSummary(s: BackfillSummary): string {
  const lines = s.outcomes.map((o) => {
    const head = `${o.state.padEnd(7)} ${o.key.date} ${o.key.provider} ${o.key.account}`;
    return o.state === 'failed' ? `${head}  ${o.failedStep}: ${o.reason ?? 'failed'}` : head;
  });
  const running = s.outcomes.length - s.done - s.failed;
  lines.push(`backfill ${s.requestId}: ${s.done} done, ${s.failed} failed${running ? `, ${running} still running (timed out)` : ''} of ${s.outcomes.length}`);
  return lines.join('\n') + '\n';
}

/** 0 all done; 1 any failure other than a rejected input (or unfinished); 2 only rejected inputs failed. */
export function backfillExitStatus(s: BackfillSummary): 0 | 1 | 2 {
  if (s.timedOut || s.failed > s.rejected) return 1;
  if (s.rejected > 0) return 2;
  return 0;
}
