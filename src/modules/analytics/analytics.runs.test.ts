/**
 * Analytics runs over the real HTTP API: settings, as_of in the tenant's time zone, the summary of a hand-made
 * member (same-day orders, returns as of the day, voids, wholly returned orders), the run lifecycle and a failing
 * stage, publishing by the newest as_of, the model report's default run, migrations, member scores (JSON, CSV),
 * the nightly schedule and the purge, and validation. Runs against its own database, so that only this file's
 * Patron (its clock, its registered stages) executes these runs.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { scratchDatabase } from '../../platform/imports/imports.testing.js';
import { mulberry32 } from '../../platform/seeded-random.js';
import { RUN_STAGES } from './analytics.types.js';

let app: TestApp;
let dropDb: () => Promise<void>;
/** A tenant whose runs fail in a registered stage (see before()). */
let failing: string | null = null;
/** What the registered test stage saw, per run. */
const seen = new Map<string, { members_seen: number; as_of: string }>();
before(async () => {
  const db = await scratchDatabase(process.env.DATABASE_URL!, 'patron_analytics_runs');
  dropDb = db.drop;
  app = await startTestApp({ jobs: 'client', env: { DATABASE_URL: db.url } });
  // One more stage, as another module would register it (the real ones store their documents): it sees the run's
  // member rows, and fails for one tenant.
  app.patron.services.analytics.registerStage({
    stage: 'economics',
    run: async (q, scope) => {
      if (scope.tenantId === failing) throw new Error('the ledger said no');
      const r = await q.query(`SELECT count(*)::int AS n FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`, [scope.tenantId, scope.runId]);
      seen.set(scope.runId, { members_seen: r.rows[0].n, as_of: scope.asOf });
    },
  });
});
after(async () => {
  await app?.close();
  await dropDb?.();
});

async function tenant(opts: { timeZone?: string; currency?: string } = {}): Promise<TestTenant> {
  const t = await app.newTenant();
  const patch: Record<string, string> = {};
  if (opts.timeZone) patch.time_zone = opts.timeZone;
  if (opts.currency) patch.default_currency = opts.currency;
  if (Object.keys(patch).length) {
    const res = await t.api('PATCH', '/v1/tenant', { body: patch });
    assert.equal(res.status, 200, res.text);
  }
  return t;
}

async function member(t: TestTenant, externalId: string): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { external_id: externalId } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

let seq = 0;
async function order(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${++seq}`, currency: 'EUR', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Queues a run over HTTP and executes its job here; returns the finished run. */
async function run(t: TestTenant, body: Record<string, unknown> = {}): Promise<any> {
  const queued = await t.api('POST', '/v1/analytics/runs', { body });
  assert.equal(queued.status, 202, queued.text);
  assert.equal(queued.body.status, 'queued');
  await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: queued.body.id });
  const done = await t.api('GET', `/v1/analytics/runs/${queued.body.id}`);
  assert.equal(done.status, 200, done.text);
  return done.body;
}

async function scores(t: TestTenant, runId: string): Promise<Map<string, any>> {
  const res = await t.api('GET', `/v1/analytics/members?run_id=${runId}&limit=500`);
  assert.equal(res.status, 200, res.text);
  return new Map(res.body.data.map((r: any) => [r.external_id, r]));
}

/**
 * `n` customers of a CDNOW-like shape, imported as history: each buys at a personal rate until they drop out.
 * Purchases from `from` for `days` days; returns when the import finished.
 */
async function history(t: TestTenant, opts: { n: number; from: string; days: number; seed: number; prefix: string }): Promise<void> {
  const rand = mulberry32(opts.seed);
  const start = Date.parse(`${opts.from}T12:00:00Z`);
  const rows = ['external_id,member_external_id,occurred_at,currency,total'];
  for (let c = 0; c < opts.n; c++) {
    // Heterogeneous, as the BG/NBD assumes: each customer's own purchase rate and dropout probability.
    const rate = 0.005 + rand() * 0.06; // purchases a day
    const dropout = rand() * 0.5;
    let day = Math.floor(rand() * opts.days * 0.4);
    let k = 0;
    while (day < opts.days) {
      rows.push(`${opts.prefix}-${c}-${k++},${opts.prefix}-${c},${new Date(start + day * 86_400_000).toISOString()},EUR,${1000 + Math.floor(rand() * 5000)}`);
      if (rand() < dropout) break; // dropped out
      day += 1 + Math.floor(-Math.log(1 - rand()) / rate);
    }
  }
  const res = await t.api('POST', '/v1/transactions/import', { raw: rows.join('\n'), headers: { 'content-type': 'text/csv' } });
  assert.equal(res.status, 202, res.text);
  const result: any = await app.patron.jobs.runNow('imports.run', { tenant_id: t.id, import_id: res.body.id });
  assert.equal(result.status, 'succeeded', JSON.stringify(result));
}

describe('analytics settings', () => {
  test('GET gives the defaults; PUT stores what is sent over the defaults, group by group; a replay answers the same', async () => {
    app.clock.reset();
    const t = await tenant();
    const first = await t.api('GET', '/v1/analytics/settings');
    assert.equal(first.status, 200, first.text);
    assert.equal(first.body.updated_at, null);
    assert.deepEqual(first.body.clv, { margin: 0.3, annual_discount_rate: 0.1, horizon_months: 12, time_unit: 'week', l2_penalty: 0 });
    const body = { clv: { margin: 0.4, horizon_months: 24 }, churn: { rule: 'fixed_days', days: 120 }, nightly: false };
    const put = await t.api('PUT', '/v1/analytics/settings', { body, headers: { 'idempotency-key': 'settings-1' } });
    assert.equal(put.status, 200, put.text);
    assert.deepEqual(put.body.clv, { margin: 0.4, annual_discount_rate: 0.1, horizon_months: 24, time_unit: 'week', l2_penalty: 0 });
    assert.equal(put.body.churn.rule, 'fixed_days');
    assert.equal(put.body.churn.gap_multiple, 2);
    assert.equal(put.body.nightly, false);
    assert.equal(put.body.keep_runs_days, 400);
    const replay = await t.api('PUT', '/v1/analytics/settings', { body, headers: { 'idempotency-key': 'settings-1' } });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, put.body);
    const got = await t.api('GET', '/v1/analytics/settings');
    assert.deepEqual({ ...got.body, updated_at: null }, { ...put.body, updated_at: null });
    assert.ok(got.body.updated_at);
    // Another tenant still has the defaults.
    const other = await tenant();
    assert.equal((await other.api('GET', '/v1/analytics/settings')).body.clv.margin, 0.3);
  });

  test('a bad body is one 400 naming every bad field, and nothing is stored', async () => {
    const t = await tenant();
    const res = await t.api('PUT', '/v1/analytics/settings', {
      body: {
        churn: { rule: 'fixed_days', gap_multiple: 0 },
        clv: { margin: 0, annual_discount_rate: 1, horizon_months: 0, time_unit: 'month', l2_penalty: -1, extra: 1 },
        at_risk: { min_clv_decile: 11, p_alive_below: 1.5, rate_ratio_below: 0, recent_days: 1, lookback_days: 0 },
        nightly: 'yes',
        keep_runs_days: 1,
        unknown: true,
      },
    });
    assert.equal(res.status, 400, res.text);
    const fields = res.body.errors.map((e: any) => e.field).sort();
    assert.deepEqual(fields, [
      'at_risk.lookback_days', 'at_risk.min_clv_decile', 'at_risk.p_alive_below', 'at_risk.rate_ratio_below', 'at_risk.recent_days',
      'churn.days', 'churn.gap_multiple',
      'clv.annual_discount_rate', 'clv.extra', 'clv.horizon_months', 'clv.l2_penalty', 'clv.margin', 'clv.time_unit',
      'keep_runs_days', 'nightly', 'unknown',
    ]);
    assert.match(res.body.errors.find((e: any) => e.field === 'churn.days').detail, /required when churn.rule is 'fixed_days'/);
    assert.equal((await t.api('GET', '/v1/analytics/settings')).body.updated_at, null);
  });

  test('a read key cannot change the settings; a write key can', async () => {
    const t = await tenant();
    const read = await t.api('PUT', '/v1/analytics/settings', { body: { nightly: false }, key: await t.keyWith(['read']) });
    assert.equal(read.status, 403);
    const write = await t.api('PUT', '/v1/analytics/settings', { body: { nightly: false }, key: await t.keyWith(['write']) });
    assert.equal(write.status, 200, write.text);
  });
});

describe('a run as of a day in the tenant\'s time zone', () => {
  test('summary of a hand-made member: same-day orders merged, returns netted as of the day, voided and wholly returned orders out, 23:30 in and 00:10 next day out', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    // Sofia is UTC+2 in winter: 23:30 local is 21:30Z, 00:10 the next day is 22:10Z of the same UTC day.
    const t = await tenant({ timeZone: 'Europe/Sofia' });
    await member(t, 'm1');
    await order(t, { member_external_id: 'm1', occurred_at: '2031-01-05T10:00:00+02:00', total: 1000 });
    await order(t, { member_external_id: 'm1', occurred_at: '2031-01-05T18:00:00+02:00', total: 500 }); // same day: one occasion
    const partly = await order(t, { member_external_id: 'm1', occurred_at: '2031-02-01T12:00:00+02:00', total: 3000 });
    await order(t, { type: 'return', original_external_id: partly.external_id, occurred_at: '2031-02-03T12:00:00+02:00', total: 1000 });
    const whole = await order(t, { member_external_id: 'm1', occurred_at: '2031-02-20T12:00:00+02:00', total: 800 });
    await order(t, { type: 'return', original_external_id: whole.external_id, occurred_at: '2031-02-21T12:00:00+02:00', total: 800 });
    const voided = await order(t, { member_external_id: 'm1', occurred_at: '2031-02-25T12:00:00+02:00', total: 900 });
    assert.equal((await t.api('POST', `/v1/transactions/${voided.id}/void`, { body: { reason: 'test' } })).status, 200);
    // Returned after as_of: as of 2031-03-10 it was a full purchase.
    const later = await order(t, { member_external_id: 'm1', occurred_at: '2031-02-10T12:00:00+02:00', total: 1000 });
    await order(t, { type: 'return', original_external_id: later.external_id, occurred_at: '2031-03-15T12:00:00+02:00', total: 1000 });
    await order(t, { member_external_id: 'm1', occurred_at: '2031-03-10T23:30:00+02:00', total: 700 }); // as_of, late evening: in
    await order(t, { member_external_id: 'm1', occurred_at: '2031-03-11T00:10:00+02:00', total: 400 }); // the next day: out
    // An order of total 0 that nothing was returned from is a purchase (CDNOW has some): a purchase day without money.
    await member(t, 'm4');
    await order(t, { member_external_id: 'm4', occurred_at: '2031-02-02T12:00:00+02:00', total: 0 });
    // A member whose only order is after as_of is not in the run; one without orders neither.
    await member(t, 'm2');
    await order(t, { member_external_id: 'm2', occurred_at: '2031-03-11T00:10:00+02:00', total: 400 });
    await member(t, 'm3');
    // Another tenant's orders never count.
    const other = await tenant({ timeZone: 'Europe/Sofia' });
    await member(other, 'm1');
    await order(other, { member_external_id: 'm1', occurred_at: '2031-01-06T10:00:00+02:00', total: 99_999 });

    const r = await run(t, { as_of: '2031-03-10' });
    assert.equal(r.status, 'succeeded', r.error);
    assert.equal(r.as_of, '2031-03-10');
    assert.equal(r.currency, 'EUR');
    const s = await scores(t, r.id);
    assert.deepEqual([...s.keys()].sort(), ['m1', 'm4']);
    assert.deepEqual([s.get('m4').orders, s.get('m4').purchase_days, s.get('m4').revenue], [1, 1, 0]);
    const m1 = s.get('m1');
    assert.deepEqual(
      {
        first: m1.first_purchase_on, last: m1.last_purchase_on, orders: m1.orders, days: m1.purchase_days, revenue: m1.revenue,
        mean: m1.repeat_day_mean, t_x: m1.t_x_days, T: m1.t_days, recency: m1.recency_days,
      },
      // Days 01-05 (1000 + 500), 02-01 (3000 − 1000), 02-10 (1000, returned only later), 03-10 (700).
      { first: '2031-01-05', last: '2031-03-10', orders: 5, days: 4, revenue: 5200, mean: Math.round((2000 + 1000 + 700) / 3), t_x: 64, T: 64, recency: 0 },
    );
    assert.equal(m1.historic_clv, Math.round(5200 * 0.3));
    assert.equal(r.summary.members, 2);
    assert.equal(r.summary.orders, 6);
    assert.equal(r.summary.revenue, 5200);
    assert.equal(r.summary.time_zone, 'Europe/Sofia');
    // Gaps between m1's purchase days: 27, 9, 28 days.
    assert.equal(r.summary.median_gap_days, 27);
    assert.deepEqual(r.summary.warnings.map((w: any) => [w.stage, w.code]), [['bgnbd', 'too_few_customers'], ['gamma_gamma', 'too_few_customers']]);
    assert.equal(m1.p_alive, null, 'no model, no predictions');
    assert.equal(m1.clv, null);

    // The next day includes the 00:10 order and drops the later-returned one's money.
    const next = await run(t, { as_of: '2031-03-16' });
    const n1 = (await scores(t, next.id)).get('m1');
    assert.equal(n1.orders, 5); // 00:10 in, the 02-10 order wholly returned by 03-15: out
    assert.equal(n1.revenue, 5200 - 1000 + 400);
    assert.equal(n1.last_purchase_on, '2031-03-11');
    assert.equal(n1.recency_days, 5);
    assert.equal((await scores(t, next.id)).get('m2').orders, 1);
  });

  test('as_of defaults to yesterday in the tenant\'s time zone; a future day or a date that does not exist is a 400 naming as_of', async () => {
    // 2031-06-01T22:30Z is already 2031-06-02 in Tokyo (UTC+9): yesterday there is 06-01.
    app.clock.set('2031-06-01T22:30:00Z');
    const t = await tenant({ timeZone: 'Asia/Tokyo' });
    const queued = await t.api('POST', '/v1/analytics/runs', { body: {} });
    assert.equal(queued.status, 202, queued.text);
    assert.equal(queued.body.as_of, '2031-06-01');
    // A second run as of a day with one queued (or running) is a 409 naming as_of.
    const noBody = await t.api('POST', '/v1/analytics/runs');
    assert.equal(noBody.status, 409, noBody.text);
    assert.deepEqual(noBody.body.errors.map((e: any) => e.field), ['as_of']);
    assert.match(noBody.body.detail, /2031-06-01/);
    assert.equal((await t.api('GET', '/v1/analytics/runs?status=queued')).body.data.length, 1);
    const today = await t.api('POST', '/v1/analytics/runs', { body: { as_of: '2031-06-02' } });
    assert.equal(today.status, 202, today.text);
    for (const as_of of ['2031-06-03', '2031-02-30', '01-06-2031', '0000-01-01', '1899-12-31']) {
      const bad = await t.api('POST', '/v1/analytics/runs', { body: { as_of } });
      assert.equal(bad.status, 400, `${as_of}: ${bad.text}`);
      assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['as_of']);
    }
    const unknown = await t.api('POST', '/v1/analytics/runs', { body: { as_of: '2031-06-01', when: 'now' } });
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.body.errors.map((e: any) => e.field), ['when']);
  });
});

describe('run lifecycle', () => {
  test('queued → succeeded with every stage timed; settings and currency copied; the listing is newest first; Idempotency-Key queues once', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant({ currency: 'USD' });
    await member(t, 'a');
    await order(t, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000, currency: 'USD' });
    await t.api('PUT', '/v1/analytics/settings', { body: { clv: { margin: 0.5 } } });
    const headers = { 'idempotency-key': 'run-1' };
    const first = await t.api('POST', '/v1/analytics/runs', { body: { as_of: '2031-05-31' }, headers });
    assert.equal(first.status, 202, first.text);
    const replay = await t.api('POST', '/v1/analytics/runs', { body: { as_of: '2031-05-31' }, headers });
    assert.equal(replay.status, 202);
    assert.equal(replay.body.id, first.body.id);
    assert.equal(first.body.currency, 'USD');
    assert.equal(first.body.settings.clv.margin, 0.5);
    assert.equal(first.body.trigger, 'api');
    assert.equal(first.body.progress.done, 0);
    // Every stage in order (a stage name twice when a module adds a stage beside another's).
    assert.deepEqual([...new Set(first.body.progress.stages.map((s: any) => s.name))], [...RUN_STAGES]);
    assert.ok(first.body.progress.stages.every((s: any) => s.status === 'pending' || s.status === 'skipped'));
    // Settings changed after queueing do not change the run.
    await t.api('PUT', '/v1/analytics/settings', { body: { clv: { margin: 0.1 } } });
    await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: first.body.id });
    const done = (await t.api('GET', `/v1/analytics/runs/${first.body.id}`)).body;
    assert.equal(done.status, 'succeeded', done.error);
    assert.ok(done.started_at && done.finished_at);
    assert.equal(done.error, null);
    assert.equal(done.progress.stage, null);
    assert.equal(done.progress.attempts, 1);
    const byName = Object.fromEntries(done.progress.stages.map((s: any) => [s.name, s]));
    for (const name of RUN_STAGES) {
      assert.equal(byName[name].status, 'succeeded', name);
      assert.ok(Number.isInteger(byName[name].ms) && byName[name].started_at && byName[name].finished_at, name);
    }
    assert.equal(done.progress.total, done.progress.stages.length);
    assert.equal(done.progress.done, done.progress.total);
    assert.equal(byName.summary.rows, 1);
    assert.equal(byName.scoring.rows, 1);
    assert.equal((await scores(t, done.id)).get('a').historic_clv, 500, 'the margin the run was queued with');
    // A registered stage runs inside the run, over its member rows; one with a kind stores its return value.
    assert.deepEqual(seen.get(done.id), { members_seen: 1, as_of: '2031-05-31' });
    assert.equal(((await app.patron.services.analytics.result(app.patron.db, t.id, 'cohorts')).data as { customers: number }).customers, 1);
    // Running the job again does nothing.
    assert.deepEqual(await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: done.id }), { status: 'skipped', detail: 'the run has succeeded' });

    const second = await run(t, { as_of: '2031-05-30' });
    const list = await t.api('GET', '/v1/analytics/runs?limit=1');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(list.body.data.map((r: any) => r.id), [second.id]);
    const rest = await t.api('GET', `/v1/analytics/runs?limit=5&cursor=${list.body.next_cursor}`);
    assert.deepEqual(rest.body.data.map((r: any) => r.id), [done.id]);
    assert.equal(rest.body.next_cursor, null);
    assert.deepEqual((await t.api('GET', '/v1/analytics/runs?status=queued')).body.data, []);
    // The domain events of the lifecycle.
    const events = await app.patron.db.query(`SELECT type FROM outbox_events WHERE tenant_id = $1 AND aggregate_id = $2 ORDER BY seq`, [t.id, done.id]);
    assert.deepEqual(events.rows.map((e) => e.type), ['analytics_run.queued', 'analytics_run.succeeded']);
  });

  test("a tenant's runs execute one at a time: the second's job comes back later rather than wait; another tenant's run does not wait", async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    const other = await tenant();
    for (const x of [t, other]) {
      await member(x, 'a');
      await order(x, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    }
    const ids = [];
    for (const as_of of ['2031-05-20', '2031-05-21']) ids.push((await t.api('POST', '/v1/analytics/runs', { body: { as_of } })).body.id);
    const theirs = (await other.api('POST', '/v1/analytics/runs', { body: {} })).body.id;
    // Real time, so that the runs' started_at and finished_at show their order.
    app.clock.reset();
    const outcomes = await Promise.all([
      ...ids.map((id) => app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: id })),
      app.patron.jobs.runNow('analytics.run', { tenant_id: other.id, run_id: theirs }),
    ]);
    // One of the tenant's two ran; the other found the tenant's lock taken and was queued again, to start later.
    assert.deepEqual(outcomes.map((o: any) => o.status).slice(0, 2).sort(), ['skipped', 'succeeded']);
    assert.equal((outcomes[2] as any).status, 'succeeded');
    const waiting = ids[(outcomes as any[]).findIndex((o) => o.status === 'skipped')]!;
    assert.match((outcomes as any[]).find((o) => o.status === 'skipped').detail, /another run of the tenant is executing/);
    const again = await app.patron.db.query(
      `SELECT start_after > now() + interval '10 seconds' AS later FROM pgboss.job WHERE name = 'analytics.run' AND data->>'run_id' = $1 AND state = 'created'`,
      [waiting],
    );
    // The job queue() sent (runNow bypassed it) and the one sent again, with a delay.
    assert.deepEqual(again.rows.map((r) => r.later).sort(), [false, true], 'queued again, with a delay');
    assert.equal((await t.api('GET', `/v1/analytics/runs/${waiting}`)).body.status, 'queued');
    assert.deepEqual(await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: waiting }), { status: 'succeeded' });
    const [a, b] = await Promise.all(ids.map(async (id) => (await t.api('GET', `/v1/analytics/runs/${id}`)).body));
    const [first, second] = Date.parse(a.started_at) < Date.parse(b.started_at) ? [a, b] : [b, a];
    assert.ok(Date.parse(second.started_at) >= Date.parse(first.finished_at), `${first.started_at}–${first.finished_at} then ${second.started_at}`);
  });

  test('a stage that throws fails the run with its stage and message; its member rows are removed; the job is not retried', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    await member(t, 'a');
    await order(t, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    failing = t.id;
    try {
      const queued = await t.api('POST', '/v1/analytics/runs', { body: {} });
      const outcome = await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: queued.body.id });
      assert.deepEqual(outcome, { status: 'failed', detail: 'stage economics: the ledger said no' });
      const r = (await t.api('GET', `/v1/analytics/runs/${queued.body.id}`)).body;
      assert.equal(r.status, 'failed');
      assert.equal(r.error, 'stage economics: the ledger said no');
      assert.equal(r.progress.stage, 'economics');
      const byName = Object.fromEntries(r.progress.stages.map((s: any) => [s.name, s.status]));
      assert.equal(byName.scoring, 'succeeded');
      assert.equal(byName.economics, 'failed');
      assert.equal(byName.publish, 'pending');
      assert.equal(r.published, false);
      const left = await app.patron.db.query(`SELECT count(*)::int AS n FROM analytics_member_scores WHERE tenant_id = $1`, [t.id]);
      assert.equal(left.rows[0].n, 0);
      assert.equal((await t.api('GET', '/v1/analytics/clv/model')).status, 404, 'no succeeded run');
      // A run of the tenant that has not succeeded is a 422 naming run_id, in every core read; an unknown run a 404.
      for (const path of [`/v1/analytics/clv/model?run_id=${r.id}`, `/v1/analytics/members?run_id=${r.id}`, `/v1/analytics/members.csv?run_id=${r.id}`, `/v1/analytics/rfm?run_id=${r.id}`]) {
        const res = await t.api('GET', path);
        assert.equal(res.status, 422, `${path}: ${res.text}`);
        assert.deepEqual(res.body.errors.map((e: any) => e.field), ['run_id'], path);
        assert.match(res.body.detail, /failed/);
      }
      assert.equal((await t.api('GET', `/v1/analytics/clv/model?run_id=${crypto.randomUUID()}`)).status, 404);
    } finally {
      failing = null;
    }
  });

  test('a run left running by a crash starts over when its job comes back, and is given up after three starts', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    await member(t, 'a');
    await order(t, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    const queued = await t.api('POST', '/v1/analytics/runs', { body: {} });
    const id = queued.body.id;
    // As a process that died in the scoring stage leaves it: running, half-written.
    await app.patron.db.query(`UPDATE analytics_runs SET status = 'running', progress = jsonb_set(progress, '{attempts}', '1') WHERE tenant_id = $1 AND id = $2`, [t.id, id]);
    await app.patron.db.query(
      `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, t_x_days, t_days, recency_days)
       SELECT $1, $2, id, '2031-01-01', '2031-01-01', 99, 1, 1, 0, 0, 0 FROM members WHERE tenant_id = $1`,
      [t.id, id],
    );
    assert.deepEqual(await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: id }), { status: 'succeeded' });
    const r = (await t.api('GET', `/v1/analytics/runs/${id}`)).body;
    assert.equal(r.progress.attempts, 2);
    assert.equal((await scores(t, id)).get('a').orders, 1, 'the half-written rows were replaced');

    const again = await t.api('POST', '/v1/analytics/runs', { body: {} });
    await app.patron.db.query(`UPDATE analytics_runs SET status = 'running', progress = jsonb_set(progress, '{attempts}', '3') WHERE tenant_id = $1 AND id = $2`, [t.id, again.body.id]);
    const outcome: any = await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: again.body.id });
    assert.equal(outcome.status, 'failed');
    const gaveUp = (await t.api('GET', `/v1/analytics/runs/${again.body.id}`)).body;
    assert.equal(gaveUp.status, 'failed');
    assert.match(gaveUp.error, /interrupted 3 times/);
  });

  test('the run succeeds in the publish transaction: when marking it succeeded fails, nothing is published', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    await member(t, 'a');
    await order(t, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    const queued = await t.api('POST', '/v1/analytics/runs', { body: {} });
    // The succeeded event is written with the status: make it fail, for this tenant only (this file's own database).
    const db = app.patron.db;
    await db.query(`CREATE OR REPLACE FUNCTION analytics_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await db.query(`CREATE TRIGGER analytics_test_refuse BEFORE INSERT ON outbox_events FOR EACH ROW
      WHEN (NEW.tenant_id = '${t.id}' AND NEW.type = 'analytics_run.succeeded') EXECUTE FUNCTION analytics_test_refuse()`);
    try {
      const outcome: any = await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: queued.body.id });
      assert.equal(outcome.status, 'failed');
      assert.match(outcome.detail, /stage publish: refused by the test/);
    } finally {
      await db.query(`DROP TRIGGER analytics_test_refuse ON outbox_events`);
      await db.query(`DROP FUNCTION analytics_test_refuse()`);
    }
    const r = (await t.api('GET', `/v1/analytics/runs/${queued.body.id}`)).body;
    assert.equal(r.status, 'failed');
    assert.equal(r.published, false);
    const rows = await db.query(`SELECT count(*)::int AS n FROM member_analytics WHERE tenant_id = $1`, [t.id]);
    assert.equal(rows.rows[0].n, 0);
  });
});

describe('models, publishing and the reads', () => {
  let t: TestTenant;
  let older: any;
  let newer: any;
  before(async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    t = await tenant();
    // Orders from 2029-08-01 to 2030-12-13: a backtest as of 2030-10-31 has a holdout, a run as of 2031-01-31 none.
    await history(t, { n: 300, from: '2029-08-01', days: 500, seed: 7, prefix: 'c' });
    // A member whose external id a spreadsheet would run, with one purchase.
    await order(t, { member_external_id: '=HYPERLINK("http://x")', occurred_at: '2030-06-01T10:00:00Z', total: 1234 });
    newer = await run(t, { as_of: '2031-01-31' });
    older = await run(t, { as_of: '2030-10-31' }); // a backtest, queued after
    assert.equal(newer.status, 'succeeded', newer.error);
    assert.equal(older.status, 'succeeded', older.error);
  });

  test('the newest as_of is published: a backtest queued later is not; a run as of the same day or later takes over', async () => {
    assert.equal(newer.published, true);
    assert.equal(older.published, false);
    const s = await scores(t, newer.id);
    const someone = [...s.values()].find((m) => m.external_id.startsWith('c-'));
    const current = await t.api('GET', `/v1/members/${someone.member_id}/analytics`);
    assert.equal(current.status, 200, current.text);
    assert.equal(current.body.run_id, newer.id);
    assert.equal(current.body.as_of, '2031-01-31');
    assert.equal(current.body.segment, someone.segment);
    assert.equal(current.body.clv, someone.clv);
    assert.equal(current.body.currency, 'EUR');
    const rows = await app.patron.db.query(`SELECT count(*)::int AS n FROM member_analytics WHERE tenant_id = $1`, [t.id]);
    assert.equal(rows.rows[0].n, s.size);

    const again = await run(t, { as_of: '2031-01-31' });
    assert.equal(again.published, true);
    assert.equal((await t.api('GET', `/v1/analytics/runs/${newer.id}`)).body.published, false, 'one published run');
    assert.equal((await t.api('GET', `/v1/members/${someone.member_id}/analytics`)).body.run_id, again.id);
    newer = again;
  });

  test('a member without a published row is a 404; so is another tenant\'s member', async () => {
    const nobody = await member(t, 'no-orders');
    const res = await t.api('GET', `/v1/members/${nobody}/analytics`);
    assert.equal(res.status, 404);
    assert.match(res.body.detail, /no published run includes the member/);
    const other = await tenant();
    const s = await scores(t, newer.id);
    assert.equal((await other.api('GET', `/v1/members/${[...s.values()][0].member_id}/analytics`)).status, 404);
  });

  test('the model report: BG/NBD and Gamma-Gamma of the latest run by default, any succeeded run by id, with the holdout calibration of a backtest', async () => {
    const latest = await t.api('GET', '/v1/analytics/clv/model');
    assert.equal(latest.status, 200, latest.text);
    assert.equal(latest.body.run_id, newer.id);
    assert.equal(latest.body.time_unit, 'week');
    const bg = latest.body.bgnbd;
    assert.ok(bg, JSON.stringify(latest.body.warnings));
    assert.equal(bg.time_unit, 'week');
    for (const k of ['r', 'alpha', 'a', 'b']) assert.ok(bg.params[k] > 0, k);
    assert.ok(bg.log_likelihood < 0);
    assert.equal(bg.converged, true, JSON.stringify(bg));
    assert.equal(bg.dropout_identified, true, JSON.stringify(bg));
    assert.deepEqual(bg.warnings, []);
    assert.ok(bg.customers >= 300);
    const gg = latest.body.gamma_gamma;
    assert.ok(gg.params.p > 0 && gg.params.q > 0 && gg.params.gamma > 0);
    assert.equal(gg.currency, 'EUR');
    // Spend was drawn between 10 and 60 euros: the population mean lies in between, in major units.
    assert.ok(gg.population_mean_spend > 10 && gg.population_mean_spend < 60, String(gg.population_mean_spend));
    // The newest run has no orders after it; the backtest has: its calibration covers the days up to the last order.
    assert.equal(latest.body.calibration, null);
    const back = await t.api('GET', `/v1/analytics/clv/model?run_id=${older.id}`);
    assert.equal(back.status, 200, back.text);
    const cal = back.body.calibration;
    assert.ok(cal, 'calibration of the backtest');
    assert.equal(cal.from, '2030-11-01');
    assert.equal(cal.holdout_days, (Date.parse(`${cal.to}T00:00:00Z`) - Date.parse('2030-10-31T00:00:00Z')) / 86_400_000);
    assert.deepEqual(cal.bins.map((b: any) => b.label), ['0', '1', '2', '3', '4', '5', '6', '7+']);
    assert.equal(cal.bins.reduce((s: number, b: any) => s + b.customers, 0), back.body.bgnbd.customers);
    assert.ok(cal.actual_total > 0 && cal.predicted_total > 0);
    // The actual holdout purchases are the members' purchase days after as_of, counted in SQL here again.
    const actual = await app.patron.db.query(
      `SELECT count(DISTINCT (member_id, (occurred_at AT TIME ZONE 'UTC')::date))::int AS n FROM transactions
        WHERE tenant_id = $1 AND occurred_at >= '2030-11-01' AND member_id IN (SELECT member_id FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2)`,
      [t.id, older.id],
    );
    assert.equal(cal.actual_total, actual.rows[0].n);
    assert.equal((await t.api('GET', '/v1/analytics/clv/model?run_id=not-a-uuid')).status, 400);
    assert.equal((await t.api('GET', `/v1/analytics/clv/model?run_id=${crypto.randomUUID()}`)).status, 404);
  });

  test('per-member predictions: P(alive) in [0, 1], expectations growing with the horizon, CLV deciles 1-10 by CLV', async () => {
    const s = [...(await scores(t, newer.id)).values()];
    assert.ok(s.length > 300);
    for (const m of s) {
      assert.ok(m.p_alive >= 0 && m.p_alive <= 1, `${m.external_id} p_alive ${m.p_alive}`);
      assert.ok(m.expected_30 <= m.expected_90 && m.expected_90 <= m.expected_365);
      assert.ok(Number.isInteger(m.clv) && m.clv >= 0);
      assert.ok(Number.isInteger(m.expected_order_value) && m.expected_order_value > 0);
      assert.ok(m.clv_decile >= 1 && m.clv_decile <= 10);
      if (m.purchase_days === 1) assert.equal(m.p_alive, 1, 'the BG/NBD: nobody drops out before a repeat purchase');
    }
    const byDecile = (d: number) => s.filter((m) => m.clv_decile === d).map((m) => m.clv);
    assert.ok(Math.max(...byDecile(1)) <= Math.min(...byDecile(10)));
    assert.ok(Math.abs(byDecile(1).length - byDecile(10).length) <= 1);
  });

  test('RFM: every member has scores and a segment; the rfm result adds up; the result view serves it by default and by run', async () => {
    const s = [...(await scores(t, newer.id)).values()];
    for (const m of s) assert.ok(m.r_score >= 1 && m.r_score <= 5 && m.f_score >= 1 && m.m_score >= 1 && m.segment);
    const res = await t.api('GET', '/v1/analytics/rfm');
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.run_id, newer.id);
    assert.equal(res.body.as_of, '2031-01-31');
    assert.ok(res.body.computed_at);
    const doc = res.body.data;
    assert.equal(doc.members, s.length);
    assert.equal(doc.segments.length, 11);
    assert.equal(doc.segments.reduce((n: number, x: any) => n + x.members, 0), s.length);
    for (const x of doc.segments) assert.equal(x.members, s.filter((m) => m.segment === x.segment).length, x.segment);
    assert.equal(doc.segments.reduce((n: number, x: any) => n + x.revenue, 0), s.reduce((n, m) => n + m.revenue, 0));
    for (const k of ['r', 'f', 'm']) assert.equal(doc.scores[k].reduce((n: number, x: any) => n + x.members, 0), s.length);
    const byRun = await t.api('GET', `/v1/analytics/rfm?run_id=${older.id}`);
    assert.equal(byRun.body.run_id, older.id);
    const none = await tenant();
    const missing = await none.api('GET', '/v1/analytics/rfm');
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /problem\+json/);
  });

  test('migrations between two days: the 11 × 11 counts, members entering; defaults and a 400 naming from', async () => {
    const res = await t.api('GET', '/v1/analytics/rfm/migrations?from=2030-11-15&to=2031-02-10');
    assert.equal(res.status, 200, res.text);
    const m = res.body;
    assert.equal(m.from_run.run_id, older.id);
    assert.equal(m.to_run.run_id, newer.id);
    assert.equal(m.segments.length, 11);
    assert.equal(m.counts.length, 11);
    const moved = m.counts.flat().reduce((a: number, b: number) => a + b, 0);
    const entering = m.entering.reduce((a: number, b: number) => a + b, 0);
    assert.equal(moved + entering, m.members_to);
    assert.equal(moved + m.leaving.reduce((a: number, b: number) => a + b, 0), m.members_from);
    const olderMembers = (await scores(t, older.id)).size;
    assert.equal(m.members_from, olderMembers);
    assert.equal(entering, m.members_to - olderMembers, 'everyone of the older run is still a customer');
    // A member's move, checked against the two runs' rows.
    const a = await scores(t, older.id);
    const b = await scores(t, newer.id);
    const key = [...a.keys()][0]!;
    const i = m.segments.indexOf(a.get(key).segment);
    const j = m.segments.indexOf(b.get(key).segment);
    assert.ok(m.counts[i][j] >= 1);
    // No run as of `from`: everyone enters. Defaults: to = today (2031-06-01), from = 30 days before.
    const early = await t.api('GET', '/v1/analytics/rfm/migrations?from=2029-01-01&to=2031-02-10');
    assert.equal(early.body.from_run, null);
    assert.equal(early.body.entering.reduce((x: number, y: number) => x + y, 0), early.body.members_to);
    const defaults = await t.api('GET', '/v1/analytics/rfm/migrations');
    // Both default days (2031-05-02, 2031-06-01: to = today, from = 30 days before) fall on the run as of 2031-01-31.
    assert.equal(defaults.status, 422, defaults.text);
    assert.match(defaults.body.detail, /as of 2031-01-31/);
    const defaultFrom = await t.api('GET', '/v1/analytics/rfm/migrations?to=2031-02-10');
    assert.equal(defaultFrom.status, 200, defaultFrom.text);
    assert.deepEqual([defaultFrom.body.from, defaultFrom.body.to], ['2031-01-11', '2031-02-10']);
    const bad = await t.api('GET', '/v1/analytics/rfm/migrations?from=2031-02-10&to=2031-02-10');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['from']);
    const badDate = await t.api('GET', '/v1/analytics/rfm/migrations?from=2031-02-30');
    assert.deepEqual(badDate.body.errors.map((e: any) => e.field), ['from']);
    // Year 0000 is a well-formed date PostgreSQL refuses: a 400 naming the field, not a 500.
    for (const [q, field] of [['from=0000-01-01&to=2031-02-10', 'from'], ['from=2030-01-01&to=3000-01-01', 'to']]) {
      const res = await t.api('GET', `/v1/analytics/rfm/migrations?${q}`);
      assert.equal(res.status, 400, `${q}: ${res.text}`);
      assert.deepEqual(res.body.errors.map((e: any) => e.field), [field], q);
    }
    // Both days on the same run: nothing to compare.
    const same = await t.api('GET', '/v1/analytics/rfm/migrations?from=2031-02-01&to=2031-02-10');
    assert.equal(same.status, 422, same.text);
    assert.deepEqual(same.body.errors.map((e: any) => e.field), ['from']);
    assert.match(same.body.detail, /both dates fall on the run as of 2031-01-31; choose dates further apart/);
  });

  test('member scores page by member id and filter by segment; the CSV streams the same rows, spreadsheet-safe', async () => {
    const all = [...(await scores(t, newer.id)).values()];
    let cursor: string | null = null;
    const paged: any[] = [];
    do {
      const res: any = await t.api('GET', `/v1/analytics/members?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.run_id, newer.id);
      paged.push(...res.body.data);
      cursor = res.body.next_cursor;
    } while (cursor);
    assert.deepEqual(paged.map((m) => m.member_id), all.map((m) => m.member_id));
    assert.deepEqual(paged.map((m) => m.member_id), [...paged.map((m) => m.member_id)].sort());
    const segment = all[0].segment;
    const filtered = await t.api('GET', `/v1/analytics/members?segment=${segment}&limit=500`);
    assert.deepEqual(filtered.body.data.map((m: any) => m.member_id), all.filter((m) => m.segment === segment).map((m) => m.member_id));
    const atRisk = await t.api('GET', '/v1/analytics/members?at_risk=true&limit=500');
    assert.deepEqual(atRisk.body.data.map((m: any) => m.member_id), all.filter((m) => m.at_risk).map((m) => m.member_id));
    const bad = await t.api('GET', '/v1/analytics/members?segment=vip&limit=0');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['limit', 'segment']);

    const csv = await t.api('GET', `/v1/analytics/members.csv?segment=${segment}`);
    assert.equal(csv.status, 200, csv.text);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(csv.headers.get('content-disposition') ?? '', /analytics-members-2031-01-31\.csv/);
    const lines = csv.text.trim().split('\n');
    assert.equal(lines[0], 'member_id,external_id,first_purchase_on,last_purchase_on,orders,purchase_days,revenue,repeat_day_mean,t_x_days,t_days,recency_days,r_score,f_score,m_score,segment,p_alive,expected_30,expected_90,expected_365,expected_order_value,clv,historic_clv,clv_decile,recent_rate_ratio,at_risk,risk_reasons,value_at_risk,currency');
    assert.equal(lines.length - 1, filtered.body.data.length);
    const full = await t.api('GET', '/v1/analytics/members.csv');
    const injected = full.text.split('\n').find((l) => l.includes('HYPERLINK'));
    assert.ok(injected, 'the member with a formula for an external id is in the export');
    assert.match(injected!, /,"'=HYPERLINK\(""http:\/\/x""\)",/);
  });
});

describe('the nightly schedule and the purge', () => {
  test('at 03:xx local time a run as of yesterday is queued once; not at other hours, nor when nightly is off', async () => {
    const t = await tenant({ timeZone: 'Asia/Tokyo' });
    const nightly = (extra: Record<string, unknown> = {}) => app.patron.jobs.runNow('analytics.nightly', { tenant_id: t.id, ...extra }) as Promise<any>;
    app.clock.set('2031-06-01T17:30:00Z'); // 02:30 in Tokyo
    assert.equal((await nightly()).queued, 0);
    app.clock.set('2031-06-01T18:30:00Z'); // 03:30 on 06-02 in Tokyo
    assert.equal((await nightly()).queued, 1);
    assert.equal((await nightly()).queued, 0, 'once a night');
    const runs = (await t.api('GET', '/v1/analytics/runs')).body.data;
    assert.equal(runs.length, 1);
    assert.equal(runs[0].as_of, '2031-06-01');
    assert.equal(runs[0].trigger, 'schedule');
    assert.equal(runs[0].status, 'queued');
    const off = await tenant({ timeZone: 'Asia/Tokyo' });
    await off.api('PUT', '/v1/analytics/settings', { body: { nightly: false } });
    assert.equal((await app.patron.jobs.runNow('analytics.nightly', { tenant_id: off.id }) as any).queued, 0);
    // On demand at any hour.
    app.clock.set('2031-06-03T08:00:00Z');
    assert.equal((await nightly({ any_hour: true })).queued, 1);
    await assert.rejects(app.patron.jobs.runNow('analytics.nightly', { tenant_id: 'nope' }), /tenant_id must be a tenant id/);
  });

  test('two nightly jobs at once for one tenant queue one run', async () => {
    const t = await tenant({ timeZone: 'Asia/Tokyo' });
    app.clock.set('2031-06-01T18:30:00Z'); // 03:30 on 06-02 in Tokyo
    const results = await Promise.all([1, 2, 3].map(() => app.patron.jobs.runNow('analytics.nightly', { tenant_id: t.id }) as Promise<any>));
    assert.equal(results.reduce((n, r) => n + r.queued, 0), 1);
    assert.equal((await t.api('GET', '/v1/analytics/runs')).body.data.length, 1);
  });

  test('runs older than keep_runs_days are deleted with their rows, except the published one', async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    await member(t, 'a');
    await order(t, { member_external_id: 'a', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    await t.api('PUT', '/v1/analytics/settings', { body: { keep_runs_days: 7, nightly: false } });
    const published = await run(t, { as_of: '2031-05-31' });
    const backtest = await run(t, { as_of: '2031-05-15' });
    app.clock.set('2031-06-09T12:00:00Z');
    const fresh = await run(t, { as_of: '2031-05-20' }); // recent, not published (older as_of)
    assert.equal(published.published, true);
    assert.equal(fresh.published, false);
    const result: any = await app.patron.jobs.runNow('analytics.nightly', { tenant_id: t.id });
    assert.equal(result.purged, 1);
    assert.equal((await t.api('GET', `/v1/analytics/runs/${backtest.id}`)).status, 404);
    assert.equal((await t.api('GET', `/v1/analytics/runs/${published.id}`)).status, 200);
    assert.equal((await t.api('GET', `/v1/analytics/runs/${fresh.id}`)).status, 200);
    const left = await app.patron.db.query(`SELECT DISTINCT run_id FROM analytics_member_scores WHERE tenant_id = $1 ORDER BY run_id`, [t.id]);
    assert.deepEqual(left.rows.map((r) => r.run_id), [published.id, fresh.id].sort());
  });
});

describe('GDPR', () => {
  test("the export carries the member's current analytics; erasing the member deletes their scores in every run", async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const t = await tenant();
    const id = await member(t, 'gone');
    await member(t, 'stays');
    for (const m of ['gone', 'stays']) await order(t, { member_external_id: m, occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    const older = await run(t, { as_of: '2031-05-20' });
    const newer = await run(t, { as_of: '2031-05-31' });
    const exported = await t.api('GET', `/v1/members/${id}/export`);
    assert.equal(exported.status, 200, exported.text);
    assert.equal(exported.body.sections.analytics.run_id, newer.id);
    assert.equal(exported.body.sections.analytics.member_id, id);
    assert.equal((await t.api('POST', `/v1/members/${id}/erase`)).status, 200);
    for (const r of [older, newer]) {
      const left = await scores(t, r.id);
      assert.deepEqual([...left.values()].map((s: any) => s.member_id).includes(id), false, r.as_of);
      assert.equal(left.size, 1);
    }
    assert.equal((await t.api('GET', `/v1/members/${id}/analytics`)).status, 404);
    const rows = await app.patron.db.query(`SELECT count(*)::int AS n FROM member_analytics WHERE tenant_id = $1 AND member_id = $2`, [t.id, id]);
    assert.equal(rows.rows[0].n, 0);
    assert.equal((await t.api('GET', `/v1/members/${id}/export`)).body.sections.analytics, null);
    // A run after the erasure does not profile the member again from the orders the shop keeps.
    app.clock.set('2031-06-02T12:00:00Z');
    const after = await run(t, { as_of: '2031-06-01' });
    assert.deepEqual([...(await scores(t, after.id)).values()].map((s: any) => s.member_id).includes(id), false);
    assert.equal((await t.api('GET', `/v1/members/${id}/analytics`)).status, 404);
  });
});

describe('tenant isolation', () => {
  test("a key of one tenant sees none of another's runs, results or scores", async () => {
    app.clock.set('2031-06-01T12:00:00Z');
    const a = await tenant();
    const b = await tenant();
    await member(b, 'x');
    await order(b, { member_external_id: 'x', occurred_at: '2031-05-01T10:00:00Z', total: 1000 });
    const rb = await run(b, { as_of: '2031-05-31' });
    assert.equal((await a.api('GET', `/v1/analytics/runs/${rb.id}`)).status, 404);
    assert.deepEqual((await a.api('GET', '/v1/analytics/runs')).body.data, []);
    for (const path of [`/v1/analytics/clv/model?run_id=${rb.id}`, `/v1/analytics/rfm?run_id=${rb.id}`, `/v1/analytics/members?run_id=${rb.id}`, `/v1/analytics/members.csv?run_id=${rb.id}`, '/v1/analytics/rfm/migrations']) {
      assert.equal((await a.api('GET', path)).status, 404, path);
      assert.equal((await b.api('GET', path)).status, 200, path);
    }
    const x = [...(await scores(b, rb.id)).values()][0];
    assert.equal((await a.api('GET', `/v1/members/${x.member_id}/analytics`)).status, 404);
    // A's run sees nothing of B.
    const ra = await run(a, { as_of: '2031-05-31' });
    assert.equal(ra.summary.members, 0);
  });
});
