import { InputRejectedError, ReconError } from '../../core/errors.js';

/**
 * A fee schedule file (or a schedule built in code) that is malformed or self-contradictory. The CLI maps
 * it to exit status 2 like every other `InputRejectedError`.
 *
 * - `file`: the schedule file as the user named it (or `<inline>` for schedules built in code);
 * - `path`: the JSON path of the fault, e.g. `schedules[3].rate` (empty for the whole document);
 * - `field`: the last key of that path (`rate`), when the fault is one field.
 */
export class FeeScheduleError extends InputRejectedError {
  readonly file: string;
  readonly path: string;
  readonly field: string | undefined;
  /** Stable machine-readable reason: `invalid_json`, `unknown_key`, `missing`, `invalid_value`, `overlap`, `ambiguous`, … */
  readonly code: string;

  constructor(code: string, file: string, path: string, detail: string, options?: { cause?: unknown }) {
    super(`${file}${path === '' ? '' : `: ${path}`}: ${detail}`, options);
    this.code = code;
    this.file = file;
    this.path = path;
    const m = /(?:^|\.)([A-Za-z_][A-Za-z0-9_]*)$/.exec(path);
    this.field = m?.[1];
  }
}

/**
 * The expected fee of one line cannot be computed from the schedule and the facts given: a line type the
 * schedule does not price (a payout), a chargeback under a schedule without `chargeback_fee`, a partial
 * refund whose original payment amount is needed but was not supplied, a currency that differs from the
 * schedule's. Never answered with a silent zero: callers count such lines as "not priceable".
 */
export class FeeNotComputableError extends ReconError {
  /** `line_type`, `no_chargeback_fee`, `original_needed`, `refund_exceeds_original`, `currency_mismatch`. */
  readonly code: string;
  readonly scheduleId: string;
  constructor(code: string, scheduleId: string, detail: string) {
    super(`fee schedule ${JSON.stringify(scheduleId)}: ${detail}`);
    this.code = code;
    this.scheduleId = scheduleId;
  }
}
