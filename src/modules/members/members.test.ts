/**
 * Members over the real HTTP API (real PostgreSQL, real server on loopback),
 * plus the pure validation rules.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { call, startTestApp, type ApiResponse, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { canonicalTimeZone } from '../../platform/dates.js';
import { validateMemberFields } from './members.service.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());
afterEach(() => app.clock.reset());

const fieldsOf = (res: ApiResponse) => (res.body?.errors ?? []).map((e: { field: string }) => e.field).sort();

function assertProblem(res: ApiResponse, status: number, fields?: string[]) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(res.body.status, status);
  if (fields) assert.deepEqual(fieldsOf(res), [...fields].sort(), res.text);
}

/** Rows a tenant has in every table a member write touches. */
async function footprint(tenantId: string) {
  const n = async (table: string) => Number((await app.patron.db.query(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = $1`, [tenantId])).rows[0].n);
  return {
    members: await n('members'),
    consents: await n('member_consents'),
    consent_events: await n('member_consent_events'),
    outbox: await n('outbox_events'),
    audit: await n('audit_log'),
    idempotency: await n('idempotency_keys'),
  };
}

async function eventsOf(t: TestTenant, memberId: string) {
  const res = await t.api('GET', `/v1/domain-events?aggregate_id=${memberId}&limit=500`);
  assert.equal(res.status, 200);
  return res.body.data as Array<{ type: string; payload: Record<string, unknown>; member_id: string; occurred_at: string }>;
}

const FULL = {
  external_id: 'CUST-0001',
  email: 'maria.ivanova@example.com',
  phone: '+359888123456',
  first_name: 'Мария',
  last_name: 'Иванова',
  birth_date: '1990-04-17',
  locale: 'bg',
  time_zone: 'Europe/Sofia',
  attributes: { favourite_drink: 'flat white', store: 'Sofia Center', visits: 12, tags: ['vip'] },
};

describe('create and read', () => {
  test('a member is created with every field and read back by id', async () => {
    const t = await app.newTenant();
    app.clock.set('2025-03-10T09:30:00.000Z');
    const created = await t.api('POST', '/v1/members', { body: FULL });
    assert.equal(created.status, 201, created.text);
    const m = created.body;
    assert.match(m.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
    for (const [k, v] of Object.entries(FULL)) assert.deepEqual(m[k], v, k);
    assert.equal(m.status, 'active');
    assert.equal(m.enrolled_at, '2025-03-10T09:30:00.000Z', 'enrolled now by default');
    assert.equal(m.created_at, '2025-03-10T09:30:00.000Z');
    assert.equal(m.blocked_at, null);
    assert.equal(m.erased_at, null);
    const got = await t.api('GET', `/v1/members/${m.id}`);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, m);
  });

  test('a member needs no field at all, takes the tenant default locale, and time zones are stored canonically', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('POST', '/v1/members', { body: {} })).body.locale, 'en');
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { default_locale: 'pl' } })).status, 200);
    const m = await t.api('POST', '/v1/members', { body: { time_zone: 'europe/warsaw' } });
    assert.equal(m.status, 201);
    assert.equal(m.body.locale, 'pl');
    assert.equal(m.body.time_zone, 'Europe/Warsaw');
    assert.deepEqual(m.body.attributes, {});
  });

  test('enrolled_at may be given for members who joined before Patron', async () => {
    const t = await app.newTenant();
    const m = await t.api('POST', '/v1/members', { body: { enrolled_at: '2019-06-01T08:00:00+03:00', birth_date: '1980-01-01' } });
    assert.equal(m.status, 201, m.text);
    assert.equal(m.body.enrolled_at, '2019-06-01T05:00:00.000Z');
  });

  test('an unknown id is a 404 problem, a malformed id a 400 naming it', async () => {
    const t = await app.newTenant();
    assertProblem(await t.api('GET', '/v1/members/0190f0e4-0000-7000-8000-000000000000'), 404);
    assertProblem(await t.api('GET', '/v1/members/not-a-uuid'), 400, ['id']);
    assertProblem(await t.api('PATCH', '/v1/members/0190f0e4-0000-7000-8000-000000000000', { body: { email: 'a@example.com' } }), 404);
  });

  test("another tenant's member is a 404 by id and by external id", async () => {
    const a = await app.newTenant();
    const b = await app.newTenant();
    const m = (await a.api('POST', '/v1/members', { body: { external_id: 'only-in-a' } })).body;
    assertProblem(await b.api('GET', `/v1/members/${m.id}`), 404);
    assertProblem(await b.api('GET', '/v1/members/by-external-id/only-in-a'), 404);
    assertProblem(await b.api('PATCH', `/v1/members/${m.id}`, { body: { email: 'x@example.com' } }), 404);
    assert.deepEqual((await b.api('GET', '/v1/members?external_id=only-in-a')).body.data, []);
  });
});

describe('update (PATCH changes only the fields sent)', () => {
  test('fields not sent are kept; null clears a field; updated_at moves', async () => {
    const t = await app.newTenant();
    app.clock.set('2025-01-01T10:00:00Z');
    const m = (await t.api('POST', '/v1/members', { body: FULL })).body;
    app.clock.set('2025-01-02T10:00:00Z');
    const res = await t.api('PATCH', `/v1/members/${m.id}`, { body: { phone: '+359899000111', last_name: null } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.phone, '+359899000111');
    assert.equal(res.body.last_name, null);
    for (const k of ['external_id', 'email', 'first_name', 'birth_date', 'locale', 'time_zone', 'attributes', 'enrolled_at', 'created_at'] as const) {
      assert.deepEqual(res.body[k], m[k], k);
    }
    assert.equal(res.body.updated_at, '2025-01-02T10:00:00.000Z');
    assert.deepEqual((await t.api('GET', `/v1/members/${m.id}`)).body, res.body);
  });

  test('attributes are merged: keys sent are set, null removes a key, attributes: null removes all', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { attributes: { drink: 'latte', store: 'Vitosha', size: 'M' } } })).body;
    const merged = await t.api('PATCH', `/v1/members/${m.id}`, { body: { attributes: { drink: 'cappuccino', size: null, milk: 'oat' } } });
    assert.equal(merged.status, 200, merged.text);
    assert.deepEqual(merged.body.attributes, { drink: 'cappuccino', store: 'Vitosha', milk: 'oat' });
    const cleared = await t.api('PATCH', `/v1/members/${m.id}`, { body: { attributes: null } });
    assert.deepEqual(cleared.body.attributes, {});
  });

  test('the key limit applies to the merged attributes', async () => {
    const t = await app.newTenant();
    const first = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`a${i}`, i]));
    const second = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`b${i}`, i]));
    const m = (await t.api('POST', '/v1/members', { body: { attributes: first } })).body;
    const before = await footprint(t.id);
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: { attributes: second } }), 400, ['attributes']);
    assert.deepEqual(await footprint(t.id), before);
    assert.deepEqual((await t.api('GET', `/v1/members/${m.id}`)).body.attributes, first);
  });

  test('an update that changes nothing emits no member.updated', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: FULL })).body;
    const same = await t.api('PATCH', `/v1/members/${m.id}`, { body: { email: FULL.email, attributes: { tags: ['vip'] }, time_zone: 'europe/sofia' } });
    assert.equal(same.status, 200);
    assert.equal(same.body.updated_at, m.updated_at);
    assert.deepEqual((await eventsOf(t, m.id)).map((e) => e.type), ['member.created']);
  });

  test('an empty PATCH is a 400', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: {} }), 400);
  });

  test('enrolled_at can be corrected, within the same rules as at creation', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { birth_date: '2000-05-05' } })).body;
    const ok = await t.api('PATCH', `/v1/members/${m.id}`, { body: { enrolled_at: '2021-01-01T00:00:00Z' } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.enrolled_at, '2021-01-01T00:00:00.000Z');
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: { enrolled_at: '1999-01-01T00:00:00Z' } }), 400, ['enrolled_at']);
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: { birth_date: '2022-01-01' } }), 400, ['birth_date']);
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: { enrolled_at: '2999-01-01T00:00:00Z' } }), 400, ['enrolled_at']);
  });
});

describe('external id', () => {
  test('GET and PATCH by the path form, and GET ?external_id=', async () => {
    const t = await app.newTenant();
    const ids = ['CUST-42', 'shop/eu/42', 'клиент 42', 'a+b@c?d#e'];
    for (const ext of ids) {
      const m = (await t.api('POST', '/v1/members', { body: { external_id: ext, first_name: 'X' } })).body;
      const byPath = await t.api('GET', `/v1/members/by-external-id/${encodeURIComponent(ext)}`);
      assert.equal(byPath.status, 200, `${ext}: ${byPath.text}`);
      assert.equal(byPath.body.id, m.id);
      const patched = await t.api('PATCH', `/v1/members/by-external-id/${encodeURIComponent(ext)}`, { body: { first_name: 'Y' } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.id, m.id);
      assert.equal(patched.body.first_name, 'Y');
      const byQuery = await t.api('GET', `/v1/members?external_id=${encodeURIComponent(ext)}`);
      assert.deepEqual(byQuery.body.data.map((x: any) => x.id), [m.id]);
    }
    assertProblem(await t.api('GET', '/v1/members/by-external-id/nobody'), 404);
    assertProblem(await t.api('PATCH', '/v1/members/by-external-id/nobody', { body: { first_name: 'Z' } }), 404);
    assertProblem(await t.api('GET', `/v1/members/by-external-id/${'x'.repeat(201)}`), 400, ['external_id']);
    // the longest external id, percent-encoded, still fits in the path
    const longest = 'я'.repeat(200);
    const long = (await t.api('POST', '/v1/members', { body: { external_id: longest } })).body;
    assert.equal((await t.api('GET', `/v1/members/by-external-id/${encodeURIComponent(longest)}`)).body.id, long.id);
    assertProblem(await t.api('GET', `/v1/members/by-external-id/${'x'.repeat(3000)}`), 400);
    assertProblem(await t.api('GET', '/v1/members/by-external-id/%E0%A4%A'), 400);
  });

  test('external_id is unique per tenant: 409 naming the field; the same id in another tenant is fine', async () => {
    const a = await app.newTenant();
    const b = await app.newTenant();
    const first = await a.api('POST', '/v1/members', { body: { external_id: 'E-1' } });
    assert.equal(first.status, 201);
    const before = await footprint(a.id);
    const dup = await a.api('POST', '/v1/members', { body: { external_id: 'E-1', email: 'other@example.com' } });
    assertProblem(dup, 409, ['external_id']);
    assert.equal(dup.body.code, 'conflict');
    assert.deepEqual(await footprint(a.id), before, 'nothing written');
    assert.equal((await b.api('POST', '/v1/members', { body: { external_id: 'E-1' } })).status, 201);

    const second = (await a.api('POST', '/v1/members', { body: { external_id: 'E-2' } })).body;
    assertProblem(await a.api('PATCH', `/v1/members/${second.id}`, { body: { external_id: 'E-1' } }), 409, ['external_id']);
    // Setting a member's own external id again is not a conflict; clearing it frees it.
    assert.equal((await a.api('PATCH', `/v1/members/${second.id}`, { body: { external_id: 'E-2' } })).status, 200);
    assert.equal((await a.api('PATCH', `/v1/members/${second.id}`, { body: { external_id: null } })).body.external_id, null);
    assert.equal((await a.api('POST', '/v1/members', { body: { external_id: 'E-2' } })).status, 201);
  });

  test('concurrent creates with one external_id: exactly one wins, the others get a 409 naming the field', async () => {
    const t = await app.newTenant();
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => t.api('POST', '/v1/members', { body: { external_id: 'RACE-1', first_name: `N${i}` } })));
    const statuses = results.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 201).length, 1, statuses.join(','));
    for (const r of results.filter((x) => x.status !== 201)) assertProblem(r, 409, ['external_id']);
    assert.equal((await footprint(t.id)).members, 1);
  });
});

describe('list, pagination and search', () => {
  test('cursor pagination walks every member once, in order; limit defaults to 50, allows 500, rejects 501', async () => {
    const t = await app.newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 55; i++) ids.push((await t.api('POST', '/v1/members', { body: { external_id: `P-${i}` } })).body.id);
    const firstPage = await t.api('GET', '/v1/members');
    assert.equal(firstPage.body.data.length, 50);
    assert.ok(firstPage.body.next_cursor);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await t.api('GET', `/v1/members?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.data.length <= 7);
      seen.push(...res.body.data.map((m: any) => m.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].sort());
    assert.equal(new Set(seen).size, 55);
    assert.equal((await t.api('GET', '/v1/members?limit=500')).body.data.length, 55);
    assert.equal((await t.api('GET', '/v1/members?limit=55')).body.next_cursor, null, 'no next cursor on the last page');
    for (const bad of ['501', '0', '-1', 'abc', '1.5']) assertProblem(await t.api('GET', `/v1/members?limit=${bad}`), 400, ['limit']);
    assertProblem(await t.api('GET', '/v1/members?cursor=nonsense'), 400, ['cursor']);
    assertProblem(await t.api('GET', '/v1/members?status=gone'), 400, ['status']);
    assertProblem(await t.api('GET', '/v1/members?locale=de'), 400, ['locale']);
  });

  test('search by email, phone, external id and name, in Latin, Cyrillic, Polish and Romanian script', async () => {
    const t = await app.newTenant();
    const people = {
      ivan: { first_name: 'Иван', last_name: 'Петров', email: 'ivan.petrov@example.com', phone: '+359888111222', external_id: 'BG-001', locale: 'bg' },
      anna: { first_name: 'Анна', last_name: 'Смирнова', email: 'anna.smirnova@example.org', phone: '+79161234567', external_id: 'RU-001', locale: 'ru' },
      lukasz: { first_name: 'Łukasz', last_name: 'Żółkiewski', email: 'Lukasz.Zolkiewski@Example.com', phone: '+48601234567', external_id: 'pl-001', locale: 'pl' },
      stefan: { first_name: 'Ștefan', last_name: 'Țăranu', email: 'stefan@example.ro', phone: '+40721234567', external_id: 'RO-001', locale: 'ro' },
      john: { first_name: 'John', last_name: 'Smith', email: 'john_smith@example.co.uk', phone: '+447700900123', external_id: 'UK-100%', locale: 'en' },
    };
    const id: Record<string, string> = {};
    for (const [k, p] of Object.entries(people)) id[k] = (await t.api('POST', '/v1/members', { body: p })).body.id;
    const search = async (qs: string) => {
      const res = await t.api('GET', `/v1/members?${qs}`);
      assert.equal(res.status, 200, `${qs}: ${res.text}`);
      return res.body.data.map((m: any) => Object.keys(id).find((k) => id[k] === m.id)).sort();
    };
    const q = (s: string) => search(`q=${encodeURIComponent(s)}`);
    // names, any case, any script
    assert.deepEqual(await q('ив'), ['ivan']);
    assert.deepEqual(await q('ИВАН'), ['ivan']);
    assert.deepEqual(await q('петр'), ['ivan']);
    assert.deepEqual(await q('Иван Пет'), ['ivan']);
    assert.deepEqual(await q('смирн'), ['anna']);
    assert.deepEqual(await q('ŁUK'), ['lukasz']);
    assert.deepEqual(await q('łukasz'), ['lukasz']);
    assert.deepEqual(await q('żół'), ['lukasz']);
    assert.deepEqual(await q('ȘTE'), ['stefan']);
    assert.deepEqual(await q('țăr'), ['stefan']);
    assert.deepEqual(await q('jo'), ['john']);
    // email prefix, case-insensitive
    assert.deepEqual(await q('lukasz.z'), ['lukasz']);
    assert.deepEqual(await q('ANNA.SMIRNOVA@'), ['anna']);
    // phone prefix, with or without +, spaces ignored
    assert.deepEqual(await q('+359888'), ['ivan']);
    assert.deepEqual(await q('48 601'), ['lukasz']);
    assert.deepEqual(await q('+7 916'), ['anna']);
    // external id prefix, exact case (they are the shop's codes)
    assert.deepEqual(await q('RU-0'), ['anna']);
    assert.deepEqual(await q('pl-'), ['lukasz']);
    // LIKE wildcards are literal
    assert.deepEqual(await q('UK-100%'), ['john']);
    assert.deepEqual(await q('%'), []);
    assert.deepEqual(await q('john_'), ['john']);
    assert.deepEqual(await q('a_n'), []);
    assert.deepEqual(await q('nobody'), []);
    // exact filters
    assert.deepEqual(await search('email=LUKASZ.ZOLKIEWSKI@EXAMPLE.COM'), ['lukasz']);
    assert.deepEqual(await search('email=lukasz'), []);
    assert.deepEqual(await search(`phone=${encodeURIComponent('+40721234567')}`), ['stefan']);
    assert.deepEqual(await search('phone=%2B4072'), []);
    assert.deepEqual(await search('external_id=RO-001'), ['stefan']);
    assert.deepEqual(await search('external_id=ro-001'), []);
    assert.deepEqual(await search('locale=ru'), ['anna']);
    assert.deepEqual(await search('q=a&locale=bg'), []);
    assertProblem(await t.api('GET', '/v1/members?q='), 400, ['q']);
    assertProblem(await t.api('GET', '/v1/members?q=%20%20'), 400, ['q']);
  });

  test('filter by status and by enrolment period', async () => {
    const t = await app.newTenant();
    const mk = async (enrolled: string) => (await t.api('POST', '/v1/members', { body: { enrolled_at: enrolled } })).body.id as string;
    const jan = await mk('2024-01-15T12:00:00Z');
    const feb = await mk('2024-02-15T12:00:00Z');
    const mar = await mk('2024-03-15T12:00:00Z');
    await t.api('POST', `/v1/members/${feb}/block`, { body: { reason: 'fraud' } });
    await t.api('POST', `/v1/members/${mar}/erase`);
    const ids = async (qs: string) => ((await t.api('GET', `/v1/members?${qs}`)).body.data as any[]).map((m) => m.id).sort();
    assert.deepEqual(await ids('status=active'), [jan]);
    assert.deepEqual(await ids('status=blocked'), [feb]);
    assert.deepEqual(await ids('status=erased'), [mar]);
    assert.deepEqual(await ids('enrolled_after=2024-02-01T00:00:00Z'), [feb, mar].sort());
    assert.deepEqual(await ids('enrolled_before=2024-02-15T12:00:00Z'), [jan]);
    assert.deepEqual(await ids('enrolled_after=2024-02-01T00:00:00Z&enrolled_before=2024-03-01T00:00:00Z&status=blocked'), [feb]);
    assertProblem(await t.api('GET', '/v1/members?enrolled_after=yesterday'), 400, ['enrolled_after']);
  });
});

describe('block and unblock', () => {
  test('block with a reason, block again is a no-op, unblock clears it', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { email: 'b@example.com' } })).body;
    app.clock.set('2025-05-01T12:00:00Z');
    const blocked = await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: 'Card shared with many people' } });
    assert.equal(blocked.status, 200, blocked.text);
    assert.equal(blocked.body.status, 'blocked');
    assert.equal(blocked.body.blocked_at, '2025-05-01T12:00:00.000Z');
    assert.equal(blocked.body.blocked_reason, 'Card shared with many people');
    app.clock.set('2025-05-02T12:00:00Z');
    const again = await t.api('POST', `/v1/members/${m.id}/block`);
    assert.equal(again.status, 200);
    assert.equal(again.body.blocked_at, '2025-05-01T12:00:00.000Z', 'the first block stands');
    // a blocked member can still be edited
    assert.equal((await t.api('PATCH', `/v1/members/${m.id}`, { body: { first_name: 'B' } })).status, 200);
    const unblocked = await t.api('POST', `/v1/members/${m.id}/unblock`);
    assert.equal(unblocked.status, 200);
    assert.equal(unblocked.body.status, 'active');
    assert.equal(unblocked.body.blocked_at, null);
    assert.equal(unblocked.body.blocked_reason, null);
    assert.equal((await t.api('POST', `/v1/members/${m.id}/unblock`)).body.status, 'active');
    const types = (await eventsOf(t, m.id)).map((e) => e.type);
    assert.deepEqual(types, ['member.created', 'member.blocked', 'member.updated', 'member.unblocked']);
  });

  test('bad block requests', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: '' } }), 400, ['reason']);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: 'a\u0000b' } }), 400, ['reason']);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: 'x'.repeat(501) } }), 400, ['reason']);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`, { body: { why: 'x' } }), 400, ['why']);
    assertProblem(await t.api('POST', '/v1/members/0190f0e4-0000-7000-8000-000000000000/block'), 404);
    assertProblem(await t.api('POST', '/v1/members/0190f0e4-0000-7000-8000-000000000000/unblock'), 404);
    assert.equal((await t.api('GET', `/v1/members/${m.id}`)).body.status, 'active');
  });

  test('a read key cannot block', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`, { key: await t.keyWith(['read']) }), 403);
  });
});

describe('bad input: always a 400 problem naming every bad field, never a 500, nothing written', () => {
  // [field as reported, body fragment]
  const BAD: Array<[string, Record<string, unknown>]> = [
    ['external_id', { external_id: '' }],
    ['external_id', { external_id: 'x'.repeat(201) }],
    ['external_id', { external_id: 'a\nb' }],
    ['external_id', { external_id: 42 }],
    ['external_id', { external_id: '  spaced  ' }],
    ['external_id', { external_id: 'trailing ' }],
    ['attributes', { attributes: { deep: [[[[[[[[[[1]]]]]]]]]] } }],
    ['email', { email: 'not-an-email' }],
    ['email', { email: 'a@b' }],
    ['email', { email: 'two@@example.com' }],
    ['email', { email: ' padded@example.com' }],
    ['email', { email: `${'x'.repeat(310)}@example.com` }],
    ['email', { email: 7 }],
    ['phone', { phone: '0888123456' }],
    ['phone', { phone: '+0888123456' }],
    ['phone', { phone: '+359 888 123 456' }],
    ['phone', { phone: '+12345' }],
    ['phone', { phone: '+1234567890123456' }],
    ['phone', { phone: 359888123456 }],
    ['first_name', { first_name: '' }],
    ['first_name', { first_name: '   ' }],
    ['first_name', { first_name: 'x'.repeat(101) }],
    ['first_name', { first_name: 'Iv\u0000an' }],
    ['first_name', { first_name: ['Ivan'] }],
    ['last_name', { last_name: '' }],
    ['last_name', { last_name: 'Pe\ttrov' }],
    ['last_name', { last_name: 'x'.repeat(101) }],
    ['last_name', { last_name: false }],
    ['birth_date', { birth_date: '2023-02-29' }],
    ['birth_date', { birth_date: '1990-13-01' }],
    ['birth_date', { birth_date: '17/04/1990' }],
    ['birth_date', { birth_date: '1990-04-17T00:00:00Z' }],
    ['birth_date', { birth_date: '2999-01-01' }],
    ['birth_date', { birth_date: '1899-12-31' }],
    ['birth_date', { birth_date: 19900417 }],
    ['locale', { locale: 'de' }],
    ['locale', { locale: 'EN' }],
    ['locale', { locale: 'bg-BG' }],
    ['locale', { locale: null }],
    ['time_zone', { time_zone: 'Mars/Olympus_Mons' }],
    ['time_zone', { time_zone: '+02:00' }],
    ['time_zone', { time_zone: '' }],
    ['time_zone', { time_zone: 2 }],
    ['attributes', { attributes: ['a'] }],
    ['attributes', { attributes: 'drink=latte' }],
    ['attributes', { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }],
    ['attributes', { attributes: { ['k'.repeat(101)]: 1 } }],
    ['attributes', { attributes: { '': 1 } }],
    ['attributes', { attributes: { note: 'x'.repeat(8200) } }],
    ['attributes', { attributes: { note: 'a\u0000b' } }],
    ['attributes', { attributes: { nested: { 'k\u0000': 1 } } }],
    ['consent', { consent: true }],
    ['consent.email', { consent: { email: 'yes' } }],
    ['consent.fax', { consent: { fax: true } }],
    ['consent_source', { consent: { email: true }, consent_source: '' }],
    ['consent_source', { consent_source: 'checkout' }],
    ['enrolled_at', { enrolled_at: 'yesterday' }],
    ['enrolled_at', { enrolled_at: '2024-01-01T00:00:00' }],
    ['enrolled_at', { enrolled_at: '2024-01-01' }],
    ['enrolled_at', { enrolled_at: '2999-01-01T00:00:00Z' }],
    ['enrolled_at', { enrolled_at: '1850-01-01T00:00:00Z' }],
    ['enrolled_at', { enrolled_at: '2000-01-01T00:00:00Z', birth_date: '2001-01-01' }],
    ['nickname', { nickname: 'Vanko' }],
    ['status', { status: 'blocked' }],
    ['id', { id: '0190f0e4-0000-7000-8000-000000000000' }],
  ];

  test('every bad field on create is named, and nothing is written', async () => {
    const t = await app.newTenant();
    const before = await footprint(t.id);
    for (const [field, body] of BAD) {
      const res = await t.api('POST', '/v1/members', { body });
      assertProblem(res, 400);
      assert.ok(fieldsOf(res).includes(field), `${JSON.stringify(body).slice(0, 80)}: expected ${field} in ${res.text}`);
      assert.equal(res.body.code, 'validation_failed');
      assert.ok(res.body.errors.every((e: any) => typeof e.detail === 'string' && e.detail.length > 0));
    }
    assert.deepEqual(await footprint(t.id), before);
  });

  test('every bad field on update is named, by id and by external id, and nothing is written', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { ...FULL } })).body;
    const before = await footprint(t.id);
    for (const [field, body] of BAD) {
      for (const path of [`/v1/members/${m.id}`, `/v1/members/by-external-id/${FULL.external_id}`]) {
        const res = await t.api('PATCH', path, { body });
        assertProblem(res, 400);
        assert.ok(fieldsOf(res).includes(field), `PATCH ${JSON.stringify(body).slice(0, 80)}: expected ${field} in ${res.text}`);
      }
    }
    assert.deepEqual(await footprint(t.id), before);
    assert.deepEqual((await t.api('GET', `/v1/members/${m.id}`)).body, m);
  });

  test('several bad fields are reported together, schema and semantic rules alike', async () => {
    const t = await app.newTenant();
    const before = await footprint(t.id);
    const body = {
      email: 'nope', phone: '12345', first_name: '', birth_date: '2999-12-31', locale: 'fr', time_zone: 'Atlantis/Capital',
      attributes: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i])), enrolled_at: '3000-01-01T00:00:00Z', color: 'blue', size: 'L',
    };
    const res = await t.api('POST', '/v1/members', { body });
    assertProblem(res, 400, ['attributes', 'birth_date', 'color', 'email', 'enrolled_at', 'first_name', 'locale', 'phone', 'size', 'time_zone']);
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    const mid = await footprint(t.id);
    const upd = await t.api('PATCH', `/v1/members/${m.id}`, { body: { birth_date: '2999-01-01', time_zone: 'Nowhere', email: 'x' } });
    assertProblem(upd, 400, ['birth_date', 'email', 'time_zone']);
    assert.deepEqual(await footprint(t.id), mid);
    assert.equal(mid.members, before.members + 1);
  });

  test('bodies that are not a JSON object, wrong content types and bad headers', async () => {
    const t = await app.newTenant();
    const before = await footprint(t.id);
    for (const raw of ['[]', '"x"', 'null', '42', '{"email":', '{"email": "a@example.com",}']) {
      const res = await t.api('POST', '/v1/members', { raw, headers: { 'content-type': 'application/json' } });
      assertProblem(res, 400);
    }
    assertProblem(await t.api('POST', '/v1/members', { raw: '', headers: { 'content-type': 'application/json' } }), 400);
    assertProblem(await t.api('POST', '/v1/members', { raw: 'email=a@example.com', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    assertProblem(await t.api('POST', '/v1/members', { body: {}, headers: { 'idempotency-key': 'bad key with spaces' } }), 400);
    assert.deepEqual(await footprint(t.id), before);
  });

  test('bad input never causes a 500 (random bodies)', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    const values: unknown[] = ['', ' ', '\u0000', '😀', 'ű', -1, 0, 1e308, true, null, [], {}, [null], { a: { b: [1, { c: '\u0000' }] } }, 'x'.repeat(5000), '2024-02-30', '+359888123456', 'a@example.com', 'Europe/Sofia'];
    const keys = ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'attributes', 'consent', 'consent_source', 'enrolled_at'];
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 150; i++) {
      const body: Record<string, unknown> = {};
      for (let j = 0; j < 1 + rnd(4); j++) body[keys[rnd(keys.length)]!] = values[rnd(values.length)];
      for (const [method, path] of [['POST', '/v1/members'], ['PATCH', `/v1/members/${m.id}`]] as const) {
        const res = await t.api(method, path, { body });
        assert.ok(res.status < 500, `${method} ${JSON.stringify(body).slice(0, 200)} -> ${res.status} ${res.text}`);
        if (res.status >= 400) assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
      }
    }
  });
});

describe('marketing consent', () => {
  test('no consent by default; grants and withdrawals per channel keep source, time and full history', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { email: 'c@example.com' } })).body;
    for (const ch of ['email', 'sms', 'push']) assert.deepEqual(m.consent[ch], { granted: false, source: null, updated_at: null });
    assert.deepEqual((await t.api('GET', `/v1/members/${m.id}/consents`)).body.data, []);

    app.clock.set('2025-02-01T10:00:00Z');
    const granted = await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'email', granted: true, source: 'checkout' } });
    assert.equal(granted.status, 200, granted.text);
    assert.deepEqual(granted.body.consent.email, { granted: true, source: 'checkout', updated_at: '2025-02-01T10:00:00.000Z' });
    assert.equal(granted.body.consent.sms.granted, false);
    app.clock.set('2025-02-05T10:00:00Z');
    await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'sms', granted: true, source: 'pos' } });
    app.clock.set('2025-03-01T18:30:00Z');
    const withdrawn = await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'email', granted: false, source: 'unsubscribe_link' } });
    assert.deepEqual(withdrawn.body.consent.email, { granted: false, source: 'unsubscribe_link', updated_at: '2025-03-01T18:30:00.000Z' });
    assert.equal(withdrawn.body.consent.sms.granted, true);
    // the same state again is not a change and not a new history entry
    app.clock.set('2025-03-02T00:00:00Z');
    await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'email', granted: false, source: 'preference_center' } });
    app.clock.set('2025-04-01T00:00:00Z');
    await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'email', granted: true, source: 'preference_center' } });

    const history = (await t.api('GET', `/v1/members/${m.id}/consents`)).body.data;
    assert.deepEqual(history.map((h: any) => [h.channel, h.granted, h.source, h.occurred_at]), [
      ['email', true, 'checkout', '2025-02-01T10:00:00.000Z'],
      ['sms', true, 'pos', '2025-02-05T10:00:00.000Z'],
      ['email', false, 'unsubscribe_link', '2025-03-01T18:30:00.000Z'],
      ['email', true, 'preference_center', '2025-04-01T00:00:00.000Z'],
    ]);
    // the history is a list like any other: pages of `limit`, walked with next_cursor
    const first = await t.api('GET', `/v1/members/${m.id}/consents?limit=3`);
    assert.equal(first.body.data.length, 3);
    assert.ok(first.body.next_cursor);
    const second = await t.api('GET', `/v1/members/${m.id}/consents?limit=3&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    assert.deepEqual(second.body.data.map((h: any) => h.occurred_at), ['2025-04-01T00:00:00.000Z']);
    assert.equal(second.body.next_cursor, null);
    const changes = (await eventsOf(t, m.id)).filter((e) => e.type === 'member.consent_changed');
    assert.equal(changes.length, 4);
    assert.deepEqual(changes[2]!.payload, { member_id: m.id, channel: 'email', granted: false, source: 'unsubscribe_link' });
  });

  test('consent given at creation and in an update, with its source', async () => {
    const t = await app.newTenant();
    const m = await t.api('POST', '/v1/members', { body: { email: 'd@example.com', consent: { email: true, push: false }, consent_source: 'signup_form' } });
    assert.equal(m.status, 201);
    assert.equal(m.body.consent.email.granted, true);
    assert.equal(m.body.consent.email.source, 'signup_form');
    assert.equal(m.body.consent.push.granted, false);
    const u = await t.api('PATCH', `/v1/members/${m.body.id}`, { body: { consent: { email: false, sms: true } } });
    assert.equal(u.body.consent.email.granted, false);
    assert.equal(u.body.consent.email.source, 'api', 'the default source');
    assert.equal(u.body.consent.sms.granted, true);
    const history = (await t.api('GET', `/v1/members/${m.body.id}/consents`)).body.data;
    assert.deepEqual(history.map((h: any) => `${h.channel}:${h.granted}:${h.source}`).sort(), ['email:false:api', 'email:true:signup_form', 'push:false:signup_form', 'sms:true:api']);
  });

  test('bad consent requests', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: {} })).body;
    const before = await footprint(t.id);
    const path = `/v1/members/${m.id}/consents`;
    assertProblem(await t.api('POST', path, { body: { channel: 'fax', granted: true, source: 'x' } }), 400, ['channel']);
    assertProblem(await t.api('POST', path, { body: { channel: 'email', granted: 'yes', source: 'x' } }), 400, ['granted']);
    assertProblem(await t.api('POST', path, { body: { channel: 'email', granted: true } }), 400, ['source']);
    assertProblem(await t.api('POST', path, { body: { channel: 'email', granted: true, source: '' } }), 400, ['source']);
    assertProblem(await t.api('POST', path, { body: { channel: 'email', granted: true, source: 'x', at: 'now' } }), 400, ['at']);
    assertProblem(await t.api('POST', path, { body: {} }), 400, ['channel', 'granted', 'source']);
    assertProblem(await t.api('POST', '/v1/members/0190f0e4-0000-7000-8000-000000000000/consents', { body: { channel: 'email', granted: true, source: 'x' } }), 404);
    assertProblem(await t.api('GET', '/v1/members/0190f0e4-0000-7000-8000-000000000000/consents'), 404);
    assert.deepEqual(await footprint(t.id), before);
  });
});

describe('GDPR export and erasure', () => {
  async function richMember(t: TestTenant) {
    const m = (await t.api('POST', '/v1/members', { body: { ...FULL, consent: { email: true, sms: true }, consent_source: 'signup_form' } })).body;
    await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: 'Disputed purchase by Мария' } });
    await t.api('PATCH', `/v1/members/${m.id}`, { body: { first_name: 'Мариела' } });
    return m;
  }

  test('export (admin only) holds the member, consent history and events', async () => {
    const t = await app.newTenant();
    const m = await richMember(t);
    assertProblem(await t.api('GET', `/v1/members/${m.id}/export`, { key: await t.keyWith(['write']) }), 403);
    assertProblem(await t.api('GET', `/v1/members/${m.id}/export`, { key: await t.keyWith(['read']) }), 403);
    const res = await t.api('GET', `/v1/members/${m.id}/export`);
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.exported_at);
    assert.equal(res.body.member.id, m.id);
    assert.equal(res.body.member.first_name, 'Мариела');
    assert.equal(res.body.member.email, FULL.email);
    assert.deepEqual(res.body.member.attributes, FULL.attributes);
    assert.equal(res.body.member.consent.email.granted, true);
    assert.deepEqual(res.body.consent_history.map((h: any) => `${h.channel}:${h.granted}:${h.source}`), ['email:true:signup_form', 'sms:true:signup_form']);
    assert.deepEqual(res.body.events.map((e: any) => e.type), ['member.created', 'member.consent_changed', 'member.consent_changed', 'member.blocked', 'member.updated']);
    // Other modules' sections (points, orders, redemptions, events, wallet, …) are tested with those modules.
    for (const s of ['events', 'orders', 'points', 'redemptions']) assert.ok(s in res.body.sections, `section ${s}`);
    assertProblem(await t.api('GET', '/v1/members/0190f0e4-0000-7000-8000-000000000000/export'), 404);
  });

  test('erase: personal fields anonymised, consents withdrawn, status erased, id kept, member.erased emitted', async () => {
    const t = await app.newTenant();
    // After 2030 (test/helpers.ts): the stored Idempotency-Key answer must outlive other files' idempotency.purge runs.
    app.clock.set('2031-05-01T00:00:00Z');
    const replayBody = { ...FULL, external_id: 'CUST-IDEM', email: 'idem@example.com' };
    const idem = await t.api('POST', '/v1/members', { body: replayBody, headers: { 'idempotency-key': 'create-idem-1' } });
    assert.equal(idem.status, 201);
    const m = await richMember(t);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/erase`, { key: await t.keyWith(['write']) }), 403);
    app.clock.set('2031-06-01T00:00:00Z');
    const erased = await t.api('POST', `/v1/members/${m.id}/erase`);
    assert.equal(erased.status, 200, erased.text);
    const e = erased.body;
    assert.equal(e.id, m.id);
    assert.equal(e.status, 'erased');
    assert.equal(e.erased_at, '2031-06-01T00:00:00.000Z');
    for (const k of ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'time_zone', 'blocked_reason']) assert.equal(e[k], null, k);
    assert.deepEqual(e.attributes, {});
    assert.equal(e.enrolled_at, m.enrolled_at, 'dates that are not personal are kept');
    for (const ch of ['email', 'sms']) assert.deepEqual(e.consent[ch], { granted: false, source: 'erasure', updated_at: '2031-06-01T00:00:00.000Z' });
    assert.deepEqual(e.consent.push, { granted: false, source: null, updated_at: null }, 'a channel never granted gets no fake withdrawal');

    // the row and id remain, with nothing personal in the database
    assert.deepEqual((await t.api('GET', `/v1/members/${m.id}`)).body, e);
    const row = (await app.patron.db.query('SELECT * FROM members WHERE tenant_id = $1 AND id = $2', [t.id, m.id])).rows[0];
    const text = JSON.stringify(row);
    for (const v of [FULL.email, FULL.phone, FULL.last_name, 'Мариела', 'flat white', 'CUST-0001', '1990-04-17', 'Disputed']) assert.ok(!text.includes(v), v);
    const history = (await t.api('GET', `/v1/members/${m.id}/consents`)).body.data;
    assert.deepEqual(history.map((h: any) => `${h.channel}:${h.granted}:${h.source}`), ['email:true:signup_form', 'sms:true:signup_form', 'email:false:erasure', 'sms:false:erasure']);
    const events = await eventsOf(t, m.id);
    assert.equal(events.filter((x) => x.type === 'member.erased').length, 1);
    assert.equal(events.at(-1)!.type, 'member.erased');

    // erased members cannot be changed; erasing again is fine and emits nothing
    assertProblem(await t.api('PATCH', `/v1/members/${m.id}`, { body: { email: 'back@example.com' } }), 422);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/block`), 422);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/unblock`), 422);
    assertProblem(await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'email', granted: true, source: 'x' } }), 422);
    const again = await t.api('POST', `/v1/members/${m.id}/erase`);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, e);
    assert.equal((await eventsOf(t, m.id)).filter((x) => x.type === 'member.erased').length, 1);

    // the external id is free again
    assertProblem(await t.api('GET', `/v1/members/by-external-id/${FULL.external_id}`), 404);
    const reuse = await t.api('POST', '/v1/members', { body: { external_id: FULL.external_id } });
    assert.equal(reuse.status, 201);
    assert.notEqual(reuse.body.id, m.id);

    // the export of an erased member holds nothing personal
    const exported = JSON.stringify((await t.api('GET', `/v1/members/${m.id}/export`)).body);
    for (const v of [FULL.email, FULL.phone, 'Мариела', 'flat white']) assert.ok(!exported.includes(v), v);

    // a stored Idempotency-Key answer about an erased member no longer holds its data
    await t.api('POST', `/v1/members/${idem.body.id}/erase`);
    const replay = await t.api('POST', '/v1/members', { body: replayBody, headers: { 'idempotency-key': 'create-idem-1' } });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.id, idem.body.id);
    assert.equal(replay.body.status, 'erased');
    assert.equal(replay.body.email, null);
    const stored = JSON.stringify((await app.patron.db.query('SELECT response_body FROM idempotency_keys WHERE tenant_id = $1', [t.id])).rows);
    assert.ok(!stored.includes('idem@example.com'));
  });

  test('erase of an unknown member is a 404', async () => {
    const t = await app.newTenant();
    assertProblem(await t.api('POST', '/v1/members/0190f0e4-0000-7000-8000-000000000000/erase'), 404);
  });
});

describe('domain events and audit log', () => {
  test('every change emits its event, in order, with ids and field names but no personal data', async () => {
    const t = await app.newTenant();
    const m = (await t.api('POST', '/v1/members', { body: { ...FULL, consent: { email: true }, consent_source: 'checkout' } })).body;
    await t.api('PATCH', `/v1/members/${m.id}`, { body: { email: 'new.address@example.com', phone: '+359877000000', locale: 'bg' } });
    await t.api('POST', `/v1/members/${m.id}/consents`, { body: { channel: 'sms', granted: true, source: 'pos' } });
    await t.api('POST', `/v1/members/${m.id}/block`, { body: { reason: 'chargeback' } });
    await t.api('POST', `/v1/members/${m.id}/unblock`);
    await t.api('POST', `/v1/members/${m.id}/erase`);
    const events = await eventsOf(t, m.id);
    assert.deepEqual(events.map((e) => e.type), [
      'member.created', 'member.consent_changed', 'member.updated', 'member.consent_changed', 'member.blocked', 'member.unblocked',
      'member.consent_changed', 'member.consent_changed', 'member.erased',
    ]);
    for (const e of events) {
      assert.equal(e.member_id, m.id);
      assert.equal(e.payload.member_id, m.id);
    }
    assert.deepEqual(events[2]!.payload, { member_id: m.id, changed_fields: ['email', 'phone'] }, 'only fields whose value changed');
    const all = JSON.stringify(events);
    for (const v of [FULL.email, 'new.address', FULL.phone, '+359877000000', FULL.first_name, FULL.last_name, FULL.external_id, FULL.birth_date, 'flat white', 'chargeback']) {
      assert.ok(!all.includes(v), `event payloads hold ${v}`);
    }
  });

  test('the audit log names the key, the action and the changed fields, never values', async () => {
    const t = await app.newTenant();
    const made = await t.api('POST', '/v1/api-keys', { body: { name: 'POS till 3', scopes: ['write'] } });
    const key = made.body.key as string;
    const m = (await t.api('POST', '/v1/members', { key, body: { email: 'audit@example.com', first_name: 'Ана' } })).body;
    await t.api('PATCH', `/v1/members/${m.id}`, { key, body: { phone: '+359888999000', attributes: { drink: 'mocha' } } });
    await t.api('POST', `/v1/members/${m.id}/consents`, { key, body: { channel: 'push', granted: true, source: 'app' } });
    await t.api('POST', `/v1/members/${m.id}/block`, { key });
    await t.api('POST', `/v1/members/${m.id}/erase`);
    // rejected requests leave no entry
    await t.api('PATCH', `/v1/members/${m.id}`, { key, body: { phone: 'bad' } });
    const log = await t.api('GET', `/v1/audit-log?resource_type=member&resource_id=${m.id}`);
    assert.equal(log.status, 200, log.text);
    const entries = [...log.body.data].reverse();
    assert.deepEqual(entries.map((e: any) => [e.action, e.actor_id, e.changed_fields]), [
      ['POST /v1/members', made.body.id, ['email', 'first_name']],
      ['PATCH /v1/members/:id', made.body.id, ['phone', 'attributes']],
      ['POST /v1/members/:id/consents', made.body.id, ['consent.push']],
      ['POST /v1/members/:id/block', made.body.id, ['status']],
      ['POST /v1/members/:id/erase', entries[4]?.actor_id, ['erased']],
    ]);
    assert.notEqual(entries[4].actor_id, made.body.id);
    for (const e of entries) assert.equal(e.actor_type, 'api_key');
    const text = JSON.stringify(log.body);
    for (const v of ['audit@example.com', 'Ана', '+359888999000', 'mocha']) assert.ok(!text.includes(v), v);
    assertProblem(await t.api('GET', '/v1/audit-log', { key }), 403);
  });
});

describe('validateMemberFields (pure rules)', () => {
  const now = new Date('2025-06-15T12:00:00Z');
  const fields = (input: Record<string, unknown>) => validateMemberFields(input as any, now).map((e) => e.field);

  test('birth dates: real, not in the future, not before 1900', () => {
    assert.deepEqual(fields({ birth_date: '2024-02-29' }), []);
    assert.deepEqual(fields({ birth_date: '2025-02-29' }), ['birth_date']);
    assert.deepEqual(fields({ birth_date: '1990-04-31' }), ['birth_date']);
    assert.deepEqual(fields({ birth_date: '2025-06-15' }), [], 'born today');
    assert.deepEqual(fields({ birth_date: '2025-06-16' }), [], 'already the 16th east of UTC');
    assert.deepEqual(fields({ birth_date: '2025-06-17' }), ['birth_date']);
    assert.deepEqual(fields({ birth_date: '1900-01-01' }), []);
    assert.deepEqual(fields({ birth_date: '1899-12-31' }), ['birth_date']);
    assert.deepEqual(fields({ birth_date: null }), []);
  });

  test('time zones must be IANA names', () => {
    assert.deepEqual(fields({ time_zone: 'Europe/Bucharest' }), []);
    assert.deepEqual(fields({ time_zone: 'UTC' }), []);
    assert.deepEqual(fields({ time_zone: 'Europe/Atlantis' }), ['time_zone']);
    assert.deepEqual(fields({ time_zone: '+03:00' }), ['time_zone']);
    assert.equal(canonicalTimeZone('europe/moscow'), 'Europe/Moscow');
    assert.equal(canonicalTimeZone('GMT+3'), null);
  });

  test('attributes: key count, key length, size and NUL', () => {
    assert.deepEqual(fields({ attributes: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 1])) }), []);
    assert.deepEqual(fields({ attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 1])) }), ['attributes']);
    assert.deepEqual(fields({ attributes: { ['k'.repeat(100)]: 1 } }), []);
    assert.deepEqual(fields({ attributes: { ['k'.repeat(101)]: 1 } }), ['attributes']);
    assert.deepEqual(fields({ attributes: { x: 'y'.repeat(8180) } }), []);
    assert.deepEqual(fields({ attributes: { x: 'я'.repeat(4100) } }), ['attributes'], 'bytes, not characters');
    assert.deepEqual(fields({ attributes: { x: [{ y: 'a\u0000' }] } }), ['attributes']);
  });

  test('enrolled_at: not in the future (5 minutes of skew allowed), not before 1900 nor the birth date', () => {
    assert.deepEqual(fields({ enrolled_at: '2025-06-15T12:04:00Z' }), []);
    assert.deepEqual(fields({ enrolled_at: '2025-06-15T12:06:00Z' }), ['enrolled_at']);
    assert.deepEqual(fields({ enrolled_at: '1899-12-31T23:00:00Z' }), ['enrolled_at']);
    assert.deepEqual(fields({ enrolled_at: '2010-01-01T00:00:00Z', birth_date: '2010-01-01' }), []);
    assert.deepEqual(fields({ enrolled_at: '2009-12-31T00:00:00Z', birth_date: '2010-01-01' }), ['enrolled_at']);
  });

  test('consent_source only with consent; values of the wrong type are left to the schema', () => {
    assert.deepEqual(fields({ consent_source: 'pos' }), ['consent_source']);
    assert.deepEqual(fields({ consent_source: 'pos', consent: { sms: true } }), []);
    assert.deepEqual(fields({ birth_date: 1990, time_zone: 5, attributes: [1], enrolled_at: {} }), []);
    assert.deepEqual(fields({ birth_date: '2999-01-01', time_zone: 'X/Y', enrolled_at: '2999-01-01T00:00:00Z' }).sort(), ['birth_date', 'enrolled_at', 'time_zone']);
  });
});

test('the members routes are documented in the OpenAPI document', async () => {
  const doc = (await call(app.url, 'GET', '/openapi.json')).body;
  for (const p of ['/v1/members', '/v1/members/{id}', '/v1/members/by-external-id/{external_id}', '/v1/members/{id}/consents', '/v1/members/{id}/export', '/v1/members/{id}/erase', '/v1/members/{id}/block', '/v1/members/{id}/unblock']) {
    assert.ok(doc.paths[p], p);
  }
  const params = doc.paths['/v1/members'].get.parameters.map((x: any) => x.name);
  for (const n of ['limit', 'cursor', 'q', 'email', 'phone', 'external_id', 'status', 'locale', 'enrolled_after', 'enrolled_before']) assert.ok(params.includes(n), n);
});
