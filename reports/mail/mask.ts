/**
 * Personal data in what the morning mail and the HTML report show: payer names, e-mail addresses and
 * payer ids (WeChat Pay open ids / 用户标识, Alipay 对方账户, PayPal consumer ids, Stripe customer fields,
 * Adyen shopper fields). Ids of transactions, orders and ledger rows are not personal and stay.
 */

const EMAIL = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+/g;

const EMAIL_ONE = new RegExp(EMAIL.source);

/** Keys of statement-line or ledger `extra` fields that hold a payer's name, address or id. */
const PAYER_KEY = /payer|buyer|customer(?!_facing)|shopper|consumer|card_?holder|holder_?name|counterparty|e-?mail|phone|mobile|open_?id|用户标识|对方|买家|付款人|姓名|手机|邮箱/i;

export function isPayerField(key: string): boolean {
  return PAYER_KEY.test(key);
}

/** `jane.doe@example.com` → `j***@e***.com`. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '***';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot >= 0 ? domain.slice(dot) : '';
  return `${local.slice(0, 1)}***@${domain.slice(0, 1)}***${tld}`;
}

/**
 * A payer value shown masked: an e-mail as above, a name word by word as its first letter (`Zhang Wei`
 * → `Z*** W***`, `张伟` → `张*`), an id (no spaces, long) as its first and last two characters.
 */
export function maskValue(value: string): string {
  const v = value.trim();
  if (v === '') return '';
  if (EMAIL_ONE.test(v)) return v.replace(EMAIL, maskEmail);
  if (/\s/.test(v)) return v.split(/\s+/).map((w) => `${Array.from(w)[0] ?? ''}***`).join(' ');
  const chars = Array.from(v);
  if (/^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}·]+$/u.test(v)) return `${chars[0]}${'*'.repeat(Math.max(1, chars.length - 1))}`;
  if (chars.length >= 8) return `${chars.slice(0, 2).join('')}***${chars.slice(-2).join('')}`;
  return `${chars[0]}***`;
}

/**
 * The personal values to hide, collected from provider and ledger data (`extra` fields whose key names
 * a payer field); each is also hidden wherever it appears inside other text.
 */
export class PersonalData {
  private readonly values = new Set<string>();

  /** Adds the payer fields of an `extra` object (as stored: an object of text values, or its JSON). */
  addExtra(extra: unknown): Array<{ key: string; value: string }> {
    const obj = typeof extra === 'string' ? safeJson(extra) : extra;
    const found: Array<{ key: string; value: string }> = [];
    if (!obj || typeof obj !== 'object') return found;
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      if (typeof v !== 'string' || !isPayerField(k)) continue;
      const t = v.trim();
      // Amounts and flags are not personal, and too-short values would mask half the mail.
      if (t.length < 3 || /^[-+]?\d+(\.\d+)?$/.test(t) || /^(true|false|null|none)$/i.test(t)) continue;
      this.values.add(t);
      found.push({ key: k, value: t });
    }
    return found;
  }

  add(value: string): void {
    if (value.trim().length >= 3) this.values.add(value.trim());
  }

  /**
   * Free text (a note, a proposal) with every e-mail address and every known personal value masked.
   */
  maskText(text: string | null | undefined): string {
    if (!text) return '';
    let out = text;
    // Longest first, so a name is masked whole before any of its parts.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = out.split(v).join(maskValue(v));
    return out.replace(EMAIL, maskEmail);
  }

  /** An id (transaction, order, ledger id): kept, unless it is an e-mail address or a known personal value. */
  maskId(id: string | null | undefined): string {
    if (!id) return '';
    if (this.values.has(id.trim())) return maskValue(id);
    return id.replace(EMAIL, maskEmail);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
