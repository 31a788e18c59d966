/**
 * The one place where errors become HTTP: AppErrors, schema-validation errors,
 * Fastify's own errors (bad JSON, body too large, wrong content type, rate
 * limit) and PostgreSQL errors that bad input can still cause. Anything else is
 * a bug: logged with its stack and answered with a bare 500.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, isAppError, type FieldError } from '../errors.js';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
  /** Present with Ajv's `verbose`; a schema may carry an `x-message` for humans. */
  parentSchema?: { 'x-message'?: string };
}

/** `/consent/email` -> `consent.email`; `/lines/0/sku` -> `lines[0].sku`. */
export function pointerToField(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

const join = (base: string, prop: string) => (base ? `${base}.${prop}` : prop);

export function ajvToFieldErrors(validation: AjvError[], context?: string): FieldError[] {
  // Group by field first: a nullable union yields one error per branch plus an
  // `anyOf`, and the client should see one clear sentence per field.
  const byField = new Map<string, AjvError[]>();
  for (const e of validation) {
    const base = pointerToField(e.instancePath);
    let field = base;
    if (e.keyword === 'required') field = join(base, e.params.missingProperty);
    if (e.keyword === 'additionalProperties') field = join(base, e.params.additionalProperty);
    if (!field) field = context === 'body' || context === undefined ? '(body)' : `(${context})`;
    byField.set(field, [...(byField.get(field) ?? []), e]);
  }
  return [...byField.entries()].map(([field, errs]) => {
    const specific = errs.find((e) => e.keyword !== 'type' && e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
    if (specific) return { field, detail: describe(specific) };
    const types = [...new Set(errs.filter((e) => e.keyword === 'type').map((e) => String(e.params.type)))];
    if (types.length > 0) return { field, detail: `must be ${types.map(typeName).join(' or ')}` };
    return { field, detail: 'does not match any allowed form' };
  });
}

const typeName = (t: string) => (t === 'integer' ? 'a whole number' : t === 'null' ? 'null' : `of type ${t}`);

function describe(e: AjvError): string {
  const custom = e.parentSchema?.['x-message'];
  if (custom && (e.keyword === 'pattern' || e.keyword === 'format')) return custom;
  switch (e.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a known field';
    case 'format':
      return `must be a valid ${e.params.format}`;
    case 'enum':
      return `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: AppError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply
    .code(err.status)
    .type('application/problem+json')
    .send(problemBody(err, request.url, String(request.id)));
}

export function problemBody(err: AppError, instance: string, requestId: string) {
  return {
    type: `https://patron.dev/problems/${err.code.replace(/_/g, '-')}`,
    title: err.title,
    status: err.status,
    detail: err.message,
    code: err.code,
    instance,
    request_id: requestId,
    errors: err.errors,
  };
}

const FASTIFY_CODES: Record<string, (e: FastifyError) => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => errors.payloadTooLarge('The request body is larger than allowed.'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (e) => errors.unsupportedMediaType(e.message),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: (e) => errors.validation([{ field: '(body)', detail: e.message }]),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => errors.validation([{ field: '(body)', detail: 'must be a JSON document, got an empty body' }]),
  FST_ERR_CTP_INVALID_JSON_BODY: (e) => errors.validation([{ field: '(body)', detail: `is not valid JSON: ${e.message}` }]),
  FST_ERR_CTP_INVALID_TYPE: (e) => errors.validation([{ field: '(headers).content-type', detail: e.message }]),
};

export function installProblemHandlers(app: FastifyInstance<any, any, any, any, any>): void {
  app.setErrorHandler((err: FastifyError & { validation?: AjvError[]; validationContext?: string; code?: string }, request, reply) => {
    if (isAppError(err)) return sendProblem(request, reply, err);
    if (err.validation) {
      const fieldErrors = ajvToFieldErrors(err.validation, err.validationContext);
      return sendProblem(request, reply, errors.validation(fieldErrors));
    }
    const mapped = err.code ? FASTIFY_CODES[err.code] : undefined;
    if (mapped) return sendProblem(request, reply, mapped(err));
    if (err instanceof SyntaxError && err.statusCode === 400) {
      return sendProblem(request, reply, errors.validation([{ field: '(body)', detail: `is not valid JSON: ${err.message}` }]));
    }
    // Every pooled connection busy for longer than the pool waits: overload, not a bug.
    if (err instanceof Error && /timeout exceeded when trying to connect/i.test(err.message)) {
      request.log.warn({ err }, 'database pool exhausted');
      return sendProblem(request, reply, new AppError('unavailable', 'Patron is overloaded: no database connection became free in time. Retry shortly.', [], { 'retry-after': '1' }));
    }
    // PostgreSQL errors bad input can still reach (a value out of range for its column …).
    const pgCode = (err as { code?: string }).code;
    if (pgCode && /^(22|23)/.test(pgCode)) {
      request.log.warn({ err }, 'database rejected input');
      if (pgCode === '23505') return sendProblem(request, reply, errors.conflict('A resource with these unique values already exists.'));
      return sendProblem(request, reply, errors.unprocessable(`The database rejected a value: ${(err as Error).message}`));
    }
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Other 4xx from Fastify or its plugins (e.g. the rate limiter).
      const code = err.statusCode === 429 ? 'rate_limited' : err.statusCode === 413 ? 'payload_too_large' : err.statusCode === 415 ? 'unsupported_media_type' : 'validation_failed';
      return sendProblem(request, reply, new AppError(code, err.message));
    }
    request.log.error({ err }, 'unhandled error');
    return reply
      .code(500)
      .type('application/problem+json')
      .send({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'An unexpected error occurred. It has been logged with this request id.', code: 'internal', request_id: String(request.id), errors: [] });
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new AppError('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`)),
  );
}
