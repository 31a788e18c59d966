/** The program settings over HTTP: `GET /v1/program` (read) and `PATCH /v1/program` (admin). */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../platform/db/db.js';
import { tenantOf } from '../../platform/http/auth.js';
import { rejectBadBody } from '../../platform/http/validation.js';
import type { HttpKit } from '../../platform/http/kit.js';
import { problems } from '../../platform/http/schema.js';
import type { HttpServer } from '../../platform/http/server.js';
import { Program, UpdateProgramBody } from './programs.schema.js';
import type { ProgramsService } from './programs.service.js';
import type { ProgramPatch } from './programs.types.js';


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
