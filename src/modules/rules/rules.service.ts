/**
 * Earn rules as versioned data. Every change writes a new version, in force from that moment; the version before it
 * stays in force for the time before, so an order that arrives late (or is imported) is judged by the rule version
 * in force at its occurred_at, and a return re-evaluates its order with the versions that earned it. The first
 * version of a rule is in force since always (effective_from NULL); archiving closes the current version.
 *
 * Also the counters behind caps (per member per day and month, a rule's total across members) and event-rule limits
 * (per member per day, week, month, year or ever), in rule_usage. The engines (rules.engine.ts, rules.events.ts)
 * stay pure: the caller reads the counters here, evaluates, and records what was awarded here, in one transaction
 * that already holds the member's lock.
 */
import type { Clock } from '../../platform/clock.js';
import { TenantConfig, type TenantCache } from '../../platform/db/tenant-cache.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { canonicalJson } from '../../platform/idempotency/idempotency.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import { periodKey } from './rules.events.js';
import * as store from './rules.store.js';
import type { AnyRule, CapUsage, EarnRule, EventAward, EventRule, RuleCaps, RuleKind, RuleUsage } from './rules.types.js';
import { toDefinition, toInput, validatePatch, validateRule, type RuleInput, type RulePatch } from './rules.validation.js';

export type { RuleInput, RulePatch } from './rules.validation.js';

/** A definition as the API shows it: every kind's `caps` present, null when none. */
type Shown<T> = T extends unknown ? Omit<T, 'caps' | 'version'> & { version: number; caps: RuleCaps | null } : never;

/** A rule as the API shows it: the current version's definition and the rule's state. */
export type RuleView = Shown<AnyRule> & {
  archived_at: Date | null;
  created_at: Date;
  updated_at: Date;
};

/** One version of a rule, with when it was in force. */
export type RuleVersionView = Shown<AnyRule> & {
  effective_from: Date | null;
  effective_until: Date | null;
  created_at: Date;
  created_by: string | null;
};

const view = (r: store.CurrentRuleRow): RuleView => ({
  ...r.definition, version: r.current_version, caps: r.definition.caps ?? null,
  archived_at: r.archived_at, created_at: r.created_at, updated_at: r.updated_at,
});

const versionView = (v: store.VersionRow): RuleVersionView => ({
  ...v.definition, version: v.version, caps: v.definition.caps ?? null,
  effective_from: v.effective_from, effective_until: v.effective_until, created_at: v.created_at, created_by: v.created_by,
});

const hasMemberCaps = (r: EarnRule) => r.caps != null && (r.caps.per_member_day != null || r.caps.per_member_month != null || r.caps.total != null);

export class RulesService {
  /** Every version of each tenant's transaction rules: read on every order, changed rarely. */
  private readonly versionCache: TenantCache<Array<store.VersionSpan<EarnRule>>>;

  constructor(private readonly clock: Clock, private readonly config: TenantConfig = new TenantConfig(null)) {
    this.versionCache = config.cache();
  }

  /** The checks of a create body, for the HTTP layer to report beside the schema's. */
  checkCreate(input: unknown): FieldError[] {
    return validateRule(input);
  }

  /** The checks of a change body that need no database (the rest run on the merged rule in `update`). */
  checkPatch(input: unknown): FieldError[] {
    return validatePatch(input);
  }

  // ── CRUD ────────────────────────────────────────────────────────────────

  async create(tx: Queryable, tenantId: string, input: RuleInput, actor: string | null): Promise<RuleView> {
    const errs = validateRule(input);
    if (errs.length) throw errors.validation(errs);
    const now = this.clock.now();
    const id = newId();
    const definition = toDefinition(id, 1, input);
    const event = definition.kind === 'event' ? definition.event : null;
    await store.insertRule(tx, tenantId, { id, kind: definition.kind, event, name: definition.name, current_version: 1, created_at: now });
    await store.insertVersion(tx, tenantId, { rule_id: id, version: 1, definition, effective_from: null, effective_until: null, created_at: now, created_by: actor });
    await this.config.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'earn_rule.created', aggregateType: 'earn_rule', aggregateId: id, payload: { rule_id: id, version: 1, kind: definition.kind, ...(event ? { event } : {}) }, occurredAt: now });
    return this.get(tx, tenantId, id);
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<RuleView> {
    const row = isUuid(id) ? await store.getCurrent(q, tenantId, id) : null;
    if (!row) throw errors.notFound('earn rule', id);
    return view(row);
  }

  /** Rules (their current versions) in id order; archived ones only with include_archived. */
  async list(q: Queryable, tenantId: string, f: { kind?: RuleKind; event?: string; include_archived?: boolean; afterId?: string; limit: number }): Promise<RuleView[]> {
    return (await store.listCurrent(q, tenantId, f)).map(view);
  }

  /**
   * A new version with the fields sent replaced (null clears an optional field), in force from now; the previous
   * version ends now. A change that changes nothing writes nothing. Archived rules cannot be changed.
   */
  async update(tx: Queryable, tenantId: string, id: string, patch: RulePatch, actor: string | null): Promise<RuleView> {
    const shapeErrs = validatePatch(patch);
    if (shapeErrs.length) throw errors.validation(shapeErrs);
    const current = isUuid(id) ? await store.getCurrent(tx, tenantId, id, true) : null;
    if (!current) throw errors.notFound('earn rule', id);
    if (current.archived_at) throw errors.unprocessable(`Earn rule ${id} is archived and can no longer be changed; create a new rule instead.`);

    const merged = { ...toInput(current.definition), ...patch } as RuleInput;
    const errs = validateRule(merged);
    if (errs.length) throw errors.validation(errs);
    const version = current.current_version + 1;
    const definition = toDefinition(id, version, merged);
    const comparable = (d: AnyRule) => canonicalJson({ ...d, version: 0 });
    if (comparable(definition) === comparable(current.definition)) return view(current);

    const now = this.clock.now();
    // A version never ends before it starts (a clock set back in a test, or skew between processes).
    const at = current.effective_from && current.effective_from > now ? current.effective_from : now;
    await store.closeVersion(tx, tenantId, id, current.current_version, at);
    await store.insertVersion(tx, tenantId, { rule_id: id, version, definition, effective_from: at, effective_until: null, created_at: now, created_by: actor });
    const event = definition.kind === 'event' ? definition.event : null;
    await store.updateRule(tx, tenantId, id, { current_version: version, name: definition.name, event }, now);
    await this.config.changed(tx, tenantId);
    const before = current.definition as unknown as Record<string, unknown>;
    const after = definition as unknown as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => k !== 'version' && canonicalJson(before[k] ?? null) !== canonicalJson(after[k] ?? null));
    await emit(tx, { tenantId, type: 'earn_rule.updated', aggregateType: 'earn_rule', aggregateId: id, payload: { rule_id: id, version, changed_fields: changed }, occurredAt: now });
    return this.get(tx, tenantId, id);
  }

  /** Stops the rule from now on (its current version ends now); earlier times keep it. Repeating it is a no-op. */
  async archive(tx: Queryable, tenantId: string, id: string, _actor: string | null): Promise<RuleView> {
    const current = isUuid(id) ? await store.getCurrent(tx, tenantId, id, true) : null;
    if (!current) throw errors.notFound('earn rule', id);
    if (current.archived_at) return view(current);
    const now = this.clock.now();
    const at = current.effective_from && current.effective_from > now ? current.effective_from : now;
    await store.closeVersion(tx, tenantId, id, current.current_version, at);
    await store.updateRule(tx, tenantId, id, { archived_at: now }, now);
    await this.config.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'earn_rule.archived', aggregateType: 'earn_rule', aggregateId: id, payload: { rule_id: id, version: current.current_version }, occurredAt: now });
    return this.get(tx, tenantId, id);
  }

  /** Every version of a rule, oldest first. */
  async versions(q: Queryable, tenantId: string, id: string, page: { afterVersion?: number; limit: number } = { limit: 1000 }): Promise<RuleVersionView[]> {
    await this.get(q, tenantId, id);
    return (await store.listVersions(q, tenantId, id, page)).map(versionView);
  }

  // ── Hot-path reads (one query each) ─────────────────────────────────────

  /** The base, multiplier and bonus rules in force at `at` (an order's occurred_at), each with its `version`. */
  async transactionRulesAt(q: Queryable, tenantId: string, at: Date): Promise<EarnRule[]> {
    const all = await this.versionCache.get(tenantId, () => store.transactionRuleVersions(q, tenantId));
    return all.filter((v) => store.inForce(v, at)).map((v) => v.definition);
  }

  /** The rules of one event in force at `at`, each with its `version`. */
  eventRulesAt(q: Queryable, tenantId: string, eventName: string, at: Date): Promise<EventRule[]> {
    return store.eventRulesAt(q, tenantId, eventName, at);
  }

  /** Given versions of transaction rules, to re-evaluate an order on a return (unknown refs and event rules are left out). */
  rulesByVersion(q: Queryable, tenantId: string, refs: { rule_id: string; version: number }[]): Promise<EarnRule[]> {
    return store.transactionRulesByVersion(q, tenantId, refs.filter((r) => isUuid(r.rule_id) && Number.isInteger(r.version)));
  }

  // ── Cap counters ────────────────────────────────────────────────────────

  /**
   * What a member already used of each capped rule on `day` / in `month` (the tenant zone's YYYY-MM-DD / YYYY-MM of
   * the order), and each rule's total across members. Only rules with per-member or total caps are read. Total rows
   * are shared by every member: they are created if missing and locked (FOR UPDATE, in rule order) until the
   * transaction ends, so concurrent orders cannot both spend the last of a total cap.
   */
  async earnUsage(tx: Queryable, tenantId: string, memberId: string, rules: EarnRule[], day: string, month: string): Promise<Record<string, RuleUsage>> {
    const capped = rules.filter(hasMemberCaps);
    if (capped.length === 0) return {};
    const totals = capped.filter((r) => r.caps!.total != null).map((r) => r.id);
    await store.ensureTotals(tx, tenantId, totals);
    const pairs = capped.flatMap((r) => [{ rule_id: r.id, period: `d:${day}` }, { rule_id: r.id, period: `m:${month}` }]);
    const rows = await store.lockUsage(tx, tenantId, memberId, pairs, totals);
    const out: Record<string, RuleUsage> = {};
    for (const r of capped) out[r.id] = { member_day: 0, member_month: 0, total: 0 };
    for (const row of rows) {
      const u = out[row.rule_id];
      if (!u) continue;
      if (row.member_id === store.ALL_MEMBERS) u.total = row.points;
      else if (row.period === `d:${day}`) u.member_day = row.points;
      else if (row.period === `m:${month}`) u.member_month = row.points;
    }
    return out;
  }

  /**
   * Records what capped rules awarded (the engine's cap_usage), or takes it back on a return or void (`sign` -1,
   * with the original order's cap_usage, so the original day and month are corrected). Rule totals are kept only
   * for rules whose total row exists (created by `earnUsage` for rules with caps.total).
   */
  async recordEarnUsage(tx: Queryable, tenantId: string, memberId: string, usage: CapUsage[], sign: 1 | -1): Promise<void> {
    const used = usage.filter((u) => u.points !== 0);
    if (used.length === 0) return;
    await store.addUsage(tx, tenantId, used.flatMap((u) => [
      { rule_id: u.rule_id, member_id: memberId, period: `d:${u.day}`, points: sign * u.points, count: sign },
      { rule_id: u.rule_id, member_id: memberId, period: `m:${u.month}`, points: sign * u.points, count: sign },
    ]));
    await store.addToExistingTotals(tx, tenantId, used.map((u) => ({ rule_id: u.rule_id, points: sign * u.points, count: sign })));
  }

  /**
   * The usage evaluateEvent needs, per rule: the member's awards in the rule's limit period containing `at` (in
   * `timeZone`), and the points the rule awarded to everyone (locked as in `earnUsage`, for rules with caps.total).
   */
  async eventUsage(tx: Queryable, tenantId: string, memberId: string, rules: EventRule[], at: Date, timeZone: string): Promise<Record<string, { count: number; total: number }>> {
    const out: Record<string, { count: number; total: number }> = {};
    for (const r of rules) out[r.id] = { count: 0, total: 0 };
    const periods = new Map(rules.filter((r) => r.limit).map((r) => [r.id, periodKey(r.limit!.per, at, timeZone)]));
    const totals = rules.filter((r) => r.caps?.total != null).map((r) => r.id);
    if (periods.size === 0 && totals.length === 0) return out;
    await store.ensureTotals(tx, tenantId, totals);
    const rows = await store.lockUsage(tx, tenantId, memberId, [...periods].map(([rule_id, period]) => ({ rule_id, period })), totals);
    for (const row of rows) {
      const u = out[row.rule_id];
      if (!u) continue;
      if (row.member_id === store.ALL_MEMBERS) u.total = row.points;
      else if (periods.get(row.rule_id) === row.period) u.count = row.count;
    }
    return out;
  }

  /** Records evaluateEvent's awards (or takes them back with `sign` -1): the member's period counts and rule totals. */
  async recordEventAwards(tx: Queryable, tenantId: string, memberId: string, awards: EventAward[], sign: 1 | -1 = 1): Promise<void> {
    const deltas: store.UsageDelta[] = [];
    for (const a of awards) {
      if (a.count_period) deltas.push({ rule_id: a.rule_id, member_id: memberId, period: a.period, points: sign * a.points, count: sign });
      if (a.count_total) deltas.push({ rule_id: a.rule_id, member_id: store.ALL_MEMBERS, period: store.TOTAL_PERIOD, points: sign * a.points, count: sign });
    }
    await store.addUsage(tx, tenantId, deltas);
  }
}
