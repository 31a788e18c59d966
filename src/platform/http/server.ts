/**
 * The Fastify instance and the cross-cutting plugins every route gets: request
 * ids, structured logs, validation (every bad field, unknown fields rejected),
 * problem+json errors, auth and scopes, rate limits, metrics and the OpenAPI
 * document. Modules add their routes as plugins on top.
 */
import crypto from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions, type FastifyTypeProvider } from 'fastify';
import type { Static, TSchema } from '@sinclair/typebox';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Metrics } from '../metrics.js';
import { ERROR_CATALOG, errors } from '../errors.js';
import { installAuth, routePolicy, type AuthPolicy, type KeyResolver } from './auth.js';
import { makeAjv } from './ajv.js';
import { installProblemHandlers, sendProblem } from './problem.js';
import { ProblemSchema } from './schema.js';

/**
 * Request bodies, queries and params are typed from their TypeBox schemas.
 * Replies are not: handlers return domain rows (with Date objects) and the
 * response schema serialises them, so the wire type differs from the TS type.
 */
export interface PatronTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: unknown;
}

export type HttpServer = FastifyInstance<any, any, any, Logger, PatronTypeProvider>;

/** Every route registered, for the tests that walk the whole API (tenant isolation, scopes). */
export interface RouteInfo {
  method: string;
  url: string;
  auth: string | undefined;
  /** The effective policy: `auth`, or the default for the method and URL (see auth.ts). */
  policy: AuthPolicy;
  hasBody: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: RouteInfo[];
  }
}

export interface ServerDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  resolveKey: KeyResolver;
  version: string;
}


export async function createServer(deps: ServerDeps): Promise<HttpServer> {
  const { config } = deps;
  /** Validator compilers by their shared schemas (one server's: compiled schemas hold their Ajv). */
  const validatorPool = new Map<string, (route: { schema: object; httpPart?: string }) => unknown>();
  const opts: FastifyServerOptions = {
    loggerInstance: deps.logger,
    bodyLimit: config.bodyLimit,
    // request.ip is the client's only behind the proxies the operator named (per-IP limits of the survey pages).
    trustProxy: config.trustProxy,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
    forceCloseConnections: 'idle',
    // A socket with no traffic for a minute is closed: a stalled upload must not
    // hold its database connection and transaction open for ever.
    connectionTimeout: 60_000,
    return503OnClosing: true,
    // Path parameters carry client ids (a member's external_id, up to 200
    // characters, longer once percent-encoded); the router's default of 100 is too short.
    routerOptions: { maxParamLength: 2000 },
    // The router's own rejections (a malformed %-escape, an over-long parameter) as problem documents too.
    frameworkErrors: (err: Error & { code?: string }, request: any, reply: any) =>
      sendProblem(request, reply, errors.validation([{ field: '(path)', detail: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : 'is not a valid URL path' }])),
    logController: new LogController({ requestIdLogLabel: 'request_id', disableRequestLogging: true }),
    // Our own Ajv instances (see makeAjv). Given as a factory, not through
    // setValidatorCompiler, because Fastify rebuilds the compiler for every
    // plugin that adds shared schemas, from this factory. Compilers are pooled
    // by their shared schemas, as Fastify's own factory does: a new Ajv
    // compiles its meta-schema first, and one pair per plugin made that most
    // of a server's start-up time.
    schemaController: {
      compilersFactory: {
        buildValidator: (externalSchemas: Record<string, unknown>) => {
          const key = JSON.stringify(externalSchemas ?? {});
          const pooled = validatorPool.get(key);
          if (pooled) return pooled;
          const body = makeAjv('body');
          const other = makeAjv('other');
          for (const schema of Object.values(externalSchemas ?? {})) {
            body.addSchema(schema as object);
            other.addSchema(schema as object);
          }
          const compiler = ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body : other).compile(schema);
          validatorPool.set(key, compiler);
          return compiler;
        },
      },
    },
  } as FastifyServerOptions;
  const app = Fastify(opts).withTypeProvider<PatronTypeProvider>() as unknown as HttpServer;


  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    deps.metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info({ method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
  });

  // Graceful shutdown: a response sent while Patron is closing ends its
  // keep-alive connection; otherwise the client's now idle connection would
  // hold close() open until the keep-alive timeout (72 s).
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  const routeTable: RouteInfo[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routeTable.push({ method, url: route.url, auth: route.config?.auth, policy: routePolicy(method, route.url, route.config?.auth), hasBody: Boolean(route.schema?.body) });
    }
  });

  // JSON only: Fastify also parses text/plain by default, which turned a
  // wrong Content-Type into a confusing 400 instead of a 415. Routes that take
  // other types (imports) add their own parsers.
  app.removeContentTypeParser('text/plain');
  // JSON as Fastify parses it (prototype-poisoning checks included), except that
  // an empty body is no body: `POST …/unblock` with `Content-Type:
  // application/json` and nothing else is fine. A route that needs a body still
  // answers 400 naming `(body)`, from its schema.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (typeof body === 'string' && body.trim() === '') {
      done(null, undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
  installProblemHandlers(app);
  installAuth(app, { resolveKey: deps.resolveKey, operatorKey: config.operatorKey });

  // A route without a body schema takes no fields: `{"x": 1}` sent to it is an
  // unknown field, as on every other route, not something silently ignored.
  // (Streamed bodies, such as imports, are not JSON and pass through.)
  app.addHook('preValidation', async (request) => {
    // PostgreSQL text cannot hold U+0000: a NUL in a query or path parameter is
    // bad input, named here, instead of a database error later.
    for (const [part, values] of [['query', request.query], ['params', request.params]] as const) {
      for (const [name, value] of Object.entries((values ?? {}) as Record<string, unknown>)) {
        if (typeof value === 'string' && value.includes('\u0000')) throw errors.field(name, `must not contain the NUL character (in the ${part})`);
      }
    }
    if (request.routeOptions.schema?.body) return;
    const body = request.body as unknown;
    if (body === undefined || body === null || typeof (body as { pipe?: unknown }).pipe === 'function') return;
    if (typeof body !== 'object' || Array.isArray(body)) throw errors.validation([{ field: '(body)', detail: 'this route takes no body' }]);
    const fields = Object.keys(body);
    if (fields.length > 0) throw errors.validation(fields.map((field) => ({ field, detail: 'is not a known field' })));
  });

  app.addSchema(ProblemSchema);

  await app.register(rateLimit, {
    global: config.rateLimit.enabled,
    max: config.rateLimit.max,
    timeWindow: config.rateLimit.windowMs,
    hook: 'preHandler', // after auth, so the limit is per API key
    keyGenerator: (request) => request.auth?.keyId ?? request.auth?.actor.id ?? request.ip,
    // Thrown to the error handler, which answers 429 problem+json; the plugin has set Retry-After.
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Rate limit of ${context.max} requests per ${context.after} exceeded for this API key.`), { statusCode: 429 }),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Patron API',
        version: deps.version,
        description:
          'Patron: self-hosted customer loyalty and retention. JSON in snake_case; lists as `{data, next_cursor}`; errors as application/problem+json; ' +
          '`Idempotency-Key` accepted on every POST, PATCH and DELETE. Error codes: ' + ERROR_CATALOG.map((e) => `\`${e.code}\` (${e.status})`).join(', ') + '.',
      },
      servers: [{ url: config.publicUrl ?? '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Patron API key.' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public', rateLimit: false } }, async () => app.swagger());

  return app;
}
