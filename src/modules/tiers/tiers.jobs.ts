/**
 * `tiers.evaluate`: upgrades for figures that rose outside an order's transaction (points activated by
 * `ledger.activate-pending`, adjustments, imported orders), then what is due: evaluations at the end of the period
 * or on anniversaries, downgrades whose grace is over, manual assignments and invitations that ended. Every five
 * minutes, with the activation job (what it activates is picked up by the next run); `npx patron jobs run tiers.evaluate` (optionally `{"tenant_id": …}`).
 * A tenant that fails does not stop the others; the run fails at the end so the queue retries it.
 */
import type { Db } from '../../platform/db/db.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { TiersService } from './tiers.service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function defineTiersJobs(jobs: Jobs, deps: { db: Db; tiers: TiersService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  jobs.define<{ tenant_id?: string }>({
    name: 'tiers.evaluate',
    description: 'Move members up whose figures rose (activated points, imported orders), and judge what is due: evaluations, downgrades after grace, ended assignments.',
    schedule: '*/5 * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      if (data.tenant_id !== undefined && (typeof data.tenant_id !== 'string' || !UUID_RE.test(data.tenant_id))) throw new Error('tiers.evaluate: tenant_id must be a tenant id (a UUID)');
      const ids = data.tenant_id !== undefined ? [data.tenant_id] : await deps.tenants.allTenantIds();
      const total = { rechecked: 0, due: 0 };
      const failed: string[] = [];
      for (const tenantId of ids) {
        try {
          const r = await deps.tiers.evaluateTenant(deps.db, tenantId);
          total.rechecked += r.rechecked;
          total.due += r.due;
        } catch (err) {
          failed.push(tenantId);
          ctx.log.error({ err, job: 'tiers.evaluate', tenant_id: tenantId }, 'tier evaluation failed for a tenant');
        }
      }
      if (failed.length > 0) throw new Error(`tiers.evaluate failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
      return { tenants: ids.length, ...total };
    },
  });
}
