/**
 * `npm run bench:webhooks`: how fast committed domain events leave Patron as signed webhooks.
 *
 *  1. Patron as its own process on a fresh database (DATABASE_URL's server, or the embedded PostgreSQL), with its
 *     production defaults but WEBHOOK_ALLOW_PRIVATE_NETWORKS=true (the receiver is on loopback). A tenant made with
 *     the operator key; ENDPOINTS endpoints subscribed to `member.updated`, each pointing at a receiver in this
 *     process (node:http on 127.0.0.1) that checks every request's Standard Webhooks signature with the official
 *     `standardwebhooks` package and answers 204.
 *  2. The events are committed straight into the outbox by SQL, as a module's transaction would write them (the
 *     write path of each module is measured by its own benchmark; this one measures what happens after the commit:
 *     the dispatcher's fan-out, then the deliveries). They concern MEMBERS members, so per-member order is exercised.
 *  3. Backlog: BURST events in one transaction; the time from the commit to the last delivery gives deliveries per
 *     second (the dispatcher and the senders draining a backlog, e.g. after an import or an outage).
 *  4. Steady: RATE events per second for DURATION seconds, committed in batches every 100 ms; each delivery's latency
 *     is from its batch's commit to its arrival at the receiver (p50/p90/p99). It includes the wait for the next
 *     dispatch (DELIVERY_POLL_MS, default 1000 ms); the dispatch then starts the sending at once.
 *
 * Every event must arrive at every endpoint exactly once (counted by webhook-id), in order per member, with a valid
 * signature; the run fails otherwise. Prints the figures and writes bench/results/webhooks.json.
 *
 *   npm run bench:webhooks                                  (20,000-event backlog; 200 events/s for 20 s; 1 endpoint)
 *   npm run bench:webhooks -- --burst 2000 --rate 50 --duration 5 --endpoints 2 --poll-ms 200
 *   Other flags: --members, --database-url, --log-level.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { CpuTracker, postmasterOf, type CpuUse } from './lib/cpu.js';
import { latencyOf, request, type LatencyMs } from './lib/http-load.js';
import { startBenchPatron } from './lib/patron-process.js';
import { steadyLoad } from './lib/steady.js';
import { machineInfo, round, wholeNumberArg, writeResult } from './lib/report.js';

export interface WebhooksSettings {
  burst: number;
  /** Events per second in the steady phase (0: no steady phase). */
  rate: number;
  durationSeconds: number;
  members: number;
  endpoints: number;
  /** DELIVERY_POLL_MS of the Patron process (its default: 1000). */
  pollMs: number;
  databaseUrl?: string;
  patronEnv?: Record<string, string>;
  /** Node.js flags of the Patron process (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it). */
  patronNodeArgs?: string[];
}

export const DEFAULTS: WebhooksSettings = { burst: 20_000, rate: 200, durationSeconds: 20, members: 1000, endpoints: 1, pollMs: 1000 };

export interface WebhooksResult {
  benchmark: 'webhooks';
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: {
    backlog: {
      events: number;
      deliveries: number;
      seconds_to_first: number;
      seconds_to_last: number;
      deliveries_per_second: number;
      cpu: CpuUse & { patron_ms_per_delivery: number; postgres_ms_per_delivery: number };
    };
    steady: null | {
      events: number;
      deliveries: number;
      events_per_second: number;
      latency_ms: LatencyMs;
    };
    /**
     * At the receivers: deliveries seen twice, out of member order, badly signed or malformed. In the database once
     * all arrived: deliveries not succeeded or attempted more than once (a round recorded late or lost is sent again
     * after its lease: counted here even when its second arrival came after the run).
     */
    checks: { duplicates: number; order_violations: number; bad_signatures: number; malformed: number; not_succeeded: number; retried: number };
    peak_rss_mb: number;
  };
}


/** One endpoint's receiver: what arrived (webhook-id, event number, member, when) and what was wrong with it. */
interface Arrival {
  n: number;
  at: number;
}
class BenchReceiver {
  readonly arrivals: Arrival[] = [];
  readonly seenIds = new Set<string>();
  /** The last event number seen per member (order check). */
  private readonly lastOfMember = new Map<string, number>();
  duplicates = 0;
  orderViolations = 0;
  badSignatures = 0;
  /** Bodies without the benchmark's event number (`data.payload.bench_n`). */
  malformed = 0;
  private verifier: Webhook | null = null;
  private waiters: Array<() => void> = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.timeOrigin + performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
      try {
        this.verifier!.verify(body, headers);
      } catch {
        this.badSignatures++;
      }
      const id = headers['webhook-id'] ?? '';
      if (this.seenIds.has(id)) this.duplicates++;
      else {
        this.seenIds.add(id);
        const data = JSON.parse(body).data as { member_id: string; payload: { bench_n: number } };
        const n = data.payload?.bench_n;
        if (!Number.isInteger(n)) this.malformed++;
        else {
          if ((this.lastOfMember.get(data.member_id) ?? -1) > n) this.orderViolations++;
          this.lastOfMember.set(data.member_id, n);
          this.arrivals.push({ n, at });
        }
      }
      res.writeHead(204).end();
      for (const w of this.waiters.splice(0)) w();
    });
  });

  async listen(): Promise<string> {
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  useSecret(secret: string): void {
    this.verifier = new Webhook(secret);
  }

  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.arrivals.length < n) {
      if (Date.now() > deadline) throw new Error(`the receiver got ${this.arrivals.length} of ${n} deliveries in ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What the delivery log says once everything arrived: every delivery succeeded at its first attempt. */
async function deliveryLog(db: pg.Client, tenantId: string, expected: number): Promise<{ not_succeeded: number; retried: number }> {
  const r = (await db.query(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'succeeded')::int AS not_succeeded,
            count(*) FILTER (WHERE attempts <> 1)::int AS retried
       FROM webhook_deliveries WHERE tenant_id = $1`,
    [tenantId],
  )).rows[0];
  return { not_succeeded: r.not_succeeded + Math.max(0, expected - r.n), retried: r.retried };
}

/**
 * Commits events numbered [from, to) into the tenant's outbox in one transaction, as a module would (member.updated,
 * the member by number modulo the member list). Returns the commit time (epoch ms).
 */
async function commitEvents(db: pg.Client, tenantId: string, members: string[], from: number, to: number): Promise<number> {
  await db.query(
    `INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
     SELECT $1, gen_random_uuid(), 'member.updated', 'member', m.id::text, m.id,
            jsonb_build_object('member_id', m.id, 'changed_fields', jsonb_build_array('first_name'), 'bench_n', n),
            now()
       FROM generate_series($2::int, $3::int - 1) AS n
       CROSS JOIN LATERAL (SELECT ($4::uuid[])[1 + n % cardinality($4::uuid[])] AS id) AS m
      ORDER BY n`,
    [tenantId, from, to, members],
  );
  return performance.timeOrigin + performance.now();
}

export async function runWebhooksBench(partial: Partial<WebhooksSettings> = {}, log: (msg: string) => void = console.log): Promise<WebhooksResult> {
  const s: WebhooksSettings = { ...DEFAULTS, ...partial };
  const machine = machineInfo();
  const operatorKey = `op_${crypto.randomBytes(24).toString('base64url')}`;
  const patronEnv = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', DELIVERY_POLL_MS: String(s.pollMs), ...s.patronEnv };
  log(`webhooks: starting Patron on a fresh ${s.databaseUrl || process.env.DATABASE_URL ? 'database (DATABASE_URL server)' : 'embedded PostgreSQL'}…`);
  const patron = await startBenchPatron({ env: { ...patronEnv, PATRON_OPERATOR_KEY: operatorKey }, databaseUrl: s.databaseUrl, label: 'bench_webhooks', nodeArgs: s.patronNodeArgs });
  const agent = new http.Agent({ keepAlive: true });
  const base = new URL(patron.url);
  const db = new pg.Client({ connectionString: patron.databaseUrl });
  const receivers = Array.from({ length: s.endpoints }, () => new BenchReceiver());
  try {
    await db.connect();
    const api = async (method: string, p: string, key: string, body?: unknown) => {
      const res = await request(agent, base, method, p, { authorization: `Bearer ${key}` }, body === undefined ? undefined : JSON.stringify(body));
      if (res.status < 200 || res.status > 299) throw new Error(`${method} ${p}: ${res.status} ${res.body.slice(0, 500)}`);
      return JSON.parse(res.body);
    };
    const made = await api('POST', '/v1/tenants', operatorKey, { name: 'Webhooks benchmark', default_currency: 'EUR', time_zone: 'Europe/Sofia' });
    const tenantId: string = made.tenant.id;
    const key: string = made.api_key;
    for (const rx of receivers) {
      const url = await rx.listen();
      const ep = await api('POST', '/v1/webhooks/endpoints', key, { url, event_types: ['member.updated'], description: 'benchmark receiver' });
      rx.useSecret(ep.secret);
    }
    // What the tenant's creation emitted is handed out first, so the backlog below is measured alone.
    await new Promise((r) => setTimeout(r, 2 * s.pollMs + 200));
    const members = Array.from({ length: s.members }, () => crypto.randomUUID());
    const postmaster = await postmasterOf(patron.databaseUrl);
    let peak = patron.memory().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, patron.memory().rss);
    }, 100);

    try {
      // ── Backlog ───────────────────────────────────────────────────────────
      log(`webhooks: a backlog of ${s.burst.toLocaleString('en')} events (${s.members.toLocaleString('en')} members) to ${s.endpoints} endpoint(s)…`);
      const tracker = new CpuTracker(patron.pid, postmaster).start();
      const committed = await commitEvents(db, tenantId, members, 0, s.burst);
      const timeout = 120_000 + (s.burst * s.endpoints) * 20; // 20 ms a delivery: far slower than any run so far
      await Promise.all(receivers.map((rx) => rx.waitFor(s.burst, timeout)));
      const cpu = tracker.stop(os.cpus().length);
      const arrivals = receivers.flatMap((rx) => rx.arrivals.map((a) => a.at));
      const first = arrivals.reduce((a, b) => Math.min(a, b), Infinity) - committed;
      const last = arrivals.reduce((a, b) => Math.max(a, b), -Infinity) - committed;
      const deliveries = s.burst * s.endpoints;
      const per = (sec: number) => round((sec * 1000) / deliveries, 3);
      const backlog = {
        events: s.burst, deliveries, seconds_to_first: round(first / 1000, 3), seconds_to_last: round(last / 1000, 3),
        deliveries_per_second: Math.round(deliveries / (last / 1000)),
        cpu: { ...cpu, patron_ms_per_delivery: per(cpu.patron_s), postgres_ms_per_delivery: per(cpu.postgres_s) },
      };
      log(`webhooks: ${backlog.deliveries_per_second.toLocaleString('en')} deliveries/s (last after ${backlog.seconds_to_last} s)`);

      // ── Steady ────────────────────────────────────────────────────────────
      let steady: WebhooksResult['results']['steady'] = null;
      if (s.rate > 0) {
        log(`webhooks: ${s.rate} events/s for ${s.durationSeconds} s, committed every 100 ms…`);
        const { next, commitOf } = await steadyLoad((from, to) => commitEvents(db, tenantId, members, from, to), s.burst, s.rate, s.durationSeconds);
        const events = next - s.burst;
        await Promise.all(receivers.map((rx) => rx.waitFor(s.burst + events, 120_000)));
        const lat = receivers.flatMap((rx) => rx.arrivals.filter((a) => a.n >= s.burst).map((a) => a.at - commitOf(a.n)));
        steady = { events, deliveries: lat.length, events_per_second: round(events / s.durationSeconds, 1), latency_ms: latencyOf(lat) };
        log(`webhooks: steady p50 ${steady.latency_ms.p50} ms, p99 ${steady.latency_ms.p99} ms`);
      }

      const total = s.burst + (steady?.events ?? 0);
      // Every arrival seen: give a round that would be sent again (its lease ran out) time to be recorded.
      await new Promise((r) => setTimeout(r, 2 * s.pollMs));
      const checks = {
        duplicates: receivers.reduce((a, rx) => a + rx.duplicates, 0),
        order_violations: receivers.reduce((a, rx) => a + rx.orderViolations, 0),
        bad_signatures: receivers.reduce((a, rx) => a + rx.badSignatures, 0),
        malformed: receivers.reduce((a, rx) => a + rx.malformed, 0),
        ...(await deliveryLog(db, tenantId, total * s.endpoints)),
      };
      clearInterval(sampler);
      const { peakRss } = patron.memory();
      return {
        benchmark: 'webhooks',
        date: new Date().toISOString(),
        machine: { ...machine, postgres: patron.postgresVersion, load_average_at_end: os.loadavg().map((l) => round(l)) },
        settings: {
          burst: s.burst, rate: s.rate, duration_s: s.durationSeconds, members: s.members, endpoints: s.endpoints, database: patron.database, patron_env: patronEnv,
          events: 'member.updated rows committed into outbox_events by SQL (the module write path is not measured here)',
          receiver: 'node:http on 127.0.0.1 in the benchmark process, verifies every signature with standardwebhooks, answers 204',
        },
        results: { backlog, steady, checks, peak_rss_mb: round(Math.max(peak, peakRss) / 2 ** 20, 1) },
      };
    } finally {
      clearInterval(sampler);
    }
  } catch (err) {
    log(`webhooks: failed; the end of Patron's log:\n${patron.logTail()}`);
    throw err;
  } finally {
    await db.end().catch(() => undefined);
    agent.destroy();
    await patron.stop();
    for (const rx of receivers) await rx.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      burst: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' }, members: { type: 'string' }, endpoints: { type: 'string' },
      'poll-ms': { type: 'string' }, 'database-url': { type: 'string' }, 'log-level': { type: 'string' },
    },
  });
  const result = await runWebhooksBench({
    burst: wholeNumberArg('burst', values.burst, DEFAULTS.burst, 1),
    rate: wholeNumberArg('rate', values.rate, DEFAULTS.rate, 0),
    durationSeconds: wholeNumberArg('duration', values.duration, DEFAULTS.durationSeconds, 1),
    members: wholeNumberArg('members', values.members, DEFAULTS.members, 1),
    endpoints: wholeNumberArg('endpoints', values.endpoints, DEFAULTS.endpoints, 1),
    pollMs: wholeNumberArg('poll-ms', values['poll-ms'], DEFAULTS.pollMs, 50),
    ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
    ...(values['log-level'] ? { patronEnv: { LOG_LEVEL: values['log-level'] } } : {}),
  }, (m) => console.error(`# ${m}`));
  const r = result.results;
  const b = r.backlog;
  const c = r.checks;
  console.log([
    '',
    `Webhooks: ${result.settings.endpoints} endpoint(s), ${result.settings.members} members, DELIVERY_POLL_MS ${(result.settings.patron_env as Record<string, string>).DELIVERY_POLL_MS}, ${result.settings.database} PostgreSQL ${result.machine.postgres}, ${result.machine.cpu_count} CPUs`,
    `  backlog: ${b.events.toLocaleString('en')} events → ${b.deliveries.toLocaleString('en')} deliveries in ${b.seconds_to_last} s = ${b.deliveries_per_second.toLocaleString('en')} deliveries/s (first after ${b.seconds_to_first} s)`,
    `           CPU per delivery: Patron ${b.cpu.patron_ms_per_delivery} ms, PostgreSQL ${b.cpu.postgres_ms_per_delivery} ms; cores busy ${b.cpu.machine_busy === null ? '?' : Math.round(b.cpu.machine_busy * 100)} %`,
    r.steady
      ? `  steady:  ${r.steady.events_per_second} events/s, ${r.steady.deliveries.toLocaleString('en')} deliveries; commit → receiver p50 ${r.steady.latency_ms.p50} ms, p90 ${r.steady.latency_ms.p90} ms, p99 ${r.steady.latency_ms.p99} ms, max ${r.steady.latency_ms.max} ms`
      : '  steady:  not run (--rate 0)',
    `  checks: ${c.duplicates} duplicates, ${c.order_violations} out of member order, ${c.bad_signatures} bad signatures, ${c.malformed} malformed; in the log ${c.not_succeeded} not succeeded, ${c.retried} attempted more than once`,
    `  peak RSS of the Patron process: ${r.peak_rss_mb} MB`,
    `  written to ${writeResult('webhooks', result)}`,
    '',
  ].join('\n'));
  if (c.duplicates + c.order_violations + c.bad_signatures + c.malformed + c.not_succeeded + c.retried > 0) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
