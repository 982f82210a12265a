import type { Tx } from '../db/database.js';

type ScratchKind = 'unlogged' | 'temp';

const kinds = new WeakMap<Tx, ScratchKind>();

/**
 * Where the transaction's large scratch tables go, decided once per transaction. PostgreSQL never scans
 * a temporary table in parallel, and once the statements are loaded the run has every core to itself;
 * so they are UNLOGGED tables in a schema of the transaction's own. The schema goes first on the search
 * path, so the tables keep their short names; it is dropped just before the commit, and a rollback takes
 * it away with everything else. A role that may not create schemas gets temporary tables, as before.
 */
async function scratchKind(tx: Tx): Promise<ScratchKind> {
  const known = kinds.get(tx);
  if (known) return known;
  // A transaction id is never reused: two runs at once, or a run and a leftover, cannot collide.
  const [row] = await tx.query<{ name: string; allowed: boolean }>(
    `SELECT 'recon_scratch_' || txid_current() AS name, has_database_privilege(current_database(), 'CREATE') AS allowed`,
  );
  const kind: ScratchKind = row!.allowed ? 'unlogged' : 'temp';
  kinds.set(tx, kind);
  if (kind === 'unlogged') {
    const name = row!.name;
    await tx.query(`CREATE SCHEMA ${name}`);
    await tx.query(`SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)`, [name]);
    tx.beforeCommit(async () => {
      await tx.query(`DROP SCHEMA ${name} CASCADE`);
    });
  }
  return kind;
}

/** The start of a `CREATE TABLE name … AS` for one of the run's large scratch tables (see scratchKind). */
export async function createScratchTable(tx: Tx, name: string): Promise<string> {
  return (await scratchKind(tx)) === 'unlogged' ? `CREATE UNLOGGED TABLE ${name}` : `CREATE TEMP TABLE ${name} ON COMMIT DROP`;
}

/**
 * The scratch tables' own planner settings: a parallel plan's workers start in milliseconds and hand
 * their rows to the leader cheaply, against the defaults' assumption of a costly start and transfer
 * (with them, a hash join of a million rows per side ran on one core: 1.6 s against 1.0 s on two).
 */
export async function planInParallel(tx: Tx): Promise<void> {
  await tx.query(`SET LOCAL parallel_setup_cost = 100`);
  await tx.query(`SET LOCAL parallel_tuple_cost = 0.001`);
}
