/**
 * Customer lifetime value from the fitted models.
 *
 * Predictive CLV over a horizon H split into periods of length P (both explicit durations):
 *
 *   CLV = Σ_{i=1..n} E[M] · margin · (E[Y(t_i)] − E[Y(t_{i−1})]) / (1 + d)^(t_i / 365 days)
 *
 * with t_i = min(i·P, H) (the last period may be shorter), n = ⌈H / P⌉, E[Y(t)] the BG/NBD conditional expected
 * purchases in the next t (converted into the model's unit), E[M] the Gamma-Gamma expected order value, margin a
 * fraction of revenue and d the ANNUAL discount rate. Each period's purchases are discounted from the end of the
 * period, so the per-period rate is d_P = (1 + d)^(P / 365 days) − 1; with P = 1 month this is domain.md §3's
 * formula with its monthly rate d_month = (1 + d)^(1/12) − 1 for P = 365/12 days.
 * Money is in major currency units.
 */
import { expectedPurchases, probabilityAlive, type BgNbdModel } from './bgnbd.js';
import { expectedOrderValue, type GammaGammaModel } from './gamma-gamma.js';
import { toUnit, type CustomerSummary, type Duration } from './clv.types.js';

export interface ClvOptions {
  horizon: Duration;
  /** Length of one discounting period (e.g. { value: 365 / 12, unit: 'day' } for months). */
  period: Duration;
  /** Gross margin as a fraction of revenue, 0..1. */
  margin: number;
  /** Annual discount rate, e.g. 0.1 for 10 % a year. */
  annualDiscountRate: number;
}

export interface ClvResult {
  clv: number;
  expectedPurchases: number;
  expectedOrderValue: number;
  periods: number;
}

type Calibration = Pick<CustomerSummary, 'x' | 't_x' | 'T' | 'm_x'>;

function check(options: ClvOptions): void {
  if (!(options.horizon.value >= 0)) throw new RangeError('horizon must be ≥ 0');
  if (!(options.period.value > 0)) throw new RangeError('period must be > 0');
  if (!(options.margin >= 0 && options.margin <= 1)) throw new RangeError('margin must be a fraction between 0 and 1');
  if (!(options.annualDiscountRate > -1)) throw new RangeError('annualDiscountRate must be > −1');
}

/** Predictive CLV of one customer (formula above). Returns null when the Gamma-Gamma has no finite mean (q ≤ 1). */
export function customerLifetimeValue(bg: BgNbdModel, gg: GammaGammaModel, c: Calibration, options: ClvOptions): ClvResult | null {
  check(options);
  const eov = expectedOrderValue(gg, c);
  if (eov === null) return null;
  const H = toUnit(options.horizon, 'day');
  const P = toUnit(options.period, 'day');
  const n = Math.ceil(H / P - 1e-9);
  let clv = 0;
  let before = 0;
  for (let i = 1; i <= n; i++) {
    const t = Math.min(i * P, H);
    const cumulative = expectedPurchases(bg, c, { value: t, unit: 'day' });
    clv += (eov * options.margin * (cumulative - before)) / Math.pow(1 + options.annualDiscountRate, t / 365);
    before = cumulative;
  }
  return { clv, expectedPurchases: before, expectedOrderValue: eov, periods: n };
}

/** Historic CLV: the margin a customer has brought so far — Σ amount × margin (an order's own margin if it has one). */
export function historicClv(orders: ReadonlyArray<{ amount: number; margin?: number }>, margin: number): number {
  return orders.reduce((s, o) => s + o.amount * (o.margin ?? margin), 0);
}

/** Everything Patron shows per member: P(alive), purchases at 30/90/365 days, expected order value, CLV. */
export interface MemberPrediction {
  pAlive: number;
  expectedPurchases30Days: number;
  expectedPurchases90Days: number;
  expectedPurchases365Days: number;
  expectedOrderValue: number | null;
  clv: number | null;
}

export function predictMember(bg: BgNbdModel, gg: GammaGammaModel, c: Calibration, options: ClvOptions): MemberPrediction {
  const result = customerLifetimeValue(bg, gg, c, options);
  return {
    pAlive: probabilityAlive(bg, c),
    expectedPurchases30Days: expectedPurchases(bg, c, { value: 30, unit: 'day' }),
    expectedPurchases90Days: expectedPurchases(bg, c, { value: 90, unit: 'day' }),
    expectedPurchases365Days: expectedPurchases(bg, c, { value: 365, unit: 'day' }),
    expectedOrderValue: expectedOrderValue(gg, c),
    clv: result?.clv ?? null,
  };
}
