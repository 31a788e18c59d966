/**
 * Tiers: ordered levels a member reaches by a qualification figure (activated earned points, money spent net of
 * returns, or purchases) over a window, keeps at evaluations (end of period or anniversary) by keep thresholds,
 * or is given by hand or by invitation. docs/program/tiers.md explains the model.
 *
 * Concurrency: every change of one member's tier first locks that member's `member_tiers` row (created if missing),
 * and reads the figures after the lock, so two changes of one member run one after the other and each sees what the
 * other committed. Changes of the rules (tiers, settings, re-evaluations) lock the tenant's `tier_settings` row
 * first and then members' rows in member order; a member's change never waits for the settings row, so the two
 * never wait on each other in opposite orders. In order and event hooks the member's points book is already locked:
 * the tier row comes after it, as everywhere.
 */
import type { Clock } from '../../platform/clock.js';
import type { TenantCache, TenantConfig } from '../../platform/db/tenant-cache.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { Ledger } from '../ledger/ledger.service.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { EventHook } from '../events/events.service.js';
import type { OrderHook, TransactionsService } from '../transactions/transactions.service.js';
import {
  baseTier, canFall, DEFAULT_SETTINGS, dueNow, dueStep, dueWindow, entryTier, judge, movedState, nextEvaluation, periodEndAfter,
  proposalErrors, proposeRules, rankOf, riseStep, SETTINGS_FIELDS, startingState, upTo, windowAt, type TierSettings, type Window,
} from './tiers.policy.js';
import type { AssignInput, CreateTierInput, ReevaluationInput, TierPatch, TierSettingsPatch } from './tiers.schema.js';
import { LIMITS } from './tiers.schema.js';
import * as store from './tiers.store.js';
import type { ReevaluationRow, StateRow, TierRow } from './tiers.store.js';

export type { ReevaluationRow, StateRow, TierRow } from './tiers.store.js';
export type { TierSettings } from './tiers.policy.js';
export { baseTier } from './tiers.policy.js';

/** The tier facts other modules use (rewards reserved for a tier, campaigns for a tier). */
export interface CurrentTier {
  tier_id: string;
  code: string;
  name: string;
  rank: number;
  multiplier: number;
}

/** The rules in force for a tenant, read once per operation. */
interface Rules {
  settings: TierSettings;
  tiers: TierRow[];
  byId: Map<string, TierRow>;
  tz: string;
}

/** What a change of the rules does: the new settings and tiers, and which fields of the request they came from. */
interface Proposal {
  settings: TierSettings;
  tiers: TierRow[];
}

type Outcome = { member_id: string; state: StateRow; from: TierRow | null; to: TierRow | null; figure: number; direction: 'up' | 'down' | 'stay'; byChange: boolean };

const QUALIFICATION_FIELDS = ['rank', 'invitation_only', 'entry_threshold', 'keep_threshold'] as const;
const SAMPLE_SIZE = 50;
const FIGURE_CHUNK = 5000;

/** What every order reads of the tiers: the levels and the settings. */
interface Definitions { tiers: TierRow[]; settings: TierSettings }

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const ref = (t: TierRow | null) => (t ? { id: t.id, code: t.code, name: t.name, rank: t.rank } : null);

export class TiersService {
  constructor(private readonly deps: {
    clock: Clock;
    ledger: Pick<Ledger, 'qualifyingPoints' | 'earningEntriesAfter'>;
    transactions: Pick<TransactionsService, 'qualifyingSpend' | 'memberOrdersAfter'>;
    programs: Pick<ProgramsService, 'get'>;
    members: Pick<MembersService, 'find' | 'findOr404'>;
    /** Per-process cache of the tier list and settings that every order reads; every change announces itself. */
    config?: TenantConfig;
  }) {
    this.definitions = deps.config?.cache<Definitions>() ?? null;
  }

  private readonly definitions: TenantCache<Definitions> | null;

  /**
   * The tier list and settings as orders and events read them: from the per-process cache when there is one (a
   * change calls `announce` in its transaction). Writes read the tables themselves, under the settings lock.
   */
  private async cached(q: Queryable, tenantId: string): Promise<Definitions> {
    const load = async (): Promise<Definitions> => ({ tiers: await store.listTiers(q, tenantId), settings: (await store.getSettings(q, tenantId)) ?? DEFAULT_SETTINGS });
    return this.definitions ? this.definitions.get(tenantId, load) : load();
  }

  /** Saves the settings and tells every process to drop its cached tiers (tier rows announce their own changes). */
  private async saveSettings(tx: Tx, tenantId: string, settings: TierSettings, bump: boolean, now: Date): Promise<TierSettings> {
    const saved = await store.saveSettings(tx, tenantId, settings, bump, now);
    await this.deps.config?.changed(tx, tenantId);
    return saved;
  }

  // ── What other modules read ─────────────────────────────────────────────

  /**
   * The member's tier code at `at` (a MemberStanding for the earn and event rules) and its earn multiplier. An order
   * of the past is judged by the tier the member held then (the tier history).
   */
  standing = async (q: Queryable, tenantId: string, memberId: string, at: Date): Promise<{ tier: string | null; multiplier: number }> => {
    const { tiers } = await this.cached(q, tenantId);
    if (tiers.length === 0) return { tier: null, multiplier: 1 };
    const state = await store.getState(q, tenantId, memberId);
    let tierId: string | null;
    if (!state) tierId = baseTier(tiers)?.id ?? null;
    else if (at >= state.since) tierId = state.tier_id;
    else {
      const past = await store.historyAt(q, tenantId, memberId, at);
      tierId = past ? past.to_tier_id : baseTier(tiers)?.id ?? null;
    }
    const tier = tiers.find((t) => t.id === tierId) ?? null;
    return { tier: tier?.code ?? null, multiplier: tier?.multiplier ?? 1 };
  };

  /** The member's tier now; null when they hold none. */
  async current(q: Queryable, tenantId: string, memberId: string): Promise<CurrentTier | null> {
    const { tiers } = await this.cached(q, tenantId);
    if (tiers.length === 0) return null;
    const state = await store.getState(q, tenantId, memberId);
    const tier = state ? tiers.find((t) => t.id === state.tier_id) ?? null : baseTier(tiers);
    return tier ? { tier_id: tier.id, code: tier.code, name: tier.name, rank: tier.rank, multiplier: tier.multiplier } : null;
  }

  /** Members holding a qualified tier with a keep threshold whose next evaluation falls in (from, to] (tier-at-risk messages). */
  evaluationsBetween(q: Queryable, tenantId: string, from: Date, to: Date, after: { at: Date; memberId: string } | null, limit: number) {
    return store.evaluationsBetween(q, tenantId, from, to, after, limit);
  }

  // ── Rules: settings and tiers ───────────────────────────────────────────

  async settings(q: Queryable, tenantId: string): Promise<TierSettings> {
    return (await store.getSettings(q, tenantId)) ?? DEFAULT_SETTINGS;
  }

  /**
   * The rules to judge members by. Without `settings` (orders, events, reads) from the cache; with the settings a
   * write has locked, from the tables.
   */
  private async rules(q: Queryable, tenantId: string, settings?: TierSettings): Promise<Rules> {
    // One after the other: `q` may be a transaction's single connection, which runs one query at a time.
    const { settings: s, tiers } = settings ? { settings, tiers: await store.listTiers(q, tenantId) } : await this.cached(q, tenantId);
    const program = await this.deps.programs.get(q, tenantId);
    return { settings: s, tiers, byId: new Map(tiers.map((t) => [t.id, t])), tz: program.time_zone };
  }

  async listTiers(q: Queryable, tenantId: string): Promise<Array<TierRow & { members: number }>> {
    const tiers = await store.listTiers(q, tenantId);
    const counts = await store.membersPerTier(q, tenantId);
    return tiers.map((t) => ({ ...t, members: counts.get(t.id) ?? 0 }));
  }

  async getTier(q: Queryable, tenantId: string, id: string): Promise<TierRow & { members: number }> {
    const tier = isUuid(id) ? await store.getTier(q, tenantId, id) : null;
    if (!tier) throw errors.notFound('tier', id);
    return { ...tier, members: (await store.membersPerTier(q, tenantId)).get(id) ?? 0 };
  }

  /** What the schema cannot check of a tier's fields (three decimals of the multiplier). */
  checkTierFields(body: unknown, prefix = ''): FieldError[] {
    const errs: FieldError[] = [];
    if (!body || typeof body !== 'object' || Array.isArray(body)) return errs;
    const b = body as Record<string, unknown>;
    if (typeof b.multiplier === 'number' && Math.abs(b.multiplier * 1000 - Math.round(b.multiplier * 1000)) > 1e-6) {
      errs.push({ field: `${prefix}multiplier`, detail: 'must have at most three decimals' });
    }
    if (typeof b.entry_threshold === 'number' && typeof b.keep_threshold === 'number' && b.keep_threshold > b.entry_threshold) {
      errs.push({ field: `${prefix}keep_threshold`, detail: 'must be at most entry_threshold' });
    }
    return errs;
  }

  /** What the schema cannot check of the settings: the window's months go with a rolling window only. */
  checkSettingsFields(body: unknown, prefix = ''): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    if (b.window === 'rolling_months' && (b.window_months === undefined || b.window_months === null)) {
      return [{ field: `${prefix}window_months`, detail: 'is required with the rolling_months window' }];
    }
    if (b.window !== undefined && b.window !== 'rolling_months' && b.window_months !== undefined && b.window_months !== null) {
      return [{ field: `${prefix}window_months`, detail: 'is only for the rolling_months window' }];
    }
    return [];
  }

  checkReevaluation(body: unknown): FieldError[] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [];
    const b = body as Record<string, unknown>;
    const errs = this.checkSettingsFields(b.settings, 'settings.');
    if (Array.isArray(b.tiers)) b.tiers.forEach((t, i) => errs.push(...this.checkTierFields(t, `tiers[${i}].`)));
    return errs;
  }

  /** The whole set of rules after a change, checked as a whole: ranks unique, keep at most entry, a complete window. */
  private validateProposal(p: Proposal, fieldOf: (tierId: string, field: string) => string): void {
    const errs = proposalErrors(p, fieldOf);
    if (errs.length) throw errors.validation(errs);
  }

  async createTier(tx: Tx, tenantId: string, input: CreateTierInput): Promise<TierRow> {
    const errs = this.checkTierFields(input);
    if (errs.length) throw errors.validation(errs);
    const settings = await store.lockSettings(tx, tenantId, DEFAULT_SETTINGS, this.deps.clock.now());
    const tiers = await store.listTiers(tx, tenantId);
    const now = this.deps.clock.now();
    const tier: TierRow = {
      id: newId(), code: input.code, name: input.name, names: input.names ?? {}, rank: input.rank ?? Math.max(0, ...tiers.map((t) => t.rank)) + 1,
      benefits: input.benefits ?? [], multiplier: input.multiplier ?? 1, invitation_only: input.invitation_only ?? false,
      entry_threshold: input.entry_threshold, keep_threshold: input.keep_threshold ?? input.entry_threshold, created_at: now, updated_at: now,
    };
    if (tier.rank > LIMITS.rank) throw errors.field('rank', `must be at most ${LIMITS.rank}`);
    if (tiers.some((t) => t.code === tier.code)) throw errors.conflict(`A tier with code ${tier.code} exists.`, [{ field: 'code', detail: 'is taken' }]);
    this.validateProposal({ settings, tiers: [...tiers, tier] }, (_id, field) => field);
    const row = await store.insertTier(tx, tenantId, tier);
    await this.deps.config?.changed(tx, tenantId);
    if (!row) throw errors.conflict(`A tier with code ${tier.code} exists.`, [{ field: 'code', detail: 'is taken' }]);
    await emit(tx, { tenantId, type: 'tier.created', aggregateType: 'tier', aggregateId: row.id, occurredAt: now, payload: { tier_id: row.id, code: row.code, rank: row.rank } });
    // A new tier moves nobody down; members who reach it already move up now.
    await this.applyRules(tx, tenantId, await this.saveSettings(tx, tenantId, settings, true, now), 'next_evaluation');
    return row;
  }

  /**
   * Changes a tier. Names, benefits and the multiplier change at once. A change of how members qualify (rank,
   * thresholds, invitation_only) is applied at once when it moves nobody down who would not move down anyway;
   * otherwise nothing changes and a re-evaluation report is recorded and returned for the marketer to apply.
   */
  async updateTier(tx: Tx, tenantId: string, id: string, patch: TierPatch): Promise<{ tier: TierRow } | { reevaluation: ReevaluationRow }> {
    const errs = this.checkTierFields(patch);
    if (errs.length) throw errors.validation(errs);
    const existing = isUuid(id) ? await store.getTier(tx, tenantId, id) : null;
    if (!existing) throw errors.notFound('tier', id);
    const result = await this.change(tx, tenantId, { tiers: [{ id, ...patch }] }, (_id, field) => field);
    if ('reevaluation' in result) return result;
    const tier = (await store.getTier(tx, tenantId, id))!;
    return { tier };
  }

  async updateSettings(tx: Tx, tenantId: string, patch: TierSettingsPatch): Promise<{ settings: TierSettings } | { reevaluation: ReevaluationRow }> {
    const result = await this.change(tx, tenantId, { settings: patch }, (_id, field) => field);
    if ('reevaluation' in result) return result;
    return { settings: result.settings };
  }

  /** Deletes a tier nobody holds (or is being moved down to); 422 otherwise. */
  async deleteTier(tx: Tx, tenantId: string, id: string): Promise<TierRow> {
    const settings = await store.lockSettings(tx, tenantId, DEFAULT_SETTINGS, this.deps.clock.now());
    const tier = isUuid(id) ? await store.getTier(tx, tenantId, id, true) : null;
    if (!tier) throw errors.notFound('tier', id);
    if (await store.tierInUse(tx, tenantId, id)) {
      throw errors.unprocessable(`Members hold tier ${tier.code} (or are being moved down to it): assign them elsewhere, or change its thresholds, first.`);
    }
    await store.deleteTier(tx, tenantId, id);
    await this.deps.config?.changed(tx, tenantId);
    const now = this.deps.clock.now();
    await this.saveSettings(tx, tenantId, settings, true, now);
    await emit(tx, { tenantId, type: 'tier.deleted', aggregateType: 'tier', aggregateId: id, occurredAt: now, payload: { tier_id: id, code: tier.code } });
    return tier;
  }

  /** The rules as they would be after `changes`; 422 naming an unknown tier. */
  private propose(current: { settings: TierSettings; tiers: TierRow[] }, changes: ReevaluationInput, now: Date): Proposal {
    const { settings, tiers, unknown } = proposeRules(current, changes, now);
    if (unknown.length) throw errors.unprocessable('The change names tiers this program does not have.', unknown);
    return { settings, tiers };
  }

  private touchesQualification(changes: ReevaluationInput): boolean {
    return SETTINGS_FIELDS.some((f) => changes.settings?.[f] !== undefined)
      || (changes.tiers ?? []).some((c) => QUALIFICATION_FIELDS.some((f) => c[f] !== undefined));
  }

  /** A PATCH of a tier or of the settings: applied, or held back as a re-evaluation report when it would demote. */
  private async change(tx: Tx, tenantId: string, changes: ReevaluationInput, fieldOf: (id: string, f: string) => string): Promise<{ settings: TierSettings } | { reevaluation: ReevaluationRow }> {
    const now = this.deps.clock.now();
    const locked = await store.lockSettings(tx, tenantId, DEFAULT_SETTINGS, now);
    const current = await this.rules(tx, tenantId, locked);
    const proposal = this.propose(current, changes, now);
    this.validateProposal(proposal, fieldOf);
    if (this.touchesQualification(changes)) {
      const report = await this.judgeAll(tx, tenantId, current, proposal);
      if (report.summary.down_by_change > 0) return { reevaluation: await this.record(tx, tenantId, changes, locked, report, now) };
    }
    const settings = await this.write(tx, tenantId, current, proposal, this.touchesQualification(changes), now);
    if (this.touchesQualification(changes)) await this.applyRules(tx, tenantId, settings, 'next_evaluation');
    return { settings };
  }

  /** Writes the proposed rules, with their events. */
  private async write(tx: Tx, tenantId: string, current: Rules, p: Proposal, qualification: boolean, now: Date): Promise<TierSettings> {
    for (const t of p.tiers) {
      const before = current.byId.get(t.id)!;
      const changed = (Object.keys(t) as Array<keyof TierRow>).filter((k) => k !== 'updated_at' && JSON.stringify(t[k]) !== JSON.stringify(before[k]));
      if (changed.length === 0) continue;
      await store.updateTier(tx, tenantId, { ...t, updated_at: now });
      await this.deps.config?.changed(tx, tenantId); // a name, benefit or multiplier changes no settings
      await emit(tx, { tenantId, type: 'tier.updated', aggregateType: 'tier', aggregateId: t.id, occurredAt: now, payload: { tier_id: t.id, code: t.code, changed } });
    }
    const settingsChanged = SETTINGS_FIELDS.filter((f) => p.settings[f] !== current.settings[f]);
    if (settingsChanged.length === 0 && !qualification) return current.settings;
    const saved = await this.saveSettings(tx, tenantId, p.settings, qualification, now);
    if (settingsChanged.length > 0) {
      await emit(tx, { tenantId, type: 'tier_settings.updated', aggregateType: 'tier_settings', aggregateId: tenantId, occurredAt: now, payload: { changed: settingsChanged, config_version: saved.config_version } });
    }
    return saved;
  }

  // ── Re-evaluation reports ────────────────────────────────────────────────

  /**
   * Judges every member with a tier state by their figures as of now, under the rules in force and under the
   * proposed ones. `down_by_change` are those the proposal alone would move down.
   */
  private async judgeAll(q: Queryable, tenantId: string, current: Rules, proposal: Proposal, states?: StateRow[]): Promise<{ outcomes: Outcome[]; summary: ReevaluationRow['summary']; sample: ReevaluationRow['sample'] }> {
    const rows = states ?? await store.allStates(q, tenantId);
    const now = this.deps.clock.now();
    const newFigures = await this.figuresOf(q, tenantId, proposal.settings, rows.map((r) => ({ member_id: r.member_id, ...windowAt(proposal.settings, upTo(now), current.tz) })));
    const sameBasis = proposal.settings.metric === current.settings.metric && proposal.settings.window === current.settings.window && proposal.settings.window_months === current.settings.window_months;
    const oldFigures = sameBasis ? newFigures : await this.figuresOf(q, tenantId, current.settings, rows.map((r) => ({ member_id: r.member_id, ...windowAt(current.settings, upTo(now), current.tz) })));
    const proposedById = new Map(proposal.tiers.map((t) => [t.id, t]));
    const summary = { members: rows.length, up: 0, down: 0, stay: 0, down_by_change: 0, up_by_change: 0 };
    const outcomes: Outcome[] = [];
    for (const state of rows) {
      const figure = newFigures.get(state.member_id) ?? 0;
      const from = state.tier_id ? proposedById.get(state.tier_id) ?? null : null;
      const next = judge(proposal.tiers, from, state.source, figure, proposal.settings.downgrade_policy);
      const before = judge(current.tiers, state.tier_id ? current.byId.get(state.tier_id) ?? null : null, state.source, oldFigures.get(state.member_id) ?? 0, current.settings.downgrade_policy);
      const byChange = next.direction !== 'stay' && before.direction !== next.direction;
      summary[next.direction]++;
      if (byChange && next.direction === 'down') summary.down_by_change++;
      if (byChange && next.direction === 'up') summary.up_by_change++;
      outcomes.push({ member_id: state.member_id, state, from, to: next.to, figure, direction: next.direction, byChange });
    }
    const moving = outcomes.filter((o) => o.direction !== 'stay').sort((a, b) => Number(b.byChange) - Number(a.byChange));
    const sample = moving.slice(0, SAMPLE_SIZE).map((o) => ({
      member_id: o.member_id, from: o.from?.code ?? null, to: o.to?.code ?? null, figure: o.figure, direction: o.direction as 'up' | 'down', by_change: o.byChange,
    }));
    return { outcomes, summary, sample };
  }

  private async record(tx: Tx, tenantId: string, changes: ReevaluationInput, settings: TierSettings, report: { summary: ReevaluationRow['summary']; sample: ReevaluationRow['sample'] }, now: Date): Promise<ReevaluationRow> {
    const row = await store.insertReevaluation(tx, tenantId, {
      id: newId(), status: 'draft', changes: changes as ReevaluationRow['changes'], config_version: settings.config_version, summary: report.summary, sample: report.sample,
      downgrades: null, applied_summary: null, created_at: now, applied_at: null,
    });
    await emit(tx, { tenantId, type: 'tier_reevaluation.created', aggregateType: 'tier_reevaluation', aggregateId: row.id, occurredAt: now, payload: { reevaluation_id: row.id, summary: row.summary } });
    return row;
  }

  /** A dry run of proposed changes (or of the rules in force): who would move up, down, or stay. Changes nothing else. */
  async createReevaluation(tx: Tx, tenantId: string, changes: ReevaluationInput): Promise<ReevaluationRow> {
    const errs = this.checkReevaluation(changes);
    if (errs.length) throw errors.validation(errs);
    const now = this.deps.clock.now();
    const settings = await store.lockSettings(tx, tenantId, DEFAULT_SETTINGS, now);
    const current = await this.rules(tx, tenantId, settings);
    const proposal = this.propose(current, changes, now);
    this.validateProposal(proposal, (id, field) => {
      const i = (changes.tiers ?? []).findIndex((c) => c.id === id);
      return i >= 0 ? `tiers[${i}].${field}` : id === '' ? `settings.${field}` : field;
    });
    return this.record(tx, tenantId, changes, settings, await this.judgeAll(tx, tenantId, current, proposal), now);
  }

  async getReevaluation(q: Queryable, tenantId: string, id: string): Promise<ReevaluationRow & { stale: boolean }> {
    const row = isUuid(id) ? await store.getReevaluation(q, tenantId, id) : null;
    if (!row) throw errors.notFound('tier re-evaluation', id);
    return { ...row, stale: row.status === 'draft' && row.config_version !== (await this.settings(q, tenantId)).config_version };
  }

  async listReevaluations(q: Queryable, tenantId: string, beforeId: string | undefined, limit: number): Promise<Array<ReevaluationRow & { stale: boolean }>> {
    const version = (await this.settings(q, tenantId)).config_version;
    return (await store.listReevaluations(q, tenantId, beforeId, limit)).map((r) => ({ ...r, stale: r.status === 'draft' && r.config_version !== version }));
  }

  /**
   * Applies a report's changes: the rules change, members who now reach a higher tier move up at once, and members
   * below their new keep threshold move down now or keep their tier until their next evaluation, as chosen. 422 when
   * the report was applied already or the rules changed since it was made.
   */
  async applyReevaluation(tx: Tx, tenantId: string, id: string, downgrades: 'now' | 'next_evaluation'): Promise<ReevaluationRow & { stale: boolean }> {
    const now = this.deps.clock.now();
    const settings = await store.lockSettings(tx, tenantId, DEFAULT_SETTINGS, now);
    const report = isUuid(id) ? await store.getReevaluation(tx, tenantId, id, true) : null;
    if (!report) throw errors.notFound('tier re-evaluation', id);
    if (report.status === 'applied') throw errors.unprocessable(`The re-evaluation was applied at ${report.applied_at!.toISOString()}.`);
    if (report.config_version !== settings.config_version) {
      throw errors.unprocessable('The tier rules changed since this report was made: make a new one (POST /v1/tier-reevaluations) and apply that.');
    }
    const current = await this.rules(tx, tenantId, settings);
    const changes = report.changes as ReevaluationInput;
    const proposal = this.propose(current, changes, now);
    this.validateProposal(proposal, (_id, field) => field);
    const saved = await this.write(tx, tenantId, current, proposal, true, now);
    const applied = await this.applyRules(tx, tenantId, saved, downgrades);
    const row = await store.markApplied(tx, tenantId, id, downgrades, applied, now);
    await emit(tx, { tenantId, type: 'tier_reevaluation.applied', aggregateType: 'tier_reevaluation', aggregateId: id, occurredAt: now, payload: { reevaluation_id: id, downgrades, applied } });
    return { ...row, stale: false };
  }

  /**
   * Judges every member under the rules now in force (written in this transaction) and moves them: up at once,
   * down at once only with `downgrades: 'now'`. Members' rows are locked in member order.
   */
  private async applyRules(tx: Tx, tenantId: string, settings: TierSettings, downgrades: 'now' | 'next_evaluation'): Promise<NonNullable<ReevaluationRow['applied_summary']>> {
    const rules = await this.rules(tx, tenantId, settings);
    const states = await store.lockAllStates(tx, tenantId);
    const { outcomes } = await this.judgeAll(tx, tenantId, rules, { settings, tiers: rules.tiers }, states);
    const done = { up: 0, down: 0, kept_until_evaluation: 0 };
    for (const o of outcomes) {
      if (o.direction === 'up') {
        await this.move(tx, tenantId, rules, o.state, o.to, { reason: 'reevaluation', source: 'qualified', figure: o.figure });
        done.up++;
      } else if (o.direction === 'down' && downgrades === 'now') {
        await this.move(tx, tenantId, rules, o.state, o.to, { reason: 'reevaluation', source: 'qualified', figure: o.figure });
        done.down++;
      } else {
        if (o.direction === 'down') done.kept_until_evaluation++;
        // The evaluation date follows the rules in force (a change of evaluation kind or of the tier's keep threshold).
        const tier = o.state.tier_id ? rules.byId.get(o.state.tier_id) ?? null : null;
        if (o.state.source === 'qualified' && o.state.downgrade_at === null) {
          const next = canFall(tier) ? nextEvaluation(settings, o.state.since, this.deps.clock.now(), rules.tz) : null;
          if (iso(next) !== iso(o.state.next_evaluation_at)) await store.saveState(tx, tenantId, { ...o.state, next_evaluation_at: next, updated_at: this.deps.clock.now() });
        }
      }
    }
    return done;
  }

  // ── Figures ──────────────────────────────────────────────────────────────

  private async figuresOf(q: Queryable, tenantId: string, s: TierSettings, windows: Array<{ member_id: string } & Window>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < windows.length; i += FIGURE_CHUNK) {
      const chunk = windows.slice(i, i + FIGURE_CHUNK);
      if (s.metric === 'points') {
        for (const [m, v] of await this.deps.ledger.qualifyingPoints(q, tenantId, chunk)) out.set(m, v);
      } else {
        for (const [m, v] of await this.deps.transactions.qualifyingSpend(q, tenantId, chunk)) out.set(m, s.metric === 'spend' ? v.spent : v.purchases);
      }
    }
    return out;
  }

  private async figure(q: Queryable, tenantId: string, rules: Rules, memberId: string, w: Window): Promise<number> {
    return (await this.figuresOf(q, tenantId, rules.settings, [{ member_id: memberId, ...w }])).get(memberId) ?? 0;
  }

  // ── Member state ─────────────────────────────────────────────────────────

  /** The member's state locked (created at the base tier when missing). */
  private async lock(tx: Tx, tenantId: string, rules: Rules, memberId: string): Promise<StateRow> {
    const now = this.deps.clock.now();
    return store.lockState(tx, tenantId, memberId, { ...startingState(rules.tiers, rules.settings, now, rules.tz), updated_at: now });
  }

  /** Moves a member to `to` now: state, history row and outbox event. */
  private async move(tx: Tx, tenantId: string, rules: Rules, state: StateRow, to: TierRow | null, o: { reason: string; source: StateRow['source']; figure: number | null; until?: Date | null; details?: Record<string, unknown> }): Promise<StateRow> {
    const now = this.deps.clock.now();
    const from = state.tier_id ? rules.byId.get(state.tier_id) ?? null : null;
    const next: StateRow = { ...movedState(rules.settings, rules.tz, state, to, o.source, o.until, now), updated_at: now };
    await store.saveState(tx, tenantId, next);
    await store.insertHistory(tx, tenantId, {
      id: newId(), member_id: state.member_id, from_tier_id: from?.id ?? null, from_code: from?.code ?? null, to_tier_id: to?.id ?? null, to_code: to?.code ?? null,
      reason: o.reason, source: o.source, figure: o.figure, details: o.details ?? null, at: now,
    });
    const type = o.reason === 'manual' ? 'tier.assigned' : o.reason === 'invited' ? 'tier.invited'
      : rankOf(to) > rankOf(from) ? 'tier.upgraded' : rankOf(to) < rankOf(from) ? 'tier.downgraded' : 'tier.assignment_ended';
    await emit(tx, {
      tenantId, type, aggregateType: 'member', aggregateId: state.member_id, memberId: state.member_id, occurredAt: now,
      payload: {
        member_id: state.member_id, from: from?.code ?? null, to: to?.code ?? null, from_tier_id: from?.id ?? null, to_tier_id: to?.id ?? null,
        reason: o.reason, source: o.source, figure: o.figure, valid_until: iso(next.valid_until), next_evaluation_at: iso(next.next_evaluation_at),
      },
    });
    return next;
  }

  /** Reacts to orders: a purchase or a voided return may raise the figure. A return only lowers it (judged at evaluations). */
  orderHook(): OrderHook {
    return {
      name: 'tiers',
      purchased: async (tx, e) => { await this.recheck(tx, e.tenantId, e.member.id); },
      voided: async (tx, e) => { await this.recheck(tx, e.tenantId, e.memberId); },
    };
  }

  /** Action bonuses raise the figure of the points metric only (and only when they earned at once). */
  eventHook(): EventHook {
    return {
      name: 'tiers',
      recorded: async (tx, e) => {
        if (e.event.points <= 0) return;
        const rules = await this.rules(tx, e.tenantId);
        if (rules.settings.metric === 'points') await this.recheck(tx, e.tenantId, e.member.id, rules);
      },
    };
  }

  /**
   * After something that may raise the member's figure (a purchase, an action bonus, activated points, a voided
   * return): move up at once when a higher entry threshold is reached, and call off a downgrade waiting out its
   * grace when the entry threshold of the member's tier is reached again. Never moves anyone down.
   */
  async recheck(tx: Tx, tenantId: string, memberId: string, rules?: Rules, opts: { onlyOnChange?: boolean } = {}): Promise<StateRow | null> {
    rules ??= await this.rules(tx, tenantId);
    if (rules.tiers.length === 0) return null;
    // The job looks before it locks: most members it rechecks have nothing to change, and then it writes nothing.
    if (opts.onlyOnChange && !(await this.mayRise(tx, tenantId, rules, memberId))) return null;
    let state = await this.lock(tx, tenantId, rules, memberId);
    const figure = await this.figure(tx, tenantId, rules, memberId, windowAt(rules.settings, upTo(this.deps.clock.now()), rules.tz));
    const current = state.tier_id ? rules.byId.get(state.tier_id) ?? null : null;
    const now = this.deps.clock.now();
    const step = riseStep(rules.tiers, rules.settings, rules.tz, state, current, figure, now);
    if (step?.kind === 'up') return this.move(tx, tenantId, rules, state, step.to, { reason: 'upgrade', source: 'qualified', figure });
    if (step?.kind === 'cancel_downgrade') {
      state = { ...step.state, updated_at: now };
      await store.saveState(tx, tenantId, state);
      await emit(tx, { tenantId, type: 'tier.downgrade_cancelled', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now, payload: { member_id: memberId, tier: current!.code, figure } });
    }
    return state;
  }

  /** Whether a recheck would change anything (read without a lock; the recheck judges again under it). */
  private async mayRise(q: Queryable, tenantId: string, rules: Rules, memberId: string): Promise<boolean> {
    const state = await store.getState(q, tenantId, memberId);
    const current = state ? (state.tier_id ? rules.byId.get(state.tier_id) ?? null : null) : baseTier(rules.tiers);
    const now = this.deps.clock.now();
    const figure = await this.figure(q, tenantId, rules, memberId, windowAt(rules.settings, upTo(now), rules.tz));
    if (rankOf(entryTier(rules.tiers, figure)) > rankOf(current)) return true;
    return state !== null && riseStep(rules.tiers, rules.settings, rules.tz, state, current, figure, now) !== null;
  }

  /**
   * What is due for one member (locked): an assignment that ended, a downgrade whose grace is over, evaluations whose
   * date has come (several when the job did not run for a while, each judged by the window that ends on its date).
   */
  async processDue(tx: Tx, tenantId: string, memberId: string, rules?: Rules): Promise<void> {
    rules ??= await this.rules(tx, tenantId);
    let state = await this.lock(tx, tenantId, rules, memberId);
    for (let guard = 0; guard < 100; guard++) {
      const now = this.deps.clock.now();
      const current = state.tier_id ? rules.byId.get(state.tier_id) ?? null : null;
      const due = dueNow(state, now);
      if (!due) return;
      const figure = await this.figure(tx, tenantId, rules, memberId, dueWindow(rules.settings, due, now, rules.tz));
      const step = dueStep(rules.tiers, rules.byId, rules.settings, rules.tz, state, current, due, figure, now);
      if (step.kind === 'move') {
        state = await this.move(tx, tenantId, rules, state, step.to, { reason: step.reason, source: 'qualified', figure, details: step.details });
        continue;
      }
      state = { ...step.state, updated_at: now };
      await store.saveState(tx, tenantId, state);
      if (step.scheduled) {
        const s = step.scheduled;
        await emit(tx, {
          tenantId, type: 'tier.downgrade_scheduled', aggregateType: 'member', aggregateId: memberId, memberId, occurredAt: now,
          payload: { member_id: memberId, from: s.from?.code ?? null, to: s.to?.code ?? null, at: s.at.toISOString(), figure, evaluated_at: s.evaluated_at.toISOString() },
        });
      }
    }
  }

  /** Gives a member a tier by hand until `until` (then they fall back to what they qualify for). */
  async assign(tx: Tx, tenantId: string, memberId: string, input: AssignInput, how: 'manual' | 'invited'): Promise<MemberTierView> {
    const now = this.deps.clock.now();
    const until = input.until ? new Date(input.until) : null;
    if (until && until <= now) throw errors.field('until', 'must be in the future');
    const member = await this.deps.members.findOr404(tx, tenantId, memberId);
    if (member.status === 'erased') throw errors.unprocessable('The member is erased.');
    const rules = await this.rules(tx, tenantId);
    const tier = rules.tiers.find((t) => t.code === input.tier);
    if (!tier) throw errors.unprocessable(`No tier ${input.tier}.`, [{ field: 'tier', detail: 'is not a tier of this program' }]);
    if (how === 'invited' && !tier.invitation_only) throw errors.unprocessable(`Tier ${tier.code} is open to everyone who qualifies: invitations are for invitation-only tiers.`, [{ field: 'tier', detail: 'is not invitation-only' }]);
    const state = await this.lock(tx, tenantId, rules, memberId);
    await this.move(tx, tenantId, rules, state, tier, { reason: how, source: how, figure: null, until, details: input.reason ? { reason: input.reason } : undefined });
    return this.memberTier(tx, tenantId, memberId);
  }

  /** The member's tier, benefits and progress (what is left to reach the next tier and to keep this one, by when). */
  async memberTier(q: Queryable, tenantId: string, memberId: string): Promise<MemberTierView> {
    await this.deps.members.findOr404(q, tenantId, memberId);
    const rules = await this.rules(q, tenantId);
    const now = this.deps.clock.now();
    const state = await store.getState(q, tenantId, memberId);
    const tier = state ? (state.tier_id ? rules.byId.get(state.tier_id) ?? null : null) : baseTier(rules.tiers);
    const window = windowAt(rules.settings, upTo(now), rules.tz);
    const figure = rules.tiers.length > 0 ? await this.figure(q, tenantId, rules, memberId, window) : 0;
    const nextTier = rules.tiers.filter((t) => !t.invitation_only && t.rank > rankOf(tier)).sort((a, b) => a.rank - b.rank)[0] ?? null;
    const nextEval = state ? state.next_evaluation_at : null;
    let keep: MemberTierView['progress']['keep'] = null;
    if (tier && (state?.source ?? 'qualified') === 'qualified' && nextEval) {
      // What counts for the next evaluation so far: its window, up to now.
      const evalWindow = windowAt(rules.settings, nextEval, rules.tz);
      const sofar = evalWindow.from && evalWindow.from > now ? 0 : await this.figure(q, tenantId, rules, memberId, { from: evalWindow.from, to: upTo(now) });
      keep = { threshold: tier.keep_threshold, figure: sofar, remaining: Math.max(0, tier.keep_threshold - sofar), by: nextEval.toISOString() };
    }
    const downTo = state?.downgrade_to_id ? rules.byId.get(state.downgrade_to_id) ?? null : null;
    return {
      member_id: memberId,
      tier: tier ? { id: tier.id, code: tier.code, name: tier.name, names: tier.names, rank: tier.rank, multiplier: tier.multiplier, benefits: tier.benefits } : null,
      source: state?.source ?? 'qualified',
      since: state ? state.since.toISOString() : null,
      valid_until: iso(state ? state.valid_until ?? state.downgrade_at ?? state.next_evaluation_at : null),
      next_evaluation_at: iso(nextEval),
      pending_downgrade: state?.downgrade_at ? { to: ref(downTo), at: state.downgrade_at.toISOString() } : null,
      metric: rules.settings.metric,
      figure,
      window: { from: iso(window.from), to: now.toISOString() },
      progress: {
        next: nextTier ? {
          tier: ref(nextTier), threshold: nextTier.entry_threshold, remaining: Math.max(0, nextTier.entry_threshold - figure),
          // A calendar-year figure starts again on 1 January; rolling and lifetime figures have no deadline.
          by: rules.settings.window === 'calendar_year' ? periodEndAfter(now, rules.tz).toISOString() : null,
        } : null,
        keep,
      },
    };
  }

  async history(q: Queryable, tenantId: string, memberId: string, before: { at: string; id: string } | undefined, limit: number) {
    await this.deps.members.findOr404(q, tenantId, memberId);
    return store.listHistory(q, tenantId, memberId, before, limit);
  }

  // ── The job ──────────────────────────────────────────────────────────────

  /**
   * One tenant's run of `tiers.evaluate`: (1) members whose figures may have risen since the last run (new ledger
   * entries for the points metric, new orders otherwise, read after a watermark) are rechecked for upgrades; (2)
   * what is due (evaluations, downgrades after grace, ended assignments) is done. Each member in a transaction of
   * its own, so a run may stop anywhere and run again.
   */
  async evaluateTenant(db: Db, tenantId: string, batch = 500): Promise<{ rechecked: number; due: number }> {
    const rules = await this.rules(db, tenantId);
    if (rules.tiers.length === 0) return { rechecked: 0, due: 0 };
    let rechecked = 0;
    const kind = rules.settings.metric === 'points' ? 'ledger' : 'transactions';
    // Rows of transactions still running when the cursor passed them commit later with smaller ids: every run
    // starts a little behind the cursor (a recheck is harmless to repeat).
    const cursor = await store.getCursor(db, tenantId, kind);
    let after = cursor ? uuidV7Floor(cursor, RESCAN_MS) : null;
    let first: string | null = null;
    let moved = 0;
    for (;;) {
      const rows = kind === 'ledger'
        ? await this.deps.ledger.earningEntriesAfter(db, tenantId, after, batch)
        : await this.deps.transactions.memberOrdersAfter(db, tenantId, after, batch);
      if (rows.length === 0) break;
      first ??= rows[0]!.id;
      for (const memberId of [...new Set(rows.map((r) => r.member_id))]) {
        if (await db.tx((tx) => this.recheck(tx, tenantId, memberId, rules, { onlyOnChange: true }))) moved++;
        rechecked++;
      }
      after = rows[rows.length - 1]!.id;
      if (rows.length < batch) break;
    }
    // The cursor is written when a member moved or it would fall an hour behind: a run that changes nothing writes
    // nothing, and what it read is read again (read-only) by the next run at worst.
    if (after && first && (moved > 0 || uuidTime(after) - uuidTime(cursor ?? first) > CURSOR_LAG_MS)) {
      await store.saveCursor(db, tenantId, kind, after, this.deps.clock.now());
    }
    let due = 0;
    for (;;) {
      const members = await store.dueMembers(db, tenantId, this.deps.clock.now(), batch);
      if (members.length === 0) break;
      for (const memberId of members) await db.tx((tx) => this.processDue(tx, tenantId, memberId, rules));
      due += members.length;
      if (members.length < batch) break;
    }
    return { rechecked, due };
  }
}

/** How far behind its cursor each scan starts. */
const RESCAN_MS = 10 * 60_000;

/** How far behind what it has read the stored cursor may be. */
const CURSOR_LAG_MS = 3600_000;

/** The Unix milliseconds of a UUID v7. */
const uuidTime = (id: string): number => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

/** The smallest UUID v7 of the millisecond `ms` before the one of `id`. */
function uuidV7Floor(id: string, ms: number): string {
  const t = Math.max(0, uuidTime(id) - ms);
  const hex = t.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

export interface MemberTierView {
  member_id: string;
  tier: { id: string; code: string; name: string; names: Record<string, string>; rank: number; multiplier: number; benefits: store.Benefit[] } | null;
  source: StateRow['source'];
  since: string | null;
  valid_until: string | null;
  next_evaluation_at: string | null;
  pending_downgrade: { to: ReturnType<typeof ref>; at: string } | null;
  metric: TierSettings['metric'];
  figure: number;
  window: { from: string | null; to: string };
  progress: {
    next: { tier: ReturnType<typeof ref>; threshold: number; remaining: number; by: string | null } | null;
    keep: { threshold: number; figure: number; remaining: number; by: string } | null;
  };
}
