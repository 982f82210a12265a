import type { Decimal } from '../../core/money/index.js';

/**
 * The bank statement contract: what a bank statement parser (camt.053, MT940) emits for the
 * payout ↔ bank-deposit matching. It is simpler than the provider contract: a bank line is one booked
 * (or pending) movement on one bank account, signed from the account holder's view.
 *
 * Sign convention: `amount` is positive for a credit (money in, e.g. a PSP payout arriving) and
 * negative for a debit (money out). A reversal keeps the sign of the movement it books: MT940 `RC`
 * (reversal of a credit) is a debit, `RD` (reversal of a debit) is a credit; camt `RvslInd` does not
 * change the sign given by `CdtDbtInd`.
 *
 * Dates are calendar dates `YYYY-MM-DD` as the bank wrote them (a camt `DtTm` keeps the date part
 * as written, no time-zone conversion): banks book on their own calendar.
 */

/** Entry status: booked, pending, information only, future (camt .001.08+ `FUTR`). MT940 lines are BOOK. */
export const BANK_ENTRY_STATUSES = ['BOOK', 'PDNG', 'INFO', 'FUTR'] as const;
export type BankEntryStatus = (typeof BANK_ENTRY_STATUSES)[number];

/** A reference the bank gave about the movement, with where it came from (camt element or MT940 code). */
export interface BankReference {
  /** `InstrId`, `MndtId`, `TxId`, `PmtInfId`, `AcctSvcrRef`, `NtryRef`, `CdtrRef`, `ChqNb`, `Prtry`,
   *  `EndToEndId` (only when several are merged on one line), MT940 `customer`, `PREF`, `MARF`, `CSID`, … */
  kind: string;
  value: string;
}

/** For a batch-booked entry (camt `NtryDtls/Btch` or several `TxDtls`): where this line sits in it. */
export interface BankBatch {
  /** `Btch/MsgId`, `Btch/PmtInfId` when the bank gives them. */
  messageId: string | null;
  paymentInfoId: string | null;
  /** `Btch/NbOfTxs` as written, or null. */
  declaredCount: number | null;
  /** The number of `TxDtls` the entry carries. */
  detailCount: number;
  /** 1-based position of this line's `TxDtls` in the entry, or null when the entry gave one line. */
  index: number | null;
  /** The signed amount of the whole entry (equals the sum of its lines when split). */
  entryAmount: Decimal;
}

export interface BankLine {
  /** The account the statement is for: IBAN when the bank gives one, otherwise its account id. */
  account: string;
  /** Statement id (camt `Stmt/Id`, MT940 `:20:`). */
  statementId: string;
  /** 1-based position of the statement in the file (MT940 ids need not be unique). */
  statementIndex: number;
  /** 1-based position of the entry (camt `Ntry`, MT940 `:61:`) in its statement; split lines share it. */
  entryIndex: number;
  /** ISO 4217, upper case. */
  currency: string;
  /** Signed: credit +, debit −. Major units, every digit the bank wrote. */
  amount: Decimal;
  /** camt `BookgDt`; an entry without one (pending) takes its value date. MT940: the entry date (MMDD,
   *  year taken from the value date, across a year end when needed), else the value date. */
  bookingDate: string;
  /** camt `ValDt` when given; MT940 always has one. */
  valueDate: string | null;
  /** The bank's reference of the entry: camt `Ntry/AcctSvcrRef`, MT940 `:61:` `//` bank reference. */
  entryRef: string | null;
  /** camt `Refs/EndToEndId` (`NOTPROVIDED` → null); MT940 `/EREF/` of a structured `:86:`. */
  endToEndId: string | null;
  references: BankReference[];
  /** camt `RmtInf` (every `Ustrd`, then `Strd` references and texts, joined by a space); MT940 the whole
   *  `:86:` text, continuation lines joined and runs of white space collapsed. */
  remittance: string | null;
  /** camt `AddtlTxInf` / `AddtlNtryInf`; MT940 `:61:` supplementary details (its second line). */
  additionalInfo: string | null;
  counterpartyName: string | null;
  counterpartyAccount: string | null;
  /** camt `Domn/Cd/Fmly/Cd/SubFmlyCd` joined by `/`, and/or `Prtry/Cd` (after a space); MT940 `N`+3 code. */
  bankTxCode: string | null;
  status: BankEntryStatus;
  reversal: boolean;
  batch: BankBatch | null;
  /** 1-based physical line of the entry (`<Ntry>`, or `<TxDtls>` for a split line; `:61:` for MT940). */
  source: { line: number };
}

export interface BankBalance {
  /** camt `OPBD`, `PRCD`, `CLBD`, `CLAV`, `ITBD`, `FWAV`…; MT940 `60F`, `60M`, `62F`, `62M`, `64`, `65`. */
  type: string;
  amount: Decimal;
  currency: string;
  date: string;
  line: number;
}

export interface BankStatementInfo {
  index: number;
  id: string;
  /** camt `LglSeqNb` or `ElctrncSeqNb`; MT940 `:28C:`. */
  sequence: string | null;
  account: { iban: string | null; id: string; bic: string | null };
  currency: string;
  /** The balance the check starts from (OPBD, else PRCD; MT940 :60F:/:60M:). */
  opening: BankBalance | null;
  /** The balance the check ends at (CLBD; MT940 :62F:/:62M:). Null only when the bank gave none and
   *  the caller accepted that (`acceptMissingBalance`). */
  closing: BankBalance | null;
  /** Every other balance the statement states (CLAV, :64:, :65:, …), informational. */
  otherBalances: BankBalance[];
  /** camt `FrToDt` date parts; MT940 opening and closing balance dates. */
  period: { from: string; to: string } | null;
  entryCount: number;
  lineCount: number;
  line: number;
}

/** A control total the statement states about itself and what its entries add up to. */
export interface BankControl {
  /** e.g. `statement 1234Test/1 CLBD`, `statement 940S140102 :62F:`, `statement X TxsSummry/TtlNtries/NbOfNtries`. */
  label: string;
  statementIndex: number;
  line: number;
  currency: string | null;
  expected: string;
  actual: string;
  /**
   * How to recompute `actual` from the emitted lines, independently of the parser:
   * - `balance`: opening balance + Σ amounts of lines with one of `statuses`;
   * - `count`: number of entries; `sum`: Σ signed entry amounts; `absSum`: Σ |entry amount|;
   * restricted to `side` (credit/debit entries) when given, to `statuses` and to the statement.
   * `entry`: one batch entry, Σ of its lines = the entry amount.
   */
  measure?:
    | { of: 'balance'; statementIndex: number; statuses: BankEntryStatus[] }
    | { of: 'count' | 'sum' | 'absSum'; statementIndex: number; statuses: BankEntryStatus[]; side?: 'credit' | 'debit' }
    | { of: 'entry'; statementIndex: number; entryIndex: number };
}

export interface BankStatementSummary {
  /** `camt.053.001.02` … `camt.053.001.08` (from the namespace), or `mt940`. */
  format: string;
  /** camt `GrpHdr/MsgId`; null for MT940. */
  messageId: string | null;
  statements: BankStatementInfo[];
  lineCount: number;
  controls: BankControl[];
  /** Things accepted on request that a person may want to know (e.g. a statement without closing balance). */
  warnings: string[];
}

export interface BankParseOptions {
  /** Accept statements whose balances or totals disagree with their entries; still recorded in `controls`. */
  acceptControlTotalMismatch?: boolean;
  /** Accept a statement that states no opening or closing balance (nothing can be checked for it). */
  acceptMissingBalance?: boolean;
}

export interface BankStatementSource {
  path: string;
  displayName?: string;
}

/** Iterate for the lines in file order; `summary` settles after the last line and every check. */
export interface ParsedBankStatement extends AsyncIterable<BankLine> {
  readonly summary: Promise<BankStatementSummary>;
}

export type BankFormat = 'camt053' | 'mt940';

export interface BankStatementParser {
  readonly format: BankFormat;
  readonly accepts: string;
  parse(source: BankStatementSource, options?: BankParseOptions): ParsedBankStatement;
}
