/**
 * Tenant administration. Operators (PATRON_OPERATOR_KEY) create and list
 * tenants; a tenant's admin key reads and updates its own tenant and manages
 * its API keys.
 */
import { Type } from '@sinclair/typebox';
import { recordAudit } from '../../platform/audit/audit.js';
import { errors } from '../../platform/errors.js';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, PageQuery, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { ApiKey, CreatedKey, CreatedTenant, CreateKeyBody, CreateTenantBody, Tenant, UpdateTenantBody } from './tenants.schema.js';
import type { ApiKeyRow, TenantsService } from './tenants.service.js';

const keyOut = (k: ApiKeyRow) => k;

export function tenantsRoutes(deps: { db: Db; tenants: TenantsService; http: HttpKit }) {
  const { db, tenants, http } = deps;
  return async function (app: HttpServer) {
    app.addSchema(Tenant);
    app.addSchema(ApiKey);

    app.post('/v1/tenants', {
      config: { auth: 'operator' },
      schema: { tags: ['tenants'], summary: 'Create a tenant (operator key)', body: CreateTenantBody, response: { 201: CreatedTenant, ...problems(400, 401, 403) } },
    }, async (req, reply) => {
      // Operator writes are not tenant-scoped, so they run their own transaction,
      // and are audited in the new tenant's log like every other write.
      const created = await db.tx(async (tx) => {
        const made = await tenants.createTenant(tx, req.body, { createdBy: 'operator' });
        await recordAudit(tx, {
          tenantId: made.tenant.id, actor: req.auth!.actor, action: `POST ${req.routeOptions.url}`, resourceType: 'tenant', resourceId: made.tenant.id,
          changedFields: Object.keys(req.body), requestId: String(req.id), occurredAt: made.tenant.created_at,
        });
        return made;
      });
      return reply.code(201).send({ tenant: created.tenant, api_key: created.apiKey });
    });

    app.get('/v1/tenants', {
      config: { auth: 'operator' },
      schema: { tags: ['tenants'], summary: 'List tenants (operator key)', querystring: Type.Object(PageQuery), response: { 200: Page(Type.Ref(Tenant)), ...problems(400, 401, 403) } },
    }, async (req) => {
      const after = decodeCursor(req.query.cursor, isIdCursor)?.id ?? null;
      const rows = await tenants.listTenants(db, after, req.query.limit + 1);
      return page(rows, req.query.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.get('/v1/tenant', {
      schema: { tags: ['tenants'], summary: "This key's tenant", response: { 200: Type.Ref(Tenant), ...problems(401) } },
    }, async (req) => {
      const t = await tenants.getTenant(db, tenantOf(req).tenantId);
      if (!t) throw errors.notFound('tenant');
      return t;
    });

    app.patch('/v1/tenant', {
      config: { auth: 'admin' },
      schema: { tags: ['tenants'], summary: "Update this key's tenant", body: UpdateTenantBody, response: { 200: Type.Ref(Tenant), ...problems(400, 401, 403, 409) } },
    }, (req, reply) => http.write(req, reply, { resource: 'tenant' }, (tx) => tenants.updateTenant(tx, tenantOf(req).tenantId, req.body)));

    app.get('/v1/api-keys', {
      config: { auth: 'admin' },
      schema: { tags: ['api keys'], summary: 'List API keys', querystring: Type.Object(PageQuery), response: { 200: Page(Type.Ref(ApiKey)), ...problems(400, 401, 403) } },
    }, async (req) => {
      const after = decodeCursor(req.query.cursor, isIdCursor)?.id ?? null;
      const rows = await tenants.listKeys(db, tenantOf(req).tenantId, after, req.query.limit + 1);
      return page(rows, req.query.limit, keyOut, (r) => ({ id: r.id }));
    });

    app.post('/v1/api-keys', {
      config: { auth: 'admin' },
      schema: { tags: ['api keys'], summary: 'Create an API key (the secret is shown once)', body: CreateKeyBody, response: { 201: CreatedKey, ...problems(400, 401, 403, 409) } },
    }, (req, reply) =>
      http.write(req, reply, { resource: 'api_key', status: 201 }, async (tx) => {
        const auth = tenantOf(req);
        const { key, row } = await tenants.createKey(tx, auth.tenantId, { name: req.body.name, scopes: req.body.scopes, createdBy: auth.keyId });
        return { ...row, key };
      }));

    app.delete('/v1/api-keys/:id', {
      config: { auth: 'admin' },
      schema: { tags: ['api keys'], summary: 'Revoke an API key', params: IdParams, response: { 200: Type.Ref(ApiKey), ...problems(401, 403, 404, 409) } },
    }, (req, reply) => http.write(req, reply, { resource: 'api_key', changedFields: ['revoked_at'] }, (tx) => tenants.revokeKey(tx, tenantOf(req).tenantId, req.params.id)));
  };
}
