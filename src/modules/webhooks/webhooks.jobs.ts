/**
 * `webhooks.deliver`: sends the due webhook deliveries (docs/webhooks.md). A pump: every DELIVERY_POLL_MS in each
 * process that works jobs, and on demand (`patron jobs run webhooks.deliver`, with `{"tenant_id": …}` for one
 * tenant). Safe in several processes at once: deliveries are claimed with SKIP LOCKED and leased while sent.
 *
 * `webhooks.purge`: daily, deletes finished deliveries older than WEBHOOK_LOG_RETENTION_DAYS from the log.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, tenantIdOf, type TenantIds, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { WebhooksService } from './webhooks.service.js';

export function defineWebhookJobs(jobs: Jobs, deps: { db: Db; webhooks: WebhooksService; pollMs: number; tenants: TenantIds }): void {
  const { db, webhooks, pollMs, tenants } = deps;
  jobs.define<TenantJobData>({
    name: 'webhooks.deliver',
    description: 'Send the due webhook deliveries (first attempts, retries, replays); runs every DELIVERY_POLL_MS.',
    pollMs,
    // A queued run (jobs run) is not retried by the queue: the next pump tick does the work anyway.
    retryLimit: 0,
    handler: async (data) => {
      return webhooks.deliverDue(db, { tenantId: tenantIdOf('webhooks.deliver', data) });
    },
  });
  jobs.define<TenantJobData>({
    name: 'webhooks.purge',
    description: 'Delete finished webhook deliveries (and their attempts) older than WEBHOOK_LOG_RETENTION_DAYS from the delivery log; daily.',
    schedule: '41 3 * * *',
    handler: async (data, ctx) => {
      let deleted = 0;
      await eachTenant('webhooks.purge', data, ctx, tenants, async (tenantId) => {
        deleted += await webhooks.purgeLog(db, tenantId);
      });
      return { deleted };
    },
  });
}
