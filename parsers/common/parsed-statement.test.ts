import { describe, expect, it } from 'vitest';
import { parsedStream, parsedStreamOfBatches } from './parsed-statement.js';

describe('parsed streams', () => {
  const batchParser = (log: string[]) => parsedStreamOfBatches(async function* () {
    try {
      yield [1, 2];
      yield [];
      yield [3];
      return 'summary';
    } finally {
      log.push('closed');
    }
  });

  it('gives a batch parser its items one by one or in its batches (empty ones left out), then the summary', async () => {
    const items: number[] = [];
    const p1 = batchParser([]);
    for await (const x of p1) items.push(x);
    expect(items).toEqual([1, 2, 3]);
    await expect(p1.summary).resolves.toBe('summary');
    const batches: number[][] = [];
    const p2 = batchParser([]);
    for await (const b of p2.batches()) batches.push([...b]);
    expect(batches).toEqual([[1, 2], [3]]);
    await expect(p2.summary).resolves.toBe('summary');
  });

  it('gives a line-by-line parser its items in batches of one', async () => {
    const p = parsedStream(async function* () {
      yield 'a';
      yield 'b';
      return 2;
    });
    const batches: string[][] = [];
    for await (const b of p.batches()) batches.push([...b]);
    expect(batches).toEqual([['a'], ['b']]);
    await expect(p.summary).resolves.toBe(2);
  });

  it('is read once, and a reader that stops early lets the parser close', async () => {
    const log: string[] = [];
    const p = batchParser(log);
    for await (const x of p) {
      expect(x).toBe(1);
      break;
    }
    expect(log).toEqual(['closed']);
    await expect((async () => {
      for await (const _ of p.batches()) void _;
    })()).rejects.toThrow('only once');
  });

  it('rejects the summary with the parse error', async () => {
    const p = parsedStreamOfBatches(async function* () {
      yield [1];
      throw new Error('bad line 2');
    });
    await expect((async () => {
      for await (const _ of p) void _;
    })()).rejects.toThrow('bad line 2');
    await expect(p.summary).rejects.toThrow('bad line 2');
  });
});
