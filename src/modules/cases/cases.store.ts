/** SQL for cases, case_timeline and case_settings (migrations/0016_cases.sql). */
import type { Queryable } from '../../platform/db/db.js';
import type { Gift, GiftResult } from '../rewards/rewards.gift.js';
import type { CaseSettings, Priority, Reason } from './cases.settings.js';

export type CaseStatus = 'open' | 'waiting_for_customer' | 'resolved' | 'closed';

export interface CaseRow {
  id: string;
  member_id: string | null;
  source_type: 'survey_answer' | 'feedback';
  source_response_id: string | null;
  source: Record<string, unknown>;
  reasons: Reason[];
  subject: string;
  message: string | null;
  contact_email: string | null;
  touchpoint: string | null;
  tier_code: string | null;
  priority: Priority;
  assignee_id: string | null;
  status: CaseStatus;
  first_response_due_at: Date;
  resolution_due_at: Date;
  first_responded_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  first_response_breached: boolean;
  resolution_breached: boolean;
  escalated_at: Date | null;
  resolution_code: string | null;
  resolution_note: string | null;
  goodwill: Goodwill[];
  follow_up_invitation_id: string | null;
  reopened_count: number;
  /** When it was last reopened; null: never. */
  reopened_at: Date | null;
  erased: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A goodwill gesture given when resolving: what, what it gave, when and by whom. */
export interface Goodwill {
  gift: Gift;
  result: GiftResult;
  /** ISO timestamp (stored in jsonb). */
  given_at: string;
  /** The API key id. */
  actor: string;
  agent_id: string | null;
}

export type TimelineKind =
  | 'opened' | 'updated' | 'note' | 'reply' | 'status_changed' | 'assigned' | 'priority_changed' | 'sla_breached' | 'escalated'
  | 'goodwill' | 'resolved' | 'closed' | 'reopened' | 'follow_up_sent' | 'follow_up_answered';

export interface TimelineRow {
  id: string;
  case_id: string;
  kind: TimelineKind;
  body: string | null;
  author_agent_id: string | null;
  actor: string | null;
  data: Record<string, unknown>;
  delivery_state: 'pending' | 'sent' | 'failed' | null;
  created_at: Date;
}

const COLS = [
  'id', 'member_id', 'source_type', 'source_response_id', 'source', 'reasons', 'subject', 'message', 'contact_email', 'touchpoint', 'tier_code',
  'priority', 'assignee_id', 'status', 'first_response_due_at', 'resolution_due_at', 'first_responded_at', 'resolved_at', 'closed_at',
  'first_response_breached', 'resolution_breached', 'escalated_at', 'resolution_code', 'resolution_note', 'goodwill', 'follow_up_invitation_id',
  'reopened_count', 'reopened_at', 'erased', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof CaseRow>;
const JSON_COLS = new Set(['source', 'goodwill']);
const SELECT = COLS.join(', ');
const param = (c: string, v: unknown) => (JSON_COLS.has(c) && v !== null ? JSON.stringify(v) : v);

export async function insertCase(db: Queryable, tenantId: string, c: CaseRow): Promise<CaseRow> {
  const res = await db.query<CaseRow>(
    `INSERT INTO cases (tenant_id, ${SELECT}) VALUES ($1, ${COLS.map((_, i) => `$${i + 2}`).join(', ')}) RETURNING ${SELECT}`,
    [tenantId, ...COLS.map((c2) => param(c2, c[c2]))],
  );
  return res.rows[0]!;
}

/** Writes every column of the case (read FOR UPDATE first). */
export async function updateCase(db: Queryable, tenantId: string, c: CaseRow): Promise<CaseRow> {
  const cols = COLS.filter((x) => x !== 'id');
  const res = await db.query<CaseRow>(
    `UPDATE cases SET ${cols.map((x, i) => `${x} = $${i + 3}`).join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${SELECT}`,
    [tenantId, c.id, ...cols.map((x) => param(x, c[x]))],
  );
  return res.rows[0]!;
}

export async function getCase(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<CaseRow | null> {
  const res = await db.query<CaseRow>(`SELECT ${SELECT} FROM cases WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function caseOfResponse(db: Queryable, tenantId: string, responseId: string): Promise<CaseRow | null> {
  const res = await db.query<CaseRow>(`SELECT ${SELECT} FROM cases WHERE tenant_id = $1 AND source_response_id = $2 FOR UPDATE`, [tenantId, responseId]);
  return res.rows[0] ?? null;
}

export interface CaseFilter {
  status?: CaseStatus[];
  breached?: boolean;
  assigneeId?: string;
  priority?: Priority[];
  memberId?: string;
  /** Newest first: ids below this one. */
  beforeId?: string;
  limit: number;
}

export async function listCases(db: Queryable, tenantId: string, f: CaseFilter): Promise<CaseRow[]> {
  const res = await db.query<CaseRow>(
    `SELECT ${SELECT} FROM cases
      WHERE tenant_id = $1 AND ($2::text[] IS NULL OR status = ANY($2)) AND ($3::boolean IS NULL OR (first_response_breached OR resolution_breached) = $3)
        AND ($4::uuid IS NULL OR assignee_id = $4) AND ($5::text[] IS NULL OR priority = ANY($5)) AND ($6::uuid IS NULL OR member_id = $6)
        AND ($7::uuid IS NULL OR id < $7)
      ORDER BY id DESC LIMIT $8`,
    [tenantId, f.status ?? null, f.breached ?? null, f.assigneeId ?? null, f.priority ?? null, f.memberId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Unresolved cases past a due time not yet flagged (the SLA job's work list), locked, oldest due first. */
export async function dueForBreach(db: Queryable, tenantId: string, now: Date, limit: number): Promise<CaseRow[]> {
  const res = await db.query<CaseRow>(
    `SELECT ${SELECT} FROM cases
      WHERE tenant_id = $1 AND status IN ('open', 'waiting_for_customer')
        AND ((first_responded_at IS NULL AND NOT first_response_breached AND first_response_due_at <= $2)
          OR (NOT resolution_breached AND resolution_due_at <= $2))
      ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [tenantId, now, limit],
  );
  return res.rows;
}

export async function casesOfMember(db: Queryable, tenantId: string, memberId: string, limit: number): Promise<CaseRow[]> {
  const res = await db.query<CaseRow>(`SELECT ${SELECT} FROM cases WHERE tenant_id = $1 AND member_id = $2 ORDER BY id LIMIT $3`, [tenantId, memberId, limit]);
  return res.rows;
}

/** Clears what an erased member wrote or what was written about them: messages, contact emails, timeline bodies, the source's answer. */
export async function eraseMember(db: Queryable, tenantId: string, memberId: string): Promise<void> {
  // Every body: internal notes about the member may name them as much as the replies do.
  await db.query(
    `UPDATE case_timeline t SET body = NULL WHERE t.tenant_id = $1 AND t.body IS NOT NULL
        AND t.case_id IN (SELECT id FROM cases WHERE tenant_id = $1 AND member_id = $2)`,
    [tenantId, memberId],
  );
  await db.query(
    `UPDATE cases SET message = NULL, contact_email = NULL, resolution_note = NULL, subject = 'Erased', source = source - 'value' - 'metadata', erased = true
      WHERE tenant_id = $1 AND member_id = $2`,
    [tenantId, memberId],
  );
}

// ── Timeline ──────────────────────────────────────────────────────────────────

export async function insertTimeline(db: Queryable, tenantId: string, t: TimelineRow): Promise<TimelineRow> {
  const res = await db.query<TimelineRow>(
    `INSERT INTO case_timeline (tenant_id, id, case_id, kind, body, author_agent_id, actor, data, delivery_state, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     RETURNING id, case_id, kind, body, author_agent_id, actor, data, delivery_state, created_at`,
    [tenantId, t.id, t.case_id, t.kind, t.body, t.author_agent_id, t.actor, JSON.stringify(t.data), t.delivery_state, t.created_at],
  );
  return res.rows[0]!;
}

/** Sets whether a reply reached the member (the messaging module, when its email was sent or failed); null when no such reply. */
export async function timelineEntry(db: Queryable, tenantId: string, entryId: string): Promise<TimelineRow | null> {
  const res = await db.query<TimelineRow>(
    `SELECT id, case_id, kind, body, author_agent_id, actor, data, delivery_state, created_at FROM case_timeline WHERE tenant_id = $1 AND id = $2`,
    [tenantId, entryId],
  );
  return res.rows[0] ?? null;
}

export async function setDeliveryState(db: Queryable, tenantId: string, entryId: string, state: 'sent' | 'failed'): Promise<TimelineRow | null> {
  const res = await db.query<TimelineRow>(
    `UPDATE case_timeline SET delivery_state = $3
      WHERE tenant_id = $1 AND id = $2 AND kind = 'reply'
      RETURNING id, case_id, kind, body, author_agent_id, actor, data, delivery_state, created_at`,
    [tenantId, entryId, state],
  );
  return res.rows[0] ?? null;
}

export async function timelineOf(db: Queryable, tenantId: string, caseIds: string[]): Promise<TimelineRow[]> {
  if (caseIds.length === 0) return [];
  const res = await db.query<TimelineRow>(
    `SELECT id, case_id, kind, body, author_agent_id, actor, data, delivery_state, created_at FROM case_timeline
      WHERE tenant_id = $1 AND case_id = ANY($2::uuid[]) ORDER BY id`,
    [tenantId, caseIds],
  );
  return res.rows;
}

// ── Settings ──────────────────────────────────────────────────────────────────

export async function getSettings(db: Queryable, tenantId: string): Promise<{ settings: Partial<CaseSettings>; updated_at: Date } | null> {
  const res = await db.query<{ settings: Partial<CaseSettings>; updated_at: Date }>(`SELECT settings, updated_at FROM case_settings WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0] ?? null;
}

export async function putSettings(db: Queryable, tenantId: string, settings: CaseSettings, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO case_settings (tenant_id, settings, updated_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = EXCLUDED.updated_at`,
    [tenantId, JSON.stringify(settings), at],
  );
}
