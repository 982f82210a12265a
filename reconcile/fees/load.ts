/**
 * Reads and validates a fee schedule file (`--fees <fees file>`). Every fault is a `FeeScheduleError`
 * naming the file, the JSON path (`schedules[3].rate`) and the problem. Strict by design: unknown keys,
 * JSON numbers where an amount or rate belongs, keys that do not belong to the entry's rule, and entries
 * that could tie for a line are all rejected rather than guessed at. The format is in README.md.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Decimal, isKnownCurrency, minorUnits } from '../../core/money/index.js';
import { isIsoDate } from '../../core/time.js';
import { isProviderId, type ProviderId } from '../../parsers/contract.js';
import { FeeScheduleError } from './errors.js';
import {
  REFUND_FEE_POLICIES,
  ROUNDING_MODES,
  RULE_KINDS,
  TIER_MODES,
  assertNoOverlap,
  type FeeRule,
  type FeeSchedule,
  type Rate,
  type RefundFeePolicy,
  type RoundingMode,
  type RuleKind,
  type TierBand,
  type TierMode,
} from './schedule.js';

export const FEE_FILE_FORMAT = 'walletrecon-fees/1';

export interface FeeScheduleSet {
  file: string;
  title: string | null;
  notes: string[];
  schedules: FeeSchedule[];
}

const TOP_KEYS = ['format', 'title', 'notes', 'provider_defaults', 'schedules'] as const;
const DEFAULT_KEYS = ['rounding', 'refund_fee'] as const;
const ENTRY_KEYS = [
  'id', 'provider', 'currency', 'account', 'payment_method', 'wallet', 'from', 'to',
  'rule', 'rate', 'flat', 'tiers', 'tier_mode', 'min', 'max', 'rounding', 'refund_fee', 'chargeback_fee', 'note',
] as const;
const ROUNDING_KEYS = ['places', 'mode'] as const;
const BAND_KEYS = ['up_to', 'rate', 'flat'] as const;

/** Keys each rule requires and the rule keys it forbids. */
const RULE_KEYS: Record<RuleKind, { required: string[]; forbidden: string[] }> = {
  percentage: { required: ['rate'], forbidden: ['flat', 'tiers', 'tier_mode'] },
  flat: { required: ['flat'], forbidden: ['rate', 'tiers', 'tier_mode'] },
  percentage_plus_flat: { required: ['rate', 'flat'], forbidden: ['tiers', 'tier_mode'] },
  tiered: { required: ['tiers', 'tier_mode'], forbidden: ['rate', 'flat'] },
};

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const PERCENT_TEXT = /^(\d+(?:\.\d+)?)\s*%$/;
const FRACTION_TEXT = /^\d+(?:\.\d+)?$/;
/** A bare-decimal rate at or above this is refused as ambiguous ("0.6": 60%, or 0.6% written without %?). */
const BARE_RATE_LIMIT = new Decimal('0.1');
const MAX_PLACES = 10;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function key(path: string, k: string): string {
  return path === '' ? k : `${path}.${k}`;
}

function typeName(v: Json | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v} (${JSON.stringify(v)})`;
}

class Reader {
  constructor(readonly file: string) {}

  fail(code: string, path: string, detail: string): never {
    throw new FeeScheduleError(code, this.file, path, detail);
  }

  object(v: Json | undefined, path: string, allowed: readonly string[]): JsonObject {
    if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v)) {
      this.fail('invalid_value', path, `expected an object, found ${typeName(v)}`);
    }
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) {
        this.fail('unknown_key', key(path, k), `unknown key ${JSON.stringify(k)}; allowed here: ${allowed.join(', ')}`);
      }
    }
    return v;
  }

  string(v: Json | undefined, path: string): string {
    if (typeof v !== 'string') this.fail('invalid_value', path, `expected a string, found ${typeName(v)}`);
    const t = v.trim();
    if (t === '') this.fail('invalid_value', path, 'must not be empty');
    return t;
  }

  required(obj: JsonObject, k: string, path: string): Json {
    const v = obj[k];
    if (v === undefined) this.fail('missing', key(path, k), 'is required');
    return v;
  }

  oneOf<T extends string>(v: Json | undefined, path: string, values: readonly T[]): T {
    const t = this.string(v, path);
    if (!(values as readonly string[]).includes(t)) {
      this.fail('invalid_value', path, `${JSON.stringify(t)} is not one of ${values.join(', ')}`);
    }
    return t as T;
  }

  /** A non-negative amount written as a decimal string, with at most `places` decimals. */
  amount(v: Json | undefined, path: string, places: number, currency: string): Decimal {
    if (typeof v === 'number') {
      this.fail('invalid_value', path, `write amounts as strings ("${String(v)}"), not JSON numbers: a JSON number may lose digits`);
    }
    const t = this.string(v, path);
    if (!FRACTION_TEXT.test(t)) {
      this.fail('invalid_value', path, `${JSON.stringify(t)} is not a non-negative decimal amount like "0.30" (no sign, currency symbol, exponent or thousands separator)`);
    }
    const d = new Decimal(t);
    if (d.decimalPlaces() > places) {
      this.fail('invalid_value', path, `${JSON.stringify(t)} has ${d.decimalPlaces()} decimals; ${currency} amounts of this entry take at most ${places}`);
    }
    return d;
  }

  /** `"0.60%"` or a bare fraction below 0.1 (`"0.006"`); at most 100%. */
  rate(v: Json | undefined, path: string): Rate {
    if (typeof v === 'number') {
      this.fail('invalid_value', path, `write rates as strings ("0.60%" or "0.006"), not JSON numbers`);
    }
    const text = this.string(v, path);
    let value: Decimal;
    const pct = PERCENT_TEXT.exec(text);
    if (pct) {
      value = new Decimal(pct[1]!).dividedBy(100);
    } else if (FRACTION_TEXT.test(text)) {
      value = new Decimal(text);
      if (value.gte(BARE_RATE_LIMIT)) {
        const p = value.times(100).toString();
        this.fail('invalid_value', path, `${JSON.stringify(text)} is ambiguous: write "${p}%" for ${p} percent, or "${text}%" if you meant ${text} percent`);
      }
    } else {
      this.fail('invalid_value', path, `${JSON.stringify(text)} is not a rate: write a percentage like "0.60%" or a fraction like "0.006"`);
    }
    if (value.gt(1)) this.fail('invalid_value', path, `${JSON.stringify(text)} is more than 100%`);
    return { value, text };
  }

  /** One value or a non-empty list; stored lower-cased. */
  selector(v: Json | undefined, path: string): string[] | null {
    if (v === undefined) return null;
    if (Array.isArray(v)) {
      if (v.length === 0) this.fail('invalid_value', path, 'an empty list matches nothing; leave the key out to match any value');
      return v.map((x, i) => this.string(x, `${path}[${i}]`).toLowerCase());
    }
    return [this.string(v, path).toLowerCase()];
  }

  date(v: Json | undefined, path: string): string | null {
    if (v === undefined) return null;
    const t = this.string(v, path);
    if (!isIsoDate(t)) this.fail('invalid_value', path, `${JSON.stringify(t)} is not a calendar date YYYY-MM-DD`);
    return t;
  }
}

interface RoundingSpec {
  places: number | null;
  mode: RoundingMode;
  path: string;
}

function readRounding(r: Reader, v: Json | undefined, path: string): RoundingSpec {
  const o = r.object(v, path, ROUNDING_KEYS);
  const mode = r.oneOf(r.required(o, 'mode', path), key(path, 'mode'), ROUNDING_MODES);
  let places: number | null = null;
  if (o.places !== undefined) {
    const p = o.places;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > MAX_PLACES) {
      r.fail('invalid_value', key(path, 'places'), `expected a whole number of decimal places from 0 to ${MAX_PLACES}, found ${typeName(p)}`);
    }
    places = p;
  }
  return { places, mode, path };
}

interface Defaults {
  rounding?: RoundingSpec;
  refundFee?: { value: RefundFeePolicy; path: string };
}

function readDefaults(r: Reader, v: Json | undefined): Map<ProviderId, Defaults> {
  const out = new Map<ProviderId, Defaults>();
  if (v === undefined) return out;
  const path = 'provider_defaults';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) r.fail('invalid_value', path, `expected an object keyed by provider, found ${typeName(v)}`);
  for (const [provider, body] of Object.entries(v)) {
    const p = key(path, provider);
    if (!isProviderId(provider)) r.fail('unknown_key', p, `${JSON.stringify(provider)} is not a provider (alipay, wechatpay, paypal, stripe, adyen)`);
    const o = r.object(body, p, DEFAULT_KEYS);
    const d: Defaults = {};
    if (o.rounding !== undefined) d.rounding = readRounding(r, o.rounding, key(p, 'rounding'));
    if (o.refund_fee !== undefined) d.refundFee = { value: r.oneOf(o.refund_fee, key(p, 'refund_fee'), REFUND_FEE_POLICIES), path: key(p, 'refund_fee') };
    out.set(provider, d);
  }
  return out;
}

function readTiers(r: Reader, v: Json | undefined, path: string, places: number, currency: string): TierBand[] {
  if (!Array.isArray(v) || v.length === 0) r.fail('invalid_value', path, `expected a non-empty list of bands, found ${typeName(v)}`);
  const bands: TierBand[] = [];
  let previous: Decimal | null = null;
  v.forEach((item, i) => {
    const p = `${path}[${i}]`;
    const o = r.object(item, p, BAND_KEYS);
    const last = i === v.length - 1;
    let upTo: Decimal | null = null;
    if (o.up_to !== undefined) {
      if (last) r.fail('invalid_value', key(p, 'up_to'), 'the last band must be open-ended (no up_to), so that every amount has a price');
      upTo = r.amount(o.up_to, key(p, 'up_to'), places, currency);
      if (previous !== null && !upTo.gt(previous)) {
        r.fail('invalid_value', key(p, 'up_to'), `bands must rise: ${upTo.toString()} is not above the previous band's up_to ${previous.toString()}`);
      }
      previous = upTo;
    } else if (!last) {
      r.fail('missing', key(p, 'up_to'), 'every band but the last needs up_to (its inclusive upper bound)');
    }
    const rate = o.rate === undefined ? null : r.rate(o.rate, key(p, 'rate'));
    const flat = o.flat === undefined ? null : r.amount(o.flat, key(p, 'flat'), places, currency);
    if (rate === null && flat === null) r.fail('missing', p, 'a band needs a rate, a flat, or both');
    bands.push({ upTo, rate, flat });
  });
  return bands;
}

function readEntry(r: Reader, v: Json | undefined, path: string, defaults: Map<ProviderId, Defaults>): FeeSchedule {
  const o = r.object(v, path, ENTRY_KEYS);
  const id = r.string(r.required(o, 'id', path), key(path, 'id'));
  if (!ID_PATTERN.test(id)) r.fail('invalid_value', key(path, 'id'), `${JSON.stringify(id)}: use letters, digits and . _ : - (no spaces)`);

  const providerText = r.string(r.required(o, 'provider', path), key(path, 'provider'));
  if (!isProviderId(providerText)) r.fail('invalid_value', key(path, 'provider'), `${JSON.stringify(providerText)} is not a provider (alipay, wechatpay, paypal, stripe, adyen)`);
  const provider: ProviderId = providerText;

  const currency = r.string(r.required(o, 'currency', path), key(path, 'currency'));
  if (!isKnownCurrency(currency)) r.fail('invalid_value', key(path, 'currency'), `${JSON.stringify(currency)} is not an ISO 4217 code (upper case, e.g. "CNY")`);
  const minor = minorUnits(currency);

  const d = defaults.get(provider) ?? {};
  const roundingSpec = o.rounding !== undefined ? readRounding(r, o.rounding, key(path, 'rounding')) : d.rounding;
  if (roundingSpec === undefined) {
    r.fail('missing', key(path, 'rounding'), `is required (here or in provider_defaults.${provider}.rounding), e.g. { "places": 2, "mode": "half_up" }`);
  }
  const places = roundingSpec.places ?? minor;
  if (places < minor) {
    r.fail('invalid_value', key(roundingSpec.path, 'places'), `${places} decimal place(s) is coarser than the ${minor} minor-unit digits of ${currency}; state "places": ${minor} or more${roundingSpec.path.startsWith('provider_defaults') ? ` (on ${path}.rounding for this ${currency} entry)` : ''}`);
  }
  const amountPlaces = Math.max(places, minor);

  let refundFee: RefundFeePolicy;
  if (o.refund_fee !== undefined) refundFee = r.oneOf(o.refund_fee, key(path, 'refund_fee'), REFUND_FEE_POLICIES);
  else if (d.refundFee) refundFee = d.refundFee.value;
  else r.fail('missing', key(path, 'refund_fee'), `is required (here or in provider_defaults.${provider}.refund_fee): one of ${REFUND_FEE_POLICIES.join(', ')}`);

  const kind = r.oneOf(r.required(o, 'rule', path), key(path, 'rule'), RULE_KINDS);
  for (const k of RULE_KEYS[kind].required) r.required(o, k, path);
  for (const k of RULE_KEYS[kind].forbidden) {
    if (o[k] !== undefined) r.fail('unknown_key', key(path, k), `does not belong to a ${kind} rule`);
  }
  let rule: FeeRule;
  switch (kind) {
    case 'percentage':
      rule = { kind, rate: r.rate(o.rate, key(path, 'rate')) };
      break;
    case 'flat':
      rule = { kind, flat: r.amount(o.flat, key(path, 'flat'), amountPlaces, currency) };
      break;
    case 'percentage_plus_flat':
      rule = { kind, rate: r.rate(o.rate, key(path, 'rate')), flat: r.amount(o.flat, key(path, 'flat'), amountPlaces, currency) };
      break;
    case 'tiered': {
      const mode: TierMode = r.oneOf(o.tier_mode, key(path, 'tier_mode'), TIER_MODES);
      rule = { kind, mode, bands: readTiers(r, o.tiers, key(path, 'tiers'), amountPlaces, currency) };
      break;
    }
  }

  const min = o.min === undefined ? null : r.amount(o.min, key(path, 'min'), amountPlaces, currency);
  const max = o.max === undefined ? null : r.amount(o.max, key(path, 'max'), amountPlaces, currency);
  if (min !== null && max !== null && min.gt(max)) r.fail('invalid_value', key(path, 'max'), `max ${max.toString()} is below min ${min.toString()}`);

  const from = r.date(o.from, key(path, 'from'));
  const to = r.date(o.to, key(path, 'to'));
  if (from !== null && to !== null && from > to) r.fail('invalid_value', key(path, 'to'), `${to} is before from ${from} (both dates are inclusive)`);

  return {
    id,
    provider,
    currency,
    account: r.selector(o.account, key(path, 'account')),
    paymentMethod: r.selector(o.payment_method, key(path, 'payment_method')),
    wallet: r.selector(o.wallet, key(path, 'wallet')),
    from,
    to,
    rule,
    min,
    max,
    rounding: { places, mode: roundingSpec.mode },
    refundFee,
    chargebackFee: o.chargeback_fee === undefined ? null : r.amount(o.chargeback_fee, key(path, 'chargeback_fee'), amountPlaces, currency),
    note: o.note === undefined ? null : r.string(o.note, key(path, 'note')),
    source: { file: r.file, path },
  };
}

/** Validates an already-parsed document. `file` is the name used in messages. */
export function validateFeeSchedules(doc: unknown, file: string): FeeScheduleSet {
  const r: Reader = new Reader(file);
  const top = r.object(doc as Json, '', TOP_KEYS);
  const format = r.string(r.required(top, 'format', ''), 'format');
  if (format !== FEE_FILE_FORMAT) r.fail('invalid_value', 'format', `${JSON.stringify(format)} is not a format this version reads (${FEE_FILE_FORMAT})`);
  const title = top.title === undefined ? null : r.string(top.title, 'title');
  let notes: string[] = [];
  if (top.notes !== undefined) {
    notes = Array.isArray(top.notes) ? top.notes.map((n, i) => r.string(n, `notes[${i}]`)) : [r.string(top.notes, 'notes')];
  }
  const defaults = readDefaults(r, top.provider_defaults);
  const list = r.required(top, 'schedules', '');
  if (!Array.isArray(list) || list.length === 0) r.fail('invalid_value', 'schedules', `expected a non-empty list of schedule entries, found ${typeName(list)}`);

  const schedules: FeeSchedule[] = [];
  const ids = new Map<string, string>();
  list.forEach((entry, i) => {
    const path = `schedules[${i}]`;
    const s = readEntry(r, entry, path, defaults);
    const seen = ids.get(s.id);
    if (seen !== undefined) r.fail('duplicate_id', key(path, 'id'), `${JSON.stringify(s.id)} is already the id of ${seen}`);
    ids.set(s.id, path);
    schedules.push(s);
  });
  assertNoOverlap(schedules);
  return { file, title, notes, schedules };
}

/** Parses and validates the text of a schedule file (a leading UTF-8 BOM is allowed). */
export function parseFeeSchedules(text: string, file: string): FeeScheduleSet {
  let doc: unknown;
  try {
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    throw new FeeScheduleError('invalid_json', file, '', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return validateFeeSchedules(doc, file);
}

/** Reads a schedule file from disk (`--fees <fees file>`). `displayName` defaults to the file's basename. */
export async function loadFeeSchedules(path: string, displayName: string = basename(path)): Promise<FeeScheduleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new FeeScheduleError('unreadable', displayName, '', `cannot read the fee schedule file: ${(err as Error).message}`, { cause: err });
  }
  return parseFeeSchedules(text, displayName);
}
