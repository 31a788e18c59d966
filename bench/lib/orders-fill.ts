/**
 * Fills a tenant with members and a purchase history by SQL generation in the database, for the analytics
 * benchmark: `members` members and `orders` purchases over the two years up to yesterday, shaped like a
 * non-contractual retail base (the BG/NBD story), so that every stage of an analytics run has real work:
 *
 *  - Each member k is acquired on a day spread over the first 700 days (hash of k): their first order. They stay
 *    "alive" for an exponentially distributed lifetime (mean one year; past it, no more orders: dropout), buy at a
 *    rate of their own (exponentially distributed across members: a few buy very often, many once or twice), and
 *    spend around a mean order value of their own (15 to 75 EUR).
 *  - Member k's repeat orders number ⌊c · rate_k · alive_k + u⌋ (u uniform: unbiased rounding), with c chosen so
 *    that the orders add up to about `orders`; they fall on uniform days of the alive span. As in real retail, most
 *    members who leave early bought once.
 *  - One in twenty orders is online, the others in one of 40 stores. No returns, no points: analytics reads orders.
 *
 * Hashes are PostgreSQL's hashint8extended(value, seed) (PostgreSQL 11+), one seed per draw, so the fill is
 * deterministic for a given size and costs no random() state. Secondary indexes are dropped and rebuilt, foreign
 * keys skipped for a superuser (bench/lib/sql-fill.ts).
 */
import { memberIdSql, memberTasks, openFillSession, secondsSince, v7, type Task } from './sql-fill.js';

export interface OrdersFillOptions {
  tenantId: string;
  members: number;
  orders: number;
  currency: string;
  /** Orders per statement. */
  chunk?: number;
  parallel?: number;
  log?: (msg: string) => void;
}

export interface OrdersFillResult {
  members: number;
  /** Orders made (about the number asked for: each member's count is drawn). */
  orders: number;
  /** Members with at least one order (all of them). */
  customers: number;
  first_order: string;
  last_order: string;
  seconds: number;
  index_seconds: number;
  vacuum_seconds: number;
  foreign_key_checks: boolean;
  database_mb: number;
}

const TABLES = ['members', 'transactions'];
const DAY = 86_400_000;

/** A uniform draw in [0, 1) from value and seed (SQL). */
const u = (value: string, seed: number) => `((hashint8extended((${value})::bigint, ${seed}) & 4503599627370495)::float8 / 4503599627370496.0)`;

export async function fillOrders(databaseUrl: string, o: OrdersFillOptions): Promise<OrdersFillResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isSafeInteger(o.members) || o.members < 1) throw new Error('fill: members must be a positive whole number');
  if (!Number.isSafeInteger(o.orders) || o.orders < 0) throw new Error('fill: orders must be a whole number');
  const chunk = o.chunk ?? 500_000;
  const salt = Math.random().toString(36).slice(2, 10);
  // Whole days, so that the history ends yesterday in any time zone.
  const histEnd = Math.floor(Date.now() / DAY) * DAY - DAY;
  const histStart = histEnd - 730 * DAY;
  const memberStart = histStart - 30 * DAY;
  const memberStep = Math.max(1, Math.floor((30 * DAY) / o.members));

  const session = await openFillSession(databaseUrl, o.parallel ?? 2, log);
  const started = process.hrtime.bigint();
  try {
    const rebuild = await session.dropIndexes(TABLES);
    const t1 = process.hrtime.bigint();
    const memberChunk = Math.max(1, Math.min(chunk, 250_000));
    await session.inParallel(memberTasks({ tenantId: o.tenantId, count: o.members, salt, prefix: 'af-', memberStart, memberStep, chunk: memberChunk }),
      (n) => log(`fill: members ${Math.min(o.members, n * memberChunk).toLocaleString('en')} / ${o.members.toLocaleString('en')} (${secondsSince(t1).toFixed(0)} s)`));

    // Member k's draws, in days: first order, alive span (to the end of the history at most), rate weight.
    const memberDraws = `SELECT k, floor(${u('k', 2)} * 700)::int AS first_day,
                                least(-ln(1 - ${u('k', 3)}) * 365, 730 - floor(${u('k', 2)} * 700)) AS alive_days,
                                -ln(1 - ${u('k', 4)}) AS rate,
                                1500 + floor(${u('k', 5)} * 6000) AS mean_total
                           FROM generate_series($1::bigint, $2::bigint) k`;
    // c: the repeat orders wanted over the sum of rate × alive span.
    const weight = Number((await session.client.query(`SELECT sum(rate * alive_days) AS w FROM (${memberDraws}) d`, [0, o.members - 1])).rows[0].w);
    const c = Math.max(0, o.orders - o.members) / weight;

    const t2 = process.hrtime.bigint();
    const tasks: Task[] = [];
    const perMember = Math.max(1, o.orders / o.members);
    const memberRange = Math.max(1, Math.floor(chunk / perMember));
    for (let k0 = 0; k0 < o.members; k0 += memberRange) {
      const k1 = Math.min(o.members, k0 + memberRange);
      tasks.push((cl) => cl.query(
        `WITH d AS (${memberDraws}),
         s AS (
           SELECT d.k, d.mean_total, j, k * 1000003 + j AS g,
                  ${histStart}::bigint
                  + (d.first_day + CASE WHEN j = 0 THEN 0 ELSE floor(${u('k * 1000003 + j', 6)} * d.alive_days) END)::bigint * ${DAY}
                  + 36000000 + floor(${u('k * 1000003 + j', 7)} * 36000000)::bigint AS ms
             FROM d, generate_series(0, floor($5::float8 * d.rate * d.alive_days + ${u('k', 8)})::int) j
         )
         INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, occurred_at, currency, total, channel, store_id, body_digest, points, source, created_at)
         SELECT $3::uuid, ${v7('ms', `md5('o' || $4::text || g)`)}, 'af-' || $4::text || '-' || k || '-' || j, 'purchase', 'recorded',
                ${memberIdSql('k', memberStart, memberStep, '$4::text')}, to_timestamp(ms / 1000.0), $6::char(3),
                greatest(100, round(mean_total * (0.4 + 1.2 * ${u('k * 1000003 + j', 9)})))::bigint,
                CASE WHEN g % 20 = 0 THEN 'online' ELSE 'store' END,
                CASE WHEN g % 20 = 0 THEN NULL ELSE 'store-' || (1 + k % 40) END,
                'fill', 0, 'import', to_timestamp(ms / 1000.0)
           FROM s`,
        [k0, k1 - 1, o.tenantId, salt, c, o.currency]));
    }
    await session.inParallel(tasks, (n) => {
      const done = Math.min(o.members, n * memberRange);
      log(`fill: orders of ${done.toLocaleString('en')} / ${o.members.toLocaleString('en')} members (${secondsSince(t2).toFixed(0)} s)`);
    });
    const indexSeconds = await rebuild();
    const vacuumSeconds = await session.vacuum(TABLES);
    const stats = (await session.client.query(
      `SELECT count(*)::int AS orders, count(DISTINCT member_id)::int AS customers, min(occurred_at) AS first, max(occurred_at) AS last FROM transactions WHERE tenant_id = $1`, [o.tenantId])).rows[0];
    return {
      members: o.members, orders: stats.orders, customers: stats.customers,
      first_order: stats.first?.toISOString() ?? '', last_order: stats.last?.toISOString() ?? '',
      seconds: secondsSince(started), index_seconds: indexSeconds, vacuum_seconds: vacuumSeconds,
      foreign_key_checks: !session.superuser, database_mb: await session.databaseMb(),
    };
  } finally {
    await session.close();
  }
}
