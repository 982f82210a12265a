import { removeAbandonedTemps, tempPathFor } from '../../core/atomic-files.js';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Sql } from '../../db/database.js';
import { dayDigest, type DayDigest, type RunDigest } from './digest.js';
import { escapeHtml, renderReportHtml, type RerunNote } from './render.js';

export { dayDigest, type DayDigest, type RunDigest } from './digest.js';
export { escapeHtml, renderReportHtml, renderReportText } from './render.js';

/** What each current run changed against its previous version (runs that are reruns). */
export function rerunNotes(d: DayDigest): RerunNote[] {
  return d.runs
    .filter((r) => r.version > 1 && r.changes)
    .map((r) => ({ provider: r.provider, account: r.account, fromVersion: r.version - 1, toVersion: r.version, new: r.changes!.new, gone: r.changes!.gone, changed: r.changes!.changed, items: r.changes!.items }));
}

/**
 * The report as one self-contained HTML page: inline styles, the charts as inline SVG, no script and
 * no external asset (a Content-Security-Policy that allows none makes sure of it). Every text from a
 * provider, the ledger or a person is escaped; personal data is masked as in the mail.
 */
export function renderDayPage(d: DayDigest, opts: { scope: 'day' | 'provider'; title?: string }): string {
  const title = opts.title ?? `Reconciliation ${d.date}${opts.scope === 'provider' && d.runs[0] ? ` — ${d.runs[0].provider}` : ''}`;
  const link = (r: RunDigest, file: string) => {
    const href = opts.scope === 'day' ? `${encodeURIComponent(r.provider)}/${encodeURIComponent(file)}` : encodeURIComponent(file);
    return { href, text: opts.scope === 'day' ? `${r.provider}/${file}` : file };
  };
  const body = renderReportHtml(d, { chart: (c) => c.svg, link, reruns: rerunNotes(d) });
  const up = opts.scope === 'provider' ? `<p style="font-family:Arial,Helvetica,sans-serif;font-size:12px"><a href="../report.html">All providers of ${escapeHtml(d.date)}</a></p>` : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="walletrecon">',
    `<title>${escapeHtml(title)}</title>`,
    '</head>',
    '<body style="margin:16px">',
    up,
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

async function writeAtomic(path: string, text: string): Promise<void> {
  await removeAbandonedTemps(dirname(path));
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, text, 'utf8');
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface DayReportPages {
  /** `<reportsDir>/<date>/report.html` (every provider of the day). */
  day: string;
  /** `<reportsDir>/<date>/<provider>/report.html`, next to the provider's workbook. */
  providers: Record<string, string>;
}

/**
 * Writes the day's one-page HTML reports: `<reportsDir>/<date>/report.html` for all providers
 * reconciled that day and, next to each provider's workbook, `<reportsDir>/<date>/<provider>/report.html`
 * for that provider (the `providers` option limits which provider pages are rewritten; the day page
 * always covers every provider of the day). Each file is replaced atomically.
 */
export async function writeDayReportHtml(db: Sql, opts: { date: string; providers?: readonly string[]; reportsDir: string; chartDays?: number }): Promise<DayReportPages> {
  const digest = await dayDigest(db, { date: opts.date, reportsDir: opts.reportsDir, ...(opts.chartDays ? { chartDays: opts.chartDays } : {}) });
  const pages: DayReportPages = { day: join(digest.reportsDir, opts.date, 'report.html'), providers: {} };
  const providers = [...new Set(digest.runs.map((r) => r.provider))].filter((p) => !opts.providers || opts.providers.includes(p));
  for (const provider of providers) {
    const own = await dayDigest(db, { date: opts.date, providers: [provider], reportsDir: opts.reportsDir, ...(opts.chartDays ? { chartDays: opts.chartDays } : {}) });
    for (const r of own.runs) r.files = r.files.filter((f) => f !== 'report.html');
    const dir = join(digest.reportsDir, opts.date, provider);
    await mkdir(dir, { recursive: true });
    const path = join(dir, 'report.html');
    await writeAtomic(path, renderDayPage(own, { scope: 'provider' }));
    pages.providers[provider] = path;
  }
  for (const r of digest.runs) if (pages.providers[r.provider] && !r.files.includes('report.html')) r.files.push('report.html');
  await mkdir(join(digest.reportsDir, opts.date), { recursive: true });
  await writeAtomic(pages.day, renderDayPage(digest, { scope: 'day' }));
  return pages;
}
