/**
 * Campaigns through the real HTTP API: the double-points weekend with a control group and a budget (the issue's
 * acceptance scenario), the budget cap under concurrency, returns and voids giving budget back, limits per member,
 * category and action bonuses, audiences, bad input, tenant isolation and re-sends. Every scenario ends with the
 * ledger's invariants checked. The clock is set after 2030 (test/helpers.ts): the scheduled jobs of other test
 * processes, on the real clock, never find these campaigns due.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import { controlDraw } from './campaigns.service.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));

/** A fresh tenant whose program earns 1 point per euro. */
async function tenant(program: Record<string, unknown> = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  if (Object.keys(program).length) assert.equal((await t.api('PATCH', '/v1/program', { body: program })).status, 200);
  const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } } });
  assert.equal(rule.status, 201, rule.text);
  return t;
}

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

async function order(t: TestTenant, memberId: string, externalId: string, total: number, extra: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: externalId, member_id: memberId, currency: 'EUR', total, ...extra } });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.body;
}

const available = async (t: TestTenant, memberId: string) => (await t.api('GET', `/v1/members/${memberId}/balance`)).body.available as number;

async function campaign(t: TestTenant, body: Record<string, unknown>, launch = true) {
  const res = await t.api('POST', '/v1/campaigns', { body: { name: 'Campaign', starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z', ...body } });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.body.status, 'draft');
  if (!launch) return res.body;
  const launched = await t.api('POST', `/v1/campaigns/${res.body.id}/launch`);
  assert.equal(launched.status, 200, launched.text);
  return launched.body;
}

const get = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/campaigns/${id}`)).body;

async function awards(t: TestTenant, id: string, query = ''): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await t.api('GET', `/v1/campaigns/${id}/awards?limit=500${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];

async function campaignEntries(t: TestTenant, memberId: string) {
  const res = await t.api('GET', `/v1/members/${memberId}/ledger?limit=500`);
  assert.equal(res.status, 200, res.text);
  return (res.body.data as any[]).filter((e) => e.source_type === 'campaign');
}

async function invariants(t: TestTenant) {
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

const runJob = (name: string, t: TestTenant) => app.patron.jobs.runNow(name, { tenant_id: t.id });

describe('campaigns', () => {
  test('acceptance: a double-points weekend with a 10% control group and a budget', async () => {
    at('2031-02-10T12:00:00Z');
    const t = await tenant();
    const ids = await inParallel(Array.from({ length: 500 }, (_, i) => i), 20, (i) => member(t, { external_id: `m-${i}` }));
    // Some history for the baseline: every fifth member bought once in February.
    await inParallel(ids.filter((_, i) => i % 5 === 0), 20, (id, i) => order(t, id, `feb-${i}`, 2000));

    at('2031-03-01T09:00:00Z');
    const c = await campaign(t, {
      name: 'Double points weekend', kind: 'points_multiplier', config: { multiplier: 2 }, conditions: { days_of_week: [6, 7] },
      budget: { points: 1_000_000 }, control_share: 0.1, baseline_days: 30,
    });
    assert.equal(c.status, 'scheduled');
    assert.equal(c.budget.points, 1_000_000);
    assert.equal((await eventsOf(t, 'campaign.launched')).length, 1);

    await runJob('campaigns.launch', t);
    const launched = await get(t, c.id);
    assert.ok(launched.base_assigned_at);
    const { treatment, control } = launched.spend.members;
    assert.equal(treatment + control, 500, 'every active member is assigned');
    // Binomial(500, 0.1): ±6σ, so that the check fails on a broken hash and not once in a few hundred runs.
    assert.ok(control >= 10 && control <= 90, `about 10% held out: ${control}`);
    // Deterministic: the group is the hash of campaign and member, whoever assigns it.
    const isControl = new Set(ids.filter((id) => controlDraw(c.id, id) < 0.1));
    assert.equal(isControl.size, control);
    const b = launched.baseline;
    assert.deepEqual([b.treatment.members, b.control.members], [treatment, control]);
    const boughtInFeb = (set: string[]) => set.filter((id) => ids.indexOf(id) % 5 === 0).length;
    const tIds = ids.filter((id) => !isControl.has(id));
    const cIds = ids.filter((id) => isControl.has(id));
    assert.equal(b.treatment.purchases_per_member, Math.round((boughtInFeb(tIds) / tIds.length) * 10_000) / 10_000);
    assert.equal(b.treatment.spend_per_member, Math.round(((boughtInFeb(tIds) * 2000) / tIds.length) * 10_000) / 10_000);
    assert.equal(b.control.points_per_member, Math.round(((boughtInFeb(cIds) * 20) / cIds.length) * 10_000) / 10_000);
    assert.equal((await eventsOf(t, 'campaign.baseline_recorded')).length, 1);

    // A Wednesday inside the window: not a weekend day, base points only.
    at('2031-03-05T12:00:00Z');
    const wed = await order(t, ids[1]!, 'wed-1', 1000);
    assert.equal(wed.points, 10);
    assert.equal((await campaignEntries(t, ids[1]!)).length, 0);

    // Saturday: everyone buys 10 EUR; every third member buys again.
    at('2031-03-08T10:00:00Z');
    await runJob('campaigns.advance', t);
    assert.equal((await get(t, c.id)).status, 'running');
    await inParallel(ids, 20, (id, i) => order(t, id, `sat-${i}`, 1000));
    await inParallel(ids.filter((_, i) => i % 3 === 0), 20, (id, i) => order(t, id, `sat2-${i}`, 1500));

    const feb = (id: string) => (ids.indexOf(id) % 5 === 0 ? 20 : 0);
    const again = (id: string) => (ids.indexOf(id) % 3 === 0 ? 15 : 0);
    for (const id of [...cIds.slice(0, 5), ...tIds.slice(0, 15)]) {
      const base = 10 + again(id) + feb(id) + (id === ids[1] ? 10 : 0);
      const extra = isControl.has(id) ? 0 : 10 + again(id);
      assert.equal(await available(t, id), base + extra, `member ${ids.indexOf(id)} (${isControl.has(id) ? 'control' : 'treatment'})`);
    }
    const all = await awards(t, c.id);
    const saturdayOrders = 500 + ids.filter((_, i) => i % 3 === 0).length;
    assert.equal(all.length, saturdayOrders, 'one award row per qualifying order');
    assert.ok(all.filter((a) => a.outcome === 'held_out').every((a) => isControl.has(a.member_id) && a.points === 0 && a.wanted > 0));
    assert.ok(all.filter((a) => a.outcome === 'granted').every((a) => !isControl.has(a.member_id) && a.points === a.wanted));
    const entry = (await campaignEntries(t, tIds[0]!)).at(-1);
    assert.deepEqual([entry.type, entry.source_id, entry.points], ['earn', c.id, 10]);

    const spend = (await get(t, c.id)).spend;
    const grantedPoints = all.filter((a) => a.outcome === 'granted').reduce((s, a) => s + a.points, 0);
    assert.deepEqual([spend.spent, spend.remaining, spend.members_reached], [grantedPoints, 1_000_000 - grantedPoints, tIds.length]);
    assert.equal(spend.held_out, all.filter((a) => a.outcome === 'held_out').length);

    at('2031-03-12T00:00:00Z');
    const r = (await t.api('GET', `/v1/campaigns/${c.id}/results`)).body;
    const twice = (set: string[]) => set.filter((id) => ids.indexOf(id) % 3 === 0).length;
    const expect = (set: string[]) => ({ members: set.length, purchasing_members: set.length, orders: set.length + twice(set) + (set.includes(ids[1]!) ? 1 : 0) });
    assert.deepEqual({ members: r.treatment.members, purchasing_members: r.treatment.purchasing_members, orders: r.treatment.orders }, expect(tIds));
    assert.deepEqual({ members: r.control.members, purchasing_members: r.control.purchasing_members, orders: r.control.orders }, expect(cIds));
    assert.equal(r.treatment.spend, tIds.length * 1000 + twice(tIds) * 1500 + (tIds.includes(ids[1]!) ? 1000 : 0));
    assert.equal(r.treatment.points_awarded, grantedPoints);
    assert.equal(r.control.points_awarded, 0);
    const rel = (a: number, b: number) => Math.round(((a - b) / b) * 10_000) / 10_000;
    assert.equal(r.lift.spend_per_member, rel(r.treatment.spend / r.treatment.members, r.control.spend / r.control.members));
    assert.equal(r.lift.purchase_rate, 0);

    // The weekend is over: the job ends it, once.
    await runJob('campaigns.advance', t);
    await runJob('campaigns.advance', t);
    assert.equal((await get(t, c.id)).status, 'ended');
    assert.equal((await eventsOf(t, 'campaign.ended')).length, 1);
    await invariants(t);
  });

  test('budget under concurrency: 30 orders at once against a budget for 9½ awards; the last award is cut, one budget_exhausted', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant();
    const ids = await inParallel(Array.from({ length: 30 }, (_, i) => i), 10, (i) => member(t, { external_id: `c-${i}` }));
    const c = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 2 }, budget: { points: 95 } });
    assert.equal(c.status, 'running');
    const orders = await Promise.all(ids.map((id, i) => order(t, id, `o-${i}`, 1000)));
    const all = await awards(t, c.id);
    const granted = all.filter((a) => a.outcome === 'granted');
    assert.equal(granted.reduce((s, a) => s + a.points, 0), 95, 'exactly the budget');
    assert.equal(granted.length, 10);
    assert.deepEqual(granted.filter((a) => a.cut_by === 'budget').map((a) => [a.points, a.wanted]), [[5, 10]]);
    assert.equal(all.filter((a) => a.outcome === 'budget_exhausted').length, 20);
    let view = await get(t, c.id);
    assert.deepEqual([view.status, view.spend.spent, view.spend.remaining, view.spend.awards], ['budget_exhausted', 95, 0, 10]);
    assert.equal((await eventsOf(t, 'campaign.budget_exhausted')).length, 1);
    const balances = await Promise.all(ids.map((id) => available(t, id)));
    assert.equal(balances.reduce((s, b) => s + b, 0), 30 * 10 + 95);

    // A return gives its award's budget back: awarding resumes.
    const full = granted.find((a) => a.cut_by === null)!;
    const purchase = orders.find((o) => o.id === full.source_id);
    const ret = await t.api('POST', '/v1/transactions', { body: { external_id: 'r-1', type: 'return', original_id: purchase.id, currency: 'EUR', total: 1000 } });
    assert.equal(ret.status, 201, ret.text);
    assert.equal(await available(t, full.member_id), 0, 'base and campaign points clawed back');
    view = await get(t, c.id);
    assert.deepEqual([view.status, view.spend.spent, view.spend.remaining], ['running', 85, 10]);
    assert.equal((await eventsOf(t, 'campaign.budget_resumed')).length, 1);
    await order(t, ids[0]!, 'o-after', 2000);
    view = await get(t, c.id);
    assert.deepEqual([view.status, view.spend.spent], ['budget_exhausted', 95]);
    assert.equal((await eventsOf(t, 'campaign.budget_exhausted')).length, 2, 'exhausted again: a second event');
    await invariants(t);
  });

  test('returns and voids: the award shrinks with what the order keeps; the budget follows', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant({ pending_days: 14 });
    const m = await member(t);
    const c = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 3 }, budget: { points: 1000 } });
    const p = await order(t, m, 'p-1', 2000);
    let [a] = await awards(t, c.id);
    assert.deepEqual([a.outcome, a.points, a.kept], ['granted', 40, 40]);
    const [lot] = await campaignEntries(t, m);
    assert.equal(lot.pending_points, 40, 'pending like the order\'s points');
    let bal = (await t.api('GET', `/v1/members/${m}/balance`)).body;
    assert.equal(bal.pending, 60);

    const r1 = await t.api('POST', '/v1/transactions', { body: { external_id: 'r-1', type: 'return', original_id: p.id, currency: 'EUR', total: 500 } });
    assert.equal(r1.status, 201, r1.text);
    [a] = await awards(t, c.id);
    assert.equal(a.kept, 30, 'the order keeps 15 of 20 points: the award keeps 30 of 40');
    assert.equal((await get(t, c.id)).spend.spent, 30);
    bal = (await t.api('GET', `/v1/members/${m}/balance`)).body;
    assert.deepEqual([bal.pending, bal.debt], [45, 0], 'taken from the pending lots');

    const v = await t.api('POST', `/v1/transactions/${r1.body.id}/void`, { body: {} });
    assert.equal(v.status, 200, v.text);
    [a] = await awards(t, c.id);
    assert.equal(a.kept, 40, 'a voided return gives the award back');
    assert.equal((await get(t, c.id)).spend.spent, 40);
    assert.equal((await eventsOf(t, 'campaign.award_restored')).length, 1);

    const vp = await t.api('POST', `/v1/transactions/${p.id}/void`, { body: {} });
    assert.equal(vp.status, 200, vp.text);
    [a] = await awards(t, c.id);
    assert.equal(a.kept, 0);
    const view = await get(t, c.id);
    assert.deepEqual([view.spend.spent, view.spend.awards], [0, 1]);
    bal = (await t.api('GET', `/v1/members/${m}/balance`)).body;
    assert.deepEqual([bal.available, bal.pending, bal.debt], [0, 0, 0]);
    assert.deepEqual((await campaignEntries(t, m)).map((e) => e.type).sort(), ['claw_back', 'earn', 'reverse', 'reverse']);
    await invariants(t);
  });

  test('limits per member: at most 2 awards, at most 25 points (the award that reaches it is cut)', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant();
    const m1 = await member(t);
    const m2 = await member(t);
    const byCount = await campaign(t, { kind: 'action_bonus', config: { event: 'app_opened', points: 10 }, limits: { max_awards_per_member: 2 } });
    const byPoints = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 2 }, limits: { max_points_per_member: 25 } });
    for (let i = 0; i < 3; i++) assert.equal((await t.api('POST', '/v1/events', { body: { name: 'app_opened', member_id: m1 } })).status, 201);
    assert.deepEqual((await awards(t, byCount.id)).map((a) => [a.outcome, a.points]).reverse(), [['granted', 10], ['granted', 10], ['member_limit', 0]]);
    for (let i = 0; i < 4; i++) await order(t, m2, `o-${i}`, 1000);
    assert.deepEqual((await awards(t, byPoints.id)).map((a) => [a.outcome, a.points, a.cut_by]).reverse(),
      [['granted', 10, null], ['granted', 10, null], ['granted', 5, 'member_limit'], ['member_limit', 0, null]]);
    assert.equal(await available(t, m2), 40 + 25);
    assert.equal(await available(t, m1), 20);
    await invariants(t);
  });

  test('category bonus: per euro of the qualifying lines, or fixed per order; a returned line takes it back', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant();
    const m = await member(t);
    const perEuro = await campaign(t, { kind: 'category_bonus', config: { categories: ['coffee'], rate: { points: 5, per_units: 1 } } });
    const fixed = await campaign(t, { kind: 'category_bonus', config: { skus: ['MUG'], points: 100 }, conditions: { min_basket: 1500 } });
    const lines = [
      { sku: 'BEANS', category: 'coffee', quantity: 2, unit_price: 600 },
      { sku: 'TEA', category: 'tea', quantity: 1, unit_price: 800 },
      { sku: 'MUG', category: 'kitchen', quantity: 1, unit_price: 1000, discount: 200 },
    ];
    const p = await order(t, m, 'p-1', 2800, { lines });
    assert.equal(p.points, 28);
    assert.deepEqual((await awards(t, perEuro.id)).map((a) => a.points), [60], '12 EUR of coffee × 5');
    assert.deepEqual((await awards(t, fixed.id)).map((a) => a.points), [100]);
    await order(t, m, 'p-2', 800, { lines: [{ sku: 'TEA', category: 'tea', quantity: 1, unit_price: 800 }] });
    assert.equal((await awards(t, perEuro.id)).length, 1, 'no coffee, no award');
    await order(t, m, 'p-3', 1000, { lines: [{ sku: 'MUG', category: 'kitchen', quantity: 1, unit_price: 1000 }] });
    assert.equal((await awards(t, fixed.id)).length, 1, 'under the minimum basket');
    assert.equal(await available(t, m), 28 + 8 + 10 + 160);

    const ret = await t.api('POST', '/v1/transactions', { body: { external_id: 'r-1', type: 'return', original_id: p.id, currency: 'EUR', total: 1200, lines: [{ sku: 'BEANS', quantity: 2 }] } });
    assert.equal(ret.status, 201, ret.text);
    assert.deepEqual((await awards(t, perEuro.id)).map((a) => [a.points, a.kept]), [[60, 0]]);
    assert.deepEqual((await awards(t, fixed.id)).map((a) => [a.points, a.kept]), [[100, 100]], 'the mug is kept and the basket is still 16 EUR');
    await invariants(t);
  });

  test('action bonus on an event; a re-sent event earns once; another event name nothing', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant();
    const m = await member(t);
    const c = await campaign(t, { kind: 'action_bonus', config: { event: 'review_written', points: 50 } });
    const e1 = await t.api('POST', '/v1/events', { body: { name: 'review_written', member_id: m, external_id: 'rev-1' } });
    assert.equal(e1.status, 201, e1.text);
    const again = await t.api('POST', '/v1/events', { body: { name: 'review_written', member_id: m, external_id: 'rev-1' } });
    assert.equal(again.status, 200, again.text);
    assert.equal((await t.api('POST', '/v1/events', { body: { name: 'sign_up', member_id: m } })).status, 201);
    const list = await awards(t, c.id);
    assert.deepEqual(list.map((a) => [a.source_type, a.source_id, a.points]), [['event', e1.body.id, 50]]);
    assert.equal(await available(t, m), 50);
    assert.equal((await eventsOf(t, 'campaign.award_granted')).length, 1);
    const exported = (await t.api('GET', `/v1/members/${m}/export`)).body.sections.campaigns;
    assert.deepEqual(exported.groups.map((g: any) => [g.campaign_id, g.group]), [[c.id, 'treatment']]);
    assert.deepEqual(exported.awards.map((a: any) => [a.campaign_id, a.points]), [[c.id, 50]], 'the GDPR export holds the campaigns');
    await invariants(t);
  });

  test('audience by attribute; tier codes reach only members with that tier (none here)', async () => {
    at('2031-03-01T10:00:00Z');
    const t = await tenant();
    const sofia = await member(t, { attributes: { city: 'Sofia' } });
    const varna = await member(t, { attributes: { city: 'Varna' } });
    const c = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 2 }, conditions: { audience: { '==': [{ var: 'attributes.city' }, 'Sofia'] } } });
    const gold = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 2 }, conditions: { tier_codes: ['gold'] } });
    await runJob('campaigns.launch', t);
    assert.deepEqual((await get(t, c.id)).spend.members, { treatment: 1, control: 0 });
    assert.deepEqual((await get(t, gold.id)).spend.members, { treatment: 0, control: 0 });
    at('2031-03-04T10:00:00Z');
    await order(t, sofia, 's-1', 1000);
    await order(t, varna, 'v-1', 1000);
    assert.deepEqual([await available(t, sofia), await available(t, varna)], [20, 10]);
    assert.deepEqual((await awards(t, c.id)).map((a) => a.member_id), [sofia]);
    assert.equal((await awards(t, gold.id)).length, 0);
    await invariants(t);
  });

  test('bad input is a 400 naming every field; drafts only change; launch and cancel follow the life cycle', async () => {
    at('2031-03-01T10:00:00Z');
    const t = await tenant();
    const bad = await t.api('POST', '/v1/campaigns', {
      body: {
        name: ' ', kind: 'points_multiplier', config: { multiplier: 1, extra: true }, starts_at: '2031-03-05T00:00:00Z', ends_at: '2031-03-04T00:00:00Z',
        conditions: { audience: { nope: [1] }, days_of_week: [0] }, control_share: 0.7, budget: { points: 0 }, colour: 'red',
      },
    });
    assert.equal(bad.status, 400, bad.text);
    const fields = bad.body.errors.map((e: any) => e.field).sort();
    for (const f of ['name', 'config.multiplier', 'config.extra', 'ends_at', 'conditions.audience', 'conditions.days_of_week[0]', 'control_share', 'colour']) {
      assert.ok(fields.some((x: string) => x === f || x.startsWith(`${f}`)), `${f} in ${fields.join(', ')}`);
    }
    assert.ok(fields.some((x: string) => x.startsWith('budget')), fields.join(', '));
    const stamp = await t.api('POST', '/v1/campaigns', { body: { name: 'Extra stamp', kind: 'extra_stamp', config: { stamps: 1 }, starts_at: '2031-03-05T00:00:00Z', ends_at: '2031-03-06T00:00:00Z' } });
    assert.equal(stamp.status, 400);
    assert.deepEqual(stamp.body.errors.map((e: any) => e.field), ['config.stamp_card_type_id'], 'campaigns.stamps.test.ts has the rest');
    const action = await t.api('POST', '/v1/campaigns', { body: { name: 'A', kind: 'action_bonus', config: { points: 5 }, conditions: { min_basket: 100 }, starts_at: '2031-03-05T00:00:00Z', ends_at: '2031-03-06T00:00:00Z' } });
    assert.deepEqual(action.body.errors.map((e: any) => e.field).sort(), ['conditions.min_basket', 'config.event']);
    const money = await t.api('POST', '/v1/campaigns', { body: { name: 'M', kind: 'points_multiplier', config: { multiplier: 2 }, budget: { amount: 5000, currency: 'USD' }, starts_at: '2031-03-05T00:00:00Z', ends_at: '2031-03-06T00:00:00Z' } });
    assert.deepEqual(money.body.errors.map((e: any) => e.field), ['budget.currency']);
    assert.equal((await t.api('GET', '/v1/domain-events?type=campaign.created')).body.data.length, 0, 'nothing written');

    // A money budget becomes points at launch, at the program's points_value.
    assert.equal((await t.api('PATCH', '/v1/program', { body: { points_value: { points: 2, amount: 1 } } })).status, 200);
    const draft = await campaign(t, { kind: 'points_multiplier', config: { multiplier: 2 }, budget: { amount: 5000, currency: 'EUR' } }, false);
    assert.equal(draft.budget.points, null);
    const badPatch = await t.api('PATCH', `/v1/campaigns/${draft.id}`, { body: { config: { multiplier: 'x' }, control_share: -1 } });
    assert.equal(badPatch.status, 400, badPatch.text);
    assert.deepEqual(badPatch.body.errors.map((e: any) => e.field).sort(), ['config.multiplier', 'control_share']);
    const patched = await t.api('PATCH', `/v1/campaigns/${draft.id}`, { body: { name: 'Renamed', control_share: 0.25 } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.body.name, patched.body.control_share, patched.body.kind], ['Renamed', 0.25, 'points_multiplier']);
    const none = await t.api('GET', `/v1/campaigns/${draft.id}/results`);
    assert.deepEqual([none.status, none.body.treatment.members, none.body.control.members, none.body.lift.spend_per_member], [200, 0, 0, null], 'a draft has no members yet');
    const launched = await t.api('POST', `/v1/campaigns/${draft.id}/launch`);
    assert.equal(launched.status, 200, launched.text);
    assert.equal(launched.body.budget.points, 10_000);
    assert.equal((await t.api('POST', `/v1/campaigns/${draft.id}/launch`)).status, 422);
    assert.equal((await t.api('PATCH', `/v1/campaigns/${draft.id}`, { body: { name: 'Late' } })).status, 422);
    const cancelled = await t.api('POST', `/v1/campaigns/${draft.id}/cancel`, { body: { reason: 'wrong week' } });
    assert.deepEqual([cancelled.status, cancelled.body.status], [200, 'cancelled']);
    assert.equal((await t.api('POST', `/v1/campaigns/${draft.id}/cancel`)).body.status, 'cancelled');
    assert.equal((await eventsOf(t, 'campaign.cancelled')).length, 1);
    at('2031-03-05T12:00:00Z');
    const m = await member(t);
    await order(t, m, 'after-cancel', 1000);
    assert.equal((await awards(t, draft.id)).length, 0, 'a cancelled campaign gives nothing');
    const list = await t.api('GET', '/v1/campaigns?status=cancelled');
    assert.deepEqual(list.body.data.map((c: any) => c.id), [draft.id]);
    assert.equal((await t.api('GET', '/v1/campaigns?status=sideways')).status, 400);
  });

  test("isolation: another tenant's campaign is a 404 everywhere, and its campaigns never touch this tenant's orders", async () => {
    at('2031-03-04T10:00:00Z');
    const a = await tenant();
    const b = await tenant();
    const c = await campaign(a, { kind: 'points_multiplier', config: { multiplier: 2 } });
    for (const [method, path] of [['GET', ''], ['GET', '/awards'], ['GET', '/results'], ['POST', '/launch'], ['POST', '/cancel'], ['PATCH', '']] as const) {
      const res = await b.api(method, `/v1/campaigns/${c.id}${path}`, method === 'PATCH' ? { body: { name: 'x' } } : {});
      assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
    }
    assert.equal((await b.api('GET', '/v1/campaigns')).body.data.length, 0);
    const m = await member(b);
    await order(b, m, 'b-1', 1000);
    assert.equal(await available(b, m), 10);
    assert.equal((await get(a, c.id)).status, 'running');
  });

  test('re-sends: the same Idempotency-Key creates one campaign; a re-sent order earns the campaign once', async () => {
    at('2031-03-04T10:00:00Z');
    const t = await tenant();
    const body = { name: 'Once', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z' };
    const first = await t.api('POST', '/v1/campaigns', { body, headers: { 'idempotency-key': 'k1' } });
    const second = await t.api('POST', '/v1/campaigns', { body, headers: { 'idempotency-key': 'k1' } });
    assert.equal(first.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    assert.equal((await t.api('GET', '/v1/campaigns')).body.data.length, 1);
    await t.api('POST', `/v1/campaigns/${first.body.id}/launch`, { headers: { 'idempotency-key': 'l1' } });
    const replay = await t.api('POST', `/v1/campaigns/${first.body.id}/launch`, { headers: { 'idempotency-key': 'l1' } });
    assert.equal(replay.status, 200, 'the stored answer, not a 422');
    const m = await member(t);
    await order(t, m, 'o-1', 1000);
    const again = await t.api('POST', '/v1/transactions', { body: { external_id: 'o-1', member_id: m, currency: 'EUR', total: 1000 } });
    assert.equal(again.status, 200);
    assert.equal((await awards(t, first.body.id)).length, 1);
    assert.equal(await available(t, m), 20);
    await invariants(t);
  });
});
