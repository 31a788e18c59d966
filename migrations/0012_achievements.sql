-- Achievements (issue 5, docs/program/achievements.md): badge definitions of a tenant, the badges members earned,
-- the facts badges are judged by (kept here, in the module's own tables, rather than read from the orders and
-- events modules), and who takes part in the leaderboard.

CREATE TABLE badges (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  code           text        NOT NULL,               -- the shop's handle for the badge ("first-coffee")
  name           jsonb       NOT NULL,               -- {"en": …, "bg": …}: en always present
  description    jsonb,
  icon_url       text,
  criterion      jsonb       NOT NULL,               -- {"kind": "nth_purchase", "n": 5}, … (achievements.service.ts)
  bonus          jsonb,                              -- a Gift given once, when the badge is earned
  status         text        NOT NULL CHECK (status IN ('active', 'archived')),
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  archived_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, code)
);

-- A badge is earned once per member: the primary key says so, whatever runs at the same time.
CREATE TABLE member_badges (
  tenant_id      uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  badge_id       uuid        NOT NULL,
  earned_at      timestamptz NOT NULL,
  transaction_id uuid,                               -- the purchase that earned it (orders module)
  event_id       uuid,                               -- the event that earned it (events module)
  bonus          jsonb,                              -- what the bonus gift gave (GiftResult)
  PRIMARY KEY (tenant_id, member_id, badge_id),
  FOREIGN KEY (tenant_id, badge_id) REFERENCES badges (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
-- The badges leaderboard counts badges earned in a period.
CREATE INDEX member_badges_earned ON member_badges (tenant_id, earned_at);

-- One row per purchase of a member, as the badges see it: the ISO week of the purchase in the tenant's time zone and
-- the categories bought. A voided purchase stops counting towards badges not yet earned; a return changes nothing.
CREATE TABLE achievement_purchases (
  tenant_id      uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  transaction_id uuid        NOT NULL,
  week           date        NOT NULL,               -- the Monday of the purchase's ISO week, in the tenant's time zone
  categories     text[]      NOT NULL,
  occurred_at    timestamptz NOT NULL,
  voided         boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, member_id, transaction_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);

-- How many events of each name a member has done (event_count badges).
CREATE TABLE achievement_event_counts (
  tenant_id      uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  name           text        NOT NULL,
  count          integer     NOT NULL CHECK (count >= 0),
  PRIMARY KEY (tenant_id, member_id, name),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);

-- Members who chose to appear on the leaderboard; nobody else ever does. Erasure deletes the row.
CREATE TABLE leaderboard_opt_ins (
  tenant_id      uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  opted_in_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
