import { QueueEvents, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../../db/database.js';
import { QUEUE_NAME, type QueueSettings } from './queues.js';

const JOB_STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'waiting-children', 'prioritized'] as const;

/**
 * Prometheus metrics of the pipeline (served at `/metrics` by `recon dashboard`):
 * - `recon_queue_jobs{queue,state}` — jobs by state, read from Redis at each scrape;
 * - `recon_step_duration_seconds{step,provider}` — how long each step job ran (processed → finished),
 *   observed from the queue's completion events while the dashboard runs;
 * - `recon_step_jobs_total{step,provider,outcome}` — step jobs finished, by outcome;
 * - `recon_lines_parsed_total{provider}` — statement lines reconciled by the reconcile jobs seen;
 * - `recon_latest_run_statement_lines{provider,account}` and `recon_match_rate{provider,account}` —
 *   from each (provider, account)'s latest completed daily run in PostgreSQL, read at each scrape.
 */
export class PipelineMetrics {
  readonly registry = new Registry();
  private events: QueueEvents | undefined;

  constructor(private readonly opts: { queue: Queue; settings: QueueSettings; db?: Database; eventsConnection?: Redis }) {
    const { queue, db } = opts;
    new Gauge({
      name: 'recon_queue_jobs',
      help: 'Jobs of the pipeline queue by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const counts = await queue.getJobCounts(...JOB_STATES);
        for (const s of JOB_STATES) this.set({ queue: QUEUE_NAME, state: s }, counts[s] ?? 0);
      },
    });
    this.duration = new Histogram({
      name: 'recon_step_duration_seconds',
      help: 'Duration of step jobs, from processing start to finish',
      labelNames: ['step', 'provider'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [this.registry],
    });
    this.finished = new Counter({ name: 'recon_step_jobs_total', help: 'Step jobs finished, by outcome', labelNames: ['step', 'provider', 'outcome'], registers: [this.registry] });
    this.lines = new Counter({ name: 'recon_lines_parsed_total', help: 'Statement lines reconciled by the reconcile jobs observed', labelNames: ['provider'], registers: [this.registry] });
    if (db) {
      const latest = async () =>
        db.query<{ provider: string; account: string; lines: number | null; matched: number | null }>(
          `SELECT DISTINCT ON (provider, coalesce(account, '')) provider, coalesce(account, '') AS account,
                  (summary->>'statement_lines')::int AS lines, (summary->>'matched')::int AS matched
             FROM recon_runs WHERE kind = 'daily' AND status = 'completed'
            ORDER BY provider, coalesce(account, ''), bill_date DESC, id DESC`,
        );
      new Gauge({
        name: 'recon_latest_run_statement_lines',
        help: 'Statement lines of the latest completed daily run',
        labelNames: ['provider', 'account'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const r of await latest()) this.set({ provider: r.provider, account: r.account }, r.lines ?? 0);
        },
      });
      new Gauge({
        name: 'recon_match_rate',
        help: 'Matched statement lines / statement lines of the latest completed daily run (1 when it had no lines)',
        labelNames: ['provider', 'account'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const r of await latest()) this.set({ provider: r.provider, account: r.account }, r.lines ? (r.matched ?? 0) / r.lines : 1);
        },
      });
    }
  }

  private readonly duration: Histogram<'step' | 'provider'>;
  private readonly finished: Counter<'step' | 'provider' | 'outcome'>;
  private readonly lines: Counter<'provider'>;

  /** Starts listening to the queue's completion and failure events. */
  async listen(): Promise<void> {
    const { queue, settings } = this.opts;
    const events = new QueueEvents(QUEUE_NAME, { connection: this.opts.eventsConnection ?? { url: settings.redisUrl }, prefix: settings.prefix });
    this.events = events;
    const observe = async (jobId: string, outcome: 'completed' | 'failed') => {
      const job = await queue.getJob(jobId);
      if (!job || job.name === 'trigger') return;
      const provider = String((job.data as { provider?: string }).provider ?? 'unknown');
      this.finished.inc({ step: job.name, provider, outcome });
      if (outcome === 'completed' && job.processedOn && job.finishedOn) this.duration.observe({ step: job.name, provider }, (job.finishedOn - job.processedOn) / 1000);
      const lines = (job.returnvalue as { statementLines?: number } | null)?.statementLines;
      if (outcome === 'completed' && job.name === 'reconcile' && typeof lines === 'number') this.lines.inc({ provider }, lines);
    };
    events.on('completed', ({ jobId }) => void observe(jobId, 'completed').catch(() => undefined));
    events.on('failed', ({ jobId }) => void observe(jobId, 'failed').catch(() => undefined));
    await events.waitUntilReady();
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  async close(): Promise<void> {
    await this.events?.close();
  }
}
