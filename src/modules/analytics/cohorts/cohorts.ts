/**
 * Monthly first-purchase cohorts (docs/analytics/cohorts.md; domain.md §2 "Cohorts"): members grouped by the month of
 * their first purchase, and for each later month the number of them still purchasing, their share of the cohort and
 * their revenue — the retention matrix. A stage of the analytics run (cohortsStage), stored as the run's 'cohorts'
 * result and served by the pipeline at /v1/analytics/cohorts (cohortsView).
 */
import type { Queryable } from '../../../platform/db/db.js';
import type { ResultView, RunScope, StageRegistration } from '../analytics.types.js';
import { CohortsSchema } from './cohorts.schema.js';
import { cohortCells, type CohortCellRow } from './cohorts.store.js';

export interface CohortCell {
  /** Months since the cohort's month (0: the month of the first purchase). */
  offset: number;
  /** YYYY-MM. */
  month: string;
  /** Members of the cohort with at least one purchase in the month. */
  customers: number;
  /** customers / the cohort's customers × 100, one decimal. */
  percent: number;
  /** Their revenue in the month: minor units of the program currency, net of returns. */
  revenue: number;
  /** The month of as_of, not yet over. */
  partial: boolean;
}

export interface Cohort {
  /** YYYY-MM of the first purchase. */
  month: string;
  /** Members whose first purchase was in the month. */
  customers: number;
  /** Their revenue from the first purchase up to as_of (the sum of the cells). */
  revenue: number;
  /** Offsets 0 to the as_of month, every month present (zero when nobody bought). */
  cells: CohortCell[];
}

export interface CohortsResult {
  /** The run's last day (tenant's time zone); orders dated up to and including it. */
  as_of: string;
  time_zone: string;
  /** The currency of every revenue figure (minor units). */
  currency: string;
  /** YYYY-MM of as_of: where the matrix stops. */
  last_month: string;
  /** True when as_of is not the last day of its month: that month's cells are partial. */
  last_month_partial: boolean;
  /** Members with a purchase up to as_of, and their revenue. */
  customers: number;
  revenue: number;
  /** Oldest cohort first. */
  cohorts: Cohort[];
}

/** The retention matrix as of scope.asOf: one SQL aggregation, then every cohort's row filled out to the as_of month. */
export async function computeCohorts(q: Queryable, scope: RunScope): Promise<CohortsResult> {
  const rows = await cohortCells(q, { tenantId: scope.tenantId, timeZone: scope.timeZone, end: scope.end, currency: scope.currency });
  return cohortMatrix(rows, scope);
}

/** The matrix of the grouped rows (pure). */
export function cohortMatrix(rows: CohortCellRow[], scope: Pick<RunScope, 'asOf' | 'timeZone' | 'currency'>): CohortsResult {
  const lastMonth = scope.asOf.slice(0, 7);
  const lastMonthPartial = scope.asOf !== lastDayOf(lastMonth);
  const byCohort = new Map<string, Map<string, CohortCellRow>>();
  for (const r of rows) {
    let months = byCohort.get(r.cohort);
    if (!months) byCohort.set(r.cohort, (months = new Map()));
    months.set(r.month, r);
  }
  const cohorts: Cohort[] = [...byCohort.keys()].sort().map((month) => {
    const cells = byCohort.get(month)!;
    // Everyone in a cohort bought in its first month.
    const size = cells.get(month)?.customers ?? 0;
    const out: CohortCell[] = [];
    for (let offset = 0; offset <= monthsBetween(month, lastMonth); offset++) {
      const m = addMonths(month, offset);
      const cell = cells.get(m);
      const customers = cell?.customers ?? 0;
      out.push({
        offset, month: m, customers, percent: size > 0 ? Math.round((customers / size) * 1000) / 10 : 0,
        revenue: cell?.revenue ?? 0, partial: lastMonthPartial && m === lastMonth,
      });
    }
    return { month, customers: size, revenue: out.reduce((s, c) => s + c.revenue, 0), cells: out };
  });
  return {
    as_of: scope.asOf, time_zone: scope.timeZone, currency: scope.currency,
    last_month: lastMonth, last_month_partial: lastMonthPartial,
    customers: cohorts.reduce((s, c) => s + c.customers, 0),
    revenue: cohorts.reduce((s, c) => s + c.revenue, 0),
    cohorts,
  };
}

/** The run pipeline's 'cohorts' stage; its result is stored as the run's 'cohorts' document. */
export const cohortsStage: StageRegistration = {
  stage: 'cohorts',
  kind: 'cohorts',
  run: (q, scope) => computeCohorts(q, scope),
};

/** Served by the pipeline: GET /v1/analytics/cohorts?run_id= (default the newest succeeded run). */
export const cohortsView: ResultView = {
  kind: 'cohorts',
  path: '/v1/analytics/cohorts',
  summary: 'The cohort retention matrix: members by month of first purchase, still purchasing and revenue per later month',
  schema: CohortsSchema,
};

// ── Months as YYYY-MM ───────────────────────────────────────────────────────

const parts = (ym: string): [number, number] => [Number(ym.slice(0, 4)), Number(ym.slice(5, 7))];

export function monthsBetween(from: string, to: string): number {
  const [y1, m1] = parts(from);
  const [y2, m2] = parts(to);
  return (y2 - y1) * 12 + (m2 - m1);
}

export function addMonths(ym: string, n: number): string {
  const [y, m] = parts(ym);
  const i = y * 12 + (m - 1) + n;
  return `${String(Math.floor(i / 12)).padStart(4, '0')}-${String((i % 12) + 1).padStart(2, '0')}`;
}

/** YYYY-MM-DD of the month's last day. */
function lastDayOf(ym: string): string {
  const [y, m] = parts(ym);
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}
