/**
 * The api-read benchmark at a tiny scale, so that it keeps working: it starts
 * Patron, seeds members, reads them and reports figures. No assertion on
 * speed: only that the figures are there and every read succeeded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runApiReadBench } from '../../bench/api-read.js';

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
