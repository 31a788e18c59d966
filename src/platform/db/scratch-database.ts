/**
 * A fresh, empty database on an existing PostgreSQL server, and a way to drop
 * it. The test runner, tests that need a database of their own (concurrent
 * migrations, imports) and the benchmarks all use it: "against an external
 * PostgreSQL the suite creates its own fresh database for each run".
 */
import crypto from 'node:crypto';
import pg from 'pg';

export interface ScratchDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates `<prefix>_<time>_<random>` on the server of `serverUrl`. */
export async function createScratchDatabase(serverUrl: string, prefix = 'patron_scratch'): Promise<ScratchDatabase> {
  const name = `${prefix.replace(/\W/g, '_').toLowerCase()}_${Date.now()}_${crypto.randomBytes(3).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    name,
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
