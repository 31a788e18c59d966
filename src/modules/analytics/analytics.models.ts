/**
 * The bgnbd and gamma_gamma stages: the per-member summaries of the run, streamed from PostgreSQL into compact
 * objects in the model's time unit, fitted by the pure models of clv/ (docs/analytics/clv.md), stored in
 * analytics_models with their report. Nothing here holds a member id: the fits need only (x, t_x, T) and (x, m_x).
 *
 * When the tenant has orders after as_of, the BG/NBD report carries the holdout calibration over the days from
 * as_of + 1 to the last order day: per calibration frequency, the actual purchase days of the holdout beside the
 * model's expectation (FHL 2005, Figure 4, as chart data).
 *
 * A large base is fitted on a sample: above MAX_FIT_CUSTOMERS members (MAX_FIT_REPEATERS repeat customers for the
 * Gamma-Gamma) the likelihood is maximised over a pseudo-random sample of about that many, chosen by a hash of the
 * member id (the same members in every run). The optimiser evaluates the likelihood some 800 times, so its time
 * grows with the customers fitted; at 100,000 the parameters' sampling error is far below anything a CLV shows. The
 * calibration and the scoring still cover every member.
 */
import QueryStream from 'pg-query-stream';
import type { Queryable, Tx } from '../../platform/db/db.js';
import { fitBgNbd, type BgNbdModel } from './clv/bgnbd.js';
import { holdoutCalibration, type HoldoutCalibration } from './clv/calibration.js';
import { DAYS_PER_UNIT, days, type CustomerSummary, type ModelWarning, type SummarySet } from './clv/clv.types.js';
import { fitGammaGamma, type GammaGammaModel } from './clv/gamma-gamma.js';
import { countedPurchasesCtes } from './analytics.purchases.js';
import { dayEnd, REPEAT_SPEND_TABLE } from './analytics.summary.js';
import * as store from './analytics.store.js';
import type { RunScope, RunStage, RunWarning } from './analytics.types.js';

/** Fewer repeat customers than this and a model is not fitted: its parameters would mean nothing. */
export const MIN_REPEATERS = 20;
/** The most members the BG/NBD is fitted on (a sample above it). */
export const MAX_FIT_CUSTOMERS = 100_000;
/** The most repeat customers the Gamma-Gamma is fitted on (its likelihood costs about twice the BG/NBD's per row). */
export const MAX_FIT_REPEATERS = 50_000;

/** The members' hash is taken modulo this; a member is in the sample when its hash falls below sampleBound(). */
const HASH_RANGE = 1 << 20;
/** The hash bound that keeps about `cap` of `population` rows (all of them when the population is small enough). */
export const sampleBound = (population: number, cap: number) => (population <= cap ? HASH_RANGE : Math.floor((cap / population) * HASH_RANGE));
/** SQL: whether the member in `column` is in the sample whose bound is the parameter `param`. */
export const inSample = (column: string, param: string) => `(hashtextextended(${column}::text, 0) & ${HASH_RANGE - 1}) < ${param}`;

const STREAM_BATCH = 10_000;

/**
 * The members' counted purchases of the holdout (analytics.purchases.ts): dated from the run's end ($3) up to the
 * holdout's end ($5), with the returns dated before the holdout's end; the currency does not matter to a count ($7).
 */
const HOLDOUT_PURCHASES = countedPurchasesCtes('holdout', { tenant: '$1', since: '$3', end: '$5', timeZone: '$4', currency: '$7', customers: 'members' });

/** Rows of a query on the run's session, read through a cursor (never the whole result in memory). */
async function eachRow<R>(client: Tx, sql: string, values: unknown[], fn: (row: R) => void): Promise<void> {
  const rows = client.query(new QueryStream(sql, values as any[], { batchSize: STREAM_BATCH }));
  for await (const row of rows) fn(row as R);
}

const warning = (stage: RunStage, w: ModelWarning | { code: string; message: string }): RunWarning => ({ stage, code: w.code, message: w.message });

/**
 * The shortest holdout judged: a nightly run as of yesterday has today's few orders after it, and a day or two of
 * purchases says nothing about a model that forecasts months (most members buy less than once a month).
 */
export const MIN_HOLDOUT_DAYS = 28;

/** The holdout window: the days after as_of up to the tenant's last purchase day, when there are MIN_HOLDOUT_DAYS or more. */
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
  if (row.last === null || row.days === null || row.days < MIN_HOLDOUT_DAYS) return null;
  return { from: row.from, to: row.last, days: row.days, end: await dayEnd(q, row.last, scope.timeZone) };
}

export interface BgNbdStageResult {
  model: BgNbdModel | null;
  calibration: (HoldoutCalibration & { from: string; to: string }) | null;
  /** Members the model was fitted on, of `population`. */
  customers: number;
  population: number;
  warnings: RunWarning[];
}

/** The bgnbd stage; `members`: the run's members (from the summary), to size the sample. */
export async function fitBgNbdStage(client: Tx, scope: RunScope, members: number): Promise<BgNbdStageResult> {
  const unit = scope.settings.clv.time_unit;
  const perUnit = DAYS_PER_UNIT[unit];
  const holdout = await holdoutOf(client, scope);
  // Every member's summary is kept only for the calibration; the fit takes the sample.
  const all: CustomerSummary[] = [];
  const fitted: CustomerSummary[] = [];
  let repeaters = 0;
  // x_star: the member's purchase days in the holdout, counted like the summary's days as of the holdout's end.
  await eachRow<{ x: number; tx: number; t: number; x_star: number | null; in_sample: boolean }>(
    client,
    `WITH ${HOLDOUT_PURCHASES}
     SELECT s.purchase_days - 1 AS x, s.t_x_days AS tx, s.t_days AS t, h.x_star, ${inSample('s.member_id', '$6')} AS in_sample
       FROM analytics_member_scores s
       LEFT JOIN (SELECT member_id, count(DISTINCT day)::int AS x_star FROM holdout GROUP BY member_id) h ON h.member_id = s.member_id
      WHERE s.tenant_id = $1 AND s.run_id = $2`,
    [scope.tenantId, scope.runId, scope.end, scope.timeZone, holdout?.end ?? scope.end, sampleBound(members, MAX_FIT_CUSTOMERS), scope.currency],
    (r) => {
      if (!r.in_sample && !holdout) return;
      const c: CustomerSummary = { id: '', x: r.x, t_x: r.tx / perUnit, T: r.t / perUnit, m_x: 0 };
      if (holdout) {
        c.x_star = r.x_star ?? 0;
        all.push(c);
      }
      if (r.in_sample) {
        if (r.x > 0) repeaters++;
        fitted.push(c);
      }
    },
  );
  const population = holdout ? all.length : members;
  const set: SummarySet = { unit, customers: fitted };
  if (repeaters < MIN_REPEATERS) {
    return {
      model: null, calibration: null, customers: fitted.length, population,
      warnings: [warning('bgnbd', { code: 'too_few_customers', message: `BG/NBD not fitted: ${repeaters} members with a repeat purchase, at least ${MIN_REPEATERS} are needed. P(alive), expected purchases and CLV are left empty.` })],
    };
  }
  let model: BgNbdModel;
  try {
    model = fitBgNbd(set, { penalty: scope.settings.clv.l2_penalty });
  } catch (err) {
    return {
      model: null, calibration: null, customers: fitted.length, population,
      warnings: [warning('bgnbd', { code: 'fit_failed', message: `BG/NBD could not be fitted: ${err instanceof Error ? err.message : String(err)}` })],
    };
  }
  const calibration = holdout ? { ...holdoutCalibration(model, { unit, customers: all }, days(holdout.days)), from: holdout.from, to: holdout.to } : null;
  await store.insertModel(client, scope.tenantId, scope.runId, {
    kind: 'bgnbd',
    time_unit: model.unit,
    params: { ...model.params },
    log_likelihood: model.logLikelihood,
    converged: model.convergence.converged,
    iterations: model.convergence.iterations,
    customers: model.customers,
    warnings: model.warnings.map((w) => w.code),
    report: { population, penalty: model.penalty, convergence: model.convergence, identification: model.identification, warnings: model.warnings, calibration },
  });
  return { model, calibration, customers: fitted.length, population, warnings: model.warnings.map((w) => warning('bgnbd', w)) };
}

export interface GammaGammaStageResult {
  model: GammaGammaModel | null;
  /** Repeat customers with spend the model was fitted on, of `population`. */
  customers: number;
  population: number;
  warnings: RunWarning[];
}

/**
 * The gamma_gamma stage: on the repeaters' exact repeat-day means (major units), from the summary's session table.
 * `repeaters`: how many rows that table has (from the summary), to size the sample.
 */
export async function fitGammaGammaStage(client: Tx, scope: RunScope, repeaters: number): Promise<GammaGammaStageResult> {
  const customers: CustomerSummary[] = [];
  let population = 0;
  await eachRow<{ x: number; total: number; in_sample: boolean }>(
    client,
    `SELECT x, total, ${inSample('member_id', '$1')} AS in_sample FROM ${REPEAT_SPEND_TABLE} WHERE total > 0`,
    [sampleBound(repeaters, MAX_FIT_REPEATERS)],
    (r) => {
      population++;
      if (r.in_sample) customers.push({ id: '', x: r.x, t_x: 0, T: 0, m_x: r.total / r.x / scope.minorPerMajor });
    },
  );
  await client.query(`DROP TABLE IF EXISTS ${REPEAT_SPEND_TABLE}`);
  if (customers.length < MIN_REPEATERS) {
    return {
      model: null, customers: customers.length, population,
      warnings: [warning('gamma_gamma', { code: 'too_few_customers', message: `Gamma-Gamma not fitted: ${customers.length} members with a paid repeat purchase, at least ${MIN_REPEATERS} are needed. Expected order values and CLV are left empty.` })],
    };
  }
  let model: GammaGammaModel;
  try {
    // The settings' L2 penalty is the BG/NBD's (analytics.types.ts): the spend model is plain maximum likelihood.
    model = fitGammaGamma({ unit: scope.settings.clv.time_unit, customers });
  } catch (err) {
    return {
      model: null, customers: customers.length, population,
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
      population, currency: scope.currency, penalty: model.penalty, convergence: model.convergence, independence: model.independence,
      population_mean_spend: model.populationMeanSpend, warnings: model.warnings,
    },
  });
  return { model, customers: model.customers, population, warnings: model.warnings.map((w) => warning('gamma_gamma', w)) };
}
