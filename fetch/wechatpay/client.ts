import { createHash, createSign, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { FetchContext, FetchRequest, FetchResult, StatementFetcher } from '../contract.js';
import { FetchAuthError, FetchError, IntegrityError, SignatureError, StatementNotReadyError, TransientFetchError } from '../errors.js';
import { httpCall } from '../http.js';
import { loadPrivateKey, loadPublicKey, readKeyFile } from '../keys.js';
import { retryAfterMs } from '../retry.js';

/**
 * WeChat Pay APIv3 statement download (official SDK `wechatpay-apiv3/wechatpay-go`: core/consts,
 * core/auth/credentials, core/auth/validators), written with node:crypto.
 *
 * 1. `GET /v3/bill/tradebill?bill_date=&bill_type=[&tar_type=GZIP]` (or `/v3/bill/fundflowbill?bill_date=
 *    &account_type=[&tar_type=GZIP]`) with `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,
 *    timestamp=…,serial_no=…,signature=…`, signature = SHA256withRSA over `METHOD\nPATH?QUERY\nTS\nNONCE\nBODY\n`.
 * 2. The JSON answer is verified with the platform public key: `Wechatpay-Timestamp\nWechatpay-Nonce\nbody\n`
 *    against `Wechatpay-Signature`; a timestamp more than 5 minutes off is refused (replay). A success and
 *    a "no statement" answer MUST verify (an unverified one could forge an empty day → SignatureError);
 *    an unsigned refusal (401, other errors) is mapped as it reads, since it can only make us fail.
 * 3. `GET download_url`, signed the same way (canonical URL = path + `?token=…`). The file answer carries
 *    no Wechatpay-Signature and is NOT verified (the SDKs skip it, e.g. wechatpay-axios-plugin's DOWNLOADS
 *    list); its integrity is the SHA1 `hash_value` of step 2 (verified), computed over the decompressed bill
 *    for GZIP. Mismatch, truncation (fewer bytes than Content-Length) or an unreadable gzip → IntegrityError.
 *    A download answered 400 `INVALID_REQUEST` (link expired: "重新获取账单地址后再请求") asks for a new URL,
 *    at most `maxLinkRenewals` times within the call.
 * Error codes: `NO_STATEMENT_EXIST`/`NO_BILL_EXIST` → empty day; `STATEMENT_CREATING`/`BILL_CREATING` →
 * StatementNotReadyError; `SIGN_ERROR`, `INVALID_REQUEST`, `NO_AUTH` (and HTTP 401/403) → FetchAuthError;
 * `SYSTEM_ERROR`, `FREQUENCY_LIMITED`, 5xx, 429 → TransientFetchError; anything else → FetchError.
 */

const PROVIDER = 'wechatpay';
export const WECHATPAY_DEFAULT_BASE_URL = 'https://api.mch.weixin.qq.com';
export const WECHATPAY_AUTH_SCHEMA = 'WECHATPAY2-SHA256-RSA2048';

export type WechatpayTradeBillType = 'ALL' | 'SUCCESS' | 'REFUND' | 'RECHARGE_REFUND' | 'ALL_SPECIAL' | 'SUC_SPECIAL' | 'REF_SPECIAL';
export type WechatpayAccountType = 'BASIC' | 'OPERATION' | 'FEES';

export interface WechatpayFetcherOptions {
  mchid: string;
  /** Serial number of the merchant API certificate (`serial_no`). */
  serialNo: string;
  /** Merchant API private key (`apiclient_key.pem`, PKCS#8 or PKCS#1 PEM). */
  privateKeyPem: string;
  /** WeChat Pay platform public key (or platform certificate PEM), to verify API answers. */
  platformPublicKeyPem: string;
  /** When set, `Wechatpay-Serial` must equal it (platform public key id / certificate serial). */
  platformSerial?: string;
  baseUrl?: string;
  /** `tradebill` (default) or `fundflowbill`. */
  statement?: 'tradebill' | 'fundflowbill';
  /** Trade bill type. Default ALL. */
  billType?: WechatpayTradeBillType;
  /** Fund-flow account. Default BASIC. */
  accountType?: WechatpayAccountType;
  tarType?: 'GZIP';
  /** Per HTTP exchange. Default 30 s. */
  timeoutMs?: number;
  /** Allowed clock difference of `Wechatpay-Timestamp`. Default 300 s. */
  maxSkewSeconds?: number;
  /** New URLs asked for after an expired download link, within one fetch. Default 2. */
  maxLinkRenewals?: number;
  /** Clock (ms since epoch) for request timestamps and the answer freshness check. */
  now?: () => number;
}

/** The APIv3 string to sign: `METHOD\nCANONICAL_URL\nTIMESTAMP\nNONCE\nBODY\n`. */
export function wechatpaySignMessage(method: string, canonicalUrl: string, timestamp: number | string, nonce: string, body: string): string {
  return `${method}\n${canonicalUrl}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** Builds the Authorization header value for one request. */
export function wechatpayAuthorization(args: { mchid: string; serialNo: string; privateKey: KeyObject; method: string; canonicalUrl: string; body?: string; timestamp: number; nonce?: string }): string {
  const nonce = args.nonce ?? randomBytes(16).toString('hex').toUpperCase();
  const signature = createSign('RSA-SHA256')
    .update(wechatpaySignMessage(args.method, args.canonicalUrl, args.timestamp, nonce, args.body ?? ''), 'utf8')
    .sign(args.privateKey, 'base64');
  return `${WECHATPAY_AUTH_SCHEMA} mchid="${args.mchid}",nonce_str="${nonce}",timestamp="${args.timestamp}",serial_no="${args.serialNo}",signature="${signature}"`;
}

function canonical(url: string): string {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
}

function noQuery(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
}

function parseJson<T>(body: Buffer): T | undefined {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export function createWechatpayFetcher(options: WechatpayFetcherOptions): StatementFetcher {
  const privateKey = loadPrivateKey(options.privateKeyPem, 'wechatpay merchant private key');
  const platformKey = loadPublicKey(options.platformPublicKeyPem, 'wechatpay platform public key');
  const baseUrl = (options.baseUrl ?? WECHATPAY_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const statement = options.statement ?? 'tradebill';
  const billType = options.billType ?? 'ALL';
  const accountType = options.accountType ?? 'BASIC';
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxSkew = options.maxSkewSeconds ?? 300;
  const maxRenewals = options.maxLinkRenewals ?? 2;
  const now = options.now ?? Date.now;

  const authorization = (method: string, url: string) =>
    wechatpayAuthorization({ mchid: options.mchid, serialNo: options.serialNo, privateKey, method, canonicalUrl: canonical(url), timestamp: Math.floor(now() / 1000) });

  /** 'verified' | 'unsigned'; throws SignatureError for a present but failing or stale signature. */
  function verifyAnswer(billDate: string, headers: Headers, body: Buffer): 'verified' | 'unsigned' {
    const ts = headers.get('wechatpay-timestamp');
    const nonce = headers.get('wechatpay-nonce');
    const signature = headers.get('wechatpay-signature');
    const serial = headers.get('wechatpay-serial');
    if (!ts && !nonce && !signature) return 'unsigned';
    if (!ts || !nonce || !signature || !serial) throw new SignatureError(PROVIDER, billDate, 'answer carries incomplete Wechatpay-* signature headers');
    if (!/^\d+$/.test(ts) || Math.abs(Math.floor(now() / 1000) - Number(ts)) > maxSkew) {
      throw new SignatureError(PROVIDER, billDate, `answer timestamp is more than ${maxSkew} s off the local clock (replay or clock skew)`);
    }
    if (options.platformSerial !== undefined && serial !== options.platformSerial) {
      throw new SignatureError(PROVIDER, billDate, 'answer is signed with another platform key than the configured one (Wechatpay-Serial)');
    }
    let ok = false;
    try {
      ok = createVerify('RSA-SHA256').update(`${ts}\n${nonce}\n${body.toString('utf8')}\n`, 'utf8').verify(platformKey, signature, 'base64');
    } catch {
      ok = false;
    }
    if (!ok) throw new SignatureError(PROVIDER, billDate, 'answer signature does not verify with the platform public key');
    return 'verified';
  }

  function applyUrl(billDate: string): string {
    const q = new URLSearchParams({ bill_date: billDate });
    if (statement === 'tradebill') q.set('bill_type', billType);
    else q.set('account_type', accountType);
    if (options.tarType) q.set('tar_type', options.tarType);
    return `${baseUrl}/v3/bill/${statement}?${q.toString()}`;
  }

  async function apply(req: FetchRequest, ctx: FetchContext | undefined): Promise<{ kind: 'bill'; hashType: string; hashValue: string; downloadUrl: string; requestId?: string } | { kind: 'none'; code: string; requestId?: string }> {
    const url = applyUrl(req.billDate);
    const { status, headers, body } = await httpCall(
      url,
      { method: 'GET', headers: { authorization: authorization('GET', url), accept: 'application/json', 'user-agent': 'walletrecon' } },
      { provider: PROVIDER, billDate: req.billDate, timeoutMs, signal: ctx?.signal },
    );
    const requestId = headers.get('request-id') ?? undefined;
    const signed = verifyAnswer(req.billDate, headers, body);
    if (status === 200) {
      if (signed !== 'verified') throw new SignatureError(PROVIDER, req.billDate, 'answer carries no Wechatpay-Signature');
      const meta = parseJson<{ hash_type?: string; hash_value?: string; download_url?: string }>(body);
      if (!meta?.download_url || !meta.hash_value) throw new FetchError(PROVIDER, req.billDate, 'answer lacks download_url or hash_value');
      if ((meta.hash_type ?? 'SHA1').toUpperCase() !== 'SHA1') throw new FetchError(PROVIDER, req.billDate, `unsupported hash_type ${meta.hash_type}`);
      return { kind: 'bill', hashType: 'SHA1', hashValue: meta.hash_value.toLowerCase(), downloadUrl: meta.download_url, ...(requestId ? { requestId } : {}) };
    }
    const err = parseJson<ErrorBody>(body) ?? {};
    const code = err.code ?? '';
    const what = `HTTP ${status} ${code || '(no code)'}${err.message ? ` ${err.message.slice(0, 120)}` : ''}`;
    if (code === 'NO_STATEMENT_EXIST' || code === 'NO_BILL_EXIST') {
      if (signed !== 'verified') throw new SignatureError(PROVIDER, req.billDate, `"${code}" answer carries no Wechatpay-Signature; an unverified empty day is not accepted`);
      ctx?.log?.('wechatpay.no_statement', { billDate: req.billDate, code });
      return { kind: 'none', code, ...(requestId ? { requestId } : {}) };
    }
    if (code === 'STATEMENT_CREATING' || code === 'BILL_CREATING') throw new StatementNotReadyError(PROVIDER, req.billDate, `statement is being generated (${code})`);
    if (code === 'SIGN_ERROR' || code === 'INVALID_REQUEST' || code === 'NO_AUTH') throw new FetchAuthError(PROVIDER, req.billDate, `request refused: ${what}`);
    if (code === 'SYSTEM_ERROR' || code === 'FREQUENCY_LIMITED') throw new TransientFetchError(PROVIDER, req.billDate, what, { retryAfterMs: retryAfterMs(headers.get('retry-after')) });
    throw new FetchError(PROVIDER, req.billDate, `bill request failed: ${what}`);
  }

  /** The file GET, signed like any APIv3 call (fetch/http.ts: a body cut short of its Content-Length is an IntegrityError). */
  async function download(url: string, billDate: string, signal: AbortSignal | undefined) {
    const headers = { authorization: authorization('GET', url), accept: '*/*', 'user-agent': 'walletrecon' };
    const { status, body } = await httpCall(url, { method: 'GET', headers }, { provider: PROVIDER, billDate, timeoutMs, ...(signal ? { signal } : {}) });
    return { status, body };
  }

  const fileName = (billDate: string) =>
    `wechatpay-${statement}-${statement === 'tradebill' ? billType : accountType}-${billDate}.csv${options.tarType === 'GZIP' ? '.gz' : ''}`;

  return {
    provider: 'wechatpay',
    async fetch(req: FetchRequest, ctx?: FetchContext): Promise<FetchResult> {
      for (let renewal = 0; ; renewal++) {
        const meta = await apply(req, ctx);
        const notes: Record<string, string> = { statement, ...(meta.requestId ? { request_id: meta.requestId } : {}) };
        if (meta.kind === 'none') return { files: [], notes: { ...notes, code: meta.code } };
        const got = await download(meta.downloadUrl, req.billDate, ctx?.signal);
        if (got.status !== 200) {
          const err = parseJson<ErrorBody>(got.body) ?? {};
          if (got.status === 400 && err.code === 'INVALID_REQUEST') {
            ctx?.log?.('wechatpay.download_link_expired', { billDate: req.billDate, renewal });
            if (renewal < maxRenewals) continue;
            throw new TransientFetchError(PROVIDER, req.billDate, `download link refused as invalid ${renewal + 1} times in a row`);
          }
          throw new FetchError(PROVIDER, req.billDate, `GET ${noQuery(meta.downloadUrl)}: HTTP ${got.status} ${err.code ?? ''}`.trim());
        }
        let plain = got.body;
        if (options.tarType === 'GZIP') {
          try {
            plain = gunzipSync(got.body);
          } catch (e) {
            throw new IntegrityError(PROVIDER, req.billDate, `downloaded bill is not a readable gzip (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
          }
        }
        const actual = createHash('sha1').update(plain).digest('hex');
        if (actual !== meta.hashValue) {
          throw new IntegrityError(PROVIDER, req.billDate, `SHA1 of the ${options.tarType === 'GZIP' ? 'decompressed ' : ''}bill is ${actual}, the provider said ${meta.hashValue}`);
        }
        return {
          files: [{ name: fileName(req.billDate), bytes: got.body, integrity: { algorithm: 'SHA1', value: meta.hashValue, over: options.tarType === 'GZIP' ? 'decompressed' : 'bytes' } }],
          notes: { ...notes, link_renewals: String(renewal) },
        };
      }
    },
  };
}

/** Options from `WECHATPAY_MCHID`, `WECHATPAY_SERIAL_NO`, `WECHATPAY_PRIVATE_KEY_FILE`, `WECHATPAY_PLATFORM_PUBLIC_KEY_FILE`, `WECHATPAY_BASE_URL`. */
export function wechatpayOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): WechatpayFetcherOptions {
  for (const name of ['WECHATPAY_MCHID', 'WECHATPAY_SERIAL_NO'] as const) {
    if (!env[name]) throw new Error(`wechatpay: environment variable ${name} is not set`);
  }
  const privateKeyPem = readKeyFile(env, 'WECHATPAY_PRIVATE_KEY_FILE', 'wechatpay');
  const platformPublicKeyPem = readKeyFile(env, 'WECHATPAY_PLATFORM_PUBLIC_KEY_FILE', 'wechatpay');
  loadPrivateKey(privateKeyPem, 'WECHATPAY_PRIVATE_KEY_FILE');
  loadPublicKey(platformPublicKeyPem, 'WECHATPAY_PLATFORM_PUBLIC_KEY_FILE');
  return {
    mchid: env.WECHATPAY_MCHID!,
    serialNo: env.WECHATPAY_SERIAL_NO!,
    privateKeyPem,
    platformPublicKeyPem,
    ...(env.WECHATPAY_BASE_URL ? { baseUrl: env.WECHATPAY_BASE_URL } : {}),
  };
}
