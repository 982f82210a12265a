import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dayInterval } from '../fetch/stripe/client.js';
import { adyenFileNameForDay, ADYEN_DEFAULT_TEMPLATE } from '../fetch/adyen/client.js';
import { startAlipayEmulator, type AlipayEmulator } from './alipay/server.js';
import { startWechatpayEmulator, type WechatpayEmulator } from './wechatpay/server.js';
import { startPaypalEmulator, type PaypalEmulator } from './paypal/server.js';
import { startStripeEmulator, type StripeEmulator } from './stripe/server.js';
import { startAdyenEmulator, type AdyenEmulator } from './adyen/server.js';

export interface DayStatements {
  alipay?: { name: string; bytes: Buffer };
  wechatpay?: { bytes: Buffer };
  paypal?: Array<{ name: string; bytes: Buffer }>;
  stripe?: { reportType: 'payout_reconciliation.itemized.5' | 'balance_change_from_activity.itemized.3'; csv: Buffer };
  adyen?: { bytes: Buffer };
}

export interface EmulatorSet {
  /** The environment (CONTRACT.md variables) that points each provider's client at its emulator. */
  env: Record<string, string>;
  alipay: AlipayEmulator;
  wechatpay: WechatpayEmulator;
  paypal: PaypalEmulator;
  stripe: StripeEmulator;
  adyen: AdyenEmulator;
  /** Every secret the set handed out (for tests that prove none is ever printed). */
  secrets: string[];
  close(): Promise<void>;
}

/**
 * Starts a local emulator for each of the five providers' channels on 127.0.0.1, serving one day's
 * statements, and writes the key files the clients need into `keyDir`. Used by `recon demo` and the
 * end-to-end tests; each emulator checks credentials and signatures as its provider does.
 */
export async function startEmulators(opts: { keyDir: string; day: string; statements: DayStatements }): Promise<EmulatorSet> {
  const { day, statements } = opts;
  mkdirSync(opts.keyDir, { recursive: true });
  const key = (name: string, pem: string) => {
    const path = join(opts.keyDir, name);
    writeFileSync(path, pem, { mode: 0o600 });
    return path;
  };
  const alipay = await startAlipayEmulator({ bills: statements.alipay ? { [day]: statements.alipay } : {} });
  const wechatpay = await startWechatpayEmulator({ bills: statements.wechatpay ? { [day]: statements.wechatpay } : {} });
  const paypal = await startPaypalEmulator({ files: Object.fromEntries((statements.paypal ?? []).map((f) => [f.name, f.bytes])) });
  const interval = dayInterval(day);
  const stripe = await startStripeEmulator({
    reports: statements.stripe ? [{ reportType: statements.stripe.reportType, intervalStart: interval.start, intervalEnd: interval.end, csv: statements.stripe.csv }] : [],
  });
  const adyen = await startAdyenEmulator({
    merchantAccount: 'ShopCoEU',
    files: statements.adyen ? { [adyenFileNameForDay(ADYEN_DEFAULT_TEMPLATE, day)]: statements.adyen.bytes } : {},
  });
  const env: Record<string, string> = {
    ALIPAY_APP_ID: alipay.appId,
    ALIPAY_PRIVATE_KEY_FILE: key('alipay-app-private.pem', alipay.appPrivateKeyPem),
    ALIPAY_PUBLIC_KEY_FILE: key('alipay-public.pem', alipay.alipayPublicKeyPem),
    ALIPAY_GATEWAY: alipay.gateway,
    WECHATPAY_MCHID: wechatpay.mchid,
    WECHATPAY_SERIAL_NO: wechatpay.merchantSerialNo,
    WECHATPAY_PRIVATE_KEY_FILE: key('wechatpay-merchant-private.pem', wechatpay.merchantPrivateKeyPem),
    WECHATPAY_PLATFORM_PUBLIC_KEY_FILE: key('wechatpay-platform-public.pem', wechatpay.platformPublicKeyPem),
    WECHATPAY_BASE_URL: wechatpay.url,
    PAYPAL_SFTP_HOST: paypal.host,
    PAYPAL_SFTP_PORT: String(paypal.port),
    PAYPAL_SFTP_USER: paypal.username,
    PAYPAL_SFTP_PASSWORD: paypal.password,
    PAYPAL_SFTP_HOST_KEY_SHA256: paypal.hostKeyFingerprint,
    PAYPAL_SFTP_DIR: paypal.dir,
    STRIPE_API_KEY: stripe.apiKey,
    STRIPE_API_BASE: stripe.url,
    ADYEN_REPORT_USER: adyen.reportUser,
    ADYEN_REPORT_PASSWORD: adyen.reportPassword,
    ADYEN_MERCHANT_ACCOUNT: adyen.merchantAccount,
    ADYEN_REPORT_BASE_URL: adyen.url,
  };
  const pemBody = (pem: string) => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  const secrets = [
    ...pemBody(alipay.appPrivateKeyPem),
    ...pemBody(wechatpay.merchantPrivateKeyPem),
    ...pemBody(paypal.clientPrivateKey),
    paypal.password,
    stripe.apiKey,
    adyen.reportPassword,
    adyen.apiKey,
  ].filter((s) => s.length >= 8);
  return {
    env,
    alipay,
    wechatpay,
    paypal,
    stripe,
    adyen,
    secrets,
    async close() {
      await Promise.allSettled([alipay.close(), wechatpay.close(), paypal.close(), stripe.close(), adyen.close()]);
    },
  };
}

