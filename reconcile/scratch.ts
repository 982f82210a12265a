import type { Tx } from '../db/database.js';

const opened = new WeakSet<Tx>();

/**
 * Makes the transaction's scratch schema, once: the run's large scratch tables (both sides' candidates,
 * each rule's pairs) are UNLOGGED tables in it rather than TEMP tables, because PostgreSQL never scans a
 * temporary table in parallel, and once the statements are loaded the run has every core to itself.
 * The schema goes first on the search path, so the tables keep their short names; it is dropped just
 * before the commit, and a rollback takes it away with everything else.
 */
export async function useScratchSchema(tx: Tx): Promise<void> {
  if (opened.has(tx)) return;
  opened.add(tx);
  // A transaction id is never reused: two runs at once, or a run and a leftover, cannot collide.
  const [row] = await tx.query<{ name: string }>(`SELECT 'recon_scratch_' || txid_current() AS name`);
  const name = row!.name;
  await tx.query(`CREATE SCHEMA ${name}`);
  await tx.query(`SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)`, [name]);
  tx.beforeCommit(async () => {
    await tx.query(`DROP SCHEMA ${name} CASCADE`);
  });
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
