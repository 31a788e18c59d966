/**
 * RFM (domain.md §2, docs/analytics.md → RFM): recency, frequency and monetary scores 1-5 by quintile within the
 * tenant, score = 1 + ⌊5 · percent_rank⌋ capped at 5 (equal values share a score; recency ranks fewer days higher),
 * and the named segment from R and FM = round((F + M) / 2). The segment table is the one source for the stage's SQL.
 */
import type { Queryable } from '../../platform/db/db.js';
import { RFM_SEGMENTS, type RfmSegment, type RunScope } from './analytics.types.js';

/** domain.md §2's table: SEGMENT_TABLE[R - 1][FM - 1]. */
const SEGMENT_TABLE: ReadonlyArray<readonly [RfmSegment, RfmSegment, RfmSegment, RfmSegment, RfmSegment]> = [
  /* R = 1 */ ['lost', 'lost', 'at_risk', 'at_risk', 'cant_lose_them'],
  /* R = 2 */ ['hibernating', 'hibernating', 'at_risk', 'at_risk', 'cant_lose_them'],
  /* R = 3 */ ['about_to_sleep', 'about_to_sleep', 'need_attention', 'loyal', 'loyal'],
  /* R = 4 */ ['promising', 'potential_loyalists', 'potential_loyalists', 'loyal', 'champions'],
  /* R = 5 */ ['new_customers', 'potential_loyalists', 'potential_loyalists', 'champions', 'champions'],
];

const isScore = (v: number) => Number.isInteger(v) && v >= 1 && v <= 5;

/** FM = round((F + M) / 2), halves up (F = 1, M = 2 gives 2). */
export function fmScore(f: number, m: number): number {
  if (!isScore(f) || !isScore(m)) throw new RangeError(`F and M must be scores 1-5, got ${f} and ${m}`);
  return Math.round((f + m) / 2);
}

/** The segment of an R score and an FM score (each 1-5). */
export function segmentOf(r: number, fm: number): RfmSegment {
  if (!isScore(r) || !isScore(fm)) throw new RangeError(`R and FM must be scores 1-5, got ${r} and ${fm}`);
  return SEGMENT_TABLE[r - 1]![fm - 1]!;
}

/** A quintile score from a percent rank in [0, 1] (PostgreSQL's percent_rank: (rank − 1) / (rows − 1)). */
export function quintileScore(percentRank: number): number {
  return Math.min(5, 1 + Math.floor(5 * percentRank));
}

/** Every (R, F, M) with its segment, as the arrays the stage's SQL joins on (125 rows). */
function segmentGrid(): { r: number[]; f: number[]; m: number[]; segment: string[] } {
  const out = { r: [] as number[], f: [] as number[], m: [] as number[], segment: [] as string[] };
  for (let r = 1; r <= 5; r++) {
    for (let f = 1; f <= 5; f++) {
      for (let m = 1; m <= 5; m++) {
        out.r.push(r);
        out.f.push(f);
        out.m.push(m);
        out.segment.push(segmentOf(r, fmScore(f, m)));
      }
    }
  }
  return out;
}

/** The stored 'rfm' result document (GET /v1/analytics/rfm). */
export interface RfmResult {
  currency: string;
  members: number;
  segments: Array<{ segment: RfmSegment; name: string; members: number; share_pct: number; revenue: number }>;
  /** Per score 1-5: members and the range of the measure it covers (days for R, orders for F, minor units for M). */
  scores: Record<'r' | 'f' | 'm', Array<{ score: number; members: number; min: number | null; max: number | null }>>;
}

/** The rfm stage: scores and segment on every member row of the run, then the segment sizes and score distributions. */
export async function scoreRfm(q: Queryable, scope: RunScope): Promise<{ result: RfmResult; rows: number }> {
  const grid = segmentGrid();
  const updated = await q.query(
    `UPDATE analytics_member_scores s
        SET r_score = x.r, f_score = x.f, m_score = x.m, segment = g.segment
       FROM (SELECT member_id,
                    least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY recency_days DESC)))::smallint AS r,
                    least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY orders)))::smallint AS f,
                    least(5, 1 + floor(5 * percent_rank() OVER (ORDER BY revenue)))::smallint AS m
               FROM analytics_member_scores
              WHERE tenant_id = $1 AND run_id = $2) x
       JOIN unnest($3::int[], $4::int[], $5::int[], $6::text[]) AS g(r, f, m, segment) ON g.r = x.r AND g.f = x.f AND g.m = x.m
      WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.member_id = x.member_id`,
    [scope.tenantId, scope.runId, grid.r, grid.f, grid.m, grid.segment],
  );
  const sizes = await q.query<{ segment: RfmSegment; members: number; revenue: number }>(
    `SELECT segment, count(*)::int AS members, coalesce(sum(revenue), 0)::bigint AS revenue
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 GROUP BY segment`,
    [scope.tenantId, scope.runId],
  );
  const dist = await q.query<{ measure: 'r' | 'f' | 'm'; score: number; members: number; min: number; max: number }>(
    `SELECT 'r' AS measure, r_score AS score, count(*)::int AS members, min(recency_days)::bigint AS min, max(recency_days)::bigint AS max
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 GROUP BY r_score
     UNION ALL
     SELECT 'f', f_score, count(*)::int, min(orders)::bigint, max(orders)::bigint
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 GROUP BY f_score
     UNION ALL
     SELECT 'm', m_score, count(*)::int, min(revenue)::bigint, max(revenue)::bigint
       FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 GROUP BY m_score`,
    [scope.tenantId, scope.runId],
  );
  const members = sizes.rows.reduce((s, r) => s + r.members, 0);
  const bySegment = new Map(sizes.rows.map((r) => [r.segment, r]));
  const scores = { r: [], f: [], m: [] } as RfmResult['scores'];
  for (const measure of ['r', 'f', 'm'] as const) {
    for (let score = 1; score <= 5; score++) {
      const row = dist.rows.find((d) => d.measure === measure && d.score === score);
      scores[measure].push({ score, members: row?.members ?? 0, min: row?.min ?? null, max: row?.max ?? null });
    }
  }
  const segments = (Object.keys(RFM_SEGMENTS) as RfmSegment[]).map((segment) => {
    const row = bySegment.get(segment);
    const n = row?.members ?? 0;
    return { segment, name: RFM_SEGMENTS[segment], members: n, share_pct: members === 0 ? 0 : Math.round((1000 * n) / members) / 10, revenue: row?.revenue ?? 0 };
  });
  return { rows: updated.rowCount ?? 0, result: { currency: scope.currency, members, segments, scores } };
}
