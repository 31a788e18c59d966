/** The retry schedule, pure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JITTER, MAX_ATTEMPTS, MIN_RETRY_SPAN_MS, nextAttemptAt, RETRY_DELAYS_MS } from './webhooks.retry.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const T = new Date('2031-01-01T00:00:00Z');

/** Walks the whole schedule from T with one jitter draw; returns the attempt times. */
function walk(random: () => number): Date[] {
  const times = [T];
  for (let n = 1; ; n++) {
    const next = nextAttemptAt(n, T, times[times.length - 1]!, random);
    if (!next) return times;
    times.push(next);
  }
}

test('the schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; 8 attempts in all', () => {
  assert.deepEqual(RETRY_DELAYS_MS, [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H]);
  assert.equal(MAX_ATTEMPTS, 8);
  const times = walk(() => 0.5); // no jitter
  assert.equal(times.length, 8);
  assert.deepEqual(times.slice(1).map((t, i) => t.getTime() - times[i]!.getTime()), RETRY_DELAYS_MS);
  assert.equal(times[7]!.getTime() - T.getTime(), 27 * H + 35 * M + 5 * S);
});

test('jitter stays within ±20 %', () => {
  for (const r of [0, 0.25, 0.999999]) {
    const times = walk(() => r);
    for (let i = 1; i < 7; i++) {
      const gap = times[i]!.getTime() - times[i - 1]!.getTime();
      const nominal = RETRY_DELAYS_MS[i - 1]!;
      assert.ok(gap >= nominal * (1 - JITTER) && gap <= nominal * (1 + JITTER), `retry ${i} with random ${r}: ${gap}`);
    }
  }
  assert.equal(nextAttemptAt(1, T, T, () => 0)!.getTime() - T.getTime(), 4 * S);
  assert.equal(nextAttemptAt(1, T, T, () => 1)!.getTime() - T.getTime(), 6 * S);
});

test('retries span at least 24 hours, even when every draw is low', () => {
  const low = walk(() => 0);
  assert.equal(low.length, 8);
  assert.ok(low[7]!.getTime() - T.getTime() >= MIN_RETRY_SPAN_MS);
  // Only the last retry is pushed out; the others keep their jittered delays.
  assert.equal(low[6]!.getTime() - low[5]!.getTime(), 10 * H * 0.8);
  assert.equal(low[7]!.getTime() - T.getTime(), 24 * H);
  assert.ok(walk(Math.random)[7]!.getTime() - T.getTime() >= 24 * H);
});

test('after the last attempt there is none; bad input throws', () => {
  assert.equal(nextAttemptAt(8, T, T), null);
  assert.equal(nextAttemptAt(9, T, T), null);
  assert.throws(() => nextAttemptAt(0, T, T));
  assert.throws(() => nextAttemptAt(1.5, T, T));
});
