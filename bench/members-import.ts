/**
 * `npm run bench:members-import`: CSV import of members through the HTTP API,
 * beside psql `\copy` of the same file into a plain, unindexed table on the
 * same PostgreSQL in the same run.
 *
 *  1. Writes ROWS members (default 1,000,000, from a fixed seed) as a CSV file
 *     in a temporary folder, as a stream.
 *  2. `\copy` of the file into a plain table of text columns in a scratch
 *     database: the floor of what loading this file can cost on this server.
 *  3. Patron as its own process on a fresh database: `POST /v1/members/import`
 *     of the file (streamed from disk), then polling the import until it has
 *     succeeded. Its time runs from the first byte sent to `succeeded`; its
 *     peak RSS is the kernel's high-water mark of the process (VmHWM).
 *  4. With --indexed-reference: `\copy` of the file into a table shaped like
 *     `members` with its six indexes, to show what the indexes alone cost.
 *
 * Prints the figures and writes bench/results/members-import.json. Figures
 * only: nothing here asserts on time.
 *
 *   npm run bench:members-import -- --rows 1000000 [--indexed-reference] [--database-url postgres://…]
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import pg from 'pg';
import { startBenchPatron } from './lib/patron-process.js';
import { machineInfo, round, writeResult } from './lib/report.js';
import { createScratchDatabase } from '../src/platform/db/scratch-database.js';
import { mulberry32 } from '../src/platform/seeded-random.js';

const run = promisify(execFile);
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export const COLUMNS = ['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'enrolled_at', 'consent_email', 'consent_sms'] as const;

const FIRST = ['Anna', 'Ivan', 'Maria', 'Petar', 'Olga', 'Dmitri', 'Elena', 'Andrei', 'Zofia', 'Piotr', 'Ioana', 'Mihai', 'Emma', 'Jack', 'Иван', 'Мария', 'Łucja', 'Ștefan'];
const LAST = ['Petrova', 'Ivanov', 'Nowak', 'Kowalska', 'Popescu', 'Ionescu', 'Smirnov', 'Smith', 'Georgieva', 'Dimitrov', 'Wiśniewski', 'Попова', 'Brown'];
const LOCALES = [['bg', 'Europe/Sofia', '+3598'], ['pl', 'Europe/Warsaw', '+486'], ['ro', 'Europe/Bucharest', '+407'], ['ru', 'Europe/Moscow', '+79'], ['en', 'Europe/London', '+447']] as const;


/** The CSV file's lines, generated as they are read (never the whole file in memory). */
export function* memberLines(rows: number, seed = 42): Generator<string> {
  const rnd = mulberry32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  yield `${COLUMNS.join(',')}\n`;
  for (let i = 1; i <= rows; i++) {
    const [locale, zone, prefix] = pick(LOCALES);
    const phone = `${prefix}${String(Math.floor(rnd() * 1e8)).padStart(8, '0')}`;
    const birth = `${1950 + Math.floor(rnd() * 55)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
    const enrolled = `202${Math.floor(rnd() * 5)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}T${String(Math.floor(rnd() * 24)).padStart(2, '0')}:15:00Z`;
    const email = rnd() < 0.9 ? `member${i}@example.com` : '';
    yield `C${String(i).padStart(8, '0')},${email},${rnd() < 0.8 ? phone : ''},${pick(FIRST)},${pick(LAST)},${birth},${locale},${zone},${enrolled},${rnd() < 0.4 ? 'true' : 'false'},${rnd() < 0.2 ? 'yes' : ''}\n`;
  }
}

/** Writes `rows` members to `file` as CSV; returns its size in bytes. */
export async function generateCsv(file: string, rows: number, seed = 42): Promise<number> {
  const out = fs.createWriteStream(file);
  let buffered: string[] = [];
  let size = 0;
  for (const line of memberLines(rows, seed)) {
    buffered.push(line);
    if (buffered.length >= 2000) {
      const chunk = buffered.join('');
      size += Buffer.byteLength(chunk);
      buffered = [];
      if (!out.write(chunk)) await once(out, 'drain');
    }
  }
  const rest = buffered.join('');
  size += Buffer.byteLength(rest);
  out.end(rest);
  await once(out, 'finish');
  return size;
}

async function withScratchDatabase<T>(serverUrl: string, fn: (url: string) => Promise<T>): Promise<T> {
  const scratch = await createScratchDatabase(serverUrl, 'patron_bench_copy');
  try {
    return await fn(scratch.url);
  } finally {
    await scratch.drop();
  }
}

async function psql(url: string, command: string): Promise<void> {
  await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-c', command], { maxBuffer: 16 * 1024 * 1024 });
}

/** psql `\copy` of the file into a plain table of text columns (no index, no constraint). */
export async function timeCopy(serverUrl: string, file: string): Promise<{ seconds: number; rows: number }> {
  return withScratchDatabase(serverUrl, async (url) => {
    await psql(url, `CREATE TABLE members_plain (${COLUMNS.map((c) => `${c} text`).join(', ')})`);
    const started = process.hrtime.bigint();
    await psql(url, `\\copy members_plain FROM '${file.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER true)`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = Number((await c.query('SELECT count(*) AS n FROM members_plain')).rows[0].n);
    await c.end();
    return { seconds, rows };
  });
}

/**
 * psql `\copy` into a table with the columns, constraints and indexes of
 * `members` (a tenant, ids and timestamps by default): the cost of the
 * indexes alone, without any of Patron's work.
 */
export async function timeIndexedCopy(serverUrl: string, file: string): Promise<{ seconds: number; rows: number }> {
  return withScratchDatabase(serverUrl, async (url) => {
    const migrations = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'migrations');
    for (const f of fs.readdirSync(migrations).filter((f) => f.endsWith('.sql')).sort()) await run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', url, '-f', path.join(migrations, f)]);
    await psql(url, `
      INSERT INTO tenants VALUES ('00000000-0000-7000-8000-000000000001', 'bench', 'EUR', 'en', 'UTC', NULL, now(), now());
      CREATE TABLE members_like (LIKE members INCLUDING ALL);
      ALTER TABLE members_like
        ALTER COLUMN tenant_id SET DEFAULT '00000000-0000-7000-8000-000000000001', ALTER COLUMN id SET DEFAULT gen_random_uuid(),
        ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at SET DEFAULT now(),
        ADD COLUMN consent_email text, ADD COLUMN consent_sms text;`);
    const started = process.hrtime.bigint();
    await psql(url, `\\copy members_like (${COLUMNS.join(', ')}) FROM '${file.replace(/'/g, "''")}' WITH (FORMAT csv, HEADER true)`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const rows = Number((await c.query('SELECT count(*) AS n FROM members_like')).rows[0].n);
    await c.end();
    return { seconds, rows };
  });
}

export interface PatronImportResult {
  seconds: number;
  uploadSeconds: number;
  peakRssBytes: number;
  import: any;
  database: string;
  postgresVersion: string;
}

/** Patron in its own process on a fresh database; the file uploaded over HTTP and imported. */
export async function timePatronImport(serverUrl: string, file: string, opts: { env?: Record<string, string>; nodeArgs?: string[] } = {}): Promise<PatronImportResult> {
  const patron = await startBenchPatron({ databaseUrl: serverUrl, label: 'members_import', env: { LOG_LEVEL: 'warn', ...opts.env }, nodeArgs: opts.nodeArgs });
  let peak = patron.memory().peakRss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, patron.memory().peakRss);
  }, 100);
  try {
    const started = process.hrtime.bigint();
    const res = await fetch(`${patron.url}/v1/members/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${patron.apiKey}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(fs.createReadStream(file, { highWaterMark: 256 * 1024 })) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const accepted: any = await res.json();
    if (res.status !== 202) throw new Error(`upload answered ${res.status}: ${JSON.stringify(accepted)}`);
    const uploadSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    let status: any;
    for (;;) {
      const r = await fetch(`${patron.url}/v1/members/import/${accepted.id}`, { headers: { authorization: `Bearer ${patron.apiKey}` } });
      status = await r.json();
      if (status.status === 'succeeded' || status.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    peak = Math.max(peak, patron.memory().peakRss);
    if (status.status !== 'succeeded') throw new Error(`the import failed: ${JSON.stringify(status)}`);
    return { seconds, uploadSeconds, peakRssBytes: peak, import: status, database: patron.database, postgresVersion: patron.postgresVersion };
  } finally {
    clearInterval(sampler);
    await patron.stop();
  }
}

export interface BenchResult {
  benchmark: 'members-import';
  rows: number;
  file_bytes: number;
  copy: { seconds: number; rows_per_second: number };
  patron: { seconds: number; upload_seconds: number; rows_per_second: number; peak_rss_mb: number; counts: Record<string, number> };
  ratio: number;
  target_ratio: 0.5;
  indexed_copy?: { seconds: number; rows_per_second: number };
  database: string;
  postgres_version: string;
  machine: Record<string, unknown>;
  at: string;
}

export async function runBench(opts: { rows: number; databaseUrl: string; indexedReference?: boolean; log?: (msg: string) => void }): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-members-import-'));
  fs.chmodSync(dir, 0o755);
  try {
    const file = path.join(dir, 'members.csv');
    log(`generating ${opts.rows} members in ${file}`);
    const bytes = await generateCsv(file, opts.rows);
    log(`${(bytes / 2 ** 20).toFixed(1)} MiB; \\copy into a plain table…`);
    const copy = await timeCopy(opts.databaseUrl, file);
    if (copy.rows !== opts.rows) throw new Error(`\\copy loaded ${copy.rows} rows, expected ${opts.rows}`);
    log(`\\copy: ${copy.seconds.toFixed(2)} s; Patron import over HTTP…`);
    const patron = await timePatronImport(opts.databaseUrl, file);
    const counts = patron.import.counts;
    if (counts.created !== opts.rows) throw new Error(`Patron created ${counts.created} members, expected ${opts.rows}: ${JSON.stringify(patron.import)}`);
    log(`Patron: ${patron.seconds.toFixed(2)} s`);
    let indexed: { seconds: number; rows: number } | undefined;
    if (opts.indexedReference) {
      log('\\copy into a table shaped like members (same indexes)…');
      indexed = await timeIndexedCopy(opts.databaseUrl, file);
    }
    const copyRate = copy.rows / copy.seconds;
    const patronRate = opts.rows / patron.seconds;
    return {
      benchmark: 'members-import',
      rows: opts.rows,
      file_bytes: bytes,
      copy: { seconds: round(copy.seconds, 3), rows_per_second: Math.round(copyRate) },
      patron: {
        seconds: round(patron.seconds, 3),
        upload_seconds: round(patron.uploadSeconds, 3),
        rows_per_second: Math.round(patronRate),
        peak_rss_mb: round(patron.peakRssBytes / 2 ** 20, 1),
        counts,
      },
      ratio: round(patronRate / copyRate, 3),
      target_ratio: 0.5,
      ...(indexed ? { indexed_copy: { seconds: round(indexed.seconds, 3), rows_per_second: Math.round(indexed.rows / indexed.seconds) } } : {}),
      database: patron.database,
      postgres_version: patron.postgresVersion,
      machine: machineInfo(),
      at: new Date().toISOString(),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      'database-url': { type: 'string' },
      'indexed-reference': { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  if (!Number.isSafeInteger(rows) || rows < 1) throw new Error('--rows must be a positive whole number');
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL?.trim() ?? DEFAULT_DATABASE_URL;
  const result = await runBench({ rows, databaseUrl, indexedReference: values['indexed-reference'], log: (m) => console.error(`# ${m}`) });
  const file = writeResult('members-import', result);
  console.log(`members-import: ${rows.toLocaleString('en')} rows (${(result.file_bytes / 2 ** 20).toFixed(1)} MiB CSV), PostgreSQL ${result.postgres_version} (${result.database})`);
  console.log(`  psql \\copy, plain table:   ${result.copy.seconds.toFixed(2)} s  ${result.copy.rows_per_second.toLocaleString('en')} rows/s`);
  console.log(`  Patron import over HTTP:    ${result.patron.seconds.toFixed(2)} s  ${result.patron.rows_per_second.toLocaleString('en')} rows/s  (upload ${result.patron.upload_seconds.toFixed(2)} s, peak RSS ${result.patron.peak_rss_mb} MB)`);
  if (result.indexed_copy) console.log(`  psql \\copy, members' indexes: ${result.indexed_copy.seconds.toFixed(2)} s  ${result.indexed_copy.rows_per_second.toLocaleString('en')} rows/s`);
  console.log(`  ratio Patron / \\copy:       ${result.ratio} (target >= 0.5)`);
  console.log(`  written to ${file}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
