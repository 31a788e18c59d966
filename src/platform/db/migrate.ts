/**
 * Numbered SQL migrations (`migrations/0001_name.sql`, …) applied in order at
 * start, each in its own transaction, under a session advisory lock: when
 * several Patron processes start at once against one database, one migrates
 * and the others wait, then find nothing left to do.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/** Arbitrary constant: the advisory lock key that serialises migrations. */
const MIGRATION_LOCK_KEY = 727_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await fs.readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  const out: Migration[] = [];
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (out.some((m) => m.version === version)) throw new Error(`Two migrations share number ${version}: ${file}`);
    out.push({ version, name: file.replace(/\.sql$/, ''), sql: await fs.readFile(path.join(dir, file), 'utf8') });
  }
  return out;
}

export async function pendingMigrations(db: Db, dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const all = await readMigrations(dir);
  const exists = await db.query(`SELECT to_regclass('public.schema_migrations') AS t`);
  if (!exists.rows[0].t) return all;
  const done = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
  const applied = new Set(done.rows.map((r) => r.version));
  return all.filter((m) => !applied.has(m.version));
}

/** Applies every pending migration; returns the names applied by this call. */
export async function migrate(db: Db, dir = MIGRATIONS_DIR, log: (msg: string) => void = () => undefined): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const client = await db.pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer     PRIMARY KEY,
        name       text        NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`Migration ${m.name} failed: ${(err as Error).message}`);
      }
      applied.push(m.name);
      log(`applied migration ${m.name}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}
