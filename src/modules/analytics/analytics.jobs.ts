/**
 * `analytics.run` executes one queued run ({"tenant_id": …, "run_id": …}); `analytics.nightly` (hourly) queues each
 * tenant's nightly run at 03:xx in the tenant's time zone and purges old runs. Both can be run now with
 * `npx patron jobs run NAME --data …` (docs/analytics.md → Runs).
 *
 * A run that fails in a stage is marked failed and its job ends normally: retrying would fail the same way. The job
 * is retried only when the process dies or the database goes away mid-run; the retry starts the run over (at most
 * MAX_ATTEMPTS starts). Its expiry is long, because a retry of a run that is in fact still working finds the tenant's
 * lock taken and is sent again with a delay (LOCKED_RETRY_SECONDS), until it finds the run finished.
 */
import { isUuid } from '../../platform/ids.js';
import { eachTenant, type TenantIds, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import { MAX_ATTEMPTS, RUN_JOB } from './analytics.runs.js';
import type { AnalyticsService } from './analytics.service.js';

export function defineAnalyticsJobs(jobs: Jobs, deps: { analytics: AnalyticsService; tenants: TenantIds }): void {
  const { analytics, tenants } = deps;
  jobs.define<{ tenant_id: string; run_id: string }>({
    name: RUN_JOB,
    description: 'Execute a queued analytics run (data: {"tenant_id": …, "run_id": …}); a tenant\'s runs execute one at a time.',
    retryLimit: MAX_ATTEMPTS - 1,
    expireInSeconds: 3 * 3600,
    handler: async (data) => {
      if (typeof data.tenant_id !== 'string' || !isUuid(data.tenant_id) || typeof data.run_id !== 'string' || !isUuid(data.run_id)) {
        throw new Error('analytics.run: data must be {"tenant_id": <uuid>, "run_id": <uuid>}');
      }
      return analytics.runs.execute(data.tenant_id, data.run_id);
    },
  });
  jobs.define<TenantJobData & { any_hour?: boolean }>({
    name: 'analytics.nightly',
    description: 'Queue the nightly analytics run of each tenant whose local time is 03:xx (data: {"any_hour": true} to queue now; {"tenant_id": …} for one tenant), and delete runs older than keep_runs_days.',
    schedule: '5 * * * *',
    handler: async (data, ctx) => {
      const queued: string[] = [];
      let purged = 0;
      const count = await eachTenant('analytics.nightly', data, ctx, tenants, async (tenantId) => {
        const run = await analytics.runs.nightly(tenantId, { anyHour: data.any_hour === true });
        if (run) queued.push(run);
        purged += await analytics.runs.purge(tenantId);
      });
      return { tenants: count, queued: queued.length, purged };
    },
  });
}
