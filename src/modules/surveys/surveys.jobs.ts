/**
 * `surveys.invite`: sends due scheduled invitations (or skips them with a reason), invites members for
 * relationship surveys, and expires pending invitations past expires_at. Walks every tenant (or the one named in
 * `{"tenant_id": …}`); may be interrupted or repeated: every step is a state change done once per invitation.
 */
import type { Db } from '../../platform/db/db.js';
import { tenantIdOf } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { SurveysService } from './surveys.service.js';

interface JobData {
  tenant_id?: string;
}

export function defineSurveyJobs(jobs: Jobs, deps: { db: Db; surveys: SurveysService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, surveys, tenants } = deps;
  jobs.define<JobData>({
    name: 'surveys.invite',
    description: 'Send due scheduled survey invitations (or skip them: throttled, member_inactive, survey_not_live), invite members for relationship surveys, and expire pending invitations past expires_at.',
    schedule: '*/5 * * * *',
    expireInSeconds: 3600,
    handler: async (data, ctx) => {
      const one = tenantIdOf('surveys.invite', data);
      const ids = one !== undefined ? [one] : await tenants.allTenantIds();
      const total = { sent: 0, skipped: 0, invited: 0, expired: 0 };
      const failed: string[] = [];
      for (const tenantId of ids) {
        try {
          // Expire first: an invitation past its time is never counted as sent by a later step of this run.
          total.expired += (await surveys.expireDue(db, tenantId)).expired;
          const due = await surveys.sendDue(db, tenantId);
          total.sent += due.sent;
          total.skipped += due.skipped;
          total.invited += (await surveys.inviteRelationship(db, tenantId)).invited;
        } catch (err) {
          failed.push(tenantId);
          ctx.log.error({ err, job: 'surveys.invite', tenant_id: tenantId }, 'surveys job failed for a tenant');
        }
      }
      if (failed.length > 0) throw new Error(`surveys.invite failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
      return { tenants: ids.length, ...total };
    },
  });
}
