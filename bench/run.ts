/**
 * The benchmark (`npm run bench`; NOT a test, never part of `npm test`).
 *
 * For each size (argv, or BENCH_SIZES=100000,1M; default 1M and 10M) it generates a WeChat Pay ALL trade
 * bill and a ledger of the same size (bench/generate.ts, cached under bench/.data/), then measures, in
 * the same run and on the same PostgreSQL server:
 *
 * - product: `node dist/cli/recon.js reconcile --provider wechatpay …` as a child process, against a
 *   fresh database (created before, dropped after); wall time from spawn to exit (the server's work is
 *   inside it) and the child's peak RSS (`/usr/bin/time -f %M`, else /proc/<pid>/status VmHWM sampled
 *   every 50 ms). Its summary.json is checked against the discrepancies the generator planted.
 * - floor: in a second fresh database, one psql process: `\copy` of the RAW bill (unconverted: loaded as
 *   one text column per physical line — CSV mode with a quote and a delimiter that never occur — and
 *   split on `` ,` `` in SQL), `\copy` of the ledger CSV, then ONE `\copy (SELECT … FULL JOIN …) TO` that
 *   parses the amounts to numeric, joins on (type, merchant reference) with exact numeric comparison and
 *   writes the discrepancy rows to CSV, with the product's session settings (work_mem, JIT off). The
 *   floor does not validate, archive, hash, check control totals, rank duplicates or write a workbook:
 *   it is a lower bound, not a reconciler.
 *
 * Up to 1M lines it measures three such pairs one after the other (BENCH_ROUNDS), and reports the pair of
 * median ratio (the highest peak of all): the machine's speed drifts within minutes.
 *
 * It prints a table per size (product s, floor s, ratio, lines/s, peak MB), the 10M/1M time ratio, and
 * whether each target holds (1M ≤ 1.5× floor; peak RSS < 512 MB at every size; 10M ≤ 11× the 1M time),
 * and writes the figures to bench/results/latest.json.
 *
 * Phase breakdown: the fresh product database gets `log_min_duration_statement = 0` (ALTER DATABASE), and
 * the server log (BENCH_PG_LOG, default /var/log/postgresql/postgresql-15-main.log) is read back to time
 * each statement; the gaps between statements are client-side work (archive + hash, report writing).
 * Product code is not touched. BENCH_CPU_PROF=1 adds `--cpu-prof` to the product child (slower; the
 * profile lands in the size's scratch dir).
 *
 * Environment: BENCH_SIZES, BENCH_SEED (42), BENCH_DATE (2026-11-24), BENCH_PG_URL
 * (postgres://postgres@127.0.0.1:5432/postgres), BENCH_PG_LOG, BENCH_KEEP=1 (keep scratch output),
 * BENCH_CPU_PROF=1, BENCH_SKIP_FLOOR=1, BENCH_ROUNDS.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SESSION_OPTIONS } from '../db/database.js';
import { DISCREPANCY_KINDS, generate, parseSize, type Kind, type Manifest } from './generate.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'recon.js');
const DATA = join(ROOT, 'bench', '.data');
/** Where the figures go; experiments (BENCH_CLI, BENCH_PG_SETTINGS) should point this elsewhere. */
const RESULTS = process.env.BENCH_RESULTS ? resolve(process.env.BENCH_RESULTS) : join(ROOT, 'bench', 'results', 'latest.json');
const ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_LOG = process.env.BENCH_PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';
const SEED = Number(process.env.BENCH_SEED ?? 42);
const DATE = process.env.BENCH_DATE ?? '2026-11-24';
const KEEP = process.env.BENCH_KEEP === '1';
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const SKIP_FLOOR = process.env.BENCH_SKIP_FLOOR === '1';
const EXPLAIN = process.env.BENCH_EXPLAIN === '1';
/**
 * Product-and-floor pairs per size, one after the other (default: 3 up to 1M lines, 1 above). This
 * machine's speed drifts by up to threefold within minutes; the size is reported by its pair of median
 * ratio, and every pair is printed and kept.
 */
const ROUNDS_ENV = process.env.BENCH_ROUNDS === undefined ? null : Number(process.env.BENCH_ROUNDS);
if (ROUNDS_ENV !== null && !(Number.isInteger(ROUNDS_ENV) && ROUNDS_ENV >= 1)) throw new Error('BENCH_ROUNDS: a whole number ≥ 1');
const roundsFor = (lines: number): number => ROUNDS_ENV ?? (lines <= 1_000_000 ? 3 : 1);
/** The product is stopped after this long and reported as not finished (its phases so far are kept). */
const TIMEOUT_SECONDS = Number(process.env.BENCH_TIMEOUT ?? 1800);
/** Experiments only: `name=value,…` set on the product database (ALTER DATABASE … SET), e.g. enable_nestloop=off. */
const PG_SETTINGS = (process.env.BENCH_PG_SETTINGS ?? '').split(',').map((x) => x.trim()).filter(Boolean).map((x) => {
  const m = /^([a-z_.]+)=([\w.]+)$/.exec(x);
  if (!m) throw new Error(`BENCH_PG_SETTINGS: not name=value: ${x}`);
  return [m[1]!, m[2]!] as const;
});
/** Experiments only: another build of the CLI to measure (default dist/cli/recon.js of this tree). */
const CLI_PATH = process.env.BENCH_CLI ? resolve(process.env.BENCH_CLI) : CLI;

const TARGET_FLOOR_RATIO = 1.5;
const TARGET_PEAK_MB = 512;
const TARGET_SCALE_RATIO = 11;

const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ------------------------------------------------------------------------------------------ postgres

function dbUrl(name: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

function psql(url: string, sql: string): string {
  const r = spawnSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`psql failed (${r.status}): ${sql}\n${r.stderr}`);
  return r.stdout.trim();
}

function createDb(name: string, opts: { logStatements?: boolean; explain?: boolean } = {}): string {
  psql(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  psql(ADMIN_URL, `CREATE DATABASE ${name}`);
  if (opts.logStatements) psql(ADMIN_URL, `ALTER DATABASE ${name} SET log_min_duration_statement = 0`);
  if (opts.explain) {
    // Plans of statements slower than 1 s go to the server log (auto_explain, loaded per session).
    psql(ADMIN_URL, `ALTER DATABASE ${name} SET session_preload_libraries = 'auto_explain'`);
    psql(ADMIN_URL, `ALTER DATABASE ${name} SET auto_explain.log_min_duration = '1s'`);
  }
  if (opts.logStatements) for (const [k, v] of PG_SETTINGS) psql(ADMIN_URL, `ALTER DATABASE ${name} SET ${k} = '${v}'`);
  return dbUrl(name);
}

function dropDb(name: string): void {
  try {
    psql(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (err) {
    log(`could not drop ${name}: ${(err as Error).message}`);
  }
}

// ------------------------------------------------------------------------------------------ child process measurement

interface ChildRun {
  seconds: number;
  peakRssMB: number;
  peakSource: string;
  userSeconds: number | null;
  systemSeconds: number | null;
  exitCode: number | null;
  /** Killed after the timeout (BENCH_TIMEOUT seconds). */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  startedAtMs: number;
  endedAtMs: number;
  /** RSS of the measured process over time: [ms since start, MB]. */
  rssTimeline: Array<[number, number]>;
}

const HAS_GNU_TIME = (() => {
  if (!existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', '/dev/null', 'true']);
  return r.status === 0;
})();

function readStatus(pid: number): { hwmKB: number; rssKB: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    if (!hwm || !rss) return undefined;
    return { hwmKB: Number(hwm[1]), rssKB: Number(rss[1]) };
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Runs a command, measuring wall time and the peak RSS of the command's own process. */
async function measure(cmd: string, args: string[], env: NodeJS.ProcessEnv, scratch: string, opts: { timeoutSeconds?: number; onTimeout?: () => void } = {}): Promise<ChildRun> {
  const timeFile = join(scratch, 'time.out');
  rmSync(timeFile, { force: true });
  const argv = HAS_GNU_TIME ? ['/usr/bin/time', '-f', '%e %M %U %S', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const startedAtMs = Date.now();
  const t0 = process.hrtime.bigint();
  // Own process group, so that a timeout ends the command and /usr/bin/time together.
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let timedOut = false;
  const timer = opts.timeoutSeconds === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    try {
      opts.onTimeout?.();
    } catch {
      // best effort
    }
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, opts.timeoutSeconds * 1000);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let sampledHwmKB = 0;
  const timeline: Array<[number, number]> = [];
  let lastLogged = -1;
  const sampler = setInterval(() => {
    const pid = HAS_GNU_TIME ? childPids(child.pid!)[0] : child.pid;
    if (pid === undefined) return;
    const st = readStatus(pid);
    if (!st) return;
    sampledHwmKB = Math.max(sampledHwmKB, st.hwmKB);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const mb = Math.round(st.rssKB / 1024);
    if (mb !== lastLogged || timeline.length === 0 || ms - timeline[timeline.length - 1]![0] > 1000) {
      timeline.push([Math.round(ms), mb]);
      lastLogged = mb;
    }
  }, 50);
  const exitCode = await new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  clearInterval(sampler);
  if (timer) clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const endedAtMs = Date.now();
  let peakKB = sampledHwmKB;
  let peakSource = '/proc/<pid>/status VmHWM sampled every 50 ms';
  let userSeconds: number | null = null;
  let systemSeconds: number | null = null;
  if (HAS_GNU_TIME && existsSync(timeFile)) {
    const last = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(last);
    if (m) {
      peakKB = Number(m[2]);
      userSeconds = Number(m[3]);
      systemSeconds = Number(m[4]);
      peakSource = '/usr/bin/time %M (max RSS of the child)';
    }
  }
  return { seconds, peakRssMB: peakKB / 1024, peakSource, userSeconds, systemSeconds, exitCode, timedOut, stdout, stderr, startedAtMs, endedAtMs, rssTimeline: timeline };
}

// ------------------------------------------------------------------------------------------ server log → phases

interface LogEntry {
  startMs: number;
  endMs: number;
  ms: number;
  pid: string;
  text: string;
}

function logSize(): number | null {
  try {
    return statSync(PG_LOG).size;
  } catch {
    return null;
  }
}

function readLogFrom(offset: number): string {
  const size = statSync(PG_LOG).size;
  if (size <= offset) return '';
  const fd = openSync(PG_LOG, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

const ENTRY = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC \[(\d+)\] [^@\s]*@(\S+) (\w+):  (.*)$/;

/** The statements the product ran on its database, with their durations (log_min_duration_statement = 0). */
function statementsOf(logText: string, db: string): LogEntry[] {
  const out: LogEntry[] = [];
  let cur: LogEntry | null = null;
  for (const line of logText.split('\n')) {
    const m = ENTRY.exec(line);
    if (!m) {
      if (cur && !/^\d{4}-\d\d-\d\d /.test(line)) cur.text += ' ' + line.trim();
      continue;
    }
    cur = null;
    if (m[4] !== db || m[5] !== 'LOG') continue;
    const d = /^duration: ([\d.]+) ms  (statement|execute [^:]*|parse [^:]*|bind [^:]*): (.*)$/.exec(m[6]!);
    if (!d || d[2]!.startsWith('parse') || d[2]!.startsWith('bind')) continue;
    const endMs = Date.parse(`${m[1]}T${m[2]}Z`);
    const ms = Number(d[1]);
    cur = { startMs: endMs - ms, endMs, ms, pid: m[3]!, text: d[3]! };
    out.push(cur);
  }
  for (const e of out) e.text = e.text.replace(/\s+/g, ' ').trim();
  return out;
}

interface Phases {
  [phase: string]: number | null;
}

function phasesOf(entries: LogEntry[], run: ChildRun): { phases: Phases; timeline: Array<{ at: number; ms: number; what: string }> } {
  const t0 = run.startedAtMs;
  // The statement and the ledger load side by side on two connections: each phase is read on its own
  // connection (server pid), found by the statement that starts it.
  const find = (re: RegExp, from = 0, pid?: string) => {
    if (from < 0) return -1;
    for (let i = from; i < entries.length; i++) if (re.test(entries[i]!.text) && (pid === undefined || entries[i]!.pid === pid)) return i;
    return -1;
  };
  const s = (ms: number | undefined) => (ms === undefined ? null : Math.round(ms) / 1000);
  const at = (i: number) => (i >= 0 ? entries[i] : undefined);
  const iFind = find(/FROM statement_files f WHERE f\.provider/);
  const iCopyS = find(/^COPY statement_lines/);
  const iCommitS = find(/^COMMIT$/, iCopyS, at(iCopyS)?.pid);
  // A file of new ids is copied straight into ledger_entries; one with known ids is staged and upserted.
  const iImport = find(/INSERT INTO ledger_imports/);
  const iCopyL = find(/^COPY ledger_(entries|stage)/);
  const pidL = at(iCopyL)?.pid;
  const iCopyStage = find(/^COPY ledger_stage/, iCopyL, pidL);
  const iRepeated = find(/FROM ledger_stage/, iCopyStage < 0 ? -1 : iCopyStage + 1, pidL);
  const iWrite = find(/INSERT INTO ledger_entries/, iCopyStage, pidL);
  const iCommitL = find(/^COMMIT$/, iCopyL, pidL);
  const iRun = find(/INSERT INTO recon_runs/);
  // With --date the ledger's transaction goes on to make the ledger side of the matching while the
  // statement loads, then runs the matching itself: the ledger is loaded at its COPY's end.
  const iLedgerSide = find(/^CREATE (?:TEMP|UNLOGGED) TABLE rl /, iCopyL, pidL);
  const ledgerSide = iLedgerSide >= 0 && (iRun < 0 || iLedgerSide < iRun)
    ? entries.slice(iLedgerSide, iRun < 0 ? undefined : iRun).filter((e) => e.pid === pidL && !/^(INSERT INTO recon_runs|COMMIT)/.test(e.text))
    : [];
  const iRunDone = find(/UPDATE recon_runs SET status/);
  const iCommitR = find(/^COMMIT$/, iRunDone);
  const iReport = find(/^SELECT d\.kind, d\.provider/);
  const between = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
  const firstLoad = Math.min(at(iFind)?.startMs ?? Infinity, at(iImport)?.startMs ?? Infinity);
  const ledgerLoaded = iLedgerSide >= 0 ? at(iCopyL)?.endMs : at(iCommitL)?.endMs;
  const loadsDone = Math.max(at(iCommitS)?.endMs ?? -Infinity, ledgerLoaded ?? -Infinity);
  const matchSql = iRun >= 0 && iCommitR >= 0 ? entries.slice(iRun, iCommitR + 1).reduce((a, e) => a + e.ms, 0) : undefined;
  const phases: Phases = {
    'startup + migrations (node start → first load statement)': s(between(t0, Number.isFinite(firstLoad) ? firstLoad : undefined)),
    'statement + ledger loads, side by side (first load statement → statement COMMIT or ledger COPY end, the later)': s(Number.isFinite(firstLoad) && Number.isFinite(loadsDone) ? loadsDone - firstLoad : undefined),
    'statement: archive + sha256 (client, before its lookup)': s(between(at(iFind - 1)?.endMs, at(iFind)?.startMs)),
    'statement: parse + COPY statement_lines (streamed, one statement)': s(at(iCopyS)?.ms),
    'statement: load transaction (lookup → COMMIT)': s(between(at(iFind)?.startMs, at(iCommitS)?.endMs)),
    'ledger: validate + COPY ledger_entries (streamed; new ids only)': s(at(iCopyL)?.text.startsWith('COPY ledger_entries') ? at(iCopyL)?.ms : undefined),
    'ledger: validate + COPY ledger_stage (streamed; known ids)': s(at(iCopyStage)?.ms),
    'ledger: repeated-id check': s(at(iRepeated)?.ms),
    'ledger: upsert ledger_entries (known ids)': s(at(iWrite)?.ms),
    'ledger side of the matching, made while the statement loads (rl, its copies, ANALYZE; server time)': ledgerSide.length > 0 ? s(ledgerSide.reduce((a, e) => a + e.ms, 0)) : null,
    'ledger: import transaction (import row → COMMIT; with --date the run commits with it)': s(between(at(iImport)?.startMs, at(iCommitL)?.endMs)),
    'matching + summary SQL (server time of the run transaction)': s(matchSql),
    'matching + summary total (INSERT recon_runs → COMMIT)': s(between(at(iRun)?.startMs, at(iCommitR)?.endMs)),
    'reports: discrepancy rows query': s(at(iReport)?.ms),
    'reports + exit (COMMIT of the run → process exit)': s(between(at(iCommitR)?.endMs, run.endedAtMs)),
    'all SQL statements (server time, sum)': s(entries.reduce((a, e) => a + e.ms, 0)),
  };
  // Timeline: statements ≥ 100 ms and client-side gaps ≥ 100 ms, in order.
  const timeline: Array<{ at: number; ms: number; what: string }> = [];
  let prevEnd = t0;
  for (const e of entries) {
    if (e.startMs - prevEnd >= 100) timeline.push({ at: Math.round(prevEnd - t0), ms: Math.round(e.startMs - prevEnd), what: `client (before: ${e.text.slice(0, 60)})` });
    if (e.ms >= 100) timeline.push({ at: Math.round(e.startMs - t0), ms: Math.round(e.ms), what: `sql: ${e.text.slice(0, 110)}` });
    prevEnd = Math.max(prevEnd, e.endMs);
  }
  if (run.endedAtMs - prevEnd >= 100) timeline.push({ at: Math.round(prevEnd - t0), ms: Math.round(run.endedAtMs - prevEnd), what: 'client (after the last statement: reports, exit)' });
  return { phases, timeline };
}

// ------------------------------------------------------------------------------------------ product

interface ProductResult extends Omit<ChildRun, 'stdout' | 'stderr'> {
  /** When it timed out: the statement the database was running then, and for how long. */
  stuckOn: string | null;
  check: { ok: boolean; problems: string[]; summary: unknown };
  phases: Phases | null;
  timeline: Array<{ at: number; ms: number; what: string }>;
  stdout: string;
}

async function runProduct(m: Manifest, scratch: string, tag: string): Promise<ProductResult> {
  const db = `bench_${process.pid}_${tag}_product`;
  const url = createDb(db, { logStatements: true, explain: EXPLAIN });
  const home = join(scratch, 'recon-home');
  const out = join(scratch, 'out');
  rmSync(home, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const logOffset = logSize();
  let stuckOn: string | null = null;
  // Run the bin as `npx recon` does: with the node flags of its shebang (the heap cap).
  const shebang = /^#!\/usr\/bin\/env -S node(.*)$/m.exec(readFileSync(CLI_PATH, 'utf8').split('\n', 1)[0] ?? '');
  const binFlags = shebang ? shebang[1]!.trim().split(/\s+/).filter((f) => f !== '') : [];
  const nodeArgs = [...binFlags, ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(scratch, 'cpuprof')}`] : [])];
  try {
    log(`product: reconcile ${m.lines} lines …`);
    const run = await measure(
      process.execPath,
      [...nodeArgs, CLI_PATH, 'reconcile', '--provider', 'wechatpay', '--statement', m.statement, '--ledger', m.ledger, '--out', out, '--date', m.date],
      { ...process.env, DATABASE_URL: url, RECON_HOME: home, RECON_ARCHIVE_DIR: join(home, 'archive') },
      scratch,
      {
        timeoutSeconds: TIMEOUT_SECONDS,
        onTimeout: () => {
          stuckOn = psql(ADMIN_URL, `SELECT round(extract(epoch FROM now() - query_start))::text || ' s in: ' || regexp_replace(left(query, 300), '\\s+', ' ', 'g') FROM pg_stat_activity WHERE datname = '${db}' AND state = 'active' ORDER BY query_start LIMIT 1`) || 'client side (no active statement)';
          log(`product: TIMEOUT after ${TIMEOUT_SECONDS} s; the database was running: ${stuckOn}`);
        },
      },
    );
    if (run.timedOut) {
      const entries = logOffset === null ? [] : statementsOf(readLogFrom(logOffset), db);
      const { phases, timeline } = entries.length > 0 ? phasesOf(entries, run) : { phases: null, timeline: [] };
      const { stderr: _e, ...rest } = run;
      return { ...rest, stuckOn, check: { ok: false, problems: [`did not finish within ${TIMEOUT_SECONDS} s`], summary: null }, phases, timeline };
    }
    if (run.exitCode !== 0) throw new Error(`recon reconcile exited ${run.exitCode}:\n${run.stderr}\n${run.stdout}`);
    log(`product: ${run.seconds.toFixed(2)} s, peak ${run.peakRssMB.toFixed(0)} MB`);
    const check = checkSummary(m, join(out, 'summary.json'));
    if (!check.ok) log(`product: summary check FAILED: ${check.problems.join('; ')}`);
    let phases: Phases | null = null;
    let timeline: ProductResult['timeline'] = [];
    if (logOffset !== null) {
      await new Promise((r) => setTimeout(r, 300)); // let the server flush its log
      const entries = statementsOf(readLogFrom(logOffset), db);
      if (entries.length > 0) ({ phases, timeline } = phasesOf(entries, run));
    }
    const { stderr: _stderr, ...rest } = run;
    return { ...rest, stuckOn: null, check, phases, timeline };
  } finally {
    dropDb(db);
    if (!KEEP) rmSync(home, { recursive: true, force: true });
  }
}

function checkSummary(m: Manifest, path: string): { ok: boolean; problems: string[]; summary: unknown } {
  const problems: string[] = [];
  const s = JSON.parse(readFileSync(path, 'utf8')) as {
    statement_lines: number;
    matched: number;
    discrepancies: Record<Kind, number>;
    totals: Record<string, { statement_gross: string; statement_fee: string }>;
  };
  if (s.statement_lines !== m.lines) problems.push(`statement_lines ${s.statement_lines} ≠ ${m.lines}`);
  if (s.matched !== m.expectedMatched) problems.push(`matched ${s.matched} ≠ ${m.expectedMatched}`);
  for (const k of DISCREPANCY_KINDS) {
    if ((s.discrepancies[k] ?? 0) !== m.expected[k]) problems.push(`${k} ${s.discrepancies[k]} ≠ ${m.expected[k]}`);
  }
  const fee = s.totals.CNY?.statement_fee;
  if (fee !== undefined && Number(fee) !== Number(m.summary['手续费总金额'])) problems.push(`fee total ${fee} ≠ ${m.summary['手续费总金额']}`);
  return { ok: problems.length === 0, problems, summary: { statement_lines: s.statement_lines, matched: s.matched, discrepancies: s.discrepancies, totals: s.totals } };
}

// ------------------------------------------------------------------------------------------ floor

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

function floorScript(m: Manifest, outCsv: string): string {
  // One \copy per line: psql's \copy takes the rest of its line.
  const join = [
    'WITH s AS (',
    " SELECT CASE WHEN a[10] = 'REFUND' THEN 'refund' ELSE 'payment' END AS type,",
    "        CASE WHEN a[10] = 'REFUND' THEN a[16] ELSE a[7] END AS ref,",
    "        CASE WHEN a[10] = 'REFUND' THEN a[15] ELSE a[6] END AS txn,",
    '        a[12] AS currency,',
    "        CASE WHEN a[10] = 'REFUND' THEN -(a[17]::numeric) ELSE a[13]::numeric END AS gross,",
    '        a[23]::numeric AS fee',
    "   FROM (SELECT string_to_array(substr(line, 2), ',`') AS a FROM st_raw WHERE left(line, 1) = '`') x",
    '  WHERE cardinality(a) = 27',
    '), l AS (',
    " SELECT ledger_id, type, order_id AS ref, provider_txn_id AS txn, currency, CASE WHEN type = 'payment' THEN amount ELSE -amount END AS amount, fee",
    "   FROM ledger WHERE provider = 'wechatpay'",
    ')',
    "SELECT CASE WHEN l.ref IS NULL THEN 'missing_in_ledger' WHEN s.ref IS NULL THEN 'missing_in_statement'",
    "            WHEN s.currency <> l.currency THEN 'currency_mismatch' WHEN s.gross <> l.amount THEN 'amount_mismatch' ELSE 'fee_mismatch' END AS kind,",
    "       'wechatpay' AS provider, coalesce(s.type, l.type) AS type, coalesce(s.txn, l.txn) AS provider_txn_id, coalesce(s.ref, l.ref) AS order_id,",
    '       coalesce(s.currency, l.currency) AS currency, s.gross AS statement_amount, l.amount AS ledger_amount, s.fee AS statement_fee, l.fee AS ledger_fee, l.ledger_id',
    '  FROM s FULL JOIN l ON l.type = s.type AND l.ref = s.ref',
    ' WHERE s.ref IS NULL OR l.ref IS NULL OR s.currency <> l.currency OR s.gross <> l.amount OR (l.fee IS NOT NULL AND s.fee <> l.fee)',
  ].join(' ');
  return [
    '\\set ON_ERROR_STOP on',
    '\\timing on',
    'CREATE TABLE st_raw (line text);',
    `\\copy st_raw FROM ${sqlString(m.statement)} WITH (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`,
    'CREATE TABLE ledger (ledger_id text, provider text, type text, order_id text, provider_txn_id text, amount numeric(24,6), fee numeric(24,6), currency char(3), booked_at timestamptz);',
    `\\copy ledger FROM ${sqlString(m.ledger)} WITH (FORMAT csv, HEADER true)`,
    `\\copy (${join}) TO ${sqlString(outCsv)} WITH (FORMAT csv, HEADER true)`,
    '',
  ].join('\n');
}

interface FloorResult {
  seconds: number;
  steps: number[];
  discrepancyRows: number;
  method: string;
}

async function runFloor(m: Manifest, scratch: string, tag: string): Promise<FloorResult> {
  const db = `bench_${process.pid}_${tag}_floor`;
  const url = createDb(db);
  const script = join(scratch, 'floor.sql');
  const outCsv = join(scratch, 'floor-discrepancies.csv');
  writeFileSync(script, floorScript(m, outCsv));
  try {
    log(`floor: psql \\copy ×2 + one FULL JOIN \\copy out, ${m.lines} lines …`);
    // The product's session settings (work_mem, JIT off) serve the floor's one join as well as the run.
    const env = { ...process.env, PGOPTIONS: process.env.PGOPTIONS ?? DEFAULT_SESSION_OPTIONS };
    const run = await measure('psql', ['-X', '-q', '-d', url, '-f', script], env, scratch);
    if (run.exitCode !== 0) throw new Error(`floor psql exited ${run.exitCode}:\n${run.stderr}\n${run.stdout}`);
    const steps = [...run.stdout.matchAll(/Time: ([\d.]+) ms/g)].map((x) => Number(x[1]) / 1000);
    const rows = readFileSync(outCsv, 'utf8').split('\n').filter(Boolean).length - 1;
    log(`floor: ${run.seconds.toFixed(2)} s (${steps.map((x) => x.toFixed(2)).join(' + ')}), ${rows} rows`);
    return {
      seconds: run.seconds,
      steps,
      discrepancyRows: rows,
      method: 'raw bill \\copy-ed unconverted as one text column per line (CSV mode, delimiter \\x02, quote \\x01), split on ",`" and cast to numeric inside the one join query; ledger \\copy CSV HEADER; FULL JOIN on (type, merchant ref) with exact numeric comparison; \\copy out to CSV. Regular (logged) tables, fresh database, the product\'s session settings (PGOPTIONS).',
    };
  } finally {
    dropDb(db);
    if (!KEEP) rmSync(outCsv, { force: true });
  }
}

// ------------------------------------------------------------------------------------------ main

interface SizeResult {
  lines: number;
  statementMB: number;
  ledgerRows: number;
  ledgerMB: number;
  generatedSeconds: number;
  product: ProductResult;
  floor: FloorResult | null;
  ratio: number | null;
  linesPerSecond: number | null;
  targets: { withinFloorRatio: boolean | null; peakUnder512MB: boolean };
  /** Every pair measured, in order (the one above is the pair of median ratio). */
  rounds: Array<{ productSeconds: number; floorSeconds: number | null; ratio: number | null; peakRssMB: number; summaryOk: boolean }>;
  /** The highest peak of all the pairs' product runs (the memory target reads this one). */
  peakRssMB: number;
}

/** The pair whose ratio is the median (the lower middle one of an even count); without a floor, the median product time. */
function medianPair<T extends { product: ProductResult; ratio: number | null }>(pairs: readonly T[]): T {
  const key = (p: T) => p.ratio ?? p.product.seconds;
  const sorted = [...pairs].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function sizesFromArgs(): number[] {
  const args = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const text = args.length > 0 ? args.join(',') : (process.env.BENCH_SIZES ?? '1M,10M');
  return text.split(',').map((t) => t.trim()).filter(Boolean).map(parseSize);
}

const fmt = (n: number | null, d = 2) => (n === null ? '—' : n.toFixed(d));
const human = (n: number) => (n % 1_000_000 === 0 ? `${n / 1_000_000}M` : n % 1000 === 0 ? `${n / 1000}k` : String(n));

async function main(): Promise<void> {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  const sizes = sizesFromArgs();
  const pgVersion = psql(ADMIN_URL, 'SHOW server_version');
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    loadAvgAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    peakRssMethod: HAS_GNU_TIME ? '/usr/bin/time %M' : '/proc VmHWM sampling (50 ms)',
    cli: CLI_PATH,
    // With BENCH_CLI the tree's git state says nothing about the measured build: say what it is.
    cliNote: process.env.BENCH_CLI_NOTE ?? null,
    pgSettings: Object.fromEntries(PG_SETTINGS),
    timeoutSeconds: TIMEOUT_SECONDS,
    git: gitState(),
    phaseSource: logSize() === null ? null : `server log ${PG_LOG} (log_min_duration_statement = 0 on the product database)`,
  };
  log(`sizes ${sizes.map(human).join(', ')}; ${machine.cpus} cpus, load ${machine.loadAvgAtStart.join(' ')}, PostgreSQL ${pgVersion}, node ${process.version}`);

  const results: SizeResult[] = [];
  for (const lines of sizes) {
    const m = await generate({ lines, seed: SEED, date: DATE, dir: DATA, log });
    const scratch = join(DATA, `${lines}-s${SEED}`, 'run');
    mkdirSync(scratch, { recursive: true });
    const tag = human(lines).toLowerCase();
    const pairs: Array<{ product: ProductResult; floor: FloorResult | null; ratio: number | null }> = [];
    const rounds = roundsFor(lines);
    for (let i = 1; i <= rounds; i++) {
      if (rounds > 1) log(`round ${i} of ${rounds}`);
      const product = await runProduct(m, scratch, tag);
      const floor = SKIP_FLOOR ? null : await runFloor(m, scratch, tag);
      const ratio = floor ? product.seconds / floor.seconds : null;
      if (rounds > 1) log(`round ${i}: product ${fmt(product.seconds)} s, floor ${fmt(floor?.seconds ?? null)} s, ratio ${fmt(ratio)}`);
      pairs.push({ product, floor, ratio });
    }
    const { product, floor, ratio } = medianPair(pairs);
    const peakRssMB = Math.max(...pairs.map((p) => p.product.peakRssMB));
    results.push({
      lines,
      statementMB: Math.round(m.statementBytes / 2 ** 20),
      ledgerRows: m.ledgerRows,
      ledgerMB: Math.round(m.ledgerBytes / 2 ** 20),
      generatedSeconds: Math.round(m.generatedSeconds * 10) / 10,
      product,
      floor,
      ratio,
      linesPerSecond: product.timedOut ? null : Math.round(lines / product.seconds),
      // A run stopped at the timeout is slower than measured: its ratio is a lower bound.
      targets: { withinFloorRatio: ratio === null ? null : !product.timedOut && ratio <= TARGET_FLOOR_RATIO, peakUnder512MB: peakRssMB < TARGET_PEAK_MB },
      rounds: pairs.map((p) => ({ productSeconds: round(p.product.seconds), floorSeconds: p.floor ? round(p.floor.seconds) : null, ratio: p.ratio === null ? null : round(p.ratio), peakRssMB: Math.round(p.product.peakRssMB), summaryOk: p.product.check.ok })),
      peakRssMB,
    });
    printSize(results[results.length - 1]!);
  }

  const r1 = results.find((r) => r.lines === 1_000_000);
  const r10 = results.find((r) => r.lines === 10_000_000);
  const scale = r1 && r10 && !r1.product.timedOut ? r10.product.seconds / r1.product.seconds : null;
  const targets = {
    '1M within 1.5× the floor': r1?.targets.withinFloorRatio ?? null,
    'peak RSS < 512 MB at every size': results.every((r) => r.targets.peakUnder512MB),
    '10M ≤ 11× the 1M time': scale === null ? null : scale <= TARGET_SCALE_RATIO,
  };

  process.stdout.write('\n| lines | product s | floor s | ratio | lines/s | peak MB | summary check | pairs (product / floor s) |\n|---:|---:|---:|---:|---:|---:|---|---|\n');
  for (const r of results) {
    const gt = r.product.timedOut ? '>' : '';
    process.stdout.write(`| ${human(r.lines)} | ${gt}${fmt(r.product.seconds)}${r.product.timedOut ? ' (timeout)' : ''} | ${fmt(r.floor?.seconds ?? null)} | ${gt}${fmt(r.ratio)} | ${r.linesPerSecond === null ? `<${Math.round(r.lines / r.product.seconds)}` : r.linesPerSecond} | ${fmt(r.peakRssMB, 0)} | ${r.rounds.every((x) => x.summaryOk) ? 'ok' : 'FAILED'} | ${r.rounds.map((x) => `${fmt(x.productSeconds, 1)} / ${fmt(x.floorSeconds, 1)}`).join(', ')} |\n`);
  }
  process.stdout.write(`\n10M/1M product time ratio: ${scale === null ? 'not measured' : fmt(scale)}${r10?.product.timedOut ? ' (10M timed out: lower bound)' : ''}\n`);
  for (const [name, ok] of Object.entries(targets)) process.stdout.write(`target ${name}: ${ok === null ? 'not measured' : ok ? 'MET' : 'NOT MET'}\n`);
  process.stdout.write(`(floor: ${results[0]?.floor?.method ?? 'skipped'})\n`);

  mkdirSync(dirname(RESULTS), { recursive: true });
  const doc = {
    generatedAt: new Date().toISOString(),
    machine: { ...machine, loadAvgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    seed: SEED,
    date: DATE,
    targets: { definitions: { floorRatio: TARGET_FLOOR_RATIO, peakMB: TARGET_PEAK_MB, scaleRatio: TARGET_SCALE_RATIO }, met: targets },
    scaleRatio10Mto1M: scale,
    sizes: results.map((r) => ({
      lines: r.lines,
      statementMB: r.statementMB,
      ledgerRows: r.ledgerRows,
      ledgerMB: r.ledgerMB,
      generatedSeconds: r.generatedSeconds,
      productSeconds: round(r.product.seconds),
      productTimedOut: r.product.timedOut,
      productStuckOn: r.product.stuckOn,
      floorSeconds: r.floor ? round(r.floor.seconds) : null,
      ratio: r.ratio === null ? null : round(r.ratio),
      linesPerSecond: r.linesPerSecond,
      peakRssMB: Math.round(r.peakRssMB),
      rounds: r.rounds,
      peakRssSource: r.product.peakSource,
      productCpuSeconds: { user: r.product.userSeconds, system: r.product.systemSeconds },
      summaryCheck: { ok: r.product.check.ok, problems: r.product.check.problems },
      summary: r.product.check.summary,
      phases: r.product.phases,
      timeline: r.product.timeline,
      rssTimelineMB: r.product.rssTimeline,
      floor: r.floor ? { steps: r.floor.steps.map(round), discrepancyRows: r.floor.discrepancyRows, method: r.floor.method } : null,
      targets: r.targets,
    })),
  };
  writeFileSync(RESULTS, JSON.stringify(doc, null, 2) + '\n');
  log(`wrote ${RESULTS}`);
}

/** Which code was measured (read-only git commands). */
function gitState(): { commit: string | null; dirtyFiles: number | null } {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' });
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    dirtyFiles: status.status === 0 ? status.stdout.split('\n').filter(Boolean).length : null,
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function printSize(r: SizeResult): void {
  const p = r.product;
  process.stdout.write(`\n== ${human(r.lines)} lines (statement ${r.statementMB} MB, ledger ${r.ledgerRows} rows / ${r.ledgerMB} MB)\n`);
  if (r.rounds.length > 1) {
    process.stdout.write(`pairs    ${r.rounds.map((x) => `${fmt(x.productSeconds)} / ${fmt(x.floorSeconds)} s (${fmt(x.ratio)})`).join(', ')}; the median pair:\n`);
  }
  if (p.timedOut) process.stdout.write(`product  TIMED OUT after ${fmt(p.seconds)} s, the database was running: ${p.stuckOn}\n`);
  process.stdout.write(`product  ${p.timedOut ? '>' : ''}${fmt(p.seconds)} s  peak ${fmt(p.peakRssMB, 0)} MB  cpu user ${fmt(p.userSeconds)} s sys ${fmt(p.systemSeconds)} s  ${r.linesPerSecond} lines/s  summary ${p.check.ok ? 'ok' : 'FAILED ' + p.check.problems.join('; ')}\n`);
  if (r.floor) process.stdout.write(`floor    ${fmt(r.floor.seconds)} s  (steps ${r.floor.steps.map((x) => fmt(x)).join(' + ')})  ${r.floor.discrepancyRows} rows  → ratio ${fmt(r.ratio)} (target ≤ ${TARGET_FLOOR_RATIO})\n`);
  if (p.phases) {
    process.stdout.write('phases (s):\n');
    for (const [k, v] of Object.entries(p.phases)) process.stdout.write(`  ${fmt(v).padStart(8)}  ${k}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
