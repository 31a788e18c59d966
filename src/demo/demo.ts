/**
 * The demo program (`npx patron demo`): a café chain with a few thousand
 * members, its loyalty program, and a year of orders, returns, redemptions and
 * bonuses, loaded from a fixed seed and safe to run again. Each concern has its
 * own file (tenant.demo.ts, members.demo.ts, program.demo.ts, orders.demo.ts,
 * history.demo.ts, mechanics.demo.ts, surveys.demo.ts); later features add theirs and a step here.
 *
 * Runs under an advisory lock, so two demos started at once load it once. The
 * tenant, members, program and rules are written in one transaction; the year
 * of history after it in a few transactions (history.demo.ts), each written
 * whole or not at all and skipped when already there: a crash half-way leaves
 * whole parts, which the next run completes. Then the program's mechanics
 * (tiers, catalog, stamp card, referrals, badges, a campaign), introduced
 * "now", in one more transaction, and six months of surveys, answers and the
 * cases they opened (surveys.demo.ts) in another, and finally two analytics runs (analytics.demo.ts). The Patron's clock is never
 * moved: what the demo dates in the past, it writes through services on clocks
 * of its own. Prints nothing: the CLI prints the URLs and the key.
 */
import type { Patron } from '../app.js';
import { SettableClock } from '../platform/clock.js';
import { loadDemoHistory, servicesOn, type HistoryLoad } from './history.demo.js';
import { generateDemoMembers } from './members.demo.js';
import { ensureDemoMechanics, type MechanicsLoad } from './mechanics.demo.js';
import { ensureDemoSurveys, type SurveysLoad } from './surveys.demo.js';
import { ensureDemoMessaging, type MessagingLoad } from './messaging.demo.js';
import { ensureDemoAnalytics, type AnalyticsLoad } from './analytics.demo.js';
import { HISTORY_DAYS } from './orders.demo.js';
import { ensureDemoProgram, type ProgramLoad } from './program.demo.js';
import { DEMO_TENANT_ID, ensureDemoTenant } from './tenant.demo.js';

export { DEMO_TENANT_ID } from './tenant.demo.js';

const DEMO_LOCK = 727_004;

export interface DemoResult {
  /** A fresh admin key of the demo tenant (keys are stored hashed: an old one cannot be shown again). */
  apiKey: string;
  tenantId: string;
  /** Members inserted by this run (0 when the demo was loaded before). */
  membersInserted: number;
  /** What this run did to the program settings and earn rules. */
  program: ProgramLoad;
  /** The part of the year of orders this run loaded; null when it was all there. */
  history: HistoryLoad | null;
  /** The mechanics this run set up; null when the tenant had them already. */
  mechanics: MechanicsLoad | null;
  /** The surveys, their six months of answers and the cases they opened; null when the tenant had surveys already. */
  surveys: SurveysLoad | null;
  /** The analytics runs this start executed (a backtest and the current run); null when the tenant had runs already. */
  analytics: AnalyticsLoad | null;
  /** The triggers this start switched on (birthday, anniversary, tier at risk, win-back); null when configured before. */
  messaging: MessagingLoad | null;
  /** The path of the demo's public survey page (the relationship NPS), to open in a browser; null if an admin closed it. */
  surveyPath: string | null;
}

export async function loadDemo(patron: Patron): Promise<DemoResult> {
  const lock = await patron.db.pool.connect();
  let broken = false;
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [DEMO_LOCK]);
    const first = await patron.db.tx(async (tx) => {
      const { tenant, apiKey: initialKey } = await ensureDemoTenant(patron, tx);
      // The demo's "now" is the moment the tenant was first created: later runs
      // regenerate exactly the same members (same ids) and orders, so nothing is added twice.
      const anchor = tenant.created_at;
      const members = generateDemoMembers(anchor);
      const membersInserted = await patron.services.members.loadHistory(tx, DEMO_TENANT_ID, members);
      // The program was set up the day before its year of orders begins.
      const setUp = new SettableClock();
      setUp.set(new Date(anchor.getTime() - (HISTORY_DAYS + 1) * 86_400_000));
      const program = await ensureDemoProgram(servicesOn(patron, setUp), tx, DEMO_TENANT_ID);
      const apiKey =
        initialKey ??
        (await patron.services.tenants.createKey(tx, DEMO_TENANT_ID, { name: 'Demo admin key', scopes: ['admin'], createdBy: 'demo' })).key;
      return { anchor, members, membersInserted, program, apiKey };
    });
    const history = await loadDemoHistory(patron, DEMO_TENANT_ID, first.anchor, first.members);
    // After the whole year: tiers are earned by it, and the campaign's baseline is its last 90 days.
    const mechanics = await patron.db.tx((tx) => ensureDemoMechanics(patron, tx, DEMO_TENANT_ID, first.members));
    // Then six months of listening, replayed up to now: surveys, answers and the cases they opened.
    const surveys = await patron.db.tx((tx) => ensureDemoSurveys(patron, tx, DEMO_TENANT_ID, first.members));
    const live = await patron.services.surveys.list(patron.db, DEMO_TENANT_ID, { status: 'live', limit: 100 });
    const open = live.find((x) => x.public_link);
    const surveyPath = open ? `/s/p/${DEMO_TENANT_ID}/${open.id}` : null;
    // Last, over everything above: the analytics runs (RFM, CLV, cohorts, economics, at-risk).
    const analytics = await ensureDemoAnalytics(patron, DEMO_TENANT_ID);
    // And the messages a café starts with: birthday, anniversary, "keep your tier", win-back of the at-risk list.
    const messaging = await ensureDemoMessaging(patron, DEMO_TENANT_ID);
    return { apiKey: first.apiKey, tenantId: DEMO_TENANT_ID, membersInserted: first.membersInserted, program: first.program, history, mechanics, surveys, analytics, messaging, surveyPath };
  } finally {
    // A failed unlock (a lost connection) ends the session, and the lock with it.
    await lock.query('SELECT pg_advisory_unlock($1)', [DEMO_LOCK]).catch(() => { broken = true; });
    lock.release(broken);
  }
}
