/**
 * The demo's analytics (docs/analytics.md): once the year of orders, the mechanics and six months of surveys are in,
 * two analytics runs are executed right away, so that every chart and list has something to show on first start:
 *
 *  - a backtest as of BACKTEST_DAYS before the demo's "now": its model is judged against what the members then did
 *    (the holdout calibration of GET /v1/analytics/clv/model?run_id=…);
 *  - the current run as of yesterday: RFM segments, cohorts, CLV and P(alive) per member, program economics,
 *    experience by segment and the at-risk list. It is the published run (the newest as_of), so campaigns can
 *    target its segments and GET /v1/members/{id}/analytics answers.
 *
 * The café's history is one year long, and in one year few of its regulars have visibly stopped: plain maximum
 * likelihood cannot tell "slow buyer" from "gone" (a and b of BG/NBD run off, and the model says so with its
 * dropout_not_identified warning). The demo does what that warning advises a marketer to do: a small L2 penalty
 * (DEMO_L2_PENALTY), so that P(alive), the at-risk list and CLV have meaning.
 *
 * The runs go through the analytics module's own queue-and-execute path (trigger "demo"); the nightly schedule
 * takes over from there. Only when the tenant has no run yet: a second demo start leaves them as they are.
 */
import type { Patron } from '../app.js';
import { addDays } from '../modules/analytics/analytics.runs.js';
import { localDate } from '../modules/programs/programs.policy.js';

/** How far before "now" the backtest run stands: the model then forecasts the next four months, which happened. */
export const BACKTEST_DAYS = 120;

/** The demo tenant's BG/NBD penalty (analytics settings clv.l2_penalty). */
export const DEMO_L2_PENALTY = 0.05;

export interface AnalyticsLoad {
  runs: Array<{ id: string; as_of: string; status: string; detail?: string }>;
}

export async function ensureDemoAnalytics(patron: Patron, tenantId: string): Promise<AnalyticsLoad | null> {
  const { analytics, programs } = patron.services;
  if ((await analytics.listRuns(patron.db, tenantId, { limit: 1 })).length > 0) return null;
  const program = await programs.get(patron.db, tenantId);
  const today = localDate(patron.clock.now(), program.time_zone);
  await patron.db.tx((tx) => analytics.putSettings(tx, tenantId, { clv: { l2_penalty: DEMO_L2_PENALTY } }));
  const runs: AnalyticsLoad['runs'] = [];
  // Oldest first: the newest as_of is published last and stays the current one.
  for (const asOf of [addDays(today, -BACKTEST_DAYS), addDays(today, -1)]) {
    const run = await patron.db.tx((tx) => analytics.runs.queue(tx, tenantId, { as_of: asOf }, 'demo', { withoutQueue: true }));
    // A job worker of this process may have picked the run up already: the tenant's lock makes one of the two wait
    // and then skip it as done.
    const outcome = await analytics.runs.execute(tenantId, run.id);
    const done = await analytics.getRun(patron.db, tenantId, run.id);
    runs.push({ id: run.id, as_of: asOf, status: done.status, ...(outcome.detail ? { detail: outcome.detail } : {}) });
  }
  return { runs };
}
