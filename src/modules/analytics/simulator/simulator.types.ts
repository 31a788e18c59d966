/**
 * The what-if simulator's types: what the replay takes (configurations, members, orders, the redemption curve) and
 * what it reports. docs/analytics/simulator.md explains every figure.
 */
import type { ExpiryPolicy } from '../../programs/programs.types.js';
import type { EarnRule } from '../../rules/rules.types.js';
import type { Metric, TierSettings } from '../../tiers/tiers.policy.js';
import type { TransactionRow } from '../../transactions/transactions.service.js';

/** A tier as the replay judges and reports it. */
export interface SimTier {
  id: string;
  code: string;
  name: string;
  rank: number;
  invitation_only: boolean;
  entry_threshold: number;
  keep_threshold: number;
  multiplier: number;
}

/** One configuration of the program to judge the orders by: the current one, or the draft. */
export interface SimConfig {
  /** The transaction earn rules (base, multiplier, bonus), as the engine takes them. */
  rules: EarnRule[];
  tiers: SimTier[];
  tierSettings: TierSettings;
  expiry: ExpiryPolicy;
}

/** The program settings the replay needs (the same for every configuration). */
export interface SimProgram {
  time_zone: string;
  currency: string;
  pending_days: number;
  excluded_categories: string[];
  non_earning_payment_methods: string[];
  /** What `points` points cost the business, in minor units. */
  point_cost: { points: number; amount: number };
}

/** What the replay knows of a member before the window. */
export interface MemberStart {
  member_id: string;
  attributes: Record<string, unknown>;
  /** A recorded purchase before the window (the "first purchase" condition). */
  purchased_before: boolean;
  /** The tier held at the window's start (the last tier change before it); null: never moved (the base tier). */
  held: { tier_id: string | null; source: 'qualified' | 'manual' | 'invited'; since: Date } | null;
  /** Counted in members per tier (not erased). */
  counted: boolean;
}

/** A contribution to a member's tier figure before the window, as it happened (its metric, when, how much). */
export interface OpeningFigure {
  member_id: string;
  metric: Metric;
  at: Date;
  amount: number;
}

/** A member's order in the window, in time order. */
export interface SimOrder {
  id: string;
  type: 'purchase' | 'return';
  member_id: string;
  occurred_at: Date;
  currency: string;
  total: number;
  lines: TransactionRow['lines'];
  channel: string | null;
  store_id: string | null;
  payments: TransactionRow['payments'];
  /** A return: its purchase. */
  original_id: string | null;
  /** A purchase: everything its recorded returns refunded (the spend figure counts it net, as the tiers module does). */
  returned_total: number;
  /** A purchase: how many of its recorded returns follow in the window. */
  returns: number;
  /** A purchase: false when the member could earn nothing then (blocked or erased). */
  earns: boolean;
  /** The attributes the purchase was judged with (else the member's). */
  attributes: Record<string, unknown> | null;
  /** What happened: a purchase's points earned, a return's points clawed back (positive). */
  actual_points: number;
  /** A purchase: when its points expire, as recorded (null: never, or the inactivity policy). */
  actual_expires_at: Date | null;
}

/**
 * Observed redemption behaviour: `cumulative[k]` is the share of a lot's points redeemed by the time the lot is k
 * months old (a month of age is 30.4375 days), k = 0..max; flat beyond the last.
 */
export interface RedemptionCurve {
  method: 'lot_age' | 'flat_rate';
  cumulative: number[];
  /** Points redeemed / points issued over the last 12 months. */
  flat_rate: number;
  redeemed_12m: number;
  issued_12m: number;
  /** Points of the lots the curve was estimated from. */
  lots_points: number;
}

export interface MonthFigures {
  /** YYYY-MM in the tenant's time zone. */
  month: string;
  issued: number;
  clawed_back: number;
  net: number;
  expired: number;
}

export interface TierCount {
  /** The tier's code; null: members who hold no tier. */
  tier: string | null;
  name: string | null;
  members: number;
}

/** The figures of one configuration (or of what happened) over the window. */
export interface Figures {
  points: { issued: number; clawed_back: number; net: number };
  by_month: MonthFigures[];
  /** Of the points issued in the window, expected to be redeemed by the window's end (or by their expiry). */
  expected_redemptions: number;
  /** Points issued in the window that expired within it. */
  expired: number;
  /** Points issued in the window still outstanding at its end. */
  outstanding: number;
  /** Of the outstanding points, expected to be redeemed later. */
  expected_future_redemptions: number;
  /** Share of the outstanding points expected never to be redeemed; null when nothing is outstanding. */
  expected_breakage: number | null;
  /** outstanding × cost per point × (1 − expected breakage), minor units of the program currency. */
  liability: { amount: number; currency: string };
  /** Members per tier at the window's end; null when the tenant has no tiers. */
  members_per_tier: TierCount[] | null;
}

export interface ReplayCounts {
  orders: number;
  purchases: number;
  returns: number;
  members: number;
  /** Purchases of blocked or erased members: they earn nothing under any configuration. */
  not_earning: number;
  /** Returns whose purchase is not in the window (or was voided): not replayed. */
  returns_skipped: number;
}
