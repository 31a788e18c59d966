/**
 * `node --import tsx bench/analytics-cdnow.ts`: the stage timings of an analytics run on real data, the CDNOW sample
 * (6,919 orders, 2,357 customers) and the CDNOW master file (69,659 orders, 23,570 customers), each imported through
 * the orders importer into its own tenant (USD, UTC) and run as of 1997-09-30 — so the run has the holdout
 * calibration of the FHL 2005 set-up. Measures, never asserts (analytics.cdnow.test.ts asserts the sample's models).
 *
 * In this process (Patron without HTTP, the job queue as a client): the import and the run execute here through
 * `jobs.runNow`, as `npx patron jobs run` does. Prints each stage's ms and rows (the run's progress), the run's wall
 * time, and this process's peak RSS; writes bench/results/analytics-cdnow.json.
 *
 *   node --import tsx bench/analytics-cdnow.ts                   (a fresh database on DATABASE_URL's server, dropped after)
 *   node --import tsx bench/analytics-cdnow.ts --only sample --runs 3
 *   node --import tsx bench/analytics-cdnow.ts --database postgres://…/mydb   (an existing database, kept: for EXPLAIN after)
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createPatron, type Patron } from '../src/app.js';
import { SettableClock } from '../src/platform/clock.js';
import { loadConfig } from '../src/platform/config.js';
import { createScratchDatabase } from '../src/platform/db/scratch-database.js';
import { createLogger } from '../src/platform/logger.js';
import { datasetsDir } from '../src/modules/analytics/clv/cdnow.fixture.js';
import { machineInfo, writeResult } from './lib/report.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, runs: { type: 'string', default: '1' }, database: { type: 'string' } } });
const SETS = (values.only ? [values.only] : ['sample', 'master']) as Array<'sample' | 'master'>;
const RUNS = Number(values.runs);

/** A CDNOW file as Patron's order CSV: one order per row, at noon UTC of its day, in cents. */
function ordersCsv(set: 'sample' | 'master'): { csv: string; rows: number } {
  const file = path.join(datasetsDir(), 'cdnow', set === 'sample' ? 'CDNOW_sample.txt' : 'CDNOW_master.txt');
  const out = ['external_id,member_external_id,occurred_at,currency,total'];
  let n = 0;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    // sample: master id, sample id, date, CDs, dollars; master: customer id, date, CDs, dollars (and a header line).
    const [customer, date, dollars] = set === 'sample' ? [f[1], f[2], f[4]] : [f[0], f[1], f[3]];
    if (!customer || !date || !/^\d{8}$/.test(date) || dollars === undefined) continue;
    out.push(`cdnow-${++n},${Number(customer)},${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T12:00:00Z,USD,${Math.round(Number(dollars) * 100)}`);
  }
  return { csv: out.join('\n'), rows: n };
}

async function importSet(patron: Patron, set: 'sample' | 'master'): Promise<{ tenantId: string; rows: number; seconds: number }> {
  const { tenants, imports } = patron.services;
  const made = await patron.db.tx((tx) => tenants.createTenant(tx, { name: `CDNOW ${set}`, default_currency: 'USD', time_zone: 'UTC' }));
  const tenantId = made.tenant.id;
  const { csv, rows } = ordersCsv(set);
  const started = await imports.start({
    kind: 'transactions', tenantId, format: 'csv', body: Readable.from([Buffer.from(csv)]), options: { award_points: false },
    method: 'POST', url: '/v1/transactions/import', actor: { type: 'operator', id: 'bench' }, action: 'POST /v1/transactions/import', requestId: 'bench',
  } as Parameters<typeof imports.start>[0]);
  const t0 = performance.now();
  const outcome = (await patron.jobs.runNow('imports.run', { tenant_id: tenantId, import_id: started.id })) as { status: string };
  if (outcome.status !== 'succeeded') throw new Error(`import of ${set}: ${JSON.stringify(outcome)}`);
  await patron.db.query('ANALYZE transactions');
  return { tenantId, rows, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL;
  if (!server && !values.database) throw new Error('Set DATABASE_URL to a PostgreSQL server (a fresh database is made on it and dropped after), or pass --database.');
  const scratch = values.database ? { url: values.database, drop: async () => undefined } : await createScratchDatabase(server!, 'patron_bench_analytics');
  const config = loadConfig({ DATABASE_URL: scratch.url, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DB_POOL_SIZE: '10' });
  const patron = await createPatron({ config, clock: new SettableClock(), jobs: 'client', http: false, logger: createLogger('warn') });
  const results: Record<string, unknown> = {};
  try {
    for (const set of SETS) {
      const imported = await importSet(patron, set);
      console.log(`${set}: ${imported.rows} orders imported in ${imported.seconds.toFixed(1)} s`);
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        const queued = await patron.db.tx((tx) => patron.services.analytics.runs.queue(tx, imported.tenantId, { as_of: '1997-09-30' }, 'api'));
        const t0 = performance.now();
        await patron.jobs.runNow('analytics.run', { tenant_id: imported.tenantId, run_id: queued.id });
        const wall = performance.now() - t0;
        const run = await patron.services.analytics.getRun(patron.db, imported.tenantId, queued.id);
        if (run.status !== 'succeeded') throw new Error(`run of ${set} ${run.status}: ${run.error}`);
        const stages = run.progress.stages.filter((s) => s.status !== 'skipped').map((s) => ({ name: s.name, ms: s.ms, rows: s.rows }));
        console.log(`  run ${i + 1}: ${Math.round(wall)} ms — ${stages.map((s) => `${s.name} ${s.ms} ms`).join(', ')}`);
        runs.push({ wall_ms: Math.round(wall), members: run.summary?.members, stages });
      }
      results[set] = { orders: imported.rows, import_seconds: Math.round(imported.seconds * 10) / 10, runs };
    }
    const peakRss = Math.round(process.resourceUsage().maxRSS / 1024);
    console.log(`peak RSS of this process: ${peakRss} MiB`);
    const file = writeResult('analytics-cdnow', { benchmark: 'analytics-cdnow', date: new Date().toISOString(), machine: machineInfo(), results, peak_rss_mib: peakRss });
    console.log(`written ${file}`);
  } finally {
    await patron.close();
    await scratch.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
