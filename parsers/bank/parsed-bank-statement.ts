import type { BankLine, BankStatementSummary, ParsedBankStatement } from './contract.js';

/**
 * The generic sibling of `parsers/common/parsed-statement.ts`: wraps an async generator (yield items,
 * return the summary) into an async iterable with a `summary` promise. The generator runs once.
 */
export function parsedStream<T, S>(run: () => AsyncGenerator<T, S, undefined>): AsyncIterable<T> & { readonly summary: Promise<S> } {
  let settle!: { resolve: (s: S) => void; reject: (e: unknown) => void };
  const summary = new Promise<S>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The error also surfaces through iteration; an unobserved summary must not crash the process.
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

export function parsedBankStatement(run: () => AsyncGenerator<BankLine, BankStatementSummary, undefined>): ParsedBankStatement {
  return parsedStream(run);
}

/** Reads a whole parse into memory: for tests and small files only. */
export async function collectBank(parsed: ParsedBankStatement): Promise<{ lines: BankLine[]; summary: BankStatementSummary }> {
  const lines: BankLine[] = [];
  for await (const line of parsed) lines.push(line);
  return { lines, summary: await parsed.summary };
}
