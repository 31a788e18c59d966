/**
 * Campaign audiences from analytics: `conditions.rfm_segments` and `conditions.at_risk`, read from the newest
 * published run (member_analytics) through the analytics module's targets (wired in app.ts), on orders, on action
 * events and for the whole eligible base at launch. member_analytics rows are written by a test-only fixture (the
 * publish stage's output), so the audiences are tested on known segments.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { insertMemberAnalytics, insertRun } from '../analytics/at-risk/scores.fixture.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));

async function tenant(): Promise<TestTenant> {
  const t = await app.newTenant();
  const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 } } });
  assert.equal(rule.status, 201, rule.text);
  return t;
}

async function member(t: TestTenant): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: {} });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

async function campaign(t: TestTenant, body: Record<string, unknown>) {
  const res = await t.api('POST', '/v1/campaigns', { body: { name: 'Win-back', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z', ...body } });
  assert.equal(res.status, 201, res.text);
  const launched = await t.api('POST', `/v1/campaigns/${res.body.id}/launch`);
  assert.equal(launched.status, 200, launched.text);
  return launched.body;
}

async function order(t: TestTenant, memberId: string, externalId: string) {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: externalId, member_id: memberId, currency: 'EUR', total: 1000 } });
  assert.equal(res.status, 201, res.text);
}

const awardedMembers = async (t: TestTenant, campaignId: string) =>
  ((await t.api('GET', `/v1/campaigns/${campaignId}/awards?limit=500`)).body.data as any[]).filter((a) => a.outcome === 'granted').map((a) => a.member_id).sort();
const available = async (t: TestTenant, memberId: string) => (await t.api('GET', `/v1/members/${memberId}/balance`)).body.available as number;

/** A tenant with a published run: a champion, a lost member, a member at risk (can't lose them), one never scored. */
async function scored() {
  const t = await tenant();
  const m = { champion: await member(t), lost: await member(t), risky: await member(t), unscored: await member(t) };
  const runId = await insertRun(app.patron.db, t.id, { as_of: '2031-02-28', published: true });
  await insertMemberAnalytics(app.patron.db, t.id, runId, '2031-02-28', [
    { member_id: m.champion, segment: 'champions', at_risk: false },
    { member_id: m.lost, segment: 'lost', at_risk: false },
    { member_id: m.risky, segment: 'cant_lose_them', at_risk: true },
  ]);
  return { t, m, runId };
}

describe('campaign audiences from analytics', () => {
  test("rfm_segments ['champions']: a champion's order earns it, a lost member's does not; a new published segment counts at the next order", async () => {
    at('2031-03-01T10:00:00Z');
    const { t, m, runId } = await scored();
    const c = await campaign(t, { conditions: { rfm_segments: ['champions'] } });
    assert.deepEqual([c.conditions.rfm_segments, c.conditions.at_risk], [['champions'], null]);
    at('2031-03-04T10:00:00Z');
    for (const [name, id] of Object.entries(m)) await order(t, id, `o-${name}`);
    assert.deepEqual(await awardedMembers(t, c.id), [m.champion]);
    assert.deepEqual([await available(t, m.champion), await available(t, m.lost), await available(t, m.unscored)], [20, 10, 10]);
    // The next run makes the lost member a champion: their next order earns the campaign (nothing is cached).
    await insertMemberAnalytics(app.patron.db, t.id, runId, '2031-03-03', [{ member_id: m.lost, segment: 'champions', at_risk: false }]);
    await order(t, m.lost, 'o-lost-2');
    assert.deepEqual(await awardedMembers(t, c.id), [m.champion, m.lost].sort());
    assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
  });

  test('at_risk: true reaches only the at-risk list (a win-back), at_risk: false everyone else, unscored members included', async () => {
    at('2031-03-01T10:00:00Z');
    const { t, m } = await scored();
    const winBack = await campaign(t, { conditions: { at_risk: true } });
    const others = await campaign(t, { conditions: { at_risk: false } });
    at('2031-03-04T10:00:00Z');
    for (const [name, id] of Object.entries(m)) await order(t, id, `o-${name}`);
    assert.deepEqual(await awardedMembers(t, winBack.id), [m.risky]);
    assert.deepEqual(await awardedMembers(t, others.id), [m.champion, m.lost, m.unscored].sort());
  });

  test('both with another condition, on an action event: all must hold', async () => {
    at('2031-03-01T10:00:00Z');
    const { t, m } = await scored();
    const c = await campaign(t, { kind: 'action_bonus', config: { event: 'review_written', points: 50 }, conditions: { rfm_segments: ['champions', 'cant_lose_them'], at_risk: true } });
    at('2031-03-04T10:00:00Z');
    for (const [name, id] of Object.entries(m)) {
      const res = await t.api('POST', '/v1/events', { body: { name: 'review_written', member_id: id, external_id: `rev-${name}` } });
      assert.equal(res.status, 201, res.text);
    }
    // The champion is not at risk; the risky member is both.
    assert.deepEqual(await awardedMembers(t, c.id), [m.risky]);
  });

  test('launch: the whole eligible base by segment is assigned to treatment and control, nobody else', async () => {
    at('2031-03-01T10:00:00Z');
    const t = await tenant();
    const members = [];
    for (let i = 0; i < 30; i++) members.push(await member(t));
    const runId = await insertRun(app.patron.db, t.id, { as_of: '2031-02-28', published: true });
    // Every third a champion, every third at risk, the rest not scored.
    await insertMemberAnalytics(app.patron.db, t.id, runId, '2031-02-28', members.flatMap((id, i): Array<{ member_id: string; segment: string; at_risk: boolean }> =>
      i % 3 === 0 ? [{ member_id: id, segment: 'champions', at_risk: false }] : i % 3 === 1 ? [{ member_id: id, segment: 'at_risk', at_risk: true }] : []));
    const champions = await campaign(t, { conditions: { rfm_segments: ['champions'] }, control_share: 0.5 });
    const atRisk = await campaign(t, { conditions: { at_risk: true } });
    await app.patron.jobs.runNow('campaigns.launch', { tenant_id: t.id });
    const groups = async (id: string) => {
      const res = await app.patron.db.query(`SELECT member_id FROM campaign_members WHERE tenant_id = $1 AND campaign_id = $2`, [t.id, id]);
      return res.rows.map((r) => r.member_id).sort();
    };
    assert.deepEqual(await groups(champions.id), members.filter((_, i) => i % 3 === 0).sort());
    assert.deepEqual(await groups(atRisk.id), members.filter((_, i) => i % 3 === 1).sort());
    const spend = (await t.api('GET', `/v1/campaigns/${champions.id}`)).body.spend.members;
    assert.equal(spend.treatment + spend.control, 10);
  });

  test('bad input: a 400 naming conditions.rfm_segments[0]; at_risk must be a boolean; a draft change is checked the same way', async () => {
    at('2031-03-01T10:00:00Z');
    const t = await tenant();
    const body = { name: 'W', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z' };
    const bad = await t.api('POST', '/v1/campaigns', { body: { ...body, conditions: { rfm_segments: ['champion', 'loyal'], at_risk: 'yes' } } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['conditions.at_risk', 'conditions.rfm_segments[0]']);
    assert.match(bad.body.errors.find((e: any) => e.field === 'conditions.rfm_segments[0]').detail, /champions/);
    const dup = await t.api('POST', '/v1/campaigns', { body: { ...body, conditions: { rfm_segments: ['lost', 'lost'] } } });
    assert.equal(dup.status, 400, dup.text);
    assert.deepEqual(dup.body.errors.map((e: any) => e.field), ['conditions.rfm_segments']);
    const draft = await t.api('POST', '/v1/campaigns', { body: { ...body, conditions: { rfm_segments: ['lost'], at_risk: false } } });
    assert.equal(draft.status, 201, draft.text);
    assert.deepEqual([draft.body.conditions.rfm_segments, draft.body.conditions.at_risk], [['lost'], false]);
    const badPatch = await t.api('PATCH', `/v1/campaigns/${draft.body.id}`, { body: { conditions: { rfm_segments: ['hibernating', 'sleepy'] } } });
    assert.equal(badPatch.status, 400, badPatch.text);
    assert.deepEqual(badPatch.body.errors.map((e: any) => e.field), ['conditions.rfm_segments[1]']);
    // A change replaces the conditions as a whole: the other fields of the draft stay.
    const patched = await t.api('PATCH', `/v1/campaigns/${draft.body.id}`, { body: { conditions: { at_risk: true }, name: 'Renamed' } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual([patched.body.conditions.rfm_segments, patched.body.conditions.at_risk, patched.body.name], [null, true, 'Renamed']);
  });
});
