/**
 * Configuration from the environment, validated once at start. An empty
 * variable counts as unset. A bad value stops Patron with a message that names
 * the variable and what it expects.
 */
import net from 'node:net';
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** External PostgreSQL; undefined means the embedded server. */
  databaseUrl: string | undefined;
  dataDir: string;
  apiKey: string | undefined;
  operatorKey: string | undefined;
  logLevel: LogLevel;
  rateLimit: { enabled: boolean; max: number; windowMs: number };
  /**
   * The stricter limit of voucher code look-ups (validation and redemption by code) per API key, on top of
   * `rateLimit` and only when it is enabled: `max` look-ups and `missesMax` unknown codes per window.
   */
  voucherRateLimit: { max: number; missesMax: number; windowMs: number };
  /** Answers posted to the public survey pages per client IP (no key to count them against). */
  surveyPageRateLimit: { max: number; windowMs: number };
  /** Largest JSON body accepted, in bytes. */
  bodyLimit: number;
  /** Largest import upload accepted, in bytes. */
  importLimit: number;
  dbPoolSize: number;
  /** Run the job workers and scheduler in this process. */
  jobsEnabled: boolean;
  /** How long stored Idempotency-Key answers are kept, in hours (at least 24). */
  idempotencyRetentionHours: number;
  /** Public base URL used in printed links. */
  publicUrl: string | undefined;
  /**
   * Which proxies' X-Forwarded-For Patron believes (Fastify's trustProxy): false (none, the default), a number of
   * hops, or a list of proxy addresses and CIDR ranges. Behind a load balancer this gives per-client limits on the
   * public survey pages their real client address.
   */
  trustProxy: false | number | string[];
  /** SMTP server for email (nodemailer URL: smtp://user:pass@host:587, smtps://…); undefined: email is not sent. */
  smtpUrl: string | undefined;
  /** The sender when a tenant has not set its own (messaging settings `from_email`). */
  smtpFrom: string;
  /** How often, in milliseconds, a process with jobs polls the outbox, due webhook deliveries and due messages; 0: never. */
  deliveryPollMs: number;
  /** How long a webhook attempt waits for the receiver's answer, in milliseconds. */
  webhookTimeoutMs: number;
  /** WEBHOOK_LOG_RETENTION_DAYS: finished deliveries older than this are purged (the `webhooks.purge` job). */
  webhookLogRetentionDays: number;
  /**
   * Whether webhook URLs may reach loopback, private, link-local, CGNAT and unique-local addresses (development and
   * tests only: otherwise a tenant could make Patron POST to, and read answers from, the internal network).
   */
  webhookAllowPrivateNetworks: boolean;
}

/** TRUST_PROXY: unset or "false": none; a whole number: hops; else addresses and CIDR ranges (never "trust everyone"). */
function proxies(raw: string | undefined, problems: string[]): false | number | string[] {
  if (raw === undefined || /^(false|0|no|off)$/i.test(raw)) return false;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) problems.push(`TRUST_PROXY must be at most 10 hops, got ${hops}`);
    return hops;
  }
  const list = raw.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  const bad = list.filter((x) => {
    const [addr, bits, ...rest] = x.split('/');
    const family = net.isIP(addr ?? '');
    if (family === 0 || rest.length > 0) return true;
    if (bits === undefined) return false;
    return !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
  });
  if (list.length === 0 || bad.length > 0) {
    problems.push(`TRUST_PROXY must be a number of hops or proxy addresses / CIDR ranges separated by commas, got "${raw}"`);
    return false;
  }
  return list;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The variables Patron reads, with their defaults, for the README table and `--help`. */
export const CONFIG_VARIABLES: Array<{ name: string; default: string; description: string }> = [
  { name: 'PORT', default: '4000', description: 'HTTP port (0 picks a free one).' },
  { name: 'HOST', default: '127.0.0.1', description: 'Interface to listen on (0.0.0.0 for all).' },
  { name: 'DATABASE_URL', default: '(embedded)', description: 'PostgreSQL 15-18 connection string. Unset: Patron runs its own embedded PostgreSQL.' },
  { name: 'PATRON_DATA_DIR', default: './.patron', description: 'Folder of the embedded PostgreSQL (data, port, password).' },
  { name: 'PATRON_API_KEY', default: '(none)', description: 'At least 24 characters. At every start the default tenant gets this key with admin scope.' },
  { name: 'PATRON_OPERATOR_KEY', default: '(none)', description: 'At least 24 characters. Allows POST/GET /v1/tenants for hosting many tenants.' },
  { name: 'LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent.' },
  { name: 'RATE_LIMIT_ENABLED', default: 'true', description: 'Rate limiting per API key (true/false).' },
  { name: 'RATE_LIMIT_MAX', default: '6000', description: 'Requests per key per window.' },
  { name: 'RATE_LIMIT_WINDOW_MS', default: '60000', description: 'Rate-limit window in milliseconds.' },
  { name: 'VOUCHER_RATE_LIMIT_MAX', default: '600', description: 'Voucher code look-ups (validation, redemption by code) per key per window.' },
  { name: 'VOUCHER_RATE_LIMIT_MISSES', default: '30', description: 'Look-ups of unknown voucher codes per key per window; beyond them every look-up is a 429 until the window ends.' },
  { name: 'SURVEY_PAGE_RATE_LIMIT_MAX', default: '30', description: 'Answers posted to the public survey pages per client IP per window (the pages take no API key).' },
  { name: 'SURVEY_PAGE_RATE_LIMIT_WINDOW_MS', default: '60000', description: 'The survey page window in milliseconds.' },
  { name: 'VOUCHER_RATE_LIMIT_WINDOW_MS', default: '60000', description: 'The voucher look-up window in milliseconds.' },
  { name: 'BODY_LIMIT_BYTES', default: '1048576', description: 'Largest JSON request body.' },
  { name: 'IMPORT_LIMIT_BYTES', default: '2147483648', description: 'Largest import upload (streamed, never held in memory).' },
  { name: 'DB_POOL_SIZE', default: '20', description: 'PostgreSQL connections per Patron process.' },
  { name: 'PATRON_JOBS', default: 'true', description: 'Run background jobs and the scheduler in this process.' },
  { name: 'IDEMPOTENCY_RETENTION_HOURS', default: '48', description: 'How long Idempotency-Key answers are kept (at least 24).' },
  { name: 'PATRON_PUBLIC_URL', default: '(http://HOST:PORT)', description: 'Base URL printed in links.' },
  { name: 'SMTP_URL', default: '(none)', description: 'SMTP server for email, e.g. smtp://user:password@mail.example.com:587 or smtps://…:465. Unset: emails are logged as failed (smtp_not_configured), never sent.' },
  { name: 'SMTP_FROM', default: 'patron@localhost', description: 'Sender address for tenants that have not set their own.' },
  { name: 'DELIVERY_POLL_MS', default: '1000', description: 'How often a process with jobs looks for outbox events to dispatch, webhook deliveries and emails that are due; 0 turns the polling off (run the jobs on demand: the tests do).' },
  { name: 'WEBHOOK_TIMEOUT_MS', default: '15000', description: "How long a webhook attempt waits for the receiver's answer (1000 to 60000 ms)." },
  { name: 'WEBHOOK_LOG_RETENTION_DAYS', default: '30', description: 'How long finished webhook deliveries and their attempts stay in the delivery log (7 to 3650 days); the events themselves are kept.' },
  { name: 'WEBHOOK_ALLOW_PRIVATE_NETWORKS', default: 'false', description: 'Let webhook URLs reach loopback, private, link-local, CGNAT and unique-local addresses (development and tests only).' },
  { name: 'TRUST_PROXY', default: '(none)', description: 'Proxies whose X-Forwarded-For is believed: a number of hops, or proxy addresses / CIDR ranges separated by commas.' },
];

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!/^-?\d+$/.test(raw)) {
      problems.push(`${name} must be a whole number, got "${raw}"`);
      return def;
    }
    const n = Number(raw);
    if (n < min || n > max) problems.push(`${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
  const bool = (name: string, def: boolean): boolean => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return def;
  };
  const secret = (name: string): string | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    if (raw.length < 24) problems.push(`${name} must be at least 24 characters long (got ${raw.length})`);
    else if (/\s/.test(raw)) problems.push(`${name} must not contain white space`);
    return raw;
  };

  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined) {
    try {
      const u = new URL(databaseUrl);
      if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
        problems.push(`DATABASE_URL must start with postgres:// or postgresql://, got "${u.protocol}"`);
      }
    } catch {
      problems.push('DATABASE_URL is not a valid URL (expected postgres://user:password@host:port/database)');
    }
  }
  const logLevel = (get('LOG_LEVEL') ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  const trustProxy = proxies(get('TRUST_PROXY'), problems);
  const publicUrl = get('PATRON_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\//.test(publicUrl)) problems.push('PATRON_PUBLIC_URL must start with http:// or https://');

  const smtpUrl = get('SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL must start with smtp:// or smtps://');
  const smtpFrom = get('SMTP_FROM') ?? 'patron@localhost';
  if (!/^[^\s@]+@[^\s@]+$/.test(smtpFrom)) problems.push(`SMTP_FROM must be an email address, got "${smtpFrom}"`);

  const config: Config = {
    port: int('PORT', 4000, 0, 65535),
    host: get('HOST') ?? '127.0.0.1',
    databaseUrl,
    dataDir: path.resolve(cwd, get('PATRON_DATA_DIR') ?? '.patron'),
    apiKey: secret('PATRON_API_KEY'),
    operatorKey: secret('PATRON_OPERATOR_KEY'),
    logLevel,
    rateLimit: {
      enabled: bool('RATE_LIMIT_ENABLED', true),
      max: int('RATE_LIMIT_MAX', 6000, 1, 10_000_000),
      windowMs: int('RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    },
    voucherRateLimit: {
      max: int('VOUCHER_RATE_LIMIT_MAX', 600, 1, 10_000_000),
      missesMax: int('VOUCHER_RATE_LIMIT_MISSES', 30, 1, 10_000_000),
      windowMs: int('VOUCHER_RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    },
    surveyPageRateLimit: {
      max: int('SURVEY_PAGE_RATE_LIMIT_MAX', 30, 1, 10_000_000),
      windowMs: int('SURVEY_PAGE_RATE_LIMIT_WINDOW_MS', 60_000, 1000, 86_400_000),
    },
    bodyLimit: int('BODY_LIMIT_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
    importLimit: int('IMPORT_LIMIT_BYTES', 2 * 1024 * 1024 * 1024, 1024, 64 * 1024 * 1024 * 1024),
    dbPoolSize: int('DB_POOL_SIZE', 20, 2, 500),
    jobsEnabled: bool('PATRON_JOBS', true),
    idempotencyRetentionHours: int('IDEMPOTENCY_RETENTION_HOURS', 48, 24, 24 * 365),
    publicUrl,
    trustProxy,
    smtpUrl,
    smtpFrom,
    deliveryPollMs: int('DELIVERY_POLL_MS', 1000, 0, 600_000),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 15_000, 1000, 60_000),
    webhookLogRetentionDays: int('WEBHOOK_LOG_RETENTION_DAYS', 30, 7, 3650),
    webhookAllowPrivateNetworks: bool('WEBHOOK_ALLOW_PRIVATE_NETWORKS', false),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
