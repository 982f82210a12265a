import type { StatementParser } from '../contract.js';
import { STRIPE_TIME_ZONE, parseStripe } from './parse.js';

/** Stripe Reports API itemized CSV (`payout_reconciliation.itemized.5`, `balance_change_from_activity.itemized.3`). */
export const stripeParser = {
  provider: 'stripe',
  timeZone: STRIPE_TIME_ZONE,
  accepts: 'Stripe Reports API CSV: payout_reconciliation.itemized.5 or balance_change_from_activity.itemized.3 (any column set that includes currency, gross, fee, net, reporting_category and created_utc or created)',
  parse: parseStripe,
} as const satisfies StatementParser;
