/**
 * The analytics module's contract: its settings, the scope a run computes in, the stages of a run and the shapes of
 * the results it stores. The submodules (behaviour, cohorts, economics, experience, at-risk, simulator) and the run
 * pipeline (analytics.runs.ts) meet here and nowhere else.
 *
 * The analytics module is Patron's reporting side: it READS the tables of the modules it reports on (transactions,
 * members, ledger, tiers, campaigns, surveys, cases) with set-based SQL and never writes them; it writes only its own
 * tables (migrations/0017_analytics.sql). docs/analytics.md defines every figure.
 */
import type { Queryable } from '../../platform/db/db.js';

/** Per-tenant settings (analytics_settings.settings; no row: DEFAULT_ANALYTICS_SETTINGS). */
export interface AnalyticsSettings {
  churn: {
    /**
     * When a customer counts as lost (domain.md §2): 'median_gap' — no purchase within gap_multiple × the tenant-wide
     * median days between purchases; 'fixed_days' — no purchase within `days`; 'p_alive' — the model's P(alive) below
     * p_alive_below (falls back to 'median_gap' where no model could be fitted).
     */
    rule: 'median_gap' | 'fixed_days' | 'p_alive';
    gap_multiple: number;
    days: number | null;
    p_alive_below: number;
  };
  clv: {
    /** Gross margin as a fraction of revenue (0 < margin <= 1). */
    margin: number;
    /** Annual discount rate (0 <= d < 1). */
    annual_discount_rate: number;
    /** The CLV horizon in months. */
    horizon_months: number;
    /** The unit the models are fitted in. */
    time_unit: 'day' | 'week';
    /** L2 penalty on the BG/NBD log-parameters (0: plain maximum likelihood). */
    l2_penalty: number;
  };
  at_risk: {
    /** Only members in this CLV decile or above (10 = the top tenth) are candidates. */
    min_clv_decile: number;
    /** Reason 'low_p_alive': P(alive) below this. */
    p_alive_below: number;
    /** Reason 'falling_rate': purchase days in the last recent_days below rate_ratio_below × what the member's own repeat rate before that window expects (docs/analytics/at-risk.md). */
    rate_ratio_below: number;
    recent_days: number;
    /** Reasons 'detractor' and 'breached_case' look back this many days. */
    lookback_days: number;
  };
  /** Queue a run every night (03:00 in the tenant's time zone) for the day before. */
  nightly: boolean;
  /** Runs (and their per-member rows) older than this are deleted by the nightly purge; published runs are kept. */
  keep_runs_days: number;
}

export const DEFAULT_ANALYTICS_SETTINGS: AnalyticsSettings = {
  churn: { rule: 'median_gap', gap_multiple: 2, days: null, p_alive_below: 0.3 },
  clv: { margin: 0.3, annual_discount_rate: 0.1, horizon_months: 12, time_unit: 'week', l2_penalty: 0 },
  at_risk: { min_clv_decile: 8, p_alive_below: 0.5, rate_ratio_below: 0.5, recent_days: 90, lookback_days: 180 },
  nightly: true,
  keep_runs_days: 400,
};

/**
 * Where and as of when a run computes. `asOf` is a calendar day in the tenant's time zone; the run includes the
 * orders whose occurred_at is before `end` (the first instant of the next day there).
 */
export interface RunScope {
  tenantId: string;
  runId: string;
  /** YYYY-MM-DD, tenant's time zone. */
  asOf: string;
  /** Exclusive upper bound: the start of the day after asOf in the tenant's time zone. */
  end: Date;
  timeZone: string;
  /** The program currency; money figures are minor units of it. Orders in another currency are left out of money. */
  currency: string;
  /** Minor units per major unit of `currency` (100 for EUR/USD, 1 for JPY). */
  minorPerMajor: number;
  settings: AnalyticsSettings;
}

/** The stages of a run, in order; progress names them. */
export const RUN_STAGES = ['summary', 'rfm', 'cohorts', 'bgnbd', 'gamma_gamma', 'scoring', 'at_risk', 'economics', 'experience', 'publish'] as const;
export type RunStage = (typeof RUN_STAGES)[number];

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** A stage a submodule contributes: computes from the run's member rows and other modules' tables. */
export type StageFn<T> = (q: Queryable, scope: RunScope) => Promise<T>;

/** The RFM segment names of domain.md §2, as stored (snake_case) and as shown. */
export const RFM_SEGMENTS = {
  champions: 'Champions',
  loyal: 'Loyal',
  potential_loyalists: 'Potential loyalists',
  new_customers: 'New customers',
  promising: 'Promising',
  need_attention: 'Need attention',
  about_to_sleep: 'About to sleep',
  at_risk: 'At risk',
  cant_lose_them: "Can't lose them",
  hibernating: 'Hibernating',
  lost: 'Lost',
} as const;
export type RfmSegment = keyof typeof RFM_SEGMENTS;

/** The reasons a member is on the at-risk list (docs/analytics.md → At risk). */
export type RiskReason = 'low_p_alive' | 'detractor' | 'breached_case' | 'falling_rate';

/** analytics_results kinds. */
export type ResultKind = 'rfm' | 'cohorts' | 'economics' | 'experience' | 'at_risk';

/**
 * A stage a submodule plugs into the run pipeline (analytics.runs.ts), in the composition root. The pipeline runs
 * the stages in RUN_STAGES order inside the run's job; when `kind` is given the stage's return value is stored as
 * that result document (analytics_results) of the run.
 */
export interface StageRegistration {
  stage: RunStage;
  kind?: ResultKind;
  run: StageFn<unknown>;
}

/**
 * A stored result document served by GET `path` (`?run_id=`, default the newest succeeded run), e.g. the cohort
 * matrix at /v1/analytics/cohorts. `schema` is the TypeBox schema of `data` (it goes into the OpenAPI document).
 */
export interface ResultView {
  kind: ResultKind;
  path: string;
  summary: string;
  schema: import('@sinclair/typebox').TSchema;
}

/** A problem a run met that did not fail it (a model that could not be fitted, a stage's caveat). */
export interface RunWarning {
  stage: RunStage;
  /** Machine-readable: 'too_few_customers', 'dropout_not_identified', 'fit_failed', … */
  code: string;
  message: string;
}

/** What a run found (analytics_runs.summary), written by the core stages; other stages read it from the run. */
export interface RunSummary {
  /** Members with at least one counted order up to as_of: the members the run scored. */
  members: number;
  /** Of those, members with two or more purchase days (a repeat purchase occasion). */
  repeaters: number;
  /** Counted orders (purchases, recorded, not wholly returned) of members up to as_of. */
  orders: number;
  /** Their revenue net of returns, minor units of the run's currency. */
  revenue: number;
  /**
   * Tenant-wide median days between consecutive purchase days of a member (null when no member has two purchase
   * days): the default churn rule ('median_gap') counts a customer as lost after gap_multiple × this many days.
   */
  median_gap_days: number | null;
  /** The tenant's time zone the run's days were counted in. */
  time_zone: string;
  warnings: RunWarning[];
}

export type StageStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

/** One stage in a run's progress; `skipped`: no module provides that stage in this installation. */
export interface StageProgress {
  name: RunStage;
  status: StageStatus;
  started_at: string | null;
  finished_at: string | null;
  ms: number | null;
  /** Rows the stage wrote or read (members scored, customers fitted …); null when the stage does not say. */
  rows: number | null;
}

/** analytics_runs.progress: the stage running now, stages finished of those that run, and every stage's timing. */
export interface RunProgress {
  stage: RunStage | null;
  done: number;
  total: number;
  /** Executions started; a run interrupted by a crash is started again from its first stage, up to a limit. */
  attempts: number;
  stages: StageProgress[];
}
