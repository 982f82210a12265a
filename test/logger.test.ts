import { describe, expect, it } from 'vitest';
import { createLogger, redact, registerSecrets } from '../core/logger.js';

describe('logs never carry a secret', () => {
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQDd3T1c0kJ2mQxY\n-----END PRIVATE KEY-----\n';

  it('masks a multi-line key in a JSON log line, whole or a line of it, and a password', () => {
    const lines: string[] = [];
    const log = createLogger({ secrets: [pem, 'hunter2-password'], write: (l) => lines.push(l) });
    log.error('fetch.failed', { detail: `key ${pem}`, part: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC', auth: 'user:hunter2-password' });
    const out = lines.join('\n');
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(out).not.toContain('BKcwggSjAgEAAoIBAQDd3T1c0kJ2mQxY');
    expect(out).not.toContain('hunter2-password');
    expect(JSON.parse(out).auth).toBe('user:***');
  });

  it('masks what the process registered in plain error text', () => {
    registerSecrets(['sk_test_51AbcDefGhiJkl']);
    expect(redact('Stripe said: invalid key sk_test_51AbcDefGhiJkl')).toBe('Stripe said: invalid key ***');
  });
});
