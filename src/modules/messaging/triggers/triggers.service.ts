/**
 * The member triggers (docs/messaging/triggers.md): their per-tenant settings, the scheduled ones (birthday,
 * anniversary, points expiring, tier at risk, win-back; the `messages.triggers` job) and the ones that react to domain
 * events (triggers.consumer.ts). A trigger only enqueues: MessagingService.enqueue records the message idempotently by
 * trigger and dedupe key, in the caller's transaction, and the sender decides at send time (consent, quiet hours,
 * suppressions). An offer is given in the transaction that enqueued its message, and only when the message is new, so
 * the unique dedupe key makes both happen once however many runs and processes race.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../../platform/db/db.js';
import { errors, type FieldError } from '../../../platform/errors.js';
import { emit } from '../../../platform/outbox/outbox.js';
import { welchTest, summarizeSample, type WelchResult } from '../../analytics/economics/stats.js';
import type { Ledger } from '../../ledger/ledger.service.js';
import type { MembersService, MemberRow } from '../../members/members.service.js';
import { fromLocal, localDate, toLocal } from '../../programs/programs.policy.js';
import type { ProgramsService } from '../../programs/programs.service.js';
import { giveOrReport, type GiveGift } from '../../rewards/rewards.gift.js';
import type { RewardsService } from '../../rewards/rewards.service.js';
import type { TenantRow, TenantsService } from '../../tenants/tenants.service.js';
import type { TiersService } from '../../tiers/tiers.service.js';
import type { TransactionsService } from '../../transactions/transactions.service.js';
import { reachableOn, type MessagingService } from '../messaging.service.js';
import { MEMBER_TRIGGERS, type EnqueueResult, type MemberTrigger, type MessageRequest, type TemplateVariables } from '../messaging.types.js';
import { formatFigure } from './triggers.format.js';
import {
  bodyErrors, effective, hasOffer, type Offer, type StoredTrigger, type TimingSettings, type TriggerBody, type TriggerConfig, type TriggerView, viewOf,
} from './triggers.settings.js';
import * as store from './triggers.store.js';

const DAY_MS = 86_400_000;
/** Members per page of a scheduled scan. */
const PAGE = 1000;

/** The triggers whose templates may show `points.balance` (templates.variables.ts): it is filled when they are sent. */
const BALANCE_TRIGGERS: ReadonlySet<MemberTrigger> = new Set<MemberTrigger>(['birthday', 'anniversary', 'points_expiring', 'tier_upgraded', 'tier_at_risk', 'referral_converted', 'win_back']);

export interface TriggersDeps {
  clock: Clock;
  messaging: Pick<MessagingService, 'enqueue'>;
  members: Pick<MembersService, 'find' | 'get' | 'celebrating'>;
  tenants: Pick<TenantsService, 'getTenant'>;
  programs: Pick<ProgramsService, 'get'>;
  ledger: Pick<Ledger, 'open' | 'balance' | 'expiringByMember'>;
  tiers: Pick<TiersService, 'memberTier' | 'evaluationsBetween'>;
  transactions: Pick<TransactionsService, 'lapsedPurchasers' | 'qualifyingSpend'>;
  rewards: Pick<RewardsService, 'get'>;
  giveGift: GiveGift;
  /** The members on the newest published at-risk list (analytics/at-risk/targets.ts). */
  atRisk: (q: Queryable, tenantId: string, afterId: string | null, limit: number) => Promise<string[]>;
}

/**
 * Where in [0, 1) a member falls for a win-back period: the first 8 bytes of SHA-256("win_back:" period ":" member)
 * as an unsigned integer, top 53 bits (the campaigns module's draw, keyed by the period instead of a campaign).
 */
export function winBackDraw(period: number, memberId: string): number {
  const h = createHash('sha256').update(`win_back:${period}:${memberId}`).digest();
  return Number(h.readBigUInt64BE(0) >> 11n) / 2 ** 53;
}

/** The win-back period of an instant: whole days since 1970 divided by repeat_after_days. */
export const winBackPeriod = (at: Date, repeatAfterDays: number): number => Math.floor(Math.floor(at.getTime() / DAY_MS) / repeatAfterDays);

export interface GroupResult {
  members: number;
  purchasers: number;
  purchase_rate: number | null;
  revenue: number;
  revenue_per_member: number | null;
}

export interface Difference {
  estimate: number;
  ci_low: number;
  ci_high: number;
  p_value: number;
}

export interface WinBackResults {
  from: string;
  to: string;
  days: number;
  currency: string;
  treated: GroupResult;
  control: GroupResult;
  difference: { purchase_rate: Difference | null; revenue_per_member: Difference | null };
}

export class TriggersService {
  constructor(private readonly deps: TriggersDeps) {}

  // ── Settings ──────────────────────────────────────────────────────────────

  async list(q: Queryable, tenantId: string): Promise<TriggerView[]> {
    const rows = new Map((await store.listTriggers(q, tenantId)).map((r) => [r.trigger, r]));
    return MEMBER_TRIGGERS.map((t) => viewOf(effective(t, rows.get(t) ?? null)));
  }

  async get(q: Queryable, tenantId: string, trigger: MemberTrigger): Promise<TriggerView> {
    return viewOf(await this.config(q, tenantId, trigger));
  }

  async config<T extends MemberTrigger>(q: Queryable, tenantId: string, trigger: T): Promise<TriggerConfig<T>> {
    return effective(trigger, await store.getTrigger(q, tenantId, trigger));
  }

  checkBody(trigger: MemberTrigger, body: unknown): FieldError[] {
    return bodyErrors(trigger, body);
  }

  /**
   * PUT (`replace`: fields left out go back to their defaults) or PATCH (fields left out stay). An offer's reward
   * must be one of the tenant's rewards (400 naming `offer.reward_id`). Emits `message_trigger.updated`.
   */
  async update(tx: Tx, tenantId: string, trigger: MemberTrigger, body: TriggerBody, replace: boolean): Promise<TriggerView> {
    const errs = bodyErrors(trigger, body);
    if (body.offer?.reward_id) {
      const found = await this.deps.rewards.get(tx, tenantId, body.offer.reward_id).then(() => true, () => false);
      if (!found) errs.push({ field: 'offer.reward_id', detail: 'is not a reward of this program' });
    }
    if (errs.length) throw errors.validation(errs);
    const stored = await store.getTrigger(tx, tenantId, trigger, true);
    const current = effective(trigger, replace ? null : stored);
    const next: StoredTrigger = {
      trigger,
      enabled: body.enabled ?? current.enabled,
      channel: body.channel ?? current.channel,
      settings: { ...current.settings, ...(body.settings ?? {}) },
      offer: hasOffer(trigger) ? (body.offer !== undefined ? body.offer : current.offer) : null,
      updated_at: this.deps.clock.now(),
    };
    const saved = await store.saveTrigger(tx, tenantId, next);
    const before = effective(trigger, stored);
    const changed = (['enabled', 'channel', 'settings', 'offer'] as const).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(effective(trigger, saved)[k]));
    await emit(tx, {
      tenantId, type: 'message_trigger.updated', aggregateType: 'message_trigger', aggregateId: trigger, occurredAt: saved.updated_at,
      payload: { trigger, enabled: saved.enabled, channel: saved.channel, changed },
    });
    return viewOf(effective(trigger, saved));
  }

  // ── Sending (every trigger goes through here) ──────────────────────────────

  /**
   * Enqueues one trigger's message for an active member (blocked and erased members get none), with the trigger's
   * channel and, for the triggers that show it, the member's points balance; when the message is new and the trigger
   * has an offer (and the member is not held out), gives it in the same transaction and records what it gave on the
   * message. Null when the member is not active. `member` and `tenant`: rows the caller has already read.
   */
  async send(tx: Tx, tenantId: string, cfg: TriggerConfig, req: Omit<MessageRequest, 'trigger' | 'channel'>, member?: MemberRow | null, tenant?: TenantRow | null): Promise<EnqueueResult | null> {
    if (req.memberId) {
      member ??= await this.deps.members.find(tx, tenantId, { id: req.memberId });
      if (!member || member.status !== 'active') return null;
    }
    let variables = req.variables;
    if (member && BALANCE_TRIGGERS.has(cfg.trigger) && variables.points?.balance === undefined) {
      const balance = await this.deps.ledger.balance(tx, tenantId, member.id);
      variables = { ...variables, points: { ...variables.points, balance: balance.available } };
    }
    const res = await this.deps.messaging.enqueue(tx, tenantId, { ...req, variables, trigger: cfg.trigger, channel: cfg.channel }, { member, tenant });
    if (res.created && cfg.offer && !req.control && member && (await this.reachable(tx, tenantId, cfg, member))) {
      await this.giveOffer(tx, tenantId, cfg.trigger, cfg.offer, res.id, member);
    }
    return res;
  }

  /**
   * Whether the member can hear of an offer now: consent for the trigger's channel (every offer trigger is marketing)
   * and an address on it (push needs none: the provider knows the member). A gift nobody is told about still costs,
   * so without them the message is recorded all the same (the sender suppresses it) and no offer is given.
   */
  private async reachable(tx: Tx, tenantId: string, cfg: TriggerConfig, member: MemberRow): Promise<boolean> {
    if (!reachableOn(member, cfg.channel)) return false;
    if (cfg.category !== 'marketing') return true;
    return (await this.deps.members.get(tx, tenantId, member.id)).consent[cfg.channel]?.granted === true;
  }

  private async giveOffer(tx: Tx, tenantId: string, trigger: MemberTrigger, offer: Offer, messageId: string, member: MemberRow): Promise<void> {
    const program = await this.deps.programs.get(tx, tenantId);
    const book = await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
    // An offer that cannot be given (a reward archived or out of stock) does not hold the message back: gift.failed
    // says so and the message goes without it.
    const result = await giveOrReport(this.deps.giveGift, tx, book, offer, { source_type: 'system', source_id: messageId, reason: `${trigger.replace('_', ' ')} message` }, this.deps.clock.now());
    let rewardName: string | null = null;
    if (offer.reward_id && result.reward_redemption_id) {
      const reward = await this.deps.rewards.get(tx, tenantId, offer.reward_id);
      rewardName = reward.name[member.locale] ?? reward.name.en ?? null;
    }
    // The balance the message shows includes the points just given.
    const balance = result.points ? (await this.deps.ledger.balance(tx, tenantId, member.id)).available : null;
    await store.setOffer(tx, tenantId, messageId, { ...offer, result }, {
      points: result.points || null, reward_name: rewardName, code: result.voucher_code,
    }, balance);
  }

  // ── Scheduled triggers (the messages.triggers job) ──────────────────────────

  /** One tenant's run: every enabled scheduled trigger; returns how many messages each enqueued. */
  async runTenant(db: Db, tenantId: string): Promise<Record<string, number>> {
    const tenant = await this.deps.tenants.getTenant(db, tenantId);
    if (!tenant) return {};
    const out: Record<string, number> = {};
    const birthday = await this.config(db, tenantId, 'birthday');
    if (birthday.enabled) out.birthday = await this.celebrations(db, tenantId, birthday, tenant);
    const anniversary = await this.config(db, tenantId, 'anniversary');
    if (anniversary.enabled) out.anniversary = await this.celebrations(db, tenantId, anniversary, tenant);
    const expiring = await this.config(db, tenantId, 'points_expiring');
    if (expiring.enabled) out.points_expiring = await this.pointsExpiring(db, tenantId, expiring, tenant);
    const atRisk = await this.config(db, tenantId, 'tier_at_risk');
    if (atRisk.enabled) out.tier_at_risk = await this.tierAtRisk(db, tenantId, atRisk, tenant);
    const winBack = await this.config(db, tenantId, 'win_back');
    if (winBack.enabled) out.win_back = await this.winBack(db, tenantId, winBack, tenant);
    return out;
  }

  /**
   * Birthday or enrolment anniversary: members whose day it is in their own time zone, once their local send_hour has
   * come (a run later that day still finds them; a day with no run at all is not made up). One per member and local year.
   */
  private async celebrations(db: Db, tenantId: string, cfg: TriggerConfig<'birthday' | 'anniversary'>, tenant: TenantRow): Promise<number> {
    const kind = cfg.trigger;
    const tz = tenant.time_zone;
    let sent = 0;
    let after: string | null = null;
    for (;;) {
      const rows = await this.deps.members.celebrating(db, tenantId, { kind, at: this.deps.clock.now(), defaultTz: tz, hour: cfg.settings.send_hour, afterId: after, limit: PAGE });
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.member_id;
      const key = (r: (typeof rows)[number]) => `${kind}:${r.member_id}:${r.local_date.slice(0, 4)}`;
      const done = await store.existingKeys(db, tenantId, kind, rows.map(key));
      for (const r of rows) {
        if (done.has(key(r))) continue;
        const variables: Partial<TemplateVariables> = kind === 'anniversary' ? { anniversary: { years: r.years } } : {};
        const res = await db.tx((tx) => this.send(tx, tenantId, cfg, { memberId: r.member_id, dedupeKey: key(r), variables }, undefined, tenant));
        if (res?.created) sent++;
      }
      if (rows.length < PAGE) break;
    }
    return sent;
  }

  /**
   * Points expiring: members with active points in lots that expire within days_before days. The message names the
   * points of the lots expiring on the earliest of those dates (the member's calendar) and that date, so what it says
   * is exactly true. One per member and earliest expiry date (the tenant's calendar), sent from send_hour, and none to
   * a member who had one within days_before days: lots expiring a few days apart (a frequent buyer's) would otherwise
   * send a new email every few days.
   */
  private async pointsExpiring(db: Db, tenantId: string, cfg: TriggerConfig<'points_expiring'>, tenant: TenantRow): Promise<number> {
    const tz = tenant.time_zone;
    const now = this.deps.clock.now();
    const window = cfg.settings.days_before * DAY_MS;
    const until = new Date(now.getTime() + window);
    // One read of the window for the whole run; a day beyond it so that lots expiring later on the earliest date count.
    const rows = (await this.deps.ledger.expiringByMember(db, tenantId, now, new Date(until.getTime() + DAY_MS)))
      .filter((r) => r.lots[0]!.expires_at <= until);
    const since = new Date(now.getTime() - window);
    let sent = 0;
    for (let i = 0; i < rows.length; i += PAGE) {
      const page = rows.slice(i, i + PAGE);
      const key = (r: (typeof rows)[number]) => `points_expiring:${r.member_id}:${localDate(r.lots[0]!.expires_at, tz)}`;
      const done = await store.existingKeys(db, tenantId, 'points_expiring', page.map(key));
      const recent = await store.messagedSince(db, tenantId, 'points_expiring', page.map((r) => r.member_id), since);
      for (const r of page) {
        if (done.has(key(r)) || recent.has(r.member_id)) continue;
        const res = await db.tx(async (tx) => {
          const member = await this.deps.members.find(tx, tenantId, { id: r.member_id });
          if (!member) return null;
          const mtz = member.time_zone ?? tz;
          const day = localDate(r.lots[0]!.expires_at, mtz);
          const points = r.lots.filter((l) => localDate(l.expires_at, mtz) === day).reduce((sum, l) => sum + l.points, 0);
          const balance = await this.deps.ledger.balance(tx, tenantId, r.member_id);
          return this.send(tx, tenantId, cfg, {
            memberId: r.member_id, dedupeKey: key(r), sendAfter: this.sendHour(now, mtz, cfg.settings.send_hour),
            variables: { points: { balance: balance.available, expiring: points, expiring_on: day } },
          }, member, tenant);
        });
        if (res?.created) sent++;
      }
    }
    return sent;
  }

  /**
   * Tier at risk: members whose qualified tier is next evaluated within days_before days and who have not yet done
   * enough to keep it (the tiers module's keep progress: what is left, by the evaluation date). One per member and
   * evaluation date.
   */
  private async tierAtRisk(db: Db, tenantId: string, cfg: TriggerConfig<'tier_at_risk'>, tenant: TenantRow): Promise<number> {
    const tz = tenant.time_zone;
    let sent = 0;
    let after: { at: Date; memberId: string } | null = null;
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(db, tenantId);
    for (;;) {
      const rows = await this.deps.tiers.evaluationsBetween(db, tenantId, now, new Date(now.getTime() + cfg.settings.days_before * DAY_MS), after, PAGE);
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      after = { at: last.next_evaluation_at, memberId: last.member_id };
      const key = (r: (typeof rows)[number]) => `tier_at_risk:${r.member_id}:${localDate(r.next_evaluation_at, tz)}`;
      const done = await store.existingKeys(db, tenantId, 'tier_at_risk', rows.map(key));
      for (const r of rows) {
        if (done.has(key(r))) continue;
        const res = await db.tx(async (tx) => {
          const member = await this.deps.members.find(tx, tenantId, { id: r.member_id });
          if (!member) return null;
          const view = await this.deps.tiers.memberTier(tx, tenantId, r.member_id);
          const keep = view.progress.keep;
          if (!view.tier || !keep || keep.remaining <= 0) return null;
          const mtz = member.time_zone ?? tz;
          return this.send(tx, tenantId, cfg, {
            memberId: r.member_id, dedupeKey: key(r), sendAfter: this.sendHour(now, mtz, cfg.settings.send_hour),
            variables: {
              tier: {
                name: view.tier.names[member.locale] ?? view.tier.name,
                keep_remaining: formatFigure(view.metric, keep.remaining, member.locale, program.currency),
                keep_by: localDate(new Date(keep.by), mtz),
              },
            },
          }, member, tenant);
        });
        if (res?.created) sent++;
      }
      if (rows.length < PAGE) break;
    }
    return sent;
  }

  /**
   * Win-back: members on the newest published at-risk list, or who have bought before but not for
   * days_without_purchase days; not within repeat_after_days of their last win-back. control_percent of them, drawn
   * by a hash of the member and the period (deterministic: a rerun draws the same), are recorded as `control` and get
   * neither message nor offer; the others get the offer and the message. One per member and period.
   */
  private async winBack(db: Db, tenantId: string, cfg: TriggerConfig<'win_back'>, tenant: TenantRow): Promise<number> {
    const s: TimingSettings['win_back'] = cfg.settings;
    const now = this.deps.clock.now();
    const period = winBackPeriod(now, s.repeat_after_days);
    const since = new Date(now.getTime() - s.repeat_after_days * DAY_MS);
    let sent = 0;
    let after: string | null = null;
    for (;;) {
      const ids: string[] = s.source === 'at_risk'
        ? await this.deps.atRisk(db, tenantId, after, PAGE)
        : await this.deps.transactions.lapsedPurchasers(db, tenantId, new Date(now.getTime() - s.days_without_purchase * DAY_MS), after, PAGE);
      if (ids.length === 0) break;
      after = ids[ids.length - 1]!;
      const recent = await store.messagedSince(db, tenantId, 'win_back', ids, since);
      for (const id of ids) {
        if (recent.has(id)) continue;
        const control = winBackDraw(period, id) < s.control_percent / 100;
        const res = await db.tx((tx) => this.send(tx, tenantId, cfg, {
          memberId: id, dedupeKey: `win_back:${id}:${period}`, control, variables: {},
        }, undefined, tenant));
        if (res?.created) sent++;
      }
      if (ids.length < PAGE) break;
    }
    return sent;
  }

  /** Today's send_hour in the member's time zone, or now when it has passed. */
  private sendHour(now: Date, tz: string, hour: number): Date {
    const l = toLocal(now, tz);
    const at = fromLocal({ ...l, hour, minute: 0, second: 0, millisecond: 0 }, tz);
    return at > now ? at : now;
  }

  // ── Win-back results ──────────────────────────────────────────────────────

  /**
   * Members given a win-back (treated) or held out (control) in [from, to): how many bought within `days` after
   * their message (recorded purchases net of returns, by occurred_at), the revenue per member, and the difference
   * treated − control with its 95 % interval by Welch's test. Treated counts every member drawn into treatment,
   * whether or not the message could be delivered (no consent, no address), as control counts every member held out.
   */
  async winBackResults(q: Queryable, tenantId: string, from: Date, to: Date, days: number): Promise<WinBackResults> {
    if (to <= from) throw errors.field('to', 'must be after from');
    const program = await this.deps.programs.get(q, tenantId);
    const messages = await store.winBackMessages(q, tenantId, from, to);
    // A member given two win-backs in the range counts twice, each with their own window: rounds hold each member
    // once (a member's k-th message goes to round k), since qualifyingSpend answers one window per member.
    const rounds: Array<typeof messages> = [];
    const seen = new Map<string, number>();
    for (const m of messages) {
      const k = seen.get(m.member_id) ?? 0;
      seen.set(m.member_id, k + 1);
      (rounds[k] ??= []).push(m);
    }
    const treated = { bought: [] as number[], revenue: [] as number[] };
    const control = { bought: [] as number[], revenue: [] as number[] };
    for (const round of rounds) {
      for (let i = 0; i < round.length; i += 5000) {
        const chunk = round.slice(i, i + 5000);
        const spend = await this.deps.transactions.qualifyingSpend(q, tenantId, chunk.map((m) => ({
          member_id: m.member_id, from: m.created_at, to: new Date(m.created_at.getTime() + days * DAY_MS),
        })));
        for (const m of chunk) {
          const s = spend.get(m.member_id) ?? { spent: 0, purchases: 0 };
          const g = m.status === 'control' ? control : treated;
          g.bought.push(s.purchases > 0 ? 1 : 0);
          g.revenue.push(s.spent);
        }
      }
    }
    const group = (g: typeof treated): GroupResult => {
      const n = g.bought.length;
      const purchasers = g.bought.reduce((a, b) => a + b, 0);
      const revenue = g.revenue.reduce((a, b) => a + b, 0);
      return { members: n, purchasers, purchase_rate: n ? purchasers / n : null, revenue, revenue_per_member: n ? revenue / n : null };
    };
    const diff = (w: WelchResult | null): Difference | null => (w ? { estimate: w.difference, ci_low: w.ci_low, ci_high: w.ci_high, p_value: w.p_value } : null);
    return {
      from: from.toISOString(), to: to.toISOString(), days, currency: program.currency,
      treated: group(treated), control: group(control),
      difference: {
        purchase_rate: diff(welchTest(summarizeSample(treated.bought), summarizeSample(control.bought))),
        revenue_per_member: diff(welchTest(summarizeSample(treated.revenue), summarizeSample(control.revenue))),
      },
    };
  }
}
