/**
 * The API conventions every module inherits (docs/conventions.md): problem+json
 * errors, body limits and content types, rate limits, pagination, request ids,
 * health/readiness/metrics, the audit log, configuration and the clock.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/platform/config.js';
import { DEFAULT_TENANT_ID } from '../src/modules/tenants/tenants.service.js';
import { createScratchDatabase, type ScratchDatabase } from '../src/platform/db/scratch-database.js';
import { call, startTestApp, type ApiResponse, type TestApp, type TestTenant } from './helpers.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fieldsOf = (res: ApiResponse) => (res.body.errors as Array<{ field: string }>).map((e) => e.field).sort();

/** Every problem document has the same shape, whatever produced it. */
function assertProblem(res: ApiResponse, status: number, code?: string) {
  assert.equal(res.status, status, res.text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const b = res.body;
  assert.equal(typeof b, 'object', `a JSON problem document, got ${res.text}`);
  assert.equal(typeof b.type, 'string');
  assert.ok(b.type.length > 0);
  assert.equal(typeof b.title, 'string');
  assert.equal(b.status, status);
  assert.equal(typeof b.detail, 'string');
  assert.ok(b.detail.length > 0);
  assert.equal(typeof b.code, 'string');
  if (code) assert.equal(b.code, code);
  assert.ok(Array.isArray(b.errors));
  for (const e of b.errors) {
    assert.equal(typeof e.field, 'string');
    assert.equal(typeof e.detail, 'string');
  }
  assert.equal(b.request_id, res.headers.get('x-request-id'), 'the problem names the request id of its response');
}

async function makeMembers(t: TestTenant, n: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, j) => t.api('POST', '/v1/members', { body: { external_id: `${prefix}-${i + j}`, first_name: `M${i + j}` } })),
    );
    for (const r of batch) {
      assert.equal(r.status, 201, r.text);
      ids.push(r.body.id);
    }
  }
  return ids;
}

describe('errors are problem+json', () => {
  test('a bad body names every bad field, with the full problem shape', async () => {
    const t = await app.newTenant();
    const res = await t.api('POST', '/v1/members', { body: { email: 'nope', phone: '123', locale: 'xx', birth_date: 'yesterday', colour: 'red' } });
    assertProblem(res, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(res), ['birth_date', 'colour', 'email', 'locale', 'phone']);
    assert.match(res.body.type, /^https?:\/\//);
    for (const e of res.body.errors) assert.ok(e.detail.length > 0);
    // 401, 403 and 404 have the same shape.
    assertProblem(await t.api('GET', '/v1/members', { key: null }), 401, 'unauthorized');
    assertProblem(await t.api('GET', '/v1/audit-log', { key: await t.keyWith(['read']) }), 403, 'forbidden');
    assertProblem(await t.api('GET', `/v1/members/${crypto.randomUUID()}`), 404, 'not_found');
    // A bad path parameter is a 400 naming it, never a 500.
    const badId = await t.api('GET', '/v1/members/not-a-uuid');
    assertProblem(badId, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(badId), ['id']);
  });

  test('invalid JSON is a 400 naming the body', async () => {
    const t = await app.newTenant();
    const res = await t.api('POST', '/v1/members', { raw: '{"email": "a@example.com",', headers: { 'content-type': 'application/json' } });
    assertProblem(res, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(res), ['(body)']);
    assert.match(res.body.errors[0].detail, /JSON/);
  });

  test('an empty JSON body is a 400 naming the body; a JSON body that is not an object too', async () => {
    const t = await app.newTenant();
    const empty = await t.api('POST', '/v1/members', { raw: '', headers: { 'content-type': 'application/json' } });
    assertProblem(empty, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(empty), ['(body)']);
    const array = await t.api('POST', '/v1/members', { body: [1, 2] });
    assertProblem(array, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(array), ['(body)']);
  });

  test('a route that takes no body refuses JSON fields as unknown, and accepts no body or {}', async () => {
    const t = await app.newTenant();
    const m = await t.api('POST', '/v1/members', { body: { email: 'nobody@example.com' } });
    assert.equal(m.status, 201);
    const extra = await t.api('POST', `/v1/members/${m.body.id}/unblock`, { body: { force: true, reason: 'x' } });
    assertProblem(extra, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(extra), ['force', 'reason']);
    const array = await t.api('POST', `/v1/members/${m.body.id}/unblock`, { body: [1] });
    assertProblem(array, 400, 'validation_failed');
    assert.equal((await t.api('POST', `/v1/members/${m.body.id}/unblock`)).status, 200);
    assert.equal((await t.api('POST', `/v1/members/${m.body.id}/unblock`, { body: {} })).status, 200);
    const emptyJson = await t.api('POST', `/v1/members/${m.body.id}/unblock`, { raw: '', headers: { 'content-type': 'application/json' } });
    assert.equal(emptyJson.status, 200, 'an empty body with a JSON content type is no body');
    const blocked = await t.api('POST', `/v1/members/${m.body.id}/block`, { raw: '', headers: { 'content-type': 'application/json' } });
    assert.equal(blocked.status, 200, 'block takes an optional body');
    assert.equal(blocked.body.status, 'blocked');
  });

  test('a NUL character in a query or path parameter is a 400 naming it, not a database error', async () => {
    const t = await app.newTenant();
    const q = await t.api('GET', '/v1/members?q=a%00b');
    assertProblem(q, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(q), ['q']);
    const p = await t.api('GET', '/v1/members/by-external-id/a%00b');
    assertProblem(p, 400, 'validation_failed');
    assert.deepEqual(fieldsOf(p), ['external_id']);
  });

  test('an unsupported content type is a 415', async () => {
    const t = await app.newTenant();
    for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
      const res = await t.api('POST', '/v1/members', { raw: 'email=a@example.com', headers: { 'content-type': type } });
      assertProblem(res, 415, 'unsupported_media_type');
    }
    assert.equal((await t.api('GET', '/v1/members?limit=500')).body.data.length, 0, 'nothing was created');
  });

  test('an unknown route is a 404 problem, with or without a key', async () => {
    const t = await app.newTenant();
    assertProblem(await t.api('GET', '/v1/no-such-thing'), 404, 'not_found');
    assertProblem(await call(app.url, 'GET', '/nowhere'), 404, 'not_found');
    assertProblem(await t.api('PUT', '/v1/members'), 404, 'not_found');
  });

  test('a body over BODY_LIMIT_BYTES is a 413', async () => {
    const small = await startTestApp({ env: { BODY_LIMIT_BYTES: '2048' } });
    try {
      assert.equal(small.patron.config.bodyLimit, 2048);
      const t = await small.newTenant();
      const big = await t.api('POST', '/v1/members', { body: { first_name: 'Big', attributes: { note: 'x'.repeat(3000) } } });
      assertProblem(big, 413, 'payload_too_large');
      const fits = await t.api('POST', '/v1/members', { body: { first_name: 'Fits', attributes: { note: 'x'.repeat(1500) } } });
      assert.equal(fits.status, 201, fits.text);
      assert.equal((await t.api('GET', '/v1/members?limit=500')).body.data.length, 1, 'only the body within the limit was written');
    } finally {
      await small.close();
    }
  });
});

describe('rate limiting', () => {
  test('per API key: the 6th request of a key in the window is a 429 with Retry-After; another key still passes', async () => {
    const limited = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '5' } });
    try {
      const t = await limited.newTenant();
      const other = await t.keyWith(['read']);
      for (let i = 1; i <= 5; i++) assert.equal((await t.api('GET', '/v1/members')).status, 200, `request ${i}`);
      const sixth = await t.api('GET', '/v1/members');
      assertProblem(sixth, 429, 'rate_limited');
      const retryAfter = Number(sixth.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After: ${sixth.headers.get('retry-after')}`);
      // A write of the limited key is refused too, and writes nothing.
      assertProblem(await t.api('POST', '/v1/members', { body: { first_name: 'Late' } }), 429, 'rate_limited');
      // Another key of the same tenant has its own budget.
      const fresh = await t.api('GET', '/v1/members', { key: other });
      assert.equal(fresh.status, 200);
      assert.equal(fresh.body.data.length, 0);
      // Health checks are never limited.
      for (let i = 0; i < 8; i++) assert.equal((await call(limited.url, 'GET', '/health')).status, 200);
    } finally {
      await limited.close();
    }
  });

  test('is off when RATE_LIMIT_ENABLED=false', async () => {
    const t = await app.newTenant();
    assert.equal(app.patron.config.rateLimit.enabled, false);
    for (let i = 0; i < 12; i++) assert.equal((await t.api('GET', '/v1/tenant')).status, 200);
  });
});

describe('pagination', () => {
  let t: TestTenant;
  let ids: string[];
  before(async () => {
    t = await app.newTenant();
    ids = await makeMembers(t, 120, 'page');
  });

  test('limit defaults to 50, accepts 500, and refuses 0, 501 and text naming `limit`', async () => {
    const first = await t.api('GET', '/v1/members');
    assert.equal(first.status, 200);
    assert.equal(first.body.data.length, 50);
    assert.equal(typeof first.body.next_cursor, 'string');
    const all = await t.api('GET', '/v1/members?limit=500');
    assert.equal(all.body.data.length, 120);
    assert.equal(all.body.next_cursor, null);
    for (const bad of ['501', '0', '-1', 'ten', '1.5']) {
      const res = await t.api('GET', `/v1/members?limit=${bad}`);
      assertProblem(res, 400, 'validation_failed');
      assert.deepEqual(fieldsOf(res), ['limit'], `limit=${bad}`);
    }
  });

  test('a garbage cursor is a 400 naming `cursor`', async () => {
    const lookalike = Buffer.from(JSON.stringify({ id: '-'.repeat(36) })).toString('base64url');
    const otherShape = Buffer.from(JSON.stringify({ seq: 5 })).toString('base64url');
    for (const cursor of ['garbage', '!!!', lookalike, otherShape, Buffer.from('[1,2]').toString('base64url'), 'x'.repeat(600)]) {
      const res = await t.api('GET', `/v1/members?cursor=${encodeURIComponent(cursor)}`);
      assertProblem(res, 400, 'validation_failed');
      assert.deepEqual(fieldsOf(res), ['cursor'], `cursor ${cursor.slice(0, 40)}`);
    }
    // Lists ordered by a sequence number refuse numbers outside the column's range.
    for (const seq of [1e300, -1, 1.5]) {
      const cursor = Buffer.from(JSON.stringify({ seq })).toString('base64url');
      const res = await t.api('GET', `/v1/domain-events?cursor=${cursor}`);
      assertProblem(res, 400, 'validation_failed');
      assert.deepEqual(fieldsOf(res), ['cursor'], `seq ${seq}`);
    }
  });

  test('walking pages with next_cursor visits every item exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: ApiResponse = await t.api('GET', `/v1/members?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.body.data.length <= 7);
      seen.push(...res.body.data.map((m: any) => m.id));
      cursor = res.body.next_cursor;
      pages++;
      assert.ok(pages <= 30, 'the walk ends');
    } while (cursor);
    assert.equal(pages, Math.ceil(120 / 7));
    assert.equal(new Set(seen).size, seen.length, 'no item twice');
    assert.deepEqual([...seen].sort(), [...ids].sort(), 'every item once');
  });

  test('every list route of the API follows the same rules', async () => {
    const routes = app.patron.http!.routeTable.filter((r) => r.method === 'GET' && r.url.startsWith('/v1/') && !r.url.includes(':') && r.policy !== 'operator');
    const lists: string[] = [];
    for (const r of routes) {
      const res = await t.api('GET', r.url);
      if (res.status !== 200 || typeof res.body !== 'object' || !Array.isArray(res.body.data) || !('next_cursor' in res.body)) continue;
      lists.push(r.url);
      assert.ok(res.body.data.length <= 50, `${r.url}: default limit`);
      assert.deepEqual(fieldsOf(await t.api('GET', `${r.url}?limit=501`)), ['limit'], `${r.url}?limit=501`);
      assert.equal((await t.api('GET', `${r.url}?limit=500`)).status, 200, `${r.url}?limit=500`);
      assert.deepEqual(fieldsOf(await t.api('GET', `${r.url}?cursor=garbage`)), ['cursor'], `${r.url}?cursor=garbage`);
      // Walk with a small page: no item twice.
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 200; i++) {
        const page: ApiResponse = await t.api('GET', `${r.url}?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(page.status, 200, `${r.url}: ${page.text}`);
        seen.push(...page.body.data.map((x: any) => JSON.stringify(x.id ?? x)));
        cursor = page.body.next_cursor;
        if (!cursor) break;
      }
      assert.equal(cursor, null, `${r.url}: the walk ends`);
      assert.equal(new Set(seen).size, seen.length, `${r.url}: no item twice`);
      const all = await t.api('GET', `${r.url}?limit=500`);
      if (all.body.next_cursor === null) assert.equal(seen.length, all.body.data.length, `${r.url}: every item once`);
    }
    for (const expected of ['/v1/members', '/v1/api-keys', '/v1/audit-log', '/v1/domain-events']) assert.ok(lists.includes(expected), `${expected} is a list`);
  });
});

describe('request ids', () => {
  test('every response carries x-request-id; an incoming one is echoed', async () => {
    const t = await app.newTenant();
    const responses = [
      await t.api('GET', '/v1/members'),
      await t.api('POST', '/v1/members', { body: { first_name: 'R' } }),
      await t.api('POST', '/v1/members', { body: { nope: 1 } }),
      await t.api('GET', '/v1/members', { key: null }),
      await t.api('GET', '/v1/nothing'),
      await t.api('POST', '/v1/members', { raw: '{', headers: { 'content-type': 'application/json' } }),
      await call(app.url, 'GET', '/health'),
      await call(app.url, 'GET', '/metrics'),
      await call(app.url, 'GET', '/openapi.json'),
    ];
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) assert.match(id ?? '', UUID_RE);
    assert.equal(new Set(ids).size, ids.length, 'a fresh id per request');

    const echoed = await t.api('POST', '/v1/members', { body: { nope: 1 }, headers: { 'x-request-id': 'trace-abc-123' } });
    assert.equal(echoed.headers.get('x-request-id'), 'trace-abc-123');
    assert.equal(echoed.body.request_id, 'trace-abc-123');
    const ok = await t.api('GET', '/v1/tenant', { headers: { 'x-request-id': 'trace-def-456' } });
    assert.equal(ok.headers.get('x-request-id'), 'trace-def-456');
  });
});

describe('health, readiness and metrics', () => {
  test('/health and /ready answer 200 without a key when migrated', async () => {
    const health = await call(app.url, 'GET', '/health');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await call(app.url, 'GET', '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('/metrics is Prometheus text with request counts, latency histogram, pool gauges and job counters', async () => {
    const countOf = (text: string) => {
      const line = text.split('\n').find((l) => l.startsWith('patron_http_request_duration_seconds_count{') && l.includes('route="/health"') && l.includes('method="GET"') && l.includes('status="200"'));
      return line ? Number(line.split(' ').pop()) : 0;
    };
    const before = (await call(app.url, 'GET', '/metrics')).text;
    for (let i = 0; i < 3; i++) await call(app.url, 'GET', '/health');
    await app.patron.jobs.runNow('idempotency.purge');
    const res = await call(app.url, 'GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = res.text;
    assert.equal(countOf(text), countOf(before) + 3, 'three more GET /health');
    assert.match(text, /^# TYPE patron_http_request_duration_seconds histogram$/m);
    assert.match(text, /^patron_http_request_duration_seconds_bucket\{[^}]*le="0\.005"[^}]*route="\/health"[^}]*\} \d+$/m);
    assert.match(text, /^patron_http_request_duration_seconds_bucket\{[^}]*le="\+Inf"[^}]*\} \d+$/m);
    assert.match(text, /^patron_http_request_duration_seconds_sum\{/m);
    for (const gauge of ['patron_db_pool_connections', 'patron_db_pool_idle', 'patron_db_pool_waiting']) {
      assert.match(text, new RegExp(`^# TYPE ${gauge} gauge$`, 'm'));
      assert.match(text, new RegExp(`^${gauge} \\d+$`, 'm'));
    }
    assert.match(text, /^# TYPE patron_job_runs_total counter$/m);
    assert.match(text, /^patron_job_runs_total\{job="idempotency\.purge",outcome="succeeded"\} [1-9]\d*$/m);
    assert.match(text, /^patron_job_duration_seconds_count\{job="idempotency\.purge"\} [1-9]\d*$/m);
    assert.match(text, /^patron_process_resident_memory_bytes \d+/m);
  });
});

describe('audit log', () => {
  test('records every write with the key id and the changed field names; reads and rejected writes are not recorded', async () => {
    const t = await app.newTenant();
    const writeKey = await t.keyWith(['write']);
    const keys = await t.api('GET', '/v1/api-keys?limit=500');
    const writeKeyId = keys.body.data.find((k: any) => k.prefix === writeKey.slice(0, 10)).id;

    const created = await t.api('POST', '/v1/members', { key: writeKey, body: { first_name: 'Audited', email: 'audited@example.com' } });
    assert.equal(created.status, 201);
    const patched = await t.api('PATCH', `/v1/members/${created.body.id}`, { key: writeKey, body: { last_name: 'Person', phone: '+359888123456' } });
    assert.equal(patched.status, 200);
    const before = await t.api('GET', '/v1/audit-log?limit=500');
    await t.api('GET', `/v1/members/${created.body.id}`, { key: writeKey });
    assert.equal((await t.api('PATCH', `/v1/members/${created.body.id}`, { key: writeKey, body: { email: 'bad' } })).status, 400);

    const log = await t.api('GET', `/v1/audit-log?resource_type=member&resource_id=${created.body.id}`);
    assert.equal(log.status, 200);
    assert.equal(log.body.data.length, 2, 'the create and the update, not the read or the rejected write');
    const [update, create] = log.body.data;
    assert.equal(update.action, 'PATCH /v1/members/:id');
    assert.equal(update.actor_type, 'api_key');
    assert.equal(update.actor_id, writeKeyId);
    assert.deepEqual([...update.changed_fields].sort(), ['last_name', 'phone']);
    assert.equal(update.request_id, patched.headers.get('x-request-id'));
    assert.equal(create.action, 'POST /v1/members');
    assert.deepEqual([...create.changed_fields].sort(), ['email', 'first_name']);
    assert.ok(!JSON.stringify(log.body).includes('audited@example.com'), 'names only, never values');
    assert.equal((await t.api('GET', '/v1/audit-log?limit=500')).body.data.length, before.body.data.length, 'the read and the rejected write left no entry');
    const byKey = await t.api('GET', `/v1/audit-log?actor_id=${writeKeyId}`);
    assert.equal(byKey.body.data.length, 2);
  });

  test('is admin-only', async () => {
    const t = await app.newTenant();
    assertProblem(await t.api('GET', '/v1/audit-log', { key: await t.keyWith(['read']) }), 403, 'forbidden');
    assertProblem(await t.api('GET', '/v1/audit-log', { key: await t.keyWith(['write']) }), 403, 'forbidden');
    assertProblem(await t.api('GET', '/v1/audit-log', { key: null }), 401, 'unauthorized');
    assert.equal((await t.api('GET', '/v1/audit-log')).status, 200);
  });

  test('an operator creating a tenant is recorded in that tenant\'s log', async () => {
    const operatorKey = `op_${crypto.randomBytes(16).toString('hex')}`;
    const op = await startTestApp({ env: { PATRON_OPERATOR_KEY: operatorKey } });
    try {
      const res = await call(op.url, 'POST', '/v1/tenants', { key: operatorKey, body: { name: 'Audited Café' } });
      assert.equal(res.status, 201, res.text);
      const log = await call(op.url, 'GET', '/v1/audit-log', { key: res.body.api_key });
      const entry = log.body.data.find((e: any) => e.action === 'POST /v1/tenants');
      assert.ok(entry, `an entry for the tenant's creation: ${log.text}`);
      assert.equal(entry.actor_type, 'operator');
      assert.equal(entry.resource_type, 'tenant');
      assert.equal(entry.resource_id, res.body.tenant.id);
      assert.deepEqual(entry.changed_fields, ['name']);
    } finally {
      await op.close();
    }
  });
});

describe('configuration', () => {
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
    assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  test('bad values are refused with a message naming the variable', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ PORT: 'abc' }, 'PORT', /whole number/],
      [{ PORT: '70000' }, 'PORT', /between/],
      [{ PATRON_API_KEY: 'short' }, 'PATRON_API_KEY', /24 characters/],
      [{ PATRON_OPERATOR_KEY: 'short' }, 'PATRON_OPERATOR_KEY', /24 characters/],
      [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL', /postgres/],
      [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', /URL/],
      [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
      [{ RATE_LIMIT_MAX: '0' }, 'RATE_LIMIT_MAX', /between/],
      [{ RATE_LIMIT_ENABLED: 'maybe' }, 'RATE_LIMIT_ENABLED', /true or false/],
      [{ BODY_LIMIT_BYTES: '-5' }, 'BODY_LIMIT_BYTES', /between/],
      [{ TRUST_PROXY: 'everyone' }, 'TRUST_PROXY', /hops or proxy addresses/],
      [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /hops or proxy addresses/],
      [{ TRUST_PROXY: '11' }, 'TRUST_PROXY', /at most 10/],
    ];
    for (const [env, name, detail] of cases) {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, `${JSON.stringify(env)}: ${problems.join('; ')}`);
      assert.ok(problems[0]!.startsWith(name), `${problems[0]} names ${name}`);
      assert.match(problems[0]!, detail);
    }
  });

  test('TRUST_PROXY: none by default, a number of hops, or proxy addresses and CIDR ranges', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1' }).trustProxy, ['10.0.0.1', '10.1.0.0/16', '::1']);
  });

  test('every bad value is reported at once, in the error message too', () => {
    let message = '';
    try {
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', RATE_LIMIT_MAX: '0', PATRON_API_KEY: 'short' });
    } catch (err) {
      message = (err as Error).message;
    }
    for (const name of ['PORT', 'LOG_LEVEL', 'RATE_LIMIT_MAX', 'PATRON_API_KEY']) assert.match(message, new RegExp(name));
  });

  test('an empty variable counts as unset', () => {
    const c = loadConfig({ PORT: '', HOST: ' ', DATABASE_URL: '', PATRON_API_KEY: '', PATRON_OPERATOR_KEY: '', LOG_LEVEL: '', RATE_LIMIT_MAX: '', RATE_LIMIT_ENABLED: '', BODY_LIMIT_BYTES: '' });
    assert.equal(c.port, 4000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.apiKey, undefined);
    assert.equal(c.operatorKey, undefined);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.rateLimit.max, 6000);
    assert.equal(c.rateLimit.enabled, true);
    assert.equal(c.bodyLimit, 1024 * 1024);
    const set = loadConfig({ PORT: '8080', DATABASE_URL: 'postgresql://u:p@db:5432/patron', LOG_LEVEL: 'warn', RATE_LIMIT_MAX: '10' });
    assert.deepEqual([set.port, set.databaseUrl, set.logLevel, set.rateLimit.max], [8080, 'postgresql://u:p@db:5432/patron', 'warn', 10]);
  });
});

describe('the clock', () => {
  test('is settable: what Patron records follows it', async () => {
    const t = await app.newTenant();
    try {
      app.clock.set('2031-05-06T07:08:09.000Z');
      const created = await t.api('POST', '/v1/members', { body: { first_name: 'Timely' } });
      assert.equal(created.status, 201);
      assert.equal(created.body.created_at, '2031-05-06T07:08:09.000Z');
      assert.equal(created.body.enrolled_at, '2031-05-06T07:08:09.000Z');
      app.clock.advance(24 * 3600_000);
      const patched = await t.api('PATCH', `/v1/members/${created.body.id}`, { body: { last_name: 'Later' } });
      assert.equal(patched.body.updated_at, '2031-05-07T07:08:09.000Z');
      const log = await t.api('GET', `/v1/audit-log?resource_id=${created.body.id}`);
      assert.deepEqual(log.body.data.map((e: any) => e.occurred_at), ['2031-05-07T07:08:09.000Z', '2031-05-06T07:08:09.000Z']);
    } finally {
      app.clock.reset();
    }
    assert.ok(Math.abs(app.clock.now().getTime() - Date.now()) < 60_000, 'reset returns to the real time');
  });
});

describe('PATRON_API_KEY', () => {
  // A database of its own: the configured key is rotated at start, which would
  // revoke the key of another test file configuring its own on a shared database.
  let database: ScratchDatabase;
  before(async () => {
    database = await createScratchDatabase(process.env.DATABASE_URL!, 'patron_config_key');
  });
  after(async () => {
    await database?.drop();
  });

  test('gives the default tenant an admin key at every start, even after it was revoked', async () => {
    const key = `patron_test_${crypto.randomBytes(16).toString('hex')}`;
    const first = await startTestApp({ env: { PATRON_API_KEY: key, DATABASE_URL: database.url } });
    try {
      const me = await call(first.url, 'GET', '/v1/tenant', { key });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, DEFAULT_TENANT_ID);
      const keys = await call(first.url, 'GET', '/v1/api-keys?limit=500', { key });
      assert.equal(keys.status, 200, 'the key has the admin scope');
      const own = keys.body.data.find((k: any) => k.prefix === key.slice(0, 10));
      assert.deepEqual(own.scopes, ['admin']);
      assert.equal((await call(first.url, 'DELETE', `/v1/api-keys/${own.id}`, { key })).status, 200);
      assert.equal((await call(first.url, 'GET', '/v1/tenant', { key })).status, 401, 'revoked');
    } finally {
      await first.close();
    }
    const second = await startTestApp({ env: { PATRON_API_KEY: key, DATABASE_URL: database.url } });
    try {
      const me = await call(second.url, 'GET', '/v1/tenant', { key });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, DEFAULT_TENANT_ID);
      assert.equal((await call(second.url, 'GET', '/v1/api-keys', { key })).status, 200, 'admin again');
    } finally {
      await second.close();
    }
  });

  test('a new value rotates the key: the earlier configured value stops working', async () => {
    const oldKey = `patron_old_${crypto.randomBytes(16).toString('hex')}`;
    const newKey = `patron_new_${crypto.randomBytes(16).toString('hex')}`;
    const first = await startTestApp({ env: { PATRON_API_KEY: oldKey, DATABASE_URL: database.url } });
    try {
      assert.equal((await call(first.url, 'GET', '/v1/tenant', { key: oldKey })).status, 200);
    } finally {
      await first.close();
    }
    const second = await startTestApp({ env: { PATRON_API_KEY: newKey, DATABASE_URL: database.url } });
    try {
      assert.equal((await call(second.url, 'GET', '/v1/tenant', { key: newKey })).status, 200);
      assert.equal((await call(second.url, 'GET', '/v1/tenant', { key: oldKey })).status, 401, 'the old value is revoked');
    } finally {
      await second.close();
    }
  });
});
