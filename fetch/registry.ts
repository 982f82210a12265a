import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { ProviderId } from '../parsers/contract.js';
import type { StatementFetcher } from './contract.js';
import { alipayOptionsFromEnv, createAlipayFetcher } from './alipay/client.js';
import { adyenOptionsFromEnv, createAdyenFetcher } from './adyen/client.js';
import { createPaypalFetcher, paypalOptionsFromEnv } from './paypal/client.js';
import { createStripeFetcher, stripeOptionsFromEnv } from './stripe/client.js';
import { createWechatpayFetcher, wechatpayOptionsFromEnv } from './wechatpay/client.js';

export interface ConfiguredFetcher {
  fetcher: StatementFetcher;
  /** The provider account the statements belong to (never a secret). */
  account: string;
  /** The configured secret values, for the logger to mask. */
  secrets: string[];
}

const fileText = (env: NodeJS.ProcessEnv, name: string): string[] => {
  const path = env[name];
  if (!path) return [];
  try {
    return [readFileSync(path, 'utf8').trim()];
  } catch {
    return [];
  }
};

/**
 * The download client of a provider, configured from the environment (CONTRACT.md, "Provider
 * credentials and endpoints"). A missing variable is a UsageError naming it.
 */
export function fetcherFromEnv(provider: ProviderId, env: NodeJS.ProcessEnv = process.env, extra: { files?: string[] } = {}): ConfiguredFetcher {
  switch (provider) {
    case 'alipay': {
      const o = alipayOptionsFromEnv(env);
      return { fetcher: createAlipayFetcher(o), account: o.appId, secrets: [o.privateKeyPem.trim()] };
    }
    case 'wechatpay': {
      const o = wechatpayOptionsFromEnv(env);
      return { fetcher: createWechatpayFetcher(o), account: o.mchid, secrets: [o.privateKeyPem.trim()] };
    }
    case 'paypal': {
      const o = paypalOptionsFromEnv(env);
      const secrets = [o.password ?? '', ...fileText(env, 'PAYPAL_SFTP_KEY_FILE')].filter((s) => s !== '');
      return { fetcher: createPaypalFetcher(o), account: o.username, secrets };
    }
    case 'stripe': {
      const o = stripeOptionsFromEnv(env);
      return { fetcher: createStripeFetcher(o), account: env.STRIPE_ACCOUNT ?? 'default', secrets: [o.apiKey] };
    }
    case 'adyen': {
      const o = adyenOptionsFromEnv(env, extra.files && extra.files.length > 0 ? { fileNames: extra.files } : {});
      const secrets = [o.reportPassword ?? '', o.apiKey ?? ''].filter((s) => s !== '');
      return { fetcher: createAdyenFetcher(o), account: o.merchantAccount, secrets };
    }
    default:
      throw new UsageError(`no download client for provider ${JSON.stringify(provider)}`);
  }
}
