/**
 * Replays the demo's year (orders.demo.ts) through Patron's own services, as
 * if it had happened: the clock is set to the moment each order, return or
 * event reached Patron, and every night at 03:00 UTC the ledger's activation
 * job runs (pending points become spendable after 14 days). So created_at,
 * pending periods, first-purchase bonuses, caps, limits, claw-backs and debts
 * are all what they would have been. (No point expires within the year: they
 * last until the end of the year after they were earned. The expiry job runs
 * once at the end, as it would on the day.)
 *
 * Members who have the points now and then spend them at the till: part of
 * the order paid with points, or a reward (a drink, beans, a bouquet).
 *
 * Speed and safety: the customers are dealt into a few shards, each replayed
 * in one transaction of its own, side by side (PostgreSQL works on each on its
 * own core). A shard is written whole or not at all, and one already written
 * is skipped, so a run that stopped half-way is completed by the next one and
 * a second run writes nothing. Each shard has its own clock and services: the
 * Patron's clock, which its HTTP API and scheduled jobs use, keeps the real
 * time, and those jobs see a shard only once it is complete (by then it holds
 * nothing due that they could act on early).
 */
import type { Patron } from '../app.js';
import { SettableClock } from '../platform/clock.js';
import type { Db, Tx } from '../platform/db/db.js';
import { EventsService } from '../modules/events/events.service.js';
import { pointsWorth } from '../modules/ledger/ledger.schema.js';
import { Ledger } from '../modules/ledger/ledger.service.js';
import { MembersService, type MemberHistory } from '../modules/members/members.service.js';
import { ProgramsService } from '../modules/programs/programs.service.js';
import type { Program } from '../modules/programs/programs.types.js';
import { RedemptionsService } from '../modules/redemptions/redemptions.service.js';
import { RulesService } from '../modules/rules/rules.service.js';
import type { CreateTransactionInput } from '../modules/transactions/transactions.schema.js';
import { TransactionsService } from '../modules/transactions/transactions.service.js';
import { generateDemoHistory, HISTORY_SEED, REWARDS, type DemoAction, type Segment } from './orders.demo.js';
import { EVENT_POINTS } from './program.demo.js';
import { Rng } from './random.js';

const DAY = 86_400_000;
/** The nightly ledger jobs' hour (05:00 or 06:00 in Sofia, before the shops open). */
const NIGHTLY_UTC_MS = 3 * 3600_000;
/** Shards replayed side by side: PostgreSQL takes each on a core of its own; more than the cores gains nothing. */
export const HISTORY_SHARDS = 2;
const CHEAPEST_REWARD = Math.min(...REWARDS.map((r) => r.points));

export interface HistoryLoad {
  from: Date;
  to: Date;
  /** Shards written by this run (of HISTORY_SHARDS; the others were there already). */
  shards: number;
  purchases: number;
  /** Purchases of customers without a card. */
  guestPurchases: number;
  returns: number;
  fullReturns: number;
  redemptions: number;
  events: Record<string, number>;
  pointsEarned: number;
  segments: Record<Segment, number>;
}

/** What the plan says an action earns, roughly (1 point per euro outside gift cards, the event bonus); no database needed. */
function roughPoints(a: DemoAction): number {
  if (a.kind === 'event') return EVENT_POINTS[a.event.name as keyof typeof EVENT_POINTS] ?? 0;
  if (a.kind === 'return') return 0;
  return Math.floor((a.order.lines ?? []).filter((l) => l.category !== 'gift_card').reduce((s, l) => s + l.quantity * (l.unit_price ?? 0) - (l.discount ?? 0), 0) / 100);
}

/**
 * A Db whose queries and transactions all run in `tx`: job code that commits in transactions of its own (per
 * member, per batch) then runs inside the demo's one transaction.
 */
export function dbOver(tx: Tx): Db {
  return { query: tx.query.bind(tx), tx: <T>(fn: (t: Tx) => Promise<T>) => fn(tx) } as unknown as Db;
}

/**
 * Patron's services on a clock of their own (wired as src/app.ts wires them), so the demo can date what it writes
 * without moving the clock of the running Patron: its API and scheduled jobs keep the real time.
 */
export function servicesOn(patron: Patron, clock: SettableClock) {
  const { tenants } = patron.services;
  const members = new MembersService(clock, tenants);
  const programs = new ProgramsService(clock, tenants);
  const rules = new RulesService(clock);
  const ledger = new Ledger(clock);
  return {
    programs,
    rules,
    ledger,
    transactions: new TransactionsService({ clock, ledger, members, programs, rules }),
    events: new EventsService({ clock, ledger, members, programs, rules }),
    redemptions: new RedemptionsService(clock, ledger, programs, members),
  };
}

/** Loads the shards of the year not loaded yet; null when all were there already. */
export async function loadDemoHistory(patron: Patron, tenantId: string, anchor: Date, members: readonly MemberHistory[], shards = HISTORY_SHARDS): Promise<HistoryLoad | null> {
  const { db } = patron;
  const program = await patron.services.programs.get(db, tenantId);
  const plan = generateDemoHistory(members, anchor);
  const out: HistoryLoad = {
    from: plan.start, to: plan.end, shards: 0, purchases: 0, guestPurchases: 0, returns: 0, fullReturns: 0, redemptions: 0, events: {},
    pointsEarned: 0, segments: plan.segments,
  };
  const parts = Array.from({ length: shards }, (_, s) => plan.actions.filter((a) => a.key % shards === s));
  /** The parts not loaded yet (a part already in the database is skipped: loading the demo again adds nothing). */
  const unloaded: DemoAction[][] = [];
  for (const part of parts) {
    const probe = part.find((a) => a.kind !== 'event') as Exclude<DemoAction, { kind: 'event' }> | undefined;
    if (!probe) continue;
    if ((await patron.services.transactions.list(db, tenantId, { externalId: probe.order.external_id, limit: 1 })).length > 0) continue;
    unloaded.push(part);
  }
  if (unloaded.length === 0) return null;
  // Side by side; a shard that fails does not stop the others from finishing (or failing) before the error is thrown.
  const results = await Promise.allSettled(unloaded.map((part) => db.tx((tx) => replay(patron, tx, tenantId, program, part, members, anchor, plan.end, out))));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  out.shards = unloaded.length;
  return out;
}

/** One shard's year, in one transaction. */
async function replay(patron: Patron, tx: Tx, tenantId: string, program: Program, actions: DemoAction[], members: readonly MemberHistory[], anchor: Date, end: Date, out: HistoryLoad): Promise<void> {
  const clock = new SettableClock();
  const { ledger, transactions, events, redemptions } = servicesOn(patron, clock);
  // The ledger's batch jobs commit batch by batch in transactions of their own; here they run inside the shard's.
  const inTx = dbOver(tx);
  const { points: per, amount } = program.points_value;
  // Whether a member may have the points for a reward, from the plan alone: only then is the balance read at the till.
  const planned = new Map<number, number>();

  let night = Math.floor((actions[0]?.received_at.getTime() ?? 0) / DAY) * DAY + NIGHTLY_UTC_MS;
  for (const a of actions) {
    const at = a.received_at.getTime();
    for (; night <= at; night += DAY) {
      clock.set(new Date(night));
      await ledger.activateDue(inTx, tenantId, program.negative_balance);
    }
    clock.set(a.received_at);

    if (a.kind === 'event') {
      const { event } = await events.record(tx, tenantId, a.event);
      out.events[event.name] = (out.events[event.name] ?? 0) + 1;
      out.pointsEarned += event.points;
    } else if (a.kind === 'return') {
      await transactions.record(tx, tenantId, a.order);
      out.returns++;
      if (a.full) out.fullReturns++;
    } else {
      let order = a.order;
      if (a.member !== null && (planned.get(a.member) ?? 0) >= CHEAPEST_REWARD) {
        const paid = await atTheTill(new Rng(`${HISTORY_SEED}/till/${order.external_id}`), members[a.member]!.id, order);
        if (paid) {
          order = paid;
          out.redemptions++;
        }
      }
      const { transaction } = await transactions.record(tx, tenantId, order);
      out.purchases++;
      if (a.member === null) out.guestPurchases++;
      out.pointsEarned += transaction.points;
    }
    if (a.kind !== 'return' && a.member !== null) planned.set(a.member, (planned.get(a.member) ?? 0) + roughPoints(a));
  }
  // The jobs as they would have run by the time the demo starts.
  for (; night <= end.getTime(); night += DAY) {
    clock.set(new Date(night));
    await ledger.activateDue(inTx, tenantId, program.negative_balance);
  }
  clock.set(anchor);
  await ledger.activateDue(inTx, tenantId, program.negative_balance);
  await ledger.expireDue(inTx, tenantId);

  /** Maybe spends points with this order: part of it paid in points, or a reward. Returns the order as paid. */
  async function atTheTill(r: Rng, memberId: string, order: CreateTransactionInput): Promise<CreateTransactionInput | null> {
    if (!r.chance(0.4)) return null;
    const { available } = await ledger.balance(tx, tenantId, memberId);
    if (r.chance(0.6)) {
      // Part of the order paid with points, in hundreds, for at most half of it.
      const points = Math.min(Math.floor(available / 100) * 100, Math.floor(order.total / 2 / amount) * per);
      if (points < 100) return null;
      const value = pointsWorth(points, program.points_value);
      await redemptions.redeem(tx, tenantId, { member_id: memberId, points, reward_ref: 'points-at-checkout', order_ref: order.external_id, reason: 'Paid with points' }, 'demo');
      const method = order.payments?.[0]?.method ?? 'card';
      return { ...order, payments: [{ method: 'points', amount: value }, { method, amount: order.total - value }] };
    }
    const reward = REWARDS.find((x) => x.points <= available);
    if (!reward) return null;
    await redemptions.redeem(tx, tenantId, { member_id: memberId, points: reward.points, reward_ref: reward.ref, order_ref: order.external_id }, 'demo');
    return order;
  }
}
