import type { ParsedStatement, StatementLine, StatementSummary } from '../contract.js';

/**
 * Wraps a parser written as an async generator (yield lines, return the summary) into the
 * `ParsedStatement` contract. The generator runs once; `summary` settles when it finishes.
 */
export function parsedStatement(run: () => AsyncGenerator<StatementLine, StatementSummary, undefined>): ParsedStatement {
  let settle!: { resolve: (s: StatementSummary) => void; reject: (e: unknown) => void };
  const summary = new Promise<StatementSummary>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // The error also surfaces through iteration; do not let an unobserved summary crash the process.
  summary.catch(() => undefined);
  let started = false;
  return {
    summary,
    async *[Symbol.asyncIterator]() {
      if (started) throw new Error('a ParsedStatement can be iterated only once');
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

/** Reads a whole parse into memory: for tests and small files only. */
export async function collect(parsed: ParsedStatement): Promise<{ lines: StatementLine[]; summary: StatementSummary }> {
  const lines: StatementLine[] = [];
  for await (const line of parsed) lines.push(line);
  return { lines, summary: await parsed.summary };
}
