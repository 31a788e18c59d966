/**
 * The program mechanics together, over HTTP (docs/program.md → "Across the mechanics"): gifts that are catalog
 * rewards and store credit, a reward and a campaign only for a tier, and a gift that cannot be given, which must not
 * fail the shop's order. Each module's own scenarios are tested beside it.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from './helpers.js';
import { ledgerViolations } from '../src/modules/ledger/ledger.invariants.js';

let app: TestApp;

before(async () => {
  app = await startTestApp();
  // Jobs run on demand here; nothing of this file is due on the real clock (test/helpers.ts).
  app.clock.set(new Date('2032-05-03T10:00:00Z'));
});
after(() => app.close());

async function ok<T = any>(res: Promise<{ status: number; body: T; text: string }>, status = 201): Promise<T> {
  const r = await res;
  assert.equal(r.status, status, r.text);
  return r.body;
}

async function tenant(): Promise<TestTenant> {
  const t = await app.newTenant();
  await ok(t.api('POST', '/v1/earn-rules', { body: { kind: 'base', name: '1 point per euro', rate: { points: 1, per_units: 1 }, rounding: 'floor' } }));
  return t;
}

const member = (t: TestTenant, body: Record<string, unknown> = {}) => ok(t.api('POST', '/v1/members', { body: { first_name: 'Ana', ...body } })).then((m: any) => m.id as string);
const buy = (t: TestTenant, memberId: string, total: number) =>
  t.api('POST', '/v1/transactions', { body: { external_id: `o-${crypto.randomUUID()}`, member_id: memberId, currency: 'EUR', total } });
const available = async (t: TestTenant, m: string) => (await t.api('GET', `/v1/members/${m}/balance`)).body.available as number;
const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];
const redemptionsOf = async (t: TestTenant, m: string) => (await t.api('GET', `/v1/reward-redemptions?member_id=${m}&limit=500`)).body.data as any[];

async function noViolations(t: TestTenant) {
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

describe('program mechanics together', () => {
  test('a full stamp card issues a voucher from the catalog; when the reward is out of stock the order still goes through and gift.failed says why', async () => {
    const t = await tenant();
    const loaf = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'free_product', name: { en: 'Free loaf', bg: 'Безплатен хляб' }, points: 300, stock: 1, voucher: { sku: 'LOAF', valid_days: 30 } } }));
    const card = await ok(t.api('POST', '/v1/stamp-card-types', { body: { name: { en: 'Bakery card' }, stamps_needed: 2, reward: { reward_id: loaf.id } } }));
    const ana = await member(t);

    for (let i = 0; i < 2; i++) assert.equal((await buy(t, ana, 500)).status, 201);
    const given = await redemptionsOf(t, ana);
    assert.equal(given.length, 1, 'the full card issued the loaf');
    assert.equal(given[0].reward_id, loaf.id);
    assert.equal(given[0].points, 0, 'a gift costs no points');
    const code = given[0].voucher?.code as string;
    assert.ok(code, JSON.stringify(given[0]));
    const check = await ok(t.api('GET', `/v1/vouchers/${encodeURIComponent(code)}/validation?member_id=${ana}`), 200);
    assert.equal(check.valid, true, JSON.stringify(check));
    assert.equal(await available(t, ana), 10, 'the orders earned their points; the gift spent none');

    // The second card fills, but the only loaf is gone: the order is recorded and earns, the card completes, nothing is given.
    const third = await buy(t, ana, 500);
    assert.equal(third.status, 201, third.text);
    const fourth = await buy(t, ana, 500);
    assert.equal(fourth.status, 201, fourth.text);
    assert.equal((await redemptionsOf(t, ana)).length, 1, 'no second loaf');
    const cards = (await t.api('GET', `/v1/members/${ana}/stamp-cards`)).body.data as any[];
    assert.equal(cards.find((c) => c.type_id === card.id).completed_count, 2);
    const failed = await eventsOf(t, 'gift.failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0].payload.source_type, 'stamp_card');
    assert.deepEqual(failed[0].payload.gift, { reward_id: loaf.id });
    assert.equal(await available(t, ana), 20, 'the failed gift left the points of the order untouched');
    await noViolations(t);
  });

  test('a referral gives the new member a voucher from the catalog and the referrer store credit', async () => {
    const t = await tenant();
    const fiveOff = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'fixed_amount', name: { en: '€5 off' }, points: 500, voucher: { amount: 500, min_basket: 1000 } } }));
    await ok(t.api('PATCH', '/v1/referral-program', { body: {
      enabled: true, referrer_gift: { credit: 1000 }, referee_gift: { reward_id: fiveOff.id }, min_purchase_amount: 2000, purchase_within_days: 30, return_window_days: 14,
      review: { burst_per_hour: null },
    } }), 200);
    const ana = await member(t, { email: 'ana@example.com' });
    const code = (await ok(t.api('GET', `/v1/members/${ana}/referral`), 200)).code;
    const ben = await member(t, { first_name: 'Ben', email: 'ben@example.com' });
    const referral = await ok(t.api('POST', '/v1/referrals', { body: { code, member_id: ben } }));
    assert.equal((await buy(t, ben, 2500)).status, 201);

    app.clock.set(new Date(app.clock.now().getTime() + 15 * 86_400_000));
    await app.patron.jobs.runNow('referrals.convert', { tenant_id: t.id });
    assert.equal((await ok(t.api('GET', `/v1/referrals/${referral.id}`), 200)).status, 'converted');
    const benGot = await redemptionsOf(t, ben);
    assert.equal(benGot.length, 1);
    assert.equal(benGot[0].reward_id, fiveOff.id);
    assert.ok(benGot[0].voucher?.code, 'the referee got a voucher code');
    const wallet = await ok(t.api('GET', `/v1/members/${ana}/wallet`), 200);
    assert.equal(wallet.balance.amount ?? wallet.balance, 1000, JSON.stringify(wallet.balance));
    await noViolations(t);
  });

  test('a gold-only reward and a double-points campaign for gold reach gold members only', async () => {
    const t = await tenant();
    await ok(t.api('PATCH', '/v1/tier-settings', { body: { metric: 'spend', window: 'lifetime' } }), 200);
    await ok(t.api('POST', '/v1/tiers', { body: { code: 'green', name: 'Green', rank: 1, entry_threshold: 0 } }));
    await ok(t.api('POST', '/v1/tiers', { body: { code: 'gold', name: 'Gold', rank: 2, entry_threshold: 10000 } }));
    const tasting = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'event_invitation', name: { en: 'Tasting evening' }, points: 50, tiers: ['gold'], event: { capacity: 20, starts_at: '2032-06-01T18:00:00Z' } } }));
    const start = app.clock.now();
    const campaign = await ok(t.api('POST', '/v1/campaigns', { body: {
      name: 'Double points for Gold', kind: 'points_multiplier', config: { multiplier: 2 },
      starts_at: start.toISOString(), ends_at: new Date(start.getTime() + 7 * 86_400_000).toISOString(), conditions: { tier_codes: ['gold'] },
    } }));
    await ok(t.api('POST', `/v1/campaigns/${campaign.id}/launch`), 200);
    app.clock.set(new Date(start.getTime() + 60_000));

    const green = await member(t);
    const gold = await member(t);
    const seen = async (m: string) => ((await t.api('GET', `/v1/members/${m}/rewards?limit=500`)).body.data as any[]).find((r) => r.id === tasting.id);
    assert.ok((await seen(gold)).reasons.some((r: any) => r.code === 'tier'), 'not gold yet');

    assert.equal((await buy(t, gold, 12000)).status, 201); // 120 points, and Gold from this order on
    assert.equal((await ok(t.api('GET', `/v1/members/${gold}/tier`), 200)).tier.code, 'gold');
    assert.equal((await buy(t, gold, 1000)).status, 201); // 10 points, doubled by the campaign
    assert.equal((await buy(t, green, 1000)).status, 201); // 10 points, not doubled
    assert.equal(await available(t, gold), 120 + 10 + 10);
    assert.equal(await available(t, green), 10);

    assert.deepEqual((await seen(gold)).reasons, [], 'gold sees the tasting as available');
    const rsvp = await ok(t.api('POST', '/v1/reward-redemptions', { body: { member_id: gold, reward_id: tasting.id } }));
    assert.equal(rsvp.points, 50);
    const refused = await t.api('POST', '/v1/reward-redemptions', { body: { member_id: green, reward_id: tasting.id } });
    assert.equal(refused.status, 422, refused.text);
    await noViolations(t);
  });

  test('a badge gives store credit; a badge whose bonus cannot be given is still earned', async () => {
    const t = await tenant();
    await ok(t.api('POST', '/v1/badges', { body: { code: 'first', name: { en: 'First purchase' }, criterion: { kind: 'first_purchase' }, bonus: { credit: 250 } } }));
    const gone = await ok(t.api('POST', '/v1/rewards', { body: { kind: 'physical_gift', name: { en: 'Sticker' }, points: 10, stock: 0, physical_gift: { requires_address: false } } }));
    await ok(t.api('POST', '/v1/badges', { body: { code: 'second', name: { en: 'Second purchase' }, criterion: { kind: 'nth_purchase', n: 2 }, bonus: { reward_id: gone.id } } }));
    const ana = await member(t);
    assert.equal((await buy(t, ana, 1000)).status, 201);
    assert.equal((await buy(t, ana, 1000)).status, 201);
    const badges = await ok(t.api('GET', `/v1/members/${ana}/badges`), 200);
    const earned = (badges.earned ?? badges.data ?? badges) as any[];
    const byCode = (c: string) => earned.find((b: any) => (b.code ?? b.badge?.code) === c);
    assert.ok(byCode('first') && byCode('second'), JSON.stringify(badges));
    assert.equal(byCode('first').bonus.credit, 250);
    assert.equal(byCode('second').bonus.failed.code, 'unprocessable');
    const wallet = await ok(t.api('GET', `/v1/members/${ana}/wallet`), 200);
    assert.equal(wallet.balance.amount ?? wallet.balance, 250);
    assert.equal((await eventsOf(t, 'gift.failed')).length, 1);
    await noViolations(t);
  });
});
