/**
 * Program economics as a stage of an analytics run: computeEconomics gathers the aggregates (economics.store.ts) and
 * does the arithmetic (economics.ts, stats.ts) as of the run's day; the run pipeline stores the document it returns
 * (analytics_results, kind 'economics') and GET /v1/analytics/economics serves it. docs/analytics/economics.md.
 */
import { DateTime } from 'luxon';
import type { Queryable } from '../../../platform/db/db.js';
import type { ResultView, RunScope, StageRegistration } from '../analytics.types.js';
import {
  MONTH_MS, backtestReport, buildCurve, campaignEconomics, liability, projectOutstanding, projectedBreakage, rate,
  type GroupSample,
} from './economics.js';
import { EconomicsSchema, PERIOD_DAYS, type Backtest, type CampaignEconomics, type Economics, type RewardsCost } from './economics.schema.js';
import * as store from './economics.store.js';

/** The backtest that every run reports: the projection made this many months before as_of, checked against as_of. */
export const BACKTEST_MONTHS = 6;

/** The first instant of a local day (YYYY-MM-DD) in a time zone. */
const startOfDay = (day: string, timeZone: string): Date => DateTime.fromISO(day, { zone: timeZone }).startOf('day').toJSDate();

const localDay = (day: string, timeZone: string, change: { days?: number; months?: number }): string =>
  DateTime.fromISO(day, { zone: timeZone }).plus(change).toISODate()!;

/** The periods: the last 30, 90 and 365 days up to and including as_of. */
function periodsOf(scope: RunScope) {
  return PERIOD_DAYS.map((days) => {
    const from = localDay(scope.asOf, scope.timeZone, { days: -(days - 1) });
    return { days, from, to: scope.asOf, start: startOfDay(from, scope.timeZone) };
  });
}

const EMPTY_SAMPLE: GroupSample = { members: 0, purchasing_members: 0, purchases: { n: 0, mean: 0, variance: 0 }, revenue: { n: 0, mean: 0, variance: 0 } };

/** The breakage projection as of an instant: the curve from the lots earned before it, and the outstanding points along it. */
async function projectionAt(q: Queryable, scope: RunScope, at: Date, periodStarts: Date[]) {
  const lots = await store.lotsAsOf(q, scope.tenantId, at, scope.timeZone, periodStarts);
  const curve = buildCurve({ issued_gross: lots.totals.issued_gross, flows: lots.flows, censored: lots.censored });
  const projection = projectOutstanding(curve, lots.outstanding);
  return { lots, curve, projection, breakage: projectedBreakage(lots.totals, projection) };
}

/**
 * The backtest of the breakage projection: as of an earlier day `from` (tenant time zone), project from only what was
 * known then (lots earned and allocations recorded before the end of that day) over the horizon up to the end of
 * scope.asOf, and compare with what those points actually did. Null when no points were issued by `from`.
 */
export async function backtestBreakage(q: Queryable, scope: RunScope, from: string): Promise<Backtest | null> {
  const at = startOfDay(localDay(from, scope.timeZone, { days: 1 }), scope.timeZone);
  if (at >= scope.end) throw new RangeError(`backtest: ${from} is not before as_of ${scope.asOf}`);
  const before = await store.lotsAsOf(q, scope.tenantId, at, scope.timeZone, []);
  if (before.totals.issued_gross <= 0) return null;
  const curve = buildCurve({ issued_gross: before.totals.issued_gross, flows: before.flows, censored: before.censored });
  const horizonMonths = (scope.end.getTime() - at.getTime()) / MONTH_MS;
  const withinHorizon = projectOutstanding(curve, before.outstanding, horizonMonths);
  const forGood = projectedBreakage(before.totals, projectOutstanding(curve, before.outstanding));
  // The same lots (earned before D) as they stand at the end of as_of; the period from D gives what they did since.
  const after = await store.lotsAsOf(q, scope.tenantId, scope.end, scope.timeZone, [at], { earnedBefore: at });
  const since = after.periods[0]!;
  return backtestReport({
    from,
    to: scope.asOf,
    horizonMonths,
    projectionAtFrom: withinHorizon,
    breakageAtFrom: forGood.rate,
    actual: {
      redeemed_after: since.redeemed,
      withdrawn_after: since.withdrawn,
      issued: after.totals.issued_gross - after.totals.withdrawn,
      redeemed: after.totals.redeemed,
      outstanding: after.totals.outstanding,
    },
  });
}

/** Program economics as of scope.asOf (docs/analytics/economics.md). */
export async function computeEconomics(q: Queryable, scope: RunScope): Promise<Economics> {
  const periods = periodsOf(scope);
  const starts = periods.map((p) => p.start);
  const cost = await store.pointCost(q, scope.tenantId);

  // Breakage and liability: the lot-age curve, the outstanding points projected along it.
  const { lots, curve, projection, breakage } = await projectionAt(q, scope, scope.end, starts);
  const t = lots.totals;
  const backtestFrom = localDay(scope.asOf, scope.timeZone, { months: -BACKTEST_MONTHS });
  const backtest = await backtestBreakage(q, scope, backtestFrom);

  // Participation.
  const part = await store.participation(q, scope.tenantId, scope.end, starts);
  const customers = part.members + part.non_member_customers;

  // Cost of rewards.
  const costRows = await store.rewardsCost(q, scope.tenantId, scope.end, starts, scope.currency);
  const rewardsCost: RewardsCost = {
    periods: periods.map((p, i) => ({
      days: p.days, from: p.from, to: p.to,
      currencies: costRows.filter((r) => r.period === i).map((r) => {
        const bySource = Object.entries(r.credit_by_source).map(([source, amount]) => ({ source, amount: Math.round(amount) })).sort((a, b) => a.source.localeCompare(b.source));
        const credit = bySource.reduce((s, x) => s + x.amount, 0);
        const redemptions = { count: r.redemptions_count, points: Math.round(r.redemptions_points), value: Math.round(r.redemptions_value) };
        const gifts = { count: r.gifts_count, valued: r.gifts_valued, value: Math.round(r.gifts_value) };
        const discounts = { count: r.voucher_discounts_count, amount: Math.round(r.voucher_discounts) };
        return {
          currency: r.currency, redemptions, gift_rewards: gifts, store_credit: { amount: credit, by_source: bySource }, voucher_discounts: discounts,
          total: redemptions.value + gifts.value + credit + discounts.amount,
        };
      }),
    })),
  };

  // Campaigns: treatment against control, cost, ROI, baseline.
  const campaigns = await store.campaignsAsOf(q, scope.tenantId, scope.end);
  const groups = await store.campaignGroups(q, scope.tenantId, scope.end, scope.currency, campaigns.map((c) => c.id));
  const groupOf = (id: string, grp: 'treatment' | 'control') => groups.find((g) => g.campaign_id === id && g.grp === grp);
  const campaignResults: CampaignEconomics[] = campaigns.map((c) => campaignEconomics({
    campaign_id: c.id, name: c.name, kind: c.kind, status: c.status, control_share: c.control_share,
    window: { from: c.window_from, to: c.window_to },
    baseline: { from: c.base_from, to: c.base_to, days: c.baseline_days, stored: c.baseline },
    treatment: groupOf(c.id, 'treatment')?.window ?? EMPTY_SAMPLE,
    control: groupOf(c.id, 'control')?.window ?? EMPTY_SAMPLE,
    baseline_treatment: groupOf(c.id, 'treatment')?.baseline ?? EMPTY_SAMPLE,
    baseline_control: groupOf(c.id, 'control')?.baseline ?? EMPTY_SAMPLE,
    cost_units: c.cost_units,
  }, { margin: scope.settings.clv.margin, costPerPoint: cost }));

  const issued = (gross: number, withdrawn: number) => Math.round(gross - withdrawn);
  return {
    as_of: scope.asOf,
    time_zone: scope.timeZone,
    currency: scope.currency,
    participation: {
      members: part.members,
      non_member_customers: part.non_member_customers,
      customers,
      periods: periods.map((p, i) => ({
        days: p.days, from: p.from, to: p.to,
        participating_members: part.participating[i] ?? 0,
        rate: rate(part.participating[i] ?? 0, part.members),
        rate_of_customers: part.non_member_customers > 0 ? rate(part.participating[i] ?? 0, customers) : null,
      })),
    },
    redemption: {
      periods: periods.map((p, i) => {
        const x = lots.periods[i]!;
        const iss = issued(x.issued_gross, x.withdrawn);
        return { days: p.days, from: p.from, to: p.to, issued: iss, redeemed: Math.round(x.redeemed), rate: rate(x.redeemed, iss) };
      }),
      cumulative: { issued: issued(t.issued_gross, t.withdrawn), redeemed: Math.round(t.redeemed), rate: rate(t.redeemed, t.issued_gross - t.withdrawn) },
    },
    breakage: {
      issued_gross: Math.round(t.issued_gross),
      withdrawn: Math.round(t.withdrawn),
      issued: issued(t.issued_gross, t.withdrawn),
      redeemed: Math.round(t.redeemed),
      expired: Math.round(t.expired),
      outstanding: Math.round(t.outstanding),
      realised: { lots_issued: Math.round(t.past_issued), expired: Math.round(t.past_expired), rate: rate(t.past_expired, t.past_issued) },
      projected: breakage,
      curve: { tail_from_month: curve.tail_from_month, months: curve.months },
      backtest,
    },
    liability: liability(projection, cost, scope.currency),
    rewards_cost: rewardsCost,
    campaigns: campaignResults,
  };
}

/** The run stage (wired in the composition root: the pipeline runs it and stores its result as kind 'economics'). */
export const economicsStage: StageRegistration = {
  stage: 'economics',
  kind: 'economics',
  run: (q, scope) => computeEconomics(q, scope),
};

/** The stored document's route. */
export const economicsView: ResultView = {
  kind: 'economics',
  path: '/v1/analytics/economics',
  summary: 'Program economics: participation, redemption rate, breakage (realised, projected, backtested), points liability, cost of rewards, and each campaign\'s lift with its confidence interval, cost and ROI',
  schema: EconomicsSchema,
};
