import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { evaluateEarn } from './rules.engine.js';
import { evaluateEvent } from './rules.events.js';
import type { EventRule } from './rules.types.js';
import { logicError, validateRule } from './rules.validation.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const fields = (res: { body: any }) => (res.body.errors as { field: string }[]).map((e) => e.field).sort();
const detail = (res: { body: any }, field: string) => (res.body.errors as { field: string; detail: string }[]).find((e) => e.field === field)?.detail ?? '';
const db = () => app.patron.db;
const rules = () => app.patron.services.rules;

async function create(t: TestTenant, body: unknown) {
  const res = await t.api('POST', '/v1/earn-rules', { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

describe('earn rules over HTTP', () => {
  test('creates each kind with defaults filled in, version 1, and earn_rule.created', async () => {
    const t = await app.newTenant();
    const base = await create(t, { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } });
    assert.equal(base.kind, 'base');
    assert.equal(base.version, 1);
    assert.deepEqual(
      { rate: base.rate, rounding: base.rounding, priority: base.priority, active: base.active, caps: base.caps, condition: base.condition, valid_from: base.valid_from, archived_at: base.archived_at },
      { rate: { points: 1, per_units: 1 }, rounding: 'floor', priority: 0, active: true, caps: null, condition: null, valid_from: null, archived_at: null },
    );
    assert.equal(base.points, undefined, 'fields of other kinds are absent');

    const mult = await create(t, {
      kind: 'multiplier', name: 'Double on shoes', factor_percent: 200, line_filter: { '==': [{ var: 'category' }, 'shoes'] },
      condition: { in: [{ var: 'day_of_week' }, [6, 7]] }, stacking: 'best_of', priority: 10, caps: { per_member_day: 500, per_transaction: null },
      valid_from: '2026-03-01T02:00:00+02:00', valid_until: '2026-04-01T00:00:00Z',
    });
    assert.equal(mult.factor_percent, 200);
    assert.equal(mult.stacking, 'best_of');
    assert.equal(mult.rounding, 'floor');
    assert.deepEqual(mult.caps, { per_member_day: 500 });
    assert.equal(mult.valid_from, '2026-03-01T00:00:00.000Z', 'timestamps are stored in UTC');
    assert.deepEqual(mult.line_filter, { '==': [{ var: 'category' }, 'shoes'] });

    const bonus = await create(t, { kind: 'bonus', name: 'First purchase', points: 500, condition: { var: 'first_purchase' }, caps: { total: 100000 } });
    assert.equal(bonus.stacking, 'combine');
    const event = await create(t, { kind: 'event', name: 'Review', event: 'review_written', points: 50, limit: { count: 1, per: 'week' } });
    assert.deepEqual([event.event, event.points, event.limit], ['review_written', 50, { count: 1, per: 'week' }]);
    const signup = await create(t, { kind: 'event', name: 'Welcome', event: 'sign_up', points: 200 });
    assert.equal(signup.limit, null);

    const got = await t.api('GET', `/v1/earn-rules/${mult.id}`);
    assert.deepEqual(got.body, mult);
    const events = await t.api('GET', '/v1/domain-events?type=earn_rule.created');
    assert.equal(events.body.data.length, 5);
    assert.deepEqual(events.body.data[3].payload, { rule_id: event.id, version: 1, kind: 'event', event: 'review_written' });

    // Lists: filters and cursor pages.
    const list = async (q: string) => (await t.api('GET', `/v1/earn-rules${q}`)).body;
    assert.deepEqual((await list('')).data.map((r: any) => r.id), [base.id, mult.id, bonus.id, event.id, signup.id]);
    assert.deepEqual((await list('?kind=event')).data.map((r: any) => r.id), [event.id, signup.id]);
    assert.deepEqual((await list('?event=sign_up')).data.map((r: any) => r.id), [signup.id]);
    const p1 = await list('?limit=2');
    assert.equal(p1.data.length, 2);
    const p2 = await list(`?limit=2&cursor=${p1.next_cursor}`);
    assert.deepEqual(p2.data.map((r: any) => r.id), [bonus.id, event.id]);
    assert.equal((await t.api('GET', '/v1/earn-rules?kind=other')).status, 400);
    assert.equal((await t.api('GET', '/v1/earn-rules?cursor=nonsense')).status, 400);

    // An event rule may move to another event: lists and lookups follow its current version.
    const moved = await t.api('PATCH', `/v1/earn-rules/${signup.id}`, { body: { event: 'app_installed' } });
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual((await list('?event=sign_up')).data, []);
    assert.deepEqual((await list('?event=app_installed')).data.map((r: any) => [r.id, r.version]), [[signup.id, 2]]);
    assert.deepEqual((await rules().eventRulesAt(db(), t.id, 'app_installed', new Date(Date.now() + 60_000))).map((r) => r.id), [signup.id]);
    assert.deepEqual((await rules().eventRulesAt(db(), t.id, 'sign_up', new Date('2020-01-01T00:00:00Z'))).map((r) => r.version), [1]);

    // A write key may read but not change rules.
    const writeKey = await t.keyWith(['write']);
    assert.equal((await t.api('GET', '/v1/earn-rules', { key: writeKey })).status, 200);
    assert.equal((await t.api('POST', '/v1/earn-rules', { key: writeKey, body: { kind: 'bonus', name: 'x', points: 1 } })).status, 403);
  });

  test('validation names every bad field', async () => {
    const t = await app.newTenant();
    const post = (body: unknown) => t.api('POST', '/v1/earn-rules', { body });
    let res = await post({ kind: 'base', name: '', rate: { points: 0, per_units: 2_000_000_000 }, rounding: 'up', priority: 2_000_000, points: 5 });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(fields(res), ['name', 'points', 'priority', 'rate.per_units', 'rate.points', 'rounding']);
    assert.match(detail(res, 'points'), /not used by base rules/);

    res = await post({ kind: 'base', name: 'No rate' });
    assert.deepEqual(fields(res), ['rate']);
    res = await post({ kind: 'multiplier', name: 'x', factor_percent: 100, stacking: 'sometimes' });
    assert.deepEqual(fields(res), ['factor_percent', 'stacking']);
    res = await post({ kind: 'bonus', name: 'x', points: 0, caps: { per_transaction: 0, daily: 5 } });
    assert.deepEqual(fields(res), ['caps.daily', 'caps.per_transaction', 'points']);
    res = await post({ kind: 'event', name: 'x', event: 'Bad Name', points: 10, limit: { count: 0, per: 'hour' }, caps: { per_member_day: 5 } });
    assert.deepEqual(fields(res), ['caps.per_member_day', 'event', 'limit.count', 'limit.per']);
    res = await post({ kind: 'event', name: 'x', points: 10 });
    assert.deepEqual(fields(res), ['event']);
    res = await post({ kind: 'bonus', name: 'x', points: 1, valid_from: '2026-04-01T00:00:00Z', valid_until: '2026-03-01T00:00:00Z' });
    assert.deepEqual(fields(res), ['valid_until']);
    res = await post({ kind: 'bonus', name: 'x', points: 1, valid_from: '2026-02-30T00:00:00Z' });
    assert.deepEqual(fields(res), ['valid_from']);
    res = await post({ kind: 'loyalty', name: 'x' });
    assert.deepEqual(fields(res), ['kind']);
    res = await post({ name: 'x', points: 1, id: 'mine' });
    assert.deepEqual(fields(res), ['id', 'kind']);
  });

  test('JSON Logic conditions: unknown operators, non-logic objects, size and depth are a 400 naming the field', async () => {
    const t = await app.newTenant();
    const post = (body: unknown) => t.api('POST', '/v1/earn-rules', { body: { kind: 'bonus', name: 'x', points: 1, ...(body as object) } });
    let res = await post({ condition: { '===': [{ var: 'channel' }, 'online'] } });
    assert.equal(res.status, 201, res.text);

    res = await post({ condition: { bogus_op: [1, 2] } });
    assert.equal(res.status, 400);
    assert.deepEqual(fields(res), ['condition']);
    assert.match(detail(res, 'condition'), /Unrecognized operation/);
    // An unknown operator in a branch that the sample data never reaches is found too.
    res = await post({ condition: { if: [false, { nope: [] }, true] } });
    assert.deepEqual(fields(res), ['condition']);
    res = await post({ condition: { and: [true, { '==': [1, 1], '!=': [1, 2] }] } });
    assert.match(detail(res, 'condition'), /one operator/);
    res = await post({ condition: {} });
    assert.deepEqual(fields(res), ['condition']);
    res = await post({ condition: { log: 'x' } });
    assert.match(detail(res, 'condition'), /log/);
    res = await post({ condition: 'channel == online' });
    assert.deepEqual(fields(res), ['condition']);
    res = await post({ condition: { in: [{ var: 'sku' }, Array.from({ length: 3000 }, (_, i) => `SKU-${i}`)] } });
    assert.match(detail(res, 'condition'), /bytes/);
    let deep: unknown = { var: 'x' };
    for (let i = 0; i < 15; i++) deep = { '!': [deep] };
    res = await post({ condition: deep });
    assert.match(detail(res, 'condition'), /deeper/);
    res = await post({ condition: { '==': [{ var: 'x' }, 'a\u0000b'] } });
    assert.deepEqual(fields(res), ['condition']);
    // line_filter too, on a multiplier.
    res = await t.api('POST', '/v1/earn-rules', { body: { kind: 'multiplier', name: 'x', factor_percent: 200, line_filter: { matches: ['shoes'] } } });
    assert.deepEqual(fields(res), ['line_filter']);
    // A PATCH with a bad condition names it as well.
    const ok = await create(t, { kind: 'bonus', name: 'fine', points: 1 });
    res = await t.api('PATCH', `/v1/earn-rules/${ok.id}`, { body: { condition: { bad: 1 } } });
    assert.equal(res.status, 400);
    assert.deepEqual(fields(res), ['condition']);

    assert.equal(logicError({ map: [{ var: 'lines' }, { var: 'sku' }] }, 'earn'), null);
    assert.equal(logicError({ some: [{ var: 'lines' }, { '==': [{ var: 'category' }, 'shoes'] }] }, 'earn'), null);
    assert.equal(logicError({ '>=': [{ var: 'event.properties.stars' }, 4] }, 'event'), null);
    assert.deepEqual(validateRule({ kind: 'event', name: 'x', event: 'survey_answered', points: 5, condition: { missing_some: [1, ['a', 'b']] } }), []);
  });

  test('PATCH writes version 2 in force from now; the version in force at an earlier time is still version 1', async () => {
    const t = await app.newTenant();
    app.clock.set('2026-03-01T10:00:00Z');
    try {
      const rule = await create(t, { kind: 'bonus', name: 'Spring bonus', points: 50, priority: 3 });
      app.clock.set('2026-03-10T10:00:00Z');
      const res = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { points: 75, name: 'Spring bonus+' } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.version, 2);
      assert.equal(res.body.points, 75);
      assert.equal(res.body.priority, 3, 'fields not sent are kept');
      assert.equal(res.body.updated_at, '2026-03-10T10:00:00.000Z');
      assert.equal(res.body.created_at, '2026-03-01T10:00:00.000Z');

      const at = async (iso: string) => (await rules().transactionRulesAt(db(), t.id, new Date(iso))).map((r) => [r.id, r.version, (r as any).points]);
      assert.deepEqual(await at('2020-01-01T00:00:00Z'), [[rule.id, 1, 50]], 'the first version covers all earlier time (late orders, imports)');
      assert.deepEqual(await at('2026-03-10T09:59:59.999Z'), [[rule.id, 1, 50]]);
      assert.deepEqual(await at('2026-03-10T10:00:00Z'), [[rule.id, 2, 75]]);
      assert.deepEqual(await at('2030-01-01T00:00:00Z'), [[rule.id, 2, 75]]);

      // null clears an optional field; kind cannot change; unknown fields and nulls for required ones are refused.
      app.clock.set('2026-03-12T10:00:00Z');
      const v3 = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { caps: { per_transaction: 60 } } });
      assert.equal(v3.body.version, 3);
      const v4 = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { caps: null } });
      assert.equal(v4.body.caps, null);
      assert.equal(v4.body.version, 4);
      let bad = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { kind: 'base' } });
      assert.deepEqual(fields(bad), ['kind']);
      bad = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { points: null } });
      assert.deepEqual(fields(bad), ['points']);
      bad = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { rate: { points: 1, per_units: 1 } } });
      assert.deepEqual(fields(bad), ['rate']);
      assert.match(detail(bad, 'rate'), /not used by bonus rules/);
      bad = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: {} });
      assert.equal(bad.status, 400);
      // The same values again: no new version.
      const same = await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { points: 75 } });
      assert.equal(same.body.version, 4);

      const versions = await t.api('GET', `/v1/earn-rules/${rule.id}/versions`);
      assert.equal(versions.status, 200, versions.text);
      assert.deepEqual(versions.body.data.map((v: any) => [v.version, v.points, v.effective_from, v.effective_until]), [
        [1, 50, null, '2026-03-10T10:00:00.000Z'],
        [2, 75, '2026-03-10T10:00:00.000Z', '2026-03-12T10:00:00.000Z'],
        [3, 75, '2026-03-12T10:00:00.000Z', '2026-03-12T10:00:00.000Z'],
        [4, 75, '2026-03-12T10:00:00.000Z', null],
      ]);
      assert.equal(versions.body.data[0].name, 'Spring bonus');
      assert.equal(typeof versions.body.data[0].created_by, 'string');
      const page1 = await t.api('GET', `/v1/earn-rules/${rule.id}/versions?limit=3`);
      const page2 = await t.api('GET', `/v1/earn-rules/${rule.id}/versions?limit=3&cursor=${page1.body.next_cursor}`);
      assert.deepEqual(page2.body.data.map((v: any) => v.version), [4]);
      assert.equal(page2.body.next_cursor, null);

      // A return re-evaluates with the versions that earned it.
      const old = await rules().rulesByVersion(db(), t.id, [{ rule_id: rule.id, version: 1 }, { rule_id: rule.id, version: 9 }, { rule_id: 'not-a-uuid', version: 1 }]);
      assert.deepEqual(old.map((r) => [r.version, (r as any).points]), [[1, 50]]);
      assert.equal(evaluateEarn(old, { currency: 'EUR', total: 1000, occurred_at: '2026-03-05T10:00:00Z' }, { time_zone: 'UTC', tier: null, attributes: {}, first_purchase: false }).points, 50);

      const updated = await t.api('GET', '/v1/domain-events?type=earn_rule.updated');
      assert.deepEqual(updated.body.data[0].payload, { rule_id: rule.id, version: 2, changed_fields: ['name', 'points'] });
    } finally {
      app.clock.reset();
    }
  });

  test('DELETE archives: the rule stops from that moment, stays readable, and cannot be changed', async () => {
    const t = await app.newTenant();
    app.clock.set('2026-05-01T00:00:00Z');
    try {
      const rule = await create(t, { kind: 'base', name: 'Base', rate: { points: 1, per_units: 1 } });
      const ev = await create(t, { kind: 'event', name: 'Review', event: 'review_written', points: 10 });
      app.clock.set('2026-05-20T12:00:00Z');
      const res = await t.api('DELETE', `/v1/earn-rules/${rule.id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.archived_at, '2026-05-20T12:00:00.000Z');
      assert.equal(res.body.version, 1);
      assert.equal((await rules().transactionRulesAt(db(), t.id, new Date('2026-05-20T11:59:59Z'))).length, 1, 'an order before the archive still earns');
      assert.equal((await rules().transactionRulesAt(db(), t.id, new Date('2026-05-20T12:00:00Z'))).length, 0);
      // Archiving again is a no-op; a change is refused.
      assert.equal((await t.api('DELETE', `/v1/earn-rules/${rule.id}`)).body.archived_at, '2026-05-20T12:00:00.000Z');
      assert.equal((await t.api('PATCH', `/v1/earn-rules/${rule.id}`, { body: { name: 'again' } })).status, 422);
      // Hidden from lists unless asked for; readable by id.
      assert.deepEqual((await t.api('GET', '/v1/earn-rules')).body.data.map((r: any) => r.id), [ev.id]);
      assert.deepEqual((await t.api('GET', '/v1/earn-rules?include_archived=true')).body.data.map((r: any) => r.id), [rule.id, ev.id]);
      assert.equal((await t.api('GET', `/v1/earn-rules/${rule.id}`)).body.archived_at, '2026-05-20T12:00:00.000Z');
      // Event rules by name and time.
      assert.deepEqual((await rules().eventRulesAt(db(), t.id, 'review_written', new Date('2026-06-01T00:00:00Z'))).map((r) => r.id), [ev.id]);
      assert.deepEqual(await rules().eventRulesAt(db(), t.id, 'sign_up', new Date('2026-06-01T00:00:00Z')), []);
      assert.deepEqual(await rules().transactionRulesAt(db(), t.id, new Date('2026-04-01T00:00:00Z')).then((r) => r.map((x) => x.kind)), ['base'], 'event rules are not transaction rules');
      assert.equal((await t.api('GET', '/v1/domain-events?type=earn_rule.archived')).body.data.length, 1);
      assert.equal((await t.api('DELETE', `/v1/earn-rules/${crypto.randomUUID()}`)).status, 404);
      assert.equal((await t.api('GET', '/v1/earn-rules/not-a-uuid')).status, 400);
    } finally {
      app.clock.reset();
    }
  });
});

describe('cap counters', () => {
  test('earn usage per member day and month, and the total across members; a return takes it back', async () => {
    const t = await app.newTenant();
    const capped = await create(t, { kind: 'bonus', name: 'Capped', points: 100, caps: { per_member_day: 150, per_member_month: 1000, total: 250 } });
    const plain = await create(t, { kind: 'base', name: 'Base', rate: { points: 1, per_units: 1 } });
    const [m1, m2] = [crypto.randomUUID(), crypto.randomUUID()];
    const earnRules = await rules().transactionRulesAt(db(), t.id, new Date('2026-03-04T12:00:00Z'));
    const order = { currency: 'EUR', total: 1000, occurred_at: '2026-03-04T12:00:00Z' };
    const ctx = { time_zone: 'UTC', tier: null, attributes: {}, first_purchase: false };

    const earn = (member: string) => db().tx(async (tx) => {
      const usage = await rules().earnUsage(tx, t.id, member, earnRules, '2026-03-04', '2026-03');
      assert.deepEqual(Object.keys(usage), [capped.id], 'only rules with per-member or total caps are read');
      const result = evaluateEarn(earnRules, order, { ...ctx, usage });
      await rules().recordEarnUsage(tx, t.id, member, result.cap_usage, 1);
      return result;
    });
    assert.equal((await earn(m1)).points, 10 + 100);
    const second = await earn(m1);
    assert.equal(second.points, 10 + 50, 'the per-member day cap');
    assert.deepEqual(second.explanation.find((e) => e.rule_id === capped.id)!.capped_by, ['per_member_day']);
    const third = await earn(m2);
    assert.equal(third.points, 10 + 100, "another member's day is separate; the total cap has 100 left");
    assert.equal((await earn(m2)).points, 10, 'the total cap is used up');

    const counters = async () => (await db().query(
      `SELECT member_id, period, points, count FROM rule_usage WHERE tenant_id = $1 AND rule_id = $2 ORDER BY member_id, period`, [t.id, capped.id],
    )).rows.map((r) => `${r.member_id === m1 ? 'm1' : r.member_id === m2 ? 'm2' : 'all'} ${r.period} ${r.points}/${r.count}`);
    const all = '00000000-0000-0000-0000-000000000000';
    assert.ok(![m1, m2].includes(all));
    const expected = [`m1 d:2026-03-04 150/2`, `m1 m:2026-03 150/2`, `m2 d:2026-03-04 100/1`, `m2 m:2026-03 100/1`].sort();
    assert.deepEqual((await counters()).filter((c) => !c.startsWith('all')).sort(), expected);
    assert.deepEqual((await counters()).filter((c) => c.startsWith('all')), ['all total 250/3']);
    assert.equal((await db().query(`SELECT count(*)::int AS n FROM rule_usage WHERE tenant_id = $1 AND rule_id = $2`, [t.id, plain.id])).rows[0].n, 0);

    // A return of m1's second order takes its usage back, on the original day.
    await db().tx((tx) => rules().recordEarnUsage(tx, t.id, m1, second.cap_usage, -1));
    assert.ok((await counters()).includes('m1 d:2026-03-04 100/1'));
    assert.ok((await counters()).includes('all total 200/2'));
  });

  test('concurrent orders of different members cannot both spend the last of a total cap', async () => {
    const t = await app.newTenant();
    await create(t, { kind: 'bonus', name: 'Last 100', points: 100, caps: { total: 100 } });
    await create(t, { kind: 'bonus', name: 'Last 200', points: 100, caps: { total: 200 } });
    const earnRules = await rules().transactionRulesAt(db(), t.id, new Date('2026-03-04T12:00:00Z'));
    const results = await Promise.all(Array.from({ length: 6 }, () => db().tx(async (tx) => {
      const member = crypto.randomUUID();
      const usage = await rules().earnUsage(tx, t.id, member, earnRules, '2026-03-04', '2026-03');
      const r = evaluateEarn(earnRules, { currency: 'EUR', total: 0, occurred_at: '2026-03-04T12:00:00Z' }, { time_zone: 'UTC', tier: null, attributes: {}, first_purchase: false, usage });
      await new Promise((resolve) => setTimeout(resolve, 5));
      await rules().recordEarnUsage(tx, t.id, member, r.cap_usage, 1);
      return r.points;
    })));
    assert.equal(results.reduce((a, b) => a + b, 0), 300);
  });

  test('event limits per period in the tenant zone, and event totals', async () => {
    const t = await app.newTenant();
    const weekly = await create(t, { kind: 'event', name: 'Weekly review', event: 'review_written', points: 50, limit: { count: 2, per: 'week' }, caps: { total: 120 } });
    const member = crypto.randomUUID();
    const tz = 'Europe/Sofia';
    const fire = (occurredAt: string) => db().tx(async (tx) => {
      const at = new Date(occurredAt);
      const eventRules: EventRule[] = await rules().eventRulesAt(tx, t.id, 'review_written', at);
      const usage = await rules().eventUsage(tx, t.id, member, eventRules, at, tz);
      const r = evaluateEvent(eventRules, { name: 'review_written', occurred_at: occurredAt, properties: {} }, { time_zone: tz, tier: null, attributes: {}, usage });
      await rules().recordEventAwards(tx, t.id, member, r.awards);
      return r;
    });
    assert.equal((await fire('2026-03-02T10:00:00Z')).points, 50);
    assert.equal((await fire('2026-03-05T10:00:00Z')).points, 50);
    const third = await fire('2026-03-08T21:30:00Z'); // Sunday 23:30 in Sofia: the same ISO week
    assert.equal(third.points, 0);
    assert.equal(third.explanation[0]!.outcome, 'limit_reached');
    const nextWeek = await fire('2026-03-08T22:30:00Z'); // Monday 00:30 in Sofia
    assert.equal(nextWeek.points, 20, 'a new week, but only 20 of the total cap is left');
    assert.equal((await fire('2026-03-09T10:00:00Z')).explanation[0]!.outcome, 'cap_reached');
    const rows = (await db().query(`SELECT member_id, period, points, count FROM rule_usage WHERE tenant_id = $1 AND rule_id = $2 ORDER BY period`, [t.id, weekly.id])).rows;
    assert.deepEqual(rows.map((r) => [r.period, r.points, r.count]), [['total', 120, 3], ['w:2026-W10', 100, 2], ['w:2026-W11', 20, 1]]);
    // Taking an award back (a voided event).
    await db().tx((tx) => rules().recordEventAwards(tx, t.id, member, nextWeek.awards, -1));
    const usage = await db().tx((tx) => rules().eventUsage(tx, t.id, member, [{ ...(weekly as EventRule) }], new Date('2026-03-09T10:00:00Z'), tz));
    assert.deepEqual(usage[weekly.id], { count: 0, total: 100 });
  });
});
