/**
 * The date math of program settings, pure and time-zone aware: when pending points become active, when a lot of
 * points expires, and the cutoff of inactivity expiry. Calendar arithmetic happens on the local wall time of the
 * tenant's zone (Intl, with the ICU time zone data Node ships) and is turned back into an instant at the end, so a
 * month is a calendar month and midnight is local midnight on either side of a daylight-saving change.
 */
import type { ExpiryPolicy } from './programs.types.js';

const DAY_MS = 86_400_000;

/** A wall-clock time in some zone; month 1..12. */
export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

// Creating a DateTimeFormat is costly (tens of microseconds); these run on every purchase.
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time of an instant in `timeZone`. */
/** YYYY-MM-DD of an instant in a time zone. */
export function localDate(at: Date, timeZone: string): string {
  const l = toLocal(at, timeZone);
  return `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

export function toLocal(at: Date, timeZone: string): LocalDateTime {
  const ms = at.getTime();
  const out: LocalDateTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, millisecond: ((ms % 1000) + 1000) % 1000 };
  for (const p of formatter(timeZone).formatToParts(at)) {
    if (p.type === 'year' || p.type === 'month' || p.type === 'day' || p.type === 'hour' || p.type === 'minute' || p.type === 'second') out[p.type] = Number(p.value);
  }
  return out;
}

const wallMs = (l: LocalDateTime): number => {
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0..99 to 1900..1999.
  d.setUTCFullYear(l.year, l.month - 1, l.day);
  d.setUTCHours(l.hour, l.minute, l.second, l.millisecond);
  return d.getTime();
};

/** The zone's offset from UTC at an instant, in milliseconds (Sofia in summer: +3 h). */
function offsetAt(ms: number, timeZone: string): number {
  return wallMs(toLocal(new Date(ms), timeZone)) - ms;
}

/**
 * The instant of a wall-clock time in `timeZone`. A time that happens twice (the hour repeated when clocks go back)
 * is its first occurrence; a time that never happens (skipped when clocks go forward) is moved forward by the gap,
 * so local midnight on a day that starts at 01:00 is that 01:00: the first instant of the day either way.
 */
export function fromLocal(l: LocalDateTime, timeZone: string): Date {
  const wall = wallMs(l);
  // Offsets in force a day either side: at most one change of offset lies between them in any real zone.
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const valid = [...new Set([before, after])].map((o) => wall - o).filter((t) => offsetAt(t, timeZone) === wall - t);
  if (valid.length > 0) return new Date(Math.min(...valid));
  return new Date(wall - before);
}

function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one
  return d.getUTCDate();
}

/** Adds calendar months, keeping the time of day; the day is clamped to the month's end (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(l: LocalDateTime, months: number): LocalDateTime {
  const total = l.year * 12 + (l.month - 1) + months;
  const year = Math.floor(total / 12);
  const month = total - year * 12 + 1;
  return { ...l, year, month, day: Math.min(l.day, daysInMonth(year, month)) };
}

/** Adds calendar days, keeping the time of day. */
export function addDays(l: LocalDateTime, days: number): LocalDateTime {
  const d = new Date(0);
  d.setUTCFullYear(l.year, l.month - 1, l.day + days);
  return { ...l, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** When points earned at `occurredAt` become active; null when they are active at once (0 pending days). */
export function activatesAt(pendingDays: number, occurredAt: Date): Date | null {
  if (!(pendingDays > 0)) return null;
  return new Date(occurredAt.getTime() + pendingDays * DAY_MS);
}

const PERIOD_MONTHS = { month: 1, quarter: 3, year: 12 } as const;

/**
 * When a lot of points earned at `earnedAt` expires (exclusive: the lot is spendable before this instant); null
 * when lots do not expire one by one (`never`, and `inactivity`, which expires a member's whole balance).
 * - after_earning: `months` calendar months, then `days` days, after the earning time, in the tenant's zone.
 * - end_of_period: the end of the month/quarter/year containing the earn date in the tenant's zone, plus `plus`
 *   more periods: the local midnight that starts the period (1 + plus) periods after the earning one.
 */
export function lotExpiresAt(policy: ExpiryPolicy, earnedAt: Date, timeZone: string): Date | null {
  switch (policy.kind) {
    case 'after_earning':
      return fromLocal(addDays(addMonths(toLocal(earnedAt, timeZone), policy.months), policy.days), timeZone);
    case 'end_of_period': {
      const l = toLocal(earnedAt, timeZone);
      const size = PERIOD_MONTHS[policy.period];
      const startMonth = Math.floor((l.month - 1) / size) * size; // 0-based first month of the earning period
      const start = addMonths({ year: l.year, month: startMonth + 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, size * (1 + policy.plus));
      return fromLocal(start, timeZone);
    }
    default:
      return null;
  }
}

/**
 * Inactivity expiry: a member whose last activity is before this instant loses their points. `now` minus the
 * policy's calendar months (day clamped to the month's end, UTC calendar); null unless the policy is `inactivity`.
 */
/** Under the inactivity policy, when a member last active at `lastActivity` loses their points (UTC calendar months). */
export function inactivityDeadline(policy: ExpiryPolicy, lastActivity: Date): Date | null {
  if (policy.kind !== 'inactivity') return null;
  return fromLocal(addMonths(toLocal(lastActivity, 'UTC'), policy.months), 'UTC');
}

export function inactivityCutoff(policy: ExpiryPolicy, now: Date): Date | null {
  if (policy.kind !== 'inactivity') return null;
  return fromLocal(addMonths(toLocal(now, 'UTC'), -policy.months), 'UTC');
}
