/**
 * Generated ledger history for the economics tests: weekly earning, returns and redemptions of a tenant's members,
 * drawn by a seeded random process (platform/seeded-random.ts), with the expiry job run every week.
 *
 * The same process can be written two ways:
 *  - `serviceLedger`: through the real ledger (MemberBook credits and debits, the `ledger.expire-points` job on the
 *    settable clock), statement by statement as Patron would write it; minutes for three years of 150 members.
 *  - `modelLedger`: replayed in memory by a model of what the ledger does for exactly these operations (the rules of
 *    ledger.service.ts and ledger.store.ts: spending order, a claw-back taking from its own order's lot first, the
 *    'debt' policy and its repayment, per-member expire entries), then written in bulk: member_balances,
 *    ledger_entries, point_lots and lot_allocations, a few statements per table. Seconds.
 *
 * economics.backtest.test.ts builds a small history both ways and requires the two ledgers to be row for row the
 * same (ids aside) and their economics identical, so the bulk writer cannot drift from the ledger unnoticed. The
 * model writes no outbox events or audit rows: the economics do not read them.
 */
import assert from 'node:assert/strict';
import type { TestApp, TestTenant } from '../../../../test/helpers.js';
import type { Db } from '../../../platform/db/db.js';
import { newId } from '../../../platform/ids.js';
import { mulberry32 } from '../../../platform/seeded-random.js';
import type { MemberBook } from '../../ledger/ledger.service.js';
import type { BalanceRow, EntryRow, LotRow } from '../../ledger/ledger.store.js';
import { lotExpiresAt } from '../../programs/programs.policy.js';

const WEEK = 7 * 86_400_000;
export const HISTORY_TZ = 'Europe/Sofia';
/** Points expire 12 months after earning. */
export const HISTORY_EXPIRY = { kind: 'after_earning' as const, months: 12, days: 0 };

export interface HistoryOptions {
  seed: number;
  /** Monday of the first week (ISO); each week's step happens on its Thursday noon UTC. */
  from: string;
  weeks: number;
  /** Share of purchases returned a week later (default 0.04). */
  returnRate?: number;
}

/** One member's points, locked for a step: what the generator may do to them. */
export interface SimBook {
  readonly available: number;
  earn(order: string, points: number, expiresAt: Date | null): Promise<void>;
  clawBack(order: string, points: number): Promise<void>;
  redeem(points: number): Promise<void>;
}

/** Where the history is written. */
export interface SimLedger {
  /** Moves to `now` and runs the expiry job. */
  week(now: Date): Promise<void>;
  /** Runs `fn` for every member; `open` locks the member's points (only when something can happen to them). */
  eachMember(ids: string[], fn: (id: string, i: number, open: () => Promise<SimBook>) => Promise<void>): Promise<void>;
}

/**
 * A tenant in Europe/Sofia whose points expire 12 months after earning, and `members` members (`sim-0`, `sim-1`, …)
 * enrolled at `from`. Returns the member ids in id order (creation order).
 */
export async function historyTenant(app: TestApp, members: number, from: string): Promise<{ tenant: TestTenant; ids: string[] }> {
  app.clock.set(new Date(from));
  const tenant = await app.newTenant();
  assert.equal((await tenant.api('PATCH', '/v1/tenant', { body: { time_zone: HISTORY_TZ } })).status, 200);
  assert.equal((await tenant.api('PATCH', '/v1/program', { body: { expiry: HISTORY_EXPIRY } })).status, 200);
  const ids: string[] = [];
  for (let i = 0; i < members; i += 10) {
    const made = await Promise.all(Array.from({ length: Math.min(10, members - i) }, (_, j) =>
      tenant.api('POST', '/v1/members', { body: { external_id: `sim-${i + j}` } })));
    for (const res of made) {
      assert.equal(res.status, 201, res.text);
      ids.push(res.body.id);
    }
  }
  return { tenant, ids: ids.sort() };
}

/**
 * The generated history. Each member has a propensity to redeem (a third redeem often, a third now and then, a
 * third seldom); every week each buys with probability 0.3 for 10-60 EUR (1 point per EUR, a lot expiring 12
 * months later), returns `returnRate` of purchases a week later (the points taken back), and, holding 100 points or
 * more, redeems with their propensity between half and all of them (oldest expiry first, as the ledger spends). Every
 * draw is made up front, so the history is the same each run whatever order the members are written in. Returns the
 * points issued.
 */
export async function generateHistory(ledger: SimLedger, ids: string[], o: HistoryOptions): Promise<number> {
  const rnd = mulberry32(o.seed);
  const returnRate = o.returnRate ?? 0.04;
  const propensity = ids.map((_, i) => [0.3, 0.1, 0.03][i % 3]!);
  const draws = Array.from({ length: o.weeks }, () => ids.map(() => ({ buy: rnd(), points: 10 + Math.floor(rnd() * 51), ret: rnd(), redeem: rnd(), share: 0.5 + rnd() / 2 })));
  let issued = 0;
  const returns = new Map<string, { order: string; points: number }>();
  const lastAvailable = new Map<string, number>();
  const start = new Date(o.from).getTime();
  for (let w = 0; w < o.weeks; w++) {
    const now = new Date(start + w * WEEK + 3.5 * 86_400_000);
    await ledger.week(now);
    await ledger.eachMember(ids, async (id, i, open) => {
      const d = draws[w]![i]!;
      const ret = returns.get(id);
      returns.delete(id);
      const buys = d.buy < 0.3;
      // A member's book is opened only when something can happen to it this week.
      if (!buys && !ret && (lastAvailable.get(id) ?? 0) < 100) return;
      const book = await open();
      if (ret) await book.clawBack(ret.order, ret.points);
      if (buys) {
        const order = newId();
        await book.earn(order, d.points, lotExpiresAt(HISTORY_EXPIRY, now, HISTORY_TZ));
        issued += d.points;
        if (d.ret < returnRate) returns.set(id, { order, points: d.points });
      }
      const available = book.available;
      if (available >= 100 && d.redeem < propensity[i]!) {
        const points = Math.max(10, Math.floor((available * d.share) / 10) * 10);
        await book.redeem(points);
      }
      lastAvailable.set(id, book.available);
    });
  }
  return issued;
}

// ── Through the real ledger ─────────────────────────────────────────────────

/** The real ledger: a member's step is a MemberBook under the 'debt' policy, four transactions at a time. */
export function serviceLedger(app: TestApp, tenantId: string): SimLedger {
  const { ledger } = app.patron.services;
  return {
    async week(now) {
      app.clock.set(now);
      await app.patron.jobs.runNow('ledger.expire-points', { tenant_id: tenantId });
    },
    async eachMember(ids, fn) {
      await Promise.all([0, 1, 2, 3].map((part) => app.patron.db.tx(async (tx) => {
        for (const [i, id] of ids.entries()) {
          if (i % 4 !== part) continue;
          await fn(id, i, async () => bookOf(await ledger.open(tx, tenantId, id, 'debt')));
        }
      })));
    },
  };
}

function bookOf(book: MemberBook): SimBook {
  return {
    get available() {
      return book.balance.available;
    },
    async earn(order, points, expiresAt) {
      await book.credit({ type: 'earn', points, earned: true, activity: true, activates_at: null, expires_at: expiresAt, source_type: 'transaction', source_id: order, transaction_id: order });
    },
    async clawBack(order, points) {
      await book.debit({ type: 'claw_back', points, shortfall: 'policy', from_transaction_id: order, source_type: 'transaction', source_id: order });
    },
    async redeem(points) {
      await book.debit({ type: 'redeem', points, shortfall: 'refuse', activity: true, source_type: 'redemption', source_id: newId() });
    },
  };
}

// ── In memory, then in bulk ─────────────────────────────────────────────────

// The ledger's own row shapes, less what the model does not write (no actor; lots are active on earning).
type Entry = Omit<EntryRow, 'actor'>;
type Lot = Omit<LotRow, 'activates_at'>;

interface Allocation {
  lot_id: string;
  member_id: string;
  entry_id: string;
  points: number;
  created_at: Date;
}

export interface ModelLedger extends SimLedger {
  /** Writes the history to the tenant's ledger tables (which must hold nothing of these members yet). */
  flush(db: Db): Promise<{ entries: number; lots: number; allocations: number }>;
}

/**
 * The ledger's rules for the operations above, in memory: the same balances, entries, lots and allocations that
 * ledger.service.ts would write (only active lots, no holds, the 'debt' policy).
 */
export function modelLedger(tenantId: string): ModelLedger {
  let now = new Date(0);
  const balances = new Map<string, BalanceRow>();
  const lotsOf = new Map<string, Lot[]>();
  const entries: Entry[] = [];
  const lots: Lot[] = [];
  const allocations: Allocation[] = [];

  const entry = (memberId: string, e: Omit<Entry, 'id' | 'member_id' | 'occurred_at' | 'created_at'>): Entry => {
    const row = { id: newId(), member_id: memberId, ...e, occurred_at: now, created_at: now };
    entries.push(row);
    return row;
  };

  /** takeFromLots: active lots with points left, oldest expiry first (none last), then oldest earned, then id. */
  const take = (memberId: string, points: number, entryId: string, transactionId: string | null = null): number => {
    const candidates = (lotsOf.get(memberId) ?? [])
      .filter((l) => l.remaining > 0 && l.state === 'active' && (transactionId === null || l.transaction_id === transactionId))
      .sort((a, b) => (a.expires_at?.getTime() ?? Infinity) - (b.expires_at?.getTime() ?? Infinity)
        || a.earned_at.getTime() - b.earned_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let left = points;
    for (const l of candidates) {
      if (left === 0) break;
      const n = Math.min(left, l.remaining);
      l.remaining -= n;
      if (l.remaining === 0) l.state = 'spent';
      allocations.push({ lot_id: l.id, member_id: memberId, entry_id: entryId, points: n, created_at: now });
      left -= n;
    }
    return points - left;
  };

  const open = (memberId: string): SimBook => {
    let b = balances.get(memberId);
    if (!b) {
      b = { member_id: memberId, available: 0, pending: 0, held: 0, lifetime_earned: 0, redeemed: 0, expired: 0, debt: 0, last_activity_at: null, updated_at: now };
      balances.set(memberId, b);
      lotsOf.set(memberId, []);
    }
    const bal = b;
    const touch = (activity: boolean) => {
      bal.updated_at = now;
      if (activity) bal.last_activity_at = now;
    };
    return {
      get available() {
        return bal.available;
      },
      async earn(order, points, expiresAt) {
        bal.available += points;
        bal.lifetime_earned += points;
        touch(true);
        const e = entry(memberId, { type: 'earn', points, pending_points: 0, reason: null, source_type: 'transaction', source_id: order, transaction_id: order, details: null });
        const lot: Lot = { id: newId(), member_id: memberId, entry_id: e.id, transaction_id: order, amount: points, remaining: points, state: 'active', earned_at: now, expires_at: expiresAt };
        lots.push(lot);
        lotsOf.get(memberId)!.push(lot);
        // MemberBook.settle under 'debt': new spendable points repay a debt first.
        const repay = Math.min(bal.debt, Math.max(0, bal.available));
        if (repay > 0) {
          bal.debt -= repay;
          bal.available -= repay;
          const r = entry(memberId, { type: 'debt_repay', points: -repay, pending_points: 0, reason: 'repays a claw-back the balance could not cover', source_type: 'system', source_id: null, transaction_id: null, details: null });
          assert.equal(take(memberId, repay, r.id), repay);
        }
      },
      async clawBack(order, points) {
        // MemberBook.debit with shortfall 'policy' under 'debt': what the balance cannot cover becomes debt.
        const fromActive = Math.min(points, Math.max(0, bal.available));
        const shortfall = points - fromActive;
        bal.available -= fromActive;
        bal.debt += shortfall;
        touch(false);
        const e = entry(memberId, {
          type: 'claw_back', points: -fromActive, pending_points: 0, reason: null, source_type: 'transaction', source_id: order, transaction_id: null,
          details: shortfall > 0 ? { shortfall, policy: 'debt' } : null,
        });
        if (fromActive > 0) {
          const own = take(memberId, fromActive, e.id, order);
          assert.equal(take(memberId, fromActive - own, e.id), fromActive - own);
        }
      },
      async redeem(points) {
        assert.ok(points <= Math.max(0, bal.available), 'a redemption within the available points');
        bal.available -= points;
        bal.redeemed += points;
        touch(true);
        const e = entry(memberId, { type: 'redeem', points: -points, pending_points: 0, reason: null, source_type: 'redemption', source_id: newId(), transaction_id: null, details: null });
        assert.equal(take(memberId, points, e.id), points);
      },
    };
  };

  return {
    async week(at) {
      now = at;
      // Ledger.expireDue: per member, every active lot past its expiry in one `expire` entry.
      for (const [memberId, own] of [...lotsOf.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const due = own.filter((l) => l.state === 'active' && l.remaining > 0 && l.expires_at !== null && l.expires_at <= now);
        if (due.length === 0) continue;
        const points = due.reduce((s, l) => s + l.remaining, 0);
        const e = entry(memberId, { type: 'expire', points: -points, pending_points: 0, reason: 'points reached their expiry date', source_type: 'system', source_id: null, transaction_id: null, details: { lots: due.length } });
        for (const l of due) {
          allocations.push({ lot_id: l.id, member_id: memberId, entry_id: e.id, points: l.remaining, created_at: now });
          l.remaining = 0;
          l.state = 'expired';
        }
        const b = balances.get(memberId)!;
        b.available -= points;
        b.expired += points;
        b.updated_at = now;
      }
    },
    async eachMember(ids, fn) {
      for (const [i, id] of ids.entries()) await fn(id, i, async () => open(id));
    },
    async flush(db) {
      const CHUNK = 5000;
      // One transaction: a failed fill leaves nothing half written.
      await db.tx(async (tx) => {
        const insert = async (sql: string, rows: unknown[]) => {
          for (let k = 0; k < rows.length; k += CHUNK) await tx.query(sql, [tenantId, JSON.stringify(rows.slice(k, k + CHUNK))]);
        };
        await insert(
          `INSERT INTO member_balances (tenant_id, member_id, available, pending, held, lifetime_earned, redeemed, expired, debt, last_activity_at, updated_at)
           SELECT $1, member_id, available, pending, held, lifetime_earned, redeemed, expired, debt, last_activity_at, updated_at
             FROM json_to_recordset($2::json) AS x(member_id uuid, available bigint, pending bigint, held bigint, lifetime_earned bigint, redeemed bigint,
                                                   expired bigint, debt bigint, last_activity_at timestamptz, updated_at timestamptz)`,
          [...balances.values()]);
        await insert(
          `INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at)
           SELECT $1, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, NULL, details, occurred_at, created_at
             FROM json_to_recordset($2::json) AS x(id uuid, member_id uuid, type text, points bigint, pending_points bigint, reason text, source_type text,
                                                   source_id text, transaction_id uuid, details jsonb, occurred_at timestamptz, created_at timestamptz)`,
          entries);
        await insert(
          `INSERT INTO point_lots (tenant_id, id, member_id, entry_id, transaction_id, amount, remaining, state, earned_at, activates_at, expires_at)
           SELECT $1, id, member_id, entry_id, transaction_id, amount, remaining, state, earned_at, NULL, expires_at
             FROM json_to_recordset($2::json) AS x(id uuid, member_id uuid, entry_id uuid, transaction_id uuid, amount bigint, remaining bigint, state text,
                                                   earned_at timestamptz, expires_at timestamptz)`,
          lots);
        await insert(
          `INSERT INTO lot_allocations (tenant_id, lot_id, member_id, entry_id, points, created_at)
           SELECT $1, lot_id, member_id, entry_id, points, created_at
             FROM json_to_recordset($2::json) AS x(lot_id uuid, member_id uuid, entry_id uuid, points bigint, created_at timestamptz)`,
          allocations);
      });
      return { entries: entries.length, lots: lots.length, allocations: allocations.length };
    },
  };
}
