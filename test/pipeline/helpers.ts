import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import iconv from 'iconv-lite';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startEmulators, type EmulatorSet } from '../../emulators/all.js';
import { dayInterval } from '../../fetch/stripe/client.js';
import { adyenFileNameForDay, ADYEN_DEFAULT_TEMPLATE } from '../../fetch/adyen/client.js';
import { addDays } from '../../reconcile/calendars.js';
import { QUEUE_NAME } from '../../jobs/queue/queues.js';

/** The CLI under test (`RECON_TEST_CLI` may point at another build of it). */
export const CLI = join(process.cwd(), process.env.RECON_TEST_CLI ?? 'dist/cli/recon.js');
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const BASE_DAY = '2026-11-24';
const fixture = (p: string) => readFileSync(join(process.cwd(), 'fixtures', p));

/** A queue key prefix of the test's own: test runs never see each other's jobs. */
export const randomPrefix = () => `rt${randomBytes(5).toString('hex')}`;

/** Removes every key of the pipeline queue under `prefix`. */
export async function obliterate(prefix: string): Promise<void> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const q = new Queue(QUEUE_NAME, { connection, prefix });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
    await connection.quit();
  }
}

// ------------------------------------------------------------------------------------------------
// Statements of other days, made from the bundled example day by moving every date in them.

const DATE = /(?<!\d)(20\d\d)([-/]?)(\d\d)\2(\d\d)(?!\d)/g;

/** Moves every date (`2026-11-24`, `2026/11/24`, `20261124`) in a text by `days`. */
export function shiftDates(text: string, days: number): string {
  if (days === 0) return text;
  return text.replace(DATE, (_m, y: string, sep: string, mo: string, d: string) => {
    const moved = addDays(`${y}-${mo}-${d}`, days);
    return moved.replaceAll('-', sep);
  });
}

interface ZipEntry {
  name: Buffer;
  data: Buffer;
}

function unzip(buf: Buffer): ZipEntry[] {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd -= 1;
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen);
    const dataStart = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(dataStart, dataStart + size);
    out.push({ name: Buffer.from(name), data: method === 8 ? inflateRawSync(raw) : Buffer.from(raw) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function zipStore(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const crc = crc32(e.data);
    const l = Buffer.alloc(30);
    l.writeUInt32LE(0x04034b50, 0);
    l.writeUInt16LE(20, 4);
    l.writeUInt32LE(crc, 14);
    l.writeUInt32LE(e.data.length, 18);
    l.writeUInt32LE(e.data.length, 22);
    l.writeUInt16LE(e.name.length, 26);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(e.data.length, 20);
    c.writeUInt32LE(e.data.length, 24);
    c.writeUInt16LE(e.name.length, 28);
    c.writeUInt32LE(offset, 42);
    locals.push(l, e.name, e.data);
    centrals.push(c, e.name);
    offset += 30 + e.name.length + e.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const gbkShift = (b: Buffer, days: number) => iconv.encode(shiftDates(iconv.decode(b, 'gbk'), days), 'gbk');
const utf8Shift = (b: Buffer, days: number) => Buffer.from(shiftDates(b.toString('utf8'), days), 'utf8');
const compact = (day: string) => day.replaceAll('-', '');

/** Each provider's statement of `day`, in its real format: the example day's with its dates moved. */
export function statementsOf(day: string) {
  const days = Math.round((Date.parse(`${day}T00:00:00Z`) - Date.parse(`${BASE_DAY}T00:00:00Z`)) / 86_400_000);
  const alipayZip = fixture('demo/alipay/20880211096256330156_20261124.csv.zip');
  return {
    alipay: { name: `20880211096256330156_${compact(day)}.csv.zip`, bytes: zipStore(unzip(alipayZip).map((e) => ({ name: gbkShift(e.name, days), data: gbkShift(e.data, days) }))) },
    wechatpay: { bytes: utf8Shift(fixture('demo/wechatpay/tradebill-ALL-2026-11-24.csv'), days) },
    paypal: [{ name: `STL-${compact(day)}.01.009.CSV`, bytes: utf8Shift(fixture('e2e/STL-20261124.01.009.CSV'), days) }],
    stripe: { reportType: 'payout_reconciliation.itemized.5' as const, csv: utf8Shift(fixture('e2e/stripe-payout-reconciliation.csv'), days) },
    adyen: { bytes: utf8Shift(fixture('e2e/settlement_detail_report_batch_612.csv'), days) },
  };
}

/** The five emulators, serving every day of `days`. */
export async function startMultiDayEmulators(keyDir: string, days: string[]): Promise<EmulatorSet> {
  const emu = await startEmulators({ keyDir, day: days[0]!, statements: statementsOf(days[0]!) });
  for (const day of days.slice(1)) {
    const s = statementsOf(day);
    emu.alipay.bills.set(day, s.alipay);
    emu.wechatpay.bills.set(day, s.wechatpay);
    for (const f of s.paypal) emu.paypal.files.set(f.name, f.bytes);
    const iv = dayInterval(day);
    emu.stripe.reports.push({ reportType: s.stripe.reportType, intervalStart: iv.start, intervalEnd: iv.end, csv: s.stripe.csv });
    emu.adyen.files.set(adyenFileNameForDay(ADYEN_DEFAULT_TEMPLATE, day), s.adyen.bytes);
  }
  return emu;
}

// ------------------------------------------------------------------------------------------------
// Driving the CLI.

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: Record<string, string>, timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface SpawnedWorker {
  name: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the worker's log has a line matching `re`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
}

export async function spawnWorker(env: Record<string, string>, name: string, concurrency = 2): Promise<SpawnedWorker> {
  const child = spawn(process.execPath, [CLI, 'worker', '--concurrency', String(concurrency), '--name', name], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  child.stdout!.on('data', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const started = Date.now();
      const check = () => {
        const line = err.split('\n').find((l) => re.test(l));
        if (line) return resolve(line);
        if (child.exitCode !== null || child.signalCode !== null) return reject(new Error(`worker ${name} exited: ${err.slice(-2000)}`));
        if (Date.now() - started > timeoutMs) return reject(new Error(`worker ${name}: no ${re} within ${timeoutMs} ms: ${err.slice(-2000)}`));
        setTimeout(check, 25);
      };
      check();
    });
  const w: SpawnedWorker = { name, child, stderr: () => err, exited, waitFor };
  await waitFor(/"event":"worker.ready"/);
  return w;
}

/**
 * Every report file under `dir`, relative path → bytes. The one-page HTML reports are left out: they
 * say which run version they show and when they were generated, so a rerun rightly differs there.
 */
export function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!name.endsWith('.html')) out.set(relative(dir, p), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/**
 * A report's content without the database's own identities, to compare the results of runs in two
 * databases: CSVs without the `exception_id` column; workbooks as their cell values (not the zip bytes,
 * whose docProps carry the creation time), without `exception_id` and the Summary's `Run` id.
 */
export async function reportContent(name: string, bytes: Buffer, opts: { dropDbIds: boolean }): Promise<unknown> {
  if (name.endsWith('.csv')) {
    const { parse } = await import('csv-parse/sync');
    const rows = parse(bytes, { bom: true }) as string[][];
    const col = opts.dropDbIds ? rows[0]?.indexOf('exception_id') ?? -1 : -1;
    return col < 0 ? rows : rows.map((r) => r.filter((_v, i) => i !== col));
  }
  if (name.endsWith('.xlsx')) {
    const { default: ExcelJS } = await import('exceljs');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bytes as unknown as ArrayBuffer);
    return wb.worksheets.map((ws) => {
      const rows: unknown[][] = [];
      ws.eachRow({ includeEmpty: true }, (row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v instanceof Date ? v.toISOString() : v ?? null))));
      const col = rows[0]?.indexOf('exception_id') ?? -1;
      return {
        name: ws.name,
        rows: rows.map((r) => {
          let out = r;
          if (out[0] === 'Run') out = ['Run', '<run id>', ...out.slice(2)];
          if (opts.dropDbIds && col >= 0) out = out.filter((_v, i) => i !== col);
          return out;
        }),
      };
    });
  }
  return bytes.toString('utf8');
}
