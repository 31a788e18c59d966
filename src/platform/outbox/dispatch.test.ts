/**
 * The outbox dispatcher (dispatch.ts, docs/events.md "Delivery guarantees"). A database of its own: these tests
 * dispatch every tenant (dispatchAll() with no tenant), which on the shared database would take other test files'
 * events away from their consumers; and another file dispatching every tenant would take this file's.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch-database.js';
import type { Tx } from '../db/db.js';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import type { StoredEvent } from './outbox.js';

let database: ScratchDatabase;
let app: TestApp;
before(async () => {
  database = await createScratchDatabase(process.env.DATABASE_URL!, 'patron_dispatch');
  app = await startTestApp({ env: { DATABASE_URL: database.url } });
  // What consumers write in the dispatch transaction: it exists if and only if the events are marked dispatched.
  await app.patron.db.query(`CREATE TABLE dispatch_test_seen (tenant_id uuid NOT NULL, consumer text NOT NULL, event_id uuid NOT NULL)`);
});
after(async () => {
  await app?.close();
  await database?.drop();
});

/** A consumer that records what it gets for one tenant (consumers stay registered: each ignores other tenants). */
function recorder(tenantId: string, name: string, opts: { types?: string[]; write?: boolean; fail?: (events: StoredEvent[]) => boolean; slow?: number } = {}) {
  const calls: StoredEvent[][] = [];
  app.patron.dispatcher.register({
    name,
    types: opts.types ? new Set(opts.types) : undefined,
    async handle(tx: Tx, tid: string, events: StoredEvent[]) {
      if (tid !== tenantId) return;
      if (opts.write) {
        for (const e of events) await tx.query(`INSERT INTO dispatch_test_seen (tenant_id, consumer, event_id) VALUES ($1, $2, $3)`, [tid, name, e.id]);
      }
      if (opts.slow) await new Promise((r) => setTimeout(r, opts.slow));
      if (opts.fail?.(events)) throw new Error(`${name} fails on ${events.map((e) => e.type).join(', ')}`);
      calls.push(events);
    },
  });
  return { calls, events: () => calls.flat() };
}

async function outbox(t: TestTenant): Promise<StoredEvent[]> {
  const res = await t.api('GET', '/v1/domain-events?limit=500');
  assert.equal(res.status, 200);
  return res.body.data;
}

async function seen(t: TestTenant, consumer: string): Promise<string[]> {
  const res = await app.patron.db.query<{ event_id: string }>(`SELECT event_id FROM dispatch_test_seen WHERE tenant_id = $1 AND consumer = $2 ORDER BY event_id`, [t.id, consumer]);
  return res.rows.map((r) => r.event_id);
}

async function undispatched(t: TestTenant): Promise<number> {
  const res = await app.patron.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND dispatched_at IS NULL`, [t.id]);
  return res.rows[0]!.n;
}

let memberNo = 0;
async function someChanges(t: TestTenant, members = 3): Promise<void> {
  for (let i = 0; i < members; i++) {
    const m = await t.api('POST', '/v1/members', { body: { external_id: `m-${++memberNo}` } });
    assert.equal(m.status, 201, m.text);
    assert.equal((await t.api('POST', `/v1/members/${m.body.id}/block`, { body: {} })).status, 200);
  }
}

const sorted = (ids: string[]) => [...ids].sort();

describe('outbox dispatch', () => {
  test('outbox.dispatch hands every event to a consumer once, in seq order, on demand', async () => {
    const t = await app.newTenant();
    const all = recorder(t.id, 'test.once.all');
    const created = recorder(t.id, 'test.once.created', { types: ['member.created'] });
    await someChanges(t);
    const written = await outbox(t);
    assert.ok(written.length >= 8, 'tenant.created, api_key.created, and 3 × member.created + member.blocked');

    assert.deepEqual(await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id }), { tenants: 1, events: written.length });
    assert.deepEqual(all.events().map((e) => e.id), written.map((e) => e.id), 'every event, in the order written');
    const seqs = all.events().map((e) => e.seq);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'seq strictly increasing');
    assert.deepEqual(created.events().map((e) => e.id), written.filter((e) => e.type === 'member.created').map((e) => e.id), 'a typed consumer gets only its types');
    assert.equal(await undispatched(t), 0);

    // Handed out once: nothing is left for the next run, and new events are handed out after the earlier ones.
    assert.deepEqual(await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id }), { tenants: 1, events: 0 });
    await someChanges(t, 1);
    assert.deepEqual(await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id }), { tenants: 1, events: 2 });
    assert.deepEqual(all.events().map((e) => e.id), (await outbox(t)).map((e) => e.id));
    assert.equal(new Set(all.events().map((e) => e.id)).size, all.events().length, 'no event twice');
  });

  test("a failed batch undoes every consumer's writes and the mark, then goes event by event; a consumer failing on one event is skipped for it alone", async () => {
    const t = await app.newTenant();
    await someChanges(t);
    const written = await outbox(t);
    const poison = written.find((e) => e.type === 'member.blocked')!;
    const writer = recorder(t.id, 'test.retry.writer', { write: true });
    // Fails on any batch of more than one event: the batch is retried one event at a time.
    const picky = recorder(t.id, 'test.retry.picky', { fail: (events) => events.length > 1 });
    // Writes, then fails on one event whatever the batch: its write for that event is undone, it is skipped for it.
    const poisoned = recorder(t.id, 'test.retry.poisoned', { write: true, fail: (events) => events.some((e) => e.id === poison.id) });

    const result = await app.patron.dispatcher.dispatchAll(t.id);
    assert.deepEqual(result, { tenants: 1, events: written.length });
    assert.equal(await undispatched(t), 0);

    // The first (whole) batch was rolled back: the writer's rows of that attempt are gone, one row per event remains.
    assert.deepEqual(await seen(t, 'test.retry.writer'), sorted(written.map((e) => e.id)));
    assert.equal(writer.calls.length, 1 + written.length, 'one failed batch, then each event alone');
    assert.deepEqual(writer.calls.slice(1).map((c) => c.map((e) => e.id)), written.map((e) => [e.id]), 'still in order');
    assert.deepEqual(picky.events().map((e) => e.id), written.map((e) => e.id));
    // The poisoned consumer got every other event; for the poison its write was undone with it, and the others still got it.
    assert.deepEqual(poisoned.events().map((e) => e.id), written.filter((e) => e.id !== poison.id).map((e) => e.id));
    assert.deepEqual(await seen(t, 'test.retry.poisoned'), sorted(written.filter((e) => e.id !== poison.id).map((e) => e.id)));
    assert.ok(writer.events().some((e) => e.id === poison.id) && picky.events().some((e) => e.id === poison.id));

    // Skipped is final for that consumer: the event is not handed out again.
    assert.deepEqual(await app.patron.dispatcher.dispatchAll(t.id), { tenants: 1, events: 0 });
  });

  test('a skipped event is recorded (GET /v1/domain-events/skips, patron_outbox_skips_total) and handed to its consumer again by a retry once fixed', async () => {
    const t = await app.newTenant();
    await someChanges(t, 1);
    const written = await outbox(t);
    const poison = written.find((e) => e.type === 'member.blocked')!;
    let broken = true;
    const fixable = recorder(t.id, 'test.skips.fixable', { write: true, fail: (events) => broken && events.some((e) => e.id === poison.id) });
    const metric = async () => Number(/^patron_outbox_skips_total\{consumer="test\.skips\.fixable"\} (\d+)$/m.exec((await t.api('GET', '/metrics')).text)?.[1] ?? 0);
    const before = await metric();
    await app.patron.dispatcher.dispatchAll(t.id);
    assert.equal(await metric(), before + 1);

    const open = await t.api('GET', '/v1/domain-events/skips');
    assert.equal(open.status, 200, open.text);
    assert.equal(open.body.data.length, 1);
    const skip = open.body.data[0];
    assert.deepEqual({ ...skip, id: undefined, skipped_at: undefined }, {
      id: undefined, skipped_at: undefined, event_id: poison.id, event_type: 'member.blocked', consumer: 'test.skips.fixable',
      error: 'test.skips.fixable fails on member.blocked', retried_at: null,
    });
    assert.deepEqual((await t.api('GET', `/v1/domain-events/skips/${skip.id}`)).body, skip);
    assert.equal((await t.api('GET', `/v1/domain-events/skips/${crypto.randomUUID()}`)).status, 404);
    assert.equal((await t.api('POST', `/v1/domain-events/skips/${skip.id}/retry`, { key: await t.keyWith(['write']) })).status, 403, 'admin only');

    // Still broken: a 422 with the error, nothing written, the skip stays open.
    const again = await t.api('POST', `/v1/domain-events/skips/${skip.id}/retry`);
    assert.equal(again.status, 422, again.text);
    assert.match(again.body.detail, /test\.skips\.fixable failed again: test\.skips\.fixable fails on member\.blocked/);
    assert.equal((await t.api('GET', '/v1/domain-events/skips')).body.data.length, 1);
    assert.ok(!(await seen(t, 'test.skips.fixable')).includes(poison.id));

    // Fixed: the consumer gets the event (and writes for it) in the retry's transaction; the skip is closed.
    broken = false;
    const retried = await t.api('POST', `/v1/domain-events/skips/${skip.id}/retry`, { headers: { 'idempotency-key': `retry-${skip.id}` } });
    assert.equal(retried.status, 200, retried.text);
    assert.ok(retried.body.retried_at);
    assert.deepEqual(fixable.calls.at(-1)!.map((e) => e.id), [poison.id]);
    assert.deepEqual(await seen(t, 'test.skips.fixable'), sorted(written.map((e) => e.id)), 'once each, the skipped one included');
    assert.deepEqual((await t.api('GET', '/v1/domain-events/skips')).body.data, [], 'nothing open');
    assert.deepEqual((await t.api('GET', '/v1/domain-events/skips?status=all')).body.data.map((x: any) => [x.id, x.retried_at]), [[skip.id, retried.body.retried_at]]);
    // Retrying again hands out nothing more.
    const calls = fixable.calls.length;
    assert.deepEqual((await t.api('POST', `/v1/domain-events/skips/${skip.id}/retry`)).body, retried.body);
    assert.equal(fixable.calls.length, calls);
  });

  test('a process dying during dispatch leaves the events undispatched, and the next dispatch hands them out once', async () => {
    const t = await app.newTenant();
    await someChanges(t, 1);
    const written = await outbox(t);
    let dying = true;
    recorder(t.id, 'test.crash.writer', { write: true });
    app.patron.dispatcher.register({
      name: 'test.crash.killer',
      async handle(tx: Tx, tid: string) {
        // The dispatching session dies (as with a killed process) after the writer has written its rows.
        if (tid === t.id && dying) await tx.query('SELECT pg_terminate_backend(pg_backend_pid())');
      },
    });
    await assert.rejects(app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id }));
    assert.equal(await undispatched(t), written.length, 'still undispatched');
    assert.deepEqual(await seen(t, 'test.crash.writer'), [], "the consumer's writes died with the transaction");

    dying = false;
    const got = recorder(t.id, 'test.crash.next');
    assert.deepEqual(await app.patron.jobs.runNow('outbox.dispatch', { tenant_id: t.id }), { tenants: 1, events: written.length });
    assert.deepEqual(got.events().map((e) => e.id), written.map((e) => e.id));
    assert.deepEqual(await seen(t, 'test.crash.writer'), sorted(written.map((e) => e.id)), 'once each');
    assert.equal(await undispatched(t), 0);
  });

  test('a database error in a consumer (a deadlock) is not the event\'s fault: the event is not skipped but handed out again', async () => {
    const t = await app.newTenant();
    const written = await outbox(t);
    const last = written.at(-1)!;
    let deadlocks = 1;
    const got = recorder(t.id, 'test.transient', {
      fail: (events) => {
        if (events.length > 1) return true; // down to one event at a time
        if (events[0]!.id !== last.id || deadlocks === 0) return false;
        deadlocks--;
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      },
    });
    await assert.rejects(app.patron.dispatcher.dispatchAll(t.id), /deadlock/);
    assert.equal(await undispatched(t), 1, 'the events before it went, it stays');
    assert.deepEqual(await app.patron.dispatcher.dispatchAll(t.id), { tenants: 1, events: 1 });
    assert.deepEqual(got.events().map((e) => e.id), written.map((e) => e.id), 'the consumer got every event once, in order');
  });

  test('concurrent dispatches never hand out an event twice', async () => {
    const t = await app.newTenant();
    await someChanges(t, 10);
    const written = await outbox(t);
    const got = recorder(t.id, 'test.concurrent', { write: true, slow: 50 });
    // Several at once, for this tenant and for all: one holds the tenant, the others find it taken or find nothing left.
    const results = await Promise.all([
      app.patron.dispatcher.dispatchAll(t.id), app.patron.dispatcher.dispatchAll(), app.patron.dispatcher.dispatchAll(t.id),
      app.patron.dispatcher.dispatchAll(), app.patron.dispatcher.dispatchAll(t.id),
    ]);
    const handedOut = results.reduce((n, r) => n + r.events, 0);
    assert.ok(handedOut >= written.length, `every event handed out (${handedOut})`);
    assert.deepEqual(got.events().map((e) => e.id), written.map((e) => e.id), 'each once, in order');
    assert.deepEqual(await seen(t, 'test.concurrent'), sorted(written.map((e) => e.id)));
    assert.equal(await undispatched(t), 0);
  });
});
