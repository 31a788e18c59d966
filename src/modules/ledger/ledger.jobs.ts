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

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface JobData {
  /** Only this tenant (operators, tests); default every tenant. */
  tenant_id?: string;
}

export function defineLedgerJobs(jobs: Jobs, deps: LedgerJobsDeps): void {
  const { db, ledger, programs, tenants } = deps;

  /** Runs `work` for each tenant with its program; a failing tenant is logged and fails the run after the others. */
  async function eachTenant(name: string, data: JobData, ctx: JobContext, work: (tenantId: string, program: Program) => Promise<void>): Promise<number> {
    let ids: string[];
    if (data.tenant_id !== undefined) {
      if (typeof data.tenant_id !== 'string' || !UUID_RE.test(data.tenant_id)) throw new Error(`${name}: tenant_id must be a tenant id (a UUID)`);
      ids = [data.tenant_id];
    } else {
      ids = await tenants.allTenantIds();
    }
    const failed: string[] = [];
    for (const tenantId of ids) {
      try {
        await work(tenantId, await programs.get(db, tenantId));
      } catch (err) {
        failed.push(tenantId);
        ctx.log.error({ err, job: name, tenant_id: tenantId }, 'ledger job failed for a tenant');
      }
    }
    if (failed.length > 0) throw new Error(`${name} failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
    return ids.length;
  }

  jobs.define<JobData>({
    name: 'ledger.activate-pending',
    description: 'Make pending points spendable when their pending period is over (and settle negative balances and debts from them).',
    schedule: '*/5 * * * *',
    handler: async (data, ctx) => {
      const total = { members: 0, points: 0 };
      const n = await eachTenant('ledger.activate-pending', data, ctx, async (tenantId, program) => {
        const r = await ledger.activateDue(db, tenantId, program.negative_balance);
        total.members += r.members;
        total.points += r.points;
      });
      return { tenants: n, ...total };
    },
  });

  jobs.define<JobData>({
    name: 'ledger.expire-points',
    description: "Expire points past their expiry date, and under the inactivity policy every point of members inactive for the program's months.",
    schedule: '7 * * * *',
    expireInSeconds: 4 * 3600,
    handler: async (data, ctx) => {
      const due = { members: 0, points: 0 };
      const inactive = { members: 0, points: 0 };
      const n = await eachTenant('ledger.expire-points', data, ctx, async (tenantId, program) => {
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

  jobs.define<JobData>({
    name: 'ledger.release-holds',
    description: 'Release checkout holds past their expiry: their points go back to the member.',
    schedule: '* * * * *',
    handler: async (data, ctx) => {
      let released = 0;
      const n = await eachTenant('ledger.release-holds', data, ctx, async (tenantId, program) => {
        released += await ledger.releaseDueHolds(db, tenantId, program.negative_balance);
      });
      return { tenants: n, released };
    },
  });
}
