/**
 * extra_stamp campaigns through the real HTTP API: a double-stamp weekend on a bakery card of 10 (an extra stamp on
 * every weekend order that stamps the card), the control group held out, per-member limits, returns and voids taking
 * the extra stamps back with the order's own, and bad input. Every scenario ends with the stamp cards' balance (a
 * card's count is the sum of its rows) and the ledger's invariants checked. The clock is set after 2030.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from '../ledger/ledger.invariants.js';
import { controlDraw } from './campaigns.service.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const at = (iso: string) => app.clock.set(new Date(iso));
// 2031-03-05 is a Wednesday, 2031-03-08 a Saturday.
const WEDNESDAY = '2031-03-05T10:00:00Z';
const SATURDAY = '2031-03-08T10:00:00Z';

async function member(t: TestTenant): Promise<string> {
  const res = await t.api('POST', '/v1/members', { body: {} });
  assert.equal(res.status, 201, res.text);
  return res.body.id;
}

let seq = 0;
async function buy(t: TestTenant, memberId: string, total = 500): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { external_id: `o-${++seq}`, member_id: memberId, currency: 'EUR', total } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function giveBack(t: TestTenant, purchase: any, total: number): Promise<any> {
  const res = await t.api('POST', '/v1/transactions', { body: { type: 'return', external_id: `r-${++seq}`, original_id: purchase.id, currency: 'EUR', total } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function voidIt(t: TestTenant, transactionId: string) {
  const res = await t.api('POST', `/v1/transactions/${transactionId}/void`, { body: {} });
  assert.equal(res.status, 200, res.text);
}

/** The bakery card of 10 (a purchase of at least 3 EUR stamps it), rewarded with 500 points. */
async function bakeryCard(t: TestTenant): Promise<any> {
  const res = await t.api('POST', '/v1/stamp-card-types', { body: { name: { en: 'Bakery card' }, stamps_needed: 10, min_amount: 300, reward: { points: 500 } } });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const WINDOW = { starts_at: '2031-03-03T00:00:00Z', ends_at: '2031-03-10T00:00:00Z' };

async function stampCampaign(t: TestTenant, typeId: string, body: Record<string, unknown> = {}): Promise<any> {
  const res = await t.api('POST', '/v1/campaigns', { body: { name: 'Double stamps weekend', kind: 'extra_stamp', config: { stamp_card_type_id: typeId, stamps: 1 }, ...WINDOW, ...body } });
  assert.equal(res.status, 201, res.text);
  const launched = await t.api('POST', `/v1/campaigns/${res.body.id}/launch`);
  assert.equal(launched.status, 200, launched.text);
  return launched.body;
}

async function card(t: TestTenant, memberId: string, typeId: string) {
  const res = await t.api('GET', `/v1/members/${memberId}/stamp-cards`);
  assert.equal(res.status, 200, res.text);
  return res.body.data.find((c: any) => c.type_id === typeId);
}

async function awardsOf(t: TestTenant, campaignId: string, memberId: string): Promise<Map<string, any>> {
  const res = await t.api('GET', `/v1/campaigns/${campaignId}/awards?limit=100&member_id=${memberId}`);
  assert.equal(res.status, 200, res.text);
  return new Map(res.body.data.map((a: any) => [a.source_id, a]));
}

const get = async (t: TestTenant, id: string) => (await t.api('GET', `/v1/campaigns/${id}`)).body;
const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data as any[];

async function consistent(t: TestTenant) {
  assert.deepEqual(await app.patron.services.stampCards.cardsOutOfBalance(app.patron.db, t.id), []);
  assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: false }), []);
}

describe('extra_stamp campaigns', () => {
  test('a double-stamp weekend on the bakery card of 10: treatment gets an extra stamp per qualifying order, control none; returns and voids take it back', async () => {
    at('2031-03-01T09:00:00Z');
    const t = await app.newTenant();
    const bakery = await bakeryCard(t);
    const c = await stampCampaign(t, bakery.id, { conditions: { days_of_week: [6, 7] }, control_share: 0.5 });
    assert.equal(c.kind, 'extra_stamp');
    assert.equal(c.spend.unit, 'stamps');
    assert.equal(c.budget, null);
    // One member of each group (the group is the hash of campaign and member): members are made until both exist.
    const ids: string[] = [];
    const inTreatment = () => ids.find((id) => controlDraw(c.id, id) >= 0.5);
    const inControl = () => ids.find((id) => controlDraw(c.id, id) < 0.5);
    while ((!inTreatment() || !inControl()) && ids.length < 64) ids.push(await member(t));
    assert.ok(inTreatment() && inControl(), 'both groups among 64 members');
    const ana = inTreatment()!;
    const ctl = inControl()!;

    at(WEDNESDAY);
    await buy(t, ana);
    assert.equal((await card(t, ana, bakery.id)).stamps, 1, 'a weekday order: the card\'s own stamp only');
    assert.equal((await awardsOf(t, c.id, ana)).size, 0);

    at(SATURDAY);
    const p: any[] = [];
    for (let i = 0; i < 4; i++) p.push(await buy(t, ana));
    assert.equal((await card(t, ana, bakery.id)).stamps, 9, '1 + 4 weekend orders × 2 stamps');
    p.push(await buy(t, ana)); // 9 + 2: card 1 is full, the stamp left over starts card 2
    let view = await card(t, ana, bakery.id);
    assert.deepEqual([view.number, view.stamps, view.completed_count], [2, 1, 1]);
    const rewards = (await t.api('GET', `/v1/members/${ana}/ledger?limit=100`)).body.data.filter((e: any) => e.source_type === 'stamp_card');
    assert.deepEqual(rewards.map((e: any) => e.points), [500], 'the card filled by a campaign stamp gives its reward once');
    assert.equal((await eventsOf(t, 'stamp_card.completed')).length, 1);

    // An order the card does not stamp (below its 3 EUR) gets no extra stamp either.
    await buy(t, ana, 200);
    let awards = await awardsOf(t, c.id, ana);
    assert.equal(awards.size, 5);
    assert.ok([...awards.values()].every((a) => a.outcome === 'granted' && a.wanted === 1 && a.points === 1 && a.kept === 1));
    const history = (await t.api('GET', `/v1/members/${ana}/stamp-events?type_id=${bakery.id}&limit=100`)).body.data;
    assert.equal(history.filter((h: any) => h.kind === 'campaign').length, 5);
    assert.equal(history.filter((h: any) => h.kind === 'purchase').length, 6);

    // The control member: the card's own stamp, no extra, a held_out row with what they would have got.
    await buy(t, ctl);
    assert.equal((await card(t, ctl, bakery.id)).stamps, 1);
    const held = [...(await awardsOf(t, c.id, ctl)).values()];
    assert.deepEqual(held.map((a) => [a.outcome, a.wanted, a.points]), [['held_out', 1, 0]]);

    let camp = await get(t, c.id);
    assert.deepEqual([camp.spend.unit, camp.spend.spent, camp.spend.remaining, camp.spend.awards, camp.spend.held_out, camp.spend.members_reached], ['stamps', 5, null, 5, 1, 1]);
    assert.equal((await eventsOf(t, 'campaign.award_granted'))[0].payload.stamps, 1);

    // A full return takes the order's stamp and the campaign's: card 2 goes from 1 to −1.
    await giveBack(t, p[4], 500);
    assert.equal((await card(t, ana, bakery.id)).stamps, -1);
    assert.equal((await awardsOf(t, c.id, ana)).get(p[4].id).kept, 0);
    assert.equal((await eventsOf(t, 'campaign.award_clawed_back')).length, 1);

    // A partial return that keeps the order on the card keeps the extra stamp; one that drops it below 3 EUR takes both.
    await giveBack(t, p[3], 100);
    assert.equal((await card(t, ana, bakery.id)).stamps, -1);
    assert.equal((await awardsOf(t, c.id, ana)).get(p[3].id).kept, 1);
    const r2 = await giveBack(t, p[3], 200);
    assert.equal((await card(t, ana, bakery.id)).stamps, -3);
    assert.equal((await awardsOf(t, c.id, ana)).get(p[3].id).kept, 0);

    // A voided return gives both back; a voided purchase takes both.
    await voidIt(t, r2.id);
    assert.equal((await card(t, ana, bakery.id)).stamps, -1);
    assert.equal((await awardsOf(t, c.id, ana)).get(p[3].id).kept, 1);
    assert.equal((await eventsOf(t, 'campaign.award_restored')).length, 1);
    await voidIt(t, p[2].id);
    assert.equal((await card(t, ana, bakery.id)).stamps, -3);
    awards = await awardsOf(t, c.id, ana);
    assert.deepEqual(p.map((x) => awards.get(x.id).kept), [1, 1, 0, 1, 0]);

    camp = await get(t, c.id);
    assert.deepEqual([camp.spend.spent, camp.spend.awards], [3, 5]);
    const results = (await t.api('GET', `/v1/campaigns/${c.id}/results`)).body;
    assert.deepEqual([results.unit, results.treatment.points_awarded, results.control.points_awarded], ['stamps', 3, 0]);
    // The campaign's stamps never touched the points: only the card's reward is in the ledger.
    assert.equal((await t.api('GET', `/v1/members/${ana}/ledger?limit=100`)).body.data.filter((e: any) => e.source_type === 'campaign').length, 0);
    await consistent(t);
  });

  test('per-member limits and conditions apply; a card archived after launch gets no more extra stamps', async () => {
    at('2031-03-02T09:00:00Z');
    const t = await app.newTenant();
    const bakery = await bakeryCard(t);
    const c = await stampCampaign(t, bakery.id, { config: { stamp_card_type_id: bakery.id, stamps: 3 }, conditions: { min_basket: 800 }, limits: { max_awards_per_member: 2 } });
    const m = await member(t);
    at(WEDNESDAY);
    await buy(t, m, 500); // on the card, under min_basket
    await buy(t, m, 900);
    await buy(t, m, 900);
    const third = await buy(t, m, 900);
    assert.equal((await card(t, m, bakery.id)).stamps, 4 + 2 * 3 - 10, 'four own stamps and two awards of 3: card 1 full, 0 on card 2');
    const awards = [...(await awardsOf(t, c.id, m)).values()];
    assert.deepEqual(awards.map((a) => a.outcome).sort(), ['granted', 'granted', 'member_limit']);
    assert.equal((await awardsOf(t, c.id, m)).get(third.id).outcome, 'member_limit');

    assert.equal((await t.api('DELETE', `/v1/stamp-card-types/${bakery.id}`)).status, 200);
    await buy(t, m, 900);
    assert.equal((await awardsOf(t, c.id, m)).size, 3, 'an archived card stamps no order: nothing to add to');
    await consistent(t);
  });

  test('bad input: an unknown or another tenant\'s card type, bad stamps, a budget, a points limit (400); an archived card (422)', async () => {
    at('2031-03-01T09:00:00Z');
    const t = await app.newTenant();
    const other = await app.newTenant();
    const theirs = await bakeryCard(other);
    const mine = await bakeryCard(t);
    const create = (body: Record<string, unknown>) => t.api('POST', '/v1/campaigns', { body: { name: 'S', kind: 'extra_stamp', ...WINDOW, ...body } });
    const fields = (res: any) => res.body.errors.map((e: any) => e.field).sort();

    let res = await create({ config: { stamp_card_type_id: theirs.id, stamps: 1 } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(fields(res), ['config.stamp_card_type_id']);
    res = await create({ config: { stamp_card_type_id: 'nope', stamps: 0, colour: 1 } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(fields(res), ['config.colour', 'config.stamp_card_type_id', 'config.stamps']);
    res = await create({ config: { stamps: 11 } });
    assert.deepEqual(fields(res), ['config.stamp_card_type_id', 'config.stamps']);
    res = await create({ config: { stamp_card_type_id: mine.id, stamps: 1 }, budget: { points: 100 }, limits: { max_points_per_member: 5 } });
    assert.equal(res.status, 400, res.text);
    assert.deepEqual(fields(res), ['budget', 'limits.max_points_per_member']);
    res = await create({ config: { stamp_card_type_id: mine.id, stamps: 1 }, budget: { amount: 1000, currency: 'EUR' } });
    assert.deepEqual(fields(res), ['budget']);
    assert.equal((await eventsOf(t, 'campaign.created')).length, 0, 'nothing written');

    // A draft whose card is archived before launch cannot launch (422 naming the field); a new one cannot be made.
    res = await create({ config: { stamp_card_type_id: mine.id, stamps: 1 }, budget: null });
    assert.equal(res.status, 201, res.text);
    assert.equal((await t.api('DELETE', `/v1/stamp-card-types/${mine.id}`)).status, 200);
    const launch = await t.api('POST', `/v1/campaigns/${res.body.id}/launch`);
    assert.equal(launch.status, 422, launch.text);
    assert.equal((await get(t, res.body.id)).status, 'draft');
    const again = await create({ config: { stamp_card_type_id: mine.id, stamps: 1 } });
    assert.equal(again.status, 422, again.text);
    assert.match(again.text, /config\.stamp_card_type_id/);
    // A change of a stamp draft is held to the same rules.
    const patch = await t.api('PATCH', `/v1/campaigns/${res.body.id}`, { body: { budget: { points: 10 } } });
    assert.equal(patch.status, 400, patch.text);
    assert.deepEqual(fields(patch), ['budget']);
  });
});
