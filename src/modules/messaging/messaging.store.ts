/**
 * SQL of the messaging module's tables: messages (the send log), messaging_settings, message_triggers,
 * message_templates, email_suppressions (migrations 0019, 0020).
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

// ── The send log ────────────────────────────────────────────────────────────

/** Tenants with a message due: queued and due, or `sending` with a lease that ran out (a crashed sender). */
export async function tenantsWithDueMessages(q: Queryable, now: Date): Promise<string[]> {
  const res = await q.query<{ id: string }>(
    `SELECT t.id FROM tenants t
      WHERE EXISTS (SELECT 1 FROM messages m
                     WHERE m.tenant_id = t.id AND m.status IN ('queued', 'sending') AND m.send_after <= $1
                       AND (m.status = 'queued' OR m.locked_until IS NULL OR m.locked_until < $1))`,
    [now],
  );
  return res.rows.map((r) => r.id);
}

/** Messages sent in (since, now] plus those being sent under a live lease: what the rate limit counts. */
export async function sentOrSendingSince(q: Queryable, tenantId: string, since: Date, now: Date): Promise<number> {
  const res = await q.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM messages WHERE tenant_id = $1 AND sent_at > $2 AND sent_at <= $3)
          + (SELECT count(*) FROM messages WHERE tenant_id = $1 AND status = 'sending' AND locked_until >= $3 AND send_after <= $3) AS n`,
    [tenantId, since, now],
  );
  return Number(res.rows[0]!.n);
}

/**
 * Takes up to `limit` due messages, oldest send_after first, and holds them with a lease until `lockedUntil`.
 * SKIP LOCKED: another process claiming at the same time takes other messages.
 */
export async function claimDue(q: Queryable, tenantId: string, now: Date, lockedUntil: Date, limit: number): Promise<MessageRow[]> {
  const res = await q.query<MessageRow>(
    // MATERIALIZED: the locking subquery runs once; joined or inlined, a plan may run it again and take more rows.
    `WITH due AS MATERIALIZED (
       SELECT id FROM messages
        WHERE tenant_id = $1 AND status IN ('queued', 'sending') AND send_after <= $2
          AND (status = 'queued' OR locked_until IS NULL OR locked_until < $2)
        ORDER BY send_after, id
        LIMIT $4
        FOR UPDATE SKIP LOCKED)
     UPDATE messages m SET status = 'sending', locked_until = $3, updated_at = $2
       FROM due
      WHERE m.tenant_id = $1 AND m.id = due.id
      RETURNING ${MESSAGE_COLS.split(',').map((c) => `m.${c.trim()}`).join(', ')}`,
    [tenantId, now, lockedUntil, limit],
  );
  return res.rows.sort((a, b) => a.send_after.getTime() - b.send_after.getTime() || a.id.localeCompare(b.id));
}

/**
 * Takes a claimed message's lease again, for `lockedUntil`, if this sender still holds it (its lease is still
 * `heldUntil`): right before a message is sent, so that a message whose lease ran out while the sender was busy with
 * the batch's earlier messages, and was claimed by another sender since, is not sent by both. Null: lost.
 */
export async function renewLease(q: Queryable, tenantId: string, id: string, heldUntil: Date, lockedUntil: Date, now: Date): Promise<Date | null> {
  const res = await q.query<{ locked_until: Date }>(
    `UPDATE messages SET locked_until = $4, updated_at = $5
      WHERE tenant_id = $1 AND id = $2 AND status = 'sending' AND locked_until = $3
      RETURNING locked_until`,
    [tenantId, id, heldUntil, lockedUntil, now],
  );
  return res.rows[0]?.locked_until ?? null;
}

export type MessageOutcome = Partial<Pick<MessageRow, 'status' | 'status_reason' | 'send_after' | 'attempts' | 'subject' | 'provider_id' | 'error' | 'sent_at' | 'to_address'>>;

/**
 * Records what became of a claimed message, if this sender still holds it (its lease, `lockedUntil`): a sender
 * whose lease ran out must not overwrite what another one did since. Returns the row, or null when it lost it.
 */
export async function finishClaimed(q: Queryable, tenantId: string, id: string, lockedUntil: Date, now: Date, outcome: MessageOutcome): Promise<MessageRow | null> {
  const sets: string[] = ['locked_until = NULL', 'updated_at = $4'];
  const values: unknown[] = [tenantId, id, lockedUntil, now];
  for (const [k, v] of Object.entries(outcome)) {
    values.push(v);
    sets.push(`${k} = $${values.length}`);
  }
  const res = await q.query<MessageRow>(
    `UPDATE messages SET ${sets.join(', ')}
      WHERE tenant_id = $1 AND id = $2 AND status = 'sending' AND locked_until = $3
      RETURNING ${MESSAGE_COLS}`,
    values,
  );
  return res.rows[0] ?? null;
}

export async function getMessage(q: Queryable, tenantId: string, id: string, forUpdate = false): Promise<MessageRow | null> {
  const res = await q.query<MessageRow>(
    `SELECT ${MESSAGE_COLS} FROM messages WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return res.rows[0] ?? null;
}

export interface MessageFilter {
  memberId?: string | undefined;
  trigger?: string | undefined;
  status?: string | undefined;
  /** created_at in [from, to) */
  from?: Date | undefined;
  to?: Date | undefined;
  beforeId?: string | undefined;
  limit: number;
}

/** Newest first (ids are time-ordered). */
export async function listMessages(q: Queryable, tenantId: string, f: MessageFilter): Promise<MessageRow[]> {
  const where = ['tenant_id = $1'];
  const values: unknown[] = [tenantId];
  const add = (sql: string, v: unknown) => {
    values.push(v);
    where.push(sql.replace('?', `$${values.length}`));
  };
  if (f.memberId !== undefined) add('member_id = ?', f.memberId);
  if (f.trigger !== undefined) add('trigger = ?', f.trigger);
  if (f.status !== undefined) add('status = ?', f.status);
  if (f.from !== undefined) add('created_at >= ?', f.from);
  if (f.to !== undefined) add('created_at < ?', f.to);
  if (f.beforeId !== undefined) add('id < ?', f.beforeId);
  values.push(f.limit);
  const res = await q.query<MessageRow>(
    `SELECT ${MESSAGE_COLS} FROM messages WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT $${values.length}`,
    values,
  );
  return res.rows;
}

/** A bounce reported after the message was sent (a provider's webhook). */
export async function markBounced(q: Queryable, tenantId: string, id: string, reason: string, error: string | null, now: Date): Promise<MessageRow> {
  const res = await q.query<MessageRow>(
    `UPDATE messages SET status = 'bounced', status_reason = $3, error = $4, locked_until = NULL, updated_at = $5
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${MESSAGE_COLS}`,
    [tenantId, id, reason, error, now],
  );
  return res.rows[0]!;
}

/** GDPR erasure: what identifies the member in their messages (address, variables, subject, error) is removed. */
export async function scrubMemberMessages(q: Queryable, tenantId: string, memberId: string, now: Date): Promise<void> {
  await q.query(
    `UPDATE messages SET to_address = NULL, variables = '{}', subject = NULL, error = NULL, updated_at = $3
      WHERE tenant_id = $1 AND member_id = $2`,
    [tenantId, memberId, now],
  );
}

// ── Settings ────────────────────────────────────────────────────────────────

export interface SettingsRow {
  from_email: string | null;
  from_name: string | null;
  reply_to: string | null;
  rate_limit_per_minute: number;
  /** 'HH:MM:SS' (PostgreSQL `time`) */
  quiet_hours_start: string | null;
  quiet_hours_end: string | null;
  unsubscribe_secret: string;
  /** The member portal (links.portal of the templates); migration 0020. */
  portal_url: string | null;
  created_at: Date;
  updated_at: Date;
}

const SETTINGS_COLS = 'from_email, from_name, reply_to, rate_limit_per_minute, quiet_hours_start::text, quiet_hours_end::text, unsubscribe_secret, portal_url, created_at, updated_at';

export async function getSettings(q: Queryable, tenantId: string, forUpdate = false): Promise<SettingsRow | null> {
  const res = await q.query<SettingsRow>(`SELECT ${SETTINGS_COLS} FROM messaging_settings WHERE tenant_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId]);
  return res.rows[0] ?? null;
}

/** Creates the tenant's settings row with its defaults unless it exists (two first uses at once: one wins). */
export async function insertSettingsIfAbsent(q: Queryable, tenantId: string, d: { quietStart: string | null; quietEnd: string | null; secret: string; now: Date }): Promise<void> {
  await q.query(
    `INSERT INTO messaging_settings (tenant_id, quiet_hours_start, quiet_hours_end, unsubscribe_secret, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (tenant_id) DO NOTHING`,
    [tenantId, d.quietStart, d.quietEnd, d.secret, d.now],
  );
}

export type SettingsChanges = Partial<Pick<SettingsRow, 'from_email' | 'from_name' | 'reply_to' | 'rate_limit_per_minute' | 'quiet_hours_start' | 'quiet_hours_end' | 'portal_url'>>;

export async function updateSettings(q: Queryable, tenantId: string, changes: SettingsChanges, now: Date): Promise<SettingsRow> {
  const sets = ['updated_at = $2'];
  const values: unknown[] = [tenantId, now];
  for (const [k, v] of Object.entries(changes)) {
    values.push(v);
    sets.push(`${k} = $${values.length}`);
  }
  const res = await q.query<SettingsRow>(`UPDATE messaging_settings SET ${sets.join(', ')} WHERE tenant_id = $1 RETURNING ${SETTINGS_COLS}`, values);
  return res.rows[0]!;
}

// ── Suppressions ────────────────────────────────────────────────────────────

export interface SuppressionRow {
  email: string;
  reason: 'hard_bounce' | 'complaint' | 'manual';
  detail: string | null;
  created_at: Date;
}

export async function getSuppression(q: Queryable, tenantId: string, email: string): Promise<SuppressionRow | null> {
  const res = await q.query<SuppressionRow>(
    `SELECT email, reason, detail, created_at FROM email_suppressions WHERE tenant_id = $1 AND email = $2`,
    [tenantId, email],
  );
  return res.rows[0] ?? null;
}

/** Adds an address unless it is already there (the first reason stays). */
export async function insertSuppression(q: Queryable, tenantId: string, s: SuppressionRow): Promise<{ row: SuppressionRow; created: boolean }> {
  const res = await q.query<SuppressionRow>(
    `INSERT INTO email_suppressions (tenant_id, email, reason, detail, created_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, email) DO NOTHING
     RETURNING email, reason, detail, created_at`,
    [tenantId, s.email, s.reason, s.detail, s.created_at],
  );
  if (res.rows[0]) return { row: res.rows[0], created: true };
  return { row: (await getSuppression(q, tenantId, s.email))!, created: false };
}

export async function deleteSuppression(q: Queryable, tenantId: string, email: string): Promise<SuppressionRow | null> {
  const res = await q.query<SuppressionRow>(
    `DELETE FROM email_suppressions WHERE tenant_id = $1 AND email = $2 RETURNING email, reason, detail, created_at`,
    [tenantId, email],
  );
  return res.rows[0] ?? null;
}

/** In address order; `afterEmail` pages. */
export async function listSuppressions(q: Queryable, tenantId: string, f: { reason?: string | undefined; afterEmail?: string | undefined; limit: number }): Promise<SuppressionRow[]> {
  const res = await q.query<SuppressionRow>(
    `SELECT email, reason, detail, created_at FROM email_suppressions
      WHERE tenant_id = $1 AND ($2::text IS NULL OR reason = $2) AND ($3::text IS NULL OR email > $3)
      ORDER BY email LIMIT $4`,
    [tenantId, f.reason ?? null, f.afterEmail ?? null, f.limit],
  );
  return res.rows;
}
