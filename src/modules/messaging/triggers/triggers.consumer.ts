/**
 * The event triggers: one outbox consumer (`messaging.triggers`) that turns domain events into queued messages, in
 * the dispatch transaction (it only writes in `tx`: the messages, a case reply's delivery state). Each message's
 * dedupe key is `event:<event id>` (a case reply's `reply:<entry id>`), so an event handed out again enqueues
 * nothing new. Each trigger obeys its enabled flag and channel at the moment the event is dispatched.
 *
 * One reward, one message: `reward.redeemed` sends reward_issued (with the voucher code when the reward issued one);
 * a `voucher.issued` that a reward redemption caused is left to it, and only a voucher issued on its own (by hand,
 * to a member) sends one. A reward given as a trigger's own offer (birthday, win-back) is told in that message.
 */
import type { Tx } from '../../../platform/db/db.js';
import { isUuid } from '../../../platform/ids.js';
import type { OutboxConsumer } from '../../../platform/outbox/dispatch.js';
import type { StoredEvent } from '../../../platform/outbox/outbox.js';
import type { CasesService } from '../../cases/cases.service.js';
import type { MembersService } from '../../members/members.service.js';
import type { RewardsService } from '../../rewards/rewards.service.js';
import type { SurveysService } from '../../surveys/surveys.service.js';
import type { TenantsService } from '../../tenants/tenants.service.js';
import type { TiersService } from '../../tiers/tiers.service.js';
import type { VouchersService } from '../../vouchers/vouchers.service.js';
import type { ProgramsService } from '../../programs/programs.service.js';
import type { ReferralsService } from '../../referrals/referrals.service.js';
import { reachableOn } from '../messaging.service.js';
import type { Locale, MemberTrigger } from '../messaging.types.js';
import { localDate } from '../../programs/programs.policy.js';
import { formatFigure } from './triggers.format.js';
import type { TriggersService } from './triggers.service.js';
import * as store from './triggers.store.js';

export interface TriggerConsumerDeps {
  triggers: TriggersService;
  members: Pick<MembersService, 'find'>;
  tenants: Pick<TenantsService, 'getTenant'>;
  programs: Pick<ProgramsService, 'get'>;
  tiers: Pick<TiersService, 'memberTier' | 'getTier'>;
  rewards: Pick<RewardsService, 'get' | 'getRedemption'>;
  vouchers: Pick<VouchersService, 'get'>;
  surveys: Pick<SurveysService, 'getInvitation' | 'get'>;
  cases: Pick<CasesService, 'replyOf' | 'replyDelivered'>;
  referrals: Pick<ReferralsService, 'codeOf'>;
  now: () => Date;
}

export const TRIGGER_EVENT_TYPES = [
  'tier.upgraded', 'reward.redeemed', 'voucher.issued', 'survey.invited', 'case.replied', 'referral.converted',
  'message.sent', 'message.failed', 'message.bounced', 'message.suppressed',
] as const;

/** What a reward or voucher is called in a message when it has no name of its own, per language. */
const FALLBACK_NAMES: Record<'voucher' | 'reward', Record<Locale, string>> = {
  voucher: { en: 'Voucher', bg: 'Ваучер', ru: 'Ваучер', ro: 'Voucher', pl: 'Bon' },
  reward: { en: 'Reward', bg: 'Награда', ru: 'Награда', ro: 'Recompensă', pl: 'Nagroda' },
};

/**
 * Member-facing event triggers react only to events that happened within this window before the dispatch: an
 * imported or replayed history (historical orders, the demo's year) dispatches thousands of old tier upgrades and
 * redemptions, and telling members today about them would be wrong. Message outcomes are always handled.
 */
export const EVENT_TRIGGER_MAX_AGE_MS = 48 * 3600_000;
const ALWAYS_HANDLED = new Set(['message.sent', 'message.failed', 'message.bounced', 'message.suppressed']);

const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** The consumer the composition root registers with the outbox dispatcher. */
export function triggersConsumer(deps: TriggerConsumerDeps): OutboxConsumer {
  const handlers: Record<string, (tx: Tx, tenantId: string, e: StoredEvent) => Promise<void>> = {
    'tier.upgraded': tierUpgraded,
    'reward.redeemed': rewardRedeemed,
    'voucher.issued': voucherIssued,
    'survey.invited': surveyInvited,
    'case.replied': caseReplied,
    'referral.converted': referralConverted,
    'message.sent': (tx, t, e) => messageOutcome(tx, t, e, 'sent'),
    'message.failed': (tx, t, e) => messageOutcome(tx, t, e, 'failed'),
    'message.bounced': (tx, t, e) => messageOutcome(tx, t, e, 'failed'),
    // Not sent (no consent, suppressed address, no address, member erased or blocked): the reply will never arrive.
    'message.suppressed': (tx, t, e) => messageOutcome(tx, t, e, 'failed'),
  };

  /** The trigger's settings when it is on; null when off. */
  async function on(tx: Tx, tenantId: string, trigger: MemberTrigger) {
    const cfg = await deps.triggers.config(tx, tenantId, trigger);
    return cfg.enabled ? cfg : null;
  }

  async function memberOf(tx: Tx, tenantId: string, id: string | null) {
    if (!id) return null;
    const m = await deps.members.find(tx, tenantId, { id });
    return m && m.status === 'active' ? m : null;
  }

  async function tierUpgraded(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    const cfg = await on(tx, tenantId, 'tier_upgraded');
    const member = cfg && await memberOf(tx, tenantId, str(e.payload.member_id) ?? e.member_id);
    const toId = str(e.payload.to_tier_id);
    if (!cfg || !member || !toId) return;
    // The tier the event moved the member to (they may have moved again before it was dispatched).
    const to = await deps.tiers.getTier(tx, tenantId, toId).catch(() => null);
    if (!to) return;
    const view = await deps.tiers.memberTier(tx, tenantId, member.id);
    const program = await deps.programs.get(tx, tenantId);
    // The way on from there, only while the member is still on it (progress is the current tier's).
    const next = view.tier?.id === to.id ? view.progress.next : null;
    await deps.triggers.send(tx, tenantId, cfg, {
      memberId: member.id, dedupeKey: `event:${e.id}`,
      variables: {
        tier: {
          name: to.names[member.locale] ?? to.name,
          next_name: next?.tier?.name ?? null,
          remaining: next ? formatFigure(view.metric, next.remaining, member.locale, program.currency) : null,
          progress_percent: next && next.threshold > 0 ? Math.min(100, Math.floor((view.figure / next.threshold) * 100)) : null,
        },
      },
    }, member);
  }

  async function rewardMessage(tx: Tx, tenantId: string, e: StoredEvent, memberId: string | null, reward: { rewardId: string | null; code: string | null; expiresAt: Date | null; fallback: keyof typeof FALLBACK_NAMES }) {
    const cfg = await on(tx, tenantId, 'reward_issued');
    const member = cfg && await memberOf(tx, tenantId, memberId);
    if (!cfg || !member) return;
    const tenant = await deps.tenants.getTenant(tx, tenantId);
    const name = reward.rewardId ? (await deps.rewards.get(tx, tenantId, reward.rewardId)).name : null;
    await deps.triggers.send(tx, tenantId, cfg, {
      memberId: member.id, dedupeKey: `event:${e.id}`,
      variables: {
        reward: {
          name: (name && (name[member.locale] ?? name.en ?? Object.values(name).find(Boolean))) || FALLBACK_NAMES[reward.fallback][member.locale],
          code: reward.code,
          expires_on: reward.expiresAt ? localDate(reward.expiresAt, member.time_zone ?? tenant?.time_zone ?? 'UTC') : null,
        },
      },
    }, member);
  }

  async function rewardRedeemed(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    const source = e.payload.source as { type?: string; id?: string } | null;
    // The trigger's own offer: its birthday or win-back message already carries the reward and code.
    if (source?.type === 'system' && source.id && isUuid(source.id) && (await store.getMessage(tx, tenantId, source.id))) return;
    const rr = await deps.rewards.getRedemption(tx, tenantId, String(e.payload.reward_redemption_id ?? e.aggregate_id));
    const voucher = rr.voucher ? await deps.vouchers.get(tx, tenantId, rr.voucher.id) : null;
    await rewardMessage(tx, tenantId, e, rr.member_id, { rewardId: rr.reward_id, code: voucher?.code ?? null, expiresAt: voucher?.expires_at ?? null, fallback: 'reward' });
  }

  async function voucherIssued(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    // Issued by a reward redemption: reward.redeemed tells the member (one message per reward).
    if (str(e.payload.redemption_id) || str(e.payload.reward_id)) return;
    const memberId = str(e.payload.member_id);
    if (!memberId) return;
    const v = await deps.vouchers.get(tx, tenantId, String(e.payload.voucher_id ?? e.aggregate_id));
    await rewardMessage(tx, tenantId, e, memberId, { rewardId: null, code: v.code, expiresAt: v.expires_at, fallback: 'voucher' });
  }

  async function surveyInvited(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    const cfg = await on(tx, tenantId, 'survey_invitation');
    const member = cfg && await memberOf(tx, tenantId, str(e.payload.member_id) ?? e.member_id);
    if (!cfg || !member) return;
    // By email, only a member with an address has anyone to invite.
    if (cfg.channel === 'email' && !member.email) return;
    const inv = await deps.surveys.getInvitation(tx, tenantId, String(e.payload.invitation_id ?? e.aggregate_id), true);
    if (!inv.url || inv.status !== 'pending') return;
    const survey = await deps.surveys.get(tx, tenantId, inv.survey_id);
    await deps.triggers.send(tx, tenantId, cfg, { memberId: member.id, dedupeKey: `event:${e.id}`, variables: { survey: { link: inv.url, name: survey.name } } }, member);
  }

  /**
   * A case reply is stored `pending` until its message's outcome: every way it can end without a message (the trigger
   * off, the member blocked or erased, no address, anonymous feedback that left none) marks it `failed` at once.
   */
  async function caseReplied(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    const entryId = str(e.payload.entry_id);
    if (!entryId) return;
    const failed = async () => { await deps.cases.replyDelivered(tx, tenantId, entryId, 'failed'); };
    const found = await deps.cases.replyOf(tx, tenantId, entryId);
    if (!found || !found.entry.body) return;
    const cfg = await on(tx, tenantId, 'case_reply');
    if (!cfg) return failed();
    const variables = { case: { reply: found.entry.body, reference: found.case.id } };
    if (found.case.member_id) {
      const member = await memberOf(tx, tenantId, found.case.member_id);
      if (!member || !reachableOn(member, cfg.channel)) return failed();
      const res = await deps.triggers.send(tx, tenantId, cfg, { memberId: member.id, dedupeKey: `reply:${entryId}`, variables }, member);
      if (!res) return failed();
    } else if (found.case.contact_email) {
      // Anonymous feedback: the reply goes to the address it left, by email, in the tenant's language.
      const tenant = await deps.tenants.getTenant(tx, tenantId);
      await deps.triggers.send(tx, tenantId, { ...cfg, channel: 'email' }, {
        memberId: null, to: { address: found.case.contact_email, locale: (tenant?.default_locale ?? 'en') as Locale }, dedupeKey: `reply:${entryId}`, variables,
      });
    } else {
      return failed();
    }
  }

  async function referralConverted(tx: Tx, tenantId: string, e: StoredEvent): Promise<void> {
    const cfg = await on(tx, tenantId, 'referral_converted');
    const referrer = cfg && await memberOf(tx, tenantId, str(e.payload.referrer_id));
    if (!cfg || !referrer) return;
    const friendId = str(e.payload.referee_id);
    const friend = friendId ? await deps.members.find(tx, tenantId, { id: friendId }) : null;
    const reward = e.payload.referrer_reward as { points?: number } | null;
    // The referrer's code was made when they shared it; a read, so a message never makes one.
    const own = await deps.referrals.codeOf(tx, tenantId, referrer.id);
    await deps.triggers.send(tx, tenantId, cfg, {
      memberId: referrer.id, dedupeKey: `event:${e.id}`,
      variables: {
        referral: { friend_name: friend && friend.status !== 'erased' ? friend.first_name : null, points: reward?.points || null, code: own?.code ?? null, link: own?.link ?? null },
      },
    }, referrer);
  }

  /** The sender's word on a case reply's email: the reply is marked sent or failed (a bounce is a failure). */
  async function messageOutcome(tx: Tx, tenantId: string, e: StoredEvent, state: 'sent' | 'failed'): Promise<void> {
    const id = str(e.payload.message_id) ?? e.aggregate_id;
    const m = isUuid(id) ? await store.getMessage(tx, tenantId, id) : null;
    if (!m || m.trigger !== 'case_reply' || !m.dedupe_key.startsWith('reply:')) return;
    await deps.cases.replyDelivered(tx, tenantId, m.dedupe_key.slice('reply:'.length), state);
  }

  return {
    name: 'messaging.triggers',
    types: new Set(TRIGGER_EVENT_TYPES),
    async handle(tx, tenantId, events) {
      const oldest = deps.now().getTime() - EVENT_TRIGGER_MAX_AGE_MS;
      for (const e of events) {
        if (!ALWAYS_HANDLED.has(e.type) && e.occurred_at.getTime() < oldest) {
          // A reply too old to send now is still not left pending.
          const entryId = e.type === 'case.replied' ? str(e.payload.entry_id) : null;
          if (entryId) await deps.cases.replyDelivered(tx, tenantId, entryId, 'failed');
          continue;
        }
        await handlers[e.type]?.(tx, tenantId, e);
      }
    },
  };
}
