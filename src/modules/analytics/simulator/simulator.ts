/**
 * The what-if simulator's core, pure: no SQL, no clock. It replays a window of real orders, in time order, through
 * two configurations of the program — the draft and the current one — and keeps what actually happened beside them:
 *
 * - Earning is the rule engine's (`evaluateEarn`), returns are the transactions module's own recomputation of what a
 *   purchase keeps (`keptEarningOf`, `keptLinesOf`), pending periods and lot expiry the programs module's date math.
 * - Tiers move by the tiers module's decisions (`riseStep`, `dueStep`, `judge`, `movedState`): up when a figure rises,
 *   down at evaluations, over each configuration's own figures (its points, or the orders' spend and purchases).
 * - Redemptions are not replayed: the points of each simulated lot are expected to be redeemed by the lot's age as
 *   the tenant's members redeemed before (`RedemptionCurve`), up to the lot's expiry. What is left at expiry expires.
 *
 * docs/analytics/simulator.md states every assumption. Memory: one record per member (tier state, figure
 * contributions, cap counters of the current day and month) and one per purchase whose returns are still to come.
 */
import { inactivityDeadline, activatesAt, lotExpiresAt } from '../../programs/programs.policy.js';
import type { ExpiryPolicy } from '../../programs/programs.types.js';
import { evaluateEarn, localTime } from '../../rules/rules.engine.js';
import type { CapUsage, EarnContext, EarnRule, RuleUsage } from '../../rules/rules.types.js';
import {
  baseTier, dueNow, dueStep, dueWindow, judge, movedState, nextEvaluation, canFall, riseStep, startingState, upTo, windowAt,
  type Metric, type TierState, type Window,
} from '../../tiers/tiers.policy.js';
import { earnTransaction, keptEarningOf, keptLinesOf, pendingDaysOf, type PurchaseFacts } from '../../transactions/transactions.service.js';
import type {
  Figures, MemberStart, MonthFigures, RedemptionCurve, ReplayCounts, SimConfig, SimOrder, SimProgram, SimTier, TierCount,
} from './simulator.types.js';

/** A month of a lot's age: the mean calendar month. */
export const MONTH_MS = 30.4375 * 86_400_000;

/** The oldest lot age the redemption curve is estimated to. */
export const CURVE_MONTHS = 24;

// ── Redemption behaviour ────────────────────────────────────────────────────────

/**
 * The share of a lot's points redeemed by each month of its age, from the lots the tenant issued before: for age
 * month k, the points redeemed from lots while they were k months old, over the points of the lots old enough to
 * have lived through that whole month (a lot not yet that old tells nothing about it). `issued` holds the lots' points
 * by their age in whole months at the estimate's date (capped at `maxAge`), `redeemed` the redeemed points by the
 * lot's age then and the age at the redemption. Without a lot a month old, the flat rate (points redeemed / issued
 * over the last 12 months) stands in, reached within the first month. Flat beyond the oldest age observed.
 */
export function redemptionCurve(
  issued: Array<{ full_age: number; amount: number }>,
  redeemed: Array<{ full_age: number; age: number; points: number }>,
  flat: { redeemed: number; issued: number },
  maxAge = CURVE_MONTHS,
): RedemptionCurve {
  const clampAge = (a: number) => Math.max(0, Math.min(maxAge, Math.floor(a)));
  const issuedBy = new Array<number>(maxAge + 1).fill(0);
  for (const r of issued) issuedBy[clampAge(r.full_age)]! += r.amount;
  const redeemedBy = Array.from({ length: maxAge + 1 }, () => new Array<number>(maxAge).fill(0));
  for (const r of redeemed) {
    const age = Math.max(0, Math.floor(r.age));
    if (age >= maxAge) continue;
    redeemedBy[clampAge(r.full_age)]![age]! += r.points;
  }
  const flatRate = flat.issued > 0 ? Math.min(1, Math.max(0, flat.redeemed / flat.issued)) : 0;
  const cumulative = [0];
  for (let k = 0; k < maxAge; k++) {
    let den = 0;
    let num = 0;
    for (let j = k + 1; j <= maxAge; j++) {
      den += issuedBy[j]!;
      num += redeemedBy[j]![k]!;
    }
    if (den <= 0) break;
    cumulative.push(Math.min(1, cumulative[k]! + Math.max(0, num / den)));
  }
  const base = { flat_rate: flatRate, redeemed_12m: flat.redeemed, issued_12m: flat.issued, lots_points: issuedBy.reduce((s, x) => s + x, 0) };
  if (cumulative.length === 1) return { method: 'flat_rate', cumulative: [0, flatRate], ...base };
  return { method: 'lot_age', cumulative, ...base };
}

/** The share of a lot redeemed by the age `months` (linear within a month; flat after the last month known). */
export function curveAt(curve: RedemptionCurve, months: number): number {
  const c = curve.cumulative;
  if (!(months > 0)) return 0;
  const k = Math.floor(months);
  if (k >= c.length - 1) return c[c.length - 1]!;
  return c[k]! + (months - k) * (c[k + 1]! - c[k]!);
}

// ── Local days and months ────────────────────────────────────────────────────────

/**
 * The tenant-zone day and month of instants, remembered per quarter hour: every zone's offset is a whole number of
 * quarter hours, so a local day (and month) never begins inside one. Formatting a date in a zone is the costliest
 * step of a replay otherwise.
 */
export class LocalCalendar {
  private readonly cache = new Map<number, { date: string; month: string }>();
  constructor(private readonly tz: string) {}

  of(at: number): { date: string; month: string } {
    const key = Math.floor(at / 900_000);
    let hit = this.cache.get(key);
    if (!hit) {
      const l = localTime(new Date(key * 900_000).toISOString(), this.tz);
      hit = { date: l.date, month: l.month };
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(key, hit);
    }
    return hit;
  }
}

/**
 * `lotExpiresAt` of one policy, remembered per quarter hour of the earning time. Within a quarter hour the local wall
 * time moves with the instant (no zone changes its offset inside one), so a lot earned δ after the quarter hour's
 * start expires δ after the expiry of one earned at its start (after_earning keeps the time of day), or at the same
 * instant (end_of_period depends on the local date only). Exact, and cheaper than formatting every earning time.
 */
export class ExpiryCalendar {
  private readonly cache = new Map<number, number | null>();
  constructor(private readonly policy: ExpiryPolicy, private readonly tz: string) {}

  of(at: number): number | null {
    if (this.policy.kind !== 'after_earning' && this.policy.kind !== 'end_of_period') return null;
    const key = Math.floor(at / 900_000);
    let base = this.cache.get(key);
    if (base === undefined) {
      base = lotExpiresAt(this.policy, new Date(key * 900_000), this.tz)?.getTime() ?? null;
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(key, base);
    }
    if (base === null) return null;
    return this.policy.kind === 'after_earning' ? base + (at - key * 900_000) : base;
  }
}

// ── Lots: issued points and what becomes of them ──────────────────────────────

interface Lot {
  member_id: string;
  amount: number;
  earned_at: number;
  /** Known at earning (after_earning, end_of_period); null: never, or decided by inactivity. */
  expires_at: number | null;
  settled: boolean;
}

/**
 * The points one configuration issued, and by the redemption curve what of them was redeemed, expired, and is left
 * at the window's end. A lot is settled (counted) once its amount and expiry are final: at once, or after its
 * purchase's last return, or (inactivity expiry) when the member's inactivity deadline passes or the window ends.
 */
class PointsBook {
  issued = 0;
  clawed = 0;
  redeemed = 0;
  expired = 0;
  outstanding = 0;
  future = 0;
  readonly months = new Map<string, MonthFigures>();
  private readonly open = new Map<string, Lot>();
  /** Inactivity expiry: each member's unsettled lots and last activity. */
  private readonly members = new Map<string, { last: number | null; lots: Lot[] }>();

  constructor(
    private readonly curve: RedemptionCurve,
    /** The inactivity policy when lots without an expiry date expire by inactivity; else null. */
    private readonly inactivity: ExpiryPolicy | null,
    private readonly calendar: LocalCalendar,
    private readonly end: number,
    months: string[],
  ) {
    for (const month of months) this.months.set(month, { month, issued: 0, clawed_back: 0, net: 0, expired: 0 });
  }

  private month(at: number): MonthFigures {
    const key = this.calendar.of(at).month;
    let m = this.months.get(key);
    if (!m) this.months.set(key, (m = { month: key, issued: 0, clawed_back: 0, net: 0, expired: 0 }));
    return m;
  }

  /** A purchase happened (activity, whatever it earned): under inactivity expiry, lots past the deadline expire. */
  activity(memberId: string, at: number): void {
    if (!this.inactivity) return;
    let m = this.members.get(memberId);
    if (!m) this.members.set(memberId, (m = { last: null, lots: [] }));
    if (m.last !== null) {
      const deadline = inactivityDeadline(this.inactivity, new Date(m.last))!.getTime();
      if (deadline <= at) {
        for (const lot of m.lots) this.settle(lot, deadline);
        m.lots = [];
      }
    }
    m.last = at;
  }

  /** Points issued; `key` names the lot while returns of its purchase are to come. */
  issue(memberId: string, key: string | null, amount: number, earnedAt: number, expiresAt: number | null): void {
    if (amount <= 0) return;
    this.issued += amount;
    this.month(earnedAt).issued += amount;
    const lot: Lot = { member_id: memberId, amount, earned_at: earnedAt, expires_at: expiresAt, settled: false };
    const byInactivity = this.inactivity !== null && expiresAt === null;
    if (byInactivity) this.members.get(memberId)!.lots.push(lot);
    if (key !== null) this.open.set(key, lot);
    else if (!byInactivity) this.settle(lot, expiresAt);
  }

  /** A return took `points` back: from the purchase's own lot, or (already expired) from the member's other lots. */
  clawBack(memberId: string, key: string, points: number, at: number): void {
    if (points <= 0) return;
    this.clawed += points;
    this.month(at).clawed_back += points;
    const lot = this.open.get(key);
    let left = points;
    if (lot && !lot.settled) {
      const take = Math.min(left, lot.amount);
      lot.amount -= take;
      left -= take;
    }
    // Spent points are a debt in the ledger: only unsettled points are taken back.
    for (const other of this.members.get(memberId)?.lots ?? []) {
      if (left <= 0) break;
      const take = Math.min(left, other.amount);
      other.amount -= take;
      left -= take;
    }
  }

  /** The purchase's last return has been replayed: its lot is final. */
  close(key: string): void {
    const lot = this.open.get(key);
    if (!lot) return;
    this.open.delete(key);
    if (!(this.inactivity !== null && lot.expires_at === null)) this.settle(lot, lot.expires_at);
  }

  private settle(lot: Lot, expiresAt: number | null): void {
    if (lot.settled) return;
    lot.settled = true;
    const a = lot.amount;
    if (a <= 0) return;
    const age = (t: number) => (t - lot.earned_at) / MONTH_MS;
    if (expiresAt !== null && expiresAt < this.end) {
      const r = curveAt(this.curve, age(expiresAt));
      this.redeemed += a * r;
      this.expired += a * (1 - r);
      this.month(expiresAt).expired += a * (1 - r);
      return;
    }
    const now = curveAt(this.curve, age(this.end));
    const cap = expiresAt === null ? this.curve.cumulative[this.curve.cumulative.length - 1]! : curveAt(this.curve, age(expiresAt));
    this.redeemed += a * now;
    this.outstanding += a * (1 - now);
    this.future += a * Math.max(0, cap - now);
  }

  /** Settles what is left at the window's end. */
  finish(): void {
    for (const key of [...this.open.keys()]) this.close(key);
    for (const m of this.members.values()) {
      const deadline = m.last === null ? null : inactivityDeadline(this.inactivity!, new Date(m.last))!.getTime();
      for (const lot of m.lots) this.settle(lot, deadline);
      m.lots = [];
    }
  }

  figures(currency: string, pointCost: SimProgram['point_cost'], tiers: TierCount[] | null): Figures {
    const byMonth = [...this.months.values()].sort((a, b) => a.month.localeCompare(b.month))
      .map((m) => ({ month: m.month, issued: m.issued, clawed_back: m.clawed_back, net: m.issued - m.clawed_back, expired: Math.round(m.expired) }));
    const outstanding = Math.round(this.outstanding);
    return {
      points: { issued: this.issued, clawed_back: this.clawed, net: this.issued - this.clawed },
      by_month: byMonth,
      expected_redemptions: Math.round(this.redeemed),
      expired: Math.round(this.expired),
      outstanding,
      expected_future_redemptions: Math.round(this.future),
      expected_breakage: this.outstanding > 1e-9 ? round4(1 - this.future / this.outstanding) : null,
      liability: { amount: Math.round((this.future * pointCost.amount) / pointCost.points), currency },
      members_per_tier: tiers,
    };
  }
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

// ── Tiers ────────────────────────────────────────────────────────────────────────

/** A change of a member's tier figure: when it counts (business time, ms) and by how much. */
interface Contribution {
  at: number;
  amount: number;
}

interface Track {
  state: TierState;
  contributions: Contribution[];
  /** When the figure rises later (points that activate): the tiers job rechecks the member then. Sorted. */
  rises: number[];
}

/**
 * One configuration's tiers over the window: members start where they stood (the draft applied at the window's start
 * as an applied re-evaluation with `downgrades: next_evaluation` would apply it: up at once when the figure before
 * the window reaches a higher tier, nobody down before their next evaluation), move up when their figure rises and
 * are judged at their evaluation dates.
 */
class TierReplay {
  readonly active: boolean;
  readonly metric: Metric;
  private readonly byId: Map<string, SimTier>;

  constructor(private readonly cfg: SimConfig, private readonly tz: string) {
    this.active = cfg.tiers.length > 0;
    this.metric = cfg.tierSettings.metric;
    this.byId = new Map(cfg.tiers.map((t) => [t.id, t]));
  }

  private tierOf(state: TierState): SimTier | null {
    return state.tier_id ? this.byId.get(state.tier_id) ?? null : null;
  }

  start(m: MemberStart, opening: Contribution[], from: number): Track {
    const s = this.cfg.tierSettings;
    const at = new Date(from);
    let state: TierState;
    if (m.held) {
      const tier = m.held.tier_id ? this.byId.get(m.held.tier_id) ?? null : null;
      state = {
        tier_id: tier?.id ?? null, source: m.held.source, since: m.held.since, valid_until: null,
        next_evaluation_at: m.held.source === 'qualified' && canFall(tier) ? nextEvaluation(s, m.held.since, at, this.tz) : null,
        downgrade_to_id: null, downgrade_to_none: false, downgrade_at: null,
      };
    } else {
      state = startingState(this.cfg.tiers, s, at, this.tz);
    }
    const track: Track = { state, contributions: [...opening], rises: [] };
    const verdict = judge(this.cfg.tiers, this.tierOf(state), state.source, this.figure(track, windowAt(s, at, this.tz)), s.downgrade_policy);
    if (verdict.direction === 'up') track.state = movedState(s, this.tz, state, verdict.to, 'qualified', null, at);
    return track;
  }

  figure(t: Track, w: Window): number {
    const from = w.from ? w.from.getTime() : -Infinity;
    const to = w.to.getTime();
    let sum = 0;
    for (const c of t.contributions) if (c.at >= from && c.at < to) sum += c.amount;
    return sum;
  }

  /** Everything due for the member up to and including `until`, in time order: rechecks, evaluations, downgrades. */
  advance(t: Track, until: number): void {
    const s = this.cfg.tierSettings;
    for (let guard = 0; guard < 10_000; guard++) {
      const st = t.state;
      const dueTimes = [
        st.source !== 'qualified' ? st.valid_until : null,
        st.downgrade_at,
        st.source === 'qualified' ? st.next_evaluation_at : null,
      ].filter((d): d is Date => d !== null).map((d) => d.getTime());
      const dueAt = dueTimes.length > 0 ? Math.min(...dueTimes) : Infinity;
      const riseAt = t.rises.length > 0 ? t.rises[0]! : Infinity;
      const next = Math.min(dueAt, riseAt);
      if (next > until) return;
      if (riseAt <= dueAt) {
        t.rises.shift();
        this.rise(t, riseAt);
        continue;
      }
      const now = new Date(dueAt);
      const due = dueNow(st, now)!;
      const current = this.tierOf(st);
      const figure = this.figure(t, dueWindow(s, due, now, this.tz));
      const step = dueStep(this.cfg.tiers, this.byId, s, this.tz, st, current, due, figure, now);
      t.state = step.kind === 'move' ? movedState(s, this.tz, st, step.to, 'qualified', null, now) : step.state;
    }
    throw new Error('the tier replay of a member did not settle (more than 10,000 steps)');
  }

  /** The figure may have risen at `at` (a purchase, activated points): up at once, or a downgrade called off. */
  rise(t: Track, at: number): void {
    const s = this.cfg.tierSettings;
    const now = new Date(at);
    const figure = this.figure(t, windowAt(s, upTo(now), this.tz));
    const step = riseStep(this.cfg.tiers, s, this.tz, t.state, this.tierOf(t.state), figure, now);
    if (step?.kind === 'up') t.state = movedState(s, this.tz, t.state, step.to, 'qualified', null, now);
    else if (step?.kind === 'cancel_downgrade') t.state = step.state;
  }

  /** Adds to the figure at `at`; one in the future of `now` (points still pending) is rechecked when it comes. */
  add(t: Track, at: number, amount: number, now: number): Contribution {
    const c = { at, amount };
    t.contributions.push(c);
    if (at > now && amount > 0) {
      const i = t.rises.findIndex((r) => r > at);
      t.rises.splice(i < 0 ? t.rises.length : i, 0, at);
    }
    return c;
  }

  standing(t: Track): { tier: string | null; multiplier: number } {
    const tier = this.tierOf(t.state);
    return { tier: tier?.code ?? null, multiplier: tier?.multiplier ?? 1 };
  }

  /** Members per tier: the members replayed by their final state, everyone else at the base tier. */
  counts(finals: Array<string | null>, others: number): TierCount[] {
    const held = new Map<string | null, number>();
    for (const id of finals) held.set(id, (held.get(id) ?? 0) + 1);
    return tierCounts(this.cfg.tiers, [...held].map(([tier_id, members]) => ({ tier_id, members })), others);
  }
}

/**
 * Members per tier, lowest rank first (members holding no tier, or a tier that no longer exists, first, as `null`):
 * `held` by tier id, and `others` — members without a tier state — at the base tier.
 */
export function tierCounts(tiers: SimTier[], held: Array<{ tier_id: string | null; members: number }>, others: number): TierCount[] {
  const byId = new Set(tiers.map((t) => t.id));
  const n = new Map<string | null, number>();
  const add = (id: string | null, k: number) => {
    const key = id !== null && byId.has(id) ? id : null;
    n.set(key, (n.get(key) ?? 0) + k);
  };
  add(baseTier(tiers)?.id ?? null, others);
  for (const h of held) add(h.tier_id, h.members);
  const out: TierCount[] = [];
  if (n.get(null)) out.push({ tier: null, name: null, members: n.get(null)! });
  for (const t of [...tiers].sort((a, b) => a.rank - b.rank)) out.push({ tier: t.code, name: t.name, members: n.get(t.id) ?? 0 });
  return out;
}

// ── The replay ──────────────────────────────────────────────────────────────────

interface MemberRecord {
  start: MemberStart;
  opening: Map<Metric, Contribution[]>;
  purchased: boolean;
  /** Per configuration (draft, current). */
  tracks: Array<Track | null>;
}

/** What a configuration made of a purchase whose returns are still to come. */
interface Judged {
  rules: EarnRule[];
  earning: { rules: Record<string, { version: number | null; points: number; kept: number }>; context: NonNullable<Parameters<typeof keptEarningOf>[2]['context']> };
  kept: number;
  capUsage: CapUsage[];
  /** Its points' contribution to the tier figure (points metric). */
  contribution: Contribution | null;
}

interface OpenPurchase {
  /** False: a purchase of a blocked or erased member, which earned nothing and whose returns take nothing back. */
  earns: boolean;
  facts: PurchaseFacts;
  member_id: string;
  returnsLeft: number;
  returned: Array<{ lines: SimOrder['lines'] }>;
  returnedTotal: number;
  judged: Judged[];
}

/** Cap counters of one configuration: per rule and member for the current day and month, and each rule's total. */
class CapCounters {
  private day = '';
  private month = '';
  private readonly perDay = new Map<string, number>();
  private readonly perMonth = new Map<string, number>();
  private readonly total = new Map<string, number>();

  /** The usage `evaluateEarn` needs; the counters of days and months gone are dropped (orders come in time order). */
  usage(rules: EarnRule[], memberId: string, day: string, month: string): Record<string, RuleUsage> {
    if (day !== this.day) { this.perDay.clear(); this.day = day; }
    if (month !== this.month) { this.perMonth.clear(); this.month = month; }
    const out: Record<string, RuleUsage> = {};
    for (const r of rules) {
      if (!r.caps) continue;
      out[r.id] = {
        member_day: this.perDay.get(`${r.id}|${memberId}`) ?? 0,
        member_month: this.perMonth.get(`${r.id}|${memberId}`) ?? 0,
        total: this.total.get(r.id) ?? 0,
      };
    }
    return out;
  }

  record(memberId: string, usage: CapUsage[], sign: 1 | -1): void {
    for (const u of usage) {
      const key = `${u.rule_id}|${memberId}`;
      if (u.day === this.day) this.perDay.set(key, (this.perDay.get(key) ?? 0) + sign * u.points);
      if (u.month === this.month) this.perMonth.set(key, (this.perMonth.get(key) ?? 0) + sign * u.points);
      this.total.set(u.rule_id, (this.total.get(u.rule_id) ?? 0) + sign * u.points);
    }
  }
}

export interface ReplayOptions {
  /** The window [from, to). */
  from: Date;
  to: Date;
  program: SimProgram;
  draft: SimConfig;
  current: SimConfig;
  curve: RedemptionCurve;
  /** The program's expiry policy now: what happened is settled by each lot's recorded expiry, or by it under inactivity. */
  actualExpiry: ExpiryPolicy;
}

export interface ReplayResult {
  counts: ReplayCounts;
  draft: Figures;
  current: Figures;
  /** What happened; its members per tier are the tenant's real ones, which the replay does not know. */
  actual: Omit<Figures, 'members_per_tier'>;
}

/** The months (YYYY-MM, tenant time zone) a window touches. */
export function monthsOf(from: Date, to: Date, tz: string): string[] {
  const first = localTime(from.toISOString(), tz).month;
  const last = localTime(new Date(to.getTime() - 1).toISOString(), tz).month;
  const out: string[] = [];
  let [y, m] = first.split('-').map(Number) as [number, number];
  for (let guard = 0; guard < 1200; guard++) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    out.push(key);
    if (key >= last) break;
    m++;
    if (m > 12) { m = 1; y++; }
  }
  return out;
}

/**
 * The replay: `member` for every member the window concerns (and `opening` for their figures before it) first, then
 * every order in time order, then `finish`.
 */
export class Replay {
  private readonly members = new Map<string, MemberRecord>();
  private readonly purchases = new Map<string, OpenPurchase>();
  private readonly configs: SimConfig[];
  private readonly tiers: TierReplay[];
  private readonly caps: CapCounters[];
  private readonly books: PointsBook[];
  private readonly actual: PointsBook;
  private readonly from: number;
  private readonly end: number;
  private started = false;
  private readonly counts: ReplayCounts = { orders: 0, purchases: 0, returns: 0, members: 0, not_earning: 0, returns_skipped: 0 };
  private readonly replayedMembers = new Set<string>();
  private readonly calendar: LocalCalendar;
  private readonly expiries: ExpiryCalendar[];

  constructor(private readonly o: ReplayOptions) {
    this.from = o.from.getTime();
    this.end = o.to.getTime();
    const tz = o.program.time_zone;
    const months = monthsOf(o.from, o.to, tz);
    this.calendar = new LocalCalendar(tz);
    this.configs = [o.draft, o.current];
    this.expiries = this.configs.map((c) => new ExpiryCalendar(c.expiry, tz));
    this.tiers = this.configs.map((c) => new TierReplay(c, tz));
    this.caps = this.configs.map(() => new CapCounters());
    this.books = this.configs.map((c) => new PointsBook(o.curve, c.expiry.kind === 'inactivity' ? c.expiry : null, this.calendar, this.end, months));
    this.actual = new PointsBook(o.curve, o.actualExpiry.kind === 'inactivity' ? o.actualExpiry : null, this.calendar, this.end, months);
  }

  /** The metrics whose figures before the window the tiers need. */
  get openingMetrics(): Metric[] {
    return [...new Set(this.tiers.filter((t) => t.active).map((t) => t.metric))];
  }

  member(start: MemberStart): void {
    if (this.started) throw new Error('members are added before the first order');
    this.members.set(start.member_id, { start, opening: new Map(), purchased: start.purchased_before, tracks: this.configs.map(() => null) });
  }

  /** A contribution to a member's figure before the window (members not added are not needed: ignored). */
  opening(memberId: string, metric: Metric, at: Date, amount: number): void {
    const m = this.members.get(memberId);
    if (!m) return;
    let list = m.opening.get(metric);
    if (!list) m.opening.set(metric, (list = []));
    list.push({ at: at.getTime(), amount });
  }

  private track(m: MemberRecord, i: number): Track | null {
    const replay = this.tiers[i]!;
    if (!replay.active) return null;
    let t = m.tracks[i];
    if (!t) m.tracks[i] = t = replay.start(m.start, m.opening.get(replay.metric) ?? [], this.from);
    return t;
  }

  private memberOf(id: string): MemberRecord {
    let m = this.members.get(id);
    if (!m) {
      // A member the population query did not name (an order recorded meanwhile): no tier before, no purchase before.
      m = { start: { member_id: id, attributes: {}, purchased_before: false, held: null, counted: true }, opening: new Map(), purchased: false, tracks: this.configs.map(() => null) };
      this.members.set(id, m);
    }
    return m;
  }

  order(o: SimOrder): void {
    this.started = true;
    const at = o.occurred_at.getTime();
    if (at < this.from || at >= this.end) throw new Error(`order ${o.id} is outside the window`);
    this.counts.orders++;
    if (o.type === 'purchase') this.purchase(o, at);
    else this.return(o, at);
  }

  private purchase(o: SimOrder, at: number): void {
    this.counts.purchases++;
    const m = this.memberOf(o.member_id);
    this.replayedMembers.add(o.member_id);
    const firstPurchase = !m.purchased;
    m.purchased = true;
    const facts: PurchaseFacts = {
      currency: o.currency, total: o.total, lines: o.lines, channel: o.channel, store_id: o.store_id, occurred_at: o.occurred_at, payments: o.payments,
    };
    const key = o.returns > 0 ? o.id : null;
    const open: OpenPurchase | null = key ? { earns: o.earns, facts, member_id: o.member_id, returnsLeft: o.returns, returned: [], returnedTotal: 0, judged: [] } : null;
    if (!o.earns) {
      this.counts.not_earning++;
      if (open) this.purchases.set(o.id, open);
      return;
    }
    const p = this.o.program;
    const tz = p.time_zone;
    const local = this.calendar.of(at);
    const tx = earnTransaction(facts);

    this.configs.forEach((cfg, i) => {
      const tiers = this.tiers[i]!;
      const track = this.track(m, i);
      if (track) tiers.advance(track, at);
      const standing = track ? tiers.standing(track) : { tier: null, multiplier: 1 };
      const context: EarnContext = {
        time_zone: tz,
        tier: standing.tier,
        ...(standing.multiplier !== 1 ? { tier_multiplier: standing.multiplier } : {}),
        attributes: o.attributes ?? m.start.attributes,
        first_purchase: firstPurchase,
        excluded_categories: p.excluded_categories,
        non_earning_payment_methods: p.non_earning_payment_methods,
        usage: this.caps[i]!.usage(cfg.rules, o.member_id, local.date, local.month),
      };
      const result = evaluateEarn(cfg.rules, tx, context);
      this.caps[i]!.record(o.member_id, result.cap_usage, 1);
      const activates = activatesAt(pendingDaysOf(cfg.rules, result, p), o.occurred_at);
      const book = this.books[i]!;
      book.activity(o.member_id, at);
      book.issue(o.member_id, key, result.points, at, this.expiries[i]!.of(at));

      let contribution: Contribution | null = null;
      if (track) {
        if (tiers.metric === 'points') {
          if (result.points > 0) contribution = tiers.add(track, activates?.getTime() ?? at, result.points, at);
        } else if (tiers.metric === 'spend') {
          // The whole total now: the tier check at the till sees no return yet; each return takes its part back when it comes.
          tiers.add(track, at, o.total, at);
        } else if (o.total > 0) {
          tiers.add(track, at, 1, at);
        }
        // The order hook rechecks the member at once; pending points are rechecked when they activate.
        tiers.rise(track, at);
      }
      if (open) {
        const applied = result.explanation.filter((e) => e.outcome === 'applied');
        open.judged.push({
          rules: cfg.rules,
          earning: {
            rules: Object.fromEntries(applied.map((e) => [e.rule_id, { version: cfg.rules.find((r) => r.id === e.rule_id)?.version ?? 0, points: e.points, kept: e.points }])),
            context: {
              tier: context.tier, first_purchase: context.first_purchase, attributes: context.attributes, time_zone: tz,
              ...(context.tier_multiplier !== undefined ? { tier_multiplier: context.tier_multiplier } : {}),
            },
          },
          kept: result.points,
          capUsage: result.cap_usage,
          contribution,
        });
      }
    });

    this.actual.activity(o.member_id, at);
    this.actual.issue(o.member_id, key, o.actual_points, at, o.actual_expires_at?.getTime() ?? null);
    if (open) this.purchases.set(o.id, open);
  }

  private return(o: SimOrder, at: number): void {
    this.counts.returns++;
    const open = o.original_id ? this.purchases.get(o.original_id) : undefined;
    if (!open) {
      this.counts.returns_skipped++;
      return;
    }
    if (!open.earns) {
      this.returned(open, o);
      return;
    }
    const m = this.memberOf(open.member_id);
    const keptTotal = open.facts.total - open.returnedTotal - o.total;
    let keptLines: SimOrder['lines'];
    try {
      keptLines = keptLinesOf(open.facts, [...open.returned, o]);
    } catch {
      // A return the transactions module would have refused: it took nothing back there, nor here.
      this.counts.returns_skipped++;
      return;
    }
    this.configs.forEach((_cfg, i) => {
      const tiers = this.tiers[i]!;
      const track = this.track(m, i);
      if (track) tiers.advance(track, at);
      const judged = open.judged[i]!;
      const kept = keptEarningOf(judged.rules, open.facts, judged.earning, Math.max(0, keptTotal), keptLines);
      const clawed = judged.kept - kept.total;
      const deltas = Object.fromEntries(Object.entries(judged.earning.rules).map(([rid, r]) => [rid, r.kept - (kept.rules[rid]?.kept ?? 0)]));
      judged.earning.rules = kept.rules;
      judged.kept = kept.total;
      // The cap counters get back what the return took, in the day and month the points were earned in.
      const released = judged.capUsage.map((u) => ({ ...u, points: Math.min(u.points, deltas[u.rule_id] ?? 0) })).filter((u) => u.points > 0);
      this.caps[i]!.record(open.member_id, released, -1);
      judged.capUsage = judged.capUsage.map((u) => ({ ...u, points: u.points - (released.find((r) => r.rule_id === u.rule_id)?.points ?? 0) }));
      this.books[i]!.clawBack(open.member_id, o.original_id!, clawed, at);
      if (track && tiers.metric === 'spend') {
        // What this return takes off the purchase (never more than the purchase still had).
        const off = Math.min(o.total, Math.max(0, open.facts.total - open.returnedTotal));
        if (off > 0) tiers.add(track, at, -off, at);
      } else if (track && tiers.metric !== 'points' && open.facts.total > open.returnedTotal && keptTotal <= 0) {
        tiers.add(track, at, -1, at); // wholly returned: no longer a purchase
      }
      if (track && tiers.metric === 'points' && clawed > 0) {
        // Points still pending are cancelled (they never counted); active ones count against the figure from now.
        const c = judged.contribution;
        if (c && c.at > at) c.amount = Math.max(0, c.amount - clawed);
        else tiers.add(track, at, -clawed, at);
      }
    });
    this.actual.clawBack(open.member_id, o.original_id!, o.actual_points, at);
    this.returned(open, o);
  }

  /** Books a replayed return against its purchase; after the last one the purchase's lots are final. */
  private returned(open: OpenPurchase, o: SimOrder): void {
    open.returned.push(o);
    open.returnedTotal += o.total;
    if (--open.returnsLeft <= 0) {
      this.purchases.delete(o.original_id!);
      for (const b of [...this.books, this.actual]) b.close(o.original_id!);
    }
  }

  /**
   * The figures at the window's end. `totalMembers`: the tenant's members who are counted in members per tier (not
   * erased); those the replay never saw hold the base tier.
   */
  finish(totalMembers: number): ReplayResult {
    const last = this.end - 1;
    const finals: Array<Array<string | null>> = this.configs.map(() => []);
    let seenCounted = 0;
    for (const m of this.members.values()) {
      if (m.start.counted) seenCounted++;
      this.configs.forEach((_c, i) => {
        const t = this.track(m, i);
        if (!t) return;
        this.tiers[i]!.advance(t, last);
        if (m.start.counted) finals[i]!.push(t.state.tier_id);
      });
    }
    for (const b of [...this.books, this.actual]) b.finish();
    const others = Math.max(0, totalMembers - seenCounted);
    const { currency, point_cost } = this.o.program;
    const [draft, current] = this.books.map((b, i) => b.figures(currency, point_cost, this.tiers[i]!.active ? this.tiers[i]!.counts(finals[i]!, others) : null));
    const { members_per_tier: _none, ...actual } = this.actual.figures(currency, point_cost, null);
    return { counts: { ...this.counts, members: this.replayedMembers.size }, draft: draft!, current: current!, actual };
  }
}
