/** HTTP schemas of tiers: the levels, the program's tier settings, members' tiers and re-evaluation reports. */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { Text } from '../ledger/ledger.schema.js';

export const METRICS = ['points', 'spend', 'purchases'] as const;
export const WINDOWS = ['lifetime', 'calendar_year', 'rolling_months'] as const;
export const EVALUATIONS = ['period_end', 'anniversary'] as const;
export const DOWNGRADE_POLICIES = ['one_level', 'to_qualified'] as const;
export const SOURCES = ['qualified', 'manual', 'invited'] as const;

export const LIMITS = { rank: 1000, threshold: 1_000_000_000_000, multiplier: 100, benefits: 30, tiersPerChange: 100 };

const CODE_PATTERN = '^[a-z][a-z0-9_-]{0,31}$';
const Code = (description: string) => Type.String({ pattern: CODE_PATTERN, description: `${description} Lower case, ^[a-z][a-z0-9_-]{0,31}$.`, 'x-message': 'must be 1-32 lower-case letters, digits, _ or -, starting with a letter' });

const Names = Obj(
  { en: Type.Optional(Text(100)), bg: Type.Optional(Text(100)), ru: Type.Optional(Text(100)), ro: Type.Optional(Text(100)), pl: Type.Optional(Text(100)) },
  { description: 'The name per locale (en, bg, ru, ro, pl); any may be left out (the `name` is shown then).' },
);

const Benefit = Obj({
  code: Code('What the shop keys the perk on: free_delivery, early_access, events, birthday_gift …'),
  name: Text(200, { description: 'As shown to the member.' }),
  names: Type.Optional(Names),
});

const threshold = (what: string) => Type.Integer({ minimum: 0, maximum: LIMITS.threshold, description: `${what}, in the settings' metric: points, minor units of the program currency (spend) or purchases.` });

const tierFields = {
  name: Text(100, { description: 'The tier as shown to members (the default locale).' }),
  names: Names,
  rank: Type.Integer({ minimum: 1, maximum: LIMITS.rank, description: 'Order of the levels: 1 is the lowest. Unique per tenant. On creation, default: above the highest tier.' }),
  benefits: Type.Array(Benefit, { maxItems: LIMITS.benefits, description: 'Perks shown to the member (free delivery, early access, events).' }),
  multiplier: Type.Number({ minimum: 1, maximum: LIMITS.multiplier, description: 'Earn multiplier applied to the base earn rule (1.5 = half as many points again), at most three decimals. Default 1.' }),
  invitation_only: Type.Boolean({ description: 'Reached only by invitation (POST /v1/members/{id}/tier/invitation) or manual assignment, never by thresholds.' }),
  entry_threshold: threshold('Reach the tier when the qualification figure over the window reaches this'),
  keep_threshold: threshold('Keep the tier at an evaluation when the figure reaches this (at most entry_threshold; default: entry_threshold)'),
};

export const CreateTierBody = Obj(
  {
    code: Code('Unique per tenant; what earn rules see as `{"var": "tier"}`. Cannot be changed later.'),
    name: tierFields.name,
    names: Type.Optional(tierFields.names),
    rank: Type.Optional(tierFields.rank),
    benefits: Type.Optional(tierFields.benefits),
    multiplier: Type.Optional(tierFields.multiplier),
    invitation_only: Type.Optional(tierFields.invitation_only),
    entry_threshold: tierFields.entry_threshold,
    keep_threshold: Type.Optional(tierFields.keep_threshold),
  },
  { examples: [{ code: 'vib', name: 'VIB', names: { bg: 'VIB' }, rank: 2, benefits: [{ code: 'free_delivery', name: 'Free delivery' }], multiplier: 1.25, entry_threshold: 35000, keep_threshold: 30000 }] },
);
export type CreateTierInput = Static<typeof CreateTierBody>;

const tierPatchFields = {
  name: Type.Optional(tierFields.name),
  names: Type.Optional(tierFields.names),
  rank: Type.Optional(tierFields.rank),
  benefits: Type.Optional(tierFields.benefits),
  multiplier: Type.Optional(tierFields.multiplier),
  invitation_only: Type.Optional(tierFields.invitation_only),
  entry_threshold: Type.Optional(tierFields.entry_threshold),
  keep_threshold: Type.Optional(tierFields.keep_threshold),
};
export const UpdateTierBody = Obj(tierPatchFields, { description: 'Only the fields sent change. The code cannot change (earn rules name it).' });
export type TierPatch = Static<typeof UpdateTierBody>;

export const Tier = Type.Object({
  id: Uuid(),
  code: Type.String(),
  name: Type.String(),
  names: Type.Record(Type.String(), Type.String()),
  rank: Type.Integer(),
  benefits: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), names: Type.Optional(Type.Record(Type.String(), Type.String())) })),
  multiplier: Type.Number(),
  invitation_only: Type.Boolean(),
  entry_threshold: Type.Integer(),
  keep_threshold: Type.Integer(),
  members: Type.Optional(Type.Integer({ description: 'Members holding the tier now (GET only).' })),
  created_at: Timestamp(),
  updated_at: Timestamp(),
}, { $id: 'Tier' });

const settingsFields = {
  metric: StringEnum(METRICS, { description: 'What qualifies: `points` (earned points once active; spending never lowers it), `spend` (money spent net of returns, minor units) or `purchases` (purchases not wholly returned).' }),
  window: StringEnum(WINDOWS, { description: 'Over what time: `lifetime`, `calendar_year` (in the tenant time zone) or `rolling_months` (the last `window_months` months).' }),
  window_months: Nullable(Type.Integer({ minimum: 1, maximum: 120, description: 'The rolling window in months (only with `rolling_months`).' })),
  evaluation: StringEnum(EVALUATIONS, { description: 'When keep thresholds are judged: `period_end` (every 1 January in the tenant time zone) or `anniversary` (every 12 months from the day the member reached the tier).' }),
  downgrade_policy: StringEnum(DOWNGRADE_POLICIES, { description: '`one_level`: at most one level down per evaluation; `to_qualified`: straight to the level the figure keeps.' }),
  grace_months: Type.Integer({ minimum: 0, maximum: 24, description: 'A downgrade takes effect this long after the evaluation (with grace_days).' }),
  grace_days: Type.Integer({ minimum: 0, maximum: 366 }),
};

export const UpdateTierSettingsBody = Obj({
  metric: Type.Optional(settingsFields.metric),
  window: Type.Optional(settingsFields.window),
  window_months: Type.Optional(settingsFields.window_months),
  evaluation: Type.Optional(settingsFields.evaluation),
  downgrade_policy: Type.Optional(settingsFields.downgrade_policy),
  grace_months: Type.Optional(settingsFields.grace_months),
  grace_days: Type.Optional(settingsFields.grace_days),
}, { examples: [{ metric: 'spend', window: 'rolling_months', window_months: 12, evaluation: 'period_end', downgrade_policy: 'one_level', grace_months: 1 }] });
export type TierSettingsPatch = Static<typeof UpdateTierSettingsBody>;

export const TierSettings = Type.Object({
  ...settingsFields,
  config_version: Type.Integer({ description: 'Bumped by every change to how members qualify; a re-evaluation report of an older version is stale.' }),
  updated_at: Nullable(Timestamp()),
}, { $id: 'TierSettings' });

const TierRef = Nullable(Type.Object({ id: Uuid(), code: Type.String(), name: Type.String(), rank: Type.Integer() }));

export const ReevaluationBody = Obj({
  settings: Type.Optional(UpdateTierSettingsBody),
  tiers: Type.Optional(Type.Array(Obj({ id: Uuid({ description: 'The tier to change.' }), ...tierPatchFields }), { maxItems: LIMITS.tiersPerChange })),
}, { description: 'Proposed changes (none: judge every member by the rules in force). Nothing changes until the report is applied.' });
export type ReevaluationInput = Static<typeof ReevaluationBody>;

export const ApplyReevaluationBody = Obj({
  downgrades: StringEnum(['now', 'next_evaluation'] as const, {
    description: '`now`: members below the new keep threshold move down at once (by the downgrade policy, no grace). `next_evaluation`: they keep their tier until their next evaluation (grandfathered until then). Upgrades happen at once either way.',
  }),
});

const Counts = Type.Object({
  members: Type.Integer(), up: Type.Integer(), down: Type.Integer(), stay: Type.Integer(),
  down_by_change: Type.Integer({ description: 'Members who would move down under the proposed rules but not under the rules in force.' }),
  up_by_change: Type.Integer({ description: 'Members who would move up under the proposed rules but not under the rules in force.' }),
});

export const Reevaluation = Type.Object({
  id: Uuid(),
  status: StringEnum(['draft', 'applied'] as const),
  stale: Type.Boolean({ description: 'The tier rules changed since the report was made: it cannot be applied (make a new one).' }),
  changes: Type.Object({ settings: Type.Optional(Type.Record(Type.String(), Type.Unknown())), tiers: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()))) }),
  config_version: Type.Integer(),
  summary: Counts,
  sample: Type.Array(Type.Object({
    member_id: Uuid(), from: Nullable(Type.String()), to: Nullable(Type.String()), figure: Type.Integer(),
    direction: StringEnum(['up', 'down'] as const), by_change: Type.Boolean(),
  }), { description: 'Up to 50 members who would move.' }),
  downgrades: Nullable(Type.String()),
  applied_summary: Nullable(Type.Object({ up: Type.Integer(), down: Type.Integer(), kept_until_evaluation: Type.Integer() })),
  created_at: Timestamp(),
  applied_at: Nullable(Timestamp()),
}, { $id: 'TierReevaluation' });

export const ListQuery = Type.Object({ ...PageQuery });

export const AssignBody = Obj({
  tier: Code('The tier code.'),
  until: Type.Optional(Nullable(Timestamp({ description: 'When the assignment ends and the member falls back to the tier they qualify for; null or absent: open-ended.' }))),
  reason: Type.Optional(Text(500)),
}, { examples: [{ tier: 'gold', until: '2027-01-01T00:00:00Z', reason: 'service recovery' }] });
export type AssignInput = Static<typeof AssignBody>;

export const MemberTier = Type.Object({
  member_id: Uuid(),
  tier: Nullable(Type.Object({
    id: Uuid(), code: Type.String(), name: Type.String(), names: Type.Record(Type.String(), Type.String()), rank: Type.Integer(), multiplier: Type.Number(),
    benefits: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), names: Type.Optional(Type.Record(Type.String(), Type.String())) })),
  })),
  source: StringEnum(SOURCES, { description: '`qualified` by thresholds, `manual` assignment, or `invited`.' }),
  since: Nullable(Timestamp()),
  valid_until: Nullable(Timestamp({ description: 'Until when the tier is certain: the end of a manual assignment or invitation, the date of a scheduled downgrade, or the next evaluation.' })),
  next_evaluation_at: Nullable(Timestamp()),
  pending_downgrade: Nullable(Type.Object({ to: TierRef, at: Timestamp() })),
  metric: StringEnum(METRICS),
  figure: Type.Integer({ description: 'The qualification figure over the current window.' }),
  window: Type.Object({ from: Nullable(Timestamp()), to: Timestamp() }),
  progress: Type.Object({
    next: Nullable(Type.Object({ tier: TierRef, threshold: Type.Integer(), remaining: Type.Integer(), by: Nullable(Timestamp({ description: 'The end of the current calendar-year window; null for rolling and lifetime windows (any time).' })) })),
    keep: Nullable(Type.Object({ threshold: Type.Integer(), figure: Type.Integer({ description: 'What counts so far for the next evaluation.' }), remaining: Type.Integer(), by: Timestamp() })),
  }),
}, { $id: 'MemberTier' });

export const TierHistoryItem = Type.Object({
  id: Uuid(),
  from_tier_id: Nullable(Uuid()),
  from_code: Nullable(Type.String()),
  to_tier_id: Nullable(Uuid()),
  to_code: Nullable(Type.String()),
  reason: Type.String({ description: 'upgrade, downgrade, manual, invited, assignment_ended, reevaluation' }),
  source: StringEnum(SOURCES),
  figure: Nullable(Type.Integer()),
  details: Nullable(Type.Record(Type.String(), Type.Unknown())),
  at: Timestamp(),
}, { $id: 'TierHistoryItem' });
