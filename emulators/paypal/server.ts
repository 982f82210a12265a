import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Socket } from 'node:net';
import { posix as path } from 'node:path';
import ssh2 from 'ssh2';
import type { AuthContext, Connection, ParsedKey, SFTPWrapper, ClientInfo } from 'ssh2';
import { FaultQueue } from '../common/fault-queue.js';
import { listenLoopback, trackSockets } from '../common/listen.js';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;
const OPEN_MODE = utils.sftp.OPEN_MODE;

/**
 * Faults of the PayPal SFTP emulator. SFTP is connection-oriented, so ONE fault is consumed per TCP
 * connection (a client's `fetch` opens one connection) and shapes that whole connection.
 */
export type PaypalFault =
  /** The TCP connection is accepted and closed at once (a dropped connection / load balancer reset). */
  | { kind: 'disconnect' }
  /** Nothing is sent for `delayMs` (no SSH banner): beyond the client's handshake timeout. */
  | { kind: 'slow'; delayMs: number }
  /** Every credential is refused on this connection (as if the password had been rotated). */
  | { kind: 'reject-auth' }
  /** The listing does not show these files yet (all files when `names` is absent): not yet delivered. */
  | { kind: 'not-delivered'; names?: string[] }
  /** Reads hit EOF after `keepBytes` (default half the file) although the listing states the full size. */
  | { kind: 'truncate'; keepBytes?: number }
  /** The open file's size (FSTAT) differs from the listing by `delta` bytes (file rewritten meanwhile). */
  | { kind: 'size-change'; delta?: number }
  /** The connection is served by an impostor with a different host key. */
  | { kind: 'wrong-host-key' };

export interface PaypalEmulatorOptions {
  /** File name → content, served from `dir`. Mutable through the returned `files` map. */
  files?: Record<string, Buffer | string>;
  /** Default `/ppreports/outgoing`. */
  dir?: string;
  username?: string;
  /** Default: random. */
  password?: string;
  /** Extra authorized public keys (OpenSSH `ecdsa-sha2-nistp256 AAAA…` lines or PEM). */
  authorizedKeys?: string[];
  faults?: PaypalFault[];
}

export interface PaypalEmulator {
  host: string;
  port: number;
  username: string;
  password: string;
  /** A private key (PEM) whose public half the emulator accepts for `username`. */
  clientPrivateKey: string;
  /** The host key's SHA-256 fingerprint as OpenSSH prints it: `SHA256:<base64 without padding>`. */
  hostKeyFingerprint: string;
  /** The same digest in hex. */
  hostKeySha256Hex: string;
  dir: string;
  files: Map<string, Buffer>;
  faults: FaultQueue<PaypalFault>;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

function ecKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1', privateKeyEncoding: { type: 'sec1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey;
}

function parse(keyText: string): ParsedKey {
  const k = utils.parseKey(keyText);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

function sameSecret(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

const FILE_MODE = 0o100644;
const DIR_MODE = 0o040755;

type Handle = { kind: 'dir'; listed: boolean } | { kind: 'file'; name: string; served: Buffer; reportedSize: number };

/**
 * A real SFTP server (ssh2's Server, SFTP subsystem) on 127.0.0.1 with an ECDSA host key generated at
 * start; password and public-key authentication; read-only files from an in-memory map under `dir`.
 */
export async function startPaypalEmulator(opts: PaypalEmulatorOptions = {}): Promise<PaypalEmulator> {
  const dir = opts.dir ?? '/ppreports/outgoing';
  const username = opts.username ?? 'recon-sftp';
  const password = opts.password ?? randomBytes(12).toString('base64url');
  const files = new Map<string, Buffer>(Object.entries(opts.files ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v : Buffer.from(v)]));
  const faults = new FaultQueue<PaypalFault>(opts.faults);

  const hostKeyPem = ecKeyPem();
  const impostorKeyPem = ecKeyPem();
  const clientPrivateKey = ecKeyPem();
  const hostBlob = parse(hostKeyPem).getPublicSSH();
  const digest = createHash('sha256').update(hostBlob).digest();
  const authorized: ParsedKey[] = [parse(clientPrivateKey), ...(opts.authorizedKeys ?? []).map(parse)];

  // Faults by client port: the fault is taken when TCP accepts, the SSH layer looks it up by port.
  const faultByPort = new Map<number, PaypalFault | undefined>();
  let connections = 0;

  const onClient = (client: Connection, info: ClientInfo) => {
    const fault = faultByPort.get(info.port);
    faultByPort.delete(info.port);
    client.on('error', () => {});
    client.on('authentication', (ctx: AuthContext) => {
      if (fault?.kind === 'reject-auth' || ctx.username !== username) return ctx.reject(['password', 'publickey']);
      if (ctx.method === 'password') return sameSecret(ctx.password, password) ? ctx.accept() : ctx.reject(['password', 'publickey']);
      if (ctx.method === 'publickey') {
        const key = authorized.find((k) => k.getPublicSSH().equals(ctx.key.data));
        if (!key) return ctx.reject(['password', 'publickey']);
        if (!ctx.signature || !ctx.blob) return ctx.accept(); // "would this key be accepted?" query
        return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? ctx.accept() : ctx.reject(['password', 'publickey']);
      }
      return ctx.reject(['password', 'publickey']);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        session.on('sftp', (acceptSftp) => serveSftp(acceptSftp(), fault));
      });
    });
  };

  const visible = (fault: PaypalFault | undefined): string[] => {
    const hidden = fault?.kind === 'not-delivered' ? new Set(fault.names ?? [...files.keys()]) : new Set<string>();
    return [...files.keys()].filter((n) => !hidden.has(n)).sort();
  };

  const serveSftp = (sftp: SFTPWrapper, fault: PaypalFault | undefined) => {
    const handles = new Map<number, Handle>();
    let nextHandle = 1;
    const newHandle = (h: Handle) => {
      const id = nextHandle++;
      handles.set(id, h);
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(id);
      return buf;
    };
    const getHandle = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
    const resolve = (p: string) => path.resolve('/', p === '' ? '.' : p);
    const fileAt = (p: string): string | undefined => {
      const abs = resolve(p);
      if (path.dirname(abs) !== dir) return undefined;
      const name = path.basename(abs);
      return visible(fault).includes(name) ? name : undefined;
    };
    const isDir = (p: string) => {
      const abs = resolve(p);
      return abs === '/' || abs === dir || dir.startsWith(abs + '/');
    };
    const mtime = Math.floor(Date.now() / 1000);
    const fileAttrs = (size: number) => ({ mode: FILE_MODE, uid: 0, gid: 0, size, atime: mtime, mtime });
    const dirAttrs = () => ({ mode: DIR_MODE, uid: 0, gid: 0, size: 4096, atime: mtime, mtime });
    const stat = (reqid: number, p: string) => {
      if (isDir(p)) return sftp.attrs(reqid, dirAttrs());
      const name = fileAt(p);
      if (name === undefined) return sftp.status(reqid, STATUS.NO_SUCH_FILE);
      return sftp.attrs(reqid, fileAttrs(files.get(name)!.length));
    };

    sftp.on('REALPATH', (reqid, p) => {
      const abs = resolve(p);
      sftp.name(reqid, [{ filename: abs, longname: abs, attrs: dirAttrs() }]);
    });
    sftp.on('STAT', stat);
    sftp.on('LSTAT', stat);
    sftp.on('OPENDIR', (reqid, p) => {
      if (resolve(p) !== dir) return sftp.status(reqid, isDir(p) ? STATUS.PERMISSION_DENIED : STATUS.NO_SUCH_FILE);
      sftp.handle(reqid, newHandle({ kind: 'dir', listed: false }));
    });
    sftp.on('READDIR', (reqid, hbuf) => {
      const h = getHandle(hbuf);
      if (!h || h.kind !== 'dir') return sftp.status(reqid, STATUS.FAILURE);
      if (h.listed) return sftp.status(reqid, STATUS.EOF);
      h.listed = true;
      sftp.name(
        reqid,
        visible(fault).map((name) => {
          const size = files.get(name)!.length;
          return { filename: name, longname: `-rw-r--r--    1 paypal   paypal   ${String(size).padStart(8)} Jan  1 00:00 ${name}`, attrs: fileAttrs(size) };
        }),
      );
    });
    sftp.on('OPEN', (reqid, filename, flags) => {
      if (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) return sftp.status(reqid, STATUS.PERMISSION_DENIED);
      const name = fileAt(filename);
      if (name === undefined) return sftp.status(reqid, STATUS.NO_SUCH_FILE);
      const bytes = files.get(name)!;
      let served = bytes;
      let reportedSize = bytes.length;
      if (fault?.kind === 'truncate') served = bytes.subarray(0, fault.keepBytes ?? Math.floor(bytes.length / 2));
      if (fault?.kind === 'size-change') reportedSize = bytes.length + (fault.delta ?? 17);
      sftp.handle(reqid, newHandle({ kind: 'file', name, served, reportedSize }));
    });
    sftp.on('FSTAT', (reqid, hbuf) => {
      const h = getHandle(hbuf);
      if (!h) return sftp.status(reqid, STATUS.FAILURE);
      sftp.attrs(reqid, h.kind === 'file' ? fileAttrs(h.reportedSize) : dirAttrs());
    });
    sftp.on('READ', (reqid, hbuf, offset, length) => {
      const h = getHandle(hbuf);
      if (!h || h.kind !== 'file') return sftp.status(reqid, STATUS.FAILURE);
      if (offset >= h.served.length) return sftp.status(reqid, STATUS.EOF);
      sftp.data(reqid, h.served.subarray(offset, Math.min(h.served.length, offset + length)));
    });
    sftp.on('CLOSE', (reqid, hbuf) => {
      if (hbuf.length === 4) handles.delete(hbuf.readUInt32BE(0));
      sftp.status(reqid, STATUS.OK);
    });
    for (const op of ['WRITE', 'REMOVE', 'RENAME', 'MKDIR', 'RMDIR', 'SETSTAT', 'FSETSTAT', 'SYMLINK', 'READLINK'] as const) {
      sftp.on(op as 'REMOVE', (reqid: number) => sftp.status(reqid, STATUS.PERMISSION_DENIED));
    }
  };

  const real = new Server({ hostKeys: [hostKeyPem] }, onClient);
  const impostor = new Server({ hostKeys: [impostorKeyPem] }, onClient);
  real.on('error', () => {});
  impostor.on('error', () => {});

  const tcp = createServer((socket: Socket) => {
    connections++;
    socket.on('error', () => {});
    const fault = faults.next();
    if (fault?.kind === 'disconnect') return void socket.destroy();
    faultByPort.set(socket.remotePort ?? -1, fault);
    const hand = () => {
      if (socket.destroyed) return;
      (fault?.kind === 'wrong-host-key' ? impostor : real).injectSocket(socket);
    };
    if (fault?.kind === 'slow') setTimeout(hand, fault.delayMs).unref();
    else hand();
  });
  const tracker = trackSockets(tcp);
  const port = await listenLoopback(tcp);

  return {
    host: '127.0.0.1',
    port,
    username,
    password,
    clientPrivateKey,
    hostKeyFingerprint: `SHA256:${digest.toString('base64').replace(/=+$/, '')}`,
    hostKeySha256Hex: digest.toString('hex'),
    dir,
    files,
    faults,
    get connections() {
      return connections;
    },
    close: () => tracker.closeAll(),
  };
}
