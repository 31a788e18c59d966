/**
 * What-if simulations through the real HTTP API and PostgreSQL: a tenant with five months of orders, returns and a
 * redemption, three drafts (a 2× multiplier, a higher gold threshold, a 30-day expiry) replayed by the
 * analytics.simulate job run on demand, each figure checked by hand; bad drafts refused naming their fields, another
 * tenant's simulation a 404, re-sends with an Idempotency-Key, a job delivered twice. Jobs are queued and never worked
 * here (`jobs: 'client'`), against a database of this file's own, so only these tests run them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { scratchDatabase } from '../../../platform/imports/imports.testing.js';

let app: TestApp;
let dropDb: () => Promise<void>;
before(async () => {
  const db = await scratchDatabase(process.env.DATABASE_URL!, 'patron_simulator');
  dropDb = db.drop;
  app = await startTestApp({ jobs: 'client', env: { DATABASE_URL: db.url } });
});
after(async () => {
  await app?.close();
  await dropDb?.();
});

const at = (iso: string) => app.clock.set(new Date(iso));
const PATH = '/v1/analytics/simulations';

async function ok(res: Promise<{ status: number; text: string; body: any }>, status = 201) {
  const r = await res;
  assert.equal(r.status, status, r.text);
  return r.body;
}

/** Runs the queued simulation's job now and reads it back. */
async function run(t: TestTenant, id: string): Promise<any> {
  await app.patron.jobs.runNow('analytics.simulate', { tenant_id: t.id, simulation_id: id });
  return ok(t.api('GET', `${PATH}/${id}`), 200);
}

async function simulate(t: TestTenant, body: unknown): Promise<any> {
  const queued = await ok(t.api('POST', PATH, { body }), 202);
  assert.equal(queued.status, 'queued');
  const done = await run(t, queued.id);
  assert.equal(done.status, 'succeeded', JSON.stringify(done.error));
  return done;
}

/**
 * The program: 1 point per euro, no pending days, points never expire, cost 50 per 100 points; tiers silver (from 0)
 * and gold (from 250 points, multiplier 1). History, each at its own time on the clock (UTC):
 *
 *   2031-01-10 a buys 100.00           +100 (before the window)
 *   2031-02-20 a redeems 40            (the lot is 41 days old: redeemed at age month 1)
 *   2031-04-01 a buys 50.00            +50
 *   2031-04-05 a returns 10.00 of the January purchase   -10 (its purchase is before the window: not replayed)
 *   2031-04-10 b buys 200.00           +200
 *   2031-05-05 b buys 60.00 (2 lines)  +60, b reaches gold (260)
 *   2031-05-12 b returns one line      -30
 *   2031-06-01 c buys 20.00            +20
 *
 * Today is 2031-06-20: the last 3 months are 2031-03-21 to 2031-06-20, the window [03-21, 06-21).
 */
async function shop(): Promise<{ t: TestTenant; goldId: string }> {
  const t = await app.newTenant();
  at('2031-01-01T00:00:00Z');
  await ok(t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } } }));
  await ok(t.api('POST', '/v1/tiers', { body: { code: 'silver', name: 'Silver', rank: 1, entry_threshold: 0 } }));
  const gold = await ok(t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', rank: 2, entry_threshold: 250 } }));
  const ids: Record<string, string> = {};
  for (const m of ['a', 'b', 'c']) ids[m] = (await ok(t.api('POST', '/v1/members', { body: { external_id: m } }))).id;
  const order = async (when: string, body: Record<string, unknown>) => {
    at(when);
    await ok(t.api('POST', '/v1/transactions', { body: { currency: 'EUR', occurred_at: when, ...body } }));
  };
  await order('2031-01-10T10:00:00Z', { external_id: 'a-jan', member_id: ids.a, total: 10_000 });
  at('2031-02-20T10:00:00Z');
  await ok(t.api('POST', '/v1/redemptions', { body: { member_id: ids.a, points: 40 } }));
  await order('2031-04-01T10:00:00Z', { external_id: 'a-apr', member_id: ids.a, total: 5000 });
  await order('2031-04-05T10:00:00Z', { external_id: 'a-jan-r', type: 'return', original_external_id: 'a-jan', total: 1000 });
  await order('2031-04-10T10:00:00Z', { external_id: 'b-apr', member_id: ids.b, total: 20_000 });
  await order('2031-05-05T10:00:00Z', {
    external_id: 'b-may', member_id: ids.b, total: 6000,
    lines: [{ sku: 'shoe', quantity: 1, unit_price: 3000 }, { sku: 'bag', quantity: 1, unit_price: 3000 }],
  });
  await order('2031-05-12T10:00:00Z', { external_id: 'b-may-r', type: 'return', original_external_id: 'b-may', total: 3000, lines: [{ sku: 'bag', quantity: 1 }] });
  await order('2031-06-01T10:00:00Z', { external_id: 'c-jun', member_id: ids.c, total: 2000 });
  at('2031-06-20T12:00:00Z');
  assert.equal((await ok(t.api('GET', `/v1/members/${ids.b}/tier`), 200)).tier.code, 'gold');
  return { t, goldId: gold.id };
}

/**
 * The redemption curve as of 2031-06-21: lots by whole months of age then (30.4375-day months): January's 100 (5),
 * April 1's 50 and April 10's 200 (2), May's 60 (1), June's 20 (0). Month 0: nothing redeemed of the 410 points of
 * lots a month old. Month 1: the 40 of the 350 points of lots two months old. Flat after (the oldest lot is 5).
 */
const C = 40 / 350;
const CURVE = [0, 0, C, C, C, C];
/** The share redeemed of a lot `days` old, linear within a month. */
function share(days: number): number {
  const m = days / 30.4375;
  const k = Math.floor(m);
  if (k >= CURVE.length - 1) return C;
  return CURVE[k]! + (m - k) * (CURVE[k + 1]! - CURVE[k]!);
}
// The window's lots at its end (2031-06-21T00:00Z): ages in days.
const AGE = { aApr: 80 + 14 / 24, bApr: 71 + 14 / 24, bMay: 46 + 14 / 24, cJun: 19 + 14 / 24 };

describe('what-if simulations', () => {
  let t: TestTenant;
  let goldId: string;
  before(async () => ({ t, goldId } = await shop()));

  test('a 2× multiplier doubles the points issued; redemptions, liability and what happened beside it', async () => {
    const sim = await simulate(t, { months: 3, draft: { earn_rules_mode: 'add', earn_rules: [{ kind: 'multiplier', name: 'Double points', factor_percent: 200 }] } });
    assert.equal(sim.months, 3);
    assert.deepEqual(sim.period, { from: '2031-03-21', to: '2031-06-20' });
    assert.deepEqual(sim.progress, { phase: 'done', orders_done: 6, orders_total: 6, percent: 100 });
    const r = sim.result;
    assert.deepEqual(r.window, { from: '2031-03-21', to: '2031-06-20', time_zone: 'UTC', currency: 'EUR' });
    assert.deepEqual(r.replayed, { orders: 6, purchases: 4, returns: 2, members: 3, not_earning: 0, returns_skipped: 1 });

    // Observed behaviour: 40 of 350 points redeemed at age month 1; over 12 months 40 redeemed of 430 earned.
    assert.equal(r.redemption_model.method, 'lot_age');
    assert.deepEqual(r.redemption_model.curve, CURVE.map((x) => Math.round(x * 10_000) / 10_000));
    assert.equal(r.redemption_model.historical_redemption_rate, Math.round((40 / 430) * 10_000) / 10_000);
    assert.equal(r.redemption_model.lots_points, 430);

    // Current: 50 + 200 + 60 + 20 issued, the return of one 30.00 line takes 30 back.
    assert.deepEqual(r.current.points, { issued: 330, clawed_back: 30, net: 300 });
    // Draft: every order earns the base rate twice; the kept 30.00 keeps 60 of 120.
    assert.deepEqual(r.draft.points, { issued: 660, clawed_back: 60, net: 600 });
    assert.deepEqual(r.actual.points, { issued: 330, clawed_back: 30, net: 300 });
    assert.deepEqual(r.draft.by_month.map((m: any) => [m.month, m.issued, m.clawed_back]), [['2031-03', 0, 0], ['2031-04', 500, 0], ['2031-05', 120, 60], ['2031-06', 40, 0]]);
    assert.deepEqual(r.difference.vs_current.points_issued, 330);

    // Expected redemptions by the end: each lot's points times the share redeemed at its age (b's May lot keeps 30).
    const redeemedNow = 50 * share(AGE.aApr) + 200 * share(AGE.bApr) + 30 * share(AGE.bMay) + 20 * share(AGE.cJun);
    const later = 50 * (C - share(AGE.aApr)) + 200 * (C - share(AGE.bApr)) + 30 * (C - share(AGE.bMay)) + 20 * (C - share(AGE.cJun));
    assert.equal(r.current.expected_redemptions, Math.round(redeemedNow)); // 30
    assert.equal(r.current.expected_redemptions, 30);
    assert.equal(r.current.outstanding, Math.round(300 - redeemedNow)); // 270
    assert.equal(r.current.expected_future_redemptions, Math.round(later)); // 4
    assert.deepEqual(r.current.liability, { amount: Math.round(later * 0.5), currency: 'EUR' }); // 2 cents
    assert.equal(r.current.expected_breakage, Math.round((1 - later / (300 - redeemedNow)) * 10_000) / 10_000);
    // The draft doubles every lot, so every figure doubles.
    assert.equal(r.draft.expected_redemptions, Math.round(2 * redeemedNow)); // 61
    assert.equal(r.draft.outstanding, Math.round(600 - 2 * redeemedNow));
    assert.deepEqual(r.draft.liability, { amount: Math.round(2 * later * 0.5), currency: 'EUR' }); // 4 cents
    assert.equal(r.actual.expected_redemptions, 30);
    assert.equal(r.draft.expired, 0);

    // Tiers unchanged: b reaches gold either way (on 10 April under the draft, 400 points; on 5 May now).
    const tiers = (f: any) => f.members_per_tier.map((x: any) => [x.tier, x.members]);
    assert.deepEqual(tiers(r.draft), [['silver', 2], ['gold', 1]]);
    assert.deepEqual(tiers(r.current), [['silver', 2], ['gold', 1]]);
    assert.deepEqual(tiers(r.actual), [['silver', 2], ['gold', 1]]);
  });

  test('a higher gold threshold leaves b at silver, a lower one promotes a by the points before the window; the points do not change', async () => {
    const sim = await simulate(t, { months: 3, draft: { tiers: { tiers: [{ id: goldId, entry_threshold: 300 }] } } });
    const r = sim.result;
    const tiers = (f: any) => f.members_per_tier.map((x: any) => [x.tier, x.members]);
    assert.deepEqual(tiers(r.current), [['silver', 2], ['gold', 1]]);
    assert.deepEqual(tiers(r.draft), [['silver', 3], ['gold', 0]], 'b peaks at 260 points, short of 300');
    assert.deepEqual(r.difference.vs_current.members_per_tier, [{ tier: 'silver', members: 1 }, { tier: 'gold', members: -1 }]);
    assert.deepEqual(r.difference.vs_actual.members_per_tier, [{ tier: 'silver', members: 1 }, { tier: 'gold', members: -1 }]);
    assert.deepEqual(r.draft.points, r.current.points);

    // A lower one (140) promotes a on 1 April: 50 points in the window on top of January's 100 before it.
    const lower = (await simulate(t, { months: 3, draft: { tiers: { tiers: [{ id: goldId, entry_threshold: 140 }] } } })).result;
    assert.deepEqual(tiers(lower.draft), [['silver', 1], ['gold', 2]]);
  });

  test('a 30-day expiry expires what is not redeemed within 30 days: nothing is, at that age', async () => {
    const sim = await simulate(t, { months: 3, draft: { expiry: { kind: 'after_earning', days: 30 } } });
    const r = sim.result;
    // a's 50 expire 1 May, b's 200 on 10 May, b's kept 30 on 4 June; c's 20 (1 July) outlive the window.
    assert.equal(r.draft.expired, 280);
    assert.deepEqual(r.draft.by_month.map((m: any) => [m.month, m.expired]), [['2031-03', 0], ['2031-04', 0], ['2031-05', 250], ['2031-06', 30]]);
    assert.equal(r.draft.outstanding, 20);
    assert.equal(r.draft.expected_redemptions, 0, 'the curve redeems nothing in a lot\'s first month');
    assert.equal(r.draft.liability.amount, 0);
    assert.equal(r.current.expired, 0);
    assert.equal(r.difference.vs_current.expired, 280);
    assert.equal(r.actual.expired, 0);
  });

  test('a bad draft is a 400 naming every field, from the body\'s root; nothing is queued', async () => {
    const count = async () => (await t.api('GET', `${PATH}?limit=500`)).body.data.length;
    const before = await count();
    const bad = await t.api('POST', PATH, {
      body: {
        months: 25,
        draft: {
          earn_rules: [{ kind: 'base', name: 'x', rate: { points: 0, per_units: 1 } }, { kind: 'event', name: 'Sign-up', event: 'sign_up', points: 5 }, { kind: 'bonus', name: 'y', points: 5, rate: { points: 1, per_units: 1 } }],
          tiers: { tiers: [{ id: goldId, entry_threshold: 100, keep_threshold: 200 }], settings: { window: 'rolling_months' } },
          expiry: { kind: 'inactivity' },
          budget: 5,
        },
      },
    });
    assert.equal(bad.status, 400, bad.text);
    const fields = bad.body.errors.map((e: any) => e.field).sort();
    for (const f of ['months', 'draft.earn_rules[0].rate.points', 'draft.earn_rules[1].kind', 'draft.earn_rules[2].rate', 'draft.tiers.tiers[0].keep_threshold',
      'draft.tiers.settings.window_months', 'draft.expiry.months', 'draft.budget']) {
      assert.ok(fields.includes(f), `${f} in ${fields.join(', ')}`);
    }
    const empty = await t.api('POST', PATH, { body: { months: 3, draft: {} } });
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body.errors.map((e: any) => e.field), ['draft']);
    const unknownTier = await t.api('POST', PATH, { body: { months: 3, draft: { tiers: { tiers: [{ id: '0190f5e2-7d1c-7c2e-9a55-2f4a3c1b0d9e', entry_threshold: 10 }] } } } });
    assert.equal(unknownTier.status, 400, unknownTier.text);
    assert.deepEqual(unknownTier.body.errors.map((e: any) => e.field), ['draft.tiers.tiers[0].id']);
    const clash = await t.api('POST', PATH, { body: { months: 3, draft: { tiers: { tiers: [{ id: goldId, rank: 1 }] } } } });
    assert.equal(clash.status, 400, clash.text);
    assert.deepEqual(clash.body.errors.map((e: any) => e.field), ['draft.tiers.tiers[0].rank']);
    const mode = await t.api('POST', PATH, { body: { months: 3, draft: { earn_rules_mode: 'add', expiry: { kind: 'never' } } } });
    assert.deepEqual(mode.body.errors.map((e: any) => e.field), ['draft.earn_rules_mode']);
    assert.equal(await count(), before);
  });

  test("another tenant's simulation is a 404; lists show only the tenant's own, newest first, in pages", async () => {
    const other = await app.newTenant();
    const mine = await ok(t.api('POST', PATH, { body: { months: 1, draft: { expiry: { kind: 'never' } } } }), 202);
    assert.equal((await other.api('GET', `${PATH}/${mine.id}`)).status, 404);
    assert.equal((await other.api('GET', `${PATH}/0190f5e2-7d1c-7c2e-9a55-2f4a3c1b0d9e`)).status, 404);
    assert.equal((await other.api('GET', `${PATH}/not-an-id`)).status, 400);
    assert.deepEqual((await other.api('GET', PATH)).body, { data: [], next_cursor: null });
    // The other tenant's job for this id finds nothing to do.
    assert.deepEqual(await app.patron.jobs.runNow('analytics.simulate', { tenant_id: other.id, simulation_id: mine.id }), { simulation_id: mine.id, status: 'not claimed (done, or running elsewhere)' });
    assert.equal((await ok(t.api('GET', `${PATH}/${mine.id}`), 200)).status, 'queued');

    const first = await ok(t.api('GET', `${PATH}?limit=2`), 200);
    assert.equal(first.data[0].id, mine.id, 'newest first');
    assert.ok(first.next_cursor);
    const second = await ok(t.api('GET', `${PATH}?limit=2&cursor=${first.next_cursor}`), 200);
    assert.ok(second.data.every((s: any) => !first.data.some((f: any) => f.id === s.id)));
    await run(t, mine.id);
  });

  test('a re-send with its Idempotency-Key answers the first; a job delivered twice replays once', async () => {
    const body = { months: 2, draft: { expiry: { kind: 'end_of_period', period: 'month' } } };
    const headers = { 'idempotency-key': 'sim-once' };
    const first = await t.api('POST', PATH, { body, headers });
    assert.equal(first.status, 202, first.text);
    const again = await t.api('POST', PATH, { body, headers });
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    const done = await run(t, first.body.id);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(await app.patron.jobs.runNow('analytics.simulate', { tenant_id: t.id, simulation_id: first.body.id }), { simulation_id: first.body.id, status: 'not claimed (done, or running elsewhere)' });
    assert.deepEqual((await ok(t.api('GET', `${PATH}/${first.body.id}`), 200)).finished_at, done.finished_at);
    // Window of 2 months: 2031-04-21 to 2031-06-20: b's May order (60, 30 returned) and c's June one (20). Under
    // end_of_period month, May's lot ends 1 June (its kept 30 expire, none redeemed in its first month), June's 1 July.
    assert.deepEqual(done.period, { from: '2031-04-21', to: '2031-06-20' });
    assert.deepEqual(done.result.draft.points, { issued: 80, clawed_back: 30, net: 50 });
    assert.equal(done.result.draft.expired, 30);
    assert.equal(done.result.draft.outstanding, 20);
    const events = (await ok(t.api('GET', `/v1/domain-events?limit=500`), 200)).data.filter((e: any) => e.aggregate_id === first.body.id).map((e: any) => e.type);
    assert.deepEqual(events, ['analytics_simulation.created', 'analytics_simulation.succeeded']);
  });

  test('orders are read in keyset pages that neither repeat nor skip one, whatever the precision of their times', async () => {
    const many = await app.newTenant();
    await ok(many.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } } }));
    const m = await ok(many.api('POST', '/v1/members', { body: { external_id: 'bulk' } }));
    // 2,100 imported orders (more than a page of 2,000), a microsecond apart from the millisecond a Date would keep.
    await app.patron.db.query(
      `INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, occurred_at, currency, total, body_digest, points, earning, source, created_at)
       SELECT $1, gen_random_uuid(), 'bulk-' || i, 'purchase', 'recorded', $2, timestamptz '2031-06-01 10:00:00.000123Z' + i * interval '1001 microseconds',
              'EUR', 1000, 'x', 0, '{"not_earned_reason": "not_awarded"}', 'import', now()
         FROM generate_series(1, 2100) i`,
      [many.id, m.id],
    );
    const sim = await simulate(many, { months: 1, draft: { earn_rules_mode: 'add', earn_rules: [{ kind: 'bonus', name: 'Five more', points: 5 }] } });
    assert.equal(sim.result.replayed.purchases, 2100);
    assert.deepEqual(sim.result.current.points, { issued: 21_000, clawed_back: 0, net: 21_000 });
    assert.equal(sim.result.draft.points.issued, 21_000 + 5 * 2100);
    assert.equal(sim.result.actual.points.issued, 0, 'imported without points');
  });

  test('a tenant without orders, tiers or redemptions simulates to zeros, with the flat rate standing in', async () => {
    const empty = await app.newTenant();
    const sim = await simulate(empty, { months: 12, draft: { earn_rules: [{ kind: 'base', name: '2 per euro', rate: { points: 2, per_units: 1 } }] } });
    assert.equal(sim.result.redemption_model.method, 'flat_rate');
    assert.deepEqual(sim.result.replayed, { orders: 0, purchases: 0, returns: 0, members: 0, not_earning: 0, returns_skipped: 0 });
    assert.equal(sim.result.draft.points.issued, 0);
    assert.equal(sim.result.draft.members_per_tier, null);
    assert.equal(sim.result.draft.by_month.length, 13, 'from 2030-06-21 to 2031-06-20: thirteen calendar months touched');
  });
});
