import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerFormatError } from '../core/errors.js';
import { importLedger } from '../ledger/import.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { tempDir } from './helpers/json-statement.js';

const HEADER = 'booked_at,ledger_id,provider,type,order_id,provider_txn_id,amount,fee,currency,note';

describe.each(BACKENDS)('ledger import on $name', ({ fresh }) => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await fresh();
    dir = tempDir();
  });
  afterAll(async () => {
    await t?.drop();
  });
  const write = (name: string, body: string) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  };

  it('loads rows in any column order, with a BOM and quoted fields, and is idempotent by ledger_id', async () => {
    const csv = '\uFEFF' + HEADER + '\r\n' +
      '2026-11-24T10:00:00+08:00,L1,wechatpay,payment,"ORD,1",4200001,100.00,0.60,CNY,"say ""hi"""\r\n' +
      '2026-11-24T11:00:00Z,L2,alipay,refund,REQ1,2026112422001,5,,cny,\r\n';
    const a = await importLedger(t.db, write('l.csv', csv));
    expect([a.rows, a.inserted, a.updated, a.unchanged]).toEqual([2, 2, 0, 0]);
    const b = await importLedger(t.db, write('l.csv', csv));
    expect([b.rows, b.inserted, b.updated, b.unchanged]).toEqual([2, 0, 0, 2]);
    const rows = await t.db.query<Record<string, unknown>>(`SELECT ledger_id, order_id, amount::text, fee::text, currency, txn_key, ref_key FROM ledger_entries ORDER BY ledger_id`);
    expect(rows).toEqual([
      { ledger_id: 'L1', order_id: 'ORD,1', amount: '100.000000', fee: '0.600000', currency: 'CNY', txn_key: '4200001', ref_key: 'ORD,1' },
      { ledger_id: 'L2', order_id: 'REQ1', amount: '5.000000', fee: null, currency: 'CNY', txn_key: '2026112422001#REQ1', ref_key: 'REQ1' },
    ]);
    const c = await importLedger(t.db, write('l2.csv', HEADER + '\n2026-11-24T10:00:00+08:00,L1,wechatpay,payment,"ORD,1",4200001,101.00,0.60,CNY,\n'));
    expect([c.inserted, c.updated, c.unchanged]).toEqual([0, 1, 0]);
  });

  const cases: Array<[string, string, number, string, string]> = [
    ['bad amount', '2026-11-24T10:00:00Z,X1,wechatpay,payment,O,T,1.00.0,,CNY,', 2, 'amount', 'is not a decimal amount'],
    ['negative amount', '2026-11-24T10:00:00Z,X1,wechatpay,payment,O,T,-1,,CNY,', 2, 'amount', 'is negative'],
    ['too many decimals', '2026-11-24T10:00:00Z,X1,stripe,payment,O,T,100.5,,JPY,', 2, 'amount', 'more decimals than JPY'],
    ['unknown provider', '2026-11-24T10:00:00Z,X1,venmo,payment,O,T,1,,USD,', 2, 'provider', 'is not one of'],
    ['unknown type', '2026-11-24T10:00:00Z,X1,paypal,payout,O,T,1,,USD,', 2, 'type', 'is not one of'],
    ['unknown currency', '2026-11-24T10:00:00Z,X1,paypal,payment,O,T,1,,XYZ,', 2, 'currency', 'ISO 4217'],
    ['time without offset', '2026-11-24 10:00:00,X1,paypal,payment,O,T,1,,USD,', 2, 'booked_at', 'with an offset'],
  ];
  it.each(cases)('rejects a %s naming file, line and field', async (_name, row, line, field, message) => {
    const path = write('bad.csv', `${HEADER}\n2026-11-24T10:00:00Z,OK1,paypal,payment,O,T,1,,USD,\n${row}\n`);
    const err = await importLedger(t.db, path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LedgerFormatError);
    const e = err as LedgerFormatError;
    expect([e.file, e.line, e.field]).toEqual(['bad.csv', line + 1, field]);
    expect(e.message).toContain(message);
    const [n] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entries WHERE ledger_id IN ('OK1', 'X1')`);
    expect(n!.n).toBe(0);
  });

  it('rejects a missing column and one ledger_id with two contents', async () => {
    await expect(importLedger(t.db, write('m.csv', 'ledger_id,provider\nA,alipay\n'))).rejects.toThrow('m.csv, line 1, field "type": missing column(s) type, order_id');
    const dup = `${HEADER}\n2026-11-24T10:00:00Z,D1,paypal,payment,O,T,1,,USD,\n2026-11-24T10:00:00Z,D1,paypal,payment,O,T,2,,USD,\n`;
    await expect(importLedger(t.db, write('d.csv', dup))).rejects.toThrow('d.csv, line 3, field "ledger_id": ledger_id "D1" appears on lines 2, 3 with different content');
  });
});
