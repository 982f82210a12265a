import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type { Database, Sql } from '../../db/database.js';
import { registerSecrets, redact, silentLogger, type Logger } from '../../core/logger.js';
import type { RunChanges } from '../../reconcile/daily.js';
import type { RunSummary } from '../../reconcile/run.js';
import { svgToPng, type Chart } from '../charts/index.js';
import { dayDigest, type DayDigest, type RunDigest } from '../html/digest.js';
import { writeDayReportHtml, type DayReportPages } from '../html/day-report.js';
import { escapeHtml, pct, renderReportHtml, renderReportText, type Notice, type RerunNote } from '../html/render.js';

export type MailKind = 'original' | 'correction' | 'update';

export interface MailAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
  /** Content id of an inline image (referenced as `cid:…` in the HTML). */
  cid?: string;
}

export interface MorningMail {
  subject: string;
  html: string;
  text: string;
  attachments: MailAttachment[];
  digest: DayDigest;
}

export interface BuildMorningMailOptions {
  date: string;
  providers?: readonly string[];
  reportsDir: string;
  /** A correction or update banner (sendMorningMail sets it). */
  notice?: Notice;
  /** Where the reports folder is served over HTTP, if anywhere (`REPORTS_BASE_URL`): links instead of paths. */
  reportsBaseUrl?: string;
  chartDays?: number;
}

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function subjectOf(d: DayDigest, notice?: Notice): string {
  const prefix = notice?.kind === 'correction' ? '[Correction] ' : notice?.kind === 'update' ? '[Update] ' : '';
  const providers = [...new Set(d.runs.map((r) => r.provider))];
  const matched = d.runs.reduce((s, r) => s + r.summary.matched, 0);
  const ledgerRows = d.runs.reduce((s, r) => s + r.summary.ledger_rows, 0);
  const discrepancies = d.runs.reduce((s, r) => s + r.discrepancyTotal, 0);
  const rate = ledgerRows > 0 ? pct(Math.min(1, matched / ledgerRows)) : 'n/a';
  return `${prefix}Reconciliation ${d.date}: ${providers.join(', ') || 'no runs'}: ${rate} matched, ${discrepancies} discrepanc${discrepancies === 1 ? 'y' : 'ies'}`;
}

function safeBaseUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString().replace(/\/?$/, '/') : null;
  } catch {
    return null;
  }
}

/**
 * The morning mail of a day: a short HTML summary (per provider: match rate, discrepancies by kind,
 * totals, pending and cleared, the largest discrepancies with personal data masked, where the reports
 * are), the charts as inline PNG images (CID; SVG images where no PNG renderer is available), the same
 * content as text, and each provider's workbook `<reportsDir>/<date>/<provider>/reconciliation.xlsx`
 * attached as it is on disk.
 */
export async function buildMorningMail(db: Sql, opts: BuildMorningMailOptions): Promise<MorningMail> {
  const digest = await dayDigest(db, { date: opts.date, reportsDir: opts.reportsDir, ...(opts.providers ? { providers: opts.providers } : {}), ...(opts.chartDays ? { chartDays: opts.chartDays } : {}) });
  const attachments: MailAttachment[] = [];
  const images = new Map<string, { cid: string; alt: string }>();
  for (const c of digest.charts.charts) {
    const cid = `${c.id}.${opts.date}@walletrecon`;
    const png = svgToPng(c.svg);
    attachments.push(png ? { filename: `${c.id}.png`, content: png, contentType: 'image/png', cid } : { filename: `${c.id}.svg`, content: Buffer.from(c.svg, 'utf8'), contentType: 'image/svg+xml', cid });
    images.set(c.id, { cid, alt: c.title });
  }
  const base = safeBaseUrl(opts.reportsBaseUrl);
  const link = (r: RunDigest, file: string) => ({
    href: base ? new URL(`${encodeURIComponent(opts.date)}/${encodeURIComponent(r.provider)}/${encodeURIComponent(file)}`, base).toString() : null,
    text: join(r.reportDir, file),
  });
  const chart = (c: Chart) => {
    const img = images.get(c.id)!;
    return `<img src="cid:${escapeHtml(img.cid)}" alt="${escapeHtml(img.alt)}" style="max-width:100%;height:auto;display:block" width="640">`;
  };
  const html = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(subjectOf(digest, opts.notice))}</title></head><body>${renderReportHtml(digest, {
    chart,
    link,
    ...(opts.notice ? { notice: opts.notice } : {}),
  })}</body></html>`;
  const text = renderReportText(digest, { link, ...(opts.notice ? { notice: opts.notice } : {}) });
  for (const provider of [...new Set(digest.runs.map((r) => r.provider))]) {
    const path = join(digest.reportsDir, opts.date, provider, 'reconciliation.xlsx');
    if (existsSync(path)) attachments.push({ filename: `reconciliation-${opts.date}-${provider}.xlsx`, content: await readFile(path), contentType: XLSX });
  }
  return { subject: subjectOf(digest, opts.notice), html, text, attachments, digest };
}

// ------------------------------------------------------------------------------------------ sending

export interface SendMorningMailOptions {
  date: string;
  /** Limit the mail to these providers (default: every provider reconciled that day). */
  providers?: readonly string[];
  /** `SMTP_URL`, e.g. `smtp://127.0.0.1:2525` or `smtps://user:password@host:465`. */
  smtpUrl: string;
  from: string;
  /** The team's recipients (`REPORT_EMAIL_TO`): they get every provider of the mail. */
  to: string | readonly string[];
  /** Recipients of one provider only (`REPORT_EMAIL_TO_<PROVIDER>`). */
  toByProvider?: Readonly<Record<string, string | readonly string[]>>;
  reportsDir: string;
  reportsBaseUrl?: string;
  log?: Logger;
  chartDays?: number;
}

export interface SentMail {
  status: 'sent' | 'already-sent' | 'in-progress' | 'no-runs';
  kind?: MailKind;
  recipients: string[];
  providers: string[];
  runs: MailRun[];
  subject?: string;
  messageId?: string;
}

export interface MailRun {
  provider: string;
  account: string;
  run_id: string;
  version: number;
}

/** Recipient lists as written in the environment: comma- or semicolon-separated addresses. */
export function parseRecipients(value: string | readonly string[] | undefined): string[] {
  const list = typeof value === 'string' ? value.split(/[,;]/) : [...(value ?? [])];
  const out: string[] = [];
  for (const raw of list) {
    const a = raw.trim();
    if (a === '') continue;
    if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(a) && !/^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(a)) throw new Error(`not an e-mail address in the recipients: "${a}"`);
    if (!out.some((o) => o.toLowerCase() === a.toLowerCase())) out.push(a);
  }
  return out;
}

const bareAddress = (a: string) => (/<([^>]+)>/.exec(a)?.[1] ?? a).trim().toLowerCase();
const recipientKey = (recipients: readonly string[]) => [...new Set(recipients.map(bareAddress))].sort().join(',');

interface Group {
  providers: string[];
  recipients: string[];
}

/** Who gets which providers: the team every provider, each provider's own list that provider; one message per provider set. */
export function mailGroups(providers: readonly string[], to: readonly string[], toByProvider: Readonly<Record<string, readonly string[]>>): Group[] {
  const groups: Group[] = [];
  const add = (ps: string[], rs: readonly string[]) => {
    if (ps.length === 0 || rs.length === 0) return;
    const key = ps.join(',');
    const g = groups.find((x) => x.providers.join(',') === key);
    if (g) {
      for (const r of rs) if (!g.recipients.some((o) => bareAddress(o) === bareAddress(r))) g.recipients.push(r);
    } else groups.push({ providers: ps, recipients: [...rs] });
  };
  const sorted = [...new Set(providers)].sort();
  add(sorted, to);
  for (const p of sorted) add([p], toByProvider[p] ?? []);
  return groups;
}

async function currentRuns(db: Sql, date: string, providers: readonly string[] | undefined): Promise<MailRun[]> {
  return db.query<MailRun>(
    `SELECT provider, coalesce(account, '') AS account, id::text AS run_id, version FROM recon_runs
      WHERE kind = 'daily' AND status = 'completed' AND summary IS NOT NULL AND bill_date = $1::date
        AND ($2::text[] IS NULL OR provider = ANY($2::text[]))
      ORDER BY provider, coalesce(account, ''), id`,
    [date, providers ? [...providers] : null],
  );
}

interface LoggedMail {
  id: string;
  runs: MailRun[];
  message_id: string | null;
  sent_at: Date | null;
}

const runKeyOf = (runs: readonly MailRun[]) => runs.map((r) => r.run_id).sort((a, b) => Number(a) - Number(b)).join(',');
const pa = (r: { provider: string; account: string }) => `${r.provider}\u0000${r.account}`;

/** What changed from the version a mail reported to the current one: the reruns' recorded changes, in order. */
async function rerunSince(db: Sql, date: string, mailed: MailRun, current: MailRun): Promise<RerunNote> {
  const runs = await db.query<{ version: number; changes: RunChanges | string | null; summary: RunSummary | string | null }>(
    `SELECT version, changes, summary FROM recon_runs
      WHERE kind = 'daily' AND provider = $1 AND coalesce(account, '') = $2 AND bill_date = $3::date AND version > $4 AND version <= $5
      ORDER BY version`,
    [current.provider, current.account, date, mailed.version, current.version],
  );
  const [before] = await db.query<{ summary: RunSummary | string | null }>(`SELECT summary FROM recon_runs WHERE id = $1`, [mailed.run_id]);
  const parse = <T>(v: T | string | null | undefined): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : (v ?? null));
  const note: RerunNote = { provider: current.provider, account: current.account, fromVersion: mailed.version, toVersion: current.version, new: 0, gone: 0, changed: 0, items: [] };
  for (const r of runs) {
    const c = parse(r.changes);
    if (!c) continue;
    note.new += c.new;
    note.gone += c.gone;
    note.changed += c.changed;
    note.items.push(...c.items);
  }
  const figures = (s: RunSummary | null) => (s ? { matched: s.matched, discrepancies: Object.values(s.discrepancies).reduce((a, b) => a + b, 0) } : undefined);
  const b = figures(parse(before?.summary));
  const a = figures(parse(runs[runs.length - 1]?.summary));
  if (b && a) {
    note.before = b;
    note.after = a;
  }
  return note;
}

/** SMTP URL credentials are secrets: registered so that no log or error prints them. */
function registerSmtpSecrets(smtpUrl: string): void {
  try {
    const u = new URL(smtpUrl);
    registerSecrets([decodeURIComponent(u.password), u.password, smtpUrl].filter((s) => s.length > 0));
  } catch {
    registerSecrets([smtpUrl]);
  }
}

/**
 * Sends the day's morning mail(s) over SMTP, once: one message per set of providers and recipients
 * (the team's `to` gets every provider, `toByProvider` recipients their provider; lists for the same
 * provider set are merged into one message). Each message is recorded in `mail_log` with the runs it
 * reported; sending again for the same runs does nothing. After a day is reconciled again (a newer run
 * version), the next call sends a correction, its subject marked `[Correction]`, that says what changed;
 * a provider reconciled after the first mail gives an `[Update]` that adds it.
 */
export async function sendMorningMail(db: Sql, opts: SendMorningMailOptions): Promise<SentMail[]> {
  const log = opts.log ?? silentLogger;
  registerSmtpSecrets(opts.smtpUrl);
  const to = parseRecipients(opts.to);
  const toByProvider = Object.fromEntries(Object.entries(opts.toByProvider ?? {}).map(([p, v]) => [p, parseRecipients(v)]));
  const all = await currentRuns(db, opts.date, opts.providers);
  const groups = mailGroups(all.map((r) => r.provider), to, toByProvider);
  if (all.length === 0) return [{ status: 'no-runs', recipients: to, providers: [...(opts.providers ?? [])], runs: [] }];
  const results: SentMail[] = [];
  let transport: ReturnType<typeof nodemailer.createTransport> | null = null;
  try {
    for (const g of groups) {
      const runs = all.filter((r) => g.providers.includes(r.provider));
      const rKey = recipientKey(g.recipients);
      const base = { recipients: g.recipients, providers: g.providers, runs };
      const earlier = await db.query<LoggedMail>(
        `SELECT id::text AS id, runs, message_id, sent_at FROM mail_log WHERE bill_date = $1::date AND recipient_key = $2 AND status = 'sent' ORDER BY id`,
        [opts.date, rKey],
      );
      const mailedIds = new Set(earlier.flatMap((m) => (typeof m.runs === 'string' ? (JSON.parse(m.runs) as MailRun[]) : m.runs).map((r) => String(r.run_id))));
      if (runs.every((r) => mailedIds.has(r.run_id))) {
        results.push({ ...base, status: 'already-sent' });
        continue;
      }
      // The latest mailed version of each (provider, account), and the mail that carried it.
      const mailedBy = new Map<string, { run: MailRun; mail: LoggedMail }>();
      for (const m of earlier) {
        for (const r of typeof m.runs === 'string' ? (JSON.parse(m.runs) as MailRun[]) : m.runs) {
          const prev = mailedBy.get(pa(r));
          if (!prev || prev.run.version < r.version) mailedBy.set(pa(r), { run: r, mail: m });
        }
      }
      const corrected = runs.filter((r) => !mailedIds.has(r.run_id) && mailedBy.has(pa(r)) && mailedBy.get(pa(r))!.run.version < r.version);
      const added = runs.filter((r) => !mailedBy.has(pa(r)));
      const kind: MailKind = corrected.length > 0 ? 'correction' : mailedBy.size > 0 && runs.some((r) => mailedIds.has(r.run_id)) ? 'update' : 'original';
      let notice: Notice | undefined;
      let replyTo: string | null = null;
      if (kind === 'correction') {
        const reruns = await Promise.all(corrected.map((r) => rerunSince(db, opts.date, mailedBy.get(pa(r))!.run, r)));
        const first = mailedBy.get(pa(corrected[0]!))!.mail;
        replyTo = first.message_id;
        const when = first.sent_at ? ` sent ${new Date(first.sent_at).toISOString()}` : '';
        notice = {
          kind,
          headline: `Correction: ${corrected.map((r) => (r.account ? `${r.provider} (${r.account})` : r.provider)).join(', ')} ${corrected.length === 1 ? 'was' : 'were'} reconciled again for ${opts.date}; this mail replaces the one${when}.${added.length ? ` Newly reconciled: ${[...new Set(added.map((r) => r.provider))].join(', ')}.` : ''}`,
          reruns,
        };
      } else if (kind === 'update') {
        notice = { kind, headline: `Update: ${[...new Set(added.map((r) => r.provider))].join(', ')} reconciled for ${opts.date} since the earlier mail; the other providers are as mailed before.`, reruns: [] };
      }
      const mail = await buildMorningMail(db, {
        date: opts.date,
        providers: g.providers,
        reportsDir: opts.reportsDir,
        ...(notice ? { notice } : {}),
        ...(opts.reportsBaseUrl ? { reportsBaseUrl: opts.reportsBaseUrl } : {}),
        ...(opts.chartDays ? { chartDays: opts.chartDays } : {}),
      });
      // The digest read the runs again: report exactly those.
      const reported: MailRun[] = mail.digest.runs.map((r) => ({ provider: r.provider, account: r.account, run_id: r.runId, version: r.version }));
      const claim = await claimMail(db, { date: opts.date, kind, providers: g.providers, recipients: g.recipients, recipientKey: rKey, runs: reported, subject: mail.subject });
      if (!claim.id) {
        results.push({ ...base, runs: reported, status: claim.status });
        continue;
      }
      try {
        transport ??= nodemailer.createTransport(opts.smtpUrl);
        const info = await transport.sendMail({
          from: opts.from,
          to: g.recipients,
          subject: mail.subject,
          html: mail.html,
          text: mail.text,
          attachments: mail.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType, ...(a.cid ? { cid: a.cid, contentDisposition: 'inline' as const } : {}) })),
          ...(replyTo ? { inReplyTo: replyTo, references: [replyTo] } : {}),
          headers: { 'X-Walletrecon-Mail': `${kind}; date=${opts.date}; runs=${runKeyOf(reported)}` },
        });
        await db.query(`UPDATE mail_log SET status = 'sent', message_id = $2, sent_at = now() WHERE id = $1`, [claim.id, info.messageId ?? null]);
        log.info('mail.sent', { date: opts.date, kind, providers: g.providers, recipients: g.recipients.length, runs: runKeyOf(reported), messageId: info.messageId });
        results.push({ ...base, runs: reported, status: 'sent', kind, subject: mail.subject, ...(info.messageId ? { messageId: info.messageId } : {}) });
      } catch (err) {
        await db.query(`DELETE FROM mail_log WHERE id = $1 AND status = 'sending'`, [claim.id]);
        const message = redact(err instanceof Error ? err.message : String(err));
        log.error('mail.failed', { date: opts.date, kind, providers: g.providers, error: message });
        throw new Error(`sending the morning mail of ${opts.date} (${g.providers.join(', ')}) failed: ${message}`);
      }
    }
  } finally {
    transport?.close();
  }
  return results;
}

/** A sender's claim on a mail: the row to mark sent, or why there is none (sent or being sent by another). */
async function claimMail(
  db: Sql,
  m: { date: string; kind: MailKind; providers: string[]; recipients: string[]; recipientKey: string; runs: MailRun[]; subject: string },
): Promise<{ id: string | null; status: 'already-sent' | 'in-progress' }> {
  const runKey = runKeyOf(m.runs);
  const [row] = await db.query<{ id: string }>(
    `INSERT INTO mail_log (bill_date, kind, providers, recipients, recipient_key, runs, run_key, subject)
     VALUES ($1::date, $2, $3::text[], $4::text[], $5, $6::jsonb, $7, $8)
     ON CONFLICT (bill_date, recipient_key, run_key) DO NOTHING RETURNING id::text AS id`,
    [m.date, m.kind, m.providers, m.recipients, m.recipientKey, JSON.stringify(m.runs), runKey, m.subject],
  );
  if (row) return { id: row.id, status: 'in-progress' };
  // A claim left by a sender that died mid-way (10 minutes without being marked sent) is taken over.
  const [stale] = await db.query<{ id: string }>(
    `UPDATE mail_log SET created_at = now(), kind = $4, subject = $5
      WHERE bill_date = $1::date AND recipient_key = $2 AND run_key = $3 AND status = 'sending' AND created_at < now() - interval '10 minutes'
      RETURNING id::text AS id`,
    [m.date, m.recipientKey, runKey, m.kind, m.subject],
  );
  if (stale) return { id: stale.id, status: 'in-progress' };
  const [existing] = await db.query<{ status: string }>(`SELECT status FROM mail_log WHERE bill_date = $1::date AND recipient_key = $2 AND run_key = $3`, [m.date, m.recipientKey, runKey]);
  return { id: null, status: existing?.status === 'sent' ? 'already-sent' : 'in-progress' };
}

// ---------------------------------------------------------------------------- the pipeline's notify

export interface MailSettings {
  smtpUrl: string;
  from: string;
  to: string[];
  toByProvider: Record<string, string[]>;
  reportsBaseUrl?: string;
}

/**
 * Mail settings from the environment (CONTRACT.md): `SMTP_URL`, `REPORT_EMAIL_FROM`, `REPORT_EMAIL_TO`
 * (comma-separated, the team) and optional `REPORT_EMAIL_TO_<PROVIDER>` (e.g. `REPORT_EMAIL_TO_WECHATPAY`),
 * `REPORTS_BASE_URL`. Null when no mail is configured (no `SMTP_URL` or no recipient at all).
 */
export function mailSettingsFromEnv(env: NodeJS.ProcessEnv): MailSettings | null {
  const smtpUrl = env.SMTP_URL?.trim();
  if (!smtpUrl) return null;
  registerSmtpSecrets(smtpUrl);
  const to = parseRecipients(env.REPORT_EMAIL_TO ?? '');
  const toByProvider: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(env)) {
    const m = /^REPORT_EMAIL_TO_([A-Z0-9_]+)$/.exec(k);
    if (m && v) toByProvider[m[1]!.toLowerCase()] = parseRecipients(v);
  }
  if (to.length === 0 && Object.values(toByProvider).every((l) => l.length === 0)) return null;
  const from = env.REPORT_EMAIL_FROM?.trim() || 'walletrecon@localhost';
  return { smtpUrl, from, to, toByProvider, ...(env.REPORTS_BASE_URL ? { reportsBaseUrl: env.REPORTS_BASE_URL } : {}) };
}

export interface NotifyResult {
  sent: boolean;
  mails: SentMail[];
  pages: DayReportPages;
}

/**
 * The daily pipeline's notify step for one (provider, date): writes the day's HTML reports
 * (`<reportsDir>/<date>/report.html` and the provider's page next to its workbook), then sends the
 * provider's morning mail if mail is configured (once per run; a rerun gives a correction).
 */
export async function notifyMorningMail(
  deps: { db: Database | Sql; env: NodeJS.ProcessEnv; log: Logger; config: { reportsDir: string } },
  key: { provider: string; date: string },
): Promise<NotifyResult> {
  const pages = await writeDayReportHtml(deps.db, { date: key.date, providers: [key.provider], reportsDir: deps.config.reportsDir });
  const settings = mailSettingsFromEnv(deps.env);
  if (!settings) {
    deps.log.info('notify.skipped', { reason: 'no mail configured (SMTP_URL and REPORT_EMAIL_TO)', provider: key.provider, date: key.date });
    return { sent: false, mails: [], pages };
  }
  const mails = await sendMorningMail(deps.db, {
    date: key.date,
    providers: [key.provider],
    smtpUrl: settings.smtpUrl,
    from: settings.from,
    to: settings.to,
    toByProvider: settings.toByProvider,
    reportsDir: deps.config.reportsDir,
    log: deps.log,
    ...(settings.reportsBaseUrl ? { reportsBaseUrl: settings.reportsBaseUrl } : {}),
  });
  return { sent: mails.some((m) => m.status === 'sent'), mails, pages };
}
