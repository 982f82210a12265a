import { ControlTotalMismatchError } from '../../core/errors.js';
import { Decimal, type Decimal as DecimalT } from '../../core/money/index.js';
import type { ControlTotal, ParseOptions } from '../contract.js';

/**
 * Collects the control totals a file states about itself and checks each against what its lines add up
 * to. A mismatch throws `ControlTotalMismatchError` naming the file, line and the total that disagrees,
 * unless the caller explicitly accepts such files (`acceptControlTotalMismatch`).
 */
export class ControlTotals {
  readonly list: ControlTotal[] = [];
  constructor(
    private readonly file: string,
    private readonly options: ParseOptions = {},
  ) {}

  check(total: Omit<ControlTotal, 'expected' | 'actual'> & { expected: DecimalT | string; actual: DecimalT | number }): void {
    const expected = typeof total.expected === 'string' ? new Decimal(total.expected) : total.expected;
    const actual = typeof total.actual === 'number' ? new Decimal(total.actual) : total.actual;
    const entry: ControlTotal = { ...total, expected: expected.toString(), actual: actual.toString() };
    this.list.push(entry);
    if (!expected.equals(actual) && !this.options.acceptControlTotalMismatch) {
      throw new ControlTotalMismatchError({ file: this.file, line: total.line, field: total.label }, total.label, expected.toString(), actual.toString());
    }
  }
}
