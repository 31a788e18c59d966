/** HTTP schemas of stamp cards: card types (admin), a member's cards, manual stamps and the stamp history. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { Text } from '../ledger/ledger.schema.js';
import { GiftResultSchema, GiftSchema } from '../rewards/rewards.gift.js';

export const LIMITS = {
  stampsNeeded: 1000,
  stampsEach: 100,
  manualStamps: 1000,
  skus: 500,
  categories: 100,
  amount: 1_000_000_000_000,
};

/** A text in the five member locales; `en` is required (the fallback for every member). */
export const LocalizedText = (maxLength: number, description: string) => Obj({
  en: Text(maxLength),
  bg: Type.Optional(Text(maxLength)),
  ru: Type.Optional(Text(maxLength)),
  ro: Type.Optional(Text(maxLength)),
  pl: Type.Optional(Text(maxLength)),
}, { description: `${description} In en (required), bg, ru, ro and pl.` });
export type LocalizedTextValue = { en: string; bg?: string; ru?: string; ro?: string; pl?: string };

const ID_PATTERN = '^[^\\s\\u0000-\\u001f](?:[^\\u0000-\\u001f]*[^\\s\\u0000-\\u001f])?$';
const Ref = (description: string) => Type.String({ minLength: 1, maxLength: 100, pattern: ID_PATTERN, 'x-message': 'must not contain control characters or start or end with white space', description });

const f = {
  name: LocalizedText(100, 'The card name shown to members.'),
  description: LocalizedText(500, 'What the card gives, shown to members.'),
  stamps_needed: Type.Integer({ minimum: 1, maximum: LIMITS.stampsNeeded, description: `Stamps that fill a card (1-${LIMITS.stampsNeeded}). A change applies to cards started afterwards.` }),
  stamp_on: StringEnum(['purchase', 'visit'] as const, {
    description: '`purchase` (default): a stamp per qualifying purchase (min_amount, skus, categories). `visit`: a stamp per visit, at most one a day in the tenant\'s time zone; a visit is a purchase of any kind or an action event named `visit` (POST /v1/events).',
  }),
  stamps_per: StringEnum(['purchase', 'unit'] as const, {
    description: 'Purchase cards: `purchase` (default) gives `stamps_each` stamps per qualifying purchase; `unit` gives `stamps_each` stamps per qualifying unit (quantity of the matching lines).',
  }),
  stamps_each: Type.Integer({ minimum: 1, maximum: LIMITS.stampsEach, description: 'Stamps per qualifying purchase, unit or visit (default 1).' }),
  min_amount: Type.Integer({ minimum: 1, maximum: LIMITS.amount, description: "Purchase cards: the order total (minor units of the program currency) a purchase must reach." }),
  skus: Type.Array(Ref('A product id.'), { minItems: 1, maxItems: LIMITS.skus, uniqueItems: true, description: 'Purchase cards: only lines of these products qualify.' }),
  categories: Type.Array(Ref('A product category.'), { minItems: 1, maxItems: LIMITS.categories, uniqueItems: true, description: 'Purchase cards: only lines of these categories qualify (with `skus` too: a line must match both).' }),
  reward: { ...GiftSchema, description: 'What a full card gives: points, a catalog reward (reward_id) and/or store credit.' },
  valid_from: Timestamp({ description: 'Stamps are given for orders and visits from this time (default: always).' }),
  valid_until: Timestamp({ description: 'Stamps are given for orders and visits before this time (default: no end).' }),
};

export const CreateStampCardTypeBody = Obj({
  name: f.name,
  description: Type.Optional(f.description),
  stamps_needed: f.stamps_needed,
  stamp_on: Type.Optional(f.stamp_on),
  stamps_per: Type.Optional(f.stamps_per),
  stamps_each: Type.Optional(f.stamps_each),
  min_amount: Type.Optional(f.min_amount),
  skus: Type.Optional(f.skus),
  categories: Type.Optional(f.categories),
  reward: f.reward,
  valid_from: Type.Optional(f.valid_from),
  valid_until: Type.Optional(f.valid_until),
}, {
  description: 'A kind of stamp card. Several may run at once; each purchase or visit stamps every card type it qualifies for.',
  examples: [{ name: { en: 'Bakery card', bg: 'Карта на пекарната' }, stamps_needed: 10, min_amount: 300, categories: ['bakery'], reward: { points: 500 } }],
});
export type CreateStampCardTypeInput = Static<typeof CreateStampCardTypeBody>;

export const UpdateStampCardTypeBody = Obj({
  name: Type.Optional(f.name),
  description: Type.Optional(Nullable(f.description)),
  stamps_needed: Type.Optional(f.stamps_needed),
  stamps_per: Type.Optional(f.stamps_per),
  stamps_each: Type.Optional(f.stamps_each),
  min_amount: Type.Optional(Nullable(f.min_amount)),
  skus: Type.Optional(Nullable(f.skus)),
  categories: Type.Optional(Nullable(f.categories)),
  reward: Type.Optional(f.reward),
  valid_from: Type.Optional(Nullable(f.valid_from)),
  valid_until: Type.Optional(Nullable(f.valid_until)),
}, {
  description: 'Only the fields sent change (null clears an optional one); `stamp_on` cannot change. Open cards keep the stamps_needed they started with.',
  examples: [{ reward: { points: 800 }, valid_until: '2027-12-31T22:00:00Z' }],
});
export type UpdateStampCardTypeInput = Static<typeof UpdateStampCardTypeBody>;

export const StampCardType = Type.Object({
  id: Uuid(),
  name: Type.Record(Type.String(), Type.String()),
  description: Nullable(Type.Record(Type.String(), Type.String())),
  stamps_needed: Type.Integer(),
  stamp_on: StringEnum(['purchase', 'visit'] as const),
  stamps_per: StringEnum(['purchase', 'unit'] as const),
  stamps_each: Type.Integer(),
  min_amount: Nullable(Type.Integer()),
  skus: Nullable(Type.Array(Type.String())),
  categories: Nullable(Type.Array(Type.String())),
  reward: Type.Object({ points: Type.Optional(Type.Integer()), reward_id: Type.Optional(Type.String()), credit: Type.Optional(Type.Integer()) }),
  valid_from: Nullable(Timestamp()),
  valid_until: Nullable(Timestamp()),
  status: StringEnum(['active', 'archived'] as const),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  archived_at: Nullable(Timestamp()),
}, { $id: 'StampCardType', description: 'A kind of stamp card.' });

export const ListTypesQuery = Obj({
  ...PageQuery,
  include_archived: Type.Optional(Type.Boolean({ default: false, description: 'Also archived types.' })),
});

export const MemberStampCard = Type.Object({
  type_id: Uuid(),
  name: Type.Record(Type.String(), Type.String()),
  type_status: StringEnum(['active', 'archived'] as const),
  stamp_on: StringEnum(['purchase', 'visit'] as const),
  card_id: Nullable(Uuid({ description: 'The current card; null until the member gets a first stamp of this type.' })),
  number: Type.Integer({ description: 'Which card of this type the current one is (1 = the first).' }),
  stamps: Type.Integer({ description: 'Stamps on the current card; negative when a return took back stamps of a card already rewarded (the next stamps fill that first).' }),
  stamps_needed: Type.Integer(),
  stamps_left: Type.Integer({ description: 'Stamps still needed to fill the current card.' }),
  completed_count: Type.Integer({ description: 'Cards of this type the member has filled (and was rewarded for).' }),
  last_completed_at: Nullable(Timestamp()),
  reward: Type.Object({ points: Type.Optional(Type.Integer()), reward_id: Type.Optional(Type.String()), credit: Type.Optional(Type.Integer()) }),
}, { $id: 'MemberStampCard', description: "A member's progress on one card type." });

export const MemberCardsQuery = Obj({
  ...PageQuery,
  include_archived: Type.Optional(Type.Boolean({ default: false, description: 'Also archived card types on which the member has cards.' })),
});

export const ManualStampBody = Obj({
  member_id: Uuid({ description: 'The member.' }),
  stamps: Type.Integer({ minimum: -LIMITS.manualStamps, maximum: LIMITS.manualStamps, description: `Stamps to add (positive) or take away (negative), ${-LIMITS.manualStamps}..${LIMITS.manualStamps}, not 0. Stamps added may fill cards (rewarded at once).` }),
  reason: Text(500, { description: 'Why (kept in the stamp history with the API key that did it).' }),
}, {
  description: 'A stamp given or taken by hand (a forgotten stamp at the till, a correction). Send an Idempotency-Key: a retry never stamps twice.',
  examples: [{ member_id: '0193a5c2-7d7e-7cc1-9a2b-4b1f1a7e0c11', stamps: 1, reason: 'stamp forgotten at the till on 3 March' }],
});
export type ManualStampInput = Static<typeof ManualStampBody>;

export const CompletedCard = Type.Object({
  card_id: Uuid(),
  number: Type.Integer(),
  reward: GiftResultSchema,
});

export const StampResult = Type.Object({
  type_id: Uuid(),
  member_id: Uuid(),
  stamps: Type.Integer({ description: 'Stamps added (positive) or taken (negative).' }),
  completed: Type.Array(CompletedCard, { description: 'Cards this filled, with what each gave.' }),
  card: Type.Ref(MemberStampCard),
}, { description: 'What a manual stamp did.' });

export const StampEvent = Type.Object({
  id: Uuid(),
  type_id: Uuid(),
  card_id: Uuid(),
  card_number: Type.Integer(),
  stamps: Type.Integer(),
  kind: StringEnum(['purchase', 'visit', 'return', 'void', 'manual', 'campaign'] as const, { description: 'campaign: extra stamps of an extra_stamp campaign (docs/program/campaigns.md), given with the order and taken back with its return or void.' }),
  transaction_id: Nullable(Uuid()),
  event_id: Nullable(Uuid()),
  visit_day: Nullable(Type.String({ format: 'date' })),
  reason: Nullable(Type.String()),
  actor: Nullable(Type.String()),
  occurred_at: Timestamp(),
  created_at: Timestamp(),
}, { $id: 'StampEvent', description: 'A stamp given (+) or taken (-).' });

export const StampEventsQuery = Obj({
  ...PageQuery,
  type_id: Type.Optional(Uuid({ description: 'Only stamps of this card type.' })),
});
