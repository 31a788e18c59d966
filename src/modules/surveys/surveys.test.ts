/**
 * The surveys core through the real HTTP API and the service the response page and the cases module use: definitions
 * and versions, validation, invitations and their signed links, the edit window, the throttle, the three triggers
 * (run through the surveys.invite job with the clock set), rewards once per invitation, outbox events and GDPR.
 * The clock is set after 2030 (test/helpers.ts) so that jobs of other test processes never find these invitations due.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { AppError } from '../../platform/errors.js';
import { SETTINGS_DEFAULTS, type RespondInput } from './surveys.service.js';
import type { SurveyResponded } from './surveys.types.js';

let app: TestApp;
const heard: SurveyResponded[] = [];
before(async () => {
  app = await startTestApp();
  app.patron.services.surveys.onResponded(async (_tx, e) => { heard.push(e); });
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));
const addDays = (days: number) => app.clock.set(new Date(app.clock.now().getTime() + days * 86_400_000));
const svc = () => app.patron.services.surveys;

const NPS_WHY = {
  questions: [
    { key: 'nps', type: 'nps' },
    { key: 'why', type: 'text', text: { en: 'What should we improve?', bg: 'Какво да подобрим?' }, show_if: { question: 'nps', band_in: ['detractor'] } },
  ],
};

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function survey(t: TestTenant, body: Record<string, unknown> = {}, publish = true) {
  const res = await t.api('POST', '/v1/surveys', { body: { name: 'NPS', touchpoint: 'purchase', definition: NPS_WHY, ...body } });
  assert.equal(res.status, 201, res.text);
  if (!publish) return res.body;
  const p = await t.api('POST', `/v1/surveys/${res.body.id}/publish`);
  assert.equal(p.status, 200, p.text);
  return p.body;
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/s/') + 3);
const open = (token: string) => app.patron.db.tx((tx) => svc().openInvitation(tx, token));
const respond = (t: TestTenant, input: RespondInput) => app.patron.db.tx((tx) => svc().respond(tx, t.id, input));
const runInvite = (t: TestTenant) => app.patron.jobs.runNow('surveys.invite', { tenant_id: t.id }) as Promise<any>;

async function rejects(p: Promise<unknown>, status: number, field?: string) {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.status, status, err.message);
    if (field) assert.ok(err.errors.some((e) => e.field === field), JSON.stringify(err.errors));
    return err;
  }
  assert.fail(`expected a ${status}`);
}

describe('surveys', () => {
  test('definitions: a draft is edited in place, a live survey gets versions, past answers stay on theirs', async () => {
    at('2031-04-01T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t, {}, false);
    assert.equal(s.status, 'draft');
    assert.equal(s.version, 1);
    const edited = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'nps', type: 'nps', scale: '1-10' }] } } });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.version, 1);
    assert.equal((await t.api('GET', `/v1/surveys/${s.id}/versions`)).body.data.length, 1);
    // A draft takes no answers.
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 9 } } })).status, 422);
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/publish`)).status, 200);
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/publish`)).status, 409);

    const r1 = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 6 } } });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.body.version, 1);
    assert.deepEqual(r1.body.answers.map((a: any) => [a.question_key, a.value_number, a.band, a.scale_min, a.scale_max]), [['nps', 6, 'detractor', 1, 10]]);

    // Another scale is another key (a key keeps its type and scale across versions, so results never mix them).
    const v2 = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'nps5', type: 'nps', scale: '1-5' }] } } });
    assert.equal(v2.status, 200, v2.text);
    assert.equal(v2.body.version, 2);
    const r2 = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'bg', answers: { nps5: 4 } } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.body.version, 2);
    assert.equal(r2.body.answers[0].band, 'passive');

    // The first answer keeps its version, scale and band.
    const old = await t.api('GET', `/v1/survey-responses/${r1.body.id}`);
    assert.equal(old.body.version, 1);
    assert.deepEqual([old.body.answers[0].value_number, old.body.answers[0].band, old.body.answers[0].scale_max], [6, 'detractor', 10]);
    assert.equal((await t.api('GET', `/v1/surveys/${s.id}/versions/1`)).body.definition.questions[0].scale, '1-10');
    assert.equal((await t.api('GET', `/v1/surveys/${s.id}/versions/3`)).status, 404);
    const list = await t.api('GET', `/v1/surveys/${s.id}/responses?limit=1`);
    assert.equal(list.body.data[0].id, r2.body.id);
    const next = await t.api('GET', `/v1/surveys/${s.id}/responses?limit=1&cursor=${list.body.next_cursor}`);
    assert.equal(next.body.data[0].id, r1.body.id);

    const closed = await t.api('POST', `/v1/surveys/${s.id}/close`);
    assert.equal(closed.status, 200);
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 5 } } })).status, 410);
    assert.equal((await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { name: 'x' } })).status, 422);

    const updated = await eventsOf(t, 'survey.updated');
    assert.deepEqual(updated.map((e) => e.payload.version).sort(), [1, 2]);
    for (const type of ['survey.created', 'survey.published', 'survey.closed']) assert.equal((await eventsOf(t, type)).length, 1, type);
    assert.equal((await eventsOf(t, 'survey.responded')).length, 2);
  });

  test('validation: every problem of a definition and of the answers at once', async () => {
    at('2031-04-01T10:00:00Z');
    const t = await app.newTenant();
    const bad = await t.api('POST', '/v1/surveys', {
      body: {
        name: 'Bad', touchpoint: 'delivery', default_language: 'ro',
        definition: { questions: [{ key: 'q', type: 'rating', text: { en: 'Rate' } }, { key: 'q', type: 'nps' }, { key: 'w', type: 'text', text: { ro: 'De ce?' }, show_if: { question: 'zzz', band_in: ['detractor'] } }] },
      },
    });
    assert.equal(bad.status, 400, bad.text);
    const fields = bad.body.errors.map((e: any) => e.field);
    for (const f of ['definition.questions[0].text.ro', 'definition.questions[1].key', 'definition.questions[2].show_if.question']) assert.ok(fields.includes(f), `${f}: ${bad.text}`);

    const s = await survey(t, { definition: { questions: [...NPS_WHY.questions, { key: 'csi', type: 'csi' }, { key: 'extra', type: 'csi', required: false }] } });
    const res = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 11, why: 'x', 'csi.satisfied': 5, 'extra.rebuy': 3, nope: 1 } } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(res.body.errors.map((e: any) => e.field).sort(), ['answers.csi.rebuy', 'answers.csi.recommend', 'answers.nope', 'answers.nps', 'answers.why']);
    // A block not required may be answered in part; "why" is asked of a detractor.
    const ok = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 2, why: 'slow', 'csi.satisfied': 5, 'csi.rebuy': 4, 'csi.recommend': 1, 'extra.rebuy': 3 } } });
    assert.equal(ok.status, 201, ok.text);
  });

  test('invitations: a signed link, forged and expired links, one response, the edit window', async () => {
    at('2031-05-01T10:00:00Z');
    const t = await app.newTenant();
    assert.equal((await t.api('PUT', '/v1/survey-settings', { body: { edit_window_minutes: 30, min_days_between_invitations: 0 } })).status, 200);
    const settings = await t.api('GET', '/v1/survey-settings');
    assert.deepEqual(Object.keys(settings.body).sort(), ['edit_window_minutes', 'min_days_between_invitations', 'updated_at']);
    const s = await survey(t, { invitation_ttl_days: 7 });
    const m = await member(t, { external_id: 'c-1', locale: 'bg' });
    const inv = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_external_id: 'c-1' } });
    assert.equal(inv.status, 201, inv.text);
    assert.equal(inv.body.status, 'pending');
    assert.equal(inv.body.expires_at, '2031-05-08T10:00:00.000Z');
    assert.match(inv.body.url, /\/s\/[A-Za-z0-9_-]{48}\.[A-Za-z0-9_-]{43}$/);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${inv.body.id}`)).body.url, inv.body.url);
    assert.equal((await t.api('GET', `/v1/survey-invitations?member_id=${m}&status=pending`)).body.data.length, 1);

    const token = tokenOf(inv.body.url);
    const opened = await open(token);
    assert.equal(opened.invitation!.id, inv.body.id);
    assert.equal(opened.member_language, 'bg');
    assert.equal(opened.previous, null);
    // Forged: another signature, another invitation id under the same signature, garbage.
    const sig = token.split('.')[1]!;
    await rejects(open(`${token.split('.')[0]}.${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`), 404);
    const payload = Buffer.from(token.split('.')[0]!, 'base64url');
    payload[20] = payload[20]! ^ 1;
    await rejects(open(`${payload.toString('base64url')}.${sig}`), 404);
    await rejects(open('not-a-token'), 404);
    // Another tenant's secret does not sign this tenant's invitations.
    const other = await app.newTenant();
    await other.api('PUT', '/v1/survey-settings', { body: {} });

    const first = await respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'bg', answers: { nps: 3, why: 'бавно' } });
    assert.equal(first.member_id, m);
    assert.equal(first.channel, 'invitation');
    const again = await open(token);
    assert.deepEqual(again.previous!.answers, { nps: 3, why: 'бавно' });
    at('2031-05-01T10:20:00Z');
    const edit = await respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'bg', answers: { nps: 10 } });
    assert.equal(edit.id, first.id);
    assert.deepEqual(edit.answers.map((a) => [a.question_key, a.band]), [['nps', 'promoter']]);
    assert.equal((await t.api('GET', `/v1/survey-responses/${first.id}`)).body.answers.length, 1);
    assert.equal(heard.filter((e) => e.response.id === first.id).map((e) => e.edited).join(), 'false,true');
    assert.equal((await eventsOf(t, 'survey.response_updated')).length, 1);
    at('2031-05-01T10:31:00Z');
    await rejects(open(token), 409);
    await rejects(respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'bg', answers: { nps: 1, why: 'x' } }), 409, 'invitation_id');
    assert.equal((await t.api('GET', `/v1/survey-invitations/${inv.body.id}`)).body.status, 'responded');

    // Expired: the link is gone (410), and the job marks the invitation expired.
    const m2 = await member(t);
    const inv2 = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: m2 } });
    addDays(8);
    await rejects(open(tokenOf(inv2.body.url)), 410);
    await rejects(respond(t, { survey_id: s.id, invitation_id: inv2.body.id, channel: 'invitation', language: 'en', answers: { nps: 9 } }), 410);
    const run = await runInvite(t);
    assert.equal(run.expired, 1);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${inv2.body.id}`)).body.status, 'expired');

    // A closed survey's link is gone too.
    const m3 = await member(t);
    const inv3 = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: m3 } });
    await t.api('POST', `/v1/surveys/${s.id}/close`);
    await rejects(open(tokenOf(inv3.body.url)), 410);
  });

  test('the public link and the embed snippet', async () => {
    at('2031-05-01T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t);
    const links = await t.api('GET', `/v1/surveys/${s.id}/links`);
    assert.equal(links.status, 200);
    assert.equal(links.body.public_url, `${app.url}/s/p/${t.id}/${s.id}`);
    assert.match(links.body.embed_snippet, /^<iframe src="[^"]+\?embed=1" title="NPS" loading="lazy"/);
    await rejects(app.patron.db.tx((tx) => svc().openPublic(tx, t.id, s.id)), 404);
    await rejects(app.patron.db.tx((tx) => svc().openPublic(tx, 'not-a-tenant', 'not-a-survey')), 404);
    await rejects(respond(t, { survey_id: s.id, channel: 'public_link', language: 'en', answers: { nps: 9 } }), 404);
    assert.equal((await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { public_link: true } })).status, 200);
    const opened = await app.patron.db.tx((tx) => svc().openPublic(tx, t.id, s.id));
    assert.equal(opened.invitation, null);
    const r = await respond(t, { survey_id: s.id, channel: 'embed', language: 'ro', answers: { nps: 9 } });
    assert.equal(r.member_id, null);
    assert.equal(r.channel, 'embed');
  });

  test('throttle: no member is invited more often than min_days_between_invitations, across surveys', async () => {
    at('2031-06-01T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 30 } });
    const a = await survey(t);
    const b = await survey(t, { name: 'CSAT', touchpoint: 'delivery', definition: { questions: [{ key: 'csat', type: 'csat' }] } });
    const m = await member(t);
    assert.equal((await t.api('POST', `/v1/surveys/${a.id}/invitations`, { body: { member_id: m } })).status, 201);
    addDays(10);
    const throttled = await t.api('POST', `/v1/surveys/${b.id}/invitations`, { body: { member_id: m } });
    assert.equal(throttled.status, 409, throttled.text);
    assert.equal(throttled.body.errors[0].field, 'member_id');
    assert.match(throttled.body.errors[0].detail, new RegExp(`${m}.*2031-07-01T10:00:00.000Z`));
    addDays(20);
    assert.equal((await t.api('POST', `/v1/surveys/${b.id}/invitations`, { body: { member_id: m } })).status, 201);
  });

  test('triggers: after a purchase (N days later, throttled, inactive members skipped), relationship surveys, closed cases', async () => {
    at('2031-07-01T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 30 } });
    const s = await survey(t, { trigger: { type: 'after_purchase', days: 3 } });
    const m1 = await member(t);
    const m2 = await member(t);
    for (const [i, m] of [m1, m1, m2].entries()) {
      const o = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${i}`, member_id: m, currency: 'EUR', total: 1000 } });
      assert.equal(o.status, 201, o.text);
    }
    // An order from before the survey was published (imported history, a back-dated order) invites nobody.
    const old = await t.api('POST', '/v1/transactions', { body: { external_id: 'o-old', member_id: m2, currency: 'EUR', total: 1000, occurred_at: '2031-06-01T10:00:00Z' } });
    assert.equal(old.status, 201, old.text);
    const scheduled = (await t.api('GET', `/v1/survey-invitations?survey_id=${s.id}`)).body.data;
    assert.equal(scheduled.length, 3);
    assert.ok(scheduled.every((i: any) => i.status === 'scheduled' && i.send_at === '2031-07-04T10:00:00.000Z' && i.source.type === 'transaction' && i.url === null));
    const planned = await eventsOf(t, 'survey.invitation_scheduled');
    assert.deepEqual(planned.map((e) => e.payload.invitation_id).sort(), scheduled.map((i: any) => i.id).sort());
    assert.ok(planned.every((e) => e.payload.send_at === '2031-07-04T10:00:00.000Z' && e.payload.trigger === 'after_purchase' && e.payload.sent_at === null && e.member_id === e.payload.member_id));
    addDays(1);
    assert.equal((await runInvite(t)).sent, 0);
    assert.equal((await t.api('POST', `/v1/members/${m2}/block`, { body: { reason: 'fraud' } })).status, 200);
    addDays(2);
    const run = await runInvite(t);
    assert.deepEqual([run.sent, run.skipped], [1, 2]);
    const after = (await t.api('GET', `/v1/survey-invitations?survey_id=${s.id}`)).body.data;
    assert.deepEqual(after.map((i: any) => i.status === 'skipped' ? i.skip_reason : i.status).sort(), ['member_inactive', 'pending', 'throttled']);
    assert.equal((await eventsOf(t, 'survey.invitation_skipped')).length, 2);
    const sent = after.find((i: any) => i.status === 'pending');
    assert.equal(sent.expires_at, '2031-07-18T10:00:00.000Z');
    assert.ok(sent.url);

    // A closed survey's scheduled invitations are skipped.
    await t.api('POST', '/v1/transactions', { body: { external_id: 'o-late', member_id: m1, currency: 'EUR', total: 1000 } });
    await t.api('POST', `/v1/surveys/${s.id}/close`);
    addDays(3);
    await runInvite(t);
    const late = (await t.api('GET', `/v1/survey-invitations?survey_id=${s.id}&status=skipped`)).body.data;
    assert.ok(late.some((i: any) => i.skip_reason === 'survey_not_live'));

    // Relationship: every active, unthrottled member once per every_days.
    const rel = await survey(t, { name: 'Relationship', touchpoint: 'custom', touchpoint_label: 'brand', trigger: { type: 'relationship', every_days: 90 } });
    const m3 = await member(t);
    addDays(40);
    const r1 = await runInvite(t);
    assert.equal(r1.invited, 2); // m1 (last invited 43 days ago) and m3; m2 is blocked
    assert.equal((await runInvite(t)).invited, 0);
    const relInv = (await t.api('GET', `/v1/survey-invitations?survey_id=${rel.id}`)).body.data;
    assert.deepEqual(relInv.map((i: any) => i.member_id).sort(), [m1, m3].sort());

    // A closed case: the follow-up survey (not throttled) and the tenant's after_case_closed surveys.
    const caseSurvey = await survey(t, { name: 'Support CES', touchpoint: 'support_case', trigger: { type: 'after_case_closed', days: 2 }, definition: { questions: [{ key: 'ces', type: 'ces' }] } });
    const follow = await app.patron.db.tx((tx) => svc().afterCaseClosed(tx, t.id, { member_id: m3, case_id: 'case-1', follow_up: true }));
    assert.ok(follow);
    const opened = await open(tokenOf(follow.url));
    assert.equal(opened.survey.touchpoint, 'support_case');
    assert.deepEqual(opened.definition.questions.map((q) => [q.key, q.type]), [['solved', 'single_choice']]);
    for (const lang of ['en', 'bg', 'ru', 'ro', 'pl'] as const) assert.ok(opened.definition.questions[0]!.text![lang], lang);
    const again = await app.patron.db.tx((tx) => svc().afterCaseClosed(tx, t.id, { member_id: m3, case_id: 'case-2', follow_up: true }));
    assert.equal(again!.url === follow.url, false);
    assert.equal((await t.api('GET', '/v1/surveys?touchpoint=support_case')).body.data.filter((x: any) => x.system).length, 1);
    heard.length = 0;
    await respond(t, { survey_id: opened.survey.id, invitation_id: follow.invitation_id, channel: 'invitation', language: 'en', answers: { solved: 'no' } });
    assert.deepEqual(heard[0]!.response.source, { type: 'case', id: 'case-1' });
    assert.deepEqual(heard[0]!.answers[0]!.value_choices, ['no']);
    await rejects(respond(t, { survey_id: opened.survey.id, invitation_id: follow.invitation_id, channel: 'invitation', language: 'en', answers: { solved: 'maybe' } }), 400, 'answers.solved');
    const scheduledCase = (await t.api('GET', `/v1/survey-invitations?survey_id=${caseSurvey.id}`)).body.data;
    assert.equal(scheduledCase.length, 2);
    assert.ok(scheduledCase.every((i: any) => i.status === 'scheduled' && i.trigger === 'after_case_closed'));
    const plannedCase = (await eventsOf(t, 'survey.invitation_scheduled')).filter((e) => e.payload.survey_id === caseSurvey.id);
    assert.deepEqual(plannedCase.map((e) => e.payload.invitation_id).sort(), scheduledCase.map((i: any) => i.id).sort());
    assert.equal(await app.patron.db.tx((tx) => svc().afterCaseClosed(tx, t.id, { member_id: m1, case_id: 'case-3', follow_up: false })), null);
  });

  test('rewards: an event rule gives points once per invitation; an API response by a member earns once', async () => {
    at('2031-08-01T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 0 } });
    const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'event', name: 'Survey bonus', event: 'survey_answered', points: 50 } });
    assert.equal(rule.status, 201, rule.text);
    const s = await survey(t, { reward_event: 'survey_answered' });
    const m = await member(t);
    const balance = async () => (await t.api('GET', `/v1/members/${m}/balance`)).body.available as number;
    const inv = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: m } });
    await respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'en', answers: { nps: 9 } });
    assert.equal(await balance(), 50);
    await respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'en', answers: { nps: 10 } });
    assert.equal(await balance(), 50);
    const ev = (await t.api('GET', `/v1/events?member_id=${m}`)).body.data;
    assert.equal(ev[0].external_id, `survey-invitation:${inv.body.id}`);
    assert.deepEqual(ev[0].properties, { survey_id: s.id, touchpoint: 'purchase' });
    const api = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { member_id: m, language: 'en', answers: { nps: 8 } } });
    assert.equal(api.status, 201, api.text);
    assert.equal(await balance(), 100);
    // Anonymous answers earn nothing.
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 8 } } })).status, 201);
    assert.equal(await balance(), 100);
  });

  test('GDPR: the export holds invitations and responses; erasure removes free text and metadata, keeps scores', async () => {
    at('2031-09-01T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t);
    const m = await member(t, { email: 'x@example.com' });
    const r = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { member_id: m, language: 'en', answers: { nps: 2, why: 'My name is X' }, metadata: { device: 'pos-1' } } });
    assert.equal(r.status, 201, r.text);
    const exp = await t.api('GET', `/v1/members/${m}/export`);
    assert.equal(exp.status, 200, exp.text);
    assert.equal(exp.body.sections.surveys.responses[0].answers.find((a: any) => a.question_key === 'why').value_text, 'My name is X');
    assert.equal((await t.api('POST', `/v1/members/${m}/erase`)).status, 200);
    const after = await t.api('GET', `/v1/survey-responses/${r.body.id}`);
    assert.deepEqual(after.body.metadata, {});
    assert.deepEqual(after.body.answers.map((a: any) => [a.question_key, a.value_number, a.value_text, a.band]), [['nps', 2, null, 'detractor'], ['why', null, null, null]]);
  });
});

describe('review 6', () => {
  test('B2: erasure ends the member\'s scheduled and pending invitations with their events; an erased or blocked member answers nothing', async () => {
    at('2031-10-01T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 0 } });
    const s = await survey(t);
    const later = await survey(t, { name: 'After purchase', trigger: { type: 'after_purchase', days: 3 } });
    const m = await member(t, { external_id: 'eve-1' });
    const inv = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: m } });
    assert.equal(inv.status, 201, inv.text);
    const scheduled = await app.patron.db.tx((tx) => tx.query<{ id: string }>(
      `INSERT INTO survey_invitations (tenant_id, id, survey_id, member_id, trigger, status, send_at, created_at)
       VALUES ($1, gen_random_uuid(), $2, $3, 'after_purchase', 'scheduled', $4, $4) RETURNING id`, [t.id, later.id, m, app.clock.now()]));
    const token = tokenOf(inv.body.url);
    assert.equal((await t.api('POST', `/v1/members/${m}/erase`)).status, 200);

    const pending = (await t.api('GET', `/v1/survey-invitations/${inv.body.id}`)).body;
    const sched = (await t.api('GET', `/v1/survey-invitations/${scheduled.rows[0]!.id}`)).body;
    assert.deepEqual([pending.status, sched.status, sched.skip_reason], ['expired', 'skipped', 'member_erased']);
    assert.ok((await eventsOf(t, 'survey.invitation_expired')).some((e) => e.payload.invitation_id === inv.body.id));
    assert.ok((await eventsOf(t, 'survey.invitation_skipped')).some((e) => e.payload.invitation_id === sched.id && e.payload.skip_reason === 'member_erased'));

    await rejects(open(token), 410);
    await rejects(respond(t, { survey_id: s.id, invitation_id: inv.body.id, channel: 'invitation', language: 'en', answers: { nps: 1, why: 'my name is Eve' } }), 410);
    const byId = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { member_id: m, language: 'en', answers: { nps: 1, why: 'my name is Eve' } } });
    assert.equal(byId.status, 422, byId.text);
    assert.equal(byId.body.errors[0].field, 'member_id');
    assert.equal((await t.api('GET', `/v1/surveys/${s.id}/responses`)).body.data.length, 0);

    const bo = await member(t, { external_id: 'bo-1' });
    assert.ok((await t.api('POST', `/v1/members/${bo}/block`, { body: { reason: 'fraud' } })).status < 300);
    const byExt = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { member_external_id: 'bo-1', language: 'en', answers: { nps: 9 } } });
    assert.equal(byExt.status, 422, byExt.text);
    assert.equal(byExt.body.errors[0].field, 'member_external_id');
  });

  test('B3: a new version keeps each key\'s type and scale; the problem names the field and says to use a new key', async () => {
    at('2031-10-02T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t, { definition: { questions: [{ key: 'q', type: 'nps' }, { key: 'c', type: 'csat' }] } });
    const toCsat = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'q', type: 'csat', scale_max: 7 }, { key: 'c', type: 'csat' }] } } });
    assert.equal(toCsat.status, 400, toCsat.text);
    assert.equal(toCsat.body.errors[0].field, 'definition.questions[0].type');
    assert.match(toCsat.body.errors[0].detail, /use a new key/);
    const rescaled = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'q', type: 'nps', scale: '1-10' }, { key: 'c', type: 'csat', scale_max: 7 }] } } });
    assert.equal(rescaled.status, 400, rescaled.text);
    assert.deepEqual(rescaled.body.errors.map((e: any) => e.field), ['definition.questions[0].scale', 'definition.questions[1].scale_max']);
    // A new key, or the same key unchanged (the defaults spelled out), is fine.
    const ok = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'q', type: 'nps', scale: '0-10' }, { key: 'c7', type: 'csat', scale_max: 7 }] } } });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.version, 2);
    // Version 1's c still holds its key: it cannot come back as another type.
    const back = await t.api('PATCH', `/v1/surveys/${s.id}`, { body: { definition: { questions: [{ key: 'q', type: 'nps' }, { key: 'c', type: 'rating', text: { en: 'Rate us' } }] } } });
    assert.equal(back.status, 400, back.text);
    assert.equal(back.body.errors[0].field, 'definition.questions[1].type');
  });

  test('B5: a question keyed constructor may be left unanswered', async () => {
    at('2031-10-03T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t, { definition: { questions: [{ key: 'nps', type: 'nps' }, { key: 'constructor', type: 'text', text: { en: 'More?' } }] } });
    const r = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 9 } } });
    assert.equal(r.status, 201, r.text);
  });

  test('B6: a NUL character is a 400 naming the field, in answers, metadata and definitions', async () => {
    at('2031-10-04T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t);
    const ans = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 3, why: 'a\u0000b' } } });
    assert.equal(ans.status, 400, ans.text);
    assert.deepEqual(ans.body.errors.map((e: any) => e.field), ['answers.why']);
    const meta = await t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', answers: { nps: 9 }, metadata: { store: 'x\u0000' } } });
    assert.equal(meta.status, 400, meta.text);
    assert.deepEqual(meta.body.errors.map((e: any) => e.field), ['metadata']);
    const def = await t.api('POST', '/v1/surveys', { body: { name: 'N', touchpoint: 'purchase', definition: { title: { en: 'Hi\u0000' }, questions: [{ key: 'nps', type: 'nps' }] } } });
    assert.equal(def.status, 400, def.text);
    assert.deepEqual(def.body.errors.map((e: any) => e.field), ['definition.title.en']);
  });

  test('C2: a read key sees no signed links', async () => {
    at('2031-10-05T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t);
    const inv = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: await member(t) } });
    assert.match(inv.body.url, /\/s\//);
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${inv.body.id}`, { key: read })).body.url, null);
    assert.deepEqual((await t.api('GET', `/v1/survey-invitations?survey_id=${s.id}`, { key: read })).body.data.map((i: any) => i.url), [null]);
    const write = await t.keyWith(['write']);
    assert.match((await t.api('GET', `/v1/survey-invitations/${inv.body.id}`, { key: write })).body.url, /\/s\//);
  });

  test('C3: POST /v1/surveys/{id}/responses answers an invitation: 404, 410, 409, and edits within the window', async () => {
    at('2031-10-06T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 0, edit_window_minutes: 30 } });
    const s = await survey(t, { invitation_ttl_days: 2 });
    const m = await member(t);
    const inv = (await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: m } })).body;
    const post = (body: Record<string, unknown>) => t.api('POST', `/v1/surveys/${s.id}/responses`, { body: { language: 'en', ...body } });
    assert.equal((await post({ invitation_id: '0190f1c8-6f1e-7a59-9d3e-3f5d2b1c0a11', answers: { nps: 9 } })).status, 404);
    const both = await post({ invitation_id: inv.id, member_id: m, answers: { nps: 9 } });
    assert.equal(both.status, 400, both.text);
    assert.equal(both.body.errors[0].field, 'member_id');
    const first = await post({ invitation_id: inv.id, answers: { nps: 9 } });
    assert.equal(first.status, 201, first.text);
    assert.deepEqual([first.body.member_id, first.body.invitation_id, first.body.channel], [m, inv.id, 'invitation']);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${inv.id}`)).body.status, 'responded');
    addDays(0.01); // 14 minutes: within the window, the answers are replaced
    const edit = await post({ invitation_id: inv.id, answers: { nps: 10 } });
    assert.equal(edit.status, 201, edit.text);
    assert.equal(edit.body.id, first.body.id);
    assert.equal((await t.api('GET', `/v1/surveys/${s.id}/responses`)).body.data.length, 1);
    addDays(0.05);
    const late = await post({ invitation_id: inv.id, answers: { nps: 8 } });
    assert.equal(late.status, 409, late.text);
    const other = (await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_id: await member(t) } })).body;
    addDays(3);
    assert.equal((await post({ invitation_id: other.id, answers: { nps: 8 } })).status, 410);
  });

  test('C4: the throttle 409 names member_external_id when that is what was sent', async () => {
    at('2031-10-07T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t);
    await member(t, { external_id: 'cust-1042' });
    assert.equal((await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_external_id: 'cust-1042' } })).status, 201);
    const again = await t.api('POST', `/v1/surveys/${s.id}/invitations`, { body: { member_external_id: 'cust-1042' } });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.errors[0].field, 'member_external_id');
  });

  test('C6: the embed snippet\'s title is the survey\'s title in its default language', async () => {
    at('2031-10-08T10:00:00Z');
    const t = await app.newTenant();
    const s = await survey(t, { name: 'Detractor win-back Q3', default_language: 'bg', definition: { title: { bg: 'Вашето мнение', en: 'Your opinion' }, questions: [{ key: 'nps', type: 'nps' }] } });
    const links = (await t.api('GET', `/v1/surveys/${s.id}/links`)).body;
    assert.match(links.embed_snippet, /title="Вашето мнение"/);
    assert.doesNotMatch(links.embed_snippet, /win-back/);
  });
});

describe('review 6: the per-member lock (S4)', () => {
  test('the job waits for an API invitation of the same member in flight, then skips its due invitation as throttled', async () => {
    at('2031-11-01T10:00:00Z');
    const t = await app.newTenant();
    await t.api('PUT', '/v1/survey-settings', { body: { min_days_between_invitations: 30 } });
    const s = await survey(t);
    const later = await survey(t, { name: 'After purchase', trigger: { type: 'after_purchase', days: 3 } });
    const m = await member(t);
    const due = await app.patron.db.tx((tx) => tx.query<{ id: string }>(
      `INSERT INTO survey_invitations (tenant_id, id, survey_id, member_id, trigger, status, send_at, created_at)
       VALUES ($1, gen_random_uuid(), $2, $3, 'after_purchase', 'scheduled', $4, $4) RETURNING id`, [t.id, later.id, m, app.clock.now()]));
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let invited!: () => void;
    const inFlight = new Promise<void>((r) => { invited = r; });
    const api = app.patron.db.tx(async (tx) => {
      await svc().invite(tx, t.id, s.id, { member_id: m });
      invited();
      await gate; // the API invitation is not committed yet
    });
    await inFlight;
    let jobDone = false;
    const job = runInvite(t).then((r) => { jobDone = true; return r; });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(jobDone, false, 'the job waits for the member\'s lock');
    release();
    await api;
    await job;
    const inv = (await t.api('GET', `/v1/survey-invitations/${due.rows[0]!.id}`)).body;
    assert.deepEqual([inv.status, inv.skip_reason], ['skipped', 'throttled']);
  });
});

test('the settings a tenant gets before changing any are the column DEFAULTs of survey_settings', async () => {
  const { rows } = await app.patron.db.query<{ column_name: string; column_default: string }>(
    `SELECT column_name, column_default FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = 'survey_settings' AND column_name = ANY($1)`,
    [Object.keys(SETTINGS_DEFAULTS)],
  );
  assert.deepEqual(Object.fromEntries(rows.map((r) => [r.column_name, Number(r.column_default)])), SETTINGS_DEFAULTS);
});
