/**
 * Stamp cards over HTTP against a real PostgreSQL: every scenario ends with each card's count equal to the sum of its
 * stamp rows and the ledger's invariants holding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2031-03-02T09:00:00Z')); // a Sunday; after 2030 (test/helpers.ts)
});
after(() => app.close());

let n = 0;
const uid = () => `${Date.now().toString(36)}-${++n}`;

async function member(t: TestTenant, first = 'Ana'): Promise<string> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: first } });
  assert.equal(m.status, 201, m.text);
  return m.body.id;
}

async function cardType(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('POST', '/v1/stamp-card-types', { body: { name: { en: 'Card' }, reward: { points: 500 }, ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function buy(t: TestTenant, memberId: string, order: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${uid()}`, member_id: memberId, currency: 'EUR', total: 500, ...order } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function giveBack(t: TestTenant, purchase: any, body: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { type: 'return', external_id: `r-${uid()}`, original_id: purchase.id, currency: 'EUR', total: purchase.total, ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function cards(t: TestTenant, memberId: string): Promise<Record<string, any>> {
  const res = await t.api('GET', `/v1/members/${memberId}/stamp-cards?include_archived=true`);
  assert.equal(res.status, 200, res.text);
  return Object.fromEntries(res.body.data.map((c: any) => [c.type_id, c]));
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data;

async function consistent(t: TestTenant) {
  assert.deepEqual(await app.patron.services.stampCards.cardsOutOfBalance(app.patron.db, t.id), []);
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

describe('stamp cards', () => {
  test('the bakery card of 10: ten purchases fill it, the reward is given through the ledger and card 2 starts; a return takes its stamp back', async () => {
    const t = await app.newTenant();
    const bakery = await cardType(t, { name: { en: 'Bakery card', bg: 'Карта на пекарната' }, stamps_needed: 10, reward: { points: 500 } });
    assert.deepEqual([bakery.stamp_on, bakery.stamps_per, bakery.stamps_each, bakery.status, bakery.min_amount], ['purchase', 'purchase', 1, 'active', null]);
    const ana = await member(t);
    assert.deepEqual((await cards(t, ana))[bakery.id], {
      type_id: bakery.id, name: { en: 'Bakery card', bg: 'Карта на пекарната' }, type_status: 'active', stamp_on: 'purchase', card_id: null, number: 1,
      stamps: 0, stamps_needed: 10, stamps_left: 10, completed_count: 0, last_completed_at: null, reward: { points: 500 },
    });
    const orders = [];
    for (let i = 0; i < 9; i++) orders.push(await buy(t, ana));
    let card = (await cards(t, ana))[bakery.id];
    assert.deepEqual([card.number, card.stamps, card.stamps_left, card.completed_count], [1, 9, 1, 0]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 0, 'no earn rules: only the card gives points');

    orders.push(await buy(t, ana));
    card = (await cards(t, ana))[bakery.id];
    assert.deepEqual([card.number, card.stamps, card.stamps_needed, card.completed_count], [2, 0, 10, 1]);
    assert.ok(card.last_completed_at);
    const bal = (await t.api('GET', `/v1/members/${ana}/balance`)).body;
    assert.deepEqual([bal.available, bal.lifetime_earned], [500, 500]);
    const entry = (await t.api('GET', `/v1/members/${ana}/ledger?type=earn`)).body.data[0];
    assert.deepEqual([entry.points, entry.source_type], [500, 'stamp_card']);
    const completed = await eventsOf(t, 'stamp_card.completed');
    assert.equal(completed.length, 1);
    assert.deepEqual([completed[0].payload.number, completed[0].payload.reward.points, completed[0].member_id], [1, 500, ana]);
    assert.equal(completed[0].aggregate_id, entry.source_id, 'the gift names the card it rewards');
    assert.equal((await eventsOf(t, 'stamp_card.stamped')).length, 10);

    // An 11th purchase and its return: the stamp comes off the current card.
    const eleventh = await buy(t, ana);
    assert.equal((await cards(t, ana))[bakery.id].stamps, 1);
    await giveBack(t, eleventh);
    assert.equal((await cards(t, ana))[bakery.id].stamps, 0);
    // A return of the 3rd purchase, whose card was filled and rewarded: the current card goes below zero and the next stamp fills that first.
    await giveBack(t, orders[2]);
    card = (await cards(t, ana))[bakery.id];
    assert.deepEqual([card.number, card.stamps, card.stamps_left, card.completed_count], [2, -1, 11, 1]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 500, 'the reward stays');
    const removed = await eventsOf(t, 'stamp_card.stamps_removed');
    assert.equal(removed.length, 2);
    // Returning it again (nothing left of it) takes nothing more.
    const again = await t.api('POST', '/v1/transactions', { body: { type: 'return', external_id: `r-${uid()}`, original_id: orders[2].id, currency: 'EUR', total: 1 } });
    assert.equal(again.status, 422, again.text);
    assert.equal((await cards(t, ana))[bakery.id].stamps, -1);

    const history = await t.api('GET', `/v1/members/${ana}/stamp-events?limit=3`);
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.body.data.map((e: any) => [e.kind, e.stamps, e.card_number]), [['return', -1, 2], ['return', -1, 2], ['purchase', 1, 2]]);
    assert.equal(history.body.data[0].transaction_id !== null, true);
    const exported = (await t.api('GET', `/v1/members/${ana}/export`)).body.sections.stamp_cards;
    assert.deepEqual(exported.cards.map((c: any) => [c.number, c.status, c.stamps]), [[1, 'completed', 10], [2, 'open', -1]]);
    assert.equal(exported.stamps.length, 13, "10 purchases, the 11th, two returns");
    await consistent(t);
  });

  test('several card types at once: minimum amount, categories, products, per unit with overflow onto the next card', async () => {
    const t = await app.newTenant();
    const coffee = await cardType(t, { name: { en: 'Coffee' }, stamps_needed: 5, categories: ['coffee'], reward: { points: 100 } });
    const big = await cardType(t, { name: { en: 'Big baskets' }, stamps_needed: 3, min_amount: 2000, reward: { points: 300 } });
    const croissants = await cardType(t, { name: { en: 'Croissants' }, stamps_needed: 4, skus: ['CROISSANT'], stamps_per: 'unit', reward: { points: 50 } });
    const ana = await member(t);
    const line = (sku: string, category: string, quantity = 1) => ({ sku, category, quantity, unit_price: 300 });

    await buy(t, ana, { total: 300, lines: [line('FLAT-WHITE', 'coffee')] });
    let c = await cards(t, ana);
    assert.deepEqual([c[coffee.id].stamps, c[big.id].stamps, c[croissants.id].stamps], [1, 0, 0]);

    // 2,500: big basket; 3 croissants (3 stamps); no coffee.
    const p2 = await buy(t, ana, { total: 2500, lines: [line('CROISSANT', 'bakery', 3), line('BREAD', 'bakery')] });
    c = await cards(t, ana);
    assert.deepEqual([c[coffee.id].stamps, c[big.id].stamps, c[croissants.id].stamps], [1, 1, 3]);

    // 3 more croissants: card 1 fills at 4 (reward 50), the 2 left go on card 2.
    await buy(t, ana, { total: 900, lines: [line('CROISSANT', 'bakery', 3)] });
    c = await cards(t, ana);
    assert.deepEqual([c[croissants.id].number, c[croissants.id].stamps, c[croissants.id].completed_count], [2, 2, 1]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 50);

    // Returning one croissant of p2 (a line return) takes one stamp; the big-basket stamp stays while 2,200 of 2,500 is kept.
    await giveBack(t, p2, { total: 300, lines: [{ sku: 'CROISSANT', quantity: 1 }] });
    c = await cards(t, ana);
    assert.deepEqual([c[croissants.id].stamps, c[big.id].stamps], [1, 1]);
    // Returning 300 more drops p2 below the minimum: its big-basket stamp goes.
    await giveBack(t, p2, { total: 300, lines: [{ sku: 'BREAD', quantity: 1 }] });
    c = await cards(t, ana);
    assert.deepEqual([c[croissants.id].stamps, c[big.id].stamps], [1, 0]);

    // A purchase under the minimum and without coffee stamps nothing.
    await buy(t, ana, { total: 1999, lines: [line('TEA', 'tea')] });
    c = await cards(t, ana);
    assert.deepEqual([c[coffee.id].stamps, c[big.id].stamps, c[croissants.id].stamps], [1, 0, 1]);

    // A void takes back everything the purchase holds, and voiding a return gives its stamps back.
    const p5 = await buy(t, ana, { total: 3000, lines: [line('ESPRESSO', 'coffee', 2), line('CROISSANT', 'bakery', 2)] });
    c = await cards(t, ana);
    assert.deepEqual([c[coffee.id].stamps, c[big.id].stamps, c[croissants.id].stamps], [2, 1, 3]);
    const r5 = await giveBack(t, p5, { total: 600, lines: [{ sku: 'CROISSANT', quantity: 2 }] });
    assert.equal((await cards(t, ana))[croissants.id].stamps, 1);
    assert.equal((await t.api('POST', `/v1/transactions/${r5.id}/void`, { body: { reason: 'entered twice' } })).status, 200);
    assert.equal((await cards(t, ana))[croissants.id].stamps, 3);
    assert.equal((await t.api('POST', `/v1/transactions/${p5.id}/void`, { body: { reason: 'test order' } })).status, 200);
    c = await cards(t, ana);
    assert.deepEqual([c[coffee.id].stamps, c[big.id].stamps, c[croissants.id].stamps], [1, 0, 1]);
    await consistent(t);
  });

  test('visit cards: one stamp a day in the tenant time zone, from an order or a visit event; validity dates and archived types', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Europe/Sofia' } })).status, 200);
    const visits = await cardType(t, { name: { en: 'Visits' }, stamp_on: 'visit', stamps_needed: 3, reward: { points: 70 } });
    const later = await cardType(t, { name: { en: 'Next month' }, stamp_on: 'visit', stamps_needed: 3, valid_from: new Date(app.clock.now().getTime() + 30 * DAY).toISOString() });
    const ana = await member(t);
    const now = app.clock.now().getTime();
    // 2031-03-02 09:00Z is 11:00 in Sofia; 23:30Z is 01:30 on 2031-03-03 there (still 2 March in UTC).
    await buy(t, ana, { occurred_at: new Date(now).toISOString() });
    const ev = await t.api('POST', '/v1/events', { body: { name: 'visit', member_id: ana, occurred_at: new Date(now - 3600_000).toISOString() } });
    assert.equal(ev.status, 201, ev.text);
    await buy(t, ana, { occurred_at: new Date(now - 2 * 3600_000).toISOString() });
    let c = await cards(t, ana);
    assert.equal(c[visits.id].stamps, 1, 'one stamp for three visits on one day');
    assert.equal(c[later.id].stamps, 0, 'not valid yet');

    app.clock.set(new Date(now + 14.5 * 3600_000)); // 23:30Z: the next day in Sofia
    const next = await t.api('POST', '/v1/events', { body: { name: 'visit', member_id: ana } });
    assert.equal(next.status, 201, next.text);
    assert.equal((await cards(t, ana))[visits.id].stamps, 2);
    // A re-sent event (same external_id) stamps nothing more.
    const body = { name: 'visit', member_id: ana, external_id: `v-${uid()}` };
    app.clock.set(new Date(now + 40 * 3600_000)); // 4 March in Sofia
    assert.equal((await t.api('POST', '/v1/events', { body })).status, 201);
    assert.equal((await t.api('POST', '/v1/events', { body })).status, 200);
    c = await cards(t, ana);
    assert.deepEqual([c[visits.id].number, c[visits.id].stamps, c[visits.id].completed_count], [2, 0, 1]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 70);

    // A return keeps the visit; a void of that day's only visit frees the day.
    app.clock.set(new Date(now + 64 * 3600_000)); // 5 March
    const p = await buy(t, ana);
    await giveBack(t, p);
    assert.equal((await cards(t, ana))[visits.id].stamps, 1);
    assert.equal((await t.api('POST', `/v1/transactions/${p.id}/void`, { body: { reason: 'mistake' } })).status, 200);
    assert.equal((await cards(t, ana))[visits.id].stamps, 0);
    await buy(t, ana);
    assert.equal((await cards(t, ana))[visits.id].stamps, 1);

    // Archived: no more stamps, the cards stay visible with include_archived.
    const archived = await t.api('DELETE', `/v1/stamp-card-types/${visits.id}`);
    assert.equal(archived.status, 200, archived.text);
    assert.equal(archived.body.status, 'archived');
    app.clock.set(new Date(now + 90 * 3600_000));
    await buy(t, ana);
    assert.equal((await cards(t, ana))[visits.id].stamps, 1);
    const active = await t.api('GET', `/v1/members/${ana}/stamp-cards`);
    assert.deepEqual(active.body.data.map((x: any) => x.type_id), [later.id]);
    app.clock.set(new Date(now));
    await consistent(t);
  });

  test('the active card types every order reads are cached per process: a new type, a PATCH and an archive apply to the next order', async () => {
    const t = await app.newTenant();
    const m = await member(t);
    await buy(t, m); // reads (and caches) "no card types"
    const coffee = await cardType(t, { stamps_needed: 10 });
    await buy(t, m);
    assert.equal((await cards(t, m))[coffee.id]?.stamps, 1, 'the new type stamps the next order');
    assert.equal((await t.api('PATCH', `/v1/stamp-card-types/${coffee.id}`, { body: { stamps_each: 3 } })).status, 200);
    await buy(t, m);
    assert.equal((await cards(t, m))[coffee.id].stamps, 4, 'the PATCH applies at once');
    assert.equal((await t.api('DELETE', `/v1/stamp-card-types/${coffee.id}`)).status, 200);
    await buy(t, m);
    assert.equal((await cards(t, m))[coffee.id].stamps, 4, 'an archived type stamps no more');
  });

  test('manual stamps: admin only, idempotent, with a reason; they fill cards; 422 for an archived type or a blocked member', async () => {
    const t = await app.newTenant();
    const type = await cardType(t, { stamps_needed: 3, reward: { points: 40 } });
    const ana = await member(t);
    const headers = { 'idempotency-key': `stamp-${uid()}` };
    const body = { member_id: ana, stamps: 4, reason: 'forgotten at the till' };
    const first = await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body, headers });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.completed.length, 1);
    assert.equal(first.body.completed[0].reward.points, 40);
    assert.deepEqual([first.body.card.number, first.body.card.stamps], [2, 1]);
    const replay = await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body, headers });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 40);
    const hist = (await t.api('GET', `/v1/members/${ana}/stamp-events?type_id=${type.id}`)).body.data;
    assert.deepEqual(hist.map((e: any) => [e.kind, e.stamps, e.reason]), [['manual', 1, 'forgotten at the till'], ['manual', 3, 'forgotten at the till']]);
    assert.ok(hist[0].actor);

    const minus = await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body: { member_id: ana, stamps: -2, reason: 'correction' } });
    assert.equal(minus.status, 201, minus.text);
    assert.equal(minus.body.card.stamps, -1);

    const writeKey = await t.keyWith(['write']);
    assert.equal((await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body, key: writeKey })).status, 403);
    const bad = await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body: { member_id: 'x', stamps: 0 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['member_id', 'reason', 'stamps']);
    assert.equal((await t.api('POST', `/v1/stamp-card-types/${crypto.randomUUID()}/stamps`, { body })).status, 404);
    assert.equal((await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body: { ...body, member_id: crypto.randomUUID() } })).status, 404);
    assert.equal((await t.api('POST', `/v1/members/${ana}/block`, { body: { reason: 'fraud' } })).status, 200);
    assert.equal((await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body })).status, 422);
    assert.equal((await t.api('POST', `/v1/members/${ana}/unblock`)).status, 200);
    await t.api('DELETE', `/v1/stamp-card-types/${type.id}`);
    assert.equal((await t.api('POST', `/v1/stamp-card-types/${type.id}/stamps`, { body })).status, 422);
    await consistent(t);
  });

  test('card types: bad input is a 400 naming every field; PATCH; another tenant sees a 404', async () => {
    const t = await app.newTenant();
    const bad = await t.api('POST', '/v1/stamp-card-types', { body: { name: { bg: 'Без английски' }, stamps_needed: 0, reward: {}, stamps_per: 'day', colour: 'red' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['colour', 'name.en', 'reward', 'stamps_needed', 'stamps_per']);
    const visit = await t.api('POST', '/v1/stamp-card-types', {
      body: { name: { en: 'V' }, stamp_on: 'visit', stamps_needed: 5, min_amount: 100, categories: ['x'], reward: { points: 1 }, valid_from: '2031-01-02T00:00:00Z', valid_until: '2031-01-01T00:00:00Z' },
    });
    assert.equal(visit.status, 400);
    assert.deepEqual(visit.body.errors.map((e: any) => e.field).sort(), ['categories', 'min_amount', 'valid_until']);

    const type = await cardType(t, { stamps_needed: 10, categories: ['bakery'] });
    const patched = await t.api('PATCH', `/v1/stamp-card-types/${type.id}`, { body: { stamps_needed: 8, categories: null, reward: { points: 900 } } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.body.stamps_needed, patched.body.categories, patched.body.reward], [8, null, { points: 900 }]);
    const badPatch = await t.api('PATCH', `/v1/stamp-card-types/${type.id}`, { body: { stamp_on: 'visit', reward: {} } });
    assert.equal(badPatch.status, 400);
    assert.deepEqual(badPatch.body.errors.map((e: any) => e.field).sort(), ['reward', 'stamp_on']);
    assert.equal((await t.api('GET', '/v1/stamp-card-types')).body.data.length, 1);
    assert.equal((await t.api('GET', `/v1/stamp-card-types/${type.id}`)).body.stamps_needed, 8);

    const other = await app.newTenant();
    assert.equal((await other.api('GET', `/v1/stamp-card-types/${type.id}`)).status, 404);
    assert.equal((await other.api('PATCH', `/v1/stamp-card-types/${type.id}`, { body: { stamps_needed: 2 } })).status, 404);
    assert.equal((await other.api('GET', '/v1/stamp-card-types')).body.data.length, 0);
    const ana = await member(t);
    assert.equal((await other.api('GET', `/v1/members/${ana}/stamp-cards`)).status, 404);
    // Another tenant's purchases never stamp this tenant's cards.
    const bob = await member(other);
    await buy(other, bob, { total: 500 });
    assert.equal((await cards(t, ana))[type.id].stamps, 0);
    await t.api('DELETE', `/v1/stamp-card-types/${type.id}`);
    assert.equal((await t.api('PATCH', `/v1/stamp-card-types/${type.id}`, { body: { stamps_needed: 3 } })).status, 422);
  });

  test('a re-sent order stamps once; concurrent purchases of one member fill the card exactly once', async () => {
    const t = await app.newTenant();
    const type = await cardType(t, { stamps_needed: 5, reward: { points: 10 } });
    const ana = await member(t);
    const order = { external_id: `o-${uid()}`, member_id: ana, currency: 'EUR', total: 500 };
    assert.equal((await t.api('POST', '/v1/transactions', { body: order })).status, 201);
    assert.equal((await t.api('POST', '/v1/transactions', { body: order })).status, 200);
    assert.equal((await cards(t, ana))[type.id].stamps, 1);
    await Promise.all(Array.from({ length: 12 }, () => buy(t, ana)));
    const c = (await cards(t, ana))[type.id];
    assert.deepEqual([c.completed_count, c.number, c.stamps], [2, 3, 3]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 20);
    await consistent(t);
  });
});
