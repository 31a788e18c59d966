/**
 * Authentication and scopes, decided per route by `config.auth`:
 *   'public'   no key (health, metrics, docs, public member links later);
 *   'read' | 'write' | 'admin'   a tenant API key with that scope (admin ⊇ write ⊇ read);
 *   'operator' the PATRON_OPERATOR_KEY (hosting many tenants).
 * Routes under /v1 default to 'read' for GET and 'write' otherwise.
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../audit/audit.js';
import { errors } from '../errors.js';

export type Scope = 'read' | 'write' | 'admin';
export type AuthPolicy = 'public' | Scope | 'operator';

export interface AuthContext {
  /** Null for operator requests, which name their tenant explicitly. */
  tenantId: string | null;
  keyId: string | null;
  scopes: Scope[];
  actor: Actor;
}

/** A tenant's request: the tenant is known. */
export interface TenantAuth extends AuthContext {
  tenantId: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthPolicy;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** Resolves a presented key (by its SHA-256) to its tenant and scopes; null when unknown or revoked. */
export type KeyResolver = (keyHash: Buffer) => Promise<{ tenantId: string; keyId: string; scopes: Scope[] } | null>;

export const hashKey = (key: string): Buffer => crypto.createHash('sha256').update(key, 'utf8').digest();

const SCOPE_RANK: Record<Scope, number> = { read: 1, write: 2, admin: 3 };

export const hasScope = (scopes: Scope[], needed: Scope): boolean => scopes.some((s) => SCOPE_RANK[s] >= SCOPE_RANK[needed]);

/** The policy of a route: its `config.auth`, else the default for its method and URL. */
export function routePolicy(method: string, url: string, configured: AuthPolicy | undefined): AuthPolicy {
  if (configured) return configured;
  if (!url.startsWith('/v1/')) return 'public';
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export function policyOf(request: FastifyRequest): AuthPolicy {
  return routePolicy(request.method, request.routeOptions.url ?? '', request.routeOptions.config?.auth);
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export function installAuth(app: FastifyInstance<any, any, any, any, any>, opts: { resolveKey: KeyResolver; operatorKey: string | undefined }): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const policy = policyOf(request);
    if (policy === 'public') return;
    const presented = bearer(request);
    if (!presented) throw errors.unauthorized();
    if (policy === 'operator') {
      if (!opts.operatorKey) throw errors.forbidden('Tenant management is disabled: set PATRON_OPERATOR_KEY to enable it.');
      if (!safeEqual(presented, opts.operatorKey)) throw errors.unauthorized('This route needs the operator key (PATRON_OPERATOR_KEY).');
      request.auth = { tenantId: null, keyId: null, scopes: [], actor: { type: 'operator', id: 'operator' } };
      return;
    }
    const key = await opts.resolveKey(hashKey(presented));
    if (!key) throw errors.unauthorized('The API key is unknown or revoked.');
    if (!hasScope(key.scopes, policy)) {
      throw errors.forbidden(`This route needs a key with the "${policy}" scope; this key has: ${key.scopes.join(', ')}.`);
    }
    request.auth = { tenantId: key.tenantId, keyId: key.keyId, scopes: key.scopes, actor: { type: 'api_key', id: key.keyId } };
  });
}

/** The authenticated tenant of a request (routes with a tenant key policy). */
export function tenantOf(request: FastifyRequest): TenantAuth {
  const auth = request.auth;
  if (!auth || !auth.tenantId) throw errors.unauthorized();
  return auth as TenantAuth;
}
