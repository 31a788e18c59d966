/**
 * `npm run bench:messages`: how fast Patron sends queued email through SMTP (the `messages.send` pump).
 *
 *  1. An SMTP server in this process (bench/lib/smtp-sink.ts: `smtp-server` on 127.0.0.1, no TLS, no login, like the
 *     tests) that accepts every message at once and parses it with mailparser afterwards. Patron as its own process
 *     on a fresh database (DATABASE_URL's server, or the embedded PostgreSQL), production defaults but SMTP_URL
 *     pointing at that server and PATRON_PUBLIC_URL set (the base of the unsubscribe links).
 *  2. A tenant made with the operator key; its messaging settings' rate limit raised to the maximum (100,000 a minute:
 *     the default 600 would cap the tenant at 10 messages/s, which is what it is for, not what the sender can do);
 *     MEMBERS members imported with `POST /v1/members/import`, each with an email and email consent granted by the
 *     file (so Patron writes the consent state and history itself). Quiet hours keep their default (21:00–09:00): the
 *     members live in an `Etc/GMT±N` time zone where it is early afternoon when the run starts, so the check runs and
 *     holds nothing back (a message deferred would fail the run).
 *  3. Messages are queued with Patron's own `MessagingService.enqueue`, by an in-process Patron without HTTP or jobs
 *     (as the CLI builds one) on the same database, one transaction per batch, as a trigger would: every other one
 *     a marketing `birthday` (consent checked at send time, List-Unsubscribe headers), the rest a transactional
 *     `reward_issued` with a voucher code, round-robin over the members (five languages).
 *  4. Backlog: MESSAGES messages in one transaction; from its commit to the last message accepted by the SMTP server
 *     gives messages per second, with the CPU per message of Patron and PostgreSQL and Patron's peak RSS.
 *  5. Steady: RATE messages per second for DURATION seconds, committed in batches every 100 ms; each message's
 *     latency is from its batch's commit to its acceptance by the SMTP server (p50/p90/p99). It includes the wait for
 *     the next run of the pump (DELIVERY_POLL_MS, default 1000 ms).
 *
 * Every message must arrive exactly once (counted by Message-ID, which Patron records as the message's provider_id:
 * Patron sets no header of its own), to its member's address (envelope and To), with a text and an HTML part, marketing
 * with List-Unsubscribe and List-Unsubscribe-Post and transactional without; and the send log must say `sent` after
 * one attempt for every message. The run fails otherwise. Prints the figures and writes bench/results/messages.json.
 *
 *   npm run bench:messages                                   (5,000-message backlog over 1,000 members; 20/s for 20 s)
 *   npm run bench:messages -- --messages 500 --members 100 --rate 10 --duration 5 --poll-ms 200
 *   Other flags: --database-url, --log-level.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { createPatron, type Patron } from '../src/app.js';
import type { MemberRow } from '../src/modules/members/members.service.js';
import type { MessageRequest } from '../src/modules/messaging/messaging.types.js';
import type { TenantRow } from '../src/modules/tenants/tenants.store.js';
import { loadConfig } from '../src/platform/config.js';
import { createLogger } from '../src/platform/logger.js';
import { CpuTracker, postmasterOf, type CpuUse } from './lib/cpu.js';
import { latencyOf, request, type LatencyMs } from './lib/http-load.js';
import { startBenchPatron, type BenchPatron } from './lib/patron-process.js';
import { steadyLoad } from './lib/steady.js';
import { machineInfo, round, wholeNumberArg, writeResult } from './lib/report.js';
import { SmtpSink, type SinkArrival } from './lib/smtp-sink.js';

export interface MessagesSettings {
  /** Messages in the backlog. */
  messages: number;
  members: number;
  /** Messages per second in the steady phase (0: no steady phase). */
  rate: number;
  durationSeconds: number;
  /** DELIVERY_POLL_MS of the Patron process (its default: 1000). */
  pollMs: number;
  databaseUrl?: string;
  patronEnv?: Record<string, string>;
  /** Node.js flags of the Patron process (e.g. --cpu-prof --cpu-prof-dir=DIR to profile it). */
  patronNodeArgs?: string[];
}

export const DEFAULTS: MessagesSettings = { messages: 5000, members: 1000, rate: 20, durationSeconds: 20, pollMs: 1000 };

/** The base of the unsubscribe links (PATRON_PUBLIC_URL); nothing listens there, the links are only checked. */
const PUBLIC_URL = 'https://loyalty.bench.example';
const LOCALES = ['en', 'bg', 'ru', 'ro', 'pl'] as const;
const FIRST_NAMES = ['Anna', 'Иван', 'Maria', 'Łucja', 'Ștefan', 'Olga', 'Petar', 'Emma'];

export interface MessagesResult {
  benchmark: 'messages';
  date: string;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  results: {
    setup: { members_import_seconds: number; enqueue_seconds: number; enqueued_per_second: number };
    backlog: {
      messages: number;
      marketing: number;
      transactional: number;
      seconds_to_first: number;
      seconds_to_last: number;
      messages_per_second: number;
      cpu: CpuUse & { patron_ms_per_message: number; postgres_ms_per_message: number };
    };
    steady: null | { messages: number; messages_per_second: number; latency_ms: LatencyMs };
    /** How Patron used the SMTP server over the whole run. */
    smtp: { connections: number; max_transactions_in_flight: number; transaction_ms_mean: number };
    /**
     * At the SMTP server: messages missing, seen twice, of no message in the send log, to another address than the
     * member's, without To, text or HTML, with the wrong unsubscribe headers for their category. In the send log once
     * everything arrived: messages not `sent`, or sent after more than one attempt.
     */
    checks: {
      missing: number; duplicates: number; unknown: number; unparsable: number; wrong_recipient: number; malformed: number;
      unsubscribe_headers: number; not_sent: number; retried: number;
    };
    peak_rss_mb: number;
  };
}

/** One member of the benchmark: Patron's row (read after the import) and the address the mail must go to. */
interface BenchMember {
  row: MemberRow;
  email: string;
}

/** An `Etc/GMT±N` zone where it is 13:00–13:59 now: well away from the default quiet hours (21:00–09:00). */
export function afternoonZone(now: Date): string {
  let offset = (((13 - now.getUTCHours()) % 24) + 24) % 24;
  if (offset > 12) offset -= 24;
  // The Etc zones' signs are POSIX-style: Etc/GMT-3 is three hours ahead of UTC.
  return offset === 0 ? 'Etc/UTC' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

/** The members file: member k is `member{k}@bench.example`, email consent granted, in the afternoon zone. */
function membersCsv(count: number, zone: string): string {
  const lines = ['external_id,email,first_name,last_name,locale,time_zone,consent_email'];
  for (let k = 0; k < count; k++) {
    lines.push(`B${k},member${k}@bench.example,${FIRST_NAMES[k % FIRST_NAMES.length]},Bench,${LOCALES[k % LOCALES.length]},${zone},true`);
  }
  return lines.join('\n') + '\n';
}

/** Imports the members through the API (Patron writes them, their consent state and history); returns the seconds. */
async function importMembers(patron: BenchPatron, key: string, csv: string, expected: number): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(`${patron.url}/v1/members/import`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'text/csv' }, body: csv });
  const accepted = (await res.json()) as { id: string };
  if (res.status !== 202) throw new Error(`members import answered ${res.status}: ${JSON.stringify(accepted)}`);
  for (;;) {
    const status = (await (await fetch(`${patron.url}/v1/members/import/${accepted.id}`, { headers: { authorization: `Bearer ${key}` } })).json()) as { status: string; counts: { created: number } };
    if (status.status === 'succeeded') {
      if (status.counts.created !== expected) throw new Error(`the import created ${status.counts.created} members, expected ${expected}: ${JSON.stringify(status)}`);
      return (performance.now() - t0) / 1000;
    }
    if (status.status === 'failed') throw new Error(`the members import failed: ${JSON.stringify(status)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the tenant's outbox is handed out, so that what the import emitted does not run beside the backlog. */
async function outboxDrained(db: pg.Client, tenantId: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { n } = (await db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND dispatched_at IS NULL`, [tenantId])).rows[0];
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} events of the tenant still undispatched after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Message n of the run: to member n mod MEMBERS; even n a marketing birthday, odd n a transactional reward. */
function requestOf(n: number, member: BenchMember): MessageRequest {
  const base = { dedupeKey: `bench:${n}`, memberId: member.row.id };
  return n % 2 === 0
    ? { ...base, trigger: 'birthday', variables: { points: { balance: 100 + (n % 900) }, offer: null } }
    : { ...base, trigger: 'reward_issued', variables: { reward: { name: 'Free coffee', code: `BENCH-${String(n).padStart(6, '0')}`, expires_on: null } } };
}

/**
 * Queues messages [from, to) in one transaction with Patron's own enqueue, the member rows and tenant preloaded as a
 * scheduled trigger does. Returns the commit time (epoch ms).
 */
async function enqueueRange(enqueuer: Patron, tenant: TenantRow, members: BenchMember[], from: number, to: number): Promise<number> {
  await enqueuer.db.tx(async (tx) => {
    for (let n = from; n < to; n++) {
      const member = members[n % members.length]!;
      const r = await enqueuer.services.messaging.enqueue(tx, tenant.id, requestOf(n, member), { member: member.row, tenant });
      if (!r.created || r.status !== 'queued') throw new Error(`message ${n} was not queued: ${JSON.stringify(r)}`);
    }
  });
  return performance.timeOrigin + performance.now();
}

interface LogRow {
  id: string;
  dedupe_key: string;
  member_id: string;
  category: 'marketing' | 'transactional';
  status: string;
  attempts: number;
  provider_id: string | null;
}

/** The send log once nothing is queued or being sent any more (an outcome is written just after the SMTP answer). */
async function settledLog(db: pg.Client, tenantId: string, timeoutMs: number): Promise<LogRow[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await db.query<LogRow>(
      `SELECT id, dedupe_key, member_id, category, status, attempts, provider_id FROM messages WHERE tenant_id = $1`, [tenantId])).rows;
    if (!rows.some((r) => r.status === 'queued' || r.status === 'sending') || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The run's correctness: every message once, to its member, well formed, `sent` after one attempt. */
export function checkRun(sink: SmtpSink, log: LogRow[], members: BenchMember[], total: number): MessagesResult['results']['checks'] {
  const arrivals = new Map<string, SinkArrival>();
  let duplicates = 0;
  for (const a of sink.arrivals) {
    if (arrivals.has(a.messageId)) duplicates++;
    else arrivals.set(a.messageId, a);
  }
  const logged = new Set(log.map((r) => r.provider_id));
  const unknown = [...arrivals.keys()].filter((id) => !logged.has(id)).length;
  let missing = Math.max(0, total - log.length);
  let wrongRecipient = 0;
  let malformed = 0;
  let unsubscribe = 0;
  const unsubscribeUrl = new RegExp(`^<${PUBLIC_URL.replace(/\./g, '\\.')}/u/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+>$`);
  for (const row of log) {
    const a = row.provider_id ? arrivals.get(row.provider_id) : undefined;
    if (!a) {
      missing++;
      continue;
    }
    const member = members[Number(row.dedupe_key.slice('bench:'.length)) % members.length]!;
    const to = member.email.toLowerCase();
    if (row.member_id !== member.row.id || a.rcpt.length !== 1 || a.rcpt[0] !== to || a.to.length !== 1 || a.to[0] !== to) wrongRecipient++;
    if (!a.hasText || !a.hasHtml) malformed++;
    const oneClick = a.listUnsubscribe !== null && unsubscribeUrl.test(a.listUnsubscribe) && a.listUnsubscribePost === 'List-Unsubscribe=One-Click';
    const none = a.listUnsubscribe === null && a.listUnsubscribePost === null;
    if (row.category === 'marketing' ? !oneClick : !none) unsubscribe++;
  }
  return {
    missing, duplicates, unknown, unparsable: sink.unparsable, wrong_recipient: wrongRecipient, malformed, unsubscribe_headers: unsubscribe,
    not_sent: log.filter((r) => r.status !== 'sent').length + Math.max(0, total - log.length),
    retried: log.filter((r) => r.attempts !== 1).length,
  };
}

export async function runMessagesBench(partial: Partial<MessagesSettings> = {}, log: (msg: string) => void = console.log): Promise<MessagesResult> {
  const s: MessagesSettings = { ...DEFAULTS, ...partial };
  const machine = machineInfo();
  const operatorKey = `op_${crypto.randomBytes(24).toString('base64url')}`;
  const sink = new SmtpSink();
  const smtpUrl = await sink.listen();
  const patronEnv = { SMTP_URL: smtpUrl, PATRON_PUBLIC_URL: PUBLIC_URL, DELIVERY_POLL_MS: String(s.pollMs), ...s.patronEnv };
  log(`messages: starting Patron on a fresh ${s.databaseUrl || process.env.DATABASE_URL ? 'database (DATABASE_URL server)' : 'embedded PostgreSQL'}…`);
  let patron: BenchPatron;
  try {
    patron = await startBenchPatron({ env: { ...patronEnv, PATRON_OPERATOR_KEY: operatorKey }, databaseUrl: s.databaseUrl, label: 'bench_messages', nodeArgs: s.patronNodeArgs });
  } catch (err) {
    await sink.close();
    throw err;
  }
  const agent = new http.Agent({ keepAlive: true });
  const base = new URL(patron.url);
  const db = new pg.Client({ connectionString: patron.databaseUrl });
  let enqueuer: Patron | null = null;
  try {
    await db.connect();
    const api = async (method: string, p: string, key: string, body?: unknown) => {
      const res = await request(agent, base, method, p, { authorization: `Bearer ${key}` }, body === undefined ? undefined : JSON.stringify(body));
      if (res.status < 200 || res.status > 299) throw new Error(`${method} ${p}: ${res.status} ${res.body.slice(0, 500)}`);
      return JSON.parse(res.body);
    };
    const made = await api('POST', '/v1/tenants', operatorKey, { name: 'Messages benchmark', default_currency: 'EUR', time_zone: 'Europe/Sofia' });
    const tenantId: string = made.tenant.id;
    const key: string = made.api_key;
    await api('PATCH', '/v1/messaging/settings', key, { rate_limit_per_minute: 100_000 });
    const zone = afternoonZone(new Date());
    log(`messages: importing ${s.members.toLocaleString('en')} members (time zone ${zone})…`);
    const importSeconds = await importMembers(patron, key, membersCsv(s.members, zone), s.members);
    await outboxDrained(db, tenantId, 60_000);

    // The enqueuer: Patron's own code in this process, without HTTP or jobs (as a CLI command builds it).
    const config = loadConfig({ DATABASE_URL: patron.databaseUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DB_POOL_SIZE: '2' });
    enqueuer = await createPatron({ config, logger: createLogger('warn'), jobs: 'off', http: false });
    const tenant = (await enqueuer.services.tenants.getTenant(enqueuer.db, tenantId))!;
    const rows = (await db.query<{ id: string; external_id: string }>(`SELECT id, external_id FROM members WHERE tenant_id = $1`, [tenantId])).rows;
    const members: BenchMember[] = new Array(s.members);
    for (const r of rows) {
      const k = Number(r.external_id.slice(1));
      members[k] = { row: (await enqueuer.services.members.find(enqueuer.db, tenantId, { id: r.id }))!, email: `member${k}@bench.example` };
    }
    const en = enqueuer;
    const enqueue = (from: number, to: number) => enqueueRange(en, tenant, members, from, to);
    const postmaster = await postmasterOf(patron.databaseUrl);
    let peak = patron.memory().rss;
    const sampler = setInterval(() => {
      peak = Math.max(peak, patron.memory().rss);
    }, 100);

    try {
      // ── Backlog ───────────────────────────────────────────────────────────
      log(`messages: a backlog of ${s.messages.toLocaleString('en')} messages to ${s.members.toLocaleString('en')} members…`);
      const t0 = performance.timeOrigin + performance.now();
      const committed = await enqueue(0, s.messages);
      // From the commit on: nothing can be sent before it, and the enqueue's own work is not the sender's.
      const tracker = new CpuTracker(patron.pid, postmaster).start();
      const enqueueSeconds = (committed - t0) / 1000;
      log(`messages: queued in ${enqueueSeconds.toFixed(1)} s; sending…`);
      await sink.waitFor(s.messages, 120_000 + s.messages * 50); // 50 ms a message: far slower than any run so far
      const cpu = tracker.stop(os.cpus().length);
      await sink.parsePending();
      const times = sink.arrivals.map((a) => a.at);
      const first = times.reduce((a, b) => Math.min(a, b), Infinity) - committed;
      const last = times.reduce((a, b) => Math.max(a, b), -Infinity) - committed;
      const per = (sec: number) => round((sec * 1000) / s.messages, 3);
      const backlog = {
        messages: s.messages, marketing: Math.ceil(s.messages / 2), transactional: Math.floor(s.messages / 2),
        seconds_to_first: round(first / 1000, 3), seconds_to_last: round(last / 1000, 3),
        messages_per_second: round(s.messages / (last / 1000), 1),
        cpu: { ...cpu, patron_ms_per_message: per(cpu.patron_s), postgres_ms_per_message: per(cpu.postgres_s) },
      };
      log(`messages: ${backlog.messages_per_second} messages/s (last after ${backlog.seconds_to_last} s)`);

      // ── Steady ────────────────────────────────────────────────────────────
      let steady: MessagesResult['results']['steady'] = null;
      if (s.rate > 0) {
        log(`messages: ${s.rate} messages/s for ${s.durationSeconds} s, committed every 100 ms…`);
        const { next, commitOf } = await steadyLoad(enqueue, s.messages, s.rate, s.durationSeconds);
        const count = next - s.messages;
        await sink.waitFor(next, 120_000 + count * 50);
        await sink.parsePending();
        const byProvider = new Map((await db.query<{ provider_id: string; dedupe_key: string }>(
          `SELECT provider_id, dedupe_key FROM messages WHERE tenant_id = $1 AND provider_id IS NOT NULL`, [tenantId])).rows.map((r) => [r.provider_id, Number(r.dedupe_key.slice('bench:'.length))]));
        const lat: number[] = [];
        for (const a of sink.arrivals) {
          const n = byProvider.get(a.messageId);
          if (n !== undefined && n >= s.messages) lat.push(a.at - commitOf(n));
        }
        steady = { messages: count, messages_per_second: round(count / s.durationSeconds, 1), latency_ms: latencyOf(lat) };
        log(`messages: steady p50 ${steady.latency_ms.p50} ms, p99 ${steady.latency_ms.p99} ms`);
      }

      const total = s.messages + (steady?.messages ?? 0);
      const checks = checkRun(sink, await settledLog(db, tenantId, 30_000), members, total);
      clearInterval(sampler);
      const { peakRss } = patron.memory();
      return {
        benchmark: 'messages',
        date: new Date().toISOString(),
        machine: { ...machine, postgres: patron.postgresVersion, load_average_at_end: os.loadavg().map((l) => round(l)) },
        settings: {
          messages: s.messages, members: s.members, rate: s.rate, duration_s: s.durationSeconds, database: patron.database, patron_env: { ...patronEnv, SMTP_URL: 'smtp://127.0.0.1:<port>' },
          rate_limit_per_minute: 100_000, quiet_hours: 'default 21:00–09:00; members in an Etc/GMT±N zone where it is afternoon at the start',
          queued: 'MessagingService.enqueue in an in-process Patron (no HTTP, no jobs); half birthday (marketing), half reward_issued (transactional)',
          smtp_server: 'smtp-server on 127.0.0.1 in the benchmark process, no TLS, accepts at the end of DATA, parses with mailparser after',
        },
        results: {
          setup: { members_import_seconds: round(importSeconds), enqueue_seconds: round(enqueueSeconds), enqueued_per_second: Math.round(s.messages / enqueueSeconds) },
          backlog, steady, smtp: { connections: sink.connections, max_transactions_in_flight: sink.maxInFlight, transaction_ms_mean: round(sink.transactionMs / Math.max(1, sink.accepted), 3) },
          checks,
          peak_rss_mb: round(Math.max(peak, peakRss) / 2 ** 20, 1),
        },
      };
    } finally {
      clearInterval(sampler);
    }
  } catch (err) {
    log(`messages: failed; the end of Patron's log:\n${patron.logTail()}`);
    throw err;
  } finally {
    await enqueuer?.close().catch(() => undefined);
    await db.end().catch(() => undefined);
    agent.destroy();
    await patron.stop();
    await sink.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string' }, members: { type: 'string' }, rate: { type: 'string' }, duration: { type: 'string' },
      'poll-ms': { type: 'string' }, 'database-url': { type: 'string' }, 'log-level': { type: 'string' },
    },
  });
  const result = await runMessagesBench({
    messages: wholeNumberArg('messages', values.messages, DEFAULTS.messages, 1),
    members: wholeNumberArg('members', values.members, DEFAULTS.members, 1),
    rate: wholeNumberArg('rate', values.rate, DEFAULTS.rate, 0),
    durationSeconds: wholeNumberArg('duration', values.duration, DEFAULTS.durationSeconds, 1),
    pollMs: wholeNumberArg('poll-ms', values['poll-ms'], DEFAULTS.pollMs, 50),
    ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
    ...(values['log-level'] ? { patronEnv: { LOG_LEVEL: values['log-level'] } } : {}),
  }, (m) => console.error(`# ${m}`));
  const r = result.results;
  const b = r.backlog;
  const c = r.checks;
  console.log([
    '',
    `Messages: ${result.settings.members} members, DELIVERY_POLL_MS ${(result.settings.patron_env as Record<string, string>).DELIVERY_POLL_MS}, ${result.settings.database} PostgreSQL ${result.machine.postgres}, ${result.machine.cpu_count} CPUs`,
    `  setup:   ${result.settings.members} members imported in ${r.setup.members_import_seconds} s; ${b.messages.toLocaleString('en')} messages queued in ${r.setup.enqueue_seconds} s (${r.setup.enqueued_per_second.toLocaleString('en')}/s, one transaction)`,
    `  backlog: ${b.messages.toLocaleString('en')} messages (${b.marketing} marketing) in ${b.seconds_to_last} s = ${b.messages_per_second} messages/s (first after ${b.seconds_to_first} s)`,
    `           CPU per message: Patron ${b.cpu.patron_ms_per_message} ms, PostgreSQL ${b.cpu.postgres_ms_per_message} ms; cores busy ${b.cpu.machine_busy === null ? '?' : Math.round(b.cpu.machine_busy * 100)} %`,
    r.steady
      ? `  steady:  ${r.steady.messages_per_second} messages/s, ${r.steady.messages.toLocaleString('en')} messages; commit → SMTP accepted p50 ${r.steady.latency_ms.p50} ms, p90 ${r.steady.latency_ms.p90} ms, p99 ${r.steady.latency_ms.p99} ms, max ${r.steady.latency_ms.max} ms`
      : '  steady:  not run (--rate 0)',
    `  SMTP:    ${r.smtp.connections} connection(s) opened, at most ${r.smtp.max_transactions_in_flight} message(s) in flight at once, MAIL FROM → end of DATA ${r.smtp.transaction_ms_mean} ms on average`,
    `  checks:  ${c.missing} missing, ${c.duplicates} duplicates, ${c.unknown} unknown, ${c.unparsable} unparsable, ${c.wrong_recipient} to the wrong address, ${c.malformed} malformed, ${c.unsubscribe_headers} with wrong unsubscribe headers; in the log ${c.not_sent} not sent, ${c.retried} attempted more than once`,
    `  peak RSS of the Patron process: ${r.peak_rss_mb} MB`,
    `  written to ${writeResult('messages', result)}`,
    '',
  ].join('\n'));
  if (Object.values(c).some((n) => n > 0)) process.exit(1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
