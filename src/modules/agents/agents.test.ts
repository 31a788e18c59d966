/** Agents and teams over HTTP: create, teams, unique external_user_ref, deactivate instead of delete. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../test/helpers.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

describe('agents', () => {
  test('teams and agents; an agent joins an active team only; external_user_ref is unique; DELETE deactivates', async () => {
    const t = await app.newTenant();
    const team = await t.api('POST', '/v1/agents', { body: { kind: 'team', name: 'Care' } });
    assert.equal(team.status, 201, team.text);
    assert.deepEqual([team.body.kind, team.body.active, team.body.team_id], ['team', true, null]);
    const maria = await t.api('POST', '/v1/agents', { body: { name: 'Maria', email: 'maria@example.com', team_id: team.body.id, external_user_ref: 'user-1' } });
    assert.equal(maria.status, 201, maria.text);
    assert.equal(maria.body.kind, 'agent');
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'Ivan', external_user_ref: 'user-1' } })).status, 409);
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'Ivan', team_id: maria.body.id } })).status, 422); // not a team
    assert.equal((await t.api('POST', '/v1/agents', { body: { kind: 'team', name: 'Sub', team_id: team.body.id } })).status, 400);
    const ivan = await t.api('POST', '/v1/agents', { body: { name: 'Ivan', external_user_ref: 'user-2' } });
    assert.equal((await t.api('PATCH', `/v1/agents/${ivan.body.id}`, { body: { external_user_ref: 'user-1' } })).status, 409);
    const moved = await t.api('PATCH', `/v1/agents/${ivan.body.id}`, { body: { team_id: team.body.id, email: 'ivan@example.com' } });
    assert.deepEqual([moved.status, moved.body.team_id, moved.body.email], [200, team.body.id, 'ivan@example.com']);
    const members = await t.api('GET', `/v1/agents?team_id=${team.body.id}`);
    assert.deepEqual(members.body.data.map((a: any) => a.name), ['Maria', 'Ivan']);

    const off = await t.api('DELETE', `/v1/agents/${team.body.id}`);
    assert.deepEqual([off.status, off.body.active], [200, false]);
    assert.equal((await t.api('GET', `/v1/agents/${team.body.id}`)).status, 200); // still there
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'New', team_id: team.body.id } })).status, 422); // a deactivated team takes nobody
    assert.deepEqual((await t.api('GET', '/v1/agents?active=true')).body.data.map((a: any) => a.name), ['Maria', 'Ivan']);
    const events = (await t.api('GET', '/v1/domain-events?limit=500')).body.data.map((e: any) => e.type).filter((x: string) => x.startsWith('agent.'));
    assert.deepEqual(events.sort(), ['agent.created', 'agent.created', 'agent.created', 'agent.deactivated', 'agent.updated']);
    // Only admins manage agents; everyone reads them.
    const writeKey = await t.keyWith(['write']);
    assert.equal((await t.api('POST', '/v1/agents', { body: { name: 'X' }, key: writeKey })).status, 403);
    assert.equal((await t.api('GET', '/v1/agents', { key: writeKey })).status, 200);
  });
});
