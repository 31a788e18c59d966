/**
 * `npm run bench:vouchers`: code generation and validate-and-redeem under HTTP load.
 *
 *  1. Patron as its own process on a fresh database (DATABASE_URL's server, or the embedded PostgreSQL), with its
 *     production defaults (JSON log lines, the job worker, rate limiting on: the global limit and the stricter voucher
 *     look-up limit, set high enough that the load does not reach them, so their cost is in the figures). A tenant
 *     made with the operator key.
 *  2. Generation: `POST /v1/voucher-batches` of GENERATE codes (default 100,000, pattern ****-****-****), timed from
 *     the request to the answer: codes per second. The codes' count and uniqueness are checked in the database.
 *  3. Load: C workers on keep-alive connections; each takes the next code of the batch, validates it for a basket
 *     (`GET /v1/vouchers/{code}/validation?total&currency`) and, when valid, redeems it
 *     (`POST /v1/vouchers/{code}/redemptions`, an Idempotency-Key each), for DURATION seconds or FLOWS flows. Every
 *     answer that is not 2xx is an error and fails the run. Latency per request, per kind and together.
 *
 * Target (issue 5): p99 under 20 ms for validation and for redemption (Voucherify publishes validation at 100 ms
 * median and 220 ms p95). Prints the figures and writes bench/results/vouchers.json.
 *
 *   npm run bench:vouchers                                   (100,000 codes; C 8; 20 s)
 *   npm run bench:vouchers -- --generate 2000 --flows 300 --concurrency 4
 *   Other flags: --duration, --warmup, --pattern, --database-url, --log-level.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { CpuTracker, postmasterOf, type CpuUse } from './lib/cpu.js';
import { latencyOf, pool, request, type LatencyMs } from './lib/http-load.js';
import { startBenchPatron } from './lib/patron-process.js';
import { machineInfo, round, wholeNumberArg, writeResult } from './lib/report.js';

export interface VouchersSettings {
  generate: number;
  pattern: string;
  concurrency: number;
  durationSeconds: number;
  /** Cap on validate-and-redeem flows (Infinity: the duration only; never more than the codes generated). */
  flows: number;
  warmupFlows: number;
  databaseUrl?: string;
  patronEnv?: Record<string, string>;
}

export const DEFAULTS: VouchersSettings = { generate: 100_000, pattern: '****-****-****', concurrency: 8, durationSeconds: 20, flows: Infinity, warmupFlows: 500 };
export const TARGETS = { p99_ms: 20 };

export interface KindResult {
  requests: number;
  latency_ms: LatencyMs;
}

export interface VouchersResult {
  benchmark: 'vouchers';
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: {
    generation: { codes: number; seconds: number; codes_per_second: number; unique: boolean; collisions: number };
    load: {
      flows: number;
      requests: number;
      errors: number;
      error_samples: string[];
      duration_s: number;
      requests_per_second: number;
      flows_per_second: number;
      validation: KindResult;
      redemption: KindResult;
      all: KindResult;
      cpu: CpuUse & { patron_ms_per_request: number; postgres_ms_per_request: number };
    };
    peak_rss_mb: number;
    peak_rss_during_load_mb: number;
  };
  targets: typeof TARGETS & { met: { validation_p99: boolean; redemption_p99: boolean } };
}


export async function runVouchersBench(partial: Partial<VouchersSettings> = {}, log: (msg: string) => void = console.log): Promise<VouchersResult> {
  const s: VouchersSettings = { ...DEFAULTS, ...partial };
  const machine = machineInfo();
  const operatorKey = `op_${crypto.randomBytes(24).toString('base64url')}`;
  const patronEnv = {
    RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '10000000', VOUCHER_RATE_LIMIT_MAX: '10000000', VOUCHER_RATE_LIMIT_MISSES: '1000', ...s.patronEnv,
  };
  log(`vouchers: starting Patron on a fresh ${s.databaseUrl || process.env.DATABASE_URL ? 'database (DATABASE_URL server)' : 'embedded PostgreSQL'}…`);
  const patron = await startBenchPatron({ env: { ...patronEnv, PATRON_OPERATOR_KEY: operatorKey }, databaseUrl: s.databaseUrl, label: 'bench_vouchers' });
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(16, s.concurrency) });
  const base = new URL(patron.url);
  const db = new pg.Client({ connectionString: patron.databaseUrl });
  await db.connect();
  try {
    const api = async (method: string, p: string, key: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await request(agent, base, method, p, { authorization: `Bearer ${key}`, ...headers }, body === undefined ? undefined : JSON.stringify(body));
      if (res.status < 200 || res.status > 299) throw new Error(`${method} ${p}: ${res.status} ${res.body.slice(0, 500)}`);
      return JSON.parse(res.body);
    };
    const made = await api('POST', '/v1/tenants', operatorKey, { name: 'Vouchers benchmark', default_currency: 'EUR', time_zone: 'Europe/Sofia' });
    const tenantId: string = made.tenant.id;
    const key: string = made.api_key;
    const currency: string = (await api('GET', '/v1/program', key)).currency;

    // ── Generation ────────────────────────────────────────────────────────
    log(`vouchers: generating ${s.generate.toLocaleString('en')} codes (${s.pattern})…`);
    const t0 = process.hrtime.bigint();
    const batch = await api('POST', '/v1/voucher-batches', key, { count: s.generate, pattern: s.pattern, kind: 'fixed_amount', amount: 500, min_basket: 1000 });
    const genSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const stats = (await db.query(`SELECT count(*)::int AS n, count(DISTINCT code)::int AS d FROM vouchers WHERE tenant_id = $1 AND batch_id = $2`, [tenantId, batch.id])).rows[0];
    if (stats.n !== s.generate || stats.d !== s.generate) throw new Error(`the batch has ${stats.n} vouchers with ${stats.d} distinct codes, expected ${s.generate}`);
    const generation = { codes: s.generate, seconds: round(genSeconds, 3), codes_per_second: Math.round(s.generate / genSeconds), unique: true, collisions: batch.collisions };
    log(`vouchers: ${generation.codes_per_second.toLocaleString('en')} codes/s (${generation.seconds} s)`);
    // Random order: consecutive flows do not walk the code index in order.
    const codes = (await db.query<{ code: string }>(`SELECT code FROM vouchers WHERE tenant_id = $1 AND batch_id = $2 ORDER BY random()`, [tenantId, batch.id])).rows.map((r) => r.code);

    // ── Validate and redeem ───────────────────────────────────────────────
    let next = 0;
    const runId = crypto.randomBytes(4).toString('hex');
    const flow = async (record: (kind: 'validation' | 'redemption', ms: number, status: number, body: string) => void) => {
      const code = codes[next++];
      if (code === undefined) throw new Error('out of codes: generate more (--generate) or run shorter');
      const total = 1500 + Math.floor(Math.random() * 8000);
      let t = process.hrtime.bigint();
      const v = await request(agent, base, 'GET', `/v1/vouchers/${encodeURIComponent(code)}/validation?total=${total}&currency=${currency}`, { authorization: `Bearer ${key}` });
      record('validation', Number(process.hrtime.bigint() - t) / 1e6, v.status, v.body);
      if (v.status !== 200 || !JSON.parse(v.body).valid) return;
      const orderRef = `bench-${runId}-${code}`;
      t = process.hrtime.bigint();
      const r = await request(agent, base, 'POST', `/v1/vouchers/${encodeURIComponent(code)}/redemptions`, { authorization: `Bearer ${key}`, 'idempotency-key': orderRef },
        JSON.stringify({ order_ref: orderRef, total, currency }));
      record('redemption', Number(process.hrtime.bigint() - t) / 1e6, r.status, r.body);
    };

    const warmup = Math.min(s.warmupFlows, Math.floor(codes.length / 10));
    log(`vouchers: warming up (${warmup} flows)…`);
    let warmErrors = 0;
    await pool(warmup, s.concurrency, () => flow((_k, _ms, status) => {
      if (status < 200 || status > 299) warmErrors++;
    }));
    if (warmErrors) throw new Error(`warm-up: ${warmErrors} errors`);

    const cap = Math.min(codes.length - next, Number.isFinite(s.flows) ? s.flows : Infinity);
    log(`vouchers: validate-and-redeem, ${s.concurrency} concurrent, ${s.durationSeconds} s or ${cap.toLocaleString('en')} flows…`);
    const lat = { validation: [] as number[], redemption: [] as number[] };
    let errors = 0;
    const samples: string[] = [];
    const record = (kind: 'validation' | 'redemption', ms: number, status: number, body: string) => {
      lat[kind].push(ms);
      if (status < 200 || status > 299) {
        errors++;
        if (samples.length < 5) samples.push(`${kind} ${status}: ${body.slice(0, 300)}`);
      }
    };
    const postmaster = await postmasterOf(patron.databaseUrl);
    let peak = patron.memory().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, patron.memory().rss);
    }, 100);
    const tracker = new CpuTracker(patron.pid, postmaster).start();
    const start = process.hrtime.bigint();
    let flows: number;
    try {
      flows = await pool(cap, s.concurrency, () => flow(record), Date.now() + s.durationSeconds * 1000);
    } finally {
      clearInterval(sampler);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = tracker.stop(os.cpus().length);
    const requests = lat.validation.length + lat.redemption.length;
    const per = (sec: number) => round((sec * 1000) / Math.max(1, requests), 3);
    const redeemed = (await db.query(`SELECT count(*)::int AS n FROM voucher_redemptions WHERE tenant_id = $1`, [tenantId])).rows[0].n;
    if (redeemed !== warmup + lat.redemption.length - errors) log(`vouchers: ${redeemed} redemptions stored (${lat.redemption.length} sent)`);
    const load = {
      flows, requests, errors, error_samples: samples, duration_s: round(seconds, 3),
      requests_per_second: round(requests / seconds, 1), flows_per_second: round(flows / seconds, 1),
      validation: { requests: lat.validation.length, latency_ms: latencyOf(lat.validation) },
      redemption: { requests: lat.redemption.length, latency_ms: latencyOf(lat.redemption) },
      all: { requests, latency_ms: latencyOf([...lat.validation, ...lat.redemption]) },
      cpu: { ...cpu, patron_ms_per_request: per(cpu.patron_s), postgres_ms_per_request: per(cpu.postgres_s) },
    };
    const { peakRss } = patron.memory();
    return {
      benchmark: 'vouchers',
      date: new Date().toISOString(),
      machine: { ...machine, postgres: patron.postgresVersion, load_average_at_end: os.loadavg().map((l) => round(l)) },
      settings: {
        generate: s.generate, pattern: s.pattern, concurrency: s.concurrency, duration_cap_s: s.durationSeconds, flows_cap: Number.isFinite(s.flows) ? s.flows : null,
        warmup_flows: warmup, database: patron.database, patron_env: patronEnv,
        flow: 'GET /v1/vouchers/{code}/validation?total&currency, then POST /v1/vouchers/{code}/redemptions (Idempotency-Key), a fresh fixed_amount code per flow',
        client: 'node:http keep-alive agent in another process, same machine, loopback',
      },
      results: { generation, load, peak_rss_mb: round(peakRss / 2 ** 20, 1), peak_rss_during_load_mb: round(peak / 2 ** 20, 1) },
      targets: { ...TARGETS, met: { validation_p99: load.validation.latency_ms.p99 < TARGETS.p99_ms, redemption_p99: load.redemption.latency_ms.p99 < TARGETS.p99_ms } },
    };
  } finally {
    await db.end().catch(() => undefined);
    agent.destroy();
    await patron.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      generate: { type: 'string' }, pattern: { type: 'string' }, concurrency: { type: 'string' }, duration: { type: 'string' },
      flows: { type: 'string' }, warmup: { type: 'string' }, 'database-url': { type: 'string' }, 'log-level': { type: 'string' },
    },
  });
  const result = await runVouchersBench({
    generate: wholeNumberArg('generate', values.generate, DEFAULTS.generate, 1),
    pattern: values.pattern ?? DEFAULTS.pattern,
    concurrency: wholeNumberArg('concurrency', values.concurrency, DEFAULTS.concurrency, 1),
    durationSeconds: wholeNumberArg('duration', values.duration, DEFAULTS.durationSeconds, 1),
    flows: values.flows === undefined ? Infinity : wholeNumberArg('flows', values.flows, 0, 1),
    warmupFlows: wholeNumberArg('warmup', values.warmup, DEFAULTS.warmupFlows, 0),
    ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
    ...(values['log-level'] ? { patronEnv: { LOG_LEVEL: values['log-level'] } } : {}),
  }, (m) => console.error(`# ${m}`));
  const r = result.results;
  const l = r.load;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const row = (name: string, x: KindResult) =>
    `  ${name.padEnd(11)} ${String(x.requests).padStart(8)} ${String(x.latency_ms.p50).padStart(7)} ${String(x.latency_ms.p90).padStart(7)} ${String(x.latency_ms.p99).padStart(7)} ${String(x.latency_ms.max).padStart(8)}`;
  console.log([
    '',
    `Voucher codes: ${r.generation.codes.toLocaleString('en')} generated in ${r.generation.seconds} s = ${r.generation.codes_per_second.toLocaleString('en')} codes/s (unique; ${r.generation.collisions} redrawn)`,
    `Validate and redeem: ${l.flows} flows, ${l.requests} requests in ${l.duration_s} s = ${l.requests_per_second} requests/s (${l.flows_per_second} flows/s), ${l.errors} errors; ${result.settings.concurrency} concurrent, ${result.settings.database} PostgreSQL ${result.machine.postgres}, ${result.machine.cpu_count} CPUs`,
    '  kind        requests  p50 ms  p90 ms  p99 ms   max ms',
    row('validation', l.validation),
    row('redemption', l.redemption),
    row('all', l.all),
    `  CPU per request: Patron ${l.cpu.patron_ms_per_request} ms, PostgreSQL ${l.cpu.postgres_ms_per_request} ms; cores busy ${l.cpu.machine_busy === null ? '?' : Math.round(l.cpu.machine_busy * 100)} %`,
    `  p99 target < ${TARGETS.p99_ms} ms: validation ${mark(result.targets.met.validation_p99)}, redemption ${mark(result.targets.met.redemption_p99)}`,
    `  peak RSS of the Patron process: ${r.peak_rss_mb} MB (${r.peak_rss_during_load_mb} MB during the load)`,
    `  written to ${writeResult('vouchers', result)}`,
    '',
  ].join('\n'));
  if (l.errors > 0) {
    console.error(`vouchers: ${l.errors} requests failed, e.g. ${l.error_samples.slice(0, 3).join(' | ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
