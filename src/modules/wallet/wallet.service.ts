/**
 * The store-credit wallet: money (minor units of the program currency) the business owes a member — cashback, gifts,
 * refunds — spent at checkout. Kept like points: every change is an append-only entry written by the same statement
 * that moves the balance, the balance never goes below zero (a debit beyond it is a 422 `insufficient_credit`), and
 * every change emits `wallet.credited` or `wallet.debited` in the same transaction.
 *
 * Concurrency: a member's balance row (per currency) is the lock. A debit is a guarded UPDATE of that row, so
 * concurrent debits queue on it and each sees what the one before left. The wallet never locks anything else after
 * it, so a caller that holds the member's points book (a gift) and then credits the wallet keeps one lock order.
 */
import type { Clock } from '../../platform/clock.js';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import * as store from './wallet.store.js';
import type { WalletBalanceRow, WalletEntryRow, WalletSourceType } from './wallet.store.js';

export { WALLET_SOURCE_TYPES } from './wallet.store.js';
export type { WalletBalanceRow, WalletEntryRow, WalletSourceType } from './wallet.store.js';

/** A credit or debit (the contract other modules call). */
export interface WalletMove {
  /** Minor units, positive. */
  amount: number;
  /** Must be the program currency. */
  currency: string;
  reason: string | null;
  source_type: WalletSourceType;
  source_id: string | null;
  order_ref?: string | null;
  actor?: string | null;
}

/** A member's store credit in one currency (the stored balance row). */
export type WalletBalance = WalletBalanceRow;

/** The largest single credit or debit: a trillion minor units keeps every sum far below 2^53. */
export const MAX_WALLET_AMOUNT = 1_000_000_000_000;

export class WalletService {
  constructor(
    private readonly clock: Clock,
    private readonly members: Pick<MembersService, 'find'>,
    private readonly programs: Pick<ProgramsService, 'get'>,
  ) {}

  /** The program currency, and 422 naming `currency` for any other. */
  private async checkMove(q: Queryable, tenantId: string, m: WalletMove): Promise<void> {
    if (!Number.isSafeInteger(m.amount) || m.amount < 1 || m.amount > MAX_WALLET_AMOUNT) {
      throw errors.field('amount', `must be a whole number of minor units from 1 to ${MAX_WALLET_AMOUNT}`);
    }
    const program = await this.programs.get(q, tenantId);
    if (m.currency !== program.currency) {
      throw errors.unprocessable(`Store credit is kept in the program currency ${program.currency}, not ${m.currency}.`, [{ field: 'currency', detail: `must be ${program.currency}` }]);
    }
  }

  /** 404 for an unknown member; 422 for an erased one (and, spending, a blocked one). */
  private async checkMember(q: Queryable, tenantId: string, memberId: string, spending: boolean): Promise<void> {
    const member = await this.members.find(q, tenantId, { id: memberId });
    if (!member) throw errors.notFound('member', memberId);
    if (member.status === 'erased') throw errors.unprocessable(`Member ${memberId} was erased: their store credit can no longer change.`);
    if (spending && member.status === 'blocked') throw errors.unprocessable(`Member ${memberId} is blocked and cannot spend store credit.`);
  }

  private async emitMove(tx: Tx, tenantId: string, e: WalletEntryRow): Promise<void> {
    await emit(tx, {
      tenantId, type: e.type === 'credit' ? 'wallet.credited' : 'wallet.debited', aggregateType: 'member', aggregateId: e.member_id,
      memberId: e.member_id, occurredAt: e.created_at,
      payload: {
        entry_id: e.id, member_id: e.member_id, amount: Math.abs(e.amount), currency: e.currency, balance: e.balance_after,
        source_type: e.source_type, source_id: e.source_id, order_ref: e.order_ref,
      },
    });
  }

  private entry(memberId: string, m: WalletMove) {
    return {
      id: newId(), member_id: memberId, currency: m.currency, amount: m.amount, reason: m.reason, source_type: m.source_type,
      source_id: m.source_id, order_ref: m.order_ref ?? null, actor: m.actor ?? null, created_at: this.clock.now(),
    };
  }

  /** Adds store credit (cashback, a gift, a refund). A blocked member still receives it; an erased one does not. */
  async credit(tx: Tx, tenantId: string, memberId: string, m: WalletMove): Promise<WalletEntryRow> {
    await this.checkMove(tx, tenantId, m);
    await this.checkMember(tx, tenantId, memberId, false);
    const e = await store.credit(tx, tenantId, this.entry(memberId, m));
    await this.emitMove(tx, tenantId, e);
    return e;
  }

  /** Spends store credit: 422 `insufficient_credit` beyond the balance, and nothing written. */
  async debit(tx: Tx, tenantId: string, memberId: string, m: WalletMove): Promise<WalletEntryRow> {
    await this.checkMove(tx, tenantId, m);
    await this.checkMember(tx, tenantId, memberId, true);
    const e = await store.debit(tx, tenantId, this.entry(memberId, m));
    if (!e) {
      const now = await store.getBalance(tx, tenantId, memberId, m.currency);
      throw errors.insufficientCredit(`Member ${memberId} has ${now?.balance ?? 0} ${m.currency} minor units of store credit; ${m.amount} were asked for.`);
    }
    await this.emitMove(tx, tenantId, e);
    return e;
  }

  /**
   * Gives back (part of) a debit: the order it paid for was cancelled or returned. At most what the debit took minus
   * what was refunded of it before; the balance row is locked first, so two refunds of one debit cannot both pass.
   */
  async refund(tx: Tx, tenantId: string, memberId: string, debitId: string, amount: number | undefined, actor: string | null): Promise<WalletEntryRow> {
    const debited = await store.getEntry(tx, tenantId, debitId);
    if (!debited || debited.member_id !== memberId || debited.type !== 'debit') throw errors.notFound('wallet debit', debitId);
    await this.checkMember(tx, tenantId, memberId, false);
    await store.lockBalance(tx, tenantId, memberId, debited.currency);
    const left = -debited.amount - (await store.refundedOf(tx, tenantId, memberId, debitId));
    if (left <= 0) throw errors.unprocessable(`The debit ${debitId} was refunded in full already.`);
    const give = amount ?? left;
    if (give > left) throw errors.unprocessable(`Only ${left} of the debit ${debitId} is left to refund.`, [{ field: 'amount', detail: `must be at most ${left}` }]);
    const e = await store.credit(tx, tenantId, this.entry(memberId, {
      amount: give, currency: debited.currency, reason: 'refund', source_type: 'refund', source_id: debitId, order_ref: debited.order_ref, actor,
    }));
    await this.emitMove(tx, tenantId, e);
    return e;
  }

  /** The member's store credit in `currency` (default the program currency); zero when they never had any. */
  async balance(q: Queryable, tenantId: string, memberId: string, currency?: string): Promise<WalletBalance> {
    const cur = currency ?? (await this.programs.get(q, tenantId)).currency;
    const row = await store.getBalance(q, tenantId, memberId, cur);
    return row ?? { member_id: memberId, currency: cur, balance: 0, credited: 0, debited: 0, updated_at: null };
  }

  /** Newest first. */
  entries(q: Queryable, tenantId: string, memberId: string, f: { currency?: string; beforeId?: string; limit: number }): Promise<WalletEntryRow[]> {
    return store.listEntries(q, tenantId, memberId, f);
  }

  /** Every currency's balance and every entry (the GDPR export). */
  async exportOf(q: Queryable, tenantId: string, memberId: string, limit: number): Promise<{ balances: WalletBalanceRow[]; entries: WalletEntryRow[] }> {
    return { balances: await store.balancesOf(q, tenantId, memberId), entries: await store.listEntries(q, tenantId, memberId, { limit }) };
  }
}
