/** HTTP schemas of the program settings (GET and PATCH /v1/program). */
import { Type } from '@sinclair/typebox';
import { Nullable, Obj, StringEnum, Timestamp } from '../../platform/http/schema.js';
import { LIMITS } from './programs.types.js';

export const EXPIRY_KINDS = ['never', 'after_earning', 'end_of_period', 'inactivity'] as const;
export const EXPIRY_PERIODS = ['month', 'quarter', 'year'] as const;
export const NEGATIVE_BALANCE = ['allow', 'debt'] as const;

const label = Type.String({ minLength: 1, maxLength: LIMITS.listItemLength, pattern: '^[^\\u0000-\\u001f\\u007f]+$', 'x-message': 'must not contain control characters' });

const ratio = (what: string, minAmount: number) =>
  Obj(
    {
      points: Type.Integer({ minimum: 1, maximum: LIMITS.points, description: 'A number of points (1-1,000,000).' }),
      amount: Type.Integer({ minimum: minAmount, maximum: LIMITS.amount, description: `Minor units of the program currency (${minAmount}-1,000,000,000).` }),
    },
    { description: what },
  );

const fields = {
  points_value: ratio('Redeeming `points` points is worth `amount` minor units at checkout. Default 100 points -> 100 (1 point = 1 minor unit).', 1),
  point_cost: ratio('What `points` points cost the business, in minor units (for program economics). Default 100 points -> 50.', 0),
  default_margin_percent: Type.Number({ minimum: 0, maximum: 100, description: 'Gross margin assumed where a product has none, 0-100 with up to 2 decimals. Default 30.' }),
  pending_days: Type.Integer({ minimum: 0, maximum: LIMITS.pendingDays, description: 'Days earned points stay pending (not spendable, clawed back by a return) before they become active; 0 = active at once. Default 0.' }),
  expiry: Obj(
    {
      kind: StringEnum(EXPIRY_KINDS, { description: 'never; after_earning (each lot, `months` then `days` after it was earned); end_of_period (end of the `period` containing the earn date in the tenant time zone, plus `plus` periods); inactivity (all points, after `months` without activity).' }),
      months: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.expiryMonths, description: 'after_earning: calendar months (default 0); inactivity: months without activity (1-120, required).' })),
      days: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.expiryDays, description: 'after_earning: days added after the months (default 0).' })),
      period: Type.Optional(StringEnum(EXPIRY_PERIODS, { description: 'end_of_period: month, quarter or year (required).' })),
      plus: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.expiryPlus, description: 'end_of_period: further whole periods before expiry (default 0).' })),
    },
    {
      description: 'When points expire. Only the fields of the chosen kind are allowed.',
      examples: [{ kind: 'never' }, { kind: 'after_earning', months: 12, days: 0 }, { kind: 'end_of_period', period: 'year', plus: 1 }, { kind: 'inactivity', months: 18 }],
    },
  ),
  negative_balance: StringEnum(NEGATIVE_BALANCE, { description: 'What a claw-back (a return or void) does when the member already spent the points: `allow` lets the balance go below zero; `debt` records the shortfall as a debt that later earnings pay off. Default debt.' }),
  enrol_unknown_customers: Type.Boolean({ description: 'An order with an unknown member_external_id enrols the customer as a new member. Default true.' }),
  excluded_categories: Type.Array(label, { maxItems: LIMITS.listItems, description: 'Product categories that never earn. Default ["gift_card"].' }),
  non_earning_payment_methods: Type.Array(label, { maxItems: LIMITS.listItems, description: 'Payment methods whose share of an order never earns. Default ["points", "store_credit"].' }),
  hold_minutes: Type.Integer({ minimum: 1, maximum: LIMITS.holdMinutes, description: 'Default lifetime of a checkout hold, in minutes (1-10080). Default 30.' }),
};

export const UpdateProgramBody = Obj(
  {
    points_value: Type.Optional(fields.points_value),
    point_cost: Type.Optional(fields.point_cost),
    default_margin_percent: Type.Optional(fields.default_margin_percent),
    pending_days: Type.Optional(fields.pending_days),
    expiry: Type.Optional(fields.expiry),
    negative_balance: Type.Optional(fields.negative_balance),
    enrol_unknown_customers: Type.Optional(fields.enrol_unknown_customers),
    excluded_categories: Type.Optional(fields.excluded_categories),
    non_earning_payment_methods: Type.Optional(fields.non_earning_payment_methods),
    hold_minutes: Type.Optional(fields.hold_minutes),
  },
  {
    minProperties: 1,
    description: 'Only the fields sent change; each one is replaced whole. `currency` (the tenant\'s default_currency) and `time_zone` are changed with PATCH /v1/tenant.',
    examples: [{ pending_days: 14, expiry: { kind: 'end_of_period', period: 'year', plus: 1 } }],
  },
);

const Ratio = Type.Object({ points: Type.Integer(), amount: Type.Integer() });

export const Program = Type.Object(
  {
    currency: Type.String({ description: "The tenant's default_currency (ISO 4217)." }),
    time_zone: Type.String({ description: "The tenant's time zone: days, periods and expiry dates follow it." }),
    points_value: { ...Ratio, description: fields.points_value.description },
    point_cost: { ...Ratio, description: fields.point_cost.description },
    default_margin_percent: Type.Number({ description: fields.default_margin_percent.description }),
    pending_days: Type.Integer({ description: fields.pending_days.description }),
    expiry: Type.Object(
      {
        kind: StringEnum(EXPIRY_KINDS),
        months: Type.Optional(Type.Integer()),
        days: Type.Optional(Type.Integer()),
        period: Type.Optional(StringEnum(EXPIRY_PERIODS)),
        plus: Type.Optional(Type.Integer()),
      },
      { description: fields.expiry.description },
    ),
    negative_balance: StringEnum(NEGATIVE_BALANCE, { description: fields.negative_balance.description }),
    enrol_unknown_customers: Type.Boolean({ description: fields.enrol_unknown_customers.description }),
    excluded_categories: Type.Array(Type.String(), { description: fields.excluded_categories.description }),
    non_earning_payment_methods: Type.Array(Type.String(), { description: fields.non_earning_payment_methods.description }),
    hold_minutes: Type.Integer({ description: fields.hold_minutes.description }),
    updated_at: Nullable(Timestamp({ description: 'Last change; null while the program has the defaults.' })),
  },
  { $id: 'Program', description: "The tenant's loyalty program settings." },
);
