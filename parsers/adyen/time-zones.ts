/**
 * Adyen's settlement detail report writes a naive `Creation Date` plus a `TimeZone` column holding the
 * account time zone's *abbreviation as of that instant* (`CET` in winter, `CEST` in summer, `PST`/`PDT`,
 * `CDT`, …). An abbreviation is not an IANA zone, and several are ambiguous world-wide, so they are
 * mapped here EXPLICITLY to the fixed UTC offset they denote; an abbreviation that is not in this table
 * is an error (`bad_value` naming it), never a guess.
 *
 * Choices for ambiguous abbreviations (documented, deliberate):
 * - `CST` = North American Central Standard Time (UTC−6), the winter partner of `CDT` seen in the
 *   samples; China Standard Time accounts are written `CST` by Java too but are not supported.
 * - `BST` = British Summer Time (UTC+1).
 * - `IST` (India / Ireland / Israel) and `AST` (Arabia / Atlantic) are left out: refused.
 * Also accepted: explicit offsets `GMT+01:00`, `UTC-05:00`, `GMT+1`, `UTC`, `GMT`.
 */
export const TZ_ABBREVIATION_OFFSET_MINUTES: Readonly<Record<string, number>> = Object.freeze({
  UTC: 0,
  GMT: 0,
  WET: 0,
  WEST: 60,
  BST: 60,
  CET: 60,
  CEST: 120,
  MET: 60,
  MEST: 120,
  EET: 120,
  EEST: 180,
  MSK: 180,
  // North America
  NST: -210,
  NDT: -150,
  ADT: -180,
  EST: -300,
  EDT: -240,
  CST: -360,
  CDT: -300,
  MST: -420,
  MDT: -360,
  PST: -480,
  PDT: -420,
  AKST: -540,
  AKDT: -480,
  HST: -600,
  // South America
  BRT: -180,
  ART: -180,
  // Asia / Pacific
  GST: 240,
  SGT: 480,
  HKT: 480,
  AWST: 480,
  JST: 540,
  KST: 540,
  ACST: 570,
  ACDT: 630,
  AEST: 600,
  AEDT: 660,
  NZST: 720,
  NZDT: 780,
});

const EXPLICIT_OFFSET = /^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$/;

/** The UTC offset in minutes that a `TimeZone` cell denotes, or undefined when it is not known. */
export function offsetOfAbbreviation(text: string): number | undefined {
  const t = text.trim().toUpperCase();
  if (Object.prototype.hasOwnProperty.call(TZ_ABBREVIATION_OFFSET_MINUTES, t)) return TZ_ABBREVIATION_OFFSET_MINUTES[t];
  const m = EXPLICIT_OFFSET.exec(t);
  if (!m) return undefined;
  const hours = Number.parseInt(m[2]!, 10);
  const minutes = m[3] === undefined ? 0 : Number.parseInt(m[3], 10);
  if (hours > 14 || minutes > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
}
