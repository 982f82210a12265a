/**
 * Provider and ledger text must never become a formula in a spreadsheet. A text cell that starts with
 * one of the characters spreadsheet programs treat as a formula (= + - @, tab, carriage return) gets a
 * leading apostrophe in CSV (OWASP's CSV-injection advice). Amount columns are numbers, never text, and
 * are not passed through here.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function safeText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return FORMULA_START.test(value) ? `'${value}` : value;
}
