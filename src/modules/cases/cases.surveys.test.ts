/** The closed loop end to end with the surveys module: an unhappy response opens a case, an edit updates it, the follow-up "no" reopens it. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';

let app: TestApp;
const START = new Date('2031-03-03T08:00:00Z');

before(async () => {
  app = await startTestApp();
  app.clock.set(START);
});
after(() => app.close());

const respond = (t: TestTenant, input: Parameters<TestApp['patron']['services']['surveys']['respond']>[2]) =>
  app.patron.db.tx((tx) => app.patron.services.surveys.respond(tx, t.id, input));

describe('cases from survey responses', () => {
  test('a detractor with a comment opens one case; the edit updates it; closing sends the follow-up and its "no" reopens the case', async () => {
    const t = await app.newTenant();
    const m = await t.api('POST', '/v1/members', { body: { first_name: 'Ana', email: 'ana@example.com' } });
    assert.equal(m.status, 201, m.text);
    const ana = m.body.id;
    const s = await t.api('POST', '/v1/surveys', { body: { name: 'After purchase', touchpoint: 'purchase', definition: { questions: [{ key: 'nps', type: 'nps' }, { key: 'why', type: 'text', text: { en: 'Why?' } }] } } });
    assert.equal(s.status, 201, s.text);
    assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/publish`)).status, 200);
    const inv = await t.api('POST', `/v1/surveys/${s.body.id}/invitations`, { body: { member_id: ana } });
    assert.equal(inv.status, 201, inv.text);

    const first = await respond(t, { survey_id: s.body.id, invitation_id: inv.body.id, channel: 'invitation', language: 'en', answers: { nps: 3, why: 'Late delivery' } });
    let list = (await t.api('GET', '/v1/cases')).body.data;
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].member_id, list[0].reasons, list[0].source.response_id, list[0].source.value, list[0].message, list[0].touchpoint],
      [ana, ['nps_detractor', 'free_text'], first.id, 3, 'Late delivery', 'purchase']);
    // Edited within the window: the same case.
    await respond(t, { survey_id: s.body.id, invitation_id: inv.body.id, channel: 'invitation', language: 'en', answers: { nps: 5, why: 'Late and cold' } });
    list = (await t.api('GET', '/v1/cases')).body.data;
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].source.value, list[0].message], [5, 'Late and cold']);
    // A promoter without a comment opens nothing.
    await respond(t, { survey_id: s.body.id, member_id: ana, channel: 'api', language: 'en', answers: { nps: 10 } });
    assert.equal((await t.api('GET', '/v1/cases')).body.data.length, 1);

    const id = list[0].id;
    await t.api('POST', `/v1/cases/${id}/replies`, { body: { body: 'Dear Ana, sorry about that.' } });
    assert.equal((await t.api('POST', `/v1/cases/${id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { points: 100 } } })).status, 200);
    const closed = await t.api('POST', `/v1/cases/${id}/close`, { body: { follow_up: true } });
    assert.equal(closed.status, 200, closed.text);
    assert.ok(closed.body.follow_up, closed.text);
    // C2: the case keeps no signed link (a read key reads cases); the invitation gives it to write keys only.
    assert.deepEqual(Object.keys(closed.body.follow_up), ['invitation_id']);
    const got0 = (await t.api('GET', `/v1/cases/${id}`)).body;
    assert.ok(!JSON.stringify(got0).includes('/s/'), 'no survey link anywhere on the case or its timeline');
    const fu = await t.api('GET', `/v1/survey-invitations/${closed.body.follow_up.invitation_id}`);
    assert.equal(fu.status, 200, fu.text);
    assert.match(fu.body.url, /\/s\//);
    const read = await t.keyWith(['read']);
    assert.equal((await t.api('GET', `/v1/survey-invitations/${fu.body.id}`, { key: read })).body.url, null);

    await respond(t, { survey_id: fu.body.survey_id, invitation_id: fu.body.id, channel: 'invitation', language: 'en', answers: { solved: 'no' } });
    const got = (await t.api('GET', `/v1/cases/${id}`)).body;
    assert.deepEqual([got.status, got.reopened_count], ['open', 1]);
    assert.deepEqual(got.timeline.slice(-2).map((x: any) => x.kind), ['follow_up_answered', 'reopened']);
    assert.equal((await t.api('GET', '/v1/cases')).body.data.length, 1); // the follow-up answer is no case of its own
  });

  test('the tenant\'s own after_case_closed survey is answered like any other: a detractor opens a case, its "solved: no" reopens nothing (B1); the follow-up does not throttle it (B4)', async () => {
    const t = await app.newTenant();
    const m = await t.api('POST', '/v1/members', { body: { first_name: 'Bo', email: 'bo@example.com' } });
    assert.equal(m.status, 201, m.text);
    const s = await t.api('POST', '/v1/surveys', { body: {
      name: 'Support CES', touchpoint: 'support_case', trigger: { type: 'after_case_closed', days: 0 },
      definition: { questions: [
        { key: 'nps', type: 'nps' }, { key: 'why', type: 'text', text: { en: 'Why?' } },
        { key: 'solved', type: 'single_choice', required: false, text: { en: 'Solved?' }, options: [{ key: 'yes', label: { en: 'Yes' } }, { key: 'no', label: { en: 'No' } }] },
      ] },
    } });
    assert.equal(s.status, 201, s.text);
    assert.equal((await t.api('POST', `/v1/surveys/${s.body.id}/publish`)).status, 200);
    const fb = await t.api('POST', '/v1/feedback', { body: { member_id: m.body.id, message: 'My points are missing' } });
    assert.equal(fb.status, 201, fb.text);
    assert.equal((await t.api('POST', `/v1/cases/${fb.body.id}/resolve`, { body: { resolution_code: 'explained' } })).status, 200);
    // With the default 30-day throttle: the follow-up sent on closing must not make the tenant's survey skip as throttled.
    const closed = await t.api('POST', `/v1/cases/${fb.body.id}/close`, { body: { follow_up: true } });
    assert.equal(closed.status, 200, closed.text);
    const run = await app.patron.jobs.runNow('surveys.invite', { tenant_id: t.id }) as any;
    assert.ok(run, 'the job ran');
    const invs = (await t.api('GET', `/v1/survey-invitations?survey_id=${s.body.id}`)).body.data;
    assert.equal(invs.length, 1);
    assert.deepEqual([invs[0].status, invs[0].skip_reason], ['pending', null]);

    await respond(t, { survey_id: s.body.id, invitation_id: invs[0].id, channel: 'invitation', language: 'en', answers: { nps: 0, why: 'Terrible support', solved: 'no' } });
    const list = (await t.api('GET', '/v1/cases')).body.data;
    assert.equal(list.length, 2, 'the detractor opened a case of its own');
    const opened = list.find((c: any) => c.id !== fb.body.id);
    assert.deepEqual([opened.reasons, opened.message], [['nps_detractor', 'free_text'], 'Terrible support']);
    const original = (await t.api('GET', `/v1/cases/${fb.body.id}`)).body;
    assert.deepEqual([original.status, original.reopened_count], ['closed', 0]);
    assert.ok(!original.timeline.some((x: any) => x.kind === 'follow_up_answered'), JSON.stringify(original.timeline.map((x: any) => x.kind)));
  });
});
