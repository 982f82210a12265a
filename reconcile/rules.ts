import { readFileSync } from 'node:fs';
import type { Tx } from '../db/database.js';
import { InputRejectedError } from '../core/errors.js';
import { parseDecimal } from '../core/money/index.js';
import { LEDGER_TYPES, type LedgerType } from '../parsers/contract.js';

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

// `paired` is kept on the scratch tables as rules pair rows (recordPairs): a flag read, not an anti-join
// against `matches` per rule.
const UNPAIRED_S = `s.copy_no = 1 AND NOT s.dup_of_matched AND NOT s.paired`;
const UNPAIRED_L = `l.copy_no = 1 AND NOT l.dup_of_matched AND NOT l.paired`;

/**
 * Records the pairs a rule found (scratch table `newp`: sid, lid, group_no) as the run's matches, and
 * flags both sides with their group and rule: later rules skip them, and the comparison reads each
 * side by its group without going back to `matches`.
 */
async function recordPairs(tx: Tx, runId: string, ruleId: string, oneToOne: boolean): Promise<number> {
  const [{ n } = { n: 0 }] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM newp`);
  await tx.query(
    `INSERT INTO matches (run_id, statement_line_id, ledger_entry_id, rule, group_no) SELECT $1, sid, lid, $2, group_no FROM newp`,
    [runId, ruleId],
  );
  // A 1:1 rule names each line and row once; a group names them once per member of the other side.
  const distinct = (col: string) => (oneToOne ? `SELECT ${col} AS id, group_no FROM newp` : `SELECT DISTINCT ${col} AS id, group_no FROM newp`);
  await tx.query(`UPDATE rs SET paired = true, group_no = n.group_no, rule = $1 FROM (${distinct('sid')}) n WHERE rs.id = n.id`, [ruleId]);
  await tx.query(`UPDATE rl SET paired = true, group_no = n.group_no, rule = $1 FROM (${distinct('lid')}) n WHERE rl.id = n.id`, [ruleId]);
  await tx.query(`DROP TABLE newp`);
  return n;
}

/**
 * Applies one rule inside the run's transaction, on the scratch tables `rs` and `rl`. Returns how many
 * pairs it recorded (a proposal rule records none).
 */
export async function applyRule(tx: Tx, runId: string, rule: MatchRule): Promise<number> {
  const types = rule.types ?? [...LEDGER_TYPES];
  if (rule.shape === 'proposal') {
    await proposeByTolerance(tx, runId, rule, types);
    return 0;
  }
  const { s: sk, l: lk } = COLUMNS[rule.key];
  // Candidates with how many share their key on their side (a window count: one pass, no self-join).
  const candidates = `
     su AS (SELECT s.id, s.type, s.${sk} AS k, count(*) OVER (PARTITION BY s.type, s.${sk}) AS n
              FROM rs s WHERE ${UNPAIRED_S} AND s.${sk} IS NOT NULL AND s.type = ANY($1::text[])),
     lu AS (SELECT l.id, l.type, l.${lk} AS k, count(*) OVER (PARTITION BY l.type, l.${lk}) AS n
              FROM rl l WHERE ${UNPAIRED_L} AND l.${lk} IS NOT NULL AND l.type = ANY($1::text[]))`;
  if (rule.shape === 'one_to_one') {
    await tx.query(
      `CREATE TEMP TABLE newp ON COMMIT DROP AS
       WITH ${candidates}
       SELECT su.id AS sid, lu.id AS lid, su.id AS group_no
         FROM su JOIN lu USING (type, k)
        WHERE su.n = 1 AND lu.n = 1`,
      [types],
    );
  } else {
    await tx.query(
      `CREATE TEMP TABLE newp ON COMMIT DROP AS
       WITH ${candidates},
            g AS (SELECT su.type, su.k, min(su.id) AS group_no FROM su WHERE EXISTS (SELECT 1 FROM lu WHERE lu.type = su.type AND lu.k = su.k) GROUP BY su.type, su.k)
       SELECT su.id AS sid, lu.id AS lid, g.group_no
         FROM su JOIN g USING (type, k) JOIN lu USING (type, k)`,
      [types],
    );
  }
  return recordPairs(tx, runId, rule.id, rule.shape === 'one_to_one');
}

async function proposeByTolerance(tx: Tx, runId: string, rule: Extract<MatchRule, { shape: 'proposal' }>, types: string[]): Promise<void> {
  const abs = rule.amountAbsolute ?? '0';
  const rel = rule.amountRelative ?? '0';
  // Few rows are left unpaired by now: they are copied out and indexed on amount, and a nested loop
  // finds each line's candidates in its tolerance band instead of comparing every pair.
  await tx.query(
    `CREATE TEMP TABLE tol_l ON COMMIT DROP AS SELECT l.* FROM rl l WHERE ${UNPAIRED_L} AND l.type = ANY($1::text[])`,
    [types],
  );
  await tx.query(`CREATE INDEX ON tol_l (type, currency, signed_amount)`);
  await tx.query(`ANALYZE tol_l`);
  await tx.query(`SET LOCAL enable_nestloop = on`);
  await tx.query(
    `WITH su AS (SELECT s.* FROM rs s WHERE ${UNPAIRED_S} AND s.type = ANY($3::text[])),
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
