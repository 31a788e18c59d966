/**
 * The campaigns' jobs. `campaigns.launch` assigns the eligible base of launched campaigns to treatment or control
 * and records their baseline; `campaigns.advance` starts scheduled campaigns and ends those past ends_at. Each walks
 * every tenant (or the one named in `{"tenant_id": …}`), and may be interrupted or repeated: assignments are
 * inserted once, a baseline is recorded once, a transition happens once.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { CampaignsService } from './campaigns.service.js';

export function defineCampaignJobs(jobs: Jobs, deps: { db: Db; campaigns: CampaignsService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, campaigns, tenants } = deps;

  jobs.define<TenantJobData>({
    name: 'campaigns.launch',
    description: 'Assign every eligible active member of each launched campaign to treatment or control (a hash of campaign and member), then record the baseline of both groups.',
    schedule: '* * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      const total = { campaigns: 0, assigned: 0 };
      const n = await eachTenant('campaigns.launch', data, ctx, tenants, async (tenantId) => {
        const r = await campaigns.assignBases(db, tenantId);
        total.campaigns += r.campaigns;
        total.assigned += r.assigned;
      }, 'campaigns job failed for a tenant');
      return { tenants: n, ...total };
    },
  });

  jobs.define<TenantJobData>({
    name: 'campaigns.advance',
    description: 'Start scheduled campaigns at starts_at (campaign.started) and end campaigns at ends_at (campaign.ended).',
    schedule: '* * * * *',
    handler: async (data, ctx) => {
      const total = { started: 0, ended: 0 };
      const n = await eachTenant('campaigns.advance', data, ctx, tenants, async (tenantId) => {
        const r = await campaigns.advance(db, tenantId);
        total.started += r.started;
        total.ended += r.ended;
      }, 'campaigns job failed for a tenant');
      return { tenants: n, ...total };
    },
  });
}
