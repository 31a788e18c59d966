/**
 * The member triggers over HTTP (docs/messaging/triggers.md). Each trigger has its own path, so each body takes
 * exactly that trigger's settings (an unknown field is a 400 naming it) and the OpenAPI document shows them.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { tenantOf } from '../../../platform/http/auth.js';
import type { HttpKit } from '../../../platform/http/kit.js';
import { decodeCursor, page } from '../../../platform/http/pagination.js';
import { Nullable, Obj, Page, PageQuery, problems, Timestamp } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import { rejectBadBody } from '../../../platform/http/validation.js';
import { MEMBER_TRIGGERS } from '../messaging.types.js';
import { anyViewSchema, bodySchema, isMemberTrigger, type TriggerBody, viewSchema } from './triggers.settings.js';
import type { TriggersService } from './triggers.service.js';

const DAY_MS = 86_400_000;

const isTriggerCursor = (v: any): v is { trigger: string } => typeof v === 'object' && v !== null && isMemberTrigger(v.trigger);

const Group = Type.Object({
  members: Type.Integer({ description: 'Members in the group (one per win-back message; a member given two counts twice).' }),
  purchasers: Type.Integer({ description: 'Of them, those who bought within `days` after their message.' }),
  purchase_rate: Nullable(Type.Number()),
  revenue: Type.Integer({ description: 'Their purchases in those windows, net of returns, minor units.' }),
  revenue_per_member: Nullable(Type.Number()),
});
const Difference = Nullable(Type.Object({
  estimate: Type.Number({ description: 'treated − control' }),
  ci_low: Type.Number({ description: 'Lower end of the 95 % interval (Welch).' }),
  ci_high: Type.Number(),
  p_value: Type.Number(),
}, { description: 'Null when either group has fewer than 2 members or neither varies.' }));
const Results = Type.Object({
  from: Timestamp(), to: Timestamp(), days: Type.Integer(), currency: Type.String(),
  treated: Group, control: Group,
  difference: Type.Object({ purchase_rate: Difference, revenue_per_member: Difference }),
});
const ResultsQuery = Obj({
  from: Type.Optional(Timestamp({ description: 'Messages created from (default: 90 days before `to`).' })),
  to: Type.Optional(Timestamp({ description: 'Messages created before (default: now).' })),
  days: Type.Integer({ minimum: 1, maximum: 365, default: 30, description: 'Days after each message in which a purchase counts (default 30).' }),
});

export function triggersRoutes(deps: { db: Db; triggers: TriggersService; http: HttpKit; now: () => Date }) {
  const { db, triggers, http } = deps;
  const tags = ['messaging'];
  const AnyView = anyViewSchema();
  return async function (app: HttpServer) {
    app.get('/v1/messaging/triggers', {
      schema: {
        tags, summary: 'List the member triggers with their effective settings and defaults',
        description: 'Each item is the view of GET /v1/messaging/triggers/{trigger} (see there for each trigger\'s settings).',
        querystring: Obj(PageQuery), response: { 200: Page(AnyView), ...problems(400, 401) },
      },
    }, async (req) => {
      // In the order of MEMBER_TRIGGERS; the cursor names the last trigger of the page.
      const all = await triggers.list(db, tenantOf(req).tenantId);
      const after = decodeCursor(req.query.cursor, isTriggerCursor)?.trigger;
      const from = after === undefined ? 0 : all.findIndex((v) => v.trigger === after) + 1;
      return page(all.slice(from, from + req.query.limit + 1), req.query.limit, (v) => v, (v) => ({ trigger: v.trigger }));
    });

    app.get('/v1/messaging/triggers/win_back/results', {
      schema: {
        tags, summary: 'Win-back results: treated against the held-out control group',
        description: 'Members given a win-back message (treated) or held out (control) in [from, to): who bought within `days` after the message, revenue per member, and the difference treated − control with a 95 % interval (Welch).',
        querystring: ResultsQuery, response: { 200: Results, ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const to = q.to ? new Date(q.to) : deps.now();
      const from = q.from ? new Date(q.from) : new Date(to.getTime() - 90 * DAY_MS);
      return triggers.winBackResults(db, tenantOf(req).tenantId, from, to, q.days);
    });

    for (const trigger of MEMBER_TRIGGERS) {
      const url = `/v1/messaging/triggers/${trigger}`;
      const View = viewSchema(trigger);
      const Body = bodySchema(trigger);
      app.get(url, {
        schema: { tags, summary: `The ${trigger} trigger`, response: { 200: View, ...problems(401) } },
      }, (req) => triggers.get(db, tenantOf(req).tenantId, trigger));

      for (const method of ['put', 'patch'] as const) {
        app[method](url, {
          config: { auth: 'admin' },
          attachValidation: true,
          schema: {
            tags,
            summary: method === 'put' ? `Set the ${trigger} trigger (fields left out go back to their defaults)` : `Change the ${trigger} trigger (only the fields sent)`,
            description: 'An offer (birthday, anniversary, win_back) gives exactly one of points or reward_id; the reward must exist. Emits `message_trigger.updated`.',
            body: Body, response: { 200: View, ...problems(400, 401, 403, 409) },
          },
        }, async (req, reply) => {
          rejectBadBody(req, (b) => triggers.checkBody(trigger, b));
          return http.write(req, reply, { resource: 'message_trigger', resourceId: () => trigger },
            (tx) => triggers.update(tx, tenantOf(req).tenantId, trigger, req.body as TriggerBody, method === 'put'));
        });
      }
    }
  };
}
