import type { StatementParser } from '../contract.js';
import { ALIPAY_TIME_ZONE } from './envelope.js';
import { parseAlipay } from './parse.js';

/** Alipay merchant bills: the `trade` bill-download zip (业务明细 + 汇总), its bare 业务明细 csv, or a 账务明细. */
export const alipayParser = {
  provider: 'alipay',
  timeZone: ALIPAY_TIME_ZONE,
  accepts:
    'Alipay merchant bill (bill_type trade or signcustomer): the downloaded …csv.zip, or its …_业务明细.csv / …_账务明细.csv member, GBK as delivered',
  parse: parseAlipay,
} satisfies StatementParser;
