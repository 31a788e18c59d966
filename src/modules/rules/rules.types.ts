/**
 * Earn rules as data. Rules are stored as JSON (the admin app builds them) and evaluated by the pure
 * function in rules.engine.ts. Money is integer minor units; points are integers; rates are integer ratios so
 * that no float ever touches money.
 */
import type { RulesLogic, AdditionalOperation } from 'json-logic-js';

/** A JSON Logic expression (https://jsonlogic.com), evaluated against `EarnData` (or `LineData` for line filters). */
export type Condition = RulesLogic<AdditionalOperation>;

export type Rounding = 'floor' | 'round' | 'ceil';

/**
 * How a promotion (multiplier or bonus) stacks with others. Base rules do not stack: the matching base rule with
 * the highest priority sets the rate.
 * - combine: adds to every other applied promotion.
 * - best_of: among matching best_of promotions only the one worth the most points applies (ties: priority).
 * - exclusive: the highest-priority matching exclusive promotion is the only promotion applied.
 */
export type Stacking = 'combine' | 'best_of' | 'exclusive';

export interface RuleCaps {
  per_transaction?: number;
  per_member_day?: number;
  per_member_month?: number;
  /** Points this rule may ever award across all members. */
  total?: number;
}

export interface RuleCommon {
  id: string;
  /** The stored version of the rule (rules read from the database carry it; see rules.service.ts). */
  version?: number;
  name: string;
  /** Higher runs first and wins ties. */
  priority: number;
  active?: boolean;
  /** Inclusive start, exclusive end, compared with the transaction's occurred_at. */
  valid_from?: string | null;
  valid_until?: string | null;
  /** Whole-basket condition on EarnData; absent = always. */
  condition?: Condition | null;
  caps?: RuleCaps;
  /** Days the points this rule awards stay pending; absent = the program's pending_days. */
  pending_days?: number;
}

/** `points` per `per_units` major currency units, e.g. {points: 1, per_units: 10} = 1 point per 10 EUR. */
export interface Rate {
  points: number;
  per_units: number;
}

export interface BaseRule extends RuleCommon {
  kind: 'base';
  rate: Rate;
  rounding: Rounding;
}

export interface MultiplierRule extends RuleCommon {
  kind: 'multiplier';
  /** 200 = double points: awards the base rate on the amount again times (factor_percent - 100) / 100. */
  factor_percent: number;
  rounding: Rounding;
  /** Only lines matching this condition on LineData count (e.g. a category); absent = the whole eligible amount. */
  line_filter?: Condition | null;
  stacking: Stacking;
}

export interface BonusRule extends RuleCommon {
  kind: 'bonus';
  points: number;
  stacking: Stacking;
}

export type EarnRule = BaseRule | MultiplierRule | BonusRule;

/** How often an event rule may award a member: `{count: 1, per: 'ever'}` = once per member. */
export type LimitPeriod = 'ever' | 'day' | 'week' | 'month' | 'year';
export interface EventLimit {
  count: number;
  per: LimitPeriod;
}

/**
 * An action bonus: fixed points when a member does something (signs up, writes a review, …). Every matching rule
 * for the event applies; `condition` is JSON Logic over `EventData`. Of the caps only `total` applies (per-member
 * frequency is `limit`).
 */
export interface EventRule extends RuleCommon {
  kind: 'event';
  /** sign_up, profile_completed, review_written, survey_answered, social_share, app_installed, birthday, or any custom name matching ^[a-z][a-z0-9_.-]{0,63}$ */
  event: string;
  /** 1..1,000,000 */
  points: number;
  limit?: EventLimit | null;
}

export type AnyRule = EarnRule | EventRule;
export type RuleKind = AnyRule['kind'];

/** What an event rule's condition sees. */
export interface EventData {
  event: { name: string; properties: Record<string, unknown> };
  tier: string | null;
  attributes: Record<string, unknown>;
  /** ISO day of week in the tenant zone: 1 = Monday ... 7 = Sunday. */
  day_of_week: number;
  /** 0-23 in the tenant zone. */
  hour: number;
  /** YYYY-MM-DD in the tenant zone. */
  date: string;
}

export interface MemberEvent {
  name: string;
  occurred_at: string;
  properties: Record<string, unknown>;
}

export interface EventContext {
  time_zone: string;
  tier: string | null;
  attributes: Record<string, unknown>;
  /** Per rule id: `count` = the member's awards in the rule's current limit period; `total` = points the rule awarded to everyone (caps.total). */
  usage: Record<string, { count: number; total: number }>;
}

/** One rule's award, to record with RulesService.recordEventAwards. */
export interface EventAward {
  rule_id: string;
  points: number;
  /** The limit's period key in the tenant zone ('ever', 'd:2026-03-04', 'w:2026-W10', 'm:2026-03', 'y:2026'); 'ever' for a rule without a limit. */
  period: string;
  /** Whether the member's count for `period` is kept (the rule has a limit). */
  count_period: boolean;
  /** Whether the rule's total across members is kept (the rule has caps.total). */
  count_total: boolean;
}

export interface EventResult {
  points: number;
  explanation: Explanation[];
  awards: EventAward[];
}

export interface TransactionLine {
  sku: string;
  category?: string | null;
  quantity: number;
  unit_price: number;
  discount?: number;
}

export interface Payment {
  method: string;
  amount: number;
}

export interface EarnTransaction {
  currency: string;
  total: number;
  lines?: TransactionLine[];
  channel?: string | null;
  store_id?: string | null;
  occurred_at: string;
  payments?: Payment[];
}

/** What the caller already recorded against a rule's caps for this member's day/month (in the tenant zone). */
export interface RuleUsage {
  member_day?: number;
  member_month?: number;
  total?: number;
}

export interface EarnContext {
  time_zone: string;
  tier: string | null;
  /** The member's tier earn multiplier (1.5 = half as many base points again); absent = 1. Base rules only. */
  tier_multiplier?: number;
  attributes: Record<string, unknown>;
  first_purchase: boolean;
  /** Program settings: categories that never earn (gift cards). */
  excluded_categories?: string[];
  /** Payment methods that never earn; default ['points', 'store_credit']. */
  non_earning_payment_methods?: string[];
  usage?: Record<string, RuleUsage>;
}

/** Data object conditions see. Documented for the admin app's condition builder. */
export interface LineData {
  sku: string;
  category: string | null;
  quantity: number;
  unit_price: number;
  discount: number;
  /** quantity * unit_price - discount, minor units. */
  net: number;
  /** Whether the program excludes this line's category. */
  excluded: boolean;
}

export interface EarnData {
  basket: {
    currency: string;
    total: number;
    /** Net amount that earns: excluded categories and the share paid in points/store credit removed. */
    eligible_amount: number;
    quantity: number;
    skus: string[];
    categories: string[];
  };
  lines: LineData[];
  channel: string | null;
  store: string | null;
  /** ISO day of week in the tenant zone: 1 = Monday ... 7 = Sunday. */
  day_of_week: number;
  /** 0-23 in the tenant zone. */
  hour: number;
  minute: number;
  /** YYYY-MM-DD in the tenant zone. */
  date: string;
  tier: string | null;
  attributes: Record<string, unknown>;
  first_purchase: boolean;
}

export type Outcome = 'applied' | 'not_active' | 'not_yet_valid' | 'expired' | 'condition_false' | 'nothing_to_earn'
  | 'superseded' | 'beaten' | 'excluded' | 'cap_reached' | 'limit_reached';

export interface Explanation {
  rule_id: string;
  rule_name: string;
  kind: RuleKind;
  outcome: Outcome;
  points: number;
  /** Points before caps, when a cap cut them. */
  uncapped_points?: number;
  capped_by?: (keyof RuleCaps)[];
  /** Rule that superseded/beat/excluded this one. */
  by_rule_id?: string;
  /** Base rule: the member's tier multiplier its points include (only when it is not 1). */
  tier_multiplier?: number;
  detail: string;
}

/** Points to add to each counter of a rule (day, month, total all grow by `points`). */
export interface CapUsage {
  rule_id: string;
  points: number;
  day: string;
  month: string;
}

export interface EarnResult {
  points: number;
  eligible_amount: number;
  explanation: Explanation[];
  cap_usage: CapUsage[];
}
