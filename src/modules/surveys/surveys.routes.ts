/**
 * The surveys core over HTTP: definitions and versions (admin writes), links, settings, invitations and responses.
 * The survey page itself (/s/…) is the response page's (page/), the results the results routes'.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { hasScope, tenantOf, type Scope } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isAtIdCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  CreateInvitationBody, CreateResponseBody, CreateSurveyBody, Invitation, ListInvitationsQuery, ListResponsesQuery, ListSurveysQuery, QuestionSchema,
  Settings, SettingsBody, Survey, SurveyLinks, SurveyResponse, SurveyVersion, UpdateSurveyBody, VersionParams,
  type CreateInvitationInput, type CreateResponseInput, type CreateSurveyInput, type SettingsInput, type UpdateSurveyInput,
} from './surveys.schema.js';
import type { SurveysService } from './surveys.service.js';

/** Whether the caller may see signed invitation links (they let anyone answer as the member): write scope or above. */
const seesLinks = (req: { auth?: { scopes: Scope[] } | null }) => hasScope(req.auth?.scopes ?? [], 'write');

export function surveysRoutes(deps: { db: Db; surveys: SurveysService; http: HttpKit }) {
  const { db, surveys, http } = deps;
  const tags = ['surveys'];
  const S = Type.Ref(Survey);
  const I = Type.Ref(Invitation);
  const R = Type.Ref(SurveyResponse);
  return async function (app: HttpServer) {
    app.addSchema(QuestionSchema);
    app.addSchema(Survey);
    app.addSchema(SurveyVersion);
    app.addSchema(Invitation);
    app.addSchema(SurveyResponse);

    app.post('/v1/surveys', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Create a survey (a draft)',
        description: 'Questions as data: nps, csat, ces, csi and cli blocks, rating, single and multiple choice, text; `show_if` asks a question only when an EARLIER answer matches. Every problem of the definition is listed at once (`definition.questions[2].show_if.question`). Emits `survey.created`.',
        body: CreateSurveyBody, response: { 201: S, ...problems(400, 401, 403) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => surveys.checkCreate(body));
      return http.write(req, reply, { resource: 'survey', status: 201 }, (tx) => surveys.create(tx, tenantOf(req).tenantId, req.body as CreateSurveyInput));
    });

    app.get('/v1/surveys', {
      schema: { tags, summary: 'List surveys', querystring: ListSurveysQuery, response: { 200: Page(S), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await surveys.list(db, tenantOf(req).tenantId, { status: q.status, touchpoint: q.touchpoint, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/surveys/:id', {
      schema: { tags, summary: 'Get a survey with its current definition', params: IdParams, response: { 200: S, ...problems(400, 401, 404) } },
    }, async (req) => surveys.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/surveys/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change a survey',
        description: 'A new definition of a draft replaces it; of a live survey it becomes a new version (answers given so far stay on theirs). A closed survey, or the questions of a system survey, do not change (422). Emits `survey.updated` with the version.',
        params: IdParams, body: UpdateSurveyBody, response: { 200: S, ...problems(400, 401, 403, 404, 422) },
      },
    }, async (req, reply) => {
      const tenantId = tenantOf(req).tenantId;
      // The survey's language is read only to check a new definition sent without a default_language of its own.
      const b = req.body as Record<string, unknown> | null;
      const needsLang = typeof b === 'object' && b !== null && !Array.isArray(b) && b.definition !== undefined && typeof b.default_language !== 'string';
      const lang = needsLang ? await surveys.defaultLanguageOf(db, tenantId, req.params.id) : null;
      rejectBadBody(req, (body) => surveys.checkPatch(body, lang));
      return http.write(req, reply, { resource: 'survey' }, (tx) => surveys.update(tx, tenantId, req.params.id, req.body as UpdateSurveyInput));
    });

    app.post('/v1/surveys/:id/publish', {
      config: { auth: 'admin' },
      schema: { tags, summary: 'Publish a draft: it takes answers from now', description: 'Emits `survey.published`. Not a draft: 409.', params: IdParams, response: { 200: S, ...problems(400, 401, 403, 404, 409) } },
    }, (req, reply) => http.write(req, reply, { resource: 'survey', changedFields: ['status'] }, (tx) => surveys.publish(tx, tenantOf(req).tenantId, req.params.id)));

    app.post('/v1/surveys/:id/close', {
      config: { auth: 'admin' },
      schema: { tags, summary: 'Close a survey: no more answers', description: 'Its links answer 410 from now; scheduled invitations are skipped. Emits `survey.closed`. Already closed: 409.', params: IdParams, response: { 200: S, ...problems(400, 401, 403, 404, 409) } },
    }, (req, reply) => http.write(req, reply, { resource: 'survey', changedFields: ['status'] }, (tx) => surveys.close(tx, tenantOf(req).tenantId, req.params.id)));

    app.get('/v1/surveys/:id/versions', {
      schema: { tags, summary: 'Every version of a survey, oldest first', params: IdParams, response: { 200: Type.Object({ data: Type.Array(Type.Ref(SurveyVersion)) }), ...problems(400, 401, 404) } },
    }, async (req) => ({ data: await surveys.versions(db, tenantOf(req).tenantId, req.params.id) }));

    app.get('/v1/surveys/:id/versions/:version', {
      schema: { tags, summary: 'One version of a survey (what its answers were given to)', params: VersionParams, response: { 200: Type.Ref(SurveyVersion), ...problems(400, 401, 404) } },
    }, async (req) => surveys.version(db, tenantOf(req).tenantId, req.params.id, req.params.version));

    app.get('/v1/surveys/:id/links', {
      schema: {
        tags, summary: 'The public link and an embeddable snippet',
        description: 'The invitation-less public URL (answers only while `public_link` is on and the survey is live) and an iframe with `?embed=1`, a title and lazy loading.',
        params: IdParams, response: { 200: SurveyLinks, ...problems(400, 401, 404) },
      },
    }, async (req) => surveys.links(db, tenantOf(req).tenantId, req.params.id));

    app.post('/v1/surveys/:id/invitations', {
      schema: {
        tags, summary: 'Invite a member now',
        description: 'A pending invitation with a signed link valid for the survey\'s invitation_ttl_days. No member is invited more often than every survey_settings.min_days_between_invitations days: a throttled invitation is a 409 naming the field sent (`member_id` or `member_external_id`) with the date it becomes possible. Invitations of the case follow-up survey neither are throttled nor count toward it. The survey must be live (422). Emits `survey.invited`.',
        params: IdParams, body: CreateInvitationBody, response: { 201: I, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'survey_invitation', status: 201 }, (tx) => surveys.invite(tx, tenantOf(req).tenantId, req.params.id, req.body as CreateInvitationInput)));

    app.get('/v1/survey-invitations', {
      schema: { tags, summary: 'List survey invitations', description: 'Each `url` is shown to write and admin keys only (null for a read key).', querystring: ListInvitationsQuery, response: { 200: Page(I), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await surveys.listInvitations(db, tenantOf(req).tenantId, { surveyId: q.survey_id, memberId: q.member_id, status: q.status, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1 }, seesLinks(req));
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/survey-invitations/:id', {
      schema: {
        tags, summary: 'Get a survey invitation (with its link once sent)',
        description: 'The signed `url` lets anyone answer as the member: it is shown to keys with the write or admin scope; a read key gets `url: null`.',
        params: IdParams, response: { 200: I, ...problems(400, 401, 404) },
      },
    }, async (req) => surveys.getInvitation(db, tenantOf(req).tenantId, req.params.id, seesLinks(req)));

    app.post('/v1/surveys/:id/responses', {
      schema: {
        tags, summary: 'Record a response given outside the survey page (a POS tablet, a call)',
        description: 'The member is optional. With `invitation_id` the response answers that invitation, as its link would (the member is the invitation\'s; unknown 404, expired 410, answered and past the edit window 409, within it the answers are replaced). An erased or blocked member is a 422 naming the member field. Every required visible question must be answered; answers to hidden or unknown questions are a 400 naming `answers.<key>` (block items `answers.<key>.<item>`). A closed survey is a 410, a draft a 422. With a reward_event and a member, the event is recorded once for this response. Emits `survey.responded`.',
        params: IdParams, body: CreateResponseBody, response: { 201: R, ...problems(400, 401, 403, 404, 409, 410, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'survey_response', status: 201 }, (tx) => surveys.respondByApi(tx, tenantOf(req).tenantId, req.params.id, req.body as CreateResponseInput)));

    app.get('/v1/surveys/:id/responses', {
      schema: { tags, summary: 'A survey\'s responses with their answers, newest first', params: IdParams, querystring: ListResponsesQuery, response: { 200: Page(R), ...problems(400, 401, 404) } },
    }, async (req) => {
      const q = req.query;
      const c = decodeCursor(q.cursor, isAtIdCursor);
      const rows = await surveys.listResponses(db, tenantOf(req).tenantId, req.params.id, { after: c ? { at: new Date(c.at), id: c.id } : undefined, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ at: r.submitted_at.toISOString(), id: r.id }));
    });

    app.get('/v1/survey-responses/:id', {
      schema: { tags, summary: 'Get a survey response with its answers', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => surveys.getResponse(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/survey-settings', {
      schema: { tags, summary: 'The tenant\'s survey settings (the link secret is never shown)', response: { 200: Settings, ...problems(401) } },
    }, async (req) => surveys.settings(db, tenantOf(req).tenantId));

    app.put('/v1/survey-settings', {
      config: { auth: 'admin' },
      schema: { tags, summary: 'Change the survey settings', description: 'min_days_between_invitations: the throttle across all surveys; edit_window_minutes: how long an answer through an invitation may be changed.', body: SettingsBody, response: { 200: Settings, ...problems(400, 401, 403) } },
    }, (req, reply) => http.write(req, reply, { resource: 'survey_settings', resourceId: () => tenantOf(req).tenantId }, (tx) => surveys.updateSettings(tx, tenantOf(req).tenantId, req.body as SettingsInput)));
  };
}
