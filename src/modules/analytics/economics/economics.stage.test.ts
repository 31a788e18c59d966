/**
 * Program economics over a tenant's history built through the real API and services (orders, a return,
 * redemptions, a captured hold, a cancelled redemption, the expiry job on the settable clock, store credit, vouchers,
 * gifts, a campaign with a control group), with computeEconomics called directly as a run would call it. Every
 * figure is checked against a hand computation from the timeline below. The clock is after 2030 (test/helpers.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { makeAjv } from '../../../platform/http/ajv.js';
import { newId } from '../../../platform/ids.js';
import { controlDraw } from '../../campaigns/campaigns.service.js';
import { DEFAULT_ANALYTICS_SETTINGS, type RunScope } from '../analytics.types.js';
import { MONTH_MS, projectUnit, type RedemptionCurve } from './economics.js';
import { EconomicsSchema, type Economics } from './economics.schema.js';
import { backtestBreakage, computeEconomics, economicsStage, economicsView } from './economics.stage.js';
import { summarizeSample, welchTest } from './stats.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));
const close = (actual: number | null | undefined, expected: number, tol: number, what: string) =>
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

async function ok(res: Promise<{ status: number; text: string; body: any }>, status = [200, 201]) {
  const r = await res;
  assert.ok(status.includes(r.status), r.text);
  return r.body;
}

async function tenant(timeZone: string, program: Record<string, unknown> = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  await ok(t.api('PATCH', '/v1/tenant', { body: { time_zone: timeZone, default_currency: 'EUR' } }));
  if (Object.keys(program).length) await ok(t.api('PATCH', '/v1/program', { body: program }));
  await ok(t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } } }));
  return t;
}

const member = async (t: TestTenant, externalId: string): Promise<string> => (await ok(t.api('POST', '/v1/members', { body: { external_id: externalId } }))).id;
const order = (t: TestTenant, body: Record<string, unknown>) => ok(t.api('POST', '/v1/transactions', { body: { currency: 'EUR', ...body } }));
const redeem = async (t: TestTenant, memberId: string, points: number): Promise<string> => (await ok(t.api('POST', '/v1/redemptions', { body: { member_id: memberId, points } }))).id;

const validate = makeAjv('body').compile(EconomicsSchema);
/** The document as the run stores it (JSON) conforms to the schema the route serves it with. */
function conforms(e: Economics): void {
  assert.ok(validate(JSON.parse(JSON.stringify(e))), JSON.stringify(validate.errors));
}

/** The scope a run as of `asOf` would have (the end: the next local midnight). */
function scopeOf(t: TestTenant, asOf: string, end: string, timeZone: string): RunScope {
  return { tenantId: t.id, runId: newId(), asOf, end: new Date(end), timeZone, currency: 'EUR', minorPerMajor: 100, settings: DEFAULT_ANALYTICS_SETTINGS };
}

describe('program economics', () => {
  test('the stage and the view are registered for the pipeline', () => {
    assert.equal(economicsStage.stage, 'economics');
    assert.equal(economicsStage.kind, 'economics');
    assert.equal(economicsView.kind, 'economics');
    assert.equal(economicsView.path, '/v1/analytics/economics');
    assert.equal((economicsView.schema as { $id?: string }).$id, 'AnalyticsEconomics');
  });

  test('a return sent late takes its points back at its own date: a run as of a day after it sees them gone', async () => {
    at('2031-01-10T12:00:00Z');
    const t = await tenant('UTC');
    const A = await member(t, 'late');
    await order(t, { external_id: 'p1', member_id: A, total: 10_000 }); // 100 points
    // Sent on 1 March, dated 1 February: the ledger records it now (created_at), it happened then (occurred_at).
    at('2031-03-01T12:00:00Z');
    await order(t, { external_id: 'p1-r', type: 'return', original_external_id: 'p1', total: 4000, occurred_at: '2031-02-01T12:00:00Z' });
    const e = await computeEconomics(app.patron.db, scopeOf(t, '2031-02-15', '2031-02-16T00:00:00Z', 'UTC'));
    assert.deepEqual([e.breakage.issued_gross, e.breakage.withdrawn, e.breakage.issued, e.breakage.outstanding], [100, 40, 60, 60]);
    const before = await computeEconomics(app.patron.db, scopeOf(t, '2031-01-20', '2031-01-21T00:00:00Z', 'UTC'));
    assert.deepEqual([before.breakage.withdrawn, before.breakage.outstanding], [0, 100]);
  });

  test('participation, redemption, breakage, liability and the cost of rewards, by hand', async () => {
    // Europe/Sofia (UTC+2, UTC+3 from 30 March); points expire 3 months after earning; cost 50 minor units per 100 points.
    at('2031-01-05T12:00:00Z');
    const t = await tenant('Europe/Sofia', { expiry: { kind: 'after_earning', months: 3, days: 0 } });
    const [A, B, C, D] = [await member(t, 'a'), await member(t, 'b'), await member(t, 'c'), await member(t, 'd')];

    // 10 Jan: A 100 EUR (lot L1), B 50 EUR (L2), C 80 EUR (L3); two customers who are not members buy too.
    at('2031-01-10T12:00:00Z');
    await order(t, { external_id: 'a1', member_id: A, total: 10_000 });
    await order(t, { external_id: 'b1', member_id: B, total: 5000 });
    await order(t, { external_id: 'c1', member_id: C, total: 8000 });
    await order(t, { external_id: 'w1', customer_ref: 'walk-in-1', total: 3000 });
    await order(t, { external_id: 'w2', customer_ref: 'walk-in-2', total: 2000 });
    await order(t, { external_id: 'w3', customer_ref: 'walk-in-1', total: 1000 });
    at('2031-02-01T12:00:00Z');
    await redeem(t, A, 60); // L1: 40 left
    at('2031-02-15T12:00:00Z');
    await order(t, { external_id: 'b1-r', type: 'return', original_external_id: 'b1', total: 2000 }); // claws back 20 of L2
    at('2031-03-01T12:00:00Z');
    await order(t, { external_id: 'd1', member_id: D, total: 4000 }); // L4
    at('2031-04-11T12:00:00Z');
    assert.deepEqual((await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id }) as any).expired, { members: 3, points: 150 });
    at('2031-05-01T12:00:00Z');
    await order(t, { external_id: 'a2', member_id: A, total: 20_000 }); // L5
    await order(t, { external_id: 'b2', member_id: B, total: 3000 }); // L6
    at('2031-05-10T12:00:00Z');
    await redeem(t, A, 150); // L5: 50 left
    at('2031-05-20T12:00:00Z');
    const hold = await ok(t.api('POST', '/v1/holds', { body: { member_id: A, points: 20 } }));
    await ok(t.api('POST', `/v1/holds/${hold.id}/capture`, { body: {} })); // L5: 30 left
    const voucher = await ok(t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 1000, member_id: D } }));
    const released = await ok(t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 300 } }));
    at('2031-05-25T12:00:00Z');
    const cancelled = await redeem(t, A, 10);
    at('2031-05-26T12:00:00Z');
    await ok(t.api('POST', `/v1/redemptions/${cancelled}/cancel`, { body: {} })); // back to L5
    at('2031-06-01T12:00:00Z');
    await ok(t.api('POST', `/v1/members/${C}/wallet/adjustments`, { body: { amount: 500, reason: 'goodwill' } }));
    at('2031-06-02T12:00:00Z');
    assert.deepEqual((await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id }) as any).expired, { members: 1, points: 40 });
    const debit = await ok(t.api('POST', `/v1/members/${C}/wallet/debits`, { body: { amount: 200, order_ref: 'c-shop' } }));
    at('2031-06-03T12:00:00Z');
    await ok(t.api('POST', `/v1/members/${C}/wallet/debits/${debit.entry.id}/refunds`, { body: {} })); // a refund: not a reward
    await ok(t.api('POST', `/v1/vouchers/${voucher.code}/redemptions`, { body: { order_ref: 'd-shop', total: 5000, currency: 'EUR', member_id: D } }));
    at('2031-06-04T12:00:00Z');
    const use = await ok(t.api('POST', `/v1/vouchers/${released.code}/redemptions`, { body: { order_ref: 'x-shop', total: 5000, currency: 'EUR' } }));
    at('2031-06-05T12:00:00Z');
    await ok(t.api('POST', `/v1/vouchers/${released.code}/redemptions/${use.id}/release`, { body: {} }));
    await redeem(t, B, 10); // from L6: 20 left
    // Gifts from the catalog at no points cost (as a stamp card or a referral gives them): a 7 EUR voucher, 3 EUR
    // cashback (credited to the wallet as 'reward': counted once, here) and a percentage voucher (no money value).
    at('2031-06-08T12:00:00Z');
    const fixed = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'fixed_amount', name: { en: '7 EUR off' }, points: 700, voucher: { amount: 700 } } }));
    const cash = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'cashback', name: { en: '3 EUR credit' }, points: 300, cashback: { amount: 300 } } }));
    const pct = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'percentage', name: { en: '10% off' }, points: 100, voucher: { percent: 10, max_discount: 2000 } } }));
    const { ledger, rewards } = app.patron.services;
    const gift = (memberId: string, rewardId: string) => app.patron.db.tx(async (tx) => {
      const book = await ledger.open(tx, t.id, memberId, 'debt');
      await rewards.give(tx, book, rewardId, { source_type: 'stamp_card', source_id: 'card-1', reason: 'stamp card full' });
    });
    await gift(B, fixed.id);
    await gift(C, cash.id);
    await gift(A, pct.id);
    at('2031-06-10T12:00:00Z');
    await order(t, { external_id: 'c2', member_id: C, total: 1000 }); // L7

    // After as_of (2031-06-15): none of this may count.
    at('2031-06-20T12:00:00Z');
    await member(t, 'e');
    await redeem(t, A, 10);
    await order(t, { external_id: 'b2-r', type: 'return', original_external_id: 'b2', total: 3000 });
    await order(t, { external_id: 'w4', customer_ref: 'walk-in-3', total: 1000 });
    await ok(t.api('POST', `/v1/members/${A}/wallet/adjustments`, { body: { amount: 999, reason: 'later' } }));

    // as_of 2031-06-15 in Sofia: the run includes everything before 2031-06-16T00:00+03:00.
    const scope = scopeOf(t, '2031-06-15', '2031-06-15T21:00:00Z', 'Europe/Sofia');
    const e = await computeEconomics(app.patron.db, scope);
    conforms(e);
    assert.equal(e.as_of, '2031-06-15');
    assert.equal(e.currency, 'EUR');

    // ── Participation: A, B, C, D are members (E joined later); two customers who are not members by then.
    // Last 30 days (from 17 May): A (capture, redemption), B (redemption), C (order 10 Jun); 90 days (from 18 March):
    // the same three (D's last order was 1 March); 365 days: all four.
    assert.deepEqual([e.participation.members, e.participation.non_member_customers, e.participation.customers], [4, 2, 6]);
    assert.deepEqual(e.participation.periods.map((p) => [p.days, p.from, p.to, p.participating_members]),
      [[30, '2031-05-17', '2031-06-15', 3], [90, '2031-03-18', '2031-06-15', 3], [365, '2030-06-16', '2031-06-15', 4]]);
    assert.deepEqual(e.participation.periods.map((p) => p.rate), [0.75, 0.75, 1]);
    assert.deepEqual(e.participation.periods.map((p) => p.rate_of_customers), [0.5, 0.5, 4 / 6]);

    // ── Redemption rate. Lots: L1 100, L2 50 (20 clawed back), L3 80, L4 40, L5 200, L6 30, L7 10 = 510 credited.
    // 30 days: issued L7 = 10; redeemed capture 20 + (10 − 10 cancelled) + B 10 = 30.
    // 90 days: issued L5 + L6 + L7 = 240; redeemed 150 + 20 + 0 + 10 = 180.
    // 365 days and cumulative: issued 510 − 20 = 490; redeemed 60 + 180 = 240.
    assert.deepEqual(e.redemption.periods.map((p) => [p.issued, p.redeemed, p.rate]), [[10, 30, 3], [240, 180, 0.75], [490, 240, 240 / 490]]);
    assert.deepEqual(e.redemption.cumulative, { issued: 490, redeemed: 240, rate: 240 / 490 });

    // ── Breakage totals: expired L1 40 + L2 30 + L3 80 + L4 40 = 190; outstanding L5 30 + L6 20 + L7 10 = 60.
    const b = e.breakage;
    assert.deepEqual([b.issued_gross, b.withdrawn, b.issued, b.redeemed, b.expired, b.outstanding], [510, 20, 490, 240, 190, 60]);
    // Realised: the lots past their expiry date (L1-L4) were issued 100 + 30 + 80 + 40 = 250 and 190 of it expired.
    assert.deepEqual(b.realised, { lots_issued: 250, expired: 190, rate: 0.76 });

    // ── The curve, from the lots' own dates (expiry: 3 calendar months later in Sofia).
    const lots = (await app.patron.db.query(
      `SELECT amount::int, earned_at, expires_at FROM point_lots WHERE tenant_id = $1 AND earned_at < $2 ORDER BY earned_at, amount DESC`,
      [t.id, scope.end])).rows as Array<{ amount: number; earned_at: Date; expires_at: Date }>;
    assert.deepEqual(lots.map((l) => l.amount), [100, 80, 50, 40, 200, 30, 10]);
    const [L1, , , L4, L5, , L7] = lots as [typeof lots[0], typeof lots[0], typeof lots[0], typeof lots[0], typeof lots[0], typeof lots[0], typeof lots[0]];
    const age = (from: Date, to: Date) => (to.getTime() - from.getTime()) / MONTH_MS;
    const frac = (x: number) => x - Math.floor(x);
    const a13 = age(L1.earned_at, L1.expires_at); // L1-L3 observed to their expiry: month 2
    const a4 = age(L4.earned_at, L4.expires_at); // L4 to its expiry: month 3
    const a56 = age(L5.earned_at, scope.end); // L5, L6 to as_of: month 1
    const a7 = age(L7.earned_at, scope.end); // L7 to as_of: month 0
    assert.deepEqual([Math.floor(a13), Math.floor(a4), Math.floor(a56), Math.floor(a7)], [2, 3, 1, 0]);
    // Month 0: 60 (A, 1 Feb) + 170 (A's L5: 150 + 20 + 10 − 10) redeemed, L7's 10 censored. Month 1: 20 clawed back
    // (15 Feb), 10 redeemed (B, 5 June), L5 + L6 (30 + 20) censored. Month 2: L1-L3 (40 + 30 + 80). Month 3: L4 (40).
    const exposure = [510 - 10 * (1 - frac(a7)), 270 - 50 * (1 - frac(a56)), 190 - 150 * (1 - frac(a13)), 40 - 40 * (1 - frac(a4))];
    assert.deepEqual(b.curve.months.map((m) => [m.month, m.at_start, m.redeemed, m.withdrawn, m.expired, m.censored]),
      [[0, 510, 230, 0, 0, 10], [1, 270, 10, 20, 0, 50], [2, 190, 0, 0, 0, 150], [3, 40, 0, 0, 0, 40]]);
    b.curve.months.forEach((m, i) => close(m.exposure, exposure[i]!, 1e-6, `exposure ${i}`));
    // The oldest age is 3, so months 1-3 are pooled (3 − 2 = 1).
    assert.equal(b.curve.tail_from_month, 1);
    const pooled = exposure[1]! + exposure[2]! + exposure[3]!;
    close(b.curve.months[0]!.p_redeem, 230 / exposure[0]!, 1e-12, 'p_redeem 0');
    close(b.curve.months[2]!.p_redeem, 10 / pooled, 1e-12, 'pooled p_redeem');
    close(b.curve.months[2]!.p_withdraw, 20 / pooled, 1e-12, 'pooled p_withdraw');

    // ── Projection and liability: L5 + L6 (50 points, age a56, expiring 1 August) and L7 (10, age a7, 10 September).
    const hand: RedemptionCurve = {
      tail_from_month: 1,
      months: [{ ...b.curve.months[0]!, p_redeem: 230 / exposure[0]!, p_withdraw: 0, p_expire: 0 }],
      tail: { redeem: 10 / pooled, withdraw: 20 / pooled, expire: 0 },
    };
    const p56 = projectUnit(hand, a56, age(L5.earned_at, L5.expires_at));
    const p7 = projectUnit(hand, a7, age(L7.earned_at, L7.expires_at));
    const expected = 50 * p56.redeemed + 10 * p7.redeemed;
    close(b.projected.expected_redemptions, expected, 1e-9, 'expected redemptions');
    close(b.projected.expected_withdrawals, 50 * p56.withdrawn + 10 * p7.withdrawn, 1e-9, 'expected take-backs');
    close(b.projected.rate, 1 - (240 + expected) / (490 - b.projected.expected_withdrawals), 1e-12, 'projected breakage');
    close(b.projected.outstanding_rate, 1 - expected / 60, 1e-12, 'breakage of the outstanding points');
    const l = e.liability;
    assert.deepEqual([l.currency, l.cost_per_point, l.outstanding_points, l.amount], ['EUR', { points: 100, amount: 50 }, 60, Math.round(expected * 0.5)]);
    assert.deepEqual(l.by_expiry_month.map((r) => [r.month, r.outstanding_points, r.amount]),
      [['2031-08', 50, Math.round(50 * p56.redeemed * 0.5)], ['2031-09', 10, Math.round(10 * p7.redeemed * 0.5)]]);
    close(l.by_expiry_month[0]!.expected_breakage, 1 - p56.redeemed, 1e-12, 'breakage of August');
    // No point was issued six months before as_of: no backtest in the document.
    assert.equal(b.backtest, null);

    // ── Cost of rewards. 30 days: redemptions capture 20 + B 10 (the cancelled one does not count); gifts 7 EUR
    // voucher + 3 EUR cashback (+ a percentage voucher, unvalued); store credit: the admin's 5 EUR (not the refund,
    // not the reward cashback); the 10 EUR voucher D used (the released one does not count).
    const cost = e.rewards_cost.periods.map((p) => p.currencies);
    assert.deepEqual(cost[0], [{
      currency: 'EUR',
      redemptions: { count: 2, points: 30, value: 30 },
      gift_rewards: { count: 3, valued: 2, value: 1000 },
      store_credit: { amount: 500, by_source: [{ source: 'admin', amount: 500 }] },
      voucher_discounts: { count: 1, amount: 1000 },
      total: 2530,
    }]);
    assert.deepEqual(cost[1]![0]!.redemptions, { count: 3, points: 180, value: 180 });
    assert.equal(cost[1]![0]!.total, 2680);
    assert.deepEqual(cost[2]![0]!.redemptions, { count: 4, points: 240, value: 240 });
    assert.equal(cost[2]![0]!.total, 2740);
    assert.deepEqual(e.campaigns, []);

    // ── The backtest as of 30 April (before L5-L7): only L4 was outstanding (40, expiring 1 June); nothing of it was
    // redeemed afterwards. The lots issued by then (250 net) stand at 60 redeemed, none outstanding: breakage 0.76.
    const bt = (await backtestBreakage(app.patron.db, scope, '2031-04-30'))!;
    assert.equal(bt.from, '2031-04-30');
    assert.equal(bt.to, '2031-06-15');
    const dEnd = new Date('2031-04-30T21:00:00Z');
    close(bt.horizon_months, (scope.end.getTime() - dEnd.getTime()) / MONTH_MS, 1e-12, 'horizon');
    assert.deepEqual([bt.outstanding_at_from, bt.actual_redemptions, bt.actual_withdrawals, bt.error, bt.outstanding_at_to], [40, 0, 0, null, 0]);
    close(bt.breakage_at_to, 0.76, 1e-12, 'breakage at as_of of the lots issued by D');
    // At D the curve has ages 0-2 only (tail from 0: all pooled): 60 redeemed and 20 clawed back over the exposure
    // 270 + (210 − 40·(1 − frac(L4 at D))) + (150 − 150·(1 − frac(a13))).
    const a4d = age(L4.earned_at, dEnd);
    const pooledD = 270 + (210 - 40 * (1 - frac(a4d))) + (150 - 150 * (1 - frac(a13)));
    const handD: RedemptionCurve = { tail_from_month: 0, months: [], tail: { redeem: 60 / pooledD, withdraw: 20 / pooledD, expire: 0 } };
    const p4 = projectUnit(handD, a4d, Math.min(a4, a4d + bt.horizon_months));
    close(bt.predicted_redemptions, 40 * p4.redeemed, 1e-9, 'predicted at D');
    const p4ever = projectUnit(handD, a4d, a4);
    close(bt.projected_breakage_at_from, 1 - (60 + 40 * p4ever.redeemed) / (250 - 40 * p4ever.withdrawn), 1e-12, 'breakage projected at D');
  });

  test('a campaign: treatment against control with Welch, cost, ROI and the baseline, by hand', async () => {
    at('2031-01-20T12:00:00Z');
    const t = await tenant('UTC');
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push(await member(t, `m-${i}`));
    // The baseline: every second member bought on 10 February.
    at('2031-02-10T12:00:00Z');
    const baselineOrders = new Map<string, number[]>();
    for (const [i, id] of ids.entries()) {
      if (i % 2 !== 0) continue;
      const total = 1000 + 100 * (i % 5);
      await order(t, { external_id: `b-${i}`, member_id: id, total });
      baselineOrders.set(id, [total]);
    }
    at('2031-03-01T09:00:00Z');
    const c = await ok(t.api('POST', '/v1/campaigns', { body: {
      name: 'Double points week', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z',
      control_share: 0.5, baseline_days: 30,
    } }));
    await ok(t.api('POST', `/v1/campaigns/${c.id}/launch`, { body: {} }));
    await app.patron.jobs.runNow('campaigns.launch', { tenant_id: t.id });
    const control = new Set(ids.filter((id) => controlDraw(c.id, id) < 0.5));
    const treated = ids.filter((id) => !control.has(id));
    assert.ok(control.size >= 2 && treated.length >= 2, 'both groups can be tested');
    // After launch but before the window: counts nowhere.
    at('2031-03-02T12:00:00Z');
    await order(t, { external_id: 'early', member_id: ids[0], total: 9900 });

    at('2031-03-03T00:30:00Z');
    await app.patron.jobs.runNow('campaigns.advance', { tenant_id: t.id });
    at('2031-03-05T12:00:00Z');
    // Treatment: one order of 20-26 EUR each, a second of 15 EUR for every fourth; control: one order unless i % 3 = 0.
    const windowOrders = new Map<string, number[]>();
    let awardPoints = 0;
    for (const [i, id] of ids.entries()) {
      const list: number[] = [];
      const base = 2000 + 300 * (i % 3);
      if (!control.has(id)) {
        list.push(base);
        await order(t, { external_id: `w-${i}`, member_id: id, total: base });
        awardPoints += base / 100;
        if (i % 4 === 0) {
          list.push(1500);
          await order(t, { external_id: `w2-${i}`, member_id: id, total: 1500 });
          awardPoints += 15;
        }
      } else if (i % 3 !== 0) {
        list.push(base);
        await order(t, { external_id: `w-${i}`, member_id: id, total: base });
      }
      windowOrders.set(id, list);
    }
    // A treated member returns 10 EUR of their order: revenue net of it; the award keeps the points of what is kept.
    at('2031-03-06T12:00:00Z');
    const returner = treated[0]!;
    const ri = ids.indexOf(returner);
    await order(t, { external_id: 'ret', type: 'return', original_external_id: `w-${ri}`, total: 1000 });
    windowOrders.get(returner)![0]! -= 1000;
    awardPoints -= 10;
    // After the window: counts nowhere.
    at('2031-03-11T12:00:00Z');
    await order(t, { external_id: 'late', member_id: ids[1], total: 5000 });

    const scope = scopeOf(t, '2031-03-15', '2031-03-16T00:00:00Z', 'UTC');
    const e = await computeEconomics(app.patron.db, scope);
    conforms(e);
    assert.equal(e.campaigns.length, 1);
    const r = e.campaigns[0]!;
    assert.deepEqual([r.campaign_id, r.kind, r.unit, r.control_share], [c.id, 'points_multiplier', 'points', 0.5]);
    assert.deepEqual(r.window, { from: '2031-03-03T00:00:00.000Z', to: '2031-03-10T00:00:00.000Z', days: 7 });

    const per = (set: string[], orders: Map<string, number[]>) => ({
      revenue: summarizeSample(set.map((id) => (orders.get(id) ?? []).reduce((s, x) => s + x, 0))),
      purchases: summarizeSample(set.map((id) => (orders.get(id) ?? []).length)),
      purchasing: set.filter((id) => (orders.get(id) ?? []).length > 0).length,
    });
    const cIds = [...control];
    const T = per(treated, windowOrders);
    const Cg = per(cIds, windowOrders);
    assert.deepEqual([r.treatment.members, r.control.members], [treated.length, cIds.length]);
    assert.deepEqual([r.treatment.purchasing_members, r.control.purchasing_members], [T.purchasing, Cg.purchasing]);
    close(r.treatment.revenue_per_member, T.revenue.mean, 1e-9, 'treatment revenue');
    close(r.control.revenue_per_member, Cg.revenue.mean, 1e-9, 'control revenue');
    close(r.treatment.purchases_per_member, T.purchases.mean, 1e-12, 'treatment purchases');
    close(r.treatment.revenue_sd, Math.sqrt(T.revenue.variance), 1e-6, 'treatment sd');
    const wr = welchTest(T.revenue, Cg.revenue)!;
    const wp = welchTest(T.purchases, Cg.purchases)!;
    close(r.revenue!.difference, wr.difference, 1e-9, 'revenue difference');
    close(r.revenue!.ci_low, wr.ci_low, 1e-6, 'revenue CI low');
    close(r.revenue!.ci_high, wr.ci_high, 1e-6, 'revenue CI high');
    close(r.revenue!.p_value, wr.p_value, 1e-9, 'revenue p');
    close(r.purchases!.difference, wp.difference, 1e-12, 'purchases difference');
    close(r.purchases!.p_value, wp.p_value, 1e-9, 'purchases p');
    // Cost: the points the awards keep at 50 minor units per 100 points; margin 30%.
    assert.deepEqual(r.cost, { points: awardPoints, amount: Math.round(awardPoints * 0.5) });
    const incremental = wr.difference * treated.length;
    close(r.incremental_revenue, incremental, 1e-6, 'incremental revenue');
    close(r.incremental_margin, incremental * 0.3, 1e-6, 'incremental margin');
    const costAmount = Math.round(awardPoints * 0.5);
    close(r.roi, (incremental * 0.3 - costAmount) / costAmount, 1e-9, 'ROI');
    close(r.roi_ci_low, (wr.ci_low * treated.length * 0.3 - costAmount) / costAmount, 1e-6, 'ROI low');

    // The baseline: 30 days before launch, recomputed with the window's definitions, beside what was stored.
    assert.deepEqual([r.baseline.from, r.baseline.to, r.baseline.days], ['2031-01-30T09:00:00.000Z', '2031-03-01T09:00:00.000Z', 30]);
    const TB = per(treated, baselineOrders);
    const CB = per(cIds, baselineOrders);
    close(r.baseline.treatment.revenue_per_member, TB.revenue.mean, 1e-9, 'baseline treatment revenue');
    close(r.baseline.control.purchases_per_member, CB.purchases.mean, 1e-12, 'baseline control purchases');
    const stored = r.baseline.stored as any;
    assert.equal(stored.treatment.members, treated.length);
    close(stored.treatment.spend_per_member, TB.revenue.mean, 1e-4, 'stored baseline agrees');
    close(r.change_per_day.treatment.revenue, T.revenue.mean / 7 - TB.revenue.mean / 30, 1e-9, 'treatment change per day');
    close(r.change_per_day.difference_in_differences.revenue,
      (T.revenue.mean / 7 - TB.revenue.mean / 30) - (Cg.revenue.mean / 7 - CB.revenue.mean / 30), 1e-9, 'difference in differences');

    // As of a day before the campaign started it is not in the document yet.
    const before = await computeEconomics(app.patron.db, scopeOf(t, '2031-03-02', '2031-03-03T00:00:00Z', 'UTC'));
    assert.deepEqual(before.campaigns, []);
  });
});
