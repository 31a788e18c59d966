/**
 * The publish stage: member_analytics holds each member's row of the tenant's published run, the run with the newest
 * as_of. A run whose as_of is older than the published run's (a backtest) is not published; a run as of the same day
 * or later replaces every row: members of the run are upserted, members absent from it are deleted, and `published`
 * moves to it (so exactly one run is published and the purge keeps it).
 */
import type { Queryable } from '../../platform/db/db.js';
import type { RunScope } from './analytics.types.js';

export interface PublishResult {
  published: boolean;
  /** Rows written to member_analytics (0 when not published). */
  rows: number;
  /** Members whose row was removed because they are not in this run. */
  removed: number;
  /** The as_of of the run published before, when this run was older and so not published. */
  newer_as_of: string | null;
}

export async function publish(q: Queryable, scope: RunScope, computedAt: Date): Promise<PublishResult> {
  // Runs of a tenant execute one at a time (the run's advisory lock), so the published run cannot change meanwhile.
  const current = await q.query<{ as_of: string }>(
    `SELECT as_of::text FROM analytics_runs WHERE tenant_id = $1 AND published AND id <> $2 ORDER BY as_of DESC LIMIT 1`,
    [scope.tenantId, scope.runId],
  );
  const newer = current.rows[0]?.as_of ?? null;
  if (newer !== null && newer > scope.asOf) return { published: false, rows: 0, removed: 0, newer_as_of: newer };
  const upserted = await q.query(
    `INSERT INTO member_analytics (tenant_id, member_id, run_id, as_of, computed_at, r_score, f_score, m_score, segment, p_alive,
                                   expected_365, clv, clv_decile, at_risk, risk_reasons, value_at_risk)
     SELECT s.tenant_id, s.member_id, s.run_id, $3, $4, s.r_score, s.f_score, s.m_score, s.segment, s.p_alive,
            s.expected_365, s.clv, s.clv_decile, s.at_risk, s.risk_reasons, s.value_at_risk
       FROM analytics_member_scores s
      WHERE s.tenant_id = $1 AND s.run_id = $2
     ON CONFLICT (tenant_id, member_id) DO UPDATE
        SET run_id = EXCLUDED.run_id, as_of = EXCLUDED.as_of, computed_at = EXCLUDED.computed_at, r_score = EXCLUDED.r_score,
            f_score = EXCLUDED.f_score, m_score = EXCLUDED.m_score, segment = EXCLUDED.segment, p_alive = EXCLUDED.p_alive,
            expected_365 = EXCLUDED.expected_365, clv = EXCLUDED.clv, clv_decile = EXCLUDED.clv_decile, at_risk = EXCLUDED.at_risk,
            risk_reasons = EXCLUDED.risk_reasons, value_at_risk = EXCLUDED.value_at_risk`,
    [scope.tenantId, scope.runId, scope.asOf, computedAt],
  );
  const removed = await q.query(`DELETE FROM member_analytics WHERE tenant_id = $1 AND run_id <> $2`, [scope.tenantId, scope.runId]);
  await q.query(`UPDATE analytics_runs SET published = (id = $2) WHERE tenant_id = $1 AND (published OR id = $2)`, [scope.tenantId, scope.runId]);
  return { published: true, rows: upserted.rowCount ?? 0, removed: removed.rowCount ?? 0, newer_as_of: null };
}
