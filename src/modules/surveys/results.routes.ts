/**
 * Survey results over HTTP (docs/surveys/results.md): scores per question, trends, breakdowns, free-text analysis,
 * and the responses as CSV, streamed.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import { IdParams, Nullable, Obj, problems, StringEnum, Timestamp } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { BREAKDOWNS, INTERVALS, RESPONSE_COLUMNS, TEXT_ANALYSIS_CAP, TOP_KEYWORDS, type SurveyResults } from './surveys.results.js';
import { LANGUAGES } from './surveys.types.js';

const Pct = (description: string) => Nullable(Type.Number({ description: `${description} In percent, one decimal; null without answers.` }));
const Int = (description: string) => Type.Integer({ minimum: 0, description });
const Distribution = Type.Array(Obj({ value: Type.Integer(), count: Int('Answers with this value.') }), { description: 'Answers per value, lowest value first.' });

const QuestionResult = Type.Object({
  key: Type.String(),
  type: Type.String({ description: 'The question type: nps, csat, ces, csi, cli, rating, single_choice, multiple_choice, text.' }),
  answers: Int('Answers (for csi and cli: respondents who answered at least one item).'),
  nps: Type.Optional(Obj({
    n: Int('Answers.'), promoters: Int('Promoters.'), passives: Int('Passives.'), detractors: Int('Detractors.'),
    nps: Nullable(Type.Number({ description: '% promoters − % detractors, −100 to 100, one decimal.' })),
    promoters_pct: Pct('Promoters.'), passives_pct: Pct('Passives.'), detractors_pct: Pct('Detractors.'),
    margin_of_error: Nullable(Type.Number({ description: '95% margin of error in NPS points: 1.96·√(s²/n)·100, s² = (P + D) − (P − D)².' })),
  })),
  csat: Type.Optional(Obj({ n: Int('Answers.'), satisfied: Int('Answers in the top two boxes.'), csat: Pct('Top-two-box share.'), mean: Nullable(Type.Number()) })),
  ces: Type.Optional(Obj({ n: Int('Answers.'), low_effort: Int('Answers 5-7.'), low_effort_pct: Pct('Share of low effort (5-7).'), mean: Nullable(Type.Number({ description: 'Mean answer, 1-7.' })) })),
  rating: Type.Optional(Obj({ n: Int('Answers.'), mean: Nullable(Type.Number()) })),
  csi: Type.Optional(Obj({
    n: Int('Respondents who answered all three items.'), secure: Int('Respondents with all three items positive.'),
    csi: Pct('Share of secure customers among complete blocks.'), excluded_partial: Int('Respondents who answered only some items: not counted.'),
  })),
  cli: Type.Optional(Obj({
    n: Int('Respondents who answered all three items.'),
    cli: Nullable(Type.Number({ description: 'Mean respondent CLI, 0-100 (each item (6 − answer) × 20).' })),
    excluded_partial: Int('Respondents who answered only some items: not counted.'),
  })),
  distribution: Type.Optional(Distribution),
  options: Type.Optional(Type.Array(Obj({ option: Type.String(), count: Int('Answers that chose it.') }))),
  items: Type.Optional(Type.Array(Obj({ key: Type.String({ description: '<question>.<item>' }), answers: Int('Answers.'), mean: Nullable(Type.Number()), distribution: Distribution }))),
}, { $id: 'SurveyQuestionResult', description: 'One question\'s results; only the fields of its type are present.' });

const ResponseRate = Obj({
  sent: Int('Invitations sent in the period.'), responded: Int('Of those, answered.'),
  rate: Pct('responded / sent.'),
}, { description: 'Invitations sent in the period (or bucket) and how many of them were answered.' });

const Questions = Type.Array(Type.Ref(QuestionResult));

const Results = Type.Object({
  survey_id: Type.String({ format: 'uuid' }),
  from: Nullable(Timestamp()), to: Nullable(Timestamp()),
  responses: Int('Responses submitted in the period.'),
  response_rate: ResponseRate,
  questions: Questions,
}, { $id: 'SurveyResults', description: 'Every question\'s score and distribution over the period, in the order of the current version (then questions of older versions).' });

const Trend = Type.Object({
  survey_id: Type.String({ format: 'uuid' }),
  interval: StringEnum(INTERVALS),
  time_zone: Type.String({ description: 'The tenant\'s time zone the buckets follow.' }),
  buckets: Type.Array(Obj({
    period_start: Type.String({ format: 'date', description: 'The local date the week (Monday) or month starts.' }),
    responses: Int('Responses in the bucket.'), response_rate: ResponseRate, questions: Questions,
  }), { description: 'Buckets with answers, responses or sent invitations, oldest first.' }),
}, { $id: 'SurveyTrend' });

const BreakdownView = Type.Object({
  survey_id: Type.String({ format: 'uuid' }),
  by: StringEnum(BREAKDOWNS),
  groups: Type.Array(Obj({
    value: Nullable(Type.String({ description: 'The touchpoint, language or tier code; null: no tier (no member, or the member had none).' })),
    responses: Int('Responses in the group.'), questions: Questions,
  })),
}, { $id: 'SurveyBreakdown' });

const Share = Obj({ count: Int('Answers.'), share: Type.Number({ description: 'Percent of the language\'s answers, one decimal.' }) });
const TextResults = Type.Object({
  survey_id: Type.String({ format: 'uuid' }),
  from: Nullable(Timestamp()), to: Nullable(Timestamp()),
  analysed: Int('Free-text answers analysed.'),
  truncated: Type.Boolean({ description: `True when the period had more than ${TEXT_ANALYSIS_CAP} free-text answers: only the newest ${TEXT_ANALYSIS_CAP} were analysed.` }),
  cap: Int('The most answers analysed per request.'),
  languages: Type.Array(Obj({
    language: StringEnum(LANGUAGES, { description: 'The detected language of the answers (the response\'s language when detection cannot tell).' }),
    answers: Int('Answers in this language.'),
    sentiment: Obj({ positive: Share, neutral: Share, negative: Share }),
    keywords: Type.Array(Obj({ term: Type.String(), count: Int('Answers that use it (any form).') }), { description: `The top ${TOP_KEYWORDS}, most used first.` }),
  })),
}, { $id: 'SurveyTextResults', description: 'Language, sentiment and keywords of the free-text answers (method and measured accuracy: docs/surveys/text.md).' });

const Period = {
  from: Type.Optional(Timestamp({ description: 'Answers submitted at or after this time.' })),
  to: Type.Optional(Timestamp({ description: 'Answers submitted before this time.' })),
};
const QuestionParam = Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'Only this question (a csi or cli key covers its items).' }));
const ResultsQuery = Obj({ ...Period, question: QuestionParam });
const TrendQuery = Obj({ ...Period, question: QuestionParam, interval: StringEnum(INTERVALS, { default: 'week', description: 'week (Monday to Sunday) or month, in the tenant\'s time zone; default week.' }) });
const BreakdownQuery = Obj({ ...Period, question: QuestionParam, by: StringEnum(BREAKDOWNS, { default: 'language', description: 'language (of the response; the default), tier (the member\'s tier when they answered) or touchpoint (one per survey unless it was changed, so rarely more than one group).' }) });
const CsvQuery = Obj({ ...Period });

const date = (s: string | undefined): Date | undefined => (s === undefined ? undefined : new Date(s));

export function surveyResultsRoutes(deps: { db: Db; results: SurveyResults }) {
  const { db, results } = deps;
  const tags = ['surveys'];
  const ref = (s: TSchema) => Type.Ref(s);
  return async function (app: HttpServer) {
    app.addSchema(QuestionResult);
    app.addSchema(Results);
    app.addSchema(Trend);
    app.addSchema(BreakdownView);
    app.addSchema(TextResults);

    app.get('/v1/surveys/:id/results', {
      schema: {
        tags, summary: 'Scores and distributions of a survey\'s questions',
        description: 'Per question by its type: NPS (with n and the 95% margin of error), CSAT (top-two-box %, mean), CES (mean, % low effort), CSI (% secure among complete blocks), CLI (mean 0-100), ratings, choices, text counts; the period\'s responses and response rate.',
        params: IdParams, querystring: ResultsQuery, response: { 200: ref(Results), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      return results.results(db, tenantOf(req).tenantId, req.params.id, { from: date(q.from), to: date(q.to), question: q.question });
    });

    app.get('/v1/surveys/:id/results/trend', {
      schema: {
        tags, summary: 'A survey\'s scores per week or month',
        description: 'The results per week or month of the tenant\'s time zone; a bucket is named by its local start date.',
        params: IdParams, querystring: TrendQuery, response: { 200: ref(Trend), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      return results.trend(db, tenantOf(req).tenantId, req.params.id, { from: date(q.from), to: date(q.to), question: q.question, interval: q.interval });
    });

    app.get('/v1/surveys/:id/results/breakdown', {
      schema: {
        tags, summary: 'A survey\'s scores per touchpoint, language or tier',
        params: IdParams, querystring: BreakdownQuery, response: { 200: ref(BreakdownView), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      return results.breakdown(db, tenantOf(req).tenantId, req.params.id, { from: date(q.from), to: date(q.to), question: q.question, by: q.by });
    });

    app.get('/v1/surveys/:id/results/text', {
      schema: {
        tags, summary: 'Free-text answers: language, sentiment shares and top keywords',
        description: `Analysed when asked, over the period's newest ${TEXT_ANALYSIS_CAP} free-text answers: per detected language the share of positive, neutral and negative answers and the top ${TOP_KEYWORDS} keywords. A lexicon method; its measured accuracy is in docs/surveys/text.md.`,
        params: IdParams, querystring: ResultsQuery, response: { 200: ref(TextResults), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      return results.text(db, tenantOf(req).tenantId, req.params.id, { from: date(q.from), to: date(q.to), question: q.question });
    });

    app.get('/v1/surveys/:id/responses.csv', {
      // Member ids and free text: like the members export, admin only.
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'A survey\'s responses as CSV (streamed)',
        description:
          `One row per response, oldest first: \`${RESPONSE_COLUMNS.join('`, `')}\`, then one column per question (per item for csi and cli: \`<key>.<item>\`) of every version. ` +
          'Scales as numbers, choices as option keys joined with `;`, text as written (a text starting with =, +, -, @ gets a leading \' so spreadsheets do not run it).',
        params: IdParams, querystring: CsvQuery,
        response: {
          200: { description: 'The file, streamed.', content: { 'text/csv': { schema: { type: 'string', description: 'CSV with a header row.' } } } },
          ...problems(400, 401, 403, 404),
        },
      },
    }, async (req, reply) => {
      const q = req.query;
      const body = await results.csv(db, tenantOf(req).tenantId, req.params.id, { from: date(q.from), to: date(q.to) });
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="survey-${req.params.id}-responses.csv"`);
      return reply.send(body);
    });
  };
}
