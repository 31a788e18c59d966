/**
 * pgbench's built-in TPC-B-like transaction on a scratch database of the same
 * PostgreSQL server a benchmark runs Patron on: the reference figure ("what
 * this server does per second for a small write transaction at this client
 * count") that a write benchmark is compared against in the same run.
 *
 * The scratch database is created on the server of `serverUrl`, initialised
 * with `pgbench -i -s SCALE`, measured with `pgbench -c C -j J -T SECONDS`
 * and dropped. Works against the embedded PostgreSQL too: its URL carries the
 * port and password (libpq reads them from the URI), and pgbench 15 talks to a
 * PostgreSQL 17 server.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { CpuTracker } from './cpu.js';
import { createScratchDatabase } from '../../src/platform/db/scratch-database.js';

const run = promisify(execFile);

export interface PgbenchSettings {
  /** Any database URL on the server (a superuser: it creates and drops a database). */
  serverUrl: string;
  clients: number;
  threads: number;
  seconds: number;
  /** pgbench -s: 10 = 1,000,000 accounts. */
  scale: number;
  /** The server's postmaster on this machine (bench/lib/cpu.ts postmasterOf): PostgreSQL's CPU per transaction is measured. */
  postmaster?: number | null;
  log?: (msg: string) => void;
}

export interface PgbenchResult {
  /** "tps = … (without initial connection time)". */
  tps: number;
  latency_avg_ms: number | null;
  transactions: number | null;
  failed: number | null;
  scale: number;
  clients: number;
  threads: number;
  duration_s: number;
  init_seconds: number;
  pgbench: string;
  script: 'tpcb-like';
  /** CPU of the PostgreSQL server per transaction, and of the machine's other processes (pgbench itself included). */
  cpu: { postgres_ms_per_transaction: number; postgres_s: number; other_s: number | null; wall_s: number } | null;
}

/** pgbench on PATH, else the newest /usr/lib/postgresql/N/bin/pgbench; null when there is none. */
export function findPgbench(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && fs.existsSync(`${dir}/pgbench`)) return `${dir}/pgbench`;
  }
  try {
    const versions = fs.readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (fs.existsSync(`/usr/lib/postgresql/${v}/bin/pgbench`)) return `/usr/lib/postgresql/${v}/bin/pgbench`;
  } catch {
    /* no Debian PostgreSQL packages */
  }
  return null;
}

/** Parses pgbench's summary (PostgreSQL 13-17 wording). */
export function parsePgbenchOutput(out: string): Pick<PgbenchResult, 'tps' | 'latency_avg_ms' | 'transactions' | 'failed'> {
  const tps = /^tps = ([\d.]+) \(without initial connection time\)/m.exec(out) ?? /^tps = ([\d.]+) \(excluding connections establishing\)/m.exec(out);
  if (!tps) throw new Error(`could not find "tps = … (without initial connection time)" in pgbench's output:\n${out}`);
  const latency = /^latency average = ([\d.]+) ms/m.exec(out);
  const done = /^number of transactions actually processed: (\d+)/m.exec(out);
  const failed = /^number of failed transactions: (\d+)/m.exec(out);
  return { tps: Number(tps[1]), latency_avg_ms: latency ? Number(latency[1]) : null, transactions: done ? Number(done[1]) : null, failed: failed ? Number(failed[1]) : null };
}

export async function runPgbench(s: PgbenchSettings): Promise<PgbenchResult> {
  const log = s.log ?? (() => undefined);
  const bin = findPgbench();
  if (!bin) throw new Error('pgbench was not found (on PATH or in /usr/lib/postgresql/*/bin): install postgresql-client or pass --no-pgbench');
  const version = (await run(bin, ['--version'])).stdout.trim();
  const scratch = await createScratchDatabase(s.serverUrl, 'patron_pgbench');
  // libpq reads everything from the URI; keep PG* variables of the caller's shell out of it.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  try {
    log(`pgbench: initialising scale ${s.scale} in ${scratch.name}…`);
    const t0 = process.hrtime.bigint();
    await run(bin, ['-i', '-q', '-s', String(s.scale), scratch.url], { env, maxBuffer: 16 * 1024 * 1024 });
    const initSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    log(`pgbench: tpcb-like, ${s.clients} clients, ${s.threads} threads, ${s.seconds} s…`);
    const tracker = new CpuTracker(-1, s.postmaster ?? null).start();
    let stdout: string;
    try {
      ({ stdout } = await run(bin, ['-c', String(s.clients), '-j', String(s.threads), '-T', String(s.seconds), scratch.url], { env, maxBuffer: 16 * 1024 * 1024 }));
    } catch (err) {
      tracker.stop(os.cpus().length);
      throw err;
    }
    const used = tracker.stop(os.cpus().length);
    const parsed = parsePgbenchOutput(stdout);
    const tx = parsed.transactions ?? parsed.tps * s.seconds;
    return {
      ...parsed,
      cpu: s.postmaster ? { postgres_ms_per_transaction: Math.round((used.postgres_s * 1e6) / Math.max(1, tx)) / 1000, postgres_s: used.postgres_s, other_s: used.other_s, wall_s: used.wall_s } : null,
      scale: s.scale, clients: s.clients, threads: s.threads, duration_s: s.seconds,
      init_seconds: Math.round(initSeconds * 100) / 100, pgbench: version, script: 'tpcb-like',
    };
  } finally {
    await scratch.drop().catch((err) => log(`pgbench: could not drop ${scratch.name}: ${(err as Error).message}`));
  }
}
