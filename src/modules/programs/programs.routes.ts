/** The program settings over HTTP: `GET /v1/program` (read) and `PATCH /v1/program` (admin). */
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { Db } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { tenantOf } from '../../platform/http/auth.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import { problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { Program, UpdateProgramBody } from './programs.schema.js';
import type { ProgramsService } from './programs.service.js';
import type { ProgramPatch } from './programs.types.js';

/**
 * One 400 with every bad field of both layers, the schema's and the service's (which names read-only fields and
 * the fields of each expiry kind more precisely), before any write: a rejected request is never stored under its
 * Idempotency-Key.
 */
function rejectBadBody(req: FastifyRequest, check: (body: unknown) => FieldError[]): void {
  const failed = req.validationError as (Error & { validation?: any[]; validationContext?: string }) | undefined;
  if (failed && !failed.validation) throw failed;
  const schemaErrs = failed?.validation ? ajvToFieldErrors(failed.validation, failed.validationContext) : [];
  if (failed && failed.validationContext !== 'body') throw errors.validation(schemaErrs);
  const own = check(req.body);
  // The schema's error on a field the service reports on (or on a field inside it, or around it: a nullable
  // object's `anyOf`) says the same thing less precisely.
  const related = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
  const all = [...own, ...schemaErrs.filter((e) => !own.some((o) => related(o.field, e.field)))];
  if (all.length) throw errors.validation(all);
}

export function programsRoutes(deps: { db: Db; programs: ProgramsService; http: HttpKit }) {
  const { db, programs, http } = deps;
  const tags = ['program'];
  return async function (app: HttpServer) {
    app.addSchema(Program);

    app.get('/v1/program', {
      schema: { tags, summary: 'The program settings (the defaults until first changed)', response: { 200: Type.Ref(Program), ...problems(401) } },
    }, async (req) => programs.get(db, tenantOf(req).tenantId));

    app.patch('/v1/program', {
      config: { auth: 'admin' },
      attachValidation: true,
      schema: { tags, summary: 'Change program settings (only the fields sent)', body: UpdateProgramBody, response: { 200: Type.Ref(Program), ...problems(400, 401, 403, 409) } },
    }, async (req, reply) => {
      rejectBadBody(req, (body) => programs.checkFields(body));
      return http.write(req, reply, { resource: 'program', resourceId: () => tenantOf(req).tenantId }, (tx) => programs.update(tx, tenantOf(req).tenantId, req.body as ProgramPatch));
    });
  };
}
