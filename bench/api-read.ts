/**
 * `npm run bench:api-read`: GET /v1/members/{id} under concurrent load.
 *
 * Starts Patron as its own process on a fresh database (DATABASE_URL's server,
 * or the embedded PostgreSQL) and creates the members through the API. Then,
 * for each concurrency level in turn, that many workers (keep-alive
 * connections on loopback) read random members until REQUESTS reads are done
 * or DURATION has passed. Reports requests per second and latency percentiles
 * per level (target: p99 under 10 ms) and the peak RSS of the Patron process;
 * prints them and writes bench/results/api-read.json.
 *
 *   npm run bench:api-read -- --members 10000 --requests 30000 --concurrency 1,8,32 --duration 60
 *   npm run bench:api-read -- --cpu-prof /tmp/prof      (profile the server; open the .cpuprofile in Chrome DevTools)
 *
 * Patron runs with its production defaults (LOG_LEVEL info: one JSON log line
 * per request, written to a file; rate limiting on, with a limit the benchmark
 * does not reach), so the figures include their cost.
 */
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { latencyOf, pool, request } from './lib/http-load.js';
import { startBenchPatron } from './lib/patron-process.js';
import { machineInfo, round, writeResult } from './lib/report.js';

export interface ApiReadSettings {
  members: number;
  /** Requests per concurrency level. */
  requests: number;
  /** Concurrency levels, measured one after the other on the same data. */
  concurrency: number[];
  /** Cap on each measured phase, in seconds. */
  durationSeconds: number;
  warmupRequests: number;
  /** Extra environment for the Patron process (e.g. LOG_LEVEL). */
  patronEnv?: Record<string, string>;
  databaseUrl?: string;
  /** Write a CPU profile of the Patron process to this folder (node --cpu-prof). */
  cpuProfileDir?: string;
}

export const DEFAULTS: ApiReadSettings = { members: 10_000, requests: 30_000, concurrency: [1, 8, 32], durationSeconds: 60, warmupRequests: 2_000 };

export interface ApiReadResult {
  benchmark: 'api-read';
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: {
    runs: LevelResult[];
    peak_rss_mb: number;
    peak_rss_during_reads_mb: number;
    seed_members_per_second: number;
  };
  target: { p99_ms: number; met_at_concurrency: number[] };
}

export interface LevelResult {
  concurrency: number;
  requests: number;
  errors: number;
  duration_s: number;
  requests_per_second: number;
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
}

const P99_TARGET_MS = 10;

export async function runApiReadBench(partial: Partial<ApiReadSettings> = {}, log: (msg: string) => void = console.log): Promise<ApiReadResult> {
  const s: ApiReadSettings = { ...DEFAULTS, ...partial };
  const patronEnv = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '10000000', ...s.patronEnv };
  log(`api-read: starting Patron on a fresh ${s.databaseUrl || process.env.DATABASE_URL ? 'database (DATABASE_URL server)' : 'embedded PostgreSQL'}…`);
  const patron = await startBenchPatron({ env: patronEnv, databaseUrl: s.databaseUrl, label: 'bench_api_read',
    ...(s.cpuProfileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfileDir}`] } : {}) });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(16, ...s.concurrency) });
  try {
    const url = new URL(patron.url);
    const auth = { authorization: `Bearer ${patron.apiKey}` };

    // Seed: members with realistic fields, created through the API.
    log(`api-read: creating ${s.members} members…`);
    const ids: string[] = new Array(s.members);
    const seedStart = process.hrtime.bigint();
    await pool(s.members, 16, async (i) => {
      const body = JSON.stringify({
        external_id: `bench-${i}`, email: `member${i}@bench.example`, phone: `+3598${String(10_000_000 + i).slice(-8)}`,
        first_name: `First${i}`, last_name: `Last${i}`, locale: (['en', 'bg', 'ru', 'ro', 'pl'] as const)[i % 5], attributes: { tier: i % 3, city: 'Sofia' },
      });
      const res = await request(agent, url, 'POST', '/v1/members', auth, body);
      if (res.status !== 201) throw new Error(`creating member ${i}: ${res.status} ${res.body}`);
      ids[i] = (JSON.parse(res.body) as { id: string }).id;
    });
    const seedSeconds = Number(process.hrtime.bigint() - seedStart) / 1e9;

    const read = (i: number) => request(agent, url, 'GET', `/v1/members/${ids[Math.floor(Math.random() * ids.length)]}`, auth);

    log(`api-read: warming up (${s.warmupRequests} requests)…`);
    await pool(s.warmupRequests, Math.max(...s.concurrency), async (i) => {
      await read(i);
    });

    const runs: LevelResult[] = [];
    let peakDuringReads = patron.memory().rss;
    const sampler = setInterval(() => {
      peakDuringReads = Math.max(peakDuringReads, patron.memory().rss);
    }, 100);
    try {
      for (const concurrency of s.concurrency) {
        log(`api-read: ${s.requests} requests, ${concurrency} concurrent, at most ${s.durationSeconds} s…`);
        const latencies = new Float64Array(s.requests);
        let errors = 0;
        const start = process.hrtime.bigint();
        const done = await pool(s.requests, concurrency, async (i) => {
          const t0 = process.hrtime.bigint();
          const res = await read(i);
          latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
          if (res.status !== 200) errors++;
        }, Date.now() + s.durationSeconds * 1000);
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        runs.push({
          concurrency,
          requests: done,
          errors,
          duration_s: round(seconds, 3),
          requests_per_second: Math.round(done / seconds),
          latency_ms: latencyOf(latencies.subarray(0, done)),
        });
      }
    } finally {
      clearInterval(sampler);
    }
    peakDuringReads = Math.max(peakDuringReads, patron.memory().rss);
    const { peakRss } = patron.memory();

    const result: ApiReadResult = {
      benchmark: 'api-read',
      date: new Date().toISOString(),
      machine: { ...machineInfo(), postgres: patron.postgresVersion, load_average_at_end: os.loadavg().map((l) => round(l)) },
      settings: {
        members: s.members, requests_per_level: s.requests, concurrency: s.concurrency, duration_cap_s: s.durationSeconds, warmup_requests: s.warmupRequests,
        database: patron.database, client: 'node:http keep-alive agent in another process, same machine, loopback', patron_env: patronEnv,
      },
      results: {
        runs,
        peak_rss_mb: round(peakRss / 2 ** 20, 1),
        peak_rss_during_reads_mb: round(peakDuringReads / 2 ** 20, 1),
        seed_members_per_second: Math.round(s.members / seedSeconds),
      },
      target: { p99_ms: P99_TARGET_MS, met_at_concurrency: runs.filter((r) => r.latency_ms.p99 < P99_TARGET_MS).map((r) => r.concurrency) },
    };
    return result;
  } finally {
    agent.destroy();
    await patron.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      members: { type: 'string' },
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'log-level': { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
  });
  const num = (v: string | undefined, def: number) => (v === undefined ? def : Number(v));
  const result = await runApiReadBench({
    members: num(values.members, DEFAULTS.members),
    requests: num(values.requests, DEFAULTS.requests),
    concurrency: values.concurrency ? values.concurrency.split(',').map(Number) : DEFAULTS.concurrency,
    durationSeconds: num(values.duration, DEFAULTS.durationSeconds),
    warmupRequests: num(values.warmup, DEFAULTS.warmupRequests),
    ...(values['log-level'] ? { patronEnv: { LOG_LEVEL: values['log-level'] } } : {}),
    ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
  });
  const r = result.results;
  const lines = [
    '',
    `GET /v1/members/{id} on ${result.settings.members} members, ${result.settings.database} PostgreSQL ${result.machine.postgres}, ${result.machine.cpu_count} CPUs`,
    `  concurrency  requests/s   p50 ms   p90 ms   p99 ms   max ms   errors   (target p99 < ${P99_TARGET_MS} ms)`,
    ...r.runs.map((x) =>
      `  ${String(x.concurrency).padStart(11)}  ${String(x.requests_per_second).padStart(10)}  ${String(x.latency_ms.p50).padStart(7)}  ${String(x.latency_ms.p90).padStart(7)}  ${String(x.latency_ms.p99).padStart(7)}  ${String(x.latency_ms.max).padStart(7)}  ${String(x.errors).padStart(7)}   ${x.latency_ms.p99 < P99_TARGET_MS ? 'met' : 'not met'}`),
    `  peak RSS of the Patron process: ${r.peak_rss_mb} MB (${r.peak_rss_during_reads_mb} MB during the reads)`,
    `  written to ${writeResult('api-read', result)}`,
    '',
  ];
  console.log(lines.join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
