import type { StatementParser } from '../contract.js';
import { parseWechatpay } from './parse.js';
import { WECHATPAY_TIME_ZONE } from './structure.js';

/**
 * WeChat Pay (微信支付) merchant bills: the APIv3 trade bill (交易账单; bill_type ALL, SUCCESS, REFUND and the
 * historic 总金额 layout) and the fund-flow bill (资金账单), plain or gzip, recognised by content.
 */
export const wechatpayParser = {
  provider: 'wechatpay',
  timeZone: WECHATPAY_TIME_ZONE,
  accepts:
    'WeChat Pay merchant trade bill (交易账单: ALL / SUCCESS / REFUND / historic layout) or fund-flow bill (资金账单), UTF-8 CSV with backticked values, plain or gzip',
  parse: parseWechatpay,
} satisfies StatementParser;
