import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';

/**
 * The providers' RSA keys as merchants are given them: PEM files (WeChat Pay's `apiclient_key.pem`,
 * platform certificates) or, as Alipay's key tool writes them, the bare base64 body. Errors name `label`
 * (an environment variable or a role), never the key text.
 */

/** A private key: PEM (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`), or the bare base64 of either. */
export function loadPrivateKey(text: string, label: string): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('-----BEGIN')) return createPrivateKey({ key: trimmed, format: 'pem' });
    const der = Buffer.from(trimmed.replace(/\s+/g, ''), 'base64');
    try {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch {
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs1' });
    }
  } catch {
    throw new UsageError(`${label}: not a readable RSA private key (PKCS#1 or PKCS#8 PEM expected)`);
  }
}

/** A public key: PEM (SPKI `PUBLIC KEY`, PKCS#1 `RSA PUBLIC KEY`, or a certificate), or bare base64 SPKI. */
export function loadPublicKey(text: string, label: string): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.includes('-----BEGIN')) return createPublicKey({ key: trimmed, format: 'pem' });
    return createPublicKey({ key: Buffer.from(trimmed.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new UsageError(`${label}: not a readable public key or certificate (PEM expected)`);
  }
}

/** The text of the key file an environment variable names (`provider` prefixes the message). */
export function readKeyFile(env: NodeJS.ProcessEnv, name: string, provider: string): string {
  const path = env[name];
  if (!path) throw new UsageError(`${provider}: environment variable ${name} is not set`);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`${provider}: cannot read the file named by ${name} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
