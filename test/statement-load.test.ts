import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Decimal } from '../core/money/index.js';
import { collect } from '../parsers/common/parsed-statement.js';
import { wechatpayParser } from '../parsers/wechatpay/index.js';
import { alipayParser } from '../parsers/alipay/index.js';
import type { StatementParser } from '../parsers/contract.js';
import { feeRows, loadedFeeRows } from '../reports/fee-rows.js';
import { ANALYZE_AFTER_ROWS } from '../db/database.js';
import { importLedger } from '../ledger/import.js';
import { loadStatement } from '../storage/statements.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger } from './helpers/json-statement.js';

describe.each(BACKENDS)('statement load on $name', ({ fresh }) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await fresh();
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('stores each line\'s extra fields and instant exactly as the parser gave them', async () => {
    // Values that JSON or COPY must escape, beside plain ones and repeated keys and instants.
    const extras: Record<string, string>[] = [
      { 费率: '0.60%', 商户号: '1900000109', 商户数据包: 'table=7' },
      { 费率: '0.38%', 商户数据包: 'say "hi"', 退款原因: 'back\\slash', 备注: 'tab\there\nnew line\r' },
      { 'key "quoted"': 'emoji 😀 and ，中文', 'back\\slash key': '\u0001\u001f' },
      {},
      { 费率: '0.60%', 商户号: '1900000109', 商户数据包: 'table=8' },
    ];
    const ats = ['2026-11-24T04:00:00.000Z', '2026-11-24T04:00:00.000Z', '2026-11-24T04:00:01.500Z', '2026-11-24T04:00:00.000Z', '2026-11-24T04:00:00.000Z'];
    const dir = tempDir();
    const path = writeJsonStatement(dir, 's.json', {
      lines: extras.map((extra, i) => ({ type: 'payment' as const, txn: `T${i}`, gross: '1.00', at: ats[i]!, extra })),
    });
    const st = await loadStatement(t.db, { parser: jsonParser('alipay'), path, archiveDir: join(dir, 'archive') });
    const rows = await t.db.query<{ extra: Record<string, string> | null; at: Date }>(
      `SELECT extra::json AS extra, occurred_at AS at FROM statement_lines WHERE statement_file_id = $1 ORDER BY line_no`,
      [st.id],
    );
    expect(rows.map((r) => r.extra)).toEqual([...extras.slice(0, 3), null, extras[4]]);
    expect(rows.map((r) => r.at.toISOString())).toEqual(ats);
  });

  it("keeps a WeChat Pay bill's amounts as the parser read them, and the table's net is gross - fee", async () => {
    // The trade bill's lines carry their numerals (NumeralLine), written to COPY as the file has them.
    const path = fileURLToPath(new URL('../fixtures/wechatpay/all-bom-crlf.csv', import.meta.url));
    const { lines } = await collect(wechatpayParser.parse({ path }));
    const dir = tempDir();
    const st = await loadStatement(t.db, { parser: wechatpayParser, path, archiveDir: join(dir, 'archive') });
    const rows = await t.db.query<{ type: string; gross: string; fee: string; net: string }>(
      `SELECT type, gross::text, fee::text, net::text FROM statement_lines WHERE statement_file_id = $1 ORDER BY line_no`,
      [st.id],
    );
    const six = (d: Decimal) => d.toFixed(6);
    expect(rows).toEqual(lines.map((l) => ({ type: l.type, gross: six(l.gross), fee: six(l.fee), net: six(l.net) })));
    expect(rows.some((r) => r.type === 'refund' && r.gross.startsWith('-'))).toBe(true);
    expect(rows.some((r) => !/^-?\d+\.\d\d0000$/.test(r.fee))).toBe(true); // a fee with more than two decimals
  });

  it('counts each load\'s lines by currency, type, method and wallet exactly as summing the stored lines does', async () => {
    const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
    const dir = tempDir();
    const load = (parser: StatementParser, path: string) => loadStatement(t.db, { parser, path, archiveDir: join(dir, 'archive') });
    // Two WeChat Pay bills (their numerals added as text, groups in common) and an Alipay one (Decimals).
    const all = await load(wechatpayParser, fixture('wechatpay/all.csv.gz'));
    const refunds = await load(wechatpayParser, fixture('wechatpay/refund.csv'));
    const alipay = await load(alipayParser, fixture('alipay/20880211096256330156_20190917_业务明细.csv'));
    for (const st of [all, refunds, alipay]) {
      expect(st.tally).not.toBeNull();
      expect(st.tally).toEqual(await feeRows(t.db, [st.id]));
    }
    expect(all.tally!.some((r) => r.type === 'refund') && refunds.tally!.some((r) => r.type === 'refund')).toBe(true);
    expect(await loadedFeeRows(t.db, [all, refunds, alipay])).toEqual(await feeRows(t.db, [all.id, refunds.id, alipay.id]));
    // Loaded before: nothing counted here, so the stored lines are summed.
    const again = await load(wechatpayParser, fixture('wechatpay/all.csv.gz'));
    expect([again.alreadyLoaded, again.tally]).toEqual([true, null]);
    expect(await loadedFeeRows(t.db, [again])).toEqual(all.tally);
  });

  it('counts nothing for a statement with an amount finer than the table keeps, whose stored lines are summed instead', async () => {
    const dir = tempDir();
    const path = writeJsonStatement(dir, 's.json', {
      lines: [{ type: 'payment' as const, txn: 'P1', gross: '1.0000004', at: '2026-11-24T04:00:00.000Z' }, { type: 'payment' as const, txn: 'P2', gross: '2.00', fee: '0.0000004' }],
    });
    const st = await loadStatement(t.db, { parser: jsonParser('alipay'), path, archiveDir: join(dir, 'archive') });
    expect(st.tally).toBeNull();
    const [row] = await loadedFeeRows(t.db, [st]);
    expect([row!.lines, row!.gross, row!.fee, row!.net]).toEqual([2, '3.000000', '0.000000', '3.000000']);
  });

  it('loads a file again whose earlier load left its row unfinished, with each line once, numbered from 1', async () => {
    const dir = tempDir();
    const path = writeJsonStatement(dir, 's.json', {
      lines: ['1.00', '2.00', '3.00'].map((gross, i) => ({ type: 'payment' as const, txn: `U${i}`, gross, at: '2026-11-24T04:00:00.000Z' })),
    });
    const first = await loadStatement(t.db, { parser: jsonParser('alipay'), path, archiveDir: join(dir, 'archive') });
    // As an interrupted load would leave it: the file row without loaded_at (here with its lines still in).
    await t.db.query(`UPDATE statement_files SET loaded_at = NULL WHERE id = $1`, [first.id]);
    const again = await loadStatement(t.db, { parser: jsonParser('alipay'), path, archiveDir: join(dir, 'archive') });
    expect([again.id, again.alreadyLoaded, again.lineCount]).toEqual([first.id, false, 3]);
    const rows = await t.db.query<{ line_no: number; txn: string }>(
      `SELECT line_no, provider_txn_id AS txn FROM statement_lines WHERE statement_file_id = $1 ORDER BY line_no`,
      [first.id],
    );
    expect(rows.map((r) => [r.line_no, r.txn])).toEqual([[1, 'U0'], [2, 'U1'], [3, 'U2']]);
  });

  it('refreshes the statistics that runs plan by after a large load', async () => {
    const dir = tempDir();
    const n = ANALYZE_AFTER_ROWS;
    const lines = Array.from({ length: n }, (_, i) => ({ type: (i % 10 === 9 ? 'refund' : 'payment') as 'payment' | 'refund', txn: `S${i}`, ref: `R${i}`, gross: '1.00' }));
    await loadStatement(t.db, { parser: jsonParser('alipay'), path: writeJsonStatement(dir, 'big.json', { lines }), archiveDir: join(dir, 'archive') });
    await importLedger(t.db, writeLedger(dir, 'big.csv', lines.map((l, i) => [`B${i}`, 'alipay', l.type, l.ref, l.txn, '1.00', '', 'CNY', '2026-11-24T10:00:00+08:00'])));
    const stats = await t.db.query<{ tablename: string; attname: string }>(
      `SELECT tablename::text, attname::text FROM pg_stats
        WHERE tablename IN ('statement_lines', 'ledger_entries') AND attname IN ('type', 'statement_file_id', 'import_id', 'booked_at')
        ORDER BY 1, 2`,
    );
    expect(stats.map((r) => `${r.tablename}.${r.attname}`)).toEqual([
      'ledger_entries.booked_at', 'ledger_entries.import_id', 'ledger_entries.type', 'statement_lines.statement_file_id', 'statement_lines.type',
    ]);
    const [planned] = await t.db.query<{ reltuples: number }>(`SELECT reltuples::int AS reltuples FROM pg_class WHERE relname = 'statement_lines'`);
    expect(planned!.reltuples).toBeGreaterThanOrEqual(n);
  });
});
