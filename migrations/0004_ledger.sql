-- The points ledger, orders, action events, redemptions and checkout holds
-- (issue 4; docs/ledger.md explains the model).
--
-- Invariants, checked by the property test (src/modules/ledger/ledger.property.test.ts):
--  * per member: sum(ledger_entries.points) = available + pending + held, and
--    sum(ledger_entries.pending_points) = pending;
--  * per lot: amount - remaining = sum(lot_allocations.points), 0 <= remaining <= amount;
--  * available >= 0 unless the program allows a negative balance.
-- Every change to a member's points first locks that member's member_balances
-- row, so concurrent writes for one member are serialised and never deadlock.

-- ── Ledger ────────────────────────────────────────────────────────────────
CREATE TABLE member_balances (
  tenant_id        uuid        NOT NULL,
  member_id        uuid        NOT NULL,
  available        bigint      NOT NULL DEFAULT 0,   -- spendable now (negative only under the 'allow' policy)
  pending          bigint      NOT NULL DEFAULT 0 CHECK (pending >= 0),
  held             bigint      NOT NULL DEFAULT 0 CHECK (held >= 0),
  lifetime_earned  bigint      NOT NULL DEFAULT 0,
  redeemed         bigint      NOT NULL DEFAULT 0,
  expired          bigint      NOT NULL DEFAULT 0,
  debt             bigint      NOT NULL DEFAULT 0 CHECK (debt >= 0), -- claw-back the member could not cover ('debt' policy)
  last_activity_at timestamptz,
  updated_at       timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
-- The inactivity-expiry job's lookup: members holding points, by last activity.
CREATE INDEX member_balances_inactive ON member_balances (tenant_id, last_activity_at) WHERE available > 0;

CREATE TABLE ledger_entries (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,               -- UUID v7: time-ordered, the ledger's page key
  member_id      uuid        NOT NULL,
  type           text        NOT NULL CHECK (type IN ('earn', 'activate', 'redeem', 'redemption_cancel', 'expire', 'adjust', 'claw_back', 'reverse', 'debt_repay')),
  points         bigint      NOT NULL,               -- signed change of available + pending + held
  pending_points bigint      NOT NULL DEFAULT 0,     -- signed change of the pending part
  reason         text,
  source_type    text        NOT NULL CHECK (source_type IN ('transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system')),
  source_id      text,
  transaction_id uuid,
  actor          text,
  details        jsonb,
  occurred_at    timestamptz NOT NULL,               -- business time (an order's occurred_at)
  created_at     timestamptz NOT NULL,               -- when Patron recorded it
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX ledger_entries_member ON ledger_entries (tenant_id, member_id, id);

CREATE TABLE point_lots (
  tenant_id      uuid        NOT NULL,
  id             uuid        NOT NULL,
  member_id      uuid        NOT NULL,
  entry_id       uuid        NOT NULL,               -- the entry that created the points
  transaction_id uuid,                               -- the order that earned them, for claw-back from own lots first
  amount         bigint      NOT NULL CHECK (amount > 0),
  remaining      bigint      NOT NULL,
  state          text        NOT NULL CHECK (state IN ('pending', 'active', 'spent', 'expired', 'cancelled')),
  earned_at      timestamptz NOT NULL,
  activates_at   timestamptz,                        -- end of the pending period (pending lots)
  expires_at     timestamptz,                        -- NULL: never, or the inactivity policy
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, entry_id) REFERENCES ledger_entries (tenant_id, id),
  CHECK (remaining >= 0 AND remaining <= amount)
);
-- Spending order (oldest expiry first) over the lots that still hold points.
CREATE INDEX point_lots_spendable ON point_lots (tenant_id, member_id, expires_at, earned_at) WHERE remaining > 0;
CREATE INDEX point_lots_transaction ON point_lots (tenant_id, transaction_id) WHERE transaction_id IS NOT NULL;
-- The scheduled jobs' work lists.
CREATE INDEX point_lots_expiry_due ON point_lots (tenant_id, expires_at) WHERE state = 'active' AND remaining > 0 AND expires_at IS NOT NULL;
CREATE INDEX point_lots_activation_due ON point_lots (tenant_id, activates_at) WHERE state = 'pending';

-- Holds reserve points for a checkout; capture turns them into a redemption.
CREATE TABLE holds (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  member_id     uuid        NOT NULL,
  points        bigint      NOT NULL CHECK (points > 0),
  order_ref     text,
  status        text        NOT NULL CHECK (status IN ('held', 'captured', 'released', 'expired')),
  expires_at    timestamptz NOT NULL,
  captured_points bigint,
  redemption_id uuid,
  created_at    timestamptz NOT NULL,
  closed_at     timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX holds_member ON holds (tenant_id, member_id, id);
CREATE INDEX holds_due ON holds (tenant_id, expires_at) WHERE status = 'held';

-- Which lots an entry (or a hold) consumed. Append-only: giving points back
-- to a lot (a cancelled redemption, a released hold) is a negative row.
CREATE TABLE lot_allocations (
  tenant_id  uuid        NOT NULL,
  id         bigint      GENERATED ALWAYS AS IDENTITY,
  lot_id     uuid        NOT NULL,
  member_id  uuid        NOT NULL,
  entry_id   uuid,
  hold_id    uuid,
  points     bigint      NOT NULL CHECK (points <> 0),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, lot_id) REFERENCES point_lots (tenant_id, id),
  FOREIGN KEY (tenant_id, entry_id) REFERENCES ledger_entries (tenant_id, id),
  FOREIGN KEY (tenant_id, hold_id) REFERENCES holds (tenant_id, id),
  CHECK ((entry_id IS NULL) <> (hold_id IS NULL))
);
CREATE INDEX lot_allocations_lot ON lot_allocations (tenant_id, lot_id);
CREATE INDEX lot_allocations_entry ON lot_allocations (tenant_id, entry_id) WHERE entry_id IS NOT NULL;
CREATE INDEX lot_allocations_hold ON lot_allocations (tenant_id, hold_id) WHERE hold_id IS NOT NULL;

-- ── Orders ────────────────────────────────────────────────────────────────
CREATE TABLE transactions (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  external_id      text        NOT NULL,
  type             text        NOT NULL CHECK (type IN ('purchase', 'return')),
  status           text        NOT NULL CHECK (status IN ('recorded', 'voided')),
  member_id        uuid,
  customer_ref     text,
  original_id      uuid,                             -- a return's purchase
  occurred_at      timestamptz NOT NULL,
  currency         char(3)     NOT NULL,
  total            bigint      NOT NULL CHECK (total >= 0),
  lines            jsonb,
  channel          text,
  store_id         text,
  payments         jsonb,
  body_digest      text        NOT NULL,             -- a re-sent order with another body is a 409
  points           bigint      NOT NULL DEFAULT 0,   -- what this order changed: earned (purchase) or clawed back (return, negative)
  -- Purchase: what it earned per rule and still keeps after returns, and the
  -- context it was judged in, so a return is recomputed by the same rules.
  earning          jsonb,
  returned_total   bigint      NOT NULL DEFAULT 0,   -- purchase: sum of its returns' totals
  source           text        NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'import')),
  created_at       timestamptz NOT NULL,
  voided_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, original_id) REFERENCES transactions (tenant_id, id)
);
CREATE UNIQUE INDEX transactions_external_id ON transactions (tenant_id, external_id);
CREATE INDEX transactions_member ON transactions (tenant_id, member_id, occurred_at) WHERE member_id IS NOT NULL;
CREATE INDEX transactions_original ON transactions (tenant_id, original_id) WHERE original_id IS NOT NULL;
CREATE INDEX transactions_occurred ON transactions (tenant_id, occurred_at);

-- ── Action events (sign-up, review written, …) ───────────────────────────
CREATE TABLE member_events (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  external_id text,
  member_id   uuid        NOT NULL,
  name        text        NOT NULL,
  properties  jsonb       NOT NULL DEFAULT '{}',
  occurred_at timestamptz NOT NULL,
  points      bigint      NOT NULL DEFAULT 0,
  explanation jsonb       NOT NULL DEFAULT '[]',
  body_digest text        NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE UNIQUE INDEX member_events_external_id ON member_events (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX member_events_member ON member_events (tenant_id, member_id, id);

-- ── Redemptions ───────────────────────────────────────────────────────────
CREATE TABLE redemptions (
  tenant_id    uuid        NOT NULL,
  id           uuid        NOT NULL,
  member_id    uuid        NOT NULL,
  points       bigint      NOT NULL CHECK (points > 0),
  reward_ref   text,                                 -- the rewards catalog (a later issue) fills this in
  reason       text,
  order_ref    text,
  value_amount bigint      NOT NULL,                 -- worth at the program's points-to-money rate, minor units
  currency     char(3)     NOT NULL,
  status       text        NOT NULL CHECK (status IN ('completed', 'cancelled')),
  entry_id     uuid        NOT NULL,
  hold_id      uuid,
  created_at   timestamptz NOT NULL,
  cancelled_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, entry_id) REFERENCES ledger_entries (tenant_id, id)
);
CREATE INDEX redemptions_member ON redemptions (tenant_id, member_id, id);
