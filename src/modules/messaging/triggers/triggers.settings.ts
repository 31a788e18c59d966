/**
 * A tenant's settings of the member triggers (docs/messaging/triggers.md): whether each is on, its channel, its
 * timing and, for birthday, anniversary and win-back, an offer given with the message. Stored in message_triggers
 * only once changed; until then (and for every field not stored) the defaults below hold.
 *
 * Defaults: what the member did or is owed (a reward, a reply, a referral paying out, points about to lapse, a new
 * tier) and survey invitations are on, because the tenant asked for them elsewhere (a survey with invitations, a case
 * reply) and nothing else would deliver them. Birthday, anniversary, tier-at-risk and win-back are marketing a tenant
 * decides to run, often with an offer that costs money: off until turned on.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FieldError } from '../../../platform/errors.js';
import { Nullable, Obj, StringEnum, Uuid } from '../../../platform/http/schema.js';
import { MEMBER_TRIGGERS, TRIGGER_CATEGORY, type MemberTrigger, type MessageCategory, type MessageChannel } from '../messaging.types.js';

export const CHANNELS = ['email', 'sms', 'push'] as const;

/** The triggers a tenant may give an offer (points or a catalog reward, given with the message). */
export const OFFER_TRIGGERS = ['birthday', 'anniversary', 'win_back'] as const satisfies readonly MemberTrigger[];
export type OfferTrigger = (typeof OFFER_TRIGGERS)[number];
export const hasOffer = (t: MemberTrigger): t is OfferTrigger => (OFFER_TRIGGERS as readonly string[]).includes(t);

/** The triggers the hourly `messages.triggers` job fires; the others react to domain events. */
export const SCHEDULED_TRIGGERS = ['birthday', 'anniversary', 'points_expiring', 'tier_at_risk', 'win_back'] as const satisfies readonly MemberTrigger[];

export interface Offer {
  points?: number;
  reward_id?: string;
}

export interface WinBackSettings {
  /** Who is lapsing: the newest published at-risk list, or members whose last purchase is `days_without_purchase` old. */
  source: 'at_risk' | 'no_purchase';
  days_without_purchase: number;
  /** Held out (recorded as `control`, never sent), drawn per member and period. */
  control_percent: number;
  /** A member gets at most one win-back (message or control) per this many days. */
  repeat_after_days: number;
}

export interface TimingSettings {
  birthday: { send_hour: number };
  anniversary: { send_hour: number };
  points_expiring: { days_before: number; send_hour: number };
  tier_at_risk: { days_before: number; send_hour: number };
  win_back: WinBackSettings;
  tier_upgraded: Record<string, never>;
  reward_issued: Record<string, never>;
  survey_invitation: Record<string, never>;
  case_reply: Record<string, never>;
  referral_converted: Record<string, never>;
}

export const DEFAULT_SETTINGS: TimingSettings = {
  birthday: { send_hour: 9 },
  anniversary: { send_hour: 9 },
  points_expiring: { days_before: 14, send_hour: 9 },
  tier_at_risk: { days_before: 30, send_hour: 9 },
  win_back: { source: 'no_purchase', days_without_purchase: 90, control_percent: 10, repeat_after_days: 180 },
  tier_upgraded: {}, reward_issued: {}, survey_invitation: {}, case_reply: {}, referral_converted: {},
};

/** Transactional triggers and survey invitations are on by default; the marketing ones are the tenant's decision. */
export const DEFAULT_ENABLED: Record<MemberTrigger, boolean> = {
  birthday: false, anniversary: false, tier_at_risk: false, win_back: false,
  points_expiring: true, tier_upgraded: true, reward_issued: true, case_reply: true, referral_converted: true, survey_invitation: true,
};

/** A trigger as the tenant has it: stored values over the defaults. */
export interface TriggerConfig<T extends MemberTrigger = MemberTrigger> {
  trigger: T;
  category: MessageCategory;
  enabled: boolean;
  channel: MessageChannel;
  settings: TimingSettings[T];
  offer: Offer | null;
  /** Whether the tenant has changed it (a stored row); false: all defaults. */
  customized: boolean;
  updated_at: Date | null;
}

/** What message_triggers stores for one trigger. */
export interface StoredTrigger {
  trigger: string;
  enabled: boolean;
  channel: MessageChannel;
  settings: Record<string, unknown>;
  offer: Offer | null;
  updated_at: Date;
}

export function effective<T extends MemberTrigger>(trigger: T, row: StoredTrigger | null): TriggerConfig<T> {
  return {
    trigger,
    category: TRIGGER_CATEGORY[trigger],
    enabled: row ? row.enabled : DEFAULT_ENABLED[trigger],
    channel: row ? row.channel : 'email',
    // Stored settings over the defaults: a setting added in a later version takes its default for old rows.
    settings: { ...DEFAULT_SETTINGS[trigger], ...pickKnown(trigger, row?.settings ?? {}) } as TimingSettings[T],
    offer: hasOffer(trigger) ? row?.offer ?? null : null,
    customized: row !== null,
    updated_at: row?.updated_at ?? null,
  };
}

function pickKnown(trigger: MemberTrigger, s: Record<string, unknown>): Record<string, unknown> {
  const known = Object.keys(DEFAULT_SETTINGS[trigger]);
  return Object.fromEntries(Object.entries(s).filter(([k]) => known.includes(k)));
}

// ── Schemas (one per trigger: each takes only its own settings) ─────────────

const SendHour = Type.Integer({ minimum: 0, maximum: 23, description: "Hour of the day (0-23) in the member's time zone (else the tenant's) from which the message goes out." });
const DaysBefore = (what: string) => Type.Integer({ minimum: 1, maximum: 365, description: `Days before ${what} the message goes out (1-365).` });

export const SETTINGS_SCHEMAS: Record<MemberTrigger, TSchema> = {
  birthday: Obj({ send_hour: Type.Optional(SendHour) }, { description: 'Birthday timing (default send_hour 9).' }),
  anniversary: Obj({ send_hour: Type.Optional(SendHour) }, { description: 'Enrolment anniversary timing (default send_hour 9).' }),
  points_expiring: Obj({ days_before: Type.Optional(DaysBefore('the earliest expiry')), send_hour: Type.Optional(SendHour) }, { description: 'Default days_before 14, send_hour 9.' }),
  tier_at_risk: Obj({ days_before: Type.Optional(DaysBefore("the tier's next evaluation")), send_hour: Type.Optional(SendHour) }, { description: 'Default days_before 30, send_hour 9.' }),
  win_back: Obj({
    source: Type.Optional(StringEnum(['at_risk', 'no_purchase'] as const, { description: 'at_risk: the newest published at-risk list; no_purchase: members whose last purchase is days_without_purchase old (default).' })),
    days_without_purchase: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'For source no_purchase (default 90).' })),
    control_percent: Type.Optional(Type.Integer({ minimum: 0, maximum: 50, description: 'Percent of members held out as the control group (default 10).' })),
    repeat_after_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'A member gets at most one win-back per this many days (default 180).' })),
  }, { description: 'Win-back targeting and measurement.' }),
  tier_upgraded: Obj({}, { description: 'No timing: sent when the member moves up.' }),
  reward_issued: Obj({}, { description: 'No timing: sent when the reward or voucher is issued.' }),
  survey_invitation: Obj({}, { description: 'No timing: sent when the invitation is due.' }),
  case_reply: Obj({}, { description: 'No timing: sent when the agent replies.' }),
  referral_converted: Obj({}, { description: 'No timing: sent when the referral converts.' }),
};

export const OfferSchema = Obj({
  points: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Points given with the message.' })),
  reward_id: Type.Optional(Uuid({ description: 'A catalog reward (e.g. a voucher) issued at no points cost with the message.' })),
}, { description: 'What the member gets with the message: points or a catalog reward (one of them).' });

const Channel = StringEnum(CHANNELS, { description: 'email (default), sms or push (sms and push go to the tenant\'s provider through webhooks).' });

/** The PUT/PATCH body of one trigger. */
export function bodySchema(trigger: MemberTrigger) {
  return Obj({
    enabled: Type.Optional(Type.Boolean()),
    channel: Type.Optional(Channel),
    settings: Type.Optional(SETTINGS_SCHEMAS[trigger]),
    ...(hasOffer(trigger) ? { offer: Type.Optional(Nullable(OfferSchema)) } : {}),
  }, { description: `Settings of the ${trigger} trigger: only the fields sent (PATCH), or all, the others back to their defaults (PUT).` });
}

/** The view of one trigger: its effective settings and the defaults. */
export function viewSchema(trigger: MemberTrigger) {
  const settings = SETTINGS_SCHEMAS[trigger];
  return Type.Object({
    trigger: Type.Literal(trigger),
    category: StringEnum(['marketing', 'transactional'] as const, { description: 'marketing: needs consent, one-click unsubscribe, waits out quiet hours; transactional: always sent to a member with an address.' }),
    enabled: Type.Boolean(),
    channel: Channel,
    settings,
    offer: Nullable(OfferSchema),
    customized: Type.Boolean({ description: 'false: every value is the default.' }),
    defaults: Type.Object({ enabled: Type.Boolean(), channel: Channel, settings, offer: Type.Null() }),
    updated_at: Nullable(Type.String({ format: 'date-time' })),
  }, { description: `The ${trigger} trigger: its effective settings and the defaults.` });
}

/** Any trigger's view, for the list (one schema rather than a union of ten: cheaper to compile and serialise). */
export function anyViewSchema() {
  const settings = Type.Object({}, { additionalProperties: true, description: "The trigger's timing settings (see its own route)." });
  return Type.Object({
    trigger: StringEnum(MEMBER_TRIGGERS),
    category: StringEnum(['marketing', 'transactional'] as const),
    enabled: Type.Boolean(),
    channel: Channel,
    settings,
    offer: Nullable(OfferSchema),
    customized: Type.Boolean(),
    defaults: Type.Object({ enabled: Type.Boolean(), channel: Channel, settings, offer: Type.Null() }),
    updated_at: Nullable(Type.String({ format: 'date-time' })),
  }, { description: 'A member trigger: its effective settings and the defaults.' });
}

export type TriggerBody = { enabled?: boolean; channel?: MessageChannel; settings?: Record<string, unknown>; offer?: Offer | null };

/** What JSON Schema cannot say about a body: an offer gives exactly one thing. (The reward's existence is the service's check.) */
export function bodyErrors(trigger: MemberTrigger, body: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (typeof body !== 'object' || body === null || !hasOffer(trigger)) return errs;
  const offer = (body as TriggerBody).offer;
  if (offer && typeof offer === 'object') {
    const n = (offer.points !== undefined ? 1 : 0) + (offer.reward_id !== undefined ? 1 : 0);
    if (n !== 1) errs.push({ field: 'offer', detail: 'must give exactly one of points or reward_id' });
  }
  return errs;
}

export function viewOf(c: TriggerConfig) {
  return {
    trigger: c.trigger, category: c.category, enabled: c.enabled, channel: c.channel, settings: c.settings, offer: c.offer,
    customized: c.customized,
    defaults: { enabled: DEFAULT_ENABLED[c.trigger], channel: 'email' as const, settings: DEFAULT_SETTINGS[c.trigger], offer: null },
    updated_at: c.updated_at ? c.updated_at.toISOString() : null,
  };
}
export type TriggerView = ReturnType<typeof viewOf>;

export const isMemberTrigger = (t: string): t is MemberTrigger => (MEMBER_TRIGGERS as readonly string[]).includes(t);
