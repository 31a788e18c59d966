/** HTTP schemas of webhook endpoints, their secrets, deliveries, attempts and replays. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { MAX_EVENT_TYPES, REPLAY_LIMIT } from './webhooks.service.js';

const URL_FIELD = Type.String({
  minLength: 1, maxLength: 2000,
  description: 'Where events are POSTed. https; plain http only for loopback and local development hosts (localhost, 127.0.0.1, a name without a dot, *.local, *.internal, *.test). Private, loopback and link-local addresses are refused unless the operator set WEBHOOK_ALLOW_PRIVATE_NETWORKS (a literal one is a 400; a name resolving to one fails each attempt).',
});
const EVENT_TYPES = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
  minItems: 1, maxItems: MAX_EVENT_TYPES, uniqueItems: true,
  description: "The event types it receives (docs/events.md), or ['*'] for every type.",
});
const DESCRIPTION = Type.String({ maxLength: 500, description: 'Free text for the tenant.' });
const STATUS = StringEnum(['active', 'disabled'] as const, { description: "active or disabled. Setting 'active' re-enables a disabled endpoint." });

export const CreateEndpointBody = Obj({
  url: URL_FIELD,
  description: Type.Optional(DESCRIPTION),
  event_types: EVENT_TYPES,
  status: Type.Optional(STATUS),
}, { examples: [{ url: 'https://shop.example.com/hooks/patron', description: 'Shop sync', event_types: ['member.created', 'points.earned'] }] });
export type CreateEndpointInput = Static<typeof CreateEndpointBody>;

export const UpdateEndpointBody = Obj({
  url: Type.Optional(URL_FIELD),
  description: Type.Optional(DESCRIPTION),
  event_types: Type.Optional(EVENT_TYPES),
  status: Type.Optional(STATUS),
}, { minProperties: 1, examples: [{ status: 'active' }] });
export type UpdateEndpointInput = Static<typeof UpdateEndpointBody>;

const endpointProps = {
  id: Uuid(),
  url: Type.String(),
  description: Type.String(),
  event_types: Type.Array(Type.String()),
  status: STATUS,
  disabled_reason: Nullable(Type.String({ description: "manual, failing (every attempt failed for 5 days) or gone (the receiver answered 410)." })),
  disabled_at: Nullable(Timestamp()),
  failing_since: Nullable(Timestamp({ description: 'The first failed attempt since the last success; null: healthy.' })),
  last_success_at: Nullable(Timestamp()),
  created_at: Timestamp(),
  updated_at: Timestamp(),
};

export const Endpoint = Type.Object(endpointProps, { $id: 'WebhookEndpoint', description: 'A webhook endpoint. Its signing secret is not shown here.' });

export const CreatedEndpoint = Type.Object({
  ...endpointProps,
  secret: Nullable(Type.String({ description: 'The signing secret (whsec_…), shown once; null when the answer is an Idempotency-Key replay.' })),
}, { description: 'The new endpoint with its signing secret.' });

export const EndpointSecret = Type.Object({
  endpoint_id: Uuid(),
  secret: Nullable(Type.String({ description: 'whsec_…; null when the answer is an Idempotency-Key replay.' })),
  created_at: Timestamp(),
  previous_expires_at: Nullable(Timestamp({ description: 'Until when the previous secret still signs beside this one; null: none.' })),
});

export const RotateSecretBody = Obj({
  overlap_hours: Type.Optional(Type.Integer({ minimum: 0, maximum: 168, default: 24, description: 'How long the previous secret keeps signing beside the new one (0 to 168, default 24).' })),
});

export const ListEndpointsQuery = Obj({ ...PageQuery, status: Type.Optional(STATUS) });

const DELIVERY_STATUS = StringEnum(['pending', 'succeeded', 'failed'] as const, { description: 'pending (first attempt or a retry to come), succeeded, failed (the schedule ran out, or 410 Gone).' });

const deliveryProps = {
  id: Uuid(),
  endpoint_id: Uuid(),
  event_id: Uuid({ description: 'The domain event, also the webhook-id header.' }),
  event_seq: Type.Integer(),
  event_type: Type.String(),
  member_id: Nullable(Uuid()),
  kind: StringEnum(['event', 'replay'] as const, { description: 'event: from the outbox; replay: asked for.' }),
  status: DELIVERY_STATUS,
  attempts: Type.Integer({ description: 'Attempts made.' }),
  next_attempt_at: Nullable(Timestamp({ description: "When it is (or was last) due; null: waiting behind an earlier pending delivery of the same member to the endpoint, or for the endpoint to be re-enabled." })),
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Timestamp(),
  finished_at: Nullable(Timestamp()),
};
export const Delivery = Type.Object(deliveryProps, { $id: 'WebhookDelivery', description: 'One event (or one replay of it) for one endpoint.' });

export const Attempt = Type.Object({
  id: Uuid(),
  delivery_id: Uuid(),
  endpoint_id: Uuid(),
  attempted_at: Timestamp(),
  duration_ms: Type.Integer(),
  status_code: Nullable(Type.Integer({ description: 'null: no HTTP answer (refused, reset, timed out).' })),
  error: Nullable(Type.String()),
  response_body: Nullable(Type.String({ description: "The first 2 KB of the receiver's answer." })),
}, { $id: 'WebhookAttempt', description: 'One HTTP attempt of a delivery.' });

export const DeliveryWithAttempts = Type.Object({
  ...deliveryProps,
  attempt_log: Type.Array(Type.Ref(Attempt), { description: 'Every attempt, oldest first.' }),
});

export const ListDeliveriesQuery = Obj({
  ...PageQuery,
  endpoint_id: Type.Optional(Uuid()),
  status: Type.Optional(DELIVERY_STATUS),
  event_type: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  member_id: Type.Optional(Uuid()),
});

export const ListAttemptsQuery = Obj({ ...PageQuery });

export const ReplayRangeBody = Obj({
  from: Timestamp({ description: 'Events that occurred at or after this time.' }),
  to: Timestamp({ description: 'Events that occurred before this time.' }),
  event_types: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: MAX_EVENT_TYPES, uniqueItems: true, description: 'Only these of the types the endpoint receives.' })),
  status: Type.Optional(StringEnum(['failed', 'all', 'missed'] as const, { default: 'failed', description: "failed (default): the events whose delivery to this endpoint failed and never succeeded; missed: the events since the endpoint was created that it has no delivery of (they happened while it was disabled); all: every event of the range the endpoint receives." })),
}, { examples: [{ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z', status: 'failed' }] });
export type ReplayRangeBodyInput = Static<typeof ReplayRangeBody>;

export const ReplayRangeResult = Type.Object({
  endpoint_id: Uuid(),
  replayed: Type.Integer({ description: `How many events were queued again (at most ${REPLAY_LIMIT}).` }),
});

export const DeletedEndpoint = Type.Object({ id: Uuid(), deleted: Type.Boolean() });
