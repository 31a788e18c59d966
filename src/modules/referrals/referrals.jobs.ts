/**
 * `referrals.convert`: referrals past their return window convert (both sides get their gifts, milestones are
 * reached), and referrals still waiting for a first purchase past their deadline expire. Walks every tenant (or the
 * one named in `{"tenant_id": …}`); each referral is its own transaction, so a run may be interrupted or repeated,
 * or run twice at once: a referral converts once (ReferralsService.convert).
 */
import type { Db } from '../../platform/db/db.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import { isUuid } from '../../platform/ids.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { ReferralsService } from './referrals.service.js';

export function defineReferralJobs(jobs: Jobs, deps: { db: Db; referrals: ReferralsService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, referrals, tenants } = deps;
  jobs.define<{ tenant_id?: string }>({
    name: 'referrals.convert',
    description: 'Convert referrals whose return window is over (gifts to both sides, milestone bonuses) and expire those that got no qualifying purchase in time.',
    schedule: '*/15 * * * *',
    handler: async (data, ctx) => {
      if (data.tenant_id !== undefined && (typeof data.tenant_id !== 'string' || !isUuid(data.tenant_id))) throw new Error('referrals.convert: tenant_id must be a tenant id (a UUID)');
      const ids = data.tenant_id !== undefined ? [data.tenant_id] : await tenants.allTenantIds();
      const total = { converted: 0, disqualified: 0, expired: 0, failed: 0 };
      const failedTenants: string[] = [];
      for (const tenantId of ids) {
        try {
          const r = await referrals.convertDue(db, tenantId, (id, err) => ctx.log.error({ err, job: 'referrals.convert', tenant_id: tenantId, referral_id: id }, 'a referral could not convert'));
          total.converted += r.converted;
          total.disqualified += r.disqualified;
          total.expired += r.expired;
          total.failed += r.failed;
        } catch (err) {
          failedTenants.push(tenantId);
          ctx.log.error({ err, job: 'referrals.convert', tenant_id: tenantId }, 'referrals job failed for a tenant');
        }
      }
      if (failedTenants.length > 0) throw new Error(`referrals.convert failed for ${failedTenants.length} of ${ids.length} tenants: ${failedTenants.slice(0, 10).join(', ')}`);
      return { tenants: ids.length, ...total };
    },
  });
}
