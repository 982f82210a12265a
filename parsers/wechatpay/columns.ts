/**
 * Header synonym tables of the WeChat Pay bills, per layout. Every column is looked up by NAME (after
 * `normaliseHeaderName`, so full-width `（元）` matches `(元)`), never by position.
 *
 * Sources:
 * - APIv3 trade bill, bill_type ALL / SUCCESS / REFUND, detail and summary headers:
 *   https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-trade.html
 *   (copied in ../shared/research/formats.md §2.3), real file: ../shared/samples/wechatpay/bill.ALL.csv.
 * - Historic layout (before 免充值优惠券 was enabled; still served to some merchants): `总金额` instead of
 *   `应结订单金额`, `企业红包金额` / `企业红包退款金额` instead of `代金券金额` / `充值券退款金额`, no
 *   `订单金额` / `申请退款金额` / `费率备注`; summary `总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额`
 *   (format-trade.html "注意事项"; header rows quoted in public code, formats.md §2.3).
 * - Old v2 names: `子商户号`, `代金券或立减优惠金额`, `代金券或立减优惠退款金额`, summary
 *   `总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额`
 *   (v2 downloadbill doc: https://wohugb.gitbooks.io/wechat-pay/content/api/downloadbill.html).
 * - Fund-flow bill (资金账单): https://pay.weixin.qq.com/docs/merchant/products/bill-download/format-fundflow.html
 *   (formats.md §2.4), doc sample ../shared/samples/wechatpay/DOC-SAMPLE_fundflowbill_from_wechatpay_docs.csv.
 */

/** Canonical keys of the trade-bill detail columns → every header name the bill has used for them. */
export const TRADE_COLUMNS = {
  tradeTime: ['交易时间'],
  appId: ['公众账号ID'],
  mchId: ['商户号'],
  subMchId: ['特约商户号', '子商户号'],
  deviceInfo: ['设备号'],
  transactionId: ['微信订单号'],
  outTradeNo: ['商户订单号'],
  openId: ['用户标识'],
  tradeType: ['交易类型'],
  tradeState: ['交易状态'],
  bankType: ['付款银行'],
  currency: ['货币种类'],
  /** Current: 应结订单金额 (settlement amount); historic: 总金额. Which one names the layout. */
  settlementAmount: ['应结订单金额', '总金额'],
  couponAmount: ['代金券金额', '企业红包金额', '代金券或立减优惠金额'],
  refundApplyTime: ['退款申请时间'],
  refundSuccessTime: ['退款成功时间'],
  refundId: ['微信退款单号'],
  outRefundNo: ['商户退款单号'],
  refundAmount: ['退款金额'],
  rechargeRefundAmount: ['充值券退款金额', '企业红包退款金额', '代金券或立减优惠退款金额'],
  refundType: ['退款类型'],
  refundStatus: ['退款状态'],
  body: ['商品名称'],
  attach: ['商户数据包'],
  fee: ['手续费'],
  rate: ['费率'],
  orderAmount: ['订单金额'],
  requestedRefundAmount: ['申请退款金额'],
  rateRemark: ['费率备注'],
} as const satisfies Record<string, readonly string[]>;
export type TradeColumn = keyof typeof TRADE_COLUMNS;

/** The historic name of the settlement column: its presence makes the layout `historic`. */
export const HISTORIC_SETTLEMENT_NAME = '总金额';

const COMMON_REQUIRED: TradeColumn[] = [
  'tradeTime', 'appId', 'mchId', 'subMchId', 'deviceInfo', 'transactionId', 'outTradeNo', 'openId', 'tradeType',
  'tradeState', 'bankType', 'currency', 'settlementAmount', 'couponAmount', 'body', 'attach', 'fee', 'rate',
];
const REFUND_COLUMNS: TradeColumn[] = ['refundId', 'outRefundNo', 'refundAmount', 'rechargeRefundAmount', 'refundType', 'refundStatus'];

/** The trade-bill layouts: which detail columns each must have (beyond them, nothing unknown is accepted). */
export type TradeLayout = 'ALL' | 'SUCCESS' | 'REFUND' | 'historic' | 'historic.SUCCESS' | 'historic.REFUND';

export const TRADE_REQUIRED: Record<TradeLayout, TradeColumn[]> = {
  ALL: [...COMMON_REQUIRED, ...REFUND_COLUMNS, 'orderAmount', 'requestedRefundAmount', 'rateRemark'],
  SUCCESS: [...COMMON_REQUIRED, 'orderAmount', 'rateRemark'],
  REFUND: [...COMMON_REQUIRED, 'refundApplyTime', 'refundSuccessTime', ...REFUND_COLUMNS, 'orderAmount', 'requestedRefundAmount', 'rateRemark'],
  historic: [...COMMON_REQUIRED, ...REFUND_COLUMNS],
  'historic.SUCCESS': [...COMMON_REQUIRED],
  'historic.REFUND': [...COMMON_REQUIRED, 'refundApplyTime', 'refundSuccessTime', ...REFUND_COLUMNS],
};

/** Trade-bill summary header (second-to-last line) → canonical keys. */
export const TRADE_SUMMARY_COLUMNS = {
  count: ['总交易单数'],
  settlementTotal: ['应结订单总金额', '总交易额'],
  refundTotal: ['退款总金额', '总退款金额'],
  rechargeRefundTotal: ['充值券退款总金额', '总企业红包退款金额', '总代金券或立减优惠退款金额'],
  feeTotal: ['手续费总金额'],
  orderTotal: ['订单总金额'],
  requestedRefundTotal: ['申请退款总金额'],
} as const satisfies Record<string, readonly string[]>;
export type TradeSummaryColumn = keyof typeof TRADE_SUMMARY_COLUMNS;

/** The summary column each detail column adds up to (checked when both are in the file). */
export const TRADE_SUMMED: ReadonlyArray<[TradeSummaryColumn, TradeColumn]> = [
  ['settlementTotal', 'settlementAmount'],
  ['refundTotal', 'refundAmount'],
  ['rechargeRefundTotal', 'rechargeRefundAmount'],
  ['feeTotal', 'fee'],
  ['orderTotal', 'orderAmount'],
  ['requestedRefundTotal', 'requestedRefundAmount'],
];

/** Fund-flow bill (资金账单) detail columns. */
export const FUNDFLOW_COLUMNS = {
  postedAt: ['记账时间'],
  businessNo: ['微信支付业务单号'],
  flowNo: ['资金流水单号'],
  businessName: ['业务名称'],
  businessType: ['业务类型'],
  direction: ['收支类型'],
  amount: ['收支金额(元)', '收支金额'],
  balance: ['账户结余(元)', '账户结余'],
  initiator: ['资金变更提交申请人'],
  remark: ['备注'],
  voucherNo: ['业务凭证号'],
} as const satisfies Record<string, readonly string[]>;
export type FundflowColumn = keyof typeof FUNDFLOW_COLUMNS;
export const FUNDFLOW_REQUIRED: FundflowColumn[] = Object.keys(FUNDFLOW_COLUMNS) as FundflowColumn[];

export const FUNDFLOW_SUMMARY_COLUMNS = {
  count: ['资金流水总笔数'],
  incomeCount: ['收入笔数'],
  incomeAmount: ['收入金额'],
  expenseCount: ['支出笔数'],
  expenseAmount: ['支出金额'],
} as const satisfies Record<string, readonly string[]>;
export type FundflowSummaryColumn = keyof typeof FUNDFLOW_SUMMARY_COLUMNS;
