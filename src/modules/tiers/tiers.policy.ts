/**
 * The rules of tiers, pure: qualification windows and evaluation dates in the tenant's time zone, and which tier a
 * figure reaches or keeps. The service (tiers.service.ts) reads figures and state and applies what these decide.
 */
import type { FieldError } from '../../platform/errors.js';
import { addDays, addMonths, fromLocal, toLocal } from '../programs/programs.policy.js';
import type { ReevaluationInput } from './tiers.schema.js';

export type Metric = 'points' | 'spend' | 'purchases';

export interface TierSettings {
  metric: Metric;
  window: 'lifetime' | 'calendar_year' | 'rolling_months';
  window_months: number | null;
  evaluation: 'period_end' | 'anniversary';
  downgrade_policy: 'one_level' | 'to_qualified';
  grace_months: number;
  grace_days: number;
  config_version: number;
  updated_at: Date | null;
}

export const DEFAULT_SETTINGS: TierSettings = {
  metric: 'points', window: 'lifetime', window_months: null, evaluation: 'period_end', downgrade_policy: 'one_level',
  grace_months: 0, grace_days: 0, config_version: 0, updated_at: null,
};

/** What judging needs of a tier. */
export interface TierRule {
  id: string;
  code: string;
  rank: number;
  invitation_only: boolean;
  entry_threshold: number;
  keep_threshold: number;
}

export interface Window {
  from: Date | null;
  to: Date;
}

const startOfYear = (year: number, tz: string) => fromLocal({ year, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0 }, tz);

/** The window [from, to) that ends at `to`: the calendar year is the one `to` closes or lies in. */
export function windowAt(s: Pick<TierSettings, 'window' | 'window_months'>, to: Date, tz: string): Window {
  switch (s.window) {
    case 'lifetime':
      return { from: null, to };
    case 'calendar_year':
      return { from: startOfYear(toLocal(new Date(to.getTime() - 1), tz).year, tz), to };
    case 'rolling_months':
      return { from: fromLocal(addMonths(toLocal(to, tz), -(s.window_months ?? 12)), tz), to };
  }
}

/** The first 1 January (local midnight) after `at`. */
export function periodEndAfter(at: Date, tz: string): Date {
  return startOfYear(toLocal(at, tz).year + 1, tz);
}

/** The next evaluation strictly after `after` of a tier reached at `since`. */
export function nextEvaluation(s: Pick<TierSettings, 'evaluation'>, since: Date, after: Date, tz: string): Date {
  if (s.evaluation === 'period_end') return periodEndAfter(after, tz);
  const base = toLocal(since, tz);
  // Whole years between the two, then step: a 29 February anniversary falls on 28 February in other years.
  let years = Math.max(1, toLocal(after, tz).year - base.year - 1);
  for (;;) {
    const at = fromLocal(addMonths(base, 12 * years), tz);
    if (at > after) return at;
    years++;
  }
}

/** When a downgrade decided at `evaluatedAt` takes effect. */
export function graceEnd(s: Pick<TierSettings, 'grace_months' | 'grace_days'>, evaluatedAt: Date, tz: string): Date {
  if (s.grace_months === 0 && s.grace_days === 0) return evaluatedAt;
  return fromLocal(addDays(addMonths(toLocal(evaluatedAt, tz), s.grace_months), s.grace_days), tz);
}

export const rankOf = (t: TierRule | null | undefined): number => t?.rank ?? 0;

/** Tiers in rank order, lowest first. */
export const byRank = <T extends TierRule>(tiers: T[]): T[] => [...tiers].sort((a, b) => a.rank - b.rank);

/** The highest tier open to qualification whose entry threshold the figure reaches; null when none. */
export function entryTier<T extends TierRule>(tiers: T[], figure: number): T | null {
  let best: T | null = null;
  for (const t of byRank(tiers)) if (!t.invitation_only && figure >= t.entry_threshold) best = t;
  return best;
}

/** The tier the member would be left with by an evaluation when the figure misses `current`'s keep threshold. */
export function keptTier<T extends TierRule>(tiers: T[], current: T | null, figure: number, policy: TierSettings['downgrade_policy']): T | null {
  if (!current || figure >= current.keep_threshold) return current;
  const lower = byRank(tiers).filter((t) => t.rank < current.rank && !t.invitation_only);
  if (policy === 'one_level') return lower[lower.length - 1] ?? null;
  let kept: T | null = null;
  for (const t of lower) if (figure >= t.keep_threshold) kept = t;
  return kept;
}

export interface Judgement<T> {
  to: T | null;
  direction: 'up' | 'down' | 'stay';
}

/**
 * What an evaluation with this figure would do: move up when a higher entry threshold is reached; a manual or
 * invited tier otherwise stays (it ends with its assignment); a qualified tier moves down when its keep threshold
 * is missed.
 */
export function judge<T extends TierRule>(tiers: T[], current: T | null, source: string, figure: number, policy: TierSettings['downgrade_policy']): Judgement<T> {
  const up = entryTier(tiers, figure);
  if (rankOf(up) > rankOf(current)) return { to: up, direction: 'up' };
  if (source !== 'qualified') return { to: current, direction: 'stay' };
  const kept = keptTier(tiers, current, figure, policy);
  return kept === current ? { to: current, direction: 'stay' } : { to: kept, direction: 'down' };
}

/** Whether a member at `tier` can be judged down at all (a keep threshold of 0 is always met): else no evaluation is due. */
export const canFall = (tier: TierRule | null): boolean => tier !== null && tier.keep_threshold > 0;

// ── A member's state and how it moves ──────────────────────────────────────────
// The decisions of TiersService.recheck, processDue, move and lock, pure: the service reads the figures, calls these
// and writes what they decide; the what-if simulator (analytics/simulator) replays members' tiers with them.

/** What the rules see of a member's tier state (member_tiers without its bookkeeping). */
export interface TierState {
  tier_id: string | null;
  source: 'qualified' | 'manual' | 'invited';
  since: Date;
  valid_until: Date | null;
  next_evaluation_at: Date | null;
  downgrade_to_id: string | null;
  downgrade_to_none: boolean;
  downgrade_at: Date | null;
}

/** The end of a window "as of now": windows are half-open, and what happened at this very instant counts. */
export const upTo = (now: Date): Date => new Date(now.getTime() + 1);

/** The tier everyone holds before anything happens: the highest open tier with an entry threshold of 0. */
export function baseTier<T extends { invitation_only: boolean; entry_threshold: number; rank: number }>(tiers: T[]): T | null {
  return entryTier(tiers as never, 0) as T | null;
}

/** The state of a member first judged at `now`: the base tier, qualified, evaluated when a fall is possible. */
export function startingState(tiers: TierRule[], settings: TierSettings, now: Date, tz: string): TierState {
  const base = baseTier(tiers);
  return {
    tier_id: base?.id ?? null, source: 'qualified', since: now, valid_until: null,
    next_evaluation_at: canFall(base) ? nextEvaluation(settings, now, now, tz) : null,
    downgrade_to_id: null, downgrade_to_none: false, downgrade_at: null,
  };
}

/** The state after a move to `to` at `now` (an upgrade, a downgrade, an assignment or its end). */
export function movedState<S extends TierState>(
  settings: TierSettings, tz: string, state: S, to: TierRule | null, source: TierState['source'], until: Date | null | undefined, now: Date,
): S {
  return {
    ...state, tier_id: to?.id ?? null, source, since: now, valid_until: source === 'qualified' ? null : until ?? null,
    next_evaluation_at: source === 'qualified' && canFall(to) ? nextEvaluation(settings, now, now, tz) : null,
    downgrade_to_id: null, downgrade_to_none: false, downgrade_at: null,
  };
}

/**
 * What a figure that may have risen does (after a purchase, an action bonus, activated points): an upgrade when a
 * higher entry threshold is reached; else a downgrade waiting out its grace is called off when the entry threshold of
 * the member's tier is reached again; else nothing. Never a move down.
 */
export function riseStep<T extends TierRule, S extends TierState>(
  tiers: T[], settings: TierSettings, tz: string, state: S, current: T | null, figure: number, now: Date,
): { kind: 'up'; to: T } | { kind: 'cancel_downgrade'; state: S } | null {
  const up = entryTier(tiers, figure);
  if (up && rankOf(up) > rankOf(current)) return { kind: 'up', to: up };
  if (state.downgrade_at && current && figure >= current.entry_threshold) {
    return { kind: 'cancel_downgrade', state: { ...state, downgrade_to_id: null, downgrade_to_none: false, downgrade_at: null, next_evaluation_at: nextEvaluation(settings, state.since, now, tz) } };
  }
  return null;
}

/** What is due for a member at `now`, first things first: an assignment's end, a downgrade after grace, an evaluation. */
export type Due = { kind: 'assignment_ended' } | { kind: 'grace_over'; at: Date } | { kind: 'evaluation'; at: Date };

export function dueNow(state: TierState, now: Date): Due | null {
  if (state.source !== 'qualified' && state.valid_until && state.valid_until <= now) return { kind: 'assignment_ended' };
  if (state.downgrade_at && state.downgrade_at <= now) return { kind: 'grace_over', at: state.downgrade_at };
  if (state.source === 'qualified' && state.next_evaluation_at && state.next_evaluation_at <= now) return { kind: 'evaluation', at: state.next_evaluation_at };
  return null;
}

/** The window whose figure a due step is judged by: an evaluation's ends at its date, the others' at now. */
export function dueWindow(settings: Pick<TierSettings, 'window' | 'window_months'>, due: Due, now: Date, tz: string): Window {
  return windowAt(settings, due.kind === 'evaluation' ? due.at : upTo(now), tz);
}

export type DueOutcome<T, S> =
  | { kind: 'move'; to: T | null; reason: 'assignment_ended' | 'downgrade' | 'upgrade'; details: Record<string, unknown> }
  | { kind: 'save'; state: S; scheduled?: { from: T | null; to: T | null; at: Date; evaluated_at: Date } };

/**
 * What a due step does with the figure over its window: an ended assignment falls back to the tier the figure
 * reaches; a downgrade after grace happens unless the entry threshold is met again; an evaluation moves up, keeps
 * (the next evaluation set), or moves down now or after the grace period (scheduled).
 */
export function dueStep<T extends TierRule, S extends TierState>(
  tiers: T[], byId: Map<string, T>, settings: TierSettings, tz: string, state: S, current: T | null, due: Due, figure: number, now: Date,
): DueOutcome<T, S> {
  if (due.kind === 'assignment_ended') {
    return { kind: 'move', to: entryTier(tiers, figure), reason: 'assignment_ended', details: { ended: state.source } };
  }
  if (due.kind === 'grace_over') {
    const target = state.downgrade_to_id ? byId.get(state.downgrade_to_id) ?? null : null;
    if (current && figure >= current.entry_threshold) {
      return { kind: 'save', state: { ...state, downgrade_to_id: null, downgrade_to_none: false, downgrade_at: null, next_evaluation_at: nextEvaluation(settings, state.since, now, tz) } };
    }
    return { kind: 'move', to: target, reason: 'downgrade', details: { grace_ended: due.at.toISOString() } };
  }
  const at = due.at;
  const verdict = judge(tiers, current, state.source, figure, settings.downgrade_policy);
  const details = { evaluated_at: at.toISOString() };
  if (verdict.direction === 'up') return { kind: 'move', to: verdict.to, reason: 'upgrade', details };
  if (verdict.direction === 'stay') {
    return { kind: 'save', state: { ...state, next_evaluation_at: canFall(current) ? nextEvaluation(settings, state.since, at, tz) : null } };
  }
  const effective = graceEnd(settings, at, tz);
  if (effective <= now) return { kind: 'move', to: verdict.to, reason: 'downgrade', details };
  return {
    kind: 'save',
    state: { ...state, next_evaluation_at: null, downgrade_to_id: verdict.to?.id ?? null, downgrade_to_none: verdict.to === null, downgrade_at: effective },
    scheduled: { from: current, to: verdict.to, at: effective, evaluated_at: at },
  };
}

// ── Proposed rules ─────────────────────────────────────────────────────────────

/** The settings that decide how members qualify: changing any is a change of the rules. */
export const SETTINGS_FIELDS = ['metric', 'window', 'window_months', 'evaluation', 'downgrade_policy', 'grace_months', 'grace_days'] as const;

/**
 * The rules as they would be after `changes` (a re-evaluation's `{settings?, tiers?: [{id, …}]}`), and the changes that
 * name tiers the program does not have (`tiers[i].id`).
 */
export function proposeRules<T extends TierRule & { updated_at: Date }>(
  current: { settings: TierSettings; tiers: T[] }, changes: ReevaluationInput, now: Date,
): { settings: TierSettings; tiers: T[]; unknown: FieldError[] } {
  const settings: TierSettings = { ...current.settings };
  const s = changes.settings ?? {};
  for (const f of SETTINGS_FIELDS) if (s[f] !== undefined) (settings as any)[f] = s[f];
  if (s.window !== undefined && s.window !== 'rolling_months' && s.window_months === undefined) settings.window_months = null;
  const tiers = current.tiers.map((t) => ({ ...t }));
  const unknown: FieldError[] = [];
  (changes.tiers ?? []).forEach((c, i) => {
    const t = tiers.find((x) => x.id === c.id);
    if (!t) { unknown.push({ field: `tiers[${i}].id`, detail: 'is not a tier of this program' }); return; }
    const { id: _id, ...fields } = c;
    Object.assign(t, Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), { updated_at: now });
    // Lowering the entry threshold below the keep threshold takes the keep threshold down with it, unless sent.
    if (fields.entry_threshold !== undefined && fields.keep_threshold === undefined && t.keep_threshold > t.entry_threshold) t.keep_threshold = t.entry_threshold;
  });
  return { settings, tiers, unknown };
}

/** What is wrong with a whole set of rules: ranks not unique, a keep threshold above the entry, a window without months. */
export function proposalErrors(p: { settings: TierSettings; tiers: Array<TierRule & { code: string }> }, fieldOf: (tierId: string, field: string) => string): FieldError[] {
  const errs: FieldError[] = [];
  const ranks = new Map<number, string>();
  for (const t of p.tiers) {
    const other = ranks.get(t.rank);
    if (other) errs.push({ field: fieldOf(t.id, 'rank'), detail: `is the rank of tier ${other}` });
    ranks.set(t.rank, t.code);
    if (t.keep_threshold > t.entry_threshold) errs.push({ field: fieldOf(t.id, 'keep_threshold'), detail: `must be at most entry_threshold (${t.entry_threshold})` });
  }
  if (p.settings.window === 'rolling_months' && p.settings.window_months === null) errs.push({ field: fieldOf('', 'window_months'), detail: 'is required with the rolling_months window' });
  return errs;
}
