/**
 * Gifts: what a mechanic gives a member for free (a full stamp card, a referral, a badge, a milestone) — points, a
 * catalog reward (a voucher, an event invitation, …) at no points cost, and/or store credit. Stamp cards, referrals
 * and achievements describe their rewards as a `Gift` and hand it to one `GiveGift`, so each kind of gift is given
 * one way, through the ledger, the rewards catalog or the wallet.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Tx } from '../../platform/db/db.js';
import { errors, isAppError, type FieldError } from '../../platform/errors.js';
import { emit } from '../../platform/outbox/outbox.js';
import { Nullable, Obj, Uuid } from '../../platform/http/schema.js';
import type { MemberBook, SourceType } from '../ledger/ledger.service.js';
import { lotExpiresAt } from '../programs/programs.policy.js';
import type { Program } from '../programs/programs.types.js';

export const GiftSchema = Obj({
  points: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Points credited to the member (they expire like earned points).' })),
  reward_id: Type.Optional(Uuid({ description: 'A catalog reward issued at no points cost (e.g. a voucher).' })),
  credit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: "Store credit in the program currency's minor units, into the member's wallet." })),
}, { description: 'What the member gets: points, a catalog reward and/or store credit (at least one).' });
export type Gift = Static<typeof GiftSchema>;

/** Every problem of a gift the schema cannot see. */
export function giftErrors(field: string, gift: Gift | null | undefined): FieldError[] {
  if (!gift) return [];
  if (gift.points === undefined && gift.reward_id === undefined && gift.credit === undefined) {
    return [{ field, detail: 'must give something: points, reward_id or credit' }];
  }
  return [];
}

export interface GiftSource {
  source_type: SourceType;
  source_id: string;
  /** Shown in the member's ledger and wallet (e.g. "stamp card Coffee, card 3 full"). */
  reason: string;
}

export interface GiftResult {
  points: number;
  /** The catalog reward issued, when the gift named one. */
  reward_redemption_id: string | null;
  voucher_code: string | null;
  credit: number;
  /** Set when the gift could not be given (giveOrReport): nothing above was given. */
  failed?: { code: string; detail: string };
}

export const GiftResultSchema = Type.Object({
  points: Type.Integer({ description: 'Points credited.' }),
  reward_redemption_id: Nullable(Uuid({ description: 'The catalog reward issued.' })),
  voucher_code: Nullable(Type.String({ description: "The issued reward's voucher code." })),
  credit: Type.Integer({ description: 'Store credit given, minor units.' }),
  failed: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() }, { description: 'The gift could not be given (e.g. its reward is out of stock); the order went through without it, and a gift.failed event says so.' })),
}, { description: 'What a gift gave.' });

/**
 * Gives a gift to the member whose book is open (locked) in this transaction. Throws a typed error (422) when the
 * gift cannot be given (an unknown or unavailable reward), so the caller's whole transaction rolls back.
 */
export type GiveGift = (tx: Tx, book: MemberBook, gift: Gift, source: GiftSource) => Promise<GiftResult>;

/** The parts that give each kind of gift (the rewards catalog and the wallet wire theirs in the composition root). */
export interface GiftGivers {
  /** Issues a catalog reward at no points cost. */
  reward?: (tx: Tx, book: MemberBook, rewardId: string, source: GiftSource) => Promise<{ redemption_id: string; voucher_code: string | null }>;
  /** Credits store credit (program currency, minor units) to the member's wallet. */
  credit?: (tx: Tx, tenantId: string, memberId: string, amount: number, source: GiftSource) => Promise<void>;
}

/**
 * The one GiveGift: points through the member's book (expiring by the program's policy, counted as earned), a
 * reward through the catalog, credit through the wallet.
 */
export function createGiveGift(deps: {
  now: () => Date;
  program: (tx: Tx, tenantId: string) => Promise<Program>;
  givers: GiftGivers;
}): GiveGift {
  return async (tx, book, gift, source) => {
    const result: GiftResult = { points: 0, reward_redemption_id: null, voucher_code: null, credit: 0 };
    if (gift.points) {
      const program = await deps.program(tx, book.tenantId);
      const now = deps.now();
      await book.credit({
        type: 'earn', points: gift.points, earned: true, activity: false, activates_at: null,
        expires_at: lotExpiresAt(program.expiry, now, program.time_zone),
        reason: source.reason, source_type: source.source_type, source_id: source.source_id,
      });
      result.points = gift.points;
    }
    if (gift.reward_id) {
      if (!deps.givers.reward) throw errors.unprocessable('Catalog rewards cannot be given here.', [{ field: 'reward_id', detail: 'the rewards catalog is not available' }]);
      const r = await deps.givers.reward(tx, book, gift.reward_id, source);
      result.reward_redemption_id = r.redemption_id;
      result.voucher_code = r.voucher_code;
    }
    if (gift.credit) {
      if (!deps.givers.credit) throw errors.unprocessable('Store credit cannot be given here.', [{ field: 'credit', detail: 'the wallet is not available' }]);
      await deps.givers.credit(tx, book.tenantId, book.memberId, gift.credit, source);
      result.credit = gift.credit;
    }
    return result;
  };
}

/**
 * For gifts an order or event causes (a full stamp card, a badge): a gift that cannot be given — its reward archived
 * or out of stock, the wallet in another currency — must not fail the shop's order. The gift runs in a savepoint of
 * the member's book; a typed error undoes only the gift, is announced as `gift.failed` (so someone can give it by
 * hand) and comes back as a result that gave nothing, with `failed` set. Anything else (a bug, a lost connection) still fails the whole transaction.
 */
export async function giveOrReport(give: GiveGift, tx: Tx, book: MemberBook, gift: Gift, source: GiftSource, now: Date): Promise<GiftResult> {
  try {
    return await book.attempt(() => give(tx, book, gift, source));
  } catch (err) {
    if (!isAppError(err)) throw err;
    const failed = { code: err.code, detail: [err.message, ...err.errors.map((f) => `${f.field}: ${f.detail}`)].join(" ") };
    await emit(tx, {
      tenantId: book.tenantId, type: 'gift.failed', aggregateType: 'member', aggregateId: book.memberId, memberId: book.memberId, occurredAt: now,
      payload: { member_id: book.memberId, gift, source_type: source.source_type, source_id: source.source_id, reason: source.reason, error: failed },
    });
    return { points: 0, reward_redemption_id: null, voucher_code: null, credit: 0, failed };
  }
}
