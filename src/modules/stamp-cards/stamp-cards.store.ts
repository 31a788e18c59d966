/** SQL for stamp_card_types, stamp_cards, stamp_events and stamp_purchases (migrations/0010_stamp_cards.sql). */
import type { Queryable } from '../../platform/db/db.js';
import type { Gift, GiftResult } from '../rewards/rewards.gift.js';
import type { LocalizedTextValue } from './stamp-cards.schema.js';

export interface TypeRow {
  id: string;
  name: LocalizedTextValue;
  description: LocalizedTextValue | null;
  stamps_needed: number;
  stamp_on: 'purchase' | 'visit';
  stamps_per: 'purchase' | 'unit';
  stamps_each: number;
  min_amount: number | null;
  skus: string[] | null;
  categories: string[] | null;
  reward: Gift;
  valid_from: Date | null;
  valid_until: Date | null;
  status: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export interface CardRow {
  id: string;
  type_id: string;
  member_id: string;
  number: number;
  stamps_needed: number;
  stamps: number;
  status: 'open' | 'completed';
  started_at: Date;
  completed_at: Date | null;
  reward: GiftResult | null;
  updated_at: Date;
}

export type StampKind = 'purchase' | 'visit' | 'return' | 'void' | 'manual' | 'campaign';

export interface StampEventRow {
  id: string;
  card_id: string;
  type_id: string;
  member_id: string;
  stamps: number;
  kind: StampKind;
  transaction_id: string | null;
  event_id: string | null;
  visit_day: string | null;
  reason: string | null;
  actor: string | null;
  occurred_at: Date;
  created_at: Date;
}

export interface PurchaseRow {
  type_id: string;
  transaction_id: string;
  member_id: string;
  units: number;
  returned_units: number;
  stamps: number;
  visit_day: string | null;
}

const TYPE_COLS = `id, name, description, stamps_needed, stamp_on, stamps_per, stamps_each, min_amount::float8 AS min_amount, skus, categories,
  reward, valid_from, valid_until, status, created_at, updated_at, archived_at`;
const CARD_COLS = 'id, type_id, member_id, number, stamps_needed, stamps, status, started_at, completed_at, reward, updated_at';

// ── Card types ────────────────────────────────────────────────────────────────

export async function insertType(db: Queryable, tenantId: string, t: TypeRow): Promise<TypeRow> {
  const res = await db.query<TypeRow>(
    `INSERT INTO stamp_card_types (tenant_id, id, name, description, stamps_needed, stamp_on, stamps_per, stamps_each, min_amount, skus, categories,
                                   reward, valid_from, valid_until, status, created_at, updated_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     RETURNING ${TYPE_COLS}`,
    [tenantId, t.id, JSON.stringify(t.name), t.description ? JSON.stringify(t.description) : null, t.stamps_needed, t.stamp_on, t.stamps_per,
      t.stamps_each, t.min_amount, t.skus, t.categories, JSON.stringify(t.reward), t.valid_from, t.valid_until, t.status, t.created_at, t.updated_at, t.archived_at],
  );
  return res.rows[0]!;
}

export async function updateType(db: Queryable, tenantId: string, t: TypeRow): Promise<TypeRow> {
  const res = await db.query<TypeRow>(
    `UPDATE stamp_card_types SET name = $3, description = $4, stamps_needed = $5, stamps_per = $6, stamps_each = $7, min_amount = $8, skus = $9,
            categories = $10, reward = $11, valid_from = $12, valid_until = $13, status = $14, updated_at = $15, archived_at = $16
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${TYPE_COLS}`,
    [tenantId, t.id, JSON.stringify(t.name), t.description ? JSON.stringify(t.description) : null, t.stamps_needed, t.stamps_per, t.stamps_each,
      t.min_amount, t.skus, t.categories, JSON.stringify(t.reward), t.valid_from, t.valid_until, t.status, t.updated_at, t.archived_at],
  );
  return res.rows[0]!;
}

export async function getType(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<TypeRow | null> {
  const res = await db.query<TypeRow>(`SELECT ${TYPE_COLS} FROM stamp_card_types WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Oldest first (by id, UUID v7); `afterId` is the cursor. */
export async function listTypes(db: Queryable, tenantId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<TypeRow[]> {
  const res = await db.query<TypeRow>(
    `SELECT ${TYPE_COLS} FROM stamp_card_types
      WHERE tenant_id = $1 AND ($2 OR status = 'active') AND ($3::uuid IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [tenantId, f.includeArchived, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

/** The active types of a tenant (the order hook reads them on every purchase). */
export async function activeTypes(db: Queryable, tenantId: string): Promise<TypeRow[]> {
  const res = await db.query<TypeRow>(`SELECT ${TYPE_COLS} FROM stamp_card_types WHERE tenant_id = $1 AND status = 'active' ORDER BY id`, [tenantId]);
  return res.rows;
}

export async function typesByIds(db: Queryable, tenantId: string, ids: string[]): Promise<TypeRow[]> {
  if (ids.length === 0) return [];
  const res = await db.query<TypeRow>(`SELECT ${TYPE_COLS} FROM stamp_card_types WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id`, [tenantId, ids]);
  return res.rows;
}

// ── Cards ─────────────────────────────────────────────────────────────────────

/** The member's open card of a type, locked. */
export async function openCard(db: Queryable, tenantId: string, typeId: string, memberId: string): Promise<CardRow | null> {
  const res = await db.query<CardRow>(
    `SELECT ${CARD_COLS} FROM stamp_cards WHERE tenant_id = $1 AND type_id = $2 AND member_id = $3 AND status = 'open' FOR UPDATE`,
    [tenantId, typeId, memberId],
  );
  return res.rows[0] ?? null;
}

/** Starts the member's next card of a type (number: one more than the last). */
export async function startCard(db: Queryable, tenantId: string, c: { id: string; type_id: string; member_id: string; stamps_needed: number; stamps: number; now: Date }): Promise<CardRow> {
  const res = await db.query<CardRow>(
    `INSERT INTO stamp_cards (tenant_id, id, type_id, member_id, number, stamps_needed, stamps, status, started_at, updated_at)
     SELECT $1, $2, $3, $4, coalesce(max(number), 0) + 1, $5, $6, 'open', $7, $7
       FROM stamp_cards WHERE tenant_id = $1 AND type_id = $3 AND member_id = $4
     RETURNING ${CARD_COLS}`,
    [tenantId, c.id, c.type_id, c.member_id, c.stamps_needed, c.stamps, c.now],
  );
  return res.rows[0]!;
}

export async function setStamps(db: Queryable, tenantId: string, id: string, stamps: number, now: Date): Promise<CardRow> {
  const res = await db.query<CardRow>(
    `UPDATE stamp_cards SET stamps = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 RETURNING ${CARD_COLS}`,
    [tenantId, id, stamps, now],
  );
  return res.rows[0]!;
}

export async function completeCard(db: Queryable, tenantId: string, id: string, reward: GiftResult, now: Date): Promise<CardRow> {
  const res = await db.query<CardRow>(
    `UPDATE stamp_cards SET stamps = stamps_needed, status = 'completed', completed_at = $3, reward = $4, updated_at = $3
      WHERE tenant_id = $1 AND id = $2 RETURNING ${CARD_COLS}`,
    [tenantId, id, now, JSON.stringify(reward)],
  );
  return res.rows[0]!;
}

export interface CardSummary {
  type_id: string;
  completed_count: number;
  last_completed_at: Date | null;
  open: CardRow | null;
  last_number: number;
}

/** Per type: the member's open card, how many they completed and when last. */
export async function cardSummaries(db: Queryable, tenantId: string, memberId: string, typeIds: string[]): Promise<Map<string, CardSummary>> {
  const out = new Map<string, CardSummary>();
  if (typeIds.length === 0) return out;
  const res = await db.query<{ type_id: string; completed_count: number; last_completed_at: Date | null; last_number: number; open: CardRow | null }>(
    `SELECT type_id,
            count(*) FILTER (WHERE status = 'completed')::int AS completed_count,
            max(completed_at) AS last_completed_at,
            max(number)::int AS last_number,
            (array_agg(to_jsonb(c) - 'tenant_id') FILTER (WHERE status = 'open'))[1] AS open
       FROM stamp_cards c
      WHERE tenant_id = $1 AND member_id = $2 AND type_id = ANY($3::uuid[])
      GROUP BY type_id`,
    [tenantId, memberId, typeIds],
  );
  for (const r of res.rows) {
    const open = r.open ? { ...r.open, started_at: new Date(r.open.started_at), completed_at: null, updated_at: new Date(r.open.updated_at) } : null;
    out.set(r.type_id, { type_id: r.type_id, completed_count: r.completed_count, last_completed_at: r.last_completed_at, last_number: r.last_number, open });
  }
  return out;
}

/** Types on which the member has cards (archived ones included), oldest type first; `afterId` is the cursor. */
export async function typesOfMember(db: Queryable, tenantId: string, memberId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<TypeRow[]> {
  const res = await db.query<TypeRow>(
    `SELECT ${TYPE_COLS} FROM stamp_card_types t
      WHERE tenant_id = $1 AND ($3::uuid IS NULL OR id > $3)
        AND (status = 'active' OR ($2 AND EXISTS (SELECT 1 FROM stamp_cards c WHERE c.tenant_id = t.tenant_id AND c.type_id = t.id AND c.member_id = $4)))
      ORDER BY id LIMIT $5`,
    [tenantId, f.includeArchived, f.afterId ?? null, memberId, f.limit],
  );
  return res.rows;
}

// ── Stamp events ──────────────────────────────────────────────────────────────

export async function insertEvent(db: Queryable, tenantId: string, e: StampEventRow): Promise<void> {
  await db.query(
    `INSERT INTO stamp_events (tenant_id, id, card_id, type_id, member_id, stamps, kind, transaction_id, event_id, visit_day, reason, actor, occurred_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [tenantId, e.id, e.card_id, e.type_id, e.member_id, e.stamps, e.kind, e.transaction_id, e.event_id, e.visit_day, e.reason, e.actor, e.occurred_at, e.created_at],
  );
}

/** The visit stamps (net of their removals) the member holds for a type on a local day. */
export async function visitStampsOn(db: Queryable, tenantId: string, memberId: string, typeId: string, day: string): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT coalesce(sum(stamps), 0)::int AS n FROM stamp_events WHERE tenant_id = $1 AND member_id = $2 AND type_id = $3 AND visit_day = $4`,
    [tenantId, memberId, typeId, day],
  );
  return res.rows[0]!.n;
}

/** The member's stamp history, newest first; `beforeId` is the cursor. */
export async function listEvents(db: Queryable, tenantId: string, memberId: string, f: { typeId?: string; beforeId?: string; limit: number }): Promise<Array<StampEventRow & { card_number: number }>> {
  const res = await db.query<StampEventRow & { card_number: number }>(
    `SELECT e.id, e.card_id, e.type_id, e.member_id, e.stamps, e.kind, e.transaction_id, e.event_id, to_char(e.visit_day, 'YYYY-MM-DD') AS visit_day,
            e.reason, e.actor, e.occurred_at, e.created_at, c.number AS card_number
       FROM stamp_events e
       JOIN stamp_cards c ON c.tenant_id = e.tenant_id AND c.id = e.card_id
      WHERE e.tenant_id = $1 AND e.member_id = $2 AND ($3::uuid IS NULL OR e.type_id = $3) AND ($4::uuid IS NULL OR e.id < $4)
      ORDER BY e.id DESC LIMIT $5`,
    [tenantId, memberId, f.typeId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Invariant check for tests: cards whose count is not the sum of their stamp rows. */
export async function cardsOutOfBalance(db: Queryable, tenantId: string): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `SELECT c.id FROM stamp_cards c
       LEFT JOIN (SELECT card_id, sum(stamps) AS s FROM stamp_events WHERE tenant_id = $1 GROUP BY card_id) e ON e.card_id = c.id
      WHERE c.tenant_id = $1 AND c.stamps <> coalesce(e.s, 0)`,
    [tenantId],
  );
  return res.rows.map((r) => r.id);
}

// ── What each purchase holds ────────────────────────────────────────────────────

export async function insertPurchase(db: Queryable, tenantId: string, p: PurchaseRow): Promise<void> {
  await db.query(
    `INSERT INTO stamp_purchases (tenant_id, type_id, transaction_id, member_id, units, returned_units, stamps, visit_day)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [tenantId, p.type_id, p.transaction_id, p.member_id, p.units, p.returned_units, p.stamps, p.visit_day],
  );
}

export async function purchasesOf(db: Queryable, tenantId: string, transactionId: string): Promise<PurchaseRow[]> {
  const res = await db.query<PurchaseRow>(
    `SELECT type_id, transaction_id, member_id, units, returned_units, stamps, to_char(visit_day, 'YYYY-MM-DD') AS visit_day
       FROM stamp_purchases WHERE tenant_id = $1 AND transaction_id = $2 ORDER BY type_id FOR UPDATE`,
    [tenantId, transactionId],
  );
  return res.rows;
}

/** The stamps a purchase holds now on one card type (0 when it never stamped it). */
export async function purchaseStamps(db: Queryable, tenantId: string, transactionId: string, typeId: string): Promise<number> {
  const res = await db.query<{ stamps: number }>(
    'SELECT stamps FROM stamp_purchases WHERE tenant_id = $1 AND type_id = $2 AND transaction_id = $3',
    [tenantId, typeId, transactionId],
  );
  return res.rows[0]?.stamps ?? 0;
}

export async function updatePurchase(db: Queryable, tenantId: string, p: PurchaseRow): Promise<void> {
  await db.query(
    `UPDATE stamp_purchases SET returned_units = $4, stamps = $5 WHERE tenant_id = $1 AND type_id = $2 AND transaction_id = $3`,
    [tenantId, p.type_id, p.transaction_id, p.returned_units, p.stamps],
  );
}

// ── GDPR ──────────────────────────────────────────────────────────────────────

export async function cardsOfMember(db: Queryable, tenantId: string, memberId: string): Promise<CardRow[]> {
  const res = await db.query<CardRow>(`SELECT ${CARD_COLS} FROM stamp_cards WHERE tenant_id = $1 AND member_id = $2 ORDER BY type_id, number`, [tenantId, memberId]);
  return res.rows;
}
