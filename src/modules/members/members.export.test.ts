/**
 * Exporting members as CSV and NDJSON, and importing the export back: into
 * another tenant it recreates the same members, into the same tenant it
 * changes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { scratchDatabase, waitForImport } from '../../platform/imports/imports.testing.js';

let app: TestApp;
let dropDb: () => Promise<void>;
before(async () => {
  const db = await scratchDatabase(process.env.DATABASE_URL!, 'patron_members_export');
  dropDb = db.drop;
  app = await startTestApp({ jobs: 'work', env: { DATABASE_URL: db.url } });
});
after(async () => {
  await app?.close();
  await dropDb?.();
});

const COLUMNS = ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'enrolled_at', 'attributes', 'consent_email', 'consent_sms', 'consent_push'];

async function importFile(t: TestTenant, body: string, type: string): Promise<any> {
  const res = await t.api('POST', '/v1/members/import', { raw: body, headers: { 'content-type': type } });
  assert.equal(res.status, 202, res.text);
  return waitForImport(app.url, t.key, `/v1/members/import/${res.body.id}`);
}

/** Every member of a tenant, as the API shows them, without what is Patron's own (ids, times of change). */
async function members(t: TestTenant): Promise<any[]> {
  const res = await t.api('GET', '/v1/members?limit=500');
  assert.equal(res.status, 200);
  return res.body.data
    .filter((m: any) => m.status !== 'erased')
    .map((m: any) => ({
      external_id: m.external_id, email: m.email, phone: m.phone, first_name: m.first_name, last_name: m.last_name,
      birth_date: m.birth_date, locale: m.locale, time_zone: m.time_zone, enrolled_at: m.enrolled_at, attributes: m.attributes,
      consent: { email: m.consent.email.granted, sms: m.consent.sms.granted, push: m.consent.push.granted },
    }))
    .sort((a: any, b: any) => a.external_id.localeCompare(b.external_id));
}

async function seed(t: TestTenant): Promise<void> {
  const bodies = [
    { external_id: 'e-1', email: 'ann@example.com', phone: '+359888123456', first_name: 'Ann', last_name: 'Lee', birth_date: '1990-04-01', locale: 'bg', time_zone: 'Europe/Sofia', enrolled_at: '2021-05-06T07:08:09.123Z', attributes: { tier: 'gold', note: 'says "hi", then\nleaves', n: 3 }, consent: { email: true, sms: false } },
    { external_id: 'e-2', first_name: 'Łucja', last_name: 'Żółć', locale: 'pl' },
    { external_id: 'e,3 "quoted"', email: 'q@example.com', consent: { push: true } },
    { external_id: 'e-4', email: 'blocked@example.com' },
    { external_id: 'e-5', email: 'gone@example.com' },
  ];
  const ids: string[] = [];
  for (const body of bodies) {
    const res = await t.api('POST', '/v1/members', { body });
    assert.equal(res.status, 201, res.text);
    ids.push(res.body.id);
  }
  assert.equal((await t.api('POST', `/v1/members/${ids[0]}/consents`, { body: { channel: 'email', granted: false, source: 'support' } })).status, 200);
  assert.equal((await t.api('POST', `/v1/members/${ids[0]}/consents`, { body: { channel: 'email', granted: true, source: 'checkout' } })).status, 200);
  assert.equal((await t.api('POST', `/v1/members/${ids[3]}/block`, { body: {} })).status, 200);
  assert.equal((await t.api('POST', `/v1/members/${ids[4]}/erase`)).status, 200);
}

describe('members export', () => {
  test('CSV: the import columns, one row per member but the erased, and it imports back as it is', async () => {
    const t = await app.newTenant();
    await seed(t);
    const res = await t.api('GET', '/v1/members/export?format=csv');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="members\.csv"/);
    const records: string[][] = parse(res.text);
    assert.deepEqual(records[0], COLUMNS);
    assert.equal(records.length, 1 + 4, 'the erased member is left out');
    const ann = Object.fromEntries(COLUMNS.map((c, i) => [c, records.find((r) => r[0] === 'e-1')![i]]));
    assert.equal(ann.enrolled_at, '2021-05-06T07:08:09.123Z');
    assert.deepEqual(JSON.parse(ann.attributes!), { tier: 'gold', note: 'says "hi", then\nleaves', n: 3 });
    assert.equal(ann.consent_email, 'true');
    assert.equal(ann.consent_sms, 'false', 'stated: exported as false');
    assert.equal(ann.consent_push, '', 'never stated: empty');

    const copy = await app.newTenant();
    const imported = await importFile(copy, res.text, 'text/csv');
    assert.equal(imported.status, 'succeeded');
    assert.deepEqual(imported.counts, { created: 4, updated: 0, unchanged: 0, rejected: 0 });
    assert.deepEqual(imported.unknown_columns, []);
    assert.deepEqual(await members(copy), await members(t));

    const again = await importFile(t, res.text, 'text/csv');
    assert.deepEqual(again.counts, { created: 0, updated: 0, unchanged: 4, rejected: 0 }, 'the same data changes nothing');
  });

  test('NDJSON: typed values, and it imports back as it is', async () => {
    const t = await app.newTenant();
    await seed(t);
    // fetch itself: the test helper would parse any *json* body as one JSON document.
    const res = await fetch(`${app.url}/v1/members/export`, { headers: { authorization: `Bearer ${t.key}`, accept: 'application/x-ndjson' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const text = await res.text();
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    for (const l of lines) assert.deepEqual(Object.keys(l), COLUMNS);
    const ann = lines.find((l) => l.external_id === 'e-1');
    assert.deepEqual(ann.attributes, { tier: 'gold', note: 'says "hi", then\nleaves', n: 3 });
    assert.equal(ann.consent_email, true);
    assert.equal(ann.consent_push, null);
    assert.equal(ann.birth_date, '1990-04-01');

    const copy = await app.newTenant();
    const imported = await importFile(copy, text, 'application/x-ndjson');
    assert.deepEqual(imported.counts, { created: 4, updated: 0, unchanged: 0, rejected: 0 });
    assert.deepEqual(await members(copy), await members(t));
    assert.deepEqual((await importFile(t, text, 'application/x-ndjson')).counts, { created: 0, updated: 0, unchanged: 4, rejected: 0 });
  });

  test('a large export streams every member once, and only the tenant\'s own', async () => {
    const t = await app.newTenant();
    const other = await app.newTenant();
    const rows = ['external_id,email', ...Array.from({ length: 3000 }, (_, i) => `x-${i},x${i}@example.com`)];
    assert.equal((await importFile(t, rows.join('\n'), 'text/csv')).counts.created, 3000);
    assert.equal((await importFile(other, 'external_id\nnot-yours\n', 'text/csv')).counts.created, 1);
    const res = await t.api('GET', '/v1/members/export');
    const records: string[][] = parse(res.text, { from_line: 2 });
    assert.equal(records.length, 3000);
    assert.equal(new Set(records.map((r) => r[0])).size, 3000);
    assert.ok(!records.some((r) => r[0] === 'not-yours'));
    const empty = await (await app.newTenant()).api('GET', '/v1/members/export');
    assert.equal(empty.text, `${COLUMNS.join(',')}\n`, 'no members: the header alone');
  });

  test('an unknown format is a 400; exporting every member needs an admin key', async () => {
    const t = await app.newTenant();
    const bad = await t.api('GET', '/v1/members/export?format=xml');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['format']);
    assert.equal((await t.api('GET', '/v1/members/export', { key: await t.keyWith(['read']) })).status, 403);
    assert.equal((await t.api('GET', '/v1/members/export', { key: await t.keyWith(['write']) })).status, 403);
    assert.equal((await t.api('GET', '/v1/members/export', { key: await t.keyWith(['admin']) })).status, 200);
    assert.equal((await t.api('GET', '/v1/members/export', { key: null })).status, 401);
  });
});
