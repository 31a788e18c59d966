/**
 * Special functions the CLV models need, written here because none of Patron's dependencies provides them and the
 * set is small: log-gamma, log-beta, log-sum-exp and the Gaussian hypergeometric function 2F1.
 */

// Lanczos approximation, g = 7, n = 9 (the coefficients used by Numerical Recipes 3rd ed. / Boost's "lanczos13m53"
// family give ~15 significant digits for x ≥ 0.5; below that the reflection formula is used).
const LANCZOS_G = 7;
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0 (the models only need positive arguments). */
export function lnGamma(x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  if (x < 0.5) {
    // Reflection: Γ(x)Γ(1−x) = π / sin(πx); keeps full precision for tiny x (a → 0 in a non-identified fit).
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  }
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b). */
export function lnBeta(a: number, b: number): number {
  return lnGamma(a) + lnGamma(b) - lnGamma(a + b);
}

/** ln(e^u + e^v) without overflow or underflow; −Infinity terms are allowed. */
export function logSumExp(u: number, v: number): number {
  const m = Math.max(u, v);
  if (m === -Infinity) return -Infinity;
  return m + Math.log(Math.exp(u - m) + Math.exp(v - m));
}

/**
 * ln 2F1(a, b; c; z) for 0 ≤ z < 1 and a series whose terms are eventually positive (true for every use in the
 * BG/NBD: a, b, c > 0). Sums the power series term by term, rescaling when the partial sum grows large so that
 * big x (large a, b) cannot overflow, and stops when a term no longer changes the sum. Near z = 1 the series
 * converges slowly (terms shrink like zⁿ), so the iteration cap is generous; hitting it throws rather than
 * returning a truncated value.
 */
export function lnHyp2f1(a: number, b: number, c: number, z: number, maxTerms = 1_000_000): number {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1: z must be in [0, 1), got ${z}`);
  if (!(c > 0)) throw new RangeError(`hyp2f1: c must be > 0, got ${c}`);
  if (z === 0) return 0;
  let term = 1;
  let sum = 1;
  let logScale = 0;
  for (let n = 0; n < maxTerms; n++) {
    const ratio = ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    if (sum > 1e280) {
      sum /= 1e280;
      term /= 1e280;
      logScale += 280 * Math.LN10;
    }
    if (!Number.isFinite(sum)) break;
    // Past n > a + b − c the term ratio is close to z < 1 and shrinking, so the tail is bounded by a geometric
    // series term·ρ/(1 − ρ) with ρ the next ratio: stop when that bound is below double precision.
    if (n > a + b - c) {
      const next = ((a + n + 1) * (b + n + 1) * z) / ((c + n + 1) * (n + 2));
      if (next < 1 && (Math.abs(term) * next) / (1 - next) <= 1e-16 * Math.abs(sum)) return Math.log(sum) + logScale;
    }
  }
  throw new RangeError(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${maxTerms} terms`);
}
