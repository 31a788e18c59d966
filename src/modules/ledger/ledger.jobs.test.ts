/**
 * The ledger's jobs run on demand (`jobs.runNow`, as `patron jobs run NAME` does): activation of pending points,
 * expiry (dated lots and the inactivity policy), release of expired holds. Each is safe to run again.
 *
 * Runs name their tenant (`{tenant_id}`): the test database is shared with other test files running at the same
 * time, each with its own clock, and a run over every tenant would expire their points by this file's clock. The
 * walk over all tenants is tested with a job set of its own whose tenant list is this file's tenants.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { Jobs } from '../../platform/jobs/jobs.js';
import { defineLedgerJobs } from './ledger.jobs.js';
import { ledgerViolations } from './ledger.invariants.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date());
});
after(() => app.close());

async function memberOf(t: TestTenant): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { first_name: 'Jobs' } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

const give = async (t: TestTenant, id: string, points: number, extra: Record<string, unknown> = {}) => {
  const res = await t.api('POST', `/v1/members/${id}/adjustments`, { body: { points, reason: 'test', ...extra } });
  assert.equal(res.status, 201, res.text);
};

const balanceOf = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/members/${id}/balance`)).body;

async function noViolations(tenantId: string) {
  assert.deepEqual(await ledgerViolations(app.patron.db, tenantId, { allowNegative: false }), []);
}

/** Pending points, as an order would earn them (the HTTP API has no pending adjustments). */
async function earnPending(tenantId: string, memberId: string, points: number, activatesAt: Date) {
  const { ledger } = app.patron.services;
  await app.patron.db.tx(async (tx) => {
    const book = await ledger.open(tx, tenantId, memberId, 'debt');
    await book.credit({ type: 'earn', points, activates_at: activatesAt, expires_at: null, earned: true, source_type: 'system', activity: true });
  });
}

describe('ledger jobs', () => {
  test('are defined with their schedules', () => {
    const jobs = new Map(app.patron.jobs.list().map((j) => [j.name, j.schedule]));
    assert.equal(jobs.get('ledger.activate-pending'), '*/5 * * * *');
    assert.equal(jobs.get('ledger.expire-points'), '7 * * * *');
    assert.equal(jobs.get('ledger.release-holds'), '* * * * *');
  });

  test('ledger.activate-pending makes due pending points spendable, once', async () => {
    const t = await app.newTenant();
    const id = await memberOf(t);
    await earnPending(t.id, id, 40, new Date(app.clock.now().getTime() + 14 * DAY));
    await earnPending(t.id, id, 60, new Date(app.clock.now().getTime() + 20 * DAY));
    assert.deepEqual(await app.patron.jobs.runNow('ledger.activate-pending', { tenant_id: t.id }), { tenants: 1, members: 0, points: 0 });
    app.clock.advance(15 * DAY);
    assert.deepEqual(await app.patron.jobs.runNow('ledger.activate-pending', { tenant_id: t.id }), { tenants: 1, members: 1, points: 40 });
    assert.deepEqual(await app.patron.jobs.runNow('ledger.activate-pending', { tenant_id: t.id }), { tenants: 1, members: 0, points: 0 });
    const bal = await balanceOf(t, id);
    assert.deepEqual([bal.available, bal.pending], [40, 60]);
    assert.deepEqual((await t.api('GET', `/v1/members/${id}/ledger?type=activate`)).body.data.map((e: any) => e.pending_points), [-40]);
    await noViolations(t.id);
  });

  test('ledger.expire-points expires dated lots, once', async () => {
    const t = await app.newTenant();
    const a = await memberOf(t);
    const b = await memberOf(t);
    const at = (days: number) => new Date(app.clock.now().getTime() + days * DAY).toISOString();
    await give(t, a, 100, { expires_at: at(3) });
    await give(t, a, 50, { expires_at: at(30) });
    await give(t, b, 70, { expires_at: at(3) });
    await give(t, b, 5);
    app.clock.advance(4 * DAY);
    const run = await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id });
    assert.deepEqual(run, { tenants: 1, expired: { members: 2, points: 170 }, inactive: { members: 0, points: 0 } });
    assert.deepEqual(await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id }),
      { tenants: 1, expired: { members: 0, points: 0 }, inactive: { members: 0, points: 0 } });
    const [ba, bb] = [await balanceOf(t, a), await balanceOf(t, b)];
    assert.deepEqual([ba.available, ba.expired, bb.available, bb.expired], [50, 100, 5, 70]);
    await noViolations(t.id);
  });

  test('ledger.expire-points under the inactivity policy takes the points of inactive members only', async () => {
    const t = await app.newTenant();
    const program = await t.api('PATCH', '/v1/program', { body: { expiry: { kind: 'inactivity', months: 6 } } });
    assert.equal(program.status, 200, program.text);
    const sleeper = await memberOf(t);
    const active = await memberOf(t);
    await give(t, sleeper, 300);
    await give(t, active, 200);
    app.clock.advance(150 * DAY);
    assert.equal((await t.api('POST', '/v1/redemptions', { body: { member_id: active, points: 20 } })).status, 201);
    app.clock.advance(40 * DAY); // sleeper: 190 days without activity; active: 40
    const run = await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id });
    assert.deepEqual(run, { tenants: 1, expired: { members: 0, points: 0 }, inactive: { members: 1, points: 300 } });
    assert.deepEqual((await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: t.id }) as any).inactive, { members: 0, points: 0 });
    assert.deepEqual([(await balanceOf(t, sleeper)).available, (await balanceOf(t, active)).available], [0, 180]);
    await noViolations(t.id);
  });

  test('ledger.release-holds releases holds past their expiry, once', async () => {
    const t = await app.newTenant();
    const id = await memberOf(t);
    await give(t, id, 100);
    const h = (await t.api('POST', '/v1/holds', { body: { member_id: id, points: 60, expires_in_seconds: 120 } })).body;
    assert.deepEqual(await app.patron.jobs.runNow('ledger.release-holds', { tenant_id: t.id }), { tenants: 1, released: 0 });
    app.clock.advance(121_000);
    assert.deepEqual(await app.patron.jobs.runNow('ledger.release-holds', { tenant_id: t.id }), { tenants: 1, released: 1 });
    assert.deepEqual(await app.patron.jobs.runNow('ledger.release-holds', { tenant_id: t.id }), { tenants: 1, released: 0 });
    assert.equal((await t.api('GET', `/v1/holds/${h.id}`)).body.status, 'expired');
    assert.deepEqual([(await balanceOf(t, id)).available, (await balanceOf(t, id)).held], [100, 0]);
    await noViolations(t.id);
  });

  test('without a tenant_id a job walks every tenant; a failing tenant fails the run after the others', async () => {
    const t1 = await app.newTenant();
    const t2 = await app.newTenant();
    const m1 = await memberOf(t1);
    const m2 = await memberOf(t2);
    const soon = new Date(app.clock.now().getTime() + DAY).toISOString();
    await give(t1, m1, 10, { expires_at: soon });
    await give(t2, m2, 20, { expires_at: soon });
    app.clock.advance(2 * DAY);
    const { db, clock, logger, services } = app.patron;
    let tenantIds = [t1.id, t2.id];
    // A job set of its own: runNow never touches the queue, so no connection string is needed.
    const jobs = new Jobs({ db, clock, log: logger }, '');
    defineLedgerJobs(jobs, { db, ledger: services.ledger, programs: services.programs, tenants: { allTenantIds: async () => tenantIds } });
    assert.deepEqual(await jobs.runNow('ledger.expire-points'), { tenants: 2, expired: { members: 2, points: 30 }, inactive: { members: 0, points: 0 } });

    tenantIds = [crypto.randomUUID(), t1.id];
    await give(t1, m1, 5, { expires_at: new Date(app.clock.now().getTime() + DAY).toISOString() });
    app.clock.advance(2 * DAY);
    await assert.rejects(jobs.runNow('ledger.expire-points'), /failed for 1 of 2 tenants/);
    assert.equal((await balanceOf(t1, m1)).expired, 15, 'the tenant after the failing one was done');
    await assert.rejects(jobs.runNow('ledger.release-holds', { tenant_id: 'nope' }), /tenant_id/);
    await noViolations(t1.id);
    await noViolations(t2.id);
  });
});
