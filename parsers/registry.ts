import { UsageError } from '../core/errors.js';
import type { ProviderId, StatementParser } from './contract.js';
import { alipayParser } from './alipay/index.js';
import { wechatpayParser } from './wechatpay/index.js';
import { stripeParser } from './stripe/index.js';
import { adyenParser } from './adyen/index.js';
import { paypalParser } from './paypal/index.js';

/** Every statement parser, one per provider. A provider is supported when it is listed here. */
export const PARSERS: readonly StatementParser[] = [alipayParser, wechatpayParser, paypalParser, stripeParser, adyenParser];

export function parserFor(provider: ProviderId | string): StatementParser {
  const parser = PARSERS.find((p) => p.provider === provider);
  if (!parser) {
    throw new UsageError(`no statement parser for provider ${JSON.stringify(provider)}; supported: ${PARSERS.map((p) => p.provider).join(', ')}`);
  }
  return parser;
}
