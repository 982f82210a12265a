import { join } from 'node:path';
import type { Database } from '../db/database.js';
import { projectRoot } from '../core/project-root.js';
import type { ProviderId } from '../parsers/contract.js';
import { reconcileStatements, type ReconcileResult } from './reconcile-statement.js';

/** The bundled example day: each provider's statement in its real format, and one ledger export. */
export const DEMO_STATEMENTS: ReadonlyArray<{ provider: ProviderId; file: string; date?: string }> = [
  { provider: 'alipay', file: 'alipay/20880211096256330156_20261124.csv.zip' },
  { provider: 'wechatpay', file: 'wechatpay/tradebill-ALL-2026-11-24.csv', date: '2026-11-24' },
];

/** `recon demo` (for now): the bundled example statements reconciled against the bundled ledger. */
export async function runDemo(db: Database, opts: { out: string; archiveDir: string }): Promise<ReconcileResult[]> {
  const dir = join(projectRoot(), 'fixtures', 'demo');
  const results: ReconcileResult[] = [];
  for (const s of DEMO_STATEMENTS) {
    results.push(
      await reconcileStatements(db, {
        provider: s.provider,
        statements: [join(dir, s.file)],
        ledger: join(dir, 'ledger.csv'),
        out: join(opts.out, s.provider),
        date: s.date,
        archiveDir: opts.archiveDir,
      }),
    );
  }
  return results;
}
