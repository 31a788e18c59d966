/** SQL for members, member_consents and member_consent_events. */
import type { Queryable } from '../../platform/db/db.js';
import type { Locale } from '../../platform/http/schema.js';
import type { Channel } from './members.schema.js';

export interface MemberRow {
  id: string;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  birth_date: string | null;
  locale: Locale;
  time_zone: string | null;
  attributes: Record<string, unknown>;
  status: 'active' | 'blocked' | 'erased';
  enrolled_at: Date;
  created_at: Date;
  updated_at: Date;
  blocked_at: Date | null;
  blocked_reason: string | null;
  erased_at: Date | null;
}

export interface ConsentRow {
  channel: Channel;
  granted: boolean;
  source: string;
  updated_at: Date;
}

export const MEMBER_COLUMNS = [
  'id', 'external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone',
  'attributes', 'status', 'enrolled_at', 'created_at', 'updated_at', 'blocked_at', 'blocked_reason', 'erased_at',
] as const;
const COLS = MEMBER_COLUMNS.join(', ');

/** Fields a client may set. */
export type MemberFields = Partial<Pick<MemberRow, 'external_id' | 'email' | 'phone' | 'first_name' | 'last_name' | 'birth_date' | 'locale' | 'time_zone' | 'attributes'>>;

export async function insertMember(db: Queryable, tenantId: string, m: MemberFields & { id: string; locale: Locale; enrolled_at: Date; now: Date }): Promise<MemberRow> {
  const res = await db.query<MemberRow>(
    `INSERT INTO members (tenant_id, id, external_id, email, phone, first_name, last_name, birth_date, locale, time_zone, attributes, status, enrolled_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $13)
     RETURNING ${COLS}`,
    [tenantId, m.id, m.external_id ?? null, m.email ?? null, m.phone ?? null, m.first_name ?? null, m.last_name ?? null,
      m.birth_date ?? null, m.locale, m.time_zone ?? null, JSON.stringify(m.attributes ?? {}), m.enrolled_at, m.now],
  );
  return res.rows[0]!;
}

export async function getMember(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<MemberRow | null> {
  const res = await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function getMemberByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<MemberRow | null> {
  const res = await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE tenant_id = $1 AND external_id = $2`, [tenantId, externalId]);
  return res.rows[0] ?? null;
}

export async function updateMember(db: Queryable, tenantId: string, id: string, fields: Record<string, unknown>, now: Date): Promise<MemberRow> {
  const cols = Object.keys(fields);
  const sets = cols.map((c, i) => `${c} = $${i + 4}`);
  const res = await db.query<MemberRow>(
    `UPDATE members SET ${[...sets, 'updated_at = $3'].join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, now, ...cols.map((c) => (c === 'attributes' ? JSON.stringify(fields[c]) : fields[c]))],
  );
  return res.rows[0]!;
}

export interface MemberFilter {
  externalId?: string;
  email?: string;
  phone?: string;
  q?: string;
  status?: string;
  afterId?: string;
  limit: number;
}

/** Lists members in id order; `q` is a prefix search over email, phone, external id and names. */
export async function listMembers(db: Queryable, tenantId: string, f: MemberFilter): Promise<MemberRow[]> {
  const where = ['tenant_id = $1'];
  const values: unknown[] = [tenantId];
  const add = (sql: string, v: unknown) => {
    values.push(v);
    where.push(sql.replace(/\?/g, `$${values.length}`));
  };
  if (f.externalId !== undefined) add('external_id = ?', f.externalId);
  if (f.email !== undefined) add('lower(email) = lower(?)', f.email);
  if (f.phone !== undefined) add('phone = ?', f.phone);
  if (f.status !== undefined) add('status = ?', f.status);
  if (f.q !== undefined) {
    const prefix = f.q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
    add(
      `(lower(email) LIKE ? OR phone LIKE ? OR external_id LIKE ? OR lower(first_name) LIKE ? OR lower(last_name) LIKE ?
        OR lower(first_name || ' ' || last_name) LIKE ?)`,
      prefix,
    );
  }
  if (f.afterId !== undefined) add('id > ?', f.afterId);
  values.push(f.limit);
  const res = await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.length}`, values);
  return res.rows;
}

export async function consentsOf(db: Queryable, tenantId: string, memberIds: string[]): Promise<Map<string, ConsentRow[]>> {
  const out = new Map<string, ConsentRow[]>();
  if (memberIds.length === 0) return out;
  const res = await db.query<ConsentRow & { member_id: string }>(
    `SELECT member_id, channel, granted, source, updated_at FROM member_consents WHERE tenant_id = $1 AND member_id = ANY($2::uuid[])`,
    [tenantId, memberIds],
  );
  for (const r of res.rows) out.set(r.member_id, [...(out.get(r.member_id) ?? []), r]);
  return out;
}

/** Sets consent for a channel and records the change; no-op when the state is unchanged. */
export async function setConsent(db: Queryable, tenantId: string, c: { eventId: string; memberId: string; channel: Channel; granted: boolean; source: string; at: Date }): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO member_consents (tenant_id, member_id, channel, granted, source, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_id, member_id, channel) DO UPDATE
       SET granted = EXCLUDED.granted, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
       WHERE member_consents.granted IS DISTINCT FROM EXCLUDED.granted
     RETURNING 1`,
    [tenantId, c.memberId, c.channel, c.granted, c.source, c.at],
  );
  if ((res.rowCount ?? 0) === 0) return false;
  await db.query(
    `INSERT INTO member_consent_events (tenant_id, id, member_id, channel, granted, source, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenantId, c.eventId, c.memberId, c.channel, c.granted, c.source, c.at],
  );
  return true;
}

export async function consentHistory(db: Queryable, tenantId: string, memberId: string): Promise<Array<{ id: string; channel: Channel; granted: boolean; source: string; occurred_at: Date }>> {
  const res = await db.query(
    `SELECT id, channel, granted, source, occurred_at FROM member_consent_events WHERE tenant_id = $1 AND member_id = $2 ORDER BY occurred_at, id`,
    [tenantId, memberId],
  );
  return res.rows;
}

/** GDPR erasure: personal fields cleared; ids, dates and amounts elsewhere are kept. */
export async function anonymise(db: Queryable, tenantId: string, id: string, now: Date): Promise<MemberRow> {
  const res = await db.query<MemberRow>(
    `UPDATE members
        SET external_id = NULL, email = NULL, phone = NULL, first_name = NULL, last_name = NULL, birth_date = NULL,
            time_zone = NULL, attributes = '{}', blocked_reason = NULL, status = 'erased', erased_at = $3, updated_at = $3
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${COLS}`,
    [tenantId, id, now],
  );
  return res.rows[0]!;
}
