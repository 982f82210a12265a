import { createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * Alipay OpenAPI v2 signing (RSA2), written with node:crypto rather than the official `alipay-sdk`
 * package. The SDK (4.x) signs and verifies correctly and takes a custom gateway, but it does its HTTP
 * through its own `urllib` stack: no AbortSignal, non-200 answers surface as a generic error without the
 * status or Retry-After (so 5xx/429 could not be mapped to TransientFetchError by `fetch/http.ts`), it
 * camel-cases the answer, and its signature-failure message embeds the server's `sign` value (a secret
 * must never reach an error message here). The signing rule itself is small and is reproduced from the
 * SDK (`src/util.ts` `sign()`, `src/alipay.ts` `getSignStr()`/`checkResponseSign()`):
 *
 * - string to sign: every request parameter except `sign` whose value is not empty, keys sorted by code
 *   unit (ASCII), `key=value` joined by `&`, values raw (not URL-encoded); `sign_type` is included;
 * - RSA2 = SHA256withRSA, PKCS#1 v1.5, base64;
 * - a response is verified over the exact raw text of its `<method with _>_response` (or
 *   `error_response`) object, as it appears in the body, with Alipay's public key.
 */

export const ALIPAY_SIGN_TYPE = 'RSA2';

/** The string Alipay signs: non-empty params except `sign`, sorted, `k=v` joined by `&`. */
export function alipaySignContent(params: Record<string, string | undefined>): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign' && params[k] !== undefined && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export function alipaySign(params: Record<string, string | undefined>, privateKey: KeyObject): string {
  return createSign('RSA-SHA256').update(alipaySignContent(params), 'utf8').sign(privateKey, 'base64');
}

export function alipayVerify(content: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return createVerify('RSA-SHA256').update(content, 'utf8').verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

/**
 * The raw text of each top-level member of a JSON object, exactly as written (so `\/` escapes and key
 * order are kept: the signature is over those bytes). Returns undefined when `text` is not an object.
 * A structural scan, not `indexOf`, so a `"sign"` inside a value cannot shift the boundaries.
 */
export function topLevelMembers(text: string): Map<string, string> | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  };
  const skipString = () => {
    // text[i] === '"'
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '\\') i += 2;
      else if (c === '"') {
        i++;
        return;
      } else i++;
    }
    throw new Error('unterminated string');
  };
  const skipValue = () => {
    const c = text[i];
    if (c === '"') return skipString();
    if (c === '{' || c === '[') {
      let depth = 0;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          skipString();
          continue;
        }
        if (d === '{' || d === '[') depth++;
        else if (d === '}' || d === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      throw new Error('unterminated value');
    }
    while (i < text.length && !',}] \t\r\n'.includes(text[i]!)) i++;
  };
  try {
    const out = new Map<string, string>();
    ws();
    if (text[i] !== '{') return undefined;
    i++;
    ws();
    if (text[i] === '}') return out;
    for (;;) {
      ws();
      if (text[i] !== '"') return undefined;
      const keyStart = i;
      skipString();
      const key = JSON.parse(text.slice(keyStart, i)) as string;
      ws();
      if (text[i] !== ':') return undefined;
      i++;
      ws();
      const valueStart = i;
      skipValue();
      out.set(key, text.slice(valueStart, i));
      ws();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') return out;
      return undefined;
    }
  } catch {
    return undefined;
  }
}
