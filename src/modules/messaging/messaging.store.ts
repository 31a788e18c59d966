/**
 * SQL of the messaging module's tables: messages (the send log), messaging_settings, message_triggers,
 * message_templates, email_suppressions (migration 0019).
 */
import type { Queryable } from '../../platform/db/db.js';
import type { Locale, MessageCategory, MessageChannel, MessageStatus, TriggerName } from './messaging.types.js';

export interface MessageRow {
  id: string;
  member_id: string | null;
  trigger: TriggerName;
  dedupe_key: string;
  category: MessageCategory;
  channel: MessageChannel;
  locale: Locale;
  to_address: string | null;
  variables: Record<string, unknown>;
  status: MessageStatus;
  status_reason: string | null;
  send_after: Date;
  locked_until: Date | null;
  attempts: number;
  subject: string | null;
  provider_id: string | null;
  error: string | null;
  offer: Record<string, unknown> | null;
  created_at: Date;
  updated_at: Date;
  sent_at: Date | null;
}

export const MESSAGE_COLS = `id, member_id, trigger, dedupe_key, category, channel, locale, to_address, variables, status, status_reason,
  send_after, locked_until, attempts, subject, provider_id, error, offer, created_at, updated_at, sent_at`;

export type NewMessage = Omit<MessageRow, 'locked_until' | 'attempts' | 'subject' | 'provider_id' | 'error' | 'updated_at' | 'sent_at'>;

/** Inserts the message unless its trigger already has one with this dedupe key; returns the row either way. */
export async function insertMessage(q: Queryable, tenantId: string, m: NewMessage): Promise<{ row: MessageRow; created: boolean }> {
  const inserted = await q.query<MessageRow>(
    `INSERT INTO messages (tenant_id, id, member_id, trigger, dedupe_key, category, channel, locale, to_address, variables,
                           status, status_reason, send_after, offer, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
     ON CONFLICT (tenant_id, trigger, dedupe_key) DO NOTHING
     RETURNING ${MESSAGE_COLS}`,
    [tenantId, m.id, m.member_id, m.trigger, m.dedupe_key, m.category, m.channel, m.locale, m.to_address, JSON.stringify(m.variables),
      m.status, m.status_reason, m.send_after, m.offer === null ? null : JSON.stringify(m.offer), m.created_at],
  );
  if (inserted.rows[0]) return { row: inserted.rows[0], created: true };
  const existing = await q.query<MessageRow>(
    `SELECT ${MESSAGE_COLS} FROM messages WHERE tenant_id = $1 AND trigger = $2 AND dedupe_key = $3`,
    [tenantId, m.trigger, m.dedupe_key],
  );
  return { row: existing.rows[0]!, created: false };
}
