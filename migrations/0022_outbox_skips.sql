-- Events an outbox consumer failed on and skipped (docs/events.md#skipped-events): the dead-letter of the dispatch.
-- Written in the dispatch transaction that skipped the event; retried by hand (POST /v1/domain-events/skips/{id}/retry).
CREATE TABLE outbox_skips (
  tenant_id  uuid        NOT NULL REFERENCES tenants (id),
  id         uuid        NOT NULL,
  event_id   uuid        NOT NULL,
  consumer   text        NOT NULL,          -- the consumer's name: webhooks, messaging.triggers
  error      text        NOT NULL,          -- the error's message, at most 2,000 characters
  skipped_at timestamptz NOT NULL,
  retried_at timestamptz,                   -- NULL: still skipped
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, event_id) REFERENCES outbox_events (tenant_id, id)
);
CREATE INDEX outbox_skips_open ON outbox_skips (tenant_id, skipped_at, id) WHERE retried_at IS NULL;
CREATE INDEX outbox_skips_all ON outbox_skips (tenant_id, skipped_at, id);
