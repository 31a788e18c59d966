/** SQL for webhook_endpoints, webhook_secrets, webhook_deliveries and webhook_attempts (migrations/0019_messaging.sql). */
import type { Queryable } from '../../platform/db/db.js';
import { newId } from '../../platform/ids.js';
import type { StoredEvent } from '../../platform/outbox/outbox.js';

export type EndpointStatus = 'active' | 'disabled';
export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';
export type DeliveryKind = 'event' | 'replay';

export interface EndpointRow {
  id: string;
  url: string;
  description: string;
  event_types: string[];
  status: EndpointStatus;
  disabled_reason: string | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  last_success_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_seq: number;
  event_type: string;
  member_id: string | null;
  kind: DeliveryKind;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: Date;
  locked_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  finished_at: Date | null;
}

export interface AttemptRow {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  attempted_at: Date;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response_body: string | null;
}

/** A delivery claimed for sending, with what the request needs: the endpoint's URL and the stored event. */
export interface ClaimedDelivery extends DeliveryRow {
  url: string;
  /** When its first attempt was made (null: this is the first), for the retry schedule's 24-hour floor. */
  first_attempt_at: Date | null;
  event: Pick<StoredEvent, 'id' | 'type' | 'aggregate_type' | 'aggregate_id' | 'member_id' | 'payload' | 'occurred_at'>;
}

const ENDPOINT_COLS = 'id, url, description, event_types, status, disabled_reason, disabled_at, failing_since, last_success_at, created_at, updated_at';
const DELIVERY_COLS = 'id, endpoint_id, event_id, event_seq, event_type, member_id, kind, status, attempts, next_attempt_at, locked_until, last_status_code, last_error, created_at, finished_at';
const ATTEMPT_COLS = 'id, delivery_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body';
const d = (cols: string) => cols.split(', ').map((c) => `d.${c}`).join(', ');

// ── Endpoints ────────────────────────────────────────────────────────────────

export async function insertEndpoint(q: Queryable, tenantId: string, e: EndpointRow): Promise<EndpointRow> {
  const res = await q.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (tenant_id, ${ENDPOINT_COLS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING ${ENDPOINT_COLS}`,
    [tenantId, e.id, e.url, e.description, e.event_types, e.status, e.disabled_reason, e.disabled_at, e.failing_since, e.last_success_at, e.created_at, e.updated_at],
  );
  return res.rows[0]!;
}

export async function getEndpoint(q: Queryable, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<EndpointRow | null> {
  const res = await q.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2${opts.lock ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return res.rows[0] ?? null;
}

/** Newest first, by id (time-ordered). */
export async function listEndpoints(q: Queryable, tenantId: string, opts: { status?: EndpointStatus; beforeId?: string; limit: number }): Promise<EndpointRow[]> {
  const res = await q.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLS} FROM webhook_endpoints
      WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [tenantId, opts.status ?? null, opts.beforeId ?? null, opts.limit],
  );
  return res.rows;
}

export async function updateEndpoint(q: Queryable, tenantId: string, e: EndpointRow): Promise<EndpointRow> {
  const res = await q.query<EndpointRow>(
    `UPDATE webhook_endpoints
        SET url = $3, description = $4, event_types = $5, status = $6, disabled_reason = $7, disabled_at = $8,
            failing_since = $9, last_success_at = $10, updated_at = $11
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${ENDPOINT_COLS}`,
    [tenantId, e.id, e.url, e.description, e.event_types, e.status, e.disabled_reason, e.disabled_at, e.failing_since, e.last_success_at, e.updated_at],
  );
  return res.rows[0]!;
}

/** Deletes the endpoint with its secrets, deliveries and attempts (ON DELETE CASCADE). */
export async function deleteEndpoint(q: Queryable, tenantId: string, id: string): Promise<void> {
  await q.query(`DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}

/** The active endpoints of the tenant (the fan-out's targets). */
export async function activeEndpoints(q: Queryable, tenantId: string): Promise<Array<Pick<EndpointRow, 'id' | 'event_types'>>> {
  const res = await q.query(`SELECT id, event_types FROM webhook_endpoints WHERE tenant_id = $1 AND status = 'active' ORDER BY id`, [tenantId]);
  return res.rows;
}

/** A success: the endpoint is healthy again (its 5-day failing clock stops). */
export async function endpointSucceeded(q: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await q.query(
    `UPDATE webhook_endpoints SET last_success_at = greatest(last_success_at, $3), failing_since = NULL WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, at],
  );
}

/** A failure: starts the failing clock if it is not running; returns the endpoint (locked) as it now is. */
export async function endpointFailed(q: Queryable, tenantId: string, id: string, at: Date): Promise<EndpointRow | null> {
  const res = await q.query<EndpointRow>(
    `UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, $3) WHERE tenant_id = $1 AND id = $2 RETURNING ${ENDPOINT_COLS}`,
    [tenantId, id, at],
  );
  return res.rows[0] ?? null;
}

// ── Secrets ──────────────────────────────────────────────────────────────────

export async function insertSecret(q: Queryable, tenantId: string, endpointId: string, secret: string, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO webhook_secrets (tenant_id, endpoint_id, id, secret, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, NULL)`,
    [tenantId, endpointId, newId(), secret, at],
  );
}

/** The secrets that sign at `at`, newest first: the current one and those of a rotation still in their overlap. */
export async function signingSecrets(q: Queryable, tenantId: string, endpointId: string, at: Date): Promise<Array<{ secret: string; created_at: Date; expires_at: Date | null }>> {
  const res = await q.query(
    `SELECT secret, created_at, expires_at FROM webhook_secrets
      WHERE tenant_id = $1 AND endpoint_id = $2 AND (expires_at IS NULL OR expires_at > $3)
      ORDER BY created_at DESC, id DESC`,
    [tenantId, endpointId, at],
  );
  return res.rows;
}

/**
 * A rotation: the current secret (and any still overlapping) stop signing at `expiresAt` at the latest; secrets
 * already expired are deleted (they sign nothing any more).
 */
export async function expireSecrets(q: Queryable, tenantId: string, endpointId: string, at: Date, expiresAt: Date): Promise<void> {
  await q.query(`DELETE FROM webhook_secrets WHERE tenant_id = $1 AND endpoint_id = $2 AND expires_at <= $3`, [tenantId, endpointId, at]);
  await q.query(
    `UPDATE webhook_secrets SET expires_at = least(coalesce(expires_at, $3), $3) WHERE tenant_id = $1 AND endpoint_id = $2`,
    [tenantId, endpointId, expiresAt],
  );
}

// ── Deliveries ───────────────────────────────────────────────────────────────

export interface NewDelivery {
  endpointId: string;
  event: Pick<StoredEvent, 'id' | 'seq' | 'type' | 'member_id'>;
  kind: DeliveryKind;
  /** Not due before this (default: `at`). */
  dueAt?: Date;
}

/** Inserts deliveries made at `at`, in the given order (ids are time-ordered, so the log lists them in it). */
export async function insertDeliveries(q: Queryable, tenantId: string, rows: NewDelivery[], at: Date): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    const chunkIds = chunk.map(() => newId());
    ids.push(...chunkIds);
    await q.query(
      `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_seq, event_type, member_id, kind, status, attempts, next_attempt_at, created_at)
       SELECT $1, r.id, r.endpoint_id, r.event_id, r.event_seq, r.event_type, r.member_id, r.kind, 'pending', 0, r.due_at, $2
         FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::bigint[], $7::text[], $8::uuid[], $9::text[], $10::timestamptz[])
              AS r(id, endpoint_id, event_id, event_seq, event_type, member_id, kind, due_at)`,
      [
        tenantId, at, chunkIds, chunk.map((r) => r.endpointId), chunk.map((r) => r.event.id), chunk.map((r) => r.event.seq),
        chunk.map((r) => r.event.type), chunk.map((r) => r.event.member_id), chunk.map((r) => r.kind), chunk.map((r) => r.dueAt ?? at),
      ],
    );
  }
  return ids;
}

export async function getDelivery(q: Queryable, tenantId: string, id: string): Promise<DeliveryRow | null> {
  const res = await q.query<DeliveryRow>(`SELECT ${DELIVERY_COLS} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export interface DeliveryFilter {
  endpointId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  memberId?: string;
  beforeId?: string;
  limit: number;
}

/** Newest first, by id (time-ordered). */
export async function listDeliveries(q: Queryable, tenantId: string, f: DeliveryFilter): Promise<DeliveryRow[]> {
  const res = await q.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLS} FROM webhook_deliveries
      WHERE tenant_id = $1
        AND ($2::uuid IS NULL OR endpoint_id = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR event_type = $4) AND ($5::uuid IS NULL OR member_id = $5)
        AND ($6::uuid IS NULL OR id < $6)
      ORDER BY id DESC LIMIT $7`,
    [tenantId, f.endpointId ?? null, f.status ?? null, f.eventType ?? null, f.memberId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Tenants with a delivery that may be due at `at` (a join from tenants, so every lookup below names its tenant). */
export async function tenantsWithDueDeliveries(q: Queryable, at: Date): Promise<string[]> {
  const res = await q.query<{ id: string }>(
    `SELECT t.id FROM tenants t
      WHERE EXISTS (SELECT 1 FROM webhook_deliveries d
                     WHERE d.tenant_id = t.id AND d.status = 'pending' AND d.next_attempt_at <= $1
                       AND (d.locked_until IS NULL OR d.locked_until <= $1))`,
    [at],
  );
  return res.rows.map((r) => r.id);
}

/**
 * Claims up to `limit` due deliveries of active endpoints (SKIP LOCKED: several workers share the work) and leases
 * them until `leaseUntil`, so a worker that dies while sending gives them back when the lease runs out. A delivery
 * of kind 'event' with a member waits while an earlier one (lower event_seq) of the same member to the same endpoint
 * is pending, in flight or waiting for its retry; replays neither wait nor hold anything up.
 */
export async function claimDue(q: Queryable, tenantId: string, at: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  const res = await q.query(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d
         JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.id = d.endpoint_id
        WHERE d.tenant_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2
          AND (d.locked_until IS NULL OR d.locked_until <= $2)
          AND e.status = 'active'
          AND NOT (d.kind = 'event' AND d.member_id IS NOT NULL AND EXISTS (
                SELECT 1 FROM webhook_deliveries p
                 WHERE p.tenant_id = d.tenant_id AND p.endpoint_id = d.endpoint_id AND p.member_id = d.member_id
                   AND p.status = 'pending' AND p.kind = 'event' AND p.event_seq < d.event_seq))
        ORDER BY d.next_attempt_at, d.event_seq
        LIMIT $4
        FOR UPDATE OF d SKIP LOCKED
     ), claimed AS (
       UPDATE webhook_deliveries d SET locked_until = $3
         FROM due WHERE d.tenant_id = $1 AND d.id = due.id
       RETURNING ${d(DELIVERY_COLS)}
     )
     SELECT c.*, e.url,
            (SELECT min(a.attempted_at) FROM webhook_attempts a WHERE a.tenant_id = $1 AND a.delivery_id = c.id) AS first_attempt_at,
            json_build_object('id', o.id, 'type', o.type, 'aggregate_type', o.aggregate_type, 'aggregate_id', o.aggregate_id,
                              'member_id', o.member_id, 'payload', o.payload, 'occurred_at', o.occurred_at) AS event
       FROM claimed c
       JOIN webhook_endpoints e ON e.tenant_id = $1 AND e.id = c.endpoint_id
       JOIN outbox_events o ON o.tenant_id = $1 AND o.id = c.event_id
      ORDER BY c.event_seq`,
    [tenantId, at, leaseUntil, limit],
  );
  return res.rows as ClaimedDelivery[];
}

/** The outcome of an attempt. Only while the delivery is still pending (a replay of the log cannot undo a success). */
export async function finishAttempt(
  q: Queryable, tenantId: string, id: string,
  outcome: { status: DeliveryStatus; statusCode: number | null; error: string | null; nextAttemptAt: Date | null; at: Date },
): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries
        SET attempts = attempts + 1, status = $3, last_status_code = $4, last_error = $5,
            next_attempt_at = coalesce($6, next_attempt_at), locked_until = NULL,
            finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END
      WHERE tenant_id = $1 AND id = $2 AND status = 'pending'`,
    [tenantId, id, outcome.status, outcome.statusCode, outcome.error, outcome.nextAttemptAt, outcome.at],
  );
}

// ── Attempts ─────────────────────────────────────────────────────────────────

export async function insertAttempt(q: Queryable, tenantId: string, a: AttemptRow): Promise<void> {
  await q.query(
    `INSERT INTO webhook_attempts (tenant_id, ${ATTEMPT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [tenantId, a.id, a.delivery_id, a.endpoint_id, a.attempted_at, a.duration_ms, a.status_code, a.error, a.response_body],
  );
}

/** A delivery's attempts, oldest first. */
export async function attemptsOf(q: Queryable, tenantId: string, deliveryId: string): Promise<AttemptRow[]> {
  const res = await q.query<AttemptRow>(
    `SELECT ${ATTEMPT_COLS} FROM webhook_attempts WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY attempted_at, id`,
    [tenantId, deliveryId],
  );
  return res.rows;
}

/** An endpoint's attempts, newest first (by id: time-ordered). */
export async function listAttempts(q: Queryable, tenantId: string, endpointId: string, opts: { beforeId?: string; limit: number }): Promise<AttemptRow[]> {
  const res = await q.query<AttemptRow>(
    `SELECT ${ATTEMPT_COLS} FROM webhook_attempts
      WHERE tenant_id = $1 AND endpoint_id = $2 AND ($3::uuid IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [tenantId, endpointId, opts.beforeId ?? null, opts.limit],
  );
  return res.rows;
}

// ── Replays ──────────────────────────────────────────────────────────────────

/** The stored event of a delivery (for a replay). */
export async function eventOf(q: Queryable, tenantId: string, eventId: string): Promise<Pick<StoredEvent, 'id' | 'seq' | 'type' | 'member_id'> | null> {
  const res = await q.query(`SELECT id, seq, type, member_id FROM outbox_events WHERE tenant_id = $1 AND id = $2`, [tenantId, eventId]);
  return res.rows[0] ?? null;
}

/**
 * The events of a time range (by occurred_at, from inclusive, to exclusive) that an endpoint subscribed to `types`
 * ('*': all) receives, optionally narrowed to `only` types; with `failedOnly`, just those whose delivery to the
 * endpoint failed and never succeeded. At most `limit` rows, oldest first.
 */
export async function eventsForReplay(
  q: Queryable, tenantId: string,
  opts: { endpointId: string; from: Date; to: Date; types: string[]; only: string[] | null; failedOnly: boolean; limit: number },
): Promise<Array<Pick<StoredEvent, 'id' | 'seq' | 'type' | 'member_id'>>> {
  const all = opts.types.includes('*');
  const res = await q.query(
    `SELECT o.id, o.seq, o.type, o.member_id FROM outbox_events o
      WHERE o.tenant_id = $1 AND o.occurred_at >= $2 AND o.occurred_at < $3
        AND ($4::boolean OR o.type = ANY($5::text[]))
        AND ($6::text[] IS NULL OR o.type = ANY($6::text[]))
        AND (NOT $7::boolean OR (
              EXISTS (SELECT 1 FROM webhook_deliveries f WHERE f.tenant_id = $1 AND f.endpoint_id = $8 AND f.event_id = o.id AND f.status = 'failed')
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries s WHERE s.tenant_id = $1 AND s.endpoint_id = $8 AND s.event_id = o.id AND s.status = 'succeeded')))
      ORDER BY o.seq
      LIMIT $9`,
    [tenantId, opts.from, opts.to, all, opts.types, opts.only, opts.failedOnly, opts.endpointId, opts.limit],
  );
  return res.rows;
}

/** Whether the tenant has an active endpoint subscribed to `eventType` or to every type ('*'). */
export async function hasActiveSubscriber(q: Queryable, tenantId: string, eventType: string): Promise<boolean> {
  const res = await q.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM webhook_endpoints
                     WHERE tenant_id = $1 AND status = 'active' AND event_types && ARRAY[$2, '*']::text[]) AS found`,
    [tenantId, eventType],
  );
  return res.rows[0]!.found;
}
