/**
 * Action events through the real HTTP API: limits per member and per day in the tenant's zone, conditions on
 * properties, total caps across members, re-sends, blocked and unknown members, concurrency. Every scenario ends
 * with the ledger's invariants checked.
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

async function tenant(rules: Array<Record<string, unknown>>, opts: { program?: Record<string, unknown>; timeZone?: string } = {}) {
  const t = await app.newTenant();
  if (opts.timeZone) assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: opts.timeZone } })).status, 200);
  if (opts.program) assert.equal((await t.api('PATCH', '/v1/program', { body: opts.program })).status, 200);
  const ids: string[] = [];
  for (const r of rules) {
    const res = await t.api('POST', '/v1/earn-rules', { body: { kind: 'event', ...r } });
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.id);
  }
  return { t, ids };
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

async function invariants(t: TestTenant) {
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

const send = (t: TestTenant, body: Record<string, unknown>) => t.api('POST', '/v1/events', { body });

describe('events', () => {
  test('a once-per-member rule awards once; the answer explains; the ledger entry is an event earning', async () => {
    app.clock.reset();
    const { t, ids } = await tenant([{ name: 'Welcome', event: 'sign_up', points: 500, limit: { count: 1, per: 'ever' } }]);
    const m = await member(t);
    const first = await send(t, { name: 'sign_up', member_id: m });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.points, 500);
    assert.equal(first.body.member_id, m);
    assert.equal(first.body.external_id, null);
    assert.deepEqual(first.body.properties, {});
    assert.deepEqual(first.body.explanation.map((e: any) => [e.rule_id, e.outcome, e.points]), [[ids[0], 'applied', 500]]);
    assert.equal(first.body.body_digest, undefined);
    const second = await send(t, { name: 'sign_up', member_id: m });
    assert.equal(second.status, 201);
    assert.notEqual(second.body.id, first.body.id);
    assert.equal(second.body.points, 0);
    assert.equal(second.body.explanation[0].outcome, 'limit_reached');
    assert.equal((await balance(t, m)).available, 500);
    // Another member has their own "once".
    const other = await member(t);
    assert.equal((await send(t, { name: 'sign_up', member_id: other })).body.points, 500);
    // Events of a name no rule knows are stored and earn nothing.
    const custom = await send(t, { name: 'newsletter.opened', member_id: m });
    assert.equal(custom.status, 201, custom.text);
    assert.deepEqual([custom.body.points, custom.body.explanation], [0, []]);

    const ledger = await t.api('GET', `/v1/members/${m}/ledger`);
    assert.equal(ledger.status, 200, ledger.text);
    const earns = ledger.body.data.filter((e: any) => e.type === 'earn');
    assert.equal(earns.length, 1);
    assert.equal(earns[0].source_type, 'event');
    assert.equal(earns[0].source_id, first.body.id);
    assert.equal(earns[0].points, 500);

    const got = await t.api('GET', `/v1/events/${first.body.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, first.body);
    await invariants(t);
  });

  test("N per day counts in the tenant's time zone, across a local midnight", async () => {
    // 20:00 UTC on 1 June is 23:00 in Sofia (UTC+3 in summer).
    app.clock.set('2031-06-01T20:00:00Z');
    const { t } = await tenant([{ name: 'Two shares a day', event: 'social_share', points: 10, limit: { count: 2, per: 'day' } }], { timeZone: 'Europe/Sofia' });
    const m = await member(t);
    const points = async (extra: Record<string, unknown> = {}) => {
      const res = await send(t, { name: 'social_share', member_id: m, ...extra });
      assert.equal(res.status, 201, res.text);
      return res.body;
    };
    assert.deepEqual([(await points()).points, (await points()).points], [10, 10]);
    const third = await points();
    assert.equal(third.points, 0);
    assert.match(third.explanation[0].detail, /2 per day/);
    // 21:30 UTC is still 1 June in UTC, but 00:30 on 2 June in Sofia: a new day.
    app.clock.advance(90 * 60_000);
    assert.equal((await points()).points, 10);
    // A late event of 1 June (Sofia) is judged by 1 June's count.
    assert.equal((await points({ occurred_at: '2031-06-01T15:00:00Z' })).points, 0);
    assert.equal((await points()).points, 10);
    assert.equal((await points()).points, 0);
    assert.equal((await balance(t, m)).available, 40);
    await invariants(t);
  });

  test('a condition on properties (a review rated 4 or more) and the pending period of the program', async () => {
    app.clock.set('2031-03-10T12:00:00Z');
    const { t } = await tenant([
      { name: 'Good review', event: 'review_written', points: 50, condition: { '>=': [{ var: 'event.properties.rating' }, 4] } },
    ], { program: { pending_days: 14, expiry: { kind: 'after_earning', months: 12, days: 0 } } });
    const m = await member(t);
    const good = await send(t, { name: 'review_written', member_id: m, properties: { rating: 5, product_sku: 'BEANS-1KG' } });
    assert.equal(good.status, 201, good.text);
    assert.equal(good.body.points, 50);
    assert.deepEqual(good.body.properties, { rating: 5, product_sku: 'BEANS-1KG' });
    const bad = await send(t, { name: 'review_written', member_id: m, properties: { rating: 2 } });
    assert.equal(bad.body.points, 0);
    assert.equal(bad.body.explanation[0].outcome, 'condition_false');
    const none = await send(t, { name: 'review_written', member_id: m });
    assert.equal(none.body.points, 0);
    let b = await balance(t, m);
    assert.deepEqual([b.available, b.pending], [0, 50]);
    app.clock.advance(15 * 86_400_000);
    await app.patron.services.ledger.activateDue(app.patron.db, t.id, 'debt');
    b = await balance(t, m);
    assert.deepEqual([b.available, b.pending], [50, 0]);
    await invariants(t);
  });

  test('caps.total limits a rule across all members', async () => {
    app.clock.reset();
    const { t } = await tenant([{ name: 'First 250 points of app installs', event: 'app_installed', points: 100, caps: { total: 250 } }]);
    const ms = [await member(t), await member(t), await member(t), await member(t)];
    const got: number[] = [];
    for (const m of ms) got.push((await send(t, { name: 'app_installed', member_id: m })).body.points);
    assert.deepEqual(got, [100, 100, 50, 0]);
    const last = await t.api('GET', `/v1/events?member_id=${ms[3]}`);
    assert.equal(last.body.data[0].explanation[0].outcome, 'cap_reached');
    const third = await t.api('GET', `/v1/events?member_id=${ms[2]}`);
    assert.deepEqual(third.body.data[0].explanation[0].capped_by, ['total']);
    await invariants(t);
  });

  test('caps.total holds under concurrency across members', async () => {
    app.clock.reset();
    const { t } = await tenant([{ name: 'Survey bonus pool', event: 'survey_answered', points: 100, caps: { total: 500 } }]);
    const ms: string[] = [];
    for (let i = 0; i < 10; i++) ms.push(await member(t));
    const all = await Promise.all(ms.map((m) => send(t, { name: 'survey_answered', member_id: m })));
    assert.ok(all.every((r) => r.status === 201), all.map((r) => r.text).join('\n'));
    assert.equal(all.reduce((s, r) => s + r.body.points, 0), 500);
    await invariants(t);
  });

  test('20 concurrent review_written events with a once-per-member rule award exactly once', async () => {
    app.clock.reset();
    const { t } = await tenant([{ name: 'First review', event: 'review_written', points: 75, limit: { count: 1, per: 'ever' } }]);
    const m = await member(t);
    const all = await Promise.all(Array.from({ length: 20 }, (_, i) => send(t, { name: 'review_written', member_id: m, properties: { n: i } })));
    assert.ok(all.every((r) => r.status === 201), all.map((r) => r.text).join('\n'));
    assert.equal(all.filter((r) => r.body.points > 0).length, 1);
    assert.equal(all.filter((r) => r.body.explanation[0]?.outcome === 'limit_reached').length, 19);
    const b = await balance(t, m);
    assert.equal(b.available, 75);
    assert.equal(b.lifetime_earned, 75);
    await invariants(t);
  });

  test('external_id: a re-send answers 200 with the first result, another body is a 409; concurrent re-sends earn once', async () => {
    app.clock.set('2031-04-01T09:00:00Z');
    const { t } = await tenant([{ name: 'Review', event: 'review_written', points: 20 }]);
    const m = await member(t, { external_id: 'cust-1' });
    const body = { name: 'review_written', member_external_id: 'cust-1', external_id: 'rev-1', properties: { rating: 4 } };
    const first = await send(t, body);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.body.member_id, m);
    assert.equal(first.body.external_id, 'rev-1');
    app.clock.advance(60_000);
    const again = await send(t, { properties: { rating: 4 }, external_id: 'rev-1', member_external_id: 'cust-1', name: 'review_written' });
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.body, first.body);
    const other = await send(t, { ...body, properties: { rating: 5 } });
    assert.equal(other.status, 409, other.text);
    assert.equal(other.body.errors[0].field, 'external_id');
    const byId = await send(t, { ...body, member_external_id: undefined, member_id: m });
    assert.equal(byId.status, 409, 'naming the member another way is another body');
    assert.equal((await balance(t, m)).available, 20);

    const twice = { name: 'review_written', member_id: m, external_id: 'rev-2' };
    const all = await Promise.all(Array.from({ length: 8 }, () => send(t, twice)));
    assert.equal(all.filter((r) => r.status === 201).length, 1, all.map((r) => r.text).join('\n'));
    assert.ok(all.every((r) => r.status === 201 || r.status === 200));
    assert.equal(new Set(all.map((r) => r.body.id)).size, 1);
    assert.equal((await balance(t, m)).available, 40);
    // With an Idempotency-Key as well: the key's answer is replayed.
    const keyed = await t.api('POST', '/v1/events', { body: { ...twice, external_id: 'rev-3' }, headers: { 'idempotency-key': 'ev-key-1' } });
    assert.equal(keyed.status, 201);
    const replay = await t.api('POST', '/v1/events', { body: { ...twice, external_id: 'rev-3' }, headers: { 'idempotency-key': 'ev-key-1' } });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.id, keyed.body.id);
    await invariants(t);
  });

  test('a blocked or erased member: the event is stored, earns nothing, and the explanation says why', async () => {
    app.clock.reset();
    const { t, ids } = await tenant([{ name: 'Profile', event: 'profile_completed', points: 30 }]);
    const blocked = await member(t);
    assert.equal((await t.api('POST', `/v1/members/${blocked}/block`, { body: { reason: 'fraud' } })).status, 200);
    const res = await send(t, { name: 'profile_completed', member_id: blocked });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.points, 0);
    assert.deepEqual(res.body.explanation.map((e: any) => [e.rule_id, e.outcome, e.points]), [[ids[0], 'member_blocked', 0]]);
    assert.match(res.body.explanation[0].detail, /blocked/);
    const erased = await member(t);
    assert.equal((await t.api('POST', `/v1/members/${erased}/erase`)).status, 200);
    const gone = await send(t, { name: 'profile_completed', member_id: erased });
    assert.equal(gone.status, 201, gone.text);
    assert.equal(gone.body.points, 0);
    assert.equal(gone.body.explanation[0].outcome, 'member_erased');
    assert.equal((await balance(t, blocked)).available, 0);
    // Unblocked, the member earns again.
    assert.equal((await t.api('POST', `/v1/members/${blocked}/unblock`)).status, 200);
    assert.equal((await send(t, { name: 'profile_completed', member_id: blocked })).body.points, 30);
    await invariants(t);
  });

  test('an unknown member is a 422 naming the field; bad input is a 400 naming every field', async () => {
    app.clock.reset();
    const { t } = await tenant([{ name: 'Sign-up', event: 'sign_up', points: 5 }]);
    const unknownId = await send(t, { name: 'sign_up', member_id: '0190a7d0-0000-7000-8000-000000000000' });
    assert.equal(unknownId.status, 422, unknownId.text);
    assert.equal(unknownId.body.errors[0].field, 'member_id');
    const unknownExt = await send(t, { name: 'sign_up', member_external_id: 'nobody' });
    assert.equal(unknownExt.status, 422);
    assert.equal(unknownExt.body.errors[0].field, 'member_external_id');
    assert.equal((await t.api('GET', '/v1/members?external_id=nobody')).body.data.length, 0, 'no enrolment');

    const m = await member(t, { external_id: 'cust-x' });
    const neither = await send(t, { name: 'sign_up' });
    assert.equal(neither.status, 400);
    assert.equal(neither.body.errors[0].field, 'member_id');
    const both = await send(t, { name: 'sign_up', member_id: m, member_external_id: 'cust-x' });
    assert.equal(both.status, 400);
    assert.equal(both.body.errors[0].field, 'member_external_id');
    const many = await send(t, { name: 'Sign Up', member_id: m, occurred_at: new Date(app.clock.now().getTime() + 3_600_000).toISOString(), colour: 'red' });
    assert.equal(many.status, 400, many.text);
    const fields = many.body.errors.map((e: any) => e.field).sort();
    assert.deepEqual(fields, ['colour', 'name', 'occurred_at']);
    const soon = await send(t, { name: 'sign_up', member_id: m, occurred_at: new Date(app.clock.now().getTime() + 60_000).toISOString() });
    assert.equal(soon.status, 201, 'a little clock skew is still now');
    const big = await send(t, { name: 'sign_up', member_id: m, properties: { text: 'x'.repeat(5000) } });
    assert.equal(big.status, 400);
    assert.equal(big.body.errors[0].field, 'properties');
    const nul = await send(t, { name: 'sign_up', member_id: m, properties: { text: 'a\u0000b' } });
    assert.equal(nul.status, 400);
    assert.match(nul.body.errors[0].detail, /NUL/);
    const notObject = await send(t, { name: 'sign_up', member_id: m, properties: [1, 2] });
    assert.equal(notObject.status, 400);
    assert.equal(notObject.body.errors[0].field, 'properties');
    const deep = await send(t, { name: 'sign_up', member_id: m, properties: JSON.parse('{"a":'.repeat(20) + '1' + '}'.repeat(20)) });
    assert.equal(deep.status, 400);
    assert.equal((await t.api('GET', '/v1/events/not-a-uuid')).status, 400);
    assert.equal((await t.api('GET', '/v1/events/0190a7d0-0000-7000-8000-000000000000')).status, 404);
    await invariants(t);
  });

  test('lists: newest first, by member and by name, in cursor pages; event.recorded carries no properties', async () => {
    app.clock.reset();
    const { t } = await tenant([{ name: 'Share', event: 'social_share', points: 1 }]);
    const a = await member(t);
    const b = await member(t);
    const made: string[] = [];
    for (const [m, name] of [[a, 'social_share'], [a, 'survey_answered'], [b, 'social_share'], [a, 'social_share'], [a, 'social_share']] as const) {
      const res = await send(t, { name, member_id: m, properties: { secret: 'do-not-emit' } });
      assert.equal(res.status, 201, res.text);
      made.push(res.body.id);
    }
    const all = await t.api('GET', '/v1/events');
    assert.deepEqual(all.body.data.map((e: any) => e.id), [...made].reverse());
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.api('GET', `/v1/events?member_id=${a}&name=social_share&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.body.data.map((e: any) => e.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [made[4], made[3], made[0]]);
    assert.equal((await t.api('GET', '/v1/events?cursor=nonsense')).status, 400);
    assert.equal((await t.api('GET', '/v1/events?name=Bad Name')).status, 400);

    const emitted = await t.api('GET', '/v1/domain-events?type=event.recorded');
    assert.equal(emitted.status, 200, emitted.text);
    assert.equal(emitted.body.data.length, 5);
    const ev = emitted.body.data.find((e: any) => e.aggregate_id === made[0]);
    assert.ok(ev, emitted.text);
    assert.equal(ev.payload.event_id, made[0]);
    assert.equal(ev.payload.member_id, a);
    assert.equal(ev.payload.name, 'social_share');
    assert.equal(ev.payload.points, 1);
    assert.ok(!emitted.text.includes('do-not-emit'), 'no properties in domain events');
    await invariants(t);
  });
});
