/**
 * The arithmetic of program economics, pure: the redemption curve by lot age (a life table pooled over lots), the
 * projection of outstanding points along it, breakage, the liability, and a campaign's lift, cost and ROI. The SQL
 * that gathers the inputs is in economics.store.ts; economics.stage.ts puts the two together. docs/analytics/economics.md
 * explains the method.
 */
import type { Backtest, CampaignEconomics, CurveMonth, Effect, GroupFigures, Liability } from './economics.schema.js';
import { welchTest, type SampleSummary } from './stats.js';

/** A month of lot age: 365.25 / 12 days, so that ages are a plain division of elapsed time. */
export const MONTH_DAYS = 30.4375;
export const MONTH_MS = MONTH_DAYS * 86_400_000;

/** From this age on (at most) the curve's probabilities are pooled and held constant. */
export const MAX_TAIL_FROM_MONTH = 24;

export const rate = (numerator: number, denominator: number): number | null => (denominator > 0 ? numerator / denominator : null);

// ── The redemption curve ─────────────────────────────────────────────────────

/** What left the lots at one age (months since earning, whole months of MONTH_DAYS). */
export interface AgeFlows {
  month: number;
  redeemed: number;
  /** Taken back: claw-backs of returns, reversals of voids, negative adjustments, debt repayment. */
  withdrawn: number;
  /** Expired before any expiry date of their own (the inactivity policy). */
  expired: number;
}

/**
 * The lots whose observation ended at one age: at as_of, or at their expiry date. `points` is what they still held
 * then (outstanding, or about to expire on their date); `unobserved` is Σ points × (1 − the fraction of that month
 * observed), the exposure they did not have.
 */
export interface AgeCensored {
  month: number;
  points: number;
  unobserved: number;
}

/** Everything the curve is estimated from, pooled over every lot earned before the as-of instant. */
export interface LotHistory {
  /** Σ amount of the lots: all of it was outstanding at age 0. */
  issued_gross: number;
  flows: AgeFlows[];
  censored: AgeCensored[];
}

/** Probabilities that a point outstanding at the start of an age month leaves during it, by cause. */
export interface Hazard {
  redeem: number;
  withdraw: number;
  expire: number;
}

export interface RedemptionCurve {
  tail_from_month: number;
  months: CurveMonth[];
  /** The pooled probabilities from tail_from_month on (also past the oldest age observed). */
  tail: Hazard;
}

const ZERO: Hazard = { redeem: 0, withdraw: 0, expire: 0 };

/**
 * The actuarial life table of outstanding points by lot age. n₀ is every point issued; in month k a point either is
 * redeemed, withdrawn, expires by inactivity, has its observation end (censored: as_of reached, or its lot's expiry
 * date), or reaches month k + 1: n_{k+1} = n_k − redeemed − withdrawn − expired − censored. The probability of each
 * cause in month k is its points over the exposure n_k − unobserved_k: censored points count only for the part of
 * the month they were observed (the actuarial adjustment, with the exact observed fraction rather than one half).
 *
 * Old ages have few lots, so from `tail_from_month` = min(24, oldest age observed − 2) on the months are pooled
 * (Σ events / Σ exposure) and the probabilities held constant: the projection beyond the data continues the
 * behaviour of its oldest points.
 */
export function buildCurve(history: LotHistory, maxTailFrom = MAX_TAIL_FROM_MONTH): RedemptionCurve {
  const last = Math.max(-1, ...history.flows.map((f) => f.month), ...history.censored.map((c) => c.month));
  const flows = new Map(history.flows.map((f) => [f.month, f]));
  const censored = new Map(history.censored.map((c) => [c.month, c]));
  const rows: Array<Omit<CurveMonth, 'p_redeem' | 'p_withdraw' | 'p_expire' | 'pooled'>> = [];
  let atStart = history.issued_gross;
  for (let k = 0; k <= last; k++) {
    const f = flows.get(k) ?? { month: k, redeemed: 0, withdrawn: 0, expired: 0 };
    const c = censored.get(k) ?? { month: k, points: 0, unobserved: 0 };
    rows.push({ month: k, at_start: atStart, exposure: Math.max(0, atStart - c.unobserved), redeemed: f.redeemed, withdrawn: f.withdrawn, expired: f.expired, censored: c.points });
    // Restored redemptions (negative allocations) can make a month's flows slightly inconsistent: never below zero.
    atStart = Math.max(0, atStart - f.redeemed - f.withdrawn - f.expired - c.points);
  }
  const tailFrom = Math.min(maxTailFrom, Math.max(0, last - 2));
  const pooled = rows.filter((r) => r.month >= tailFrom);
  const tail = hazardOf(pooled.reduce((s, r) => ({ exposure: s.exposure + r.exposure, redeemed: s.redeemed + r.redeemed, withdrawn: s.withdrawn + r.withdrawn, expired: s.expired + r.expired }), { exposure: 0, redeemed: 0, withdrawn: 0, expired: 0 }));
  const months = rows.map((r): CurveMonth => {
    const h = r.month >= tailFrom ? tail : hazardOf(r);
    return { ...r, p_redeem: h.redeem, p_withdraw: h.withdraw, p_expire: h.expire, pooled: r.month >= tailFrom };
  });
  return { tail_from_month: tailFrom, months, tail };
}

function hazardOf(r: { exposure: number; redeemed: number; withdrawn: number; expired: number }): Hazard {
  if (!(r.exposure > 0)) return ZERO;
  const p = (x: number) => Math.min(1, Math.max(0, x / r.exposure));
  const h = { redeem: p(r.redeemed), withdraw: p(r.withdrawn), expire: p(r.expired) };
  const total = h.redeem + h.withdraw + h.expire;
  // The causes share one exposure, so their sum is at most 1 unless the data is inconsistent; scale it back if so.
  return total > 1 ? { redeem: h.redeem / total, withdraw: h.withdraw / total, expire: h.expire / total } : h;
}

export function hazardAt(curve: RedemptionCurve, month: number): Hazard {
  if (month >= curve.tail_from_month) return curve.tail;
  const m = curve.months[month];
  return m ? { redeem: m.p_redeem, withdraw: m.p_withdraw, expire: m.p_expire } : curve.tail;
}

// ── Projection ───────────────────────────────────────────────────────────────

/** Shares of one point outstanding now, by what becomes of it before the stop age. */
export interface UnitProjection {
  redeemed: number;
  withdrawn: number;
  /** Expired by inactivity (lots without an expiry date). */
  expired: number;
  /** Still outstanding at the stop: expiring on its date when the stop is the expiry, else outstanding at the horizon. */
  remaining: number;
}

/**
 * Follows one point, outstanding at lot age `age` (months), along the curve until `stop` (its expiry age, or the
 * horizon; Infinity for never). Within a month the exits are spread evenly (the actuarial assumption), so of a point
 * still there at fraction u of month k, the share leaving by cause c before fraction v is (v − u)·p_c / (1 − u·P),
 * P = Σ p_c. From the tail on, whole months are summed as a geometric series, so a lot that never expires costs no
 * more than one that does.
 */
export function projectUnit(curve: RedemptionCurve, age: number, stop: number): UnitProjection {
  let survive = 1;
  let redeemed = 0;
  let withdrawn = 0;
  let expired = 0;
  let a = Math.max(0, age);
  while (a < stop && survive > 0) {
    const k = Math.floor(a);
    const h = hazardAt(curve, k);
    const all = h.redeem + h.withdraw + h.expire;
    const u = a - k;
    if (u === 0 && k >= curve.tail_from_month && stop - k >= 1) {
      const n = Math.floor(stop - k); // whole months, possibly Infinity
      const kept = all === 0 ? 1 : all >= 1 ? 0 : Math.pow(1 - all, n);
      if (all > 0) {
        const gone = survive * (1 - kept);
        redeemed += (gone * h.redeem) / all;
        withdrawn += (gone * h.withdraw) / all;
        expired += (gone * h.expire) / all;
      }
      survive *= kept;
      if (!Number.isFinite(n)) break;
      a = k + n;
      continue;
    }
    const v = Math.min(1, stop - k);
    const denom = 1 - u * all;
    if (!(denom > 0)) {
      survive = 0;
      break;
    }
    const share = (survive * (v - u)) / denom;
    redeemed += share * h.redeem;
    withdrawn += share * h.withdraw;
    expired += share * h.expire;
    survive *= (1 - v * all) / denom;
    a = k + v;
  }
  return { redeemed, withdrawn, expired, remaining: Math.max(0, survive) };
}

/** Outstanding points of lots alike: their mean age and expiry age (months since earning), and the expiry month. */
export interface OutstandingGroup {
  points: number;
  age: number;
  /** null: the lots never expire by date. */
  expiry_age: number | null;
  /** YYYY-MM in the tenant's time zone, or null (never). */
  expiry_month: string | null;
}

export interface GroupProjection extends OutstandingGroup {
  expected_redemptions: number;
  expected_withdrawals: number;
}

/** Projects every group `horizonMonths` ahead (Infinity: for good). */
export function projectOutstanding(curve: RedemptionCurve, groups: readonly OutstandingGroup[], horizonMonths = Infinity): GroupProjection[] {
  return groups.map((g) => {
    const stop = Math.min(g.expiry_age ?? Infinity, g.age + horizonMonths);
    const p = projectUnit(curve, g.age, stop);
    return { ...g, expected_redemptions: g.points * p.redeemed, expected_withdrawals: g.points * p.withdrawn };
  });
}

const sum = <T>(xs: readonly T[], f: (x: T) => number): number => xs.reduce((s, x) => s + f(x), 0);

/** What the breakage figures need about the points as of an instant. */
export interface PointsState {
  issued_gross: number;
  withdrawn: number;
  redeemed: number;
}

/**
 * Projected breakage: 1 − (redeemed + expected future redemptions) / (issued − expected future take-backs), issued
 * being net of what returns and voids took back (those points were never really given), and the share of the
 * outstanding points not expected to be redeemed.
 */
export function projectedBreakage(state: PointsState, projection: readonly GroupProjection[]) {
  const expectedRedemptions = sum(projection, (g) => g.expected_redemptions);
  const expectedWithdrawals = sum(projection, (g) => g.expected_withdrawals);
  const outstanding = sum(projection, (g) => g.points);
  const issued = state.issued_gross - state.withdrawn;
  const base = issued - expectedWithdrawals;
  return {
    expected_redemptions: expectedRedemptions,
    expected_withdrawals: expectedWithdrawals,
    rate: base > 0 ? 1 - (state.redeemed + expectedRedemptions) / base : null,
    outstanding_rate: outstanding > 0 ? 1 - expectedRedemptions / outstanding : null,
  };
}

// ── Liability ────────────────────────────────────────────────────────────────

/**
 * Points liability: outstanding points × cost per point × (1 − expected breakage of those points), which is the
 * cost of the points expected to be redeemed; in total and per expiry month (earliest first, "never" last).
 */
export function liability(projection: readonly GroupProjection[], cost: { points: number; amount: number }, currency: string): Liability {
  const perPoint = cost.amount / cost.points;
  const row = (gs: readonly GroupProjection[]) => {
    const outstanding = sum(gs, (g) => g.points);
    const expected = sum(gs, (g) => g.expected_redemptions);
    return {
      outstanding_points: Math.round(outstanding),
      expected_redemptions: expected,
      expected_breakage: outstanding > 0 ? 1 - expected / outstanding : null,
      amount: Math.round(expected * perPoint),
    };
  };
  const byMonth = new Map<string, GroupProjection[]>();
  for (const g of projection) {
    const key = g.expiry_month ?? 'never';
    byMonth.set(key, [...(byMonth.get(key) ?? []), g]);
  }
  const months = [...byMonth.keys()].sort((a, b) => (a === 'never' ? 1 : b === 'never' ? -1 : a.localeCompare(b)));
  return {
    currency,
    cost_per_point: { points: cost.points, amount: cost.amount },
    ...row(projection),
    by_expiry_month: months.map((month) => ({ month, ...row(byMonth.get(month)!) })),
  };
}

// ── Backtest ─────────────────────────────────────────────────────────────────

/** What happened after D to the points outstanding at D, and where the points issued up to D stand at the end. */
export interface BacktestActuals {
  redeemed_after: number;
  withdrawn_after: number;
  /** Of the points issued up to D, as they stand at the later instant. */
  issued: number;
  redeemed: number;
  outstanding: number;
}

/** Compares the projection made at D (over the horizon to the later date) with what happened. */
export function backtestReport(input: {
  from: string;
  to: string;
  horizonMonths: number;
  projectionAtFrom: readonly GroupProjection[];
  breakageAtFrom: number | null;
  actual: BacktestActuals;
}): Backtest {
  const predicted = sum(input.projectionAtFrom, (g) => g.expected_redemptions);
  const a = input.actual;
  return {
    from: input.from,
    to: input.to,
    horizon_months: input.horizonMonths,
    outstanding_at_from: Math.round(sum(input.projectionAtFrom, (g) => g.points)),
    predicted_redemptions: predicted,
    actual_redemptions: a.redeemed_after,
    error: a.redeemed_after > 0 ? (predicted - a.redeemed_after) / a.redeemed_after : null,
    predicted_withdrawals: sum(input.projectionAtFrom, (g) => g.expected_withdrawals),
    actual_withdrawals: a.withdrawn_after,
    projected_breakage_at_from: input.breakageAtFrom,
    breakage_at_to: a.issued > 0 ? 1 - a.redeemed / a.issued : null,
    outstanding_at_to: a.outstanding,
  };
}

// ── Campaigns ────────────────────────────────────────────────────────────────

/** One group's per-member figures over a window, as SQL aggregates them (sample variances, divisor n − 1). */
export interface GroupSample {
  members: number;
  purchasing_members: number;
  purchases: SampleSummary;
  revenue: SampleSummary;
}

export interface CampaignInput {
  campaign_id: string;
  name: string;
  kind: string;
  status: string;
  control_share: number;
  window: { from: Date; to: Date };
  baseline: { from: Date; to: Date; days: number; stored: unknown };
  treatment: GroupSample;
  control: GroupSample;
  baseline_treatment: GroupSample;
  baseline_control: GroupSample;
  /** Points (stamps for an extra_stamp campaign) its awards keep. */
  cost_units: number;
}

const figures = (g: GroupSample): GroupFigures => ({
  members: g.members,
  purchasing_members: g.purchasing_members,
  purchases_per_member: g.purchases.mean,
  revenue_per_member: g.revenue.mean,
  purchases_sd: Math.sqrt(Math.max(0, g.purchases.variance)),
  revenue_sd: Math.sqrt(Math.max(0, g.revenue.variance)),
});

export function effect(treatment: SampleSummary, control: SampleSummary): Effect | null {
  const w = welchTest(treatment, control);
  if (!w) return null;
  return { difference: w.difference, ci_low: w.ci_low, ci_high: w.ci_high, standard_error: w.standard_error, df: w.df, t: w.t, p_value: w.p_value, significant: w.p_value < 0.05 };
}

/**
 * A campaign's economics: Welch's test of revenue and purchases per member, treatment against control, over the
 * window; incremental revenue = the per-member difference × treated members; its margin; the cost of the points the
 * awards keep at the program's cost per point; ROI = (incremental margin − cost) / cost, also at both ends of the
 * revenue interval (ROI is linear in the difference); and each group's change from the baseline, per member per
 * day, with the difference in differences.
 */
export function campaignEconomics(c: CampaignInput, opts: { margin: number; costPerPoint: { points: number; amount: number } }): CampaignEconomics {
  const unit = c.kind === 'extra_stamp' ? 'stamps' : 'points';
  const revenue = effect(c.treatment.revenue, c.control.revenue);
  const purchases = effect(c.treatment.purchases, c.control.purchases);
  const n = c.treatment.members;
  const incrementalRevenue = revenue ? revenue.difference * n : null;
  const incrementalMargin = incrementalRevenue === null ? null : incrementalRevenue * opts.margin;
  const costAmount = unit === 'points' ? Math.round((c.cost_units * opts.costPerPoint.amount) / opts.costPerPoint.points) : null;
  const roiAt = (difference: number) => (costAmount ? (difference * n * opts.margin - costAmount) / costAmount : null);
  const windowDays = (c.window.to.getTime() - c.window.from.getTime()) / 86_400_000;
  const perDay = (g: GroupSample, days: number) => ({ purchases: days > 0 ? g.purchases.mean / days : 0, revenue: days > 0 ? g.revenue.mean / days : 0 });
  const change = (during: GroupSample, before: GroupSample) => {
    const a = perDay(during, windowDays);
    const b = perDay(before, c.baseline.days);
    return { purchases: a.purchases - b.purchases, revenue: a.revenue - b.revenue };
  };
  const t = change(c.treatment, c.baseline_treatment);
  const ctl = change(c.control, c.baseline_control);
  return {
    campaign_id: c.campaign_id,
    name: c.name,
    kind: c.kind,
    status: c.status,
    unit,
    control_share: c.control_share,
    window: { from: c.window.from.toISOString(), to: c.window.to.toISOString(), days: windowDays },
    treatment: figures(c.treatment),
    control: figures(c.control),
    revenue,
    purchases,
    incremental_revenue: incrementalRevenue,
    incremental_margin: incrementalMargin,
    margin: opts.margin,
    cost: { points: c.cost_units, amount: costAmount },
    roi: revenue ? roiAt(revenue.difference) : null,
    roi_ci_low: revenue ? roiAt(revenue.ci_low) : null,
    roi_ci_high: revenue ? roiAt(revenue.ci_high) : null,
    baseline: {
      from: c.baseline.from.toISOString(),
      to: c.baseline.to.toISOString(),
      days: c.baseline.days,
      treatment: figures(c.baseline_treatment),
      control: figures(c.baseline_control),
      stored: c.baseline.stored ?? null,
    },
    change_per_day: {
      treatment: t,
      control: ctl,
      difference_in_differences: { purchases: t.purchases - ctl.purchases, revenue: t.revenue - ctl.revenue },
    },
  };
}
