/**
 * The program economics document a run stores (analytics_results, kind 'economics') and GET /v1/analytics/economics
 * serves: its TypeBox schema (for the OpenAPI document and the response serializer) and the TypeScript types derived
 * from it. docs/analytics/economics.md defines every figure.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, StringEnum } from '../../../platform/http/schema.js';

const Int = (description: string) => Type.Integer({ description });
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Num = (description: string) => Type.Number({ description });
const Rate = (description: string) => Nullable(Type.Number({ description: `${description} A fraction (0.25 = 25%); null when the denominator is 0.` }));
const Day = (description: string) => Type.String({ format: 'date', description });

/** The last 30, 90 and 365 days up to and including as_of, in the tenant's time zone. */
export const PERIOD_DAYS = [30, 90, 365] as const;
export type PeriodDays = (typeof PERIOD_DAYS)[number];

const PeriodFields = {
  days: Type.Integer({ enum: [...PERIOD_DAYS], description: 'The period: the last `days` days up to and including as_of.' }),
  from: Day('The first day of the period (tenant time zone).'),
  to: Day('The last day of the period: as_of.'),
};

export const ParticipationSchema = Type.Object({
  members: Count('Members enrolled by the end of as_of and not erased by then.'),
  non_member_customers: Count('Distinct customer_ref of purchases by customers who are not members, up to as_of.'),
  customers: Count('members + non_member_customers.'),
  periods: Type.Array(Type.Object({
    ...PeriodFields,
    participating_members: Count('Members who earned points (an earn entry) or redeemed points (a redeem entry) in the period.'),
    rate: Rate('participating_members / members.'),
    rate_of_customers: Rate('participating_members / customers; null when no orders of non-members are known.'),
  })),
});

const IssuedRedeemed = {
  issued: Int('Points issued: points credited into lots (earnings, awards, gifts, positive adjustments, reversed claw-backs) minus points taken back (returns, voids, negative adjustments, debt repayment).'),
  redeemed: Int('Points redeemed (net of cancelled redemptions).'),
  rate: Rate('redeemed / issued.'),
};

export const RedemptionSchema = Type.Object({
  periods: Type.Array(Type.Object({ ...PeriodFields, ...IssuedRedeemed })),
  cumulative: Type.Object(IssuedRedeemed, { description: 'Everything up to the end of as_of.' }),
});

export const CurveMonthSchema = Type.Object({
  month: Count('Lot age in months of 30.4375 days: month 0 is the first month after earning.'),
  at_start: Num('Points still outstanding at the start of this age, over every lot that reached it.'),
  exposure: Num('at_start less the unobserved part of the month of points whose observation ended in it (as_of reached, or expiry date).'),
  redeemed: Num('Points redeemed at this age.'),
  withdrawn: Num('Points taken back at this age (returns, voids, negative adjustments, debt repayment).'),
  expired: Num('Points expired at this age without an expiry date of their own (the inactivity policy).'),
  censored: Num('Points whose observation ended at this age, still outstanding (or expiring on their date).'),
  p_redeem: Num('Probability that a point outstanding at the start of this age is redeemed during it (used for the projection).'),
  p_withdraw: Num('The same for being taken back.'),
  p_expire: Num('The same for expiring by inactivity.'),
  pooled: Type.Boolean({ description: 'True when the probabilities are the pooled tail estimate rather than this month\'s own.' }),
});

export const BacktestSchema = Type.Object({
  from: Day('The earlier date D: the projection used only lots earned and allocations recorded up to the end of D.'),
  to: Day('The date the projection was checked against (as_of).'),
  horizon_months: Num('to − from in months of 30.4375 days.'),
  outstanding_at_from: Int('Points outstanding at the end of D.'),
  predicted_redemptions: Num('Redemptions of those points between D and as_of, projected at D.'),
  actual_redemptions: Int('What was actually redeemed of them between D and as_of.'),
  error: Nullable(Type.Number({ description: '(predicted − actual) / actual; null when nothing was redeemed.' })),
  predicted_withdrawals: Num('Take-backs of those points projected at D.'),
  actual_withdrawals: Int('Take-backs that happened.'),
  projected_breakage_at_from: Rate('The breakage projected at D for every point issued up to D.'),
  breakage_at_to: Rate('1 − redeemed / issued of the points issued up to D, as it stands at as_of.'),
  outstanding_at_to: Int('Points issued up to D still outstanding at as_of: when 0, breakage_at_to is final.'),
});

export const BreakageSchema = Type.Object({
  issued_gross: Int('Points credited into lots up to as_of.'),
  withdrawn: Int('Points taken back from lots (returns, voids, negative adjustments, debt repayment).'),
  issued: Int('issued_gross − withdrawn.'),
  redeemed: Int('Points redeemed.'),
  expired: Int('Points expired, including points of lots past their expiry date that the expiry job has not yet written off.'),
  outstanding: Int('Points still outstanding (pending, available or held in a checkout) in lots not past their expiry date.'),
  realised: Type.Object({
    lots_issued: Int('Points issued in lots whose expiry date is before the end of as_of (lots that have had their whole chance).'),
    expired: Int('Points of those lots that expired.'),
    rate: Rate('expired / lots_issued: the realised breakage; null when no lot has passed its expiry date.'),
  }),
  projected: Type.Object({
    expected_redemptions: Num('Expected future redemptions of the outstanding points (the lot-age curve).'),
    expected_withdrawals: Num('Expected future take-backs of the outstanding points.'),
    rate: Rate('1 − (redeemed + expected_redemptions) / (issued − expected_withdrawals): the share of issued points never redeemed.'),
    outstanding_rate: Rate('1 − expected_redemptions / outstanding: the share of the outstanding points not expected to be redeemed (used for the liability).'),
  }),
  curve: Type.Object({
    tail_from_month: Count('From this age on the probabilities are pooled and held constant.'),
    months: Type.Array(CurveMonthSchema),
  }),
  backtest: Nullable(BacktestSchema),
});

export const LiabilityRowSchema = Type.Object({
  outstanding_points: Int('Outstanding points.'),
  expected_redemptions: Num('Of those, expected to be redeemed.'),
  expected_breakage: Rate('1 − expected_redemptions / outstanding_points.'),
  amount: Int('outstanding_points × cost per point × (1 − expected_breakage), minor units of the currency (rounded).'),
});

export const LiabilitySchema = Type.Object({
  currency: Type.String({ description: 'The program currency (points are worth money in it only).' }),
  cost_per_point: Type.Object({
    points: Count('The program\'s point_cost: `amount` minor units per `points` points (its current value).'),
    amount: Count('Minor units.'),
  }),
  ...LiabilityRowSchema.properties,
  by_expiry_month: Type.Array(Type.Object({
    month: Type.String({ description: 'YYYY-MM of the lots\' expiry date in the tenant\'s time zone, or "never".' }),
    ...LiabilityRowSchema.properties,
  }), { description: 'Earliest month first, "never" last.' }),
});

export const RewardsCostCurrencySchema = Type.Object({
  currency: Type.String(),
  redemptions: Type.Object({
    count: Count('Points redemptions made in the period and not cancelled by the end of as_of.'),
    points: Count('Their points.'),
    value: Count('Their value at the program\'s points_value when redeemed (redemptions.value_amount), minor units.'),
  }),
  gift_rewards: Type.Object({
    count: Count('Catalog rewards given at no points cost (origin gift: stamp cards, referrals, badges, goodwill) and not cancelled.'),
    valued: Count('Of those, the ones with a money value: a voucher with an amount (fixed amount, gift card, free product with a value), cashback, a donation.'),
    value: Count('Their money value, minor units.'),
  }),
  store_credit: Type.Object({
    amount: Count('Store credit credited to wallets in the period, except refunds of a spend and reward cashback (counted above).'),
    by_source: Type.Array(Type.Object({ source: Type.String(), amount: Count('Minor units.') })),
  }),
  voucher_discounts: Type.Object({
    count: Count('Uses at checkout of vouchers issued outside the rewards catalog (by hand or in batches; gift cards excepted), not released.'),
    amount: Count('The discount they gave, minor units.'),
  }),
  total: Count('redemptions.value + gift_rewards.value + store_credit.amount + voucher_discounts.amount.'),
});

export const RewardsCostSchema = Type.Object({
  periods: Type.Array(Type.Object({ ...PeriodFields, currencies: Type.Array(RewardsCostCurrencySchema, { description: 'One entry per currency that had any cost.' }) })),
});

export const EffectSchema = Type.Object({
  difference: Num('Treatment mean − control mean, per member.'),
  ci_low: Num('95% confidence interval of the difference (Welch).'),
  ci_high: Num('95% confidence interval of the difference (Welch).'),
  standard_error: Num('√(s²_t/n_t + s²_c/n_c).'),
  df: Num('Welch–Satterthwaite degrees of freedom.'),
  t: Num('The t statistic.'),
  p_value: Num('Two-sided p-value of Welch\'s unequal-variance t-test (H0: equal means).'),
  significant: Type.Boolean({ description: 'p_value < 0.05.' }),
}, { description: "Welch's two-sample t-test of the per-member values; null when a group has fewer than 2 members or neither group varies." });

export const GroupFiguresSchema = Type.Object({
  members: Count('Members in the group (assigned by the end of as_of).'),
  purchasing_members: Count('Members with at least one purchase in the window.'),
  purchases_per_member: Num('Recorded purchases in the window per member.'),
  revenue_per_member: Num('Revenue per member: purchases in the program currency net of their returns up to as_of, minor units.'),
  purchases_sd: Num('Sample standard deviation of purchases per member.'),
  revenue_sd: Num('Sample standard deviation of revenue per member.'),
});

const PerDay = Type.Object({ purchases: Num('Per member per day.'), revenue: Num('Per member per day, minor units.') });

export const CampaignEconomicsSchema = Type.Object({
  campaign_id: Type.String({ format: 'uuid' }),
  name: Type.String(),
  kind: Type.String(),
  status: Type.String({ description: 'The campaign\'s status as stored now.' }),
  unit: StringEnum(['points', 'stamps'] as const, { description: 'What its awards give; a stamp campaign has no points cost.' }),
  control_share: Num('The share held out.'),
  window: Type.Object({
    from: Type.String({ format: 'date-time', description: 'The later of starts_at and launched_at (nothing is awarded before launch).' }),
    to: Type.String({ format: 'date-time', description: 'The earliest of ends_at, the cancellation and the end of as_of.' }),
    days: Num('Its length in days.'),
  }),
  treatment: GroupFiguresSchema,
  control: GroupFiguresSchema,
  revenue: Nullable(EffectSchema),
  purchases: Nullable(EffectSchema),
  incremental_revenue: Nullable(Type.Number({ description: 'revenue.difference × treatment members, minor units.' })),
  incremental_margin: Nullable(Type.Number({ description: 'incremental_revenue × margin (settings.clv.margin).' })),
  margin: Num('The gross margin used.'),
  cost: Type.Object({
    points: Count('Points its awards gave and still keep (treatment), by the end of as_of; stamps for a stamp campaign.'),
    amount: Nullable(Type.Integer({ description: 'points × cost per point, minor units of the program currency; null for stamps.' })),
  }),
  roi: Nullable(Type.Number({ description: '(incremental_margin − cost) / cost; null without a cost or without a control group.' })),
  roi_ci_low: Nullable(Type.Number({ description: 'ROI at the low end of the revenue interval.' })),
  roi_ci_high: Nullable(Type.Number({ description: 'ROI at the high end of the revenue interval.' })),
  baseline: Type.Object({
    from: Type.String({ format: 'date-time', description: 'launched_at − baseline_days.' }),
    to: Type.String({ format: 'date-time', description: 'launched_at.' }),
    days: Count('baseline_days.'),
    treatment: GroupFiguresSchema,
    control: GroupFiguresSchema,
    stored: Nullable(Type.Unknown({ description: 'The baseline the campaigns module recorded at launch, as stored (null until its launch job ran).' })),
  }, { description: 'The same figures over the baseline_days before launch, recomputed with the window\'s definitions.' }),
  change_per_day: Type.Object({
    treatment: PerDay,
    control: PerDay,
    difference_in_differences: PerDay,
  }, { description: 'Window per day − baseline per day, per group; and treatment\'s change − control\'s change.' }),
});

export const EconomicsSchema = Type.Object({
  as_of: Day('The day the figures are as of (tenant time zone).'),
  time_zone: Type.String(),
  currency: Type.String({ description: 'The program currency.' }),
  participation: ParticipationSchema,
  redemption: RedemptionSchema,
  breakage: BreakageSchema,
  liability: LiabilitySchema,
  rewards_cost: RewardsCostSchema,
  campaigns: Type.Array(CampaignEconomicsSchema, { description: 'Campaigns launched and started by the end of as_of, newest start first.' }),
}, { $id: 'AnalyticsEconomics', description: 'Program economics as of one day: participation, redemption, breakage, liability, cost of rewards, campaign lift and ROI (docs/analytics/economics.md).' });

export type Economics = Static<typeof EconomicsSchema>;
export type Participation = Static<typeof ParticipationSchema>;
export type Redemption = Static<typeof RedemptionSchema>;
export type Breakage = Static<typeof BreakageSchema>;
export type CurveMonth = Static<typeof CurveMonthSchema>;
export type Backtest = Static<typeof BacktestSchema>;
export type Liability = Static<typeof LiabilitySchema>;
export type RewardsCost = Static<typeof RewardsCostSchema>;
export type RewardsCostCurrency = Static<typeof RewardsCostCurrencySchema>;
export type CampaignEconomics = Static<typeof CampaignEconomicsSchema>;
export type Effect = Static<typeof EffectSchema>;
export type GroupFigures = Static<typeof GroupFiguresSchema>;
