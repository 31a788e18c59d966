/**
 * One PostgreSQL-backed job queue (pg-boss 10) for every module's background
 * and scheduled work. Modules `define` jobs; the composition root starts the
 * queue. A scheduled job (cron) is sent once per slot however many Patron
 * processes share the database (pg-boss keys the send by slot), and survives
 * restarts because schedules and jobs live in PostgreSQL.
 *
 * Every job can also be run now, in this process, with `runNow` (the CLI's
 * `patron jobs run NAME`, and tests that must not wait for a schedule).
 */
import type pg from 'pg';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db, Tx } from '../db/db.js';

/** Arbitrary constant: the advisory lock that serialises queue setup across processes. */
const JOBS_SETUP_LOCK_KEY = 727_003;

export interface JobContext {
  db: Db;
  clock: Clock;
  log: Logger;
}

export interface JobDefinition<T extends object = Record<string, unknown>> {
  /** Dotted name: `imports.run`, `idempotency.purge`, `ledger.expire` … */
  name: string;
  description: string;
  /** Cron expression (in UTC) for scheduled jobs. */
  schedule?: string;
  /** Attempts after the first failure. */
  retryLimit?: number;
  /** Seconds a single run may take before pg-boss considers it expired. */
  expireInSeconds?: number;
  /**
   * A pump: in a process that works jobs, the handler also runs every `pollMs` milliseconds in-process (never
   * two runs of it at once in one process), for work that must not wait for a one-minute cron slot (the outbox,
   * due webhook deliveries, due emails). The handler must be safe to run in several processes at once.
   */
  pollMs?: number;
  handler: (data: T, ctx: JobContext) => Promise<unknown>;
}

/** An in-process pump: its next tick, the run in progress, and whether to run again at once after it. */
interface Pump {
  timer: NodeJS.Timeout | null;
  running: Promise<unknown> | null;
  again: boolean;
  tick: () => void;
}

export interface JobMetrics {
  onRun(name: string, outcome: 'succeeded' | 'failed', seconds: number): void;
}

export class Jobs {
  private readonly defs = new Map<string, JobDefinition<any>>();
  private boss: PgBoss | null = null;
  private readonly workerIds = new Map<string, string>();
  private readonly pumps = new Map<string, Pump>();
  private pumping = false;

  constructor(
    private readonly ctx: JobContext,
    private readonly connectionString: string,
    private readonly metrics: JobMetrics = { onRun: () => undefined },
  ) {}

  define<T extends object>(def: JobDefinition<T>): void {
    if (this.defs.has(def.name)) throw new Error(`Job ${def.name} is defined twice`);
    this.defs.set(def.name, def as JobDefinition<any>);
  }

  list(): Array<{ name: string; description: string; schedule: string | null }> {
    return [...this.defs.values()].map((d) => ({ name: d.name, description: d.description, schedule: d.schedule ?? null })).sort((a, b) => a.name.localeCompare(b.name));
  }

  has(name: string): boolean {
    return this.defs.has(name);
  }

  /** Whether `enqueue` works in this process (the queue is started: a server, or a client such as a test app). */
  get started(): boolean {
    return this.boss !== null;
  }

  /**
   * Starts pg-boss: queues, schedules, and (when `work`) the workers and pumps of this process. `schedule: false`
   * keeps this process from firing the cron schedules (test apps; another process fires them).
   */
  async start(opts: { work: boolean; schedule?: boolean }): Promise<void> {
    const boss = new PgBoss({
      connectionString: this.connectionString,
      schema: 'pgboss',
      max: 4,
      application_name: 'patron-jobs',
      schedule: opts.work && opts.schedule !== false,
      supervise: opts.work,
    });
    boss.on('error', (err) => this.ctx.log.error({ err }, 'job queue error'));
    // pg-boss creates a queue (a partition of its job table) in a way that
    // deadlocks when two processes create the same queue at once: Patron
    // processes starting together set up the queue one after the other.
    const lock = await this.ctx.db.pool.connect();
    try {
      await lock.query('SELECT pg_advisory_lock($1)', [JOBS_SETUP_LOCK_KEY]);
      await boss.start();
      this.boss = boss;
      for (const def of this.defs.values()) {
        const queue = { name: def.name, retryLimit: def.retryLimit ?? 3, retryBackoff: true, expireInSeconds: def.expireInSeconds ?? 3600 };
        await boss.createQueue(def.name, queue);
        // createQueue leaves an existing queue as it was: apply changed settings too.
        await boss.updateQueue(def.name, queue);
        if (def.schedule) await boss.schedule(def.name, def.schedule, {}, { tz: 'UTC' });
      }
      // A job that lost its schedule (or was removed) in this version must stop firing.
      for (const s of await boss.getSchedules()) {
        if (!this.defs.get(s.name)?.schedule) await boss.unschedule(s.name);
      }
    } catch (err) {
      this.boss = null;
      await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      throw err;
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [JOBS_SETUP_LOCK_KEY]).catch(() => undefined);
      lock.release();
    }
    if (opts.work) {
      for (const def of this.defs.values()) {
        const id = await boss.work(def.name, { pollingIntervalSeconds: 0.5, batchSize: 1 }, async (jobs) => {
          for (const job of jobs) await this.execute(def, (job.data ?? {}) as object);
        });
        this.workerIds.set(def.name, id);
      }
      this.pumping = true;
      for (const def of this.defs.values()) if (def.pollMs) this.startPump(def, def.pollMs);
    }
  }

  private startPump(def: JobDefinition<any>, pollMs: number): void {
    const pump: Pump = { timer: null, running: null, again: false, tick: () => undefined };
    pump.tick = () => {
      pump.timer = null;
      if (!this.pumping) return;
      // execute() logs a failure; the next tick tries again.
      pump.running = this.execute(def, {}).catch(() => undefined).finally(() => {
        pump.running = null;
        if (this.pumping) pump.timer = setTimeout(pump.tick, pump.again ? 0 : pollMs);
        pump.again = false;
      });
    };
    pump.timer = setTimeout(pump.tick, pollMs);
    this.pumps.set(def.name, pump);
  }


  /**
   * Enqueues a job. With `tx`, the job is inserted in that transaction: it
   * exists if and only if the transaction commits. With `startAfterSeconds`,
   * no worker takes it before that delay.
   */
  async enqueue(name: string, data: object, opts: { tx?: Tx; singletonKey?: string; startAfterSeconds?: number } = {}): Promise<string | null> {
    if (!this.defs.has(name)) throw new Error(`Unknown job ${name}`);
    if (!this.boss) throw new Error('The job queue is not started in this process');
    const sendOpts: PgBoss.SendOptions = {};
    if (opts.singletonKey) sendOpts.singletonKey = opts.singletonKey;
    if (opts.startAfterSeconds !== undefined) sendOpts.startAfter = opts.startAfterSeconds;
    if (opts.tx) {
      const tx = opts.tx;
      sendOpts.db = { executeSql: (text, values) => tx.query(text, values) };
    }
    const id = await this.boss.send(name, data, sendOpts);
    // Wake this process's worker instead of waiting for its next poll.
    const worker = this.workerIds.get(name);
    if (worker && !opts.tx && opts.startAfterSeconds === undefined) this.boss.notifyWorker(worker);
    return id;
  }

  /**
   * Wakes this process's worker of a queue (after the transaction that enqueued commits), and runs its pump now
   * rather than at its next tick, or again right after the run in progress: one pump's work made work for another
   * (the outbox hands events to the webhooks and the triggers), which need not wait for their own poll. Does nothing
   * for what does not run here (PATRON_JOBS=false; DELIVERY_POLL_MS=0 stops the pumps).
   */
  nudge(name: string): void {
    const worker = this.workerIds.get(name);
    if (worker && this.boss) this.boss.notifyWorker(worker);
    const pump = this.pumps.get(name);
    if (!pump || !this.pumping) return;
    if (pump.running) pump.again = true;
    else if (pump.timer) {
      clearTimeout(pump.timer);
      pump.tick();
    }
  }

  /** Runs a job's handler now, in this process, bypassing the queue. */
  async runNow(name: string, data: object = {}): Promise<unknown> {
    const def = this.defs.get(name);
    if (!def) throw new Error(`Unknown job "${name}". Known jobs: ${[...this.defs.keys()].sort().join(', ')}`);
    return this.execute(def, data);
  }

  private async execute(def: JobDefinition<any>, data: object): Promise<unknown> {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await def.handler(data, this.ctx);
      this.metrics.onRun(def.name, 'succeeded', seconds());
      return result;
    } catch (err) {
      this.metrics.onRun(def.name, 'failed', seconds());
      this.ctx.log.error({ err, job: def.name }, 'job failed');
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.pumping = false;
    for (const pump of this.pumps.values()) if (pump.timer) clearTimeout(pump.timer);
    await Promise.all([...this.pumps.values()].map((p) => p.running));
    this.pumps.clear();
    if (!this.boss) return;
    const boss = this.boss;
    this.boss = null;
    // Our workers are stopped, and pg-boss's pool left to drain, before pg-boss ends that pool: a worker whose fetch
    // is still queued for one of its connections (more workers than connections, under load) would otherwise wait
    // for ever — pg-pool neither serves nor fails what is queued when it ends — and pg-boss's offWork keeps a timer
    // polling for that worker to stop, so the process never exits (a test file then times out after its last test).
    for (const name of this.workerIds.keys()) await boss.offWork(name).catch(() => undefined);
    this.workerIds.clear();
    const pool = (boss.getDb() as { pool?: pg.Pool }).pool;
    const quiet = () => !pool || (pool.waitingCount === 0 && pool.idleCount === pool.totalCount);
    for (const deadline = Date.now() + 20_000; !quiet() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 25));
    await boss.stop({ graceful: true, wait: true, timeout: 20_000 });
  }
}
