/**
 * `cases.sla`: flags cases whose first response or resolution is overdue and escalates each once (docs/cases.md).
 * Walks every tenant (or the one named in `{"tenant_id": …}`) in batches; a case is flagged once per SLA and
 * escalated once, so a run repeated or interrupted does no harm.
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant } from '../../platform/jobs/each-tenant.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import type { CasesService } from './cases.service.js';

const BATCH = 500;

export function defineCaseJobs(jobs: Jobs, deps: { db: Db; cases: CasesService; tenants: Pick<TenantsService, 'allTenantIds'> }): void {
  const { db, cases, tenants } = deps;
  jobs.define<{ tenant_id?: string }>({
    name: 'cases.sla',
    description: 'Flag cases past their first-response or resolution due time (case.sla_breached) and escalate each once (case.escalated).',
    schedule: '*/5 * * * *',
    handler: async (data, ctx) => {
      const total = { breached: 0, escalated: 0 };
      const n = await eachTenant('cases.sla', data, ctx, tenants, async (tenantId) => {
        for (;;) {
          const r = await db.tx((tx) => cases.checkBreaches(tx, tenantId, BATCH));
          total.breached += r.breached;
          total.escalated += r.escalated;
          // A batch short of full was the last: no extra empty transaction per tenant.
          if (!r.more) break;
        }
      });
      return { tenants: n, ...total };
    },
  });
}
