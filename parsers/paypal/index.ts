import type { StatementParser } from '../contract.js';
import { PAYPAL_TIME_ZONE, parsePayPal } from './parse.js';

/**
 * PayPal SFTP Settlement (STL) and Transaction Detail (TRR) reports.
 *
 * Time zone: America/Los_Angeles, the zone whose days PayPal's default reporting window (`A`) covers —
 * the real reports' SH periods run 00:00:00–23:59:59 -0800/-0700. It only names the calendar days of the
 * statement (a report whose RH names another window gets that window's zone in its summary); every
 * line's instant comes from the explicit ±hhmm offset the file writes.
 */
export const paypalParser = {
  provider: 'paypal',
  timeZone: PAYPAL_TIME_ZONE,
  accepts: 'PayPal SFTP Settlement Report (STL-*.CSV) and Transaction Detail Report (TRR-*.CSV), comma or tab delimited, spec pre-7 to 9.x',
  parse: parsePayPal,
} satisfies StatementParser;
