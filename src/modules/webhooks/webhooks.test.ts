/**
 * Webhooks against a real PostgreSQL and a real HTTP receiver on loopback: Standard Webhooks signatures checked with
 * the official package, retries walked through the schedule on the settable clock, order per member, secret
 * rotation, disabling after 5 days of failures, replays and the delivery log. Jobs run on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { startReceiver, verifyAsSent, type Receiver } from '../../../test/receiver.js';
import { EVENT_CATALOG } from '../../platform/outbox/catalog.js';
import { emitMany } from '../../platform/outbox/outbox.js';
import { insertSkip } from '../../platform/outbox/skips.js';
import { newId } from '../../platform/ids.js';
import { RETRY_DELAYS_MS, JITTER } from './webhooks.retry.js';
import { newSecret } from './webhooks.signing.js';
import { PER_ENDPOINT, WebhooksService, type NotifyDisabled } from './webhooks.service.js';
import * as store from './webhooks.store.js';

let app: TestApp;
const receivers: Receiver[] = [];
// After 2030 (test/helpers.ts): nothing of these tests is due on the real clock of other test processes' pumps.
const T0 = new Date('2031-05-01T10:00:00Z');
const HOUR = 3600_000;
const DAY = 24 * HOUR;

before(async () => {
  app = await startTestApp();
});
after(async () => {
  for (const r of receivers) await r.close();
  await app.close();
});

async function receiver(answer?: Receiver['answer']): Promise<Receiver> {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

async function endpoint(t: TestTenant, url: string, body: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
  const res = await t.api('POST', '/v1/webhooks/endpoints', { body: { url, event_types: ['*'], ...body } });
  assert.equal(res.status, 201, res.text);
  assert.match(res.body.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  return { id: res.body.id, secret: res.body.secret };
}

async function member(t: TestTenant, name = 'Ana'): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { first_name: name } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function rename(t: TestTenant, id: string, name: string): Promise<void> {
  const res = await t.api('PATCH', `/v1/members/${id}`, { body: { first_name: name } });
  assert.equal(res.status, 200, res.text);
}

/** The outbox handed out, then the due deliveries sent (what the two pumps do). */
async function pump(t: TestTenant): Promise<void> {
  await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
  await app.patron.jobs.runNow('webhooks.deliver', { tenant_id: t.id });
}

async function deliveries(t: TestTenant, query: string): Promise<any[]> {
  const res = await t.api('GET', `/v1/webhooks/deliveries?limit=500&${query}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

async function delivery(t: TestTenant, id: string): Promise<any> {
  const res = await t.api('GET', `/v1/webhooks/deliveries/${id}`);
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function eventsOf(t: TestTenant, type: string): Promise<any[]> {
  const res = await t.api('GET', `/v1/domain-events?type=${type}&limit=500`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

const forMember = (rx: Receiver, type: string, memberId: string) => rx.of(type).filter((r) => r.json.data.member_id === memberId);

describe('signing and the payload', () => {
  test('a delivery is signed per Standard Webhooks: the official package verifies it, a wrong secret does not', async () => {
    app.clock.set(T0);
    const t = await app.newTenant();
    const rx = await receiver();
    const ep = await endpoint(t, rx.url);
    const m = await member(t);
    await pump(t);

    const [got] = forMember(rx, 'member.created', m);
    assert.ok(got, 'member.created arrived');
    const [event] = (await eventsOf(t, 'member.created')).filter((e) => e.aggregate_id === m);
    assert.equal(got.headers['webhook-id'], event.id, 'webhook-id is the event id');
    assert.equal(got.headers['webhook-timestamp'], String(T0.getTime() / 1000), 'webhook-timestamp: when it was sent, by the clock');
    assert.match(got.headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]{43}=$/, 'one signature');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.deepEqual(verifyAsSent(ep.secret, got), JSON.parse(got.body));
    assert.throws(() => verifyAsSent(newSecret(), got), /No matching signature/);
    // A body changed in transit fails too.
    assert.throws(() => verifyAsSent(ep.secret, { ...got, body: got.body.replace('member.created', 'member.updated') }), /No matching signature/);

    // The documented shape, in this key order.
    assert.equal(got.body, JSON.stringify({
      type: 'member.created',
      timestamp: new Date(event.occurred_at).toISOString(),
      data: { id: event.id, aggregate_type: 'member', aggregate_id: m, member_id: m, payload: { member_id: m } },
    }));

    const [d] = await deliveries(t, `event_type=member.created&member_id=${m}`);
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 1);
    assert.equal(d.last_status_code, 200);
    const e = (await t.api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    assert.equal(e.last_success_at, T0.toISOString());
    assert.equal(e.failing_since, null);
    // The endpoint's own creation is an event it receives too (delivering it causes no further event).
    assert.equal(rx.of('webhook_endpoint.created').length, 1);
    assert.deepEqual(rx.of('webhook_endpoint.created')[0]!.json.data.payload, { endpoint_id: ep.id, event_types: ['*'], status: 'active' }, 'no secret (nor URL) in an event');
  });

  test('the fan-out makes one delivery per event for each active endpoint subscribed to its type', async () => {
    app.clock.set(T0);
    const t = await app.newTenant();
    const rx = await receiver();
    const all = await endpoint(t, rx.url);
    await endpoint(t, rx.url, { status: 'disabled' });
    // Made through the store: on this branch the catalog (which the API validates against) may still be empty.
    const updatesOnly = newId();
    await store.insertEndpoint(app.patron.db, t.id, {
      id: updatesOnly, url: rx.url, description: '', event_types: ['member.updated'], status: 'active', disabled_reason: null, disabled_at: null,
      failing_since: null, last_success_at: null, created_at: T0, updated_at: T0,
    });
    await store.insertSecret(app.patron.db, t.id, updatesOnly, newSecret(), T0);
    const m = await member(t);
    await rename(t, m, 'Ana Maria');
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    const mine = await deliveries(t, `member_id=${m}`);
    const pairs = mine.map((d) => `${d.endpoint_id === all.id ? 'all' : d.endpoint_id === updatesOnly ? 'updates' : 'other'}:${d.event_type}`).sort();
    assert.deepEqual(pairs, ['all:member.created', 'all:member.updated', 'updates:member.updated']);
    assert.ok(mine.every((d) => d.status === 'pending' && d.kind === 'event' && d.attempts === 0));
  });
});

describe('retries', () => {
  test('a receiver that fails 5 times then succeeds: 6 attempts through the backoff, the same bytes each time', async () => {
    app.clock.set(new Date(T0.getTime() + 30 * DAY));
    const t = await app.newTenant();
    const rx = await receiver((r) => (r.json?.type === 'member.created' && rx.of('member.created').length <= 5 ? 500 : 200));
    const ep = await endpoint(t, rx.url);
    const m = await member(t);
    await pump(t);
    const [first] = await deliveries(t, `event_type=member.created&member_id=${m}`);
    assert.equal(first.attempts, 1);

    for (let i = 1; i <= 5; i++) {
      const d = await delivery(t, first.id);
      assert.equal(d.status, 'pending', `after attempt ${i}`);
      assert.equal(d.attempts, i);
      assert.equal(d.last_status_code, 500);
      const due = new Date(d.next_attempt_at);
      if (i === 1) {
        // Not a moment early.
        app.clock.set(new Date(due.getTime() - 1));
        await pump(t);
        assert.equal(rx.of('member.created').length, 1, 'nothing sent before the retry is due');
      }
      app.clock.set(due);
      await pump(t);
    }

    const done = await delivery(t, first.id);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 6);
    assert.ok(done.finished_at);
    assert.deepEqual(done.attempt_log.map((a: any) => a.status_code), [500, 500, 500, 500, 500, 200]);
    assert.ok(done.attempt_log.every((a: any) => Number.isInteger(a.duration_ms) && a.duration_ms >= 0));
    assert.equal(done.attempt_log[0].response_body, 'answer 500');
    // Each gap is its step of the schedule, within the jitter.
    for (let k = 0; k < 5; k++) {
      const gap = Date.parse(done.attempt_log[k + 1].attempted_at) - Date.parse(done.attempt_log[k].attempted_at);
      const nominal = RETRY_DELAYS_MS[k]!;
      assert.ok(gap >= nominal * (1 - JITTER) - 1 && gap <= nominal * (1 + JITTER) + 1, `retry ${k + 1}: ${gap} ms for ${nominal} ms`);
    }
    const sent = rx.of('member.created');
    assert.equal(sent.length, 6);
    assert.equal(new Set(sent.map((r) => r.body)).size, 1, 'the body is byte-identical on every attempt');
    assert.equal(new Set(sent.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id');
    for (const r of sent) verifyAsSent(ep.secret, r);
  });

  test('a receiver answering 410 Gone: the delivery fails at once and the endpoint is disabled', async () => {
    app.clock.set(new Date(T0.getTime() + 40 * DAY));
    const t = await app.newTenant();
    const rx = await receiver((r) => (r.json?.type === 'member.created' ? 410 : 200));
    const ep = await endpoint(t, rx.url);
    const m = await member(t);
    await pump(t);
    const [d] = await deliveries(t, `member_id=${m}`);
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 1);
    const e = (await t.api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    assert.equal(e.status, 'disabled');
    assert.equal(e.disabled_reason, 'gone');
    assert.equal((await eventsOf(t, 'webhook_endpoint.disabled')).length, 1);
  });
});

describe('order per member', () => {
  test("a member's next event waits while the previous one is retried; other members and replays are not held up", async () => {
    app.clock.set(new Date(T0.getTime() + 50 * DAY));
    const t = await app.newTenant();
    let failedOnce = false;
    const rx = await receiver((r) => {
      if (!failedOnce && r.json?.type === 'member.updated' && r.json.data.member_id === a) {
        failedOnce = true;
        return 503;
      }
      return 200;
    });
    await endpoint(t, rx.url);
    const a = await member(t, 'A');
    const b = await member(t, 'B');
    await pump(t);
    assert.equal(forMember(rx, 'member.created', a).length, 1);
    assert.equal(forMember(rx, 'member.created', b).length, 1);

    await rename(t, a, 'A1');
    await rename(t, a, 'A2');
    await rename(t, b, 'B1');
    await pump(t);
    const [a2, a1] = await deliveries(t, `member_id=${a}&event_type=member.updated`); // newest first
    assert.ok(a1.event_seq < a2.event_seq);
    assert.deepEqual([a1.status, a1.attempts, a1.last_status_code], ['pending', 1, 503]);
    assert.deepEqual([a2.status, a2.attempts], ['pending', 0], "A's second update waits for the first");
    assert.equal(forMember(rx, 'member.updated', b).length, 1, "B's update is not held up by A");
    assert.equal((await deliveries(t, `member_id=${b}&event_type=member.updated`))[0].status, 'succeeded');

    // A replay of A's creation goes out at once, although A has an update pending.
    const [created] = await deliveries(t, `member_id=${a}&event_type=member.created`);
    const replay = await t.api('POST', `/v1/webhooks/deliveries/${created.id}/replay`);
    assert.equal(replay.status, 202, replay.text);
    assert.equal(replay.body.kind, 'replay');
    await pump(t);
    assert.equal(forMember(rx, 'member.created', a).length, 2, 'the replay was sent');
    assert.equal((await delivery(t, a2.id)).attempts, 0, 'the replay did not release the waiting update either');

    // The retry is due: the first update, then the second, in that order, in one run.
    app.clock.set(new Date((await delivery(t, a1.id)).next_attempt_at));
    await pump(t);
    const updates = forMember(rx, 'member.updated', a).map((r) => r.headers['webhook-id']);
    assert.deepEqual(updates, [a1.event_id, a1.event_id, a2.event_id]);
    assert.equal((await delivery(t, a1.id)).status, 'succeeded');
    assert.equal((await delivery(t, a2.id)).status, 'succeeded');
  });
});

describe('secret rotation', () => {
  test('during the overlap both secrets sign; after it only the new one', async () => {
    const at = new Date(T0.getTime() + 60 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const rx = await receiver();
    const ep = await endpoint(t, rx.url);
    const bad = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, { body: { overlap_hours: 169 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'overlap_hours');

    const rotated = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, { body: { overlap_hours: 24 } });
    assert.equal(rotated.status, 200, rotated.text);
    const next: string = rotated.body.secret;
    assert.notEqual(next, ep.secret);
    assert.equal(rotated.body.previous_expires_at, new Date(at.getTime() + 24 * HOUR).toISOString());
    const shown = await t.api('GET', `/v1/webhooks/endpoints/${ep.id}/secret`);
    assert.equal(shown.body.secret, next);
    assert.equal(shown.body.previous_expires_at, rotated.body.previous_expires_at);
    const rotatedEvent = (await eventsOf(t, 'webhook_endpoint.secret_rotated'))[0];
    assert.deepEqual(Object.keys(rotatedEvent.payload).sort(), ['endpoint_id', 'overlap_hours', 'previous_expires_at']);

    const m1 = await member(t);
    app.clock.set(new Date(at.getTime() + 23 * HOUR));
    await pump(t);
    const [during] = forMember(rx, 'member.created', m1);
    assert.equal(during!.headers['webhook-signature']!.split(' ').length, 2, 'two signatures during the overlap');
    verifyAsSent(ep.secret, during!);
    verifyAsSent(next, during!);

    app.clock.set(new Date(at.getTime() + 24 * HOUR + 1000));
    const m2 = await member(t);
    await pump(t);
    const [later] = forMember(rx, 'member.created', m2);
    assert.equal(later!.headers['webhook-signature']!.split(' ').length, 1, 'one signature after the overlap');
    verifyAsSent(next, later!);
    assert.throws(() => verifyAsSent(ep.secret, later!), /No matching signature/);
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${ep.id}/secret`)).body.previous_expires_at, null);

    // overlap_hours 0: the previous secret stops at once.
    const now = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/rotate-secret`, { body: { overlap_hours: 0 } });
    const m3 = await member(t);
    await pump(t);
    const [after0] = forMember(rx, 'member.created', m3);
    assert.equal(after0!.headers['webhook-signature']!.split(' ').length, 1);
    verifyAsSent(now.body.secret, after0!);
  });
});

describe('disabling', () => {
  test('5 days of failed attempts disable the endpoint and tell the tenant; re-enabling sends what waited', async () => {
    const start = new Date(T0.getTime() + 70 * DAY);
    app.clock.set(start);
    const t = await app.newTenant();
    const rx = await receiver(() => 500);
    const told: Array<Parameters<NotifyDisabled>[2] & { tenantId: string }> = [];
    const svc = new WebhooksService({ clock: app.clock, log: app.patron.logger, allowPrivateNetworks: true, notifyDisabled: async (_tx, tenantId, info) => void told.push({ tenantId, ...info }) });
    const send = async () => {
      await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
      await svc.deliverDue(app.patron.db, { tenantId: t.id });
    };
    const ep = await endpoint(t, rx.url);
    await send();
    let e = (await t.api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    assert.equal(e.failing_since, start.toISOString());

    app.clock.set(new Date(start.getTime() + 5 * DAY - 60_000));
    await member(t);
    await send();
    e = (await t.api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    assert.equal(e.status, 'active', 'not yet 5 days');
    assert.equal(told.length, 0);

    app.clock.set(new Date(start.getTime() + 5 * DAY + 60_000));
    await member(t);
    await send();
    e = (await t.api('GET', `/v1/webhooks/endpoints/${ep.id}`)).body;
    assert.equal(e.status, 'disabled');
    assert.equal(e.disabled_reason, 'failing');
    assert.equal(e.failing_since, start.toISOString());
    assert.deepEqual(told, [{ tenantId: t.id, endpointId: ep.id, url: rx.url, failingSince: start, reason: 'failing' }]);
    const disabled = (await eventsOf(t, 'webhook_endpoint.disabled')).filter((x) => x.aggregate_id === ep.id);
    assert.equal(disabled.length, 1);
    assert.deepEqual(disabled[0].payload, { endpoint_id: ep.id, reason: 'failing', failing_since: start.toISOString() });

    // Disabled: its pending deliveries stay pending and nothing is sent, however long we wait.
    const pending = await deliveries(t, `endpoint_id=${ep.id}&status=pending`);
    assert.ok(pending.length >= 2);
    const sentSoFar = rx.requests.length;
    app.clock.set(new Date(start.getTime() + 6 * DAY));
    await send();
    assert.equal(rx.requests.length, sentSoFar);

    // Re-enabled by hand: the failing clock restarts and what waited goes out.
    rx.answer = () => 200;
    const enabled = await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'active' } });
    assert.equal(enabled.status, 200, enabled.text);
    assert.deepEqual([enabled.body.status, enabled.body.disabled_reason, enabled.body.failing_since], ['active', null, null]);
    await pump(t);
    assert.deepEqual(await deliveries(t, `endpoint_id=${ep.id}&status=pending`), []);
    for (const d of pending) assert.equal((await delivery(t, d.id)).status, 'succeeded');
    assert.equal(told.length, 1);
  });

  test('disabling by hand: disabled_reason manual and webhook_endpoint.disabled', async () => {
    app.clock.set(new Date(T0.getTime() + 80 * DAY));
    const t = await app.newTenant();
    const ep = await endpoint(t, 'https://hooks.example.com/x');
    const res = await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'disabled', description: 'paused' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.status, res.body.disabled_reason, res.body.description], ['disabled', 'manual', 'paused']);
    const [upd] = (await eventsOf(t, 'webhook_endpoint.updated'));
    assert.deepEqual(upd.payload, { endpoint_id: ep.id, changed_fields: ['description', 'status'], status: 'disabled' });
    assert.equal((await eventsOf(t, 'webhook_endpoint.disabled'))[0].payload.reason, 'manual');
  });
});

describe('replay', () => {
  test('one delivery and a time range (failed only, or all), with the same webhook-id and bytes', async () => {
    const at = new Date(T0.getTime() + 90 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    let gone = false;
    const rx = await receiver((r) => {
      if (!gone && r.json?.type === 'member.updated') {
        gone = true;
        return 410;
      }
      return 200;
    });
    const ep = await endpoint(t, rx.url);
    const m = await member(t);
    await rename(t, m, 'Changed');
    await pump(t);
    const [updated] = await deliveries(t, `member_id=${m}&event_type=member.updated`);
    assert.equal(updated.status, 'failed');
    assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'active' } })).status, 200);

    // One delivery.
    const [created] = await deliveries(t, `member_id=${m}&event_type=member.created`);
    const one = await t.api('POST', `/v1/webhooks/deliveries/${created.id}/replay`);
    assert.equal(one.status, 202, one.text);
    assert.deepEqual([one.body.kind, one.body.status, one.body.event_id, one.body.endpoint_id], ['replay', 'pending', created.event_id, ep.id]);
    await pump(t);
    const twice = forMember(rx, 'member.created', m);
    assert.equal(twice.length, 2);
    assert.equal(twice[0]!.body, twice[1]!.body);
    assert.equal(twice[0]!.headers['webhook-id'], twice[1]!.headers['webhook-id']);
    assert.equal((await delivery(t, one.body.id)).status, 'succeeded');

    // A range: by default only what failed and never succeeded.
    const range = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + HOUR).toISOString() };
    const failed = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: range });
    assert.equal(failed.status, 202, failed.text);
    assert.deepEqual(failed.body, { endpoint_id: ep.id, replayed: 1 });
    await pump(t);
    assert.equal(forMember(rx, 'member.updated', m).length, 2);
    assert.equal(forMember(rx, 'member.updated', m)[1]!.answered, 200);
    assert.deepEqual((await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: range })).body.replayed, 0, 'nothing failed is left');

    // status all: every event of the range.
    const inRange = await app.patron.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3`, [t.id, range.from, range.to]);
    const all = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: { ...range, status: 'all' } });
    assert.equal(all.body.replayed, inRange.rows[0].n);
    assert.ok(all.body.replayed >= 4);
    const outside = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: { from: range.to, to: new Date(at.getTime() + 2 * HOUR).toISOString(), status: 'all' } });
    assert.equal(outside.body.replayed, 0);
    const backwards = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: { from: range.to, to: range.from } });
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.errors[0].field, 'to');
  });

  test('a range of more than 10,000 events is a 422', async () => {
    const at = new Date(T0.getTime() + 100 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const ep = await endpoint(t, 'https://hooks.example.com/x', { status: 'disabled' });
    await app.patron.db.tx((tx) => emitMany(tx, Array.from({ length: 10_001 }, (_, i) => ({
      tenantId: t.id, type: 'member.updated', aggregateType: 'member', aggregateId: newId(), payload: {}, occurredAt: new Date(at.getTime() - 1000 - i),
    }))));
    const body = { from: new Date(at.getTime() - HOUR).toISOString(), to: at.toISOString(), status: 'all' };
    const res = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body });
    assert.equal(res.status, 422, res.text);
    assert.equal(res.body.errors[0].field, 'to');
    assert.equal((await deliveries(t, `endpoint_id=${ep.id}`)).length, 0, 'nothing queued');
    const half = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: { ...body, from: new Date(at.getTime() - 1000 - 4999).toISOString() } });
    assert.equal(half.status, 202, half.text);
    assert.equal(half.body.replayed, 5000);
  });
});

describe('endpoints and the delivery log over HTTP', () => {
  test('validation: the URL, event types, unknown fields', async () => {
    const t = await app.newTenant();
    const bad = async (body: Record<string, unknown>) => {
      const res = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: 'https://hooks.example.com/x', event_types: ['*'], ...body } });
      assert.equal(res.status, 400, res.text);
      return res.body.errors.map((e: any) => e.field);
    };
    assert.deepEqual(await bad({ url: 'ftp://hooks.example.com/x' }), ['url']);
    assert.deepEqual(await bad({ url: 'not a url' }), ['url']);
    assert.deepEqual(await bad({ url: 'http://hooks.example.com/x' }), ['url'], 'plain http only for local hosts');
    assert.deepEqual(await bad({ url: 'https://user:pw@hooks.example.com/x' }), ['url']);
    assert.deepEqual(await bad({ event_types: [] }), ['event_types']);
    assert.deepEqual(await bad({ event_types: ['*', 'member.created'] }), EVENT_CATALOG.length ? ['event_types[0]'] : ['event_types[0]', 'event_types[1]']);
    assert.deepEqual(await bad({ secret: 'mine' }), ['secret']);
    for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://receiver:3000/x', 'http://shop.test/x', 'http://[::1]:9/x']) {
      const ok = await t.api('POST', '/v1/webhooks/endpoints', { body: { url, event_types: ['*'], status: 'disabled' } });
      assert.equal(ok.status, 201, `${url}: ${ok.text}`);
    }
  });

  test('an unknown event type is a 400 naming event_types[i]', async () => {
    const t = await app.newTenant();
    const res = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: 'https://hooks.example.com/x', event_types: ['member.created', 'nope.nothing'] } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body.errors.map((e: any) => e.field), ['event_types[1]']);
    const ok = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: 'https://hooks.example.com/x', event_types: ['member.created', 'member.updated'] } });
    assert.equal(ok.status, 201, ok.text);
  });

  test('the secret is shown once at creation and to admin keys only; the log lists, filters, pages and shows attempts', async () => {
    app.clock.set(new Date(T0.getTime() + 110 * DAY));
    const t = await app.newTenant();
    const rx = await receiver((r) => (r.json?.type === 'member.updated' ? 500 : 200));
    const created = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: rx.url, event_types: ['*'], description: 'Shop' }, headers: { 'idempotency-key': 'create-endpoint-1' } });
    assert.equal(created.status, 201);
    const replayed = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: rx.url, event_types: ['*'], description: 'Shop' }, headers: { 'idempotency-key': 'create-endpoint-1' } });
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.body.id, created.body.id);
    assert.equal(replayed.body.secret, null, 'a replayed answer does not carry the secret');
    const id = created.body.id;

    const read = await t.keyWith(['read']);
    const write = await t.keyWith(['write']);
    const viaRead = await t.api('GET', `/v1/webhooks/endpoints/${id}`, { key: read });
    assert.equal(viaRead.status, 200);
    assert.equal('secret' in viaRead.body, false);
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${id}/secret`, { key: read })).status, 403);
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${id}/secret`, { key: write })).status, 403);
    assert.equal((await t.api('POST', '/v1/webhooks/endpoints', { key: write, body: { url: rx.url, event_types: ['*'] } })).status, 403);
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${id}/secret`)).body.secret, created.body.secret);
    const list = await t.api('GET', '/v1/webhooks/endpoints', { key: read });
    assert.deepEqual(list.body.data.map((e: any) => e.id), [id]);

    const a = await member(t, 'A');
    const b = await member(t, 'B');
    await rename(t, a, 'A1');
    await pump(t);

    const byMember = await deliveries(t, `member_id=${a}`);
    assert.deepEqual(byMember.map((d) => d.event_type), ['member.updated', 'member.created'], 'newest first');
    assert.deepEqual((await deliveries(t, `status=pending&endpoint_id=${id}`)).map((d) => d.member_id), [a]);
    assert.deepEqual((await deliveries(t, `event_type=member.created`)).map((d) => d.member_id), [b, a]);
    assert.equal((await deliveries(t, `status=failed`)).length, 0);
    const pageOne = await t.api('GET', '/v1/webhooks/deliveries?limit=2');
    const pageTwo = await t.api('GET', `/v1/webhooks/deliveries?limit=2&cursor=${encodeURIComponent(pageOne.body.next_cursor)}`);
    const walked = [...pageOne.body.data, ...pageTwo.body.data].map((d: any) => d.id);
    assert.deepEqual(walked, (await deliveries(t, '')).slice(0, 4).map((d) => d.id));
    assert.equal((await t.api('GET', '/v1/webhooks/deliveries?status=nope')).status, 400);

    const failing = await delivery(t, byMember[0].id);
    assert.equal(failing.attempt_log.length, 1);
    assert.deepEqual(Object.keys(failing.attempt_log[0]).sort(), ['attempted_at', 'delivery_id', 'duration_ms', 'endpoint_id', 'error', 'id', 'response_body', 'status_code']);
    assert.deepEqual([failing.attempt_log[0].status_code, failing.attempt_log[0].error, failing.attempt_log[0].response_body], [500, null, 'answer 500']);
    assert.deepEqual([failing.status, failing.last_status_code, failing.last_error], ['pending', 500, 'HTTP 500']);
    const attempts = await t.api('GET', `/v1/webhooks/endpoints/${id}/attempts`);
    assert.equal(attempts.status, 200);
    assert.equal(attempts.body.data.length, (await deliveries(t, `endpoint_id=${id}`)).length, 'one attempt per delivery so far');
    assert.ok(attempts.body.data.length >= 4, 'endpoint created, two members created, one update (and the keys made above)');

    // Deleting removes the endpoint with its deliveries.
    const del = await t.api('DELETE', `/v1/webhooks/endpoints/${id}`);
    assert.deepEqual(del.body, { id, deleted: true });
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${id}`)).status, 404);
    assert.equal((await t.api('GET', `/v1/webhooks/deliveries/${byMember[0].id}`)).status, 404);
    assert.equal((await eventsOf(t, 'webhook_endpoint.deleted')).length, 1);
  });

  test('a receiver that does not answer in time is a failed attempt with no status code', async () => {
    app.clock.set(new Date(T0.getTime() + 120 * DAY));
    const t = await app.newTenant();
    const rx = await receiver((r) => (r.json?.type === 'member.created' ? 'hang' : 200));
    const svc = new WebhooksService({ clock: app.clock, log: app.patron.logger, allowPrivateNetworks: true, notifyDisabled: async () => undefined, timeoutMs: 300 });
    await endpoint(t, rx.url);
    const m = await member(t);
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    await svc.deliverDue(app.patron.db, { tenantId: t.id });
    const [d] = await deliveries(t, `member_id=${m}`);
    const full = await delivery(t, d.id);
    assert.equal(full.status, 'pending');
    assert.equal(full.attempt_log[0].status_code, null);
    assert.match(full.attempt_log[0].error, /timed out after 300 ms/);
  });
});

describe('private networks (WEBHOOK_ALLOW_PRIVATE_NETWORKS off)', () => {
  test('a literal private URL is a 400 naming url; a name resolving to loopback fails each attempt, nothing sent', async () => {
    const strict = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    try {
      strict.clock.set(new Date(T0.getTime() + 130 * DAY));
      const t = await strict.newTenant();
      for (const url of ['https://10.0.0.5/x', 'https://169.254.169.254/latest/meta-data', 'http://127.0.0.1:8080/x', 'https://[fd00::1]/x', 'https://100.64.1.1/x', 'http://localhost:3000/x']) {
        const res = await t.api('POST', '/v1/webhooks/endpoints', { body: { url, event_types: ['*'] } });
        assert.equal(res.status, 400, `${url}: ${res.text}`);
        assert.deepEqual(res.body.errors.map((e: any) => e.field), ['url'], url);
      }
      const ok = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: 'https://hooks.example.com/x', event_types: ['*'], status: 'disabled' } });
      assert.equal(ok.status, 201, ok.text);
      const patched = await t.api('PATCH', `/v1/webhooks/endpoints/${ok.body.id}`, { body: { url: 'https://192.168.0.10/x' } });
      assert.equal(patched.status, 400, patched.text);
      assert.equal(patched.body.errors[0].field, 'url');
    } finally {
      await strict.close();
    }

    // A name is checked when connecting: "localhost" (made through the store, as a name that resolved to a public
    // address when the endpoint was saved would be) is refused at send time.
    app.clock.set(new Date(T0.getTime() + 130 * DAY));
    const t = await app.newTenant();
    const rx = await receiver();
    const id = newId();
    await store.insertEndpoint(app.patron.db, t.id, {
      id, url: `http://localhost:${new URL(rx.url).port}/hook`, description: '', event_types: ['*'], status: 'active', disabled_reason: null,
      disabled_at: null, failing_since: null, last_success_at: null, created_at: app.clock.now(), updated_at: app.clock.now(),
    });
    await store.insertSecret(app.patron.db, t.id, id, newSecret(), app.clock.now());
    const m = await member(t);
    const svc = new WebhooksService({ clock: app.clock, log: app.patron.logger, allowPrivateNetworks: false, notifyDisabled: async () => undefined });
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    await svc.deliverDue(app.patron.db, { tenantId: t.id });
    assert.equal(rx.requests.length, 0, 'nothing reached the loopback receiver');
    const [d] = await deliveries(t, `member_id=${m}`);
    const full = await delivery(t, d.id);
    assert.deepEqual([full.status, full.attempts, full.attempt_log[0].status_code], ['pending', 1, null]);
    assert.match(full.attempt_log[0].error, /refused: localhost is 127\.0\.0\.1|refused: localhost is ::1/);
    assert.match(full.last_error, /WEBHOOK_ALLOW_PRIVATE_NETWORKS/);
  });
});

describe('parking (only heads are due)', () => {
  const parked = async (t: TestTenant, endpointId: string) => (await app.patron.db.query(
    `SELECT member_id, event_type, next_attempt_at = 'infinity' AS parked FROM webhook_deliveries
      WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' ORDER BY event_seq`, [t.id, endpointId])).rows;

  test("a member's later deliveries wait at 'infinity' behind the head; disabling parks all, re-enabling wakes the heads", async () => {
    app.clock.set(new Date(T0.getTime() + 140 * DAY));
    const t = await app.newTenant();
    const rx = await receiver((r) => (r.json?.type === 'member.updated' ? 503 : 200));
    const ep = await endpoint(t, rx.url);
    const a = await member(t, 'A');
    await pump(t);
    await rename(t, a, 'A1');
    await rename(t, a, 'A2');
    await rename(t, a, 'A3');
    await pump(t);
    assert.deepEqual((await parked(t, ep.id)).map((r) => r.parked), [false, true, true], 'the head (retrying) is due, the two after it parked');
    const [, , head] = await deliveries(t, `member_id=${a}&event_type=member.updated`);
    const [newest] = await deliveries(t, `member_id=${a}&event_type=member.updated`);
    assert.equal(newest.next_attempt_at, null, 'the API shows a parked delivery as null');
    assert.ok(head.next_attempt_at, 'the head has its retry time');

    // Disabled: every pending delivery parked, the head too; another member's new delivery too (a replay to it).
    assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'disabled' } })).status, 200);
    assert.deepEqual((await parked(t, ep.id)).map((r) => r.parked), [true, true, true]);
    const [created] = await deliveries(t, `member_id=${a}&event_type=member.created`);
    const replay = await t.api('POST', `/v1/webhooks/deliveries/${created.id}/replay`);
    assert.equal(replay.body.next_attempt_at, null, 'a replay to a disabled endpoint is parked');

    // Re-enabled: the head and the replay are due at once, the rest stay parked and follow in order.
    rx.answer = () => 200;
    assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'active' } })).status, 200);
    assert.deepEqual((await parked(t, ep.id)).map((r) => r.parked).sort(), [false, false, true, true]);
    await app.patron.jobs.runNow('webhooks.deliver', { tenant_id: t.id });
    assert.deepEqual(await parked(t, ep.id), []);
    const seqs = (await deliveries(t, `member_id=${a}&event_type=member.updated`)).reverse();
    assert.deepEqual(forMember(rx, 'member.updated', a).filter((r) => r.answered === 200).map((r) => r.headers['webhook-id']), seqs.map((d) => d.event_id), 'in order');
  });
});

describe('fairness', () => {
  test('at most PER_ENDPOINT attempts in flight to an endpoint, one to a failing endpoint, counting other workers', async () => {
    const at = new Date(T0.getTime() + 150 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const rx = await receiver();
    const ep = await endpoint(t, rx.url);
    for (let i = 0; i < 8; i++) await member(t, `M${i}`);
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    const lease = new Date(at.getTime() + 35_000);
    const claim = () => app.patron.db.tx((tx) => store.claimDue(tx, t.id, at, lease, 16, PER_ENDPOINT));
    const first = await claim();
    assert.equal(first.length, PER_ENDPOINT, 'no more than the cap, though 9 are due');
    assert.equal((await claim()).length, 0, 'another worker finds the slots taken');

    // One round of the service: the cap holds, the rest go in later rounds of the same run.
    const t2 = await app.newTenant();
    const ep2 = await endpoint(t2, rx.url);
    for (let i = 0; i < 8; i++) await member(t2, `N${i}`);
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t2.id });
    const svc = new WebhooksService({ clock: app.clock, log: app.patron.logger, allowPrivateNetworks: true, notifyDisabled: async () => undefined, tenantBudgetMs: 0 });
    assert.equal((await svc.deliverDue(app.patron.db, { tenantId: t2.id })).attempts, PER_ENDPOINT, 'a zero time budget: one round in this run');
    await app.patron.jobs.runNow('webhooks.deliver', { tenant_id: t2.id });
    assert.deepEqual(await deliveries(t2, `endpoint_id=${ep2.id}&status=pending`), [], 'the default budget sends the rest');

    // Failing: one probe at a time.
    await app.patron.db.query(`UPDATE webhook_endpoints SET failing_since = $3 WHERE tenant_id = $1 AND id = $2`, [t.id, ep.id, at]);
    await app.patron.db.query(`UPDATE webhook_deliveries SET locked_until = NULL, next_attempt_at = $3 WHERE tenant_id = $1 AND endpoint_id = $2`, [t.id, ep.id, at]);
    const probe = await claim();
    assert.equal(probe.length, 1, 'one attempt to a failing endpoint');
    assert.equal((await claim()).length, 0, 'and no second while it is in flight');
  });

  test('an attempt recorded after its lease was taken over changes nothing but the log', async () => {
    const at = new Date(T0.getTime() + 160 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const ep = await endpoint(t, 'https://hooks.example.com/x');
    await member(t);
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    const firstLease = new Date(at.getTime() + 35_000);
    const [mine] = await app.patron.db.tx((tx) => store.claimDue(tx, t.id, at, firstLease, 1, PER_ENDPOINT));
    assert.ok(mine);
    // The lease runs out; another worker claims the delivery again.
    const later = new Date(firstLease.getTime() + 1);
    const secondLease = new Date(later.getTime() + 35_000);
    const theirs = await app.patron.db.tx((tx) => store.claimDue(tx, t.id, later, secondLease, 16, PER_ENDPOINT));
    assert.ok(theirs.some((d) => d.id === mine.id), 'claimed again once the lease ran out');
    const outcome = { status: 'pending' as const, statusCode: 500, error: 'HTTP 500', nextAttemptAt: new Date(at.getTime() + 5000), at };
    assert.equal(await app.patron.db.tx((tx) => store.finishAttempt(tx, t.id, mine.id, firstLease, outcome)), false, 'the late recorder');
    let row = await store.getDelivery(app.patron.db, t.id, mine.id);
    assert.deepEqual([row!.attempts, row!.locked_until?.getTime()], [0, secondLease.getTime()], 'not counted, the new lease untouched');
    assert.equal(await app.patron.db.tx((tx) => store.finishAttempt(tx, t.id, mine.id, secondLease, outcome)), true);
    row = await store.getDelivery(app.patron.db, t.id, mine.id);
    assert.deepEqual([row!.attempts, row!.locked_until], [1, null]);
    assert.equal(ep.id, row!.endpoint_id);
  });
});

describe('replay of missed events', () => {
  test('status missed: the events handed out while the endpoint was disabled, once', async () => {
    const at = new Date(T0.getTime() + 170 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const rx = await receiver();
    const ep = await endpoint(t, rx.url, { event_types: ['member.created', 'member.updated'] });
    const m = await member(t);
    await pump(t);
    assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'disabled' } })).status, 200);
    await rename(t, m, 'While disabled');
    const other = await member(t, 'Also while disabled');
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    assert.equal((await deliveries(t, `endpoint_id=${ep.id}`)).length, 1, 'no deliveries were made while disabled');
    assert.equal((await t.api('PATCH', `/v1/webhooks/endpoints/${ep.id}`, { body: { status: 'active' } })).status, 200);
    // Made after re-enabling but not yet handed out: the fan-out delivers it, the replay must not.
    await rename(t, m, 'After');

    const range = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + HOUR).toISOString(), status: 'missed' };
    const res = await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: range });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(res.body, { endpoint_id: ep.id, replayed: 2 }, "the rename and the other member's creation (not the webhook_endpoint.* events: not subscribed)");
    await pump(t);
    assert.equal(forMember(rx, 'member.created', other).length, 1);
    assert.equal(forMember(rx, 'member.updated', m).length, 2, 'the missed rename and the one after');
    assert.equal((await t.api('POST', `/v1/webhooks/endpoints/${ep.id}/replay`, { body: range })).body.replayed, 0, 'nothing missed is left');
  });
});

describe('retention of the delivery log', () => {
  test('webhooks.purge deletes finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS with their attempts; pending ones stay', async () => {
    const at = new Date(T0.getTime() + 200 * DAY);
    app.clock.set(at);
    const t = await app.newTenant();
    const ok = await receiver();
    const down = await receiver(() => 503);
    const epOk = await endpoint(t, ok.url, { event_types: ['member.created'] });
    const epDown = await endpoint(t, down.url, { event_types: ['member.created'] });
    const old = await member(t, 'Old');
    await pump(t);
    const [oldDelivery] = await deliveries(t, `endpoint_id=${epOk.id}`);
    assert.equal(oldDelivery?.status, 'succeeded');
    const [waiting] = await deliveries(t, `endpoint_id=${epDown.id}`);
    assert.equal(waiting?.status, 'pending', 'the refused delivery waits for its retry');

    app.clock.set(new Date(at.getTime() + 25 * DAY));
    const recent = await member(t, 'Recent');
    await pump(t);

    // 31 days after the first delivery: it is past the 30 days (the default), the second is not.
    app.clock.set(new Date(at.getTime() + 31 * DAY));
    const result = await app.patron.jobs.runNow('webhooks.purge', { tenant_id: t.id });
    assert.deepEqual(result, { deleted: 1 });
    const left = await deliveries(t, `endpoint_id=${epOk.id}`);
    assert.deepEqual(left.map((d) => [d.member_id, d.status]), [[recent, 'succeeded']]);
    assert.equal((await t.api('GET', `/v1/webhooks/deliveries/${oldDelivery.id}`)).status, 404, 'gone with its attempts');
    const stillDown = await deliveries(t, `endpoint_id=${epDown.id}`);
    assert.equal(stillDown.find((d) => d.id === waiting.id)?.status, 'pending', 'a pending delivery is never purged, however old');
    assert.deepEqual(await app.patron.jobs.runNow('webhooks.purge', { tenant_id: t.id }), { deleted: 0 }, 'nothing left to purge');

    // The old event's delivery is gone from the log, so a replay of "missed" events no longer looks before the
    // retention horizon (it would take the delivered old event for missed); "all" still replays it.
    const range = { from: new Date(at.getTime() - HOUR).toISOString(), to: new Date(at.getTime() + HOUR).toISOString() };
    const missed = await t.api('POST', `/v1/webhooks/endpoints/${epOk.id}/replay`, { body: { ...range, status: 'missed' } });
    assert.equal(missed.status, 202, missed.text);
    assert.equal(missed.body.replayed, 0);
    // Nor after the retention is raised (a process started with WEBHOOK_LOG_RETENTION_DAYS=365): the stretch already
    // purged stays out of it.
    const longer = new WebhooksService({ clock: app.clock, log: app.patron.logger, allowPrivateNetworks: true, notifyDisabled: async () => undefined, logRetentionDays: 365 });
    const again = await app.patron.db.tx((tx) => longer.replayRange(tx, t.id, epOk.id, { ...range, status: 'missed' }));
    assert.equal(again.replayed, 0, 'the purged log cannot tell a delivered event from a missed one');
    const all = await t.api('POST', `/v1/webhooks/endpoints/${epOk.id}/replay`, { body: { ...range, status: 'all' } });
    assert.equal(all.body.replayed, 1);
    await pump(t);
    assert.equal(forMember(ok, 'member.created', old).length, 2, 'the old event replayed');
  });
});

describe('a round of several endpoints', () => {
  test('each endpoint gets its own outcome: one answering 410 is disabled, one answering 500 retries, one answering 200 succeeds', async () => {
    app.clock.set(new Date(T0.getTime() + 240 * DAY));
    const t = await app.newTenant();
    const gone = await endpoint(t, (await receiver(() => 410)).url, { event_types: ['member.created'] });
    const down = await endpoint(t, (await receiver(() => 500)).url, { event_types: ['member.created'] });
    const okRx = await receiver();
    const ok = await endpoint(t, okRx.url, { event_types: ['member.created'] });
    const members = [await member(t, 'A'), await member(t, 'B'), await member(t, 'C')];
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    const round = await app.patron.services.webhooks.deliverRound(app.patron.db, t.id);
    assert.deepEqual(round, { attempts: 9, succeeded: 3, failed_attempts: 6 }, 'one round: the three members to the three endpoints');

    const statuses = async (id: string) => (await deliveries(t, `endpoint_id=${id}`)).map((d) => [d.status, d.attempts]);
    assert.deepEqual(await statuses(gone.id), [['failed', 1], ['failed', 1], ['failed', 1]]);
    assert.deepEqual(await statuses(down.id), [['pending', 1], ['pending', 1], ['pending', 1]]);
    assert.deepEqual(await statuses(ok.id), [['succeeded', 1], ['succeeded', 1], ['succeeded', 1]]);
    assert.deepEqual(members.map((m) => forMember(okRx, 'member.created', m).length), [1, 1, 1]);
    const ep = async (id: string) => (await t.api('GET', `/v1/webhooks/endpoints/${id}`)).body;
    assert.deepEqual([(await ep(gone.id)).status, (await ep(gone.id)).disabled_reason], ['disabled', 'gone']);
    assert.equal((await ep(down.id)).status, 'active');
    assert.notEqual((await ep(down.id)).failing_since, null, "the failing endpoint's clock started");
    assert.equal((await ep(ok.id)).failing_since, null);
    assert.notEqual((await ep(ok.id)).last_success_at, null);
  });
});

describe('an endpoint deleted while its attempts are in flight', () => {
  test("the round still records the other endpoints' outcomes; the deleted one's go with it", async () => {
    app.clock.set(new Date(T0.getTime() + 250 * DAY));
    const t = await app.newTenant();
    const deleting: { request: Promise<{ status: number }> | null } = { request: null };
    let doomedId = '';
    // The doomed endpoint's receiver deletes it while answering: the deletion commits before the round records, or
    // waits for the round's lock on the endpoint; either way the round must not fail.
    const doomed = await endpoint(t, (await receiver(() => {
      deleting.request ??= t.api('DELETE', `/v1/webhooks/endpoints/${doomedId}`);
      return 200;
    })).url, { event_types: ['member.created'] });
    doomedId = doomed.id;
    const okRx = await receiver();
    const ok = await endpoint(t, okRx.url, { event_types: ['member.created'] });
    const a = await member(t, 'A');
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    const round = await app.patron.services.webhooks.deliverRound(app.patron.db, t.id);
    assert.equal(round.attempts, 2);
    assert.equal((await deleting.request)?.status, 200);
    assert.deepEqual((await deliveries(t, `endpoint_id=${ok.id}`)).map((d) => [d.member_id, d.status, d.attempts]), [[a, 'succeeded', 1]]);
    assert.equal((await t.api('GET', `/v1/webhooks/endpoints/${doomed.id}`)).status, 404);
    assert.deepEqual(await deliveries(t, `endpoint_id=${doomed.id}`), []);
  });
});

describe('erasure', () => {
  test("erasing a member blanks what receivers answered to the member's events; other members' answers and the codes stay", async () => {
    app.clock.set(new Date(T0.getTime() + 260 * DAY));
    const t = await app.newTenant();
    // A provider that echoes the name it was sent (the personal data an answer may hold).
    const rx = await receiver((r) => ({ status: 200, body: `welcome ${r.json?.data?.member_id ?? ''}` }));
    await endpoint(t, rx.url, { event_types: ['member.created', 'member.updated'] });
    const gone = await member(t, 'Gone');
    const kept = await member(t, 'Kept');
    await rename(t, gone, 'Gone again');
    await pump(t);
    const logOf = async (m: string) => {
      const ds = await deliveries(t, `member_id=${m}`);
      return Promise.all(ds.map(async (d) => (await delivery(t, d.id)).attempt_log.map((a: any) => [a.status_code, a.response_body])));
    };
    assert.deepEqual((await logOf(gone)).flat(), [[200, `welcome ${gone}`], [200, `welcome ${gone}`]]);
    assert.equal((await t.api('POST', `/v1/members/${gone}/erase`)).status, 200);
    assert.deepEqual((await logOf(gone)).flat(), [[200, null], [200, null]]);
    assert.deepEqual((await logOf(kept)).flat(), [[200, `welcome ${kept}`]]);
  });
});

describe('a skipped event retried', () => {
  test("its delivery is due at once and holds the member's later pending deliveries behind it (it is the earlier event)", async () => {
    app.clock.set(new Date(T0.getTime() + 270 * DAY));
    const t = await app.newTenant();
    // The first member.updated fails once: it is the member's pending head when the skipped member.created comes back.
    let failedOnce = false;
    const rx = await receiver((r) => {
      if (r.json?.type === 'member.updated' && !failedOnce) {
        failedOnce = true;
        return 500;
      }
      return 200;
    });
    const ep = await endpoint(t, rx.url, { event_types: ['member.created', 'member.updated'] });
    const m = await member(t, 'Skipped');
    await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id });
    // As if the fan-out had thrown on member.created: its delivery never made, the event recorded as skipped.
    const [created] = (await eventsOf(t, 'member.created')).filter((e) => e.aggregate_id === m);
    await app.patron.db.query(`DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND event_id = $2`, [t.id, created.id]);
    await insertSkip(app.patron.db, t.id, { eventId: created.id, consumer: 'webhooks', error: 'test', at: app.clock.now() });
    await rename(t, m, 'Later');
    await pump(t);
    const [updated] = await deliveries(t, `endpoint_id=${ep.id}&event_type=member.updated`);
    assert.deepEqual([updated.status, updated.attempts, updated.last_status_code], ['pending', 1, 500]);

    const [skip] = (await t.api('GET', '/v1/domain-events/skips')).body.data;
    assert.equal((await t.api('POST', `/v1/domain-events/skips/${skip.id}/retry`)).status, 200);
    await pump(t);
    assert.deepEqual(forMember(rx, 'member.created', m).map((r) => r.answered), [200], 'the retried event is sent at once');
    app.clock.set(new Date((await delivery(t, updated.id)).next_attempt_at));
    await pump(t);
    assert.deepEqual(rx.requests.filter((r) => r.json?.data?.member_id === m).map((r) => [r.json.type, r.answered]),
      [['member.updated', 500], ['member.created', 200], ['member.updated', 200]]);
    assert.deepEqual((await deliveries(t, `endpoint_id=${ep.id}`)).map((d) => d.status), ['succeeded', 'succeeded']);
  });
});
