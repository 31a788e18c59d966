/**
 * The dead-letter of the outbox dispatch: an event a consumer threw on (not a database hiccup, which retries the whole
 * batch) is skipped for that consumer so that it cannot stop the tenant's outbox, and recorded here, in the same
 * transaction, to be seen (GET /v1/domain-events/skips) and handed to the consumer again once the cause is fixed.
 */
import { newId } from '../ids.js';
import type { Queryable } from '../db/db.js';

export interface SkipRow {
  id: string;
  event_id: string;
  event_type: string;
  consumer: string;
  error: string;
  skipped_at: Date;
  retried_at: Date | null;
}

const COLS = `s.id, s.event_id, e.type AS event_type, s.consumer, s.error, s.skipped_at, s.retried_at`;
const FROM = `outbox_skips s JOIN outbox_events e ON e.tenant_id = s.tenant_id AND e.id = s.event_id`;

export async function insertSkip(q: Queryable, tenantId: string, s: { eventId: string; consumer: string; error: string; at: Date }): Promise<void> {
  await q.query(
    `INSERT INTO outbox_skips (tenant_id, id, event_id, consumer, error, skipped_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [tenantId, newId(), s.eventId, s.consumer, s.error.slice(0, 2000), s.at],
  );
}

/** Newest first; `open`: only those not retried. Keyset on (skipped_at, id). */
export async function listSkips(q: Queryable, tenantId: string, f: { open: boolean; before?: { at: Date; id: string } | undefined; limit: number }): Promise<SkipRow[]> {
  const res = await q.query<SkipRow>(
    `SELECT ${COLS} FROM ${FROM}
      WHERE s.tenant_id = $1 AND ($2::boolean IS FALSE OR s.retried_at IS NULL)
        AND ($3::timestamptz IS NULL OR (s.skipped_at, s.id) < ($3, $4::uuid))
      ORDER BY s.skipped_at DESC, s.id DESC
      LIMIT $5`,
    [tenantId, f.open, f.before?.at ?? null, f.before?.id ?? null, f.limit],
  );
  return res.rows;
}

export async function getSkip(q: Queryable, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<SkipRow | null> {
  const res = await q.query<SkipRow>(`SELECT ${COLS} FROM ${FROM} WHERE s.tenant_id = $1 AND s.id = $2${opts.lock ? ' FOR UPDATE OF s' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function markRetried(q: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await q.query(`UPDATE outbox_skips SET retried_at = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, at]);
}
