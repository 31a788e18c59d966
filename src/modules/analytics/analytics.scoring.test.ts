/**
 * Scoring: one member's predictions in minor units whatever the model's time unit (CDNOW's customer 1 of
 * docs/analytics/clv.md), none without a model, and the stage's write-back (COPY, one UPDATE, deciles) with a member
 * whose predictions fail left empty and counted.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Db } from '../../platform/db/db.js';
import type { BgNbdModel } from './clv/bgnbd.js';
import type { GammaGammaModel } from './clv/gamma-gamma.js';
import { predict, scoreMembers } from './analytics.scoring.js';
import { DEFAULT_ANALYTICS_SETTINGS, type RunScope } from './analytics.types.js';

// The models fitted on CDNOW (FHL 2005; docs/analytics/clv.md), as the fit returns them.
const bgWeeks = { kind: 'bgnbd', unit: 'week', params: { r: 0.24259, alpha: 4.41360, a: 0.79292, b: 2.42591 } } as BgNbdModel;
const bgDays = { ...bgWeeks, unit: 'day', params: { ...bgWeeks.params, alpha: 4.41360 * 7 } } as BgNbdModel;
const gg = { kind: 'gamma-gamma', params: { p: 6.2496, q: 3.7442, gamma: 15.4435 } } as GammaGammaModel;

const scope = (over: Partial<RunScope> = {}): RunScope => ({
  tenantId: crypto.randomUUID(), runId: crypto.randomUUID(), asOf: '1997-09-30', end: new Date('1997-10-01T00:00:00Z'), timeZone: 'UTC',
  currency: 'USD', minorPerMajor: 100, settings: DEFAULT_ANALYTICS_SETTINGS, ...over,
});

// CDNOW customer 1: purchase days 1997-01-01, 01-18 and 08-02 ($29.33, $29.73, $14.96): x = 2, t_x = 213 days, T = 272.
const customer1 = { purchase_days: 3, t_x_days: 213, t_days: 272, repeat_day_mean: 2235, revenue: 7402 };

describe('predict', () => {
  test('CDNOW customer 1: P(alive) 0.727, 0.158 / 0.452 / 1.562 purchases, E[M] $24.65, CLV $11.01, historic 30 % of $74.02', () => {
    const p = predict(scope(), bgWeeks, gg, customer1);
    assert.equal(p.p_alive!.toFixed(3), '0.727');
    assert.deepEqual([p.expected_30, p.expected_90, p.expected_365].map((v) => v!.toFixed(3)), ['0.158', '0.452', '1.562']);
    assert.ok(Math.abs(p.expected_order_value! - 2465) <= 1, String(p.expected_order_value));
    assert.ok(Math.abs(p.clv! - 1101) <= 1, String(p.clv));
    assert.equal(p.historic_clv, Math.round(7402 * 0.3));
  });

  test('a model fitted in days predicts the same (the horizons are converted, not read as periods)', () => {
    const w = predict(scope(), bgWeeks, gg, customer1);
    const d = predict(scope(), bgDays, gg, customer1);
    for (const k of ['p_alive', 'expected_30', 'expected_90', 'expected_365'] as const) assert.ok(Math.abs(w[k]! - d[k]!) < 1e-9, k);
    assert.equal(w.clv, d.clv);
  });

  test('JPY has no minor unit: money is whole yen; without models only historic CLV', () => {
    const yen = predict(scope({ currency: 'JPY', minorPerMajor: 1 }), bgWeeks, gg, { ...customer1, repeat_day_mean: 22, revenue: 74 });
    assert.ok(Number.isInteger(yen.clv) && yen.clv! >= 10 && yen.clv! <= 12, String(yen.clv));
    assert.deepEqual(predict(scope(), null, null, customer1), {
      p_alive: null, expected_30: null, expected_90: null, expected_365: null, expected_order_value: null, clv: null, historic_clv: 2221,
    });
    const noSpend = predict(scope(), bgWeeks, null, customer1);
    assert.ok(noSpend.p_alive! > 0);
    assert.equal(noSpend.clv, null);
  });
});

describe('the scoring stage', () => {
  let db: Db;
  before(() => {
    db = new Db({ connectionString: process.env.DATABASE_URL!, max: 2 });
  });
  after(() => db.close());

  async function rows(s: RunScope, n: number) {
    await db.query(
      `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, repeat_day_mean, t_x_days, t_days, recency_days)
       SELECT $1, $2, gen_random_uuid(), '1997-01-01', '1997-01-01', 1 + i % 4, 1 + i % 4, 1000 * i, CASE WHEN i % 4 = 0 THEN 0 ELSE 1000 + i END,
              CASE WHEN i % 4 = 0 THEN 0 ELSE i % 200 END, 200 + i % 70, 0
         FROM generate_series(1, $3) i`,
      [s.tenantId, s.runId, n],
    );
  }

  test('every member scored and written back, deciles 1-10 by CLV; a member whose prediction fails is left empty and counted', async () => {
    const s = scope();
    const s2 = scope();
    await rows(s, 12_345);
    const client = await db.pool.connect();
    try {
      const seen: number[] = [];
      const result = await scoreMembers(client, s, bgWeeks, gg, async (n) => { seen.push(n); });
      assert.deepEqual(result, { rows: 12_345, failed: 0, firstError: null });
      assert.deepEqual(seen, [5000, 10_000, 12_345], 'progress after every batch');
      const got = await db.query(
        `SELECT count(*)::int AS n, count(clv)::int AS clv, min(clv_decile) AS lo, max(clv_decile) AS hi, count(*) FILTER (WHERE clv_decile = 10)::int AS top,
                bool_and(p_alive BETWEEN 0 AND 1) AS p_ok, bool_and(expected_30 <= expected_365) AS e_ok
           FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`,
        [s.tenantId, s.runId],
      );
      // Decile 10: percent_rank = (rank − 1) / 12,344 ≥ 0.9, i.e. rank ≥ 11,110.6: the top 1,235 distinct CLVs.
      assert.deepEqual(got.rows[0], { n: 12_345, clv: 12_345, lo: 1, hi: 10, top: 1235, p_ok: true, e_ok: true });
      const order = await db.query(
        `SELECT clv_decile, min(clv) AS lo, max(clv) AS hi FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2 GROUP BY 1 ORDER BY 1`,
        [s.tenantId, s.runId],
      );
      for (let i = 1; i < order.rows.length; i++) assert.ok(order.rows[i].lo >= order.rows[i - 1].hi, `decile ${i + 1} starts above decile ${i}`);

      // Equal CLVs share a decile (ntile split them by member id): 100 members with the same history, 100 apart.
      const s3 = scope();
      await db.query(
        `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, repeat_day_mean, t_x_days, t_days, recency_days)
         SELECT $1, $2, gen_random_uuid(), '1997-01-01', '1997-01-01', 3, 3, 5000, CASE WHEN i <= 100 THEN 2000 ELSE 1000 + i END, 100, 200, 0
           FROM generate_series(1, 200) i`,
        [s3.tenantId, s3.runId],
      );
      await scoreMembers(client, s3, bgWeeks, gg, async () => undefined);
      const ties = await db.query(
        `SELECT clv, count(DISTINCT clv_decile)::int AS deciles, count(*)::int AS n FROM analytics_member_scores
          WHERE tenant_id = $1 AND run_id = $2 GROUP BY clv HAVING count(*) > 1`,
        [s3.tenantId, s3.runId],
      );
      assert.ok(ties.rows.some((r) => r.n >= 100), 'the 100 members of one history share a CLV');
      for (const r of ties.rows) assert.equal(r.deciles, 1, `the ${r.n} members with CLV ${r.clv} share one decile`);
      await db.query(`DELETE FROM analytics_member_scores WHERE tenant_id = $1`, [s3.tenantId]);

      // A model whose parameters cannot give a finite answer: every prediction fails, the stage does not.
      const broken = { ...bgWeeks, params: { ...bgWeeks.params, r: Number.NaN } } as BgNbdModel;
      await rows(s2, 3);
      const bad = await scoreMembers(client, s2, broken, gg, async () => undefined);
      assert.equal(bad.rows, 3);
      assert.equal(bad.failed, 3);
      assert.match(bad.firstError!, /hyp2f1: a and b must be > 0, got NaN/);
      const left = await db.query(`SELECT p_alive, clv, clv_decile, historic_clv FROM analytics_member_scores WHERE tenant_id = $1 ORDER BY historic_clv`, [s2.tenantId]);
      assert.deepEqual(left.rows.map((r) => [r.p_alive, r.clv, r.clv_decile]), [[null, null, null], [null, null, null], [null, null, null]]);
      assert.deepEqual(left.rows.map((r) => r.historic_clv), [300, 600, 900]);
    } finally {
      client.release(true);
      await db.query(`DELETE FROM analytics_member_scores WHERE tenant_id = ANY($1)`, [[s.tenantId, s2.tenantId]]);
    }
  });
});
