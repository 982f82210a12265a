/**
 * Calendar and clock helpers. Provider files mostly write naive local times; these turn them into
 * instants with an explicit IANA zone (DST-correct through Intl), never with the machine's zone.
 */

const NAIVE = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

const formatters = new Map<string, Intl.DateTimeFormat>();
// Zone offsets change only on quarter-hour boundaries (DST, zone rule changes): one lookup per quarter
// hour and zone serves every line in it. Parsers call this once or twice per line.
const offsets = new Map<string, number>();
const QUARTER_HOUR = 15 * 60_000;

function offsetMinutes(instant: Date, timeZone: string): number {
  const key = `${timeZone}|${Math.floor(instant.getTime() / QUARTER_HOUR)}`;
  const cached = offsets.get(key);
  if (cached !== undefined) return cached;
  let dtf = formatters.get(timeZone);
  if (!dtf) {
    dtf = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, dtf);
  }
  const parts = Object.fromEntries(dtf.formatToParts(instant).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!);
  const offset = Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
  if (offsets.size > 100_000) offsets.clear();
  offsets.set(key, offset);
  return offset;
}

// Wall-clock quarter hours (per zone) whose offset is the same from their first to their last
// millisecond: every time in them converts with one subtraction. Keyed by number within each zone:
// building a text key per call was most of the cost of a cached conversion.
const wallOffsets = new Map<string, Map<number, number>>();

function convert(guess: number, timeZone: string): number {
  let offset = offsetMinutes(new Date(guess), timeZone);
  let instant = guess - offset * 60000;
  const second = offsetMinutes(new Date(instant), timeZone);
  if (second !== offset) {
    offset = second;
    instant = guess - offset * 60000;
  }
  return instant;
}

/** The instant of a wall-clock time in `timeZone`. For a time that occurs twice (DST fall-back), the earlier. */
export function zonedToInstant(y: number, mo: number, d: number, h: number, mi: number, s: number, timeZone: string): Date {
  const guess = Date.UTC(y, mo - 1, d, h, mi, s);
  const quarter = Math.floor(guess / QUARTER_HOUR);
  let zone = wallOffsets.get(timeZone);
  if (zone === undefined) {
    zone = new Map();
    wallOffsets.set(timeZone, zone);
  }
  const cached = zone.get(quarter);
  if (cached !== undefined) return new Date(guess - cached);
  const instant = convert(guess, timeZone);
  // Cache the quarter only when no transition falls inside it (its first and last wall times agree).
  const start = quarter * QUARTER_HOUR;
  const end = start + QUARTER_HOUR - 1;
  const offset = guess - instant;
  if (start - convert(start, timeZone) === offset && end - convert(end, timeZone) === offset) {
    if (zone.size > 100_000) zone.clear();
    zone.set(quarter, offset);
  }
  return new Date(instant);
}

const digit = (text: string, i: number): number => text.charCodeAt(i) - 48;

/**
 * Parses `yyyy-MM-dd[ HH:mm[:ss]]` (or with `/`) as wall-clock time in `timeZone`.
 * Returns undefined for text that is not such a time or names an impossible date.
 */
export function parseNaiveTime(text: string, timeZone: string): Date | undefined {
  let y: number, mo: number, d: number, h: number, mi: number, s: number;
  // The shape statements write a million times (`2026-11-24 10:11:12`), read digit by digit.
  if (text.length === 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(10) === 32 && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
    y = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
    mo = digit(text, 5) * 10 + digit(text, 6);
    d = digit(text, 8) * 10 + digit(text, 9);
    h = digit(text, 11) * 10 + digit(text, 12);
    mi = digit(text, 14) * 10 + digit(text, 15);
    s = digit(text, 17) * 10 + digit(text, 18);
    for (const i of FIXED_DIGITS) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
    }
  } else {
    const m = NAIVE.exec(text.trim());
    if (!m) return undefined;
    [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map((v) => Number.parseInt(v!, 10)) as [number, number, number, number, number, number];
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  if (d > 28) {
    const check = new Date(Date.UTC(y, mo - 1, d));
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  }
  return zonedToInstant(y, mo, d, h, mi, s, timeZone);
}

const FIXED_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Validates a `YYYY-MM-DD` calendar date. */
export function isIsoDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

/** The [start, end) instants of a calendar day in a time zone. */
export function dayBounds(isoDate: string, timeZone: string): { start: Date; end: Date } {
  const m = ISO_DATE.exec(isoDate);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${isoDate}`);
  const [y, mo, d] = [+m[1]!, +m[2]!, +m[3]!];
  const next = new Date(Date.UTC(y, mo - 1, d + 1));
  return {
    start: zonedToInstant(y, mo, d, 0, 0, 0, timeZone),
    end: zonedToInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, 0, timeZone),
  };
}

/** The calendar date (`YYYY-MM-DD`) of an instant in a time zone. */
export function localDate(instant: Date, timeZone: string): string {
  const dtf = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return dtf.format(instant);
}

/** Every day from `from` to `to` inclusive (`YYYY-MM-DD`). */
export function daysInRange(from: string, to: string): string[] {
  const out: string[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end; t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
