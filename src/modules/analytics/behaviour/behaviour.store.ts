/**
 * SQL of the behaviour metrics (docs/analytics/behaviour.md): one set-based aggregation over the tenant's orders,
 * read-only. It reads `transactions` (the orders), and for the breakdowns `member_tiers`/`tiers` (the member's tier
 * now) and `member_analytics` (RFM segment, P(alive)) — the analytics module's reporting exception: it reads other
 * modules' tables and writes none.
 *
 * Why on demand and not in an analytics run: the range is any pair of days the caller picks, and every figure
 * depends on both ends of it (who was a customer at `from`, who is lost at `to`, the median gap up to `to`), so no
 * set of precomputed ranges could answer it. One pass over the orders up to `to` computes everything; the group-by
 * expressions come from a fixed map below, never from input.
 */
import type { Db, Queryable } from '../../../platform/db/db.js';
import { countedPurchasesCtes } from '../analytics.purchases.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings } from '../analytics.types.js';

export const BREAKDOWNS = ['tier', 'channel', 'store', 'segment', 'cohort', 'customer_type'] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];

/** The group of non-members in breakdowns by a member's attribute (tier, segment); parentheses never occur in a tier code. */
export const NON_MEMBERS = '(non-members)';
/** The segment of a member with no RFM score yet. */
export const UNSCORED = 'unscored';

/** Breakdowns by an attribute of the order (a customer is in each group they bought in), not of the customer. */
export const ORDER_BREAKDOWNS: ReadonlySet<Breakdown> = new Set(['channel', 'store']);

export interface BehaviourParams {
  tenantId: string;
  timeZone: string;
  /** Inclusive calendar days in `timeZone`, YYYY-MM-DD. */
  from: string;
  to: string;
  currency: string;
  by: Breakdown | null;
  /** The rule actually applied (a 'fixed_days' without days has been turned into 'median_gap' by the caller). */
  rule: AnalyticsSettings['churn']['rule'];
  gapMultiple: number;
  fixedDays: number | null;
  pAliveBelow: number;
}

/** One row per group, and one (`total`) for everyone. Counts are customers unless named otherwise. */
export interface BehaviourRow {
  total: boolean;
  grp: string | null;
  start: number;
  new: number;
  end: number;
  /** Of `start`, lost as of `to`. */
  lost: number;
  /** Of `new`, lost as of `to`. */
  new_lost: number;
  reactivated: number;
  purchasing: number;
  repeating: number;
  orders: number;
  money_orders: number;
  revenue: number;
  /** Median days between consecutive purchase days whose later day is in the range (null: no such gap). */
  median_gap_in_range: number | null;
  /** The tenant-wide median gap over all purchases up to `to` (the churn window's base; the same on every row). */
  tenant_median_gap: number | null;
  window_days: number | null;
}

/** The customer's group for breakdowns by an attribute of the customer; `c` is the customer, `ma` their member_analytics row. */
const CUSTOMER_GROUP: Record<Exclude<Breakdown, 'channel' | 'store'>, string> = {
  // The tier now: the member_tiers row, else the base tier (the highest open tier with an entry threshold of 0, as
  // tiers.service baseTier), else none (null). docs: migrations/0007_tiers.sql.
  tier: `CASE WHEN c.member_id IS NULL THEN '${NON_MEMBERS}' WHEN mt.member_id IS NULL THEN base.code ELSE tt.code END`,
  segment: `CASE WHEN c.member_id IS NULL THEN '${NON_MEMBERS}' ELSE coalesce(ma.segment, '${UNSCORED}') END`,
  cohort: `to_char(c.first_day, 'YYYY-MM')`,
  customer_type: `CASE WHEN c.member_id IS NULL THEN 'non_member' ELSE 'member' END`,
};

const ORDER_GROUP: Record<'channel' | 'store', string> = { channel: 't.channel', store: 't.store_id' };

/**
 * The counted purchases (analytics.purchases.ts) of members and non-members, as of the first instant after `to`
 * ($4) in the time zone ($2); money in the program currency ($5). Carries the order-breakdown columns.
 */
const PURCHASES = countedPurchasesCtes('purchases', {
  tenant: '$1', end: '(($4::date + 1)::timestamp AT TIME ZONE $2)', timeZone: '$2', currency: '$5',
  customers: 'members_and_non_members', columns: ['channel', 'store_id'],
});

/**
 * Parameters: $1 tenant, $2 time zone, $3 from, $4 to, $5 program currency, $6 rule, $7 gap multiple, $8 fixed days,
 * $9 P(alive) threshold.
 */
function sql(by: Breakdown | null): string {
  const orderDim = by === 'channel' || by === 'store' ? by : null;
  const customerDim = by && !orderDim ? (by as keyof typeof CUSTOMER_GROUP) : null;
  const tierJoins = customerDim === 'tier'
    ? `LEFT JOIN member_tiers mt ON mt.tenant_id = $1 AND mt.member_id = c.member_id
       LEFT JOIN tiers tt ON tt.tenant_id = $1 AND tt.id = mt.tier_id
       LEFT JOIN base ON true`
    : '';
  // Per customer and group: the orders of the range that count for the group.
  const customerGroups = orderDim
    ? `SELECT od.cust, od.og AS grp,
              coalesce(sum(od.orders) FILTER (WHERE od.day >= $3), 0)::int AS orders,
              coalesce(sum(od.money_orders) FILTER (WHERE od.day >= $3), 0)::int AS money_orders,
              coalesce(sum(od.revenue) FILTER (WHERE od.day >= $3), 0)::bigint AS revenue
         FROM od JOIN f ON f.cust = od.cust
        GROUP BY od.cust, od.og`
    : customerDim
      ? 'SELECT f.cust, f.grp, f.orders, f.money_orders, f.revenue FROM f'
      : 'SELECT f.cust, f.grp, f.orders, f.money_orders, f.revenue FROM f WHERE false';
  // The gaps of the range per group: a gap belongs to the groups of the later day's orders (order breakdowns) or
  // to the customer's group.
  const groupGaps = orderDim
    ? 'SELECT g.cust, g.day, g.gap, od.og AS grp FROM g JOIN od ON od.cust = g.cust AND od.day = g.day'
    : customerDim
      ? 'SELECT g.cust, g.day, g.gap, f.grp FROM g JOIN f ON f.cust = g.cust'
      : 'SELECT g.cust, g.day, g.gap, NULL::text AS grp FROM g WHERE false';
  // Without an order breakdown od has one row per customer and day already.
  const days = orderDim ? 'FROM od GROUP BY od.cust, od.day' : 'FROM od';

  return `
WITH
-- The orders that count as of the end of \`to\` in the tenant's time zone (analytics.purchases.ts: the definition the
-- analytics run uses, with the returns dated before that end), of members and of non-members with a customer_ref.
${PURCHASES},
-- Per customer, day (and group of an order breakdown): orders, those with money (in the program currency) and their
-- money net of returns. A customer is a member (their id) or a non-member's customer_ref (a uuid made of its md5: a
-- uuid key hashes and sorts faster than text, and 128 bits make a clash with a member's random id impossible in
-- practice).
od AS MATERIALIZED (
  SELECT coalesce(t.member_id, md5(t.customer_ref)::uuid) AS cust,
         t.member_id,
         t.day,
         ${orderDim ? ORDER_GROUP[orderDim] : 'NULL::text'} AS og,
         count(*)::int AS orders,
         count(*) FILTER (WHERE t.money)::int AS money_orders,
         coalesce(sum(t.net), 0)::bigint AS revenue
    FROM purchases t
   GROUP BY 1, 2, 3, 4
),
-- Purchase days (same-day orders are one) and the days since the customer's previous purchase day.
pd AS MATERIALIZED (
  SELECT od.cust, od.day, od.day - lag(od.day) OVER (PARTITION BY od.cust ORDER BY od.day) AS gap
    ${days}
),
-- The churn window: gap_multiple x the tenant-wide median gap up to \`to\`, or the fixed days.
w AS (
  SELECT m.median_gap,
         CASE WHEN $6 = 'fixed_days' THEN $8::float8 ELSE $7::float8 * m.median_gap END AS window_days
    FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY pd.gap) AS median_gap FROM pd WHERE pd.gap IS NOT NULL) m
),
base AS (
  SELECT b.code FROM tiers b
   WHERE b.tenant_id = $1 AND NOT b.invitation_only AND b.entry_threshold = 0
   ORDER BY b.rank DESC LIMIT 1
),
c AS (
  SELECT od.cust, od.member_id, min(od.day) AS first_day,
         max(od.day) FILTER (WHERE od.day < $3) AS last_before, max(od.day) AS last_day,
         coalesce(sum(od.orders) FILTER (WHERE od.day >= $3), 0)::int AS orders,
         coalesce(sum(od.money_orders) FILTER (WHERE od.day >= $3), 0)::int AS money_orders,
         coalesce(sum(od.revenue) FILTER (WHERE od.day >= $3), 0)::bigint AS revenue
    FROM od GROUP BY od.cust, od.member_id
),
-- Lost at the start: as of the day before \`from\` (recency = from - 1 - last purchase before from) beyond the window.
-- Lost at the end: as of \`to\`; under 'p_alive' a scored member by the score (a purchase after the score's day
-- revives them), everyone else by the window. No window (no gap to take a median of): nobody is lost.
st AS (
  SELECT c.cust, c.member_id, c.first_day, c.orders, c.money_orders, c.revenue,
         ${customerDim ? CUSTOMER_GROUP[customerDim] : 'NULL::text'} AS grp,
         coalesce(c.first_day < $3 AND w.window_days IS NOT NULL AND ($3::date - 1 - c.last_before) > w.window_days, false) AS lost_start,
         CASE WHEN $6 = 'p_alive' AND ma.p_alive IS NOT NULL THEN ma.p_alive < $9 AND c.last_day <= ma.as_of
              ELSE coalesce(w.window_days IS NOT NULL AND ($4::date - c.last_day) > w.window_days, false) END AS lost_end
    FROM c CROSS JOIN w
    LEFT JOIN member_analytics ma ON ma.tenant_id = $1 AND ma.member_id = c.member_id
    ${tierJoins}
),
-- Each customer's part in the figures; customers who were lost before the range and stayed away figure nowhere.
-- Those at the end are exactly: of the start, not lost; of the new, not lost; and the reactivated (the identity).
f AS (
  SELECT st.*,
         st.first_day < $3 AND NOT st.lost_start AS in_start,
         st.first_day >= $3 AS is_new,
         NOT st.lost_end AS at_end,
         st.first_day < $3 AND NOT st.lost_start AND st.lost_end AS lost,
         st.first_day >= $3 AND st.lost_end AS new_lost,
         st.first_day < $3 AND st.lost_start AND NOT st.lost_end AS reactivated
    FROM st
   WHERE st.first_day >= $3 OR NOT st.lost_start OR NOT st.lost_end OR st.orders > 0
),
cg AS (${customerGroups}),
g AS (SELECT pd.cust, pd.day, pd.gap FROM pd WHERE pd.day >= $3 AND pd.gap IS NOT NULL),
gg AS (${groupGaps}),
agg AS (
  SELECT true AS total, NULL::text AS grp,
         count(*) FILTER (WHERE f.in_start)::int AS start, count(*) FILTER (WHERE f.is_new)::int AS new,
         count(*) FILTER (WHERE f.at_end)::int AS "end", count(*) FILTER (WHERE f.lost)::int AS lost,
         count(*) FILTER (WHERE f.new_lost)::int AS new_lost, count(*) FILTER (WHERE f.reactivated)::int AS reactivated,
         count(*) FILTER (WHERE f.orders > 0)::int AS purchasing, count(*) FILTER (WHERE f.orders >= 2)::int AS repeating,
         coalesce(sum(f.orders), 0)::bigint AS orders, coalesce(sum(f.money_orders), 0)::bigint AS money_orders,
         coalesce(sum(f.revenue), 0)::bigint AS revenue
    FROM f
  UNION ALL
  SELECT false, cg.grp,
         count(*) FILTER (WHERE f.in_start)::int, count(*) FILTER (WHERE f.is_new)::int,
         count(*) FILTER (WHERE f.at_end)::int, count(*) FILTER (WHERE f.lost)::int,
         count(*) FILTER (WHERE f.new_lost)::int, count(*) FILTER (WHERE f.reactivated)::int,
         count(*) FILTER (WHERE cg.orders > 0)::int, count(*) FILTER (WHERE cg.orders >= 2)::int,
         coalesce(sum(cg.orders), 0)::bigint, coalesce(sum(cg.money_orders), 0)::bigint, coalesce(sum(cg.revenue), 0)::bigint
    FROM cg JOIN f ON f.cust = cg.cust
   GROUP BY cg.grp
),
gaps AS (
  SELECT true AS total, NULL::text AS grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY g.gap) AS median FROM g
  UNION ALL
  SELECT false, gg.grp, percentile_cont(0.5) WITHIN GROUP (ORDER BY gg.gap) FROM gg GROUP BY gg.grp
)
SELECT agg.*, gaps.median AS median_gap_in_range, w.median_gap AS tenant_median_gap, w.window_days
  FROM agg CROSS JOIN w
  LEFT JOIN gaps ON gaps.total = agg.total AND gaps.grp IS NOT DISTINCT FROM agg.grp
 ORDER BY agg.total DESC`;
}

const SQL_BY = new Map<Breakdown | null, string>([null, ...BREAKDOWNS].map((b) => [b, sql(b)]));

/**
 * Runs `fn` in a transaction of its own, read-only on one snapshot (the tenant, the settings, the scores and the
 * orders are read as of one moment), with more memory per sort and hash than the default 4 MB, so that the
 * per-customer aggregation of a large tenant is sorted in memory rather than on disk. SET LOCAL ends with it.
 */
export function onSnapshot<T>(db: Db, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.tx(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await tx.query(`SET LOCAL work_mem = '${AGGREGATION_WORK_MEM}'`);
    return fn(tx);
  });
}
const AGGREGATION_WORK_MEM = '64MB';

export async function behaviourRows(q: Queryable, p: BehaviourParams): Promise<BehaviourRow[]> {
  const { rows } = await q.query<BehaviourRow>(SQL_BY.get(p.by)!, [
    p.tenantId, p.timeZone, p.from, p.to, p.currency, p.rule, p.gapMultiple, p.fixedDays, p.pAliveBelow,
  ]);
  return rows;
}

export interface TenantFacts {
  time_zone: string;
  currency: string;
  /** Today in the tenant's time zone at `now` (the default range ends the day before: a complete day). */
  today: string;
}

/** The tenant's time zone and program currency (tenants.default_currency), and today there. */
export async function tenantFacts(q: Queryable, tenantId: string, now: Date): Promise<TenantFacts | null> {
  const { rows } = await q.query<TenantFacts>(
    `SELECT time_zone, trim(default_currency) AS currency, ($2::timestamptz AT TIME ZONE time_zone)::date AS today
       FROM tenants WHERE id = $1`, [tenantId, now]);
  return rows[0] ?? null;
}

/** The day the members' current scores were computed for (member_analytics.as_of), and how many have a P(alive). */
export async function scoresAsOf(q: Queryable, tenantId: string): Promise<{ as_of: string | null; scored: number }> {
  const { rows } = await q.query<{ as_of: string | null; scored: number }>(
    `SELECT max(as_of) AS as_of, count(*)::int AS scored FROM member_analytics WHERE tenant_id = $1 AND p_alive IS NOT NULL`, [tenantId]);
  return rows[0] ?? { as_of: null, scored: 0 };
}

/**
 * The tenant's analytics settings: the analytics_settings row merged over DEFAULT_ANALYTICS_SETTINGS, section by
 * section. The behaviour service uses it when no settings function is given (the analytics core's settings service
 * validates what it stores; a value of the wrong type here falls back to its default rather than reaching SQL).
 */
export async function readSettings(q: Queryable, tenantId: string): Promise<AnalyticsSettings> {
  const { rows } = await q.query<{ settings: Partial<Record<keyof AnalyticsSettings, unknown>> }>(
    'SELECT settings FROM analytics_settings WHERE tenant_id = $1', [tenantId]);
  const stored = rows[0]?.settings ?? {};
  const d = DEFAULT_ANALYTICS_SETTINGS;
  const section = <K extends 'churn' | 'clv' | 'at_risk'>(k: K): AnalyticsSettings[K] => {
    const s = stored[k];
    const out = { ...d[k] } as Record<string, unknown>;
    if (s && typeof s === 'object') {
      for (const [name, value] of Object.entries(s)) {
        // The same type as the default; a field whose default is null (churn.days) takes a number or null.
        const def = out[name];
        if (!(name in out)) continue;
        if ((value !== null && typeof value === typeof def) || (def === null && (value === null || typeof value === 'number'))) out[name] = value;
      }
    }
    return out as AnalyticsSettings[K];
  };
  return {
    churn: section('churn'),
    clv: section('clv'),
    at_risk: section('at_risk'),
    nightly: typeof stored.nightly === 'boolean' ? stored.nightly : d.nightly,
    keep_runs_days: typeof stored.keep_runs_days === 'number' ? stored.keep_runs_days : d.keep_runs_days,
  };
}
