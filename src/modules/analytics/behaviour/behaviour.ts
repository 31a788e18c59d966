/**
 * Behaviour metrics over any date range (docs/analytics/behaviour.md; the definitions are domain.md §2): retention
 * rate, churn with its stated definition of "lost", repeat purchase rate, purchase frequency, average order value and
 * median days between purchases, overall and per tier, channel, store, RFM segment, first-purchase cohort or
 * customer type (members against non-members).
 *
 * Computed on demand, not by an analytics run: an arbitrary range cannot be precomputed (see behaviour.store.ts).
 * The SQL aggregates; this module turns the counts into rates and states the definitions used.
 *
 * The counts reconcile: end = start − lost + new − new_lost + reactivated (BehaviourCustomers). The retention rate is
 * (S − lost) / S, the share of the customers at the start still active at the end, and the churn rate lost / S, so
 * the two add to 100 %. Domain.md's CRR = (E − N) / S equals it exactly when no new customer is lost within the range
 * and nobody lapsed comes back (its worked example); in non-contractual retail both happen, and then (E − N) / S
 * mixes the new customers who lapsed and the returning ones into the retention of S — on a tenant whose range covers
 * most of its history (S small, N large) it goes far below −100 %. So it is not reported (docs/analytics/behaviour.md).
 */
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable } from '../../../platform/db/db.js';
import { errors, type FieldError } from '../../../platform/errors.js';
import type { AnalyticsSettings } from '../analytics.types.js';
import {
  behaviourRows, NON_MEMBERS, onSnapshot, readSettings, scoresAsOf, tenantFacts, UNSCORED,
  type Breakdown, type BehaviourRow,
} from './behaviour.store.js';

export { BREAKDOWNS, NON_MEMBERS, UNSCORED, type Breakdown } from './behaviour.store.js';

/** The longest range one request may cover. */
export const MAX_RANGE_YEARS = 5;

/** How the tenant's analytics settings are read; the analytics core's settings service fits (wired in app.ts). */
export type SettingsFn = (q: Queryable, tenantId: string) => Promise<AnalyticsSettings>;

export interface BehaviourQuery {
  /** First day of the range, YYYY-MM-DD in the tenant's time zone; default: one year before `to`, plus a day. */
  from?: string | undefined;
  /** Last day of the range (inclusive); default: yesterday in the tenant's time zone (the last complete day). */
  to?: string | undefined;
  by?: Breakdown | undefined;
}

export interface Money {
  /** Minor units of `currency`. */
  amount: number;
  currency: string;
}

/**
 * Customers, each counted once per group (for channel and store: in each group they bought in up to `to`).
 * Identity: end = start − lost + new − new_lost + reactivated.
 */
export interface BehaviourCustomers {
  /** S: first purchase before `from`, and not lost as of the day before `from`. */
  start: number;
  /** N: first-ever purchase inside the range. */
  new: number;
  /** E: first purchase on or before `to`, and not lost as of `to`. */
  end: number;
  /** Of S, lost as of `to` (churned): the numerator of the churn rate. */
  lost: number;
  /** Of N, lost as of `to`: new customers of the range who have already lapsed. */
  new_lost: number;
  /** Lost as of the day before `from` (so not in S), not lost as of `to`: they came back. */
  reactivated: number;
  /** With at least one order in the range. */
  purchasing: number;
  /** With at least two orders in the range. */
  repeat: number;
}

export interface BehaviourFigures {
  customers: BehaviourCustomers;
  /** (S − lost) / S × 100 = 100 − churn_rate, one decimal; null when S = 0. */
  retention_rate: number | null;
  /** lost / S × 100, one decimal; null when S = 0. retention_rate + churn_rate = 100. */
  churn_rate: number | null;
  /** Customers with ≥ 2 orders / customers with ≥ 1 order in the range × 100, one decimal; null without orders. */
  repeat_purchase_rate: number | null;
  /** Orders per purchasing customer in the range, two decimals; null without orders. */
  purchase_frequency: number | null;
  /** Orders in the range (any currency). */
  orders: number;
  /** Of them, in the program currency: the orders the money figures are over. */
  orders_in_currency: number;
  /** Net of returns, program currency only. */
  revenue: Money;
  /** revenue / orders_in_currency, rounded to a minor unit; null without such orders. */
  average_order_value: Money | null;
  /** Median of the days between consecutive purchase days whose later day is in the range; null without any. */
  median_days_between_purchases: number | null;
}

export interface BehaviourGroup extends BehaviourFigures {
  /**
   * tier: the tier code (null: the member holds no tier; '(non-members)'); channel: online, store, app (null: not
   * given); store: the store id (null: not given); segment: the RFM segment ('unscored', '(non-members)'); cohort:
   * YYYY-MM of the first purchase; customer_type: member or non_member.
   */
  value: string | null;
}

export interface BehaviourDefinitions {
  /** "Lost" in words, with the numbers used: e.g. "no purchase within 2 × the median gap (34 days) = 68 days". */
  lost: string;
  /** The rule applied (a 'fixed_days' without days falls back to 'median_gap'). */
  rule: AnalyticsSettings['churn']['rule'];
  /** A customer is lost when the days since their last purchase exceed this; null when it cannot be known. */
  window_days: number | null;
  /** The tenant-wide median days between purchase days, over all purchases up to `to`. */
  median_gap_days: number | null;
  gap_multiple: number;
  fixed_days: number | null;
  p_alive_below: number | null;
  /** 'p_alive' rule: the day the members' scores were computed for. */
  scores_as_of: string | null;
  /** How customers fall into the groups of the breakdown; null without one. */
  groups: string | null;
  /** What the retention rate measures, and why it is (S − lost) / S rather than domain.md's (E − N) / S. */
  retention: string;
  identity: string;
}

export interface BehaviourReport {
  from: string;
  to: string;
  /** Days in the range, both ends included. */
  days: number;
  time_zone: string;
  currency: string;
  by: Breakdown | null;
  definitions: BehaviourDefinitions;
  overall: BehaviourFigures;
  groups: BehaviourGroup[];
}

const GROUP_NOTES: Record<Breakdown, string> = {
  tier: `The member's tier now (not at the time of each order); members with no tier are the group null, non-members the group '${NON_MEMBERS}'.`,
  channel: 'The channel of the order. A customer is counted in each channel they bought in up to `to`; the order figures of a group are its own orders. Groups overlap, so they do not add up to the overall figures.',
  store: 'The store of the order. A customer is counted in each store they bought in up to `to`; the order figures of a group are its own orders. Groups overlap, so they do not add up to the overall figures.',
  segment: `The member's current RFM segment (member_analytics, the newest published run); '${UNSCORED}': no score yet; '${NON_MEMBERS}': customers who are not members.`,
  cohort: "The month of the customer's first purchase (YYYY-MM, tenant's time zone).",
  customer_type: 'member: orders of a member; non_member: orders the shop sent with a customer_ref.',
};

const IDENTITY = 'end = start − lost + new − new_lost + reactivated';

const RETENTION =
  'retention_rate = (start − lost) / start × 100: the share of the customers at the start of the range still active at its end; ' +
  'churn_rate = lost / start × 100, so the two add to 100. Domain.md\'s (end − new) / start gives the same figure only when no new ' +
  'customer is lost within the range and nobody lapsed comes back; in retail both happen (new_lost, reactivated), and (end − new) / start ' +
  'would count them against or for the customers at the start — it can fall far below 0 % when the range covers most of the history. ' +
  'New customers are followed by new and new_lost, returning ones by reactivated.';

export class BehaviourService {
  private readonly settings: SettingsFn;

  /**
   * `settings`: how to read the tenant's analytics settings; default, the analytics_settings row merged over the
   * defaults (readSettings). In app.ts, once the core's settings service exists:
   *   new BehaviourService({ clock, settings: (q, t) => analyticsSettings.get(q, t) })
   */
  constructor(private readonly deps: { clock: Clock; settings?: SettingsFn }) {
    this.settings = deps.settings ?? readSettings;
  }

  /** The report in a read-only transaction of its own, on one snapshot (what the route calls). */
  reportOnSnapshot(db: Db, tenantId: string, query: BehaviourQuery): Promise<BehaviourReport> {
    return onSnapshot(db, (tx) => this.report(tx, tenantId, query));
  }

  /** The report, read through `q` (inside a caller's transaction, or the pool). */
  async report(q: Queryable, tenantId: string, query: BehaviourQuery): Promise<BehaviourReport> {
    const tenant = await tenantFacts(q, tenantId, this.deps.clock.now());
    if (!tenant) throw errors.notFound('tenant', tenantId);
    // The default range ends yesterday, the last complete day, as an analytics run does.
    const range = rangeOf(query, addDays(tenant.today, -1));
    const by = query.by ?? null;
    const churn = (await this.settings(q, tenantId)).churn;
    // A fixed window needs its days; without them the default rule applies (and the definition says so).
    const rule = churn.rule === 'fixed_days' && !(typeof churn.days === 'number' && churn.days > 0) ? 'median_gap' : churn.rule;
    const scores = rule === 'p_alive' ? await scoresAsOf(q, tenantId) : null;
    const rows = await behaviourRows(q, {
      tenantId, timeZone: tenant.time_zone, from: range.from, to: range.to, currency: tenant.currency, by,
      rule, gapMultiple: churn.gap_multiple, fixedDays: churn.days, pAliveBelow: churn.p_alive_below,
    });
    const total = rows.find((r) => r.total)!;
    const figures = (r: BehaviourRow) => figuresOf(r, tenant.currency);
    return {
      from: range.from, to: range.to, days: daysBetween(range.from, range.to) + 1,
      time_zone: tenant.time_zone, currency: tenant.currency, by,
      definitions: {
        lost: lostDefinition(churn, rule, total, range.to, scores?.as_of ?? null),
        rule,
        window_days: total.window_days === null ? null : round(total.window_days, 2),
        median_gap_days: total.tenant_median_gap === null ? null : round(total.tenant_median_gap, 1),
        gap_multiple: churn.gap_multiple,
        fixed_days: rule === 'fixed_days' ? churn.days : null,
        p_alive_below: rule === 'p_alive' ? churn.p_alive_below : null,
        scores_as_of: scores?.as_of ?? null,
        groups: by ? GROUP_NOTES[by] : null,
        retention: RETENTION,
        identity: IDENTITY,
      },
      overall: figures(total),
      // Sorted here, by code unit, nulls last: the database's collation would sort '(non-members)' by its letters.
      groups: rows.filter((r) => !r.total).sort((a, b) => byValue(a.grp, b.grp)).map((r) => ({ value: r.grp, ...figures(r) })),
    };
  }
}

/** The counts of a row as figures: the rates of domain.md §2, retention as the complement of churn (see the top). */
export function figuresOf(r: Pick<BehaviourRow, Exclude<keyof BehaviourRow, 'total' | 'grp' | 'tenant_median_gap' | 'window_days'>>, currency: string): BehaviourFigures {
  return {
    customers: {
      start: r.start, new: r.new, end: r.end, lost: r.lost, new_lost: r.new_lost, reactivated: r.reactivated,
      purchasing: r.purchasing, repeat: r.repeating,
    },
    retention_rate: retentionRate(r.start, r.lost),
    churn_rate: churnRate(r.start, r.lost),
    repeat_purchase_rate: r.purchasing > 0 ? round((r.repeating / r.purchasing) * 100, 1) : null,
    purchase_frequency: r.purchasing > 0 ? round(r.orders / r.purchasing, 2) : null,
    orders: r.orders,
    orders_in_currency: r.money_orders,
    revenue: { amount: r.revenue, currency },
    average_order_value: r.money_orders > 0 ? { amount: Math.round(r.revenue / r.money_orders), currency } : null,
    median_days_between_purchases: r.median_gap_in_range === null ? null : round(r.median_gap_in_range, 1),
  };
}

/** Domain.md §2: churn rate = lost / S × 100, one decimal (150, 7 → 4.7); null when S = 0. `lost` counts only S. */
export function churnRate(start: number, lost: number): number | null {
  return start > 0 ? round((lost / start) * 100, 1) : null;
}

/**
 * (S − lost) / S × 100, one decimal (150, 7 → 95.3, domain.md's worked example); null when S = 0. Taken as 100 minus
 * the rounded churn rate, so that the two figures shown add to exactly 100.0 (rounded apart, 0.25 and 99.75 would
 * show as 0.3 and 99.8).
 */
export function retentionRate(start: number, lost: number): number | null {
  const churn = churnRate(start, lost);
  return churn === null ? null : round(100 - churn, 1);
}

function lostDefinition(churn: AnalyticsSettings['churn'], rule: AnalyticsSettings['churn']['rule'], total: BehaviourRow, to: string, scoresAsOfDay: string | null): string {
  const median = total.tenant_median_gap;
  const byGap = median === null
    ? `no purchase within ${num(churn.gap_multiple)} × the median gap between purchases; no customer bought on two different days up to ${to}, so the median gap is unknown and nobody counts as lost`
    : `no purchase within ${num(churn.gap_multiple)} × the median gap (${num(round(median, 1))} days) = ${num(round(total.window_days!, 2))} days`;
  if (rule === 'fixed_days') return `no purchase within ${num(churn.days!)} days`;
  if (rule === 'median_gap') {
    return churn.rule === 'fixed_days' ? `${byGap} (the rule is fixed_days but no number of days is set, so the median-gap rule applies)` : byGap;
  }
  const scored = scoresAsOfDay === null
    ? 'no member has a P(alive) score yet'
    : `P(alive) below ${num(churn.p_alive_below)} (the members' scores as of ${scoresAsOfDay}; a purchase after that day counts as alive)`;
  return `${scored}; members without a score, non-members, and everyone at the start of the range: ${byGap}`;
}

// ── The range ───────────────────────────────────────────────────────────────

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Days outside these are typing mistakes, and keep the date arithmetic below within four-digit years. */
const EARLIEST = '1900-01-01';
const LATEST = '2999-12-31';

/**
 * The range of a query, defaults filled in, checked: real days, from <= to, at most MAX_RANGE_YEARS. `yesterday`:
 * the default `to` (yesterday in the tenant's time zone).
 */
export function rangeOf(query: BehaviourQuery, yesterday: string): { from: string; to: string } {
  const errs: FieldError[] = [];
  for (const field of ['from', 'to'] as const) {
    const v = query[field];
    if (v !== undefined && !isRealDay(v)) errs.push({ field, detail: `must be a real date, YYYY-MM-DD, between ${EARLIEST} and ${LATEST}` });
  }
  if (errs.length) throw errors.validation(errs);
  const to = query.to ?? yesterday;
  const from = query.from ?? addDays(addYears(to, -1), 1);
  // Blame the day the caller gave: with only `from` given, `to` is yesterday.
  const blame = query.to !== undefined ? 'to' : 'from';
  if (from > to) throw errors.field(blame, query.to !== undefined ? 'must be on or after from' : `must be on or before to (yesterday, ${to}, when to is not given)`);
  if (to >= addYears(from, MAX_RANGE_YEARS)) {
    throw errors.field(blame, `the range must be at most ${MAX_RANGE_YEARS} years (to before ${addYears(from, MAX_RANGE_YEARS)})`);
  }
  return { from, to };
}

export function isRealDay(s: string): boolean {
  const m = DAY.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === s && s >= EARLIEST && s <= LATEST;
}

const utc = (day: string): number => Date.parse(`${day}T00:00:00Z`);
const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const daysBetween = (a: string, b: string): number => Math.round((utc(b) - utc(a)) / 86_400_000);
export const addDays = (day: string, n: number): string => dayOf(utc(day) + n * 86_400_000);

/** The same calendar day `n` years later (29 February becomes 1 March in a common year). */
export function addYears(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const out = new Date(Date.UTC(y + n, m - 1, d));
  return out.toISOString().slice(0, 10);
}

const byValue = (a: string | null, b: string | null): number => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1);

const round = (x: number, decimals: number): number => {
  const f = 10 ** decimals;
  return Math.round(x * f) / f;
};
const num = (x: number): string => String(x);
