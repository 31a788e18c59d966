/**
 * `analytics.simulate`: replays one queued what-if simulation (`{"tenant_id": …, "simulation_id": …}`), queued by
 * POST /v1/analytics/simulations in the transaction that records it. A simulation is claimed before it is replayed,
 * so a job delivered twice replays once; a run whose process died is taken over by the job's retry once it is stale.
 */
import type { Db } from '../../../platform/db/db.js';
import { isUuid } from '../../../platform/ids.js';
import type { Jobs } from '../../../platform/jobs/jobs.js';
import { SIMULATE_JOB, STALE_RUN_SECONDS, type SimulatorService } from './simulator.service.js';

export function defineSimulatorJobs(jobs: Jobs, deps: { db: Db; simulator: SimulatorService }): void {
  jobs.define<{ tenant_id?: string; simulation_id?: string }>({
    name: SIMULATE_JOB,
    description: 'Replay a what-if simulation: the last N months of orders through a draft of earn rules, tiers or expiry, against the current configuration and what happened.',
    retryLimit: 2,
    // pg-boss retries a job that ran out its time; by then the run counts as stale and the retry takes it over.
    expireInSeconds: STALE_RUN_SECONDS,
    handler: async (data) => {
      if (typeof data.tenant_id !== 'string' || !isUuid(data.tenant_id)) throw new Error(`${SIMULATE_JOB}: tenant_id must be a tenant id (a UUID)`);
      if (typeof data.simulation_id !== 'string' || !isUuid(data.simulation_id)) throw new Error(`${SIMULATE_JOB}: simulation_id must be a simulation id (a UUID)`);
      const status = await deps.simulator.run(deps.db, data.tenant_id, data.simulation_id);
      return { simulation_id: data.simulation_id, status: status ?? 'not claimed (done, or running elsewhere)' };
    },
  });
}
