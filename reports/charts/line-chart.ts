import { FONT, colour, escapeXml, n, niceTicks } from './svg.js';

export interface LineSeries {
  name: string;
  /** One value per x label; null where there is no value (a gap in the line). */
  points: ReadonlyArray<number | null>;
  /** The series' colour (default: the palette by position). */
  color?: string;
}

export interface LineChartInput {
  title: string;
  /** The x axis labels, in order (e.g. the days). */
  labels: readonly string[];
  series: readonly LineSeries[];
  /** Formats a y value for the axis (default: as a percentage of 1). */
  format?: (v: number) => string;
  /** Clamp the y axis to this range (default [0, 1] for rates). */
  clamp?: [number, number];
  width?: number;
  height?: number;
}

const pct = (v: number) => `${n(v * 100)}%`;

/**
 * A line chart as a self-contained SVG string: one line per series over the labels, gaps where a
 * series has no value, a dot on every value (so a lone day still shows), axes with nice ticks and a
 * legend. Pure: the same input gives the same string. All text is escaped.
 */
export function lineChartSvg(input: LineChartInput): string {
  const width = input.width ?? 640;
  const height = input.height ?? 280;
  const format = input.format ?? pct;
  const [lo, hi] = input.clamp ?? [0, 1];
  const values = input.series.flatMap((s) => s.points.filter((p): p is number => p !== null && Number.isFinite(p)));
  const vmin = values.length ? Math.min(...values) : lo;
  const vmax = values.length ? Math.max(...values) : hi;
  let ticks = niceTicks(Math.max(lo, Math.min(vmin, vmax - 0.05)), Math.min(hi, Math.max(vmax, vmin + 0.05)), 4).filter((t) => t >= lo - 1e-9 && t <= hi + 1e-9);
  if (ticks.length < 2) ticks = [lo, hi];
  const y0 = ticks[0]!;
  const y1 = ticks[ticks.length - 1]!;
  const legendRows = Math.ceil(input.series.length / 4);
  const m = { top: 34 + legendRows * 16, right: 16, bottom: 40, left: 52 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const count = input.labels.length;
  const x = (i: number) => m.left + (count <= 1 ? pw / 2 : (i * pw) / (count - 1));
  const y = (v: number) => m.top + ph - ((Math.min(Math.max(v, y0), y1) - y0) / (y1 - y0 || 1)) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(input.title)}" font-family="${FONT}" font-size="11">`);
  out.push(`<title>${escapeXml(input.title)}</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left}" y="18" font-size="14" font-weight="bold" fill="#222">${escapeXml(input.title)}</text>`);
  // Legend
  input.series.forEach((s, i) => {
    const lx = m.left + (i % 4) * 140;
    const ly = 32 + Math.floor(i / 4) * 16;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="12" height="4" fill="${escapeXml(s.color ?? colour(i))}"/><text x="${lx + 16}" y="${ly - 3}" fill="#333">${escapeXml(s.name)}</text>`);
  });
  // Grid and y axis
  for (const t of ticks) {
    out.push(`<line x1="${m.left}" x2="${n(m.left + pw)}" y1="${n(y(t))}" y2="${n(y(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 6}" y="${n(y(t) + 4)}" text-anchor="end" fill="#555">${escapeXml(format(t))}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${n(m.top + ph)}" stroke="#999"/>`);
  out.push(`<line x1="${m.left}" x2="${n(m.left + pw)}" y1="${n(m.top + ph)}" y2="${n(m.top + ph)}" stroke="#999"/>`);
  // X labels: at most ~8, always the first and last
  const every = Math.max(1, Math.ceil(count / 8));
  input.labels.forEach((label, i) => {
    if (i % every !== 0 && i !== count - 1) return;
    if (i !== count - 1 && count - 1 - i < every / 2) return;
    out.push(`<text x="${n(x(i))}" y="${n(m.top + ph + 16)}" text-anchor="middle" fill="#555">${escapeXml(label)}</text>`);
  });
  if (values.length === 0) {
    out.push(`<text x="${n(m.left + pw / 2)}" y="${n(m.top + ph / 2)}" text-anchor="middle" fill="#888">no data</text>`);
  }
  // Series
  input.series.forEach((s, si) => {
    const c = escapeXml(s.color ?? colour(si));
    let path = '';
    let pen = false;
    s.points.forEach((p, i) => {
      if (p === null || !Number.isFinite(p)) {
        pen = false;
        return;
      }
      path += `${pen ? 'L' : 'M'}${n(x(i))} ${n(y(p))} `;
      pen = true;
    });
    if (path) out.push(`<path d="${path.trim()}" fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round"/>`);
    s.points.forEach((p, i) => {
      if (p === null || !Number.isFinite(p)) return;
      out.push(`<circle cx="${n(x(i))}" cy="${n(y(p))}" r="2.5" fill="${c}"><title>${escapeXml(`${s.name} ${input.labels[i] ?? ''}: ${format(p)}`)}</title></circle>`);
    });
  });
  out.push('</svg>');
  return out.join('');
}
