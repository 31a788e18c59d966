import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateEarn } from './rules.engine.js';
import type { BaseRule, BonusRule, EarnContext, Explanation, EarnRule, EarnTransaction, MultiplierRule } from './rules.types.js';

const ctx = (over: Partial<EarnContext> = {}): EarnContext => ({
  time_zone: 'UTC', tier: null, attributes: {}, first_purchase: false, excluded_categories: ['gift_card'], ...over,
});
const tx = (over: Partial<EarnTransaction> = {}): EarnTransaction => ({
  currency: 'EUR', total: 1050, channel: 'store', store_id: 's1', occurred_at: '2026-03-04T12:00:00Z', ...over,
});
const base = (over: Partial<BaseRule> = {}): BaseRule => ({
  id: 'base', name: 'Base', kind: 'base', priority: 0, rate: { points: 1, per_units: 1 }, rounding: 'floor', ...over,
});
const mult = (over: Partial<MultiplierRule> = {}): MultiplierRule => ({
  id: 'x2', name: 'Double', kind: 'multiplier', priority: 10, factor_percent: 200, rounding: 'floor',
  stacking: 'combine', ...over,
});
const bonus = (over: Partial<BonusRule> = {}): BonusRule => ({
  id: 'b', name: 'Bonus', kind: 'bonus', priority: 5, points: 50, stacking: 'combine', ...over,
});
const outcome = (rules: EarnRule[], t: EarnTransaction, c: EarnContext = ctx()) => {
  const r = evaluateEarn(rules, t, c);
  const by = (id: string): Explanation => {
    const e = r.explanation.find((x) => x.rule_id === id);
    assert.ok(e, `no explanation for ${id}`);
    return e;
  };
  return { ...r, by };
};

test('base rate honours each rounding mode (10.50 EUR at 1 point per EUR)', () => {
  assert.equal(evaluateEarn([base({ rounding: 'floor' })], tx(), ctx()).points, 10);
  assert.equal(evaluateEarn([base({ rounding: 'round' })], tx(), ctx()).points, 11);
  assert.equal(evaluateEarn([base({ rounding: 'round' })], tx({ total: 1049 }), ctx()).points, 10);
  assert.equal(evaluateEarn([base({ rounding: 'ceil' })], tx({ total: 1001 }), ctx()).points, 11);
  assert.equal(evaluateEarn([base({ rounding: 'ceil' })], tx({ total: 1000 }), ctx()).points, 10);
  // 1 point per 10 units, and a zero-decimal currency.
  assert.equal(evaluateEarn([base({ rate: { points: 1, per_units: 10 } })], tx({ total: 9999 }), ctx()).points, 9);
  assert.equal(evaluateEarn([base()], tx({ currency: 'JPY', total: 1234 }), ctx()).points, 1234);
});

test('excluded categories and the share paid with points or store credit earn nothing', () => {
  const lines = [
    { sku: 'A', category: 'shoes', quantity: 2, unit_price: 3000, discount: 0 },
    { sku: 'G', category: 'gift_card', quantity: 1, unit_price: 4000, discount: 0 },
  ];
  let r = outcome([base()], tx({ total: 10000, lines }));
  assert.equal(r.eligible_amount, 6000);
  assert.equal(r.points, 60);
  // 2500 of 10000 paid with points and store credit: 75% of the 6000 earns.
  r = outcome([base()], tx({ total: 10000, lines, payments: [
    { method: 'card', amount: 7500 }, { method: 'points', amount: 1500 }, { method: 'store_credit', amount: 1000 }] }));
  assert.equal(r.eligible_amount, 4500);
  assert.equal(r.points, 45);
  // Without lines the whole paid amount earns.
  assert.equal(evaluateEarn([base()], tx({ total: 2000, payments: [{ method: 'points', amount: 2000 }] }), ctx()).points, 0);
});

test('a multiplier scales the base rate, a bonus adds a fixed amount', () => {
  const r = outcome([base(), mult({ factor_percent: 300 }), bonus()], tx({ total: 2000 }));
  assert.equal(r.by('base').points, 20);
  assert.equal(r.by('x2').points, 40);
  assert.equal(r.by('b').points, 50);
  assert.equal(r.points, 110);
  // A multiplier with no base rate earns nothing, and says why.
  const n = outcome([mult()], tx());
  assert.equal(n.points, 0);
  assert.equal(n.by('x2').outcome, 'nothing_to_earn');
});

test('conditions on category, channel and day of week in the tenant time zone', () => {
  const lines = [
    { sku: 'A', category: 'shoes', quantity: 1, unit_price: 1000 },
    { sku: 'B', category: 'bags', quantity: 1, unit_price: 3000 },
  ];
  // Double points on shoes lines only.
  const shoes = mult({ line_filter: { '==': [{ var: 'category' }, 'shoes'] } });
  assert.equal(evaluateEarn([base(), shoes], tx({ total: 4000, lines }), ctx()).points, 50);
  // Bonus for baskets containing bags, online only.
  const bagsOnline = bonus({ condition: { and: [
    { in: ['bags', { var: 'basket.categories' }] }, { '==': [{ var: 'channel' }, 'online'] }] } });
  assert.equal(outcome([bagsOnline], tx({ total: 4000, lines, channel: 'store' })).by('b').outcome, 'condition_false');
  assert.equal(evaluateEarn([bagsOnline], tx({ total: 4000, lines, channel: 'online' }), ctx()).points, 50);
  // Saturday 23:30 UTC is Sunday 12:30 in Auckland (NZDT, +13): day and hour follow the tenant zone.
  const sunday = bonus({ condition: { '==': [{ var: 'day_of_week' }, 7] } });
  const at = '2026-03-07T23:30:00Z';
  assert.equal(evaluateEarn([sunday], tx({ occurred_at: at }), ctx({ time_zone: 'Pacific/Auckland' })).points, 50);
  assert.equal(evaluateEarn([sunday], tx({ occurred_at: at }), ctx({ time_zone: 'UTC' })).points, 0);
  const lunch = bonus({ condition: { '==': [{ var: 'hour' }, 12] } });
  assert.equal(evaluateEarn([lunch], tx({ occurred_at: at }), ctx({ time_zone: 'Pacific/Auckland' })).points, 50);
  assert.equal(evaluateEarn([lunch], tx({ occurred_at: at }), ctx({ time_zone: 'UTC' })).points, 0);
  // Tier, attributes and first purchase.
  const member = bonus({ condition: { and: [{ '==': [{ var: 'tier' }, 'gold'] }, { var: 'first_purchase' },
    { '==': [{ var: 'attributes.city' }, 'Oslo'] }] } });
  assert.equal(evaluateEarn([member], tx(), ctx({ tier: 'gold', first_purchase: true, attributes: { city: 'Oslo' } })).points, 50);
  assert.equal(evaluateEarn([member], tx(), ctx({ tier: null, first_purchase: true, attributes: { city: 'Oslo' } })).points, 0);
});

test('stacking: base rules supersede, combine adds, best_of keeps the best, exclusive stands alone', () => {
  const channelBase = base({ id: 'base2', priority: 5, rate: { points: 2, per_units: 1 },
    condition: { '==': [{ var: 'channel' }, 'app'] } });
  let r = outcome([base(), channelBase], tx({ total: 1000, channel: 'app' }));
  assert.equal(r.points, 20);
  assert.equal(r.by('base').outcome, 'superseded');

  const b1 = bonus({ id: 'b1', stacking: 'best_of', points: 30 });
  const b2 = bonus({ id: 'b2', stacking: 'best_of', points: 70 });
  const c = bonus({ id: 'c', stacking: 'combine', points: 5 });
  r = outcome([base(), b1, b2, c], tx({ total: 1000 }));
  assert.equal(r.points, 10 + 70 + 5);
  assert.equal(r.by('b1').outcome, 'beaten');
  assert.equal(r.by('b1').by_rule_id, 'b2');

  const ex = bonus({ id: 'ex', stacking: 'exclusive', points: 40, priority: 1 });
  r = outcome([base(), b1, b2, c, ex], tx({ total: 1000 }));
  assert.equal(r.points, 10 + 40);
  assert.equal(r.by('b2').outcome, 'excluded');
  assert.equal(r.by('c').outcome, 'excluded');
  // Two exclusives: priority decides.
  const ex2 = bonus({ id: 'ex2', stacking: 'exclusive', points: 1, priority: 9 });
  assert.equal(evaluateEarn([base(), ex, ex2], tx({ total: 1000 }), ctx()).points, 11);
});

test('every cap cuts points and reports what was used', () => {
  const capped = (caps: BonusRule['caps']) => bonus({ id: 'cap', points: 100, caps });
  let r = outcome([capped({ per_transaction: 60 })], tx());
  assert.equal(r.points, 60);
  assert.deepEqual(r.by('cap').capped_by, ['per_transaction']);
  assert.deepEqual(r.cap_usage, [{ rule_id: 'cap', points: 60, day: '2026-03-04', month: '2026-03' }]);

  r = outcome([capped({ per_member_day: 150 })], tx(), ctx({ usage: { cap: { member_day: 120 } } }));
  assert.equal(r.points, 30);
  assert.deepEqual(r.by('cap').capped_by, ['per_member_day']);

  r = outcome([capped({ per_member_month: 500 })], tx(), ctx({ usage: { cap: { member_month: 450 } } }));
  assert.equal(r.points, 50);

  r = outcome([capped({ total: 1000 })], tx(), ctx({ usage: { cap: { total: 1000 } } }));
  assert.equal(r.points, 0);
  assert.equal(r.by('cap').outcome, 'cap_reached');
  assert.deepEqual(r.cap_usage, []);

  // The day/month reported follow the tenant zone.
  r = outcome([capped({ per_member_day: 1000 })], tx({ occurred_at: '2026-03-31T23:30:00Z' }),
    ctx({ time_zone: 'Europe/Oslo' }));
  assert.deepEqual(r.cap_usage, [{ rule_id: 'cap', points: 100, day: '2026-04-01', month: '2026-04' }]);

  // Caps on a base rule too, and a capped best_of competes with its capped value.
  assert.equal(evaluateEarn([base({ caps: { per_transaction: 5 } })], tx(), ctx()).points, 5);
  const big = bonus({ id: 'big', stacking: 'best_of', points: 100, caps: { per_transaction: 10 } });
  const small = bonus({ id: 'small', stacking: 'best_of', points: 20 });
  assert.equal(evaluateEarn([big, small], tx(), ctx()).points, 20);
});

test('validity dates and switched-off rules', () => {
  const promo = bonus({ valid_from: '2026-03-01T00:00:00Z', valid_until: '2026-04-01T00:00:00Z' });
  assert.equal(outcome([promo], tx({ occurred_at: '2026-02-28T23:59:59Z' })).by('b').outcome, 'not_yet_valid');
  assert.equal(evaluateEarn([promo], tx({ occurred_at: '2026-03-01T00:00:00Z' }), ctx()).points, 50);
  assert.equal(outcome([promo], tx({ occurred_at: '2026-04-01T00:00:00Z' })).by('b').outcome, 'expired');
  assert.equal(outcome([bonus({ active: false })], tx()).by('b').outcome, 'not_active');
});

test('a zero total earns nothing from rates, and explains every rule', () => {
  const minBasket = bonus({ id: 'min', condition: { '>=': [{ var: 'basket.eligible_amount' }, 5000] } });
  const r = outcome([base(), mult(), minBasket], tx({ total: 0 }));
  assert.equal(r.points, 0);
  assert.equal(r.explanation.length, 3);
  assert.equal(r.by('base').outcome, 'nothing_to_earn');
  assert.equal(r.by('x2').outcome, 'nothing_to_earn');
  assert.equal(r.by('min').outcome, 'condition_false');
  assert.ok(Number.isInteger(r.points));
});
