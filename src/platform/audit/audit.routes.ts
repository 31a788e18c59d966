/** GET /v1/audit-log: who changed what, newest first. */
import { Type } from '@sinclair/typebox';
import type { Db } from '../db/db.js';
import { tenantOf } from '../http/auth.js';
import { decodeCursor, isIdCursor, page } from '../http/pagination.js';
import { Nullable, Page, PageQuery, problems, StringEnum, Timestamp, Uuid } from '../http/schema.js';
import type { HttpServer } from '../http/server.js';
import { listAudit } from './audit.js';

const AuditEntry = Type.Object(
  {
    id: Uuid(),
    actor_type: StringEnum(['api_key', 'operator', 'system']),
    actor_id: Nullable(Type.String({ description: 'API key id, or the job that wrote.' })),
    action: Type.String({ description: 'Method and route, e.g. `PATCH /v1/members/:id`.' }),
    resource_type: Type.String(),
    resource_id: Nullable(Type.String()),
    changed_fields: Type.Array(Type.String(), { description: 'Names only: the log keeps no personal values.' }),
    request_id: Nullable(Type.String()),
    occurred_at: Timestamp(),
  },
  { $id: 'AuditEntry' },
);

export function auditRoutes(deps: { db: Db }) {
  return async function (app: HttpServer) {
    app.addSchema(AuditEntry);
    app.get('/v1/audit-log', {
      config: { auth: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first',
        querystring: Type.Object({
          ...PageQuery,
          resource_type: Type.Optional(Type.String({ maxLength: 100 })),
          resource_id: Type.Optional(Type.String({ maxLength: 200 })),
          actor_id: Type.Optional(Type.String({ maxLength: 200 })),
        }),
        response: { 200: Page(Type.Ref(AuditEntry)), ...problems(400, 401, 403) },
      },
    }, async (req) => {
      const q = req.query;
      const rows = await listAudit(deps.db, tenantOf(req).tenantId, {
        resourceType: q.resource_type, resourceId: q.resource_id, actorId: q.actor_id,
        after: decodeCursor(q.cursor, isIdCursor)?.id, limit: q.limit + 1,
      });
      return page(rows, q.limit, (r) => r, (r) => ({ id: r.id }));
    });
  };
}
