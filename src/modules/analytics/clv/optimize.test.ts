/** The hand-written optimiser and special functions against problems with known answers. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { minimize, numericGradient, numericHessian } from './optimize.js';
import { lnBeta, lnGamma, lnHyp2f1, logSumExp } from './special.js';

const close = (actual: number, expected: number, tol: number, what = ''): void =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} vs ${expected} (tol ${tol})`);

const rosenbrock = (v: number[]): number => {
  let s = 0;
  for (let i = 0; i + 1 < v.length; i++) s += 100 * (v[i + 1]! - v[i]! ** 2) ** 2 + (1 - v[i]!) ** 2;
  return s;
};

describe('minimize (Nelder-Mead with restarts)', () => {
  test('Rosenbrock in 2-D from (−1.2, 1) reaches (1, 1)', () => {
    const r = minimize(rosenbrock, [-1.2, 1], { fTol: 1e-14, xTol: 1e-10 });
    assert.equal(r.convergence.converged, true, r.convergence.message);
    close(r.x[0]!, 1, 1e-6, 'x0');
    close(r.x[1]!, 1, 1e-6, 'x1');
    assert.ok(r.fx < 1e-12);
    assert.ok(r.convergence.gradientNorm < 1e-4, `gradient ${r.convergence.gradientNorm}`);
  });

  test('extended Rosenbrock in 4-D (where a single Nelder-Mead run is known to stall) reaches (1, 1, 1, 1)', () => {
    const r = minimize(rosenbrock, [-1.2, 1, -1.2, 1], { fTol: 1e-14, xTol: 1e-10, maxEvaluations: 50_000 });
    assert.equal(r.convergence.converged, true, r.convergence.message);
    for (const v of r.x) close(v, 1, 1e-5, 'coordinate');
  });

  test('an ill-scaled quadratic and a NaN region (treated as infeasible)', () => {
    const f = (v: number[]): number => (v[0]! < -5 ? NaN : 1e4 * (v[0]! - 3) ** 2 + (v[1]! + 2) ** 2 + 1e-2 * (v[2]! - 0.5) ** 2);
    const r = minimize(f, [0, 0, 0], { fTol: 1e-14, xTol: 1e-9 });
    close(r.x[0]!, 3, 1e-6);
    close(r.x[1]!, -2, 1e-5);
    close(r.x[2]!, 0.5, 1e-3);
  });

  test('an exhausted budget is reported as not converged', () => {
    const r = minimize(rosenbrock, [-1.2, 1, -1.2, 1], { maxEvaluations: 50 });
    assert.equal(r.convergence.converged, false);
    assert.ok(r.convergence.evaluations <= 60);
  });

  test('numeric gradient and Hessian of a known function', () => {
    const f = (v: number[]): number => v[0]! ** 2 * v[1]! + Math.exp(v[1]!);
    const g = numericGradient(f, [1.5, 0.3]);
    close(g[0]!, 2 * 1.5 * 0.3, 1e-7);
    close(g[1]!, 1.5 ** 2 + Math.exp(0.3), 1e-7);
    const H = numericHessian(f, [1.5, 0.3]);
    close(H[0]![0]!, 0.6, 1e-5);
    close(H[0]![1]!, 3, 1e-5);
    close(H[1]![1]!, Math.exp(0.3), 1e-5);
  });
});

describe('special functions', () => {
  test('ln Γ at known values, including tiny and large arguments', () => {
    close(lnGamma(1), 0, 1e-14);
    close(lnGamma(2), 0, 1e-14);
    close(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    close(lnGamma(10), Math.log(362880), 1e-12);
    close(lnGamma(100), 359.13420536957539878, 1e-10);
    close(lnGamma(1e-10), -Math.log(1e-10) - 0.5772156649015329 * 1e-10, 1e-12);
    close(lnGamma(0.25), 1.2880225246980774, 1e-13);
    close(lnBeta(2, 3), Math.log(1 / 12), 1e-13);
  });

  test('log-sum-exp does not overflow or underflow', () => {
    close(logSumExp(1000, 1000), 1000 + Math.LN2, 1e-12);
    close(logSumExp(-1000, -Infinity), -1000, 1e-12);
    assert.equal(logSumExp(-Infinity, -Infinity), -Infinity);
  });

  test('2F1 against closed forms, near z = 1 and beyond double range', () => {
    for (const z of [0.1, 0.5, 0.9, 0.999]) close(Math.exp(lnHyp2f1(1, 1, 2, z)), -Math.log(1 - z) / z, 1e-10 * (-Math.log(1 - z) / z), `z=${z}`);
    close(lnHyp2f1(2.5, 1.3, 1.3, 0.7), -2.5 * Math.log(0.3), 1e-11); // 2F1(a, b; b; z) = (1 − z)^−a
    // (1 − 0.9)^−500 = 1e500 overflows a double: the series must rescale.
    close(lnHyp2f1(500, 3, 3, 0.9), 500 * Math.LN10, 1e-8);
    assert.throws(() => lnHyp2f1(1, 1, 2, 1), RangeError);
  });
});
