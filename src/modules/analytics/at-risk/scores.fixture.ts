/**
 * TEST-ONLY fixtures: an analytics run and its per-member rows written straight into the analytics tables, so that
 * the stages after scoring (at-risk, experience) and the readers of member_analytics (campaign audiences) are tested
 * on known model outputs without fitting a model. Never imported by application code.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../../platform/db/db.js';
import { DEFAULT_ANALYTICS_SETTINGS, type AnalyticsSettings, type RunScope } from '../analytics.types.js';

export interface RunFixture {
  as_of: string;
  status?: 'queued' | 'running' | 'succeeded' | 'failed';
  published?: boolean;
  currency?: string;
  settings?: AnalyticsSettings;
}

/** An analytics_runs row; returns its id. */
export async function insertRun(q: Queryable, tenantId: string, r: RunFixture): Promise<string> {
  const id = randomUUID();
  const status = r.status ?? 'succeeded';
  await q.query(
    `INSERT INTO analytics_runs (tenant_id, id, status, trigger, as_of, settings, currency, published, created_at, started_at, finished_at)
     VALUES ($1, $2, $3, 'api', $4, $5, $6, $7, now(), now(), CASE WHEN $3 IN ('succeeded', 'failed') THEN now() END)`,
    [tenantId, id, status, r.as_of, JSON.stringify(r.settings ?? DEFAULT_ANALYTICS_SETTINGS), r.currency ?? 'EUR', r.published ?? false],
  );
  return id;
}

export interface ScoreFixture {
  member_id: string;
  segment?: string | null;
  p_alive?: number | null;
  clv?: number | null;
  clv_decile?: number | null;
  last_purchase_on?: string;
  recency_days?: number;
  at_risk?: boolean;
  risk_reasons?: string[];
  value_at_risk?: number;
}

/** analytics_member_scores rows with the given model outputs (the summary columns are plausible fillers). */
export async function insertScores(q: Queryable, tenantId: string, runId: string, rows: ScoreFixture[]): Promise<void> {
  for (const s of rows) {
    await q.query(
      `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue,
         t_x_days, t_days, recency_days, segment, p_alive, clv, clv_decile, at_risk, risk_reasons, value_at_risk)
       VALUES ($1, $2, $3, '2030-01-01', $4, 5, 5, 50000, 100, 500, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [tenantId, runId, s.member_id, s.last_purchase_on ?? '2031-05-01', s.recency_days ?? 60, s.segment ?? null, s.p_alive ?? null,
        s.clv ?? null, s.clv_decile ?? null, s.at_risk ?? false, s.risk_reasons ?? [], s.value_at_risk ?? 0],
    );
  }
}

/** member_analytics rows (what publishing a run writes): the members' current segment and risk. */
export async function insertMemberAnalytics(q: Queryable, tenantId: string, runId: string, asOf: string, rows: Array<{ member_id: string; segment: string | null; at_risk: boolean }>): Promise<void> {
  for (const r of rows) {
    await q.query(
      `INSERT INTO member_analytics (tenant_id, member_id, run_id, as_of, computed_at, segment, at_risk)
       VALUES ($1, $2, $3, $4, now(), $5, $6)
       ON CONFLICT (tenant_id, member_id) DO UPDATE SET run_id = EXCLUDED.run_id, as_of = EXCLUDED.as_of, segment = EXCLUDED.segment, at_risk = EXCLUDED.at_risk`,
      [tenantId, r.member_id, runId, asOf, r.segment, r.at_risk],
    );
  }
}

/** The scope the pipeline would give a stage of this run (end: the first instant after as_of in the time zone). */
export async function scopeOf(q: Queryable, tenantId: string, runId: string, asOf: string, timeZone: string, settings: AnalyticsSettings = DEFAULT_ANALYTICS_SETTINGS): Promise<RunScope> {
  const res = await q.query<{ end: Date }>(`SELECT (($1::date + 1)::timestamp AT TIME ZONE $2) AS end`, [asOf, timeZone]);
  return { tenantId, runId, asOf, end: res.rows[0]!.end, timeZone, currency: 'EUR', minorPerMajor: 100, settings };
}
