import type { Database } from '../db/database.js';
import type { FetchContext, FetchedFile, FetchRequest, StatementFetcher } from '../fetch/contract.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../fetch/retry.js';
import { archiveBytes, type ArchivedFile } from '../storage/archive.js';

export interface StoredFetchFile {
  statementFileId: string;
  name: string;
  sha256: string;
  sizeBytes: number;
  archivePath: string;
  /** True when these exact bytes had been stored before (a repeated fetch). */
  alreadyStored: boolean;
}

export interface FetchOutcome {
  fetchId: string;
  request: FetchRequest;
  status: 'fetched' | 'empty';
  files: StoredFetchFile[];
}

/**
 * Fetches one (provider, account, bill date) with retries, then keeps the bytes: archived
 * content-addressed and recorded in `statement_files` (not yet parsed) with account, bill date and
 * fetch time. The same bytes fetched twice are stored once; a different file for the same day (a
 * corrected statement) is kept beside the first. A fetch that fails records the failure and nothing
 * as fetched.
 */
export async function fetchStatement(
  db: Database,
  args: { fetcher: StatementFetcher; request: FetchRequest; archiveDir: string; retry?: RetryPolicy; context?: FetchContext },
): Promise<FetchOutcome> {
  const { fetcher, request } = args;
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO fetches (provider, account, bill_date, status) VALUES ($1, $2, $3, 'running') RETURNING id`,
    [request.provider, request.account, request.billDate],
  );
  const fetchId = String(row!.id);
  try {
    const result = await withRetry(() => fetcher.fetch(request, args.context), args.retry ?? DEFAULT_RETRY, {
      ...(args.context?.signal ? { signal: args.context.signal } : {}),
      onRetry: (err, delayMs, attempt) => args.context?.log?.('fetch.retry', { attempt: attempt + 1, delayMs, reason: err.message }),
    });
    const archived: Array<{ file: FetchedFile; stored: ArchivedFile }> = [];
    for (const f of result.files) archived.push({ file: f, stored: await archiveBytes(args.archiveDir, request.provider, f.name, f.bytes) });

    const files = await db.transaction(async (tx) => {
      const out: StoredFetchFile[] = [];
      for (const { file, stored } of archived) {
        const [existing] = await tx.query<{ id: string }>(`SELECT id FROM statement_files WHERE provider = $1 AND sha256 = $2`, [request.provider, stored.sha256]);
        let id = existing?.id;
        if (!id) {
          const [ins] = await tx.query<{ id: string }>(
            `INSERT INTO statement_files (provider, account, sha256, size_bytes, original_name, archive_path, bill_date, source, fetched_at, integrity)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'fetch', now(), $8) RETURNING id`,
            [request.provider, request.account, stored.sha256, String(stored.sizeBytes), file.name, stored.archivePath, request.billDate, file.integrity ? JSON.stringify(file.integrity) : null],
          );
          id = ins!.id;
        }
        await tx.query(`INSERT INTO fetch_files (fetch_id, statement_file_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [fetchId, id]);
        out.push({ statementFileId: String(id), name: file.name, sha256: stored.sha256, sizeBytes: stored.sizeBytes, archivePath: stored.archivePath, alreadyStored: existing !== undefined });
      }
      const status = out.length === 0 ? 'empty' : 'fetched';
      await tx.query(`UPDATE fetches SET status = $2, finished_at = now(), notes = $3 WHERE id = $1`, [fetchId, status, result.notes ? JSON.stringify(result.notes) : null]);
      return out;
    });
    return { fetchId, request, status: files.length === 0 ? 'empty' : 'fetched', files };
  } catch (err) {
    await db.query(`UPDATE fetches SET status = 'failed', finished_at = now(), error = $2 WHERE id = $1`, [fetchId, (err as Error).message]);
    throw err;
  }
}
