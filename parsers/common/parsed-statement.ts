import type { ParsedStatement, StatementLine, StatementSummary } from '../contract.js';

/**
 * An async iterable of parsed items whose summary settles once the last item has been read. `batches()`
 * gives the same items in the batches the parser made them (a loader takes a batch per step instead of
 * a step per item); a parse is read once, either way.
 */
export interface ParsedStream<T, S> extends AsyncIterable<T> {
  readonly summary: Promise<S>;
  batches(): AsyncIterable<readonly T[]>;
}

/**
 * Runs a parser's generator once, passing on what it yields and settling `summary` with what it returns
 * (or rejecting it with the iteration's error).
 */
function once<Y, S>(run: () => AsyncGenerator<Y, S, undefined>) {
  let settle!: { resolve: (s: S) => void; reject: (e: unknown) => void };
  const summary = new Promise<S>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The error also surfaces through iteration; do not let an unobserved summary crash the process.
  summary.catch(() => undefined);
  let started = false;
  async function* steps(): AsyncGenerator<Y> {
    if (started) throw new Error('a parsed statement can be iterated only once');
    started = true;
    const gen = run();
    let ended = false;
    try {
      for (;;) {
        const step = await gen.next();
        if (step.done) {
          ended = true;
          settle.resolve(step.value);
          return;
        }
        yield step.value;
      }
    } catch (err) {
      ended = true;
      settle.reject(err);
      throw err;
    } finally {
      // A reader that stops early (a failed COPY) lets the parser close its file.
      if (!ended) await gen.return(undefined as S);
    }
  }
  return { summary, steps };
}

/** Wraps a parser written as an async generator (yield items, return the summary) into a parsed stream. */
export function parsedStream<T, S>(run: () => AsyncGenerator<T, S, undefined>): ParsedStream<T, S> {
  const { summary, steps } = once(run);
  return {
    summary,
    async *batches() {
      for await (const item of steps()) yield [item];
    },
    [Symbol.asyncIterator]: steps,
  };
}

/** The same for a parser that yields its items in batches (arrays, possibly empty). */
export function parsedStreamOfBatches<T, S>(run: () => AsyncGenerator<readonly T[], S, undefined>): ParsedStream<T, S> {
  const { summary, steps } = once(run);
  return {
    summary,
    async *batches() {
      for await (const batch of steps()) if (batch.length > 0) yield batch;
    },
    async *[Symbol.asyncIterator]() {
      for await (const batch of steps()) yield* batch;
    },
  };
}

/** The provider-statement case: the `ParsedStatement` contract. */
export function parsedStatement(run: () => AsyncGenerator<StatementLine, StatementSummary, undefined>): ParsedStatement {
  return parsedStream(run);
}

/** The same, for a parser that yields its lines in batches. */
export function parsedStatementOfBatches(run: () => AsyncGenerator<readonly StatementLine[], StatementSummary, undefined>): ParsedStatement {
  return parsedStreamOfBatches(run);
}

/** Reads a whole parse into memory: for tests and small files only. */
export async function collectStream<T, S>(parsed: AsyncIterable<T> & { readonly summary: Promise<S> }): Promise<{ lines: T[]; summary: S }> {
  const lines: T[] = [];
  for await (const line of parsed) lines.push(line);
  return { lines, summary: await parsed.summary };
}

export const collect = (parsed: ParsedStatement): Promise<{ lines: StatementLine[]; summary: StatementSummary }> => collectStream(parsed);
