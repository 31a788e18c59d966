/**
 * Referrals over HTTP against a real PostgreSQL: a double-sided referral from sign-up to both gifts, the guards
 * (self-referral, one attribution per member, limit per period, the review queue), returns, milestones, a
 * conversion job run twice at once, bad input and tenant isolation.
 *
 * The clock is set after 2030 (test/helpers.ts) and only moves forward; the job always runs for one tenant.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import { normaliseEmail } from './referrals.guards.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2031-02-03T10:00:00Z'));
});
after(() => app.close());

const PROGRAM = {
  enabled: true, referrer_gift: { points: 500 }, referee_gift: { points: 250 }, min_purchase_amount: 2000,
  purchase_within_days: 30, return_window_days: 14, review: { burst_per_hour: null },
};

async function program(settings: Record<string, unknown> = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  const res = await t.api('PATCH', '/v1/referral-program', { body: { ...PROGRAM, ...settings } });
  assert.equal(res.status, 200, res.text);
  return t;
}

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { first_name: 'Member', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const codeOf = async (t: TestTenant, id: string): Promise<string> => {
  const res = await t.api('GET', `/v1/members/${id}/referral`);
  assert.equal(res.status, 200, res.text);
  return res.body.code;
};

async function attribute(t: TestTenant, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return t.api('POST', '/v1/referrals', { body, headers });
}

async function purchase(t: TestTenant, memberId: string, total: number, externalId = `o-${crypto.randomUUID()}`) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: externalId, member_id: memberId, currency: 'EUR', total } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const available = async (t: TestTenant, id: string): Promise<number> => (await t.api('GET', `/v1/members/${id}/balance`)).body.available;
const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data;
const referral = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/referrals/${id}`)).body;
const runJob = (t: TestTenant) => app.patron.jobs.runNow('referrals.convert', { tenant_id: t.id }) as Promise<any>;
const fields = (res: { body: any }) => (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();

/** A referrer and a new member attributed to their code. */
async function referred(t: TestTenant, referrerBody: Record<string, unknown> = {}, refereeBody: Record<string, unknown> = {}) {
  const referrer = await member(t, referrerBody);
  const referee = await member(t, refereeBody);
  const res = await attribute(t, { code: await codeOf(t, referrer), member_id: referee });
  assert.equal(res.status, 201, res.text);
  return { referrer, referee, referral: res.body };
}

describe('a double-sided referral', () => {
  test('sign-up with a code, a qualifying purchase, the return window passes, the job: both get their points', async () => {
    const t = await program({ share_link_template: 'https://shop.example/r/{code}' });
    const referrer = await member(t, { email: 'ana@example.com' });
    const page = (await t.api('GET', `/v1/members/${referrer}/referral`)).body;
    assert.match(page.code, /^[2-9A-HJKMNP-Z]{8}$/);
    assert.equal(page.link, `https://shop.example/r/${page.code}`);
    assert.equal((await t.api('GET', `/v1/members/${referrer}/referral`)).body.code, page.code, 'one code per member');
    assert.equal((await eventsOf(t, 'referral_code.created')).length, 1);

    const referee = await member(t, { email: 'boris@example.com', external_id: 'C-2' });
    // Case, spaces and dashes in a typed code do not matter.
    const typed = `${page.code.slice(0, 4).toLowerCase()}-${page.code.slice(4)}`;
    const attributed = await attribute(t, { code: typed, member_external_id: 'C-2', device_id: 'dev-b', ip: '203.0.113.9' });
    assert.equal(attributed.status, 201, attributed.text);
    const r = attributed.body;
    assert.deepEqual([r.referrer_id, r.referee_id, r.code, r.status, r.review_flags], [referrer, referee, page.code, 'pending_purchase', []]);
    assert.equal(r.qualify_by, new Date(app.clock.now().getTime() + 30 * DAY).toISOString());
    assert.deepEqual(r.terms, { referrer_gift: { points: 500 }, referee_gift: { points: 250 }, min_purchase_amount: 2000, currency: 'EUR', purchase_within_days: 30, return_window_days: 14 });

    // Too small a purchase does not qualify; the next big enough one does.
    await purchase(t, referee, 1999);
    assert.equal((await referral(t, r.id)).status, 'pending_purchase');
    app.clock.advance(DAY);
    const order = await purchase(t, referee, 2500);
    let now = await referral(t, r.id);
    assert.deepEqual([now.status, now.purchase_id, now.purchase_total], ['qualifying', order.id, 2500]);
    assert.equal(now.convert_after, new Date(Date.parse(order.occurred_at) + 14 * DAY).toISOString());

    // Within the return window nothing converts.
    app.clock.advance(13 * DAY);
    assert.equal((await runJob(t)).converted, 0);
    assert.equal((await referral(t, r.id)).status, 'qualifying');
    app.clock.advance(DAY + 1000);
    const run = await runJob(t);
    assert.equal(run.converted, 1);
    now = await referral(t, r.id);
    assert.equal(now.status, 'converted');
    assert.deepEqual([now.referrer_reward.points, now.referee_reward.points], [500, 250]);
    assert.equal(await available(t, referrer), 500);
    assert.equal(await available(t, referee), 250);
    const entries = (await t.api('GET', `/v1/members/${referrer}/ledger`)).body.data;
    assert.deepEqual(entries.map((e: any) => [e.points, e.source_type, e.source_id]), [[500, 'referral', r.id]]);

    // The referrer sees it converted; the referee sees who referred them.
    const seen = (await t.api('GET', `/v1/members/${referrer}/referral`)).body;
    assert.deepEqual(seen.referrals.map((x: any) => [x.id, x.status]), [[r.id, 'converted']]);
    assert.equal(seen.stats.converted, 1);
    assert.equal(seen.stats.total, 1);
    assert.deepEqual((await t.api('GET', `/v1/members/${referee}/referral`)).body.referred_by, { referral_id: r.id, referrer_id: referrer, status: 'converted' });
    for (const type of ['referral.attributed', 'referral.qualified', 'referral.converted']) {
      assert.deepEqual((await eventsOf(t, type)).map((e: any) => e.aggregate_id), [r.id], type);
    }
    assert.equal((await runJob(t)).converted, 0, 'a second run converts nothing');
    assert.equal(await available(t, referrer), 500);
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });

  test('a purchase after the deadline does not qualify; the job expires the referral', async () => {
    const t = await program({ purchase_within_days: 5 });
    const { referee, referral: r } = await referred(t);
    app.clock.advance(6 * DAY);
    await purchase(t, referee, 5000);
    assert.equal((await referral(t, r.id)).status, 'pending_purchase');
    assert.equal((await runJob(t)).expired, 1);
    const now = await referral(t, r.id);
    assert.deepEqual([now.status, now.reason], ['expired', 'no_qualifying_purchase']);
    assert.equal((await eventsOf(t, 'referral.expired')).length, 1);
  });

  test('a disabled program refuses attributions (422)', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('GET', '/v1/referral-program')).body.enabled, false);
    const a = await member(t);
    const b = await member(t);
    const res = await attribute(t, { code: await codeOf(t, a), member_id: b });
    assert.equal(res.status, 422, res.text);
  });
});

describe('guards', () => {
  test('email normalisation: case, +tags, Gmail dots, googlemail = gmail', () => {
    assert.equal(normaliseEmail('  Ana.Petrova+shop@GoogleMail.com '), 'anapetrova@gmail.com');
    assert.equal(normaliseEmail('ivan+x@example.com'), 'ivan@example.com');
    assert.equal(normaliseEmail('i.van@example.com'), 'i.van@example.com', 'dots matter outside Gmail');
  });

  test('self-referral: own code, the same email by plus-addressing or Gmail dots, the same phone: 422, nothing stored', async () => {
    const t = await program();
    const referrer = await member(t, { email: 'anapetrova@gmail.com', phone: '+359888123456' });
    const code = await codeOf(t, referrer);
    const own = await attribute(t, { code, member_id: referrer });
    assert.equal(own.status, 422);
    assert.deepEqual(fields(own), ['code']);

    const dots = await member(t, { email: 'Ana.Petrova+friend@googlemail.com' });
    const byDots = await attribute(t, { code, member_id: dots });
    assert.equal(byDots.status, 422, byDots.text);
    assert.match(byDots.body.errors[0].detail, /self-referral/);
    // The email sent with the sign-up counts too.
    const other = await member(t, { email: 'someone@example.com' });
    const sent = await attribute(t, { code, member_id: other, email: 'ana.petrova+x@gmail.com' });
    assert.equal(sent.status, 422);
    assert.deepEqual(fields(sent), ['email']);

    const samePhone = await member(t, { phone: '+359888123456' });
    const byPhone = await attribute(t, { code, member_id: samePhone });
    assert.equal(byPhone.status, 422);
    assert.match(byPhone.body.errors[0].detail, /phone/);
    const phoneSent = await attribute(t, { code, member_id: other, phone: '+359888123456' });
    assert.deepEqual(fields(phoneSent), ['phone']);
    assert.equal((await t.api('GET', '/v1/referrals')).body.data.length, 0, 'nothing stored');

    // Plus-addressing on another domain is stripped; dots are not.
    const plus = await member(t, { email: 'ivan+ref@example.com' });
    const referrer2 = await member(t, { email: 'ivan@example.com' });
    assert.equal((await attribute(t, { code: await codeOf(t, referrer2), member_id: plus })).status, 422);
    const dotted = await member(t, { email: 'i.van@example.com' });
    assert.equal((await attribute(t, { code: await codeOf(t, referrer2), member_id: dotted })).status, 201);
  });

  test('one attribution per new member; re-sends answer with the first; a member who purchased before cannot be referred', async () => {
    const t = await program();
    const a = await member(t);
    const c = await member(t);
    const b = await member(t);
    const body = { code: await codeOf(t, a), member_id: b, ip: '198.51.100.1' };
    const first = await attribute(t, body);
    assert.equal(first.status, 201, first.text);
    const again = await attribute(t, body);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    const key = { 'idempotency-key': `ref-${crypto.randomUUID()}` };
    const other = await member(t);
    const k1 = await attribute(t, { code: await codeOf(t, a), member_id: other }, key);
    assert.equal(k1.status, 201);
    const k2 = await attribute(t, { code: await codeOf(t, a), member_id: other }, key);
    assert.equal(k2.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(k2.body, k1.body);

    const toOther = await attribute(t, { code: await codeOf(t, c), member_id: b });
    assert.equal(toOther.status, 409, toOther.text);
    assert.deepEqual(fields(toOther), ['member_id']);
    assert.equal((await t.api('GET', `/v1/referrals?referee_id=${b}`)).body.data.length, 1);

    // Concurrent attributions of one new member to two codes: exactly one wins.
    const d = await member(t);
    const results = await Promise.all([a, c].map(async (x) => attribute(t, { code: await codeOf(t, x), member_id: d })));
    assert.deepEqual(results.map((r) => r.status).sort(), [201, 409]);

    const buyer = await member(t);
    await purchase(t, buyer, 100);
    const late = await attribute(t, { code: await codeOf(t, a), member_id: buyer });
    assert.equal(late.status, 422);
    assert.deepEqual(fields(late), ['member_id']);
    assert.equal((await attribute(t, { code: 'NOSUCHCODE', member_id: await member(t) })).body.errors[0].field, 'code');
  });

  test('limit per referrer per month: beyond it rejected (limit_reached); rejected ones do not count; the next month is open', async () => {
    app.clock.set(new Date('2031-05-20T10:00:00Z'));
    const t = await program({ limit: { count: 2, period: 'month' } });
    const a = await member(t);
    const code = await codeOf(t, a);
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await attribute(t, { code, member_id: await member(t) });
      assert.equal(res.status, 201, res.text);
      statuses.push(`${res.body.status}:${res.body.reason}`);
    }
    assert.deepEqual(statuses, ['pending_purchase:null', 'pending_purchase:null', 'rejected:limit_reached', 'rejected:limit_reached']);
    assert.equal((await eventsOf(t, 'referral.rejected')).length, 2);
    const page = (await t.api('GET', `/v1/members/${a}/referral`)).body;
    assert.deepEqual([page.stats.total, page.stats.pending_purchase, page.stats.rejected], [4, 2, 2]);
    app.clock.set(new Date('2031-06-01T09:00:00Z'));
    assert.equal((await attribute(t, { code, member_id: await member(t) })).body.status, 'pending_purchase');
  });
});

describe('the review queue', () => {
  test('a shared device with the referrer, a shared IP with another referee, a disposable domain, a burst: in review; approve and reject', async () => {
    const t = await program({ review: { burst_per_hour: 2 }, extra_disposable_domains: ['throwaway.test'] });
    const a = await member(t);
    const code = await codeOf(t, a);
    const signals = await t.api('POST', `/v1/members/${a}/referral-signals`, { body: { device_id: 'device-of-a' } });
    assert.deepEqual(signals.body, { member_id: a, recorded: 1 });

    const clean = await attribute(t, { code, member_id: await member(t), ip: '192.0.2.10' });
    assert.equal(clean.body.status, 'pending_purchase');
    const device = await attribute(t, { code, member_id: await member(t), device_id: 'device-of-a' });
    assert.equal(device.body.status, 'in_review');
    assert.deepEqual(device.body.review_flags.map((f: any) => f.kind), ['shared_device']);
    assert.match(device.body.review_flags[0].detail, /referrer/);
    const ip = await attribute(t, { code, member_id: await member(t), ip: '192.0.2.10' });
    assert.deepEqual([ip.body.status, ip.body.review_flags.map((f: any) => f.kind)], ['in_review', ['shared_ip', 'burst']]);
    assert.match(ip.body.review_flags[0].detail, /other referee/);

    const b = await member(t);
    const bCode = await codeOf(t, b);
    const disposable = await attribute(t, { code: bCode, member_id: await member(t, { email: 'x@mailinator.com' }) });
    assert.deepEqual(disposable.body.review_flags, [{ kind: 'disposable_email', detail: 'the email address is at a disposable-email domain (mailinator.com)' }]);
    const extra = await attribute(t, { code: bCode, member_id: await member(t), email: 'y@mx.throwaway.test' });
    assert.equal(extra.body.review_flags[0].kind, 'disposable_email');

    const queue = (await t.api('GET', '/v1/referrals?status=in_review')).body.data.map((r: any) => r.id);
    assert.deepEqual(queue, [extra.body.id, disposable.body.id, ip.body.id, device.body.id]);
    assert.equal((await eventsOf(t, 'referral.flagged')).length, 4);

    // Approve: on to pending_purchase; one whose referee bought meanwhile goes on to qualifying.
    const approved = await t.api('POST', `/v1/referrals/${device.body.id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    assert.equal(approved.body.status, 'pending_purchase');
    assert.ok(approved.body.reviewed_at);
    await purchase(t, ip.body.referee_id, 3000);
    assert.equal((await referral(t, ip.body.id)).status, 'in_review', 'a purchase does not take it out of review');
    const approvedAfterPurchase = await t.api('POST', `/v1/referrals/${ip.body.id}/approve`);
    assert.equal(approvedAfterPurchase.body.status, 'qualifying');
    assert.equal((await t.api('POST', `/v1/referrals/${ip.body.id}/approve`)).status, 422, 'only a referral in review');

    const noReason = await t.api('POST', `/v1/referrals/${disposable.body.id}/reject`, { body: {} });
    assert.equal(noReason.status, 400);
    assert.deepEqual(fields(noReason), ['reason']);
    const rejected = await t.api('POST', `/v1/referrals/${disposable.body.id}/reject`, { body: { reason: 'throw-away address' } });
    assert.deepEqual([rejected.body.status, rejected.body.reason], ['rejected', 'throw-away address']);
    assert.equal((await t.api('POST', `/v1/referrals/${disposable.body.id}/reject`, { body: { reason: 'again' } })).status, 422);
    const audit = (await t.api('GET', `/v1/audit-log?resource_id=${disposable.body.id}`)).body.data;
    assert.deepEqual(audit.map((e: any) => e.action), ['POST /v1/referrals/:id/reject', 'POST /v1/referrals']);
    // Review decisions are for admins.
    const writeKey = await t.keyWith(['write']);
    assert.equal((await t.api('POST', `/v1/referrals/${extra.body.id}/approve`, { key: writeKey })).status, 403);
    assert.deepEqual((await t.api('GET', '/v1/referrals?status=in_review')).body.data.map((r: any) => r.id), [extra.body.id]);
  });
});

describe('returns and conversion', () => {
  test('a return below the minimum puts it back to pending_purchase; a void too; the job converts nothing', async () => {
    const t = await program();
    const { referee, referral: r } = await referred(t);
    const order = await purchase(t, referee, 2500);
    assert.equal((await referral(t, r.id)).status, 'qualifying');
    // A return that keeps the purchase above the minimum changes nothing.
    const small = await t.api('POST', '/v1/transactions', { body: { external_id: `ret-${crypto.randomUUID()}`, type: 'return', original_id: order.id, currency: 'EUR', total: 400 } });
    assert.equal(small.status, 201, small.text);
    assert.equal((await referral(t, r.id)).status, 'qualifying');
    const big = await t.api('POST', '/v1/transactions', { body: { external_id: `ret-${crypto.randomUUID()}`, type: 'return', original_id: order.id, currency: 'EUR', total: 500 } });
    assert.equal(big.status, 201, big.text);
    let now = await referral(t, r.id);
    assert.deepEqual([now.status, now.purchase_id, now.convert_after], ['pending_purchase', null, null]);
    assert.equal((await eventsOf(t, 'referral.disqualified'))[0].payload.reason, 'purchase_returned');

    // The next qualifying purchase qualifies it again; voiding that one undoes it too.
    const second = await purchase(t, referee, 2200);
    assert.equal((await referral(t, r.id)).status, 'qualifying');
    assert.equal((await t.api('POST', `/v1/transactions/${second.id}/void`, { body: { reason: 'fraud' } })).status, 200);
    now = await referral(t, r.id);
    assert.equal(now.status, 'pending_purchase');
    app.clock.advance(20 * DAY);
    assert.equal((await runJob(t)).converted, 0);
    assert.equal((await referral(t, r.id)).status, 'pending_purchase');
    assert.equal(await available(t, r.referrer_id), 0);
    assert.equal(await available(t, referee), 0);
    // Past the deadline with no qualifying purchase: expired.
    app.clock.advance(11 * DAY);
    assert.equal((await runJob(t)).expired, 1);
    assert.equal((await referral(t, r.id)).status, 'expired');
  });

  test('milestone bonus at the 3rd converted referral, once', async () => {
    const t = await program({ milestones: [{ count: 5, gift: { points: 5000 } }, { count: 3, gift: { points: 1000 } }] });
    const a = await member(t);
    const code = await codeOf(t, a);
    for (let i = 0; i < 4; i++) {
      const b = await member(t);
      assert.equal((await attribute(t, { code, member_id: b })).status, 201);
      await purchase(t, b, 2000);
      if (i === 2) {
        app.clock.advance(15 * DAY);
        assert.equal((await runJob(t)).converted, 3);
      }
    }
    assert.equal(await available(t, a), 3 * 500 + 1000);
    const page = (await t.api('GET', `/v1/members/${a}/referral`)).body;
    assert.deepEqual(page.milestones.map((m: any) => [m.count, m.reward.points]), [[3, 1000]]);
    app.clock.advance(15 * DAY);
    assert.equal((await runJob(t)).converted, 1);
    assert.equal(await available(t, a), 4 * 500 + 1000, 'no milestone at the 4th');
    const reached = await eventsOf(t, 'referral.milestone_reached');
    assert.deepEqual(reached.map((e: any) => e.payload.count), [3]);
    assert.equal((await t.api('GET', '/v1/referral-program')).body.milestones[0].count, 3, 'milestones are kept in order');
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });

  test('the job run twice at once converts each referral once', async () => {
    const t = await program();
    const a = await member(t);
    const code = await codeOf(t, a);
    const referees: string[] = [];
    for (let i = 0; i < 6; i++) {
      const b = await member(t);
      referees.push(b);
      assert.equal((await attribute(t, { code, member_id: b })).status, 201);
      await purchase(t, b, 2000);
    }
    app.clock.advance(15 * DAY);
    const runs = await Promise.all([runJob(t), runJob(t), app.patron.services.referrals.convertDue(app.patron.db, t.id)]);
    assert.equal(runs.reduce((s, r) => s + r.converted, 0), 6, JSON.stringify(runs));
    assert.equal(await available(t, a), 6 * 500);
    for (const b of referees) assert.equal(await available(t, b), 250);
    assert.equal((await eventsOf(t, 'referral.converted')).length, 6);
    const entries = await app.patron.db.query(`SELECT count(*)::int AS n FROM ledger_entries WHERE tenant_id = $1 AND source_type = 'referral'`, [t.id]);
    assert.equal(entries.rows[0].n, 12);
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });
});

describe('input and isolation', () => {
  test('bad input is a 400 naming every bad field', async () => {
    const t = await program();
    const bad = await attribute(t, { code: '', member_id: 'nope', ip: '999.1.1.1', colour: 'red' });
    assert.equal(bad.status, 400);
    assert.deepEqual(fields(bad), ['code', 'colour', 'ip', 'member_id']);
    const neither = await attribute(t, { code: 'ABCD2345' });
    assert.deepEqual(fields(neither), ['member_id']);
    const both = await attribute(t, { code: 'ABCD2345', member_id: crypto.randomUUID(), member_external_id: 'x', email: 'nope', phone: '12' });
    assert.deepEqual(fields(both), ['email', 'member_external_id', 'phone']);
    assert.deepEqual(fields(await attribute(t, { code: 'ab!c', member_id: crypto.randomUUID() })), ['code']);

    const settings = await t.api('PATCH', '/v1/referral-program', {
      body: {
        referrer_gift: {}, referee_gift: { points: 0 }, limit: { count: 0, period: 'week' }, share_link_template: 'ftp://shop.example/{code}',
        milestones: [{ count: 3, gift: { points: 10 } }, { count: 3, gift: { points: 20 } }], return_window_days: -1, extra_disposable_domains: ['not a domain'],
        review: { burst: 3 },
      },
    });
    assert.equal(settings.status, 400);
    assert.deepEqual(fields(settings), [
      'extra_disposable_domains[0]', 'limit.count', 'limit.period', 'milestones[1].count', 'referee_gift.points', 'referrer_gift', 'return_window_days', 'review.burst', 'share_link_template',
    ]);
    assert.equal((await t.api('PATCH', '/v1/referral-program', { body: { share_link_template: 'https://shop.example/r/' } })).body.errors[0].detail, 'must contain {code}');
    assert.equal((await t.api('PATCH', '/v1/referral-program', { body: { share_link_template: 'https://me:pw@shop.example/r/{code}' } })).body.errors[0].detail, 'must not carry a user name or password');
    assert.equal((await t.api('PATCH', '/v1/referral-program', { body: {} })).status, 400);
    assert.equal((await t.api('PATCH', '/v1/referral-program', { body: { enabled: false }, key: await t.keyWith(['write']) })).status, 403);
    assert.equal((await t.api('POST', `/v1/members/${await member(t)}/referral-signals`, { body: { ip: 'x' } })).body.errors[0].field, 'ip');
    assert.equal((await t.api('GET', '/v1/referrals?status=nope')).status, 400);
  });

  test("another tenant's members, codes and referrals are invisible: 404, or an unknown code", async () => {
    const t = await program();
    const other = await program();
    const { referrer, referral: r } = await referred(t);
    const code = await codeOf(t, referrer);
    assert.equal((await other.api('GET', `/v1/members/${referrer}/referral`)).status, 404);
    assert.equal((await other.api('GET', `/v1/referrals/${r.id}`)).status, 404);
    assert.equal((await other.api('POST', `/v1/referrals/${r.id}/reject`, { body: { reason: 'x' } })).status, 404);
    assert.equal((await other.api('POST', `/v1/referrals/${r.id}/approve`)).status, 404);
    assert.equal((await other.api('POST', `/v1/members/${referrer}/referral-signals`, { body: { ip: '192.0.2.1' } })).status, 404);
    const theirs = await member(other);
    const res = await attribute(other, { code, member_id: theirs });
    assert.equal(res.status, 422);
    assert.deepEqual(fields(res), ['code']);
    assert.equal((await other.api('POST', '/v1/referrals', { body: { code: await codeOf(other, theirs), member_id: r.referee_id } })).status, 422);
    assert.deepEqual((await other.api('GET', '/v1/referrals')).body.data, []);
    assert.equal((await referral(t, r.id)).status, 'pending_purchase');
  });

  test('GDPR: the export part holds the member\'s referrals; erasure deletes their signals', async () => {
    const t = await program();
    const a = await member(t);
    const b = await member(t);
    assert.equal((await attribute(t, { code: await codeOf(t, a), member_id: b, device_id: 'dev-1' })).status, 201);
    const exported = await app.patron.services.referrals.exportMember(app.patron.db, t.id, a);
    assert.equal(exported.referrals.length, 1);
    assert.match(exported.code!, /^[2-9A-Z]{8}$/);
    assert.equal((await t.api('POST', `/v1/members/${b}/erase`)).status, 200);
    const left = await app.patron.db.query(`SELECT count(*)::int AS n FROM referral_signals WHERE tenant_id = $1 AND member_id = $2`, [t.id, b]);
    assert.equal(left.rows[0].n, 0);
  });
});
