import { basename, dirname } from 'node:path';
import type { RunSummary } from '../reconcile/run.js';

/** The run summary as people read it on a terminal. */
export function formatRunSummary(s: RunSummary, files?: { discrepancies: string; summary: string; workbook: string; pending?: string; cleared?: string }): string {
  const lines: string[] = [];
  lines.push(`${s.provider}: ${s.statement_lines} statement lines, ${s.ledger_rows} ledger rows, ${s.matched} matched (run ${s.run_id})`);
  for (const [ccy, t] of Object.entries(s.totals)) {
    lines.push(`  ${ccy}  statement gross ${t.statement_gross}  fee ${t.statement_fee}  net ${t.statement_net}  ledger ${t.ledger_amount}`);
  }
  const found = Object.entries(s.discrepancies).filter(([, n]) => n > 0);
  if (found.length === 0) lines.push('  no discrepancies');
  for (const [kind, n] of found) lines.push(`  ${kind.padEnd(24)} ${n}`);
  if (s.pending !== undefined) lines.push(`  pending                  ${s.pending}`, `  cleared                  ${s.cleared ?? 0}`);
  if (files) {
    const all = [files.discrepancies, files.summary, files.workbook, files.pending, files.cleared].filter((f): f is string => f !== undefined);
    lines.push(`  reports: ${dirname(files.discrepancies)}/ (${all.map((f) => basename(f)).join(', ')})`);
  }
  return lines.join('\n') + '\n';
}
