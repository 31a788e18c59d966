/**
 * Vouchers: codes a shop accepts at checkout — a fixed amount off, a percentage off (with a cap), a free product, or a
 * gift card whose balance is spent in parts. Issued one at a time (by the rewards catalog, or by hand) or in bulk
 * batches; codes come from a pattern with crypto randomness or from an imported pool.
 *
 * Concurrency: a voucher's row is its lock. Redeeming, releasing and cancelling take it FOR UPDATE before they read
 * its state, so the same code redeemed twice at once succeeds once and the second sees it used. A redemption touches
 * one voucher, so no two of them wait on each other in opposite orders.
 *
 * Events (same transaction): voucher.issued, voucher_batch.created (one per batch, not one per code),
 * voucher.redeemed, voucher.released, voucher.cancelled, voucher.expired.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit, emitMany } from '../../platform/outbox/outbox.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import { CODE_RE, DEFAULT_PATTERN, generateCodes, normaliseCode, parsePattern, type ParsedPattern } from './vouchers.codes.js';
import * as store from './vouchers.store.js';
import type { BatchRow, PoolRow, RedemptionRow, VoucherKind, VoucherRow, VoucherTerms } from './vouchers.store.js';

export type { BatchRow, PoolRow, RedemptionRow, VoucherKind, VoucherRow, VoucherStatus } from './vouchers.store.js';
export { KINDS, STATUSES } from './vouchers.store.js';

/** What to issue (the contract the rewards catalog calls). */
export interface VoucherSpec {
  member_id: string | null;
  reward_id: string | null;
  redemption_id: string | null;
  kind: VoucherKind;
  amount?: number;
  currency?: string;
  percent?: number;
  max_discount?: number;
  sku?: string;
  min_basket?: number;
  expires_at: Date | null;
  code_pattern?: string;
  pool_id?: string;
}

export interface BatchSpec extends Omit<VoucherSpec, 'member_id' | 'reward_id' | 'redemption_id' | 'code_pattern'> {
  count: number;
  pattern?: string;
}

export interface Basket {
  total: number;
  currency: string;
  member_id?: string | null;
}

export const INVALID_REASONS = ['redeemed', 'cancelled', 'expired', 'member_mismatch', 'currency_mismatch', 'min_basket_not_met'] as const;
export type InvalidReason = (typeof INVALID_REASONS)[number];

export interface Validation {
  code: string;
  valid: boolean;
  reason: InvalidReason | null;
  detail: string | null;
  /** What the voucher takes off this basket (0 when not valid; a free product's value when it has one); null without a basket total. */
  discount: { amount: number; currency: string } | null;
  free_sku: string | null;
  voucher: VoucherRow;
}

export type CancelledCallback = (tx: Tx, tenantId: string, voucher: VoucherRow) => Promise<void>;

export const LIMITS = { amount: 1_000_000_000_000, batch: 100_000, total: 1_000_000_000_000 };
const MAX_DRAWS = 8;

/** The field a reason concerns, for a 422 naming it. */
const REASON_FIELD: Record<InvalidReason, string> = {
  redeemed: 'code', cancelled: 'code', expired: 'code', member_mismatch: 'member_id', currency_mismatch: 'currency', min_basket_not_met: 'total',
};

/** Every problem of a spec the schema cannot see (also for direct callers, who have no schema). */
export function specErrors(s: Partial<VoucherSpec & { pattern?: string }>, now: Date, patternField = 'code_pattern'): FieldError[] {
  const errs: FieldError[] = [];
  const money = (f: 'amount' | 'max_discount' | 'min_basket', min: number) => {
    const v = s[f];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min || v > LIMITS.amount)) errs.push({ field: f, detail: `must be a whole number of minor units from ${min} to ${LIMITS.amount}` });
  };
  money('amount', 1);
  money('max_discount', 1);
  money('min_basket', 0);
  const need = (f: keyof VoucherSpec, why: string) => {
    if (s[f] === undefined || s[f] === null) errs.push({ field: f, detail: `is required for ${why}` });
  };
  const refuse = (f: keyof VoucherSpec, why: string) => {
    if (s[f] !== undefined && s[f] !== null) errs.push({ field: f, detail: `is only for ${why}` });
  };
  switch (s.kind) {
    case 'fixed_amount': need('amount', 'a fixed_amount voucher'); refuse('percent', 'percentage vouchers'); refuse('max_discount', 'percentage vouchers'); refuse('sku', 'free_product vouchers'); break;
    case 'percentage': need('percent', 'a percentage voucher'); refuse('amount', 'fixed_amount, free_product and gift_card vouchers'); refuse('sku', 'free_product vouchers'); break;
    case 'free_product': need('sku', 'a free_product voucher'); refuse('percent', 'percentage vouchers'); refuse('max_discount', 'percentage vouchers'); break;
    case 'gift_card': need('amount', 'a gift_card (its value)'); refuse('percent', 'percentage vouchers'); refuse('max_discount', 'percentage vouchers'); refuse('sku', 'free_product vouchers'); break;
    default: errs.push({ field: 'kind', detail: 'must be fixed_amount, percentage, free_product or gift_card' });
  }
  if (s.percent !== undefined && (typeof s.percent !== 'number' || !(s.percent > 0 && s.percent <= 100) || Math.round(s.percent * 100) !== s.percent * 100)) {
    errs.push({ field: 'percent', detail: 'must be more than 0 and at most 100, with at most two decimals' });
  }
  if (s.currency !== undefined && !/^[A-Z]{3}$/.test(s.currency)) errs.push({ field: 'currency', detail: 'must be an ISO 4217 code such as EUR' });
  if (s.sku !== undefined && (typeof s.sku !== 'string' || s.sku.trim() === '' || s.sku.length > 200)) errs.push({ field: 'sku', detail: 'must be 1 to 200 characters' });
  if (s.expires_at && s.expires_at <= now) errs.push({ field: 'expires_at', detail: 'must be in the future' });
  const pattern = s.code_pattern ?? s.pattern;
  if (pattern !== undefined) {
    const parsed = parsePattern(pattern);
    if ('error' in parsed) errs.push({ field: patternField, detail: parsed.error });
    if (s.pool_id !== undefined) errs.push({ field: patternField, detail: 'give a pattern or a pool_id, not both' });
  }
  return errs;
}

/** What the voucher takes off a basket of `total` (already known to be valid for it). */
export function discountOf(v: Pick<VoucherRow, 'kind' | 'amount' | 'percent' | 'max_discount' | 'balance'>, total: number): number {
  switch (v.kind) {
    case 'fixed_amount': return Math.min(v.amount!, total);
    case 'free_product': return Math.min(v.amount ?? 0, total);
    case 'gift_card': return Math.min(v.balance!, total);
    case 'percentage': {
      // Basis points in BigInt: total × 10,000 may pass 2^53. Rounded down: the shop never gives more than promised.
      const off = Number((BigInt(total) * BigInt(Math.round(v.percent! * 100))) / 10_000n);
      return Math.min(v.max_discount ?? off, off, total);
    }
  }
}

export class VouchersService {
  private readonly cancelled: CancelledCallback[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly members: Pick<MembersService, 'find'>,
    private readonly programs: Pick<ProgramsService, 'get'>,
  ) {}

  /** Called in the transaction that cancels an unused voucher (the rewards catalog refunds its points there). */
  onCancelled(fn: CancelledCallback): void {
    this.cancelled.push(fn);
  }

  private async terms(q: Queryable, tenantId: string, s: Omit<VoucherSpec, 'code_pattern'>, batchId: string | null, poolId: string | null): Promise<VoucherTerms> {
    return {
      kind: s.kind, currency: s.currency ?? (await this.programs.get(q, tenantId)).currency, amount: s.amount ?? null, percent: s.percent ?? null,
      max_discount: s.max_discount ?? null, sku: s.sku ?? null, min_basket: s.min_basket ?? 0, member_id: s.member_id, reward_id: s.reward_id,
      redemption_id: s.redemption_id, batch_id: batchId, pool_id: poolId, expires_at: s.expires_at, created_at: this.clock.now(),
    };
  }

  private async pool(q: Queryable, tenantId: string, poolId: string): Promise<PoolRow> {
    const pool = await store.getPool(q, tenantId, poolId);
    if (!pool) throw errors.notFound('voucher pool', poolId);
    return pool;
  }

  /**
   * Inserts `count` vouchers with codes drawn from the pattern; codes already taken (by another voucher, or twice in
   * one draw) are drawn again, up to MAX_DRAWS rounds. Returns the rows (when `returning`) and how many were redrawn.
   */
  private async insertGenerated(tx: Tx, tenantId: string, t: VoucherTerms, pattern: ParsedPattern, count: number, returning: boolean): Promise<{ rows: VoucherRow[]; collisions: number }> {
    let left = count;
    let collisions = 0;
    const rows: VoucherRow[] = [];
    for (let draw = 0; left > 0; draw++) {
      if (draw === MAX_DRAWS) throw errors.unprocessable(`The pattern's codes are running out: ${left} of ${count} could not be drawn unique after ${MAX_DRAWS} rounds. Use a longer pattern.`, [{ field: 'pattern', detail: 'has too few unused codes left' }]);
      const codes = generateCodes(pattern, left);
      const ids = codes.map(() => newId());
      const r = await store.insertVouchers(tx, tenantId, t, ids, codes, returning);
      rows.push(...r.rows);
      collisions += left - r.inserted;
      left -= r.inserted;
    }
    return { rows, collisions };
  }

  /**
   * Takes `count` codes of a pool and inserts them as vouchers. A pool code that is already some voucher's code is
   * skipped (left taken, linked to no voucher) and the next one taken. 422 naming `pool_id` when the pool runs out.
   */
  private async insertFromPool(tx: Tx, tenantId: string, t: VoucherTerms, poolId: string, count: number, returning: boolean): Promise<VoucherRow[]> {
    await this.pool(tx, tenantId, poolId);
    let left = count;
    const rows: VoucherRow[] = [];
    while (left > 0) {
      const codes = await store.takePoolCodes(tx, tenantId, poolId, left, t.created_at);
      if (codes.length === 0) {
        throw errors.unprocessable(`The voucher pool ${poolId} has no unused codes left${count > 1 ? ` (${count - left} of ${count} were available)` : ''}.`, [{ field: 'pool_id', detail: 'has no unused codes left' }]);
      }
      const ids = codes.map(() => newId());
      const r = await store.insertVouchers(tx, tenantId, t, ids, codes, true);
      await store.linkPoolCodes(tx, tenantId, r.rows.map((v) => v.id), r.rows.map((v) => v.code));
      if (returning) rows.push(...r.rows);
      left -= r.inserted;
    }
    return rows;
  }

  /** Issues one voucher (a reward, a gift, by hand) and emits `voucher.issued`. 400 for a bad spec. */
  async issue(tx: Tx, tenantId: string, spec: VoucherSpec): Promise<VoucherRow> {
    const errs = specErrors(spec, this.clock.now());
    if (errs.length) throw errors.validation(errs);
    if (spec.member_id && !(await this.members.find(tx, tenantId, { id: spec.member_id }))) throw errors.notFound('member', spec.member_id);
    const t = await this.terms(tx, tenantId, spec, null, spec.pool_id ?? null);
    let v: VoucherRow;
    if (spec.pool_id) {
      v = (await this.insertFromPool(tx, tenantId, t, spec.pool_id, 1, true))[0]!;
    } else {
      const pattern = parsePattern(spec.code_pattern ?? DEFAULT_PATTERN) as ParsedPattern;
      v = (await this.insertGenerated(tx, tenantId, t, pattern, 1, true)).rows[0]!;
    }
    await emit(tx, {
      tenantId, type: 'voucher.issued', aggregateType: 'voucher', aggregateId: v.id, memberId: v.member_id, occurredAt: v.created_at,
      payload: { voucher_id: v.id, kind: v.kind, member_id: v.member_id, reward_id: v.reward_id, redemption_id: v.redemption_id, expires_at: v.expires_at },
    });
    return v;
  }

  /**
   * Generates `count` (up to 100,000) vouchers of one kind in a few set-based statements, and emits one
   * `voucher_batch.created` (the vouchers belong to nobody yet, so no one is told of each).
   */
  async createBatch(tx: Tx, tenantId: string, spec: BatchSpec): Promise<BatchRow> {
    const errs = specErrors({ ...spec, member_id: null, reward_id: null, redemption_id: null }, this.clock.now(), 'pattern');
    if (!Number.isSafeInteger(spec.count) || spec.count < 1 || spec.count > LIMITS.batch) errs.push({ field: 'count', detail: `must be 1 to ${LIMITS.batch}` });
    if (errs.length) throw errors.validation(errs);
    const id = newId();
    const t = await this.terms(tx, tenantId, { ...spec, member_id: null, reward_id: null, redemption_id: null }, id, spec.pool_id ?? null);
    const pattern = spec.pool_id ? null : (spec.pattern ?? DEFAULT_PATTERN).toUpperCase();
    if (spec.pool_id) await this.pool(tx, tenantId, spec.pool_id);
    const terms = {
      kind: t.kind, currency: t.currency, amount: t.amount, percent: t.percent, max_discount: t.max_discount, sku: t.sku, min_basket: t.min_basket, expires_at: t.expires_at,
    };
    await store.insertBatch(tx, tenantId, { id, count: spec.count, pattern, pool_id: spec.pool_id ?? null, spec: terms, collisions: 0, created_at: t.created_at });
    let batch: BatchRow;
    if (spec.pool_id) {
      await this.insertFromPool(tx, tenantId, t, spec.pool_id, spec.count, false);
      batch = (await store.getBatch(tx, tenantId, id))!;
    } else {
      const r = await this.insertGenerated(tx, tenantId, t, parsePattern(pattern!) as ParsedPattern, spec.count, false);
      batch = await store.setBatchCollisions(tx, tenantId, id, r.collisions);
    }
    await emit(tx, {
      tenantId, type: 'voucher_batch.created', aggregateType: 'voucher_batch', aggregateId: id, occurredAt: t.created_at,
      payload: { batch_id: id, count: spec.count, kind: t.kind, pool_id: batch.pool_id, expires_at: t.expires_at },
    });
    return batch;
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<VoucherRow> {
    const v = await store.getVoucher(q, tenantId, id);
    if (!v) throw errors.notFound('voucher', id);
    return v;
  }

  list(q: Queryable, tenantId: string, f: store.VoucherFilter): Promise<VoucherRow[]> {
    return store.listVouchers(q, tenantId, f);
  }

  /** The voucher with this code (any case), or a 404 that does not say whether the code exists elsewhere. */
  private async byCode(q: Queryable, tenantId: string, code: string, lock: boolean): Promise<VoucherRow> {
    const norm = normaliseCode(code);
    const v = CODE_RE.test(norm) ? await store.getByCode(q, tenantId, norm, lock) : null;
    if (!v) throw errors.notFound('voucher with code', norm);
    return v;
  }

  /** Whether `v` can be used for the basket now, and why not. */
  private check(v: VoucherRow, basket: Partial<Basket>, now: Date): { reason: InvalidReason; detail: string } | null {
    if (v.status !== 'active') return { reason: v.status as InvalidReason, detail: `The voucher is ${v.status}.` };
    if (v.expires_at && v.expires_at <= now) return { reason: 'expired', detail: `The voucher expired at ${v.expires_at.toISOString()}.` };
    if (v.member_id && basket.member_id !== v.member_id) return { reason: 'member_mismatch', detail: 'The voucher belongs to another member: send the member_id it was issued to.' };
    if (basket.currency !== undefined && basket.currency !== v.currency) return { reason: 'currency_mismatch', detail: `The voucher is in ${v.currency}, the basket in ${basket.currency}.` };
    if (basket.total !== undefined && basket.total < v.min_basket) return { reason: 'min_basket_not_met', detail: `The basket must be at least ${v.min_basket} (minor units of ${v.currency}); it is ${basket.total}.` };
    return null;
  }

  /**
   * Answers whether the code can be used for this basket and what it takes off. Writes nothing. Without a total (or
   * currency) only what does not depend on it is checked, and the discount is null.
   */
  async validate(q: Queryable, tenantId: string, code: string, basket: Partial<Basket>): Promise<Validation> {
    const v = await this.byCode(q, tenantId, code, false);
    const bad = this.check(v, basket, this.clock.now());
    return {
      code: v.code, valid: !bad, reason: bad?.reason ?? null, detail: bad?.detail ?? null,
      discount: basket.total === undefined ? null : { amount: bad ? 0 : discountOf(v, basket.total), currency: v.currency },
      free_sku: v.kind === 'free_product' ? v.sku : null, voucher: v,
    };
  }

  /**
   * Uses the code for an order. The voucher row is locked first: of two redemptions at once, the second sees the
   * first's result. The same order sent again is answered with its standing redemption (`replayed`), or a 409 when
   * its total, currency or member differ. A gift card spends min(balance, total, `amount`) and stays active while
   * money is left; other kinds are used up.
   */
  async redeem(tx: Tx, tenantId: string, code: string, input: Basket & { order_ref: string; amount?: number }): Promise<{ redemption: RedemptionRow; voucher: VoucherRow; replayed: boolean }> {
    const found = await this.byCode(tx, tenantId, code, true);
    const memberId = input.member_id ?? null;
    const standing = await store.standingFor(tx, tenantId, found.id, input.order_ref);
    if (standing) {
      if (standing.total !== input.total || standing.currency !== input.currency || standing.member_id !== memberId) {
        throw errors.conflict(`The voucher was already redeemed for order ${input.order_ref} with another total, currency or member.`, [{ field: 'order_ref', detail: 'was redeemed with another basket' }]);
      }
      return { redemption: standing, voucher: found, replayed: true };
    }
    if (memberId && !(await this.members.find(tx, tenantId, { id: memberId }))) throw errors.notFound('member', memberId);
    const now = this.clock.now();
    const bad = this.check(found, input, now);
    if (bad) throw errors.unprocessable(bad.detail, [{ field: REASON_FIELD[bad.reason], detail: bad.reason }]);
    let discount = discountOf(found, input.total);
    if (input.amount !== undefined) {
      if (found.kind !== 'gift_card') throw errors.field('amount', 'is only for gift cards (the part of the balance to spend)');
      if (input.amount > discount) throw errors.unprocessable(`At most ${discount} can be spent from this gift card on this basket.`, [{ field: 'amount', detail: `must be at most ${discount}` }]);
      discount = input.amount;
    }
    if (found.kind === 'gift_card' && discount === 0) throw errors.unprocessable('Nothing to spend: the basket total is 0.', [{ field: 'total', detail: 'must be more than 0 for a gift card' }]);
    const redemption = await store.insertRedemption(tx, tenantId, {
      id: newId(), voucher_id: found.id, order_ref: input.order_ref, member_id: memberId, total: input.total, currency: input.currency, discount, created_at: now,
    });
    const balance = found.kind === 'gift_card' ? found.balance! - discount : null;
    const status = found.kind === 'gift_card' && balance! > 0 ? 'active' : 'redeemed';
    const voucher = await store.setState(tx, tenantId, found.id, status, balance, now);
    await emit(tx, {
      tenantId, type: 'voucher.redeemed', aggregateType: 'voucher', aggregateId: found.id, memberId: memberId ?? found.member_id, occurredAt: now,
      payload: { voucher_id: found.id, redemption_id: redemption.id, order_ref: input.order_ref, member_id: memberId, discount, currency: found.currency, balance },
    });
    return { redemption, voucher, replayed: false };
  }

  /**
   * Undoes a redemption (its order was cancelled): the voucher can be used again (expired at once if its expiry
   * passed meanwhile) and a gift card gets the money back. Releasing twice is a 422.
   */
  async release(tx: Tx, tenantId: string, code: string, redemptionId: string): Promise<{ redemption: RedemptionRow; voucher: VoucherRow }> {
    const found = await this.byCode(tx, tenantId, code, true);
    const r = await store.getRedemption(tx, tenantId, redemptionId);
    if (!r || r.voucher_id !== found.id) throw errors.notFound('redemption of this voucher', redemptionId);
    if (r.status === 'released') throw errors.unprocessable(`The redemption was already released at ${r.released_at!.toISOString()}.`);
    const now = this.clock.now();
    const redemption = await store.markReleased(tx, tenantId, r.id, now);
    let voucher = found;
    if (found.status !== 'cancelled') {
      const balance = found.kind === 'gift_card' ? found.balance! + r.discount : null;
      const status = found.expires_at && found.expires_at <= now ? 'expired' : 'active';
      voucher = await store.setState(tx, tenantId, found.id, status, balance, now);
    }
    await emit(tx, {
      tenantId, type: 'voucher.released', aggregateType: 'voucher', aggregateId: found.id, memberId: r.member_id ?? found.member_id, occurredAt: now,
      payload: { voucher_id: found.id, redemption_id: r.id, order_ref: r.order_ref, discount: r.discount, currency: r.currency, status: voucher.status, balance: voucher.balance },
    });
    return { redemption, voucher };
  }

  /**
   * Cancels an unused voucher (active, never redeemed or every redemption released) and calls the `onCancelled`
   * callbacks in this transaction. A used, expired or cancelled voucher is a 422.
   */
  async cancel(tx: Tx, tenantId: string, id: string): Promise<VoucherRow> {
    const found = await store.lockVoucher(tx, tenantId, id);
    if (!found) throw errors.notFound('voucher', id);
    if (found.status !== 'active') throw errors.unprocessable(`Only an unused voucher can be cancelled; this one is ${found.status}.`);
    if (await store.countStanding(tx, tenantId, id)) throw errors.unprocessable('The voucher has been used (part of a gift card is spent): release its redemptions first.');
    const now = this.clock.now();
    const v = await store.setState(tx, tenantId, id, 'cancelled', found.balance, now);
    for (const fn of this.cancelled) await fn(tx, tenantId, v);
    await emit(tx, {
      tenantId, type: 'voucher.cancelled', aggregateType: 'voucher', aggregateId: id, memberId: v.member_id, occurredAt: now,
      payload: { voucher_id: id, member_id: v.member_id, reward_id: v.reward_id, redemption_id: v.redemption_id },
    });
    return v;
  }

  async redemptions(q: Queryable, tenantId: string, voucherId: string, f: { beforeId?: string; limit: number }): Promise<RedemptionRow[]> {
    await this.get(q, tenantId, voucherId);
    return store.listRedemptions(q, tenantId, voucherId, f);
  }

  /** Marks vouchers past their expiry as expired, a batch per transaction (resumable); returns how many. */
  async expireDue(db: Db, tenantId: string, batchSize = 1000): Promise<number> {
    let total = 0;
    for (;;) {
      const now = this.clock.now();
      const n = await db.tx(async (tx) => {
        const done = await store.expireDue(tx, tenantId, now, batchSize);
        await emitMany(tx, done.map((v) => ({
          tenantId, type: 'voucher.expired', aggregateType: 'voucher', aggregateId: v.id, memberId: v.member_id, occurredAt: now,
          payload: { voucher_id: v.id, member_id: v.member_id, balance: v.balance },
        })));
        return done.length;
      });
      total += n;
      if (n < batchSize) return total;
    }
  }

  // ── Pools ───────────────────────────────────────────────────────────────

  async createPool(tx: Tx, tenantId: string, name: string): Promise<PoolRow> {
    const id = newId();
    const now = this.clock.now();
    await store.insertPool(tx, tenantId, { id, name, created_at: now });
    await emit(tx, { tenantId, type: 'voucher_pool.created', aggregateType: 'voucher_pool', aggregateId: id, occurredAt: now, payload: { pool_id: id, name } });
    return (await store.getPool(tx, tenantId, id))!;
  }

  getPool(q: Queryable, tenantId: string, id: string): Promise<PoolRow> {
    return this.pool(q, tenantId, id);
  }

  listPools(q: Queryable, tenantId: string, f: { beforeId?: string; limit: number }): Promise<PoolRow[]> {
    return store.listPools(q, tenantId, f);
  }

  /**
   * Adds codes (normalised upper case) to a pool. 400 naming every malformed code; codes already in a pool of the
   * tenant (or twice in the upload) are counted as `duplicates` and not added again.
   */
  async addCodes(tx: Tx, tenantId: string, poolId: string, codes: string[]): Promise<{ pool: PoolRow; received: number; added: number; duplicates: number }> {
    const norm = codes.map(normaliseCode);
    const errs: FieldError[] = [];
    norm.forEach((c, i) => {
      if (errs.length < 50 && !CODE_RE.test(c)) errs.push({ field: `codes[${i}]`, detail: 'must be 3 to 64 letters, digits, - or _' });
    });
    if (errs.length) throw errors.validation(errs);
    await this.pool(tx, tenantId, poolId);
    const added = await store.addPoolCodes(tx, tenantId, poolId, norm);
    // Counts only: the codes are bearer credentials and stay out of webhooks.
    await emit(tx, {
      tenantId, type: 'voucher_pool.codes_added', aggregateType: 'voucher_pool', aggregateId: poolId, occurredAt: this.clock.now(),
      payload: { pool_id: poolId, received: codes.length, added, duplicates: codes.length - added },
    });
    return { pool: (await store.getPool(tx, tenantId, poolId))!, received: codes.length, added, duplicates: codes.length - added };
  }

  // ── Batches ─────────────────────────────────────────────────────────────

  async getBatch(q: Queryable, tenantId: string, id: string): Promise<BatchRow> {
    const b = await store.getBatch(q, tenantId, id);
    if (!b) throw errors.notFound('voucher batch', id);
    return b;
  }

  listBatches(q: Queryable, tenantId: string, f: { beforeId?: string; limit: number }): Promise<BatchRow[]> {
    return store.listBatches(q, tenantId, f);
  }
}
