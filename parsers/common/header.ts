/** A header cell that names no known column, or a column already named: its text and its position. */
export interface HeaderCell {
  name: string;
  index: number;
}

export interface HeaderOptions {
  /** What a cell says, as the file writes it without its decorations (default: the cell). */
  written?: (cell: string) => string;
  /** How a name is compared with the table's names (default: as it is). */
  key?: (name: string) => string;
  /** Cells that say nothing are not columns (default: they are, and unknown). */
  skipEmpty?: boolean;
}

/**
 * Maps header cells to canonical keys with a synonym table. Returns, per key, the index and the name as
 * written; the cells no key knows, and those naming a key already named (with it), in column order; and
 * how many cells name something. What is wrong with a header is the caller's to say.
 */
export function mapHeaderCells<K extends string>(
  cells: readonly string[],
  table: Record<K, readonly string[]>,
  options: HeaderOptions = {},
): { columns: Map<K, { index: number; name: string }>; unknown: HeaderCell[]; duplicate: Array<HeaderCell & { key: K }>; named: number } {
  const written = options.written ?? ((c: string) => c);
  const keyOf = options.key ?? ((n: string) => n);
  const byName = new Map<string, K>();
  for (const k of Object.keys(table) as K[]) for (const n of table[k]) byName.set(keyOf(n), k);
  const columns = new Map<K, { index: number; name: string }>();
  const unknown: HeaderCell[] = [];
  const duplicate: Array<HeaderCell & { key: K }> = [];
  let named = 0;
  cells.forEach((cell, index) => {
    const name = written(cell);
    if (name === '' && options.skipEmpty) return;
    named += 1;
    const key = byName.get(keyOf(name));
    if (key === undefined) unknown.push({ name, index });
    else if (columns.has(key)) duplicate.push({ name, index, key });
    else columns.set(key, { index, name });
  });
  return { columns, unknown, duplicate, named };
}
