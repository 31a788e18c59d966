import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cesScore, cliPoints, cliScore, csatScore, csiScore, meanOf, npsScore, ratingScore, responseRate } from './surveys.scores.js';

describe('NPS', () => {
  test('% promoters − % detractors with n and the 95% margin of error', () => {
    // 50 promoters, 30 passives, 20 detractors: P = 0.5, D = 0.2, NPS 30; s² = 0.7 − 0.09 = 0.61; MoE = 1.96·√(0.61/100)·100 = 15.31
    const s = npsScore({ promoters: 50, passives: 30, detractors: 20 });
    assert.equal(s.n, 100);
    assert.equal(s.nps, 30);
    assert.equal(s.promoters_pct, 50);
    assert.equal(s.passives_pct, 30);
    assert.equal(s.detractors_pct, 20);
    assert.equal(s.margin_of_error, 15.31);
  });

  test('no answers: every figure is null, not 0', () => {
    const s = npsScore({ promoters: 0, passives: 0, detractors: 0 });
    assert.deepEqual(s, { promoters: 0, passives: 0, detractors: 0, n: 0, nps: null, promoters_pct: null, passives_pct: null, detractors_pct: null, margin_of_error: null });
  });

  test('all promoters: +100 with no spread; all detractors: −100; all passives: 0', () => {
    assert.equal(npsScore({ promoters: 7, passives: 0, detractors: 0 }).nps, 100);
    assert.equal(npsScore({ promoters: 7, passives: 0, detractors: 0 }).margin_of_error, 0);
    assert.equal(npsScore({ promoters: 0, passives: 0, detractors: 3 }).nps, -100);
    assert.equal(npsScore({ promoters: 0, passives: 0, detractors: 3 }).margin_of_error, 0);
    const passives = npsScore({ promoters: 0, passives: 4, detractors: 0 });
    assert.equal(passives.nps, 0);
    assert.ok(Object.is(passives.nps, 0), 'never -0');
    assert.equal(passives.margin_of_error, 0);
  });

  test('one promoter and one detractor: NPS 0 with the widest spread (s² = 1)', () => {
    const s = npsScore({ promoters: 1, passives: 0, detractors: 1 });
    assert.equal(s.nps, 0);
    assert.equal(s.margin_of_error, round2(1.96 * Math.sqrt(1 / 2) * 100));
  });

  test('property: NPS in [−100, 100], MoE ≥ 0 and shrinking as n grows at the same shares', () => {
    fc.assert(fc.property(fc.nat(500), fc.nat(500), fc.nat(500), (p, a, d) => {
      fc.pre(p + a + d > 0);
      const s = npsScore({ promoters: p, passives: a, detractors: d });
      assert.ok(s.nps! >= -100 && s.nps! <= 100);
      assert.ok(s.margin_of_error! >= 0);
      const bigger = npsScore({ promoters: p * 4, passives: a * 4, detractors: d * 4 });
      assert.equal(bigger.nps, s.nps);
      assert.ok(bigger.margin_of_error! <= s.margin_of_error!);
    }));
  });
});

const round2 = (x: number) => Math.round(x * 100) / 100;

describe('CSAT, CES, rating', () => {
  test('CSAT: top-two-box share and the mean', () => {
    // 1-5: two 5s, one 4 (satisfied), one 3, one 1
    const s = csatScore([{ value: 5, count: 2 }, { value: 4, count: 1 }, { value: 3, count: 1 }, { value: 1, count: 1 }], 3);
    assert.deepEqual(s, { n: 5, satisfied: 3, csat: 60, mean: 3.6 });
  });

  test('CSAT without answers', () => {
    assert.deepEqual(csatScore([], 0), { n: 0, satisfied: 0, csat: null, mean: null });
  });

  test('CES: the mean and the share of low effort (5-7)', () => {
    const s = cesScore([{ value: 7, count: 1 }, { value: 5, count: 2 }, { value: 4, count: 1 }, { value: 2, count: 2 }], 3);
    assert.deepEqual(s, { n: 6, low_effort: 3, low_effort_pct: 50, mean: 4.17 });
    assert.deepEqual(cesScore([], 0), { n: 0, low_effort: 0, low_effort_pct: null, mean: null });
  });

  test('rating and the mean of a distribution', () => {
    assert.deepEqual(ratingScore([{ value: 4, count: 3 }]), { n: 3, mean: 4 });
    assert.equal(meanOf([]), null);
    assert.equal(meanOf([{ value: 1, count: 1 }, { value: 2, count: 2 }]), 1.67);
  });
});

describe('CSI', () => {
  test('% of secure customers among complete blocks; partial blocks excluded and counted', () => {
    const s = csiScore([
      { answered: 3, positive: 3, value_sum: 15, count: 4 }, // secure
      { answered: 3, positive: 2, value_sum: 14, count: 5 }, // one item not in the top box
      { answered: 3, positive: 0, value_sum: 6, count: 1 },
      { answered: 2, positive: 2, value_sum: 10, count: 3 }, // partial: positive on what they answered, still excluded
      { answered: 1, positive: 0, value_sum: 2, count: 1 },
    ]);
    assert.deepEqual(s, { n: 10, secure: 4, csi: 40, excluded_partial: 4 });
  });

  test('no answers, and only partial blocks: null, with the partial ones counted', () => {
    assert.deepEqual(csiScore([]), { n: 0, secure: 0, csi: null, excluded_partial: 0 });
    assert.deepEqual(csiScore([{ answered: 2, positive: 2, value_sum: 10, count: 6 }]), { n: 0, secure: 0, csi: null, excluded_partial: 6 });
  });

  test('everybody secure: 100', () => {
    assert.equal(csiScore([{ answered: 3, positive: 3, value_sum: 15, count: 9 }]).csi, 100);
  });
});

describe('CLI', () => {
  test('points per answer: 1 → 100 … 6 → 0', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(cliPoints), [100, 80, 60, 40, 20, 0]);
  });

  test('a respondent: the mean of the three items; a partial block has no CLI', () => {
    const one = (answers: number[]) => cliScore([{ answered: answers.length, positive: 0, value_sum: answers.reduce((s, a) => s + a, 0), count: 1 }]).cli;
    assert.equal(one([1, 2, 3]), 80);
    assert.equal(one([6, 6, 6]), 0);
    assert.equal(one([1, 1]), null);
  });

  test('the survey: the mean over complete respondents; partial blocks excluded and counted', () => {
    const s = cliScore([
      { answered: 3, positive: 0, value_sum: 6, count: 2 }, // e.g. 1,2,3 → 80 each
      { answered: 3, positive: 0, value_sum: 18, count: 1 }, // 6,6,6 → 0
      { answered: 2, positive: 0, value_sum: 2, count: 5 }, // 1,1 → would be 100: excluded
    ]);
    assert.deepEqual(s, { n: 3, cli: 53.3, excluded_partial: 5 });
  });

  test('the grouped formula matches the mean of the respondents\' item points over random complete blocks', () => {
    const item = fc.integer({ min: 1, max: 6 });
    fc.assert(fc.property(fc.array(fc.tuple(item, item, item), { minLength: 1, maxLength: 50 }), (blocks) => {
      const groups = blocks.map((b) => ({ answered: 3, positive: 0, value_sum: b[0] + b[1] + b[2], count: 1 }));
      const respondent = (b: number[]) => b.reduce((s, a) => s + cliPoints(a), 0) / b.length;
      const expected = blocks.reduce((s, b) => s + respondent(b), 0) / blocks.length;
      assert.equal(cliScore(groups).cli, Math.round(expected * 10) / 10);
    }));
  });

  test('no answers', () => {
    assert.deepEqual(cliScore([]), { n: 0, cli: null, excluded_partial: 0 });
  });
});

describe('response rate', () => {
  test('responded / sent, null when nothing was sent', () => {
    assert.deepEqual(responseRate(8, 2), { sent: 8, responded: 2, rate: 25 });
    assert.deepEqual(responseRate(0, 0), { sent: 0, responded: 0, rate: null });
    assert.deepEqual(responseRate(3, 1), { sent: 3, responded: 1, rate: 33.3 });
  });
});
