/**
 * Patron as a separate process for benchmarks: the load generator and the
 * server must not share a process (or an event loop), and the server's memory
 * is measured on its own. The database is a fresh one: a new database on the
 * server of DATABASE_URL when it is set (dropped after), else Patron's own
 * embedded PostgreSQL in a temporary folder (stopped and removed after).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createScratchDatabase } from '../../src/platform/db/scratch-database.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface BenchPatron {
  url: string;
  apiKey: string;
  pid: number;
  /** 'embedded' or 'external'. */
  database: 'embedded' | 'external';
  /** PostgreSQL server version, e.g. "17.5". */
  postgresVersion: string;
  /**
   * Patron's own database, as a superuser URL the benchmark may use directly (SQL
   * generation, psql, pgbench): the scratch database on DATABASE_URL's server, or
   * the embedded server's `patron` database (its port and password read from the
   * data folder). Also the server to create other scratch databases on.
   */
  databaseUrl: string;
  /** Current and peak resident set size of the Patron process, in bytes (Linux /proc; else ps, current only). */
  memory(): { rss: number; peakRss: number };
  /** The last `bytes` of the Patron process's log (stdout and stderr), e.g. to show why it exited. */
  logTail(bytes?: number): string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function memoryOf(pid: number): { rss: number; peakRss: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    const rss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) * 1024;
    return { rss, peakRss: rss };
  }
}

async function waitReady(url: string, child: ChildProcess, log: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Patron exited (${child.exitCode}) before it was ready; see ${log}:\n${fs.readFileSync(log, 'utf8').slice(-4000)}`);
    try {
      if ((await fetch(`${url}/ready`)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`Patron was not ready after ${timeoutMs / 1000} s; see ${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `node bin/patron.mjs start` on a fresh database with PATRON_API_KEY
 * set (the default tenant's admin key). `env` adds or overrides variables;
 * `nodeArgs` go to node itself (e.g. --cpu-prof to profile the server).
 */
export async function startBenchPatron(opts: { env?: Record<string, string>; databaseUrl?: string; label?: string; nodeArgs?: string[] } = {}): Promise<BenchPatron> {
  const label = opts.label ?? 'bench';
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `patron-${label}-`));
  fs.chmodSync(tmp, 0o755); // as root, the embedded server runs as "postgres" and must reach its data folder
  const cleanups: Array<() => Promise<void>> = [async () => fs.rmSync(tmp, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch((err) => console.error(`cleanup: ${(err as Error).message}`));
  };

  try {
    const env: Record<string, string | undefined> = { ...process.env };
    let database: 'embedded' | 'external' = 'embedded';
    const base = (opts.databaseUrl ?? process.env.DATABASE_URL)?.trim();
    if (base) {
      database = 'external';
      const scratch = await createScratchDatabase(base, `patron_${label}`);
      cleanups.push(() => scratch.drop());
      env.DATABASE_URL = scratch.url;
    } else {
      delete env.DATABASE_URL;
      env.PATRON_DATA_DIR = path.join(tmp, 'data');
    }
    const port = await freePort();
    const apiKey = `bench_${crypto.randomBytes(24).toString('base64url')}`;
    Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', PATRON_API_KEY: apiKey, ...opts.env });
    delete env.NODE_TEST_CONTEXT;

    const log = path.join(tmp, 'patron.log');
    const out = fs.openSync(log, 'a');
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(ROOT, 'bin', 'patron.mjs'), 'start'], { cwd: ROOT, env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM'); // graceful: also stops the embedded PostgreSQL
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    });
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, child, log);

    // The server version, through the API-independent route: ask PostgreSQL itself.
    let postgresVersion = 'unknown';
    const dbUrl = env.DATABASE_URL ?? embeddedUrl(env.PATRON_DATA_DIR!);
    if (!dbUrl) throw new Error(`could not find the embedded PostgreSQL's port and password in ${env.PATRON_DATA_DIR}`);
    const c = new pg.Client({ connectionString: dbUrl });
    await c.connect();
    postgresVersion = (await c.query('SHOW server_version')).rows[0].server_version;
    await c.end();

    return { url, apiKey, pid: child.pid!, database, postgresVersion, databaseUrl: dbUrl, memory: () => memoryOf(child.pid!),
      logTail: (bytes = 4000) => {
        try {
          return fs.readFileSync(log, 'utf8').slice(-bytes);
        } catch {
          return '';
        }
      },
      stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function embeddedUrl(dataDir: string): string | null {
  try {
    const { port } = JSON.parse(fs.readFileSync(path.join(dataDir, 'embedded.json'), 'utf8')) as { port: number };
    const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/patron`;
  } catch {
    return null;
  }
}
