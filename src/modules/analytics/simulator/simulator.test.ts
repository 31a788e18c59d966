/**
 * The simulator's pure core on hand-computed cases: a 2× multiplier doubles the points issued, a higher tier
 * threshold leaves members lower, a shorter expiry raises the points expired, returns take back what the kept part no
 * longer earns, the redemption curve and the liability it implies, evaluations inside the window, pending points and
 * tier upgrades, caps. Time zone UTC, so that the dates below are the dates the rules see.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ExpiryPolicy } from '../../programs/programs.types.js';
import type { EarnRule } from '../../rules/rules.types.js';
import { toDefinition, type RuleInput } from '../../rules/rules.validation.js';
import { DEFAULT_SETTINGS, type TierSettings } from '../../tiers/tiers.policy.js';
import { lotExpiresAt } from '../../programs/programs.policy.js';
import { localTime } from '../../rules/rules.engine.js';
import { curveAt, ExpiryCalendar, LocalCalendar, monthsOf, redemptionCurve, Replay, MONTH_MS } from './simulator.js';
import type { MemberStart, RedemptionCurve, SimConfig, SimOrder, SimProgram, SimTier } from './simulator.types.js';

const program: SimProgram = {
  time_zone: 'UTC', currency: 'EUR', pending_days: 0, excluded_categories: ['gift_card'], non_earning_payment_methods: ['points', 'store_credit'],
  point_cost: { points: 100, amount: 50 },
};

let ruleSeq = 0;
const rule = (input: Omit<RuleInput, 'name'> & { name?: string }): EarnRule =>
  toDefinition(`rule-${++ruleSeq}`, 1, { name: input.kind, ...input } as RuleInput) as EarnRule;
const base = () => rule({ kind: 'base', rate: { points: 1, per_units: 1 } });

const NONE: RedemptionCurve = { method: 'lot_age', cumulative: [0, 0], flat_rate: 0, redeemed_12m: 0, issued_12m: 0, lots_points: 0 };

const config = (rules: EarnRule[], more: Partial<SimConfig> = {}): SimConfig => ({
  rules, tiers: [], tierSettings: DEFAULT_SETTINGS, expiry: { kind: 'never' }, ...more,
});

const member = (id: string, more: Partial<MemberStart> = {}): MemberStart => ({ member_id: id, attributes: {}, purchased_before: false, held: null, counted: true, ...more });

let orderSeq = 0;
function purchase(memberId: string, at: string, total: number, more: Partial<SimOrder> = {}): SimOrder {
  return {
    id: `o-${++orderSeq}`, type: 'purchase', member_id: memberId, occurred_at: new Date(at), currency: 'EUR', total, lines: null, channel: null, store_id: null,
    payments: null, original_id: null, returned_total: 0, returns: 0, earns: true, attributes: null, actual_points: Math.floor(total / 100), actual_expires_at: null, ...more,
  };
}
function refund(of: SimOrder, at: string, total: number, more: Partial<SimOrder> = {}): SimOrder {
  return { ...purchase(of.member_id, at, total), type: 'return', original_id: of.id, ...more };
}

function replay(o: { from: string; to: string; draft: SimConfig; current: SimConfig; curve?: RedemptionCurve; program?: Partial<SimProgram>; actualExpiry?: ExpiryPolicy }) {
  return new Replay({
    from: new Date(o.from), to: new Date(o.to), program: { ...program, ...o.program }, draft: o.draft, current: o.current,
    curve: o.curve ?? NONE, actualExpiry: o.actualExpiry ?? { kind: 'never' },
  });
}

const tierSettings = (s: Partial<TierSettings> = {}): TierSettings => ({ ...DEFAULT_SETTINGS, ...s });
const silver: SimTier = { id: 't-silver', code: 'silver', name: 'Silver', rank: 1, invitation_only: false, entry_threshold: 0, keep_threshold: 0, multiplier: 1 };
const gold: SimTier = { id: 't-gold', code: 'gold', name: 'Gold', rank: 2, invitation_only: false, entry_threshold: 100, keep_threshold: 100, multiplier: 2 };

describe('the simulator core', () => {
  test('a 2× multiplier doubles the points issued, month by month; what happened stays beside it', () => {
    const rules = [base()];
    const r = replay({ from: '2031-01-01T00:00:00Z', to: '2031-04-01T00:00:00Z', current: config(rules), draft: config([...rules, rule({ kind: 'multiplier', factor_percent: 200 })]) });
    for (const m of ['a', 'b']) r.member(member(m));
    r.order(purchase('a', '2031-01-10T10:00:00Z', 1000)); // 10.00 EUR: 10 points
    r.order(purchase('a', '2031-02-15T10:00:00Z', 2550)); // 25.50: 25 (floor)
    r.order(purchase('b', '2031-03-20T10:00:00Z', 4000)); // 40.00: 40
    const out = r.finish(2);
    assert.deepEqual(out.current.points, { issued: 75, clawed_back: 0, net: 75 });
    // The multiplier awards the base rate again on each order: 10 + 25 + 40 more.
    assert.deepEqual(out.draft.points, { issued: 150, clawed_back: 0, net: 150 });
    assert.deepEqual(out.draft.by_month.map((m) => [m.month, m.issued]), [['2031-01', 20], ['2031-02', 50], ['2031-03', 80]]);
    assert.deepEqual(out.current.by_month.map((m) => m.issued), [10, 25, 40]);
    assert.equal(out.actual.points.issued, 75);
    assert.deepEqual(out.counts, { orders: 3, purchases: 3, returns: 0, members: 2, not_earning: 0, returns_skipped: 0 });
    // No redemptions observed: everything issued is outstanding, and nothing is expected to be redeemed.
    assert.equal(out.draft.outstanding, 150);
    assert.equal(out.draft.expected_breakage, 1);
    assert.equal(out.draft.liability.amount, 0);
    assert.equal(out.draft.members_per_tier, null, 'no tiers, no tier counts');
  });

  test('a higher entry threshold leaves members lower, and the gold multiplier they miss lowers the points', () => {
    const settings = tierSettings();
    const current = config([base()], { tiers: [silver, gold], tierSettings: settings });
    const draft = config([base()], { tiers: [silver, { ...gold, entry_threshold: 150 }], tierSettings: settings });
    const r = replay({ from: '2031-02-01T00:00:00Z', to: '2031-05-01T00:00:00Z', current, draft });
    for (const m of ['a', 'b']) r.member(member(m));
    r.order(purchase('a', '2031-02-10T10:00:00Z', 12_000)); // 120 points: gold now (current); not 150 (draft)
    r.order(purchase('b', '2031-02-15T10:00:00Z', 11_000)); // 110: gold (current), silver (draft)
    r.order(purchase('a', '2031-03-10T10:00:00Z', 5000)); // current: gold ×2 = 100; draft: silver 50, then 170 reaches gold
    const out = r.finish(3); // a third member never bought: the base tier
    assert.equal(out.current.points.issued, 120 + 110 + 100);
    assert.equal(out.draft.points.issued, 120 + 110 + 50);
    assert.deepEqual(out.current.members_per_tier, [{ tier: 'silver', name: 'Silver', members: 1 }, { tier: 'gold', name: 'Gold', members: 2 }]);
    assert.deepEqual(out.draft.members_per_tier, [{ tier: 'silver', name: 'Silver', members: 2 }, { tier: 'gold', name: 'Gold', members: 1 }]);
  });

  test('spend tiers: a purchase counts whole at the till, its later return takes its part back when it comes', () => {
    // Gold from 100.00 of spend (thresholds in minor units). Ana buys 120.00 and returns 50.00 a week later: she is
    // gold from the purchase on, as the till saw it; her next 10.00 order earns double. A net-of-all-returns figure
    // at the purchase (70.00) would have kept her silver.
    const settings = tierSettings({ metric: 'spend' });
    const spendGold: SimTier = { ...gold, entry_threshold: 10_000, keep_threshold: 10_000 };
    const current = config([base()], { tiers: [silver, spendGold], tierSettings: settings });
    const r = replay({ from: '2031-02-01T00:00:00Z', to: '2031-05-01T00:00:00Z', current, draft: current });
    r.member(member('ana'));
    const bought = purchase('ana', '2031-02-10T10:00:00Z', 12_000, { returns: 1, returned_total: 5000 });
    r.order(bought);
    r.order(purchase('ana', '2031-02-11T10:00:00Z', 1000)); // gold ×2: 20 points
    r.order(refund(bought, '2031-02-17T10:00:00Z', 5000));
    const out = r.finish(1);
    assert.equal(out.current.points.issued, 120 + 20);
    assert.equal(out.current.members_per_tier?.find((t) => t.tier === 'gold')?.members, 1);
  });

  test('a keep threshold missed at an evaluation inside the window moves the member down, by the figure before the window', () => {
    // Gold since March 2030 with 150 points that year; evaluated every 1 January over the calendar year.
    const settings = tierSettings({ window: 'calendar_year' });
    const current = config([base()], { tiers: [silver, gold], tierSettings: settings });
    const draft = config([base()], { tiers: [silver, { ...gold, entry_threshold: 200, keep_threshold: 200 }], tierSettings: settings });
    const r = replay({ from: '2030-12-01T00:00:00Z', to: '2031-03-01T00:00:00Z', current, draft });
    r.member(member('a', { held: { tier_id: gold.id, source: 'qualified', since: new Date('2030-03-01T00:00:00Z') }, purchased_before: true }));
    r.opening('a', 'points', new Date('2030-03-01T00:00:00Z'), 150);
    r.order(purchase('a', '2031-02-01T10:00:00Z', 1000)); // after 1 January: gold ×2 (current) or silver (draft)
    const out = r.finish(1);
    assert.deepEqual(out.current.members_per_tier!.map((t) => [t.tier, t.members]), [['silver', 0], ['gold', 1]]);
    assert.deepEqual(out.draft.members_per_tier!.map((t) => [t.tier, t.members]), [['silver', 1], ['gold', 0]]);
    assert.equal(out.current.points.issued, 20);
    assert.equal(out.draft.points.issued, 10);
  });

  test('a shorter expiry raises the points expired within the window, by the month they expire in', () => {
    const rules = [base()];
    const r = replay({
      from: '2031-01-01T00:00:00Z', to: '2031-07-01T00:00:00Z', current: config(rules),
      draft: config(rules, { expiry: { kind: 'after_earning', months: 3, days: 0 } }),
    });
    r.member(member('a'));
    r.order(purchase('a', '2031-01-10T10:00:00Z', 10_000)); // 100 points, expire 2031-04-10 under the draft
    r.order(purchase('a', '2031-03-10T10:00:00Z', 5000)); // 50 points, expire 2031-06-10
    r.order(purchase('a', '2031-05-10T10:00:00Z', 2000)); // 20 points, expire 2031-08-10: after the window
    const out = r.finish(1);
    assert.equal(out.current.expired, 0);
    assert.equal(out.current.outstanding, 170);
    assert.equal(out.draft.expired, 150);
    assert.equal(out.draft.outstanding, 20);
    assert.deepEqual(out.draft.by_month.map((m) => [m.month, m.expired]), [['2031-01', 0], ['2031-02', 0], ['2031-03', 0], ['2031-04', 100], ['2031-05', 0], ['2031-06', 50]]);
  });

  test('a return takes back what the kept part no longer earns (the ledger example), under each configuration', () => {
    const bonus = (points: number) => rule({ kind: 'bonus', points, condition: { '>=': [{ var: 'basket.total' }, 5000] } });
    const r = replay({ from: '2031-01-01T00:00:00Z', to: '2031-02-01T00:00:00Z', current: config([base(), bonus(100)]), draft: config([base(), bonus(200)]) });
    r.member(member('ana'));
    const lines = [{ sku: 'A', quantity: 1, unit_price: 3000 }, { sku: 'B', quantity: 1, unit_price: 3000 }];
    const bought = purchase('ana', '2031-01-05T10:00:00Z', 6000, { lines, returns: 1, returned_total: 3000, actual_points: 160 });
    r.order(bought);
    r.order(refund(bought, '2031-01-12T10:00:00Z', 3000, { lines: [{ sku: 'B', quantity: 1 }], actual_points: 130 }));
    const out = r.finish(1);
    // 60 + 100 earned; the kept 30.00 earns 30 and no bonus: 130 back.
    assert.deepEqual(out.current.points, { issued: 160, clawed_back: 130, net: 30 });
    assert.deepEqual(out.draft.points, { issued: 260, clawed_back: 230, net: 30 });
    assert.deepEqual(out.actual.points, { issued: 160, clawed_back: 130, net: 30 });
    assert.equal(out.current.outstanding, 30, 'the lot keeps what the return left');
    assert.equal(out.counts.returns, 1);
    assert.equal(out.counts.returns_skipped, 0);
  });

  test('a return of a purchase before the window is not replayed; a blocked member earns nothing anywhere', () => {
    const r = replay({ from: '2031-01-01T00:00:00Z', to: '2031-02-01T00:00:00Z', current: config([base()]), draft: config([base()]) });
    r.member(member('a'));
    r.order(refund(purchase('a', '2030-12-01T00:00:00Z', 1000), '2031-01-03T00:00:00Z', 500));
    r.order(purchase('a', '2031-01-05T00:00:00Z', 1000, { earns: false, actual_points: 0 }));
    const out = r.finish(1);
    assert.equal(out.counts.returns_skipped, 1);
    assert.equal(out.counts.not_earning, 1);
    assert.equal(out.current.points.issued, 0);
    assert.equal(out.draft.points.issued, 0);
  });

  test('pending points: the purchase that will reach gold earns at the old rate, and so does the next one until the points activate', () => {
    const settings = tierSettings();
    const cfg = config([base()], { tiers: [silver, gold], tierSettings: settings });
    const r = replay({ from: '2031-01-01T00:00:00Z', to: '2031-02-01T00:00:00Z', current: cfg, draft: cfg, program: { pending_days: 14 } });
    r.member(member('a'));
    r.order(purchase('a', '2031-01-01T10:00:00Z', 12_000)); // 120 pending until 15 January
    r.order(purchase('a', '2031-01-10T10:00:00Z', 1000)); // silver: 10
    r.order(purchase('a', '2031-01-20T10:00:00Z', 1000)); // gold since 15 January: 20
    const out = r.finish(1);
    assert.equal(out.current.points.issued, 150);
    assert.deepEqual(out.current.members_per_tier!.map((t) => t.members), [0, 1]);
  });

  test("caps: a member's daily cap holds across the day's orders and starts again the next day", () => {
    const capped = rule({ kind: 'base', rate: { points: 1, per_units: 1 }, caps: { per_member_day: 50 } });
    const r = replay({ from: '2031-01-01T00:00:00Z', to: '2031-02-01T00:00:00Z', current: config([base()]), draft: config([capped]) });
    r.member(member('a'));
    r.order(purchase('a', '2031-01-05T09:00:00Z', 4000));
    r.order(purchase('a', '2031-01-05T18:00:00Z', 4000)); // 10 left of the day's 50
    r.order(purchase('a', '2031-01-06T09:00:00Z', 4000));
    const out = r.finish(1);
    assert.equal(out.current.points.issued, 120);
    assert.equal(out.draft.points.issued, 40 + 10 + 40);
  });
});

describe('redemption behaviour', () => {
  test('the curve by lot age: each month, points redeemed at that age over the points of lots that lived through it', () => {
    const curve = redemptionCurve(
      [{ full_age: 3, amount: 1000 }, { full_age: 1, amount: 1000 }],
      [{ full_age: 3, age: 0, points: 100 }, { full_age: 3, age: 1, points: 200 }, { full_age: 3, age: 2, points: 100 }, { full_age: 1, age: 0, points: 300 }],
      { redeemed: 700, issued: 2000 },
    );
    // Month 0: (100 + 300) / 2000; month 1: 200 / 1000 (only the older lots lived through it); month 2: 100 / 1000.
    assert.equal(curve.method, 'lot_age');
    assert.deepEqual(curve.cumulative.map((x) => Math.round(x * 1000) / 1000), [0, 0.2, 0.4, 0.5]);
    assert.equal(curve.flat_rate, 0.35);
    assert.equal(Math.round(curveAt(curve, 1.5) * 1000) / 1000, 0.3, 'linear within a month');
    assert.equal(curveAt(curve, 10), 0.5, 'flat beyond the oldest age observed');
  });

  test('without a lot a month old, the flat rate of the last 12 months stands in', () => {
    const curve = redemptionCurve([{ full_age: 0, amount: 500 }], [], { redeemed: 100, issued: 400 });
    assert.equal(curve.method, 'flat_rate');
    assert.deepEqual(curve.cumulative, [0, 0.25]);
  });

  test('liability: outstanding × cost per point × (1 − expected breakage); an expiry inside the window leaves none', () => {
    const curve: RedemptionCurve = { method: 'lot_age', cumulative: [0, 0.25, 0.5, 0.75], flat_rate: 0.5, redeemed_12m: 0, issued_12m: 0, lots_points: 0 };
    const end = new Date('2031-04-01T00:00:00Z');
    const earned = new Date(end.getTime() - MONTH_MS); // exactly a month old at the end: 2031-03-01T13:30Z
    const rules = [base()];
    const r = replay({
      from: '2031-03-01T00:00:00Z', to: end.toISOString(), curve, current: config(rules),
      draft: config(rules, { expiry: { kind: 'after_earning', months: 0, days: 20 } }),
    });
    r.member(member('a'));
    r.order(purchase('a', earned.toISOString(), 100_000)); // 1000 points
    const out = r.finish(1);
    // A month old: 25% redeemed, 750 outstanding, of which (0.75 - 0.25) × 1000 = 500 expected later.
    assert.equal(out.current.expected_redemptions, 250);
    assert.equal(out.current.outstanding, 750);
    assert.equal(out.current.expected_future_redemptions, 500);
    assert.equal(out.current.expected_breakage, 0.3333);
    assert.equal(out.current.liability.amount, 250, '500 points at 50 per 100 points');
    // The draft expires the lot after 20 days: 20 / 30.4375 of the first month's 25% redeemed, the rest expired.
    const share = 0.25 * (20 / 30.4375);
    assert.equal(out.draft.expected_redemptions, Math.round(1000 * share));
    assert.equal(out.draft.expired, Math.round(1000 * (1 - share)));
    assert.equal(out.draft.outstanding, 0);
    assert.equal(out.draft.liability.amount, 0);
    assert.equal(out.draft.expected_breakage, null);
  });

  test('inactivity expiry: points go when the member does nothing for N months, at that deadline', () => {
    const rules = [base()];
    const r = replay({
      from: '2031-01-01T00:00:00Z', to: '2031-07-01T00:00:00Z', current: config(rules),
      draft: config(rules, { expiry: { kind: 'inactivity', months: 2 } }),
    });
    r.member(member('a'));
    r.order(purchase('a', '2031-01-10T00:00:00Z', 5000)); // 50
    r.order(purchase('a', '2031-02-20T00:00:00Z', 3000)); // 30: within two months, nothing expires
    r.order(purchase('a', '2031-05-01T00:00:00Z', 2000)); // more than two months later: the 80 expired on 20 April
    const out = r.finish(1); // the 20 expire on 1 July, the window's (exclusive) end: still outstanding within it
    assert.equal(out.draft.expired, 80);
    assert.equal(out.draft.outstanding, 20);
    assert.deepEqual(out.draft.by_month.filter((m) => m.expired > 0).map((m) => [m.month, m.expired]), [['2031-04', 80]]);
    assert.equal(out.current.expired, 0);
  });

  test('the months of a window', () => {
    assert.deepEqual(monthsOf(new Date('2030-11-16T00:00:00Z'), new Date('2031-02-16T00:00:00Z'), 'UTC'), ['2030-11', '2030-12', '2031-01', '2031-02']);
  });
});

describe('calendars remembered per quarter hour', () => {
  test('give exactly the local day, month and lot expiry of every instant, across daylight-saving changes and odd offsets', () => {
    const policies: ExpiryPolicy[] = [{ kind: 'after_earning', months: 1, days: 0 }, { kind: 'after_earning', months: 12, days: 3 }, { kind: 'end_of_period', period: 'quarter', plus: 0 }, { kind: 'never' }];
    const check = (tz: string, from: string, hours: number, stepMs: number) => {
      const days = new LocalCalendar(tz);
      const expiries = policies.map((p) => new ExpiryCalendar(p, tz));
      const start = Date.parse(from);
      for (let at = start; at < start + hours * 3_600_000; at += stepMs) {
        const l = localTime(new Date(at).toISOString(), tz);
        assert.deepEqual(days.of(at), { date: l.date, month: l.month }, `${tz} ${new Date(at).toISOString()}`);
        policies.forEach((p, i) => {
          assert.equal(expiries[i]!.of(at), lotExpiresAt(p, new Date(at), tz)?.getTime() ?? null, `${tz} ${JSON.stringify(p)} ${new Date(at).toISOString()}`);
        });
      }
    };
    // A year at a step prime to the quarter hour (instants all over its inside) ...
    for (const tz of ['Europe/Sofia', 'America/St_Johns', 'Asia/Kathmandu', 'Australia/Lord_Howe']) check(tz, '2030-01-01T00:00:00Z', 365 * 24, 10_807_000);
    // ... and every 61 seconds around changes of offset (Sofia's spring and autumn, Newfoundland's half hour, Lord
    // Howe's half-hour daylight saving) and a month's end a month later (the expiry of the lots earned then).
    check('Europe/Sofia', '2030-03-30T22:00:00Z', 6, 61_000);
    check('Europe/Sofia', '2030-10-26T22:00:00Z', 6, 61_000);
    check('America/St_Johns', '2030-03-10T03:00:00Z', 6, 61_000);
    check('Australia/Lord_Howe', '2030-04-06T13:00:00Z', 6, 61_000);
    check('Asia/Kathmandu', '2030-01-31T16:00:00Z', 6, 61_000);
  });
});
