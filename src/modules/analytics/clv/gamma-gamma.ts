/**
 * Gamma-Gamma model of spend per purchase occasion: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value
 * Curves for Customer Base Analysis", JMR 42(4); Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value".
 *
 * A customer's occasion spends z_i ~ Gamma(p, ν), with ν ~ Gamma(q, γ) across customers. Only the mean repeat
 * spend m_x of the x repeat occasions enters, so the model is fitted on customers with x > 0. It assumes spend is
 * independent of purchase frequency; `spendFrequencyCorrelation` reports how far the data are from that.
 * Money is in major currency units throughout.
 */
import { lnGamma } from './special.js';
import { minimize } from './optimize.js';
import type { Convergence, CustomerSummary, GammaGammaParams, ModelWarning, SummarySet } from './clv.types.js';

export interface GammaGammaFitOptions {
  /** L2 penalty coefficient on the log-parameters (as for the BG/NBD); 0 by default. */
  penalty?: number;
}

/** Correlation of x and m_x among repeat customers: the Gamma-Gamma assumes none. */
export interface IndependenceCheck {
  customers: number;
  pearson: number;
  spearman: number;
  /** |ρ| (either) at or above this raises `spend_frequency_dependent`. */
  threshold: number;
}

export interface GammaGammaModel {
  kind: 'gamma-gamma';
  params: GammaGammaParams;
  logLikelihood: number;
  penalty: number;
  customers: number;
  convergence: Convergence;
  independence: IndependenceCheck;
  /** E[spend per occasion] in the population, pγ/(q−1); null when q ≤ 1 (the mean does not exist). */
  populationMeanSpend: number | null;
  warnings: ModelWarning[];
}

export const INDEPENDENCE_THRESHOLD = 0.3;

type Spend = Pick<CustomerSummary, 'x' | 'm_x'>;

/**
 * ln f(m_x | p, q, γ; x) = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m_x + px ln x − (px+q) ln(γ + x·m_x)
 * (Fader & Hardie 2013, eq. 4), summed over customers with x > 0.
 */
export function gammaGammaLogLikelihood(params: GammaGammaParams, rows: Spend[]): number {
  const { p, q, gamma } = params;
  const lgQ = lnGamma(q);
  const qLogGamma = q * Math.log(gamma);
  let ll = 0;
  for (const { x, m_x: m } of rows) {
    const px = p * x;
    ll +=
      lnGamma(px + q) - lnGamma(px) - lgQ + qLogGamma + (px - 1) * Math.log(m) + px * Math.log(x) - (px + q) * Math.log(gamma + m * x);
  }
  return ll;
}

function ranks(v: number[]): number[] {
  const idx = v.map((_, i) => i).sort((i, j) => v[i]! - v[j]!);
  const r = new Array<number>(v.length);
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && v[idx[e + 1]!] === v[idx[k]!]) e++;
    for (let j = k; j <= e; j++) r[idx[j]!] = (k + e) / 2 + 1; // ties share their mean rank
    k = e + 1;
  }
  return r;
}

function pearson(u: number[], v: number[]): number {
  const n = u.length;
  const mu = u.reduce((s, e) => s + e, 0) / n;
  const mv = v.reduce((s, e) => s + e, 0) / n;
  let suv = 0;
  let suu = 0;
  let svv = 0;
  for (let i = 0; i < n; i++) {
    suv += (u[i]! - mu) * (v[i]! - mv);
    suu += (u[i]! - mu) ** 2;
    svv += (v[i]! - mv) ** 2;
  }
  return suu === 0 || svv === 0 ? 0 : suv / Math.sqrt(suu * svv);
}

export function spendFrequencyCorrelation(rows: Spend[]): IndependenceCheck {
  const xs = rows.map((r) => r.x);
  const ms = rows.map((r) => r.m_x);
  return {
    customers: rows.length,
    pearson: pearson(xs, ms),
    spearman: pearson(ranks(xs), ranks(ms)),
    threshold: INDEPENDENCE_THRESHOLD,
  };
}

/** Fits p, q, γ by maximum likelihood over ln p, ln q, ln γ on the customers of the set with x > 0 and m_x > 0. */
export function fitGammaGamma(set: SummarySet, options: GammaGammaFitOptions = {}): GammaGammaModel {
  const rows = set.customers.filter((c) => c.x > 0 && c.m_x > 0);
  if (rows.length < 2) throw new RangeError('fitGammaGamma: needs at least two customers with a repeat purchase and spend');
  const penalty = options.penalty ?? 0;
  if (!(penalty >= 0)) throw new RangeError('fitGammaGamma: penalty must be ≥ 0');
  const toParams = (v: number[]): GammaGammaParams => ({ p: Math.exp(v[0]!), q: Math.exp(v[1]!), gamma: Math.exp(v[2]!) });
  const meanM = rows.reduce((s, r) => s + r.m_x, 0) / rows.length;
  const objective = (v: number[]): number => {
    if (v.some((e) => Math.abs(e) > 30)) return Infinity;
    return -gammaGammaLogLikelihood(toParams(v), rows) + penalty * v.reduce((s, e) => s + e * e, 0);
  };
  // Start at p = q = 2 and γ matching the sample mean (pγ/(q−1) = mean m_x).
  const result = minimize(objective, [Math.log(2), Math.log(2), Math.log(meanM / 2)], { fTol: 1e-10, xTol: 1e-8 });
  const params = toParams(result.x);
  const independence = spendFrequencyCorrelation(rows);
  const warnings: ModelWarning[] = [];
  if (Math.max(Math.abs(independence.pearson), Math.abs(independence.spearman)) >= INDEPENDENCE_THRESHOLD) {
    warnings.push({
      code: 'spend_frequency_dependent',
      message: `Spend and frequency are correlated (Pearson ${independence.pearson.toFixed(3)}, Spearman ${independence.spearman.toFixed(3)}); the Gamma-Gamma model assumes they are independent.`,
    });
  }
  const populationMeanSpend = params.q > 1 ? (params.p * params.gamma) / (params.q - 1) : null;
  if (populationMeanSpend === null) {
    warnings.push({ code: 'spend_mean_undefined', message: `q = ${params.q.toFixed(3)} ≤ 1: the population mean spend does not exist; expected order values are unreliable.` });
  }
  if (!result.convergence.converged) {
    warnings.push({ code: 'not_converged', message: `The optimiser did not converge: ${result.convergence.message}.` });
  }
  return {
    kind: 'gamma-gamma',
    params,
    logLikelihood: gammaGammaLogLikelihood(params, rows),
    penalty,
    customers: rows.length,
    convergence: result.convergence,
    independence,
    populationMeanSpend,
    warnings,
  };
}

/**
 * E[M | p, q, γ; x, m_x]: expected spend per future occasion (Fader & Hardie 2013, eq. 5)
 *   = (p(γ + x·m_x)) / (px + q − 1)
 * a weighted mean of the population mean pγ/(q−1) and the customer's own m_x. For x = 0 it is the population mean.
 * Needs q > 1 (px + q − 1 > 0 for x = 0); otherwise returns null.
 */
export function expectedOrderValue(model: GammaGammaModel, c: Spend): number | null {
  const { p, q, gamma } = model.params;
  const x = c.x > 0 && c.m_x > 0 ? c.x : 0;
  const denom = p * x + q - 1;
  if (!(denom > 0)) return null;
  return (p * (gamma + x * (x > 0 ? c.m_x : 0))) / denom;
}
