/**
 * Property: whatever mix of purchases, returns, voids, events, redemptions and their cancellation, holds (capture,
 * release, expiry), adjustments, activation and expiry runs — concurrently, in any order, under either
 * negative-balance policy — the ledger's invariants hold afterwards (ledger.invariants.ts): the entries sum to
 * every balance, lots and allocations agree, no balance is negative unless the policy allows it, no order earns
 * twice; and no request is ever answered with a 5xx.
 *
 * Writes go through the HTTP API (real concurrency over the pool); the scheduled jobs run in-process on demand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestApp, type ApiResponse, type TestApp, type TestTenant } from '../../../test/helpers.js';
import { ledgerViolations } from './ledger.invariants.js';

let app: TestApp;
before(async () => {
  app = await startTestApp();
});
after(() => app.close());

const DAY = 86_400_000;
const MEMBERS = 3;

type Op =
  | { op: 'purchase'; m: number; total: number; lines: boolean; review: boolean }
  | { op: 'return'; t: number; fraction: number; byLine: boolean }
  | { op: 'void'; t: number }
  | { op: 'event'; m: number; rating: number }
  | { op: 'redeem'; m: number; points: number }
  | { op: 'cancel'; r: number }
  | { op: 'hold'; m: number; points: number }
  | { op: 'capture'; h: number; fraction: number }
  | { op: 'release'; h: number }
  | { op: 'adjust'; m: number; points: number }
  | { op: 'resend'; t: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('purchase' as const), m: fc.nat(MEMBERS - 1), total: fc.integer({ min: 0, max: 20_000 }), lines: fc.boolean(), review: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('return' as const), t: fc.nat(), fraction: fc.double({ min: 0.05, max: 1, noNaN: true }), byLine: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('void' as const), t: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('event' as const), m: fc.nat(MEMBERS - 1), rating: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('redeem' as const), m: fc.nat(MEMBERS - 1), points: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cancel' as const), r: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('hold' as const), m: fc.nat(MEMBERS - 1), points: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('capture' as const), h: fc.nat(), fraction: fc.double({ min: 0.1, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), h: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('adjust' as const), m: fc.nat(MEMBERS - 1), points: fc.integer({ min: -80, max: 120 }).filter((p) => p !== 0) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('resend' as const), t: fc.nat() }) },
);

/** Waves of operations sent concurrently; between waves time moves on and the jobs may run. */
const scenarioArb = fc.record({
  policy: fc.constantFrom('allow' as const, 'debt' as const),
  pendingDays: fc.constantFrom(0, 7),
  expiryDays: fc.constantFrom(0, 20),
  waves: fc.array(fc.record({
    ops: fc.array(opArb, { minLength: 1, maxLength: 6 }),
    advanceDays: fc.constantFrom(0, 0, 1, 5, 12),
    runJobs: fc.boolean(),
  }), { minLength: 3, maxLength: 10 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** Run first, before the random ones: every kind of write succeeds at least once, whatever the random runs draw. */
const EVERY_KIND: Scenario = {
  policy: 'debt', pendingDays: 0, expiryDays: 20,
  waves: [
    { ops: [{ op: 'purchase', m: 0, total: 20_000, lines: true, review: false }, { op: 'purchase', m: 1, total: 9_000, lines: false, review: false }, { op: 'event', m: 0, rating: 5 }], advanceDays: 0, runJobs: false },
    { ops: [{ op: 'hold', m: 0, points: 30 }, { op: 'redeem', m: 1, points: 20 }, { op: 'adjust', m: 1, points: 15 }], advanceDays: 0, runJobs: false },
    { ops: [{ op: 'capture', h: 0, fraction: 0.5 }, { op: 'cancel', r: 0 }, { op: 'return', t: 0, fraction: 0.5, byLine: true }], advanceDays: 1, runJobs: true },
    { ops: [{ op: 'void', t: 1 }, { op: 'resend', t: 0 }, { op: 'hold', m: 0, points: 10 }], advanceDays: 0, runJobs: false },
    { ops: [{ op: 'release', h: 1 }], advanceDays: 12, runJobs: true },
    { ops: [{ op: 'redeem', m: 0, points: 1 }], advanceDays: 12, runJobs: true },
  ],
};

interface World {
  t: TestTenant;
  members: string[];
  purchases: Array<{ id: string; body: Record<string, unknown>; total: number; lines: Array<{ sku: string; quantity: number }> | null }>;
  returns: string[];
  redemptions: string[];
  holds: Array<{ id: string; points: number }>;
  seq: number;
  fivexx: string[];
}

/** Answers per route and status over all runs: shows the test really exercised every operation. */
const tally = new Map<string, number>();

async function send(w: World, method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const res = await w.t.api(method, path, { body });
  const key = `${method} ${path.replace(/[0-9a-f-]{36}/g, ':id')} ${res.status}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
  if (res.status >= 500) w.fivexx.push(`${method} ${path} ${res.status} ${res.text}`);
  return res;
}

const pick = <T>(list: T[], i: number): T | undefined => (list.length ? list[i % list.length] : undefined);

async function run(w: World, o: Op): Promise<void> {
  switch (o.op) {
    case 'purchase': {
      const lines = o.lines && o.total > 0
        ? [{ sku: 'A', category: 'coffee', quantity: 2, unit_price: Math.floor(o.total / 4) }, { sku: 'B', category: 'gift_card', quantity: 1, unit_price: o.total - 2 * Math.floor(o.total / 4) }]
        : undefined;
      const body = { external_id: `p-${w.seq++}`, member_id: w.members[o.m], currency: 'EUR', total: o.total, ...(lines ? { lines } : {}) };
      const res = await send(w, 'POST', '/v1/transactions', body);
      if (res.status === 201) w.purchases.push({ id: res.body.id, body, total: o.total, lines: lines?.map((l) => ({ sku: l.sku, quantity: l.quantity })) ?? null });
      return;
    }
    case 'return': {
      const p = pick(w.purchases, o.t);
      if (!p || p.total === 0) return;
      const body: Record<string, unknown> = { external_id: `r-${w.seq++}`, type: 'return', original_id: p.id, currency: 'EUR', total: Math.max(1, Math.floor(p.total * o.fraction / 3)) };
      if (o.byLine && p.lines) body.lines = [{ sku: 'A', quantity: 1 }];
      const res = await send(w, 'POST', '/v1/transactions', body);
      if (res.status === 201) w.returns.push(res.body.id);
      return;
    }
    case 'void': {
      const id = pick([...w.purchases.map((p) => p.id), ...w.returns], o.t);
      if (id) await send(w, 'POST', `/v1/transactions/${id}/void`, {});
      return;
    }
    case 'resend': {
      const p = pick(w.purchases, o.t);
      if (p) {
        const res = await send(w, 'POST', '/v1/transactions', p.body);
        assert.ok(res.status === 200 || res.status === 422 || res.status === 201, `a re-sent order is answered: ${res.status} ${res.text}`);
      }
      return;
    }
    case 'event':
      await send(w, 'POST', '/v1/events', { name: 'review_written', member_id: w.members[o.m], properties: { rating: o.rating } });
      return;
    case 'redeem': {
      const res = await send(w, 'POST', '/v1/redemptions', { member_id: w.members[o.m], points: o.points });
      if (res.status === 201) w.redemptions.push(res.body.id);
      return;
    }
    case 'cancel': {
      const id = pick(w.redemptions, o.r);
      if (id) await send(w, 'POST', `/v1/redemptions/${id}/cancel`, {});
      return;
    }
    case 'hold': {
      const res = await send(w, 'POST', '/v1/holds', { member_id: w.members[o.m], points: o.points, expires_in_seconds: 3600 });
      if (res.status === 201) w.holds.push({ id: res.body.id, points: res.body.points });
      return;
    }
    case 'capture': {
      const h = pick(w.holds, o.h);
      if (h) await send(w, 'POST', `/v1/holds/${h.id}/capture`, { points: Math.max(1, Math.floor(h.points * o.fraction)) });
      return;
    }
    case 'release': {
      const h = pick(w.holds, o.h);
      if (h) await send(w, 'POST', `/v1/holds/${h.id}/release`, {});
      return;
    }
    case 'adjust':
      await send(w, 'POST', `/v1/members/${w.members[o.m]}/adjustments`, { points: o.points, reason: 'property test' });
      return;
  }
}

describe('ledger invariants under random concurrent interleavings', () => {
  test('hold after every run', { timeout: 600_000 }, async (tc) => {
    let runs = 0;
    await fc.assert(fc.asyncProperty(scenarioArb, async (s) => {
      try {
        await scenario(s);
      } catch (err) {
        // fast-check shows the scenario but not always the error: say what broke.
        tc.diagnostic(`failed: ${(err as Error).stack ?? err}`);
        throw err;
      }
    }), { examples: [[EVERY_KIND]], numRuns: Number(process.env.LEDGER_PROPERTY_RUNS ?? 25), ...(process.env.LEDGER_PROPERTY_SEED ? { seed: Number(process.env.LEDGER_PROPERTY_SEED) } : {}), endOnFailure: true });
    async function scenario(s: Scenario) {
      runs++;
      app.clock.set('2031-01-05T10:00:00Z');
      const t = await app.newTenant();
      const program = {
        negative_balance: s.policy, pending_days: s.pendingDays, excluded_categories: ['gift_card'],
        expiry: s.expiryDays ? { kind: 'after_earning', months: 0, days: s.expiryDays } : { kind: 'never' },
      };
      assert.equal((await t.api('PATCH', '/v1/program', { body: program })).status, 200);
      for (const rule of [
        { kind: 'base', name: 'base', rate: { points: 1, per_units: 1 }, rounding: 'floor' },
        { kind: 'bonus', name: 'big basket', points: 25, condition: { '>=': [{ var: 'basket.eligible_amount' }, 8000] } },
        { kind: 'multiplier', name: 'double coffee', factor_percent: 200, line_filter: { '==': [{ var: 'category' }, 'coffee'] }, caps: { per_member_day: 60 } },
        { kind: 'event', name: 'review', event: 'review_written', points: 15, condition: { '>=': [{ var: 'event.properties.rating' }, 3] }, limit: { count: 2, per: 'day' } },
      ]) {
        const res = await t.api('POST', '/v1/earn-rules', { body: rule });
        assert.equal(res.status, 201, res.text);
      }
      const w: World = { t, members: [], purchases: [], returns: [], redemptions: [], holds: [], seq: 0, fivexx: [] };
      for (let i = 0; i < MEMBERS; i++) w.members.push((await t.api('POST', '/v1/members', { body: { locale: 'en' } })).body.id);

      const { ledger } = app.patron.services;
      for (const wave of s.waves) {
        await Promise.all(wave.ops.map((o) => run(w, o)));
        if (wave.advanceDays) app.clock.advance(wave.advanceDays * DAY);
        if (wave.runJobs) {
          await Promise.all([
            ledger.activateDue(app.patron.db, t.id, s.policy),
            ledger.expireDue(app.patron.db, t.id),
            ledger.releaseDueHolds(app.patron.db, t.id, s.policy),
          ]);
        }
      }
      const violations = await ledgerViolations(app.patron.db, t.id, { allowNegative: s.policy === 'allow' });
      if (w.fivexx.length || violations.length) {
        // fast-check reports the scenario; this says what broke.
        console.error(JSON.stringify({ tenant: t.id, policy: s.policy, fivexx: w.fivexx, violations }, null, 1));
      }
      assert.deepEqual(w.fivexx, [], 'no 5xx');
      assert.deepEqual(violations, [], `policy ${s.policy}`);
    }
    assert.ok(runs > 0);
    tc.diagnostic([...tally.entries()].sort().map(([k, v]) => `${k}: ${v}`).join('; '));
    // Every kind of write succeeded at least once, so the runs covered them all.
    for (const route of ['POST /v1/transactions 201', 'POST /v1/redemptions 201', 'POST /v1/holds 201', 'POST /v1/holds/:id/capture 200',
      'POST /v1/transactions/:id/void 200', 'POST /v1/members/:id/adjustments 201', 'POST /v1/events 201']) {
      assert.ok((tally.get(route) ?? 0) > 0, `no successful ${route}`);
    }
  });
});
