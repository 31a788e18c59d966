/**
 * SQL of experience joined with behaviour (docs/analytics/at-risk.md → Experience): survey answers (NPS, CSAT, CES)
 * of the run's lookback joined to the run's member rows, and the run's members per group. Both statements group by
 * (segment, tier, CLV decile) at once, so the number of rows is bounded (11 segments × tiers × 11 deciles × answer
 * values) whatever the number of members; experience.ts folds them into the three breakdowns.
 *
 * Reads survey_answers and survey_responses (surveys), member_tiers and tiers (tiers), analytics_member_scores; writes
 * nothing.
 */
import type { Queryable } from '../../../platform/db/db.js';
import type { RunScope } from '../analytics.types.js';

/**
 * The run's members with the tier they hold now: their member_tiers row, or without one the tenant's base tier (the
 * highest open tier with an entry threshold of 0, as TiersService.current answers), or none.
 * Bindings: $1 tenant, $2 run.
 */
const SCORED = `
  base_tier AS (
    SELECT code, rank FROM tiers WHERE tenant_id = $1 AND NOT invitation_only AND entry_threshold <= 0 ORDER BY rank DESC LIMIT 1
  ),
  scored AS (
    SELECT s.member_id, s.segment, s.clv_decile, s.clv, s.p_alive, s.at_risk,
           CASE WHEN mt.member_id IS NULL THEN (SELECT code FROM base_tier) ELSE t.code END AS tier,
           CASE WHEN mt.member_id IS NULL THEN (SELECT rank FROM base_tier) ELSE t.rank END AS tier_rank
      FROM analytics_member_scores s
      LEFT JOIN member_tiers mt ON mt.tenant_id = s.tenant_id AND mt.member_id = s.member_id
      LEFT JOIN tiers t ON t.tenant_id = mt.tenant_id AND t.id = mt.tier_id
     WHERE s.tenant_id = $1 AND s.run_id = $2
  )`;

/**
 * The scored answers of the lookback: the lookback_days local days ending with as_of.
 * Bindings: $1 tenant, $3 as_of, $4 lookback_days, $5 time zone, $6 end.
 */
const ANSWERS = `
  SELECT a.response_id, r.member_id, a.question_type, a.scale_min, a.scale_max, a.value_number, a.band
    FROM survey_answers a
    JOIN survey_responses r ON r.tenant_id = a.tenant_id AND r.id = a.response_id
   WHERE a.tenant_id = $1 AND a.question_type IN ('nps', 'csat', 'ces') AND a.value_number IS NOT NULL
     AND a.submitted_at >= ((($3::date - ($4::int - 1))::timestamp) AT TIME ZONE $5) AND a.submitted_at < $6`;

export interface AnswerGroupRow {
  /** False: answers of respondents the run has no row for (anonymous, or no purchase up to as_of). */
  scored: boolean;
  segment: string | null;
  tier: string | null;
  clv_decile: number | null;
  question_type: 'nps' | 'csat' | 'ces';
  scale_min: number | null;
  scale_max: number | null;
  value_number: number;
  band: string | null;
  n: number;
}

export interface MemberGroupRow {
  segment: string | null;
  tier: string | null;
  tier_rank: number | null;
  clv_decile: number | null;
  members: number;
  respondents: number;
  at_risk: number;
  clv_sum: number;
  clv_n: number;
  p_alive_sum: number;
  p_alive_n: number;
}

const params = (scope: RunScope) => [scope.tenantId, scope.runId, scope.asOf, scope.settings.at_risk.lookback_days, scope.timeZone, scope.end];

/** The lookback's NPS, CSAT and CES answers by group, value and band (unscored respondents in one group apart). */
export async function answerGroups(q: Queryable, scope: RunScope): Promise<AnswerGroupRow[]> {
  const res = await q.query<AnswerGroupRow>(
    `WITH ${SCORED}, answers AS (${ANSWERS})
     SELECT sc.member_id IS NOT NULL AS scored, sc.segment, sc.tier, sc.clv_decile,
            a.question_type, a.scale_min, a.scale_max, a.value_number, a.band, count(*)::int AS n
       FROM answers a LEFT JOIN scored sc ON sc.member_id = a.member_id
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
    params(scope),
  );
  return res.rows;
}

/** The run's members by group: how many, how many answered in the lookback, how many are at risk, CLV and P(alive). */
export async function memberGroups(q: Queryable, scope: RunScope): Promise<MemberGroupRow[]> {
  const res = await q.query<MemberGroupRow>(
    `WITH ${SCORED}, respondents AS (SELECT DISTINCT member_id FROM (${ANSWERS}) a WHERE member_id IS NOT NULL)
     SELECT sc.segment, sc.tier, sc.tier_rank, sc.clv_decile, count(*)::int AS members,
            count(rs.member_id)::int AS respondents, count(*) FILTER (WHERE sc.at_risk)::int AS at_risk,
            coalesce(sum(sc.clv), 0)::bigint AS clv_sum, count(sc.clv)::int AS clv_n,
            coalesce(sum(sc.p_alive), 0)::float8 AS p_alive_sum, count(sc.p_alive)::int AS p_alive_n
       FROM scored sc LEFT JOIN respondents rs ON rs.member_id = sc.member_id
      GROUP BY 1, 2, 3, 4`,
    params(scope),
  );
  return res.rows;
}
