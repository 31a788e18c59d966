/**
 * SQL for vouchers, their redemptions, code pools and bulk batches. A voucher's row is its lock: a redemption,
 * release or cancellation takes it FOR UPDATE first, so two uses of one code run one after the other.
 */
import { prepared, type Queryable } from '../../platform/db/db.js';

export const KINDS = ['fixed_amount', 'percentage', 'free_product', 'gift_card'] as const;
export type VoucherKind = (typeof KINDS)[number];
export const STATUSES = ['active', 'redeemed', 'cancelled', 'expired'] as const;
export type VoucherStatus = (typeof STATUSES)[number];

/** A voucher: its terms (VoucherTerms, below) and its own code, balance and life cycle. */
export interface VoucherRow extends VoucherTerms {
  id: string;
  code: string;
  balance: number | null;
  status: VoucherStatus;
  redeemed_at: Date | null;
  cancelled_at: Date | null;
  expired_at: Date | null;
}

/** What every voucher of one issue or batch shares. */
export interface VoucherTerms {
  kind: VoucherKind;
  currency: string;
  amount: number | null;
  percent: number | null;
  max_discount: number | null;
  sku: string | null;
  min_basket: number;
  member_id: string | null;
  reward_id: string | null;
  redemption_id: string | null;
  batch_id: string | null;
  pool_id: string | null;
  expires_at: Date | null;
  created_at: Date;
}

export interface RedemptionRow {
  id: string;
  voucher_id: string;
  order_ref: string;
  member_id: string | null;
  total: number;
  currency: string;
  discount: number;
  status: 'redeemed' | 'released';
  created_at: Date;
  released_at: Date | null;
}

export interface PoolRow {
  id: string;
  name: string;
  created_at: Date;
  codes: number;
  unused: number;
}

export interface BatchRow {
  id: string;
  count: number;
  pattern: string | null;
  pool_id: string | null;
  spec: Record<string, unknown>;
  collisions: number;
  created_at: Date;
}

// percent is numeric(5,2): a float8 in JS is exact enough for two decimals.
const COLS = `id, code, kind, currency, amount, percent::float8 AS percent, max_discount, sku, min_basket, balance, status, member_id,
  reward_id, redemption_id, batch_id, pool_id, expires_at, created_at, redeemed_at, cancelled_at, expired_at`;
const RCOLS = 'id, voucher_id, order_ref, member_id, total, currency, discount, status, created_at, released_at';

const termParams = (t: VoucherTerms) =>
  [t.kind, t.currency, t.amount, t.percent, t.max_discount, t.sku, t.min_basket, t.member_id, t.reward_id, t.redemption_id, t.batch_id, t.pool_id, t.expires_at, t.created_at];

/**
 * Inserts vouchers with these terms, one per (id, code); a code already taken in the tenant is skipped (ON CONFLICT
 * DO NOTHING). Returns the rows inserted. Set-based: 100,000 codes are one statement.
 */
export async function insertVouchers(db: Queryable, tenantId: string, t: VoucherTerms, ids: string[], codes: string[], returning: boolean): Promise<{ rows: VoucherRow[]; inserted: number }> {
  const res = await db.query<VoucherRow>(
    `INSERT INTO vouchers (tenant_id, id, code, kind, currency, amount, percent, max_discount, sku, min_basket, balance, status, member_id,
                           reward_id, redemption_id, batch_id, pool_id, expires_at, created_at)
     SELECT $1, v.id, v.code, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $4 = 'gift_card' THEN $6::bigint END, 'active', $11,
            $12, $13, $14, $15, $16, $17
       FROM unnest($2::uuid[], $3::text[]) AS v(id, code)
     ON CONFLICT (tenant_id, code) DO NOTHING
     ${returning ? `RETURNING ${COLS}` : ''}`,
    [tenantId, ids, codes, ...termParams(t)],
  );
  return { rows: res.rows, inserted: res.rowCount ?? 0 };
}

export async function getVoucher(db: Queryable, tenantId: string, id: string): Promise<VoucherRow | null> {
  const res = await db.query<VoucherRow>(`SELECT ${COLS} FROM vouchers WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

const BY_CODE = prepared('vouchers.by_code', `SELECT ${COLS} FROM vouchers WHERE tenant_id = $1 AND code = $2`);
const LOCK_BY_CODE = prepared('vouchers.lock_by_code', `SELECT ${COLS} FROM vouchers WHERE tenant_id = $1 AND code = $2 FOR UPDATE`);

export async function getByCode(db: Queryable, tenantId: string, code: string, lock: boolean): Promise<VoucherRow | null> {
  return (await db.query<VoucherRow>(lock ? LOCK_BY_CODE : BY_CODE, [tenantId, code])).rows[0] ?? null;
}

export async function lockVoucher(db: Queryable, tenantId: string, id: string): Promise<VoucherRow | null> {
  const res = await db.query<VoucherRow>(`SELECT ${COLS} FROM vouchers WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export interface VoucherFilter {
  status?: VoucherStatus;
  kind?: VoucherKind;
  memberId?: string;
  batchId?: string;
  beforeId?: string;
  limit: number;
}

/** Newest first. */
export async function listVouchers(db: Queryable, tenantId: string, f: VoucherFilter): Promise<VoucherRow[]> {
  const res = await db.query<VoucherRow>(
    `SELECT ${COLS} FROM vouchers
      WHERE tenant_id = $1
        AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
        AND ($4::uuid IS NULL OR member_id = $4) AND ($5::uuid IS NULL OR batch_id = $5)
        AND ($6::uuid IS NULL OR id < $6)
      ORDER BY id DESC
      LIMIT $7`,
    [tenantId, f.status ?? null, f.kind ?? null, f.memberId ?? null, f.batchId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Sets a voucher's status and gift-card balance, stamping the matching time. */
const SET_STATE = prepared('vouchers.set_state', `UPDATE vouchers
    SET status = $3, balance = $4,
        redeemed_at = CASE WHEN $3 = 'redeemed' THEN $5 WHEN $3 = 'active' THEN NULL ELSE redeemed_at END,
        cancelled_at = CASE WHEN $3 = 'cancelled' THEN $5 ELSE cancelled_at END,
        expired_at = CASE WHEN $3 = 'expired' THEN $5 ELSE expired_at END
  WHERE tenant_id = $1 AND id = $2
  RETURNING ${COLS}`);

export async function setState(db: Queryable, tenantId: string, id: string, status: VoucherStatus, balance: number | null, at: Date): Promise<VoucherRow> {
  return (await db.query<VoucherRow>(SET_STATE, [tenantId, id, status, balance, at])).rows[0]!;
}

/** Marks up to `limit` active vouchers past their expiry as expired (skipping ones being used right now). */
export async function expireDue(db: Queryable, tenantId: string, now: Date, limit: number): Promise<Array<{ id: string; member_id: string | null; balance: number | null }>> {
  const res = await db.query(
    `UPDATE vouchers v SET status = 'expired', expired_at = $2
       FROM (SELECT id FROM vouchers
              WHERE tenant_id = $1 AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= $2
              ORDER BY expires_at LIMIT $3 FOR UPDATE SKIP LOCKED) due
      WHERE v.tenant_id = $1 AND v.id = due.id
      RETURNING v.id, v.member_id, v.balance`,
    [tenantId, now, limit],
  );
  return res.rows;
}

// ── Redemptions ───────────────────────────────────────────────────────────

const INSERT_REDEMPTION = prepared('vouchers.insert_redemption', `INSERT INTO voucher_redemptions (tenant_id, id, voucher_id, order_ref, member_id, total, currency, discount, status, created_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'redeemed', $9)
   RETURNING ${RCOLS}`);

export async function insertRedemption(db: Queryable, tenantId: string, r: Omit<RedemptionRow, 'status' | 'released_at'>): Promise<RedemptionRow> {
  return (await db.query<RedemptionRow>(INSERT_REDEMPTION, [tenantId, r.id, r.voucher_id, r.order_ref, r.member_id, r.total, r.currency, r.discount, r.created_at])).rows[0]!;
}

const STANDING = prepared('vouchers.standing', `SELECT ${RCOLS} FROM voucher_redemptions WHERE tenant_id = $1 AND voucher_id = $2 AND order_ref = $3 AND status = 'redeemed'`);

/** The voucher's standing (not released) redemption for this order, if any. */
export async function standingFor(db: Queryable, tenantId: string, voucherId: string, orderRef: string): Promise<RedemptionRow | null> {
  return (await db.query<RedemptionRow>(STANDING, [tenantId, voucherId, orderRef])).rows[0] ?? null;
}

export async function countStanding(db: Queryable, tenantId: string, voucherId: string): Promise<number> {
  const res = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM voucher_redemptions WHERE tenant_id = $1 AND voucher_id = $2 AND status = 'redeemed'`, [tenantId, voucherId]);
  return res.rows[0]!.n;
}

export async function getRedemption(db: Queryable, tenantId: string, id: string): Promise<RedemptionRow | null> {
  const res = await db.query<RedemptionRow>(`SELECT ${RCOLS} FROM voucher_redemptions WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function markReleased(db: Queryable, tenantId: string, id: string, at: Date): Promise<RedemptionRow> {
  const res = await db.query<RedemptionRow>(`UPDATE voucher_redemptions SET status = 'released', released_at = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${RCOLS}`, [tenantId, id, at]);
  return res.rows[0]!;
}

/** A voucher's redemptions, newest first. */
export async function listRedemptions(db: Queryable, tenantId: string, voucherId: string, f: { beforeId?: string; limit: number }): Promise<RedemptionRow[]> {
  const res = await db.query<RedemptionRow>(
    `SELECT ${RCOLS} FROM voucher_redemptions WHERE tenant_id = $1 AND voucher_id = $2 AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
    [tenantId, voucherId, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

// ── Pools ─────────────────────────────────────────────────────────────────

const POOL_COLS = `p.id, p.name, p.created_at,
  (SELECT count(*)::int FROM voucher_pool_codes c WHERE c.tenant_id = p.tenant_id AND c.pool_id = p.id) AS codes,
  (SELECT count(*)::int FROM voucher_pool_codes c WHERE c.tenant_id = p.tenant_id AND c.pool_id = p.id AND c.taken_at IS NULL) AS unused`;

export async function insertPool(db: Queryable, tenantId: string, p: { id: string; name: string; created_at: Date }): Promise<void> {
  await db.query(`INSERT INTO voucher_pools (tenant_id, id, name, created_at) VALUES ($1, $2, $3, $4)`, [tenantId, p.id, p.name, p.created_at]);
}

export async function getPool(db: Queryable, tenantId: string, id: string): Promise<PoolRow | null> {
  const res = await db.query<PoolRow>(`SELECT ${POOL_COLS} FROM voucher_pools p WHERE p.tenant_id = $1 AND p.id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listPools(db: Queryable, tenantId: string, f: { beforeId?: string; limit: number }): Promise<PoolRow[]> {
  const res = await db.query<PoolRow>(
    `SELECT ${POOL_COLS} FROM voucher_pools p WHERE p.tenant_id = $1 AND ($2::uuid IS NULL OR p.id < $2) ORDER BY p.id DESC LIMIT $3`,
    [tenantId, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Adds codes to a pool; a code already in a pool of the tenant is skipped. Returns how many were added. */
export async function addPoolCodes(db: Queryable, tenantId: string, poolId: string, codes: string[]): Promise<number> {
  const res = await db.query(
    `INSERT INTO voucher_pool_codes (tenant_id, code, pool_id) SELECT $1, c, $2 FROM unnest($3::text[]) AS c ON CONFLICT DO NOTHING`,
    [tenantId, poolId, codes],
  );
  return res.rowCount ?? 0;
}

/**
 * Takes up to `n` unused codes of a pool (marks them taken). SKIP LOCKED: concurrent issues from one pool take
 * different codes without waiting for each other.
 */
export async function takePoolCodes(db: Queryable, tenantId: string, poolId: string, n: number, at: Date): Promise<string[]> {
  const res = await db.query<{ code: string }>(
    `UPDATE voucher_pool_codes c SET taken_at = $4
       FROM (SELECT code FROM voucher_pool_codes
              WHERE tenant_id = $1 AND pool_id = $2 AND taken_at IS NULL
              ORDER BY code LIMIT $3 FOR UPDATE SKIP LOCKED) next
      WHERE c.tenant_id = $1 AND c.code = next.code
      RETURNING c.code`,
    [tenantId, poolId, n, at],
  );
  return res.rows.map((r) => r.code);
}

/** Records which voucher each taken pool code became. */
export async function linkPoolCodes(db: Queryable, tenantId: string, ids: string[], codes: string[]): Promise<void> {
  await db.query(
    `UPDATE voucher_pool_codes c SET voucher_id = v.id FROM unnest($2::uuid[], $3::text[]) AS v(id, code) WHERE c.tenant_id = $1 AND c.code = v.code`,
    [tenantId, ids, codes],
  );
}

// ── Batches ───────────────────────────────────────────────────────────────

const BCOLS = 'id, count, pattern, pool_id, spec, collisions, created_at';

export async function insertBatch(db: Queryable, tenantId: string, b: BatchRow): Promise<BatchRow> {
  const res = await db.query<BatchRow>(
    `INSERT INTO voucher_batches (tenant_id, id, count, pattern, pool_id, spec, collisions, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${BCOLS}`,
    [tenantId, b.id, b.count, b.pattern, b.pool_id, JSON.stringify(b.spec), b.collisions, b.created_at],
  );
  return res.rows[0]!;
}

export async function setBatchCollisions(db: Queryable, tenantId: string, id: string, collisions: number): Promise<BatchRow> {
  const res = await db.query<BatchRow>(`UPDATE voucher_batches SET collisions = $3 WHERE tenant_id = $1 AND id = $2 RETURNING ${BCOLS}`, [tenantId, id, collisions]);
  return res.rows[0]!;
}

export async function getBatch(db: Queryable, tenantId: string, id: string): Promise<BatchRow | null> {
  const res = await db.query<BatchRow>(`SELECT ${BCOLS} FROM voucher_batches WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listBatches(db: Queryable, tenantId: string, f: { beforeId?: string; limit: number }): Promise<BatchRow[]> {
  const res = await db.query<BatchRow>(
    `SELECT ${BCOLS} FROM voucher_batches WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [tenantId, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}
