-- The rewards catalog (issue 5, docs/program/rewards.md): rewards with a points price, what members redeemed them
-- for, and the draws of sweepstakes.
--
-- Concurrency: a redemption first locks the member's points (member_balances, through the ledger), then takes stock
-- or a seat with one conditional UPDATE of the reward row (`stock >= n`, `seats_taken < capacity`), so stock is never
-- oversold and the locks are always taken in the order member, then reward.

CREATE TABLE rewards (
  tenant_id         uuid        NOT NULL,
  id                uuid        NOT NULL,
  kind              text        NOT NULL CHECK (kind IN (
                                  'fixed_amount', 'percentage', 'free_product', 'cashback', 'gift_card',
                                  'early_access', 'event_invitation', 'physical_gift', 'sweepstakes', 'donation')),
  status            text        NOT NULL CHECK (status IN ('active', 'archived')),
  -- Localised texts: {"en": "…", "bg": "…", …}; en is always there (the fallback for the other locales).
  name              jsonb       NOT NULL CHECK (jsonb_typeof(name) = 'object' AND name ? 'en'),
  description       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(description) = 'object'),
  image_url         text,
  points            bigint      NOT NULL CHECK (points >= 0),
  -- Price by tier code ({"gold": 80}); tier codes are the tiers module's (no foreign key: built in parallel).
  tier_prices       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tier_prices) = 'object'),
  -- Reserved for these tier codes; NULL = every member.
  tiers             text[],
  -- A JSON Logic condition over the member's tier and attributes (rules.validation.ts inAudience); NULL = everyone.
  audience          jsonb,
  available_from    timestamptz,
  available_until   timestamptz,
  -- Units left; NULL = unlimited. Decremented by a conditional UPDATE, never below zero.
  stock             bigint      CHECK (stock >= 0),
  redeemed_count    bigint      NOT NULL DEFAULT 0 CHECK (redeemed_count >= 0),
  limit_per_member  integer     CHECK (limit_per_member > 0),
  limit_count       integer     CHECK (limit_count > 0),
  limit_period      text        CHECK (limit_period IN ('day', 'week', 'month', 'year')),
  -- What the kind needs (voucher terms, cashback amount, event details, …), as the API shows it.
  settings          jsonb       NOT NULL DEFAULT '{}',
  -- Event invitations: seats and seats taken by accepted invitations (waitlisted ones take none).
  capacity          integer     CHECK (capacity > 0),
  seats_taken       integer     NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
  -- Sweepstakes: the secret seed of the draw, made at creation; only its SHA-256 is shown until the draw reveals it,
  -- so the seed cannot be chosen after the entrants are known.
  draw_seed         text,
  draw_seed_sha256  text,
  drawn_at          timestamptz,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL,
  archived_at       timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK ((limit_count IS NULL) = (limit_period IS NULL)),
  CHECK (capacity IS NULL OR seats_taken <= capacity),
  CHECK (available_from IS NULL OR available_until IS NULL OR available_from < available_until),
  CHECK ((kind = 'event_invitation') = (capacity IS NOT NULL)),
  CHECK ((kind = 'sweepstakes') = (draw_seed IS NOT NULL AND draw_seed_sha256 IS NOT NULL))
);
-- The catalog as members see it: active rewards in id order (the list's page key).
CREATE INDEX rewards_active ON rewards (tenant_id, id) WHERE status = 'active';

CREATE TABLE reward_redemptions (
  tenant_id          uuid        NOT NULL,
  id                 uuid        NOT NULL,
  reward_id          uuid        NOT NULL,
  member_id          uuid        NOT NULL,
  kind               text        NOT NULL,
  -- Units taken: sweepstakes entries; 1 for every other kind.
  quantity           integer     NOT NULL CHECK (quantity > 0),
  points             bigint      NOT NULL CHECK (points >= 0),
  -- The points spent (RedemptionsService); NULL for a gift or a reward priced at 0 points.
  redemption_id      uuid,
  status             text        NOT NULL CHECK (status IN ('completed', 'cancelled')),
  -- 'redemption': the member spent points; 'gift': given by a mechanic (stamp card, referral, …) at no points cost.
  origin             text        NOT NULL CHECK (origin IN ('redemption', 'gift')),
  source_type        text,
  source_id          text,
  reason             text,
  -- The reward's kind settings as they were when redeemed (voucher terms, event, cause, …).
  details            jsonb       NOT NULL DEFAULT '{}',
  -- Vouchers issued by the vouchers module (no foreign key: built in parallel).
  voucher_id         uuid,
  voucher_code       text,
  -- Cashback credited to the wallet, or the amount donated.
  amount             bigint,
  currency           char(3),
  -- Physical gifts: pending -> shipped -> delivered, or cancelled; the address as the member gave it.
  fulfilment_status  text        CHECK (fulfilment_status IN ('pending', 'shipped', 'delivered', 'cancelled')),
  shipping_address   jsonb,
  note               text,
  tracking_ref       text,
  -- Event invitations.
  rsvp_status        text        CHECK (rsvp_status IN ('accepted', 'waitlisted', 'declined')),
  -- Sweepstakes: set by the draw.
  won                boolean,
  actor              text,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  cancelled_at       timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, reward_id) REFERENCES rewards (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, redemption_id) REFERENCES redemptions (tenant_id, id),
  CHECK ((amount IS NULL) = (currency IS NULL))
);
-- Limits (a member's redemptions of a reward, in a period) and the member's history.
CREATE INDEX reward_redemptions_member ON reward_redemptions (tenant_id, member_id, reward_id, created_at) WHERE status = 'completed';
CREATE INDEX reward_redemptions_member_id ON reward_redemptions (tenant_id, member_id, id);
-- A reward's redemptions: sweepstakes entrants in id order, the waitlist of an event in id order.
CREATE INDEX reward_redemptions_reward ON reward_redemptions (tenant_id, reward_id, id);
-- Cancelling a voucher finds the reward redemption that issued it; refunds find it by its points redemption.
CREATE INDEX reward_redemptions_voucher ON reward_redemptions (tenant_id, voucher_id) WHERE voucher_id IS NOT NULL;
CREATE INDEX reward_redemptions_redemption ON reward_redemptions (tenant_id, redemption_id) WHERE redemption_id IS NOT NULL;

-- A sweepstakes draw: everything needed to re-run it and get the same winners.
CREATE TABLE reward_draws (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  reward_id        uuid        NOT NULL,
  algorithm        text        NOT NULL,
  seed             text        NOT NULL,
  seed_sha256      text        NOT NULL,
  winners_count    integer     NOT NULL CHECK (winners_count > 0),
  -- The entries in draw order: [[reward_redemption_id, member_id], …] (a redemption of N entries appears N times).
  entrants         jsonb       NOT NULL,
  entrants_count   integer     NOT NULL,
  entrants_sha256  text        NOT NULL,
  -- [{position, entry, reward_redemption_id, member_id}, …]
  winners          jsonb       NOT NULL,
  actor            text,
  drawn_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, reward_id) REFERENCES rewards (tenant_id, id)
);
-- One draw per sweepstakes.
CREATE UNIQUE INDEX reward_draws_reward ON reward_draws (tenant_id, reward_id);
