/**
 * Messaging over HTTP (docs/messaging.md): the tenant's messaging settings, the send log (all messages, one
 * member's, one message), the suppression list, and the bounce route for a mail provider's webhooks.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import {
  BounceBody, BounceResult, EmailParams, ListMessagesQuery, ListSuppressionsQuery, MemberMessagesQuery, Message, MessagingSettingsBody,
  MessagingSettingsView, Suppression, SuppressionBody,
} from './messaging.schema.js';
import type { MessagingService } from './messaging.service.js';
import { settingsErrors, type MessagingSettingsService, type SettingsPatch } from './messaging.settings.js';
import type { BounceResult as BounceOutcome, SuppressionsService, SuppressionView } from './messaging.suppressions.js';

type Added = { row: SuppressionView; created: boolean };

const isEmailCursor = (v: any): v is { email: string } => typeof v === 'object' && v !== null && typeof v.email === 'string' && v.email.length <= 320;

export function messagingRoutes(deps: { db: Db; messaging: MessagingService; settings: MessagingSettingsService; suppressions: SuppressionsService; http: HttpKit }) {
  const { db, messaging, settings, suppressions, http } = deps;
  const tags = ['messaging'];
  const M = Type.Ref(Message);
  const S = Type.Ref(Suppression);
  return async function (app: HttpServer) {
    app.addSchema(Message);
    app.addSchema(Suppression);
    app.addSchema(MessagingSettingsView);

    // ── Settings ────────────────────────────────────────────────────────────────
    app.get('/v1/messaging/settings', {
      config: { auth: 'admin' },
      schema: { tags, summary: 'The messaging settings: sender, rate limit, quiet hours, member portal', response: { 200: Type.Ref(MessagingSettingsView), ...problems(401, 403) } },
    }, (req) => settings.get(db, tenantOf(req).tenantId));

    app.patch('/v1/messaging/settings', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: {
        tags, summary: 'Change the messaging settings',
        description: 'Only the fields sent change. `quiet_hours: null` turns quiet hours off (the default is 21:00 to 09:00 in the member\'s time zone). Emits `messaging_settings.updated`.',
        body: MessagingSettingsBody, response: { 200: Type.Ref(MessagingSettingsView), ...problems(400, 401, 403, 409) },
      },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => (body && typeof body === 'object' ? settingsErrors(body as SettingsPatch) : []));
      return http.write(req, reply, { resource: 'messaging_settings', resourceId: () => null }, (tx) => settings.update(tx, tenantOf(req).tenantId, req.body));
    });

    // ── The send log ────────────────────────────────────────────────────────────
    app.get('/v1/messaging/messages', {
      schema: {
        tags, summary: 'The send log: every message, newest first',
        description: 'Filters: trigger, status, member_id, and the creation time (from inclusive, to exclusive).',
        querystring: ListMessagesQuery, response: { 200: Page(M), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await messaging.listMessages(db, tenantOf(req).tenantId, {
        memberId: q.member_id, trigger: q.trigger, status: q.status, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined,
        beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/messaging/messages/:id', {
      schema: { tags, summary: 'One message of the send log', params: IdParams, response: { 200: M, ...problems(400, 401, 404) } },
    }, (req) => messaging.getMessage(db, tenantOf(req).tenantId, req.params.id));

    app.get('/v1/members/:id/messages', {
      schema: {
        tags: ['messaging', 'members'], summary: "A member's send log, newest first",
        description: 'Every message meant for the member and what became of it (sent, suppressed and why, bounced …).',
        params: IdParams, querystring: MemberMessagesQuery, response: { 200: Page(M), ...problems(400, 401, 404) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await messaging.listMessages(db, tenantOf(req).tenantId, {
        memberId: req.params.id, trigger: q.trigger, status: q.status, from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined,
        beforeId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    // ── Suppressions and bounces ──────────────────────────────────────────────────
    app.get('/v1/messaging/suppressions', {
      schema: {
        tags, summary: 'Addresses Patron does not email, in address order',
        description: 'Hard bounces, complaints and addresses added by hand. A suppressed address gets no email at all, transactional included.',
        querystring: ListSuppressionsQuery, response: { 200: Page(S), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await suppressions.list(db, tenantOf(req).tenantId, { reason: q.reason, afterEmail: decodeCursor(q.cursor, isEmailCursor)?.email, limit: q.limit + 1 });
      return page(rows, q.limit, (r) => r, (r) => ({ email: r.email }));
    });

    app.post('/v1/messaging/suppressions', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Stop emailing an address',
        description: 'Reason `manual`. An address already listed keeps its first reason (200); a new one is a 201. Emits `email_suppression.added`.',
        body: SuppressionBody, response: { 200: S, 201: S, ...problems(400, 401, 403, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'email_suppression', statusOf: (r: Added) => (r.created ? 201 : 200), bodyOf: (r: Added) => r.row, storeAs: (r: Added) => r.row, resourceId: () => null },
      (tx) => suppressions.add(tx, tenantOf(req).tenantId, { email: req.body.email, reason: 'manual', detail: req.body.detail ?? null })));

    app.delete('/v1/messaging/suppressions/:email', {
      config: { auth: 'admin' },
      schema: {
        tags, summary: 'Email an address again',
        description: 'Removes the address from the list (whatever the reason). Emits `email_suppression.removed`. An address not on the list is a 404.',
        params: EmailParams, response: { 200: S, ...problems(400, 401, 403, 404, 409) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'email_suppression', resourceId: () => null }, (tx) => suppressions.remove(tx, tenantOf(req).tenantId, req.params.email)));

    app.post('/v1/messaging/bounces', {
      schema: {
        tags, summary: "Report a bounce or complaint (a mail provider's webhook)",
        description: 'hard and complaint: the address is suppressed and, with message_id, the message is marked bounced (`message.bounced`). soft: nothing changes (the next message is tried as usual). A message_id of another address is a 422.',
        body: BounceBody, response: { 200: BounceResult, ...problems(400, 401, 403, 404, 409, 422) },
      },
    }, (req, reply) => http.write(req, reply, { resource: 'message_bounce', resourceId: (r: BounceOutcome) => r.message?.id ?? null }, (tx) => suppressions.reportBounce(tx, tenantOf(req).tenantId, req.body)));
  };
}
