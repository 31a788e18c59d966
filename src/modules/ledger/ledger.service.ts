/**
 * The points ledger. Append-only entries with signed points; lots that carry points from their earning to their
 * spending or expiry; allocations that say which lots an entry (or a checkout hold) consumed; and a per-member
 * balance changed in the same transaction as the entries. docs/ledger.md explains the model and its guarantees.
 *
 * Every change to a member's points goes through a `MemberBook`, opened with `ledger.open(tx, …)`, which locks the
 * member's balance row first: concurrent writes for one member queue on that lock, and since a write opens one
 * book, no two writes wait on each other in opposite orders.
 */
import type { Clock } from '../../platform/clock.js';
import { withSavepoint, type Db, type Queryable, type Tx } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import * as store from './ledger.store.js';
import type { BalanceRow, EntryRow, EntryType, HoldRow, SourceType } from './ledger.store.js';

export type { BalanceRow, EntryRow, EntryType, HoldRow, LotRow, MemberWindow, SourceType } from './ledger.store.js';

/** What a claw-back does when the member has already spent the points (program setting). */
export type NegativeBalancePolicy = 'allow' | 'debt';

export interface Posting {
  reason?: string | null;
  source_type: SourceType;
  source_id?: string | null;
  transaction_id?: string | null;
  actor?: string | null;
  details?: Record<string, unknown> | null;
  /** Business time (an order's occurred_at); default now. */
  occurred_at?: Date;
  /** Counts as member activity for the inactivity expiry policy (docs/ledger.md). */
  activity?: boolean;
}

export interface CreditInput extends Posting {
  type: Extract<EntryType, 'earn' | 'adjust' | 'reverse'>;
  points: number;
  /** End of the pending period; null or past = spendable at once. */
  activates_at: Date | null;
  expires_at: Date | null;
  /** Counts in lifetime_earned (earnings and positive adjustments do; a reversed return does too). */
  earned?: boolean;
}

export interface DebitInput extends Posting {
  type: Extract<EntryType, 'redeem' | 'adjust' | 'claw_back' | 'reverse'>;
  points: number;
  /**
   * 'refuse': more than the available points is a 422 (redemptions, adjustments). 'policy': a claw-back takes what it
   * can and the program's negative-balance policy decides the rest.
   */
  shortfall: 'refuse' | 'policy';
  /** Claw-back: take from this order's own lots first (pending, then active). */
  from_transaction_id?: string | null;
}

export interface DebitResult {
  entry: EntryRow;
  /** Points actually taken from lots. */
  taken: number;
  /** Under 'debt': added to the member's debt; under 'allow': below zero. */
  shortfall: number;
}

/**
 * Most points one entry may carry. Balances are bigint in PostgreSQL but JavaScript numbers here (exact up to 2^53):
 * this leaves room for thousands of maximal entries per member before a balance could lose precision.
 */
export const MAX_ENTRY_POINTS = 1_000_000_000_000;

const positive = (n: number, what: string) => {
  if (n > MAX_ENTRY_POINTS || (n > 0 && !Number.isSafeInteger(n))) {
    throw errors.unprocessable(`That is more points than one ledger entry may hold (${MAX_ENTRY_POINTS.toLocaleString('en')}).`, [{ field: what, detail: `must be at most ${MAX_ENTRY_POINTS}` }]);
  }
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`ledger: ${what} must be a positive integer, got ${n}`);
};

/** A member's points, locked for the current transaction. */
export class MemberBook {
  constructor(
    private readonly tx: Tx,
    readonly tenantId: string,
    readonly balance: BalanceRow,
    private readonly now: Date,
    private readonly policy: NegativeBalancePolicy,
  ) {}

  get memberId(): string {
    return this.balance.member_id;
  }

  /** The balance changed in memory since it was last written. */
  private dirty = false;

  /**
   * Runs `fn` in a savepoint. When it throws, the database rolls back to the savepoint and the book's balance in
   * memory goes back to what it was with it, so the book and its row never drift apart; the error is rethrown.
   */
  async attempt<T>(fn: () => Promise<T>): Promise<T> {
    const balance = { ...this.balance };
    const dirty = this.dirty;
    try {
      return await withSavepoint(this.tx, fn);
    } catch (err) {
      Object.assign(this.balance, balance);
      this.dirty = dirty;
      throw err;
    }
  }

  private touch(p: Posting): void {
    this.dirty = true;
    this.balance.updated_at = this.now;
    if (p.activity) this.balance.last_activity_at = this.now;
  }

  private entry(type: EntryType, points: number, pendingPoints: number, p: Posting): store.NewEntry & { id: string } {
    return {
      id: newId(), member_id: this.memberId, type, points, pending_points: pendingPoints, reason: p.reason ?? null,
      source_type: p.source_type, source_id: p.source_id ?? null, transaction_id: p.transaction_id ?? null,
      actor: p.actor ?? null, details: p.details ?? null, occurred_at: p.occurred_at ?? this.now, created_at: this.now,
    };
  }

  /** Adds points: an entry and the lot that carries them; pending until `activates_at` when that is in the future. */
  async credit(c: CreditInput): Promise<EntryRow> {
    positive(c.points, 'points');
    const pending = c.activates_at !== null && c.activates_at > this.now;
    const deficit = this.deficit;
    if (pending) this.balance.pending += c.points;
    else this.balance.available += c.points;
    if (c.earned) this.balance.lifetime_earned += c.points;
    this.touch(c);
    const e = this.entry(c.type, c.points, pending ? c.points : 0, c);
    const row = await this.write(e, { id: newId(), amount: c.points, state: pending ? 'pending' : 'active', activates_at: pending ? c.activates_at : null, expires_at: c.expires_at });
    if (!pending) await this.settle(c.points, deficit);
    await this.save();
    return row;
  }

  /**
   * After `added` points became spendable in lots: what the member owed comes first. Under 'allow', a balance that
   * was `deficit` below zero already counts the new points against it, so min(added, deficit) points of lots are
   * consumed by a zero-point debt_repay entry (the lots now match the balance); under 'debt', a debt is repaid by a
   * debt_repay entry that takes the points.
   */
  async settle(added: number, deficit: number): Promise<void> {
    const covered = Math.min(added, deficit);
    if (covered > 0) {
      const e = this.entry('debt_repay', 0, 0, { source_type: 'system', reason: 'points cover a negative balance', details: { covered } });
      const row = await this.write(e);
      assertTaken(await store.takeFromLots(this.tx, this.tenantId, this.memberId, covered, { entryId: row.id, states: ['active'], now: this.now }), covered);
    }
    const repay = Math.min(this.balance.debt, Math.max(0, this.balance.available));
    if (repay > 0) {
      this.balance.debt -= repay;
      this.balance.available -= repay;
      const e = this.entry('debt_repay', -repay, 0, { source_type: 'system', reason: 'repays a claw-back the balance could not cover' });
      const row = await this.write(e);
      assertTaken(await store.takeFromLots(this.tx, this.tenantId, this.memberId, repay, { entryId: row.id, states: ['active'], now: this.now }), repay);
    }
  }

  private get deficit(): number {
    return this.balance.available < 0 ? -this.balance.available : 0;
  }

  /** Takes points away: redemption, negative adjustment, claw-back of a return, reversal of a voided order. */
  async debit(d: DebitInput): Promise<DebitResult> {
    positive(d.points, 'points');
    const available = Math.max(0, this.balance.available);
    let ownPending = 0;
    if (d.from_transaction_id) {
      const lots = await store.lotsOfTransaction(this.tx, this.tenantId, d.from_transaction_id);
      ownPending = lots.filter((l) => l.state === 'pending').reduce((s, l) => s + l.remaining, 0);
    }
    const fromPending = Math.min(d.points, ownPending);
    const fromActive = Math.min(d.points - fromPending, available);
    const shortfall = d.points - fromPending - fromActive;
    if (shortfall > 0 && d.shortfall === 'refuse') {
      throw errors.insufficientPoints(`The member has ${available} points available; ${d.points} were asked for.`);
    }
    this.balance.pending -= fromPending;
    this.balance.available -= fromActive;
    let entryPoints = -(fromPending + fromActive);
    if (shortfall > 0) {
      if (this.policy === 'allow') {
        this.balance.available -= shortfall;
        entryPoints = -d.points;
      } else {
        this.balance.debt += shortfall;
      }
    }
    if (d.type === 'redeem') this.balance.redeemed += d.points;
    this.touch(d);
    const details = shortfall > 0 ? { ...(d.details ?? {}), shortfall, policy: this.policy } : d.details ?? null;
    const e = this.entry(d.type, entryPoints, -fromPending, { ...d, details });
    const row = await this.write(e);
    let taken = 0;
    if (d.from_transaction_id && fromPending + fromActive > 0) {
      const own = await store.takeFromLots(this.tx, this.tenantId, this.memberId, fromPending + fromActive,
        { entryId: row.id, states: ['pending', 'active'], transactionId: d.from_transaction_id, now: this.now });
      taken = sum(own);
      // Own active lots may hold fewer points than the active part (spent on something else): the rest comes from
      // other active lots. Own pending lots were counted exactly, so they are never short.
    }
    if (fromPending + fromActive - taken > 0) {
      const rest = fromPending + fromActive - taken;
      const other = await store.takeFromLots(this.tx, this.tenantId, this.memberId, rest, { entryId: row.id, states: ['active'], now: this.now });
      assertTaken(other, rest);
      taken += rest;
    }
    await this.save();
    return { entry: row, taken, shortfall };
  }

  /** Reserves points for a checkout: taken from lots (so they cannot expire or be spent meanwhile) into a hold. */
  async hold(h: { points: number; order_ref: string | null; expires_at: Date }): Promise<HoldRow> {
    positive(h.points, 'points');
    const available = Math.max(0, this.balance.available);
    if (h.points > available) throw errors.insufficientPoints(`The member has ${available} points available; ${h.points} were asked for.`);
    const hold = await store.insertHold(this.tx, this.tenantId, { id: newId(), member_id: this.memberId, points: h.points, order_ref: h.order_ref, expires_at: h.expires_at, created_at: this.now });
    const taken = await store.takeFromLots(this.tx, this.tenantId, this.memberId, h.points, { holdId: hold.id, states: ['active'], now: this.now });
    assertTaken(taken, h.points);
    this.balance.available -= h.points;
    this.balance.held += h.points;
    this.touch({ source_type: 'hold' });
    await store.saveBalance(this.tx, this.tenantId, this.balance);
    await emit(this.tx, holdEvent(this.tenantId, 'hold.created', hold, this.balance, this.now));
    return hold;
  }

  /** Gives a hold's points back to their lots ('released' by the client, or 'expired' past its time). */
  async releaseHold(hold: HoldRow, status: 'released' | 'expired'): Promise<HoldRow> {
    if (hold.status !== 'held') throw errors.unprocessable(`The hold is already ${hold.status}.`);
    const parts = await store.allocationsOf(this.tx, this.tenantId, { holdId: hold.id });
    const deficit = this.deficit;
    await store.returnToLots(this.tx, this.tenantId, this.memberId, parts, { holdId: hold.id }, this.now);
    this.balance.held -= hold.points;
    this.balance.available += hold.points;
    this.touch({ source_type: 'hold' });
    const closed = await store.closeHold(this.tx, this.tenantId, hold.id, status, this.now);
    const expired = await this.expireReturned(parts, 'returned from a hold after the points expired');
    await this.settle(hold.points - expired, deficit);
    await store.saveBalance(this.tx, this.tenantId, this.balance);
    await emit(this.tx, holdEvent(this.tenantId, status === 'released' ? 'hold.released' : 'hold.expired', closed, this.balance, this.now));
    return closed;
  }

  /**
   * Captures `points` (at most the hold's) as a redemption entry: those lots pass from the hold to the entry, the
   * rest goes back to its lots. The caller records the redemption and passes its id.
   */
  async captureHold(hold: HoldRow, points: number, redemptionId: string, p: Posting): Promise<{ hold: HoldRow; entry: EntryRow }> {
    positive(points, 'points');
    if (hold.status !== 'held') throw errors.unprocessable(`The hold is already ${hold.status}.`);
    if (points > hold.points) throw errors.field('points', `must be at most the ${hold.points} points held`);
    const parts = await store.allocationsOf(this.tx, this.tenantId, { holdId: hold.id });
    const captured: Array<{ lot_id: string; points: number }> = [];
    const back: Array<{ lot_id: string; points: number }> = [];
    let left = points;
    for (const part of parts) {
      const take = Math.min(left, part.points);
      if (take > 0) captured.push({ lot_id: part.lot_id, points: take });
      if (part.points - take > 0) back.push({ lot_id: part.lot_id, points: part.points - take });
      left -= take;
    }
    const deficit = this.deficit;
    this.balance.held -= hold.points;
    this.balance.available += hold.points - points;
    this.balance.redeemed += points;
    this.touch({ ...p, activity: true });
    const e = this.entry('redeem', -points, 0, p);
    const entry = await this.write(e);
    // The captured lots move from the hold to the entry: the hold's allocation is undone, the entry's written.
    await store.allocate(this.tx, this.tenantId, this.memberId, captured.map((c) => ({ ...c, points: -c.points })), { holdId: hold.id }, this.now);
    await store.allocate(this.tx, this.tenantId, this.memberId, captured, { entryId: entry.id }, this.now);
    await store.returnToLots(this.tx, this.tenantId, this.memberId, back, { holdId: hold.id }, this.now);
    const closed = await store.closeHold(this.tx, this.tenantId, hold.id, 'captured', this.now, { points, redemptionId });
    const expired = await this.expireReturned(back.map((b) => {
      const lot = parts.find((x) => x.lot_id === b.lot_id)!;
      return { ...b, expires_at: lot.expires_at, state: lot.state };
    }), 'returned from a hold after the points expired');
    await this.settle(hold.points - points - expired, deficit);
    await this.save();
    await emit(this.tx, holdEvent(this.tenantId, 'hold.captured', closed, this.balance, this.now));
    return { hold: closed, entry };
  }

  /**
   * Undoes a redemption entry: its points go back to the lots they came from. Points whose lot has expired
   * meanwhile go back and expire at once (an `expire` entry), so a cancellation never extends a lot's life.
   */
  async restore(redeemEntryId: string, p: Posting): Promise<{ entry: EntryRow; restored: number; expired: number }> {
    const parts = await store.allocationsOf(this.tx, this.tenantId, { entryId: redeemEntryId });
    const total = parts.reduce((s, x) => s + x.points, 0);
    if (total === 0) throw errors.unprocessable('The redemption has no points left to give back.');
    const deficit = this.deficit;
    this.balance.available += total;
    this.balance.redeemed -= total;
    this.touch(p);
    const e = this.entry('redemption_cancel', total, 0, p);
    const entry = await this.write(e);
    await store.returnToLots(this.tx, this.tenantId, this.memberId, parts, { entryId: redeemEntryId }, this.now);
    const expired = await this.expireReturned(parts, 'returned by a cancelled redemption after the points expired');
    await this.settle(total - expired, deficit);
    await this.save();
    return { entry, restored: total - expired, expired };
  }

  /**
   * Points given back to a lot that is past its expiry date, or that had expired (the inactivity policy), expire now,
   * with anything else of the member's that is due and the scheduled job has not reached yet (one `expire` entry, as
   * the job would write): giving points back never extends their life.
   */
  private async expireReturned(parts: Array<{ lot_id: string; points: number; expires_at: Date | null; state: string }>, reason: string): Promise<number> {
    const late = parts.filter((x) => (x.expires_at !== null && x.expires_at <= this.now) || x.state === 'expired');
    if (late.length === 0) return 0;
    await this.save();
    const expired = await store.expireMembersLots(this.tx, this.tenantId, new Map([[this.memberId, newId()]]), this.now, this.now, reason, late.map((x) => x.lot_id));
    const points = expired.get(this.memberId) ?? 0;
    this.balance.available -= points;
    this.balance.expired += points;
    return points;
  }

  /** A purchase or action that earned nothing still counts as activity (the inactivity policy). */
  async recordActivity(): Promise<void> {
    this.touch({ source_type: 'system', activity: true });
    await this.save();
  }

  /** Writes an entry with the balance as it is now, in one statement. */
  private async write(e: store.NewEntry, lot?: store.NewLot): Promise<EntryRow> {
    const row = await store.insertEntry(this.tx, this.tenantId, e, { lot, balanceAfter: this.balance, saveBalance: true });
    this.dirty = false;
    return row;
  }

  /** Writes the balance row if it changed since the last write. */
  async save(): Promise<void> {
    if (!this.dirty) return;
    await store.saveBalance(this.tx, this.tenantId, this.balance);
    this.dirty = false;
  }
}

function sum(taken: store.Taken[]): number {
  return taken.reduce((s, t) => s + t.points, 0);
}

function assertTaken(taken: store.Taken[], expected: number): void {
  const got = sum(taken);
  // The balance said the points were there; lots disagreeing is a bug, and the transaction must not commit.
  if (got !== expected) throw new Error(`ledger invariant: lots hold ${got} of the ${expected} points the balance promised`);
}

function holdEvent(tenantId: string, type: string, hold: HoldRow, balance: BalanceRow, now: Date) {
  return {
    tenantId, type, aggregateType: 'hold', aggregateId: hold.id, memberId: hold.member_id, occurredAt: now,
    payload: {
      hold_id: hold.id, member_id: hold.member_id, points: hold.points, status: hold.status, order_ref: hold.order_ref,
      captured_points: hold.captured_points, redemption_id: hold.redemption_id,
      balance: { available: balance.available, pending: balance.pending, held: balance.held },
    },
  };
}

export interface BatchResult {
  members: number;
  points: number;
}

export class Ledger {
  constructor(private readonly clock: Clock) {}

  /**
   * Locks a member's points for this transaction. Holds past their expiry are released first, so `available` is
   * right without waiting for the scheduled job.
   */
  async open(tx: Tx, tenantId: string, memberId: string, policy: NegativeBalancePolicy): Promise<MemberBook> {
    const now = this.clock.now();
    const balance = await store.lockBalance(tx, tenantId, memberId, now);
    const book = new MemberBook(tx, tenantId, balance, now, policy);
    if (balance.held > 0) {
      for (const hold of await store.dueHoldsOfMember(tx, tenantId, memberId, now)) await book.releaseHold(hold, 'expired');
    }
    return book;
  }

  async balance(q: Queryable, tenantId: string, memberId: string): Promise<BalanceRow> {
    return (await store.getBalance(q, tenantId, memberId)) ?? {
      member_id: memberId, available: 0, pending: 0, held: 0, lifetime_earned: 0, redeemed: 0, expired: 0, debt: 0,
      last_activity_at: null, updated_at: this.clock.now(),
    };
  }

  entries(q: Queryable, tenantId: string, memberId: string, f: store.EntryFilter): Promise<EntryRow[]> {
    return store.listEntries(q, tenantId, memberId, f);
  }

  /** Points each member earned in [from, to) by business time, net of claw-backs and reversals (leaderboards). */
  earnedBetween(q: Queryable, tenantId: string, memberIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
    return store.earnedBetween(q, tenantId, memberIds, from, to);
  }

  lotsOfTransaction(q: Queryable, tenantId: string, transactionId: string) {
    return store.lotsOfTransaction(q, tenantId, transactionId);
  }

  /** Points that expire before `until`, lot by lot (soonest first). */
  expiring(q: Queryable, tenantId: string, memberId: string, until: Date) {
    return store.expiringLots(q, tenantId, memberId, until);
  }

  /** Per member, the active points expiring in (from, until]: sum and earliest date, a page of members in id order. */
  expiringByMember(q: Queryable, tenantId: string, from: Date, until: Date) {
    return store.expiringByMember(q, tenantId, from, until);
  }

  /** Active lots with points left (the inactivity policy expires them all at once). */
  activeLots(q: Queryable, tenantId: string, memberId: string) {
    return store.activeLots(q, tenantId, memberId);
  }

  getHold(q: Queryable, tenantId: string, id: string) {
    return store.getHold(q, tenantId, id);
  }

  /** Activated earned points per member and window (tier qualification; see ledger.store.qualifyingPoints). */
  qualifyingPoints(q: Queryable, tenantId: string, windows: store.MemberWindow[]): Promise<Map<string, number>> {
    return store.qualifyingPoints(q, tenantId, windows);
  }

  /** Entries that change earned points after `afterId`, oldest first (the tier job's watermark). */
  earningEntriesAfter(q: Queryable, tenantId: string, afterId: string | null, limit: number) {
    return store.earningEntriesAfter(q, tenantId, afterId, limit);
  }

  listHolds(q: Queryable, tenantId: string, memberId: string, afterId: string | undefined, limit: number) {
    return store.listHolds(q, tenantId, memberId, afterId, limit);
  }

  /**
   * Activates pending lots whose pending period is over, `batch` lots' worth of members per transaction, until none
   * is due. Safe to run again or concurrently (each batch locks its members; a lot activates once).
   */
  async activateDue(db: Db, tenantId: string, policy: NegativeBalancePolicy, batch = 1000): Promise<BatchResult> {
    const total: BatchResult = { members: 0, points: 0 };
    for (;;) {
      const now = this.clock.now();
      const done = await db.tx(async (tx) => {
        const members = await store.membersWithDueActivation(tx, tenantId, now, batch);
        if (members.length === 0) return null;
        const locked = await store.lockBalances(tx, tenantId, members);
        const ids = new Map(locked.map((b) => [b.member_id, newId()]));
        const rows = await store.activateMembersLots(tx, tenantId, ids, now);
        // A member who owed points (negative balance or debt) settles from what just became spendable.
        for (const r of rows.filter((x) => x.available_before < 0 || x.debt > 0)) {
          const book = await this.open(tx, tenantId, r.member_id, policy);
          await book.settle(r.points, Math.max(0, -r.available_before));
          await book.save();
        }
        return { members: rows.length, points: rows.reduce((s, r) => s + r.points, 0) };
      });
      if (!done) return total;
      total.members += done.members;
      total.points += done.points;
    }
  }

  /**
   * Expires lots past their expiry (per-lot policies), `batch` lots' worth of members per transaction, until none is
   * due: one `expire` entry per member and run. Idempotent and resumable: an expired lot has nothing left to expire,
   * and each batch commits on its own.
   */
  async expireDue(db: Db, tenantId: string, batch = 5000): Promise<BatchResult> {
    return this.expireLoop(db, tenantId, (tx, now) => store.membersWithDueExpiry(tx, tenantId, now, batch), (now) => now, 'points reached their expiry date');
  }

  /** The inactivity policy: every active point of members without activity since `cutoff` expires. */
  async expireInactive(db: Db, tenantId: string, cutoff: Date, batch = 5000): Promise<BatchResult> {
    return this.expireLoop(db, tenantId, (tx) => store.membersInactiveSince(tx, tenantId, cutoff, batch), () => null,
      `no activity since ${cutoff.toISOString()}`, cutoff);
  }

  private async expireLoop(db: Db, tenantId: string, find: (tx: Tx, now: Date) => Promise<string[]>, dueBefore: (now: Date) => Date | null, reason: string, inactiveCutoff?: Date): Promise<BatchResult> {
    const total: BatchResult = { members: 0, points: 0 };
    for (;;) {
      const now = this.clock.now();
      const done = await db.tx(async (tx) => {
        const members = await find(tx, now);
        if (members.length === 0) return null;
        let locked = await store.lockBalances(tx, tenantId, members);
        // Under the inactivity policy, a member active since the lookup (the lock waited for them) keeps the points.
        if (inactiveCutoff) locked = locked.filter((b) => b.available > 0 && b.last_activity_at !== null && b.last_activity_at < inactiveCutoff);
        if (locked.length === 0) return { members: 0, points: 0 };
        const ids = new Map(locked.map((b) => [b.member_id, newId()]));
        const expired = await store.expireMembersLots(tx, tenantId, ids, dueBefore(now), now, reason);
        let points = 0;
        for (const p of expired.values()) points += p;
        return { members: expired.size, points };
      });
      // Nothing found, or nothing could be expired (another run took it): stop rather than spin on the same rows.
      if (!done || done.members === 0) return total;
      total.members += done.members;
      total.points += done.points;
    }
  }

  /** Releases holds past their expiry, member by member. */
  async releaseDueHolds(db: Db, tenantId: string, policy: NegativeBalancePolicy, batch = 500): Promise<number> {
    let released = 0;
    for (;;) {
      const due = await store.dueHolds(db, tenantId, this.clock.now(), batch);
      if (due.length === 0) return released;
      for (const h of due) {
        await db.tx(async (tx) => {
          // Opening the book releases the member's due holds.
          await this.open(tx, tenantId, h.member_id, policy);
        });
      }
      released += due.length;
      if (due.length < batch) return released;
    }
  }
}
