/**
 * Test helpers: a real Patron (real PostgreSQL, real HTTP server on loopback)
 * per test file, and a fresh tenant per test that needs isolation.
 *
 * Test files share one database, and some start Patron with its job workers,
 * which run whatever jobs are queued, over every tenant. Test apps never fire the
 * cron schedules nor run the delivery pumps (`schedule: false`,
 * DELIVERY_POLL_MS=0): tests run scheduled jobs on demand. A test that makes
 * points or holds due (pending periods, expiry, hold lifetimes) still sets its
 * clock after 2030, so that nothing of it is due on the real clock.
 */
import { createPatron, type Patron, type PatronOptions } from '../src/app.js';
import { SettableClock } from '../src/platform/clock.js';
import { loadConfig, type Config } from '../src/platform/config.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface TestApp {
  patron: Patron;
  url: string;
  clock: SettableClock;
  /** A fresh tenant with an admin key. */
  newTenant(name?: string): Promise<TestTenant>;
  close(): Promise<void>;
}

export interface TestTenant {
  id: string;
  key: string;
  /** Calls the API with this tenant's admin key (or `opts.key`). */
  api<T = any>(method: string, path: string, opts?: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; key?: string | null }): Promise<ApiResponse<T>>;
  /** A key of this tenant with the given scopes. */
  keyWith(scopes: Array<'read' | 'write' | 'admin'>): Promise<string>;
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  if (!process.env.DATABASE_URL) {
    throw new Error('DATABASE_URL is not set: run the tests with `npm test`, which prepares a database.');
  }
  return loadConfig({
    DATABASE_URL: process.env.DATABASE_URL,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
    RATE_LIMIT_ENABLED: 'false',
    DB_POOL_SIZE: '10',
    // No delivery pumps: test files share one database, and a pump of one file's app would dispatch, deliver and
    // send the other files' tenants' work with its own configuration (its SMTP_URL) on the real clock. Tests run
    // outbox.dispatch, webhooks.deliver and messages.send on demand (or opt in with DELIVERY_POLL_MS).
    DELIVERY_POLL_MS: '0',
    // The test receivers listen on loopback, which production refuses (docs/webhooks.md).
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    ...overrides,
  });
}

export async function call<T = any>(url: string, method: string, path: string, opts: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; key?: string | null } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.key) headers.authorization = `Bearer ${opts.key}`;
  let body: string | Buffer | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, { method, headers, body: body as BodyInit | undefined });
  const text = await res.text();
  let parsed: any = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export async function startTestApp(opts: { env?: Record<string, string>; jobs?: PatronOptions['jobs'] } = {}): Promise<TestApp> {
  const clock = new SettableClock();
  const patron = await createPatron({ config: testConfig(opts.env), clock, jobs: opts.jobs ?? 'off', schedule: false });
  const url = await patron.listen();
  let n = 0;
  return {
    patron,
    url,
    clock,
    async newTenant(name = `Test tenant ${++n}`) {
      const created = await patron.db.tx((tx) => patron.services.tenants.createTenant(tx, { name }));
      const id = created.tenant.id;
      const key = created.apiKey;
      return {
        id,
        key,
        api: (method, path, o = {}) => call(url, method, path, { ...o, key: o.key === undefined ? key : o.key }),
        async keyWith(scopes) {
          const made = await patron.db.tx((tx) => patron.services.tenants.createKey(tx, id, { name: scopes.join('+'), scopes, createdBy: 'test' }));
          return made.key;
        },
      };
    },
    close: () => patron.close(),
  };
}
