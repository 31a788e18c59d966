/**
 * The survey scores (docs/surveys/results.md, domain.md §1) as pure functions of counts: no SQL, no I/O, so every
 * formula and edge case is unit-tested on its own. surveys.results.ts feeds them the counts PostgreSQL aggregates.
 *
 * Percentages and means are rounded to one decimal (two for the NPS margin of error) here, once, so that the API,
 * the CSV and the tests agree. A score over no answers is null, never 0: "nobody answered" is not "everybody
 * answered badly".
 */

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  // + 0 turns -0 into 0: a score of "-0.0" reads like a bug.
  return Math.round(x * f) / f + 0;
};
const pct = (part: number, whole: number): number | null => (whole > 0 ? round((part / whole) * 100, 1) : null);

// ---------------------------------------------------------------------------------------------------------------
// NPS

export interface NpsCounts { promoters: number; passives: number; detractors: number }
export interface NpsScore extends NpsCounts {
  n: number;
  /** % promoters − % detractors, in [−100, 100]; null without answers. */
  nps: number | null;
  promoters_pct: number | null;
  passives_pct: number | null;
  detractors_pct: number | null;
  /**
   * The 95% margin of error in NPS points: 1.96 · √(s²/n) · 100 with s² = (P + D) − (P − D)², the variance of the
   * answers coded +1 / 0 / −1. 0 when every answer is in one band (no spread), null without answers.
   */
  margin_of_error: number | null;
}

export function npsScore(c: NpsCounts): NpsScore {
  const n = c.promoters + c.passives + c.detractors;
  if (n === 0) {
    return { ...c, n, nps: null, promoters_pct: null, passives_pct: null, detractors_pct: null, margin_of_error: null };
  }
  const p = c.promoters / n;
  const d = c.detractors / n;
  // Floating point can make (P + D) − (P − D)² a hair below 0 when it is exactly 0.
  const variance = Math.max(0, p + d - (p - d) ** 2);
  return {
    ...c,
    n,
    nps: round((p - d) * 100, 1),
    promoters_pct: pct(c.promoters, n),
    passives_pct: pct(c.passives, n),
    detractors_pct: pct(c.detractors, n),
    margin_of_error: round(1.96 * Math.sqrt(variance / n) * 100, 2),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Scales: distribution and mean

/** How many answers gave each value. */
export type Distribution = Array<{ value: number; count: number }>;

export function meanOf(dist: Distribution): number | null {
  let n = 0;
  let sum = 0;
  for (const { value, count } of dist) {
    n += count;
    sum += value * count;
  }
  return n > 0 ? round(sum / n, 2) : null;
}

const total = (dist: Distribution): number => dist.reduce((s, d) => s + d.count, 0);

export interface CsatScore { n: number; satisfied: number; csat: number | null; mean: number | null }

/**
 * CSAT: the share of answers in the top two boxes (the `satisfied` band, computed when the answer was stored
 * against the scale it was given on), and the mean answer.
 */
export function csatScore(dist: Distribution, satisfied: number): CsatScore {
  const n = total(dist);
  return { n, satisfied, csat: pct(satisfied, n), mean: meanOf(dist) };
}

export interface CesScore { n: number; low_effort: number; low_effort_pct: number | null; mean: number | null }

/** CES (1-7, agreement that it was easy): the mean answer and the share of low-effort answers (5-7). */
export function cesScore(dist: Distribution, lowEffort: number): CesScore {
  const n = total(dist);
  return { n, low_effort: lowEffort, low_effort_pct: pct(lowEffort, n), mean: meanOf(dist) };
}

export interface RatingScore { n: number; mean: number | null }
export function ratingScore(dist: Distribution): RatingScore {
  return { n: total(dist), mean: meanOf(dist) };
}

// ---------------------------------------------------------------------------------------------------------------
// CSI and CLI blocks: three items per respondent

/**
 * Respondents of a block grouped by how many of its three items they answered (`answered`), how many of those were
 * positive (`positive`, CSI) and the sum of their answers (`value_sum`, CLI). PostgreSQL returns at most a few dozen
 * such groups however many respondents there are.
 */
export interface BlockGroup { answered: number; positive: number; value_sum: number; count: number }

export const BLOCK_ITEMS = 3;

export interface CsiScore {
  /** Respondents who answered all three items. */
  n: number;
  secure: number;
  /** % secure customers among `n`; null when nobody answered the whole block. */
  csi: number | null;
  /** Respondents who answered only some items: not counted (domain.md: "among those who answered all three"). */
  excluded_partial: number;
}

/**
 * The respondents who answered the whole block, and how many answered only part of it: both block scores count
 * complete blocks only (domain.md: "among those who answered all three").
 */
function completeBlocks(groups: BlockGroup[]): { complete: BlockGroup[]; n: number; partial: number } {
  const complete = groups.filter((g) => g.answered >= BLOCK_ITEMS);
  const partial = groups.filter((g) => g.answered < BLOCK_ITEMS).reduce((sum, g) => sum + g.count, 0);
  return { complete, n: complete.reduce((sum, g) => sum + g.count, 0), partial };
}

/** A respondent is secure when all three items are positive; partial blocks are left out and counted apart. */
export function csiScore(groups: BlockGroup[]): CsiScore {
  const { complete, n, partial } = completeBlocks(groups);
  const secure = complete.filter((g) => g.positive >= BLOCK_ITEMS).reduce((sum, g) => sum + g.count, 0);
  return { n, secure, csi: pct(secure, n), excluded_partial: partial };
}

/** CLI points of one answer on the 1-6 scale (1 = very likely): (6 − answer) × 20, so 1 → 100 and 6 → 0. */
export const cliPoints = (answer: number): number => (6 - answer) * 20;

export interface CliScore {
  n: number;
  /** Mean respondent CLI, 0-100; null when nobody answered the whole block. */
  cli: number | null;
  excluded_partial: number;
}

export function cliScore(groups: BlockGroup[]): CliScore {
  const { complete, n, partial } = completeBlocks(groups);
  // A complete respondent's CLI is the mean of the items' points, the points of the mean answer (cliPoints is linear).
  // Only complete blocks count (as for CSI): a respondent who skipped "try our other products" would be scored on the
  // two easier items.
  const points = complete.reduce((sum, g) => sum + g.count * cliPoints(g.value_sum / g.answered), 0);
  return { n, cli: n > 0 ? round(points / n, 1) : null, excluded_partial: partial };
}

// ---------------------------------------------------------------------------------------------------------------
// Response rate

export interface ResponseRate { sent: number; responded: number; rate: number | null }

/** Responded invitations / sent invitations, in percent; null when nothing was sent. */
export function responseRate(sent: number, responded: number): ResponseRate {
  return { sent, responded, rate: pct(responded, sent) };
}
