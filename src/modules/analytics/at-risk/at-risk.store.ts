/**
 * SQL of the at-risk list (docs/analytics/at-risk.md): the stage's one UPDATE of a run's member rows, its summary,
 * the ranked list and its CSV stream, the run a list is read from, and the members' current targets
 * (member_analytics) that campaign audiences read.
 *
 * The stage READS other modules' tables (transactions, survey_responses and survey_answers, cases) and writes only
 * analytics_member_scores; the reads are set-based over the run's candidates, never a query per member.
 */
import type { Readable } from 'node:stream';
import type { Db, Queryable } from '../../../platform/db/db.js';
import { countedPurchasesCtes } from '../analytics.purchases.js';
import type { RiskReason, RunScope } from '../analytics.types.js';

/** The rule's parameters as the stage binds them (AnalyticsSettings.at_risk plus the fixed minimum expectation). */
export interface RuleParams {
  min_clv_decile: number;
  p_alive_below: number;
  rate_ratio_below: number;
  recent_days: number;
  lookback_days: number;
  min_expected_days: number;
}

/**
 * The purchases as the run's summary counts them (analytics.purchases.ts): recorded, not wholly returned by the
 * returns dated before the run's end ($10), on their local day ($9). Reading the returns as of the end, not the
 * purchase's current returned_total, keeps a return made after as_of out of a backtest. $12: the run's currency.
 */
const PURCHASES = countedPurchasesCtes('purchases', { tenant: '$1', end: '$10', timeZone: '$9', currency: '$12', customers: 'members' });

/**
 * Sets risk_reasons, at_risk, value_at_risk and recent_rate_ratio of every member row of the run in ONE statement
 * (only the rows whose values change are written, so a repeated stage writes nothing). Returns the rows written.
 *
 * Bindings: $1 tenant, $2 run, $3 min_clv_decile, $4 p_alive_below, $5 rate_ratio_below, $6 recent_days,
 * $7 lookback_days, $8 as_of (date), $9 time zone, $10 end (the first instant after as_of), $11 min_expected_days,
 * $12 the run's currency.
 */
export async function scoreAtRisk(q: Queryable, scope: RunScope, p: RuleParams): Promise<number> {
  const res = await q.query(
    `WITH ${PURCHASES},
     bounds AS (
       -- The lookback: the lookback_days local days ending with as_of; the recent window: the recent_days local days
       -- ending with as_of, so the history before it ends on window_start.
       SELECT ((($8::date - ($7::int - 1))::timestamp) AT TIME ZONE $9) AS since, ($8::date - $6::int) AS window_start
     ),
     cand AS (
       SELECT s.member_id, s.clv, s.p_alive
         FROM analytics_member_scores s
        WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.clv_decile >= $3
     ),
     -- The candidates' purchase days. Joined to the member rows themselves, not to cand: with the table's statistics
     -- the planner builds its hash on the candidates, not on the orders (a third faster on 200,000 members).
     days AS (
       SELECT DISTINCT t.member_id, t.day
         FROM purchases t
         JOIN analytics_member_scores c ON c.tenant_id = $1 AND c.run_id = $2 AND c.member_id = t.member_id AND c.clv_decile >= $3
     ),
     history AS (
       SELECT d.member_id,
              count(*) FILTER (WHERE d.day > b.window_start) AS recent,
              count(*) FILTER (WHERE d.day <= b.window_start) AS before,
              min(d.day) AS first_day,
              max(d.day) FILTER (WHERE d.day <= b.window_start) AS last_before
         FROM days d CROSS JOIN bounds b
        GROUP BY d.member_id
     ),
     judged AS (
       SELECT c.member_id, c.clv, c.p_alive, coalesce(h.recent, 0) AS recent,
              -- The member's own repeat rate before the window, (x − 1) / t_x with x repeat purchase days between the
              -- first and the last purchase day before it (unbiased for a Poisson rate; needs x >= 2), over recent_days.
              CASE WHEN h.before >= 3 THEN (h.before - 2)::float8 / (h.last_before - h.first_day) * $6 END AS expected,
              coalesce(c.p_alive < $4, false) AS low_p_alive,
              EXISTS (
                SELECT 1 FROM survey_responses r
                  JOIN survey_answers a ON a.tenant_id = r.tenant_id AND a.response_id = r.id
                 WHERE r.tenant_id = $1 AND r.member_id = c.member_id
                   AND a.question_type = 'nps' AND a.band = 'detractor' AND a.submitted_at >= b.since AND a.submitted_at < $10
              ) AS detractor,
              EXISTS (
                SELECT 1 FROM cases k
                 WHERE k.tenant_id = $1 AND k.member_id = c.member_id AND k.created_at >= b.since AND k.created_at < $10
                   -- Breached by the end of as_of (a later breach of a case opened in the window is not known yet then).
                   AND ((k.first_response_breached AND k.first_response_due_at < $10) OR (k.resolution_breached AND k.resolution_due_at < $10))
              ) AS breached_case
         FROM cand c CROSS JOIN bounds b LEFT JOIN history h ON h.member_id = c.member_id
     ),
     reasons AS (
       SELECT j.member_id,
              CASE WHEN j.expected >= $11 THEN j.recent / j.expected END AS ratio,
              array_remove(ARRAY[
                CASE WHEN j.low_p_alive THEN 'low_p_alive' END,
                CASE WHEN j.detractor THEN 'detractor' END,
                CASE WHEN j.breached_case THEN 'breached_case' END,
                CASE WHEN j.expected >= $11 AND j.recent < $5 * j.expected THEN 'falling_rate' END
              ]::text[], NULL) AS reasons,
              -- The member's CLV if still active: the model's CLV is P(alive) × that (docs/analytics/at-risk.md).
              CASE WHEN j.p_alive > 0 THEN round(coalesce(j.clv, 0) / j.p_alive)::bigint ELSE coalesce(j.clv, 0) END AS stake
         FROM judged j
     ),
     target AS (
       SELECT s.member_id, r.ratio,
              coalesce(r.reasons, '{}'::text[]) AS reasons,
              coalesce(cardinality(r.reasons) > 0, false) AS at_risk,
              CASE WHEN cardinality(r.reasons) > 0 THEN r.stake ELSE 0 END AS value_at_risk
         FROM analytics_member_scores s LEFT JOIN reasons r ON r.member_id = s.member_id
        WHERE s.tenant_id = $1 AND s.run_id = $2
     )
     UPDATE analytics_member_scores s
        SET recent_rate_ratio = x.ratio, risk_reasons = x.reasons, at_risk = x.at_risk, value_at_risk = x.value_at_risk
       FROM target x
      WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.member_id = x.member_id
        AND (s.recent_rate_ratio, s.risk_reasons, s.at_risk, s.value_at_risk) IS DISTINCT FROM (x.ratio, x.reasons, x.at_risk, x.value_at_risk)`,
    [scope.tenantId, scope.runId, p.min_clv_decile, p.p_alive_below, p.rate_ratio_below, p.recent_days, p.lookback_days,
      scope.asOf, scope.timeZone, scope.end, p.min_expected_days, scope.currency],
  );
  return res.rowCount ?? 0;
}

export interface AtRiskCounts {
  candidates: number;
  rate_judged: number;
  at_risk: number;
  value_at_risk: number;
  reasons: Array<{ reason: RiskReason; members: number; value_at_risk: number }>;
  segments: Array<{ segment: string | null; members: number; value_at_risk: number }>;
}

/** What the stage found in the run: candidates, members on the list and their value, per reason and per segment. */
export async function atRiskCounts(q: Queryable, tenantId: string, runId: string, minClvDecile: number): Promise<AtRiskCounts> {
  const totals = await q.query<{ candidates: number; rate_judged: number; at_risk: number; value_at_risk: number }>(
    `SELECT count(*) FILTER (WHERE clv_decile >= $3)::int AS candidates,
            count(*) FILTER (WHERE recent_rate_ratio IS NOT NULL)::int AS rate_judged,
            count(*) FILTER (WHERE at_risk)::int AS at_risk,
            coalesce(sum(value_at_risk) FILTER (WHERE at_risk), 0)::bigint AS value_at_risk
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`,
    [tenantId, runId, minClvDecile],
  );
  const reasons = await q.query<{ reason: RiskReason; members: number; value_at_risk: number }>(
    `SELECT r.reason, count(*)::int AS members, coalesce(sum(s.value_at_risk), 0)::bigint AS value_at_risk
       FROM analytics_member_scores s CROSS JOIN LATERAL unnest(s.risk_reasons) AS r(reason)
      WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.at_risk
      GROUP BY r.reason`,
    [tenantId, runId],
  );
  const segments = await q.query<{ segment: string | null; members: number; value_at_risk: number }>(
    `SELECT segment, count(*)::int AS members, coalesce(sum(value_at_risk), 0)::bigint AS value_at_risk
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 AND at_risk
      GROUP BY segment ORDER BY 3 DESC, 1`,
    [tenantId, runId],
  );
  return { ...totals.rows[0]!, reasons: reasons.rows, segments: segments.rows };
}

// ── Reading the list ────────────────────────────────────────────────────────

export interface RunRow {
  id: string;
  status: string;
  as_of: string;
  currency: string;
}

export async function getRun(q: Queryable, tenantId: string, runId: string): Promise<RunRow | null> {
  const res = await q.query<RunRow>(`SELECT id, status, as_of, currency FROM analytics_runs WHERE tenant_id = $1 AND id = $2`, [tenantId, runId]);
  return res.rows[0] ?? null;
}

/** The run member_analytics holds: the newest published one (newest as_of; of two for one day, the later finished). */
export async function newestPublishedRun(q: Queryable, tenantId: string): Promise<RunRow | null> {
  const res = await q.query<RunRow>(
    `SELECT id, status, as_of, currency FROM analytics_runs
      WHERE tenant_id = $1 AND status = 'succeeded' AND published
      ORDER BY as_of DESC, finished_at DESC NULLS LAST, id DESC LIMIT 1`,
    [tenantId],
  );
  return res.rows[0] ?? null;
}

export interface AtRiskRow {
  member_id: string;
  external_id: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  /** Why the member is on the list (analytics_member_scores.risk_reasons, the name member_analytics uses too). */
  risk_reasons: RiskReason[];
  value_at_risk: number;
  clv: number | null;
  clv_decile: number | null;
  p_alive: number | null;
  segment: string | null;
  last_purchase_on: string;
  recency_days: number;
  recent_rate_ratio: number | null;
}

const LIST_COLUMNS = `s.member_id, m.external_id, m.email, m.first_name, m.last_name, s.risk_reasons, s.value_at_risk,
  s.clv, s.clv_decile, s.p_alive, s.segment, s.last_purchase_on, s.recency_days, s.recent_rate_ratio`;

// Erased members are left out: nothing of them may be shown or targeted.
const LIST_WHERE = `s.tenant_id = $1 AND s.run_id = $2 AND s.at_risk AND ($3::text IS NULL OR $3 = ANY(s.risk_reasons)) AND m.status <> 'erased'`;
const LIST_FROM = `FROM analytics_member_scores s JOIN members m ON m.tenant_id = s.tenant_id AND m.id = s.member_id`;

/** A page of the run's at-risk members, the most money at risk first (ties by member id), after the cursor's row. */
export async function listAtRisk(q: Queryable, tenantId: string, runId: string, f: { reason?: RiskReason | undefined; after?: { v: number; id: string } | undefined; limit: number }): Promise<AtRiskRow[]> {
  const res = await q.query<AtRiskRow>(
    `SELECT ${LIST_COLUMNS} ${LIST_FROM}
      WHERE ${LIST_WHERE}
        AND ($4::bigint IS NULL OR s.value_at_risk < $4 OR (s.value_at_risk = $4 AND s.member_id > $5::uuid))
      ORDER BY s.value_at_risk DESC, s.member_id
      LIMIT $6`,
    [tenantId, runId, f.reason ?? null, f.after?.v ?? null, f.after?.id ?? null, f.limit],
  );
  return res.rows;
}

/** The same list, every row, streamed from a server-side cursor on a connection of its own (the CSV export). */
export function streamAtRisk(db: Db, tenantId: string, runId: string, reason: RiskReason | undefined): Promise<Readable> {
  return db.stream(
    `SELECT ${LIST_COLUMNS} ${LIST_FROM} WHERE ${LIST_WHERE} ORDER BY s.value_at_risk DESC, s.member_id`,
    [tenantId, runId, reason ?? null],
  );
}

// ── Targets (campaign audiences) ────────────────────────────────────────────

export interface TargetRow {
  member_id: string;
  segment: string | null;
  at_risk: boolean;
}

/** One member's current segment and risk: a primary-key read of member_analytics. */
export async function targetOf(q: Queryable, tenantId: string, memberId: string): Promise<TargetRow | null> {
  const res = await q.query<TargetRow>(
    `SELECT member_id, segment, at_risk FROM member_analytics WHERE tenant_id = $1 AND member_id = $2`,
    [tenantId, memberId],
  );
  return res.rows[0] ?? null;
}

/** The members on the newest published at-risk list, a page after `afterId` in member id order (win-back messages). */
export async function atRiskMembers(q: Queryable, tenantId: string, afterId: string | null, limit: number): Promise<string[]> {
  const res = await q.query<{ member_id: string }>(
    `SELECT member_id FROM member_analytics WHERE tenant_id = $1 AND at_risk AND ($2::uuid IS NULL OR member_id > $2) ORDER BY member_id LIMIT $3`,
    [tenantId, afterId, limit],
  );
  return res.rows.map((r) => r.member_id);
}

/** The same for a batch of members in one statement (the campaigns' launch job, 1,000 members at a time). */
export async function targetsOf(q: Queryable, tenantId: string, memberIds: string[]): Promise<TargetRow[]> {
  if (memberIds.length === 0) return [];
  const res = await q.query<TargetRow>(
    `SELECT member_id, segment, at_risk FROM member_analytics WHERE tenant_id = $1 AND member_id = ANY($2::uuid[])`,
    [tenantId, memberIds],
  );
  return res.rows;
}
