/**
 * SWIFT MT940 (customer statement) parser, streaming line by line.
 *
 * Input: with or without the SWIFT envelope (`{1:…}{2:…}{3:…}{4:` … `-}{5:…}`, blocks on one line or
 * several), or a bare tag stream (optionally starting with `:940:`); several statements per file.
 *
 * Decoding: the file is read twice: once to check that it is valid UTF-8, then decoded as UTF-8 if it is
 * and as latin1 (ISO-8859-1) otherwise. SWIFT's own character set is ASCII-only, but banks ship
 * national letters in both encodings; latin1 never fails, so a non-UTF-8 file still parses.
 *
 * Continuation lines (every line that does not start a tag) belong to the field above them and are
 * joined WITHOUT a separator: banks hard-wrap fields at 65 columns in the middle of words (the ING,
 * Rabobank and SNS samples all do). `:86:` text is then white-space collapsed (padded lines, SNS).
 * `:61:` is read as: first line = value date, entry date, mark, funds code, amount, type, customer ref,
 * `//` bank ref; further lines = supplementary details, except that a short alphanumeric line that
 * completes a bank reference shorter than 16 characters is taken as its wrapped rest (ING sample).
 * A line consisting of `-` ends a message only once its closing balance has been read; before that it
 * is text (ING wraps `MND-EV01` as `MND` / `-` / `EV01`).
 *
 * Checks: per statement, opening (`:60F:`/`:60M:`) ± Σ `:61:` = closing (`:62F:`/`:62M:`); the ING
 * statement summary `:86:/SUM/debits/credits/debit sum/credit sum/` when present. A message ended by
 * `-}` without a closing balance is refused (`missing_balance`) unless `acceptMissingBalance`; a file
 * that ends inside a `{4:` block or in a statement without closing balance is `truncated`.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { StatementFormatError } from '../../core/errors.js';
import { isKnownCurrency, type Decimal as DecimalT } from '../../core/money/index.js';
import { isIsoDate } from '../../core/time.js';
import { textLines } from '../common/text-lines.js';
import type {
  BankBalance,
  BankLine,
  BankParseOptions,
  BankReference,
  BankStatementInfo,
  BankStatementParser,
  BankStatementSource,
  BankStatementSummary,
  ParsedBankStatement,
} from './contract.js';
import { BankControls, cleanText, decodeFile, isIban, one, signed, swiftAmount, ZERO } from './common.js';
import { parsedBankStatement } from './parsed-bank-statement.js';

/** True when the whole file is valid UTF-8 (streamed, nothing kept). */
export async function isUtf8File(path: string): Promise<boolean> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of createReadStream(path)) {
    try {
      decoder.decode(chunk as Buffer, { stream: true });
    } catch {
      return false;
    }
  }
  try {
    decoder.decode();
    return true;
  } catch {
    return false;
  }
}

interface Field {
  tag: string;
  line: number;
  /** Physical lines: the first is the text after the tag. */
  parts: string[];
}

type Segment = { kind: 'start' } | { kind: 'end' } | { kind: 'text'; text: string };

interface Statement {
  info: BankStatementInfo;
  rawAccount: string | null;
  sum: DecimalT;
  debit: { count: number; sum: DecimalT };
  credit: { count: number; sum: DecimalT };
  /** Statement-level :86: (after the closing balance or before the first :61:). */
  infoTexts: { text: string; line: number }[];
}

const STRUCTURED_CODES = [
  'EREF', 'PREF', 'MARF', 'CSID', 'CNTP', 'REMI', 'NAME', 'ADDR', 'ORDP', 'BENM', 'ISDT', 'RTRN', 'IBAN', 'BIC',
  'TRCD', 'PURP', 'ULTC', 'ULTD', 'ULTB', 'KREF', 'EXCH', 'CHGS', 'SVCL', 'OCMT', 'BUSP', 'SUM',
];
const STRUCTURED = new RegExp(`/(${STRUCTURED_CODES.join('|')})/`, 'g');

/** Sub-fields of a structured `:86:` (Dutch banks' `/CODE/value` convention), by code. */
export function structured86(text: string): Map<string, string> | null {
  if (!new RegExp(`^/(${STRUCTURED_CODES.join('|')})/`).test(text)) return null;
  const out = new Map<string, string>();
  const hits = [...text.matchAll(STRUCTURED)];
  // Matches can overlap at a shared '/': keep those that start after the previous code's own slashes.
  let prevEnd = 0;
  const kept: { code: string; start: number; valueStart: number }[] = [];
  for (const h of hits) {
    if (h.index! < prevEnd - 1) continue;
    kept.push({ code: h[1]!, start: h.index!, valueStart: h.index! + h[0].length });
    prevEnd = h.index! + h[0].length;
  }
  kept.forEach((k, i) => {
    const end = i + 1 < kept.length ? kept[i + 1]!.start : text.length;
    const value = text.slice(k.valueStart, end).replace(/\/+$/, '').trim();
    if (!out.has(k.code)) out.set(k.code, value);
  });
  return out;
}

class Mt940Reader {
  readonly controls: BankControls;
  readonly statements: BankStatementInfo[] = [];
  readonly warnings: string[] = [];
  out: BankLine[] = [];
  lineCount = 0;

  private mode: 'bare' | 'outside' | 'block4' = 'bare';
  private sawBlocks = false;
  private field: Field | undefined;
  private stmt: Statement | undefined;
  private pending: BankLine | undefined;
  private stmtCount = 0;
  private lastLine = 0;

  constructor(
    private readonly file: string,
    private readonly options: BankParseOptions,
  ) {
    this.controls = new BankControls(file, options);
  }

  private fail(code: string, line: number, field: string | undefined, detail: string): never {
    throw new StatementFormatError(code, { file: this.file, line, ...(field !== undefined ? { field } : {}) }, detail);
  }

  /** Splits a physical line into envelope markers and text. */
  private segments(text: string, line: number): Segment[] {
    const segs: Segment[] = [];
    let pos = 0;
    while (pos < text.length) {
      if (this.mode !== 'block4' && text[pos] === '{') {
        const m = /^\{(\w+):/.exec(text.slice(pos));
        if (!m) this.fail('unknown_layout', line, undefined, 'a "{" that does not open a SWIFT block');
        this.sawBlocks = true;
        if (m[1] === '4') {
          this.mode = 'block4';
          pos += m[0].length;
          segs.push({ kind: 'start' });
          continue;
        }
        let depth = 0;
        let i = pos;
        for (; i < text.length; i++) {
          if (text[i] === '{') depth += 1;
          else if (text[i] === '}' && --depth === 0) break;
        }
        if (i >= text.length) this.fail('truncated', line, undefined, `SWIFT block {${m[1]}: is not closed on its line`);
        pos = i + 1;
        continue;
      }
      if (this.mode === 'block4' && text.startsWith('-}', pos)) {
        this.mode = 'outside';
        pos += 2;
        segs.push({ kind: 'end' });
        continue;
      }
      segs.push({ kind: 'text', text: text.slice(pos) });
      break;
    }
    return segs;
  }

  /** Feeds one physical line; completed lines are appended to `out`. */
  feed(text: string, line: number): void {
    this.lastLine = line;
    for (const seg of this.segments(text, line)) {
      if (seg.kind === 'start') {
        this.endMessage(line, false);
        continue;
      }
      if (seg.kind === 'end') {
        this.endMessage(line, true);
        continue;
      }
      const t = seg.text;
      if (this.mode === 'outside') {
        if (t.trim() !== '') this.fail('unknown_layout', line, undefined, 'text outside a SWIFT {4: block');
        continue;
      }
      const tag = /^:(\d{2}[A-Z]?):/.exec(t);
      if (tag) {
        this.flush();
        this.field = { tag: tag[1]!, line, parts: [t.slice(tag[0].length)] };
        continue;
      }
      if (/^:940:\s*$/.test(t)) continue; // bare-stream header (Rabobank)
      if (t.trim() === '-' && (this.stmt?.info.closing || this.field?.tag.startsWith('62'))) {
        this.endMessage(line, true);
        continue;
      }
      if (this.field) this.field.parts.push(t);
      else if (t.trim() !== '' && this.stmt) this.fail('unknown_layout', line, undefined, `${JSON.stringify(t.slice(0, 20))} is neither a tag nor a continuation line`);
      // Anything before the first tag (bank header lines) is ignored; a file with no statement is refused at the end.
    }
  }

  finish(): void {
    if (this.mode === 'block4') this.fail('truncated', this.lastLine, undefined, 'the file ends inside a SWIFT {4: block (no "-}")');
    if (this.stmt && !this.stmt.info.closing && !this.sawBlocks) {
      this.flush();
      if (!this.stmt.info.closing) this.fail('truncated', this.lastLine, ':62F:', `the file ends in statement ${this.stmt.info.id} before its closing balance`);
    }
    this.endMessage(this.lastLine, true);
    if (this.stmtCount === 0) this.fail('unknown_layout', 1, undefined, 'no MT940 statement (:20: … :60F: … :62F:) found');
  }

  private endMessage(line: number, explicit: boolean): void {
    this.flush();
    this.emitPending();
    if (this.stmt) this.endStatement(this.stmt, line, explicit);
    this.stmt = undefined;
  }

  private flush(): void {
    const f = this.field;
    this.field = undefined;
    if (!f) return;
    this.handle(f);
  }

  private emitPending(): void {
    if (this.pending) {
      this.out.push(this.pending);
      this.pending = undefined;
    }
  }

  private need(tag: string, f: Field): Statement {
    if (!this.stmt) this.fail('bad_structure', f.line, `:${tag}:`, `:${tag}: outside a statement (no :20: before it)`);
    return this.stmt;
  }

  private handle(f: Field): void {
    const value = f.parts.map((p) => p.trimEnd()).join('').trim();
    const fieldName = `:${f.tag}:`;
    if (f.tag !== '86') this.emitPending();
    switch (f.tag) {
      case '20': {
        if (this.stmt) this.endMessage(f.line, false);
        this.stmtCount += 1;
        this.stmt = {
          info: {
            index: this.stmtCount,
            id: value,
            sequence: null,
            account: { iban: null, id: '', bic: null },
            currency: '',
            opening: null,
            closing: null,
            otherBalances: [],
            period: null,
            entryCount: 0,
            lineCount: 0,
            line: f.line,
          },
          rawAccount: null,
          sum: ZERO,
          debit: { count: 0, sum: ZERO },
          credit: { count: 0, sum: ZERO },
          infoTexts: [],
        };
        return;
      }
      case '25':
        this.need(f.tag, f).rawAccount = value;
        return;
      case '28C':
      case '28':
        this.need(f.tag, f).info.sequence = value;
        return;
      case '60F':
      case '60M': {
        const s = this.need(f.tag, f);
        const b = this.balance(f.tag, value, f.line, fieldName);
        s.info.opening = b;
        s.info.currency = b.currency;
        this.resolveAccount(s, f.line);
        return;
      }
      case '62F':
      case '62M':
      case '64':
      case '65': {
        const s = this.need(f.tag, f);
        const b = this.balance(f.tag, value, f.line, fieldName);
        if (s.info.currency !== '' && b.currency !== s.info.currency) this.fail('currency_mismatch', f.line, fieldName, `balance in ${b.currency} on a statement in ${s.info.currency}`);
        if (f.tag.startsWith('62')) {
          if (s.info.closing) this.fail('bad_structure', f.line, fieldName, `statement ${s.info.id} has a second closing balance`);
          s.info.closing = b;
        } else s.info.otherBalances.push(b);
        return;
      }
      case '61':
        this.entry(this.need(f.tag, f), f);
        return;
      case '86': {
        const s = this.need(f.tag, f);
        const text = cleanText(f.parts.join(''));
        if (this.pending) {
          this.apply86(this.pending, text);
          this.emitPending();
        } else if (text !== null) s.infoTexts.push({ text, line: f.line });
        return;
      }
      default:
        // :21:, :13D:, :34F:, :90D:/:90C: … carry nothing the bank lines need.
        return;
    }
  }

  private resolveAccount(s: Statement, line: number): void {
    if (s.info.account.id !== '') return;
    if (s.rawAccount === null || s.rawAccount === '') this.fail('bad_structure', line, ':25:', `statement ${s.info.id} has no account (:25:)`);
    let raw = s.rawAccount;
    const ccy = s.info.currency;
    if (raw.length > 3 && raw.endsWith(ccy)) raw = raw.slice(0, -3).replace(/[\s/]+$/, '');
    let bic: string | null = null;
    let id = raw;
    const slash = raw.indexOf('/');
    if (slash > 0) {
      const before = raw.slice(0, slash);
      if (/^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(before)) {
        bic = before;
        id = raw.slice(slash + 1);
      }
    }
    const compact = id.replace(/\s+/g, '');
    const iban = isIban(compact) ? compact : null;
    s.info.account = { iban, id: iban ?? id, bic };
  }

  private date6(text: string, line: number, field: string): string {
    if (!/^\d{6}$/.test(text)) this.fail('bad_date', line, field, `${JSON.stringify(text)} is not a YYMMDD date`);
    const yy = Number.parseInt(text.slice(0, 2), 10);
    const iso = `${yy >= 80 ? 19 : 20}${text.slice(0, 2)}-${text.slice(2, 4)}-${text.slice(4, 6)}`;
    if (!isIsoDate(iso)) this.fail('bad_date', line, field, `${JSON.stringify(text)} is not a valid date`);
    return iso;
  }

  private balance(tag: string, value: string, line: number, field: string): BankBalance {
    const m = /^([CD])(.{6})([A-Z]{3})(.*)$/.exec(value);
    if (!m) {
      if (/^[CD]/.test(value) && !/^[CD]\d{6}/.test(value)) this.fail('bad_date', line, field, `${JSON.stringify(value)} has no YYMMDD date`);
      this.fail('bad_value', line, field, `${JSON.stringify(value)} is not a balance (D/C, YYMMDD, currency, amount)`);
    }
    const date = this.date6(m[2]!, line, field);
    if (!isKnownCurrency(m[3]!)) this.fail('bad_currency', line, field, `${m[3]} is not an ISO 4217 currency`);
    const amount = swiftAmount(m[4]!, this.file, line, field);
    return { type: tag, amount: signed(amount, m[1] === 'C'), currency: m[3]!, date, line };
  }

  private entry(s: Statement, f: Field): void {
    const field = ':61:';
    if (!s.info.opening) this.fail('bad_structure', f.line, field, `statement line before the opening balance (:60F:) of statement ${s.info.id}`);
    if (s.info.closing) this.fail('bad_structure', f.line, field, `statement line after the closing balance of statement ${s.info.id}`);
    const head = f.parts[0]!.trim();
    const more = f.parts.slice(1).map((p) => p.trim()).filter((p) => p !== '');
    const valueDate = this.date6(head.slice(0, 6), f.line, field);
    let pos = 6;
    let bookingDate = valueDate;
    const ed = /^\d{4}/.exec(head.slice(pos));
    if (ed) {
      const month = Number.parseInt(ed[0].slice(0, 2), 10);
      const vMonth = Number.parseInt(valueDate.slice(5, 7), 10);
      let year = Number.parseInt(valueDate.slice(0, 4), 10);
      if (month - vMonth > 6) year -= 1;
      else if (vMonth - month > 6) year += 1;
      bookingDate = `${year}-${ed[0].slice(0, 2)}-${ed[0].slice(2, 4)}`;
      if (!isIsoDate(bookingDate)) this.fail('bad_date', f.line, field, `entry date ${JSON.stringify(ed[0])} is not a valid MMDD date`);
      pos += 4;
    }
    const mark = /^(RC|RD|C|D)/.exec(head.slice(pos));
    if (!mark) this.fail('bad_value', f.line, field, `${JSON.stringify(head.slice(pos, pos + 2))} is not a debit/credit mark (C, D, RC, RD)`);
    pos += mark[0].length;
    if (/^[A-Z]/.test(head.slice(pos))) pos += 1; // funds code (3rd letter of the currency)
    // The amount runs up to the transaction type (a letter); anything but digits and one comma is refused.
    const amt = /^[^A-Z]*/.exec(head.slice(pos))![0];
    const unsigned = swiftAmount(amt === '' ? head.slice(pos, pos + 15) : amt, this.file, f.line, field);
    pos += amt.length;
    const type = /^[NSF][A-Z0-9]{3}/.exec(head.slice(pos));
    if (!type) this.fail('bad_value', f.line, field, `${JSON.stringify(head.slice(pos, pos + 4))} is not a transaction type (N/S/F + 3 characters)`);
    pos += 4;
    const rest = head.slice(pos);
    const sep = rest.indexOf('//');
    const customerRef = cleanText(sep >= 0 ? rest.slice(0, sep) : rest);
    let bankRef = sep >= 0 ? cleanText(rest.slice(sep + 2)) : null;
    if (bankRef !== null && bankRef.length < 16 && more.length > 0 && /^[A-Za-z0-9]+$/.test(more[0]!) && bankRef.length + more[0]!.length <= 16) {
      bankRef += more.shift()!; // a bank reference wrapped onto the next line
    }
    const credit = mark[0] === 'C' || mark[0] === 'RD';
    const amount = signed(unsigned, credit);
    const references: BankReference[] = [];
    if (customerRef !== null && customerRef.toUpperCase() !== 'NONREF') references.push({ kind: 'customer', value: customerRef });
    s.info.entryCount += 1;
    s.info.lineCount += 1;
    s.sum = s.sum.plus(amount);
    const side = credit ? s.credit : s.debit;
    side.count += 1;
    side.sum = side.sum.plus(unsigned);
    this.pending = {
      account: s.info.account.id,
      statementId: s.info.id,
      statementIndex: s.info.index,
      entryIndex: s.info.entryCount,
      currency: s.info.currency,
      amount,
      bookingDate,
      valueDate,
      entryRef: bankRef,
      endToEndId: null,
      references,
      remittance: null,
      additionalInfo: cleanText(more.join('')),
      counterpartyName: null,
      counterpartyAccount: null,
      bankTxCode: type[0],
      status: 'BOOK',
      reversal: mark[0].startsWith('R'),
      batch: null,
      source: { line: f.line },
    };
    this.lineCount += 1;
  }

  private apply86(line: BankLine, text: string | null): void {
    line.remittance = text;
    if (text === null) return;
    const sub = structured86(text);
    if (!sub) return;
    const eref = sub.get('EREF');
    if (eref && eref.toUpperCase() !== 'NOTPROVIDED') line.endToEndId = eref;
    for (const code of ['PREF', 'MARF', 'CSID', 'KREF']) {
      const v = sub.get(code);
      if (v) line.references.push({ kind: code, value: v });
    }
    const cntp = sub.get('CNTP');
    if (cntp) {
      const [acct, , name] = cntp.split('/');
      line.counterpartyAccount = cleanText(acct);
      line.counterpartyName = cleanText(name);
    }
    line.counterpartyName ??= cleanText(sub.get('NAME'));
    line.counterpartyAccount ??= cleanText(sub.get('IBAN'));
  }

  private endStatement(s: Statement, line: number, explicit: boolean): void {
    const info = s.info;
    const label = `statement ${info.id}${info.sequence !== null ? ` (${info.sequence})` : ''}`;
    if (info.opening === null || info.closing === null) {
      const missing = info.opening === null ? 'opening balance (:60F:)' : 'closing balance (:62F:)';
      if (!explicit && info.closing === null) this.fail('truncated', line, ':62F:', `${label} ends before its closing balance`);
      if (!this.options.acceptMissingBalance) this.fail('missing_balance', info.line, info.opening === null ? ':60F:' : ':62F:', `${label} states no ${missing}: its lines cannot be checked`);
      this.warnings.push(`${label} states no ${missing}; its lines were not balance-checked`);
      if (info.account.id === '' && info.currency !== '') this.resolveAccount(s, info.line);
    } else {
      this.controls.check({
        label: `${label} :${info.closing.type}:`,
        statementIndex: info.index,
        line: info.closing.line,
        currency: info.currency,
        expected: info.closing.amount,
        actual: info.opening.amount.plus(s.sum),
        measure: { of: 'balance', statementIndex: info.index, statuses: ['BOOK'] },
      });
      info.period = { from: info.opening.date, to: info.closing.date };
    }
    for (const t of s.infoTexts) {
      // ING: /SUM/<debit count>/<credit count>/<debit sum>/<credit sum>/
      const m = /^\/SUM\/(\d+)\/(\d+)\/([\d,]+)\/([\d,]+)\/?$/.exec(t.text);
      if (!m) continue;
      const checks: [string, DecimalT, DecimalT, 'count' | 'absSum', 'debit' | 'credit'][] = [
        ['debit count', one.times(m[1]!), one.times(s.debit.count), 'count', 'debit'],
        ['credit count', one.times(m[2]!), one.times(s.credit.count), 'count', 'credit'],
        ['debit sum', swiftAmount(m[3]!, this.file, t.line, ':86:'), s.debit.sum, 'absSum', 'debit'],
        ['credit sum', swiftAmount(m[4]!, this.file, t.line, ':86:'), s.credit.sum, 'absSum', 'credit'],
      ];
      for (const [what, expected, actual, of, side] of checks) {
        this.controls.check({
          label: `${label} :86:/SUM/ ${what}`,
          statementIndex: info.index,
          line: t.line,
          currency: of === 'count' ? null : info.currency,
          expected,
          actual,
          measure: { of, statementIndex: info.index, statuses: ['BOOK'], side },
        });
      }
    }
    this.statements.push(info);
  }
}

async function openText(path: string): Promise<{ text: Readable; encoding: string }> {
  const encoding = (await isUtf8File(path)) ? 'utf8' : 'latin1';
  return { text: decodeFile(path, encoding), encoding };
}

async function* parseMt940(source: BankStatementSource, options: BankParseOptions): AsyncGenerator<BankLine, BankStatementSummary, undefined> {
  const file = source.displayName ?? basename(source.path);
  const { text, encoding } = await openText(source.path);
  const reader = new Mt940Reader(file, options);
  for await (const { line, text: t } of textLines(text, file, encoding)) {
    reader.feed(t, line);
    if (reader.out.length > 0) {
      const ready = reader.out;
      reader.out = [];
      yield* ready;
    }
  }
  reader.finish();
  yield* reader.out;
  return {
    format: 'mt940',
    messageId: null,
    statements: reader.statements,
    lineCount: reader.lineCount,
    controls: reader.controls.list,
    warnings: reader.warnings,
  };
}

export const mt940Parser: BankStatementParser = {
  format: 'mt940',
  accepts: 'SWIFT MT940 customer statements, with or without SWIFT blocks, several statements per file',
  parse(source: BankStatementSource, options: BankParseOptions = {}): ParsedBankStatement {
    return parsedBankStatement(() => parseMt940(source, options));
  },
};
