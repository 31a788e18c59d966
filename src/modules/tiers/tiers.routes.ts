/**
 * Tiers over HTTP: the levels and the tier settings (admin), re-evaluation reports (admin), and members' tiers:
 * current tier with progress, history, manual assignment and invitation (write).
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isAtIdCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  ApplyReevaluationBody, AssignBody, CreateTierBody, ListQuery, MemberTier, Reevaluation, ReevaluationBody, Tier, TierHistoryItem,
  TierSettings, UpdateTierBody, UpdateTierSettingsBody, type AssignInput, type ReevaluationInput, type TierPatch, type TierSettingsPatch,
} from './tiers.schema.js';
import type { ReevaluationRow, TierRow, TiersService, TierSettings as Settings } from './tiers.service.js';

const tierView = (t: TierRow & { members?: number }) => t;
const settingsView = (s: Settings) => s;
const reevaluationView = (r: ReevaluationRow & { stale?: boolean }) => ({ ...r, stale: r.stale ?? false });

type SettingsResult = Awaited<ReturnType<TiersService['updateSettings']>>;
type TierResult = Awaited<ReturnType<TiersService['updateTier']>>;

export function tiersRoutes(deps: { db: Db; tiers: TiersService; http: HttpKit }) {
  const { db, tiers, http } = deps;
  const T = Type.Ref(Tier);
  const S = Type.Ref(TierSettings);
  const R = Type.Ref(Reevaluation);
  const M = Type.Ref(MemberTier);
  const tags = ['tiers'];
  const held = 'A change of how members qualify (rank, thresholds, invitation_only, or any setting) that would move members down who would not move down under the rules in force is not applied: the answer is a 202 with a re-evaluation report (who would move up or down) to apply with POST /v1/tier-reevaluations/{id}/apply. Otherwise 200, and members who now reach a higher tier move up at once.';

  return async function (app: HttpServer) {
    app.addSchema(Tier);
    app.addSchema(TierSettings);
    app.addSchema(Reevaluation);
    app.addSchema(MemberTier);
    app.addSchema(TierHistoryItem);

    // ── Settings ───────────────────────────────────────────────────────────
    app.get('/v1/tier-settings', {
      schema: { tags, summary: 'How members qualify for tiers (the defaults until first changed)', response: { 200: S, ...problems(401) } },
    }, async (req) => settingsView(await tiers.settings(db, tenantOf(req).tenantId)));

    app.patch('/v1/tier-settings', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change the tier settings (only the fields sent)', description: held,
        body: UpdateTierSettingsBody, response: { 200: S, 202: R, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (b) => tiers.checkSettingsFields(b));
      return http.write(req, reply, {
        resource: 'tier_settings', resourceId: () => tenantOf(req).tenantId,
        statusOf: (r: SettingsResult) => ('reevaluation' in r ? 202 : 200),
        bodyOf: (r: SettingsResult) => ('reevaluation' in r ? reevaluationView(r.reevaluation) : settingsView(r.settings)),
      }, (tx) => tiers.updateSettings(tx, tenantOf(req).tenantId, req.body as TierSettingsPatch));
    });

    // ── Tiers ──────────────────────────────────────────────────────────────
    app.get('/v1/tiers', {
      schema: { tags, summary: 'The tiers, lowest rank first, with how many members hold each', response: { 200: Type.Object({ data: Type.Array(T) }), ...problems(401) } },
    }, async (req) => ({ data: (await tiers.listTiers(db, tenantOf(req).tenantId)).map(tierView) }));

    app.post('/v1/tiers', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a tier',
        description: 'Codes and ranks are unique per tenant (409 for a code taken, 400 naming `rank` for a rank taken). A new tier moves nobody down; members who reach it move up at once. Emits `tier.created`.',
        body: CreateTierBody, response: { 201: T, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (b) => tiers.checkTierFields(b));
      return http.write(req, reply, { resource: 'tier', status: 201 }, (tx) => tiers.createTier(tx, tenantOf(req).tenantId, req.body as never));
    });

    app.get('/v1/tiers/:id', {
      schema: { tags, summary: 'A tier', params: IdParams, response: { 200: T, ...problems(400, 401, 404) } },
    }, async (req) => tierView(await tiers.getTier(db, tenantOf(req).tenantId, req.params.id)));

    app.patch('/v1/tiers/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change a tier (only the fields sent)', description: `Names, benefits and the multiplier change at once. ${held}`,
        params: IdParams, body: UpdateTierBody, response: { 200: T, 202: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (b) => tiers.checkTierFields(b));
      const { id } = req.params as { id: string };
      return http.write(req, reply, {
        resource: 'tier', resourceId: () => id,
        statusOf: (r: TierResult) => ('reevaluation' in r ? 202 : 200),
        bodyOf: (r: TierResult) => ('reevaluation' in r ? reevaluationView(r.reevaluation) : tierView(r.tier)),
      }, (tx) => tiers.updateTier(tx, tenantOf(req).tenantId, id, req.body as TierPatch));
    });

    app.delete('/v1/tiers/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Delete a tier nobody holds', description: '422 while members hold it or are being moved down to it. History keeps its code. Emits `tier.deleted`.',
        params: IdParams, response: { 200: T, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'tier', changedFields: ['deleted'] }, (tx) => tiers.deleteTier(tx, tenantOf(req).tenantId, req.params.id)));

    // ── Re-evaluation reports ──────────────────────────────────────────────
    const reTags = ['tier re-evaluations'];

    app.post('/v1/tier-reevaluations', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags: reTags, summary: 'Dry-run tier changes over every member',
        description: 'Judges every member by their figures as of now under the proposed settings and tier changes (none: the rules in force) and records the report: how many move up, down or stay, how many only because of the change, and a sample. Nothing else changes until it is applied. Emits `tier_reevaluation.created`.',
        body: ReevaluationBody, response: { 201: R, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (b) => tiers.checkReevaluation(b));
      return http.write(req, reply, { resource: 'tier_reevaluation', status: 201, bodyOf: reevaluationView }, (tx) => tiers.createReevaluation(tx, tenantOf(req).tenantId, req.body as ReevaluationInput));
    });

    app.get('/v1/tier-reevaluations', {
      schema: { tags: reTags, summary: 'Re-evaluation reports, newest first', querystring: ListQuery, response: { 200: Page(R), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await tiers.listReevaluations(db, tenantOf(req).tenantId, decodeCursor(q.cursor, isIdCursor)?.id, q.limit + 1);
      return page(rows, q.limit, reevaluationView, (r) => ({ id: r.id }));
    });

    app.get('/v1/tier-reevaluations/:id', {
      schema: { tags: reTags, summary: 'A re-evaluation report', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => reevaluationView(await tiers.getReevaluation(db, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/tier-reevaluations/:id/apply', {
      config: { auth: 'admin' },
      schema: {
        tags: reTags, summary: 'Apply a re-evaluation report',
        description: 'The proposed changes take effect; members who now reach a higher tier move up at once; members below their new keep threshold move down at once (`downgrades: now`) or keep their tier until their next evaluation (`next_evaluation`). 422 when applied already, or stale (the rules changed since). Emits `tier_reevaluation.applied` and the members\' tier events.',
        params: IdParams, body: ApplyReevaluationBody, response: { 200: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'tier_reevaluation', bodyOf: reevaluationView }, (tx) => tiers.applyReevaluation(tx, tenantOf(req).tenantId, req.params.id, req.body.downgrades)));

    // ── Members' tiers ─────────────────────────────────────────────────────
    const mTags = ['members', 'tiers'];

    app.get('/v1/members/:id/tier', {
      schema: {
        tags: mTags, summary: "A member's tier: benefits, and what is left to reach the next tier and to keep this one, by when",
        params: IdParams, response: { 200: M, ...problems(400, 401, 404) },
      },
    }, async (req) => tiers.memberTier(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/members/:id/tier/history', {
      schema: {
        tags: mTags, summary: "A member's tier changes, newest first", params: IdParams, querystring: ListQuery,
        response: { 200: Page(Type.Ref(TierHistoryItem)), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await tiers.history(db, tenantOf(req).tenantId, req.params.id, decodeCursor(q.cursor, isAtIdCursor), q.limit + 1);
      return page(rows, q.limit, ({ member_id: _m, ...r }) => r, (r) => ({ at: r.at.toISOString(), id: r.id }));
    });

    app.post('/v1/members/:id/tier/assignment', {
      schema: {
        tags: mTags, summary: 'Give a member a tier by hand',
        description: 'Any tier, until `until` (then the member falls back to the tier they qualify for) or open-ended. Thresholds do not take it away; reaching a higher tier still moves the member up. Emits `tier.assigned`.',
        params: IdParams, body: AssignBody, response: { 200: M, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'member_tier' }, (tx) => tiers.assign(tx, tenantOf(req).tenantId, req.params.id, req.body as AssignInput, 'manual')));

    app.post('/v1/members/:id/tier/invitation', {
      schema: {
        tags: mTags, summary: 'Invite a member to an invitation-only tier',
        description: 'The member holds the tier at once, until `until` or open-ended. 422 for a tier open to qualification. Emits `tier.invited`.',
        params: IdParams, body: AssignBody, response: { 200: M, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'member_tier' }, (tx) => tiers.assign(tx, tenantOf(req).tenantId, req.params.id, req.body as AssignInput, 'invited')));
  };
}
