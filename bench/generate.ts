/**
 * Benchmark data generator (not a test): a WeChat Pay APIv3 ALL trade bill of N detail lines, in the
 * provider's real layout (UTF-8 BOM, CRLF, header row, backticked values separated by `` ,` ``, then the
 * summary header and the summary values, whose totals are exact), and a ledger CSV (contract columns) of
 * about N rows with deliberate differences. Both files are streamed to disk, never built in memory, and
 * are a pure function of (N, seed, date).
 *
 *   npx tsx bench/generate.ts <lines> [--seed 42] [--date 2026-11-24] [--dir bench/.data]
 *
 * Next to the two files it writes `manifest.json`: what was generated and the discrepancies the product
 * must report (the harness checks summary.json against them).
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const DISCREPANCY_KINDS = [
  'missing_in_ledger', 'missing_in_statement', 'amount_mismatch', 'fee_mismatch',
  'currency_mismatch', 'duplicate_in_statement', 'duplicate_in_ledger',
] as const;
export type Kind = (typeof DISCREPANCY_KINDS)[number];

export interface GenerateOptions {
  lines: number;
  seed?: number;
  /** The bill date (a China-time day). */
  date?: string;
  /** Base scratch directory; the files go to `<dir>/<lines>-s<seed>/`. */
  dir?: string;
  /** Reuse files already generated with the same parameters (default true). */
  reuse?: boolean;
  log?: (msg: string) => void;
}

export interface Manifest {
  version: number;
  lines: number;
  seed: number;
  date: string;
  statement: string;
  ledger: string;
  statementBytes: number;
  ledgerBytes: number;
  payments: number;
  refunds: number;
  ledgerRows: number;
  /** Distinct movements on the statement that have a ledger counterpart. */
  expectedMatched: number;
  expected: Record<Kind, number>;
  /** The summary row as written (decimal strings). */
  summary: Record<string, string>;
  generatedSeconds: number;
}

const MANIFEST_VERSION = 2;

// ------------------------------------------------------------------------------------------ helpers

/** mulberry32: a small, fast, seedable PRNG; returns [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Integer minor units (cents) → `12.34`. */
function yuan(cents: number): string {
  const neg = cents < 0;
  const a = Math.abs(cents);
  return `${neg ? '-' : ''}${Math.floor(a / 100)}.${pad(a % 100, 2)}`;
}
function yuanBig(cents: bigint): string {
  const neg = cents < 0n;
  const a = neg ? -cents : cents;
  return `${neg ? '-' : ''}${a / 100n}.${(a % 100n).toString().padStart(2, '0')}`;
}
/** Integer 1e-5 units → `0.15000` (WeChat writes fees with 5 decimals). */
function fee5(units: number): string {
  const neg = units < 0;
  const a = Math.abs(units);
  return `${neg ? '-' : ''}${Math.floor(a / 100000)}.${pad(a % 100000, 5)}`;
}
function fee5Big(units: bigint): string {
  const neg = units < 0n;
  const a = neg ? -units : units;
  return `${neg ? '-' : ''}${a / 100000n}.${(a % 100000n).toString().padStart(5, '0')}`;
}
/** A ledger fee as a merchant would book it: the same value, trailing zeros trimmed to at least 2 places. */
function ledgerFee(units: number): string {
  let s = fee5(units);
  while (s.endsWith('0') && s.length - s.indexOf('.') > 3) s = s.slice(0, -1);
  return s;
}

/** A buffered, back-pressure-aware writer. */
class Out {
  private parts: string[] = [];
  private size = 0;
  bytes = 0;
  private readonly stream: WriteStream;
  constructor(path: string) {
    this.stream = createWriteStream(path);
  }
  async write(s: string): Promise<void> {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= 1 << 20) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    this.bytes += buf.length;
    if (!this.stream.write(buf)) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

// ------------------------------------------------------------------------------------------ format

export const WX_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
export const WX_SUMMARY_HEADER = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';
const LEDGER_HEADER = 'ledger_id,provider,type,order_id,provider_txn_id,amount,fee,currency,booked_at';

const APP_ID = 'wx2421b1c4370ec43b';
const MCH_ID = '1900000109';
const BODIES = ['美式咖啡', '拿铁, 大杯', '可颂', '挂耳礼盒 "冬季限定"', '手冲 + 甜点', '矿泉水', 'Jacket', '年卡会员', '测试商品', 'Tea "Oolong", 2 boxes'];
const ATTACHES = ['', '', '', '{"table":"A3","note":"少冰"}', 'table=7', '{"store":"A1","items":["tea","cup"]}'];
const TRADE_TYPES = ['JSAPI', 'JSAPI', 'NATIVE', 'APP', 'MICROPAY', 'MWEB'];
const BANKS = ['OTHERS', 'CMB_DEBIT', 'ICBC_CREDIT', 'CCB_DEBIT', 'OTHERS'];
/** Fee rates: text, and the fee in 1e-5 units per cent ×10 (so 0.60% → 60: fee = cents × 60 / 10). */
const RATES: Array<[string, number]> = [['0.60%', 60], ['0.60%', 60], ['0.60%', 60], ['0.38%', 38], ['1.00%', 100]];

/** Fee in 1e-5 units for an amount in cents at a rate (rounded half up, as WeChat does to 5 places). */
const feeUnits = (cents: number, rate10: number): number => Math.floor((cents * rate10 + 5) / 10);

function dayTime(date: string, secondOfDay: number): { text: string; iso: string } {
  const s = Math.min(86_399, Math.max(0, secondOfDay));
  const hms = `${pad(Math.floor(s / 3600), 2)}:${pad(Math.floor((s % 3600) / 60), 2)}:${pad(s % 60, 2)}`;
  return { text: `${date} ${hms}`, iso: `${date}T${hms}+08:00` };
}

interface Pay {
  seq: number;
  cents: number;
  body: number;
  attach: number;
  openid: string;
  rate: number;
  tradeType: string;
}

// ------------------------------------------------------------------------------------------ generate

export function dataDir(opts: GenerateOptions): string {
  return resolve(opts.dir ?? 'bench/.data', `${opts.lines}-s${opts.seed ?? 42}`);
}

export async function generate(opts: GenerateOptions): Promise<Manifest> {
  const lines = opts.lines;
  const seed = opts.seed ?? 42;
  const date = opts.date ?? '2026-11-24';
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  if (!Number.isInteger(lines) || lines < 10) throw new Error(`lines must be an integer ≥ 10, got ${lines}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new Error(`date must be YYYY-MM-DD, got ${date}`);
  const dir = dataDir(opts);
  const manifestPath = join(dir, 'manifest.json');
  if (opts.reuse !== false && existsSync(manifestPath)) {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (m.version === MANIFEST_VERSION && m.lines === lines && m.seed === seed && m.date === date && existsSync(m.statement) && existsSync(m.ledger)) {
      log(`generate: reusing ${dir}`);
      return m;
    }
  }
  mkdirSync(dir, { recursive: true });
  const started = process.hrtime.bigint();
  const ymd = date.replaceAll('-', '');
  const statementPath = join(dir, `tradebill-ALL-${date}.csv`);
  const ledgerPath = join(dir, 'ledger.csv');
  const st = new Out(statementPath + '.tmp');
  const lg = new Out(ledgerPath + '.tmp');
  const rnd = prng(seed);

  await st.write('\uFEFF' + WX_HEADER + '\r\n');
  await lg.write(LEDGER_HEADER + '\n');

  // Totals, exact, in integer minor units (BigInt: no float, no overflow at any N).
  let settleTotal = 0n; // cents
  let refundTotal = 0n; // cents
  let feeTotal = 0n; // 1e-5 units
  let orderTotal = 0n; // cents
  let requestedRefundTotal = 0n; // cents
  const expected: Record<Kind, number> = {
    missing_in_ledger: 0, missing_in_statement: 0, amount_mismatch: 0, fee_mismatch: 0,
    currency_mismatch: 0, duplicate_in_statement: 0, duplicate_in_ledger: 0,
  };
  let payments = 0;
  let refunds = 0;
  let ledgerRows = 0;
  let movements = 0;
  let paySeq = 0;
  let refundSeq = 0;
  let extraSeq = 0;
  let ledgerSeq = 0;
  const recent: Pay[] = []; // ring of recent payments that refunds refer to (bounded memory)
  const RING = 4096;

  const ledgerRow = async (type: string, orderId: string, txnId: string, cents: number, fee: string, currency: string, iso: string) => {
    ledgerSeq += 1;
    ledgerRows += 1;
    await lg.write(`GL-${pad(ledgerSeq, 9)},wechatpay,${type},${orderId},${txnId},${yuan(cents)},${fee},${currency},${iso}\n`);
  };

  let written = 0;
  while (written < lines) {
    const second = Math.floor((written * 86_400) / lines);
    const t = dayTime(date, second);
    const isRefund = recent.length > 100 && rnd() < 0.1;
    let line: string;
    let type: 'payment' | 'refund';
    let orderId: string;
    let txnId: string;
    let cents: number;
    let fee: number;
    if (!isRefund) {
      paySeq += 1;
      cents = Math.max(1, Math.floor(Math.exp(rnd() * Math.log(500_000))));
      const rate = RATES[Math.floor(rnd() * RATES.length)]!;
      const p: Pay = {
        seq: paySeq,
        cents,
        body: Math.floor(rnd() * BODIES.length),
        attach: Math.floor(rnd() * ATTACHES.length),
        openid: `oUpF8u${pad(Math.floor(rnd() * 1e9), 9)}Q9zNjWeS6o`,
        rate: rate[1],
        tradeType: TRADE_TYPES[Math.floor(rnd() * TRADE_TYPES.length)]!,
      };
      if (recent.length < RING) recent.push(p);
      else recent[paySeq % RING] = p;
      fee = feeUnits(cents, rate[1]);
      txnId = `4200002166${ymd}${pad(paySeq, 10)}`;
      orderId = `WX${ymd}-${pad(paySeq, 9)}`;
      const a = yuan(cents);
      line = ['`' + t.text, APP_ID, MCH_ID, '0', p.tradeType === 'MICROPAY' ? 'POS-013' : '', txnId, orderId, p.openid, p.tradeType, 'SUCCESS',
        BANKS[paySeq % BANKS.length]!, 'CNY', a, '0.00', '0', '0', '0.00', '0.00', '', '', BODIES[p.body]!, ATTACHES[p.attach]!, fee5(fee), rate[0], a, '0.00', '']
        .join(',`');
      type = 'payment';
      settleTotal += BigInt(cents);
      orderTotal += BigInt(cents);
    } else {
      refundSeq += 1;
      const p = recent[Math.floor(rnd() * recent.length)]!;
      cents = rnd() < 0.6 ? p.cents : Math.max(1, Math.floor(rnd() * p.cents));
      fee = -feeUnits(cents, p.rate);
      txnId = `50300709992${ymd}${pad(refundSeq, 10)}`;
      orderId = `WXRF${ymd}-${pad(refundSeq, 9)}`;
      const a = yuan(cents);
      const rateText = RATES.find((r) => r[1] === p.rate)![0];
      line = ['`' + t.text, APP_ID, MCH_ID, '0', '', `4200002166${ymd}${pad(p.seq, 10)}`, `WX${ymd}-${pad(p.seq, 9)}`, p.openid, p.tradeType, 'REFUND',
        'OTHERS', 'CNY', '0.00', '0.00', txnId, orderId, a, '0.00', 'ORIGINAL', 'SUCCESS', BODIES[p.body]!, ATTACHES[p.attach]!, fee5(fee), rateText, '0.00', a, '']
        .join(',`');
      type = 'refund';
      refundTotal += BigInt(cents);
      requestedRefundTotal += BigInt(cents);
    }
    feeTotal += BigInt(fee);
    await st.write(line + '\r\n');
    written += 1;
    movements += 1;
    if (type === 'payment') payments += 1;
    else refunds += 1;

    // This movement's fate on the ledger side (one draw, exclusive outcomes).
    const u = rnd();
    const booked = dayTime(date, second + Math.floor(rnd() * 3)).iso; // booked a moment after the trade
    const noTxn = rnd() < 0.03; // the merchant did not record the provider's id: matched by order_id
    const noFee = rnd() < 0.05; // the merchant does not know the fee
    const feeText = noFee ? '' : ledgerFee(fee);
    if (u < 0.001) {
      expected.missing_in_ledger += 1;
    } else if (u < 0.0015) {
      expected.amount_mismatch += 1;
      await ledgerRow(type, orderId, noTxn ? '' : txnId, cents + 100, feeText, 'CNY', booked);
    } else if (u < 0.002) {
      expected.fee_mismatch += 1;
      await ledgerRow(type, orderId, noTxn ? '' : txnId, cents, ledgerFee(fee + (fee < 0 ? -1000 : 1000)), 'CNY', booked);
    } else if (u < 0.0021) {
      expected.duplicate_in_ledger += 1;
      await ledgerRow(type, orderId, txnId, cents, feeText, 'CNY', booked);
      await ledgerRow(type, orderId, txnId, cents, feeText, 'CNY', booked);
    } else if (u < 0.0022 && written < lines) {
      // The provider listed the same movement twice (same ids, same amounts): part of N and of the totals.
      expected.duplicate_in_statement += 1;
      await st.write(line + '\r\n');
      written += 1;
      if (type === 'payment') {
        payments += 1;
        settleTotal += BigInt(cents);
        orderTotal += BigInt(cents);
      } else {
        refunds += 1;
        refundTotal += BigInt(cents);
        requestedRefundTotal += BigInt(cents);
      }
      feeTotal += BigInt(fee);
      await ledgerRow(type, orderId, noTxn ? '' : txnId, cents, feeText, 'CNY', booked);
    } else if (u < 0.00221) {
      expected.currency_mismatch += 1;
      await ledgerRow(type, orderId, noTxn ? '' : txnId, cents, feeText, 'USD', booked);
    } else {
      await ledgerRow(type, orderId, noTxn ? '' : txnId, cents, feeText, 'CNY', booked);
    }
    // A ledger row of the day that the provider never settled (missing_in_statement).
    if (rnd() < 0.001) {
      extraSeq += 1;
      expected.missing_in_statement += 1;
      await ledgerRow('payment', `WXX${ymd}-${pad(extraSeq, 9)}`, rnd() < 0.5 ? `4200009999${ymd}${pad(extraSeq, 10)}` : '',
        Math.max(1, Math.floor(rnd() * 100_000)), '', 'CNY', booked);
    }
    if (written % 1_000_000 === 0) log(`generate: ${written} lines`);
  }

  const summary = {
    总交易单数: String(written),
    应结订单总金额: yuanBig(settleTotal),
    退款总金额: yuanBig(refundTotal),
    充值券退款总金额: '0.00',
    手续费总金额: fee5Big(feeTotal),
    订单总金额: yuanBig(orderTotal),
    申请退款总金额: yuanBig(requestedRefundTotal),
  };
  await st.write(WX_SUMMARY_HEADER + '\r\n');
  await st.write('`' + Object.values(summary).join(',`') + '\r\n');
  await st.close();
  await lg.close();
  renameSync(statementPath + '.tmp', statementPath);
  renameSync(ledgerPath + '.tmp', ledgerPath);

  const manifest: Manifest = {
    version: MANIFEST_VERSION,
    lines: written,
    seed,
    date,
    statement: statementPath,
    ledger: ledgerPath,
    statementBytes: st.bytes,
    ledgerBytes: lg.bytes,
    payments,
    refunds,
    ledgerRows,
    expectedMatched: movements - expected.missing_in_ledger,
    expected,
    summary,
    generatedSeconds: Number(process.hrtime.bigint() - started) / 1e9,
  };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  log(`generate: ${written} lines, ${ledgerRows} ledger rows in ${manifest.generatedSeconds.toFixed(1)} s → ${dir}`);
  return manifest;
}

// ------------------------------------------------------------------------------------------ CLI

/** `1000000`, `1e6`, `1M`, `100k` → a whole number. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmM]?)\s*$/.exec(text);
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)}`);
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6;
  const n = Math.round(Number(m[1]) * mult);
  if (!Number.isSafeInteger(n) || n < 10) throw new Error(`not a usable size: ${JSON.stringify(text)}`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  let lines: number | undefined;
  let seed = 42;
  let date = '2026-11-24';
  let dir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--seed') seed = Number(argv[++i]);
    else if (a === '--date') date = argv[++i] ?? date;
    else if (a === '--dir') dir = argv[++i];
    else if (a === '--force') continue;
    else lines = parseSize(a);
  }
  if (lines === undefined) throw new Error('usage: npx tsx bench/generate.ts <lines> [--seed N] [--date YYYY-MM-DD] [--dir DIR] [--force]');
  const m = await generate({ lines, seed, date, dir, reuse: !argv.includes('--force') });
  process.stdout.write(JSON.stringify(m, null, 2) + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
