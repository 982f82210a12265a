import type { ProviderId } from '../../parsers/contract.js';

/**
 * How each provider's payouts reach the bank, as data.
 *
 * - `lag`: the window, in business days after the payout's expected date, in which the bank's value date
 *   may fall (the bank's value-date lag). A payout not found in the bank when the window has closed
 *   (as of the latest bank day loaded) is `payout_missing_in_bank`; before that it is `payout_pending`.
 * - `weekendDays` (0 = Sunday … 6 = Saturday) and `holidays` (`YYYY-MM-DD`): days banks do not value.
 * - `fxTolerance`: for a payout in another currency than the bank account, the absolute difference (in
 *   the bank's currency) between the bank amount and payout × the provider's rate that is reported as an
 *   FX difference only; beyond it the payout is a `payout_amount_mismatch`. A payout in the bank's own
 *   currency must match to the cent.
 * - `depositPattern`: a case-insensitive POSIX regular expression (PostgreSQL `~*`) over the bank line's
 *   counterparty name, remittance information and additional information that recognises a deposit
 *   coming from this provider. A recognised credit that no payout claims is `deposit_without_payout`.
 *   A credit recognised as another provider's is never matched to this provider's payout by amount.
 */
export interface PayoutRule {
  provider: ProviderId;
  lag: { minBusinessDays: number; maxBusinessDays: number };
  weekendDays: readonly number[];
  holidays: readonly string[];
  fxTolerance: string;
  depositPattern: string;
}

export const PAYOUT_RULES: Readonly<Record<ProviderId, PayoutRule>> = {
  stripe: {
    provider: 'stripe',
    lag: { minBusinessDays: 0, maxBusinessDays: 3 },
    weekendDays: [0, 6],
    holidays: [],
    fxTolerance: '0.50',
    depositPattern: '\\mstripe\\M',
  },
  adyen: {
    provider: 'adyen',
    lag: { minBusinessDays: 0, maxBusinessDays: 3 },
    weekendDays: [0, 6],
    holidays: [],
    fxTolerance: '0.50',
    depositPattern: '\\madyen\\M|\\mTX[0-9A-Z]+XT\\M',
  },
  paypal: {
    provider: 'paypal',
    lag: { minBusinessDays: 0, maxBusinessDays: 5 },
    weekendDays: [0, 6],
    holidays: [],
    fxTolerance: '0.50',
    depositPattern: '\\mpaypal\\M',
  },
  wechatpay: {
    provider: 'wechatpay',
    lag: { minBusinessDays: 0, maxBusinessDays: 2 },
    weekendDays: [0, 6],
    holidays: [],
    fxTolerance: '0.50',
    depositPattern: '财付通|微信|\\mtenpay\\M|\\mwechat',
  },
  alipay: {
    provider: 'alipay',
    lag: { minBusinessDays: 0, maxBusinessDays: 2 },
    weekendDays: [0, 6],
    holidays: [],
    fxTolerance: '0.50',
    depositPattern: '支付宝|\\malipay\\M',
  },
};

/**
 * Reference tokens shorter than this are not used to match (a 4-digit batch number would meet far too
 * many remittance texts).
 */
export const MIN_REFERENCE_TOKEN = 6;
