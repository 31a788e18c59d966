/** SQL for the tables of tiers: tier_settings, tiers, member_tiers, tier_history, tier_scan_cursors, tier_reevaluations. */
import type { Queryable } from '../../platform/db/db.js';
import type { TierSettings, TierState } from './tiers.policy.js';

export interface Benefit {
  code: string;
  name: string;
  names?: Record<string, string>;
}

export interface TierRow {
  id: string;
  code: string;
  name: string;
  names: Record<string, string>;
  rank: number;
  benefits: Benefit[];
  multiplier: number;
  invitation_only: boolean;
  entry_threshold: number;
  keep_threshold: number;
  created_at: Date;
  updated_at: Date;
}

/** A member_tiers row: the state the tier rules judge (tiers.policy.ts) and its bookkeeping. */
export interface StateRow extends TierState {
  member_id: string;
  updated_at: Date;
}

export interface HistoryRow {
  id: string;
  member_id: string;
  from_tier_id: string | null;
  from_code: string | null;
  to_tier_id: string | null;
  to_code: string | null;
  reason: string;
  source: StateRow['source'];
  figure: number | null;
  details: Record<string, unknown> | null;
  at: Date;
}

export interface ReevaluationRow {
  id: string;
  status: 'draft' | 'applied';
  changes: { settings?: Record<string, unknown>; tiers?: Array<Record<string, unknown>> };
  config_version: number;
  summary: { members: number; up: number; down: number; stay: number; down_by_change: number; up_by_change: number };
  sample: Array<{ member_id: string; from: string | null; to: string | null; figure: number; direction: 'up' | 'down'; by_change: boolean }>;
  downgrades: 'now' | 'next_evaluation' | null;
  applied_summary: { up: number; down: number; kept_until_evaluation: number } | null;
  created_at: Date;
  applied_at: Date | null;
}

// ── Settings ──────────────────────────────────────────────────────────────

const SETTINGS_COLS = `metric, window_kind AS window, window_months, evaluation, downgrade_policy, grace_months, grace_days, config_version, updated_at`;

export async function getSettings(db: Queryable, tenantId: string, forUpdate = false): Promise<TierSettings | null> {
  const res = await db.query<TierSettings>(`SELECT ${SETTINGS_COLS} FROM tier_settings WHERE tenant_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId]);
  return res.rows[0] ?? null;
}

/**
 * The settings row locked for this transaction (created with `defaults` first when missing): every change of the
 * rules takes this lock first, so changes of one tenant's rules run one after the other.
 */
export async function lockSettings(db: Queryable, tenantId: string, defaults: TierSettings, now: Date): Promise<TierSettings> {
  await db.query(
    `INSERT INTO tier_settings (tenant_id, metric, window_kind, window_months, evaluation, downgrade_policy, grace_months, grace_days, config_version, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9) ON CONFLICT (tenant_id) DO NOTHING`,
    [tenantId, defaults.metric, defaults.window, defaults.window_months, defaults.evaluation, defaults.downgrade_policy, defaults.grace_months, defaults.grace_days, now],
  );
  return (await getSettings(db, tenantId, true))!;
}

/** Writes the settings (creating the row); `bump` adds one to config_version. Returns the row as stored. */
export async function saveSettings(db: Queryable, tenantId: string, s: TierSettings, bump: boolean, now: Date): Promise<TierSettings> {
  const res = await db.query<TierSettings>(
    `INSERT INTO tier_settings (tenant_id, metric, window_kind, window_months, evaluation, downgrade_policy, grace_months, grace_days, config_version, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9 + $10::int, $11)
     ON CONFLICT (tenant_id) DO UPDATE SET
       metric = EXCLUDED.metric, window_kind = EXCLUDED.window_kind, window_months = EXCLUDED.window_months, evaluation = EXCLUDED.evaluation,
       downgrade_policy = EXCLUDED.downgrade_policy, grace_months = EXCLUDED.grace_months, grace_days = EXCLUDED.grace_days,
       config_version = tier_settings.config_version + $10::int, updated_at = EXCLUDED.updated_at
     RETURNING ${SETTINGS_COLS}`,
    [tenantId, s.metric, s.window, s.window_months, s.evaluation, s.downgrade_policy, s.grace_months, s.grace_days, s.config_version, bump ? 1 : 0, now],
  );
  return res.rows[0]!;
}

// ── Tiers ─────────────────────────────────────────────────────────────────

const TIER_COLS = `id, code, name, names, rank, benefits, multiplier::float8 AS multiplier, invitation_only, entry_threshold::float8 AS entry_threshold,
  keep_threshold::float8 AS keep_threshold, created_at, updated_at`;

export async function listTiers(db: Queryable, tenantId: string): Promise<TierRow[]> {
  const res = await db.query<TierRow>(`SELECT ${TIER_COLS} FROM tiers WHERE tenant_id = $1 ORDER BY rank`, [tenantId]);
  return res.rows;
}

export async function getTier(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<TierRow | null> {
  const res = await db.query<TierRow>(`SELECT ${TIER_COLS} FROM tiers WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function insertTier(db: Queryable, tenantId: string, t: TierRow): Promise<TierRow | null> {
  const res = await db.query<TierRow>(
    `INSERT INTO tiers (tenant_id, id, code, name, names, rank, benefits, multiplier, invitation_only, entry_threshold, keep_threshold, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
     ON CONFLICT (tenant_id, code) DO NOTHING
     RETURNING ${TIER_COLS}`,
    [tenantId, t.id, t.code, t.name, JSON.stringify(t.names), t.rank, JSON.stringify(t.benefits), t.multiplier, t.invitation_only, t.entry_threshold, t.keep_threshold, t.created_at],
  );
  return res.rows[0] ?? null;
}

/** Writes a tier's fields (a rank shared for a moment while two tiers swap is checked at commit). */
export async function updateTier(db: Queryable, tenantId: string, t: TierRow): Promise<TierRow> {
  const res = await db.query<TierRow>(
    `UPDATE tiers SET name = $3, names = $4, rank = $5, benefits = $6, multiplier = $7, invitation_only = $8, entry_threshold = $9, keep_threshold = $10, updated_at = $11
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${TIER_COLS}`,
    [tenantId, t.id, t.name, JSON.stringify(t.names), t.rank, JSON.stringify(t.benefits), t.multiplier, t.invitation_only, t.entry_threshold, t.keep_threshold, t.updated_at],
  );
  return res.rows[0]!;
}

export async function deleteTier(db: Queryable, tenantId: string, id: string): Promise<void> {
  await db.query(`DELETE FROM tiers WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}

/** Members holding each tier now. */
export async function membersPerTier(db: Queryable, tenantId: string): Promise<Map<string, number>> {
  const res = await db.query<{ tier_id: string; n: number }>(
    `SELECT tier_id, count(*)::int AS n FROM member_tiers WHERE tenant_id = $1 AND tier_id IS NOT NULL GROUP BY tier_id`,
    [tenantId],
  );
  return new Map(res.rows.map((r) => [r.tier_id, r.n]));
}

export async function tierInUse(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await db.query(
    `SELECT EXISTS (SELECT 1 FROM member_tiers WHERE tenant_id = $1 AND (tier_id = $2 OR downgrade_to_id = $2)) AS used`,
    [tenantId, id],
  );
  return res.rows[0].used;
}

// ── Member state ──────────────────────────────────────────────────────────

const STATE_COLS = 'member_id, tier_id, source, since, valid_until, next_evaluation_at, downgrade_to_id, downgrade_to_none, downgrade_at, updated_at';

export async function getState(db: Queryable, tenantId: string, memberId: string): Promise<StateRow | null> {
  const res = await db.query<StateRow>(`SELECT ${STATE_COLS} FROM member_tiers WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return res.rows[0] ?? null;
}

/**
 * The member's state, locked for this transaction; created first (at `initial`) when the member has none, so that
 * there is always a row to lock: two changes of one member's tier then run one after the other.
 */
export async function lockState(db: Queryable, tenantId: string, memberId: string, initial: Omit<StateRow, 'member_id'>): Promise<StateRow> {
  await db.query(
    `INSERT INTO member_tiers (tenant_id, member_id, tier_id, source, since, valid_until, next_evaluation_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
    [tenantId, memberId, initial.tier_id, initial.source, initial.since, initial.valid_until, initial.next_evaluation_at, initial.updated_at],
  );
  const res = await db.query<StateRow>(`SELECT ${STATE_COLS} FROM member_tiers WHERE tenant_id = $1 AND member_id = $2 FOR UPDATE`, [tenantId, memberId]);
  return res.rows[0]!;
}

/** Every member state of the tenant, locked, in member order (one lock order for bulk changes). */
export async function lockAllStates(db: Queryable, tenantId: string): Promise<StateRow[]> {
  const res = await db.query<StateRow>(`SELECT ${STATE_COLS} FROM member_tiers WHERE tenant_id = $1 ORDER BY member_id FOR UPDATE`, [tenantId]);
  return res.rows;
}

export async function allStates(db: Queryable, tenantId: string): Promise<StateRow[]> {
  const res = await db.query<StateRow>(`SELECT ${STATE_COLS} FROM member_tiers WHERE tenant_id = $1 ORDER BY member_id`, [tenantId]);
  return res.rows;
}

export async function saveState(db: Queryable, tenantId: string, s: StateRow): Promise<void> {
  await db.query(
    `UPDATE member_tiers SET tier_id = $3, source = $4, since = $5, valid_until = $6, next_evaluation_at = $7, downgrade_to_id = $8,
            downgrade_to_none = $9, downgrade_at = $10, updated_at = $11
      WHERE tenant_id = $1 AND member_id = $2`,
    [tenantId, s.member_id, s.tier_id, s.source, s.since, s.valid_until, s.next_evaluation_at, s.downgrade_to_id, s.downgrade_to_none, s.downgrade_at, s.updated_at],
  );
}

/** Members with an assignment end, a scheduled downgrade or an evaluation due, soonest first. */
export async function dueMembers(db: Queryable, tenantId: string, now: Date, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT member_id FROM member_tiers WHERE tenant_id = $1 AND due_at <= $2 ORDER BY due_at LIMIT $3`,
    [tenantId, now, limit],
  );
  return res.rows.map((r) => r.member_id);
}

/**
 * Members who hold a qualified tier with a keep threshold and whose next evaluation falls in (from, to]: those a
 * "tier at risk" message may be for. A page after `after`, in evaluation date then member id order.
 */
export async function evaluationsBetween(db: Queryable, tenantId: string, from: Date, to: Date, after: { at: Date; memberId: string } | null, limit: number): Promise<Array<{ member_id: string; next_evaluation_at: Date }>> {
  // Paged in (next_evaluation_at, member_id) order so each page reads on along member_tiers_next_evaluation.
  const res = await db.query<{ member_id: string; next_evaluation_at: Date }>(
    `SELECT s.member_id, s.next_evaluation_at FROM member_tiers s
       JOIN tiers t ON t.tenant_id = s.tenant_id AND t.id = s.tier_id
      WHERE s.tenant_id = $1 AND s.source = 'qualified' AND s.downgrade_at IS NULL AND t.keep_threshold > 0
        AND s.next_evaluation_at IS NOT NULL AND s.next_evaluation_at > $2 AND s.next_evaluation_at <= $3
        AND ($4::timestamptz IS NULL OR (s.next_evaluation_at, s.member_id) > ($4::timestamptz, $5::uuid))
      ORDER BY s.next_evaluation_at, s.member_id
      LIMIT $6`,
    [tenantId, from, to, after?.at ?? null, after?.memberId ?? null, limit],
  );
  return res.rows;
}

// ── History ───────────────────────────────────────────────────────────────

const HISTORY_COLS = 'id, member_id, from_tier_id, from_code, to_tier_id, to_code, reason, source, figure::float8 AS figure, details, at';

export async function insertHistory(db: Queryable, tenantId: string, h: HistoryRow): Promise<void> {
  await db.query(
    `INSERT INTO tier_history (tenant_id, id, member_id, from_tier_id, from_code, to_tier_id, to_code, reason, source, figure, details, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [tenantId, h.id, h.member_id, h.from_tier_id, h.from_code, h.to_tier_id, h.to_code, h.reason, h.source, h.figure, h.details === null ? null : JSON.stringify(h.details), h.at],
  );
}

/** Newest first; `before` is the cursor (the last row's at and id). */
export async function listHistory(db: Queryable, tenantId: string, memberId: string, before: { at: string; id: string } | undefined, limit: number): Promise<HistoryRow[]> {
  const res = await db.query<HistoryRow>(
    `SELECT ${HISTORY_COLS} FROM tier_history
      WHERE tenant_id = $1 AND member_id = $2 AND ($3::timestamptz IS NULL OR (at, id) < ($3::timestamptz, $4::uuid))
      ORDER BY at DESC, id DESC LIMIT $5`,
    [tenantId, memberId, before?.at ?? null, before?.id ?? null, limit],
  );
  return res.rows;
}

/** The last change at or before `at`: the member's tier at that time. */
export async function historyAt(db: Queryable, tenantId: string, memberId: string, at: Date): Promise<HistoryRow | null> {
  const res = await db.query<HistoryRow>(
    `SELECT ${HISTORY_COLS} FROM tier_history WHERE tenant_id = $1 AND member_id = $2 AND at <= $3 ORDER BY at DESC, id DESC LIMIT 1`,
    [tenantId, memberId, at],
  );
  return res.rows[0] ?? null;
}

// ── Scan cursors ──────────────────────────────────────────────────────────

export async function getCursor(db: Queryable, tenantId: string, kind: 'ledger' | 'transactions'): Promise<string | null> {
  const res = await db.query<{ last_id: string }>(`SELECT last_id FROM tier_scan_cursors WHERE tenant_id = $1 AND kind = $2`, [tenantId, kind]);
  return res.rows[0]?.last_id ?? null;
}

/** Moves the cursor forward (never back: two runs at once both end at the furthest). */
export async function saveCursor(db: Queryable, tenantId: string, kind: 'ledger' | 'transactions', lastId: string, now: Date): Promise<void> {
  await db.query(
    `INSERT INTO tier_scan_cursors (tenant_id, kind, last_id, updated_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, kind) DO UPDATE SET last_id = GREATEST(tier_scan_cursors.last_id, EXCLUDED.last_id), updated_at = EXCLUDED.updated_at`,
    [tenantId, kind, lastId, now],
  );
}

// ── Re-evaluation reports ─────────────────────────────────────────────────

const REEVAL_COLS = 'id, status, changes, config_version, summary, sample, downgrades, applied_summary, created_at, applied_at';

export async function insertReevaluation(db: Queryable, tenantId: string, r: ReevaluationRow): Promise<ReevaluationRow> {
  const res = await db.query<ReevaluationRow>(
    `INSERT INTO tier_reevaluations (tenant_id, id, status, changes, config_version, summary, sample, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${REEVAL_COLS}`,
    [tenantId, r.id, r.status, JSON.stringify(r.changes), r.config_version, JSON.stringify(r.summary), JSON.stringify(r.sample), r.created_at],
  );
  return res.rows[0]!;
}

export async function getReevaluation(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<ReevaluationRow | null> {
  const res = await db.query<ReevaluationRow>(`SELECT ${REEVAL_COLS} FROM tier_reevaluations WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function markApplied(db: Queryable, tenantId: string, id: string, downgrades: 'now' | 'next_evaluation', summary: ReevaluationRow['applied_summary'], now: Date): Promise<ReevaluationRow> {
  const res = await db.query<ReevaluationRow>(
    `UPDATE tier_reevaluations SET status = 'applied', downgrades = $3, applied_summary = $4, applied_at = $5
      WHERE tenant_id = $1 AND id = $2 RETURNING ${REEVAL_COLS}`,
    [tenantId, id, downgrades, JSON.stringify(summary), now],
  );
  return res.rows[0]!;
}

export async function listReevaluations(db: Queryable, tenantId: string, beforeId: string | undefined, limit: number): Promise<ReevaluationRow[]> {
  const res = await db.query<ReevaluationRow>(
    `SELECT ${REEVAL_COLS} FROM tier_reevaluations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [tenantId, beforeId ?? null, limit],
  );
  return res.rows;
}
