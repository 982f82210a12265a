import type { Decimal } from '../../core/money/index.js';

/**
 * THE fee sign rule of the Alipay 业务明细 — the one place to flip it when a production file proves
 * otherwise (formats.md §1.4, "服务费（元） sign: UNCONFIRMED"; every real sample seen has 0.00).
 *
 * Project decision: the bill writes 服务费 from the merchant's cash view, like 商家实收: a fee charged on a
 * payment is negative in the file (`-0.60`), a fee given back on a refund positive, and
 * 实收净额 = 商家实收 + 服务费. The canonical fee is positive when charged, so
 *
 *     canonical fee = −服务费        net = gross − fee = 商家实收 + 服务费
 *
 * The bank/ISV layout's 手续费（元） is read with the same rule; its per-row 实收净额 is checked against `net`,
 * so a file that writes the fee the other way round fails loudly instead of being misread.
 */
export const SERVICE_FEE_SIGN_IN_FILE = 'negative-when-charged' as const;

export function canonicalFeeFromServiceFee(serviceFeeAsWritten: Decimal): Decimal {
  const fee = serviceFeeAsWritten.negated();
  return fee.isZero() ? fee.abs() : fee;
}
