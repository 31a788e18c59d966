/** HTTP schemas of the analytics module: settings, runs, the CLV model report, RFM, migrations, member scores. */
import { Type, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { MAX_FIT_CUSTOMERS, MAX_FIT_REPEATERS } from './analytics.models.js';
import { SETTINGS_LIMITS as L } from './analytics.settings.js';
import { RFM_SEGMENTS, RUN_STAGES } from './analytics.types.js';

const Day = (description: string) => Type.String({ format: 'date', description });
const Int = (description: string) => Type.Integer({ minimum: 0, description });
const Money = (description: string) => Type.Integer({ description: `${description} Minor units of the run's currency.` });
const SEGMENTS = Object.keys(RFM_SEGMENTS) as Array<keyof typeof RFM_SEGMENTS>;
const Segment = StringEnum(SEGMENTS, { description: `RFM segment: ${SEGMENTS.join(', ')}.` });
const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
const Warning = Type.Object({ code: Type.String(), message: Type.String() });

// ── Settings ──────────────────────────────────────────────────────────────────

const Fraction = (description: string) => Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, description });

const groups = {
  churn: {
    rule: StringEnum(['median_gap', 'fixed_days', 'p_alive'] as const, {
      description: "When a customer counts as lost: 'median_gap' (no purchase within gap_multiple × the tenant-wide median days between purchases; the default), 'fixed_days' (no purchase within `days`), 'p_alive' (the model's P(alive) below p_alive_below; median_gap where no model could be fitted).",
    }),
    gap_multiple: Type.Number({ minimum: L.gapMultiple.min, maximum: L.gapMultiple.max, description: `median_gap: how many median gaps without a purchase make a customer lost (${L.gapMultiple.min}-${L.gapMultiple.max}, default 2).` }),
    days: Nullable(Type.Integer({ minimum: L.churnDays.min, maximum: L.churnDays.max, description: "fixed_days: days without a purchase (required with 'fixed_days')." })),
    p_alive_below: Fraction('p_alive: the P(alive) below which a customer is lost (default 0.3).'),
  },
  clv: {
    margin: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Gross margin as a fraction of revenue, for CLV and historic CLV (0 < margin ≤ 1, default 0.3).' }),
    annual_discount_rate: Type.Number({ minimum: 0, exclusiveMaximum: 1, description: 'Annual discount rate of future margin (0 ≤ d < 1, default 0.1).' }),
    horizon_months: Type.Integer({ minimum: L.horizonMonths.min, maximum: L.horizonMonths.max, description: 'The CLV horizon in months (default 12).' }),
    time_unit: StringEnum(['day', 'week'] as const, { description: 'The unit the models are fitted in (default week; predictions are the same in either).' }),
    l2_penalty: Type.Number({ minimum: 0, maximum: L.l2Penalty.max, description: 'L2 penalty on the BG/NBD log-parameters; 0 (default) is plain maximum likelihood.' }),
  },
  at_risk: {
    min_clv_decile: Type.Integer({ minimum: 1, maximum: 10, description: 'Only members in this CLV decile or above are candidates (10 = the top tenth; default 8).' }),
    p_alive_below: Fraction("Reason 'low_p_alive': P(alive) below this (default 0.5)."),
    rate_ratio_below: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: "Reason 'falling_rate': purchase days in the last recent_days below this × what the member's own repeat rate before that window expects (default 0.5)." }),
    recent_days: Type.Integer({ minimum: L.recentDays.min, maximum: L.recentDays.max, description: "The recent window of 'falling_rate' in days (default 90)." }),
    lookback_days: Type.Integer({ minimum: L.lookbackDays.min, maximum: L.lookbackDays.max, description: "Reasons 'detractor' and 'breached_case' look back this many days (default 180)." }),
  },
};
const top = {
  nightly: Type.Boolean({ description: "Queue a run every night at 03:00 in the tenant's time zone, as of the day before (default true)." }),
  keep_runs_days: Type.Integer({ minimum: L.keepRunsDays.min, maximum: L.keepRunsDays.max, description: 'Finished runs older than this are deleted by the nightly purge; the published run is kept (default 400).' }),
};

const optional = <T extends TProperties>(props: T) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

export const AnalyticsSettingsBody = Obj({
  churn: Type.Optional(Obj(optional(groups.churn))),
  clv: Type.Optional(Obj(optional(groups.clv))),
  at_risk: Type.Optional(Obj(optional(groups.at_risk))),
  ...optional(top),
}, {
  description: 'The analytics settings. Every field is optional: a field left out takes its default (PUT replaces the whole document).',
  examples: [{ clv: { margin: 0.35, horizon_months: 24 }, churn: { rule: 'fixed_days', days: 180 } }],
});

const settingsDoc = { churn: Type.Object(groups.churn), clv: Type.Object(groups.clv), at_risk: Type.Object(groups.at_risk), ...top };

export const AnalyticsSettingsView = Type.Object({
  ...settingsDoc,
  updated_at: Nullable(Timestamp({ description: 'When they were last saved; null: never (the defaults).' })),
}, { $id: 'AnalyticsSettings', description: 'The analytics settings in force, defaults filled in.' });

// ── Runs ──────────────────────────────────────────────────────────────────────

export const RunBody = Obj({
  as_of: Type.Optional(Day("The last day the run includes, in the tenant's time zone (default: yesterday there). Not in the future.")),
}, { description: 'An analytics run as of a day: orders dated up to and including it; recency and age in whole days up to it.' });

const StageProgressSchema = Type.Object({
  name: StringEnum(RUN_STAGES),
  status: StringEnum(['pending', 'running', 'succeeded', 'failed', 'skipped'] as const, { description: 'skipped: no module provides the stage in this installation.' }),
  started_at: Nullable(Timestamp()),
  finished_at: Nullable(Timestamp()),
  ms: Nullable(Type.Integer({ description: 'Wall time of the stage.' })),
  rows: Nullable(Type.Integer({ description: 'Members written or customers fitted; during scoring, members scored so far.' })),
});

export const AnalyticsRun = Type.Object({
  id: Uuid(),
  status: StringEnum(RUN_STATUSES),
  trigger: StringEnum(['api', 'schedule', 'demo'] as const),
  as_of: Day('The last day included (tenant time zone).'),
  currency: Type.String({ description: 'The program currency the money figures are in.' }),
  settings: Type.Object(settingsDoc, { description: 'The settings the run was queued with (a copy).' }),
  progress: Type.Object({
    stage: Nullable(StringEnum(RUN_STAGES, { description: 'The stage running now (or the one that failed).' })),
    done: Int('Stages finished.'),
    total: Int('Stages the run executes.'),
    attempts: Int('Executions started (a run interrupted by a crash starts again).'),
    stages: Type.Array(StageProgressSchema),
  }),
  summary: Nullable(Type.Object({
    members: Int('Members scored: members with at least one counted order up to as_of.'),
    repeaters: Int('Of those, members with two or more purchase days.'),
    orders: Int('Counted orders.'),
    revenue: Money('Revenue net of returns.'),
    median_gap_days: Nullable(Type.Number({ description: 'Tenant-wide median days between consecutive purchase days of a member.' })),
    time_zone: Type.String(),
    warnings: Type.Array(Type.Object({ stage: Type.String(), code: Type.String(), message: Type.String() }), { description: 'What the run could not do (e.g. too few repeat customers to fit a model).' }),
  })),
  error: Nullable(Type.String({ description: 'failed: the stage and the error.' })),
  published: Type.Boolean({ description: "Whether member_analytics (GET /v1/members/{id}/analytics) holds this run's rows: the succeeded run with the newest as_of." }),
  created_at: Timestamp(),
  started_at: Nullable(Timestamp()),
  finished_at: Nullable(Timestamp()),
}, { $id: 'AnalyticsRun', description: 'An analytics run, its progress and what it found.' });

export const ListRunsQuery = Obj({
  ...PageQuery,
  status: Type.Optional(StringEnum(RUN_STATUSES, { description: 'Only runs in this status.' })),
});

export const RunIdQuery = Obj({
  run_id: Type.Optional(Uuid({ description: 'A succeeded run; default the latest succeeded run (the newest as_of).' })),
});

// ── The CLV model report ──────────────────────────────────────────────────────

export const AnalyticsModel = Type.Object({
  run_id: Uuid(),
  as_of: Day('The calibration period ends on this day.'),
  computed_at: Nullable(Timestamp()),
  currency: Type.String(),
  time_unit: StringEnum(['day', 'week'] as const, { description: 'The unit of t_x, T and α (a week is 7 days).' }),
  bgnbd: Nullable(Type.Object({
    time_unit: StringEnum(['day', 'week'] as const),
    params: Type.Object({ r: Type.Number(), alpha: Type.Number({ description: 'In the time unit.' }), a: Type.Number(), b: Type.Number() }),
    log_likelihood: Nullable(Type.Number()),
    penalty: Type.Number(),
    converged: Type.Boolean(),
    iterations: Int('Optimiser iterations.'),
    customers: Int(`Members fitted: all the members of the run, or a sample of about ${MAX_FIT_CUSTOMERS.toLocaleString('en')} when there are more.`),
    population: Int('Members of the run the fit could take.'),
    gradient_norm: Nullable(Type.Number({ description: 'Norm of the gradient at the optimum (log-parameters): an independent check of convergence.' })),
    dropout_identified: Nullable(Type.Boolean({ description: 'false: the data cannot identify dropout (P(alive) is then close to 1).' })),
    warnings: Type.Array(Warning),
  }, { description: 'BG/NBD (Fader, Hardie & Lee 2005); null when it could not be fitted (see warnings).' })),
  gamma_gamma: Nullable(Type.Object({
    params: Type.Object({ p: Type.Number(), q: Type.Number(), gamma: Type.Number({ description: 'In major units of the currency.' }) }),
    currency: Type.String(),
    log_likelihood: Nullable(Type.Number()),
    converged: Type.Boolean(),
    iterations: Int('Optimiser iterations.'),
    customers: Int(`Repeat customers fitted: all of them, or a sample of about ${MAX_FIT_REPEATERS.toLocaleString('en')} when there are more.`),
    population: Int('Repeat customers with spend in the run.'),
    population_mean_spend: Nullable(Type.Number({ description: 'pγ/(q−1), major units; null when q ≤ 1.' })),
    spend_frequency_correlation: Nullable(Type.Object({ pearson: Type.Number(), spearman: Type.Number() }, { description: 'The model assumes none; |ρ| ≥ 0.3 raises a warning.' })),
    warnings: Type.Array(Warning),
  }, { description: 'Gamma-Gamma spend model, money in major units; null when it could not be fitted.' })),
  calibration: Nullable(Type.Object({
    from: Day('First day of the holdout (as_of + 1).'),
    to: Day('Last day of the holdout: the last order day.'),
    holdout_days: Int('Days in the holdout.'),
    actual_total: Type.Number({ description: 'Purchase days of the run\'s members in the holdout.' }),
    predicted_total: Type.Number({ description: 'What the model expected of them.' }),
    relative_error: Type.Number({ description: '(predicted − actual) / actual.' }),
    bins: Type.Array(Type.Object({
      x: Int('Repeat purchases in the calibration period (the last bin: this many or more).'),
      label: Type.String(),
      customers: Int('Members in the bin.'),
      actual_total: Type.Number(), predicted_total: Type.Number(), actual_mean: Type.Number(), predicted_mean: Type.Number(),
    }), { description: 'Per calibration frequency: actual against predicted holdout purchases, as chart data (FHL 2005, Figure 4).' }),
  }, { description: 'Holdout calibration, when the tenant has orders after as_of; null otherwise.' })),
  warnings: Type.Array(Type.Object({ stage: Type.String(), code: Type.String(), message: Type.String() }), { description: 'Why a model is missing, or what limits it.' }),
}, { $id: 'AnalyticsModel', description: 'The CLV models of a run: parameters, time unit, fit, warnings and the holdout calibration.' });

// ── RFM ───────────────────────────────────────────────────────────────────────

const ScoreDistribution = Type.Array(Type.Object({
  score: Type.Integer({ minimum: 1, maximum: 5 }),
  members: Int('Members with this score.'),
  min: Nullable(Type.Integer({ description: 'Smallest value of the measure with this score.' })),
  max: Nullable(Type.Integer({ description: 'Largest value of the measure with this score.' })),
}));

export const RfmResultSchema = Type.Object({
  currency: Type.String(),
  members: Int('Members scored.'),
  segments: Type.Array(Type.Object({
    segment: Segment,
    name: Type.String({ description: 'As shown (domain.md §2).' }),
    members: Int('Members in the segment.'),
    share_pct: Type.Number({ description: 'Percent of the members scored, one decimal.' }),
    revenue: Money('Their revenue net of returns up to as_of.'),
  }), { description: 'All eleven segments, in domain.md\'s order.' }),
  scores: Type.Object({
    r: ScoreDistribution, f: ScoreDistribution, m: ScoreDistribution,
  }, { description: 'Per score 1-5 the members and the range it covers: R in days since the last purchase, F in orders, M in minor units.' }),
}, { $id: 'RfmResult', description: 'RFM segment sizes and score distributions of a run.' });

export const MigrationsQuery = Obj({
  from: Type.Optional(Day(`The earlier day (default: 30 days before to).`)),
  to: Type.Optional(Day("The later day (default: today in the tenant's time zone).")),
});

const RunRef = Type.Object({ run_id: Uuid(), as_of: Day("The run's day.") });

export const RfmMigrations = Type.Object({
  from: Day('The earlier day asked for.'),
  to: Day('The later day asked for.'),
  from_run: Type.Union([RunRef, Type.Null()], { description: 'The latest succeeded run as of `from`; null: none (every member is entering).' }),
  to_run: RunRef,
  segments: Type.Array(Segment, { description: 'The order of the rows and columns below.' }),
  counts: Type.Array(Type.Array(Type.Integer()), { description: 'counts[i][j]: members in segments[i] at from_run and in segments[j] at to_run (11 × 11).' }),
  entering: Type.Array(Type.Integer(), { description: 'Per segment at to_run: members not in from_run (new customers).' }),
  leaving: Type.Array(Type.Integer(), { description: 'Per segment at from_run: members not in to_run.' }),
  members_from: Int('Members in from_run.'),
  members_to: Int('Members in to_run.'),
}, { $id: 'RfmMigrations', description: 'Members moving between RFM segments from one day to another.' });

// ── Members ───────────────────────────────────────────────────────────────────

const RiskReasonSchema = StringEnum(['low_p_alive', 'detractor', 'breached_case', 'falling_rate'] as const);
const Expected = (days: number) => Nullable(Type.Number({ description: `Expected purchase days in the next ${days} days; null without a model.` }));

export const MemberScore = Type.Object({
  member_id: Uuid(),
  external_id: Nullable(Type.String()),
  first_purchase_on: Day('First purchase day (tenant time zone).'),
  last_purchase_on: Day('Last purchase day up to as_of.'),
  orders: Int('Counted orders up to as_of.'),
  purchase_days: Int('Distinct purchase days (same-day orders are one occasion).'),
  revenue: Money('Revenue net of returns.'),
  repeat_day_mean: Money('Mean spend of the purchase days after the first (0 without any), rounded.'),
  t_x_days: Int('Last − first purchase day.'),
  t_days: Int('as_of − first purchase day.'),
  recency_days: Int('as_of − last purchase day.'),
  r_score: Nullable(Type.Integer()), f_score: Nullable(Type.Integer()), m_score: Nullable(Type.Integer()),
  segment: Nullable(Segment),
  p_alive: Nullable(Type.Number({ description: 'P(alive) as of as_of; null without a model.' })),
  expected_30: Expected(30), expected_90: Expected(90), expected_365: Expected(365),
  expected_order_value: Nullable(Money('Expected spend per purchase day (Gamma-Gamma).')),
  clv: Nullable(Money('Predicted CLV over the horizon: margin, discounted.')),
  historic_clv: Nullable(Money('Revenue × margin.')),
  clv_decile: Nullable(Type.Integer({ minimum: 1, maximum: 10, description: '10: the top tenth by CLV.' })),
  recent_rate_ratio: Nullable(Type.Number()),
  at_risk: Type.Boolean(),
  risk_reasons: Type.Array(RiskReasonSchema),
  value_at_risk: Money('The money at risk (at-risk list).'),
}, { $id: 'AnalyticsMemberScore', description: 'A member\'s row of a run.' });

export const MembersQuery = Obj({
  ...PageQuery,
  run_id: Type.Optional(Uuid({ description: 'A succeeded run; default the latest.' })),
  segment: Type.Optional(Segment),
  at_risk: Type.Optional(Type.Boolean({ description: 'Only members on (true) or off (false) the at-risk list.' })),
});

export const MembersCsvQuery = Obj({
  run_id: Type.Optional(Uuid({ description: 'A succeeded run; default the latest.' })),
  segment: Type.Optional(Segment),
  at_risk: Type.Optional(Type.Boolean()),
});

export const MembersPage = Type.Object({
  run_id: Uuid(),
  as_of: Day('The run\'s day.'),
  currency: Type.String(),
  data: Type.Array(Type.Ref(MemberScore)),
  next_cursor: Nullable(Type.String({ description: 'Pass as `cursor` to get the next page; null on the last page.' })),
}, { $id: 'AnalyticsMembersPage', description: 'A page of a run\'s members, in member id order.' });

export const MemberAnalytics = Type.Object({
  member_id: Uuid(),
  run_id: Uuid(),
  as_of: Day('The published run\'s day.'),
  computed_at: Timestamp(),
  currency: Type.String(),
  r_score: Nullable(Type.Integer()), f_score: Nullable(Type.Integer()), m_score: Nullable(Type.Integer()),
  segment: Nullable(Segment),
  p_alive: Nullable(Type.Number()),
  expected_365: Nullable(Type.Number()),
  clv: Nullable(Money('Predicted CLV.')),
  clv_decile: Nullable(Type.Integer()),
  at_risk: Type.Boolean(),
  risk_reasons: Type.Array(RiskReasonSchema),
  value_at_risk: Money('The money at risk.'),
}, { $id: 'MemberAnalytics', description: 'A member\'s current analytics: their row of the published run (the newest as_of).' });

/** The envelope of a stored result document, `data` being the view's schema. */
export function resultEnvelope(id: string, data: TSchema, description: string): TObject {
  return Type.Object({
    run_id: Uuid(),
    as_of: Day('The run\'s day.'),
    computed_at: Nullable(Timestamp({ description: 'When the run finished.' })),
    data,
  }, { $id: id, description });
}
