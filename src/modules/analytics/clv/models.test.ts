/** BG/NBD penalty and identification, time units, Gamma-Gamma expectations and CLV, on CDNOW and simulated data. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DROPOUT_RULE, bgnbdLogLikelihood, expectedPurchases, expectedPurchasesNew, fitBgNbd, forecastCustomer, probabilityAlive } from './bgnbd.js';
import { cdnowReferenceSummaries } from './cdnow.fixture.js';
import { days, weeks, type CustomerSummary, type SummarySet } from './clv.types.js';
import { customerLifetimeValue, historicClv, predictMember, type ClvOptions } from './clv.js';
import { expectedOrderValue, fitGammaGamma } from './gamma-gamma.js';
import { lnBeta } from './special.js';
import { summarize } from './summary.js';
import { mulberry32 } from '../../../platform/seeded-random.js';

const cdnow: SummarySet = { unit: 'week', customers: cdnowReferenceSummaries() };
const bg = fitBgNbd(cdnow);
const gg = fitGammaGamma(cdnow);
const sumSqLog = (p: Record<string, number>): number => Object.values(p).reduce((s, v) => s + Math.log(v) ** 2, 0);


/** Gamma(shape, rate) by Marsaglia & Tsang (2000), with the U^(1/shape) boost for shape < 1. */
function gammaSample(u: () => number, shape: number, rate: number): number {
  if (shape < 1) return gammaSample(u, shape + 1, rate) * Math.pow(u(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      // Box-Muller normal
      x = Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (Math.log(w) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}

/** Customers who never drop out (p = 0, the limit of a BG/NBD with vanishing dropout): Poisson buyers, λ ~ Gamma(r, α). */
function simulateNoDropout(n: number, r: number, alpha: number, seed: number): SummarySet {
  const u = mulberry32(seed);
  const customers: CustomerSummary[] = [];
  for (let i = 0; i < n; i++) {
    const T = 26 + 13 * u(); // first purchases spread over a quarter, observed to week 39
    const lambda = gammaSample(u, r, alpha);
    let t = 0;
    let x = 0;
    let tx = 0;
    for (;;) {
      t += -Math.log(1 - u()) / lambda;
      if (t > T) break;
      x++;
      tx = t;
    }
    customers.push({ id: String(i), x, t_x: tx, T, m_x: x > 0 ? 20 + 10 * u() : 0 });
  }
  return { unit: 'week', customers };
}

describe('BG/NBD penalty and identification', () => {
  test('an L2 penalty on the log-parameters shrinks them towards 1 and costs likelihood', () => {
    const light = fitBgNbd(cdnow, { penalty: 1 });
    const heavy = fitBgNbd(cdnow, { penalty: 50 });
    assert.equal(light.penalty, 1);
    assert.ok(sumSqLog({ ...light.params }) < sumSqLog({ ...bg.params }));
    assert.ok(sumSqLog({ ...heavy.params }) < sumSqLog({ ...light.params }));
    assert.ok(heavy.logLikelihood < light.logLikelihood && light.logLikelihood < bg.logLikelihood);
  });

  test('data in which nobody drops out: a dropout_not_identified warning, no exception, usable predictions', () => {
    const set = simulateNoDropout(3000, 0.6, 3, 20261130);
    const model = fitBgNbd(set);
    assert.equal(model.identification.identified, false, JSON.stringify(model.identification));
    assert.ok(model.warnings.some((w) => w.code === 'dropout_not_identified'), JSON.stringify(model.warnings));
    assert.ok(model.identification.meanDropoutProbability < DROPOUT_RULE.minMeanDropout * 10);
    // The purchase process is still estimated: r and α near the truth (0.6, 3).
    assert.ok(Math.abs(model.params.r - 0.6) < 0.1, `r = ${model.params.r}`);
    assert.ok(Math.abs(model.params.alpha / 3 - 1) < 0.25, `α = ${model.params.alpha}`);
    const c = set.customers.find((k) => k.x >= 3)!;
    const f = forecastCustomer(model, c);
    assert.ok(f.pAlive > 0.99 && f.pAlive <= 1, `P(alive) ${f.pAlive}`);
    for (const v of [f.next30Days, f.next90Days, f.next365Days]) assert.ok(Number.isFinite(v) && v > 0);
    assert.ok(f.next30Days < f.next90Days && f.next90Days < f.next365Days);
  });

  test('nobody ever repeats: the likelihood does not depend on a and b at all — warned, finite, no exception', () => {
    const set: SummarySet = { unit: 'week', customers: Array.from({ length: 200 }, (_, i) => ({ id: String(i), x: 0, t_x: 0, T: 20 + (i % 20), m_x: 0 })) };
    const model = fitBgNbd(set);
    assert.equal(model.identification.identified, false);
    assert.ok(model.identification.reasons.some((r) => r.includes('flat')), JSON.stringify(model.identification));
    assert.ok(model.warnings.some((w) => w.code === 'dropout_not_identified'));
    const e = expectedPurchases(model, { x: 0, t_x: 0, T: 30 }, days(90));
    assert.ok(Number.isFinite(e) && e >= 0, `E = ${e}`);
  });

  test('a = 1 (0/0 in eq. 10) gives the limit, continuous with its neighbours', () => {
    const at = (a: number): number => expectedPurchases({ ...bg, params: { ...bg.params, a } }, { x: 2, t_x: 30, T: 38 }, weeks(39));
    const one = at(1);
    assert.ok(Number.isFinite(one));
    assert.ok(Math.abs(one - (at(1 - 1e-3) + at(1 + 1e-3)) / 2) < 1e-5, `${one} vs ${at(1 - 1e-3)}, ${at(1 + 1e-3)}`);
    assert.ok(Math.abs(expectedPurchasesNew({ ...bg, params: { ...bg.params, a: 1 } }, weeks(39)) - expectedPurchasesNew({ ...bg, params: { ...bg.params, a: 1.001 } }, weeks(39))) < 1e-3);
  });

  test('CDNOW is identified, and the rule names its numbers', () => {
    assert.equal(bg.identification.identified, true);
    assert.ok(bg.identification.minCurvatureAB > DROPOUT_RULE.minCurvature);
  });
});

/**
 * E[X(t)] by direct integration, independent of 2F1: given λ and p, E[X(t)] = (1 − e^(−λpt)) / p; over
 * λ ~ Gamma(r, α) that is (1 − (α/(α+pt))^r) / p, then integrated over p ~ Beta(a, b) numerically (substituting
 * p = u^(1/a) near 0 and 1 − p = w^(1/b) near 1 so that the Beta density's endpoint singularities disappear).
 * With α replaced by α + T it is also E[Y(t) | x = 0, T].
 */
function integratedExpectation(r: number, alpha: number, a: number, b: number, t: number): number {
  const g = (p: number): number => -Math.expm1(r * Math.log(alpha / (alpha + p * t))) / p;
  const n = 20000;
  let lower = 0;
  let upper = 0;
  const uMax = Math.pow(0.5, a);
  const wMax = Math.pow(0.5, b);
  for (let i = 0; i < n; i++) {
    const u = ((i + 0.5) / n) * uMax; // p = u^(1/a): p^(a−1) dp = du / a
    const p = Math.pow(u, 1 / a);
    lower += (g(p) * Math.pow(1 - p, b - 1) * uMax) / n / a;
    const w = ((i + 0.5) / n) * wMax; // 1 − p = w^(1/b): (1−p)^(b−1) dp = dw / b
    const q = 1 - Math.pow(w, 1 / b);
    upper += (g(q) * Math.pow(q, a - 1) * wMax) / n / b;
  }
  return (lower + upper) / Math.exp(lnBeta(a, b));
}

describe('BG/NBD expectations against direct integration (no 2F1)', () => {
  const cases: Array<[string, { r: number; alpha: number; a: number; b: number }]> = [
    ['CDNOW', bg.params],
    ['a + b < 1 (2F1 with c < 0)', { r: 0.5, alpha: 5, a: 0.3, b: 0.4 }],
    ['a + b = 1 (c = 0, a pole taken as a limit)', { r: 0.5, alpha: 5, a: 0.4, b: 0.6 }],
    ['a = 1 (0/0 taken as a limit)', { r: 2, alpha: 10, a: 1, b: 3 }],
  ];
  for (const [name, params] of cases) {
    test(name, () => {
      const model = { ...bg, params };
      for (const t of [1, 39, 200]) {
        const direct = integratedExpectation(params.r, params.alpha, params.a, params.b, t);
        const formula = expectedPurchasesNew(model, weeks(t));
        assert.ok(Math.abs(formula - direct) < 1e-5 * Math.max(1, direct), `E[X(${t})]: ${formula} vs ${direct}`);
        const conditional = expectedPurchases(model, { x: 0, t_x: 0, T: 30 }, weeks(t));
        const directConditional = integratedExpectation(params.r, params.alpha + 30, params.a, params.b, t);
        assert.ok(Math.abs(conditional - directConditional) < 1e-5 * Math.max(1, directConditional), `E[Y(${t}) | x=0]: ${conditional} vs ${directConditional}`);
      }
    });
  }
});

describe('time units', () => {
  const c = { x: 4, t_x: 30, T: 38 };

  test('asking in days a week-fitted model gives the same numbers as converting to weeks first', () => {
    for (const d of [30, 90, 365]) {
      assert.equal(expectedPurchases(bg, c, days(d)), expectedPurchases(bg, c, weeks(d / 7)));
    }
    const f = forecastCustomer(bg, c);
    assert.equal(f.next365Days, expectedPurchases(bg, c, weeks(365 / 7)));
    // The mix-up the explicit unit prevents: reading "30" as weeks instead of days is several times too many purchases.
    assert.ok(expectedPurchases(bg, c, weeks(30)) > 4 * f.next30Days);
  });

  test('a model fitted in days predicts the same as one fitted in weeks', () => {
    const inDays: SummarySet = { unit: 'day', customers: cdnow.customers.map((k) => ({ ...k, t_x: k.t_x * 7, T: k.T * 7 })) };
    const dayModel = fitBgNbd(inDays);
    const cDays = { x: 4, t_x: 30 * 7, T: 38 * 7 };
    assert.ok(Math.abs(expectedPurchases(dayModel, cDays, days(90)) - expectedPurchases(bg, c, days(90))) < 1e-4);
    assert.ok(Math.abs(probabilityAlive(dayModel, cDays) - probabilityAlive(bg, c)) < 1e-4);
  });

  test('with an L2 penalty too: α is penalised per week whatever the unit, so day and week fits predict the same', () => {
    const inDays: SummarySet = { unit: 'day', customers: cdnow.customers.map((k) => ({ ...k, t_x: k.t_x * 7, T: k.T * 7 })) };
    const weekModel = fitBgNbd(cdnow, { penalty: 5 });
    const dayModel = fitBgNbd(inDays, { penalty: 5 });
    const cDays = { x: 4, t_x: 30 * 7, T: 38 * 7 };
    assert.ok(Math.abs(dayModel.params.alpha / 7 - weekModel.params.alpha) < 1e-3 * weekModel.params.alpha, `${dayModel.params.alpha} / 7 vs ${weekModel.params.alpha}`);
    for (const d of [30, 90, 365]) {
      const w = expectedPurchases(weekModel, c, days(d));
      assert.ok(Math.abs(expectedPurchases(dayModel, cDays, days(d)) - w) < 1e-4 * Math.max(1, w), `${d} days`);
    }
    assert.ok(Math.abs(probabilityAlive(dayModel, cDays) - probabilityAlive(weekModel, c)) < 1e-4);
    // The penalty does act: it moves the week fit's α away from the plain MLE's.
    assert.ok(Math.abs(weekModel.params.alpha - bg.params.alpha) > 0.01);
  });
});

describe('Gamma-Gamma expectations', () => {
  test('expected order value lies between the population mean and the customer\'s own mean, closer to it with more purchases', () => {
    const pop = gg.populationMeanSpend!;
    assert.ok(Math.abs(expectedOrderValue(gg, { x: 0, m_x: 0 })! - pop) < 1e-9);
    const one = expectedOrderValue(gg, { x: 1, m_x: 100 })!;
    const ten = expectedOrderValue(gg, { x: 10, m_x: 100 })!;
    assert.ok(pop < one && one < ten && ten < 100, `${pop} ${one} ${ten}`);
    // FHL 2005 / Fader & Hardie 2013 formula, by hand.
    const { p, q, gamma } = gg.params;
    assert.ok(Math.abs(one - (p * (gamma + 100)) / (p + q - 1)) < 1e-9);
  });
});

describe('Gamma-Gamma fit checks', () => {
  test('spend that rises with frequency raises spend_frequency_dependent; the fit still returns', () => {
    const u = mulberry32(7);
    const customers: CustomerSummary[] = Array.from({ length: 400 }, (_, i) => {
      const x = 1 + (i % 10);
      return { id: String(i), x, t_x: 10, T: 30, m_x: 8 * x * (0.8 + 0.4 * u()) };
    });
    const model = fitGammaGamma({ unit: 'week', customers });
    assert.ok(model.independence.pearson > 0.8, JSON.stringify(model.independence));
    assert.ok(model.warnings.some((w) => w.code === 'spend_frequency_dependent'));
    assert.ok(Number.isFinite(model.params.p) && Number.isFinite(model.logLikelihood));
  });

  test('an L2 penalty shrinks the log-parameters; q ≤ 1 gives no expected order value and no CLV', () => {
    const penalised = fitGammaGamma(cdnow, { penalty: 5 });
    assert.ok(sumSqLog({ ...penalised.params }) < sumSqLog({ ...gg.params }));
    const heavyTail = { ...gg, params: { ...gg.params, q: 0.9 } };
    assert.equal(expectedOrderValue(heavyTail, { x: 0, m_x: 0 }), null);
    assert.equal(customerLifetimeValue(bg, heavyTail, { x: 0, t_x: 0, T: 30, m_x: 0 }, { horizon: days(365), period: days(30), margin: 0.3, annualDiscountRate: 0.1 }), null);
  });

  test('customers first seen on the last calibration day (T = 0) add nothing to the BG/NBD likelihood', () => {
    const withNewcomers: SummarySet = { unit: 'week', customers: [...cdnow.customers, { id: 'new', x: 0, t_x: 0, T: 0, m_x: 0 }] };
    assert.ok(Math.abs(bgnbdLogLikelihood(bg.params, withNewcomers) - bg.logLikelihood) < 1e-9);
  });
});

describe('CLV', () => {
  const c = { x: 3, t_x: 30, T: 38, m_x: 40 };
  const base: ClvOptions = { horizon: days(365), period: days(365 / 12), margin: 0.3, annualDiscountRate: 0 };

  test('without discounting, CLV = E[M] · margin · E[Y(H)] however the horizon is split', () => {
    const r = customerLifetimeValue(bg, gg, c, base)!;
    const eov = expectedOrderValue(gg, c)!;
    const ey = expectedPurchases(bg, c, days(365));
    assert.equal(r.periods, 12);
    assert.ok(Math.abs(r.clv - eov * 0.3 * ey) < 1e-9);
    const weekly = customerLifetimeValue(bg, gg, c, { ...base, period: weeks(1) })!;
    assert.ok(Math.abs(weekly.clv - r.clv) < 1e-9);
  });

  test('discounting: each period\'s purchases discounted at (1 + d)^(t/365 days), by hand for two periods', () => {
    const opts: ClvOptions = { horizon: weeks(52), period: weeks(26), margin: 0.25, annualDiscountRate: 0.1 };
    const r = customerLifetimeValue(bg, gg, c, opts)!;
    const eov = expectedOrderValue(gg, c)!;
    const y1 = expectedPurchases(bg, c, weeks(26));
    const y2 = expectedPurchases(bg, c, weeks(52));
    const manual = eov * 0.25 * (y1 / 1.1 ** (182 / 365) + (y2 - y1) / 1.1 ** (364 / 365));
    assert.ok(Math.abs(r.clv - manual) < 1e-9, `${r.clv} vs ${manual}`);
    // The same horizon and period stated in days give the same CLV.
    const inDays = customerLifetimeValue(bg, gg, c, { ...opts, horizon: days(364), period: days(182) })!;
    assert.ok(Math.abs(inDays.clv - r.clv) < 1e-9);
    const undiscounted = customerLifetimeValue(bg, gg, c, { ...opts, annualDiscountRate: 0 })!;
    assert.ok(r.clv < undiscounted.clv);
  });

  test('a last period shorter than the others is counted to the horizon only', () => {
    const r = customerLifetimeValue(bg, gg, c, { ...base, horizon: days(100), period: days(30) })!;
    assert.equal(r.periods, 4);
    assert.ok(Math.abs(r.expectedPurchases - expectedPurchases(bg, c, days(100))) < 1e-12);
  });

  test('per-member prediction bundles P(alive), 30/90/365-day purchases, order value and CLV; bad options are refused', () => {
    const m = predictMember(bg, gg, c, { ...base, annualDiscountRate: 0.1 });
    assert.ok(m.pAlive > 0 && m.pAlive <= 1);
    assert.ok(m.expectedPurchases30Days < m.expectedPurchases90Days && m.expectedPurchases90Days < m.expectedPurchases365Days);
    assert.ok(m.clv! > 0 && m.expectedOrderValue! > 0);
    assert.throws(() => customerLifetimeValue(bg, gg, c, { ...base, margin: 30 }), RangeError);
    assert.throws(() => customerLifetimeValue(bg, gg, c, { ...base, period: days(0) }), RangeError);
  });

  test('historic CLV is the margin brought so far', () => {
    assert.equal(historicClv([{ amount: 100 }, { amount: 50, margin: 0.5 }], 0.2), 100 * 0.2 + 25);
    assert.equal(historicClv([], 0.3), 0);
  });
});

describe('summaries from a transaction log', () => {
  test('same-day purchases merge, x counts repeat days, day unit, holdout, late first purchases left out', () => {
    const set = summarize(
      [
        { customerId: 'a', date: '2025-01-01', amount: 10 },
        { customerId: 'a', date: '2025-01-01', amount: 5 }, // same day: one occasion of 15 (the first, not a repeat)
        { customerId: 'a', date: '2025-01-11', amount: 20 },
        { customerId: 'a', date: '2025-01-11', amount: 4 }, // same day: the repeat occasion is 24
        { customerId: 'a', date: '2025-01-21', amount: 30 },
        { customerId: 'a', date: '2025-02-05', amount: 99 }, // holdout
        { customerId: 'a', date: '2025-03-05', amount: 99 }, // after the holdout
        { customerId: 'b', date: '2025-01-31', amount: 7 }, // first purchase on the last calibration day: T = 0
        { customerId: 'c', date: '2025-02-02', amount: 7 }, // first purchase after calibration: left out
      ],
      { calibrationEnd: '2025-01-31', holdoutEnd: '2025-02-28', unit: 'day' },
    );
    assert.equal(set.unit, 'day');
    assert.deepEqual(set.customers, [
      { id: 'a', x: 2, t_x: 20, T: 30, m_x: 27, x_star: 1 },
      { id: 'b', x: 0, t_x: 0, T: 0, m_x: 0, x_star: 0 },
    ]);
    const inWeeks = summarize([{ customerId: 'a', date: '2025-01-01', amount: 1 }, { customerId: 'a', date: '2025-01-08', amount: 1 }], { calibrationEnd: '2025-01-15', unit: 'week' });
    assert.deepEqual(inWeeks.customers, [{ id: 'a', x: 1, t_x: 1, T: 2, m_x: 1 }]);
    assert.throws(() => summarize([{ customerId: 'a', date: '2025-02-30', amount: 1 }], { calibrationEnd: '2025-03-01', unit: 'day' }), RangeError);
  });
});
