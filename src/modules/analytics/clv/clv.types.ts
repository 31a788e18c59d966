/**
 * Types shared by the predictive CLV models (BG/NBD, Gamma-Gamma) and their helpers.
 *
 * Time is never a bare number at a module boundary: a summary set, a fitted model and a duration all carry their
 * unit, because a week-versus-day mix-up silently makes CLV several times too high or too low. Money inside the
 * models is in major currency units (e.g. dollars, not cents) as a plain number; the analytics module converts from
 * Patron's integer minor units at its edge.
 */

/** The unit a summary's t_x and T (and a model's α) are measured in. A week is exactly 7 days (days / 7, not calendar weeks). */
export type TimeUnit = 'day' | 'week';

/** A length of time with its unit. */
export interface Duration {
  value: number;
  unit: TimeUnit;
}

export const DAYS_PER_UNIT: Readonly<Record<TimeUnit, number>> = { day: 1, week: 7 };

/** Converts a duration into the given unit (e.g. 30 days → 4.2857 weeks). */
export function toUnit(d: Duration, unit: TimeUnit): number {
  return (d.value * DAYS_PER_UNIT[d.unit]) / DAYS_PER_UNIT[unit];
}

export const days = (value: number): Duration => ({ value, unit: 'day' });
export const weeks = (value: number): Duration => ({ value, unit: 'week' });

/**
 * One customer's calibration-period summary, in the unit of the set that holds it.
 * x counts repeat purchase occasions (distinct purchase days minus one; same-day purchases are one occasion).
 */
export interface CustomerSummary {
  id: string;
  /** Repeat purchase occasions in the calibration period. */
  x: number;
  /** Time from the first purchase to the last calibration purchase (0 when x = 0). */
  t_x: number;
  /** Time from the first purchase to the end of the calibration period. */
  T: number;
  /** Mean spend per repeat purchase occasion, major currency units (0 when x = 0). */
  m_x: number;
  /** Repeat purchase occasions in the holdout period, when one was observed. */
  x_star?: number;
}

/** A set of summaries with its time unit: the only form the fitters accept. */
export interface SummarySet {
  unit: TimeUnit;
  customers: CustomerSummary[];
}

/** Re-expresses a summary set in another unit (x and m_x do not depend on the unit). */
export function convertSummarySet(set: SummarySet, unit: TimeUnit): SummarySet {
  if (set.unit === unit) return set;
  const f = DAYS_PER_UNIT[set.unit] / DAYS_PER_UNIT[unit];
  return { unit, customers: set.customers.map((c) => ({ ...c, t_x: c.t_x * f, T: c.T * f })) };
}

/** BG/NBD parameters. α is a rate scale in the model's time unit (purchase rate λ ~ Gamma(r, α) per unit). */
export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

/** Gamma-Gamma spend parameters (Fader, Hardie & Lee 2005; Fader & Hardie 2013), money in major units. */
export interface GammaGammaParams {
  p: number;
  q: number;
  gamma: number;
}

/** How an optimisation ended. */
export interface Convergence {
  converged: boolean;
  iterations: number;
  evaluations: number;
  restarts: number;
  /** Largest distance of a simplex vertex from the best one at the end (in the optimised, log-parameter space). */
  simplexSize: number;
  /** Euclidean norm of the central-difference gradient of the objective at the optimum (log-parameter space). */
  gradientNorm: number;
  message: string;
}

/** A machine-readable warning about a fit, with a human sentence. */
export interface ModelWarning {
  code: 'dropout_not_identified' | 'not_converged' | 'spend_frequency_dependent' | 'spend_mean_undefined' | 'too_few_customers';
  message: string;
}
