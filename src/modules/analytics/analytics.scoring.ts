/**
 * The scoring stage: every member's predictions from the run's fitted models, in batches of the run's member rows
 * (member id order, keyset), written back, then the CLV deciles in SQL (docs/analytics.md → CLV scoring).
 *
 * Per member, with x = purchase days − 1, t_x and T in the model's unit and m_x the repeat-day mean in major units:
 * P(alive), expected purchases in the next 30, 90 and 365 days (explicit durations, converted to the model's unit),
 * the expected order value (Gamma-Gamma; the population mean for members without a repeat purchase), CLV over the
 * settings' horizon in monthly periods with the margin and the annual discount rate, and historic CLV = revenue ×
 * margin. Without a BG/NBD model the predictions stay NULL; without a Gamma-Gamma model, the order value and CLV.
 * Money is written in minor units of the run's currency, rounded.
 */
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Tx } from '../../platform/db/db.js';
import { forecastCustomer, type BgNbdModel } from './clv/bgnbd.js';
import { customerLifetimeValue } from './clv/clv.js';
import { DAYS_PER_UNIT, days } from './clv/clv.types.js';
import { expectedOrderValue, type GammaGammaModel } from './clv/gamma-gamma.js';
import type { RunScope } from './analytics.types.js';

export const SCORING_BATCH = 5000;

const DAYS_PER_MONTH = 365 / 12;

interface Input {
  member_id: string;
  purchase_days: number;
  t_x_days: number;
  t_days: number;
  repeat_day_mean: number;
  revenue: number;
}

/** One member's predictions, money in minor units. */
export interface Prediction {
  member_id: string;
  p_alive: number | null;
  expected_30: number | null;
  expected_90: number | null;
  expected_365: number | null;
  expected_order_value: number | null;
  clv: number | null;
  historic_clv: number;
}

/** Predictions for one member's summary (pure; exported for the tests). */
export function predict(scope: RunScope, bg: BgNbdModel | null, gg: GammaGammaModel | null, m: Omit<Input, 'member_id'>): Omit<Prediction, 'member_id'> {
  const { margin, annual_discount_rate, horizon_months } = scope.settings.clv;
  const historic_clv = Math.round(m.revenue * margin);
  if (!bg) return { p_alive: null, expected_30: null, expected_90: null, expected_365: null, expected_order_value: null, clv: null, historic_clv };
  const perUnit = DAYS_PER_UNIT[bg.unit];
  const x = m.purchase_days - 1;
  const c = { x, t_x: m.t_x_days / perUnit, T: m.t_days / perUnit, m_x: x > 0 ? m.repeat_day_mean / scope.minorPerMajor : 0 };
  const f = forecastCustomer(bg, c);
  let eov: number | null = null;
  let clv: number | null = null;
  if (gg) {
    eov = expectedOrderValue(gg, c);
    if (eov !== null) {
      clv = customerLifetimeValue(bg, gg, c, {
        horizon: days(horizon_months * DAYS_PER_MONTH),
        period: days(DAYS_PER_MONTH),
        margin,
        annualDiscountRate: annual_discount_rate,
      })?.clv ?? null;
    }
  }
  // A NaN or an infinity would be stored as such (float8 takes them) and sort above every CLV: refuse it instead.
  for (const v of [f.pAlive, f.next30Days, f.next90Days, f.next365Days, eov ?? 0, clv ?? 0]) {
    if (!Number.isFinite(v)) throw new RangeError(`a prediction is not a finite number (x=${x}, t_x=${c.t_x}, T=${c.T})`);
  }
  const minor = (v: number | null) => (v === null ? null : Math.round(v * scope.minorPerMajor));
  return {
    p_alive: f.pAlive, expected_30: f.next30Days, expected_90: f.next90Days, expected_365: f.next365Days,
    expected_order_value: minor(eov), clv: minor(clv), historic_clv,
  };
}

/** `\N` for null, else the value as COPY's text format reads it (uuids and numbers need no escaping). */
const cell = (v: string | number | null) => (v === null ? '\\N' : String(v));

export interface ScoringResult {
  /** Members scored. */
  rows: number;
  /** Members whose predictions could not be computed (left NULL), and the first reason. */
  failed: number;
  firstError: string | null;
}

/**
 * The stage. `progress(rows)` is called after every batch with the members scored so far.
 * The predictions are copied (COPY) into a session table batch by batch and written to the run's rows by one UPDATE
 * that also sets the deciles: measured faster than an UPDATE … FROM unnest per batch plus a decile UPDATE (docs).
 * A member whose predictions fail numerically keeps NULL predictions and is counted: one member's corner of the
 * parameter space does not cost the tenant its run.
 */
export async function scoreMembers(client: Tx, scope: RunScope, bg: BgNbdModel | null, gg: GammaGammaModel | null, progress: (rows: number) => Promise<void>): Promise<ScoringResult> {
  await client.query(`DROP TABLE IF EXISTS pg_temp.analytics_predictions`);
  await client.query(
    `CREATE TEMPORARY TABLE analytics_predictions (
       member_id uuid, p_alive double precision, expected_30 double precision, expected_90 double precision, expected_365 double precision,
       expected_order_value bigint, clv bigint, historic_clv bigint)`,
  );
  let after: string | null = null;
  let done = 0;
  let failed = 0;
  let firstError: string | null = null;
  for (;;) {
    const batch: Input[] = (await client.query<Input>(
      `SELECT member_id, purchase_days, t_x_days, t_days, repeat_day_mean, revenue
         FROM analytics_member_scores
        WHERE tenant_id = $1 AND run_id = $2 AND ($3::uuid IS NULL OR member_id > $3)
        ORDER BY member_id LIMIT $4`,
      [scope.tenantId, scope.runId, after, SCORING_BATCH],
    )).rows;
    if (batch.length === 0) break;
    const lines: string[] = [];
    for (const m of batch) {
      let p: Omit<Prediction, 'member_id'>;
      try {
        p = predict(scope, bg, gg, m);
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
        p = { ...predict(scope, null, null, m) };
      }
      lines.push(
        `${m.member_id}\t${cell(p.p_alive)}\t${cell(p.expected_30)}\t${cell(p.expected_90)}\t${cell(p.expected_365)}\t${cell(p.expected_order_value)}\t${cell(p.clv)}\t${cell(p.historic_clv)}\n`,
      );
    }
    await pipeline(Readable.from([lines.join('')]), client.query(copyFrom(`COPY pg_temp.analytics_predictions FROM STDIN`)));
    done += batch.length;
    after = batch[batch.length - 1]!.member_id;
    await progress(done);
    if (batch.length < SCORING_BATCH) break;
  }
  // A session table is never analysed automatically: without statistics the UPDATE below may loop instead of hashing.
  await client.query(`ANALYZE pg_temp.analytics_predictions`);
  // Decile 10 is the top tenth by CLV: 1 + ⌊10 · percent_rank⌋ capped at 10, the RFM scores' rule, so equal CLVs
  // always share a decile (and a rerun gives the same deciles); no CLV, no decile.
  await client.query(
    `UPDATE analytics_member_scores s
        SET p_alive = p.p_alive, expected_30 = p.expected_30, expected_90 = p.expected_90, expected_365 = p.expected_365,
            expected_order_value = p.expected_order_value, clv = p.clv, historic_clv = p.historic_clv, clv_decile = p.decile
       FROM (SELECT *, CASE WHEN clv IS NULL THEN NULL ELSE least(10, 1 + floor(10 * percent_rank() OVER (PARTITION BY clv IS NULL ORDER BY clv))) END AS decile
               FROM pg_temp.analytics_predictions) p
      WHERE s.tenant_id = $1 AND s.run_id = $2 AND s.member_id = p.member_id`,
    [scope.tenantId, scope.runId],
  );
  await client.query(`DROP TABLE pg_temp.analytics_predictions`);
  return { rows: done, failed, firstError };
}
