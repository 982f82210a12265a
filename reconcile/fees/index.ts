export { FeeScheduleError, FeeNotComputableError } from './errors.js';
export {
  RULE_KINDS, ROUNDING_MODES, REFUND_FEE_POLICIES, TIER_MODES, PROVIDER_TIME_ZONES,
  resolveSchedule, scheduleMatches, specificity, couldTie, assertNoOverlap, lineDate,
  type FeeSchedule, type FeeLine, type FeeRule, type Rate, type Rounding, type RoundingMode,
  type RefundFeePolicy, type TierBand, type TierMode, type RuleKind,
} from './schedule.js';
export { expectedFee, compareFee, applyRounding, formatRate, type ExpectedFee, type RefundContext, type FeeComparison } from './expected-fee.js';
export { loadFeeSchedules, parseFeeSchedules, validateFeeSchedules, FEE_FILE_FORMAT, type FeeScheduleSet } from './load.js';
export { whatIf, type WhatIfLine, type WhatIfReport, type WhatIfRow, type WhatIfTarget, type WhatIfOptions } from './what-if.js';
