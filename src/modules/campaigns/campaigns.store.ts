/** SQL for the campaigns, campaign_budgets, campaign_members and campaign_awards tables. */
import type { Queryable } from '../../platform/db/db.js';
import type { CampaignKind, CampaignStatus } from './campaigns.schema.js';

export interface GroupBaseline {
  members: number;
  purchases_per_member: number;
  spend_per_member: number;
  points_per_member: number;
}

export interface Baseline {
  from: string;
  to: string;
  treatment: GroupBaseline;
  control: GroupBaseline;
}

export interface CampaignRow {
  id: string;
  name: string;
  description: string | null;
  kind: CampaignKind;
  config: Record<string, any>;
  starts_at: Date;
  ends_at: Date;
  status: CampaignStatus;
  min_basket: number | null;
  channels: string[] | null;
  days_of_week: number[] | null;
  audience: Record<string, unknown> | null;
  tier_codes: string[] | null;
  /** RFM segment keys (analytics RFM_SEGMENTS): the member's current segment must be one of them. */
  rfm_segments: string[] | null;
  /** true: only members on the at-risk list; false: only members not on it. */
  at_risk: boolean | null;
  budget_points: number | null;
  budget_money: number | null;
  budget_currency: string | null;
  max_awards_per_member: number | null;
  max_points_per_member: number | null;
  control_share: number;
  baseline_days: number;
  baseline: Baseline | null;
  base_assigned_at: Date | null;
  launched_at: Date | null;
  started_at: Date | null;
  ended_at: Date | null;
  cancelled_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}

/** The campaign's editable definition (what create and a draft's change write). */
export type CampaignDefinition = Pick<CampaignRow, 'name' | 'description' | 'kind' | 'config' | 'starts_at' | 'ends_at' | 'min_basket' | 'channels'
  | 'days_of_week' | 'audience' | 'tier_codes' | 'rfm_segments' | 'at_risk' | 'budget_points' | 'budget_money' | 'budget_currency' | 'max_awards_per_member'
  | 'max_points_per_member' | 'control_share' | 'baseline_days'>;

const COLS = `id, name, description, kind, config, starts_at, ends_at, status, min_basket, channels, days_of_week, audience, tier_codes,
  rfm_segments, at_risk, budget_points, budget_money, budget_currency, max_awards_per_member, max_points_per_member, control_share::float8 AS control_share,
  baseline_days, baseline, base_assigned_at, launched_at, started_at, ended_at, cancelled_at, created_by, created_at, updated_at`;

const DEF_COLS = ['name', 'description', 'kind', 'config', 'starts_at', 'ends_at', 'min_basket', 'channels', 'days_of_week', 'audience', 'tier_codes',
  'rfm_segments', 'at_risk', 'budget_points', 'budget_money', 'budget_currency', 'max_awards_per_member', 'max_points_per_member', 'control_share', 'baseline_days'] as const;

const defValues = (d: CampaignDefinition) => DEF_COLS.map((c) => (c === 'config' || c === 'audience') ? (d[c] === null ? null : JSON.stringify(d[c])) : d[c]);

export async function insertCampaign(db: Queryable, tenantId: string, id: string, d: CampaignDefinition, createdBy: string | null, now: Date): Promise<CampaignRow> {
  const res = await db.query<CampaignRow>(
    `INSERT INTO campaigns (tenant_id, id, status, created_by, created_at, updated_at, ${DEF_COLS.join(', ')})
     VALUES ($1, $2, 'draft', $3, $4, $4, ${DEF_COLS.map((_, i) => `$${i + 5}`).join(', ')})
     RETURNING ${COLS}`,
    [tenantId, id, createdBy, now, ...defValues(d)],
  );
  return res.rows[0]!;
}

export async function updateDefinition(db: Queryable, tenantId: string, id: string, d: CampaignDefinition, now: Date): Promise<CampaignRow> {
  const res = await db.query<CampaignRow>(
    `UPDATE campaigns SET ${DEF_COLS.map((c, i) => `${c} = $${i + 4}`).join(', ')}, updated_at = $3
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, now, ...defValues(d)],
  );
  return res.rows[0]!;
}

export async function getCampaign(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<CampaignRow | null> {
  const res = await db.query<CampaignRow>(`SELECT ${COLS} FROM campaigns WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Newest first (by id, UUID v7). */
export async function listCampaigns(db: Queryable, tenantId: string, f: { status?: string; kind?: string; beforeId?: string; limit: number }): Promise<CampaignRow[]> {
  const res = await db.query<CampaignRow>(
    `SELECT ${COLS} FROM campaigns
      WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3) AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC LIMIT $5`,
    [tenantId, f.status ?? null, f.kind ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

/**
 * Launched, not cancelled campaigns (what the order and event hooks choose from, cached per process). Ended
 * campaigns are included: an order that occurred during the campaign and arrives late still earns it.
 */
export async function launchedCampaigns(db: Queryable, tenantId: string): Promise<CampaignRow[]> {
  const res = await db.query<CampaignRow>(
    `SELECT ${COLS} FROM campaigns WHERE tenant_id = $1 AND status IN ('scheduled', 'running', 'budget_exhausted', 'ended') ORDER BY id`,
    [tenantId],
  );
  return res.rows;
}

export async function setStatus(db: Queryable, tenantId: string, id: string, status: CampaignStatus, now: Date, extra: { launched_at?: Date; started_at?: Date; ended_at?: Date; cancelled_at?: Date; budget_points?: number | null } = {}): Promise<CampaignRow> {
  const res = await db.query<CampaignRow>(
    `UPDATE campaigns SET status = $3, updated_at = $4,
            launched_at = coalesce($5, launched_at), started_at = coalesce($6, started_at), ended_at = coalesce($7, ended_at),
            cancelled_at = coalesce($8, cancelled_at), budget_points = CASE WHEN $9::boolean THEN $10 ELSE budget_points END
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, status, now, extra.launched_at ?? null, extra.started_at ?? null, extra.ended_at ?? null, extra.cancelled_at ?? null,
      extra.budget_points !== undefined, extra.budget_points ?? null],
  );
  return res.rows[0]!;
}

/**
 * Moves a campaign from one status to another only if it is still in `from` (the jobs and the awarding path may
 * race; whoever moves it emits the event). Null when it was not.
 */
export async function transition(db: Queryable, tenantId: string, id: string, from: readonly CampaignStatus[], to: CampaignStatus, now: Date, stamp?: 'started_at' | 'ended_at'): Promise<CampaignRow | null> {
  const res = await db.query<CampaignRow>(
    `UPDATE campaigns SET status = $4, updated_at = $5${stamp ? `, ${stamp} = $5` : ''}
      WHERE tenant_id = $1 AND id = $2 AND status = ANY($3::text[]) RETURNING ${COLS}`,
    [tenantId, id, from, to, now],
  );
  return res.rows[0] ?? null;
}

/** Campaigns to start (scheduled, starts_at passed) or end (ends_at passed). */
export async function dueCampaigns(db: Queryable, tenantId: string, now: Date): Promise<CampaignRow[]> {
  const res = await db.query<CampaignRow>(
    `SELECT ${COLS} FROM campaigns
      WHERE tenant_id = $1 AND ((status IN ('scheduled', 'running', 'budget_exhausted') AND ends_at <= $2) OR (status = 'scheduled' AND starts_at <= $2))
      ORDER BY id LIMIT 1000`,
    [tenantId, now],
  );
  return res.rows;
}

/** Launched campaigns whose eligible base is still to be assigned. */
export async function campaignsToAssign(db: Queryable, tenantId: string): Promise<CampaignRow[]> {
  const res = await db.query<CampaignRow>(
    `SELECT ${COLS} FROM campaigns WHERE tenant_id = $1 AND launched_at IS NOT NULL AND base_assigned_at IS NULL AND status <> 'cancelled' ORDER BY launched_at, id`,
    [tenantId],
  );
  return res.rows;
}

export async function setBaseline(db: Queryable, tenantId: string, id: string, baseline: Baseline, now: Date): Promise<boolean> {
  const res = await db.query(
    `UPDATE campaigns SET baseline = $3, base_assigned_at = $4, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND base_assigned_at IS NULL`,
    [tenantId, id, JSON.stringify(baseline), now],
  );
  return (res.rowCount ?? 0) > 0;
}

// ── Budget ──────────────────────────────────────────────────────────────────

export interface BudgetRow {
  budget: number;
  spent: number;
  exhausted_at: Date | null;
}

export async function insertBudget(db: Queryable, tenantId: string, campaignId: string, budget: number, now: Date): Promise<void> {
  await db.query(`INSERT INTO campaign_budgets (tenant_id, campaign_id, budget, spent, updated_at) VALUES ($1, $2, $3, 0, $4)`, [tenantId, campaignId, budget, now]);
}

export async function getBudget(db: Queryable, tenantId: string, campaignId: string): Promise<BudgetRow | null> {
  const res = await db.query<BudgetRow>(`SELECT budget, spent, exhausted_at FROM campaign_budgets WHERE tenant_id = $1 AND campaign_id = $2`, [tenantId, campaignId]);
  return res.rows[0] ?? null;
}

/**
 * Takes up to `want` points from the budget in one statement: the row lock it takes serialises concurrent awards,
 * and each sees what the one before it left, so spent never passes budget; the award that reaches it gets what is
 * left. `taken` is read from the row as it was before the update (`old`, under the same lock).
 */
export async function takeBudget(db: Queryable, tenantId: string, campaignId: string, want: number, now: Date): Promise<{ taken: number; spent: number; budget: number; exhaustedNow: boolean }> {
  const res = await db.query<{ taken: string; spent: string; budget: string; exhausted_now: boolean }>(
    `UPDATE campaign_budgets b
        SET spent = b.spent + LEAST($3::bigint, b.budget - b.spent),
            exhausted_at = CASE WHEN b.spent + LEAST($3::bigint, b.budget - b.spent) = b.budget THEN coalesce(b.exhausted_at, $4) ELSE b.exhausted_at END,
            updated_at = $4
       FROM (SELECT spent AS old_spent, exhausted_at AS old_exhausted FROM campaign_budgets WHERE tenant_id = $1 AND campaign_id = $2 FOR UPDATE) o
      WHERE b.tenant_id = $1 AND b.campaign_id = $2
      RETURNING b.spent - o.old_spent AS taken, b.spent, b.budget, (o.old_exhausted IS NULL AND b.exhausted_at IS NOT NULL) AS exhausted_now`,
    [tenantId, campaignId, want, now],
  );
  const r = res.rows[0]!;
  return { taken: Number(r.taken), spent: Number(r.spent), budget: Number(r.budget), exhaustedNow: r.exhausted_now };
}

/** Gives points back to the budget (a return or void); the budget is no longer exhausted. */
export async function giveBackBudget(db: Queryable, tenantId: string, campaignId: string, points: number, now: Date): Promise<{ spent: number; budget: number; wasExhausted: boolean } | null> {
  const res = await db.query<{ spent: string; budget: string; was_exhausted: boolean }>(
    `UPDATE campaign_budgets b SET spent = b.spent - $3, exhausted_at = NULL, updated_at = $4
       FROM (SELECT exhausted_at AS old_exhausted FROM campaign_budgets WHERE tenant_id = $1 AND campaign_id = $2 FOR UPDATE) o
      WHERE b.tenant_id = $1 AND b.campaign_id = $2
      RETURNING b.spent, b.budget, o.old_exhausted IS NOT NULL AS was_exhausted`,
    [tenantId, campaignId, points, now],
  );
  const r = res.rows[0];
  return r ? { spent: Number(r.spent), budget: Number(r.budget), wasExhausted: r.was_exhausted } : null;
}

// ── Members ─────────────────────────────────────────────────────────────────

export interface CampaignMemberRow {
  member_id: string;
  grp: 'treatment' | 'control';
  assigned_at: Date;
  first_seen_at: Date | null;
  awards: number;
  points: number;
}

/**
 * Records the member in the campaign (first time: with their group) and that an order or event of theirs was seen;
 * returns the row locked for this transaction (the member's book is locked too, so this is never contended).
 */
export async function seeMember(db: Queryable, tenantId: string, campaignId: string, memberId: string, grp: 'treatment' | 'control', now: Date): Promise<CampaignMemberRow> {
  const res = await db.query<CampaignMemberRow>(
    `INSERT INTO campaign_members (tenant_id, campaign_id, member_id, grp, assigned_at, first_seen_at)
     VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (tenant_id, campaign_id, member_id) DO UPDATE SET first_seen_at = coalesce(campaign_members.first_seen_at, EXCLUDED.first_seen_at)
     RETURNING member_id, grp, assigned_at, first_seen_at, awards, points`,
    [tenantId, campaignId, memberId, grp, now],
  );
  return res.rows[0]!;
}

export async function changeMemberTally(db: Queryable, tenantId: string, campaignId: string, memberId: string, awards: number, points: number): Promise<void> {
  await db.query(
    `UPDATE campaign_members SET awards = awards + $4, points = points + $5 WHERE tenant_id = $1 AND campaign_id = $2 AND member_id = $3`,
    [tenantId, campaignId, memberId, awards, points],
  );
}

/** Assigns members at launch (those already recorded keep their row). */
export async function assignMembers(db: Queryable, tenantId: string, campaignId: string, rows: Array<{ member_id: string; grp: string }>, now: Date): Promise<number> {
  if (rows.length === 0) return 0;
  const res = await db.query(
    `INSERT INTO campaign_members (tenant_id, campaign_id, member_id, grp, assigned_at)
     SELECT $1, $2, x.member_id, x.grp, $4 FROM json_to_recordset($3::json) AS x(member_id uuid, grp text)
     ON CONFLICT (tenant_id, campaign_id, member_id) DO NOTHING`,
    [tenantId, campaignId, JSON.stringify(rows), now],
  );
  return res.rowCount ?? 0;
}

/** The members of one group, a page at a time (by member id). */
export async function groupMembers(db: Queryable, tenantId: string, campaignId: string, grp: string, afterId: string | null, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT member_id FROM campaign_members WHERE tenant_id = $1 AND campaign_id = $2 AND grp = $3 AND ($4::uuid IS NULL OR member_id > $4)
      ORDER BY member_id LIMIT $5`,
    [tenantId, campaignId, grp, afterId, limit],
  );
  return res.rows.map((r) => r.member_id);
}

export async function groupCounts(db: Queryable, tenantId: string, campaignId: string): Promise<{ treatment: number; control: number }> {
  const res = await db.query<{ grp: string; n: number }>(
    `SELECT grp, count(*)::int AS n FROM campaign_members WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY grp`,
    [tenantId, campaignId],
  );
  const out = { treatment: 0, control: 0 };
  for (const r of res.rows) out[r.grp as 'treatment' | 'control'] = r.n;
  return out;
}

// ── Awards ──────────────────────────────────────────────────────────────────

export interface AwardRow {
  id: string;
  campaign_id: string;
  member_id: string;
  source_type: 'transaction' | 'event';
  source_id: string;
  outcome: 'granted' | 'held_out' | 'member_limit' | 'budget_exhausted';
  wanted: number;
  points: number;
  kept: number;
  cut_by: 'budget' | 'member_limit' | null;
  activates_at: Date | null;
  expires_at: Date | null;
  occurred_at: Date;
  created_at: Date;
  updated_at: Date;
}

const AWARD_COLS = 'id, campaign_id, member_id, source_type, source_id, outcome, wanted, points, kept, cut_by, activates_at, expires_at, occurred_at, created_at, updated_at';

export async function insertAward(db: Queryable, tenantId: string, a: Omit<AwardRow, 'updated_at'>): Promise<AwardRow> {
  const res = await db.query<AwardRow>(
    `INSERT INTO campaign_awards (tenant_id, ${AWARD_COLS})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
     RETURNING ${AWARD_COLS}`,
    [tenantId, a.id, a.campaign_id, a.member_id, a.source_type, a.source_id, a.outcome, a.wanted, a.points, a.kept, a.cut_by,
      a.activates_at, a.expires_at, a.occurred_at, a.created_at],
  );
  return res.rows[0]!;
}

/** The granted awards of a purchase (what a return or void may take back), locked. */
export async function grantedAwardsOf(db: Queryable, tenantId: string, sourceId: string): Promise<AwardRow[]> {
  const res = await db.query<AwardRow>(
    `SELECT ${AWARD_COLS} FROM campaign_awards WHERE tenant_id = $1 AND source_id = $2 AND source_type = 'transaction' AND points > 0
      ORDER BY campaign_id FOR UPDATE`,
    [tenantId, sourceId],
  );
  return res.rows;
}

export async function setKept(db: Queryable, tenantId: string, id: string, kept: number, now: Date): Promise<AwardRow> {
  const res = await db.query<AwardRow>(
    `UPDATE campaign_awards SET kept = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 RETURNING ${AWARD_COLS}`,
    [tenantId, id, kept, now],
  );
  return res.rows[0]!;
}

export async function listAwards(db: Queryable, tenantId: string, campaignId: string, f: { memberId?: string; outcome?: string; beforeId?: string; limit: number }): Promise<AwardRow[]> {
  const res = await db.query<AwardRow>(
    `SELECT ${AWARD_COLS} FROM campaign_awards
      WHERE tenant_id = $1 AND campaign_id = $2 AND ($3::uuid IS NULL OR member_id = $3) AND ($4::text IS NULL OR outcome = $4)
        AND ($5::uuid IS NULL OR id < $5)
      ORDER BY id DESC LIMIT $6`,
    [tenantId, campaignId, f.memberId ?? null, f.outcome ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}

export interface AwardStats {
  kept: number;
  awards: number;
  held_out: number;
  members_reached: number;
}

export async function awardStats(db: Queryable, tenantId: string, campaignId: string): Promise<AwardStats> {
  const res = await db.query(
    `SELECT coalesce(sum(kept), 0)::bigint AS kept,
            count(*) FILTER (WHERE points > 0)::int AS awards,
            count(*) FILTER (WHERE outcome = 'held_out')::int AS held_out,
            count(DISTINCT member_id) FILTER (WHERE points > 0)::int AS members_reached
       FROM campaign_awards WHERE tenant_id = $1 AND campaign_id = $2`,
    [tenantId, campaignId],
  );
  const r = res.rows[0];
  return { kept: Number(r.kept), awards: r.awards, held_out: r.held_out, members_reached: r.members_reached };
}

/** What the campaigns hold about a member (GDPR export): their groups and their awards. */
export async function memberRecord(db: Queryable, tenantId: string, memberId: string, limit: number): Promise<{ groups: unknown[]; awards: AwardRow[] }> {
  const groups = await db.query(
    `SELECT campaign_id, grp AS "group", assigned_at, first_seen_at, awards, points FROM campaign_members
      WHERE tenant_id = $1 AND member_id = $2 ORDER BY campaign_id LIMIT $3`,
    [tenantId, memberId, limit],
  );
  const awards = await db.query<AwardRow>(
    `SELECT ${AWARD_COLS} FROM campaign_awards WHERE tenant_id = $1 AND member_id = $2 ORDER BY id LIMIT $3`,
    [tenantId, memberId, limit],
  );
  return { groups: groups.rows, awards: awards.rows };
}
