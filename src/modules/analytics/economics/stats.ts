/**
 * The statistics of a campaign's lift: Student's t distribution (CDF and quantile) through the regularized
 * incomplete beta function, and Welch's unequal-variance two-sample t-test with its confidence interval.
 *
 * Written here rather than taken from npm: the one well-kept implementation of the t distribution (stdlib's
 * `@stdlib/stats-base-dists-t-cdf`, and `-quantile` beside it) brings about 230 packages with it, and the single-file
 * alternatives are unmaintained and untyped. The function set is small and the CLV module already has ln B(a, b)
 * (clv/special.ts); stats.test.ts holds it to closed forms, t tables and R's t.test.
 */
import { lnBeta, lnGamma } from '../clv/special.js';

const EPS = 1e-15;
const FPMIN = 1e-300;

/**
 * The continued fraction of I_x(a, b) (Numerical Recipes, 3rd ed., §6.4, evaluated by the modified Lentz method).
 * It converges quickly for x < (a + 1)/(a + b + 2); the caller uses the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) above.
 * The number of terms needed grows like √max(a, b), so the cap is generous (a Welch test of two groups of a million
 * members has a ≈ 10⁶).
 */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  const maxIterations = 10_000 + Math.ceil(10 * Math.sqrt(Math.max(a, b)));
  for (let m = 1; m <= maxIterations; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return h;
  }
  throw new RangeError(`incomplete beta: no convergence for a = ${a}, b = ${b}, x = ${x}`);
}

/** The regularized incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for a, b > 0 and 0 ≤ x ≤ 1. */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`regularizedBeta: a and b must be > 0, got ${a}, ${b}`);
  if (!(x >= 0 && x <= 1)) throw new RangeError(`regularizedBeta: x must be in [0, 1], got ${x}`);
  if (x === 0) return 0;
  if (x === 1) return 1;
  // ln of the front factor x^a (1 − x)^b / B(a, b); log1p keeps (1 − x) exact when x is tiny.
  const lnFront = a * Math.log(x) + b * Math.log1p(-x) - lnBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(lnFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(lnFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * P(|T| ≥ |t|) for Student's t with ν degrees of freedom (ν > 0, not necessarily whole: Welch's ν is not):
 * I_{ν/(ν+t²)}(ν/2, 1/2). Computed directly rather than as 1 − CDF so that small p-values keep their digits.
 */
export function tTwoSidedP(t: number, nu: number): number {
  if (!(nu > 0)) throw new RangeError(`t distribution: degrees of freedom must be > 0, got ${nu}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(nu / (nu + t * t), nu / 2, 0.5);
}

/** The CDF of Student's t with ν degrees of freedom. */
export function tCdf(t: number, nu: number): number {
  const tail = tTwoSidedP(t, nu) / 2;
  return t > 0 ? 1 - tail : tail;
}

/** The density of Student's t with ν degrees of freedom. */
export function tPdf(t: number, nu: number): number {
  const lnC = lnGamma((nu + 1) / 2) - lnGamma(nu / 2) - 0.5 * Math.log(nu * Math.PI);
  return Math.exp(lnC - ((nu + 1) / 2) * Math.log1p((t * t) / nu));
}

/**
 * The quantile of Student's t: the t with CDF(t) = p, 0 < p < 1. Newton's method on the CDF from t = 0, kept inside a
 * bracket that bisection shrinks whenever a Newton step would leave it (the CDF is monotone, so this always
 * converges), to a relative tolerance of 1e-13.
 */
export function tQuantile(p: number, nu: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(nu > 0)) throw new RangeError(`t distribution: degrees of freedom must be > 0, got ${nu}`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, nu);
  // Upper tail: find t > 0 with P(T > t) = q; work with the two-sided tail 2q, which keeps precision for small q.
  const target = 2 * (1 - p);
  const f = (t: number) => tTwoSidedP(t, nu) - target; // decreasing in t
  let lo = 0;
  let hi = 1;
  while (f(hi) > 0) {
    lo = hi;
    hi *= 2;
    if (hi > 1e300) return Infinity;
  }
  let t = (lo + hi) / 2;
  for (let i = 0; i < 500; i++) {
    const ft = f(t);
    if (ft === 0) return t;
    if (ft > 0) lo = t;
    else hi = t;
    // d/dt of the two-sided tail is −2·pdf(t).
    const slope = -2 * tPdf(t, nu);
    let next = slope !== 0 ? t - ft / slope : NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-13 * Math.max(1, Math.abs(t))) return next;
    t = next;
  }
  return t;
}

/** A group's sample: its size, mean and sample variance (divisor n − 1). */
export interface SampleSummary {
  n: number;
  mean: number;
  variance: number;
}

export interface WelchResult {
  /** mean(a) − mean(b). */
  difference: number;
  /** √(s²_a/n_a + s²_b/n_b). */
  standard_error: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  t: number;
  /** Two-sided p-value of H0: equal means. */
  p_value: number;
  /** The confidence interval of the difference at `level`. */
  ci_low: number;
  ci_high: number;
  level: number;
}

/**
 * Welch's two-sample t-test (unequal variances) of mean(a) − mean(b), with the confidence interval at `level`
 * (default 95%): difference ± t_{(1+level)/2, ν} · SE, ν by Welch–Satterthwaite. Null when the test is undefined:
 * a group with fewer than 2 members, or no variance in either group (SE = 0).
 */
export function welchTest(a: SampleSummary, b: SampleSummary, level = 0.95): WelchResult | null {
  if (a.n < 2 || b.n < 2) return null;
  const va = Math.max(0, a.variance) / a.n;
  const vb = Math.max(0, b.variance) / b.n;
  const se2 = va + vb;
  if (!(se2 > 0) || !Number.isFinite(se2)) return null;
  const se = Math.sqrt(se2);
  const df = (se2 * se2) / ((va * va) / (a.n - 1) + (vb * vb) / (b.n - 1));
  const difference = a.mean - b.mean;
  const t = difference / se;
  const q = tQuantile((1 + level) / 2, df);
  return { difference, standard_error: se, df, t, p_value: tTwoSidedP(t, df), ci_low: difference - q * se, ci_high: difference + q * se, level };
}

/** The size, mean and sample variance of a list of numbers (for tests and small groups). */
export function summarizeSample(xs: readonly number[]): SampleSummary {
  const n = xs.length;
  const mean = n > 0 ? xs.reduce((s, x) => s + x, 0) / n : 0;
  const variance = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { n, mean, variance };
}
