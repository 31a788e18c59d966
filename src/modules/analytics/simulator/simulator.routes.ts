/**
 * What-if simulations over HTTP (/v1/analytics/simulations): queue one (202; the analytics.simulate job replays it),
 * read one with its progress and result, list them.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { tenantOf } from '../../../platform/http/auth.js';
import type { HttpKit } from '../../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import { rejectBadBody } from '../../../platform/http/validation.js';
import { CreateSimulationBody, ListSimulationsQuery, Simulation, SimulationResult, type CreateSimulationInput } from './simulator.schema.js';
import type { SimulatorService } from './simulator.service.js';

export function simulatorRoutes(deps: { db: Db; simulator: SimulatorService; http: HttpKit }) {
  const { db, simulator, http } = deps;
  const tags = ['analytics'];
  const S = Type.Ref(Simulation);
  return async function (app: HttpServer) {
    app.addSchema(SimulationResult);
    app.addSchema(Simulation);

    app.post('/v1/analytics/simulations', {
      attachValidation: true,
      schema: {
        tags, summary: 'Simulate a draft of earn rules, tier thresholds or expiry over the last N months of orders',
        description: 'Queues a simulation (202): the `analytics.simulate` job replays the members\' orders of the last `months` months (up to today in the tenant time zone) through the draft and through the current configuration, and reports points issued (total and per month), expected redemptions, points expired, liability and members per tier under each, beside what happened. Poll GET /v1/analytics/simulations/{id}. A bad draft is a 400 naming its fields (`draft.earn_rules[0].rate.points`, `draft.tiers.tiers[0].id`, `draft.expiry.months`). docs/analytics/simulator.md.',
        body: CreateSimulationBody, response: { 202: S, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => simulator.checkCreate(body));
      const auth = tenantOf(req);
      await http.write(req, reply, { resource: 'analytics_simulation', status: 202 }, (tx) => simulator.create(tx, auth.tenantId, req.body as CreateSimulationInput));
      simulator.nudge();
    });

    app.get('/v1/analytics/simulations', {
      schema: { tags, summary: 'List simulations (newest first)', querystring: ListSimulationsQuery, response: { 200: Page(S), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await simulator.list(db, tenantOf(req).tenantId, decodeCursor(q.cursor, isIdCursor)?.id, q.limit + 1);
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/analytics/simulations/:id', {
      schema: { tags, summary: 'A simulation: its status (queued, running, succeeded, failed), progress and result', params: IdParams, response: { 200: S, ...problems(400, 401, 404) } },
    }, async (req) => simulator.get(db, tenantOf(req).tenantId, req.params.id));
  };
}
