/**
 * Patron as a process, for the tests in this folder: spawn `node bin/patron.mjs`
 * exactly as a user would, read its output, talk to it over HTTP, and clean up
 * everything (children, embedded PostgreSQL servers, temp folders) even when a
 * test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createScratchDatabase, type ScratchDatabase } from '../../src/platform/db/scratch-database.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'patron.mjs');

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** A random PATRON_API_KEY-sized secret. */
export const randomKey = (): string => `test_${crypto.randomBytes(24).toString('base64url')}`;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface PatronProcess {
  child: ChildProcess;
  pid: number;
  /** Base URL, e.g. http://127.0.0.1:41647 (from the banner the process prints). */
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines written so far. */
  logs(): Array<Record<string, any>>;
  exited: Promise<Exit>;
  running(): boolean;
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const children = new Set<ChildProcess>();
const dataDirs = new Set<string>();
const tempDirs = new Set<string>();

/**
 * The environment for a child: this process's environment with `overrides`
 * applied; a value of `undefined` deletes the variable (DATABASE_URL for the
 * embedded server). An empty value would count as unset for Patron too, but
 * deleting is what a user without the variable has.
 */
export function childEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  // A small pool: several Patron processes share the suite's server (100 connections on a stock PostgreSQL).
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', RATE_LIMIT_ENABLED: 'false', DB_POOL_SIZE: '8' };
  delete env.NODE_TEST_CONTEXT; // the child is not a test of ours
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A temp folder that the `postgres` user can enter (for embedded data folders when running as root). */
export function tempDir(prefix = 'patron-proc-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  tempDirs.add(dir);
  return dir;
}

/** Registers a folder made elsewhere for removal at cleanup. */
export function trackTempDir(dir: string): void {
  tempDirs.add(dir);
}

/** A fresh embedded data folder (not created yet: Patron creates it). */
export function tempDataDir(): string {
  const dir = path.join(tempDir(), 'data');
  dataDirs.add(dir);
  return dir;
}

/** Registers a data folder made elsewhere, so that cleanup stops its PostgreSQL. */
export function trackDataDir(dir: string): void {
  dataDirs.add(dir);
}

function parseLogs(text: string): Array<Record<string, any>> {
  const out: Array<Record<string, any>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      /* a banner line that happens to start with { */
    }
  }
  return out;
}

function track(child: ChildProcess): { output: () => string; exited: Promise<Exit> } {
  children.add(child);
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  return { output: () => out, exited };
}

/**
 * Starts `node bin/patron.mjs <args>` and resolves once it has printed its
 * banner (the HTTP server listens). Rejects with the output when it exits first.
 */
export async function startPatron(opts: { env: Record<string, string | undefined>; args?: string[]; timeoutMs?: number }): Promise<PatronProcess> {
  const child = spawn(process.execPath, [BIN, ...(opts.args ?? ['start'])], {
    cwd: ROOT,
    env: childEnv({ PORT: '0', HOST: '127.0.0.1', ...opts.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const { output, exited } = track(child);
  let done = false;
  exited.then(() => (done = true));
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  let url: string | null = null;
  while (!url) {
    const m = /API:\s+(http:\/\/\S+?)\/v1\b/.exec(output());
    if (m) url = m[1]!;
    else if (done) throw new Error(`Patron exited before it was ready (${JSON.stringify(await exited)}):\n${output()}`);
    else if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Patron did not start in time:\n${output()}`);
    } else await sleep(50);
  }
  const proc: PatronProcess = {
    child,
    pid: child.pid!,
    url,
    output,
    logs: () => parseLogs(output()),
    exited,
    running: () => !done,
    async stop(signal = 'SIGTERM', timeoutMs = 45_000) {
      if (done) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return proc;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command to its end (`node bin/patron.mjs …`, or another command line such as npx). */
export async function runCli(args: string[], env: Record<string, string | undefined>, opts: { command?: string[]; timeoutMs?: number } = {}): Promise<CliResult> {
  const [cmd, ...pre] = opts.command ?? [process.execPath, BIN];
  const child = spawn(cmd!, [...pre, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  children.delete(child);
  return { code, stdout, stderr };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `fn` returns a truthy value. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(100);
  }
}

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = any>(url: string, method: string, p: string, opts: { key?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + p, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  const body = (res.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body: body as T };
}

export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  await waitFor(`${url}/ready`, async () => (await api(url, 'GET', '/ready')).status === 200, timeoutMs);
}

// ── Embedded PostgreSQL on a data folder ────────────────────────────────────

export const pgDataOf = (dataDir: string) => path.join(dataDir, 'pg');

/** The postmaster pid recorded in the cluster, or null. */
export function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(pgDataOf(dataDir), 'postmaster.pid'), 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of postgres processes whose command line names this data folder (Linux /proc). */
export function postgresProcessesOn(dataDir: string): number[] {
  const pgData = pgDataOf(dataDir);
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a === pgData) && cmd.some((a) => a.endsWith('postgres'))) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** A client on the embedded server of `dataDir`, as its superuser. */
export async function embeddedClient(dataDir: string, database = 'patron'): Promise<pg.Client> {
  const { port } = JSON.parse(fs.readFileSync(path.join(dataDir, 'embedded.json'), 'utf8')) as { port: number };
  const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
  await client.connect();
  return client;
}

/**
 * Waits until another session waits on a lock (the one `client` holds). The
 * activity view is a snapshot per transaction, so it is cleared on each poll:
 * `client` is usually inside the transaction that holds the lock.
 */
export async function waitForLockWaiter(client: pg.Client, what: string): Promise<void> {
  await waitFor(what, async () => {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const r = await client.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()`);
    return r.rows[0].n > 0;
  });
}

/** Stops whatever PostgreSQL still runs on `dataDir` (fast shutdown; SIGKILL after 15 s). */
export async function stopPostgresOn(dataDir: string): Promise<void> {
  const master = postmasterPid(dataDir);
  const pids = [...new Set([...(master !== null && alive(master) ? [master] : []), ...postgresProcessesOn(dataDir)])];
  if (pids.length === 0) return;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGINT'); // the postmaster's "fast shutdown"
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 15_000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids.filter(alive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

// ── Fresh databases on the suite's server ───────────────────────────────────

/** Creates a fresh database on the suite's server; returns its URL and a drop function. */
export async function freshDatabase(prefix: string): Promise<ScratchDatabase> {
  const base = process.env.DATABASE_URL;
  if (!base) throw new Error('DATABASE_URL is not set: run the tests with `npm test`.');
  return createScratchDatabase(base, `patron_${prefix}`);
}

// ── Cleanup ─────────────────────────────────────────────────────────────────

/** Kills every child still running, stops PostgreSQL on every data folder, removes temp folders. */
export async function cleanupAll(): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    waits.push(new Promise((r) => child.once('exit', r)));
    child.kill('SIGKILL');
  }
  await Promise.race([Promise.all(waits), sleep(10_000)]);
  for (const dir of dataDirs) await stopPostgresOn(dir).catch(() => undefined);
  dataDirs.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// Last resort when the test process ends without `after` (a crash, a timeout):
// kill children and ask PostgreSQL servers to stop at once.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dataDirs) {
    for (const pid of postgresProcessesOn(dir)) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
  }
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});
