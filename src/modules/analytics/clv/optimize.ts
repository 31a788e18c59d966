/**
 * Unconstrained minimisation for the CLV model fits: Nelder-Mead with restarts, then a central-difference gradient
 * at the optimum as an independent convergence check.
 *
 * Why hand-written: the fits have 3-4 parameters and a cheap objective, no well-kept pure-JS optimiser is among
 * Patron's dependencies, and one small, tested routine is less risk than a new package in the shared tree.
 * Why Nelder-Mead with restarts: it needs no gradient (the BG/NBD gradient involves digamma sums that would be a
 * second thing to get right), and restarting from the best vertex with a fresh simplex removes its known failure —
 * collapse of the simplex onto a subspace before reaching the minimum (Lagarias et al. 1998; Press et al. §10.5).
 */
import type { Convergence } from './clv.types.js';

export interface MinimizeOptions {
  /** Initial simplex edge along each coordinate. */
  step?: number;
  /** Stop when every vertex's value is within fTol of the best and the simplex is smaller than xTol. */
  fTol?: number;
  xTol?: number;
  maxEvaluations?: number;
  /** A restart that improves the best value by less than fTol ends the search. */
  maxRestarts?: number;
}

export interface MinimizeResult {
  x: number[];
  fx: number;
  convergence: Convergence;
}

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, e) => s + e * e, 0));

/** Central-difference gradient with a step scaled to each coordinate. */
export function numericGradient(f: (x: number[]) => number, x: number[], h = 1e-5): number[] {
  return x.map((xi, i) => {
    const d = h * Math.max(1, Math.abs(xi));
    const up = x.slice();
    const down = x.slice();
    up[i] = xi + d;
    down[i] = xi - d;
    return (f(up) - f(down)) / (2 * d);
  });
}

/** Central-difference Hessian (symmetric), used for the identification check and standard errors. */
export function numericHessian(f: (x: number[]) => number, x: number[], h = 1e-4): number[][] {
  const n = x.length;
  const H: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const at = (di: number, dj: number, i: number, j: number): number => {
    const y = x.slice();
    y[i] = y[i]! + di;
    y[j] = y[j]! + dj;
    return f(y);
  };
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = (at(h, h, i, j) - at(h, -h, i, j) - at(-h, h, i, j) + at(-h, -h, i, j)) / (4 * h * h);
      H[i]![j] = v;
      H[j]![i] = v;
    }
  }
  return H;
}

interface Simplex {
  points: number[][];
  values: number[];
}

function nelderMeadOnce(
  f: (x: number[]) => number,
  start: number[],
  step: number,
  fTol: number,
  xTol: number,
  budget: number,
): { x: number[]; fx: number; evaluations: number; iterations: number; size: number; converged: boolean } {
  const n = start.length;
  let evaluations = 0;
  const fe = (x: number[]): number => {
    evaluations++;
    const v = f(x);
    return Number.isNaN(v) ? Infinity : v; // a NaN is treated as "outside the feasible region"
  };
  const s: Simplex = { points: [start.slice()], values: [fe(start)] };
  for (let i = 0; i < n; i++) {
    const p = start.slice();
    p[i] = p[i]! + step;
    s.points.push(p);
    s.values.push(fe(p));
  }
  const order = (): void => {
    const idx = s.values.map((_, i) => i).sort((i, j) => s.values[i]! - s.values[j]!);
    s.points = idx.map((i) => s.points[i]!);
    s.values = idx.map((i) => s.values[i]!);
  };
  const size = (): number => Math.max(...s.points.slice(1).map((p) => norm(p.map((v, k) => v - s.points[0]![k]!))));
  let iterations = 0;
  order();
  while (evaluations < budget) {
    const spread = s.values[n]! - s.values[0]!;
    if (spread <= fTol && size() <= xTol) {
      return { x: s.points[0]!, fx: s.values[0]!, evaluations, iterations, size: size(), converged: true };
    }
    iterations++;
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) centroid[k]! += s.points[i]![k]! / n;
    const worst = s.points[n]!;
    const along = (t: number): number[] => centroid.map((c, k) => c + t * (c - worst[k]!));
    const xr = along(1);
    const fr = fe(xr);
    if (fr < s.values[0]!) {
      const xe = along(2);
      const fexp = fe(xe);
      if (fexp < fr) {
        s.points[n] = xe;
        s.values[n] = fexp;
      } else {
        s.points[n] = xr;
        s.values[n] = fr;
      }
    } else if (fr < s.values[n - 1]!) {
      s.points[n] = xr;
      s.values[n] = fr;
    } else {
      // Contraction: outside if the reflection beat the worst point, inside otherwise.
      const outside = fr < s.values[n]!;
      const xc = along(outside ? 0.5 : -0.5);
      const fc = fe(xc);
      if (fc < (outside ? fr : s.values[n]!)) {
        s.points[n] = xc;
        s.values[n] = fc;
      } else {
        const best = s.points[0]!;
        for (let i = 1; i <= n; i++) {
          s.points[i] = s.points[i]!.map((v, k) => best[k]! + 0.5 * (v - best[k]!));
          s.values[i] = fe(s.points[i]!);
        }
      }
    }
    order();
  }
  return { x: s.points[0]!, fx: s.values[0]!, evaluations, iterations, size: size(), converged: false };
}

/**
 * Minimises f from x0. Restarts Nelder-Mead from the best point with a fresh simplex (edge shrinking each time)
 * until a restart improves the value by less than fTol. Reports the gradient norm at the end as a check that the
 * point is a stationary point, not just a stalled simplex.
 */
export function minimize(f: (x: number[]) => number, x0: number[], options: MinimizeOptions = {}): MinimizeResult {
  const fTol = options.fTol ?? 1e-10;
  const xTol = options.xTol ?? 1e-8;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  const maxRestarts = options.maxRestarts ?? 20;
  let step = options.step ?? 0.5;
  let evaluations = 0;
  let iterations = 0;
  let restarts = 0;
  let run = nelderMeadOnce(f, x0, step, fTol, xTol, maxEvaluations);
  evaluations += run.evaluations;
  iterations += run.iterations;
  let best = run;
  while (restarts < maxRestarts && evaluations < maxEvaluations) {
    restarts++;
    step = Math.max(step / 2, 1e-3);
    run = nelderMeadOnce(f, best.x, step, fTol, xTol, maxEvaluations - evaluations);
    evaluations += run.evaluations;
    iterations += run.iterations;
    const improvement = best.fx - run.fx;
    if (run.fx <= best.fx) best = { ...run, converged: run.converged };
    if (improvement < fTol && run.converged) break;
  }
  const gradient = numericGradient(f, best.x);
  const gradientNorm = norm(gradient);
  const converged = best.converged && evaluations < maxEvaluations && Number.isFinite(best.fx);
  return {
    x: best.x,
    fx: best.fx,
    convergence: {
      converged,
      iterations,
      evaluations,
      restarts,
      simplexSize: best.size,
      gradientNorm,
      message: converged
        ? 'simplex converged and a restart no longer improves the objective'
        : `stopped after ${evaluations} evaluations without meeting the tolerances`,
    },
  };
}
