/**
 * Prometheus metrics at GET /metrics: HTTP requests and latencies by route,
 * the database pool, job runs, and events the outbox dispatch skipped. One registry per Patron instance.
 */
import client from 'prom-client';
import type { Db } from './db/db.js';
import type { JobMetrics } from './jobs/jobs.js';

export class Metrics implements JobMetrics {
  readonly registry = new client.Registry();
  private readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  private readonly jobRuns: client.Counter<'job' | 'outcome'>;
  private readonly jobDuration: client.Histogram<'job'>;
  private readonly outboxSkips: client.Counter<'consumer'>;

  constructor(db: Db) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'patron_' });
    this.httpDuration = new client.Histogram({
      name: 'patron_http_request_duration_seconds',
      help: 'HTTP request latency by route and status; its _count is the request count.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
    this.jobRuns = new client.Counter({ name: 'patron_job_runs_total', help: 'Job runs by outcome.', labelNames: ['job', 'outcome'], registers: [this.registry] });
    this.jobDuration = new client.Histogram({
      name: 'patron_job_duration_seconds',
      help: 'Job run time.',
      labelNames: ['job'],
      buckets: [0.01, 0.1, 1, 10, 60, 600],
      registers: [this.registry],
    });
    this.outboxSkips = new client.Counter({
      name: 'patron_outbox_skips_total',
      help: 'Events an outbox consumer failed on and skipped (listed at GET /v1/domain-events/skips): alert on any.',
      labelNames: ['consumer'],
      registers: [this.registry],
    });
    const pool = db.pool;
    new client.Gauge({ name: 'patron_db_pool_connections', help: 'Connections in the pool.', registers: [this.registry], collect() { this.set(pool.totalCount); } });
    new client.Gauge({ name: 'patron_db_pool_idle', help: 'Idle connections in the pool.', registers: [this.registry], collect() { this.set(pool.idleCount); } });
    new client.Gauge({ name: 'patron_db_pool_waiting', help: 'Queries waiting for a connection.', registers: [this.registry], collect() { this.set(pool.waitingCount); } });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  onOutboxSkip(consumer: string): void {
    this.outboxSkips.inc({ consumer });
  }

  onRun(job: string, outcome: 'succeeded' | 'failed', seconds: number): void {
    this.jobRuns.inc({ job, outcome });
    this.jobDuration.observe({ job }, seconds);
  }
}
