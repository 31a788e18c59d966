-- Messaging and webhooks (docs/webhooks.md, docs/messaging.md, docs/events.md):
--  * the outbox is delivered: each event is handed once to every consumer (webhook fan-out, triggers) in the
--    transaction that marks it dispatched;
--  * webhook endpoints, their signing secrets (rotated with an overlap), deliveries and every attempt;
--  * email: the tenant's sender and limits, trigger settings, template overrides, the send log, suppressions.

-- ── Outbox delivery ───────────────────────────────────────────────────────
-- NULL: not yet handed to the consumers. Events written before this migration count as delivered ('-infinity':
-- a constant default fills the existing rows without rewriting the table; new rows get NULL).
ALTER TABLE outbox_events ADD COLUMN dispatched_at timestamptz DEFAULT '-infinity';
ALTER TABLE outbox_events ALTER COLUMN dispatched_at DROP DEFAULT;
-- Small: only the events not yet dispatched stay in it.
CREATE INDEX outbox_events_undispatched ON outbox_events (tenant_id, seq) WHERE dispatched_at IS NULL;

-- ── Webhooks ──────────────────────────────────────────────────────────────
CREATE TABLE webhook_endpoints (
  tenant_id       uuid        NOT NULL REFERENCES tenants (id),
  id              uuid        NOT NULL,
  url             text        NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2000),
  description     text        NOT NULL DEFAULT '',
  -- event types this endpoint receives; '*' alone means every type in the catalog
  event_types     text[]      NOT NULL CHECK (cardinality(event_types) > 0),
  status          text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  disabled_reason text,                      -- 'failing' (5 days of failed attempts) or 'manual'
  disabled_at     timestamptz,
  -- the first failed attempt since the last success: the 5-day clock of automatic disabling
  failing_since   timestamptz,
  last_success_at timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);

-- Signing secrets. The newest without expires_at signs; after a rotation the old one keeps signing beside it
-- (two signatures in webhook-signature) until expires_at.
CREATE TABLE webhook_secrets (
  tenant_id   uuid        NOT NULL,
  endpoint_id uuid        NOT NULL,
  id          uuid        NOT NULL,
  secret      text        NOT NULL,          -- whsec_<base64 of 32 random bytes> (needed in clear to sign)
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_secrets_endpoint ON webhook_secrets (tenant_id, endpoint_id, created_at);

-- One event (or one replay of it) for one endpoint. Retried with backoff until it succeeds or its schedule
-- (over 24 hours) runs out. In order per member and endpoint: a delivery waits while an earlier one of the same
-- member to the same endpoint is still pending.
CREATE TABLE webhook_deliveries (
  tenant_id        uuid        NOT NULL,
  id               uuid        NOT NULL,
  endpoint_id      uuid        NOT NULL,
  event_id         uuid        NOT NULL,
  event_seq        bigint      NOT NULL,
  event_type       text        NOT NULL,
  member_id        uuid,
  -- 'event': from the outbox; 'replay': asked for by the API (never waits for nor holds up the member's order)
  kind             text        NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'replay')),
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts         integer     NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL,
  -- a worker holds the delivery while it sends (a lease); a crashed worker's lease runs out and another retries
  locked_until     timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  finished_at      timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES webhook_endpoints (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, event_id) REFERENCES outbox_events (tenant_id, id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_member_order ON webhook_deliveries (tenant_id, endpoint_id, member_id, event_seq) WHERE status = 'pending' AND kind = 'event';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (tenant_id, event_id);

-- The delivery log: every attempt with its answer and timing.
CREATE TABLE webhook_attempts (
  tenant_id     uuid        NOT NULL,
  id            uuid        NOT NULL,
  delivery_id   uuid        NOT NULL,
  endpoint_id   uuid        NOT NULL,
  attempted_at  timestamptz NOT NULL,
  duration_ms   integer     NOT NULL,
  status_code   integer,                     -- NULL: no HTTP answer (refused, timed out, reset)
  error         text,
  response_body text,                        -- the first 2 KB
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES webhook_deliveries (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (tenant_id, delivery_id, attempted_at);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts (tenant_id, endpoint_id, attempted_at);

-- ── Messaging ─────────────────────────────────────────────────────────────
-- One row per tenant, created with defaults on first use.
CREATE TABLE messaging_settings (
  tenant_id            uuid        NOT NULL REFERENCES tenants (id),
  from_email           text,                 -- NULL: SMTP_FROM
  from_name            text,                 -- NULL: the tenant's name
  reply_to             text,
  -- emails per minute for the tenant, all triggers together
  rate_limit_per_minute integer    NOT NULL DEFAULT 600 CHECK (rate_limit_per_minute BETWEEN 1 AND 100000),
  -- marketing is not sent between these local times (the member's time zone, else the tenant's)
  quiet_hours_start    time,                 -- NULL with quiet_hours_end NULL: no quiet hours
  quiet_hours_end      time,
  -- signs unsubscribe links (random, created on first use, never shown)
  unsubscribe_secret   text        NOT NULL,
  created_at           timestamptz NOT NULL,
  updated_at           timestamptz NOT NULL,
  PRIMARY KEY (tenant_id),
  CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL))
);

-- Per trigger: on/off, channel, timing and offer. Absent row: the trigger's defaults (docs/messaging/triggers.md).
CREATE TABLE message_triggers (
  tenant_id  uuid        NOT NULL REFERENCES tenants (id),
  trigger    text        NOT NULL,
  enabled    boolean     NOT NULL,
  channel    text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  settings   jsonb       NOT NULL DEFAULT '{}',   -- timing: days before, hour of day, days without purchase …
  offer      jsonb,                               -- {points} or {reward_id}; NULL: none
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, trigger)
);

-- A tenant's own wording of a trigger in one language; absent: the shipped default.
CREATE TABLE message_templates (
  tenant_id  uuid        NOT NULL REFERENCES tenants (id),
  trigger    text        NOT NULL,
  locale     text        NOT NULL CHECK (locale IN ('en', 'bg', 'ru', 'ro', 'pl')),
  subject    text        NOT NULL,
  html       text        NOT NULL,          -- Liquid, the content inside the shared responsive layout
  text       text        NOT NULL,          -- Liquid, the plain-text part
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, trigger, locale)
);

-- The send log: one row per message meant for someone, whatever became of it. `dedupe_key` makes a trigger
-- idempotent across restarts and processes (birthday:<member>:<year>, event:<event id> …).
CREATE TABLE messages (
  tenant_id      uuid        NOT NULL REFERENCES tenants (id),
  id             uuid        NOT NULL,
  member_id      uuid,                       -- NULL: not a member (anonymous feedback, the tenant's operators)
  trigger        text        NOT NULL,
  dedupe_key     text        NOT NULL,
  category       text        NOT NULL CHECK (category IN ('marketing', 'transactional')),
  channel        text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  locale         text        NOT NULL CHECK (locale IN ('en', 'bg', 'ru', 'ro', 'pl')),
  to_address     text,                       -- email address or phone; NULL for push
  variables      jsonb       NOT NULL DEFAULT '{}',
  -- queued -> sending -> sent | failed | bounced; or, without sending: suppressed (no consent, suppressed
  -- address, no address, member erased or blocked) and control (held out of a win-back)
  status         text        NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'bounced', 'suppressed', 'control')),
  status_reason  text,
  send_after     timestamptz NOT NULL,
  locked_until   timestamptz,
  attempts       integer     NOT NULL DEFAULT 0,
  subject        text,                       -- as rendered when sent
  provider_id    text,                       -- the SMTP Message-ID, or the outbox event id for sms/push
  error          text,
  offer          jsonb,                      -- what was given with the message (points, reward redemption)
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  sent_at        timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, trigger, dedupe_key)
);
CREATE INDEX messages_member ON messages (tenant_id, member_id, created_at) WHERE member_id IS NOT NULL;
CREATE INDEX messages_due ON messages (tenant_id, send_after) WHERE status IN ('queued', 'sending');
CREATE INDEX messages_sent ON messages (tenant_id, sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX messages_trigger ON messages (tenant_id, trigger, created_at);

-- Addresses Patron must not email: hard bounces, complaints, or added by hand. Stored lower-cased.
CREATE TABLE email_suppressions (
  tenant_id  uuid        NOT NULL REFERENCES tenants (id),
  email      text        NOT NULL,
  reason     text        NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'manual')),
  detail     text,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, email)
);
