import { Worker } from 'node:worker_threads';
import { LedgerFormatError } from '../core/errors.js';

/** What the worker is given: the file, the import id to end each row with (a copy into ledger_entries), its credit. */
export interface CopyJob {
  path: string;
  importId: string | null;
  credit: number;
}

export type WorkerMessage =
  | { chunk: Uint8Array }
  | { done: number }
  | { ledgerError: { file: string; line: number | undefined; field: string | undefined; detail: string } }
  | { error: { name: string; message: string; code?: string } };

// Chunks on their way at once (64 KiB each): enough to keep the COPY fed, bounded whatever the file size.
const CREDIT = 16;

function startWorker(job: CopyJob): Worker {
  // Bounded like the main thread: every stage streams.
  const options = { workerData: job, resourceLimits: { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 48 } };
  if (import.meta.url.endsWith('.ts')) {
    // Run from source (the tests): the worker's TypeScript goes through tsx, as the tests' own does.
    const url = new URL('./copy-worker.ts', import.meta.url).href;
    return new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); })`, { ...options, eval: true });
  }
  return new Worker(new URL('./copy-worker.js', import.meta.url), options);
}

/**
 * A ledger CSV as COPY CSV text (the rows of `ledgerCopyRows`), read, checked and written by a worker
 * thread: byte chunks that each end with a whole row. `counter.n` holds the row count once the last
 * chunk has been taken. A bad row ends the chunks with the worker's LedgerFormatError (file, line and
 * field); stopping early ends the worker.
 */
export async function* ledgerCopyChunks(path: string, importId: string | undefined, counter: { n: number }): AsyncGenerator<Uint8Array> {
  const worker = startWorker({ path, importId: importId ?? null, credit: CREDIT });
  const inbox: Array<WorkerMessage | { crashed: unknown } | { exited: number }> = [];
  let wake: (() => void) | null = null;
  const deliver = (m: (typeof inbox)[number]) => {
    inbox.push(m);
    wake?.();
    wake = null;
  };
  worker.on('message', deliver);
  worker.on('error', (err) => deliver({ crashed: err }));
  worker.on('exit', (code) => deliver({ exited: code }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift()!;
      if ('chunk' in m) {
        yield m.chunk;
        worker.postMessage({ credit: 1 });
      } else if ('done' in m) {
        counter.n = m.done;
        return;
      } else if ('ledgerError' in m) {
        const { detail, ...loc } = m.ledgerError;
        throw new LedgerFormatError({ file: loc.file, ...(loc.line !== undefined ? { line: loc.line } : {}), ...(loc.field !== undefined ? { field: loc.field } : {}) }, detail);
      } else if ('error' in m) {
        throw Object.assign(new Error(m.error.message), { name: m.error.name, ...(m.error.code ? { code: m.error.code } : {}) });
      } else if ('crashed' in m) {
        throw m.crashed;
      } else {
        throw new Error(`the ledger copy worker for ${path} stopped (exit code ${m.exited}) before it finished`);
      }
    }
  } finally {
    await worker.terminate();
  }
}
