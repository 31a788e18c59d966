/** HTTP schemas of earn rules (/v1/earn-rules). */
import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import { Nullable, Obj, PageQuery, StringEnum, Timestamp, Uuid } from '../../platform/http/schema.js';
import { CAP_NAMES, LIMIT_PERIODS, ROUNDINGS, RULE_KINDS, RULE_LIMITS, STACKINGS } from './rules.validation.js';

const logic = (description: string) =>
  Type.Unsafe<Record<string, unknown> | null>({
    type: ['object', 'null'],
    description: `${description} JSON Logic (https://jsonlogic.com): at most ${RULE_LIMITS.conditionBytes} bytes, nesting depth ${RULE_LIMITS.conditionDepth}, operators of json-logic-js only. null = always.`,
  });

const capsProps = Object.fromEntries(CAP_NAMES.map((k) => [k, Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: RULE_LIMITS.cap })))]));

const f = {
  kind: StringEnum(RULE_KINDS, {
    description: 'base: the earn rate (the highest-priority matching base rule sets it); multiplier: the base rate again times (factor_percent - 100)%; bonus: fixed points per order; event: fixed points for a member action (POST /v1/events). Cannot be changed.',
  }),
  name: Type.String({ minLength: 1, maxLength: RULE_LIMITS.name, pattern: '^(?!\\s*$)[^\\u0000-\\u001f\\u007f]+$', 'x-message': 'must contain a visible character and no control characters' }),
  priority: Type.Integer({ minimum: -RULE_LIMITS.priority, maximum: RULE_LIMITS.priority, description: 'Higher runs first and wins ties (default 0).' }),
  active: Type.Boolean({ description: 'A switched-off rule applies to nothing (default true).' }),
  valid_from: Nullable(Timestamp({ description: 'Applies to orders and events that occurred at or after this time (null = no start).' })),
  valid_until: Nullable(Timestamp({ description: 'Applies to orders and events that occurred before this time (null = no end).' })),
  condition: logic('Condition: for transaction rules over the order (basket, lines, channel, store, day_of_week, hour, minute, date, tier, attributes, first_purchase); for event rules over {event: {name, properties}, tier, attributes, day_of_week, hour, date}. Days and hours are in the tenant time zone.'),
  caps: Nullable(Obj(capsProps, {
    description: 'Most points the rule awards: per_transaction, per_member_day, per_member_month (tenant time zone) and total (across all members, ever). Event rules take only total.',
  })),
  pending_days: Nullable(Type.Integer({ minimum: 0, maximum: 365, description: "Days the points this rule awards stay pending (e.g. a return window); null = the program's pending_days. An order's points stay pending for the longest period among the rules that awarded them." })),
  rate: Obj(
    {
      points: Type.Integer({ minimum: 1, maximum: RULE_LIMITS.points }),
      per_units: Type.Integer({ minimum: 1, maximum: RULE_LIMITS.rateUnits, description: 'Major currency units (1 = one euro).' }),
    },
    { description: 'base: `points` points per `per_units` currency units of the eligible amount.' },
  ),
  rounding: StringEnum(ROUNDINGS, { description: 'base and multiplier: how fractional points round (default floor).' }),
  factor_percent: Type.Integer({ minimum: RULE_LIMITS.factorMin, maximum: RULE_LIMITS.factorMax, description: 'multiplier: 200 = double points, 300 = triple (101-100000).' }),
  line_filter: logic('multiplier: only order lines matching this (over sku, category, quantity, unit_price, discount, net, excluded) count.'),
  stacking: StringEnum(STACKINGS, { description: 'multiplier and bonus: combine (adds up), best_of (only the best matching best_of applies), exclusive (the highest-priority matching exclusive promotion stands alone). Default combine.' }),
  points: Type.Integer({ minimum: 1, maximum: RULE_LIMITS.points, description: 'bonus and event: fixed points (1-1000000).' }),
  event: Type.String({ pattern: '^[a-z][a-z0-9_.-]{0,63}$', 'x-message': 'must be an event name such as sign_up: a lowercase letter, then up to 63 of a-z, 0-9, _ . -', description: 'event: sign_up, profile_completed, review_written, survey_answered, social_share, app_installed, birthday, or a custom name.' }),
  limit: Nullable(Obj(
    {
      count: Type.Integer({ minimum: 1, maximum: RULE_LIMITS.limitCount }),
      per: StringEnum(LIMIT_PERIODS, { description: 'Calendar day, ISO week, month or year in the tenant time zone, or ever.' }),
    },
    { description: 'event: how often a member may earn it ({"count": 1, "per": "ever"} = once per member); null = every time.' },
  )),
};

const optional = <T extends Record<string, TSchema>>(props: T) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, Type.Optional(v)])) as { [K in keyof T]: TOptional<T[K]> };

const { kind: _kind, name: _name, ...rest } = f;

export const CreateRuleBody = Obj(
  { kind: f.kind, name: f.name, ...optional(rest) },
  {
    description: 'A rule. Fields not used by the kind are refused: base needs rate; multiplier factor_percent; bonus points; event event and points.',
    examples: [
      { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 }, rounding: 'floor' },
      { kind: 'multiplier', name: 'Double points on shoes at weekends', factor_percent: 200, line_filter: { '==': [{ var: 'category' }, 'shoes'] }, condition: { in: [{ var: 'day_of_week' }, [6, 7]] } },
      { kind: 'bonus', name: 'First purchase bonus', points: 500, condition: { var: 'first_purchase' }, caps: { total: 1000000 } },
      { kind: 'event', name: 'Review bonus', event: 'review_written', points: 50, limit: { count: 1, per: 'week' } },
    ],
  },
);

export const UpdateRuleBody = Obj(
  { name: Type.Optional(f.name), ...optional(rest) },
  {
    minProperties: 1,
    description: 'The fields sent replace the current ones (null clears an optional one); the result is a new version of the rule, in force from now. `kind` cannot be changed.',
    examples: [{ points: 75 }, { caps: { per_member_day: 500 }, active: true }],
  },
);

export const ListRulesQuery = Type.Object({
  ...PageQuery,
  kind: Type.Optional(StringEnum(RULE_KINDS)),
  event: Type.Optional(Type.String({ maxLength: 64, description: 'Only event rules of this event.' })),
  include_archived: Type.Boolean({ default: false, description: 'Also archived rules (default false).' }),
});

const definitionProps = {
  id: Uuid(),
  version: Type.Integer({ description: 'The version shown; every change makes a new one.' }),
  kind: StringEnum(RULE_KINDS),
  name: Type.String(),
  priority: Type.Integer(),
  active: Type.Boolean(),
  valid_from: Nullable(Timestamp()),
  valid_until: Nullable(Timestamp()),
  condition: Type.Unknown({ description: 'JSON Logic, or null.' }),
  caps: Nullable(Type.Object(Object.fromEntries(CAP_NAMES.map((k) => [k, Type.Optional(Type.Integer())])))),
  pending_days: Type.Optional(Nullable(Type.Integer())),
  rate: Type.Optional(Type.Object({ points: Type.Integer(), per_units: Type.Integer() })),
  rounding: Type.Optional(StringEnum(ROUNDINGS)),
  factor_percent: Type.Optional(Type.Integer()),
  line_filter: Type.Optional(Type.Unknown({ description: 'JSON Logic, or null.' })),
  stacking: Type.Optional(StringEnum(STACKINGS)),
  points: Type.Optional(Type.Integer()),
  event: Type.Optional(Type.String()),
  limit: Type.Optional(Nullable(Type.Object({ count: Type.Integer(), per: StringEnum(LIMIT_PERIODS) }))),
};

export const EarnRule = Type.Object(
  {
    ...definitionProps,
    archived_at: Nullable(Timestamp({ description: 'When the rule was archived (it applies to nothing that occurs after); null if live.' })),
    created_at: Timestamp(),
    updated_at: Timestamp(),
  },
  { $id: 'EarnRule', description: 'An earn rule: its current version. Kind-specific fields appear for their kind only.' },
);

export const EarnRuleVersion = Type.Object(
  {
    ...definitionProps,
    effective_from: Nullable(Timestamp({ description: 'In force from (inclusive); null = since always (the first version).' })),
    effective_until: Nullable(Timestamp({ description: 'In force until (exclusive); null = still in force.' })),
    created_at: Timestamp(),
    created_by: Nullable(Type.String({ description: 'The API key that made the version.' })),
  },
  { $id: 'EarnRuleVersion', description: 'One version of an earn rule and when it was in force.' },
);

export const VersionsQuery = Type.Object(PageQuery);
