/**
 * SQL of the survey results (surveys.results.ts turns these counts into scores): grouped aggregates over
 * survey_answers, survey_responses and survey_invitations, the free-text answers to analyse, and the responses of
 * the CSV export as a stream from a server-side cursor.
 *
 * Every request runs a fixed handful of grouped statements (answers by value and band, choices by option, CSI/CLI
 * blocks by respondent shape, responses, invitations), optionally grouped by one dimension: a week or month of the
 * tenant's time zone, the touchpoint, the language or the tier. The group-by expression is picked from a fixed map,
 * never built from input.
 */
import type { Readable } from 'node:stream';
import { isoUtcSql, type Db, type Queryable } from '../../platform/db/db.js';
import type { BlockGroup } from './surveys.scores.js';
import type { Breakdown, Interval, ResultsFilter } from './surveys.results.js';
import type { Language, QuestionType } from './surveys.types.js';

export type Dim = { kind: 'none' } | { kind: 'bucket'; interval: Interval; timeZone: string } | { kind: Breakdown };

/** The group-by expression of a dimension over a table alias (`a` answers, `r` responses, `i` invitations). */
function dimSql(dim: Dim, alias: string, tzParam: string, timeColumn = 'submitted_at'): string {
  switch (dim.kind) {
    case 'none': return 'NULL::text';
    // The time zone is a bound parameter, checked when the tenant set it.
    case 'bucket': return `to_char(date_trunc('${dim.interval}', ${alias}.${timeColumn} AT TIME ZONE ${tzParam}), 'YYYY-MM-DD')`;
    case 'touchpoint': return `${alias}.touchpoint`;
    case 'language': return `${alias}.language`;
    case 'tier': return `${alias}.tier_code`;
  }
}

const PERIOD = (alias: string, column = 'submitted_at') =>
  `($3::timestamptz IS NULL OR ${alias}.${column} >= $3) AND ($4::timestamptz IS NULL OR ${alias}.${column} < $4)`;
const ANSWERS_WHERE = `a.tenant_id = $1 AND a.survey_id = $2 AND ${PERIOD('a')} AND ($5::text IS NULL OR split_part(a.question_key, '.', 1) = $5)`;

export interface ValueRow { dim: string | null; question_key: string; question_type: QuestionType; value_number: number | null; band: string | null; n: number }
export interface OptionRow { dim: string | null; question_key: string; option: string; n: number }
export interface BlockRow extends BlockGroup { dim: string | null; key: string; question_type: 'csi' | 'cli' }
export interface CountRow { dim: string | null; n: number }
export interface InvitationCountRow { dim: string | null; sent: number; responded: number }

/** Every grouped aggregate of one request, keyed by dimension value. */
export interface Aggregates {
  values: ValueRow[];
  options: OptionRow[];
  blocks: BlockRow[];
  responses: CountRow[];
  invitations: InvitationCountRow[] | null;
}

export async function aggregate(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter, dim: Dim, withInvitations: boolean): Promise<Aggregates> {
  const tz = dim.kind === 'bucket' ? [dim.timeZone] : [];
  const params: unknown[] = [tenantId, surveyId, f.from ?? null, f.to ?? null, f.question ?? null, ...tz];
  // Responses and invitations are of the survey, whichever question is asked for: no $5 there.
  const periodParams: unknown[] = [tenantId, surveyId, f.from ?? null, f.to ?? null, ...tz];
  const a = dimSql(dim, 'a', '$6');
  const [values, options, blocks, responses] = await Promise.all([
    q.query<ValueRow>(
      `SELECT ${a} AS dim, a.question_key, a.question_type, a.value_number, a.band, count(*)::int AS n
         FROM survey_answers a WHERE ${ANSWERS_WHERE}
        GROUP BY 1, 2, 3, 4, 5`, params),
    q.query<OptionRow>(
      `SELECT ${a} AS dim, a.question_key, c.option, count(*)::int AS n
         FROM survey_answers a CROSS JOIN LATERAL unnest(a.value_choices) AS c(option)
        WHERE ${ANSWERS_WHERE} AND a.question_type IN ('single_choice', 'multiple_choice')
        GROUP BY 1, 2, 3`, params),
    // A respondent's block: how many items they answered, how many were positive, the sum of the answers.
    q.query<BlockRow>(
      `SELECT dim, key, question_type, answered, positive, value_sum, count(*)::int AS count FROM (
         SELECT ${a} AS dim, split_part(a.question_key, '.', 1) AS key, a.question_type, count(*)::int AS answered,
                count(*) FILTER (WHERE a.band = 'positive')::int AS positive, coalesce(sum(a.value_number), 0)::int AS value_sum
           FROM survey_answers a WHERE ${ANSWERS_WHERE} AND a.question_type IN ('csi', 'cli')
          GROUP BY 1, a.response_id, 2, 3) b
        GROUP BY 1, 2, 3, 4, 5, 6`, params),
    q.query<CountRow>(
      `SELECT ${dimSql(dim, 'r', '$5')} AS dim, count(*)::int AS n FROM survey_responses r
        WHERE r.tenant_id = $1 AND r.survey_id = $2 AND ${PERIOD('r')}
        GROUP BY 1`, periodParams),
  ]);
  let invitations: InvitationCountRow[] | null = null;
  if (withInvitations) {
    // Invitations count in the period (and bucket) they were sent in.
    const res = await q.query<InvitationCountRow>(
      `SELECT ${dimSql(dim, 'i', '$5', 'sent_at')} AS dim, count(*)::int AS sent, count(*) FILTER (WHERE i.status = 'responded')::int AS responded
         FROM survey_invitations i
        WHERE i.tenant_id = $1 AND i.survey_id = $2 AND i.sent_at IS NOT NULL AND ${PERIOD('i', 'sent_at')}
        GROUP BY 1`, periodParams);
    invitations = res.rows;
  }
  return { values: values.rows, options: options.rows, blocks: blocks.rows, responses: responses.rows, invitations };
}

/** The period's newest free-text answers (at most `limit`). */
export async function textAnswers(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter, limit: number): Promise<Array<{ value_text: string; language: Language }>> {
  const { rows } = await q.query<{ value_text: string; language: Language }>(
    `SELECT a.value_text, a.language FROM survey_answers a
      WHERE ${ANSWERS_WHERE} AND a.question_type = 'text' AND a.value_text IS NOT NULL
      ORDER BY a.submitted_at DESC LIMIT $6`,
    [tenantId, surveyId, f.from ?? null, f.to ?? null, f.question ?? null, limit]);
  return rows;
}

export const RESPONSE_COLUMNS = ['response_id', 'submitted_at', 'language', 'channel', 'touchpoint', 'tier_code', 'member_id'] as const;

/**
 * A survey's responses of the period, oldest first, each with its answers by key (scales as numbers, choices joined
 * with `;`, text), streamed from a server-side cursor on a connection of its own. The connection goes back to the
 * pool when the stream ends; after an error or an abort (the cursor may still be open on it) it is discarded.
 */
export async function streamResponses(db: Db, tenantId: string, surveyId: string, f: Pick<ResultsFilter, 'from' | 'to'>): Promise<Readable> {
  const sql = `SELECT r.id AS response_id,
      ${isoUtcSql('r.submitted_at')} AS submitted_at,
      r.language, r.channel, r.touchpoint, r.tier_code, r.member_id,
      (SELECT jsonb_object_agg(a.question_key, CASE
                WHEN a.value_number IS NOT NULL THEN to_jsonb(a.value_number)
                WHEN a.value_choices IS NOT NULL THEN to_jsonb(array_to_string(a.value_choices, ';'))
                ELSE to_jsonb(a.value_text) END)
         FROM survey_answers a WHERE a.tenant_id = r.tenant_id AND a.response_id = r.id) AS answers
    FROM survey_responses r
    WHERE r.tenant_id = $1 AND r.survey_id = $2 AND ${PERIOD('r')}
    ORDER BY r.submitted_at, r.id`;
  return db.stream(sql, [tenantId, surveyId, f.from ?? null, f.to ?? null]);
}
