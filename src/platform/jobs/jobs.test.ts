/**
 * The in-process pumps of the job queue, on a real PostgreSQL (pg-boss started in this process): a nudge runs a pump
 * now instead of at its next tick, and a nudge during a run makes it run once more right after. On a database of its
 * own: starting a queue with only this test's job would unschedule the suite's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { SettableClock } from '../clock.js';
import { freshDatabase } from '../../../test/process/lib.js';
import { Db } from '../db/db.js';
import { migrate } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { Jobs } from './jobs.js';

const until = async (what: string, fn: () => boolean) => {
  for (let i = 0; i < 400 && !fn(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(fn(), `timed out waiting for ${what}`);
};

/** A job queue of its own on a fresh, migrated database; `close` stops it and drops the database. */
async function queueOnFreshDatabase(prefix: string): Promise<{ jobs: Jobs; close: () => Promise<void> }> {
  const database = await freshDatabase(prefix);
  const db = new Db({ connectionString: database.url, max: 2 });
  await migrate(db);
  const jobs = new Jobs({ db, clock: new SettableClock(), log: createLogger('silent') }, database.url);
  return {
    jobs,
    close: async () => {
      await jobs.stop();
      await db.close();
      await database.drop();
    },
  };
}

test('nudge runs a pump now, and once more right after a run in progress; then it waits for its poll again', async () => {
  const { jobs, close } = await queueOnFreshDatabase('jobs');
  let runs = 0;
  let gate: Promise<void> = Promise.resolve();
  let release = () => undefined as void;
  // A poll of an hour: any run within the test is a nudged one.
  jobs.define({ name: 'test.nudged-pump', description: 'a pump for the test', pollMs: 3_600_000, handler: async () => { runs++; await gate; } });
  await jobs.start({ work: true, schedule: false });
  try {
    assert.equal(runs, 0);
    gate = new Promise<void>((r) => { release = r; });
    jobs.nudge('test.nudged-pump');
    await until('the nudged run', () => runs === 1);
    jobs.nudge('test.nudged-pump'); // while it runs
    jobs.nudge('test.nudged-pump'); // twice: still one more run, not two
    gate = Promise.resolve();
    release();
    await until('the run after the one in progress', () => runs === 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(runs, 2, 'back to its poll: no further run');
    jobs.nudge('test.unknown-job'); // nothing to wake: no error
  } finally {
    await close();
  }
});

test("stop leaves nothing queued on pg-boss's pool: workers waiting for a connection are let through and stop before it ends", async () => {
  const { jobs, close } = await queueOnFreshDatabase('jobs_stop');
  // More workers than pg-boss's 4 connections, as in Patron.
  for (let i = 0; i < 8; i++) jobs.define({ name: `test.stop-${i}`, description: 'a queue for the test', handler: async () => undefined });
  await jobs.start({ work: true, schedule: false });
  const pool = ((jobs as unknown as { boss: PgBoss }).boss.getDb() as unknown as { pool: pg.Pool }).pool;
  const held: pg.PoolClient[] = [];
  try {
    // Every connection busy: the workers' next fetches queue up, as under load.
    for (let i = 0; i < 4; i++) held.push(await pool.connect());
    await until('fetches queued for a connection', () => pool.waitingCount > 0);
    const stopping = jobs.stop();
    await new Promise((r) => setTimeout(r, 300));
    for (const c of held.splice(0)) c.release();
    await stopping;
    assert.equal(pool.waitingCount, 0, 'no fetch left queued on the ended pool (it would never be answered)');
    assert.equal(pool.totalCount, 0, 'the pool is ended');
  } finally {
    for (const c of held) c.release();
    await close();
  }
});
