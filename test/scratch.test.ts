import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database.js';
import { importLedger } from '../ledger/import.js';
import { reconcileRun } from '../reconcile/run.js';
import { createScratchTable } from '../reconcile/scratch.js';
import { loadStatement } from '../storage/statements.js';
import { SERVER_URL, freshPostgres, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger } from './helpers/json-statement.js';

const PERIOD: [string, string] = ['2026-11-23T16:00:00Z', '2026-11-24T16:00:00Z'];
const IN_DAY = '2026-11-24T10:00:00+08:00';

async function admin<T>(fn: (c: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const u = new URL(SERVER_URL);
  if (database) u.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

// The run's scratch tables go to a schema of its own where the role may create one (every other test
// runs so); a role that may not gets temporary tables, and the run is the same.
describe('matching as a role that may not create schemas', () => {
  const role = `recon_noschema_${randomBytes(4).toString('hex')}`;
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await freshPostgres();
    const name = new URL(t.url!).pathname.slice(1);
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${role} LOGIN`);
      await c.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await c.query(`GRANT ALL ON ALL TABLES IN SCHEMA public TO ${role}`);
      await c.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    }, name);
    const u = new URL(t.url!);
    u.username = role;
    db = await openDatabase({ url: u.toString() });
  });
  afterAll(async () => {
    await db?.close();
    await t?.drop();
    await admin((c) => c.query(`DROP ROLE IF EXISTS ${role}`));
  });

  it('reconciles with temporary scratch tables, and leaves no schema behind', async () => {
    const [can] = await db.query<{ create: boolean }>(`SELECT has_database_privilege(current_database(), 'CREATE') AS create`);
    expect(can!.create).toBe(false);
    const dir = tempDir();
    const st = await loadStatement(db, {
      parser: jsonParser('wechatpay'),
      path: writeJsonStatement(dir, 's.json', { lines: [
        { type: 'payment', txn: 'T1', ref: 'O1', gross: '10.00', fee: '0.06' },
        { type: 'payment', txn: 'T2', ref: 'O2', gross: '20.00', fee: '0.12' },
      ], period: PERIOD }),
      archiveDir: `${dir}/archive`,
    });
    const imp = await importLedger(db, writeLedger(dir, 'l.csv', [
      ['w1', 'wechatpay', 'payment', 'O1', 'T1', '10.00', '0.06', 'CNY', IN_DAY],
      ['w2', 'wechatpay', 'payment', 'O2', 'T2', '21.00', '0.12', 'CNY', IN_DAY],
    ]));
    const summary = await reconcileRun(db, {
      provider: 'wechatpay', kind: 'adhoc', statementFileIds: [st.id], period: { start: new Date(PERIOD[0]), end: new Date(PERIOD[1]) },
      billDate: '2026-11-24', ledgerImportId: imp.importId,
    });
    expect(summary.matched).toBe(2);
    expect(summary.matched_by_rule).toEqual({ 'exact:txn': 2 });
    expect(summary.discrepancies.amount_mismatch).toBe(1);
    const [schemas] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'recon_scratch_%'`);
    expect(schemas!.n).toBe(0);
  });
});

describe('two runs at once', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await freshPostgres();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('two open transactions each have their own rs under the same short name', async () => {
    let aMade!: () => void;
    let bRead!: () => void;
    const made = new Promise<void>((resolve) => (aMade = resolve));
    const read = new Promise<void>((resolve) => (bRead = resolve));
    const a = t.db.transaction(async (tx) => {
      await tx.query(`${await createScratchTable(tx, 'rs')} AS SELECT 1 AS x`);
      aMade();
      await read; // b has made and read its own rs meanwhile
      return tx.query<{ x: number }>(`SELECT x FROM rs`);
    });
    const b = t.db.transaction(async (tx) => {
      await made;
      await tx.query(`${await createScratchTable(tx, 'rs')} AS SELECT 2 AS x`);
      const rows = await tx.query<{ x: number }>(`SELECT x FROM rs`);
      bRead();
      return rows;
    });
    expect(await Promise.all([a, b])).toEqual([[{ x: 1 }], [{ x: 2 }]]);
    const [schemas] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'recon_scratch_%'`);
    expect(schemas!.n).toBe(0);
  });

  it('two runs side by side both pair everything, and leave no schema behind', async () => {
    const dir = tempDir();
    const day = async (n: number) => {
      const st = await loadStatement(t.db, {
        parser: jsonParser('wechatpay'),
        path: writeJsonStatement(dir, `s${n}.json`, { lines: [
          { type: 'payment', txn: `A${n}`, ref: `OA${n}`, gross: '10.00' },
          { type: 'payment', txn: `B${n}`, ref: `OB${n}`, gross: '20.00' },
        ], period: PERIOD }),
        archiveDir: `${dir}/archive`,
      });
      const imp = await importLedger(t.db, writeLedger(dir, `l${n}.csv`, [
        [`a${n}`, 'wechatpay', 'payment', `OA${n}`, `A${n}`, '10.00', '', 'CNY', IN_DAY],
        [`b${n}`, 'wechatpay', 'payment', `OB${n}`, `B${n}`, '20.00', '', 'CNY', IN_DAY],
      ]));
      return { provider: 'wechatpay', kind: 'adhoc' as const, statementFileIds: [st.id], period: { start: new Date(PERIOD[0]), end: new Date(PERIOD[1]) }, billDate: '2026-11-24', ledgerImportId: imp.importId };
    };
    const [r1, r2] = await Promise.all([day(1), day(2)]);
    const [s1, s2] = await Promise.all([reconcileRun(t.db, r1), reconcileRun(t.db, r2)]);
    expect([s1.matched, s2.matched]).toEqual([2, 2]);
    expect(Object.values(s1.discrepancies).concat(Object.values(s2.discrepancies)).every((n) => n === 0)).toBe(true);
    const [schemas] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'recon_scratch_%'`);
    expect(schemas!.n).toBe(0);
  });
});

