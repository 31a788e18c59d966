/**
 * The schema stays distributable by tenant (Citus): read the catalog of the
 * migrated database and fail on any table that breaks the house rules
 * (docs/conventions.md, migrations/0001_foundation.sql):
 *
 *  - a table without tenant_id is a reference table, listed in
 *    src/platform/db/reference-tables.ts, and a listed one has no tenant_id
 *    (except the tenant lookups, which resolve a global value to its tenant);
 *  - tenant_id is `uuid NOT NULL`;
 *  - tenant_id is the FIRST column of every primary key, unique constraint and
 *    index of a tenant table (expression and partial indexes included);
 *  - foreign keys between tenant tables are composite, tenant_id in the same
 *    position on both sides;
 *  - no ON DELETE SET NULL / SET DEFAULT, no ON UPDATE CASCADE / SET NULL / SET DEFAULT;
 *  - a reference table never references a tenant table.
 *
 * A self-check builds bad tables in a throw-away schema (rolled back) and
 * proves the checker flags each of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { REFERENCE_SCHEMAS, REFERENCE_TABLES, TENANT_LOOKUP_TABLES } from '../src/platform/db/reference-tables.js';

interface Lists {
  referenceTables: readonly string[];
  tenantLookups: readonly string[];
}

interface Violation {
  table: string;
  rule: string;
  detail: string;
}

/** Every violation of the rules in `schema`. Reads only the catalog. */
async function checkSchema(db: pg.ClientBase, schema: string, lists: Lists): Promise<Violation[]> {
  const out: Violation[] = [];
  const add = (table: string, rule: string, detail: string) => out.push({ table, rule, detail });
  const refs = new Set(lists.referenceTables);
  const lookups = new Set(lists.tenantLookups);

  // Ordinary and partitioned tables, with their tenant_id column if any.
  const tables = (
    await db.query<{ oid: number; name: string; tid_attnum: number | null; tid_type: string | null; tid_notnull: boolean | null }>(
      `SELECT c.oid::int AS oid, c.relname AS name, a.attnum::int AS tid_attnum,
              format_type(a.atttypid, a.atttypmod) AS tid_type, a.attnotnull AS tid_notnull
         FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        ORDER BY c.relname`,
      [schema],
    )
  ).rows;
  const byOid = new Map(tables.map((t) => [t.oid, t]));
  const isTenant = (oid: number) => byOid.get(oid)?.tid_attnum != null && !refs.has(byOid.get(oid)!.name);

  for (const t of tables) {
    const listed = refs.has(t.name);
    if (t.tid_attnum == null && !listed) add(t.name, 'no_tenant_id', 'has no tenant_id and is not listed in REFERENCE_TABLES');
    if (t.tid_attnum != null && listed && !lookups.has(t.name)) add(t.name, 'reference_with_tenant_id', 'is listed in REFERENCE_TABLES but has a tenant_id');
    if (t.tid_attnum != null && !listed) {
      if (t.tid_type !== 'uuid') add(t.name, 'tenant_id_type', `tenant_id is ${t.tid_type}, not uuid`);
      if (!t.tid_notnull) add(t.name, 'tenant_id_nullable', 'tenant_id is nullable');
    }
  }
  for (const name of refs) {
    if (!tables.some((t) => t.name === name)) add(name, 'reference_missing', 'is listed in REFERENCE_TABLES but does not exist');
  }

  // Every index (primary keys and unique constraints are indexes too): the
  // first key column must be tenant_id; indkey[0] = 0 means an expression.
  const indexes = (
    await db.query<{ table_oid: number; index: string; first: number; kind: string; def: string }>(
      `SELECT i.indrelid::int AS table_oid, ic.relname AS index, i.indkey[0]::int AS first,
              CASE WHEN i.indisprimary THEN 'primary key' WHEN i.indisunique THEN 'unique index' ELSE 'index' END AS kind,
              pg_get_indexdef(i.indexrelid) AS def
         FROM pg_index i
         JOIN pg_class ic ON ic.oid = i.indexrelid
         JOIN pg_class tc ON tc.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = tc.relnamespace
        WHERE n.nspname = $1`,
      [schema],
    )
  ).rows;
  for (const ix of indexes) {
    const t = byOid.get(ix.table_oid);
    if (!t || !isTenant(ix.table_oid)) continue;
    if (ix.first !== t.tid_attnum) add(t.name, 'index_not_led_by_tenant_id', `${ix.kind} ${ix.index} does not start with tenant_id: ${ix.def}`);
  }

  // Foreign keys leaving a table of this schema.
  const fks = (
    await db.query<{ name: string; from_oid: number; to_oid: number; to_name: string; conkey: number[]; confkey: number[]; upd: string; del: string }>(
      `SELECT con.conname AS name, con.conrelid::int AS from_oid, con.confrelid::int AS to_oid, tc.relname AS to_name,
              con.conkey::int[] AS conkey, con.confkey::int[] AS confkey, con.confupdtype AS upd, con.confdeltype AS del
         FROM pg_constraint con
         JOIN pg_class fc ON fc.oid = con.conrelid
         JOIN pg_namespace n ON n.oid = fc.relnamespace
         JOIN pg_class tc ON tc.oid = con.confrelid
        WHERE con.contype = 'f' AND n.nspname = $1`,
      [schema],
    )
  ).rows;
  const ACTION: Record<string, string> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };
  for (const fk of fks) {
    const from = byOid.get(fk.from_oid);
    if (!from) continue;
    const to = byOid.get(fk.to_oid);
    if (fk.del === 'n' || fk.del === 'd') add(from.name, 'fk_on_delete', `${fk.name} uses ON DELETE ${ACTION[fk.del]}`);
    if (fk.upd === 'c' || fk.upd === 'n' || fk.upd === 'd') add(from.name, 'fk_on_update', `${fk.name} uses ON UPDATE ${ACTION[fk.upd]}`);
    const fromTenant = isTenant(fk.from_oid);
    const toTenant = to ? isTenant(fk.to_oid) : false;
    if (!to && fromTenant) {
      // A table of another schema: only the reference schemas are global.
      add(from.name, 'fk_outside_schema', `${fk.name} references ${fk.to_name} outside ${schema}`);
    }
    if (!fromTenant && toTenant) add(from.name, 'reference_references_tenant', `${fk.name}: a reference table references the tenant table ${fk.to_name}`);
    if (fromTenant && toTenant) {
      const i = fk.conkey.indexOf(from.tid_attnum!);
      const j = fk.confkey.indexOf(to!.tid_attnum!);
      if (fk.conkey.length < 2 || i < 0 || j < 0 || i !== j) {
        add(from.name, 'fk_not_composite', `${fk.name} -> ${fk.to_name} must be composite with tenant_id in the same position on both sides`);
      }
    }
  }
  return out;
}

let client: pg.Client;
before(async () => {
  client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
});
after(() => client.end());

const LISTS: Lists = { referenceTables: REFERENCE_TABLES, tenantLookups: TENANT_LOOKUP_TABLES };

describe('schema rules (distributable by tenant_id)', () => {
  test('the migrated public schema follows every rule', async () => {
    const tables = await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`);
    assert.ok(tables.rows[0].n >= 10, 'the migrations have been applied');
    const violations = await checkSchema(client, 'public', LISTS);
    assert.deepEqual(violations, [], violations.map((v) => `${v.table}: ${v.detail}`).join('\n'));
  });

  test('the tenant lookups are reference tables whose tenant_id points at tenants', async () => {
    for (const name of TENANT_LOOKUP_TABLES) {
      assert.ok((REFERENCE_TABLES as readonly string[]).includes(name), `${name} is listed as a reference table`);
      const fk = await client.query(
        `SELECT 1 FROM pg_constraint con JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = ALL (con.conkey)
          WHERE con.contype = 'f' AND con.conrelid = $1::regclass AND con.confrelid = 'tenants'::regclass AND a.attname = 'tenant_id'`,
        [`public.${name}`],
      );
      assert.equal(fk.rowCount, 1, `${name}.tenant_id references tenants`);
    }
  });

  test('the job queue lives in its own reference schema, never in public', async () => {
    assert.deepEqual([...REFERENCE_SCHEMAS], ['pgboss']);
    const leaked = await client.query(`SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND relname IN ('job', 'schedule', 'queue', 'archive')`);
    assert.deepEqual(leaked.rows, []);
  });

  test('self-check: the checker flags each kind of bad table', async () => {
    const schema = `rules_selfcheck_${process.pid}`;
    await client.query('BEGIN');
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      await client.query(`SET LOCAL search_path = ${schema}`);
      await client.query(`
        CREATE TABLE tenants (id uuid PRIMARY KEY);
        CREATE TABLE lookup_ok (token text PRIMARY KEY, tenant_id uuid NOT NULL REFERENCES tenants (id));
        CREATE TABLE ref_with_tenant (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
        CREATE TABLE good (tenant_id uuid NOT NULL REFERENCES tenants (id), id uuid NOT NULL, name text, parent_id uuid,
                           PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, name));
        CREATE INDEX good_lower ON good (tenant_id, lower(name)) WHERE name IS NOT NULL;
        CREATE TABLE no_tenant (id uuid PRIMARY KEY);
        CREATE TABLE text_tenant (tenant_id text NOT NULL, id uuid NOT NULL, PRIMARY KEY (tenant_id, id));
        CREATE TABLE nullable_tenant (tenant_id uuid, id uuid NOT NULL, UNIQUE (tenant_id, id));
        CREATE TABLE pk_order (tenant_id uuid NOT NULL, id uuid NOT NULL, PRIMARY KEY (id, tenant_id));
        CREATE UNIQUE INDEX pk_order_id ON pk_order (id);
        CREATE TABLE unique_order (tenant_id uuid NOT NULL, id uuid NOT NULL, code text, PRIMARY KEY (tenant_id, id), UNIQUE (code));
        CREATE TABLE bad_indexes (tenant_id uuid NOT NULL, id uuid NOT NULL, name text, PRIMARY KEY (tenant_id, id));
        CREATE INDEX bad_expression ON bad_indexes (lower(name), tenant_id);
        CREATE INDEX bad_partial ON bad_indexes (name) WHERE tenant_id IS NOT NULL;
        CREATE INDEX bad_second ON bad_indexes (name, tenant_id);
        CREATE TABLE single_fk (tenant_id uuid NOT NULL, id uuid NOT NULL, good_id uuid REFERENCES pk_order (id), PRIMARY KEY (tenant_id, id));
        CREATE TABLE swapped_fk (tenant_id uuid NOT NULL, id uuid NOT NULL, good_id uuid NOT NULL, PRIMARY KEY (tenant_id, id),
                                 FOREIGN KEY (tenant_id, good_id) REFERENCES good (id, tenant_id));
        CREATE TABLE set_null_fk (tenant_id uuid NOT NULL, id uuid NOT NULL, good_id uuid, PRIMARY KEY (tenant_id, id),
                                  FOREIGN KEY (tenant_id, good_id) REFERENCES good (tenant_id, id) ON DELETE SET NULL);
        CREATE TABLE cascade_update_fk (tenant_id uuid NOT NULL, id uuid NOT NULL, good_id uuid, PRIMARY KEY (tenant_id, id),
                                        FOREIGN KEY (tenant_id, good_id) REFERENCES good (tenant_id, id) ON UPDATE CASCADE);
        CREATE TABLE ref_to_tenant (id uuid PRIMARY KEY, t uuid, g uuid, FOREIGN KEY (t, g) REFERENCES good (tenant_id, id));
        CREATE TABLE child_ok (tenant_id uuid NOT NULL, id uuid NOT NULL, good_id uuid NOT NULL, PRIMARY KEY (tenant_id, id),
                               FOREIGN KEY (tenant_id, good_id) REFERENCES good (tenant_id, id) ON DELETE CASCADE);
      `);
      // pk_order needs a unique (id) for single_fk; that index is itself a violation.
      const violations = await checkSchema(client, schema, {
        referenceTables: ['tenants', 'lookup_ok', 'ref_with_tenant', 'ref_to_tenant', 'listed_but_missing'],
        tenantLookups: ['lookup_ok'],
      });
      const got = new Set(violations.map((v) => `${v.table}:${v.rule}`));
      const expected = [
        'no_tenant:no_tenant_id',
        'ref_with_tenant:reference_with_tenant_id',
        'listed_but_missing:reference_missing',
        'text_tenant:tenant_id_type',
        'nullable_tenant:tenant_id_nullable',
        'pk_order:index_not_led_by_tenant_id',
        'unique_order:index_not_led_by_tenant_id',
        'bad_indexes:index_not_led_by_tenant_id',
        'single_fk:fk_not_composite',
        'swapped_fk:fk_not_composite',
        'set_null_fk:fk_on_delete',
        'cascade_update_fk:fk_on_update',
        'ref_to_tenant:reference_references_tenant',
      ];
      for (const e of expected) assert.ok(got.has(e), `expected ${e} among:\n${[...got].join('\n')}`);
      // Each bad index is named, the expression and the partial one included.
      const badIndexes = violations.filter((v) => v.table === 'bad_indexes').map((v) => v.detail).join('\n');
      for (const ix of ['bad_expression', 'bad_partial', 'bad_second']) assert.match(badIndexes, new RegExp(ix));
      // The good tables, the lookup and a composite cascading FK pass.
      for (const ok of ['tenants', 'lookup_ok', 'good', 'child_ok']) {
        assert.deepEqual(violations.filter((v) => v.table === ok), [], `${ok} follows the rules`);
      }
      assert.equal(violations.filter((v) => v.table === 'pk_order').length, 2, 'the primary key and the unique (id) of pk_order');
    } finally {
      await client.query('ROLLBACK');
    }
  });
});
