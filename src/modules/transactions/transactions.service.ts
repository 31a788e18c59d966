/**
 * Orders: purchases earn points by the earn rules in force when they happened; returns claw back what the kept
 * part of the order no longer earns; a void undoes an order. docs/ledger.md has the worked examples.
 *
 * An order's `external_id` is unique per tenant: a re-sent order gets the first answer (never a second earning),
 * the same id with another body is a 409, with or without an Idempotency-Key.
 */
import type { Clock } from '../../platform/clock.js';
import { withSavepoint, type Queryable, type Tx } from '../../platform/db/db.js';
import { errors, isAppError, type FieldError } from '../../platform/errors.js';
import { jsonBodyDigest } from '../../platform/idempotency/idempotency.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MemberRow, MembersService } from '../members/members.service.js';
import { activatesAt, lotExpiresAt } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { Program } from '../programs/programs.types.js';
import { evaluateEarn, localTime } from '../rules/rules.engine.js';
import type { RulesService } from '../rules/rules.service.js';
import type { EarnContext, EarnResult, EarnRule, EarnTransaction } from '../rules/rules.types.js';
import type { CreateTransactionInput } from './transactions.schema.js';
import * as store from './transactions.store.js';
import type { EarningRecord, Line, TransactionRow } from './transactions.store.js';

export type { TransactionRow } from './transactions.store.js';

/** Clock skew between a shop's systems and Patron that is still "now". */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface RecordOptions {
  /** Award points (false: a historical import that only records the order). */
  award?: boolean;
  source?: 'api' | 'import';
}

export interface RecordResult {
  transaction: TransactionRow;
  /** False when the order was already recorded (a re-send): the answer is the first one. */
  created: boolean;
}

export interface Preview {
  member_id: string | null;
  points: number;
  eligible_amount: number;
  activates_at: string | null;
  expires_at: string | null;
  not_earned_reason: string | null;
  explanation: EarnResult['explanation'];
}

/** The canonical order with defaults applied: what is stored, compared on a re-send, and evaluated. */
interface Order {
  external_id: string;
  type: 'purchase' | 'return';
  member_id: string | null;
  member_external_id: string | null;
  customer_ref: string | null;
  occurred_at: Date;
  currency: string;
  total: number;
  lines: Line[] | null;
  channel: string | null;
  store_id: string | null;
  payments: store.Payment[] | null;
  original_id: string | null;
  original_external_id: string | null;
}

/** The facts of a purchase the earn engine needs, from its stored row or a kept part of it. */
export function earnTransaction(o: { currency: string; total: number; lines: Line[] | null; channel: string | null; store_id: string | null; occurred_at: Date; payments: store.Payment[] | null }): EarnTransaction {
  return {
    currency: o.currency,
    total: o.total,
    lines: o.lines?.map((l) => ({ sku: l.sku, category: l.category ?? null, quantity: l.quantity, unit_price: l.unit_price ?? 0, discount: l.discount ?? 0 })),
    channel: o.channel,
    store_id: o.store_id,
    occurred_at: o.occurred_at.toISOString(),
    payments: o.payments ?? undefined,
  };
}

/** The points stay pending for the longest period among the rules that awarded them (a rule without one: the program's). */
export function pendingDaysOf(rules: EarnRule[], result: EarnResult, program: Pick<Program, 'pending_days'>): number {
  const applied = new Set(result.explanation.filter((e) => e.outcome === 'applied').map((e) => e.rule_id));
  return Math.max(0, ...rules.filter((r) => applied.has(r.id)).map((r) => r.pending_days ?? program.pending_days));
}

const mentions = (rules: EarnRule[], word: string) => rules.some((r) => JSON.stringify(r.condition ?? null).includes(word));

/** A purchase that earned (or could have earned) for a member, as modules that react to orders see it. */
export interface PurchaseRecorded {
  tenantId: string;
  member: MemberRow;
  /** The stored purchase (earning.points: what the earn rules gave). */
  transaction: TransactionRow;
  /** The member's points, locked for this transaction: credit through it, never through a second `ledger.open`. */
  book: MemberBook;
  program: Program;
}

/** A return of a member's purchase; `purchase` is the purchase as it stands after the return. */
export interface ReturnRecorded {
  tenantId: string;
  memberId: string;
  purchase: TransactionRow;
  return: TransactionRow;
  book: MemberBook;
  program: Program;
}

/** A voided purchase or return of a member; `purchase` as it stands after the void. */
export interface OrderVoided {
  tenantId: string;
  memberId: string;
  purchase: TransactionRow;
  voided: TransactionRow;
  book: MemberBook;
  program: Program;
}

/**
 * A module that reacts to orders (tiers, stamp cards, referrals, badges, campaigns) registers a hook; it runs inside
 * the order's transaction after the order and its points are written, with the member's book locked, so its effects
 * commit or roll back with the order. Hooks run for members who may earn (active, not an import without points),
 * in the order they were registered. A hook must not lock another member's book (lock order: one member per order).
 */
export interface OrderHook {
  name: string;
  purchased?(tx: Tx, e: PurchaseRecorded): Promise<void>;
  returned?(tx: Tx, e: ReturnRecorded): Promise<void>;
  voided?(tx: Tx, e: OrderVoided): Promise<void>;
}

/** What the program knows of a member beyond their attributes when judging an order or event: their tier. */
export type MemberStanding = (q: Queryable, tenantId: string, memberId: string, at: Date) => Promise<{ tier: string | null; multiplier?: number }>;

/**
 * The earliest day an order may be dated (API and import). Far enough back for the history of an established shop and
 * for the reference data sets of retention analytics (CDNOW is 1997-98), near enough to catch a date typed wrong.
 */
export const EARLIEST_ORDER_DAY = '1990-01-01';

export class TransactionsService {
  constructor(private readonly deps: { clock: Clock; ledger: Ledger; members: MembersService; programs: ProgramsService; rules: RulesService }) {}

  private readonly hooks: OrderHook[] = [];
  private standing: MemberStanding = async () => ({ tier: null });

  /** Registers a module's reaction to orders (see OrderHook). */
  registerHook(hook: OrderHook): void {
    this.hooks.push(hook);
  }

  /** Where the member's tier comes from (the tiers module); without one every member is judged with tier null. */
  setStanding(standing: MemberStanding): void {
    this.standing = standing;
  }

  /** Semantic checks the schema cannot make; every bad field at once. */
  checkOrder(input: CreateTransactionInput, program: Program, now: Date): FieldError[] {
    const errs: FieldError[] = [];
    const type = input.type ?? 'purchase';
    if (input.currency !== program.currency) errs.push({ field: 'currency', detail: `must be the program's currency, ${program.currency}` });
    if (input.occurred_at !== undefined) {
      const at = Date.parse(input.occurred_at);
      // RFC 3339 allows a leap second (23:59:60) that JavaScript dates cannot hold.
      if (Number.isNaN(at)) errs.push({ field: 'occurred_at', detail: 'must be a timestamp JavaScript can represent (no leap second)' });
      else if (at > now.getTime() + FUTURE_TOLERANCE_MS) errs.push({ field: 'occurred_at', detail: 'must not be in the future' });
      else if (at < Date.parse(`${EARLIEST_ORDER_DAY}T00:00:00Z`)) errs.push({ field: 'occurred_at', detail: `must not be before ${EARLIEST_ORDER_DAY}` });
    }
    if (input.member_id !== undefined && input.member_external_id !== undefined) errs.push({ field: 'member_external_id', detail: 'send member_id or member_external_id, not both' });
    if (input.customer_ref !== undefined && (input.member_id !== undefined || input.member_external_id !== undefined)) {
      errs.push({ field: 'customer_ref', detail: 'is only for orders of customers who are not members' });
    }
    if (type === 'purchase') {
      if (input.original_id !== undefined) errs.push({ field: 'original_id', detail: 'is only for returns' });
      if (input.original_external_id !== undefined) errs.push({ field: 'original_external_id', detail: 'is only for returns' });
      (input.lines ?? []).forEach((l, i) => {
        if (l.unit_price === undefined) errs.push({ field: `lines[${i}].unit_price`, detail: 'is required on a purchase' });
        else if ((l.discount ?? 0) > l.quantity * l.unit_price) errs.push({ field: `lines[${i}].discount`, detail: 'must not exceed quantity × unit_price' });
      });
    } else {
      if (input.original_id === undefined && input.original_external_id === undefined) errs.push({ field: 'original_external_id', detail: 'a return needs the purchase: original_external_id or original_id' });
      if (input.original_id !== undefined && input.original_external_id !== undefined) errs.push({ field: 'original_id', detail: 'send original_id or original_external_id, not both' });
      if (input.member_id !== undefined || input.member_external_id !== undefined || input.customer_ref !== undefined) {
        errs.push({ field: input.member_id !== undefined ? 'member_id' : input.member_external_id !== undefined ? 'member_external_id' : 'customer_ref', detail: 'a return belongs to the customer of its purchase; leave it out' });
      }
    }
    const paid = (input.payments ?? []).reduce((s, p) => s + p.amount, 0);
    if (input.payments && paid > input.total) errs.push({ field: 'payments', detail: `must not add up to more than total (${paid} > ${input.total})` });
    return errs;
  }

  private normalise(input: CreateTransactionInput, now: Date): Order {
    return {
      external_id: input.external_id,
      type: input.type ?? 'purchase',
      member_id: input.member_id ?? null,
      member_external_id: input.member_external_id ?? null,
      customer_ref: input.customer_ref ?? null,
      occurred_at: input.occurred_at ? new Date(input.occurred_at) : now,
      currency: input.currency,
      total: input.total,
      lines: input.lines ?? null,
      channel: input.channel ?? null,
      store_id: input.store_id ?? null,
      payments: input.payments ?? null,
      original_id: input.original_id ?? null,
      original_external_id: input.original_external_id ?? null,
    };
  }

  /** A re-sent order: the same body gets the first answer, another body is a 409. */
  private same(existing: TransactionRow, digest: string): RecordResult {
    if (existing.body_digest !== digest) {
      throw errors.conflict(`Order ${existing.external_id} was already recorded with other details.`, [{ field: 'external_id', detail: 'is already recorded with a different body' }]);
    }
    return { transaction: existing, created: false };
  }

  async record(tx: Tx, tenantId: string, input: CreateTransactionInput, opts: RecordOptions = {}): Promise<RecordResult> {
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(tx, tenantId);
    const errs = this.checkOrder(input, program, now);
    if (errs.length) throw errors.validation(errs);
    const order = this.normalise(input, now);
    // Without the creation-time default: a re-send a minute later with no occurred_at is the same order.
    const digest = jsonBodyDigest({ ...order, occurred_at: input.occurred_at ? order.occurred_at.toISOString() : null });
    return order.type === 'purchase'
      ? this.recordPurchase(tx, tenantId, order, digest, program, now, opts)
      : this.recordReturn(tx, tenantId, order, digest, program, now, opts);
  }

  /** Finds (or, when the program allows, enrols) the order's member. */
  private async resolveMember(tx: Tx, tenantId: string, order: Order, program: Program, enrol: boolean): Promise<{ member: MemberRow | null; reason: string | null }> {
    if (order.member_id) {
      const member = await this.deps.members.find(tx, tenantId, { id: order.member_id });
      if (!member) throw errors.unprocessable(`No member with id ${order.member_id}.`, [{ field: 'member_id', detail: 'is not a member of this program' }]);
      return { member, reason: null };
    }
    if (order.member_external_id) {
      const member = await this.deps.members.find(tx, tenantId, { externalId: order.member_external_id });
      if (member) return { member, reason: null };
      // An erased member's id does not bring them back as a new member; the order is kept without it.
      if ((await this.deps.members.erasedExternalIds(tx, tenantId, [order.member_external_id])).size > 0) return { member: null, reason: 'member_erased' };
      if (!enrol || !program.enrol_unknown_customers) return { member: null, reason: 'unknown_member' };
      try {
        // In a savepoint: a concurrent first order of the same customer may enrol them first (a unique-key clash);
        // then this order goes to the member it enrolled.
        const created = await withSavepoint(tx, () => this.deps.members.create(tx, tenantId, {
          external_id: order.member_external_id,
          enrolled_at: new Date(Math.min(order.occurred_at.getTime(), this.deps.clock.now().getTime())).toISOString(),
        } as never));
        return { member: created, reason: null };
      } catch (err) {
        if (!isAppError(err) || err.code !== 'conflict') throw err;
        const member = await this.deps.members.find(tx, tenantId, { externalId: order.member_external_id });
        if (!member) throw err;
        return { member, reason: null };
      }
    }
    return { member: null, reason: 'no_member' };
  }

  /** Evaluates the order against the rules in force at its occurred_at, for this member. */
  private async evaluate(q: Queryable, tenantId: string, member: MemberRow, tx: EarnTransaction, at: Date, program: Program, withUsage: boolean) {
    const rules = await this.deps.rules.transactionRulesAt(q, tenantId, at);
    const firstPurchase = mentions(rules, 'first_purchase') ? !(await store.hasEarlierPurchase(q, tenantId, member.id, at)) : false;
    const local = localTime(at.toISOString(), program.time_zone);
    const usage = withUsage && rules.some((r) => r.caps)
      ? await this.deps.rules.earnUsage(q as Tx, tenantId, member.id, rules, local.date, local.month)
      : {};
    const standing = await this.standing(q, tenantId, member.id, at);
    const context: EarnContext = {
      time_zone: program.time_zone,
      tier: standing.tier,
      ...(standing.multiplier !== undefined && standing.multiplier !== 1 ? { tier_multiplier: standing.multiplier } : {}),
      attributes: member.attributes ?? {},
      first_purchase: firstPurchase,
      excluded_categories: program.excluded_categories,
      non_earning_payment_methods: program.non_earning_payment_methods,
      usage,
    };
    return { rules, context, result: evaluateEarn(rules, tx, context) };
  }

  private async recordPurchase(tx: Tx, tenantId: string, order: Order, digest: string, program: Program, now: Date, opts: RecordOptions): Promise<RecordResult> {
    // No look-up of the order id first: a re-send is rare, and the insert below finds it (one round trip less).
    const { member, reason: missing } = await this.resolveMember(tx, tenantId, order, program, true);
    const award = opts.award !== false;
    let reason = missing;
    if (member && member.status === 'blocked') reason = 'member_blocked';
    if (member && member.status === 'erased') reason = 'member_erased';
    if (member && !reason && !award) reason = 'not_awarded';

    const id = newId();
    const facts = earnTransaction(order);
    let book: MemberBook | null = null;
    let earning: EarningRecord;
    let evaluated: Awaited<ReturnType<TransactionsService['evaluate']>> | null = null;
    if (member && !reason) {
      // The member's lock first: caps, "first purchase" and the balance are then read and written by one order at a time.
      book = await this.deps.ledger.open(tx, tenantId, member.id, program.negative_balance);
      evaluated = await this.evaluate(tx, tenantId, member, facts, order.occurred_at, program, true);
      const r = evaluated.result;
      const activates = activatesAt(pendingDaysOf(evaluated.rules, r, program), order.occurred_at);
      const expires = lotExpiresAt(program.expiry, order.occurred_at, program.time_zone);
      earning = {
        points: r.points, kept_points: r.points, eligible_amount: r.eligible_amount, not_earned_reason: null,
        activates_at: activates && r.points > 0 ? activates.toISOString() : null, expires_at: expires && r.points > 0 ? expires.toISOString() : null,
        explanation: r.explanation,
        rules: Object.fromEntries(r.explanation.filter((e) => e.outcome === 'applied').map((e) => [e.rule_id, {
          version: evaluated!.rules.find((x) => x.id === e.rule_id)?.version ?? null, points: e.points, kept: e.points,
        }])),
        cap_usage: r.cap_usage,
        context: {
          tier: evaluated.context.tier, first_purchase: evaluated.context.first_purchase, attributes: evaluated.context.attributes, time_zone: program.time_zone,
          // A return recomputes the kept part with the multiplier the purchase earned with, whatever the tier is then.
          ...(evaluated.context.tier_multiplier !== undefined ? { tier_multiplier: evaluated.context.tier_multiplier } : {}),
        },
      };
    } else {
      earning = { points: 0, kept_points: 0, eligible_amount: 0, not_earned_reason: reason, activates_at: null, expires_at: null, explanation: [] };
    }

    const row = await store.insertTransaction(tx, tenantId, {
      id, external_id: order.external_id, type: 'purchase', member_id: member?.id ?? null,
      customer_ref: member || reason === 'member_erased' ? null : order.customer_ref ?? order.member_external_id, original_id: null,
      occurred_at: order.occurred_at, currency: order.currency, total: order.total, lines: order.lines, channel: order.channel,
      store_id: order.store_id, payments: order.payments, body_digest: digest, points: earning.points, earning,
      source: opts.source ?? 'api', created_at: now,
    }, {
      id: newId(), type: 'transaction.recorded',
      payload: { transaction_id: id, external_id: order.external_id, type: 'purchase', member_id: member?.id ?? null, total: order.total, currency: order.currency, points: earning.points, occurred_at: order.occurred_at.toISOString() },
    });
    if (!row) {
      // A re-send, or recorded meanwhile by a concurrent one (the insert waited for it): answer as the first did.
      return this.same((await store.getByExternalId(tx, tenantId, order.external_id))!, digest);
    }
    if (book && earning.points > 0) {
      await book.credit({
        type: 'earn', points: earning.points, earned: true, activity: true,
        activates_at: earning.activates_at ? new Date(earning.activates_at) : null,
        expires_at: earning.expires_at ? new Date(earning.expires_at) : null,
        reason: `order ${order.external_id}`, source_type: 'transaction', source_id: id, transaction_id: id,
        occurred_at: order.occurred_at, details: { rules: Object.keys(earning.rules ?? {}) },
      });
      if (evaluated && evaluated.result.cap_usage.length > 0) await this.deps.rules.recordEarnUsage(tx, tenantId, member!.id, evaluated.result.cap_usage, 1);
    } else if (book) {
      await book.recordActivity();
    }
    if (book) for (const h of this.hooks) if (h.purchased) await h.purchased(tx, { tenantId, member: member!, transaction: row, book, program });
    return { transaction: row, created: true };
  }

  /** The purchase a return or void refers to, locked, with its member's book opened first (one lock order). */
  private async lockPurchase(tx: Tx, tenantId: string, ref: { id?: string | null; externalId?: string | null }, field: string, program: Program) {
    const peek = ref.id ? await store.getTransaction(tx, tenantId, ref.id) : await store.getByExternalId(tx, tenantId, ref.externalId!);
    if (!peek || peek.type !== 'purchase') throw errors.unprocessable('No such purchase.', [{ field, detail: 'is not a purchase recorded in this program' }]);
    const book = peek.member_id ? await this.deps.ledger.open(tx, tenantId, peek.member_id, program.negative_balance) : null;
    const purchase = (await store.getTransaction(tx, tenantId, peek.id, true))!;
    return { purchase, book };
  }

  private async recordReturn(tx: Tx, tenantId: string, order: Order, digest: string, program: Program, now: Date, opts: RecordOptions): Promise<RecordResult> {
    const existing = await store.getByExternalId(tx, tenantId, order.external_id);
    if (existing) return this.same(existing, digest);
    const field = order.original_id ? 'original_id' : 'original_external_id';
    const { purchase, book } = await this.lockPurchase(tx, tenantId, { id: order.original_id, externalId: order.original_external_id }, field, program);
    if (purchase.status === 'voided') throw errors.unprocessable('The purchase was voided.', [{ field, detail: 'is voided' }]);
    if (purchase.currency !== order.currency) throw errors.validation([{ field: 'currency', detail: `must be the purchase's currency, ${purchase.currency}` }]);
    const previous = await store.returnsOf(tx, tenantId, purchase.id);
    const returnedTotal = purchase.returned_total + order.total;
    if (returnedTotal > purchase.total) {
      throw errors.unprocessable('More than was paid would be refunded.', [{ field: 'total', detail: `must be at most ${purchase.total - purchase.returned_total} (what is left of the purchase)` }]);
    }
    const keptLines = keptLinesOf(purchase, [...previous, order]);
    const id = newId();
    const earning = purchase.earning;
    let clawed = 0;
    let returnEarning: EarningRecord = { points: 0, kept_points: 0, eligible_amount: 0, not_earned_reason: earning?.not_earned_reason ?? 'no_member', activates_at: null, expires_at: null, explanation: [] };
    let updated: EarningRecord | null = null;
    if (earning && earning.rules && earning.context && book && opts.award !== false) {
      const keptTotal = purchase.total - returnedTotal;
      const kept = await this.keptEarning(tx, tenantId, purchase, earning, keptTotal, keptLines);
      clawed = earning.kept_points - kept.total;
      updated = { ...earning, kept_points: kept.total, rules: kept.rules };
      returnEarning = {
        points: -clawed, kept_points: 0, eligible_amount: kept.eligible, not_earned_reason: null, activates_at: null, expires_at: null,
        explanation: kept.explanation, kept_before: earning.kept_points, kept_after: kept.total,
        rules: Object.fromEntries(Object.entries(earning.rules).map(([rid, r]) => [rid, { version: r.version, points: r.kept - (kept.rules[rid]?.kept ?? 0), kept: 0 }])),
      };
    }
    const row = await store.insertTransaction(tx, tenantId, {
      id, external_id: order.external_id, type: 'return', member_id: purchase.member_id, customer_ref: purchase.customer_ref,
      original_id: purchase.id, occurred_at: order.occurred_at, currency: order.currency, total: order.total, lines: order.lines,
      channel: order.channel, store_id: order.store_id, payments: order.payments, body_digest: digest, points: -clawed,
      earning: returnEarning, source: opts.source ?? 'api', created_at: now,
    }, {
      id: newId(), type: 'transaction.returned',
      payload: { transaction_id: id, external_id: order.external_id, original_id: purchase.id, member_id: purchase.member_id, total: order.total, currency: order.currency, points: -clawed },
    });
    if (!row) return this.same((await store.getByExternalId(tx, tenantId, order.external_id))!, digest);
    await store.updateEarning(tx, tenantId, purchase.id, { earning: updated ?? undefined, returned_total: returnedTotal });
    if (book && clawed > 0) {
      await book.debit({
        type: 'claw_back', points: clawed, shortfall: 'policy', from_transaction_id: purchase.id,
        reason: `return ${order.external_id} of order ${purchase.external_id}`, source_type: 'transaction', source_id: id,
        transaction_id: purchase.id, occurred_at: order.occurred_at, details: { return_id: id },
      });
      await this.releaseCaps(tx, tenantId, purchase, returnEarning.rules ?? {});
    }
    if (book && opts.award !== false && this.hooks.length > 0) {
      const after = (await store.getTransaction(tx, tenantId, purchase.id))!;
      for (const h of this.hooks) if (h.returned) await h.returned(tx, { tenantId, memberId: purchase.member_id!, purchase: after, return: row, book, program });
    }
    return { transaction: row, created: true };
  }

  /**
   * What the purchase keeps after its returns: the kept basket evaluated by the same rule versions and context the
   * purchase was judged by; per rule at most what it kept before (a return never earns more). Caps are not applied
   * again (the points were awarded within them). Nothing kept earns nothing, exactly.
   */
  private async keptEarning(tx: Queryable, tenantId: string, purchase: TransactionRow, earning: EarningRecord, keptTotal: number, keptLines: Line[] | null) {
    const rules = keptNeedsRules(earning, keptTotal, keptLines) ? await this.deps.rules.rulesByVersion(tx, tenantId, ruleRefsOf(earning)) : [];
    return keptEarningOf(rules, purchase, earning, keptTotal, keptLines);
  }

  /** Gives back to the cap counters what a return or void took back, in the day and month the points were earned in. */
  private async releaseCaps(tx: Tx, tenantId: string, purchase: TransactionRow, deltas: Record<string, { points: number }>): Promise<void> {
    const usage = (purchase.earning?.cap_usage ?? []).map((u) => ({ ...u, points: Math.min(u.points, deltas[u.rule_id]?.points ?? 0) })).filter((u) => u.points > 0);
    if (usage.length > 0 && purchase.member_id) await this.deps.rules.recordEarnUsage(tx, tenantId, purchase.member_id, usage, -1);
  }

  /**
   * Voids an order and all its effects. A purchase: what it still keeps is taken back (its returns already took
   * the rest). A return: what it clawed back is given back. Voiding twice answers with the voided order.
   */
  async void(tx: Tx, tenantId: string, id: string, reason: string | undefined): Promise<TransactionRow> {
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(tx, tenantId);
    const peek = await store.getTransaction(tx, tenantId, id);
    if (!peek) throw errors.notFound('transaction', id);
    if (peek.status === 'voided') return peek;
    const { purchase, book } = await this.lockPurchase(tx, tenantId, { id: peek.type === 'purchase' ? peek.id : peek.original_id }, 'id', program);
    const target = peek.type === 'purchase' ? purchase : (await store.getTransaction(tx, tenantId, id, true))!;
    if (target.status === 'voided') return target;
    const earning = purchase.earning;
    const why = reason ?? `void of ${target.type} ${target.external_id}`;
    if (target.type === 'purchase') {
      const kept = earning?.kept_points ?? 0;
      if (earning && earning.rules) {
        await store.updateEarning(tx, tenantId, purchase.id, { earning: { ...earning, kept_points: 0, rules: Object.fromEntries(Object.entries(earning.rules).map(([k, r]) => [k, { ...r, kept: 0 }])) } });
      }
      if (book && kept > 0) {
        await book.debit({ type: 'reverse', points: kept, shortfall: 'policy', from_transaction_id: purchase.id, reason: why, source_type: 'transaction', source_id: purchase.id, transaction_id: purchase.id });
        await this.releaseCaps(tx, tenantId, purchase, Object.fromEntries(Object.entries(earning?.rules ?? {}).map(([k, r]) => [k, { points: r.kept }])));
      }
    } else {
      if (purchase.status === 'voided') throw errors.unprocessable('The purchase of this return was voided; voiding it undid the return too.');
      const back = -target.points;
      const deltas = target.earning?.rules ?? {};
      if (earning && earning.rules) {
        await store.updateEarning(tx, tenantId, purchase.id, {
          earning: { ...earning, kept_points: earning.kept_points + back, rules: Object.fromEntries(Object.entries(earning.rules).map(([k, r]) => [k, { ...r, kept: r.kept + (deltas[k]?.points ?? 0) }])) },
          returned_total: purchase.returned_total - target.total,
        });
      } else {
        await store.updateEarning(tx, tenantId, purchase.id, { returned_total: purchase.returned_total - target.total });
      }
      if (book && back > 0) {
        await book.credit({
          type: 'reverse', points: back, earned: false, activity: false, reason: why, source_type: 'transaction', source_id: target.id, transaction_id: purchase.id,
          activates_at: earning?.activates_at ? new Date(earning.activates_at) : null, expires_at: earning?.expires_at ? new Date(earning.expires_at) : null,
        });
        const usage = (earning?.cap_usage ?? []).map((u) => ({ ...u, points: Math.min(u.points, deltas[u.rule_id]?.points ?? 0) })).filter((u) => u.points > 0);
        if (usage.length > 0) await this.deps.rules.recordEarnUsage(tx, tenantId, purchase.member_id!, usage, 1);
      }
    }
    const voided = await store.updateEarning(tx, tenantId, target.id, { status: 'voided', voided_at: now });
    if (book && this.hooks.length > 0) {
      const after = target.type === 'purchase' ? voided : (await store.getTransaction(tx, tenantId, purchase.id))!;
      for (const h of this.hooks) if (h.voided) await h.voided(tx, { tenantId, memberId: purchase.member_id!, purchase: after, voided, book, program });
    }
    await emit(tx, {
      tenantId, type: 'transaction.voided', aggregateType: 'transaction', aggregateId: target.id, memberId: target.member_id, occurredAt: now,
      payload: { transaction_id: target.id, external_id: target.external_id, type: target.type, member_id: target.member_id },
    });
    return voided;
  }

  /** What a basket would earn and why; writes nothing (a checkout shows it). */
  async preview(q: Tx, tenantId: string, input: CreateTransactionInput): Promise<Preview> {
    const now = this.deps.clock.now();
    const program = await this.deps.programs.get(q, tenantId);
    const errs = this.checkOrder({ ...input, type: 'purchase' }, program, now);
    if (errs.length) throw errors.validation(errs);
    const order = this.normalise(input, now);
    const member = order.member_id
      ? await this.deps.members.find(q, tenantId, { id: order.member_id })
      : order.member_external_id ? await this.deps.members.find(q, tenantId, { externalId: order.member_external_id }) : null;
    if (order.member_id && !member) throw errors.unprocessable(`No member with id ${order.member_id}.`, [{ field: 'member_id', detail: 'is not a member of this program' }]);
    const reason = member ? (member.status === 'blocked' ? 'member_blocked' : member.status === 'erased' ? 'member_erased' : null)
      : order.member_external_id && !program.enrol_unknown_customers ? 'unknown_member' : null;
    if (reason) return { member_id: member?.id ?? null, points: 0, eligible_amount: 0, activates_at: null, expires_at: null, not_earned_reason: reason, explanation: [] };
    // A customer not enrolled yet is previewed as a new member (what they would earn by joining now).
    const who = member ?? ({ id: '00000000-0000-0000-0000-000000000000', attributes: {} } as MemberRow);
    const { rules, result } = await this.evaluate(q, tenantId, who, earnTransaction(order), order.occurred_at, program, member !== null);
    const activates = result.points > 0 ? activatesAt(pendingDaysOf(rules, result, program), order.occurred_at) : null;
    const expires = result.points > 0 ? lotExpiresAt(program.expiry, order.occurred_at, program.time_zone) : null;
    return {
      member_id: member?.id ?? null, points: result.points, eligible_amount: result.eligible_amount,
      activates_at: activates?.toISOString() ?? null, expires_at: expires?.toISOString() ?? null, not_earned_reason: null, explanation: result.explanation,
    };
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<TransactionRow> {
    const row = await store.getTransaction(q, tenantId, id);
    if (!row) throw errors.notFound('transaction', id);
    return row;
  }

  list(q: Queryable, tenantId: string, f: Parameters<typeof store.listTransactions>[2]) {
    return store.listTransactions(q, tenantId, f);
  }

  // ── Reads for the program mechanics ─────────────────────────────────────────
  // Added for campaigns (a return's claw-back recomputes a category bonus on the kept lines; baselines and results
  // count a group's purchases). Change no existing behaviour.

  /** The recorded (not voided) returns of a purchase, oldest first. */
  returnsOf(q: Queryable, tenantId: string, purchaseId: string): Promise<TransactionRow[]> {
    return store.returnsOf(q, tenantId, purchaseId);
  }

  /** Members who have bought before but not since `cutoff` (win-back), a page in member id order. */
  lapsedPurchasers(q: Queryable, tenantId: string, cutoff: Date, afterId: string | null, limit: number): Promise<string[]> {
    return store.lapsedPurchasers(q, tenantId, cutoff, afterId, limit);
  }

  /** What these members bought in [from, to) (recorded purchases, net of returns); pass at most a few thousand ids at once. */
  purchaseActivity(q: Queryable, tenantId: string, memberIds: string[], from: Date, to: Date): Promise<store.PurchaseActivity> {
    return store.purchaseActivity(q, tenantId, memberIds, from, to);
  }

  /** Money spent net of returns and purchases per member and window (tier qualification). */
  qualifyingSpend(q: Queryable, tenantId: string, windows: Array<{ member_id: string; from: Date | null; to: Date }>) {
    return store.qualifyingSpend(q, tenantId, windows);
  }

  /** Members' orders after `afterId`, oldest first (the tier job's watermark). */
  memberOrdersAfter(q: Queryable, tenantId: string, afterId: string | null, limit: number) {
    return store.memberOrdersAfter(q, tenantId, afterId, limit);
  }

  // ── Bulk import (transactions.import.ts) ───────────────────────────────────
  // Added for the orders import, which writes orders without points set-based and must store and compare exactly
  // the digest `record` would. Changes no existing behaviour (`record` could call it instead of its own line).

  /** The body digest `record` stores for an order (what a re-sent or re-imported order is compared by). */
  digestOf(input: CreateTransactionInput): string {
    const order = this.normalise(input, this.deps.clock.now());
    return jsonBodyDigest({ ...order, occurred_at: input.occurred_at ? order.occurred_at.toISOString() : null });
  }
}

/** The rule versions that earned a purchase. */
const ruleRefsOf = (earning: Pick<EarningRecord, 'rules'>) =>
  Object.entries(earning.rules ?? {}).filter(([, r]) => r.version !== null).map(([rule_id, r]) => ({ rule_id, version: r.version! }));

/** Whether anything is kept that the rules must judge again (nothing kept earns nothing, exactly). */
function keptNeedsRules(earning: Pick<EarningRecord, 'rules'>, keptTotal: number, keptLines: Line[] | null): boolean {
  const nothingKept = keptTotal === 0 || (keptLines !== null && keptLines.length === 0);
  return !nothingKept && ruleRefsOf(earning).length > 0;
}

/** The facts of a purchase that a return judges again. */
export type PurchaseFacts = Pick<TransactionRow, 'currency' | 'total' | 'lines' | 'channel' | 'store_id' | 'occurred_at' | 'payments'>;

/**
 * What the purchase keeps after its returns: the kept basket evaluated by the same rule versions (`rules`, the
 * versions in `earning.rules`) and context the purchase was judged by; per rule at most what it kept before (a
 * return never earns more). Caps are not applied again (the points were awarded within them), except per order.
 * Nothing kept earns nothing, exactly. Pure: the what-if simulator replays returns with it too.
 */
export function keptEarningOf(rules: EarnRule[], purchase: PurchaseFacts, earning: Pick<EarningRecord, 'rules' | 'context'>, keptTotal: number, keptLines: Line[] | null) {
  let result: EarnResult | null = null;
  if (keptNeedsRules(earning, keptTotal, keptLines)) {
    const judged = rules.map((r) => ({ ...r, caps: r.caps?.per_transaction ? { per_transaction: r.caps.per_transaction } : undefined }));
    const scale = (n: number) => Math.floor((n * keptTotal) / purchase.total);
    const ctx = earning.context!;
    result = evaluateEarn(judged, earnTransaction({
      ...purchase, total: keptTotal, lines: keptLines, payments: purchase.payments?.map((p) => ({ ...p, amount: scale(p.amount) })) ?? null,
    }), { time_zone: ctx.time_zone, tier: ctx.tier, tier_multiplier: ctx.tier_multiplier, attributes: ctx.attributes, first_purchase: ctx.first_purchase, usage: {} } as EarnContext);
  }
  const kept: NonNullable<EarningRecord['rules']> = {};
  let total = 0;
  for (const [rid, r] of Object.entries(earning.rules ?? {})) {
    const now = result?.explanation.find((e) => e.rule_id === rid && e.outcome === 'applied')?.points ?? 0;
    const k = Math.min(r.kept, now);
    kept[rid] = { ...r, kept: k };
    total += k;
  }
  return { total, rules: kept, eligible: result?.eligible_amount ?? 0, explanation: result?.explanation ?? [] };
}

/**
 * The purchase's lines minus every returned line (matched by sku, first lines first). A return without lines on a
 * purchase with lines refunds money only: the lines stay and the kept total shrinks (spread over them). Throws when
 * a return gives back more of a sku than was bought.
 */
export function keptLinesOf(purchase: { lines: Line[] | null }, returns: Array<{ lines: Line[] | null }>): Line[] | null {
  if (purchase.lines === null) {
    const withLines = returns.findIndex((r) => r.lines !== null && r.lines.length > 0);
    if (withLines >= 0 && returns.length - 1 === withLines) throw errors.validation([{ field: 'lines', detail: 'the purchase had no lines: return an amount (total) only' }]);
    return null;
  }
  const left = purchase.lines.map((l) => ({ ...l }));
  returns.forEach((r, ri) => {
    (r.lines ?? []).forEach((rl, i) => {
      let qty = rl.quantity;
      for (const l of left) {
        if (qty === 0) break;
        if (l.sku !== rl.sku || l.quantity === 0) continue;
        const take = Math.min(qty, l.quantity);
        // A partly returned line keeps its share of the discount.
        const discount = l.discount ?? 0;
        const keptDiscount = Math.round((discount * (l.quantity - take)) / l.quantity);
        l.quantity -= take;
        l.discount = keptDiscount;
        qty -= take;
      }
      if (qty > 0 && ri === returns.length - 1) {
        throw errors.unprocessable('More would be returned than was bought.', [{ field: `lines[${i}].quantity`, detail: `more of ${rl.sku} than is left of the purchase` }]);
      }
    });
  });
  return left.filter((l) => l.quantity > 0);
}
