/**
 * Members over HTTP. Addressable by Patron id (`/v1/members/{id}`) and by the
 * shop's id (`/v1/members/by-external-id/{external_id}`, or
 * `GET /v1/members?external_id=…`).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isAtIdCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, PageQuery, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import {
  BlockBody, ConsentChangeBody, ConsentEvent, CreateMemberBody, ExternalIdParams, ListMembersQuery, Member, MemberExport, UpdateMemberBody,
} from './members.schema.js';
import type { MembersService } from './members.service.js';

/**
 * Create and update bodies are checked in two layers, the schema and the
 * service's semantic rules (real dates, IANA zones, attribute limits). Routes
 * that use this run with `attachValidation` and report both layers' errors in
 * one 400, so a client sees every bad field at once — before any write, so a
 * rejected request is never stored under its Idempotency-Key.
 */
function rejectBadBody(req: FastifyRequest, members: MembersService): void {
  const failed = req.validationError as (Error & { validation?: any[]; validationContext?: string }) | undefined;
  const schemaErrs = failed?.validation ? ajvToFieldErrors(failed.validation, failed.validationContext) : [];
  if (failed && !failed.validation) throw failed;
  if (failed && failed.validationContext !== 'body') throw errors.validation(schemaErrs);
  const seen = new Set(schemaErrs.map((e) => e.field));
  const all = [...schemaErrs, ...members.checkFields(req.body).filter((e) => !seen.has(e.field))];
  if (all.length) throw errors.validation(all);
}

export function membersRoutes(deps: { db: Db; members: MembersService; http: HttpKit }) {
  const { db, members, http } = deps;
  const tags = ['members'];
  const M = Type.Ref(Member);
  return async function (app: HttpServer) {
    app.addSchema(Member);
    app.addSchema(ConsentEvent);

    app.post('/v1/members', {
      attachValidation: true,
      schema: { tags, summary: 'Create a member', body: CreateMemberBody, response: { 201: M, ...problems(400, 401, 403, 409) } },
    }, async (req, reply) => {
      rejectBadBody(req, members);
      return http.write(req, reply, { resource: 'member', status: 201 }, (tx) => members.create(tx, tenantOf(req).tenantId, req.body));
    });

    app.get('/v1/members', {
      schema: { tags, summary: 'List and search members', querystring: ListMembersQuery, response: { 200: Page(M), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await members.list(db, tenantOf(req).tenantId, {
        externalId: q.external_id, email: q.email, phone: q.phone, q: q.q, status: q.status, locale: q.locale,
        enrolledAfter: q.enrolled_after ? new Date(q.enrolled_after) : undefined, enrolledBefore: q.enrolled_before ? new Date(q.enrolled_before) : undefined,
        afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/members/:id', {
      schema: { tags, summary: 'Get a member', params: IdParams, response: { 200: M, ...problems(400, 401, 404) } },
    }, async (req) => members.get(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/members/by-external-id/:external_id', {
      schema: { tags, summary: "Get a member by the shop's external id", params: ExternalIdParams, response: { 200: M, ...problems(400, 401, 404) } },
    }, async (req) => members.getByExternalId(db, tenantOf(req).tenantId, req.params.external_id));

    app.patch('/v1/members/:id', {
      attachValidation: true,
      schema: { tags, summary: 'Update a member (only the fields sent)', params: IdParams, body: UpdateMemberBody, response: { 200: M, ...problems(400, 401, 403, 404, 409, 422) } },
    }, async (req, reply) => {
      rejectBadBody(req, members);
      return http.write(req, reply, { resource: 'member' }, (tx) => members.update(tx, tenantOf(req).tenantId, req.params.id, req.body));
    });

    app.patch('/v1/members/by-external-id/:external_id', {
      attachValidation: true,
      schema: { tags, summary: "Update a member by the shop's external id", params: ExternalIdParams, body: UpdateMemberBody, response: { 200: M, ...problems(400, 401, 403, 404, 409, 422) } },
    }, async (req, reply) => {
      rejectBadBody(req, members);
      return http.write(req, reply, { resource: 'member' }, async (tx) => {
        const tenantId = tenantOf(req).tenantId;
        const member = await members.getByExternalId(tx, tenantId, req.params.external_id);
        return members.update(tx, tenantId, member.id, req.body);
      });
    });

    app.post('/v1/members/:id/block', {
      // The body (a reason) is optional: a POST without one is validated as `{}`.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: { tags, summary: 'Block a member (their orders are kept but earn nothing)', params: IdParams, body: BlockBody, response: { 200: M, ...problems(400, 401, 403, 404, 422) } },
    }, (req, reply) => http.write(req, reply, { resource: 'member', changedFields: ['status'] }, (tx) => members.block(tx, tenantOf(req).tenantId, req.params.id, req.body?.reason)));

    app.post('/v1/members/:id/unblock', {
      schema: { tags, summary: 'Unblock a member', params: IdParams, response: { 200: M, ...problems(400, 401, 403, 404, 422) } },
    }, (req, reply) => http.write(req, reply, { resource: 'member', changedFields: ['status'] }, (tx) => members.unblock(tx, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/members/:id/consents', {
      schema: { tags, summary: 'Grant or withdraw marketing consent for a channel', params: IdParams, body: ConsentChangeBody, response: { 200: M, ...problems(400, 401, 403, 404, 422) } },
    }, (req, reply) =>
      http.write(req, reply, { resource: 'member', changedFields: [`consent.${req.body.channel}`] }, (tx) => members.changeConsent(tx, tenantOf(req).tenantId, req.params.id, req.body)));

    app.get('/v1/members/:id/consents', {
      schema: { tags, summary: 'Consent history: every grant and withdrawal, oldest first', params: IdParams, querystring: Type.Object(PageQuery), response: { 200: Page(Type.Ref(ConsentEvent)), ...problems(400, 401, 404) } },
    }, async (req) => {
      const after = decodeCursor(req.query.cursor, isAtIdCursor);
      const rows = await members.consentHistory(db, tenantOf(req).tenantId, req.params.id, { after, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, (r) => r, (r) => ({ at: r.occurred_at.toISOString(), id: r.id }));
    });

    app.get('/v1/members/:id/export', {
      config: { auth: 'admin' },
      schema: { tags: ['members', 'gdpr'], summary: 'GDPR: everything Patron holds about a member', params: IdParams, response: { 200: MemberExport, ...problems(400, 401, 403, 404) } },
    }, async (req) => members.exportAll(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/members/:id/erase', {
      config: { auth: 'admin' },
      schema: { tags: ['members', 'gdpr'], summary: 'GDPR: erase a member (personal fields anonymised, amounts kept)', params: IdParams, response: { 200: M, ...problems(400, 401, 403, 404) } },
    }, (req, reply) => http.write(req, reply, { resource: 'member', changedFields: ['erased'] }, (tx) => members.erase(tx, tenantOf(req).tenantId, req.params.id)));
  };
}
