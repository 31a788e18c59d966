/**
 * The transactional outbox. `emit(tx, event)` writes a domain event in the same
 * transaction as the state change it describes, so an event exists if and only
 * if its change committed. The messaging module delivers the events (webhooks,
 * triggers); until then they are listable for audit and tests.
 */
import type { Queryable } from '../db/db.js';
import { newId } from '../ids.js';

export interface DomainEvent {
  tenantId: string;
  /** Dotted name, `<aggregate>.<past-tense verb>`: member.created, points.earned … */
  type: string;
  aggregateType: string;
  aggregateId: string;
  /** The member the event concerns, for per-member ordering of delivery. */
  memberId?: string | null;
  payload: Record<string, unknown>;
  occurredAt: Date;
}

export async function emit(tx: Queryable, event: DomainEvent): Promise<string> {
  const id = newId();
  await tx.query(
    `INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [event.tenantId, id, event.type, event.aggregateType, event.aggregateId, event.memberId ?? null, JSON.stringify(event.payload), event.occurredAt],
  );
  return id;
}

/**
 * Writes many events in one statement, in the given order (bulk loads: the
 * demo, imports). Same rules as `emit`: inside the transaction of the change.
 */
export async function emitMany(tx: Queryable, events: DomainEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += 5000) {
    const chunk = events.slice(i, i + 5000);
    // One JSON document rather than eight arrays: serialising it is several
    // times cheaper than node-postgres's array literals, which matters for
    // imports of millions of rows. Rows keep their order (the identity `seq`).
    await tx.query(
      `INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
       SELECT tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at
         FROM ROWS FROM (json_to_recordset($1::json)
                AS (tenant_id uuid, id uuid, type text, aggregate_type text, aggregate_id text, member_id uuid, payload jsonb, occurred_at timestamptz))
              WITH ORDINALITY AS e(tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at, n)
        ORDER BY n`,
      [JSON.stringify(chunk.map((e) => ({
        tenant_id: e.tenantId, id: newId(), type: e.type, aggregate_type: e.aggregateType, aggregate_id: e.aggregateId,
        member_id: e.memberId ?? null, payload: e.payload, occurred_at: e.occurredAt,
      })))],
    );
  }
}

/**
 * Erasure (GDPR): blanks the named payload fields (sets them to null) of one member's events of the given types. The
 * outbox is otherwise never changed after commit; this is the one exception, for the few events that must carry
 * personal data to do their job (the phone number and text of an SMS request). Webhook deliveries read the payload
 * from here, so a later replay sends the blanked one. Returns how many events were changed.
 */
export async function redactMemberEvents(q: Queryable, tenantId: string, memberId: string, types: readonly string[], fields: readonly string[]): Promise<number> {
  if (types.length === 0 || fields.length === 0) return 0; // nothing named: an empty jsonb_object_agg is NULL, not {}
  const res = await q.query(
    `UPDATE outbox_events
        SET payload = payload || (SELECT jsonb_object_agg(f, NULL) FROM unnest($4::text[]) AS f)
      WHERE tenant_id = $1 AND member_id = $2 AND type = ANY($3::text[])`,
    [tenantId, memberId, types, fields],
  );
  return res.rowCount ?? 0;
}

/** The columns of a StoredEvent, for every read of the outbox (the listing, one event, the dispatcher's batch). */
export const EVENT_COLS = 'id, seq, type, aggregate_type, aggregate_id, member_id, payload, occurred_at';

export interface StoredEvent {
  id: string;
  seq: number;
  type: string;
  aggregate_type: string;
  aggregate_id: string;
  member_id: string | null;
  payload: Record<string, unknown>;
  occurred_at: Date;
}

export async function listEvents(
  db: Queryable,
  tenantId: string,
  opts: { afterSeq?: number; type?: string; aggregateId?: string; limit: number },
): Promise<StoredEvent[]> {
  const res = await db.query(
    `SELECT ${EVENT_COLS}
       FROM outbox_events
      WHERE tenant_id = $1
        AND seq > $2
        AND ($3::text IS NULL OR type = $3)
        AND ($4::text IS NULL OR aggregate_id = $4)
      ORDER BY seq
      LIMIT $5`,
    [tenantId, opts.afterSeq ?? 0, opts.type ?? null, opts.aggregateId ?? null, opts.limit],
  );
  return res.rows;
}

export async function getEvent(db: Queryable, tenantId: string, id: string): Promise<StoredEvent | null> {
  const res = await db.query<StoredEvent>(
    `SELECT ${EVENT_COLS} FROM outbox_events WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return res.rows[0] ?? null;
}
