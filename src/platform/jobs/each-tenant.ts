/**
 * The per-tenant loop of the modules' scheduled jobs: every tenant, or the one named in `{"tenant_id": …}`
 * (operators, tests: `npx patron jobs run NAME --data …`). A tenant that fails does not stop the others: its error
 * is logged and the run fails at the end, so the queue retries it (the tenants already done have nothing left to do).
 */
import { isUuid } from '../ids.js';
import type { JobContext } from './jobs.js';

/** The data a per-tenant job accepts. */
export interface TenantJobData {
  /** Only this tenant; default every tenant. */
  tenant_id?: string;
}

/** Where the tenants come from (the tenants module). */
export interface TenantIds {
  allTenantIds(): Promise<string[]>;
}

/** The one tenant a job's data names (`{"tenant_id": …}`), or undefined for every tenant; anything else is an error. */
export function tenantIdOf(name: string, data: TenantJobData): string | undefined {
  if (data.tenant_id !== undefined && (typeof data.tenant_id !== 'string' || !isUuid(data.tenant_id))) throw new Error(`${name}: tenant_id must be a tenant id (a UUID)`);
  return data.tenant_id;
}

/**
 * Runs `work` for each tenant; returns how many tenants the run covered. `failedLog` is the log message of a
 * tenant that failed.
 */
export async function eachTenant(
  name: string,
  data: TenantJobData,
  ctx: JobContext,
  tenants: TenantIds,
  work: (tenantId: string) => Promise<void>,
  failedLog = `${name} failed for a tenant`,
): Promise<number> {
  const one = tenantIdOf(name, data);
  const ids = one !== undefined ? [one] : await tenants.allTenantIds();
  const failed: string[] = [];
  for (const tenantId of ids) {
    try {
      await work(tenantId);
    } catch (err) {
      failed.push(tenantId);
      ctx.log.error({ err, job: name, tenant_id: tenantId }, failedLog);
    }
  }
  if (failed.length > 0) throw new Error(`${name} failed for ${failed.length} of ${ids.length} tenants: ${failed.slice(0, 10).join(', ')}`);
  return ids.length;
}
