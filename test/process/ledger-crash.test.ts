/**
 * SIGKILL during a burst of ledger writes (purchases, returns, redemptions, adjustments), then a restart: every
 * write answered 2xx is there, the ledger's invariants hold (src/modules/ledger/ledger.invariants.ts), and re-sending
 * everything (orders by their order id, the rest by Idempotency-Key) records each write exactly once.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { ledgerViolations } from '../../src/modules/ledger/ledger.invariants.js';
import { api, cleanupAll, randomKey, startPatron, type PatronProcess } from './lib.js';

after(cleanupAll);

const MEMBERS = 12;
const BURST = 400;
const CONCURRENCY = 16;
const KILL_AFTER = 120;

interface Op {
  i: number;
  method: 'POST';
  path: string;
  body: Record<string, unknown>;
  idemKey?: string;
  kind: 'purchase' | 'return' | 'redeem' | 'adjust';
}

type Outcome = { state: 'answered'; status: number; body: any } | { state: 'unknown' } | { state: 'unsent' };

async function send(url: string, key: string, op: Op): Promise<Outcome> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  if (op.idemKey) headers['idempotency-key'] = op.idemKey;
  try {
    const res = await fetch(url + op.path, { method: op.method, headers, body: JSON.stringify(op.body) });
    const text = await res.text();
    return { state: 'answered', status: res.status, body: text ? JSON.parse(text) : null };
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED' ? { state: 'unsent' } : { state: 'unknown' };
  }
}

describe('SIGKILL in the middle of ledger writes', () => {
  test('answered writes are kept, the ledger stays consistent, re-sends write once', async (t) => {
    // No jobs: on the database the other test files share, this process's scheduler and pumps would work their
    // tenants on the real clock (test/helpers.ts). The writes under test need none.
    const env = { DATABASE_URL: process.env.DATABASE_URL, PATRON_OPERATOR_KEY: randomKey(), PATRON_JOBS: 'false' };
    let patron: PatronProcess = await startPatron({ env });
    const created = await api(patron.url, 'POST', '/v1/tenants', { key: env.PATRON_OPERATOR_KEY, body: { name: 'Ledger crash test' } });
    assert.equal(created.status, 201);
    const tenantId: string = created.body.tenant.id;
    const key: string = created.body.api_key;
    const call = (method: string, path: string, body?: unknown) => api(patron.url, method, path, { key, body });
    assert.equal((await call('PATCH', '/v1/program', { pending_days: 0, negative_balance: 'debt' })).status, 200);
    assert.equal((await call('POST', '/v1/earn-rules', { kind: 'base', name: 'base', rate: { points: 1, per_units: 1 } })).status, 201);
    const members: string[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const m = await call('POST', '/v1/members', { external_id: `crash-${i}` });
      members.push(m.body.id);
      assert.equal((await call('POST', `/v1/members/${m.body.id}/adjustments`, { points: 200, reason: 'start' })).status, 201);
    }
    // Purchases that the burst's returns refer to.
    const bought: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await call('POST', '/v1/transactions', { external_id: `base-${i}`, member_id: members[i % MEMBERS], currency: 'EUR', total: 5000 });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      bought.push(`base-${i}`);
    }

    const ops: Op[] = [];
    for (let i = 0; i < BURST; i++) {
      const m = members[i % MEMBERS]!;
      const kind = (['purchase', 'purchase', 'return', 'redeem', 'adjust'] as const)[i % 5]!;
      if (kind === 'purchase') ops.push({ i, kind, method: 'POST', path: '/v1/transactions', body: { external_id: `burst-${i}`, member_id: m, currency: 'EUR', total: 1000 + i } });
      else if (kind === 'return') ops.push({ i, kind, method: 'POST', path: '/v1/transactions', body: { external_id: `ret-${i}`, type: 'return', original_external_id: bought[i % bought.length], currency: 'EUR', total: 500 } });
      else if (kind === 'redeem') ops.push({ i, kind, method: 'POST', path: '/v1/redemptions', body: { member_id: m, points: 15 }, idemKey: `redeem-${tenantId}-${i}` });
      else ops.push({ i, kind, method: 'POST', path: `/v1/members/${m}/adjustments`, body: { points: i % 2 ? 7 : -3, reason: 'burst' }, idemKey: `adjust-${tenantId}-${i}` });
    }

    const outcomes = new Map<number, Outcome>();
    let next = 0;
    let answered = 0;
    let killed = false;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
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
    }));
    assert.equal((await patron.exited).signal, 'SIGKILL');
    const ok = ops.filter((o) => { const x = outcomes.get(o.i)!; return x.state === 'answered' && x.status < 300; });
    const fivexx = ops.filter((o) => { const x = outcomes.get(o.i)!; return x.state === 'answered' && x.status >= 500; });
    assert.deepEqual(fivexx.map((o) => outcomes.get(o.i)), [], 'no 5xx before the kill');
    t.diagnostic(`${ok.length} answered 2xx, ${ops.filter((o) => outcomes.get(o.i)!.state === 'unknown').length} in flight at the kill`);

    patron = await startPatron({ env });
    const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
    try {
      assert.deepEqual(await ledgerViolations(db, tenantId, { allowNegative: false }), [], 'consistent after the crash');
      // Every answered write is there.
      for (const o of ok) {
        const body = (outcomes.get(o.i) as Extract<Outcome, { state: 'answered' }>).body;
        if (o.kind === 'purchase' || o.kind === 'return') {
          const row = await db.query(`SELECT points FROM transactions WHERE tenant_id = $1 AND external_id = $2`, [tenantId, o.body.external_id]);
          assert.equal(row.rows.length, 1, `order ${o.body.external_id}`);
          assert.equal(Number(row.rows[0].points), body.points);
        } else if (o.kind === 'redeem') {
          assert.equal((await db.query(`SELECT 1 FROM redemptions WHERE tenant_id = $1 AND id = $2`, [tenantId, body.id])).rows.length, 1);
        } else {
          assert.equal((await db.query(`SELECT 1 FROM ledger_entries WHERE tenant_id = $1 AND id = $2`, [tenantId, body.entry?.id ?? body.id])).rows.length, 1);
        }
      }
      // Re-send everything: each write exactly once.
      for (let i = 0; i < ops.length; i += 8) {
        await Promise.all(ops.slice(i, i + 8).map(async (o) => {
          const out = await send(patron.url, key, o);
          assert.equal(out.state, 'answered');
          assert.ok((out as any).status < 500, JSON.stringify(out));
        }));
      }
      const orders = await db.query(`SELECT external_id, count(*)::int AS n FROM transactions WHERE tenant_id = $1 GROUP BY external_id HAVING count(*) > 1`, [tenantId]);
      assert.deepEqual(orders.rows, [], 'one order per order id');
      const earns = await db.query(`SELECT transaction_id FROM ledger_entries WHERE tenant_id = $1 AND type = 'earn' AND transaction_id IS NOT NULL GROUP BY transaction_id HAVING count(*) > 1`, [tenantId]);
      assert.deepEqual(earns.rows, [], 'no order earned twice');
      const redemptions = await db.query(`SELECT count(*)::int AS n FROM redemptions WHERE tenant_id = $1`, [tenantId]);
      const keyed = await db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE tenant_id = $1 AND key LIKE 'redeem-%' AND status_code = 201`, [tenantId]);
      assert.equal(redemptions.rows[0].n, keyed.rows[0].n, 'one redemption per successful key');
      assert.deepEqual(await ledgerViolations(db, tenantId, { allowNegative: false }), [], 'consistent after the re-sends');
    } finally {
      await db.end();
    }
    assert.deepEqual(await patron.stop('SIGTERM'), { code: 0, signal: null });
  });
});
