import type { Tx } from '../db/database.js';
import { computeExpectedFees } from './fee-check.js';
import { applyRule, DEFAULT_RULES, type MatchRule, type Pools, type RulePairs } from './rules.js';
import type { FeeSchedule } from './fees/index.js';
import { createScratchTable, planInParallel } from './scratch.js';

/**
 * Matching, set-based in SQL so that it holds at millions of lines. Everything runs inside the caller's
 * transaction, on two scratch tables: `rs` (the candidate statement lines that the ledger records:
 * payments, refunds, chargebacks) and `rl` (the candidate ledger rows). Each candidate carries a
 * `due_date`: the day by which it must have met its counterpart. Unpaired and due → a `missing_in_*`
 * discrepancy; unpaired and not yet due → pending (daily runs only); no due date → a candidate only
 * (it may pair, but is not this run's to report).
 *
 * 1. Copies: on each side, lines that repeat the same movement (same type, key and amount) are ranked
 *    in file order; the first is the movement, each further one is a `duplicate_in_*` discrepancy.
 * 2–3. The matching rules, as data, in priority order (rules.ts): exact 1:1 keys (the provider's id,
 *    the merchant's reference, a refund's payment id — each only where it names one candidate on each
 *    side), then 1:N / N:1 groups by the provider's ids, then tolerant rules that only propose. Each
 *    rule reads what earlier rules left unpaired (the pools, `us` and `ul` at the end) and writes its
 *    pairs with both sides' measures, so that step 5 reads the pairs alone.
 * 4. A leftover row whose key points at exactly one movement that is already paired is a further copy
 *    of that movement (a double booking, a double charge), not a missing one.
 * 5. Paired rows (or groups, on their sums) are compared exactly (numeric equality: 0.60 = 0.60000): currency, then signed amount,
 *    then fee when the ledger gives one. A statement that settles in another currency than the customer
 *    paid in carries the original amount: a ledger row in that currency is compared with it (the fee,
 *    charged in the settlement currency, cannot be compared then).
 */
interface CommonScope {
  runId: string;
  provider: string;
  /** The statement files of this run. */
  statementFileIds: string[];
  periodStart: Date;
  periodEnd: Date;
  /** The run's calendar day: what is due by it and unpaired is a discrepancy. */
  runDate: string;
  /** The contracted fee schedules: each statement line's fee is checked against them too. */
  feeSchedules?: readonly FeeSchedule[];
  /** The matching rules in priority order (default: DEFAULT_RULES). */
  rules?: readonly MatchRule[];
}

/** `recon reconcile`: the given statement(s) against one ledger import; everything is due now. */
export interface AdhocScope extends CommonScope {
  mode: 'adhoc';
  /** Restrict the ledger side to one import (the ledger file given with the statement). */
  ledgerImportId: string | null;
}

/**
 * A daily run: the day's statement and the stored ledger, plus what the previous day left pending.
 * New ledger rows of the day are due on `ledgerDueDate` (settlement-based statements: T+N) or, near the
 * day's cut-off, the next day; the day's statement lines are due today or, near the cut-off, tomorrow.
 */
export interface DailyScope extends CommonScope {
  mode: 'daily';
  account: string;
  /** The run whose pending items carry into this one (the latest completed earlier day), if any. */
  previousRunId: string | null;
  /** Ledger rows booked this far before the period are still candidates (late settlement). */
  lookbackStart: Date;
  /** Rows within this many minutes of the cut-off may legitimately show up on the next day. */
  cutoffGraceMinutes: number;
  /** Due date of the day's new ledger rows (the run date for statements that list movements by their own date). */
  ledgerDueDate: string;
  nextDate: string;
}

export type MatchScope = AdhocScope | DailyScope;

/** Kinds in report order. */
export const DISCREPANCY_KINDS = [
  'missing_in_ledger',
  'missing_in_statement',
  'amount_mismatch',
  'fee_mismatch',
  'currency_mismatch',
  'duplicate_in_statement',
  'duplicate_in_ledger',
] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];


// copy_no and key_rows start at 1, as they are for a line alone under its key; rankCopies corrects the few others.
// key_hash: a 64-bit hash of the type and key it ranks by (NULL without a key).
const keyHash = (a: string) => `hashtextextended(${a}.type || ':' || coalesce(${a}.txn_key, ${a}.ref_key), 0) AS key_hash`;
const RS_COLUMNS = `l.id, l.type, l.txn_key, l.ref_key, l.parent_txn_id, l.currency, l.gross, l.fee, l.net,
            l.original_amount, l.original_currency, l.statement_file_id, l.line_no,
            1::bigint AS copy_no, 1::bigint AS key_rows, l.occurred_at, false AS dup_of_matched, ${keyHash('l')}`;
const RL_COLUMNS = `e.id, e.ledger_id, e.type, e.txn_key, e.ref_key, e.provider_txn_id, e.currency, e.amount, e.fee, e.booked_at,
            CASE WHEN e.type = 'payment' THEN e.amount ELSE -e.amount END AS signed_amount,
            1::bigint AS copy_no, 1::bigint AS key_rows, false AS dup_of_matched,
            e.import_id, e.source_line, ${keyHash('e')}`;

/**
 * Step 1 on one scratch table: a copy is the same movement again (same type and key, and the same amount
 * and time on the statement, the same amount and currency in the ledger; a split capture differs), ranked
 * in file order; `key_rows` counts the rows sharing the type and key (candidates() in rules.ts settles most
 * keys with it). Only keys that repeat are ranked: a window over the whole run sorted a million rows per
 * side (3 s each at 1M, 54 s at 10M). Repeating keys are found by their 64-bit hash, as rows whose hash
 * another row shares: a hash semi-join of the table with itself, which runs on every core. (Grouping the
 * hashes and keeping those counted twice passed every row through one process: 1.3–1.6 s at 1M against
 * 0.7 s, 12.5 s at 10M against 7.9 s.) A hash shared by two keys only ranks both keys, each under its own
 * key. The few ranked rows are then written back by their row address.
 */
async function rankCopies(tx: Tx, table: 'rs' | 'rl'): Promise<void> {
  const key = `coalesce(x.txn_key, x.ref_key)`;
  const [same, order] = table === 'rs'
    ? ['x.gross, x.occurred_at', 'x.statement_file_id, x.line_no']
    : ['x.amount, x.currency', 'x.import_id, x.source_line, x.ledger_id'];
  const ranked = `${table}_copies`;
  await tx.query(
    `CREATE TEMP TABLE ${ranked} ON COMMIT DROP AS
     SELECT x.ctid AS tid, row_number() OVER (PARTITION BY x.type, ${key}, ${same} ORDER BY ${order}) AS copy_no,
            count(*) OVER (PARTITION BY x.type, ${key}) AS key_rows
       FROM ${table} x
      WHERE x.key_hash IS NOT NULL AND EXISTS (SELECT 1 FROM ${table} y WHERE y.key_hash = x.key_hash AND y.ctid <> x.ctid)`,
  );
  await tx.query(`ANALYZE ${ranked}`);
  await tx.query(`UPDATE ${table} t SET copy_no = r.copy_no, key_rows = r.key_rows FROM ${ranked} r WHERE t.ctid = r.tid`);
  await tx.query(`DROP TABLE ${ranked}`);
}

/** What the ledger side of an ad-hoc run depends on: it can be made before the statements are loaded. */
export type AdhocLedgerScope = Pick<AdhocScope, 'provider' | 'ledgerImportId' | 'periodStart' | 'periodEnd' | 'runDate'>;

/**
 * The ledger side of an ad-hoc run (`rl`), copies ranked and counted. `recon reconcile` makes it in the
 * ledger import's transaction while the statement still loads, when the run's day is known beforehand.
 */
export async function prepareAdhocLedger(tx: Tx, scope: AdhocLedgerScope): Promise<void> {
  await tx.query(
    `${await createScratchTable(tx, 'rl')} AS
     SELECT ${RL_COLUMNS}, false AS carried, NULL::date AS pending_since,
            CASE WHEN e.booked_at >= $3 AND e.booked_at < $4 THEN $5::date END AS due_date
       FROM ledger_entries e
      WHERE e.provider = $1 AND ($2::bigint IS NULL OR e.import_id = $2::bigint)`,
    [scope.provider, scope.ledgerImportId, scope.periodStart, scope.periodEnd, scope.runDate],
  );
  await rankCopies(tx, 'rl');
  await tx.query(`ANALYZE rl`);
}

async function adhocStatementCandidates(tx: Tx, scope: AdhocScope): Promise<void> {
  await tx.query(
    `${await createScratchTable(tx, 'rs')} AS
     SELECT ${RS_COLUMNS}, false AS carried, NULL::date AS pending_since, $2::date AS due_date
       FROM statement_lines l
      WHERE l.statement_file_id = ANY($1::bigint[]) AND l.type IN ('payment', 'refund', 'chargeback')`,
    [scope.statementFileIds, scope.runDate],
  );
  await rankCopies(tx, 'rs');
}

async function dailyCandidates(tx: Tx, scope: DailyScope): Promise<void> {
  const cutoff = new Date(scope.periodEnd.getTime() - scope.cutoffGraceMinutes * 60_000);
  const lateEnd = new Date(scope.periodEnd.getTime() + scope.cutoffGraceMinutes * 60_000);
  // What the latest completed runs of earlier days paired is theirs, not this day's — whichever
  // account's run paired it (the ledger does not know provider accounts: a row pairs once).
  const consumedBy = (column: string, alias: string) => `NOT EXISTS (
         SELECT 1 FROM matches m JOIN recon_runs r ON r.id = m.run_id
          WHERE m.${column} = ${alias}.id AND m.daily AND r.kind = 'daily' AND r.status = 'completed'
            AND r.provider = $1 AND r.bill_date < $2::date)`;
  await tx.query(
    `${await createScratchTable(tx, 'rs')} AS
     WITH carried AS (
       SELECT statement_line_id AS id, pending_since, due_date FROM pending_items WHERE run_id = $3 AND side = 'statement'
     )
     SELECT ${RS_COLUMNS}, (c.id IS NOT NULL) AS carried, c.pending_since,
            coalesce(c.due_date, CASE WHEN l.statement_file_id = ANY($4::bigint[])
                                      THEN CASE WHEN l.occurred_at >= $5 THEN $6::date ELSE $2::date END END) AS due_date
       FROM statement_lines l LEFT JOIN carried c ON c.id = l.id
      WHERE (l.statement_file_id = ANY($4::bigint[]) OR c.id IS NOT NULL)
        AND l.type IN ('payment', 'refund', 'chargeback')
        AND ${consumedBy('statement_line_id', 'l')}`,
    [scope.provider, scope.runDate, scope.previousRunId, scope.statementFileIds, cutoff, scope.nextDate],
  );
  await tx.query(
    `${await createScratchTable(tx, 'rl')} AS
     WITH carried AS (
       SELECT ledger_entry_id AS id, pending_since, due_date FROM pending_items WHERE run_id = $3 AND side = 'ledger'
     )
     SELECT ${RL_COLUMNS}, (c.id IS NOT NULL) AS carried, c.pending_since,
            coalesce(c.due_date, CASE WHEN e.booked_at >= $4 AND e.booked_at < $5
                                      THEN CASE WHEN $8::date > $2::date THEN $8::date
                                                WHEN e.booked_at >= $6 THEN $9::date ELSE $2::date END END) AS due_date
       FROM ledger_entries e LEFT JOIN carried c ON c.id = e.id
      WHERE e.provider = $1
        AND ((e.booked_at >= $7 AND e.booked_at < $10) OR c.id IS NOT NULL)
        AND ${consumedBy('ledger_entry_id', 'e')}`,
    [scope.provider, scope.runDate, scope.previousRunId, scope.periodStart, scope.periodEnd, cutoff,
      scope.lookbackStart, scope.ledgerDueDate, scope.nextDate, lateEnd],
  );
}

/** What the rules paired, per rule in order (the run's summary counts these). */
export interface MatchOutcome {
  pairs: RulePairs[];
}

/** The disagreeing groups of a group rule's pairs: each group compared on its sums. */
function groupComparison(table: string): string {
  return `SELECT gs.group_no, gs.sid, gl.lid, gs.gross, gs.s_fee, gl.amount, gl.l_fee, gs.s_ccy, gl.l_ccy,
            (gs.s_ccy = gs.ccy_max AND gl.l_ccy = gl.ccy_max AND gs.s_ccy = gl.l_ccy) AS same_currency,
            (gs.s_ccy = gs.ccy_max AND gl.l_ccy = gl.ccy_max AND gs.n_original = gs.n AND gs.occy = gs.occy_max AND gs.occy = gl.l_ccy) AS original_currency,
            gs.original, (gl.n_fee = gl.n) AS ledger_fee_given
       FROM (SELECT group_no, min(sid) AS sid, count(*) AS n, sum(gross) AS gross, sum(s_fee) AS s_fee,
                    min(s_ccy) AS s_ccy, max(s_ccy) AS ccy_max, sum(original) AS original, count(original_ccy) AS n_original,
                    min(original_ccy) AS occy, max(original_ccy) AS occy_max
               FROM (SELECT DISTINCT sid, group_no, gross, s_fee, s_ccy, original, original_ccy FROM ${table}) x GROUP BY group_no) gs
       JOIN (SELECT group_no, min(lid) AS lid, count(*) AS n, sum(amount) AS amount, sum(l_fee) AS l_fee, count(l_fee) AS n_fee,
                    min(l_ccy) AS l_ccy, max(l_ccy) AS ccy_max
               FROM (SELECT DISTINCT lid, group_no, amount, l_fee, l_ccy FROM ${table}) x GROUP BY group_no) gl USING (group_no)`;
}

/** A 1:1 rule's pairs as groups of one: its measures are the group's. */
function oneToOneComparison(table: string): string {
  return `SELECT group_no, sid, lid, gross, s_fee, amount, l_fee, s_ccy, l_ccy, s_ccy = l_ccy AS same_currency,
            original_ccy IS NOT NULL AND original_ccy = l_ccy AS original_currency, original, l_fee IS NOT NULL AS ledger_fee_given
       FROM ${table}`;
}

/**
 * SQL: the row `alias` of `rs` or `rl` was paired by a rule. A first copy is paired when the final pool
 * of its side (`us` / `ul`) no longer holds it; further copies never pair.
 */
export function pairedIn(alias: string, pool: 'us' | 'ul'): string {
  return `(${alias}.copy_no = 1 AND ${alias}.id NOT IN (SELECT id FROM ${pool}))`;
}

/**
 * Matches a run inside the caller's transaction. `ledgerPrepared`: `prepareAdhocLedger` already made the
 * ledger side in this transaction, for the same provider, import, period and day. `onCandidates` is
 * called once the run has read what it needs of `statement_lines` (its scratch tables are made): from
 * then on, another connection can scan the statements without the two scans slowing each other down.
 */
export async function matchRun(tx: Tx, scope: MatchScope, opts: { ledgerPrepared?: boolean; onCandidates?: () => void } = {}): Promise<MatchOutcome> {
  const { runId } = scope;
  await planInParallel(tx);
  // The rules are set operations (hash joins and aggregates) over fresh statistics: both sides are
  // analysed once made.
  if (scope.mode === 'adhoc') {
    if (!opts.ledgerPrepared) await prepareAdhocLedger(tx, scope);
    await adhocStatementCandidates(tx, scope);
  } else {
    await dailyCandidates(tx, scope);
    await rankCopies(tx, 'rs');
    await rankCopies(tx, 'rl');
    await tx.query(`ANALYZE rl`);
  }
  const feeCheck = scope.feeSchedules !== undefined && scope.feeSchedules.length > 0;
  if (feeCheck) await computeExpectedFees(tx, scope.feeSchedules!);
  await tx.query(`ANALYZE rs`);
  opts.onCandidates?.();

  // 2–3. The rules, in priority order (reconcile/rules.ts), each on what earlier rules left unpaired.
  // Every rule is a set operation over the whole run; inside the transaction the planner cannot see
  // how many rows `matches` just gained and would pick nested loops that grow with the square of the
  // lines, or sort both sides for a merge. Hash joins it is.
  await tx.query(`SET LOCAL enable_nestloop = off`);
  await tx.query(`SET LOCAL enable_mergejoin = off`);
  const rules = scope.rules ?? DEFAULT_RULES;
  let pools: Pools = { s: 'rs', l: 'rl' };
  const pairs: RulePairs[] = [];
  for (const [i, rule] of rules.entries()) {
    const applied = await applyRule(tx, { id: runId, daily: scope.mode === 'daily' }, rule, pools, i + 1);
    pools = applied.pools;
    if (applied.pairs) pairs.push(applied.pairs);
  }
  await tx.query(`SET LOCAL enable_mergejoin = on`);
  // The final pools, under fixed names: `us` and `ul` hold every first copy that no rule paired.
  for (const [pool, name, full] of [[pools.s, 'us', 'rs'], [pools.l, 'ul', 'rl']] as const) {
    if (pool === full) await tx.query(`${await createScratchTable(tx, name)} AS SELECT x.* FROM ${full} x WHERE x.copy_no = 1`);
    else await tx.query(`ALTER TABLE ${pool} RENAME TO ${name}`);
    await tx.query(`CREATE INDEX ON ${name} (id)`);
    await tx.query(`ANALYZE ${name}`);
  }

  // 4. Leftovers that are further copies of an already paired movement: the row's key (provider id or
  //    merchant reference) points at exactly one movement on the other side, and that one is paired.
  for (const [pool, other, otherPool] of [['ul', 'rs', 'us'], ['us', 'rl', 'ul']] as const) {
    await tx.query(
      `WITH u AS (
         SELECT x.id, x.type, x.txn_key, x.ref_key FROM ${pool} x
       ), o AS (
         -- one pass over the other side: the rows that share either key with a leftover
         SELECT o.id, o.type, o.txn_key, o.ref_key, ${pairedIn('o', otherPool)} AS paired FROM ${other} o
          WHERE o.copy_no = 1 AND (o.txn_key IN (SELECT txn_key FROM u) OR o.ref_key IN (SELECT ref_key FROM u))
       ), hits AS (
         SELECT u.id, o.id AS oid, o.paired FROM u JOIN o ON o.type = u.type AND o.txn_key = u.txn_key
         UNION
         SELECT u.id, o.id, o.paired FROM u JOIN o ON o.type = u.type AND o.ref_key = u.ref_key
       ), single AS (
         SELECT id FROM hits GROUP BY id HAVING count(*) = 1 AND bool_and(paired)
       )
       UPDATE ${pool} SET dup_of_matched = true
         FROM single
        WHERE ${pool}.id = single.id`,
    );
  }
  // A proposal only stands between rows that are still one-sided (most runs have none to check).
  const [proposals] = await tx.query<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM match_proposals WHERE run_id = $1) AS any`, [runId]);
  if (proposals?.any) {
    await tx.query(
      `DELETE FROM match_proposals p
        WHERE p.run_id = $1
          AND (EXISTS (SELECT 1 FROM us s WHERE s.id = p.statement_line_id AND s.dup_of_matched)
               OR EXISTS (SELECT 1 FROM ul l WHERE l.id = p.ledger_entry_id AND l.dup_of_matched))`,
      [runId],
    );
  }

  // 5. Each paired group (one line and one row, or a 1:N / N:1 group) compared on its sums; only the
  //    disagreeing ones are kept (one pass over the pairs).
  const comparisons = pairs.map((p) => (p.oneToOne ? oneToOneComparison(p.table) : groupComparison(p.table)));
  const grp = comparisons.length === 0
    ? `SELECT NULL::bigint AS sid, NULL::bigint AS lid, NULL::numeric AS gross, NULL::numeric AS s_fee, NULL::numeric AS amount,
              NULL::numeric AS l_fee, NULL::text AS s_ccy, NULL::text AS l_ccy, NULL::boolean AS same_currency,
              NULL::boolean AS original_currency, NULL::numeric AS original, NULL::boolean AS ledger_fee_given WHERE false`
    : comparisons.map((c) => `SELECT sid, lid, gross, s_fee, amount, l_fee, s_ccy::text, l_ccy::text, same_currency, original_currency, original, ledger_fee_given
                                FROM (${c}) c
                               WHERE NOT same_currency OR gross <> amount OR (ledger_fee_given AND s_fee <> l_fee)`).join('\n UNION ALL\n');

  // Discrepancies, in a stable order: by kind, then statement position, then ledger position. They are
  // few: they are collected first and counted (ANALYZE), so that their lines and rows are fetched by id
  // (index lookups). Estimated from the pairs, the planner expected half a million and hashed both whole
  // tables for them (1.7 s at 1M).
  await tx.query(`SET LOCAL enable_nestloop = on`);
  const due = `$1::date`;
  await tx.query(
    `CREATE TEMP TABLE found_discrepancies ON COMMIT DROP AS
     WITH g AS MATERIALIZED (
       ${grp}
     ), ${feeCheck ? `sched AS MATERIALIZED (
       SELECT s.id, s.gross, s.fee, s.currency FROM rs s JOIN ef ON ef.line_id = s.id WHERE s.copy_no = 1 AND s.fee <> ef.expected
     ), ` : ''}dl AS (
       SELECT l.* FROM rl l WHERE l.copy_no > 1
       UNION ALL
       SELECT l.* FROM ul l WHERE l.dup_of_matched
     ), found AS (
       -- statement-side rows
       SELECT 'missing_in_ledger' AS kind, s.id AS sid, NULL::bigint AS lid, NULL::text AS basis,
              s.gross AS s_amount, NULL::numeric AS l_amount, s.fee AS s_fee, NULL::numeric AS l_fee, s.currency::text AS ccy
         FROM us s
        WHERE NOT s.dup_of_matched AND s.due_date <= ${due}
       UNION ALL
       SELECT 'duplicate_in_statement', s.id, NULL, NULL, s.gross, NULL, s.fee, NULL, s.currency FROM rs s WHERE s.copy_no > 1
       UNION ALL
       SELECT 'duplicate_in_statement', s.id, NULL, NULL, s.gross, NULL, s.fee, NULL, s.currency FROM us s WHERE s.dup_of_matched
       UNION ALL
       -- ledger-side rows
       SELECT 'missing_in_statement', NULL, l.id, NULL, NULL, l.signed_amount, NULL, l.fee, l.currency FROM ul l
        WHERE NOT l.dup_of_matched AND l.due_date <= ${due}
       UNION ALL
       SELECT 'duplicate_in_ledger', NULL, l.id, NULL, NULL, l.signed_amount, NULL, l.fee, l.currency FROM dl l
        WHERE l.due_date IS NOT NULL OR EXISTS (
                SELECT 1 FROM rl f
                 WHERE ${pairedIn('f', 'ul')} AND f.type = l.type
                   AND coalesce(f.txn_key, f.ref_key) = coalesce(l.txn_key, l.ref_key))
       UNION ALL
       -- paired groups that disagree
       SELECT 'currency_mismatch', g.sid, g.lid, NULL, g.gross, g.amount, g.s_fee, g.l_fee, g.s_ccy FROM g
        WHERE NOT g.same_currency AND NOT g.original_currency
       UNION ALL
       SELECT 'amount_mismatch', g.sid, g.lid, NULL, g.gross, g.amount, g.s_fee, g.l_fee, g.s_ccy FROM g
        WHERE g.same_currency AND g.gross <> g.amount
       UNION ALL
       -- a ledger row in the customer's currency is compared with the statement's original amount
       SELECT 'amount_mismatch', g.sid, g.lid, NULL, g.original, g.amount, g.s_fee, g.l_fee, g.l_ccy FROM g
        WHERE NOT g.same_currency AND g.original_currency AND g.original <> g.amount
       UNION ALL
       SELECT 'fee_mismatch', g.sid, g.lid, 'ledger', g.gross, g.amount, g.s_fee, g.l_fee, g.s_ccy FROM g
        WHERE g.same_currency AND g.ledger_fee_given AND g.s_fee <> g.l_fee
       ${feeCheck ? `UNION ALL
       -- the provider charged otherwise than the contracted schedule says
       SELECT 'fee_mismatch', s.id, pm.lid, 'schedule', s.gross, NULL, s.fee, NULL, s.currency
         FROM sched s
         -- the row it was paired with, if any: one pass over the run's matches (an ad-hoc run's are not
         -- indexed by line)
         LEFT JOIN (SELECT m.statement_line_id AS sid, min(m.ledger_entry_id) AS lid FROM matches m
                     WHERE m.run_id = $2 AND m.statement_line_id IN (SELECT id FROM sched) GROUP BY 1) pm ON pm.sid = s.id` : ''}
     )
     SELECT * FROM found`,
    feeCheck ? [scope.runDate, runId] : [scope.runDate],
  );
  await tx.query(`ANALYZE found_discrepancies`);
  await tx.query(
    `INSERT INTO discrepancies (run_id, ord, kind, provider, type, provider_txn_id, order_id, currency,
                                statement_amount, ledger_amount, statement_fee, ledger_fee, ledger_id,
                                statement_line_id, ledger_entry_id, ledger_currency, fee_basis, expected_fee, fee_rule)
     SELECT $1,
            row_number() OVER (ORDER BY array_position($3::text[], f.kind), sl.statement_file_id, sl.line_no,
                                        le.import_id, le.source_line, le.ledger_id, f.basis),
            f.kind, $2, coalesce(sl.type, le.type),
            coalesce(sl.provider_txn_id, le.provider_txn_id),
            coalesce(sl.merchant_ref, le.order_id),
            f.ccy, f.s_amount, f.l_amount, f.s_fee, f.l_fee, le.ledger_id, sl.id, le.id, le.currency, f.basis,
            ${feeCheck ? `CASE WHEN f.basis = 'schedule' THEN ef.expected END, CASE WHEN f.basis = 'schedule' THEN ef.rule END` : 'NULL, NULL'}
       FROM found_discrepancies f
       LEFT JOIN statement_lines sl ON sl.id = f.sid
       LEFT JOIN ledger_entries le ON le.id = f.lid
       ${feeCheck ? 'LEFT JOIN ef ON ef.line_id = f.sid' : ''}`,
    [runId, scope.provider, DISCREPANCY_KINDS],
  );

  // The run's fee check over its pairs (every line and row of a group, as \`matches\` pairs them), kept
  // with the run so that its reports need not join the run's matches back to both tables. Aggregated by
  // a SELECT, which PostgreSQL may run on every core, and stored by an UPDATE, which it never does (10M
  // pairs took 6.9 s inside one UPDATE).
  const feePairs = pairs.map((p) => `SELECT s_ccy, s_type, s_fee, l_fee FROM ${p.table} WHERE l_fee IS NOT NULL AND l_ccy = s_ccy`).join(' UNION ALL ');
  const [checks] = await tx.query<{ fee_checks: string }>(
    `SELECT coalesce(json_agg(json_build_object('currency', t.currency, 'type', t.type, 'pairs', t.pairs, 'statement_fee', t.statement_fee,
                                                'ledger_fee', t.ledger_fee, 'mismatches', t.mismatches) ORDER BY t.currency, t.type), '[]')::text AS fee_checks
       FROM (SELECT p.s_ccy AS currency, p.s_type AS type, count(*)::int AS pairs, sum(p.s_fee)::text AS statement_fee,
                    sum(p.l_fee)::text AS ledger_fee, count(*) FILTER (WHERE p.s_fee <> p.l_fee)::int AS mismatches
               FROM (${feePairs || 'SELECT NULL::bpchar AS s_ccy, NULL::text AS s_type, NULL::numeric AS s_fee, NULL::numeric AS l_fee WHERE false'}) p
              GROUP BY p.s_ccy, p.s_type) t`,
  );
  await tx.query(`UPDATE recon_runs SET fee_checks = $2::jsonb WHERE id = $1`, [runId, checks!.fee_checks]);

  if (scope.mode === 'daily') {
    // What is unpaired but not yet due waits for a later day; what was waiting and paired today is cleared.
    for (const [side, table, pool, column] of [['statement', 'rs', 'us', 'statement_line_id'], ['ledger', 'rl', 'ul', 'ledger_entry_id']] as const) {
      await tx.query(
        `INSERT INTO pending_items (run_id, side, ${column}, pending_since, due_date)
         SELECT $1, '${side}', x.id, coalesce(x.pending_since, $2::date), x.due_date FROM ${pool} x
          WHERE NOT x.dup_of_matched AND x.due_date > $2::date`,
        [runId, scope.runDate],
      );
      await tx.query(
        `INSERT INTO cleared_items (run_id, side, ${column}, pending_since, cleared_on)
         SELECT $1, '${side}', x.id, x.pending_since, $2::date FROM ${table} x
          WHERE x.carried AND ${pairedIn('x', pool)}`,
        [runId, scope.runDate],
      );
    }
  }
  return { pairs };
}
