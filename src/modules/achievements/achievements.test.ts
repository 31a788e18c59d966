/** Achievements over HTTP against a real PostgreSQL: badges earned by orders and events, their bonuses, the leaderboard. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import { displayName, periodBounds, weekOf } from './achievements.service.js';

let app: TestApp;
const DAY = 86_400_000;
const START = new Date('2031-03-03T10:00:00Z'); // a Monday, after 2030 (test/helpers.ts)

before(async () => {
  app = await startTestApp();
  app.clock.set(START);
});
after(() => app.close());

let n = 0;
const uid = () => `${Date.now().toString(36)}-${++n}`;

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Ana', ...body } });
  assert.equal(m.status, 201, m.text);
  return m.body.id;
}

async function badge(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('POST', '/v1/badges', { body: { code: `b-${uid()}`, name: { en: 'Badge' }, ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function buy(t: TestTenant, memberId: string, order: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${uid()}`, member_id: memberId, currency: 'EUR', total: 1000, ...order } });
  assert.ok(res.status === 201 || res.status === 200, res.text);
  return res.body;
}

async function badgesOf(t: TestTenant, memberId: string): Promise<Record<string, any>> {
  const res = await t.api('GET', `/v1/members/${memberId}/badges`);
  assert.equal(res.status, 200, res.text);
  return Object.fromEntries(res.body.data.map((b: any) => [b.code, b]));
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data;

describe('badges', () => {
  test('first purchase and 5th purchase: earned once, with bonus points through the ledger; returns do not revoke them', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const first = await badge(t, { code: 'first', name: { en: 'Welcome', bg: 'Добре дошли' }, icon_url: 'https://cdn.example.com/first.png', criterion: { kind: 'first_purchase' }, bonus: { points: 100 } });
    const fifth = await badge(t, { code: 'fifth', criterion: { kind: 'nth_purchase', n: 5 }, bonus: { points: 200 } });
    const ana = await member(t);
    let b = await badgesOf(t, ana);
    assert.deepEqual([b.first.earned, b.first.progress, b.fifth.progress], [false, { current: 0, target: 1 }, { current: 0, target: 5 }]);

    const p1 = await buy(t, ana);
    await buy(t, ana, { external_id: p1.external_id }); // a re-sent order counts once
    b = await badgesOf(t, ana);
    assert.equal(b.first.earned, true);
    assert.equal(b.first.earned_at, START.toISOString());
    assert.deepEqual(b.first.bonus, { points: 100, reward_redemption_id: null, voucher_code: null, credit: 0 });
    assert.deepEqual(b.fifth.progress, { current: 1, target: 5 });
    for (let i = 0; i < 3; i++) await buy(t, ana);
    assert.deepEqual((await badgesOf(t, ana)).fifth.progress, { current: 4, target: 5 });
    const p5 = await buy(t, ana);
    b = await badgesOf(t, ana);
    assert.deepEqual([b.fifth.earned, b.fifth.progress], [true, { current: 5, target: 5 }]);

    const bal = (await t.api('GET', `/v1/members/${ana}/balance`)).body;
    assert.deepEqual([bal.available, bal.lifetime_earned], [300, 300]);
    const entries = (await t.api('GET', `/v1/members/${ana}/ledger?type=earn`)).body.data;
    assert.deepEqual(entries.map((e: any) => [e.points, e.source_type, e.source_id]), [[200, 'achievement', fifth.id], [100, 'achievement', first.id]]);
    const earned = await eventsOf(t, 'badge.earned');
    assert.deepEqual(earned.map((e: any) => e.payload.code).sort(), ['fifth', 'first']);
    assert.equal(earned.find((e: any) => e.payload.code === 'fifth').payload.transaction_id, p5.id);

    // A return never revokes a badge; more purchases never earn it twice.
    const r = await t.api('POST', '/v1/transactions', { body: { type: 'return', external_id: `r-${uid()}`, original_id: p5.id, currency: 'EUR', total: 1000 } });
    assert.equal(r.status, 201, r.text);
    await buy(t, ana);
    b = await badgesOf(t, ana);
    assert.deepEqual([b.first.earned, b.fifth.earned], [true, true]);
    assert.equal((await eventsOf(t, 'badge.earned')).length, 2);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 300);
    assert.deepEqual((await t.api('GET', `/v1/members/${ana}/badges?earned=false`)).body.data, []);
    const exported = (await t.api('GET', `/v1/members/${ana}/export`)).body.sections.achievements;
    assert.deepEqual([exported.badges.map((x: any) => x.badge_id).sort(), exported.leaderboard_opted_in_at], [[first.id, fifth.id].sort(), null]);
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });

  test('a 3-week streak in the tenant time zone, by the clock; a missed week starts over', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Europe/Sofia' } })).status, 200);
    await badge(t, { code: 'streak', criterion: { kind: 'purchase_streak_weeks', n: 3 } });
    const ana = await member(t);
    const bob = await member(t, { first_name: 'Bob' });
    // Sunday 2031-03-02 22:30Z is already Monday 00:30 in Sofia: week 2 there, week 1 in UTC.
    await buy(t, ana, { occurred_at: '2031-02-24T12:00:00Z' });
    await buy(t, bob, { occurred_at: '2031-02-24T12:00:00Z' });
    app.clock.set(new Date('2031-03-02T22:30:00Z'));
    await buy(t, ana);
    assert.deepEqual((await badgesOf(t, ana)).streak.progress, { current: 2, target: 3 });
    app.clock.set(new Date(START.getTime() + 7 * DAY));
    await buy(t, ana);
    const b = (await badgesOf(t, ana)).streak;
    assert.deepEqual([b.earned, b.progress], [true, { current: 3, target: 3 }]);

    // Bob skips a week: his streak is 1 again, and it lapses in the member's view when a whole week passes.
    await buy(t, bob);
    assert.deepEqual((await badgesOf(t, bob)).streak.progress, { current: 1, target: 3 });
    app.clock.set(new Date(START.getTime() + 21 * DAY));
    assert.deepEqual((await badgesOf(t, bob)).streak.progress, { current: 0, target: 3 });
    assert.equal((await badgesOf(t, bob)).streak.earned, false);
    app.clock.set(START);
  });

  test('all categories tried; a voided purchase stops counting; event_count badges from action events', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    await badge(t, { code: 'explorer', criterion: { kind: 'all_categories', categories: ['coffee', 'bakery', 'tea'] }, bonus: { points: 50 } });
    await badge(t, { code: 'critic', criterion: { kind: 'event_count', name: 'review_written', n: 2 } });
    const ana = await member(t);
    const line = (category: string) => ({ sku: `${category}-1`, category, quantity: 1, unit_price: 500 });
    await buy(t, ana, { lines: [line('coffee'), line('coffee')] });
    const tea = await buy(t, ana, { lines: [line('tea')] });
    assert.deepEqual((await badgesOf(t, ana)).explorer.progress, { current: 2, target: 3 });
    assert.equal((await t.api('POST', `/v1/transactions/${tea.id}/void`, { body: { reason: 'test' } })).status, 200);
    assert.deepEqual((await badgesOf(t, ana)).explorer.progress, { current: 1, target: 3 });
    await buy(t, ana, { lines: [line('bakery'), line('gear')] });
    assert.equal((await badgesOf(t, ana)).explorer.earned, false);
    await buy(t, ana, { lines: [line('tea')] });
    assert.equal((await badgesOf(t, ana)).explorer.earned, true);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 50);

    const review = () => t.api('POST', '/v1/events', { body: { name: 'review_written', member_id: ana, external_id: `ev-${uid()}` } });
    assert.equal((await review()).status, 201);
    assert.deepEqual((await badgesOf(t, ana)).critic.progress, { current: 1, target: 2 });
    assert.equal((await review()).status, 201);
    assert.equal((await badgesOf(t, ana)).critic.earned, true);
  });

  test('bad input is a 400 naming every field; a taken code is a 409; another tenant sees 404s; re-sends replay', async () => {
    const t = await app.newTenant();
    const bad = await t.api('POST', '/v1/badges', { body: { code: 'Bad Code', name: {}, icon_url: 'ftp://x', criterion: { kind: 'nth_purchase', categories: ['x'] }, bonus: {} } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['bonus', 'code', 'criterion.categories', 'criterion.n', 'icon_url', 'name.en']);
    const kind = await t.api('POST', '/v1/badges', { body: { code: 'x', name: { en: 'X' }, criterion: { kind: 'birthday' } } });
    assert.deepEqual(kind.body.errors.map((e: any) => e.field), ['criterion.kind']);
    const headers = { 'idempotency-key': `badge-${uid()}` };
    const body = { code: 'loyal', name: { en: 'Loyal' }, criterion: { kind: 'nth_purchase', n: 10 } };
    const created = await t.api('POST', '/v1/badges', { body, headers });
    assert.equal(created.status, 201, created.text);
    const replay = await t.api('POST', '/v1/badges', { body, headers });
    assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed'), replay.body.id], [201, 'true', created.body.id]);
    const taken = await t.api('POST', '/v1/badges', { body });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.errors[0].field, 'code');
    const patched = await t.api('PATCH', `/v1/badges/${created.body.id}`, { body: { criterion: { kind: 'nth_purchase', n: 12 }, bonus: { points: 5 } } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.body.criterion, patched.body.bonus], [{ kind: 'nth_purchase', n: 12 }, { points: 5 }]);
    assert.deepEqual((await t.api('PATCH', `/v1/badges/${created.body.id}`, { body: { criterion: { kind: 'event_count', n: 2 } } })).body.errors.map((e: any) => e.field), ['criterion.name']);

    const other = await app.newTenant();
    const ana = await member(t);
    assert.equal((await other.api('GET', `/v1/badges/${created.body.id}`)).status, 404);
    assert.equal((await other.api('DELETE', `/v1/badges/${created.body.id}`)).status, 404);
    assert.equal((await other.api('GET', `/v1/members/${ana}/badges`)).status, 404);
    assert.equal((await other.api('PUT', `/v1/members/${ana}/leaderboard-opt-in`, { body: { opted_in: true } })).status, 404);
    assert.equal((await other.api('GET', '/v1/badges')).body.data.length, 0);
    // Another tenant's orders never earn this tenant's badges.
    await badge(other, { code: 'first', criterion: { kind: 'first_purchase' } });
    await buy(t, ana);
    assert.equal((await other.api('GET', '/v1/domain-events?type=badge.earned')).body.data.length, 0);

    const archived = await t.api('DELETE', `/v1/badges/${created.body.id}`);
    assert.equal(archived.body.status, 'archived');
    assert.equal((await t.api('PATCH', `/v1/badges/${created.body.id}`, { body: { bonus: null } })).status, 422);
    assert.equal((await t.api('GET', '/v1/leaderboard?period=day')).body.errors[0].field, 'period');
    assert.equal((await t.api('GET', '/v1/leaderboard?cursor=nope')).body.errors[0].field, 'cursor');
  });
});

describe('leaderboard', () => {
  test('opted-in members only, ranked by points earned in the period (tenant time zone), shown as first name and initial', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 per EUR', rate: { points: 1, per_units: 1 } } });
    assert.equal(rule.status, 201, rule.text);
    const maria = await member(t, { first_name: 'Мария', last_name: 'иванова', email: 'maria@example.com' });
    const petar = await member(t, { first_name: 'Petar', last_name: 'Petrov' });
    const hidden = await member(t, { first_name: 'Hidden', last_name: 'Spender' });
    const tie = await member(t, { first_name: 'Tie' });
    for (const [m, total] of [[maria, 5000], [petar, 2000], [hidden, 90000], [tie, 2000]] as const) await buy(t, m, { total });
    await buy(t, maria, { total: 7000, occurred_at: '2031-02-20T10:00:00Z' }); // last month
    const headers = { 'idempotency-key': `opt-${uid()}` };
    for (const m of [maria, petar, tie]) {
      const res = await t.api('PUT', `/v1/members/${m}/leaderboard-opt-in`, { body: { opted_in: true }, headers: m === maria ? headers : {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.opted_in, true);
    }
    const replay = await t.api('PUT', `/v1/members/${maria}/leaderboard-opt-in`, { body: { opted_in: true }, headers });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal((await eventsOf(t, 'leaderboard.opted_in')).length, 3);

    const month = await t.api('GET', '/v1/leaderboard?period=month&by=points');
    assert.equal(month.status, 200, month.text);
    const pts = (m: string) => month.body.data.find((x: any) => x.member_id === m)?.score;
    assert.deepEqual(month.body.data.map((x: any) => [x.rank, x.display_name]), [[1, 'Мария И.'], [2, 'Petar P.'], [2, 'Tie']]);
    assert.ok(pts(maria) > pts(petar) && pts(petar) > 0);
    assert.equal(month.body.data.some((x: any) => x.member_id === hidden), false, 'never a member who did not opt in');
    assert.ok(!month.text.includes('example.com'));
    assert.deepEqual([month.body.from, month.body.to], ['2031-03-01T00:00:00.000Z', '2031-04-01T00:00:00.000Z']);

    const feb = await t.api('GET', `/v1/leaderboard?period=month&at=${encodeURIComponent('2031-02-10T00:00:00Z')}`);
    assert.deepEqual(feb.body.data.map((x: any) => x.member_id), [maria]);
    const year = await t.api('GET', '/v1/leaderboard?period=year&limit=1');
    assert.deepEqual(year.body.data.map((x: any) => x.member_id), [maria]);
    const next = await t.api('GET', `/v1/leaderboard?period=year&limit=1&cursor=${year.body.next_cursor}`);
    assert.deepEqual(next.body.data.map((x: any) => x.rank), [2]);

    // Opting out, and erasure, take a member off at once.
    assert.equal((await t.api('PUT', `/v1/members/${petar}/leaderboard-opt-in`, { body: { opted_in: false } })).body.opted_in, false);
    assert.equal((await t.api('POST', `/v1/members/${tie}/erase`)).status, 200);
    assert.deepEqual((await t.api('GET', '/v1/leaderboard')).body.data.map((x: any) => x.member_id), [maria]);
    assert.deepEqual((await t.api('GET', `/v1/members/${petar}/leaderboard-opt-in`)).body, { member_id: petar, opted_in: false, opted_in_at: null });

    // By badges earned in the period.
    await badge(t, { code: 'first', criterion: { kind: 'first_purchase' } });
    await t.api('PUT', `/v1/members/${petar}/leaderboard-opt-in`, { body: { opted_in: true } });
    await buy(t, petar);
    const byBadges = await t.api('GET', '/v1/leaderboard?period=week&by=badges');
    assert.deepEqual(byBadges.body.data.map((x: any) => [x.member_id, x.score]), [[petar, 1]]);
  });

  test('period bounds and display names', () => {
    assert.equal(weekOf(new Date('2031-03-02T22:30:00Z'), 'Europe/Sofia'), '2031-03-03');
    assert.equal(weekOf(new Date('2031-03-02T22:30:00Z'), 'UTC'), '2031-02-24');
    const w = periodBounds('week', new Date('2031-03-05T12:00:00Z'), 'Europe/Sofia');
    assert.deepEqual([w.from.toISOString(), w.to.toISOString()], ['2031-03-02T22:00:00.000Z', '2031-03-09T22:00:00.000Z']);
    const y = periodBounds('year', new Date('2031-07-05T12:00:00Z'), 'Europe/Sofia');
    assert.deepEqual([y.from.toISOString(), y.to.toISOString()], ['2030-12-31T22:00:00.000Z', '2031-12-31T22:00:00.000Z']);
    assert.equal(displayName({ id: 'x-1234', first_name: null, last_name: null }), 'Member 1234');
    assert.equal(displayName({ id: 'x', first_name: ' Ana ', last_name: 'ľudová' }), 'Ana Ľ.');
  });
});
