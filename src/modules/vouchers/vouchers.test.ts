/**
 * Vouchers over HTTP against a real PostgreSQL: codes and their entropy, pools, bulk generation, validation and
 * redemption (at once, twice, in parts), release, cancellation, expiry, and the look-up rate limit.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { call, startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ALNUM, generateCodes, LETTERS, parsePattern, type ParsedPattern } from './vouchers.codes.js';
import { discountOf } from './vouchers.service.js';

let app: TestApp;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  // After 2030: nothing this file makes due is due on the real clock (see test/helpers.ts).
  app.clock.set(new Date('2031-03-01T10:00:00Z'));
});
after(() => app.close());

async function tenant(): Promise<{ t: TestTenant; currency: string }> {
  const t = await app.newTenant();
  return { t, currency: (await t.api('GET', '/v1/program')).body.currency };
}

async function issue(t: TestTenant, body: Record<string, unknown>): Promise<any> {
  const res = await t.api('POST', '/v1/vouchers', { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const eventsOf = async (t: TestTenant, type: string) => (await t.api('GET', `/v1/domain-events?type=${type}&limit=500`)).body.data;

describe('codes', () => {
  test('a pattern needs at least 40 bits of randomness; codes use the unambiguous alphabets', () => {
    const weak = parsePattern('SUMMER-####-????');
    assert.ok('error' in weak && /31\.6 bits/.test(weak.error), JSON.stringify(weak));
    assert.ok('error' in parsePattern('#####?????'), '39.5 bits is not enough');
    const ok = parsePattern('summer-######-?????') as ParsedPattern;
    assert.ok(!('error' in ok) && ok.bits > 40);
    assert.ok('error' in parsePattern('ABC-$$$$-********'), 'unknown character');
    assert.ok('error' in parsePattern('*'.repeat(65)));
    const codes = generateCodes(parsePattern('X-********') as ParsedPattern, 2000);
    assert.ok(codes.every((c) => /^X-[2-9A-HJ-NP-Z]{8}$/.test(c)), codes.find((c) => !/^X-[2-9A-HJ-NP-Z]{8}$/.test(c)));
    assert.ok(!LETTERS.includes('O') && !LETTERS.includes('I') && !ALNUM.includes('0') && !ALNUM.includes('1'));
    // Every symbol is drawn (no modulo bias keeps any out): 2000 × 8 draws over 32 symbols.
    assert.equal(new Set(codes.join('').replace(/^X-|-/g, '').replace(/X-/g, '')).size, 32);
  });

  test('discounts: fixed, percentage capped and rounded down, free product, gift card', () => {
    const base = { amount: null, percent: null, max_discount: null, balance: null };
    assert.equal(discountOf({ ...base, kind: 'fixed_amount', amount: 500 }, 300), 300);
    assert.equal(discountOf({ ...base, kind: 'percentage', percent: 12.5 }, 1999), 249);
    assert.equal(discountOf({ ...base, kind: 'percentage', percent: 50, max_discount: 1000 }, 9000), 1000);
    assert.equal(discountOf({ ...base, kind: 'percentage', percent: 100 }, 2 ** 52), 2 ** 52);
    assert.equal(discountOf({ ...base, kind: 'free_product' }, 5000), 0);
    assert.equal(discountOf({ ...base, kind: 'gift_card', amount: 5000, balance: 1200 }, 3000), 1200);
  });
});

describe('vouchers', () => {
  test('issue: validation answers the discount; min basket, currency, member and case are checked; bad input names every field', async () => {
    const { t, currency } = await tenant();
    const m = (await t.api('POST', '/v1/members', { body: { first_name: 'Vera' } })).body;
    const v = await issue(t, { kind: 'percentage', percent: 15, max_discount: 1000, min_basket: 3000, member_id: m.id, code_pattern: 'vip-********' });
    assert.match(v.code, /^VIP-[2-9A-HJ-NP-Z]{8}$/);
    assert.deepEqual([v.status, v.currency, v.percent, v.balance], ['active', currency, 15, null]);

    const lower = v.code.toLowerCase();
    const ok = await t.api('GET', `/v1/vouchers/${lower}/validation?total=4000&currency=${currency}&member_id=${m.id}`);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual([ok.body.valid, ok.body.reason, ok.body.discount], [true, null, { amount: 600, currency }]);
    const capped = await t.api('GET', `/v1/vouchers/${v.code}/validation?total=90000&currency=${currency}&member_id=${m.id}`);
    assert.equal(capped.body.discount.amount, 1000);
    const small = await t.api('GET', `/v1/vouchers/${v.code}/validation?total=2999&currency=${currency}&member_id=${m.id}`);
    assert.deepEqual([small.body.valid, small.body.reason, small.body.discount.amount], [false, 'min_basket_not_met', 0]);
    const stranger = await t.api('GET', `/v1/vouchers/${v.code}/validation?total=4000&currency=${currency}`);
    assert.equal(stranger.body.reason, 'member_mismatch');
    const foreign = await t.api('GET', `/v1/vouchers/${v.code}/validation?total=4000&currency=${currency === 'JPY' ? 'USD' : 'JPY'}&member_id=${m.id}`);
    assert.equal(foreign.body.reason, 'currency_mismatch');
    const redeemSmall = await t.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: 'o-small', total: 2000, currency, member_id: m.id } });
    assert.equal(redeemSmall.status, 422);
    assert.deepEqual(redeemSmall.body.errors, [{ field: 'total', detail: 'min_basket_not_met' }]);
    assert.equal((await t.api('GET', `/v1/vouchers/NOPE-0000/validation?total=1&currency=${currency}`)).status, 404);
    // Without a basket: only what does not depend on it (status, expiry, member), and no discount.
    const bare = await t.api('GET', `/v1/vouchers/${v.code}/validation?member_id=${m.id}`);
    assert.deepEqual([bare.body.valid, bare.body.discount], [true, null]);

    const bad = await t.api('POST', '/v1/vouchers', { body: { kind: 'percentage', amount: 100, code_pattern: 'SUMMER-####-????', expires_at: '2020-01-01T00:00:00Z', colour: 'red' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['amount', 'code_pattern', 'colour', 'expires_at', 'percent']);
    const badQuery = await t.api('GET', `/v1/vouchers/${v.code}/validation?total=-1&currency=eu`);
    assert.equal(badQuery.status, 400);
    assert.deepEqual(badQuery.body.errors.map((e: any) => e.field).sort(), ['currency', 'total']);
    assert.equal((await eventsOf(t, 'voucher.issued')).length, 1);
  });

  test('the same code redeemed twice at once succeeds exactly once; the same order re-sent answers the first', async () => {
    const { t, currency } = await tenant();
    const v = await issue(t, { kind: 'fixed_amount', amount: 500 });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: `o-${i}`, total: 2000, currency } })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 1, JSON.stringify(results.filter((r) => r.status !== 422 && r.status !== 201).map((r) => r.text)));
    assert.equal(statuses.filter((s) => s === 422).length, 19);
    const won = results.find((r) => r.status === 201)!.body;
    assert.deepEqual([won.discount, won.status, won.voucher.status], [500, 'redeemed', 'redeemed']);
    assert.ok(results.filter((r) => r.status === 422).every((r) => r.body.errors[0].detail === 'redeemed'));

    // The winning order sent again (no Idempotency-Key): 200 with the first redemption; with another total: 409.
    const again = await t.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: won.order_ref, total: 2000, currency } });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.id, won.id);
    assert.equal((await t.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: won.order_ref, total: 2100, currency } })).status, 409);
    // Idempotency-Key: the answer replayed.
    const v2 = await issue(t, { kind: 'fixed_amount', amount: 300 });
    const headers = { 'idempotency-key': `redeem-${crypto.randomUUID()}` };
    const first = await t.api('POST', `/v1/vouchers/${v2.code}/redemptions`, { body: { order_ref: 'k-1', total: 1000, currency }, headers });
    const replay = await t.api('POST', `/v1/vouchers/${v2.code}/redemptions`, { body: { order_ref: 'k-1', total: 1000, currency }, headers });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const count = await app.patron.db.query(`SELECT count(*)::int AS n FROM voucher_redemptions WHERE tenant_id = $1`, [t.id]);
    assert.equal(count.rows[0].n, 2);
    assert.equal((await eventsOf(t, 'voucher.redeemed')).length, 2);
  });

  test('a gift card is spent in parts; a release gives the money back; an order cancelled makes a voucher usable again', async () => {
    const { t, currency } = await tenant();
    const g = await issue(t, { kind: 'gift_card', amount: 5000 });
    assert.equal(g.balance, 5000);
    const r1 = await t.api('POST', `/v1/vouchers/${g.code}/redemptions`, { body: { order_ref: 'g-1', total: 3000, currency } });
    assert.equal(r1.status, 201, r1.text);
    assert.deepEqual([r1.body.discount, r1.body.voucher.balance, r1.body.voucher.status], [3000, 2000, 'active']);
    const part = await t.api('POST', `/v1/vouchers/${g.code}/redemptions`, { body: { order_ref: 'g-2', total: 9000, currency, amount: 500 } });
    assert.deepEqual([part.body.discount, part.body.voucher.balance], [500, 1500]);
    const tooMuch = await t.api('POST', `/v1/vouchers/${g.code}/redemptions`, { body: { order_ref: 'g-3', total: 9000, currency, amount: 1501 } });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.errors[0].field, 'amount');
    const rest = await t.api('POST', `/v1/vouchers/${g.code}/redemptions`, { body: { order_ref: 'g-3', total: 9000, currency } });
    assert.deepEqual([rest.body.discount, rest.body.voucher.balance, rest.body.voucher.status], [1500, 0, 'redeemed']);
    assert.equal((await t.api('GET', `/v1/vouchers/${g.code}/validation?total=100&currency=${currency}`)).body.reason, 'redeemed');

    // The first order is cancelled: 3,000 come back and the card is usable again.
    const released = await t.api('POST', `/v1/vouchers/${g.code}/redemptions/${r1.body.id}/release`);
    assert.equal(released.status, 200, released.text);
    assert.deepEqual([released.body.status, released.body.voucher.balance, released.body.voucher.status], ['released', 3000, 'active']);
    assert.equal((await t.api('POST', `/v1/vouchers/${g.code}/redemptions/${r1.body.id}/release`)).status, 422);
    // A redemption of another voucher cannot be released through this code.
    const f = await issue(t, { kind: 'fixed_amount', amount: 200 });
    assert.equal((await t.api('POST', `/v1/vouchers/${f.code}/redemptions/${r1.body.id}/release`)).status, 404);
    const used = (await t.api('POST', `/v1/vouchers/${f.code}/redemptions`, { body: { order_ref: 'f-1', total: 1000, currency } })).body;
    assert.equal(used.voucher.status, 'redeemed');
    const back = await t.api('POST', `/v1/vouchers/${f.code}/redemptions/${used.id}/release`);
    assert.equal(back.body.voucher.status, 'active');
    // Re-used for the same order after its release: a new redemption.
    const reused = await t.api('POST', `/v1/vouchers/${f.code}/redemptions`, { body: { order_ref: 'f-1', total: 1000, currency } });
    assert.equal(reused.status, 201, reused.text);
    assert.notEqual(reused.body.id, used.id);
    const list = await t.api('GET', `/v1/vouchers/${g.id}/redemptions?limit=2`);
    assert.equal(list.body.data.length, 2);
    assert.ok(list.body.next_cursor);
    assert.equal((await eventsOf(t, 'voucher.released')).length, 2);
  });

  test('cancel: an unused voucher only, with the onCancelled callbacks in the same transaction', async () => {
    const { t, currency } = await tenant();
    const seen: string[] = [];
    app.patron.services.vouchers.onCancelled(async (tx, tenantId, v) => {
      if (tenantId !== t.id) return;
      seen.push(v.id);
      if (v.sku === 'FAIL') throw new Error('refund failed');
      // The callback runs inside the cancelling transaction: it sees the voucher cancelled.
      const row = await tx.query(`SELECT status FROM vouchers WHERE tenant_id = $1 AND id = $2`, [tenantId, v.id]);
      assert.equal(row.rows[0].status, 'cancelled');
    });
    const v = await issue(t, { kind: 'fixed_amount', amount: 500 });
    const cancelled = await t.api('POST', `/v1/vouchers/${v.id}/cancel`);
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.status, 'cancelled');
    assert.deepEqual(seen, [v.id]);
    assert.equal((await t.api('POST', `/v1/vouchers/${v.id}/cancel`)).status, 422);
    assert.equal((await t.api('GET', `/v1/vouchers/${v.code}/validation?total=1000&currency=${currency}`)).body.reason, 'cancelled');

    // A partly spent gift card is not unused.
    const g = await issue(t, { kind: 'gift_card', amount: 1000 });
    await t.api('POST', `/v1/vouchers/${g.code}/redemptions`, { body: { order_ref: 'x', total: 100, currency } });
    assert.equal((await t.api('POST', `/v1/vouchers/${g.id}/cancel`)).status, 422);
    // A failing callback rolls the cancellation back.
    const p = await issue(t, { kind: 'free_product', sku: 'FAIL' });
    assert.equal((await t.api('POST', `/v1/vouchers/${p.id}/cancel`)).status, 500);
    assert.equal((await t.api('GET', `/v1/vouchers/${p.id}`)).body.status, 'active');
    assert.equal((await eventsOf(t, 'voucher.cancelled')).length, 1);
  });

  test('expiry: by the clock at validation, and the vouchers.expire job marks them', async () => {
    const { t, currency } = await tenant();
    const now = app.clock.now().getTime();
    const soon = await issue(t, { kind: 'fixed_amount', amount: 100, expires_at: new Date(now + DAY).toISOString() });
    const later = await issue(t, { kind: 'fixed_amount', amount: 100, expires_at: new Date(now + 10 * DAY).toISOString() });
    assert.equal((await t.api('GET', `/v1/vouchers/${soon.code}/validation?total=1000&currency=${currency}`)).body.valid, true);
    app.clock.set(new Date(now + DAY));
    try {
      const expired = await t.api('GET', `/v1/vouchers/${soon.code}/validation?total=1000&currency=${currency}`);
      assert.deepEqual([expired.body.valid, expired.body.reason], [false, 'expired']);
      assert.equal((await t.api('POST', `/v1/vouchers/${soon.code}/redemptions`, { body: { order_ref: 'late', total: 1000, currency } })).status, 422);
      assert.deepEqual(await app.patron.jobs.runNow('vouchers.expire', { tenant_id: t.id }), { tenants: 1, expired: 1 });
      assert.deepEqual(await app.patron.jobs.runNow('vouchers.expire', { tenant_id: t.id }), { tenants: 1, expired: 0 });
      assert.equal((await t.api('GET', `/v1/vouchers/${soon.id}`)).body.status, 'expired');
      assert.equal((await t.api('GET', `/v1/vouchers/${later.id}`)).body.status, 'active');
      assert.equal((await t.api('POST', `/v1/vouchers/${soon.id}/cancel`)).status, 422);
      assert.equal((await eventsOf(t, 'voucher.expired')).length, 1);
    } finally {
      app.clock.set(new Date(now));
    }
  });

  test('pools: upload JSON and CSV, take codes in order, exhaustion is a 422', async () => {
    const { t } = await tenant();
    const pool = (await t.api('POST', '/v1/voucher-pools', { body: { name: 'Partner codes' } })).body;
    const json = await t.api('POST', `/v1/voucher-pools/${pool.id}/codes`, { body: { codes: ['pa-aaa1', 'PA-AAA2', 'PA-AAA1'] } });
    assert.equal(json.status, 200, json.text);
    assert.deepEqual([json.body.received, json.body.added, json.body.duplicates, json.body.pool.unused], [3, 2, 1, 2]);
    const csv = await t.api('POST', `/v1/voucher-pools/${pool.id}/codes`, { raw: 'code\nPA-AAA3\n"pa-aaa4",x\n\n', headers: { 'content-type': 'text/csv' } });
    assert.equal(csv.status, 200, csv.text);
    assert.deepEqual([csv.body.added, csv.body.pool.codes], [2, 4]);
    const bad = await t.api('POST', `/v1/voucher-pools/${pool.id}/codes`, { body: { codes: ['ok-code', 'no spaces', 'x'] } });
    assert.deepEqual(bad.body.errors.map((e: any) => e.field), ['codes[1]', 'codes[2]']);
    assert.deepEqual((await eventsOf(t, 'voucher_pool.created')).map((e: any) => e.payload), [{ pool_id: pool.id, name: 'Partner codes' }]);
    const uploads = await eventsOf(t, 'voucher_pool.codes_added');
    assert.deepEqual(uploads.map((e: any) => e.payload), [
      { pool_id: pool.id, received: 3, added: 2, duplicates: 1 },
      { pool_id: pool.id, received: 2, added: 2, duplicates: 0 },
    ]);
    assert.ok(!JSON.stringify(uploads).includes('PA-AAA'), 'the codes stay out of the events');

    // A code that is already a voucher's is skipped, not handed out twice.
    await issue(t, { kind: 'fixed_amount', amount: 100, code_pattern: 'PA-AAA3-********' });
    const a = await issue(t, { kind: 'fixed_amount', amount: 100, pool_id: pool.id });
    assert.deepEqual([a.code, a.pool_id], ['PA-AAA1', pool.id]);
    const batch = await t.api('POST', '/v1/voucher-batches', { body: { count: 3, pool_id: pool.id, kind: 'gift_card', amount: 1000 } });
    assert.equal(batch.status, 201, batch.text);
    const codes = (await t.api('GET', `/v1/vouchers?batch_id=${batch.body.id}`)).body.data.map((v: any) => v.code).sort();
    assert.deepEqual(codes, ['PA-AAA2', 'PA-AAA3', 'PA-AAA4']);
    const empty = await t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 100, pool_id: pool.id } });
    assert.equal(empty.status, 422);
    assert.equal(empty.body.errors[0].field, 'pool_id');
    const tooMany = await t.api('POST', '/v1/voucher-batches', { body: { count: 2, pool_id: pool.id, kind: 'fixed_amount', amount: 100 } });
    assert.equal(tooMany.status, 422);
    assert.equal((await t.api('GET', `/v1/voucher-pools/${pool.id}`)).body.unused, 0);
    assert.equal((await t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 1, pool_id: pool.id, code_pattern: '********' } })).body.errors[0].field, 'code_pattern');
  });

  test('bulk: 100,000 unique codes from a pattern in one batch', async () => {
    const { t } = await tenant();
    const weak = await t.api('POST', '/v1/voucher-batches', { body: { count: 10, pattern: 'SUMMER-####-????', kind: 'fixed_amount', amount: 500 } });
    assert.equal(weak.status, 400);
    assert.equal(weak.body.errors[0].field, 'pattern');
    assert.equal((await t.api('POST', '/v1/voucher-batches', { body: { count: 100_001, kind: 'fixed_amount', amount: 500 } })).body.errors[0].field, 'count');

    const res = await t.api('POST', '/v1/voucher-batches', { body: { count: 100_000, pattern: 'SUMMER-*****-*****', kind: 'percentage', percent: 10, max_discount: 2000 } });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.count, 100_000);
    const stats = await app.patron.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT code)::int AS codes, bool_and(code ~ '^SUMMER-[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$') AS shaped
         FROM vouchers WHERE tenant_id = $1 AND batch_id = $2`,
      [t.id, res.body.id],
    );
    assert.deepEqual(stats.rows[0], { n: 100_000, codes: 100_000, shaped: true });
    const page = await t.api('GET', `/v1/vouchers?batch_id=${res.body.id}&limit=500`);
    assert.equal(page.body.data.length, 500);
    assert.ok(page.body.data.every((v: any) => v.kind === 'percentage' && v.percent === 10 && v.max_discount === 2000));
    assert.equal((await eventsOf(t, 'voucher_batch.created')).length, 1);
    assert.equal((await t.api('GET', `/v1/voucher-batches/${res.body.id}`)).body.count, 100_000);
  });

  test('isolation: another tenant cannot see, validate, redeem, release or cancel', async () => {
    const { t, currency } = await tenant();
    const other = await app.newTenant();
    const v = await issue(t, { kind: 'fixed_amount', amount: 100 });
    const r = (await t.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: 'i-1', total: 500, currency } })).body;
    assert.equal((await other.api('GET', `/v1/vouchers/${v.id}`)).status, 404);
    assert.equal((await other.api('GET', `/v1/vouchers/${v.code}/validation?total=500&currency=${currency}`)).status, 404);
    assert.equal((await other.api('POST', `/v1/vouchers/${v.code}/redemptions`, { body: { order_ref: 'i-2', total: 500, currency } })).status, 404);
    assert.equal((await other.api('POST', `/v1/vouchers/${v.code}/redemptions/${r.id}/release`)).status, 404);
    assert.equal((await other.api('POST', `/v1/vouchers/${v.id}/cancel`)).status, 404);
    assert.equal((await other.api('GET', '/v1/vouchers')).body.data.length, 0);
    assert.equal((await t.api('GET', `/v1/vouchers/${v.id}`)).body.status, 'redeemed');
  });
});

describe('look-up rate limit', () => {
  let limited: TestApp;
  before(async () => {
    limited = await startTestApp({ env: { RATE_LIMIT_ENABLED: 'true', VOUCHER_RATE_LIMIT_MAX: '8', VOUCHER_RATE_LIMIT_MISSES: '3', VOUCHER_RATE_LIMIT_WINDOW_MS: '60000' } });
  });
  after(() => limited.close());

  test('validation is limited per key, unknown codes sooner; 429 with Retry-After', async () => {
    const t = await limited.newTenant();
    const currency = (await t.api('GET', '/v1/program')).body.currency;
    const v = (await t.api('POST', '/v1/vouchers', { body: { kind: 'fixed_amount', amount: 100 } })).body;
    const validate = (code: string, key?: string) => call(limited.url, 'GET', `/v1/vouchers/${code}/validation?total=500&currency=${currency}`, { key: key ?? t.key });

    // Three unknown codes, then even a real code is refused for the rest of the window.
    for (let i = 0; i < 3; i++) assert.equal((await validate(`GUESS-${i}AAAA`)).status, 404);
    const blocked = await validate(v.code);
    assert.equal(blocked.status, 429, blocked.text);
    assert.equal(blocked.body.code, 'rate_limited');
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    // The redemption endpoint looks codes up too: it is blocked with the same key.
    assert.equal((await call(limited.url, 'POST', `/v1/vouchers/${v.code}/redemptions`, { key: t.key, body: { order_ref: 'o', total: 500, currency } })).status, 429);

    // Another key of the tenant has its own allowance; known codes count against the larger limit.
    const key2 = await t.keyWith(['write']);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await validate(v.code, key2)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 200, 200, 200, 429, 429]);
    // Other routes are not affected.
    assert.equal((await call(limited.url, 'GET', `/v1/vouchers/${v.id}`, { key: key2 })).status, 200);
  });
});
