/**
 * Survey results (docs/surveys/results.md): the SQL aggregates over survey_answers, survey_responses and
 * survey_invitations, turned into scores by the pure formulas of surveys.scores.ts.
 *
 * Every request runs a fixed handful of grouped statements (answers by value and band, choices by option, CSI/CLI
 * blocks by respondent shape, responses, invitations), optionally grouped by one dimension: a week or month of the
 * tenant's time zone, the touchpoint, the language or the tier. The group-by expression is picked from a fixed map,
 * never built from input.
 */
import type { Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import {
  cesScore, cliScore, csatScore, csiScore, npsScore, ratingScore, responseRate,
  type BlockGroup, type CesScore, type CliScore, type CsatScore, type CsiScore, type Distribution, type NpsScore, type RatingScore, type ResponseRate,
} from './surveys.scores.js';
import * as store from './surveys.store.js';
import { CLI_ITEMS, CSI_ITEMS, type Language, type Question, type QuestionType } from './surveys.types.js';
import { analyseTexts, type LanguageTextResult } from './text/analyse.js';

/** At most this many free-text answers (the period's newest) are analysed per request: analysis runs at query time. */
export const TEXT_ANALYSIS_CAP = 5000;
export const TOP_KEYWORDS = 15;

export const INTERVALS = ['week', 'month'] as const;
export type Interval = (typeof INTERVALS)[number];
export const BREAKDOWNS = ['touchpoint', 'language', 'tier'] as const;
export type Breakdown = (typeof BREAKDOWNS)[number];

export interface ResultsFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  /** One question (a block's key covers its items). */
  question?: string | undefined;
}

export interface ItemResult { key: string; answers: number; mean: number | null; distribution: Distribution }

/** The results of one question, by its type: only the fields of its type are present. */
export interface QuestionResult {
  key: string;
  type: QuestionType;
  /** Answers (for a block: respondents who answered at least one item). */
  answers: number;
  nps?: NpsScore;
  csat?: CsatScore;
  ces?: CesScore;
  rating?: RatingScore;
  csi?: CsiScore;
  cli?: CliScore;
  distribution?: Distribution;
  options?: Array<{ option: string; count: number }>;
  items?: ItemResult[];
}

export interface SurveyResultsView {
  survey_id: string;
  from: Date | null;
  to: Date | null;
  responses: number;
  response_rate: ResponseRate;
  questions: QuestionResult[];
}

export interface TrendView {
  survey_id: string;
  interval: Interval;
  time_zone: string;
  buckets: Array<{ period_start: string; responses: number; response_rate: ResponseRate; questions: QuestionResult[] }>;
}

export interface BreakdownView {
  survey_id: string;
  by: Breakdown;
  groups: Array<{ value: string | null; responses: number; questions: QuestionResult[] }>;
}

export interface TextResultsView {
  survey_id: string;
  from: Date | null;
  to: Date | null;
  analysed: number;
  /** True when the period had more than TEXT_ANALYSIS_CAP answers: only the newest were analysed. */
  truncated: boolean;
  cap: number;
  languages: LanguageTextResult[];
}

/** A question as results know it: its key, type and, for choices, the options in their order. */
interface KnownQuestion { key: string; type: QuestionType; options: string[] }

type Dim = { kind: 'none' } | { kind: 'bucket'; interval: Interval; timeZone: string } | { kind: Breakdown };

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

interface ValueRow { dim: string | null; question_key: string; question_type: QuestionType; value_number: number | null; band: string | null; n: number }
interface OptionRow { dim: string | null; question_key: string; option: string; n: number }
interface BlockRow extends BlockGroup { dim: string | null; key: string; question_type: 'csi' | 'cli' }
interface CountRow { dim: string | null; n: number }
interface InvitationRow { dim: string | null; sent: number; responded: number }

/** Every grouped aggregate of one request, keyed by dimension value. */
interface Aggregates {
  values: ValueRow[];
  options: OptionRow[];
  blocks: BlockRow[];
  responses: CountRow[];
  invitations: InvitationRow[] | null;
}

export class SurveyResults {
  constructor(private readonly deps: { tenants: TenantsService }) {}

  /** Scores and distributions of every question (or one) in the period, with the response rate. */
  async results(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<SurveyResultsView> {
    const questions = await this.questions(q, tenantId, surveyId, f);
    const agg = await this.aggregate(q, tenantId, surveyId, f, { kind: 'none' }, true);
    return {
      survey_id: surveyId,
      from: f.from ?? null,
      to: f.to ?? null,
      responses: sumOf(agg.responses, null),
      response_rate: rateOf(agg.invitations, null),
      questions: build(questions, agg, null),
    };
  }

  /** The same per week or month of the tenant's time zone (a bucket is the local date its week or month starts). */
  async trend(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter & { interval: Interval }): Promise<TrendView> {
    const questions = await this.questions(q, tenantId, surveyId, f);
    const tenant = await this.deps.tenants.getTenant(q, tenantId);
    if (!tenant) throw errors.notFound('tenant', tenantId);
    const agg = await this.aggregate(q, tenantId, surveyId, f, { kind: 'bucket', interval: f.interval, timeZone: tenant.time_zone }, true);
    const buckets = dimValues(agg).filter((d): d is string => d !== null).sort();
    return {
      survey_id: surveyId,
      interval: f.interval,
      time_zone: tenant.time_zone,
      buckets: buckets.map((b) => ({ period_start: b, responses: sumOf(agg.responses, b), response_rate: rateOf(agg.invitations, b), questions: build(questions, agg, b) })),
    };
  }

  /** The same per touchpoint, language or tier (the member's tier when they answered; null: no member or no tier). */
  async breakdown(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter & { by: Breakdown }): Promise<BreakdownView> {
    const questions = await this.questions(q, tenantId, surveyId, f);
    const agg = await this.aggregate(q, tenantId, surveyId, f, { kind: f.by }, false);
    const values = dimValues(agg).sort((a, b) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
    return { survey_id: surveyId, by: f.by, groups: values.map((v) => ({ value: v, responses: sumOf(agg.responses, v), questions: build(questions, agg, v) })) };
  }

  /** Free-text answers of the period (the newest TEXT_ANALYSIS_CAP): per language, sentiment shares and keywords. */
  async text(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<TextResultsView> {
    await this.questions(q, tenantId, surveyId, f);
    const { rows } = await q.query<{ value_text: string; language: Language }>(
      `SELECT a.value_text, a.language FROM survey_answers a
        WHERE ${ANSWERS_WHERE} AND a.question_type = 'text' AND a.value_text IS NOT NULL
        ORDER BY a.submitted_at DESC LIMIT ${TEXT_ANALYSIS_CAP + 1}`,
      [tenantId, surveyId, f.from ?? null, f.to ?? null, f.question ?? null]);
    const truncated = rows.length > TEXT_ANALYSIS_CAP;
    const texts = rows.slice(0, TEXT_ANALYSIS_CAP).map((r) => ({ text: r.value_text, language: r.language }));
    return { survey_id: surveyId, from: f.from ?? null, to: f.to ?? null, analysed: texts.length, truncated, cap: TEXT_ANALYSIS_CAP, languages: analyseTexts(texts, TOP_KEYWORDS) };
  }

  /**
   * The CSV export's columns and query: one row per response, one column per question (per item for blocks) of
   * every version, the current version's order first. Streamed by the route from a server-side cursor.
   */
  async csvExport(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<{ answerColumns: string[]; sql: string; params: unknown[] }> {
    const questions = await this.questions(q, tenantId, surveyId, {});
    const answerColumns = questions.flatMap((k) =>
      k.type === 'csi' ? CSI_ITEMS.map((i) => `${k.key}.${i}`) : k.type === 'cli' ? CLI_ITEMS.map((i) => `${k.key}.${i}`) : [k.key]);
    const sql = `SELECT r.id AS response_id,
        regexp_replace(to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z' AS submitted_at,
        r.language, r.channel, r.touchpoint, r.tier_code, r.member_id,
        (SELECT jsonb_object_agg(a.question_key, CASE
                  WHEN a.value_number IS NOT NULL THEN to_jsonb(a.value_number)
                  WHEN a.value_choices IS NOT NULL THEN to_jsonb(array_to_string(a.value_choices, ';'))
                  ELSE to_jsonb(a.value_text) END)
           FROM survey_answers a WHERE a.tenant_id = r.tenant_id AND a.response_id = r.id) AS answers
      FROM survey_responses r
      WHERE r.tenant_id = $1 AND r.survey_id = $2 AND ${PERIOD('r')}
      ORDER BY r.submitted_at, r.id`;
    return { answerColumns, sql, params: [tenantId, surveyId, f.from ?? null, f.to ?? null] };
  }

  // ── Helpers ───────────────────────────────────────────────────────────────────

  /**
   * The survey's questions over all its versions, the current version's order first, then questions only older
   * versions had (their answers still count). A 404 for another tenant's survey; a 400 for an unknown `question`.
   */
  private async questions(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<KnownQuestion[]> {
    const survey = await store.getSurvey(q, tenantId, surveyId);
    if (!survey) throw errors.notFound('survey', surveyId);
    if (f.from && f.to && f.from >= f.to) throw errors.field('to', 'must be after from');
    const versions = await store.listVersions(q, tenantId, surveyId);
    const ordered = [...versions].sort((a, b) => (a.version === survey.current_version ? -1 : b.version === survey.current_version ? 1 : b.version - a.version));
    const seen = new Map<string, KnownQuestion>();
    for (const v of ordered) {
      for (const question of v.definition.questions as Question[]) {
        const known = seen.get(question.key);
        const options = question.type === 'single_choice' || question.type === 'multiple_choice' ? question.options.map((o) => o.key) : [];
        if (!known) seen.set(question.key, { key: question.key, type: question.type, options });
        else for (const o of options) if (!known.options.includes(o)) known.options.push(o);
      }
    }
    const all = [...seen.values()];
    if (f.question === undefined) return all;
    const one = all.filter((k) => k.key === f.question);
    if (!one.length) throw errors.field('question', 'is not a question of this survey');
    return one;
  }

  private async aggregate(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter, dim: Dim, withInvitations: boolean): Promise<Aggregates> {
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
    let invitations: InvitationRow[] | null = null;
    if (withInvitations) {
      // Invitations count in the period (and bucket) they were sent in.
      const res = await q.query<InvitationRow>(
        `SELECT ${dimSql(dim, 'i', '$5', 'sent_at')} AS dim, count(*)::int AS sent, count(*) FILTER (WHERE i.status = 'responded')::int AS responded
           FROM survey_invitations i
          WHERE i.tenant_id = $1 AND i.survey_id = $2 AND i.sent_at IS NOT NULL AND ${PERIOD('i', 'sent_at')}
          GROUP BY 1`, periodParams);
      invitations = res.rows;
    }
    return { values: values.rows, options: options.rows, blocks: blocks.rows, responses: responses.rows, invitations };
  }
}

function dimValues(agg: Aggregates): Array<string | null> {
  const s = new Set<string | null>();
  for (const r of [...agg.values, ...agg.responses, ...(agg.invitations ?? [])]) s.add(r.dim);
  return [...s];
}

const sumOf = (rows: CountRow[], dim: string | null): number => rows.filter((r) => r.dim === dim).reduce((s, r) => s + r.n, 0);

function rateOf(rows: InvitationRow[] | null, dim: string | null): ResponseRate {
  const mine = (rows ?? []).filter((r) => r.dim === dim);
  return responseRate(mine.reduce((s, r) => s + r.sent, 0), mine.reduce((s, r) => s + r.responded, 0));
}

function distributionOf(rows: ValueRow[]): Distribution {
  const by = new Map<number, number>();
  for (const r of rows) if (r.value_number !== null) by.set(r.value_number, (by.get(r.value_number) ?? 0) + r.n);
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([value, count]) => ({ value, count }));
}
const bandCount = (rows: ValueRow[], band: string): number => rows.filter((r) => r.band === band).reduce((s, r) => s + r.n, 0);

/** Every question's result for one dimension value, from the aggregates. */
function build(questions: KnownQuestion[], agg: Aggregates, dim: string | null): QuestionResult[] {
  const values = agg.values.filter((r) => r.dim === dim);
  return questions.map((k): QuestionResult => {
    if (k.type === 'csi' || k.type === 'cli') {
      const groups = agg.blocks.filter((b) => b.dim === dim && b.key === k.key);
      const itemKeys = (k.type === 'csi' ? CSI_ITEMS : CLI_ITEMS).map((i) => `${k.key}.${i}`);
      const items = itemKeys.map((key) => {
        const distribution = distributionOf(values.filter((r) => r.question_key === key));
        const rating = ratingScore(distribution);
        return { key, answers: rating.n, mean: rating.mean, distribution };
      });
      const answers = groups.reduce((s, g) => s + g.count, 0);
      return k.type === 'csi' ? { key: k.key, type: k.type, answers, csi: csiScore(groups), items } : { key: k.key, type: k.type, answers, cli: cliScore(groups), items };
    }
    const mine = values.filter((r) => r.question_key === k.key);
    const answers = mine.reduce((s, r) => s + r.n, 0);
    const base = { key: k.key, type: k.type, answers };
    switch (k.type) {
      case 'nps': return { ...base, nps: npsScore({ promoters: bandCount(mine, 'promoter'), passives: bandCount(mine, 'passive'), detractors: bandCount(mine, 'detractor') }), distribution: distributionOf(mine) };
      case 'csat': return { ...base, csat: csatScore(distributionOf(mine), bandCount(mine, 'satisfied')), distribution: distributionOf(mine) };
      case 'ces': return { ...base, ces: cesScore(distributionOf(mine), bandCount(mine, 'low_effort')), distribution: distributionOf(mine) };
      case 'rating': return { ...base, rating: ratingScore(distributionOf(mine)), distribution: distributionOf(mine) };
      case 'single_choice':
      case 'multiple_choice': {
        const counts = new Map(k.options.map((o) => [o, 0]));
        for (const r of agg.options) if (r.dim === dim && r.question_key === k.key) counts.set(r.option, (counts.get(r.option) ?? 0) + r.n);
        return { ...base, options: [...counts.entries()].map(([option, count]) => ({ option, count })) };
      }
      case 'text': return base;
    }
  });
}
