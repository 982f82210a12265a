import type { RunChanges } from '../../reconcile/daily.js';
import { DISCREPANCY_KINDS } from '../../reconcile/match.js';
import type { Chart } from '../charts/index.js';
import { escapeXml } from '../charts/svg.js';
import { PersonalData } from '../mail/mask.js';
import type { DayDigest, RunDigest } from './digest.js';

/** HTML text: escapes & < > " ' (attribute- and element-safe). Every provider or ledger text goes through it. */
export const escapeHtml = escapeXml;

/** A run that replaced an earlier version of the same day, and what changed between the two. */
export interface RerunNote {
  provider: string;
  account: string;
  fromVersion: number;
  toVersion: number;
  new: number;
  gone: number;
  changed: number;
  items: RunChanges['items'];
  /** Figures of the replaced version, when known. */
  before?: { matched: number; discrepancies: number };
  after?: { matched: number; discrepancies: number };
}

export interface Notice {
  kind: 'correction' | 'update';
  /** One line that says what this is (e.g. "Correction: alipay was reconciled again"). */
  headline: string;
  reruns: RerunNote[];
}

export interface RenderOptions {
  /** How a chart appears: an `<img src="cid:…">` in the mail, the inline SVG in the page. */
  chart: (chart: Chart) => string;
  /** A report file of a run as a link (href, already safe to use) or as plain text (a path). */
  link: (run: RunDigest, file: string) => { href: string | null; text: string };
  /** A correction or update banner at the top. */
  notice?: Notice;
  /** Reruns to mention per run (the page: what each current run changed against its previous version). */
  reruns?: RerunNote[];
}

export const pct = (rate: number | null): string => (rate === null ? 'n/a' : `${(rate * 100).toFixed(1)}%`);

const S = {
  body: 'font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222;max-width:780px',
  table: 'border-collapse:collapse;margin:6px 0 14px 0;font-size:13px',
  th: 'border:1px solid #ccc;background:#f3f4f6;padding:4px 8px;text-align:left',
  td: 'border:1px solid #ddd;padding:4px 8px;text-align:left',
  num: 'border:1px solid #ddd;padding:4px 8px;text-align:right;font-variant-numeric:tabular-nums',
  h1: 'font-size:22px;margin:0 0 4px 0',
  h2: 'font-size:17px;margin:22px 0 6px 0;border-bottom:1px solid #ddd;padding-bottom:3px',
  h3: 'font-size:14px;margin:12px 0 4px 0',
  muted: 'color:#666;font-size:12px',
  notice: 'border:2px solid #d97706;background:#fff7ed;padding:8px 12px;margin:10px 0',
  bad: 'color:#b91c1c;font-weight:bold',
};

const e = escapeHtml;
const runLabel = (r: { provider: string; account: string }) => (r.account ? `${r.provider} (${r.account})` : r.provider);
const runKey = (r: { provider: string; account: string }) => `${r.provider}:${r.account}`;

function table(head: string[], rows: string[][]): string {
  return `<table style="${S.table}"><thead><tr>${head.map((h) => `<th style="${S.th}">${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A cell; `field` names the figure for machines (data-field="provider:account:field"). */
function td(text: string | number, opts: { num?: boolean; field?: string; style?: string } = {}): string {
  const field = opts.field ? ` data-field="${e(opts.field)}"` : '';
  return `<td style="${opts.style ?? (opts.num ? S.num : S.td)}"${field}>${e(text)}</td>`;
}

function noticeHtml(n: Notice): string {
  const parts = [`<div style="${S.notice}" data-notice="${e(n.kind)}"><strong>${e(n.headline)}</strong>`];
  for (const r of n.reruns) parts.push(rerunHtml(r));
  parts.push('</div>');
  return parts.join('');
}

function rerunHtml(r: RerunNote): string {
  const ids = new PersonalData();
  const figures =
    r.before && r.after
      ? ` Matched ${r.before.matched} → ${r.after.matched}; discrepancies ${r.before.discrepancies} → ${r.after.discrepancies}.`
      : '';
  const head = `<p style="margin:6px 0">${e(runLabel(r))}: version ${r.fromVersion} replaced by version ${r.toVersion}: ${r.new} new, ${r.gone} gone, ${r.changed} changed discrepancies.${e(figures)}</p>`;
  if (r.items.length === 0) return head;
  const rows = r.items.slice(0, 20).map((i) => [td(i.change), td(i.kind), td(i.type ?? ''), td(ids.maskId(i.provider_txn_id)), td(ids.maskId(i.order_id)), td(ids.maskId(i.ledger_id))]);
  const more = r.items.length > 20 ? `<p style="${S.muted}">… and ${r.items.length - 20} more</p>` : '';
  return head + table(['change', 'kind', 'type', 'provider txn id', 'order id', 'ledger id'], rows) + more;
}

/** The report's content as an HTML fragment with inline styles (mail clients keep no `<style>` reliably). */
export function renderReportHtml(d: DayDigest, o: RenderOptions): string {
  const out: string[] = [`<div style="${S.body}">`];
  out.push(`<h1 style="${S.h1}">Reconciliation ${e(d.date)}</h1>`);
  out.push(`<p style="${S.muted}">${d.runs.length} run(s) of ${new Set(d.runs.map((r) => r.provider)).size} provider(s); generated ${e(d.generatedAt)}.</p>`);
  if (o.notice) out.push(noticeHtml(o.notice));
  if (d.runs.length === 0) out.push('<p>No provider has been reconciled for this day yet.</p>');
  else {
    out.push(`<h2 style="${S.h2}">Overview</h2>`);
    out.push(
      table(
        ['provider', 'version', 'statement lines', 'ledger rows', 'matched', 'match rate', 'discrepancies', 'pending', 'cleared'],
        d.runs.map((r) => {
          const k = runKey(r);
          return [
            td(runLabel(r), { field: `${k}:provider` }),
            td(r.version, { num: true, field: `${k}:version` }),
            td(r.summary.statement_lines, { num: true, field: `${k}:statement_lines` }),
            td(r.summary.ledger_rows, { num: true, field: `${k}:ledger_rows` }),
            td(r.summary.matched, { num: true, field: `${k}:matched` }),
            td(pct(r.matchRate), { num: true, field: `${k}:match_rate` }),
            td(r.discrepancyTotal, { num: true, field: `${k}:discrepancies`, ...(r.discrepancyTotal > 0 ? { style: `${S.num};${S.bad}` } : {}) }),
            td(r.summary.pending ?? 0, { num: true, field: `${k}:pending` }),
            td(r.summary.cleared ?? 0, { num: true, field: `${k}:cleared` }),
          ];
        }),
      ),
    );
  }
  if (d.charts.charts.length > 0) {
    out.push(`<h2 style="${S.h2}">Charts</h2>`);
    for (const c of d.charts.charts) out.push(`<div style="margin:8px 0" data-chart="${e(c.id)}">${o.chart(c)}</div>`);
  }
  for (const r of d.runs) {
    const k = runKey(r);
    out.push(`<h2 style="${S.h2}" data-run="${e(k)}">${e(runLabel(r))}</h2>`);
    out.push(`<p style="${S.muted}">Run ${e(r.runId)}, version ${r.version}${r.finishedAt ? `, finished ${e(r.finishedAt)}` : ''}.</p>`);
    const rerun = o.reruns?.find((x) => x.provider === r.provider && x.account === r.account);
    if (rerun) out.push(rerunHtml(rerun));
    out.push(`<h3 style="${S.h3}">Discrepancies by kind</h3>`);
    out.push(table(['kind', 'count'], DISCREPANCY_KINDS.map((kind) => [td(kind), td(r.summary.discrepancies[kind] ?? 0, { num: true, field: `${k}:kind:${kind}` })])));
    out.push(`<h3 style="${S.h3}">Totals</h3>`);
    const totals = Object.entries(r.summary.totals);
    out.push(
      totals.length === 0
        ? '<p>No amounts.</p>'
        : table(
            ['currency', 'statement gross', 'statement fee', 'statement net', 'ledger amount'],
            totals.map(([ccy, t]) => [
              td(ccy),
              td(t.statement_gross, { num: true, field: `${k}:${ccy}:statement_gross` }),
              td(t.statement_fee, { num: true, field: `${k}:${ccy}:statement_fee` }),
              td(t.statement_net, { num: true, field: `${k}:${ccy}:statement_net` }),
              td(t.ledger_amount, { num: true, field: `${k}:${ccy}:ledger_amount` }),
            ]),
          ),
    );
    out.push(`<h3 style="${S.h3}">Largest discrepancies${r.discrepancyTotal > r.top.length ? ` (${r.top.length} of ${r.discrepancyTotal})` : ''}</h3>`);
    out.push(
      r.top.length === 0
        ? '<p>None.</p>'
        : table(
            ['kind', 'type', 'provider txn id', 'order id', 'ledger id', 'currency', 'statement', 'ledger', 'difference', 'payer', 'status', 'note'],
            r.top.map((x) => [
              td(x.kind), td(x.type), td(x.provider_txn_id), td(x.order_id), td(x.ledger_id), td(x.currency),
              td(x.statement_amount, { num: true }), td(x.ledger_amount, { num: true }), td(x.difference, { num: true }),
              td(x.payer), td(x.status), td(x.note),
            ]),
          ),
    );
    const links = r.files.map((f) => {
      const l = o.link(r, f);
      return l.href ? `<a href="${e(l.href)}">${e(l.text)}</a>` : `<code>${e(l.text)}</code>`;
    });
    out.push(`<p style="${S.muted}">Reports: ${links.length ? links.join(' · ') : e(`not written yet (${r.reportDir})`)}</p>`);
  }
  out.push(`<p style="${S.muted};margin-top:24px">Payer names, e-mail addresses and payer ids are masked. Match rate = matched ÷ ledger rows in scope, as in the workbook. Fees: positive when charged, negative when returned.</p>`);
  out.push('</div>');
  return out.join('\n');
}

/** The same content as plain text (the mail's text part). */
export function renderReportText(d: DayDigest, o: Pick<RenderOptions, 'link' | 'notice'>): string {
  const ids = new PersonalData();
  const lines: string[] = [`Reconciliation ${d.date}`, ''];
  if (o.notice) {
    lines.push(o.notice.headline);
    for (const r of o.notice.reruns) {
      lines.push(`  ${runLabel(r)}: version ${r.fromVersion} -> ${r.toVersion}: ${r.new} new, ${r.gone} gone, ${r.changed} changed`);
      for (const i of r.items.slice(0, 20)) lines.push(`    ${i.change} ${i.kind} ${i.type ?? ''} ${ids.maskId(i.provider_txn_id)} ${ids.maskId(i.order_id)} ${ids.maskId(i.ledger_id)}`.trimEnd());
    }
    lines.push('');
  }
  if (d.runs.length === 0) lines.push('No provider has been reconciled for this day yet.');
  for (const r of d.runs) {
    lines.push(`${runLabel(r)} (version ${r.version})`);
    lines.push(`  statement lines ${r.summary.statement_lines}, ledger rows ${r.summary.ledger_rows}, matched ${r.summary.matched}, match rate ${pct(r.matchRate)}`);
    lines.push(`  discrepancies ${r.discrepancyTotal}: ${DISCREPANCY_KINDS.filter((k) => (r.summary.discrepancies[k] ?? 0) > 0).map((k) => `${k} ${r.summary.discrepancies[k]}`).join(', ') || 'none'}`);
    lines.push(`  pending ${r.summary.pending ?? 0}, cleared ${r.summary.cleared ?? 0}`);
    for (const [ccy, t] of Object.entries(r.summary.totals)) lines.push(`  ${ccy}: gross ${t.statement_gross}, fee ${t.statement_fee}, net ${t.statement_net}, ledger ${t.ledger_amount}`);
    for (const x of r.top) lines.push(`  - ${x.kind} ${x.type} ${x.provider_txn_id || x.order_id || x.ledger_id} ${x.currency} statement ${x.statement_amount || '-'} ledger ${x.ledger_amount || '-'}${x.payer ? ` payer ${x.payer}` : ''}${x.note ? ` note: ${x.note}` : ''}`);
    if (r.files.length) lines.push(`  reports: ${r.files.map((f) => o.link(r, f).text).join(', ')}`);
    lines.push('');
  }
  lines.push('Payer names, e-mail addresses and payer ids are masked. Charts are in the HTML part.');
  return lines.join('\n');
}
