/**
 * Delivery of the outbox (docs/events.md). Every event a module emits is handed, in `seq` order, to every
 * registered consumer (the webhooks fan-out, the messaging triggers) inside ONE transaction that also marks the
 * events dispatched. So a consumer's work (a delivery row, a queued email) exists if and only if the event is
 * marked: a process that dies at any point leaves the events undispatched and the next run hands them out again,
 * and nothing is handed out twice. Consumers must therefore only write rows in `tx` (sending happens later, from
 * those rows, with their own retries).
 *
 * One dispatcher per tenant at a time (a transaction-scoped advisory try-lock), and each batch is the tenant's
 * committed, undispatched events in `seq` order. An event whose transaction commits after a later-numbered one was
 * dispatched is handed out in the next batch: the order consumers see is the order in which changes became
 * visible (commit order), which keeps cause before effect — a change made after another committed always comes after
 * it. Two changes of one member that run at the same moment under different locks (an agent's reply and a purchase)
 * have no order of their own, and may arrive either way round (docs/events.md).
 *
 * Tenants take turns: a run hands out at most TURN_BATCHES batches of a tenant before moving on to the next, and
 * goes round again while any has more, so a tenant importing millions of events does not hold back the others'
 * voucher codes and case replies. A tenant whose dispatch fails is logged and skipped for this run; the others go on.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { withSavepoint, type Db, type Tx } from '../db/db.js';
import { AppError, errors } from '../errors.js';
import { EVENT_COLS, getEvent, type StoredEvent } from './outbox.js';
import * as skips from './skips.js';

export interface OutboxConsumer {
  /** For logs: `webhooks`, `messaging.triggers` … */
  name: string;
  /** The event types it wants; undefined: every type. */
  types?: ReadonlySet<string>;
  /**
   * Called in the dispatch transaction with the tenant's new events of its types, oldest first. It must only
   * write in `tx`. A consumer that throws on a single event is skipped for that event (logged, and recorded in
   * outbox_skips to be retried by hand); the other consumers still get it. It must accept an event again (a retry
   * of a skip hands it out after later ones).
   */
  handle(tx: Tx, tenantId: string, events: StoredEvent[]): Promise<void>;
}

export interface DispatchResult {
  tenants: number;
  events: number;
}

const BATCH = 1000;
/** Batches of one tenant per turn (10,000 events). */
const TURN_BATCHES = 10;

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

  constructor(private readonly deps: { db: Db; clock: Clock; log: Logger; onSkip?: (consumer: string) => void }) {}

  register(consumer: OutboxConsumer): void {
    if (this.consumers.some((c) => c.name === consumer.name)) throw new Error(`Outbox consumer ${consumer.name} is registered twice`);
    this.consumers.push(consumer);
  }

  /** Dispatches every tenant that has undispatched events (or only `tenantId`), the tenants taking turns. */
  async dispatchAll(tenantId?: string): Promise<DispatchResult> {
    const ids = tenantId
      ? [tenantId]
      : (await this.deps.db.query<{ id: string }>(
          `SELECT t.id FROM tenants t
            WHERE EXISTS (SELECT 1 FROM outbox_events o WHERE o.tenant_id = t.id AND o.dispatched_at IS NULL)`,
        )).rows.map((r) => r.id);
    let events = 0;
    let failure: unknown = null;
    let turn = ids;
    while (turn.length > 0) {
      const more: string[] = [];
      for (const id of turn) {
        try {
          const done = await this.dispatchTenant(id, TURN_BATCHES);
          events += done.events;
          if (done.more) more.push(id);
        } catch (err) {
          failure ??= err;
          this.deps.log.error({ err, tenant_id: id }, 'outbox dispatch failed for a tenant; the next run tries again');
        }
      }
      turn = more;
    }
    // A single tenant asked for by name reports its failure (the CLI, tests); a run over all of them has logged it.
    if (tenantId && failure) throw failure;
    return { tenants: ids.length, events };
  }

  /**
   * Hands out the tenant's undispatched events, at most `maxBatches` batches; `more` says whether some are left.
   * Returns at once when another process is dispatching the tenant (it will hand them out).
   */
  async dispatchTenant(tenantId: string, maxBatches = Number.POSITIVE_INFINITY): Promise<{ events: number; more: boolean }> {
    let total = 0;
    let batches = 0;
    // After a failed batch, the next BATCH events go one at a time, so that one event cannot hold the others back.
    let singleUntil = 0;
    while (batches < maxBatches || total < singleUntil) {
      const limit = total < singleUntil ? 1 : BATCH;
      let n: number;
      // The consumers that skipped an event in this batch: counted once its transaction has committed.
      let skipped: string[] = [];
      try {
        n = await this.deps.db.tx((tx) => {
          skipped = [];
          return this.dispatchBatch(tx, tenantId, limit, skipped);
        });
        for (const consumer of skipped) this.deps.onSkip?.(consumer);
      } catch (err) {
        if (limit === 1) throw err;
        this.deps.log.warn({ err, tenant_id: tenantId }, 'outbox dispatch failed; retrying event by event');
        singleUntil = total + BATCH;
        continue;
      }
      if (n <= 0) return { events: total, more: false };
      total += n;
      if (limit === BATCH) {
        batches++;
        if (n < BATCH) return { events: total, more: false };
      }
    }
    return { events: total, more: true };
  }

  private async dispatchBatch(tx: Tx, tenantId: string, limit: number, skipped: string[]): Promise<number> {
    const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok`, [`outbox-dispatch:${tenantId}`]);
    if (!lock.rows[0]!.ok) return -1;
    const events = (await tx.query<StoredEvent>(
      `SELECT ${EVENT_COLS}
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
        await skips.insertSkip(tx, tenantId, { eventId: mine[0]!.id, consumer: consumer.name, error: messageOf(err), at: this.deps.clock.now() });
        skipped.push(consumer.name);
      }
    }
    await tx.query(
      `UPDATE outbox_events SET dispatched_at = $3 WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, events.map((e) => e.id), this.deps.clock.now()],
    );
    return events.length;
  }

  // ── Skipped events ─────────────────────────────────────────────────────────

  listSkips(q: Db | Tx, tenantId: string, f: { open: boolean; before?: { at: Date; id: string } | undefined; limit: number }): Promise<skips.SkipRow[]> {
    return skips.listSkips(q, tenantId, f);
  }

  async getSkip(q: Db | Tx, tenantId: string, id: string): Promise<skips.SkipRow> {
    const row = await skips.getSkip(q, tenantId, id);
    if (!row) throw errors.notFound('skipped event', id);
    return row;
  }

  /**
   * Hands a skipped event to its consumer again, in `tx` (its work commits with the retry, or not at all). A skip
   * retried before is returned as it is. The consumer failing again is a 422 with its error; the skip stays open.
   * The event reaches the consumer after later ones: for a webhook, after the member's later events.
   */
  async retrySkip(tx: Tx, tenantId: string, id: string): Promise<skips.SkipRow> {
    const row = await skips.getSkip(tx, tenantId, id, { lock: true });
    if (!row) throw errors.notFound('skipped event', id);
    if (row.retried_at) return row;
    const consumer = this.consumers.find((c) => c.name === row.consumer);
    if (!consumer) throw errors.unprocessable(`the consumer ${row.consumer} is no longer part of this Patron`);
    const event = await getEvent(tx, tenantId, row.event_id);
    if (!event) throw errors.notFound('event', row.event_id);
    try {
      // Consumers are written for one dispatcher of the tenant at a time: wait for a running dispatch (a dispatch
      // that starts meanwhile finds the lock taken and leaves the tenant to its next run).
      await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`outbox-dispatch:${tenantId}`]);
      await withSavepoint(tx, () => consumer.handle(tx, tenantId, [event]));
    } catch (err) {
      // The database's (a deadlock, a timeout), not the event's: a 503, to be tried again (and not kept as the answer).
      if (isTransient(err)) throw new AppError('unavailable', `the database could not complete the retry (${messageOf(err)}); try again`, [], { 'retry-after': '1' });
      throw errors.unprocessable(`the consumer ${row.consumer} failed again: ${messageOf(err)}`.slice(0, 2000));
    }
    const at = this.deps.clock.now();
    await skips.markRetried(tx, tenantId, id, at);
    return { ...row, retried_at: at };
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message || err.name : String(err);
}
