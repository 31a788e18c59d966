/**
 * GET /v1/domain-events: the outbox as written, oldest first. Webhook delivery
 * (the messaging module) reads the same table. /v1/domain-events/skips: the events a consumer failed on and
 * skipped (the dispatch's dead-letter), and their retry.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/db.js';
import { tenantOf } from '../http/auth.js';
import type { HttpKit } from '../http/kit.js';
import { decodeCursor, isAtIdCursor, page } from '../http/pagination.js';
import { IdParams, Nullable, Page, PageQuery, problems, Timestamp, Uuid } from '../http/schema.js';
import type { HttpServer } from '../http/server.js';
import type { OutboxDispatcher } from './dispatch.js';
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

const SkippedEvent = Type.Object(
  {
    id: Uuid(),
    event_id: Uuid({ description: 'The event (GET /v1/domain-events?aggregate_id=… finds it; its webhook deliveries by event_id)' }),
    event_type: Type.String(),
    consumer: Type.String({ description: 'What skipped it: webhooks (the fan-out to endpoints) or messaging.triggers' }),
    error: Type.String({ description: 'Why, as the consumer threw it' }),
    skipped_at: Timestamp(),
    retried_at: Nullable(Timestamp({ description: 'When a retry handed it to the consumer; null while skipped' })),
  },
  { $id: 'SkippedEvent' },
);

// A bigint in SQL: a safe, non-negative integer, or the cursor is not one of ours.
const isSeqCursor = (v: any): v is { seq: number } => typeof v === 'object' && v !== null && Number.isSafeInteger(v.seq) && v.seq >= 0;

export function outboxRoutes(deps: { db: Db; dispatcher: OutboxDispatcher; http: HttpKit }) {
  const { db, dispatcher, http } = deps;
  return async function (app: HttpServer) {
    app.addSchema(DomainEvent);
    app.addSchema(SkippedEvent);
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

    app.get('/v1/domain-events/skips', {
      schema: {
        tags: ['events'],
        summary: 'Events a consumer failed on and skipped, newest first',
        description: 'The dispatch hands every event to the webhook fan-out and the message triggers; one that throws on an event (not a database error, which is retried) skips it so that the outbox goes on, and records it here. status open (default): not retried yet; all: retried ones too.',
        querystring: Type.Object({ ...PageQuery, status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('all')], { default: 'open' })) }),
        response: { 200: Page(Type.Ref(SkippedEvent)), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const c = decodeCursor(q.cursor, isAtIdCursor);
      const rows = await dispatcher.listSkips(db, tenantOf(req).tenantId, { open: (q.status ?? 'open') === 'open', before: c && { at: new Date(c.at), id: c.id }, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ at: r.skipped_at.toISOString(), id: r.id }));
    });

    app.get('/v1/domain-events/skips/:id', {
      schema: { tags: ['events'], summary: 'One skipped event', params: IdParams, response: { 200: Type.Ref(SkippedEvent), ...problems(400, 401, 404) } },
    }, (req) => dispatcher.getSkip(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/domain-events/skips/:id/retry', {
      config: { auth: 'admin' },
      schema: {
        tags: ['events'],
        summary: 'Hand a skipped event to its consumer again',
        description: 'Once the cause is fixed: the consumer gets the event now, after later events of the tenant (its webhook delivery goes before the member\'s later deliveries still pending to the endpoint; those already sent went before it). 200 with retried_at set; a skip retried before is returned as it is; 422 with the error when the consumer fails again (it stays open; like any 4xx, that answer is kept under an Idempotency-Key: retry with a new key); 503 when the database could not complete it (try again).',
        params: IdParams, response: { 200: Type.Ref(SkippedEvent), ...problems(400, 401, 403, 404, 409, 422, 503) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'skipped_event' }, (tx) => dispatcher.retrySkip(tx, tenantOf(req).tenantId, req.params.id)));
  };
}
