/**
 * Analytics runs (docs/analytics.md → Runs): queued by POST /v1/analytics/runs or the nightly schedule, executed by
 * the `analytics.run` job through the stages of RUN_STAGES in order.
 *
 * The core stages are here (summary, rfm, bgnbd, gamma_gamma, scoring, publish); the other stages come from the
 * modules that register them (`registerStage`, in the composition root). A run executes on one dedicated database
 * session that holds the tenant's advisory lock, so a tenant's runs execute one at a time (a job that finds the lock
 * taken is sent again with a delay rather than wait), and that the stages can hand each other session tables (the
 * summary's exact repeat spend, the scoring's predictions). Each stage commits on its own; the last, publish, commits
 * with the run's final status. Progress and timings are written beside it, on another connection, so that
 * GET /v1/analytics/runs/{id} shows them while the run works.
 *
 * Failure: an error in a stage ends the run as `failed` with the stage and message, and the job does not retry it
 * (the same data would fail the same way). A run interrupted by a crash (still `running` when its job is retried
 * after the job's expiry) starts again from its first stage; after MAX_ATTEMPTS starts it is marked failed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { Db, Queryable, Tx } from '../../platform/db/db.js';
import { errors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import type { Jobs } from '../../platform/jobs/jobs.js';
import { minorPerMajor } from '../../platform/money.js';
import { emit } from '../../platform/outbox/outbox.js';
import { localDate, toLocal } from '../programs/programs.policy.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { BgNbdModel } from './clv/bgnbd.js';
import type { GammaGammaModel } from './clv/gamma-gamma.js';
import { checkDay } from './analytics.days.js';
import { fitBgNbdStage, fitGammaGammaStage } from './analytics.models.js';
import { publish } from './analytics.publish.js';
import { scoreRfm } from './analytics.rfm.js';
import { scoreMembers } from './analytics.scoring.js';
import { withDefaults } from './analytics.settings.js';
import * as store from './analytics.store.js';
import type { RunRow, RunTrigger } from './analytics.store.js';
import { dayEnd, summarize } from './analytics.summary.js';
import {
  RUN_STAGES, type AnalyticsSettings, type ResultKind, type RunProgress, type RunScope, type RunStage, type RunSummary,
  type StageProgress, type StageRegistration,
} from './analytics.types.js';

export const RUN_JOB = 'analytics.run';
/** Starts of one run (the first and the restarts after a crash) before it is given up as failed. */
export const MAX_ATTEMPTS = 3;
/** Seconds before a run's job comes back when another run of its tenant is executing. */
export const LOCKED_RETRY_SECONDS = 30;
/** Memory PostgreSQL may use per sort or hash of a stage (the summary's per-day aggregation, the RFM ranks). */
const STAGE_WORK_MEM = '256MB';
/** Core stages and the result kind they store. */
const CORE_STAGES: ReadonlySet<RunStage> = new Set(['summary', 'rfm', 'bgnbd', 'gamma_gamma', 'scoring', 'publish']);
const CORE_KINDS: ReadonlySet<ResultKind> = new Set(['rfm']);

export type RunOutcome = { status: 'succeeded' | 'failed' | 'skipped'; detail?: string };

/** What the run's stages share while it executes. */
interface RunState {
  summary: RunSummary;
  bg: BgNbdModel | null;
  gg: GammaGammaModel | null;
}

/** A stage as the pipeline runs it: its rows for the progress, and its result document when it has a kind. */
type StageWork = (client: Tx, scope: RunScope, state: RunState, progress: (rows: number) => Promise<void>) => Promise<{ rows: number | null; result?: unknown }>;

const CORE: Record<'summary' | 'rfm' | 'bgnbd' | 'gamma_gamma' | 'scoring', StageWork> = {
  async summary(client, scope, state) {
    const s = await summarize(client, scope);
    Object.assign(state.summary, { members: s.members, repeaters: s.repeaters, orders: s.orders, revenue: s.revenue, median_gap_days: s.median_gap_days });
    return { rows: s.members };
  },
  async rfm(client, scope) {
    const { result, rows } = await scoreRfm(client, scope);
    return { rows, result };
  },
  async bgnbd(client, scope, state) {
    const r = await fitBgNbdStage(client, scope, state.summary.members);
    state.bg = r.model;
    state.summary.warnings.push(...r.warnings);
    return { rows: r.customers };
  },
  async gamma_gamma(client, scope, state) {
    const r = await fitGammaGammaStage(client, scope, state.summary.repeaters);
    state.gg = r.model;
    state.summary.warnings.push(...r.warnings);
    return { rows: r.customers };
  },
  async scoring(client, scope, state, progress) {
    const r = await scoreMembers(client, scope, state.bg, state.gg, progress);
    if (r.failed > 0) {
      state.summary.warnings.push({ stage: 'scoring', code: 'prediction_failed', message: `The predictions of ${r.failed} members could not be computed and are left empty; the first error: ${r.firstError}` });
    }
    return { rows: r.rows };
  },
};


/** A calendar date moved by whole days. */
export function addDays(date: string, n: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Serialises the queueing of a tenant's runs until the transaction ends (the check for a run as of a day, then the
 * insert). Not the run's own session lock (another key), so queueing never waits for a run executing.
 */
async function lockQueue(tx: Tx, tenantId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`analytics-queue:${tenantId}`]);
}

type RunEnd = { status: 'succeeded' | 'failed'; progress: RunProgress; summary: RunSummary | null; error: string | null };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface RunsDeps {
  db: Db;
  clock: Clock;
  jobs: Jobs;
  programs: Pick<ProgramsService, 'get'>;
  log: Logger;
  /** The tenant's settings with defaults (copied into each run). */
  settings: (q: Queryable, tenantId: string) => Promise<AnalyticsSettings>;
}

export class AnalyticsRuns {
  private readonly registered: StageRegistration[] = [];

  constructor(private readonly deps: RunsDeps) {}

  /**
   * Adds a stage of another module to every run (in the composition root, before runs execute). Several modules may
   * add to one stage; they run in the order registered, after the core stage of that name if there is one. A stage
   * with `kind` stores its return value as that result document of the run; a kind is stored by one stage only.
   */
  registerStage(reg: StageRegistration): void {
    if (!(RUN_STAGES as readonly string[]).includes(reg.stage)) throw new Error(`registerStage: unknown stage "${reg.stage}" (one of ${RUN_STAGES.join(', ')})`);
    // The run is marked succeeded in the publish's own transaction, which must therefore be the run's last work.
    if (reg.stage === 'publish') throw new Error('registerStage: the publish stage is the core\'s alone (the run succeeds in its transaction)');
    if (reg.kind !== undefined && (CORE_KINDS.has(reg.kind) || this.registered.some((r) => r.kind === reg.kind))) {
      throw new Error(`registerStage: the result kind "${reg.kind}" is already stored by another stage`);
    }
    this.registered.push(reg);
  }

  /** The stages a run executes, in order, and the skipped ones (nobody provides them here). */
  private plan(): Array<{ name: RunStage; kind?: ResultKind; work: StageWork } | { name: RunStage; skipped: true }> {
    const out: Array<{ name: RunStage; kind?: ResultKind; work: StageWork } | { name: RunStage; skipped: true }> = [];
    for (const name of RUN_STAGES) {
      const works: Array<{ name: RunStage; kind?: ResultKind; work: StageWork }> = [];
      if (name === 'publish') {
        works.push({ name, work: async (client, scope) => ({ rows: (await publish(client, scope, this.deps.clock.now())).rows }) });
      } else if (CORE_STAGES.has(name)) {
        works.push({ name, kind: name === 'rfm' ? 'rfm' : undefined, work: CORE[name as keyof typeof CORE] });
      }
      for (const reg of this.registered.filter((r) => r.stage === name)) {
        works.push({ name, kind: reg.kind, work: async (client, scope) => ({ rows: null, result: await reg.run(client, scope) }) });
      }
      if (works.length === 0) out.push({ name, skipped: true });
      else out.push(...works);
    }
    return out;
  }

  private initialProgress(attempts: number): RunProgress {
    const plan = this.plan();
    const stages: StageProgress[] = plan.map((p) => ({ name: p.name, status: 'skipped' in p ? 'skipped' : 'pending', started_at: null, finished_at: null, ms: null, rows: null }));
    return { stage: null, done: 0, total: stages.filter((s) => s.status !== 'skipped').length, attempts, stages };
  }

  /**
   * Queues a run as of `asOf` (default: yesterday in the tenant's time zone) with the tenant's settings and program
   * currency, and its job in the same transaction. Without a job queue in this process (`npx patron jobs run
   * analytics.nightly`), `withoutQueue` says so: the caller then executes the run itself after committing.
   */
  async queue(tx: Tx, tenantId: string, input: { as_of?: string }, trigger: RunTrigger, opts: { withoutQueue?: boolean } = {}): Promise<RunRow> {
    if (!this.deps.jobs.started && !opts.withoutQueue) throw errors.unavailable('Analytics runs need the job queue, which is not running in this process.');
    const program = await this.deps.programs.get(tx, tenantId);
    const now = this.deps.clock.now();
    const today = localDate(now, program.time_zone);
    checkDay('as_of', input.as_of);
    if (input.as_of !== undefined && input.as_of > today) {
      throw errors.field('as_of', `must not be in the future: today is ${today} in the tenant's time zone (${program.time_zone})`);
    }
    const asOf = input.as_of ?? addDays(today, -1);
    await lockQueue(tx, tenantId);
    if (await store.hasActiveRun(tx, tenantId, asOf)) {
      throw errors.conflict(`A run as of ${asOf} is already queued or running; follow it with GET /v1/analytics/runs.`, [{ field: 'as_of', detail: `a run as of ${asOf} is already queued or running` }]);
    }
    const run = await store.insertRun(tx, tenantId, {
      id: newId(), trigger, as_of: asOf, settings: await this.deps.settings(tx, tenantId), currency: program.currency,
      progress: this.initialProgress(0), created_at: now,
    });
    if (this.deps.jobs.started) await this.deps.jobs.enqueue(RUN_JOB, { tenant_id: tenantId, run_id: run.id }, { tx });
    await emit(tx, { tenantId, type: 'analytics_run.queued', aggregateType: 'analytics_run', aggregateId: run.id, occurredAt: now, payload: { run_id: run.id, as_of: asOf, trigger } });
    return run;
  }

  /** The job: executes a queued run (or restarts an interrupted one); a finished or unknown run is skipped. */
  async execute(tenantId: string, runId: string): Promise<RunOutcome> {
    const client = await this.deps.db.pool.connect();
    const lockKey = `analytics:${tenantId}`;
    let locked = false;
    try {
      // Session-level: held for the whole run and released when the session ends (below), even after a crash. Tried,
      // not waited for: the worker runs one job at a time, and waiting here for the tenant's other run would stall
      // every other tenant's runs behind it. The job comes back later instead.
      const got = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok`, [lockKey]);
      locked = got.rows[0]!.ok;
      if (!locked) {
        if (!this.deps.jobs.started) return { status: 'skipped', detail: 'another run of the tenant is executing' };
        await this.deps.jobs.enqueue(RUN_JOB, { tenant_id: tenantId, run_id: runId }, { startAfterSeconds: LOCKED_RETRY_SECONDS });
        return { status: 'skipped', detail: `another run of the tenant is executing: retried in ${LOCKED_RETRY_SECONDS} s` };
      }
      return await this.executeLocked(client, tenantId, runId);
    } finally {
      // Unlocked first: closing the session releases the lock only once the server has ended it, a moment after
      // release() returns, and the tenant's next run (the demo queues two in a row) would find it still held.
      if (locked) await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey]).catch(() => undefined);
      // The session is closed rather than pooled: its session tables and settings go with it.
      client.release(true);
    }
  }

  private async executeLocked(client: Tx, tenantId: string, runId: string): Promise<RunOutcome> {
    const { db, clock } = this.deps;
    const run = await store.getRun(client, tenantId, runId);
    if (!run) return { status: 'skipped', detail: 'no such run' };
    if (run.status === 'succeeded' || run.status === 'failed') return { status: 'skipped', detail: `the run has ${run.status}` };
    const attempts = (run.progress.attempts ?? 0) + 1;
    // Still `running` here means its last execution died (it would hold the lock otherwise): start over, cleanly.
    if (run.status === 'running') await store.deleteRunRows(client, tenantId, runId);
    const progress = this.initialProgress(attempts);
    const log = this.deps.log.child({ job: RUN_JOB, tenant_id: tenantId, run_id: runId });
    if (attempts > MAX_ATTEMPTS) {
      const error = `The run was interrupted ${attempts - 1} times (the process stopped during it) and is not started again.`;
      await this.finish(tenantId, runId, { status: 'failed', progress, summary: null, error });
      log.error({ attempts: attempts - 1 }, 'analytics run given up');
      return { status: 'failed', detail: error };
    }
    await store.startRun(client, tenantId, runId, progress, clock.now());

    const program = await this.deps.programs.get(client, tenantId);
    const settings = withDefaults(run.settings);
    const scope: RunScope = {
      tenantId, runId, asOf: run.as_of, end: await dayEnd(client, run.as_of, program.time_zone), timeZone: program.time_zone,
      currency: run.currency, minorPerMajor: minorPerMajor(run.currency), settings,
    };
    const state: RunState = {
      summary: { members: 0, repeaters: 0, orders: 0, revenue: 0, median_gap_days: null, time_zone: program.time_zone, warnings: [] },
      bg: null,
      gg: null,
    };
    log.info({ as_of: run.as_of, attempt: attempts }, 'analytics run started');
    const runStarted = performance.now();
    let current: StageProgress | null = null;
    try {
      const plan = this.plan();
      for (let i = 0; i < plan.length; i++) {
        const step = plan[i]!;
        if ('skipped' in step) continue;
        const sp = progress.stages[i]!;
        current = sp;
        sp.status = 'running';
        sp.started_at = clock.now().toISOString();
        progress.stage = step.name;
        await store.setProgress(db, tenantId, runId, progress);
        const started = performance.now();
        await client.query('BEGIN');
        await client.query(`SET LOCAL work_mem = '${STAGE_WORK_MEM}'`);
        const out = await step.work(client, scope, state, async (rows) => {
          sp.rows = rows;
          await store.setProgress(db, tenantId, runId, progress);
        });
        if (step.kind !== undefined) await store.putResult(client, tenantId, runId, step.kind, out.result);
        sp.ms = Math.round(performance.now() - started);
        sp.rows = out.rows;
        sp.status = 'succeeded';
        sp.finished_at = clock.now().toISOString();
        progress.done++;
        if (step.name === 'publish') {
          // The run succeeds in the publish's transaction: a crash cannot leave a published run that is not succeeded
          // (publish is the last stage, and no other module adds to it: registerStage).
          progress.stage = null;
          await this.writeFinish(client, tenantId, runId, { status: 'succeeded', progress, summary: state.summary, error: null });
          await client.query('COMMIT');
          current = null;
          break;
        }
        await client.query('COMMIT');
        current = null;
        // The summary is there for the later stages to read, and for GET /v1/analytics/runs/{id} while the run works.
        await store.setProgress(db, tenantId, runId, progress, step.name === 'summary' ? state.summary : undefined);
        log.info({ stage: step.name, ms: sp.ms, rows: sp.rows, rss_mb: Math.round(process.memoryUsage().rss / 1048576) }, 'analytics stage finished');
      }
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (current) {
        current.status = 'failed';
        current.finished_at = clock.now().toISOString();
      }
      progress.stage = current?.name ?? progress.stage;
      const error = current ? `stage ${current.name}: ${message(err)}` : message(err);
      // Its member rows are of no use and, at a million members, not small; the run row keeps the error and progress.
      await store.deleteRunRows(db, tenantId, runId);
      await this.finish(tenantId, runId, { status: 'failed', progress, summary: state.summary, error });
      log.error({ err, stage: current?.name }, 'analytics run failed');
      return { status: 'failed', detail: error };
    }
    log.info({ ms: Math.round(performance.now() - runStarted), members: state.summary.members }, 'analytics run succeeded');
    return { status: 'succeeded' };
  }

  private async finish(tenantId: string, runId: string, end: RunEnd): Promise<void> {
    await this.deps.db.tx((tx) => this.writeFinish(tx, tenantId, runId, end));
  }

  /** The run's final status, progress and summary, and its event, in the caller's transaction. */
  private async writeFinish(tx: Tx, tenantId: string, runId: string, end: RunEnd): Promise<void> {
    const at = this.deps.clock.now();
    await store.finishRun(tx, tenantId, runId, { ...end, at });
    await emit(tx, {
      tenantId, type: `analytics_run.${end.status}`, aggregateType: 'analytics_run', aggregateId: runId, occurredAt: at,
      payload: { run_id: runId, ...(end.error ? { error: end.error } : { members: end.summary?.members ?? 0 }) },
    });
  }

  /**
   * The nightly schedule for one tenant: at 03:xx in the tenant's time zone (or at any hour with `anyHour`), when the
   * settings ask for it and no run as of yesterday or later exists, queues a run as of yesterday. Without a job queue
   * in this process it executes the run right away. Returns the run queued, or null.
   */
  async nightly(tenantId: string, opts: { anyHour?: boolean } = {}): Promise<string | null> {
    const { db, clock } = this.deps;
    const queued = await db.tx(async (tx) => {
      // Two nightly jobs of one slot (or a nightly and an API run) must not both find no run and both queue one.
      await lockQueue(tx, tenantId);
      const settings = await this.deps.settings(tx, tenantId);
      if (!settings.nightly) return null;
      const program = await this.deps.programs.get(tx, tenantId);
      const now = clock.now();
      if (!opts.anyHour && toLocal(now, program.time_zone).hour !== 3) return null;
      const yesterday = addDays(localDate(now, program.time_zone), -1);
      // Also once only on a night whose 03:00 hour happens twice (the end of summer time in some zones).
      if (await store.hasRunSince(tx, tenantId, yesterday)) return null;
      return this.queue(tx, tenantId, { as_of: yesterday }, 'schedule', { withoutQueue: true });
    });
    if (!queued) return null;
    if (!this.deps.jobs.started) await this.execute(tenantId, queued.id);
    return queued.id;
  }

  /** Deletes the tenant's finished runs older than keep_runs_days (with their rows), except the published one. */
  async purge(tenantId: string): Promise<number> {
    const { db, clock } = this.deps;
    const settings = await this.deps.settings(db, tenantId);
    const before = new Date(clock.now().getTime() - settings.keep_runs_days * 86_400_000);
    const ids = await store.runsToPurge(db, tenantId, before);
    for (const id of ids) await db.tx((tx) => store.deleteRun(tx, tenantId, id));
    return ids.length;
  }
}
