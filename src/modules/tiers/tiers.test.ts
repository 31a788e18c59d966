/**
 * Tiers through the real HTTP API: the Sephora-like acceptance scenario (docs/program/tiers.md), upgrades at once,
 * points qualification by activated points only, the earn multiplier, manual assignment with an end, invitations,
 * the threshold-change report, bad input, re-sends, isolation and concurrency.
 *
 * The clock is set after 2030 (test/helpers.ts): only this file's on-demand job runs make anything due.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';

let app: TestApp;
const DAY = 86_400_000;
before(async () => {
  app = await startTestApp();
  app.clock.set(new Date('2031-03-01T10:00:00Z'));
});
after(() => app.close());

let n = 0;
async function tenant(program: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) {
  const t = await app.newTenant();
  if (Object.keys(program).length) assert.equal((await t.api('PATCH', '/v1/program', { body: program })).status, 200);
  const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 }, rounding: 'floor' } });
  assert.equal(rule.status, 201, rule.text);
  if (Object.keys(settings).length) {
    const s = await t.api('PATCH', '/v1/tier-settings', { body: settings });
    assert.equal(s.status, 200, s.text);
  }
  return t;
}

async function tier(t: TestTenant, body: Record<string, unknown>) {
  const res = await t.api('POST', '/v1/tiers', { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function member(t: TestTenant) {
  const res = await t.api('POST', '/v1/members', { body: { first_name: 'Tiered' } });
  assert.equal(res.status, 201, res.text);
  return res.body.id as string;
}

async function buy(t: TestTenant, memberId: string, total: number, externalId = `o-${++n}`) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: externalId, member_id: memberId, currency: 'EUR', total } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function giveBack(t: TestTenant, purchaseExternalId: string, total: number) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `r-${++n}`, type: 'return', original_external_id: purchaseExternalId, currency: 'EUR', total } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function tierOf(t: TestTenant, memberId: string) {
  const res = await t.api('GET', `/v1/members/${memberId}/tier`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function events(t: TestTenant, type: string) {
  return (await t.api('GET', `/v1/domain-events?type=${type}`)).body.data as any[];
}

const evaluate = (t: TestTenant) => app.patron.jobs.runNow('tiers.evaluate', { tenant_id: t.id });
const fields = (res: { body: any }) => (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();

/** Insider (everyone), VIB and Rouge by money spent over a rolling 12 months, one level down at 1 January, a month's grace. */
async function sephora() {
  const t = await tenant({}, { metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'period_end', downgrade_policy: 'one_level', grace_months: 1 });
  const insider = await tier(t, { code: 'insider', name: 'Insider', rank: 1, entry_threshold: 0, benefits: [{ code: 'birthday_gift', name: 'Birthday gift' }] });
  const vib = await tier(t, { code: 'vib', name: 'VIB', names: { bg: 'ВИБ' }, rank: 2, entry_threshold: 35000, keep_threshold: 30000, multiplier: 1.25, benefits: [{ code: 'free_delivery', name: 'Free delivery' }] });
  const rouge = await tier(t, { code: 'rouge', name: 'Rouge', rank: 3, entry_threshold: 100000, keep_threshold: 90000, multiplier: 1.5, benefits: [{ code: 'free_delivery', name: 'Free delivery' }, { code: 'early_access', name: 'Early access' }, { code: 'events', name: 'Events' }] });
  return { t, insider, vib, rouge };
}

describe('tiers', () => {
  test('Sephora-like: upgrades at once by spend, returns never demote, one level down at the period end after a grace month', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const { t, vib, rouge } = await sephora();
    const m = await member(t);

    let state = await tierOf(t, m);
    assert.equal(state.tier.code, 'insider', 'everyone starts at the open tier with an entry threshold of 0');
    assert.deepEqual([state.progress.next.tier.code, state.progress.next.remaining], ['vib', 35000]);
    assert.deepEqual(state.tier.benefits.map((b: any) => b.code), ['birthday_gift']);

    await buy(t, m, 40000, 'sep-1');
    state = await tierOf(t, m);
    assert.equal(state.tier.code, 'vib', 'moves up with the purchase that reaches the threshold');
    assert.equal(state.since, '2031-03-01T10:00:00.000Z');
    assert.equal(state.next_evaluation_at, '2032-01-01T00:00:00.000Z');
    assert.deepEqual([state.progress.next.tier.code, state.progress.next.remaining], ['rouge', 60000]);
    assert.deepEqual([state.progress.keep.threshold, state.progress.keep.remaining, state.progress.keep.by], [30000, 0, '2032-01-01T00:00:00.000Z']);
    const up = await events(t, 'tier.upgraded');
    assert.equal(up.length, 1);
    assert.deepEqual([up[0].payload.from, up[0].payload.to, up[0].payload.figure], ['insider', 'vib', 40000]);

    app.clock.advance(30 * DAY);
    await buy(t, m, 70000, 'sep-2');
    assert.equal((await tierOf(t, m)).tier.code, 'rouge');
    // A return lowers the figure, but nobody moves down before an evaluation.
    await giveBack(t, 'sep-2', 50000);
    await giveBack(t, 'sep-1', 30000);
    state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.figure], ['rouge', 30000]);
    assert.equal((await events(t, 'tier.downgraded')).length, 0);

    // 1 January 2032: 30,000 spent in the last 12 months is below Rouge's 90,000: one level down, after a month.
    app.clock.set(new Date('2032-01-02T08:00:00Z'));
    await evaluate(t);
    state = await tierOf(t, m);
    assert.equal(state.tier.code, 'rouge', 'the grace month keeps the tier');
    assert.deepEqual(state.pending_downgrade, { to: { id: vib.id, code: 'vib', name: 'VIB', rank: 2 }, at: '2032-02-01T00:00:00.000Z' });
    assert.equal(state.valid_until, '2032-02-01T00:00:00.000Z');
    assert.equal((await events(t, 'tier.downgrade_scheduled')).length, 1);

    app.clock.set(new Date('2032-02-01T00:05:00Z'));
    await evaluate(t);
    state = await tierOf(t, m);
    assert.equal(state.tier.code, 'vib', 'one level down: VIB, although the figure keeps nothing above Insider');
    assert.equal(state.pending_downgrade, null);
    assert.equal(state.next_evaluation_at, '2033-01-01T00:00:00.000Z');
    const down = await events(t, 'tier.downgraded');
    assert.deepEqual([down.length, down[0].payload.from, down[0].payload.to], [1, 'rouge', 'vib']);
    await evaluate(t);
    assert.equal((await events(t, 'tier.downgraded')).length, 1, 'a second run has nothing to do');

    // Nothing spent in 2032: VIB is lost at 1 January 2033, a month later.
    app.clock.set(new Date('2033-02-02T00:00:00Z'));
    await evaluate(t);
    assert.equal((await tierOf(t, m)).tier.code, 'insider');

    const history = (await t.api('GET', `/v1/members/${m}/tier/history?limit=2`));
    assert.equal(history.status, 200, history.text);
    assert.deepEqual(history.body.data.map((h: any) => [h.from_code, h.to_code, h.reason]), [['vib', 'insider', 'downgrade'], ['rouge', 'vib', 'downgrade']]);
    const rest = await t.api('GET', `/v1/members/${m}/tier/history?limit=2&cursor=${history.body.next_cursor}`);
    assert.deepEqual(rest.body.data.map((h: any) => [h.from_code, h.to_code, h.reason]), [['vib', 'rouge', 'upgrade'], ['insider', 'vib', 'upgrade']]);
    assert.equal(rest.body.next_cursor, null);
    const listed = (await t.api('GET', '/v1/tiers')).body.data;
    assert.deepEqual(listed.map((x: any) => [x.code, x.members]), [['insider', 1], ['vib', 0], ['rouge', 0]]);
    assert.equal(rouge.multiplier, 1.5);
  });

  test('a member who spends again during the grace period keeps the tier', async () => {
    app.clock.set(new Date('2031-06-01T10:00:00Z'));
    const { t } = await sephora();
    const m = await member(t);
    await buy(t, m, 40000, 'g-1');
    // Two evaluations overdue: 1 January 2032 keeps VIB (the purchase is in its year), 1 January 2033 does not.
    app.clock.set(new Date('2033-01-10T00:00:00Z'));
    await evaluate(t);
    const pending = await tierOf(t, m);
    assert.deepEqual(pending.pending_downgrade && [pending.pending_downgrade.to.code, pending.pending_downgrade.at], ['insider', '2033-02-01T00:00:00.000Z'], 'a downgrade waits out the grace month');
    await buy(t, m, 36000, 'g-2');
    const state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.pending_downgrade, state.next_evaluation_at], ['vib', null, '2034-01-01T00:00:00.000Z']);
    app.clock.set(new Date('2033-03-01T00:00:00Z'));
    await evaluate(t);
    assert.equal((await tierOf(t, m)).tier.code, 'vib');
    assert.equal((await events(t, 'tier.downgrade_cancelled')).length, 1);
  });

  test('the earn multiplier: gold earns x1.5 on the base rule, shown in the explanation; a return claws back at the same rate', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const t = await tenant({}, { metric: 'spend' });
    await tier(t, { code: 'silver', name: 'Silver', entry_threshold: 0 });
    await tier(t, { code: 'gold', name: 'Gold', entry_threshold: 10000, multiplier: 1.5 });
    const m = await member(t);
    const first = await buy(t, m, 10000, 'mul-1');
    assert.equal(first.points, 100, 'the purchase that reaches gold earns at the silver rate');
    const second = await buy(t, m, 10000, 'mul-2');
    assert.equal(second.points, 150);
    const base = second.earning.explanation.find((e: any) => e.outcome === 'applied');
    assert.match(base.detail, /x1\.5 for tier gold/);
    // Manually moved back to silver, the return of the gold purchase still recomputes with x1.5.
    assert.equal((await t.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'silver' } })).status, 200);
    const ret = await giveBack(t, 'mul-2', 5000);
    assert.equal(ret.points, -75);
    const preview = await t.api('POST', '/v1/transactions/preview', { body: { external_id: 'p', member_id: m, currency: 'EUR', total: 10000 } });
    assert.equal(preview.body.points, 100, 'silver earns x1');
    assert.deepEqual(await app.patron.services.tiers.current(app.patron.db, t.id, m).then((c) => c && [c.code, c.multiplier]), ['silver', 1]);
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });

  test('the tiers every order reads are cached per process, and a change of a multiplier or a new tier applies to the next order', async () => {
    app.clock.set(new Date('2031-04-01T10:00:00Z'));
    const t = await tenant({}, { metric: 'spend' });
    const silver = await tier(t, { code: 'silver', name: 'Silver', entry_threshold: 0 });
    const m = await member(t);
    assert.equal((await buy(t, m, 10000, 'cache-1')).points, 100);
    assert.equal((await buy(t, m, 10000, 'cache-2')).points, 100, 'read again (from the cache)');
    // Not a qualification field: the settings are not saved, the tier row announces the change itself.
    assert.equal((await t.api('PATCH', `/v1/tiers/${silver.id}`, { body: { multiplier: 2 } })).status, 200);
    assert.equal((await buy(t, m, 10000, 'cache-3')).points, 200, 'the new multiplier at once');
    await tier(t, { code: 'gold', name: 'Gold', entry_threshold: 20000, multiplier: 3 });
    await buy(t, m, 100, 'cache-4'); // moves the member up to gold (the new tier is seen)
    assert.equal((await buy(t, m, 10000, 'cache-5')).points, 300);
  });

  test('points qualification counts activated earned points only; spending never lowers it', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const t = await tenant({ pending_days: 14 }, { metric: 'points', window: 'calendar_year' });
    await tier(t, { code: 'member', name: 'Member', entry_threshold: 0 });
    await tier(t, { code: 'silver', name: 'Silver', entry_threshold: 150, keep_threshold: 100 });
    const m = await member(t);
    await buy(t, m, 20000, 'pts-1');
    let state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.figure], ['member', 0], 'pending points do not count');
    await evaluate(t);
    assert.equal((await tierOf(t, m)).tier.code, 'member');

    app.clock.advance(15 * DAY);
    await app.patron.jobs.runNow('ledger.activate-pending', { tenant_id: t.id });
    assert.equal((await tierOf(t, m)).tier.code, 'member', 'activation alone does not move anyone: the tier job does');
    await evaluate(t);
    state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.figure], ['silver', 200]);
    assert.equal(state.progress.next, null);
    assert.equal(state.window.from, '2031-01-01T00:00:00.000Z');

    const spent = await t.api('POST', '/v1/redemptions', { body: { member_id: m, points: 180 } });
    assert.equal(spent.status, 201, spent.text);
    state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.figure], ['silver', 200], 'spending is not earning less');
    // A positive adjustment counts as earned; the job's watermark finds it.
    const adj = await t.api('POST', `/v1/members/${m}/adjustments`, { body: { points: 10, reason: 'goodwill' } });
    assert.equal(adj.status, 201, adj.text);
    assert.equal((await tierOf(t, m)).figure, 210);
  });

  test('manual assignment with an end date, then back to what the member qualifies for', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const { t } = await sephora();
    const m = await member(t);
    await buy(t, m, 40000);
    const until = new Date(app.clock.now().getTime() + 10 * DAY).toISOString();
    const res = await t.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'rouge', until, reason: 'service recovery' }, headers: { 'idempotency-key': 'assign-1' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.tier.code, res.body.source, res.body.valid_until, res.body.next_evaluation_at], ['rouge', 'manual', until, null]);
    const again = await t.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'rouge', until, reason: 'service recovery' }, headers: { 'idempotency-key': 'assign-1' } });
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal((await events(t, 'tier.assigned')).length, 1, 'a re-send assigns once');
    await buy(t, m, 1000);
    assert.equal((await tierOf(t, m)).tier.code, 'rouge', 'thresholds do not take a manual tier away');
    app.clock.advance(11 * DAY);
    await evaluate(t);
    const state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.source], ['vib', 'qualified']);
    const h = (await t.api('GET', `/v1/members/${m}/tier/history?limit=1`)).body.data[0];
    assert.deepEqual([h.from_code, h.to_code, h.reason, h.figure], ['rouge', 'vib', 'assignment_ended', 41000]);
    const past = await t.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'rouge', until: '2031-01-01T00:00:00Z' } });
    assert.equal(past.status, 400);
    assert.deepEqual(fields(past), ['until']);
    assert.equal((await t.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'nope' } })).status, 422);
  });

  test('invitation-only tiers are reached by invitation, never by thresholds', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const { t } = await sephora();
    await tier(t, { code: 'black', name: 'Black', entry_threshold: 200000, invitation_only: true, multiplier: 2 });
    const rich = await member(t);
    await buy(t, rich, 500000);
    assert.equal((await tierOf(t, rich)).tier.code, 'rouge');
    const open = await t.api('POST', `/v1/members/${rich}/tier/invitation`, { body: { tier: 'vib' } });
    assert.equal(open.status, 422);
    assert.deepEqual(fields(open), ['tier']);
    const invited = await t.api('POST', `/v1/members/${rich}/tier/invitation`, { body: { tier: 'black' } });
    assert.equal(invited.status, 200, invited.text);
    assert.deepEqual([invited.body.tier.code, invited.body.source, invited.body.valid_until], ['black', 'invited', null]);
    assert.equal(invited.body.progress.next, null);
    assert.equal((await events(t, 'tier.invited')).length, 1);
    assert.deepEqual(await app.patron.services.tiers.standing(app.patron.db, t.id, rich, app.clock.now()), { tier: 'black', multiplier: 2 });
  });

  test('changing thresholds: a change that would demote is held as a report; the marketer applies it now or at the next evaluation', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const { t, vib, rouge } = await sephora();
    const a = await member(t);
    const b = await member(t);
    await buy(t, a, 40000);
    await buy(t, b, 60000);

    // Raising VIB's keep threshold to 50,000 would move A down: held back, with the report.
    const held = await t.api('PATCH', `/v1/tiers/${vib.id}`, { body: { entry_threshold: 50000, keep_threshold: 50000, name: 'Very Important' } });
    assert.equal(held.status, 202, held.text);
    assert.equal(held.body.status, 'draft');
    assert.deepEqual(held.body.summary, { members: 2, up: 0, down: 1, stay: 1, down_by_change: 1, up_by_change: 0 });
    assert.deepEqual(held.body.sample, [{ member_id: a, from: 'vib', to: 'insider', figure: 40000, direction: 'down', by_change: true }]);
    const unchanged = (await t.api('GET', `/v1/tiers/${vib.id}`)).body;
    assert.deepEqual([unchanged.name, unchanged.keep_threshold], ['VIB', 30000], 'nothing changed yet');

    // Applied with downgrades at the next evaluation: the rule changes, A keeps VIB for now.
    const applied = await t.api('POST', `/v1/tier-reevaluations/${held.body.id}/apply`, { body: { downgrades: 'next_evaluation' } });
    assert.equal(applied.status, 200, applied.text);
    assert.deepEqual([applied.body.status, applied.body.downgrades, applied.body.applied_summary], ['applied', 'next_evaluation', { up: 0, down: 0, kept_until_evaluation: 1 }]);
    assert.deepEqual([(await t.api('GET', `/v1/tiers/${vib.id}`)).body.keep_threshold, (await tierOf(t, a)).tier.code], [50000, 'vib']);
    assert.equal((await t.api('POST', `/v1/tier-reevaluations/${held.body.id}/apply`, { body: { downgrades: 'now' } })).status, 422, 'applied once');

    // A dry run of a lower Rouge threshold and a higher VIB one; a change made meanwhile makes it stale.
    const dry = await t.api('POST', '/v1/tier-reevaluations', { body: { tiers: [{ id: rouge.id, entry_threshold: 55000, keep_threshold: 55000 }] } });
    assert.equal(dry.status, 201, dry.text);
    assert.deepEqual([dry.body.summary.up, dry.body.summary.up_by_change, dry.body.summary.down_by_change], [1, 1, 0]);
    const lowerRouge = await t.api('PATCH', `/v1/tiers/${rouge.id}`, { body: { entry_threshold: 95000, keep_threshold: 90000 } });
    assert.equal(lowerRouge.status, 200, 'moves nobody down: applied at once');
    assert.equal((await t.api('GET', `/v1/tier-reevaluations/${dry.body.id}`)).body.stale, true);
    assert.equal((await t.api('POST', `/v1/tier-reevaluations/${dry.body.id}/apply`, { body: { downgrades: 'now' } })).status, 422);

    // Downgrades now.
    const strict = await t.api('POST', '/v1/tier-reevaluations', { body: { settings: { downgrade_policy: 'to_qualified' }, tiers: [{ id: vib.id, entry_threshold: 70000, keep_threshold: 70000 }] } });
    assert.equal(strict.status, 201, strict.text);
    // A is below VIB's keep threshold already (down at the next evaluation anyway); B only because of the change.
    assert.deepEqual([strict.body.summary.down, strict.body.summary.down_by_change], [2, 1]);
    const now = await t.api('POST', `/v1/tier-reevaluations/${strict.body.id}/apply`, { body: { downgrades: 'now' } });
    assert.equal(now.status, 200, now.text);
    assert.deepEqual(now.body.applied_summary, { up: 0, down: 2, kept_until_evaluation: 0 });
    assert.deepEqual([(await tierOf(t, a)).tier.code, (await tierOf(t, b)).tier.code], ['insider', 'insider']);
    assert.equal((await t.api('GET', '/v1/tier-settings')).body.downgrade_policy, 'to_qualified');
    const list = await t.api('GET', '/v1/tier-reevaluations?limit=2');
    assert.deepEqual(list.body.data.map((r: any) => r.id), [strict.body.id, dry.body.id]);
  });

  test('bad input is a 400 naming every field; codes and ranks are unique', async () => {
    const { t, vib } = await sephora();
    const bad = await t.api('POST', '/v1/tiers', { body: { code: 'Bad Code', name: '', multiplier: 1.2345, entry_threshold: -1, colour: 'red' } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(fields(bad), ['code', 'colour', 'entry_threshold', 'multiplier', 'name']);
    const keep = await t.api('POST', '/v1/tiers', { body: { code: 'x', name: 'X', entry_threshold: 10, keep_threshold: 20 } });
    assert.deepEqual([keep.status, fields(keep)], [400, ['keep_threshold']]);
    const rank = await t.api('POST', '/v1/tiers', { body: { code: 'x', name: 'X', entry_threshold: 10, rank: 2 } });
    assert.deepEqual([rank.status, fields(rank)], [400, ['rank']]);
    const code = await t.api('POST', '/v1/tiers', { body: { code: 'vib', name: 'X', entry_threshold: 10 } });
    assert.equal(code.status, 409);
    const settings = await t.api('PATCH', '/v1/tier-settings', { body: { window: 'rolling_months', metric: 'money', grace_days: -1 } });
    assert.deepEqual([settings.status, fields(settings)], [400, ['grace_days', 'metric', 'window_months']]);
    const patch = await t.api('PATCH', `/v1/tiers/${vib.id}`, { body: { code: 'other', multiplier: 0.5 } });
    assert.deepEqual([patch.status, fields(patch)], [400, ['code', 'multiplier']]);
    const re = await t.api('POST', '/v1/tier-reevaluations', { body: { tiers: [{ id: vib.id, multiplier: 1.0001 }], settings: { window: 'rolling_months' } } });
    assert.deepEqual([re.status, fields(re)], [400, ['settings.window_months', 'tiers[0].multiplier']]);
    const unknown = await t.api('POST', '/v1/tier-reevaluations', { body: { tiers: [{ id: crypto.randomUUID(), rank: 9 }] } });
    assert.deepEqual([unknown.status, fields(unknown)], [422, ['tiers[0].id']]);
    const apply = await t.api('POST', `/v1/tier-reevaluations/${crypto.randomUUID()}/apply`, { body: { downgrades: 'later' } });
    assert.deepEqual([apply.status, fields(apply)], [400, ['downgrades']]);
  });

  test('re-sends, deletion, and isolation between tenants', async () => {
    const { t, insider, rouge } = await sephora();
    const body = { code: 'gold', name: 'Gold', entry_threshold: 500000 };
    const first = await t.api('POST', '/v1/tiers', { body, headers: { 'idempotency-key': 'gold-1' } });
    const second = await t.api('POST', '/v1/tiers', { body, headers: { 'idempotency-key': 'gold-1' } });
    assert.deepEqual([first.status, second.status, second.body.id], [201, 201, first.body.id]);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(first.body.rank, 4, 'above the highest by default');
    const m = await member(t);
    await buy(t, m, 10);
    assert.equal((await t.api('DELETE', `/v1/tiers/${insider.id}`)).status, 422, 'a tier members hold stays');
    assert.equal((await t.api('DELETE', `/v1/tiers/${first.body.id}`)).status, 200);
    assert.equal((await t.api('GET', `/v1/tiers/${first.body.id}`)).status, 404);

    const other = await app.newTenant();
    assert.equal((await other.api('GET', `/v1/tiers/${rouge.id}`)).status, 404);
    assert.equal((await other.api('PATCH', `/v1/tiers/${rouge.id}`, { body: { name: 'Mine' } })).status, 404);
    assert.equal((await other.api('GET', `/v1/members/${m}/tier`)).status, 404);
    assert.equal((await other.api('POST', `/v1/members/${m}/tier/assignment`, { body: { tier: 'rouge' } })).status, 404);
    assert.deepEqual((await other.api('GET', '/v1/tiers')).body.data, []);
    assert.equal((await tierOf(t, m)).tier.code, 'insider');
    const readOnly = await t.keyWith(['write']);
    assert.equal((await t.api('POST', '/v1/tiers', { body: { code: 'z', name: 'Z', entry_threshold: 1 }, key: readOnly })).status, 403, 'tier configuration is admin');
  });

  test('concurrent purchases crossing a threshold move the member up exactly once', async () => {
    app.clock.set(new Date('2031-03-01T10:00:00Z'));
    const { t } = await sephora();
    const m = await member(t);
    await Promise.all(Array.from({ length: 8 }, () => buy(t, m, 10000)));
    const state = await tierOf(t, m);
    assert.deepEqual([state.tier.code, state.figure], ['vib', 80000]);
    assert.equal((await events(t, 'tier.upgraded')).length, 1);
    assert.equal((await t.api('GET', `/v1/members/${m}/tier/history`)).body.data.length, 1);
  });
});
