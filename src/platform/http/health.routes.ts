/** Liveness, readiness and Prometheus metrics. */
import type { Db } from '../db/db.js';
import { pendingMigrations } from '../db/migrate.js';
import type { Metrics } from '../metrics.js';
import type { HttpServer } from './server.js';

export function healthRoutes(deps: { db: Db; metrics: Metrics }) {
  return async function (app: HttpServer) {
    const common = { auth: 'public' as const, rateLimit: false as const };
    app.get('/health', { config: common, schema: { tags: ['system'], summary: 'Alive', security: [] } }, async () => ({ status: 'ok' }));

    app.get('/ready', { config: common, schema: { tags: ['system'], summary: 'Database reachable and migrations applied', security: [] } }, async (_req, reply) => {
      try {
        const pending = await pendingMigrations(deps.db);
        if (pending.length > 0) return reply.code(503).send({ status: 'migrating', pending: pending.map((m) => m.name) });
        return { status: 'ready' };
      } catch (err) {
        return reply.code(503).send({ status: 'database_unreachable', detail: (err as Error).message });
      }
    });

    app.get('/metrics', { config: common, schema: { tags: ['system'], summary: 'Prometheus metrics', security: [] } }, async (_req, reply) => {
      reply.type(deps.metrics.registry.contentType);
      return deps.metrics.registry.metrics();
    });
  };
}
