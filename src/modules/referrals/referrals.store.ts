/** SQL for referral_settings, referral_codes, referrals, referral_signals and referral_milestones. */
import type { Queryable } from '../../platform/db/db.js';
import type { Gift, GiftResult } from '../rewards/rewards.gift.js';
import type { ReferralStatus } from './referrals.schema.js';
import type { SignalKind } from './referrals.guards.js';

export interface ReviewSettings {
  shared_device: boolean;
  shared_ip: boolean;
  shared_payment_fingerprint: boolean;
  disposable_email: boolean;
  burst_per_hour: number | null;
}

export interface ReferralSettings {
  enabled: boolean;
  referrer_gift: Gift | null;
  referee_gift: Gift | null;
  min_purchase_amount: number;
  purchase_within_days: number;
  return_window_days: number;
  limit: { count: number; period: 'month' | 'year' } | null;
  milestones: Array<{ count: number; gift: Gift }>;
  share_link_template: string | null;
  review: ReviewSettings;
  extra_disposable_domains: string[];
  updated_at: Date | null;
}

export const DEFAULT_SETTINGS: Omit<ReferralSettings, 'updated_at'> = {
  enabled: false,
  referrer_gift: null,
  referee_gift: null,
  min_purchase_amount: 0,
  purchase_within_days: 30,
  return_window_days: 14,
  limit: null,
  milestones: [],
  share_link_template: null,
  review: { shared_device: true, shared_ip: true, shared_payment_fingerprint: true, disposable_email: true, burst_per_hour: 10 },
  extra_disposable_domains: [],
};

const SETTINGS_COLS = `enabled, referrer_gift, referee_gift, min_purchase_amount, purchase_within_days,
  return_window_days, limit_count, limit_period, milestones, share_link_template, review, extra_disposable_domains, updated_at`;

interface SettingsRow extends Omit<ReferralSettings, 'limit'> {
  limit_count: number | null;
  limit_period: 'month' | 'year' | null;
}

const toSettings = ({ limit_count, limit_period, ...r }: SettingsRow): ReferralSettings => ({
  ...r, limit: limit_count !== null && limit_period !== null ? { count: limit_count, period: limit_period } : null,
});

export async function getSettings(db: Queryable, tenantId: string): Promise<ReferralSettings | null> {
  const res = await db.query<SettingsRow>(`SELECT ${SETTINGS_COLS} FROM referral_settings WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0] ? toSettings(res.rows[0]) : null;
}

/** The settings locked for this transaction; a tenant without a row gets one holding the defaults first. */
export async function lockSettings(tx: Queryable, tenantId: string): Promise<ReferralSettings> {
  const d = DEFAULT_SETTINGS;
  await tx.query(
    `INSERT INTO referral_settings (tenant_id, enabled, referrer_gift, referee_gift, min_purchase_amount, purchase_within_days,
                                    return_window_days, limit_count, limit_period, milestones, share_link_template, review,
                                    extra_disposable_domains, updated_at)
     VALUES ($1, $2, NULL, NULL, $3, $4, $5, NULL, NULL, '[]', NULL, $6, '{}', NULL)
     ON CONFLICT (tenant_id) DO NOTHING`,
    [tenantId, d.enabled, d.min_purchase_amount, d.purchase_within_days, d.return_window_days, JSON.stringify(d.review)],
  );
  const res = await tx.query<SettingsRow>(`SELECT ${SETTINGS_COLS} FROM referral_settings WHERE tenant_id = $1 FOR UPDATE`, [tenantId]);
  return toSettings(res.rows[0]!);
}

export async function saveSettings(tx: Queryable, tenantId: string, s: ReferralSettings, at: Date): Promise<ReferralSettings> {
  const res = await tx.query<SettingsRow>(
    `UPDATE referral_settings
        SET enabled = $2, referrer_gift = $3, referee_gift = $4, min_purchase_amount = $5, purchase_within_days = $6,
            return_window_days = $7, limit_count = $8, limit_period = $9, milestones = $10, share_link_template = $11,
            review = $12, extra_disposable_domains = $13, updated_at = $14
      WHERE tenant_id = $1
      RETURNING ${SETTINGS_COLS}`,
    [tenantId, s.enabled, s.referrer_gift ? JSON.stringify(s.referrer_gift) : null, s.referee_gift ? JSON.stringify(s.referee_gift) : null,
      s.min_purchase_amount, s.purchase_within_days, s.return_window_days, s.limit?.count ?? null, s.limit?.period ?? null,
      JSON.stringify(s.milestones), s.share_link_template, JSON.stringify(s.review), s.extra_disposable_domains, at],
  );
  return toSettings(res.rows[0]!);
}

// ── Codes ────────────────────────────────────────────────────────────────

export interface CodeRow {
  member_id: string;
  code: string;
  created_at: Date;
}

export async function codeOfMember(db: Queryable, tenantId: string, memberId: string): Promise<CodeRow | null> {
  const res = await db.query<CodeRow>(`SELECT member_id, code, created_at FROM referral_codes WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return res.rows[0] ?? null;
}

/** Inserts the member's code; null when the member already has one or the code is taken (the caller looks again). */
export async function insertCode(db: Queryable, tenantId: string, memberId: string, code: string, at: Date): Promise<CodeRow | null> {
  const res = await db.query<CodeRow>(
    `INSERT INTO referral_codes (tenant_id, member_id, code, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING member_id, code, created_at`,
    [tenantId, memberId, code, at],
  );
  return res.rows[0] ?? null;
}

/**
 * The code's row, locked: attributions to one referrer run one after the other, so the limit per period and the
 * burst count are read and written by one sign-up at a time.
 */
export async function lockCode(tx: Queryable, tenantId: string, code: string): Promise<CodeRow | null> {
  const res = await tx.query<CodeRow>(`SELECT member_id, code, created_at FROM referral_codes WHERE tenant_id = $1 AND code = $2 FOR UPDATE`, [tenantId, code]);
  return res.rows[0] ?? null;
}

// ── Referrals ────────────────────────────────────────────────────────────

export interface Flag {
  kind: 'shared_device' | 'shared_ip' | 'shared_payment_fingerprint' | 'disposable_email' | 'burst';
  detail: string;
}

export interface Terms {
  referrer_gift: Gift | null;
  referee_gift: Gift | null;
  min_purchase_amount: number;
  currency: string;
  purchase_within_days: number;
  return_window_days: number;
}

export interface ReferralRow {
  id: string;
  code: string;
  referrer_id: string;
  referee_id: string;
  status: ReferralStatus;
  reason: string | null;
  review_flags: Flag[];
  terms: Terms;
  body_digest: string;
  attributed_at: Date;
  qualify_by: Date;
  purchase_id: string | null;
  purchase_total: number | null;
  purchased_at: Date | null;
  convert_after: Date | null;
  converted_at: Date | null;
  referrer_reward: GiftResult | null;
  referee_reward: GiftResult | null;
  reviewed_at: Date | null;
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLS = `id, code, referrer_id, referee_id, status, reason, review_flags, terms, body_digest, attributed_at, qualify_by,
  purchase_id, purchase_total, purchased_at, convert_after, converted_at, referrer_reward, referee_reward,
  reviewed_at, closed_at, created_at, updated_at`;

/** Inserts the referral unless the referee already has one; null when they do. */
export async function insertReferral(db: Queryable, tenantId: string, r: Pick<ReferralRow, 'id' | 'code' | 'referrer_id' | 'referee_id' | 'status' | 'reason' | 'review_flags' | 'terms' | 'body_digest' | 'attributed_at' | 'qualify_by' | 'closed_at'>): Promise<ReferralRow | null> {
  const res = await db.query<ReferralRow>(
    `INSERT INTO referrals (tenant_id, id, code, referrer_id, referee_id, status, reason, review_flags, terms, body_digest,
                            attributed_at, qualify_by, closed_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $11, $11)
     ON CONFLICT (tenant_id, referee_id) DO NOTHING
     RETURNING ${COLS}`,
    [tenantId, r.id, r.code, r.referrer_id, r.referee_id, r.status, r.reason, JSON.stringify(r.review_flags), JSON.stringify(r.terms),
      r.body_digest, r.attributed_at, r.qualify_by, r.closed_at],
  );
  return res.rows[0] ?? null;
}

export async function getReferral(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<ReferralRow | null> {
  const res = await db.query<ReferralRow>(`SELECT ${COLS} FROM referrals WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function getByReferee(db: Queryable, tenantId: string, refereeId: string, forUpdate = false): Promise<ReferralRow | null> {
  const res = await db.query<ReferralRow>(`SELECT ${COLS} FROM referrals WHERE tenant_id = $1 AND referee_id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, refereeId]);
  return res.rows[0] ?? null;
}

/** The fields a change of state sets; the others stay. */
export type ReferralChange = Partial<Pick<ReferralRow, 'status' | 'reason' | 'purchase_id' | 'purchase_total' | 'purchased_at' | 'convert_after' | 'converted_at' | 'referrer_reward' | 'referee_reward' | 'reviewed_at' | 'closed_at'>>;

const JSON_FIELDS = new Set(['referrer_reward', 'referee_reward']);

export async function updateReferral(db: Queryable, tenantId: string, id: string, change: ReferralChange, at: Date): Promise<ReferralRow> {
  const keys = Object.keys(change) as Array<keyof ReferralChange>;
  const sets = keys.map((k, i) => `${k} = $${i + 3}`);
  const values = keys.map((k) => (JSON_FIELDS.has(k) && change[k] !== null ? JSON.stringify(change[k]) : change[k]));
  const res = await db.query<ReferralRow>(
    `UPDATE referrals SET ${[...sets, `updated_at = $${keys.length + 3}`].join(', ')} WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, ...values, at],
  );
  return res.rows[0]!;
}

/** Referrals of a referrer attributed since `since` (rejected ones only when `withRejected`). */
export async function countAttributedSince(db: Queryable, tenantId: string, referrerId: string, since: Date, withRejected: boolean): Promise<number> {
  const res = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM referrals
      WHERE tenant_id = $1 AND referrer_id = $2 AND attributed_at >= $3 AND ($4 OR status <> 'rejected')`,
    [tenantId, referrerId, since, withRejected],
  );
  return res.rows[0]!.n;
}

export async function countConverted(db: Queryable, tenantId: string, referrerId: string): Promise<number> {
  const res = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM referrals WHERE tenant_id = $1 AND referrer_id = $2 AND status = 'converted'`, [tenantId, referrerId]);
  return res.rows[0]!.n;
}

export async function statusCounts(db: Queryable, tenantId: string, referrerId: string): Promise<Record<string, number>> {
  const res = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM referrals WHERE tenant_id = $1 AND referrer_id = $2 GROUP BY status`,
    [tenantId, referrerId],
  );
  return Object.fromEntries(res.rows.map((r) => [r.status, r.n]));
}

/** Newest first (by id, UUID v7); `beforeId` is the cursor. */
export async function listReferrals(db: Queryable, tenantId: string, f: { status?: string; referrerId?: string; refereeId?: string; beforeId?: string; limit: number }): Promise<ReferralRow[]> {
  const res = await db.query<ReferralRow>(
    `SELECT ${COLS} FROM referrals
      WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::uuid IS NULL OR referrer_id = $3)
        AND ($4::uuid IS NULL OR referee_id = $4) AND ($5::uuid IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    [tenantId, f.status ?? null, f.referrerId ?? null, f.refereeId ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/** Qualifying referrals whose return window is over, in id order after `afterId`. */
export async function dueIds(db: Queryable, tenantId: string, now: Date, afterId: string | null, limit: number): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `SELECT id FROM referrals
      WHERE tenant_id = $1 AND status = 'qualifying' AND convert_after <= $2 AND ($3::uuid IS NULL OR id > $3)
      ORDER BY id LIMIT $4`,
    [tenantId, now, afterId, limit],
  );
  return res.rows.map((r) => r.id);
}

/**
 * Referrals still waiting for a purchase past their deadline become expired. A purchase hook that qualifies one at
 * the same time holds its row: the UPDATE waits and re-checks the status, so it never expires a qualified one.
 */
export async function expirePending(db: Queryable, tenantId: string, now: Date, limit: number): Promise<ReferralRow[]> {
  const res = await db.query<ReferralRow>(
    `UPDATE referrals SET status = 'expired', reason = 'no_qualifying_purchase', closed_at = $2, updated_at = $2
      WHERE tenant_id = $1 AND id IN (
        SELECT id FROM referrals WHERE tenant_id = $1 AND status = 'pending_purchase' AND qualify_by < $2
         ORDER BY qualify_by LIMIT $3 FOR UPDATE SKIP LOCKED)
        AND status = 'pending_purchase'
      RETURNING ${COLS}`,
    [tenantId, now, limit],
  );
  return res.rows;
}

// ── Signals ──────────────────────────────────────────────────────────────

/** Records the member's signals; the number not seen for the member before. */
export async function recordSignals(db: Queryable, tenantId: string, memberId: string, signals: Array<{ kind: SignalKind; hash: string }>, at: Date): Promise<number> {
  if (signals.length === 0) return 0;
  const res = await db.query(
    `INSERT INTO referral_signals (tenant_id, member_id, kind, hash, seen_at)
     SELECT $1, $2, s.kind, s.hash, $5 FROM unnest($3::text[], $4::text[]) AS s(kind, hash)
     ON CONFLICT DO NOTHING`,
    [tenantId, memberId, signals.map((s) => s.kind), signals.map((s) => s.hash), at],
  );
  return res.rowCount ?? 0;
}

/** Who else was seen with this signal: the referrer, and how many other referees of the referrer. */
export async function signalMatches(db: Queryable, tenantId: string, kind: SignalKind, hash: string, referrerId: string, refereeId: string): Promise<{ referrer: boolean; referees: number }> {
  const res = await db.query<{ referrer: boolean; referees: number }>(
    `SELECT EXISTS (SELECT 1 FROM referral_signals WHERE tenant_id = $1 AND kind = $2 AND hash = $3 AND member_id = $4) AS referrer,
            (SELECT count(DISTINCT s.member_id)::int FROM referral_signals s
               JOIN referrals r ON r.tenant_id = s.tenant_id AND r.referee_id = s.member_id
              WHERE s.tenant_id = $1 AND s.kind = $2 AND s.hash = $3 AND r.referrer_id = $4 AND s.member_id <> $5) AS referees`,
    [tenantId, kind, hash, referrerId, refereeId],
  );
  return res.rows[0]!;
}

/** GDPR erasure: what was seen of the member goes. */
export async function deleteSignals(db: Queryable, tenantId: string, memberId: string): Promise<void> {
  await db.query(`DELETE FROM referral_signals WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
}

// ── Milestones ───────────────────────────────────────────────────────────

export interface MilestoneRow {
  count: number;
  referral_id: string;
  reward: GiftResult;
  reached_at: Date;
}

export async function milestonesOf(db: Queryable, tenantId: string, memberId: string): Promise<MilestoneRow[]> {
  const res = await db.query<MilestoneRow>(
    `SELECT count, referral_id, reward, reached_at FROM referral_milestones WHERE tenant_id = $1 AND member_id = $2 ORDER BY count`,
    [tenantId, memberId],
  );
  return res.rows;
}

/** Records a milestone unless it was reached before; false when it was. */
export async function insertMilestone(db: Queryable, tenantId: string, memberId: string, m: MilestoneRow): Promise<boolean> {
  const res = await db.query(
    `INSERT INTO referral_milestones (tenant_id, member_id, count, referral_id, reward, reached_at) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT DO NOTHING`,
    [tenantId, memberId, m.count, m.referral_id, JSON.stringify(m.reward), m.reached_at],
  );
  return (res.rowCount ?? 0) > 0;
}
