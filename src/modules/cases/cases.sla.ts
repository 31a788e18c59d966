/**
 * SLA arithmetic in business time: when a target of N business minutes, started at a moment, falls due in a tenant's
 * weekly opening hours, time zone and holidays. Pure (luxon for the time zone rules), so it is tested on its own.
 *
 * Business minutes are real elapsed minutes inside opening intervals: an interval 00:00-24:00 on the night clocks go
 * back is 25 hours long. A local time that does not exist (the hour skipped when clocks go forward) is moved forward
 * by luxon by the length of the gap (03:30 becomes 04:30), so an interval starting in that hour opens later that day.
 */
import { DateTime } from 'luxon';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** 'HH:MM' from '00:00' to '24:00'. */
export type LocalTime = string;

export interface BusinessHours {
  /** IANA time zone the hours and holidays are in. */
  time_zone: string;
  /** Opening intervals per weekday, [start, end) as 'HH:MM' ('24:00' ends at midnight); an empty list: closed. */
  weekly: Record<Weekday, Array<[LocalTime, LocalTime]>>;
  /** Local dates (YYYY-MM-DD) closed all day. */
  holidays: string[];
}

/** Around the clock, every day. */
export const ALWAYS_OPEN: Omit<BusinessHours, 'time_zone'> = {
  weekly: Object.fromEntries(WEEKDAYS.map((d) => [d, [['00:00', '24:00']]])) as BusinessHours['weekly'],
  holidays: [],
};

const TIME_RE = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;
export const isLocalTime = (v: unknown): v is LocalTime => typeof v === 'string' && TIME_RE.test(v);
const minutesOf = (t: LocalTime) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/** How far ahead a due time is searched: a calendar with (almost) no opening hours is refused rather than looped over. */
const MAX_DAYS = 3 * 366;

/** Every problem of one weekday's intervals: well-formed, start before end, sorted and not overlapping. */
export function intervalErrors(intervals: Array<[LocalTime, LocalTime]>): string | null {
  let last = -1;
  for (const [from, to] of intervals) {
    if (!isLocalTime(from) || !isLocalTime(to) || from === '24:00') return "must be [start, end] pairs of 'HH:MM' times (end may be '24:00')";
    const a = minutesOf(from);
    const b = minutesOf(to);
    if (a >= b) return `${from}-${to}: the start must be before the end`;
    if (a < last) return 'intervals must be in order and must not overlap';
    last = b;
  }
  return null;
}

/** The moment `minutes` business minutes after `start` (at `start` itself when it is 0 and open). */
export function addBusinessMinutes(start: Date, minutes: number, hours: BusinessHours): Date {
  if (!Number.isFinite(minutes) || minutes < 0) throw new RangeError('minutes must be a non-negative number');
  const holidays = new Set(hours.holidays);
  let remainingMs = minutes * 60_000;
  const startMs = start.getTime();
  let day = DateTime.fromMillis(startMs, { zone: hours.time_zone }).startOf('day');
  for (let i = 0; i < MAX_DAYS; i++, day = day.plus({ days: 1 }).startOf('day')) {
    if (holidays.has(day.toISODate()!)) continue;
    const weekday = WEEKDAYS[day.weekday - 1]!;
    for (const [from, to] of hours.weekly[weekday] ?? []) {
      const openMs = localMoment(day, from);
      const closeMs = localMoment(day, to);
      const fromMs = Math.max(openMs, startMs);
      if (fromMs >= closeMs) continue;
      const available = closeMs - fromMs;
      if (remainingMs <= available) return new Date(fromMs + remainingMs);
      remainingMs -= available;
    }
  }
  throw new RangeError(`no due time within ${MAX_DAYS} days: the business hours are (almost) never open`);
}

/** The absolute moment of a local wall time on `day` ('24:00' is the next day's midnight). */
function localMoment(day: DateTime, t: LocalTime): number {
  if (t === '24:00') return day.plus({ days: 1 }).startOf('day').toMillis();
  const m = minutesOf(t);
  return DateTime.fromObject({ year: day.year, month: day.month, day: day.day, hour: Math.floor(m / 60), minute: m % 60 }, { zone: day.zone }).toMillis();
}
