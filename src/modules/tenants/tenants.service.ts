/**
 * Tenants and their API keys. A key is random, shown once, stored as a
 * SHA-256 hash, scoped (read, write, admin), revocable, and remembers when it
 * was last used (at most once a minute).
 */
import crypto from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { hashKey, type KeyResolver, type Scope } from '../../platform/http/auth.js';
import { newId } from '../../platform/ids.js';
import { isTimeZone } from '../../platform/dates.js';
import { LOCALES } from '../../platform/http/schema.js';
import { emit } from '../../platform/outbox/outbox.js';
import { notify, type Notifications } from '../../platform/db/notifications.js';
import { TenantConfig } from '../../platform/db/tenant-cache.js';
import * as store from './tenants.store.js';

export type { ApiKeyRow, TenantRow } from './tenants.store.js';

/** The tenant that PATRON_API_KEY belongs to. */
export const DEFAULT_TENANT_ID = '00000000-0000-7000-8000-000000000001';

export interface TenantInput {
  name: string;
  default_currency?: string;
  default_locale?: string;
  time_zone?: string;
  notification_email?: string | null;
}

const SUPPORTED_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));


/**
 * The rules of tenant fields, for every way in (HTTP, where the schema checks
 * types first, and the CLI, where nothing else does).
 */
export function validateTenantFields(input: Partial<TenantInput>): FieldError[] {
  const errs: FieldError[] = [];
  if (input.name !== undefined && (typeof input.name !== 'string' || input.name.trim().length === 0 || input.name.length > 200 || /[\u0000-\u001f]/.test(input.name))) {
    errs.push({ field: 'name', detail: 'must be 1 to 200 characters without control characters' });
  }
  if (input.default_locale !== undefined && !(LOCALES as readonly string[]).includes(input.default_locale)) {
    errs.push({ field: 'default_locale', detail: `must be one of: ${LOCALES.join(', ')}` });
  }
  if (input.default_currency !== undefined && !SUPPORTED_CURRENCIES.has(input.default_currency)) {
    errs.push({ field: 'default_currency', detail: 'must be an ISO 4217 currency code such as EUR or BGN' });
  }
  if (input.time_zone !== undefined && !isTimeZone(input.time_zone)) {
    errs.push({ field: 'time_zone', detail: 'must be an IANA time zone such as Europe/Sofia' });
  }
  return errs;
}

/** A new random key: `ptr_` and 43 characters of base64url (256 bits). */
export function generateKey(): string {
  return `ptr_${crypto.randomBytes(32).toString('base64url')}`;
}

/** Channel on which a change to any API key (revocation, scopes) is announced to every Patron process. */
export const API_KEYS_CHANNEL = 'patron_api_keys';

interface CachedKey {
  resolved: { tenantId: string; keyId: string; scopes: Scope[] };
  lastUsedAt: number;
}

/** Most keys a process keeps resolved; beyond, the cache starts afresh (keys are few, presented ones fewer). */
const KEY_CACHE_SIZE = 10_000;

export class TenantsService {
  /**
   * Resolved API keys by hash, so a request does not look its key up in the database. Only while `notifications`
   * is listening: a revocation anywhere announces itself on API_KEYS_CHANNEL and every process drops the cache.
   */
  private readonly keyCache = new Map<string, CachedKey>();

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly notifications: Notifications | null = null,
    private readonly config: TenantConfig = new TenantConfig(null),
  ) {
    notifications?.on(API_KEYS_CHANNEL, () => this.keyCache.clear());
  }

  async createTenant(tx: Queryable, input: TenantInput, opts: { id?: string; createdBy?: string | null } = {}): Promise<{ tenant: store.TenantRow; apiKey: string; keyId: string }> {
    const errs = validateTenantFields(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.clock.now();
    const tenant = await store.insertTenant(tx, {
      id: opts.id ?? newId(),
      name: input.name,
      default_currency: input.default_currency ?? 'EUR',
      default_locale: input.default_locale ?? 'en',
      time_zone: input.time_zone ?? 'UTC',
      notification_email: input.notification_email ?? null,
      created_at: now,
    });
    // tenant.created first, so the initial key's api_key.created follows the tenant it belongs to.
    await emit(tx, { tenantId: tenant.id, type: 'tenant.created', aggregateType: 'tenant', aggregateId: tenant.id, payload: { tenant_id: tenant.id, name: tenant.name }, occurredAt: now });
    const { key, row } = await this.createKey(tx, tenant.id, { name: 'Initial admin key', scopes: ['admin'], createdBy: opts.createdBy ?? null });
    return { tenant, apiKey: key, keyId: row.id };
  }

  getTenant(db: Queryable, id: string) {
    return store.getTenant(db, id);
  }

  listTenants(db: Queryable, after: string | null, limit: number) {
    return store.listTenants(db, after, limit);
  }

  allTenantIds(): Promise<string[]> {
    return store.allTenantIds(this.db);
  }

  async updateTenant(tx: Queryable, id: string, fields: Partial<TenantInput>): Promise<store.TenantRow> {
    const errs = validateTenantFields(fields);
    if (errs.length) throw errors.validation(errs);
    const row = await store.updateTenant(tx, id, fields, this.clock.now());
    // The zone and currency are part of the configuration other modules cache.
    await this.config.changed(tx, id);
    if (!row) throw errors.notFound('tenant', id);
    await emit(tx, { tenantId: id, type: 'tenant.updated', aggregateType: 'tenant', aggregateId: id, payload: { changed_fields: Object.keys(fields) }, occurredAt: this.clock.now() });
    return row;
  }

  async createKey(tx: Queryable, tenantId: string, input: { name: string; scopes: Scope[]; createdBy: string | null }): Promise<{ key: string; row: store.ApiKeyRow }> {
    const key = generateKey();
    const row = await store.insertKey(tx, {
      tenantId, id: newId(), name: input.name, prefix: key.slice(0, 10), hash: hashKey(key),
      scopes: [...new Set(input.scopes)], createdAt: this.clock.now(), createdBy: input.createdBy,
    });
    // Never the key nor its prefix: the event goes to webhooks.
    await emit(tx, { tenantId, type: 'api_key.created', aggregateType: 'api_key', aggregateId: row.id, payload: { key_id: row.id, name: row.name, scopes: row.scopes, created_by: row.created_by }, occurredAt: row.created_at });
    return { key, row };
  }

  listKeys(db: Queryable, tenantId: string, after: string | null, limit: number) {
    return store.listKeys(db, tenantId, after, limit);
  }

  async revokeKey(tx: Queryable, tenantId: string, id: string): Promise<store.ApiKeyRow> {
    const existing = await store.getKey(tx, tenantId, id);
    if (!existing) throw errors.notFound('API key', id);
    if (existing.revoked_at) return existing;
    await notify(tx, API_KEYS_CHANNEL);
    const now = this.clock.now();
    const revoked = (await store.setKeyRevoked(tx, tenantId, id, now))!;
    await emit(tx, { tenantId, type: 'api_key.revoked', aggregateType: 'api_key', aggregateId: id, payload: { key_id: id, name: revoked.name }, occurredAt: now });
    return revoked;
  }

  /**
   * Makes sure the default tenant exists and has `key` with admin scope (the
   * PATRON_API_KEY), so scripts can talk to Patron without reading its output.
   */
  async ensureConfiguredKey(key: string): Promise<void> {
    await this.db.tx(async (tx) => {
      // Serialise concurrent starts of several processes.
      await tx.query('SELECT pg_advisory_xact_lock(727002)');
      const now = this.clock.now();
      if (!(await store.getTenant(tx, DEFAULT_TENANT_ID))) {
        await store.insertTenant(tx, { id: DEFAULT_TENANT_ID, name: 'Default', default_currency: 'EUR', default_locale: 'en', time_zone: 'UTC', notification_email: null, created_at: now });
      }
      const hash = hashKey(key);
      const found = await store.findKeyByHash(tx, hash);
      if (found && found.tenant_id !== DEFAULT_TENANT_ID) {
        throw new Error('PATRON_API_KEY is already a key of another tenant; choose another value.');
      }
      let keepId: string;
      if (!found) {
        keepId = newId();
        await store.insertKey(tx, { tenantId: DEFAULT_TENANT_ID, id: keepId, name: 'PATRON_API_KEY', prefix: key.slice(0, 10), hash, scopes: ['admin'], createdAt: now, createdBy: 'config' });
      } else {
        keepId = found.id;
        if (found.revoked_at) await store.setKeyRevoked(tx, DEFAULT_TENANT_ID, found.id, null);
        if (!found.scopes.includes('admin')) await store.setKeyScopes(tx, DEFAULT_TENANT_ID, found.id, ['admin']);
      }
      // Changing PATRON_API_KEY rotates it: the earlier configured value stops working.
      await store.revokeConfigKeysExcept(tx, DEFAULT_TENANT_ID, keepId, now);
      await notify(tx, API_KEYS_CHANNEL);
    });
  }

  /** For the auth hook: the key's tenant and scopes, or null when unknown or revoked. */
  readonly resolveKey: KeyResolver = async (hash) => {
    const now = this.clock.now().getTime();
    const caching = this.notifications?.listening === true;
    const hex = hash.toString('hex');
    const cached = caching ? this.keyCache.get(hex) : undefined;
    if (cached && now - cached.lastUsedAt <= 60_000) return cached.resolved;
    const found = await store.findKeyByHash(this.db, hash);
    if (!found || found.revoked_at) {
      this.keyCache.delete(hex);
      return null;
    }
    if (!found.last_used_at || now - found.last_used_at.getTime() > 60_000) {
      // At most once a minute per key, so the cost is negligible.
      await store.touchKey(this.db, found.tenant_id, found.id, new Date(now));
    }
    const resolved = { tenantId: found.tenant_id, keyId: found.id, scopes: found.scopes };
    if (caching) {
      if (this.keyCache.size >= KEY_CACHE_SIZE) this.keyCache.clear();
      // Looked up again after a minute at most: last_used_at stays right, and so does a key read meanwhile.
      this.keyCache.set(hex, { resolved, lastUsedAt: Math.max(now, found.last_used_at?.getTime() ?? 0) });
    }
    return resolved;
  };
}
