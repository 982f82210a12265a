import { createRequire } from 'node:module';

type ResvgModule = { Resvg: new (svg: string, opts?: Record<string, unknown>) => { render(): { asPng(): Buffer } } };

let loaded: ResvgModule | null | undefined;

function resvg(): ResvgModule | null {
  if (loaded !== undefined) return loaded;
  try {
    // A prebuilt binary shipped as an optional dependency: on a platform without one, charts stay SVG.
    loaded = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
  } catch {
    loaded = null;
  }
  return loaded;
}

/** Whether PNG rendering is available here. */
export function canRenderPng(): boolean {
  return resvg() !== null;
}

/**
 * Renders a chart's SVG to PNG (twice the SVG's size, for sharp text on high-density screens) with the
 * system's fonts; null where the renderer is not available. Many mail clients show no inline SVG,
 * so the mail carries these PNGs; the HTML page inlines the SVG itself.
 */
export function svgToPng(svg: string, opts: { zoom?: number } = {}): Buffer | null {
  const mod = resvg();
  if (!mod) return null;
  const r = new mod.Resvg(svg, {
    fitTo: { mode: 'zoom', value: opts.zoom ?? 2 },
    background: '#ffffff',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return Buffer.from(r.render().asPng());
}
