/**
 * Tenant isolation and scopes over the WHOLE API, walked from the route table
 * (`patron.http.routeTable`), so a route added by a later issue is covered the
 * moment it is registered:
 *
 *  - without a key (or with an unknown one) every non-public route is a 401;
 *    the public routes are listed here explicitly;
 *  - operator routes refuse tenant keys;
 *  - a key of tenant A gets a 404 (never 403, never 200) for every object of
 *    tenant B, reading or writing, and B's data is unchanged afterwards (the
 *    database rows of every tenant table are compared);
 *  - lists and id-less writes of A never show or touch B;
 *  - a read-scoped key gets 403 on every write route, a write-scoped key on
 *    every admin route, and nothing is written.
 *
 * A new route needs at most two entries here, and the test FAILS until they
 * exist: PATH_PARAMS (how to find tenant B's object for a path parameter) and
 * SAMPLE_BODIES (a valid body, for routes that take one).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RouteInfo } from '../src/platform/http/server.js';
import { signUnsubscribeToken } from '../src/modules/messaging/unsubscribe/unsubscribe.token.js';
import { insertSkip } from '../src/platform/outbox/skips.js';
import { call, startTestApp, type ApiResponse, type TestApp, type TestTenant } from './helpers.js';

const OPERATOR_KEY = `operator_${crypto.randomBytes(16).toString('hex')}`;

/** Routes anyone may call without a key. Everything else needs one. */
const PUBLIC_ROUTES = new Set([
  'GET /health', 'GET /ready', 'GET /metrics', 'GET /openapi.json',
  // The survey response page (HTML): an invitation's link, the public link, their thank-you pages.
  'GET /s/:token', 'POST /s/:token', 'GET /s/:token/thanks',
  'GET /s/p/:tenantId/:surveyId', 'POST /s/p/:tenantId/:surveyId', 'GET /s/p/:tenantId/:surveyId/thanks',
  // The unsubscribe link of marketing messages (HTML page, and RFC 8058 one-click POST).
  'GET /u/:token', 'POST /u/:token',
]);
const isDocsRoute = (r: RouteInfo) => r.method === 'GET' && (r.url === '/docs' || r.url.startsWith('/docs/'));

/** Tenant B's (or A's) objects that path parameters point at. */
interface Fixture {
  tenant: TestTenant;
  memberId: string;
  externalId: string;
  email: string;
  /** A second API key of the tenant (so that revoking it leaves the tenant usable). */
  keyId: string;
  keyPrefix: string;
  /** A finished member import, when the API has imports. */
  importId: string | null;
  /** An earn rule, when the API has earn rules. */
  ruleId: string | null;
  /** A redemption and an open checkout hold of the member (who has points), when the API has them. */
  redemptionId: string | null;
  holdId: string | null;
  /** An action event of the member, when the API has events. */
  eventId: string | null;
  /** A purchase of the member, when the API has orders. */
  transactionId: string | null;
  /** A finished orders import, when the API has one. */
  orderImportId: string | null;
  /** A redeemed voucher, its redemption, a batch, a pool, and a wallet debit of the member, when the API has them. */
  voucher: { id: string; code: string; redemptionId: string; batchId: string; poolId: string } | null;
  walletDebitId: string | null;
  /** A tier nobody reaches (and its code) and a re-evaluation report, when the API has tiers. */
  tierId: string | null;
  tierCode: string | null;
  reevaluationId: string | null;
  /** A stamp card type, when the API has stamp cards. */
  stampCardTypeId: string | null;
  /** A badge, when the API has achievements. */
  badgeId: string | null;
  /** The member attributed to another member's referral code (the body that attributed it), when the API has referrals. */
  referralId: string | null;
  referralBody: { code: string; member_id: string } | null;
  /** A draft campaign (its window is over, so launching it is a 422 and no job ever picks it up), when the API has campaigns. */
  campaignId: string | null;
  /** A reward of the catalog (a physical gift picked up in store) and the member's redemption of it. */
  rewardId: string | null;
  rewardRedemptionId: string | null;
  /** An agent and an open case (feedback of the member), when the API has cases. */
  agentId: string | null;
  caseId: string | null;
  /** A live survey, the member's invitation to it and the member's response, when the API has surveys. */
  survey: { id: string; invitationId: string; responseId: string } | null;
  /** A succeeded analytics run as of today, published, so the member has analytics, when the API has analytics runs. */
  analyticsRunId: string | null;
  /** A finished what-if simulation, when the API has them (with { analytics: true }). */
  simulationId: string | null;
  /** A message to the member (failed: the test app has no SMTP_URL) and a suppressed address, when the API has messaging. */
  messageId: string | null;
  suppressionEmail: string | null;
  /**
   * A disabled webhook endpoint (so that nothing is sent while the snapshots are compared) and a delivery of it (a
   * replay of the member's creation, pending while the endpoint is disabled), when the API has webhooks.
   */
  webhook: { endpointId: string; deliveryId: string } | null;
  /** An event the webhooks consumer skipped (the dispatch's dead-letter), when the API lists them. */
  skipId: string | null;
}

/**
 * Path parameter -> the fixture's object, keyed by the URL up to and including
 * the parameter (`/v1/members/:id/block` uses `/v1/members/:id`).
 */
const PATH_PARAMS: Record<string, { of: (f: Fixture) => string; random: () => string }> = {
  '/v1/members/:id': { of: (f) => f.memberId, random: () => crypto.randomUUID() },
  '/v1/members/by-external-id/:external_id': { of: (f) => f.externalId, random: () => `nobody-${crypto.randomBytes(6).toString('hex')}` },
  '/v1/api-keys/:id': { of: (f) => f.keyId, random: () => crypto.randomUUID() },
  '/v1/tenants/:id': { of: (f) => f.tenant.id, random: () => crypto.randomUUID() },
  '/v1/members/import/:id': { of: (f) => f.importId ?? assert.fail('the fixture has no import'), random: () => crypto.randomUUID() },
  '/v1/earn-rules/:id': { of: (f) => f.ruleId ?? assert.fail('the fixture has no earn rule'), random: () => crypto.randomUUID() },
  '/v1/redemptions/:id': { of: (f) => f.redemptionId ?? assert.fail('the fixture has no redemption'), random: () => crypto.randomUUID() },
  '/v1/holds/:id': { of: (f) => f.holdId ?? assert.fail('the fixture has no hold'), random: () => crypto.randomUUID() },
  '/v1/transactions/:id': { of: (f) => f.transactionId ?? assert.fail('the fixture has no order'), random: () => crypto.randomUUID() },
  '/v1/events/:id': { of: (f) => f.eventId ?? assert.fail('the fixture has no event'), random: () => crypto.randomUUID() },
  '/v1/transactions/import/:id': { of: (f) => f.orderImportId ?? assert.fail('the fixture has no orders import'), random: () => crypto.randomUUID() },
  '/v1/vouchers/:id': { of: (f) => f.voucher?.id ?? assert.fail('the fixture has no voucher'), random: () => crypto.randomUUID() },
  '/v1/vouchers/:code': { of: (f) => f.voucher?.code ?? assert.fail('the fixture has no voucher'), random: () => `NONE-${crypto.randomBytes(6).toString('hex').toUpperCase()}` },
  '/v1/vouchers/:code/redemptions/:redemption_id': { of: (f) => f.voucher?.redemptionId ?? assert.fail('the fixture has no voucher redemption'), random: () => crypto.randomUUID() },
  '/v1/voucher-batches/:id': { of: (f) => f.voucher?.batchId ?? assert.fail('the fixture has no voucher batch'), random: () => crypto.randomUUID() },
  '/v1/voucher-pools/:id': { of: (f) => f.voucher?.poolId ?? assert.fail('the fixture has no voucher pool'), random: () => crypto.randomUUID() },
  '/v1/members/:id/wallet/debits/:entry_id': { of: (f) => f.walletDebitId ?? assert.fail('the fixture has no wallet debit'), random: () => crypto.randomUUID() },
  '/v1/tiers/:id': { of: (f) => f.tierId ?? assert.fail('the fixture has no tier'), random: () => crypto.randomUUID() },
  '/v1/tier-reevaluations/:id': { of: (f) => f.reevaluationId ?? assert.fail('the fixture has no tier re-evaluation'), random: () => crypto.randomUUID() },
  '/v1/stamp-card-types/:id': { of: (f) => f.stampCardTypeId ?? assert.fail('the fixture has no stamp card type'), random: () => crypto.randomUUID() },
  '/v1/badges/:id': { of: (f) => f.badgeId ?? assert.fail('the fixture has no badge'), random: () => crypto.randomUUID() },
  '/v1/referrals/:id': { of: (f) => f.referralId ?? assert.fail('the fixture has no referral'), random: () => crypto.randomUUID() },
  '/v1/campaigns/:id': { of: (f) => f.campaignId ?? assert.fail('the fixture has no campaign'), random: () => crypto.randomUUID() },
  '/v1/rewards/:id': { of: (f) => f.rewardId ?? assert.fail('the fixture has no reward'), random: () => crypto.randomUUID() },
  '/v1/reward-redemptions/:id': { of: (f) => f.rewardRedemptionId ?? assert.fail('the fixture has no reward redemption'), random: () => crypto.randomUUID() },
  '/v1/agents/:id': { of: (f) => f.agentId ?? assert.fail('the fixture has no agent'), random: () => crypto.randomUUID() },
  '/v1/cases/:id': { of: (f) => f.caseId ?? assert.fail('the fixture has no case'), random: () => crypto.randomUUID() },
  '/v1/surveys/:id': { of: (f) => f.survey?.id ?? assert.fail('the fixture has no survey'), random: () => crypto.randomUUID() },
  '/v1/surveys/:id/versions/:version': { of: () => '1', random: () => '1' },
  '/v1/survey-invitations/:id': { of: (f) => f.survey?.invitationId ?? assert.fail('the fixture has no survey invitation'), random: () => crypto.randomUUID() },
  '/v1/survey-responses/:id': { of: (f) => f.survey?.responseId ?? assert.fail('the fixture has no survey response'), random: () => crypto.randomUUID() },
  '/v1/analytics/runs/:id': { of: (f) => f.analyticsRunId ?? assert.fail('the fixture has no analytics run: make it with { analytics: true }'), random: () => crypto.randomUUID() },
  '/v1/analytics/simulations/:id': { of: (f) => f.simulationId ?? assert.fail('the fixture has no simulation: make it with { analytics: true }'), random: () => crypto.randomUUID() },
  '/v1/messaging/messages/:id': { of: (f) => f.messageId ?? assert.fail('the fixture has no message'), random: () => crypto.randomUUID() },
  '/v1/messaging/suppressions/:email': { of: (f) => f.suppressionEmail ?? assert.fail('the fixture has no suppression'), random: () => `nobody-${crypto.randomBytes(6).toString('hex')}@example.com` },
  '/v1/webhooks/endpoints/:id': { of: (f) => f.webhook?.endpointId ?? assert.fail('the fixture has no webhook endpoint'), random: () => crypto.randomUUID() },
  '/v1/domain-events/skips/:id': { of: (f) => f.skipId ?? assert.fail('the fixture has no skipped event'), random: () => crypto.randomUUID() },
  '/v1/webhooks/deliveries/:id': { of: (f) => f.webhook?.deliveryId ?? assert.fail('the fixture has no webhook delivery'), random: () => crypto.randomUUID() },
};

/**
 * Path parameters that name something every tenant has alike (a message trigger, a language), not an object of
 * one tenant, with the value to use. A route whose parameters are all shared is walked like a route without an id:
 * A's request works on A's own and never shows or touches B.
 */
const SHARED_PARAMS: Record<string, string> = {
  '/v1/messaging/templates/:trigger': 'birthday',
  '/v1/messaging/templates/:trigger/:locale': 'en',
};

type Sample = { json: unknown } | { raw: string; contentType: string };

/** A valid body for every route that takes one, keyed by `METHOD url`. */
const SAMPLE_BODIES: Record<string, (f: Fixture) => Sample> = {
  'POST /v1/tenants': () => ({ json: { name: `Isolation ${crypto.randomBytes(3).toString('hex')}` } }),
  'PATCH /v1/tenant': () => ({ json: { notification_email: 'ops@example.com' } }),
  'POST /v1/api-keys': () => ({ json: { name: 'sample', scopes: ['read'] } }),
  'POST /v1/members': () => ({ json: { first_name: 'Sample', external_id: `sample-${crypto.randomBytes(6).toString('hex')}` } }),
  'PATCH /v1/members/:id': () => ({ json: { first_name: 'Changed', email: 'changed@example.com' } }),
  'PATCH /v1/members/by-external-id/:external_id': () => ({ json: { first_name: 'Changed' } }),
  'POST /v1/members/:id/block': () => ({ json: { reason: 'isolation test' } }),
  'POST /v1/members/:id/consents': () => ({ json: { channel: 'sms', granted: true, source: 'isolation-test' } }),
  'POST /v1/members/:id/adjustments': () => ({ json: { points: 100, reason: 'isolation test' } }),
  'POST /v1/redemptions': (f) => ({ json: { member_id: f.memberId, points: 10, reward_ref: 'isolation-test' } }),
  'POST /v1/holds': (f) => ({ json: { member_id: f.memberId, points: 10, order_ref: 'isolation-test' } }),
  'POST /v1/holds/:id/capture': () => ({ json: { points: 5 } }),
  'POST /v1/members/import': () => ({ raw: `external_id,email\nimp-${crypto.randomBytes(6).toString('hex')},imported@example.com\n`, contentType: 'text/csv' }),
  'PATCH /v1/program': () => ({ json: { pending_days: 7, expiry: { kind: 'after_earning', months: 12, days: 0 } } }),
  'POST /v1/earn-rules': () => ({ json: { kind: 'bonus', name: 'Sample bonus', points: 10 } }),
  'PATCH /v1/earn-rules/:id': () => ({ json: { name: 'Changed', priority: 5 } }),
  'POST /v1/transactions': (f) => ({ json: { external_id: `sample-${crypto.randomBytes(6).toString('hex')}`, member_id: f.memberId, currency: 'EUR', total: 1000 } }),
  'POST /v1/transactions/preview': (f) => ({ json: { external_id: 'preview', member_id: f.memberId, currency: 'EUR', total: 1000 } }),
  'POST /v1/transactions/:id/void': () => ({ json: { reason: 'isolation test' } }),
  'POST /v1/events': (f) => ({ json: { name: 'review_written', member_id: f.memberId, properties: { rating: 5 } } }),
  'POST /v1/tiers': () => ({ json: { code: `t${crypto.randomBytes(6).toString('hex')}`, name: 'Sample tier', entry_threshold: 1_000_000_000 } }),
  'PATCH /v1/tiers/:id': () => ({ json: { name: 'Changed', benefits: [{ code: 'free_delivery', name: 'Free delivery' }] } }),
  'PATCH /v1/tier-settings': () => ({ json: { grace_days: 7 } }),
  'POST /v1/tier-reevaluations': () => ({ json: {} }),
  'POST /v1/tier-reevaluations/:id/apply': () => ({ json: { downgrades: 'next_evaluation' } }),
  'POST /v1/members/:id/tier/assignment': (f) => ({ json: { tier: f.tierCode ?? assert.fail('the fixture has no tier'), reason: 'isolation test' } }),
  'POST /v1/members/:id/tier/invitation': (f) => ({ json: { tier: f.tierCode ?? assert.fail('the fixture has no tier') } }),
  'POST /v1/stamp-card-types': () => ({ json: { name: { en: 'Sample card' }, stamps_needed: 10, reward: { points: 100 } } }),
  'PATCH /v1/stamp-card-types/:id': () => ({ json: { stamps_needed: 8, name: { en: 'Changed' } } }),
  'POST /v1/stamp-card-types/:id/stamps': (f) => ({ json: { member_id: f.memberId, stamps: 1, reason: 'isolation test' } }),
  'POST /v1/badges': () => ({ json: { code: `sample-${crypto.randomBytes(6).toString('hex')}`, name: { en: 'Sample' }, criterion: { kind: 'first_purchase' } } }),
  'PATCH /v1/badges/:id': () => ({ json: { name: { en: 'Changed' }, bonus: { points: 5 } } }),
  'PUT /v1/members/:id/leaderboard-opt-in': () => ({ json: { opted_in: true } }),
  'PATCH /v1/referral-program': () => ({ json: { enabled: true, referrer_gift: { points: 100 }, return_window_days: 7 } }),
  // The fixture's own attribution again: a re-send, answered with the first.
  'POST /v1/referrals': (f) => ({ json: f.referralBody ?? assert.fail('the fixture has no referral') }),
  'POST /v1/referrals/:id/reject': () => ({ json: { reason: 'isolation test' } }),
  'POST /v1/members/:id/referral-signals': () => ({ json: { device_id: 'isolation-device', ip: '192.0.2.44' } }),
  'POST /v1/campaigns': () => ({ json: { name: 'Sample', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2025-01-01T00:00:00Z', ends_at: '2025-01-02T00:00:00Z' } }),
  'PATCH /v1/campaigns/:id': () => ({ json: { name: 'Changed', control_share: 0.1 } }),
  'POST /v1/campaigns/:id/cancel': () => ({ json: { reason: 'isolation test' } }),
  'POST /v1/rewards': () => ({ json: { kind: 'donation', name: { en: 'Sample donation' }, points: 10, donation: { cause: 'Isolation fund' } } }),
  'PATCH /v1/rewards/:id': () => ({ json: { points: 5, name: { en: 'Changed' } } }),
  'POST /v1/rewards/:id/draws': () => ({ json: { winners: 1 } }),
  'POST /v1/reward-redemptions': (f) => ({ json: { member_id: f.memberId, reward_id: f.rewardId } }),
  'PATCH /v1/reward-redemptions/:id': () => ({ json: { tracking_ref: 'isolation-test' } }),
  'POST /v1/transactions/import': (f) => ({
    raw: `external_id,member_external_id,occurred_at,currency,total\nimp-${crypto.randomBytes(6).toString('hex')},${f.externalId},2025-01-01T00:00:00Z,EUR,500\n`,
    contentType: 'text/csv',
  }),
  'POST /v1/surveys': () => ({ json: { name: 'Sample', touchpoint: 'purchase', definition: { questions: [{ key: 'nps', type: 'nps' }] } } }),
  'PATCH /v1/surveys/:id': () => ({ json: { name: 'Changed', public_link: true } }),
  'POST /v1/surveys/:id/invitations': (f) => ({ json: { member_id: f.memberId } }),
  'POST /v1/surveys/:id/responses': () => ({ json: { language: 'en', answers: { nps: 9 } } }),
  'PUT /v1/survey-settings': () => ({ json: { edit_window_minutes: 45 } }),
  'POST /v1/members/:id/wallet/debits': () => ({ json: { amount: 10, order_ref: 'isolation-test' } }),
  'POST /v1/members/:id/wallet/debits/:entry_id/refunds': () => ({ json: { amount: 5 } }),
  'POST /v1/members/:id/wallet/adjustments': () => ({ json: { amount: 100, reason: 'isolation test' } }),
  'POST /v1/vouchers': () => ({ json: { kind: 'fixed_amount', amount: 500 } }),
  'POST /v1/vouchers/:code/redemptions': () => ({ json: { order_ref: `iso-${crypto.randomBytes(6).toString('hex')}`, total: 1000, currency: 'EUR' } }),
  'POST /v1/voucher-batches': () => ({ json: { count: 5, kind: 'percentage', percent: 10 } }),
  'POST /v1/voucher-pools': () => ({ json: { name: 'Isolation pool' } }),
  'POST /v1/voucher-pools/:id/codes': () => ({ json: { codes: [`ISO-${crypto.randomBytes(6).toString('hex')}`] } }),
  'POST /v1/agents': () => ({ json: { name: 'Sample agent', email: 'agent@example.com' } }),
  'PATCH /v1/agents/:id': () => ({ json: { name: 'Changed' } }),
  'PUT /v1/case-settings': () => ({ json: { default_priority: 'high', open_rules: { nps_detractor: true, csat_dissatisfied: true, ces_high_effort: false, free_text: true } } }),
  'POST /v1/feedback': (f) => ({ json: { member_id: f.memberId, message: 'Isolation feedback', touchpoint: 'custom', rating: 3 } }),
  'PATCH /v1/cases/:id': () => ({ json: { priority: 'high', status: 'waiting_for_customer' } }),
  'POST /v1/cases/:id/notes': () => ({ json: { body: 'Isolation note' } }),
  'POST /v1/cases/:id/replies': () => ({ json: { body: 'Isolation reply' } }),
  'POST /v1/cases/:id/resolve': () => ({ json: { resolution_code: 'solved', note: 'isolation test' } }),
  'POST /v1/cases/:id/close': () => ({ json: { follow_up: false } }),
  'POST /v1/cases/:id/reopen': () => ({ json: { reason: 'isolation test' } }),
  'PUT /v1/analytics/settings': () => ({ json: { clv: { margin: 0.35 }, nightly: false } }),
  'POST /v1/analytics/runs': () => ({ json: {} }),
  'POST /v1/analytics/simulations': () => ({ json: { months: 1, draft: { expiry: { kind: 'after_earning', months: 6, days: 0 } } } }),
  'PATCH /v1/messaging/settings': () => ({ json: { from_name: 'Isolation', rate_limit_per_minute: 100, quiet_hours: { start: '22:00', end: '08:00' } } }),
  'POST /v1/messaging/suppressions': () => ({ json: { email: `sup-${crypto.randomBytes(6).toString('hex')}@example.com`, detail: 'isolation test' } }),
  'POST /v1/messaging/bounces': (f) => ({ json: { email: f.email, type: 'hard', message_id: f.messageId ?? assert.fail('the fixture has no message') } }),
  // Disabled: the pumps of this test (jobs 'work') never send anything of it.
  'POST /v1/webhooks/endpoints': () => ({ json: { url: 'https://hooks.example.com/isolation', event_types: ['*'], status: 'disabled' } }),
  'PATCH /v1/webhooks/endpoints/:id': () => ({ json: { description: 'Changed' } }),
  'POST /v1/webhooks/endpoints/:id/rotate-secret': () => ({ json: { overlap_hours: 1 } }),
  'POST /v1/webhooks/endpoints/:id/replay': () => ({ json: { from: '2000-01-01T00:00:00Z', to: '2100-01-01T00:00:00Z', status: 'failed' } }),
  'PUT /v1/messaging/templates/:trigger/:locale': () => ({ json: { subject: 'Happy birthday, {{ member.name }}!', html: '<p>Many happy returns from {{ program.name }}.</p>', text: 'Many happy returns from {{ program.name }}.' } }),
  'POST /v1/messaging/templates/:trigger/:locale/preview': () => ({ json: { subject: 'Draft for {{ member.name }}' } }),
  // Messaging triggers: one path per trigger (a setting of the tenant, not an object: id-less writes).
  ...Object.fromEntries(['birthday', 'anniversary', 'points_expiring', 'tier_upgraded', 'tier_at_risk', 'reward_issued', 'survey_invitation', 'case_reply', 'referral_converted', 'win_back']
    .flatMap((trigger) => ['PUT', 'PATCH'].map((method) => [`${method} /v1/messaging/triggers/${trigger}`, () => ({ json: { enabled: true, channel: 'email' } })]))),
};

const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);
const routeName = (r: RouteInfo) => `${r.method} ${r.url}`;
const paramsOf = (url: string) => [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1]!, key: url.slice(0, m.index! + m[0].length) }));
/** The path parameters that point at one tenant's object (not SHARED_PARAMS). */
const tenantParamsOf = (url: string) => paramsOf(url).filter((p) => !(p.key in SHARED_PARAMS));

let app: TestApp;
let A: TestTenant;
let B: TestTenant;
let routes: RouteInfo[];

before(async () => {
  app = await startTestApp({ env: { PATRON_OPERATOR_KEY: OPERATOR_KEY }, jobs: 'work' });
  routes = app.patron.http!.routeTable;
  A = await app.newTenant('Tenant A');
  B = await app.newTenant('Tenant B');
});
after(() => app.close());

/**
 * A tenant's objects for the path parameters. `analytics`: also an analytics run and a simulation (seconds each, so
 * only for the tests that read by id: the run itself, the member's analytics, the simulation).
 */
async function makeFixture(t: TestTenant, opts: { analytics?: boolean } = {}): Promise<Fixture> {
  const externalId = `iso-${crypto.randomBytes(6).toString('hex')}`;
  const email = `${externalId}@example.com`;
  const member = await t.api('POST', '/v1/members', { body: { external_id: externalId, email, first_name: 'Iso', consent: { email: true } } });
  assert.equal(member.status, 201, member.text);
  const key = await t.api('POST', '/v1/api-keys', { body: { name: 'fixture', scopes: ['read'] } });
  assert.equal(key.status, 201, key.text);
  let importId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/members/import')) {
    const started = await t.api('POST', '/v1/members/import', { raw: `external_id,first_name\n${externalId}-imp,Imported\n`, headers: { 'content-type': 'text/csv' } });
    assert.equal(started.status, 202, started.text);
    importId = started.body.id;
  }
  let ruleId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/earn-rules')) {
    const rule = await t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: 'Fixture base rate', rate: { points: 1, per_units: 1 } } });
    assert.equal(rule.status, 201, rule.text);
    ruleId = rule.body.id;
  }
  // Points for the member (adjustment), then a redemption and an open hold of some of them.
  let redemptionId: string | null = null;
  let holdId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/members/:id/adjustments')) {
    const given = await t.api('POST', `/v1/members/${member.body.id}/adjustments`, { body: { points: 1000, reason: 'isolation fixture' } });
    assert.equal(given.status, 201, given.text);
    const redeemed = await t.api('POST', '/v1/redemptions', { body: { member_id: member.body.id, points: 10 } });
    assert.equal(redeemed.status, 201, redeemed.text);
    redemptionId = redeemed.body.id;
    const held = await t.api('POST', '/v1/holds', { body: { member_id: member.body.id, points: 10 } });
    assert.equal(held.status, 201, held.text);
    holdId = held.body.id;
  }
  let eventId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/events')) {
    const event = await t.api('POST', '/v1/events', { body: { name: 'sign_up', member_id: member.body.id } });
    assert.equal(event.status, 201, event.text);
    eventId = event.body.id;
  }
  // Before the member's first order: only a member who has not purchased can be referred.
  let referralId: string | null = null;
  let referralBody: Fixture['referralBody'] = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/referrals')) {
    assert.equal((await t.api('PATCH', '/v1/referral-program', { body: { enabled: true } })).status, 200);
    const referrer = await t.api('POST', '/v1/members', { body: { external_id: `${externalId}-referrer`, first_name: 'Referrer' } });
    assert.equal(referrer.status, 201, referrer.text);
    const code = (await t.api('GET', `/v1/members/${referrer.body.id}/referral`)).body.code;
    referralBody = { code, member_id: member.body.id };
    const attributed = await t.api('POST', '/v1/referrals', { body: referralBody });
    assert.equal(attributed.status, 201, attributed.text);
    referralId = attributed.body.id;
  }
  let transactionId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/transactions')) {
    const order = await t.api('POST', '/v1/transactions', { body: { external_id: `${externalId}-order`, member_id: member.body.id, currency: 'EUR', total: 2500 } });
    assert.equal(order.status, 201, order.text);
    transactionId = order.body.id;
  }
  let orderImportId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/transactions/import')) {
    const started = await t.api('POST', '/v1/transactions/import', {
      raw: `external_id,member_external_id,occurred_at,currency,total\n${externalId}-imp-order,${externalId},2025-01-01T00:00:00Z,EUR,500\n`,
      headers: { 'content-type': 'text/csv' },
    });
    assert.equal(started.status, 202, started.text);
    orderImportId = started.body.id;
  }
  let voucher: Fixture['voucher'] = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/vouchers')) {
    const pool = await t.api('POST', '/v1/voucher-pools', { body: { name: 'Fixture pool' } });
    assert.equal(pool.status, 201, pool.text);
    const batch = await t.api('POST', '/v1/voucher-batches', { body: { count: 3, kind: 'fixed_amount', amount: 100 } });
    assert.equal(batch.status, 201, batch.text);
    // A gift card: still usable after one redemption, so both its code and the redemption are live objects.
    const v = await t.api('POST', '/v1/vouchers', { body: { kind: 'gift_card', amount: 100_000, currency: 'EUR' } });
    assert.equal(v.status, 201, v.text);
    const used = await t.api('POST', `/v1/vouchers/${v.body.code}/redemptions`, { body: { order_ref: `${externalId}-v`, total: 1000, currency: 'EUR' } });
    assert.equal(used.status, 201, used.text);
    voucher = { id: v.body.id, code: v.body.code, redemptionId: used.body.id, batchId: batch.body.id, poolId: pool.body.id };
  }
  let walletDebitId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/members/:id/wallet/adjustments')) {
    const given = await t.api('POST', `/v1/members/${member.body.id}/wallet/adjustments`, { body: { amount: 10_000, reason: 'isolation fixture' } });
    assert.equal(given.status, 201, given.text);
    const spent = await t.api('POST', `/v1/members/${member.body.id}/wallet/debits`, { body: { amount: 1000 } });
    assert.equal(spent.status, 201, spent.text);
    walletDebitId = spent.body.entry.id;
  }
  let tierId: string | null = null;
  let tierCode: string | null = null;
  let reevaluationId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/tiers')) {
    const created = await t.api('POST', '/v1/tiers', { body: { code: `f${crypto.randomBytes(6).toString('hex')}`, name: 'Fixture tier', entry_threshold: 1_000_000_000, invitation_only: true } });
    assert.equal(created.status, 201, created.text);
    tierId = created.body.id;
    tierCode = created.body.code;
    const report = await t.api('POST', '/v1/tier-reevaluations', { body: {} });
    assert.equal(report.status, 201, report.text);
    reevaluationId = report.body.id;
  }
  let stampCardTypeId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/stamp-card-types')) {
    const type = await t.api('POST', '/v1/stamp-card-types', { body: { name: { en: 'Fixture card' }, stamps_needed: 5, reward: { points: 50 } } });
    assert.equal(type.status, 201, type.text);
    stampCardTypeId = type.body.id;
  }
  let badgeId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/badges')) {
    const badge = await t.api('POST', '/v1/badges', { body: { code: `fixture-${crypto.randomBytes(6).toString('hex')}`, name: { en: 'Fixture' }, criterion: { kind: 'nth_purchase', n: 3 } } });
    assert.equal(badge.status, 201, badge.text);
    badgeId = badge.body.id;
  }
  let campaignId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/campaigns')) {
    const made = await t.api('POST', '/v1/campaigns', { body: { name: 'Fixture', kind: 'points_multiplier', config: { multiplier: 2 }, starts_at: '2025-01-01T00:00:00Z', ends_at: '2025-01-02T00:00:00Z' } });
    assert.equal(made.status, 201, made.text);
    campaignId = made.body.id;
  }
  let rewardId: string | null = null;
  let rewardRedemptionId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/rewards')) {
    const created = await t.api('POST', '/v1/rewards', { body: { kind: 'physical_gift', name: { en: 'Fixture gift' }, points: 10, physical_gift: { requires_address: false } } });
    assert.equal(created.status, 201, created.text);
    rewardId = created.body.id;
    const redeemed = await t.api('POST', '/v1/reward-redemptions', { body: { member_id: member.body.id, reward_id: rewardId } });
    assert.equal(redeemed.status, 201, redeemed.text);
    rewardRedemptionId = redeemed.body.id;
  }
  let agentId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/agents')) {
    const made = await t.api('POST', '/v1/agents', { body: { name: 'Fixture agent' } });
    assert.equal(made.status, 201, made.text);
    agentId = made.body.id;
  }
  let caseId: string | null = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/feedback')) {
    const made = await t.api('POST', '/v1/feedback', { body: { member_id: member.body.id, message: 'Fixture feedback' } });
    assert.equal(made.status, 201, made.text);
    caseId = made.body.id;
  }
  let survey: Fixture['survey'] = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/surveys')) {
    const made = await t.api('POST', '/v1/surveys', { body: { name: 'Fixture', touchpoint: 'purchase', definition: { questions: [{ key: 'nps', type: 'nps' }] } } });
    assert.equal(made.status, 201, made.text);
    assert.equal((await t.api('POST', `/v1/surveys/${made.body.id}/publish`)).status, 200);
    const invited = await t.api('POST', `/v1/surveys/${made.body.id}/invitations`, { body: { member_id: member.body.id } });
    assert.equal(invited.status, 201, invited.text);
    const answered = await t.api('POST', `/v1/surveys/${made.body.id}/responses`, { body: { member_id: member.body.id, language: 'en', answers: { nps: 9 } } });
    assert.equal(answered.status, 201, answered.text);
    survey = { id: made.body.id, invitationId: invited.body.id, responseId: answered.body.id };
  }
  // Last: the run sees the member's order. As of today, so it includes that order and is the published run.
  let analyticsRunId: string | null = null;
  if (opts.analytics && routes.some((r) => routeName(r) === 'POST /v1/analytics/runs')) {
    const queued = await t.api('POST', '/v1/analytics/runs', { body: { as_of: new Date().toISOString().slice(0, 10) } });
    assert.equal(queued.status, 202, queued.text);
    analyticsRunId = queued.body.id;
    await app.patron.jobs.runNow('analytics.run', { tenant_id: t.id, run_id: analyticsRunId });
    // This app's own worker may have taken the queued job first (runNow then skips): wait for whichever ran it.
    await settle(t.id);
    const done = await t.api('GET', `/v1/analytics/runs/${analyticsRunId}`);
    assert.equal(done.body.status, 'succeeded', done.text);
  }
  // Only the fixtures that read by id need a finished simulation (no write route takes one), and it is a job to wait for.
  let simulationId: string | null = null;
  if (opts.analytics && routes.some((r) => routeName(r) === 'POST /v1/analytics/simulations')) {
    const made = await t.api('POST', '/v1/analytics/simulations', { body: { months: 1, draft: { expiry: { kind: 'never' } } } });
    assert.equal(made.status, 202, made.text);
    simulationId = made.body.id;
  }
  let messageId: string | null = null;
  let suppressionEmail: string | null = null;
  if (routes.some((r) => routeName(r) === 'GET /v1/messaging/messages/:id')) {
    const queued = await app.patron.db.tx((tx) => app.patron.services.messaging.enqueue(tx, t.id, { trigger: 'reward_issued', dedupeKey: `iso-${externalId}`, memberId: member.body.id, variables: { reward: { name: 'Isolation' } } }));
    messageId = queued.id;
    // Sent now (it fails: no SMTP_URL here), so that no later run changes it between snapshots.
    await app.patron.jobs.runNow('messages.send', { tenant_id: t.id });
    suppressionEmail = `sup-${externalId}@example.com`;
    const suppressed = await t.api('POST', '/v1/messaging/suppressions', { body: { email: suppressionEmail } });
    assert.equal(suppressed.status, 201, suppressed.text);
  }
  let webhook: Fixture['webhook'] = null;
  if (routes.some((r) => routeName(r) === 'POST /v1/webhooks/endpoints')) {
    const made = await t.api('POST', '/v1/webhooks/endpoints', { body: { url: 'https://hooks.example.com/fixture', event_types: ['*'], status: 'disabled' } });
    assert.equal(made.status, 201, made.text);
    // A delivery: the replay of the events of the millisecond the member was created (not the tenant's whole history).
    const created = await t.api('GET', `/v1/domain-events?type=member.created&aggregate_id=${member.body.id}`);
    const at = Date.parse(created.body.data[0].occurred_at);
    const replayed = await t.api('POST', `/v1/webhooks/endpoints/${made.body.id}/replay`, { body: { from: new Date(at).toISOString(), to: new Date(at + 1).toISOString(), status: 'all' } });
    assert.equal(replayed.status, 202, replayed.text);
    const listed = await t.api('GET', `/v1/webhooks/deliveries?endpoint_id=${made.body.id}&limit=1`);
    assert.equal(listed.body.data.length, 1, listed.text);
    webhook = { endpointId: made.body.id, deliveryId: listed.body.data[0].id };
  }
  let skipId: string | null = null;
  if (routes.some((r) => routeName(r) === 'GET /v1/domain-events/skips/:id')) {
    // Recorded as the dispatch records a consumer's failure (no consumer of this app fails on purpose).
    const created = await t.api('GET', `/v1/domain-events?type=member.created&aggregate_id=${member.body.id}`);
    await insertSkip(app.patron.db, t.id, { eventId: created.body.data[0].id, consumer: 'webhooks', error: 'isolation fixture', at: new Date() });
    skipId = (await t.api('GET', '/v1/domain-events/skips')).body.data[0]?.id ?? assert.fail('the skip is not listed');
  }
  await settle(t.id);
  return {
    tenant: t, memberId: member.body.id, externalId, email, keyId: key.body.id, keyPrefix: key.body.prefix, importId, ruleId, redemptionId, holdId, eventId,
    transactionId, orderImportId, voucher, walletDebitId, tierId, tierCode, reevaluationId, stampCardTypeId, badgeId, referralId, referralBody, campaignId,
    rewardId, rewardRedemptionId, agentId, caseId, survey, analyticsRunId, simulationId, messageId, suppressionEmail, webhook, skipId,
  };
}

/** Waits until the tenant has no import, analytics run or simulation in progress, so that its rows hold still for a snapshot. */
async function settle(tenantId: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const res = await app.patron.db.query(
      `SELECT (SELECT count(*) FROM imports WHERE tenant_id = $1 AND status IN ('receiving', 'queued', 'running'))
            + (SELECT count(*) FROM analytics_runs WHERE tenant_id = $1 AND status IN ('queued', 'running'))
            + (SELECT count(*) FROM analytics_simulations WHERE tenant_id = $1 AND status IN ('queued', 'running'))::int AS n`,
      [tenantId],
    );
    if (Number(res.rows[0].n) === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the imports, analytics runs or simulations of tenant ${tenantId} did not finish`);
}

/** The concrete path of a route for a fixture (or random ids); fails for a parameter with no PATH_PARAMS entry. */
function pathFor(r: RouteInfo, f: Fixture | 'random'): string {
  let path = r.url.replace(/\*$/, 'x');
  for (const p of paramsOf(r.url)) {
    if (p.key in SHARED_PARAMS) {
      path = path.replace(`:${p.name}`, encodeURIComponent(SHARED_PARAMS[p.key]!));
      continue;
    }
    const how = PATH_PARAMS[p.key];
    if (!how) assert.fail(`PATH_PARAMS has no entry for ${p.key} (route ${routeName(r)}): add how to find a tenant's object for it`);
    path = path.replace(`:${p.name}`, encodeURIComponent(f === 'random' ? how.random() : how.of(f)));
  }
  return path;
}

function bodyFor(r: RouteInfo, f: Fixture): { body?: unknown; raw?: string; headers?: Record<string, string> } {
  if (!r.hasBody) return {};
  const sample = SAMPLE_BODIES[routeName(r)];
  if (!sample) assert.fail(`SAMPLE_BODIES has no entry for ${routeName(r)}: add a valid body for it`);
  const s = sample(f);
  return 'json' in s ? { body: s.json } : { raw: s.raw, headers: { 'content-type': s.contentType } };
}

function send(r: RouteInfo, f: Fixture | 'random', bodyFixture: Fixture, key: string | null): Promise<ApiResponse> {
  return call(app.url, r.method, pathFor(r, f), { ...bodyFor(r, bodyFixture), key });
}

function assertProblem(res: ApiResponse, statuses: number[], what: string) {
  assert.ok(statuses.includes(res.status), `${what}: expected ${statuses.join(' or ')}, got ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, `${what}: a problem document`);
}

/**
 * Hands the tenant's outbox to its consumers until no event is left undispatched. The outbox.dispatch pump of this
 * app does the same every DELIVERY_POLL_MS: it marks events dispatched and its consumers write rows (queued messages),
 * which must not happen between the two snapshots of a comparison.
 */
async function drainOutbox(tenantId: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    await app.patron.dispatcher.dispatchAll(tenantId);
    const left = await app.patron.db.query(`SELECT count(*)::int AS n FROM outbox_events WHERE tenant_id = $1 AND dispatched_at IS NULL`, [tenantId]);
    if (left.rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`the outbox of tenant ${tenantId} was not dispatched`);
}

/** Every row the tenant owns, in every tenant table (plus its tenants row), as a comparable digest. */
async function snapshot(tenantId: string): Promise<Record<string, string>> {
  await drainOutbox(tenantId);
  const db = app.patron.db;
  const tables = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'tenant_id'
      ORDER BY table_name`,
  );
  const out: Record<string, string> = {};
  // last_used_at moves when a key is merely used, and dispatched_at when the outbox pump (jobs 'work') hands an event
  // to its consumers; everything else must stay put.
  const row = `(to_jsonb(t) - 'last_used_at' - 'dispatched_at')::text`;
  for (const { table_name } of tables.rows) {
    const res = await db.query(`SELECT count(*)::int AS n, md5(coalesce(string_agg(${row}, '|' ORDER BY ${row}), '')) AS h FROM "${table_name}" t WHERE tenant_id = $1`, [tenantId]);
    out[table_name] = `${res.rows[0].n}:${res.rows[0].h}`;
  }
  const tenant = await db.query(`SELECT md5(to_jsonb(t)::text) AS h FROM tenants t WHERE id = $1`, [tenantId]);
  out.tenants = tenant.rows[0].h;
  return out;
}

/**
 * Public routes with path parameters (the survey pages) and what they take: a live public survey of tenant A and an
 * invitation to it, made through the surveys service.
 */
async function publicSamples(): Promise<Record<string, { path: string; form?: string }>> {
  const surveys = app.patron.services.surveys;
  const member = await A.api('POST', '/v1/members', { body: { first_name: 'Respondent' } });
  assert.equal(member.status, 201, member.text);
  const { surveyId, token } = await app.patron.db.tx(async (tx) => {
    const made = await surveys.create(tx, A.id, { name: 'Public sample', touchpoint: 'custom', public_link: true, definition: { questions: [{ key: 'nps', type: 'nps' }] } as never });
    await surveys.publish(tx, A.id, made.id);
    const inv = await surveys.invite(tx, A.id, made.id, { member_id: member.body.id });
    return { surveyId: made.id, token: new URL(inv.url!).pathname.slice('/s/'.length) };
  });
  const pub = `/s/p/${A.id}/${surveyId}`;
  // An unsubscribe link: the tenant's signing secret exists once it has sent a message.
  const subscriber = await A.api('POST', '/v1/members', { body: { email: `sub-${crypto.randomBytes(6).toString('hex')}@example.com`, consent: { email: true } } });
  assert.equal(subscriber.status, 201, subscriber.text);
  await app.patron.db.tx((tx) => app.patron.services.messaging.enqueue(tx, A.id, { trigger: 'birthday', dedupeKey: `iso-${subscriber.body.id}`, memberId: subscriber.body.id, variables: {} }));
  await app.patron.jobs.runNow('messages.send', { tenant_id: A.id });
  const secret = (await app.patron.db.query('SELECT unsubscribe_secret FROM messaging_settings WHERE tenant_id = $1', [A.id])).rows[0].unsubscribe_secret as string;
  const unsubscribe = `/u/${signUnsubscribeToken(Buffer.from(secret, 'base64url'), { tenantId: A.id, memberId: subscriber.body.id, channel: 'email' })}`;
  return {
    'GET /u/:token': { path: unsubscribe },
    'POST /u/:token': { path: unsubscribe, form: 'List-Unsubscribe=One-Click' },
    'GET /s/:token': { path: `/s/${token}` },
    'POST /s/:token': { path: `/s/${token}`, form: 'nps=9' },
    'GET /s/:token/thanks': { path: `/s/${token}/thanks` },
    'GET /s/p/:tenantId/:surveyId': { path: pub },
    'POST /s/p/:tenantId/:surveyId': { path: pub, form: 'nps=9' },
    'GET /s/p/:tenantId/:surveyId/thanks': { path: `${pub}/thanks` },
  };
}

const tenantRoutes = () => routes.filter((r) => r.policy !== 'public' && r.policy !== 'operator');

describe('tenant isolation and scopes over every route', () => {
  test('the route table is the whole API; public routes are exactly the listed ones', () => {
    assert.ok(routes.filter((r) => r.url.startsWith('/v1/')).length >= 15, `the route table lists the API (${routes.length} routes)`);
    const publicRoutes = routes.filter((r) => r.policy === 'public');
    const unlisted = publicRoutes.filter((r) => !PUBLIC_ROUTES.has(routeName(r)) && !isDocsRoute(r)).map(routeName);
    assert.deepEqual(unlisted, [], 'a route without a key must be listed in PUBLIC_ROUTES on purpose');
    const stale = [...PUBLIC_ROUTES].filter((name) => !publicRoutes.some((r) => routeName(r) === name));
    assert.deepEqual(stale, [], 'every listed public route exists and is public');
    for (const r of routes.filter((x) => x.url.startsWith('/v1/'))) {
      assert.ok(['read', 'write', 'admin', 'operator', 'public'].includes(r.policy), `${routeName(r)}: policy ${r.policy}`);
      if (WRITE_METHODS.has(r.method)) assert.notEqual(r.policy, 'read', `${routeName(r)} writes, so it cannot be open to read keys`);
    }
  });

  test('public routes answer without a key', async () => {
    const samples = await publicSamples();
    for (const r of routes.filter((x) => x.policy === 'public')) {
      const sample = samples[routeName(r)];
      const url = sample?.path ?? (r.url === '/docs/static/*' ? '/docs/static/swagger-ui.css' : r.url);
      const res = await call(app.url, r.method, url, sample?.form !== undefined ? { raw: sample.form, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {});
      assert.ok(res.status < 400, `${routeName(r)}: ${res.status}`);
    }
  });

  test('every non-public route is a 401 without a key, with an unknown key and with a malformed header', async () => {
    const f = await makeFixture(A, { analytics: true });
    const checked: string[] = [];
    for (const r of routes.filter((x) => x.policy !== 'public')) {
      const before = await snapshot(A.id);
      assertProblem(await send(r, f, f, null), [401], `${routeName(r)} without a key`);
      assertProblem(await send(r, 'random', f, `ptr_${crypto.randomBytes(32).toString('base64url')}`), [401], `${routeName(r)} with an unknown key`);
      const basic = await call(app.url, r.method, pathFor(r, f), { ...bodyFor(r, f), headers: { authorization: `Basic ${Buffer.from(`x:${A.key}`).toString('base64')}` } });
      assertProblem(basic, [401], `${routeName(r)} with Basic auth`);
      assert.deepEqual(await snapshot(A.id), before, `${routeName(r)}: nothing written`);
      checked.push(routeName(r));
    }
    assert.ok(checked.includes('POST /v1/members') && checked.includes('GET /v1/members/:id'));
  });

  test('operator routes refuse tenant keys, and work with the operator key', async () => {
    const f = await makeFixture(B);
    const operatorRoutes = routes.filter((r) => r.policy === 'operator');
    assert.ok(operatorRoutes.some((r) => routeName(r) === 'POST /v1/tenants'), 'tenant creation is an operator route');
    assert.ok(operatorRoutes.some((r) => routeName(r) === 'GET /v1/tenants'), 'the tenant list is an operator route');
    // Only tenants this test would create (other test files create tenants at the same time).
    const count = async () => (await app.patron.db.query(`SELECT count(*)::int AS n FROM tenants WHERE name LIKE 'Isolation %'`)).rows[0].n as number;
    for (const r of operatorRoutes) {
      const before = await snapshot(B.id);
      const tenantsBefore = await count();
      for (const key of [A.key, await A.keyWith(['admin']), B.key]) {
        assertProblem(await send(r, f, f, key), [401, 403], `${routeName(r)} with a tenant key`);
      }
      assert.deepEqual(await snapshot(B.id), before, `${routeName(r)}: nothing of B changed`);
      if (WRITE_METHODS.has(r.method)) assert.equal(await count(), tenantsBefore, `${routeName(r)}: no tenant created`);
      const ok = await send(r, f, f, OPERATOR_KEY);
      assert.ok(ok.status >= 200 && ok.status < 300, `${routeName(r)} with the operator key: ${ok.status} ${ok.text.slice(0, 300)}`);
    }
  });

  test("a key of tenant A cannot read tenant B's objects: 404, never 403 or 200", async () => {
    const f = await makeFixture(B, { analytics: true });
    const reads = tenantRoutes().filter((r) => !WRITE_METHODS.has(r.method) && tenantParamsOf(r.url).length > 0);
    assert.ok(reads.length >= 4, 'the reads by id are walked');
    const before = await snapshot(B.id);
    for (const r of reads) {
      assertProblem(await send(r, f, f, A.key), [404], `${routeName(r)} with A's key on B's object`);
      assertProblem(await send(r, 'random', f, A.key), [404], `${routeName(r)} with A's key on an unknown id`);
    }
    assert.deepEqual(await snapshot(B.id), before);
    // Positive control: the same requests with B's own key find the objects.
    for (const r of reads) {
      const own = await send(r, f, f, B.key);
      assert.ok(own.status >= 200 && own.status < 300, `${routeName(r)} with B's key: ${own.status} ${own.text.slice(0, 300)}`);
    }
  });

  test("a key of tenant A cannot change tenant B's objects: 404, and B is unchanged", async () => {
    const writes = tenantRoutes().filter((r) => WRITE_METHODS.has(r.method) && tenantParamsOf(r.url).length > 0);
    assert.ok(writes.length >= 6, 'the writes by id are walked');
    const aFixture = await makeFixture(A);
    for (const r of writes) {
      const f = await makeFixture(B); // fresh objects: each route starts from the same state
      const before = await snapshot(B.id);
      assertProblem(await send(r, f, aFixture, A.key), [404], `${routeName(r)} with A's key on B's object`);
      assertProblem(await send(r, f, aFixture, A.key), [404], `${routeName(r)} again (a retry is a 404 too)`);
      assertProblem(await send(r, 'random', aFixture, A.key), [404], `${routeName(r)} with A's key on an unknown id`);
      const body = bodyFor(r, aFixture);
      const withKey = await call(app.url, r.method, pathFor(r, f), { ...body, key: A.key, headers: { ...body.headers, 'idempotency-key': `iso-${crypto.randomUUID()}` } });
      assertProblem(withKey, [404], `${routeName(r)} with A's key and an Idempotency-Key`);
      assert.deepEqual(await snapshot(B.id), before, `${routeName(r)}: B's data is unchanged`);
      // Positive control: B's own key reaches the object (it exists and the sample is valid).
      const own = await send(r, f, f, B.key);
      assert.ok(own.status !== 404 && own.status < 500 && own.status !== 400, `${routeName(r)} with B's key: ${own.status} ${own.text.slice(0, 300)}`);
    }
  });

  test('lists and writes without an id never show or touch tenant B', async () => {
    const f = await makeFixture(B);
    const secretsOfB = [B.id, f.memberId, f.externalId, f.email, f.keyId, f.keyPrefix];
    const leaks = (text: string) => secretsOfB.filter((s) => text.includes(s));
    /** B's values found in an answer; a problem document's `instance` only echoes the request URL. */
    const leaksIn = (res: ApiResponse) => {
      if (res.status < 400) return leaks(res.text);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, res.text.slice(0, 200));
      const { instance: _echo, ...rest } = res.body;
      return leaks(JSON.stringify(rest));
    };
    // Each filter alone: a route that does not know a parameter may refuse it (400).
    // `?limit=500`: every write route above made B a fresh fixture (and API key), more than a default page holds.
    const filters = ['', '?limit=500', `?external_id=${f.externalId}`, `?email=${encodeURIComponent(f.email)}`, `?q=${f.externalId}`, `?aggregate_id=${f.memberId}`, `?resource_id=${f.memberId}`];
    const lists = tenantRoutes().filter((r) => r.method === 'GET' && tenantParamsOf(r.url).length === 0);
    const seenByB = new Set<string>();
    for (const r of lists) {
      for (const suffix of filters) {
        const mine = await call(app.url, 'GET', pathFor(r, f) + suffix, { key: A.key });
        assert.ok(mine.status < 500, `${r.url}${suffix}: ${mine.status}`);
        assert.deepEqual(leaksIn(mine), [], `${r.url}${suffix} with A's key shows B's data`);
        const theirs = await call(app.url, 'GET', pathFor(r, f) + suffix, { key: B.key });
        if (theirs.status < 300 && leaks(theirs.text).length > 0) seenByB.add(r.url);
        // B has a fixture (and an API key) per route by now: its newest ones may be past a default page of 50.
        if (suffix === '') {
          const all = await call(app.url, 'GET', `${pathFor(r, f)}?limit=500`, { key: B.key });
          if (all.status < 300 && leaks(all.text).length > 0) seenByB.add(r.url);
        }
      }
    }
    // Positive control: these answers do show B's data to B, so an empty answer to A means something.
    for (const url of ['/v1/tenant', '/v1/members', '/v1/api-keys', '/v1/audit-log', '/v1/domain-events', '/v1/members/export']) {
      if (routes.some((r) => r.method === 'GET' && r.url === url)) assert.ok(seenByB.has(url), `${url} shows B's data to B`);
    }

    const writes = tenantRoutes().filter((r) => WRITE_METHODS.has(r.method) && tenantParamsOf(r.url).length === 0);
    assert.ok(writes.length >= 3);
    const aFixture = await makeFixture(A);
    const before = await snapshot(B.id);
    for (const r of writes) {
      const res = await send(r, aFixture, aFixture, A.key);
      assert.ok(res.status >= 200 && res.status < 300, `${routeName(r)} with A's key works on A: ${res.status} ${res.text.slice(0, 300)}`);
      assert.deepEqual(leaksIn(res), [], `${routeName(r)} answers with B's data`);
    }
    await settle(A.id);
    assert.deepEqual(await snapshot(B.id), before, "A's writes left B unchanged");
  });

  test('a read-scoped key gets 403 on every write route, a write-scoped key on every admin route, and nothing is written', async () => {
    const f = await makeFixture(A, { analytics: true });
    const readKey = await A.keyWith(['read']);
    const writeKey = await A.keyWith(['write']);
    const writes = tenantRoutes().filter((r) => WRITE_METHODS.has(r.method));
    const admin = tenantRoutes().filter((r) => r.policy === 'admin');
    assert.ok(writes.length >= 8 && admin.length >= 5);
    const before = await snapshot(A.id);
    for (const r of writes) {
      const res = await send(r, f, f, readKey);
      assertProblem(res, [403], `${routeName(r)} with a read key`);
      assert.equal(res.body.code, 'forbidden');
    }
    for (const r of admin) {
      assertProblem(await send(r, f, f, writeKey), [403], `${routeName(r)} with a write key`);
      assertProblem(await send(r, f, f, readKey), [403], `${routeName(r)} with a read key`);
    }
    assert.deepEqual(await snapshot(A.id), before, 'nothing was written');
    // Positive control: the scopes are not stricter than documented.
    for (const r of tenantRoutes().filter((x) => x.policy === 'read')) {
      const res = await send(r, f, f, readKey);
      assert.ok(res.status >= 200 && res.status < 300, `${routeName(r)} with a read key: ${res.status} ${res.text.slice(0, 200)}`);
    }
    for (const r of tenantRoutes().filter((x) => x.policy === 'write')) {
      const g = await makeFixture(A);
      const res = await send(r, g, g, writeKey);
      assert.ok(res.status !== 403 && res.status !== 401 && res.status < 500, `${routeName(r)} with a write key: ${res.status} ${res.text.slice(0, 200)}`);
    }
  });
});
