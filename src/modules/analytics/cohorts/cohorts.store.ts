/**
 * SQL of the cohort matrix (docs/analytics/cohorts.md): one set-based aggregation over the tenant's orders, read-only
 * (the analytics module's reporting exception: it reads `transactions` and writes nothing here).
 */
import type { Queryable } from '../../../platform/db/db.js';
import { countedPurchasesCtes } from '../analytics.purchases.js';

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

/** The members' counted purchases as of the run's end (analytics.purchases.ts); $1 tenant, $2 zone, $3 end, $4 currency. */
const PURCHASES = countedPurchasesCtes('purchases', { tenant: '$1', end: '$3', timeZone: '$2', currency: '$4', customers: 'members' });

/**
 * Per cohort (month of a member's first purchase) and month: the members who bought in it and their revenue.
 * Orders: the members' purchases the run's summary counts as of `end` (recorded, not wholly returned by the returns
 * dated before `end`, a zero-total purchase included); months of their local day in `timeZone`. Revenue net of those
 * returns, only from orders in `currency`; an order in another currency still makes its member active that month.
 */
export async function cohortCells(q: Queryable, p: { tenantId: string; timeZone: string; end: Date; currency: string }): Promise<CohortCellRow[]> {
  const { rows } = await q.query<CohortCellRow>(
    `WITH ${PURCHASES},
     m AS (
       SELECT t.member_id, date_trunc('month', t.day)::date AS month, coalesce(sum(t.net), 0)::bigint AS revenue
         FROM purchases t
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
