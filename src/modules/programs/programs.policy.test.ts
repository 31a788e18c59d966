import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activatesAt, fromLocal, inactivityCutoff, lotExpiresAt, toLocal } from './programs.policy.js';
import type { ExpiryPolicy } from './programs.types.js';

const at = (iso: string) => new Date(iso);
const iso = (d: Date | null) => d?.toISOString() ?? null;
const local = (year: number, month: number, day: number, hour = 0, minute = 0) => ({ year, month, day, hour, minute, second: 0, millisecond: 0 });

test('activatesAt: null for 0 pending days, else that many days later', () => {
  assert.equal(activatesAt(0, at('2026-03-04T10:00:00Z')), null);
  assert.equal(iso(activatesAt(14, at('2026-03-04T10:00:00.123Z'))), '2026-03-18T10:00:00.123Z');
  assert.equal(iso(activatesAt(1, at('2026-12-31T23:30:00Z'))), '2027-01-01T23:30:00.000Z');
});

test('local wall time <-> instant, across daylight-saving changes', () => {
  // Europe/Sofia: +02:00 in winter, +03:00 from 29 March 2026 03:00 until 25 October 2026 04:00.
  assert.equal(iso(fromLocal(local(2026, 3, 1), 'Europe/Sofia')), '2026-02-28T22:00:00.000Z');
  assert.equal(iso(fromLocal(local(2026, 4, 1), 'Europe/Sofia')), '2026-03-31T21:00:00.000Z');
  assert.deepEqual(toLocal(at('2026-03-31T21:00:00Z'), 'Europe/Sofia'), local(2026, 4, 1));
  // New York skips 02:00-03:00 on 8 March 2026: 02:30 does not exist and moves forward by the gap.
  assert.equal(iso(fromLocal(local(2026, 3, 8, 2, 30), 'America/New_York')), '2026-03-08T07:30:00.000Z');
  // …and repeats 01:00-02:00 on 1 November 2026: 01:30 is its first occurrence (still EDT, -04:00).
  assert.equal(iso(fromLocal(local(2026, 11, 1, 1, 30), 'America/New_York')), '2026-11-01T05:30:00.000Z');
  // Chile moves from 00:00 to 01:00 on 6 September 2026: that day starts at 01:00 (-03:00).
  assert.equal(iso(fromLocal(local(2026, 9, 6), 'America/Santiago')), '2026-09-06T04:00:00.000Z');
  assert.equal(iso(fromLocal(local(2026, 9, 5, 23, 59), 'America/Santiago')), '2026-09-06T03:59:00.000Z');
});

test('never and inactivity: lots do not expire one by one', () => {
  assert.equal(lotExpiresAt({ kind: 'never' }, at('2026-03-04T10:00:00Z'), 'Europe/Sofia'), null);
  assert.equal(lotExpiresAt({ kind: 'inactivity', months: 12 }, at('2026-03-04T10:00:00Z'), 'Europe/Sofia'), null);
});

test('after_earning: calendar months, then days, on the local wall clock', () => {
  const months = (m: number, d = 0): ExpiryPolicy => ({ kind: 'after_earning', months: m, days: d });
  // 12:00 in New York on 15 October (EDT) + 1 month = 12:00 on 15 November (EST): 25 hours more than 31 days.
  assert.equal(iso(lotExpiresAt(months(1), at('2026-10-15T16:00:00Z'), 'America/New_York')), '2026-11-15T17:00:00.000Z');
  // + 1 day across the spring change is 23 hours.
  assert.equal(iso(lotExpiresAt(months(0, 1), at('2026-03-07T17:00:00Z'), 'America/New_York')), '2026-03-08T16:00:00.000Z');
  // Sofia: 10:00 on 1 March (+02:00) + 1 month = 10:00 on 1 April (+03:00).
  assert.equal(iso(lotExpiresAt(months(1), at('2026-03-01T08:00:00Z'), 'Europe/Sofia')), '2026-04-01T07:00:00.000Z');
  // The day clamps to the month's end: 31 January + 1 month = 28 February (29 in a leap year), then days are added.
  assert.equal(iso(lotExpiresAt(months(1), at('2026-01-31T15:00:00Z'), 'UTC')), '2026-02-28T15:00:00.000Z');
  assert.equal(iso(lotExpiresAt(months(1), at('2028-01-31T15:00:00Z'), 'UTC')), '2028-02-29T15:00:00.000Z');
  assert.equal(iso(lotExpiresAt(months(1, 2), at('2026-01-31T15:00:00Z'), 'UTC')), '2026-03-02T15:00:00.000Z');
  assert.equal(iso(lotExpiresAt(months(12), at('2026-05-20T09:15:30.250Z'), 'UTC')), '2027-05-20T09:15:30.250Z');
  assert.equal(iso(lotExpiresAt(months(0, 400), at('2026-05-20T00:00:00Z'), 'UTC')), '2027-06-24T00:00:00.000Z');
  // The local date decides: 23:30 UTC on 31 January is 01:30 on 1 February in Sofia.
  assert.equal(iso(lotExpiresAt(months(1), at('2026-01-31T23:30:00Z'), 'Europe/Sofia')), '2026-02-28T23:30:00.000Z');
});

test('end_of_period: the local midnight that ends the period containing the earn date, plus N periods', () => {
  const eop = (period: 'month' | 'quarter' | 'year', plus = 0): ExpiryPolicy => ({ kind: 'end_of_period', period, plus });
  // Sofia: April starts in summer time (+03:00), November in winter time (+02:00).
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-03-15T10:00:00Z'), 'Europe/Sofia')), '2026-03-31T21:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-10-10T10:00:00Z'), 'Europe/Sofia')), '2026-10-31T22:00:00.000Z');
  // 21:30 UTC on 31 March is 00:30 on 1 April in Sofia: earned in April, so it expires at the start of May.
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-03-31T21:30:00Z'), 'Europe/Sofia')), '2026-04-30T21:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-03-31T21:30:00Z'), 'UTC')), '2026-04-01T00:00:00.000Z');
  // New York: March starts in winter time (-05:00), April in summer time (-04:00).
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-02-20T12:00:00Z'), 'America/New_York')), '2026-03-01T05:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('month'), at('2026-03-20T12:00:00Z'), 'America/New_York')), '2026-04-01T04:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('month', 2), at('2026-10-20T12:00:00Z'), 'America/New_York')), '2027-01-01T05:00:00.000Z');
  // Quarters and years, plus N.
  assert.equal(iso(lotExpiresAt(eop('quarter'), at('2026-02-10T12:00:00Z'), 'Europe/Sofia')), '2026-03-31T21:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('quarter', 1), at('2026-02-10T12:00:00Z'), 'Europe/Sofia')), '2026-06-30T21:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('quarter', 3), at('2026-12-10T12:00:00Z'), 'Europe/Sofia')), '2027-09-30T21:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('year'), at('2026-06-01T12:00:00Z'), 'Europe/Sofia')), '2026-12-31T22:00:00.000Z');
  assert.equal(iso(lotExpiresAt(eop('year', 1), at('2026-06-01T12:00:00Z'), 'America/New_York')), '2028-01-01T05:00:00.000Z');
  // 22:30 UTC on 31 December 2026 is already 2027 in Sofia.
  assert.equal(iso(lotExpiresAt(eop('year'), at('2026-12-31T22:30:00Z'), 'Europe/Sofia')), '2027-12-31T22:00:00.000Z');
  // A period end is always a local midnight, whatever the offset that day.
  for (const tz of ['Europe/Sofia', 'America/New_York', 'Pacific/Auckland', 'Asia/Kolkata']) {
    for (let m = 1; m <= 12; m++) {
      const end = lotExpiresAt(eop('month'), at(`2026-${String(m).padStart(2, '0')}-15T12:00:00Z`), tz)!;
      const l = toLocal(end, tz);
      assert.deepEqual([l.day, l.hour, l.minute, l.month], [1, 0, 0, (m % 12) + 1], `${tz} month ${m}`);
      assert.equal(toLocal(new Date(end.getTime() - 1), tz).month, m, `${tz}: the instant before is still month ${m}`);
    }
  }
});

test('inactivityCutoff: now minus N calendar months; null for other policies', () => {
  assert.equal(iso(inactivityCutoff({ kind: 'inactivity', months: 12 }, at('2026-03-04T10:00:00Z'))), '2025-03-04T10:00:00.000Z');
  assert.equal(iso(inactivityCutoff({ kind: 'inactivity', months: 1 }, at('2026-03-31T10:00:00Z'))), '2026-02-28T10:00:00.000Z');
  assert.equal(iso(inactivityCutoff({ kind: 'inactivity', months: 24 }, at('2028-02-29T00:00:00Z'))), '2026-02-28T00:00:00.000Z');
  assert.equal(inactivityCutoff({ kind: 'never' }, at('2026-03-04T10:00:00Z')), null);
  assert.equal(inactivityCutoff({ kind: 'after_earning', months: 1, days: 0 }, at('2026-03-04T10:00:00Z')), null);
});
