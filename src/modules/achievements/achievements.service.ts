/**
 * Achievements (docs/program/achievements.md): badges a member earns once, judged inside the transaction of the order
 * or event that earns them (with the member's points locked, so a badge's bonus goes through that same book), and an
 * opt-in leaderboard per week, month or year in the tenant's time zone.
 *
 * The facts badges are judged by are this module's own: a row per purchase (its ISO week and categories) and a count
 * per event name, written by the same hooks. History starts when the module does: purchases before it are not counted.
 * A voided purchase stops counting towards badges not yet earned; a return changes nothing; no badge is ever revoked.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { EventHook } from '../events/events.service.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MembersService } from '../members/members.service.js';
import { addDays, addMonths, fromLocal, toLocal, type LocalDateTime } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { giftErrors, giveOrReport, type GiveGift } from '../rewards/rewards.gift.js';
import type { OrderHook } from '../transactions/transactions.service.js';
import { encodeCursor } from '../../platform/http/pagination.js';
import { LIMITS, type CreateBadgeInput, type CriterionKind, type LeaderboardPeriod, type UpdateBadgeInput } from './achievements.schema.js';
import * as store from './achievements.store.js';
import type { BadgeRow, Criterion, EarnedRow, PurchaseStats } from './achievements.store.js';

export type { BadgeRow } from './achievements.store.js';

const PURCHASE_KINDS: CriterionKind[] = ['first_purchase', 'nth_purchase', 'purchase_streak_weeks', 'all_categories'];
const DAY_MS = 86_400_000;

/** The fields each criterion kind takes (besides `kind`). */
const CRITERION_FIELDS: Record<CriterionKind, readonly ('n' | 'categories' | 'name')[]> = {
  first_purchase: [],
  nth_purchase: ['n'],
  purchase_streak_weeks: ['n'],
  all_categories: ['categories'],
  event_count: ['name', 'n'],
};

/** Every problem of a criterion the schema cannot see (it tolerates wrong types: the schema reports those). */
export function criterionErrors(field: string, c: unknown): FieldError[] {
  if (!c || typeof c !== 'object' || Array.isArray(c)) return [];
  const crit = c as Record<string, unknown>;
  const kind = crit.kind as CriterionKind;
  const wanted = CRITERION_FIELDS[kind];
  if (!wanted) return [];
  const errs: FieldError[] = [];
  for (const k of ['n', 'categories', 'name'] as const) {
    if (wanted.includes(k) && crit[k] === undefined) errs.push({ field: `${field}.${k}`, detail: `is required for ${kind}` });
    if (!wanted.includes(k) && crit[k] !== undefined) errs.push({ field: `${field}.${k}`, detail: `is not used by ${kind}` });
  }
  if (kind === 'purchase_streak_weeks' && typeof crit.n === 'number' && crit.n > LIMITS.streakWeeks) errs.push({ field: `${field}.n`, detail: `must be at most ${LIMITS.streakWeeks} weeks` });
  return errs;
}

/** The Monday (YYYY-MM-DD) of the ISO week containing `at` in `timeZone`. */
export function weekOf(at: Date, timeZone: string): string {
  const l = toLocal(at, timeZone);
  const day = Date.UTC(l.year, l.month - 1, l.day);
  const dow = (new Date(day).getUTCDay() + 6) % 7; // 0 = Monday
  return new Date(day - dow * DAY_MS).toISOString().slice(0, 10);
}

const weekNo = (monday: string) => Math.round(Date.parse(`${monday}T00:00:00Z`) / (7 * DAY_MS));

/** The run of consecutive weeks (sorted Mondays) that contains `week`, 0 when it has no purchase. */
function runThrough(weeks: string[], week: string): number {
  const set = new Set(weeks.map(weekNo));
  const w = weekNo(week);
  if (!set.has(w)) return 0;
  let n = 1;
  for (let x = w - 1; set.has(x); x--) n++;
  for (let x = w + 1; set.has(x); x++) n++;
  return n;
}

export interface BadgeProgress {
  current: number;
  target: number;
}

/** How far a member is towards a badge, as of `now` (a streak counts while this or last week has a purchase). */
function progressOf(c: Criterion, s: PurchaseStats, events: Map<string, number>, now: Date, timeZone: string): BadgeProgress {
  switch (c.kind) {
    case 'first_purchase': return { current: Math.min(s.purchases, 1), target: 1 };
    case 'nth_purchase': return { current: Math.min(s.purchases, c.n!), target: c.n! };
    case 'purchase_streak_weeks': {
      const thisWeek = weekOf(now, timeZone);
      const lastWeek = weekOf(new Date(now.getTime() - 7 * DAY_MS), timeZone);
      const run = Math.max(runThrough(s.weeks, thisWeek), runThrough(s.weeks, lastWeek));
      return { current: Math.min(run, c.n!), target: c.n! };
    }
    case 'all_categories': {
      const bought = new Set(s.categories);
      return { current: c.categories!.filter((x) => bought.has(x)).length, target: c.categories!.length };
    }
    case 'event_count': return { current: Math.min(events.get(c.name!) ?? 0, c.n!), target: c.n! };
  }
}

/** Whether a purchase in `week` (or an event) meets the criterion now. */
function met(c: Criterion, s: PurchaseStats, events: Map<string, number>, week: string | null): boolean {
  switch (c.kind) {
    case 'first_purchase': return s.purchases >= 1;
    case 'nth_purchase': return s.purchases >= c.n!;
    case 'purchase_streak_weeks': return week !== null && runThrough(s.weeks, week) >= c.n!;
    case 'all_categories': {
      const bought = new Set(s.categories);
      return c.categories!.every((x) => bought.has(x));
    }
    case 'event_count': return (events.get(c.name!) ?? 0) >= c.n!;
  }
}

/** "Maria I.": the first name and the initial of the last name; never an email or phone. */
export function displayName(m: { id: string; first_name: string | null; last_name: string | null }): string {
  const first = m.first_name?.trim();
  const initial = m.last_name?.trim() ? `${[...m.last_name.trim()][0]!.toUpperCase()}.` : '';
  if (!first) return initial ? `Member ${initial}` : `Member ${m.id.slice(-4)}`;
  return initial ? `${first} ${initial}` : first;
}

/** [from, to) of the week (ISO, from Monday), month or year containing `at` in `timeZone`. */
export function periodBounds(period: LeaderboardPeriod, at: Date, timeZone: string): { from: Date; to: Date } {
  const l = toLocal(at, timeZone);
  const midnight: LocalDateTime = { ...l, hour: 0, minute: 0, second: 0, millisecond: 0 };
  let start: LocalDateTime;
  let end: LocalDateTime;
  if (period === 'week') {
    const monday = weekOf(at, timeZone).split('-').map(Number) as [number, number, number];
    start = { ...midnight, year: monday[0], month: monday[1], day: monday[2] };
    end = addDays(start, 7);
  } else if (period === 'month') {
    start = { ...midnight, day: 1 };
    end = addMonths(start, 1);
  } else {
    start = { ...midnight, month: 1, day: 1 };
    end = addMonths(start, 12);
  }
  return { from: fromLocal(start, timeZone), to: fromLocal(end, timeZone) };
}

export interface MemberBadgeView {
  badge_id: string;
  code: string;
  name: BadgeRow['name'];
  icon_url: string | null;
  criterion: Criterion;
  earned: boolean;
  earned_at: Date | null;
  progress: BadgeProgress;
  bonus: EarnedRow['bonus'];
}

export interface LeaderboardView {
  period: LeaderboardPeriod;
  by: 'points' | 'badges';
  from: Date;
  to: Date;
  data: Array<{ rank: number; member_id: string; display_name: string; score: number }>;
  next_cursor: string | null;
}

export class AchievementsService {
  constructor(private readonly deps: { clock: Clock; ledger: Ledger; members: MembersService; programs: ProgramsService; giveGift: GiveGift }) {}

  // ── Badge definitions ─────────────────────────────────────────────────────────

  checkCreate(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    return [...criterionErrors('criterion', b.criterion), ...(b.bonus && typeof b.bonus === 'object' ? giftErrors('bonus', b.bonus) : [])];
  }

  checkPatch(body: unknown): FieldError[] {
    return this.checkCreate(body);
  }

  async create(tx: Tx, tenantId: string, input: CreateBadgeInput): Promise<BadgeRow> {
    const errs = this.checkCreate(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const row = await store.insertBadge(tx, tenantId, {
      id: newId(), code: input.code, name: input.name, description: input.description ?? null, icon_url: input.icon_url ?? null,
      criterion: input.criterion as Criterion, bonus: input.bonus ?? null, status: 'active', created_at: now, updated_at: now, archived_at: null,
    });
    if (!row) throw errors.conflict(`A badge with code "${input.code}" already exists.`, [{ field: 'code', detail: 'is already taken by another badge' }]);
    await emit(tx, { tenantId, type: 'badge.created', aggregateType: 'badge', aggregateId: row.id, occurredAt: now, payload: { badge_id: row.id, code: row.code, criterion: row.criterion } });
    return row;
  }

  async update(tx: Tx, tenantId: string, id: string, patch: UpdateBadgeInput): Promise<BadgeRow> {
    const errs = this.checkPatch(patch);
    if (errs.length) throw errors.validation(errs);
    const current = await store.getBadge(tx, tenantId, id, true);
    if (!current) throw errors.notFound('badge', id);
    if (current.status === 'archived') throw errors.unprocessable(`Badge ${id} is archived and cannot change.`);
    const now = this.deps.clock.now();
    const row = await store.updateBadge(tx, tenantId, {
      ...current,
      name: patch.name ?? current.name,
      description: patch.description === undefined ? current.description : patch.description,
      icon_url: patch.icon_url === undefined ? current.icon_url : patch.icon_url,
      criterion: (patch.criterion as Criterion | undefined) ?? current.criterion,
      bonus: patch.bonus === undefined ? current.bonus : patch.bonus,
      updated_at: now,
    });
    await emit(tx, { tenantId, type: 'badge.updated', aggregateType: 'badge', aggregateId: id, occurredAt: now, payload: { badge_id: id, fields: Object.keys(patch) } });
    return row;
  }

  /** Archived: nobody earns it from now on; members who earned it keep it. */
  async archive(tx: Tx, tenantId: string, id: string): Promise<BadgeRow> {
    const current = await store.getBadge(tx, tenantId, id, true);
    if (!current) throw errors.notFound('badge', id);
    if (current.status === 'archived') return current;
    const now = this.deps.clock.now();
    const row = await store.updateBadge(tx, tenantId, { ...current, status: 'archived', archived_at: now, updated_at: now });
    await emit(tx, { tenantId, type: 'badge.archived', aggregateType: 'badge', aggregateId: id, occurredAt: now, payload: { badge_id: id } });
    return row;
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<BadgeRow> {
    const row = await store.getBadge(q, tenantId, id);
    if (!row) throw errors.notFound('badge', id);
    return row;
  }

  list(q: Queryable, tenantId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<BadgeRow[]> {
    return store.listBadges(q, tenantId, f);
  }

  // ── Earning ───────────────────────────────────────────────────────────────────

  /** Gives every badge of `badges` whose criterion is met, once, with its bonus. The member's book is locked. */
  private async award(tx: Tx, book: MemberBook, badges: BadgeRow[], isMet: (b: BadgeRow) => boolean, source: { transaction_id?: string; event_id?: string }): Promise<void> {
    const tenantId = book.tenantId;
    const memberId = book.memberId;
    for (const badge of badges) {
      if (!isMet(badge)) continue;
      const now = this.deps.clock.now();
      const inserted = await store.insertEarned(tx, tenantId, memberId, {
        badge_id: badge.id, earned_at: now, transaction_id: source.transaction_id ?? null, event_id: source.event_id ?? null, bonus: null,
      });
      if (!inserted) continue;
      let bonus = null;
      if (badge.bonus) {
        // A bonus that cannot be given does not fail the order: the badge is earned, the bonus says why not (gift.failed).
        bonus = await giveOrReport(this.deps.giveGift, tx, book, badge.bonus, { source_type: 'achievement', source_id: badge.id, reason: `badge "${badge.name.en}"` }, now);
        await store.setBonus(tx, tenantId, memberId, badge.id, bonus);
      }
      await emit(tx, {
        tenantId, type: 'badge.earned', aggregateType: 'badge', aggregateId: badge.id, memberId, occurredAt: now,
        payload: { badge_id: badge.id, code: badge.code, member_id: memberId, transaction_id: source.transaction_id ?? null, event_id: source.event_id ?? null, bonus },
      });
    }
  }

  orderHook(): OrderHook {
    return {
      name: 'achievements',
      purchased: async (tx, e) => {
        const week = weekOf(e.transaction.occurred_at, e.program.time_zone);
        const categories = [...new Set((e.transaction.lines ?? []).map((l) => l.category).filter((c): c is string => typeof c === 'string'))];
        await store.insertPurchase(tx, e.tenantId, { member_id: e.book.memberId, transaction_id: e.transaction.id, week, categories, occurred_at: e.transaction.occurred_at });
        const badges = await store.unearned(tx, e.tenantId, e.book.memberId, PURCHASE_KINDS);
        if (badges.length === 0) return;
        const stats = await store.purchaseStats(tx, e.tenantId, e.book.memberId);
        await this.award(tx, e.book, badges, (b) => met(b.criterion, stats, new Map(), week), { transaction_id: e.transaction.id });
      },
      // Returns do not revoke badges nor change what counts (the purchase happened); a voided purchase did not.
      voided: async (tx, e) => {
        if (e.voided.type === 'purchase') await store.voidPurchase(tx, e.tenantId, e.memberId, e.voided.id);
      },
    };
  }

  eventHook(): EventHook {
    return {
      name: 'achievements',
      recorded: async (tx, e) => {
        const count = await store.countEvent(tx, e.tenantId, e.book.memberId, e.event.name);
        const badges = (await store.unearned(tx, e.tenantId, e.book.memberId, ['event_count'])).filter((b) => b.criterion.name === e.event.name);
        const counts = new Map([[e.event.name, count]]);
        await this.award(tx, e.book, badges, (b) => met(b.criterion, { purchases: 0, weeks: [], categories: [] }, counts, null), { event_id: e.event.id });
      },
    };
  }

  // ── A member's badges ─────────────────────────────────────────────────────────

  async memberBadges(q: Queryable, tenantId: string, memberId: string, f: { earned?: boolean; afterId?: string; limit: number }): Promise<MemberBadgeView[]> {
    await this.deps.members.findOr404(q, tenantId, memberId);
    const rows = await store.badgesForMember(q, tenantId, memberId, f);
    const needStats = rows.some((r) => !r.earned);
    const stats = needStats ? await store.purchaseStats(q, tenantId, memberId) : { purchases: 0, weeks: [], categories: [] };
    const events = needStats ? await store.eventCounts(q, tenantId, memberId) : new Map<string, number>();
    const tz = needStats ? (await this.deps.programs.get(q, tenantId)).time_zone : 'UTC';
    const now = this.deps.clock.now();
    return rows.map((b) => {
      const target = progressOf(b.criterion, { purchases: 0, weeks: [], categories: [] }, new Map(), now, tz).target;
      return {
        badge_id: b.id, code: b.code, name: b.name, icon_url: b.icon_url, criterion: b.criterion, earned: b.earned !== null,
        earned_at: b.earned?.earned_at ?? null,
        progress: b.earned ? { current: target, target } : progressOf(b.criterion, stats, events, now, tz),
        bonus: b.earned?.bonus ?? null,
      };
    });
  }

  /** GDPR export: the badges the member earned and their leaderboard choice. */
  async exportOf(q: Queryable, tenantId: string, memberId: string) {
    return { badges: await store.earnedBy(q, tenantId, memberId), leaderboard_opted_in_at: await store.optedInAt(q, tenantId, memberId) };
  }

  /** GDPR erasure: an erased member never appears on a leaderboard again. */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.optOut(tx, tenantId, memberId);
  }

  // ── Leaderboard ───────────────────────────────────────────────────────────────

  async optInState(q: Queryable, tenantId: string, memberId: string) {
    await this.deps.members.findOr404(q, tenantId, memberId);
    const at = await store.optedInAt(q, tenantId, memberId);
    return { member_id: memberId, opted_in: at !== null, opted_in_at: at };
  }

  async setOptIn(tx: Tx, tenantId: string, memberId: string, optedIn: boolean) {
    const m = await this.deps.members.findOr404(tx, tenantId, memberId);
    if (m.status === 'erased') throw errors.unprocessable(`Member ${memberId} was erased.`);
    const now = this.deps.clock.now();
    if (optedIn) {
      const before = await store.optedInAt(tx, tenantId, memberId);
      const at = await store.optIn(tx, tenantId, memberId, now);
      if (!before) await emit(tx, { tenantId, type: 'leaderboard.opted_in', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now, payload: { member_id: memberId } });
      return { member_id: memberId, opted_in: true, opted_in_at: at };
    }
    if (await store.optOut(tx, tenantId, memberId)) {
      await emit(tx, { tenantId, type: 'leaderboard.opted_out', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now, payload: { member_id: memberId } });
    }
    return { member_id: memberId, opted_in: false, opted_in_at: null };
  }

  /**
   * Opted-in active members with a positive score in the period, best first (ties by member id), with competition
   * ranks (1, 1, 3). Scores: points through the ledger's read, or badges earned in the period.
   */
  async leaderboard(q: Queryable, tenantId: string, f: { period: LeaderboardPeriod; by: 'points' | 'badges'; at?: Date; after?: { s: number; m: string }; limit: number }): Promise<LeaderboardView> {
    const tz = (await this.deps.programs.get(q, tenantId)).time_zone;
    const { from, to } = periodBounds(f.period, f.at ?? this.deps.clock.now(), tz);
    const candidates = await store.optedIn(q, tenantId);
    const found = (await this.deps.members.findMany(q, tenantId, candidates, [])).filter((m) => m.status === 'active');
    const byId = new Map(found.map((m) => [m.id, m]));
    const active = found.map((m) => m.id);
    const scores = f.by === 'points' ? await this.deps.ledger.earnedBetween(q, tenantId, active, from, to) : await store.badgesEarnedBetween(q, tenantId, active, from, to);
    const ranked = [...scores.entries()].filter(([, s]) => s > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const withRank = ranked.map(([m, s], i) => ({ member_id: m, score: s, rank: i === 0 || ranked[i - 1]![1] !== s ? i + 1 : 0 }));
    for (let i = 1; i < withRank.length; i++) if (withRank[i]!.rank === 0) withRank[i]!.rank = withRank[i - 1]!.rank;
    const start = f.after ? withRank.findIndex((r) => r.score < f.after!.s || (r.score === f.after!.s && r.member_id > f.after!.m)) : 0;
    const slice = start < 0 ? [] : withRank.slice(start, start + f.limit);
    const more = start >= 0 && withRank.length > start + f.limit;
    // The page's rows are among the members loaded above: no query per row.
    const data = slice.map((r) => ({ rank: r.rank, member_id: r.member_id, display_name: displayName(byId.get(r.member_id)!), score: r.score }));
    const last = slice[slice.length - 1];
    return { period: f.period, by: f.by, from, to, data, next_cursor: more && last ? encodeCursor({ s: last.score, m: last.member_id }) : null };
  }
}
