/**
 * The SQL of program economics: read-only, set-based aggregates over other modules' tables (the analytics module's
 * reporting exception: point_lots, lot_allocations, ledger_entries, members, transactions, redemptions,
 * reward_redemptions, vouchers, voucher_redemptions, wallet_entries, campaigns, campaign_members, campaign_awards,
 * programs). Nothing here writes. Every statement filters by tenant and reads "as of" an instant `at` (the end of a
 * run's as_of day): lots earned before it, allocations recorded before it, orders that occurred before it.
 *
 * Scale (1M members, 10M orders): each statement is one pass over its tables, grouped in the database; what comes
 * back is a few hundred rows (per lot age, per expiry month, per campaign group), never a row per member or lot.
 * The ledger tables have no index on time, so the ledger statements read the tenant's whole history by its primary
 * key prefix (tenant_id): the run needs all of it anyway (cumulative figures, the lot-age curve).
 */
import type { Queryable } from '../../../platform/db/db.js';
import { DEFAULT_SETTINGS } from '../../programs/programs.types.js';
import { MONTH_MS, type AgeCensored, type AgeFlows, type GroupSample, type OutstandingGroup } from './economics.js';

const MONTH_SECONDS = MONTH_MS / 1000;

/** An age in months (of MONTH_DAYS) between two timestamptz expressions, never negative. */
const ageSql = (from: string, to: string) => `(GREATEST(extract(epoch FROM ${to} - ${from})::float8, 0) / $3)`;

/** What the lots and their allocations say as of an instant. */
export interface LotsAsOf {
  flows: AgeFlows[];
  censored: AgeCensored[];
  outstanding: OutstandingGroup[];
  totals: {
    issued_gross: number;
    withdrawn: number;
    redeemed: number;
    /** Expired by allocation (both kinds) plus what lots past their expiry date still hold. */
    expired: number;
    outstanding: number;
    /** Lots past their expiry date: issued (net of take-backs) and expired. */
    past_issued: number;
    past_expired: number;
  };
  /** Per period start: points credited into lots earned since, and points redeemed / taken back since. */
  periods: Array<{ from: Date; issued_gross: number; withdrawn: number; redeemed: number }>;
}

/**
 * A lot's attributes as of `$2`, over point_lots `l`: the month its observation ends (`cm`: as_of or its expiry
 * date) and the share of that month it was not observed (`unobs`); `past` when its expiry date has passed; for a
 * lot not past it, its age and expiry age in months and `gk`, one bigint that encodes its outstanding group:
 * age month × 10¹⁰ + (expiry age month + 1) × 10⁶ + the expiry month as YYYYMM in the tenant's time zone (0 and 0:
 * never). One integer key, not three: PostgreSQL estimates a group-by expression at 200 groups and hashes it, where
 * three expressions would be estimated at millions and sorted.
 */
const LOT_KEYS = `
  floor(t.obs)::int AS cm,
  1 - (t.obs - floor(t.obs)) AS unobs,
  (l.expires_at IS NOT NULL AND l.expires_at <= $2) AS past,
  t.age, t.expiry_age,
  CASE WHEN l.expires_at IS NULL THEN floor(t.age)::bigint * 10000000000
       WHEN l.expires_at > $2 THEN floor(t.age)::bigint * 10000000000 + (floor(t.expiry_age)::bigint + 1) * 1000000
                                   + to_char(l.expires_at AT TIME ZONE $4::text, 'YYYYMM')::bigint END AS gk`;

/** The lot's ages in months, computed once per row (the keys above use them). */
const LOT_AGES = `SELECT ${ageSql('l.earned_at', 'LEAST(coalesce(l.expires_at, $2), $2)')} AS obs, ${ageSql('l.earned_at', '$2')} AS age,
  extract(epoch FROM l.expires_at - l.earned_at)::float8 / $3 AS expiry_age`;

/** Decodes `gk`. */
function groupOfKey(gk: number): { ok: number; expiryMonth: string | null } {
  const ok = Math.floor(gk / 1e10);
  const yyyymm = gk % 1e6;
  return { ok, expiryMonth: yyyymm === 0 ? null : `${Math.floor(yyyymm / 100)}-${String(yyyymm % 100).padStart(2, '0')}` };
}

/**
 * The lot-age life table's inputs, the outstanding points by age and expiry, and the totals, as of `at`.
 *
 * What a lot holds at the end of its observation is its amount less what left it before: redeemed ('r', net of
 * cancelled redemptions, whose give-back rows are negative), expired by inactivity or early ('x': before the lot's
 * own expiry date, or the lot has none) and taken back ('w': claw-back, reversal, negative adjustment, debt
 * repayment). Expiry on the lot's own date ('f') is not an exit but the end of its observation: what the date took is
 * what the lot held. Hold allocations are left out: held points are outstanding until captured, and a capture writes
 * its own 'redeem' allocation.
 *
 * Every figure is a sum over lots of (amount − exits) × something of the lot, so it splits into a sum over lots and a
 * sum over their allocations, each grouped by the lot's keys (LOT_KEYS): two grouped passes (the lots; the
 * allocations joined to their entry and lot) and no per-lot intermediate, which at ten million lots is what keeps
 * this one hash join and two small aggregations. TypeScript subtracts the two.
 *
 * An allocation's month is the lot's age when it was recorded, at most the month the lot's observation ended.
 * `earnedBefore` (default `at`) keeps only the lots earned before it: a backtest follows the lots of an earlier date
 * to a later one.
 */
export async function lotsAsOf(q: Queryable, tenantId: string, at: Date, timeZone: string, periodStarts: Date[], opts: { earnedBefore?: Date } = {}): Promise<LotsAsOf> {
  const earnedBefore = opts.earnedBefore ?? at;
  const eb = `$${5 + periodStarts.length}`;
  /** Per period start ($5, $6, …): Σ value of the rows matching `filter` whose `column` is at or after it. */
  const periodSums = (value: string, column: string, filter = 'true') =>
    `array[${periodStarts.map((_, i) => `coalesce(sum(${value}) FILTER (WHERE ${filter} AND ${column} >= $${5 + i}), 0)::float8`).join(', ')}]::float8[]`;
  const res = await q.query(
    `WITH lots AS (
       SELECT GROUPING(k.cm) AS g_cm, GROUPING(k.gk) AS g_o, k.cm, k.gk,
              sum(l.amount)::float8 AS amount,
              sum(l.amount * k.unobs)::float8 AS unobserved,
              sum(l.amount * k.age)::float8 AS age,
              sum(l.amount * k.expiry_age)::float8 AS expiry_age,
              coalesce(sum(l.amount) FILTER (WHERE k.past), 0)::float8 AS past,
              ${periodSums('l.amount', 'l.earned_at')} AS period
         FROM point_lots l CROSS JOIN LATERAL (${LOT_AGES}) t CROSS JOIN LATERAL (SELECT ${LOT_KEYS}) k
        WHERE l.tenant_id = $1 AND l.earned_at < ${eb}
        GROUP BY GROUPING SETS ((k.cm), (k.gk), ())
     ), exits AS (
       SELECT GROUPING(k.cm) AS g_cm, GROUPING(k.gk) AS g_o, GROUPING(x.fk) AS g_f, k.cm, k.gk, x.fk,
              sum(a.points)::float8 AS amount,
              sum(a.points * k.unobs)::float8 AS unobserved,
              sum(a.points * k.age)::float8 AS age,
              sum(a.points * k.expiry_age)::float8 AS expiry_age,
              coalesce(sum(a.points) FILTER (WHERE k.past), 0)::float8 AS past,
              coalesce(sum(a.points) FILTER (WHERE k.past AND x.cls = 'w'), 0)::float8 AS past_w,
              coalesce(sum(a.points) FILTER (WHERE k.past AND x.cls = 'x'), 0)::float8 AS past_x,
              coalesce(sum(a.points) FILTER (WHERE x.cls = 'r'), 0)::float8 AS r,
              coalesce(sum(a.points) FILTER (WHERE x.cls = 'w'), 0)::float8 AS w,
              coalesce(sum(a.points) FILTER (WHERE x.cls = 'x'), 0)::float8 AS x,
              ${periodSums('a.points', 'GREATEST(e.occurred_at, l.earned_at)', "x.cls = 'r'")} AS period_r,
              ${periodSums('a.points', 'GREATEST(e.occurred_at, l.earned_at)', "x.cls = 'w'")} AS period_w
         FROM lot_allocations a
         JOIN ledger_entries e ON e.tenant_id = a.tenant_id AND e.id = a.entry_id
         JOIN point_lots l ON l.tenant_id = a.tenant_id AND l.id = a.lot_id
         CROSS JOIN LATERAL (${LOT_AGES}) t
         CROSS JOIN LATERAL (SELECT ${LOT_KEYS}) k
         CROSS JOIN LATERAL (
           SELECT CASE WHEN e.type = 'redeem' THEN 'r'
                       WHEN e.type = 'expire' AND (l.expires_at IS NULL OR GREATEST(e.occurred_at, l.earned_at) < l.expires_at) THEN 'x'
                       WHEN e.type = 'expire' THEN 'f'
                       ELSE 'w' END AS cls
         ) c
         -- The flow key: the age month × 10 + 1 (redeemed), 2 (taken back) or 3 (expired early).
         CROSS JOIN LATERAL (
           SELECT c.cls, LEAST(floor(${ageSql('l.earned_at', 'GREATEST(e.occurred_at, l.earned_at)')})::int, k.cm) * 10 + CASE c.cls WHEN 'r' THEN 1 WHEN 'w' THEN 2 ELSE 3 END AS fk
         ) x
        WHERE a.tenant_id = $1 AND a.entry_id IS NOT NULL AND GREATEST(e.occurred_at, l.earned_at) < $2 AND l.earned_at < ${eb} AND c.cls <> 'f'
        GROUP BY GROUPING SETS ((k.cm), (k.gk), (x.fk), ())
     )
     SELECT (SELECT coalesce(json_agg(lots), '[]') FROM lots) AS lots, (SELECT coalesce(json_agg(exits), '[]') FROM exits) AS exits`,
    [tenantId, at, MONTH_SECONDS, timeZone, ...periodStarts, earnedBefore],
  );
  type Sums = { amount: number; unobserved: number; age: number; expiry_age: number | null; past: number };
  type LotRow = Sums & { g_cm: number; g_o: number; cm: number | null; gk: number | null; period: number[] };
  type ExitRow = LotRow & { g_f: number; fk: number | null; past_w: number; past_x: number; r: number; w: number; x: number; period_r: number[]; period_w: number[] };
  const lots = res.rows[0].lots as LotRow[];
  const exits = res.rows[0].exits as ExitRow[];
  const NONE = { amount: 0, unobserved: 0, age: 0, expiry_age: 0, past: 0, past_w: 0, past_x: 0, r: 0, w: 0, x: 0, period: periodStarts.map(() => 0), period_r: periodStarts.map(() => 0), period_w: periodStarts.map(() => 0) };
  const lotTotal = lots.find((r) => r.g_cm === 1 && r.g_o === 1) ?? { ...NONE };
  const exitTotal = exits.find((r) => r.g_cm === 1 && r.g_o === 1 && r.g_f === 1) ?? { ...NONE };

  const flows = new Map<number, AgeFlows>();
  for (const f of exits.filter((r) => r.g_f === 0)) {
    const month = Math.floor(f.fk! / 10);
    const m = flows.get(month) ?? { month, redeemed: 0, withdrawn: 0, expired: 0 };
    const cls = f.fk! % 10;
    if (cls === 1) m.redeemed += f.amount;
    else if (cls === 2) m.withdrawn += f.amount;
    else m.expired += f.amount;
    flows.set(month, m);
  }
  const censoredExits = new Map(exits.filter((r) => r.g_cm === 0).map((r) => [r.cm!, r]));
  const censored: AgeCensored[] = lots.filter((r) => r.g_cm === 0).map((r) => {
    const x = censoredExits.get(r.cm!);
    return { month: r.cm!, points: r.amount - (x?.amount ?? 0), unobserved: r.unobserved - (x?.unobserved ?? 0) };
  }).filter((c) => c.points !== 0).sort((a, b) => a.month - b.month);
  // The outstanding groups: lots not past their expiry date, by (age month, expiry age month, expiry month).
  const exitGroups = new Map(exits.filter((r) => r.g_o === 0 && r.gk !== null).map((r) => [r.gk, r]));
  const outstanding: OutstandingGroup[] = [];
  for (const r of lots.filter((x) => x.g_o === 0 && x.gk !== null)) {
    const x = exitGroups.get(r.gk);
    const points = r.amount - (x?.amount ?? 0);
    if (!(points > 0)) continue;
    const { expiryMonth } = groupOfKey(r.gk!);
    outstanding.push({
      points,
      age: (r.age - (x?.age ?? 0)) / points,
      expiry_age: expiryMonth === null ? null : ((r.expiry_age ?? 0) - (x?.expiry_age ?? 0)) / points,
      expiry_month: expiryMonth,
    });
  }
  const pastHeld = lotTotal.past - exitTotal.past;
  return {
    flows: [...flows.values()].sort((a, b) => a.month - b.month),
    censored,
    outstanding,
    totals: {
      issued_gross: lotTotal.amount,
      withdrawn: exitTotal.w,
      redeemed: exitTotal.r,
      // Expired by inactivity (or early) plus all that lots past their expiry date held: what the expiry job wrote
      // off on the date and what it has not yet written off.
      expired: exitTotal.x + pastHeld,
      outstanding: outstanding.reduce((sum, g) => sum + g.points, 0),
      past_issued: lotTotal.past - exitTotal.past_w,
      past_expired: exitTotal.past_x + pastHeld,
    },
    periods: periodStarts.map((from, i) => ({ from, issued_gross: lotTotal.period[i] ?? 0, withdrawn: exitTotal.period_w[i] ?? 0, redeemed: exitTotal.period_r[i] ?? 0 })),
  };
}

// ── Participation ────────────────────────────────────────────────────────────

export interface ParticipationCounts {
  members: number;
  non_member_customers: number;
  /** Per period start: members with an earn or redeem entry since then. */
  participating: number[];
}

/**
 * Members (enrolled before `at`, not erased by then), customers who are not members (distinct customer_ref of their
 * purchases), and per period the members who earned or redeemed: each member's last earn or redeem entry in the
 * longest period, counted against each period's start.
 */
export async function participation(q: Queryable, tenantId: string, at: Date, periodStarts: Date[]): Promise<ParticipationCounts> {
  const earliest = new Date(Math.min(...periodStarts.map((d) => d.getTime())));
  const r = await q.query(
    `WITH last AS (
       -- The same members as the denominator: enrolled before, not erased by then.
       SELECT e.member_id, max(e.occurred_at) AS last_at
         FROM ledger_entries e
         JOIN members m ON m.tenant_id = e.tenant_id AND m.id = e.member_id
        WHERE e.tenant_id = $1 AND e.type IN ('earn', 'redeem') AND e.occurred_at >= $3 AND e.occurred_at < $2
          AND m.enrolled_at < $2 AND (m.erased_at IS NULL OR m.erased_at >= $2)
        GROUP BY e.member_id
     )
     SELECT (SELECT count(*)::int FROM members
              WHERE tenant_id = $1 AND enrolled_at < $2 AND (erased_at IS NULL OR erased_at >= $2)) AS members,
            (SELECT count(DISTINCT customer_ref)::int FROM transactions
              WHERE tenant_id = $1 AND member_id IS NULL AND customer_ref IS NOT NULL AND type = 'purchase'
                AND occurred_at < $2 AND (status = 'recorded' OR voided_at >= $2)) AS non_member_customers,
            array[${periodStarts.map((_, i) => `(SELECT count(*)::int FROM last WHERE last_at >= $${4 + i})`).join(', ')}] AS participating`,
    [tenantId, at, earliest, ...periodStarts],
  );
  return r.rows[0];
}

// ── Cost of rewards ──────────────────────────────────────────────────────────

/** One currency's cost of rewards over one period (see RewardsCostCurrencySchema for what each part counts). */
export interface RewardsCostRow {
  period: number;
  currency: string;
  redemptions_count: number;
  redemptions_points: number;
  redemptions_value: number;
  gifts_count: number;
  gifts_valued: number;
  gifts_value: number;
  credit_by_source: Record<string, number>;
  voucher_discounts_count: number;
  voucher_discounts: number;
}

/**
 * What the program gave away in each period [start, at), per currency, from four sources that do not overlap:
 *  - points redemptions not cancelled by `at`, at the money value recorded when redeemed (this includes catalog
 *    rewards bought with points, whatever they were: their cost is the points' worth);
 *  - catalog rewards given as gifts (no points), valued by the voucher they issued (fixed amount, gift card, free
 *    product with a value) or their cashback/donation amount; the others (a percentage voucher, an event) are counted
 *    but have no value;
 *  - store credit, except refunds of a spend (money given back, not a reward) and reward cashback (counted above);
 *  - discounts given by vouchers issued outside the catalog (by hand or in batches; gift cards are bought, not given),
 *    not released by `at`.
 * Unvalued gifts are listed under the program currency.
 */
export async function rewardsCost(q: Queryable, tenantId: string, at: Date, periodStarts: Date[], programCurrency: string): Promise<RewardsCostRow[]> {
  const earliest = new Date(Math.min(...periodStarts.map((d) => d.getTime())));
  const periods = `unnest($4::timestamptz[]) WITH ORDINALITY AS p(start, idx)`;
  const res = await q.query(
    `WITH red AS (
       SELECT p.idx, r.currency, count(*)::int AS n, sum(r.points)::float8 AS points, sum(r.value_amount)::float8 AS value
         FROM redemptions r JOIN ${periods} ON r.created_at >= p.start
        WHERE r.tenant_id = $1 AND r.created_at >= $3 AND r.created_at < $2 AND (r.status = 'completed' OR r.cancelled_at >= $2)
        GROUP BY 1, 2
     ), gift AS (
       SELECT p.idx, g.currency, count(*)::int AS n, count(g.value)::int AS valued, coalesce(sum(g.value), 0)::float8 AS value
         FROM (SELECT rr.created_at,
                      CASE WHEN rr.amount IS NOT NULL THEN rr.amount
                           WHEN v.kind IN ('fixed_amount', 'gift_card', 'free_product') THEN v.amount END AS value,
                      coalesce(rr.currency, v.currency, $5) AS currency
                 FROM reward_redemptions rr
                 LEFT JOIN vouchers v ON v.tenant_id = rr.tenant_id AND v.id = rr.voucher_id
                WHERE rr.tenant_id = $1 AND rr.origin = 'gift' AND rr.created_at >= $3 AND rr.created_at < $2
                  AND (rr.status = 'completed' OR rr.cancelled_at >= $2)) g
         JOIN ${periods} ON g.created_at >= p.start
        GROUP BY 1, 2
     ), credit AS (
       SELECT idx, currency, jsonb_object_agg(source_type, amount) AS by_source
         FROM (SELECT p.idx, w.currency, w.source_type, sum(w.amount)::float8 AS amount
                 FROM wallet_entries w JOIN ${periods} ON w.created_at >= p.start
                WHERE w.tenant_id = $1 AND w.type = 'credit' AND w.source_type NOT IN ('refund', 'reward')
                  AND w.created_at >= $3 AND w.created_at < $2
                GROUP BY 1, 2, 3) w
        GROUP BY 1, 2
     ), disc AS (
       SELECT p.idx, vr.currency, count(*)::int AS n, sum(vr.discount)::float8 AS amount
         FROM voucher_redemptions vr
         JOIN vouchers v ON v.tenant_id = vr.tenant_id AND v.id = vr.voucher_id
         JOIN ${periods} ON vr.created_at >= p.start
        WHERE vr.tenant_id = $1 AND v.reward_id IS NULL AND v.kind <> 'gift_card' AND vr.discount > 0
          AND vr.created_at >= $3 AND vr.created_at < $2 AND (vr.status = 'redeemed' OR vr.released_at >= $2)
        GROUP BY 1, 2
     ), keys AS (
       SELECT idx, currency FROM red UNION SELECT idx, currency FROM gift UNION SELECT idx, currency FROM credit UNION SELECT idx, currency FROM disc
     )
     SELECT k.idx::int - 1 AS period, k.currency,
            coalesce(red.n, 0) AS redemptions_count, coalesce(red.points, 0) AS redemptions_points, coalesce(red.value, 0) AS redemptions_value,
            coalesce(gift.n, 0) AS gifts_count, coalesce(gift.valued, 0) AS gifts_valued, coalesce(gift.value, 0) AS gifts_value,
            coalesce(credit.by_source, '{}') AS credit_by_source,
            coalesce(disc.n, 0) AS voucher_discounts_count, coalesce(disc.amount, 0) AS voucher_discounts
       FROM keys k
       LEFT JOIN red USING (idx, currency)
       LEFT JOIN gift USING (idx, currency)
       LEFT JOIN credit USING (idx, currency)
       LEFT JOIN disc USING (idx, currency)
      ORDER BY 1, 2`,
    [tenantId, at, earliest, periodStarts, programCurrency],
  );
  return res.rows;
}

// ── Campaigns ────────────────────────────────────────────────────────────────

export interface CampaignRowAsOf {
  id: string;
  name: string;
  kind: string;
  status: string;
  control_share: number;
  window_from: Date;
  window_to: Date;
  base_from: Date;
  base_to: Date;
  baseline_days: number;
  baseline: unknown;
  cost_units: number;
}

/**
 * Campaigns launched and started before `at`, newest start first. The window runs from the later of starts_at and
 * launched_at (nothing is awarded before launch) to the earliest of ends_at, the cancellation and `at`; the baseline
 * over the baseline_days before launch. The cost is what the granted awards keep, recorded before `at`.
 */
export async function campaignsAsOf(q: Queryable, tenantId: string, at: Date): Promise<CampaignRowAsOf[]> {
  const res = await q.query<CampaignRowAsOf>(
    `SELECT c.id, c.name, c.kind, c.status, c.control_share::float8 AS control_share,
            GREATEST(c.starts_at, c.launched_at) AS window_from,
            GREATEST(LEAST(c.ends_at, $2, coalesce(c.cancelled_at, 'infinity')), GREATEST(c.starts_at, c.launched_at)) AS window_to,
            c.launched_at - make_interval(days => c.baseline_days) AS base_from, c.launched_at AS base_to,
            c.baseline_days, c.baseline,
            coalesce((SELECT sum(a.kept) FROM campaign_awards a
                       WHERE a.tenant_id = $1 AND a.campaign_id = c.id AND a.outcome = 'granted' AND a.created_at < $2), 0)::float8 AS cost_units
       FROM campaigns c
      WHERE c.tenant_id = $1 AND c.launched_at IS NOT NULL AND c.launched_at < $2 AND c.starts_at < $2
      ORDER BY GREATEST(c.starts_at, c.launched_at) DESC, c.id`,
    [tenantId, at],
  );
  return res.rows;
}

export interface CampaignGroupRow {
  campaign_id: string;
  grp: 'treatment' | 'control';
  window: GroupSample;
  baseline: GroupSample;
}

/**
 * Per campaign and group (members assigned before `at`): each member's purchases and revenue in the window and in
 * the baseline, then the group's count, mean and sample variance of both. Purchases are recorded purchases (or voided
 * only after `at`); revenue counts purchases in `currency`, net of their returns that occurred before `at`. The
 * per-member rows stay in the database; one row per campaign group comes back.
 */
export async function campaignGroups(q: Queryable, tenantId: string, at: Date, currency: string, campaignIds: string[]): Promise<CampaignGroupRow[]> {
  if (campaignIds.length === 0) return [];
  const res = await q.query(
    `WITH c AS (
       SELECT id, GREATEST(starts_at, launched_at) AS w_from,
              GREATEST(LEAST(ends_at, $2, coalesce(cancelled_at, 'infinity')), GREATEST(starts_at, launched_at)) AS w_to,
              launched_at - make_interval(days => baseline_days) AS b_from, launched_at AS b_to
         FROM campaigns WHERE tenant_id = $1 AND id = ANY($4::uuid[])
     ), per AS (
       SELECT m.campaign_id, m.grp, m.member_id,
              count(t.id) FILTER (WHERE t.in_window) AS w_orders,
              coalesce(sum(t.net) FILTER (WHERE t.in_window), 0) AS w_revenue,
              count(t.id) FILTER (WHERE NOT t.in_window) AS b_orders,
              coalesce(sum(t.net) FILTER (WHERE NOT t.in_window), 0) AS b_revenue
         FROM campaign_members m
         JOIN c ON c.id = m.campaign_id
         LEFT JOIN LATERAL (
           SELECT p.id, p.occurred_at >= c.w_from AS in_window,
                  CASE WHEN p.currency = $3 THEN p.total - coalesce((
                    SELECT sum(r.total) FROM transactions r
                     WHERE r.tenant_id = $1 AND r.original_id = p.id AND r.type = 'return' AND r.occurred_at < $2
                       AND (r.status = 'recorded' OR r.voided_at >= $2)), 0) ELSE 0 END AS net
             FROM transactions p
            WHERE p.tenant_id = $1 AND p.member_id = m.member_id AND p.type = 'purchase'
              AND (p.status = 'recorded' OR p.voided_at >= $2)
              AND ((p.occurred_at >= c.w_from AND p.occurred_at < c.w_to) OR (p.occurred_at >= c.b_from AND p.occurred_at < c.b_to))
         ) t ON true
        WHERE m.tenant_id = $1 AND m.campaign_id = ANY($4::uuid[]) AND m.assigned_at < $2
        GROUP BY 1, 2, 3
     )
     SELECT campaign_id, grp, count(*)::int AS members,
            count(*) FILTER (WHERE w_orders > 0)::int AS w_purchasing,
            avg(w_orders)::float8 AS w_orders_mean, coalesce(var_samp(w_orders), 0)::float8 AS w_orders_var,
            avg(w_revenue)::float8 AS w_revenue_mean, coalesce(var_samp(w_revenue), 0)::float8 AS w_revenue_var,
            count(*) FILTER (WHERE b_orders > 0)::int AS b_purchasing,
            avg(b_orders)::float8 AS b_orders_mean, coalesce(var_samp(b_orders), 0)::float8 AS b_orders_var,
            avg(b_revenue)::float8 AS b_revenue_mean, coalesce(var_samp(b_revenue), 0)::float8 AS b_revenue_var
       FROM per GROUP BY 1, 2`,
    [tenantId, at, currency, campaignIds],
  );
  return res.rows.map((r) => ({
    campaign_id: r.campaign_id,
    grp: r.grp,
    window: { members: r.members, purchasing_members: r.w_purchasing, purchases: { n: r.members, mean: r.w_orders_mean, variance: r.w_orders_var }, revenue: { n: r.members, mean: r.w_revenue_mean, variance: r.w_revenue_var } },
    baseline: { members: r.members, purchasing_members: r.b_purchasing, purchases: { n: r.members, mean: r.b_orders_mean, variance: r.b_orders_var }, revenue: { n: r.members, mean: r.b_revenue_mean, variance: r.b_revenue_var } },
  }));
}

// ── Program ──────────────────────────────────────────────────────────────────

/** The program's cost of points (programs.point_cost; a tenant without a programs row has the defaults). */
export async function pointCost(q: Queryable, tenantId: string): Promise<{ points: number; amount: number }> {
  const res = await q.query<{ points: number; amount: number }>(
    'SELECT point_cost_points AS points, point_cost_amount AS amount FROM programs WHERE tenant_id = $1',
    [tenantId],
  );
  return res.rows[0] ?? { ...DEFAULT_SETTINGS.point_cost };
}
