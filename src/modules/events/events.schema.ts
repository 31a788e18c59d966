/**
 * Action events over HTTP: what a shop, app or survey tool sends when a member does something (signs up, writes a
 * review, answers a survey, …), and what Patron answers (the points its event rules awarded, and why).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, Timestamp, Uuid } from '../../platform/http/schema.js';
import { KNOWN_EVENTS } from '../rules/rules.events.js';

export const LIMITS = {
  /** Largest `properties`, as JSON. */
  propertiesBytes: 4096,
  /** How deep `properties` may nest. */
  propertiesDepth: 8,
};

const NAME_PATTERN = '^[a-z][a-z0-9_.-]{0,63}$';
const ID_PATTERN = '^[^\\s\\u0000-\\u001f](?:[^\\u0000-\\u001f]*[^\\s\\u0000-\\u001f])?$';
const ID_MESSAGE = 'must not contain control characters or start or end with white space';
const ref = (description: string, maxLength = 200) =>
  Type.String({ minLength: 1, maxLength, pattern: ID_PATTERN, 'x-message': ID_MESSAGE, description });

export const EventName = (description: string) => Type.String({
  minLength: 1, maxLength: 64, pattern: NAME_PATTERN,
  'x-message': 'must be an event name such as sign_up or review_written: a lowercase letter, then up to 63 of a-z, 0-9, _ . -',
  description,
});

export const CreateEventBody = Obj({
  name: EventName(`What the member did: ${KNOWN_EVENTS.join(', ')}, or a custom name. The event rules (earn rules of kind \`event\`) for this name decide the points.`),
  member_id: Type.Optional(Uuid({ description: 'The member, by Patron id (send this or member_external_id).' })),
  member_external_id: Type.Optional(ref("The member, by the shop's customer id. An unknown one is a 422: an event never enrols anyone.")),
  occurred_at: Type.Optional(Timestamp({ description: 'When the member did it (default now; at most 5 minutes ahead of Patron\'s clock). Judged by the rules in force then.' })),
  properties: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: `Facts about the event that rule conditions can test as \`event.properties.*\` (e.g. a review's rating): a JSON object of at most ${LIMITS.propertiesBytes} bytes, nested at most ${LIMITS.propertiesDepth} levels.`,
  })),
  external_id: Type.Optional(ref("The caller's id of this event, unique per tenant: a re-sent event (same body) is answered with the first result and never earns twice; another body is a 409.")),
}, {
  examples: [{ name: 'review_written', member_external_id: 'cust-42', external_id: 'review-9913', occurred_at: '2026-11-29T10:15:00Z', properties: { product_sku: 'BEANS-1KG', rating: 5 } }],
});
export type CreateEventInput = Static<typeof CreateEventBody>;

const Explanation = Type.Object({
  rule_id: Type.String(),
  rule_name: Type.String(),
  kind: Type.String(),
  outcome: Type.String({ description: 'applied, condition_false, limit_reached, cap_reached, not_active, not_yet_valid, expired, member_blocked, member_erased' }),
  points: Type.Integer(),
  uncapped_points: Type.Optional(Type.Integer()),
  capped_by: Type.Optional(Type.Array(Type.String())),
  detail: Type.String(),
});

export const MemberEvent = Type.Object({
  id: Uuid(),
  external_id: Nullable(Type.String()),
  member_id: Uuid(),
  name: Type.String(),
  occurred_at: Timestamp(),
  properties: Type.Record(Type.String(), Type.Unknown()),
  points: Type.Integer({ description: 'Points the event earned (0 for a blocked or erased member, or when no rule applied).' }),
  explanation: Type.Array(Explanation, { description: 'One entry per event rule in force for this name: what it gave, or why it gave nothing.' }),
  created_at: Timestamp(),
}, { $id: 'MemberEvent' });

export const ListEventsQuery = Obj({
  ...PageQuery,
  member_id: Type.Optional(Uuid()),
  name: Type.Optional(EventName('Only events of this name.')),
});
