/** SQL for members, member_consents and member_consent_events. */
import { prepared, type Queryable } from '../../platform/db/db.js';
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

/** True for the unique-key violation of a taken external_id (a race the service's check cannot see). */
export function isExternalIdTaken(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && e.constraint === 'members_external_id';
}

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

const GET_MEMBER = prepared('members.get', `SELECT ${COLS} FROM members WHERE tenant_id = $1 AND id = $2`);

/** `lock`: FOR UPDATE (to change the row) or FOR SHARE (to keep it from changing until the transaction ends). */
export async function getMember(db: Queryable, tenantId: string, id: string, lock: false | 'update' | 'share' = false): Promise<MemberRow | null> {
  const res = lock
    ? await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE tenant_id = $1 AND id = $2 FOR ${lock === 'update' ? 'UPDATE' : 'SHARE'}`, [tenantId, id])
    : await db.query<MemberRow>(GET_MEMBER, [tenantId, id]);
  return res.rows[0] ?? null;
}

/**
 * A member and its consent state in one round trip (the hot read path:
 * `GET /v1/members/{id}` and the external-id form).
 */
export async function getMemberWithConsents(
  db: Queryable,
  tenantId: string,
  by: { id: string } | { externalId: string },
): Promise<(MemberRow & { consents: ConsentRow[] }) | null> {
  const res = await db.query(
    `SELECT ${MEMBER_COLUMNS.map((c) => `m.${c}`).join(', ')},
            COALESCE((SELECT json_agg(json_build_object('channel', c.channel, 'granted', c.granted, 'source', c.source, 'updated_at', c.updated_at))
                        FROM member_consents c
                       WHERE c.tenant_id = m.tenant_id AND c.member_id = m.id), '[]') AS consents
       FROM members m
      WHERE m.tenant_id = $1 AND ${'id' in by ? 'm.id = $2' : 'm.external_id = $2'}`,
    [tenantId, 'id' in by ? by.id : by.externalId],
  );
  const row = res.rows[0];
  if (!row) return null;
  // json_agg gives timestamps as text: make them Dates like every other column.
  row.consents = (row.consents as Array<ConsentRow & { updated_at: string }>).map((c) => ({ ...c, updated_at: new Date(c.updated_at) }));
  return row;
}

export async function getMemberByExternalId(db: Queryable, tenantId: string, externalId: string): Promise<MemberRow | null> {
  const res = await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE tenant_id = $1 AND external_id = $2`, [tenantId, externalId]);
  return res.rows[0] ?? null;
}

const UPDATABLE = new Set<string>(['external_id', 'email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'attributes', 'enrolled_at', 'status', 'blocked_at', 'blocked_reason']);

export async function updateMember(db: Queryable, tenantId: string, id: string, fields: Record<string, unknown>, now: Date): Promise<MemberRow> {
  const cols = Object.keys(fields);
  // Column names are interpolated: only known ones, whatever the caller passes.
  for (const c of cols) if (!UPDATABLE.has(c)) throw new Error(`updateMember: unknown column ${c}`);
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
  locale?: string;
  enrolledAfter?: Date;
  enrolledBefore?: Date;
  afterId?: string;
  limit: number;
}

const likePrefix = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';

/**
 * Lists members in id order. `q` is a prefix search: case-insensitive over
 * email and names (lower() follows the database's Unicode case rules, so
 * Cyrillic and Polish letters fold too), exact-case over external ids (they are
 * the shop's codes), and over phones by their digits.
 */
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
  if (f.locale !== undefined) add('locale = ?', f.locale);
  if (f.enrolledAfter !== undefined) add('enrolled_at >= ?', f.enrolledAfter);
  if (f.enrolledBefore !== undefined) add('enrolled_at < ?', f.enrolledBefore);
  if (f.q !== undefined) {
    const q = f.q.trim().replace(/\s+/g, ' ');
    const ors: string[] = [];
    const param = (v: unknown) => {
      values.push(v);
      return `$${values.length}`;
    };
    const lowerPrefix = param(likePrefix(q.toLowerCase()));
    ors.push(`lower(email) LIKE ${lowerPrefix}`, `lower(first_name) LIKE ${lowerPrefix}`, `lower(last_name) LIKE ${lowerPrefix}`,
      `lower(first_name || ' ' || last_name) LIKE ${lowerPrefix}`);
    ors.push(`external_id LIKE ${param(likePrefix(q))}`);
    // "+359 888 12", "359888", "+48-601…": phones are stored as E.164.
    if (/^\+?[0-9][0-9 ().-]*$/.test(q)) ors.push(`phone LIKE ${param(likePrefix(`+${q.replace(/[^0-9]/g, '')}`))}`);
    where.push(`(${ors.join(' OR ')})`);
  }
  if (f.afterId !== undefined) add('id > ?', f.afterId);
  values.push(f.limit);
  const res = await db.query<MemberRow>(`SELECT ${COLS} FROM members WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.length}`, values);
  return res.rows;
}

/**
 * Active members whose birthday (or enrolment anniversary, at least a year on) is today in their own time zone (else
 * `defaultTz`) and whose local hour has reached `hour`; a 29 February counts on 28 February in other years. A page of
 * members after `afterId` in id order, with the local date and, for anniversaries, the years since enrolment.
 */
export async function celebrating(db: Queryable, tenantId: string, f: { kind: 'birthday' | 'anniversary'; at: Date; defaultTz: string; hour: number; afterId: string | null; limit: number }): Promise<Array<{ member_id: string; local_date: string; years: number }>> {
  const day = f.kind === 'birthday' ? 'm.birth_date' : `(m.enrolled_at AT TIME ZONE coalesce(m.time_zone, $3))::date`;
  const res = await db.query<{ member_id: string; local_date: string; years: number }>(
    `WITH m AS (
       SELECT m.id, ${day} AS day, ($2::timestamptz AT TIME ZONE coalesce(m.time_zone, $3)) AS local_now
         FROM members m
        WHERE m.tenant_id = $1 AND m.status = 'active' AND ($5::uuid IS NULL OR m.id > $5)
          ${f.kind === 'birthday' ? 'AND m.birth_date IS NOT NULL' : ''}
     )
     SELECT id AS member_id, to_char(local_now, 'YYYY-MM-DD') AS local_date,
            (extract(year FROM local_now) - extract(year FROM day))::int AS years
       FROM m
      WHERE extract(hour FROM local_now) >= $4
        AND extract(year FROM local_now) > extract(year FROM day)
        AND (to_char(day, 'MM-DD') = to_char(local_now, 'MM-DD')
             OR (to_char(day, 'MM-DD') = '02-29' AND to_char(local_now, 'MM-DD') = '02-28'
                 AND extract(day FROM (date_trunc('year', local_now) + interval '2 months' - interval '1 day')) = 28))
      ORDER BY id
      LIMIT $6`,
    [tenantId, f.at, f.defaultTz, f.hour, f.afterId, f.limit],
  );
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

export interface ConsentEventRow {
  id: string;
  channel: Channel;
  granted: boolean;
  source: string;
  occurred_at: Date;
}

/** A member's consent changes, oldest first; `after` and `limit` page through them. */
export async function consentHistory(
  db: Queryable,
  tenantId: string,
  memberId: string,
  page: { after?: { at: string; id: string }; limit?: number } = {},
): Promise<ConsentEventRow[]> {
  const res = await db.query<ConsentEventRow>(
    `SELECT id, channel, granted, source, occurred_at
       FROM member_consent_events
      WHERE tenant_id = $1 AND member_id = $2
        AND ($3::timestamptz IS NULL OR (occurred_at, id) > ($3::timestamptz, $4::uuid))
      ORDER BY occurred_at, id
      LIMIT $5`,
    [tenantId, memberId, page.after?.at ?? null, page.after?.id ?? null, page.limit ?? null],
  );
  return res.rows;
}

/** Channels on which the member has currently granted consent. */
export async function grantedChannels(db: Queryable, tenantId: string, memberId: string): Promise<Channel[]> {
  const res = await db.query<{ channel: Channel }>(
    `SELECT channel FROM member_consents WHERE tenant_id = $1 AND member_id = $2 AND granted ORDER BY channel`,
    [tenantId, memberId],
  );
  return res.rows.map((r) => r.channel);
}

/** A member row written as a whole: bulk loads (the demo) that bring their own history. */
export type FullMemberRow = Omit<MemberRow, 'attributes'> & { attributes: Record<string, unknown> };

/**
 * Inserts many complete member rows in one statement per chunk. Rows whose id
 * or external_id is already there are skipped (so a bulk load can be re-run);
 * returns the ids actually inserted.
 */
export async function insertMemberRows(db: Queryable, tenantId: string, rows: FullMemberRow[]): Promise<Set<string>> {
  const inserted = new Set<string>();
  for (let i = 0; i < rows.length; i += 2000) {
    const chunk = rows.slice(i, i + 2000);
    const col = <K extends keyof FullMemberRow>(k: K) => chunk.map((r) => r[k]);
    const res = await db.query<{ id: string }>(
      `INSERT INTO members (tenant_id, ${COLS})
       SELECT $1, ${COLS}
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[], $9::text[], $10::text[],
                     $11::jsonb[], $12::text[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::text[], $18::timestamptz[])
              AS r(${COLS})
       ON CONFLICT DO NOTHING
       RETURNING id`,
      [tenantId, col('id'), col('external_id'), col('email'), col('phone'), col('first_name'), col('last_name'), col('birth_date'), col('locale'),
        col('time_zone'), chunk.map((r) => JSON.stringify(r.attributes)), col('status'), col('enrolled_at'), col('created_at'), col('updated_at'),
        col('blocked_at'), col('blocked_reason'), col('erased_at')],
    );
    for (const r of res.rows) inserted.add(r.id);
  }
  return inserted;
}

export interface ConsentChange {
  id: string;
  memberId: string;
  channel: Channel;
  granted: boolean;
  source: string;
  at: Date;
}

/**
 * Bulk form of `setConsent` for members created in the same load: writes the
 * history as given (each entry a real change) and the last entry per channel
 * as the current state.
 */
export async function insertConsentHistory(db: Queryable, tenantId: string, changes: ConsentChange[]): Promise<void> {
  if (changes.length === 0) return;
  const latest = new Map<string, ConsentChange>();
  for (const c of changes) latest.set(`${c.memberId}:${c.channel}`, c);
  const cur = [...latest.values()];
  for (let i = 0; i < changes.length; i += 5000) {
    const chunk = changes.slice(i, i + 5000);
    await db.query(
      `INSERT INTO member_consent_events (tenant_id, id, member_id, channel, granted, source, occurred_at)
       SELECT $1, * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::boolean[], $6::text[], $7::timestamptz[])`,
      [tenantId, chunk.map((c) => c.id), chunk.map((c) => c.memberId), chunk.map((c) => c.channel), chunk.map((c) => c.granted), chunk.map((c) => c.source), chunk.map((c) => c.at)],
    );
  }
  for (let i = 0; i < cur.length; i += 5000) {
    const chunk = cur.slice(i, i + 5000);
    await db.query(
      `INSERT INTO member_consents (tenant_id, member_id, channel, granted, source, updated_at)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::boolean[], $5::text[], $6::timestamptz[])`,
      [tenantId, chunk.map((c) => c.memberId), chunk.map((c) => c.channel), chunk.map((c) => c.granted), chunk.map((c) => c.source), chunk.map((c) => c.at)],
    );
  }
}

/** Keeps the SHA-256 of an erased member's external_id (member_erasures), which imports check. */
export async function rememberErasedExternalId(db: Queryable, tenantId: string, externalId: string, at: Date): Promise<void> {
  await db.query(
    `INSERT INTO member_erasures (tenant_id, external_id_sha256, erased_at) VALUES ($1, sha256(convert_to($2::text, 'UTF8')), $3)
     ON CONFLICT DO NOTHING`,
    [tenantId, externalId, at],
  );
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

/** Members by Patron id or external id, in one query (bulk paths: an order import, a leaderboard page's names). */
export async function findMany(
  db: Queryable,
  tenantId: string,
  ids: string[],
  externalIds: string[],
): Promise<Array<{ id: string; external_id: string | null; status: MemberRow['status']; first_name: string | null; last_name: string | null }>> {
  if (ids.length === 0 && externalIds.length === 0) return [];
  const res = await db.query(
    `SELECT id, external_id, status, first_name, last_name FROM members
      WHERE tenant_id = $1 AND (id = ANY($2::uuid[]) OR external_id = ANY($3::text[]))`,
    [tenantId, ids, externalIds],
  );
  return res.rows;
}

/** Which of these external ids belonged to an erased member (member_erasures keeps their SHA-256). */
export async function erasedExternalIds(db: Queryable, tenantId: string, externalIds: string[]): Promise<Set<string>> {
  if (externalIds.length === 0) return new Set();
  const res = await db.query<{ k: string }>(
    `SELECT k FROM unnest($2::text[]) AS k
      WHERE EXISTS (SELECT 1 FROM member_erasures e WHERE e.tenant_id = $1 AND e.external_id_sha256 = sha256(convert_to(k, 'UTF8')))`,
    [tenantId, externalIds],
  );
  return new Set(res.rows.map((r) => r.k));
}
