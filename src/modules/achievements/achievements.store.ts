/**
 * SQL for badges, member_badges, achievement_purchases, achievement_event_counts and leaderboard_opt_ins
 * (migrations/0012_achievements.sql).
 */
import type { Queryable } from '../../platform/db/db.js';
import type { Gift, GiftResult } from '../rewards/rewards.gift.js';
import type { LocalizedTextValue } from '../stamp-cards/stamp-cards.schema.js';
import type { CriterionKind } from './achievements.schema.js';

export interface Criterion {
  kind: CriterionKind;
  n?: number;
  categories?: string[];
  name?: string;
}

export interface BadgeRow {
  id: string;
  code: string;
  name: LocalizedTextValue;
  description: LocalizedTextValue | null;
  icon_url: string | null;
  criterion: Criterion;
  bonus: Gift | null;
  status: 'active' | 'archived';
  created_at: Date;
  updated_at: Date;
  archived_at: Date | null;
}

export interface EarnedRow {
  badge_id: string;
  earned_at: Date;
  transaction_id: string | null;
  event_id: string | null;
  bonus: GiftResult | null;
}

const BADGE_COLS = 'id, code, name, description, icon_url, criterion, bonus, status, created_at, updated_at, archived_at';

// ── Badges ────────────────────────────────────────────────────────────────────

/** Inserts the badge unless its code is taken (null then). */
export async function insertBadge(db: Queryable, tenantId: string, b: BadgeRow): Promise<BadgeRow | null> {
  const res = await db.query<BadgeRow>(
    `INSERT INTO badges (tenant_id, id, code, name, description, icon_url, criterion, bonus, status, created_at, updated_at, archived_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     ON CONFLICT (tenant_id, code) DO NOTHING
     RETURNING ${BADGE_COLS}`,
    [tenantId, b.id, b.code, JSON.stringify(b.name), b.description ? JSON.stringify(b.description) : null, b.icon_url, JSON.stringify(b.criterion),
      b.bonus ? JSON.stringify(b.bonus) : null, b.status, b.created_at, b.updated_at, b.archived_at],
  );
  return res.rows[0] ?? null;
}

export async function updateBadge(db: Queryable, tenantId: string, b: BadgeRow): Promise<BadgeRow> {
  const res = await db.query<BadgeRow>(
    `UPDATE badges SET name = $3, description = $4, icon_url = $5, criterion = $6, bonus = $7, status = $8, updated_at = $9, archived_at = $10
      WHERE tenant_id = $1 AND id = $2 RETURNING ${BADGE_COLS}`,
    [tenantId, b.id, JSON.stringify(b.name), b.description ? JSON.stringify(b.description) : null, b.icon_url, JSON.stringify(b.criterion),
      b.bonus ? JSON.stringify(b.bonus) : null, b.status, b.updated_at, b.archived_at],
  );
  return res.rows[0]!;
}

export async function getBadge(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<BadgeRow | null> {
  const res = await db.query<BadgeRow>(`SELECT ${BADGE_COLS} FROM badges WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listBadges(db: Queryable, tenantId: string, f: { includeArchived: boolean; afterId?: string; limit: number }): Promise<BadgeRow[]> {
  const res = await db.query<BadgeRow>(
    `SELECT ${BADGE_COLS} FROM badges WHERE tenant_id = $1 AND ($2 OR status = 'active') AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $4`,
    [tenantId, f.includeArchived, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

/** Active badges the member has not earned, of the given criterion kinds (the hooks' work list). */
export async function unearned(db: Queryable, tenantId: string, memberId: string, kinds: CriterionKind[]): Promise<BadgeRow[]> {
  const res = await db.query<BadgeRow>(
    `SELECT ${BADGE_COLS} FROM badges b
      WHERE tenant_id = $1 AND status = 'active' AND criterion->>'kind' = ANY($3::text[])
        AND NOT EXISTS (SELECT 1 FROM member_badges m WHERE m.tenant_id = b.tenant_id AND m.badge_id = b.id AND m.member_id = $2)
      ORDER BY id`,
    [tenantId, memberId, kinds],
  );
  return res.rows;
}

// ── Earned badges ─────────────────────────────────────────────────────────────

/** Records the badge as earned; false when the member already has it (the primary key decides). */
export async function insertEarned(db: Queryable, tenantId: string, memberId: string, e: EarnedRow): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO member_badges (tenant_id, member_id, badge_id, earned_at, transaction_id, event_id, bonus)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [tenantId, memberId, e.badge_id, e.earned_at, e.transaction_id, e.event_id, e.bonus ? JSON.stringify(e.bonus) : null],
  );
  return res.rowCount === 1;
}

export async function setBonus(db: Queryable, tenantId: string, memberId: string, badgeId: string, bonus: GiftResult): Promise<void> {
  await db.query(`UPDATE member_badges SET bonus = $4 WHERE tenant_id = $1 AND member_id = $2 AND badge_id = $3`, [tenantId, memberId, badgeId, JSON.stringify(bonus)]);
}

export async function earnedBy(db: Queryable, tenantId: string, memberId: string): Promise<EarnedRow[]> {
  const res = await db.query<EarnedRow>(
    `SELECT badge_id, earned_at, transaction_id, event_id, bonus FROM member_badges WHERE tenant_id = $1 AND member_id = $2 ORDER BY earned_at, badge_id`,
    [tenantId, memberId],
  );
  return res.rows;
}

/** Badges a member may see: active ones, and archived ones they earned; oldest first. */
export async function badgesForMember(db: Queryable, tenantId: string, memberId: string, f: { earned?: boolean; afterId?: string; limit: number }): Promise<Array<BadgeRow & { earned: EarnedRow | null }>> {
  const res = await db.query<BadgeRow & { earned: (Omit<EarnedRow, 'earned_at'> & { earned_at: string }) | null }>(
    `SELECT ${BADGE_COLS.split(', ').map((c) => `b.${c}`).join(', ')},
            CASE WHEN m.badge_id IS NULL THEN NULL ELSE jsonb_build_object('badge_id', m.badge_id, 'earned_at', m.earned_at, 'transaction_id', m.transaction_id, 'event_id', m.event_id, 'bonus', m.bonus) END AS earned
       FROM badges b
       LEFT JOIN member_badges m ON m.tenant_id = b.tenant_id AND m.badge_id = b.id AND m.member_id = $2
      WHERE b.tenant_id = $1 AND (b.status = 'active' OR m.badge_id IS NOT NULL)
        AND ($3::boolean IS NULL OR (m.badge_id IS NOT NULL) = $3) AND ($4::uuid IS NULL OR b.id > $4)
      ORDER BY b.id LIMIT $5`,
    [tenantId, memberId, f.earned ?? null, f.afterId ?? null, f.limit],
  );
  return res.rows.map((r) => ({ ...r, earned: r.earned ? { ...r.earned, earned_at: new Date(r.earned.earned_at) } : null }));
}

/** Badges earned in [from, to) per member, among `memberIds`. */
export async function badgesEarnedBetween(db: Queryable, tenantId: string, memberIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
  if (memberIds.length === 0) return new Map();
  const res = await db.query<{ member_id: string; n: number }>(
    `SELECT member_id, count(*)::int AS n FROM member_badges
      WHERE tenant_id = $1 AND member_id = ANY($2::uuid[]) AND earned_at >= $3 AND earned_at < $4 GROUP BY member_id`,
    [tenantId, memberIds, from, to],
  );
  return new Map(res.rows.map((r) => [r.member_id, r.n]));
}

// ── Facts the badges are judged by ──────────────────────────────────────────────

export async function insertPurchase(db: Queryable, tenantId: string, p: { member_id: string; transaction_id: string; week: string; categories: string[]; occurred_at: Date }): Promise<void> {
  await db.query(
    `INSERT INTO achievement_purchases (tenant_id, member_id, transaction_id, week, categories, occurred_at)
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
    [tenantId, p.member_id, p.transaction_id, p.week, p.categories, p.occurred_at],
  );
}

export async function voidPurchase(db: Queryable, tenantId: string, memberId: string, transactionId: string): Promise<void> {
  await db.query(`UPDATE achievement_purchases SET voided = true WHERE tenant_id = $1 AND member_id = $2 AND transaction_id = $3`, [tenantId, memberId, transactionId]);
}

export interface PurchaseStats {
  purchases: number;
  /** Distinct Mondays of the weeks with a purchase, ascending ('YYYY-MM-DD'). */
  weeks: string[];
  categories: string[];
}

export async function purchaseStats(db: Queryable, tenantId: string, memberId: string): Promise<PurchaseStats> {
  const res = await db.query<PurchaseStats>(
    `SELECT count(*)::int AS purchases,
            coalesce(array_agg(DISTINCT to_char(week, 'YYYY-MM-DD')), '{}') AS weeks,
            coalesce((SELECT array_agg(DISTINCT c) FROM achievement_purchases p2, unnest(p2.categories) c
                       WHERE p2.tenant_id = $1 AND p2.member_id = $2 AND NOT p2.voided), '{}') AS categories
       FROM achievement_purchases WHERE tenant_id = $1 AND member_id = $2 AND NOT voided`,
    [tenantId, memberId],
  );
  const r = res.rows[0]!;
  return { purchases: r.purchases, weeks: [...r.weeks].sort(), categories: r.categories };
}

export async function countEvent(db: Queryable, tenantId: string, memberId: string, name: string): Promise<number> {
  const res = await db.query<{ count: number }>(
    `INSERT INTO achievement_event_counts (tenant_id, member_id, name, count) VALUES ($1, $2, $3, 1)
     ON CONFLICT (tenant_id, member_id, name) DO UPDATE SET count = achievement_event_counts.count + 1
     RETURNING count`,
    [tenantId, memberId, name],
  );
  return res.rows[0]!.count;
}

export async function eventCounts(db: Queryable, tenantId: string, memberId: string): Promise<Map<string, number>> {
  const res = await db.query<{ name: string; count: number }>(`SELECT name, count FROM achievement_event_counts WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return new Map(res.rows.map((r) => [r.name, r.count]));
}

// ── Leaderboard opt-in ────────────────────────────────────────────────────────

export async function optIn(db: Queryable, tenantId: string, memberId: string, at: Date): Promise<Date> {
  const res = await db.query<{ opted_in_at: Date }>(
    `INSERT INTO leaderboard_opt_ins (tenant_id, member_id, opted_in_at) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, member_id) DO UPDATE SET opted_in_at = leaderboard_opt_ins.opted_in_at
     RETURNING opted_in_at`,
    [tenantId, memberId, at],
  );
  return res.rows[0]!.opted_in_at;
}

export async function optOut(db: Queryable, tenantId: string, memberId: string): Promise<boolean> {
  const res = await db.query(`DELETE FROM leaderboard_opt_ins WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return (res.rowCount ?? 0) > 0;
}

export async function optedInAt(db: Queryable, tenantId: string, memberId: string): Promise<Date | null> {
  const res = await db.query<{ opted_in_at: Date }>(`SELECT opted_in_at FROM leaderboard_opt_ins WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return res.rows[0]?.opted_in_at ?? null;
}

export async function optedIn(db: Queryable, tenantId: string): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(`SELECT member_id FROM leaderboard_opt_ins WHERE tenant_id = $1 ORDER BY member_id`, [tenantId]);
  return res.rows.map((r) => r.member_id);
}
