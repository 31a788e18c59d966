/** Webhooks over HTTP (docs/webhooks.md): endpoints and their secrets (admin), the delivery log, replays. */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import {
  Attempt, CreatedEndpoint, CreateEndpointBody, DeletedEndpoint, Delivery, DeliveryWithAttempts, Endpoint, EndpointSecret, ListAttemptsQuery,
  ListDeliveriesQuery, ListEndpointsQuery, ReplayRangeBody, ReplayRangeResult, RotateSecretBody, UpdateEndpointBody,
} from './webhooks.schema.js';
import type { WebhooksService } from './webhooks.service.js';

export function webhooksRoutes(deps: { db: Db; webhooks: WebhooksService; http: HttpKit }) {
  const { db, webhooks, http } = deps;
  const tags = ['webhooks'];
  const E = Type.Ref(Endpoint);
  const D = Type.Ref(Delivery);
  const A = Type.Ref(Attempt);
  // A secret is shown to the admin key that asked, never kept in the Idempotency-Key answer store.
  const withoutSecret = (r: unknown): unknown => ({ ...(r as Record<string, unknown>), secret: null });
  return async function (app: HttpServer) {
    app.addSchema(Endpoint);
    app.addSchema(Delivery);
    app.addSchema(Attempt);

    app.post('/v1/webhooks/endpoints', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Create a webhook endpoint',
        description: "Returns the signing secret once (GET …/secret later). event_types: ['*'] or types of the catalog (docs/events.md); an unknown type is a 400 naming event_types[i]. Emits `webhook_endpoint.created`.",
        body: CreateEndpointBody, response: { 201: CreatedEndpoint, ...problems(400, 401, 403, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_endpoint', status: 201, storeAs: withoutSecret },
      (tx) => webhooks.create(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/webhooks/endpoints', {
      schema: { tags, summary: 'List webhook endpoints, newest first', querystring: ListEndpointsQuery, response: { 200: Page(E), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await webhooks.list(db, tenantOf(req).tenantId, { status: q.status, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/webhooks/endpoints/:id', {
      schema: { tags, summary: 'Get a webhook endpoint', params: IdParams, response: { 200: E, ...problems(400, 401, 404) } },
    }, (req) => webhooks.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/webhooks/endpoints/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Change a webhook endpoint; disable or re-enable it',
        description: "status 'disabled' stops sending (disabled_reason manual; its pending deliveries wait); status 'active' re-enables it: failing_since is cleared and the waiting deliveries go out (events of the time it was disabled: replay with status missed). Emits `webhook_endpoint.updated` (and `webhook_endpoint.disabled` when disabling).",
        params: IdParams, body: UpdateEndpointBody, response: { 200: E, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_endpoint' }, (tx) => webhooks.update(tx, tenantOf(req).tenantId, req.params.id, req.body)));

    app.delete('/v1/webhooks/endpoints/:id', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Delete a webhook endpoint with its secrets and delivery log', description: 'Emits `webhook_endpoint.deleted`.',
        params: IdParams, response: { 200: DeletedEndpoint, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_endpoint' }, (tx) => webhooks.remove(tx, tenantOf(req).tenantId, req.params.id)));

    app.get('/v1/webhooks/endpoints/:id/secret', {
      config: { auth: 'admin' },
      schema: { tags, summary: "The endpoint's current signing secret (admin)", params: IdParams, response: { 200: EndpointSecret, ...problems(400, 401, 403, 404, 422) } },
    }, (req) => webhooks.secret(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/webhooks/endpoints/:id/rotate-secret', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Rotate the signing secret, with an overlap',
        description: 'The new secret signs at once; the previous one keeps signing beside it (two signatures in webhook-signature) for overlap_hours (default 24, 0 to 168). Emits `webhook_endpoint.secret_rotated`.',
        params: IdParams, body: RotateSecretBody, response: { 200: EndpointSecret, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_endpoint', storeAs: withoutSecret },
      (tx) => webhooks.rotateSecret(tx, tenantOf(req).tenantId, req.params.id, req.body ?? {})));

    app.get('/v1/webhooks/endpoints/:id/attempts', {
      schema: { tags, summary: "The endpoint's attempts, newest first", params: IdParams, querystring: ListAttemptsQuery, response: { 200: Page(A), ...problems(400, 401, 404) } },
    }, async (req) => {
      const q = req.query;
      const rows = await webhooks.listAttempts(db, tenantOf(req).tenantId, req.params.id, { beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.post('/v1/webhooks/endpoints/:id/replay', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Replay the events of a time range to an endpoint',
        description: 'Queues a new delivery (kind replay, sent at once, same webhook-id and body) for each event of [from, to) the endpoint receives: by default only those whose delivery failed and never succeeded (status failed), those it never got a delivery of because they happened while it was disabled (status missed), or all of them (status all). More than 10,000 events is a 422: split the range.',
        params: IdParams, body: ReplayRangeBody, response: { 202: ReplayRangeResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_endpoint', status: 202, resourceId: () => req.params.id },
      (tx) => webhooks.replayRange(tx, tenantOf(req).tenantId, req.params.id, req.body)));

    app.get('/v1/webhooks/deliveries', {
      schema: {
        tags, summary: 'The delivery log, newest first', description: 'Filters: endpoint_id, status, event_type, member_id.',
        querystring: ListDeliveriesQuery, response: { 200: Page(D), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await webhooks.listDeliveries(db, tenantOf(req).tenantId, {
        endpointId: q.endpoint_id, status: q.status, eventType: q.event_type, memberId: q.member_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/webhooks/deliveries/:id', {
      schema: { tags, summary: 'A delivery with its attempts', params: IdParams, response: { 200: DeliveryWithAttempts, ...problems(400, 401, 404) } },
    }, (req) => webhooks.getDelivery(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/webhooks/deliveries/:id/replay', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Replay one delivery',
        description: 'A new delivery (kind replay) of the same event to the same endpoint, sent at once with the same webhook-id and body; it neither waits for nor holds up the member\'s other deliveries. To a disabled endpoint it waits until the endpoint is re-enabled.',
        params: IdParams, response: { 202: D, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'webhook_delivery', status: 202 }, (tx) => webhooks.replayDelivery(tx, tenantOf(req).tenantId, req.params.id)));
  };
}
