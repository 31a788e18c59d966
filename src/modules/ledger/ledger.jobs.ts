/**
 * The ledger's scheduled jobs: pending points become spendable, points expire, checkout holds past their time are
 * released. Each walks every tenant (or the one named in `{"tenant_id": …}`: `npx patron jobs run NAME --data …`)
 * and does the work in batches that commit on their own, so a run may be interrupted or repeated: what is done
 * stays done and is not done twice (see Ledger.activateDue, expireDue, expireInactive, releaseDueHolds).
 *
 * A tenant that fails does not stop the others: its error is logged and the run fails at the end, so the queue
 * retries it (the tenants already done have nothing left to do).
 */
import type { Db } from '../../platform/db/db.js';
import { eachTenant, type TenantJobData } from '../../platform/jobs/each-tenant.js';
import type { JobContext, Jobs } from '../../platform/jobs/jobs.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { inactivityCutoff } from '../programs/programs.policy.js';
import type { Program, ProgramsService } from '../programs/programs.service.js';
import type { Ledger } from './ledger.service.js';

export interface LedgerJobsDeps {
  db: Db;
  ledger: Ledger;
  programs: Pick<ProgramsService, 'get'>;
  tenants: Pick<TenantsService, 'allTenantIds'>;
}

export function defineLedgerJobs(jobs: Jobs, deps: LedgerJobsDeps): void {
  const { db, ledger, programs, tenants } = deps;

  /** Runs `work` for each tenant with its program (read inside the tenant's try: a failure there fails that tenant only). */
  const eachTenantWithProgram = (name: string, data: TenantJobData, ctx: JobContext, work: (tenantId: string, program: Program) => Promise<void>): Promise<number> =>
    eachTenant(name, data, ctx, tenants, async (tenantId) => work(tenantId, await programs.get(db, tenantId)), 'ledger job failed for a tenant');

  jobs.define<TenantJobData>({
    name: 'ledger.activate-pending',
    description: 'Make pending points spendable when their pending period is over (and settle negative balances and debts from them).',
    schedule: '*/5 * * * *',
    handler: async (data, ctx) => {
      const total = { members: 0, points: 0 };
      const n = await eachTenantWithProgram('ledger.activate-pending', data, ctx, async (tenantId, program) => {
        const r = await ledger.activateDue(db, tenantId, program.negative_balance);
        total.members += r.members;
        total.points += r.points;
      });
      return { tenants: n, ...total };
    },
  });

  jobs.define<TenantJobData>({
    name: 'ledger.expire-points',
    description: "Expire points past their expiry date, and under the inactivity policy every point of members inactive for the program's months.",
    schedule: '7 * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      const due = { members: 0, points: 0 };
      const inactive = { members: 0, points: 0 };
      const n = await eachTenantWithProgram('ledger.expire-points', data, ctx, async (tenantId, program) => {
        // Lots with an expiry date expire whatever the current policy: they were given one when earned.
        const r = await ledger.expireDue(db, tenantId);
        due.members += r.members;
        due.points += r.points;
        const cutoff = inactivityCutoff(program.expiry, ctx.clock.now());
        if (cutoff) {
          const i = await ledger.expireInactive(db, tenantId, cutoff);
          inactive.members += i.members;
          inactive.points += i.points;
        }
      });
      return { tenants: n, expired: due, inactive };
    },
  });

  jobs.define<TenantJobData>({
    name: 'ledger.release-holds',
    description: 'Release checkout holds past their expiry: their points go back to the member.',
    schedule: '* * * * *',
    handler: async (data, ctx) => {
      let released = 0;
      const n = await eachTenantWithProgram('ledger.release-holds', data, ctx, async (tenantId, program) => {
        released += await ledger.releaseDueHolds(db, tenantId, program.negative_balance);
      });
      return { tenants: n, released };
    },
  });
}
