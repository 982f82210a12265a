import { readFileSync } from 'node:fs';
import type { Tx } from '../db/database.js';
import { InputRejectedError } from '../core/errors.js';
import { parseDecimal } from '../core/money/index.js';
import { LEDGER_TYPES, type LedgerType } from '../parsers/contract.js';
import { createScratchTable } from './scratch.js';

/**
 * Matching rules, as data, applied in the order given; every match records the rule that made it.
 *
 * - `one_to_one`: a statement line and a ledger row that share the key, where the key names exactly
 *   one unpaired candidate on each side. A key shared by several candidates is never guessed.
 * - `group`: all unpaired lines and rows sharing the key are one movement seen in parts (1:N a split
 *   capture, N:1 a payment the ledger booked in parts, partial refunds booked under their payment's
 *   id); they pair as a group and are compared on their sums. Only keys that identify a movement
 *   family by themselves (the provider's ids) belong here — a merchant reference may be reused.
 * - `proposal`: a tolerant rule (amount within an absolute or relative tolerance, dates within a
 *   window); it never pairs: it proposes a match for a person to review, and only where the proposal is
 *   the single candidate on both sides.
 *
 * Keys: `txn` the provider's id of the movement (txn_key), `merchant_ref` the merchant's reference
 * (ref_key), `parent_txn` a refund's or chargeback's payment id on the statement against the id the
 * ledger booked it under.
 */
export type MatchKey = 'txn' | 'merchant_ref' | 'parent_txn';

export type MatchRule =
  | { id: string; shape: 'one_to_one' | 'group'; key: MatchKey; types?: LedgerType[] }
  | {
      id: string;
      shape: 'proposal';
      types?: LedgerType[];
      /** Largest accepted difference in major units, e.g. "0.01". */
      amountAbsolute?: string;
      /** Largest accepted difference relative to the ledger amount, e.g. "0.005" (0.5 %). */
      amountRelative?: string;
      /** The relative tolerance is rounded to this many decimals, half up (default 2). */
      relativePlaces?: number;
      dateWindowDays: number;
    };

export const DEFAULT_RULES: readonly MatchRule[] = [
  { id: 'exact:txn', shape: 'one_to_one', key: 'txn' },
  { id: 'exact:merchant_ref', shape: 'one_to_one', key: 'merchant_ref' },
  { id: 'exact:parent_txn', shape: 'one_to_one', key: 'parent_txn', types: ['refund', 'chargeback'] },
  { id: 'group:txn', shape: 'group', key: 'txn' },
  { id: 'group:parent_txn', shape: 'group', key: 'parent_txn', types: ['refund', 'chargeback'] },
  { id: 'tolerance:amount_date', shape: 'proposal', amountAbsolute: '0.05', amountRelative: '0.001', dateWindowDays: 2 },
];

const COLUMNS: Record<MatchKey, { s: string; l: string }> = {
  txn: { s: 'txn_key', l: 'txn_key' },
  merchant_ref: { s: 'ref_key', l: 'ref_key' },
  parent_txn: { s: 'parent_txn_id', l: 'provider_txn_id' },
};

/**
 * The rows no rule has paired yet: the run's candidates (`rs`, `rl`) until a rule pairs some, then
 * tables of what is left. Rules read these and never the whole run again, and pairing removes rows from
 * a pool instead of updating a million flags.
 */
export interface Pools {
  s: string;
  l: string;
}

/** What a pairing rule recorded: its pairs table, and how many lines and rows it paired. */
export interface RulePairs {
  rule: string;
  /** Scratch table: sid, lid, group_no, and both sides' measures (s_type, gross, s_fee, s_ccy, original, original_ccy, amount, l_fee, l_ccy). */
  table: string;
  oneToOne: boolean;
  pairs: number;
  lines: number;
  rows: number;
}

// Pool rows are first copies, never flagged as further copies while rules run (that comes after).
const UNPAIRED_S = `s.copy_no = 1 AND NOT s.dup_of_matched`;
const UNPAIRED_L = `l.copy_no = 1 AND NOT l.dup_of_matched`;

// The measures each pair carries, so that comparing pairs and checking fees never joins back to the run.
const S_MEASURES = `s.gross, s.fee AS s_fee, s.currency AS s_ccy, s.original_amount AS original, s.original_currency AS original_ccy, s.type AS s_type`;
const L_MEASURES = `l.signed_amount AS amount, l.fee AS l_fee, l.currency AS l_ccy`;
const PAIR_COLUMNS = `su.gross, su.s_fee, su.s_ccy, su.original, su.original_ccy, su.s_type, lu.amount, lu.l_fee, lu.l_ccy`;

/** A rule's candidates on one side, unpaired and naming the key, with `filter` and the columns `more` added. */
function sideRows(alias: 's' | 'l', table: string, col: string, more: string, filter: string): string {
  const [unpaired, measures] = alias === 's' ? [UNPAIRED_S, S_MEASURES] : [UNPAIRED_L, L_MEASURES];
  return `SELECT ${alias}.id, ${alias}.type, ${alias}.${col} AS k, ${measures}, ${more} FROM ${table} ${alias}
           WHERE ${unpaired} AND ${alias}.${col} IS NOT NULL AND ${alias}.type = ANY($1::text[])${filter}`;
}

/** The same, with `n`: how many candidates on that side share the line's type and key. */
const countedRows = (alias: 's' | 'l', table: string, col: string, filter = ''): string =>
  sideRows(alias, table, col, `count(*) OVER (PARTITION BY ${alias}.type, ${alias}.${col}) AS n`, filter);

/** Candidates of a rule, `su` and `lu`, with how many share their key on their side (`n`). */
function candidates(key: MatchKey, pools: Pools): string {
  const { s: sk, l: lk } = COLUMNS[key];
  return `su AS (${countedRows('s', pools.s, sk)}),
          lu AS (${countedRows('l', pools.l, lk)})`;
}

/**
 * A 1:1 rule's pairs into `table`: a line and a row alone under their type and key on each side. For the
 * provider id, `key_rows` (rows of the run sharing the line's copy key, counted when the scratch table was
 * made) settles most lines at once: a line alone under its key is alone under its provider id, and every
 * line sharing a provider id shares its copy key, so only those few (`_sm`, `_lm`) are counted again.
 * The pairs of two lone candidates, nearly all of them, come from a join that PostgreSQL runs on every
 * core: a window over a union of both kinds kept the whole join on one (1.6 s against 1.0 s at 1M), and
 * the few counted again are tables, which a parallel plan can read where it cannot read a CTE.
 */
async function oneToOnePairs(tx: Tx, table: string, key: MatchKey, pools: Pools, types: string[]): Promise<void> {
  const pair = (s: string, l: string, where: string) =>
    `SELECT su.id AS sid, lu.id AS lid, su.id AS group_no, ${PAIR_COLUMNS} FROM ${s} su JOIN ${l} lu USING (type, k)${where}`;
  if (key !== 'txn') {
    await tx.query(`${await createScratchTable(tx, table)} AS WITH ${candidates(key, pools)} ${pair('su', 'lu', ' WHERE su.n = 1 AND lu.n = 1')}`, [types]);
    return;
  }
  const { s: sk, l: lk } = COLUMNS[key];
  for (const [alias, pool, col] of [['s', pools.s, sk], ['l', pools.l, lk]] as const) {
    await tx.query(`${await createScratchTable(tx, `${table}_${alias}m`)} AS ${countedRows(alias, pool, col, ` AND ${alias}.key_rows > 1`)}`, [types]);
    await tx.query(`ANALYZE ${table}_${alias}m`);
  }
  await tx.query(
    `${await createScratchTable(tx, table)} AS
     WITH s1 AS NOT MATERIALIZED (${sideRows('s', pools.s, sk, '1::bigint AS n', ' AND s.key_rows = 1')}),
          l1 AS NOT MATERIALIZED (${sideRows('l', pools.l, lk, '1::bigint AS n', ' AND l.key_rows = 1')})
     ${pair('s1', 'l1', '')}
     UNION ALL ${pair(`${table}_sm`, 'l1', ' WHERE su.n = 1')}
     UNION ALL ${pair('s1', `${table}_lm`, ' WHERE lu.n = 1')}
     UNION ALL ${pair(`${table}_sm`, `${table}_lm`, ' WHERE su.n = 1 AND lu.n = 1')}`,
    [types],
  );
}

/** The run a rule pairs for: a daily run's matches are what later days must not pair again. */
export interface RuleRun {
  id: string;
  daily: boolean;
}

/**
 * Records a rule's pairs (its table: sid, lid, group_no and measures) as the run's matches, and takes
 * the paired lines and rows out of the pools.
 */
async function recordPairs(tx: Tx, run: RuleRun, rule: MatchRule, table: string, pools: Pools, seq: number): Promise<{ pairs: RulePairs; pools: Pools }> {
  const oneToOne = rule.shape === 'one_to_one';
  const [c = { pairs: 0, lines: 0, rows: 0 }] = await tx.query<{ pairs: number; lines: number; rows: number }>(
    oneToOne
      ? `SELECT count(*)::int AS pairs, count(*)::int AS lines, count(*)::int AS rows FROM ${table}`
      : `SELECT count(*)::int AS pairs, count(DISTINCT sid)::int AS lines, count(DISTINCT lid)::int AS rows FROM ${table}`,
  );
  const pairs: RulePairs = { rule: rule.id, table, oneToOne, ...c };
  if (c.pairs === 0) return { pairs, pools };
  // A daily run's pairs go in line order: both of matches' btree indexes then grow at their right edge
  // (a ledger's rows come in about the statement's order). A hash join too large for memory hands out its
  // pairs batch by batch, and inserting them in that order sent each index across its whole range once
  // per batch: 46 s for 10M pairs against 36 s sorted (sort included). An ad-hoc run's pairs are indexed
  // by run alone, in any order.
  await tx.query(
    `INSERT INTO matches (run_id, statement_line_id, ledger_entry_id, rule, group_no, daily)
     SELECT $1, sid, lid, $2, group_no, $3 FROM ${table}${run.daily ? ' ORDER BY sid' : ''}`,
    [run.id, rule.id, run.daily],
  );
  const next: Pools = { s: `pool_s${seq}`, l: `pool_l${seq}` };
  for (const [from, to, col] of [[pools.s, next.s, 'sid'], [pools.l, next.l, 'lid']] as const) {
    await tx.query(
      `${await createScratchTable(tx, to)} AS
       SELECT x.* FROM ${from} x WHERE x.copy_no = 1 AND NOT EXISTS (SELECT 1 FROM ${table} p WHERE p.${col} = x.id)`,
    );
    if (from !== 'rs' && from !== 'rl') await tx.query(`DROP TABLE ${from}`);
    await tx.query(`ANALYZE ${to}`);
  }
  return { pairs, pools: next };
}

/**
 * Applies one rule inside the run's transaction to the unpaired pools. A pairing rule returns its pairs
 * and the pools left; a proposal rule records proposals only.
 */
export async function applyRule(tx: Tx, run: RuleRun, rule: MatchRule, pools: Pools, seq: number): Promise<{ pairs: RulePairs | null; pools: Pools }> {
  const types = rule.types ?? [...LEDGER_TYPES];
  if (rule.shape === 'proposal') {
    await proposeByTolerance(tx, run.id, rule, types, pools);
    return { pairs: null, pools };
  }
  const table = `pairs${seq}`;
  if (rule.shape === 'one_to_one') {
    await oneToOnePairs(tx, table, rule.key, pools, types);
  } else {
    await tx.query(
      `${await createScratchTable(tx, table)} AS
       WITH ${candidates(rule.key, pools)},
            g AS (SELECT su.type, su.k, min(su.id) AS group_no FROM su WHERE EXISTS (SELECT 1 FROM lu WHERE lu.type = su.type AND lu.k = su.k) GROUP BY su.type, su.k)
       SELECT su.id AS sid, lu.id AS lid, g.group_no, ${PAIR_COLUMNS}
         FROM su JOIN g USING (type, k) JOIN lu USING (type, k)`,
      [types],
    );
  }
  return recordPairs(tx, run, rule, table, pools, seq);
}

async function proposeByTolerance(tx: Tx, runId: string, rule: Extract<MatchRule, { shape: 'proposal' }>, types: string[], pools: Pools): Promise<void> {
  const abs = rule.amountAbsolute ?? '0';
  const rel = rule.amountRelative ?? '0';
  // Few rows are left unpaired by now: they are copied out and indexed on amount, and a nested loop
  // finds each line's candidates in its tolerance band instead of comparing every pair.
  await tx.query(
    `CREATE TEMP TABLE tol_l ON COMMIT DROP AS SELECT l.* FROM ${pools.l} l WHERE ${UNPAIRED_L} AND l.type = ANY($1::text[])`,
    [types],
  );
  await tx.query(`CREATE INDEX ON tol_l (type, currency, signed_amount)`);
  await tx.query(`ANALYZE tol_l`);
  await tx.query(`SET LOCAL enable_nestloop = on`);
  await tx.query(
    `WITH su AS (SELECT s.* FROM ${pools.s} s WHERE ${UNPAIRED_S} AND s.type = ANY($3::text[])),
          cand AS (
            SELECT su.id AS sid, lu.id AS lid, su.gross - lu.signed_amount AS diff
              FROM su JOIN tol_l lu ON lu.type = su.type AND lu.currency = su.currency
               AND lu.signed_amount BETWEEN su.gross - greatest($4::numeric, abs(su.gross) * $5::numeric * 2)
                                        AND su.gross + greatest($4::numeric, abs(su.gross) * $5::numeric * 2)
             WHERE abs(su.gross - lu.signed_amount) <= greatest($4::numeric, round(abs(lu.signed_amount) * $5::numeric, $6::int))
               AND abs(extract(epoch FROM su.occurred_at - lu.booked_at)) <= $7::numeric * 86400
          )
     INSERT INTO match_proposals (run_id, statement_line_id, ledger_entry_id, rule, amount_difference)
     SELECT $1, c.sid, c.lid, $2, c.diff
       FROM (SELECT cand.*, count(*) OVER (PARTITION BY sid) AS per_line, count(*) OVER (PARTITION BY lid) AS per_row FROM cand) c
      WHERE c.per_line = 1 AND c.per_row = 1`,
    [runId, rule.id, types, abs, rel, rule.relativePlaces ?? 2, rule.dateWindowDays],
  );
  await tx.query(`SET LOCAL enable_nestloop = off`);
  await tx.query(`DROP TABLE tol_l`);
}

/** Reads a rules file (a JSON array of rules, in priority order), refusing anything it does not know. */
export function loadMatchRules(path: string): MatchRule[] {
  const fail = (detail: string): never => {
    throw new InputRejectedError(`${path}: ${detail}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return fail(`not a JSON rules file (${(err as Error).message})`);
  }
  if (!Array.isArray(doc) || doc.length === 0) return fail('expected a non-empty JSON array of rules');
  return doc.map((r: Record<string, unknown>, i) => {
    const at = `rules[${i}]`;
    if (typeof r.id !== 'string' || r.id === '') fail(`${at}.id: a rule needs an id`);
    if (r.types !== undefined && (!Array.isArray(r.types) || r.types.some((t) => !(LEDGER_TYPES as readonly string[]).includes(String(t))))) {
      fail(`${at}.types: one of ${LEDGER_TYPES.join(', ')}`);
    }
    if (r.shape === 'one_to_one' || r.shape === 'group') {
      if (!(typeof r.key === 'string' && r.key in COLUMNS)) fail(`${at}.key: one of ${Object.keys(COLUMNS).join(', ')}`);
      return r as MatchRule;
    }
    if (r.shape === 'proposal') {
      for (const k of ['amountAbsolute', 'amountRelative'] as const) {
        if (r[k] !== undefined && (typeof r[k] !== 'string' || parseDecimal(r[k] as string) === undefined)) fail(`${at}.${k}: a decimal string`);
      }
      if (typeof r.dateWindowDays !== 'number' || !Number.isInteger(r.dateWindowDays) || r.dateWindowDays < 0) fail(`${at}.dateWindowDays: a whole number of days`);
      return r as MatchRule;
    }
    return fail(`${at}.shape: one of one_to_one, group, proposal`);
  });
}
