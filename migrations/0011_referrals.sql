-- Referrals (docs/program/referrals.md): a member's referral code, the attribution of a new member to the member
-- whose code they signed up with, its way to conversion (both sides get a gift), and the guards around it.

-- The tenant's referral program. No row: the defaults (disabled), so nothing is given before a marketer sets it up.
CREATE TABLE referral_settings (
  tenant_id                uuid        NOT NULL REFERENCES tenants (id),
  enabled                  boolean     NOT NULL,
  referrer_gift            jsonb,                  -- a Gift (rewards.gift.ts): points, reward_id and/or credit
  referee_gift             jsonb,
  min_purchase_amount      bigint      NOT NULL CHECK (min_purchase_amount >= 0),  -- program currency, minor units
  purchase_within_days     integer     NOT NULL CHECK (purchase_within_days BETWEEN 1 AND 3650),
  return_window_days       integer     NOT NULL CHECK (return_window_days BETWEEN 0 AND 365),
  limit_count              integer     CHECK (limit_count >= 1),
  limit_period             text        CHECK (limit_period IN ('month', 'year')),
  milestones               jsonb       NOT NULL,   -- [{count, gift}], counts ascending and unique
  share_link_template      text,
  review                   jsonb       NOT NULL,   -- which guards send an attribution to the review queue
  extra_disposable_domains text[]      NOT NULL,
  updated_at               timestamptz,
  PRIMARY KEY (tenant_id),
  -- A limit is a count per period: both or neither.
  CHECK ((limit_count IS NULL) = (limit_period IS NULL))
);

-- One code per member, made on first use. Looked up by code on every attribution (unique per tenant).
CREATE TABLE referral_codes (
  tenant_id   uuid        NOT NULL,
  member_id   uuid        NOT NULL,
  code        text        NOT NULL,
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE UNIQUE INDEX referral_codes_code ON referral_codes (tenant_id, code);

CREATE TABLE referrals (
  tenant_id          uuid        NOT NULL,
  id                 uuid        NOT NULL,
  code               text        NOT NULL,
  referrer_id        uuid        NOT NULL,
  referee_id         uuid        NOT NULL,
  status             text        NOT NULL CHECK (status IN ('pending_purchase', 'qualifying', 'converted', 'rejected', 'in_review', 'expired')),
  reason             text,                       -- rejected or expired: why (limit_reached, purchase_returned, an admin's words, …)
  review_flags       jsonb       NOT NULL,       -- [{kind, detail}]: why it went to the review queue
  -- The terms in force at attribution (gifts, minimum, windows): a later change of the settings does not change
  -- what was promised to a referral already made.
  terms              jsonb       NOT NULL,
  body_digest        text        NOT NULL,       -- a re-sent attribution with another body is a 409
  attributed_at      timestamptz NOT NULL,
  qualify_by         timestamptz NOT NULL,       -- the first purchase must happen by then
  -- The qualifying purchase (kept while in review too). A plain reference to the order: orders are never deleted.
  purchase_id        uuid,
  purchase_total     bigint,
  purchased_at       timestamptz,
  convert_after      timestamptz,                -- purchased_at + the return window
  converted_at       timestamptz,
  referrer_reward    jsonb,                      -- the GiftResult each side got at conversion
  referee_reward     jsonb,
  reviewed_at        timestamptz,
  closed_at          timestamptz,                -- rejected or expired
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, referrer_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, referee_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, purchase_id) REFERENCES transactions (tenant_id, id),
  CHECK (referrer_id <> referee_id),
  CHECK ((status = 'qualifying') <= (purchase_id IS NOT NULL AND convert_after IS NOT NULL))
);
-- One attribution per new member, whatever its outcome.
CREATE UNIQUE INDEX referrals_referee ON referrals (tenant_id, referee_id);
-- The referrer's referrals: their list, the limit per period, bursts and milestones.
CREATE INDEX referrals_referrer ON referrals (tenant_id, referrer_id, attributed_at);
-- The review queue and the admin's filters, newest first.
CREATE INDEX referrals_status ON referrals (tenant_id, status, id);
-- What the conversion job finds due.
CREATE INDEX referrals_due ON referrals (tenant_id, convert_after) WHERE status = 'qualifying';
CREATE INDEX referrals_pending ON referrals (tenant_id, qualify_by) WHERE status = 'pending_purchase';

-- Device ids, IP addresses and payment fingerprints seen for a member, as SHA-256 hashes: enough to tell two
-- sign-ups apart or alike, without keeping the values themselves.
CREATE TABLE referral_signals (
  tenant_id   uuid        NOT NULL,
  member_id   uuid        NOT NULL,
  kind        text        NOT NULL CHECK (kind IN ('device', 'ip', 'payment')),
  hash        text        NOT NULL,
  seen_at     timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id, kind, hash),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id)
);
CREATE INDEX referral_signals_hash ON referral_signals (tenant_id, kind, hash);

-- Milestone bonuses given to a referrer: at most once per milestone.
CREATE TABLE referral_milestones (
  tenant_id    uuid        NOT NULL,
  member_id    uuid        NOT NULL,
  count        integer     NOT NULL,
  referral_id  uuid        NOT NULL,   -- the conversion that reached it
  reward       jsonb       NOT NULL,   -- the GiftResult
  reached_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id, count),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id),
  FOREIGN KEY (tenant_id, referral_id) REFERENCES referrals (tenant_id, id)
);
