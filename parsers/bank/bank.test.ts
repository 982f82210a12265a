/**
 * Bank statement parser conformance (the bank sibling of test/conformance/run-parser-conformance.ts):
 *  1. every fixture in `fixtures/bank/` is recognised by `detectBankFormat` and parses to its
 *     `<name>.expected.json` (UPDATE_GOLDENS=1 writes them; review the diff);
 *  2. every statement's balances and totals equal what its lines add up to, each recomputed here from
 *     the emitted lines, independently of the parser; line invariants hold;
 *  3. parsing is deterministic;
 *  4. every bad fixture is rejected with a StatementFormatError naming its code, file and line;
 *  5. every real sample in `../shared/samples/bank/` parses with its balances checked (read in place);
 *     samples that need an option are refused without it;
 *  6. real values of the samples.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { StatementFormatError } from '../../core/errors.js';
import { Decimal, isKnownCurrency, ZERO } from '../../core/money/index.js';
import { isIsoDate } from '../../core/time.js';
import { camt053Parser } from './camt053.js';
import { BANK_ENTRY_STATUSES, type BankLine, type BankParseOptions, type BankStatementParser, type BankStatementSummary } from './contract.js';
import { bankParserFor, bankParsers, detectBankFormat } from './index.js';
import { mt940Parser, structured86 } from './mt940.js';
import { collectBank } from './parsed-bank-statement.js';
import { bankLineToJson, bankSummaryToJson } from './serialize.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixturesDir = join(root, 'fixtures/bank');
const badDir = join(fixturesDir, 'bad');
const samplesDir = join(root, '../shared/samples/bank');
const GOLDEN = '.expected.json';

function inputsIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith(GOLDEN) && !e.name.endsWith('.md'))
    .map((e) => e.name)
    .sort();
}

async function parseAll(path: string, options?: BankParseOptions, parser?: BankStatementParser) {
  const p = parser ?? (await bankParserFor(path));
  return collectBank(p.parse({ path }, options));
}

const isCredit = (d: Decimal): boolean => !d.isNegative();

function checkInvariants(lines: BankLine[], summary: BankStatementSummary, allowMismatch = false): void {
  expect(summary.lineCount).toBe(lines.length);
  const byStatement = new Map(summary.statements.map((s) => [s.index, s]));
  for (const l of lines) {
    const s = byStatement.get(l.statementIndex);
    expect(s, `statement ${l.statementIndex} of line ${l.source.line}`).toBeDefined();
    expect(l.statementId).toBe(s!.id);
    expect(l.account).toBe(s!.account.id);
    expect(l.currency).toBe(s!.currency);
    expect(isKnownCurrency(l.currency)).toBe(true);
    expect(isIsoDate(l.bookingDate), `booking date ${l.bookingDate}`).toBe(true);
    if (l.valueDate !== null) expect(isIsoDate(l.valueDate)).toBe(true);
    expect(BANK_ENTRY_STATUSES).toContain(l.status);
    expect(l.amount).toBeInstanceOf(Decimal);
    expect(l.source.line).toBeGreaterThan(0);
  }
  for (const s of summary.statements) {
    expect(lines.filter((l) => l.statementIndex === s.index).length).toBe(s.lineCount);
  }
  // Entries, rebuilt from the lines: split batch lines add up to their entry.
  const entries = new Map<string, { statementIndex: number; amount: Decimal; status: string }>();
  for (const l of lines) {
    const key = `${l.statementIndex}/${l.entryIndex}`;
    const e = entries.get(key);
    if (e) e.amount = e.amount.plus(l.amount);
    else entries.set(key, { statementIndex: l.statementIndex, amount: l.amount, status: l.status });
  }
  for (const c of summary.controls) {
    if (!allowMismatch) expect(new Decimal(c.actual).equals(new Decimal(c.expected)), `control ${c.label}`).toBe(true);
    const m = c.measure;
    if (!m) continue;
    let recomputed = ZERO;
    if (m.of === 'balance') {
      recomputed = byStatement.get(m.statementIndex)!.opening!.amount;
      for (const l of lines) if (l.statementIndex === m.statementIndex && m.statuses.includes(l.status)) recomputed = recomputed.plus(l.amount);
    } else if (m.of === 'entry') {
      for (const l of lines) if (l.statementIndex === m.statementIndex && l.entryIndex === m.entryIndex) recomputed = recomputed.plus(l.amount);
    } else {
      for (const e of entries.values()) {
        if (e.statementIndex !== m.statementIndex || !(m.statuses as string[]).includes(e.status)) continue;
        if (m.side !== undefined && (m.side === 'credit') !== isCredit(e.amount)) continue;
        recomputed = recomputed.plus(m.of === 'count' ? 1 : m.of === 'absSum' ? e.amount.abs() : e.amount);
      }
    }
    expect(recomputed.equals(new Decimal(c.actual)), `recomputed ${c.label}: ${recomputed.toString()} vs ${c.actual}`).toBe(true);
  }
}

interface Rejection {
  file: string;
  code: string;
  line?: number;
  field?: string;
  message?: string;
}

const rejections: Rejection[] = [
  { file: 'camt-balance-mismatch.xml', code: 'control_total_mismatch', line: 12, field: 'statement BAD-STMT-1 CLBD', message: 'says 150.01 but the lines add up to 150' },
  { file: 'camt-batch-mismatch.xml', code: 'control_total_mismatch', line: 16, field: 'statement BAD-STMT-1 entry 1 TxDtls amounts' },
  { file: 'camt-truncated.xml', code: 'truncated', line: 22 },
  { file: 'camt-bad-amount.xml', code: 'bad_amount', line: 17, field: 'Ntry/Amt', message: '"5O.00"' },
  { file: 'camt-bad-date.xml', code: 'bad_date', line: 20, field: 'Ntry/BookgDt', message: '"2024-02-30"' },
  { file: 'mt940-balance-mismatch.940', code: 'control_total_mismatch', line: 10, field: 'statement BAD940 (7/1) :62F:', message: 'says 131 but the lines add up to 130' },
  { file: 'mt940-bad-amount.940', code: 'bad_amount', line: 6, field: ':61:', message: '"50.00"' },
  { file: 'mt940-bad-date.940', code: 'bad_date', line: 6, field: ':61:', message: '"241302"' },
  { file: 'mt940-truncated.940', code: 'truncated', line: 7, message: '{4:' },
  { file: 'mt940-truncated-bare.940', code: 'truncated', line: 7, field: ':62F:' },
  { file: 'mt940-missing-closing.940', code: 'missing_balance', line: 2, field: ':62F:' },
  { file: 'not-a-statement.csv', code: 'unknown_layout', message: 'not a bank statement' },
];

/** Real samples that parse only with an option, and the code they are refused with without it. */
const sampleOptions: Record<string, { options: BankParseOptions; refusedWith: string }> = {
  // Its CLBD (15121.12) is not OPBD 15568.27 + its entries (−754.25 −664.05 +1405.31 = 15555.28).
  'test-camt053': { options: { acceptControlTotalMismatch: true }, refusedWith: 'control_total_mismatch' },
  // The third message (:28C:363/1) ends with -} but has no :62F:.
  'test-sns.940': { options: { acceptMissingBalance: true }, refusedWith: 'missing_balance' },
};

describe('bank parser conformance', () => {
  const goods = inputsIn(fixturesDir);

  it('has golden fixtures of both formats', () => {
    expect(goods.some((g) => g.endsWith('.xml'))).toBe(true);
    expect(goods.some((g) => g.endsWith('.940'))).toBe(true);
  });

  describe.each(goods)('fixture %s', (name) => {
    const path = join(fixturesDir, name);
    const goldenPath = join(fixturesDir, name + GOLDEN);

    it('is recognised by content', async () => {
      expect(await detectBankFormat(path)).toBe(name.endsWith('.xml') ? 'camt053' : 'mt940');
    });

    it('parses to its golden output', async () => {
      const { lines, summary } = await parseAll(path);
      const actual = { summary: bankSummaryToJson(summary), lines: lines.map(bankLineToJson) };
      if (process.env.UPDATE_GOLDENS === '1') writeFileSync(goldenPath, JSON.stringify(actual, null, 2) + '\n');
      expect(existsSync(goldenPath), `golden ${name}${GOLDEN} exists`).toBe(true);
      expect(actual).toEqual(JSON.parse(readFileSync(goldenPath, 'utf8')));
    });

    it('has balances and totals that equal its lines, and keeps the line invariants', async () => {
      const { lines, summary } = await parseAll(path);
      expect(summary.controls.length).toBeGreaterThan(0);
      for (const s of summary.statements) {
        expect(s.opening, `opening of ${s.id}`).not.toBeNull();
        expect(s.closing, `closing of ${s.id}`).not.toBeNull();
        expect(summary.controls.some((c) => c.measure?.of === 'balance' && c.statementIndex === s.index)).toBe(true);
      }
      expect(summary.warnings).toEqual([]);
      checkInvariants(lines, summary);
    });

    it('is deterministic', async () => {
      const a = await parseAll(path);
      const b = await parseAll(path);
      expect(b.lines.map(bankLineToJson)).toEqual(a.lines.map(bankLineToJson));
      expect(bankSummaryToJson(b.summary)).toEqual(bankSummaryToJson(a.summary));
    });
  });

  it('has a fixture for every rejection and a rejection for every bad fixture', () => {
    expect(inputsIn(badDir)).toEqual(rejections.map((r) => r.file).sort());
  });

  describe.each(rejections)('bad fixture $file', (r) => {
    it(`is rejected with ${r.code}, naming file, line and field`, async () => {
      const err = await parseAll(join(badDir, r.file)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StatementFormatError);
      const e = err as StatementFormatError;
      expect(e.code).toBe(r.code);
      expect(e.message).toContain(r.file);
      if (r.line !== undefined) expect(e.line).toBe(r.line);
      if (r.field !== undefined) expect(e.field).toBe(r.field);
      if (r.message !== undefined) expect(e.message).toContain(r.message);
    });
  });

  const samples = inputsIn(samplesDir);
  it('finds the shared samples', () => {
    expect(samples).toEqual(['test-camt053', 'test-camt053-txdtls', 'test-ing.940', 'test-rabo.swi', 'test-sns.940']);
  });

  describe.each(samples)('real sample %s', (name) => {
    const path = join(samplesDir, name);
    const special = sampleOptions[name];

    it('parses with its balances checked', async () => {
      const { lines, summary } = await parseAll(path, special?.options);
      expect(lines.length).toBeGreaterThan(0);
      expect(summary.controls.some((c) => c.measure?.of === 'balance')).toBe(true);
      checkInvariants(lines, summary, special?.options.acceptControlTotalMismatch === true);
    });

    if (special) {
      it(`is refused with ${special.refusedWith} without the option`, async () => {
        const err = await parseAll(path).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StatementFormatError);
        expect((err as StatementFormatError).code).toBe(special.refusedWith);
      });
    }

    it('is deterministic', async () => {
      const a = await parseAll(path, special?.options);
      const b = await parseAll(path, special?.options);
      expect(b.lines.map(bankLineToJson)).toEqual(a.lines.map(bankLineToJson));
      expect(bankSummaryToJson(b.summary)).toEqual(bankSummaryToJson(a.summary));
    });
  });
});

describe('format detection', () => {
  it('lists both parsers', () => {
    expect(bankParsers.map((p) => p.format)).toEqual(['camt053', 'mt940']);
  });

  it.each([
    ['test-camt053', 'camt053'],
    ['test-camt053-txdtls', 'camt053'],
    ['test-ing.940', 'mt940'],
    ['test-rabo.swi', 'mt940'],
    ['test-sns.940', 'mt940'],
  ])('recognises %s as %s', async (name, format) => {
    expect(await detectBankFormat(join(samplesDir, name))).toBe(format);
  });

  it('recognises nothing in a CSV', async () => {
    expect(await detectBankFormat(join(badDir, 'not-a-statement.csv'))).toBeNull();
  });

  it('refuses an MT940 given to the camt parser and the reverse', async () => {
    await expect(collectBank(camt053Parser.parse({ path: join(samplesDir, 'test-ing.940') }))).rejects.toBeInstanceOf(StatementFormatError);
    await expect(collectBank(mt940Parser.parse({ path: join(samplesDir, 'test-camt053') }))).rejects.toBeInstanceOf(StatementFormatError);
  });
});

describe('real sample values', () => {
  const sample = (name: string, options?: BankParseOptions) => parseAll(join(samplesDir, name), options);

  it('test-camt053: 3 entries (4 lines), balances, the unbalanced CLBD recorded', async () => {
    const { lines, summary } = await sample('test-camt053', { acceptControlTotalMismatch: true });
    expect(summary.format).toBe('camt.053.001.02');
    expect(summary.messageId).toBe('TESTBANK/NL/1420561226673');
    const [s] = summary.statements;
    expect(summary.statements).toHaveLength(1);
    expect(s!.id).toBe('1234Test/1');
    expect(s!.account).toEqual({ iban: 'NL77ABNA0574908765', id: 'NL77ABNA0574908765', bic: 'ABNANL2A' });
    expect(s!.entryCount).toBe(3);
    expect(s!.opening!.amount.toString()).toBe('15568.27');
    expect(s!.closing!.amount.toString()).toBe('15121.12');
    expect(s!.closing!.date).toBe('2014-01-05');
    const clbd = summary.controls.find((c) => c.label.endsWith('CLBD'))!;
    expect(clbd).toMatchObject({ expected: '15121.12', actual: '15555.28' });
    expect(lines.map((l) => l.amount.toString())).toEqual(['-754.25', '-564.05', '-100', '1405.31']);
    // The reversed batch entry: two TxDtls with their own amounts, summing to the entry.
    expect(lines[1]).toMatchObject({ reversal: true, entryIndex: 2, endToEndId: 'TESTBANK/NL/20141229/01206408', counterpartyName: 'Test Customer' });
    expect(lines[1]!.batch).toMatchObject({ messageId: '2014/125', paymentInfoId: '2018/125-20141229-NORM', declaredCount: 2, detailCount: 2, index: 1 });
    expect(lines[1]!.batch!.entryAmount.toString()).toBe('-664.05');
    expect(lines[3]).toMatchObject({ endToEndId: '115', counterpartyName: '3rd party Media', counterpartyAccount: 'NL69ABNA0522123643', bankTxCode: 'PMNT/RCDT/ESCT ET' });
    expect(lines[0]!.references).toContainEqual({ kind: 'MndtId', value: '1880000341866' });
  });

  it('test-camt053-txdtls: a batch of two TxDtls with structured references', async () => {
    const { lines, summary } = await sample('test-camt053-txdtls');
    expect(summary.format).toBe('camt.053.001.04');
    expect(summary.statements[0]!.closing!.amount.toString()).toBe('79443.15');
    expect(lines.map((l) => l.amount.toString())).toEqual(['2187', '1296']);
    expect(lines.map((l) => l.entryRef)).toEqual(['20170323001234567891234567891234', '20170323001234567891234567891234']);
    expect(lines[0]!.references).toContainEqual({ kind: 'CdtrRef', value: '302388292000011111111111111' });
    expect(lines[0]).toMatchObject({ bookingDate: '2017-03-22', valueDate: '2017-03-23', endToEndId: null, counterpartyAccount: 'CH2222000000123456789' });
    expect(lines[1]!.additionalInfo).toContain('CRÉDIT GROUPÉ BVR');
  });

  it('test-ing.940: one statement, 8 lines, continuation lines joined, /SUM/ checked', async () => {
    const { lines, summary } = await sample('test-ing.940');
    const [s] = summary.statements;
    expect(s).toMatchObject({ id: 'P140220000000001', sequence: '00000', currency: 'EUR', entryCount: 8 });
    expect(s!.account.iban).toBe('NL77INGB0574908765');
    expect(s!.closing!.amount.toString()).toBe('564.35');
    expect(s!.otherBalances.map((b) => b.type)).toEqual(['64', '65', '65']);
    expect(summary.controls.map((c) => c.label)).toContain('statement P140220000000001 (00000) :86:/SUM/ debit sum');
    expect(lines[0]).toMatchObject({ entryRef: '00000000001005', endToEndId: 'EV12341REP1231456T1234', counterpartyName: 'ING BANK NV INZAKE WEB', additionalInfo: '/TRCD/00100/' });
    expect(lines[3]!.references).toContainEqual({ kind: 'MARF', value: 'MND-EV01' });
    expect(lines[5]!.remittance).toContain('REMI/USTD//CONTRIBUTIE FEB 2014/');
    expect(lines.map((l) => l.amount.toString())).toEqual(['1.56', '-1.57', '1.57', '-1.14', '1.45', '-12.75', '32', '-119']);
  });

  it('test-rabo.swi: four bare statements, two of them empty', async () => {
    const { lines, summary } = await sample('test-rabo.swi');
    expect(summary.statements.map((s) => [s.id, s.entryCount, s.opening!.amount.toString(), s.closing!.amount.toString()])).toEqual([
      ['940S140102', 1, '4433.52', '4833.52'],
      ['940S140103', 0, '4833.52', '4833.52'],
      ['940S140106', 1, '4833.52', '4798.91'],
      ['940S140107', 0, '4798.91', '4798.91'],
    ]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ statementIndex: 1, bankTxCode: 'N541', additionalInfo: 'NL66RABO0160878799', counterpartyName: 'R. SMITH' });
    expect(lines[0]!.remittance).toContain('Sheepcity Nederland NL/REMI/Test money paid by other partner:/ISDT/2014-01-02');
    expect(lines[1]).toMatchObject({ statementIndex: 3, valueDate: '2014-01-01', counterpartyName: 'Kosten' });
    expect(lines[1]!.amount.toString()).toBe('-34.61');
  });

  it('test-sns.940: padded :86: lines collapsed; the statement without :62F: is reported', async () => {
    const { lines, summary } = await sample('test-sns.940', { acceptMissingBalance: true });
    expect(summary.statements.map((s) => s.sequence)).toEqual(['361/1', '362/1', '363/1']);
    expect(summary.statements[2]!.closing).toBeNull();
    expect(summary.warnings).toEqual(['statement 0000000000 (363/1) states no closing balance (:62F:); its lines were not balance-checked']);
    expect(lines).toHaveLength(8);
    expect(lines[0]!.remittance).toBe('NL49RABO0166416932 gerrits glas en schilderwerk Factuur 17227/248/20');
    expect(lines[1]).toMatchObject({ entryRef: '228ohu/972795', references: [] });
    expect(lines[5]!.amount.isZero()).toBe(true);
  });
});

describe('own fixtures, spot checks', () => {
  it('camt.053.001.08: Sts/Cd, batch split per TxDtls, payout references, PDNG outside the balance', async () => {
    const { lines, summary } = await parseAll(join(fixturesDir, 'camt053-v08-batch.xml'));
    expect(summary.format).toBe('camt.053.001.08');
    const batch = lines.filter((l) => l.entryIndex === 2 && l.statementIndex === 1);
    expect(batch.map((l) => [l.amount.toString(), l.endToEndId, l.remittance?.slice(0, 23)])).toEqual([
      ['1250', 'TX635094301XT', 'TX635094301XT batch 380'],
      ['1000.5', 'TX635094302XT', 'TX635094302XT batch 380'],
      ['749.5', 'TX635094303XT', 'TX635094303XT batch 380'],
    ]);
    expect(lines[0]).toMatchObject({ remittance: 'STRIPE PAYOUT po_1OqZ8vLkdIwHu7ixk2XhQ3Yp', endToEndId: null, counterpartyName: 'STRIPE PAYMENTS EUROPE LTD' });
    const pending = lines.find((l) => l.status === 'PDNG')!;
    expect(pending.bookingDate).toBe('2024-03-06');
    expect(summary.statements[1]!.opening!.amount.toString()).toBe('-250');
  });

  it('mt940: RC is a reversed credit booked as a debit, entry date across the year end, latin1 text', async () => {
    const { lines } = await parseAll(join(fixturesDir, 'mt940-two-statements.940'));
    expect(lines[0]).toMatchObject({ bookingDate: '2023-12-29', valueDate: '2024-01-02', reversal: false });
    expect(lines[2]).toMatchObject({ reversal: true });
    expect(lines[2]!.amount.toString()).toBe('-1523.4');
    expect(lines[1]!.remittance).toBe('Kartenzahlung Müller GmbH München');
    expect(lines[0]!.remittance).toContain('STRIPE PAYOUT po_1OqZ8vLkdIwHu7ixk2XhQ3Yp/');
  });

  it('structured :86: sub-fields', () => {
    const sub = structured86('/ORDP//NAME/R. SMITH/ADDR/Street 1/REMI/Paid/ISDT/2014-01-02');
    expect(Object.fromEntries(sub!)).toEqual({ ORDP: '', NAME: 'R. SMITH', ADDR: 'Street 1', REMI: 'Paid', ISDT: '2014-01-02' });
    expect(structured86('Plain text /NAME/ x')).toBeNull();
  });
});
