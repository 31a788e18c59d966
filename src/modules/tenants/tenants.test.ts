import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestApp, type TestApp } from '../../../test/helpers.js';

let app: TestApp;
before(async () => {
  app = await startTestApp({ env: { PATRON_OPERATOR_KEY: 'operator_key_0123456789abcdef' } });
});
after(() => app.close());

describe('tenants and API keys', () => {
  test('an operator creates a tenant whose key works at once', async () => {
    const res = await call(app.url, 'POST', '/v1/tenants', { key: 'operator_key_0123456789abcdef', body: { name: 'Café Sofia', default_currency: 'BGN', default_locale: 'bg', time_zone: 'Europe/Sofia' } });
    assert.equal(res.status, 201);
    assert.equal(res.body.tenant.default_currency, 'BGN');
    assert.match(res.body.api_key, /^ptr_/);
    const me = await call(app.url, 'GET', '/v1/tenant', { key: res.body.api_key });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, res.body.tenant.id);
    const list = await call(app.url, 'GET', '/v1/tenants?limit=500', { key: 'operator_key_0123456789abcdef' });
    assert.ok(list.body.data.some((t: any) => t.id === res.body.tenant.id));
  });

  test('tenant routes refuse a tenant key, and tenant creation names every bad field', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('POST', '/v1/tenants', { body: { name: 'x' } })).status, 401);
    const bad = await call(app.url, 'POST', '/v1/tenants', { key: 'operator_key_0123456789abcdef', body: { name: '', default_currency: 'euro', time_zone: 'Mars/Base', extra: 1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const fields = bad.body.errors.map((e: any) => e.field).sort();
    assert.deepEqual(fields, ['default_currency', 'extra', 'name']);
    const tz = await call(app.url, 'POST', '/v1/tenants', { key: 'operator_key_0123456789abcdef', body: { name: 'Z', time_zone: 'Mars/Base', default_currency: 'XYZ' } });
    assert.equal(tz.status, 400);
    assert.deepEqual(tz.body.errors.map((e: any) => e.field).sort(), ['default_currency', 'time_zone']);
  });

  test('keys: created with scopes, shown once, hashed, revocable, last use recorded', async () => {
    const t = await app.newTenant();
    const created = await t.api('POST', '/v1/api-keys', { body: { name: 'POS', scopes: ['write'] } });
    assert.equal(created.status, 201);
    const secret = created.body.key as string;
    assert.equal(created.body.prefix, secret.slice(0, 10));
    const stored = await app.patron.db.query('SELECT key_hash FROM api_keys WHERE tenant_id = $1 AND id = $2', [t.id, created.body.id]);
    assert.notEqual(stored.rows[0].key_hash.toString(), secret);
    assert.equal((await t.api('GET', '/v1/members', { key: secret })).status, 200);
    const listed = await t.api('GET', '/v1/api-keys');
    const entry = listed.body.data.find((k: any) => k.id === created.body.id);
    assert.equal(entry.key, undefined, 'the secret is never listed');
    assert.ok(entry.last_used_at, 'last use is recorded');
    // write scope cannot administer keys
    assert.equal((await t.api('GET', '/v1/api-keys', { key: secret })).status, 403);
    const revoked = await t.api('DELETE', `/v1/api-keys/${created.body.id}`);
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revoked_at);
    assert.equal((await t.api('GET', '/v1/members', { key: secret })).status, 401);
  });

  test('a read-scoped key reads but cannot write', async () => {
    const t = await app.newTenant();
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('GET', '/v1/members', { key: read })).status, 200);
    const w = await t.api('POST', '/v1/members', { key: read, body: { email: 'x@example.com' } });
    assert.equal(w.status, 403);
    assert.equal(w.body.code, 'forbidden');
  });

  test('missing, malformed and unknown keys are 401 problem documents', async () => {
    for (const key of [null, 'nonsense', 'ptr_unknownunknownunknownunknown']) {
      const res = await call(app.url, 'GET', '/v1/members', { key });
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'unauthorized');
    }
  });

  test('PATCH /v1/tenant updates settings with an admin key', async () => {
    const t = await app.newTenant();
    const res = await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'Europe/Warsaw', notification_email: 'ops@example.com' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.time_zone, 'Europe/Warsaw');
    const bad = await t.api('PATCH', '/v1/tenant', { body: {} });
    assert.equal(bad.status, 400);
  });
});

describe('idempotent creation of tenants and keys', () => {
  const op = 'operator_key_0123456789abcdef';

  test('POST /v1/tenants with an Idempotency-Key creates one tenant; the replay hides the key; another body is a 409', async () => {
    const key = `tenant-${Date.now()}`;
    const body = { name: 'Idempotent Bakery', default_currency: 'PLN' };
    const first = await call(app.url, 'POST', '/v1/tenants', { key: op, body, headers: { 'idempotency-key': key } });
    assert.equal(first.status, 201);
    assert.match(first.body.api_key, /^ptr_/);
    const again = await call(app.url, 'POST', '/v1/tenants', { key: op, body, headers: { 'idempotency-key': key } });
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.tenant.id, first.body.tenant.id);
    assert.equal(again.body.api_key, null, 'the admin key is shown once');
    const count = await app.patron.db.query(`SELECT count(*)::int AS n FROM tenants WHERE name = 'Idempotent Bakery'`);
    assert.equal(count.rows[0].n, 1);
    const other = await call(app.url, 'POST', '/v1/tenants', { key: op, body: { name: 'Another' }, headers: { 'idempotency-key': key } });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'idempotency_key_reused');
  });

  test('creating and revoking a key emit api_key.created and api_key.revoked, without the key', async () => {
    const t = await app.newTenant();
    const created = await t.api('POST', '/v1/api-keys', { body: { name: 'POS', scopes: ['write'] } });
    assert.equal((await t.api('DELETE', `/v1/api-keys/${created.body.id}`)).status, 200);
    const events = (await t.api('GET', '/v1/domain-events?limit=100')).body.data;
    const made = events.filter((e: any) => e.type === 'api_key.created');
    // The initial admin key's event follows tenant.created; then the POS key's.
    assert.deepEqual(events.map((e: any) => e.type).slice(0, 2), ['tenant.created', 'api_key.created']);
    const adminKeyId = made[0].payload.key_id;
    assert.deepEqual(made.map((e: any) => e.payload), [
      { key_id: adminKeyId, name: 'Initial admin key', scopes: ['admin'], created_by: null },
      { key_id: created.body.id, name: 'POS', scopes: ['write'], created_by: adminKeyId },
    ]);
    const revoked = events.filter((e: any) => e.type === 'api_key.revoked');
    assert.deepEqual(revoked.map((e: any) => e.payload), [{ key_id: created.body.id, name: 'POS' }]);
    const text = JSON.stringify(events);
    assert.ok(!text.includes(created.body.key) && !text.includes(created.body.key.slice(0, 10)), 'no key nor prefix in any event');
    // Revoking again changes nothing and says nothing.
    await t.api('DELETE', `/v1/api-keys/${created.body.id}`);
    assert.equal((await t.api('GET', '/v1/domain-events?type=api_key.revoked')).body.data.length, 1);
  });

  test('a replayed POST /v1/api-keys never returns or stores the secret', async () => {
    const t = await app.newTenant();
    const headers = { 'idempotency-key': 'new-pos-key' };
    const first = await t.api('POST', '/v1/api-keys', { body: { name: 'POS', scopes: ['write'] }, headers });
    assert.equal(first.status, 201);
    assert.match(first.body.key, /^ptr_/);
    const again = await t.api('POST', '/v1/api-keys', { body: { name: 'POS', scopes: ['write'] }, headers });
    assert.equal(again.status, 201);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.key, null);
    const stored = await app.patron.db.query(`SELECT response_body::text AS b FROM idempotency_keys WHERE tenant_id = $1`, [t.id]);
    assert.ok(stored.rows.length > 0);
    for (const r of stored.rows) assert.ok(!r.b.includes(first.body.key), 'the secret is not in the answer store');
  });

  test('resolved keys are cached only while revocations can be heard, and a revocation anywhere ends the cache', async () => {
    const t = await app.newTenant();
    const key = await t.keyWith(['read']);
    const get = async () => (await call(app.url, 'GET', '/v1/tenant', { key })).status;
    assert.equal(await get(), 200);
    // Revoked behind Patron's back (no announcement): the process still holds the key resolved...
    await app.patron.db.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND name = 'read'`, [t.id]);
    assert.equal(await get(), 200, 'served from the cache');
    // ...until a change is announced, as every revocation through Patron (API or CLI, any process) does.
    await app.patron.db.query(`SELECT pg_notify('patron_api_keys', '')`);
    for (let i = 0; i < 50 && (await get()) === 200; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await get(), 401);

    // Without the listening connection, nothing is cached: a revocation takes effect at once.
    const key2 = await t.keyWith(['read']);
    assert.equal((await call(app.url, 'GET', '/v1/tenant', { key: key2 })).status, 200);
    // This app's listener only: other test files' apps (and any other run on the server) keep theirs.
    const listener = app.patron.notifications?.backendPid;
    assert.ok(listener, 'the app listens');
    assert.equal((await app.patron.db.query(`SELECT pg_terminate_backend($1) AS done`, [listener])).rows[0].done, true);
    let lost = false;
    for (let i = 0; i < 250 && !lost; i++) {
      lost = app.patron.notifications?.listening === false;
      if (!lost) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(lost, 'the app saw its listener go');
    // The cache was dropped when the connection went (whether or not it is back by now): the revocation is seen.
    await app.patron.db.query(`UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL AND name = 'read'`, [t.id]);
    assert.equal((await call(app.url, 'GET', '/v1/tenant', { key: key2 })).status, 401);
  });
});
