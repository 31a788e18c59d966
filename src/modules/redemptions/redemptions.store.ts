/** SQL for `redemptions` (points spent on a reward, a discount, an order). Holds are the ledger's (ledger.store.ts). */
import type { Queryable } from '../../platform/db/db.js';

export interface RedemptionRow {
  id: string;
  member_id: string;
  points: number;
  reward_ref: string | null;
  reason: string | null;
  order_ref: string | null;
  value_amount: number;
  currency: string;
  status: 'completed' | 'cancelled';
  entry_id: string;
  hold_id: string | null;
  created_at: Date;
  cancelled_at: Date | null;
}

const COLS = 'id, member_id, points, reward_ref, reason, order_ref, value_amount, currency, status, entry_id, hold_id, created_at, cancelled_at';

export async function insertRedemption(db: Queryable, tenantId: string, r: Omit<RedemptionRow, 'status' | 'cancelled_at'>): Promise<RedemptionRow> {
  const res = await db.query<RedemptionRow>(
    `INSERT INTO redemptions (tenant_id, id, member_id, points, reward_ref, reason, order_ref, value_amount, currency, status, entry_id, hold_id, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'completed', $10, $11, $12)
     RETURNING ${COLS}`,
    [tenantId, r.id, r.member_id, r.points, r.reward_ref, r.reason, r.order_ref, r.value_amount, r.currency, r.entry_id, r.hold_id, r.created_at],
  );
  return res.rows[0]!;
}

export async function getRedemption(db: Queryable, tenantId: string, id: string): Promise<RedemptionRow | null> {
  const res = await db.query<RedemptionRow>(`SELECT ${COLS} FROM redemptions WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function markCancelled(db: Queryable, tenantId: string, id: string, at: Date): Promise<RedemptionRow> {
  const res = await db.query<RedemptionRow>(
    `UPDATE redemptions SET status = 'cancelled', cancelled_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, at],
  );
  return res.rows[0]!;
}

/** Newest first; `memberId` narrows to one member (index redemptions_member), else the tenant's (primary key). */
export async function listRedemptions(db: Queryable, tenantId: string, f: { memberId?: string; beforeId?: string; limit: number }): Promise<RedemptionRow[]> {
  const res = await db.query<RedemptionRow>(
    `SELECT ${COLS} FROM redemptions
      WHERE tenant_id = $1
        AND ($2::uuid IS NULL OR member_id = $2)
        AND ($3::uuid IS NULL OR id < $3)
      ORDER BY id DESC
      LIMIT $4`,
    [tenantId, f.memberId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}
