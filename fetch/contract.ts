import type { ProviderId } from '../parsers/contract.js';

/**
 * The download contract: each provider has a client that gets one bill date's statement over the
 * provider's real channel (signed HTTP, SFTP) and returns the bytes exactly as served, plus what the
 * provider said about them. Clients do no parsing and no storage: `jobs/fetch-statement.ts` archives the
 * bytes and records the fetch, so every client stays a pure "talk to the provider" module.
 */
export interface FetchRequest {
  provider: ProviderId;
  /** The merchant account at the provider (Alipay app / PID, WeChat mchid, Adyen merchant account …). */
  account: string;
  /** The bill date, `YYYY-MM-DD`, a calendar day in the provider's time zone. */
  billDate: string;
}

export interface FetchedFile {
  /** The file name the provider gives (or a faithful one: `STL-20261124.01.009.CSV`, `…_业务明细.csv.zip`). */
  name: string;
  /** The bytes exactly as served (for a gzip download: the gzip bytes, not the decompressed ones). */
  bytes: Buffer;
  /** What the provider's channel asserted about the file and that the client verified, for the record. */
  integrity?: { algorithm: string; value: string; over: 'bytes' | 'decompressed' };
}

export interface FetchResult {
  /** Empty when the provider says there is no statement for that day (an empty day, not an error). */
  files: FetchedFile[];
  /** Provider-side facts worth keeping (request ids, report run ids), never secrets. */
  notes?: Record<string, string>;
}

export interface FetchContext {
  /** Aborts the whole fetch (shutdown, job timeout). */
  signal?: AbortSignal;
  /** Structured log sink; never pass secrets to it. */
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

/** One provider's download client. */
export interface StatementFetcher {
  readonly provider: ProviderId;
  fetch(req: FetchRequest, ctx?: FetchContext): Promise<FetchResult>;
}
