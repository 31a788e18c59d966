/**
 * The cohort matrix over orders recorded through the real API, in America/New_York: a member whose first purchase is
 * on the last evening of a month there (already the next month in UTC), a partial and a whole return, a voided first
 * order, an order in another currency, a non-member, orders after as_of, a partial last month and a complete one.
 * The stage is called as the run pipeline calls it: computeCohorts(q, scope).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { makeAjv } from '../../../platform/http/ajv.js';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { DEFAULT_ANALYTICS_SETTINGS, type RunScope } from '../analytics.types.js';
import { addMonths, cohortsStage, cohortsView, computeCohorts, monthsBetween } from './cohorts.js';
import { CohortsSchema } from './cohorts.schema.js';
import { summarize } from '../analytics.summary.js';
import { insertRun } from '../at-risk/scores.fixture.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
  app.clock.set('2031-06-01T12:00:00Z');
});
after(() => app.close());

async function buy(t: TestTenant, who: { member: string } | { ref: string }, at: string, total: number, currency = 'EUR'): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', {
    body: {
      external_id: `o-${crypto.randomUUID()}`, ...('member' in who ? { member_external_id: who.member } : { customer_ref: who.ref }),
      occurred_at: at, currency, total,
    },
  });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** A return dated `at`: only returns dated before a run's end are netted in it. */
async function giveBack(t: TestTenant, purchase: any, total: number, at: string): Promise<void> {
  const res = await t.api('POST', '/v1/transactions', {
    body: { external_id: `r-${crypto.randomUUID()}`, type: 'return', original_id: purchase.id, currency: purchase.currency, total, occurred_at: at },
  });
  assert.equal(res.status, 201, res.text);
}

const scope = (t: TestTenant, asOf: string, end: string): RunScope => ({
  tenantId: t.id, runId: crypto.randomUUID(), asOf, end: new Date(end), timeZone: 'America/New_York',
  currency: 'EUR', minorPerMajor: 100, settings: DEFAULT_ANALYTICS_SETTINGS,
});

/** A cohort's row as [month, customers, percent, revenue, partial] per cell. */
const row = (result: any, month: string) =>
  (result.cohorts.find((c: any) => c.month === month) ?? assert.fail(`no cohort ${month}`)).cells.map((c: any) => [c.month, c.customers, c.percent, c.revenue, c.partial]);

describe('cohorts', () => {
  let t: TestTenant;
  before(async () => {
    t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: 'America/New_York' } })).status, 200);
    // M1: first purchase on 2031-01-31 at 23:30 in New York (February in UTC); again in March, and at 23:30 on 2031-04-15.
    await buy(t, { member: 'M1' }, '2031-02-01T04:30:00Z', 1000);
    await buy(t, { member: 'M1' }, '2031-03-10T12:00:00Z', 2000);
    await buy(t, { member: 'M1' }, '2031-04-16T03:30:00Z', 400);
    // M2: twice in January (one active month), then February with 400 of 1000 given back.
    await buy(t, { member: 'M2' }, '2031-01-05T12:00:00Z', 1500);
    await buy(t, { member: 'M2' }, '2031-01-20T12:00:00Z', 500);
    await giveBack(t, await buy(t, { member: 'M2' }, '2031-02-14T12:00:00Z', 1000), 400, '2031-02-15T12:00:00Z');
    // M3: a voided first order in December; really first in February, again in April.
    const voided = await buy(t, { member: 'M3' }, '2030-12-15T12:00:00Z', 5000);
    assert.equal((await t.api('POST', `/v1/transactions/${voided.id}/void`, { body: { reason: 'test' } })).status, 200);
    await buy(t, { member: 'M3' }, '2031-02-03T12:00:00Z', 1000);
    await buy(t, { member: 'M3' }, '2031-04-10T12:00:00Z', 700);
    // M4: a wholly returned order in February; really first in March.
    await giveBack(t, await buy(t, { member: 'M4' }, '2031-02-20T12:00:00Z', 800), 800, '2031-02-21T12:00:00Z');
    await buy(t, { member: 'M4' }, '2031-03-05T12:00:00Z', 900);
    // M6: first in March, in another currency (the program's was BGN then): active, no revenue.
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { default_currency: 'BGN' } })).status, 200);
    await buy(t, { member: 'M6' }, '2031-03-15T12:00:00Z', 5000, 'BGN');
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { default_currency: 'EUR' } })).status, 200);
    // A non-member: not in the member cohorts.
    await buy(t, { ref: 'walk-in' }, '2031-01-10T12:00:00Z', 3000);
    // M5: only after as_of (2031-04-16 at 01:00 in New York).
    await buy(t, { member: 'M5' }, '2031-04-16T05:00:00Z', 1000);
  });

  test('as of the middle of April: the matrix to April, April partial, months in New York, returns and voids honoured', async () => {
    // The day after 2031-04-15 starts at 04:00 UTC in New York (EDT).
    const result = await computeCohorts(app.patron.db, scope(t, '2031-04-15', '2031-04-16T04:00:00Z'));
    // The stored document matches the schema the OpenAPI document gives for it.
    const valid = makeAjv('body').compile(CohortsSchema);
    assert.ok(valid(JSON.parse(JSON.stringify(result))), JSON.stringify(valid.errors));
    assert.equal(result.last_month, '2031-04');
    assert.equal(result.last_month_partial, true);
    assert.deepEqual(result.cohorts.map((c) => [c.month, c.customers, c.revenue]), [
      ['2031-01', 2, 3000 + 600 + 2000 + 400],
      ['2031-02', 1, 1700],
      ['2031-03', 2, 900],
    ]);
    assert.deepEqual(row(result, '2031-01'), [
      ['2031-01', 2, 100, 3000, false], // M1 (31 January in New York) and M2 (two orders, one month)
      ['2031-02', 1, 50, 600, false], // M2, net of the return
      ['2031-03', 1, 50, 2000, false],
      ['2031-04', 1, 50, 400, true], // M1 at 23:30 on the 15th
    ]);
    assert.deepEqual(row(result, '2031-02'), [['2031-02', 1, 100, 1000, false], ['2031-03', 0, 0, 0, false], ['2031-04', 1, 100, 700, true]]);
    assert.deepEqual(row(result, '2031-03'), [['2031-03', 2, 100, 900, false], ['2031-04', 0, 0, 0, true]]);
    assert.equal(result.customers, 5);
    assert.equal(result.revenue, 6000 + 1700 + 900);
    assert.deepEqual(result.cohorts.map((c) => c.cells.map((x) => x.offset)), [[0, 1, 2, 3], [0, 1, 2], [0, 1]]);
  });

  test('as of the last day of March: the matrix stops at March, which is complete', async () => {
    const result = await cohortsStage.run(app.patron.db, scope(t, '2031-03-31', '2031-04-01T04:00:00Z')) as Awaited<ReturnType<typeof computeCohorts>>;
    assert.equal(result.last_month, '2031-03');
    assert.equal(result.last_month_partial, false);
    assert.deepEqual(row(result, '2031-01'), [['2031-01', 2, 100, 3000, false], ['2031-02', 1, 50, 600, false], ['2031-03', 1, 50, 2000, false]]);
    assert.deepEqual(row(result, '2031-02'), [['2031-02', 1, 100, 1000, false], ['2031-03', 0, 0, 0, false]]);
    assert.deepEqual(row(result, '2031-03'), [['2031-03', 2, 100, 900, false]]);
  });

  test('another tenant, or before any order: no cohorts', async () => {
    const other = await app.newTenant();
    const none = await computeCohorts(app.patron.db, scope(other, '2031-04-15', '2031-04-16T04:00:00Z'));
    assert.deepEqual(none.cohorts, []);
    assert.equal(none.customers, 0);
    const early = await computeCohorts(app.patron.db, scope(t, '2030-12-31', '2031-01-01T05:00:00Z'));
    assert.deepEqual(early.cohorts, []); // M3's December order was voided
  });

  test('one definition of a counted purchase: cohorts.customers is the summary\'s member count, with a zero-total purchase and a return after as_of', async () => {
    const u = await app.newTenant();
    // Z: one purchase of total 0 that nothing was returned from (it counts, as in CDNOW).
    await buy(u, { member: 'Z' }, '2031-02-02T12:00:00Z', 0);
    // L: a purchase wholly returned after as_of: as of 2031-03-10 it was a full purchase (the backtest must not see
    // the later return, although the purchase's returned_total holds it now).
    const later = await buy(u, { member: 'L' }, '2031-02-10T12:00:00Z', 1000);
    await giveBack(u, later, 1000, '2031-03-15T12:00:00Z');
    // P: an ordinary buyer, twice.
    await buy(u, { member: 'P' }, '2031-01-05T12:00:00Z', 700);
    await buy(u, { member: 'P' }, '2031-03-01T12:00:00Z', 300);

    // The summary and cohorts stages as the run pipeline calls them, on one session, as of 2031-03-10 (UTC tenant).
    const runId = await insertRun(app.patron.db, u.id, { as_of: '2031-03-10', status: 'running' });
    const s: RunScope = { ...scope(u, '2031-03-10', '2031-03-11T00:00:00Z'), runId, timeZone: 'UTC' };
    const [summary, doc] = await app.patron.db.tx(async (q) => [await summarize(q, s), await computeCohorts(q, s)] as const);
    assert.equal(summary.members, 3);
    assert.equal(doc.customers, summary.members);
    assert.equal(doc.revenue, summary.revenue);
    assert.equal(doc.revenue, 0 + 1000 + 700 + 300);
  });

  test('the registration and the view: stage cohorts, kind cohorts, at /v1/analytics/cohorts; month arithmetic', () => {
    assert.equal(cohortsStage.stage, 'cohorts');
    assert.equal(cohortsStage.kind, 'cohorts');
    assert.equal(cohortsView.kind, 'cohorts');
    assert.equal(cohortsView.path, '/v1/analytics/cohorts');
    assert.equal(cohortsView.schema, CohortsSchema);
    assert.equal(monthsBetween('2030-11', '2031-02'), 3);
    assert.equal(addMonths('2030-11', 3), '2031-02');
    assert.equal(addMonths('2031-12', 1), '2032-01');
  });
});
