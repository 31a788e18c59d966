/**
 * The import mechanism: upload (content types, limits, Idempotency-Key, audit),
 * status and its transitions, the rejections list, tenant isolation, and a run
 * that dies after some batches and is resumed without counting anything twice.
 *
 * Jobs run only when the test says so (`jobs: 'client'`: queued, never worked
 * here) against a database of this file's own, so no other Patron picks them up.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { scratchDatabase } from './imports.testing.js';

let app: TestApp;
let small: TestApp; // IMPORT_LIMIT_BYTES=4096
let dbUrl: string;
let dropDb: () => Promise<void>;
before(async () => {
  const db = await scratchDatabase(process.env.DATABASE_URL!, 'patron_imports');
  dbUrl = db.url;
  dropDb = db.drop;
  app = await startTestApp({ jobs: 'client', env: { DATABASE_URL: db.url } });
  small = await startTestApp({ jobs: 'client', env: { DATABASE_URL: db.url, IMPORT_LIMIT_BYTES: '4096' } });
});
after(async () => {
  await small?.close();
  await app?.close();
  await dropDb?.();
});

const csv = (rows: number, from = 1) => ['external_id,email', ...Array.from({ length: rows }, (_, i) => `m-${from + i},m${from + i}@example.com`)].join('\n') + '\n';
const upload = (t: TestTenant, body: string | Buffer, headers: Record<string, string> = {}) =>
  t.api('POST', '/v1/members/import', { raw: body, headers: { 'content-type': 'text/csv', ...headers } });
const run = (id: string, tenantId: string) => app.patron.jobs.runNow('imports.run', { tenant_id: tenantId, import_id: id }) as Promise<any>;
const countOf = async (sql: string, values: unknown[]) => Number((await app.patron.db.query(sql, values)).rows[0].n);

describe('uploading', () => {
  test('only text/csv and application/x-ndjson bodies are taken; other routes still refuse them', async () => {
    const t = await app.newTenant();
    for (const [type, body] of [['application/json', '{"external_id": "x"}'], ['text/plain', 'external_id\nx\n'], ['application/xml', '<x/>']] as const) {
      const res = await t.api('POST', '/v1/members/import', { raw: body, headers: { 'content-type': type } });
      assert.equal(res.status, 415, `${type}: ${res.text}`);
      assert.equal(res.body.code, 'unsupported_media_type');
    }
    const res = await t.api('POST', '/v1/members', { raw: 'external_id\nx\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(res.status, 415, 'the CSV parser exists only on the import route');
    const nd = await t.api('POST', '/v1/members', { raw: '{"external_id":"x"}\n', headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(nd.status, 415);
    assert.equal(await countOf(`SELECT count(*) AS n FROM imports WHERE tenant_id = $1`, [t.id]), 0);
  });

  test('an empty file is a 400; a charset parameter is fine', async () => {
    const t = await app.newTenant();
    const empty = await upload(t, '');
    assert.equal(empty.status, 400);
    assert.deepEqual(empty.body.errors.map((e: any) => e.field), ['(body)']);
    const ok = await upload(t, csv(1), { 'content-type': 'text/csv; charset=utf-8' });
    assert.equal(ok.status, 202, ok.text);
  });

  test('a file over IMPORT_LIMIT_BYTES is a 413, announced or streamed, and leaves nothing behind', async () => {
    const t = await small.newTenant();
    const big = csv(400); // about 8 KiB
    assert.ok(big.length > 4096);
    const announced = await t.api('POST', '/v1/members/import', { raw: big, headers: { 'content-type': 'text/csv' } });
    assert.equal(announced.status, 413, announced.text);
    assert.equal(announced.body.code, 'payload_too_large');

    // Streamed without Content-Length: the limit is counted while reading.
    const res = await fetch(`${small.url}/v1/members/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.key}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from((function* () { for (let i = 0; i < 8; i++) yield Buffer.from(csv(50, i * 50)); })())) as any,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as any).code, 'payload_too_large');
    assert.equal(await countOf(`SELECT count(*) AS n FROM imports WHERE tenant_id = $1`, [t.id]), 0);

    // Under the limit, and over the JSON body limit of this server? (1 MiB there; here the file is small) — fine.
    const fits = await t.api('POST', '/v1/members/import', { raw: csv(10), headers: { 'content-type': 'text/csv' } });
    assert.equal(fits.status, 202);
  });

  test('a file larger than the JSON body limit is accepted (it is streamed, not parsed as a body)', async () => {
    const t = await app.newTenant();
    const file = csv(60_000); // about 1.9 MB > BODY_LIMIT_BYTES (1 MiB)
    assert.ok(file.length > app.patron.config.bodyLimit);
    const res = await upload(t, file);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.body.progress.bytes_total, Buffer.byteLength(file));
    assert.equal(await countOf(`SELECT count(*) AS n FROM import_chunks WHERE tenant_id = $1 AND import_id = $2`, [t.id, res.body.id]), 2, 'stored in chunks of about 1 MiB');
    const result = await run(res.body.id, t.id);
    assert.equal(result.status, 'succeeded');
    const status = await t.api('GET', `/v1/members/import/${res.body.id}`);
    assert.deepEqual(status.body.counts, { created: 60_000, updated: 0, unchanged: 0, rejected: 0 });
    assert.equal(status.body.progress.bytes_processed, Buffer.byteLength(file));
    assert.equal(await countOf(`SELECT count(*) AS n FROM members WHERE tenant_id = $1`, [t.id]), 60_000);
    assert.equal(await countOf(`SELECT count(*) AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.created'`, [t.id]), 60_000);
    assert.equal(await countOf(`SELECT count(*) AS n FROM import_chunks WHERE tenant_id = $1 AND import_id = $2`, [t.id, res.body.id]), 0, 'the file is dropped once imported');
  });

  test('Idempotency-Key: the same file returns the first import; another file is a 409', async () => {
    const t = await app.newTenant();
    const first = await upload(t, csv(3), { 'idempotency-key': 'upload-1' });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    const again = await upload(t, csv(3), { 'idempotency-key': 'upload-1' });
    assert.equal(again.status, 202);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, first.body);
    const other = await upload(t, csv(4), { 'idempotency-key': 'upload-1' });
    assert.equal(other.status, 409);
    assert.equal(other.body.code, 'idempotency_key_reused');
    const otherFormat = await upload(t, csv(3), { 'idempotency-key': 'upload-1', 'content-type': 'application/x-ndjson' });
    assert.equal(otherFormat.status, 409, 'the same bytes as another format are another request');
    assert.equal(await countOf(`SELECT count(*) AS n FROM imports WHERE tenant_id = $1`, [t.id]), 1);
    const bad = await upload(t, csv(1), { 'idempotency-key': 'bad key with spaces' });
    assert.equal(bad.status, 400);
  });

  test('the upload is in the audit log', async () => {
    const t = await app.newTenant();
    const res = await upload(t, csv(1));
    const audit = await t.api('GET', `/v1/audit-log?resource_type=import&resource_id=${res.body.id}`);
    assert.equal(audit.status, 200);
    assert.equal(audit.body.data.length, 1);
    assert.equal(audit.body.data[0].action, 'POST /v1/members/import');
  });
});

describe('status', () => {
  test('queued -> succeeded, with progress; a finished import is not run again', async () => {
    const t = await app.newTenant();
    const res = await upload(t, csv(5));
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'queued');
    assert.deepEqual(res.body.progress, { bytes_total: Buffer.byteLength(csv(5)), bytes_processed: 0, rows_processed: 0 });
    assert.equal(res.body.started_at, null);
    const queued = await t.api('GET', `/v1/members/import/${res.body.id}`);
    assert.equal(queued.body.status, 'queued', 'no worker in this process: it waits');
    assert.deepEqual(await run(res.body.id, t.id), { status: 'succeeded' });
    const done = await t.api('GET', `/v1/members/import/${res.body.id}`);
    assert.equal(done.body.status, 'succeeded');
    assert.equal(done.body.kind, 'members');
    assert.equal(done.body.format, 'csv');
    assert.equal(done.body.progress.rows_processed, 5);
    assert.ok(done.body.started_at <= done.body.finished_at);
    assert.equal((await run(res.body.id, t.id)).status, 'skipped');
    assert.equal((await t.api('GET', `/v1/members/import/${res.body.id}`)).body.counts.created, 5, 'not counted twice');
  });

  test('the status shows the first 100 rejections; the list has them all', async () => {
    const t = await app.newTenant();
    const rows = ['external_id,email', ...Array.from({ length: 150 }, (_, i) => `r-${i},not-an-email-${i}`), 'good,good@example.com'];
    const res = await upload(t, rows.join('\n'));
    await run(res.body.id, t.id);
    const status = await t.api('GET', `/v1/members/import/${res.body.id}`);
    assert.deepEqual(status.body.counts, { created: 1, updated: 0, unchanged: 0, rejected: 150 });
    assert.equal(status.body.rejections.length, 100);
    assert.deepEqual(status.body.rejections[0], { line: 2, reason: 'email: must be a valid email' });
    assert.ok(status.body.rejections_next_cursor);
    const rest = await t.api('GET', `/v1/members/import/${res.body.id}/rejections?cursor=${encodeURIComponent(status.body.rejections_next_cursor)}&limit=500`);
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.body.data.map((r: any) => r.line), Array.from({ length: 50 }, (_, i) => 102 + i));
    assert.equal(rest.body.next_cursor, null);
    assert.equal((await t.api('GET', `/v1/members/import/${res.body.id}/rejections?cursor=nope`)).status, 400);
  });

  test("another tenant's import is a 404, as is an unknown id", async () => {
    const a = await app.newTenant();
    const b = await app.newTenant();
    const res = await upload(a, csv(1));
    for (const path of [`/v1/members/import/${res.body.id}`, `/v1/members/import/${res.body.id}/rejections`]) {
      assert.equal((await b.api('GET', path)).status, 404, path);
      assert.equal((await a.api('GET', path)).status, 200, path);
    }
    assert.equal((await a.api('GET', '/v1/members/import/0190f0b8-0000-7000-8000-000000000000')).status, 404);
    assert.equal((await a.api('GET', '/v1/members/import/not-a-uuid')).status, 400);
  });

  test('a read key may follow an import but not upload one', async () => {
    const t = await app.newTenant();
    const read = await t.keyWith(['read']);
    const res = await upload(t, csv(1));
    assert.equal((await t.api('GET', `/v1/members/import/${res.body.id}`, { key: read })).status, 200);
    assert.equal((await t.api('POST', '/v1/members/import', { raw: csv(1), headers: { 'content-type': 'text/csv' }, key: read })).status, 403);
  });
});

describe('a run that dies', () => {
  test('resumes after the last committed batch without counting anything twice', async () => {
    const t = await app.newTenant();
    // A member the import will update on line 7002 (in the second batch of 5000 rows).
    const existing = await t.api('POST', '/v1/members', { body: { external_id: 'm-7001', email: 'old@example.com' } });
    assert.equal(existing.status, 201);
    const total = 12_000;
    const res = await upload(t, csv(total));
    const id = res.body.id;

    // Hold that member's row, so the run blocks inside its second batch…
    const holder = new pg.Client({ connectionString: dbUrl });
    await holder.connect();
    let firstRun: Promise<Error | null> = Promise.resolve(null);
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM members WHERE tenant_id = $1 AND external_id = 'm-7001' FOR UPDATE`, [t.id]);
      const holderPid = (await holder.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      firstRun = run(id, t.id).then(() => null, (err: Error) => err);

      // …then kill the run's database connection there, as a crash would.
      const deadline = Date.now() + 60_000; // generous: the whole suite may share the machine
      let victim: number | null = null;
      while (victim === null && Date.now() < deadline) {
        const blocked = await holder.query(`SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [holderPid]);
        victim = blocked.rows[0]?.pid ?? null;
        if (victim === null) await new Promise((r) => setTimeout(r, 25));
      }
      assert.ok(victim, 'the run reached the held row');
      // The first batch (written beside the second) commits; the second waits on the row.
      let during = await t.api('GET', `/v1/members/import/${id}`);
      while (during.body.progress.rows_processed < 5000 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
        during = await t.api('GET', `/v1/members/import/${id}`);
      }
      assert.equal(during.body.status, 'running');
      assert.equal(during.body.progress.rows_processed, 5000, 'the first batch is committed');
      assert.equal(during.body.progress.bytes_processed < during.body.progress.bytes_total, true);
      await holder.query('SELECT pg_terminate_backend($1)', [victim]);
      const err = await firstRun;
      assert.ok(err instanceof Error, 'the run failed');
    } finally {
      // Whatever happened, let go of the row (a failed assertion must not leave the run blocked).
      await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end();
      await firstRun;
    }

    const crashed = await t.api('GET', `/v1/members/import/${id}`);
    assert.equal(crashed.body.status, 'running', 'left for a retry');
    assert.match(crashed.body.error, /^Attempt 1 failed, will retry/);
    assert.deepEqual(crashed.body.counts, { created: 5000, updated: 0, unchanged: 0, rejected: 0 });

    // The retry (any process could run it) starts after line 5001.
    assert.deepEqual(await run(id, t.id), { status: 'succeeded' });
    const done = await t.api('GET', `/v1/members/import/${id}`);
    assert.equal(done.body.status, 'succeeded');
    assert.equal(done.body.error, null);
    assert.deepEqual(done.body.counts, { created: total - 1, updated: 1, unchanged: 0, rejected: 0 });
    assert.equal(done.body.progress.rows_processed, total);
    assert.equal(await countOf(`SELECT count(*) AS n FROM members WHERE tenant_id = $1`, [t.id]), total);
    assert.equal(await countOf(`SELECT count(*) AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.created'`, [t.id]), total);
    assert.equal(await countOf(`SELECT count(*) AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.updated'`, [t.id]), 1);
    assert.equal(await countOf(`SELECT attempts AS n FROM imports WHERE tenant_id = $1 AND id = $2`, [t.id, id]), 2);
    assert.equal((await t.api('GET', '/v1/members/by-external-id/m-7001')).body.email, 'm7001@example.com');
  });

  test('a duplicate of a line committed before the crash is still found after it', async () => {
    const t = await app.newTenant();
    const rows = csv(6000).trimEnd().split('\n');
    rows.push('m-10,again@example.com'); // line 6002 repeats line 11
    const res = await upload(t, `${rows.join('\n')}\n`);
    // As if a first run had committed the first batch (lines up to 5001) and died.
    await app.patron.db.tx(async (tx) => {
      const first = rows.slice(1, 5001).map((r) => r.split(','));
      await tx.query(
        `INSERT INTO members (tenant_id, id, external_id, email, locale, enrolled_at, created_at, updated_at)
         SELECT $1, gen_random_uuid(), e, m, 'en', now(), now(), now() FROM unnest($2::text[], $3::text[]) AS x(e, m)`,
        [t.id, first.map((r) => r[0]), first.map((r) => r[1])],
      );
      await tx.query(`UPDATE imports SET status = 'running', attempts = 1, lines_committed = 5001, rows_processed = 5000, rows_created = 5000 WHERE tenant_id = $1 AND id = $2`, [t.id, res.body.id]);
    });
    await run(res.body.id, t.id);
    const done = await t.api('GET', `/v1/members/import/${res.body.id}`);
    assert.deepEqual(done.body.counts, { created: 6000, updated: 0, unchanged: 0, rejected: 1 });
    assert.deepEqual(done.body.rejections, [{ line: 6002, reason: 'external_id: "m-10" is already on line 11 of this file; each external_id may appear once' }]);
  });
});
