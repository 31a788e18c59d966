/**
 * Experience joined with behaviour against a real PostgreSQL: answers given through the surveys service on two
 * surveys with different scales (NPS 0-10 and 1-5, CSAT 1-5 and 1-7, CES 1-7), tiers through the API, and a run's
 * member rows from the test-only fixture. Every score below is worked out by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../../test/helpers.js';
import { makeAjv } from '../../../platform/http/ajv.js';
import { insertRun, insertScores, scopeOf } from '../at-risk/scores.fixture.js';
import { experienceStage, experienceView, lookbackFrom, runExperience, type ExperienceResult } from './experience.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));
const AS_OF = '2031-06-30';

async function survey(t: TestTenant, questions: unknown[]): Promise<string> {
  const s = await t.api('POST', '/v1/surveys', { body: { name: 'Experience', touchpoint: 'purchase', definition: { questions } } });
  assert.equal(s.status, 201, s.text);
  assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/publish`)).status, 200);
  return s.body.id;
}

describe('experience by segment, tier and CLV decile', () => {
  let t: TestTenant;
  let doc: ExperienceResult;

  before(async () => {
    at('2030-12-01T08:00:00Z');
    t = await app.newTenant();
    assert.equal((await t.api('POST', '/v1/tiers', { body: { code: 'silver', name: 'Silver', entry_threshold: 0 } })).status, 201);
    assert.equal((await t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', entry_threshold: 1_000_000_000 } })).status, 201);
    const m: Record<string, string> = {};
    for (const name of ['P1', 'P2', 'P3', 'P4', 'P5', 'X']) {
      const res = await t.api('POST', '/v1/members', { body: { first_name: name } });
      assert.equal(res.status, 201, res.text);
      m[name] = res.body.id;
    }
    const gold = await t.api('POST', `/v1/members/${m.P1}/tier/assignment`, { body: { tier: 'gold', reason: 'VIP' } });
    assert.equal(gold.status, 200, gold.text);
    const s1 = await survey(t, [{ key: 'nps', type: 'nps' }, { key: 'csat', type: 'csat' }, { key: 'ces', type: 'ces' }]);
    const s2 = await survey(t, [{ key: 'nps', type: 'nps', scale: '1-5' }, { key: 'csat', type: 'csat', scale_max: 7 }]);
    const respond = (surveyId: string, memberId: string | undefined, answers: Record<string, number>, when: string) => {
      at(when);
      return app.patron.db.tx((tx) => app.patron.services.surveys.respond(tx, t.id, { survey_id: surveyId, ...(memberId ? { member_id: memberId } : {}), channel: 'api', language: 'en', answers }));
    };
    // Before the lookback (2031-01-02 … 2031-06-30) and after as_of: not counted.
    await respond(s1, m.P1, { nps: 0, csat: 1, ces: 1 }, '2030-12-20T10:00:00Z');
    await respond(s2, m.P3, { nps: 5, csat: 7 }, '2031-07-01T10:00:00Z');
    // In the lookback.
    await respond(s1, m.P1, { nps: 10, csat: 5, ces: 7 }, '2031-03-01T10:00:00Z'); // promoter, satisfied, low effort
    await respond(s2, m.P1, { nps: 5, csat: 7 }, '2031-03-02T10:00:00Z'); //          promoter (1-5), satisfied (1-7)
    await respond(s1, m.P2, { nps: 6, csat: 4, ces: 3 }, '2031-04-01T10:00:00Z'); //   detractor, satisfied (top two of 1-5), high effort
    await respond(s2, m.P2, { nps: 4, csat: 5 }, '2031-04-02T10:00:00Z'); //          passive (1-5), neutral (1-7)
    await respond(s1, m.P3, { nps: 8, csat: 2, ces: 5 }, '2031-05-01T10:00:00Z'); //   passive, dissatisfied, low effort
    await respond(s2, m.P4, { nps: 1, csat: 1 }, '2031-05-02T10:00:00Z'); //          detractor (1-5), dissatisfied (1-7)
    // X has no row in the run (no purchase), the other answer is anonymous: 3 + 3 answers left out.
    await respond(s1, m.X, { nps: 0, csat: 1, ces: 1 }, '2031-06-01T10:00:00Z');
    await respond(s1, undefined, { nps: 9, csat: 5, ces: 7 }, '2031-06-02T10:00:00Z');

    const runId = await insertRun(app.patron.db, t.id, { as_of: AS_OF });
    await insertScores(app.patron.db, t.id, runId, [
      { member_id: m.P1!, segment: 'champions', clv_decile: 10, clv: 50000, p_alive: 0.9 },
      { member_id: m.P2!, segment: 'champions', clv_decile: 9, clv: 30000, p_alive: 0.8, at_risk: true, risk_reasons: ['detractor'], value_at_risk: 37500 },
      { member_id: m.P3!, segment: 'lost', clv_decile: 1, clv: 1000, p_alive: 0.2 },
      { member_id: m.P4!, segment: 'lost' },
      { member_id: m.P5!, segment: 'loyal', clv_decile: 10, clv: 20000, p_alive: 0.95 },
    ]);
    const scope = await scopeOf(app.patron.db, t.id, runId, AS_OF, 'UTC');
    doc = await experienceStage.run(app.patron.db, scope) as ExperienceResult;
  });

  test('the registration and the view', () => {
    assert.deepEqual([experienceStage.stage, experienceStage.kind, experienceView.kind, experienceView.path], ['experience', 'experience', 'experience', '/v1/analytics/experience']);
    assert.equal(lookbackFrom('2031-06-30', 180), '2031-01-02');
    assert.equal(lookbackFrom('2032-03-01', 1), '2032-03-01');
    assert.deepEqual([doc.as_of, doc.from, doc.lookback_days, doc.currency, doc.excluded_answers], [AS_OF, '2031-01-02', 180, 'EUR', 6]);
    // The view's schema (the OpenAPI document's) describes what the stage stores.
    const check = makeAjv('body').compile(experienceView.schema);
    assert.ok(check(doc), JSON.stringify(check.errors));
  });

  test('by RFM segment: NPS over the bands of both scales, CSAT per scale, CES; beside members, CLV, P(alive), at risk', () => {
    assert.deepEqual(doc.by_segment.map((g) => g.segment), ['champions', 'loyal', 'lost']);
    const [champions, loyal, lost] = doc.by_segment;
    // Champions: promoters P1 (0-10) and P1 (1-5), a detractor P2 (0-10), a passive P2 (1-5): n = 4, NPS = 50 − 25;
    // s² = (0.5 + 0.25) − 0.25² = 0.6875, MoE = 1.96 · √(0.6875 / 4) · 100 = 81.26.
    assert.deepEqual(champions, {
      segment: 'champions', members: 2, respondents: 2, at_risk: 1, clv_mean: 40000, p_alive_mean: 0.85,
      nps: { promoters: 2, passives: 1, detractors: 1, n: 4, nps: 25, promoters_pct: 50, passives_pct: 25, detractors_pct: 25, margin_of_error: 81.26 },
      // 1-5: 5 and 4, both in the top two boxes. 1-7: 7 (top two) and 5 (not): never one mean over both scales.
      csat: [{ scale: '1-5', n: 2, satisfied: 2, csat: 100, mean: 4.5 }, { scale: '1-7', n: 2, satisfied: 1, csat: 50, mean: 6 }],
      ces: [{ scale: '1-7', n: 2, low_effort: 1, low_effort_pct: 50, mean: 5 }],
    });
    // Loyal: a member and no answers — scores over no answers are null, never 0.
    assert.deepEqual(loyal, {
      segment: 'loyal', members: 1, respondents: 0, at_risk: 0, clv_mean: 20000, p_alive_mean: 0.95,
      nps: { promoters: 0, passives: 0, detractors: 0, n: 0, nps: null, promoters_pct: null, passives_pct: null, detractors_pct: null, margin_of_error: null },
      csat: [], ces: [],
    });
    // Lost: a passive (0-10) and a detractor (1-5): NPS −50, s² = 0.5 − 0.25, MoE = 1.96 · √(0.25 / 2) · 100 = 69.30.
    // P4 has no model: the means are over P3 alone.
    assert.deepEqual(lost, {
      segment: 'lost', members: 2, respondents: 2, at_risk: 0, clv_mean: 1000, p_alive_mean: 0.2,
      nps: { promoters: 0, passives: 1, detractors: 1, n: 2, nps: -50, promoters_pct: 0, passives_pct: 50, detractors_pct: 50, margin_of_error: 69.3 },
      csat: [{ scale: '1-5', n: 1, satisfied: 0, csat: 0, mean: 2 }, { scale: '1-7', n: 1, satisfied: 0, csat: 0, mean: 1 }],
      ces: [{ scale: '1-7', n: 1, low_effort: 1, low_effort_pct: 100, mean: 5 }],
    });
  });

  test('by the tier held now (a member without a tier row holds the base tier) and by CLV decile', () => {
    assert.deepEqual(doc.by_tier.map((g) => [g.tier, g.members, g.respondents, g.nps.n, g.nps.nps]), [
      ['gold', 1, 1, 2, 100],
      // P2 detractor + passive, P3 passive, P4 detractor: 0 − 50.
      ['silver', 4, 3, 4, -50],
    ]);
    assert.deepEqual(doc.by_clv_decile.map((g) => [g.clv_decile, g.members, g.respondents, g.nps.nps, g.csat.map((c) => [c.scale, c.csat])]), [
      [10, 2, 1, 100, [['1-5', 100], ['1-7', 100]]],
      [9, 1, 1, -50, [['1-5', 100], ['1-7', 0]]],
      [1, 1, 1, 0, [['1-5', 0]]],
      [null, 1, 1, -100, [['1-7', 0]]],
    ]);
    assert.deepEqual([doc.overall.members, doc.overall.respondents, doc.overall.at_risk, doc.overall.nps.n, doc.overall.nps.nps], [5, 4, 1, 6, 0]);
    assert.deepEqual(doc.overall.csat.map((c) => [c.scale, c.n, c.satisfied]), [['1-5', 3, 2], ['1-7', 3, 1]]);
    assert.equal(doc.overall.clv_mean, Math.round((50000 + 30000 + 1000 + 20000) / 4));
  });

  test('another tenant\'s answers never reach this run, and a run of another tenant sees nothing here', async () => {
    const other = await app.newTenant();
    const runId = await insertRun(app.patron.db, other.id, { as_of: AS_OF });
    const scope = await scopeOf(app.patron.db, other.id, runId, AS_OF, 'UTC');
    const empty = await runExperience(app.patron.db, scope);
    assert.deepEqual([empty.overall.members, empty.overall.nps.n, empty.excluded_answers, empty.by_segment], [0, 0, 0, []]);
  });
});
