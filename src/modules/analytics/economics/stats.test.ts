/**
 * The t distribution and Welch's test against values known independently: closed forms of the incomplete beta and
 * of the t CDF for 1, 2 and 3 degrees of freedom, printed t tables, and R's t.test on two textbook data sets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { regularizedBeta, summarizeSample, tCdf, tPdf, tQuantile, tTwoSidedP, welchTest } from './stats.js';

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

describe('regularized incomplete beta', () => {
  test('closed forms: I_x(1,1) = x, I_x(a,1) = x^a, I_x(1,b) = 1 − (1−x)^b, I_½(a,a) = ½', () => {
    for (const x of [0.001, 0.1, 0.37, 0.5, 0.8, 0.999]) {
      close(regularizedBeta(x, 1, 1), x, 1e-14, `I_${x}(1,1)`);
      for (const a of [0.5, 2, 7.5, 40]) close(regularizedBeta(x, a, 1), x ** a, 1e-13, `I_${x}(${a},1)`);
      for (const b of [0.5, 3, 12]) close(regularizedBeta(x, 1, b), 1 - (1 - x) ** b, 1e-13, `I_${x}(1,${b})`);
    }
    for (const a of [0.5, 1, 4.2, 100]) close(regularizedBeta(0.5, a, a), 0.5, 1e-12, `I_½(${a},${a})`);
    // ln B(a, a) of a half million is about −7·10⁵, so its last digits carry ~1e-10 of error into the front factor.
    close(regularizedBeta(0.5, 5e5, 5e5), 0.5, 1e-9, 'I_½(5e5,5e5)');
  });

  test('symmetry I_x(a, b) = 1 − I_{1−x}(b, a), and the ends', () => {
    for (const [x, a, b] of [[0.2, 2.5, 0.5], [0.9, 10, 3], [0.55, 0.3, 7]] as const) {
      close(regularizedBeta(x, a, b), 1 - regularizedBeta(1 - x, b, a), 1e-14, `symmetry at ${x}, ${a}, ${b}`);
    }
    assert.equal(regularizedBeta(0, 2, 3), 0);
    assert.equal(regularizedBeta(1, 2, 3), 1);
    assert.throws(() => regularizedBeta(1.5, 1, 1), RangeError);
    assert.throws(() => regularizedBeta(0.5, 0, 1), RangeError);
  });
});

describe('Student t distribution', () => {
  test('the CDF matches the closed forms for ν = 1 (Cauchy), 2 and 3', () => {
    for (const t of [-30, -4, -1, -0.25, 0, 0.5, 1, 2.5, 10, 300]) {
      close(tCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `ν=1, t=${t}`);
      close(tCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, `ν=2, t=${t}`);
      const s = t / Math.sqrt(3);
      close(tCdf(t, 3), 0.5 + (s / (1 + s * s) + Math.atan(s)) / Math.PI, 1e-13, `ν=3, t=${t}`);
    }
  });

  test('quantiles match the printed t table', () => {
    // Two-sided 95% (p = 0.975), one-sided 95% and 99.5%, to the ten decimals of the tables (R's qt agrees).
    const table: Array<[number, number, number]> = [
      [0.975, 1, 12.7062047362], [0.975, 2, 4.3026527297], [0.975, 3, 3.1824463053], [0.975, 4, 2.7764451052],
      [0.975, 5, 2.5705818366], [0.975, 10, 2.228138852], [0.975, 20, 2.0859634473], [0.975, 30, 2.0422724563],
      [0.975, 60, 2.000297822], [0.975, 120, 1.979930405],
      [0.95, 1, 6.3137515147], [0.95, 10, 1.8124611228], [0.95, 30, 1.6972608866], [0.995, 10, 3.169272673],
    ];
    for (const [p, nu, t] of table) {
      close(tQuantile(p, nu), t, 1e-9, `t(${p}, ${nu})`);
      close(tQuantile(1 - p, nu), -t, 1e-9, `t(${1 - p}, ${nu})`);
      close(tCdf(t, nu), p, 1e-10, `CDF at the table's t(${p}, ${nu})`);
    }
    assert.equal(tQuantile(0.5, 7), 0);
  });

  test('the CDF agrees with Simpson integration of the density, also for a fractional ν (Welch)', () => {
    const simpson = (t: number, nu: number) => {
      const n = 20_000;
      const h = t / n;
      let s = tPdf(0, nu) + tPdf(t, nu);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * tPdf(i * h, nu);
      return 0.5 + (s * h) / 3;
    };
    for (const [t, nu] of [[0.7, 17.776], [2.1, 3.5], [1.3, 0.6], [4, 250.25]] as const) close(tCdf(t, nu), simpson(t, nu), 1e-9, `t=${t}, ν=${nu}`);
  });

  test('large ν approaches the normal distribution (z₀.₉₇₅ = 1.959963985)', () => {
    close(tQuantile(0.975, 1e7), 1.959963985, 1e-6, 't(0.975, 1e7)');
    close(tQuantile(0.975, 2e6 - 2), 1.959965, 2e-6, 't(0.975, 2e6)');
    close(tTwoSidedP(1.959963985, 1e7), 0.05, 1e-6, 'two-sided p at 1.96');
  });

  test('two-sided p-values keep their digits in the far tail', () => {
    // For ν = 1: P(|T| ≥ t) = 1 − 2·atan(t)/π = 2·atan(1/t)/π for t > 0.
    close(tTwoSidedP(1e6, 1) / ((2 * Math.atan(1e-6)) / Math.PI), 1, 1e-9, 'ν=1, t=1e6');
    assert.ok(tTwoSidedP(40, 200) > 0 && tTwoSidedP(40, 200) < 1e-90);
  });
});

describe("Welch's t-test", () => {
  test("R's t.test(extra ~ group, data = sleep): t = −1.8608, df = 17.776, p = 0.07939, CI [−3.3654832, 0.2054832]", () => {
    // Student (1908) / Cushny & Peebles: extra hours of sleep with two drugs, 10 patients each (R's `sleep` data).
    const g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
    const g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];
    const w = welchTest(summarizeSample(g1), summarizeSample(g2))!;
    close(w.difference, 0.75 - 2.33, 1e-12, 'difference');
    close(w.t, -1.8608, 5e-5, 't');
    close(w.df, 17.776, 5e-4, 'df');
    close(w.p_value, 0.07939, 5e-6, 'p');
    close(w.ci_low, -3.3654832, 5e-8, 'CI low');
    close(w.ci_high, 0.2054832, 5e-8, 'CI high');
  });

  test('equal sizes and variances, by hand: ν = 2(n − 1), and a difference of t₀.₉₇₅,₂₀ standard errors has p = 0.05', () => {
    // n = 11 per group, s² = 1 in both: SE = √(2/11), ν = (2/11)² / (2·(1/11)²/10) = 20. With the difference set to
    // t₀.₉₇₅,₂₀ · SE (the table's 2.0859634473), the two-sided p is 0.05 and the 95% interval starts at 0.
    const se = Math.sqrt(2 / 11);
    const w = welchTest({ n: 11, mean: 5 + 2.0859634473 * se, variance: 1 }, { n: 11, mean: 5, variance: 1 })!;
    close(w.df, 20, 1e-12, 'df');
    close(w.standard_error, se, 1e-15, 'SE');
    close(w.t, 2.0859634473, 1e-9, 't');
    close(w.p_value, 0.05, 1e-10, 'p');
    close(w.ci_low, 0, 1e-9, 'CI low');
    close(w.ci_high, 2 * 2.0859634473 * se, 1e-9, 'CI high');
  });

  test('the interval and the p-value agree: p < 0.05 exactly when the 95% interval excludes 0', () => {
    for (const shift of [0, 0.3, 0.6, 0.9, 1.2]) {
      const a = { n: 40, mean: 10 + shift, variance: 4 };
      const b = { n: 25, mean: 10, variance: 9 };
      const w = welchTest(a, b)!;
      assert.equal(w.p_value < 0.05, w.ci_low > 0 || w.ci_high < 0, `shift ${shift}`);
    }
  });

  test('undefined for a group under 2 or no variance at all', () => {
    assert.equal(welchTest({ n: 1, mean: 3, variance: 0 }, { n: 10, mean: 2, variance: 1 }), null);
    assert.equal(welchTest({ n: 5, mean: 3, variance: 0 }, { n: 5, mean: 2, variance: 0 }), null);
    assert.ok(welchTest({ n: 5, mean: 3, variance: 0 }, { n: 5, mean: 2, variance: 1 }) !== null);
  });
});
