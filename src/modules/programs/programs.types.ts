/**
 * A tenant's loyalty program settings: what points are worth, what they cost, when they become active and when
 * they expire. One row per tenant (`programs`), created on the first change; until then the defaults below apply.
 */

export type ExpiryPeriod = 'month' | 'quarter' | 'year';

export type ExpiryPolicy =
  | { kind: 'never' }
  /** Per lot: `months` calendar months and then `days` days after the earning time, in the tenant's time zone. */
  | { kind: 'after_earning'; months: number; days: number }
  /** End of the calendar period containing the earn date in the tenant's time zone, plus `plus` more periods. */
  | { kind: 'end_of_period'; period: ExpiryPeriod; plus: number }
  /** All of a member's points expire after `months` months without activity. */
  | { kind: 'inactivity'; months: number };

export interface ProgramSettings {
  /** The tenant's default_currency (read-only here: PATCH /v1/tenant changes it). */
  currency: string;
  /** Redeeming `points` points is worth `amount` minor units at checkout. */
  points_value: { points: number; amount: number };
  /** What `points` points cost the business, in minor units. */
  point_cost: { points: number; amount: number };
  /** 0..100, up to 2 decimals. */
  default_margin_percent: number;
  /** 0..365; 0 = points are active at once. */
  pending_days: number;
  expiry: ExpiryPolicy;
  /** What a claw-back does when the member already spent the points. */
  negative_balance: 'allow' | 'debt';
  /** An order with an unknown member_external_id enrols the customer. */
  enrol_unknown_customers: boolean;
  /** Product categories that never earn. */
  excluded_categories: string[];
  /** Payment methods whose share of an order never earns. */
  non_earning_payment_methods: string[];
  /** Default lifetime of a checkout hold, in minutes (1..10080). */
  hold_minutes: number;
  /** Last change; null while the tenant has the defaults. */
  updated_at: Date | null;
}

/** The program with the tenant's time zone, as the write paths need it. */
export type Program = ProgramSettings & { time_zone: string };

/** The settings a client may change (PATCH /v1/program). */
export type ProgramPatch = Partial<Omit<ProgramSettings, 'currency' | 'updated_at'>>;

export const SETTABLE_FIELDS = [
  'points_value', 'point_cost', 'default_margin_percent', 'pending_days', 'expiry', 'negative_balance',
  'enrol_unknown_customers', 'excluded_categories', 'non_earning_payment_methods', 'hold_minutes',
] as const satisfies readonly (keyof ProgramPatch)[];

/** The settings of a tenant that never changed them. */
export const DEFAULT_SETTINGS: Readonly<Omit<ProgramSettings, 'currency' | 'updated_at'>> = Object.freeze<Omit<ProgramSettings, 'currency' | 'updated_at'>>({
  points_value: { points: 100, amount: 100 },
  point_cost: { points: 100, amount: 50 },
  default_margin_percent: 30,
  pending_days: 0,
  expiry: { kind: 'never' },
  negative_balance: 'debt',
  enrol_unknown_customers: true,
  excluded_categories: ['gift_card'],
  non_earning_payment_methods: ['points', 'store_credit'],
  hold_minutes: 30,
});

export const LIMITS = {
  points: 1_000_000,
  amount: 1_000_000_000,
  pendingDays: 365,
  expiryMonths: 120,
  expiryDays: 3650,
  expiryPlus: 100,
  holdMinutes: 10_080,
  listItems: 100,
  listItemLength: 100,
};
