/**
 * Analytics over HTTP (docs/analytics.md → API): settings, runs and their progress, the CLV model report, RFM
 * migrations, per-member scores (JSON pages and a CSV stream), a member's current analytics, and the stored result
 * documents of every stage that has a view (analyticsResultRoutes).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  AnalyticsModel, AnalyticsRun, AnalyticsSettingsBody, AnalyticsSettingsView, ListRunsQuery, MemberAnalytics, MemberScore, MembersCsvQuery,
  MembersPage, MembersQuery, MigrationsQuery, resultEnvelope, RfmMigrations, RfmResultSchema, RunBody, RunIdQuery,
} from './analytics.schema.js';
import type { AnalyticsService } from './analytics.service.js';
import type { AnalyticsSettingsInput } from './analytics.settings.js';
import { MEMBER_SCORE_COLUMNS } from './analytics.store.js';
import type { ResultView } from './analytics.types.js';

const tags = ['analytics'];

/** The core's own result view: the RFM document the rfm stage stores. */
export const RFM_VIEW: ResultView = {
  kind: 'rfm',
  path: '/v1/analytics/rfm',
  summary: 'RFM segment sizes and score distributions',
  schema: RfmResultSchema,
};

export function analyticsRoutes(deps: { db: Db; analytics: AnalyticsService; http: HttpKit }) {
  const { db, analytics, http } = deps;
  const Run = Type.Ref(AnalyticsRun);
  return async function (app: HttpServer) {
    app.addSchema(AnalyticsSettingsView);
    app.addSchema(AnalyticsRun);
    app.addSchema(AnalyticsModel);
    app.addSchema(RfmMigrations);
    app.addSchema(MemberScore);
    app.addSchema(MembersPage);
    app.addSchema(MemberAnalytics);

    app.get('/v1/analytics/settings', {
      schema: { tags, summary: 'The analytics settings (defaults filled in)', response: { 200: Type.Ref(AnalyticsSettingsView), ...problems(401) } },
    }, async (req) => {
      const s = await analytics.settings(db, tenantOf(req).tenantId);
      return { ...s.settings, updated_at: s.updated_at };
    });

    app.put('/v1/analytics/settings', {
      attachValidation: true,
      schema: {
        tags, summary: 'Replace the analytics settings',
        description: 'Churn rule, CLV margin, discount rate, horizon, time unit and L2 penalty, the at-risk rule, the nightly run and how long runs are kept. Every field is optional; one left out takes its default. Runs queued from now on use them (a run keeps a copy of the settings it was queued with).',
        body: AnalyticsSettingsBody, response: { 200: Type.Ref(AnalyticsSettingsView), ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => analytics.checkSettings(body));
      return http.write(req, reply, { resource: 'analytics_settings', resourceId: () => tenantOf(req).tenantId },
        (tx) => analytics.putSettings(tx, tenantOf(req).tenantId, req.body as AnalyticsSettingsInput));
    });

    app.post('/v1/analytics/runs', {
      // No body at all is a run with the defaults.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags, summary: 'Queue an analytics run',
        description: "Computes, as of `as_of` (default yesterday in the tenant's time zone; not in the future), every member's purchase summary, RFM, the BG/NBD and Gamma-Gamma models and predictions, and the other stages installed. Answers 202 with the queued run; follow it with GET /v1/analytics/runs/{id}. A tenant's runs execute one at a time.",
        body: RunBody, response: { 202: Run, ...problems(400, 401, 403, 409, 422, 503) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'analytics_run', status: 202 }, (tx) => analytics.queueRun(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/analytics/runs', {
      schema: { tags, summary: 'List analytics runs, newest first', querystring: ListRunsQuery, response: { 200: Page(Run), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await analytics.listRuns(db, tenantOf(req).tenantId, { beforeId: decodeCursor(q.cursor, isIdCursor)?.id, status: q.status, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/analytics/runs/:id', {
      schema: {
        tags, summary: 'An analytics run: status, progress and summary',
        description: 'status queued, running, succeeded or failed; progress names the stage running and times every stage; a failed run carries its error.',
        params: IdParams, response: { 200: Run, ...problems(400, 401, 404) },
      },
    }, (req) => analytics.getRun(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/analytics/clv/model', {
      schema: {
        tags, summary: 'The CLV models of a run: parameters, time unit, log-likelihood, calibration',
        description: 'BG/NBD (r, α, a, b) and Gamma-Gamma (p, q, γ) of the run (default the latest succeeded run), with their time unit, log-likelihood, convergence and warnings, and the holdout calibration when the tenant has orders after the run\'s as_of.',
        querystring: RunIdQuery, response: { 200: Type.Ref(AnalyticsModel), ...problems(400, 401, 404, 422) },
      },
    }, (req) => analytics.model(db, tenantOf(req).tenantId, req.query.run_id));

    app.get('/v1/analytics/rfm/migrations', {
      schema: {
        tags, summary: 'Members moving between RFM segments from one day to another',
        description: 'Compares the latest succeeded run as of `from` with the latest as of `to`: the 11 × 11 segment-to-segment member counts, and the members entering (new) and leaving.',
        querystring: MigrationsQuery, response: { 200: Type.Ref(RfmMigrations), ...problems(400, 401, 404, 422) },
      },
    }, (req) => analytics.migrations(db, tenantOf(req).tenantId, req.query));

    app.get('/v1/analytics/members', {
      schema: {
        tags, summary: "A run's per-member scores",
        description: 'Summary, RFM, P(alive), expected purchases, expected order value, CLV and risk per member, in member id order; filter by segment and at_risk. Default the latest succeeded run.',
        querystring: MembersQuery, response: { 200: Type.Ref(MembersPage), ...problems(400, 401, 404, 422) },
      },
    }, async (req) => {
      const q = req.query;
      const { run, rows } = await analytics.members(db, tenantOf(req).tenantId, { runId: q.run_id, segment: q.segment, atRisk: q.at_risk }, decodeCursor(q.cursor, isIdCursor)?.id, q.limit + 1);
      return { run_id: run.id, as_of: run.as_of, currency: run.currency, ...page(rows, q.limit, (r) => r, (r) => ({ id: r.member_id })) };
    });

    app.get('/v1/analytics/members.csv', {
      schema: {
        tags, summary: "A run's per-member scores as CSV (streamed)",
        description: `One row per member in member id order: \`${[...MEMBER_SCORE_COLUMNS, 'currency'].join('`, `')}\`. risk_reasons joined with \`;\`; an external id starting with =, +, -, @ gets a leading ' so spreadsheets do not run it.`,
        querystring: MembersCsvQuery,
        response: {
          200: { description: 'The file, streamed.', content: { 'text/csv': { schema: { type: 'string', description: 'CSV with a header row.' } } } },
          ...problems(400, 401, 404, 422),
        },
      },
    }, async (req, reply) => {
      const q = req.query;
      const { run, body } = await analytics.membersCsv(tenantOf(req).tenantId, { runId: q.run_id, segment: q.segment, atRisk: q.at_risk });
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="analytics-members-${run.as_of}.csv"`);
      return reply.send(body);
    });

    app.get('/v1/members/:id/analytics', {
      schema: {
        tags: ['analytics', 'members'], summary: "A member's current analytics",
        description: 'The member\'s row of the published run (the succeeded run with the newest as_of): RFM scores and segment, P(alive), expected purchases in a year, CLV and decile, risk. 404 when no published run includes the member.',
        params: IdParams, response: { 200: Type.Ref(MemberAnalytics), ...problems(400, 401, 404) },
      },
    }, (req) => analytics.memberAnalytics(db, tenantOf(req).tenantId, req.params.id));
  };
}

const pascal = (s: string) => s.replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase());

/**
 * GET `view.path`?run_id= for each stored result document: `{run_id, as_of, computed_at, data}` with `data` in the
 * view's schema (named in the OpenAPI document), from the run asked for or the latest succeeded run; a 404 problem
 * when there is no such run or it did not compute this kind, a 422 naming run_id when the run has not succeeded.
 */
export function analyticsResultRoutes(deps: { db: Db; analytics: AnalyticsService; views: ResultView[] }) {
  const { db, analytics, views } = deps;
  return async function (app: HttpServer) {
    for (const view of views) {
      let data: TSchema = view.schema;
      if (typeof view.schema.$id === 'string') {
        app.addSchema(view.schema);
        data = Type.Ref(view.schema);
      }
      const envelope = resultEnvelope(`Analytics${pascal(view.kind)}Result`, data, `${view.summary}, as stored by an analytics run.`);
      app.addSchema(envelope);
      app.get(view.path, {
        schema: {
          tags, summary: view.summary,
          description: `The \`${view.kind}\` result of a run (default the latest succeeded run, the newest as_of). 404 when there is no succeeded run or it did not compute this result; 422 when run_id names a run that has not succeeded.`,
          querystring: RunIdQuery, response: { 200: Type.Ref(envelope), ...problems(400, 401, 404, 422) },
        },
      }, (req) => analytics.result(db, tenantOf(req).tenantId, view.kind, req.query.run_id));
    }
  };
}
