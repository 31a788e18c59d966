/**
 * Campaigns: time-boxed promotions on top of the earn rules (docs/program/campaigns.md).
 *
 * A campaign reacts to orders (OrderHook: points_multiplier, category_bonus, extra_stamp) and action events (EventHook:
 * action_bonus) inside their transaction, with the member's book already locked. An extra_stamp award puts stamps on
 * a stamp card through StampCardsService on that book (its hook runs before this one, so the order's own stamps are
 * known). A points award is a separate `earn`
 * entry (source_type 'campaign') with the order's pending and expiry dates. The award's id is the entry's
 * `transaction_id`, so the lots it made are "its own lots": a return claws back from them first, and the ledger's
 * invariant "never take back more than was earned" holds per award.
 *
 * Lock order: the member's book (taken by the order or event), then the member's campaign_members row, then the
 * campaign's budget row, then (rarely, on exhaustion) the campaign row. Nothing locks them the other way round.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import type { TenantCache, TenantConfig } from '../../platform/db/tenant-cache.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid, newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { EventHook, EventRecorded } from '../events/events.service.js';
import type { MemberBook } from '../ledger/ledger.service.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import { activatesAt, lotExpiresAt } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { Program } from '../programs/programs.types.js';
import type { StampCardsService } from '../stamp-cards/stamp-cards.service.js';
import { currencyExponent, localTime } from '../rules/rules.engine.js';
import { inAudience, logicError } from '../rules/rules.validation.js';
import type { MemberStanding, OrderHook, OrderVoided, PurchaseRecorded, ReturnRecorded, TransactionRow, TransactionsService } from '../transactions/transactions.service.js';
import { keptLinesOf } from '../transactions/transactions.service.js';
import type { Line } from '../transactions/transactions.store.js';
import { CAMPAIGN_KINDS, LIMITS, RFM_SEGMENT_KEYS, type CampaignStatus, type CreateCampaignInput, type UpdateCampaignInput } from './campaigns.schema.js';
import * as store from './campaigns.store.js';
import type { AwardRow, Baseline, CampaignDefinition, CampaignMemberRow, CampaignRow, GroupBaseline } from './campaigns.store.js';

export type { AwardRow, CampaignRow } from './campaigns.store.js';

const ORDER_KINDS = ['points_multiplier', 'category_bonus', 'extra_stamp'] as const;
const DAY_MS = 86_400_000;
const LIVE: readonly CampaignStatus[] = ['scheduled', 'running', 'budget_exhausted'];
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');
/** Members per batch when the launch job assigns the base, and member ids per activity query. */
const ASSIGN_BATCH = 1000;
const ACTIVITY_BATCH = 5000;

const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** extra_stamp gives stamps; the other kinds give points. The award rows' wanted/points/kept count that unit. */
const unitOf = (kind: string): 'points' | 'stamps' => (kind === 'extra_stamp' ? 'stamps' : 'points');
const EVENT_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * Where in [0, 1) the member falls for this campaign: the first 8 bytes of SHA-256(campaign id ":" member id) as an
 * unsigned integer, of which the top 53 bits make an exact double. Below control_share = control group.
 */
export function controlDraw(campaignId: string, memberId: string): number {
  const h = createHash('sha256').update(`${campaignId}:${memberId}`).digest();
  return Number(h.readBigUInt64BE(0) >> 11n) / 2 ** 53;
}

/** A member's analytics as an audience sees it: their RFM segment and whether they are on the at-risk list. */
export interface MemberTargets { segment: string | null; at_risk: boolean }

/**
 * Where the analytics conditions (rfm_segments, at_risk) come from: the analytics module's read of the newest
 * published run (analytics/at-risk/targets.ts, wired in app.ts), so campaigns never read analytics tables. Null (or
 * absent from the map): no published run has scored the member. Without it every member is unscored.
 */
export interface AnalyticsTargets {
  /** One member (the order and event hooks): one primary-key read. */
  member(q: Queryable, tenantId: string, memberId: string): Promise<MemberTargets | null>;
  /** A batch of members (the launch job): one statement. */
  members(q: Queryable, tenantId: string, memberIds: string[]): Promise<Map<string, MemberTargets>>;
}

/** Whether a campaign has a condition on the member's analytics (only then are they read). */
const usesAnalytics = (c: Pick<CampaignRow, 'rfm_segments' | 'at_risk'>) => c.rfm_segments !== null || c.at_risk !== null;

export const groupOf = (c: Pick<CampaignRow, 'id' | 'control_share'>, memberId: string): 'treatment' | 'control' =>
  (c.control_share > 0 && controlDraw(c.id, memberId) < c.control_share ? 'control' : 'treatment');

/** The status as of `now`: the jobs move scheduled → running → ended at the minute, the view never lags. */
export function effectiveStatus(c: Pick<CampaignRow, 'status' | 'starts_at' | 'ends_at'>, now: Date): CampaignStatus {
  if (LIVE.includes(c.status) && now >= c.ends_at) return 'ended';
  if (c.status === 'scheduled' && now >= c.starts_at) return 'running';
  return c.status;
}

// ── Checks ──────────────────────────────────────────────────────────────────

function timestampError(v: unknown): string | null {
  if (typeof v !== 'string') return null; // the schema names it
  const at = Date.parse(v);
  if (Number.isNaN(at)) return 'must be a timestamp JavaScript can represent (no leap second)';
  if (at < EARLIEST) return 'must not be before 2000-01-01';
  return null;
}

function checkStrings(errs: FieldError[], field: string, v: unknown, required: boolean): void {
  if (v === undefined) {
    if (required) errs.push({ field, detail: 'is required' });
    return;
  }
  if (!Array.isArray(v) || v.length === 0 || v.length > LIMITS.listItems || v.some((x) => typeof x !== 'string' || x.length === 0 || x.length > LIMITS.listItemLength)) {
    errs.push({ field, detail: `must be a list of 1 to ${LIMITS.listItems} non-empty strings of at most ${LIMITS.listItemLength} characters` });
  }
}

const isInt = (v: unknown, min: number, max: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

/** Every problem of a kind's config, named `config.<field>`. */
export function configErrors(kind: unknown, config: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (!isObject(config)) return typeof kind === 'string' ? [{ field: 'config', detail: 'must be an object' }] : [];
  const known = (names: string[]) => {
    for (const k of Object.keys(config)) if (!names.includes(k)) errs.push({ field: `config.${k}`, detail: `is not a known field of ${kind}` });
  };
  switch (kind) {
    case 'points_multiplier': {
      known(['multiplier']);
      const m = config.multiplier;
      if (m === undefined) errs.push({ field: 'config.multiplier', detail: 'is required' });
      else if (typeof m !== 'number' || !Number.isFinite(m) || m <= 1 || m > LIMITS.multiplierMax) errs.push({ field: 'config.multiplier', detail: `must be a number above 1 and at most ${LIMITS.multiplierMax} (2 = double points)` });
      else if (Math.abs(m * 100 - Math.round(m * 100)) > 1e-9) errs.push({ field: 'config.multiplier', detail: 'must have at most 2 decimals' });
      break;
    }
    case 'category_bonus': {
      known(['categories', 'skus', 'rate', 'points']);
      if (config.categories === undefined && config.skus === undefined) errs.push({ field: 'config.categories', detail: 'name the categories and/or skus (config.skus) whose lines earn the bonus' });
      checkStrings(errs, 'config.categories', config.categories, false);
      checkStrings(errs, 'config.skus', config.skus, false);
      if ((config.rate === undefined) === (config.points === undefined)) {
        errs.push({ field: 'config.rate', detail: 'send rate ({points, per_units}: points per currency unit of the qualifying lines) or points (fixed per order), one of them' });
      } else if (config.rate !== undefined) {
        const r = config.rate;
        if (!isObject(r)) errs.push({ field: 'config.rate', detail: 'must be an object {points, per_units}' });
        else {
          for (const k of Object.keys(r)) if (k !== 'points' && k !== 'per_units') errs.push({ field: `config.rate.${k}`, detail: 'is not a known field' });
          if (!isInt(r.points, 1, LIMITS.points)) errs.push({ field: 'config.rate.points', detail: `must be an integer from 1 to ${LIMITS.points}` });
          if (!isInt(r.per_units, 1, LIMITS.rateUnits)) errs.push({ field: 'config.rate.per_units', detail: `must be an integer from 1 to ${LIMITS.rateUnits} (major currency units)` });
        }
      } else if (!isInt(config.points, 1, LIMITS.points)) errs.push({ field: 'config.points', detail: `must be an integer from 1 to ${LIMITS.points}` });
      break;
    }
    case 'action_bonus': {
      known(['event', 'points']);
      if (typeof config.event !== 'string' || !EVENT_NAME.test(config.event)) errs.push({ field: 'config.event', detail: 'must be an event name such as review_written (a lowercase letter, then up to 63 of a-z, 0-9, _ . -)' });
      if (!isInt(config.points, 1, LIMITS.points)) errs.push({ field: 'config.points', detail: `must be an integer from 1 to ${LIMITS.points}` });
      break;
    }
    case 'extra_stamp': {
      known(['stamp_card_type_id', 'stamps']);
      if (!isUuid(config.stamp_card_type_id)) errs.push({ field: 'config.stamp_card_type_id', detail: 'must be the id of a stamp card type (GET /v1/stamp-card-types)' });
      if (!isInt(config.stamps, 1, LIMITS.stampsMax)) errs.push({ field: 'config.stamps', detail: `must be an integer from 1 to ${LIMITS.stampsMax}: the extra stamps per qualifying order` });
      break;
    }
    default:
      break;
  }
  return errs;
}

/** Checks of a whole definition that need no database (the create body, or a draft merged with a change). */
export function definitionErrors(d: Record<string, any>): FieldError[] {
  const errs: FieldError[] = [];
  if (d.kind !== undefined && !(CAMPAIGN_KINDS as readonly string[]).includes(d.kind)) {
    errs.push({ field: 'kind', detail: `must be one of ${CAMPAIGN_KINDS.join(', ')}` });
  }
  if (d.kind !== undefined) errs.push(...configErrors(d.kind, d.config));
  for (const f of ['starts_at', 'ends_at']) {
    const e = timestampError(d[f]);
    if (e) errs.push({ field: f, detail: e });
  }
  const starts = typeof d.starts_at === 'string' ? Date.parse(d.starts_at) : d.starts_at instanceof Date ? d.starts_at.getTime() : NaN;
  const ends = typeof d.ends_at === 'string' ? Date.parse(d.ends_at) : d.ends_at instanceof Date ? d.ends_at.getTime() : NaN;
  if (!Number.isNaN(starts) && !Number.isNaN(ends)) {
    if (ends <= starts) errs.push({ field: 'ends_at', detail: 'must be after starts_at' });
    else if (ends - starts > LIMITS.maxDays * DAY_MS) errs.push({ field: 'ends_at', detail: `must be at most ${LIMITS.maxDays} days after starts_at` });
  }
  const c = isObject(d.conditions) ? d.conditions : {};
  if (d.kind === 'action_bonus') {
    for (const f of ['min_basket', 'channels']) if (c[f] !== undefined) errs.push({ field: `conditions.${f}`, detail: 'applies to orders only, not to an action_bonus' });
  }
  if (d.kind === 'extra_stamp') {
    // Budgets and the points limit count points; a stamp campaign gives none. It is bounded by its window and
    // max_awards_per_member (stamps per member = awards × config.stamps).
    if (d.budget !== undefined && d.budget !== null) errs.push({ field: 'budget', detail: 'an extra_stamp campaign gives stamps, not points: it takes no budget (bound it with ends_at and limits.max_awards_per_member)' });
    if (isObject(d.limits) && d.limits.max_points_per_member !== undefined) errs.push({ field: 'limits.max_points_per_member', detail: 'an extra_stamp campaign gives stamps, not points: use limits.max_awards_per_member' });
  }
  if (c.audience !== undefined && c.audience !== null) {
    const e = logicError(c.audience, 'member');
    if (e) errs.push({ field: 'conditions.audience', detail: e });
  }
  if (Array.isArray(c.rfm_segments)) {
    c.rfm_segments.forEach((v: unknown, i: number) => {
      if (!(RFM_SEGMENT_KEYS as readonly unknown[]).includes(v)) errs.push({ field: `conditions.rfm_segments[${i}]`, detail: `must be an RFM segment: ${RFM_SEGMENT_KEYS.join(', ')}` });
    });
  }
  if (typeof d.control_share === 'number' && Math.abs(d.control_share * 10_000 - Math.round(d.control_share * 10_000)) > 1e-9) {
    errs.push({ field: 'control_share', detail: 'must have at most 4 decimals' });
  }
  return errs;
}

// ── What a campaign gives ───────────────────────────────────────────────────

/** The net amount of lines (what was paid for them). */
const netOf = (lines: Line[]) => lines.reduce((s, l) => s + l.quantity * (l.unit_price ?? 0) - (l.discount ?? 0), 0);

/** A category bonus on a basket: the qualifying lines' net amount, scaled down when the order total is below the lines' sum. */
function categoryBonus(config: Record<string, any>, lines: Line[] | null, total: number, currency: string): number {
  if (!lines || lines.length === 0 || total <= 0) return 0;
  const cats: string[] = config.categories ?? [];
  const skus: string[] = config.skus ?? [];
  const qualifying = lines.filter((l) => l.quantity > 0 && ((l.category != null && cats.includes(l.category)) || skus.includes(l.sku)));
  if (qualifying.length === 0) return 0;
  if (config.points !== undefined) return config.points;
  const all = netOf(lines);
  let amount = BigInt(Math.max(0, netOf(qualifying)));
  if (all > total && all > 0) amount = (amount * BigInt(total)) / BigInt(all);
  const unit = 10n ** BigInt(currencyExponent(currency));
  return Number((amount * BigInt(config.rate.points)) / (BigInt(config.rate.per_units) * unit));
}

/** The extra points of a multiplier: the order's earning × (multiplier − 1), in hundredths to stay exact. */
const multiplierExtra = (config: Record<string, any>, points: number) =>
  Number((BigInt(Math.max(0, points)) * BigInt(Math.round(config.multiplier * 100) - 100)) / 100n);

/** What a campaign wants to give for a purchase (or for what is kept of it), before limits and budget. */
function wantedForOrder(c: CampaignRow, o: { total: number; lines: Line[] | null; currency: string; points: number }): number {
  if (c.min_basket !== null && o.total < c.min_basket) return 0;
  if (c.kind === 'points_multiplier') return multiplierExtra(c.config, o.points);
  if (c.kind === 'category_bonus') return categoryBonus(c.config, o.lines, o.total, o.currency);
  return 0;
}

export interface CampaignView {
  id: string; name: string; description: string | null; kind: string; config: Record<string, unknown>;
  starts_at: Date; ends_at: Date; status: CampaignStatus;
  conditions: {
    min_basket: number | null; channels: string[] | null; days_of_week: number[] | null; audience: Record<string, unknown> | null; tier_codes: string[] | null;
    rfm_segments: string[] | null; at_risk: boolean | null;
  };
  budget: { points: number | null; amount: number | null; currency: string | null } | null;
  limits: { max_awards_per_member: number | null; max_points_per_member: number | null };
  control_share: number; baseline_days: number; baseline: Baseline | null;
  spend: { unit: 'points' | 'stamps'; spent: number; remaining: number | null; awards: number; held_out: number; members_reached: number; members: { treatment: number; control: number } };
  base_assigned_at: Date | null; launched_at: Date | null; started_at: Date | null; ended_at: Date | null; cancelled_at: Date | null;
  created_at: Date; updated_at: Date;
}

interface GroupResult {
  members: number; purchasing_members: number; orders: number; spend: number; points_awarded: number;
  purchase_rate: number | null; orders_per_member: number | null; spend_per_member: number | null;
}

export interface CampaignResults {
  campaign_id: string; from: Date; to: Date; currency: string; unit: 'points' | 'stamps';
  treatment: GroupResult; control: GroupResult;
  lift: { purchase_rate: number | null; orders_per_member: number | null; spend_per_member: number | null };
}

interface Award {
  source_type: 'transaction' | 'event';
  source_id: string;
  wanted: number;
  occurred_at: Date;
  activates_at: Date | null;
  expires_at: Date | null;
  reason: string;
}

export class CampaignsService {
  /** The launched campaigns per tenant: every order and event reads them; launch and cancel announce a change. */
  private readonly launched: TenantCache<CampaignRow[]> | null;
  /** Where the member's tier comes from (the tiers module); without one every member's tier is null. */
  private readonly standing: MemberStanding;
  /** Where the member's segment and risk come from (the analytics module); without it no member is scored. */
  private readonly targets: AnalyticsTargets;

  constructor(private readonly deps: {
    clock: Clock; programs: ProgramsService; members: MembersService; transactions: TransactionsService; stampCards: StampCardsService;
    standing?: MemberStanding; targets?: AnalyticsTargets; config?: TenantConfig;
  }) {
    this.launched = deps.config?.cache<CampaignRow[]>() ?? null;
    this.standing = deps.standing ?? (async () => ({ tier: null }));
    this.targets = deps.targets ?? { member: async () => null, members: async () => new Map() };
  }

  /**
   * Launched, not cancelled campaigns of these kinds whose window holds `at`. A cached row's status may lag (a
   * budget exhausted, a campaign ended): awarding reads the budget row, never the status, so only launch and
   * cancel need to reach every process (TenantConfig.changed).
   */
  private async campaignsAt(q: Queryable, tenantId: string, kinds: readonly string[], at: Date): Promise<CampaignRow[]> {
    const load = () => store.launchedCampaigns(q, tenantId);
    const all = this.launched ? await this.launched.get(tenantId, load) : await load();
    return all.filter((c) => kinds.includes(c.kind) && c.starts_at <= at && at < c.ends_at);
  }

  // ── Definition ────────────────────────────────────────────────────────────

  checkCreate(body: unknown): FieldError[] {
    return isObject(body) ? definitionErrors(body) : [];
  }

  /**
   * The checks of a change body that need no lock: the config is judged by the kind sent, else by the campaign's
   * current kind (`currentKind`, read by the route; null when there is no such campaign: the write answers 404).
   */
  checkPatch(body: unknown, currentKind: string | null): FieldError[] {
    if (!isObject(body)) return [];
    const kind = body.kind ?? currentKind ?? undefined;
    const errs = definitionErrors({ ...body, kind });
    return body.config === undefined && body.kind === undefined ? errs.filter((e) => !e.field.startsWith('config')) : errs;
  }

  /** The kind of a campaign, or null (the PATCH route's body check). */
  async kindOf(q: Queryable, tenantId: string, id: string): Promise<string | null> {
    const row = isUuid(id) ? await store.getCampaign(q, tenantId, id) : null;
    return row?.kind ?? null;
  }

  private toDefinition(i: CreateCampaignInput): CampaignDefinition {
    const c = i.conditions ?? {};
    const b = i.budget ?? null;
    return {
      name: i.name,
      description: i.description ?? null,
      kind: i.kind,
      config: i.config,
      starts_at: new Date(i.starts_at),
      ends_at: new Date(i.ends_at),
      min_basket: c.min_basket ?? null,
      channels: c.channels ?? null,
      days_of_week: c.days_of_week ? [...c.days_of_week].sort() : null,
      audience: c.audience ?? null,
      tier_codes: c.tier_codes ?? null,
      rfm_segments: c.rfm_segments ?? null,
      at_risk: c.at_risk ?? null,
      budget_points: b && 'points' in b ? b.points : null,
      budget_money: b && 'amount' in b ? b.amount : null,
      budget_currency: b && 'amount' in b ? b.currency : null,
      max_awards_per_member: i.limits?.max_awards_per_member ?? null,
      max_points_per_member: i.limits?.max_points_per_member ?? null,
      control_share: Math.round((i.control_share ?? 0) * 10_000) / 10_000,
      baseline_days: i.baseline_days ?? 90,
    };
  }

  /** The input a stored definition came from (a draft's change is merged into it). */
  private toInput(c: CampaignRow): CreateCampaignInput {
    const conditions: Record<string, unknown> = {};
    if (c.min_basket !== null) conditions.min_basket = c.min_basket;
    if (c.channels !== null) conditions.channels = c.channels;
    if (c.days_of_week !== null) conditions.days_of_week = c.days_of_week;
    if (c.audience !== null) conditions.audience = c.audience;
    if (c.tier_codes !== null) conditions.tier_codes = c.tier_codes;
    if (c.rfm_segments !== null) conditions.rfm_segments = c.rfm_segments;
    if (c.at_risk !== null) conditions.at_risk = c.at_risk;
    const limits: Record<string, number> = {};
    if (c.max_awards_per_member !== null) limits.max_awards_per_member = c.max_awards_per_member;
    if (c.max_points_per_member !== null) limits.max_points_per_member = c.max_points_per_member;
    return {
      name: c.name, description: c.description, kind: c.kind as CreateCampaignInput['kind'], config: c.config,
      starts_at: c.starts_at.toISOString(), ends_at: c.ends_at.toISOString(), conditions, limits,
      budget: c.budget_points !== null ? { points: c.budget_points } : c.budget_money !== null ? { amount: c.budget_money, currency: c.budget_currency! } : null,
      control_share: c.control_share, baseline_days: c.baseline_days,
    };
  }

  private budgetErrors(d: CampaignDefinition, program: Program): FieldError[] {
    if (d.budget_currency !== null && d.budget_currency !== program.currency) return [{ field: 'budget.currency', detail: `must be the program's currency, ${program.currency}` }];
    return [];
  }

  /**
   * An extra_stamp campaign's card type: unknown is bad input (400), archived a state the campaign cannot run in (422).
   * Checked on create, change and launch; archived later, the card stamps no order and the campaign gives nothing.
   */
  private async checkStampCard(q: Queryable, tenantId: string, d: Pick<CampaignDefinition, 'kind' | 'config'>): Promise<void> {
    if (d.kind !== 'extra_stamp') return;
    const field = 'config.stamp_card_type_id';
    const type = await this.deps.stampCards.findType(q, tenantId, d.config.stamp_card_type_id as string);
    if (!type) throw errors.validation([{ field, detail: 'is not a stamp card type of this tenant' }]);
    if (type.status !== 'active') throw errors.unprocessable(`Stamp card type ${type.id} is ${type.status}: a campaign cannot stamp it.`, [{ field, detail: `the stamp card type is ${type.status}` }]);
  }

  async create(tx: Tx, tenantId: string, input: CreateCampaignInput, actor: string | null): Promise<CampaignView> {
    const errs = definitionErrors(input);
    const d = errs.length ? null : this.toDefinition(input);
    const program = await this.deps.programs.get(tx, tenantId);
    if (d) errs.push(...this.budgetErrors(d, program));
    if (errs.length || !d) throw errors.validation(errs);
    await this.checkStampCard(tx, tenantId, d);
    const now = this.deps.clock.now();
    const row = await store.insertCampaign(tx, tenantId, newId(), d, actor, now);
    await this.emitCampaign(tx, tenantId, 'campaign.created', row, now, { kind: row.kind, starts_at: row.starts_at.toISOString(), ends_at: row.ends_at.toISOString() });
    return this.view(tx, tenantId, row);
  }

  async update(tx: Tx, tenantId: string, id: string, patch: UpdateCampaignInput): Promise<CampaignView> {
    const current = await this.lock(tx, tenantId, id);
    if (current.status !== 'draft') throw errors.unprocessable(`Only a draft campaign can be changed; this one is ${current.status}.`, [{ field: '(body)', detail: `the campaign is ${current.status}` }]);
    const merged = { ...this.toInput(current), ...patch } as CreateCampaignInput;
    // A new kind needs its own config.
    if (patch.kind !== undefined && patch.kind !== current.kind && patch.config === undefined) {
      throw errors.validation([{ field: 'config', detail: `is required when kind changes (to ${patch.kind})` }]);
    }
    const errs = definitionErrors(merged);
    const d = errs.length ? null : this.toDefinition(merged);
    if (d) errs.push(...this.budgetErrors(d, await this.deps.programs.get(tx, tenantId)));
    if (errs.length || !d) throw errors.validation(errs);
    await this.checkStampCard(tx, tenantId, d);
    const now = this.deps.clock.now();
    const row = await store.updateDefinition(tx, tenantId, id, d, now);
    await this.emitCampaign(tx, tenantId, 'campaign.updated', row, now, { changed: Object.keys(patch) });
    return this.view(tx, tenantId, row);
  }

  private async lock(tx: Queryable, tenantId: string, id: string): Promise<CampaignRow> {
    const row = isUuid(id) ? await store.getCampaign(tx, tenantId, id, true) : null;
    if (!row) throw errors.notFound('campaign', id);
    return row;
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<CampaignView> {
    const row = isUuid(id) ? await store.getCampaign(q, tenantId, id) : null;
    if (!row) throw errors.notFound('campaign', id);
    return this.view(q, tenantId, row);
  }

  async list(q: Queryable, tenantId: string, f: Parameters<typeof store.listCampaigns>[2]): Promise<Array<CampaignView & { id: string }>> {
    const rows = await store.listCampaigns(q, tenantId, f);
    const out: CampaignView[] = [];
    for (const r of rows) out.push(await this.view(q, tenantId, r));
    return out;
  }

  private async view(q: Queryable, tenantId: string, c: CampaignRow): Promise<CampaignView> {
    // One after the other: q may be a transaction's single connection.
    const stats = await store.awardStats(q, tenantId, c.id);
    const counts = await store.groupCounts(q, tenantId, c.id);
    const budget = await store.getBudget(q, tenantId, c.id);
    const hasBudget = c.budget_points !== null || c.budget_money !== null;
    return {
      id: c.id, name: c.name, description: c.description, kind: c.kind, config: c.config, starts_at: c.starts_at, ends_at: c.ends_at,
      status: effectiveStatus(c, this.deps.clock.now()),
      conditions: {
        min_basket: c.min_basket, channels: c.channels, days_of_week: c.days_of_week, audience: c.audience, tier_codes: c.tier_codes,
        rfm_segments: c.rfm_segments, at_risk: c.at_risk,
      },
      budget: hasBudget ? { points: c.budget_points, amount: c.budget_money, currency: c.budget_currency } : null,
      limits: { max_awards_per_member: c.max_awards_per_member, max_points_per_member: c.max_points_per_member },
      control_share: c.control_share, baseline_days: c.baseline_days, baseline: c.baseline,
      spend: {
        unit: unitOf(c.kind),
        spent: budget ? budget.spent : stats.kept,
        remaining: budget ? budget.budget - budget.spent : (c.budget_points ?? null),
        awards: stats.awards, held_out: stats.held_out, members_reached: stats.members_reached, members: counts,
      },
      base_assigned_at: c.base_assigned_at, launched_at: c.launched_at, started_at: c.started_at, ended_at: c.ended_at, cancelled_at: c.cancelled_at,
      created_at: c.created_at, updated_at: c.updated_at,
    };
  }

  private emitCampaign(tx: Queryable, tenantId: string, type: string, c: CampaignRow, now: Date, payload: Record<string, unknown> = {}) {
    return emit(tx, { tenantId, type, aggregateType: 'campaign', aggregateId: c.id, occurredAt: now, payload: { campaign_id: c.id, ...payload } });
  }

  // ── Life cycle ────────────────────────────────────────────────────────────

  /**
   * Launches a draft: scheduled until starts_at, then running. A money budget becomes points at the program's
   * points_value now (floor). The campaigns.launch job then assigns the eligible base and records the baseline.
   */
  async launch(tx: Tx, tenantId: string, id: string): Promise<CampaignView> {
    const c = await this.lock(tx, tenantId, id);
    if (c.status !== 'draft') throw errors.unprocessable(`The campaign is already ${c.status}; only a draft can be launched.`);
    const now = this.deps.clock.now();
    if (c.ends_at <= now) throw errors.unprocessable('The campaign ends before now: change ends_at first.', [{ field: 'ends_at', detail: 'is in the past' }]);
    await this.checkStampCard(tx, tenantId, c);
    const program = await this.deps.programs.get(tx, tenantId);
    let budget = c.budget_points;
    if (c.budget_money !== null) {
      if (c.budget_currency !== program.currency) throw errors.unprocessable(`The budget is in ${c.budget_currency}, the program in ${program.currency}.`, [{ field: 'budget.currency', detail: `must be ${program.currency}` }]);
      budget = Number((BigInt(c.budget_money) * BigInt(program.points_value.points)) / BigInt(program.points_value.amount));
      if (budget < 1) throw errors.unprocessable('The money budget is worth less than one point at the program\'s points_value.', [{ field: 'budget.amount', detail: 'is worth no points' }]);
    }
    const running = c.starts_at <= now;
    const row = await store.setStatus(tx, tenantId, id, running ? 'running' : 'scheduled', now, { launched_at: now, ...(running ? { started_at: now } : {}), budget_points: budget });
    if (budget !== null) await store.insertBudget(tx, tenantId, id, budget, now);
    await this.deps.config?.changed(tx, tenantId);
    await this.emitCampaign(tx, tenantId, 'campaign.launched', row, now, {
      kind: row.kind, status: row.status, starts_at: row.starts_at.toISOString(), ends_at: row.ends_at.toISOString(), budget_points: budget, control_share: row.control_share,
    });
    if (running) await this.emitCampaign(tx, tenantId, 'campaign.started', row, now);
    return this.view(tx, tenantId, row);
  }

  /** Cancels a campaign: nothing more is awarded (what was awarded stays). Cancelling again answers the same. */
  async cancel(tx: Tx, tenantId: string, id: string, reason: string | undefined): Promise<CampaignView> {
    const c = await this.lock(tx, tenantId, id);
    if (c.status === 'cancelled') return this.view(tx, tenantId, c);
    const now = this.deps.clock.now();
    if (effectiveStatus(c, now) === 'ended') throw errors.unprocessable('The campaign has ended; there is nothing left to cancel.');
    const row = await store.setStatus(tx, tenantId, id, 'cancelled', now, { cancelled_at: now });
    await this.deps.config?.changed(tx, tenantId);
    await this.emitCampaign(tx, tenantId, 'campaign.cancelled', row, now, { reason: reason ?? null, was: c.status });
    return this.view(tx, tenantId, row);
  }

  /** The jobs' clock work for one tenant: scheduled campaigns start, campaigns past ends_at end. */
  async advance(db: Db, tenantId: string): Promise<{ started: number; ended: number }> {
    const now = this.deps.clock.now();
    let started = 0;
    let ended = 0;
    for (const c of await store.dueCampaigns(db, tenantId, now)) {
      await db.tx(async (tx) => {
        if (c.ends_at <= now) {
          const row = await store.transition(tx, tenantId, c.id, LIVE, 'ended', now, 'ended_at');
          if (!row) return;
          const stats = await store.awardStats(tx, tenantId, c.id);
          await this.emitCampaign(tx, tenantId, 'campaign.ended', row, now, { points_kept: stats.kept, awards: stats.awards, members_reached: stats.members_reached });
          ended++;
        } else {
          const row = await store.transition(tx, tenantId, c.id, ['scheduled'], 'running', now, 'started_at');
          if (!row) return;
          await this.emitCampaign(tx, tenantId, 'campaign.started', row, now);
          started++;
        }
      });
    }
    return { started, ended };
  }

  /**
   * The launch job for one tenant: every launched campaign whose base is not assigned yet gets each eligible active
   * member assigned to a group (in batches that commit on their own; a rerun skips who is assigned), then the
   * baseline of both groups over the baseline_days before launch, in the transaction that marks the base assigned.
   */
  async assignBases(db: Db, tenantId: string): Promise<{ campaigns: number; assigned: number }> {
    let assigned = 0;
    const toAssign = await store.campaignsToAssign(db, tenantId);
    for (const c of toAssign) {
      let after: string | undefined;
      for (;;) {
        const members = await this.deps.members.list(db, tenantId, { status: 'active', afterId: after, limit: ASSIGN_BATCH });
        if (members.length === 0) break;
        after = members[members.length - 1]!.id;
        const rows: Array<{ member_id: string; grp: string }> = [];
        // The batch's segments and risk in one statement, only for a campaign that asks for them.
        const targets = usesAnalytics(c) ? await this.targets.members(db, tenantId, members.map((m) => m.id)) : null;
        for (const m of members) {
          const targetsOf = async () => targets?.get(m.id) ?? null;
          if (await this.eligible(c, m, () => this.standing(db, tenantId, m.id, c.launched_at!).then((s) => s.tier), targetsOf)) {
            rows.push({ member_id: m.id, grp: groupOf(c, m.id) });
          }
        }
        assigned += await db.tx((tx) => store.assignMembers(tx, tenantId, c.id, rows, this.deps.clock.now()));
        if (members.length < ASSIGN_BATCH) break;
      }
      const to = c.launched_at!;
      const from = new Date(to.getTime() - c.baseline_days * DAY_MS);
      const baseline: Baseline = { from: from.toISOString(), to: to.toISOString(), treatment: await this.baselineOf(db, tenantId, c.id, 'treatment', from, to), control: await this.baselineOf(db, tenantId, c.id, 'control', from, to) };
      await db.tx(async (tx) => {
        const now = this.deps.clock.now();
        if (await store.setBaseline(tx, tenantId, c.id, baseline, now)) {
          await this.emitCampaign(tx, tenantId, 'campaign.baseline_recorded', c, now, { treatment_members: baseline.treatment.members, control_members: baseline.control.members });
        }
      });
    }
    return { campaigns: toAssign.length, assigned };
  }

  /** A group's purchases over [from, to), a page of members at a time, summed. */
  private async activityOf(q: Queryable, tenantId: string, campaignId: string, grp: 'treatment' | 'control', from: Date, to: Date) {
    const total = { members: 0, purchasing: 0, orders: 0, spend: 0, points: 0 };
    let after: string | null = null;
    for (;;) {
      const ids = await store.groupMembers(q, tenantId, campaignId, grp, after, ACTIVITY_BATCH);
      if (ids.length === 0) break;
      after = ids[ids.length - 1]!;
      total.members += ids.length;
      const a = await this.deps.transactions.purchaseActivity(q, tenantId, ids, from, to);
      total.purchasing += a.members;
      total.orders += a.orders;
      total.spend += a.spend;
      total.points += a.points;
      if (ids.length < ACTIVITY_BATCH) break;
    }
    return total;
  }

  private async baselineOf(q: Queryable, tenantId: string, campaignId: string, grp: 'treatment' | 'control', from: Date, to: Date): Promise<GroupBaseline> {
    const a = await this.activityOf(q, tenantId, campaignId, grp, from, to);
    const per = (n: number) => (a.members > 0 ? Math.round((n / a.members) * 10_000) / 10_000 : 0);
    return { members: a.members, purchases_per_member: per(a.orders), spend_per_member: per(a.spend), points_per_member: per(a.points) };
  }

  // ── Reads ─────────────────────────────────────────────────────────────────

  /** What the campaigns hold about a member: their group in each campaign and their awards (GDPR export). */
  memberRecord(q: Queryable, tenantId: string, memberId: string, limit: number) {
    return store.memberRecord(q, tenantId, memberId, limit);
  }

  async awards(q: Queryable, tenantId: string, id: string, f: { memberId?: string; outcome?: string; beforeId?: string; limit: number }): Promise<AwardRow[]> {
    const c = isUuid(id) ? await store.getCampaign(q, tenantId, id) : null;
    if (!c) throw errors.notFound('campaign', id);
    return store.listAwards(q, tenantId, id, f);
  }

  /**
   * Treatment against control over the campaign so far: members, purchasing members, orders and spend (recorded
   * purchases that occurred in the window, net of returns), and the relative lift of the per-member figures. A
   * draft has no members yet: its results are zeros.
   */
  async results(q: Queryable, tenantId: string, id: string): Promise<CampaignResults> {
    const c = isUuid(id) ? await store.getCampaign(q, tenantId, id) : null;
    if (!c) throw errors.notFound('campaign', id);
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(q, tenantId);
    const end = Math.min(c.ends_at.getTime(), now.getTime(), c.cancelled_at?.getTime() ?? Infinity);
    const from = c.starts_at;
    const to = new Date(Math.max(end, from.getTime()));
    const stats = await store.awardStats(q, tenantId, id);
    const group = async (grp: 'treatment' | 'control'): Promise<GroupResult> => {
      const a = await this.activityOf(q, tenantId, id, grp, from, to);
      const rate = (n: number) => (a.members > 0 ? n / a.members : null);
      return {
        members: a.members, purchasing_members: a.purchasing, orders: a.orders, spend: a.spend, points_awarded: grp === 'treatment' ? stats.kept : 0,
        purchase_rate: rate(a.purchasing), orders_per_member: rate(a.orders), spend_per_member: rate(a.spend),
      };
    };
    const treatment = await group('treatment');
    const control = await group('control');
    const lift = (k: 'purchase_rate' | 'orders_per_member' | 'spend_per_member') => {
      const t = treatment[k];
      const ctl = control[k];
      return t === null || ctl === null || ctl === 0 ? null : Math.round(((t - ctl) / ctl) * 10_000) / 10_000;
    };
    return {
      campaign_id: id, from, to, currency: program.currency, unit: unitOf(c.kind), treatment, control,
      lift: { purchase_rate: lift('purchase_rate'), orders_per_member: lift('orders_per_member'), spend_per_member: lift('spend_per_member') },
    };
  }

  // ── Awarding ──────────────────────────────────────────────────────────────

  /**
   * Whether the member is in the campaign's audience: tier codes and the JSON Logic condition, then the analytics
   * conditions (RFM segment, at-risk list). `targetsOf` is read only when a campaign has an analytics condition and
   * the member passed the others, at most once per order or event (targetsOnce).
   */
  private async eligible(c: CampaignRow, member: Pick<MemberRow, 'attributes'>, tierOf: () => Promise<string | null>, targetsOf: () => Promise<MemberTargets | null>): Promise<boolean> {
    if (c.tier_codes !== null || c.audience !== null) {
      const tier = await tierOf();
      if (c.tier_codes !== null && (tier === null || !c.tier_codes.includes(tier))) return false;
      if (!inAudience(c.audience, { tier, attributes: member.attributes ?? {} })) return false;
    }
    if (!usesAnalytics(c)) return true;
    const t = await targetsOf();
    if (c.rfm_segments !== null && (t?.segment == null || !c.rfm_segments.includes(t.segment))) return false;
    // A member no run has scored is not on the at-risk list.
    if (c.at_risk !== null && (t?.at_risk ?? false) !== c.at_risk) return false;
    return true;
  }

  /** The member's analytics, read at most once (one primary-key lookup) however many campaigns ask. */
  private targetsOnce(q: Queryable, tenantId: string, memberId: string): () => Promise<MemberTargets | null> {
    let read: Promise<MemberTargets | null> | null = null;
    return () => (read ??= this.targets.member(q, tenantId, memberId));
  }

  /** The day-of-week condition, in the tenant's time zone. */
  private onDay(c: CampaignRow, at: Date, program: Program): boolean {
    return c.days_of_week === null || c.days_of_week.includes(localTime(at.toISOString(), program.time_zone).day_of_week);
  }

  /** The order hook: what campaigns give for purchases, and take back on returns and voids. */
  orderHook(): OrderHook {
    return {
      name: 'campaigns',
      purchased: (tx, e) => this.purchased(tx, e),
      returned: (tx, e) => this.settle(tx, e, e.purchase, 'claw_back', `return ${e.return.external_id} of order ${e.purchase.external_id}`),
      voided: (tx, e) => this.settle(tx, e, e.purchase, 'reverse', `void of ${e.voided.type} ${e.voided.external_id}`),
    };
  }

  /** The event hook: action bonuses. */
  eventHook(): EventHook {
    return { name: 'campaigns', recorded: (tx, e) => this.recorded(tx, e) };
  }

  private async purchased(tx: Tx, e: PurchaseRecorded): Promise<void> {
    const t = e.transaction;
    const campaigns = await this.campaignsAt(tx, e.tenantId, ORDER_KINDS, t.occurred_at);
    if (campaigns.length === 0) return;
    let tier: Promise<string | null> | null = null;
    const tierOf = () => (tier ??= t.earning?.context ? Promise.resolve(t.earning.context.tier) : this.standing(tx, e.tenantId, e.member.id, t.occurred_at).then((s) => s.tier));
    const targetsOf = this.targetsOnce(tx, e.tenantId, e.member.id);
    for (const c of campaigns) {
      if (!(await this.eligible(c, e.member, tierOf, targetsOf))) continue;
      const cm = await store.seeMember(tx, e.tenantId, c.id, e.member.id, groupOf(c, e.member.id), this.deps.clock.now());
      if (c.channels !== null && (t.channel === null || !c.channels.includes(t.channel))) continue;
      if (!this.onDay(c, t.occurred_at, e.program)) continue;
      if (c.kind === 'extra_stamp') {
        const wanted = (await this.stampsWanted(tx, e.tenantId, c, t.id, t.total)) ? c.config.stamps as number : 0;
        if (wanted <= 0) continue;
        await this.award(tx, e.tenantId, e.book, c, cm, {
          source_type: 'transaction', source_id: t.id, wanted, occurred_at: t.occurred_at, activates_at: null, expires_at: null,
          reason: `campaign ${c.name} (${c.id}): order ${t.external_id}`,
        });
        continue;
      }
      const wanted = wantedForOrder(c, { total: t.total, lines: t.lines, currency: t.currency, points: t.earning?.points ?? 0 });
      if (wanted <= 0) continue;
      const earning = t.earning;
      await this.award(tx, e.tenantId, e.book, c, cm, {
        source_type: 'transaction', source_id: t.id, wanted, occurred_at: t.occurred_at,
        // The order's own dates when it earned points; otherwise what the program gives an earning at that time.
        activates_at: earning?.activates_at ? new Date(earning.activates_at) : activatesAt(e.program.pending_days, t.occurred_at),
        expires_at: earning?.expires_at ? new Date(earning.expires_at) : lotExpiresAt(e.program.expiry, t.occurred_at, e.program.time_zone),
        reason: `campaign ${c.name}: order ${t.external_id}`,
      });
    }
  }

  /**
   * Whether (what is kept of) an order earns an extra_stamp campaign's stamps: it reaches min_basket and holds at
   * least one stamp of its own on the campaign's card (read after the stamp cards' hook ran for this order, return or
   * void). "An extra stamp" is one more on a card the order stamped, never a stamp for an order the card refused.
   */
  private async stampsWanted(q: Queryable, tenantId: string, c: CampaignRow, purchaseId: string, total: number): Promise<boolean> {
    if (c.min_basket !== null && total < c.min_basket) return false;
    return (await this.deps.stampCards.purchaseStamps(q, tenantId, purchaseId, c.config.stamp_card_type_id as string)) > 0;
  }

  private async recorded(tx: Tx, e: EventRecorded): Promise<void> {
    const ev = e.event;
    const campaigns = (await this.campaignsAt(tx, e.tenantId, ['action_bonus'], ev.occurred_at)).filter((c) => c.config.event === ev.name);
    if (campaigns.length === 0) return;
    let tier: Promise<string | null> | null = null;
    const tierOf = () => (tier ??= this.standing(tx, e.tenantId, e.member.id, ev.occurred_at).then((s) => s.tier));
    const targetsOf = this.targetsOnce(tx, e.tenantId, e.member.id);
    for (const c of campaigns) {
      if (!(await this.eligible(c, e.member, tierOf, targetsOf))) continue;
      const cm = await store.seeMember(tx, e.tenantId, c.id, e.member.id, groupOf(c, e.member.id), this.deps.clock.now());
      if (!this.onDay(c, ev.occurred_at, e.program)) continue;
      await this.award(tx, e.tenantId, e.book, c, cm, {
        source_type: 'event', source_id: ev.id, wanted: c.config.points, occurred_at: ev.occurred_at,
        activates_at: activatesAt(e.program.pending_days, ev.occurred_at),
        expires_at: lotExpiresAt(e.program.expiry, ev.occurred_at, e.program.time_zone),
        reason: `campaign ${c.name}: ${ev.name}${ev.external_id ? ` ${ev.external_id}` : ''}`,
      });
    }
  }

  /**
   * One qualifying order or event of an eligible member: control members are held out; the member's limits cut
   * the award; then the budget (under its row lock) gives what is left of it. The award that empties the budget
   * marks the campaign budget_exhausted and emits campaign.budget_exhausted, once.
   */
  private async award(tx: Tx, tenantId: string, book: MemberBook, c: CampaignRow, cm: CampaignMemberRow, a: Award): Promise<void> {
    const now = this.deps.clock.now();
    const id = newId();
    const base = { id, campaign_id: c.id, member_id: cm.member_id, source_type: a.source_type, source_id: a.source_id, wanted: a.wanted, activates_at: a.activates_at, expires_at: a.expires_at, occurred_at: a.occurred_at, created_at: now };
    const withhold = async (outcome: 'held_out' | 'member_limit' | 'budget_exhausted') => {
      await store.insertAward(tx, tenantId, { ...base, outcome, points: 0, kept: 0, cut_by: null });
      await emit(tx, {
        tenantId, type: 'campaign.award_withheld', aggregateType: 'campaign', aggregateId: c.id, memberId: cm.member_id, occurredAt: now,
        payload: { campaign_id: c.id, award_id: id, member_id: cm.member_id, source_type: a.source_type, source_id: a.source_id, outcome, wanted: a.wanted },
      });
    };
    if (cm.grp === 'control') return withhold('held_out');
    let give = a.wanted;
    let cut: 'budget' | 'member_limit' | null = null;
    if (c.max_awards_per_member !== null && cm.awards >= c.max_awards_per_member) return withhold('member_limit');
    if (c.max_points_per_member !== null) {
      const left = c.max_points_per_member - cm.points;
      if (left <= 0) return withhold('member_limit');
      if (give > left) {
        give = left;
        cut = 'member_limit';
      }
    }
    if (c.budget_points !== null) {
      const taken = await store.takeBudget(tx, tenantId, c.id, give, now);
      if (taken.exhaustedNow) await this.exhausted(tx, tenantId, c, taken.budget, now);
      if (taken.taken === 0) return withhold('budget_exhausted');
      if (taken.taken < give) {
        give = taken.taken;
        cut = 'budget';
      }
    }
    await store.insertAward(tx, tenantId, { ...base, outcome: 'granted', points: give, kept: give, cut_by: cut });
    if (c.kind === 'extra_stamp') {
      const typeId = c.config.stamp_card_type_id as string;
      const { completed } = await this.deps.stampCards.campaignStamps(tx, book, typeId, give, { transaction_id: a.source_id, reason: a.reason, occurred_at: a.occurred_at });
      await store.changeMemberTally(tx, tenantId, c.id, cm.member_id, 1, give);
      await emit(tx, {
        tenantId, type: 'campaign.award_granted', aggregateType: 'campaign', aggregateId: c.id, memberId: cm.member_id, occurredAt: now,
        payload: { campaign_id: c.id, award_id: id, member_id: cm.member_id, source_type: a.source_type, source_id: a.source_id, stamps: give, stamp_card_type_id: typeId, completed_card_ids: completed.map((x) => x.card_id), wanted: a.wanted, cut_by: cut },
      });
      return;
    }
    const entry = await book.credit({
      type: 'earn', points: give, earned: true, activity: true, activates_at: a.activates_at, expires_at: a.expires_at,
      reason: a.reason, source_type: 'campaign', source_id: c.id, transaction_id: id, occurred_at: a.occurred_at,
      details: { campaign_id: c.id, award_id: id, [a.source_type === 'transaction' ? 'order_id' : 'event_id']: a.source_id, ...(cut ? { wanted: a.wanted, cut_by: cut } : {}) },
    });
    await store.changeMemberTally(tx, tenantId, c.id, cm.member_id, 1, give);
    await emit(tx, {
      tenantId, type: 'campaign.award_granted', aggregateType: 'campaign', aggregateId: c.id, memberId: cm.member_id, occurredAt: now,
      payload: { campaign_id: c.id, award_id: id, member_id: cm.member_id, source_type: a.source_type, source_id: a.source_id, points: give, wanted: a.wanted, cut_by: cut, entry_id: entry.id },
    });
  }

  private async exhausted(tx: Tx, tenantId: string, c: CampaignRow, budget: number, now: Date): Promise<void> {
    // An ended campaign (late orders) stays ended; the event still tells that its budget is spent.
    const row = await store.transition(tx, tenantId, c.id, ['scheduled', 'running'], 'budget_exhausted', now);
    await this.emitCampaign(tx, tenantId, 'campaign.budget_exhausted', row ?? c, now, { budget_points: budget });
  }

  /**
   * A return or void of a purchase: each of its campaign awards keeps the share of what it gave that the kept part
   * of the order would still earn (a multiplier: of the points the order keeps; a category bonus: of the kept
   * qualifying lines; nothing under min_basket; nothing once the purchase is voided). What it gave up goes back to
   * the budget; a voided return gives it back to the member (from the budget, cut to what is left).
   */
  private async settle(tx: Tx, e: ReturnRecorded | OrderVoided, purchase: TransactionRow, type: 'claw_back' | 'reverse', reason: string): Promise<void> {
    const awards = await store.grantedAwardsOf(tx, e.tenantId, purchase.id);
    if (awards.length === 0) return;
    const now = this.deps.clock.now();
    let kept: { lines: Line[] | null; total: number } | null = null;
    for (const a of awards) {
      const c = (await store.getCampaign(tx, e.tenantId, a.campaign_id))!;
      let target = 0;
      if (c.kind === 'extra_stamp') {
        // All or nothing: the stamps were for the order earning the card, not per unit.
        if (purchase.status !== 'voided' && (await this.stampsWanted(tx, e.tenantId, c, purchase.id, purchase.total - purchase.returned_total))) target = a.points;
      } else if (purchase.status !== 'voided') {
        kept ??= { lines: keptLinesOf(purchase, await this.deps.transactions.returnsOf(tx, e.tenantId, purchase.id)), total: purchase.total - purchase.returned_total };
        const wantNow = wantedForOrder(c, { total: kept.total, lines: kept.lines, currency: purchase.currency, points: purchase.earning?.kept_points ?? 0 });
        target = Math.min(a.points, Number((BigInt(a.points) * BigInt(Math.max(0, wantNow))) / BigInt(a.wanted)));
      }
      if (target < a.kept) await this.takeBack(tx, e, c, a, a.kept - target, type, reason, now);
      else if (target > a.kept) await this.giveBack(tx, e, c, a, target - a.kept, reason, now);
    }
  }

  /** Stamps of an extra_stamp award given (+) or taken (−) by a return or void: recorded against that order. */
  private stampsBack(tx: Tx, e: ReturnRecorded | OrderVoided, c: CampaignRow, stamps: number, reason: string) {
    const cause = 'return' in e ? e.return : e.voided;
    return this.deps.stampCards.campaignStamps(tx, e.book, c.config.stamp_card_type_id as string, stamps, {
      transaction_id: cause.id, reason: `campaign ${c.name} (${c.id}): ${reason}`, occurred_at: 'return' in e ? e.return.occurred_at : this.deps.clock.now(),
    });
  }

  private async takeBack(tx: Tx, e: ReturnRecorded | OrderVoided, c: CampaignRow, a: AwardRow, points: number, type: 'claw_back' | 'reverse', reason: string, now: Date): Promise<void> {
    if (c.kind === 'extra_stamp') await this.stampsBack(tx, e, c, -points, reason);
    else await e.book.debit({
      type, points, shortfall: 'policy', from_transaction_id: a.id, transaction_id: a.id, reason: `campaign ${c.name}: ${reason}`,
      source_type: 'campaign', source_id: c.id, details: { campaign_id: c.id, award_id: a.id, order_id: a.source_id },
    });
    const after = await store.setKept(tx, e.tenantId, a.id, a.kept - points, now);
    await store.changeMemberTally(tx, e.tenantId, c.id, a.member_id, after.kept === 0 ? -1 : 0, -points);
    if (c.budget_points !== null) {
      const b = await store.giveBackBudget(tx, e.tenantId, c.id, points, now);
      // Past ends_at the campaign stays as it is: campaigns.advance ends it.
      if (b?.wasExhausted && now < c.ends_at) {
        const row = await store.transition(tx, e.tenantId, c.id, ['budget_exhausted'], 'running', now);
        if (row) await this.emitCampaign(tx, e.tenantId, 'campaign.budget_resumed', row, now, { remaining: b.budget - b.spent });
      }
    }
    await emit(tx, {
      tenantId: e.tenantId, type: 'campaign.award_clawed_back', aggregateType: 'campaign', aggregateId: c.id, memberId: a.member_id, occurredAt: now,
      payload: { campaign_id: c.id, award_id: a.id, member_id: a.member_id, source_id: a.source_id, points, kept: after.kept },
    });
  }

  private async giveBack(tx: Tx, e: ReturnRecorded | OrderVoided, c: CampaignRow, a: AwardRow, want: number, reason: string, now: Date): Promise<void> {
    let points = want;
    if (c.budget_points !== null) {
      const taken = await store.takeBudget(tx, e.tenantId, c.id, want, now);
      if (taken.exhaustedNow) await this.exhausted(tx, e.tenantId, c, taken.budget, now);
      points = taken.taken;
    }
    if (points <= 0) return;
    if (c.kind === 'extra_stamp') await this.stampsBack(tx, e, c, points, reason);
    else await e.book.credit({
      type: 'reverse', points, earned: false, activity: false, activates_at: a.activates_at, expires_at: a.expires_at,
      reason: `campaign ${c.name}: ${reason}`, source_type: 'campaign', source_id: c.id, transaction_id: a.id,
      details: { campaign_id: c.id, award_id: a.id, order_id: a.source_id },
    });
    const after = await store.setKept(tx, e.tenantId, a.id, a.kept + points, now);
    await store.changeMemberTally(tx, e.tenantId, c.id, a.member_id, a.kept === 0 ? 1 : 0, points);
    await emit(tx, {
      tenantId: e.tenantId, type: 'campaign.award_restored', aggregateType: 'campaign', aggregateId: c.id, memberId: a.member_id, occurredAt: now,
      payload: { campaign_id: c.id, award_id: a.id, member_id: a.member_id, source_id: a.source_id, points, kept: after.kept },
    });
  }
}
