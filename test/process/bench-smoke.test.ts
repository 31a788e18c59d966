/**
 * The benchmarks at a tiny scale, so that they keep working: each starts
 * Patron, seeds what it needs, runs its load and reports figures. No assertion
 * on speed: only that the figures are there, every request succeeded and the
 * ledger is consistent afterwards.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAnalyticsBench } from '../../bench/analytics.js';
import { runApiReadBench } from '../../bench/api-read.js';
import { runEarnBench } from '../../bench/earn.js';
import { runExpiryBench } from '../../bench/expiry.js';
import { findPgbench } from '../../bench/lib/pgbench.js';
import { afternoonZone, runMessagesBench } from '../../bench/messages.js';
import { runWebhooksBench } from '../../bench/webhooks.js';

test('bench:api-read runs end to end at a tiny scale', async () => {
  const result = await runApiReadBench({ members: 50, requests: 200, concurrency: [1, 4], warmupRequests: 20, durationSeconds: 120 }, () => undefined);
  assert.equal(result.benchmark, 'api-read');
  assert.equal(result.settings.database, 'external', 'the suite gives DATABASE_URL, so the bench made a fresh database on that server');
  assert.deepEqual(result.results.runs.map((r) => [r.concurrency, r.requests, r.errors]), [[1, 200, 0], [4, 200, 0]]);
  for (const run of result.results.runs) {
    const l = run.latency_ms;
    assert.ok(run.requests_per_second > 0);
    assert.ok(l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, JSON.stringify(l));
  }
  assert.ok(result.results.peak_rss_mb > 10, 'the peak RSS of the Patron process was measured');
  assert.match(String(result.machine.postgres), /^\d+/);
});

test('bench:earn runs end to end at a tiny scale, pgbench and the pre-filled ledger included', async (t) => {
  // pgbench comes with PostgreSQL's client package (on this project's machines); without it, the rest still runs.
  const pgbenchFound = findPgbench() !== null;
  if (!pgbenchFound) t.diagnostic('pgbench not found: the reference run is skipped');
  const result = await runEarnBench({
    members: 50, requests: 200, warmupRequests: 20, durationSeconds: 120, concurrency: 4,
    prefill: 2000, prefillMembers: 200, pgbenchScale: pgbenchFound ? 1 : 0, pgbenchSeconds: 1, checkLedger: true,
  }, () => undefined);
  assert.equal(result.benchmark, 'earn');
  assert.equal(result.settings.database, 'external');
  const { empty, filled, pgbench } = result.results;
  assert.deepEqual([empty.requests, empty.errors], [200, 0], JSON.stringify(empty.error_samples));
  assert.ok(empty.bonus_share > 0 && empty.bonus_share < 1, `the basket bonus applied to some purchases only (${empty.bonus_share})`);
  assert.ok(empty.latency_ms.p50 > 0 && empty.latency_ms.p50 <= empty.latency_ms.p99);
  if (pgbenchFound) {
    assert.ok(pgbench && pgbench.tps > 0, 'pgbench ran on the same server and its tps was parsed');
    assert.ok(result.results.ratio_to_pgbench! > 0);
  }
  assert.ok(filled, 'the pre-filled phase ran');
  assert.deepEqual([filled.requests, filled.errors, filled.members_drawn_from], [200, 0, 200], JSON.stringify(filled.error_samples));
  assert.equal(filled.fill.entries, 2000);
  assert.deepEqual(filled.ledger_check && [filled.ledger_check.violations, filled.ledger_check.samples], [0, []], 'the filled ledger (and the earnings on it) keep every invariant');
  assert.ok(result.results.p99_filled_over_empty! > 0);
  assert.ok(result.results.peak_rss_mb > 10);
});

test('bench:expiry runs end to end at a tiny scale and leaves a consistent ledger', async () => {
  const result = await runExpiryBench({ members: 200, lots: 2000 }, () => undefined);
  assert.equal(result.benchmark, 'expiry');
  const { job, checks, fill } = result.results;
  assert.equal(fill.entries, 2000);
  assert.deepEqual([job.lots_expired, job.members, job.points], [2000, 200, fill.points]);
  assert.deepEqual(job.answer, { job: 'ledger.expire-points', result: { tenants: 1, expired: { members: 200, points: fill.points }, inactive: { members: 0, points: 0 } } });
  assert.deepEqual([checks.violations, checks.lots_not_expired, checks.balances_not_zero], [0, 0, 0], JSON.stringify(checks.violation_samples));
  assert.ok(job.seconds > 0 && job.lots_per_second > 0 && job.peak_rss_mb > 10);
});

test('bench:analytics runs end to end at a tiny scale: every stage of the run timed, the models fitted', async () => {
  const result = await runAnalyticsBench({ members: 300, orders: 3000, timeoutSeconds: 300 }, () => undefined);
  assert.equal(result.benchmark, 'analytics');
  const { fill, run, behaviour } = result.results;
  assert.equal(fill.members, 300);
  assert.ok(fill.orders > 2000 && fill.orders < 4000, `about the orders asked for (${fill.orders})`);
  assert.equal(run.status, 'succeeded');
  assert.equal(run.members_scored, fill.customers, 'every member with an order was scored');
  for (const stage of ['summary', 'rfm', 'cohorts', 'bgnbd', 'gamma_gamma', 'scoring', 'publish']) {
    const s = run.stages.find((x) => x.name === stage);
    assert.ok(s && s.status === 'succeeded' && s.seconds >= 0, `${stage}: ${JSON.stringify(s)}`);
  }
  assert.ok((run.model.bgnbd as { params: { r: number } }).params.r > 0, 'BG/NBD fitted');
  assert.ok(run.peak_rss_mb > 10 && behaviour.seconds > 0 && behaviour.customers_at_end !== null);
});

test('bench:webhooks runs end to end at a tiny scale: every event delivered once, in member order, signed', async () => {
  const result = await runWebhooksBench({ burst: 300, rate: 40, durationSeconds: 2, members: 30, endpoints: 2, pollMs: 200 }, () => undefined);
  assert.equal(result.benchmark, 'webhooks');
  const { backlog, steady, checks } = result.results;
  assert.deepEqual(checks, { duplicates: 0, order_violations: 0, bad_signatures: 0, malformed: 0, not_succeeded: 0, retried: 0 });
  assert.equal(backlog.deliveries, 600, 'each event to each of the two endpoints');
  assert.ok(backlog.deliveries_per_second > 0 && backlog.seconds_to_first <= backlog.seconds_to_last);
  assert.ok(steady && steady.events > 0 && steady.deliveries === 2 * steady.events, JSON.stringify(steady));
  assert.ok(steady.latency_ms.p50 > 0 && steady.latency_ms.p50 <= steady.latency_ms.p99);
  assert.ok(result.results.peak_rss_mb > 10);
});

test('bench:messages runs end to end at a tiny scale: every email arrives once, to its member, and is sent in the log', async () => {
  const result = await runMessagesBench({ messages: 120, members: 15, rate: 20, durationSeconds: 1, pollMs: 200 }, () => undefined);
  assert.equal(result.benchmark, 'messages');
  assert.equal(result.settings.database, 'external');
  const { setup, backlog, steady, smtp, checks } = result.results;
  assert.deepEqual(checks, { missing: 0, duplicates: 0, unknown: 0, unparsable: 0, wrong_recipient: 0, malformed: 0, unsubscribe_headers: 0, not_sent: 0, retried: 0 });
  assert.deepEqual([backlog.messages, backlog.marketing, backlog.transactional], [120, 60, 60]);
  assert.ok(backlog.messages_per_second > 0 && backlog.seconds_to_first <= backlog.seconds_to_last, JSON.stringify(backlog));
  assert.ok(backlog.cpu.patron_ms_per_message > 0 && backlog.cpu.wall_s > 0, JSON.stringify(backlog.cpu));
  assert.ok(setup.enqueue_seconds > 0 && setup.members_import_seconds > 0);
  assert.ok(steady && steady.messages > 0, JSON.stringify(steady));
  assert.ok(steady.latency_ms.p50 > 0 && steady.latency_ms.p50 <= steady.latency_ms.p99);
  assert.ok(smtp.connections >= 1 && smtp.max_transactions_in_flight >= 1 && smtp.transaction_ms_mean > 0, JSON.stringify(smtp));
  assert.ok(result.results.peak_rss_mb > 10);
});

test('bench:messages puts its members where it is early afternoon, away from the default quiet hours', () => {
  for (let h = 0; h < 24; h++) {
    const now = new Date(Date.UTC(2026, 10, 30, h, 59));
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: afternoonZone(now), hour: '2-digit', hour12: false }).format(now);
    assert.equal(local, '13', `at ${h}:59 UTC`);
  }
});
