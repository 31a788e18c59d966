/**
 * Earn rules over HTTP (/v1/earn-rules): create, list, read, change (a new version), archive, and the versions of a
 * rule. Changing rules needs an admin key.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { CreateRuleBody, EarnRule, EarnRuleVersion, ListRulesQuery, UpdateRuleBody, VersionsQuery } from './rules.schema.js';
import type { RuleInput, RulePatch, RulesService } from './rules.service.js';


const isVersionCursor = (v: any): v is { version: number } => typeof v === 'object' && v !== null && Number.isInteger(v.version) && v.version >= 0;

export function rulesRoutes(deps: { db: Db; rules: RulesService; http: HttpKit }) {
  const { db, rules, http } = deps;
  const tags = ['earn rules'];
  const R = Type.Ref(EarnRule);
  return async function (app: HttpServer) {
    app.addSchema(EarnRule);
    app.addSchema(EarnRuleVersion);

    app.post('/v1/earn-rules', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: { tags, summary: 'Create an earn rule (version 1, in force since always)', body: CreateRuleBody, response: { 201: R, ...problems(400, 401, 403, 409) } },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => rules.checkCreate(body));
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'earn_rule', status: 201 }, (tx) => rules.create(tx, auth.tenantId, req.body as RuleInput, auth.keyId));
    });

    app.get('/v1/earn-rules', {
      schema: { tags, summary: 'List earn rules (current versions)', querystring: ListRulesQuery, response: { 200: Page(R), ...problems(400, 401) } },
    }, async (req) => {
      const q = req.query;
      const rows = await rules.list(db, tenantOf(req).tenantId, {
        kind: q.kind, event: q.event, include_archived: q.include_archived, afterId: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/earn-rules/:id', {
      schema: { tags, summary: 'Get an earn rule (its current version)', params: IdParams, response: { 200: R, ...problems(400, 401, 404) } },
    }, async (req) => rules.get(db, tenantOf(req).tenantId, req.params.id));

    app.patch('/v1/earn-rules/:id', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: { tags, summary: 'Change an earn rule: a new version, in force from now', params: IdParams, body: UpdateRuleBody, response: { 200: R, ...problems(400, 401, 403, 404, 409, 422) } },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => rules.checkPatch(body));
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'earn_rule' }, (tx) => rules.update(tx, auth.tenantId, req.params.id, req.body as RulePatch, auth.keyId));
    });

    app.delete('/v1/earn-rules/:id', {
      config: { auth: 'admin' },
      schema: { tags, summary: 'Archive an earn rule: it applies to nothing that occurs from now on', params: IdParams, response: { 200: R, ...problems(400, 401, 403, 404, 409) } },
    }, (req, reply) => {
      const auth = tenantOf(req);
      return http.write(req, reply, { resource: 'earn_rule', changedFields: ['archived_at'] }, (tx) => rules.archive(tx, auth.tenantId, req.params.id, auth.keyId));
    });

    app.get('/v1/earn-rules/:id/versions', {
      schema: { tags, summary: 'The versions of an earn rule and when each was in force, oldest first', params: IdParams, querystring: VersionsQuery, response: { 200: Page(Type.Ref(EarnRuleVersion)), ...problems(400, 401, 404) } },
    }, async (req) => {
      const after = decodeCursor(req.query.cursor, isVersionCursor)?.version;
      const rows = await rules.versions(db, tenantOf(req).tenantId, req.params.id, { afterVersion: after, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, (r) => r, (r) => ({ version: r.version }));
    });
  };
}
