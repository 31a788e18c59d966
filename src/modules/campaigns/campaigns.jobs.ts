/**
 * The campaigns' jobs. `campaigns.launch` assigns the eligible base of launched campaigns to treatment or control
 * and records their baseline; `campaigns.advance` starts scheduled campaigns and ends those past ends_at. Each walks
 * every tenant (or the one named in `{"tenant_id": …}`), and may be interrupted or repeated: assignments are
 * inserted once, a baseline is recorded once, a transition happens once.
 */
import type { Db } from '../../platform/db/db.js';
import type { JobContext, Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { CampaignsService } from './campaigns.service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface JobData {
  tenant_id?: string;
}

export function defineCampaignJobs(jobs: Jobs, deps: { db: Db; campaigns: CampaignsService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, campaigns, tenants } = deps;

  /** A failing tenant is logged and fails the run after the others (the queue retries it). */
  async function eachTenant(name: string, data: JobData, ctx: JobContext, work: (tenantId: string) => Promise<void>): Promise<number> {
    if (data.tenant_id !== undefined && (typeof data.tenant_id !== 'string' || !UUID_RE.test(data.tenant_id))) throw new Error(`${name}: tenant_id must be a tenant id (a UUID)`);
    const ids = data.tenant_id !== undefined ? [data.tenant_id] : await tenants.allTenantIds();
    const failed: string[] = [];
    for (const tenantId of ids) {
      try {
        await work(tenantId);
      } catch (err) {
        failed.push(tenantId);
        ctx.log.error({ err, job: name, tenant_id: tenantId }, 'campaigns job failed for a tenant');
      }
    }
    if (failed.length > 0) throw new Error(`${name} failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
    return ids.length;
  }

  jobs.define<JobData>({
    name: 'campaigns.launch',
    description: 'Assign every eligible active member of each launched campaign to treatment or control (a hash of campaign and member), then record the baseline of both groups.',
    schedule: '* * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      const total = { campaigns: 0, assigned: 0 };
      const n = await eachTenant('campaigns.launch', data, ctx, async (tenantId) => {
        const r = await campaigns.assignBases(db, tenantId);
        total.campaigns += r.campaigns;
        total.assigned += r.assigned;
      });
      return { tenants: n, ...total };
    },
  });

  jobs.define<JobData>({
    name: 'campaigns.advance',
    description: 'Start scheduled campaigns at starts_at (campaign.started) and end campaigns at ends_at (campaign.ended).',
    schedule: '* * * * *',
    handler: async (data, ctx) => {
      const total = { started: 0, ended: 0 };
      const n = await eachTenant('campaigns.advance', data, ctx, async (tenantId) => {
        const r = await campaigns.advance(db, tenantId);
        total.started += r.started;
        total.ended += r.ended;
      });
      return { tenants: n, ...total };
    },
  });
}
