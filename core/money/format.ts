import { Decimal } from './decimal.js';
import type { Decimal as DecimalJs } from 'decimal.js';
type Rounding = DecimalJs.Rounding;
import type { Decimal as DecimalT } from './decimal.js';
import { minorUnits } from './currencies.js';

/**
 * Canonical text of an amount in major units: at least the currency's minor-unit digits, more only when
 * the value really has them (a WeChat fee of 0.00600 CNY prints `0.006`, 0.60000 prints `0.60`,
 * 15000 JPY prints `15000`). Never rounds: no digit of the stored value is lost.
 */
export function formatAmount(value: DecimalT, currency: string): string {
  const units = minorUnits(currency);
  const places = Math.max(units, value.decimalPlaces());
  return value.toFixed(places);
}

/** Rounds to the currency's minor unit with an explicit rounding mode (Decimal.ROUND_*). */
export function roundToMinor(value: DecimalT, currency: string, rounding: Rounding): DecimalT {
  return value.toDecimalPlaces(minorUnits(currency), rounding);
}

/** Integer minor units ×10^-exponent, e.g. PayPal's `10000` with exponent 2 → 100.00 in any currency. */
export function fromScaledInteger(digits: string, exponent: number): DecimalT {
  return new Decimal(digits).dividedBy(new Decimal(10).pow(exponent));
}
