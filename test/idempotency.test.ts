/**
 * Idempotency-Key on writes: replay, reuse, races, crashes, per-tenant keys
 * and retention. Counts are read from the database, so "no second write" means
 * no second row, no second domain event and no second audit entry.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../src/platform/config.js';
import { startTestApp, type ApiResponse, type TestApp, type TestTenant } from './helpers.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const unique = (p: string) => `${p}-${crypto.randomBytes(5).toString('hex')}`;
const withKey = (key: string) => ({ 'idempotency-key': key });

async function counts(tenantId: string, externalId: string) {
  const db = app.patron.db;
  const members = await db.query<{ id: string }>('SELECT id FROM members WHERE tenant_id = $1 AND external_id = $2', [tenantId, externalId]);
  const ids = members.rows.map((r) => r.id);
  const events = await db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.created' AND aggregate_id = ANY($2::text[])`, [tenantId, ids]);
  const audits = await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = $1 AND resource_id = ANY($2::text[]) AND action = 'POST /v1/members'`, [tenantId, ids]);
  return { members: ids.length, events: events.rows[0].n as number, audits: audits.rows[0].n as number, ids };
}

async function storedKey(tenantId: string, key: string) {
  const res = await app.patron.db.query('SELECT status_code, created_at FROM idempotency_keys WHERE tenant_id = $1 AND key = $2', [tenantId, key]);
  return res.rows[0] as { status_code: number; created_at: Date } | undefined;
}

const replayed = (res: ApiResponse) => res.headers.get('idempotent-replayed') === 'true';

describe('Idempotency-Key', () => {
  let t: TestTenant;
  before(async () => {
    t = await app.newTenant();
  });

  test('same key and same body: the stored answer is replayed, nothing is written twice', async () => {
    const key = unique('same');
    const ext = unique('m');
    const body = { external_id: ext, email: `${ext}@example.com`, first_name: 'Ana', consent: { email: true } };
    const first = await t.api('POST', '/v1/members', { body, headers: withKey(key) });
    assert.equal(first.status, 201);
    assert.equal(replayed(first), false);
    assert.equal(first.headers.get('idempotent-replayed'), null);

    // The same JSON with its keys in another order is the same request.
    const reordered = { consent: { email: true }, first_name: 'Ana', email: `${ext}@example.com`, external_id: ext };
    const second = await t.api('POST', '/v1/members', { body: reordered, headers: withKey(key) });
    assert.equal(second.status, 201);
    assert.equal(replayed(second), true);
    assert.deepEqual(second.body, first.body);

    const c = await counts(t.id, ext);
    assert.deepEqual([c.members, c.events, c.audits], [1, 1, 1]);
    assert.equal((await storedKey(t.id, key))?.status_code, 201);
  });

  test('same key with another body, method or path is a 409 idempotency_key_reused', async () => {
    const key = unique('reuse');
    const ext = unique('m');
    const first = await t.api('POST', '/v1/members', { body: { external_id: ext }, headers: withKey(key) });
    assert.equal(first.status, 201);

    const otherBody = await t.api('POST', '/v1/members', { body: { external_id: `${ext}-other` }, headers: withKey(key) });
    assert.equal(otherBody.status, 409);
    assert.equal(otherBody.body.code, 'idempotency_key_reused');
    assert.match(otherBody.headers.get('content-type') ?? '', /application\/problem\+json/);

    const otherPath = await t.api('PATCH', `/v1/members/${first.body.id}`, { body: { external_id: ext }, headers: withKey(key) });
    assert.equal(otherPath.status, 409);
    assert.equal(otherPath.body.code, 'idempotency_key_reused');

    const otherRoute = await t.api('POST', `/v1/members/${first.body.id}/block`, { body: { reason: 'x' }, headers: withKey(key) });
    assert.equal(otherRoute.status, 409);
    assert.equal(otherRoute.body.code, 'idempotency_key_reused');

    assert.equal((await counts(t.id, `${ext}-other`)).members, 0);
    assert.equal((await t.api('GET', `/v1/members/${first.body.id}`)).body.status, 'active', 'the block did not happen');
  });

  test('50 concurrent requests with one key make exactly one member', async () => {
    const key = unique('race');
    const ext = unique('race');
    const body = { external_id: ext, email: `${ext}@example.com` };
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.api('POST', '/v1/members', { body, headers: withKey(key) })));

    const c = await counts(t.id, ext);
    assert.deepEqual([c.members, c.events, c.audits], [1, 1, 1], 'one row, one event, one audit entry');
    const fresh = answers.filter((a) => a.status === 201 && !replayed(a));
    assert.equal(fresh.length, 1, 'exactly one request did the work');
    for (const a of answers) {
      if (a.status === 201) assert.equal(a.body.id, c.ids[0], 'every success is the one result');
      else {
        assert.equal(a.status, 409, `unexpected answer ${a.status} ${a.text}`);
        assert.equal(a.body.code, 'idempotency_key_in_flight');
      }
    }
    // Once the first has finished, the key replays.
    const later = await t.api('POST', '/v1/members', { body, headers: withKey(key) });
    assert.equal(later.status, 201);
    assert.equal(replayed(later), true);
    assert.equal(later.body.id, c.ids[0]);
  });

  test('a request rejected by validation is not stored: the corrected request with the same key works', async () => {
    // Rejected by the JSON schema …
    const key = unique('invalid');
    const ext = unique('m');
    const bad = await t.api('POST', '/v1/members', { body: { external_id: ext, email: 'not-an-email', colour: 'red' }, headers: withKey(key) });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['colour', 'email']);
    assert.equal(await storedKey(t.id, key), undefined);
    const good = await t.api('POST', '/v1/members', { body: { external_id: ext, email: `${ext}@example.com` }, headers: withKey(key) });
    assert.equal(good.status, 201);
    assert.equal(replayed(good), false);

    // … and by the domain's own validation (what JSON Schema cannot check).
    const key2 = unique('invalid-domain');
    const ext2 = unique('m');
    const bad2 = await t.api('POST', '/v1/members', { body: { external_id: ext2, time_zone: 'Mars/Olympus_Mons' }, headers: withKey(key2) });
    assert.equal(bad2.status, 400);
    assert.deepEqual(bad2.body.errors.map((e: any) => e.field), ['time_zone']);
    assert.equal(await storedKey(t.id, key2), undefined, 'a 400 from domain validation is not stored either');
    const good2 = await t.api('POST', '/v1/members', { body: { external_id: ext2, time_zone: 'Europe/Sofia' }, headers: withKey(key2) });
    assert.equal(good2.status, 201, good2.text);
    assert.equal((await counts(t.id, ext2)).members, 1);

    // … whichever route's service throws it (tenant settings check their zone in the service).
    const key3 = unique('invalid-tenant');
    const bad3 = await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Mars/Olympus_Mons' }, headers: withKey(key3) });
    assert.equal(bad3.status, 400);
    assert.deepEqual(bad3.body.errors.map((e: any) => e.field), ['time_zone']);
    assert.equal(await storedKey(t.id, key3), undefined);
    const good3 = await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Europe/Sofia' }, headers: withKey(key3) });
    assert.equal(good3.status, 200, good3.text);
    assert.equal(good3.body.time_zone, 'Europe/Sofia');
  });

  test('a domain error (409 duplicate external_id) is stored and replayed', async () => {
    const ext = unique('dup');
    const original = await t.api('POST', '/v1/members', { body: { external_id: ext } });
    assert.equal(original.status, 201);
    const key = unique('dup');
    const conflict = await t.api('POST', '/v1/members', { body: { external_id: ext, first_name: 'Second' }, headers: withKey(key) });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'conflict');
    assert.equal((await storedKey(t.id, key))?.status_code, 409);

    // Free the external id: a fresh request would now succeed, the replay does not.
    assert.equal((await t.api('PATCH', `/v1/members/${original.body.id}`, { body: { external_id: `${ext}-renamed` } })).status, 200);
    const replay = await t.api('POST', '/v1/members', { body: { external_id: ext, first_name: 'Second' }, headers: withKey(key) });
    assert.equal(replay.status, 409);
    assert.equal(replayed(replay), true);
    assert.equal(replay.body.code, 'conflict');
    assert.match(replay.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.equal((await counts(t.id, ext)).members, 0, 'the failed attempt left nothing behind');
  });

  test('a request whose connection dies mid-work leaves no marker: the retry does the work once', async () => {
    const key = unique('crash');
    const ext = unique('crash');
    const body = { external_id: ext, email: `${ext}@example.com` };
    // Hold the external id in an open transaction so that the request's INSERT waits on it.
    const blocker = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO members (tenant_id, id, external_id, locale, enrolled_at, created_at, updated_at) VALUES ($1, $2, $3, 'en', now(), now(), now())`,
        [t.id, crypto.randomUUID(), ext],
      );
      const blockerPid = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;

      const inFlight = t.api('POST', '/v1/members', { body, headers: withKey(key) });
      let victim: number | undefined;
      for (let i = 0; i < 200 && victim === undefined; i++) {
        const res = await app.patron.db.query(`SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))`, [blockerPid]);
        victim = res.rows[0]?.pid;
        if (victim === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(victim, 'the request is waiting inside its transaction');

      // While it is in flight, the same key is refused at once — never a second write.
      const concurrent = await t.api('POST', '/v1/members', { body, headers: withKey(key) });
      assert.equal(concurrent.status, 409);
      assert.equal(concurrent.body.code, 'idempotency_key_in_flight');

      // The database connection of the request dies (as in a crash).
      await app.patron.db.query('SELECT pg_terminate_backend($1)', [victim]);
      const failed = await inFlight;
      assert.ok(failed.status >= 500, `the killed request fails (got ${failed.status})`);
      assert.match(failed.headers.get('content-type') ?? '', /application\/problem\+json/);
      await blocker.query('ROLLBACK');
    } finally {
      await blocker.end();
    }

    assert.equal(await storedKey(t.id, key), undefined, 'no marker outlives the rolled-back transaction');
    assert.equal((await counts(t.id, ext)).members, 0);

    const retry = await t.api('POST', '/v1/members', { body, headers: withKey(key) });
    assert.equal(retry.status, 201, retry.text);
    assert.equal(replayed(retry), false);
    const again = await t.api('POST', '/v1/members', { body, headers: withKey(key) });
    assert.equal(replayed(again), true);
    const c = await counts(t.id, ext);
    assert.deepEqual([c.members, c.events, c.audits], [1, 1, 1]);
  });

  test('keys are per tenant: two tenants may use the same key', async () => {
    const other = await app.newTenant();
    const key = unique('shared');
    const a = await t.api('POST', '/v1/members', { body: { first_name: 'A' }, headers: withKey(key) });
    const b = await other.api('POST', '/v1/members', { body: { first_name: 'B' }, headers: withKey(key) });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(replayed(b), false);
    assert.notEqual(a.body.id, b.body.id);
    assert.equal(b.body.first_name, 'B');
    // And each tenant replays its own answer.
    const b2 = await other.api('POST', '/v1/members', { body: { first_name: 'B' }, headers: withKey(key) });
    assert.equal(replayed(b2), true);
    assert.equal(b2.body.id, b.body.id);
  });

  test('a malformed key is a 400 naming the header, and nothing is written', async () => {
    const ext = unique('badkey');
    for (const bad of ['has space', 'x'.repeat(256), '', 'caf\u00e9']) {
      const res = await t.api('POST', '/v1/members', { body: { external_id: ext }, headers: withKey(bad) });
      assert.equal(res.status, 400, `key ${JSON.stringify(bad.slice(0, 20))}: ${res.text}`);
      assert.deepEqual(res.body.errors.map((e: any) => e.field), ['(headers).idempotency-key']);
    }
    assert.equal((await counts(t.id, ext)).members, 0);
    const ok = await t.api('POST', '/v1/members', { body: { external_id: ext }, headers: withKey('x'.repeat(255)) });
    assert.equal(ok.status, 201);
  });

  test('keys older than the retention are purged by idempotency.purge; younger ones are kept', async () => {
    assert.equal(app.patron.config.idempotencyRetentionHours, 48);
    const hour = 3600_000;
    // Start 49 hours in the past and advance to the present, so that the purge
    // (which covers every tenant) never touches keys of tests running beside this one.
    const start = new Date(app.clock.now().getTime() - 49 * hour);
    try {
      app.clock.set(start);
      const oldKey = unique('old');
      const old = await t.api('POST', '/v1/members', { body: { first_name: 'Old' }, headers: withKey(oldKey) });
      assert.equal(old.status, 201);

      app.clock.advance(24 * hour);
      const youngKey = unique('young');
      const young = await t.api('POST', '/v1/members', { body: { first_name: 'Young' }, headers: withKey(youngKey) });
      assert.equal(young.status, 201);

      // Now the old key is 49 hours old, the young one 25 hours (kept: at least 24 hours).
      app.clock.advance(25 * hour);
      const result = (await app.patron.jobs.runNow('idempotency.purge')) as { deleted: number };
      assert.ok(result.deleted >= 1);
      assert.equal(await storedKey(t.id, oldKey), undefined, 'the 49-hour-old key is gone');
      assert.ok(await storedKey(t.id, youngKey), 'the 25-hour-old key is kept');

      const replay = await t.api('POST', '/v1/members', { body: { first_name: 'Young' }, headers: withKey(youngKey) });
      assert.equal(replayed(replay), true);
      assert.equal(replay.body.id, young.body.id);
      // The purged key is unknown again: the request is new work.
      const redo = await t.api('POST', '/v1/members', { body: { first_name: 'Old' }, headers: withKey(oldKey) });
      assert.equal(redo.status, 201);
      assert.equal(replayed(redo), false);
      assert.notEqual(redo.body.id, old.body.id);
    } finally {
      app.clock.reset();
    }
  });

  test('the retention cannot be configured below 24 hours', () => {
    assert.throws(() => loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '23' }), /IDEMPOTENCY_RETENTION_HOURS/);
    assert.equal(loadConfig({ IDEMPOTENCY_RETENTION_HOURS: '24' }).idempotencyRetentionHours, 24);
  });
});
