-- Retention analytics and predictive CLV (issue 7; docs/analytics.md).
--
-- An analytics run computes, as of one day in the tenant's time zone, every member's purchase summary, RFM scores
-- and segment, the BG/NBD and Gamma-Gamma models and each member's predictions, the cohort matrix, the program
-- economics, experience by segment and the at-risk list. SQL aggregates; the models are fitted in TypeScript over
-- the per-member summary. The API answers from these tables, never from a computation at request time (except the
-- behaviour metrics over an arbitrary date range, which are one aggregate over the orders).

-- One document per tenant (AnalyticsSettings in analytics.settings.ts, validated there); no row: the defaults.
CREATE TABLE analytics_settings (
  tenant_id   uuid        NOT NULL,
  settings    jsonb       NOT NULL,
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);

-- A run: queued by POST /v1/analytics/runs or the nightly schedule, executed by the analytics.run job.
CREATE TABLE analytics_runs (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  trigger      text        NOT NULL CHECK (trigger IN ('api', 'schedule', 'demo')),
  -- The last day the run includes (tenant's time zone): orders dated up to and including it.
  as_of        date        NOT NULL,
  -- The settings the run used (a copy: later changes do not rewrite its results).
  settings     jsonb       NOT NULL,
  -- The program currency the money figures are in.
  currency     char(3)     NOT NULL,
  -- {stage, stages: [{name, status, started_at, finished_at, ms, rows}], done, total}
  progress     jsonb       NOT NULL DEFAULT '{}',
  -- What the run found: members, customers, warnings.
  summary      jsonb,
  error        text,
  -- Whether the run's per-member results were copied to member_analytics (the newest as_of wins).
  published    boolean     NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX analytics_runs_latest ON analytics_runs (tenant_id, status, as_of, id);

-- Per run and member: the summary of the member's purchases up to as_of, RFM, the model's predictions, risk.
-- Times are whole days (a model in weeks divides by 7); money is minor units of the run's currency.
-- Derived data written in bulk and deleted with its run, so it has no foreign key to members (member_analytics has).
CREATE TABLE analytics_member_scores (
  tenant_id            uuid     NOT NULL,
  run_id               uuid     NOT NULL,
  member_id            uuid     NOT NULL,
  first_purchase_on    date     NOT NULL,
  last_purchase_on     date     NOT NULL,
  -- Orders (purchases, not voided, not wholly returned) and distinct purchase days (same-day orders are one occasion).
  orders               integer  NOT NULL,
  purchase_days        integer  NOT NULL,
  -- Net of returns.
  revenue              bigint   NOT NULL,
  -- Mean spend of the repeat purchase days (the first day excluded), for Gamma-Gamma; 0 when there are none.
  repeat_day_mean      bigint   NOT NULL DEFAULT 0,
  -- BG/NBD summary in days: x = purchase_days - 1, t_x = last - first, T = as_of - first.
  t_x_days             integer  NOT NULL,
  t_days               integer  NOT NULL,
  recency_days         integer  NOT NULL,
  r_score              smallint,
  f_score              smallint,
  m_score              smallint,
  segment              text,
  p_alive              double precision,
  expected_30          double precision,
  expected_90          double precision,
  expected_365         double precision,
  expected_order_value bigint,
  clv                  bigint,
  historic_clv         bigint,
  clv_decile           smallint,
  -- The member's purchase rate over the last 90 days against the model's expectation (at-risk rule).
  recent_rate_ratio    double precision,
  at_risk              boolean  NOT NULL DEFAULT false,
  -- ['low_p_alive', 'detractor', 'breached_case', 'falling_rate']
  risk_reasons         text[]   NOT NULL DEFAULT '{}',
  value_at_risk        bigint   NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, run_id, member_id)
);
CREATE INDEX analytics_member_scores_segment ON analytics_member_scores (tenant_id, run_id, segment);
CREATE INDEX analytics_member_scores_at_risk ON analytics_member_scores (tenant_id, run_id, value_at_risk DESC) WHERE at_risk;

-- The fitted models of a run: kind 'bgnbd' or 'gamma_gamma'; params in the unit named (money in major units).
CREATE TABLE analytics_models (
  tenant_id       uuid             NOT NULL,
  run_id          uuid             NOT NULL,
  kind            text             NOT NULL CHECK (kind IN ('bgnbd', 'gamma_gamma')),
  time_unit       text             CHECK (time_unit IN ('day', 'week')),
  params          jsonb            NOT NULL,
  log_likelihood  double precision,
  converged       boolean          NOT NULL,
  iterations      integer          NOT NULL,
  customers       integer          NOT NULL,
  warnings        text[]           NOT NULL DEFAULT '{}',
  -- Calibration against the period after as_of when the data has one (predicted vs actual by frequency bin).
  report          jsonb            NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, run_id, kind)
);

-- The aggregate results of a run, one JSON document per kind (cohorts, rfm, economics, experience, behaviour).
CREATE TABLE analytics_results (
  tenant_id   uuid        NOT NULL,
  run_id      uuid        NOT NULL,
  kind        text        NOT NULL,
  data        jsonb       NOT NULL,
  PRIMARY KEY (tenant_id, run_id, kind)
);

-- Each member's current analytics: the per-member row of the newest published run (the newest as_of), with the
-- time it was computed. Campaign audiences, exports and later triggers read segments and risk from here.
CREATE TABLE member_analytics (
  tenant_id     uuid        NOT NULL,
  member_id     uuid        NOT NULL,
  run_id        uuid        NOT NULL,
  as_of         date        NOT NULL,
  computed_at   timestamptz NOT NULL,
  r_score       smallint,
  f_score       smallint,
  m_score       smallint,
  segment       text,
  p_alive       double precision,
  expected_365  double precision,
  clv           bigint,
  clv_decile    smallint,
  at_risk       boolean     NOT NULL DEFAULT false,
  risk_reasons  text[]      NOT NULL DEFAULT '{}',
  value_at_risk bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX member_analytics_segment ON member_analytics (tenant_id, segment);
CREATE INDEX member_analytics_at_risk ON member_analytics (tenant_id, value_at_risk DESC) WHERE at_risk;

-- A what-if simulation: the last N months of real orders replayed through a draft of earn rules, tier thresholds or
-- expiry policy (analytics/simulator), against what happened. Run by the analytics.simulate job.
CREATE TABLE analytics_simulations (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  -- The draft (earn rules, tiers, expiry) and the window replayed.
  draft        jsonb       NOT NULL,
  period_from  date        NOT NULL,
  period_to    date        NOT NULL,
  progress     jsonb       NOT NULL DEFAULT '{}',
  result       jsonb,
  error        text,
  created_at   timestamptz NOT NULL,
  started_at   timestamptz,
  finished_at  timestamptz,
  PRIMARY KEY (tenant_id, id)
);
