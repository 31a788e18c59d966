/**
 * Behaviour metrics over HTTP (docs/analytics/behaviour.md): one read route, computed when asked.
 */
import { Type } from '@sinclair/typebox';
import type { Db } from '../../../platform/db/db.js';
import { tenantOf } from '../../../platform/http/auth.js';
import { problems } from '../../../platform/http/schema.js';
import type { HttpServer } from '../../../platform/http/server.js';
import type { BehaviourService } from './behaviour.js';
import { BEHAVIOUR_SCHEMAS, BehaviourQuerySchema, BehaviourReportSchema } from './behaviour.schema.js';

export function behaviourRoutes(deps: { db: Db; behaviour: BehaviourService }) {
  const { db, behaviour } = deps;
  const tags = ['analytics'];
  return async function (app: HttpServer) {
    for (const s of BEHAVIOUR_SCHEMAS) app.addSchema(s);

    app.get('/v1/analytics/behaviour', {
      schema: {
        tags, summary: 'Retention, churn, repeat purchase, frequency, order value and time between purchases over a range of days',
        description:
          'Computed when asked, over the orders (purchases, not voided, not wholly returned; money net of returns, in the program currency) ' +
          'with days in the tenant\'s time zone. Customers are members and, when the shop sends them, non-members (customer_ref). ' +
          'Churn rate = lost / S × 100 (domain.md §2, lost: customers at the start lost by `to`) and retention rate = (S − lost) / S × 100, ' +
          'so the two add to 100 (`definitions.retention` says why not (E − N) / S); `definitions.lost` states when a customer ' +
          'counts as lost (analytics settings churn.rule) with the window in days. Default range: the year up to yesterday in the tenant\'s time zone. ' +
          'Optionally broken down `by` tier, channel, store, segment, cohort or customer type.',
        querystring: BehaviourQuerySchema,
        response: { 200: Type.Ref(BehaviourReportSchema), ...problems(400, 401) },
      },
    }, async (req) => {
      const q = req.query;
      return behaviour.reportOnSnapshot(db, tenantOf(req).tenantId, { from: q.from, to: q.to, by: q.by });
    });
  };
}
