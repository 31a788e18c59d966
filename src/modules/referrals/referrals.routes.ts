/**
 * The referral program over HTTP: its settings, a member's code and referrals, attributions of new members, and
 * the review queue.
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
  AttributeBody, ListReferralsQuery, MemberReferral, Referral, ReferralProgram, RejectBody, SignalsBody, SignalsRecorded,
  UpdateReferralProgramBody, type AttributeInput, type ReferralProgramPatch, type SignalsInput,
} from './referrals.schema.js';
import { attributionErrors, referralView, signalErrors, type AttributeResult, type ReferralRow, type ReferralsService } from './referrals.service.js';

export function referralsRoutes(deps: { db: Db; referrals: ReferralsService; http: HttpKit }) {
  const { db, referrals, http } = deps;
  const tags = ['referrals'];
  const R = Type.Ref(Referral);
  return async function (app: HttpServer) {
    app.addSchema(ReferralProgram);
    app.addSchema(Referral);
    app.addSchema(MemberReferral);

    app.get('/v1/referral-program', {
      schema: { tags, summary: 'The referral program settings (the defaults, disabled, until first changed)', response: { 200: Type.Ref(ReferralProgram), ...problems(401) } },
    }, async (req) => referrals.settingsOf(db, tenantOf(req).tenantId));

    app.patch('/v1/referral-program', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change referral program settings (only the fields sent)',
        description: 'Gifts are `{points?, reward_id?, credit?}`. A referral keeps the terms (gifts, minimum, windows) in force when it was attributed; milestones are read when a referral converts. Emits `referral_program.updated`.',
        body: UpdateReferralProgramBody, response: { 200: Type.Ref(ReferralProgram), ...problems(400, 401, 403, 404, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => referrals.checkSettings(body));
      return http.write(req, reply, { resource: 'referral_program', resourceId: () => tenantOf(req).tenantId }, (tx) => referrals.updateSettings(tx, tenantOf(req).tenantId, req.body as ReferralProgramPatch));
    });

    app.get('/v1/members/:id/referral', {
      schema: {
        tags, summary: "A member's referral code, share link, stats and referrals",
        description: 'The code is made on the first read (8 characters without look-alikes, unique in the tenant; emits `referral_code.created`).',
        params: IdParams, response: { 200: Type.Ref(MemberReferral), ...problems(400, 401, 404) },
      },
    }, async (req) => db.tx((tx) => referrals.memberReferral(tx, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/members/:id/referral-signals', {
      attachValidation: true,
      schema: {
        tags, summary: "Record a member's device, IP or payment fingerprint",
        description: 'Kept as hashes. A later sign-up on this member\'s code with the same signal goes to the review queue (when that guard is on). Attributions record the new member\'s signals themselves.',
        params: IdParams, body: SignalsBody, response: { 200: SignalsRecorded, ...problems(400, 401, 403, 404, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, signalErrors);
      return http.write(req, reply, { resource: 'member' }, (tx) => referrals.recordSignals(tx, tenantOf(req).tenantId, req.params.id, req.body as SignalsInput));
    });

    app.post('/v1/referrals', {
      attachValidation: true,
      schema: {
        tags, summary: 'Attribute a new member to the referral code they signed up with',
        description: 'One attribution per member: a re-send with the same body answers 200 with the first, another body is a 409. '
          + '422 (nothing stored): the program is disabled, an unknown code, a self-referral (own code; the referrer\'s email after normalisation — case, +tags, Gmail dots — or phone), '
          + 'a member who has purchased before, a blocked or erased member. Stored as `rejected` (reason `limit_reached`) beyond the referrer\'s limit per period; '
          + 'as `in_review` when a guard flags it (shared device/IP/payment fingerprint, a burst of sign-ups on the code, a disposable email domain). '
          + 'Emits `referral.attributed` and `referral.rejected` or `referral.flagged`.',
        body: AttributeBody, response: { 200: R, 201: R, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, attributionErrors);
      return http.write(req, reply, {
        resource: 'referral', statusOf: (r: AttributeResult) => (r.created ? 201 : 200), bodyOf: (r: AttributeResult) => referralView(r.referral),
        resourceId: (r: AttributeResult) => r.referral.id,
      }, (tx) => referrals.attribute(tx, tenantOf(req).tenantId, req.body as AttributeInput));
    });

    app.get('/v1/referrals', {
      schema: {
        tags, summary: 'List referrals, newest first (the review queue: ?status=in_review)',
        querystring: ListReferralsQuery, response: { 200: Page(R), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await referrals.list(db, tenantOf(req).tenantId, {
        status: q.status, referrerId: q.referrer_id, refereeId: q.referee_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, referralView, (r) => ({ id: r.id }));
    });

    app.get('/v1/referrals/:id', {
      schema: { tags, summary: 'Get a referral', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => referralView(await referrals.get(db, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/referrals/:id/approve', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Approve a referral in review',
        description: 'On to `qualifying` when the referee\'s qualifying purchase came meanwhile, else `pending_purchase` (`expired` past its purchase deadline). Only a referral `in_review` (else 422). Emits `referral.approved`.',
        params: IdParams, response: { 200: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'referral', changedFields: ['status'], bodyOf: (r: ReferralRow) => referralView(r) },
      (tx) => referrals.approve(tx, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/referrals/:id/reject', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Reject a referral (in review, pending a purchase or qualifying)',
        description: 'Nobody gets a gift for it. A converted, rejected or expired referral is a 422. Emits `referral.rejected`.',
        params: IdParams, body: RejectBody, response: { 200: R, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'referral', changedFields: ['status', 'reason'], bodyOf: (r: ReferralRow) => referralView(r) },
      (tx) => referrals.reject(tx, tenantOf(req).tenantId, req.params.id, req.body.reason)));
  };
}
