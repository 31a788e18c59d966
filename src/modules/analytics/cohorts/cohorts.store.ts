/**
 * SQL of the cohort matrix (docs/analytics/cohorts.md): one set-based aggregation over the tenant's orders, read-only
 * (the analytics module's reporting exception: it reads `transactions` and writes nothing here).
 */
import type { Queryable } from '../../../platform/db/db.js';

/** Members of one cohort who bought in one calendar month, and what they spent in it. */
export interface CohortCellRow {
  /** YYYY-MM of the first purchase. */
  cohort: string;
  /** YYYY-MM of the purchases. */
  month: string;
  customers: number;
  /** Minor units of the program currency, net of returns. */
  revenue: number;
}

/**
 * Per cohort (month of a member's first purchase) and month: the members who bought in it and their revenue.
 * Orders: purchases of members, recorded (not voided), not wholly returned, before `end`; months in `timeZone`.
 * Revenue only from orders in `currency`; an order in another currency still makes its member active that month.
 */
export async function cohortCells(q: Queryable, p: { tenantId: string; timeZone: string; end: Date; currency: string }): Promise<CohortCellRow[]> {
  const { rows } = await q.query<CohortCellRow>(
    `WITH m AS (
       SELECT t.member_id,
              date_trunc('month', t.occurred_at AT TIME ZONE $2)::date AS month,
              coalesce(sum(t.total - t.returned_total) FILTER (WHERE t.currency = $4), 0)::bigint AS revenue
         FROM transactions t
        WHERE t.tenant_id = $1 AND t.type = 'purchase' AND t.status = 'recorded' AND t.total - t.returned_total > 0
          AND t.member_id IS NOT NULL AND t.occurred_at < $3
        GROUP BY t.member_id, 2
     ),
     f AS (SELECT m.member_id, min(m.month) AS cohort FROM m GROUP BY m.member_id)
     SELECT to_char(f.cohort, 'YYYY-MM') AS cohort, to_char(m.month, 'YYYY-MM') AS month,
            count(*)::int AS customers, sum(m.revenue)::bigint AS revenue
       FROM m JOIN f ON f.member_id = m.member_id
      GROUP BY f.cohort, m.month
      ORDER BY f.cohort, m.month`,
    [p.tenantId, p.timeZone, p.end, p.currency]);
  return rows;
}
