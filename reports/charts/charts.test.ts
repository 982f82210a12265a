import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { barChartSvg, canRenderPng, feeCharts, lineChartSvg, matchRate, matchRateChart, svgToPng } from './index.js';
import { niceTicks } from './svg.js';

/** Parses the SVG as XML (throws on anything not well-formed) and returns its elements with attributes. */
function xml(svg: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const parser = new SaxesParser();
  const out: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const stack: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  parser.on('opentag', (t) => {
    const el = { name: t.name, attrs: Object.fromEntries(Object.entries(t.attributes).map(([k, v]) => [k, typeof v === 'string' ? v : v.value])), text: '' };
    out.push(el);
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('closetag', () => void stack.pop());
  parser.on('error', (e) => {
    throw e;
  });
  parser.write(svg).close();
  return out;
}

describe('line chart (match rate over days)', () => {
  const labels = ['11-20', '11-21', '11-22', '11-23', '11-24'];
  it('draws one path per series, breaks it where a day has no value and puts a dot on every value', () => {
    const svg = lineChartSvg({ title: 'Match rate', labels, series: [{ name: 'alipay', points: [1, 0.5, null, 0.75, 1] }, { name: 'stripe', points: [null, null, null, null, 0.9] }] });
    const els = xml(svg);
    const paths = els.filter((e) => e.name === 'path');
    expect(paths).toHaveLength(2);
    // alipay: two segments (M … L … M … L …) around the gap
    expect(paths[0]!.attrs.d!.match(/M/g)).toHaveLength(2);
    expect(paths[0]!.attrs.d!.match(/L/g)).toHaveLength(2);
    expect(els.filter((e) => e.name === 'circle')).toHaveLength(5);
    // the legend and the labels are there
    const texts = els.filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts).toEqual(expect.arrayContaining(['Match rate', 'alipay', 'stripe', '11-20', '11-24']));
  });

  it('places values on the y scale: 100% above 50%, both inside the plot', () => {
    const svg = lineChartSvg({ title: 't', labels: ['a', 'b'], series: [{ name: 's', points: [1, 0.5] }] });
    const [hi, lo] = xml(svg).filter((e) => e.name === 'circle').map((c) => Number(c.attrs.cy));
    expect(hi!).toBeLessThan(lo!);
    const ticks = xml(svg).filter((e) => e.name === 'text').map((e) => e.text).filter((t) => t.endsWith('%'));
    expect(parseFloat(ticks[0]!)).toBeLessThanOrEqual(50);
    expect(ticks[ticks.length - 1]).toBe('100%');
  });

  it('is the same for the same data and says so when there is none', () => {
    const input = { title: 't', labels, series: [{ name: 'x', points: [null, null, null, null, null] }] };
    expect(lineChartSvg(input)).toBe(lineChartSvg(input));
    expect(xml(lineChartSvg(input)).some((e) => e.text === 'no data')).toBe(true);
  });

  it('escapes every text (series names, labels, title)', () => {
    const evil = `<script>alert("x")</script>&'`;
    const svg = lineChartSvg({ title: evil, labels: [evil], series: [{ name: evil, points: [0.5] }] });
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;');
    expect(xml(svg).filter((e) => e.name === 'script')).toHaveLength(0);
  });
});

describe('bar chart (fees by provider)', () => {
  it('draws a bar per provider, longer for a larger fee, negative ones left of zero, with the amount as text', () => {
    const svg = barChartSvg({ title: 'Fees', bars: [{ label: 'alipay', value: 10, text: '10.00 CNY' }, { label: 'wechatpay', value: 5 }, { label: 'paypal', value: -2 }] });
    const els = xml(svg);
    const bars = els.filter((e) => e.name === 'rect' && e.attrs.height !== undefined && e.attrs.fill !== '#ffffff');
    expect(bars).toHaveLength(3);
    const [a, w, p] = bars.map((b) => ({ x: Number(b.attrs.x), w: Number(b.attrs.width) }));
    expect(a!.w).toBeCloseTo(2 * w!.w, 1);
    expect(p!.x + p!.w).toBeCloseTo(a!.x, 1); // the negative bar ends where the positive ones start: at zero
    expect(els.map((e) => e.text)).toEqual(expect.arrayContaining(['alipay', '10.00 CNY', '5', '-2']));
  });

  it('escapes labels', () => {
    const svg = barChartSvg({ title: 't', bars: [{ label: '<b>x</b>', value: 1 }] });
    expect(svg).not.toContain('<b>');
    expect(() => xml(svg)).not.toThrow();
  });
});

describe('chart helpers', () => {
  it('nice ticks are round numbers covering the range', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 7.3, 4)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(-3, 10, 4)).toEqual([-5, 0, 5, 10]);
    expect(niceTicks(0, 0)).toEqual([0, 1]);
  });

  it('match rate is matched ÷ ledger rows, capped at 100%, n/a without ledger rows', () => {
    expect(matchRate({ matched: 3, ledger_rows: 4 })).toBe(0.75);
    expect(matchRate({ matched: 5, ledger_rows: 4 })).toBe(1);
    expect(matchRate({ matched: 0, ledger_rows: 0 })).toBeNull();
  });

  it('builds the day charts from their data: one match-rate chart, one fee chart per currency', () => {
    const mr = matchRateChart({ days: ['2026-11-23', '2026-11-24'], series: [{ provider: 'alipay', points: [0.5, 1], matched: [1, 2], ledgerRows: [2, 2] }] });
    expect(mr.id).toBe('match-rate');
    expect(mr.svg).toContain('11-24');
    const fees = feeCharts('2026-11-24', [
      { currency: 'CNY', providers: [{ provider: 'alipay', fee: '1.20' }, { provider: 'wechatpay', fee: '0.60' }] },
      { currency: 'USD', providers: [{ provider: 'stripe', fee: '0.59' }] },
    ]);
    expect(fees.map((f) => f.id)).toEqual(['fees-cny', 'fees-usd']);
    expect(fees[0]!.svg).toContain('1.20 CNY');
  });
});

describe('PNG rendering (for mail clients without SVG)', () => {
  it.runIf(canRenderPng())('renders a chart to a PNG twice its size', () => {
    const svg = lineChartSvg({ title: 'Match rate', labels: ['a', 'b'], series: [{ name: 'alipay', points: [0.9, 1] }] });
    const png = svgToPng(svg)!;
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBe(1280); // IHDR width
    expect(png.readUInt32BE(20)).toBe(560);
  });
});
