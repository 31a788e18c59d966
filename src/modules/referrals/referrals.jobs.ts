/**
 * `referrals.convert`: referrals past their return window convert (both sides get their gifts, milestones are
 * reached), and referrals still waiting for a first purchase past their deadline expire. Walks every tenant (or the
 * one named in `{"tenant_id": …}`); each referral is its own transaction, so a run may be interrupted or repeated,
 * or run twice at once: a referral converts once (ReferralsService.convert).
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { ReferralsService } from './referrals.service.js';

export function defineReferralJobs(jobs: Jobs, deps: { db: Db; referrals: ReferralsService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, referrals, tenants } = deps;
  jobs.define<TenantJobData>({
    name: 'referrals.convert',
    description: 'Convert referrals whose return window is over (gifts to both sides, milestone bonuses) and expire those that got no qualifying purchase in time.',
    schedule: '*/15 * * * *',
    handler: async (data, ctx) => {
      const total = { converted: 0, disqualified: 0, expired: 0, failed: 0 };
      const n = await eachTenant('referrals.convert', data, ctx, tenants, async (tenantId) => {
        const r = await referrals.convertDue(db, tenantId, (id, err) => ctx.log.error({ err, job: 'referrals.convert', tenant_id: tenantId, referral_id: id }, 'a referral could not convert'));
        total.converted += r.converted;
        total.disqualified += r.disqualified;
        total.expired += r.expired;
        total.failed += r.failed;
      }, 'referrals job failed for a tenant');
      return { tenants: n, ...total };
    },
  });
}
