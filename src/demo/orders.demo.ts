/**
 * A year of Brew & Bloom's trade, as its shops, web shop and app would have
 * sent it: purchases from a small catalogue (coffee beans, brewing gear,
 * flowers, gift cards), some returns, and the members' actions that earn
 * bonuses (signing up, reviews, birthdays).
 *
 * Members behave like a loyalty program's members do: almost half buy nothing
 * in the year, a third buy once (many of them when they signed up at a till),
 * some come back now and then, regulars every month or two, a loyal core every
 * few weeks, and some who were regulars stopped coming months ago (churned).
 * Flowers sell around Valentine's Day and 8 March, gear and gift cards before
 * Christmas, and beans at weekends (when they earn double). A few hundred
 * orders are from customers without a card.
 *
 * `generateDemoHistory` is pure: the same members, anchor and seed give the same
 * history. Redemptions depend on the points members have at the time, so the
 * loader (history.demo.ts) decides them as it replays the year.
 */
import type { MemberHistory } from '../modules/members/members.service.js';
import type { CreateEventInput } from '../modules/events/events.schema.js';
import type { CreateTransactionInput } from '../modules/transactions/transactions.schema.js';
import { toLocal } from '../modules/programs/programs.policy.js';
import { Rng } from './random.js';
import { DEMO_TENANT, STORES } from './tenant.demo.js';

export const HISTORY_SEED = 'brew-and-bloom-orders-2025';
export const HISTORY_DAYS = 365;

const DAY = 86_400_000;
const MIN = 60_000;
const ZONE = DEMO_TENANT.time_zone;

export type Category = 'beans' | 'gear' | 'flowers' | 'gift_card';

export interface Product {
  sku: string;
  name: string;
  category: Category;
  /** Minor units (EUR cents). */
  price: number;
  weight: number;
  /** Months (1..12) it is sold in; absent = all year. */
  months?: readonly number[];
}

export const CATALOG: readonly Product[] = [
  { sku: 'BEANS-HOUSE-1KG', name: 'House espresso blend, 1 kg', category: 'beans', price: 3290, weight: 22 },
  { sku: 'BEANS-ETH-250', name: 'Ethiopia Yirgacheffe, 250 g', category: 'beans', price: 1490, weight: 18 },
  { sku: 'BEANS-COL-250', name: 'Colombia Huila, 250 g', category: 'beans', price: 1290, weight: 20 },
  { sku: 'BEANS-KEN-250', name: 'Kenya Nyeri AA, 250 g', category: 'beans', price: 1690, weight: 10 },
  { sku: 'BEANS-DECAF-250', name: 'Decaf Brazil, 250 g', category: 'beans', price: 1390, weight: 8 },
  { sku: 'BEANS-XMAS-250', name: 'Winter blend, 250 g', category: 'beans', price: 1590, weight: 25, months: [11, 12, 1] },
  { sku: 'GEAR-FILTERS', name: 'V60 paper filters, 100', category: 'gear', price: 590, weight: 25 },
  { sku: 'GEAR-CUP', name: 'Reusable cup, 350 ml', category: 'gear', price: 1490, weight: 18 },
  { sku: 'GEAR-V60', name: 'Hario V60 dripper', category: 'gear', price: 2490, weight: 14 },
  { sku: 'GEAR-AEROPRESS', name: 'AeroPress Original', category: 'gear', price: 3990, weight: 10 },
  { sku: 'GEAR-KETTLE', name: 'Gooseneck kettle', category: 'gear', price: 5900, weight: 6 },
  { sku: 'GEAR-GRINDER', name: 'Hand grinder', category: 'gear', price: 8900, weight: 5 },
  { sku: 'FLW-SEASONAL', name: 'Seasonal bouquet', category: 'flowers', price: 2790, weight: 30 },
  { sku: 'FLW-ROSES', name: 'Red roses, a dozen', category: 'flowers', price: 3490, weight: 14 },
  { sku: 'FLW-TULIPS', name: 'Tulips, a bunch of 10', category: 'flowers', price: 1890, weight: 24, months: [1, 2, 3, 4, 5] },
  { sku: 'FLW-PEONIES', name: 'Peonies, a bunch of 5', category: 'flowers', price: 4490, weight: 22, months: [5, 6] },
  { sku: 'FLW-PLANT', name: 'Potted plant', category: 'flowers', price: 2290, weight: 12 },
  { sku: 'FLW-WREATH', name: 'Advent wreath', category: 'flowers', price: 3990, weight: 20, months: [11, 12] },
  { sku: 'GIFT-25', name: 'Gift card €25', category: 'gift_card', price: 2500, weight: 60 },
  { sku: 'GIFT-50', name: 'Gift card €50', category: 'gift_card', price: 5000, weight: 40 },
];

export type Segment = 'none' | 'one_off' | 'occasional' | 'regular' | 'loyal' | 'churned';
const SEGMENTS: ReadonlyArray<readonly [Segment, number]> = [
  ['none', 45], ['one_off', 28], ['occasional', 12], ['regular', 8], ['loyal', 4], ['churned', 3],
];
/** Mean days between purchases of the repeat buyers. */
const MEAN_GAP: Partial<Record<Segment, number>> = { regular: 55, loyal: 24, churned: 24 };

type Persona = 'coffee' | 'flowers' | 'both';
const PERSONAS: ReadonlyArray<readonly [Persona, number]> = [['coffee', 45], ['flowers', 25], ['both', 30]];
const TASTE: Record<Persona, Record<Category, number>> = {
  coffee: { beans: 62, gear: 28, flowers: 7, gift_card: 3 },
  flowers: { beans: 8, gear: 4, flowers: 84, gift_card: 4 },
  both: { beans: 38, gear: 17, flowers: 38, gift_card: 7 },
};

type Channel = 'store' | 'online' | 'app';

/** What happens on one day, in Sofia: how busy it is and what sells more. */
interface Season {
  month: number;
  busy: number;
  boost: Partial<Record<Category, number>>;
}

const seasons = new Map<number, Season>();

/** `season` of the day of `at` (one per local day; the date math is the slow part of generating the year). */
function season(at: Date): Season {
  // Orders are placed 05:00–21:00 UTC, when the UTC day is Sofia's day.
  const key = Math.floor(at.getTime() / DAY);
  let s = seasons.get(key);
  if (!s) {
    s = seasonOf(new Date(key * DAY + 12 * 3600_000));
    seasons.set(key, s);
  }
  return s;
}

function seasonOf(at: Date): Season {
  const l = toLocal(at, ZONE);
  const md = l.month * 100 + l.day;
  const weekday = new Date(Date.UTC(l.year, l.month - 1, l.day)).getUTCDay(); // 0 = Sunday
  let busy = weekday === 6 ? 1.35 : weekday === 0 ? 1.15 : 1;
  const boost: Season['boost'] = {};
  if (weekday === 6 || weekday === 0) boost.beans = 1.6; // double points on beans at weekends
  if (md >= 208 && md <= 214) { busy *= 1.8; boost.flowers = 4; } // Valentine's Day
  if (md >= 301 && md <= 308) { busy *= 2; boost.flowers = 5; } // Baba Marta and 8 March
  if (md >= 1201 && md <= 1223) { busy *= 1.5; boost.gear = 2.5; boost.gift_card = 3; } // Christmas shopping
  if (md >= 1224 || md <= 102) busy *= 0.6; // the shops close for the holidays
  if (l.month === 7 || l.month === 8) busy *= 0.8; // Sofia on the seaside
  return { month: l.month, busy, boost };
}
const MAX_BUSY = 2.7;

export interface DemoPurchase {
  kind: 'purchase';
  at: Date;
  /** When Patron received it (the clock is set to this). */
  received_at: Date;
  order: CreateTransactionInput;
  /** The buyer's index in the members list, or null for a customer without a card. */
  member: number | null;
  /** Actions with the same key happen to the same customer, one after the other (the loader may run keys apart). */
  key: number;
}

export interface DemoReturn {
  kind: 'return';
  at: Date;
  received_at: Date;
  order: CreateTransactionInput;
  full: boolean;
  key: number;
}

export interface DemoEvent {
  kind: 'event';
  at: Date;
  received_at: Date;
  event: CreateEventInput;
  member: number;
  key: number;
}

export type DemoAction = DemoPurchase | DemoReturn | DemoEvent;

export interface DemoHistoryPlan {
  start: Date;
  end: Date;
  /** In time order. */
  actions: DemoAction[];
  segments: Record<Segment, number>;
}

/** A time on the day of `dayMs` (a UTC midnight), in shop hours for the shops or from breakfast to midnight online. */
function timeOfDay(r: Rng, dayMs: number, channel: Channel): number {
  // Sofia is UTC+2 (+3 in summer): shops 07:00–21:00 local are about 05–18 UTC; the web shop and app, 07:00–23:00.
  const [from, to] = channel === 'store' ? [5 * 3600, 18 * 3600 + 3599] : [5 * 3600, 20 * 3600 + 3599];
  return dayMs + r.int(from, to) * 1000 + r.int(0, 999);
}

/** A moment in [from, to) on a day as busy as it is likely to be (rejection sampling on `season`). */
function busyTime(r: Rng, from: number, to: number, channel: Channel): number | null {
  for (let tries = 0; tries < 50; tries++) {
    const day = Math.floor((from + r.next() * (to - from)) / DAY) * DAY;
    const t = timeOfDay(r, day, channel);
    if (t < from || t >= to) continue;
    if (r.next() * MAX_BUSY < season(new Date(t)).busy) return t;
  }
  return null;
}

function pickProduct(r: Rng, category: Category, month: number): Product {
  const items = CATALOG.filter((p) => p.category === category && (!p.months || p.months.includes(month)));
  return r.weighted(items.map((p) => [p, p.weight] as const));
}

/** The lines of one basket: 1–4 different products, mostly one of each. */
function basket(r: Rng, persona: Persona, at: Date): NonNullable<CreateTransactionInput['lines']> {
  const { boost, month } = season(at);
  const taste = TASTE[persona];
  const categories = (Object.keys(taste) as Category[]).map((c) => [c, taste[c] * (boost[c] ?? 1)] as const);
  const n = r.weighted([[1, 50], [2, 30], [3, 14], [4, 6]] as const);
  const lines: NonNullable<CreateTransactionInput['lines']> = [];
  for (let i = 0; i < n; i++) {
    const p = pickProduct(r, r.weighted(categories), month);
    const qty = p.category === 'gift_card' ? 1 : r.weighted([[1, 85], [2, 12], [3, 3]] as const);
    const same = lines.find((l) => l.sku === p.sku);
    if (same) {
      same.quantity += qty;
      if (same.discount) same.discount = Math.round(same.quantity * same.unit_price! * 0.1);
      continue;
    }
    const line: NonNullable<CreateTransactionInput['lines']>[number] = { sku: p.sku, name: p.name, category: p.category, quantity: qty, unit_price: p.price };
    // A tenth off now and then (a damaged box, a staff offer); never on gift cards.
    if (p.category !== 'gift_card' && r.chance(0.05)) line.discount = Math.round(qty * p.price * 0.1);
    lines.push(line);
  }
  return lines;
}

const lineNet = (l: NonNullable<CreateTransactionInput['lines']>[number]) => l.quantity * (l.unit_price ?? 0) - (l.discount ?? 0);

/** When a member buys, by segment, as epoch ms in [from, to). */
function purchaseTimes(r: Rng, segment: Segment, from: number, to: number, channel: () => Channel): number[] {
  const times: number[] = [];
  const uniform = (n: number) => {
    for (let i = 0; i < n; i++) {
      const t = busyTime(r, from, to, channel());
      if (t !== null) times.push(t);
    }
  };
  switch (segment) {
    case 'none':
      break;
    case 'one_off':
      uniform(r.chance(0.15) ? 2 : 1);
      break;
    case 'occasional':
      uniform(r.int(2, 3));
      break;
    default: {
      // A Poisson process thinned by how busy each day is; churned members stop at some point, long enough ago to show.
      let stop = to;
      if (segment === 'churned') stop = Math.min(from + (0.2 + 0.4 * r.next()) * (to - from), to - 100 * DAY);
      const mean = MEAN_GAP[segment]! * (0.7 + 0.6 * r.next()) * DAY;
      const rate = MAX_BUSY / 1.1; // candidates per purchase kept, on average
      let t = from + r.next() * mean;
      while (t < stop) {
        const day = Math.floor(t / DAY) * DAY;
        const at = timeOfDay(r, day, channel());
        if (at >= from && at < stop && r.next() * MAX_BUSY < season(new Date(at)).busy) times.push(at);
        t += (-Math.log(1 - r.next()) * mean) / rate;
      }
    }
  }
  return times.sort((a, b) => a - b);
}

const MEMBER_CHANNEL_PREF: ReadonlyArray<readonly [Channel, number]> = [['store', 60], ['online', 25], ['app', 15]];

/**
 * The year before `anchor`: members' purchases and returns, guests' purchases,
 * sign-ups, reviews and birthdays, in time order. Blocked and erased members
 * take no part (their current state would earn them nothing).
 */
export function generateDemoHistory(members: readonly MemberHistory[], anchor: Date, seed = HISTORY_SEED, guestOrders = 300): DemoHistoryPlan {
  const root = new Rng(seed);
  const end = anchor.getTime() - 10 * MIN;
  const start = Math.floor((end - HISTORY_DAYS * DAY) / DAY) * DAY;
  const segments: Record<Segment, number> = { none: 0, one_off: 0, occasional: 0, regular: 0, loyal: 0, churned: 0 };
  const purchases: Array<Omit<DemoPurchase, 'order'> & { order: Omit<CreateTransactionInput, 'external_id'> & { external_id?: string }; review: number; rng: Rng }> = [];
  const events: DemoEvent[] = [];
  const later = (r: Rng, at: number, maxSeconds: number) => new Date(at + r.int(1, maxSeconds) * 1000);

  members.forEach((m, i) => {
    if (m.blocked || m.erased_at) return;
    const r = root.fork(`member-${i}`);
    const enrolled = m.enrolled_at.getTime();
    const from = Math.max(start, enrolled + 5 * MIN);
    if (from >= end) return;
    const attrs = (m.attributes ?? {}) as { home_store?: string; signup_channel?: string };
    const home = attrs.home_store ?? STORES[0].code;
    let segment = r.weighted(SEGMENTS);
    const persona = r.weighted(PERSONAS);
    const prefChannel: Channel = attrs.signup_channel === 'app' && r.chance(0.6) ? 'app' : r.weighted(MEMBER_CHANNEL_PREF);
    const channelOf = () => (r.chance(0.75) ? prefChannel : r.weighted(MEMBER_CHANNEL_PREF));
    // Signed up at a till during the year: bought something there and then.
    const joinedAtTill = enrolled >= start && attrs.signup_channel === 'pos';
    if (joinedAtTill && segment === 'none') segment = 'one_off';
    segments[segment]++;
    let times = purchaseTimes(r, segment, from, end, channelOf);
    if (joinedAtTill) times = [enrolled + r.int(1, 8) * MIN, ...(segment === 'one_off' ? [] : times)].filter((t) => t < end);
    const reviewChance = segment === 'loyal' || segment === 'regular' ? 0.1 : 0.04;

    times.forEach((t, n) => {
      const pr = r.fork(`order-${n}`);
      const channel: Channel = joinedAtTill && n === 0 ? 'store' : pr.chance(0.75) ? prefChannel : pr.weighted(MEMBER_CHANNEL_PREF);
      const at = new Date(t);
      const lines = basket(pr, persona, at);
      const total = lines.reduce((s, l) => s + lineNet(l), 0);
      const store = channel === 'store' ? (pr.chance(0.8) ? home : pr.weighted(STORES.map((s) => [s.code, s.weight] as const))) : channel === 'online' ? 'WEB' : 'APP';
      const method = channel === 'store' ? pr.weighted([['card', 72], ['cash', 28]] as const) : 'card';
      purchases.push({
        kind: 'purchase', at, received_at: later(pr, t, channel === 'store' ? 20 : 90), member: i, key: i, review: pr.chance(reviewChance) ? 1 : 0, rng: pr,
        order: {
          member_external_id: m.external_id!, occurred_at: at.toISOString(), currency: 'EUR', total, lines, channel, store_id: store,
          payments: [{ method, amount: total }],
        },
      });
    });

    // The app and the web shop report sign-ups (the tills enrol members with their first purchase).
    const props = { channel: attrs.signup_channel ?? 'pos' };
    if (enrolled >= start && enrolled + MIN < end && !joinedAtTill) {
      const at = enrolled + MIN;
      events.push({
        kind: 'event', at: new Date(at), received_at: later(r, at, 30), member: i, key: i,
        event: { name: 'sign_up', member_external_id: m.external_id!, external_id: `SIGNUP-${m.external_id}`, occurred_at: new Date(at).toISOString(), properties: props },
      });
    }
    // The app wishes happy birthday (with points) to the members who come back.
    if (m.birth_date && (segment === 'regular' || segment === 'loyal' || segment === 'churned' || segment === 'occasional')) {
      const [, mm, dd] = m.birth_date.split('-').map(Number) as [number, number, number];
      for (const year of [new Date(start).getUTCFullYear(), new Date(end).getUTCFullYear()]) {
        const day = Date.UTC(year, mm - 1, dd);
        if (new Date(day).getUTCDate() !== dd) continue; // 29 February in a common year
        const at = day + 6 * 3600_000; // 08:00 or 09:00 in Sofia
        if (at < from || at >= end) continue;
        events.push({
          kind: 'event', at: new Date(at), received_at: later(r, at, 5), member: i, key: i,
          event: { name: 'birthday', member_external_id: m.external_id!, external_id: `BDAY-${m.external_id}-${year}`, occurred_at: new Date(at).toISOString(), properties: {} },
        });
      }
    }
  });

  // Customers without a card: walk-ins (no reference) and web shop guests (an e-mail hash as customer_ref).
  const g = root.fork('guests');
  for (let n = 0; n < guestOrders; n++) {
    const channel: Channel = g.chance(0.7) ? 'store' : 'online';
    const t = busyTime(g, start, end, channel);
    if (t === null) continue;
    const at = new Date(t);
    const lines = basket(g, g.weighted(PERSONAS), at);
    const total = lines.reduce((s, l) => s + lineNet(l), 0);
    purchases.push({
      kind: 'purchase', at, received_at: later(g, t, 60), member: null, key: members.length + n, review: 0, rng: g.fork(`guest-${n}`),
      order: {
        ...(channel === 'online' ? { customer_ref: `web-guest-${String(g.int(1, 400)).padStart(4, '0')}` } : {}),
        occurred_at: at.toISOString(), currency: 'EUR', total, lines, channel,
        store_id: channel === 'store' ? g.weighted(STORES.map((s) => [s.code, s.weight] as const)) : 'WEB',
        payments: [{ method: channel === 'store' ? g.weighted([['card', 65], ['cash', 35]] as const) : 'card', amount: total }],
      },
    });
  }

  // Order numbers follow time, like a real order system's.
  purchases.sort((a, b) => a.at.getTime() - b.at.getTime() || a.received_at.getTime() - b.received_at.getTime());
  const actions: DemoAction[] = [...events];
  let returns = 0;
  let reviews = 0;
  purchases.forEach((p, n) => {
    const external_id = `ORD-${String(n + 1).padStart(7, '0')}`;
    const order = { external_id, ...p.order } as CreateTransactionInput;
    actions.push({ kind: 'purchase', at: p.at, received_at: p.received_at, order, member: p.member, key: p.key });
    const r = p.rng;
    const t = p.at.getTime();
    const lines = order.lines ?? [];
    const returnable = lines.filter((l) => l.category !== 'gift_card');
    // A few percent come back: a grinder that was not the right one, wilted flowers, a whole web order.
    if (returnable.length > 0 && r.chance(p.member === null ? 0.02 : 0.035)) {
      const at = t + r.int(2 * 3600, 20 * 86_400) * 1000;
      if (at < end) {
        const full = returnable.length === lines.length && r.chance(0.4);
        const back = full ? returnable : [r.pick(returnable)];
        const given = back.map((l) => ({ sku: l.sku, category: l.category, quantity: full ? l.quantity : 1, unit_price: l.unit_price }));
        const refund = full ? order.total : Math.floor(lineNet(back[0]!) / back[0]!.quantity);
        actions.push({
          kind: 'return', at: new Date(at), received_at: later(r, at, 60), full, key: p.key,
          order: {
            external_id: `RET-${String(++returns).padStart(6, '0')}`, type: 'return', original_external_id: external_id,
            occurred_at: new Date(at).toISOString(), currency: 'EUR', total: refund, lines: given, channel: order.channel, store_id: order.store_id,
            payments: [{ method: order.payments?.[0]?.method === 'cash' ? 'cash' : 'card', amount: refund }],
          },
        });
      }
    }
    if (p.review && p.member !== null) {
      const at = t + r.int(1, 6) * 86_400_000 + r.int(0, 12 * 3600) * 1000;
      if (at < end) {
        const sku = r.pick(lines).sku;
        actions.push({
          kind: 'event', at: new Date(at), received_at: later(r, at, 30), member: p.member, key: p.key,
          event: {
            name: 'review_written', member_external_id: order.member_external_id!, external_id: `REVIEW-${String(++reviews).padStart(6, '0')}`,
            occurred_at: new Date(at).toISOString(), properties: { product_sku: sku, order: external_id, rating: r.weighted([[5, 55], [4, 28], [3, 10], [2, 4], [1, 3]] as const) },
          },
        });
      }
    }
  });

  actions.sort((a, b) => a.received_at.getTime() - b.received_at.getTime() || a.at.getTime() - b.at.getTime());
  return { start: new Date(start), end: new Date(end), actions, segments };
}

/** Rewards members take at the till, most valuable first; `points` at the program's 100 points = €2. */
export const REWARDS = [
  { ref: 'bouquet-of-the-week', points: 1200 },
  { ref: 'beans-250g', points: 650 },
  { ref: 'free-drink', points: 175 },
] as const;
