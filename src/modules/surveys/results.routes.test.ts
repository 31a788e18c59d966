/**
 * Survey results over HTTP, on responses made through the real surveys service: every score of the results route,
 * trends bucketed in the tenant's time zone, breakdowns, the period and question filters, the free-text analysis and
 * the streamed CSV.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { SurveysService } from './surveys.service.js';
import type { AnswerInput, Language } from './surveys.types.js';

let app: TestApp;
let t: TestTenant;
let other: TestTenant;
let surveys: SurveysService;
let surveyId: string;
let otherSurveyId: string;

const DEFINITION = {
  questions: [
    { key: 'nps', type: 'nps' },
    { key: 'csat', type: 'csat', required: false },
    { key: 'ces', type: 'ces', required: false },
    { key: 'secure', type: 'csi', required: false },
    { key: 'loyal', type: 'cli', required: false },
    { key: 'channel', type: 'single_choice', required: false, text: { en: 'Where?' }, options: [{ key: 'web', label: { en: 'Web' } }, { key: 'store', label: { en: 'Store' } }] },
    { key: 'liked', type: 'multiple_choice', required: false, text: { en: 'What did you like?' }, options: [{ key: 'a', label: { en: 'A' } }, { key: 'b', label: { en: 'B' } }, { key: 'c', label: { en: 'C' } }] },
    { key: 'why', type: 'text', required: false, text: { en: 'Why?' } },
  ],
};

async function createSurvey(tenant: TestTenant): Promise<string> {
  return app.patron.db.tx(async (tx) => {
    const s = await surveys.create(tx, tenant.id, { name: 'Results test', touchpoint: 'purchase', default_language: 'en', invitation_ttl_days: 60, definition: DEFINITION } as any);
    await surveys.publish(tx, tenant.id, s.id);
    return s.id;
  });
}

async function member(tenant: TestTenant, name: string): Promise<string> {
  const res = await tenant.api('POST', '/v1/members', { body: { external_id: `${name}-${Math.random().toString(36).slice(2)}`, first_name: name } });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function respond(at: string, language: Language, answers: AnswerInput, via: { invitation_id?: string } = {}): Promise<void> {
  app.clock.set(new Date(at));
  await app.patron.db.tx((tx) => surveys.respond(tx, t.id, { survey_id: surveyId, channel: via.invitation_id ? 'invitation' : 'api', language, answers, ...via }));
}

before(async () => {
  app = await startTestApp();
  const s = app.patron.services;
  surveys = new SurveysService({ clock: app.clock, members: s.members, events: s.events, standing: s.tiers.standing, baseUrl: () => app.url });
  t = await app.newTenant('Results');
  other = await app.newTenant('Other');
  // Sofia is UTC+2 in winter: an answer at 23:30 UTC on 30 November is given on 1 December there.
  await app.patron.db.tx((tx) => s.tenants.updateTenant(tx, t.id, { time_zone: 'Europe/Sofia' }));
  app.clock.set(new Date('2026-11-01T08:00:00Z'));
  surveyId = await createSurvey(t);
  otherSurveyId = await createSurvey(other);

  const invite = (m: string) => app.patron.db.tx((tx) => surveys.invite(tx, t.id, surveyId, { member_id: m }));
  const [m1, m2, m3] = [await member(t, 'm1'), await member(t, 'm2'), await member(t, 'm3')];
  const [i1, i2] = [await invite(m1), await invite(m2)];
  await invite(m3); // sent, never answered

  await respond('2026-11-02T10:00:00Z', 'en', {
    nps: 10, csat: 5, ces: 6, 'secure.satisfied': 5, 'secure.rebuy': 5, 'secure.recommend': 5, 'loyal.recommend': 1, 'loyal.buy': 2, 'loyal.try': 3,
    channel: 'web', liked: ['a', 'b'], why: 'Great staff, thank you',
  }, { invitation_id: i1.id });
  await respond('2026-11-05T10:00:00Z', 'bg', {
    nps: 3, csat: 2, ces: 2, 'secure.satisfied': 5, 'secure.rebuy': 4, 'secure.recommend': 5, 'loyal.recommend': 6, 'loyal.buy': 6, 'loyal.try': 6,
    channel: 'store', liked: ['b'], why: 'Доставката закъсня с два дни, ужасно.',
  });
  // Partial CSI and CLI blocks; a text a spreadsheet would run as a formula.
  await respond('2026-11-30T23:30:00Z', 'en', { nps: 8, 'secure.satisfied': 5, 'loyal.recommend': 1, why: '-- Delivery was late' }, { invitation_id: i2.id });
});
after(() => app.close());

const q = (body: any, key: string) => body.questions.find((x: any) => x.key === key);

describe('GET /v1/surveys/{id}/results', () => {
  test('every question by its type, with the response rate', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results`);
    assert.equal(res.status, 200, res.text);
    const b = res.body;
    assert.equal(b.responses, 3);
    assert.deepEqual(b.response_rate, { sent: 3, responded: 2, rate: 66.7 });
    assert.deepEqual(b.questions.map((x: any) => x.key), ['nps', 'csat', 'ces', 'secure', 'loyal', 'channel', 'liked', 'why']);
    // One promoter (10), one passive (8), one detractor (3): NPS 0; P = D = 1/3, s² = 2/3, MoE = 1.96·√(2/9)·100.
    assert.deepEqual(q(b, 'nps').nps, { promoters: 1, passives: 1, detractors: 1, n: 3, nps: 0, promoters_pct: 33.3, passives_pct: 33.3, detractors_pct: 33.3, margin_of_error: 92.4 });
    assert.deepEqual(q(b, 'nps').distribution, [{ value: 3, count: 1 }, { value: 8, count: 1 }, { value: 10, count: 1 }]);
    assert.deepEqual(q(b, 'csat').csat, { n: 2, satisfied: 1, csat: 50, mean: 3.5 });
    assert.deepEqual(q(b, 'ces').ces, { n: 2, low_effort: 1, low_effort_pct: 50, mean: 4 });
    // CSI: one secure, one not (rebuy 4), one partial block left out and counted.
    assert.deepEqual(q(b, 'secure').csi, { n: 2, secure: 1, csi: 50, excluded_partial: 1 });
    assert.equal(q(b, 'secure').answers, 3);
    assert.deepEqual(q(b, 'secure').items.map((i: any) => [i.key, i.answers, i.mean]), [['secure.satisfied', 3, 5], ['secure.rebuy', 2, 4.5], ['secure.recommend', 2, 5]]);
    // CLI: 80 and 0 over complete blocks; the partial one (1 → 100) is left out.
    assert.deepEqual(q(b, 'loyal').cli, { n: 2, cli: 40, excluded_partial: 1 });
    assert.deepEqual(q(b, 'channel').options, [{ option: 'web', count: 1 }, { option: 'store', count: 1 }]);
    assert.deepEqual(q(b, 'liked').options, [{ option: 'a', count: 1 }, { option: 'b', count: 2 }, { option: 'c', count: 0 }]);
    assert.equal(q(b, 'liked').answers, 2);
    assert.equal(q(b, 'why').answers, 3);
  });

  test('the period filter and one question', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results?from=2026-11-03T00:00:00Z&question=nps`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.responses, 2);
    assert.deepEqual(res.body.questions.map((x: any) => x.key), ['nps']);
    assert.equal(res.body.questions[0].nps.nps, -50);
    // Invitations were sent on 1 November, before the period.
    assert.deepEqual(res.body.response_rate, { sent: 0, responded: 0, rate: null });
  });

  test('a period with no answers: null scores, never 0', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.responses, 0);
    assert.equal(q(res.body, 'nps').nps.nps, null);
    assert.equal(q(res.body, 'secure').csi.csi, null);
    assert.equal(q(res.body, 'loyal').cli.cli, null);
  });

  test('an unknown question and a reversed period are 400s naming the field; another tenant\'s survey is a 404', async () => {
    const bad = await t.api('GET', `/v1/surveys/${surveyId}/results?question=nope`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].field, 'question');
    const reversed = await t.api('GET', `/v1/surveys/${surveyId}/results?from=2026-12-01T00:00:00Z&to=2026-11-01T00:00:00Z`);
    assert.equal(reversed.status, 400);
    assert.equal(reversed.body.errors[0].field, 'to');
    assert.equal((await t.api('GET', `/v1/surveys/${otherSurveyId}/results`)).status, 404);
    assert.equal((await other.api('GET', `/v1/surveys/${surveyId}/results/text`)).status, 404);
  });
});

describe('trends and breakdowns', () => {
  test('by month in the tenant\'s time zone', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results/trend?interval=month&question=nps`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.time_zone, 'Europe/Sofia');
    assert.deepEqual(res.body.buckets.map((b: any) => [b.period_start, b.responses, b.questions[0].nps.n, b.questions[0].nps.nps]), [
      ['2026-11-01', 2, 2, 0],
      ['2026-12-01', 1, 1, 0], // 23:30 UTC on 30 November is December in Sofia
    ]);
    assert.deepEqual(res.body.buckets[0].response_rate, { sent: 3, responded: 2, rate: 66.7 });
  });

  test('by week: buckets start on Monday', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results/trend?interval=week&question=csat`);
    assert.equal(res.status, 200, res.text);
    // 1 November 2026 is a Sunday: the invitations fall in the week of 26 October.
    assert.deepEqual(res.body.buckets.map((b: any) => [b.period_start, b.responses]), [['2026-10-26', 0], ['2026-11-02', 2], ['2026-11-30', 1]]);
    assert.deepEqual(res.body.buckets[1].questions[0].csat, { n: 2, satisfied: 1, csat: 50, mean: 3.5 });
  });

  test('by language and by tier', async () => {
    const lang = await t.api('GET', `/v1/surveys/${surveyId}/results/breakdown?by=language&question=nps`);
    assert.equal(lang.status, 200, lang.text);
    assert.deepEqual(lang.body.groups.map((g: any) => [g.value, g.responses, g.questions[0].nps.nps]), [['bg', 1, -100], ['en', 2, 50]]);
    const tier = await t.api('GET', `/v1/surveys/${surveyId}/results/breakdown?by=tier`);
    assert.equal(tier.status, 200, tier.text);
    assert.deepEqual(tier.body.groups.map((g: any) => [g.value, g.responses]), [[null, 3]]);
    // The default is language (touchpoint is one group per survey).
    const byDefault = await t.api('GET', `/v1/surveys/${surveyId}/results/breakdown?question=nps`);
    assert.deepEqual([byDefault.body.by, byDefault.body.groups.map((g: any) => g.value)], ['language', ['bg', 'en']]);
    const bad = await t.api('GET', `/v1/surveys/${surveyId}/results/breakdown?by=segment`);
    assert.equal(bad.status, 400);
  });
});

describe('free text', () => {
  test('per detected language: sentiment shares and keywords', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/results/text`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.analysed, 3);
    assert.equal(res.body.truncated, false);
    const en = res.body.languages.find((l: any) => l.language === 'en');
    const bg = res.body.languages.find((l: any) => l.language === 'bg');
    assert.equal(en.answers, 2);
    assert.deepEqual([en.sentiment.positive.count, en.sentiment.negative.count], [1, 1]);
    assert.equal(en.sentiment.positive.share, 50);
    assert.equal(bg.sentiment.negative.count, 1);
    assert.ok(bg.keywords.some((k: any) => k.term === 'доставката'), JSON.stringify(bg.keywords));
  });
});

describe('GET /v1/surveys/{id}/responses.csv', () => {
  test('one row per response, one column per question and block item, streamed; formulas defused', async () => {
    const res = await t.api('GET', `/v1/surveys/${surveyId}/responses.csv`);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
    const lines = res.text.trim().split('\n');
    assert.equal(lines[0], 'response_id,submitted_at,language,channel,touchpoint,tier_code,member_id,nps,csat,ces,secure.satisfied,secure.rebuy,secure.recommend,loyal.recommend,loyal.buy,loyal.try,channel,liked,why');
    assert.equal(lines.length, 4);
    const first = lines[1]!.split(',');
    assert.deepEqual(first.slice(1, 4), ['2026-11-02T10:00:00Z', 'en', 'invitation']);
    assert.deepEqual(first.slice(7, 18), ['10', '5', '6', '5', '5', '5', '1', '2', '3', 'web', 'a;b']);
    assert.match(lines[3]!, /,'-- Delivery was late$/);
    assert.equal((await t.api('GET', `/v1/surveys/${surveyId}/responses.csv?from=2026-11-03T00:00:00Z`)).text.trim().split('\n').length, 3);
  });

  test('admin only', async () => {
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('GET', `/v1/surveys/${surveyId}/responses.csv`, { key: read })).status, 403);
    assert.equal((await t.api('GET', `/v1/surveys/${surveyId}/results`, { key: read })).status, 200);
  });
});
