/** SQL for earn_rules, earn_rule_versions and rule_usage. */
import { prepared, type Queryable } from '../../platform/db/db.js';
import type { AnyRule, EarnRule, EventRule, RuleKind } from './rules.types.js';

/** The member id of a rule's counters across all members (caps.total); not a member. */
export const ALL_MEMBERS = '00000000-0000-0000-0000-000000000000';
export const TOTAL_PERIOD = 'total';

export interface RuleRow {
  id: string;
  kind: RuleKind;
  event: string | null;
  name: string;
  current_version: number;
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A rule with its current version. */
export interface CurrentRuleRow extends RuleRow {
  definition: AnyRule;
  effective_from: Date | null;
}

export interface VersionRow {
  rule_id: string;
  version: number;
  definition: AnyRule;
  effective_from: Date | null;
  effective_until: Date | null;
  created_at: Date;
  created_by: string | null;
}

const RULE_COLS = 'r.id, r.kind, r.event, r.name, r.current_version, r.archived_at, r.created_at, r.updated_at';
const CURRENT = `SELECT ${RULE_COLS}, v.definition, v.effective_from
   FROM earn_rules r
   JOIN earn_rule_versions v ON v.tenant_id = r.tenant_id AND v.rule_id = r.id AND v.version = r.current_version`;

export async function insertRule(db: Queryable, tenantId: string, r: Omit<RuleRow, 'archived_at' | 'updated_at'>): Promise<void> {
  await db.query(
    `INSERT INTO earn_rules (tenant_id, id, kind, event, name, current_version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
    [tenantId, r.id, r.kind, r.event, r.name, r.current_version, r.created_at],
  );
}

export async function insertVersion(db: Queryable, tenantId: string, v: VersionRow): Promise<void> {
  await db.query(
    `INSERT INTO earn_rule_versions (tenant_id, rule_id, version, kind, event, definition, effective_from, effective_until, created_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [tenantId, v.rule_id, v.version, v.definition.kind, v.definition.kind === 'event' ? v.definition.event : null, JSON.stringify(v.definition),
      v.effective_from, v.effective_until, v.created_at, v.created_by],
  );
}

/** Ends a version at `at` (exclusive). */
export async function closeVersion(db: Queryable, tenantId: string, ruleId: string, version: number, at: Date): Promise<void> {
  await db.query(
    `UPDATE earn_rule_versions SET effective_until = $4 WHERE tenant_id = $1 AND rule_id = $2 AND version = $3`,
    [tenantId, ruleId, version, at],
  );
}

export async function updateRule(db: Queryable, tenantId: string, id: string, f: { current_version?: number; name?: string; event?: string | null; archived_at?: Date }, now: Date): Promise<void> {
  await db.query(
    `UPDATE earn_rules
        SET current_version = COALESCE($3, current_version), name = COALESCE($4, name),
            event = CASE WHEN $5::boolean THEN $6 ELSE event END, archived_at = COALESCE($7, archived_at), updated_at = $8
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, f.current_version ?? null, f.name ?? null, f.event !== undefined, f.event ?? null, f.archived_at ?? null, now],
  );
}

export async function getCurrent(db: Queryable, tenantId: string, id: string, forUpdate = false): Promise<CurrentRuleRow | null> {
  const res = await db.query<CurrentRuleRow>(`${CURRENT} WHERE r.tenant_id = $1 AND r.id = $2${forUpdate ? ' FOR UPDATE OF r' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export interface RuleFilter {
  kind?: RuleKind;
  event?: string;
  include_archived?: boolean;
  afterId?: string;
  limit: number;
}

export async function listCurrent(db: Queryable, tenantId: string, f: RuleFilter): Promise<CurrentRuleRow[]> {
  const res = await db.query<CurrentRuleRow>(
    `${CURRENT}
      WHERE r.tenant_id = $1
        AND ($2::text IS NULL OR r.kind = $2)
        AND ($3::text IS NULL OR r.event = $3)
        AND ($4::boolean OR r.archived_at IS NULL)
        AND ($5::uuid IS NULL OR r.id > $5)
      ORDER BY r.id
      LIMIT $6`,
    [tenantId, f.kind ?? null, f.event ?? null, f.include_archived ?? false, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

export async function listVersions(db: Queryable, tenantId: string, ruleId: string, page: { afterVersion?: number; limit: number }): Promise<VersionRow[]> {
  const res = await db.query<VersionRow>(
    `SELECT rule_id, version, definition, effective_from, effective_until, created_at, created_by
       FROM earn_rule_versions
      WHERE tenant_id = $1 AND rule_id = $2 AND ($3::int IS NULL OR version > $3)
      ORDER BY version
      LIMIT $4`,
    [tenantId, ruleId, page.afterVersion ?? null, page.limit],
  );
  return res.rows;
}

const IN_FORCE = '(effective_from IS NULL OR effective_from <= $2) AND (effective_until IS NULL OR effective_until > $2)';

/** The base, multiplier and bonus rule versions in force at `at`. */
const TRANSACTION_RULES_AT = prepared('rules.transaction_rules_at', `SELECT definition FROM earn_rule_versions
      WHERE tenant_id = $1 AND kind IN ('base', 'multiplier', 'bonus') AND ${IN_FORCE}
      ORDER BY rule_id`);

export interface VersionSpan<R> {
  definition: R;
  effective_from: Date | null;
  effective_until: Date | null;
}

const TRANSACTION_RULE_VERSIONS = prepared('rules.transaction_rule_versions', `SELECT definition, effective_from, effective_until FROM earn_rule_versions
      WHERE tenant_id = $1 AND kind IN ('base', 'multiplier', 'bonus')
      ORDER BY rule_id, version`);

/** Every version of the tenant's transaction rules with the time it is in force (for a per-process cache). */
export async function transactionRuleVersions(db: Queryable, tenantId: string): Promise<Array<VersionSpan<EarnRule>>> {
  return (await db.query<VersionSpan<EarnRule>>(TRANSACTION_RULE_VERSIONS, [tenantId])).rows;
}

/** Whether a version is in force at `at`: the same test as IN_FORCE above. */
export function inForce(v: { effective_from: Date | null; effective_until: Date | null }, at: Date): boolean {
  return (v.effective_from === null || v.effective_from <= at) && (v.effective_until === null || v.effective_until > at);
}

export async function transactionRulesAt(db: Queryable, tenantId: string, at: Date): Promise<EarnRule[]> {
  const res = await db.query<{ definition: EarnRule }>(TRANSACTION_RULES_AT, [tenantId, at]);
  return res.rows.map((r) => r.definition);
}

/** The event rule versions for one event name in force at `at`. */
export async function eventRulesAt(db: Queryable, tenantId: string, eventName: string, at: Date): Promise<EventRule[]> {
  const res = await db.query<{ definition: EventRule }>(
    `SELECT definition FROM earn_rule_versions
      WHERE tenant_id = $1 AND kind = 'event' AND event = $3 AND ${IN_FORCE}
      ORDER BY rule_id`,
    [tenantId, at, eventName],
  );
  return res.rows.map((r) => r.definition);
}

/** The given versions of transaction rules (event rules are left out). */
export async function transactionRulesByVersion(db: Queryable, tenantId: string, refs: { rule_id: string; version: number }[]): Promise<EarnRule[]> {
  if (refs.length === 0) return [];
  const res = await db.query<{ definition: EarnRule }>(
    `SELECT v.definition
       FROM earn_rule_versions v
       JOIN unnest($2::uuid[], $3::int[]) AS ref(rule_id, version) ON v.rule_id = ref.rule_id AND v.version = ref.version
      WHERE v.tenant_id = $1 AND v.kind IN ('base', 'multiplier', 'bonus')
      ORDER BY v.rule_id, v.version`,
    [tenantId, refs.map((r) => r.rule_id), refs.map((r) => r.version)],
  );
  return res.rows.map((r) => r.definition);
}

// ── Usage counters ──────────────────────────────────────────────────────────

export interface UsageRow {
  rule_id: string;
  member_id: string;
  period: string;
  points: number;
  count: number;
}

/** Creates the missing total rows (member ALL_MEMBERS, period 'total') of the given rules, at zero. */
export async function ensureTotals(tx: Queryable, tenantId: string, ruleIds: string[]): Promise<void> {
  if (ruleIds.length === 0) return;
  await tx.query(
    `INSERT INTO rule_usage (tenant_id, rule_id, member_id, period)
     SELECT $1, rule_id, $3::uuid, '${TOTAL_PERIOD}' FROM unnest($2::uuid[]) AS t(rule_id) ORDER BY rule_id
     ON CONFLICT DO NOTHING`,
    [tenantId, [...new Set(ruleIds)].sort(), ALL_MEMBERS],
  );
}

/**
 * A member's counters for (rule, period) pairs and the total rows of `totalRuleIds`, locked in (rule, member,
 * period) order so that transactions locking the shared total rows never deadlock one another.
 */
export async function lockUsage(tx: Queryable, tenantId: string, memberId: string, pairs: { rule_id: string; period: string }[], totalRuleIds: string[]): Promise<UsageRow[]> {
  if (pairs.length === 0 && totalRuleIds.length === 0) return [];
  const res = await tx.query<UsageRow>(
    `SELECT u.rule_id, u.member_id, u.period, u.points, u.count
       FROM rule_usage u
      WHERE u.tenant_id = $1
        AND ((u.member_id = $2 AND (u.rule_id, u.period) IN (SELECT * FROM unnest($3::uuid[], $4::text[])))
          OR (u.member_id = $5::uuid AND u.period = '${TOTAL_PERIOD}' AND u.rule_id = ANY($6::uuid[])))
      ORDER BY u.rule_id, u.member_id, u.period
      FOR UPDATE`,
    [tenantId, memberId, pairs.map((p) => p.rule_id), pairs.map((p) => p.period), ALL_MEMBERS, totalRuleIds],
  );
  return res.rows;
}

export interface UsageDelta {
  rule_id: string;
  member_id: string;
  period: string;
  points: number;
  count: number;
}

/** Adds to counters, creating missing rows. Deltas of one (rule, member, period) are summed first. */
export async function addUsage(tx: Queryable, tenantId: string, deltas: UsageDelta[]): Promise<void> {
  const sums = new Map<string, UsageDelta>();
  for (const d of deltas) {
    const k = `${d.rule_id}|${d.member_id}|${d.period}`;
    const s = sums.get(k);
    if (s) {
      s.points += d.points;
      s.count += d.count;
    } else sums.set(k, { ...d });
  }
  // Sorted, so that rows shared between members (totals) are always taken in the same order.
  const rows = [...sums.values()].sort((a, b) => a.rule_id.localeCompare(b.rule_id) || a.member_id.localeCompare(b.member_id) || a.period.localeCompare(b.period));
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO rule_usage AS u (tenant_id, rule_id, member_id, period, points, count)
     SELECT $1, d.rule_id, d.member_id, d.period, d.points, d.count
       FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS d(rule_id, member_id, period, points, count, n)
      ORDER BY d.n
     ON CONFLICT (tenant_id, rule_id, member_id, period)
     DO UPDATE SET points = u.points + EXCLUDED.points, count = u.count + EXCLUDED.count`,
    [tenantId, rows.map((r) => r.rule_id), rows.map((r) => r.member_id), rows.map((r) => r.period), rows.map((r) => r.points), rows.map((r) => r.count)],
  );
}

/** Adds to the total rows that exist (a rule without caps.total has none, and gets none). */
export async function addToExistingTotals(tx: Queryable, tenantId: string, deltas: { rule_id: string; points: number; count: number }[]): Promise<void> {
  if (deltas.length === 0) return;
  const sums = new Map<string, { points: number; count: number }>();
  for (const d of deltas) {
    const s = sums.get(d.rule_id) ?? { points: 0, count: 0 };
    s.points += d.points;
    s.count += d.count;
    sums.set(d.rule_id, s);
  }
  const ids = [...sums.keys()].sort();
  // Lock in rule order first (an UPDATE … FROM takes its rows in no promised order).
  if (ids.length > 1) await tx.query(`SELECT 1 FROM rule_usage WHERE tenant_id = $1 AND member_id = $2 AND period = '${TOTAL_PERIOD}' AND rule_id = ANY($3::uuid[]) ORDER BY rule_id FOR UPDATE`, [tenantId, ALL_MEMBERS, ids]);
  await tx.query(
    `UPDATE rule_usage u SET points = u.points + d.points, count = u.count + d.count
       FROM unnest($3::uuid[], $4::bigint[], $5::bigint[]) AS d(rule_id, points, count)
      WHERE u.tenant_id = $1 AND u.member_id = $2 AND u.period = '${TOTAL_PERIOD}' AND u.rule_id = d.rule_id`,
    [tenantId, ALL_MEMBERS, ids, ids.map((id) => sums.get(id)!.points), ids.map((id) => sums.get(id)!.count)],
  );
}
