/**
 * The rewards catalog: rewards with a points price (optionally per tier), availability (dates, tiers, an audience
 * condition, stock, limits per member and per period), texts in the program's five languages, and what members
 * redeem them for. docs/program/rewards.md explains the model.
 *
 * Redeeming spends the points through RedemptionsService (the ledger) and fulfils the reward in the same
 * transaction. Locks are taken in one order everywhere: the member's points (ledger.open, inside redeem/cancel), then
 * the reward row (a conditional UPDATE that takes stock or a seat, or SELECT … FOR UPDATE), then reward redemption
 * rows. Limits are read again after the member's lock, so concurrent redemptions of one member are judged one after
 * the other; stock is taken by `UPDATE … WHERE stock >= n`, so it is never oversold.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors, type AppError, type FieldError } from '../../platform/errors.js';
import { LOCALES, type Locale } from '../../platform/http/schema.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import { pointsWorth, TEXT_PATTERN } from '../ledger/ledger.schema.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { Program } from '../programs/programs.types.js';
import type { RedemptionsService } from '../redemptions/redemptions.service.js';
import { inAudience, logicError } from '../rules/rules.validation.js';
import type { MemberStanding } from '../transactions/transactions.service.js';
import type { VouchersService } from '../vouchers/vouchers.service.js';
import type { WalletService } from '../wallet/wallet.service.js';
import { DRAW_ALGORITHM, drawWinners, entrantsDigest, newSeed, seedCommitment, type Entrant } from './rewards.draw.js';
import type { GiftSource } from './rewards.gift.js';
import {
  KIND_SETTINGS, LIMITS, SETTINGS_FIELDS, VOUCHER_KINDS,
  type CreateRewardInput, type RedeemRewardInput, type RewardKind, type UnavailableReason, type UpdateRewardInput,
  type UpdateRewardRedemptionInput, type VoucherKind,
} from './rewards.schema.js';
import * as store from './rewards.store.js';
import type { DrawRow, RewardFields, RewardRedemptionRow, RewardRow, Usage } from './rewards.store.js';

export type { DrawRow, RewardRedemptionRow, RewardRow } from './rewards.store.js';

export interface RewardsDeps {
  clock: Clock;
  ledger: Ledger;
  members: MembersService;
  programs: ProgramsService;
  redemptions: RedemptionsService;
  /** The member's tier (the tiers module); `async () => ({ tier: null })` without one. */
  standing: MemberStanding;
  vouchers: VouchersService;
  wallet: WalletService;
}

// ── Views ──────────────────────────────────────────────────────────────────

const DAY_MS = 86_400_000;

function settingsView(r: RewardRow): Record<string, unknown> {
  const s = { ...r.settings };
  if (r.kind === 'event_invitation') s.seats_taken = r.seats_taken;
  if (r.kind === 'sweepstakes') {
    s.seed_sha256 = r.draw_seed_sha256;
    s.drawn_at = r.drawn_at;
  }
  return s;
}

export function rewardView(r: RewardRow) {
  return {
    id: r.id, kind: r.kind, status: r.status, name: r.name, description: r.description, image_url: r.image_url, points: r.points,
    tier_prices: r.tier_prices, tiers: r.tiers, audience: r.audience, available_from: r.available_from, available_until: r.available_until,
    stock: r.stock, redeemed_count: r.redeemed_count, limit_per_member: r.limit_per_member,
    limit_per_period: r.limit_count !== null && r.limit_period !== null ? { count: r.limit_count, period: r.limit_period } : null,
    [KIND_SETTINGS[r.kind]]: settingsView(r),
    created_at: r.created_at, updated_at: r.updated_at, archived_at: r.archived_at,
  };
}
export type RewardView = ReturnType<typeof rewardView>;

export function rewardRedemptionView(r: RewardRedemptionRow) {
  return {
    id: r.id, reward_id: r.reward_id, member_id: r.member_id, kind: r.kind, quantity: r.quantity, points: r.points,
    redemption_id: r.redemption_id, status: r.status, origin: r.origin,
    source: r.origin === 'gift' ? { type: r.source_type ?? 'system', id: r.source_id, reason: r.reason } : null,
    details: r.details,
    voucher: r.voucher_id && r.voucher_code ? { id: r.voucher_id, code: r.voucher_code } : null,
    amount: r.amount !== null && r.currency !== null ? { amount: r.amount, currency: r.currency } : null,
    fulfilment: r.fulfilment_status
      ? { status: r.fulfilment_status, shipping_address: r.shipping_address, note: r.note, tracking_ref: r.tracking_ref }
      : null,
    rsvp: r.rsvp_status, won: r.won, created_at: r.created_at, updated_at: r.updated_at, cancelled_at: r.cancelled_at,
  };
}
export type RewardRedemptionView = ReturnType<typeof rewardRedemptionView>;

export function drawView(d: DrawRow) {
  const { actor: _a, ...rest } = d;
  return rest;
}

/** A localised text in `locale`, else English. */
function pick(texts: Record<string, string>, locale: Locale): { text: string | null; locale: Locale } {
  if (texts[locale]) return { text: texts[locale]!, locale };
  return { text: texts.en ?? null, locale: 'en' };
}

// ── Checks the schema cannot make ──────────────────────────────────────────

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TEXT_RE = new RegExp(TEXT_PATTERN);
const ms = (v: unknown) => (typeof v === 'string' ? Date.parse(v) : NaN);

/** Fields a voucher kind needs, and those it refuses. */
const VOUCHER_FIELDS: Record<VoucherKind, { required: string[]; refused: string[] }> = {
  fixed_amount: { required: ['amount'], refused: ['percent', 'max_discount', 'sku'] },
  percentage: { required: ['percent', 'max_discount'], refused: ['amount', 'sku'] },
  free_product: { required: ['sku'], refused: ['amount', 'percent', 'max_discount', 'currency'] },
  gift_card: { required: ['amount'], refused: ['percent', 'max_discount', 'sku', 'min_basket'] },
};

/**
 * Every problem of a reward (as created, or as it would be after a change) the schema cannot see: the kind's settings
 * object and its fields, date order, the audience condition, tier codes. Tolerates wrong types (the schema reports those).
 */
export function rewardErrors(kind: unknown, body: Record<string, unknown>, which: 'create' | 'patch'): FieldError[] {
  const errs: FieldError[] = [];
  const own = typeof kind === 'string' && kind in KIND_SETTINGS ? KIND_SETTINGS[kind as RewardKind] : null;
  if (own) {
    for (const f of SETTINGS_FIELDS) {
      if (f !== own && body[f] !== undefined) errs.push({ field: f, detail: `does not apply to a ${kind} reward (its settings are in ${own})` });
    }
    if (which === 'create' && body[own] === undefined) errs.push({ field: own, detail: `is required for a ${kind} reward` });
  }
  const settings = own ? body[own] : undefined;
  if (own === 'voucher' && isObject(settings)) {
    const rule = VOUCHER_FIELDS[kind as VoucherKind];
    for (const f of rule.required) if (settings[f] === undefined) errs.push({ field: `voucher.${f}`, detail: `is required for a ${kind} voucher` });
    for (const f of rule.refused) if (settings[f] !== undefined) errs.push({ field: `voucher.${f}`, detail: `does not apply to a ${kind} voucher` });
    if (settings.code_pattern !== undefined && settings.pool_id !== undefined) errs.push({ field: 'voucher.pool_id', detail: 'send code_pattern or pool_id, not both' });
  }
  if (own === 'early_access' && isObject(settings) && ms(settings.starts_at) >= ms(settings.ends_at)) {
    errs.push({ field: 'early_access.ends_at', detail: 'must be after starts_at' });
  }
  if (own === 'event' && isObject(settings) && settings.ends_at !== undefined && ms(settings.starts_at) >= ms(settings.ends_at)) {
    errs.push({ field: 'event.ends_at', detail: 'must be after starts_at' });
  }
  if (typeof body.available_from === 'string' && typeof body.available_until === 'string' && ms(body.available_from) >= ms(body.available_until)) {
    errs.push({ field: 'available_until', detail: 'must be after available_from' });
  }
  if (body.audience !== undefined && body.audience !== null) {
    const bad = logicError(body.audience, 'member');
    if (bad) errs.push({ field: 'audience', detail: bad });
  }
  if (isObject(body.tier_prices)) {
    for (const code of Object.keys(body.tier_prices)) {
      if (code.length > 64 || !TEXT_RE.test(code)) errs.push({ field: `tier_prices.${code.slice(0, 64)}`, detail: 'must be a tier code: 1-64 visible characters' });
    }
  }
  return errs;
}

/** What a redemption body sends that the reward's kind does not take (or lacks). */
function redeemErrors(reward: RewardRow, input: RedeemRewardInput): FieldError[] {
  const errs: FieldError[] = [];
  if (input.quantity !== undefined && input.quantity !== 1 && reward.kind !== 'sweepstakes') {
    errs.push({ field: 'quantity', detail: 'only sweepstakes entries are bought several at a time' });
  }
  if (reward.kind === 'physical_gift') {
    const requires = (reward.settings as { requires_address?: boolean }).requires_address !== false;
    if (requires && !input.shipping_address) errs.push({ field: 'shipping_address', detail: 'is required: this gift is shipped' });
  } else {
    if (input.shipping_address) errs.push({ field: 'shipping_address', detail: `does not apply to a ${reward.kind} reward` });
    if (input.note !== undefined) errs.push({ field: 'note', detail: `does not apply to a ${reward.kind} reward` });
  }
  return errs;
}

// ── Availability ───────────────────────────────────────────────────────────

export interface Reason {
  code: UnavailableReason;
  detail: string;
}

interface Judge {
  now: Date;
  member: MemberRow;
  tier: string | null;
  available: number;
  usage: Usage;
  quantity: number;
}

const ZERO_USAGE: Usage = { total: 0, day: 0, week: 0, month: 0, year: 0 };

/** The price for a member of `tier`: the tier's price, else the reward's. */
export function priceFor(r: Pick<RewardRow, 'points' | 'tier_prices'>, tier: string | null): number {
  if (tier !== null && Object.prototype.hasOwnProperty.call(r.tier_prices, tier)) return r.tier_prices[tier]!;
  return r.points;
}

/** Every reason the member cannot redeem `quantity` of the reward now; none = available. */
export function unavailableReasons(r: RewardRow, j: Judge): Reason[] {
  const out: Reason[] = [];
  const add = (code: UnavailableReason, detail: string) => out.push({ code, detail });
  if (j.member.status !== 'active') add('member_not_active', `the member is ${j.member.status}`);
  if (r.status === 'archived') add('archived', 'the reward is archived');
  if (r.available_from && j.now < r.available_from) add('not_started', `available from ${r.available_from.toISOString()}`);
  if (r.available_until && j.now >= r.available_until) add('ended', `was available until ${r.available_until.toISOString()}`);
  if (r.tiers && (j.tier === null || !r.tiers.includes(j.tier))) add('tier', `reserved for the tiers ${r.tiers.join(', ')}`);
  if (r.audience && !audienceHolds(r.audience, j)) add('audience', 'the member is not in the reward\'s audience');
  if (r.stock !== null && r.stock < j.quantity) add('out_of_stock', r.stock === 0 ? 'none left' : `only ${r.stock} left`);
  if (r.kind === 'event_invitation' && r.capacity !== null && r.seats_taken >= r.capacity && (r.settings as { waitlist?: boolean }).waitlist !== true) {
    add('full', `all ${r.capacity} seats are taken`);
  }
  if (r.kind === 'sweepstakes' && r.drawn_at) add('drawn', `the draw took place at ${r.drawn_at.toISOString()}`);
  if (r.limit_per_member !== null && j.usage.total + j.quantity > r.limit_per_member) {
    add('limit_reached', `at most ${r.limit_per_member} per member (redeemed ${j.usage.total})`);
  }
  if (r.limit_count !== null && r.limit_period !== null && j.usage[r.limit_period] + j.quantity > r.limit_count) {
    add('limit_reached', `at most ${r.limit_count} per ${r.limit_period} (redeemed ${j.usage[r.limit_period]} this ${r.limit_period})`);
  }
  const cost = priceFor(r, j.tier) * j.quantity;
  if (cost > j.available) add('insufficient_points', `costs ${cost} points; the member has ${Math.max(0, j.available)}`);
  return out;
}

function audienceHolds(condition: Record<string, unknown>, j: Judge): boolean {
  try {
    return inAudience(condition, { tier: j.tier, attributes: j.member.attributes ?? {} });
  } catch {
    // A condition that cannot be evaluated on this member's data (validated on sample data) lets no one in.
    return false;
  }
}

function unavailable(reasons: Reason[]): AppError {
  if (reasons.length === 1 && reasons[0]!.code === 'insufficient_points') return errors.insufficientPoints(`The reward ${reasons[0]!.detail}.`);
  return errors.unprocessable(
    `The reward cannot be redeemed: ${reasons.map((r) => `${r.code} (${r.detail})`).join('; ')}.`,
    reasons.map((r) => ({ field: 'reward_id', detail: `${r.code}: ${r.detail}` })),
  );
}

// ── The service ────────────────────────────────────────────────────────────

export class RewardsService {
  constructor(private readonly deps: RewardsDeps) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  // ── Admin: the catalog ────────────────────────────────────────────────

  checkCreate(body: unknown): FieldError[] {
    return isObject(body) ? rewardErrors(body.kind, body, 'create') : [];
  }

  /** `kind`: the reward's, when it exists, so that settings of another kind are named with the schema's errors. */
  checkPatch(body: unknown, kind: RewardKind | null): FieldError[] {
    return isObject(body) ? rewardErrors(kind ?? undefined, body, 'patch') : [];
  }

  async kindOf(q: Queryable, tenantId: string, id: string): Promise<RewardKind | null> {
    return (await store.getReward(q, tenantId, id))?.kind ?? null;
  }

  /** The kind's settings with the program's defaults filled in (currency). */
  private normalizeSettings(kind: RewardKind, settings: Record<string, unknown>, program: Program): Record<string, unknown> {
    const s = { ...settings };
    const money = kind === 'fixed_amount' || kind === 'percentage' || kind === 'gift_card' || kind === 'cashback' || kind === 'donation';
    if (money && s.currency === undefined) s.currency = program.currency;
    if (kind === 'event_invitation' && s.waitlist === undefined) s.waitlist = false;
    if (kind === 'physical_gift' && s.requires_address === undefined) s.requires_address = true;
    return s;
  }

  /** Store credit is kept in the program currency only. */
  private checkCurrency(kind: RewardKind, settings: Record<string, unknown>, program: Program): void {
    if (kind === 'cashback' && settings.currency !== program.currency) {
      throw errors.validation([{ field: 'cashback.currency', detail: `must be the program currency (${program.currency}): the wallet holds store credit in it` }]);
    }
  }

  async create(tx: Tx, tenantId: string, input: CreateRewardInput, actor: string | null): Promise<RewardView> {
    const errs = rewardErrors(input.kind, input as Record<string, unknown>, 'create');
    if (errs.length) throw errors.validation(errs);
    const program = await this.deps.programs.get(tx, tenantId);
    const now = this.now();
    const kind = input.kind;
    const settings = this.normalizeSettings(kind, (input as Record<string, unknown>)[KIND_SETTINGS[kind]] as Record<string, unknown>, program);
    this.checkCurrency(kind, settings, program);
    const seed = kind === 'sweepstakes' ? newSeed() : null;
    const status = input.status ?? 'active';
    const row = await store.insertReward(tx, tenantId, {
      id: newId(), kind, status, name: input.name as Record<string, string>, description: (input.description ?? {}) as Record<string, string>,
      image_url: input.image_url ?? null, points: input.points, tier_prices: input.tier_prices ?? {}, tiers: input.tiers ?? null,
      audience: input.audience ?? null, available_from: input.available_from ? new Date(input.available_from) : null,
      available_until: input.available_until ? new Date(input.available_until) : null, stock: input.stock ?? null,
      limit_per_member: input.limit_per_member ?? null, limit_count: input.limit_per_period?.count ?? null, limit_period: input.limit_per_period?.period ?? null,
      settings, capacity: kind === 'event_invitation' ? (settings.capacity as number) : null, archived_at: status === 'archived' ? now : null,
      draw_seed: seed, draw_seed_sha256: seed ? seedCommitment(seed) : null, created_at: now,
    });
    await this.event(tx, tenantId, 'reward.created', row, now, { kind, points: row.points, actor });
    return rewardView(row);
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<RewardView> {
    return rewardView(await this.row(q, tenantId, id));
  }

  private async row(q: Queryable, tenantId: string, id: string, lock = false): Promise<RewardRow> {
    const row = await store.getReward(q, tenantId, id, { lock });
    if (!row) throw errors.notFound('reward', id);
    return row;
  }

  async list(q: Queryable, tenantId: string, f: { kind?: string; includeArchived: boolean; afterId?: string; limit: number }): Promise<RewardView[]> {
    return (await store.listRewards(q, tenantId, f)).map(rewardView);
  }

  /** The fields sent replace the current ones; the reward row is locked, so a change never races a redemption's stock. */
  async update(tx: Tx, tenantId: string, id: string, patch: UpdateRewardInput, actor: string | null): Promise<RewardView> {
    const current = await this.row(tx, tenantId, id, true);
    const own = KIND_SETTINGS[current.kind];
    const p = patch as Record<string, unknown>;
    const merged: Record<string, unknown> = {
      available_from: current.available_from?.toISOString() ?? null, available_until: current.available_until?.toISOString() ?? null, ...p,
    };
    const errs = rewardErrors(current.kind, merged, 'patch');
    if (p[own] !== undefined) {
      // The settings object is replaced whole: check it as a create would.
      errs.push(...rewardErrors(current.kind, { [own]: p[own] }, 'create').filter((e) => !errs.some((x) => x.field === e.field)));
    }
    if (errs.length) throw errors.validation(errs);
    const program = await this.deps.programs.get(tx, tenantId);
    const settings = p[own] !== undefined ? this.normalizeSettings(current.kind, p[own] as Record<string, unknown>, program) : current.settings;
    if (p[own] !== undefined) this.checkCurrency(current.kind, settings, program);
    const capacity = current.kind === 'event_invitation' ? (settings.capacity as number) : null;
    if (capacity !== null && capacity < current.seats_taken) {
      throw errors.unprocessable(`${current.seats_taken} seats are taken; the capacity cannot be less.`, [{ field: 'event.capacity', detail: `must be at least the ${current.seats_taken} seats taken` }]);
    }
    const now = this.now();
    const has = (k: string) => Object.prototype.hasOwnProperty.call(p, k);
    const date = (k: 'available_from' | 'available_until') => (has(k) ? (p[k] ? new Date(p[k] as string) : null) : current[k]);
    const status = (p.status as RewardRow['status'] | undefined) ?? current.status;
    const fieldsNow: RewardFields = {
      status,
      name: (p.name as Record<string, string> | undefined) ?? current.name,
      description: has('description') ? ((p.description as Record<string, string> | null) ?? {}) : current.description,
      image_url: has('image_url') ? (p.image_url as string | null) : current.image_url,
      points: (p.points as number | undefined) ?? current.points,
      tier_prices: has('tier_prices') ? ((p.tier_prices as Record<string, number> | null) ?? {}) : current.tier_prices,
      tiers: has('tiers') ? (p.tiers as string[] | null) : current.tiers,
      audience: has('audience') ? (p.audience as Record<string, unknown> | null) : current.audience,
      available_from: date('available_from'),
      available_until: date('available_until'),
      stock: has('stock') ? (p.stock as number | null) : current.stock,
      limit_per_member: has('limit_per_member') ? (p.limit_per_member as number | null) : current.limit_per_member,
      limit_count: has('limit_per_period') ? ((p.limit_per_period as { count: number } | null)?.count ?? null) : current.limit_count,
      limit_period: has('limit_per_period') ? ((p.limit_per_period as { period: RewardRow['limit_period'] } | null)?.period ?? null) : current.limit_period,
      settings,
      capacity,
      archived_at: status === 'archived' ? (current.archived_at ?? now) : null,
    };
    const row = await store.updateReward(tx, tenantId, id, fieldsNow, now);
    const type = status === 'archived' && current.status !== 'archived' ? 'reward.archived' : 'reward.updated';
    await this.event(tx, tenantId, type, row, now, { changed: Object.keys(p), actor });
    return rewardView(row);
  }

  async archive(tx: Tx, tenantId: string, id: string, actor: string | null): Promise<RewardView> {
    const current = await this.row(tx, tenantId, id, true);
    if (current.status === 'archived') return rewardView(current);
    return this.update(tx, tenantId, id, { status: 'archived' }, actor);
  }

  private async event(tx: Queryable, tenantId: string, type: string, r: RewardRow, at: Date, extra: Record<string, unknown>): Promise<void> {
    await emit(tx, { tenantId, type, aggregateType: 'reward', aggregateId: r.id, occurredAt: at, payload: { reward_id: r.id, kind: r.kind, status: r.status, ...extra } });
  }

  // ── The catalog as a member sees it ───────────────────────────────────

  private async activeMember(q: Queryable, tenantId: string, memberId: string): Promise<MemberRow> {
    const member = await this.deps.members.find(q, tenantId, { id: memberId });
    if (!member) throw errors.notFound('member', memberId);
    return member;
  }

  /**
   * The active rewards after `afterId`, as the member sees them: name and description in their locale (else en), their
   * price, and whether they can redeem it now or why not. Returns up to `limit` items (the caller asks for one more
   * than a page to know whether another page exists).
   */
  async catalog(q: Queryable, tenantId: string, memberId: string, f: { afterId?: string; limit: number; availableOnly: boolean; locale?: Locale }) {
    const member = await this.activeMember(q, tenantId, memberId);
    const now = this.now();
    const program = await this.deps.programs.get(q, tenantId);
    const tier = (await this.deps.standing(q, tenantId, memberId, now)).tier;
    const available = (await this.deps.ledger.balance(q, tenantId, memberId)).available;
    const locale = f.locale ?? (LOCALES.includes(member.locale) ? member.locale : 'en');
    const out: ReturnType<RewardsService['memberReward']>[] = [];
    let after = f.afterId;
    for (;;) {
      const rows = await store.listRewards(q, tenantId, { includeArchived: false, afterId: after, limit: f.limit });
      const usage = await store.usageOf(q, tenantId, memberId, rows.map((r) => r.id), now, program.time_zone);
      for (const r of rows) {
        const u = usage.get(r.id) ?? ZERO_USAGE;
        const item = this.memberReward(r, locale, unavailableReasons(r, { now, member, tier, available, usage: u, quantity: 1 }), priceFor(r, tier), u.total);
        if (!f.availableOnly || item.available) out.push(item);
        if (out.length >= f.limit) return out;
      }
      if (rows.length < f.limit) return out;
      after = rows[rows.length - 1]!.id;
    }
  }

  private memberReward(r: RewardRow, locale: Locale, reasons: Reason[], price: number, redeemed: number) {
    const name = pick(r.name, locale);
    const description = pick(r.description, locale);
    return {
      id: r.id, kind: r.kind, locale: name.locale, name: name.text ?? '', description: description.text, image_url: r.image_url,
      price, regular_price: r.points, available: reasons.length === 0, reasons, stock: r.stock,
      available_from: r.available_from, available_until: r.available_until, redeemed_by_member: redeemed,
      [KIND_SETTINGS[r.kind]]: settingsView(r),
    };
  }

  // ── Redeeming ─────────────────────────────────────────────────────────

  /**
   * Redeems a reward: the points are spent (RedemptionsService: the ledger, 422 insufficient_points), stock or a seat
   * taken, and the reward fulfilled by kind, all in this transaction.
   */
  async redeem(tx: Tx, tenantId: string, input: RedeemRewardInput, actor: string | null): Promise<RewardRedemptionView> {
    const now = this.now();
    const member = await this.activeMember(tx, tenantId, input.member_id);
    const reward = await this.row(tx, tenantId, input.reward_id);
    const inputErrs = redeemErrors(reward, input);
    if (inputErrs.length) throw errors.validation(inputErrs);
    const program = await this.deps.programs.get(tx, tenantId);
    const quantity = input.quantity ?? 1;
    const tier = (await this.deps.standing(tx, tenantId, member.id, now)).tier;
    const cost = priceFor(reward, tier) * quantity;
    if (cost > LIMITS.points) {
      throw errors.unprocessable(`${quantity} entries cost ${cost} points, more than one redemption may spend (${LIMITS.points}).`, [{ field: 'quantity', detail: 'is too many for one redemption' }]);
    }
    // Every reason at once, before any lock: the member learns all that stands in the way.
    const judge = async (available: number) => unavailableReasons(reward, {
      now, member, tier, available, quantity,
      usage: (await store.usageOf(tx, tenantId, member.id, [reward.id], now, program.time_zone)).get(reward.id) ?? ZERO_USAGE,
    });
    const before = await judge((await this.deps.ledger.balance(tx, tenantId, member.id)).available);
    if (before.length) throw unavailable(before);

    const id = newId();
    let redemptionId: string | null = null;
    if (cost > 0) {
      const spent = await this.deps.redemptions.redeem(tx, tenantId, {
        member_id: member.id, points: cost, reward_ref: reward.id, reason: `Reward: ${reward.name.en}`,
      }, actor);
      redemptionId = spent.id;
    } else {
      await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
    }
    // Under the member's lock: another redemption of this member has committed or waits for us.
    const limits = (await judge(Number.MAX_SAFE_INTEGER)).filter((r) => r.code === 'limit_reached');
    if (limits.length) throw unavailable(limits);

    return this.fulfil(tx, tenantId, reward, {
      id, member, quantity, points: cost, redemptionId, origin: 'redemption', source: null, actor, program, now,
      shipping_address: input.shipping_address ?? null, note: input.note ?? null,
    });
  }

  /**
   * A catalog reward given at no points cost by a mechanic (stamp card, referral, badge) to the member whose book is
   * open: stock and seats are taken as for a redemption; price, dates, tiers, audience and limits are the giver's
   * decision. 422 (the giver's transaction rolls back) when the reward is unknown, archived, drawn, out of stock or full.
   */
  async give(tx: Tx, book: MemberBook, rewardId: string, source: GiftSource): Promise<{ redemption_id: string; voucher_code: string | null }> {
    const tenantId = book.tenantId;
    const reward = await store.getReward(tx, tenantId, rewardId);
    if (!reward) throw errors.unprocessable(`No reward with id ${rewardId}.`, [{ field: 'reward_id', detail: 'is not a reward of this program' }]);
    const member = await this.activeMember(tx, tenantId, book.memberId);
    const program = await this.deps.programs.get(tx, tenantId);
    const rr = await this.fulfil(tx, tenantId, reward, {
      id: newId(), member, quantity: 1, points: 0, redemptionId: null, origin: 'gift', source, actor: null, program, now: this.now(),
      shipping_address: null, note: null,
    });
    return { redemption_id: rr.id, voucher_code: rr.voucher?.code ?? null };
  }

  /** Takes stock (and a seat), records the reward redemption and fulfils it by kind; emits reward.redeemed. */
  private async fulfil(tx: Tx, tenantId: string, reward: RewardRow, r: {
    id: string; member: MemberRow; quantity: number; points: number; redemptionId: string | null; origin: 'redemption' | 'gift';
    source: GiftSource | null; actor: string | null; program: Program; now: Date;
    shipping_address: Record<string, string> | null; note: string | null;
  }): Promise<RewardRedemptionView> {
    const taken = await store.takeStock(tx, tenantId, reward.id, r.quantity);
    if (!taken) {
      // The UPDATE found the row archived, drawn or short of stock once it had waited for the others: say which.
      const now = (await store.getReward(tx, tenantId, reward.id))!;
      const why: Reason[] = now.status === 'archived' ? [{ code: 'archived', detail: 'the reward is archived' }]
        : now.drawn_at ? [{ code: 'drawn', detail: `the draw took place at ${now.drawn_at.toISOString()}` }]
        : [{ code: 'out_of_stock', detail: now.stock === 0 ? 'none left' : `only ${now.stock} left` }];
      throw unavailable(why);
    }
    let rsvp: RewardRedemptionRow['rsvp_status'] = null;
    if (reward.kind === 'event_invitation') {
      if (await store.takeSeat(tx, tenantId, reward.id)) rsvp = 'accepted';
      else if ((reward.settings as { waitlist?: boolean }).waitlist === true) rsvp = 'waitlisted';
      else throw unavailable([{ code: 'full', detail: `all ${reward.capacity} seats are taken` }]);
    }
    const s = reward.settings as Record<string, unknown>;
    let amount: number | null = null;
    let currency: string | null = null;
    if (reward.kind === 'cashback') {
      amount = s.amount as number;
      currency = s.currency as string;
    } else if (reward.kind === 'donation') {
      amount = (s.amount as number | undefined) ?? pointsWorth(r.points, r.program.points_value);
      currency = (s.currency as string | undefined) ?? r.program.currency;
    }
    let row = await store.insertRewardRedemption(tx, tenantId, {
      id: r.id, reward_id: reward.id, member_id: r.member.id, kind: reward.kind, quantity: r.quantity, points: r.points,
      redemption_id: r.redemptionId, origin: r.origin, source_type: r.source?.source_type ?? null, source_id: r.source?.source_id ?? null,
      reason: r.source?.reason ?? null, details: s, voucher_id: null, voucher_code: null, amount, currency,
      fulfilment_status: reward.kind === 'physical_gift' ? 'pending' : null, shipping_address: r.shipping_address, note: r.note,
      tracking_ref: null, rsvp_status: rsvp, actor: r.actor, created_at: r.now,
    });
    const label = r.source ? r.source.reason : `Reward: ${reward.name.en}`;
    if ((VOUCHER_KINDS as readonly string[]).includes(reward.kind)) {
      const voucher = await this.deps.vouchers.issue(tx, tenantId, {
        member_id: r.member.id, reward_id: reward.id, redemption_id: row.id, kind: reward.kind as VoucherKind,
        ...pickDefined(s, ['amount', 'currency', 'percent', 'max_discount', 'sku', 'min_basket', 'code_pattern', 'pool_id']),
        expires_at: typeof s.valid_days === 'number' ? new Date(r.now.getTime() + s.valid_days * DAY_MS) : null,
      });
      row = await store.setVoucher(tx, tenantId, row.id, voucher);
    } else if (reward.kind === 'cashback') {
      await this.deps.wallet.credit(tx, tenantId, r.member.id, { amount: amount!, currency: currency!, reason: label, source_type: 'reward', source_id: row.id });
    }
    const view = rewardRedemptionView(row);
    await emit(tx, {
      tenantId, type: 'reward.redeemed', aggregateType: 'reward_redemption', aggregateId: row.id, memberId: row.member_id, occurredAt: r.now,
      payload: {
        reward_redemption_id: row.id, reward_id: reward.id, member_id: row.member_id, kind: row.kind, quantity: row.quantity, points: row.points,
        redemption_id: row.redemption_id, origin: row.origin, voucher_id: row.voucher_id, rsvp: row.rsvp_status, amount: view.amount,
        source: view.source ? { type: view.source.type, id: view.source.id } : null,
      },
    });
    if (taken.stock === 0) {
      await emit(tx, {
        tenantId, type: 'reward.out_of_stock', aggregateType: 'reward', aggregateId: reward.id, occurredAt: r.now,
        payload: { reward_id: reward.id, kind: reward.kind, redeemed_count: reward.redeemed_count + r.quantity },
      });
    }
    return view;
  }

  async getRedemption(q: Queryable, tenantId: string, id: string): Promise<RewardRedemptionView> {
    const row = await store.getRewardRedemption(q, tenantId, id);
    if (!row) throw errors.notFound('reward redemption', id);
    return rewardRedemptionView(row);
  }

  async listRedemptions(q: Queryable, tenantId: string, f: { memberId?: string; rewardId?: string; beforeId?: string; limit: number }): Promise<RewardRedemptionView[]> {
    return (await store.listRewardRedemptions(q, tenantId, f)).map(rewardRedemptionView);
  }

  // ── Cancelling and fulfilment ─────────────────────────────────────────

  /**
   * Locks in the house order (the member's points, the reward, the reward redemption) and returns the redemption as
   * it stands under those locks.
   */
  private async lockRedemption(tx: Tx, tenantId: string, id: string): Promise<{ rr: RewardRedemptionRow; reward: RewardRow; program: Program }> {
    const first = await store.getRewardRedemption(tx, tenantId, id);
    if (!first) throw errors.notFound('reward redemption', id);
    const program = await this.deps.programs.get(tx, tenantId);
    await this.deps.ledger.open(tx, tenantId, first.member_id, program.negative_balance);
    const reward = (await store.getReward(tx, tenantId, first.reward_id, { lock: true }))!;
    const rr = (await store.getRewardRedemption(tx, tenantId, id, { lock: true }))!;
    return { rr, reward, program };
  }

  /**
   * Cancels a reward redemption: the points go back (RedemptionsService.cancel), the stock and the seat too (the
   * first waitlisted member takes the seat). A delivered gift, a drawn sweepstakes entry or a cancelled redemption
   * is a 422.
   */
  async cancel(tx: Tx, tenantId: string, id: string, actor: string | null, why = 'cancelled'): Promise<RewardRedemptionView> {
    const first = await store.getRewardRedemption(tx, tenantId, id);
    if (first?.voucher_id && first.status === 'completed') {
      // The voucher first (its row lock comes before the member's, as when it is cancelled from the vouchers API): its
      // cancellation calls onVoucherCancelled, which cancels this redemption and refunds the points.
      await this.deps.vouchers.cancel(tx, tenantId, first.voucher_id);
      const after = (await store.getRewardRedemption(tx, tenantId, id))!;
      if (after.status !== 'cancelled') throw new Error(`rewards: voucher ${first.voucher_id} was cancelled but reward redemption ${id} was not`);
      return rewardRedemptionView(after);
    }
    const { rr, reward } = await this.lockRedemption(tx, tenantId, id);
    return this.cancelLocked(tx, tenantId, rr, reward, actor, why);
  }

  private async cancelLocked(tx: Tx, tenantId: string, rr: RewardRedemptionRow, reward: RewardRow, actor: string | null, why: string,
    opts: { voucherCancelled?: boolean } = {}): Promise<RewardRedemptionView> {
    if (rr.status === 'cancelled') throw errors.unprocessable(`Reward redemption ${rr.id} was already cancelled at ${rr.cancelled_at!.toISOString()}.`);
    if (rr.fulfilment_status === 'delivered') throw errors.unprocessable(`Reward redemption ${rr.id} was delivered: it cannot be cancelled.`);
    if (rr.kind === 'sweepstakes' && reward.drawn_at) throw errors.unprocessable(`The draw of reward ${reward.id} has taken place: its entries cannot be cancelled.`);
    if (rr.voucher_id && !opts.voucherCancelled) {
      throw errors.unprocessable(`Reward redemption ${rr.id} issued voucher ${rr.voucher_code}: cancel the voucher (its points come back with it).`);
    }
    const now = this.now();
    if (rr.kind === 'cashback' && rr.amount !== null) {
      await this.deps.wallet.debit(tx, tenantId, rr.member_id, { amount: rr.amount, currency: rr.currency!, reason: `Reward cancelled: ${reward.name.en}`, source_type: 'reward', source_id: rr.id });
    }
    if (rr.redemption_id) await this.deps.redemptions.cancel(tx, tenantId, rr.redemption_id, actor);
    await store.returnStock(tx, tenantId, reward.id, rr.quantity);
    const row = await store.updateRewardRedemption(tx, tenantId, rr.id, {
      status: 'cancelled', cancelled_at: now,
      ...(rr.fulfilment_status ? { fulfilment_status: 'cancelled' as const } : {}),
      ...(rr.rsvp_status ? { rsvp_status: 'declined' as const } : {}),
    }, now);
    await emit(tx, {
      tenantId, type: 'reward.redemption_cancelled', aggregateType: 'reward_redemption', aggregateId: row.id, memberId: row.member_id, occurredAt: now,
      payload: { reward_redemption_id: row.id, reward_id: row.reward_id, member_id: row.member_id, kind: row.kind, points: row.points, redemption_id: row.redemption_id, reason: why },
    });
    if (rr.rsvp_status === 'accepted') await this.freeSeat(tx, tenantId, reward, now);
    return rewardRedemptionView(row);
  }

  /** A seat of an event is free: the first waitlisted invitation takes it. */
  private async freeSeat(tx: Tx, tenantId: string, reward: RewardRow, now: Date): Promise<void> {
    await store.freeSeat(tx, tenantId, reward.id);
    const next = await store.firstWaitlisted(tx, tenantId, reward.id);
    if (!next || !(await store.takeSeat(tx, tenantId, reward.id))) return;
    const row = await store.updateRewardRedemption(tx, tenantId, next.id, { rsvp_status: 'accepted' }, now);
    await this.fulfilmentEvent(tx, tenantId, row, { rsvp: { from: 'waitlisted', to: 'accepted' } }, now);
  }

  private async fulfilmentEvent(tx: Tx, tenantId: string, row: RewardRedemptionRow, change: Record<string, unknown>, now: Date): Promise<void> {
    await emit(tx, {
      tenantId, type: 'reward.fulfilment_updated', aggregateType: 'reward_redemption', aggregateId: row.id, memberId: row.member_id, occurredAt: now,
      payload: { reward_redemption_id: row.id, reward_id: row.reward_id, member_id: row.member_id, kind: row.kind, ...change },
    });
  }

  /** What a change names that the redemption's kind does not take; every field at once. */
  private patchErrors(rr: RewardRedemptionRow, p: UpdateRewardRedemptionInput): FieldError[] {
    const errs: FieldError[] = [];
    if (rr.kind !== 'physical_gift') {
      for (const f of ['fulfilment_status', 'tracking_ref', 'note', 'shipping_address'] as const) {
        if (p[f] !== undefined) errs.push({ field: f, detail: `applies to physical gifts, not to a ${rr.kind} reward` });
      }
    }
    if (rr.kind !== 'event_invitation' && p.rsvp !== undefined) errs.push({ field: 'rsvp', detail: `applies to event invitations, not to a ${rr.kind} reward` });
    return errs;
  }

  /**
   * Physical gifts: fulfilment pending -> shipped -> delivered (pending -> delivered when handed over), or cancelled
   * before delivery (as a cancellation: points and stock back); tracking and note. Event invitations: RSVP.
   */
  async updateRedemption(tx: Tx, tenantId: string, id: string, p: UpdateRewardRedemptionInput, actor: string | null): Promise<RewardRedemptionView> {
    const { rr, reward } = await this.lockRedemption(tx, tenantId, id);
    const errs = this.patchErrors(rr, p);
    if (errs.length) throw errors.validation(errs);
    if (p.fulfilment_status === 'cancelled' || p.rsvp === 'declined') {
      if (rr.status === 'cancelled') throw errors.unprocessable(`Reward redemption ${rr.id} was already cancelled.`);
      const cancelled = await this.cancelLocked(tx, tenantId, rr, reward, actor, p.rsvp === 'declined' ? 'declined' : 'fulfilment cancelled');
      await this.fulfilmentEvent(tx, tenantId, (await store.getRewardRedemption(tx, tenantId, id))!,
        p.rsvp ? { rsvp: { from: rr.rsvp_status, to: 'declined' } } : { fulfilment_status: { from: rr.fulfilment_status, to: 'cancelled' } }, this.now());
      return cancelled;
    }
    if (rr.status === 'cancelled') throw errors.unprocessable(`Reward redemption ${rr.id} is cancelled.`);
    const now = this.now();
    const change: Parameters<typeof store.updateRewardRedemption>[3] = {};
    const what: Record<string, unknown> = {};
    if (p.fulfilment_status && p.fulfilment_status !== rr.fulfilment_status) {
      const allowed: Record<string, string[]> = { pending: ['shipped', 'delivered'], shipped: ['delivered'] };
      if (!(allowed[rr.fulfilment_status ?? ''] ?? []).includes(p.fulfilment_status)) {
        throw errors.unprocessable(`A ${rr.fulfilment_status} gift cannot become ${p.fulfilment_status}.`, [{ field: 'fulfilment_status', detail: `cannot go from ${rr.fulfilment_status} to ${p.fulfilment_status}` }]);
      }
      change.fulfilment_status = p.fulfilment_status;
      what.fulfilment_status = { from: rr.fulfilment_status, to: p.fulfilment_status };
    }
    if (p.tracking_ref !== undefined) change.tracking_ref = p.tracking_ref;
    if (p.note !== undefined) change.note = p.note;
    if (p.shipping_address !== undefined) {
      if ((change.fulfilment_status ?? rr.fulfilment_status) !== 'pending') {
        throw errors.unprocessable('The gift has left: its address cannot change.', [{ field: 'shipping_address', detail: 'can change only while the fulfilment is pending' }]);
      }
      change.shipping_address = p.shipping_address as Record<string, string>;
    }
    if (p.rsvp === 'accepted' && rr.rsvp_status === 'waitlisted') {
      if (!(await store.takeSeat(tx, tenantId, reward.id))) {
        throw errors.unprocessable(`All ${reward.capacity} seats are taken.`, [{ field: 'rsvp', detail: 'full: the invitation stays on the waitlist' }]);
      }
      change.rsvp_status = 'accepted';
      what.rsvp = { from: 'waitlisted', to: 'accepted' };
    }
    const row = await store.updateRewardRedemption(tx, tenantId, id, change, now);
    if (Object.keys(what).length || p.tracking_ref !== undefined || p.note !== undefined || p.shipping_address !== undefined) {
      await this.fulfilmentEvent(tx, tenantId, row, { ...what, changed: Object.keys(p), actor }, now);
    }
    return rewardRedemptionView(row);
  }

  /**
   * The vouchers module calls this when an unused voucher is cancelled (in its transaction): the reward redemption
   * that issued it is cancelled and its points refunded.
   */
  async onVoucherCancelled(tx: Tx, tenantId: string, voucher: { id: string; redemption_id?: string | null }): Promise<void> {
    const found = await store.findByVoucher(tx, tenantId, { voucherId: voucher.id, redemptionId: voucher.redemption_id ?? null });
    if (!found || found.status === 'cancelled') return;
    const { rr, reward } = await this.lockRedemption(tx, tenantId, found.id);
    if (rr.status === 'cancelled') return;
    await this.cancelLocked(tx, tenantId, rr, reward, null, 'voucher cancelled', { voucherCancelled: true });
  }

  // ── Sweepstakes ───────────────────────────────────────────────────────

  /**
   * Draws the winners of a sweepstakes, once: the reward row is locked (no entry can be added meanwhile), the entries
   * listed in reward redemption id order, and drawWinners run with the seed committed at creation.
   */
  async draw(tx: Tx, tenantId: string, rewardId: string, winners: number, actor: string | null) {
    const reward = await this.row(tx, tenantId, rewardId, true);
    if (reward.kind !== 'sweepstakes') throw errors.unprocessable(`Reward ${rewardId} is a ${reward.kind} reward, not a sweepstakes.`);
    if (reward.drawn_at) throw errors.unprocessable(`The draw of reward ${rewardId} took place at ${reward.drawn_at.toISOString()}.`);
    const entrants: Entrant[] = [];
    for (const e of await store.entriesOf(tx, tenantId, rewardId)) {
      for (let i = 0; i < e.quantity; i++) entrants.push([e.id, e.member_id]);
    }
    if (entrants.length === 0) throw errors.unprocessable(`Reward ${rewardId} has no entries to draw from.`);
    const seed = reward.draw_seed!;
    const picked = drawWinners(seed, entrants, winners);
    const now = this.now();
    const draw = await store.insertDraw(tx, tenantId, {
      id: newId(), reward_id: rewardId, algorithm: DRAW_ALGORITHM, seed, seed_sha256: reward.draw_seed_sha256!, winners_count: winners,
      entrants: entrants.map(([r, m]) => [r, m]), entrants_count: entrants.length, entrants_sha256: entrantsDigest(entrants), winners: picked, actor, drawn_at: now,
    });
    await store.markDrawn(tx, tenantId, rewardId, now);
    await store.markWinners(tx, tenantId, rewardId, picked.map((w) => w.reward_redemption_id), now);
    await emit(tx, {
      tenantId, type: 'reward.draw_completed', aggregateType: 'reward', aggregateId: rewardId, occurredAt: now,
      payload: {
        reward_id: rewardId, draw_id: draw.id, algorithm: DRAW_ALGORITHM, seed_sha256: draw.seed_sha256, entrants_count: draw.entrants_count,
        entrants_sha256: draw.entrants_sha256, winners: picked.map((w) => ({ member_id: w.member_id, reward_redemption_id: w.reward_redemption_id })),
      },
    });
    return drawView(draw);
  }

  async draws(q: Queryable, tenantId: string, rewardId: string) {
    await this.row(q, tenantId, rewardId);
    return (await store.drawsOf(q, tenantId, rewardId)).map(drawView);
  }

  // ── GDPR ──────────────────────────────────────────────────────────────

  async exportMember(q: Queryable, tenantId: string, memberId: string, limit: number): Promise<RewardRedemptionView[]> {
    return this.listRedemptions(q, tenantId, { memberId, limit });
  }

  eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    return store.clearPersonalData(tx, tenantId, memberId);
  }
}

function pickDefined(s: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
}
