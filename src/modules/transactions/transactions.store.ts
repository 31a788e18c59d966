/** SQL for the transactions table (orders: purchases and returns). */
import { prepared, type Queryable } from '../../platform/db/db.js';
import type { CapUsage, Explanation } from '../rules/rules.types.js';

export interface Line {
  sku: string;
  name?: string;
  category?: string | null;
  quantity: number;
  unit_price?: number;
  discount?: number;
}

export interface Payment {
  method: string;
  amount: number;
}

/** What a purchase earned and still keeps, and how it was judged (so a return is recomputed the same way). */
export interface EarningRecord {
  points: number;
  kept_points: number;
  eligible_amount: number;
  not_earned_reason: string | null;
  activates_at: string | null;
  expires_at: string | null;
  explanation: Explanation[];
  /** Per applied rule: its version and points earned / kept. */
  rules?: Record<string, { version: number | null; points: number; kept: number }>;
  cap_usage?: CapUsage[];
  context?: { tier: string | null; tier_multiplier?: number; first_purchase: boolean; attributes: Record<string, unknown>; time_zone: string };
  /** Return: the purchase's kept points before and after it. */
  kept_before?: number;
  kept_after?: number;
}

export interface TransactionRow {
  id: string;
  external_id: string;
  type: 'purchase' | 'return';
  status: 'recorded' | 'voided';
  member_id: string | null;
  customer_ref: string | null;
  original_id: string | null;
  occurred_at: Date;
  currency: string;
  total: number;
  lines: Line[] | null;
  channel: string | null;
  store_id: string | null;
  payments: Payment[] | null;
  body_digest: string;
  points: number;
  earning: EarningRecord | null;
  returned_total: number;
  source: 'api' | 'import';
  created_at: Date;
  voided_at: Date | null;
}

const COLS = `id, external_id, type, status, member_id, customer_ref, original_id, occurred_at, currency, total, lines, channel,
  store_id, payments, body_digest, points, earning, returned_total, source, created_at, voided_at`;

export type NewTransaction = Omit<TransactionRow, 'status' | 'voided_at' | 'returned_total'>;

const INSERT_TRANSACTION = prepared('transactions.insert', `WITH ins AS (
       INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, customer_ref, original_id, occurred_at, currency, total,
                                 lines, channel, store_id, payments, body_digest, points, earning, source, created_at)
       VALUES ($1, $2, $3, $4, 'recorded', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       ON CONFLICT (tenant_id, external_id) DO NOTHING
       RETURNING ${COLS}
     ), event AS (
       INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
       SELECT $1, $20, $21, 'transaction', ins.id::text, ins.member_id, $22, $19 FROM ins
     )
     SELECT * FROM ins`);

/**
 * Inserts the order unless its external_id is taken; null when it is (the caller answers with the existing one).
 * The order's outbox event is written by the same statement, only when the order is.
 */
export async function insertTransaction(db: Queryable, tenantId: string, t: NewTransaction, event: { id: string; type: string; payload: Record<string, unknown> }): Promise<TransactionRow | null> {
  const res = await db.query<TransactionRow>(
    INSERT_TRANSACTION,
    [tenantId, t.id, t.external_id, t.type, t.member_id, t.customer_ref, t.original_id, t.occurred_at, t.currency, t.total,
      t.lines === null ? null : JSON.stringify(t.lines), t.channel, t.store_id, t.payments === null ? null : JSON.stringify(t.payments),
      t.body_digest, t.points, t.earning === null ? null : JSON.stringify(t.earning), t.source, t.created_at,
      event.id, event.type, JSON.stringify(event.payload)],
  );
  return res.rows[0] ?? null;
}

export async function getTransaction(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<TransactionRow | null> {
  const res = await db.query<TransactionRow>(`SELECT ${COLS} FROM transactions WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function getByExternalId(db: Queryable, tenantId: string, externalId: string, forUpdate = false): Promise<TransactionRow | null> {
  const res = await db.query<TransactionRow>(`SELECT ${COLS} FROM transactions WHERE tenant_id = $1 AND external_id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, externalId]);
  return res.rows[0] ?? null;
}

/** The recorded (not voided) returns of a purchase, oldest first. */
export async function returnsOf(db: Queryable, tenantId: string, originalId: string): Promise<TransactionRow[]> {
  const res = await db.query<TransactionRow>(
    `SELECT ${COLS} FROM transactions WHERE tenant_id = $1 AND original_id = $2 AND status = 'recorded' ORDER BY created_at, id`,
    [tenantId, originalId],
  );
  return res.rows;
}

/** Whether the member has a recorded purchase that happened before `before` (the "first purchase" condition). */
export async function hasEarlierPurchase(db: Queryable, tenantId: string, memberId: string, before: Date): Promise<boolean> {
  const res = await db.query(
    `SELECT EXISTS (SELECT 1 FROM transactions WHERE tenant_id = $1 AND member_id = $2 AND type = 'purchase' AND status = 'recorded' AND occurred_at < $3) AS found`,
    [tenantId, memberId, before],
  );
  return res.rows[0].found;
}

export async function updateEarning(db: Queryable, tenantId: string, id: string, patch: { earning?: EarningRecord; returned_total?: number; status?: 'voided'; voided_at?: Date }): Promise<TransactionRow> {
  const res = await db.query<TransactionRow>(
    `UPDATE transactions
        SET earning = coalesce($3::jsonb, earning), returned_total = coalesce($4, returned_total),
            status = coalesce($5, status), voided_at = coalesce($6, voided_at)
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${COLS}`,
    [tenantId, id, patch.earning ? JSON.stringify(patch.earning) : null, patch.returned_total ?? null, patch.status ?? null, patch.voided_at ?? null],
  );
  return res.rows[0]!;
}

export async function listTransactions(db: Queryable, tenantId: string, f: { memberId?: string; type?: string; externalId?: string; afterId?: string; limit: number }): Promise<TransactionRow[]> {
  const res = await db.query<TransactionRow>(
    `SELECT ${COLS} FROM transactions
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR member_id = $2) AND ($3::text IS NULL OR type = $3)
        AND ($4::text IS NULL OR external_id = $4) AND ($5::uuid IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    [tenantId, f.memberId ?? null, f.type ?? null, f.externalId ?? null, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

// ── Bulk import (transactions.import.ts) ─────────────────────────────────────
// Added for the orders import: set-based reads and writes of a batch of thousands of orders, so that a historical
// import does not cost a round trip per order. Nothing above uses them; they change no existing behaviour.

/** The recorded orders among `externalIds` (any status), in one query. */
export async function getManyByExternalId(db: Queryable, tenantId: string, externalIds: string[], forUpdate = false): Promise<TransactionRow[]> {
  if (externalIds.length === 0) return [];
  const res = await db.query<TransactionRow>(
    `SELECT ${COLS} FROM transactions WHERE tenant_id = $1 AND external_id = ANY($2::text[])${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, externalIds],
  );
  return res.rows;
}

/** Which of these purchases have a return (recorded or voided). */
export async function purchasesWithReturns(db: Queryable, tenantId: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const res = await db.query<{ original_id: string }>(
    `SELECT DISTINCT original_id FROM transactions WHERE tenant_id = $1 AND original_id = ANY($2::uuid[])`,
    [tenantId, ids],
  );
  return new Set(res.rows.map((r) => r.original_id));
}

/** Inserts many orders in one statement; an external_id already taken is skipped. Returns the ids inserted. */
export async function insertTransactions(db: Queryable, tenantId: string, rows: NewTransaction[]): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const res = await db.query<{ id: string }>(
    `INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, customer_ref, original_id, occurred_at, currency, total,
                               lines, channel, store_id, payments, body_digest, points, earning, source, created_at)
     SELECT $1, id, external_id, type, 'recorded', member_id, customer_ref, original_id, occurred_at, currency, total,
            lines, channel, store_id, payments, body_digest, points, earning, source, created_at
       FROM json_to_recordset($2::json) AS s(id uuid, external_id text, type text, member_id uuid, customer_ref text, original_id uuid,
                                             occurred_at timestamptz, currency text, total bigint, lines jsonb, channel text, store_id text,
                                             payments jsonb, body_digest text, points bigint, earning jsonb, source text, created_at timestamptz)
     ON CONFLICT (tenant_id, external_id) DO NOTHING
     RETURNING id`,
    [tenantId, JSON.stringify(rows)],
  );
  return new Set(res.rows.map((r) => r.id));
}

/**
 * Replaces the content of orders that have no effect on any balance (never earned, no returns): member, amounts,
 * lines, payments, the body digest and the earning record (its not-earned reason). Status, points and created_at stay.
 */
export async function replaceOrders(
  db: Queryable,
  tenantId: string,
  rows: Array<Pick<TransactionRow, 'id' | 'member_id' | 'customer_ref' | 'occurred_at' | 'currency' | 'total' | 'lines' | 'channel' | 'store_id' | 'payments' | 'body_digest' | 'earning'>>,
): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE transactions t
        SET member_id = s.member_id, customer_ref = s.customer_ref, occurred_at = s.occurred_at, currency = s.currency, total = s.total,
            lines = s.lines, channel = s.channel, store_id = s.store_id, payments = s.payments, body_digest = s.body_digest, earning = s.earning
       FROM json_to_recordset($2::json) AS s(id uuid, member_id uuid, customer_ref text, occurred_at timestamptz, currency text, total bigint,
                                             lines jsonb, channel text, store_id text, payments jsonb, body_digest text, earning jsonb)
      WHERE t.tenant_id = $1 AND t.id = s.id`,
    [tenantId, JSON.stringify(rows)],
  );
}

/** What a group of members bought in [from, to): their recorded purchases, net of returns (campaign baselines and results). */
export interface PurchaseActivity {
  /** Members with at least one purchase. */
  members: number;
  orders: number;
  /** Minor units: what was paid minus what was refunded. */
  spend: number;
  /** Points the purchases keep after their returns. */
  points: number;
}

export async function purchaseActivity(db: Queryable, tenantId: string, memberIds: string[], from: Date, to: Date): Promise<PurchaseActivity> {
  if (memberIds.length === 0) return { members: 0, orders: 0, spend: 0, points: 0 };
  const res = await db.query(
    `SELECT count(DISTINCT member_id)::int AS members, count(*)::int AS orders,
            coalesce(sum(total - returned_total), 0)::bigint AS spend,
            coalesce(sum(coalesce((earning->>'kept_points')::bigint, 0)), 0)::bigint AS points
       FROM transactions
      WHERE tenant_id = $1 AND member_id = ANY($2::uuid[]) AND type = 'purchase' AND status = 'recorded'
        AND occurred_at >= $3 AND occurred_at < $4`,
    [tenantId, memberIds, from, to],
  );
  const r = res.rows[0];
  return { members: r.members, orders: r.orders, spend: Number(r.spend), points: Number(r.points) };
}

/**
 * Members with at least one recorded purchase and none since `cutoff` (by occurred_at): the lapsed buyers a win-back
 * message is for. A page after `afterId`, in member id order.
 */
export async function lapsedPurchasers(db: Queryable, tenantId: string, cutoff: Date, afterId: string | null, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT member_id FROM transactions
      WHERE tenant_id = $1 AND member_id IS NOT NULL AND type = 'purchase' AND status = 'recorded' AND ($3::uuid IS NULL OR member_id > $3)
      GROUP BY member_id
     HAVING max(occurred_at) < $2
      ORDER BY member_id
      LIMIT $4`,
    [tenantId, cutoff, afterId, limit],
  );
  return res.rows.map((r) => r.member_id);
}

// ── Tier qualification (the tiers module reads these through TransactionsService) ──────────────────────────

/**
 * Per member and window [from, to) of the purchases' occurred_at: money spent net of returns (a return lowers its
 * purchase, whenever it happened) and the number of purchases not wholly returned. Voided orders count for nothing.
 */
export async function qualifyingSpend(db: Queryable, tenantId: string, windows: Array<{ member_id: string; from: Date | null; to: Date }>): Promise<Map<string, { spent: number; purchases: number }>> {
  if (windows.length === 0) return new Map();
  const res = await db.query<{ member_id: string; spent: string; purchases: number }>(
    `SELECT w.member_id, coalesce(sum(t.total - t.returned_total), 0)::text AS spent,
            (count(t.id) FILTER (WHERE t.total > t.returned_total))::int AS purchases
       FROM unnest($2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS w(member_id, from_at, to_at)
       LEFT JOIN transactions t
         ON t.tenant_id = $1 AND t.member_id = w.member_id AND t.type = 'purchase' AND t.status = 'recorded'
        AND t.occurred_at < w.to_at AND (w.from_at IS NULL OR t.occurred_at >= w.from_at)
      GROUP BY w.member_id`,
    [tenantId, windows.map((w) => w.member_id), windows.map((w) => w.from), windows.map((w) => w.to)],
  );
  return new Map(res.rows.map((r) => [r.member_id, { spent: Number(r.spent), purchases: r.purchases }]));
}

/** Members' orders (purchases and returns) after the order `afterId`, oldest first by primary key (UUID v7). */
export async function memberOrdersAfter(db: Queryable, tenantId: string, afterId: string | null, limit: number): Promise<Array<{ id: string; member_id: string }>> {
  const res = await db.query<{ id: string; member_id: string }>(
    `SELECT id, member_id FROM transactions
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) AND member_id IS NOT NULL
      ORDER BY id LIMIT $3`,
    [tenantId, afterId, limit],
  );
  return res.rows;
}
