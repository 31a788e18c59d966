/**
 * SQL of the triggers: their settings (message_triggers) and what they need to know of the send log (messages), both
 * tables of the messaging module (migration 0019). Messages are written only through MessagingService.enqueue; the
 * one update here records what an offer gave on the message it came with.
 */
import type { Queryable } from '../../../platform/db/db.js';
import type { MemberTrigger, TriggerName } from '../messaging.types.js';
import type { StoredTrigger } from './triggers.settings.js';

const COLS = 'trigger, enabled, channel, settings, offer, updated_at';

export async function listTriggers(q: Queryable, tenantId: string): Promise<StoredTrigger[]> {
  const res = await q.query<StoredTrigger>(`SELECT ${COLS} FROM message_triggers WHERE tenant_id = $1`, [tenantId]);
  return res.rows;
}

export async function getTrigger(q: Queryable, tenantId: string, trigger: MemberTrigger, lock = false): Promise<StoredTrigger | null> {
  const res = await q.query<StoredTrigger>(
    `SELECT ${COLS} FROM message_triggers WHERE tenant_id = $1 AND trigger = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenantId, trigger],
  );
  return res.rows[0] ?? null;
}

export async function saveTrigger(q: Queryable, tenantId: string, t: StoredTrigger): Promise<StoredTrigger> {
  const res = await q.query<StoredTrigger>(
    `INSERT INTO message_triggers (tenant_id, trigger, enabled, channel, settings, offer, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, trigger) DO UPDATE
       SET enabled = EXCLUDED.enabled, channel = EXCLUDED.channel, settings = EXCLUDED.settings, offer = EXCLUDED.offer, updated_at = EXCLUDED.updated_at
     RETURNING ${COLS}`,
    [tenantId, t.trigger, t.enabled, t.channel, JSON.stringify(t.settings), t.offer === null ? null : JSON.stringify(t.offer), t.updated_at],
  );
  return res.rows[0]!;
}

/** Which of these dedupe keys the trigger has already used (a scheduled scan skips them before doing any work). */
export async function existingKeys(q: Queryable, tenantId: string, trigger: TriggerName, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const res = await q.query<{ dedupe_key: string }>(
    `SELECT dedupe_key FROM messages WHERE tenant_id = $1 AND trigger = $2 AND dedupe_key = ANY($3::text[])`,
    [tenantId, trigger, keys],
  );
  return new Set(res.rows.map((r) => r.dedupe_key));
}

/** Of these members, those the trigger has had a message for (any status, control included) since `since`. */
export async function messagedSince(q: Queryable, tenantId: string, trigger: TriggerName, memberIds: string[], since: Date): Promise<Set<string>> {
  if (memberIds.length === 0) return new Set();
  const res = await q.query<{ member_id: string }>(
    `SELECT DISTINCT member_id FROM messages
      WHERE tenant_id = $1 AND trigger = $2 AND member_id = ANY($3::uuid[]) AND created_at >= $4`,
    [tenantId, trigger, memberIds, since],
  );
  return new Set(res.rows.map((r) => r.member_id));
}

export interface SentMessage {
  id: string;
  member_id: string | null;
  trigger: TriggerName;
  dedupe_key: string;
  status: string;
}

export async function getMessage(q: Queryable, tenantId: string, id: string): Promise<SentMessage | null> {
  const res = await q.query<SentMessage>(
    `SELECT id, member_id, trigger, dedupe_key, status FROM messages WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  );
  return res.rows[0] ?? null;
}

/**
 * Records what the offer gave, on the message it came with (in the transaction that enqueued it); `balance`, when
 * points were given, is the member's balance with them (the message's points.balance).
 */
export async function setOffer(q: Queryable, tenantId: string, id: string, offer: Record<string, unknown>, variablesOffer: Record<string, unknown>, balance: number | null = null): Promise<void> {
  await q.query(
    `UPDATE messages SET offer = $3,
            variables = CASE WHEN $5::bigint IS NULL THEN jsonb_set(variables, '{offer}', $4::jsonb)
                        ELSE jsonb_set(jsonb_set(variables, '{offer}', $4::jsonb), '{points}', coalesce(variables->'points', '{}'::jsonb) || jsonb_build_object('balance', $5::bigint)) END
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, JSON.stringify(offer), JSON.stringify(variablesOffer), balance],
  );
}

/** The win-back messages (treated and control) created in [from, to), member and when: the groups of the results. */
export async function winBackMessages(q: Queryable, tenantId: string, from: Date, to: Date): Promise<Array<{ member_id: string; status: string; created_at: Date }>> {
  const res = await q.query<{ member_id: string; status: string; created_at: Date }>(
    `SELECT member_id, status, created_at FROM messages
      WHERE tenant_id = $1 AND trigger = 'win_back' AND member_id IS NOT NULL AND created_at >= $2 AND created_at < $3
      ORDER BY created_at, id`,
    [tenantId, from, to],
  );
  return res.rows;
}
