import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StatementFormatError } from '../../core/errors.js';
import { textLineBatches, textLines } from './text-lines.js';

/** What readline (crlfDelay: Infinity) reads from the same text: the reference the splitter keeps to. */
async function readlineLines(text: string): Promise<string[]> {
  const out: string[] = [];
  for await (const l of createInterface({ input: Readable.from([text]), crlfDelay: Infinity })) out.push(l);
  return out;
}

/** The text cut into chunks of `size` characters, as a decoded stream delivers it. */
const chunked = (text: string, size: number): Readable => {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return Readable.from(parts, { objectMode: true });
};

async function split(text: string, size: number): Promise<{ texts: string[]; numbers: number[]; batches: number }> {
  const texts: string[] = [];
  const numbers: number[] = [];
  let batches = 0;
  for await (const batch of textLineBatches(chunked(text, size), 'f.csv', 'UTF-8')) {
    batches += 1;
    for (const l of batch) {
      texts.push(l.text);
      numbers.push(l.line);
    }
  }
  return { texts, numbers, batches };
}

describe('textLineBatches', () => {
  const cases: Record<string, string> = {
    'LF': 'a,b\nc,d\ne,f\n',
    'CRLF': 'a,b\r\nc,d\r\ne,f\r\n',
    'no final line break': 'a\r\nb\r\nlast',
    'lone CR line ends': 'a\rb\rc',
    'CR then CRLF': 'a\r\r\nb\r\n',
    'mixed, with empty lines': 'a\n\nb\r\n\r\nc\rd\n',
    'a CR at the very end': 'a\nb\r',
    'empty lines only': '\n\n\r\n',
    'one line, no break': 'only',
  };
  for (const [name, text] of Object.entries(cases)) {
    it(`splits ${name} as readline does, whatever the chunk size`, async () => {
      const expected = await readlineLines(text);
      for (const size of [1, 2, 3, 5, 64]) {
        const got = await split(text, size);
        expect(got.texts, `chunks of ${size}`).toEqual(expected);
        expect(got.numbers).toEqual(expected.map((_, i) => i + 1));
      }
    });
  }

  it('gives a batch per chunk, not a step per line', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `\`${i},\`x`).join('\r\n') + '\r\n';
    const got = await split(text, 4096);
    expect(got.texts).toHaveLength(1000);
    expect(got.texts[999]).toBe('`999,`x');
    expect(got.batches).toBeLessThanOrEqual(Math.ceil(text.length / 4096));
  });

  it('drops a BOM on line 1 only', async () => {
    const got = await split('\uFEFFa\n\uFEFFb\n', 1);
    expect(got.texts).toEqual(['a', '\uFEFFb']);
  });

  it('reports an undecodable byte (U+FFFD) with its line', async () => {
    const err = await split('ok\nstill ok\nbad \uFFFD here\n', 4).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StatementFormatError);
    expect((err as StatementFormatError).message).toContain('f.csv');
    expect((err as StatementFormatError).message).toMatch(/line 3\b/);
  });

  it('textLines gives the same lines one at a time', async () => {
    const lines: string[] = [];
    for await (const l of textLines(chunked('x\r\ny\rz', 2), 'f.csv', 'UTF-8')) lines.push(`${l.line}:${l.text}`);
    expect(lines).toEqual(['1:x', '2:y', '3:z']);
  });
});
