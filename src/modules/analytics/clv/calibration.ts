/**
 * Calibration of a fitted BG/NBD against a holdout period, and the model report that carries it: per calibration
 * frequency bin (x = 0, 1, …, 7+), the actual holdout purchases beside the model's conditional expectation over
 * the same length — the chart of FHL 2005, Figure 4, as data.
 */
import { expectedPurchases, expectedPurchasesNew, type BgNbdModel } from './bgnbd.js';
import type { GammaGammaModel } from './gamma-gamma.js';
import type { Duration, SummarySet } from './clv.types.js';

export interface CalibrationBin {
  /** Lowest x in the bin; the last bin holds every x ≥ its value (label "7+"). */
  x: number;
  label: string;
  customers: number;
  actualTotal: number;
  predictedTotal: number;
  /** Per customer, the figures FHL 2005 plot. */
  actualMean: number;
  predictedMean: number;
}

export interface HoldoutCalibration {
  holdout: Duration;
  bins: CalibrationBin[];
  actualTotal: number;
  predictedTotal: number;
  /** (predicted − actual) / actual. */
  relativeError: number;
}

/** Needs x_star on every customer of the set (the holdout purchase occasions). */
export function holdoutCalibration(model: BgNbdModel, set: SummarySet, holdout: Duration, lastBin = 7): HoldoutCalibration {
  if (set.unit !== model.unit) throw new RangeError(`summary set is in ${set.unit}s but the model in ${model.unit}s`);
  const bins: CalibrationBin[] = Array.from({ length: lastBin + 1 }, (_, x) => ({
    x,
    label: x === lastBin ? `${x}+` : String(x),
    customers: 0,
    actualTotal: 0,
    predictedTotal: 0,
    actualMean: 0,
    predictedMean: 0,
  }));
  for (const c of set.customers) {
    if (c.x_star === undefined) throw new RangeError(`customer ${c.id} has no holdout count (x_star)`);
    const bin = bins[Math.min(c.x, lastBin)]!;
    bin.customers++;
    bin.actualTotal += c.x_star;
    bin.predictedTotal += expectedPurchases(model, c, holdout);
  }
  for (const b of bins) {
    b.actualMean = b.customers === 0 ? 0 : b.actualTotal / b.customers;
    b.predictedMean = b.customers === 0 ? 0 : b.predictedTotal / b.customers;
  }
  const actualTotal = bins.reduce((s, b) => s + b.actualTotal, 0);
  const predictedTotal = bins.reduce((s, b) => s + b.predictedTotal, 0);
  return { holdout, bins, actualTotal, predictedTotal, relativeError: (predictedTotal - actualTotal) / actualTotal };
}

/**
 * Expected cumulative repeat purchases of a cohort over calendar time (FHL 2005, Figure 2 "tracking" plot):
 * at each time τ, Σ_i E[X(τ − birth_i)] over customers born (first purchase) at birth_i ≤ τ. Times and births are
 * in model.unit from a common origin (e.g. weeks since the cohort's first day).
 */
export function cumulativeTracking(model: BgNbdModel, births: number[], times: number[]): number[] {
  return times.map((tau) =>
    births.reduce((s, b) => (tau > b ? s + expectedPurchasesNew(model, { value: tau - b, unit: model.unit }) : s), 0),
  );
}

/** The model report: parameters, log-likelihood, convergence, warnings, and the holdout calibration when given. */
export interface ClvModelReport {
  bgnbd: Pick<BgNbdModel, 'unit' | 'params' | 'logLikelihood' | 'penalty' | 'customers' | 'convergence' | 'identification' | 'warnings'>;
  gammaGamma: Pick<GammaGammaModel, 'params' | 'logLikelihood' | 'penalty' | 'customers' | 'convergence' | 'independence' | 'populationMeanSpend' | 'warnings'> | null;
  calibration: HoldoutCalibration | null;
}

export function modelReport(bg: BgNbdModel, gg: GammaGammaModel | null, calibration: HoldoutCalibration | null = null): ClvModelReport {
  const { unit, params, logLikelihood, penalty, customers, convergence, identification, warnings } = bg;
  return {
    bgnbd: { unit, params, logLikelihood, penalty, customers, convergence, identification, warnings },
    gammaGamma: gg
      ? {
          params: gg.params,
          logLikelihood: gg.logLikelihood,
          penalty: gg.penalty,
          customers: gg.customers,
          convergence: gg.convergence,
          independence: gg.independence,
          populationMeanSpend: gg.populationMeanSpend,
          warnings: gg.warnings,
        }
      : null,
    calibration,
  };
}
