/**
 * `tiers.evaluate`: upgrades for figures that rose outside an order's transaction (points activated by
 * `ledger.activate-pending`, adjustments, imported orders), then what is due: evaluations at the end of the period
 * or on anniversaries, downgrades whose grace is over, manual assignments and invitations that ended. Every five
 * minutes, with the activation job (what it activates is picked up by the next run); `npx patron jobs run tiers.evaluate` (optionally `{"tenant_id": …}`).
 * A tenant that fails does not stop the others; the run fails at the end so the queue retries it.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { TiersService } from './tiers.service.js';

export function defineTiersJobs(jobs: Jobs, deps: { db: Db; tiers: TiersService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  jobs.define<TenantJobData>({
    name: 'tiers.evaluate',
    description: 'Move members up whose figures rose (activated points, imported orders), and judge what is due: evaluations, downgrades after grace, ended assignments.',
    schedule: '*/5 * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      const total = { rechecked: 0, due: 0 };
      const n = await eachTenant('tiers.evaluate', data, ctx, deps.tenants, async (tenantId) => {
        const r = await deps.tiers.evaluateTenant(deps.db, tenantId);
        total.rechecked += r.rechecked;
        total.due += r.due;
      }, 'tier evaluation failed for a tenant');
      return { tenants: n, ...total };
    },
  });
}
