/**
 * The demo program against a real Patron: idempotent, deterministic, and data a
 * marketer would recognise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, startTestApp, type TestApp } from '../../test/helpers.js';
import { LOCALES } from '../platform/http/schema.js';
import { loadDemo, type DemoResult } from './demo.js';
import { DEMO_MEMBER_COUNT, generateDemoMembers } from './members.demo.js';
import { asciiName, NAMES } from './names.js';
import { Rng, uuidV7At } from './random.js';
import { DEMO_TENANT_ID } from './tenant.demo.js';

let app: TestApp;
let first: DemoResult;
let second: DemoResult;

before(async () => {
  app = await startTestApp();
  first = await loadDemo(app.patron);
  second = await loadDemo(app.patron);
});
after(() => app.close());

const q = async <T = any>(sql: string, values: unknown[] = [DEMO_TENANT_ID]) => (await app.patron.db.query(sql, values)).rows as [T, ...T[]];

describe('demo program', () => {
  test('running it twice gives the same tenant and the same members; each run mints a working admin key', async () => {
    assert.equal(first.tenantId, DEMO_TENANT_ID);
    assert.equal(second.tenantId, DEMO_TENANT_ID);
    assert.equal(first.membersInserted, DEMO_MEMBER_COUNT);
    assert.equal(second.membersInserted, 0);
    const [{ n }] = await q<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE tenant_id = $1');
    assert.equal(n, DEMO_MEMBER_COUNT);
    const [{ created }] = await q<{ created: number }>(`SELECT count(*)::int AS created FROM outbox_events WHERE tenant_id = $1 AND type = 'member.created'`);
    assert.equal(created, DEMO_MEMBER_COUNT, 'events were not emitted twice');
    assert.notEqual(first.apiKey, second.apiKey);
    for (const key of [first.apiKey, second.apiKey]) {
      const res = await call(app.url, 'GET', '/v1/members?limit=3', { key });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 3);
      const exp = await call(app.url, 'GET', `/v1/members/${res.body.data[0].id}/export`, { key });
      assert.equal(exp.status, 200, 'the key has admin scope');
    }
    const tenant = (await call(app.url, 'GET', '/v1/tenant', { key: second.apiKey })).body;
    assert.equal(tenant.name, 'Brew & Bloom');
    assert.equal(tenant.default_locale, 'bg');
    assert.equal(tenant.time_zone, 'Europe/Sofia');
    assert.equal(tenant.default_currency, 'EUR');
  });

  test('concurrent runs do not load the members twice', async () => {
    const runs = await Promise.all([loadDemo(app.patron), loadDemo(app.patron)]);
    assert.deepEqual(runs.map((r) => r.membersInserted), [0, 0]);
    const [{ n }] = await q<{ n: number }>('SELECT count(*)::int AS n FROM members WHERE tenant_id = $1');
    assert.equal(n, DEMO_MEMBER_COUNT);
  });

  test('the data is deterministic: the same seed and anchor give the same members, as stored', async () => {
    const [{ created_at }] = await q<{ created_at: Date }>('SELECT created_at FROM tenants WHERE id = $1');
    const a = generateDemoMembers(created_at);
    const b = generateDemoMembers(created_at);
    assert.deepEqual(a, b);
    assert.notDeepEqual(generateDemoMembers(created_at, 50, 'another seed').map((m) => m.first_name), a.slice(0, 50).map((m) => m.first_name));
    const stored = await q<{ id: string; external_id: string | null; email: string | null; first_name: string | null }>(
      'SELECT id, external_id, email, first_name FROM members WHERE tenant_id = $1 ORDER BY id',
    );
    assert.deepEqual(stored.map((m) => m.id), a.map((m) => m.id).sort());
    const byId = new Map(a.map((m) => [m.id, m]));
    for (const s of stored.filter((m) => m.external_id !== null)) {
      assert.equal(s.external_id, byId.get(s.id)!.external_id);
      assert.equal(s.email, byId.get(s.id)!.email);
      assert.equal(s.first_name, byId.get(s.id)!.first_name);
    }
  });

  test('all five locales, names in their own scripts, plausible e-mails and phones', async () => {
    const rows = await q<{ locale: string; first_name: string; last_name: string; email: string | null; phone: string | null; status: string }>(
      `SELECT locale, first_name, last_name, email, phone, status FROM members WHERE tenant_id = $1 AND status <> 'erased'`,
    );
    const byLocale = new Map<string, typeof rows>();
    for (const r of rows) byLocale.set(r.locale, [...(byLocale.get(r.locale) ?? []), r]);
    for (const l of LOCALES) assert.ok((byLocale.get(l)?.length ?? 0) >= 100, `${l}: ${byLocale.get(l)?.length}`);
    assert.ok(byLocale.get('bg')!.length > byLocale.get('en')!.length, 'a Bulgarian chain: Bulgarian first');

    const cyrillic = /^[\u0400-\u04FF]+$/;
    for (const l of ['bg', 'ru'] as const) for (const r of byLocale.get(l)!) assert.match(`${r.first_name}${r.last_name}`, cyrillic);
    for (const l of ['en', 'ro', 'pl'] as const) for (const r of byLocale.get(l)!) assert.match(`${r.first_name}${r.last_name}`.replace(/'/g, ''), /^\p{Script=Latin}+$/u);
    assert.ok(byLocale.get('pl')!.some((r) => /[ąćęłńóśźż]/i.test(r.first_name + r.last_name)), 'Polish diacritics');
    assert.ok(byLocale.get('ro')!.some((r) => /[ăâîșț]/i.test(r.first_name + r.last_name)), 'Romanian diacritics');
    // Gendered surnames: Bulgarian and Russian women's surnames end in -а/-ая (Иванова, Жуковская).
    assert.ok(byLocale.get('bg')!.some((r) => r.first_name === 'Мария' && /а$/.test(r.last_name)));

    const prefix: Record<string, string[]> = { bg: ['+359'], ru: ['+7', '+359'], ro: ['+40', '+359'], pl: ['+48', '+359'], en: ['+44', '+359'] };
    for (const r of rows) {
      if (r.phone) {
        assert.match(r.phone, /^\+[1-9][0-9]{6,14}$/);
        assert.ok(prefix[r.locale]!.some((p) => r.phone!.startsWith(p)), `${r.locale} ${r.phone}`);
      }
      if (r.email) assert.match(r.email, /^[a-z0-9._]+@([a-z0-9]+\.)*(example|example\.(com|org|net))$/, r.email);
    }
    for (const l of ['ru', 'ro', 'pl', 'en']) assert.ok(byLocale.get(l)!.some((r) => r.phone && !r.phone.startsWith('+359')), `${l} home-country phones`);
    const emails = rows.flatMap((r) => (r.email ? [r.email] : []));
    assert.equal(new Set(emails).size, emails.length, 'e-mails are unique');
    assert.ok(emails.length > rows.length * 0.8);
    // e-mails are made from the names
    const ivanov = rows.find((r) => r.locale === 'bg' && r.email?.includes(asciiName(r.last_name, 'bg')));
    assert.ok(ivanov, 'some Bulgarian e-mails carry the transliterated surname');
  });

  test('enrolments spread over the two years before the demo began; birth dates before enrolment', async () => {
    const [{ created_at }] = await q<{ created_at: Date }>('SELECT created_at FROM tenants WHERE id = $1');
    const [span] = await q<{ first: Date; last: Date; months: number; bad_birth: number }>(
      `SELECT min(enrolled_at) AS first, max(enrolled_at) AS last,
              count(DISTINCT date_trunc('month', enrolled_at))::int AS months,
              count(*) FILTER (WHERE birth_date > enrolled_at::date)::int AS bad_birth
         FROM members WHERE tenant_id = $1`,
    );
    assert.ok(span!.last.getTime() < created_at.getTime());
    assert.ok(created_at.getTime() - span!.first.getTime() > 600 * 86_400_000);
    assert.ok(span!.months >= 24);
    assert.equal(span!.bad_birth, 0);
    const ids = await q<{ external_id: string }>(`SELECT external_id FROM members WHERE tenant_id = $1 AND external_id IS NOT NULL ORDER BY enrolled_at LIMIT 3`);
    assert.deepEqual(ids.map((r) => r.external_id), ['BB-000001', 'BB-000002', 'BB-000003']);
  });

  test('consents with sources and history, some blocked, a few erased, custom attributes', async () => {
    const [c] = await q<{ granted: number; withdrawn: number; sources: string[] }>(
      `SELECT count(*) FILTER (WHERE granted)::int AS granted, count(*) FILTER (WHERE NOT granted)::int AS withdrawn, array_agg(DISTINCT source) AS sources
         FROM member_consent_events WHERE tenant_id = $1`,
    );
    assert.ok(c!.granted > 1000, `granted ${c!.granted}`);
    assert.ok(c!.withdrawn > 100, `withdrawn ${c!.withdrawn}`);
    for (const s of ['pos_signup', 'app_onboarding', 'website_signup', 'unsubscribe_link', 'erasure']) assert.ok(c!.sources.includes(s), s);
    const [none] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM members m WHERE tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM member_consents c WHERE c.tenant_id = m.tenant_id AND c.member_id = m.id)`);
    assert.ok(none!.n > 100, 'many members never consented');

    const statuses: Record<string, number> = Object.fromEntries((await q<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM members WHERE tenant_id = $1 GROUP BY status')).map((r) => [r.status, r.n]));
    const nBlocked = statuses.blocked ?? 0;
    const nErased = statuses.erased ?? 0;
    assert.ok(nBlocked >= 10 && nBlocked <= 100, `blocked ${nBlocked}`);
    assert.ok(nErased >= 3 && nErased <= 40, `erased ${nErased}`);
    const erased = await q('SELECT * FROM members WHERE tenant_id = $1 AND status = $2', [DEMO_TENANT_ID, 'erased']);
    for (const e of erased) {
      for (const k of ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date']) assert.equal(e[k], null);
      assert.deepEqual(e.attributes, {});
    }
    const [granted] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM member_consents c JOIN members m ON m.tenant_id = c.tenant_id AND m.id = c.member_id WHERE c.tenant_id = $1 AND m.status = 'erased' AND c.granted`);
    assert.equal(granted!.n, 0, 'erased members hold no consent');
    const [ev] = await q<{ n: number }>(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.erased'`);
    assert.equal(ev!.n, nErased);
    const [remembered] = await q<{ n: number }>('SELECT count(*)::int AS n FROM member_erasures WHERE tenant_id = $1');
    assert.equal(remembered!.n, nErased, 'erased external ids are remembered, as erase does');

    const key = second.apiKey;
    const list = (await call(app.url, 'GET', '/v1/members?status=active&limit=200', { key })).body.data as any[];
    for (const m of list) {
      assert.ok(m.attributes.favourite_drink, 'favourite drink');
      assert.match(m.attributes.home_store, /^[A-Z]{3}-[A-Z]{3}$/);
    }
    const blocked = (await call(app.url, 'GET', '/v1/members?status=blocked', { key })).body.data as any[];
    assert.ok(blocked.every((m) => m.blocked_reason && m.blocked_at));
  });

  test('the demo members can be searched like real ones', async () => {
    const key = second.apiKey;
    const res = await call(app.url, 'GET', `/v1/members?q=${encodeURIComponent('мари')}&limit=500`, { key });
    assert.equal(res.status, 200);
    assert.ok(res.body.data.length > 0);
    assert.ok(res.body.data.every((m: any) => /^мари/i.test(m.first_name) || /^мари/i.test(m.last_name) || m.email?.startsWith('мари')));
    const byExt = await call(app.url, 'GET', '/v1/members/by-external-id/BB-000042', { key });
    assert.equal(byExt.status, 200);
  });
});

describe('demo building blocks', () => {
  test('Rng: seeded, repeatable, in range; forks are independent of use', () => {
    const a = new Rng('x');
    const b = new Rng('x');
    const seqA = Array.from({ length: 100 }, () => a.next());
    assert.deepEqual(seqA, Array.from({ length: 100 }, () => b.next()));
    assert.ok(seqA.every((v) => v >= 0 && v < 1));
    assert.notDeepEqual(seqA, Array.from({ length: 100 }, () => new Rng('y').next()));
    const r = new Rng('ints');
    const ints = Array.from({ length: 2000 }, () => r.int(3, 7));
    assert.deepEqual([...new Set(ints)].sort(), [3, 4, 5, 6, 7]);
    const used = new Rng('f');
    used.next();
    assert.equal(used.fork('k').next(), new Rng('f').fork('k').next());
  });

  test('uuidV7At: a valid v7 uuid whose time prefix sorts with the time', () => {
    const r = new Rng('u');
    const early = uuidV7At(new Date('2024-01-01T00:00:00Z'), r);
    const late = uuidV7At(new Date('2025-01-01T00:00:00Z'), r);
    assert.match(early, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(early < late);
    assert.equal(parseInt(early.replace(/-/g, '').slice(0, 12), 16), Date.parse('2024-01-01T00:00:00Z'));
  });

  test('names: gendered surnames and ASCII spellings for e-mail', () => {
    assert.equal(NAMES.bg.feminine('Иванов'), 'Иванова');
    assert.equal(NAMES.bg.feminine('Радомирски'), 'Радомирска');
    assert.equal(NAMES.ru.feminine('Жуковский'), 'Жуковская');
    assert.equal(NAMES.ru.feminine('Ильин'), 'Ильина');
    assert.equal(NAMES.pl.feminine('Kowalski'), 'Kowalska');
    assert.equal(NAMES.pl.feminine('Nowak'), 'Nowak');
    assert.equal(asciiName('Щерев', 'bg'), 'sherev'.replace('sh', 'sht'));
    assert.equal(asciiName('Жуковская', 'ru'), 'zhukovskaya');
    assert.equal(asciiName('Фёдоров', 'ru'), 'fedorov');
    assert.equal(asciiName('Łukasz', 'pl'), 'lukasz');
    assert.equal(asciiName('Żółkiewski', 'pl'), 'zolkiewski');
    assert.equal(asciiName('Ștefănescu', 'ro'), 'stefanescu');
    assert.equal(asciiName("O'Brien", 'en'), 'obrien');
  });
});
