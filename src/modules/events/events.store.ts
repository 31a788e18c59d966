/** SQL for the member_events table (action events: sign-up, review written, …). */
import type { Queryable } from '../../platform/db/db.js';
import type { Explanation } from '../rules/rules.types.js';

/** An event rule's verdict, or why no rule was asked (the member is blocked or erased). */
export type EventExplanation = Omit<Explanation, 'outcome'> & { outcome: Explanation['outcome'] | 'member_blocked' | 'member_erased' };

export interface MemberEventRow {
  id: string;
  external_id: string | null;
  member_id: string;
  name: string;
  properties: Record<string, unknown>;
  occurred_at: Date;
  points: number;
  explanation: EventExplanation[];
  body_digest: string;
  created_at: Date;
}

const COLS = 'id, external_id, member_id, name, properties, occurred_at, points, explanation, body_digest, created_at';

/** Inserts the event unless its external_id is taken; null when it is (the caller answers with the existing one). */
export async function insertEvent(db: Queryable, tenantId: string, e: MemberEventRow): Promise<MemberEventRow | null> {
  const res = await db.query<MemberEventRow>(
    `INSERT INTO member_events (tenant_id, id, external_id, member_id, name, properties, occurred_at, points, explanation, body_digest, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (tenant_id, external_id) WHERE external_id IS NOT NULL DO NOTHING
     RETURNING ${COLS}`,
    [tenantId, e.id, e.external_id, e.member_id, e.name, JSON.stringify(e.properties), e.occurred_at, e.points,
      JSON.stringify(e.explanation), e.body_digest, e.created_at],
  );
  return res.rows[0] ?? null;
}

export async function getEvent(db: Queryable, tenantId: string, id: string): Promise<MemberEventRow | null> {
  const res = await db.query<MemberEventRow>(`SELECT ${COLS} FROM member_events WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function getByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<MemberEventRow | null> {
  const res = await db.query<MemberEventRow>(`SELECT ${COLS} FROM member_events WHERE tenant_id = $1 AND external_id = $2`, [tenantId, externalId]);
  return res.rows[0] ?? null;
}

/** Events newest first (by id, UUID v7), optionally of one member and/or one name; `beforeId` is the cursor. */
export async function listEvents(db: Queryable, tenantId: string, f: { memberId?: string; name?: string; beforeId?: string; limit: number }): Promise<MemberEventRow[]> {
  const res = await db.query<MemberEventRow>(
    `SELECT ${COLS} FROM member_events
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR member_id = $2) AND ($3::text IS NULL OR name = $3)
        AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC LIMIT $5`,
    [tenantId, f.memberId ?? null, f.name ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** GDPR erasure: an event's properties may hold what the member wrote (a review); name, time and points stay. */
export async function clearPropertiesOf(db: Queryable, tenantId: string, memberId: string): Promise<void> {
  await db.query(`UPDATE member_events SET properties = '{}' WHERE tenant_id = $1 AND member_id = $2 AND properties <> '{}'`, [tenantId, memberId]);
}
