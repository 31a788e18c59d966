/**
 * A member's points over HTTP: balance, ledger pages and filters, adjustments (admin), points about to expire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from './ledger.invariants.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  // Frozen at the real time: this file only moves it forward, so nothing here is due earlier than the real clock says.
  app.clock.set(new Date());
});
after(() => app.close());

async function memberOf(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { first_name: 'Points', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const adjust = (t: TestTenant, memberId: string, body: Record<string, unknown>, key?: string) =>
  t.api('POST', `/v1/members/${memberId}/adjustments`, { body, ...(key ? { key } : {}) });

async function noViolations(tenantId: string) {
  assert.deepEqual(await ledgerViolations(app.patron.db, tenantId, { allowNegative: false }), []);
}

describe('member points over HTTP', () => {
  test('a new member has an empty balance; unknown and other tenants\' members are 404', async () => {
    const t = await app.newTenant();
    const other = await app.newTenant();
    const id = await memberOf(t);
    const res = await t.api('GET', `/v1/members/${id}/balance`);
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, {
      member_id: id, available: 0, pending: 0, held: 0, lifetime_earned: 0, redeemed: 0, expired: 0, debt: 0, last_activity_at: null,
      currency_value: { amount: 0, currency: res.body.currency_value.currency },
    });
    assert.match(res.body.currency_value.currency, /^[A-Z]{3}$/);
    for (const path of ['balance', 'ledger', 'expiring']) {
      assert.equal((await other.api('GET', `/v1/members/${id}/${path}`)).status, 404, path);
      assert.equal((await t.api('GET', `/v1/members/${crypto.randomUUID()}/${path}`)).status, 404, path);
    }
    assert.equal((await other.api('POST', `/v1/members/${id}/adjustments`, { body: { points: 5, reason: 'x' } })).status, 404);
  });

  test('adjustments: admin only, reason required, signed points, records the key that made them', async () => {
    const t = await app.newTenant();
    const id = await memberOf(t);
    const writeKey = await t.keyWith(['write']);
    const denied = await adjust(t, id, { points: 100, reason: 'nope' }, writeKey);
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.body.code, 'forbidden');

    const noReason = await adjust(t, id, { points: 100 });
    assert.equal(noReason.status, 400);
    assert.deepEqual(noReason.body.errors, [{ field: 'reason', detail: 'is required' }]);
    const bad = await adjust(t, id, { points: 0, reason: '   ', expires_at: new Date(app.clock.now().getTime() - DAY).toISOString() });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['expires_at', 'points', 'reason']);
    const tooBig = await adjust(t, id, { points: 10_000_001, reason: 'x', extra: 1 });
    assert.deepEqual(tooBig.body.errors.map((e: any) => e.field).sort(), ['extra', 'points']);
    const negExpiry = await adjust(t, id, { points: -5, reason: 'x', expires_at: new Date(app.clock.now().getTime() + DAY).toISOString() });
    assert.deepEqual(negExpiry.body.errors, [{ field: 'expires_at', detail: 'is only used with positive points' }]);

    // Program rate: 100 points are worth 50 minor units.
    const program = await t.api('PATCH', '/v1/program', { body: { points_value: { points: 100, amount: 50 } } });
    assert.equal(program.status, 200, program.text);

    const plus = await adjust(t, id, { points: 1001, reason: 'Goodwill: late delivery' });
    assert.equal(plus.status, 201, plus.text);
    const keys = await t.api('GET', '/v1/api-keys');
    const keyId = keys.body.data.find((k: any) => t.key.startsWith(k.prefix)).id;
    assert.equal(plus.body.entry.type, 'adjust');
    assert.equal(plus.body.entry.points, 1001);
    assert.equal(plus.body.entry.source_type, 'admin');
    assert.equal(plus.body.entry.reason, 'Goodwill: late delivery');
    assert.equal(plus.body.entry.actor, keyId);
    assert.equal(plus.body.balance.available, 1001);
    assert.equal(plus.body.balance.lifetime_earned, 1001);
    assert.deepEqual(plus.body.balance.currency_value.amount, 500, 'floor(1001 × 50 / 100)');

    const minus = await adjust(t, id, { points: -201, reason: 'Duplicate bonus' });
    assert.equal(minus.status, 201, minus.text);
    assert.equal(minus.body.entry.points, -201);
    assert.equal(minus.body.balance.available, 800);
    assert.equal(minus.body.balance.lifetime_earned, 1001, 'a negative adjustment is not un-earning');

    const beyond = await adjust(t, id, { points: -801, reason: 'Too much' });
    assert.equal(beyond.status, 422, beyond.text);
    assert.equal(beyond.body.code, 'insufficient_points');

    const balance = await t.api('GET', `/v1/members/${id}/balance`);
    assert.equal(balance.body.available, 800);
    assert.deepEqual(balance.body.currency_value, { amount: 400, currency: plus.body.balance.currency_value.currency });

    // Audited with the entry id.
    const audit = await t.api('GET', '/v1/audit-log?resource_type=ledger_entry');
    assert.ok(audit.body.data.some((a: any) => a.resource_id === plus.body.entry.id && a.actor_id === keyId), audit.text);

    // An erased member's points cannot be changed (they can still be read).
    assert.equal((await t.api('POST', `/v1/members/${id}/erase`)).status, 200);
    const erased = await adjust(t, id, { points: 5, reason: 'after erasure' });
    assert.equal(erased.status, 422, erased.text);
    assert.equal((await t.api('GET', `/v1/members/${id}/balance`)).body.available, 800);
    await noViolations(t.id);
  });

  test('the ledger: newest first, cursor pages, type and time filters', async () => {
    const t = await app.newTenant();
    const id = await memberOf(t);
    const start = app.clock.now();
    const made: string[] = [];
    for (let i = 1; i <= 5; i++) {
      app.clock.advance(60_000);
      const res = await adjust(t, id, { points: i * 10, reason: `credit ${i}` });
      assert.equal(res.status, 201, res.text);
      made.push(res.body.entry.id);
    }
    app.clock.advance(60_000);
    const redeemed = await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 15 } });
    assert.equal(redeemed.status, 201, redeemed.text);
    made.push(redeemed.body.entry_id);
    app.clock.advance(60_000);
    const debit = await adjust(t, id, { points: -5, reason: 'debit' });
    made.push(debit.body.entry.id);

    // Pages of 3: newest first, every entry once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.api('GET', `/v1/members/${id}/ledger?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.data.length <= 3);
      seen.push(...res.body.data.map((e: any) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...made].reverse());

    const types = async (q: string) => {
      const res = await t.api('GET', `/v1/members/${id}/ledger?${q}`);
      assert.equal(res.status, 200, res.text);
      return res.body.data.map((e: any) => e.type);
    };
    assert.deepEqual(await types('type=redeem'), ['redeem']);
    assert.deepEqual(await types('type=adjust,redeem'), ['adjust', 'redeem', 'adjust', 'adjust', 'adjust', 'adjust', 'adjust']);
    assert.deepEqual(await types('type=redeem&type=earn'), ['redeem']);
    const bad = await t.api('GET', `/v1/members/${id}/ledger?type=adjust,bogus`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'type');

    // Time window: entries 2..4 (recorded at start + 2, 3, 4 minutes).
    const from = new Date(start.getTime() + 2 * 60_000).toISOString();
    const to = new Date(start.getTime() + 5 * 60_000).toISOString();
    const windowed = await t.api('GET', `/v1/members/${id}/ledger?from=${from}&to=${to}`);
    assert.deepEqual(windowed.body.data.map((e: any) => e.points), [40, 30, 20]);
    const backwards = await t.api('GET', `/v1/members/${id}/ledger?from=${to}&to=${from}`);
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.errors[0].field, 'to');
    const badCursor = await t.api('GET', `/v1/members/${id}/ledger?cursor=nonsense`);
    assert.equal(badCursor.status, 400);
    assert.equal(badCursor.body.errors[0].field, 'cursor');
    const badLimit = await t.api('GET', `/v1/members/${id}/ledger?limit=501`);
    assert.equal(badLimit.body.errors[0].field, 'limit');
    await noViolations(t.id);
  });

  test('expiring points: lot by lot within `days` (default 30)', async () => {
    const t = await app.newTenant();
    const id = await memberOf(t);
    const inDays = (n: number) => new Date(app.clock.now().getTime() + n * DAY).toISOString();
    const soon = inDays(10);
    const later = inDays(40);
    assert.equal((await adjust(t, id, { points: 100, reason: 'soon', expires_at: soon })).status, 201);
    assert.equal((await adjust(t, id, { points: 200, reason: 'later', expires_at: later })).status, 201);
    assert.equal((await adjust(t, id, { points: 300, reason: 'never' })).status, 201);
    // 30 of the 100 are spent first (oldest expiry first): 70 left in that lot.
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: id, points: 30 } })).status, 201);

    const def = await t.api('GET', `/v1/members/${id}/expiring`);
    assert.equal(def.status, 200, def.text);
    assert.equal(def.body.member_id, id);
    assert.equal(def.body.until, inDays(30));
    assert.equal(def.body.points, 70);
    assert.deepEqual(def.body.lots.map((l: any) => [l.points, l.expires_at]), [[70, soon]]);

    const wide = await t.api('GET', `/v1/members/${id}/expiring?days=60`);
    assert.equal(wide.body.points, 270);
    assert.deepEqual(wide.body.lots.map((l: any) => l.points), [70, 200]);

    for (const days of ['0', '3651', 'x']) {
      const res = await t.api('GET', `/v1/members/${id}/expiring?days=${days}`);
      assert.equal(res.status, 400, days);
      assert.equal(res.body.errors[0].field, 'days');
    }
    await noViolations(t.id);
  });

  test('expiring points under the inactivity policy: every active point, N months after the last activity', async () => {
    app.clock.set('2031-03-10T12:00:00Z'); // a month without a 31st-to-30th clamp; after 2030 (test/helpers.ts)
    const t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/program', { body: { expiry: { kind: 'inactivity', months: 1 } } })).status, 200);
    const id = await memberOf(t);
    assert.equal((await adjust(t, id, { points: 100, reason: 'a' })).status, 201);
    assert.equal((await adjust(t, id, { points: 50, reason: 'b' })).status, 201);
    const last = (await t.api('GET', `/v1/members/${id}/balance`)).body.last_activity_at as string;
    const deadline = new Date(last);
    deadline.setUTCMonth(deadline.getUTCMonth() + 1);
    const soon = await t.api('GET', `/v1/members/${id}/expiring?days=40`);
    assert.equal(soon.status, 200, soon.text);
    assert.equal(soon.body.points, 150);
    assert.ok(soon.body.lots.every((l: any) => l.expires_at === deadline.toISOString()), soon.text);
    assert.equal((await t.api('GET', `/v1/members/${id}/expiring?days=20`)).body.points, 0);
  });
});
