/** SQL for tenants, api_keys and api_key_lookup. */
import type { Queryable } from '../../platform/db/db.js';
import type { Scope } from '../../platform/http/auth.js';

export interface TenantRow {
  id: string;
  name: string;
  default_currency: string;
  default_locale: string;
  time_zone: string;
  notification_email: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  created_at: Date;
  created_by: string | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const TENANT_COLS = 'id, name, default_currency, default_locale, time_zone, notification_email, created_at, updated_at';
const KEY_COLS = 'id, name, prefix, scopes, created_at, created_by, revoked_at, last_used_at';

export async function insertTenant(db: Queryable, t: Omit<TenantRow, 'updated_at'>): Promise<TenantRow> {
  const res = await db.query<TenantRow>(
    `INSERT INTO tenants (id, name, default_currency, default_locale, time_zone, notification_email, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (id) DO NOTHING
     RETURNING ${TENANT_COLS}`,
    [t.id, t.name, t.default_currency, t.default_locale, t.time_zone, t.notification_email, t.created_at],
  );
  return res.rows[0] ?? (await getTenant(db, t.id))!;
}

export async function getTenant(db: Queryable, id: string): Promise<TenantRow | null> {
  const res = await db.query<TenantRow>(`SELECT ${TENANT_COLS} FROM tenants WHERE id = $1`, [id]);
  return res.rows[0] ?? null;
}

export async function listTenants(db: Queryable, after: string | null, limit: number): Promise<TenantRow[]> {
  const res = await db.query<TenantRow>(
    `SELECT ${TENANT_COLS} FROM tenants WHERE ($1::uuid IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [after, limit],
  );
  return res.rows;
}

export async function allTenantIds(db: Queryable): Promise<string[]> {
  return (await db.query<{ id: string }>('SELECT id FROM tenants ORDER BY id')).rows.map((r) => r.id);
}

export async function updateTenant(db: Queryable, id: string, fields: Partial<Omit<TenantRow, 'id' | 'created_at' | 'updated_at'>>, at: Date): Promise<TenantRow | null> {
  const cols = Object.keys(fields) as Array<keyof typeof fields>;
  if (cols.length === 0) return getTenant(db, id);
  const sets = cols.map((c, i) => `${c} = $${i + 3}`).join(', ');
  const res = await db.query<TenantRow>(
    `UPDATE tenants SET ${sets}, updated_at = $2 WHERE id = $1 RETURNING ${TENANT_COLS}`,
    [id, at, ...cols.map((c) => fields[c])],
  );
  return res.rows[0] ?? null;
}

export async function insertKey(
  db: Queryable,
  k: { tenantId: string; id: string; name: string; prefix: string; hash: Buffer; scopes: Scope[]; createdAt: Date; createdBy: string | null },
): Promise<ApiKeyRow> {
  const res = await db.query<ApiKeyRow>(
    `INSERT INTO api_keys (tenant_id, id, name, prefix, key_hash, scopes, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING ${KEY_COLS}`,
    [k.tenantId, k.id, k.name, k.prefix, k.hash, k.scopes, k.createdAt, k.createdBy],
  );
  await db.query(`INSERT INTO api_key_lookup (key_hash, tenant_id, key_id) VALUES ($1, $2, $3)`, [k.hash, k.tenantId, k.id]);
  return res.rows[0]!;
}

export async function findKeyByHash(db: Queryable, hash: Buffer): Promise<(ApiKeyRow & { tenant_id: string }) | null> {
  const res = await db.query(
    `SELECT k.tenant_id, k.id, k.name, k.prefix, k.scopes, k.created_at, k.created_by, k.revoked_at, k.last_used_at
       FROM api_key_lookup l
       JOIN api_keys k ON k.tenant_id = l.tenant_id AND k.id = l.key_id
      WHERE l.key_hash = $1`,
    [hash],
  );
  return res.rows[0] ?? null;
}

export async function listKeys(db: Queryable, tenantId: string, after: string | null, limit: number): Promise<ApiKeyRow[]> {
  const res = await db.query<ApiKeyRow>(
    `SELECT ${KEY_COLS} FROM api_keys WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [tenantId, after, limit],
  );
  return res.rows;
}

export async function getKey(db: Queryable, tenantId: string, id: string): Promise<ApiKeyRow | null> {
  const res = await db.query<ApiKeyRow>(`SELECT ${KEY_COLS} FROM api_keys WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function setKeyRevoked(db: Queryable, tenantId: string, id: string, at: Date | null): Promise<ApiKeyRow | null> {
  const res = await db.query<ApiKeyRow>(
    `UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${KEY_COLS}`,
    [tenantId, id, at],
  );
  return res.rows[0] ?? null;
}

export async function setKeyScopes(db: Queryable, tenantId: string, id: string, scopes: Scope[]): Promise<void> {
  await db.query(`UPDATE api_keys SET scopes = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, scopes]);
}

/** Revokes every key that came from configuration (PATRON_API_KEY) except `keepId`. */
export async function revokeConfigKeysExcept(db: Queryable, tenantId: string, keepId: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND created_by = 'config' AND id <> $2 AND revoked_at IS NULL`,
    [tenantId, keepId, at],
  );
}

/** Records use, at most once a minute per key, so that reads do not all write. */
export async function touchKey(db: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await db.query(
    `UPDATE api_keys SET last_used_at = $3
      WHERE tenant_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3::timestamptz - interval '1 minute')`,
    [tenantId, id, at],
  );
}
