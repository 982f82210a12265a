/** Text for SVG/XML/HTML: every character that could open markup or end an attribute is escaped. */
export function escapeXml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    // Control characters are not allowed in XML 1.0 (and have no business in a chart label).
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '');
}

/** Font stack of every chart: DejaVu Sans is what the PNG renderer finds on the machines here. */
export const FONT = "DejaVu Sans, Arial, Helvetica, sans-serif";

/** A colour per series, stable by position (readable on white, distinguishable for common colour blindness). */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** A number for an SVG attribute: rounded to 0.01, no exponent. */
export function n(v: number): string {
  return (Math.round(v * 100) / 100).toString();
}

/** "Nice" axis ticks covering [min, max]: 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    if (min === 0) return [0, 1];
    const pad = Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / target;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return ticks;
}
