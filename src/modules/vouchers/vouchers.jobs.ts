/**
 * `vouchers.expire`: marks active vouchers past their expiry as expired (with `voucher.expired`), in batches that
 * commit on their own, so a run may be interrupted or repeated. Validation and redemption check the expiry
 * themselves; the job makes the status (lists, reports, the member's wallet of vouchers) say so too.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { VouchersService } from './vouchers.service.js';

export function defineVoucherJobs(jobs: Jobs, deps: { db: Db; vouchers: VouchersService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  jobs.define<TenantJobData>({
    name: 'vouchers.expire',
    description: 'Mark vouchers past their expiry date as expired.',
    schedule: '*/15 * * * *',
    handler: async (data, ctx) => {
      let expired = 0;
      const n = await eachTenant('vouchers.expire', data, ctx, deps.tenants, async (tenantId) => {
        expired += await deps.vouchers.expireDue(deps.db, tenantId);
      });
      return { tenants: n, expired };
    },
  });
}
