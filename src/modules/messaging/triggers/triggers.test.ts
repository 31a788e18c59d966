/**
 * The member triggers over real PostgreSQL and HTTP: settings, the scheduled `messages.triggers` job (run on demand,
 * the clock set) and the event triggers (the outbox dispatched on demand). Assertions are on the send log (messages):
 * what was queued, held out, deduplicated, with which variables and offer. Sending is the sender's and tested there.
 *
 * The clock is set after 2030 (test/helpers.ts) so that jobs of other test processes never find these members due.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { newId } from '../../../platform/ids.js';
import { emit } from '../../../platform/outbox/outbox.js';
import { summarizeSample, welchTest } from '../../analytics/economics/stats.js';
import { createPatron } from '../../../app.js';
import { SettableClock } from '../../../platform/clock.js';
import { startTestApp, testConfig, type TestApp, type TestTenant } from '../../../../test/helpers.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2031-06-01T12:00:00Z'));
});
after(() => app.close());

const DAY = 86_400_000;
const at = (iso: string) => app.clock.set(new Date(iso));
const runJob = (t: TestTenant) => app.patron.jobs.runNow('messages.triggers', { tenant_id: t.id }) as Promise<Record<string, number>>;
const dispatch = (t: TestTenant) => app.patron.dispatcher.dispatchAll(t.id);

interface Msg { id: string; member_id: string | null; trigger: string; dedupe_key: string; status: string; channel: string; to_address: string | null; variables: any; offer: any; send_after: Date; locale: string; category: string }
async function messages(t: TestTenant, trigger?: string): Promise<Msg[]> {
  const res = await app.patron.db.query<Msg>(
    `SELECT id, member_id, trigger, dedupe_key, status, channel, to_address, variables, offer, send_after, locale, category
       FROM messages WHERE tenant_id = $1 AND ($2::text IS NULL OR trigger = $2) ORDER BY created_at, id`,
    [t.id, trigger ?? null],
  );
  return res.rows;
}

async function tenant(body: Record<string, unknown> = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  if (Object.keys(body).length) {
    const res = await t.api('PATCH', '/v1/tenant', { body });
    assert.equal(res.status, 200, res.text);
  }
  return t;
}

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const full: Record<string, unknown> = { first_name: 'Ana', email: `m-${crypto.randomUUID()}@example.com`, ...body };
  if (full.email === null) delete full.email;
  const res = await t.api('POST', '/v1/members', { body: full });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function setTrigger(t: TestTenant, trigger: string, body: Record<string, unknown>, method = 'PATCH') {
  const res = await t.api(method, `/v1/messaging/triggers/${trigger}`, { body });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function purchase(t: TestTenant, body: Record<string, unknown>) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${crypto.randomUUID()}`, currency: 'EUR', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const available = async (t: TestTenant, id: string): Promise<number> => (await t.api('GET', `/v1/members/${id}/balance`)).body.available;

describe('trigger settings', () => {
  test('defaults, PATCH and PUT, validation naming fields, the offer reward must exist, an event, admin only', async () => {
    const t = await tenant();
    const list = await t.api('GET', '/v1/messaging/triggers');
    assert.equal(list.status, 200, list.text);
    const byName = Object.fromEntries(list.body.data.map((v: any) => [v.trigger, v]));
    assert.equal(list.body.data.length, 10);
    assert.deepEqual(
      Object.entries(byName).filter(([, v]: any) => v.enabled).map(([k]) => k).sort(),
      ['case_reply', 'points_expiring', 'referral_converted', 'reward_issued', 'survey_invitation', 'tier_upgraded'],
    );
    assert.deepEqual(byName.win_back.settings, { source: 'no_purchase', days_without_purchase: 90, control_percent: 10, repeat_after_days: 180 });
    assert.deepEqual(byName.points_expiring.settings, { days_before: 14, send_hour: 9 });
    assert.equal(byName.birthday.category, 'marketing');
    assert.equal(byName.case_reply.category, 'transactional');
    assert.equal(byName.birthday.customized, false);

    const changed = await setTrigger(t, 'birthday', { enabled: true, settings: { send_hour: 10 }, offer: { points: 50 } });
    assert.deepEqual([changed.enabled, changed.settings, changed.offer, changed.customized, changed.defaults.settings], [true, { send_hour: 10 }, { points: 50 }, true, { send_hour: 9 }]);
    // PATCH keeps what is not sent; PUT sets the rest back to the defaults.
    assert.deepEqual((await setTrigger(t, 'birthday', { channel: 'sms' })).settings, { send_hour: 10 });
    const put = await setTrigger(t, 'birthday', { enabled: true }, 'PUT');
    assert.deepEqual([put.enabled, put.channel, put.settings, put.offer], [true, 'email', { send_hour: 9 }, null]);

    const bad = await t.api('PATCH', '/v1/messaging/triggers/win_back', { body: { settings: { control_percent: 80, repeat_after_days: 0, colour: 1 }, offer: { points: 5, reward_id: crypto.randomUUID() }, channel: 'fax' } });
    assert.equal(bad.status, 400, bad.text);
    const fields = bad.body.errors.map((e: any) => e.field).sort();
    for (const f of ['channel', 'offer', 'settings.colour', 'settings.control_percent', 'settings.repeat_after_days']) assert.ok(fields.includes(f), `${f} in ${fields}`);
    const unknownReward = await t.api('PATCH', '/v1/messaging/triggers/win_back', { body: { offer: { reward_id: crypto.randomUUID() } } });
    assert.equal(unknownReward.status, 400);
    assert.deepEqual(unknownReward.body.errors.map((e: any) => e.field), ['offer.reward_id']);
    // Only birthday, anniversary and win-back take an offer.
    const noOffer = await t.api('PATCH', '/v1/messaging/triggers/tier_upgraded', { body: { offer: { points: 5 } } });
    assert.equal(noOffer.status, 400);
    assert.deepEqual(noOffer.body.errors.map((e: any) => e.field), ['offer']);

    const events = (await t.api('GET', '/v1/domain-events?type=message_trigger.updated')).body.data;
    assert.equal(events.length, 3);
    assert.deepEqual(events[0].payload.changed.sort(), ['enabled', 'offer', 'settings']);
    const write = await t.keyWith(['write']);
    assert.equal((await t.api('PATCH', '/v1/messaging/triggers/birthday', { body: { enabled: false }, key: write })).status, 403);
    assert.equal((await t.api('GET', '/v1/messaging/triggers/birthday', { key: write })).body.enabled, true);
  });
});

describe('the messages.triggers job', () => {
  test('a slow run is not expired and started again beside itself, and a failed one waits for the next hour', async () => {
    const { defineTriggerJobs } = await import('./triggers.jobs.js');
    const defs: Array<{ name: string; schedule?: string; expireInSeconds?: number; retryLimit?: number }> = [];
    defineTriggerJobs({ define: (d: (typeof defs)[number]) => defs.push(d) } as never, { db: app.patron.db, triggers: {} as never, tenants: {} as never });
    assert.deepEqual(defs.map((d) => [d.name, d.schedule, d.expireInSeconds, d.retryLimit]), [['messages.triggers', '10 * * * *', 6 * 3600, 0]]);
  });
});

describe('birthday and anniversary', () => {
  test('on the local day once send_hour has come, once a year across reruns and two processes at once, the bonus given once', async () => {
    at('2031-06-15T05:00:00Z');
    const t = await tenant({ time_zone: 'Europe/Sofia' });
    await setTrigger(t, 'birthday', { enabled: true, offer: { points: 100 } });
    const ana = await member(t, { birth_date: '1990-06-15', consent: { email: true } });
    const notToday = await member(t, { birth_date: '1990-06-16', consent: { email: true } });

    // 08:00 in Sofia: not yet.
    assert.equal((await runJob(t)).birthday, 0);
    at('2031-06-15T06:30:00Z');
    // A second Patron on the same database (without HTTP: it only runs the job), as another process would be.
    const clock = new SettableClock();
    clock.set(app.clock.now());
    const second = await createPatron({ config: testConfig(), clock, jobs: 'off', http: false });
    try {
      const other = () => second.jobs.runNow('messages.triggers', { tenant_id: t.id });
      // Two processes, two runs each, at once.
      await Promise.all([runJob(t), other(), runJob(t), other()]);
    } finally {
      await second.close();
    }
    const sent = await messages(t, 'birthday');
    assert.equal(sent.length, 1);
    const m = sent[0]!;
    assert.deepEqual([m.member_id, m.dedupe_key, m.status, m.category], [ana, `birthday:${ana}:2031`, 'queued', 'marketing']);
    assert.equal(m.offer.points, 100);
    assert.equal(m.offer.result.points, 100);
    assert.deepEqual(m.variables.offer, { points: 100, reward_name: null, code: null });
    assert.deepEqual(m.variables.points, { balance: 100 }, 'the balance with the bonus just given');
    assert.equal(m.variables.member.first_name, 'Ana');
    assert.equal(await available(t, ana), 100, 'the bonus is given exactly once');
    assert.equal(await available(t, notToday), 0);
    const entries = (await t.api('GET', `/v1/members/${ana}/ledger`)).body.data;
    assert.deepEqual(entries.map((e: any) => [e.points, e.source_type, e.source_id]), [[100, 'system', m.id]]);

    // Later that day and the next year: one more, in 2032 only.
    at('2031-06-15T20:00:00Z');
    assert.equal((await runJob(t)).birthday, 0);
    at('2032-06-15T07:00:00Z');
    assert.equal((await runJob(t)).birthday, 1);
    assert.deepEqual((await messages(t, 'birthday')).map((x) => x.dedupe_key), [`birthday:${ana}:2031`, `birthday:${ana}:2032`]);
    assert.equal(await available(t, ana), 200);
  });

  test("the member's own time zone: Auckland and Los Angeles on either side of the date line", async () => {
    at('2031-06-14T12:00:00Z');
    const t = await tenant();
    await setTrigger(t, 'birthday', { enabled: true });
    const auckland = await member(t, { birth_date: '1985-06-15', time_zone: 'Pacific/Auckland' });
    const la = await member(t, { birth_date: '1985-06-15', time_zone: 'America/Los_Angeles' });
    // 21:30 UTC on the 14th: 09:30 on the 15th in Auckland, 14:30 on the 14th in Los Angeles.
    at('2031-06-14T21:30:00Z');
    await runJob(t);
    assert.deepEqual((await messages(t, 'birthday')).map((m) => m.member_id), [auckland]);
    // 08:30 on the 15th in Los Angeles: before send_hour.
    at('2031-06-15T15:30:00Z');
    await runJob(t);
    assert.equal((await messages(t, 'birthday')).length, 1);
    // 09:30 in Los Angeles; in Auckland it is already the 16th.
    at('2031-06-15T16:30:00Z');
    await runJob(t);
    const sent = await messages(t, 'birthday');
    assert.deepEqual(sent.map((m) => [m.member_id, m.dedupe_key]), [[auckland, `birthday:${auckland}:2031`], [la, `birthday:${la}:2031`]]);
  });

  test('29 February: on 28 February in other years, on the 29th in leap years', async () => {
    at('2031-02-27T12:00:00Z');
    const t = await tenant();
    await setTrigger(t, 'birthday', { enabled: true });
    const leap = await member(t, { birth_date: '2000-02-29' });
    at('2031-02-28T10:00:00Z');
    await runJob(t);
    at('2031-03-01T10:00:00Z');
    await runJob(t);
    assert.deepEqual((await messages(t, 'birthday')).map((m) => m.dedupe_key), [`birthday:${leap}:2031`]);
    at('2032-02-28T10:00:00Z');
    await runJob(t);
    assert.equal((await messages(t, 'birthday')).length, 1, 'not on the 28th of a leap year');
    at('2032-02-29T10:00:00Z');
    await runJob(t);
    assert.deepEqual((await messages(t, 'birthday')).map((m) => m.dedupe_key), [`birthday:${leap}:2031`, `birthday:${leap}:2032`]);
  });

  test('enrolment anniversary: the years in the variables, once a year, not in the first year', async () => {
    at('2031-03-10T12:00:00Z');
    const t = await tenant();
    await setTrigger(t, 'anniversary', { enabled: true, settings: { send_hour: 8 } });
    const old = await member(t, { enrolled_at: '2029-03-10T12:00:00Z' });
    await member(t, { enrolled_at: '2031-03-10T09:00:00Z' });
    await member(t, { enrolled_at: '2029-03-11T12:00:00Z' });
    assert.equal((await runJob(t)).anniversary, 1);
    assert.equal((await runJob(t)).anniversary, 0);
    const [m] = await messages(t, 'anniversary');
    assert.deepEqual([m!.member_id, m!.dedupe_key, m!.variables.anniversary, m!.variables.points], [old, `anniversary:${old}:2031`, { years: 2 }, { balance: 0 }]);
  });

  test('a disabled trigger enqueues nothing', async () => {
    at('2031-07-01T12:00:00Z');
    const t = await tenant();
    await member(t, { birth_date: '1990-07-01' });
    assert.deepEqual(await runJob(t), { tenants: 1, points_expiring: 0 });
    await setTrigger(t, 'points_expiring', { enabled: false });
    assert.deepEqual(await runJob(t), { tenants: 1 });
    assert.equal((await messages(t)).length, 0);
  });
});

describe('points expiring and tier at risk', () => {
  test('points expiring: the lots of the earliest date and that date; no new message within days_before (a frequent buyer)', async () => {
    at('2031-01-10T12:00:00Z');
    const t = await tenant();
    const ana = await member(t);
    const adjust = async (points: number, expires_at: string) => {
      const res = await t.api('POST', `/v1/members/${ana}/adjustments`, { body: { points, reason: 'test', expires_at } });
      assert.equal(res.status, 201, res.text);
    };
    await adjust(300, '2031-07-08T08:00:00Z');
    await adjust(200, '2031-07-08T18:00:00Z');
    await adjust(100, '2031-07-10T12:00:00Z');
    await adjust(40, '2031-07-20T12:00:00Z');
    await adjust(50, '2031-12-01T12:00:00Z');
    // 14 days before 8 July: nothing yet on 23 June.
    at('2031-06-23T12:00:00Z');
    assert.equal((await runJob(t)).points_expiring, 0);
    at('2031-06-27T06:00:00Z');
    assert.equal((await runJob(t)).points_expiring, 1);
    assert.equal((await runJob(t)).points_expiring, 0);
    const [m] = await messages(t, 'points_expiring');
    assert.equal(m!.category, 'transactional');
    assert.equal(m!.dedupe_key, `points_expiring:${ana}:2031-07-08`);
    // "500 points expire on 8 July": the two lots of that day, not the 100 of 10 July (also within 14 days).
    assert.deepEqual(m!.variables.points, { balance: 690, expiring: 500, expiring_on: '2031-07-08' });
    assert.equal(m!.send_after.toISOString(), '2031-06-27T09:00:00.000Z');
    // The first lots expire; the next date (10 July) is within 14 days of the last message: nothing new yet.
    at('2031-07-09T12:00:00Z');
    await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id });
    assert.equal((await runJob(t)).points_expiring, 0);
    // 14 days after the first message, the next earliest date makes one.
    at('2031-07-11T07:00:00Z');
    await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id });
    assert.equal((await runJob(t)).points_expiring, 1);
    const last = (await messages(t, 'points_expiring'))[1]!;
    assert.equal(last.dedupe_key, `points_expiring:${ana}:2031-07-20`);
    assert.deepEqual(last.variables.points, { balance: 90, expiring: 40, expiring_on: '2031-07-20' });
  });

  test('an event older than 48 hours when it is dispatched (a replayed history, a long outage) tells nobody', async () => {
    at('2030-03-02T12:00:00Z');
    const t = await tenant();
    assert.equal((await t.api('PATCH', '/v1/tier-settings', { body: { metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'anniversary' } })).status, 200);
    for (const tier of [{ code: 'silver', name: 'Silver', rank: 1, entry_threshold: 0 }, { code: 'gold', name: 'Gold', rank: 2, entry_threshold: 10000 }]) {
      assert.equal((await t.api('POST', '/v1/tiers', { body: tier })).status, 201);
    }
    const old = await member(t);
    await purchase(t, { member_id: old, total: 12000 });
    at('2030-03-04T12:00:01Z'); // 48 hours and a second later
    const fresh = await member(t);
    await purchase(t, { member_id: fresh, total: 12000 });
    await dispatch(t);
    const sent = await messages(t, 'tier_upgraded');
    assert.deepEqual(sent.map((m) => m.member_id), [fresh]);
  });

  test('tier upgraded by a real order (next tier and what is left), then tier at risk before its evaluation', async () => {
    at('2030-01-05T12:00:00Z');
    const t = await tenant();
    assert.equal((await t.api('PATCH', '/v1/tier-settings', { body: { metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'anniversary' } })).status, 200);
    for (const tier of [
      { code: 'silver', name: 'Silver', rank: 1, entry_threshold: 0 },
      { code: 'gold', name: 'Gold', names: { bg: 'Злато' }, rank: 2, entry_threshold: 10000, keep_threshold: 8000 },
      { code: 'platinum', name: 'Platinum', rank: 3, entry_threshold: 50000, keep_threshold: 40000 },
    ]) assert.equal((await t.api('POST', '/v1/tiers', { body: tier })).status, 201);
    await setTrigger(t, 'tier_at_risk', { enabled: true, settings: { days_before: 30 } });
    const ana = await member(t);
    await purchase(t, { member_id: ana, total: 6000 });
    await dispatch(t);
    assert.equal((await messages(t, 'tier_upgraded')).length, 0);
    at('2030-06-01T12:00:00Z');
    await purchase(t, { member_id: ana, total: 4000 });
    await dispatch(t);
    await dispatch(t);
    const up = await messages(t, 'tier_upgraded');
    assert.equal(up.length, 1);
    const event = (await t.api('GET', '/v1/domain-events?type=tier.upgraded')).body.data[0];
    assert.equal(up[0]!.dedupe_key, `event:${event.id}`);
    assert.deepEqual(up[0]!.variables.tier, { name: 'Gold', next_name: 'Platinum', remaining: '€400.00', progress_percent: 20 });
    assert.deepEqual(up[0]!.variables.points, { balance: await available(t, ana) });

    // The anniversary evaluation judges the 12 months before it: only the 40.00 of June counts towards 80.00.
    const view = (await t.api('GET', `/v1/members/${ana}/tier`)).body;
    const by = new Date(view.progress.keep.by);
    at(new Date(by.getTime() - 31 * DAY).toISOString());
    assert.equal((await runJob(t)).tier_at_risk, 0);
    at(new Date(by.getTime() - 20 * DAY).toISOString());
    assert.equal((await runJob(t)).tier_at_risk, 1);
    assert.equal((await runJob(t)).tier_at_risk, 0);
    const keep = (await t.api('GET', `/v1/members/${ana}/tier`)).body.progress.keep;
    assert.equal(keep.remaining, 4000);
    const [risk] = await messages(t, 'tier_at_risk');
    assert.equal(risk!.dedupe_key, `tier_at_risk:${ana}:${by.toISOString().slice(0, 10)}`);
    assert.deepEqual(risk!.variables.tier, { name: 'Gold', keep_remaining: '€40.00', keep_by: by.toISOString().slice(0, 10) });
    assert.deepEqual(risk!.variables.points, { balance: await available(t, ana) });
    // Spending enough to keep it leaves nothing to warn about.
    await purchase(t, { member_id: ana, total: 5000 });
    assert.equal((await t.api('GET', `/v1/members/${ana}/tier`)).body.progress.keep.remaining, 0);
  });
});

describe('event triggers', () => {
  test("tier upgraded names the event's tier, not the one the member has moved on to since", async () => {
    at('2030-05-01T12:00:00Z');
    const t = await tenant();
    assert.equal((await t.api('PATCH', '/v1/tier-settings', { body: { metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'anniversary' } })).status, 200);
    for (const tier of [
      { code: 'silver', name: 'Silver', rank: 1, entry_threshold: 0 },
      { code: 'gold', name: 'Gold', names: { bg: 'Злато' }, rank: 2, entry_threshold: 10000 },
      { code: 'platinum', name: 'Platinum', rank: 3, entry_threshold: 50000 },
    ]) assert.equal((await t.api('POST', '/v1/tiers', { body: tier })).status, 201);
    const ana = await member(t, { locale: 'bg' });
    await purchase(t, { member_id: ana, total: 12000 });
    await purchase(t, { member_id: ana, total: 40000 });
    await dispatch(t);
    const up = await messages(t, 'tier_upgraded');
    assert.deepEqual(up.map((m) => m.variables.tier.name), ['Злато', 'Platinum']);
    // Gold's way on is no longer the member's: no progress figures from the current tier in its message.
    assert.deepEqual([up[0]!.variables.tier.next_name, up[0]!.variables.tier.remaining], [null, null]);
  });

  test('reward and voucher issued: one message per reward (with the code), one for a voucher given by hand', async () => {
    at('2031-08-01T12:00:00Z');
    const t = await tenant();
    const ana = await member(t);
    assert.equal((await t.api('POST', `/v1/members/${ana}/adjustments`, { body: { points: 500, reason: 'test' } })).status, 201);
    const reward = await t.api('POST', '/v1/rewards', { body: { kind: 'free_product', name: { en: 'Coffee', bg: 'Кафе' }, points: 100, voucher: { sku: 'COFFEE', valid_days: 30 } } });
    assert.equal(reward.status, 201, reward.text);
    const rr = await t.api('POST', '/v1/reward-redemptions', { body: { member_id: ana, reward_id: reward.body.id } });
    assert.equal(rr.status, 201, rr.text);
    const byHand = await t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 500, currency: 'EUR', member_id: ana } });
    assert.equal(byHand.status, 201, byHand.text);
    await dispatch(t);
    const sent = await messages(t, 'reward_issued');
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[0]!.variables.reward, { name: 'Coffee', code: rr.body.voucher.code, expires_on: '2031-08-31' });
    assert.deepEqual([sent[1]!.variables.reward.name, sent[1]!.variables.reward.code], ['Voucher', byHand.body.code]);
    // A voucher has no name of its own: the word for it in the member's language.
    const boris = await member(t, { locale: 'bg' });
    assert.equal((await t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 500, currency: 'EUR', member_id: boris } })).status, 201);
    await dispatch(t);
    const bg = (await messages(t, 'reward_issued')).find((m) => m.member_id === boris)!;
    assert.equal(bg.variables.reward.name, 'Ваучер');
  });

  test('a birthday offer of a catalog reward is told in the birthday message only', async () => {
    at('2031-09-01T12:00:00Z');
    const t = await tenant();
    const reward = await t.api('POST', '/v1/rewards', { body: { kind: 'free_product', name: { en: 'Cake' }, points: 1000, voucher: { sku: 'CAKE', valid_days: 14 } } });
    assert.equal(reward.status, 201, reward.text);
    await setTrigger(t, 'birthday', { enabled: true, offer: { reward_id: reward.body.id } });
    const ana = await member(t, { birth_date: '1990-09-01', consent: { email: true } });
    await runJob(t);
    await dispatch(t);
    const [m] = await messages(t, 'birthday');
    assert.equal(m!.member_id, ana);
    assert.equal(m!.variables.offer.reward_name, 'Cake');
    assert.match(m!.variables.offer.code, /\S{6,}/);
    assert.equal((await messages(t, 'reward_issued')).length, 0);
    assert.equal(await available(t, ana), 0, 'the gift costs the member nothing');
  });

  test('survey invitation carries the signed link, which opens the survey', async () => {
    at('2031-10-01T12:00:00Z');
    const t = await tenant();
    const s = await t.api('POST', '/v1/surveys', { body: { name: 'NPS', touchpoint: 'purchase', definition: { questions: [{ key: 'nps', type: 'nps' }] } } });
    assert.equal(s.status, 201, s.text);
    assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/publish`)).status, 200);
    const ana = await member(t, { external_id: 'c-1' });
    const noEmail = await member(t, { external_id: 'c-2', email: null });
    const inv = await t.api('POST', `/v1/surveys/${s.body.id}/invitations`, { body: { member_external_id: 'c-1' } });
    assert.equal(inv.status, 201, inv.text);
    assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/invitations`, { body: { member_external_id: 'c-2' } })).status, 201);
    await dispatch(t);
    const sent = await messages(t, 'survey_invitation');
    assert.deepEqual(sent.map((m) => m.member_id), [ana]);
    assert.notEqual(noEmail, ana);
    assert.equal(sent[0]!.variables.survey.link, inv.body.url);
    assert.equal(sent[0]!.variables.survey.name, 'NPS');
    const page = await fetch(sent[0]!.variables.survey.link);
    assert.equal(page.status, 200);
    await page.text();
  });

  test("case reply: to the member's email or the anonymous feedback's; message.sent marks the reply sent, message.failed failed", async () => {
    at('2031-11-01T12:00:00Z');
    const t = await tenant();
    const ana = await member(t, { email: 'ana@example.com' });
    const fb = await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'My points are missing' } });
    assert.equal(fb.status, 201, fb.text);
    const caseId = fb.body.case_id ?? fb.body.id;
    const reply = await t.api('POST', `/v1/cases/${caseId}/replies`, { body: { body: 'Sorry, we added them.' } });
    assert.equal(reply.status, 201, reply.text);
    const anon = await t.api('POST', '/v1/feedback', { body: { email: 'guest@example.com', message: 'Slow checkout' } });
    assert.equal(anon.status, 201, anon.text);
    const anonReply = await t.api('POST', `/v1/cases/${anon.body.case_id ?? anon.body.id}/replies`, { body: { body: 'Thank you, fixed.' } });
    assert.equal(anonReply.status, 201, anonReply.text);
    await dispatch(t);
    const sent = await messages(t, 'case_reply');
    assert.deepEqual(sent.map((m) => [m.member_id, m.to_address, m.dedupe_key, m.category]), [
      [ana, 'ana@example.com', `reply:${reply.body.id}`, 'transactional'],
      [null, 'guest@example.com', `reply:${anonReply.body.id}`, 'transactional'],
    ]);
    assert.deepEqual(sent[0]!.variables.case, { reply: 'Sorry, we added them.', reference: caseId });

    const stateOf = async (id: string, entry: string) => (await t.api('GET', `/v1/cases/${id}`)).body.timeline.find((e: any) => e.id === entry).delivery_state;
    assert.equal(await stateOf(caseId, reply.body.id), 'pending');
    // What the sender emits when it has sent (or given up on) a message.
    await app.patron.db.tx(async (tx) => {
      await emit(tx, { tenantId: t.id, type: 'message.sent', aggregateType: 'message', aggregateId: sent[0]!.id, memberId: ana, payload: { message_id: sent[0]!.id, trigger: 'case_reply' }, occurredAt: app.clock.now() });
      await emit(tx, { tenantId: t.id, type: 'message.failed', aggregateType: 'message', aggregateId: sent[1]!.id, payload: { message_id: sent[1]!.id, trigger: 'case_reply' }, occurredAt: app.clock.now() });
    });
    await dispatch(t);
    assert.equal(await stateOf(caseId, reply.body.id), 'sent');
    assert.equal(await stateOf(anon.body.case_id ?? anon.body.id, anonReply.body.id), 'failed');

    // Never left pending: a reply whose message the sender suppressed, a member with no address, the trigger off.
    const second = await t.api('POST', `/v1/cases/${caseId}/replies`, { body: { body: 'One more thing.' } });
    assert.equal(second.status, 201, second.text);
    const noMail = await member(t, { email: null });
    const fb2 = await t.api('POST', '/v1/feedback', { body: { member_id: noMail, message: 'Where is my voucher?' } });
    assert.equal(fb2.status, 201, fb2.text);
    const case2 = fb2.body.case_id ?? fb2.body.id;
    const noMailReply = await t.api('POST', `/v1/cases/${case2}/replies`, { body: { body: 'In the app.' } });
    assert.equal(noMailReply.status, 201, noMailReply.text);
    await dispatch(t);
    assert.equal(await stateOf(case2, noMailReply.body.id), 'failed');
    const secondMsg = (await messages(t, 'case_reply')).find((m) => m.dedupe_key === `reply:${second.body.id}`)!;
    await app.patron.db.tx((tx) => emit(tx, { tenantId: t.id, type: 'message.suppressed', aggregateType: 'message', aggregateId: secondMsg.id, memberId: ana, payload: { message_id: secondMsg.id, trigger: 'case_reply', reason: 'address_suppressed' }, occurredAt: app.clock.now() }));
    await dispatch(t);
    assert.equal(await stateOf(caseId, second.body.id), 'failed');
    await setTrigger(t, 'case_reply', { enabled: false });
    const third = await t.api('POST', `/v1/cases/${caseId}/replies`, { body: { body: 'And a last one.' } });
    assert.equal(third.status, 201, third.text);
    await dispatch(t);
    assert.equal(await stateOf(caseId, third.body.id), 'failed');
    // Dispatched more than 48 hours late (an outage): not sent, and not left pending either.
    await setTrigger(t, 'case_reply', { enabled: true });
    const late = await t.api('POST', `/v1/cases/${caseId}/replies`, { body: { body: 'Sorry for the delay.' } });
    assert.equal(late.status, 201, late.text);
    app.clock.advance(3 * DAY);
    await dispatch(t);
    assert.equal(await stateOf(caseId, late.body.id), 'failed');
    assert.equal((await messages(t, 'case_reply')).filter((m) => m.dedupe_key === `reply:${late.body.id}`).length, 0);
  });

  test('referral converted: the referrer is told, with the friend and the points', async () => {
    at('2031-02-03T10:00:00Z');
    const t = await tenant();
    const prog = await t.api('PATCH', '/v1/referral-program', { body: { enabled: true, share_link_template: 'https://shop.example/r/{code}', referrer_gift: { points: 500 }, referee_gift: { points: 250 }, min_purchase_amount: 2000, purchase_within_days: 30, return_window_days: 14, review: { burst_per_hour: null } } });
    assert.equal(prog.status, 200, prog.text);
    const referrer = await member(t, { first_name: 'Ana' });
    const referee = await member(t, { first_name: 'Boris' });
    const code = (await t.api('GET', `/v1/members/${referrer}/referral`)).body.code;
    assert.equal((await t.api('POST', '/v1/referrals', { body: { code, member_id: referee } })).status, 201);
    await purchase(t, { member_id: referee, total: 2500 });
    app.clock.advance(15 * DAY);
    assert.equal(((await app.patron.jobs.runNow('referrals.convert', { tenant_id: t.id })) as any).converted, 1);
    await dispatch(t);
    const sent = await messages(t, 'referral_converted');
    assert.deepEqual(sent.map((m) => m.member_id), [referrer]);
    assert.deepEqual(sent[0]!.variables.referral, { friend_name: 'Boris', points: 500, code, link: `https://shop.example/r/${code}` });
    assert.deepEqual(sent[0]!.variables.points, { balance: await available(t, referrer) });
  });
});

describe('win-back', () => {
  test('lapsed buyers: a deterministic control group of about control_percent, the offer to the treated only, once per period', async () => {
    at('2032-01-01T12:00:00Z');
    const t = await tenant();
    await setTrigger(t, 'win_back', { enabled: true, offer: { points: 20 } });
    const old = new Date(app.clock.now().getTime() - 100 * DAY);
    const recent = new Date(app.clock.now().getTime() - 10 * DAY).toISOString();
    // 200 members who bought 100 days ago, loaded in bulk (this test is not about how they came).
    const ids = Array.from({ length: 200 }, () => newId());
    // Every other member has consent for email: only they can hear of an offer, so only they are given it.
    const consenting = new Set(ids.filter((_, i) => i % 2 === 0));
    await app.patron.db.tx((tx) => app.patron.services.members.loadHistory(tx, t.id, ids.map((id, i) => ({
      id, external_id: `w-${i}`, email: `w-${i}@example.com`, locale: 'en' as const, enrolled_at: old,
      consents: consenting.has(id) ? [{ channel: 'email' as const, granted: true, source: 'test', at: old }] : [],
    }))));
    await app.patron.db.query(
      `INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, occurred_at, currency, total, body_digest, source, created_at)
       SELECT $1, gen_random_uuid(), 'fixture-' || m, 'purchase', 'recorded', m, $2, 'EUR', 1000, 'fixture', 'import', $2 FROM unnest($3::uuid[]) AS m`,
      [t.id, old, ids],
    );
    // Bought again lately: not lapsed.
    await purchase(t, { member_external_id: 'w-0', occurred_at: recent, total: 1000 });
    const run = await runJob(t);
    assert.equal(run.win_back, 199);
    const sent = await messages(t, 'win_back');
    assert.equal(sent.length, 199);
    const control = sent.filter((m) => m.status === 'control');
    const treated = sent.filter((m) => m.status === 'queued');
    assert.equal(control.length + treated.length, 199);
    assert.ok(control.length >= 8 && control.length <= 35, `about 10 % held out: ${control.length}`);
    assert.ok(control.every((m) => m.offer === null && m.variables.offer === undefined));
    assert.ok(treated.some((m) => consenting.has(m.member_id!)) && treated.some((m) => !consenting.has(m.member_id!)));
    for (const m of treated) {
      if (consenting.has(m.member_id!)) {
        assert.equal(m.offer.result.points, 20);
        assert.deepEqual(m.variables.points, { balance: 20 });
        assert.equal(await available(t, m.member_id!), 20, 'the offer (the tenant has no earn rule)');
      } else {
        // No consent: the message is recorded (the sender will suppress it), and no one is given a gift they never hear of.
        assert.equal(m.offer, null);
        assert.deepEqual(m.variables.points, { balance: 0 });
      }
    }
    assert.equal(await available(t, control[0]!.member_id!), 0);
    // The split is a function of the member and the period: a rerun adds nothing, the same members are held out.
    assert.equal((await runJob(t)).win_back, 0);
    const { TriggersService: _s, winBackDraw, winBackPeriod } = await import('./triggers.service.js');
    const period = winBackPeriod(app.clock.now(), 180);
    assert.ok(sent.every((m) => (m.status === 'control') === (winBackDraw(period, m.member_id!) < 0.1) && m.dedupe_key === `win_back:${m.member_id}:${period}`));
  });

  test('results: treated against control, purchases within N days after the message, with a 95 % interval', async () => {
    at('2032-03-01T12:00:00Z');
    const t = await tenant();
    await setTrigger(t, 'win_back', { enabled: true, settings: { control_percent: 50 } });
    const old = new Date(app.clock.now().getTime() - 120 * DAY).toISOString();
    for (let i = 0; i < 12; i++) await purchase(t, { member_external_id: `r-${i}`, occurred_at: old, total: 500 });
    await runJob(t);
    const sent = await messages(t, 'win_back');
    const treated = sent.filter((m) => m.status === 'queued').map((m) => m.member_id!);
    const control = sent.filter((m) => m.status === 'control').map((m) => m.member_id!);
    assert.ok(treated.length >= 3 && control.length >= 2, `groups ${treated.length}/${control.length}`);
    // 5 days later: two treated buy 10.00 and 30.00, one control member 20.00; 40 days later one more treated (outside 30 days).
    at('2032-03-06T12:00:00Z');
    await purchase(t, { member_id: treated[0], total: 1000 });
    await purchase(t, { member_id: treated[1], total: 3000 });
    await purchase(t, { member_id: control[0], total: 2000 });
    at('2032-04-10T12:00:00Z');
    await purchase(t, { member_id: treated[2], total: 7000 });

    const res = await t.api('GET', '/v1/messaging/triggers/win_back/results?from=2032-02-28T00:00:00Z&to=2032-03-02T00:00:00Z&days=30');
    assert.equal(res.status, 200, res.text);
    const nT = treated.length;
    const nC = control.length;
    assert.deepEqual(res.body.treated, { members: nT, purchasers: 2, purchase_rate: 2 / nT, revenue: 4000, revenue_per_member: 4000 / nT });
    assert.deepEqual(res.body.control, { members: nC, purchasers: 1, purchase_rate: 1 / nC, revenue: 2000, revenue_per_member: 2000 / nC });
    const rev = (xs: number[], n: number) => [...xs, ...Array(n - xs.length).fill(0)];
    const w = welchTest(summarizeSample(rev([1000, 3000], nT)), summarizeSample(rev([2000], nC)))!;
    assert.ok(Math.abs(res.body.difference.revenue_per_member.estimate - (4000 / nT - 2000 / nC)) < 1e-9);
    assert.ok(Math.abs(res.body.difference.revenue_per_member.ci_low - w.ci_low) < 1e-6);
    assert.ok(res.body.difference.revenue_per_member.ci_low < res.body.difference.revenue_per_member.estimate);
    assert.ok(Math.abs(res.body.difference.purchase_rate.estimate - (2 / nT - 1 / nC)) < 1e-9);
    assert.equal(res.body.currency, 'EUR');
    // With 60 days, the April purchase counts too.
    const longer = (await t.api('GET', '/v1/messaging/triggers/win_back/results?from=2032-02-28T00:00:00Z&to=2032-03-02T00:00:00Z&days=60')).body;
    assert.deepEqual([longer.treated.purchasers, longer.treated.revenue], [3, 11000]);
    // A second period (repeat_after_days 1) two days on: the 8 members who have not bought again (the purchases above
    // are later by occurred_at) get a second win-back and count twice, each message with its own window.
    at('2032-03-03T13:00:00Z');
    await setTrigger(t, 'win_back', { settings: { repeat_after_days: 1 } });
    assert.equal((await runJob(t)).win_back, 8);
    const twice = (await t.api('GET', '/v1/messaging/triggers/win_back/results?from=2032-02-28T00:00:00Z&to=2032-03-04T00:00:00Z&days=30')).body;
    assert.equal(twice.treated.members + twice.control.members, 20);
    assert.equal(twice.treated.revenue + twice.control.revenue, 6000);
    const bad = await t.api('GET', '/v1/messaging/triggers/win_back/results?from=2032-03-02T00:00:00Z&to=2032-02-28T00:00:00Z');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['to']);
  });
});
