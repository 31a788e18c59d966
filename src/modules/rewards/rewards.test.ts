/**
 * The rewards catalog through the real HTTP API (and the service, for tiers and gifts): a stars-for-drinks catalog,
 * availability and why not, localized names, stock under concurrency, limits per member and per period in the tenant's
 * time zone, event seats and the waitlist, physical gift fulfilment, sweepstakes draws re-run from their seed,
 * donations, cancellations, bad input, isolation and re-sends. Every scenario ends with the ledger's invariants.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import { drawWinners, entrantsDigest, seedCommitment, type Entrant } from './rewards.draw.js';
import { RedemptionsService } from '../redemptions/redemptions.service.js';
import { RewardsService } from './rewards.service.js';

let app: TestApp;
// Far from the real clock (test/helpers.ts): nothing here is made due by another file's jobs.
const T0 = Date.parse('2031-03-10T10:00:00Z');

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date(T0));
});
after(() => app.close());

async function member(t: TestTenant, points: number, body: Record<string, unknown> = {}): Promise<string> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Fan', ...body } });
  assert.equal(m.status, 201, m.text);
  if (points > 0) {
    const given = await t.api('POST', `/v1/members/${m.body.id}/adjustments`, { body: { points, reason: 'test stars' } });
    assert.equal(given.status, 201, given.text);
  }
  return m.body.id;
}

async function reward(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('POST', '/v1/rewards', { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const available = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/members/${id}/balance`)).body.available as number;
const redeem = (t: TestTenant, body: Record<string, unknown>, headers: Record<string, string> = {}) => t.api('POST', '/v1/reward-redemptions', { body, headers });
const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];
const catalogOf = async (t: TestTenant, memberId: string, query = '') => {
  const res = await t.api('GET', `/v1/members/${memberId}/rewards?limit=500${query}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data as any[];
};
const reasonsOf = (items: any[], id: string) => items.find((i) => i.id === id)!.reasons.map((r: any) => r.code);

async function invariants(t: TestTenant) {
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

const ADDRESS = { name: 'Ana Petrova', line1: 'Vitosha 1', city: 'Sofia', postal_code: '1000', country: 'BG' };

describe('rewards catalog', () => {
  test('a stars catalog: the member sees what their stars buy, redeems drinks (vouchers) and merchandise, and the ledger shows it', async () => {
    const t = await app.newTenant();
    const shot = await reward(t, { kind: 'free_product', name: { en: 'Extra shot', bg: 'Допълнително еспресо' }, points: 25, voucher: { sku: 'EXTRA-SHOT', valid_days: 7 } });
    const coffee = await reward(t, { kind: 'free_product', name: { en: 'Brewed coffee', bg: 'Шварц кафе' }, points: 100, voucher: { sku: 'COFFEE-BREWED', valid_days: 30 } });
    const drink = await reward(t, { kind: 'free_product', name: { en: 'Handcrafted drink' }, points: 200, voucher: { sku: 'HANDCRAFTED', valid_days: 30 } });
    const mug = await reward(t, { kind: 'physical_gift', name: { en: 'Tumbler', bg: 'Термочаша' }, points: 400, stock: 10, physical_gift: { sku: 'TUMBLER' }, image_url: 'https://cdn.example.com/tumbler.png' });
    const ana = await member(t, 450, { locale: 'bg' });

    let items = await catalogOf(t, ana);
    assert.deepEqual(items.map((i) => i.id), [shot.id, coffee.id, drink.id, mug.id]);
    assert.deepEqual(items.map((i) => [i.name, i.locale, i.price, i.available]), [
      ['Допълнително еспресо', 'bg', 25, true], ['Шварц кафе', 'bg', 100, true], ['Handcrafted drink', 'en', 200, true], ['Термочаша', 'bg', 400, true],
    ]);

    const d = await redeem(t, { member_id: ana, reward_id: drink.id });
    assert.equal(d.status, 201, d.text);
    assert.deepEqual([d.body.points, d.body.kind, d.body.status, d.body.origin], [200, 'free_product', 'completed', 'redemption']);
    const voucher = (await t.api('GET', `/v1/vouchers/${d.body.voucher.id}`)).body;
    assert.deepEqual([voucher.code, voucher.sku, voucher.member_id, voucher.status], [d.body.voucher.code, 'HANDCRAFTED', ana, 'active']);
    assert.equal(await available(t, ana), 250);
    const spent = (await t.api('GET', `/v1/redemptions/${d.body.redemption_id}`)).body;
    assert.deepEqual([spent.points, spent.reward_ref, spent.reason], [200, drink.id, 'Reward: Handcrafted drink']);

    // 250 stars left: the tumbler is out of reach now, the coffee is not.
    items = await catalogOf(t, ana);
    assert.deepEqual(reasonsOf(items, mug.id), ['insufficient_points']);
    assert.deepEqual(reasonsOf(items, coffee.id), []);
    assert.deepEqual((await catalogOf(t, ana, '&available_only=true')).map((i) => i.id), [shot.id, coffee.id, drink.id]);
    const tooDear = await redeem(t, { member_id: ana, reward_id: mug.id, shipping_address: ADDRESS });
    assert.equal(tooDear.status, 422, tooDear.text);
    assert.equal(tooDear.body.code, 'insufficient_points');

    assert.equal((await redeem(t, { member_id: ana, reward_id: coffee.id })).status, 201);
    assert.equal((await redeem(t, { member_id: ana, reward_id: shot.id })).status, 201);
    assert.equal(await available(t, ana), 125);
    const redeemed = await eventsOf(t, 'reward.redeemed');
    assert.deepEqual(redeemed.map((e) => e.payload.reward_id), [drink.id, coffee.id, shot.id]);
    assert.equal((await eventsOf(t, 'voucher.issued')).length, 3);
    assert.equal((await t.api('GET', `/v1/reward-redemptions?member_id=${ana}`)).body.data.length, 3);

    // 400 stars more: the tumbler ships.
    await t.api('POST', `/v1/members/${ana}/adjustments`, { body: { points: 400, reason: 'more stars' } });
    const m = await redeem(t, { member_id: ana, reward_id: mug.id, shipping_address: ADDRESS });
    assert.equal(m.status, 201, m.text);
    assert.deepEqual([m.body.fulfilment.status, m.body.voucher], ['pending', null]);
    assert.equal((await t.api('GET', `/v1/rewards/${mug.id}`)).body.stock, 9);
    await invariants(t);
  });

  test('names and descriptions in the member\'s language, English where a language has none; a locale override', async () => {
    const t = await app.newTenant();
    const r = await reward(t, {
      kind: 'donation', points: 100, donation: { cause: 'Food bank' },
      name: { en: 'Donate a meal', bg: 'Дарете храна', ru: 'Пожертвуйте обед', pl: 'Przekaż posiłek' },
      description: { en: 'We give 1 EUR', pl: 'Dajemy 1 EUR' },
    });
    const want: Record<string, [string, string, string | null]> = {
      en: ['Donate a meal', 'en', 'We give 1 EUR'], bg: ['Дарете храна', 'bg', 'We give 1 EUR'], ru: ['Пожертвуйте обед', 'ru', 'We give 1 EUR'],
      ro: ['Donate a meal', 'en', 'We give 1 EUR'], pl: ['Przekaż posiłek', 'pl', 'Dajemy 1 EUR'],
    };
    for (const [locale, [name, used, description]] of Object.entries(want)) {
      const m = await member(t, 0, { locale });
      const [item] = await catalogOf(t, m);
      assert.deepEqual([item.name, item.locale, item.description], [name, used, description], locale);
    }
    const m = await member(t, 0, { locale: 'en' });
    assert.equal((await catalogOf(t, m, '&locale=ru'))[0].name, 'Пожертвуйте обед');
    assert.deepEqual((await t.api('GET', `/v1/rewards/${r.id}`)).body.name, { en: 'Donate a meal', bg: 'Дарете храна', ru: 'Пожертвуйте обед', pl: 'Przekaż posiłek' });
  });

  test('stock is never oversold: 20 concurrent redemptions of the last 5 units, 5 succeed', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'physical_gift', name: { en: 'Limited mug' }, points: 100, stock: 5, physical_gift: { requires_address: false } });
    const members = await Promise.all(Array.from({ length: 20 }, () => member(t, 150)));
    const results = await Promise.all(members.map((m) => redeem(t, { member_id: m, reward_id: r.id })));
    const ok = results.filter((x) => x.status === 201);
    assert.equal(ok.length, 5, results.map((x) => x.status).join(','));
    for (const x of results.filter((y) => y.status !== 201)) {
      assert.equal(x.status, 422, x.text);
      assert.match(JSON.stringify(x.body.errors), /out_of_stock/);
    }
    const after = (await t.api('GET', `/v1/rewards/${r.id}`)).body;
    assert.deepEqual([after.stock, after.redeemed_count], [0, 5]);
    const balances = await Promise.all(members.map((m) => available(t, m)));
    assert.equal(balances.filter((b) => b === 50).length, 5, 'only the winners paid');
    assert.equal(balances.filter((b) => b === 150).length, 15, 'nothing half-written for the others');
    assert.equal((await eventsOf(t, 'reward.out_of_stock')).length, 1);
    assert.deepEqual(reasonsOf(await catalogOf(t, members[0]!), r.id).includes('out_of_stock'), true);

    // Cancelling gives the unit back.
    const back = await t.api('POST', `/v1/reward-redemptions/${ok[0]!.body.id}/cancel`);
    assert.equal(back.status, 200, back.text);
    assert.equal((await t.api('GET', `/v1/rewards/${r.id}`)).body.stock, 1);
    await invariants(t);
  });

  test('limits: per member ever, per period in the tenant time zone, and concurrent redemptions of one member', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Europe/Sofia' } })).status, 200);
    const daily = await reward(t, { kind: 'early_access', name: { en: 'Daily treat' }, points: 10, limit_per_member: 3, limit_per_period: { count: 1, period: 'day' },
      early_access: { target: 'sale', ref: 'daily', starts_at: '2031-01-01T00:00:00Z', ends_at: '2032-01-01T00:00:00Z', unlocks: 'a treat' } });
    const m = await member(t, 1000);
    // 23:30 in Sofia (UTC+2 in March).
    app.clock.set(new Date('2031-03-10T21:30:00Z'));
    assert.equal((await redeem(t, { member_id: m, reward_id: daily.id })).status, 201);
    const again = await redeem(t, { member_id: m, reward_id: daily.id });
    assert.equal(again.status, 422, again.text);
    assert.match(again.body.errors[0].detail, /^limit_reached: at most 1 per day/);
    assert.deepEqual(reasonsOf(await catalogOf(t, m), daily.id), ['limit_reached']);
    // 00:30 the next day in Sofia, though still the same UTC day.
    app.clock.set(new Date('2031-03-10T22:30:00Z'));
    assert.equal((await redeem(t, { member_id: m, reward_id: daily.id })).status, 201);
    app.clock.set(new Date('2031-03-12T10:00:00Z'));
    assert.equal((await redeem(t, { member_id: m, reward_id: daily.id })).status, 201);
    app.clock.set(new Date('2031-03-13T10:00:00Z'));
    const fourth = await redeem(t, { member_id: m, reward_id: daily.id });
    assert.equal(fourth.status, 422);
    assert.match(JSON.stringify(fourth.body.errors), /at most 3 per member/);
    assert.equal(await available(t, m), 970);

    // A cancelled redemption does not count.
    const list = (await t.api('GET', `/v1/reward-redemptions?member_id=${m}`)).body.data;
    assert.equal((await t.api('POST', `/v1/reward-redemptions/${list[0].id}/cancel`)).status, 200);
    assert.equal((await redeem(t, { member_id: m, reward_id: daily.id })).status, 201);

    // Ten at once by one member with a limit of one a week: exactly one.
    const weekly = await reward(t, { kind: 'donation', name: { en: 'Weekly gift' }, points: 5, limit_per_period: { count: 1, period: 'week' }, donation: { cause: 'Shelter', amount: 100 } });
    const burst = await Promise.all(Array.from({ length: 10 }, () => redeem(t, { member_id: m, reward_id: weekly.id })));
    assert.equal(burst.filter((x) => x.status === 201).length, 1, burst.map((x) => x.status).join(','));
    assert.ok(burst.every((x) => x.status === 201 || x.status === 422));
    app.clock.set(new Date(T0));
    await invariants(t);
  });

  test('availability by dates follows the clock; archived rewards leave the catalog', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'donation', name: { en: 'Spring appeal' }, points: 50, available_from: '2031-04-01T00:00:00Z', available_until: '2031-05-01T00:00:00Z', donation: { cause: 'Parks' } });
    const m = await member(t, 500);
    app.clock.set(new Date('2031-03-31T23:59:00Z'));
    assert.deepEqual(reasonsOf(await catalogOf(t, m), r.id), ['not_started']);
    assert.equal((await redeem(t, { member_id: m, reward_id: r.id })).status, 422);
    app.clock.set(new Date('2031-04-01T00:00:00Z'));
    assert.deepEqual(reasonsOf(await catalogOf(t, m), r.id), []);
    const ok = await redeem(t, { member_id: m, reward_id: r.id });
    assert.equal(ok.status, 201, ok.text);
    // Donated: what 50 points are worth at the default rate (100 points = 100 minor units).
    assert.deepEqual(ok.body.amount, { amount: 50, currency: 'EUR' });
    app.clock.set(new Date('2031-05-01T00:00:00Z'));
    assert.deepEqual(reasonsOf(await catalogOf(t, m), r.id), ['ended']);
    const late = await redeem(t, { member_id: m, reward_id: r.id });
    assert.equal(late.status, 422);
    assert.match(late.body.errors[0].detail, /^ended/);

    assert.equal((await t.api('DELETE', `/v1/rewards/${r.id}`)).body.status, 'archived');
    assert.deepEqual(await catalogOf(t, m), []);
    assert.equal((await t.api('GET', '/v1/rewards')).body.data.length, 0);
    assert.equal((await t.api('GET', '/v1/rewards?include_archived=true')).body.data.length, 1);
    assert.equal((await eventsOf(t, 'reward.archived')).length, 1);
    app.clock.set(new Date(T0));
  });

  test('audience conditions over member attributes', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'donation', name: { en: 'Sofia only' }, points: 10, audience: { '==': [{ var: 'attributes.city' }, 'Sofia'] }, donation: { cause: 'City park' } });
    const sofia = await member(t, 100, { attributes: { city: 'Sofia' } });
    const varna = await member(t, 100, { attributes: { city: 'Varna' } });
    assert.deepEqual(reasonsOf(await catalogOf(t, sofia), r.id), []);
    assert.deepEqual(reasonsOf(await catalogOf(t, varna), r.id), ['audience']);
    assert.equal((await redeem(t, { member_id: sofia, reward_id: r.id })).status, 201);
    const no = await redeem(t, { member_id: varna, reward_id: r.id });
    assert.equal(no.status, 422);
    assert.match(no.body.errors[0].detail, /^audience/);
  });

  test('tier prices and tier-reserved rewards, with the member\'s standing (service level)', async () => {
    const t = await app.newTenant();
    const gold = await member(t, 1000);
    const green = await member(t, 1000);
    const { ledger, members, programs, vouchers, wallet } = app.patron.services;
    const redemptions = new RedemptionsService(app.clock, ledger, programs, members);
    const service = new RewardsService({ clock: app.clock, ledger, members, programs, redemptions, vouchers, wallet, standing: async (_q, _t, id) => ({ tier: id === gold ? 'gold' : 'green' }) });
    const db = app.patron.db;
    const coffee = await db.tx((tx) => service.create(tx, t.id, { kind: 'donation', name: { en: 'Coffee' }, points: 100, tier_prices: { gold: 60 }, donation: { cause: 'x' } } as any, 'test'));
    const lounge = await db.tx((tx) => service.create(tx, t.id, { kind: 'early_access', name: { en: 'Gold lounge' }, points: 0, tiers: ['gold'],
      early_access: { target: 'sale', ref: 'vip', starts_at: '2031-01-01T00:00:00Z', ends_at: '2032-01-01T00:00:00Z', unlocks: 'the lounge' } } as any, 'test'));
    const seen = async (m: string) => db.tx((tx) => service.catalog(tx, t.id, m, { limit: 10, availableOnly: false }));
    const g = await seen(gold);
    assert.deepEqual(g.map((i) => [i.id, i.price, i.regular_price, i.available]), [[coffee.id, 60, 100, true], [lounge.id, 0, 0, true]]);
    const n = await seen(green);
    assert.deepEqual(n.map((i) => [i.price, i.reasons.map((r) => r.code)]), [[100, []], [0, ['tier']]]);

    const paid = await db.tx((tx) => service.redeem(tx, t.id, { member_id: gold, reward_id: coffee.id }, 'test'));
    assert.equal(paid.points, 60);
    const free = await db.tx((tx) => service.redeem(tx, t.id, { member_id: gold, reward_id: lounge.id }, 'test'));
    assert.deepEqual([free.points, free.redemption_id], [0, null]);
    await assert.rejects(db.tx((tx) => service.redeem(tx, t.id, { member_id: green, reward_id: lounge.id }, 'test')), /tier/);
    assert.equal(await available(t, gold), 940);
    assert.equal(await available(t, green), 1000);
    await invariants(t);
  });

  test('tier prices and reservations through the tiers module: a member assigned to gold sees the gold price', async () => {
    const t = await app.newTenant();
    const tier = await t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', entry_threshold: 1_000_000, invitation_only: true } });
    assert.equal(tier.status, 201, tier.text);
    const r = await reward(t, { kind: 'donation', name: { en: 'Gold coffee' }, points: 100, tier_prices: { gold: 50 }, tiers: ['gold'], donation: { cause: 'c' } });
    const g = await member(t, 200);
    const other = await member(t, 200);
    const assigned = await t.api('POST', `/v1/members/${g}/tier/assignment`, { body: { tier: 'gold', reason: 'VIP' } });
    assert.equal(assigned.status < 300, true, assigned.text);
    assert.deepEqual((await catalogOf(t, g)).map((i) => [i.price, i.available]), [[50, true]]);
    assert.deepEqual((await catalogOf(t, other)).map((i) => [i.price, i.reasons.map((x: any) => x.code)]), [[100, ['tier']]]);
    assert.equal((await redeem(t, { member_id: g, reward_id: r.id })).body.points, 50);
    assert.equal((await redeem(t, { member_id: other, reward_id: r.id })).status, 422);
    await invariants(t);
  });

  test('event invitations: seats, the waitlist, declining hands the seat on and refunds; full without a waitlist is a 422', async () => {
    const t = await app.newTenant();
    const tasting = await reward(t, { kind: 'event_invitation', name: { en: 'Coffee tasting' }, points: 150, event: { starts_at: '2031-06-01T17:00:00Z', capacity: 2, waitlist: true, location: 'Roastery' } });
    const [a, b, c] = await Promise.all([member(t, 500), member(t, 500), member(t, 500)]);
    const ra = await redeem(t, { member_id: a, reward_id: tasting.id });
    const rb = await redeem(t, { member_id: b, reward_id: tasting.id });
    const rc = await redeem(t, { member_id: c, reward_id: tasting.id });
    assert.deepEqual([ra.body.rsvp, rb.body.rsvp, rc.body.rsvp], ['accepted', 'accepted', 'waitlisted']);
    assert.equal((await t.api('GET', `/v1/rewards/${tasting.id}`)).body.event.seats_taken, 2);
    const accept = await t.api('PATCH', `/v1/reward-redemptions/${rc.body.id}`, { body: { rsvp: 'accepted' } });
    assert.equal(accept.status, 422, 'no seat free');

    const declined = await t.api('PATCH', `/v1/reward-redemptions/${ra.body.id}`, { body: { rsvp: 'declined' } });
    assert.equal(declined.status, 200, declined.text);
    assert.deepEqual([declined.body.rsvp, declined.body.status], ['declined', 'cancelled']);
    assert.equal(await available(t, a), 500, 'declining refunds the points');
    assert.equal((await t.api('GET', `/v1/reward-redemptions/${rc.body.id}`)).body.rsvp, 'accepted', 'the waitlisted member takes the seat');
    assert.equal((await t.api('GET', `/v1/rewards/${tasting.id}`)).body.event.seats_taken, 2);
    const updates = await eventsOf(t, 'reward.fulfilment_updated');
    assert.ok(updates.some((e) => e.aggregate_id === rc.body.id && e.payload.rsvp.to === 'accepted'));

    const dinner = await reward(t, { kind: 'event_invitation', name: { en: 'Dinner' }, points: 10, event: { starts_at: '2031-06-02T19:00:00Z', capacity: 1 } });
    assert.equal((await redeem(t, { member_id: a, reward_id: dinner.id })).status, 201);
    const full = await redeem(t, { member_id: b, reward_id: dinner.id });
    assert.equal(full.status, 422);
    assert.match(full.body.errors[0].detail, /^full/);
    assert.equal(await available(t, b), 350);
    const shrink = await t.api('PATCH', `/v1/rewards/${tasting.id}`, { body: { event: { starts_at: '2031-06-01T17:00:00Z', capacity: 1 } } });
    assert.equal(shrink.status, 422, shrink.text);
    await invariants(t);
  });

  test('physical gifts: fulfilment pending -> shipped -> delivered, address snapshot, no cancelling once delivered; cancelling before refunds', async () => {
    const t = await app.newTenant();
    const mug = await reward(t, { kind: 'physical_gift', name: { en: 'Mug' }, points: 300, stock: 3, physical_gift: { sku: 'MUG' } });
    const m = await member(t, 1000);
    const noAddress = await redeem(t, { member_id: m, reward_id: mug.id });
    assert.equal(noAddress.status, 400);
    assert.deepEqual(noAddress.body.errors.map((e: any) => e.field), ['shipping_address']);
    const r = await redeem(t, { member_id: m, reward_id: mug.id, shipping_address: ADDRESS, note: 'ring twice' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(r.body.fulfilment, { status: 'pending', shipping_address: ADDRESS, note: 'ring twice', tracking_ref: null });
    const early = await t.api('PATCH', `/v1/reward-redemptions/${r.body.id}`, { body: { rsvp: 'accepted' } });
    assert.equal(early.status, 400);
    assert.deepEqual(early.body.errors.map((e: any) => e.field), ['rsvp']);
    const shipped = await t.api('PATCH', `/v1/reward-redemptions/${r.body.id}`, { body: { fulfilment_status: 'shipped', tracking_ref: 'BG123' } });
    assert.equal(shipped.status, 200, shipped.text);
    assert.deepEqual([shipped.body.fulfilment.status, shipped.body.fulfilment.tracking_ref], ['shipped', 'BG123']);
    assert.equal((await t.api('PATCH', `/v1/reward-redemptions/${r.body.id}`, { body: { shipping_address: ADDRESS } })).status, 422);
    const delivered = await t.api('PATCH', `/v1/reward-redemptions/${r.body.id}`, { body: { fulfilment_status: 'delivered' } });
    assert.equal(delivered.body.fulfilment.status, 'delivered');
    assert.equal((await t.api('PATCH', `/v1/reward-redemptions/${r.body.id}`, { body: { fulfilment_status: 'shipped' } })).status, 422);
    assert.equal((await t.api('POST', `/v1/reward-redemptions/${r.body.id}/cancel`)).status, 422);
    assert.deepEqual((await eventsOf(t, 'reward.fulfilment_updated')).map((e) => e.payload.fulfilment_status?.to), ['shipped', 'delivered']);

    const second = await redeem(t, { member_id: m, reward_id: mug.id, shipping_address: ADDRESS });
    const cancelled = await t.api('PATCH', `/v1/reward-redemptions/${second.body.id}`, { body: { fulfilment_status: 'cancelled' } });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.deepEqual([cancelled.body.status, cancelled.body.fulfilment.status], ['cancelled', 'cancelled']);
    assert.equal(await available(t, m), 700);
    assert.equal((await t.api('GET', `/v1/rewards/${mug.id}`)).body.stock, 2);
    assert.equal((await t.api('GET', `/v1/redemptions/${second.body.redemption_id}`)).body.status, 'cancelled');
    const twice = await t.api('POST', `/v1/reward-redemptions/${second.body.id}/cancel`);
    assert.equal(twice.status, 422);
    assert.equal((await eventsOf(t, 'reward.redemption_cancelled')).length, 1);

    // GDPR: the export holds the member's reward redemptions; erasure clears the address and the note, what was redeemed stays.
    const exported = await t.api('GET', `/v1/members/${m}/export`);
    assert.deepEqual(exported.body.sections.rewards.map((x: any) => x.id), [second.body.id, r.body.id]);
    assert.equal((await t.api('POST', `/v1/members/${m}/erase`)).status, 200);
    const erased = (await t.api('GET', `/v1/reward-redemptions/${r.body.id}`)).body;
    assert.deepEqual([erased.fulfilment.shipping_address, erased.fulfilment.note, erased.fulfilment.status], [null, null, 'delivered']);
    await invariants(t);
  });

  test('sweepstakes: entries bought with points, a draw anyone can re-run from the revealed seed, nothing after the draw', async () => {
    const t = await app.newTenant();
    const s = await reward(t, { kind: 'sweepstakes', name: { en: 'Win a trip' }, points: 20, sweepstakes: { prize: 'A trip to Rome', draw_at: '2031-04-01T12:00:00Z' } });
    const commitment = s.sweepstakes.seed_sha256;
    assert.match(commitment, /^[0-9a-f]{64}$/);
    assert.equal(s.sweepstakes.seed, undefined, 'the seed stays secret until the draw');
    const ms = await Promise.all(Array.from({ length: 6 }, () => member(t, 200)));
    for (const [i, m] of ms.entries()) {
      const e = await redeem(t, { member_id: m, reward_id: s.id, quantity: i + 1 });
      assert.equal(e.status, 201, e.text);
      assert.equal(e.body.points, 20 * (i + 1));
    }
    assert.equal(await available(t, ms[5]!), 80);
    const cancelled = (await redeem(t, { member_id: ms[0]!, reward_id: s.id })).body;
    assert.equal((await t.api('POST', `/v1/reward-redemptions/${cancelled.id}/cancel`)).status, 200);

    const bad = await t.api('POST', `/v1/rewards/${s.id}/draws`, { body: { winners: 0 } });
    assert.equal(bad.status, 400);
    const drawn = await t.api('POST', `/v1/rewards/${s.id}/draws`, { body: { winners: 3 }, headers: { 'idempotency-key': 'draw-1' } });
    assert.equal(drawn.status, 201, drawn.text);
    const d = drawn.body;
    assert.equal(d.seed_sha256, commitment);
    assert.equal(seedCommitment(d.seed), commitment, 'the revealed seed is the one committed to');
    assert.equal(d.entrants_count, 21, '1+2+…+6 entries; the cancelled one is out');
    assert.equal(entrantsDigest(d.entrants as Entrant[]), d.entrants_sha256);
    assert.deepEqual(drawWinners(d.seed, d.entrants, 3), d.winners, 'the same seed and entrants give the same winners');
    assert.equal(new Set(d.winners.map((w: any) => w.member_id)).size, 3, 'three distinct members');
    const replay = await t.api('POST', `/v1/rewards/${s.id}/draws`, { body: { winners: 3 }, headers: { 'idempotency-key': 'draw-1' } });
    assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed'), replay.body.winners], [201, 'true', d.winners]);
    assert.equal((await t.api('POST', `/v1/rewards/${s.id}/draws`, { body: { winners: 3 } })).status, 422, 'one draw');
    const audit = await t.api('GET', `/v1/rewards/${s.id}/draws`);
    assert.deepEqual(audit.body.data, [d]);

    const winners = new Set(d.winners.map((w: any) => w.reward_redemption_id));
    for (const rr of (await t.api('GET', `/v1/reward-redemptions?reward_id=${s.id}`)).body.data) {
      if (rr.status === 'completed') assert.equal(rr.won, winners.has(rr.id));
    }
    const late = await redeem(t, { member_id: ms[0]!, reward_id: s.id });
    assert.equal(late.status, 422);
    assert.match(late.body.errors[0].detail, /^drawn/);
    const entry = (await t.api('GET', `/v1/reward-redemptions?member_id=${ms[1]}`)).body.data[0];
    assert.equal((await t.api('POST', `/v1/reward-redemptions/${entry.id}/cancel`)).status, 422);
    const ev = await eventsOf(t, 'reward.draw_completed');
    assert.deepEqual(ev.map((e) => e.payload.entrants_sha256), [d.entrants_sha256]);

    const notSweep = await reward(t, { kind: 'donation', name: { en: 'x' }, points: 1, donation: { cause: 'y' } });
    assert.equal((await t.api('POST', `/v1/rewards/${notSweep.id}/draws`, { body: { winners: 1 } })).status, 422);
    const empty = await reward(t, { kind: 'sweepstakes', name: { en: 'Nobody' }, points: 1, sweepstakes: { prize: 'x' } });
    assert.equal((await t.api('POST', `/v1/rewards/${empty.id}/draws`, { body: { winners: 1 } })).status, 422);
    assert.deepEqual((await t.api('GET', `/v1/rewards/${empty.id}/draws`)).body, { data: [], next_cursor: null });
    await invariants(t);
  });

  test('entries racing the draw: each is either among the entrants or refused, none slips in after it', async () => {
    const t = await app.newTenant();
    const s = await reward(t, { kind: 'sweepstakes', name: { en: 'Race' }, points: 10, sweepstakes: { prize: 'x' } });
    const ms = await Promise.all(Array.from({ length: 12 }, () => member(t, 100)));
    for (const m of ms.slice(0, 2)) assert.equal((await redeem(t, { member_id: m, reward_id: s.id })).status, 201);
    const [draw, ...entries] = await Promise.all([
      t.api('POST', `/v1/rewards/${s.id}/draws`, { body: { winners: 1 } }),
      ...ms.slice(2).map((m) => redeem(t, { member_id: m, reward_id: s.id })),
    ]);
    assert.equal(draw!.status, 201, draw!.text);
    for (const e of entries.filter((x) => x.status !== 201)) {
      assert.equal(e.status, 422, e.text);
      assert.match(e.body.errors[0].detail, /^drawn/);
    }
    const completed = (await t.api('GET', `/v1/reward-redemptions?reward_id=${s.id}`)).body.data.map((x: any) => x.id).sort();
    assert.deepEqual(draw!.body.entrants.map((e: string[]) => e[0]).sort(), completed);
    await invariants(t);
  });

  test('the draw is a pure function of seed and entrants', () => {
    const entrants: Entrant[] = Array.from({ length: 50 }, (_, i) => [`r${i}`, `m${i % 7}`]);
    const a = drawWinners('seed-a', entrants, 5);
    assert.deepEqual(drawWinners('seed-a', entrants, 5), a);
    assert.notDeepEqual(drawWinners('seed-b', entrants, 5), a);
    assert.equal(new Set(a.map((w) => w.member_id)).size, 5);
    assert.equal(drawWinners('seed-a', entrants, 100).length, 7, 'at most one win per member');
    // Roughly uniform: over many seeds each of 4 single-entry members wins a 1-winner draw about a quarter of the time.
    const wins = new Map<string, number>();
    const four: Entrant[] = [['a', 'A'], ['b', 'B'], ['c', 'C'], ['d', 'D']];
    for (let i = 0; i < 4000; i++) {
      const w = drawWinners(`s${i}`, four, 1)[0]!.member_id;
      wins.set(w, (wins.get(w) ?? 0) + 1);
    }
    for (const n of wins.values()) assert.ok(n > 850 && n < 1150, `${[...wins.entries()]}`);
  });

  test('gifts: a catalog reward given at no points cost by a mechanic takes stock, and an unknown reward rolls the giver back', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'physical_gift', name: { en: 'Tote bag' }, points: 500, stock: 1, limit_per_member: 1, physical_gift: { requires_address: false } });
    const m = await member(t, 0);
    const { ledger, programs, rewards } = app.patron.services;
    const give = (rewardId: string) => app.patron.db.tx(async (tx) => {
      const book = await ledger.open(tx, t.id, m, (await programs.get(tx, t.id)).negative_balance);
      return rewards.give(tx, book, rewardId, { source_type: 'stamp_card', source_id: 'card-1', reason: 'stamp card full' });
    });
    const given = await give(r.id);
    const rr = (await t.api('GET', `/v1/reward-redemptions/${given.redemption_id}`)).body;
    assert.deepEqual([rr.origin, rr.points, rr.redemption_id, rr.source], ['gift', 0, null, { type: 'stamp_card', id: 'card-1', reason: 'stamp card full' }]);
    assert.equal((await t.api('GET', `/v1/rewards/${r.id}`)).body.stock, 0);
    await assert.rejects(give(r.id), /out_of_stock/);
    await assert.rejects(give(crypto.randomUUID()), /No reward/);
    await invariants(t);
  });

  test('monetary kinds: a free-product voucher, a percentage voucher and cashback; the voucher is issued in the same transaction', async () => {
    const t = await app.newTenant();
    const coffee = await reward(t, { kind: 'free_product', name: { en: 'Brewed coffee' }, points: 100, voucher: { sku: 'COFFEE-BREWED', valid_days: 30 } });
    const off = await reward(t, { kind: 'percentage', name: { en: '15% off' }, points: 300, voucher: { percent: 15, max_discount: 1000, min_basket: 2000 } });
    const fixed = await reward(t, { kind: 'fixed_amount', name: { en: '5 EUR off' }, points: 250, voucher: { amount: 500 } });
    const card = await reward(t, { kind: 'gift_card', name: { en: 'Gift card 20 EUR' }, points: 2000, voucher: { amount: 2000 } });
    const cash = await reward(t, { kind: 'cashback', name: { en: '3 EUR store credit' }, points: 300, cashback: { amount: 300 } });
    assert.equal(cash.cashback.currency, 'EUR');
    const m = await member(t, 5000);

    const c = await redeem(t, { member_id: m, reward_id: coffee.id });
    assert.equal(c.status, 201, c.text);
    assert.ok(c.body.voucher.code);
    const v = (await t.api('GET', `/v1/vouchers/${c.body.voucher.id}`)).body;
    assert.deepEqual([v.kind, v.sku, v.member_id, v.reward_id, v.redemption_id, v.status], ['free_product', 'COFFEE-BREWED', m, coffee.id, c.body.id, 'active']);
    assert.equal(Date.parse(v.expires_at), T0 + 30 * 86_400_000);

    const p = await redeem(t, { member_id: m, reward_id: off.id });
    const pv = (await t.api('GET', `/v1/vouchers/${p.body.voucher.id}`)).body;
    assert.deepEqual([pv.kind, pv.percent, pv.max_discount, pv.min_basket, pv.expires_at], ['percentage', 15, 1000, 2000, null]);
    const f = await redeem(t, { member_id: m, reward_id: fixed.id });
    assert.equal((await t.api('GET', `/v1/vouchers/${f.body.voucher.id}`)).body.amount, 500);
    const g = await redeem(t, { member_id: m, reward_id: card.id });
    assert.equal((await t.api('GET', `/v1/vouchers/${g.body.voucher.id}`)).body.kind, 'gift_card');

    const k = await redeem(t, { member_id: m, reward_id: cash.id });
    assert.equal(k.status, 201, k.text);
    assert.deepEqual(k.body.amount, { amount: 300, currency: 'EUR' });
    assert.equal((await t.api('GET', `/v1/members/${m}/wallet`)).body.balance, 300);
    assert.equal(await available(t, m), 5000 - 100 - 300 - 250 - 2000 - 300);
    assert.equal((await eventsOf(t, 'voucher.issued')).length, 4);

    // Cashback taken back on cancel; once spent, the cancellation is a 422 and nothing moves.
    const back = await t.api('POST', `/v1/reward-redemptions/${k.body.id}/cancel`);
    assert.equal(back.status, 200, back.text);
    assert.equal((await t.api('GET', `/v1/members/${m}/wallet`)).body.balance, 0);
    const k2 = await redeem(t, { member_id: m, reward_id: cash.id });
    const spend = await t.api('POST', `/v1/members/${m}/wallet/debits`, { body: { amount: 200, currency: 'EUR', order_ref: 'o-1' } });
    assert.equal(spend.status, 201, spend.text);
    const spent = await t.api('POST', `/v1/reward-redemptions/${k2.body.id}/cancel`);
    assert.equal(spent.status, 422, spent.text);
    assert.equal((await t.api('GET', `/v1/reward-redemptions/${k2.body.id}`)).body.status, 'completed');
    await invariants(t);
  });

  test('voucher cancellation refunds the points: from the vouchers API, or by cancelling the reward redemption; a used voucher is a 422', async () => {
    const t = await app.newTenant();
    const coffee = await reward(t, { kind: 'free_product', name: { en: 'Brewed coffee' }, points: 100, stock: 10, voucher: { sku: 'COFFEE' } });
    const m = await member(t, 1000);
    const a = (await redeem(t, { member_id: m, reward_id: coffee.id })).body;
    const b = (await redeem(t, { member_id: m, reward_id: coffee.id })).body;
    const c = (await redeem(t, { member_id: m, reward_id: coffee.id })).body;
    assert.equal(await available(t, m), 700);

    const viaVoucher = await t.api('POST', `/v1/vouchers/${a.voucher.id}/cancel`);
    assert.equal(viaVoucher.status, 200, viaVoucher.text);
    const ra = (await t.api('GET', `/v1/reward-redemptions/${a.id}`)).body;
    assert.equal(ra.status, 'cancelled');
    assert.equal((await t.api('GET', `/v1/redemptions/${a.redemption_id}`)).body.status, 'cancelled');
    assert.equal(await available(t, m), 800);

    const viaReward = await t.api('POST', `/v1/reward-redemptions/${b.id}/cancel`);
    assert.equal(viaReward.status, 200, viaReward.text);
    assert.equal(viaReward.body.status, 'cancelled');
    assert.equal((await t.api('GET', `/v1/vouchers/${b.voucher.id}`)).body.status, 'cancelled');
    assert.equal(await available(t, m), 900);
    assert.equal((await t.api('GET', `/v1/rewards/${coffee.id}`)).body.stock, 9);
    assert.equal((await eventsOf(t, 'reward.redemption_cancelled')).length, 2);

    const used = await t.api('POST', `/v1/vouchers/${encodeURIComponent(c.voucher.code)}/redemptions`, { body: { order_ref: 'o-9', total: 500, currency: 'EUR', member_id: m } });
    assert.equal(used.status, 201, used.text);
    assert.equal((await t.api('POST', `/v1/reward-redemptions/${c.id}/cancel`)).status, 422);
    assert.equal(await available(t, m), 900);
    await invariants(t);
  });

  test('a gift of a voucher reward through giftGivers.reward returns its code', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'fixed_amount', name: { en: 'Referral thanks' }, points: 999, voucher: { amount: 1000 } });
    const m = await member(t, 0);
    const { ledger, programs, rewards } = app.patron.services;
    const given = await app.patron.db.tx(async (tx) => {
      const book = await ledger.open(tx, t.id, m, (await programs.get(tx, t.id)).negative_balance);
      return rewards.give(tx, book, r.id, { source_type: 'referral', source_id: 'ref-1', reason: 'referral converted' });
    });
    assert.ok(given.voucher_code);
    const rr = (await t.api('GET', `/v1/reward-redemptions/${given.redemption_id}`)).body;
    assert.deepEqual([rr.voucher.code, rr.points, rr.origin], [given.voucher_code, 0, 'gift']);
    // Cancelling the gift's voucher gives nothing back (no points were spent) and cancels the gift.
    assert.equal((await t.api('POST', `/v1/vouchers/${rr.voucher.id}/cancel`)).status, 200);
    assert.equal((await t.api('GET', `/v1/reward-redemptions/${rr.id}`)).body.status, 'cancelled');
    assert.equal(await available(t, m), 0);
  });

  test('bad input is a 400 naming every field; nothing is written', async () => {
    const t = await app.newTenant();
    const bad = await t.api('POST', '/v1/rewards', { body: {
      kind: 'percentage', name: { bg: 'без английски' }, points: -1, image_url: 'ftp://x', colour: 'red',
      voucher: { percent: 150, amount: 100 }, donation: { cause: 'x' }, available_from: '2031-05-01T00:00:00Z', available_until: '2031-04-01T00:00:00Z',
      audience: { nope: [1] }, limit_per_period: { count: 1, period: 'fortnight' },
    } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), [
      'audience', 'available_until', 'colour', 'donation', 'image_url', 'limit_per_period', 'limit_per_period.period', 'name.en', 'points', 'voucher.amount', 'voucher.max_discount', 'voucher.percent',
    ]);
    const missing = await t.api('POST', '/v1/rewards', { body: { kind: 'event_invitation', name: { en: 'Party' }, points: 10 } });
    assert.deepEqual(missing.body.errors.map((e: any) => e.field), ['event']);
    const early = await t.api('POST', '/v1/rewards', { body: { kind: 'early_access', name: { en: 'E' }, points: 1, early_access: { target: 'shop', ref: 'x', starts_at: '2031-02-01T00:00:00Z', ends_at: '2031-01-01T00:00:00Z', unlocks: 'x' } } });
    assert.deepEqual(early.body.errors.map((e: any) => e.field).sort(), ['early_access.ends_at', 'early_access.target']);
    assert.equal((await t.api('GET', '/v1/rewards')).body.data.length, 0);

    const r = await reward(t, { kind: 'donation', name: { en: 'D' }, points: 10, donation: { cause: 'c' } });
    const patch = await t.api('PATCH', `/v1/rewards/${r.id}`, { body: { kind: 'cashback', voucher: { amount: 1 }, stock: -1 } });
    assert.equal(patch.status, 400, patch.text);
    assert.deepEqual(patch.body.errors.map((e: any) => e.field).sort(), ['kind', 'stock', 'voucher']);
    const m = await member(t, 100);
    const badRedeem = await redeem(t, { member_id: 'x', reward_id: r.id, quantity: 0, extra: 1 });
    assert.deepEqual(badRedeem.body.errors.map((e: any) => e.field).sort(), ['extra', 'member_id', 'quantity']);
    const notSweep = await redeem(t, { member_id: m, reward_id: r.id, quantity: 2, shipping_address: ADDRESS });
    assert.equal(notSweep.status, 400);
    assert.deepEqual(notSweep.body.errors.map((e: any) => e.field).sort(), ['quantity', 'shipping_address']);
    assert.equal((await t.api('GET', `/v1/reward-redemptions?member_id=${m}`)).body.data.length, 0);
    assert.equal(await available(t, m), 100);

    const patched = await t.api('PATCH', `/v1/rewards/${r.id}`, { body: { points: 20, stock: 7, name: { en: 'D2', ro: 'D2 ro' }, limit_per_period: { count: 2, period: 'month' } } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.body.points, patched.body.stock, patched.body.name.ro, patched.body.limit_per_period], [20, 7, 'D2 ro', { count: 2, period: 'month' }]);
    assert.equal((await t.api('PATCH', `/v1/rewards/${r.id}`, { body: { limit_per_period: null } })).body.limit_per_period, null);
  });

  test('isolation: another tenant\'s rewards, redemptions and members are 404', async () => {
    const t = await app.newTenant();
    const other = await app.newTenant();
    const r = await reward(t, { kind: 'donation', name: { en: 'D' }, points: 10, donation: { cause: 'c' } });
    const m = await member(t, 100);
    const rr = (await redeem(t, { member_id: m, reward_id: r.id })).body;
    const om = await member(other, 100);
    for (const [method, path] of [['GET', `/v1/rewards/${r.id}`], ['GET', `/v1/reward-redemptions/${rr.id}`], ['GET', `/v1/members/${m}/rewards`], ['POST', `/v1/reward-redemptions/${rr.id}/cancel`], ['GET', `/v1/rewards/${r.id}/draws`]] as const) {
      assert.equal((await other.api(method, path)).status, 404, path);
    }
    assert.equal((await other.api('PATCH', `/v1/rewards/${r.id}`, { body: { points: 1 } })).status, 404);
    assert.equal((await redeem(other, { member_id: om, reward_id: r.id })).status, 404);
    assert.equal((await redeem(other, { member_id: m, reward_id: r.id })).status, 404);
    assert.deepEqual((await other.api('GET', '/v1/reward-redemptions')).body.data, []);
    assert.equal((await t.api('GET', `/v1/rewards/${r.id}`)).body.points, 10);
  });

  test('an idempotent re-send redeems once; the same key with another body is a 409', async () => {
    const t = await app.newTenant();
    const r = await reward(t, { kind: 'donation', name: { en: 'D' }, points: 30, stock: 10, donation: { cause: 'c', amount: 500 } });
    const m = await member(t, 100);
    const key = { 'idempotency-key': 'redeem-once' };
    const [a, b] = await Promise.all([redeem(t, { member_id: m, reward_id: r.id }, key), redeem(t, { member_id: m, reward_id: r.id }, key)]);
    const statuses = [a.status, b.status].sort();
    assert.ok(statuses[0] === 201 && (statuses[1] === 201 || statuses[1] === 409), statuses.join(','));
    const again = await redeem(t, { member_id: m, reward_id: r.id }, key);
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await available(t, m), 70);
    assert.equal((await t.api('GET', `/v1/rewards/${r.id}`)).body.stock, 9);
    assert.equal((await redeem(t, { member_id: m, reward_id: r.id, quantity: 1 }, key)).status, 409);
    const created = await t.api('POST', '/v1/rewards', { body: { kind: 'donation', name: { en: 'Once' }, points: 1, donation: { cause: 'c' } }, headers: { 'idempotency-key': 'create-once' } });
    const createdAgain = await t.api('POST', '/v1/rewards', { body: { kind: 'donation', name: { en: 'Once' }, points: 1, donation: { cause: 'c' } }, headers: { 'idempotency-key': 'create-once' } });
    assert.equal(createdAgain.body.id, created.body.id);
    await invariants(t);
  });
});
