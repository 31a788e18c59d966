/**
 * `surveys.invite`: sends due scheduled invitations (or skips them with a reason), invites members for
 * relationship surveys, and expires pending invitations past expires_at. Walks every tenant (or the one named in
 * `{"tenant_id": …}`); may be interrupted or repeated: every step is a state change done once per invitation.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant } from '../../platform/jobs/each-tenant.js';
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
      const total = { sent: 0, skipped: 0, invited: 0, expired: 0 };
      const n = await eachTenant('surveys.invite', data, ctx, tenants, async (tenantId) => {
        // Expire first: an invitation past its time is never counted as sent by a later step of this run.
        total.expired += (await surveys.expireDue(db, tenantId)).expired;
        const due = await surveys.sendDue(db, tenantId);
        total.sent += due.sent;
        total.skipped += due.skipped;
        total.invited += (await surveys.inviteRelationship(db, tenantId)).invited;
      }, 'surveys job failed for a tenant');
      return { tenants: n, ...total };
    },
  });
}
