/** HTTP schemas of redemptions and checkout holds. */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { Money, Text } from '../ledger/ledger.schema.js';

export const LIMITS = {
  points: 100_000_000,
  holdSeconds: { min: 60, max: 604_800 },
};

const f = {
  member_id: Uuid({ description: 'The member whose points are spent.' }),
  points: Type.Integer({ minimum: 1, maximum: LIMITS.points, description: `Points (1-${LIMITS.points.toLocaleString('en-US')}); at most the member's available points, else 422 insufficient_points.` }),
  reward_ref: Text(200, { description: 'What the points were spent on: a reward, voucher or catalogue item of the shop.' }),
  reason: Text(500, { description: 'Free text shown in the member’s ledger.' }),
  order_ref: Text(200, { description: "The shop's order the points pay for (part of)." }),
};

export const RedeemBody = Obj(
  {
    member_id: f.member_id,
    points: f.points,
    reward_ref: Type.Optional(f.reward_ref),
    reason: Type.Optional(f.reason),
    order_ref: Type.Optional(f.order_ref),
  },
  {
    description: 'Spend points now. A blocked or erased member cannot redeem (422).',
    examples: [{ member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', points: 500, reward_ref: 'free-coffee', order_ref: '10023' }],
  },
);

export const Redemption = Type.Object(
  {
    id: Uuid(),
    member_id: Uuid(),
    points: Type.Integer(),
    reward_ref: Nullable(Type.String()),
    reason: Nullable(Type.String()),
    order_ref: Nullable(Type.String()),
    value: { ...Money, description: "What the points were worth at the program's points_value rate when redeemed (rounded down)." },
    status: StringEnum(['completed', 'cancelled'] as const),
    entry_id: Uuid({ description: 'The `redeem` entry in the member’s ledger.' }),
    hold_id: Nullable(Uuid({ description: 'The checkout hold it captured, if any.' })),
    created_at: Timestamp(),
    cancelled_at: Nullable(Timestamp()),
  },
  {
    $id: 'Redemption',
    description: 'Points spent.',
    examples: [{
      id: '0193a5c3-1111-7cc1-9a2b-4b1f1a7e0c13', member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', points: 500, reward_ref: 'free-coffee', reason: null,
      order_ref: '10023', value: { amount: 500, currency: 'BGN' }, status: 'completed', entry_id: '0193a5c3-1111-7cc1-9a2b-4b1f1a7e0c14', hold_id: null,
      created_at: '2026-11-29T17:44:05.277Z', cancelled_at: null,
    }],
  },
);

export const CancelledRedemption = Type.Object(
  {
    ...Redemption.properties,
    restored_points: Type.Integer({ description: 'Points given back to the member: to the lots they were taken from.' }),
    expired_points: Type.Integer({ description: 'Points that went back to lots which had expired meanwhile, and so expired at once.' }),
  },
  { description: 'The cancelled redemption, with where its points went.' },
);

export const ListRedemptionsQuery = Type.Object({
  ...PageQuery,
  member_id: Type.Optional(Uuid({ description: "Only this member's redemptions." })),
});

export const HoldBody = Obj(
  {
    member_id: { ...f.member_id, description: 'The member whose points are reserved.' },
    points: f.points,
    order_ref: Type.Optional(f.order_ref),
    expires_in_seconds: Type.Optional(Type.Integer({
      minimum: LIMITS.holdSeconds.min, maximum: LIMITS.holdSeconds.max,
      description: "How long the points stay reserved (60-604800 seconds). Default: the program's hold_minutes.",
    })),
  },
  {
    description: 'Reserve points during a checkout: they cannot be spent elsewhere or expire meanwhile. Capture them when the order is paid, release them when it is abandoned; past its expiry a hold releases itself.',
    examples: [{ member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', points: 800, order_ref: '10024', expires_in_seconds: 900 }],
  },
);

export const Hold = Type.Object(
  {
    id: Uuid(),
    member_id: Uuid(),
    points: Type.Integer({ description: 'Points reserved.' }),
    order_ref: Nullable(Type.String()),
    status: StringEnum(['held', 'captured', 'released', 'expired'] as const),
    expires_at: Timestamp(),
    captured_points: Nullable(Type.Integer({ description: 'Captured: the points redeemed (the rest went back).' })),
    redemption_id: Nullable(Uuid({ description: 'Captured: the redemption made.' })),
    created_at: Timestamp(),
    closed_at: Nullable(Timestamp({ description: 'When it was captured, released or expired.' })),
  },
  { $id: 'Hold', description: 'Points reserved for a checkout.' },
);

export const CaptureBody = Obj(
  {
    points: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.points, description: 'Points to redeem, at most the points held (default: all); the rest goes back to the member.' })),
  },
  { description: 'The body is optional.', examples: [{ points: 600 }, {}] },
);

export const CaptureResult = Type.Object(
  { hold: Type.Ref(Hold), redemption: Type.Ref(Redemption) },
  { description: 'The captured hold and the redemption made from it.' },
);
