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

/** A real number as sign · e^log, so that values beyond double range keep their sign. */
export interface SignedLog {
  sign: 1 | -1;
  log: number;
}

/**
 * 2F1(a, b; c; z) as sign and log-magnitude, for 0 ≤ z < 1, a, b > 0 and c not 0, −1, −2, … (c may be negative:
 * the BG/NBD has c = a + b + x − 1, below 0 when x = 0 and a + b < 1). Sums the power series term by term,
 * rescaling when the partial sum grows large so that big x (large a, b) cannot overflow, and stops when a geometric
 * bound on the tail is below double precision. Near z = 1 the series converges slowly (terms shrink like zⁿ), so
 * the iteration cap is generous; hitting it throws rather than returning a truncated value.
 */
export function hyp2f1(a: number, b: number, c: number, z: number, maxTerms = 1_000_000): SignedLog {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hyp2f1: z must be in [0, 1), got ${z}`);
  if (!(a > 0 && b > 0)) throw new RangeError(`hyp2f1: a and b must be > 0, got ${a}, ${b}`);
  if (c <= 0 && Number.isInteger(c)) throw new RangeError(`hyp2f1: c must not be 0 or a negative integer, got ${c}`);
  if (z === 0) return { sign: 1, log: 0 };
  let term = 1;
  let sum = 1;
  let logScale = 0;
  for (let n = 0; n < maxTerms; n++) {
    term *= ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    sum += term;
    if (Math.abs(sum) > 1e280) {
      sum /= 1e280;
      term /= 1e280;
      logScale += 280 * Math.LN10;
    }
    if (!Number.isFinite(sum)) break;
    // Once c + n + 1 > 0 every later factor is positive, and since (a+m)/(m+1) and (b+m)/(c+m) approach 1
    // monotonically, every later term ratio is at most `bound`: the tail is below term · bound / (1 − bound). (A bound
    // from the next ratio alone holds only once the ratios decrease, which for a large a — r + x of a fit that ran
    // off — is millions of terms away even when the series has long converged.)
    if (c + n + 1 > 0) {
      const bound = z * Math.max(1, (a + n + 1) / (n + 2)) * Math.max(1, (b + n + 1) / (c + n + 1));
      if (bound < 1 && (Math.abs(term) * bound) / (1 - bound) <= 1e-16 * Math.abs(sum)) {
        if (sum === 0) break;
        return { sign: sum > 0 ? 1 : -1, log: Math.log(Math.abs(sum)) + logScale };
      }
    }
  }
  throw new RangeError(`hyp2f1(${a}, ${b}; ${c}; ${z}) did not converge in ${maxTerms} terms`);
}

/** ln 2F1(a, b; c; z) where the value is known to be positive (c > 0). */
export function lnHyp2f1(a: number, b: number, c: number, z: number): number {
  if (!(c > 0)) throw new RangeError(`lnHyp2f1: c must be > 0, got ${c}`);
  return hyp2f1(a, b, c, z).log;
}
