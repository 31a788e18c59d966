/**
 * What the benchmarks' SQL generators share (ledger-fill.ts, orders-fill.ts): a session of connections tuned for
 * bulk loading, statements run on two connections at once, the secondary indexes of the filled tables dropped
 * before and rebuilt after from their own definitions, VACUUM ANALYZE, and the members every fill starts from.
 *
 * A superuser skips foreign-key triggers (session_replication_role = replica): the rows are consistent by
 * construction. Primary keys stay. A freshly built index is denser than one grown by inserts, which favours the
 * filled tables slightly; docs/benchmarks.md says so.
 */
import pg from 'pg';

export type Task = (c: pg.Client) => Promise<unknown>;

/** UUID v7 text from a millisecond expression and a 32-hex-digit random expression (SQL). */
export const v7 = (ms: string, hex: string): string =>
  `(lpad(to_hex((${ms})::bigint), 12, '0') || '7' || substr(${hex}, 1, 3) || '8' || substr(${hex}, 4, 15))::uuid`;

export const secondsSince = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e9;

export interface FillSession {
  client: pg.Client;
  superuser: boolean;
  /** Runs the statements on the workers, each taking the next when done; `done(n)` after each. */
  inParallel(tasks: Task[], done: (finished: number) => void): Promise<void>;
  /** Drops the secondary indexes of `tables` (not primary keys or constraint indexes); returns what rebuilds them. */
  dropIndexes(tables: string[]): Promise<() => Promise<number>>;
  /** VACUUM ANALYZE and a checkpoint; seconds taken. */
  vacuum(tables: string[]): Promise<number>;
  databaseMb(): Promise<number>;
  close(): Promise<void>;
}

export async function openFillSession(databaseUrl: string, parallel = 2, log: (msg: string) => void = () => undefined): Promise<FillSession> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const workers: pg.Client[] = [];
  const close = async () => {
    for (const w of workers) await w.end().catch(() => undefined);
    await client.end().catch(() => undefined);
  };
  try {
    const superuser = (await client.query(`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`)).rows[0]?.rolsuper === true;
    // These sessions only: the fill's own commits need not wait for the disk, index builds get memory, and a
    // superuser skips the foreign-key triggers.
    const prepare = async (c: pg.Client) => {
      await c.query(`SET synchronous_commit = off`);
      await c.query(`SET maintenance_work_mem = '512MB'`);
      if (superuser) await c.query(`SET session_replication_role = replica`);
    };
    await prepare(client);
    for (let i = 0; i < Math.max(1, parallel); i++) {
      const w = new pg.Client({ connectionString: databaseUrl });
      await w.connect();
      workers.push(w);
      await prepare(w);
    }
    return {
      client,
      superuser,
      async inParallel(tasks, done) {
        let next = 0;
        let finished = 0;
        await Promise.all(workers.map(async (w) => {
          while (next < tasks.length) {
            await tasks[next++]!(w);
            done(++finished);
          }
        }));
      },
      async dropIndexes(tables) {
        const indexes = (await client.query<{ name: string; def: string }>(
          `SELECT quote_ident(ci.relname) AS name, pg_get_indexdef(i.indexrelid) AS def
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_class ci ON ci.oid = i.indexrelid
            WHERE c.relname = ANY($1) AND c.relnamespace = current_schema()::regnamespace
              AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname, ci.relname`, [tables])).rows;
        log(`fill: dropping ${indexes.length} secondary indexes of ${tables.join(', ')} (rebuilt after)…`);
        for (const ix of indexes) await client.query(`DROP INDEX ${ix.name}`);
        return async () => {
          const t = process.hrtime.bigint();
          for (const ix of indexes) {
            const ti = process.hrtime.bigint();
            await client.query(ix.def);
            log(`fill: ${ix.name} (${secondsSince(ti).toFixed(1)} s)`);
          }
          return secondsSince(t);
        };
      },
      async vacuum(tables) {
        if (superuser) await client.query(`SET session_replication_role = DEFAULT`);
        const t = process.hrtime.bigint();
        log('fill: VACUUM ANALYZE…');
        await client.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
        await client.query('CHECKPOINT').catch(() => undefined); // needs superuser (or pg_checkpoint); only tidies the WAL
        return secondsSince(t);
      },
      async databaseMb() {
        return Math.round(Number((await client.query(`SELECT pg_database_size(current_database()) AS b`)).rows[0].b) / 2 ** 20);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Member k's id (SQL expression of k): UUID v7 of its enrolment time, random bits from md5 of the salt and k. */
export const memberIdSql = (k: string, memberStart: number, memberStep: number, salt: string): string =>
  v7(`${memberStart} + (${k}) * ${memberStep}`, `md5('m' || ${salt} || (${k}))`);

/**
 * Statements that insert members 0..count-1 of a tenant, enrolled from `memberStart` every `memberStep` ms, with
 * external ids `${prefix}${k + 1}`. Parameters: $1 tenant, $2 salt, $3 prefix, $4/$5 the first and last k.
 */
export function memberTasks(o: { tenantId: string; count: number; salt: string; prefix: string; memberStart: number; memberStep: number; chunk: number }): Task[] {
  const tasks: Task[] = [];
  for (let k0 = 0; k0 < o.count; k0 += o.chunk) {
    const k1 = Math.min(o.count, k0 + o.chunk);
    tasks.push((c) => c.query(
      `INSERT INTO members (tenant_id, id, external_id, email, phone, first_name, last_name, birth_date, locale, time_zone, attributes, status, enrolled_at, created_at, updated_at)
       SELECT $1::uuid, ${memberIdSql('k', o.memberStart, o.memberStep, '$2::text')}, $3::text || (k + 1), 'member' || (k + 1) || '@fill.example', '+3598' || lpad((k % 100000000)::text, 8, '0'),
              (ARRAY['Anna','Ivan','Maria','Petar','Olga','Elena','Andrei','Zofia','Piotr','Ioana'])[1 + k % 10],
              (ARRAY['Petrova','Ivanov','Nowak','Kowalska','Popescu','Ionescu','Smirnov','Smith','Georgieva','Dimitrov','Brown'])[1 + (k / 10) % 11],
              date '1950-01-01' + (k * 7919 % 20000)::int, (ARRAY['en','bg','ro','pl','ru'])[1 + k % 5], NULL,
              jsonb_build_object('tier', k % 3), 'active', ts, ts, ts
         FROM (SELECT k, to_timestamp((${o.memberStart} + k * ${o.memberStep}) / 1000.0) AS ts FROM generate_series($4::bigint, $5::bigint) k) s`,
      [o.tenantId, o.salt, o.prefix, k0, k1 - 1]));
  }
  return tasks;
}
