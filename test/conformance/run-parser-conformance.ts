/**
 * The conformance suite every statement parser must pass. A provider's test file calls
 * `runParserConformance({...})` with its own fixtures; the suite checks:
 *  1. every golden fixture parses to its `<name>.expected.json` (set UPDATE_GOLDENS=1 to write them,
 *     then review the diff: a golden is a claim about the provider's format);
 *  2. the file's control totals are present and equal what the lines add up to, and every total that
 *     has a canonical `measure` is recomputed here from the emitted lines, independently of the parser;
 *  3. parsing is deterministic: the same bytes give the same lines and summary;
 *  4. every line keeps `net = gross - fee` exactly, uses a known currency and an instant;
 *  5. every bad fixture is rejected with a StatementFormatError naming its file, line and field;
 *  6. every real sample in `../shared/samples/<provider>/` parses, or is rejected for the stated reason.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StatementFormatError } from '../../core/errors.js';
import { Decimal, isKnownCurrency, ZERO } from '../../core/money/index.js';
import type { ParseOptions, StatementLine, StatementParser, StatementSummary } from '../../parsers/contract.js';
import { collect } from '../../parsers/common/parsed-statement.js';
import { lineToJson, summaryToJson } from '../../parsers/common/serialize.js';

export interface Rejection {
  /** File name inside the fixtures' `bad/` folder or the samples folder. */
  file: string;
  /** Expected `StatementFormatError.code`. */
  code: string;
  /** Expected line number, when the fault is on a line. */
  line?: number;
  /** Expected field name, when the fault is in a field. */
  field?: string;
  /** A fragment the message must contain (e.g. "consumer export"). */
  message?: string;
}

export interface ConformanceOptions {
  parser: StatementParser;
  /** Folder with good fixtures (`*.expected.json` next to each) and a `bad/` subfolder. */
  fixturesDir: string;
  /** Bad fixtures (in `fixturesDir/bad`) and how each must be rejected. */
  rejections: Rejection[];
  /** Folder of real public samples for this provider (`../shared/samples/<provider>`), read in place. */
  samplesDir?: string;
  /** Samples that are not statements of this parser and must be rejected, with the reason. */
  sampleRejections?: Rejection[];
  /** Samples that parse only with these options (e.g. known-inconsistent footers). */
  sampleOptions?: Record<string, ParseOptions>;
  /** File names in the folders that are not inputs (notes, goldens are skipped automatically). */
  ignore?: string[];
}

const GOLDEN_SUFFIX = '.expected.json';

function inputsIn(dir: string, ignore: string[]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.endsWith(GOLDEN_SUFFIX) && !e.name.endsWith('.md') && !ignore.includes(e.name))
    .map((e) => e.name)
    .sort();
}

async function parseAll(parser: StatementParser, path: string, options?: ParseOptions) {
  return collect(parser.parse({ path }, options));
}

function recompute(lines: StatementLine[], measure: NonNullable<StatementSummary['controls'][number]['measure']>, currency: string | null): Decimal {
  let total = ZERO;
  for (const l of lines) {
    if (!measure.types.includes(l.type)) continue;
    if (currency !== null && l.currency !== currency) continue;
    const v = measure.of === 'count' ? new Decimal(1) : l[measure.of];
    total = total.plus(measure.absolute ? v.abs() : v);
  }
  return total;
}

function checkInvariants(lines: StatementLine[], summary: StatementSummary, allowMismatch = false): void {
  expect(summary.lineCount).toBe(lines.length);
  for (const l of lines) {
    expect(l.net.equals(l.gross.minus(l.fee)), `net = gross - fee at line ${l.source.line}`).toBe(true);
    expect(isKnownCurrency(l.currency), `currency ${l.currency}`).toBe(true);
    expect(Number.isNaN(l.occurredAt.getTime())).toBe(false);
    expect(l.provider).toBe(summary.provider);
  }
  for (const c of summary.controls) {
    if (!allowMismatch) expect(new Decimal(c.actual).equals(new Decimal(c.expected)), `control ${c.label}`).toBe(true);
    if (c.measure) {
      expect(recompute(lines, c.measure, c.currency).equals(new Decimal(c.actual)), `recomputed ${c.label}`).toBe(true);
    }
  }
}

export function runParserConformance(opts: ConformanceOptions): void {
  const { parser } = opts;
  const ignore = opts.ignore ?? [];
  const goods = inputsIn(opts.fixturesDir, ignore);
  const badDir = join(opts.fixturesDir, 'bad');

  describe(`${parser.provider} parser conformance`, () => {
    it('has golden fixtures', () => {
      expect(goods.length).toBeGreaterThan(0);
    });

    describe.each(goods)('fixture %s', (name) => {
      const path = join(opts.fixturesDir, name);
      const goldenPath = join(opts.fixturesDir, name + GOLDEN_SUFFIX);

      it('parses to its golden output', async () => {
        const { lines, summary } = await parseAll(parser, path);
        const actual = { summary: summaryToJson(summary), lines: lines.map(lineToJson) };
        if (process.env.UPDATE_GOLDENS === '1') writeFileSync(goldenPath, JSON.stringify(actual, null, 2) + '\n');
        expect(existsSync(goldenPath), `golden ${basename(goldenPath)} exists`).toBe(true);
        expect(actual).toEqual(JSON.parse(readFileSync(goldenPath, 'utf8')));
      });

      it('has control totals that equal its lines, and keeps the line invariants', async () => {
        const { lines, summary } = await parseAll(parser, path);
        expect(summary.controls.length).toBeGreaterThan(0);
        checkInvariants(lines, summary);
      });

      it('is deterministic', async () => {
        const a = await parseAll(parser, path);
        const b = await parseAll(parser, path);
        expect(b.lines.map(lineToJson)).toEqual(a.lines.map(lineToJson));
        expect(summaryToJson(b.summary)).toEqual(summaryToJson(a.summary));
      });
    });

    it('has a fixture for every rejection and a rejection for every bad fixture', () => {
      expect(inputsIn(badDir, ignore).sort()).toEqual(opts.rejections.map((r) => r.file).sort());
    });

    describe.each(opts.rejections)('bad fixture $file', (r) => {
      it(`is rejected with ${r.code}, naming file, line and field`, async () => {
        const err = await parseAll(parser, join(badDir, r.file)).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(StatementFormatError);
        const e = err as StatementFormatError;
        expect(e.code).toBe(r.code);
        expect(e.message).toContain(r.file);
        if (r.line !== undefined) expect(e.line).toBe(r.line);
        if (r.field !== undefined) expect(e.field).toBe(r.field);
        if (r.message !== undefined) expect(e.message).toContain(r.message);
      });
    });

    if (opts.samplesDir) {
      const samplesDir = opts.samplesDir;
      const rejected = new Map((opts.sampleRejections ?? []).map((r) => [r.file, r]));
      const samples = inputsIn(samplesDir, ignore);
      it('finds the shared samples', () => {
        expect(samples.length + rejected.size).toBeGreaterThan(0);
      });
      describe.each(samples.filter((s) => !rejected.has(s)))('real sample %s', (name) => {
        it('parses with its control totals checked', async () => {
          const options = opts.sampleOptions?.[name];
          const { lines, summary } = await parseAll(parser, join(samplesDir, name), options);
          expect(lines.length).toBeGreaterThan(0);
          checkInvariants(lines, summary, options?.acceptControlTotalMismatch === true);
          if (options?.acceptControlTotalMismatch) {
            // Accepted only because a total disagrees: without the option the same file must be refused.
            await expect(parseAll(parser, join(samplesDir, name))).rejects.toBeInstanceOf(StatementFormatError);
          }
        });
      });
      describe.each([...rejected.values()])('real sample $file', (r) => {
        it(`is rejected with ${r.code}`, async () => {
          const err = await parseAll(parser, join(samplesDir, r.file)).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(StatementFormatError);
          expect((err as StatementFormatError).code).toBe(r.code);
          if (r.message !== undefined) expect((err as StatementFormatError).message).toContain(r.message);
        });
      });
    }
  });
}
