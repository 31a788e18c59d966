/**
 * The messaging module's contract (docs/messaging.md): the triggers, what a message request carries, the
 * template variables. Triggers (messaging/triggers/) make requests; the sender (messaging.sender.ts) renders them
 * with the templates (messaging/templates/) and sends them, checking consent, suppressions, quiet hours and the
 * rate limit at send time.
 */
import type { Locale } from '../../platform/http/schema.js';

export type { Locale } from '../../platform/http/schema.js';

/** Messages to members, each switched on and off, timed and given an offer per tenant. */
export const MEMBER_TRIGGERS = [
  'birthday', 'anniversary', 'points_expiring', 'tier_upgraded', 'tier_at_risk', 'reward_issued',
  'survey_invitation', 'case_reply', 'referral_converted', 'win_back',
] as const;
/** Messages to the tenant's operators (its notification email), not to members. */
export const SYSTEM_TRIGGERS = ['webhook_endpoint_disabled'] as const;
export const TRIGGERS = [...MEMBER_TRIGGERS, ...SYSTEM_TRIGGERS] as const;
export type MemberTrigger = (typeof MEMBER_TRIGGERS)[number];
export type TriggerName = (typeof TRIGGERS)[number];

export type MessageCategory = 'marketing' | 'transactional';
export type MessageChannel = 'email' | 'sms' | 'push';
export type MessageStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'bounced' | 'suppressed' | 'control';

/**
 * Marketing needs the member's consent for the channel, carries one-click unsubscribe and waits out quiet hours;
 * transactional messages (something the member did or is owed: a code, a reply, points about to lapse) go to
 * every member with an address, whatever their marketing consent, and at once.
 */
export const TRIGGER_CATEGORY: Record<TriggerName, MessageCategory> = {
  birthday: 'marketing',
  anniversary: 'marketing',
  points_expiring: 'transactional',
  tier_upgraded: 'transactional',
  tier_at_risk: 'marketing',
  reward_issued: 'transactional',
  survey_invitation: 'marketing',
  case_reply: 'transactional',
  referral_converted: 'transactional',
  win_back: 'marketing',
  webhook_endpoint_disabled: 'transactional',
};

/**
 * What a template can use (docs/messaging/templates.md). `member` and `program` are filled for every message;
 * each trigger fills the blocks it knows. Dates are `YYYY-MM-DD` in the member's time zone; amounts of money are
 * already formatted for the member's language.
 */
export interface TemplateVariables {
  member: { first_name: string | null; last_name: string | null; name: string; email: string | null };
  program: { name: string };
  points?: { balance: number; expiring?: number; expiring_on?: string };
  tier?: {
    name: string;
    /** The next tier up and how far the member is (tier_upgraded, progress lines). */
    next_name?: string | null;
    progress_percent?: number | null;
    /** What is left to reach the next tier, formatted: "€40.00", "3 purchases", "250 points". */
    remaining?: string | null;
    /** tier_at_risk: what the member must still do, and by when, to keep this tier. */
    keep_remaining?: string | null;
    keep_by?: string | null;
  };
  reward?: { name: string; code?: string | null; expires_on?: string | null };
  referral?: { link?: string | null; code?: string | null; friend_name?: string | null; points?: number | null };
  survey?: { link: string; name?: string | null };
  case?: { reply: string; reference: string };
  /** anniversary: whole years since the member enrolled. */
  anniversary?: { years: number };
  /** What the trigger gave with the message (birthday bonus, win-back offer). */
  offer?: { points?: number | null; reward_name?: string | null; code?: string | null } | null;
  /** webhook_endpoint_disabled (to the tenant). */
  endpoint?: { url: string; failing_since: string };
  links: { unsubscribe?: string | null; portal?: string | null };
}

/** A request to send one message; `dedupeKey` makes it idempotent per trigger (birthday:<member>:<year> …). */
export interface MessageRequest {
  trigger: TriggerName;
  dedupeKey: string;
  /** The member it is for; null for someone who is not a member (then `to` is required). */
  memberId: string | null;
  /**
   * The address and language of a message to someone who is not a member (anonymous feedback, the tenant's
   * operators); only with `memberId: null`. A member's message goes to the member's address as it is at send time.
   */
  to?: { address: string; locale: Locale };
  channel?: MessageChannel;
  /** The trigger's own blocks; `member`, `program` and `links` are filled by the messaging service. */
  variables: Partial<TemplateVariables>;
  /** Not before (a scheduled trigger's hour); default now. Quiet hours may push a marketing message later. */
  sendAfter?: Date;
  /** Held out of the send as the trigger's control group (recorded with status `control`, never sent). */
  control?: boolean;
  /** What was given with the message, for the send log. */
  offer?: Record<string, unknown> | null;
}

export interface EnqueueResult {
  id: string;
  /** false: a message with this trigger and dedupe key already existed (nothing new was queued). */
  created: boolean;
  status: MessageStatus;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}
