/**
 * The at-risk list (docs/analytics/at-risk.md): members with a high predicted CLV and at least one sign that they
 * may leave — a low P(alive), an NPS detractor answer, a breached support case, a purchase rate well below their
 * own — ranked by the money at risk, each with its reasons.
 *
 * The stage runs in the analytics run after scoring (RUN_STAGES: … 'scoring', 'at_risk', …) and writes its verdict
 * onto the run's member rows (analytics_member_scores) in one statement; publishing copies them to member_analytics,
 * which campaign audiences read (targets.ts). The list and its CSV are read from a run's rows.
 */
import { spreadsheetSafe } from '../../../platform/csv.js';
import { pipeline, Transform, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Db, Queryable } from '../../../platform/db/db.js';
import { errors } from '../../../platform/errors.js';
import type { ResultView, RiskReason, RunScope, StageRegistration } from '../analytics.types.js';
import { AtRiskResultSchema, RISK_REASONS, type AtRiskResult } from './at-risk.schema.js';
import * as store from './at-risk.store.js';
import type { AtRiskRow, RunRow } from './at-risk.store.js';

export { RISK_REASONS };
export type { AtRiskResult };

/**
 * falling_rate is judged only when the member's own earlier rate expects at least this many purchase days in the
 * recent window. Below it, silence is what the member's rate predicts anyway: with 1 expected purchase day an
 * unchanged Poisson buyer shows none 37% of the time, with 2 only 13.5% (and the rule needs fewer than half).
 */
export const MIN_EXPECTED_DAYS = 2;

/** The rule's parameters for a run: its settings copy plus the fixed minimum expectation. */
export function ruleOf(scope: RunScope): store.RuleParams {
  const s = scope.settings.at_risk;
  return {
    min_clv_decile: s.min_clv_decile, p_alive_below: s.p_alive_below, rate_ratio_below: s.rate_ratio_below,
    recent_days: s.recent_days, lookback_days: s.lookback_days, min_expected_days: MIN_EXPECTED_DAYS,
  };
}

/**
 * The at_risk stage: judges every candidate of the run (one UPDATE), then counts the list per reason and segment.
 * Idempotent: run twice, the second run writes nothing and returns the same document.
 */
export async function runAtRisk(q: Queryable, scope: RunScope): Promise<AtRiskResult> {
  const rule = ruleOf(scope);
  await store.scoreAtRisk(q, scope, rule);
  const c = await store.atRiskCounts(q, scope.tenantId, scope.runId, rule.min_clv_decile);
  const byReason = new Map(c.reasons.map((r) => [r.reason, r]));
  return {
    as_of: scope.asOf,
    currency: scope.currency,
    rule,
    candidates: c.candidates,
    rate_judged: c.rate_judged,
    at_risk: c.at_risk,
    value_at_risk: c.value_at_risk,
    by_reason: RISK_REASONS.map((reason) => ({ reason, members: byReason.get(reason)?.members ?? 0, value_at_risk: byReason.get(reason)?.value_at_risk ?? 0 })),
    by_segment: c.segments,
  };
}

export const atRiskStage: StageRegistration = { stage: 'at_risk', kind: 'at_risk', run: runAtRisk };

/** The stage's result document, served by the pipeline's result routes (the list itself is at-risk.routes.ts). */
export const atRiskView: ResultView = {
  kind: 'at_risk',
  path: '/v1/analytics/at-risk/summary',
  summary: 'The at-risk list of a run in numbers: members and money at risk per reason and RFM segment',
  schema: AtRiskResultSchema,
};

// ── The list ────────────────────────────────────────────────────────────────

export interface AtRiskFilter {
  runId?: string | undefined;
  reason?: RiskReason | undefined;
}

/**
 * The run a list is read from: the one asked for (404 unless it is this tenant's; 422 unless it succeeded), or the
 * newest published run, or null when none has been published yet.
 */
export async function runFor(q: Queryable, tenantId: string, runId: string | undefined): Promise<RunRow | null> {
  if (runId === undefined) return store.newestPublishedRun(q, tenantId);
  const run = await store.getRun(q, tenantId, runId);
  if (!run) throw errors.notFound('analytics run', runId);
  if (run.status !== 'succeeded') throw errors.unprocessable(`The run is ${run.status}: its at-risk list is read once it has succeeded.`, [{ field: 'run_id', detail: `the run is ${run.status}` }]);
  return run;
}

export interface AtRiskPage {
  run: RunRow | null;
  rows: AtRiskRow[];
}

/** A page of the list (`limit + 1` rows are read: the route's pager uses the extra one). */
export async function listAtRisk(q: Queryable, tenantId: string, f: AtRiskFilter & { after?: { v: number; id: string } | undefined; limit: number }): Promise<AtRiskPage> {
  const run = await runFor(q, tenantId, f.runId);
  if (!run) return { run: null, rows: [] };
  return { run, rows: await store.listAtRisk(q, tenantId, run.id, { reason: f.reason, after: f.after, limit: f.limit }) };
}

// ── CSV ─────────────────────────────────────────────────────────────────────

export const CSV_COLUMNS = [
  'member_id', 'external_id', 'email', 'first_name', 'last_name', 'risk_reasons', 'value_at_risk', 'currency', 'clv', 'clv_decile',
  'p_alive', 'segment', 'last_purchase_on', 'recency_days', 'recent_rate_ratio',
] as const;

/** A CSV cell: text made spreadsheet-safe (platform/csv.ts); numbers are written as numbers and never touched. */
const csvCell = (v: unknown): unknown => (typeof v === 'string' ? spreadsheetSafe(v) : v);

/**
 * The list as CSV text, streamed (the table is never in memory), the most money at risk first. The run is resolved
 * before the first byte, so an unknown run is a plain 404. Null when no run has been published yet.
 */
export async function atRiskCsv(db: Db, tenantId: string, f: AtRiskFilter): Promise<{ run: RunRow | null; body: Readable }> {
  const run = await runFor(db, tenantId, f.runId);
  const encode = stringify({ header: true, columns: [...CSV_COLUMNS] });
  if (!run) {
    encode.end();
    return { run: null, body: encode };
  }
  const rows = await store.streamAtRisk(db, tenantId, run.id, f.reason);
  const toRecord = new Transform({
    objectMode: true,
    transform(r: AtRiskRow, _enc, done) {
      const record: Record<(typeof CSV_COLUMNS)[number], unknown> = { ...r, risk_reasons: r.risk_reasons.join(';'), currency: run.currency };
      done(null, CSV_COLUMNS.map((c) => csvCell(record[c])));
    },
  });
  // An error on the way (or the client going away) destroys every stage; the stream then discards its connection.
  return { run, body: pipeline(rows, toRecord, encode, () => undefined) };
}
