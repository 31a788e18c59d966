/**
 * The summary stage: one set-based INSERT … SELECT of every member's purchase summary as of the run's day
 * (docs/analytics.md → Summary), read from the transactions module's orders and never written back to them.
 *
 * Counted orders: the members' purchases that count as of scope.end (the first instant of the day after as_of in the
 * tenant's time zone), by the one definition every analytics figure shares (analytics.purchases.ts): recorded, not
 * wholly returned by the returns dated before scope.end (a purchase of total 0 that nothing was returned from counts),
 * net of those returns, money only in the run's currency. Same-day orders are one purchase occasion.
 *
 * The same statement also writes, into a temporary table of the run's session, each repeater's exact total of repeat
 * days: analytics_member_scores keeps the repeat-day mean rounded to whole minor units, which is enough for scoring
 * but not for the Gamma-Gamma fit (on CDNOW, cents-rounded means move γ from 15.443 to 15.448).
 */
import type { Queryable } from '../../platform/db/db.js';
import { countedPurchasesCtes } from './analytics.purchases.js';
import type { RunScope } from './analytics.types.js';

/** Session-local (pg_temp) table of (member, x, exact repeat-days total) per repeater; read by the Gamma-Gamma stage. */
export const REPEAT_SPEND_TABLE = 'pg_temp.analytics_repeat_spend';

export interface SummaryStats {
  members: number;
  repeaters: number;
  orders: number;
  revenue: number;
  median_gap_days: number | null;
}

/** The members' counted purchases as of the run's end (analytics.purchases.ts); $1 tenant, $3 end, $4 zone, $5 currency. */
const SUMMARY_PURCHASES = countedPurchasesCtes('purchases', { tenant: '$1', end: '$3', timeZone: '$4', currency: '$5', customers: 'members' });

/** The first instant of the day after `asOf` in `timeZone`, as PostgreSQL's time zone rules give it. */
export async function dayEnd(q: Queryable, asOf: string, timeZone: string): Promise<Date> {
  const res = await q.query<{ end: Date }>(`SELECT (($1::date + 1)::timestamp AT TIME ZONE $2) AS "end"`, [asOf, timeZone]);
  return res.rows[0]!.end;
}

/** The summary stage. Runs on the run's session (it leaves REPEAT_SPEND_TABLE there for the Gamma-Gamma stage). */
export async function summarize(q: Queryable, scope: RunScope): Promise<SummaryStats> {
  await q.query(`DROP TABLE IF EXISTS ${REPEAT_SPEND_TABLE}`);
  await q.query(`CREATE TEMPORARY TABLE analytics_repeat_spend (member_id uuid NOT NULL, x integer NOT NULL, total bigint NOT NULL)`);
  const res = await q.query<SummaryStats>(
    `WITH ${SUMMARY_PURCHASES}, days AS MATERIALIZED (
       -- One row per member and purchase day; gap: days since the member's previous purchase day (null on the first).
       SELECT member_id, day, count(*) AS orders, sum(net) AS net,
              day - lag(day) OVER (PARTITION BY member_id ORDER BY day) AS gap
         FROM purchases
        GROUP BY member_id, day
     ), per_member AS MATERIALIZED (
       SELECT member_id, min(day) AS first_day, max(day) AS last_day, sum(orders) AS orders, count(*) AS purchase_days,
              sum(net) AS revenue, coalesce(sum(net) FILTER (WHERE gap IS NOT NULL), 0) AS repeat_total
         FROM days d
        -- An erased member is never profiled again: their orders stay (anonymous) in the shop's totals elsewhere.
        WHERE NOT EXISTS (SELECT 1 FROM members m WHERE m.tenant_id = $1 AND m.id = d.member_id AND m.status = 'erased')
        GROUP BY member_id
     ), scored AS (
       INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days,
                                            revenue, repeat_day_mean, t_x_days, t_days, recency_days)
       SELECT $1, $2, member_id, first_day, last_day, orders, purchase_days, revenue,
              CASE WHEN purchase_days > 1 THEN round(repeat_total / (purchase_days - 1)) ELSE 0 END,
              last_day - first_day, $6::date - first_day, $6::date - last_day
         FROM per_member
       RETURNING 1
     ), spend AS (
       INSERT INTO ${REPEAT_SPEND_TABLE} (member_id, x, total)
       SELECT member_id, purchase_days - 1, repeat_total FROM per_member WHERE purchase_days > 1
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM scored)::int AS members,
            (SELECT count(*) FROM spend)::int AS repeaters,
            (SELECT coalesce(sum(orders), 0) FROM per_member)::bigint AS orders,
            (SELECT coalesce(sum(revenue), 0) FROM per_member)::bigint AS revenue,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY gap) FROM days WHERE gap IS NOT NULL) AS median_gap_days`,
    [scope.tenantId, scope.runId, scope.end, scope.timeZone, scope.currency, scope.asOf],
  );
  // The rows are new to the planner: without statistics it joins them by nested loops (the RFM update recomputed its
  // window per row: 5 s for 2,357 members). ANALYZE samples a fixed number of rows, whatever the table's size.
  await q.query(`ANALYZE analytics_member_scores`);
  const row = res.rows[0]!;
  return { ...row, median_gap_days: row.median_gap_days === null ? null : Number(row.median_gap_days) };
}
