/** Cases over HTTP: the case list and a case's work (notes, replies, resolve, close, reopen), feedback, case settings. */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import { actorOf } from '../ledger/ledger.routes.js';
import { giftErrors, type Gift } from '../rewards/rewards.gift.js';
import {
  Case, CaseSettingsBody, CaseSettingsView, CaseWithTimeline, CloseBody, FeedbackBody, ListCasesQuery, NoteBody, ReopenBody, ReplyBody,
  ResolveBody, TimelineEntry, UpdateCaseBody,
} from './cases.schema.js';
import type { CasesService } from './cases.service.js';
import type { CaseSettings, Priority } from './cases.settings.js';
import type { CaseStatus } from './cases.store.js';

export function casesRoutes(deps: { db: Db; cases: CasesService; http: HttpKit }) {
  const { db, cases, http } = deps;
  const tags = ['cases'];
  const C = Type.Ref(Case);
  const T = Type.Ref(TimelineEntry);
  return async function (app: HttpServer) {
    app.addSchema(Case);
    app.addSchema(TimelineEntry);
    app.addSchema(CaseSettingsView);

    app.get('/v1/cases', {
      schema: {
        tags, summary: 'List cases, newest first',
        description: 'Filters: status and priority (comma-separated), breached, assignee_id, member_id.',
        querystring: ListCasesQuery, response: { 200: Page(C), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await cases.list(db, tenantOf(req).tenantId, {
        status: q.status?.split(',') as CaseStatus[] | undefined, priority: q.priority?.split(',') as Priority[] | undefined, breached: q.breached,
        assigneeId: q.assignee_id, memberId: q.member_id, beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/cases/:id', {
      schema: { tags, summary: 'Get a case with its timeline', params: IdParams, response: { 200: CaseWithTimeline, ...problems(400, 401, 404) } },
    }, (req) => cases.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/cases/:id', {
      schema: {
        tags, summary: 'Assign a case, change its priority, or set it waiting for the customer / open',
        description: 'Emits `case.assigned`, `case.priority_changed` (the due times follow the new priority, counted from opening) and `case.status_changed`. A closed case is a 422.',
        params: IdParams, body: UpdateCaseBody, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case' }, (tx) => cases.update(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req) })));

    app.post('/v1/cases/:id/notes', {
      schema: {
        tags, summary: 'Add an internal note', description: 'Never shown to the member. Emits `case.noted`.',
        params: IdParams, body: NoteBody, response: { 201: T, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case', status: 201, resourceId: () => req.params.id },
      (tx) => cases.note(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req), agentId: req.body.agent_id })));

    app.post('/v1/cases/:id/replies', {
      schema: {
        tags, summary: 'Reply to the member',
        description: 'A personal reply, stored with delivery_state `pending` until the messaging module emails it. The first reply is the first response (first_responded_at). Emits `case.replied`. A closed case, or anonymous feedback without an email, is a 422.',
        params: IdParams, body: ReplyBody, response: { 201: T, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case', status: 201, resourceId: () => req.params.id },
      (tx) => cases.reply(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req), agentId: req.body.agent_id })));

    app.post('/v1/cases/:id/resolve', {
      attachValidation: true,
      schema: {
        tags, summary: 'Resolve a case, with a resolution code and an optional goodwill gesture',
        description: 'The goodwill gesture (points, a catalog reward such as a voucher, store credit) is given through the ledger, the catalog or the wallet with the case as its source; if it cannot be given the resolve fails as a whole (422). Emits `case.resolved`.',
        params: IdParams, body: ResolveBody, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => giftErrors('goodwill', (body as { goodwill?: Gift } | null)?.goodwill));
      return http.write(req, reply, { resource: 'case' }, (tx) => cases.resolve(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req), agentId: req.body.agent_id }));
    });

    app.post('/v1/cases/:id/close', {
      schema: {
        tags, summary: 'Close a resolved case, optionally sending the follow-up "Was your problem solved?"',
        description: 'With follow_up true the member gets the one-question follow-up survey (its invitation is stored on the case); a "no" reopens the case. Emits `case.closed`.',
        params: IdParams, body: CloseBody, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case' }, (tx) => cases.close(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req), agentId: req.body.agent_id })));

    app.post('/v1/cases/:id/reopen', {
      schema: {
        tags, summary: 'Reopen a resolved or closed case', description: 'A new resolution target from now. Emits `case.reopened`.',
        params: IdParams, body: ReopenBody, response: { 200: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case' }, (tx) => cases.reopen(tx, tenantOf(req).tenantId, req.params.id, req.body, { actor: actorOf(req), agentId: req.body.agent_id })));

    app.post('/v1/feedback', {
      schema: {
        tags, summary: 'Submit feedback (a feedback button): every submission opens a case',
        description: 'From a member (member_id or member_external_id) or anonymous (with an optional email to reply to). The priority rules see reason `feedback`, the member\'s tier, the touchpoint and the rating. Emits `case.opened`.',
        body: FeedbackBody, response: { 201: C, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'case', status: 201 }, (tx) => cases.feedback(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/case-settings', {
      schema: { tags, summary: 'The case settings (defaults filled in)', response: { 200: Type.Ref(CaseSettingsView), ...problems(401) } },
    }, (req) => cases.settings(db, tenantOf(req).tenantId));

    app.put('/v1/case-settings', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Replace the case settings',
        description: 'Open rules, priority rules (JSON Logic over reason, band, tier_code, channel, touchpoint, value), SLA targets per priority in business minutes, business hours, escalation, the default assignee. A field left out takes its default. New targets apply to cases opened from now on.',
        body: CaseSettingsBody, response: { 200: Type.Ref(CaseSettingsView), ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => cases.checkSettings(body));
      return http.write(req, reply, { resource: 'case_settings', resourceId: () => tenantOf(req).tenantId },
        (tx) => cases.putSettings(tx, tenantOf(req).tenantId, req.body as Partial<CaseSettings>));
    });
  };
}
