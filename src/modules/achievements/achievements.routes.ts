/**
 * Achievements over HTTP: badge definitions (/v1/badges, admin writes), a member's badges and progress, the member's
 * leaderboard choice, and the leaderboard.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import { isUuid } from '../../platform/ids.js';
import {
  Badge, CreateBadgeBody, Leaderboard, LeaderboardQuery, ListBadgesQuery, MemberBadge, MemberBadgesQuery, OptIn, OptInBody, UpdateBadgeBody,
  type CreateBadgeInput, type UpdateBadgeInput,
} from './achievements.schema.js';
import type { AchievementsService } from './achievements.service.js';

const isScoreCursor = (v: any): v is { s: number; m: string } =>
  typeof v === 'object' && v !== null && Number.isSafeInteger(v.s) && typeof v.m === 'string' && isUuid(v.m);

export function achievementsRoutes(deps: { db: Db; achievements: AchievementsService; http: HttpKit }) {
  const { db, achievements, http } = deps;
  const tags = ['achievements'];
  const B = Type.Ref(Badge);
  return async function (app: HttpServer) {
    app.addSchema(Badge);
    app.addSchema(MemberBadge);

    app.post('/v1/badges', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a badge',
        description: 'Members earn it once, in the transaction of the order or event that meets its criterion (counting from when achievements exist), with its optional bonus; emits `badge.earned`. Returns never revoke a badge. 409 when the code is taken.',
        body: CreateBadgeBody, response: { 201: B, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => achievements.checkCreate(body));
      return http.write(req, reply, { resource: 'badge', status: 201 }, (tx) => achievements.create(tx, tenantOf(req).tenantId, req.body as CreateBadgeInput));
    });

    app.get('/v1/badges', {
      schema: { tags, summary: 'List badges, oldest first', querystring: ListBadgesQuery, response: { 200: Page(B), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await achievements.list(db, tenantOf(req).tenantId, { includeArchived: q.include_archived ?? false, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/badges/:id', {
      schema: { tags, summary: 'Get a badge', params: IdParams, response: { 200: B, ...problems(400, 401, 404) } },
    }, async (req) => achievements.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/badges/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change a badge', description: 'A new criterion or bonus applies to members who have not earned it yet. An archived badge is a 422.',
        params: IdParams, body: UpdateBadgeBody, response: { 200: B, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => achievements.checkPatch(body));
      return http.write(req, reply, { resource: 'badge' }, (tx) => achievements.update(tx, tenantOf(req).tenantId, req.params.id, req.body as UpdateBadgeInput));
    });

    app.delete('/v1/badges/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Archive a badge: nobody earns it from now on; members who have it keep it',
        params: IdParams, response: { 200: B, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'badge', changedFields: ['status'] }, (tx) => achievements.archive(tx, tenantOf(req).tenantId, req.params.id)));

    app.get('/v1/members/:id/badges', {
      schema: {
        tags, summary: "A member's badges: earned ones, and progress towards the others",
        params: IdParams, querystring: MemberBadgesQuery, response: { 200: Page(Type.Ref(MemberBadge)), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await achievements.memberBadges(db, tenantOf(req).tenantId, req.params.id, { earned: q.earned, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.badge_id }));
    });

    app.get('/v1/members/:id/leaderboard-opt-in', {
      schema: { tags, summary: 'Whether the member appears on leaderboards', params: IdParams, response: { 200: OptIn, ...problems(400, 401, 404) } },
    }, async (req) => achievements.optInState(db, tenantOf(req).tenantId, req.params.id));

    app.put('/v1/members/:id/leaderboard-opt-in', {
      schema: {
        tags, summary: 'The member chooses to appear on leaderboards, or not',
        description: 'Nobody appears on a leaderboard without opting in. Emits `leaderboard.opted_in` / `leaderboard.opted_out` when the choice changes. An erased member is a 422.',
        params: IdParams, body: OptInBody, response: { 200: OptIn, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'leaderboard_opt_in', resourceId: () => req.params.id },
      (tx) => achievements.setOptIn(tx, tenantOf(req).tenantId, req.params.id, req.body.opted_in)));

    app.get('/v1/leaderboard', {
      schema: {
        tags, summary: 'The leaderboard of a week, month or year: opted-in members by points or badges earned in it',
        description: 'Periods are calendar periods in the tenant\'s time zone (ISO weeks from Monday). Only members who opted in and are active appear, with a positive score, as first name and initial.',
        querystring: LeaderboardQuery, response: { 200: Leaderboard, ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      return achievements.leaderboard(db, tenantOf(req).tenantId, {
        period: q.period ?? 'month', by: q.by ?? 'points', at: q.at ? new Date(q.at) : undefined, after: decodeCursor(q.cursor, isScoreCursor), limit: q.limit,
      });
    });
  };
}
