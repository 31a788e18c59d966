/**
 * The bgnbd and gamma_gamma stages: the per-member summaries of the run, streamed from PostgreSQL into compact
 * objects in the model's time unit, fitted by the pure models of clv/ (docs/analytics/clv.md), stored in
 * analytics_models with their report. Nothing here holds a member id: the fits need only (x, t_x, T) and (x, m_x).
 *
 * When the tenant has orders after as_of, the BG/NBD report carries the holdout calibration over the days from
 * as_of + 1 to the last order day: per calibration frequency, the actual purchase days of the holdout beside the
 * model's expectation (FHL 2005, Figure 4, as chart data).
 */
import QueryStream from 'pg-query-stream';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { fitBgNbd, type BgNbdModel } from './clv/bgnbd.js';
import { holdoutCalibration, type HoldoutCalibration } from './clv/calibration.js';
import { DAYS_PER_UNIT, days, type CustomerSummary, type ModelWarning, type SummarySet } from './clv/clv.types.js';
import { fitGammaGamma, type GammaGammaModel } from './clv/gamma-gamma.js';
import { dayEnd, REPEAT_SPEND_TABLE } from './analytics.summary.js';
import * as store from './analytics.store.js';
import type { RunScope, RunStage, RunWarning } from './analytics.types.js';

/** Fewer repeat customers than this and a model is not fitted: its parameters would mean nothing. */
export const MIN_REPEATERS = 20;

const STREAM_BATCH = 10_000;

/** Rows of a query on the run's session, read through a cursor (never the whole result in memory). */
async function eachRow<R>(client: Tx, sql: string, values: unknown[], fn: (row: R) => void): Promise<void> {
  const rows = client.query(new QueryStream(sql, values as any[], { batchSize: STREAM_BATCH }));
  for await (const row of rows) fn(row as R);
}

const warning = (stage: RunStage, w: ModelWarning | { code: string; message: string }): RunWarning => ({ stage, code: w.code, message: w.message });

/** The holdout window: the days after as_of up to the tenant's last purchase day, when there is one. */
export interface Holdout {
  /** First and last day, YYYY-MM-DD, tenant's time zone. */
  from: string;
  to: string;
  days: number;
  end: Date;
}

async function holdoutOf(q: Queryable, scope: RunScope): Promise<Holdout | null> {
  const res = await q.query<{ last: string | null; from: string; days: number | null }>(
    `SELECT last, ($3::date + 1)::text AS "from", last - $3::date AS days
       FROM (SELECT (max(occurred_at) AT TIME ZONE $4)::date AS last
               FROM transactions
              WHERE tenant_id = $1 AND type = 'purchase' AND status = 'recorded' AND member_id IS NOT NULL AND occurred_at >= $2) m`,
    [scope.tenantId, scope.end, scope.asOf, scope.timeZone],
  );
  const row = res.rows[0]!;
  if (row.last === null || row.days === null || row.days <= 0) return null;
  return { from: row.from, to: row.last, days: row.days, end: await dayEnd(q, row.last, scope.timeZone) };
}

export interface BgNbdStageResult {
  model: BgNbdModel | null;
  calibration: (HoldoutCalibration & { from: string; to: string }) | null;
  customers: number;
  warnings: RunWarning[];
}

/** The bgnbd stage. */
export async function fitBgNbdStage(client: Tx, scope: RunScope): Promise<BgNbdStageResult> {
  const unit = scope.settings.clv.time_unit;
  const perUnit = DAYS_PER_UNIT[unit];
  const holdout = await holdoutOf(client, scope);
  const customers: CustomerSummary[] = [];
  let repeaters = 0;
  // x_star: the member's purchase days in the holdout (counted like the summary's days, returns as they stand now).
  await eachRow<{ x: number; tx: number; t: number; x_star: number | null }>(
    client,
    `SELECT s.purchase_days - 1 AS x, s.t_x_days AS tx, s.t_days AS t, h.x_star
       FROM analytics_member_scores s
       LEFT JOIN (SELECT member_id, count(DISTINCT (occurred_at AT TIME ZONE $4)::date)::int AS x_star
                    FROM transactions
                   WHERE tenant_id = $1 AND type = 'purchase' AND status = 'recorded' AND member_id IS NOT NULL
                     AND occurred_at >= $3 AND occurred_at < $5 AND total > returned_total
                   GROUP BY member_id) h ON h.member_id = s.member_id
      WHERE s.tenant_id = $1 AND s.run_id = $2`,
    [scope.tenantId, scope.runId, scope.end, scope.timeZone, holdout?.end ?? scope.end],
    (r) => {
      if (r.x > 0) repeaters++;
      const c: CustomerSummary = { id: '', x: r.x, t_x: r.tx / perUnit, T: r.t / perUnit, m_x: 0 };
      if (holdout) c.x_star = r.x_star ?? 0;
      customers.push(c);
    },
  );
  const set: SummarySet = { unit, customers };
  if (repeaters < MIN_REPEATERS) {
    return {
      model: null, calibration: null, customers: customers.length,
      warnings: [warning('bgnbd', { code: 'too_few_customers', message: `BG/NBD not fitted: ${repeaters} members with a repeat purchase, at least ${MIN_REPEATERS} are needed. P(alive), expected purchases and CLV are left empty.` })],
    };
  }
  let model: BgNbdModel;
  try {
    model = fitBgNbd(set, { penalty: scope.settings.clv.l2_penalty });
  } catch (err) {
    return {
      model: null, calibration: null, customers: customers.length,
      warnings: [warning('bgnbd', { code: 'fit_failed', message: `BG/NBD could not be fitted: ${err instanceof Error ? err.message : String(err)}` })],
    };
  }
  const calibration = holdout ? { ...holdoutCalibration(model, set, days(holdout.days)), from: holdout.from, to: holdout.to } : null;
  await store.insertModel(client, scope.tenantId, scope.runId, {
    kind: 'bgnbd',
    time_unit: model.unit,
    params: { ...model.params },
    log_likelihood: model.logLikelihood,
    converged: model.convergence.converged,
    iterations: model.convergence.iterations,
    customers: model.customers,
    warnings: model.warnings.map((w) => w.code),
    report: { penalty: model.penalty, convergence: model.convergence, identification: model.identification, warnings: model.warnings, calibration },
  });
  return { model, calibration, customers: customers.length, warnings: model.warnings.map((w) => warning('bgnbd', w)) };
}

export interface GammaGammaStageResult {
  model: GammaGammaModel | null;
  customers: number;
  warnings: RunWarning[];
}

/** The gamma_gamma stage: on the repeaters' exact repeat-day means (major units), from the summary's session table. */
export async function fitGammaGammaStage(client: Tx, scope: RunScope): Promise<GammaGammaStageResult> {
  const customers: CustomerSummary[] = [];
  await eachRow<{ x: number; total: number }>(client, `SELECT x, total FROM ${REPEAT_SPEND_TABLE}`, [], (r) => {
    if (r.total > 0) customers.push({ id: '', x: r.x, t_x: 0, T: 0, m_x: r.total / r.x / scope.minorPerMajor });
  });
  await client.query(`DROP TABLE IF EXISTS ${REPEAT_SPEND_TABLE}`);
  if (customers.length < MIN_REPEATERS) {
    return {
      model: null, customers: customers.length,
      warnings: [warning('gamma_gamma', { code: 'too_few_customers', message: `Gamma-Gamma not fitted: ${customers.length} members with a paid repeat purchase, at least ${MIN_REPEATERS} are needed. Expected order values and CLV are left empty.` })],
    };
  }
  let model: GammaGammaModel;
  try {
    // The settings' L2 penalty is the BG/NBD's (analytics.types.ts): the spend model is plain maximum likelihood.
    model = fitGammaGamma({ unit: scope.settings.clv.time_unit, customers });
  } catch (err) {
    return {
      model: null, customers: customers.length,
      warnings: [warning('gamma_gamma', { code: 'fit_failed', message: `Gamma-Gamma could not be fitted: ${err instanceof Error ? err.message : String(err)}` })],
    };
  }
  await store.insertModel(client, scope.tenantId, scope.runId, {
    kind: 'gamma_gamma',
    time_unit: null,
    params: { ...model.params },
    log_likelihood: model.logLikelihood,
    converged: model.convergence.converged,
    iterations: model.convergence.iterations,
    customers: model.customers,
    warnings: model.warnings.map((w) => w.code),
    report: {
      currency: scope.currency, penalty: model.penalty, convergence: model.convergence, independence: model.independence,
      population_mean_spend: model.populationMeanSpend, warnings: model.warnings,
    },
  });
  return { model, customers: model.customers, warnings: model.warnings.map((w) => warning('gamma_gamma', w)) };
}
