/**
 * SQL of the analytics tables (migrations/0017_analytics.sql): settings, runs, models, result documents, per-member
 * scores as the API reads them, member_analytics, migrations between two runs and the purge. The stages' own bulk SQL
 * sits beside the stage that runs it (analytics.summary.ts, analytics.rfm.ts, analytics.scoring.ts,
 * analytics.publish.ts). Reads of other modules' tables here are limited to `members.external_id` for listings.
 */
import type { Queryable } from '../../platform/db/db.js';
import type { AnalyticsSettingsInput } from './analytics.settings.js';
import type { AnalyticsSettings, RiskReason, RunProgress, RunStatus, RunSummary } from './analytics.types.js';

// ── Settings ──────────────────────────────────────────────────────────────────

export async function getSettings(q: Queryable, tenantId: string): Promise<{ settings: AnalyticsSettingsInput; updated_at: Date } | null> {
  const res = await q.query(`SELECT settings, updated_at FROM analytics_settings WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0] ?? null;
}

export async function putSettings(q: Queryable, tenantId: string, settings: AnalyticsSettings, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO analytics_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at`,
    [tenantId, JSON.stringify(settings), at],
  );
}

// ── Runs ──────────────────────────────────────────────────────────────────────

export type RunTrigger = 'api' | 'schedule' | 'demo';

export interface RunRow {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
  /** YYYY-MM-DD */
  as_of: string;
  settings: AnalyticsSettingsInput;
  currency: string;
  progress: Partial<RunProgress>;
  summary: RunSummary | null;
  error: string | null;
  published: boolean;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const RUN_COLUMNS = `id, status, trigger, as_of, settings, currency, progress, summary, error, published, created_at, started_at, finished_at`;

export async function insertRun(q: Queryable, tenantId: string, run: Pick<RunRow, 'id' | 'trigger' | 'as_of' | 'currency' | 'progress' | 'created_at'> & { settings: AnalyticsSettings }): Promise<RunRow> {
  const res = await q.query<RunRow>(
    `INSERT INTO analytics_runs (tenant_id, id, status, trigger, as_of, settings, currency, progress, created_at)
     VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8) RETURNING ${RUN_COLUMNS}`,
    [tenantId, run.id, run.trigger, run.as_of, JSON.stringify(run.settings), run.currency, JSON.stringify(run.progress), run.created_at],
  );
  return res.rows[0]!;
}

export async function getRun(q: Queryable, tenantId: string, id: string): Promise<RunRow | null> {
  const res = await q.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM analytics_runs WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Newest first (ids are time-ordered), `limit` rows after the cursor. */
export async function listRuns(q: Queryable, tenantId: string, opts: { beforeId?: string; status?: RunStatus; limit: number }): Promise<RunRow[]> {
  const res = await q.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM analytics_runs
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3)
      ORDER BY id DESC LIMIT $4`,
    [tenantId, opts.beforeId ?? null, opts.status ?? null, opts.limit],
  );
  return res.rows;
}

/**
 * The succeeded run with the newest as_of (the newest such run when several share it), optionally only among runs
 * as of `asOfAtMost` or earlier: what "the latest run" means everywhere in the API.
 */
export async function latestSucceeded(q: Queryable, tenantId: string, asOfAtMost?: string): Promise<RunRow | null> {
  const res = await q.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM analytics_runs
      WHERE tenant_id = $1 AND status = 'succeeded' AND ($2::date IS NULL OR as_of <= $2)
      ORDER BY as_of DESC, id DESC LIMIT 1`,
    [tenantId, asOfAtMost ?? null],
  );
  return res.rows[0] ?? null;
}

/** Whether a run as of `asOf` or later exists in any state (the nightly schedule queues at most one a day). */
export async function hasRunSince(q: Queryable, tenantId: string, asOf: string): Promise<boolean> {
  const res = await q.query(`SELECT 1 FROM analytics_runs WHERE tenant_id = $1 AND as_of >= $2 LIMIT 1`, [tenantId, asOf]);
  return res.rowCount! > 0;
}

/** Whether a run as of the day is queued or running. */
export async function hasActiveRun(q: Queryable, tenantId: string, asOf: string): Promise<boolean> {
  const res = await q.query(`SELECT 1 FROM analytics_runs WHERE tenant_id = $1 AND as_of = $2 AND status IN ('queued', 'running') LIMIT 1`, [tenantId, asOf]);
  return res.rowCount! > 0;
}

export async function startRun(q: Queryable, tenantId: string, id: string, progress: RunProgress, at: Date): Promise<void> {
  await q.query(
    `UPDATE analytics_runs SET status = 'running', progress = $3, started_at = $4, error = NULL, summary = NULL WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, JSON.stringify(progress), at],
  );
}

/** The run's progress, and its summary so far when given. */
export async function setProgress(q: Queryable, tenantId: string, id: string, progress: RunProgress, summary?: RunSummary): Promise<void> {
  await q.query(
    `UPDATE analytics_runs SET progress = $3, summary = coalesce($4, summary) WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, JSON.stringify(progress), summary === undefined ? null : JSON.stringify(summary)],
  );
}

export async function finishRun(
  q: Queryable,
  tenantId: string,
  id: string,
  end: { status: 'succeeded' | 'failed'; progress: RunProgress; summary: RunSummary | null; error: string | null; at: Date },
): Promise<void> {
  await q.query(
    `UPDATE analytics_runs SET status = $3, progress = $4, summary = $5, error = $6, finished_at = $7 WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, end.status, JSON.stringify(end.progress), end.summary === null ? null : JSON.stringify(end.summary), end.error, end.at],
  );
}

/** Everything a run wrote (not the run row itself): before a restarted run starts over, or when it is purged. */
export async function deleteRunRows(q: Queryable, tenantId: string, runId: string): Promise<void> {
  await q.query(`DELETE FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`, [tenantId, runId]);
  await q.query(`DELETE FROM analytics_models WHERE tenant_id = $1 AND run_id = $2`, [tenantId, runId]);
  await q.query(`DELETE FROM analytics_results WHERE tenant_id = $1 AND run_id = $2`, [tenantId, runId]);
}

/**
 * Finished runs created before `before`, except the published one: publishing moves `published` to the new run and
 * every member_analytics row to it, so no other run is referenced there.
 */
export async function runsToPurge(q: Queryable, tenantId: string, before: Date): Promise<string[]> {
  const res = await q.query<{ id: string }>(
    `SELECT id FROM analytics_runs
      WHERE tenant_id = $1 AND created_at < $2 AND status IN ('succeeded', 'failed') AND NOT published
      ORDER BY id`,
    [tenantId, before],
  );
  return res.rows.map((r) => r.id);
}

export async function deleteRun(q: Queryable, tenantId: string, runId: string): Promise<void> {
  await deleteRunRows(q, tenantId, runId);
  await q.query(`DELETE FROM analytics_runs WHERE tenant_id = $1 AND id = $2`, [tenantId, runId]);
}

// ── Models and result documents ───────────────────────────────────────────────

export interface ModelRow {
  kind: 'bgnbd' | 'gamma_gamma';
  time_unit: 'day' | 'week' | null;
  params: Record<string, number>;
  log_likelihood: number | null;
  converged: boolean;
  iterations: number;
  customers: number;
  /** Warning codes; the sentences are in report.warnings. */
  warnings: string[];
  report: Record<string, unknown>;
}

export async function insertModel(q: Queryable, tenantId: string, runId: string, m: ModelRow): Promise<void> {
  await q.query(
    `INSERT INTO analytics_models (tenant_id, run_id, kind, time_unit, params, log_likelihood, converged, iterations, customers, warnings, report)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [tenantId, runId, m.kind, m.time_unit, JSON.stringify(m.params), m.log_likelihood, m.converged, m.iterations, m.customers, m.warnings, JSON.stringify(m.report)],
  );
}

export async function getModels(q: Queryable, tenantId: string, runId: string): Promise<ModelRow[]> {
  const res = await q.query<ModelRow>(
    `SELECT kind, time_unit, params, log_likelihood, converged, iterations, customers, warnings, report
       FROM analytics_models WHERE tenant_id = $1 AND run_id = $2 ORDER BY kind`,
    [tenantId, runId],
  );
  return res.rows;
}

export async function putResult(q: Queryable, tenantId: string, runId: string, kind: string, data: unknown): Promise<void> {
  await q.query(
    `INSERT INTO analytics_results (tenant_id, run_id, kind, data) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, run_id, kind) DO UPDATE SET data = EXCLUDED.data`,
    [tenantId, runId, kind, JSON.stringify(data ?? null)],
  );
}

export async function getResult(q: Queryable, tenantId: string, runId: string, kind: string): Promise<unknown | undefined> {
  const res = await q.query(`SELECT data FROM analytics_results WHERE tenant_id = $1 AND run_id = $2 AND kind = $3`, [tenantId, runId, kind]);
  return res.rowCount === 0 ? undefined : res.rows[0].data;
}

// ── Per-member scores ─────────────────────────────────────────────────────────

export interface MemberScoreRow {
  member_id: string;
  external_id: string | null;
  first_purchase_on: string;
  last_purchase_on: string;
  orders: number;
  purchase_days: number;
  revenue: number;
  repeat_day_mean: number;
  t_x_days: number;
  t_days: number;
  recency_days: number;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  segment: string | null;
  p_alive: number | null;
  expected_30: number | null;
  expected_90: number | null;
  expected_365: number | null;
  expected_order_value: number | null;
  clv: number | null;
  historic_clv: number | null;
  clv_decile: number | null;
  recent_rate_ratio: number | null;
  at_risk: boolean;
  risk_reasons: RiskReason[];
  value_at_risk: number;
}

/** The columns of a member's row in a listing, in the CSV's order. */
export const MEMBER_SCORE_COLUMNS = [
  'member_id', 'external_id', 'first_purchase_on', 'last_purchase_on', 'orders', 'purchase_days', 'revenue', 'repeat_day_mean',
  't_x_days', 't_days', 'recency_days', 'r_score', 'f_score', 'm_score', 'segment', 'p_alive', 'expected_30', 'expected_90',
  'expected_365', 'expected_order_value', 'clv', 'historic_clv', 'clv_decile', 'recent_rate_ratio', 'at_risk', 'risk_reasons',
  'value_at_risk',
] as const satisfies ReadonlyArray<keyof MemberScoreRow>;

export interface ScoreFilter {
  runId: string;
  segment?: string;
  atRisk?: boolean;
}

/** SQL and values of a member listing in member id order after `afterId` (a page, or the whole CSV). */
export function scoresQuery(tenantId: string, f: ScoreFilter, opts: { afterId?: string; limit?: number }): { sql: string; values: unknown[] } {
  const cols = MEMBER_SCORE_COLUMNS.map((c) => (c === 'external_id' ? 'm.external_id' : `s.${c}`)).join(', ');
  return {
    sql: `SELECT ${cols}
            FROM analytics_member_scores s
            LEFT JOIN members m ON m.tenant_id = s.tenant_id AND m.id = s.member_id
           WHERE s.tenant_id = $1 AND s.run_id = $2
             AND ($3::text IS NULL OR s.segment = $3) AND ($4::boolean IS NULL OR s.at_risk = $4)
             AND ($5::uuid IS NULL OR s.member_id > $5)
           ORDER BY s.member_id
           ${opts.limit === undefined ? '' : 'LIMIT $6'}`,
    values: [tenantId, f.runId, f.segment ?? null, f.atRisk ?? null, opts.afterId ?? null, ...(opts.limit === undefined ? [] : [opts.limit])],
  };
}

export async function listScores(q: Queryable, tenantId: string, f: ScoreFilter, afterId: string | undefined, limit: number): Promise<MemberScoreRow[]> {
  const { sql, values } = scoresQuery(tenantId, f, { afterId, limit });
  return (await q.query<MemberScoreRow>(sql, values)).rows;
}

// ── member_analytics ──────────────────────────────────────────────────────────

export interface MemberAnalyticsRow {
  member_id: string;
  run_id: string;
  as_of: string;
  computed_at: Date;
  currency: string;
  r_score: number | null;
  f_score: number | null;
  m_score: number | null;
  segment: string | null;
  p_alive: number | null;
  expected_365: number | null;
  clv: number | null;
  clv_decile: number | null;
  at_risk: boolean;
  risk_reasons: RiskReason[];
  value_at_risk: number;
}

export async function getMemberAnalytics(q: Queryable, tenantId: string, memberId: string): Promise<MemberAnalyticsRow | null> {
  const res = await q.query<MemberAnalyticsRow>(
    `SELECT ma.member_id, ma.run_id, ma.as_of, ma.computed_at, r.currency, ma.r_score, ma.f_score, ma.m_score, ma.segment, ma.p_alive,
            ma.expected_365, ma.clv, ma.clv_decile, ma.at_risk, ma.risk_reasons, ma.value_at_risk
       FROM member_analytics ma
       JOIN analytics_runs r ON r.tenant_id = ma.tenant_id AND r.id = ma.run_id
      WHERE ma.tenant_id = $1 AND ma.member_id = $2`,
    [tenantId, memberId],
  );
  return res.rows[0] ?? null;
}

// ── RFM migrations ────────────────────────────────────────────────────────────

/** Members per (segment in run `fromId`, segment in run `toId`); null on one side: not in that run. */
export async function segmentFlows(q: Queryable, tenantId: string, fromId: string | null, toId: string): Promise<Array<{ from: string | null; to: string | null; members: number }>> {
  const res = await q.query<{ from: string | null; to: string | null; members: number }>(
    `SELECT f.segment AS "from", t.segment AS "to", count(*)::int AS members
       FROM (SELECT member_id, segment FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2) f
       FULL JOIN (SELECT member_id, segment FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $3) t USING (member_id)
      GROUP BY 1, 2`,
    [tenantId, fromId, toId],
  );
  return res.rows;
}

/**
 * GDPR erasure: the member's published row and their rows in every run of the tenant (one primary-key probe per run,
 * rather than a scan of the tenant's scores).
 */
export async function eraseMember(q: Queryable, tenantId: string, memberId: string): Promise<void> {
  await q.query(`DELETE FROM member_analytics WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  await q.query(
    `DELETE FROM analytics_member_scores
      WHERE tenant_id = $1 AND member_id = $2 AND run_id = ANY (ARRAY(SELECT id FROM analytics_runs WHERE tenant_id = $1))`,
    [tenantId, memberId],
  );
}
