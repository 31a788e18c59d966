/**
 * SIGKILL in the middle of writes, then a restart: every write that was
 * answered 2xx is there with its data, nothing is half-written (a member, its
 * member.created event and its audit entry exist together or not at all; the
 * same for an update), and retrying the requests that were in flight with
 * their Idempotency-Key does each write exactly once.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { api, cleanupAll, randomKey, startPatron, type PatronProcess } from './lib.js';

after(cleanupAll);

type Op =
  | { i: number; kind: 'create'; body: { email: string; first_name: string; external_id?: string }; idemKey?: string }
  | { i: number; kind: 'patch'; memberId: string; body: { first_name: string }; idemKey?: string };

type Outcome =
  | { state: 'answered'; status: number; body: any }
  | { state: 'unknown'; error: string } // sent, connection lost: may or may not have committed
  | { state: 'unsent' }; // the connection was refused: never reached Patron

const BURST = 360;
const CONCURRENCY = 24;
const KILL_AFTER = 90; // answers

async function send(url: string, key: string, op: Op): Promise<Outcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  if (op.idemKey) headers['idempotency-key'] = op.idemKey;
  const [method, path] = op.kind === 'create' ? ['POST', '/v1/members'] : ['PATCH', `/v1/members/${op.memberId}`];
  try {
    const res = await fetch(url + path, { method, headers, body: JSON.stringify(op.body) });
    const text = await res.text();
    return { state: 'answered', status: res.status, body: text ? JSON.parse(text) : null };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED' ? { state: 'unsent' } : { state: 'unknown', error: `${(err as Error).message} ${code ?? ''}` };
  }
}

describe('SIGKILL in the middle of writes', () => {
  let patron: PatronProcess;
  // No jobs: on the database the other test files share, this process's scheduler and pumps would work their
  // tenants on the real clock (test/helpers.ts). The writes under test need none.
  const env = { DATABASE_URL: process.env.DATABASE_URL, PATRON_OPERATOR_KEY: randomKey(), PATRON_JOBS: 'false' };

  test('answered writes are kept, nothing is half-written, idempotent retries write once', async (t) => {
    patron = await startPatron({ env });
    const created = await api(patron.url, 'POST', '/v1/tenants', { key: env.PATRON_OPERATOR_KEY, body: { name: 'Crash test' } });
    assert.equal(created.status, 201);
    const tenantId: string = created.body.tenant.id;
    const key: string = created.body.api_key;

    // Members that the burst updates, one PATCH each.
    const patchCount = Math.floor(BURST / 3);
    const base: string[] = [];
    for (let i = 0; i < patchCount; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, patchCount - i) }, (_, j) => api(patron.url, 'POST', '/v1/members', { key, body: { external_id: `base-${i + j}`, first_name: 'Before' } })),
      );
      for (const r of batch) {
        assert.equal(r.status, 201);
        base.push(r.body.id);
      }
    }

    const ops: Op[] = [];
    for (let i = 0, p = 0; i < BURST; i++) {
      const idemKey = i % 2 === 0 ? `crash-${tenantId}-${i}` : undefined;
      if (i % 3 === 2) ops.push({ i, kind: 'patch', memberId: base[p++]!, body: { first_name: `P${i}` }, idemKey });
      // Idempotent creates have no external_id, so only the key prevents a duplicate.
      else ops.push({ i, kind: 'create', body: { email: `m${i}@crash.test`, first_name: `C${i}`, ...(idemKey ? {} : { external_id: `ext-${i}` }) }, idemKey });
    }

    // The burst: CONCURRENCY workers; SIGKILL once KILL_AFTER answers came back.
    const outcomes = new Map<number, Outcome>();
    let next = 0;
    let answered = 0;
    let killed = false;
    const worker = async () => {
      while (next < ops.length) {
        const op = ops[next++]!;
        if (killed) {
          outcomes.set(op.i, { state: 'unsent' });
          continue;
        }
        const out = await send(patron.url, key, op);
        outcomes.set(op.i, out);
        if (out.state === 'answered' && ++answered === KILL_AFTER) {
          killed = true;
          patron.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    assert.equal((await patron.exited).signal, 'SIGKILL');

    const all = [...outcomes.values()];
    const ok = ops.filter((o) => outcomes.get(o.i)!.state === 'answered');
    const unknown = ops.filter((o) => outcomes.get(o.i)!.state === 'unknown');
    for (const o of ok) {
      const out = outcomes.get(o.i) as Extract<Outcome, { state: 'answered' }>;
      assert.equal(out.status, o.kind === 'create' ? 201 : 200, JSON.stringify(out.body));
    }
    assert.ok(ok.length >= KILL_AFTER);
    assert.ok(unknown.length > 0, `the kill caught requests in flight (${all.length} outcomes)`);
    t.diagnostic(`${ok.length} answered, ${unknown.length} in flight at the kill, ${all.filter((o) => o.state === 'unsent').length} never sent`);

    // Restart on the same database.
    patron = await startPatron({ env });

    // 1. Every answered write is there, with its data.
    for (const o of ok) {
      const out = outcomes.get(o.i) as Extract<Outcome, { state: 'answered' }>;
      const id = o.kind === 'create' ? out.body.id : o.memberId;
      const read = await api(patron.url, 'GET', `/v1/members/${id}`, { key });
      assert.equal(read.status, 200);
      assert.equal(read.body.first_name, o.body.first_name);
      if (o.kind === 'create') assert.equal(read.body.email, o.body.email);
    }

    // 2. Nothing half-written.
    const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
    try {
      const q = async (sql: string) => (await db.query(sql, [tenantId])).rows;
      assert.deepEqual(
        await q(`SELECT m.id FROM members m WHERE m.tenant_id = $1 AND NOT EXISTS (
                   SELECT 1 FROM outbox_events e WHERE e.tenant_id = m.tenant_id AND e.type = 'member.created' AND e.aggregate_id = m.id::text)`),
        [], 'every member has its member.created event',
      );
      assert.deepEqual(
        await q(`SELECT e.aggregate_id FROM outbox_events e WHERE e.tenant_id = $1 AND e.type = 'member.created' AND NOT EXISTS (
                   SELECT 1 FROM members m WHERE m.tenant_id = e.tenant_id AND m.id::text = e.aggregate_id)`),
        [], 'no member.created event without its member',
      );
      assert.deepEqual(
        await q(`SELECT m.id FROM members m WHERE m.tenant_id = $1 AND NOT EXISTS (
                   SELECT 1 FROM audit_log a WHERE a.tenant_id = m.tenant_id AND a.action = 'POST /v1/members' AND a.resource_id = m.id::text)`),
        [], 'every member has the audit entry of its creation',
      );
      assert.deepEqual(
        await q(`SELECT a.resource_id FROM audit_log a WHERE a.tenant_id = $1 AND a.action = 'POST /v1/members' AND NOT EXISTS (
                   SELECT 1 FROM members m WHERE m.tenant_id = a.tenant_id AND m.id::text = a.resource_id)`),
        [], 'no creation audit entry without its member',
      );
      // An update is its new value, its member.updated event and its audit entry, together.
      const updates = await q(`
        SELECT m.id, m.first_name,
               (SELECT count(*)::int FROM outbox_events e WHERE e.tenant_id = m.tenant_id AND e.type = 'member.updated' AND e.aggregate_id = m.id::text) AS events,
               (SELECT count(*)::int FROM audit_log a WHERE a.tenant_id = m.tenant_id AND a.action = 'PATCH /v1/members/:id' AND a.resource_id = m.id::text) AS audits
          FROM members m WHERE m.tenant_id = $1 AND m.external_id LIKE 'base-%'`);
      assert.equal(updates.length, base.length);
      for (const u of updates) {
        const changed = u.first_name !== 'Before';
        assert.deepEqual([u.events, u.audits], changed ? [1, 1] : [0, 0], `member ${u.id} (${u.first_name})`);
      }
      const emails = async (email: string) =>
        (await db.query(`SELECT count(*)::int AS n FROM members WHERE tenant_id = $1 AND email = $2`, [tenantId, email])).rows[0].n as number;
      for (const o of unknown) {
        if (o.kind === 'create' && !o.idemKey) assert.ok((await emails(o.body.email)) <= 1);
      }

      // 3. Retrying every idempotent request (answered, in flight or never sent) writes exactly once.
      const retried = ops.filter((o) => o.idemKey);
      for (let i = 0; i < retried.length; i += 12) {
        await Promise.all(retried.slice(i, i + 12).map(async (o) => {
          const before = outcomes.get(o.i)!;
          const out = await send(patron.url, key, o);
          assert.equal(out.state, 'answered');
          const res = out as Extract<Outcome, { state: 'answered' }>;
          assert.equal(res.status, o.kind === 'create' ? 201 : 200, JSON.stringify(res.body));
          assert.equal(res.body.first_name, o.body.first_name);
          if (before.state === 'answered') assert.deepEqual(res.body, before.body, 'an answered request replays its answer');
          if (o.kind === 'create') assert.equal(await emails(o.body.email), 1, `one member for ${o.body.email}`);
          else {
            const ev = await db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND type = 'member.updated' AND aggregate_id = $2`, [tenantId, o.memberId]);
            assert.equal(ev.rows[0].n, 1, `one update of ${o.memberId}`);
          }
        }));
      }
    } finally {
      await db.end();
    }

    const exit = await patron.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null });
  });
});
