import { FONT, colour, escapeXml, n, niceTicks } from './svg.js';

export interface Bar {
  label: string;
  value: number;
  /** What the bar's end shows (default: the value formatted). */
  text?: string;
  /** The bar's colour (default: the palette by position). */
  color?: string;
}

export interface BarChartInput {
  title: string;
  bars: readonly Bar[];
  format?: (v: number) => string;
  width?: number;
}

/**
 * A horizontal bar chart as a self-contained SVG string: one bar per label from a zero baseline
 * (negative values to the left), the value at the bar's end. Pure; all text escaped.
 */
export function barChartSvg(input: BarChartInput): string {
  const width = input.width ?? 640;
  const format = input.format ?? ((v: number) => v.toString());
  const rowH = 26;
  const m = { top: 30, right: 90, bottom: 24, left: 120 };
  const height = m.top + m.bottom + Math.max(1, input.bars.length) * rowH;
  const values = input.bars.map((b) => b.value).filter(Number.isFinite);
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values), 4);
  const lo = ticks[0]!;
  const hi = ticks[ticks.length - 1]!;
  const pw = width - m.left - m.right;
  const x = (v: number) => m.left + ((v - lo) / (hi - lo || 1)) * pw;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(input.title)}" font-family="${FONT}" font-size="11">`);
  out.push(`<title>${escapeXml(input.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="8" y="18" font-size="14" font-weight="bold" fill="#222">${escapeXml(input.title)}</text>`);
  const bottom = m.top + input.bars.length * rowH;
  for (const t of ticks) {
    out.push(`<line x1="${n(x(t))}" x2="${n(x(t))}" y1="${m.top}" y2="${bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${n(x(t))}" y="${bottom + 14}" text-anchor="middle" fill="#555">${escapeXml(format(t))}</text>`);
  }
  if (input.bars.length === 0) out.push(`<text x="${n(m.left + pw / 2)}" y="${m.top + 16}" text-anchor="middle" fill="#888">no data</text>`);
  input.bars.forEach((b, i) => {
    const top = m.top + i * rowH + 4;
    const v = Number.isFinite(b.value) ? b.value : 0;
    const x0 = x(Math.min(0, v));
    const w = Math.abs(x(v) - x(0));
    out.push(`<text x="${m.left - 6}" y="${top + 13}" text-anchor="end" fill="#333">${escapeXml(b.label)}</text>`);
    out.push(`<rect x="${n(x0)}" y="${top}" width="${n(Math.max(w, 0.5))}" height="${rowH - 8}" fill="${escapeXml(b.color ?? colour(i))}"><title>${escapeXml(`${b.label}: ${b.text ?? format(v)}`)}</title></rect>`);
    out.push(`<text x="${n(Math.max(x(v), x(0)) + 4)}" y="${top + 13}" fill="#333">${escapeXml(b.text ?? format(v))}</text>`);
  });
  out.push(`<line x1="${n(x(0))}" x2="${n(x(0))}" y1="${m.top}" y2="${bottom}" stroke="#999"/>`);
  out.push('</svg>');
  return out.join('');
}
