import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedger } from '../ledger/import.js';
import { reconcileRun, type RunSummary } from '../reconcile/run.js';
import type { MatchRule } from '../reconcile/rules.js';
import { discrepancyRowPages, discrepancyRows, rowsOf, type DiscrepancyRow } from '../reports/discrepancy-rows.js';
import { feeCheckRows } from '../reports/fee-rows.js';
import { loadStatement } from '../storage/statements.js';
import type { ProviderId } from '../parsers/contract.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger, type JsonLine } from './helpers/json-statement.js';

// One China day: 2026-11-24 00:00 to 2026-11-25 00:00 Asia/Shanghai.
const PERIOD: [string, string] = ['2026-11-23T16:00:00Z', '2026-11-24T16:00:00Z'];
const IN_DAY = '2026-11-24T10:00:00+08:00';
const OUTSIDE_DAY = '2026-11-26T10:00:00+08:00';

describe.each(BACKENDS)('matching on $name', ({ fresh }) => {
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

  async function run(provider: ProviderId, lines: JsonLine[], ledger: string[][]): Promise<{ summary: RunSummary; rows: DiscrepancyRow[] }> {
    n += 1;
    const parser = jsonParser(provider);
    const st = await loadStatement(t.db, { parser, path: writeJsonStatement(dir, `s${n}.json`, { lines, period: PERIOD }), archiveDir: `${dir}/archive` });
    const imp = await importLedger(t.db, writeLedger(dir, `l${n}.csv`, ledger));
    const summary = await reconcileRun(t.db, {
      provider, kind: 'adhoc', statementFileIds: [st.id], period: { start: new Date(PERIOD[0]), end: new Date(PERIOD[1]) },
      billDate: '2026-11-24', ledgerImportId: imp.importId,
    });
    return { summary, rows: await discrepancyRows(t.db, summary.run_id) };
  }
  const brief = (rows: DiscrepancyRow[]) => rows.map((r) => [r.kind, r.provider_txn_id, r.order_id, r.statement_amount, r.ledger_amount, r.statement_fee, r.ledger_fee, r.ledger_id]);

  it('reads a run\'s discrepancies a page at a time, in the same order as all at once', async () => {
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'P1', ref: 'PO1', gross: '10.00' },
      { type: 'payment', txn: 'P2', ref: 'PO2', gross: '20.00' },
      { type: 'payment', txn: 'P3', ref: 'PO3', gross: '30.00' },
    ], [
      [`p4-${n}`, 'wechatpay', 'payment', 'PO4', 'P4', '40.00', '', 'CNY', IN_DAY],
      [`p5-${n}`, 'wechatpay', 'payment', 'PO5', 'P5', '50.00', '', 'CNY', IN_DAY],
    ]);
    expect(rows.map((r) => r.order_id)).toEqual(['PO1', 'PO2', 'PO3', 'PO4', 'PO5']);
    const pages: DiscrepancyRow[][] = [];
    for await (const page of discrepancyRowPages(t.db, summary.run_id, 2)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(rows);
    const streamed: DiscrepancyRow[] = [];
    for await (const row of rowsOf(discrepancyRowPages(t.db, summary.run_id, 5))) streamed.push(row);
    expect(streamed).toEqual(rows);
  });

  it('pairs by provider id and compares decimals exactly (0.60 equals 0.60000)', async () => {
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'T1', ref: 'O1', gross: '100.00', fee: '0.60000' },
      { type: 'refund', txn: 'R1', parent: 'T1', ref: 'RF1', order: 'O1', gross: '-30.00', fee: '-0.18000' },
    ], [
      [`w1-${n}`, 'wechatpay', 'payment', 'O1', 'T1', '100.00', '0.60', 'CNY', IN_DAY],
      [`w2-${n}`, 'wechatpay', 'refund', 'RF1', 'R1', '30', '-0.18', 'CNY', IN_DAY],
    ]);
    expect(rows).toEqual([]);
    expect(summary.matched).toBe(2);
    expect(summary.matched_by_rule).toEqual({ 'exact:txn': 2 });
    expect(summary.totals.CNY).toEqual({ statement_gross: '70.00', statement_fee: '0.42', statement_net: '69.58', ledger_amount: '70.00' });
  });

  it('leaves no scratch tables behind, whether the run commits or fails', async () => {
    const scratch = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'recon_scratch_%'`))[0]!.n;
    const { summary } = await run('wechatpay', [{ type: 'payment', txn: 'S1', ref: 'SO1', gross: '5.00' }], [
      [`s1-${n}`, 'wechatpay', 'payment', 'SO1', 'S1', '5.00', '', 'CNY', IN_DAY],
    ]);
    expect(summary.matched).toBe(1);
    expect(await scratch()).toBe(0);
    // A run that fails after its scratch tables were made (its second rule names no key): the rollback takes them away.
    const runs = async () => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM recon_runs`))[0]!.n;
    const before = await runs();
    const [file] = await t.db.query<{ id: string }>(`SELECT max(statement_file_id)::text AS id FROM recon_run_statements WHERE run_id = $1`, [summary.run_id]);
    const rules = [{ id: 'exact:txn', shape: 'one_to_one', key: 'txn' }, { id: 'broken', shape: 'one_to_one', key: 'no such key' }] as unknown as MatchRule[];
    await expect(reconcileRun(t.db, {
      provider: 'wechatpay', kind: 'adhoc', statementFileIds: [file!.id], period: { start: new Date(PERIOD[0]), end: new Date(PERIOD[1]) },
      billDate: '2026-11-24', ledgerImportId: null, rules,
    })).rejects.toThrow();
    expect(await scratch()).toBe(0);
    expect(await runs()).toBe(before);
  });

  it('tells Alipay partial refunds of one trade apart by their refund request numbers', async () => {
    const { summary, rows } = await run('alipay', [
      { type: 'payment', txn: '2026112422001', ref: 'ORD9', gross: '50.00' },
      { type: 'refund', txn: '2026112422001', parent: '2026112422001', ref: 'REQ1', order: 'ORD9', gross: '-10.00' },
      { type: 'refund', txn: '2026112422001', parent: '2026112422001', ref: 'REQ2', order: 'ORD9', gross: '-15.00' },
    ], [
      ['a1', 'alipay', 'payment', 'ORD9', '2026112422001', '50.00', '', 'CNY', IN_DAY],
      ['a2', 'alipay', 'refund', 'REQ2', '2026112422001', '15.00', '', 'CNY', IN_DAY],
      ['a3', 'alipay', 'refund', 'REQ1', '', '11.00', '', 'CNY', IN_DAY],
    ]);
    expect(summary.matched).toBe(3);
    expect(summary.matched_by_rule).toEqual({ 'exact:txn': 2, 'exact:merchant_ref': 1 });
    expect(brief(rows)).toEqual([['amount_mismatch', '2026112422001', 'REQ1', '-10.00', '-11.00', '0.00', '', 'a3']]);
    expect(rows[0]!.difference).toBe('1.00');
  });

  it('reports amount and fee differences of one pair as two rows, and currency differences alone', async () => {
    const { rows } = await run('wechatpay', [
      { type: 'payment', txn: 'T2', ref: 'O2', gross: '20.00', fee: '0.12' },
      { type: 'payment', txn: 'T3', ref: 'O3', gross: '20.00', fee: '0.12', currency: 'USD' },
    ], [
      ['w3', 'wechatpay', 'payment', 'O2', 'T2', '21.00', '0.13', 'CNY', IN_DAY],
      ['w4', 'wechatpay', 'payment', 'O3', 'T3', '99.00', '0.99', 'CNY', IN_DAY],
    ]);
    expect(brief(rows)).toEqual([
      ['amount_mismatch', 'T2', 'O2', '20.00', '21.00', '0.12', '0.13', 'w3'],
      ['fee_mismatch', 'T2', 'O2', '20.00', '21.00', '0.12', '0.13', 'w3'],
      ['currency_mismatch', 'T3', 'O3', '20.00', '99.00', '0.12', '0.99', 'w4'],
    ]);
    expect(rows[2]!.currency).toBe('USD');
    expect(rows[2]!.ledger_currency).toBe('CNY');
  });

  it('finds one-sided rows, and a ledger row is missing only when booked inside the period', async () => {
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'T4', ref: 'O4', gross: '5.00' },
    ], [
      ['w5', 'wechatpay', 'payment', 'O5', 'T5', '6.00', '', 'CNY', IN_DAY],
      ['w6', 'wechatpay', 'payment', 'O6', 'T6', '7.00', '', 'CNY', OUTSIDE_DAY],
      ['p1', 'paypal', 'payment', 'O7', 'T7', '8.00', '', 'USD', IN_DAY],
    ]);
    expect(brief(rows)).toEqual([
      ['missing_in_ledger', 'T4', 'O4', '5.00', '', '0.00', '', ''],
      ['missing_in_statement', 'T5', 'O5', '', '6.00', '', '', 'w5'],
    ]);
    expect(summary.ledger_rows).toBe(1);
    expect(summary.discrepancies).toEqual({
      missing_in_ledger: 1, missing_in_statement: 1, amount_mismatch: 0, fee_mismatch: 0,
      currency_mismatch: 0, duplicate_in_statement: 0, duplicate_in_ledger: 0,
    });
  });

  it('reports each further copy once, on either side, and never as missing', async () => {
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T9', ref: 'O9', gross: '3.00' },
    ], [
      ['w7', 'wechatpay', 'payment', 'O8', 'T8', '9.00', '', 'CNY', IN_DAY],
      ['w8', 'wechatpay', 'payment', 'O9', 'T9', '3.00', '', 'CNY', IN_DAY],
      ['w9', 'wechatpay', 'payment', 'O9', '', '3.00', '', 'CNY', IN_DAY],
      ['w10', 'wechatpay', 'payment', 'O9', 'T9', '3.00', '', 'CNY', IN_DAY],
    ]);
    expect(brief(rows)).toEqual([
      ['duplicate_in_statement', 'T8', 'O8', '9.00', '', '0.00', '', ''],
      ['duplicate_in_statement', 'T8', 'O8', '9.00', '', '0.00', '', ''],
      ['duplicate_in_ledger', '', 'O9', '', '3.00', '', '', 'w9'],
      ['duplicate_in_ledger', 'T9', 'O9', '', '3.00', '', '', 'w10'],
    ]);
    expect(summary.matched).toBe(2);
  });

  it('pairs a provider id that another line carries as its reference, on both sides', async () => {
    // Both lines (and both rows) share a copy key (K1): the provider id still names one of each.
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'K1', ref: 'O1', gross: '5.00' },
      { type: 'payment', txn: null, ref: 'K1', gross: '6.00' },
    ], [
      [`k1-${n}`, 'wechatpay', 'payment', 'O1', 'K1', '5.00', '', 'CNY', IN_DAY],
      [`k2-${n}`, 'wechatpay', 'payment', 'K1', '', '6.00', '', 'CNY', IN_DAY],
    ]);
    expect(rows).toEqual([]);
    expect(summary.matched_by_rule).toEqual({ 'exact:txn': 1, 'exact:merchant_ref': 1 });
  });

  it('never guesses between several candidates that share a reference', async () => {
    const { summary, rows } = await run('alipay', [
      { type: 'refund', txn: 'TR1', parent: 'TR1', ref: '1', order: 'A', gross: '-1.00' },
      { type: 'refund', txn: 'TR2', parent: 'TR2', ref: '1', order: 'B', gross: '-1.00' },
    ], [['a9', 'alipay', 'refund', '1', '', '1.00', '', 'CNY', IN_DAY]]);
    expect(summary.matched).toBe(0);
    expect(rows.map((r) => r.kind)).toEqual(['missing_in_ledger', 'missing_in_ledger', 'missing_in_statement']);
  });

  it('pairs a refund booked under its payment id; several against one payment pair as a group, compared on the sum', async () => {
    const { summary, rows } = await run('adyen', [
      { type: 'payment', txn: 'PSP1', ref: 'M1', gross: '10.00', currency: 'EUR' },
      { type: 'refund', txn: 'PSPR1', parent: 'PSP1', ref: 'M1', gross: '-4.00', currency: 'EUR' },
      { type: 'refund', txn: 'PSPR2', parent: 'PSP2', ref: 'M2', gross: '-1.00', currency: 'EUR' },
      { type: 'refund', txn: 'PSPR3', parent: 'PSP2', ref: 'M2', gross: '-2.00', currency: 'EUR' },
    ], [
      ['d1', 'adyen', 'payment', 'M1', 'PSP1', '10.00', '', 'EUR', IN_DAY],
      ['d2', 'adyen', 'refund', '', 'PSP1', '4.00', '', 'EUR', IN_DAY],
      ['d3', 'adyen', 'refund', '', 'PSP2', '1.00', '', 'EUR', IN_DAY],
    ]);
    expect(summary.matched_by_rule).toEqual({ 'exact:parent_txn': 1, 'exact:txn': 1, 'group:parent_txn': 2 });
    expect(rows.map((r) => [r.kind, r.provider_txn_id, r.statement_amount, r.ledger_amount, r.ledger_id])).toEqual([
      ['amount_mismatch', 'PSPR2', '-3.00', '-1.00', 'd3'],
    ]);
  });

  it('compares a ledger row in the customer’s currency with the original amount of a converted line', async () => {
    const { rows } = await run('adyen', [
      { type: 'payment', txn: 'FX1', gross: '9.20', fee: '0.20', currency: 'EUR', original: ['10.00', 'USD'] },
      { type: 'payment', txn: 'FX2', gross: '9.20', fee: '0.20', currency: 'EUR', original: ['10.00', 'USD'] },
      { type: 'payment', txn: 'FX3', gross: '9.20', fee: '0.20', currency: 'EUR', original: ['10.00', 'USD'] },
    ], [
      ['f1', 'adyen', 'payment', '', 'FX1', '10.00', '0.99', 'USD', IN_DAY],
      ['f2', 'adyen', 'payment', '', 'FX2', '10.50', '', 'USD', IN_DAY],
      ['f3', 'adyen', 'payment', '', 'FX3', '10.00', '', 'GBP', IN_DAY],
    ]);
    expect(rows.map((r) => [r.kind, r.provider_txn_id, r.currency, r.statement_amount, r.ledger_amount])).toEqual([
      ['amount_mismatch', 'FX2', 'USD', '10.00', '10.50'],
      ['currency_mismatch', 'FX3', 'EUR', '9.20', '10.00'],
    ]);
  });

  it('pairs a split capture (1:N) and a payment booked in parts (N:1) on their sums', async () => {
    const { summary, rows } = await run('adyen', [
      { type: 'payment', txn: 'SPLIT1', ref: 'M10', gross: '60.00', currency: 'EUR' },
      { type: 'payment', txn: 'SPLIT1', ref: 'M10', gross: '40.00', currency: 'EUR', at: '2026-11-24T05:00:00Z' },
      { type: 'payment', txn: 'PARTS1', ref: 'M11', gross: '30.00', currency: 'EUR' },
      { type: 'payment', txn: 'SPLIT2', ref: 'M12', gross: '10.00', currency: 'EUR' },
      { type: 'payment', txn: 'SPLIT2', ref: 'M12', gross: '5.00', currency: 'EUR', at: '2026-11-24T05:00:00Z' },
    ], [
      ['sp1', 'adyen', 'payment', 'M10', 'SPLIT1', '100.00', '', 'EUR', IN_DAY],
      ['pa1', 'adyen', 'payment', 'M11', 'PARTS1', '20.00', '', 'EUR', IN_DAY],
      ['pa2', 'adyen', 'payment', 'M11', 'PARTS1', '10.00', '', 'EUR', IN_DAY],
      ['sp2', 'adyen', 'payment', 'M12', 'SPLIT2', '16.00', '', 'EUR', IN_DAY],
    ]);
    expect(summary.matched_by_rule).toEqual({ 'group:txn': 5 });
    expect(rows.map((r) => [r.kind, r.provider_txn_id, r.statement_amount, r.ledger_amount])).toEqual([['amount_mismatch', 'SPLIT2', '15.00', '16.00']]);
  });

  it('keeps the fee check of its pairs with the run, equal to what its matches give', async () => {
    const { summary } = await run('wechatpay', [
      { type: 'payment', txn: 'FC1', ref: 'F1', gross: '100.00', fee: '0.60' },
      { type: 'payment', txn: 'FC2', ref: 'F2', gross: '50.00', fee: '0.31' },
      { type: 'payment', txn: 'FC3', ref: 'F3', gross: '20.00', fee: '0.12' },
      { type: 'payment', txn: 'FC4', ref: 'F4', gross: '6.00', fee: '0.04' },
      { type: 'payment', txn: 'FC4', ref: 'F4', gross: '4.00', fee: '0.02', at: '2026-11-24T05:00:00Z' },
      { type: 'refund', txn: 'FR1', parent: 'FC1', ref: 'FRF1', order: 'F1', gross: '-10.00', fee: '-0.06' },
    ], [
      [`fc1-${n}`, 'wechatpay', 'payment', 'F1', 'FC1', '100.00', '0.60', 'CNY', IN_DAY],
      [`fc2-${n}`, 'wechatpay', 'payment', 'F2', 'FC2', '50.00', '0.30', 'CNY', IN_DAY],
      [`fc3-${n}`, 'wechatpay', 'payment', 'F3', 'FC3', '20.00', '', 'CNY', IN_DAY],
      [`fc4-${n}`, 'wechatpay', 'payment', 'F4', 'FC4', '10.00', '0.06', 'CNY', IN_DAY],
      [`fr1-${n}`, 'wechatpay', 'refund', 'FRF1', 'FR1', '10.00', '-0.06', 'CNY', IN_DAY],
    ]);
    const stored = await feeCheckRows(t.db, summary.run_id);
    expect(stored).toEqual([
      { currency: 'CNY', type: 'payment', pairs: 4, statement_fee: '0.970000', ledger_fee: '1.020000', mismatches: 3 },
      { currency: 'CNY', type: 'refund', pairs: 1, statement_fee: '-0.060000', ledger_fee: '-0.060000', mismatches: 0 },
    ]);
    // A run from before runs kept their fee check: the same figures from its matches.
    await t.db.query(`UPDATE recon_runs SET fee_checks = NULL WHERE id = $1`, [summary.run_id]);
    expect(await feeCheckRows(t.db, summary.run_id)).toEqual(stored);
  });

  it('proposes, and never makes, a match within tolerance for review', async () => {
    const { summary, rows } = await run('wechatpay', [
      { type: 'payment', txn: 'TOL1', ref: 'TO1', gross: '99.99' },
      { type: 'payment', txn: 'TOL2', ref: 'TO2', gross: '50.00' },
    ], [
      ['tl1', 'wechatpay', 'payment', 'TOX1', 'TOLX1', '100.00', '', 'CNY', IN_DAY],
      ['tl2', 'wechatpay', 'payment', 'TOX2', 'TOLX2', '57.00', '', 'CNY', IN_DAY],
    ]);
    expect(summary.matched).toBe(0);
    expect(rows.map((r) => [r.kind, r.provider_txn_id, r.proposal])).toEqual([
      ['missing_in_ledger', 'TOL1', 'tolerance:amount_date: ledger row tl1 (difference -0.01)'],
      ['missing_in_ledger', 'TOL2', ''],
      ['missing_in_statement', 'TOLX1', 'tolerance:amount_date: statement line TOL1 (difference -0.01)'],
      ['missing_in_statement', 'TOLX2', ''],
    ]);
  });

  it('loads the same statement bytes once', async () => {
    const parser = jsonParser('wechatpay');
    const path = writeJsonStatement(dir, 'again.json', { lines: [{ type: 'payment', txn: 'X', gross: '1.00' }], period: PERIOD });
    const a = await loadStatement(t.db, { parser, path, archiveDir: `${dir}/archive` });
    const b = await loadStatement(t.db, { parser, path, archiveDir: `${dir}/archive` });
    expect(b.id).toBe(a.id);
    expect(b.alreadyLoaded).toBe(true);
    const [c] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM statement_lines WHERE statement_file_id = $1`, [a.id]);
    expect(c!.n).toBe(1);
  });

  it('leaves nothing behind from a rejected statement', async () => {
    const parser = jsonParser('wechatpay');
    const path = writeJsonStatement(dir, 'bad.json', { lines: [{ type: 'payment', txn: 'BAD1', gross: '1.00' }], reject: true });
    await expect(loadStatement(t.db, { parser, path, archiveDir: `${dir}/archive` })).rejects.toThrow('test rejection');
    const [c] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM statement_lines WHERE provider_txn_id = 'BAD1'`);
    const [f] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM statement_files WHERE original_name = 'bad.json'`);
    expect([c!.n, f!.n]).toEqual([0, 0]);
  });
});
