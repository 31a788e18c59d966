/**
 * Survey results (docs/surveys/results.md): the grouped counts of surveys.results.store.ts turned into scores by the
 * pure formulas of surveys.scores.ts, per period, week or month, or breakdown; the free-text analysis; the CSV export.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Db, Queryable } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import {
  cesScore, cliScore, csatScore, csiScore, npsScore, ratingScore, responseRate,
  type CesScore, type CliScore, type CsatScore, type CsiScore, type Distribution, type NpsScore, type RatingScore, type ResponseRate,
} from './surveys.scores.js';
import { answerKeysOf } from './surveys.definition.js';
import { spreadsheetSafe } from '../../platform/csv.js';
import * as store from './surveys.store.js';
import { aggregate, RESPONSE_COLUMNS, streamResponses, textAnswers, type Aggregates, type CountRow, type InvitationCountRow, type ValueRow } from './surveys.results.store.js';
import type { Question, QuestionType } from './surveys.types.js';
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


export { RESPONSE_COLUMNS };

export class SurveyResults {
  constructor(private readonly deps: { tenants: TenantsService }) {}

  /** Scores and distributions of every question (or one) in the period, with the response rate. */
  async results(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<SurveyResultsView> {
    const questions = await this.questions(q, tenantId, surveyId, f);
    const agg = await aggregate(q, tenantId, surveyId, f, { kind: 'none' }, true);
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
    const agg = await aggregate(q, tenantId, surveyId, f, { kind: 'bucket', interval: f.interval, timeZone: tenant.time_zone }, true);
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
    const agg = await aggregate(q, tenantId, surveyId, f, { kind: f.by }, false);
    const values = dimValues(agg).sort((a, b) => (a === null ? 1 : b === null ? -1 : a.localeCompare(b)));
    return { survey_id: surveyId, by: f.by, groups: values.map((v) => ({ value: v, responses: sumOf(agg.responses, v), questions: build(questions, agg, v) })) };
  }

  /** Free-text answers of the period (the newest TEXT_ANALYSIS_CAP): per language, sentiment shares and keywords. */
  async text(q: Queryable, tenantId: string, surveyId: string, f: ResultsFilter): Promise<TextResultsView> {
    await this.questions(q, tenantId, surveyId, f);
    const rows = await textAnswers(q, tenantId, surveyId, f, TEXT_ANALYSIS_CAP + 1);
    const truncated = rows.length > TEXT_ANALYSIS_CAP;
    const texts = rows.slice(0, TEXT_ANALYSIS_CAP).map((r) => ({ text: r.value_text, language: r.language }));
    return { survey_id: surveyId, from: f.from ?? null, to: f.to ?? null, analysed: texts.length, truncated, cap: TEXT_ANALYSIS_CAP, languages: analyseTexts(texts, TOP_KEYWORDS) };
  }

  /**
   * The responses as CSV text, streamed: one row per response, one column per question (per item for blocks) of
   * every version, the current version's order first. A 404 before the first byte for an unknown survey.
   */
  async csv(db: Db, tenantId: string, surveyId: string, f: Pick<ResultsFilter, 'from' | 'to'>): Promise<Readable> {
    const questions = await this.questions(db, tenantId, surveyId, {});
    const answerColumns = questions.flatMap((k) => answerKeysOf(k));
    const rows = await streamResponses(db, tenantId, surveyId, f);
    const toRecord = new Transform({
      objectMode: true,
      transform(row: { answers: Record<string, number | string> | null } & Record<string, unknown>, _enc, done) {
        const answers = row.answers ?? {};
        done(null, [
          ...RESPONSE_COLUMNS.map((c) => row[c]),
          ...answerColumns.map((k) => {
            const v = Object.hasOwn(answers, k) ? answers[k] : undefined;
            // Free text is made spreadsheet-safe (platform/csv.ts); numbers stay numbers.
            return typeof v === 'string' ? spreadsheetSafe(v) : v;
          }),
        ]);
      },
    });
    // An error on the way (or the client going away) destroys every stage; the store then discards the connection.
    return pipeline(rows, toRecord, stringify({ header: true, columns: [...RESPONSE_COLUMNS, ...answerColumns] }), () => {});
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

}

function dimValues(agg: Aggregates): Array<string | null> {
  const s = new Set<string | null>();
  for (const r of [...agg.values, ...agg.responses, ...(agg.invitations ?? [])]) s.add(r.dim);
  return [...s];
}

const sumOf = (rows: CountRow[], dim: string | null): number => rows.filter((r) => r.dim === dim).reduce((s, r) => s + r.n, 0);

function rateOf(rows: InvitationCountRow[] | null, dim: string | null): ResponseRate {
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
      const itemKeys = answerKeysOf(k);
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
    // Once per question (the scales read it twice); empty for choices and text, which have no numeric values.
    const distribution = distributionOf(mine);
    switch (k.type) {
      case 'nps': return { ...base, nps: npsScore({ promoters: bandCount(mine, 'promoter'), passives: bandCount(mine, 'passive'), detractors: bandCount(mine, 'detractor') }), distribution: distribution };
      case 'csat': return { ...base, csat: csatScore(distribution, bandCount(mine, 'satisfied')), distribution: distribution };
      case 'ces': return { ...base, ces: cesScore(distribution, bandCount(mine, 'low_effort')), distribution: distribution };
      case 'rating': return { ...base, rating: ratingScore(distribution), distribution: distribution };
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
