import type { ParsedStatement, StatementLine, StatementSummary } from '../contract.js';

/** An async iterable of parsed items whose summary settles once the last item has been read. */
export interface ParsedStream<T, S> extends AsyncIterable<T> {
  readonly summary: Promise<S>;
}

/**
 * Wraps a parser written as an async generator (yield items, return the summary) into a parsed stream.
 * The generator runs once; `summary` settles when it finishes, and rejects with the iteration's error.
 */
export function parsedStream<T, S>(run: () => AsyncGenerator<T, S, undefined>): ParsedStream<T, S> {
  let settle!: { resolve: (s: S) => void; reject: (e: unknown) => void };
  const summary = new Promise<S>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The error also surfaces through iteration; do not let an unobserved summary crash the process.
  summary.catch(() => undefined);
  let started = false;
  return {
    summary,
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error('a parsed statement can be iterated only once');
      started = true;
      const gen = run();
      try {
        for (;;) {
          const step = await gen.next();
          if (step.done) {
            settle.resolve(step.value);
            return;
          }
          yield step.value;
        }
      } catch (err) {
        settle.reject(err);
        throw err;
      }
    },
  };
}

/** The provider-statement case: the `ParsedStatement` contract. */
export function parsedStatement(run: () => AsyncGenerator<StatementLine, StatementSummary, undefined>): ParsedStatement {
  return parsedStream(run);
}

/** Reads a whole parse into memory: for tests and small files only. */
export async function collectStream<T, S>(parsed: ParsedStream<T, S>): Promise<{ lines: T[]; summary: S }> {
  const lines: T[] = [];
  for await (const line of parsed) lines.push(line);
  return { lines, summary: await parsed.summary };
}

export const collect = (parsed: ParsedStatement): Promise<{ lines: StatementLine[]; summary: StatementSummary }> => collectStream(parsed);
