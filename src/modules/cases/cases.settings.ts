/**
 * A tenant's case settings (docs/cases.md): which answers open a case, the priority rules, SLA targets per priority
 * in business minutes, business hours, escalation and the default assignee. Stored as one document; missing fields
 * take the defaults below. Pure: types, defaults, the checks the schema cannot make, and the priority rules' evaluation.
 */
import jsonLogic from 'json-logic-js';
import type { FieldError } from '../../platform/errors.js';
import { isoDay, isTimeZone } from '../../platform/dates.js';
import { logicError } from '../rules/rules.validation.js';
import { intervalErrors, WEEKDAYS, type BusinessHours, type LocalTime, type Weekday } from './cases.sla.js';

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Why a case opened. */
export const REASONS = ['nps_detractor', 'csat_dissatisfied', 'ces_high_effort', 'free_text', 'feedback'] as const;
export type Reason = (typeof REASONS)[number];

export interface SlaTarget {
  first_response_minutes: number;
  resolution_minutes: number;
}

export interface PriorityRule {
  /** JSON Logic over PriorityFacts. */
  when: Record<string, unknown>;
  priority: Priority;
}

export interface CaseSettings {
  open_rules: { nps_detractor: boolean; csat_dissatisfied: boolean; ces_high_effort: boolean; free_text: boolean };
  priority_rules: PriorityRule[];
  default_priority: Priority;
  sla: Record<Priority, SlaTarget>;
  /** time_zone null: the tenant's (the program's) time zone. */
  business_hours: { time_zone: string | null; weekly: Record<Weekday, Array<[LocalTime, LocalTime]>>; holidays: string[] };
  escalation: { assign_to: string | null; raise_priority: boolean };
  default_assignee_id: string | null;
}

/** What a priority rule sees about a case being opened. */
export interface PriorityFacts {
  reason: Reason;
  band: string | null;
  tier_code: string | null;
  channel: string;
  touchpoint: string | null;
  /** The answer's or the feedback's rating, when there is one. */
  value: number | string | null;
}

/** The names a priority rule may read with `var` (the keys of PriorityFacts). */
export const PRIORITY_FACTS = ['reason', 'band', 'tier_code', 'channel', 'touchpoint', 'value'] as const satisfies ReadonlyArray<keyof PriorityFacts>;

/** Operators whose later arguments run once per element of the first, with `var` reading that element, not the facts. */
const ITERATING = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some']);

/**
 * Why a rule's `var`s (and `missing`/`missing_some` names) are not all facts of `known`, or null. An unknown name
 * is always null in JSON Logic, so a typo would never match (or, compared with <=, always match) and nobody would
 * notice. A computed name ({"var": {...}}) cannot be checked, so it is refused. Names inside map/filter/reduce/all/
 * none/some read the array's elements and are not checked. Assumes the operator checks of logicError passed.
 */
export function unknownVarError(logic: unknown, known: readonly string[]): string | null {
  const bad = (name: unknown): string | null => {
    if (typeof name === 'string' && known.includes(name)) return null;
    if (typeof name === 'string' || typeof name === 'number') {
      return `uses an unknown variable ${JSON.stringify(String(name))}: a rule sees only ${known.join(', ')}`;
    }
    return `must name its variables as text (one of ${known.join(', ')}), not compute them`;
  };
  const walk = (node: unknown): string | null => {
    if (Array.isArray(node)) {
      for (const x of node) {
        const e = walk(x);
        if (e) return e;
      }
      return null;
    }
    if (node === null || typeof node !== 'object') return null;
    const [op, args] = Object.entries(node)[0] ?? [];
    if (op === undefined) return null;
    const list = Array.isArray(args) ? args : [args];
    if (op === 'var') return bad(list[0] ?? '') ?? walk(list.slice(1));
    if (op === 'missing' || op === 'missing_some') {
      const names = op === 'missing' ? list : list[1];
      if (!Array.isArray(names)) return walk(names);
      for (const n of names) {
        const e = n !== null && typeof n === 'object' ? walk(n) : bad(n);
        if (e) return e;
      }
      return op === 'missing_some' ? walk(list[0]) : null;
    }
    // reduce's third argument (the initial value) reads the facts like the first.
    if (ITERATING.has(op)) return walk(list[0]) ?? (op === 'reduce' ? walk(list[2]) : null);
    return walk(list);
  };
  return walk(logic);
}

const WEEKDAY_HOURS: Array<[LocalTime, LocalTime]> = [['09:00', '17:00']];

export const DEFAULT_SETTINGS: CaseSettings = {
  open_rules: { nps_detractor: true, csat_dissatisfied: true, ces_high_effort: true, free_text: true },
  priority_rules: [],
  default_priority: 'normal',
  sla: {
    urgent: { first_response_minutes: 60, resolution_minutes: 480 },
    high: { first_response_minutes: 240, resolution_minutes: 960 },
    normal: { first_response_minutes: 480, resolution_minutes: 2400 },
    low: { first_response_minutes: 960, resolution_minutes: 4800 },
  },
  business_hours: {
    time_zone: null,
    weekly: { mon: WEEKDAY_HOURS, tue: WEEKDAY_HOURS, wed: WEEKDAY_HOURS, thu: WEEKDAY_HOURS, fri: WEEKDAY_HOURS, sat: [], sun: [] },
    holidays: [],
  },
  escalation: { assign_to: null, raise_priority: true },
  default_assignee_id: null,
};

export const LIMITS = { priorityRules: 50, holidays: 500, slaMinutes: 525_600, intervalsPerDay: 6 };

/** The stored document over the defaults (a top-level field sent replaces the default's). */
export function withDefaults(stored: Partial<CaseSettings> | null): CaseSettings {
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}) };
}

/** The calendar SLAs are counted in. */
export function businessHoursOf(s: CaseSettings, tenantTimeZone: string): BusinessHours {
  return { time_zone: s.business_hours.time_zone ?? tenantTimeZone, weekly: s.business_hours.weekly, holidays: s.business_hours.holidays };
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (v: string) => {
  if (!DATE_RE.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`); // month 13 is an invalid Date, which isoDay would throw on
  return !Number.isNaN(d.getTime()) && isoDay(d) === v;
};

/** Every problem of a settings body the schema cannot see (agent ids are checked by the service). */
export function settingsErrors(body: unknown): FieldError[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
  const b = body as Partial<CaseSettings>;
  const errs: FieldError[] = [];
  if (Array.isArray(b.priority_rules)) {
    b.priority_rules.forEach((r, i) => {
      if (r && typeof r === 'object' && r.when !== undefined) {
        const e = logicError(r.when, 'member') ?? unknownVarError(r.when, PRIORITY_FACTS);
        if (e) errs.push({ field: `priority_rules[${i}].when`, detail: e });
      }
    });
  }
  const bh = b.business_hours;
  if (bh && typeof bh === 'object') {
    if (typeof bh.time_zone === 'string' && !isTimeZone(bh.time_zone)) errs.push({ field: 'business_hours.time_zone', detail: 'must be an IANA time zone such as Europe/Sofia' });
    if (bh.weekly && typeof bh.weekly === 'object') {
      let open = false;
      for (const d of WEEKDAYS) {
        const intervals = bh.weekly[d];
        if (!Array.isArray(intervals)) continue;
        const e = intervalErrors(intervals);
        if (e) errs.push({ field: `business_hours.weekly.${d}`, detail: e });
        if (intervals.length > 0) open = true;
      }
      if (!open && WEEKDAYS.every((d) => Array.isArray(bh.weekly[d]))) errs.push({ field: 'business_hours.weekly', detail: 'must be open at least one day a week' });
    }
    if (Array.isArray(bh.holidays)) {
      bh.holidays.forEach((h, i) => {
        if (typeof h === 'string' && !isDate(h)) errs.push({ field: `business_hours.holidays[${i}]`, detail: 'must be a real date YYYY-MM-DD' });
      });
    }
  }
  if (b.sla && typeof b.sla === 'object') {
    for (const p of PRIORITIES) {
      const t = b.sla[p];
      if (t && typeof t === 'object' && Number.isInteger(t.first_response_minutes) && Number.isInteger(t.resolution_minutes) && t.first_response_minutes > t.resolution_minutes) {
        errs.push({ field: `sla.${p}.first_response_minutes`, detail: 'must not be more than resolution_minutes' });
      }
    }
  }
  return errs;
}

/** The first matching rule's priority, else the default. */
export function priorityOf(s: CaseSettings, facts: PriorityFacts): Priority {
  for (const r of s.priority_rules) {
    let matched = false;
    try {
      matched = Boolean(jsonLogic.truthy(jsonLogic.apply(r.when as never, { ...facts })));
    } catch {
      // A rule that fails on these facts does not match: it must never fail the survey response or the feedback.
    }
    if (matched) return r.priority;
  }
  return s.default_priority;
}

/** The more urgent of two priorities. */
export const higher = (a: Priority, b: Priority): Priority => (PRIORITIES.indexOf(a) <= PRIORITIES.indexOf(b) ? a : b);

/** One step more urgent (urgent stays urgent). */
export const raised = (p: Priority): Priority => PRIORITIES[Math.max(0, PRIORITIES.indexOf(p) - 1)]!;
