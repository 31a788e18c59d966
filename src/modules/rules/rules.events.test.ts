import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateEvent, isoWeek, periodKey } from './rules.events.js';
import type { EventContext, EventRule, MemberEvent } from './rules.types.js';

const rule = (over: Partial<EventRule> = {}): EventRule => ({
  id: 'review', name: 'Review bonus', kind: 'event', priority: 0, event: 'review_written', points: 50, ...over,
});
const ev = (over: Partial<MemberEvent> = {}): MemberEvent => ({ name: 'review_written', occurred_at: '2026-03-04T12:00:00Z', properties: {}, ...over });
const ctx = (over: Partial<EventContext> = {}): EventContext => ({ time_zone: 'UTC', tier: null, attributes: {}, usage: {}, ...over });

test('period keys follow the tenant time zone; weeks are ISO weeks', () => {
  assert.equal(periodKey('ever', '2026-03-04T12:00:00Z', 'UTC'), 'ever');
  assert.equal(periodKey('day', '2026-03-04T12:00:00Z', 'UTC'), 'd:2026-03-04');
  assert.equal(periodKey('month', '2026-03-04T12:00:00Z', 'UTC'), 'm:2026-03');
  assert.equal(periodKey('year', '2026-03-04T12:00:00Z', 'UTC'), 'y:2026');
  assert.equal(periodKey('week', '2026-03-04T12:00:00Z', 'UTC'), 'w:2026-W10');
  // 23:30 UTC on 31 December 2026 is 1 January 2027 in Sofia.
  assert.equal(periodKey('day', '2026-12-31T23:30:00Z', 'Europe/Sofia'), 'd:2027-01-01');
  assert.equal(periodKey('month', '2026-12-31T23:30:00Z', 'Europe/Sofia'), 'm:2027-01');
  assert.equal(periodKey('year', '2026-12-31T23:30:00Z', 'Europe/Sofia'), 'y:2027');
  assert.equal(periodKey('year', '2026-12-31T23:30:00Z', 'America/New_York'), 'y:2026');
  assert.equal(periodKey('day', new Date('2026-03-01T03:00:00Z'), 'America/New_York'), 'd:2026-02-28');
  // ISO weeks at year ends: 1 January 2027 is a Friday (week 53 of 2026); 29 December 2025 a Monday (week 1 of 2026).
  assert.equal(isoWeek('2027-01-01'), '2026-W53');
  assert.equal(isoWeek('2025-12-29'), '2026-W01');
  assert.equal(isoWeek('2026-01-01'), '2026-W01');
  assert.equal(isoWeek('2024-12-30'), '2025-W01');
  assert.equal(isoWeek('2021-01-03'), '2020-W53');
  assert.equal(isoWeek('2026-12-31'), '2026-W53');
  // Sunday 23:30 UTC is Monday in Sofia: the next week.
  assert.equal(periodKey('week', '2026-03-08T23:30:00Z', 'UTC'), 'w:2026-W10');
  assert.equal(periodKey('week', '2026-03-08T23:30:00Z', 'Europe/Sofia'), 'w:2026-W11');
});

test('every matching rule for the event applies and they add up; other events are ignored', () => {
  const r = evaluateEvent([
    rule(), rule({ id: 'extra', name: 'Extra', points: 20, priority: 5 }), rule({ id: 'signup', event: 'sign_up', points: 500 }),
  ], ev(), ctx());
  assert.equal(r.points, 70);
  assert.deepEqual(r.explanation.map((e) => [e.rule_id, e.outcome, e.points, e.kind]), [['extra', 'applied', 20, 'event'], ['review', 'applied', 50, 'event']]);
  assert.deepEqual(r.awards, [
    { rule_id: 'extra', points: 20, period: 'ever', count_period: false, count_total: false },
    { rule_id: 'review', points: 50, period: 'ever', count_period: false, count_total: false },
  ]);
  assert.equal(evaluateEvent([rule()], ev({ name: 'sign_up' }), ctx()).points, 0);
});

test('limits count awards per period in the tenant zone', () => {
  const weekly = rule({ limit: { count: 1, per: 'week' } });
  let r = evaluateEvent([weekly], ev({ occurred_at: '2026-03-08T23:30:00Z' }), ctx({ time_zone: 'Europe/Sofia' }));
  assert.equal(r.points, 50);
  assert.deepEqual(r.awards, [{ rule_id: 'review', points: 50, period: 'w:2026-W11', count_period: true, count_total: false }]);
  r = evaluateEvent([weekly], ev(), ctx({ usage: { review: { count: 1, total: 0 } } }));
  assert.equal(r.points, 0);
  assert.equal(r.explanation[0]!.outcome, 'limit_reached');
  assert.match(r.explanation[0]!.detail, /1 per week/);
  assert.deepEqual(r.awards, []);
  // Three a day: the third still applies, the fourth not.
  const thrice = rule({ limit: { count: 3, per: 'day' } });
  assert.equal(evaluateEvent([thrice], ev(), ctx({ usage: { review: { count: 2, total: 0 } } })).points, 50);
  assert.equal(evaluateEvent([thrice], ev(), ctx({ usage: { review: { count: 3, total: 0 } } })).points, 0);
  // Once ever (sign-up).
  const once = rule({ id: 'signup', event: 'sign_up', points: 500, limit: { count: 1, per: 'ever' } });
  assert.equal(evaluateEvent([once], ev({ name: 'sign_up' }), ctx()).awards[0]!.period, 'ever');
  assert.equal(evaluateEvent([once], ev({ name: 'sign_up' }), ctx({ usage: { signup: { count: 1, total: 500 } } })).points, 0);
  // Period keys of each kind.
  const key = (per: 'day' | 'month' | 'year') => evaluateEvent([rule({ limit: { count: 1, per } })], ev({ occurred_at: '2026-12-31T23:30:00Z' }), ctx({ time_zone: 'Europe/Sofia' })).awards[0]!.period;
  assert.deepEqual([key('day'), key('month'), key('year')], ['d:2027-01-01', 'm:2027-01', 'y:2027']);
});

test('conditions see the event, its properties, the member and local time', () => {
  const longReview = rule({ condition: { '>=': [{ var: 'event.properties.words' }, 100] } });
  assert.equal(evaluateEvent([longReview], ev({ properties: { words: 150 } }), ctx()).points, 50);
  const short = evaluateEvent([longReview], ev({ properties: { words: 20 } }), ctx());
  assert.equal(short.points, 0);
  assert.equal(short.explanation[0]!.outcome, 'condition_false');
  const gold = rule({ condition: { and: [{ '==': [{ var: 'tier' }, 'gold'] }, { '==': [{ var: 'attributes.city' }, 'Sofia'] }] } });
  assert.equal(evaluateEvent([gold], ev(), ctx({ tier: 'gold', attributes: { city: 'Sofia' } })).points, 50);
  assert.equal(evaluateEvent([gold], ev(), ctx({ tier: 'silver', attributes: { city: 'Sofia' } })).points, 0);
  // Saturday 23:30 UTC is Sunday in Auckland.
  const sunday = rule({ condition: { '==': [{ var: 'day_of_week' }, 7] } });
  assert.equal(evaluateEvent([sunday], ev({ occurred_at: '2026-03-07T23:30:00Z' }), ctx({ time_zone: 'Pacific/Auckland' })).points, 50);
  assert.equal(evaluateEvent([sunday], ev({ occurred_at: '2026-03-07T23:30:00Z' }), ctx()).points, 0);
  const date = rule({ condition: { '==': [{ var: 'date' }, '2026-03-08'] } });
  assert.equal(evaluateEvent([date], ev({ occurred_at: '2026-03-07T23:30:00Z' }), ctx({ time_zone: 'Pacific/Auckland' })).points, 50);
  // A condition that throws on this data is not met (and says why), it does not fail the event.
  const broken = rule({ condition: { unknown_op: [1] } as never });
  const b = evaluateEvent([broken, rule({ id: 'ok' })], ev(), ctx());
  assert.equal(b.points, 50);
  assert.match(b.explanation.find((e) => e.rule_id === 'review')!.detail, /could not be evaluated/);
});

test('caps.total across members, validity and switched-off rules', () => {
  const capped = rule({ caps: { total: 1000 } });
  let r = evaluateEvent([capped], ev(), ctx({ usage: { review: { count: 0, total: 980 } } }));
  assert.equal(r.points, 20);
  assert.deepEqual(r.explanation[0]!.capped_by, ['total']);
  assert.equal(r.explanation[0]!.uncapped_points, 50);
  assert.deepEqual(r.awards, [{ rule_id: 'review', points: 20, period: 'ever', count_period: false, count_total: true }]);
  r = evaluateEvent([capped], ev(), ctx({ usage: { review: { count: 0, total: 1000 } } }));
  assert.equal(r.points, 0);
  assert.equal(r.explanation[0]!.outcome, 'cap_reached');
  assert.deepEqual(r.awards, []);
  // A limit is checked before the cap.
  r = evaluateEvent([rule({ caps: { total: 1000 }, limit: { count: 1, per: 'ever' } })], ev(), ctx({ usage: { review: { count: 1, total: 1000 } } }));
  assert.equal(r.explanation[0]!.outcome, 'limit_reached');

  const promo = rule({ valid_from: '2026-03-01T00:00:00Z', valid_until: '2026-04-01T00:00:00Z' });
  assert.equal(evaluateEvent([promo], ev({ occurred_at: '2026-02-28T23:59:59Z' }), ctx()).explanation[0]!.outcome, 'not_yet_valid');
  assert.equal(evaluateEvent([promo], ev({ occurred_at: '2026-03-01T00:00:00Z' }), ctx()).points, 50);
  assert.equal(evaluateEvent([promo], ev({ occurred_at: '2026-04-01T00:00:00Z' }), ctx()).explanation[0]!.outcome, 'expired');
  assert.equal(evaluateEvent([rule({ active: false })], ev(), ctx()).explanation[0]!.outcome, 'not_active');
});
