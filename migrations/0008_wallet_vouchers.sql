-- Store credit (the wallet) and vouchers (issue 5; docs/program/wallet.md and docs/program/vouchers.md).

-- ── Wallet ────────────────────────────────────────────────────────────────
-- Store credit is money the business owes the member, kept like points: an append-only ledger of entries and a
-- balance row that changes in the same statement as the entry it adds. The balance row is the member's lock: a
-- debit is one UPDATE … WHERE balance >= amount, so concurrent debits queue on the row and none overdraws.
CREATE TABLE wallet_balances (
  tenant_id  uuid        NOT NULL,
  member_id  uuid        NOT NULL,
  currency   char(3)     NOT NULL,                       -- the program currency when the credit was given
  balance    bigint      NOT NULL DEFAULT 0 CHECK (balance >= 0),  -- the last line of defence: never negative
  credited   bigint      NOT NULL DEFAULT 0 CHECK (credited >= 0),
  debited    bigint      NOT NULL DEFAULT 0 CHECK (debited >= 0),
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id, currency),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  CHECK (balance = credited - debited)
);

CREATE TABLE wallet_entries (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,                    -- UUID v7: time-ordered, the page key
  member_id     uuid        NOT NULL,
  currency      char(3)     NOT NULL,
  type          text        NOT NULL CHECK (type IN ('credit', 'debit')),
  amount        bigint      NOT NULL CHECK (amount <> 0), -- signed: credits positive, debits negative
  balance_after bigint      NOT NULL CHECK (balance_after >= 0),
  reason        text,
  -- What caused it: the ledger's sources (a gift from a stamp card, a referral, …) and the wallet's own.
  source_type   text        NOT NULL CHECK (source_type IN (
    'transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system',
    'reward', 'stamp_card', 'referral', 'achievement', 'tier',
    'cashback', 'refund', 'checkout', 'voucher'
  )),
  source_id     text,
  order_ref     text,
  actor         text,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  CHECK ((type = 'credit') = (amount > 0))
);
CREATE INDEX wallet_entries_member ON wallet_entries (tenant_id, member_id, id);

-- ── Vouchers ──────────────────────────────────────────────────────────────
-- Imported code pools: codes bought or printed elsewhere, handed out one each (FOR UPDATE SKIP LOCKED).
CREATE TABLE voucher_pools (
  tenant_id  uuid        NOT NULL,
  id         uuid        NOT NULL,
  name       text        NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

CREATE TABLE voucher_pool_codes (
  tenant_id  uuid        NOT NULL,
  code       text        NOT NULL,                       -- normalised upper case; in at most one pool of the tenant
  pool_id    uuid        NOT NULL,
  -- Taken: the voucher it became, or none when the code was already a voucher's (skipped, never handed out).
  taken_at   timestamptz,
  voucher_id uuid,
  PRIMARY KEY (tenant_id, code),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES voucher_pools (tenant_id, id)
);
-- The next unused code of a pool, in upload order of the code text (any order would do; this one is an index scan).
CREATE INDEX voucher_pool_codes_unused ON voucher_pool_codes (tenant_id, pool_id, code) WHERE taken_at IS NULL;

-- A bulk generation: its settings, so the codes it made can be listed and audited together.
CREATE TABLE voucher_batches (
  tenant_id  uuid        NOT NULL,
  id         uuid        NOT NULL,
  count      integer     NOT NULL CHECK (count > 0),
  pattern    text,
  pool_id    uuid,
  spec       jsonb       NOT NULL,                       -- kind, value, currency, minimum basket, expiry of every voucher
  collisions integer     NOT NULL DEFAULT 0,             -- generated codes that were taken already and drawn again
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES voucher_pools (tenant_id, id)
);

CREATE TABLE vouchers (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  code          text        NOT NULL,                    -- normalised upper case: codes compare case-insensitively
  kind          text        NOT NULL CHECK (kind IN ('fixed_amount', 'percentage', 'free_product', 'gift_card')),
  currency      char(3)     NOT NULL,
  amount        bigint      CHECK (amount > 0),          -- fixed_amount: the discount; gift_card: the initial value; free_product: the product's value (optional)
  percent       numeric(5,2) CHECK (percent > 0 AND percent <= 100),
  max_discount  bigint      CHECK (max_discount > 0),
  sku           text,
  min_basket    bigint      NOT NULL DEFAULT 0 CHECK (min_basket >= 0),
  balance       bigint      CHECK (balance >= 0),        -- gift_card: what is left to spend
  status        text        NOT NULL CHECK (status IN ('active', 'redeemed', 'cancelled', 'expired')),
  member_id     uuid,                                    -- only this member may use it (NULL: anyone)
  -- The catalog reward and its redemption that issued it (the rewards module, built alongside: no foreign key).
  reward_id     uuid,
  redemption_id uuid,
  batch_id      uuid,
  pool_id       uuid,
  expires_at    timestamptz,
  created_at    timestamptz NOT NULL,
  redeemed_at   timestamptz,
  cancelled_at  timestamptz,
  expired_at    timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, batch_id) REFERENCES voucher_batches (tenant_id, id),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES voucher_pools (tenant_id, id),
  CHECK (code = upper(code)),
  CHECK ((kind = 'gift_card') = (balance IS NOT NULL)),
  CHECK (kind <> 'percentage' OR percent IS NOT NULL),
  CHECK (kind NOT IN ('fixed_amount', 'gift_card') OR amount IS NOT NULL),
  CHECK (kind <> 'free_product' OR sku IS NOT NULL),
  CHECK (balance IS NULL OR balance <= amount)
);
CREATE UNIQUE INDEX vouchers_code ON vouchers (tenant_id, code);
CREATE INDEX vouchers_member ON vouchers (tenant_id, member_id, id) WHERE member_id IS NOT NULL;
CREATE INDEX vouchers_batch ON vouchers (tenant_id, batch_id, id) WHERE batch_id IS NOT NULL;
-- The expiry job's work list.
CREATE INDEX vouchers_expiry_due ON vouchers (tenant_id, expires_at) WHERE status = 'active' AND expires_at IS NOT NULL;

-- A use of a voucher for an order. A gift card has several (each spends part of its balance); other kinds one at a
-- time. Releasing (the order was cancelled) makes the voucher usable again and gives a gift card its money back.
CREATE TABLE voucher_redemptions (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  voucher_id  uuid        NOT NULL,
  order_ref   text        NOT NULL,
  member_id   uuid,
  total       bigint      NOT NULL CHECK (total >= 0),   -- the basket it was used on
  currency    char(3)     NOT NULL,
  discount    bigint      NOT NULL CHECK (discount >= 0),
  status      text        NOT NULL CHECK (status IN ('redeemed', 'released')),
  created_at  timestamptz NOT NULL,
  released_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, voucher_id) REFERENCES vouchers (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
-- One standing redemption per voucher and order: the same order re-sent is answered with the first.
CREATE UNIQUE INDEX voucher_redemptions_order ON voucher_redemptions (tenant_id, voucher_id, order_ref) WHERE status = 'redeemed';
CREATE INDEX voucher_redemptions_voucher ON voucher_redemptions (tenant_id, voucher_id, id);
