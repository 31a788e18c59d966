/**
 * The demo's business: Brew & Bloom, a specialty café chain based in Sofia
 * with a few shops elsewhere in Bulgaria. A fixed tenant id, so every run of
 * the demo finds the same tenant.
 */
import type { Patron } from '../app.js';
import type { Tx } from '../platform/db/db.js';
import type { TenantRow } from '../modules/tenants/tenants.service.js';

export const DEMO_TENANT_ID = '00000000-0000-7000-8000-00000000de01';

export const DEMO_TENANT = {
  name: 'Brew & Bloom',
  // Bulgaria has used the euro since 1 January 2026.
  default_currency: 'EUR',
  default_locale: 'bg',
  time_zone: 'Europe/Sofia',
  notification_email: 'loyalty@brewandbloom.example',
} as const;

/** The chain's shops, the "home store" of members (and, in later demos, where orders happen). */
export const STORES = [
  { code: 'SOF-VIT', name: 'Sofia – Vitosha Blvd', weight: 24 },
  { code: 'SOF-LOZ', name: 'Sofia – Lozenets', weight: 16 },
  { code: 'SOF-BPS', name: 'Sofia – Business Park', weight: 14 },
  { code: 'SOF-NDK', name: 'Sofia – NDK', weight: 12 },
  { code: 'PDV-KAP', name: 'Plovdiv – Kapana', weight: 14 },
  { code: 'VAR-MGR', name: 'Varna – Sea Garden', weight: 12 },
  { code: 'BOJ-CEN', name: 'Burgas – Center', weight: 8 },
] as const;

/**
 * Creates the demo tenant unless it exists. Returns it, with the key made on
 * creation (the initial admin key) or null when it already existed.
 */
export async function ensureDemoTenant(patron: Patron, tx: Tx): Promise<{ tenant: TenantRow; apiKey: string | null }> {
  const tenants = patron.services.tenants;
  const existing = await tenants.getTenant(tx, DEMO_TENANT_ID);
  if (existing) return { tenant: existing, apiKey: null };
  const created = await tenants.createTenant(tx, { ...DEMO_TENANT }, { id: DEMO_TENANT_ID, createdBy: 'demo' });
  return { tenant: created.tenant, apiKey: created.apiKey };
}
