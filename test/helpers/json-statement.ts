import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatementFormatError } from '../../core/errors.js';
import { Decimal } from '../../core/money/index.js';
import type { LineType, ProviderId, StatementLine, StatementParser } from '../../parsers/contract.js';
import { parsedStatement } from '../../parsers/common/parsed-statement.js';

/**
 * A statement format for exercising the matching engine without a provider's file quirks: a JSON file
 * of lines. It goes through the same load path (archive, COPY, keys) as every real parser.
 */
export interface JsonLine {
  type: LineType;
  txn?: string | null;
  parent?: string | null;
  ref?: string | null;
  order?: string | null;
  gross: string;
  fee?: string;
  currency?: string;
  /** [amount, currency] the customer paid, when the statement settles in another currency. */
  original?: [string, string];
  at?: string;
  extra?: Record<string, string>;
}

export function jsonParser(provider: ProviderId): StatementParser {
  return {
    provider,
    timeZone: 'Asia/Shanghai',
    accepts: 'test JSON statements',
    parse(source) {
      return parsedStatement(async function* () {
        const doc = JSON.parse(readFileSync(source.path, 'utf8')) as { lines: JsonLine[]; period?: [string, string]; reject?: boolean };
        let n = 0;
        for (const l of doc.lines) {
          n += 1;
          const gross = new Decimal(l.gross);
          const fee = new Decimal(l.fee ?? '0');
          const line: StatementLine = {
            provider, type: l.type, providerTxnId: l.txn ?? null, parentTxnId: l.parent ?? null,
            merchantRef: l.ref ?? null, merchantOrderId: l.order ?? null, gross, fee, net: gross.minus(fee),
            currency: l.currency ?? 'CNY', original: l.original ? { amount: new Decimal(l.original[0]), currency: l.original[1] } : null, occurredAt: new Date(l.at ?? '2026-11-24T04:00:00Z'),
            paymentMethod: null, wallet: null, status: null, description: null, needsReview: false,
            source: { member: null, line: n + 1 }, extra: l.extra ?? {},
          };
          yield line;
        }
        if (doc.reject) throw new StatementFormatError('control_total_mismatch', { file: source.path, line: n + 2, field: 'total' }, 'test rejection');
        return {
          provider, layout: 'test.json', account: null, timeZone: 'Asia/Shanghai', lineCount: n, controls: [],
          period: doc.period ? { start: new Date(doc.period[0]), end: new Date(doc.period[1]) } : null,
        };
      });
    },
  };
}

export function tempDir(prefix = 'recon-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJsonStatement(dir: string, name: string, doc: { lines: JsonLine[]; period?: [string, string]; reject?: boolean }): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

/** Writes a ledger CSV with the contract's header from rows of [ledger_id, provider, type, order_id, provider_txn_id, amount, fee, currency, booked_at]. */
export function writeLedger(dir: string, name: string, rows: string[][]): string {
  const path = join(dir, name);
  const header = 'ledger_id,provider,type,order_id,provider_txn_id,amount,fee,currency,booked_at';
  writeFileSync(path, [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}
