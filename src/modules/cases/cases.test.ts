/** Cases over HTTP against a real PostgreSQL: opened by survey answers and feedback, worked, breached, resolved with goodwill, followed up. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { newId } from '../../platform/ids.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import type { StoredAnswer, SurveyResponded } from '../surveys/surveys.types.js';

let app: TestApp;
// Monday 2031-03-03 10:00 in Sofia (UTC+2), after 2030 (test/helpers.ts).
const START = new Date('2031-03-03T08:00:00Z');
const SOFIA_HOURS = {
  time_zone: 'Europe/Sofia',
  weekly: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']], sat: [], sun: [] },
  holidays: [],
};

before(async () => {
  app = await startTestApp();
  app.clock.set(START);
});
after(() => app.close());

async function member(t: TestTenant, body: Record<string, unknown> = {}): Promise<string> {
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Ana', email: 'ana@example.com', ...body } });
  assert.equal(m.status, 201, m.text);
  return m.body.id;
}

async function settings(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('PUT', '/v1/case-settings', { body: { business_hours: SOFIA_HOURS, ...body } });
  assert.equal(res.status, 200, res.text);
  return res.body;
}

async function agent(t: TestTenant, body: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/agents', { body: { name: 'Maria', ...body } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const answer = (key: string, type: StoredAnswer['question_type'], value: number | string, band: StoredAnswer['band'] = null): StoredAnswer => ({
  question_key: key, question_type: type, scale_min: typeof value === 'number' ? 0 : null, scale_max: typeof value === 'number' ? 10 : null,
  value_number: typeof value === 'number' ? value : null, value_text: typeof value === 'string' ? value : null, value_choices: null, band,
});

function responded(t: TestTenant, memberId: string | null, answers: StoredAnswer[], o: { responseId?: string; edited?: boolean; tier?: string | null; source?: SurveyResponded['response']['source'] } = {}): SurveyResponded {
  return {
    tenantId: t.id,
    survey: { id: '0190f2a4-0000-7000-8000-000000000001', name: 'After purchase', touchpoint: 'purchase', version: 1, follow_up: o.source?.type === 'case' },
    response: {
      id: o.responseId ?? newId(), member_id: memberId, invitation_id: null, channel: 'invitation', language: 'en', tier_code: o.tier ?? null,
      submitted_at: app.clock.now(), source: o.source ?? null,
    },
    answers,
    edited: o.edited ?? false,
  };
}

const respond = (e: SurveyResponded) => app.patron.db.tx((tx) => app.patron.services.cases.onSurveyResponded(tx, e));

async function casesOf(t: TestTenant, query = ''): Promise<any[]> {
  const res = await t.api('GET', `/v1/cases?limit=500${query}`);
  assert.equal(res.status, 200, res.text);
  return res.body.data;
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data;

describe('opening cases from survey answers', () => {
  test('each band opens a case: NPS detractor, CSAT dissatisfied, CES high effort, free text; promoters and satisfied answers do not', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    await settings(t, {});
    const ana = await member(t);
    const cases: Record<string, string> = {};
    for (const [name, a] of [
      ['nps', answer('nps', 'nps', 3, 'detractor')],
      ['csat', answer('csat', 'csat', 1, 'dissatisfied')],
      ['ces', answer('ces', 'ces', 2, 'high_effort')],
      ['text', answer('why', 'text', 'The courier was rude.')],
    ] as const) {
      const e = responded(t, ana, [a]);
      await respond(e);
      cases[name] = e.response.id;
    }
    for (const a of [answer('nps', 'nps', 10, 'promoter'), answer('nps', 'nps', 7, 'passive'), answer('csat', 'csat', 5, 'satisfied'), answer('ces', 'ces', 6, 'low_effort'), answer('why', 'text', '   ')]) {
      await respond(responded(t, ana, [a]));
    }
    const list = await casesOf(t);
    assert.equal(list.length, 4);
    const byResponse = new Map(list.map((c) => [c.source.response_id, c]));
    assert.deepEqual(byResponse.get(cases.nps).reasons, ['nps_detractor']);
    assert.deepEqual(byResponse.get(cases.csat).reasons, ['csat_dissatisfied']);
    assert.deepEqual(byResponse.get(cases.ces).reasons, ['ces_high_effort']);
    assert.deepEqual(byResponse.get(cases.text).reasons, ['free_text']);
    assert.equal(byResponse.get(cases.text).message, 'The courier was rude.');
    const nps = byResponse.get(cases.nps);
    assert.deepEqual([nps.status, nps.priority, nps.member_id, nps.source.type, nps.source.band, nps.source.value, nps.subject], ['open', 'normal', ana, 'survey_answer', 'detractor', 3, 'Detractor (3): After purchase']);
    // Normal: 480 business minutes for the first response (Mon 10:00 -> Tue 10:00 Sofia), 2400 for resolution (-> next Mon 10:00).
    assert.equal(nps.first_response_due_at, '2031-03-04T08:00:00.000Z');
    assert.equal(nps.resolution_due_at, '2031-03-10T08:00:00.000Z');
    assert.equal((await eventsOf(t, 'case.opened')).length, 4);
  });

  test('each switch off: that kind of answer opens no case', async () => {
    app.clock.set(START);
    const answers = { nps_detractor: answer('nps', 'nps', 0, 'detractor'), csat_dissatisfied: answer('csat', 'csat', 2, 'dissatisfied'), ces_high_effort: answer('ces', 'ces', 1, 'high_effort'), free_text: answer('why', 'text', 'Slow') };
    for (const off of Object.keys(answers) as Array<keyof typeof answers>) {
      const t = await app.newTenant();
      await settings(t, { open_rules: { nps_detractor: true, csat_dissatisfied: true, ces_high_effort: true, free_text: true, [off]: false } });
      const ana = await member(t);
      for (const a of Object.values(answers)) await respond(responded(t, ana, [a]));
      const list = await casesOf(t);
      assert.equal(list.length, 3, off);
      assert.ok(list.every((c) => !c.reasons.includes(off)), off);
    }
  });

  test('one case per response: an edit updates the same case; a response with several reasons is one case', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    await settings(t, {});
    const ana = await member(t);
    const e = responded(t, ana, [answer('nps', 'nps', 2, 'detractor'), answer('why', 'text', 'Late')]);
    await respond(e);
    let list = await casesOf(t);
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].reasons, ['nps_detractor', 'free_text']);
    await respond({ ...e, answers: [answer('nps', 'nps', 4, 'detractor'), answer('why', 'text', 'Late and broken')], edited: true });
    list = await casesOf(t);
    assert.equal(list.length, 1);
    assert.deepEqual([list[0].source.value, list[0].message], [4, 'Late and broken']);
    const full = (await t.api('GET', `/v1/cases/${list[0].id}`)).body;
    assert.deepEqual(full.timeline.map((x: any) => x.kind), ['opened', 'updated']);
    assert.equal((await eventsOf(t, 'case.updated')).length, 1);
    // Edited into a happy answer: the case stays as it was, the timeline says the edit no longer matches.
    await respond({ ...e, answers: [answer('nps', 'nps', 10, 'promoter')], edited: true });
    const kept = (await t.api('GET', `/v1/cases/${list[0].id}`)).body;
    assert.deepEqual([kept.status, kept.reasons, kept.source.value, kept.message], ['open', ['nps_detractor', 'free_text'], 4, null]);
    assert.equal(kept.timeline.at(-1).data.matches_open_rules, false);
    // An edit that first makes the response a detractor opens its case then.
    const p = responded(t, ana, [answer('nps', 'nps', 9, 'promoter')]);
    await respond(p);
    assert.equal((await casesOf(t)).length, 1);
    await respond({ ...p, answers: [answer('nps', 'nps', 1, 'detractor')], edited: true });
    assert.equal((await casesOf(t)).length, 2);
  });

  test('priority rules: detractor + top tier is high; the first matching rule wins; several reasons take the most urgent', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    await settings(t, {
      priority_rules: [
        { when: { and: [{ '==': [{ var: 'reason' }, 'nps_detractor'] }, { in: [{ var: 'tier_code' }, ['gold', 'platinum']] }] }, priority: 'high' },
        { when: { and: [{ '!=': [{ var: 'value' }, null] }, { '<=': [{ var: 'value' }, 1] }] }, priority: 'urgent' },
        { when: { '==': [{ var: 'reason' }, 'free_text'] }, priority: 'low' },
      ],
      default_priority: 'normal',
    });
    const ana = await member(t);
    await respond(responded(t, ana, [answer('nps', 'nps', 3, 'detractor')], { tier: 'gold', responseId: '0190f2a4-0000-7000-8000-0000000000a1' }));
    await respond(responded(t, ana, [answer('nps', 'nps', 3, 'detractor')], { tier: 'silver', responseId: '0190f2a4-0000-7000-8000-0000000000a2' }));
    await respond(responded(t, ana, [answer('why', 'text', 'meh')], { responseId: '0190f2a4-0000-7000-8000-0000000000a3' }));
    await respond(responded(t, ana, [answer('why', 'text', 'meh'), answer('nps', 'nps', 0, 'detractor')], { tier: 'gold', responseId: '0190f2a4-0000-7000-8000-0000000000a4' }));
    const p = new Map((await casesOf(t)).map((c) => [c.source.response_id.slice(-2), [c.priority, c.tier_code]]));
    assert.deepEqual(Object.fromEntries(p), { a1: ['high', 'gold'], a2: ['normal', 'silver'], a3: ['low', null], a4: ['high', 'gold'] });
    // Urgent targets are shorter: 60 business minutes.
    const bad = await t.api('PUT', '/v1/case-settings', { body: { priority_rules: [{ when: { nope: [1] }, priority: 'high' }], business_hours: { ...SOFIA_HOURS, weekly: { ...SOFIA_HOURS.weekly, mon: [['17:00', '09:00']] }, holidays: ['2031-02-30'] } } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.errors.map((x: any) => x.field).sort(), ['business_hours.holidays[0]', 'business_hours.weekly.mon', 'priority_rules[0].when']);
  });

  test('the priority example of docs/cases.md: a rating of 0 or 1 is urgent, feedback without a rating is not; an unknown variable is a 400', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/cases.md', import.meta.url)), 'utf8');
    const block = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('"priority_rules"'));
    assert.ok(block, 'docs/cases.md has a priority_rules example');
    await settings(t, JSON.parse(block));
    const ana = await member(t);
    const priorityOf = async (body: Record<string, unknown>) => {
      const res = await t.api('POST', '/v1/feedback', { body: { member_id: ana, ...body } });
      assert.equal(res.status, 201, res.text);
      return res.body.priority;
    };
    assert.equal(await priorityOf({ message: 'Could you add oat milk?' }), 'normal');
    assert.equal(await priorityOf({ message: 'Awful', rating: 1 }), 'urgent');
    assert.equal(await priorityOf({ message: 'Awful', rating: 0 }), 'urgent');
    assert.equal(await priorityOf({ message: 'Fine', rating: 5 }), 'normal');
    // A variable the rules never see is refused when saved, naming the rule.
    const bad = await t.api('PUT', '/v1/case-settings', {
      body: { priority_rules: [{ when: { '==': [{ var: 'reason' }, 'feedback'] }, priority: 'low' }, { when: { '==': [{ var: 'member.email' }, 'vip@example.com'] }, priority: 'urgent' }] },
    });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['priority_rules[1].when']);
    assert.match(bad.body.errors[0].detail, /member\.email/);
  });

  test("feedback: every submission opens a case, with the member's tier for the priority rules; anonymous feedback too", async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const tier = await t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', entry_threshold: 1_000_000 } });
    assert.equal(tier.status, 201, tier.text);
    await settings(t, { priority_rules: [{ when: { '==': [{ var: 'tier_code' }, 'gold'] }, priority: 'urgent' }] });
    const ana = await member(t, { external_id: 'cust-1' });
    const bo = await member(t, { first_name: 'Bo' });
    assert.equal((await t.api('POST', `/v1/members/${ana}/tier/assignment`, { body: { tier: 'gold', reason: 'VIP' } })).status, 200);
    const a = await t.api('POST', '/v1/feedback', { body: { member_external_id: 'cust-1', message: 'The app logs me out every day.', touchpoint: 'custom', rating: 2, metadata: { page: '/account' } } });
    assert.equal(a.status, 201, a.text);
    assert.deepEqual([a.body.member_id, a.body.priority, a.body.tier_code, a.body.reasons, a.body.source], [ana, 'urgent', 'gold', ['feedback'], { type: 'feedback', rating: 2, metadata: { page: '/account' } }]);
    assert.equal(a.body.first_response_due_at, '2031-03-03T09:00:00.000Z'); // urgent: 60 business minutes
    const b = await t.api('POST', '/v1/feedback', { body: { member_id: bo, message: 'Same again' } });
    const b2 = await t.api('POST', '/v1/feedback', { body: { member_id: bo, message: 'Same again' } });
    assert.equal(b.body.priority, 'normal');
    assert.notEqual(b.body.id, b2.body.id);
    const anon = await t.api('POST', '/v1/feedback', { body: { message: 'Nice shop', email: 'guest@example.com' } });
    assert.deepEqual([anon.status, anon.body.member_id, anon.body.contact_email], [201, null, 'guest@example.com']);
    const nobody = await t.api('POST', '/v1/feedback', { body: { message: 'Hi' } });
    assert.equal(nobody.status, 201);
    // Nobody to reply to: a note is fine, a reply is a 422.
    assert.equal((await t.api('POST', `/v1/cases/${nobody.body.id}/replies`, { body: { body: 'Thanks' } })).status, 422);
    assert.equal((await t.api('POST', `/v1/cases/${nobody.body.id}/notes`, { body: { body: 'Spam?' } })).status, 201);
    assert.equal((await t.api('POST', '/v1/feedback', { body: { member_id: newId(), message: 'x' } })).status, 404);
    assert.equal((await casesOf(t)).length, 5);
  });
});

describe('working a case', () => {
  test('assign, notes, replies (first response), status, resolve, close, reopen; the timeline and events', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const team = await agent(t, { kind: 'team', name: 'Care' });
    const maria = await agent(t, { name: 'Maria', team_id: team.id, external_user_ref: 'u-1' });
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'Dup', external_user_ref: 'u-1' } })).status, 409);
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'X', team_id: maria.id } })).status, 422);
    await settings(t, { default_assignee_id: team.id });
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Broken cup' } })).body;
    assert.equal(c.assignee_id, team.id);
    let res = await t.api('PATCH', `/v1/cases/${c.id}`, { body: { assignee_id: maria.id, priority: 'high' } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([res.body.assignee_id, res.body.priority, res.body.first_response_due_at], [maria.id, 'high', '2031-03-03T12:00:00.000Z']);
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/notes`, { body: { body: 'Checked the order', agent_id: maria.id } })).status, 201);
    app.clock.set(new Date(START.getTime() + 30 * 60_000));
    const reply = await t.api('POST', `/v1/cases/${c.id}/replies`, { body: { body: 'Dear Ana, we are sorry.', agent_id: maria.id } });
    assert.equal(reply.status, 201, reply.text);
    assert.deepEqual([reply.body.kind, reply.body.delivery_state, reply.body.author_agent_id], ['reply', 'pending', maria.id]);
    app.clock.set(new Date(START.getTime() + 60 * 60_000));
    await t.api('POST', `/v1/cases/${c.id}/replies`, { body: { body: 'One more thing.' } });
    res = await t.api('PATCH', `/v1/cases/${c.id}`, { body: { status: 'waiting_for_customer' } });
    assert.equal(res.body.status, 'waiting_for_customer');
    assert.equal(res.body.first_responded_at, new Date(START.getTime() + 30 * 60_000).toISOString());
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/close`, { body: {} })).status, 422); // not resolved yet
    res = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'replaced', note: 'New cup sent' } });
    assert.deepEqual([res.status, res.body.status, res.body.resolution_code, res.body.goodwill], [200, 'resolved', 'replaced', []]);
    res = await t.api('POST', `/v1/cases/${c.id}/close`, { body: {} });
    assert.deepEqual([res.body.status, res.body.follow_up], ['closed', null]);
    assert.equal((await t.api('PATCH', `/v1/cases/${c.id}`, { body: { priority: 'low' } })).status, 422);
    res = await t.api('POST', `/v1/cases/${c.id}/reopen`, { body: { reason: 'Cup broken again' } });
    assert.deepEqual([res.body.status, res.body.reopened_count, res.body.closed_at, res.body.resolved_at], ['open', 1, null, null]);
    const full = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.deepEqual(full.timeline.map((x: any) => x.kind), ['opened', 'assigned', 'priority_changed', 'note', 'reply', 'reply', 'status_changed', 'resolved', 'closed', 'reopened']);
    const types = (await t.api('GET', `/v1/domain-events?limit=500`)).body.data.filter((e: any) => e.aggregate_type === 'case' || e.type.startsWith('case.')).map((e: any) => e.type);
    for (const ty of ['case.opened', 'case.assigned', 'case.priority_changed', 'case.noted', 'case.replied', 'case.status_changed', 'case.resolved', 'case.closed', 'case.reopened']) assert.ok(types.includes(ty), ty);
    // A deactivated agent takes no new cases.
    assert.equal((await t.api('DELETE', `/v1/agents/${maria.id}`)).body.active, false);
    assert.equal((await t.api('PATCH', `/v1/cases/${c.id}`, { body: { assignee_id: maria.id } })).status, 200); // already hers: no change
    assert.equal((await t.api('PATCH', `/v1/cases/${c.id}`, { body: { assignee_id: null } })).status, 200);
    assert.equal((await t.api('PATCH', `/v1/cases/${c.id}`, { body: { assignee_id: maria.id } })).status, 422);
  });

  test('list filters: status, priority, breached, assignee, member; newest first with cursor pages', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const maria = await agent(t);
    await settings(t, {});
    const ana = await member(t);
    const bo = await member(t);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await t.api('POST', '/v1/feedback', { body: { member_id: i < 3 ? ana : bo, message: `m${i}` } })).body.id);
    await t.api('PATCH', `/v1/cases/${ids[0]}`, { body: { assignee_id: maria.id, priority: 'urgent' } });
    await t.api('PATCH', `/v1/cases/${ids[1]}`, { body: { status: 'waiting_for_customer' } });
    await t.api('POST', `/v1/cases/${ids[2]}/resolve`, { body: { resolution_code: 'explained' } });
    const idsOf = async (q: string) => (await casesOf(t, q)).map((c) => c.id);
    assert.deepEqual(await idsOf(''), [...ids].reverse());
    assert.deepEqual(await idsOf('&status=open'), [ids[4], ids[3], ids[0]]);
    assert.deepEqual(await idsOf('&status=waiting_for_customer,resolved'), [ids[2], ids[1]]);
    assert.deepEqual(await idsOf('&priority=urgent'), [ids[0]]);
    assert.deepEqual(await idsOf(`&assignee_id=${maria.id}`), [ids[0]]);
    assert.deepEqual(await idsOf(`&member_id=${bo}`), [ids[4], ids[3]]);
    assert.deepEqual(await idsOf('&breached=true'), []);
    assert.equal((await t.api('GET', '/v1/cases?status=pending')).status, 400);
    // Breach the urgent one (first response due after 60 business minutes).
    app.clock.set(new Date(START.getTime() + 2 * 3600_000));
    await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id });
    assert.deepEqual(await idsOf('&breached=true'), [ids[0]]);
    assert.equal((await idsOf('&breached=false')).length, 4);
    const p1 = await t.api('GET', '/v1/cases?limit=2');
    const p2 = await t.api('GET', `/v1/cases?limit=2&cursor=${encodeURIComponent(p1.body.next_cursor)}`);
    assert.deepEqual([...p1.body.data, ...p2.body.data].map((c: any) => c.id), [ids[4], ids[3], ids[2], ids[1]]);
  });
});

describe('SLA breaches and escalation', () => {
  test('the job flags the first response and then the resolution breach, and escalates once (assignee and priority)', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const leads = await agent(t, { kind: 'team', name: 'Team leads' });
    await settings(t, { escalation: { assign_to: leads.id, raise_priority: true } });
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Where is my refund?' } })).body;
    const answered = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Answered in time' } })).body;
    assert.equal(c.first_response_due_at, '2031-03-04T08:00:00.000Z'); // Tue 10:00 Sofia
    // Just before the due time: nothing.
    app.clock.set(new Date('2031-03-04T07:59:00Z'));
    await t.api('POST', `/v1/cases/${answered.id}/replies`, { body: { body: 'We are on it.' } });
    assert.deepEqual(await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id }), { tenants: 1, breached: 0, escalated: 0 });
    app.clock.set(new Date('2031-03-04T08:00:00Z'));
    assert.deepEqual(await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id }), { tenants: 1, breached: 1, escalated: 1 });
    let got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.deepEqual([got.first_response_breached, got.resolution_breached, got.breached, got.assignee_id, got.priority, got.escalated_at],
      [true, false, true, leads.id, 'high', '2031-03-04T08:00:00.000Z']);
    // Running again changes nothing.
    assert.deepEqual(await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id }), { tenants: 1, breached: 0, escalated: 0 });
    // The resolution target (2400 business minutes: next Monday 10:00) passes: flagged, but no second escalation.
    app.clock.set(new Date('2031-03-10T08:00:00Z'));
    assert.deepEqual(await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id }), { tenants: 1, breached: 2, escalated: 1 });
    got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.deepEqual([got.resolution_breached, got.priority], [true, 'high']);
    assert.deepEqual(got.timeline.map((x: any) => x.kind), ['opened', 'sla_breached', 'escalated', 'sla_breached']);
    const breaches = await eventsOf(t, 'case.sla_breached');
    assert.deepEqual(breaches.filter((e: any) => e.payload.case_id === c.id).map((e: any) => e.payload.sla).sort(), ['first_response', 'resolution']);
    assert.equal((await eventsOf(t, 'case.escalated')).filter((e: any) => e.payload.case_id === c.id).length, 1);
    // The one answered in time breached only its resolution target, and was escalated for that.
    const other = (await t.api('GET', `/v1/cases/${answered.id}`)).body;
    assert.deepEqual([other.first_response_breached, other.resolution_breached, other.assignee_id], [false, true, leads.id]);
  });

  test('a reopened case whose priority changes keeps counting its resolution from the reopening; an answered case keeps its first-response target', async () => {
    app.clock.set(START); // Mon 10:00 Sofia
    const t = await app.newTenant();
    await settings(t, {});
    const ana = await member(t);
    const answered = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Broken cup' } })).body;
    const silent = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Broken saucer' } })).body;
    assert.equal(answered.reopened_at, null);
    await t.api('POST', `/v1/cases/${answered.id}/replies`, { body: { body: 'Dear Ana, a new cup is on its way.' } });
    for (const c of [answered, silent]) assert.equal((await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'replaced' } })).status, 200);
    // Three weeks later, Monday 10:00 Sofia: both are reopened, then made more urgent.
    const reopenedAt = new Date('2031-03-24T08:00:00Z');
    app.clock.set(reopenedAt);
    for (const c of [answered, silent]) {
      const r = await t.api('POST', `/v1/cases/${c.id}/reopen`, { body: { reason: 'Broken again' } });
      assert.deepEqual([r.status, r.body.reopened_at], [200, reopenedAt.toISOString()], r.text);
    }
    const high = await t.api('PATCH', `/v1/cases/${answered.id}`, { body: { priority: 'high' } });
    assert.equal(high.status, 200, high.text);
    // Resolution: high is 960 business minutes (two working days) from the reopening, Wed 10:00 Sofia. The first
    // response was given: its target stays normal's from the opening (Tue 2031-03-04 10:00 Sofia).
    assert.deepEqual([high.body.priority, high.body.resolution_due_at, high.body.first_response_due_at, high.body.reopened_at],
      ['high', '2031-03-26T08:00:00.000Z', '2031-03-04T08:00:00.000Z', reopenedAt.toISOString()]);
    // Never answered: the first response counts from the opening at the new priority (urgent: 60 minutes), the
    // resolution from the reopening (urgent: 480 business minutes, Tue 10:00 Sofia).
    const urgent = await t.api('PATCH', `/v1/cases/${silent.id}`, { body: { priority: 'urgent' } });
    assert.deepEqual([urgent.body.first_response_due_at, urgent.body.resolution_due_at], ['2031-03-03T09:00:00.000Z', '2031-03-25T08:00:00.000Z']);
    // The SLA job finds the answered case within its targets, and the silent one late only for its first response.
    assert.deepEqual(await app.patron.jobs.runNow('cases.sla', { tenant_id: t.id }), { tenants: 1, breached: 1, escalated: 1 });
    const got = (await t.api('GET', `/v1/cases/${answered.id}`)).body;
    assert.deepEqual([got.first_response_breached, got.resolution_breached], [false, false]);
    const late = (await t.api('GET', `/v1/cases/${silent.id}`)).body;
    assert.deepEqual([late.first_response_breached, late.resolution_breached], [true, false]);
  });
});

describe('goodwill and follow-up', () => {
  test('goodwill points land in the ledger with the case as source; a gesture that cannot be given fails the resolve', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Late delivery' } })).body;
    const bad = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { reward_id: newId() } } });
    assert.equal(bad.status, 422, bad.text);
    assert.equal((await t.api('GET', `/v1/cases/${c.id}`)).body.status, 'open');
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: {} } })).status, 400);
    const res = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', note: 'Sorry', goodwill: { points: 200 } } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.goodwill, [{
      gift: { points: 200 }, result: { points: 200, reward_redemption_id: null, voucher_code: null, credit: 0 }, given_at: START.toISOString(), actor: res.body.goodwill[0].actor, agent_id: null,
    }]);
    assert.ok(res.body.goodwill[0].actor);
    const entries = (await t.api('GET', `/v1/members/${ana}/ledger?type=earn`)).body.data;
    assert.deepEqual(entries.map((e: any) => [e.points, e.source_type, e.source_id]), [[200, 'case', c.id]]);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 200);
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
    // Store credit as goodwill: a wallet entry with the case as its source.
    const c2 = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Charged twice' } })).body;
    const credited = await t.api('POST', `/v1/cases/${c2.id}/resolve`, { body: { resolution_code: 'refunded', goodwill: { credit: 500 } } });
    assert.equal(credited.status, 200, credited.text);
    const w = (await t.api('GET', `/v1/members/${ana}/wallet`)).body;
    assert.equal(w.balance, 500);
    assert.deepEqual(w.entries.data.map((e: any) => [e.amount, e.source_type, e.source_id]), [[500, 'case', c2.id]]);
    const anon = (await t.api('POST', '/v1/feedback', { body: { message: 'x' } })).body;
    assert.equal((await t.api('POST', `/v1/cases/${anon.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { points: 5 } } })).status, 422);
  });

  test('a case resolved again after a reopening keeps every goodwill gesture, in order, with when and by whom', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const maria = await agent(t);
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Late delivery' } })).body;
    assert.deepEqual(c.goodwill, []);
    const first = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { points: 200 }, agent_id: maria.id } });
    assert.equal(first.status, 200, first.text);
    const later = new Date(START.getTime() + 3 * 86_400_000);
    app.clock.set(later);
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/reopen`, { body: { reason: 'Late again' } })).status, 200);
    const reopened = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.equal(reopened.goodwill.length, 1); // reopening takes nothing back
    const second = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { points: 50 } } });
    assert.equal(second.status, 200, second.text);
    // Resolved a third time without a gesture: the two stay.
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/reopen`, { body: {} })).status, 200);
    assert.equal((await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'explained' } })).status, 200);
    const got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.deepEqual(got.goodwill.map((g: any) => [g.gift, g.result.points, g.given_at, g.agent_id]), [
      [{ points: 200 }, 200, START.toISOString(), maria.id],
      [{ points: 50 }, 50, later.toISOString(), null],
    ]);
    assert.ok(got.goodwill.every((g: any) => typeof g.actor === 'string' && g.actor.length > 0));
    // The ledger agrees: both gestures, with the case as their source.
    const entries = (await t.api('GET', `/v1/members/${ana}/ledger?type=earn`)).body.data;
    assert.deepEqual(entries.map((e: any) => [e.points, e.source_type, e.source_id]).sort(), [[200, 'case', c.id], [50, 'case', c.id]]);
    assert.deepEqual(got.timeline.filter((x: any) => x.kind === 'goodwill').map((x: any) => x.data.gift.points), [200, 50]);
  });

  test('a voucher from the catalog as goodwill', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const reward = await t.api('POST', '/v1/rewards', { body: { kind: 'free_product', name: { en: 'Free coffee' }, points: 100, voucher: { sku: 'COFFEE', valid_days: 30 } } });
    assert.equal(reward.status, 201, reward.text);
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Cold coffee' } })).body;
    const res = await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'goodwill', goodwill: { reward_id: reward.body.id } } });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.goodwill[0].result.reward_redemption_id);
    assert.ok(res.body.goodwill[0].result.voucher_code);
    const rr = await t.api('GET', `/v1/reward-redemptions/${res.body.goodwill[0].result.reward_redemption_id}`);
    assert.equal(rr.status, 200, rr.text);
    assert.equal(rr.body.member_id, ana);
    assert.equal((await t.api('GET', `/v1/members/${ana}/balance`)).body.available, 0); // given, not bought
  });

  test('closing with follow_up calls the registered sender; "no" reopens the case, "yes" notes it', async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const calls: Array<{ member_id: string; case_id: string; follow_up: boolean }> = [];
    app.patron.services.cases.onClosed(async (_tx, tenantId, c) => {
      if (tenantId !== t.id) return null;
      calls.push(c);
      return c.follow_up ? { invitation_id: '0190f2a4-0000-7000-8000-00000000f001', url: `https://patron.example/s/${c.case_id}` } : null;
    });
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'Broken' } })).body;
    await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'solved' } });
    const closed = await t.api('POST', `/v1/cases/${c.id}/close`, { body: { follow_up: true } });
    assert.equal(closed.status, 200, closed.text);
    // The link is not kept on the case (a read key reads cases): only the invitation id (review 6, C2).
    assert.deepEqual(closed.body.follow_up, { invitation_id: '0190f2a4-0000-7000-8000-00000000f001' });
    assert.deepEqual(calls, [{ member_id: ana, case_id: c.id, follow_up: true }]);

    const solved = (v: string): StoredAnswer => ({ question_key: 'solved', question_type: 'single_choice', scale_min: null, scale_max: null, value_number: null, value_text: v, value_choices: [v], band: null });
    await respond(responded(t, ana, [solved('no')], { source: { type: 'case', id: c.id } }));
    let got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.deepEqual([got.status, got.reopened_count], ['open', 1]);
    assert.deepEqual(got.timeline.slice(-3).map((x: any) => x.kind), ['follow_up_sent', 'follow_up_answered', 'reopened']);
    assert.equal((await casesOf(t)).length, 1); // the follow-up answer opens no case of its own

    await t.api('POST', `/v1/cases/${c.id}/resolve`, { body: { resolution_code: 'solved' } });
    await t.api('POST', `/v1/cases/${c.id}/close`, { body: {} });
    await respond(responded(t, ana, [solved('yes')], { source: { type: 'case', id: c.id } }));
    got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.equal(got.status, 'closed');
    assert.deepEqual(got.timeline.at(-1).data.solved, 'yes');
  });
});

describe('GDPR', () => {
  test("the export holds the member's cases and replies; erasure clears their words", async () => {
    app.clock.set(START);
    const t = await app.newTenant();
    const ana = await member(t);
    const c = (await t.api('POST', '/v1/feedback', { body: { member_id: ana, message: 'My address is Main St 1' } })).body;
    await t.api('POST', `/v1/cases/${c.id}/replies`, { body: { body: 'Dear Ana' } });
    await t.api('POST', `/v1/cases/${c.id}/notes`, { body: { body: 'Ana lives at Main St 1' } });
    const exp = await t.api('GET', `/v1/members/${ana}/export`);
    assert.equal(exp.status, 200, exp.text);
    assert.equal(exp.body.sections.cases[0].message, 'My address is Main St 1');
    assert.ok(exp.body.sections.cases[0].timeline.some((x: any) => x.body === 'Dear Ana'));
    assert.equal((await t.api('POST', `/v1/members/${ana}/erase`)).status, 200);
    const got = (await t.api('GET', `/v1/cases/${c.id}`)).body;
    assert.equal(got.message, null);
    assert.ok(got.timeline.every((x: any) => x.body === null));
    assert.deepEqual([got.subject, got.contact_email, got.member_id], ['Erased', null, ana]);
  });
});
