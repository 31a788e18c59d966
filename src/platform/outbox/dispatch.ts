/**
 * Delivery of the outbox (docs/events.md). Every event a module emits is handed, in `seq` order, to every
 * registered consumer (the webhooks fan-out, the messaging triggers) inside ONE transaction that also marks the
 * events dispatched. So a consumer's work (a delivery row, a queued email) exists if and only if the event is
 * marked: a process that dies at any point leaves the events undispatched and the next run hands them out again,
 * and nothing is handed out twice. Consumers must therefore only write rows in `tx` (sending happens later, from
 * those rows, with their own retries).
 *
 * One dispatcher per tenant at a time (a transaction-scoped advisory try-lock), so a tenant's events reach the
 * consumers in the order they were written; per member this is the order of the changes, because a member's
 * changes hold the member's lock until they commit.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { withSavepoint, type Db, type Tx } from '../db/db.js';
import type { StoredEvent } from './outbox.js';

export interface OutboxConsumer {
  /** For logs: `webhooks`, `messaging.triggers` … */
  name: string;
  /** The event types it wants; undefined: every type. */
  types?: ReadonlySet<string>;
  /**
   * Called in the dispatch transaction with the tenant's new events of its types, oldest first. It must only
   * write in `tx`. A consumer that throws on a single event is skipped for that event (logged); the other
   * consumers still get it.
   */
  handle(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<void>;
}

export interface DispatchResult {
  tenants: number;
  events: number;
}

const BATCH = 1000;

/**
 * PostgreSQL errors that say nothing about the event: transaction rollback (serialization, deadlock), lock or
 * statement timeouts and cancellations, lost connections, resources.
 */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(40|08|53|57|55P03)/.test(code);
}

export class OutboxDispatcher {
  private readonly consumers: OutboxConsumer[] = [];

  constructor(private readonly deps: { db: Db; clock: Clock; log: Logger }) {}

  register(consumer: OutboxConsumer): void {
    if (this.consumers.some((c) => c.name === consumer.name)) throw new Error(`Outbox consumer ${consumer.name} is registered twice`);
    this.consumers.push(consumer);
  }

  /** Dispatches every tenant that has undispatched events (or only `tenantId`). */
  async dispatchAll(tenantId?: string): Promise<DispatchResult> {
    const ids = tenantId
      ? [tenantId]
      : (await this.deps.db.query<{ id: string }>(
          `SELECT t.id FROM tenants t
            WHERE EXISTS (SELECT 1 FROM outbox_events o WHERE o.tenant_id = t.id AND o.dispatched_at IS NULL)`,
        )).rows.map((r) => r.id);
    let events = 0;
    for (const id of ids) events += await this.dispatchTenant(id);
    return { tenants: ids.length, events };
  }

  /**
   * Hands out the tenant's undispatched events until none is left; returns how many. Returns 0 at once when
   * another process is dispatching the tenant (it will hand them out).
   */
  async dispatchTenant(tenantId: string): Promise<number> {
    let total = 0;
    // After a failed batch, the next BATCH events go one at a time, so that one event cannot hold the others back.
    let singleUntil = 0;
    for (;;) {
      const limit = total < singleUntil ? 1 : BATCH;
      let n: number;
      try {
        n = await this.deps.db.tx((tx) => this.dispatchBatch(tx, tenantId, limit));
      } catch (err) {
        if (limit === 1) throw err;
        this.deps.log.warn({ err, tenant_id: tenantId }, 'outbox dispatch failed; retrying event by event');
        singleUntil = total + BATCH;
        continue;
      }
      if (n <= 0) return total;
      total += n;
      if (limit === BATCH && n < BATCH) return total;
    }
  }

  private async dispatchBatch(tx: Tx, tenantId: string, limit: number): Promise<number> {
    const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok`, [`outbox-dispatch:${tenantId}`]);
    if (!lock.rows[0]!.ok) return -1;
    const events = (await tx.query<StoredEvent>(
      `SELECT id, seq, type, aggregate_type, aggregate_id, member_id, payload, occurred_at
         FROM outbox_events
        WHERE tenant_id = $1 AND dispatched_at IS NULL
        ORDER BY seq
        LIMIT $2`,
      [tenantId, limit],
    )).rows;
    if (events.length === 0) return 0;
    for (const consumer of this.consumers) {
      const mine = consumer.types ? events.filter((e) => consumer.types!.has(e.type)) : events;
      if (mine.length === 0) continue;
      try {
        await withSavepoint(tx, () => consumer.handle(tx, tenantId, mine));
      } catch (err) {
        // In a batch, give up the whole batch and retry event by event (dispatchTenant); alone, skip this
        // consumer for this event so that one bad event cannot stop the tenant's outbox. Unless the failure is the
        // database's (a deadlock, a timeout, a lost connection): that is no fault of the event, and skipping it
        // would lose the consumer's delivery; the whole run fails and the next one hands the event out again.
        if (events.length > 1 || isTransient(err)) throw err;
        this.deps.log.error({ err, tenant_id: tenantId, event_id: mine[0]!.id, event_type: mine[0]!.type, consumer: consumer.name }, 'outbox consumer failed on an event; skipped for this consumer');
      }
    }
    await tx.query(
      `UPDATE outbox_events SET dispatched_at = $3 WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, events.map((e) => e.id), this.deps.clock.now()],
    );
    return events.length;
  }
}
