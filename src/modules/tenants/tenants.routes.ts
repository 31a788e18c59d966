/**
 * Tenant administration. Operators (PATRON_OPERATOR_KEY) create and list
 * tenants; a tenant's admin key reads and updates its own tenant and manages
 * its API keys.
 */
import { Type } from '@sinclair/typebox';
import crypto from 'node:crypto';
import { recordAudit } from '../../platform/audit/audit.js';
import { assertSameRequest, claimKey, jsonBodyDigest, requestHash, storeAnswer } from '../../platform/idempotency/idempotency.js';
import { idempotencyKeyOf } from '../../platform/http/write.js';
import { errors } from '../../platform/errors.js';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { decodeCursor, isIdCursor, page } from '../../platform/http/pagination.js';
import { IdParams, Page, PageQuery, problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { ApiKey, CreatedKey, CreatedTenant, CreateKeyBody, CreateTenantBody, Tenant, UpdateTenantBody } from './tenants.schema.js';
import type { ApiKeyRow, TenantsService } from './tenants.service.js';


/** The id of the tenant an operator's Idempotency-Key creates: a UUID (version 8) from the key's SHA-256. */
function tenantIdForOperatorKey(key: string): string {
  const h = crypto.createHash('sha256').update(`patron:operator-tenant:${key}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

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
      // and are audited in the new tenant's log like every other write. With an
      // Idempotency-Key there is no tenant yet to keep the key under: the key
      // itself names the tenant it creates (a UUID derived from it), so a retry
      // finds that tenant's stored answer.
      const key = idempotencyKeyOf(req);
      const tenantId = key === undefined ? undefined : tenantIdForOperatorKey(key);
      const hash = requestHash(req.method, req.url, jsonBodyDigest(req.body));
      const outcome = await db.tx(async (tx) => {
        if (key !== undefined && tenantId !== undefined) {
          const stored = await claimKey(tx, tenantId, key);
          if (stored) {
            assertSameRequest(stored, hash, key);
            return { replayed: true, body: stored.body };
          }
        }
        const made = await tenants.createTenant(tx, req.body, { id: tenantId, createdBy: 'operator' });
        await recordAudit(tx, {
          tenantId: made.tenant.id, actor: req.auth!.actor, action: `POST ${req.routeOptions.url}`, resourceType: 'tenant', resourceId: made.tenant.id,
          changedFields: Object.keys(req.body), requestId: String(req.id), occurredAt: made.tenant.created_at,
        });
        const body = { tenant: made.tenant, api_key: made.apiKey };
        if (key !== undefined) {
          // The key is shown once: a replay answers with `api_key: null`.
          await storeAnswer(tx, { tenantId: made.tenant.id, key, requestHash: hash, method: req.method, path: req.url, statusCode: 201, body: { ...body, api_key: null }, at: made.tenant.created_at });
        }
        return { replayed: false, body };
      });
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(outcome.body);
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
      return page(rows, req.query.limit, (r) => r, (r) => ({ id: r.id }));
    });

    app.post('/v1/api-keys', {
      config: { auth: 'admin' },
      schema: { tags: ['api keys'], summary: 'Create an API key (the secret is shown once)', body: CreateKeyBody, response: { 201: CreatedKey, ...problems(400, 401, 403, 409) } },
    }, (req, reply) =>
      // The secret is shown once: a replay of this request answers with `key: null`.
      http.write(req, reply, { resource: 'api_key', status: 201, storeAs: (created: ApiKeyRow & { key: string }) => ({ ...created, key: null }) }, async (tx) => {
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
