/**
 * `vouchers.expire`: marks active vouchers past their expiry as expired (with `voucher.expired`), in batches that
 * commit on their own, so a run may be interrupted or repeated. Validation and redemption check the expiry
 * themselves; the job makes the status (lists, reports, the member's wallet of vouchers) say so too.
 */
import type { Db } from '../../platform/db/db.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { VouchersService } from './vouchers.service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function defineVoucherJobs(jobs: Jobs, deps: { db: Db; vouchers: VouchersService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  jobs.define<{ tenant_id?: string }>({
    name: 'vouchers.expire',
    description: 'Mark vouchers past their expiry date as expired.',
    schedule: '*/15 * * * *',
    handler: async (data, ctx) => {
      if (data.tenant_id !== undefined && (typeof data.tenant_id !== 'string' || !UUID_RE.test(data.tenant_id))) throw new Error('vouchers.expire: tenant_id must be a tenant id (a UUID)');
      const ids = data.tenant_id ? [data.tenant_id] : await deps.tenants.allTenantIds();
      let expired = 0;
      const failed: string[] = [];
      for (const tenantId of ids) {
        try {
          expired += await deps.vouchers.expireDue(deps.db, tenantId);
        } catch (err) {
          failed.push(tenantId);
          ctx.log.error({ err, job: 'vouchers.expire', tenant_id: tenantId }, 'vouchers.expire failed for a tenant');
        }
      }
      if (failed.length) throw new Error(`vouchers.expire failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
      return { tenants: ids.length, expired };
    },
  });
}
