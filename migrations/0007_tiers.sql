-- Tiers (issue 5, item 1; docs/program/tiers.md): ordered levels per tenant, the program's tier settings, each
-- member's tier state and its history, the watermarks of the re-evaluation job, and re-evaluation reports.
-- Qualification figures are not stored: they are computed from the ledger (activated earned points) and the
-- orders (money spent net of returns, purchases) when a member is judged.

-- One row per tenant once its tier settings are first changed (until then the defaults of tiers.service.ts).
CREATE TABLE tier_settings (
  tenant_id        uuid        NOT NULL,
  metric           text        NOT NULL CHECK (metric IN ('points', 'spend', 'purchases')),
  window_kind      text        NOT NULL CHECK (window_kind IN ('lifetime', 'calendar_year', 'rolling_months')),
  window_months    integer     CHECK (window_months BETWEEN 1 AND 120),
  evaluation       text        NOT NULL CHECK (evaluation IN ('period_end', 'anniversary')),
  downgrade_policy text        NOT NULL CHECK (downgrade_policy IN ('one_level', 'to_qualified')),
  grace_months     integer     NOT NULL DEFAULT 0 CHECK (grace_months BETWEEN 0 AND 24),
  grace_days       integer     NOT NULL DEFAULT 0 CHECK (grace_days BETWEEN 0 AND 366),
  -- Bumped by every change to how members qualify (settings, thresholds, ranks): a re-evaluation report made
  -- under an older version is stale and cannot be applied.
  config_version   integer     NOT NULL DEFAULT 0,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id),
  FOREIGN KEY (tenant_id) REFERENCES tenants (id),
  CHECK ((window_kind = 'rolling_months') = (window_months IS NOT NULL))
);

CREATE TABLE tiers (
  tenant_id       uuid         NOT NULL REFERENCES tenants (id),
  id              uuid         NOT NULL,
  code            text         NOT NULL,
  name            text         NOT NULL,
  names           jsonb        NOT NULL DEFAULT '{}',   -- per locale (en, bg, ru, ro, pl)
  rank            integer      NOT NULL CHECK (rank BETWEEN 1 AND 1000), -- 1 = lowest
  benefits        jsonb        NOT NULL DEFAULT '[]',   -- shown to the member: free delivery, early access, events
  -- Base earn points are multiplied by it (three decimals, so 1.5 is exact; never a float in the engine).
  multiplier      numeric(6,3) NOT NULL DEFAULT 1 CHECK (multiplier >= 1 AND multiplier <= 100),
  invitation_only boolean      NOT NULL DEFAULT false,
  -- In the settings' metric: points, minor units of the program currency, or purchases.
  entry_threshold bigint       NOT NULL CHECK (entry_threshold >= 0),
  keep_threshold  bigint       NOT NULL CHECK (keep_threshold >= 0),
  created_at      timestamptz  NOT NULL,
  updated_at      timestamptz  NOT NULL,
  PRIMARY KEY (tenant_id, id),
  -- Checked at commit, so that one change may swap two tiers' ranks.
  CONSTRAINT tiers_rank UNIQUE (tenant_id, rank) DEFERRABLE INITIALLY DEFERRED,
  CHECK (keep_threshold <= entry_threshold)
);
CREATE UNIQUE INDEX tiers_code ON tiers (tenant_id, code);

-- A member's tier now. No row: the member holds the tenant's base tier (the highest open tier with an entry
-- threshold of 0), or none. The row is also the lock that serialises a member's tier changes.
CREATE TABLE member_tiers (
  tenant_id          uuid        NOT NULL,
  member_id          uuid        NOT NULL,
  tier_id            uuid,                               -- null: no tier
  source             text        NOT NULL CHECK (source IN ('qualified', 'manual', 'invited')),
  since              timestamptz NOT NULL,
  valid_until        timestamptz,                        -- manual or invited: the end of the assignment (null: open-ended)
  next_evaluation_at timestamptz,                        -- qualified: when the keep threshold is next judged
  downgrade_to_id    uuid,                               -- a downgrade decided at an evaluation, waiting out the grace period
  downgrade_to_none  boolean     NOT NULL DEFAULT false, -- ... to no tier at all
  downgrade_at       timestamptz,
  -- The earliest of the dates above: the re-evaluation job's work list.
  due_at             timestamptz GENERATED ALWAYS AS (LEAST(valid_until, next_evaluation_at, downgrade_at)) STORED,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, tier_id) REFERENCES tiers (tenant_id, id),
  FOREIGN KEY (tenant_id, downgrade_to_id) REFERENCES tiers (tenant_id, id),
  CHECK ((downgrade_at IS NULL) = (downgrade_to_id IS NULL AND NOT downgrade_to_none))
);
CREATE INDEX member_tiers_due ON member_tiers (tenant_id, due_at) WHERE due_at IS NOT NULL;
CREATE INDEX member_tiers_tier ON member_tiers (tenant_id, tier_id);

-- Append-only. Codes are copied so the history still reads after a tier is deleted (no foreign key to tiers).
CREATE TABLE tier_history (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  member_id    uuid        NOT NULL,
  from_tier_id uuid,
  from_code    text,
  to_tier_id   uuid,
  to_code      text,
  reason       text        NOT NULL CHECK (reason IN ('upgrade', 'downgrade', 'manual', 'invited', 'assignment_ended', 'reevaluation', 'downgrade_cancelled', 'downgrade_scheduled')),
  source       text        NOT NULL CHECK (source IN ('qualified', 'manual', 'invited')),
  figure       bigint,                                   -- the qualification figure the change was judged on
  details      jsonb,
  at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX tier_history_member ON tier_history (tenant_id, member_id, at, id);

-- How far the re-evaluation job has read the ledger and the orders (UUID v7 ids are time-ordered).
CREATE TABLE tier_scan_cursors (
  tenant_id  uuid        NOT NULL,
  kind       text        NOT NULL CHECK (kind IN ('ledger', 'transactions')),
  last_id    uuid        NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, kind),
  FOREIGN KEY (tenant_id) REFERENCES tenants (id)
);

-- A dry run of proposed tier rules over every member, kept so the marketer can read it and then apply it.
CREATE TABLE tier_reevaluations (
  tenant_id       uuid        NOT NULL,
  id              uuid        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('draft', 'applied', 'discarded')),
  changes         jsonb       NOT NULL,                  -- {settings?: {...}, tiers?: [{id, ...}]}
  config_version  integer     NOT NULL,                  -- the rules' version it was judged against
  summary         jsonb       NOT NULL,
  sample          jsonb       NOT NULL,
  downgrades      text        CHECK (downgrades IN ('now', 'next_evaluation')),
  applied_summary jsonb,
  created_at      timestamptz NOT NULL,
  applied_at      timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id) REFERENCES tenants (id)
);
