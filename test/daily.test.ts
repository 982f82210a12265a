import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedger } from '../ledger/import.js';
import { reconcileDay, type DailyRunResult } from '../reconcile/daily.js';
import { reconcileRun } from '../reconcile/run.js';
import { discrepancyRows } from '../reports/discrepancy-rows.js';
import { exceptionHistory, listExceptions, resolveException } from '../reconcile/exceptions.js';
import { writeDailyReports } from '../reports/daily-reports.js';
import { loadStatement } from '../storage/statements.js';
import type { ProviderId } from '../parsers/contract.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger, type JsonLine } from './helpers/json-statement.js';

describe.each(BACKENDS)('daily runs across days on $name', ({ fresh }) => {
  let t: TestDatabase;
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    t = await fresh();
    dir = tempDir();
  });
  afterAll(async () => {
    await t?.drop();
  });

  async function day(provider: ProviderId, date: string, lines: JsonLine[], ledger: string[][] = []): Promise<DailyRunResult> {
    n += 1;
    const st = await loadStatement(t.db, { parser: jsonParser(provider), path: writeJsonStatement(dir, `d${n}.json`, { lines }), archiveDir: join(dir, 'archive') });
    if (ledger.length > 0) await importLedger(t.db, writeLedger(dir, `dl${n}.csv`, ledger));
    return reconcileDay(t.db, { provider, account: 'acct', date, statementFileIds: [st.id] });
  }
  const kinds = async (runId: string) => (await discrepancyRows(t.db, runId)).map((r) => [r.kind, r.order_id || r.provider_txn_id]);

  it('carries a movement near the day boundary to the next day and clears it there, with both dates', async () => {
    // 2026-11-23 in China: [2026-11-22T16:00Z, 2026-11-23T16:00Z)
    const d1 = await day('wechatpay', '2026-11-23', [
      { type: 'payment', txn: 'W-A', ref: 'A', gross: '10.00', at: '2026-11-23T02:00:00Z' },
      { type: 'payment', txn: 'W-B', ref: 'B', gross: '11.00', at: '2026-11-23T15:59:58Z' },
    ], [
      ['wA', 'wechatpay', 'payment', 'A', 'W-A', '10.00', '', 'CNY', '2026-11-23T10:00:00+08:00'],
      ['wB', 'wechatpay', 'payment', 'B', 'W-B', '11.00', '', 'CNY', '2026-11-24T00:00:30+08:00'], // next day by the ledger's clock
      ['wC', 'wechatpay', 'payment', 'C', 'W-C', '12.00', '', 'CNY', '2026-11-23T23:59:50+08:00'], // on tomorrow's bill
      ['wE', 'wechatpay', 'payment', 'E', 'W-E', '13.00', '', 'CNY', '2026-11-23T12:00:00+08:00'], // well inside the day: missing
      ['wG', 'wechatpay', 'payment', 'G', 'W-G', '14.00', '', 'CNY', '2026-11-23T23:59:55+08:00'], // near cut-off, never settles
    ]);
    expect(await kinds(d1.runId)).toEqual([['missing_in_statement', 'E']]);
    expect(d1.summary).toMatchObject({ matched: 2, pending: 2, cleared: 0 });

    const d2 = await day('wechatpay', '2026-11-24', [
      { type: 'payment', txn: 'W-C', ref: 'C', gross: '12.00', at: '2026-11-23T16:00:05Z' },
      { type: 'payment', txn: 'W-F', ref: 'F', gross: '15.00', at: '2026-11-24T03:00:00Z' },
    ], [['wF', 'wechatpay', 'payment', 'F', 'W-F', '15.00', '', 'CNY', '2026-11-24T11:00:00+08:00']]);
    // B was paired by yesterday's run and is not today's; G fell due today and is missing today.
    expect(await kinds(d2.runId)).toEqual([['missing_in_statement', 'G']]);
    expect(d2.summary).toMatchObject({ matched: 2, pending: 0, cleared: 1 });

    const out = join(dir, 'reports');
    await writeDailyReports(t.db, { provider: 'wechatpay', account: 'acct', date: '2026-11-23' }, out);
    const r2 = await writeDailyReports(t.db, { provider: 'wechatpay', account: 'acct', date: '2026-11-24' }, out);
    const pending = parse(readFileSync(join(out, '2026-11-23', 'wechatpay', 'pending.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(pending.map((r) => [r.kind, r.order_id, r.ledger_amount, r.pending_since, r.due_by])).toEqual([
      ['missing_in_statement', 'C', '12.00', '2026-11-23', '2026-11-24'],
      ['missing_in_statement', 'G', '14.00', '2026-11-23', '2026-11-24'],
    ]);
    const cleared = parse(readFileSync(r2.cleared!, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(cleared.map((r) => [r.order_id, r.statement_amount, r.ledger_amount, r.pending_since, r.cleared_on])).toEqual([['C', '12.00', '12.00', '2026-11-23', '2026-11-24']]);
    const summary = JSON.parse(readFileSync(r2.summary, 'utf8'));
    expect([summary.pending, summary.cleared, 'run_id' in summary]).toEqual([0, 1, false]);
  });

  it('lets an ad-hoc comparison of the same rows consume nothing: the day’s run still pairs them', async () => {
    const st = await loadStatement(t.db, {
      parser: jsonParser('alipay'),
      path: writeJsonStatement(dir, 'adhoc.json', { lines: [{ type: 'payment', txn: 'A-H', ref: 'H', gross: '16.00', at: '2026-11-23T03:00:00Z' }] }),
      archiveDir: join(dir, 'archive'),
    });
    const imp = await importLedger(t.db, writeLedger(dir, 'adhoc.csv', [['aH', 'alipay', 'payment', 'H', 'A-H', '16.00', '', 'CNY', '2026-11-23T11:00:00+08:00']]));
    const adhoc = await reconcileRun(t.db, {
      provider: 'alipay', kind: 'adhoc', statementFileIds: [st.id], billDate: '2026-11-23', ledgerImportId: imp.importId,
      period: { start: new Date('2026-11-22T16:00:00Z'), end: new Date('2026-11-23T16:00:00Z') },
    });
    expect(adhoc.matched).toBe(1);
    const daily = await reconcileDay(t.db, { provider: 'alipay', account: 'acct', date: '2026-11-23', statementFileIds: [st.id] });
    expect(await kinds(daily.runId)).toEqual([]);
    expect(daily.summary).toMatchObject({ matched: 1, pending: 0 });
    // Both runs keep their pair; only the daily one's is indexed as consumed for later days.
    const pairs = await t.db.query<{ run_id: string; daily: boolean }>(
      `SELECT run_id::text, daily FROM matches WHERE run_id = ANY($1::bigint[]) ORDER BY run_id`, [[adhoc.run_id, daily.runId]]);
    expect(pairs).toEqual([{ run_id: String(adhoc.run_id), daily: false }, { run_id: String(daily.runId), daily: true }]);
  });

  it('waits T+N business days for settlement-based statements, then reports what never came on the day it fell due', async () => {
    // Stripe: two business days. Friday 2026-11-20 → due Tuesday 2026-11-24.
    const fri = await day('stripe', '2026-11-20', [], [
      ['sH', 'stripe', 'payment', 'H', 'ch_H', '20.00', '', 'USD', '2026-11-20T10:00:00Z'],
      ['sI', 'stripe', 'payment', 'I', 'ch_I', '21.00', '', 'USD', '2026-11-20T11:00:00Z'],
    ]);
    expect(await kinds(fri.runId)).toEqual([]);
    expect(fri.summary.pending).toBe(2);
    const mon = await day('stripe', '2026-11-23', [{ type: 'payment', txn: 'ch_I', ref: 'I', gross: '21.00', currency: 'USD', at: '2026-11-23T06:00:00Z' }]);
    expect(await kinds(mon.runId)).toEqual([]);
    expect(mon.summary).toMatchObject({ matched: 1, pending: 1, cleared: 1 });
    const tue = await day('stripe', '2026-11-24', []);
    expect(await kinds(tue.runId)).toEqual([['missing_in_statement', 'H']]);
    expect(tue.summary.pending).toBe(0);
  });

  it('replaces a day on rerun, keeps the earlier run as a version and records what changed', async () => {
    const first = await day('paypal', '2026-11-24', [{ type: 'payment', txn: 'P1', ref: 'INV1', gross: '5.00', currency: 'USD', at: '2026-11-24T18:00:00Z' }], [
      ['pp1', 'paypal', 'payment', 'INV1', 'P1', '5.00', '', 'USD', '2026-11-24T10:00:00-08:00'],
    ]);
    expect(first.version).toBe(1);
    const files = await t.db.query<{ statement_file_id: string }>(`SELECT statement_file_id FROM recon_run_statements WHERE run_id = $1`, [first.runId]);
    const again = await reconcileDay(t.db, { provider: 'paypal', account: 'acct', date: '2026-11-24', statementFileIds: files.map((f) => String(f.statement_file_id)) });
    expect([again.version, again.changes.new, again.changes.gone, again.changes.changed]).toEqual([2, 0, 0, 0]);
    await importLedger(t.db, writeLedger(dir, 'corrected.csv', [['pp1', 'paypal', 'payment', 'INV1', 'P1', '5.50', '', 'USD', '2026-11-24T10:00:00-08:00']]));
    const third = await reconcileDay(t.db, { provider: 'paypal', account: 'acct', date: '2026-11-24', statementFileIds: files.map((f) => String(f.statement_file_id)) });
    expect(third.version).toBe(3);
    expect(third.changes.items).toEqual([{ change: 'new', kind: 'amount_mismatch', type: 'payment', provider_txn_id: 'P1', order_id: 'INV1', ledger_id: 'pp1' }]);
    const runs = await t.db.query<{ version: number; status: string }>(`SELECT version, status FROM recon_runs WHERE provider = 'paypal' AND kind = 'daily' ORDER BY version`);
    expect(runs).toEqual([{ version: 1, status: 'superseded' }, { version: 2, status: 'superseded' }, { version: 3, status: 'completed' }]);
  });

  it('keeps the people’s status and note on an exception through reruns, with its history', async () => {
    const first = await day('alipay', '2026-11-24', [{ type: 'payment', txn: 'T-X', ref: 'X1', gross: '8.00', at: '2026-11-24T03:00:00Z' }], [
      ['ax1', 'alipay', 'payment', 'X1', 'T-X', '8.00', '', 'CNY', '2026-11-24T11:00:00+08:00'],
      ['ax2', 'alipay', 'payment', 'X2', 'T-Y', '9.00', '', 'CNY', '2026-11-24T12:00:00+08:00'],
    ]);
    const [open] = await listExceptions(t.db, { provider: 'alipay', status: 'open' });
    expect(open).toMatchObject({ kind: 'missing_in_statement', order_id: 'X2', ledger_id: 'ax2', first_seen_on: '2026-11-24', status: 'open', note: null });
    await resolveException(t.db, { id: open!.id, status: 'explained', note: 'paid by bank transfer, not through Alipay', actor: 'mei' });
    const files = await t.db.query<{ statement_file_id: string }>(`SELECT statement_file_id FROM recon_run_statements WHERE run_id = $1`, [first.runId]);
    const rerun = await reconcileDay(t.db, { provider: 'alipay', account: 'acct', date: '2026-11-24', statementFileIds: files.map((f) => String(f.statement_file_id)) });
    const rows = await discrepancyRows(t.db, rerun.runId);
    expect(rows.map((r) => [r.kind, r.ledger_id, r.exception_id, r.status, r.note])).toEqual([
      ['missing_in_statement', 'ax2', open!.id, 'explained', 'paid by bank transfer, not through Alipay'],
    ]);
    expect(await exceptionHistory(t.db, open!.id)).toEqual([
      { actor: 'recon', event: 'opened', from_status: null, to_status: 'open', note: null },
      { actor: 'mei', event: 'status', from_status: 'open', to_status: 'explained', note: 'paid by bank transfer, not through Alipay' },
      { actor: 'recon', event: 'seen again', from_status: null, to_status: 'explained', note: null },
    ]);
    await expect(resolveException(t.db, { id: open!.id, status: 'closed', note: 'x', actor: 'mei' })).rejects.toThrow('--status "closed" is not one of open, explained, resolved, written_off');
  });
});
