-- Issue 4, part 1: program settings, earn rules stored as versioned data, and
-- the counters behind rule caps and event-rule limits.

-- One row per tenant, created on the first change: a tenant without a row has
-- the defaults of src/modules/programs/programs.types.ts (DEFAULT_SETTINGS),
-- which is the one place they are written down. The currency and time zone are
-- the tenant's own (tenants.default_currency, tenants.time_zone).
CREATE TABLE programs (
  tenant_id                   uuid          PRIMARY KEY REFERENCES tenants (id),
  points_value_points         bigint        NOT NULL CHECK (points_value_points > 0),
  points_value_amount         bigint        NOT NULL CHECK (points_value_amount > 0),
  point_cost_points           bigint        NOT NULL CHECK (point_cost_points > 0),
  point_cost_amount           bigint        NOT NULL CHECK (point_cost_amount >= 0),
  default_margin_percent      numeric(5, 2) NOT NULL CHECK (default_margin_percent BETWEEN 0 AND 100),
  pending_days                integer       NOT NULL CHECK (pending_days BETWEEN 0 AND 365),
  -- {"kind": "never"} | {"kind": "after_earning", "months", "days"} | {"kind": "end_of_period", "period", "plus"} | {"kind": "inactivity", "months"}
  expiry                      jsonb         NOT NULL CHECK (expiry ->> 'kind' IN ('never', 'after_earning', 'end_of_period', 'inactivity')),
  negative_balance            text          NOT NULL CHECK (negative_balance IN ('allow', 'debt')),
  enrol_unknown_customers     boolean       NOT NULL,
  excluded_categories         text[]        NOT NULL,
  non_earning_payment_methods text[]        NOT NULL,
  hold_minutes                integer       NOT NULL CHECK (hold_minutes BETWEEN 1 AND 10080),
  -- NULL while the row only holds the defaults (it is created before the first change, to lock it).
  updated_at                  timestamptz
);

-- An earn rule: its identity and current state. What the rule says lives in
-- its versions; `kind` never changes, `event` and `name` follow the current version.
CREATE TABLE earn_rules (
  tenant_id       uuid        NOT NULL REFERENCES tenants (id),
  id              uuid        NOT NULL,
  kind            text        NOT NULL CHECK (kind IN ('base', 'multiplier', 'bonus', 'event')),
  event           text        CHECK ((kind = 'event') = (event IS NOT NULL)),
  name            text        NOT NULL,
  current_version integer     NOT NULL CHECK (current_version >= 1),
  archived_at     timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX earn_rules_kind ON earn_rules (tenant_id, kind, event, id);

-- Every version of a rule, as the engine takes it (`definition` includes id and
-- version). A version is in force from effective_from (inclusive; NULL = since
-- always: the first version of a rule also judges historical imports and late
-- orders) until effective_until (exclusive; NULL = still in force). A change
-- closes the current version at that moment and opens the next one; an archive
-- only closes it. Versions are never deleted: a return re-evaluates its order
-- with the versions that earned it.
CREATE TABLE earn_rule_versions (
  tenant_id       uuid        NOT NULL,
  rule_id         uuid        NOT NULL,
  version         integer     NOT NULL CHECK (version >= 1),
  kind            text        NOT NULL CHECK (kind IN ('base', 'multiplier', 'bonus', 'event')),
  event           text,
  definition      jsonb       NOT NULL,
  effective_from  timestamptz,
  effective_until timestamptz,
  created_at      timestamptz NOT NULL,
  created_by      text,
  PRIMARY KEY (tenant_id, rule_id, version),
  FOREIGN KEY (tenant_id, rule_id) REFERENCES earn_rules (tenant_id, id),
  CHECK (effective_from IS NULL OR effective_until IS NULL OR effective_from <= effective_until)
);
-- The hot-path lookups: the transaction rules, or one event's rules, in force at a time.
CREATE INDEX earn_rule_versions_in_force ON earn_rule_versions (tenant_id, kind, event, effective_until);

-- Counters behind caps and event limits, per rule, member and period:
--   'd:YYYY-MM-DD', 'w:YYYY-Www', 'm:YYYY-MM', 'y:YYYY', 'ever' (in the tenant's time zone);
-- a rule's total across all members is the row of member 00000000-0000-0000-0000-000000000000,
-- period 'total' (not a member: no foreign key to members).
CREATE TABLE rule_usage (
  tenant_id uuid   NOT NULL,
  rule_id   uuid   NOT NULL,
  member_id uuid   NOT NULL,
  period    text   NOT NULL,
  points    bigint NOT NULL DEFAULT 0,
  count     bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, rule_id, member_id, period),
  FOREIGN KEY (tenant_id, rule_id) REFERENCES earn_rules (tenant_id, id)
);
