export { Decimal, ZERO, isDecimalText, parseDecimal, sum } from './decimal.js';
export { DecimalSum } from './decimal-sum.js';
export { decimalPlacesOf, fixedDecimalText, negatedNumeral } from './decimal-text.js';
export { MINOR_UNITS, isKnownCurrency, minorUnits } from './currencies.js';
export { formatAmount, roundToMinor, fromScaledInteger } from './format.js';
