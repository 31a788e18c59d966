/**
 * Importing members: CSV and NDJSON, upsert by external_id, what a row may
 * change, rejected rows with their line and reason, consent from a file, and
 * erased members. Runs against its own database so that only this file's
 * Patron (and its clock) runs these imports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { scratchDatabase, waitForImport } from '../../platform/imports/imports.testing.js';

let app: TestApp;
let dropDb: () => Promise<void>;
before(async () => {
  const db = await scratchDatabase(process.env.DATABASE_URL!, 'patron_members_import');
  dropDb = db.drop;
  app = await startTestApp({ jobs: 'work', env: { DATABASE_URL: db.url } });
});
after(async () => {
  await app?.close();
  await dropDb?.();
});

async function importFile(t: TestTenant, body: string, type = 'text/csv'): Promise<any> {
  const res = await t.api('POST', '/v1/members/import', { raw: body, headers: { 'content-type': type } });
  assert.equal(res.status, 202, res.text);
  assert.equal(res.body.status, 'queued');
  assert.equal(res.headers.get('location'), `/v1/members/import/${res.body.id}`);
  return waitForImport(app.url, t.key, `/v1/members/import/${res.body.id}`);
}

const member = async (t: TestTenant, externalId: string) => {
  const res = await t.api('GET', `/v1/members/by-external-id/${encodeURIComponent(externalId)}`);
  return res.status === 200 ? res.body : null;
};

const events = async (t: TestTenant, type: string) => {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const res: any = await t.api('GET', `/v1/domain-events?type=${type}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
};

describe('members import', () => {
  test('a CSV file creates members with every column, and a second file updates only the columns it has', async () => {
    const t = await app.newTenant();
    const first = await importFile(t, [
      'external_id,email,phone,first_name,last_name,birth_date,locale,time_zone,enrolled_at,attributes,attr.tier,consent_email,consent_sms',
      'c-1,ann@example.com,+359888123456,Ann,Ivanova,1990-04-01,bg,europe/sofia,2023-01-02T03:04:05Z,"{""vip"": true}",gold,yes,no',
      'c-2,bob@example.com,,Bob,,,,,,,,,',
      '"c-3","cy@example.com","+48601234567","Cy ""the"" Kid","Nowak",2001-12-31,pl,Europe/Warsaw,,{},,1,0',
    ].join('\n'));
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    assert.deepEqual(first.counts, { created: 3, updated: 0, unchanged: 0, rejected: 0 });
    assert.equal(first.progress.rows_processed, 3);
    assert.equal(first.progress.bytes_processed, first.progress.bytes_total);
    assert.deepEqual(first.unknown_columns, []);
    assert.deepEqual(first.rejections, []);
    assert.ok(first.started_at && first.finished_at);

    const ann = await member(t, 'c-1');
    assert.equal(ann.email, 'ann@example.com');
    assert.equal(ann.phone, '+359888123456');
    assert.equal(ann.birth_date, '1990-04-01');
    assert.equal(ann.locale, 'bg');
    assert.equal(ann.time_zone, 'Europe/Sofia', 'time zones are stored in their canonical spelling');
    assert.equal(ann.enrolled_at, '2023-01-02T03:04:05.000Z');
    assert.deepEqual(ann.attributes, { vip: true, tier: 'gold' });
    assert.equal(ann.consent.email.granted, true);
    assert.equal(ann.consent.email.source, 'import');
    assert.equal(ann.consent.sms.granted, false);
    assert.equal(ann.consent.sms.source, null, '"no" for a member who never consented records nothing');
    const bob = await member(t, 'c-2');
    assert.equal(bob.locale, 'en', "the tenant's default locale");
    assert.equal(bob.last_name, null);
    assert.deepEqual(bob.attributes, {});
    assert.equal(bob.consent.email.granted, false, 'imported members have no consent unless the file says so');
    assert.equal((await member(t, 'c-3')).first_name, 'Cy "the" Kid');

    const history = await t.api('GET', `/v1/members/${ann.id}/consents`);
    assert.deepEqual(history.body.data.map((e: any) => [e.channel, e.granted, e.source]), [['email', true, 'import']]);
    assert.equal((await events(t, 'member.created')).length, 3);
    const consentEvents = await events(t, 'member.consent_changed');
    assert.deepEqual(consentEvents.map((e) => [e.member_id, e.payload.channel, e.payload.granted, e.payload.source]).sort(),
      [[ann.id, 'email', true, 'import'], [(await member(t, 'c-3')).id, 'email', true, 'import']].sort());

    // Second file: other columns; an empty cell clears, a missing column keeps.
    const second = await importFile(t, [
      'external_id,last_name,phone,attr.tier,consent_email,consent_push',
      'c-1,Petrova,,,no,',
      'c-2,Brown,+359888000111,silver,,yes',
      'c-3,Nowak,+48601234567,,,',
      'c-4,New,,,,',
    ].join('\r\n'));
    assert.equal(second.status, 'succeeded');
    assert.deepEqual(second.counts, { created: 1, updated: 2, unchanged: 1, rejected: 0 });
    const ann2 = await member(t, 'c-1');
    assert.equal(ann2.last_name, 'Petrova');
    assert.equal(ann2.phone, null, 'an empty cell clears the field');
    assert.equal(ann2.email, 'ann@example.com', 'a column the file does not have is kept');
    assert.deepEqual(ann2.attributes, { vip: true }, 'an empty attr.<name> cell removes that attribute only');
    assert.equal(ann2.consent.email.granted, false, 'a withdrawal from a file');
    const bob2 = await member(t, 'c-2');
    assert.deepEqual(bob2.attributes, { tier: 'silver' });
    assert.equal(bob2.consent.push.granted, true);
    const updates = await events(t, 'member.updated');
    assert.deepEqual(updates.map((e) => [e.member_id, [...e.payload.changed_fields].sort()]).sort(), [
      [ann.id, ['attributes', 'last_name', 'phone']],
      [bob.id, ['attributes', 'last_name', 'phone']],
    ].sort());
  });

  test('NDJSON: typed values, attributes objects, unknown keys reported', async () => {
    const t = await app.newTenant();
    const done = await importFile(t, [
      JSON.stringify({ external_id: 'n-1', email: 'n1@example.com', consent_email: true, attributes: { points: 10, tags: ['a'] }, shoe_size: 42 }),
      '',
      JSON.stringify({ external_id: 'n-2', first_name: 'Zoë', locale: 'ro', consent_sms: 'yes', 'attr.source': 'pos', enrolled_at: null }),
      JSON.stringify({ external_id: 'n-3', phone: 359888123456 }),
      '{"external_id": "n-4", broken',
      JSON.stringify(['n-5']),
    ].join('\n'), 'application/x-ndjson');
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(done.counts, { created: 2, updated: 0, unchanged: 0, rejected: 3 });
    assert.deepEqual(done.unknown_columns, ['shoe_size']);
    assert.deepEqual(done.rejections.map((r: any) => r.line), [4, 5, 6]);
    assert.match(done.rejections[0].reason, /^phone: must be of type string/);
    assert.match(done.rejections[1].reason, /not valid JSON/);
    assert.equal(done.rejections[2].reason, 'not a JSON object');
    const n1 = await member(t, 'n-1');
    assert.deepEqual(n1.attributes, { points: 10, tags: ['a'] });
    assert.equal(n1.consent.email.granted, true);
    const n2 = await member(t, 'n-2');
    assert.equal(n2.locale, 'ro');
    assert.deepEqual(n2.attributes, { source: 'pos' });
    assert.equal(n2.consent.sms.granted, true);
  });

  test('bad rows are rejected with their line and a reason naming the field; the valid rows are kept', async () => {
    const t = await app.newTenant();
    const rows = [
      'external_id,email,phone,birth_date,locale,time_zone,enrolled_at,attributes,consent_email,favourite_colour', // 1
      'ok-1,a@example.com,+359888123456,1980-01-01,en,UTC,,,,blue', // 2
      ',b@example.com,,,,,,,,', // 3 no external_id
      'bad-email,not-an-email,,,,,,,,', // 4
      'bad-phone,,0888 123 456,,,,,,,', // 5
      'bad-locale,,,,de,,,,,', // 6
      'bad-date,,,1990-02-30,,,,,,', // 7
      'future-birth,,,2999-01-01,,,,,,', // 8
      'bad-consent,,,,,,,,maybe,', // 9
      'bad-attrs,,,,,,,"[1,2]",,', // 10
      'bad-json,,,,,,,{nope,,', // 11
      'bad-zone,,,,,Mars/Olympus,,,,', // 12
      'ok-1,dup@example.com,,,,,,,,', // 13 duplicate of line 2
      'too-few,x@example.com', // 14
      'several,nope,12,,xx,,,,,', // 15 three bad fields
      'enrolled-before-birth,,,2000-01-01,,,1999-12-31T00:00:00Z,,,', // 16
      'ok-2,c@example.com,,,,,,,true,', // 17
    ];
    const done = await importFile(t, `${rows.join('\n')}\n`);
    assert.equal(done.status, 'succeeded');
    assert.deepEqual(done.counts, { created: 2, updated: 0, unchanged: 0, rejected: 14 });
    assert.equal(done.progress.rows_processed, 16);
    assert.deepEqual(done.unknown_columns, ['favourite_colour']);
    const reasons = Object.fromEntries(done.rejections.map((r: any) => [r.line, r.reason]));
    assert.match(reasons[3], /^external_id: is required/);
    assert.match(reasons[4], /^email: must be a valid email/);
    assert.match(reasons[5], /^phone: must be an E\.164 number/);
    assert.match(reasons[6], /^locale: must be one of: en, bg, ru, ro, pl/);
    assert.match(reasons[7], /^birth_date: /);
    assert.match(reasons[8], /^birth_date: must not be in the future/);
    assert.match(reasons[9], /^consent_email: must be true, false, yes, no, 1 or 0/);
    assert.match(reasons[10], /^attributes: must be a JSON object/);
    assert.match(reasons[11], /^attributes: must be a JSON object/);
    assert.match(reasons[12], /^time_zone: must be an IANA time zone/);
    assert.match(reasons[13], /^external_id: "ok-1" is already on line 2 of this file/);
    assert.equal(reasons[14], '2 fields where the header has 10');
    assert.match(reasons[15], /email: .*; phone: .*; locale: /);
    assert.match(reasons[16], /^enrolled_at: must not be before birth_date/);
    assert.equal((await member(t, 'ok-1')).email, 'a@example.com', 'the first occurrence of a duplicate is the one imported');
    assert.equal((await member(t, 'ok-2')).consent.email.granted, true);
    assert.equal(await member(t, 'bad-email'), null);

    // All of them through the rejections list, in pages.
    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await t.api('GET', `/v1/members/import/${done.id}/rejections?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(res.status, 200, res.text);
      seen.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, done.rejections);
  });

  test('an update that breaks a rule of the resulting member is rejected (as a PATCH would be)', async () => {
    const t = await app.newTenant();
    assert.equal((await t.api('POST', '/v1/members', { body: { external_id: 'p-1', birth_date: '1990-01-01', enrolled_at: '2020-01-01T00:00:00Z' } })).status, 201);
    const done = await importFile(t, 'external_id,birth_date\np-1,2021-01-01\n');
    assert.deepEqual(done.counts, { created: 0, updated: 0, unchanged: 0, rejected: 1 });
    assert.match(done.rejections[0].reason, /^birth_date: must not be after the member's enrolled_at/);
  });

  test('an erased member is never brought back by an import', async () => {
    const t = await app.newTenant();
    const created = await t.api('POST', '/v1/members', { body: { external_id: 'gone-1', email: 'gone@example.com' } });
    assert.equal((await t.api('POST', `/v1/members/${created.body.id}/erase`)).status, 200);
    const done = await importFile(t, 'external_id,email\ngone-1,gone@example.com\nstays-1,stays@example.com\n');
    assert.deepEqual(done.counts, { created: 1, updated: 0, unchanged: 0, rejected: 1 });
    assert.deepEqual(done.rejections, [{ line: 2, reason: 'external_id: belongs to an erased member; an import does not bring erased members back' }]);
    assert.equal(await member(t, 'gone-1'), null);
    // Another tenant's erasure is not this tenant's business.
    const other = await app.newTenant();
    assert.deepEqual((await importFile(other, 'external_id\ngone-1\n')).counts, { created: 1, updated: 0, unchanged: 0, rejected: 0 });
  });

  test('a value only the database refuses costs only its own row', async () => {
    const t = await app.newTenant();
    // A lone UTF-16 surrogate passes the field rules but is not valid in PostgreSQL's JSON or text.
    const rows = Array.from({ length: 40 }, (_, i) => `{"external_id": "s-${i}", "first_name": "${i === 17 ? '\\ud800' : `Name ${i}`}"}`);
    const done = await importFile(t, rows.join('\n'), 'application/x-ndjson');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(done.counts, { created: 39, updated: 0, unchanged: 0, rejected: 1 });
    assert.equal(done.rejections[0].line, 18);
    assert.match(done.rejections[0].reason, /^the database refused the row: /);
    assert.equal((await events(t, 'member.created')).length, 39);
  });

  test('a CSV without an external_id column fails with a clear error', async () => {
    const t = await app.newTenant();
    const done = await importFile(t, 'email,first_name\na@example.com,A\n');
    assert.equal(done.status, 'failed');
    assert.match(done.error, /no "external_id" column/);
    assert.deepEqual(done.counts, { created: 0, updated: 0, unchanged: 0, rejected: 0 });
  });

  test('a row with attributes nested thousands of levels deep is rejected; the valid rows around it are kept', async () => {
    const t = await app.newTenant();
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    const body = [
      JSON.stringify({ external_id: 'deep-1', email: 'one@example.com' }),
      `{"external_id": "deep-2", "attributes": {"x": ${deep}}}`,
      JSON.stringify({ external_id: 'deep-3', attributes: { n: 1 } }),
      '',
    ].join('\n');
    const done = await importFile(t, body, 'application/x-ndjson');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.deepEqual(done.counts, { created: 2, updated: 0, unchanged: 0, rejected: 1 });
    assert.ok(await member(t, 'deep-1'));
    assert.equal(await member(t, 'deep-2'), null);
    assert.deepEqual((await member(t, 'deep-3')).attributes, { n: 1 });
  });
});
