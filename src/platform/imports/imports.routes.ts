/**
 * Import routes, for every registered importer: `POST {path}` (upload),
 * `GET {path}/{id}` (status) and `GET {path}/{id}/rejections`.
 *
 * The CSV and NDJSON content-type parsers are registered in this plugin only
 * (Fastify scopes them to it), so every other route still answers 415 to such
 * bodies. They hand the raw request stream to the handler: the JSON body limit
 * does not apply, the import limit is enforced while the upload streams in.
 */
import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { errors } from '../errors.js';
import { makeAjv } from '../http/ajv.js';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, page } from '../http/pagination.js';
import { ajvToFieldErrors } from '../http/problem.js';
import { Page, problems } from '../http/schema.js';
import type { HttpServer } from '../http/server.js';
import { idempotencyKeyOf } from '../http/write.js';
import type { ImportFormat, Imports } from './imports.js';
import { ImportIdParams, ImportSchema, RejectionSchema, RejectionsQuery, REJECTIONS_IN_STATUS } from './imports.schema.js';

const MEDIA_TYPES: Record<string, ImportFormat> = { 'text/csv': 'csv', 'application/x-ndjson': 'ndjson' };

function formatOf(contentType: string | undefined): ImportFormat | null {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return MEDIA_TYPES[essence] ?? null;
}

const isLineCursor = (v: any): v is { line: number } => typeof v === 'object' && v !== null && Number.isSafeInteger(v.line) && v.line >= 0;

export function importsRoutes(deps: { imports: Imports }) {
  const { imports } = deps;
  return async function (app: HttpServer) {
    app.addSchema(RejectionSchema);
    app.addSchema(ImportSchema);

    app.addContentTypeParser(Object.keys(MEDIA_TYPES), (request, payload, done) => {
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > imports.importLimit) {
        done(errors.payloadTooLarge(`The file is larger than the import limit of ${imports.importLimit} bytes (IMPORT_LIMIT_BYTES).`), undefined);
        return;
      }
      done(null, payload);
    });
    // After a 413 the rest of the upload is not wanted: close instead of reading it to the end.
    app.addHook('onSend', async (_request, reply, payload) => {
      if (reply.statusCode === 413) reply.header('connection', 'close');
      return payload;
    });

    const optionsAjv = makeAjv('other');
    for (const importer of imports.list()) {
      const tags = importer.tags;
      // The route's own validation is off (the body is a stream): the options are checked here, coerced, with defaults.
      const checkOptions = importer.options ? optionsAjv.compile(importer.options) : null;
      const Import = Type.Ref(ImportSchema);
      const fileSchema = (description: string) => ({ schema: { type: 'string', description } });

      app.post(importer.path, {
        schema: {
          tags,
          summary: `Import ${importer.kind} from a CSV or NDJSON file`,
          description:
            `Upload the file as the raw request body (\`Content-Type: text/csv\` or \`application/x-ndjson\`), up to IMPORT_LIMIT_BYTES. ` +
            `Answers 202 with the queued import; follow it at \`GET ${importer.path}/{id}\`. Rows are upserted by \`${importer.keyColumn}\`. ` +
            `An \`Idempotency-Key\` makes a retried upload of the same file return the first import.\n\n${importer.description}`,
          body: {
            content: {
              'text/csv': fileSchema('CSV with a header row (RFC 4180, UTF-8).'),
              'application/x-ndjson': fileSchema('One JSON object per line (UTF-8).'),
            },
          },
          ...(importer.options ? { querystring: importer.options } : {}),
          response: { 202: Import, ...problems(400, 401, 403, 409, 413, 415, 429) },
        },
        // The body is the request stream itself, read by the handler: nothing to validate here.
        validatorCompiler: () => () => true,
      }, async (request, reply) => {
        const format = formatOf(request.headers['content-type']);
        if (!format || !request.body || typeof (request.body as Readable).pipe !== 'function') {
          throw errors.unsupportedMediaType(`Send the file as the request body with Content-Type text/csv or application/x-ndjson (got ${request.headers['content-type'] ?? 'none'}).`);
        }
        let options: Record<string, unknown> = {};
        if (checkOptions) {
          options = { ...(request.query as Record<string, unknown>) };
          if (!checkOptions(options)) throw errors.validation(ajvToFieldErrors((checkOptions.errors ?? []) as any, 'querystring'));
        }
        const auth = tenantOf(request);
        const key = idempotencyKeyOf(request);
        const declared = Number(request.headers['content-length']);
        const outcome = await imports.start({
          tenantId: auth.tenantId,
          actor: auth.actor,
          kind: importer.kind,
          format,
          options,
          body: request.body as AsyncIterable<Buffer>,
          declaredLength: Number.isFinite(declared) ? declared : undefined,
          idempotencyKey: key,
          method: request.method,
          url: request.url,
          action: `${request.method} ${request.routeOptions.url}`,
          requestId: String(request.id),
        });
        if (outcome.replayed) reply.header('idempotent-replayed', 'true');
        const id = (outcome.body as { id?: string } | null)?.id;
        if (outcome.status === 202 && id) reply.header('location', `${importer.path}/${id}`);
        if (outcome.status >= 400) reply.type('application/problem+json');
        // A stored answer keeps the status it was given (always 202: errors are not stored for uploads).
        return reply.code(outcome.status as 202).send(outcome.body);
      });

      app.get(`${importer.path}/:id`, {
        schema: {
          tags,
          summary: `Status of a ${importer.kind} import`,
          description: `Status, progress, counts, ignored columns and the first ${REJECTIONS_IN_STATUS} rejected rows (the rest: \`GET ${importer.path}/{id}/rejections\`).`,
          params: ImportIdParams,
          response: { 200: Import, ...problems(400, 401, 404) },
        },
      }, async (request) => imports.get(tenantOf(request).tenantId, importer.kind, request.params.id));

      app.get(`${importer.path}/:id/rejections`, {
        schema: {
          tags,
          summary: `Rejected rows of a ${importer.kind} import`,
          description: 'Every rejected row with its line and reason, in line order.',
          params: ImportIdParams,
          querystring: RejectionsQuery,
          response: { 200: Page(Type.Ref(RejectionSchema)), ...problems(400, 401, 404) },
        },
      }, async (request) => {
        const q = request.query;
        const after = decodeCursor(q.cursor, isLineCursor)?.line ?? 0;
        const rows = await imports.rejections(tenantOf(request).tenantId, importer.kind, request.params.id, after, q.limit + 1);
        return page(rows, q.limit, (r) => r, (r) => ({ line: r.line }));
      });
    }
  };
}
