/**
 * Patron on its embedded PostgreSQL, as real processes: first start, restart,
 * a SIGKILLed Patron, graceful shutdown with a request in flight, a data folder
 * the postgres user cannot reach, and bad configuration.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import {
  alive, api, cleanupAll, embeddedClient, isRoot, pgDataOf, postgresProcessesOn, postmasterPid, randomKey, runCli, sleep,
  startPatron, tempDataDir, tempDir, trackTempDir, waitFor, waitForLockWaiter, waitReady, type PatronProcess,
} from './lib.js';

after(cleanupAll);

/** Status of GET /health over a NEW connection, or the connection error's code. */
function freshConnection(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/health`, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

function assertPostgresGone(dataDir: string, pid: number | null): void {
  assert.equal(fs.existsSync(path.join(pgDataOf(dataDir), 'postmaster.pid')), false, 'postmaster.pid is removed');
  if (pid !== null) assert.equal(alive(pid), false, `postmaster ${pid} has exited`);
  assert.deepEqual(postgresProcessesOn(dataDir), [], 'no postgres process runs on the data folder');
}

describe('embedded PostgreSQL, with Patron as a process', () => {
  const dataDir = tempDataDir();
  const key = randomKey();
  const env = { DATABASE_URL: undefined, PATRON_DATA_DIR: dataDir, PATRON_API_KEY: key };
  let patron: PatronProcess;
  let memberId: string;
  let port: number;

  test('the first start creates the cluster, records a free port and a 0600 password file', async () => {
    patron = await startPatron({ env });
    assert.ok(fs.existsSync(path.join(pgDataOf(dataDir), 'PG_VERSION')), 'a cluster exists in <dataDir>/pg');

    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'embedded.json'), 'utf8'));
    assert.ok(Number.isInteger(state.port) && state.port > 1024 && state.port !== 5432, `a free port is recorded (${state.port})`);
    port = state.port;
    assert.match(patron.output(), new RegExp(`embedded PostgreSQL on 127\\.0\\.0\\.1:${port}`));

    const pwFile = path.join(dataDir, 'pg-password');
    assert.equal(fs.statSync(pwFile).mode & 0o777, 0o600, 'the password file is 0600');
    const password = fs.readFileSync(pwFile, 'utf8').trim();
    assert.ok(password.length >= 24, 'the password is long and random');

    // The server listens on the recorded port and wants that password.
    const wrong = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'not-the-password', database: 'patron' });
    await assert.rejects(wrong.connect(), (err: { code?: string }) => err.code === '28P01');
    const client = await embeddedClient(dataDir);
    await client.end();

    assert.equal((await api(patron.url, 'GET', '/health')).status, 200);
    await waitReady(patron.url);
    assert.deepEqual((await api(patron.url, 'GET', '/ready')).body, { status: 'ready' });
  });

  test('data written through the API survives a restart; SIGTERM stops PostgreSQL', async () => {
    const created = await api(patron.url, 'POST', '/v1/members', { key, body: { external_id: 'survivor-1', email: 'ada@example.com', first_name: 'Ada' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    memberId = created.body.id;

    const pgPid = postmasterPid(dataDir);
    assert.ok(pgPid && alive(pgPid));
    const exit = await patron.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, patron.output());
    assertPostgresGone(dataDir, pgPid);

    patron = await startPatron({ env });
    assert.match(patron.output(), new RegExp(`embedded PostgreSQL on 127\\.0\\.0\\.1:${port}`), 'the recorded port is used again');
    assert.doesNotMatch(patron.output(), /created embedded PostgreSQL cluster/, 'the cluster is reused, not created again');
    const read = await api(patron.url, 'GET', `/v1/members/${memberId}`, { key });
    assert.equal(read.status, 200);
    assert.equal(read.body.first_name, 'Ada');
    assert.equal(read.body.external_id, 'survivor-1');
  });

  test('SIGTERM lets an in-flight request finish, then shuts down in order and exits 0', async () => {
    // Hold the member's row lock from another connection so that a PATCH waits in the database.
    const holder = await embeddedClient(dataDir);
    holder.on('error', () => undefined); // the server stops at the end of this test
    let committed = false;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM members WHERE id = $1 FOR UPDATE', [memberId]);
      const patch = api(patron.url, 'PATCH', `/v1/members/${memberId}`, { key, body: { first_name: 'Grace' } });
      await waitForLockWaiter(holder, 'the PATCH to wait on the row lock');

      patron.child.kill('SIGTERM');
      await waitFor('"shutting down" in the log', () => patron.logs().some((l) => l.msg === 'shutting down'));
      await sleep(300);
      assert.ok(patron.running(), 'Patron waits for the request in flight');
      const fresh = await freshConnection(patron.url);
      assert.ok(fresh === 'ECONNREFUSED' || fresh === 503, `new connections are refused while shutting down (got ${fresh})`);

      await holder.query('COMMIT');
      committed = true;
      const answer = await patch;
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.first_name, 'Grace');
    } finally {
      if (!committed) await holder.query('ROLLBACK').catch(() => undefined);
      await holder.end().catch(() => undefined);
    }

    const exit = await patron.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, patron.output());
    const msgs = patron.logs().map((l) => String(l.msg));
    const at = (m: string | RegExp) => {
      const i = msgs.findIndex((x) => (typeof m === 'string' ? x === m : m.test(x)));
      assert.ok(i >= 0, `log has "${m}":\n${msgs.join('\n')}`);
      return i;
    };
    const patchLog = patron.logs().findIndex((l) => l.msg === 'request' && l.method === 'PATCH' && l.status === 200);
    const steps = [
      at('shutting down'),
      patchLog,
      at(/^shutdown: HTTP server closed/),
      at('shutdown: jobs stopped'),
      at('shutdown: database pool closed'),
      at('shutdown: embedded PostgreSQL stopped'),
      at('stopped'),
    ];
    assert.deepEqual(steps, [...steps].sort((a, b) => a - b), `shutdown steps in order:\n${msgs.join('\n')}`);
    assert.ok(patchLog > steps[0]!, 'the PATCH finished after the signal');
    assertPostgresGone(dataDir, null);
  });

  test('a SIGKILLed Patron leaves PostgreSQL running; the next start takes it over; SIGTERM then stops it', async () => {
    patron = await startPatron({ env });
    assert.equal((await api(patron.url, 'GET', `/v1/members/${memberId}`, { key })).body.first_name, 'Grace', 'the PATCH of the previous test was kept');
    const pgPid = postmasterPid(dataDir)!;
    assert.ok(alive(pgPid));

    const killed = await patron.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(alive(pgPid), 'PostgreSQL outlives a SIGKILLed Patron');

    patron = await startPatron({ env });
    assert.ok(patron.logs().some((l) => /taking over the embedded PostgreSQL/.test(String(l.msg))), patron.output());
    assert.equal(postmasterPid(dataDir), pgPid, 'the running server was taken over');
    await waitReady(patron.url);
    assert.equal((await api(patron.url, 'GET', `/v1/members/${memberId}`, { key })).status, 200);
    const created = await api(patron.url, 'POST', '/v1/members', { key, body: { external_id: 'after-kill', first_name: 'Kay' } });
    assert.equal(created.status, 201);

    const exit = await patron.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, patron.output());
    assertPostgresGone(dataDir, pgPid);
  });

  test('a taken HTTP port is a clear error, and the PostgreSQL started for it is stopped again', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const res = await runCli(['start'], { ...env, PORT: String(taken) });
      assert.equal(res.code, 1, res.stdout + res.stderr);
      assert.match(res.stderr, new RegExp(`Port ${taken} on 127\\.0\\.0\\.1 is already in use: set PORT`));
      assertPostgresGone(dataDir, null);
    } finally {
      blocker.close();
    }
  });

  test('as root, a data folder under a directory closed to the postgres user is a clear error naming it', async (t) => {
    if (!isRoot) {
      t.skip('not running as root: the embedded server runs as the current user, so there is no other user to lock out');
      return;
    }
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'patron-closed-'));
    trackTempDir(closed);
    fs.chmodSync(closed, 0o700);
    const res = await runCli(['start'], { DATABASE_URL: undefined, PATRON_DATA_DIR: path.join(closed, 'data'), PORT: '0' });
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.ok(res.stderr.includes(`folder ${closed} `), `the error names ${closed}:\n${res.stderr}`);
    assert.match(res.stderr, /"postgres" user/);
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'a message, not a stack trace');
    assert.equal(fs.existsSync(path.join(closed, 'data', 'pg')), false, 'no cluster was created');
  });
});

describe('configuration errors', () => {
  const cases: Array<{ env: Record<string, string>; variable: string }> = [
    { env: { PORT: 'abc' }, variable: 'PORT' },
    { env: { PATRON_API_KEY: 'too-short' }, variable: 'PATRON_API_KEY' },
    { env: { LOG_LEVEL: 'loud' }, variable: 'LOG_LEVEL' },
    { env: { DATABASE_URL: 'mysql://localhost/x' }, variable: 'DATABASE_URL' },
  ];
  test('a bad value stops Patron with a message naming the variable, before anything starts', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const results = await Promise.all(cases.map((c) => runCli(['start'], { DATABASE_URL: undefined, PATRON_DATA_DIR: dataDir, ...c.env })));
    results.forEach((res, i) => {
      const { variable } = cases[i]!;
      assert.equal(res.code, 1, `${variable}: ${res.stdout}${res.stderr}`);
      assert.match(res.stderr, /Invalid configuration/);
      assert.match(res.stderr, new RegExp(`\\b${variable}\\b`), `the message names ${variable}:\n${res.stderr}`);
      assert.doesNotMatch(res.stdout, /Patron is running/);
    });
    assert.equal(fs.existsSync(dataDir), false, 'nothing was started');
  });
});
