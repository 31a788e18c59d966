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
  /** null: parked ('infinity' in the table), behind an earlier delivery of the member or while the endpoint is disabled. */
  next_attempt_at: Date | null;
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
/** DELIVERY_COLS as read for the API: a parked delivery's 'infinity' as null. */
const DELIVERY_READ = DELIVERY_COLS.replace('next_attempt_at', "nullif(next_attempt_at, 'infinity') AS next_attempt_at");
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

/**
 * The endpoint, locked against the other writers of its state (an attempt's outcome, disabling, re-enabling) but not
 * against foreign-key checks of new deliveries (FOR NO KEY UPDATE).
 */
export async function lockEndpoint(q: Queryable, tenantId: string, id: string): Promise<EndpointRow | null> {
  return (await lockEndpoints(q, tenantId, [id])).get(id) ?? null;
}

/** Locks several endpoints (as lockEndpoint), in id order: two transactions locking overlapping sets never wait on each other in a cycle. */
export async function lockEndpoints(q: Queryable, tenantId: string, ids: string[]): Promise<Map<string, EndpointRow>> {
  const res = await q.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
    [tenantId, ids],
  );
  return new Map(res.rows.map((r) => [r.id, r]));
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

/**
 * Inserts deliveries made at `at`, in the given order (ids are time-ordered, so the log lists them in it). Only the
 * head of each (endpoint, member) is due: a delivery of kind 'event' for a member who already has one pending to the
 * endpoint with an earlier event (in the table or earlier in `rows`) is parked at 'infinity' until the one before it
 * finishes (promoteNext), so the claim never looks at a backlog waiting behind a failing head. One for an earlier
 * event than every pending one (a skipped event retried: docs/events.md) is due: it is the new head, and the claim
 * holds the later ones behind it. Deliveries to a disabled
 * endpoint are parked too (wakeEndpoint makes them due on re-enabling).
 *
 * The member's pending deliveries are locked (FOR SHARE, in event_seq order) before deciding: an attempt finishing
 * the head at the same moment either commits first (and this sees the head finished, or the one it promoted) or
 * waits for this insert to commit (and then promotes what it inserted). Otherwise a parked delivery could be
 * inserted behind a head that has just finished and wait for ever.
 */
export async function insertDeliveries(q: Queryable, tenantId: string, rows: NewDelivery[], at: Date): Promise<string[]> {
  // The locks first, all in one sorted statement (not per chunk below): the attempts' recording locks deliveries in
  // the same (endpoint, member, event) order, so the two never wait on each other in a cycle.
  const ordered = rows.filter((r) => r.kind === 'event' && r.event.member_id);
  // (endpoint, member) → the earliest event pending to it
  const earliest = new Map<string, number>();
  if (ordered.length > 0) {
    const held = await q.query<{ endpoint_id: string; member_id: string; event_seq: number }>(
      `SELECT p.endpoint_id, p.member_id, p.event_seq FROM webhook_deliveries p
        WHERE p.tenant_id = $1 AND p.status = 'pending' AND p.kind = 'event'
          AND (p.endpoint_id, p.member_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))
        ORDER BY p.endpoint_id, p.member_id, p.event_seq
        FOR SHARE OF p`,
      [tenantId, ordered.map((r) => r.endpointId), ordered.map((r) => r.event.member_id)],
    );
    for (const h of held.rows) {
      const key = `${h.endpoint_id}:${h.member_id}`;
      if (!earliest.has(key)) earliest.set(key, h.event_seq); // the rows come in event_seq order
    }
  }
  const disabled = new Set((await q.query<{ id: string }>(
    `SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status <> 'active'`,
    [tenantId, [...new Set(rows.map((r) => r.endpointId))]],
  )).rows.map((r) => r.id));
  const ids: string[] = [];
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    const chunkIds = chunk.map(() => newId());
    ids.push(...chunkIds);
    const dueAt = chunk.map((r) => {
      if (disabled.has(r.endpointId)) return 'infinity';
      if (r.kind !== 'event' || !r.event.member_id) return (r.dueAt ?? at).toISOString();
      const key = `${r.endpointId}:${r.event.member_id}`;
      const first = earliest.get(key);
      if (first !== undefined && first < r.event.seq) return 'infinity';
      earliest.set(key, r.event.seq);
      return (r.dueAt ?? at).toISOString();
    });
    await q.query(
      `INSERT INTO webhook_deliveries (tenant_id, id, endpoint_id, event_id, event_seq, event_type, member_id, kind, status, attempts, next_attempt_at, created_at)
       SELECT $1, r.id, r.endpoint_id, r.event_id, r.event_seq, r.event_type, r.member_id, r.kind, 'pending', 0, r.due_at, $2
         FROM unnest($3::uuid[], $4::uuid[], $5::uuid[], $6::bigint[], $7::text[], $8::uuid[], $9::text[], $10::timestamptz[])
              AS r(id, endpoint_id, event_id, event_seq, event_type, member_id, kind, due_at)`,
      [
        tenantId, at, chunkIds, chunk.map((r) => r.endpointId), chunk.map((r) => r.event.id), chunk.map((r) => r.event.seq),
        chunk.map((r) => r.event.type), chunk.map((r) => r.event.member_id), chunk.map((r) => r.kind), dueAt,
      ],
    );
  }
  return ids;
}

/** Records that the tenant's log holds no finished delivery that finished before `before` (it only moves forward). */
export async function notePurgedBefore(q: Queryable, tenantId: string, before: Date): Promise<void> {
  await q.query(
    `INSERT INTO webhook_log_purges (tenant_id, purged_before) VALUES ($1, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET purged_before = greatest(webhook_log_purges.purged_before, EXCLUDED.purged_before)`,
    [tenantId, before],
  );
}

/** How far the tenant's log has been purged, or null if never. */
export async function purgedBefore(q: Queryable, tenantId: string): Promise<Date | null> {
  const res = await q.query<{ purged_before: Date }>(`SELECT purged_before FROM webhook_log_purges WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0]?.purged_before ?? null;
}

/** Gathers the deliveries table's statistics if it has none yet (pg_class.reltuples is -1 until the first ANALYZE). */
export async function analyzeIfNeverAnalyzed(q: Queryable): Promise<boolean> {
  const res = await q.query<{ never: boolean }>(`SELECT reltuples < 0 AS never FROM pg_class WHERE oid = 'webhook_deliveries'::regclass`);
  if (!res.rows[0]?.never) return false;
  await q.query('ANALYZE webhook_deliveries');
  return true;
}

export async function getDelivery(q: Queryable, tenantId: string, id: string): Promise<DeliveryRow | null> {
  const res = await q.query<DeliveryRow>(`SELECT ${DELIVERY_READ} FROM webhook_deliveries WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
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

/**
 * Newest first, by id (time-ordered). The endpoint condition is written only when filtering by endpoint, so the plan
 * walks the (tenant_id, endpoint_id, id) index (migration 0020) rather than every delivery of the tenant.
 */
export async function listDeliveries(q: Queryable, tenantId: string, f: DeliveryFilter): Promise<DeliveryRow[]> {
  const params: unknown[] = [tenantId, f.status ?? null, f.eventType ?? null, f.memberId ?? null, f.beforeId ?? null, f.limit];
  if (f.endpointId) params.push(f.endpointId);
  const res = await q.query<DeliveryRow>(
    `SELECT ${DELIVERY_READ} FROM webhook_deliveries
      WHERE tenant_id = $1${f.endpointId ? ' AND endpoint_id = $7' : ''}
        AND ($2::text IS NULL OR status = $2)
        AND ($3::text IS NULL OR event_type = $3) AND ($4::uuid IS NULL OR member_id = $4)
        AND ($5::uuid IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    params,
  );
  return res.rows;
}

/** Tenants with a delivery that may be due at `at` (a join from tenants, so every lookup below names its tenant). */
export async function tenantsWithDueDeliveries(q: Queryable, at: Date): Promise<string[]> {
  const res = await q.query<{ id: string }>(
    `SELECT t.id FROM tenants t
      WHERE EXISTS (SELECT 1 FROM webhook_deliveries d
                     WHERE d.tenant_id = t.id AND d.status = 'pending' AND d.next_attempt_at < 'infinity' AND d.next_attempt_at <= $1
                       AND (d.locked_until IS NULL OR d.locked_until <= $1))`,
    [at],
  );
  return res.rows.map((r) => r.id);
}

/**
 * Claims up to `limit` due deliveries of active endpoints (SKIP LOCKED: several workers share the work) and leases
 * them until `leaseUntil`, so a worker that dies while sending gives them back when the lease runs out.
 *
 * Fairness between endpoints: each endpoint has at most `perEndpoint` attempts in flight (counting other workers'),
 * and one whose failing_since is set only one, a probe: a dead or slow receiver holds one slot, not the pump. While
 * leased a delivery's next_attempt_at is its lease's end, so the in-flight ones are found in a short range of the
 * due index, and a crashed worker's ones become due again by themselves. The endpoint rows are locked (SKIP LOCKED)
 * while claiming, so two workers cannot both fill the same endpoint's slots.
 *
 * The due indexes hold only deliveries that can become due (status 'pending', not parked at 'infinity'; migration
 * 0021), and only statements that say `next_attempt_at < 'infinity'` can use them: the ones here. Look-ups of one
 * delivery or of one member's deliveries cannot, so they use the primary key and the member-order index even before
 * the table has statistics.
 *
 * Order per member: only heads are due (insertDeliveries parks the rest); the NOT EXISTS below still keeps a
 * delivery of kind 'event' from going out while an earlier one of the same member to the same endpoint is pending
 * (deliveries queued before heads were parked; a head made due twice). Replays neither wait nor hold anything up.
 */
export async function claimDue(
  q: Queryable, tenantId: string, at: Date, leaseUntil: Date, limit: number, perEndpoint: number,
): Promise<ClaimedDelivery[]> {
  const res = await q.query(
    `WITH eps AS (
       SELECT e.id, CASE WHEN e.failing_since IS NULL THEN $5::int ELSE 1 END AS cap
         FROM webhook_endpoints e
        WHERE e.tenant_id = $1 AND e.status = 'active'
        FOR NO KEY UPDATE SKIP LOCKED
     ), busy AS (
       SELECT f.endpoint_id, count(*)::int AS n FROM webhook_deliveries f
        WHERE f.tenant_id = $1 AND f.status = 'pending' AND f.next_attempt_at < 'infinity' AND f.next_attempt_at > $2 AND f.next_attempt_at <= $3
          AND f.locked_until > $2
        GROUP BY f.endpoint_id
     ), slots AS (
       SELECT eps.id, eps.cap - coalesce(busy.n, 0) AS free FROM eps LEFT JOIN busy ON busy.endpoint_id = eps.id
        WHERE eps.cap - coalesce(busy.n, 0) > 0
     ), due AS (
       SELECT c.id FROM slots s CROSS JOIN LATERAL (
         SELECT d.id, d.next_attempt_at, d.event_seq FROM webhook_deliveries d
          WHERE d.tenant_id = $1 AND d.endpoint_id = s.id AND d.status = 'pending' AND d.next_attempt_at < 'infinity' AND d.next_attempt_at <= $2
            AND (d.locked_until IS NULL OR d.locked_until <= $2)
            AND NOT (d.kind = 'event' AND d.member_id IS NOT NULL AND EXISTS (
                  SELECT 1 FROM webhook_deliveries p
                   WHERE p.tenant_id = d.tenant_id AND p.endpoint_id = d.endpoint_id AND p.member_id = d.member_id
                     AND p.status = 'pending' AND p.kind = 'event' AND p.event_seq < d.event_seq))
          ORDER BY d.next_attempt_at, d.event_seq
          LIMIT s.free
          FOR UPDATE OF d SKIP LOCKED
       ) c
       ORDER BY c.next_attempt_at, c.event_seq
       LIMIT $4
     ), claimed AS (
       UPDATE webhook_deliveries d SET locked_until = $3, next_attempt_at = $3
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
    [tenantId, at, leaseUntil, limit, perEndpoint],
  );
  return res.rows as ClaimedDelivery[];
}

/**
 * The outcome of an attempt, recorded only by the worker that still holds the delivery's lease (`leaseUntil`, as
 * claimed): one whose lease ran out while it sent (a slow database, a paused process) and was claimed again by
 * another worker records nothing here, so attempts are not counted twice nor next_attempt_at overwritten. A lease is
 * held only while the delivery is pending (this statement clears it as it records the outcome), so `status` need not
 * be named: naming it lets the planner take the due index (status = 'pending') for a unique row while a fresh
 * table has no statistics, scanning the tenant's whole queue for each attempt. True when recorded.
 */
export async function finishAttempt(
  q: Queryable, tenantId: string, id: string, leaseUntil: Date,
  outcome: { status: DeliveryStatus; statusCode: number | null; error: string | null; nextAttemptAt: Date | 'infinity' | null; at: Date },
): Promise<boolean> {
  const res = await q.query(
    `UPDATE webhook_deliveries
        SET attempts = attempts + 1, status = $3, last_status_code = $4, last_error = $5,
            next_attempt_at = coalesce($6::timestamptz, $7::timestamptz), locked_until = NULL,
            finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END
      WHERE tenant_id = $1 AND id = $2 AND locked_until = $8`,
    [tenantId, id, outcome.status, outcome.statusCode, outcome.error, outcome.nextAttemptAt, outcome.at, leaseUntil],
  );
  return (res.rowCount ?? 0) > 0;
}

/** The member's next delivery to the endpoint, parked behind the one that just finished, is due at `at`. */
export async function promoteNext(q: Queryable, tenantId: string, endpointId: string, memberId: string, at: Date): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries d SET next_attempt_at = $4
      WHERE d.tenant_id = $1 AND d.next_attempt_at = 'infinity'
        AND d.id = (SELECT p.id FROM webhook_deliveries p
                     WHERE p.tenant_id = $1 AND p.endpoint_id = $2 AND p.member_id = $3 AND p.status = 'pending' AND p.kind = 'event'
                     ORDER BY p.event_seq LIMIT 1)`,
    [tenantId, endpointId, memberId, at],
  );
}

/** A disabled endpoint's pending deliveries are parked: the claim does not look at them until it is re-enabled. */
export async function parkEndpoint(q: Queryable, tenantId: string, endpointId: string): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries SET next_attempt_at = 'infinity'
      WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending' AND next_attempt_at < 'infinity'`,
    [tenantId, endpointId],
  );
}

/** Re-enabled: each member's first pending delivery, and every replay and member-less one, is due at `at`. */
export async function wakeEndpoint(q: Queryable, tenantId: string, endpointId: string, at: Date): Promise<void> {
  await q.query(
    `UPDATE webhook_deliveries d SET next_attempt_at = $3
      WHERE d.tenant_id = $1 AND d.endpoint_id = $2 AND d.status = 'pending'
        AND (d.kind <> 'event' OR d.member_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM webhook_deliveries p
               WHERE p.tenant_id = $1 AND p.endpoint_id = $2 AND p.member_id = d.member_id
                 AND p.status = 'pending' AND p.kind = 'event' AND p.event_seq < d.event_seq))`,
    [tenantId, endpointId, at],
  );
}

// ── Attempts ─────────────────────────────────────────────────────────────────

/** The attempts of a round, in one statement. */
export async function insertAttempts(q: Queryable, tenantId: string, rows: AttemptRow[]): Promise<void> {
  await q.query(
    `INSERT INTO webhook_attempts (tenant_id, ${ATTEMPT_COLS})
     SELECT $1, a.* FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[])
              AS a(id, delivery_id, endpoint_id, attempted_at, duration_ms, status_code, error, response_body)`,
    [
      tenantId, rows.map((a) => a.id), rows.map((a) => a.delivery_id), rows.map((a) => a.endpoint_id), rows.map((a) => a.attempted_at),
      rows.map((a) => a.duration_ms), rows.map((a) => a.status_code), rows.map((a) => a.error), rows.map((a) => a.response_body),
    ],
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
 * ('*': all) receives, optionally narrowed to `only` types, by `mode`: 'all'; 'failed', those whose delivery to the
 * endpoint failed and never succeeded; 'missed', those that were handed out by the outbox and have no delivery to it
 * at all (handed out while it was disabled). 'failed' and 'missed' look only at events that occurred since `since`
 * (the endpoint's creation, or the start of the delivery log's retention): before it, no delivery row says what
 * happened. At most `limit` rows, oldest first.
 */
export async function eventsForReplay(
  q: Queryable, tenantId: string,
  opts: { endpointId: string; from: Date; to: Date; types: string[]; only: string[] | null; mode: 'failed' | 'all' | 'missed'; since: Date; limit: number },
): Promise<Array<Pick<StoredEvent, 'id' | 'seq' | 'type' | 'member_id'>>> {
  const all = opts.types.includes('*');
  const res = await q.query(
    `SELECT o.id, o.seq, o.type, o.member_id FROM outbox_events o
      WHERE o.tenant_id = $1 AND o.occurred_at >= $2 AND o.occurred_at < $3
        AND ($4::boolean OR o.type = ANY($5::text[]))
        AND ($6::text[] IS NULL OR o.type = ANY($6::text[]))
        AND ($7::text <> 'failed' OR (
              EXISTS (SELECT 1 FROM webhook_deliveries f WHERE f.tenant_id = $1 AND f.endpoint_id = $8 AND f.event_id = o.id AND f.status = 'failed')
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries s WHERE s.tenant_id = $1 AND s.endpoint_id = $8 AND s.event_id = o.id AND s.status = 'succeeded')))
        AND ($7::text = 'all' OR o.occurred_at >= $10)
        AND ($7::text <> 'missed' OR (
              -- Not yet handed to the fan-out: it will make the delivery itself (a replay now would send it twice).
              o.dispatched_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries m WHERE m.tenant_id = $1 AND m.endpoint_id = $8 AND m.event_id = o.id)))
      ORDER BY o.seq
      LIMIT $9`,
    [tenantId, opts.from, opts.to, all, opts.types, opts.only, opts.mode, opts.endpointId, opts.limit, opts.since],
  );
  return res.rows;
}

/**
 * Retention: deletes up to `batch` of the tenant's finished deliveries (succeeded or failed) that finished before
 * `before`, oldest first; their attempts go with them (ON DELETE CASCADE). Pending deliveries are never touched.
 * Returns how many were deleted (fewer than `batch`: none are left).
 */
export async function purgeFinishedDeliveries(q: Queryable, tenantId: string, before: Date, batch: number): Promise<number> {
  const res = await q.query(
    `DELETE FROM webhook_deliveries
      WHERE tenant_id = $1
        AND id IN (SELECT id FROM webhook_deliveries
                    WHERE tenant_id = $1 AND status <> 'pending' AND finished_at < $2
                    ORDER BY finished_at
                    LIMIT $3)`,
    [tenantId, before, batch],
  );
  return res.rowCount ?? 0;
}

/**
 * Erasure (GDPR): blanks the answers receivers gave to the deliveries of one member's events (a provider may echo a
 * phone number or a name back). The member's events are found by the outbox's member index, their deliveries by
 * webhook_deliveries_event: no scan of the log. Status codes, timings and errors stay. Returns how many were blanked.
 */
export async function blankMemberResponses(q: Queryable, tenantId: string, memberId: string): Promise<number> {
  const res = await q.query(
    `UPDATE webhook_attempts a SET response_body = NULL
       FROM webhook_deliveries d
      WHERE d.tenant_id = $1
        AND d.event_id IN (SELECT e.id FROM outbox_events e WHERE e.tenant_id = $1 AND e.member_id = $2)
        AND a.tenant_id = $1 AND a.delivery_id = d.id AND a.response_body IS NOT NULL`,
    [tenantId, memberId],
  );
  return res.rowCount ?? 0;
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
