import type { Patron } from '../app.js';
export async function loadDemo(_p: Patron): Promise<{ apiKey: string; tenantId: string }> {
  throw new Error('demo: under construction');
}
