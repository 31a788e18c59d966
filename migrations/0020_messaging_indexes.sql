-- Messaging and webhooks, after review:
--  * indexes for the paths the first version scanned: messages being sent (the rate limit counts them), the delivery
--    log and attempts of one endpoint in id order, members whose tier is evaluated soon (tier-at-risk reminders);
--  * the member portal's address, for the "open my account" links of messages.
CREATE INDEX messages_sending ON messages (tenant_id, locked_until) WHERE status = 'sending';
CREATE INDEX webhook_deliveries_endpoint_id ON webhook_deliveries (tenant_id, endpoint_id, id);
CREATE INDEX webhook_attempts_endpoint_id ON webhook_attempts (tenant_id, endpoint_id, id);
CREATE INDEX member_tiers_next_evaluation ON member_tiers (tenant_id, next_evaluation_at) WHERE next_evaluation_at IS NOT NULL;
ALTER TABLE messaging_settings ADD COLUMN portal_url text CHECK (portal_url ~ '^https?://' AND length(portal_url) <= 2000);
