/**
 * RFM: domain.md §2's segment table cell by cell, FM rounding, the quintile score, and the rfm stage's SQL on
 * hand-made rows with ties (equal values share a score; fewer days since the last purchase score higher).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Db } from '../../platform/db/db.js';
import { DEFAULT_ANALYTICS_SETTINGS, RFM_SEGMENTS, type RunScope } from './analytics.types.js';
import { inSample, sampleBound } from './analytics.models.js';
import { fmScore, quintileScore, scoreRfm, segmentOf } from './analytics.rfm.js';

// domain.md §2, copied as printed there: rows R = 5 … 1, columns FM = 1 … 5.
const DOMAIN_TABLE: Record<number, string[]> = {
  5: ['New customers', 'Potential loyalists', 'Potential loyalists', 'Champions', 'Champions'],
  4: ['Promising', 'Potential loyalists', 'Potential loyalists', 'Loyal', 'Champions'],
  3: ['About to sleep', 'About to sleep', 'Need attention', 'Loyal', 'Loyal'],
  2: ['Hibernating', 'Hibernating', 'At risk', 'At risk', "Can't lose them"],
  1: ['Lost', 'Lost', 'At risk', 'At risk', "Can't lose them"],
};

describe('RFM segments and scores', () => {
  for (const r of [5, 4, 3, 2, 1]) {
    for (let fm = 1; fm <= 5; fm++) {
      test(`R ${r}, FM ${fm} is ${DOMAIN_TABLE[r]![fm - 1]}`, () => {
        assert.equal(RFM_SEGMENTS[segmentOf(r, fm)], DOMAIN_TABLE[r]![fm - 1]);
      });
    }
  }

  test('every segment is reached; scores outside 1-5 are refused', () => {
    const reached = new Set<string>();
    for (let r = 1; r <= 5; r++) for (let fm = 1; fm <= 5; fm++) reached.add(segmentOf(r, fm));
    assert.deepEqual([...reached].sort(), Object.keys(RFM_SEGMENTS).sort());
    assert.throws(() => segmentOf(0, 3), RangeError);
    assert.throws(() => segmentOf(3, 6), RangeError);
    assert.throws(() => fmScore(2.5, 3), RangeError);
  });

  test('FM = round((F + M) / 2), halves rounding up', () => {
    assert.equal(fmScore(1, 1), 1);
    assert.equal(fmScore(1, 2), 2);
    assert.equal(fmScore(2, 3), 3);
    assert.equal(fmScore(1, 5), 3);
    assert.equal(fmScore(4, 5), 5);
    assert.equal(fmScore(5, 5), 5);
  });

  test('score = 1 + ⌊5 · percent_rank⌋, capped at 5', () => {
    assert.deepEqual([0, 0.19, 0.2, 0.39, 0.4, 0.6, 0.79, 0.8, 0.99, 1].map(quintileScore), [1, 1, 2, 2, 3, 4, 4, 5, 5, 5]);
  });
});

describe('the rfm stage in SQL', () => {
  let db: Db;
  before(() => {
    db = new Db({ connectionString: process.env.DATABASE_URL!, max: 2 });
  });
  after(() => db.close());

  test('quintiles with ties: equal values share a score, fewer days score higher; the segment follows the table', async () => {
    const tenantId = crypto.randomUUID();
    const runId = crypto.randomUUID();
    // recency (days), orders, revenue of ten members.
    const rows: Array<[number, number, number]> = [
      [0, 9, 900], [0, 1, 100], [1, 5, 500], [2, 5, 500], [3, 2, 250], [3, 2, 250], [3, 7, 50], [10, 1, 100], [20, 3, 700], [30, 1, 10],
    ];
    const ids = rows.map(() => crypto.randomUUID());
    await db.query(
      `INSERT INTO analytics_member_scores (tenant_id, run_id, member_id, first_purchase_on, last_purchase_on, orders, purchase_days, revenue, t_x_days, t_days, recency_days)
       SELECT $1, $2, id, '2031-01-01', '2031-01-01', orders, orders, revenue, 0, 0, recency
         FROM unnest($3::uuid[], $4::int[], $5::int[], $6::bigint[]) AS u(id, recency, orders, revenue)`,
      [tenantId, runId, ids, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );
    const scope: RunScope = {
      tenantId, runId, asOf: '2031-01-31', end: new Date('2031-02-01T00:00:00Z'), timeZone: 'UTC', currency: 'EUR', minorPerMajor: 100,
      settings: DEFAULT_ANALYTICS_SETTINGS,
    };
    const { result, rows: scored } = await scoreRfm(db, scope);
    assert.equal(scored, 10);
    const got = await db.query(`SELECT member_id, r_score, f_score, m_score, segment FROM analytics_member_scores WHERE tenant_id = $1 AND run_id = $2`, [tenantId, runId]);
    const by = new Map(got.rows.map((r) => [r.member_id, r]));
    const col = (k: 'r_score' | 'f_score' | 'm_score') => ids.map((id) => by.get(id)[k]);
    // Recency, most days first: 30 (rank 1), 20, 10, 3 ×3 (rank 4), 2 (7), 1 (8), 0 ×2 (9); percent_rank = (rank − 1) / 9.
    assert.deepEqual(col('r_score'), [5, 5, 4, 4, 2, 2, 2, 2, 1, 1]);
    // Orders: 1 ×3 (rank 1), 2 ×2 (4), 3 (6), 5 ×2 (7), 7 (9), 9 (10).
    assert.deepEqual(col('f_score'), [5, 1, 4, 4, 2, 2, 5, 1, 3, 1]);
    // Revenue: 10, 50, 100 ×2 (rank 3), 250 ×2 (5), 500 ×2 (7), 700, 900.
    assert.deepEqual(col('m_score'), [5, 2, 4, 4, 3, 3, 1, 2, 5, 1]);
    for (const id of ids) {
      const r = by.get(id);
      assert.equal(r.segment, segmentOf(r.r_score, fmScore(r.f_score, r.m_score)));
    }
    assert.equal(by.get(ids[0]!).segment, 'champions');
    assert.equal(by.get(ids[9]!).segment, 'lost');
    assert.equal(result.members, 10);
    assert.deepEqual(result.scores.r.map((s) => s.members), [2, 4, 0, 2, 2]);
    assert.deepEqual(result.scores.r.map((s) => [s.min, s.max]), [[20, 30], [3, 10], [null, null], [1, 2], [0, 0]]);
    assert.equal(result.segments.reduce((n, s) => n + s.members, 0), 10);
    assert.equal(result.segments.reduce((n, s) => n + s.revenue, 0), rows.reduce((n, r) => n + r[2], 0));
    assert.equal(result.segments.find((s) => s.segment === 'champions')!.share_pct, 10);
    await db.query(`DELETE FROM analytics_member_scores WHERE tenant_id = $1`, [tenantId]);
  });
});

describe('the fit sample of a large base', () => {
  test('about cap of population members, chosen by a hash of the member id (the same members every time); everyone below the cap', async () => {
    assert.equal(sampleBound(1000, 100_000), 1 << 20);
    assert.equal(sampleBound(400_000, 100_000), (1 << 20) / 4);
    const db = new Db({ connectionString: process.env.DATABASE_URL!, max: 1 });
    try {
      const count = async (population: number, cap: number) =>
        (await db.query(`SELECT count(*) FILTER (WHERE ${inSample('id', '$2')})::int AS n FROM (SELECT md5(i::text)::uuid AS id FROM generate_series(1, $1) i) m`, [population, sampleBound(population, cap)])).rows[0].n as number;
      const n = await count(20_000, 2_000);
      assert.ok(Math.abs(n - 2_000) < 150, String(n));
      assert.equal(await count(20_000, 2_000), n, 'the same members');
      assert.equal(await count(1_500, 2_000), 1_500);
    } finally {
      await db.close();
    }
  });
});
