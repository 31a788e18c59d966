/**
 * The PostgreSQL pool and transactions. Modules receive a `Tx` (a client inside
 * a transaction) or the `Db` itself for single-statement reads; they never
 * create pools of their own.
 */
import { finished, type Readable } from 'node:stream';
import pg from 'pg';
import QueryStream from 'pg-query-stream';

// int8 (bigint) arrives as a string by default; Patron's counts, points and
// money in minor units all fit in a JS number (2^53), so parse them.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
// `date` columns stay 'YYYY-MM-DD' strings: a birth date has no time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
// numeric stays a string unless a module converts it deliberately.

/**
 * SQL text of `col` (a timestamptz) as ISO 8601 in UTC with only the fraction it has (an export's timestamps compare
 * equal when imported back); for streamed exports, where rows are written as they come.
 */
export const isoUtcSql = (col: string): string => `regexp_replace(to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '\\.?0+$', '') || 'Z'`;

/**
 * A statement prepared once per connection and then only bound and executed: PostgreSQL skips parsing and planning
 * it again. For the statements of the hot write paths (an order, a redemption); make one with `prepared()`.
 */
export interface PreparedStatement {
  name: string;
  text: string;
}

const preparedNames = new Set<string>();

/** Declares a prepared statement; the name must be unique in the process. */
export function prepared(name: string, text: string): PreparedStatement {
  if (preparedNames.has(name)) throw new Error(`prepared statement ${name} is declared twice`);
  preparedNames.add(name);
  return { name, text };
}

/** Anything that runs a parameterised query: the pool or a client in a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string | PreparedStatement, values?: unknown[]): Promise<pg.QueryResult<R>>;
}
/** A client inside an open transaction. */
export type Tx = pg.PoolClient;

export interface DbOptions {
  connectionString: string;
  max: number;
  applicationName?: string;
}

export class Db {
  readonly pool: pg.Pool;

  constructor(opts: DbOptions) {
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max,
      application_name: opts.applicationName ?? 'patron',
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // An idle client that loses its connection must not crash the process.
    this.pool.on('error', () => undefined);
    // Neither must a checked-out one (server restart, pg_terminate_backend):
    // the pool listens only while a client is idle, so the 'error' would be
    // unhandled. Whoever holds the client sees the error on its running query
    // or stream, and the pool drops the dead client when it is released.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  query<R extends pg.QueryResultRow = any>(text: string | PreparedStatement, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (typeof text !== 'string') return this.pool.query<R>({ name: text.name, text: text.text, values: values as any[] });
    return this.pool.query<R>(text, values as any[]);
  }

  /** Runs `fn` in one transaction: commit on success, roll back on any error. */
  async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * Rows of one query as an object stream, read through a cursor `batchSize` rows at a time (exports of any size in
   * bounded memory). The stream holds its own connection and gives it back when it ends, fails or is destroyed;
   * after an error or an abort the cursor may still be open on it, so it is then not reused.
   */
  async stream(sql: string, values: unknown[], batchSize = 1000): Promise<Readable> {
    const client = await this.pool.connect();
    let released = false;
    const release = (err?: Error | null) => {
      if (released) return;
      released = true;
      client.release(err ? err : undefined);
    };
    let rows: Readable;
    try {
      rows = client.query(new QueryStream(sql, values as any[], { batchSize }));
    } catch (err) {
      release(err as Error);
      throw err;
    }
    finished(rows, (err) => release(err));
    return rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Runs `fn` inside a savepoint of `tx`, rolling back only its own work on error. */
export async function withSavepoint<T>(tx: Tx, fn: () => Promise<T>): Promise<T> {
  await tx.query('SAVEPOINT patron_sp');
  try {
    const result = await fn();
    await tx.query('RELEASE SAVEPOINT patron_sp');
    return result;
  } catch (err) {
    // ROLLBACK TO keeps the savepoint: release it too, or a later savepoint of the same name would roll back to it.
    await tx.query('ROLLBACK TO SAVEPOINT patron_sp');
    await tx.query('RELEASE SAVEPOINT patron_sp');
    throw err;
  }
}
