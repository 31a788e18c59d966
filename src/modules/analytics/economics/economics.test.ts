/**
 * The pure arithmetic of program economics on hand-made inputs: the life table, the projection along it (closed
 * forms for constant probabilities), breakage, the liability by expiry month and a campaign's ROI.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildCurve, campaignEconomics, hazardAt, liability, projectOutstanding, projectUnit, projectedBreakage,
  type CampaignInput, type GroupSample, type RedemptionCurve,
} from './economics.js';
import type { CurveMonth } from './economics.schema.js';

const close = (actual: number | null, expected: number, tol: number, what: string) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

/** A curve with the same probabilities at every age (tail from 0). */
function constant(redeem: number, withdraw = 0, expire = 0): RedemptionCurve {
  return { tail_from_month: 0, months: [], tail: { redeem, withdraw, expire } };
}

describe('the lot-age life table', () => {
  test('one lot by hand: at-risk points, exposure with the observed fraction, probabilities', () => {
    // 100 points; 30 redeemed in month 0, 20 in month 1, 10 taken back by a return in month 1; the rest (40) still
    // outstanding when as_of comes at age 3.25: censored in month 3 with a quarter of the month observed.
    const curve = buildCurve({
      issued_gross: 100,
      flows: [{ month: 0, redeemed: 30, withdrawn: 0, expired: 0 }, { month: 1, redeemed: 20, withdrawn: 10, expired: 0 }],
      censored: [{ month: 3, points: 40, unobserved: 40 * 0.75 }],
    }, 24);
    const m = curve.months;
    assert.deepEqual(m.map((r) => r.at_start), [100, 70, 40, 40]);
    assert.deepEqual(m.map((r) => r.exposure), [100, 70, 40, 10]);
    // The tail starts at the oldest age less 2 (3 − 2 = 1): months 1-3 pooled, (20 redeemed) / (70 + 40 + 10).
    assert.equal(curve.tail_from_month, 1);
    close(m[0]!.p_redeem, 0.3, 1e-15, 'p_redeem month 0');
    assert.equal(m[0]!.pooled, false);
    close(m[1]!.p_redeem, 20 / 120, 1e-15, 'pooled p_redeem');
    close(m[1]!.p_withdraw, 10 / 120, 1e-15, 'pooled p_withdraw');
    assert.ok(m.slice(1).every((r) => r.pooled));
    assert.deepEqual(hazardAt(curve, 40), curve.tail);
  });

  test('a geometric history gives back its probability in every month before the tail', () => {
    // 10,000 points redeemed at 8% a month for 30 months, the rest censored at the end of month 30 (half observed).
    const flows = [];
    let left = 10_000;
    for (let k = 0; k < 30; k++) {
      flows.push({ month: k, redeemed: left * 0.08, withdrawn: 0, expired: 0 });
      left *= 0.92;
    }
    const curve = buildCurve({ issued_gross: 10_000, flows, censored: [{ month: 30, points: left, unobserved: left / 2 }] });
    assert.equal(curve.tail_from_month, 24);
    for (const r of curve.months.filter((x) => x.month < 24)) close(r.p_redeem, 0.08, 1e-12, `month ${r.month}`);
    // Pooled 24-30: six months at 8% and month 30 with half the exposure and no redemption.
    const atRisk = curve.months.filter((x) => x.month >= 24);
    const expected = atRisk.slice(0, 6).reduce((s, r) => s + r.redeemed, 0) / atRisk.reduce((s, r) => s + r.exposure, 0);
    close(curve.tail.redeem, expected, 1e-12, 'tail');
    assert.ok(curve.tail.redeem < 0.08 && curve.tail.redeem > 0.07);
  });

  test('no history: an empty curve projects nothing', () => {
    const curve = buildCurve({ issued_gross: 0, flows: [], censored: [] });
    assert.deepEqual(curve.months, []);
    assert.deepEqual(projectUnit(curve, 0, Infinity), { redeemed: 0, withdrawn: 0, expired: 0, remaining: 1 });
  });
});

describe('projection along the curve', () => {
  test('constant probabilities, never expiring: the competing-risks limit p_r / (p_r + p_w)', () => {
    const p = projectUnit(constant(0.1, 0.05), 0, Infinity);
    close(p.redeemed, 0.1 / 0.15, 1e-12, 'redeemed');
    close(p.withdrawn, 0.05 / 0.15, 1e-12, 'withdrawn');
    close(p.remaining, 0, 1e-12, 'remaining');
  });

  test('an expiry after whole months: (p_r / P)(1 − (1 − P)^n), the rest expires on its date', () => {
    const p = projectUnit(constant(0.1, 0.05), 0, 12);
    close(p.redeemed, (0.1 / 0.15) * (1 - 0.85 ** 12), 1e-12, 'redeemed');
    close(p.remaining, 0.85 ** 12, 1e-12, 'remaining');
    close(p.redeemed + p.withdrawn + p.expired + p.remaining, 1, 1e-12, 'shares add up');
  });

  test('part months by the uniform-spread assumption, worked by hand', () => {
    // A point at age 0.5 of a curve with p_r = 0.2 in month 0 and 0.1 after (tail from month 1), expiring at 2.25.
    const month0: CurveMonth = { month: 0, at_start: 0, exposure: 0, redeemed: 0, withdrawn: 0, expired: 0, censored: 0, p_redeem: 0.2, p_withdraw: 0, p_expire: 0, pooled: false };
    const curve: RedemptionCurve = { tail_from_month: 1, months: [month0], tail: { redeem: 0.1, withdraw: 0, expire: 0 } };
    const p = projectUnit(curve, 0.5, 2.25);
    // Rest of month 0: 0.5 · 0.2 / (1 − 0.5 · 0.2) = 1/9; still there: (1 − 0.2) / 0.9 = 8/9.
    // Month 1 (whole, tail): 8/9 · 0.1; still there 8/9 · 0.9 = 0.8. Month 2 up to 0.25: 0.8 · 0.25 · 0.1 = 0.02.
    const expected = 1 / 9 + (8 / 9) * 0.1 + 0.8 * 0.25 * 0.1;
    close(p.redeemed, expected, 1e-12, 'redeemed');
    close(p.remaining, 0.8 * (1 - 0.25 * 0.1), 1e-12, 'remaining at expiry');
  });

  test('a horizon stops the projection; no probability of exit leaves everything outstanding', () => {
    const p = projectUnit(constant(0.1), 3, 3 + 6);
    close(p.redeemed, 1 - 0.9 ** 6, 1e-12, 'six months at 10%');
    assert.deepEqual(projectUnit(constant(0), 0, Infinity), { redeemed: 0, withdrawn: 0, expired: 0, remaining: 1 });
    assert.deepEqual(projectUnit(constant(0.5), 5, 5), { redeemed: 0, withdrawn: 0, expired: 0, remaining: 1 });
  });

  test('breakage: 1 − (redeemed + expected) / (issued − expected take-backs), and of the outstanding points', () => {
    const curve = constant(0.1, 0.05);
    const groups = [{ points: 300, age: 0, expiry_age: null, expiry_month: null }];
    const projection = projectOutstanding(curve, groups);
    // 1,000 issued, 100 taken back, 500 redeemed, 300 outstanding (100 expired): 200 and 100 expected.
    const b = projectedBreakage({ issued_gross: 1000, withdrawn: 100, redeemed: 500 }, projection);
    close(b.expected_redemptions, 200, 1e-9, 'expected redemptions');
    close(b.expected_withdrawals, 100, 1e-9, 'expected take-backs');
    close(b.rate, 1 - 700 / 800, 1e-12, 'breakage');
    close(b.outstanding_rate, 1 / 3, 1e-12, 'breakage of the outstanding points');
  });
});

describe('liability', () => {
  test('per expiry month and in total, at the cost per point, never last', () => {
    const curve = constant(0.1);
    const projection = projectOutstanding(curve, [
      { points: 1000, age: 0, expiry_age: null, expiry_month: null },
      { points: 400, age: 0, expiry_age: 1, expiry_month: '2031-05' },
      { points: 600, age: 0, expiry_age: 2, expiry_month: '2031-04' },
    ]);
    // 50 minor units per 100 points: never: all 1,000 expected (nothing else leaves) = 500; 2031-05: 400 · 0.1 = 40
    // points = 20; 2031-04: 600 · (1 − 0.81) = 114 points = 57.
    const l = liability(projection, { points: 100, amount: 50 }, 'EUR');
    assert.deepEqual(l.by_expiry_month.map((r) => r.month), ['2031-04', '2031-05', 'never']);
    assert.deepEqual(l.by_expiry_month.map((r) => r.amount), [57, 20, 500]);
    assert.deepEqual(l.by_expiry_month.map((r) => r.outstanding_points), [600, 400, 1000]);
    close(l.by_expiry_month[0]!.expected_breakage, 0.81, 1e-12, 'breakage 2031-04');
    assert.equal(l.outstanding_points, 2000);
    close(l.expected_redemptions, 1154, 1e-9, 'expected');
    assert.equal(l.amount, 577);
    close(l.expected_breakage, 1 - 1154 / 2000, 1e-12, 'breakage');
  });
});

describe('campaign economics', () => {
  const sample = (members: number, purchases: [number, number], revenue: [number, number], purchasing = members): GroupSample => ({
    members, purchasing_members: purchasing, purchases: { n: members, mean: purchases[0], variance: purchases[1] }, revenue: { n: members, mean: revenue[0], variance: revenue[1] },
  });
  const input = (over: Partial<CampaignInput> = {}): CampaignInput => ({
    campaign_id: '00000000-0000-7000-8000-000000000001', name: 'Double points', kind: 'points_multiplier', status: 'ended', control_share: 0.1,
    window: { from: new Date('2031-03-03T00:00:00Z'), to: new Date('2031-03-10T00:00:00Z') },
    baseline: { from: new Date('2031-01-01T00:00:00Z'), to: new Date('2031-03-01T00:00:00Z'), days: 59, stored: null },
    treatment: sample(900, [1.2, 1], [3000, 4_000_000]),
    control: sample(100, [1, 1], [2500, 4_000_000]),
    baseline_treatment: sample(900, [2.95, 3], [59 * 300, 1e7]),
    baseline_control: sample(100, [2.95, 3], [59 * 290, 1e7]),
    cost_units: 90_000,
    ...over,
  });

  test('incremental revenue, margin, cost at the cost per point, ROI and its interval, by hand', () => {
    const e = campaignEconomics(input(), { margin: 0.3, costPerPoint: { points: 100, amount: 50 } });
    // Revenue difference 500 per member × 900 treated = 450,000; margin 30% = 135,000; cost 90,000 points × 0.5 = 45,000.
    close(e.revenue!.difference, 500, 1e-9, 'difference');
    close(e.incremental_revenue, 450_000, 1e-6, 'incremental revenue');
    close(e.incremental_margin, 135_000, 1e-6, 'incremental margin');
    assert.deepEqual(e.cost, { points: 90_000, amount: 45_000 });
    close(e.roi, (135_000 - 45_000) / 45_000, 1e-12, 'ROI');
    // SE = √(4e6/900 + 4e6/100) = √(44,444.4) = 210.82; the interval is the difference ± t·SE, ROI linear in it.
    close(e.revenue!.standard_error, Math.sqrt(4e6 / 900 + 4e6 / 100), 1e-9, 'SE');
    close(e.roi_ci_low, (e.revenue!.ci_low * 900 * 0.3 - 45_000) / 45_000, 1e-12, 'ROI low');
    close(e.roi_ci_high, (e.revenue!.ci_high * 900 * 0.3 - 45_000) / 45_000, 1e-12, 'ROI high');
    assert.equal(e.revenue!.significant, e.revenue!.p_value < 0.05);
    close(e.window.days, 7, 1e-12, 'window days');
    // Per day: treatment 3000/7 − 300, control 2500/7 − 290; purchases 1.2/7 − 0.05 and 1/7 − 0.05.
    close(e.change_per_day.treatment.revenue, 3000 / 7 - 300, 1e-9, 'treatment change');
    close(e.change_per_day.difference_in_differences.revenue, 500 / 7 - 10, 1e-9, 'difference in differences');
    close(e.change_per_day.difference_in_differences.purchases, 0.2 / 7, 1e-12, 'purchases DiD');
  });

  test('no control group: no test, no ROI; a stamp campaign has no money cost', () => {
    const none = campaignEconomics(input({ control: sample(0, [0, 0], [0, 0], 0) }), { margin: 0.3, costPerPoint: { points: 100, amount: 50 } });
    assert.equal(none.revenue, null);
    assert.equal(none.roi, null);
    assert.equal(none.incremental_revenue, null);
    const stamps = campaignEconomics(input({ kind: 'extra_stamp', cost_units: 40 }), { margin: 0.3, costPerPoint: { points: 100, amount: 50 } });
    assert.equal(stamps.unit, 'stamps');
    assert.deepEqual(stamps.cost, { points: 40, amount: null });
    assert.equal(stamps.roi, null);
  });
});
