/**
 * Typed errors of walletrecon. Each sets `name` and fixes its prototype so `instanceof` survives
 * transpilation. `InputRejectedError` and its subclasses are the "bad input" family: the CLI maps them
 * to exit status 2 and the pipeline fails that file's job without retry.
 */
export class ReconError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Any input the product refuses to process: a statement, a ledger file, a command-line value. */
export class InputRejectedError extends ReconError {}

export interface StatementLocation {
  /** The file as the user named it (for a zip member: `archive.zip!member.csv`). */
  file: string;
  /** 1-based physical line in the (decoded) file or member; undefined when the fault is the whole file. */
  line?: number;
  /** The column or field at fault (header name as written in the file), when one is. */
  field?: string;
}

function describeLocation(loc: StatementLocation): string {
  let where = loc.file;
  if (loc.line !== undefined) where += `, line ${loc.line}`;
  if (loc.field !== undefined) where += `, field ${JSON.stringify(loc.field)}`;
  return where;
}

/** A statement file that is malformed, truncated, wrongly encoded, of an unknown layout, or unbalanced. */
export class StatementFormatError extends InputRejectedError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  /** Stable machine-readable reason, e.g. `control_total_mismatch`, `unknown_layout`, `truncated`. */
  readonly code: string;

  constructor(code: string, loc: StatementLocation, detail: string, options?: { cause?: unknown }) {
    super(`${describeLocation(loc)}: ${detail}`, options);
    this.code = code;
    this.file = loc.file;
    this.line = loc.line;
    this.field = loc.field;
  }
}

/** The file's own control totals (summary rows, footers) disagree with its lines. */
export class ControlTotalMismatchError extends StatementFormatError {
  readonly expected: string;
  readonly actual: string;
  constructor(loc: StatementLocation, label: string, expected: string, actual: string) {
    super('control_total_mismatch', loc, `control total ${label} says ${expected} but the lines add up to ${actual}`);
    this.expected = expected;
    this.actual = actual;
  }
}

/** A document that is recognisably something else (a consumer export, another report type). */
export class WrongDocumentError extends StatementFormatError {
  constructor(loc: StatementLocation, detail: string) {
    super('wrong_document', loc, detail);
  }
}

/** A ledger CSV that does not follow the contract. */
export class LedgerFormatError extends InputRejectedError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  /** What is wrong, without the location (the error can be rebuilt from location and detail). */
  readonly detail: string;
  constructor(loc: StatementLocation, detail: string) {
    super(`${describeLocation(loc)}: ${detail}`);
    this.file = loc.file;
    this.line = loc.line;
    this.field = loc.field;
    this.detail = detail;
  }
}

/** A command-line or configuration value that is missing or invalid. */
export class UsageError extends InputRejectedError {}

export function isInputRejected(err: unknown): err is InputRejectedError {
  return err instanceof InputRejectedError;
}
