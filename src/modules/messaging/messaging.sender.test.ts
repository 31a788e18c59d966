/**
 * The sender against a real SMTP server on loopback (test/smtp.ts), with real PostgreSQL and real HTTP: what
 * arrives (headers, parts, recipients), the decisions made at send time (consent, suppressions, quiet hours, rate
 * limit, leases), bounces and policy refusals, one-click unsubscribe, SMS and push hand-over, the send log and
 * GDPR. Wording belongs to the templates and is not asserted here.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { call, startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { startSmtp, type ReceivedMail, type TestSmtp } from '../../../test/smtp.js';
import { createMailer, type Mailer } from '../../platform/mail/mailer.js';
import { inLanes, LEASE_MS, MessageSender, SEND_CONCURRENCY, type SenderDeps } from './messaging.sender.js';
import type { MessageRow } from './messaging.store.js';
import { MessagingSettingsService } from './messaging.settings.js';
import { SuppressionsService } from './messaging.suppressions.js';
import { TemplatesService } from './templates/templates.service.js';
import type { MessageRequest } from './messaging.types.js';
import { UNSUBSCRIBE_TEXTS } from './unsubscribe/unsubscribe.page.js';
import { signUnsubscribeToken } from './unsubscribe/unsubscribe.token.js';

const PUBLIC_URL = 'https://loyalty.example.test';

let smtp: TestSmtp;
let app: TestApp;

before(async () => {
  smtp = await startSmtp();
  app = await startTestApp({ env: { SMTP_URL: smtp.url, PATRON_PUBLIC_URL: PUBLIC_URL } });
});
after(async () => {
  await app.close();
  await smtp.close();
});

const unique = () => crypto.randomBytes(5).toString('hex');

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `m-${unique()}@example.com`;
  const res = await t.api('POST', '/v1/members', { body: { email, first_name: 'Ana', ...body } });
  assert.equal(res.status, 201, res.text);
  return { id: res.body.id, email: res.body.email };
}

function enqueue(t: TestTenant, req: Partial<MessageRequest> & { memberId: string | null }) {
  const full: MessageRequest = { trigger: 'reward_issued', dedupeKey: `k-${unique()}`, variables: { reward: { name: 'Free coffee', code: 'CODE-123' } }, ...req };
  return app.patron.db.tx((tx) => app.patron.services.messaging.enqueue(tx, t.id, full));
}
const marketing = (memberId: string, extra: Partial<MessageRequest> = {}) => ({ trigger: 'birthday' as const, memberId, variables: {}, ...extra });

/** A header as written (mailparser folds List-* headers into its own `list` object). */
function header(mail: ReceivedMail | undefined, name: string): string | undefined {
  const line = mail?.parsed.headerLines.find((h) => h.key === name.toLowerCase())?.line;
  return line?.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}
/** The https URL of the List-Unsubscribe header. */
const unsubscribeOf = (mail: ReceivedMail | undefined) => /<(https?:[^>]+)>/.exec(header(mail, 'List-Unsubscribe') ?? '')?.[1] ?? assert.fail('no List-Unsubscribe URL');

const send = (t: TestTenant) => app.patron.jobs.runNow('messages.send', { tenant_id: t.id }) as Promise<Record<string, number>>;
const message = async (t: TestTenant, id: string) => {
  const res = await t.api('GET', `/v1/messaging/messages/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
};
const events = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as Array<{ id: string; payload: any }>;
const sha256 = (s: string) => crypto.createHash('sha256').update(s.toLowerCase()).digest('hex');

/** A webhook endpoint of the tenant subscribed to `types` (the SMS/push provider's bridge); never called here. */
async function endpoint(t: TestTenant, types: string[], status: 'active' | 'disabled' = 'active'): Promise<string> {
  const res = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: `https://bridge-${unique()}.example.com/patron`, event_types: types } });
  assert.equal(res.status, 201, res.text);
  if (status === 'disabled') assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${res.body.id}`, { body: { status } })).status, 200);
  return res.body.id;
}

/** A sender of its own, built like Patron's, with `over` replacing some of its parts. */
function senderWith(over: Partial<SenderDeps>): MessageSender {
  const { db, services, logger } = app.patron;
  return new MessageSender({
    db, clock: app.clock, log: logger, members: services.members, tenants: services.tenants, settings: new MessagingSettingsService(app.clock),
    suppressions: new SuppressionsService(app.clock), templates: new TemplatesService({ clock: app.clock }), mailer: createMailer({ smtpUrl: undefined, log: logger }),
    smtpFrom: 'patron@localhost', publicUrl: PUBLIC_URL, listeningUrl: () => app.url,
    hasSubscriber: (q, tenantId, type) => services.webhooks.hasActiveSubscriber(q, tenantId, type),
    ...over,
  });
}

describe('email', () => {
  test('a transactional message arrives with HTML and text, From and To, and no List-Unsubscribe', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant('Corner Café');
    const m = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    const run = await send(t);
    assert.equal(run.sent, 1);
    const [mail] = smtp.to(m.email);
    assert.ok(mail, 'the email arrived');
    const p = mail.parsed;
    assert.deepEqual(p.from?.value, [{ address: 'patron@localhost', name: 'Corner Café' }]);
    assert.deepEqual(p.to && !Array.isArray(p.to) ? p.to.value.map((a) => a.address) : null, [m.email]);
    assert.ok(typeof p.html === 'string' && p.html.includes('CODE-123'), 'an HTML part with the variables');
    assert.ok(p.text?.includes('CODE-123'), 'a text part with the variables');
    assert.equal(header(mail, 'List-Unsubscribe'), undefined);
    assert.equal(header(mail, 'List-Unsubscribe-Post'), undefined);

    const sent = await message(t, id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.subject, p.subject);
    assert.equal(sent.provider_id, p.messageId);
    assert.equal(sent.sent_at, '2031-03-02T10:00:00.000Z');
    assert.equal(sent.attempts, 1);
    const [ev] = await events(t, 'message.sent');
    assert.deepEqual(ev?.payload, { message_id: id, trigger: 'reward_issued', channel: 'email', member_id: m.id, dedupe_key: sent.dedupe_key });
    assert.equal((await send(t)).sent, 0, 'sent once');
  });

  test("the tenant's sender address, name and reply-to are used", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const patched = await t.api('PATCH', '/v1/messaging/settings', { body: { from_email: 'Rewards@Shop.example', from_name: 'Shop Rewards', reply_to: 'help@shop.example' } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.body.from_email, 'rewards@shop.example');
    const m = await member(t);
    await enqueue(t, { memberId: m.id });
    await send(t);
    const [mail] = smtp.to(m.email);
    assert.deepEqual(mail?.parsed.from?.value, [{ address: 'rewards@shop.example', name: 'Shop Rewards' }]);
    assert.equal(mail?.envelope.from, 'rewards@shop.example');
    assert.deepEqual(mail?.parsed.replyTo?.value.map((a) => a.address), ['help@shop.example']);
  });

  test('marketing needs consent; with it, the email has RFC 8058 one-click unsubscribe', async () => {
    app.clock.set('2031-03-02T10:00:00Z'); // 12:00 in Sofia, outside quiet hours
    const t = await app.newTenant();
    const without = await member(t);
    const noConsent = await enqueue(t, marketing(without.id));
    const m = await member(t, { consent: { email: true } });
    const withConsent = await enqueue(t, marketing(m.id));
    await send(t);

    const suppressed = await message(t, noConsent.id);
    assert.equal(suppressed.status, 'suppressed');
    assert.equal(suppressed.status_reason, 'no_consent');
    assert.equal(smtp.to(without.email).length, 0);
    assert.equal((await events(t, 'message.suppressed'))[0]?.payload.reason, 'no_consent');

    assert.equal((await message(t, withConsent.id)).status, 'sent');
    const [mail] = smtp.to(m.email);
    assert.match(header(mail, 'List-Unsubscribe') ?? '', new RegExp(`^<${PUBLIC_URL}/u/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+>$`));
    const url = unsubscribeOf(mail);
    assert.equal(header(mail, 'List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    assert.ok(mail?.parsed.html && mail.parsed.html.includes(url), 'the footer links to the same page');
  });

  test('one-click unsubscribe withdraws the consent; marketing stops, transactional still arrives', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t, { consent: { email: true, sms: true } });
    await enqueue(t, marketing(m.id));
    await send(t);
    const url = unsubscribeOf(smtp.to(m.email)[0]);

    // What a mail client sends (RFC 8058 §3.2).
    const res = await call(app.url, 'POST', new URL(url).pathname, { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const view = (await t.api('GET', `/v1/members/${m.id}`)).body;
    assert.equal(view.consent.email.granted, false);
    assert.equal(view.consent.email.source, 'unsubscribe_link');
    assert.equal(view.consent.sms.granted, true, 'only the channel of the link');
    const history = (await t.api('GET', `/v1/members/${m.id}/consents`)).body.data;
    assert.deepEqual(history.at(-1), { ...history.at(-1), channel: 'email', granted: false, source: 'unsubscribe_link' });
    // Idempotent: again is a 200 and changes nothing.
    const again = await call(app.url, 'POST', new URL(url).pathname, { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(again.status, 200);
    assert.equal((await t.api('GET', `/v1/members/${m.id}/consents`)).body.data.length, history.length);

    const next = await enqueue(t, marketing(m.id, { dedupeKey: 'next-birthday' }));
    const code = await enqueue(t, { memberId: m.id });
    await send(t);
    assert.equal((await message(t, next.id)).status_reason, 'no_consent');
    assert.equal((await message(t, code.id)).status, 'sent');
    assert.equal(smtp.to(m.email).length, 2, 'the first marketing email and the transactional one');
  });

  test("the unsubscribe page speaks the member's language; a forged or unknown token is a 404", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant('Кафе Ъгъла');
    const m = await member(t, { locale: 'bg', consent: { email: true } });
    await enqueue(t, marketing(m.id));
    await send(t);
    const url = unsubscribeOf(smtp.to(m.email)[0]);

    const page = await call(app.url, 'GET', new URL(url).pathname);
    assert.equal(page.status, 200);
    assert.match(page.text, /<html lang="bg">/);
    assert.ok(page.text.includes(UNSUBSCRIBE_TEXTS.bg.button), 'the Bulgarian button');
    assert.ok(page.text.includes('Кафе Ъгъла'));
    assert.match(page.text, /<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.equal((await t.api('GET', `/v1/members/${m.id}`)).body.consent.email.granted, true, 'looking at the page changes nothing');

    // The page's button.
    const done = await call(app.url, 'POST', new URL(url).pathname, { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(done.status, 200);
    assert.ok(done.text.includes(UNSUBSCRIBE_TEXTS.bg.done_title));
    const later = await call(app.url, 'GET', new URL(url).pathname);
    assert.ok(later.text.includes(UNSUBSCRIBE_TEXTS.bg.already_title));

    const token = new URL(url).pathname.slice('/u/'.length);
    const [payload, sig] = token.split('.') as [string, string];
    const flipped = `${payload}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`;
    const otherSecret = signUnsubscribeToken(crypto.randomBytes(32), { tenantId: t.id, memberId: m.id, channel: 'email' });
    for (const bad of [flipped, otherSecret, 'nonsense', `${payload}.`]) {
      for (const method of ['GET', 'POST']) {
        const res = await call(app.url, method, `/u/${bad}`, method === 'POST' ? { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {});
        assert.equal(res.status, 404, `${method} ${bad}`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      }
    }
  });

  test('a hard bounce (550 5.1.1) marks the message bounced and suppresses the address, for transactional messages too', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    smtp.refuse(m.email, 550, `5.1.1 <${m.email}>: Recipient address rejected: User unknown`);
    const first = await enqueue(t, { memberId: m.id });
    assert.equal((await send(t)).bounced, 1);
    smtp.accept(m.email);
    const bounced = await message(t, first.id);
    assert.equal(bounced.status, 'bounced');
    assert.equal(bounced.status_reason, 'hard_bounce');
    assert.match(bounced.error, /^RCPT TO: 550 5\.1\.1/);
    const [ev] = await events(t, 'message.bounced');
    assert.equal(ev?.payload.message_id, first.id);
    assert.equal(ev?.payload.email_sha256, sha256(m.email), 'the hash of the address, never the address: the outbox is kept for good');
    assert.equal(ev?.payload.error, 'RCPT TO: 550 5.1.1 <[recipient]>: Recipient address rejected: User unknown');
    const [added] = await events(t, 'email_suppression.added');
    assert.deepEqual(added?.payload, { email_sha256: sha256(m.email), reason: 'hard_bounce' });
    const list = (await t.api('GET', '/v1/messaging/suppressions')).body.data;
    assert.deepEqual(list.map((s: any) => [s.email, s.reason]), [[m.email, 'hard_bounce']]);

    const next = await enqueue(t, { memberId: m.id });
    await send(t);
    const after = await message(t, next.id);
    assert.equal(after.status, 'suppressed');
    assert.equal(after.status_reason, 'address_suppressed');
    assert.equal(smtp.to(m.email).length, 0);
  });

  test('a policy refusal (554 5.7.1 to RCPT TO, or a 5xx to DATA) fails the message and suppresses nothing', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const blocked = await member(t);
    const spam = await member(t);
    smtp.refuse(blocked.email, 554, '5.7.1 Client host blocked using zen.spamhaus.org');
    smtp.refuseData(spam.email, 554, '5.7.1 Message rejected as spam');
    const a = await enqueue(t, { memberId: blocked.id });
    const b = await enqueue(t, { memberId: spam.id });
    const run = await send(t);
    smtp.accept(blocked.email);
    smtp.accept(spam.email);
    assert.deepEqual([run.failed, run.bounced, run.retried], [2, 0, 0]);
    for (const [id, command] of [[a.id, 'RCPT TO'], [b.id, 'DATA']] as const) {
      const row = await message(t, id);
      assert.equal(row.status, 'failed', command);
      assert.equal(row.status_reason, 'smtp_rejected', command);
      assert.equal(row.attempts, 1);
      assert.match(row.error, new RegExp(`^${command}: 554 5\\.7\\.1 `));
    }
    assert.deepEqual((await t.api('GET', '/v1/messaging/suppressions')).body.data, [], 'the addresses are not to blame');
    assert.equal((await events(t, 'email_suppression.added')).length, 0);
    assert.equal((await events(t, 'message.bounced')).length, 0);
    assert.equal((await events(t, 'message.failed')).length, 2);

    // Once the operator has fixed their reputation, the same members get email again.
    const again = [await enqueue(t, { memberId: blocked.id }), await enqueue(t, { memberId: spam.id })];
    assert.equal((await send(t)).sent, 2);
    for (const x of again) assert.equal((await message(t, x.id)).status, 'sent');
    assert.equal(smtp.to(blocked.email).length + smtp.to(spam.email).length, 2);
  });

  test('leases: a message claimed with a batch but taken by another sender meanwhile is not sent again', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const first = await member(t);
    const second = await member(t);
    await enqueue(t, { memberId: first.id, sendAfter: new Date('2031-03-02T09:59:00Z') });
    const late = await enqueue(t, { memberId: second.id, sendAfter: new Date('2031-03-02T09:59:01Z') });
    const real = createMailer({ smtpUrl: smtp.url, log: app.patron.logger });
    let other: Record<string, number> | null = null;
    // An SMTP server so slow that the batch's lease runs out while the first message is sent: meanwhile another
    // process's run claims what ran out (the second message; the first too, whose one send outlasted the lease, which
    // the lease's length, longer than any SMTP timeout, is there to prevent).
    const slow: Mailer = {
      configured: true,
      close: () => real.close(),
      async send(mail) {
        if (!other) {
          app.clock.set(new Date(Date.parse('2031-03-02T10:00:00Z') + LEASE_MS + 1000));
          other = await send(t);
        }
        return real.send(mail);
      },
    };
    try {
      // One at a time, as within a member's lane or behind the batch's first SEND_CONCURRENCY messages.
      const run = await senderWith({ mailer: slow, concurrency: 1 }).sendDue(t.id);
      assert.equal(other!.sent, 2, 'the other run sent both');
      assert.equal(smtp.to(second.email).length, 1, 'the second message once: the slow sender skipped it');
      assert.equal(run.sent, 0);
      assert.equal(run.skipped, 2, 'the first: its outcome is the other run\'s; the second: not sent');
      const row = await message(t, late.id);
      assert.equal(row.status, 'sent');
      assert.equal(row.attempts, 1);
    } finally {
      await slow.close();
    }
  });

  test('a temporary failure (451) is retried later, then sent', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    smtp.refuse(m.email, 451);
    const { id } = await enqueue(t, { memberId: m.id });
    assert.equal((await send(t)).retried, 1);
    const waiting = await message(t, id);
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.attempts, 1);
    assert.match(waiting.error, /451/);
    assert.ok(new Date(waiting.send_after) > new Date('2031-03-02T10:00:00Z'), 'later');
    assert.equal((await send(t)).retried, 0, 'not before its time');

    smtp.accept(m.email);
    app.clock.set(waiting.send_after);
    assert.equal((await send(t)).sent, 1);
    const sent = await message(t, id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.attempts, 2);
    assert.equal(sent.error, null);
    assert.equal(smtp.to(m.email).length, 1);
  });

  test('a message failing temporarily every time ends failed after the last attempt', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    smtp.refuse(m.email, 421);
    const { id } = await enqueue(t, { memberId: m.id });
    for (let i = 0; i < 10; i++) {
      await send(t);
      const row = await message(t, id);
      if (row.status !== 'queued') break;
      app.clock.set(row.send_after);
    }
    smtp.accept(m.email);
    const failed = await message(t, id);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.status_reason, 'smtp_error');
    assert.equal(failed.attempts, 5);
    assert.match((await events(t, 'message.failed'))[0]?.payload.error, /421/);
  });

  test("quiet hours: marketing at 22:30 in the member's time zone waits until 09:00; transactional does not", async () => {
    app.clock.set('2031-11-30T20:30:00Z'); // 22:30 in Sofia (UTC+2)
    const t = await app.newTenant();
    const m = await member(t, { time_zone: 'Europe/Sofia', consent: { email: true } });
    const promo = await enqueue(t, marketing(m.id));
    const code = await enqueue(t, { memberId: m.id });
    const run = await send(t);
    assert.equal(run.deferred, 1);
    assert.equal((await message(t, code.id)).status, 'sent');
    const waiting = await message(t, promo.id);
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.send_after, '2031-12-01T07:00:00.000Z', '09:00 in Sofia');
    assert.equal(waiting.attempts, 0);

    app.clock.set('2031-12-01T06:59:00Z');
    await send(t);
    assert.equal((await message(t, promo.id)).status, 'queued');
    app.clock.set('2031-12-01T07:00:00Z');
    await send(t);
    assert.equal((await message(t, promo.id)).status, 'sent');
    assert.equal(smtp.to(m.email).length, 2);
  });

  test("quiet hours follow the tenant's time zone for a member without one, and can be turned off", async () => {
    app.clock.set('2031-11-30T21:30:00Z'); // 21:30 UTC, the tenant's zone
    const t = await app.newTenant();
    const m = await member(t, { consent: { email: true } });
    const first = await enqueue(t, marketing(m.id));
    await send(t);
    assert.equal((await message(t, first.id)).send_after, '2031-12-01T09:00:00.000Z', "09:00 in the tenant's zone (UTC)");

    const settings = await t.api('PATCH', '/v1/messaging/settings', { body: { quiet_hours: null } });
    assert.equal(settings.status, 200, settings.text);
    assert.equal(settings.body.quiet_hours, null);
    assert.equal((await t.api('GET', '/v1/messaging/settings')).body.quiet_hours, null, 'stays off');
    const second = await enqueue(t, marketing(m.id, { dedupeKey: 'second' }));
    await send(t);
    assert.equal((await message(t, second.id)).status, 'sent');
  });

  test('rate limit: with 2 a minute, 5 due messages go 2 now and the rest as the minutes pass, oldest first', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/messaging/settings', { body: { rate_limit_per_minute: 2 } })).status, 200);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await member(t);
      ids.push((await enqueue(t, { memberId: m.id, sendAfter: new Date(Date.parse('2031-03-02T09:59:00Z') + i * 1000) })).id);
    }
    const sentIds = async () => {
      const res = await t.api('GET', '/v1/messaging/messages?status=sent&limit=500');
      return res.body.data.map((x: any) => x.id).sort();
    };
    assert.equal((await send(t)).sent, 2);
    assert.deepEqual(await sentIds(), ids.slice(0, 2).sort(), 'the oldest two');
    assert.equal((await send(t)).sent, 0, 'nothing more this minute');
    app.clock.set('2031-03-02T10:00:30Z');
    assert.equal((await send(t)).sent, 0);
    app.clock.set('2031-03-02T10:01:00.001Z');
    assert.equal((await send(t)).sent, 2);
    app.clock.set('2031-03-02T10:02:00.002Z');
    assert.equal((await send(t)).sent, 1);
    assert.deepEqual(await sentIds(), [...ids].sort());
  });

  test('crash safety: a message left `sending` is sent again once its lease has run out', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    // What a sender that died after claiming leaves behind.
    await app.patron.db.query(`UPDATE messages SET status = 'sending', locked_until = $3 WHERE tenant_id = $1 AND id = $2`, [t.id, id, new Date('2031-03-02T10:05:00Z')]);
    assert.equal((await send(t)).sent, 0, 'not while the lease holds');
    assert.equal((await message(t, id)).status, 'sending');
    app.clock.set('2031-03-02T10:05:00.001Z');
    assert.equal((await send(t)).sent, 1);
    assert.equal((await message(t, id)).status, 'sent');
    assert.equal(smtp.to(m.email).length, 1);
  });

  test('members who cannot receive: erased, blocked, no address', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const erased = await member(t);
    const blocked = await member(t);
    const noEmail = (await t.api('POST', '/v1/members', { body: { first_name: 'No email' } })).body;
    const a = await enqueue(t, { memberId: erased.id });
    const b = await enqueue(t, { memberId: blocked.id });
    const c = await enqueue(t, { memberId: noEmail.id });
    assert.equal((await t.api('POST', `/v1/members/${erased.id}/erase`)).status, 200);
    assert.equal((await t.api('POST', `/v1/members/${blocked.id}/block`, { body: {} })).status, 200);
    await send(t);
    assert.deepEqual([(await message(t, a.id)).status_reason, (await message(t, b.id)).status_reason, (await message(t, c.id)).status_reason], ['member_erased', 'member_blocked', 'no_address']);
    assert.equal(smtp.to(erased.email).length + smtp.to(blocked.email).length, 0);
  });

  test('a member erased while the SMTP server answers: the send log gets no address or subject back', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    const real = createMailer({ smtpUrl: smtp.url, log: app.patron.logger });
    // The real SMTP exchange, with the erasure committed between the server's answer and the sender's record.
    const erasing: Mailer = {
      configured: true,
      close: () => real.close(),
      async send(mail) {
        const res = await real.send(mail);
        assert.equal((await t.api('POST', `/v1/members/${m.id}/erase`)).status, 200);
        return res;
      },
    };
    try {
      assert.equal((await senderWith({ mailer: erasing }).sendDue(t.id)).sent, 1);
    } finally {
      await erasing.close();
    }
    assert.equal(smtp.to(m.email).length, 1, 'it had gone before the erasure');
    const row = await message(t, id);
    assert.deepEqual([row.status, row.to_address, row.subject, row.error], ['sent', null, null, null]);
    assert.equal((await events(t, 'message.sent'))[0]?.payload.message_id, id);
  });
});

describe('concurrency', () => {
  test('a batch goes out SEND_CONCURRENCY at a time over the pooled connections; one member\'s messages one after the other, in order', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const many = await Promise.all(Array.from({ length: 8 }, () => member(t)));
    const busy = await member(t);
    const queued: string[] = [];
    for (let i = 0; i < 3; i++) queued.push((await enqueue(t, { memberId: busy.id, sendAfter: new Date(Date.parse('2031-03-02T09:00:00Z') + i * 1000) })).id);
    for (const m of many) await enqueue(t, { memberId: m.id });
    const real = createMailer({ smtpUrl: smtp.url, log: app.patron.logger });
    let inFlight = 0;
    let most = 0;
    let busyInFlight = 0;
    const counting: Mailer = {
      configured: true,
      close: () => real.close(),
      async send(mail) {
        const mine = mail.to === busy.email;
        inFlight++;
        if (mine) assert.equal(++busyInFlight, 1, 'one message of a member at a time');
        most = Math.max(most, inFlight);
        try {
          return await real.send(mail);
        } finally {
          inFlight--;
          if (mine) busyInFlight--;
        }
      },
    };
    try {
      assert.equal((await senderWith({ mailer: counting }).sendDue(t.id)).sent, 11);
    } finally {
      await counting.close();
    }
    assert.ok(most > 1 && most <= SEND_CONCURRENCY, `at most ${SEND_CONCURRENCY} in flight, and more than one: ${most}`);
    const rows = await Promise.all(queued.map((id) => message(t, id)));
    const arrived = smtp.to(busy.email).map((m) => m.parsed.messageId);
    assert.deepEqual(arrived, rows.map((r) => r.provider_id), 'the member\'s emails arrived in the order they were queued');
  });

  test('inLanes: one lane per member and per address, joined when they meet; claim order within a lane', async () => {
    const row = (id: string, member: string | null, to: string | null) => ({ id, member_id: member, to_address: to }) as unknown as MessageRow;
    const batch = [
      row('a1', 'a', 'fam@x.test'), row('b1', 'b', 'B@x.test'), row('c1', 'c', 'FAM@x.test'), row('n1', null, 'b@X.test'),
      row('a2', 'a', 'new@x.test'), row('d1', 'd', null), row('e1', null, 'e@x.test'), row('d2', 'd', null),
      // Two lanes that exist already joined by a later message: x (p@) and y (q@), then x at q@.
      row('x1', 'x', 'p@x.test'), row('y1', 'y', 'q@x.test'), row('x2', 'x', 'q@x.test'),
    ];
    const log: string[] = [];
    const inFlight = new Set<string>();
    const laneOf: Record<string, string> = { a1: 'fam', c1: 'fam', a2: 'fam', b1: 'b', n1: 'b', d1: 'd', d2: 'd', e1: 'e', x1: 'xy', y1: 'xy', x2: 'xy' };
    await inLanes(batch, 8, async (m) => {
      const lane = laneOf[m.id]!;
      assert.ok(!inFlight.has(lane), `${m.id}: its lane is busy`);
      inFlight.add(lane);
      log.push(m.id);
      await new Promise((r) => setTimeout(r, 5));
      inFlight.delete(lane);
    });
    assert.deepEqual(log.filter((id) => laneOf[id] === 'fam'), ['a1', 'c1', 'a2'], 'a shared mailbox joins members a and c; a2 follows a');
    assert.deepEqual(log.filter((id) => laneOf[id] === 'b'), ['b1', 'n1'], 'addresses compared without case');
    assert.deepEqual(log.filter((id) => laneOf[id] === 'd'), ['d1', 'd2']);
    assert.deepEqual(log.filter((id) => laneOf[id] === 'xy'), ['x1', 'y1', 'x2'], 'two lanes joined by a later message keep claim order');
    assert.deepEqual(log.slice(0, 5).sort(), ['a1', 'b1', 'd1', 'e1', 'x1'], 'the five lanes start side by side');
  });

  test('inLanes: a failure stops the taking of new messages, waits for those in flight, then is thrown', async () => {
    const row = (id: string, member: string) => ({ id, member_id: member, to_address: null }) as unknown as MessageRow;
    const batch = [row('a1', 'a'), row('b1', 'b'), row('a2', 'a'), row('c1', 'c'), row('d1', 'd')];
    const started: string[] = [];
    let finished = 0;
    const err = new Error('the database is gone');
    await assert.rejects(inLanes(batch, 2, async (m) => {
      started.push(m.id);
      await new Promise((r) => setTimeout(r, m.id === 'b1' ? 30 : 5));
      if (m.id === 'a1') throw err;
      finished++;
    }), (e) => e === err);
    assert.deepEqual(started, ['a1', 'b1'], 'nothing new after the failure: not a2 (its lane), not c1 or d1');
    assert.equal(finished, 1, 'b1, in flight at the failure, ended before the error was thrown');
  });
});

describe('without SMTP_URL', () => {
  test('an email ends failed with smtp_not_configured; nothing pretends to be sent', async () => {
    // The real sender with the mailer Patron builds when SMTP_URL is unset (a second Patron would cost a start).
    const mailer = createMailer({ smtpUrl: undefined, log: app.patron.logger });
    assert.equal(mailer.configured, false);
    const sender = senderWith({ mailer });
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    assert.equal((await sender.sendDue(t.id)).failed, 1);
    const row = await message(t, id);
    assert.equal(row.status, 'failed');
    assert.equal(row.status_reason, 'smtp_not_configured');
    assert.equal(row.sent_at, null);
    assert.equal(row.provider_id, null);
    assert.equal(smtp.to(m.email).length, 0);
    assert.equal((await events(t, 'message.failed'))[0]?.payload.message_id, id);
    assert.equal((await sender.sendDue(t.id)).failed, 0, 'failed for good, not retried');
  });
});

describe('SMS and push', () => {
  test('an SMS is rendered and handed to the webhooks as message.sms_requested; marketing SMS needs SMS consent', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    await endpoint(t, ['message.sms_requested']);
    const m = (await t.api('POST', '/v1/members', { body: { phone: '+359888123456', first_name: 'Ivan', locale: 'bg', consent: { email: true } } })).body;
    const code = await enqueue(t, { memberId: m.id, channel: 'sms' });
    const promo = await enqueue(t, marketing(m.id, { channel: 'sms' }));
    await send(t);

    const sent = await message(t, code.id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.to_address, '+359888123456');
    const [ev] = await events(t, 'message.sms_requested');
    assert.ok(ev);
    assert.equal(sent.provider_id, ev.id, 'the provider id is the event id');
    assert.equal(ev.payload.message_id, code.id);
    assert.equal(ev.payload.to, '+359888123456');
    assert.equal(ev.payload.locale, 'bg');
    assert.equal(ev.payload.trigger, 'reward_issued');
    assert.ok(typeof ev.payload.text === 'string' && ev.payload.text.includes('CODE-123'), 'the rendered text');
    assert.equal(typeof ev.payload.subject, 'string');
    assert.deepEqual(Object.keys(ev.payload).sort(), ['locale', 'member_id', 'message_id', 'subject', 'text', 'to', 'trigger'], 'what the provider needs, no template variables');
    assert.equal((await events(t, 'message.sent'))[0]?.payload.channel, 'sms');
    assert.equal((await message(t, promo.id)).status_reason, 'no_consent', 'email consent is not SMS consent');

    // Erasure blanks the phone number and the text handed to the provider (a webhook replay reads the payload from
    // the event); the rest of the event stays.
    assert.equal((await t.api('POST', `/v1/members/${m.id}/erase`)).status, 200);
    const [erased] = await events(t, 'message.sms_requested');
    assert.deepEqual(erased?.payload, { ...ev.payload, to: null, subject: null, text: null });
  });

  test('a marketing push carries the member, the rendered text and the unsubscribe link', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    await endpoint(t, ['*']);
    const m = (await t.api('POST', '/v1/members', { body: { first_name: 'Ola', locale: 'pl', consent: { push: true } } })).body;
    const promo = await enqueue(t, marketing(m.id, { channel: 'push' }));
    await send(t);
    assert.equal((await message(t, promo.id)).status, 'sent');
    const [ev] = await events(t, 'message.push_requested');
    assert.equal(ev?.payload.member_id, m.id);
    assert.equal(ev?.payload.to, null);
    assert.equal(ev?.payload.variables, undefined);
    const link = new RegExp(`${PUBLIC_URL}/u/[A-Za-z0-9_.-]+`).exec(ev?.payload.text)?.[0] ?? assert.fail('the text carries the unsubscribe link');
    // The link withdraws the push consent.
    const oneClick = { raw: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    assert.equal((await call(app.url, 'POST', new URL(link).pathname, oneClick)).status, 200);
    assert.equal((await t.api('GET', `/v1/members/${m.id}`)).body.consent.push.granted, false);
  });

  test('without an active webhook endpoint subscribed to its event, an SMS or push fails with no_provider', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { phone: '+359888123457', first_name: 'Ivan' } })).body;
    const none = await enqueue(t, { memberId: m.id, channel: 'sms' });
    const push = await enqueue(t, { memberId: m.id, channel: 'push' });
    await send(t);
    await endpoint(t, ['message.push_requested']);
    await endpoint(t, ['message.sms_requested'], 'disabled');
    const otherType = await enqueue(t, { memberId: m.id, channel: 'sms' });
    await send(t);
    for (const id of [none.id, push.id, otherType.id]) {
      const row = await message(t, id);
      assert.deepEqual([row.status, row.status_reason, row.sent_at, row.provider_id], ['failed', 'no_provider', null, null]);
      assert.match(row.error, /message\.(sms|push)_requested/);
    }
    assert.equal((await events(t, 'message.sms_requested')).length, 0, 'no request event that nobody would receive');
    assert.equal((await events(t, 'message.push_requested')).length, 0);
    assert.deepEqual((await events(t, 'message.failed')).map((e) => e.payload.message_id).sort(), [none.id, push.id, otherType.id].sort());

    await endpoint(t, ['message.sms_requested']);
    const now = await enqueue(t, { memberId: m.id, channel: 'sms' });
    await send(t);
    assert.equal((await message(t, now.id)).status, 'sent');
  });
});

describe('addresses', () => {
  test("a member's message goes to the member's email or phone at send time, not the one they had when it was queued", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    await endpoint(t, ['message.sms_requested']);
    const m = await member(t, { phone: '+359888000001' });
    const mail = await enqueue(t, { memberId: m.id });
    const sms = await enqueue(t, { memberId: m.id, channel: 'sms' });
    assert.equal((await message(t, mail.id)).to_address, m.email, 'the log shows the address known at enqueue');
    const newEmail = `new-${unique()}@example.com`;
    const changed = await t.api('PATCH', `/v1/members/${m.id}`, { body: { email: newEmail, phone: '+359888000002' } });
    assert.equal(changed.status, 200, changed.text);
    await send(t);
    assert.equal(smtp.to(m.email).length, 0, 'not to the old address');
    assert.equal(smtp.to(newEmail).length, 1);
    assert.equal((await message(t, mail.id)).to_address, newEmail, 'the log records where it went');
    assert.equal((await message(t, sms.id)).to_address, '+359888000002');
    assert.equal((await events(t, 'message.sms_requested'))[0]?.payload.to, '+359888000002');
  });

  test('a message to someone who is not a member keeps its address; a member\'s message cannot be sent elsewhere', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const guest = `guest-${unique()}@example.com`;
    const { id } = await enqueue(t, { memberId: null, to: { address: guest, locale: 'en' } });
    await send(t);
    assert.equal((await message(t, id)).to_address, guest);
    assert.equal(smtp.to(guest).length, 1);
    await assert.rejects(enqueue(t, { memberId: m.id, to: { address: guest, locale: 'en' } }), /member's address/);
  });
});

describe('PATRON_PUBLIC_URL', () => {
  test('with SMTP_URL but without PATRON_PUBLIC_URL, the sender warns at start', () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const configured: Mailer = { configured: true, send: async () => assert.fail('nothing is sent'), close: async () => undefined };
    senderWith({ log, mailer: configured, publicUrl: undefined, listeningUrl: () => 'http://0.0.0.0:3000' });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, 40, 'a warning');
    assert.match(lines[0]!.msg, /PATRON_PUBLIC_URL/);
    senderWith({ log, mailer: configured, publicUrl: PUBLIC_URL });
    senderWith({ log, mailer: createMailer({ smtpUrl: undefined, log }), publicUrl: undefined });
    assert.equal(lines.length, 1, 'not with PATRON_PUBLIC_URL, nor without SMTP_URL (no email, no links)');
  });
});

describe('the send log, settings, suppressions and bounces over HTTP', () => {
  test("a member's send log is newest first and paginated; the tenant's log filters", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const other = await member(t);
    const first = await enqueue(t, { memberId: m.id });
    const second = await enqueue(t, marketing(m.id));
    await enqueue(t, { memberId: other.id });
    await send(t);
    const page1 = await t.api('GET', `/v1/members/${m.id}/messages?limit=1`);
    assert.equal(page1.status, 200, page1.text);
    assert.deepEqual(page1.body.data.map((x: any) => x.id), [second.id]);
    assert.equal(page1.body.data[0].status_reason, 'no_consent');
    assert.equal(page1.body.data[0].category, 'marketing');
    const page2 = await t.api('GET', `/v1/members/${m.id}/messages?limit=1&cursor=${page1.body.next_cursor}`);
    assert.deepEqual(page2.body.data.map((x: any) => x.id), [first.id]);
    assert.equal(page2.body.data[0].to_address, m.email);
    assert.equal(page2.body.data[0].trigger, 'reward_issued');
    assert.equal(page2.body.next_cursor, null);
    assert.equal((await t.api('GET', `/v1/members/${crypto.randomUUID()}/messages`)).status, 404);

    const byStatus = await t.api('GET', '/v1/messaging/messages?status=sent');
    assert.equal(byStatus.body.data.length, 2);
    const byTrigger = await t.api('GET', '/v1/messaging/messages?trigger=birthday');
    assert.deepEqual(byTrigger.body.data.map((x: any) => x.id), [second.id]);
    const byMember = await t.api('GET', `/v1/messaging/messages?member_id=${other.id}`);
    assert.equal(byMember.body.data.length, 1);
    const inRange = await t.api('GET', '/v1/messaging/messages?from=2031-03-02T10:00:00Z&to=2031-03-02T10:00:01Z');
    assert.equal(inRange.body.data.length, 3);
    assert.equal((await t.api('GET', '/v1/messaging/messages?from=2031-03-02T10:00:01Z')).body.data.length, 0);
    assert.equal((await t.api('GET', `/v1/messaging/messages/${crypto.randomUUID()}`)).status, 404);
    assert.equal((await t.api('GET', '/v1/messaging/messages?status=lost')).status, 400);
  });

  test('settings: defaults without a row, validation naming the field, admin only', async () => {
    const t = await app.newTenant();
    const got = await t.api('GET', '/v1/messaging/settings');
    assert.deepEqual(got.body, { from_email: null, from_name: null, reply_to: null, rate_limit_per_minute: 600, quiet_hours: { start: '21:00', end: '09:00' }, portal_url: null, updated_at: null });
    assert.equal((await app.patron.db.query('SELECT count(*)::int AS n FROM messaging_settings WHERE tenant_id = $1', [t.id])).rows[0].n, 0, 'reading writes nothing');
    const bad = await t.api('PATCH', '/v1/messaging/settings', { body: { quiet_hours: { start: '22:00', end: '22:00' }, from_email: 'nope', from_name: 'a\nb', portal_url: 'javascript:alert(1)' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['from_email', 'from_name', 'portal_url', 'quiet_hours.end']);
    for (const url of ['shop.example/account', 'ftp://shop.example/', 'https://user:pw@shop.example/']) {
      const res = await t.api('PATCH', '/v1/messaging/settings', { body: { portal_url: url } });
      assert.equal(res.status, 400, url);
      assert.deepEqual(res.body.errors.map((e: any) => e.field), ['portal_url'], url);
    }
    const ok = await t.api('PATCH', '/v1/messaging/settings', { body: { quiet_hours: { start: '20:00', end: '08:30' } } });
    assert.deepEqual(ok.body.quiet_hours, { start: '20:00', end: '08:30' });
    assert.equal((await t.api('GET', '/v1/messaging/settings', { key: await t.keyWith(['write']) })).status, 403);
    const secret = await app.patron.db.query('SELECT unsubscribe_secret FROM messaging_settings WHERE tenant_id = $1', [t.id]);
    assert.ok(!ok.text.includes(secret.rows[0].unsubscribe_secret), 'the secret is never shown');
  });

  test("the member portal (portal_url) is every message's links.portal, set when it is sent", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const before = await enqueue(t, { memberId: m.id });
    await send(t);
    assert.equal((await message(t, before.id)).status, 'sent');
    assert.ok(!String(smtp.to(m.email)[0]?.parsed.html).includes('shop.example'), 'no portal: no portal link');
    const queued = await enqueue(t, { memberId: m.id });
    const set = await t.api('PATCH', '/v1/messaging/settings', { body: { portal_url: 'HTTPS://Shop.Example/account?from=email' } });
    assert.equal(set.status, 200, set.text);
    assert.equal(set.body.portal_url, 'https://shop.example/account?from=email');
    assert.equal((await t.api('GET', '/v1/messaging/settings')).body.portal_url, 'https://shop.example/account?from=email');
    await send(t);
    const mail = smtp.to(m.email)[1];
    assert.equal((await message(t, queued.id)).status, 'sent');
    assert.ok(mail?.parsed.html && mail.parsed.html.includes('href="https://shop.example/account?from=email"'), 'the button links to the portal');
    assert.ok(mail?.parsed.text?.includes('https://shop.example/account?from=email'));
    assert.equal((await t.api('PATCH', '/v1/messaging/settings', { body: { portal_url: null } })).body.portal_url, null);
  });

  test('suppressions by hand: add (idempotent), list, remove; then the address gets email again', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const added = await t.api('POST', '/v1/messaging/suppressions', { body: { email: m.email.toUpperCase(), detail: 'asked by phone' } });
    assert.equal(added.status, 201, added.text);
    assert.deepEqual(added.body, { email: m.email, reason: 'manual', detail: 'asked by phone', created_at: '2031-03-02T10:00:00.000Z' });
    assert.equal((await t.api('POST', '/v1/messaging/suppressions', { body: { email: m.email } })).status, 200);
    const blocked = await enqueue(t, { memberId: m.id });
    await send(t);
    assert.equal((await message(t, blocked.id)).status_reason, 'address_suppressed');
    const [ev] = await events(t, 'email_suppression.added');
    assert.deepEqual(ev?.payload, { email_sha256: sha256(m.email), reason: 'manual' });

    const removed = await t.api('DELETE', `/v1/messaging/suppressions/${encodeURIComponent(m.email)}`);
    assert.equal(removed.status, 200, removed.text);
    assert.deepEqual((await events(t, 'email_suppression.removed'))[0]?.payload, { email_sha256: sha256(m.email), reason: 'manual' });
    assert.equal((await t.api('DELETE', `/v1/messaging/suppressions/${encodeURIComponent(m.email)}`)).status, 404);
    assert.equal((await t.api('GET', '/v1/messaging/suppressions')).body.data.length, 0);
    const again = await enqueue(t, { memberId: m.id });
    await send(t);
    assert.equal((await message(t, again.id)).status, 'sent');
  });

  test("the bounce route: a provider's hard bounce or complaint suppresses the address and marks the message", async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const other = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    await send(t);
    const writeKey = await t.keyWith(['write']);

    const soft = await t.api('POST', '/v1/messaging/bounces', { key: writeKey, body: { email: m.email, type: 'soft', message_id: id } });
    assert.equal(soft.status, 200, soft.text);
    assert.deepEqual(soft.body, { email: m.email, type: 'soft', suppressed: false, message: { id, status: 'sent' } });
    const wrong = await t.api('POST', '/v1/messaging/bounces', { key: writeKey, body: { email: other.email, type: 'hard', message_id: id } });
    assert.equal(wrong.status, 422);
    assert.equal((await t.api('POST', '/v1/messaging/bounces', { key: writeKey, body: { email: m.email, type: 'hard', message_id: crypto.randomUUID() } })).status, 404);

    const hard = await t.api('POST', '/v1/messaging/bounces', { key: writeKey, body: { email: m.email, type: 'hard', message_id: id, detail: '550 5.1.1 user unknown' } });
    assert.equal(hard.status, 200, hard.text);
    assert.deepEqual(hard.body, { email: m.email, type: 'hard', suppressed: true, message: { id, status: 'bounced' } });
    const row = await message(t, id);
    assert.equal(row.status_reason, 'hard_bounce');
    assert.equal(row.error, '550 5.1.1 user unknown');
    const bouncedEvents = await events(t, 'message.bounced');
    assert.equal(bouncedEvents.length, 1);
    assert.equal(bouncedEvents[0]?.payload.email_sha256, sha256(m.email));
    assert.equal(bouncedEvents[0]?.payload.email, undefined);

    const complaint = await t.api('POST', '/v1/messaging/bounces', { key: writeKey, body: { email: other.email, type: 'complaint' } });
    assert.equal(complaint.body.suppressed, true);
    const list = (await t.api('GET', '/v1/messaging/suppressions')).body.data.map((s: any) => [s.email, s.reason]);
    assert.deepEqual(list, [[m.email, 'hard_bounce'], [other.email, 'complaint']].sort((a, b) => a[0]!.localeCompare(b[0]!)));
    assert.equal((await t.api('POST', '/v1/messaging/bounces', { key: await t.keyWith(['read']), body: { email: m.email, type: 'hard' } })).status, 403);
  });

  test('GDPR: the export lists the member\'s messages; erasure scrubs them', async () => {
    app.clock.set('2031-03-02T10:00:00Z');
    const t = await app.newTenant();
    const m = await member(t);
    const { id } = await enqueue(t, { memberId: m.id });
    await send(t);
    const exported = await t.api('GET', `/v1/members/${m.id}/export`);
    assert.equal(exported.status, 200, exported.text);
    assert.deepEqual(exported.body.sections.messages.map((x: any) => [x.id, x.to_address, x.status]), [[id, m.email, 'sent']]);
    assert.equal((await t.api('POST', `/v1/members/${m.id}/erase`)).status, 200);
    const row = await message(t, id);
    assert.equal(row.to_address, null);
    assert.equal(row.subject, null);
    assert.equal(row.status, 'sent', 'the log still says what happened');
    const raw = await app.patron.db.query('SELECT variables FROM messages WHERE tenant_id = $1 AND id = $2', [t.id, id]);
    assert.deepEqual(raw.rows[0].variables, {});
  });
});
