/**
 * The CLI as a user runs it, next to a running server: against the suite's
 * external database, and against a server's embedded PostgreSQL (the CLI is a
 * guest there and must leave the server's PostgreSQL running).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import {
  alive, api, cleanupAll, freshDatabase, embeddedClient, postmasterPid, randomKey, runCli, startPatron, tempDataDir, waitForLockWaiter, waitReady, type PatronProcess,
} from './lib.js';
import type { ScratchDatabase } from '../../src/platform/db/scratch-database.js';

after(cleanupAll);

const CREATED = /^\{"tenant_id": "([0-9a-f-]{36})", "api_key": "(ptr_[A-Za-z0-9_-]{43})"\}\n$/;

describe('CLI against an external database, next to a running server', () => {
  // A database of its own: PATRON_API_KEY rotates the default tenant's configured
  // key, so two files configuring different keys must not share a database.
  const env: Record<string, string | undefined> = { PATRON_API_KEY: randomKey() };
  let database: ScratchDatabase;
  let server: PatronProcess;
  let tenantId: string;
  let tenantKey: string;

  before(async () => {
    database = await freshDatabase('cli');
    env.DATABASE_URL = database.url;
    server = await startPatron({ env });
  });
  after(async () => {
    await server?.stop();
    await database?.drop();
  });

  test('`tenants create --name NAME` prints exactly {"tenant_id": …, "api_key": …}; the key works on the server', async () => {
    const res = await runCli(['tenants', 'create', '--name', 'CLI Café'], env);
    assert.equal(res.code, 0, res.stderr);
    const m = CREATED.exec(res.stdout);
    assert.ok(m, `exact output, got ${JSON.stringify(res.stdout)}`);
    [, tenantId, tenantKey] = m as unknown as [string, string, string];
    assert.equal(res.stderr, '');

    const me = await api(server.url, 'GET', '/v1/tenant', { key: tenantKey });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, tenantId);
    assert.equal(me.body.name, 'CLI Café');
    assert.equal((await api(server.url, 'POST', '/v1/members', { key: tenantKey, body: { first_name: 'Cli' } })).status, 201);
  });

  test('`npx patron` from the repository root runs the same CLI', async () => {
    const res = await runCli(['tenants', 'create', '--name', 'Through npx'], env, { command: ['npx', '--no-install', 'patron'] });
    assert.equal(res.code, 0, res.stderr);
    const m = CREATED.exec(res.stdout);
    assert.ok(m, `exact output, got ${JSON.stringify(res.stdout)}`);
    assert.equal((await api(server.url, 'GET', '/v1/tenant', { key: m[2] })).body.name, 'Through npx');
  });

  test('`keys create` makes a scoped key; `keys revoke` revokes it', async () => {
    const made = await runCli(['keys', 'create', '--tenant', tenantId, '--name', 'reader', '--scopes', 'read'], env);
    assert.equal(made.code, 0, made.stderr);
    const key = JSON.parse(made.stdout);
    assert.deepEqual(Object.keys(key).sort(), ['api_key', 'key_id', 'scopes']);
    assert.deepEqual(key.scopes, ['read']);
    assert.equal((await api(server.url, 'GET', '/v1/members', { key: key.api_key })).status, 200);
    assert.equal((await api(server.url, 'POST', '/v1/members', { key: key.api_key, body: { first_name: 'No' } })).status, 403, 'a read key cannot write');

    const revoked = await runCli(['keys', 'revoke', '--tenant', tenantId, '--key', key.key_id], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    const out = JSON.parse(revoked.stdout);
    assert.equal(out.key_id, key.key_id);
    assert.ok(out.revoked_at, 'revoked_at is set');
    assert.equal((await api(server.url, 'GET', '/v1/members', { key: key.api_key })).status, 401, 'a revoked key is refused');
    assert.equal((await api(server.url, 'GET', '/v1/members', { key: tenantKey })).status, 200, 'other keys still work');
  });

  test('bad `keys` arguments: unknown tenant is an error, bad scopes a usage error', async () => {
    const unknown = await runCli(['keys', 'create', '--tenant', '00000000-0000-7000-8000-00000000dead'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /No tenant 00000000-0000-7000-8000-00000000dead/);
    const scopes = await runCli(['keys', 'create', '--tenant', tenantId, '--scopes', 'read,root'], env);
    assert.equal(scopes.code, 2);
    assert.match(scopes.stderr, /--scopes/);
  });

  test('`migrate` applies nothing new and exits 0', async () => {
    const res = await runCli(['migrate'], env);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /migrations applied; database ready \(external\)/);
  });

  test('`jobs list` shows the scheduled jobs; `jobs run idempotency.purge` runs it now', async () => {
    const list = await runCli(['jobs', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^idempotency\.purge\s+17 \* \* \* \*\s+Delete stored Idempotency-Key answers/m);

    // An answer stored long ago, which the purge must delete.
    const db = new pg.Client({ connectionString: env.DATABASE_URL });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO idempotency_keys (tenant_id, key, request_hash, method, path, status_code, response_body, created_at)
         VALUES ($1, 'old-key', 'x', 'POST', '/v1/members', 201, '{}', now() - interval '400 days')`,
        [tenantId],
      );
      const res = await runCli(['jobs', 'run', 'idempotency.purge'], env);
      assert.equal(res.code, 0, res.stderr);
      const out = JSON.parse(res.stdout);
      assert.equal(out.job, 'idempotency.purge');
      assert.ok(out.result.deleted >= 1, res.stdout);
      const left = await db.query(`SELECT count(*)::int AS n FROM idempotency_keys WHERE tenant_id = $1 AND key = 'old-key'`, [tenantId]);
      assert.equal(left.rows[0].n, 0);
    } finally {
      await db.end();
    }

    const unknown = await runCli(['jobs', 'run', 'no.such.job'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown job "no\.such\.job"/);
  });

  test('an unknown command exits 2 with the usage', async () => {
    const res = await runCli(['frobnicate'], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown command "frobnicate"/);
    assert.match(res.stderr, /Usage: npx patron <command>/);
    const option = await runCli(['tenants', 'create', '--nme', 'Typo'], env);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /Unknown option '--nme'/);
    assert.match(option.stderr, /Usage: npx patron <command>/);
    const none = await runCli([], env);
    assert.equal(none.code, 2);
    assert.match(none.stdout + none.stderr, /Usage: npx patron <command>/);
  });

  test('the server was not disturbed', async () => {
    assert.ok(server.running());
    await waitReady(server.url);
  });
});

describe('CLI next to a server on the same embedded data folder', () => {
  const dataDir = tempDataDir();
  const env = { DATABASE_URL: undefined, PATRON_DATA_DIR: dataDir, PATRON_API_KEY: randomKey() };
  let server: PatronProcess;
  let pgPid: number;

  before(async () => {
    server = await startPatron({ env });
    pgPid = postmasterPid(dataDir)!;
    assert.ok(pgPid && alive(pgPid));
  });
  after(async () => {
    await server?.stop();
  });

  const assertServerUntouched = async () => {
    assert.equal(postmasterPid(dataDir), pgPid, "the server's PostgreSQL is still the same process");
    assert.ok(alive(pgPid), "the CLI did not stop the server's PostgreSQL");
    await waitReady(server.url);
  };

  test('`tenants create` connects as a guest; its key works on the running server', async () => {
    const res = await runCli(['tenants', 'create', '--name', 'Embedded tenant'], env);
    assert.equal(res.code, 0, res.stderr);
    const m = CREATED.exec(res.stdout);
    assert.ok(m, `exact output, got ${JSON.stringify(res.stdout)}`);
    await assertServerUntouched();
    const me = await api(server.url, 'GET', '/v1/tenant', { key: m[2] });
    assert.equal(me.status, 200);
    assert.equal(me.body.id, m[1]);

    const key = await runCli(['keys', 'create', '--tenant', m[1]!, '--scopes', 'read,write'], env);
    assert.equal(key.code, 0, key.stderr);
    const made = JSON.parse(key.stdout);
    assert.equal((await api(server.url, 'POST', '/v1/members', { key: made.api_key, body: { first_name: 'Guest' } })).status, 201);
    const revoked = await runCli(['keys', 'revoke', '--tenant', m[1]!, '--key', made.key_id], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await api(server.url, 'GET', '/v1/members', { key: made.api_key })).status, 401);
    await assertServerUntouched();
  });

  test('`migrate`, `jobs list` and `jobs run` work next to the server and leave its PostgreSQL running', async () => {
    const migrate = await runCli(['migrate'], env);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /database ready \(embedded, port \d+\)/);
    await assertServerUntouched();

    const list = await runCli(['jobs', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^idempotency\.purge\s/m);

    const run = await runCli(['jobs', 'run', 'idempotency.purge'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).job, 'idempotency.purge');
    await assertServerUntouched();
  });
});

describe('a CLI command that started the embedded PostgreSQL itself', () => {
  const dataDir = tempDataDir();
  const key = randomKey();
  const env = { DATABASE_URL: undefined, PATRON_DATA_DIR: dataDir, PATRON_API_KEY: key };

  test('hands it over to a server started meanwhile, and leaves it running when it ends', async () => {
    // A server that was SIGKILLed leaves PostgreSQL running with no live owner.
    const first = await startPatron({ env });
    await first.stop('SIGKILL');
    const pgPid = postmasterPid(dataDir)!;
    assert.ok(alive(pgPid));

    // Make `jobs run idempotency.purge` wait in the database: its DELETE needs the table.
    const holder = await embeddedClient(dataDir);
    holder.on('error', () => undefined);
    let server: PatronProcess | null = null;
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE idempotency_keys IN EXCLUSIVE MODE');
      const cli = runCli(['jobs', 'run', 'idempotency.purge'], { ...env, LOG_LEVEL: 'debug' }); // debug: the CLI hides info logs
      await waitForLockWaiter(holder, 'the CLI to wait on the lock');

      // The CLI owns PostgreSQL now (it took it over); a server starts next to it.
      server = await startPatron({ env });
      assert.ok(server.logs().some((l) => /taking over the embedded PostgreSQL from CLI process \d+/.test(String(l.msg))), server.output());

      await holder.query('COMMIT');
      await holder.end();
      const res = await cli;
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /leaving the embedded PostgreSQL running for Patron process/);

      assert.ok(alive(pgPid), 'PostgreSQL is still running after the CLI ended');
      await waitReady(server.url);
      assert.equal((await api(server.url, 'GET', '/v1/tenant', { key })).status, 200);

      const exit = await server.stop('SIGTERM');
      assert.deepEqual(exit, { code: 0, signal: null }, server.output());
      assert.equal(alive(pgPid), false, 'the server, now the owner, stopped PostgreSQL');
    } finally {
      await holder.end().catch(() => undefined);
      await server?.stop().catch(() => undefined);
    }
  });
});
