-- Campaigns: time-boxed promotions (double points, a category bonus, an action bonus) with a budget that is never
-- exceeded, limits per member, and a control group held out deterministically so that the lift can be measured.
-- docs/program/campaigns.md.

CREATE TABLE campaigns (
  tenant_id            uuid        NOT NULL,
  id                   uuid        NOT NULL,
  name                 text        NOT NULL,
  description          text,
  -- extra_stamp is named here so that enabling it with the stamp cards needs no migration; the service decides
  -- which kinds it accepts.
  kind                 text        NOT NULL CHECK (kind IN ('points_multiplier', 'category_bonus', 'action_bonus', 'extra_stamp')),
  config               jsonb       NOT NULL,          -- the kind's parameters (multiplier, categories, event name, …)
  starts_at            timestamptz NOT NULL,
  ends_at              timestamptz NOT NULL,
  status               text        NOT NULL CHECK (status IN ('draft', 'scheduled', 'running', 'budget_exhausted', 'ended', 'cancelled')),
  -- Conditions on the order (or event) and on the member; NULL: no condition.
  min_basket           bigint      CHECK (min_basket >= 0),
  channels             text[],
  days_of_week         smallint[],                    -- 1 = Monday … 7 = Sunday, in the tenant's time zone
  audience             jsonb,                         -- JSON Logic over the member's tier and attributes
  tier_codes           text[],
  -- The budget in points, or in money converted to points at the program's points_value when launched
  -- (budget_points is then the cap awards take from; campaign_budgets keeps what is spent).
  budget_points        bigint      CHECK (budget_points > 0),
  budget_money         bigint      CHECK (budget_money > 0),
  budget_currency      char(3),
  max_awards_per_member integer    CHECK (max_awards_per_member > 0),
  max_points_per_member bigint     CHECK (max_points_per_member > 0),
  control_share        numeric(5,4) NOT NULL DEFAULT 0 CHECK (control_share >= 0 AND control_share <= 0.5),
  baseline_days        integer     NOT NULL DEFAULT 90 CHECK (baseline_days BETWEEN 1 AND 730),
  -- What the target group did before launch, per group; written by the campaigns.launch job.
  baseline             jsonb,
  -- When the campaigns.launch job finished assigning the whole eligible base (NULL: still to do).
  base_assigned_at     timestamptz,
  launched_at          timestamptz,
  started_at           timestamptz,
  ended_at             timestamptz,
  cancelled_at         timestamptz,
  created_by           text,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  CHECK (ends_at > starts_at),
  -- A money budget gets its points at launch; before that a draft has one or the other.
  CHECK (budget_points IS NULL OR budget_money IS NULL OR launched_at IS NOT NULL),
  CHECK ((budget_money IS NULL) = (budget_currency IS NULL))
);
-- The jobs' work lists: campaigns to start or end, launched campaigns whose base is not assigned yet.
CREATE INDEX campaigns_due ON campaigns (tenant_id, status, ends_at) WHERE status IN ('scheduled', 'running', 'budget_exhausted');
CREATE INDEX campaigns_to_assign ON campaigns (tenant_id, launched_at) WHERE launched_at IS NOT NULL AND base_assigned_at IS NULL;

-- One row per launched campaign with a budget, apart from the campaign so that awarding (which locks this row
-- until the order commits) never waits for an edit of the campaign and the other way round. spent never exceeds
-- budget: awards take from it under the row lock, cut to what is left.
CREATE TABLE campaign_budgets (
  tenant_id     uuid        NOT NULL,
  campaign_id   uuid        NOT NULL,
  budget        bigint      NOT NULL CHECK (budget > 0),
  spent         bigint      NOT NULL DEFAULT 0,
  exhausted_at  timestamptz,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, campaign_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id),
  CHECK (spent >= 0 AND spent <= budget)
);

-- Who is in the campaign and in which group: recorded for the eligible base at launch and for every eligible
-- member first seen on an order or event during the campaign. The group is a hash of campaign and member, so a
-- member is in the same group however and whenever they are recorded.
CREATE TABLE campaign_members (
  tenant_id     uuid        NOT NULL,
  campaign_id   uuid        NOT NULL,
  member_id     uuid        NOT NULL,
  grp           text        NOT NULL CHECK (grp IN ('treatment', 'control')),
  assigned_at   timestamptz NOT NULL,
  first_seen_at timestamptz,                       -- the first order or event of the member the campaign judged
  awards        integer     NOT NULL DEFAULT 0,    -- awards that still keep points (for max_awards_per_member)
  points        bigint      NOT NULL DEFAULT 0,    -- points the member's awards still keep (max_points_per_member)
  PRIMARY KEY (tenant_id, campaign_id, member_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX campaign_members_group ON campaign_members (tenant_id, campaign_id, grp, member_id);
-- A member's campaigns (GDPR export).
CREATE INDEX campaign_members_member ON campaign_members (tenant_id, member_id);

-- What the campaign did with each qualifying order or event of an eligible member: granted points (perhaps cut by
-- the budget or a member limit), held the member out (control group: what they would have got is kept for the
-- lift), or gave nothing (limit reached, budget exhausted).
CREATE TABLE campaign_awards (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,               -- also the ledger entries' transaction_id: the award's own lots
  campaign_id   uuid        NOT NULL,
  member_id     uuid        NOT NULL,
  source_type   text        NOT NULL CHECK (source_type IN ('transaction', 'event')),
  source_id     uuid        NOT NULL,               -- the purchase or the event
  outcome       text        NOT NULL CHECK (outcome IN ('granted', 'held_out', 'member_limit', 'budget_exhausted')),
  wanted        bigint      NOT NULL CHECK (wanted > 0),   -- what the campaign would give, before limits and budget
  points        bigint      NOT NULL DEFAULT 0 CHECK (points >= 0),  -- what it gave
  kept          bigint      NOT NULL DEFAULT 0 CHECK (kept >= 0 AND kept <= points),  -- after returns and voids
  cut_by        text        CHECK (cut_by IN ('budget', 'member_limit')),
  activates_at  timestamptz,                        -- the lot's dates, for points given back by a voided return
  expires_at    timestamptz,
  occurred_at   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, campaign_id, source_type, source_id),
  FOREIGN KEY (tenant_id, campaign_id) REFERENCES campaigns (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
-- A return or void finds the awards of its purchase.
CREATE INDEX campaign_awards_source ON campaign_awards (tenant_id, source_id);
CREATE INDEX campaign_awards_campaign ON campaign_awards (tenant_id, campaign_id, id);
CREATE INDEX campaign_awards_member ON campaign_awards (tenant_id, member_id, id);
