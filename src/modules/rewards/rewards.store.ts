/** SQL for `rewards`, `reward_redemptions` and `reward_draws` (the rewards catalog). */
import type { Queryable } from '../../platform/db/db.js';
import type { Period, RewardKind } from './rewards.schema.js';

export interface RewardRow {
  id: string;
  kind: RewardKind;
  status: 'active' | 'archived';
  name: Record<string, string>;
  description: Record<string, string>;
  image_url: string | null;
  points: number;
  tier_prices: Record<string, number>;
  tiers: string[] | null;
  audience: Record<string, unknown> | null;
  available_from: Date | null;
  available_until: Date | null;
  stock: number | null;
  redeemed_count: number;
  limit_per_member: number | null;
  limit_count: number | null;
  limit_period: Period | null;
  settings: Record<string, unknown>;
  capacity: number | null;
  seats_taken: number;
  draw_seed: string | null;
  draw_seed_sha256: string | null;
  drawn_at: Date | null;
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

const REWARD_COLS = `id, kind, status, name, description, image_url, points, tier_prices, tiers, audience, available_from, available_until,
  stock, redeemed_count, limit_per_member, limit_count, limit_period, settings, capacity, seats_taken, draw_seed, draw_seed_sha256,
  drawn_at, created_at, updated_at, archived_at`;

/** The columns a create or a change writes (counters, seed and timestamps have their own statements). */
export type RewardFields = Pick<RewardRow, 'status' | 'name' | 'description' | 'image_url' | 'points' | 'tier_prices' | 'tiers' | 'audience'
  | 'available_from' | 'available_until' | 'stock' | 'limit_per_member' | 'limit_count' | 'limit_period' | 'settings' | 'capacity' | 'archived_at'>;

const json = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export async function insertReward(db: Queryable, tenantId: string, r: RewardFields & Pick<RewardRow, 'id' | 'kind' | 'draw_seed' | 'draw_seed_sha256' | 'created_at'>): Promise<RewardRow> {
  const res = await db.query<RewardRow>(
    `INSERT INTO rewards (tenant_id, id, kind, status, name, description, image_url, points, tier_prices, tiers, audience, available_from,
       available_until, stock, limit_per_member, limit_count, limit_period, settings, capacity, draw_seed, draw_seed_sha256, created_at, updated_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22, $23)
     RETURNING ${REWARD_COLS}`,
    [tenantId, r.id, r.kind, r.status, json(r.name), json(r.description), r.image_url, r.points, json(r.tier_prices), r.tiers, json(r.audience),
      r.available_from, r.available_until, r.stock, r.limit_per_member, r.limit_count, r.limit_period, json(r.settings), r.capacity,
      r.draw_seed, r.draw_seed_sha256, r.created_at, r.archived_at],
  );
  return res.rows[0]!;
}

export async function updateReward(db: Queryable, tenantId: string, id: string, r: RewardFields, at: Date): Promise<RewardRow> {
  const res = await db.query<RewardRow>(
    `UPDATE rewards SET status = $3, name = $4, description = $5, image_url = $6, points = $7, tier_prices = $8, tiers = $9, audience = $10,
       available_from = $11, available_until = $12, stock = $13, limit_per_member = $14, limit_count = $15, limit_period = $16, settings = $17,
       capacity = $18, archived_at = $19, updated_at = $20
     WHERE tenant_id = $1 AND id = $2
     RETURNING ${REWARD_COLS}`,
    [tenantId, id, r.status, json(r.name), json(r.description), r.image_url, r.points, json(r.tier_prices), r.tiers, json(r.audience),
      r.available_from, r.available_until, r.stock, r.limit_per_member, r.limit_count, r.limit_period, json(r.settings), r.capacity, r.archived_at, at],
  );
  return res.rows[0]!;
}

export async function getReward(db: Queryable, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<RewardRow | null> {
  const res = await db.query<RewardRow>(`SELECT ${REWARD_COLS} FROM rewards WHERE tenant_id = $1 AND id = $2${opts.lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** In id order (oldest first); `active_only` for the catalog members see. */
export async function listRewards(db: Queryable, tenantId: string, f: { kind?: string; includeArchived: boolean; afterId?: string; limit: number }): Promise<RewardRow[]> {
  const res = await db.query<RewardRow>(
    `SELECT ${REWARD_COLS} FROM rewards
      WHERE tenant_id = $1 AND ($2::text IS NULL OR kind = $2) AND ($3 OR status = 'active') AND ($4::uuid IS NULL OR id > $4)
      ORDER BY id LIMIT $5`,
    [tenantId, f.kind ?? null, f.includeArchived, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

/**
 * Takes `n` units: one conditional UPDATE, so concurrent redemptions queue on the row and each re-checks what it
 * finds; null when there are not `n` units left (never below zero), or the reward was archived or drawn meanwhile (a
 * draw holds the row lock, so no entry slips in after it). Unlimited stock only counts.
 */
export async function takeStock(db: Queryable, tenantId: string, id: string, n: number): Promise<{ stock: number | null } | null> {
  const res = await db.query<{ stock: number | null }>(
    `UPDATE rewards SET stock = stock - $3, redeemed_count = redeemed_count + $3
      WHERE tenant_id = $1 AND id = $2 AND status = 'active' AND drawn_at IS NULL AND (stock IS NULL OR stock >= $3)
      RETURNING stock`,
    [tenantId, id, n],
  );
  return res.rows[0] ?? null;
}

export async function returnStock(db: Queryable, tenantId: string, id: string, n: number): Promise<void> {
  await db.query(
    `UPDATE rewards SET stock = stock + $3, redeemed_count = greatest(redeemed_count - $3, 0) WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, n],
  );
}

/** Takes a seat of an event when one is free; false when full. */
export async function takeSeat(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE rewards SET seats_taken = seats_taken + 1 WHERE tenant_id = $1 AND id = $2 AND seats_taken < capacity`,
    [tenantId, id],
  );
  return res.rowCount === 1;
}

export async function freeSeat(db: Queryable, tenantId: string, id: string): Promise<void> {
  await db.query(`UPDATE rewards SET seats_taken = seats_taken - 1 WHERE tenant_id = $1 AND id = $2 AND seats_taken > 0`, [tenantId, id]);
}

export async function markDrawn(db: Queryable, tenantId: string, id: string, at: Date): Promise<void> {
  await db.query(`UPDATE rewards SET drawn_at = $3, updated_at = $3 WHERE tenant_id = $1 AND id = $2`, [tenantId, id, at]);
}

// ── Reward redemptions ─────────────────────────────────────────────────────

export interface RewardRedemptionRow {
  id: string;
  reward_id: string;
  member_id: string;
  kind: RewardKind;
  quantity: number;
  points: number;
  redemption_id: string | null;
  status: 'completed' | 'cancelled';
  origin: 'redemption' | 'gift';
  source_type: string | null;
  source_id: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  voucher_id: string | null;
  voucher_code: string | null;
  amount: number | null;
  currency: string | null;
  fulfilment_status: 'pending' | 'shipped' | 'delivered' | 'cancelled' | null;
  shipping_address: Record<string, string> | null;
  note: string | null;
  tracking_ref: string | null;
  rsvp_status: 'accepted' | 'waitlisted' | 'declined' | null;
  won: boolean | null;
  actor: string | null;
  created_at: Date;
  updated_at: Date;
  cancelled_at: Date | null;
}

const RR_COLS = `id, reward_id, member_id, kind, quantity, points, redemption_id, status, origin, source_type, source_id, reason, details,
  voucher_id, voucher_code, amount, currency, fulfilment_status, shipping_address, note, tracking_ref, rsvp_status, won, actor,
  created_at, updated_at, cancelled_at`;

export type NewRewardRedemption = Omit<RewardRedemptionRow, 'status' | 'updated_at' | 'cancelled_at' | 'won'>;

export async function insertRewardRedemption(db: Queryable, tenantId: string, r: NewRewardRedemption): Promise<RewardRedemptionRow> {
  const res = await db.query<RewardRedemptionRow>(
    `INSERT INTO reward_redemptions (tenant_id, id, reward_id, member_id, kind, quantity, points, redemption_id, status, origin, source_type,
       source_id, reason, details, voucher_id, voucher_code, amount, currency, fulfilment_status, shipping_address, note, tracking_ref,
       rsvp_status, actor, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'completed', $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $24)
     RETURNING ${RR_COLS}`,
    [tenantId, r.id, r.reward_id, r.member_id, r.kind, r.quantity, r.points, r.redemption_id, r.origin, r.source_type, r.source_id, r.reason,
      json(r.details), r.voucher_id, r.voucher_code, r.amount, r.currency, r.fulfilment_status, json(r.shipping_address), r.note, r.tracking_ref,
      r.rsvp_status, r.actor, r.created_at],
  );
  return res.rows[0]!;
}

export async function getRewardRedemption(db: Queryable, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<RewardRedemptionRow | null> {
  const res = await db.query<RewardRedemptionRow>(`SELECT ${RR_COLS} FROM reward_redemptions WHERE tenant_id = $1 AND id = $2${opts.lock ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** The reward redemption that issued a voucher (or spent a points redemption). */
export async function findByVoucher(db: Queryable, tenantId: string, ref: { voucherId: string; redemptionId: string | null }): Promise<RewardRedemptionRow | null> {
  const res = await db.query<RewardRedemptionRow>(
    `SELECT ${RR_COLS} FROM reward_redemptions
      WHERE tenant_id = $1 AND (voucher_id = $2 OR ($3::uuid IS NOT NULL AND (id = $3 OR redemption_id = $3)))
      ORDER BY id LIMIT 1`,
    [tenantId, ref.voucherId, ref.redemptionId],
  );
  return res.rows[0] ?? null;
}

export async function setVoucher(db: Queryable, tenantId: string, id: string, voucher: { id: string; code: string }): Promise<RewardRedemptionRow> {
  const res = await db.query<RewardRedemptionRow>(
    `UPDATE reward_redemptions SET voucher_id = $3, voucher_code = $4 WHERE tenant_id = $1 AND id = $2 RETURNING ${RR_COLS}`,
    [tenantId, id, voucher.id, voucher.code],
  );
  return res.rows[0]!;
}

export async function updateRewardRedemption(db: Queryable, tenantId: string, id: string,
  c: Partial<Pick<RewardRedemptionRow, 'status' | 'fulfilment_status' | 'note' | 'tracking_ref' | 'shipping_address' | 'rsvp_status' | 'cancelled_at'>>, at: Date): Promise<RewardRedemptionRow> {
  const res = await db.query<RewardRedemptionRow>(
    `UPDATE reward_redemptions SET
       status = coalesce($3, status), fulfilment_status = coalesce($4, fulfilment_status),
       note = CASE WHEN $5 THEN $6 ELSE note END, tracking_ref = CASE WHEN $7 THEN $8 ELSE tracking_ref END,
       rsvp_status = coalesce($9, rsvp_status), cancelled_at = coalesce($10, cancelled_at), updated_at = $11,
       shipping_address = coalesce($12, shipping_address)
     WHERE tenant_id = $1 AND id = $2 RETURNING ${RR_COLS}`,
    [tenantId, id, c.status ?? null, c.fulfilment_status ?? null, 'note' in c, c.note ?? null, 'tracking_ref' in c, c.tracking_ref ?? null,
      c.rsvp_status ?? null, c.cancelled_at ?? null, at, json(c.shipping_address)],
  );
  return res.rows[0]!;
}

/** The first waitlisted invitation of an event (in redemption order), locked. */
export async function firstWaitlisted(db: Queryable, tenantId: string, rewardId: string): Promise<RewardRedemptionRow | null> {
  const res = await db.query<RewardRedemptionRow>(
    `SELECT ${RR_COLS} FROM reward_redemptions
      WHERE tenant_id = $1 AND reward_id = $2 AND status = 'completed' AND rsvp_status = 'waitlisted'
      ORDER BY id LIMIT 1 FOR UPDATE`,
    [tenantId, rewardId],
  );
  return res.rows[0] ?? null;
}

/** Newest first, of a member and/or a reward. */
export async function listRewardRedemptions(db: Queryable, tenantId: string, f: { memberId?: string; rewardId?: string; beforeId?: string; limit: number }): Promise<RewardRedemptionRow[]> {
  const res = await db.query<RewardRedemptionRow>(
    `SELECT ${RR_COLS} FROM reward_redemptions
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR member_id = $2) AND ($3::uuid IS NULL OR reward_id = $3) AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC LIMIT $5`,
    [tenantId, f.memberId ?? null, f.rewardId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

export interface Usage {
  total: number;
  day: number;
  week: number;
  month: number;
  year: number;
}

/**
 * Units a member redeemed (not cancelled, not gifts) of each reward: ever, and in the current calendar day, ISO week,
 * month and year of `timeZone` (date_trunc on local time, back to an instant).
 */
export async function usageOf(db: Queryable, tenantId: string, memberId: string, rewardIds: string[], now: Date, timeZone: string): Promise<Map<string, Usage>> {
  if (rewardIds.length === 0) return new Map();
  const since = (p: Period) => `coalesce(sum(quantity) FILTER (WHERE created_at >= date_trunc('${p}', $4::timestamptz AT TIME ZONE $5::text) AT TIME ZONE $5::text), 0)`;
  const res = await db.query<Usage & { reward_id: string }>(
    `SELECT reward_id, coalesce(sum(quantity), 0) AS total, ${since('day')} AS day, ${since('week')} AS week, ${since('month')} AS month, ${since('year')} AS year
       FROM reward_redemptions
      WHERE tenant_id = $1 AND member_id = $2 AND reward_id = ANY($3::uuid[]) AND status = 'completed' AND origin = 'redemption'
      GROUP BY reward_id`,
    [tenantId, memberId, rewardIds, now, timeZone],
  );
  return new Map(res.rows.map((r) => [r.reward_id, { total: Number(r.total), day: Number(r.day), week: Number(r.week), month: Number(r.month), year: Number(r.year) }]));
}

/** Sweepstakes entrants: the reward's completed redemptions in id order. */
export async function entriesOf(db: Queryable, tenantId: string, rewardId: string): Promise<Array<{ id: string; member_id: string; quantity: number }>> {
  const res = await db.query<{ id: string; member_id: string; quantity: number }>(
    `SELECT id, member_id, quantity FROM reward_redemptions WHERE tenant_id = $1 AND reward_id = $2 AND status = 'completed' ORDER BY id`,
    [tenantId, rewardId],
  );
  return res.rows;
}

export async function markWinners(db: Queryable, tenantId: string, rewardId: string, winnerIds: string[], at: Date): Promise<void> {
  await db.query(
    `UPDATE reward_redemptions SET won = (id = ANY($3::uuid[])), updated_at = $4 WHERE tenant_id = $1 AND reward_id = $2 AND status = 'completed'`,
    [tenantId, rewardId, winnerIds, at],
  );
}

/** GDPR erasure: the address and notes a member gave go; what was redeemed stays. */
export async function clearPersonalData(db: Queryable, tenantId: string, memberId: string): Promise<void> {
  await db.query(
    `UPDATE reward_redemptions SET shipping_address = NULL, note = NULL WHERE tenant_id = $1 AND member_id = $2 AND (shipping_address IS NOT NULL OR note IS NOT NULL)`,
    [tenantId, memberId],
  );
}

// ── Draws ──────────────────────────────────────────────────────────────────

export interface DrawRow {
  id: string;
  reward_id: string;
  algorithm: string;
  seed: string;
  seed_sha256: string;
  winners_count: number;
  entrants: Array<[string, string]>;
  entrants_count: number;
  entrants_sha256: string;
  winners: Array<{ position: number; entry: number; reward_redemption_id: string; member_id: string }>;
  actor: string | null;
  drawn_at: Date;
}

const DRAW_COLS = 'id, reward_id, algorithm, seed, seed_sha256, winners_count, entrants, entrants_count, entrants_sha256, winners, actor, drawn_at';

export async function insertDraw(db: Queryable, tenantId: string, d: DrawRow): Promise<DrawRow> {
  const res = await db.query<DrawRow>(
    `INSERT INTO reward_draws (tenant_id, id, reward_id, algorithm, seed, seed_sha256, winners_count, entrants, entrants_count, entrants_sha256, winners, actor, drawn_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ${DRAW_COLS}`,
    [tenantId, d.id, d.reward_id, d.algorithm, d.seed, d.seed_sha256, d.winners_count, json(d.entrants), d.entrants_count, d.entrants_sha256,
      json(d.winners), d.actor, d.drawn_at],
  );
  return res.rows[0]!;
}

export async function drawsOf(db: Queryable, tenantId: string, rewardId: string): Promise<DrawRow[]> {
  const res = await db.query<DrawRow>(`SELECT ${DRAW_COLS} FROM reward_draws WHERE tenant_id = $1 AND reward_id = $2 ORDER BY id`, [tenantId, rewardId]);
  return res.rows;
}
