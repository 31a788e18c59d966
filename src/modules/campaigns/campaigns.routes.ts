/**
 * Campaigns over HTTP (/v1/campaigns): create and change drafts, launch, cancel, read with spend tracking, the
 * awards, and the results (treatment against control). Changing campaigns needs an admin key.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  Campaign, CampaignAward, CampaignResults, CancelBody, CreateCampaignBody, ListAwardsQuery, ListCampaignsQuery, UpdateCampaignBody,
  type CreateCampaignInput, type UpdateCampaignInput,
} from './campaigns.schema.js';
import type { AwardRow, CampaignsService } from './campaigns.service.js';

/** The API shape of an award: without the lot dates kept for giving points back. */
export function awardView(a: AwardRow) {
  const { activates_at: _a, expires_at: _e, ...rest } = a;
  return rest;
}

export function campaignsRoutes(deps: { db: Db; campaigns: CampaignsService; http: HttpKit }) {
  const { db, campaigns, http } = deps;
  const tags = ['campaigns'];
  const C = Type.Ref(Campaign);
  return async function (app: HttpServer) {
    app.addSchema(Campaign);
    app.addSchema(CampaignAward);
    app.addSchema(CampaignResults);

    app.post('/v1/campaigns', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a campaign (a draft)',
        description: 'Kinds: points_multiplier (double points), category_bonus, action_bonus (points); extra_stamp (stamps on an active stamp card type: 400 for an unknown one, 422 for an archived one; no budget). Conditions, budget, limits per member and a control group share are optional. Emits `campaign.created`.',
        body: CreateCampaignBody, response: { 201: C, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => campaigns.checkCreate(body));
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'campaign', status: 201 }, (tx) => campaigns.create(tx, auth.tenantId, req.body as CreateCampaignInput, auth.keyId));
    });

    app.get('/v1/campaigns', {
      schema: { tags, summary: 'List campaigns (newest first)', querystring: ListCampaignsQuery, response: { 200: Page(C), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await campaigns.list(db, tenantOf(req).tenantId, { status: q.status, kind: q.kind, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/campaigns/:id', {
      schema: { tags, summary: 'A campaign with its spend: budget, spent, awards, members reached, group sizes, baseline', params: IdParams, response: { 200: C, ...problems(400, 401, 404) } },
    }, async (req) => campaigns.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/campaigns/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: { tags, summary: 'Change a draft campaign', params: IdParams, body: UpdateCampaignBody, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) } },
    }, async (req, reply) => {
      const auth = tenantOf(req);
      const kind = await campaigns.kindOf(db, auth.tenantId, req.params.id);
      rejectBadBody(req, (body) => campaigns.checkPatch(body, kind));
      return http.write(req, reply, { resource: 'campaign' }, (tx) => campaigns.update(tx, auth.tenantId, req.params.id, req.body as UpdateCampaignInput));
    });

    app.post('/v1/campaigns/:id/launch', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Launch a draft: scheduled until starts_at, then running',
        description: 'A money budget becomes points at the program\'s points_value now. Within a minute the `campaigns.launch` job assigns every eligible active member to treatment or control and records the baseline. Emits `campaign.launched`.',
        params: IdParams, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'campaign', changedFields: ['status'] }, (tx) => campaigns.launch(tx, auth.tenantId, req.params.id));
    });

    app.post('/v1/campaigns/:id/cancel', {
      config: { auth: 'admin' },
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags, summary: 'Cancel a campaign: nothing more is awarded (awards given stay)', params: IdParams, body: CancelBody,
        response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => {
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'campaign', changedFields: ['status'] }, (tx) => campaigns.cancel(tx, auth.tenantId, req.params.id, req.body?.reason));
    });

    app.get('/v1/campaigns/:id/awards', {
      schema: { tags, summary: 'What the campaign gave (or held back) per qualifying order or event, newest first', params: IdParams, querystring: ListAwardsQuery, response: { 200: Page(Type.Ref(CampaignAward)), ...problems(400, 401, 404) } },
    }, async (req) => {
      const q = req.query;
      const rows = await campaigns.awards(db, tenantOf(req).tenantId, req.params.id, { memberId: q.member_id, outcome: q.outcome, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, awardView, (r) => ({ id: r.id }));
    });

    app.get('/v1/campaigns/:id/results', {
      schema: { tags, summary: 'Treatment against control during the campaign: members, purchasing members, orders, spend, and the lift', params: IdParams, response: { 200: Type.Ref(CampaignResults), ...problems(400, 401, 404) } },
    }, async (req) => campaigns.results(db, tenantOf(req).tenantId, req.params.id));
  };
}
