import type { StatementParser } from '../contract.js';
import { ADYEN_TIME_ZONE, parseAdyen } from './parse.js';

/** Adyen Settlement details report (`settlement_detail_report_batch_N.csv`, or its XLSX export). */
export const adyenParser = {
  provider: 'adyen',
  timeZone: ADYEN_TIME_ZONE,
  accepts: 'Adyen settlement detail report (settlement_detail_report_batch_N.csv: classic, newer or extended columns; or its .xlsx export)',
  parse: parseAdyen,
} as const satisfies StatementParser;
