import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedger } from '../ledger/import.js';
import { prepareAdhocLedger } from '../reconcile/match.js';
import { RepeatedKeys } from '../reconcile/repeated-keys.js';
import { reconcileRun, reconcileRunIn, type RunRequest } from '../reconcile/run.js';
import { discrepancyRows } from '../reports/discrepancy-rows.js';
import { loadStatement } from '../storage/statements.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger, type JsonLine } from './helpers/json-statement.js';

const pairsOf = (r: RepeatedKeys) => {
  const { types, keys } = r.pairs();
  return types.map((t, i) => `${t} ${keys[i]}`);
};

describe('RepeatedKeys', () => {
  it('finds every (type, key) pair a stream repeats, once each, however large the stream grows', () => {
    const r = new RepeatedKeys();
    const repeats = new Set<string>();
    // 300,000 keys (the table doubles several times), every 1,000th seen again, some thrice.
    for (let i = 0; i < 300_000; i++) r.add('payment', `420000${i}`);
    for (let i = 0; i < 300_000; i += 1000) {
      r.add('payment', `420000${i}`);
      repeats.add(`payment 420000${i}`);
      if (i % 3000 === 0) r.add('payment', `420000${i}`);
    }
    const found = pairsOf(r);
    expect(new Set(found).size).toBe(found.length);
    for (const k of repeats) expect(found).toContain(k);
    // What else it found, only shared a 32-bit hash: a handful among 300,000 keys (~10 expected).
    expect(found.length - repeats.size).toBeLessThan(60);
  });

  it('tells types apart and skips rows without a key', () => {
    const r = new RepeatedKeys();
    r.add('payment', 'T1');
    r.add('refund', 'T1');
    r.add('payment', null);
    r.add('payment', null);
    r.add('refund', 'T1');
    expect(pairsOf(r)).toEqual(['refund T1']);
  });
});

const PERIOD: [string, string] = ['2026-11-23T16:00:00Z', '2026-11-24T16:00:00Z'];
const IN_DAY = '2026-11-24T03:00:00Z';

describe.each(BACKENDS)('copies ranked by the keys the loads found, on $name', ({ fresh }) => {
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

  /** The same statement and ledger, reconciled with the pairs their loads found and without them. */
  async function both(lines: JsonLine[], ledger: string[][]) {
    const results = [];
    for (const hinted of [true, false]) {
      n += 1;
      const st = await loadStatement(t.db, { parser: jsonParser('wechatpay'), path: writeJsonStatement(dir, `s${n}.json`, { lines, period: PERIOD }), archiveDir: `${dir}/archive` });
      const imp = await importLedger(t.db, writeLedger(dir, `l${n}.csv`, ledger.map((row) => [`${row[0]}-${n}`, ...row.slice(1)])));
      const req: RunRequest = {
        provider: 'wechatpay', kind: 'adhoc', statementFileIds: [st.id], period: { start: new Date(PERIOD[0]), end: new Date(PERIOD[1]) },
        billDate: '2026-11-24', ledgerImportId: imp.importId,
      };
      const summary = hinted
        ? await t.db.transaction(async (tx) => {
          await prepareAdhocLedger(tx, { provider: 'wechatpay', ledgerImportId: imp.importId, periodStart: req.period.start, periodEnd: req.period.end, runDate: '2026-11-24', repeated: imp.repeated });
          return reconcileRunIn(tx, req, { ledgerPrepared: true, statementRepeats: st.repeated! });
        })
        : await reconcileRun(t.db, req);
      const rows = (await discrepancyRows(t.db, summary.run_id)).map((r) => [r.kind, r.provider_txn_id, r.order_id, r.statement_amount, r.ledger_amount, r.ledger_id?.replace(/-\d+$/, '')]);
      results.push({ matched: summary.matched, discrepancies: summary.discrepancies, rows, found: { statement: st.repeated, ledger: imp.repeated } });
    }
    return results;
  }

  it('reports the same copies, pairs and differences as ranking by the tables alone', async () => {
    const [hinted, plain] = await both([
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T8', ref: 'O8', gross: '9.00' },
      { type: 'payment', txn: 'T9', ref: 'O9', gross: '3.00' },
      // A split capture: one key, two amounts; and a refund under its payment's key.
      { type: 'payment', txn: 'S1', ref: 'OS1', gross: '4.00' },
      { type: 'payment', txn: 'S1', ref: 'OS1', gross: '6.00' },
      { type: 'refund', txn: 'T9', ref: 'R9', gross: '-1.00' },
      { type: 'payment', txn: null, ref: 'N1', gross: '2.00' },
    ], [
      ['w7', 'wechatpay', 'payment', 'O8', 'T8', '9.00', '', 'CNY', IN_DAY],
      ['w8', 'wechatpay', 'payment', 'O9', 'T9', '3.00', '', 'CNY', IN_DAY],
      ['w9', 'wechatpay', 'payment', 'O9', '', '3.00', '', 'CNY', IN_DAY],
      ['w10', 'wechatpay', 'payment', 'O9', 'T9', '3.00', '', 'CNY', IN_DAY],
      ['w11', 'wechatpay', 'payment', 'OS1', 'S1', '10.00', '', 'CNY', IN_DAY],
      ['w12', 'wechatpay', 'payment', 'N1', '', '2.00', '', 'CNY', IN_DAY],
      ['w13', 'wechatpay', 'payment', 'N1', '', '2.00', '', 'CNY', IN_DAY],
    ]);
    expect(hinted!.found.statement).toEqual({ types: ['payment', 'payment'], keys: ['T8', 'S1'] });
    expect(hinted!.found.ledger).toEqual({ types: ['payment', 'payment'], keys: ['T9', 'N1'] });
    expect(hinted!.rows).toEqual(plain!.rows);
    expect([hinted!.matched, hinted!.discrepancies]).toEqual([plain!.matched, plain!.discrepancies]);
    expect(hinted!.rows.filter((r) => r[0] === 'duplicate_in_statement')).toHaveLength(2);
    expect(hinted!.rows.filter((r) => r[0] === 'duplicate_in_ledger').map((r) => r[5])).toEqual(['w9', 'w10', 'w13']);
  });
});
