/**
 * The store-credit wallet over HTTP and through WalletService, against a real PostgreSQL: the balance always equals
 * the sum of the entries and is never negative, however many debits run at once.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp, type TestTenant } from '../../../test/helpers.js';

let app: TestApp;

before(async () => {
  app = await startTestApp();
  app.clock.set(new Date());
});
after(() => app.close());

async function currencyOf(t: TestTenant): Promise<string> {
  return (await t.api('GET', '/v1/program')).body.currency;
}

/** A member of a fresh tenant with `credit` minor units of store credit (an admin adjustment). */
async function memberWith(credit: number, t?: TestTenant): Promise<{ t: TestTenant; id: string; currency: string }> {
  t ??= await app.newTenant();
  const m = await t.api('POST', '/v1/members', { body: { first_name: 'Spender' } });
  assert.equal(m.status, 201, m.text);
  if (credit > 0) {
    const given = await t.api('POST', `/v1/members/${m.body.id}/wallet/adjustments`, { body: { amount: credit, reason: 'test credit' } });
    assert.equal(given.status, 201, given.text);
  }
  return { t, id: m.body.id, currency: await currencyOf(t) };
}

/** The entries sum to the balance, credited and debited add up, and nothing is negative. */
async function consistent(tenantId: string) {
  const res = await app.patron.db.query(
    `SELECT b.member_id, b.balance, b.credited, b.debited, coalesce(sum(e.amount), 0)::bigint AS sum,
            coalesce(sum(e.amount) FILTER (WHERE e.amount > 0), 0)::bigint AS plus, min(e.balance_after) AS low
       FROM wallet_balances b LEFT JOIN wallet_entries e ON e.tenant_id = b.tenant_id AND e.member_id = b.member_id AND e.currency = b.currency
      WHERE b.tenant_id = $1 GROUP BY b.member_id, b.balance, b.credited, b.debited`,
    [tenantId],
  );
  for (const r of res.rows) {
    assert.equal(Number(r.sum), r.balance, `member ${r.member_id}: entries sum to the balance`);
    assert.equal(Number(r.plus), r.credited);
    assert.ok(r.balance >= 0 && (r.low === null || Number(r.low) >= 0));
  }
}

describe('wallet', () => {
  test('credit, debit, balance and entries; a debit beyond the balance is 422 insufficient_credit and writes nothing', async () => {
    const { t, id, currency } = await memberWith(5000);
    const spent = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 1200, order_ref: 'o-1' } });
    assert.equal(spent.status, 201, spent.text);
    assert.deepEqual([spent.body.entry.type, spent.body.entry.amount, spent.body.entry.balance_after, spent.body.entry.source_type, spent.body.entry.order_ref], ['debit', -1200, 3800, 'checkout', 'o-1']);
    assert.deepEqual([spent.body.wallet.balance, spent.body.wallet.credited, spent.body.wallet.debited, spent.body.wallet.currency], [3800, 5000, 1200, currency]);

    const tooMuch = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 3801 } });
    assert.equal(tooMuch.status, 422);
    assert.equal(tooMuch.body.code, 'insufficient_credit');

    // The service contract other modules call: credit and debit with a source, balance.
    const svc = app.patron.services.wallet;
    await app.patron.db.tx((tx) => svc.credit(tx, t.id, id, { amount: 700, currency, reason: 'cashback 5%', source_type: 'cashback', source_id: 'order-9' }));
    await assert.rejects(app.patron.db.tx((tx) => svc.debit(tx, t.id, id, { amount: 4501, currency, reason: null, source_type: 'checkout', source_id: null })), (e: any) => e.code === 'insufficient_credit');
    assert.equal((await svc.balance(app.patron.db, t.id, id)).balance, 4500);

    const wallet = await t.api('GET', `/v1/members/${id}/wallet?limit=2`);
    assert.equal(wallet.status, 200, wallet.text);
    assert.equal(wallet.body.balance, 4500);
    assert.deepEqual(wallet.body.entries.data.map((e: any) => [e.type, e.amount, e.source_type]), [['credit', 700, 'cashback'], ['debit', -1200, 'checkout']]);
    const rest = await t.api('GET', `/v1/members/${id}/wallet?limit=2&cursor=${wallet.body.entries.next_cursor}`);
    assert.deepEqual(rest.body.entries.data.map((e: any) => [e.amount, e.source_type, e.reason]), [[5000, 'admin', 'test credit']]);
    assert.equal(rest.body.entries.next_cursor, null);

    const events = (await t.api('GET', '/v1/domain-events?limit=100')).body.data.filter((e: any) => e.type.startsWith('wallet.'));
    assert.deepEqual(events.map((e: any) => e.type).sort(), ['wallet.credited', 'wallet.credited', 'wallet.debited']);
    await consistent(t.id);
  });

  test('a negative adjustment beyond the balance is 422; an adjustment needs admin; bad input names every field', async () => {
    const { t, id } = await memberWith(300);
    const take = await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: -301, reason: 'fix' } });
    assert.equal(take.body.code, 'insufficient_credit');
    const took = await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: -300, reason: 'fix' } });
    assert.equal(took.status, 201, took.text);
    assert.equal(took.body.wallet.balance, 0);
    const writer = await t.keyWith(['write']);
    assert.equal((await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 5, reason: 'x' }, key: writer })).status, 403);

    const bad = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 0, currency: 'eur', extra: 1 } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.errors.map((e: any) => e.field).sort(), ['amount', 'currency', 'extra']);
    const zero = await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 0, reason: 'x' } });
    assert.equal(zero.status, 400);
    assert.equal(zero.body.errors[0].field, 'amount');
    const noReason = await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 10 } });
    assert.equal(noReason.body.errors[0].field, 'reason');
    const otherCurrency = await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 10, reason: 'x', currency: 'JPY' } });
    assert.equal(otherCurrency.status, 422);
    assert.equal(otherCurrency.body.errors[0].field, 'currency');
    assert.equal((await t.api('POST', `/v1/members/${crypto.randomUUID()}/wallet/debits`, { body: { amount: 1 } })).status, 404);
    await consistent(t.id);
  });

  test('100 concurrent debits of 70 against 5,000: exactly 71 succeed and the balance never goes below zero', async () => {
    const { t, id } = await memberWith(5000);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 70, order_ref: `o-${i}` } })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 71, JSON.stringify(results.find((r) => r.status !== 201 && r.status !== 422)?.text));
    assert.equal(statuses.filter((s) => s === 422).length, 29);
    assert.ok(results.filter((r) => r.status === 422).every((r) => r.body.code === 'insufficient_credit'));
    const w = (await t.api('GET', `/v1/members/${id}/wallet`)).body;
    assert.deepEqual([w.balance, w.debited], [30, 4970]);
    await consistent(t.id);
  });

  test('Idempotency-Key: a re-sent debit spends once; a refused one is replayed as refused', async () => {
    const { t, id } = await memberWith(1000);
    const headers = { 'idempotency-key': `debit-${crypto.randomUUID()}` };
    const first = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 400 }, headers });
    const second = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 400 }, headers });
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.body, first.body);
    assert.equal((await t.api('GET', `/v1/members/${id}/wallet`)).body.balance, 600);
    const k2 = { 'idempotency-key': `debit-${crypto.randomUUID()}` };
    assert.equal((await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 700 }, headers: k2 })).status, 422);
    await t.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 500, reason: 'top up' } });
    const replayed = await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 700 }, headers: k2 });
    assert.equal(replayed.status, 422);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal((await t.api('GET', `/v1/members/${id}/wallet`)).body.balance, 1100);
  });

  test('refunds of a debit: in parts, never more than it took, even at once', async () => {
    const { t, id } = await memberWith(1000);
    const debit = (await t.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 600, order_ref: 'o-r' } })).body.entry;
    const part = await t.api('POST', `/v1/members/${id}/wallet/debits/${debit.id}/refunds`, { body: { amount: 100 } });
    assert.equal(part.status, 201, part.text);
    assert.deepEqual([part.body.entry.source_type, part.body.entry.source_id, part.body.entry.order_ref, part.body.wallet.balance], ['refund', debit.id, 'o-r', 500]);
    const both = await Promise.all([1, 2, 3].map(() => t.api('POST', `/v1/members/${id}/wallet/debits/${debit.id}/refunds`, { body: { amount: 300 } })));
    assert.deepEqual(both.map((r) => r.status).sort(), [201, 422, 422]);
    const rest = await t.api('POST', `/v1/members/${id}/wallet/debits/${debit.id}/refunds`);
    assert.equal(rest.status, 201, rest.text);
    assert.equal(rest.body.entry.amount, 200);
    assert.equal(rest.body.wallet.balance, 1000);
    assert.equal((await t.api('POST', `/v1/members/${id}/wallet/debits/${debit.id}/refunds`)).status, 422);
    // A credit entry is not a debit to refund.
    const credit = (await t.api('GET', `/v1/members/${id}/wallet`)).body.entries.data.find((e: any) => e.type === 'credit');
    assert.equal((await t.api('POST', `/v1/members/${id}/wallet/debits/${credit.id}/refunds`)).status, 404);
    await consistent(t.id);
  });

  test('isolation: another tenant sees 404 and changes nothing; the wallet is in the GDPR export; gifts credit it', async () => {
    const { t, id, currency } = await memberWith(800);
    const other = await app.newTenant();
    assert.equal((await other.api('GET', `/v1/members/${id}/wallet`)).status, 404);
    assert.equal((await other.api('POST', `/v1/members/${id}/wallet/debits`, { body: { amount: 1 } })).status, 404);
    assert.equal((await other.api('POST', `/v1/members/${id}/wallet/adjustments`, { body: { amount: 1, reason: 'x' } })).status, 404);
    assert.equal((await t.api('GET', `/v1/members/${id}/wallet`)).body.balance, 800);

    // A gift of credit (stamp cards, referrals, achievements give them through giftGivers.credit).
    const { credited } = await app.patron.db.tx(async (tx) => {
      const e = await app.patron.services.wallet.credit(tx, t.id, id, { amount: 250, currency, reason: 'stamp card full', source_type: 'stamp_card', source_id: 'card-1' });
      return { credited: e };
    });
    assert.equal(credited.balance_after, 1050);

    const exported = await t.api('GET', `/v1/members/${id}/export`);
    assert.equal(exported.status, 200, exported.text);
    assert.equal(exported.body.sections.wallet.balances[0].balance, 1050);
    assert.equal(exported.body.sections.wallet.entries.length, 2);
  });
});
