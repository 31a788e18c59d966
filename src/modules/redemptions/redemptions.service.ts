/**
 * Redemptions (points spent, at once or by capturing a checkout hold) and checkout holds (points reserved while an
 * order is paid). The points move in the member's ledger book (ledger.service.ts); this module keeps the redemption
 * record, its money value at the program's rate, and the domain events.
 *
 * Every write opens the member's book first (which locks the member's points), and reads the redemption or hold it
 * changes again after that lock: two cancellations, or a capture and a release, of one object run one after the other
 * and the second sees the first's result.
 */
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import { pointsWorth } from '../ledger/ledger.schema.js';
import type { HoldRow, Ledger, MemberBook } from '../ledger/ledger.service.js';
import type { MembersService } from '../members/members.service.js';
import type { Program, ProgramsService } from '../programs/programs.service.js';
import * as store from './redemptions.store.js';
import type { RedemptionRow } from './redemptions.store.js';

export type { RedemptionRow } from './redemptions.store.js';

export interface RedemptionView {
  id: string;
  member_id: string;
  points: number;
  reward_ref: string | null;
  reason: string | null;
  order_ref: string | null;
  value: { amount: number; currency: string };
  status: 'completed' | 'cancelled';
  entry_id: string;
  hold_id: string | null;
  created_at: Date;
  cancelled_at: Date | null;
}

export interface RedeemInput {
  member_id: string;
  points: number;
  reward_ref?: string;
  reason?: string;
  order_ref?: string;
}

export interface HoldInput {
  member_id: string;
  points: number;
  order_ref?: string;
  expires_in_seconds?: number;
}

export function redemptionView(r: RedemptionRow): RedemptionView {
  return {
    id: r.id, member_id: r.member_id, points: r.points, reward_ref: r.reward_ref, reason: r.reason, order_ref: r.order_ref,
    value: { amount: r.value_amount, currency: r.currency }, status: r.status, entry_id: r.entry_id, hold_id: r.hold_id,
    created_at: r.created_at, cancelled_at: r.cancelled_at,
  };
}

export class RedemptionsService {
  constructor(
    private readonly clock: Clock,
    private readonly ledger: Ledger,
    private readonly programs: ProgramsService,
    private readonly members: MembersService,
  ) {}

  /** The member, who must be able to spend points: 404 when unknown, 422 when blocked or erased. */
  private async spender(q: Queryable, tenantId: string, memberId: string, what: string): Promise<void> {
    const member = await this.members.find(q, tenantId, { id: memberId });
    if (!member) throw errors.notFound('member', memberId);
    if (member.status === 'erased') throw errors.unprocessable(`Member ${memberId} was erased and cannot ${what}.`);
    if (member.status === 'blocked') throw errors.unprocessable(`Member ${memberId} is blocked and cannot ${what}.`);
  }

  private async open(tx: Tx, tenantId: string, memberId: string): Promise<{ program: Program; book: MemberBook }> {
    const program = await this.programs.get(tx, tenantId);
    return { program, book: await this.ledger.open(tx, tenantId, memberId, program.negative_balance) };
  }

  private async record(tx: Tx, tenantId: string, r: { id: string; input: Omit<RedeemInput, 'points'>; points: number; entryId: string; holdId: string | null; program: Program }): Promise<RedemptionView> {
    const now = this.clock.now();
    const row = await store.insertRedemption(tx, tenantId, {
      id: r.id, member_id: r.input.member_id, points: r.points, reward_ref: r.input.reward_ref ?? null, reason: r.input.reason ?? null,
      order_ref: r.input.order_ref ?? null, value_amount: pointsWorth(r.points, r.program.points_value), currency: r.program.currency,
      entry_id: r.entryId, hold_id: r.holdId, created_at: now,
    });
    await emit(tx, {
      tenantId, type: 'redemption.created', aggregateType: 'redemption', aggregateId: row.id, memberId: row.member_id, occurredAt: now,
      payload: { redemption_id: row.id, member_id: row.member_id, points: row.points, value: { amount: row.value_amount, currency: row.currency }, entry_id: row.entry_id, hold_id: row.hold_id },
    });
    return redemptionView(row);
  }

  /** Spends points now: 422 insufficient_points beyond the available ones. */
  async redeem(tx: Tx, tenantId: string, input: RedeemInput, actor: string | null): Promise<RedemptionView> {
    await this.spender(tx, tenantId, input.member_id, 'redeem points');
    const { program, book } = await this.open(tx, tenantId, input.member_id);
    const id = newId();
    const details = input.reward_ref || input.order_ref ? { reward_ref: input.reward_ref ?? null, order_ref: input.order_ref ?? null } : null;
    const { entry } = await book.debit({
      type: 'redeem', points: input.points, shortfall: 'refuse', activity: true, source_type: 'redemption', source_id: id,
      reason: input.reason ?? null, actor, details,
    });
    return this.record(tx, tenantId, { id, input, points: input.points, entryId: entry.id, holdId: null, program });
  }

  async get(q: Queryable, tenantId: string, id: string): Promise<RedemptionView> {
    const row = await store.getRedemption(q, tenantId, id);
    if (!row) throw errors.notFound('redemption', id);
    return redemptionView(row);
  }

  async list(q: Queryable, tenantId: string, f: { memberId?: string; beforeId?: string; limit: number }): Promise<RedemptionView[]> {
    return (await store.listRedemptions(q, tenantId, f)).map(redemptionView);
  }

  /**
   * Gives a redemption's points back to the lots they came from; points of lots that expired meanwhile expire at once
   * (`expired_points`), so a cancellation never extends a lot's life. Cancelling twice is a 422.
   */
  async cancel(tx: Tx, tenantId: string, id: string, actor: string | null): Promise<RedemptionView & { restored_points: number; expired_points: number }> {
    const first = await store.getRedemption(tx, tenantId, id);
    if (!first) throw errors.notFound('redemption', id);
    const { book } = await this.open(tx, tenantId, first.member_id);
    const current = (await store.getRedemption(tx, tenantId, id))!;
    if (current.status === 'cancelled') throw errors.unprocessable(`Redemption ${id} was already cancelled at ${current.cancelled_at!.toISOString()}.`);
    const back = await book.restore(current.entry_id, { source_type: 'redemption', source_id: id, reason: 'redemption cancelled', actor });
    const now = this.clock.now();
    const row = await store.markCancelled(tx, tenantId, id, now);
    await emit(tx, {
      tenantId, type: 'redemption.cancelled', aggregateType: 'redemption', aggregateId: id, memberId: row.member_id, occurredAt: now,
      payload: { redemption_id: id, member_id: row.member_id, points: row.points, restored_points: back.restored, expired_points: back.expired, entry_id: back.entry.id },
    });
    return { ...redemptionView(row), restored_points: back.restored, expired_points: back.expired };
  }

  // ── Checkout holds ────────────────────────────────────────────────────────

  /** Reserves points for a checkout, for `expires_in_seconds` (default the program's hold_minutes). */
  async hold(tx: Tx, tenantId: string, input: HoldInput): Promise<HoldRow> {
    await this.spender(tx, tenantId, input.member_id, 'hold points');
    const { program, book } = await this.open(tx, tenantId, input.member_id);
    const seconds = input.expires_in_seconds ?? program.hold_minutes * 60;
    return book.hold({ points: input.points, order_ref: input.order_ref ?? null, expires_at: new Date(this.clock.now().getTime() + seconds * 1000) });
  }

  async getHold(q: Queryable, tenantId: string, id: string): Promise<HoldRow> {
    const hold = await this.ledger.getHold(q, tenantId, id);
    if (!hold) throw errors.notFound('hold', id);
    return hold;
  }

  /**
   * The hold's member is read from the hold, that member's book opened (which releases their holds past expiry), and
   * the hold read again under the lock: a hold past its expiry is a 422, never captured.
   */
  private async openHold(tx: Tx, tenantId: string, id: string): Promise<{ hold: HoldRow; book: MemberBook; program: Program }> {
    const first = await this.getHold(tx, tenantId, id);
    const { program, book } = await this.open(tx, tenantId, first.member_id);
    const hold = (await this.ledger.getHold(tx, tenantId, id))!;
    if (hold.status === 'expired') throw errors.unprocessable(`The hold expired at ${hold.expires_at.toISOString()}: its points went back to the member.`);
    if (hold.status !== 'held') throw errors.unprocessable(`The hold is already ${hold.status}.`);
    return { hold, book, program };
  }

  /** Turns `points` of a hold (default: all) into a redemption; the rest goes back to the member. */
  async capture(tx: Tx, tenantId: string, id: string, points: number | undefined, actor: string | null): Promise<{ hold: HoldRow; redemption: RedemptionView }> {
    const first = await this.getHold(tx, tenantId, id);
    await this.spender(tx, tenantId, first.member_id, 'redeem points');
    const { hold, book, program } = await this.openHold(tx, tenantId, id);
    if (points !== undefined && points > hold.points) throw errors.field('points', `must be at most the ${hold.points} points held`);
    const take = points ?? hold.points;
    const redemptionId = newId();
    const captured = await book.captureHold(hold, take, redemptionId, {
      source_type: 'redemption', source_id: redemptionId, actor, activity: true,
      details: { hold_id: hold.id, order_ref: hold.order_ref },
    });
    const redemption = await this.record(tx, tenantId, {
      id: redemptionId, input: { member_id: hold.member_id, ...(hold.order_ref ? { order_ref: hold.order_ref } : {}) },
      points: take, entryId: captured.entry.id, holdId: hold.id, program,
    });
    return { hold: captured.hold, redemption };
  }

  /**
   * Releases the hold in a transaction of its own when it is past its expiry, so that the 422 a capture or release
   * of it then answers does not roll the release back with it.
   */
  async releaseIfExpired(db: Db, tenantId: string, id: string): Promise<void> {
    const hold = await this.ledger.getHold(db, tenantId, id);
    if (!hold || hold.status !== 'held' || hold.expires_at > this.clock.now()) return;
    await db.tx(async (tx) => {
      await this.open(tx, tenantId, hold.member_id); // opening the book releases the member's holds past expiry
    });
  }

  /** Gives a hold's points back (the checkout was abandoned). */
  async release(tx: Tx, tenantId: string, id: string): Promise<HoldRow> {
    const { hold, book } = await this.openHold(tx, tenantId, id);
    return book.releaseHold(hold, 'released');
  }
}
