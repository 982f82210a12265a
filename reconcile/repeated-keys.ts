/** Pairs of line type and matching key, as two arrays for SQL's `unnest($1::text[], $2::text[])`. */
export interface KeyPairs {
  types: string[];
  keys: string[];
}

const EMPTY = 0;
const INITIAL_SLOTS = 1 << 16;

/**
 * The (type, key) pairs that a stream of rows repeats, found while the rows are read, so that ranking
 * copies in SQL looks at those keys alone instead of joining a million-row table with itself (at 10M,
 * 5.6–5.8 s per side, the ledger's then finishing after the statement it had loaded beside).
 *
 * Each pair's 32-bit FNV-1a hash goes into an open-addressing table (4 bytes a slot, at most 70% full:
 * 64 MB at 10M rows); a pair whose hash is already there is recorded. No repeat is ever missed. Two
 * different pairs with one hash record the second as well, which costs the SQL one lone key to rank
 * (about n²/2³³ of them: ~120 at 1M, ~12,000 at 10M).
 */
export class RepeatedKeys {
  private slots = new Uint32Array(INITIAL_SLOTS);
  private used = 0;
  private readonly seen = new Set<string>();
  private readonly found: KeyPairs = { types: [], keys: [] };

  /** One row's pair; a row without a key ranks with no other. */
  add(type: string, key: string | null): void {
    if (key === null) return;
    let h = 0x811c9dc5;
    for (let i = 0; i < type.length; i++) h = Math.imul(h ^ type.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x3a /* : */, 0x01000193);
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = h >>> 0 || 1; // 0 marks an empty slot
    if (this.insert(h)) return;
    const pair = `${type}\u0000${key}`;
    if (this.seen.has(pair)) return;
    this.seen.add(pair);
    this.found.types.push(type);
    this.found.keys.push(key);
  }

  /** The pairs seen more than once (and the few that only shared a hash), in the order found. */
  pairs(): KeyPairs {
    return { types: [...this.found.types], keys: [...this.found.keys] };
  }

  /** True when `h` was not in the table (and now is). */
  private insert(h: number): boolean {
    const mask = this.slots.length - 1;
    let i = h & mask;
    for (;;) {
      const s = this.slots[i]!;
      if (s === EMPTY) break;
      if (s === h) return false;
      i = (i + 1) & mask;
    }
    this.slots[i] = h;
    this.used += 1;
    if (this.used * 10 > this.slots.length * 7) this.grow();
    return true;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    const mask = this.slots.length - 1;
    for (const h of old) {
      if (h === EMPTY) continue;
      let i = h & mask;
      while (this.slots[i] !== EMPTY) i = (i + 1) & mask;
      this.slots[i] = h;
    }
  }
}
