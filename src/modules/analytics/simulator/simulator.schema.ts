/** HTTP schemas of what-if simulations (/v1/analytics/simulations). */
import { Type, type Static } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../../platform/http/schema.js';
import { UpdateProgramBody } from '../../programs/programs.schema.js';
import { CreateRuleBody } from '../../rules/rules.schema.js';
import { ReevaluationBody } from '../../tiers/tiers.schema.js';

export const MAX_MONTHS = 24;
export const MAX_DRAFT_RULES = 100;
export const EARN_RULES_MODES = ['replace', 'add'] as const;

export const CreateSimulationBody = Obj({
  months: Type.Integer({ minimum: 1, maximum: MAX_MONTHS, description: `The last N months of orders (1-${MAX_MONTHS}), up to and including today in the tenant's time zone.` }),
  draft: Obj({
    earn_rules: Type.Optional(Type.Array(CreateRuleBody, {
      maxItems: MAX_DRAFT_RULES,
      description: 'Earn rules as POST /v1/earn-rules takes them (base, multiplier, bonus; action-bonus event rules are not replayed).',
    })),
    earn_rules_mode: Type.Optional(StringEnum(EARN_RULES_MODES, {
      description: '`replace` (default): `earn_rules` are the whole set of earn rules of the draft. `add`: the current rules and these.',
    })),
    tiers: Type.Optional(Obj(ReevaluationBody.properties, { description: 'Changes to the tier settings and to existing tiers, as POST /v1/tier-reevaluations takes them.' })),
    expiry: UpdateProgramBody.properties.expiry,
  }, { description: 'At least one of earn_rules, tiers and expiry; the parts not given are the current ones.' }),
}, {
  examples: [
    { months: 6, draft: { earn_rules_mode: 'add', earn_rules: [{ kind: 'multiplier', name: 'Double points', factor_percent: 200 }] } },
    { months: 12, draft: { tiers: { tiers: [{ id: '0190f5e2-7d1c-7c2e-9a55-2f4a3c1b0d9e', entry_threshold: 2000 }] }, expiry: { kind: 'after_earning', months: 12, days: 0 } } },
  ],
});
export type CreateSimulationInput = Static<typeof CreateSimulationBody>;

const Int = (description: string) => Type.Integer({ description });

const MonthFigures = Type.Object({
  month: Type.String({ description: 'YYYY-MM in the tenant time zone.' }),
  issued: Int('Points the window\'s purchases earned that month.'),
  clawed_back: Int('Points returns took back that month.'),
  net: Int('issued - clawed_back.'),
  expired: Int('Points issued in the window that expired that month (expected: what the redemption curve leaves unredeemed at expiry).'),
});

const TierCount = Type.Object({
  tier: Nullable(Type.String({ description: 'The tier code; null: no tier.' })),
  name: Nullable(Type.String()),
  members: Int('Members holding it at the window\'s end.'),
});

const Money = Type.Object({ amount: Int('Minor units.'), currency: Type.String() });

const Figures = Type.Object({
  points: Type.Object({ issued: Int('Points earned by the window\'s purchases.'), clawed_back: Int('Points taken back by their returns.'), net: Int('issued - clawed_back.') }),
  by_month: Type.Array(MonthFigures),
  expected_redemptions: Int('Of the points issued, expected to have been redeemed by the window\'s end (or by their expiry).'),
  expired: Int('Points issued in the window that expired within it.'),
  outstanding: Int('Points issued in the window still outstanding at its end.'),
  expected_future_redemptions: Int('Of the outstanding points, expected to be redeemed later (before they expire).'),
  expected_breakage: Nullable(Type.Number({ description: 'Share of the outstanding points expected never to be redeemed (0-1); null when none is outstanding.' })),
  liability: { ...Money, description: 'outstanding × cost per point × (1 − expected breakage): what the window\'s points leave on the books.' },
  members_per_tier: Nullable(Type.Array(TierCount, { description: 'Members per tier at the window\'s end, lowest rank first; null when there are no tiers.' })),
});

const Difference = Type.Object({
  points_issued: Type.Integer(),
  points_clawed_back: Type.Integer(),
  points_net: Type.Integer(),
  expected_redemptions: Type.Integer(),
  expired: Type.Integer(),
  outstanding: Type.Integer(),
  expected_future_redemptions: Type.Integer(),
  liability: Money,
  members_per_tier: Nullable(Type.Array(Type.Object({ tier: Nullable(Type.String()), members: Type.Integer() }))),
}, { description: 'The draft minus the other, figure by figure.' });

export const SimulationResult = Type.Object({
  window: Type.Object({
    from: Type.String({ format: 'date', description: 'First day replayed (tenant time zone).' }),
    to: Type.String({ format: 'date', description: 'Last day replayed (today when it was queued).' }),
    time_zone: Type.String(),
    currency: Type.String(),
  }),
  replayed: Type.Object({
    orders: Int('Orders of members in the window (purchases and returns, not voided).'),
    purchases: Int('Purchases replayed.'),
    returns: Int('Returns replayed or skipped.'),
    members: Int('Members whose purchases were replayed.'),
    not_earning: Int('Purchases of blocked or erased members: they earn nothing under any configuration.'),
    returns_skipped: Int('Returns of purchases made before the window: not replayed.'),
  }),
  redemption_model: Type.Object({
    method: StringEnum(['lot_age', 'flat_rate'] as const, { description: '`lot_age`: the share of a lot redeemed by its age, from the tenant\'s lots; `flat_rate` when no lot is a month old yet.' }),
    curve: Type.Array(Type.Number(), { description: 'Cumulative share of a lot\'s points redeemed by its age in months: index k = age k months (0 at 0).' }),
    historical_redemption_rate: Type.Number({ description: 'Points redeemed / points issued over the last 12 months.' }),
    redeemed_12m: Type.Integer(),
    issued_12m: Type.Integer(),
    lots_points: Int('Points of the lots the curve was estimated from.'),
  }),
  point_cost: Type.Object({ points: Type.Integer(), amount: Type.Integer(), currency: Type.String() }, { description: 'What `points` points cost the business (program setting).' }),
  draft: Figures,
  current: { ...Figures, description: 'The same orders judged by the current configuration as it is now.' },
  actual: { ...Figures, description: 'What happened: the points the orders earned and lost as recorded, the lots\' recorded expiry, and the tiers members hold now.' },
  difference: Type.Object({ vs_current: Difference, vs_actual: Difference }),
}, { $id: 'SimulationResult', description: 'What the draft would have done over the window, beside the current configuration and what happened.' });

export const Simulation = Type.Object({
  id: Uuid(),
  status: StringEnum(['queued', 'running', 'succeeded', 'failed'] as const),
  months: Type.Integer(),
  period: Type.Object({ from: Type.String({ format: 'date' }), to: Type.String({ format: 'date' }) }, { description: 'The days replayed, both included, in the tenant time zone.' }),
  draft: Type.Unknown({ description: 'The draft as sent.' }),
  progress: Type.Object({
    phase: StringEnum(['queued', 'loading', 'replaying', 'finishing', 'done'] as const),
    orders_done: Type.Optional(Type.Integer()),
    orders_total: Type.Optional(Type.Integer()),
    percent: Type.Optional(Type.Number({ description: 'Share of the orders replayed, 0-100.' })),
  }),
  result: Nullable(Type.Ref(SimulationResult)),
  error: Nullable(Type.String({ description: 'Why it failed.' })),
  created_at: Timestamp(),
  started_at: Nullable(Timestamp()),
  finished_at: Nullable(Timestamp()),
}, { $id: 'Simulation', description: 'A what-if simulation: queued, replayed by the analytics.simulate job, then its result.' });

export const ListSimulationsQuery = Type.Object({ ...PageQuery });
