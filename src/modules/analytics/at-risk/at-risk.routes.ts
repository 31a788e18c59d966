/**
 * The at-risk list over HTTP (docs/analytics/at-risk.md): ranked by the money at risk, as JSON pages or as a CSV
 * file, from a run (`run_id`) or by default from the newest published run.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { tenantOf } from '../../../platform/http/auth.js';
import { decodeCursor, isIdCursor, page } from '../../../platform/http/pagination.js';
import { problems } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import { atRiskCsv, CSV_COLUMNS, listAtRisk } from './at-risk.js';
import { AtRiskCsvQuery, AtRiskMember, AtRiskPage, AtRiskQuery } from './at-risk.schema.js';

/** The list's cursor: the last row's value at risk and member id (the list's order). */
const isRankCursor = (v: any): v is { v: number; id: string } => isIdCursor(v) && Number.isSafeInteger((v as any).v);

export function atRiskRoutes(deps: { db: Db }) {
  const { db } = deps;
  const tags = ['analytics'];
  return async function (app: HttpServer) {
    app.addSchema(AtRiskMember);
    app.addSchema(AtRiskPage);

    app.get('/v1/analytics/at-risk', {
      schema: {
        tags, summary: 'Members at risk, the most money at risk first, each with its risk_reasons',
        description: 'Members in the top CLV deciles with a low P(alive), an NPS detractor answer, a breached case or a falling purchase rate (docs/analytics/at-risk.md), '
          + 'ranked by value at risk (CLV / P(alive): what the member brings if still active). From `run_id` (a succeeded run: 404 for another tenant\'s, 422 while it has not succeeded), '
          + 'by default from the newest published run; before any run is published the list is empty with `run_id` null. `reason` keeps the members with that reason in `risk_reasons`.',
        querystring: AtRiskQuery, response: { 200: Type.Ref(AtRiskPage), ...problems(400, 401, 404, 422) },
      },
    }, async (req) => {
      const q = req.query;
      const { run, rows } = await listAtRisk(db, tenantOf(req).tenantId, { runId: q.run_id, reason: q.reason, after: decodeCursor(q.cursor, isRankCursor), limit: q.limit + 1 });
      const item = (r: (typeof rows)[number]) => r;
      return { run_id: run?.id ?? null, as_of: run?.as_of ?? null, currency: run?.currency ?? null, ...page(rows, q.limit, item, (r) => ({ v: r.value_at_risk, id: r.member_id })) };
    });

    app.get('/v1/analytics/at-risk.csv', {
      // Names and e-mail addresses of many members at once: like the members export, admin only.
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'The at-risk list as CSV (streamed)',
        description: `One row per member, the most money at risk first: \`${CSV_COLUMNS.join('`, `')}\`. Reasons joined with \`;\`, money in minor units of \`currency\`. `
          + 'Text starting with =, +, -, @ gets a leading \' so spreadsheets do not run it as a formula. Same run and `reason` as the list; before any run is published, the header alone.',
        querystring: AtRiskCsvQuery,
        response: {
          200: { description: 'The file, streamed.', content: { 'text/csv': { schema: { type: 'string', description: 'CSV with a header row.' } } } },
          ...problems(400, 401, 403, 404, 422),
        },
      },
    }, async (req, reply) => {
      const q = req.query;
      const { run, body } = await atRiskCsv(db, tenantOf(req).tenantId, { runId: q.run_id, reason: q.reason });
      reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="at-risk${run ? `-${run.as_of}` : ''}.csv"`);
      return reply.send(body);
    });
  };
}
