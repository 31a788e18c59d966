/** GET /v1/survey-templates: the ready-made surveys (surveys.templates.ts), to copy into POST /v1/surveys. */
import { Type } from '@sinclair/typebox';
import { decodeCursor, page } from '../../platform/http/pagination.js';
import { Nullable, Page, PageQuery, problems, StringEnum } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { SURVEY_TEMPLATES } from './surveys.templates.js';
import { TOUCHPOINTS } from './surveys.types.js';

const isKeyCursor = (v: any): v is { key: string } => typeof v === 'object' && v !== null && SURVEY_TEMPLATES.some((t) => t.key === v.key);

const Template = Type.Object({
  key: Type.String({ description: 'relationship_nps, post_purchase_csat, ces_after_support, csi_cli, case_follow_up' }),
  name: Type.String(),
  description: Type.String(),
  touchpoint: StringEnum(TOUCHPOINTS),
  trigger: Nullable(Type.Object({}, { additionalProperties: true, description: 'As in POST /v1/surveys.' })),
  default_language: Type.String(),
  definition: Type.Object({}, { additionalProperties: true, description: 'A survey definition, as in POST /v1/surveys, with texts in all five languages.' }),
});

export function surveyTemplatesRoutes() {
  return async function (app: HttpServer) {
    app.get('/v1/survey-templates', {
      schema: {
        tags: ['surveys'],
        summary: 'List the ready-made survey templates',
        description: 'Relationship NPS, post-purchase CSAT, CES after support, a CSI + CLI block survey and the case follow-up, each a complete definition in en, bg, ru, ro and pl. Send one\'s name, touchpoint, trigger, default_language and definition to POST /v1/surveys to create a draft from it.',
        querystring: Type.Object({ ...PageQuery }, { additionalProperties: false }),
        response: { 200: Page(Template), ...problems(400, 401) },
      },
    }, async (req) => {
      // A list like every other (limit, cursor), though it is short and the same for every tenant.
      const q = req.query as { limit: number; cursor?: string };
      const after = decodeCursor(q.cursor, isKeyCursor);
      const from = after ? SURVEY_TEMPLATES.findIndex((t) => t.key === after.key) + 1 : 0;
      return page(SURVEY_TEMPLATES.slice(from, from + q.limit + 1), q.limit, (t) => t, (t) => ({ key: t.key }));
    });
  };
}
