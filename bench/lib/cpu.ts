/**
 * Where the CPU went during a measured phase (Linux /proc): the Patron process, the PostgreSQL server's processes,
 * the load generator (this process), and every other process on the machine (other work sharing it). On a 2-core machine the three share the cores, so "CPU
 * milliseconds per request" per party says who the bottleneck is better than wall time does.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import pg from 'pg';

let ticks: number | null = null;
function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime of a process, in seconds; null when it is gone (or not Linux). */
function cpuOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "(comm) ": state is field 3, utime field 14, stime field 15 (1-based over the whole line).
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

/**
 * The postmaster of the server behind `databaseUrl` when it runs on this machine (the parent of this
 * connection's backend), so that only its processes count; null when it cannot be told.
 */
export async function postmasterOf(databaseUrl: string): Promise<number | null> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const backend = Number((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    const parent = parentOf(backend);
    return parent !== null && fs.existsSync(`/proc/${parent}/comm`) && fs.readFileSync(`/proc/${parent}/comm`, 'utf8').trim() === 'postgres' ? parent : null;
  } finally {
    await c.end();
  }
}

/** The server's processes (the postmaster and its children), or every postgres process when it is not known. */
function postgresPids(postmaster: number | null): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (fs.readFileSync(`/proc/${e}/comm`, 'utf8').trim() !== 'postgres') continue;
      const pid = Number(e);
      if (postmaster === null || pid === postmaster || parentOf(pid) === postmaster) out.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Busy CPU seconds of the whole machine since boot (every process, ours or not): /proc/stat's first line. */
function machineBusy(): number | null {
  try {
    const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = f.map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait.
    return (n[0]! + n[1]! + n[2]! + n[5]! + n[6]! + n[7]!) / clockTicks();
  } catch {
    return null;
  }
}

export interface CpuSnapshot {
  at: bigint;
  machine: number | null;
  patron: number | null;
  postgres: Map<number, number>;
  self: NodeJS.CpuUsage;
}

export function cpuSnapshot(patronPid: number, postmaster: number | null): CpuSnapshot {
  const postgres = new Map<number, number>();
  for (const pid of postgresPids(postmaster)) {
    const c = cpuOf(pid);
    if (c !== null) postgres.set(pid, c);
  }
  return { at: process.hrtime.bigint(), machine: machineBusy(), patron: cpuOf(patronPid), postgres, self: process.cpuUsage() };
}

export interface CpuUse {
  /** CPU seconds used in the interval. */
  patron_s: number;
  postgres_s: number;
  load_generator_s: number;
  /** CPU seconds of every other process on the machine (other work sharing it), from /proc/stat. */
  other_s: number | null;
  wall_s: number;
  /** Share of the machine's cores busy, all processes (1 = every core busy all the time). */
  machine_busy: number | null;
  /** Share of the machine's cores that Patron, PostgreSQL and the load generator used. */
  ours_busy: number;
}

/** CPU used between two snapshots (PostgreSQL processes that started meanwhile count from zero). */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuUse {
  let pg = 0;
  for (const [pid, c] of b.postgres) pg += c - (a.postgres.get(pid) ?? 0);
  const self = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
  const patron = (b.patron ?? 0) - (a.patron ?? 0);
  const wall = Number(b.at - a.at) / 1e9;
  const r = (n: number) => Math.round(n * 100) / 100;
  const machine = a.machine !== null && b.machine !== null ? b.machine - a.machine : null;
  return {
    patron_s: r(patron), postgres_s: r(pg), load_generator_s: r(self), other_s: machine === null ? null : r(Math.max(0, machine - patron - pg - self)),
    wall_s: r(wall), machine_busy: machine === null ? null : r(machine / (wall * cores)), ours_busy: r((patron + pg + self) / (wall * cores)),
  };
}

/**
 * CPU use over an interval, sampled every `everyMs` so that PostgreSQL backends that start and end inside it (a
 * pgbench run's connections) are counted up to their last sample rather than lost.
 */
export class CpuTracker {
  private first: CpuSnapshot | null = null;
  private readonly lastSeen = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly patronPid: number, private readonly postmaster: number | null, private readonly everyMs = 100) {}

  start(): this {
    this.first = cpuSnapshot(this.patronPid, this.postmaster);
    this.timer = setInterval(() => {
      for (const [pid, c] of cpuSnapshot(this.patronPid, this.postmaster).postgres) this.lastSeen.set(pid, c);
    }, this.everyMs);
    // A phase that fails before stop() must not keep the process (a smoke test's file) alive.
    this.timer.unref();
    return this;
  }

  stop(cores: number): CpuUse {
    if (this.timer) clearInterval(this.timer);
    const last = cpuSnapshot(this.patronPid, this.postmaster);
    for (const [pid, c] of last.postgres) this.lastSeen.set(pid, c);
    const end: CpuSnapshot = { ...last, postgres: new Map(this.lastSeen) };
    return cpuBetween(this.first!, end, cores);
  }
}
