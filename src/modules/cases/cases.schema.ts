/** HTTP schemas of cases, feedback and case settings. */
import { Type, type Static, type TOptional } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { GiftResultSchema, GiftSchema } from '../rewards/rewards.gift.js';
import { TOUCHPOINTS } from '../surveys/surveys.types.js';
import { WEEKDAYS } from './cases.sla.js';
import { LIMITS, PRIORITIES, REASONS } from './cases.settings.js';

export const STATUSES = ['open', 'waiting_for_customer', 'resolved', 'closed'] as const;
export const RESOLUTION_CODES = ['solved', 'explained', 'refunded', 'replaced', 'goodwill', 'no_action_needed', 'duplicate', 'spam', 'other'] as const;
export type ResolutionCode = (typeof RESOLUTION_CODES)[number];

const PRIORITY = StringEnum(PRIORITIES, { description: 'urgent, high, normal or low.' });
const TEXT = (max: number, description: string) => Type.String({ minLength: 1, maxLength: max, description });
const AGENT_ID = (description: string) => Uuid({ description });

// ── Settings ──────────────────────────────────────────────────────────────────

const Minutes = (description: string) => Type.Integer({ minimum: 1, maximum: LIMITS.slaMinutes, description });
const SlaTarget = Obj({
  first_response_minutes: Minutes('Business minutes from opening to the first reply.'),
  resolution_minutes: Minutes('Business minutes from opening (or the last reopening) to resolution.'),
});
const Interval = Type.Array(Type.String({ pattern: '^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$', 'x-message': "must be a time 'HH:MM' (00:00 to 24:00)" }), { minItems: 2, maxItems: 2 });
const DayHours = Type.Array(Interval, { maxItems: LIMITS.intervalsPerDay, description: "Opening intervals [start, end] that day, e.g. [['09:00', '17:00']]; [] closed." });
const Weekly = Obj(Object.fromEntries(WEEKDAYS.map((d) => [d, DayHours])) as Record<(typeof WEEKDAYS)[number], typeof DayHours>, {
  description: 'Opening hours per weekday (mon … sun), all seven days.',
});

const settingsProps = {
  open_rules: Obj({
    nps_detractor: Type.Boolean({ description: 'A detractor NPS answer (by its scale) opens a case.' }),
    csat_dissatisfied: Type.Boolean({ description: 'A dissatisfied CSAT answer (bottom two boxes) opens a case.' }),
    ces_high_effort: Type.Boolean({ description: 'A high-effort CES answer (1-3) opens a case.' }),
    free_text: Type.Boolean({ description: 'A non-empty free-text answer opens a case.' }),
  }, { description: 'Which survey answers open a case. Feedback (POST /v1/feedback) always does.' }),
  priority_rules: Type.Array(Obj({
    when: Type.Record(Type.String(), Type.Unknown(), {
      description: 'JSON Logic over {reason, band, tier_code, channel, touchpoint, value}; any other variable is a 400. null compares as 0 (null <= 1 is true): test {"!=": [{"var": "value"}, null]} before comparing a variable that can be null.',
    }),
    priority: PRIORITY,
  }), { maxItems: LIMITS.priorityRules, description: 'Tried in order; the first that matches sets the priority. A response with several reasons gets the most urgent.' }),
  default_priority: PRIORITY,
  sla: Obj({ urgent: SlaTarget, high: SlaTarget, normal: SlaTarget, low: SlaTarget }, { description: 'Targets per priority, in business minutes.' }),
  business_hours: Obj({
    time_zone: Nullable(Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone; null: the tenant's." })),
    weekly: Weekly,
    holidays: Type.Array(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', 'x-message': 'must be a date YYYY-MM-DD' }), { maxItems: LIMITS.holidays, uniqueItems: true, description: 'Local dates closed all day.' }),
  }),
  escalation: Obj({
    assign_to: Nullable(AGENT_ID('The agent or team a breached case is reassigned to; null: it stays with its assignee.')),
    raise_priority: Type.Boolean({ description: 'A breached case becomes one step more urgent.' }),
  }, { description: 'What happens, once per case, when an SLA is breached.' }),
  default_assignee_id: Nullable(AGENT_ID('The agent or team new cases are assigned to; null: unassigned.')),
};

export const CaseSettingsBody = Obj(Object.fromEntries(Object.entries(settingsProps).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof typeof settingsProps]: TOptional<(typeof settingsProps)[K]> }, {
  description: 'The case settings. A field left out takes its default (PUT replaces the whole document).',
  examples: [{
    priority_rules: [{ when: { and: [{ '==': [{ var: 'reason' }, 'nps_detractor'] }, { in: [{ var: 'tier_code' }, ['gold', 'platinum']] }] }, priority: 'high' }],
    business_hours: { time_zone: 'Europe/Sofia', weekly: { mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']], sat: [], sun: [] }, holidays: ['2026-12-25'] },
  }],
});

export const CaseSettingsView = Type.Object({
  ...Object.fromEntries(Object.entries(settingsProps).map(([k, v]) => [k, v])) as typeof settingsProps,
  updated_at: Nullable(Timestamp()),
}, { $id: 'CaseSettings', description: 'The case settings in force, defaults filled in.' });

// ── Cases ─────────────────────────────────────────────────────────────────────

export const Case = Type.Object({
  id: Uuid(),
  member_id: Nullable(Uuid({ description: 'null for anonymous feedback.' })),
  source: Type.Object({
    type: StringEnum(['survey_answer', 'feedback'] as const),
    response_id: Type.Optional(Uuid({ description: 'survey_answer: the survey response (one case per response).' })),
    survey_id: Type.Optional(Uuid()),
    survey_name: Type.Optional(Type.String()),
    question_key: Type.Optional(Type.String({ description: 'The answer that opened the case.' })),
    band: Type.Optional(Nullable(Type.String())),
    value: Type.Optional(Nullable(Type.Union([Type.Number(), Type.String()]))),
    rating: Type.Optional(Nullable(Type.Integer())),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }, { additionalProperties: true }),
  reasons: Type.Array(StringEnum(REASONS), { description: 'Why it opened.' }),
  subject: Type.String(),
  message: Nullable(Type.String({ description: "The member's words (free text, feedback)." })),
  contact_email: Nullable(Type.String()),
  touchpoint: Nullable(Type.String()),
  tier_code: Nullable(Type.String({ description: "The member's tier when the case opened." })),
  priority: PRIORITY,
  assignee_id: Nullable(Uuid()),
  status: StringEnum(STATUSES),
  first_response_due_at: Timestamp(),
  resolution_due_at: Timestamp(),
  first_responded_at: Nullable(Timestamp()),
  resolved_at: Nullable(Timestamp()),
  closed_at: Nullable(Timestamp()),
  breached: Type.Boolean({ description: 'Either SLA was breached.' }),
  first_response_breached: Type.Boolean(),
  resolution_breached: Type.Boolean(),
  escalated_at: Nullable(Timestamp()),
  resolution_code: Nullable(StringEnum(RESOLUTION_CODES)),
  resolution_note: Nullable(Type.String()),
  goodwill: Type.Array(Type.Object({
    gift: Type.Object({ points: Type.Optional(Type.Integer()), reward_id: Type.Optional(Type.String()), credit: Type.Optional(Type.Integer()) }, { description: 'The gesture asked for.' }),
    result: GiftResultSchema,
    given_at: Timestamp(),
    actor: Type.String({ description: 'The API key id that resolved the case.' }),
    agent_id: Nullable(Uuid({ description: 'The agent it was given by (agent_id of the resolve), if named.' })),
  }), { description: 'Every goodwill gesture given when resolving, oldest first: a case resolved again after a reopening keeps the earlier ones. [] none.' }),
  follow_up: Nullable(Type.Object({ invitation_id: Uuid() }, { description: 'The "was your problem solved?" invitation sent on closing. Its signed link is not kept on the case: GET /v1/survey-invitations/{id} with a write key.' })),
  reopened_count: Type.Integer(),
  reopened_at: Nullable(Timestamp({ description: 'When it was last reopened (its resolution target counts from then); null: never reopened.' })),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'Case', description: 'A follow-up case: a detractor answer, a complaint, a piece of feedback.' });

export const TimelineEntry = Type.Object({
  id: Uuid(),
  kind: StringEnum(['opened', 'updated', 'note', 'reply', 'status_changed', 'assigned', 'priority_changed', 'sla_breached', 'escalated', 'goodwill', 'resolved', 'closed', 'reopened', 'follow_up_sent', 'follow_up_answered'] as const),
  body: Nullable(Type.String()),
  author_agent_id: Nullable(Uuid()),
  actor: Nullable(Type.String({ description: 'The API key id, or system.' })),
  data: Type.Record(Type.String(), Type.Unknown()),
  delivery_state: Nullable(StringEnum(['pending', 'sent', 'failed'] as const, { description: 'Replies: pending until the messaging module emails them.' })),
  created_at: Timestamp(),
}, { $id: 'CaseTimelineEntry' });

export const CaseWithTimeline = Type.Intersect([Type.Ref(Case), Type.Object({ timeline: Type.Array(Type.Ref(TimelineEntry)) })]);

const CSV = (values: readonly string[], description: string) =>
  Type.String({ pattern: `^(?:${values.join('|')})(?:,(?:${values.join('|')}))*$`, 'x-message': `must be one or more (comma-separated) of: ${values.join(', ')}`, description });

export const ListCasesQuery = Obj({
  ...PageQuery,
  status: Type.Optional(CSV(STATUSES, 'Only these statuses, comma-separated.')),
  priority: Type.Optional(CSV(PRIORITIES, 'Only these priorities, comma-separated.')),
  breached: Type.Optional(Type.Boolean({ description: 'true: either SLA breached; false: neither.' })),
  assignee_id: Type.Optional(Uuid()),
  member_id: Type.Optional(Uuid()),
});

export const UpdateCaseBody = Obj({
  assignee_id: Type.Optional(Nullable(AGENT_ID('An active agent or team; null: unassigned.'))),
  priority: Type.Optional(PRIORITY),
  status: Type.Optional(StringEnum(['open', 'waiting_for_customer'] as const, { description: 'Resolve, close and reopen have their own routes.' })),
}, { description: 'Only the fields sent change.', examples: [{ assignee_id: '0190f2a4-8f6e-7a3c-9b1d-2e4f6a8c0b1d', priority: 'high' }] });
export type UpdateCaseInput = Static<typeof UpdateCaseBody>;

export const NoteBody = Obj({
  body: TEXT(10_000, 'The internal note (never shown to the member).'),
  agent_id: Type.Optional(AGENT_ID('Who wrote it.')),
}, { examples: [{ body: 'Called the store; the order was delayed by the courier.' }] });
export type NoteInput = Static<typeof NoteBody>;

export const ReplyBody = Obj({
  body: TEXT(10_000, 'The personal reply to the member (emailed once messaging exists: stored as pending until then).'),
  agent_id: Type.Optional(AGENT_ID('Who wrote it.')),
}, { examples: [{ body: 'Dear Maria, I am sorry your order came late. I have added 200 points to your account.' }] });
export type ReplyInput = Static<typeof ReplyBody>;

export const ResolveBody = Obj({
  resolution_code: StringEnum(RESOLUTION_CODES),
  note: Type.Optional(TEXT(10_000, 'How it was resolved (internal).')),
  goodwill: Type.Optional({ ...GiftSchema, description: 'A goodwill gesture for the member: points, a catalog reward (a voucher) and/or store credit, with the case as its source. If it cannot be given the resolve fails as a whole.' }),
  agent_id: Type.Optional(AGENT_ID('Who resolved it.')),
}, { examples: [{ resolution_code: 'goodwill', note: 'Late delivery', goodwill: { points: 200 } }] });
export type ResolveInput = Static<typeof ResolveBody>;

export const CloseBody = Obj({
  follow_up: Type.Optional(Type.Boolean({ default: false, description: 'Send the member the one-question follow-up "Was your problem solved?".' })),
  agent_id: Type.Optional(AGENT_ID('Who closed it.')),
}, { examples: [{ follow_up: true }] });
export type CloseInput = Static<typeof CloseBody>;

export const ReopenBody = Obj({
  reason: Type.Optional(TEXT(2000, 'Why it is reopened.')),
  agent_id: Type.Optional(AGENT_ID('Who reopened it.')),
}, { examples: [{ reason: 'The member wrote back' }] });
export type ReopenInput = Static<typeof ReopenBody>;

export const FeedbackBody = Obj({
  member_id: Type.Optional(Uuid({ description: 'The member giving feedback (or member_external_id; neither: anonymous).' })),
  member_external_id: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  email: Type.Optional(Type.String({ format: 'email', maxLength: 320, description: 'Anonymous feedback: where to reply.' })),
  message: TEXT(10_000, 'What the customer wrote.'),
  touchpoint: Type.Optional(StringEnum(TOUCHPOINTS, { description: 'Where the feedback button was.' })),
  rating: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'An optional rating given with the feedback.' })),
  metadata: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]), { maxProperties: 50, description: 'Context: page, order id, device …' })),
}, { description: 'A feedback button submission: every one opens a case.', examples: [{ member_external_id: 'cust-1042', message: 'The app logs me out every day.', touchpoint: 'custom', rating: 2 }] });
export type FeedbackInput = Static<typeof FeedbackBody>;
