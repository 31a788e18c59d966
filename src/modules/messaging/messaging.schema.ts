/** HTTP schemas of messaging: settings, the send log, suppressions, bounces (docs/messaging.md). */
import { Type, type Static } from '@sinclair/typebox';
import { LocaleSchema, Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { TRIGGERS } from './messaging.types.js';

export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'failed', 'bounced', 'suppressed', 'control'] as const;
const CHANNEL = StringEnum(['email', 'sms', 'push'] as const, { description: 'email, sms or push.' });
const Email = (description: string) => Type.String({ format: 'email', maxLength: 320, description });
const LocalTime = (description: string) => Type.String({ pattern: '^(?:[01][0-9]|2[0-3]):[0-5][0-9]$', 'x-message': "must be a time 'HH:MM'", description });

// ── Settings ──────────────────────────────────────────────────────────────────

const QuietHours = Type.Object({
  start: LocalTime('Local time at which marketing stops (the member\'s time zone, else the tenant\'s).'),
  end: LocalTime('Local time at which it resumes; earlier than start: the quiet period spans midnight.'),
}, { additionalProperties: false });

export const MessagingSettingsView = Type.Object({
  from_email: Nullable(Type.String({ description: 'The sender address; null: SMTP_FROM.' })),
  from_name: Nullable(Type.String({ description: "The sender's display name; null: the tenant's name." })),
  reply_to: Nullable(Type.String({ description: 'Where replies go; null: to the sender address.' })),
  rate_limit_per_minute: Type.Integer({ description: 'Messages per minute for the tenant, every trigger and channel together.' }),
  quiet_hours: Nullable(QuietHours),
  portal_url: Nullable(Type.String({ description: "The member portal, linked from messages (the templates' links.portal); null: no such links." })),
  updated_at: Nullable(Timestamp({ description: 'null: never changed (the defaults).' })),
}, { $id: 'MessagingSettings' });

export const MessagingSettingsBody = Obj({
  from_email: Type.Optional(Nullable(Email('The sender address (a domain whose SPF/DKIM allow your SMTP server); null: SMTP_FROM.'))),
  from_name: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: "The sender's display name; null: the tenant's name." }))),
  reply_to: Type.Optional(Nullable(Email('Where replies go; null: to the sender address.'))),
  rate_limit_per_minute: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'Messages per minute (default 600).' })),
  quiet_hours: Type.Optional(Nullable(QuietHours)),
  portal_url: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 2000, description: "The member portal, an http(s) URL: the messages' \"open my account\" links (links.portal); null: none." }))),
}, {
  description: 'Only the fields sent change. quiet_hours null: no quiet hours (the default is 21:00 to 09:00).',
  examples: [{ from_email: 'loyalty@shop.example', from_name: 'Shop Rewards', quiet_hours: { start: '20:00', end: '08:30' }, rate_limit_per_minute: 300, portal_url: 'https://shop.example/account' }],
});
export type MessagingSettingsInput = Static<typeof MessagingSettingsBody>;

// ── The send log ──────────────────────────────────────────────────────────────

export const Message = Type.Object({
  id: Uuid(),
  member_id: Nullable(Uuid({ description: 'null: not a member (an anonymous feedback reply, the tenant\'s operators).' })),
  trigger: Type.String({ description: 'birthday, points_expiring, case_reply … (docs/messaging/triggers.md)' }),
  dedupe_key: Type.String({ description: 'What makes the trigger idempotent: one message per trigger and key.' }),
  category: StringEnum(['marketing', 'transactional'] as const),
  channel: CHANNEL,
  locale: LocaleSchema,
  to_address: Nullable(Type.String({ description: "The email address or phone number; null for push and after an erasure. A member's message goes to the member's address at send time (recorded here then)." })),
  status: StringEnum(MESSAGE_STATUSES, { description: 'queued, sending, sent, failed, bounced, suppressed or control.' }),
  status_reason: Nullable(Type.String({ description: 'Why suppressed, failed or bounced: no_consent, address_suppressed, no_address, member_erased, member_blocked, smtp_not_configured, smtp_error, smtp_rejected, render_failed, no_provider, hard_bounce, complaint; control_group.' })),
  subject: Nullable(Type.String({ description: 'As rendered when sent.' })),
  attempts: Type.Integer({ description: 'Sending attempts so far.' }),
  send_after: Timestamp({ description: 'Not sent before (a schedule, quiet hours, a retry).' }),
  provider_id: Nullable(Type.String({ description: 'The SMTP Message-ID, or for SMS and push the id of the message.*_requested event.' })),
  error: Nullable(Type.String({ description: 'The last error (SMTP reply).' })),
  offer: Nullable(Type.Record(Type.String(), Type.Unknown(), { description: 'What was given with the message.' })),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  sent_at: Nullable(Timestamp()),
}, { $id: 'Message' });

const logFilters = {
  trigger: Type.Optional(StringEnum(TRIGGERS, { description: 'Only this trigger.' })),
  status: Type.Optional(StringEnum(MESSAGE_STATUSES, { description: 'Only this status.' })),
  from: Type.Optional(Timestamp({ description: 'Created at or after.' })),
  to: Type.Optional(Timestamp({ description: 'Created before.' })),
};

export const ListMessagesQuery = Obj({ ...PageQuery, ...logFilters, member_id: Type.Optional(Uuid({ description: 'Only this member\'s.' })) });
export const MemberMessagesQuery = Obj({ ...PageQuery, ...logFilters });

// ── Suppressions and bounces ──────────────────────────────────────────────────

export const SUPPRESSION_REASONS = ['hard_bounce', 'complaint', 'manual'] as const;

export const Suppression = Type.Object({
  email: Type.String({ description: 'Lower-cased.' }),
  reason: StringEnum(SUPPRESSION_REASONS, { description: 'hard_bounce, complaint or manual.' }),
  detail: Nullable(Type.String()),
  created_at: Timestamp(),
}, { $id: 'EmailSuppression' });

export const ListSuppressionsQuery = Obj({ ...PageQuery, reason: Type.Optional(StringEnum(SUPPRESSION_REASONS)) });

export const SuppressionBody = Obj({
  email: Email('The address to stop emailing.'),
  detail: Type.Optional(Type.String({ maxLength: 1000, description: 'Why (for the operators).' })),
}, { examples: [{ email: 'no-more@example.com', detail: 'Asked by phone on 2026-11-30' }] });

export const EmailParams = Obj({ email: Type.String({ minLength: 3, maxLength: 320, description: 'The address (URL-encoded).' }) });

export const BounceBody = Obj({
  email: Email('The address that bounced or complained.'),
  type: StringEnum(['hard', 'soft', 'complaint'] as const, { description: 'hard and complaint suppress the address; soft changes nothing.' }),
  message_id: Type.Optional(Uuid({ description: 'The Patron message it concerns (marked bounced).' })),
  detail: Type.Optional(Type.String({ maxLength: 1000, description: 'The provider\'s diagnostic, e.g. "550 5.1.1 user unknown".' })),
}, { examples: [{ email: 'gone@example.com', type: 'hard', message_id: '0193a0c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d', detail: '550 5.1.1 user unknown' }] });
export type BounceInput = Static<typeof BounceBody>;

export const BounceResult = Type.Object({
  email: Type.String(),
  type: StringEnum(['hard', 'soft', 'complaint'] as const),
  suppressed: Type.Boolean({ description: 'Whether the address is on the suppression list now.' }),
  message: Nullable(Type.Object({ id: Uuid(), status: StringEnum(MESSAGE_STATUSES) })),
});
