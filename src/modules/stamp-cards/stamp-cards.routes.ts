/**
 * Stamp cards over HTTP: card types (/v1/stamp-card-types, admin writes), a member's cards and stamp history, and
 * manual stamps.
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
  CreateStampCardTypeBody, ListTypesQuery, ManualStampBody, MemberCardsQuery, MemberStampCard, StampCardType, StampEvent, StampEventsQuery,
  StampResult, UpdateStampCardTypeBody, type CreateStampCardTypeInput, type ManualStampInput, type UpdateStampCardTypeInput,
} from './stamp-cards.schema.js';
import type { StampCardsService } from './stamp-cards.service.js';

export function stampCardsRoutes(deps: { db: Db; stampCards: StampCardsService; http: HttpKit }) {
  const { db, stampCards, http } = deps;
  const tags = ['stamp cards'];
  const T = Type.Ref(StampCardType);
  return async function (app: HttpServer) {
    app.addSchema(StampCardType);
    app.addSchema(MemberStampCard);
    app.addSchema(StampEvent);

    app.post('/v1/stamp-card-types', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a stamp card type',
        description: 'From now on every purchase (or visit) that qualifies stamps the member\'s current card of this type; a full card gives `reward` and the next card starts with the stamps that did not fit. Emits `stamp_card_type.created`.',
        body: CreateStampCardTypeBody, response: { 201: T, ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => stampCards.checkCreate(body));
      return http.write(req, reply, { resource: 'stamp_card_type', status: 201 }, (tx) => stampCards.create(tx, tenantOf(req).tenantId, req.body as CreateStampCardTypeInput));
    });

    app.get('/v1/stamp-card-types', {
      schema: { tags, summary: 'List stamp card types, oldest first', querystring: ListTypesQuery, response: { 200: Page(T), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await stampCards.list(db, tenantOf(req).tenantId, { includeArchived: q.include_archived ?? false, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/stamp-card-types/:id', {
      schema: { tags, summary: 'Get a stamp card type', params: IdParams, response: { 200: T, ...problems(400, 401, 404) } },
    }, async (req) => stampCards.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/stamp-card-types/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change a stamp card type',
        description: 'Applies to stamps given from now on; open cards keep the stamps_needed they started with. An archived type is a 422. Emits `stamp_card_type.updated`.',
        params: IdParams, body: UpdateStampCardTypeBody, response: { 200: T, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => stampCards.checkPatch(body));
      return http.write(req, reply, { resource: 'stamp_card_type' }, (tx) => stampCards.update(tx, tenantOf(req).tenantId, req.params.id, req.body as UpdateStampCardTypeInput));
    });

    app.delete('/v1/stamp-card-types/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Archive a stamp card type: no stamps from now on',
        description: 'Members keep their cards, history and rewards; returns of earlier purchases still take their stamps back. Archiving again answers with the archived type. Emits `stamp_card_type.archived`.',
        params: IdParams, response: { 200: T, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'stamp_card_type', changedFields: ['status'] }, (tx) => stampCards.archive(tx, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/stamp-card-types/:id/stamps', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: "Give or take stamps by hand (admin)",
        description: 'Stamps given may fill cards: each full card gives its reward at once. Stamps taken come off the current card (which may go below zero). '
          + 'The stamp history records the reason and the API key. 422 for an archived type or a blocked or erased member. Send an Idempotency-Key: a retry never stamps twice.',
        params: IdParams, body: ManualStampBody, response: { 201: StampResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => ((body as { stamps?: unknown } | null)?.stamps === 0 ? [{ field: 'stamps', detail: 'must not be 0' }] : []));
      return http.write(req, reply, { resource: 'stamp_card', status: 201, resourceId: (r: { card: { card_id: string | null } }) => r.card.card_id },
        (tx) => stampCards.stamp(tx, tenantOf(req).tenantId, req.params.id, req.body as ManualStampInput, actorOf(req)));
    });

    app.get('/v1/members/:id/stamp-cards', {
      schema: {
        tags, summary: "A member's stamp cards: the current card of each type, progress and cards completed",
        params: IdParams, querystring: MemberCardsQuery, response: { 200: Page(Type.Ref(MemberStampCard)), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await stampCards.memberCards(db, tenantOf(req).tenantId, req.params.id, { includeArchived: q.include_archived ?? false, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.type_id }));
    });

    app.get('/v1/members/:id/stamp-events', {
      schema: {
        tags, summary: "A member's stamp history, newest first: every stamp given or taken, and why",
        params: IdParams, querystring: StampEventsQuery, response: { 200: Page(Type.Ref(StampEvent)), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await stampCards.history(db, tenantOf(req).tenantId, req.params.id, { typeId: q.type_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, ({ member_id: _m, ...r }) => r, (r) => ({ id: r.id }));
    });
  };
}
