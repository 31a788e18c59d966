/**
 * The event rule engine: a member's action (sign-up, review, survey, …) + event rules + member context -> points and
 * why. Pure like rules.engine.ts: the caller supplies the usage counters (RulesService.eventUsage) and records the
 * returned awards (RulesService.recordEventAwards).
 */
import jsonLogic from 'json-logic-js';
import { localTime } from './rules.engine.js';
import type { EventContext, EventData, EventResult, EventRule, Explanation, LimitPeriod, MemberEvent, RuleCaps } from './rules.types.js';

/** The names Patron itself emits; any other name matching EVENT_NAME_RE is a custom event. */
export const KNOWN_EVENTS = ['sign_up', 'profile_completed', 'review_written', 'survey_answered', 'social_share', 'app_installed', 'birthday'] as const;
export const EVENT_NAME_RE = /^[a-z][a-z0-9_.-]{0,63}$/;

const DAY_MS = 86_400_000;

/** ISO 8601 week of a calendar date: `YYYY-Www` (the week belongs to the year of its Thursday). */
export function isoWeek(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = Date.UTC(y, m - 1, d);
  const dow = ((new Date(day).getUTCDay() + 6) % 7) + 1; // 1 = Monday
  const thursday = new Date(day + (4 - dow) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The key of the limit period containing `at` in `timeZone`: 'ever', 'd:YYYY-MM-DD', 'w:YYYY-Www', 'm:YYYY-MM', 'y:YYYY'. */
export function periodKey(per: LimitPeriod, at: string | Date, timeZone: string): string {
  if (per === 'ever') return 'ever';
  const t = localTime(typeof at === 'string' ? at : at.toISOString(), timeZone);
  switch (per) {
    case 'day': return `d:${t.date}`;
    case 'week': return `w:${isoWeek(t.date)}`;
    case 'month': return `m:${t.month}`;
    default: return `y:${t.date.slice(0, 4)}`;
  }
}

/** A condition that throws on this data (e.g. a bad argument) is false, not an error of the whole event. */
function holds(logic: unknown, data: EventData): { ok: boolean; error?: string } {
  try {
    return { ok: jsonLogic.truthy(jsonLogic.apply(logic as never, data)) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

export function evaluateEvent(rules: EventRule[], event: MemberEvent, ctx: EventContext): EventResult {
  const t = localTime(event.occurred_at, ctx.time_zone);
  const data: EventData = {
    event: { name: event.name, properties: event.properties ?? {} },
    tier: ctx.tier, attributes: ctx.attributes, day_of_week: t.day_of_week, hour: t.hour, date: t.date,
  };
  const when = Date.parse(event.occurred_at);
  const ordered = rules.filter((r) => r.event === event.name).sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  const explanation: Explanation[] = [];
  const awards: EventResult['awards'] = [];
  let total = 0;
  for (const r of ordered) {
    const explain = (e: Omit<Explanation, 'rule_id' | 'rule_name' | 'kind'>) => explanation.push({ rule_id: r.id, rule_name: r.name, kind: r.kind, ...e });
    const used = ctx.usage[r.id] ?? { count: 0, total: 0 };
    if (r.active === false) {
      explain({ outcome: 'not_active', points: 0, detail: 'rule is switched off' });
      continue;
    }
    if (r.valid_from && when < Date.parse(r.valid_from)) {
      explain({ outcome: 'not_yet_valid', points: 0, detail: `valid from ${r.valid_from}` });
      continue;
    }
    if (r.valid_until && when >= Date.parse(r.valid_until)) {
      explain({ outcome: 'expired', points: 0, detail: `valid until ${r.valid_until}` });
      continue;
    }
    if (r.condition != null) {
      const c = holds(r.condition, data);
      if (!c.ok) {
        explain({ outcome: 'condition_false', points: 0, detail: c.error ? `condition could not be evaluated: ${c.error}` : 'condition not met' });
        continue;
      }
    }
    if (r.limit && used.count >= r.limit.count) {
      explain({ outcome: 'limit_reached', points: 0, detail: `limit of ${r.limit.count} per ${r.limit.per} reached` });
      continue;
    }
    // Caps: `total` across all members; `per_transaction` (per event) if a caller's rule has it.
    const caps: RuleCaps = r.caps ?? {};
    let points = r.points;
    const by: (keyof RuleCaps)[] = [];
    if (caps.per_transaction != null && caps.per_transaction < points) {
      points = Math.max(0, caps.per_transaction);
      by.push('per_transaction');
    }
    if (caps.total != null) {
      const left = Math.max(0, caps.total - used.total);
      if (left < points) {
        points = left;
        by.push('total');
      }
    }
    const capInfo = by.length > 0 ? { uncapped_points: r.points, capped_by: by } : {};
    if (points <= 0) {
      explain({ outcome: 'cap_reached', points: 0, ...capInfo, detail: `cap reached: ${by.join(', ')}` });
      continue;
    }
    total += points;
    explain({ outcome: 'applied', points, ...capInfo, detail: `${points} point(s) for ${event.name}` });
    awards.push({
      rule_id: r.id, points,
      period: r.limit ? periodKey(r.limit.per, event.occurred_at, ctx.time_zone) : 'ever',
      count_period: Boolean(r.limit), count_total: caps.total != null,
    });
  }
  return { points: total, explanation, awards };
}
