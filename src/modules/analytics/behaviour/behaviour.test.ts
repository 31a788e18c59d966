/**
 * Behaviour metrics through the real HTTP API over orders recorded through the real API: domain.md's worked example
 * (S = 150, N = 50, 7 lost, E = 193 → CRR 95.3 %, churn 4.7 %) built from orders, a hand-checked scenario in a
 * non-UTC time zone (every figure computed by hand below), the breakdowns, the three rules for "lost", the
 * validation of the range (default: the year up to yesterday), tenant isolation, and a range where new customers lapse
 * (where domain.md's (E − N) / S would be negative). Every answer is checked against the identity
 * end = start − lost + new − new_lost + reactivated, and retention + churn = 100, overall and per group.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { addYears, churnRate, rangeOf, retentionRate } from './behaviour.js';
import { readSettings } from './behaviour.store.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  // Orders are dated 2030-2031: the clock stands after them (an order may not be in the future).
  app.clock.set('2031-06-01T12:00:00Z');
});
after(() => app.close());

async function tenant(settings: Record<string, unknown> | null = null, tenantFields: Record<string, unknown> = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  if (Object.keys(tenantFields).length) {
    const res = await t.api('PATCH', '/v1/tenant', { body: tenantFields });
    assert.equal(res.status, 200, res.text);
  }
  if (settings) {
    await app.patron.db.query('INSERT INTO analytics_settings (tenant_id, settings, updated_at) VALUES ($1, $2, now())', [t.id, JSON.stringify(settings)]);
  }
  return t;
}

type Who = { member: string } | { ref: string };

/** Records a purchase (the member by the shop's customer id, enrolled on the first order) and returns it. */
async function buy(t: TestTenant, who: Who, at: string, total: number, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', {
    body: {
      external_id: `o-${crypto.randomUUID()}`, ...('member' in who ? { member_external_id: who.member } : { customer_ref: who.ref }),
      occurred_at: at, currency: 'EUR', total, ...extra,
    },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function giveBack(t: TestTenant, purchase: any, at: string, total: number): Promise<void> {
  const res = await t.api('POST', '/v1/transactions', {
    body: { external_id: `r-${crypto.randomUUID()}`, type: 'return', original_id: purchase.id, occurred_at: at, currency: purchase.currency, total },
  });
  assert.equal(res.status, 201, res.text);
}

async function voidOrder(t: TestTenant, purchase: any): Promise<void> {
  const res = await t.api('POST', `/v1/transactions/${purchase.id}/void`, { body: { reason: 'test' } });
  assert.equal(res.status, 200, res.text);
}

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function report(t: TestTenant, query: string, key?: string): Promise<any> {
  const res = await t.api('GET', `/v1/analytics/behaviour${query}`, key ? { key } : {});
  assert.equal(res.status, 200, res.text);
  assertIdentity(res.body.overall, 'overall');
  for (const g of res.body.groups) assertIdentity(g, `group ${g.value}`);
  return res.body;
}

function assertIdentity(figures: any, what: string) {
  const c = figures.customers;
  assert.equal(c.end, c.start - c.lost + c.new - c.new_lost + c.reactivated, `${what}: end = start − lost + new − new_lost + reactivated (${JSON.stringify(c)})`);
  assert.ok(c.lost <= c.start && c.new_lost <= c.new, `${what}: lost within start, new_lost within new (${JSON.stringify(c)})`);
  if (c.start === 0) {
    assert.equal(figures.retention_rate, null, what);
    assert.equal(figures.churn_rate, null, what);
    return;
  }
  // The share of S still active, to one decimal, and its complement.
  assert.ok(Math.abs(figures.retention_rate - ((c.start - c.lost) / c.start) * 100) <= 0.05 + 1e-9, `${what}: retention ${figures.retention_rate} for ${JSON.stringify(c)}`);
  assert.ok(Math.abs(figures.retention_rate + figures.churn_rate - 100) < 1e-9, `${what}: retention ${figures.retention_rate} + churn ${figures.churn_rate} = 100`);
}

const group = (body: any, value: string | null) => body.groups.find((g: any) => g.value === value) ?? assert.fail(`no group ${value} in ${JSON.stringify(body.groups.map((g: any) => g.value))}`);

describe('behaviour metrics', () => {
  test("domain.md's worked example from real orders: S = 150, N = 50, 7 lost, E = 193 → retention 95.3 %, churn 4.7 %", async () => {
    const t = await tenant();
    const orders: Array<[Who, string, number]> = [];
    // 143 customers at the start who buy again in the range: 20 days between their purchases (the median gap).
    for (let i = 0; i < 143; i++) orders.push([{ member: `kept-${i}` }, '2031-02-20T12:00:00Z', 1000], [{ member: `kept-${i}` }, '2031-03-12T12:00:00Z', 2000]);
    // 7 customers at the start (18 days since their purchase on 2031-02-28) who never come back: 49 days by 2031-03-31.
    for (let i = 0; i < 7; i++) orders.push([{ member: `gone-${i}` }, '2031-02-10T12:00:00Z', 1000]);
    // 50 new customers; 10 of them buy twice on their first day (one purchase day, two orders).
    for (let i = 0; i < 50; i++) orders.push([{ member: `new-${i}` }, '2031-03-10T12:00:00Z', 3000]);
    for (let i = 0; i < 10; i++) orders.push([{ member: `new-${i}` }, '2031-03-10T15:00:00Z', 1000]);
    // Lost long before the range: they figure nowhere.
    for (let i = 0; i < 5; i++) orders.push([{ member: `old-${i}` }, '2030-05-01T12:00:00Z', 1000]);
    await inParallel(orders, 8, ([who, at, total]) => buy(t, who, at, total));
    // A voided purchase and a wholly returned one of a kept customer count for nothing.
    await voidOrder(t, await buy(t, { member: 'kept-0' }, '2031-03-20T12:00:00Z', 9999));
    const returned = await buy(t, { member: 'kept-1' }, '2031-03-21T12:00:00Z', 5000);
    await giveBack(t, returned, '2031-03-22T12:00:00Z', 5000);

    const body = await report(t, '?from=2031-03-01&to=2031-03-31');
    const o = body.overall;
    assert.deepEqual(o.customers, { start: 150, new: 50, end: 193, lost: 7, new_lost: 0, reactivated: 0, purchasing: 193, repeat: 10 });
    assert.equal(o.retention_rate, 95.3);
    assert.equal(o.churn_rate, 4.7);
    // No new customer lost, nobody came back: domain.md's (E − N) / S is the same figure.
    assert.equal(Math.round(((o.customers.end - o.customers.new) / o.customers.start) * 1000) / 10, o.retention_rate);
    assert.match(body.definitions.retention, /\(start − lost\) \/ start/);
    assert.equal(body.definitions.rule, 'median_gap');
    assert.equal(body.definitions.median_gap_days, 20);
    assert.equal(body.definitions.window_days, 40);
    assert.equal(body.definitions.lost, 'no purchase within 2 × the median gap (20 days) = 40 days');
    assert.equal(o.orders, 143 + 60);
    assert.equal(o.repeat_purchase_rate, 5.2); // 10 / 193
    assert.equal(o.purchase_frequency, 1.05); // 203 / 193
    assert.deepEqual(o.revenue, { amount: 143 * 2000 + 50 * 3000 + 10 * 1000, currency: 'EUR' });
    assert.deepEqual(o.average_order_value, { amount: Math.round((143 * 2000 + 50 * 3000 + 10 * 1000) / 203), currency: 'EUR' });
    // Same-day orders are one purchase day: only the 143 gaps of 20 days end in the range.
    assert.equal(o.median_days_between_purchases, 20);
    assert.equal(body.days, 31);
    assert.deepEqual(body.groups, []);
  });

  test('a hand-checked scenario in Europe/Sofia with a fixed 20-day window: every figure, returns, voids, a foreign currency and non-members', async () => {
    const t = await tenant({ churn: { rule: 'fixed_days', days: 20 } }, { time_zone: 'Europe/Sofia' });
    // A: at the start (bought on 2031-02-28 in Sofia: 23:30 UTC the day before is 01:30 there), buys three times in the
    //    range, two of them on one day; a partial return takes 1000 off the last one.
    await buy(t, { member: 'A' }, '2031-01-20T12:00:00Z', 1000, { channel: 'online' });
    await buy(t, { member: 'A' }, '2031-02-27T23:30:00Z', 1000, { channel: 'store', store_id: 'sofia-1' });
    await buy(t, { member: 'A' }, '2031-03-05T09:00:00Z', 1500, { channel: 'online' });
    await buy(t, { member: 'A' }, '2031-03-05T17:00:00Z', 500, { channel: 'online' });
    const a4 = await buy(t, { member: 'A' }, '2031-03-25T12:00:00Z', 3000, { channel: 'store', store_id: 'sofia-1' });
    await giveBack(t, a4, '2031-03-26T12:00:00Z', 1000);
    // B: at the start (18 days since 2031-02-10), never again: lost (49 days by 2031-03-31).
    await buy(t, { member: 'B' }, '2031-02-10T12:00:00Z', 1000);
    // C: lost at the start (150 days since 2030-10-01), back on 2031-03-20: reactivated.
    await buy(t, { member: 'C' }, '2030-10-01T12:00:00Z', 1000);
    await buy(t, { member: 'C' }, '2031-03-20T12:00:00Z', 1000);
    // D: new on 2031-03-01 in Sofia (22:30 UTC on 2031-02-28), never again: lost (30 days > 20).
    await buy(t, { member: 'D' }, '2031-02-28T22:30:00Z', 1000);
    // F: a non-member, new, two days in a row.
    await buy(t, { ref: 'walk-in-F' }, '2031-03-15T12:00:00Z', 800);
    await buy(t, { ref: 'walk-in-F' }, '2031-03-16T12:00:00Z', 700);
    // G: lost long before; their purchase in the range was voided, so they figure nowhere.
    await buy(t, { member: 'G' }, '2031-01-01T12:00:00Z', 1000);
    await voidOrder(t, await buy(t, { member: 'G' }, '2031-03-10T12:00:00Z', 1000));
    // H: their only purchase was wholly returned.
    const h = await buy(t, { member: 'H' }, '2031-03-12T12:00:00Z', 1200);
    await giveBack(t, h, '2031-03-13T12:00:00Z', 1200);
    // K: new; the first order in another currency (the program's was BGN then): an order, not money.
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { default_currency: 'BGN' } })).status, 200);
    await buy(t, { member: 'K' }, '2031-03-08T12:00:00Z', 900, { currency: 'BGN' });
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { default_currency: 'EUR' } })).status, 200);
    await buy(t, { member: 'K' }, '2031-03-28T12:00:00Z', 500);
    // After the range: not counted.
    await buy(t, { member: 'A' }, '2031-04-01T12:00:00Z', 7000);
    await buy(t, { member: 'Z' }, '2031-03-31T22:30:00Z', 7000); // 2031-04-01 01:30 in Sofia

    const body = await report(t, '?from=2031-03-01&to=2031-03-31');
    assert.equal(body.time_zone, 'Europe/Sofia');
    assert.equal(body.currency, 'EUR');
    assert.equal(body.definitions.rule, 'fixed_days');
    assert.equal(body.definitions.lost, 'no purchase within 20 days');
    assert.equal(body.definitions.window_days, 20);
    assert.equal(body.definitions.fixed_days, 20);
    // Purchase-day gaps up to 2031-03-31: A 39, 5, 20; C 170; F 1; K 20 → median 20.
    assert.equal(body.definitions.median_gap_days, 20);
    const o = body.overall;
    // S = {A, B}; N = {D, F, K}; E = {A, C, F, K}; lost = {B}; new_lost = {D}; reactivated = {C}.
    assert.deepEqual(o.customers, { start: 2, new: 3, end: 4, lost: 1, new_lost: 1, reactivated: 1, purchasing: 5, repeat: 3 });
    assert.equal(o.retention_rate, 50); // (2 − 1) / 2: A of A, B
    assert.equal(o.churn_rate, 50); // 1 / 2: B
    assert.equal(o.repeat_purchase_rate, 60); // A, F, K of A, C, D, F, K
    assert.equal(o.orders, 9); // A 3, C 1, D 1, F 2, K 2
    assert.equal(o.orders_in_currency, 8);
    assert.equal(o.purchase_frequency, 1.8);
    assert.deepEqual(o.revenue, { amount: 4000 + 1000 + 1000 + 1500 + 500, currency: 'EUR' });
    assert.deepEqual(o.average_order_value, { amount: 1000, currency: 'EUR' });
    // Gaps ending in the range: A 5 and 20, C 170, F 1, K 20.
    assert.equal(o.median_days_between_purchases, 20);

    // Members against non-members.
    const types = await report(t, '?from=2031-03-01&to=2031-03-31&by=customer_type');
    assert.deepEqual(types.groups.map((g: any) => g.value), ['member', 'non_member']);
    assert.deepEqual(group(types, 'member').customers, { start: 2, new: 2, end: 3, lost: 1, new_lost: 1, reactivated: 1, purchasing: 4, repeat: 2 });
    assert.equal(group(types, 'member').retention_rate, 50);
    assert.equal(group(types, 'member').churn_rate, 50);
    assert.deepEqual(group(types, 'non_member').customers, { start: 0, new: 1, end: 1, lost: 0, new_lost: 0, reactivated: 0, purchasing: 1, repeat: 1 });
    assert.equal(group(types, 'non_member').retention_rate, null);
    assert.deepEqual(group(types, 'non_member').revenue, { amount: 1500, currency: 'EUR' });
    assert.equal(types.definitions.groups, 'member: orders of a member; non_member: orders the shop sent with a customer_ref.');

    // Channels: A bought online and in store, so A is in both; each group's orders are its own.
    const channels = await report(t, '?from=2031-03-01&to=2031-03-31&by=channel');
    const online = group(channels, 'online');
    const store = group(channels, 'store');
    assert.deepEqual(online.customers, { start: 1, new: 0, end: 1, lost: 0, new_lost: 0, reactivated: 0, purchasing: 1, repeat: 1 });
    assert.equal(online.retention_rate, 100);
    assert.equal(online.orders, 2);
    assert.deepEqual(online.revenue, { amount: 2000, currency: 'EUR' });
    assert.equal(store.orders, 1);
    assert.deepEqual(store.revenue, { amount: 2000, currency: 'EUR' });
    assert.equal(store.median_days_between_purchases, 20); // A's gap ending on 2031-03-25, a store day
    assert.equal(online.median_days_between_purchases, 5);
    const none = group(channels, null);
    assert.deepEqual(none.customers, { start: 1, new: 3, end: 3, lost: 1, new_lost: 1, reactivated: 1, purchasing: 4, repeat: 2 }); // B; C, D, F, K
    assert.equal(none.churn_rate, 100); // B of B
    assert.match(channels.definitions.groups, /counted in each channel they bought in/);

    const stores = await report(t, '?from=2031-03-01&to=2031-03-31&by=store');
    assert.deepEqual(stores.groups.map((g: any) => g.value), ['sofia-1', null]);
    assert.equal(group(stores, 'sofia-1').orders, 1);

    // Cohorts by the month of the first purchase in Sofia: D is a March customer (February in UTC).
    const cohorts = await report(t, '?from=2031-03-01&to=2031-03-31&by=cohort');
    assert.deepEqual(cohorts.groups.map((g: any) => g.value), ['2030-10', '2031-01', '2031-02', '2031-03']);
    assert.deepEqual(group(cohorts, '2031-03').customers, { start: 0, new: 3, end: 2, lost: 0, new_lost: 1, reactivated: 0, purchasing: 3, repeat: 2 });
    assert.deepEqual(group(cohorts, '2030-10').customers, { start: 0, new: 0, end: 1, lost: 0, new_lost: 0, reactivated: 1, purchasing: 1, repeat: 0 });
    assert.deepEqual(group(cohorts, '2031-02').customers, { start: 1, new: 0, end: 0, lost: 1, new_lost: 0, reactivated: 0, purchasing: 0, repeat: 0 }); // B
  });

  test('by tier (the tier now, the base tier without a row, non-members apart) and by RFM segment (unscored, non-members)', async () => {
    const t = await tenant();
    const bronze = await t.api('POST', '/v1/tiers', { body: { code: 'bronze', name: 'Bronze', rank: 1, entry_threshold: 0 } });
    assert.equal(bronze.status, 201, bronze.text);
    const gold = await t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', rank: 2, entry_threshold: 1_000_000 } });
    assert.equal(gold.status, 201, gold.text);
    const m1 = (await buy(t, { member: 'm1' }, '2031-03-02T12:00:00Z', 1000)).member_id;
    const m2 = (await buy(t, { member: 'm2' }, '2031-03-03T12:00:00Z', 2000)).member_id;
    await buy(t, { member: 'm2' }, '2031-03-04T12:00:00Z', 2000);
    await buy(t, { ref: 'nm' }, '2031-03-05T12:00:00Z', 500);
    const assigned = await t.api('POST', `/v1/members/${m2}/tier/assignment`, { body: { tier: 'gold', reason: 'test' } });
    assert.equal(assigned.status, 200, assigned.text);

    const tiers = await report(t, '?from=2031-03-01&to=2031-03-31&by=tier');
    assert.deepEqual(tiers.groups.map((g: any) => [g.value, g.customers.new, g.orders]), [['(non-members)', 1, 1], ['bronze', 1, 1], ['gold', 1, 2]]);

    await app.patron.db.query(
      `INSERT INTO member_analytics (tenant_id, member_id, run_id, as_of, computed_at, segment, p_alive) VALUES ($1, $2, $3, '2031-03-31', now(), 'champions', 0.9)`,
      [t.id, m1, crypto.randomUUID()]);
    const segments = await report(t, '?from=2031-03-01&to=2031-03-31&by=segment');
    assert.deepEqual(segments.groups.map((g: any) => [g.value, g.customers.new]), [['(non-members)', 1], ['champions', 1], ['unscored', 1]]);
    assert.deepEqual(group(segments, 'unscored').revenue, { amount: 4000, currency: 'EUR' });
  });

  test("rule p_alive: a scored member by the score (a purchase after the score's day revives), everyone else by the median gap", async () => {
    const t = await tenant({ churn: { rule: 'p_alive', p_alive_below: 0.3 } });
    const score = (memberId: string, pAlive: number) => app.patron.db.query(
      `INSERT INTO member_analytics (tenant_id, member_id, run_id, as_of, computed_at, p_alive) VALUES ($1, $2, $3, '2031-03-20', now(), $4)`,
      [t.id, memberId, crypto.randomUUID(), pAlive]);
    // Every customer buys 10 days apart once: the median gap is 10, the window 20 days.
    const first = async (name: string) => (await buy(t, { member: name }, '2031-02-01T12:00:00Z', 1000)).member_id as string;
    const low = await first('low');
    await buy(t, { member: 'low' }, '2031-02-11T12:00:00Z', 1000);
    const revived = await first('revived');
    await buy(t, { member: 'revived' }, '2031-02-11T12:00:00Z', 1000);
    await buy(t, { member: 'revived' }, '2031-03-25T12:00:00Z', 1000); // after the score's day
    const high = await first('high');
    await buy(t, { member: 'high' }, '2031-02-11T12:00:00Z', 1000);
    await first('unscored');
    await buy(t, { member: 'unscored' }, '2031-02-11T12:00:00Z', 1000);
    await score(low, 0.1);
    await score(revived, 0.1);
    await score(high, 0.9);

    const body = await report(t, '?from=2031-02-15&to=2031-03-31');
    // At the start (2031-02-14) all four bought 3 days ago. At the end: low lost by score; revived bought after the
    // score; high alive by score though 48 days have passed; unscored lost by the window (48 > 20).
    assert.deepEqual(body.overall.customers, { start: 4, new: 0, end: 2, lost: 2, new_lost: 0, reactivated: 0, purchasing: 1, repeat: 0 });
    assert.equal(body.definitions.rule, 'p_alive');
    assert.equal(body.definitions.scores_as_of, '2031-03-20');
    assert.equal(body.definitions.p_alive_below, 0.3);
    assert.equal(body.definitions.window_days, 20);
    assert.equal(body.definitions.lost,
      "P(alive) below 0.3 (the members' scores as of 2031-03-20; a purchase after that day counts as alive); members without a score, non-members, and everyone at the start of the range: no purchase within 2 × the median gap (10 days) = 20 days");
  });

  test("the window's edges: a last purchase exactly `days` ago is within it, one day more is lost, at both ends of the range", async () => {
    const t = await tenant({ churn: { rule: 'fixed_days', days: 10 } });
    await buy(t, { member: 'P' }, '2031-03-04T12:00:00Z', 1000); // 10 days before 2031-03-14: at the start; lost by the end
    await buy(t, { member: 'Q' }, '2031-03-03T12:00:00Z', 1000); // 11 days: lost before the range, figures nowhere
    await buy(t, { member: 'X' }, '2031-03-16T12:00:00Z', 1000); // new, then 10 days before `to`: at the end
    await buy(t, { member: 'X' }, '2031-03-21T12:00:00Z', 1000);
    await buy(t, { member: 'Y' }, '2031-03-20T12:00:00Z', 1000); // new, 11 days before `to`: lost
    const body = await report(t, '?from=2031-03-15&to=2031-03-31');
    assert.deepEqual(body.overall.customers, { start: 1, new: 2, end: 1, lost: 1, new_lost: 1, reactivated: 0, purchasing: 2, repeat: 1 });
  });

  test('the median-gap window with no repeat purchases is unknown: nobody is lost, and the definition says so; fixed_days without days falls back', async () => {
    const t = await tenant({ churn: { rule: 'fixed_days', days: null, gap_multiple: 3 } });
    await buy(t, { member: 'once' }, '2030-01-01T12:00:00Z', 1000);
    const body = await report(t, '?from=2031-03-01&to=2031-03-31');
    assert.equal(body.definitions.rule, 'median_gap');
    assert.equal(body.definitions.window_days, null);
    assert.equal(body.definitions.lost,
      'no purchase within 3 × the median gap between purchases; no customer bought on two different days up to 2031-03-31, so the median gap is unknown and nobody counts as lost (the rule is fixed_days but no number of days is set, so the median-gap rule applies)');
    assert.deepEqual(body.overall.customers, { start: 1, new: 0, end: 1, lost: 0, new_lost: 0, reactivated: 0, purchasing: 0, repeat: 0 });
    assert.equal(body.overall.retention_rate, 100);
    assert.equal(body.overall.churn_rate, 0);
    assert.equal(body.overall.average_order_value, null);
    assert.equal(body.overall.purchase_frequency, null);
  });

  test('new customers who lapse within the range and few customers at the start (the demo tenant\'s case): retention stays the share of S kept', async () => {
    const t = await tenant({ churn: { rule: 'fixed_days', days: 10 } });
    // S: two customers who bought on 2031-02-25; one buys again on 2031-03-25 (kept), the other never (lost).
    await buy(t, { member: 'kept' }, '2031-02-25T12:00:00Z', 1000);
    await buy(t, { member: 'kept' }, '2031-03-25T12:00:00Z', 1000);
    await buy(t, { member: 'gone' }, '2031-02-25T12:00:00Z', 1000);
    // N: six one-off buyers early in the range, all lost by 2031-03-31 (26 days > 10), and one late buyer, at the end.
    await inParallel([0, 1, 2, 3, 4, 5], 6, (i) => buy(t, { member: `once-${i}` }, '2031-03-05T12:00:00Z', 500));
    await buy(t, { member: 'late' }, '2031-03-28T12:00:00Z', 500);

    const body = await report(t, '?from=2031-03-01&to=2031-03-31');
    const o = body.overall;
    assert.deepEqual(o.customers, { start: 2, new: 7, end: 2, lost: 1, new_lost: 6, reactivated: 0, purchasing: 8, repeat: 0 });
    assert.equal(o.retention_rate, 50);
    assert.equal(o.churn_rate, 50);
    // (E − N) / S would have said (2 − 7) / 2 = −250 %.
    assert.equal(((o.customers.end - o.customers.new) / o.customers.start) * 100, -250);
    assert.equal(body.definitions.identity, 'end = start − lost + new − new_lost + reactivated');

    // Groups the same way: the February cohort is S, the March cohort is N only (no rates without a start).
    const cohorts = await report(t, '?from=2031-03-01&to=2031-03-31&by=cohort');
    const feb = group(cohorts, '2031-02');
    assert.deepEqual(feb.customers, { start: 2, new: 0, end: 1, lost: 1, new_lost: 0, reactivated: 0, purchasing: 1, repeat: 0 });
    assert.equal(feb.retention_rate, 50);
    const mar = group(cohorts, '2031-03');
    assert.deepEqual(mar.customers, { start: 0, new: 7, end: 1, lost: 0, new_lost: 6, reactivated: 0, purchasing: 7, repeat: 0 });
    assert.equal(mar.retention_rate, null);
  });

  test('the range: defaults, real dates, from <= to, at most 5 years, a known `by`; 400s name the field', async () => {
    const t = await tenant(null, { time_zone: 'Pacific/Kiritimati' });
    // 2031-06-01 12:00 UTC is 2031-06-02 in Kiritimati (UTC+14): the default range ends yesterday there, 2031-06-01
    // (in UTC it would be 2031-05-31).
    const dflt = await report(t, '');
    assert.equal(dflt.to, '2031-06-01');
    assert.equal(dflt.from, '2030-06-02');
    assert.equal(dflt.days, 365);
    assert.deepEqual(dflt.overall.customers, { start: 0, new: 0, end: 0, lost: 0, new_lost: 0, reactivated: 0, purchasing: 0, repeat: 0 });
    assert.equal((await report(t, '?from=2031-05-01')).to, '2031-06-01');
    // Today may still be asked for explicitly.
    assert.equal((await report(t, '?from=2026-06-03&to=2031-06-02')).days, 1826);
    const bad = async (query: string, field: string, detail: RegExp) => {
      const res = await t.api('GET', `/v1/analytics/behaviour${query}`);
      assert.equal(res.status, 400, `${query}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.deepEqual(res.body.errors.map((e: any) => e.field), [field], `${query}: ${res.text}`);
      assert.match(res.body.errors[0].detail, detail, query);
    };
    await bad('?from=2031-02-30&to=2031-03-31', 'from', /date/);
    await bad('?from=2031-03-01&to=31-03-2031', 'to', /date/);
    await bad('?from=2031-03-10&to=2031-03-01', 'to', /on or after from/);
    await bad('?from=2099-01-01', 'from', /on or before to \(yesterday, 2031-06-01, when to is not given\)/);
    await bad('?from=2031-06-02', 'from', /on or before to \(yesterday, 2031-06-01/);
    await bad('?from=2026-06-02&to=2031-06-02', 'to', /at most 5 years/);
    await bad('?to=2031-03-01&by=region', 'by', /online|tier|must be/);
    await bad('?from=2031-03-01&limit=5', 'limit', /not a known field/);
    // The service checks by itself too (it is called without the HTTP schema by other modules).
    assert.throws(() => rangeOf({ from: '2031-02-29' }, '2031-06-01'), (e: any) => e.errors[0].field === 'from');
    assert.throws(() => rangeOf({ from: '1899-12-31' }, '2031-06-01'), (e: any) => e.errors[0].field === 'from');
    assert.equal(addYears('2028-02-29', -1), '2027-03-01');
    assert.deepEqual(rangeOf({ to: '2028-02-29' }, '2031-06-01'), { from: '2027-03-02', to: '2028-02-29' });
  });

  test('a read-scoped key may read; another tenant\'s orders are never counted', async () => {
    const a = await tenant();
    const b = await tenant();
    await buy(b, { member: 'b1' }, '2031-03-02T12:00:00Z', 1000);
    await buy(a, { member: 'a1' }, '2031-03-02T12:00:00Z', 3000);
    const readKey = await a.keyWith(['read']);
    const body = await report(a, '?from=2031-03-01&to=2031-03-31&by=customer_type', readKey);
    assert.equal(body.overall.customers.new, 1);
    assert.deepEqual(body.overall.revenue, { amount: 3000, currency: 'EUR' });
    // Other modules may call the service inside a transaction of their own that has already read something.
    const inTx = await app.patron.db.tx(async (tx) => {
      await tx.query('SELECT 1');
      return app.patron.services.behaviour.report(tx, a.id, { from: '2031-03-01', to: '2031-03-31', by: 'customer_type' });
    });
    assert.deepEqual(JSON.parse(JSON.stringify(inTx)), body);
  });

  test('retention and churn rates: domain.md\'s example, complements to 100.0 at one decimal; stored settings merged over the defaults', async () => {
    assert.equal(retentionRate(150, 7), 95.3);
    assert.equal(churnRate(150, 7), 4.7);
    assert.equal(retentionRate(0, 0), null);
    assert.equal(churnRate(0, 0), null);
    // 0.25 % churn rounds up to 0.3; retention shows 99.7, not 99.8, so that the two add to 100.
    assert.equal(churnRate(400, 1), 0.3);
    assert.equal(retentionRate(400, 1), 99.7);
    assert.equal(retentionRate(3, 3), 0);
    const t = await tenant({ churn: { rule: 'fixed_days', days: 45, gap_multiple: 'x' }, nightly: false });
    const s = await readSettings(app.patron.db, t.id);
    assert.deepEqual(s.churn, { rule: 'fixed_days', gap_multiple: 2, days: 45, p_alive_below: 0.3 });
    assert.equal(s.nightly, false);
    assert.equal(s.clv.margin, 0.3);
  });
});
