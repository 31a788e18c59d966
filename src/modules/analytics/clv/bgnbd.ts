/**
 * BG/NBD ("beta-geometric / negative binomial distribution") model of repeat purchasing in a non-contractual
 * setting: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2), 275-284.
 *
 * While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α) (α in the model's time unit); after
 * each repeat purchase they drop out with probability p ~ Beta(a, b). Per customer the data are (x, t_x, T).
 */
import { hyp2f1, lnGamma, logSumExp } from './special.js';
import { minimize, numericHessian } from './optimize.js';
import {
  DAYS_PER_UNIT,
  toUnit,
  type BgNbdParams,
  type Convergence,
  type CustomerSummary,
  type Duration,
  type ModelWarning,
  type SummarySet,
  type TimeUnit,
} from './clv.types.js';

export interface BgNbdFitOptions {
  /**
   * L2 penalty coefficient λ on the log-parameters: the objective is −LL + λ·Σ(ln θ)², with α taken per week whatever
   * the set's unit (α in days is 7 × α in weeks), so a penalised fit predicts the same in either unit. 0 (default) is
   * plain MLE.
   */
  penalty?: number;
  /** Starting values (default r = a = b = 1, α = mean T / (1 + mean x)). */
  start?: BgNbdParams;
}

/** What the fit learned about whether the data identify the dropout process (see `identifyDropout`). */
export interface DropoutIdentification {
  identified: boolean;
  /** a / (a + b): the mean probability of dropping out after a repeat purchase. */
  meanDropoutProbability: number;
  /** Smallest eigenvalue of the Hessian of −LL in (ln a, ln b) at the optimum (curvature of the likelihood). */
  minCurvatureAB: number;
  reasons: string[];
}

export interface BgNbdModel {
  kind: 'bgnbd';
  /** The unit of t_x, T and α; every prediction converts its horizon into this unit. */
  unit: TimeUnit;
  params: BgNbdParams;
  /** Log-likelihood of the calibration data at params (without the penalty). */
  logLikelihood: number;
  penalty: number;
  customers: number;
  convergence: Convergence;
  identification: DropoutIdentification;
  warnings: ModelWarning[];
}

/** Rules for `identifyDropout`, exported so the docs and the tests name the same numbers. */
export const DROPOUT_RULE = {
  /** a/(a+b) below this means "practically nobody ever drops out": p is indistinguishable from 0. */
  minMeanDropout: 1e-3,
  /** |ln a| or |ln b| beyond this means the optimiser ran off towards a boundary (a or b < 4.5e-5 or > 22,000). */
  maxAbsLogParam: 10,
  /** Curvature of −LL along the flattest (ln a, ln b) direction below this: a unit change moves LL by < 0.005. */
  minCurvature: 1e-2,
} as const;

const LOG_BOUND = 30; // ln-parameters outside ±30 are treated as infeasible (the objective returns +∞)

/** Pre-computed per-customer columns, so each objective evaluation is a single pass without allocation. */
interface Columns {
  x: Float64Array;
  tx: Float64Array;
  T: Float64Array;
  /** Distinct x values and, per customer, the index into them (ln Γ terms depend on x only). */
  xs: number[];
  xIndex: Int32Array;
}

function columns(customers: CustomerSummary[]): Columns {
  const n = customers.length;
  const x = new Float64Array(n);
  const tx = new Float64Array(n);
  const T = new Float64Array(n);
  const xIndex = new Int32Array(n);
  const where = new Map<number, number>();
  const xs: number[] = [];
  customers.forEach((c, i) => {
    x[i] = c.x;
    tx[i] = c.t_x;
    T[i] = c.T;
    let k = where.get(c.x);
    if (k === undefined) {
      k = xs.length;
      xs.push(c.x);
      where.set(c.x, k);
    }
    xIndex[i] = k;
  });
  return { x, tx, T, xs, xIndex };
}

function validate(set: SummarySet): void {
  for (const c of set.customers) {
    const ok =
      Number.isInteger(c.x) && c.x >= 0 && c.t_x >= 0 && c.T >= 0 && c.t_x <= c.T + 1e-9 && (c.x > 0 || c.t_x === 0);
    if (!ok) throw new RangeError(`customer ${c.id}: invalid summary (x=${c.x}, t_x=${c.t_x}, T=${c.T})`);
  }
}

/**
 * Sum of the individual log-likelihoods (FHL 2005, eq. 6), in the stable form of Fader, Hardie & Lee's note
 * "Implementing the BG/NBD model in Excel": ln L_i = A1 + A2 + ln(e^A3 + δ(x>0) e^A4) with
 *   A1 = ln Γ(r+x) − ln Γ(r) + r ln α
 *   A2 = ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x)
 *   A3 = −(r+x) ln(α+T)
 *   A4 = ln a − ln(b+x−1) − (r+x) ln(α+t_x)        (only when x > 0)
 * combined with log-sum-exp so that neither term underflows for large x or T.
 */
function logLikelihoodColumns(p: BgNbdParams, col: Columns): number {
  const { r, alpha, a, b } = p;
  const lgR = lnGamma(r);
  const lgAB = lnGamma(a + b);
  const lgB = lnGamma(b);
  const rLogAlpha = r * Math.log(alpha);
  const logA = Math.log(a);
  const perX = col.xs.map((x) => ({
    base: lnGamma(r + x) - lgR + rLogAlpha + lgAB + lnGamma(b + x) - lgB - lnGamma(a + b + x),
    a4: x > 0 ? logA - Math.log(b + x - 1) : -Infinity,
  }));
  let ll = 0;
  for (let i = 0; i < col.x.length; i++) {
    const x = col.x[i]!;
    const k = perX[col.xIndex[i]!]!;
    const a3 = -(r + x) * Math.log(alpha + col.T[i]!);
    const a4 = x > 0 ? k.a4 - (r + x) * Math.log(alpha + col.tx[i]!) : -Infinity;
    ll += k.base + logSumExp(a3, a4);
  }
  return ll;
}

/** Log-likelihood of a summary set under given parameters (the set's unit must match the parameters' unit). */
export function bgnbdLogLikelihood(params: BgNbdParams, set: SummarySet): number {
  return logLikelihoodColumns(params, columns(set.customers));
}

const toParams = (v: number[]): BgNbdParams => ({ r: Math.exp(v[0]!), alpha: Math.exp(v[1]!), a: Math.exp(v[2]!), b: Math.exp(v[3]!) });

/**
 * Decides whether the fitted dropout process is identified. The rule (documented in docs/analytics/clv.md):
 * not identified when any of
 *  - a/(a+b) < DROPOUT_RULE.minMeanDropout — the data are explained by "nobody drops out";
 *  - |ln a| or |ln b| > DROPOUT_RULE.maxAbsLogParam — a or b ran off towards 0 or ∞;
 *  - the smallest eigenvalue of the Hessian of −LL in (ln a, ln b) < DROPOUT_RULE.minCurvature — the likelihood is
 *    flat in some direction of (a, b), so the data cannot say how dropout varies.
 */
export function identifyDropout(params: BgNbdParams, hessianAB: number[][]): DropoutIdentification {
  const { a, b } = params;
  const meanDropoutProbability = a / (a + b);
  const h11 = hessianAB[0]![0]!;
  const h12 = hessianAB[0]![1]!;
  const h22 = hessianAB[1]![1]!;
  const tr = h11 + h22;
  const det = h11 * h22 - h12 * h12;
  const minCurvatureAB = tr / 2 - Math.sqrt(Math.max(0, (tr * tr) / 4 - det));
  const reasons: string[] = [];
  if (meanDropoutProbability < DROPOUT_RULE.minMeanDropout) {
    reasons.push(`mean dropout probability a/(a+b) = ${meanDropoutProbability.toExponential(2)} is practically zero`);
  }
  if (Math.abs(Math.log(a)) > DROPOUT_RULE.maxAbsLogParam || Math.abs(Math.log(b)) > DROPOUT_RULE.maxAbsLogParam) {
    reasons.push(`a = ${a.toExponential(2)} or b = ${b.toExponential(2)} ran off towards a boundary`);
  }
  if (!(minCurvatureAB >= DROPOUT_RULE.minCurvature)) {
    reasons.push(`the likelihood is flat in (a, b) (smallest curvature ${minCurvatureAB.toExponential(2)})`);
  }
  return { identified: reasons.length === 0, meanDropoutProbability, minCurvatureAB, reasons };
}

/**
 * Fits r, α, a, b by maximum likelihood (optionally L2-penalised), optimising over the log-parameters so the
 * search is unconstrained. Never throws for data that merely fail to identify dropout: it returns the best point
 * found, with a `dropout_not_identified` warning, and its predictions stay finite (P(alive) → 1).
 */
export function fitBgNbd(set: SummarySet, options: BgNbdFitOptions = {}): BgNbdModel {
  validate(set);
  const n = set.customers.length;
  if (n === 0) throw new RangeError('fitBgNbd: no customers');
  const col = columns(set.customers);
  const penalty = options.penalty ?? 0;
  if (!(penalty >= 0)) throw new RangeError('fitBgNbd: penalty must be ≥ 0');
  const meanT = set.customers.reduce((s, c) => s + c.T, 0) / n;
  const meanX = set.customers.reduce((s, c) => s + c.x, 0) / n;
  const start = options.start ?? { r: 1, alpha: meanT / (1 + meanX), a: 1, b: 1 };
  // The penalty reads α per week: ln α_week = ln α_unit + ln(days per unit / 7). Penalising ln α in the set's own
  // unit would pull α towards 1 per day in one fit and 1 per week in the other, and the predictions would differ.
  const alphaToWeek = Math.log(DAYS_PER_UNIT[set.unit] / 7);
  const objective = (v: number[]): number => {
    if (v.some((e) => Math.abs(e) > LOG_BOUND)) return Infinity;
    const pen = penalty * v.reduce((s, e, i) => s + (i === 1 ? (e + alphaToWeek) ** 2 : e * e), 0);
    return -logLikelihoodColumns(toParams(v), col) + pen;
  };
  const v0 = [Math.log(start.r), Math.log(start.alpha), Math.log(start.a), Math.log(start.b)];
  const result = minimize(objective, v0, { fTol: 1e-9, xTol: 1e-7 });
  const params = toParams(result.x);
  const H = numericHessian(objective, result.x);
  const identification = identifyDropout(params, [
    [H[2]![2]!, H[2]![3]!],
    [H[3]![2]!, H[3]![3]!],
  ]);
  const warnings: ModelWarning[] = [];
  if (!identification.identified) {
    warnings.push({
      code: 'dropout_not_identified',
      message:
        `The data cannot identify the dropout process (${identification.reasons.join('; ')}). ` +
        'Purchase-rate predictions remain usable, but P(alive) is close to 1 for everyone, so CLV is overstated if customers do drop out. ' +
        'A longer calibration period or an L2 penalty (penalty > 0) gives more stable a and b.',
    });
  }
  if (!result.convergence.converged) {
    warnings.push({ code: 'not_converged', message: `The optimiser did not converge: ${result.convergence.message}.` });
  }
  return {
    kind: 'bgnbd',
    unit: set.unit,
    params,
    logLikelihood: logLikelihoodColumns(params, col),
    penalty,
    customers: n,
    convergence: result.convergence,
    identification,
    warnings,
  };
}

type Calibration = Pick<CustomerSummary, 'x' | 't_x' | 'T'>;

/** ln of a/(b+x−1)·((α+T)/(α+t_x))^(r+x): the odds, against being alive, of having dropped out after the last purchase. */
function logDeadOdds(p: BgNbdParams, c: Calibration): number {
  if (c.x === 0) return -Infinity;
  return (
    Math.log(p.a) - Math.log(p.b + c.x - 1) + (p.r + c.x) * (Math.log(p.alpha + c.T) - Math.log(p.alpha + c.t_x))
  );
}

/** P(alive | x, t_x, T) (FHL 2005, eq. 11 / their note); 1 for customers without a repeat purchase. t_x, T in model.unit. */
export function probabilityAlive(model: BgNbdModel, c: Calibration): number {
  const lo = logDeadOdds(model.params, c);
  return lo === -Infinity ? 1 : 1 / (1 + Math.exp(lo));
}

/**
 * E[Y(t) | x, t_x, T]: expected repeat purchases in the next t (FHL 2005, eq. 10)
 *   = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]
 *     / [1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)]
 * The horizon carries its own unit and is converted to model.unit; t_x and T are in model.unit.
 */
export function expectedPurchases(model: BgNbdModel, c: Calibration, horizon: Duration): number {
  const t = toUnit(horizon, model.unit);
  if (t === 0) return 0;
  const { a } = model.params;
  // At a = 1 the formula is 0/0 (the bracket vanishes with a − 1); its limit is the mean of the two sides.
  if (Math.abs(a - 1) < A_ONE) {
    const side = (v: number): number => conditionalExpectation({ ...model.params, a: v }, c, t) * probabilityAlive(model, c);
    return (side(1 - A_ONE) + side(1 + A_ONE)) / 2;
  }
  return conditionalExpectation(model.params, c, t) * probabilityAlive(model, c);
}

const A_ONE = 1e-6;
const C_ZERO = 1e-6;

/** The part of eq. 10 without the P(alive) denominator, for t in the model's unit. */
function conditionalExpectation(params: BgNbdParams, c: Calibration, t: number): number {
  const { r, alpha, a, b } = params;
  const x = c.x;
  const z = t / (alpha + c.T + t);
  const c3 = a + b + x - 1;
  // c3 → 0 (x = 0, a + b → 1) is another 0/0: 2F1 has a pole there and the factor c3 vanishes; take the limit.
  if (Math.abs(c3) < C_ZERO) {
    const side = (v: number): number => conditionalExpectation({ ...params, b: b + v - c3 }, c, t);
    return (side(-C_ZERO) + side(C_ZERO)) / 2;
  }
  const F = hyp2f1(r + x, b + x, c3, z);
  // 1 − (1−z)^(r+x)·2F1, since (α+T)/(α+T+t) = 1 − z; expm1 keeps precision when the product is close to 1.
  const logProduct = (r + x) * Math.log1p(-z) + F.log;
  const inner = F.sign > 0 ? -Math.expm1(logProduct) : 1 + Math.exp(logProduct);
  return (c3 / (a - 1)) * inner;
}

/**
 * E[X(t)]: expected repeat purchases of a newly acquired customer in their first t (FHL 2005, eq. 9)
 *   = (a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))]
 */
export function expectedPurchasesNew(model: BgNbdModel, horizon: Duration): number {
  const t = toUnit(horizon, model.unit);
  if (t === 0) return 0;
  const { a } = model.params;
  // Same a = 1 limit as above; with x = 0, eq. 10 without P(alive) at (x, t_x, T) = (0, 0, 0) is eq. 9.
  const zero = { x: 0, t_x: 0, T: 0 };
  if (Math.abs(a - 1) < A_ONE) {
    return (conditionalExpectation({ ...model.params, a: 1 - A_ONE }, zero, t) + conditionalExpectation({ ...model.params, a: 1 + A_ONE }, zero, t)) / 2;
  }
  return conditionalExpectation(model.params, zero, t);
}

/** Per-customer forecasts at the standard horizons (30, 90, 365 days), whatever unit the model was fitted in. */
export interface PurchaseForecast {
  pAlive: number;
  next30Days: number;
  next90Days: number;
  next365Days: number;
}

export function forecastCustomer(model: BgNbdModel, c: Calibration): PurchaseForecast {
  return {
    pAlive: probabilityAlive(model, c),
    next30Days: expectedPurchases(model, c, { value: 30, unit: 'day' }),
    next90Days: expectedPurchases(model, c, { value: 90, unit: 'day' }),
    next365Days: expectedPurchases(model, c, { value: 365, unit: 'day' }),
  };
}
