/**
 * The demo program (`npx patron demo`): a café chain with a few thousand
 * members, loaded from a fixed seed and safe to run again. Each concern has its
 * own file (tenant.demo.ts, members.demo.ts, …); later features add theirs and
 * a step here.
 *
 * Everything happens in one transaction under an advisory lock, so two demos
 * started at once, or a crash half-way, never leave a half-loaded tenant.
 * Prints nothing: the CLI prints the URLs and the key.
 */
import type { Patron } from '../app.js';
import { loadDemoMembers } from './members.demo.js';
import { DEMO_TENANT_ID, ensureDemoTenant } from './tenant.demo.js';

export { DEMO_TENANT_ID } from './tenant.demo.js';

const DEMO_LOCK = 727_004;

export interface DemoResult {
  /** A fresh admin key of the demo tenant (keys are stored hashed: an old one cannot be shown again). */
  apiKey: string;
  tenantId: string;
  /** Members inserted by this run (0 when the demo was loaded before). */
  membersInserted: number;
}

export async function loadDemo(patron: Patron): Promise<DemoResult> {
  return patron.db.tx(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [DEMO_LOCK]);
    const { tenant, apiKey: initialKey } = await ensureDemoTenant(patron, tx);
    // The demo's "now" is the moment the tenant was first created: later runs
    // regenerate exactly the same members (same ids), so nothing is added twice.
    const anchor = tenant.created_at;
    const membersInserted = await loadDemoMembers(patron.services.members, tx, DEMO_TENANT_ID, anchor);
    const apiKey =
      initialKey ??
      (await patron.services.tenants.createKey(tx, DEMO_TENANT_ID, { name: 'Demo admin key', scopes: ['admin'], createdBy: 'demo' })).key;
    return { apiKey, tenantId: DEMO_TENANT_ID, membersInserted };
  });
}
