/** HTTP schemas of a member's points: balance, ledger, adjustments and the points about to expire. */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { SOURCE_TYPES } from './ledger.store.js';

export const ENTRY_TYPES = ['earn', 'activate', 'redeem', 'redemption_cancel', 'expire', 'adjust', 'claw_back', 'reverse', 'debt_repay'] as const;
export { SOURCE_TYPES };

export const LIMITS = {
  adjustmentPoints: 10_000_000,
  expiringDays: 3650,
};

/** Free text a person typed: a visible character, no control characters (PostgreSQL cannot store NUL). */
export const TEXT_PATTERN = '^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$';
export const TEXT_MESSAGE = 'must contain a visible character and no control characters';
export const Text = (maxLength: number, opts: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, pattern: TEXT_PATTERN, 'x-message': TEXT_MESSAGE, ...opts });

/**
 * What `points` are worth at a program's points_value rate (`rate.points` points = `rate.amount` minor units), rounded
 * down; 0 for none or a negative balance. BigInt: points × amount may pass 2^53.
 */
export function pointsWorth(points: number, rate: { points: number; amount: number }): number {
  if (points <= 0) return 0;
  return Number((BigInt(points) * BigInt(rate.amount)) / BigInt(rate.points));
}

export const Money = Type.Object(
  {
    amount: Type.Integer({ description: 'Minor units (cents, stotinki, grosze).' }),
    currency: Type.String({ description: 'ISO 4217 code: the program currency.' }),
  },
  { description: 'An amount of money in minor units.' },
);

export const Balance = Type.Object(
  {
    member_id: Uuid(),
    available: Type.Integer({ description: 'Spendable now. Below zero only when the program allows a negative balance.' }),
    pending: Type.Integer({ description: 'Earned but still in the pending period (not spendable yet).' }),
    held: Type.Integer({ description: 'Reserved by open checkout holds.' }),
    lifetime_earned: Type.Integer({ description: 'Every point ever earned (earnings and positive adjustments).' }),
    redeemed: Type.Integer({ description: 'Points spent on redemptions, net of cancelled ones.' }),
    expired: Type.Integer({ description: 'Points that expired.' }),
    debt: Type.Integer({ description: "Points clawed back (returns) that the balance could not cover, under the 'debt' policy; later earnings repay it first." }),
    last_activity_at: Nullable(Timestamp({ description: 'Last earning or redemption (the inactivity expiry policy counts from here).' })),
    currency_value: { ...Money, description: "What the available points are worth at the program's points_value rate (rounded down; 0 when negative)." },
  },
  {
    $id: 'Balance',
    description: "A member's points.",
    examples: [{
      member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', available: 1250, pending: 300, held: 0, lifetime_earned: 2100, redeemed: 850,
      expired: 0, debt: 0, last_activity_at: '2026-11-29T17:44:05.277Z', currency_value: { amount: 1250, currency: 'BGN' },
    }],
  },
);

export const LedgerEntry = Type.Object(
  {
    id: Uuid({ description: 'Time-ordered: the ledger is ordered by it.' }),
    member_id: Uuid(),
    type: StringEnum(ENTRY_TYPES, {
      description: 'earn, activate (pending points became spendable; 0 points, pending_points negative), redeem, redemption_cancel, expire, adjust (by an admin), claw_back (a return), reverse (a voided order), debt_repay.',
    }),
    points: Type.Integer({ description: 'Signed change of available + pending + held.' }),
    pending_points: Type.Integer({ description: 'Signed change of the pending part.' }),
    reason: Nullable(Type.String()),
    source_type: StringEnum(SOURCE_TYPES, { description: 'What caused the entry.' }),
    source_id: Nullable(Type.String({ description: 'The id of the source (a redemption, an order, a hold …).' })),
    transaction_id: Nullable(Uuid({ description: 'The order the points belong to, if any.' })),
    actor: Nullable(Type.String({ description: 'Who made it: the API key id (or `cli`) for adjustments and redemptions; null for the system.' })),
    details: Nullable(Type.Record(Type.String(), Type.Unknown())),
    occurred_at: Timestamp({ description: 'Business time (an order’s occurred_at).' }),
    created_at: Timestamp({ description: 'When Patron recorded it.' }),
  },
  { $id: 'LedgerEntry', description: 'One change to a member’s points. The ledger is append-only.' },
);

export const LedgerQuery = Type.Object({
  ...PageQuery,
  type: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), {
    maxItems: 20,
    description: `Only entries of these types: a comma-separated list (\`type=earn,redeem\`) or the parameter repeated. Types: ${ENTRY_TYPES.join(', ')}.`,
  })),
  from: Type.Optional(Timestamp({ description: 'Only entries recorded at or after this time.' })),
  to: Type.Optional(Timestamp({ description: 'Only entries recorded before this time.' })),
});

export const AdjustmentBody = Obj(
  {
    points: Type.Integer({
      minimum: -LIMITS.adjustmentPoints, maximum: LIMITS.adjustmentPoints,
      description: 'Signed, not 0: positive adds points (they count as earned), negative takes available points away (never more than the member has: 422 insufficient_points).',
    }),
    reason: Text(500, { description: 'Why (shown in the ledger and kept in the audit trail).' }),
    expires_at: Type.Optional(Timestamp({
      description: "Positive adjustments only: when these points expire (in the future). Default: the program's expiry policy, as for earned points.",
    })),
  },
  {
    description: 'A manual change to a member’s points by an admin.',
    examples: [{ points: 500, reason: 'Goodwill: late delivery of order 10023' }, { points: -200, reason: 'Duplicate bonus' }],
  },
);

export const AdjustmentResult = Type.Object(
  { entry: Type.Ref(LedgerEntry), balance: Type.Ref(Balance) },
  { description: 'The ledger entry written and the balance after it.' },
);

export const ExpiringQuery = Type.Object({
  days: Type.Integer({ minimum: 1, maximum: LIMITS.expiringDays, default: 30, description: 'Look this many days ahead (1-3650, default 30).' }),
});

export const Expiring = Type.Object(
  {
    member_id: Uuid(),
    until: Timestamp({ description: 'Now plus `days`.' }),
    points: Type.Integer({ description: 'Points that expire before `until` unless spent first.' }),
    lots: Type.Array(
      Type.Object({ lot_id: Uuid(), points: Type.Integer(), expires_at: Timestamp() }),
      { description: 'Soonest first. Points reserved by a checkout hold are not listed (they are spoken for).' },
    ),
  },
  { description: 'Points about to expire.', examples: [{ member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', until: '2026-12-29T17:44:05.277Z', points: 150, lots: [{ lot_id: '0193a5c2-8000-7cc1-9a2b-4b1f1a7e0c12', points: 150, expires_at: '2026-12-31T22:00:00.000Z' }] }] },
);
