/**
 * Redemptions and checkout holds over HTTP, against a real PostgreSQL: every scenario ends with the ledger's
 * invariants checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  // Frozen at the real time and only moved forward (see ledger.routes.test.ts).
  app.clock.set(new Date());
});
after(() => app.close());

/** A member of a fresh tenant with `points` points (an adjustment). */
async function memberWith(points: number, t?: TestTenant, adjustment: Record<string, unknown> = {}): Promise<{ t: TestTenant; id: string }> {
  t ??= await app.newTenant();
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Redeemer' } });
  assert.equal(m.status, 201, m.text);
  if (points > 0) {
    const given = await t.api('POST', `/v1/members/${m.body.id}/adjustments`, { body: { points, reason: 'test points', ...adjustment } });
    assert.equal(given.status, 201, given.text);
  }
  return { t, id: m.body.id };
}

const balanceOf = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/members/${id}/balance`)).body;

async function noViolations(tenantId: string) {
  assert.deepEqual(await ledgerViolations(app.patron.db, tenantId, { allowNegative: false }), []);
}

async function eventsOf(t: TestTenant, type: string) {
  return (await t.api('GET', `/v1/domain-events?type=${type}`)).body.data;
}

describe('redemptions', () => {
  test('redeem: points spent, value at the program rate, event; cancel gives them back; twice is a 422', async () => {
    const { t, id } = await memberWith(1000);
    assert.equal((await t.api('PATCH', '/v1/program', { body: { points_value: { points: 3, amount: 2 } } })).status, 200);
    const res = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 250, reward_ref: 'free-coffee', reason: 'Coffee', order_ref: 'o-1' } });
    assert.equal(res.status, 201, res.text);
    const r = res.body;
    assert.equal(r.member_id, id);
    assert.equal(r.points, 250);
    assert.deepEqual([r.reward_ref, r.reason, r.order_ref, r.status, r.hold_id, r.cancelled_at], ['free-coffee', 'Coffee', 'o-1', 'completed', null, null]);
    assert.equal(r.value.amount, 166, 'floor(250 × 2 / 3)');
    let bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.redeemed], [750, 250]);
    assert.ok(bal.last_activity_at, 'a redemption is activity');

    const entry = (await t.api('GET', `/v1/members/${id}/ledger?type=redeem`)).body.data[0];
    assert.deepEqual([entry.id, entry.points, entry.source_type, entry.source_id], [r.entry_id, -250, 'redemption', r.id]);
    assert.deepEqual((await t.api('GET', `/v1/redemptions/${r.id}`)).body, r);
    assert.deepEqual((await eventsOf(t, 'redemption.created')).map((e: any) => e.aggregate_id), [r.id]);

    const cancelled = await t.api('POST', `/v1/redemptions/${r.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.ok(cancelled.body.cancelled_at);
    assert.deepEqual([cancelled.body.restored_points, cancelled.body.expired_points], [250, 0]);
    bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.redeemed], [1000, 0]);
    assert.equal((await eventsOf(t, 'redemption.cancelled')).length, 1);
    assert.equal((await t.api('GET', `/v1/redemptions/${r.id}`)).body.status, 'cancelled');

    const again = await t.api('POST', `/v1/redemptions/${r.id}/cancel`);
    assert.equal(again.status, 422, again.text);
    assert.equal((await balanceOf(t, id)).available, 1000);
    await noViolations(t.id);
  });

  test('a cancelled redemption whose lot expired meanwhile: those points expire at once', async () => {
    const { t, id } = await memberWith(100, undefined, { expires_at: new Date(app.clock.now().getTime() + DAY).toISOString() });
    const r = (await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 60 } })).body;
    app.clock.advance(2 * DAY);
    await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id });
    assert.equal((await balanceOf(t, id)).expired, 40);
    const cancelled = await t.api('POST', `/v1/redemptions/${r.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.deepEqual([cancelled.body.restored_points, cancelled.body.expired_points], [0, 60]);
    const bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.redeemed, bal.expired], [0, 0, 100]);
    await noViolations(t.id);
  });

  test('who may redeem: unknown member 404, blocked or erased 422, beyond the balance 422 insufficient_points, bad input 400', async () => {
    const { t, id } = await memberWith(50);
    const other = await app.newTenant();
    assert.equal((await other.api('POST', '/v1/redemptions', { body: { member_id: id, points: 5 } })).status, 404);
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: crypto.randomUUID(), points: 5 } })).status, 404);
    const beyond = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 51 } });
    assert.equal(beyond.status, 422);
    assert.equal(beyond.body.code, 'insufficient_points');
    const bad = await t.api('POST', '/v1/redemptions', { body: { member_id: 'nope', points: 0, reward_ref: '' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['member_id', 'points', 'reward_ref']);

    assert.equal((await t.api('POST', `/v1/members/${id}/block`, { body: { reason: 'fraud' } })).status, 200);
    const blocked = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 5 } });
    assert.equal(blocked.status, 422, blocked.text);
    assert.equal(blocked.body.code, 'unprocessable');
    assert.equal((await t.api('POST', '/v1/holds', { body: { member_id: id, points: 5 } })).status, 422);
    assert.equal((await t.api('POST', `/v1/members/${id}/unblock`)).status, 200);
    assert.equal((await t.api('POST', `/v1/members/${id}/erase`)).status, 200);
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 5 } })).status, 422);
    assert.equal((await balanceOf(t, id)).available, 50);
    await noViolations(t.id);
  });

  test('list: newest first, by member, cursor pages', async () => {
    const { t, id } = await memberWith(1000);
    const { id: other } = await memberWith(1000, t);
    const mine: string[] = [];
    for (let i = 0; i < 5; i++) mine.push((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 10 + i } })).body.id);
    const theirs = (await t.api('POST', '/v1/redemptions', { body: { member_id: other, points: 7 } })).body.id;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.api('GET', `/v1/redemptions?member_id=${id}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.body.data.map((r: any) => r.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...mine].reverse());
    const all = await t.api('GET', '/v1/redemptions');
    assert.deepEqual(all.body.data.map((r: any) => r.id), [theirs, ...[...mine].reverse()]);
    assert.equal((await t.api('GET', '/v1/redemptions?member_id=nope')).status, 400);
  });

  test('200 concurrent redemptions of 10 points against 1,005: exactly 100 succeed, the rest are 422', async () => {
    const { t, id } = await memberWith(1005);
    const results = await Promise.all(Array.from({ length: 200 }, () => t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 10 } })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 100, JSON.stringify(results.find((r) => r.status !== 201 && r.status !== 422)?.text));
    assert.equal(statuses.filter((s) => s === 422).length, 100);
    assert.ok(results.filter((r) => r.status === 422).every((r) => r.body.code === 'insufficient_points'));
    const bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.redeemed], [5, 1000]);
    const count = await app.patron.db.query(`SELECT count(*)::int AS n FROM redemptions WHERE tenant_id = $1 AND member_id = $2`, [t.id, id]);
    assert.equal(count.rows[0].n, 100);
    await noViolations(t.id);
  });

  test('Idempotency-Key: a replayed redemption gives the same answer and burns once', async () => {
    const { t, id } = await memberWith(100);
    const headers = { 'idempotency-key': `redeem-${crypto.randomUUID()}` };
    const first = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 30 }, headers });
    assert.equal(first.status, 201, first.text);
    const second = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 30 }, headers });
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.body, first.body);
    assert.equal((await balanceOf(t, id)).available, 70);
    assert.equal((await t.api('GET', `/v1/redemptions?member_id=${id}`)).body.data.length, 1);
    const otherBody = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 31 }, headers });
    assert.equal(otherBody.status, 409);
    assert.equal(otherBody.body.code, 'idempotency_key_reused');
    // A refused redemption is an answer too: replayed as it was, even once the points are there.
    const k2 = { 'idempotency-key': `redeem-${crypto.randomUUID()}` };
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 80 }, headers: k2 })).status, 422);
    await t.api('POST', `/v1/members/${id}/adjustments`, { body: { points: 100, reason: 'top up' } });
    const replayed = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 80 }, headers: k2 });
    assert.equal(replayed.status, 422);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal((await balanceOf(t, id)).available, 170);
    await noViolations(t.id);
  });
});

describe('checkout holds', () => {
  test('hold, capture part (the rest goes back), then capture or release again is a 422', async () => {
    const { t, id } = await memberWith(1000);
    const created = await t.api('POST', '/v1/holds', { body: { member_id: id, points: 300, order_ref: 'o-77', expires_in_seconds: 900 } });
    assert.equal(created.status, 201, created.text);
    const h = created.body;
    assert.deepEqual([h.member_id, h.points, h.order_ref, h.status, h.captured_points, h.redemption_id, h.closed_at], [id, 300, 'o-77', 'held', null, null, null]);
    assert.equal(h.expires_at, new Date(app.clock.now().getTime() + 900_000).toISOString());
    let bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.held], [700, 300]);
    // Held points cannot be spent elsewhere.
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 701 } })).body.code, 'insufficient_points');

    const tooMuch = await t.api('POST', `/v1/holds/${h.id}/capture`, { body: { points: 301 } });
    assert.equal(tooMuch.status, 400);
    assert.equal(tooMuch.body.errors[0].field, 'points');

    const captured = await t.api('POST', `/v1/holds/${h.id}/capture`, { body: { points: 200 } });
    assert.equal(captured.status, 200, captured.text);
    const { hold, redemption } = captured.body;
    assert.deepEqual([hold.status, hold.captured_points, hold.redemption_id], ['captured', 200, redemption.id]);
    assert.deepEqual([redemption.points, redemption.hold_id, redemption.order_ref, redemption.status], [200, h.id, 'o-77', 'completed']);
    bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.held, bal.redeemed], [800, 0, 200]);
    assert.deepEqual((await t.api('GET', `/v1/holds/${h.id}`)).body, hold);
    assert.equal((await t.api('GET', `/v1/redemptions/${redemption.id}`)).body.hold_id, h.id);

    assert.equal((await t.api('POST', `/v1/holds/${h.id}/capture`)).status, 422);
    assert.equal((await t.api('POST', `/v1/holds/${h.id}/release`)).status, 422);

    // A captured redemption can be cancelled like any other.
    const cancelled = await t.api('POST', `/v1/redemptions/${redemption.id}/cancel`);
    assert.equal(cancelled.body.restored_points, 200);
    assert.equal((await balanceOf(t, id)).available, 1000);
    await noViolations(t.id);
  });

  test('capture without a body takes everything held; release gives the points back', async () => {
    const { t, id } = await memberWith(500);
    const a = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 120 } })).body;
    const all = await t.api('POST', `/v1/holds/${a.id}/capture`);
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.redemption.points, 120);
    const b = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 80 } })).body;
    // Default lifetime: the program's hold_minutes (30).
    assert.equal(new Date(b.expires_at).getTime() - new Date(b.created_at).getTime(), 30 * 60_000);
    const released = await t.api('POST', `/v1/holds/${b.id}/release`);
    assert.equal(released.status, 200, released.text);
    assert.equal(released.body.status, 'released');
    const bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.held, bal.redeemed], [380, 0, 120]);
    assert.equal((await t.api('POST', '/v1/holds', { body: { member_id: id, points: 381 } })).body.code, 'insufficient_points');
    const bad = await t.api('POST', '/v1/holds', { body: { member_id: id, points: 10, expires_in_seconds: 59 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'expires_in_seconds');
    const other = await app.newTenant();
    assert.equal((await other.api('GET', `/v1/holds/${b.id}`)).status, 404);
    assert.equal((await other.api('POST', `/v1/holds/${b.id}/release`)).status, 404);
    await noViolations(t.id);
  });

  test('an expired hold: released by the job, or at the next write to the member; capture and release are 422', async () => {
    const { t, id } = await memberWith(500);
    const h1 = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 100, expires_in_seconds: 60 } })).body;
    const h2 = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 50, expires_in_seconds: 60 } })).body;
    assert.equal((await balanceOf(t, id)).held, 150);
    app.clock.advance(61_000);

    // The job releases them (only this tenant: other test files' tenants keep their own clocks).
    const run = await app.patron.jobs.runNow('ledger.release-holds', { tenant_id: t.id });
    assert.deepEqual(run, { tenants: 1, released: 2 });
    assert.deepEqual(await app.patron.jobs.runNow('ledger.release-holds', { tenant_id: t.id }), { tenants: 1, released: 0 }, 'again: nothing');
    const got = (await t.api('GET', `/v1/holds/${h1.id}`)).body;
    assert.equal(got.status, 'expired');
    const capture = await t.api('POST', `/v1/holds/${h1.id}/capture`);
    assert.equal(capture.status, 422);
    assert.match(capture.body.detail, /expired/);
    assert.equal((await t.api('POST', `/v1/holds/${h2.id}/release`)).status, 422);
    let bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.held], [500, 0]);

    // Without the job: capturing a hold past its expiry releases it first, and answers 422.
    const h3 = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 200, expires_in_seconds: 60 } })).body;
    app.clock.advance(61_000);
    const late = await t.api('POST', `/v1/holds/${h3.id}/capture`, { body: { points: 100 } });
    assert.equal(late.status, 422, late.text);
    assert.match(late.body.detail, /expired/);
    // ...and the release stays: the 422 did not roll it back.
    assert.equal((await t.api('GET', `/v1/holds/${h3.id}`)).body.status, 'expired');
    assert.deepEqual([(await balanceOf(t, id)).available, (await balanceOf(t, id)).held], [500, 0]);
    // Any write to the member releases it too.
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 500 } })).status, 201);
    assert.equal((await t.api('GET', `/v1/holds/${h3.id}`)).body.status, 'expired');
    bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.held, bal.redeemed], [0, 0, 500]);
    await noViolations(t.id);
  });
});
