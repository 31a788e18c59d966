/**
 * Fills a tenant's ledger with history by SQL generation in the database (INSERT … SELECT generate_series), for
 * the benchmarks that need a big ledger: members, one purchase (transactions) per earning, its `earn` entry and
 * the lot it created, and the members' balances, consistent with each other so that every invariant of
 * src/modules/ledger/ledger.invariants.ts holds (entries sum to the balance; lots hold what the balance says;
 * one earning per purchase; no allocations since nothing was spent).
 *
 *  - Entry g (0 ≤ g < entries) belongs to member g mod members and happened at start + g·step: the members'
 *    histories interleave in time as real ones do, and ids are UUID v7 of that time (48 bits of milliseconds,
 *    then random bits from md5 of a per-fill salt and g), so entries, lots and orders are in id order.
 *  - Lots are 'active' with all their points; `expiry: 'past'` gives each an expires_at one year after it was
 *    earned, with the whole history more than a year old (so every lot is due for expiry), `'never'` none.
 *  - Not written: outbox events, audit entries and idempotency answers of that history (a real ledger's outbox is
 *    drained and pruned; those tables are not on the earning path's reads).
 *
 * For speed, chunks are inserted on two connections at once, the secondary indexes of the filled tables are dropped before and rebuilt after (from their own
 * definitions, pg_get_indexdef), and a superuser skips foreign-key triggers (session_replication_role = replica):
 * the rows are consistent by construction. Primary keys stay. A freshly built index is denser than one grown by
 * inserts, which favours the filled ledger slightly; docs/benchmarks.md says so.
 */
import pg from 'pg';
import { memberIdSql, memberTasks, openFillSession, secondsSince, v7, type Task } from './sql-fill.js';

export interface FillOptions {
  tenantId: string;
  members: number;
  /** Earn entries in all (each with its lot and its purchase). */
  entries: number;
  expiry: 'never' | 'past';
  /** Entries per statement (progress is printed per chunk). */
  chunk?: number;
  /** Connections that insert chunks at the same time (default 2). */
  parallel?: number;
  /** Member external ids are `${prefix}${k}` (k from 1). */
  externalIdPrefix?: string;
  log?: (msg: string) => void;
}

export interface FillResult {
  members: number;
  entries: number;
  /** Sum of the points given (= sum of the balances). */
  points: number;
  seconds: number;
  /** Of which rebuilding the dropped indexes. */
  index_seconds: number;
  vacuum_seconds: number;
  foreign_key_checks: boolean;
  /** Database size after, MB. */
  database_mb: number;
}

const TABLES = ['members', 'member_balances', 'ledger_entries', 'point_lots', 'transactions'];
const DAY = 86_400_000;

export async function fillLedger(databaseUrl: string, o: FillOptions): Promise<FillResult> {
  const log = o.log ?? (() => undefined);
  if (!Number.isSafeInteger(o.members) || o.members < 1) throw new Error('fill: members must be a positive whole number');
  if (!Number.isSafeInteger(o.entries) || o.entries < 0) throw new Error('fill: entries must be a whole number');
  const chunk = o.chunk ?? 500_000;
  const prefix = o.externalIdPrefix ?? 'pf-';
  const salt = Math.random().toString(36).slice(2, 10);
  const now = Date.now();
  // History: the last two years up to yesterday; with expiry 'past', from three years to just over one year ago.
  const histEnd = o.expiry === 'past' ? now - 366 * DAY - 3_600_000 : now - DAY;
  const histStart = histEnd - 2 * 365 * DAY;
  const step = o.entries > 0 ? Math.max(1, Math.floor((histEnd - histStart) / o.entries)) : 1;
  // Members enrolled before their first order: spread over the month before the history starts.
  const memberStart = histStart - 30 * DAY;
  const memberStep = Math.max(1, Math.floor((30 * DAY) / o.members));

  const session = await openFillSession(databaseUrl, o.parallel ?? 2, log);
  const { client } = session;
  const started = process.hrtime.bigint();
  try {
    const rebuild = await session.dropIndexes(TABLES);
    const P = { tenant: '$1::uuid', salt: '$2::text' };
    const memberId = (k: string) => memberIdSql(k, memberStart, memberStep, P.salt);

    // 1. Members.
    const t1 = process.hrtime.bigint();
    const memberChunk = Math.max(1, Math.min(chunk, 250_000));
    await session.inParallel(memberTasks({ tenantId: o.tenantId, count: o.members, salt, prefix, memberStart, memberStep, chunk: memberChunk }),
      (n) => log(`fill: members ${Math.min(o.members, n * memberChunk).toLocaleString('en')} / ${o.members.toLocaleString('en')} (${secondsSince(t1).toFixed(0)} s)`));

    // 2. Purchases, their earn entries and lots, in time order, one statement per chunk.
    const t2 = process.hrtime.bigint();
    const expires = o.expiry === 'past' ? `ts + interval '365 days'` : 'NULL::timestamptz';
    const entryTasks: Task[] = [];
    for (let g0 = 0; g0 < o.entries; g0 += chunk) {
      const g1 = Math.min(o.entries, g0 + chunk);
      entryTasks.push((c) => c.query(
        `WITH s AS MATERIALIZED (
           SELECT g, ${memberId(`g % ${o.members}`)} AS member_id,
                  ${v7(`${histStart} + g * ${step}`, `md5('t' || ${P.salt} || g)`)} AS tid,
                  ${v7(`${histStart} + g * ${step}`, `md5('e' || ${P.salt} || g)`)} AS eid,
                  ${v7(`${histStart} + g * ${step}`, `md5('l' || ${P.salt} || g)`)} AS lid,
                  to_timestamp((${histStart} + g * ${step}) / 1000.0) AS ts,
                  (1 + (g * 7919 + 13) % 150)::bigint AS points
             FROM generate_series($3::bigint, $4::bigint) g
         ), s2 AS (
           SELECT s.*, points * 100 + g % 100 AS total, ${expires} AS expires_at FROM s
         ), t AS (
           INSERT INTO transactions (tenant_id, id, external_id, type, status, member_id, occurred_at, currency, total, lines, channel, body_digest, points, earning, source, created_at)
           SELECT ${P.tenant}, tid, 'fill-' || ${P.salt} || '-' || g, 'purchase', 'recorded', member_id, ts, 'EUR', total,
                  jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 997), 'category', (ARRAY['coffee','tea','gear','snacks'])[1 + g % 4], 'quantity', 1, 'unit_price', total)),
                  'store', 'fill', points,
                  jsonb_build_object('points', points, 'kept_points', points, 'eligible_amount', total, 'not_earned_reason', NULL, 'activates_at', NULL,
                                     'expires_at', expires_at, 'explanation', '[]'::jsonb, 'rules', '{}'::jsonb),
                  'api', ts
             FROM s2
         ), e AS (
           INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at)
           SELECT ${P.tenant}, eid, member_id, 'earn', points, 0, 'order fill-' || ${P.salt} || '-' || g, 'transaction', tid::text, tid, NULL, '{"rules": []}'::jsonb, ts, ts
             FROM s2
         )
         INSERT INTO point_lots (tenant_id, id, member_id, entry_id, transaction_id, amount, remaining, state, earned_at, activates_at, expires_at)
         SELECT ${P.tenant}, lid, member_id, eid, tid, points, points, 'active', ts, NULL, expires_at FROM s2`,
        [o.tenantId, salt, g0, g1 - 1]));
    }
    await session.inParallel(entryTasks, (n) => {
      const rows = Math.min(o.entries, n * chunk);
      const sec = secondsSince(t2);
      log(`fill: entries, lots and orders ${rows.toLocaleString('en')} / ${o.entries.toLocaleString('en')} (${sec.toFixed(0)} s, ${Math.round(rows / sec).toLocaleString('en')} /s)`);
    });

    // 3. Balances: the sums of each member's entries (members without entries have no balance row, as in Patron).
    const t3 = process.hrtime.bigint();
    const bal = await client.query<{ points: string }>(
      `WITH ins AS (
         INSERT INTO member_balances (tenant_id, member_id, available, pending, held, lifetime_earned, redeemed, expired, debt, last_activity_at, updated_at)
         SELECT $1::uuid, member_id, sum(points), 0, 0, sum(points), 0, 0, 0, max(created_at), max(created_at)
           FROM ledger_entries WHERE tenant_id = $1 AND reason LIKE 'order fill-' || $2::text || '-%' GROUP BY member_id
         RETURNING available
       ) SELECT coalesce(sum(available), 0)::text AS points FROM ins`, [o.tenantId, salt]);
    log(`fill: balances (${secondsSince(t3).toFixed(0)} s); rebuilding the indexes…`);

    // 4. The indexes, as they were.
    const indexSeconds = await rebuild();
    const vacuumSeconds = await session.vacuum(TABLES);
    return {
      members: o.members, entries: o.entries, points: Number(bal.rows[0]!.points), seconds: secondsSince(started),
      index_seconds: indexSeconds, vacuum_seconds: vacuumSeconds, foreign_key_checks: !session.superuser, database_mb: await session.databaseMb(),
    };
  } finally {
    await session.close();
  }
}

/** The ids of the members a fill made (external ids `${prefix}…`), for a load generator to draw from. */
export async function filledMemberIds(databaseUrl: string, tenantId: string, prefix = 'pf-'): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const res = await client.query<{ id: string }>(
      `SELECT id FROM members WHERE tenant_id = $1 AND external_id LIKE $2 || '%'`, [tenantId, prefix.replace(/[\\%_]/g, '\\$&')]);
    return res.rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}
