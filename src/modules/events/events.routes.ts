/**
 * Action events over HTTP: record what a member did (and what it earned), read one, list them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { CreateEventBody, ListEventsQuery, MemberEvent } from './events.schema.js';
import type { EventsService, MemberEventRow, RecordEventResult } from './events.service.js';

/** The API shape of an event: the stored row without its bookkeeping (the body digest). */
export function eventView(e: MemberEventRow) {
  const { body_digest: _d, ...rest } = e;
  return rest;
}

export function eventsRoutes(deps: { db: Db; events: EventsService; http: HttpKit }) {
  const { db, events, http } = deps;
  const tags = ['action events'];
  const E = Type.Ref(MemberEvent);

  /**
   * One 400 with every bad field, the schema's and the service's (which field names the member, occurred_at in the
   * future, properties too large), before any write: a rejected request is never stored under an Idempotency-Key.
   */
  function rejectBadEvent(req: FastifyRequest) {
    const failed = req.validationError as (Error & { validation?: any[]; validationContext?: string }) | undefined;
    if (failed && !failed.validation) throw failed;
    const schemaErrs = failed?.validation ? ajvToFieldErrors(failed.validation, failed.validationContext) : [];
    if (failed && failed.validationContext !== 'body') throw errors.validation(schemaErrs);
    const body = req.body;
    const own = body && typeof body === 'object' && !Array.isArray(body) ? events.checkEvent(body) : [];
    const all = [...schemaErrs, ...own.filter((o) => !schemaErrs.some((e) => e.field === o.field))];
    if (all.length) throw errors.validation(all);
  }

  return async function (app: HttpServer) {
    app.addSchema(MemberEvent);

    app.post('/v1/events', {
      attachValidation: true,
      schema: {
        tags, summary: 'Record what a member did (an action bonus)',
        description: 'The event rules (earn rules of kind `event` for this `name`) in force at `occurred_at` decide the points, within their limits '
          + '(e.g. once per member, 3 a day in the tenant\'s time zone) and total caps; the points follow the program\'s pending period and expiry. '
          + 'A blocked or erased member\'s event is stored and earns nothing (`explanation` says why). An unknown member is a 422: events never enrol. '
          + 'Re-sending an event with the same `external_id` and body answers 200 with the first result and never earns twice; another body is a 409. '
          + 'Emits `event.recorded`.',
        body: CreateEventBody,
        response: { 200: E, 201: E, ...problems(400, 401, 403, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadEvent(req);
      return http.write(req, reply, {
        resource: 'member_event', statusOf: (r: RecordEventResult) => (r.created ? 201 : 200), bodyOf: (r: RecordEventResult) => eventView(r.event),
        resourceId: (r: RecordEventResult) => r.event.id,
      }, (tx) => events.record(tx, tenantOf(req).tenantId, req.body));
    });

    app.get('/v1/events/:id', {
      schema: { tags, summary: 'An event: what it earned and why', params: IdParams, response: { 200: E, ...problems(400, 401, 404) } },
    }, async (req) => eventView(await events.get(db, tenantOf(req).tenantId, req.params.id)));

    app.get('/v1/events', {
      schema: { tags, summary: 'List events (newest first), of a member and/or of one name', querystring: ListEventsQuery, response: { 200: Page(E), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await events.list(db, tenantOf(req).tenantId, {
        memberId: q.member_id, name: q.name, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, eventView, (r) => ({ id: r.id }));
    });
  };
}
