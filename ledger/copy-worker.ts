/**
 * A worker thread that reads, checks and writes a ledger CSV as COPY text (`ledger/copy-in-worker.ts`
 * starts it): the main thread, busy parsing the statement that loads beside the ledger, only passes the
 * chunks on to the server. Chunks go out on credit, so a slow server never lets them pile up in memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LedgerFormatError } from '../core/errors.js';
import { COPY_CHUNK_BYTES, copyChunks, copyCsvRow } from '../db/copy-text.js';
import type { CopyJob, WorkerMessage } from './copy-in-worker.js';
import { ledgerCopyRows } from './rows.js';

const port = parentPort!;
const job = workerData as CopyJob;
let credit = job.credit;
let wake: (() => void) | null = null;
port.on('message', (m: { credit: number }) => {
  credit += m.credit;
  wake?.();
  wake = null;
});
const send = (m: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

async function run(): Promise<void> {
  const counter = { n: 0 };
  for await (const chunk of copyChunks(ledgerCopyRows(job.path, job.importId ?? undefined), copyCsvRow, counter, COPY_CHUNK_BYTES)) {
    while (credit === 0) await new Promise<void>((resolve) => (wake = resolve));
    credit -= 1;
    // A chunk's memory is its own (never Buffer's shared pool at this size): handed over, not copied.
    const own = chunk.byteOffset === 0 && chunk.buffer.byteLength >= COPY_CHUNK_BYTES;
    send({ chunk }, own ? [chunk.buffer as ArrayBuffer] : []);
  }
  send({ done: counter.n });
}

run().catch((err: unknown) => {
  if (err instanceof LedgerFormatError) {
    send({ ledgerError: { file: err.file, line: err.line, field: err.field, detail: err.detail } });
  } else {
    const e = err as { name?: string; message?: string; code?: unknown };
    send({ error: { name: e.name ?? 'Error', message: e.message ?? String(err), ...(typeof e.code === 'string' ? { code: e.code } : {}) } });
  }
});
