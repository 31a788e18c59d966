/**
 * Several Patron processes on one database: started at the same moment on a
 * fresh database they all come up and the migrations run once; they share one
 * job queue, with one schedule row per scheduled job, and a job queued while no
 * Patron runs is executed once after they start.
 *
 * What is not tested here: that a cron slot fires once across processes in
 * real time (cron has minute granularity, and pg-boss guards it with its own
 * cron lock and a 60 s singleton). We check what that rests on instead: one
 * shared schedule table, and jobs taken exactly once by competing workers.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { api, cleanupAll, freshDatabase, randomKey, ROOT, runCli, startPatron, waitFor, waitReady, type PatronProcess } from './lib.js';

const MIGRATIONS = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();

/** patron_job_runs_total for a job and outcome, from a process's /metrics. */
async function jobRuns(url: string, job: string, outcome = 'succeeded'): Promise<number> {
  const text = (await api(url, 'GET', '/metrics')).body as string;
  const line = text.split('\n').find((l) => l.startsWith('patron_job_runs_total{') && l.includes(`job="${job}"`) && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function errorsIn(p: PatronProcess): string[] {
  return p.logs().filter((l) => Number(l.level) >= 50).map((l) => JSON.stringify(l));
}

describe('several Patron processes on one fresh database', () => {
  let database: Awaited<ReturnType<typeof freshDatabase>>;
  let client: pg.Client;
  let procs: PatronProcess[] = [];
  const key = randomKey();
  let env: Record<string, string | undefined>;

  before(async () => {
    database = await freshDatabase('mig');
    env = { DATABASE_URL: database.url, PATRON_API_KEY: key };
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await client?.end().catch(() => undefined);
    await cleanupAll();
    await database?.drop();
  });

  test('three processes started at the same moment all come up; each migration is applied exactly once', async () => {
    procs = await Promise.all([1, 2, 3].map(() => startPatron({ env })));
    for (const p of procs) await waitReady(p.url);

    const rows = (await client.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version')).rows;
    assert.deepEqual(rows.map((r) => `${r.name}.sql`), MIGRATIONS, 'one row per migration file');

    const applied = procs.flatMap((p) => p.logs().filter((l) => /^applied migration /.test(String(l.msg))).map((l) => String(l.msg).replace('applied migration ', '')));
    assert.deepEqual(applied.sort(), MIGRATIONS.map((f) => f.replace(/\.sql$/, '')), 'each migration was applied by exactly one process');

    for (const p of procs) assert.deepEqual(errorsIn(p), [], 'no error in the logs');

    // The three starts also raced to install PATRON_API_KEY: one key, usable on every process.
    const keys = await client.query(`SELECT count(*)::int AS n FROM api_keys WHERE name = 'PATRON_API_KEY'`);
    assert.equal(keys.rows[0].n, 1);
    for (const p of procs) assert.equal((await api(p.url, 'GET', '/v1/tenant', { key })).status, 200);
  });

  test('one job queue: one schedule row per scheduled job, stale schedules removed; queued jobs survive a restart and run exactly once across two processes', async () => {
    // The scheduled jobs, as the CLI lists them, against the schedule rows pg-boss holds.
    const list = await runCli(['jobs', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    const listed = list.stdout.trim().split('\n').map((l) => l.split(/\s{2,}/)).map(([name, schedule]) => ({ name: name!, schedule: schedule! }));
    const scheduled = listed.filter((j) => j.schedule !== 'on demand');
    assert.ok(scheduled.some((j) => j.name === 'idempotency.purge' && j.schedule === '17 * * * *'), list.stdout);
    const schedules = (await client.query('SELECT name, cron, timezone FROM pgboss.schedule ORDER BY name')).rows;
    assert.deepEqual(
      schedules,
      scheduled.map((j) => ({ name: j.name, cron: j.schedule, timezone: 'UTC' })).sort((a, b) => a.name.localeCompare(b.name)),
      'one schedule row per scheduled job, however many processes started',
    );
    const queues = new Set((await client.query('SELECT name FROM pgboss.queue')).rows.map((r) => r.name));
    for (const j of listed) assert.ok(queues.has(j.name), `queue ${j.name} exists`);

    // Stop every process, then queue jobs while no Patron runs.
    const exits = await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    for (const e of exits) assert.deepEqual(e, { code: 0, signal: null });
    procs = [];
    const boss = new PgBoss({ connectionString: database.url, schema: 'pgboss', supervise: false, schedule: false, migrate: false, max: 1 });
    boss.on('error', () => undefined);
    await boss.start();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await boss.send('idempotency.purge', { n: i }))!);
    // A schedule this version no longer has, and queue settings changed behind Patron's back.
    await boss.createQueue('retired.job');
    await boss.schedule('retired.job', '0 3 * * *');
    await client.query(`UPDATE pgboss.queue SET retry_limit = 0 WHERE name = 'idempotency.purge'`);
    await boss.stop({ graceful: false, wait: true });
    const since = (await client.query('SELECT now() AS t')).rows[0].t as Date;

    procs = await Promise.all([1, 2].map(() => startPatron({ env })));
    await waitFor('the queued jobs to complete', async () => {
      const r = await client.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE id = ANY($1::uuid[]) AND state = 'completed'`, [ids]);
      return r.rows[0].n === ids.length;
    }, 60_000);

    const after = (await client.query('SELECT name FROM pgboss.schedule ORDER BY name')).rows.map((r) => r.name);
    assert.deepEqual(after, schedules.map((r) => r.name), 'the retired schedule was removed at start');
    const retry = (await client.query(`SELECT retry_limit FROM pgboss.queue WHERE name = 'idempotency.purge'`)).rows[0].retry_limit;
    assert.equal(retry, 3, 'queue settings are applied at every start');

    // Every completed job was run by exactly one process: the runs counted by
    // both processes add up to the jobs completed since they started (a cron
    // slot that happened to fire meanwhile counts on both sides).
    const completed = (await client.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'idempotency.purge' AND state = 'completed' AND completed_on >= $1`, [since])).rows[0].n;
    const runs = (await Promise.all(procs.map((p) => jobRuns(p.url, 'idempotency.purge')))).reduce((a, b) => a + b, 0);
    assert.ok(completed >= ids.length);
    assert.equal(runs, completed, 'no job ran twice, none was lost');
    for (const p of procs) assert.equal(await jobRuns(p.url, 'idempotency.purge', 'failed'), 0);
    for (const p of procs) assert.deepEqual(errorsIn(p), [], 'no error in the logs');
  });
});
