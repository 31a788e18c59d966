/** Redemptions and checkout holds over HTTP. */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { actorOf } from '../ledger/ledger.routes.js';
import { CancelledRedemption, CaptureBody, CaptureResult, Hold, HoldBody, ListRedemptionsQuery, RedeemBody, Redemption } from './redemptions.schema.js';
import type { RedemptionsService } from './redemptions.service.js';

export function redemptionsRoutes(deps: { db: Db; redemptions: RedemptionsService; http: HttpKit }) {
  const { db, redemptions, http } = deps;
  const R = Type.Ref(Redemption);
  const H = Type.Ref(Hold);
  return async function (app: HttpServer) {
    app.addSchema(Redemption);
    app.addSchema(Hold);

    // ── Redemptions ──────────────────────────────────────────────────────
    const tags = ['redemptions'];

    app.post('/v1/redemptions', {
      schema: {
        tags, summary: 'Redeem points',
        description: 'Spends the points at once (oldest expiry first) and emits `redemption.created`. 422 `insufficient_points` beyond the available points; 422 for a blocked or erased member. Send an Idempotency-Key: a retry then never spends twice.',
        body: RedeemBody, response: { 201: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'redemption', status: 201 }, (tx) => redemptions.redeem(tx, tenantOf(req).tenantId, req.body, actorOf(req))));

    app.get('/v1/redemptions', {
      schema: { tags, summary: 'List redemptions, newest first', querystring: ListRedemptionsQuery, response: { 200: Page(R), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await redemptions.list(db, tenantOf(req).tenantId, { memberId: q.member_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/redemptions/:id', {
      schema: { tags, summary: 'Get a redemption', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => redemptions.get(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/redemptions/:id/cancel', {
      schema: {
        tags, summary: 'Cancel a redemption: its points go back',
        description: 'The points go back to the lots they were taken from. Points of lots that expired meanwhile expire at once (`expired_points`), so a cancellation never extends the life of points. Emits `redemption.cancelled`; cancelling twice is a 422.',
        params: IdParams, response: { 200: CancelledRedemption, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'redemption', changedFields: ['status'] }, (tx) => redemptions.cancel(tx, tenantOf(req).tenantId, req.params.id, actorOf(req))));

    // ── Checkout holds ───────────────────────────────────────────────────
    const holdTags = ['holds'];

    app.post('/v1/holds', {
      schema: {
        tags: holdTags, summary: 'Reserve points for a checkout',
        description: 'The points are taken out of `available` into `held` until the hold is captured, released or expires. 422 `insufficient_points` beyond the available points; 422 for a blocked or erased member.',
        body: HoldBody, response: { 201: H, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'hold', status: 201 }, (tx) => redemptions.hold(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/holds/:id', {
      schema: { tags: holdTags, summary: 'Get a hold', params: IdParams, response: { 200: H, ...problems(400, 401, 404) } },
    }, async (req) => redemptions.getHold(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/holds/:id/capture', {
      // The body is optional: a POST without one captures everything held.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags: holdTags, summary: 'Capture a hold: redeem its points (all, or part and release the rest)',
        description: 'Makes a redemption (with `hold_id`) of `points` (default all held); the rest goes back to the member. A hold past its expiry is a 422 (its points already went back).',
        params: IdParams, body: CaptureBody, response: { 200: CaptureResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      await redemptions.releaseIfExpired(db, tenantOf(req).tenantId, req.params.id);
      return http.write(req, reply, { resource: 'hold', changedFields: ['status'], resourceId: (r: { hold: { id: string } }) => r.hold.id },
        (tx) => redemptions.capture(tx, tenantOf(req).tenantId, req.params.id, req.body?.points, actorOf(req)));
    });

    app.post('/v1/holds/:id/release', {
      schema: {
        tags: holdTags, summary: 'Release a hold: its points go back to the member',
        description: 'A hold past its expiry is a 422 (its points already went back).',
        params: IdParams, response: { 200: H, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      await redemptions.releaseIfExpired(db, tenantOf(req).tenantId, req.params.id);
      return http.write(req, reply, { resource: 'hold', changedFields: ['status'] }, (tx) => redemptions.release(tx, tenantOf(req).tenantId, req.params.id));
    });
  };
}
