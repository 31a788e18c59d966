/**
 * The behaviour metrics over HTTP: the query and the answer (behaviour.ts has the same shapes as types).
 */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, StringEnum } from '../../../platform/http/schema.js';
import { BREAKDOWNS, MAX_RANGE_YEARS, NON_MEMBERS, UNSCORED } from './behaviour.js';

const Day = (description: string) => Type.String({ format: 'date', description });
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Pct = (description: string) => Nullable(Type.Number({ description: `${description} In percent, one decimal.` }));
const Money = Type.Object({
  amount: Type.Integer({ description: 'Minor units of the currency.' }),
  currency: Type.String({ description: 'ISO 4217: the program currency.' }),
}, { $id: 'BehaviourMoney', description: 'An amount of money: minor units and the currency.' });

export const BehaviourQuerySchema = Obj({
  from: Type.Optional(Day('First day of the range (YYYY-MM-DD, tenant\'s time zone). Default: one year before `to`, plus a day.')),
  to: Type.Optional(Day(`Last day of the range, included. Default: yesterday in the tenant's time zone (the last complete day, as for an analytics run). At most ${MAX_RANGE_YEARS} years after \`from\`.`)),
  by: Type.Optional(StringEnum(BREAKDOWNS, {
    description: 'Break the figures down by the member\'s current tier, the order\'s channel or store, the current RFM segment, the month of first purchase (cohort), or customer type (members against non-members). Without it: the overall figures only.',
  })),
});

const Customers = Type.Object({
  start: Count('S: first purchase before `from`, not lost as of the day before `from`.'),
  new: Count('N: first-ever purchase in the range.'),
  end: Count('E: first purchase on or before `to`, not lost as of `to`.'),
  lost: Count('Of S, lost as of `to` (churned; definitions.lost).'),
  new_lost: Count('Of N, lost as of `to`: new customers of the range who have already lapsed.'),
  reactivated: Count('Lost as of the day before `from`, not lost as of `to`: they came back.'),
  purchasing: Count('With at least one order in the range.'),
  repeat: Count('With at least two orders in the range.'),
}, { description: 'Customers (members by member id, non-members by customer_ref). end = start − lost + new − new_lost + reactivated.' });

const figures = {
  customers: Customers,
  retention_rate: Pct('(S − lost) / S × 100: the share of the customers at the start still active at the end; 100 − churn_rate; null when S = 0. Equals domain.md\'s (E − N) / S when no new customer is lost and nobody comes back (definitions.retention).'),
  churn_rate: Pct('lost / S × 100 (domain.md §2); null when S = 0. "Lost" as definitions.lost says. retention_rate + churn_rate = 100.'),
  repeat_purchase_rate: Pct('Customers with ≥ 2 orders / customers with ≥ 1 order in the range × 100; null without orders.'),
  purchase_frequency: Nullable(Type.Number({ description: 'Orders per purchasing customer in the range, two decimals; null without orders.' })),
  orders: Count('Orders in the range: purchases, not voided, not wholly returned.'),
  orders_in_currency: Count('Of them, in the program currency (the money figures are over these).'),
  revenue: Type.Ref(Money),
  average_order_value: Nullable(Type.Ref(Money)),
  median_days_between_purchases: Nullable(Type.Number({ description: 'Median days between consecutive purchase days (same-day orders are one) whose later day is in the range; null without any.' })),
};

const Figures = Type.Object(figures, { $id: 'BehaviourFigures' });

const Group = Type.Object({
  value: Nullable(Type.String({
    description: `tier: the tier code (null: no tier; '${NON_MEMBERS}'); channel: online, store, app (null: not given); store: the store id (null: not given); segment: the RFM segment ('${UNSCORED}', '${NON_MEMBERS}'); cohort: YYYY-MM; customer_type: member or non_member.`,
  })),
  ...figures,
});

export const BehaviourReportSchema = Type.Object({
  from: Day('First day of the range.'),
  to: Day('Last day of the range, included.'),
  days: Type.Integer({ minimum: 1, description: 'Days in the range, both ends included.' }),
  time_zone: Type.String({ description: 'The tenant\'s time zone the days follow.' }),
  currency: Type.String({ description: 'The program currency of the money figures.' }),
  by: Nullable(StringEnum(BREAKDOWNS)),
  definitions: Type.Object({
    lost: Type.String({ description: 'When a customer counts as lost, with the numbers used, e.g. "no purchase within 2 × the median gap (34 days) = 68 days".' }),
    rule: StringEnum(['median_gap', 'fixed_days', 'p_alive'] as const, { description: 'The rule applied (analytics settings churn.rule).' }),
    window_days: Nullable(Type.Number({ description: 'Lost: more days than this since the last purchase; null when it cannot be known.' })),
    median_gap_days: Nullable(Type.Number({ description: 'Tenant-wide median days between purchase days, over all purchases up to `to`.' })),
    gap_multiple: Type.Number(),
    fixed_days: Nullable(Type.Number({ description: 'The fixed window in days, under rule fixed_days.' })),
    p_alive_below: Nullable(Type.Number({ description: 'The P(alive) threshold, under rule p_alive.' })),
    scores_as_of: Nullable(Day('Under rule p_alive: the day the members\' scores were computed for.')),
    groups: Nullable(Type.String({ description: 'How customers fall into the groups of the breakdown.' })),
    retention: Type.String({ description: 'What the retention rate measures, and why it is (S − lost) / S rather than (E − N) / S.' }),
    identity: Type.String({ description: 'The identity the customer counts satisfy.' }),
  }),
  overall: Type.Ref(Figures),
  groups: Type.Array(Group, { description: 'One per value of `by` that has customers in the figures; empty without `by`.' }),
}, { $id: 'BehaviourReport', description: 'Behaviour metrics over a range of days (docs/analytics/behaviour.md).' });

/** Named schemas the routes register. */
export const BEHAVIOUR_SCHEMAS = [Money, Figures, BehaviourReportSchema];
