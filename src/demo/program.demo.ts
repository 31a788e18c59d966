/**
 * The demo's loyalty program: Brew & Bloom's settings and earn rules, as an
 * admin would set them through PATCH /v1/program and POST /v1/earn-rules.
 *
 * Points: 1 point per euro spent, 100 points are worth €2 at the till (a 2 %
 * return, more with the promotions below), pending for 14 days (the return
 * window), and they expire at the end of the year after the one they were
 * earned in. Gift cards never earn (they earn when spent).
 */
import type { Tx } from '../platform/db/db.js';
import type { ProgramsService } from '../modules/programs/programs.service.js';
import type { ProgramPatch } from '../modules/programs/programs.types.js';
import type { RuleInput, RulesService } from '../modules/rules/rules.service.js';

export const DEMO_PROGRAM: ProgramPatch = {
  points_value: { points: 100, amount: 200 },
  // What a point costs Brew & Bloom: the goods given away at their cost price, about 40 % of the shelf price.
  point_cost: { points: 100, amount: 80 },
  default_margin_percent: 55,
  pending_days: 14,
  expiry: { kind: 'end_of_period', period: 'year', plus: 1 },
  negative_balance: 'debt',
  enrol_unknown_customers: true,
  excluded_categories: ['gift_card'],
  non_earning_payment_methods: ['points', 'store_credit'],
  hold_minutes: 30,
};

/** The points of the action bonuses, also used by the generator to know what members collect. */
export const EVENT_POINTS = { sign_up: 50, review_written: 25, birthday: 200 } as const;

export const DEMO_RULES: RuleInput[] = [
  {
    kind: 'base', name: '1 point per euro', priority: 0,
    rate: { points: 1, per_units: 1 }, rounding: 'floor',
  },
  {
    kind: 'multiplier', name: 'Double points on coffee beans at weekends', priority: 20,
    condition: { in: [{ var: 'day_of_week' }, [6, 7]] },
    line_filter: { '==': [{ var: 'category' }, 'beans'] },
    factor_percent: 200, rounding: 'floor', stacking: 'combine',
    caps: { per_member_day: 100 },
  },
  {
    kind: 'bonus', name: '150 bonus points on baskets over €60', priority: 10,
    condition: { '>': [{ var: 'basket.eligible_amount' }, 6000] },
    points: 150, stacking: 'best_of',
  },
  {
    kind: 'bonus', name: 'Welcome: 100 points on the first purchase', priority: 30,
    // Not on a basket of gift cards alone: gift cards earn when they are spent.
    condition: { and: [{ '==': [{ var: 'first_purchase' }, true] }, { '>': [{ var: 'basket.eligible_amount' }, 0] }] },
    points: 100, stacking: 'combine',
  },
  { kind: 'event', name: 'Welcome to Brew & Bloom', event: 'sign_up', points: EVENT_POINTS.sign_up, limit: { count: 1, per: 'ever' } },
  { kind: 'event', name: 'Thanks for your review', event: 'review_written', points: EVENT_POINTS.review_written, limit: { count: 2, per: 'month' } },
  { kind: 'event', name: 'Happy birthday', event: 'birthday', points: EVENT_POINTS.birthday, limit: { count: 1, per: 'year' } },
];

export interface ProgramLoad {
  /** The settings were applied (false: the tenant had already changed its program, which is left alone). */
  programSet: boolean;
  rulesCreated: number;
}

/**
 * Sets the program unless the tenant already changed it, and creates the rules
 * unless the tenant has any (archived ones included): a second run, or a demo
 * whose rules an admin has since edited, is left as it is. The services' clock
 * says when (the demo dates it the day before its year of orders).
 */
export async function ensureDemoProgram(services: { programs: ProgramsService; rules: RulesService }, tx: Tx, tenantId: string): Promise<ProgramLoad> {
  const { programs, rules } = services;
  let programSet = false;
  if ((await programs.get(tx, tenantId)).updated_at === null) {
    await programs.update(tx, tenantId, DEMO_PROGRAM);
    programSet = true;
  }
  let rulesCreated = 0;
  if ((await rules.list(tx, tenantId, { include_archived: true, limit: 1 })).length === 0) {
    for (const rule of DEMO_RULES) {
      await rules.create(tx, tenantId, rule, 'demo');
      rulesCreated++;
    }
  }
  return { programSet, rulesCreated };
}
