-- Patron foundation: tenants, API keys, idempotency, outbox, audit log,
-- imports, members and their consent.
--
-- House rules (checked by test/schema-rules.test.ts, see docs/conventions.md):
--  * every tenant table has tenant_id uuid, leading its primary key, every
--    unique key and every index;
--  * foreign keys between tenant tables are composite (tenant_id, id);
--  * global tables are few and listed in src/platform/db/reference-tables.ts.

-- ── Global (reference) tables ────────────────────────────────────────────
CREATE TABLE tenants (
  id                 uuid        PRIMARY KEY,
  name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  default_currency   char(3)     NOT NULL,
  default_locale     text        NOT NULL,
  time_zone          text        NOT NULL,
  notification_email text,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL
);

-- Resolves a presented API key (by its SHA-256) to its tenant without
-- knowing the tenant first. The key's details live in the tenant table.
CREATE TABLE api_key_lookup (
  key_hash  bytea PRIMARY KEY,
  tenant_id uuid  NOT NULL REFERENCES tenants (id),
  key_id    uuid  NOT NULL
);

-- ── Tenant tables ─────────────────────────────────────────────────────────
CREATE TABLE api_keys (
  tenant_id    uuid        NOT NULL REFERENCES tenants (id),
  id           uuid        NOT NULL,
  name         text        NOT NULL,
  prefix       text        NOT NULL,          -- first characters, to recognise a key in lists
  key_hash     bytea       NOT NULL,
  scopes       text[]      NOT NULL,
  created_at   timestamptz NOT NULL,
  created_by   text,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT api_keys_scopes_valid CHECK (scopes <@ ARRAY['read', 'write', 'admin']::text[] AND cardinality(scopes) > 0)
);

CREATE TABLE idempotency_keys (
  tenant_id     uuid        NOT NULL REFERENCES tenants (id),
  key           text        NOT NULL,
  request_hash  text        NOT NULL,
  method        text        NOT NULL,
  path          text        NOT NULL,
  status_code   integer     NOT NULL,
  response_body jsonb,
  created_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (tenant_id, created_at);

-- The transactional outbox: written in the same transaction as the change it
-- describes; the messaging module delivers it. `seq` orders delivery.
CREATE TABLE outbox_events (
  tenant_id      uuid        NOT NULL REFERENCES tenants (id),
  id             uuid        NOT NULL,
  seq            bigint      GENERATED ALWAYS AS IDENTITY,
  type           text        NOT NULL,
  aggregate_type text        NOT NULL,
  aggregate_id   text        NOT NULL,
  member_id      uuid,
  payload        jsonb       NOT NULL,
  occurred_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX outbox_events_seq ON outbox_events (tenant_id, seq);
CREATE INDEX outbox_events_member ON outbox_events (tenant_id, member_id, seq) WHERE member_id IS NOT NULL;

CREATE TABLE audit_log (
  tenant_id     uuid        NOT NULL REFERENCES tenants (id),
  id            uuid        NOT NULL,
  actor_type    text        NOT NULL CHECK (actor_type IN ('api_key', 'operator', 'system')),
  actor_id      text,
  action        text        NOT NULL,
  resource_type text        NOT NULL,
  resource_id   text,
  changed_fields text[]     NOT NULL DEFAULT '{}',
  request_id    text,
  occurred_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_resource ON audit_log (tenant_id, resource_type, resource_id, id);

-- Bulk imports (members now, orders later): the upload is kept in chunks so
-- that any Patron process can run the job, streaming, after a restart too.
CREATE TABLE imports (
  tenant_id       uuid        NOT NULL REFERENCES tenants (id),
  id              uuid        NOT NULL,
  kind            text        NOT NULL,
  format          text        NOT NULL CHECK (format IN ('csv', 'ndjson')),
  options         jsonb       NOT NULL DEFAULT '{}',
  status          text        NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'succeeded', 'failed')),
  bytes_total     bigint      NOT NULL DEFAULT 0,
  bytes_processed bigint      NOT NULL DEFAULT 0,
  rows_processed  bigint      NOT NULL DEFAULT 0,
  rows_created    bigint      NOT NULL DEFAULT 0,
  rows_updated    bigint      NOT NULL DEFAULT 0,
  rows_rejected   bigint      NOT NULL DEFAULT 0,
  -- resume point: the last line whose batch committed
  lines_committed bigint      NOT NULL DEFAULT 0,
  unknown_columns text[]      NOT NULL DEFAULT '{}',
  error           text,
  created_by      text,
  created_at      timestamptz NOT NULL,
  started_at      timestamptz,
  finished_at     timestamptz,
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX imports_kind ON imports (tenant_id, kind, id);

CREATE TABLE import_chunks (
  tenant_id uuid    NOT NULL,
  import_id uuid    NOT NULL,
  seq       integer NOT NULL,
  data      bytea   NOT NULL,
  PRIMARY KEY (tenant_id, import_id, seq),
  FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE import_rejections (
  tenant_id uuid   NOT NULL,
  import_id uuid   NOT NULL,
  line      bigint NOT NULL,
  reason    text   NOT NULL,
  PRIMARY KEY (tenant_id, import_id, line),
  FOREIGN KEY (tenant_id, import_id) REFERENCES imports (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE members (
  tenant_id   uuid        NOT NULL REFERENCES tenants (id),
  id          uuid        NOT NULL,
  external_id text,
  email       text,
  phone       text,
  first_name  text,
  last_name   text,
  birth_date  date,
  locale      text        NOT NULL CHECK (locale IN ('en', 'bg', 'ru', 'ro', 'pl')),
  time_zone   text,
  attributes  jsonb       NOT NULL DEFAULT '{}',
  status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked', 'erased')),
  enrolled_at timestamptz NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  blocked_at  timestamptz,
  blocked_reason text,
  erased_at   timestamptz,
  PRIMARY KEY (tenant_id, id)
);
-- One index serves both the uniqueness of the shop's id and prefix search on it
-- (text_pattern_ops answers LIKE 'x%' under any collation).
CREATE UNIQUE INDEX members_external_id ON members (tenant_id, external_id text_pattern_ops);
CREATE INDEX members_email ON members (tenant_id, lower(email) text_pattern_ops);
CREATE INDEX members_phone ON members (tenant_id, phone text_pattern_ops);
CREATE INDEX members_last_name ON members (tenant_id, lower(last_name) text_pattern_ops);
CREATE INDEX members_first_name ON members (tenant_id, lower(first_name) text_pattern_ops);

-- Marketing consent per channel: the current state, and every grant and
-- withdrawal ever made (with its time and source).
CREATE TABLE member_consents (
  tenant_id  uuid        NOT NULL,
  member_id  uuid        NOT NULL,
  channel    text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  granted    boolean     NOT NULL,
  source     text        NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, member_id, channel),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);

CREATE TABLE member_consent_events (
  tenant_id   uuid        NOT NULL,
  id          uuid        NOT NULL,
  member_id   uuid        NOT NULL,
  channel     text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  granted     boolean     NOT NULL,
  source      text        NOT NULL,
  occurred_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, member_id) REFERENCES members (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX member_consent_events_member ON member_consent_events (tenant_id, member_id, occurred_at);
