import { writeFile } from 'node:fs/promises';
import type { RunSummary } from '../reconcile/run.js';

export async function writeSummaryJson(path: string, summary: Partial<RunSummary>): Promise<void> {
  await writeFile(path, JSON.stringify(summary, null, 2) + '\n');
}
