/** HTTP schemas of campaigns (/v1/campaigns). The service checks what JSON Schema cannot (campaigns.service.ts). */
import { Type, type Static, type TOptional, type TSchema } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { RFM_SEGMENTS, type RfmSegment } from '../analytics/analytics.types.js';

/** The kinds of campaign. extra_stamp gives stamps on a stamp card; the others give points. */
export const CAMPAIGN_KINDS = ['points_multiplier', 'category_bonus', 'action_bonus', 'extra_stamp'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'budget_exhausted', 'ended', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];
export const AWARD_OUTCOMES = ['granted', 'held_out', 'member_limit', 'budget_exhausted'] as const;

/** The RFM segments a campaign may target (domain.md §2; analytics → RFM). */
export const RFM_SEGMENT_KEYS = Object.keys(RFM_SEGMENTS) as RfmSegment[];

export const LIMITS = {
  name: 200,
  description: 2000,
  multiplierMax: 10,
  /** Extra stamps an extra_stamp campaign gives per qualifying order. */
  stampsMax: 10,
  points: 1_000_000,
  rateUnits: 1_000_000,
  budgetPoints: 1_000_000_000_000,
  budgetMoney: 1_000_000_000_000,
  listItems: 100,
  listItemLength: 100,
  maxControlShare: 0.5,
  baselineDays: 730,
  /** Longest campaign. */
  maxDays: 366,
};

const text = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$', 'x-message': 'must contain a visible character and no control characters', description });
const list = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.listItemLength }), { minItems: 1, maxItems: LIMITS.listItems, description });

const Config = Type.Record(Type.String(), Type.Unknown(), {
  description: 'What the kind gives. points_multiplier: `{"multiplier": 2}` (the order earns its points × multiplier: extra = the points its earn rules gave × (multiplier − 1), floor; 1.01–10, 2 decimals). '
    + 'category_bonus: `{"categories": [...], "skus": [...], "rate": {"points": 5, "per_units": 1}}` (points per major currency unit of the qualifying lines\' net amount, floor) or `{"categories": [...], "points": 100}` (fixed, once per order with a qualifying line). '
    + 'action_bonus: `{"event": "review_written", "points": 50}` (POST /v1/events of that name). '
    + 'extra_stamp: `{"stamp_card_type_id": "…", "stamps": 1}` (an active stamp card type; 1–10 extra stamps on it per order that earned at least one stamp on that card; no budget, no max_points_per_member).',
});

const Conditions = Obj({
  min_basket: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.budgetMoney, description: 'Orders only: the order total must be at least this (minor units of the program currency).' })),
  channels: Type.Optional(list('Orders only: the order\'s channel must be one of these.')),
  days_of_week: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 7 }), { minItems: 1, maxItems: 7, uniqueItems: true, description: '1 = Monday … 7 = Sunday, in the tenant\'s time zone, of the order or event\'s occurred_at.' })),
  audience: Type.Optional(Nullable(Type.Unsafe<Record<string, unknown>>({ type: 'object', description: 'JSON Logic over the member: `{"var": "tier"}` and `{"var": "attributes.<name>"}`. null = everyone.' }))),
  tier_codes: Type.Optional(list('The member\'s tier code must be one of these.')),
  rfm_segments: Type.Optional(Type.Array(StringEnum(RFM_SEGMENT_KEYS), {
    minItems: 1, maxItems: RFM_SEGMENT_KEYS.length, uniqueItems: true,
    description: `The member's RFM segment must be one of these (${RFM_SEGMENT_KEYS.join(', ')}), as of the newest published analytics run; a member no run has scored is in none.`,
  })),
  at_risk: Type.Optional(Type.Boolean({ description: 'true: only members on the at-risk list of the newest published analytics run (a win-back); false: only members not on it.' })),
}, { description: 'All must hold for an order or event to earn the campaign (absent = no condition).' });

const Budget = Type.Union([
  Obj({ points: Type.Integer({ minimum: 1, maximum: LIMITS.budgetPoints, description: 'At most this many points are awarded, ever.' }) }),
  Obj({
    amount: Type.Integer({ minimum: 1, maximum: LIMITS.budgetMoney, description: 'Minor units; converted to points at the program\'s points_value when the campaign is launched (floor).' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', 'x-message': 'must be an ISO 4217 code such as EUR', description: 'The program currency.' }),
  }),
], { description: 'The points the campaign may give: `{"points": N}` or money `{"amount": N, "currency": "EUR"}`. The award that reaches it is cut to what is left, and awarding stops. null = no budget. An extra_stamp campaign takes no budget (400 naming budget): it gives stamps, not points; bound it with its window and limits.max_awards_per_member.' });

const Limits = Obj({
  max_awards_per_member: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Awards a member may get over the campaign.' })),
  max_points_per_member: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.budgetPoints, description: 'Points a member may get over the campaign (the award that reaches it is cut). Not for extra_stamp (use max_awards_per_member).' })),
}, { description: 'Per member, over the whole campaign; returned awards give their share back.' });

const fields = {
  name: text(LIMITS.name, 'Shown to marketers.'),
  description: Nullable(text(LIMITS.description, 'Optional.')),
  kind: StringEnum(CAMPAIGN_KINDS, { description: 'points_multiplier (e.g. double points), category_bonus, action_bonus: points. extra_stamp: extra stamps on a stamp card.' }),
  config: Config,
  starts_at: Timestamp({ description: 'Orders and events that occurred from this time earn the campaign.' }),
  ends_at: Timestamp({ description: 'Up to (not including) this time; at most 366 days after starts_at.' }),
  conditions: Conditions,
  budget: Nullable(Budget),
  limits: Limits,
  control_share: Type.Number({ minimum: 0, maximum: LIMITS.maxControlShare, description: 'Share of eligible members held out as a control group (0–0.5, e.g. 0.1, at most 4 decimals): chosen by a hash of campaign and member, so always the same members.' }),
  baseline_days: Type.Integer({ minimum: 1, maximum: LIMITS.baselineDays, description: 'The baseline recorded at launch covers this many days before it (default 90).' }),
};

const optional = <T extends Record<string, TSchema>>(props: T) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

const { name, kind, config, starts_at, ends_at, ...rest } = fields;

export const CreateCampaignBody = Obj({ name, kind, config, starts_at, ends_at, ...optional(rest) }, {
  description: 'A campaign is created as a draft; POST /v1/campaigns/{id}/launch starts it.',
  examples: [{
    name: 'Double points weekend', kind: 'points_multiplier', config: { multiplier: 2 },
    starts_at: '2026-12-05T00:00:00+02:00', ends_at: '2026-12-07T00:00:00+02:00',
    conditions: { days_of_week: [6, 7] }, budget: { points: 500000 }, limits: { max_points_per_member: 2000 }, control_share: 0.1,
  }],
});
export type CreateCampaignInput = Static<typeof CreateCampaignBody>;

export const UpdateCampaignBody = Obj(optional({ name, kind, config, starts_at, ends_at, ...rest }), {
  minProperties: 1,
  description: 'Only a draft may be changed. The fields sent replace the current ones (`conditions`, `limits` and `budget` as a whole; null clears).',
});
export type UpdateCampaignInput = Static<typeof UpdateCampaignBody>;

const GroupBaseline = Type.Object({
  members: Type.Integer(),
  purchases_per_member: Type.Number(),
  spend_per_member: Type.Number({ description: 'Minor units, net of returns.' }),
  points_per_member: Type.Number({ description: 'Points the purchases earned (what they keep after returns).' }),
});

export const Campaign = Type.Object({
  id: Uuid(),
  name: Type.String(),
  description: Nullable(Type.String()),
  kind: Type.String(),
  config: Type.Record(Type.String(), Type.Unknown()),
  starts_at: Timestamp(),
  ends_at: Timestamp(),
  status: StringEnum(CAMPAIGN_STATUSES, { description: 'draft → scheduled (launched, before starts_at) → running → ended; budget_exhausted while the budget is spent (a return that gives budget back resumes it); cancelled.' }),
  conditions: Type.Object({
    min_basket: Nullable(Type.Integer()),
    channels: Nullable(Type.Array(Type.String())),
    days_of_week: Nullable(Type.Array(Type.Integer())),
    audience: Nullable(Type.Record(Type.String(), Type.Unknown())),
    tier_codes: Nullable(Type.Array(Type.String())),
    rfm_segments: Nullable(Type.Array(Type.String())),
    at_risk: Nullable(Type.Boolean()),
  }),
  budget: Nullable(Type.Object({
    points: Nullable(Type.Integer({ description: 'The cap in points (for a money budget: set at launch).' })),
    amount: Nullable(Type.Integer()),
    currency: Nullable(Type.String()),
  })),
  limits: Type.Object({ max_awards_per_member: Nullable(Type.Integer()), max_points_per_member: Nullable(Type.Integer()) }),
  control_share: Type.Number(),
  baseline_days: Type.Integer(),
  baseline: Nullable(Type.Object({
    from: Timestamp(),
    to: Timestamp(),
    treatment: GroupBaseline,
    control: GroupBaseline,
  }, { description: 'What the target group did in the baseline_days before launch, per group (recorded by the campaigns.launch job).' })),
  spend: Type.Object({
    unit: StringEnum(['points', 'stamps'] as const, { description: 'What spent, and the awards\' wanted/points/kept, count: stamps for extra_stamp, points otherwise.' }),
    spent: Type.Integer({ description: 'Points (stamps for extra_stamp) the awards keep (after returns).' }),
    remaining: Nullable(Type.Integer({ description: 'Budget points left; null without a budget.' })),
    awards: Type.Integer({ description: 'Awards that gave points (or stamps).' }),
    held_out: Type.Integer({ description: 'Qualifying orders and events of control members (no points).' }),
    members_reached: Type.Integer({ description: 'Members who got points (or stamps).' }),
    members: Type.Object({ treatment: Type.Integer(), control: Type.Integer() }, { description: 'Members assigned to each group.' }),
  }),
  base_assigned_at: Nullable(Timestamp({ description: 'When the whole eligible base was assigned to groups (after launch).' })),
  launched_at: Nullable(Timestamp()),
  started_at: Nullable(Timestamp()),
  ended_at: Nullable(Timestamp()),
  cancelled_at: Nullable(Timestamp()),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'Campaign' });

export const CampaignAward = Type.Object({
  id: Uuid(),
  campaign_id: Uuid(),
  member_id: Uuid(),
  source_type: StringEnum(['transaction', 'event'] as const),
  source_id: Uuid({ description: 'The purchase or event.' }),
  outcome: StringEnum(AWARD_OUTCOMES, { description: 'granted; held_out (control group: nothing given, `wanted` is what they would have got); member_limit; budget_exhausted.' }),
  wanted: Type.Integer({ description: 'What the campaign would give, before limits and budget (stamps for extra_stamp, points otherwise).' }),
  points: Type.Integer({ description: 'What it gave (stamps for extra_stamp).' }),
  kept: Type.Integer({ description: 'What the member keeps after returns and voids (stamps for extra_stamp).' }),
  cut_by: Nullable(StringEnum(['budget', 'member_limit'] as const)),
  occurred_at: Timestamp(),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'CampaignAward' });

const GroupResult = Type.Object({
  members: Type.Integer(),
  purchasing_members: Type.Integer(),
  orders: Type.Integer(),
  spend: Type.Integer({ description: 'Minor units, net of returns.' }),
  points_awarded: Type.Integer({ description: 'Campaign points (stamps for extra_stamp: see unit) the group keeps.' }),
  purchase_rate: Nullable(Type.Number({ description: 'purchasing_members / members.' })),
  orders_per_member: Nullable(Type.Number()),
  spend_per_member: Nullable(Type.Number()),
});

const Lift = Nullable(Type.Number({ description: '(treatment − control) / control; null when the control group has no members or a zero value.' }));

export const CampaignResults = Type.Object({
  campaign_id: Uuid(),
  from: Timestamp(),
  to: Timestamp({ description: 'ends_at, or now while the campaign runs.' }),
  currency: Type.String(),
  unit: StringEnum(['points', 'stamps'] as const, { description: 'What points_awarded counts: stamps for extra_stamp.' }),
  treatment: GroupResult,
  control: GroupResult,
  lift: Type.Object({ purchase_rate: Lift, orders_per_member: Lift, spend_per_member: Lift }),
}, { $id: 'CampaignResults' });

export const ListCampaignsQuery = Obj({
  ...PageQuery,
  status: Type.Optional(StringEnum(CAMPAIGN_STATUSES)),
  kind: Type.Optional(StringEnum(CAMPAIGN_KINDS)),
});

export const ListAwardsQuery = Obj({
  ...PageQuery,
  member_id: Type.Optional(Uuid()),
  outcome: Type.Optional(StringEnum(AWARD_OUTCOMES)),
});

export const CancelBody = Obj({ reason: Type.Optional(text(500, 'Why (kept in the event).')) });
