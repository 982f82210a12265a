import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLedger } from '../ledger/import.js';
import { parsedStatement } from '../parsers/common/parsed-statement.js';
import type { ProviderId, StatementParser } from '../parsers/contract.js';
import { reconcileDay, type DailyRunResult } from '../reconcile/daily.js';
import { listExceptions, resolveException } from '../reconcile/exceptions.js';
import type { RunSummary } from '../reconcile/run.js';
import { feesByProvider, matchRateHistory } from '../reports/charts/index.js';
import { writeDailyReports } from '../reports/daily-reports.js';
import { writeDayReportHtml } from '../reports/html/day-report.js';
import { maskEmail, maskValue, PersonalData } from '../reports/mail/mask.js';
import { buildMorningMail, mailGroups, mailSettingsFromEnv, notifyMorningMail, parseRecipients, sendMorningMail } from '../reports/mail/morning-mail.js';
import { loadStatement } from '../storage/statements.js';
import { silentLogger } from '../core/logger.js';
import { BACKENDS, type TestDatabase } from './helpers/db.js';
import { jsonParser, tempDir, writeJsonStatement, writeLedger, type JsonLine } from './helpers/json-statement.js';

// Personal data planted in provider data and in a person's note: none of it may reach a mail.
const OPEN_ID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';
const PAYER_NAME = 'Zhang Wei';
const PAYER_EMAIL = 'zhang.wei.payer@example.com';
const NOTE_EMAIL = 'jane.roe@example.net';
const PERSONAL = [OPEN_ID, PAYER_NAME, 'Zhang', PAYER_EMAIL, 'zhang.wei.payer', NOTE_EMAIL, 'jane.roe'];
const EVIL = '<script>alert(1)</script>';

/** The JSON test statement format, plus per-transaction `extra` fields (as real parsers keep provider columns). */
function parserWithExtra(provider: ProviderId, extra: Record<string, Record<string, string>>): StatementParser {
  const inner = jsonParser(provider);
  return {
    ...inner,
    parse(source) {
      const parsed = inner.parse(source);
      return parsedStatement(async function* () {
        for await (const line of parsed) yield { ...line, extra: extra[line.providerTxnId ?? ''] ?? {} };
        return await parsed.summary;
      });
    },
  };
}

interface Received {
  from: string;
  rcpt: string[];
  raw: Buffer;
  mail: ParsedMail;
}

let smtp: SMTPServer;
let smtpUrl = '';
const received: Received[] = [];

beforeAll(async () => {
  const pending: Promise<void>[] = [];
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const p = simpleParser(raw, { keepCidLinks: true }).then((mail) => {
          received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcpt: session.envelope.rcptTo.map((r) => r.address), raw, mail });
        });
        pending.push(p);
        // Answer only once the message is parsed and recorded: the sender's await then means "received".
        p.then(() => callback(), callback);
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

describe('personal data masking', () => {
  it('masks e-mail addresses, names and payer ids, keeping ids of transactions', () => {
    expect(maskEmail('jane.roe@example.net')).toBe('j***@e***.net');
    expect(maskValue('Zhang Wei')).toBe('Z*** W***');
    expect(maskValue('张伟')).toBe('张*');
    expect(maskValue(OPEN_ID)).toBe('oU***6o');
    const p = new PersonalData();
    p.addExtra({ 用户标识: OPEN_ID, customer_name: PAYER_NAME, customer_facing_amount: '10.00', bankType: 'CMB_CREDIT', storeId: 'ST001' });
    expect(p.maskText(`called by ${PAYER_NAME} (${OPEN_ID}), reply to ${NOTE_EMAIL}`)).toBe('called by Z*** W*** (oU***6o), reply to j***@e***.net');
    expect(p.maskText('CMB_CREDIT ST001 10.00')).toBe('CMB_CREDIT ST001 10.00');
    expect(p.maskId('4200001234202611240000000001')).toBe('4200001234202611240000000001');
    expect(p.maskId(NOTE_EMAIL)).toBe('j***@e***.net');
  });

  it('reads recipients per team and per provider from the environment', () => {
    expect(parseRecipients('a@x.org, B@x.org;a@x.org')).toEqual(['a@x.org', 'B@x.org']);
    expect(() => parseRecipients('not-an-address')).toThrow('not an e-mail address');
    const s = mailSettingsFromEnv({ SMTP_URL: 'smtp://u:s3cretpass@127.0.0.1:2525', REPORT_EMAIL_FROM: 'recon@x.org', REPORT_EMAIL_TO: 'fin@x.org,ops@x.org', REPORT_EMAIL_TO_STRIPE: 'stripe@x.org' });
    expect(s).toMatchObject({ from: 'recon@x.org', to: ['fin@x.org', 'ops@x.org'], toByProvider: { stripe: ['stripe@x.org'] } });
    expect(mailSettingsFromEnv({ REPORT_EMAIL_TO: 'fin@x.org' })).toBeNull();
    expect(mailGroups(['wechatpay', 'stripe'], ['fin@x.org'], { stripe: ['stripe@x.org'] })).toEqual([
      { providers: ['stripe', 'wechatpay'], recipients: ['fin@x.org'] },
      { providers: ['stripe'], recipients: ['stripe@x.org'] },
    ]);
    // one provider's mail: the team and the provider's own list in one message
    expect(mailGroups(['stripe'], ['fin@x.org'], { stripe: ['stripe@x.org'] })).toEqual([{ providers: ['stripe'], recipients: ['fin@x.org', 'stripe@x.org'] }]);
  });
});

describe.each(BACKENDS)('the morning mail and the HTML report on $name', ({ fresh }) => {
  let t: TestDatabase;
  let dir: string;
  let reportsDir: string;
  let n = 0;
  let first = 0;
  const D1 = '2026-11-23';
  const D2 = '2026-11-24';
  const runs: Record<string, DailyRunResult> = {};
  const files: Record<string, string[]> = {};

  async function day(provider: ProviderId, date: string, lines: JsonLine[], ledger: string[][], extra: Record<string, Record<string, string>> = {}): Promise<DailyRunResult> {
    n += 1;
    const st = await loadStatement(t.db, { parser: parserWithExtra(provider, extra), path: writeJsonStatement(dir, `m${n}.json`, { lines }), archiveDir: join(dir, 'archive') });
    if (ledger.length > 0) await importLedger(t.db, writeLedger(dir, `ml${n}.csv`, ledger));
    const run = await reconcileDay(t.db, { provider, account: 'acct', date, statementFileIds: [st.id] });
    files[`${provider}:${date}`] = [st.id];
    runs[`${provider}:${date}`] = run;
    await writeDailyReports(t.db, { provider, account: 'acct', date }, reportsDir);
    return run;
  }

  const mailsSince = (count: number) => received.slice(count);
  const summaryOf = async (runId: string) => {
    const [r] = await t.db.query<{ summary: RunSummary }>(`SELECT summary FROM recon_runs WHERE id = $1`, [runId]);
    return r!.summary;
  };
  const field = (html: string, name: string): string | undefined => {
    const m = new RegExp(`data-field="${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}">([^<]*)<`).exec(html);
    return m?.[1];
  };

  beforeAll(async () => {
    t = await fresh();
    first = received.length;
    dir = tempDir('recon-mail-');
    reportsDir = join(dir, 'reports');
    // Day 1: WeChat Pay, one pair, one amount mismatch on a line carrying the payer's open id and name.
    await day('wechatpay', D1, [
      { type: 'payment', txn: 'W-A', ref: 'A', gross: '10.00', fee: '0.06', at: '2026-11-23T02:00:00Z' },
      { type: 'payment', txn: 'W-X', ref: 'X', gross: '20.00', fee: '0.12', at: '2026-11-23T03:00:00Z' },
    ], [
      ['wA', 'wechatpay', 'payment', 'A', 'W-A', '10.00', '', 'CNY', '2026-11-23T10:00:00+08:00'],
      ['wX', 'wechatpay', 'payment', 'X', 'W-X', '21.00', '', 'CNY', '2026-11-23T11:00:00+08:00'],
    ], { 'W-X': { 用户标识: OPEN_ID, bankType: 'CMB_CREDIT' } });
    // Day 2: WeChat Pay and Stripe; a ledger row with markup as its order id; a Stripe line with the customer's name and e-mail.
    await day('wechatpay', D2, [
      { type: 'payment', txn: 'W-F', ref: 'F', gross: '15.00', fee: '0.09', at: '2026-11-24T03:00:00Z' },
      { type: 'payment', txn: 'W-G', ref: 'G', gross: '30.00', fee: '0.18', at: '2026-11-24T04:00:00Z' },
    ], [
      ['wF', 'wechatpay', 'payment', 'F', 'W-F', '15.00', '', 'CNY', '2026-11-24T11:00:00+08:00'],
      ['wG', 'wechatpay', 'payment', 'G', 'W-G', '30.30', '', 'CNY', '2026-11-24T12:00:00+08:00'],
      ['wH', 'wechatpay', 'payment', EVIL, '', '7.00', '', 'CNY', '2026-11-24T13:00:00+08:00'],
    ], { 'W-G': { 用户标识: OPEN_ID } });
    await day('stripe', D2, [
      { type: 'payment', txn: 'ch_S1', ref: 'S1', gross: '20.00', fee: '0.88', currency: 'USD', at: '2026-11-24T06:00:00Z' },
      { type: 'payment', txn: 'ch_S2', ref: 'S2', gross: '30.00', fee: '1.17', currency: 'USD', at: '2026-11-24T07:00:00Z' },
    ], [
      ['sS1', 'stripe', 'payment', 'S1', 'ch_S1', '20.00', '', 'USD', '2026-11-24T06:00:00Z'],
      ['sS2', 'stripe', 'payment', 'S2', 'ch_S2', '31.00', '', 'USD', '2026-11-24T07:00:00Z'],
    ], { ch_S2: { customer_name: PAYER_NAME, customer_email: PAYER_EMAIL, customer_id: 'cus_Q1w2e3r4t5y6' } });
    // A person's note on the Stripe exception, with a name and an e-mail address in it.
    const [ex] = await listExceptions(t.db, { provider: 'stripe', status: 'open' });
    await resolveException(t.db, { id: ex!.id, status: 'explained', note: `${PAYER_NAME} (reply to <${NOTE_EMAIL}>) says he was charged 31 "><svg onload=alert(1)>`, actor: 'mei' });
    await writeDailyReports(t.db, { provider: 'stripe', account: 'acct', date: D2 }, reportsDir);
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('chart data: the match rate per provider over the last 30 days and the day’s fees by provider, from the runs', async () => {
    const h = await matchRateHistory(t.db, { date: D2 });
    expect(h.days).toHaveLength(30);
    expect([h.days[0], h.days[29]]).toEqual(['2026-10-26', D2]);
    expect(h.series.map((s) => s.provider)).toEqual(['stripe', 'wechatpay']);
    const w = h.series.find((s) => s.provider === 'wechatpay')!;
    const s1 = await summaryOf(runs[`wechatpay:${D1}`]!.runId);
    const s2 = await summaryOf(runs[`wechatpay:${D2}`]!.runId);
    expect(w.points.slice(27)).toEqual([null, s1.matched / s1.ledger_rows, s2.matched / s2.ledger_rows]);
    expect(w.points.slice(0, 28).every((p) => p === null)).toBe(true);
    const st = h.series.find((s) => s.provider === 'stripe')!;
    expect(st.points.filter((p) => p !== null)).toHaveLength(1);
    expect(await feesByProvider(t.db, { date: D2 })).toEqual([
      { currency: 'CNY', providers: [{ provider: 'wechatpay', fee: s2.totals.CNY!.statement_fee }] },
      { currency: 'USD', providers: [{ provider: 'stripe', fee: '2.05' }] },
    ]);
    // The window ends on the day asked for: the next day's view has day 1 one place further left.
    const later = await matchRateHistory(t.db, { date: '2026-11-25', providers: ['wechatpay'] });
    expect(later.series[0]!.points.slice(27, 29)).toEqual([s1.matched / s1.ledger_rows, s2.matched / s2.ledger_rows]);
  });

  it('sends the morning mail over SMTP: figures from the database, charts inline, workbooks attached, personal data masked', async () => {
    const before = received.length;
    const sent = await sendMorningMail(t.db, { date: D2, smtpUrl, from: 'recon@walletrecon.test', to: 'finance@walletrecon.test', toByProvider: { stripe: ['stripe-team@walletrecon.test'] }, reportsDir });
    expect(sent.map((s) => [s.status, s.kind, s.providers])).toEqual([['sent', 'original', ['stripe', 'wechatpay']], ['sent', 'original', ['stripe']]]);
    const mails = mailsSince(before);
    expect(mails).toHaveLength(2);
    const team = mails.find((m) => m.rcpt.includes('finance@walletrecon.test'))!;
    const own = mails.find((m) => m.rcpt.includes('stripe-team@walletrecon.test'))!;
    expect(team.rcpt).toEqual(['finance@walletrecon.test']);
    expect(own.rcpt).toEqual(['stripe-team@walletrecon.test']);
    expect(team.from).toBe('recon@walletrecon.test');
    const mail = team.mail;
    expect(mail.subject).toMatch(new RegExp(`^Reconciliation ${D2}: stripe, wechatpay: [\\d.]+% matched, \\d+ discrepanc`));
    expect(mail.subject).not.toContain('Correction');
    const html = mail.html as string;
    // the figures, compared to the database
    for (const key of [`stripe:${D2}`, `wechatpay:${D2}`]) {
      const s = await summaryOf(runs[key]!.runId);
      const k = `${s.provider}:acct`;
      expect(field(html, `${k}:matched`)).toBe(String(s.matched));
      expect(field(html, `${k}:statement_lines`)).toBe(String(s.statement_lines));
      expect(field(html, `${k}:ledger_rows`)).toBe(String(s.ledger_rows));
      expect(field(html, `${k}:match_rate`)).toBe(`${((s.matched / s.ledger_rows) * 100).toFixed(1)}%`);
      expect(field(html, `${k}:pending`)).toBe(String(s.pending));
      expect(field(html, `${k}:cleared`)).toBe(String(s.cleared));
      for (const [kind, count] of Object.entries(s.discrepancies)) expect(field(html, `${k}:kind:${kind}`)).toBe(String(count));
      for (const [ccy, tot] of Object.entries(s.totals)) {
        expect(field(html, `${k}:${ccy}:statement_gross`)).toBe(tot.statement_gross);
        expect(field(html, `${k}:${ccy}:statement_fee`)).toBe(tot.statement_fee);
        expect(field(html, `${k}:${ccy}:statement_net`)).toBe(tot.statement_net);
        expect(field(html, `${k}:${ccy}:ledger_amount`)).toBe(tot.ledger_amount);
      }
    }
    const stripeSummary = await summaryOf(runs[`stripe:${D2}`]!.runId);
    expect(stripeSummary.discrepancies.amount_mismatch).toBe(1);
    expect(stripeSummary.totals.USD).toMatchObject({ statement_gross: '50.00', statement_fee: '2.05' });
    // the charts: inline images referenced by content id (one match-rate chart, one fee chart per currency)
    const images = mail.attachments.filter((a) => a.contentType === 'image/png');
    expect(images.map((a) => a.filename)).toEqual(['match-rate.png', 'fees-cny.png', 'fees-usd.png']);
    for (const img of images) {
      expect(img.cid).toBeTruthy();
      expect(html).toContain(`cid:${img.cid}`);
      expect(img.content.subarray(1, 4).toString()).toBe('PNG');
    }
    // the workbooks: the files on disk, byte for byte
    const books = mail.attachments.filter((a) => a.filename?.endsWith('.xlsx'));
    expect(books.map((a) => a.filename)).toEqual([`reconciliation-${D2}-stripe.xlsx`, `reconciliation-${D2}-wechatpay.xlsx`]);
    for (const b of books) {
      const provider = /-(\w+)\.xlsx$/.exec(b.filename!)![1]!;
      expect(b.content.equals(readFileSync(join(reportsDir, D2, provider, 'reconciliation.xlsx')))).toBe(true);
    }
    // transaction ids stay; personal data is masked everywhere in the message
    expect(html).toContain('ch_S2');
    expect(html).toContain('W-G');
    expect(html).toContain(maskValue(PAYER_NAME));
    expect(html).toContain('oU***6o');
    expect(html).toContain(maskEmail(NOTE_EMAIL));
    const shown = [mail.subject ?? '', html, mail.text ?? '', team.raw.toString('utf8'), own.mail.html as string, own.mail.text ?? '', own.raw.toString('utf8')];
    for (const text of shown) for (const p of PERSONAL) expect(text, p).not.toContain(p);
    // provider and ledger text is escaped
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<svg onload/i);
    // the Stripe team's own mail has Stripe only
    expect(own.mail.subject).toMatch(new RegExp(`^Reconciliation ${D2}: stripe: `));
    expect(own.mail.attachments.filter((a) => a.filename?.endsWith('.xlsx')).map((a) => a.filename)).toEqual([`reconciliation-${D2}-stripe.xlsx`]);
  });

  it('sends nothing the second time for the same runs, and a marked correction after a rerun', async () => {
    const opts = { date: D2, smtpUrl, from: 'recon@walletrecon.test', to: 'finance@walletrecon.test', toByProvider: { stripe: ['stripe-team@walletrecon.test'] }, reportsDir };
    const before = received.length;
    expect((await sendMorningMail(t.db, opts)).map((s) => s.status)).toEqual(['already-sent', 'already-sent']);
    expect(received.length).toBe(before);
    const original = received.slice(first).find((m) => m.rcpt.includes('finance@walletrecon.test') && m.mail.subject?.startsWith(`Reconciliation ${D2}`))!;

    // The ledger is corrected and WeChat Pay's day is reconciled again.
    await importLedger(t.db, writeLedger(dir, 'corrected.csv', [['wF', 'wechatpay', 'payment', 'F', 'W-F', '15.50', '', 'CNY', '2026-11-24T11:00:00+08:00']]));
    const rerun = await reconcileDay(t.db, { provider: 'wechatpay', account: 'acct', date: D2, statementFileIds: files[`wechatpay:${D2}`]! });
    expect(rerun.version).toBe(2);
    await writeDailyReports(t.db, { provider: 'wechatpay', account: 'acct', date: D2 }, reportsDir);

    const sent = await sendMorningMail(t.db, opts);
    expect(sent.map((s) => [s.status, s.kind ?? null])).toEqual([['sent', 'correction'], ['already-sent', null]]);
    const mails = mailsSince(before);
    expect(mails).toHaveLength(1);
    const c = mails[0]!;
    expect(c.rcpt).toEqual(['finance@walletrecon.test']);
    expect(c.mail.subject).toMatch(/^\[Correction\] Reconciliation 2026-11-24: stripe, wechatpay: /);
    expect(c.mail.inReplyTo).toBe(original.mail.messageId);
    const html = c.mail.html as string;
    expect(html).toContain('data-notice="correction"');
    expect(html).toContain('wechatpay (acct): version 1 replaced by version 2: 1 new, 0 gone, 0 changed');
    expect(html).toMatch(/<td[^>]*>new<\/td><td[^>]*>amount_mismatch<\/td><td[^>]*>payment<\/td><td[^>]*>W-F<\/td>/);
    const s = await summaryOf(rerun.runId);
    expect(field(html, 'wechatpay:acct:version')).toBe('2');
    expect(field(html, 'wechatpay:acct:kind:amount_mismatch')).toBe(String(s.discrepancies.amount_mismatch));
    expect(field(html, 'wechatpay:acct:CNY:ledger_amount')).toBe(s.totals.CNY!.ledger_amount);
    for (const p of PERSONAL) expect(html).not.toContain(p);

    // Once more: nothing; the log has the three messages with their runs and message ids.
    expect((await sendMorningMail(t.db, opts)).map((x) => x.status)).toEqual(['already-sent', 'already-sent']);
    expect(received.length).toBe(before + 1);
    const log = await t.db.query<{ kind: string; providers: string[]; recipients: string[]; runs: Array<{ version: number }>; message_id: string; status: string }>(
      `SELECT kind, providers, recipients, runs, message_id, status FROM mail_log WHERE bill_date = $1 ORDER BY id`,
      [D2],
    );
    expect(log.map((l) => [l.kind, l.providers, l.recipients, l.runs.map((r) => r.version), l.status])).toEqual([
      ['original', ['stripe', 'wechatpay'], ['finance@walletrecon.test'], [1, 1], 'sent'],
      ['original', ['stripe'], ['stripe-team@walletrecon.test'], [1], 'sent'],
      ['correction', ['stripe', 'wechatpay'], ['finance@walletrecon.test'], [1, 2], 'sent'],
    ]);
    expect(log.every((l) => l.message_id)).toBe(true);
  });

  it('the pipeline’s notify: writes the HTML pages and mails one provider’s day once; without SMTP_URL it only writes the pages', async () => {
    const env = { SMTP_URL: smtpUrl, REPORT_EMAIL_FROM: 'recon@walletrecon.test', REPORT_EMAIL_TO: 'ops@walletrecon.test' };
    const before = received.length;
    const r = await notifyMorningMail({ db: t.db, env, log: silentLogger, config: { reportsDir } }, { provider: 'wechatpay', date: D1 });
    expect(r.sent).toBe(true);
    expect(existsSync(r.pages.day)).toBe(true);
    expect(r.pages.providers.wechatpay).toBe(join(reportsDir, D1, 'wechatpay', 'report.html'));
    const again = await notifyMorningMail({ db: t.db, env, log: silentLogger, config: { reportsDir } }, { provider: 'wechatpay', date: D1 });
    expect(again.sent).toBe(false);
    expect(received.length).toBe(before + 1);
    expect(received[before]!.mail.subject).toMatch(/^Reconciliation 2026-11-23: wechatpay: /);
    const none = await notifyMorningMail({ db: t.db, env: {}, log: silentLogger, config: { reportsDir } }, { provider: 'wechatpay', date: D1 });
    expect(none.sent).toBe(false);
    expect(received.length).toBe(before + 1);
  });

  it('writes a self-contained one-page HTML report per day and per provider, with the mail’s content and inline SVG charts', async () => {
    const pages = await writeDayReportHtml(t.db, { date: D2, reportsDir });
    expect(pages.day).toBe(join(reportsDir, D2, 'report.html'));
    expect(Object.keys(pages.providers).sort()).toEqual(['stripe', 'wechatpay']);
    const page = readFileSync(pages.day, 'utf8');
    const mail = await buildMorningMail(t.db, { date: D2, reportsDir });
    // the same figures as the mail
    for (const f of ['wechatpay:acct:matched', 'wechatpay:acct:match_rate', 'stripe:acct:USD:statement_fee', 'stripe:acct:kind:amount_mismatch', 'wechatpay:acct:version']) {
      expect(field(page, f), f).toBeDefined();
      expect(field(page, f), f).toBe(field(mail.html, f));
    }
    // charts inline as SVG, nothing external, no script, every text escaped
    expect((page.match(/<svg xmlns/g) ?? []).length).toBe(3);
    expect(page).not.toMatch(/<script|<img|<link|src="http|href="http|@import|url\(/i);
    expect(page).toContain("Content-Security-Policy");
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toMatch(/<svg onload/i);
    for (const p of PERSONAL) expect(page).not.toContain(p);
    // links to the provider's files, relative, next to the page
    expect(page).toContain('href="stripe/reconciliation.xlsx"');
    expect(page).toContain('href="wechatpay/report.html"');
    // a rerun says so on the page
    expect(page).toContain('wechatpay (acct): version 1 replaced by version 2');
    const stripePage = readFileSync(pages.providers.stripe!, 'utf8');
    expect(stripePage).toContain('href="reconciliation.xlsx"');
    expect(stripePage).toContain('href="../report.html"');
    expect(stripePage).not.toContain('data-run="wechatpay:acct"');
    expect(field(stripePage, 'stripe:acct:USD:statement_fee')).toBe('2.05');
  });
});
