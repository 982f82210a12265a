import { StatementFormatError, type StatementLocation } from '../../core/errors.js';
import { normaliseHeaderName } from '../common/fields.js';
import { mapHeaderCells } from '../common/header.js';

/**
 * Header synonym maps of the Alipay merchant bills. Columns are mapped by NAME, never by position.
 * Names are matched after `headerKey`: full-width ASCII folded to half-width (`（元）` → `(元)`), a leading
 * backtick removed, and the unit suffix `(元)` / `(+元)` / `(-元)` dropped, so `订单金额（元）`, `订单金额(元)`
 * and the 22-column `订单金额` are one column.
 *
 * Sources (see ../shared/research/formats.md §1):
 *  [25]  the 25-column 业务明细 header, formats.md §1.4 table; confirmed by repo:dromara/dax-pay
 *        AlipayReconcileBillDetail.java and several independent parsers (public code search).
 *  [22]  the older 22-column 业务明细 header quoted in a Java download tool (public code search):
 *        支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,交易门店,操作员,终端号,对账账户,订单金额,
 *        交易金额,红包抵扣,集分宝抵扣,优惠汇总,卡消费金额,卷核销金额,商家红包,退款批次号,服务费,分润,备注
 *  [isv] a bank/ISV-channel 业务明细 (public code search, a bank's Alipay statement test):
 *        商户ID, …the 25 names…, 退款批次号, 手续费（元）, 费率, 实收净额（元）, 交易方式, 备注 — values
 *        prefixed with a backtick.
 *  [sum] the 业务明细(汇总) header, formats.md §1.5 (dax-pay AlipayReconcileBillTotal.java).
 *  [acc] the 账务明细 (signcustomer) header, formats.md §1.6 (2012 real file quoted in a comment) and
 *        the newer additions 业务描述/业务基础订单号/业务订单号/业务账单来源 (fixtures modelled on exports).
 */

/** The normalised lookup key of a header cell. */
export function headerKey(name: string): string {
  return normaliseHeaderName(stripCell(name))
    .replace(/\s*\([+-]?元\)$/, '')
    .trim();
}

/** Trims the decorations Alipay puts on every cell: surrounding tabs and spaces, a leading backtick. */
export function stripCell(cell: string): string {
  let t = cell.replace(/^[\t \u3000]+|[\t \u3000]+$/g, '');
  if (t.startsWith('`')) t = t.slice(1).replace(/^[\t ]+/, '');
  return t;
}

export type TradeColumn =
  | 'merchantId'
  | 'tradeNo'
  | 'outTradeNo'
  | 'bizType'
  | 'subject'
  | 'createdAt'
  | 'completedAt'
  | 'storeId'
  | 'storeName'
  | 'store'
  | 'operator'
  | 'terminalId'
  | 'counterparty'
  | 'reconAccount'
  | 'orderAmount'
  | 'received'
  | 'alipayRedPacket'
  | 'jifenbao'
  | 'alipayDiscount'
  | 'merchantDiscount'
  | 'discountTotal'
  | 'voucherAmount'
  | 'voucherName'
  | 'merchantRedPacket'
  | 'cardAmount'
  | 'refundRequestNo'
  | 'serviceFee'
  | 'profitShare'
  | 'feeRate'
  | 'netReceived'
  | 'payMethod'
  | 'remark';

/** 业务明细 columns: canonical key → every header name it is written as. */
export const TRADE_COLUMNS: Record<TradeColumn, readonly string[]> = {
  merchantId: ['商户ID'], // [isv]
  tradeNo: ['支付宝交易号'], // [25][22][isv]
  outTradeNo: ['商户订单号'], // [25][22][isv]
  bizType: ['业务类型'], // [25][22][isv]
  subject: ['商品名称'], // [25][22][isv]
  createdAt: ['创建时间'], // [25][22][isv]
  completedAt: ['完成时间'], // [25][22][isv]
  storeId: ['门店编号'], // [25][isv]
  storeName: ['门店名称'], // [25][isv]
  store: ['交易门店'], // [22]
  operator: ['操作员'], // [25][22][isv]
  terminalId: ['终端号'], // [25][22][isv]
  counterparty: ['对方账户'], // [25][isv] masked buyer account
  reconAccount: ['对账账户'], // [22]
  orderAmount: ['订单金额'], // [25] 订单金额（元） [22] 订单金额 [isv]
  received: ['商家实收', '交易金额'], // [25] 商家实收（元） [22] 交易金额 (mapped like 商家实收)
  alipayRedPacket: ['支付宝红包', '红包抵扣'], // [25] [22]
  jifenbao: ['集分宝', '集分宝抵扣'], // [25] [22]
  alipayDiscount: ['支付宝优惠'], // [25][isv]
  merchantDiscount: ['商家优惠'], // [25][isv]
  discountTotal: ['优惠汇总'], // [22]
  voucherAmount: ['券核销金额', '卷核销金额'], // [25] [22] (sic, 卷)
  voucherName: ['券名称'], // [25][isv]
  merchantRedPacket: ['商家红包消费金额', '商家红包'], // [25] [22]
  cardAmount: ['卡消费金额'], // [25][22][isv]
  refundRequestNo: ['退款批次号/请求号', '退款批次号'], // [25] [22][isv]
  serviceFee: ['服务费', '手续费'], // [25][22] 服务费 [isv] 手续费（元）: same sign rule, see fee.ts
  profitShare: ['分润'], // [25][22]
  feeRate: ['费率'], // [isv]
  netReceived: ['实收净额'], // [isv]
  payMethod: ['交易方式'], // [isv] e.g. ALI_NATIVE
  remark: ['备注'], // [25][22][isv]
};

/** Amount columns of the 业务明细 (validated as decimals on every row). */
export const TRADE_AMOUNT_COLUMNS: readonly TradeColumn[] = [
  'orderAmount',
  'received',
  'alipayRedPacket',
  'jifenbao',
  'alipayDiscount',
  'merchantDiscount',
  'discountTotal',
  'voucherAmount',
  'merchantRedPacket',
  'cardAmount',
  'serviceFee',
  'profitShare',
  'netReceived',
];

export type SummaryColumn =
  | 'storeId'
  | 'storeName'
  | 'paymentCount'
  | 'refundCount'
  | 'orderAmount'
  | 'received'
  | 'alipayDiscount'
  | 'merchantDiscount'
  | 'cardAmount'
  | 'serviceFee'
  | 'profitShare'
  | 'netReceived';

/** 业务明细(汇总) columns [sum]. */
export const SUMMARY_COLUMNS: Record<SummaryColumn, readonly string[]> = {
  storeId: ['门店编号'],
  storeName: ['门店名称'],
  paymentCount: ['交易订单总笔数'],
  refundCount: ['退款订单总笔数'],
  orderAmount: ['订单金额'],
  received: ['商家实收', '交易金额'],
  alipayDiscount: ['支付宝优惠'],
  merchantDiscount: ['商家优惠'],
  cardAmount: ['卡消费金额'],
  serviceFee: ['服务费', '手续费'],
  profitShare: ['分润'],
  netReceived: ['实收净额'],
};

export type AccountColumn =
  | 'entryNo'
  | 'bizNo'
  | 'outTradeNo'
  | 'subject'
  | 'occurredAt'
  | 'counterparty'
  | 'income'
  | 'expense'
  | 'balance'
  | 'channel'
  | 'bizType'
  | 'remark'
  | 'bizDescription'
  | 'bizBaseOrderNo'
  | 'bizOrderNo'
  | 'billSource';

/** 账务明细 columns [acc]. */
export const ACCOUNT_COLUMNS: Record<AccountColumn, readonly string[]> = {
  entryNo: ['账务流水号'],
  bizNo: ['业务流水号'],
  outTradeNo: ['商户订单号'],
  subject: ['商品名称'],
  occurredAt: ['发生时间'],
  counterparty: ['对方账号', '对方账户'],
  income: ['收入金额'], // 收入金额（+元）
  expense: ['支出金额'], // 支出金额（-元）
  balance: ['账户余额'],
  channel: ['交易渠道'],
  bizType: ['业务类型'],
  remark: ['备注'],
  bizDescription: ['业务描述'],
  bizBaseOrderNo: ['业务基础订单号'],
  bizOrderNo: ['业务订单号'],
  billSource: ['业务账单来源'],
};

export interface HeaderMap<K extends string> {
  /** Column index of each known column present. */
  index: Partial<Record<K, number>>;
  /** The header name as written (trimmed), per column, for error messages. */
  names: Partial<Record<K, string>>;
  /** Number of cells in the header row, trailing empty cells included. */
  width: number;
  /** Number of named columns. */
  named: number;
}

/**
 * Maps a header row by name. An unknown column name or the same column twice is an `unknown_layout`
 * error (a layout we do not know must fail loudly, not be half-read); so is a missing required column.
 * `required` lists alternatives: each inner list needs at least one of its columns.
 */
export function mapHeader<K extends string>(
  cells: readonly string[],
  synonyms: Record<K, readonly string[]>,
  required: readonly (readonly K[])[],
  loc: StatementLocation,
  what: string,
): HeaderMap<K> {
  const { columns, unknown, duplicate, named } = mapHeaderCells(cells, synonyms, { written: stripCell, key: headerKey, skipEmpty: true });
  // The first wrong cell, in column order, is the one reported.
  const unknownFirst = unknown[0] !== undefined && (duplicate[0] === undefined || unknown[0].index < duplicate[0].index);
  if (unknownFirst) {
    const name = unknown[0]!.name;
    throw new StatementFormatError('unknown_layout', { ...loc, field: name }, `unknown ${what} column ${JSON.stringify(name)}: the layout is not one walletrecon knows`);
  }
  if (duplicate[0] !== undefined) {
    const { name, key } = duplicate[0];
    throw new StatementFormatError('unknown_layout', { ...loc, field: name }, `${what} column ${JSON.stringify(name)} appears twice (as ${JSON.stringify(columns.get(key)!.name)} too)`);
  }
  const index: Partial<Record<K, number>> = {};
  const names: Partial<Record<K, string>> = {};
  for (const [k, c] of columns) {
    index[k] = c.index;
    names[k] = c.name;
  }
  for (const alternatives of required) {
    if (!alternatives.some((k) => index[k] !== undefined)) {
      const wanted = alternatives.map((k) => synonyms[k][0]!).join(' or ');
      throw new StatementFormatError('unknown_layout', { ...loc, field: alternatives.map((k) => synonyms[k][0]!)[0] }, `the ${what} header has no ${wanted} column (missing required column)`);
    }
  }
  return { index, names, width: cells.length, named };
}
