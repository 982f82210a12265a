import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvField, textField } from '../db/database.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';

describe.each(BACKENDS)('database on $name', ({ fresh }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await fresh();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('keeps numeric values exact and returns them as strings', async () => {
    const rows = await t.db.query<{ a: string; b: boolean }>(`SELECT 0.60::numeric(24,6) AS a, 0.60::numeric = 0.60000::numeric AS b`);
    expect(rows[0]).toEqual({ a: '0.600000', b: true });
  });

  it('loads rows with COPY inside a transaction and rolls them back with it', async () => {
    await t.db.query(`CREATE TABLE copy_probe (a text, b numeric(24,6))`);
    const rows = Array.from({ length: 45_000 }, (_, i) => [`k,"${i}"`, i % 3 === 0 ? null : `${i}.5`]);
    const n = await t.db.transaction((tx) => tx.copyFrom('copy_probe', ['a', 'b'], rows));
    expect(n).toBe(45_000);
    const [agg] = await t.db.query<{ n: number; s: string; first: string }>(
      `SELECT count(*)::int AS n, sum(b)::text AS s, min(a) FILTER (WHERE b = 1.5) AS first FROM copy_probe`,
    );
    expect(agg).toEqual({ n: 45_000, s: '675015000.000000', first: 'k,"1"' });
    await expect(
      t.db.transaction(async (tx) => {
        await tx.copyFrom('copy_probe', ['a', 'b'], [['x', '1']]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const [after] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM copy_probe`);
    expect(after!.n).toBe(45_000);
  });

  it('writes every awkward value through COPY unchanged, in CSV and in text format', async () => {
    // Multi-byte text (Chinese, an emoji's surrogate pair) and values longer than a COPY chunk cross
    // the chunk boundaries that the lines are encoded into.
    const awkward = ['', ' padded ', 'tab\there', 'line\nbreak', 'cr\rhere', 'back\\slash', '\\.', '\\N', 'quote " and , comma', '{"k":"v\\"q"}', '微信支付',
      '🧾 receipt', '费'.repeat(40_000), 'x'.repeat(70_000) + '😀'];
    await t.db.query(`CREATE TABLE copy_awkward (i integer, v text)`);
    await t.db.transaction(async (tx) => {
      await tx.copyFrom('copy_awkward', ['i', 'v'], [...awkward.map((v, i) => [String(i), v]), ['100', null]]);
      await tx.copyFromLines('copy_awkward', ['i', 'v'], [...awkward.map((v, i) => `${i + 200}\t${textField(v)}\n`), `300\t${textField(null)}\n`], 'text');
      await tx.copyFromLines('copy_awkward', ['i', 'v'], awkward.map((v, i) => `${i + 400},${csvField(v)}\n`));
    });
    const rows = await t.db.query<{ i: number; v: string | null }>(`SELECT i, v FROM copy_awkward ORDER BY i`);
    const byI = new Map(rows.map((r) => [r.i, r.v]));
    awkward.forEach((v, i) => {
      expect(byI.get(i)).toBe(v);
      expect(byI.get(i + 200)).toBe(v);
      expect(byI.get(i + 400)).toBe(v);
    });
    expect(byI.get(100)).toBeNull();
    expect(byI.get(300)).toBeNull();
    expect(rows).toHaveLength(awkward.length * 3 + 2);
  });

  it('ids come back as text, never as JS numbers', async () => {
    const [row] = await t.db.query<{ id: unknown }>(`INSERT INTO ledger_imports (file_name, sha256, row_count) VALUES ('x', repeat('0',64), 0) RETURNING id`);
    expect(typeof row!.id).toBe('string');
  });
});
