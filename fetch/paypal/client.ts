import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import ssh2 from 'ssh2';
import type { ConnectConfig, FileEntryWithStats, SFTPWrapper, Stats } from 'ssh2';
import { UsageError } from '../../core/errors.js';
import type { FetchContext, FetchedFile, FetchRequest, FetchResult, StatementFetcher } from '../contract.js';
import { FetchAuthError, FetchError, IntegrityError, SignatureError, StatementNotReadyError, TransientFetchError } from '../errors.js';

const { Client, utils } = ssh2;

/**
 * PayPal Settlement Report (STL) download over SFTP.
 *
 * PayPal drops `STL-yyyymmdd.<sequence>.<version>.<format>` files into `/ppreports/outgoing` every day
 * (before noon in the leading time zone of the reporting window), one file per day and more when the
 * day exceeds a million records (sequence numbers 01, 02, …). The client:
 * - connects with password or private-key authentication, the server's host key PINNED by its SHA-256
 *   (`PAYPAL_SFTP_HOST_KEY_SHA256`: OpenSSH's `SHA256:<base64>` form, bare base64, or hex). A different
 *   key → `SignatureError` (never retried: someone may be in the middle);
 * - lists the directory and takes every `STL-<yyyymmdd>.*` file of the bill date, sorted by sequence
 *   number, downloading each completely;
 * - NO file for the day → `StatementNotReadyError`: PayPal delivers a settlement file every day, even an
 *   empty one (headers and zero totals), so a missing file means "not delivered yet", never "no activity";
 * - a file whose size changes between listing and download (FSTAT ≠ listing) or that reads shorter than
 *   listed → `IntegrityError` (nothing is recorded; the next run fetches it again);
 * - connection refused/reset, handshake or whole-operation timeout → `TransientFetchError`; refused
 *   credentials or an unreadable key → `FetchAuthError`.
 * One attempt per call: the orchestrator wraps calls in `withRetry`.
 */
export interface PaypalFetcherOptions {
  host: string;
  port?: number;
  username: string;
  password?: string;
  /** Private key text (PEM or OpenSSH). */
  privateKey?: string | Buffer;
  passphrase?: string;
  /** Pinned host key SHA-256: `SHA256:<base64>`, base64 (padded or not) or hex (colons allowed). */
  hostKeySha256: string;
  /** Default `/ppreports/outgoing`. */
  dir?: string;
  /** Handshake timeout and whole-fetch timeout, ms (default 30 000 / 300 000). */
  connectTimeoutMs?: number;
  timeoutMs?: number;
}

export const PAYPAL_DEFAULT_DIR = '/ppreports/outgoing';

/** Parses a pinned fingerprint into the 32 digest bytes; throws `UsageError` on anything else. */
export function parseHostKeySha256(pin: string): Buffer {
  let s = pin.trim();
  if (/^sha256:/i.test(s)) s = s.slice(7);
  const hex = s.replace(/:/g, '');
  if (/^[0-9a-fA-F]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/=$/, ''), 'base64');
    if (b.length === 32) return b;
  }
  throw new UsageError('PAYPAL_SFTP_HOST_KEY_SHA256 must be a SHA-256 fingerprint (SHA256:<base64>, base64 or hex)');
}

const fingerprint = (digest: Buffer) => `SHA256:${digest.toString('base64').replace(/=+$/, '')}`;

/** Reads the PayPal SFTP configuration from the environment (see CONTRACT.md). */
export function paypalOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): PaypalFetcherOptions {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new UsageError(`${name} is not set`);
    return v;
  };
  const host = need('PAYPAL_SFTP_HOST');
  const username = need('PAYPAL_SFTP_USER');
  const hostKeySha256 = need('PAYPAL_SFTP_HOST_KEY_SHA256');
  parseHostKeySha256(hostKeySha256);
  const portText = env.PAYPAL_SFTP_PORT?.trim();
  const port = portText ? Number(portText) : 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`PAYPAL_SFTP_PORT is not a port number: ${JSON.stringify(portText)}`);
  const password = env.PAYPAL_SFTP_PASSWORD || undefined;
  const keyFile = env.PAYPAL_SFTP_KEY_FILE?.trim() || undefined;
  let privateKey: Buffer | undefined;
  if (keyFile) {
    try {
      privateKey = readFileSync(keyFile);
    } catch (err) {
      throw new UsageError(`PAYPAL_SFTP_KEY_FILE ${keyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!password && !privateKey) throw new UsageError('PAYPAL_SFTP_PASSWORD or PAYPAL_SFTP_KEY_FILE must be set');
  return { host, port, username, password, privateKey, hostKeySha256, dir: env.PAYPAL_SFTP_DIR?.trim() || PAYPAL_DEFAULT_DIR };
}

/** `STL-20261124.01.009.CSV` → [sequence, version] for sorting; unknown parts sort last. */
function sequenceOf(name: string): [number, number] {
  const m = /^STL-\d{8}\.(\d+)(?:\.(\d+))?/i.exec(name);
  return [m?.[1] ? Number(m[1]) : Number.MAX_SAFE_INTEGER, m?.[2] ? Number(m[2]) : 0];
}

export function stlFilesForDay(names: readonly string[], billDate: string): string[] {
  const ymd = billDate.replace(/-/g, '');
  const re = new RegExp(`^STL-${ymd}\\.[^/]+$`, 'i');
  return names
    .filter((n) => re.test(n))
    .sort((a, b) => {
      const [sa, va] = sequenceOf(a);
      const [sb, vb] = sequenceOf(b);
      return sa - sb || va - vb || (a < b ? -1 : a > b ? 1 : 0);
    });
}

const READ_CHUNK = 32 * 1024;

export function createPaypalFetcher(options: PaypalFetcherOptions): StatementFetcher {
  const pinned = parseHostKeySha256(options.hostKeySha256);
  if (!options.password && !options.privateKey) throw new UsageError('paypal: a password or a private key is required');
  const dir = options.dir ?? PAYPAL_DEFAULT_DIR;
  const secrets = [options.password, options.passphrase, options.privateKey?.toString()].filter((s): s is string => !!s && s.length >= 4);
  const redact = (text: string) => secrets.reduce((t, s) => t.split(s).join('[redacted]'), text);

  return {
    provider: 'paypal',
    fetch(req: FetchRequest, ctx: FetchContext = {}): Promise<FetchResult> {
      const { billDate } = req;
      if (!/^\d{4}-\d{2}-\d{2}$/.test(billDate)) return Promise.reject(new UsageError(`paypal: bill date must be YYYY-MM-DD, got ${JSON.stringify(billDate)}`));
      const where = `sftp://${options.host}:${options.port ?? 22}${dir}`;
      return new Promise<FetchResult>((resolve, reject) => {
        const conn = new Client();
        let settled = false;
        let hostMismatch: string | undefined;
        let stage = 'connecting';
        const finish = (err: unknown, result?: FetchResult) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          ctx.signal?.removeEventListener('abort', onAbort);
          conn.end();
          if (err) reject(err);
          else resolve(result!);
        };
        const transient = (msg: string, cause?: unknown) => new TransientFetchError('paypal', billDate, `${where}: ${redact(msg)}`, { cause });
        const timer = setTimeout(() => finish(transient(`timed out while ${stage}`)), options.timeoutMs ?? 300_000);
        const onAbort = () => finish(new FetchError('paypal', billDate, `${where}: aborted`, { cause: ctx.signal?.reason }));
        if (ctx.signal?.aborted) return onAbort();
        ctx.signal?.addEventListener('abort', onAbort, { once: true });

        conn.on('error', (err: Error & { level?: string; code?: string }) => {
          if (hostMismatch) return finish(new SignatureError('paypal', billDate, `${where}: the server's host key ${hostMismatch} does not match the pinned ${fingerprint(pinned)}`));
          if (err.level === 'client-authentication') return finish(new FetchAuthError('paypal', billDate, `${where}: the SFTP credentials for user ${options.username} were refused`));
          if (err.level === 'client-timeout') return finish(transient('timed out waiting for the SSH handshake', err));
          finish(transient(`${stage}: ${err.code ?? ''}${err.code ? ' ' : ''}${err.message}`, err));
        });
        conn.on('close', () => finish(hostMismatch ? new SignatureError('paypal', billDate, `${where}: the server's host key ${hostMismatch} does not match the pinned ${fingerprint(pinned)}`) : transient(`the connection closed while ${stage}`)));
        conn.on('ready', () => {
          stage = 'opening the SFTP session';
          conn.sftp((err, sftp) => {
            if (err) return finish(transient(`cannot start SFTP: ${err.message}`, err));
            download(sftp).then((r) => finish(null, r), (e) => finish(e));
          });
        });

        const download = async (sftp: SFTPWrapper): Promise<FetchResult> => {
          stage = `listing ${dir}`;
          const entries = await sftpCall<FileEntryWithStats[]>((cb) => sftp.readdir(dir, cb), `list ${dir}`);
          const sizes = new Map(entries.map((e) => [e.filename, e.attrs.size]));
          const names = stlFilesForDay([...sizes.keys()], billDate);
          if (names.length === 0) {
            throw new StatementNotReadyError('paypal', billDate, `${where}: no STL-${billDate.replace(/-/g, '')}.* settlement file yet — PayPal delivers one every day (even for a day without activity), so it has not been delivered yet`);
          }
          const files: FetchedFile[] = [];
          for (const name of names) {
            stage = `downloading ${name}`;
            const listed = sizes.get(name)!;
            const bytes = await readWhole(sftp, path.join(dir, name), listed, name);
            files.push({ name, bytes, integrity: { algorithm: 'size', value: String(listed), over: 'bytes' } });
            ctx.log?.('paypal.file', { name, bytes: bytes.length });
          }
          return { files, notes: { host: `${options.host}:${options.port ?? 22}`, dir, hostKey: fingerprint(pinned), files: names.join(',') } };
        };

        const sftpCall = <T>(op: (cb: (err: Error | undefined | null, v: T) => void) => void, what: string): Promise<T> =>
          new Promise<T>((res, rej) =>
            op((err, v) => {
              if (!err) return res(v);
              const code = (err as Error & { code?: number }).code;
              if (code === utils.sftp.STATUS_CODE.PERMISSION_DENIED) return rej(new FetchAuthError('paypal', billDate, `${where}: permission denied to ${what}`));
              if (code === utils.sftp.STATUS_CODE.NO_SUCH_FILE) return rej(new FetchError('paypal', billDate, `${where}: cannot ${what}: no such file or directory (check PAYPAL_SFTP_DIR)`));
              rej(transient(`cannot ${what}: ${err.message}`, err));
            }),
          );

        const readWhole = async (sftp: SFTPWrapper, file: string, listed: number, name: string): Promise<Buffer> => {
          const handle = await sftpCall<Buffer>((cb) => sftp.open(file, 'r', cb), `open ${name}`);
          try {
            const st = await sftpCall<Stats>((cb) => sftp.fstat(handle, cb), `stat ${name}`);
            if (st.size !== listed) throw new IntegrityError('paypal', billDate, `${name}: the size changed between listing (${listed} bytes) and download (${st.size} bytes) — the file is still being written`);
            const chunks: Buffer[] = [];
            let offset = 0;
            for (;;) {
              const want = Math.max(1, Math.min(READ_CHUNK, listed - offset || READ_CHUNK));
              const buf = Buffer.alloc(want);
              const n = await new Promise<number>((res, rej) =>
                sftp.read(handle, buf, 0, want, offset, (err, bytesRead) => {
                  // ssh2 reports EOF as a successful read of 0 bytes.
                  if (err) return rej(transient(`cannot read ${name}: ${err.message}`, err));
                  res(bytesRead);
                }),
              );
              if (n === 0) break;
              chunks.push(buf.subarray(0, n));
              offset += n;
              if (offset > listed) break;
            }
            const bytes = Buffer.concat(chunks);
            if (bytes.length !== listed) throw new IntegrityError('paypal', billDate, `${name}: read ${bytes.length} bytes but the listing says ${listed} — truncated transfer`);
            return bytes;
          } finally {
            sftp.close(handle, () => {});
          }
        };

        const config: ConnectConfig = {
          host: options.host,
          port: options.port ?? 22,
          username: options.username,
          readyTimeout: options.connectTimeoutMs ?? 30_000,
          tryKeyboard: false,
          hostVerifier: (key: Buffer) => {
            const got = createHash('sha256').update(key).digest();
            if (got.equals(pinned)) return true;
            hostMismatch = fingerprint(got);
            return false;
          },
        };
        if (options.password) config.password = options.password;
        if (options.privateKey) {
          config.privateKey = options.privateKey;
          if (options.passphrase) config.passphrase = options.passphrase;
        }
        try {
          conn.connect(config);
        } catch {
          // ssh2 throws synchronously for an unparseable key; never echo the key.
          finish(new FetchAuthError('paypal', billDate, `${where}: the SFTP private key cannot be parsed (wrong format or passphrase)`));
        }
      });
    },
  };
}
