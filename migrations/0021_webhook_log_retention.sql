-- The delivery log is kept WEBHOOK_LOG_RETENTION_DAYS (default 30): the daily `webhooks.purge` job deletes finished
-- deliveries (their attempts go with them, ON DELETE CASCADE) by when they finished, oldest first, in batches.
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (tenant_id, finished_at) WHERE status <> 'pending';
