/**
 * A closed-loop HTTP load generator for the write benchmarks: C workers on a
 * keep-alive agent, each sending its next request as soon as the last one is
 * answered, until R requests are done or D seconds have passed. Latency is
 * measured per request from before the request is written to the end of the
 * answer, in this process (another process than Patron's).
 */
import http from 'node:http';
import { percentile, round } from './report.js';

export interface Reply {
  status: number;
  body: string;
}

export function request(agent: http.Agent, url: URL, method: string, path: string, headers: http.OutgoingHttpHeaders, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const h: http.OutgoingHttpHeaders = { ...headers };
    if (body !== undefined) {
      h['content-type'] = 'application/json';
      h['content-length'] = Buffer.byteLength(body);
    }
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent, headers: h }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `total` tasks on `concurrency` workers (until `until`, a Date.now() deadline); returns how many ran. */
export async function pool(total: number, concurrency: number, task: (i: number) => Promise<void>, until = Infinity): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < total && Date.now() < until) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, total)) }, worker));
  return Math.min(next, total);
}

export interface LatencyMs {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/** Latency figures of a list of durations (ms), in any order. */
export function latencyOf(values: ArrayLike<number>): LatencyMs {
  const sorted = Float64Array.from(values).sort();
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return {
    p50: round(percentile(sorted, 50)), p90: round(percentile(sorted, 90)), p99: round(percentile(sorted, 99)), p999: round(percentile(sorted, 99.9)),
    max: round(sorted[sorted.length - 1] ?? NaN), mean: round(mean),
  };
}

export interface LoadResult {
  concurrency: number;
  requests: number;
  /** Answers that were not 2xx, and requests that failed on the socket. */
  errors: number;
  /** The first few errors, for the report. */
  error_samples: string[];
  duration_s: number;
  requests_per_second: number;
  latency_ms: LatencyMs;
}

export interface LoadOptions {
  concurrency: number;
  /** Stop after this many requests (Infinity: only the duration counts). */
  requests: number;
  durationSeconds: number;
  /** Sends request number i; resolves with the answer. */
  send: (i: number) => Promise<Reply>;
}

/** A closed-loop run; every non-2xx answer (or socket error) is an error. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const cap = Number.isFinite(o.requests) ? o.requests : Number.MAX_SAFE_INTEGER;
  let latencies = new Float64Array(Math.min(cap, 1 << 16));
  let errors = 0;
  const samples: string[] = [];
  const start = process.hrtime.bigint();
  const done = await pool(cap, o.concurrency, async (i) => {
    const t0 = process.hrtime.bigint();
    let status = 0;
    let body = '';
    try {
      ({ status, body } = await o.send(i));
    } catch (err) {
      body = (err as Error).message;
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= latencies.length) {
      const bigger = new Float64Array(Math.min(cap, Math.max(i + 1, latencies.length * 2)));
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[i] = ms;
    if (status < 200 || status > 299) {
      errors++;
      if (samples.length < 5) samples.push(`${status || 'socket error'}: ${body.slice(0, 300)}`);
    }
  }, Date.now() + o.durationSeconds * 1000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    concurrency: o.concurrency,
    requests: done,
    errors,
    error_samples: samples,
    duration_s: round(seconds, 3),
    requests_per_second: round(done / seconds, 1),
    latency_ms: latencyOf(latencies.subarray(0, done)),
  };
}
