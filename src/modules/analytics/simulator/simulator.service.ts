/**
 * What-if simulations (docs/analytics/simulator.md): a draft of earn rules, tier thresholds or expiry policy is checked
 * and queued (`create`, with the `analytics.simulate` job in the same transaction); the job replays the window's
 * orders through the draft and through the current configuration (`run`) and stores the result, which the API reads.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../../platform/db/db.js';
import { errors, type FieldError } from '../../../platform/errors.js';
import { isUuid, newId } from '../../../platform/ids.js';
import type { Jobs } from '../../../platform/jobs/jobs.js';
import { emit } from '../../../platform/outbox/outbox.js';
import { addDays, addMonths, fromLocal, toLocal, type LocalDateTime } from '../../programs/programs.policy.js';
import { normaliseExpiry, validateProgramPatch, type ProgramsService } from '../../programs/programs.service.js';
import type { ExpiryPolicy } from '../../programs/programs.types.js';
import type { RuleInput, RulesService } from '../../rules/rules.service.js';
import type { EarnRule } from '../../rules/rules.types.js';
import { toDefinition } from '../../rules/rules.validation.js';
import { proposalErrors, proposeRules, windowAt, type Metric, type TierSettings } from '../../tiers/tiers.policy.js';
import type { TierRow, TiersService } from '../../tiers/tiers.service.js';
import type { ReevaluationInput } from '../../tiers/tiers.schema.js';
import { CURVE_MONTHS, redemptionCurve, Replay, tierCounts, type ReplayResult } from './simulator.js';
import type { CreateSimulationInput } from './simulator.schema.js';
import * as store from './simulator.store.js';
import type { Figures, SimConfig, SimTier } from './simulator.types.js';

export const SIMULATE_JOB = 'analytics.simulate';

/** A run that has not finished this long after it started died with its process: the job's retry may take it over. */
export const STALE_RUN_SECONDS = 3600;

/** Orders read per keyset page. */
const BATCH = 2000;

/** The draft as stored and shown: the request's `draft`. */
export interface DraftInput {
  earn_rules?: RuleInput[];
  earn_rules_mode?: 'replace' | 'add';
  tiers?: ReevaluationInput;
  expiry?: Record<string, unknown>;
}

export interface SimulationView {
  id: string;
  status: store.SimulationStatus;
  months: number;
  period: { from: string; to: string };
  draft: DraftInput;
  progress: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const view = (r: store.SimulationRow): SimulationView => ({
  id: r.id, status: r.status, months: r.draft.months, period: { from: r.period_from, to: r.period_to }, draft: r.draft.draft as DraftInput,
  progress: r.progress, result: r.result, error: r.error, created_at: r.created_at, started_at: r.started_at, finished_at: r.finished_at,
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const prefixed = (prefix: string, errs: FieldError[]): FieldError[] =>
  errs.map((e) => ({ field: e.field === '(body)' ? prefix : `${prefix}.${e.field}`, detail: e.detail }));
const dateOf = (l: LocalDateTime) => `${String(l.year).padStart(4, '0')}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
const midnight = (date: string): LocalDateTime => {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return { year, month, day, hour: 0, minute: 0, second: 0, millisecond: 0 };
};
const monthsBefore = (at: Date, months: number, tz: string) => fromLocal(addMonths(toLocal(at, tz), -months), tz);

const simTier = (t: TierRow): SimTier => ({
  id: t.id, code: t.code, name: t.name, rank: t.rank, invitation_only: t.invitation_only, entry_threshold: t.entry_threshold, keep_threshold: t.keep_threshold, multiplier: t.multiplier,
});

export class SimulatorService {
  constructor(private readonly deps: {
    clock: Clock;
    jobs: Pick<Jobs, 'enqueue' | 'nudge'>;
    programs: Pick<ProgramsService, 'get'>;
    rules: Pick<RulesService, 'transactionRulesAt' | 'checkCreate'>;
    tiers: Pick<TiersService, 'listTiers' | 'settings' | 'checkReevaluation'>;
    log?: Logger;
  }) {}

  // ── Queueing ───────────────────────────────────────────────────────────────

  /**
   * What is wrong with a request's draft that needs no database, each field named from the body's root
   * (`draft.earn_rules[0].rate.points`, `draft.tiers.tiers[0].keep_threshold`, `draft.expiry.months`), by the rules,
   * tiers and programs modules' own checks.
   */
  checkCreate(body: unknown): FieldError[] {
    if (!isObject(body) || !isObject(body.draft)) return [];
    const draft = body.draft;
    const errs: FieldError[] = [];
    if (draft.earn_rules === undefined && draft.tiers === undefined && draft.expiry === undefined) {
      errs.push({ field: 'draft', detail: 'must hold at least one of earn_rules, tiers and expiry' });
    }
    if (draft.earn_rules_mode !== undefined && draft.earn_rules === undefined) {
      errs.push({ field: 'draft.earn_rules_mode', detail: 'goes with earn_rules' });
    }
    if (Array.isArray(draft.earn_rules)) {
      draft.earn_rules.forEach((rule, i) => {
        const at = `draft.earn_rules[${i}]`;
        errs.push(...prefixed(at, this.deps.rules.checkCreate(rule)));
        if (isObject(rule) && rule.kind === 'event') {
          errs.push({ field: `${at}.kind`, detail: 'event rules (action bonuses) are not replayed: the simulator replays orders; use base, multiplier or bonus' });
        }
      });
    }
    if (draft.tiers !== undefined) errs.push(...prefixed('draft.tiers', this.deps.tiers.checkReevaluation(draft.tiers)));
    if (draft.expiry !== undefined) errs.push(...prefixed('draft', validateProgramPatch({ expiry: draft.expiry })));
    return errs;
  }

  /** The tier part of a draft against the tiers the program has now: known tiers, unique ranks, keep at most entry. */
  private async tierDraft(q: Queryable, tenantId: string, changes: ReevaluationInput, now: Date) {
    const tiers = await this.deps.tiers.listTiers(q, tenantId);
    const settings = await this.deps.tiers.settings(q, tenantId);
    const proposal = proposeRules({ settings, tiers }, changes, now);
    // As POST /v1/tier-reevaluations names them: the changed tier's field, a setting, or (a tier the draft leaves as it
    // is, whose rank a changed one takes) the list of tiers.
    const fieldOf = (id: string, field: string) => {
      const i = (changes.tiers ?? []).findIndex((c) => c.id === id);
      return i >= 0 ? `draft.tiers.tiers[${i}].${field}` : id === '' ? `draft.tiers.settings.${field}` : 'draft.tiers.tiers';
    };
    const errs = [...prefixed('draft.tiers', proposal.unknown), ...(proposal.unknown.length ? [] : proposalErrors(proposal, fieldOf))];
    return { current: { settings, tiers }, proposal, errs };
  }

  /** Records a simulation and queues its job, in the caller's transaction. */
  async create(tx: Tx, tenantId: string, input: CreateSimulationInput): Promise<SimulationView> {
    const errs = this.checkCreate(input);
    const now = this.deps.clock.now();
    // Against the tiers the program has: only a draft whose shape is right (the route has checked it already).
    if (errs.length === 0 && input.draft.tiers) errs.push(...(await this.tierDraft(tx, tenantId, input.draft.tiers, now)).errs);
    if (errs.length) throw errors.validation(errs);
    const program = await this.deps.programs.get(tx, tenantId);
    const today = toLocal(now, program.time_zone);
    const row = await store.insertSimulation(tx, tenantId, {
      id: newId(), draft: { months: input.months, draft: input.draft as Record<string, unknown> },
      period_from: dateOf(addDays(addMonths(today, -input.months), 1)), period_to: dateOf(today), progress: { phase: 'queued' }, created_at: now,
    });
    await this.deps.jobs.enqueue(SIMULATE_JOB, { tenant_id: tenantId, simulation_id: row.id }, { tx });
    await emit(tx, {
      tenantId, type: 'analytics_simulation.created', aggregateType: 'analytics_simulation', aggregateId: row.id, occurredAt: now,
      payload: { simulation_id: row.id, months: input.months, parts: ['earn_rules', 'tiers', 'expiry'].filter((k) => (input.draft as Record<string, unknown>)[k] !== undefined) },
    });
    return view(row);
  }

  /** Wakes this process's worker after the transaction that queued a simulation committed. */
  nudge(): void {
    this.deps.jobs.nudge(SIMULATE_JOB);
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<SimulationView> {
    const row = isUuid(id) ? await store.getSimulation(q, tenantId, id) : null;
    if (!row) throw errors.notFound('simulation', id);
    return view(row);
  }

  async list(q: Queryable, tenantId: string, beforeId: string | undefined, limit: number): Promise<SimulationView[]> {
    return (await store.listSimulations(q, tenantId, beforeId, limit)).map(view);
  }

  // ── Running (the analytics.simulate job) ─────────────────────────────────────

  /**
   * Replays a queued simulation and stores its result (or why it failed). Null when there was nothing to do: another
   * run has it, or it is done (a job delivered twice replays once).
   */
  async run(db: Db, tenantId: string, id: string): Promise<store.SimulationStatus | null> {
    const now = this.deps.clock.now();
    const row = isUuid(id) ? await store.claimSimulation(db, tenantId, id, now, new Date(now.getTime() - STALE_RUN_SECONDS * 1000)) : null;
    if (!row) return null;
    let outcome: { status: 'succeeded'; result: unknown; error: null } | { status: 'failed'; result: null; error: string };
    try {
      outcome = { status: 'succeeded', result: await this.replay(db, tenantId, row), error: null };
    } catch (err) {
      this.deps.log?.error({ err, tenant_id: tenantId, simulation_id: id }, 'simulation failed');
      const fields = (err as { errors?: FieldError[] }).errors ?? [];
      const detail = (err as Error).message + (fields.length ? ` (${fields.map((f) => `${f.field}: ${f.detail}`).join('; ')})` : '');
      outcome = { status: 'failed', result: null, error: detail };
    }
    const at = this.deps.clock.now();
    await db.tx(async (tx) => {
      const progress = { ...row.progress, ...(await store.getSimulation(tx, tenantId, id))?.progress, phase: 'done' };
      await store.finishSimulation(tx, tenantId, id, { ...outcome, progress, at });
      await emit(tx, {
        tenantId, type: `analytics_simulation.${outcome.status}`, aggregateType: 'analytics_simulation', aggregateId: id, occurredAt: at,
        payload: { simulation_id: id, status: outcome.status },
      });
    });
    return outcome.status;
  }

  private async replay(db: Db, tenantId: string, row: store.SimulationRow) {
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(db, tenantId);
    const tz = program.time_zone;
    const from = fromLocal(midnight(row.period_from), tz);
    const to = fromLocal(addDays(midnight(row.period_to), 1), tz);
    const draftIn = row.draft.draft as DraftInput;

    // The current configuration as it is now, and the draft over it.
    const currentRules = await this.deps.rules.transactionRulesAt(db, tenantId, now);
    const tiers = draftIn.tiers
      ? await this.tierDraft(db, tenantId, draftIn.tiers, now)
      : await this.tierDraft(db, tenantId, {}, now);
    if (tiers.errs.length) throw errors.validation(tiers.errs);
    const draftRules: EarnRule[] = (draftIn.earn_rules ?? []).map((r, i) => toDefinition(`draft-rule-${i + 1}`, 1, r) as EarnRule);
    const current: SimConfig = { rules: currentRules, tiers: tiers.current.tiers.map(simTier), tierSettings: tiers.current.settings, expiry: program.expiry };
    const draft: SimConfig = {
      rules: draftIn.earn_rules === undefined ? currentRules : draftIn.earn_rules_mode === 'add' ? [...currentRules, ...draftRules] : draftRules,
      tiers: tiers.proposal.tiers.map(simTier),
      tierSettings: tiers.proposal.settings,
      expiry: draftIn.expiry ? normaliseExpiry(draftIn.expiry as unknown as ExpiryPolicy) : program.expiry,
    };

    // Observed redemption behaviour, as of the window's end.
    const data = await store.redemptionData(db, tenantId, to, monthsBefore(to, CURVE_MONTHS + 12, tz), monthsBefore(to, 12, tz), CURVE_MONTHS);
    const curve = redemptionCurve(data.issued, data.redeemed, data.flat);

    const replay = new Replay({
      from, to, curve, draft, current, actualExpiry: program.expiry,
      program: {
        time_zone: tz, currency: program.currency, pending_days: program.pending_days, excluded_categories: program.excluded_categories,
        non_earning_payment_methods: program.non_earning_payment_methods, point_cost: program.point_cost,
      },
    });
    const withTiers = current.tiers.length > 0 || draft.tiers.length > 0;
    for await (const m of store.memberStarts(db, tenantId, from, to, withTiers)) replay.member(m);
    for (const metric of replay.openingMetrics) {
      const { lookback, before } = this.lookback([current, draft], metric, from, tz);
      for await (const f of store.openingFigures(db, tenantId, metric, from, to, withTiers, lookback, before, tz)) replay.opening(f.member_id, f.metric, f.at, f.amount);
    }

    const total = await store.countOrders(db, tenantId, from, to);
    let done = 0;
    const progress = () => ({ phase: 'replaying', orders_done: done, orders_total: total, percent: total > 0 ? Math.round((1000 * done) / total) / 10 : 100 });
    await store.saveProgress(db, tenantId, row.id, progress());
    let after: store.OrderCursor | null = null;
    for (;;) {
      const page: Awaited<ReturnType<typeof store.ordersAfter>> = await store.ordersAfter(db, tenantId, from, to, after, BATCH);
      for (const o of page.orders) replay.order(o);
      done += page.orders.length;
      if (page.orders.length < BATCH) break;
      after = page.next;
      await store.saveProgress(db, tenantId, row.id, progress());
    }
    await store.saveProgress(db, tenantId, row.id, { ...progress(), phase: 'finishing' });

    const members = await store.countMembers(db, tenantId);
    const out = replay.finish(members);
    const heldNow = await store.tiersHeldNow(db, tenantId);
    const withRow = heldNow.reduce((s, h) => s + h.members, 0);
    const actual: Figures = { ...out.actual, members_per_tier: current.tiers.length > 0 ? tierCounts(current.tiers, heldNow, Math.max(0, members - withRow)) : null };
    return this.result(row, program, curve, out, actual);
  }

  /**
   * How far back the figures before the window are needed, over the configurations whose tiers use `metric`: a
   * rolling window's months, a calendar year's start (an evaluation on 1 January judges the year before), and all
   * of it (`before`) for a lifetime window.
   */
  private lookback(configs: SimConfig[], metric: Metric, from: Date, tz: string): { lookback: Date; before: boolean } {
    let lookback = from;
    let before = false;
    for (const c of configs) {
      if (c.tiers.length === 0 || c.tierSettings.metric !== metric) continue;
      const s: TierSettings = c.tierSettings;
      if (s.window === 'lifetime') before = true;
      else {
        const start = windowAt(s, from, tz).from!;
        if (start < lookback) lookback = start;
      }
    }
    return { lookback, before };
  }

  private result(row: store.SimulationRow, program: Awaited<ReturnType<ProgramsService['get']>>, curve: ReturnType<typeof redemptionCurve>, out: ReplayResult, actual: Figures) {
    const diff = (a: Figures, b: Figures) => ({
      points_issued: a.points.issued - b.points.issued,
      points_clawed_back: a.points.clawed_back - b.points.clawed_back,
      points_net: a.points.net - b.points.net,
      expected_redemptions: a.expected_redemptions - b.expected_redemptions,
      expired: a.expired - b.expired,
      outstanding: a.outstanding - b.outstanding,
      expected_future_redemptions: a.expected_future_redemptions - b.expected_future_redemptions,
      liability: { amount: a.liability.amount - b.liability.amount, currency: a.liability.currency },
      members_per_tier: a.members_per_tier && b.members_per_tier
        ? [...new Set([...a.members_per_tier, ...b.members_per_tier].map((t) => t.tier))].map((tier) => ({
          tier, members: (a.members_per_tier!.find((t) => t.tier === tier)?.members ?? 0) - (b.members_per_tier!.find((t) => t.tier === tier)?.members ?? 0),
        }))
        : null,
    });
    const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
    return {
      window: { from: row.period_from, to: row.period_to, time_zone: program.time_zone, currency: program.currency },
      replayed: out.counts,
      redemption_model: {
        method: curve.method, curve: curve.cumulative.map(round4), historical_redemption_rate: round4(curve.flat_rate),
        redeemed_12m: curve.redeemed_12m, issued_12m: curve.issued_12m, lots_points: curve.lots_points,
      },
      point_cost: { ...program.point_cost, currency: program.currency },
      draft: out.draft,
      current: out.current,
      actual,
      difference: { vs_current: diff(out.draft, out.current), vs_actual: diff(out.draft, actual) },
    };
  }
}
