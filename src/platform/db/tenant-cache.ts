/**
 * Per-process caches of tenant configuration that every order reads (the tenant's zone and currency, program
 * settings, earn rules). Correct across processes because every change announces itself with NOTIFY in its own
 * transaction:
 *
 *  - a change calls `config.changed(tx, tenantId)`: the notification goes out when (and only if) it commits, and
 *    this process stops using its caches for that tenant until it hears it, so a request that follows the change
 *    here always reads the new value;
 *  - every process drops the tenant's entries when the notification arrives; another process may use the old value
 *    for the few milliseconds that takes;
 *  - while the listening connection is down nothing is cached, and a value read before a notification arrived is
 *    never stored after it (a generation number per tenant).
 */
import type { Queryable } from './db.js';
import { notify, type Notifications } from './notifications.js';

const CHANNEL = 'patron_config';

/** How long a process that made a change waits at most for its own notification before caching again. */
const HOLD_MS = 10_000;

export class TenantCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly config: TenantConfig) {}

  async get(tenantId: string, load: () => Promise<T>): Promise<T> {
    if (!this.config.usable(tenantId)) return load();
    const hit = this.entries.get(tenantId);
    if (hit !== undefined) return hit;
    const before = this.config.generation(tenantId);
    const value = await load();
    if (this.config.generation(tenantId) === before && this.config.usable(tenantId)) this.entries.set(tenantId, value);
    return value;
  }

  /** @internal */
  drop(tenantId: string | null): void {
    if (tenantId === null) this.entries.clear();
    else this.entries.delete(tenantId);
  }
}

/** The process's tenant-configuration caches and their invalidation. */
export class TenantConfig {
  private readonly caches: Array<TenantCache<unknown>> = [];
  private readonly generations = new Map<string, number>();
  private readonly holds = new Map<string, number>();
  private epoch = 0;

  constructor(private readonly notifications: Notifications | null) {
    notifications?.on(CHANNEL, (payload) => this.drop(payload || null, true));
  }

  cache<T>(): TenantCache<T> {
    const c = new TenantCache<T>(this);
    this.caches.push(c as TenantCache<unknown>);
    return c;
  }

  /** In the transaction that changes a tenant's configuration: every process drops it once this commits. */
  async changed(tx: Queryable, tenantId: string): Promise<void> {
    this.holds.set(tenantId, Date.now() + HOLD_MS);
    this.drop(tenantId, false);
    await notify(tx, CHANNEL, tenantId);
  }

  /** @internal */
  usable(tenantId: string): boolean {
    return this.notifications?.listening === true && (this.holds.get(tenantId) ?? 0) <= Date.now();
  }

  /** @internal */
  generation(tenantId: string): string {
    return `${this.epoch}:${this.generations.get(tenantId) ?? 0}`;
  }

  private drop(tenantId: string | null, heard: boolean): void {
    for (const c of this.caches) c.drop(tenantId);
    if (tenantId === null) {
      this.epoch++;
      this.holds.clear();
      return;
    }
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    if (heard) this.holds.delete(tenantId);
  }
}
