/**
 * `messages.triggers`: the scheduled triggers (birthday, anniversary, points expiring, tier at risk, win-back) of every
 * tenant, or of the one named in `{"tenant_id": …}`, hourly at minute 10. Each message is idempotent by its dedupe key,
 * so a run repeated, interrupted, or racing another process's run sends nothing twice.
 */
import type { Db } from '../../../platform/db/db.js';
import { eachTenant, type TenantIds, type TenantJobData } from '../../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../../platform/jobs/jobs.js';
import type { TriggersService } from './triggers.service.js';

export function defineTriggerJobs(jobs: Jobs, deps: { db: Db; triggers: TriggersService; tenants: TenantIds }): void {
  const { db, triggers, tenants } = deps;
  jobs.define<TenantJobData>({
    name: 'messages.triggers',
    description: 'Queue the scheduled trigger messages that are due: birthdays and enrolment anniversaries (local day, from send_hour), points expiring, tiers at risk, win-back with its control group.',
    schedule: '10 * * * *',
    // A big tenant's run may take longer than the default hour: expiring it would start a second run beside the first
    // (and a retry a third). A failed run is not retried: the next hourly run finds what it left (idempotent keys).
    expireInSeconds: 6 * 3600,
    retryLimit: 0,
    handler: async (data, ctx) => {
      const sent: Record<string, number> = {};
      const n = await eachTenant('messages.triggers', data, ctx, tenants, async (tenantId) => {
        for (const [k, v] of Object.entries(await triggers.runTenant(db, tenantId))) sent[k] = (sent[k] ?? 0) + v;
      });
      return { tenants: n, ...sent };
    },
  });
}
