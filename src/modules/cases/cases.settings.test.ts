/** Case settings checks without a database: priority rules may read only the facts a case is opened with. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PRIORITY_FACTS, priorityOf, settingsErrors, unknownVarError, withDefaults, type PriorityFacts } from './cases.settings.js';

const check = (when: unknown) => unknownVarError(when, PRIORITY_FACTS);

describe('unknownVarError', () => {
  test('every fact is accepted, plain, with a default, and in missing / missing_some', () => {
    for (const name of PRIORITY_FACTS) {
      assert.equal(check({ '==': [{ var: name }, 'x'] }), null, name);
      assert.equal(check({ '==': [{ var: [name, 'fallback'] }, 'x'] }), null, name);
    }
    assert.equal(check({ missing: ['value', 'tier_code'] }), null);
    assert.equal(check({ missing_some: [1, ['band', 'touchpoint']] }), null);
    assert.equal(check({ and: [{ '!=': [{ var: 'value' }, null] }, { '<=': [{ var: 'value' }, 1] }] }), null);
  });

  test('an unknown name anywhere is named: a typo, a path, a number, the whole data', () => {
    assert.match(check({ '==': [{ var: 'member.email' }, 'a@b.c'] })!, /unknown variable "member\.email".*reason, band, tier_code, channel, touchpoint, value/);
    assert.match(check({ and: [{ '==': [{ var: 'reason' }, 'feedback'] }, { in: [{ var: 'tier' }, ['gold']] }] })!, /"tier"/);
    assert.match(check({ if: [true, { var: 'chanel' }, 'x'] })!, /"chanel"/);
    assert.match(check({ '==': [{ var: ['vale', 0] }, 1] })!, /"vale"/);
    assert.match(check({ '==': [{ var: 1 }, 1] })!, /"1"/);
    assert.match(check({ '!!': [{ var: '' }] })!, /unknown variable ""/);
    assert.match(check({ '!!': { var: [] } })!, /unknown variable ""/);
    assert.match(check({ missing: ['value', 'rating'] })!, /"rating"/);
    assert.match(check({ missing_some: [1, ['band', 'score']] })!, /"score"/);
    // The default of a var is logic too.
    assert.match(check({ '==': [{ var: ['value', { var: 'score' }] }, 1] })!, /"score"/);
  });

  test('a computed name is refused: it cannot be checked', () => {
    assert.match(check({ '==': [{ var: { cat: ['tier', '_code'] } }, 'gold'] })!, /must name its variables as text/);
  });

  test("inside map, filter, reduce, all, none and some a var reads the element; the array itself reads the facts", () => {
    assert.equal(check({ some: [['gold', 'platinum'], { '==': [{ var: '' }, 'gold'] }] }), null);
    assert.equal(check({ reduce: [[1, 2], { '+': [{ var: 'current' }, { var: 'accumulator' }] }, { var: 'value' }] }), null);
    assert.match(check({ some: [{ var: 'tiers' }, { '==': [{ var: '' }, 'gold'] }] })!, /"tiers"/);
    assert.match(check({ reduce: [[1, 2], { '+': [{ var: 'current' }, 1] }, { var: 'start' }] })!, /"start"/);
  });
});

describe('settingsErrors: priority rules', () => {
  test('an unknown variable is a field error naming priority_rules[i].when', () => {
    const errs = settingsErrors({
      priority_rules: [
        { when: { '==': [{ var: 'reason' }, 'feedback'] }, priority: 'high' },
        { when: { '==': [{ var: 'member.email' }, 'vip@example.com'] }, priority: 'urgent' },
      ],
    });
    assert.deepEqual(errs.map((e) => e.field), ['priority_rules[1].when']);
    assert.match(errs[0]!.detail, /member\.email/);
  });

  test('an unknown operator is still reported as such (the operator checks come first)', () => {
    const errs = settingsErrors({ priority_rules: [{ when: { nope: [{ var: 'also_unknown' }] }, priority: 'high' }] });
    assert.equal(errs.length, 1);
    assert.match(errs[0]!.detail, /unknown JSON Logic operator/);
  });

  test('the null-safe rating rule leaves unrated feedback at the default; the bare comparison would not', () => {
    const facts: PriorityFacts = { reason: 'feedback', band: null, tier_code: null, channel: 'feedback', touchpoint: null, value: null };
    const safe = withDefaults({ priority_rules: [{ when: { and: [{ '!=': [{ var: 'value' }, null] }, { '<=': [{ var: 'value' }, 1] }] }, priority: 'urgent' }] });
    assert.equal(priorityOf(safe, facts), 'normal');
    assert.equal(priorityOf(safe, { ...facts, value: 1 }), 'urgent');
    assert.equal(priorityOf(safe, { ...facts, value: 0 }), 'urgent');
    assert.equal(priorityOf(safe, { ...facts, value: 2 }), 'normal');
    // Why the docs warn: null <= 1 in JSON Logic.
    const bare = withDefaults({ priority_rules: [{ when: { '<=': [{ var: 'value' }, 1] }, priority: 'urgent' }] });
    assert.equal(priorityOf(bare, facts), 'urgent');
  });
});

describe('business hours: holidays', () => {
  test('a date the pattern lets through but the calendar has not (month 13, 30 February) is a field error, not a crash', () => {
    for (const bad of ['2031-13-01', '2031-02-30', '2031-00-10']) {
      const errs = settingsErrors({ business_hours: { time_zone: null, weekly: withDefaults(null).business_hours.weekly, holidays: [bad] } });
      assert.deepEqual(errs.map((e) => e.field), ['business_hours.holidays[0]'], bad);
    }
  });
});
