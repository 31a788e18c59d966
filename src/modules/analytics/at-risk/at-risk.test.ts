/**
 * The at-risk stage and list against a real PostgreSQL. The model's outputs (P(alive), CLV, deciles, segments) are
 * written straight into a run's member rows (scores.fixture.ts, test-only); the evidence the rule reads is real:
 * survey answers given through the surveys service, cases opened through the API and breached by the SLA job,
 * orders posted through the API. Every expected reason and value below is worked out by hand in the comments.
 *
 * The tenant is in Europe/Sofia; the run is as of Monday 2031-06-30, so it ends at 2031-06-30T21:00Z (UTC+3). With
 * the default settings the lookback is the 180 local days 2031-01-02 … 2031-06-30 (from 2031-01-01T22:00Z, UTC+2)
 * and the recent window the 90 days 2031-04-02 … 2031-06-30 (the history before it ends on 2031-04-01).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { makeAjv } from '../../../platform/http/ajv.js';
import { DEFAULT_ANALYTICS_SETTINGS } from '../analytics.types.js';
import { atRiskStage, atRiskView, ruleOf, runAtRisk } from './at-risk.js';
import { scoreAtRisk } from './at-risk.store.js';
import { insertRun, insertScores, scopeOf, type ScoreFixture } from './scores.fixture.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));
const AS_OF = '2031-06-30';
const TZ = 'Europe/Sofia';

async function member(t: TestTenant, name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: { first_name: name, last_name: 'Test', email: `${name.replace(/[^a-z]/gi, '').toLowerCase() || 'x'}@example.com`, external_id: `ext-${name.replace(/[^a-z]/gi, '')}`, ...extra } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function nps(t: TestTenant, surveyId: string, memberId: string, value: number, when: string) {
  at(when);
  await app.patron.db.tx((tx) => app.patron.services.surveys.respond(tx, t.id, { survey_id: surveyId, member_id: memberId, channel: 'api', language: 'en', answers: { nps: value } }));
}

async function feedback(t: TestTenant, memberId: string, when: string): Promise<string> {
  at(when);
  const res = await t.api('POST', '/v1/feedback', { body: { member_id: memberId, message: 'Where is my parcel?' } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function slaAt(t: TestTenant, when: string) {
  at(when);
  await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id });
}

/** Purchases on these local days (noon UTC, the same day in Sofia). */
async function buys(t: TestTenant, memberId: string, days: string[]) {
  for (const d of days) {
    const res = await t.api('POST', '/v1/transactions', { body: { external_id: `${memberId}-${d}`, member_id: memberId, currency: 'EUR', total: 1000, occurred_at: `${d}T12:00:00Z` } });
    assert.equal(res.status, 201, res.text);
  }
}

/** Every 10 days from `from` while not after `to`. */
function every10(from: string, to: string): string[] {
  const out: string[] = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d = new Date(d.getTime() + 10 * 86_400_000)) out.push(d.toISOString().slice(0, 10));
  return out;
}

const rowsOf = async (t: TestTenant, runId: string) => {
  const res = await app.patron.db.query(
    `SELECT member_id, at_risk, risk_reasons, value_at_risk, recent_rate_ratio FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`, [t.id, runId]);
  return new Map(res.rows.map((r) => [r.member_id as string, r]));
};

describe('at-risk', () => {
  let t: TestTenant;
  let runId: string;
  const m: Record<string, string> = {};

  before(async () => {
    at('2030-12-01T08:00:00Z');
    t = await app.newTenant();
    assert.equal((await t.api('PATCH', '/v1/tenant', { body: { time_zone: TZ } })).status, 200);
    // Answers and feedback open no cases of their own here: only the cases opened below can be breached.
    const cs = await t.api('PUT', '/v1/case-settings', { body: { open_rules: { nps_detractor: false, csat_dissatisfied: false, ces_high_effort: false, free_text: false } } });
    assert.equal(cs.status, 200, cs.text);
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'N', 'O']) {
      m[name] = await member(t, name === 'B' ? '=HYPERLINK("http://evil.example")' : name, name === 'B' ? { email: 'b@example.com', external_id: 'ext-B' } : {});
    }
    const s = await t.api('POST', '/v1/surveys', { body: { name: 'Relationship NPS', touchpoint: 'purchase', definition: { questions: [{ key: 'nps', type: 'nps' }] } } });
    assert.equal(s.status, 201, s.text);
    assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/publish`)).status, 200);
    const survey = s.body.id as string;

    // K: a case opened Mon 2030-12-16 10:00 Sofia and breached — before the lookback.
    await feedback(t, m.K!, '2030-12-16T08:00:00Z');
    await slaAt(t, '2030-12-20T08:00:00Z');
    // G: a detractor at 23:30 Sofia on 1 January — the day before the lookback starts. H: at 00:30 on 2 January — inside.
    await nps(t, survey, m.G!, 2, '2031-01-01T21:30:00Z');
    await nps(t, survey, m.H!, 2, '2031-01-01T22:30:00Z');
    // C: a case opened Mon 2031-03-10 10:00 Sofia, first response due Tue 10:00, breached by Wednesday.
    await feedback(t, m.C!, '2031-03-10T08:00:00Z');
    await slaAt(t, '2031-03-12T08:00:00Z');
    // B and F detractors in May (F is no candidate), E a promoter.
    await nps(t, survey, m.B!, 3, '2031-05-01T09:00:00Z');
    await nps(t, survey, m.F!, 0, '2031-05-01T09:05:00Z');
    await nps(t, survey, m.E!, 10, '2031-05-01T09:10:00Z');
    // J: a case opened Mon 2031-06-30 16:00 Sofia (in the lookback): first response due Tue 16:00, after as_of ends.
    await feedback(t, m.J!, '2031-06-30T13:00:00Z');
    // I: a detractor the day after as_of.
    await nps(t, survey, m.I!, 1, '2031-07-01T10:00:00Z');
    await slaAt(t, '2031-07-03T08:00:00Z');
    const breached = await app.patron.db.query(`SELECT member_id FROM cases WHERE tenant_id = $1 AND first_response_breached`, [t.id]);
    assert.deepEqual(breached.rows.map((r) => r.member_id).sort(), [m.C, m.J, m.K].sort(), 'the SLA job breached the three cases');

    // D: every 10 days 1 Jan … 1 Apr (10 purchase days), then once in the window. E: every 10 days through June.
    // L: two purchase days before the window. O: three, spread over 90 days. A second order on one day is one occasion.
    await buys(t, m.D!, [...every10('2031-01-01', '2031-04-01'), '2031-05-15']);
    await buys(t, m.E!, every10('2031-01-01', '2031-06-30'));
    await buys(t, m.L!, ['2031-03-01', '2031-03-20']);
    await buys(t, m.O!, ['2031-01-01', '2031-02-15', '2031-04-01']);
    const same = await t.api('POST', '/v1/transactions', { body: { external_id: 'D-again', member_id: m.D, currency: 'EUR', total: 500, occurred_at: '2031-05-15T18:00:00Z' } });
    assert.equal(same.status, 201, same.text);
    // An order after as_of is not history yet.
    const late = await t.api('POST', '/v1/transactions', { body: { external_id: 'D-late', member_id: m.D, currency: 'EUR', total: 500, occurred_at: '2031-06-30T22:00:00Z' } });
    assert.equal(late.status, 201, late.text);

    runId = await insertRun(app.patron.db, t.id, { as_of: AS_OF, published: true });
    const score = (name: string, s: Omit<ScoreFixture, 'member_id'>): ScoreFixture => ({ member_id: m[name]!, ...s });
    await insertScores(app.patron.db, t.id, runId, [
      score('A', { p_alive: 0.3, clv: 30000, clv_decile: 10, segment: 'cant_lose_them', last_purchase_on: '2030-11-02', recency_days: 240 }),
      score('D', { p_alive: 0.8, clv: 72000, clv_decile: 10, segment: 'loyal', last_purchase_on: '2031-05-15', recency_days: 46 }),
      score('B', { p_alive: 0.9, clv: 45000, clv_decile: 9, segment: 'champions' }),
      score('H', { p_alive: 0.45, clv: 18000, clv_decile: 8, segment: 'at_risk' }),
      score('C', { p_alive: 0.95, clv: 19000, clv_decile: 8, segment: 'champions' }),
      score('E', { p_alive: 0.9, clv: 90000, clv_decile: 10, segment: 'champions' }),
      score('F', { p_alive: 0.1, clv: 1000, clv_decile: 5, segment: 'lost' }),
      score('G', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      score('I', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      score('J', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      score('K', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      score('L', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      score('O', { p_alive: 0.9, clv: 9000, clv_decile: 10, segment: 'loyal' }),
      // No model for N: no P(alive), no CLV, no decile.
      score('N', {}),
    ]);
  });

  test('the stage finds each reason by its rule, and nothing else', async () => {
    const scope = await scopeOf(app.patron.db, t.id, runId, AS_OF, TZ);
    assert.equal(scope.end.toISOString(), '2031-06-30T21:00:00.000Z');
    assert.equal(atRiskStage.stage, 'at_risk');
    assert.equal(atRiskStage.kind, 'at_risk');
    const doc = await atRiskStage.run(app.patron.db, scope) as Awaited<ReturnType<typeof runAtRisk>>;
    const rows = await rowsOf(t, runId);
    const of = (name: string) => rows.get(m[name]!)!;

    // A: P(alive) 0.3 < 0.5. Value at risk: CLV / P(alive) = 30000 / 0.3.
    assert.deepEqual([of('A').risk_reasons, of('A').value_at_risk], [['low_p_alive'], 100000]);
    // D: before the window 10 purchase days from 1 Jan to 1 Apr (90 days): (x − 1) / t_x = (9 − 1) / 90 a day, 8 in
    // 90 days; in the window one purchase day (two orders on 15 May are one occasion; the order after as_of is not
    // counted): 1 / 8 = 0.125 < 0.5. 72000 / 0.8 = 90000.
    assert.deepEqual([of('D').risk_reasons, of('D').value_at_risk], [['falling_rate'], 90000]);
    assert.equal(of('D').recent_rate_ratio, 0.125);
    // E: the same rate before the window, 9 purchase days in it: 9 / 8. A promoter. Not at risk.
    assert.equal(of('E').recent_rate_ratio, 1.125);
    assert.deepEqual([of('E').at_risk, of('E').risk_reasons, of('E').value_at_risk], [false, [], 0]);
    // B: a detractor in May. 45000 / 0.9 = 50000.
    assert.deepEqual([of('B').risk_reasons, of('B').value_at_risk], [['detractor'], 50000]);
    // H: P(alive) 0.45, and a detractor at 00:30 Sofia on the lookback's first day. 18000 / 0.45 = 40000.
    assert.deepEqual([of('H').risk_reasons, of('H').value_at_risk], [['low_p_alive', 'detractor'], 40000]);
    // C: a case opened in the lookback, breached before as_of ended. 19000 / 0.95 = 20000.
    assert.deepEqual([of('C').risk_reasons, of('C').value_at_risk], [['breached_case'], 20000]);
    // F: a detractor and a low P(alive), but CLV decile 5 < 8: no candidate. G: its detractor answer is from the day
    // before the lookback (local time). I: answered after as_of. J: breached only after as_of. K: the case was opened
    // before the lookback. L: two purchase days before the window — no rate to judge. O: three, but (2 − 1) / 90 a day
    // expects 1 purchase day in 90, below the minimum of 2. N: no model.
    for (const name of ['F', 'G', 'I', 'J', 'K', 'L', 'O', 'N']) {
      assert.deepEqual([of(name).at_risk, of(name).risk_reasons, of(name).value_at_risk], [false, [], 0], name);
    }
    for (const name of ['F', 'L', 'O', 'N', 'A']) assert.equal(of(name).recent_rate_ratio, null, name);
    assert.ok(['A', 'B', 'C', 'D', 'H'].every((n) => of(n).at_risk));

    assert.deepEqual(doc, {
      as_of: AS_OF, currency: 'EUR',
      rule: { min_clv_decile: 8, p_alive_below: 0.5, rate_ratio_below: 0.5, recent_days: 90, lookback_days: 180, min_expected_days: 2 },
      candidates: 12, rate_judged: 2, at_risk: 5, value_at_risk: 300000,
      by_reason: [
        { reason: 'low_p_alive', members: 2, value_at_risk: 140000 },
        { reason: 'detractor', members: 2, value_at_risk: 90000 },
        { reason: 'breached_case', members: 1, value_at_risk: 20000 },
        { reason: 'falling_rate', members: 1, value_at_risk: 90000 },
      ],
      by_segment: [
        { segment: 'cant_lose_them', members: 1, value_at_risk: 100000 },
        { segment: 'loyal', members: 1, value_at_risk: 90000 },
        { segment: 'champions', members: 2, value_at_risk: 70000 },
        { segment: 'at_risk', members: 1, value_at_risk: 40000 },
      ],
    });

    // The view's schema (the OpenAPI document's) describes what the stage stores.
    const check = makeAjv('body').compile(atRiskView.schema);
    assert.ok(check(doc), JSON.stringify(check.errors));

    // Again: nothing changes, nothing is written.
    assert.equal(await scoreAtRisk(app.patron.db, scope, ruleOf(scope)), 0);
    assert.deepEqual(await runAtRisk(app.patron.db, scope), doc);
  });

  test('the settings move the rule: a stricter P(alive) and decile, and a looser rate ratio; a member no longer at risk is cleared', async () => {
    const other = await insertRun(app.patron.db, t.id, { as_of: AS_OF });
    const copy = await app.patron.db.query(
      `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, t_x_days, t_days, recency_days, segment, p_alive, clv, clv_decile)
       SELECT tenant_id, $3, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, t_x_days, t_days, recency_days, segment, p_alive, clv, clv_decile
         FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`, [t.id, runId, other]);
    assert.equal(copy.rowCount, 14);
    const settings = { ...DEFAULT_ANALYTICS_SETTINGS, at_risk: { ...DEFAULT_ANALYTICS_SETTINGS.at_risk, min_clv_decile: 9, p_alive_below: 0.35, rate_ratio_below: 1.2 } };
    const scope = await scopeOf(app.patron.db, t.id, other, AS_OF, TZ, settings);
    const doc = await runAtRisk(app.patron.db, scope);
    const rows = await rowsOf(t, other);
    const of = (name: string) => rows.get(m[name]!)!;
    // Decile 9+: A, D, B, E, G, I, J, K, L, O. A: 0.3 < 0.35. D: 0.125 < 1.2. E: 1.125 < 1.2 now. B: detractor.
    assert.deepEqual(of('A').risk_reasons, ['low_p_alive']);
    assert.deepEqual(of('E').risk_reasons, ['falling_rate']);
    assert.deepEqual(of('B').risk_reasons, ['detractor']);
    // H and C are decile 8: no longer candidates.
    assert.deepEqual([of('H').at_risk, of('C').at_risk], [false, false]);
    assert.deepEqual([doc.candidates, doc.at_risk, doc.value_at_risk], [10, 4, 100000 + 90000 + 100000 + 50000]);

    // A later attempt of the stage on changed inputs clears what no longer holds: A's P(alive) is now 0.6.
    await app.patron.db.query(`UPDATE analytics_member_scores SET p_alive = 0.6 WHERE tenant_id = $1 AND run_id = $2 AND member_id = $3`, [t.id, other, m.A]);
    assert.equal(await scoreAtRisk(app.patron.db, scope, ruleOf(scope)), 1);
    const a = (await rowsOf(t, other)).get(m.A!)!;
    assert.deepEqual([a.at_risk, a.risk_reasons, a.value_at_risk], [false, [], 0]);
    // The first run's rows are untouched.
    assert.equal((await rowsOf(t, runId)).get(m.A!)!.value_at_risk, 100000);
  });

  test('GET /v1/analytics/at-risk: the newest published run, ranked by value at risk, with risk_reasons and the member; reason filter; cursor pages', async () => {
    // A newer run that is not published is not the default.
    await insertRun(app.patron.db, t.id, { as_of: '2031-07-31', published: false });
    const res = await t.api('GET', '/v1/analytics/at-risk');
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.run_id, res.body.as_of, res.body.currency, res.body.next_cursor], [runId, AS_OF, 'EUR', null]);
    assert.deepEqual(res.body.data.map((r: any) => r.member_id), ['A', 'D', 'B', 'H', 'C'].map((n) => m[n]));
    assert.deepEqual(res.body.data[0], {
      member_id: m.A, external_id: 'ext-A', email: 'a@example.com', first_name: 'A', last_name: 'Test', risk_reasons: ['low_p_alive'],
      value_at_risk: 100000, clv: 30000, clv_decile: 10, p_alive: 0.3, segment: 'cant_lose_them', last_purchase_on: '2030-11-02', recency_days: 240,
      recent_rate_ratio: null,
    });
    assert.equal(res.body.data[1].recent_rate_ratio, 0.125);

    const detractors = await t.api('GET', '/v1/analytics/at-risk?reason=detractor');
    assert.deepEqual(detractors.body.data.map((r: any) => r.member_id), [m.B, m.H]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.api('GET', `/v1/analytics/at-risk?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(page.status, 200, page.text);
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((r: any) => r.member_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ['A', 'D', 'B', 'H', 'C'].map((n) => m[n]));

    // An explicit run; its own order (the second test's run is not published).
    const explicit = await t.api('GET', `/v1/analytics/at-risk?run_id=${runId}&reason=breached_case`);
    assert.deepEqual(explicit.body.data.map((r: any) => r.member_id), [m.C]);
  });

  test('bad input and other tenants: 400 naming the field, 404 for another tenant\'s run, 422 for a run not finished, empty before any run', async () => {
    const bad = await t.api('GET', '/v1/analytics/at-risk?reason=unhappy&run_id=nope&cursor=zzz');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['reason', 'run_id']);
    const badCursor = await t.api('GET', '/v1/analytics/at-risk?cursor=zzz');
    assert.deepEqual([badCursor.status, badCursor.body.errors[0].field], [400, 'cursor']);

    const other = await app.newTenant();
    const theirs = await other.api('GET', `/v1/analytics/at-risk?run_id=${runId}`);
    assert.equal(theirs.status, 404, theirs.text);
    assert.equal((await other.api('GET', `/v1/analytics/at-risk.csv?run_id=${runId}`)).status, 404);
    const empty = await other.api('GET', '/v1/analytics/at-risk');
    assert.deepEqual([empty.status, empty.body.run_id, empty.body.data], [200, null, []]);
    const emptyCsv = await other.api('GET', '/v1/analytics/at-risk.csv');
    assert.equal(emptyCsv.status, 200);
    assert.equal(emptyCsv.text.trim().split('\n').length, 1, 'the header alone');

    const running = await insertRun(app.patron.db, t.id, { as_of: AS_OF, status: 'running' });
    const busy = await t.api('GET', `/v1/analytics/at-risk?run_id=${running}`);
    assert.deepEqual([busy.status, busy.body.errors[0].field], [422, 'run_id']);
  });

  test('GET /v1/analytics/at-risk.csv: streamed, ranked, formula-safe; admin only', async () => {
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('GET', '/v1/analytics/at-risk.csv', { key: read })).status, 403);
    const res = await t.api('GET', '/v1/analytics/at-risk.csv');
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.match(res.headers.get('content-disposition') ?? '', /at-risk-2031-06-30\.csv/);
    const lines = res.text.trim().split('\n');
    assert.equal(lines[0], 'member_id,external_id,email,first_name,last_name,risk_reasons,value_at_risk,currency,clv,clv_decile,p_alive,segment,last_purchase_on,recency_days,recent_rate_ratio');
    assert.equal(lines.length, 6);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['A', 'D', 'B', 'H', 'C'].map((n) => m[n]));
    assert.equal(lines[1], `${m.A},ext-A,a@example.com,A,Test,low_p_alive,100000,EUR,30000,10,0.3,cant_lose_them,2030-11-02,240,`);
    // B's first name starts with '=': written with a leading ' so a spreadsheet shows it as text.
    assert.ok(lines[3]!.includes(`"'=HYPERLINK(""http://evil.example"")"`), lines[3]);
    assert.ok(lines[4]!.includes('"low_p_alive;detractor"') || lines[4]!.includes('low_p_alive;detractor'), lines[4]);
    const onlyFalling = await t.api('GET', '/v1/analytics/at-risk.csv?reason=falling_rate');
    assert.deepEqual(onlyFalling.text.trim().split('\n').slice(1).map((l) => l.split(',')[0]), [m.D]);
  });
});
