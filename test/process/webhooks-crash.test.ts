/**
 * Webhooks survive crashes (issue 8: "nothing is lost if the process dies right after a commit"), with Patron as
 * real processes on a database of their own:
 *  1. a Patron without jobs commits a change (nobody dispatches) and is killed with SIGKILL;
 *  2. a Patron with jobs dispatches it and starts sending; the receiver hangs, and that Patron is killed with SIGKILL
 *     in the middle of the request;
 *  3. a new Patron with jobs takes the delivery over when the dead one's lease runs out and delivers it: the receiver
 *     gets the same webhook-id again, and the signature verifies with the endpoint's secret.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { startReceiver, type Receiver } from '../receiver.js';
import { api, cleanupAll, freshDatabase, randomKey, startPatron, waitFor } from './lib.js';

// Upper bounds only (nothing asserts on timing): on an idle machine the whole test takes well under 30 s, but a
// loaded one (the suite's files run in parallel) can take a minute to start a process.
const START_TIMEOUT = 180_000;
const WAIT = 120_000;

let receiver: Receiver | null = null;
let dropDb: (() => Promise<void>) | null = null;
after(async () => {
  await cleanupAll();
  await receiver?.close();
  await dropDb?.();
});

describe('webhooks across SIGKILL', () => {
  test('a change committed while nobody dispatches, and a delivery cut by a crash, are delivered by the next process', async (t) => {
    const scratch = await freshDatabase('webhooks_crash');
    dropDb = () => scratch.drop();
    const operator = randomKey();
    // A 5 s timeout: the kill must land before the hung attempt times out (and is recorded), even on a loaded
    // machine; the dead process's lease (2 × timeout + 5 s) then runs out in 15 s.
    const env = { DATABASE_URL: scratch.url, PATRON_OPERATOR_KEY: operator, DELIVERY_POLL_MS: '100', WEBHOOK_TIMEOUT_MS: '5000', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' };
    let hung = false;
    const rx = (receiver = await startReceiver((r) => {
      if (r.json?.type === 'member.created' && !hung) {
        hung = true;
        return 'hang';
      }
      return 200;
    }));
    const db = new pg.Pool({ connectionString: scratch.url, max: 2 });
    try {
      // 1. No jobs: the change and its event commit, nothing dispatches them.
      const quiet = await startPatron({ env: { ...env, PATRON_JOBS: 'false' }, timeoutMs: START_TIMEOUT });
      const made = await api(quiet.url, 'POST', '/v1/tenants', { key: operator, body: { name: 'Webhooks crash test' } });
      assert.equal(made.status, 201);
      const key: string = made.body.api_key;
      const tenantId: string = made.body.tenant.id;
      const ep = await api(quiet.url, 'POST', '/v1/webhooks/endpoints', { key, body: { url: rx.url, event_types: ['*'] } });
      assert.equal(ep.status, 201, JSON.stringify(ep.body));
      const m = await api(quiet.url, 'POST', '/v1/members', { key, body: { first_name: 'Ana' } });
      assert.equal(m.status, 201);
      const memberId: string = m.body.id;
      assert.equal((await quiet.stop('SIGKILL')).signal, 'SIGKILL');
      const event = (await db.query(`SELECT id, dispatched_at FROM outbox_events WHERE tenant_id = $1 AND type = 'member.created' AND aggregate_id = $2`, [tenantId, memberId])).rows[0];
      assert.equal(event.dispatched_at, null, 'not dispatched by a process without jobs');
      assert.equal((await db.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1`, [tenantId])).rows[0].n, 0);
      assert.equal(rx.requests.length, 0);

      // 2. A process with jobs sends it; the receiver hangs; SIGKILL in the middle of the request.
      const sender = await startPatron({ env, timeoutMs: START_TIMEOUT });
      const [first] = await rx.waitFor(1, (r) => r.json?.type === 'member.created', WAIT);
      sender.child.kill('SIGKILL');
      assert.equal((await sender.exited).signal, 'SIGKILL');
      const cut = (await db.query(`SELECT status, attempts, locked_until FROM webhook_deliveries WHERE tenant_id = $1 AND event_id = $2`, [tenantId, event.id])).rows[0];
      assert.equal(cut.status, 'pending');
      assert.equal(cut.attempts, 0, 'the cut attempt was never recorded');
      assert.ok(cut.locked_until, 'leased by the dead process');

      // 3. A new process takes over when the lease runs out, and delivers the same event.
      const next = await startPatron({ env, timeoutMs: START_TIMEOUT });
      const started = Date.now();
      const again = await waitFor('the event delivered again', () => rx.of('member.created').find((r) => r !== first && r.answered === 200), WAIT) as NonNullable<typeof first>;
      t.diagnostic(`redelivered ${Date.now() - started} ms after the new process started`);
      assert.equal(again.headers['webhook-id'], event.id);
      assert.equal(first!.headers['webhook-id'], event.id);
      assert.equal(again.body, first!.body, 'the same bytes');
      assert.deepEqual(new Webhook(ep.body.secret).verify(again.body, again.headers), JSON.parse(again.body));
      const done = await waitFor('the delivery recorded as succeeded', async () => {
        const r = (await db.query(`SELECT status, attempts, last_status_code FROM webhook_deliveries WHERE tenant_id = $1 AND event_id = $2`, [tenantId, event.id])).rows[0];
        return r.status === 'succeeded' ? r : null;
      }, WAIT);
      assert.deepEqual(done, { status: 'succeeded', attempts: 1, last_status_code: 200 });
      assert.equal((await next.stop('SIGTERM')).code, 0);
    } finally {
      await db.end();
    }
  });
});
