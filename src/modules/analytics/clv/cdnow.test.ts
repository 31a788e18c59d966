/**
 * Validation on the real CDNOW sample against Fader, Hardie & Lee (2005): summaries built from the raw log, the
 * BG/NBD and Gamma-Gamma fits to the published precision, and the 39-week holdout forecast.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedPurchases, fitBgNbd, probabilityAlive } from './bgnbd.js';
import { cumulativeTracking, holdoutCalibration, modelReport } from './calibration.js';
import { cdnowCumulativeTracking, cdnowReferenceSummaries, cdnowSampleTransactions } from './cdnow.fixture.js';
import { convertSummarySet, weeks, type SummarySet } from './clv.types.js';
import { fitGammaGamma } from './gamma-gamma.js';
import { summarize } from './summary.js';

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

const transactions = cdnowSampleTransactions();
const built: SummarySet = summarize(transactions, { calibrationEnd: '1997-09-30', holdoutEnd: '1998-06-30', unit: 'week' });
const reference = cdnowReferenceSummaries();

describe('CDNOW summaries from the raw transaction log', () => {
  test('same-day merge, days/7, as of 1997-09-30 inclusive: equal to BTYD cbs (x, t_x, T, x*, m_x)', () => {
    assert.equal(transactions.length, 6919);
    assert.equal(built.customers.length, 2357);
    const byId = new Map(built.customers.map((c) => [c.id, c]));
    for (const ref of reference) {
      const c = byId.get(ref.id);
      assert.ok(c, `customer ${ref.id} missing`);
      assert.equal(c.x, ref.x, `x of ${ref.id}`);
      assert.equal(c.x_star, ref.x_star, `x_star of ${ref.id}`);
      for (const k of ['t_x', 'T', 'm_x'] as const) {
        assert.ok(Math.abs(c[k] - ref[k]) <= 1e-9 * Math.max(1, Math.abs(ref[k])), `${k} of ${ref.id}: ${c[k]} vs ${ref[k]}`);
      }
    }
    // The README's totals: 946 repeaters, 2,457 repeat days in calibration, 1,882 in the holdout.
    assert.equal(built.customers.filter((c) => c.x > 0).length, 946);
    assert.equal(built.customers.reduce((s, c) => s + c.x, 0), 2457);
    assert.equal(built.customers.reduce((s, c) => s + (c.x_star ?? 0), 0), 1882);
  });
});

describe('BG/NBD on CDNOW (FHL 2005)', () => {
  const started = performance.now();
  const model = fitBgNbd(built);
  const elapsedMs = performance.now() - started;

  test('parameters and log-likelihood match the published r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4', (t) => {
    assert.equal(model.unit, 'week');
    assert.equal(round(model.params.r, 3), 0.243);
    assert.equal(round(model.params.alpha, 3), 4.414);
    assert.equal(round(model.params.a, 3), 0.793);
    assert.equal(round(model.params.b, 3), 2.426);
    assert.equal(round(model.logLikelihood, 1), -9582.4);
    assert.equal(model.convergence.converged, true);
    assert.ok(model.convergence.gradientNorm < 1e-2, `gradient norm ${model.convergence.gradientNorm}`);
    assert.equal(model.identification.identified, true);
    assert.deepEqual(model.warnings, []);
    assert.ok(elapsedMs < 2000, `fit took ${elapsedMs.toFixed(0)} ms`);
    t.diagnostic(`BG/NBD fit: ${elapsedMs.toFixed(0)} ms ${JSON.stringify(modelReport(model, null).bgnbd)}`);
  });

  test('a day-unit fit gives the same model: α × 7, same LL shift, same predictions', () => {
    const inDays = fitBgNbd(convertSummarySet(built, 'day'));
    assert.equal(inDays.unit, 'day');
    assert.ok(Math.abs(inDays.params.alpha / 7 - model.params.alpha) < 1e-3 * model.params.alpha);
    assert.ok(Math.abs(inDays.params.r - model.params.r) < 1e-4);
    const c = { x: 2, t_x: 30.43 * 7, T: 38.86 * 7 };
    const w = expectedPurchases(model, { x: 2, t_x: 30.43, T: 38.86 }, weeks(39));
    const d = expectedPurchases(inDays, c, weeks(39));
    assert.ok(Math.abs(w - d) < 1e-4, `${w} vs ${d}`);
  });

  test('FHL 2005 worked example: x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39 weeks', () => {
    const c = { x: 2, t_x: 30.43, T: 38.86 };
    assert.equal(round(expectedPurchases(model, c, weeks(39)), 3), 1.226);
    assert.ok(probabilityAlive(model, c) > 0 && probabilityAlive(model, c) < 1);
    // No repeat purchase: the BG/NBD says the customer cannot have dropped out yet.
    assert.equal(probabilityAlive(model, { x: 0, t_x: 0, T: 38.86 }), 1);
  });

  test('holdout: 39-week forecast against the 1,882 actual repeat purchases, by calibration frequency', (t) => {
    const cal = holdoutCalibration(model, built, weeks(39));
    t.diagnostic(`holdout calibration ${JSON.stringify(cal)}`);
    assert.equal(cal.actualTotal, 1882);
    // The published parameters forecast 1,653.4 of the 1,882 actual holdout purchases (−12.1 %): the BG/NBD
    // under-forecasts CDNOW's holdout, most in the x = 1 and x = 2 bins (see docs/analytics/clv.md). The total is
    // asserted to 0.5 % of that value, the bins to 0.35 purchases per customer where there are ≥ 20 customers.
    assert.ok(Math.abs(cal.predictedTotal - 1653.4) < 0.005 * 1653.4, `total predicted ${cal.predictedTotal}`);
    assert.ok(cal.relativeError > -0.15 && cal.relativeError < -0.09, `relative error ${cal.relativeError}`);
    assert.equal(cal.bins.reduce((s, b) => s + b.customers, 0), 2357);
    for (const b of cal.bins) {
      assert.ok(b.customers >= 20 && Math.abs(b.predictedMean - b.actualMean) < 0.4, `bin ${b.label}: ${b.predictedMean} vs ${b.actualMean}`);
    }
  });

  test('tracking: expected cumulative repeat purchases against BTYD cu.tracking within 5 % at weeks 39 and 78', (t) => {
    // Births in weeks since 1997-01-01: T is measured to 1997-09-30, 272 days after 1997-01-01. Week w of the
    // tracking file ends at day 7w.
    const births = built.customers.map((c) => 272 / 7 - c.T);
    const actual = cdnowCumulativeTracking();
    const [at39, at78] = cumulativeTracking(model, births, [39, 78]);
    t.diagnostic(`tracking: week 39 expected ${at39!.toFixed(1)} actual ${actual.get(39)}, week 78 expected ${at78!.toFixed(1)} actual ${actual.get(78)}`);
    assert.equal(actual.get(39), 2457);
    assert.equal(actual.get(78), 4339);
    assert.ok(Math.abs(at39! / 2457 - 1) < 0.05, `week 39: ${at39}`);
    assert.ok(Math.abs(at78! / 4339 - 1) < 0.05, `week 78: ${at78}`);
  });
});

describe('Gamma-Gamma on CDNOW repeat customers (FHL 2005, Fader & Hardie 2013)', () => {
  test('p = 6.25, q = 3.74, γ = 15.44 on the full-precision m_x', (t) => {
    const gg = fitGammaGamma(built);
    assert.equal(gg.customers, 946);
    assert.equal(round(gg.params.p, 2), 6.25);
    assert.equal(round(gg.params.q, 2), 3.74);
    assert.equal(round(gg.params.gamma, 2), 15.44);
    assert.equal(gg.convergence.converged, true);
    // CDNOW's spend is only weakly related to frequency: the independence assumption holds well enough.
    assert.ok(Math.abs(gg.independence.pearson) < 0.3);
    assert.deepEqual(gg.warnings, []);
    t.diagnostic(`Gamma-Gamma ${JSON.stringify(modelReport(fitBgNbd(built), gg).gammaGamma)}`);
  });

  test('m_x rounded to cents (lifetimes\' zbar file) moves γ to 15.448: why lifetimes prints 15.45', () => {
    const rounded = { ...built, customers: built.customers.map((c) => ({ ...c, m_x: Math.round(c.m_x * 100) / 100 })) };
    const gg = fitGammaGamma(rounded);
    assert.equal(round(gg.params.p, 2), 6.25);
    assert.equal(round(gg.params.q, 2), 3.74);
    assert.equal(round(gg.params.gamma, 2), 15.45);
  });
});
