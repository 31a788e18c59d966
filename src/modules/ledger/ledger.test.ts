/**
 * The ledger's bookkeeping against a real PostgreSQL: every scenario ends with the invariants checked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../../test/helpers.js';
import { Ledger, type NegativeBalancePolicy } from './ledger.service.js';
import { ledgerViolations } from './ledger.invariants.js';

let app: TestApp;
let ledger: Ledger;
const DAY = 86_400_000;

before(async () => {
  app = await startTestApp();
  ledger = new Ledger(app.clock);
});
after(() => app.close());

async function setup(policy: NegativeBalancePolicy = 'debt') {
  const t = await app.newTenant();
  const member = await app.patron.db.tx((tx) => app.patron.services.members.create(tx, t.id, { locale: 'en' } as never));
  const book = <T>(fn: (b: Awaited<ReturnType<Ledger['open']>>) => Promise<T>) =>
    app.patron.db.tx(async (tx) => fn(await ledger.open(tx, t.id, member.id, policy)));
  const balance = () => ledger.balance(app.patron.db, t.id, member.id);
  const check = async () => assert.deepEqual(await ledgerViolations(app.patron.db, t.id, { allowNegative: policy === 'allow' }), []);
  return { tenantId: t.id, memberId: member.id, book, balance, check };
}

const earn = (points: number, extra: Partial<Parameters<Awaited<ReturnType<Ledger['open']>>['credit']>[0]> = {}) => ({
  type: 'earn' as const, points, activates_at: null, expires_at: null, earned: true, source_type: 'system' as const, activity: true, ...extra,
});

describe('ledger', () => {
  test('earn, redeem oldest-expiry-first, and a partly spent lot expires exactly', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(100, { expires_at: new Date('2031-03-01T00:00:00Z') })));
    await s.book((b) => b.credit(earn(50, { expires_at: new Date('2031-02-01T00:00:00Z') })));
    // 70 points: the 50 expiring first, then 20 of the 100.
    await s.book((b) => b.debit({ type: 'redeem', points: 70, shortfall: 'refuse', source_type: 'redemption' }));
    assert.equal((await s.balance()).available, 80);
    await assert.rejects(s.book((b) => b.debit({ type: 'redeem', points: 81, shortfall: 'refuse', source_type: 'redemption' })), { code: 'insufficient_points' });
    app.clock.set('2031-03-02T00:00:00Z');
    const r = await ledger.expireDue(app.patron.db, s.tenantId);
    assert.deepEqual(r, { members: 1, points: 80 });
    assert.deepEqual(await ledger.expireDue(app.patron.db, s.tenantId), { members: 0, points: 0 }, 'running again expires nothing');
    const bal = await s.balance();
    assert.equal(bal.available, 0);
    assert.equal(bal.expired, 80);
    assert.equal(bal.redeemed, 70);
    await s.check();
  });

  test('pending points activate when due and a claw-back takes them first', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    const activates = new Date('2031-01-15T00:00:00Z');
    const e = await s.book((b) => b.credit(earn(40, { activates_at: activates, transaction_id: null })));
    assert.equal(e.pending_points, 40);
    assert.equal((await s.balance()).pending, 40);
    app.clock.set('2031-01-16T00:00:00Z');
    assert.deepEqual(await ledger.activateDue(app.patron.db, s.tenantId, 'debt'), { members: 1, points: 40 });
    const bal = await s.balance();
    assert.equal(bal.pending, 0);
    assert.equal(bal.available, 40);
    await s.check();
  });

  test("claw-back under the 'debt' policy stops at zero and later earnings repay the debt", async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup('debt');
    await s.book((b) => b.credit(earn(30)));
    await s.book((b) => b.debit({ type: 'redeem', points: 20, shortfall: 'refuse', source_type: 'redemption' }));
    const r = await s.book((b) => b.debit({ type: 'claw_back', points: 30, shortfall: 'policy', source_type: 'transaction' }));
    assert.equal(r.taken, 10);
    assert.equal(r.shortfall, 20);
    let bal = await s.balance();
    assert.deepEqual([bal.available, bal.debt], [0, 20]);
    await s.book((b) => b.credit(earn(25)));
    bal = await s.balance();
    assert.deepEqual([bal.available, bal.debt], [5, 0]);
    await s.check();
  });

  test("claw-back under the 'allow' policy goes below zero and later earnings fill the hole", async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup('allow');
    await s.book((b) => b.credit(earn(30)));
    await s.book((b) => b.debit({ type: 'redeem', points: 20, shortfall: 'refuse', source_type: 'redemption' }));
    await s.book((b) => b.debit({ type: 'claw_back', points: 30, shortfall: 'policy', source_type: 'transaction' }));
    assert.equal((await s.balance()).available, -20);
    await s.check();
    // Pending points do not fill it until they activate.
    await s.book((b) => b.credit(earn(15, { activates_at: new Date('2031-01-10T00:00:00Z') })));
    assert.equal((await s.balance()).available, -20);
    app.clock.set('2031-01-11T00:00:00Z');
    await ledger.activateDue(app.patron.db, s.tenantId, 'allow');
    assert.equal((await s.balance()).available, -5);
    await s.check();
    await s.book((b) => b.credit(earn(25)));
    assert.equal((await s.balance()).available, 20);
    await s.check();
  });

  test('holds: capture part, the rest goes back; an expired hold releases itself', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(100)));
    const hold = await s.book((b) => b.hold({ points: 60, order_ref: 'o-1', expires_at: new Date('2031-01-01T00:30:00Z') }));
    let bal = await s.balance();
    assert.deepEqual([bal.available, bal.held], [40, 60]);
    await assert.rejects(s.book((b) => b.debit({ type: 'redeem', points: 41, shortfall: 'refuse', source_type: 'redemption' })), { code: 'insufficient_points' });
    await s.book(async (b) => b.captureHold((await ledger.getHold(app.patron.db, s.tenantId, hold.id))!, 45, '00000000-0000-7000-8000-0000000000aa', { source_type: 'hold', source_id: hold.id }));
    bal = await s.balance();
    assert.deepEqual([bal.available, bal.held, bal.redeemed], [55, 0, 45]);
    await s.check();

    const h2 = await s.book((b) => b.hold({ points: 50, order_ref: 'o-2', expires_at: new Date('2031-01-01T00:30:00Z') }));
    app.clock.set('2031-01-01T01:00:00Z');
    assert.equal(await ledger.releaseDueHolds(app.patron.db, s.tenantId, 'debt'), 1);
    assert.equal((await ledger.getHold(app.patron.db, s.tenantId, h2.id))!.status, 'expired');
    bal = await s.balance();
    assert.deepEqual([bal.available, bal.held], [55, 0]);
    await s.check();
  });

  test('a cancelled redemption goes back to its lots; points of a lot expired meanwhile expire at once', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(30, { expires_at: new Date('2031-02-01T00:00:00Z') })));
    await s.book((b) => b.credit(earn(30, { expires_at: new Date('2031-06-01T00:00:00Z') })));
    const r = await s.book((b) => b.debit({ type: 'redeem', points: 50, shortfall: 'refuse', source_type: 'redemption' }));
    app.clock.set('2031-03-01T00:00:00Z');
    await ledger.expireDue(app.patron.db, s.tenantId); // nothing left in the first lot: nothing expires
    assert.equal((await s.balance()).expired, 0);
    const back = await s.book((b) => b.restore(r.entry.id, { source_type: 'redemption' }));
    assert.deepEqual([back.restored, back.expired], [20, 30]);
    const bal = await s.balance();
    assert.deepEqual([bal.available, bal.expired, bal.redeemed], [30, 30, 0]);
    await s.check();
  });

  test('inactivity expiry takes every active point of members without activity since the cutoff', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(10)));
    app.clock.set('2031-08-01T00:00:00Z');
    const r = await ledger.expireInactive(app.patron.db, s.tenantId, new Date(app.clock.now().getTime() - 180 * DAY));
    assert.deepEqual(r, { members: 1, points: 10 });
    await s.check();
  });

  test('points given back to a lot the inactivity policy expired expire again at once', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(300)));
    const r = await s.book((b) => b.debit({ type: 'redeem', points: 100, shortfall: 'refuse', source_type: 'redemption' }));
    app.clock.set('2031-08-01T00:00:00Z');
    assert.deepEqual(await ledger.expireInactive(app.patron.db, s.tenantId, new Date('2031-02-01T00:00:00Z')), { members: 1, points: 200 });
    const back = await s.book((b) => b.restore(r.entry.id, { source_type: 'redemption' }));
    assert.deepEqual([back.restored, back.expired], [0, 100]);
    assert.equal((await s.balance()).available, 0);
    await s.check();
  });

  test('concurrent redemptions never overspend', async () => {
    app.clock.set('2031-01-01T00:00:00Z');
    const s = await setup();
    await s.book((b) => b.credit(earn(105)));
    const results = await Promise.allSettled(Array.from({ length: 40 }, () =>
      s.book((b) => b.debit({ type: 'redeem', points: 10, shortfall: 'refuse', source_type: 'redemption' }))));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
    assert.equal((await s.balance()).available, 5);
    await s.check();
  });
});
