-- Stamp cards (issue 5, docs/program/stamp-cards.md): card types of a tenant, each member's cards of a type, and
-- every stamp given or taken as a row, so a card's count can always be explained.
-- Every write for a member first locks the member's points (ledger.open), so a member's stamps change one write
-- at a time; the counts on stamp_cards are updated in the same transaction as their stamp_events.

CREATE TABLE stamp_card_types (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  name           jsonb       NOT NULL,               -- {"en": …, "bg": …}: en always present
  description    jsonb,
  stamps_needed  integer     NOT NULL CHECK (stamps_needed BETWEEN 1 AND 1000),
  stamp_on       text        NOT NULL CHECK (stamp_on IN ('purchase', 'visit')),
  stamps_per     text        NOT NULL CHECK (stamps_per IN ('purchase', 'unit')),
  stamps_each    integer     NOT NULL CHECK (stamps_each BETWEEN 1 AND 100),
  min_amount     bigint      CHECK (min_amount > 0), -- minor units of the program currency (orders are in it)
  skus           text[],                             -- NULL: any product
  categories     text[],                             -- NULL: any category
  reward         jsonb       NOT NULL,               -- a Gift (rewards.gift.ts): points, reward_id and/or credit
  valid_from     timestamptz,
  valid_until    timestamptz,
  status         text        NOT NULL CHECK (status IN ('active', 'archived')),
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  archived_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK (valid_until IS NULL OR valid_from IS NULL OR valid_until > valid_from)
);
-- The order hook reads the active types of a tenant on every purchase.
CREATE INDEX stamp_card_types_active ON stamp_card_types (tenant_id, id) WHERE status = 'active';

-- A member's cards of a type: number 1, 2, 3 … in order; at most one open card per type and member.
CREATE TABLE stamp_cards (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  type_id        uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  number         integer     NOT NULL CHECK (number >= 1),
  -- Taken from the type when the card starts, so a later change of the type never moves a card's goal.
  stamps_needed  integer     NOT NULL CHECK (stamps_needed >= 1),
  -- Negative when stamps of an already rewarded card were taken back by a return (the next stamps fill the hole).
  stamps         integer     NOT NULL,
  status         text        NOT NULL CHECK (status IN ('open', 'completed')),
  started_at     timestamptz NOT NULL,
  completed_at   timestamptz,
  reward         jsonb,                              -- completed: what the gift gave (GiftResult)
  updated_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, type_id, member_id, number),
  FOREIGN KEY (tenant_id, type_id) REFERENCES stamp_card_types (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  CHECK (status = 'open' OR (stamps >= stamps_needed AND completed_at IS NOT NULL)),
  CHECK (status = 'completed' OR stamps < stamps_needed)
);
CREATE UNIQUE INDEX stamp_cards_open ON stamp_cards (tenant_id, type_id, member_id) WHERE status = 'open';
CREATE INDEX stamp_cards_member ON stamp_cards (tenant_id, member_id, type_id, number);

-- Every stamp given (+n) or taken (-n). A stamp row belongs to the card it was put on.
CREATE TABLE stamp_events (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  card_id        uuid        NOT NULL,
  type_id        uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  stamps         integer     NOT NULL CHECK (stamps <> 0),
  kind           text        NOT NULL CHECK (kind IN ('purchase', 'visit', 'return', 'void', 'manual')),
  transaction_id uuid,                               -- the order (purchase, return or void) that caused it
  event_id       uuid,                               -- the visit event that caused it
  visit_day      date,                               -- visit stamps: the tenant-local day of the visit
  reason         text,
  actor          text,
  occurred_at    timestamptz NOT NULL,               -- business time (the order's or the event's)
  created_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, card_id) REFERENCES stamp_cards (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX stamp_events_member ON stamp_events (tenant_id, member_id, id);
-- At most one visit stamp a day per card type: the day's visit rows are looked up under the member's lock.
CREATE INDEX stamp_events_visit ON stamp_events (tenant_id, member_id, type_id, visit_day) WHERE visit_day IS NOT NULL;

-- What each purchase is owed on each card type, so its returns and voids take back exactly what it gave and no more.
CREATE TABLE stamp_purchases (
  tenant_id        uuid      NOT NULL,
  type_id          uuid      NOT NULL,
  transaction_id   uuid      NOT NULL,               -- the purchase (transactions is the orders module's table)
  member_id        uuid      NOT NULL,
  units            integer   NOT NULL CHECK (units >= 0),          -- qualifying units bought
  returned_units   integer   NOT NULL DEFAULT 0 CHECK (returned_units >= 0),
  stamps           integer   NOT NULL CHECK (stamps >= 0),         -- stamps the purchase holds now
  visit_day        date,                                         -- visit cards: the day the purchase was the visit of
  PRIMARY KEY (tenant_id, type_id, transaction_id),
  FOREIGN KEY (tenant_id, type_id) REFERENCES stamp_card_types (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX stamp_purchases_transaction ON stamp_purchases (tenant_id, transaction_id);
