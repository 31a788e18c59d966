/**
 * The analytics module's service (docs/analytics.md): settings, runs (analytics.runs.ts does the work) and the reads
 * the API answers from the stored results: the CLV model report, RFM migrations between two days, per-member scores
 * (a page, or a CSV stream), a member's current analytics, and the stored result documents of other stages.
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { spreadsheetSafe } from '../../platform/csv.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { isUuid } from '../../platform/ids.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { CalibrationBin, HoldoutCalibration } from './clv/calibration.js';
import { checkDay } from './analytics.days.js';
import { localDate } from '../programs/programs.policy.js';
import { addDays, AnalyticsRuns } from './analytics.runs.js';
import { settingsErrors, withDefaults, type AnalyticsSettingsInput } from './analytics.settings.js';
import * as store from './analytics.store.js';
import type { MemberScoreRow, RunRow, ScoreFilter } from './analytics.store.js';
import { RFM_SEGMENTS, RUN_STAGES, type AnalyticsSettings, type RfmSegment, type RunProgress, type RunStatus, type StageRegistration } from './analytics.types.js';

export interface AnalyticsDeps {
  db: Db;
  clock: Clock;
  jobs: Jobs;
  programs: Pick<ProgramsService, 'get'>;
  members: Pick<MembersService, 'findOr404'>;
  log: Logger;
}

/** A run as the API shows it. */
export interface RunView extends Omit<RunRow, 'settings' | 'progress'> {
  settings: AnalyticsSettings;
  progress: RunProgress;
}

/** Days the default `from` of the RFM migrations lies before `to`. */
export const MIGRATION_DEFAULT_DAYS = 30;

const SEGMENT_KEYS = Object.keys(RFM_SEGMENTS) as RfmSegment[];

export class AnalyticsService {
  readonly runs: AnalyticsRuns;

  constructor(private readonly deps: AnalyticsDeps) {
    this.runs = new AnalyticsRuns({ db: deps.db, clock: deps.clock, jobs: deps.jobs, programs: deps.programs, log: deps.log, settings: async (q, t) => (await this.settings(q, t)).settings });
  }

  /** See AnalyticsRuns.registerStage: how other analytics modules add a stage to every run. */
  registerStage(reg: StageRegistration): void {
    this.runs.registerStage(reg);
  }

  // ── Settings ──────────────────────────────────────────────────────────────────

  async settings(q: Queryable, tenantId: string): Promise<{ settings: AnalyticsSettings; updated_at: Date | null }> {
    const row = await store.getSettings(q, tenantId);
    return { settings: withDefaults(row?.settings), updated_at: row?.updated_at ?? null };
  }

  checkSettings(body: unknown): FieldError[] {
    return settingsErrors(body);
  }

  /** Replaces the settings; fields left out take their defaults. New runs use them; queued runs keep their copy. */
  async putSettings(tx: Tx, tenantId: string, input: AnalyticsSettingsInput): Promise<AnalyticsSettings & { updated_at: Date }> {
    const errs = settingsErrors(input);
    if (errs.length) throw errors.validation(errs);
    const settings = withDefaults(input);
    const now = this.deps.clock.now();
    await store.putSettings(tx, tenantId, settings, now);
    await emit(tx, { tenantId, type: 'analytics_settings.updated', aggregateType: 'tenant', aggregateId: tenantId, occurredAt: now, payload: { fields: Object.keys(input) } });
    return { ...settings, updated_at: now };
  }

  // ── Runs ──────────────────────────────────────────────────────────────────────

  async queueRun(tx: Tx, tenantId: string, input: { as_of?: string }): Promise<RunView> {
    return runView(await this.runs.queue(tx, tenantId, input, 'api'));
  }

  async getRun(q: Queryable, tenantId: string, id: string): Promise<RunView> {
    const run = isUuid(id) ? await store.getRun(q, tenantId, id) : null;
    if (!run) throw errors.notFound('analytics run', id);
    return runView(run);
  }

  async listRuns(q: Queryable, tenantId: string, opts: { beforeId?: string; status?: RunStatus; limit: number }): Promise<RunView[]> {
    return (await store.listRuns(q, tenantId, opts)).map(runView);
  }

  /**
   * The run a read is about: `runId` (it must have succeeded), or the latest succeeded run (the newest as_of).
   * 404 when there is none or `runId` is not a run of the tenant; 422 naming run_id when it is one that has not
   * succeeded (it exists, but results exist only for succeeded runs).
   */
  async succeededRun(q: Queryable, tenantId: string, runId?: string): Promise<RunRow> {
    if (runId !== undefined) {
      const run = isUuid(runId) ? await store.getRun(q, tenantId, runId) : null;
      if (!run) throw errors.notFound('analytics run', runId);
      if (run.status !== 'succeeded') {
        const detail = `the run is ${run.status}: results exist only for succeeded runs`;
        throw errors.unprocessable(`run_id: ${detail}`, [{ field: 'run_id', detail }]);
      }
      return run;
    }
    const run = await store.latestSucceeded(q, tenantId);
    if (!run) throw errors.notFound('succeeded analytics run: queue one with POST /v1/analytics/runs');
    return run;
  }

  // ── Reads ─────────────────────────────────────────────────────────────────────

  /** The CLV model report of a run: both models' parameters, fit and warnings, and the holdout calibration. */
  async model(q: Queryable, tenantId: string, runId?: string): Promise<ModelView> {
    const run = await this.succeededRun(q, tenantId, runId);
    const models = await store.getModels(q, tenantId, run.id);
    const bg = models.find((m) => m.kind === 'bgnbd');
    const gg = models.find((m) => m.kind === 'gamma_gamma');
    const report = (m: store.ModelRow | undefined) => (m?.report ?? {}) as Record<string, any>;
    const calibration = report(bg).calibration as (HoldoutCalibration & { from: string; to: string }) | null | undefined;
    return {
      run_id: run.id,
      as_of: run.as_of,
      computed_at: run.finished_at,
      currency: run.currency,
      time_unit: (bg?.time_unit ?? withDefaults(run.settings).clv.time_unit) as 'day' | 'week',
      bgnbd: bg
        ? {
            time_unit: bg.time_unit as 'day' | 'week',
            params: bg.params as { r: number; alpha: number; a: number; b: number },
            log_likelihood: bg.log_likelihood,
            penalty: report(bg).penalty ?? 0,
            converged: bg.converged,
            iterations: bg.iterations,
            customers: bg.customers,
            population: report(bg).population ?? bg.customers,
            gradient_norm: report(bg).convergence?.gradientNorm ?? null,
            dropout_identified: report(bg).identification?.identified ?? null,
            warnings: report(bg).warnings ?? [],
          }
        : null,
      gamma_gamma: gg
        ? {
            params: gg.params as { p: number; q: number; gamma: number },
            currency: run.currency,
            log_likelihood: gg.log_likelihood,
            converged: gg.converged,
            iterations: gg.iterations,
            customers: gg.customers,
            population: report(gg).population ?? gg.customers,
            population_mean_spend: report(gg).population_mean_spend ?? null,
            spend_frequency_correlation: report(gg).independence
              ? { pearson: report(gg).independence.pearson, spearman: report(gg).independence.spearman }
              : null,
            warnings: report(gg).warnings ?? [],
          }
        : null,
      calibration: calibration
        ? {
            from: calibration.from,
            to: calibration.to,
            holdout_days: calibration.holdout.value,
            actual_total: calibration.actualTotal,
            predicted_total: calibration.predictedTotal,
            relative_error: calibration.relativeError,
            bins: calibration.bins.map((b: CalibrationBin) => ({
              x: b.x, label: b.label, customers: b.customers, actual_total: b.actualTotal, predicted_total: b.predictedTotal,
              actual_mean: b.actualMean, predicted_mean: b.predictedMean,
            })),
          }
        : null,
      warnings: (run.summary?.warnings ?? []).filter((w) => w.stage === 'bgnbd' || w.stage === 'gamma_gamma'),
    };
  }

  /**
   * Members moving between RFM segments from one day to another: the latest succeeded run as of each day (`to`
   * default today in the tenant's time zone, `from` default MIGRATION_DEFAULT_DAYS before `to`). With no run as of
   * `from`, every member of the `to` run is entering.
   */
  async migrations(q: Queryable, tenantId: string, range: { from?: string; to?: string }): Promise<MigrationsView> {
    checkDay('from', range.from);
    checkDay('to', range.to);
    let to = range.to;
    if (to === undefined) to = localDate(this.deps.clock.now(), (await this.deps.programs.get(q, tenantId)).time_zone);
    const from = range.from ?? addDays(to, -MIGRATION_DEFAULT_DAYS);
    if (from >= to) throw errors.field('from', `must be before to (${to})`);
    const toRun = await store.latestSucceeded(q, tenantId, to);
    if (!toRun) throw errors.notFound(`succeeded analytics run as of ${to} or earlier`);
    const fromRun = await store.latestSucceeded(q, tenantId, from);
    if (fromRun?.id === toRun.id) {
      const detail = `both dates fall on the run as of ${toRun.as_of}; choose dates further apart`;
      throw errors.unprocessable(`from: ${detail}`, [{ field: 'from', detail }]);
    }
    const flows = await store.segmentFlows(q, tenantId, fromRun?.id ?? null, toRun.id);
    const index = (s: string | null) => (s === null ? -1 : SEGMENT_KEYS.indexOf(s as RfmSegment));
    const counts = SEGMENT_KEYS.map(() => SEGMENT_KEYS.map(() => 0));
    const entering = SEGMENT_KEYS.map(() => 0);
    const leaving = SEGMENT_KEYS.map(() => 0);
    let membersFrom = 0;
    let membersTo = 0;
    for (const f of flows) {
      const i = index(f.from);
      const j = index(f.to);
      if (f.from !== null) membersFrom += f.members;
      if (f.to !== null) membersTo += f.members;
      if (i >= 0 && j >= 0) counts[i]![j]! += f.members;
      else if (j >= 0) entering[j]! += f.members;
      else if (i >= 0) leaving[i]! += f.members;
    }
    const ref = (r: RunRow | null) => (r ? { run_id: r.id, as_of: r.as_of } : null);
    return { from, to, from_run: ref(fromRun), to_run: ref(toRun)!, segments: SEGMENT_KEYS, counts, entering, leaving, members_from: membersFrom, members_to: membersTo };
  }

  /** A page of a run's per-member scores (member id order). */
  async members(q: Queryable, tenantId: string, f: Omit<ScoreFilter, 'runId'> & { runId?: string }, afterId: string | undefined, limit: number): Promise<{ run: RunRow; rows: MemberScoreRow[] }> {
    const run = await this.succeededRun(q, tenantId, f.runId);
    return { run, rows: await store.listScores(q, tenantId, { ...f, runId: run.id }, afterId, limit) };
  }

  /** The same as CSV text, streamed (one database cursor, bounded memory). 404 before the first byte. */
  async membersCsv(tenantId: string, f: Omit<ScoreFilter, 'runId'> & { runId?: string }): Promise<{ run: RunRow; body: Readable }> {
    const run = await this.succeededRun(this.deps.db, tenantId, f.runId);
    const { sql, values } = store.scoresQuery(tenantId, { ...f, runId: run.id }, {});
    const rows = await this.deps.db.stream(sql, values);
    const toRecord = new Transform({
      objectMode: true,
      transform(row: MemberScoreRow, _enc, done) {
        done(null, [...store.MEMBER_SCORE_COLUMNS.map((c) => csvCell(row[c])), run.currency]);
      },
    });
    // An error on the way (or the client going away) destroys every stage; the stream then discards its connection.
    const body = pipeline(rows, toRecord, stringify({ header: true, columns: [...store.MEMBER_SCORE_COLUMNS, 'currency'] }), () => undefined);
    return { run, body };
  }

  /** A member's current analytics (member_analytics: the published run's row). */
  async memberAnalytics(q: Queryable, tenantId: string, memberId: string): Promise<store.MemberAnalyticsRow> {
    const row = isUuid(memberId) ? await store.getMemberAnalytics(q, tenantId, memberId) : null;
    if (row) return row;
    await this.deps.members.findOr404(q, tenantId, memberId);
    throw errors.notFound(`analytics of member ${memberId}: no published run includes the member yet (members with at least one purchase are scored)`);
  }

  /** GDPR export: the member's current analytics (the published run's row), or null when no run includes them. */
  async exportMember(q: Queryable, tenantId: string, memberId: string): Promise<store.MemberAnalyticsRow | null> {
    return store.getMemberAnalytics(q, tenantId, memberId);
  }

  /** GDPR erasure: deletes the member's current analytics and their scores in every run (in the erasure's transaction). */
  async eraseMember(tx: Queryable, tenantId: string, memberId: string): Promise<void> {
    await store.eraseMember(tx, tenantId, memberId);
  }

  /** A stored result document of a run (`runId` or the latest succeeded run). */
  async result(q: Queryable, tenantId: string, kind: string, runId?: string): Promise<{ run_id: string; as_of: string; computed_at: Date | null; data: unknown }> {
    const run = await this.succeededRun(q, tenantId, runId);
    const data = await store.getResult(q, tenantId, run.id, kind);
    if (data === undefined) throw errors.notFound(`${kind} result in run ${run.id} (the run did not compute it)`);
    return { run_id: run.id, as_of: run.as_of, computed_at: run.finished_at, data };
  }
}

/** A CSV cell: text made spreadsheet-safe, lists joined with ';', null empty. */
function csvCell(v: unknown): unknown {
  if (typeof v === 'string') return spreadsheetSafe(v);
  if (Array.isArray(v)) return v.join(';');
  return v;
}

export function runView(r: RunRow): RunView {
  const known = new Set<string>(RUN_STAGES);
  const p = r.progress ?? {};
  const progress: RunProgress = {
    stage: p.stage ?? null,
    done: p.done ?? 0,
    total: p.total ?? 0,
    attempts: p.attempts ?? 0,
    stages: (p.stages ?? []).filter((s) => known.has(s.name)),
  };
  return { ...r, settings: withDefaults(r.settings), progress };
}

export interface ModelView {
  run_id: string;
  as_of: string;
  computed_at: Date | null;
  currency: string;
  time_unit: 'day' | 'week';
  bgnbd: {
    time_unit: 'day' | 'week';
    params: { r: number; alpha: number; a: number; b: number };
    log_likelihood: number | null;
    penalty: number;
    converged: boolean;
    iterations: number;
    customers: number;
    population: number;
    gradient_norm: number | null;
    dropout_identified: boolean | null;
    warnings: Array<{ code: string; message: string }>;
  } | null;
  gamma_gamma: {
    params: { p: number; q: number; gamma: number };
    currency: string;
    log_likelihood: number | null;
    converged: boolean;
    iterations: number;
    customers: number;
    population: number;
    population_mean_spend: number | null;
    spend_frequency_correlation: { pearson: number; spearman: number } | null;
    warnings: Array<{ code: string; message: string }>;
  } | null;
  calibration: {
    from: string;
    to: string;
    holdout_days: number;
    actual_total: number;
    predicted_total: number;
    relative_error: number;
    bins: Array<{ x: number; label: string; customers: number; actual_total: number; predicted_total: number; actual_mean: number; predicted_mean: number }>;
  } | null;
  warnings: Array<{ stage: string; code: string; message: string }>;
}

export interface MigrationsView {
  from: string;
  to: string;
  from_run: { run_id: string; as_of: string } | null;
  to_run: { run_id: string; as_of: string };
  segments: RfmSegment[];
  counts: number[][];
  entering: number[];
  leaving: number[];
  members_from: number;
  members_to: number;
}
