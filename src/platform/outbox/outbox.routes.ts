/**
 * GET /v1/domain-events: the outbox as written, oldest first. Webhook delivery
 * (the messaging module) reads the same table.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/db.js';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, page } from '../http/pagination.js';
import { Nullable, Page, PageQuery, problems, Timestamp, Uuid } from '../http/schema.js';
import type { HttpServer } from '../http/server.js';
import { listEvents } from './outbox.js';

const DomainEvent = Type.Object(
  {
    id: Uuid(),
    type: Type.String({ description: 'e.g. member.created' }),
    aggregate_type: Type.String(),
    aggregate_id: Type.String(),
    member_id: Nullable(Uuid()),
    payload: Type.Record(Type.String(), Type.Unknown()),
    occurred_at: Timestamp(),
  },
  { $id: 'DomainEvent' },
);

// A bigint in SQL: a safe, non-negative integer, or the cursor is not one of ours.
const isSeqCursor = (v: any): v is { seq: number } => typeof v === 'object' && v !== null && Number.isSafeInteger(v.seq) && v.seq >= 0;

export function outboxRoutes(deps: { db: Db }) {
  return async function (app: HttpServer) {
    app.addSchema(DomainEvent);
    app.get('/v1/domain-events', {
      schema: {
        tags: ['events'],
        summary: 'Domain events written by every change, oldest first',
        querystring: Type.Object({
          ...PageQuery,
          type: Type.Optional(Type.String({ maxLength: 100 })),
          aggregate_id: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: Page(Type.Ref(DomainEvent)), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await listEvents(deps.db, tenantOf(req).tenantId, {
        afterSeq: decodeCursor(q.cursor, isSeqCursor)?.seq, type: q.type, aggregateId: q.aggregate_id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ seq: r.seq }));
    });
  };
}
