/**
 * The rules of tiers, pure: qualification windows and evaluation dates in the tenant's time zone, and which tier a
 * figure reaches or keeps. The service (tiers.service.ts) reads figures and state and applies what these decide.
 */
import { addDays, addMonths, fromLocal, toLocal } from '../programs/programs.policy.js';

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
