/** SLA arithmetic in business time: weekends, holidays, outside hours, DST in Europe/Sofia, 24/7. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ALWAYS_OPEN, addBusinessMinutes, intervalErrors, type BusinessHours } from './cases.sla.js';

const NINE_TO_FIVE: BusinessHours = {
  time_zone: 'Europe/Sofia',
  weekly: { mon: [['09:00', '17:00']], tue: [['09:00', '17:00']], wed: [['09:00', '17:00']], thu: [['09:00', '17:00']], fri: [['09:00', '17:00']], sat: [], sun: [] },
  holidays: [],
};
const at = (iso: string) => new Date(iso);
const add = (start: string, minutes: number, hours: BusinessHours = NINE_TO_FIVE) => addBusinessMinutes(at(start), minutes, hours).toISOString();

describe('addBusinessMinutes', () => {
  test('inside hours on a weekday: plain minutes', () => {
    // Wed 2031-01-15 10:00 Sofia (UTC+2) = 08:00Z; 60 minutes later.
    assert.equal(add('2031-01-15T08:00:00Z', 60), '2031-01-15T09:00:00.000Z');
    assert.equal(add('2031-01-15T08:00:00Z', 0), '2031-01-15T08:00:00.000Z');
  });

  test('runs over closing time into the next morning', () => {
    // Wed 16:30 local + 60 min = Thu 09:30 local (07:30Z).
    assert.equal(add('2031-01-15T14:30:00Z', 60), '2031-01-16T07:30:00.000Z');
    // Exactly at closing: 30 minutes end at 17:00 sharp, not the next morning.
    assert.equal(add('2031-01-15T14:30:00Z', 30), '2031-01-15T15:00:00.000Z');
  });

  test('a case opened outside hours starts counting at the next opening', () => {
    // Wed 22:00 local -> Thu 09:00 local + 30 min.
    assert.equal(add('2031-01-15T20:00:00Z', 30), '2031-01-16T07:30:00.000Z');
    // Wed 06:00 local (before opening) -> the same day 09:00 + 120 min.
    assert.equal(add('2031-01-15T04:00:00Z', 120), '2031-01-15T09:00:00.000Z');
  });

  test('weekends are skipped', () => {
    // Fri 16:00 local + 120 min = Mon 10:00 local.
    assert.equal(add('2031-01-17T14:00:00Z', 120), '2031-01-20T08:00:00.000Z');
    // Saturday noon + 60 = Monday 10:00.
    assert.equal(add('2031-01-18T10:00:00Z', 60), '2031-01-20T08:00:00.000Z');
    // Several days: 3 business days of 8 hours from Mon 09:00 = Wed 17:00.
    assert.equal(add('2031-01-20T07:00:00Z', 3 * 480), '2031-01-22T15:00:00.000Z');
  });

  test('holidays are skipped', () => {
    const hours = { ...NINE_TO_FIVE, holidays: ['2031-01-16', '2031-01-17'] };
    // Wed 16:30 + 60 = (Thu, Fri holidays, weekend) Mon 09:30.
    assert.equal(add('2031-01-15T14:30:00Z', 60, hours), '2031-01-20T07:30:00.000Z');
  });

  test('several intervals a day (a lunch break)', () => {
    const split: BusinessHours = { ...NINE_TO_FIVE, weekly: { ...NINE_TO_FIVE.weekly, wed: [['09:00', '12:00'], ['13:00', '17:00']] } };
    // Wed 11:30 local + 60 = 13:30 local.
    assert.equal(add('2031-01-15T09:30:00Z', 60, split), '2031-01-15T11:30:00.000Z');
  });

  test('DST in Europe/Sofia: business hours follow the wall clock across the change', () => {
    // Clocks go forward on Sun 2031-03-30 (UTC+2 -> UTC+3). Fri 16:00 local (14:00Z) + 120 = Mon 10:00 local = 07:00Z.
    assert.equal(add('2031-03-28T14:00:00Z', 120), '2031-03-31T07:00:00.000Z');
    // Clocks go back on Sun 2031-10-26 (UTC+3 -> UTC+2). Fri 16:00 local (13:00Z) + 120 = Mon 10:00 local = 08:00Z.
    assert.equal(add('2031-10-24T13:00:00Z', 120), '2031-10-27T08:00:00.000Z');
  });

  test('24/7 hours: business minutes are elapsed minutes, also over a DST night', () => {
    const always: BusinessHours = { time_zone: 'Europe/Sofia', ...ALWAYS_OPEN };
    assert.equal(add('2031-01-18T10:00:00Z', 90, always), '2031-01-18T11:30:00.000Z');
    // Over the night clocks go back: 24 hours of business time are 24 real hours.
    assert.equal(add('2031-10-25T12:00:00Z', 24 * 60, always), '2031-10-26T12:00:00.000Z');
    assert.equal(add('2031-03-29T12:00:00Z', 24 * 60, always), '2031-03-30T12:00:00.000Z');
  });

  test('an interval starting in the skipped hour starts an hour later on the wall clock', () => {
    // On 2031-03-30 local 03:00-04:00 does not exist in Sofia. Open 03:30-05:00 that Sunday: 03:30 becomes 04:30 local
    // (01:30Z), so the interval is 30 minutes long that day and 30 minutes end at 05:00 local (02:00Z).
    const hours: BusinessHours = { ...NINE_TO_FIVE, weekly: { ...NINE_TO_FIVE.weekly, sun: [['03:30', '05:00']] } };
    assert.equal(add('2031-03-29T22:00:00Z', 30, hours), '2031-03-30T02:00:00.000Z');
    // 40 minutes do not fit that day: 10 more from Monday 09:00 local (06:00Z, UTC+3 now).
    assert.equal(add('2031-03-29T22:00:00Z', 40, hours), '2031-03-31T06:10:00.000Z');
  });

  test('a calendar that is never open is refused, not looped over', () => {
    const closed: BusinessHours = { ...NINE_TO_FIVE, weekly: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] } };
    assert.throws(() => add('2031-01-15T08:00:00Z', 60, closed), RangeError);
  });
});

describe('intervalErrors', () => {
  test('accepts ordered intervals and 24:00; refuses bad ones', () => {
    assert.equal(intervalErrors([['09:00', '12:00'], ['13:00', '24:00']]), null);
    assert.match(intervalErrors([['12:00', '09:00']])!, /start must be before/);
    assert.match(intervalErrors([['09:00', '12:00'], ['11:00', '13:00']])!, /overlap/);
    assert.match(intervalErrors([['9:00', '12:00']])!, /HH:MM/);
    assert.match(intervalErrors([['24:00', '24:00']])!, /HH:MM/);
  });
});
