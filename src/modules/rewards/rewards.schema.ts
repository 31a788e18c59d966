/** HTTP schemas of the rewards catalog: rewards, the catalog as a member sees it, reward redemptions and draws. */
import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { LOCALES, Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { TEXT_MESSAGE, TEXT_PATTERN } from '../ledger/ledger.schema.js';
import { RULE_LIMITS } from '../rules/rules.validation.js';

export const REWARD_KINDS = [
  'fixed_amount', 'percentage', 'free_product', 'cashback', 'gift_card',
  'early_access', 'event_invitation', 'physical_gift', 'sweepstakes', 'donation',
] as const;
export type RewardKind = (typeof REWARD_KINDS)[number];
export const VOUCHER_KINDS = ['fixed_amount', 'percentage', 'free_product', 'gift_card'] as const satisfies readonly RewardKind[];
export type VoucherKind = (typeof VOUCHER_KINDS)[number];
export const PERIODS = ['day', 'week', 'month', 'year'] as const;
export type Period = (typeof PERIODS)[number];
export const FULFILMENT_STATUSES = ['pending', 'shipped', 'delivered', 'cancelled'] as const;
export const RSVP_STATUSES = ['accepted', 'waitlisted', 'declined'] as const;

/** The object of the request that configures each kind (exactly one, the kind's own). */
export const KIND_SETTINGS: Record<RewardKind, 'voucher' | 'cashback' | 'early_access' | 'event' | 'physical_gift' | 'sweepstakes' | 'donation'> = {
  fixed_amount: 'voucher', percentage: 'voucher', free_product: 'voucher', gift_card: 'voucher',
  cashback: 'cashback', early_access: 'early_access', event_invitation: 'event', physical_gift: 'physical_gift',
  sweepstakes: 'sweepstakes', donation: 'donation',
};
export const SETTINGS_FIELDS = ['voucher', 'cashback', 'early_access', 'event', 'physical_gift', 'sweepstakes', 'donation'] as const;

export const LIMITS = {
  name: 200,
  description: 2000,
  url: 2000,
  /** RedemptionsService spends at most this many points at once. */
  points: 100_000_000,
  stock: 1_000_000_000,
  count: 1_000_000,
  money: 1_000_000_000_000,
  quantity: 1000,
  tierCodes: 50,
  winners: 10_000,
  validDays: 3650,
};

const text = (maxLength: number, opts: Record<string, unknown> = {}) =>
  Type.String({ minLength: 1, maxLength, pattern: TEXT_PATTERN, 'x-message': TEXT_MESSAGE, ...opts });
const money = (description: string) => Type.Integer({ minimum: 1, maximum: LIMITS.money, description: `${description} Minor units.` });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', 'x-message': 'must be an ISO 4217 code such as EUR', description: 'ISO 4217 code; default: the program currency.' });
export const TierCode = text(64, { description: 'A tier code, e.g. gold.' });

const localized = (maxLength: number, description: string, enRequired: boolean) => Obj(
  Object.fromEntries(LOCALES.map((l) => [l, l === 'en' && enRequired ? text(maxLength) : Type.Optional(text(maxLength))])) as Record<string, TSchema>,
  { description: `${description} By locale (${LOCALES.join(', ')})${enRequired ? '; en is required and is shown where a locale has none' : '; en is shown where a locale has none'}.` },
);

export const VoucherSettings = Obj({
  amount: Type.Optional(money('fixed_amount and gift_card: the value.')),
  currency: Type.Optional(Currency),
  percent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'percentage: the discount (1-100).' })),
  max_discount: Type.Optional(money('percentage: the largest discount.')),
  sku: Type.Optional(text(200, { description: 'free_product: the product given.' })),
  min_basket: Type.Optional(money('The smallest basket the voucher applies to.')),
  valid_days: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.validDays, description: 'The voucher expires this many days after it is issued (default: never).' })),
  code_pattern: Type.Optional(text(100, { description: 'The pattern of the voucher code (the vouchers module\'s syntax).' })),
  pool_id: Type.Optional(Uuid({ description: 'Take codes from this imported pool.' })),
}, { description: 'fixed_amount, percentage, free_product, gift_card: the voucher issued (VouchersService).' });

export const CashbackSettings = Obj({
  amount: money('Store credit put into the member\'s wallet.'),
  currency: Type.Optional(Currency),
}, { description: 'cashback: store credit into the member\'s wallet.' });

export const EarlyAccessSettings = Obj({
  target: StringEnum(['product', 'sale'] as const, { description: 'What the access is to.' }),
  ref: text(200, { description: 'The product sku or the sale id in the shop.' }),
  starts_at: Timestamp({ description: 'When the early access opens.' }),
  ends_at: Timestamp({ description: 'When it closes.' }),
  unlocks: text(500, { description: 'What it unlocks, for the shop and the member (e.g. "48h early access to the winter sale").' }),
}, { description: 'early_access: access to a product or a sale before everyone else.' });

export const EventSettings = Obj({
  starts_at: Timestamp({ description: 'When the event starts.' }),
  ends_at: Type.Optional(Timestamp()),
  location: Type.Optional(text(500)),
  capacity: Type.Integer({ minimum: 1, maximum: LIMITS.count, description: 'Seats: accepted invitations never exceed it.' }),
  waitlist: Type.Optional(Type.Boolean({ description: 'When full, new redemptions are waitlisted (points spent, no seat) and take the seat of the first to decline; false (default): full is a 422.' })),
}, { description: 'event_invitation: a seat at an event, with RSVP.' });

export const PhysicalGiftSettings = Obj({
  sku: Type.Optional(text(200, { description: 'The item, for the warehouse.' })),
  requires_address: Type.Optional(Type.Boolean({ description: 'A redemption must give shipping_address (default true); false: picked up in store.' })),
}, { description: 'physical_gift: an item shipped or handed over; stock and fulfilment status.' });

export const SweepstakesSettings = Obj({
  prize: text(500, { description: 'What the winners get.' }),
  draw_at: Type.Optional(Timestamp({ description: 'When the draw is planned (shown to members; the draw itself is POST /v1/rewards/{id}/draws).' })),
}, { description: 'sweepstakes: entries bought with points; a draw with an auditable seed picks the winners.' });

export const DonationSettings = Obj({
  cause: text(200, { description: 'The named cause.' }),
  amount: Type.Optional(money('Donated per redemption; default: what the points are worth at the program\'s points_value rate.')),
  currency: Type.Optional(Currency),
}, { description: 'donation: points converted to a donation to a named cause.' });

const LimitPerPeriod = Obj({
  count: Type.Integer({ minimum: 1, maximum: LIMITS.count }),
  period: StringEnum(PERIODS, { description: 'Calendar day, ISO week, month or year in the tenant time zone.' }),
}, { description: 'How many a member may redeem per period.' });

const audience = Type.Unsafe<Record<string, unknown> | null>({
  type: ['object', 'null'],
  description: `Who may redeem it: JSON Logic over {tier, attributes} of the member (e.g. {"==": [{"var": "attributes.city"}, "Sofia"]}); at most ${RULE_LIMITS.conditionBytes} bytes. null = everyone.`,
});

const fields = {
  kind: StringEnum(REWARD_KINDS, { description: 'Monetary: fixed_amount, percentage, free_product, gift_card (a voucher), cashback (store credit). Non-monetary: early_access, event_invitation, physical_gift, sweepstakes, donation. Cannot be changed.' }),
  name: localized(LIMITS.name, 'The name.', true),
  description: localized(LIMITS.description, 'The description.', false),
  image_url: Nullable(Type.String({ format: 'uri', maxLength: LIMITS.url, pattern: '^https?://', 'x-message': 'must be an http(s) URL', description: 'An http(s) URL of the image.' })),
  points: Type.Integer({ minimum: 0, maximum: LIMITS.points, description: 'The price in points (0 = free).' }),
  tier_prices: Type.Record(Type.String({ minLength: 1, maxLength: 64 }), Type.Integer({ minimum: 0, maximum: LIMITS.points }), {
    description: 'A price per tier code ({"gold": 80}); members of other tiers pay `points`.',
  }),
  tiers: Nullable(Type.Array(TierCode, { minItems: 1, maxItems: LIMITS.tierCodes, uniqueItems: true, description: 'Reserved for members of these tiers; null = every member.' })),
  audience,
  available_from: Nullable(Timestamp({ description: 'Redeemable from (null = no start).' })),
  available_until: Nullable(Timestamp({ description: 'Redeemable until, exclusive (null = no end).' })),
  stock: Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.stock, description: 'Units left (null = unlimited). Never oversold.' })),
  limit_per_member: Nullable(Type.Integer({ minimum: 1, maximum: LIMITS.count, description: 'Most redemptions per member, ever (null = no limit).' })),
  limit_per_period: Nullable(LimitPerPeriod),
  status: StringEnum(['active', 'archived'] as const, { description: 'Archived rewards are not in the catalog and cannot be redeemed.' }),
  voucher: VoucherSettings,
  cashback: CashbackSettings,
  early_access: EarlyAccessSettings,
  event: EventSettings,
  physical_gift: PhysicalGiftSettings,
  sweepstakes: SweepstakesSettings,
  donation: DonationSettings,
};

const { kind: _k, name: _n, points: _p, ...optionalFields } = fields;
const opt = <T extends Record<string, TSchema>>(props: T) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

export const CreateRewardBody = Obj({ kind: fields.kind, name: fields.name, points: fields.points, ...opt(optionalFields) }, {
  description: 'A reward. Its kind\'s own settings object is required (voucher for the voucher kinds, cashback, early_access, event, physical_gift, sweepstakes, donation) and the others are refused.',
  examples: [
    { kind: 'free_product', name: { en: 'Brewed coffee', bg: 'Шварц кафе' }, points: 100, voucher: { sku: 'COFFEE-BREWED', valid_days: 30 } },
    { kind: 'percentage', name: { en: '15% off, up to 10 EUR' }, points: 300, tier_prices: { gold: 250 }, voucher: { percent: 15, max_discount: 1000, min_basket: 2000 } },
    { kind: 'physical_gift', name: { en: 'Tumbler' }, points: 400, stock: 50, limit_per_member: 1, physical_gift: { sku: 'TUMBLER-1' } },
    { kind: 'event_invitation', name: { en: 'Coffee tasting' }, points: 150, tiers: ['gold'], event: { starts_at: '2026-12-12T17:00:00Z', capacity: 20, waitlist: true, location: 'Vitosha 1, Sofia' } },
  ],
});
export type CreateRewardInput = Static<typeof CreateRewardBody>;

export const UpdateRewardBody = Obj({ name: Type.Optional(fields.name), points: Type.Optional(fields.points), ...opt(optionalFields) }, {
  minProperties: 1,
  description: 'The fields sent replace the current ones (null clears an optional one). `kind` cannot be changed; `stock` sets the units left.',
  examples: [{ stock: 120 }, { points: 90, limit_per_period: { count: 1, period: 'day' } }],
});
export type UpdateRewardInput = Static<typeof UpdateRewardBody>;

const localizedOut = Type.Record(Type.String(), Type.String());

export const Reward = Type.Object({
  id: Uuid(),
  kind: Type.String(),
  status: Type.String(),
  name: localizedOut,
  description: localizedOut,
  image_url: Nullable(Type.String()),
  points: Type.Integer(),
  tier_prices: Type.Record(Type.String(), Type.Integer()),
  tiers: Nullable(Type.Array(Type.String())),
  audience: Nullable(Type.Record(Type.String(), Type.Unknown())),
  available_from: Nullable(Timestamp()),
  available_until: Nullable(Timestamp()),
  stock: Nullable(Type.Integer()),
  redeemed_count: Type.Integer({ description: 'Units redeemed and not cancelled.' }),
  limit_per_member: Nullable(Type.Integer()),
  limit_per_period: Nullable(Type.Object({ count: Type.Integer(), period: Type.String() })),
  voucher: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  cashback: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  early_access: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  event: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'With seats_taken.' })),
  physical_gift: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  sweepstakes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'With seed_sha256 (the commitment to the draw\'s seed, published before the draw) and drawn_at.' })),
  donation: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  archived_at: Nullable(Timestamp()),
}, { $id: 'Reward', description: 'A reward of the catalog.' });

export const ListRewardsQuery = Obj({
  ...PageQuery,
  kind: Type.Optional(StringEnum(REWARD_KINDS)),
  include_archived: Type.Optional(Type.Boolean({ default: false })),
});

export const UNAVAILABLE_REASONS = ['archived', 'not_started', 'ended', 'tier', 'audience', 'out_of_stock', 'full', 'drawn', 'limit_reached', 'insufficient_points', 'member_not_active'] as const;
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[number];

export const MemberReward = Type.Object({
  id: Uuid(),
  kind: Type.String(),
  locale: Type.String({ description: 'The locale of name and description: the member\'s, or en when the reward has no text in it.' }),
  name: Type.String(),
  description: Nullable(Type.String()),
  image_url: Nullable(Type.String()),
  price: Type.Integer({ description: 'What this member pays (their tier\'s price, else points).' }),
  regular_price: Type.Integer(),
  available: Type.Boolean(),
  reasons: Type.Array(Type.Object({ code: StringEnum(UNAVAILABLE_REASONS), detail: Type.String() }), { description: 'Why the member cannot redeem it now (empty when available).' }),
  stock: Nullable(Type.Integer()),
  available_from: Nullable(Timestamp()),
  available_until: Nullable(Timestamp()),
  redeemed_by_member: Type.Integer({ description: 'Units this member redeemed (not cancelled).' }),
  voucher: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  cashback: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  early_access: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  event: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  physical_gift: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  sweepstakes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  donation: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
}, { $id: 'MemberReward', description: 'A reward as one member sees it: in their language, at their price, and whether they can redeem it now (or why not).' });

export const MemberRewardsQuery = Obj({
  ...PageQuery,
  available_only: Type.Optional(Type.Boolean({ default: false, description: 'Only what the member can redeem now.' })),
  locale: Type.Optional(StringEnum(LOCALES, { description: 'Override the member\'s locale.' })),
});

export const ShippingAddress = Obj({
  name: text(200),
  line1: text(200),
  line2: Type.Optional(text(200)),
  city: text(100),
  postal_code: Type.Optional(text(20)),
  region: Type.Optional(text(100)),
  country: Type.String({ pattern: '^[A-Z]{2}$', 'x-message': 'must be an ISO 3166-1 alpha-2 code such as BG', description: 'ISO 3166-1 alpha-2.' }),
  phone: Type.Optional(text(40)),
}, { description: 'Where a physical gift goes (kept as given: a snapshot).' });

export const RedeemRewardBody = Obj({
  member_id: Uuid({ description: 'The member who redeems.' }),
  reward_id: Uuid({ description: 'The reward.' }),
  quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.quantity, description: `sweepstakes: entries bought (1-${LIMITS.quantity}, default 1); other kinds take 1.` })),
  shipping_address: Type.Optional(ShippingAddress),
  note: Type.Optional(text(1000, { description: 'physical_gift: a note for the fulfilment (e.g. "pick up in the Vitosha store").' })),
}, {
  description: 'Redeem a reward: the points are spent and the reward fulfilled in one transaction.',
  examples: [
    { member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', reward_id: '0193a5c2-9999-7cc1-9a2b-4b1f1a7e0c11' },
    { member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', reward_id: '0193a5c2-9999-7cc1-9a2b-4b1f1a7e0c12', shipping_address: { name: 'Ana Petrova', line1: 'Vitosha 1', city: 'Sofia', postal_code: '1000', country: 'BG' } },
  ],
});
export type RedeemRewardInput = Static<typeof RedeemRewardBody>;

export const UpdateRewardRedemptionBody = Obj({
  fulfilment_status: Type.Optional(StringEnum(['shipped', 'delivered', 'cancelled'] as const, { description: 'physical_gift: pending -> shipped -> delivered; cancelled (before delivery) refunds the points and returns the stock.' })),
  tracking_ref: Type.Optional(Nullable(text(200))),
  note: Type.Optional(Nullable(text(1000))),
  shipping_address: Type.Optional(ShippingAddress),
  rsvp: Type.Optional(StringEnum(['accepted', 'declined'] as const, { description: 'event_invitation: declined frees the seat (the first waitlisted member takes it) and refunds the points; accepted takes a seat for a waitlisted invitation (422 when full).' })),
}, { minProperties: 1, examples: [{ fulfilment_status: 'shipped', tracking_ref: 'BG123456789' }, { rsvp: 'declined' }] });
export type UpdateRewardRedemptionInput = Static<typeof UpdateRewardRedemptionBody>;

export const RewardRedemption = Type.Object({
  id: Uuid(),
  reward_id: Uuid(),
  member_id: Uuid(),
  kind: Type.String(),
  quantity: Type.Integer(),
  points: Type.Integer({ description: 'Points spent (0 for a gift).' }),
  redemption_id: Nullable(Uuid({ description: 'The points redemption (GET /v1/redemptions/{id}); null for a gift or a free reward.' })),
  status: StringEnum(['completed', 'cancelled'] as const),
  origin: StringEnum(['redemption', 'gift'] as const),
  source: Nullable(Type.Object({ type: Type.String(), id: Nullable(Type.String()), reason: Nullable(Type.String()) }, { description: 'Who gave a gift.' })),
  details: Type.Record(Type.String(), Type.Unknown(), { description: 'The reward\'s settings when it was redeemed.' }),
  voucher: Nullable(Type.Object({ id: Uuid(), code: Type.String() })),
  amount: Nullable(Type.Object({ amount: Type.Integer(), currency: Type.String() }, { description: 'cashback: the credit; donation: the amount donated.' })),
  fulfilment: Nullable(Type.Object({
    status: StringEnum(FULFILMENT_STATUSES), shipping_address: Nullable(Type.Record(Type.String(), Type.String())),
    note: Nullable(Type.String()), tracking_ref: Nullable(Type.String()),
  })),
  rsvp: Nullable(StringEnum(RSVP_STATUSES)),
  won: Nullable(Type.Boolean({ description: 'sweepstakes: set by the draw.' })),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  cancelled_at: Nullable(Timestamp()),
}, { $id: 'RewardRedemption', description: 'A reward a member redeemed (or was given).' });

export const ListRewardRedemptionsQuery = Obj({
  ...PageQuery,
  member_id: Type.Optional(Uuid()),
  reward_id: Type.Optional(Uuid()),
});

export const DrawBody = Obj({
  winners: Type.Integer({ minimum: 1, maximum: LIMITS.winners, description: 'How many winners (distinct members).' }),
}, { examples: [{ winners: 3 }] });

export const Draw = Type.Object({
  id: Uuid(),
  reward_id: Uuid(),
  algorithm: Type.String({ description: 'How the winners were picked (docs/program/rewards.md), so anyone can re-run it.' }),
  seed: Type.String({ description: 'The seed, revealed: its SHA-256 is the seed_sha256 published with the reward before the draw.' }),
  seed_sha256: Type.String(),
  winners_count: Type.Integer(),
  entrants_count: Type.Integer(),
  entrants_sha256: Type.String({ description: 'SHA-256 of the entrant list, one "<reward_redemption_id> <member_id>\\n" line per entry, in draw order.' }),
  entrants: Type.Array(Type.Array(Type.String(), { minItems: 2, maxItems: 2 }), { description: '[reward_redemption_id, member_id] per entry, in draw order.' }),
  winners: Type.Array(Type.Object({ position: Type.Integer(), entry: Type.Integer(), reward_redemption_id: Uuid(), member_id: Uuid() })),
  drawn_at: Timestamp(),
}, { $id: 'RewardDraw', description: 'A sweepstakes draw, with everything needed to re-run it.' });
