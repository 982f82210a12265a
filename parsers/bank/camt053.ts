/**
 * ISO 20022 camt.053 (BankToCustomerStatement) parser, streaming.
 *
 * - Any version .001.02 … .001.08+: elements are matched by LOCAL name; the namespace only names the
 *   version (`summary.format`). `Sts` is read as text (.001.02–.07) or `Sts/Cd` (.001.08+).
 * - The file is read through a SAX parser (saxes); only one `Ntry` (with its `TxDtls`) and the statement
 *   header elements are held in memory at a time.
 * - Several `Stmt` per file. Per statement: opening (`OPBD`, else `PRCD`) + Σ BOOK entries = closing
 *   (`CLBD`); `TxsSummry` totals when present (over all entries of the statement); a batch entry's
 *   `TxDtls` amounts sum to the entry amount. `CLAV`/`ITBD`/`FWAV` … are recorded, not checked.
 * - One BankLine per `Ntry`, except an entry with several `TxDtls` that all carry an amount in the entry's
 *   currency (`TxDtls/Amt`, or `AmtDtls/TxAmt/Amt` in .001.02): one line per `TxDtls`.
 * - Errors name the file and the line of the element at fault (the parser's position at its start tag).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';
import { StatementFormatError } from '../../core/errors.js';
import { isKnownCurrency, type Decimal as DecimalT } from '../../core/money/index.js';
import { basename } from 'node:path';
import {
  BANK_ENTRY_STATUSES,
  type BankBalance,
  type BankEntryStatus,
  type BankLine,
  type BankParseOptions,
  type BankReference,
  type BankStatementInfo,
  type BankStatementParser,
  type BankStatementSource,
  type BankStatementSummary,
  type ParsedBankStatement,
} from './contract.js';
import { BankControls, checkedDate, cleanText, one, signed, unsignedAmount, ZERO } from './common.js';
import { parsedBankStatement } from './parsed-bank-statement.js';
import { openXmlText } from './xml-source.js';

interface XNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XNode[];
  line: number;
}

function kid(node: XNode | undefined, path: string): XNode | undefined {
  let n = node;
  for (const part of path.split('/')) {
    if (n === undefined) return undefined;
    n = n.children.find((c) => c.name === part);
  }
  return n;
}

function kids(node: XNode | undefined, name: string): XNode[] {
  return node ? node.children.filter((c) => c.name === name) : [];
}

function txt(node: XNode | undefined, path?: string): string | null {
  const n = path === undefined ? node : kid(node, path);
  if (n === undefined) return null;
  const t = n.text.trim();
  return t === '' ? null : t;
}

const NS = /^urn:iso:std:iso:20022:tech:xsd:(camt\.\d{3}\.\d{3}\.\d{2})$/;

interface StatementState {
  info: BankStatementInfo;
  balances: BankBalance[];
  txsSummary: XNode | undefined;
  bookedSum: DecimalT;
  all: { count: number; sum: DecimalT; absSum: DecimalT };
  credit: { count: number; sum: DecimalT };
  debit: { count: number; sum: DecimalT };
}

interface TxDetail {
  node: XNode;
  amount: DecimalT | null;
  currency: string | null;
  refs: BankReference[];
  endToEndId: string | null;
  remittance: string | null;
  additionalInfo: string | null;
  counterpartyName: string | null;
  counterpartyAccount: string | null;
  bankTxCode: string | null;
}

class CamtReader {
  readonly lines: BankLine[] = [];
  readonly controls: BankControls;
  readonly statements: BankStatementInfo[] = [];
  readonly warnings: string[] = [];
  format = 'camt.053';
  messageId: string | null = null;

  private depth = 0;
  private capture: XNode[] = [];
  private stmt: StatementState | undefined;
  private stmtCount = 0;
  private sawRoot = false;

  constructor(
    private readonly file: string,
    private readonly options: BankParseOptions,
    private readonly position: () => number,
  ) {
    this.controls = new BankControls(file, options);
  }

  private fail(code: string, line: number, field: string | undefined, detail: string): never {
    throw new StatementFormatError(code, { file: this.file, line, ...(field !== undefined ? { field } : {}) }, detail);
  }

  open(tag: SaxesTagNS): void {
    this.depth += 1;
    const line = this.position();
    const local = tag.local;
    if (this.capture.length > 0) {
      const node: XNode = { name: local, attrs: {}, text: '', children: [], line };
      for (const a of Object.values(tag.attributes)) node.attrs[a.local] = a.value;
      this.capture[this.capture.length - 1]!.children.push(node);
      this.capture.push(node);
      return;
    }
    if (this.depth === 1) {
      this.sawRoot = true;
      if (local !== 'Document') this.fail('unknown_layout', line, undefined, `root element <${tag.name}> is not an ISO 20022 <Document>`);
      const m = NS.exec(tag.uri);
      if (m) {
        if (!m[1]!.startsWith('camt.053.')) this.fail('wrong_document', line, undefined, `${m[1]} is not a camt.053 bank-to-customer statement`);
        this.format = m[1]!;
      }
      return;
    }
    if (this.depth === 2) {
      if (local !== 'BkToCstmrStmt') this.fail('wrong_document', line, undefined, `<${local}> is not a camt.053 <BkToCstmrStmt>`);
      return;
    }
    if (this.depth === 3 && local === 'Stmt') {
      this.stmtCount += 1;
      this.stmt = {
        info: {
          index: this.stmtCount,
          id: '',
          sequence: null,
          account: { iban: null, id: '', bic: null },
          currency: '',
          opening: null,
          closing: null,
          otherBalances: [],
          period: null,
          entryCount: 0,
          lineCount: 0,
          line,
        },
        balances: [],
        txsSummary: undefined,
        bookedSum: ZERO,
        all: { count: 0, sum: ZERO, absSum: ZERO },
        credit: { count: 0, sum: ZERO },
        debit: { count: 0, sum: ZERO },
      };
      return;
    }
    if ((this.depth === 3 && local === 'GrpHdr') || (this.depth === 4 && this.stmt !== undefined)) {
      const node: XNode = { name: local, attrs: {}, text: '', children: [], line };
      for (const a of Object.values(tag.attributes)) node.attrs[a.local] = a.value;
      this.capture.push(node);
    }
  }

  text(t: string): void {
    const top = this.capture[this.capture.length - 1];
    if (top) top.text += t;
  }

  close(): void {
    this.depth -= 1;
    if (this.capture.length > 0) {
      const node = this.capture.pop()!;
      if (this.capture.length === 0) this.handle(node);
      return;
    }
    if (this.depth === 2 && this.stmt !== undefined) {
      this.endStatement(this.stmt);
      this.stmt = undefined;
    }
  }

  end(): void {
    if (!this.sawRoot) this.fail('truncated', 1, undefined, 'the file is empty');
    if (this.stmtCount === 0) this.fail('no_statement', 1, 'Stmt', 'the document has no <Stmt>');
  }

  private handle(node: XNode): void {
    if (node.name === 'GrpHdr') {
      this.messageId = txt(node, 'MsgId');
      return;
    }
    const s = this.stmt!;
    switch (node.name) {
      case 'Id':
        s.info.id = txt(node) ?? '';
        break;
      case 'LglSeqNb':
        s.info.sequence = txt(node);
        break;
      case 'ElctrncSeqNb':
        s.info.sequence ??= txt(node);
        break;
      case 'FrToDt': {
        const from = txt(node, 'FrDtTm') ?? txt(node, 'FrDt');
        const to = txt(node, 'ToDtTm') ?? txt(node, 'ToDt');
        if (from !== null && to !== null) {
          s.info.period = {
            from: checkedDate(from.slice(0, 10), this.file, node.line, 'FrToDt'),
            to: checkedDate(to.slice(0, 10), this.file, node.line, 'FrToDt'),
          };
        }
        break;
      }
      case 'Acct': {
        const iban = txt(node, 'Id/IBAN');
        const other = txt(node, 'Id/Othr/Id');
        s.info.account = { iban, id: iban ?? other ?? '', bic: txt(node, 'Svcr/FinInstnId/BIC') ?? txt(node, 'Svcr/FinInstnId/BICFI') };
        const ccy = txt(node, 'Ccy');
        if (ccy !== null) s.info.currency = this.currency(ccy, node.line, 'Acct/Ccy');
        break;
      }
      case 'Bal':
        this.balance(s, node);
        break;
      case 'TxsSummry':
        s.txsSummary = node;
        break;
      case 'Ntry':
        this.entry(s, node);
        break;
      default:
        break;
    }
  }

  private currency(text: string, line: number, field: string): string {
    if (!isKnownCurrency(text)) this.fail('bad_currency', line, field, `${JSON.stringify(text)} is not an ISO 4217 currency`);
    return text;
  }

  private amountOf(node: XNode | undefined, field: string, parent: XNode): { amount: DecimalT; currency: string } {
    if (node === undefined) this.fail('truncated', parent.line, field, `<${parent.name}> has no <${field.split('/').pop()}>`);
    const amount = unsignedAmount(node.text, this.file, node.line, field);
    const ccy = node.attrs.Ccy;
    if (ccy === undefined) this.fail('bad_currency', node.line, field, 'amount without Ccy');
    return { amount, currency: this.currency(ccy, node.line, field) };
  }

  private creditOf(node: XNode | undefined, field: string, parent: XNode): boolean {
    const ind = txt(node);
    if (ind === 'CRDT') return true;
    if (ind === 'DBIT') return false;
    return this.fail('bad_value', node?.line ?? parent.line, field, `CdtDbtInd ${JSON.stringify(ind)} is neither CRDT nor DBIT`);
  }

  private dateOf(node: XNode | undefined, field: string): string | null {
    if (node === undefined) return null;
    const d = txt(node, 'Dt') ?? txt(node, 'DtTm')?.slice(0, 10) ?? null;
    if (d === null) this.fail('bad_date', node.line, field, `<${node.name}> has neither <Dt> nor <DtTm>`);
    return checkedDate(d, this.file, node.line, field);
  }

  private balance(s: StatementState, node: XNode): void {
    const type = txt(node, 'Tp/CdOrPrtry/Cd') ?? txt(node, 'Tp/CdOrPrtry/Prtry');
    if (type === null) this.fail('bad_value', node.line, 'Bal/Tp', 'balance without type code');
    const { amount, currency } = this.amountOf(kid(node, 'Amt'), 'Bal/Amt', node);
    const credit = this.creditOf(kid(node, 'CdtDbtInd'), 'Bal/CdtDbtInd', node);
    const date = this.dateOf(kid(node, 'Dt'), 'Bal/Dt');
    if (date === null) this.fail('bad_date', node.line, 'Bal/Dt', 'balance without date');
    s.balances.push({ type, amount: signed(amount, credit), currency, date, line: node.line });
    if (s.info.currency === '') s.info.currency = currency;
  }

  private txDetail(tx: XNode, entryCredit: boolean): TxDetail {
    let amount: DecimalT | null = null;
    let currency: string | null = null;
    let credit = entryCredit;
    const amt = kid(tx, 'Amt') ?? kid(tx, 'AmtDtls/TxAmt/Amt');
    if (amt !== undefined) {
      const a = this.amountOf(amt, amt === kid(tx, 'Amt') ? 'TxDtls/Amt' : 'TxDtls/AmtDtls/TxAmt/Amt', tx);
      const ind = kid(tx, 'CdtDbtInd');
      if (ind !== undefined) credit = this.creditOf(ind, 'TxDtls/CdtDbtInd', tx);
      amount = signed(a.amount, credit);
      currency = a.currency;
    }
    const refs: BankReference[] = [];
    const refsNode = kid(tx, 'Refs');
    let endToEndId: string | null = null;
    for (const r of refsNode?.children ?? []) {
      if (r.name === 'Prtry') {
        const v = txt(r, 'Ref');
        if (v !== null) refs.push({ kind: `Prtry${txt(r, 'Tp') !== null ? ':' + txt(r, 'Tp') : ''}`, value: v });
        continue;
      }
      const v = txt(r);
      if (v === null) continue;
      if (r.name === 'EndToEndId') {
        if (v.toUpperCase() !== 'NOTPROVIDED') endToEndId = v;
        continue;
      }
      if (v.toUpperCase() === 'NOTPROVIDED') continue;
      refs.push({ kind: r.name, value: v });
    }
    const texts: string[] = [];
    for (const rmt of kids(tx, 'RmtInf')) {
      for (const u of kids(rmt, 'Ustrd')) {
        const t = txt(u);
        if (t !== null) texts.push(t);
      }
      for (const strd of kids(rmt, 'Strd')) {
        for (const doc of kids(strd, 'RfrdDocInf')) {
          const nb = txt(doc, 'Nb');
          if (nb !== null) texts.push(nb);
        }
        for (const cref of kids(strd, 'CdtrRefInf')) {
          const ref = txt(cref, 'Ref');
          if (ref !== null) {
            texts.push(ref);
            refs.push({ kind: 'CdtrRef', value: ref });
          }
        }
        for (const add of kids(strd, 'AddtlRmtInf')) {
          const t = txt(add);
          if (t !== null) texts.push(t);
        }
      }
    }
    const parties = kid(tx, 'RltdPties');
    const side = credit ? 'Dbtr' : 'Cdtr';
    const partyName = txt(parties, `${side}/Nm`) ?? txt(parties, `${side}/Pty/Nm`);
    const partyAccount = txt(parties, `${side}Acct/Id/IBAN`) ?? txt(parties, `${side}Acct/Id/Othr/Id`);
    return {
      node: tx,
      amount,
      currency,
      refs,
      endToEndId,
      remittance: cleanText(texts.join(' ')),
      additionalInfo: cleanText(kids(tx, 'AddtlTxInf').map((n) => n.text).join(' ')),
      counterpartyName: cleanText(partyName),
      counterpartyAccount: partyAccount,
      bankTxCode: bankTxCode(kid(tx, 'BkTxCd')),
    };
  }

  private entry(s: StatementState, node: XNode): void {
    const info = s.info;
    const entryIndex = info.entryCount + 1;
    const { amount: unsigned, currency } = this.amountOf(kid(node, 'Amt'), 'Ntry/Amt', node);
    const credit = this.creditOf(kid(node, 'CdtDbtInd'), 'Ntry/CdtDbtInd', node);
    const amount = signed(unsigned, credit);
    if (info.currency === '') info.currency = currency;
    if (currency !== info.currency) this.fail('currency_mismatch', kid(node, 'Amt')!.line, 'Ntry/Amt', `entry in ${currency} on a statement in ${info.currency}`);
    const stsNode = kid(node, 'Sts');
    const sts = txt(stsNode) ?? txt(stsNode, 'Cd') ?? txt(stsNode, 'Prtry');
    if (sts === null || !(BANK_ENTRY_STATUSES as readonly string[]).includes(sts)) {
      this.fail('bad_value', stsNode?.line ?? node.line, 'Ntry/Sts', `entry status ${JSON.stringify(sts)} is not one of ${BANK_ENTRY_STATUSES.join(', ')}`);
    }
    const status = sts as BankEntryStatus;
    const reversal = txt(node, 'RvslInd')?.toLowerCase() === 'true';
    const valueDate = this.dateOf(kid(node, 'ValDt'), 'Ntry/ValDt');
    const bookingDate = this.dateOf(kid(node, 'BookgDt'), 'Ntry/BookgDt') ?? valueDate;
    if (bookingDate === null) this.fail('bad_date', node.line, 'Ntry/BookgDt', 'entry with neither booking nor value date');
    const entryRef = txt(node, 'AcctSvcrRef');
    const ntryRef = txt(node, 'NtryRef');
    const entryCode = bankTxCode(kid(node, 'BkTxCd'));
    const dtls = kids(node, 'NtryDtls');
    const btch = dtls.map((d) => kid(d, 'Btch')).find((b) => b !== undefined);
    const txs = dtls.flatMap((d) => kids(d, 'TxDtls')).map((tx) => this.txDetail(tx, credit));
    const entryInfo = cleanText(kids(node, 'AddtlNtryInf').map((n) => n.text).join(' '));

    const declared = txt(btch, 'NbOfTxs');
    const isBatch = btch !== undefined || txs.length > 1;
    const batchBase = {
      messageId: txt(btch, 'MsgId'),
      paymentInfoId: txt(btch, 'PmtInfId'),
      declaredCount: declared !== null && /^\d+$/.test(declared) ? Number.parseInt(declared, 10) : null,
      detailCount: txs.length,
      entryAmount: amount,
    };
    const base = {
      account: info.account.id,
      statementId: info.id,
      statementIndex: info.index,
      entryIndex,
      currency,
      bookingDate,
      valueDate,
      entryRef,
      status,
      reversal,
    };
    const withNtryRef = (refs: BankReference[]): BankReference[] => (ntryRef !== null ? [{ kind: 'NtryRef', value: ntryRef }, ...refs] : refs);
    const joinInfo = (a: string | null): string | null => cleanText([a, entryInfo].filter((x) => x !== null).join(' '));

    const split = txs.length > 1 && txs.every((t) => t.amount !== null && t.currency === currency);
    if (split) {
      let total = ZERO;
      txs.forEach((t, i) => {
        total = total.plus(t.amount!);
        this.lines.push({
          ...base,
          amount: t.amount!,
          endToEndId: t.endToEndId,
          references: withNtryRef(t.refs),
          remittance: t.remittance,
          additionalInfo: joinInfo(t.additionalInfo),
          counterpartyName: t.counterpartyName,
          counterpartyAccount: t.counterpartyAccount,
          bankTxCode: t.bankTxCode ?? entryCode,
          batch: { ...batchBase, index: i + 1 },
          source: { line: t.node.line },
        });
      });
      info.lineCount += txs.length;
      this.controls.check({
        label: `statement ${info.id} entry ${entryIndex} TxDtls amounts`,
        statementIndex: info.index,
        line: node.line,
        currency,
        expected: amount,
        actual: total,
        measure: { of: 'entry', statementIndex: info.index, entryIndex },
      });
    } else {
      const distinct = (values: (string | null)[]): string | null => {
        const set = new Set(values.filter((v): v is string => v !== null));
        return set.size === 1 ? [...set][0]! : null;
      };
      const e2e = txs.map((t) => t.endToEndId);
      const refs = txs.flatMap((t) => t.refs);
      // Several TxDtls merged on one line: keep every EndToEndId as a reference when they differ.
      if (distinct(e2e) === null) for (const v of e2e) if (v !== null) refs.push({ kind: 'EndToEndId', value: v });
      this.lines.push({
        ...base,
        amount,
        endToEndId: distinct(e2e),
        references: withNtryRef(refs),
        remittance: cleanText(txs.map((t) => t.remittance ?? '').join(' ')),
        additionalInfo: joinInfo(cleanText(txs.map((t) => t.additionalInfo ?? '').join(' '))),
        counterpartyName: distinct(txs.map((t) => t.counterpartyName)),
        counterpartyAccount: distinct(txs.map((t) => t.counterpartyAccount)),
        bankTxCode: entryCode ?? distinct(txs.map((t) => t.bankTxCode)),
        batch: isBatch ? { ...batchBase, index: null } : null,
        source: { line: node.line },
      });
      info.lineCount += 1;
    }
    info.entryCount = entryIndex;
    if (status === 'BOOK') s.bookedSum = s.bookedSum.plus(amount);
    s.all.count += 1;
    s.all.sum = s.all.sum.plus(amount);
    s.all.absSum = s.all.absSum.plus(unsigned);
    const sideTotals = credit ? s.credit : s.debit;
    sideTotals.count += 1;
    sideTotals.sum = sideTotals.sum.plus(unsigned);
  }

  private endStatement(s: StatementState): void {
    const info = s.info;
    if (info.id === '') this.fail('truncated', info.line, 'Stmt/Id', 'statement without <Id>');
    if (info.account.id === '') this.fail('truncated', info.line, 'Stmt/Acct', `statement ${info.id} without account id`);
    const find = (...types: string[]) => {
      for (const t of types) {
        const b = s.balances.find((x) => x.type === t);
        if (b) return b;
      }
      return null;
    };
    info.opening = find('OPBD', 'PRCD');
    info.closing = find('CLBD');
    info.otherBalances = s.balances.filter((b) => b !== info.opening && b !== info.closing);
    for (const b of s.balances) {
      if (b.currency !== info.currency) this.fail('currency_mismatch', b.line, 'Bal/Amt', `balance ${b.type} in ${b.currency} on a statement in ${info.currency}`);
    }
    const label = `statement ${info.id}`;
    if (info.opening === null || info.closing === null) {
      const missing = info.opening === null ? 'opening balance (OPBD/PRCD)' : 'closing balance (CLBD)';
      if (!this.options.acceptMissingBalance) this.fail('missing_balance', info.line, 'Bal', `${label} states no ${missing}: its entries cannot be checked`);
      this.warnings.push(`${label} states no ${missing}; its entries were not balance-checked`);
    } else {
      this.controls.check({
        label: `${label} ${info.closing.type}`,
        statementIndex: info.index,
        line: info.closing.line,
        currency: info.currency,
        expected: info.closing.amount,
        actual: info.opening.amount.plus(s.bookedSum),
        measure: { of: 'balance', statementIndex: info.index, statuses: ['BOOK'] },
      });
    }
    if (s.txsSummary) this.summaryTotals(s, s.txsSummary);
    this.statements.push(info);
  }

  private summaryTotals(s: StatementState, node: XNode): void {
    const info = s.info;
    const statuses = [...BANK_ENTRY_STATUSES];
    const check = (path: string, of: 'count' | 'sum' | 'absSum', actual: DecimalT, side?: 'credit' | 'debit', expectedNode?: XNode, credit?: boolean) => {
      const n = expectedNode ?? kid(node, path);
      if (n === undefined) return;
      let expected: DecimalT;
      if (of === 'count') {
        const t = n.text.trim();
        if (!/^\d+$/.test(t)) this.fail('bad_value', n.line, `TxsSummry/${path}`, `${JSON.stringify(t)} is not a count`);
        expected = one.times(t);
      } else {
        expected = unsignedAmount(n.text, this.file, n.line, `TxsSummry/${path}`);
        if (credit === false) expected = expected.negated();
      }
      this.controls.check({
        label: `statement ${info.id} TxsSummry/${path}`,
        statementIndex: info.index,
        line: n.line,
        currency: of === 'count' ? null : info.currency,
        expected,
        actual,
        measure: { of, statementIndex: info.index, statuses, ...(side ? { side } : {}) },
      });
    };
    check('TtlNtries/NbOfNtries', 'count', one.times(s.all.count));
    check('TtlNtries/Sum', 'absSum', s.all.absSum);
    const net = kid(node, 'TtlNtries/TtlNetNtry/Amt') ?? kid(node, 'TtlNtries/TtlNetNtryAmt');
    if (net !== undefined) {
      const indPath = kid(node, 'TtlNtries/TtlNetNtry/Amt') ? 'TtlNtries/TtlNetNtry/CdtDbtInd' : 'TtlNtries/CdtDbtInd';
      const credit = this.creditOf(kid(node, indPath), `TxsSummry/${indPath}`, node);
      check(net === kid(node, 'TtlNtries/TtlNetNtry/Amt') ? 'TtlNtries/TtlNetNtry/Amt' : 'TtlNtries/TtlNetNtryAmt', 'sum', s.all.sum, undefined, net, credit);
    }
    check('TtlCdtNtries/NbOfNtries', 'count', one.times(s.credit.count), 'credit');
    check('TtlCdtNtries/Sum', 'absSum', s.credit.sum, 'credit');
    check('TtlDbtNtries/NbOfNtries', 'count', one.times(s.debit.count), 'debit');
    check('TtlDbtNtries/Sum', 'absSum', s.debit.sum, 'debit');
  }
}

function bankTxCode(node: XNode | undefined): string | null {
  if (node === undefined) return null;
  const domain = [txt(node, 'Domn/Cd'), txt(node, 'Domn/Fmly/Cd'), txt(node, 'Domn/Fmly/SubFmlyCd')].filter((x) => x !== null);
  const prtry = txt(node, 'Prtry/Cd');
  const parts = [domain.length > 0 ? domain.join('/') : null, prtry].filter((x) => x !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}


async function* parseCamt(source: BankStatementSource, options: BankParseOptions): AsyncGenerator<BankLine, BankStatementSummary, undefined> {
  const file = source.displayName ?? basename(source.path);
  const { text, encoding } = await openXmlText(source.path, file);
  const parser = new SaxesParser({ xmlns: true, position: true });
  const reader = new CamtReader(file, options, () => parser.line);
  parser.on('opentag', (tag) => reader.open(tag as SaxesTagNS));
  parser.on('text', (t) => reader.text(t));
  parser.on('cdata', (t) => reader.text(t));
  parser.on('closetag', () => reader.close());
  let emitted = 0;
  const run = (fn: () => void, atEnd: boolean) => {
    try {
      fn();
    } catch (err) {
      if (err instanceof StatementFormatError) throw err;
      const detail = err instanceof Error ? err.message.replace(/^(?:[^:]*:)?\d+:\d+: /, '') : String(err);
      // At the end of input the position is past the last line terminator: name the last line.
      const line = atEnd && parser.column === 0 && parser.line > 1 ? parser.line - 1 : parser.line;
      throw new StatementFormatError(atEnd ? 'truncated' : 'bad_xml', { file, line }, `${atEnd ? 'the XML ends early' : 'malformed XML'}: ${detail}`, { cause: err });
    }
  };
  for await (const chunk of text) {
    const s = chunk as string;
    const bad = s.indexOf('\uFFFD');
    if (bad >= 0) {
      const line = parser.line + (s.slice(0, bad).match(/\n/g)?.length ?? 0);
      throw new StatementFormatError('bad_encoding', { file, line }, `bytes that are not valid ${encoding}`);
    }
    run(() => parser.write(s), false);
    while (emitted < reader.lines.length) yield reader.lines[emitted++]!;
    // Keep memory flat on big files: drop what has been handed out.
    reader.lines.splice(0, emitted);
    emitted = 0;
  }
  run(() => parser.close(), true);
  reader.end();
  while (emitted < reader.lines.length) yield reader.lines[emitted++]!;
  const lineCount = reader.statements.reduce((n, s) => n + s.lineCount, 0);
  return {
    format: reader.format,
    messageId: reader.messageId,
    statements: reader.statements,
    lineCount,
    controls: reader.controls.list,
    warnings: reader.warnings,
  };
}

export const camt053Parser: BankStatementParser = {
  format: 'camt053',
  accepts: 'ISO 20022 camt.053 (BankToCustomerStatement) XML, versions .001.02 to .001.08+',
  parse(source: BankStatementSource, options: BankParseOptions = {}): ParsedBankStatement {
    return parsedBankStatement(() => parseCamt(source, options));
  },
};
