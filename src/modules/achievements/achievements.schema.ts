/** HTTP schemas of achievements: badge definitions (admin), a member's badges and progress, leaderboard opt-in and standings. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { EventName } from '../events/events.schema.js';
import { GiftResultSchema, GiftSchema } from '../rewards/rewards.gift.js';
import { LocalizedText } from '../stamp-cards/stamp-cards.schema.js';

export const CRITERION_KINDS = ['first_purchase', 'nth_purchase', 'purchase_streak_weeks', 'all_categories', 'event_count'] as const;
export type CriterionKind = (typeof CRITERION_KINDS)[number];

export const LIMITS = { n: 100_000, streakWeeks: 520, categories: 50 };

const Criterion = Obj({
  kind: StringEnum(CRITERION_KINDS, {
    description: 'first_purchase; nth_purchase {n}; purchase_streak_weeks {n}: a purchase in each of n consecutive ISO weeks (tenant time zone); all_categories {categories}: bought in every listed category; event_count {name, n}: n action events of that name.',
  }),
  n: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.n, description: 'nth_purchase, purchase_streak_weeks (at most 520), event_count: how many.' })),
  categories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: LIMITS.categories, uniqueItems: true, description: 'all_categories: the categories to buy in.' })),
  name: Type.Optional(EventName('event_count: the action event name (as sent to POST /v1/events).')),
}, { description: 'What earns the badge.' });
export type CriterionInput = Static<typeof Criterion>;

const CODE = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9][a-z0-9_-]*$', 'x-message': 'must be lowercase letters, digits, _ and - (starting with a letter or digit)', description: 'Unique per tenant: how the shop refers to the badge.' });
const ICON = Type.String({ minLength: 1, maxLength: 2000, format: 'uri', pattern: '^https?://', 'x-message': 'must be an http(s) URL', description: 'Image of the badge.' });
const Bonus = { ...GiftSchema, description: 'Given once when the badge is earned: points, a catalog reward and/or store credit.' };

export const CreateBadgeBody = Obj({
  code: CODE,
  name: LocalizedText(100, 'The badge name shown to members.'),
  description: Type.Optional(LocalizedText(500, 'What the badge is for.')),
  icon_url: Type.Optional(ICON),
  criterion: Criterion,
  bonus: Type.Optional(Bonus),
}, {
  description: 'A badge. Members earn it once, when an order or event meets its criterion; returns never take it back.',
  examples: [{ code: 'regular', name: { en: 'Regular', bg: 'Редовен клиент' }, icon_url: 'https://cdn.example.com/badges/regular.png', criterion: { kind: 'nth_purchase', n: 5 }, bonus: { points: 200 } }],
});
export type CreateBadgeInput = Static<typeof CreateBadgeBody>;

export const UpdateBadgeBody = Obj({
  name: Type.Optional(LocalizedText(100, 'The badge name shown to members.')),
  description: Type.Optional(Nullable(LocalizedText(500, 'What the badge is for.'))),
  icon_url: Type.Optional(Nullable(ICON)),
  criterion: Type.Optional(Criterion),
  bonus: Type.Optional(Nullable(Bonus)),
}, { description: 'Only the fields sent change (null clears). A new criterion or bonus applies to members who have not earned the badge yet.', examples: [{ bonus: { points: 300 } }] });
export type UpdateBadgeInput = Static<typeof UpdateBadgeBody>;

const GiftOut = Type.Object({ points: Type.Optional(Type.Integer()), reward_id: Type.Optional(Type.String()), credit: Type.Optional(Type.Integer()) });
const CriterionOut = Type.Object({ kind: Type.String(), n: Type.Optional(Type.Integer()), categories: Type.Optional(Type.Array(Type.String())), name: Type.Optional(Type.String()) });

export const Badge = Type.Object({
  id: Uuid(),
  code: Type.String(),
  name: Type.Record(Type.String(), Type.String()),
  description: Nullable(Type.Record(Type.String(), Type.String())),
  icon_url: Nullable(Type.String()),
  criterion: CriterionOut,
  bonus: Nullable(GiftOut),
  status: StringEnum(['active', 'archived'] as const),
  created_at: Timestamp(),
  updated_at: Timestamp(),
  archived_at: Nullable(Timestamp()),
}, { $id: 'Badge', description: 'A badge definition.' });

export const ListBadgesQuery = Obj({
  ...PageQuery,
  include_archived: Type.Optional(Type.Boolean({ default: false })),
});

export const MemberBadge = Type.Object({
  badge_id: Uuid(),
  code: Type.String(),
  name: Type.Record(Type.String(), Type.String()),
  icon_url: Nullable(Type.String()),
  criterion: CriterionOut,
  earned: Type.Boolean(),
  earned_at: Nullable(Timestamp()),
  progress: Type.Object({
    current: Type.Integer({ description: 'Purchases, weeks in the current streak, categories bought or events so far (at most target).' }),
    target: Type.Integer(),
  }),
  bonus: Nullable(GiftResultSchema),
}, { $id: 'MemberBadge', description: 'A badge as one member sees it: earned, or how far along.' });

export const MemberBadgesQuery = Obj({
  ...PageQuery,
  earned: Type.Optional(Type.Boolean({ description: 'Only earned (true) or not-yet-earned (false) badges.' })),
});

export const OptInBody = Obj({
  opted_in: Type.Boolean({ description: 'true: the member appears on leaderboards (first name and initial); false: never.' }),
}, { examples: [{ opted_in: true }] });

export const OptIn = Type.Object({
  member_id: Uuid(),
  opted_in: Type.Boolean(),
  opted_in_at: Nullable(Timestamp()),
}, { description: "The member's leaderboard choice." });

export const LEADERBOARD_PERIODS = ['week', 'month', 'year'] as const;
export type LeaderboardPeriod = (typeof LEADERBOARD_PERIODS)[number];

export const LeaderboardQuery = Obj({
  ...PageQuery,
  period: Type.Optional(StringEnum(LEADERBOARD_PERIODS, { default: 'month', description: 'The ISO week, calendar month or year (tenant time zone) containing `at` (default month).' })),
  by: Type.Optional(StringEnum(['points', 'badges'] as const, { default: 'points', description: 'points: points earned in the period (net of what returns took back); badges: badges earned in it.' })),
  at: Type.Optional(Timestamp({ description: 'A moment in the period (default now).' })),
});

export const Leaderboard = Type.Object({
  period: StringEnum(LEADERBOARD_PERIODS),
  by: StringEnum(['points', 'badges'] as const),
  from: Timestamp({ description: 'Start of the period (inclusive).' }),
  to: Timestamp({ description: 'End of the period (exclusive).' }),
  data: Type.Array(Type.Object({
    rank: Type.Integer({ description: 'Equal scores share a rank (1, 1, 3).' }),
    member_id: Uuid(),
    display_name: Type.String({ description: 'First name and the initial of the last name; never an email or phone.' }),
    score: Type.Integer(),
  })),
  next_cursor: Nullable(Type.String()),
}, { description: 'Opted-in, active members with a positive score in the period, best first.' });
