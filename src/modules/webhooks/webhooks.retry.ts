/**
 * The retry schedule of a webhook delivery (docs/webhooks.md), Standard Webhooks / Svix style: the first attempt at
 * once, then retries after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each with ±20 % jitter so that the
 * deliveries an outage failed together do not all come back at the same second. Pure: no clock, no database.
 */

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

/** Delay before retry n (index 0: after the first attempt). */
export const RETRY_DELAYS_MS: readonly number[] = [5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H];

/** Attempts in all: the first one and one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

export const JITTER = 0.2;

/**
 * The schedule promises retries over at least this long after the first attempt: the last retry is never earlier,
 * even when every delay drew the low end of its jitter (the nominal total is 27 h 35 min).
 */
export const MIN_RETRY_SPAN_MS = 24 * H;

/**
 * When to try again after `attempts` attempts (the first at `firstAttemptAt`, the latest at `now`) all failed;
 * null when the schedule is exhausted. `random` in [0, 1) draws the jitter.
 */
export function nextAttemptAt(attempts: number, firstAttemptAt: Date, now: Date, random: () => number = Math.random): Date | null {
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`attempts must be a positive integer, got ${attempts}`);
  if (attempts >= MAX_ATTEMPTS) return null;
  const base = RETRY_DELAYS_MS[attempts - 1]!;
  const delay = Math.round(base * (1 + JITTER * (2 * random() - 1)));
  let at = now.getTime() + delay;
  if (attempts === MAX_ATTEMPTS - 1) at = Math.max(at, firstAttemptAt.getTime() + MIN_RETRY_SPAN_MS);
  return new Date(at);
}
