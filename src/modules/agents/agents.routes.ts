/** Agents over HTTP: the people and teams cases are assigned to (/v1/agents; admin writes). */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { Agent, CreateAgentBody, ListAgentsQuery, UpdateAgentBody } from './agents.schema.js';
import type { AgentsService } from './agents.service.js';

export function agentsRoutes(deps: { db: Db; agents: AgentsService; http: HttpKit }) {
  const { db, agents, http } = deps;
  const tags = ['cases'];
  const A = Type.Ref(Agent);
  return async function (app: HttpServer) {
    app.addSchema(Agent);

    app.post('/v1/agents', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Create an agent or a team',
        description: 'Cases are assigned to agents or teams. An agent may belong to one team. Emits `agent.created`. 409 when external_user_ref is taken; 422 for a team_id that is not an active team.',
        body: CreateAgentBody, response: { 201: A, ...problems(400, 401, 403, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'agent', status: 201 }, (tx) => agents.create(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/agents', {
      schema: { tags, summary: 'List agents and teams, oldest first', querystring: ListAgentsQuery, response: { 200: Page(A), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await agents.list(db, tenantOf(req).tenantId, { kind: q.kind, teamId: q.team_id, active: q.active, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/agents/:id', {
      schema: { tags, summary: 'Get an agent or team', params: IdParams, response: { 200: A, ...problems(400, 401, 404) } },
    }, (req) => agents.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/agents/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Change an agent or team', description: 'Emits `agent.updated` (`agent.deactivated` when `active` becomes false).',
        params: IdParams, body: UpdateAgentBody, response: { 200: A, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'agent' }, (tx) => agents.update(tx, tenantOf(req).tenantId, req.params.id, req.body)));

    app.delete('/v1/agents/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Deactivate an agent or team: cases keep naming it, no new case can be assigned to it',
        params: IdParams, response: { 200: A, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'agent', changedFields: ['active'] }, (tx) => agents.deactivate(tx, tenantOf(req).tenantId, req.params.id)));
  };
}
