/**
 * Orders through the real HTTP API: earning, re-sends, enrolment, returns with claw-back, voids, late orders and
 * the preview. Every scenario ends with the ledger's invariants checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

async function tenant(program: Record<string, unknown> = {}, rules: Array<Record<string, unknown>> = [{ kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 }, rounding: 'floor' }]) {
  const t = await app.newTenant();
  if (Object.keys(program).length) assert.equal((await t.api('PATCH', '/v1/program', { body: program })).status, 200);
  for (const r of rules) {
    const res = await t.api('POST', '/v1/earn-rules', { body: r });
    assert.equal(res.status, 201, res.text);
  }
  return t;
}

async function member(t: TestTenant, body: Record<string, unknown> = {}) {
  const res = await t.api('POST', '/v1/members', { body: { locale: 'en', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body.id as string;
}

async function balance(t: TestTenant, memberId: string) {
  const res = await t.api('GET', `/v1/members/${memberId}/balance`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function invariants(t: TestTenant, allowNegative = false) {
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative }), []);
}

let n = 0;
const order = (extra: Record<string, unknown>) => ({ external_id: `o-${++n}`, currency: 'EUR', total: 0, ...extra });

describe('transactions', () => {
  test('a purchase earns by the base rate and says why; a re-send is answered, never earned twice', async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t);
    const body = order({ member_id: m, total: 4590, channel: 'online', lines: [{ sku: 'A', quantity: 1, unit_price: 2990 }, { sku: 'B', quantity: 2, unit_price: 800 }] });
    const first = await t.api('POST', '/v1/transactions', { body });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.points, 45);
    assert.equal(first.body.earning.explanation[0].outcome, 'applied');
    const again = await t.api('POST', '/v1/transactions', { body });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    const other = await t.api('POST', '/v1/transactions', { body: { ...body, total: 9999 } });
    assert.equal(other.status, 409);
    assert.equal(other.body.errors[0].field, 'external_id');
    assert.equal((await balance(t, m)).available, 45);
    const got = await t.api('GET', `/v1/transactions/${first.body.id}`);
    assert.equal(got.body.earning.points, 45);
    await invariants(t);
  });

  test('concurrent re-sends of one order earn once', async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t);
    const body = order({ member_id: m, total: 1000 });
    const all = await Promise.all(Array.from({ length: 10 }, () => t.api('POST', '/v1/transactions', { body })));
    assert.equal(all.filter((r) => r.status === 201).length, 1);
    assert.ok(all.every((r) => r.status === 201 || r.status === 200), all.map((r) => r.text).join('\n'));
    assert.equal((await balance(t, m)).available, 10);
    await invariants(t);
  });

  test('an unknown member_external_id enrols the customer; a customer_ref order earns nothing; a blocked member earns nothing', async () => {
    app.clock.reset();
    const t = await tenant();
    const res = await t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'new-cust', total: 500 }) });
    assert.equal(res.status, 201, res.text);
    assert.ok(res.body.member_id);
    assert.equal(res.body.points, 5);
    const anon = await t.api('POST', '/v1/transactions', { body: order({ customer_ref: 'walk-in', total: 500 }) });
    assert.equal(anon.body.points, 0);
    assert.equal(anon.body.earning.not_earned_reason, 'no_member');
    const m = await member(t);
    await t.api('POST', `/v1/members/${m}/block`, { body: {} });
    const blocked = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 500 }) });
    assert.equal(blocked.status, 201);
    assert.equal(blocked.body.points, 0);
    assert.equal(blocked.body.earning.not_earned_reason, 'member_blocked');
    await invariants(t);
  });

  test("an erased member's external id does not enrol them again; the order is kept without it", async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t, { external_id: 'gone-1' });
    assert.equal((await t.api('POST', `/v1/members/${m}/erase`)).status, 200);
    const res = await t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'gone-1', total: 500 }) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.member_id, null);
    assert.equal(res.body.customer_ref, null);
    assert.equal(res.body.earning.not_earned_reason, 'member_erased');
    assert.equal((await t.api('GET', '/v1/members/by-external-id/gone-1')).status, 404);
  });

  test('first orders of a new customer sent at once all land on the one member they enrol', async () => {
    app.clock.reset();
    const t = await tenant();
    const same = order({ member_external_id: 'new-at-once', total: 1000 });
    const twice = await Promise.all([t.api('POST', '/v1/transactions', { body: same }), t.api('POST', '/v1/transactions', { body: same })]);
    assert.deepEqual(twice.map((r) => r.status).sort(), [200, 201], twice.map((r) => r.text).join('\n'));
    const three = await Promise.all([1, 2, 3].map(() => t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'new-at-once-2', total: 1000 }) })));
    assert.deepEqual(three.map((r) => r.status), [201, 201, 201], three.map((r) => r.text).join('\n'));
    assert.equal(new Set(three.map((r) => r.body.member_id)).size, 1);
    await invariants(t);
  });

  test('a leap second or more points than an entry may hold are 4xx, never 500', async () => {
    app.clock.reset();
    const t = await tenant({}, [{ kind: 'base', name: 'huge', rate: { points: 1_000_000, per_units: 1 }, rounding: 'floor' }]);
    const leap = await t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'c-leap', total: 100, occurred_at: '2026-06-30T23:59:60Z' }) });
    assert.equal(leap.status, 400);
    assert.equal(leap.body.errors[0].field, 'occurred_at');
    const huge = await t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'c-huge', total: 1_000_000_000_000 }) });
    assert.equal(huge.status, 422, huge.text);
  });

  test('excluded categories and the part paid with points earn nothing', async () => {
    app.clock.reset();
    const t = await tenant({ excluded_categories: ['gift_card'] });
    const m = await member(t);
    const res = await t.api('POST', '/v1/transactions', {
      body: order({
        member_id: m, total: 10000,
        lines: [{ sku: 'GC', category: 'gift_card', quantity: 1, unit_price: 5000 }, { sku: 'X', category: 'coffee', quantity: 1, unit_price: 5000 }],
        payments: [{ method: 'card', amount: 8000 }, { method: 'points', amount: 2000 }],
      }),
    });
    // Paid share 8000/10000 of the 5000 that earns = 4000 = 40 points.
    assert.equal(res.body.points, 40, res.text);
  });

  test('bad input names the field', async () => {
    const t = await tenant();
    const res = await t.api('POST', '/v1/transactions', { body: { external_id: 'x', currency: 'USD', total: -1, type: 'return' } });
    assert.equal(res.status, 400);
    assert.ok(res.body.errors.some((e: any) => e.field === 'total'), res.text);
    const wrongCurrency = await t.api('POST', '/v1/transactions', { body: order({ currency: 'USD', total: 1 }) });
    assert.equal(wrongCurrency.status, 400);
    assert.equal(wrongCurrency.body.errors[0].field, 'currency');
    const noOriginal = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', total: 1 }) });
    assert.equal(noOriginal.body.errors[0].field, 'original_external_id');
    const future = await t.api('POST', '/v1/transactions', { body: order({ total: 1, occurred_at: '2999-01-01T00:00:00Z' }) });
    assert.equal(future.body.errors[0].field, 'occurred_at');
    const ancient = await t.api('POST', '/v1/transactions', { body: order({ total: 1, occurred_at: '1989-12-31T23:59:59Z' }) });
    assert.equal(ancient.status, 400);
    assert.deepEqual(ancient.body.errors, [{ field: 'occurred_at', detail: 'must not be before 1990-01-01' }]);
    const history = await t.api('POST', '/v1/transactions', { body: order({ member_external_id: 'c-1997', total: 1, occurred_at: '1997-01-01T12:00:00Z' }) });
    assert.equal(history.status, 201, history.text);
  });

  test('a partial return recomputes a threshold bonus on what is kept; a full return removes exactly what was earned', async () => {
    app.clock.reset();
    const t = await tenant({}, [
      { kind: 'base', name: 'base', rate: { points: 1, per_units: 1 }, rounding: 'floor' },
      { kind: 'bonus', name: '100 over 50 EUR', points: 100, condition: { '>=': [{ var: 'basket.eligible_amount' }, 5000] } },
    ]);
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 6000, lines: [{ sku: 'A', quantity: 1, unit_price: 3000 }, { sku: 'B', quantity: 1, unit_price: 3000 }] }) });
    assert.equal(buy.body.points, 160);
    const ret = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 3000, lines: [{ sku: 'B', quantity: 1 }] }) });
    assert.equal(ret.status, 201, ret.text);
    assert.equal(ret.body.points, -130, 'the bonus goes and half of the base');
    assert.equal((await balance(t, m)).available, 30);
    const rest = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 3000, lines: [{ sku: 'A', quantity: 1 }] }) });
    assert.equal(rest.body.points, -30);
    assert.equal((await balance(t, m)).available, 0);
    const tooMuch = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 1 }) });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.errors[0].field, 'total');
    await invariants(t);
  });

  test('amount-only partial returns are cumulative and proportional', async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 10000 }) });
    assert.equal(buy.body.points, 100);
    for (let i = 0; i < 3; i++) {
      const r = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_external_id: buy.body.external_id, total: 3333 }) });
      assert.equal(r.status, 201, r.text);
    }
    // Kept 1 cent -> 0 points: the returns took back exactly the 100 earned.
    assert.equal((await balance(t, m)).available, 0);
    const got = await t.api('GET', `/v1/transactions/${buy.body.id}`);
    assert.equal(got.body.returned_total, 9999);
    assert.equal(got.body.earning.kept_points, 0);
    await invariants(t);
  });

  test('a return inside the pending window cancels the pending points before they can be spent', async () => {
    app.clock.set('2031-05-01T10:00:00Z');
    const t = await tenant({ pending_days: 14 });
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 5000 }) });
    assert.ok(buy.body.earning.activates_at);
    let b = await balance(t, m);
    assert.deepEqual([b.available, b.pending], [0, 50]);
    await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 5000 }) });
    b = await balance(t, m);
    assert.deepEqual([b.available, b.pending], [0, 0]);
    await invariants(t);
  });

  test("a return after the points were spent: the 'debt' policy stops at zero and records a debt that later earnings pay", async () => {
    app.clock.reset();
    const t = await tenant({ negative_balance: 'debt' });
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 10000 }) });
    const redeem = await t.api('POST', '/v1/redemptions', { body: { member_id: m, points: 80 } });
    assert.equal(redeem.status, 201, redeem.text);
    await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 5000 }) });
    let b = await balance(t, m);
    assert.deepEqual([b.available, b.debt], [0, 30]);
    await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 4000 }) });
    b = await balance(t, m);
    assert.deepEqual([b.available, b.debt], [10, 0]);
    await invariants(t);
  });

  test("under the 'allow' policy the balance goes negative", async () => {
    app.clock.reset();
    const t = await tenant({ negative_balance: 'allow' });
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 10000 }) });
    await t.api('POST', '/v1/redemptions', { body: { member_id: m, points: 100 } });
    await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 10000 }) });
    assert.equal((await balance(t, m)).available, -100);
    await invariants(t, true);
  });

  test('voiding a purchase reverses what it keeps; voiding a return gives back what it took', async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 10000 }) });
    const ret = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 4000 }) });
    assert.equal((await balance(t, m)).available, 60);
    const v1 = await t.api('POST', `/v1/transactions/${ret.body.id}/void`);
    assert.equal(v1.status, 200, v1.text);
    assert.equal(v1.body.status, 'voided');
    assert.equal((await balance(t, m)).available, 100);
    const v2 = await t.api('POST', `/v1/transactions/${buy.body.id}/void`, { body: { reason: 'test order' } });
    assert.equal(v2.body.status, 'voided');
    assert.equal((await balance(t, m)).available, 0);
    assert.equal((await t.api('POST', `/v1/transactions/${buy.body.id}/void`)).status, 200, 'voiding again answers');
    const late = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 1 }) });
    assert.equal(late.status, 422);
    await invariants(t);
  });

  test('a late order is judged by the rule version in force when it happened', async () => {
    app.clock.set('2031-03-01T12:00:00Z');
    const t = await tenant({}, []);
    const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: 'rate', rate: { points: 1, per_units: 1 }, rounding: 'floor' } });
    app.clock.set('2031-04-01T12:00:00Z');
    const patched = await t.api('PATCH', `/v1/earn-rules/${rule.body.id}`, { body: { rate: { points: 2, per_units: 1 } } });
    assert.equal(patched.status, 200, patched.text);
    const m = await member(t);
    const late = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 1000, occurred_at: '2031-03-15T12:00:00Z' }) });
    assert.equal(late.body.points, 10);
    const now = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 1000 }) });
    assert.equal(now.body.points, 20);
  });

  test('a daily cap per member holds, and a return gives the cap room back', async () => {
    app.clock.set('2031-06-01T09:00:00Z');
    const t = await tenant({}, [{ kind: 'base', name: 'capped', rate: { points: 1, per_units: 1 }, rounding: 'floor', caps: { per_member_day: 50 } }]);
    const m = await member(t);
    const a = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 4000 }) });
    const b = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 4000 }) });
    assert.deepEqual([a.body.points, b.body.points], [40, 10]);
    assert.equal(b.body.earning.explanation[0].capped_by[0], 'per_member_day');
    await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: a.body.id, total: 4000 }) });
    const c = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 4000 }) });
    assert.equal(c.body.points, 40);
    await invariants(t);
  });

  test('docs/ledger.md example 2: a partial return after a partial spend leaves a debt the next order pays', async () => {
    app.clock.reset();
    const t = await tenant({ negative_balance: 'debt' }, [
      { kind: 'base', name: 'base', rate: { points: 1, per_units: 1 }, rounding: 'floor' },
      { kind: 'bonus', name: '100 over 50 EUR', points: 100, condition: { '>=': [{ var: 'basket.eligible_amount' }, 5000] } },
    ]);
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 6000, lines: [{ sku: 'A', quantity: 1, unit_price: 3000 }, { sku: 'B', quantity: 1, unit_price: 3000 }] }) });
    assert.equal(buy.body.points, 160);
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: m, points: 120 } })).status, 201);
    const ret = await t.api('POST', '/v1/transactions', { body: order({ type: 'return', original_id: buy.body.id, total: 3000, lines: [{ sku: 'B', quantity: 1 }] }) });
    assert.equal(ret.body.points, -130);
    let b = await balance(t, m);
    assert.deepEqual([b.available, b.debt], [0, 90]);
    const ledger = await t.api('GET', `/v1/members/${m}/ledger`);
    assert.deepEqual(ledger.body.data.map((e: any) => [e.type, e.points]), [['claw_back', -40], ['redeem', -120], ['earn', 160]]);
    await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 10000 }) });
    b = await balance(t, m);
    assert.deepEqual([b.available, b.debt], [110, 0]);
    await invariants(t);
  });

  test("a rule's own pending period wins over the program's for the points it awards", async () => {
    app.clock.set('2031-05-01T10:00:00Z');
    const t = await tenant({ pending_days: 0 }, [
      { kind: 'base', name: 'base', rate: { points: 1, per_units: 1 }, rounding: 'floor' },
      { kind: 'bonus', name: 'held bonus', points: 50, pending_days: 30 },
    ]);
    const m = await member(t);
    const buy = await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 1000 }) });
    assert.equal(buy.body.earning.activates_at, '2031-05-31T10:00:00.000Z');
    assert.equal((await balance(t, m)).pending, 60);
  });

  test("GDPR: the export holds the member's orders, points, redemptions and events; erasure clears event properties", async () => {
    app.clock.reset();
    const t = await tenant();
    const m = await member(t);
    await t.api('POST', '/v1/transactions', { body: order({ member_id: m, total: 3000 }) });
    await t.api('POST', '/v1/redemptions', { body: { member_id: m, points: 10 } });
    const ev = await t.api('POST', '/v1/events', { body: { name: 'review_written', member_id: m, properties: { text: 'Lovely beans, says Ana from Plovdiv' } } });
    assert.equal(ev.status, 201, ev.text);
    const exp = await t.api('GET', `/v1/members/${m}/export`);
    assert.equal(exp.status, 200, exp.text);
    assert.equal(exp.body.sections.orders.length, 1);
    assert.equal(exp.body.sections.points.balance.available, 20);
    assert.equal(exp.body.sections.points.entries.length, 2);
    assert.equal(exp.body.sections.redemptions.length, 1);
    assert.equal(exp.body.sections.events[0].properties.text, 'Lovely beans, says Ana from Plovdiv');
    assert.equal((await t.api('POST', `/v1/members/${m}/erase`)).status, 200);
    const after = await t.api('GET', `/v1/events/${ev.body.id}`);
    assert.deepEqual(after.body.properties, {});
    assert.equal((await balance(t, m)).available, 20, 'amounts stay');
  });

  test('the preview says what a basket would earn and writes nothing', async () => {
    app.clock.reset();
    const t = await tenant({ pending_days: 14 });
    const m = await member(t);
    const res = await t.api('POST', '/v1/transactions/preview', { body: order({ member_id: m, total: 2500 }) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.points, 25);
    assert.ok(res.body.activates_at);
    assert.equal((await t.api('GET', `/v1/transactions?member_id=${m}`)).body.data.length, 0);
    assert.equal((await balance(t, m)).pending, 0);
  });
});
