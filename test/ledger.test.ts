import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LedgerFormatError } from '../core/errors.js';
import { Decimal } from '../core/money/index.js';
import { csvRecordBatches } from '../ledger/csv-records.js';
import { decimalPlacesOf, fixedDecimalText } from '../core/money/index.js';
import { importLedger as importLedgerWith, readLedgerCsv, type LedgerReader } from '../ledger/import.js';
import type { Database } from '../db/database.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { tempDir } from './helpers/json-statement.js';

const HEADER = 'booked_at,ledger_id,provider,type,order_id,provider_txn_id,amount,fee,currency,note';

// Every case runs with the rows read and written by this thread and by the copy worker thread.
const READERS: LedgerReader[] = ['thread', 'worker'];
const SETUPS = BACKENDS.flatMap((b) => READERS.map((reader) => ({ ...b, reader })));

describe.each(SETUPS)('ledger import on $name, rows read by the $reader', ({ fresh, reader }) => {
  const importLedger = (db: Database, path: string) => importLedgerWith(db, path, { reader });
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
  it('copies a file of new ids straight in: counts and ids as the upsert gives them', async () => {
    // New ids only: the straight copy. Ids are drawn in file order, as the upsert draws them.
    const a = await importLedger(t.db, write('n1.csv', `${HEADER}\n` +
      '2026-11-24T10:00:00Z,N3,paypal,payment,O3,T3,3,,USD,\n' +
      '2026-11-24T10:00:00Z,N1,paypal,payment,O1,T1,1,,USD,\n' +
      '2026-11-24T10:00:00Z,N2,alipay,refund,R2,T2,2,,CNY,\n'));
    expect([a.rows, a.inserted, a.updated, a.unchanged]).toEqual([3, 3, 0, 0]);
    // A repeated (identical) row sends the same kind of file through the upsert: the same counts.
    const b = await importLedger(t.db, write('n2.csv', `${HEADER}\n` +
      '2026-11-24T10:00:00Z,N6,paypal,payment,O6,T6,6,,USD,\n' +
      '2026-11-24T10:00:00Z,N4,paypal,payment,O4,T4,4,,USD,\n' +
      '2026-11-24T10:00:00Z,N6,paypal,payment,O6,T6,6,,USD,\n' +
      '2026-11-24T10:00:00Z,N5,paypal,payment,O5,T5,5,,USD,\n'));
    expect([b.rows, b.inserted, b.updated, b.unchanged]).toEqual([4, 3, 0, 0]);
    const rows = await t.db.query<{ ledger_id: string; import_id: string; source_line: number; txn_key: string; ref_key: string }>(
      `SELECT ledger_id, import_id::text AS import_id, source_line, txn_key, ref_key FROM ledger_entries WHERE ledger_id LIKE 'N%' ORDER BY id`,
    );
    expect(rows.map((r) => [r.ledger_id, r.import_id, r.source_line])).toEqual([
      ['N3', a.importId, 2], ['N1', a.importId, 3], ['N2', a.importId, 4],
      ['N6', b.importId, 2], ['N4', b.importId, 3], ['N5', b.importId, 5],
    ]);
    expect(rows.find((r) => r.ledger_id === 'N2')).toMatchObject({ txn_key: 'T2#R2', ref_key: 'R2' });
    // Known and new ids together: the upsert, which also stamps the unchanged rows with its import.
    const c = await importLedger(t.db, write('n3.csv', `${HEADER}\n` +
      '2026-11-24T10:00:00Z,N1,paypal,payment,O1,T1,1.00,,USD,\n' +
      '2026-11-24T10:00:00Z,N2,alipay,refund,R2,T2,2.5,,CNY,\n' +
      '2026-11-24T10:00:00Z,N7,paypal,payment,O7,T7,7,,USD,\n'));
    expect([c.rows, c.inserted, c.updated, c.unchanged]).toEqual([3, 1, 1, 1]);
    const stamped = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entries WHERE import_id = $1`, [c.importId]);
    expect(stamped[0]!.n).toBe(3);
  });

  it('stores amounts and fees as decimal.js would write them', async () => {
    const path = write('amounts.csv', `${HEADER}\n` +
      '2026-11-24T10:00:00Z,M1,paypal,payment,O,T,+007.50,-0.00,USD,\n' +
      '2026-11-24T10:00:00Z,M2,paypal,payment,O,T,.5,+.0600,USD,\n' +
      '2026-11-24T10:00:00Z,M3,stripe,payment,O,T,15000.000,-0.60,JPY,\n');
    const read: Array<[string, string | null]> = [];
    for await (const r of readLedgerCsv(path)) read.push([r.amount, r.fee]);
    expect(read).toEqual([['7.5', '0'], ['0.5', '0.06'], ['15000', '-0.6']]);
    const a = await importLedger(t.db, path);
    expect(a.inserted).toBe(3);
    const rows = await t.db.query<Record<string, unknown>>(`SELECT ledger_id, amount::text, fee::text FROM ledger_entries WHERE ledger_id LIKE 'M%' ORDER BY ledger_id`);
    expect(rows).toEqual([
      { ledger_id: 'M1', amount: '7.500000', fee: '0.000000' },
      { ledger_id: 'M2', amount: '0.500000', fee: '0.060000' },
      { ledger_id: 'M3', amount: '15000.000000', fee: '-0.600000' },
    ]);
  });

  it('falls back to the upsert when a concurrent import commits one of the new ids', async () => {
    if (t.url === null) return; // PGlite has one connection: no concurrent writer
    const other = new pg.Client({ connectionString: t.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`INSERT INTO ledger_entries (ledger_id, provider, type, amount, currency, booked_at) VALUES ('R1', 'paypal', 'payment', 1, 'USD', now())`);
      const importing = importLedger(t.db, write('race.csv', `${HEADER}\n` +
        '2026-11-24T10:00:00Z,R1,paypal,payment,O1,T1,1,,USD,\n' +
        '2026-11-24T10:00:00Z,R2,paypal,payment,O2,T2,2,,USD,\n'));
      // Wait until the import's COPY waits for the other transaction's R1, then commit R1. (Asked on the
      // import's pool: inside a transaction pg_stat_activity stays as it was at its first read.)
      let waited = false;
      for (let i = 0; i < 400 && !waited; i++) {
        const [w] = await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'COPY ledger_entries%'`);
        waited = w!.n > 0;
        if (!waited) await new Promise((r) => setTimeout(r, 25));
      }
      expect(waited).toBe(true);
      await other.query('COMMIT');
      const r = await importing;
      expect([r.rows, r.inserted, r.updated, r.unchanged]).toEqual([2, 1, 1, 0]);
      const rows = await t.db.query<Record<string, unknown>>(`SELECT ledger_id, order_id, import_id::text AS import_id FROM ledger_entries WHERE ledger_id IN ('R1', 'R2') ORDER BY ledger_id`);
      expect(rows).toEqual([
        { ledger_id: 'R1', order_id: 'O1', import_id: r.importId },
        { ledger_id: 'R2', order_id: 'O2', import_id: r.importId },
      ]);
    } finally {
      await other.end();
    }
  });
});

describe('ledger amounts as text', () => {
  it('counts decimals and writes the canonical text exactly as decimal.js does', () => {
    const texts = ['0', '000', '0.000', '+0', '-0', '-0.00', '-.0', '+.0', '.5', '5.', '+007.50', '007', '1.10', '-1.10', '00.0100',
      '-5.', '100.5', '0.0000001', '123456789012345678901234567890.123456789000'];
    for (const text of texts) {
      const d = new Decimal(text);
      expect([text, decimalPlacesOf(text)]).toEqual([text, d.decimalPlaces()]);
      expect([text, fixedDecimalText(text, decimalPlacesOf(text))]).toEqual([text, d.toFixed()]);
    }
    for (const text of ['', '.', '+', '-', '1.2.3', '1e3', '1,000', ' 1', '١', '+-1', '0x10']) expect([text, decimalPlacesOf(text)]).toEqual([text, -1]);
  });
});

describe('ledger CSV records', () => {
  const dir = tempDir();
  /** What csv-parse itself gives: the records (with info.lines) and the error, if any. */
  function csvParse(bytes: Buffer): Promise<{ records: Array<[string[], number]>; error?: string }> {
    return new Promise((resolve) => {
      const records: Array<[string[], number]> = [];
      const p = parse({ bom: true, info: true, skip_empty_lines: true, relax_column_count: false });
      p.on('data', ({ record, info }: { record: string[]; info: { lines: number } }) => records.push([record, info.lines]));
      p.on('error', (err: Error & { code?: string; lines?: number }) => resolve({ records, error: `${err.code} ${err.lines} ${err.message}` }));
      p.on('end', () => resolve({ records }));
      p.end(bytes);
    });
  }
  async function ours(path: string, chunkSize: number): Promise<{ records: Array<[string[], number]>; error?: string }> {
    const records: Array<[string[], number]> = [];
    try {
      for await (const b of csvRecordBatches(path, chunkSize)) b.records.forEach((r, i) => records.push([r, b.lines[i]!]));
    } catch (e) {
      const err = e as Error & { code?: string; lines?: number };
      return { records, error: `${err.code} ${err.lines} ${err.message}` };
    }
    return { records };
  }
  const inputs: Array<[string, Buffer]> = [
    ['plain LF', Buffer.from('a,b\n1,2\n3,4\n')],
    ['CRLF, no final line break', Buffer.from('a,b\r\n1,2\r\n3,4')],
    ['BOM and empty lines', Buffer.from('\uFEFF\n\na,b\n\n1,2\n\n\n3,4\n\n')],
    ['quoted fields', Buffer.from('a,b,c\n"x,y","say ""hi""",""\n"",,"z"\n1,"2",\n')],
    ['quoted line break', Buffer.from('a,b\n1,"two\nlines"\n3,4\n5,"x\r\ny"\n6,7\n')],
    ['stray CR in a LF file', Buffer.from('a,b\n1,2\r3\n4,5\n')],
    ['bare LF in a CRLF file', Buffer.from('a,b\r\n1,2\n3,4\r\n5,6\r\n')],
    ['CR line ends', Buffer.from('a,b\r1,2\r3,4\r')],
    ['UTF-8 text', Buffer.from('名称,金额\n微信支付,1.00\n"支付宝,退款",2\n')],
    ['invalid UTF-8', Buffer.concat([Buffer.from('a,b\n1,'), Buffer.from([0xff, 0xc3]), Buffer.from(',2\n3,4\n')])],
    ['UTF-16 BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\0,\0b\0\n\0', 'latin1')])],
    ['wrong field count', Buffer.from('a,b\n1,2\n3\n4,5\n')],
    ['quote inside a field', Buffer.from('a,b\n1,2\n3,x"y\n')],
    ['text after a closing quote', Buffer.from('a,b\n1,2\n3,"x"y\n')],
    ['quote not closed', Buffer.from('a,b\n1,2\n3,"x\n')],
    ['empty file', Buffer.from('')],
    ['one short line', Buffer.from('a')],
  ];
  it.each(inputs)('reads %s as csv-parse does', async (name, bytes) => {
    const path = join(dir, `${name.replace(/\W+/g, '_')}.csv`);
    writeFileSync(path, bytes);
    const expected = await csvParse(bytes);
    for (const chunkSize of [1, 2, 3, 7, 64 * 1024]) {
      const got = await ours(path, chunkSize);
      expect(got.error).toEqual(expected.error);
      // On an error, csv-parse's stream may drop the records of the failing read: ours are a prefix.
      const want = expected.error === undefined ? expected.records : expected.records.slice(0, got.records.length);
      expect(got.records).toEqual(want);
      if (expected.error === undefined) expect(got.records.length).toBe(expected.records.length);
    }
  });

  it('reports a CSV fault of the ledger file with its line', async () => {
    const path = join(dir, 'unclosed.csv');
    writeFileSync(path, `${HEADER}\n2026-11-24T10:00:00Z,Q1,paypal,payment,O,T,1,,USD,\n2026-11-24T10:00:00Z,Q2,paypal,payment,"O,T,1,,USD,\n`);
    const rows: string[] = [];
    const err = await (async () => {
      for await (const r of readLedgerCsv(path)) rows.push(r.ledgerId);
    })().catch((e: unknown) => e);
    expect(rows).toEqual(['Q1']);
    expect(err).toBeInstanceOf(LedgerFormatError);
    expect((err as LedgerFormatError).message).toContain('unclosed.csv, line 3: not valid CSV: Quote Not Closed');
  });
});
