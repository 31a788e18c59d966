/**
 * The rewards catalog over HTTP: rewards (admin), the catalog as a member sees it, reward redemptions (redeem,
 * fulfilment, RSVP, cancel) and sweepstakes draws.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import { actorOf } from '../ledger/ledger.routes.js';
import {
  CreateRewardBody, Draw, DrawBody, ListRewardRedemptionsQuery, ListRewardsQuery, MemberReward, MemberRewardsQuery, RedeemRewardBody, Reward,
  RewardRedemption, UpdateRewardBody, UpdateRewardRedemptionBody, type CreateRewardInput, type UpdateRewardInput,
} from './rewards.schema.js';
import type { RewardsService } from './rewards.service.js';

export function rewardsRoutes(deps: { db: Db; rewards: RewardsService; http: HttpKit }) {
  const { db, rewards, http } = deps;
  const R = Type.Ref(Reward);
  const RR = Type.Ref(RewardRedemption);
  const D = Type.Ref(Draw);
  return async function (app: HttpServer) {
    app.addSchema(Reward);
    app.addSchema(MemberReward);
    app.addSchema(RewardRedemption);
    app.addSchema(Draw);

    // ── The catalog (admin) ──────────────────────────────────────────────
    const tags = ['rewards'];

    app.post('/v1/rewards', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a reward',
        description: 'A reward of the catalog with a points price (optionally per tier), availability (dates, tiers, audience, stock, limits per member and per period) and texts in en, bg, ru, ro, pl. Emits `reward.created`.',
        body: CreateRewardBody, response: { 201: R, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => rewards.checkCreate(body));
      return http.write(req, reply, { resource: 'reward', status: 201 }, (tx) => rewards.create(tx, tenantOf(req).tenantId, req.body as CreateRewardInput, actorOf(req)));
    });

    app.get('/v1/rewards', {
      schema: { tags, summary: 'List rewards (oldest first)', querystring: ListRewardsQuery, response: { 200: Page(R), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await rewards.list(db, tenantOf(req).tenantId, { kind: q.kind, includeArchived: q.include_archived ?? false, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/rewards/:id', {
      schema: { tags, summary: 'Get a reward', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => rewards.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/rewards/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change a reward',
        description: 'The fields sent replace the current ones (null clears an optional one); `stock` sets the units left. Prices and limits apply to redemptions from now on. Emits `reward.updated` (or `reward.archived`).',
        params: IdParams, body: UpdateRewardBody, response: { 200: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      const kind = req.params?.id ? await rewards.kindOf(db, tenantOf(req).tenantId, req.params.id).catch(() => null) : null;
      rejectBadBody(req, (body) => rewards.checkPatch(body, kind));
      return http.write(req, reply, { resource: 'reward' }, (tx) => rewards.update(tx, tenantOf(req).tenantId, req.params.id, req.body as UpdateRewardInput, actorOf(req)));
    });

    app.delete('/v1/rewards/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Archive a reward: it leaves the catalog and cannot be redeemed',
        description: 'What members redeemed stays (and can still be fulfilled or cancelled). PATCH `status: active` brings it back. Emits `reward.archived`.',
        params: IdParams, response: { 200: R, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'reward', changedFields: ['status'] }, (tx) => rewards.archive(tx, tenantOf(req).tenantId, req.params.id, actorOf(req))));

    app.post('/v1/rewards/:id/draws', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Draw the winners of a sweepstakes (once)',
        description: 'Picks `winners` distinct members among the entries with the seed committed when the sweepstakes was created (its SHA-256 is the reward\'s `sweepstakes.seed_sha256`). The answer reveals the seed and holds the entrant list and the algorithm, so anyone can re-run the draw. No entry is taken afterwards. Emits `reward.draw_completed`.',
        params: IdParams, body: DrawBody, response: { 201: D, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'reward_draw', status: 201 }, (tx) => rewards.draw(tx, tenantOf(req).tenantId, req.params.id, req.body.winners, actorOf(req))));

    app.get('/v1/rewards/:id/draws', {
      schema: { tags, summary: 'The draw of a sweepstakes, for audit (empty before the draw)', params: IdParams, response: { 200: Page(D), ...problems(400, 401, 404) } },
    }, async (req) => ({ data: await rewards.draws(db, tenantOf(req).tenantId, req.params.id), next_cursor: null }));

    app.get('/v1/members/:id/rewards', {
      schema: {
        tags, summary: 'The catalog as a member sees it',
        description: 'Active rewards in the member\'s language (`locale`, else en), at the member\'s price (their tier\'s), with `available` and the `reasons` why not: member_not_active, not_started, ended, tier, audience, out_of_stock, full, drawn, limit_reached, insufficient_points.',
        params: IdParams, querystring: MemberRewardsQuery, response: { 200: Page(Type.Ref(MemberReward)), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await rewards.catalog(db, tenantOf(req).tenantId, req.params.id, {
        afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1, availableOnly: q.available_only ?? false, locale: q.locale,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    // ── Reward redemptions ───────────────────────────────────────────────
    const rtags = ['reward redemptions'];

    app.post('/v1/reward-redemptions', {
      schema: {
        tags: rtags, summary: 'Redeem a reward',
        description: 'Spends the member\'s price in points (a redemption in the ledger; 422 `insufficient_points`) and fulfils the reward in the same transaction: a voucher is issued, cashback credited to the wallet, a seat taken (or the waitlist), a gift put in fulfilment, sweepstakes entries or a donation recorded. 422 with the reasons when the reward is not available to the member. Send an Idempotency-Key: a retry never redeems twice. Emits `reward.redeemed` (and `reward.out_of_stock` for the last unit).',
        body: RedeemRewardBody, response: { 201: RR, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'reward_redemption', status: 201 }, (tx) => rewards.redeem(tx, tenantOf(req).tenantId, req.body, actorOf(req))));

    app.get('/v1/reward-redemptions', {
      schema: { tags: rtags, summary: 'List reward redemptions (newest first), of a member and/or a reward', querystring: ListRewardRedemptionsQuery, response: { 200: Page(RR), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await rewards.listRedemptions(db, tenantOf(req).tenantId, { memberId: q.member_id, rewardId: q.reward_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/reward-redemptions/:id', {
      schema: { tags: rtags, summary: 'Get a reward redemption', params: IdParams, response: { 200: RR, ...problems(400, 401, 404) } },
    }, async (req) => rewards.getRedemption(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/reward-redemptions/:id', {
      schema: {
        tags: rtags, summary: 'Update fulfilment (physical gifts) or RSVP (event invitations)',
        description: 'Physical gifts: `fulfilment_status` pending -> shipped -> delivered (or straight to delivered), `tracking_ref`, `note`, `shipping_address` while pending; `cancelled` before delivery refunds the points and returns the stock. Event invitations: `rsvp: declined` frees the seat for the first waitlisted member and refunds the points; `rsvp: accepted` seats a waitlisted invitation when a seat is free. Emits `reward.fulfilment_updated`.',
        params: IdParams, body: UpdateRewardRedemptionBody, response: { 200: RR, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'reward_redemption' }, (tx) => rewards.updateRedemption(tx, tenantOf(req).tenantId, req.params.id, req.body, actorOf(req))));

    app.post('/v1/reward-redemptions/:id/cancel', {
      schema: {
        tags: rtags, summary: 'Cancel a reward redemption: points and stock come back',
        description: 'The points go back (as for a cancelled redemption), the stock and the seat too. A delivered gift or an entry of a drawn sweepstakes cannot be cancelled; cashback is taken back from the wallet; a voucher reward is cancelled by cancelling its voucher. Emits `reward.redemption_cancelled`; twice is a 422.',
        params: IdParams, response: { 200: RR, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'reward_redemption', changedFields: ['status'] }, (tx) => rewards.cancel(tx, tenantOf(req).tenantId, req.params.id, actorOf(req))));
  };
}
