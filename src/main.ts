/**
 * The CLI: `npx patron <command>`.
 *
 *   start                      run the server (embedded PostgreSQL unless DATABASE_URL)
 *   demo                       start with the demo program loaded, print URLs and a key
 *   migrate                    apply pending migrations and exit
 *   tenants create --name N    create a tenant; prints {"tenant_id": "…", "api_key": "…"}
 *   keys create --tenant ID [--name N] [--scopes read,write]
 *   keys revoke --tenant ID --key KEY_ID
 *   jobs list | jobs run NAME [--data JSON]
 *
 * Commands other than start/demo work next to a running server on the same
 * data folder: they connect to its embedded PostgreSQL as guests.
 */
import { parseArgs } from 'node:util';
import { createPatron, type Patron } from './app.js';
import { ConfigError, loadConfig, CONFIG_VARIABLES, type Config } from './platform/config.js';
import { EmbeddedPostgresError } from './platform/db/embedded.js';
import { isAppError } from './platform/errors.js';
import { recordAudit } from './platform/audit/audit.js';
import type { Tx } from './platform/db/db.js';
import { isUuid } from './platform/ids.js';
import { createLogger } from './platform/logger.js';
import { loadDemo } from './demo/demo.js';
import type { Scope } from './platform/http/auth.js';

const USAGE = `Usage: npx patron <command>

  start                         Run Patron (HTTP API, jobs)
  demo                          Run Patron with the demo program; prints the URLs and an API key
  migrate                       Apply pending database migrations and exit
  tenants create --name NAME [--currency EUR] [--locale en] [--time-zone Europe/Sofia]
  keys create --tenant ID [--name NAME] [--scopes read,write,admin]
  keys revoke --tenant ID --key KEY_ID
  jobs list                     List background and scheduled jobs
  jobs run NAME [--data JSON]   Run a job now, in this process

Environment:
${CONFIG_VARIABLES.map((v) => `  ${v.name.padEnd(28)} ${v.description} (default ${v.default})`).join('\n')}
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    return usage((err as Error).message); // an unknown or malformed option
  }
  const { values, positionals } = parsed;
  const [command, sub, arg] = positionals;
  if (!command || values.help || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  const config = loadConfig();

  switch (command) {
    case 'start':
    case 'demo':
      return serve(config, command === 'demo');
    case 'migrate':
      return withPatron(config, async (p) => {
        process.stdout.write(`migrations applied; database ready (${p.embedded ? `embedded, port ${p.embedded.port}` : 'external'})\n`);
      });
    case 'tenants':
      if (sub !== 'create' || !values.name) return usage('tenants create --name NAME');
      return withPatron(config, async (p) => {
        const created = await p.db.tx(async (tx) => {
          const made = await p.services.tenants.createTenant(tx, {
            name: values.name!,
            ...(values.currency ? { default_currency: values.currency } : {}),
            ...(values.locale ? { default_locale: values.locale } : {}),
            ...(values['time-zone'] ? { time_zone: values['time-zone'] } : {}),
          }, { createdBy: 'cli' });
          await auditCli(tx, p, made.tenant.id, 'tenants create', 'tenant', made.tenant.id);
          return made;
        });
        process.stdout.write(`{"tenant_id": ${JSON.stringify(created.tenant.id)}, "api_key": ${JSON.stringify(created.apiKey)}}\n`);
      });
    case 'keys':
      if (values.tenant !== undefined && !isUuid(values.tenant)) return usage(`--tenant takes a tenant id (a UUID), got "${values.tenant}"`);
      if (values.key !== undefined && !isUuid(values.key)) return usage(`--key takes a key id (a UUID, see GET /v1/api-keys), got "${values.key}"`);
      if (sub === 'create' && values.tenant) {
        const scopes = (values.scopes ?? 'admin').split(',').map((s) => s.trim()) as Scope[];
        if (!scopes.every((s) => ['read', 'write', 'admin'].includes(s))) return usage('--scopes takes read, write and/or admin');
        return withPatron(config, async (p) => {
          if (!(await p.services.tenants.getTenant(p.db, values.tenant!))) throw new CliError(`No tenant ${values.tenant}`);
          const { key, row } = await p.db.tx(async (tx) => {
            const made = await p.services.tenants.createKey(tx, values.tenant!, { name: values.name ?? 'CLI key', scopes, createdBy: 'cli' });
            await auditCli(tx, p, values.tenant!, 'keys create', 'api_key', made.row.id);
            return made;
          });
          process.stdout.write(`{"key_id": ${JSON.stringify(row.id)}, "api_key": ${JSON.stringify(key)}, "scopes": ${JSON.stringify(row.scopes)}}\n`);
        });
      }
      if (sub === 'revoke' && values.tenant && values.key) {
        return withPatron(config, async (p) => {
          const row = await p.db.tx(async (tx) => {
            const revoked = await p.services.tenants.revokeKey(tx, values.tenant!, values.key!);
            await auditCli(tx, p, values.tenant!, 'keys revoke', 'api_key', revoked.id);
            return revoked;
          });
          process.stdout.write(`{"key_id": ${JSON.stringify(row.id)}, "revoked_at": ${JSON.stringify(row.revoked_at)}}\n`);
        });
      }
      return usage('keys create --tenant ID [--scopes …] | keys revoke --tenant ID --key KEY_ID');
    case 'jobs':
      if (sub === 'list') {
        return withPatron(config, async (p) => {
          // Columns as wide as their longest value, at least two spaces apart (scripts split on that).
          const jobs = p.jobs.list();
          const nameWidth = Math.max(26, ...jobs.map((j) => j.name.length)) + 2;
          const scheduleWidth = Math.max(12, ...jobs.map((j) => (j.schedule ?? 'on demand').length)) + 2;
          for (const j of jobs) process.stdout.write(`${j.name.padEnd(nameWidth)}${(j.schedule ?? 'on demand').padEnd(scheduleWidth)}${j.description}\n`);
        });
      }
      if (sub === 'run' && arg) {
        return withPatron(config, async (p) => {
          if (!p.jobs.has(arg)) throw new CliError(`Unknown job "${arg}". Run \`npx patron jobs list\`.`);
          let data: object = {};
          try {
            if (values.data) data = JSON.parse(values.data) as object;
          } catch {
            throw new CliError(`--data must be JSON, got ${values.data}`);
          }
          const result = await p.jobs.runNow(arg, data);
          process.stdout.write(`${JSON.stringify({ job: arg, result: result ?? null })}\n`);
        });
      }
      return usage('jobs list | jobs run NAME');
    default:
      return usage(`unknown command "${command}"`);
  }
}

function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      currency: { type: 'string' },
      locale: { type: 'string' },
      'time-zone': { type: 'string' },
      tenant: { type: 'string' },
      key: { type: 'string' },
      scopes: { type: 'string' },
      data: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

class CliError extends Error {}

/** CLI writes are audited like API writes, with the operator as the actor. */
function auditCli(tx: Tx, p: Patron, tenantId: string, action: string, resourceType: string, resourceId: string): Promise<void> {
  return recordAudit(tx, {
    tenantId, actor: { type: 'operator', id: 'cli' }, action: `cli ${action}`, resourceType, resourceId,
    changedFields: [], requestId: null, occurredAt: p.clock.now(),
  });
}

function usage(msg: string): number {
  process.stderr.write(`patron: ${msg}\n\n${USAGE}`);
  return 2;
}

/** Builds Patron without HTTP or job workers, runs `fn`, and closes it. */
async function withPatron(config: Config, fn: (p: Patron) => Promise<void>): Promise<number> {
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const patron = await createPatron({ config, logger, http: false, jobs: 'off' });
  try {
    await fn(patron);
    return 0;
  } finally {
    await patron.close();
  }
}

async function serve(config: Config, demo: boolean): Promise<number> {
  const logger = createLogger(config.logLevel);
  const patron = await createPatron({ config, logger, jobs: config.jobsEnabled ? 'work' : 'client' });
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 30 s; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      await patron.close();
      logger.info('stopped');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  let demoKey: string | null = null;
  let surveyPath: string | null = null;
  let url: string;
  try {
    if (demo) {
      const result = await loadDemo(patron);
      demoKey = result.apiKey;
      surveyPath = result.surveyPath;
    }
    url = await patron.listen();
  } catch (err) {
    // Stop what this process started (the embedded PostgreSQL) before exiting.
    await patron.close().catch(() => undefined);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`Port ${config.port} on ${config.host} is already in use: set PORT to a free port (or 0 for any).`);
    }
    throw err;
  }
  const base = config.publicUrl ?? url;
  const lines = [
    '',
    `Patron ${demo ? 'demo ' : ''}is running.`,
    `  API:        ${base}/v1`,
    `  API docs:   ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `  Database:   ${patron.embedded ? `embedded PostgreSQL on 127.0.0.1:${patron.embedded.port}, data in ${patron.embedded.dataDir}` : 'external (DATABASE_URL)'}`,
  ];
  lines.push(`  Email:      ${config.smtpUrl ? `through ${new URL(config.smtpUrl).host} (SMTP_URL)` : 'not sent: set SMTP_URL (messages are kept in the send log as failed: smtp_not_configured)'}`);
  if (surveyPath) lines.push(`  Survey:     ${base}${surveyPath}   (the demo's public NPS survey page)`);
  if (demoKey) {
    lines.push(`  API key:    ${demoKey}   (demo tenant, admin scope)`, '', '  Try:');
    for (const p of ['/v1/members?limit=3', '/v1/tiers', '/v1/rewards?limit=3', '/v1/surveys', '/v1/cases?status=open&breached=true&limit=3', '/v1/analytics/rfm', '/v1/analytics/at-risk?limit=5', '/v1/messaging/triggers']) {
      lines.push(`    curl -H "Authorization: Bearer ${demoKey}" "${base}${p}"`);
    }
  }
  else if (config.apiKey) lines.push('  API key:    the value of PATRON_API_KEY (default tenant, admin scope)');
  else lines.push('  API key:    none configured: set PATRON_API_KEY, or run `npx patron tenants create --name NAME`');
  lines.push('', 'Stop with Ctrl+C.', '');
  process.stdout.write(lines.join('\n'));
  return new Promise<number>(() => undefined); // runs until a signal
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof ConfigError || err instanceof EmbeddedPostgresError || err instanceof CliError || isAppError(err)) {
      process.stderr.write(`patron: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`patron: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
