/**
 * The global tables: the only tables without a tenant_id. When Patron is
 * distributed with Citus they become reference tables (copied to every node);
 * every other table is distributed by tenant_id. test/schema-rules.test.ts
 * fails when a table without tenant_id is missing here, or when a tenant table
 * breaks the distribution rules.
 */
export const REFERENCE_TABLES = [
  'schema_migrations', // the migration runner's bookkeeping
  'tenants',
  'api_key_lookup', // API key hash -> tenant, read before the tenant is known
] as const;

/**
 * Reference tables that resolve a global value (an API key hash, later a
 * public token) to its tenant before the tenant is known. They carry tenant_id
 * as data (a foreign key to tenants), not as their distribution column; every
 * other reference table has no tenant_id.
 */
export const TENANT_LOOKUP_TABLES: readonly string[] = ['api_key_lookup'];

/** Schemas owned by libraries (the job queue), global as a whole. */
export const REFERENCE_SCHEMAS = ['pgboss'] as const;
