import { FlowProducer, type FlowJob, type Job, type JobsOptions, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DayKey } from '../steps.js';
import { defaultJobOptions, idPart, QUEUE_NAME, STEP_JOBS, type DayJobData, type QueueSettings, type StepJobName } from './queues.js';

/**
 * One BullMQ flow per (provider, account, bill date): a chain of four jobs, one per step, so that a
 * failure retries only that step. Children run before their parent, so the tree is built upside down:
 *
 *     notify  ←  report  ←  reconcile (loads, then reconciles)  ←  fetch
 *
 * Job ids are deterministic: `<step>-<provider>-<account>-<date>-<generation>` (no `:`, never all digits).
 * Adding a flow whose ids exist is a no-op, so a duplicate enqueue (a scheduler tick that fires twice, a
 * backfill request submitted twice) does nothing.
 *
 * RERUNS. A rerun of a day that has already run must run again, so the ids carry a **generation**:
 * - `daily` for the scheduled run of a day (and its catch-up): one per day; a day whose daily flow
 *   failed is replaced by the next tick's catch-up (its jobs are removed first, see `enqueueDay`);
 * - the backfill request id (`bf<time>-<random>`, or `--request-id`) for a backfill: each backfill
 *   request is a new generation, so `recon backfill` over days already done runs them again, and the same
 *   request enqueued twice is still a no-op.
 * We chose a generation suffix over "remove the old completed jobs, then add": removing is racy with a
 * worker that is just finishing them, and would erase the history Bull Board shows. The day's RESULTS are
 * replaced by the engine (a rerun is a new version of the day's run; reports are rewritten), never
 * duplicated, whatever the generation.
 *
 * Each child fails its parent when it fails for good (`failParentOnFailure`), so the flow's root
 * (`notify`) ends completed or failed, and `recon backfill --wait` watches roots only.
 */
export function stepJobId(step: StepJobName, key: DayKey, generation: string): string {
  return [step, key.provider, idPart(key.account), key.date, idPart(generation)].join('-');
}

export const ROOT_STEP: StepJobName = 'notify';

export function dayFlow(key: DayKey, generation: string, settings: QueueSettings): FlowJob {
  const data: DayJobData = { provider: key.provider, account: key.account, date: key.date, generation };
  const base = defaultJobOptions(settings);
  // fetch is the leaf, notify the root.
  let node: FlowJob | undefined;
  for (const step of STEP_JOBS) {
    const opts: JobsOptions = { ...base, jobId: stepJobId(step, key, generation) };
    if (step !== ROOT_STEP) opts.failParentOnFailure = true;
    node = { name: step, queueName: QUEUE_NAME, data, opts, ...(node ? { children: [node] } : {}) };
  }
  return node!;
}

export interface EnqueueResult {
  rootId: string;
  /** False when the flow was there already (duplicate enqueue: nothing was added). */
  added: boolean;
}

export class FlowEnqueuer {
  readonly producer: FlowProducer;
  constructor(
    private readonly settings: QueueSettings,
    private readonly queue: Queue,
    connection: Redis,
  ) {
    this.producer = new FlowProducer({ connection, prefix: settings.prefix });
  }

  /**
   * Enqueues the day's flow in `generation`. A no-op when the flow's root exists (waiting, running,
   * delayed or done). With `replaceFinished`, a flow that has FINISHED (failed, or completed — the
   * caller knows the day has no completed run) is removed with its children first so the day runs again:
   * the scheduler's catch-up of a day whose daily flow failed yesterday.
   */
  async enqueueDay(key: DayKey, generation: string, opts: { replaceFinished?: boolean } = {}): Promise<EnqueueResult> {
    const rootId = stepJobId(ROOT_STEP, key, generation);
    const existing = await this.queue.getJob(rootId);
    if (existing) {
      const state = await existing.getState();
      if (!(opts.replaceFinished && (state === 'failed' || state === 'completed'))) return { rootId, added: false };
      await removeFlow(this.queue, key, generation);
    }
    await this.producer.add(dayFlow(key, generation, this.settings));
    return { rootId, added: true };
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}

/** Removes every job of a day's flow in a generation (used to replace a failed flow). */
export async function removeFlow(queue: Queue, key: DayKey, generation: string): Promise<void> {
  for (const step of [...STEP_JOBS].reverse()) {
    const job = await queue.getJob(stepJobId(step, key, generation));
    if (job) await job.remove({ removeChildren: true }).catch(() => undefined);
  }
}

/** The day's step jobs that exist, leaf first. */
export async function flowJobs(queue: Queue, key: DayKey, generation: string): Promise<Array<{ step: StepJobName; job: Job }>> {
  const out: Array<{ step: StepJobName; job: Job }> = [];
  for (const step of STEP_JOBS) {
    const job = await queue.getJob(stepJobId(step, key, generation));
    if (job) out.push({ step, job });
  }
  return out;
}

export interface DayOutcome {
  key: DayKey;
  state: 'done' | 'failed' | 'running';
  /** For a failed day: the step that failed and why (its own reason, not "a child failed"). */
  failedStep?: StepJobName;
  reason?: string;
}

/** Where a day's flow stands: done when its root completed, failed when any step failed for good. */
export async function dayOutcome(queue: Queue, key: DayKey, generation: string): Promise<DayOutcome> {
  const jobs = await flowJobs(queue, key, generation);
  for (const [i, { job }] of jobs.entries()) {
    if ((await job.getState()) !== 'failed') continue;
    // These copies were read before their states: a step that failed since has its reason only in a fresh
    // copy, and its parent fails right after it (a backfill once reported "reconcile: failed" for a
    // failed fetch). Read the steps up to this one again, leaf first, and report the first that failed.
    for (const { step } of jobs.slice(0, i + 1)) {
      const fresh = await queue.getJob(stepJobId(step, key, generation));
      if (fresh && (await fresh.getState()) === 'failed') return { key, state: 'failed', failedStep: step, reason: fresh.failedReason };
    }
  }
  const root = jobs.find((j) => j.step === ROOT_STEP);
  if (root && (await root.job.getState()) === 'completed') return { key, state: 'done' };
  return { key, state: 'running' };
}
