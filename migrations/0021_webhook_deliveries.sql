-- Webhook deliveries, after measuring (bench:webhooks, a backlog of 20,000 events):
--  * the due indexes hold only the deliveries that can become due: pending and not parked at 'infinity' (a member's
--    later deliveries wait there behind the head; so do all of a disabled endpoint's). A backlog no longer bloats
--    them, and only the statements that name `next_attempt_at < 'infinity'` (the pump's) can use them. Before, the
--    look-ups of one delivery or of one member's next delivery, which name status = 'pending', could take the due
--    index too; on a table without statistics yet (a fresh database, or autovacuum off) the planner did, and read
--    the tenant's whole queue for each attempt;
--  * the claim takes an endpoint's due deliveries in (next_attempt_at, event_seq) order, a few at a time: this index
--    gives that order per endpoint, so the claim reads as many rows as it takes rather than every due delivery of
--    the tenant (0.6 s a claim with 5,000 events waiting);
--  * webhook_deliveries_endpoint (tenant_id, endpoint_id, created_at) served no statement (the log of an endpoint
--    reads webhook_deliveries_endpoint_id, 0020) and only gave the planner one more wrong choice;
--  * the delivery log is kept WEBHOOK_LOG_RETENTION_DAYS (default 30): the daily `webhooks.purge` job deletes finished
--    deliveries (their attempts go with them, ON DELETE CASCADE) by when they finished, oldest first, in batches, and
--    records how far it went per tenant: a replay of `failed` or `missed` events must not look before that, even
--    after the retention is raised (the log there is gone, so a delivered event would look missed).
-- Upgrading: the migration runs in one transaction, and DROP INDEX locks webhook_deliveries (reads too) until it
-- ends, while the new indexes are built over the whole delivery log; on a large log, expect webhook sending and the
-- delivery log's API to wait for it.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (tenant_id, next_attempt_at)
  WHERE status = 'pending' AND next_attempt_at < 'infinity';
CREATE INDEX webhook_deliveries_due_endpoint ON webhook_deliveries (tenant_id, endpoint_id, next_attempt_at, event_seq)
  WHERE status = 'pending' AND next_attempt_at < 'infinity';
DROP INDEX webhook_deliveries_endpoint;
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (tenant_id, finished_at) WHERE status <> 'pending';

CREATE TABLE webhook_log_purges (
  tenant_id     uuid        NOT NULL REFERENCES tenants (id),
  -- finished deliveries that finished before this are gone from the log
  purged_before timestamptz NOT NULL,
  PRIMARY KEY (tenant_id)
);
