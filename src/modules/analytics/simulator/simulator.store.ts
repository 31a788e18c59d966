/**
 * SQL of the what-if simulator: its own table (analytics_simulations), and the read-only, set-based reads of the
 * tables it replays — orders (transactions), members, tier history, the ledger's lots, allocations and entries. The
 * analytics module reads other modules' tables this way and never writes them (docs/architecture.md).
 */
import type { Db, Queryable } from '../../../platform/db/db.js';
import type { Metric } from '../../tiers/tiers.policy.js';
import { MONTH_MS } from './simulator.js';
import type { MemberStart, OpeningFigure, SimOrder } from './simulator.types.js';

export type SimulationStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface SimulationRow {
  id: string;
  status: SimulationStatus;
  /** The request: `{months, draft}`. */
  draft: { months: number; draft: Record<string, unknown> };
  /** YYYY-MM-DD, tenant time zone, both included. */
  period_from: string;
  period_to: string;
  progress: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const COLS = `id, status, draft, to_char(period_from, 'YYYY-MM-DD') AS period_from, to_char(period_to, 'YYYY-MM-DD') AS period_to,
  progress, result, error, created_at, started_at, finished_at`;

// ── analytics_simulations ───────────────────────────────────────────────────────

export async function insertSimulation(q: Queryable, tenantId: string, s: Pick<SimulationRow, 'id' | 'draft' | 'period_from' | 'period_to' | 'progress' | 'created_at'>): Promise<SimulationRow> {
  const res = await q.query<SimulationRow>(
    `INSERT INTO analytics_simulations (tenant_id, id, status, draft, period_from, period_to, progress, created_at)
     VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7)
     RETURNING ${COLS}`,
    [tenantId, s.id, JSON.stringify(s.draft), s.period_from, s.period_to, JSON.stringify(s.progress), s.created_at],
  );
  return res.rows[0]!;
}

export async function getSimulation(q: Queryable, tenantId: string, id: string): Promise<SimulationRow | null> {
  const res = await q.query<SimulationRow>(`SELECT ${COLS} FROM analytics_simulations WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Newest first (ids are UUID v7), before the id `beforeId`. */
export async function listSimulations(q: Queryable, tenantId: string, beforeId: string | undefined, limit: number): Promise<SimulationRow[]> {
  const res = await q.query<SimulationRow>(
    `SELECT ${COLS} FROM analytics_simulations WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [tenantId, beforeId ?? null, limit],
  );
  return res.rows;
}

/**
 * Takes a queued simulation (or one left running since before `staleBefore` by a process that died) for this run:
 * null when another run has it or it is done, so a job delivered twice replays once.
 */
export async function claimSimulation(q: Queryable, tenantId: string, id: string, now: Date, staleBefore: Date): Promise<SimulationRow | null> {
  const res = await q.query<SimulationRow>(
    `UPDATE analytics_simulations
        SET status = 'running', started_at = $3, progress = '{"phase": "loading"}', error = NULL
      WHERE tenant_id = $1 AND id = $2 AND (status = 'queued' OR (status = 'running' AND started_at < $4))
      RETURNING ${COLS}`,
    [tenantId, id, now, staleBefore],
  );
  return res.rows[0] ?? null;
}

export async function saveProgress(q: Queryable, tenantId: string, id: string, progress: Record<string, unknown>): Promise<void> {
  await q.query(`UPDATE analytics_simulations SET progress = $3 WHERE tenant_id = $1 AND id = $2 AND status = 'running'`, [tenantId, id, JSON.stringify(progress)]);
}

export async function finishSimulation(
  q: Queryable, tenantId: string, id: string, f: { status: 'succeeded' | 'failed'; progress: Record<string, unknown>; result: unknown; error: string | null; at: Date },
): Promise<void> {
  await q.query(
    `UPDATE analytics_simulations SET status = $3, progress = $4, result = $5, error = $6, finished_at = $7 WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, f.status, JSON.stringify(f.progress), f.result === null ? null : JSON.stringify(f.result), f.error, f.at],
  );
}

// ── What is replayed (read only) ──────────────────────────────────────────────

/** Members' recorded orders in [from, to). */
const WINDOW_ORDERS = `t.tenant_id = $1 AND t.member_id IS NOT NULL AND t.status = 'recorded' AND t.occurred_at >= $2 AND t.occurred_at < $3`;

export async function countOrders(q: Queryable, tenantId: string, from: Date, to: Date): Promise<number> {
  const res = await q.query(`SELECT count(*)::int AS n FROM transactions t WHERE ${WINDOW_ORDERS}`, [tenantId, from, to]);
  return res.rows[0].n;
}

interface OrderRow {
  id: string;
  cursor_at: string;
  type: 'purchase' | 'return';
  member_id: string;
  original_id: string | null;
  occurred_at: Date;
  currency: string;
  total: number;
  lines: SimOrder['lines'];
  channel: string | null;
  store_id: string | null;
  payments: SimOrder['payments'];
  points: number;
  returned_total: number;
  not_earned_reason: string | null;
  expires_at: string | null;
  attributes: Record<string, unknown> | null;
  returns: number;
}

const NOT_EARNING = new Set(['member_blocked', 'member_erased']);

/** Where a page of orders ends: the last order's occurred_at exactly as stored (microseconds, which a Date drops) and id. */
export interface OrderCursor {
  at: string;
  id: string;
}

/**
 * The window's orders after `after` (occurred_at, id), oldest first: a keyset page, which starts where the index on
 * (tenant_id, occurred_at) says. A purchase carries how many of its recorded returns fall in the window (so the replay
 * knows when its lots are final), and what it earned then.
 */
export async function ordersAfter(q: Queryable, tenantId: string, from: Date, to: Date, after: OrderCursor | null, limit: number): Promise<{ orders: SimOrder[]; next: OrderCursor | null }> {
  const res = await q.query<OrderRow>(
    `SELECT t.id, t.occurred_at::text AS cursor_at, t.type, t.member_id, t.original_id, t.occurred_at, t.currency, t.total, t.lines, t.channel, t.store_id, t.payments,
            t.points, t.returned_total, t.earning->>'not_earned_reason' AS not_earned_reason, t.earning->>'expires_at' AS expires_at,
            t.earning->'context'->'attributes' AS attributes,
            CASE WHEN t.type = 'purchase' THEN (
              SELECT count(*)::int FROM transactions r
               WHERE r.tenant_id = $1 AND r.original_id = t.id AND r.type = 'return' AND r.status = 'recorded' AND r.occurred_at >= $2 AND r.occurred_at < $3
            ) ELSE 0 END AS returns
       FROM transactions t
      WHERE ${WINDOW_ORDERS}
        AND ($4::timestamptz IS NULL OR (t.occurred_at >= $4::timestamptz AND (t.occurred_at > $4::timestamptz OR t.id > $5::uuid)))
      ORDER BY t.occurred_at, t.id
      LIMIT $6`,
    [tenantId, from, to, after?.at ?? null, after?.id ?? null, limit],
  );
  const last = res.rows[res.rows.length - 1];
  const orders = res.rows.map((r): SimOrder => ({
    id: r.id, type: r.type, member_id: r.member_id, occurred_at: r.occurred_at, currency: r.currency, total: r.total, lines: r.lines,
    channel: r.channel, store_id: r.store_id, payments: r.payments, original_id: r.original_id, returned_total: r.returned_total, returns: r.returns,
    earns: !NOT_EARNING.has(r.not_earned_reason ?? ''), attributes: r.attributes,
    // A return's points are negative: what it clawed back.
    actual_points: r.type === 'purchase' ? Math.max(0, r.points) : Math.max(0, -r.points),
    actual_expires_at: r.expires_at ? new Date(r.expires_at) : null,
  }));
  return { orders, next: last ? { at: last.cursor_at, id: last.id } : null };
}

/** The members the window concerns: who bought in it, and (when tiers matter) who has a tier state. */
const POPULATION = `pop AS (
    SELECT DISTINCT t.member_id FROM transactions t WHERE ${WINDOW_ORDERS} AND t.type = 'purchase'
    UNION
    SELECT mt.member_id FROM member_tiers mt WHERE mt.tenant_id = $1 AND $4::boolean
  )`;

async function* rowsOf<T>(db: Db, sql: string, values: unknown[]): AsyncGenerator<T> {
  const stream = await db.stream(sql, values, 2000);
  try {
    for await (const row of stream) yield row as T;
  } finally {
    stream.destroy();
  }
}

/**
 * What the replay knows of each member of the window before it starts: attributes, whether they bought before, and
 * the tier they held at `from` (their last tier change before it; tier history keeps every move). Streamed.
 */
export async function* memberStarts(db: Db, tenantId: string, from: Date, to: Date, withTiers: boolean): AsyncGenerator<MemberStart> {
  const sql = `WITH ${POPULATION}
    SELECT p.member_id, m.attributes, m.status,
           EXISTS (SELECT 1 FROM transactions b
                    WHERE b.tenant_id = $1 AND b.member_id = p.member_id AND b.type = 'purchase' AND b.status = 'recorded' AND b.occurred_at < $2) AS purchased_before,
           h.to_tier_id, h.source, h.at
      FROM pop p
      JOIN members m ON m.tenant_id = $1 AND m.id = p.member_id
      LEFT JOIN LATERAL (
        SELECT th.to_tier_id, th.source, th.at FROM tier_history th
         WHERE $4::boolean AND th.tenant_id = $1 AND th.member_id = p.member_id AND th.at < $2
           AND th.reason NOT IN ('downgrade_scheduled', 'downgrade_cancelled')
         ORDER BY th.at DESC, th.id DESC LIMIT 1
      ) h ON true`;
  for await (const r of rowsOf<any>(db, sql, [tenantId, from, to, withTiers])) {
    yield {
      member_id: r.member_id, attributes: r.attributes ?? {}, purchased_before: r.purchased_before, counted: r.status !== 'erased',
      held: r.at ? { tier_id: r.to_tier_id, source: r.source, since: r.at } : null,
    };
  }
}

/** The tier figure's formula of each metric over the ledger or the orders (as Ledger.qualifyingPoints and TransactionsService.qualifyingSpend). */
const FIGURES: Record<Metric, { table: string; alias: string; where: string; amount: string }> = {
  points: {
    table: 'ledger_entries', alias: 'e',
    where: `(e.type IN ('earn', 'activate', 'claw_back', 'reverse') OR (e.type = 'adjust' AND e.points > 0))`,
    amount: `sum(e.points - e.pending_points - CASE WHEN e.type IN ('claw_back', 'reverse') AND e.details->>'policy' = 'debt'
                                                  THEN coalesce((e.details->>'shortfall')::bigint, 0) ELSE 0 END)`,
  },
  spend: { table: 'transactions', alias: 'e', where: `e.type = 'purchase' AND e.status = 'recorded'`, amount: 'sum(e.total - e.returned_total)' },
  purchases: { table: 'transactions', alias: 'e', where: `e.type = 'purchase' AND e.status = 'recorded'`, amount: 'count(*) FILTER (WHERE e.total > e.returned_total)' },
};

/**
 * The members' figures before `from`, as they happened: per member and local day from `lookback` on (rolling and
 * calendar-year windows drop them as time passes), and everything older in one sum when a lifetime window needs it
 * (`before`). Each at the first instant it happened that day. Streamed.
 */
export async function* openingFigures(
  db: Db, tenantId: string, metric: Metric, from: Date, to: Date, withTiers: boolean, lookback: Date, before: boolean, timeZone: string,
): AsyncGenerator<OpeningFigure> {
  const f = FIGURES[metric];
  const sql = `WITH ${POPULATION}
    SELECT e.member_id, min(e.occurred_at) AS at, (${f.amount})::bigint AS amount
      FROM ${f.table} e
     WHERE e.tenant_id = $1 AND e.member_id IN (SELECT member_id FROM pop) AND ${f.where}
       AND e.occurred_at < $2 AND (e.occurred_at >= $5 OR $6::boolean)
     GROUP BY e.member_id, CASE WHEN e.occurred_at < $5 THEN NULL ELSE (e.occurred_at AT TIME ZONE $7)::date END`;
  for await (const r of rowsOf<any>(db, sql, [tenantId, from, to, withTiers, lookback, before, timeZone])) {
    if (Number(r.amount) !== 0) yield { member_id: r.member_id, metric, at: r.at, amount: Number(r.amount) };
  }
}

/**
 * What the redemption curve is estimated from, as of `asOf`: the points of the lots earned in the `months` before it
 * by their age in whole months then (at most `maxAge`), the points redeemed from them (redemptions net of
 * cancellations) by the lot's age then and at the redemption, and the points redeemed and issued (earned) over the
 * last 12 months.
 */
export async function redemptionData(q: Queryable, tenantId: string, asOf: Date, since: Date, yearAgo: Date, maxAge: number) {
  const monthSeconds = MONTH_MS / 1000;
  const issued = await q.query<{ full_age: number; amount: number }>(
    `SELECT LEAST(floor(extract(epoch FROM ($2::timestamptz - l.earned_at)) / $4)::int, $5) AS full_age, sum(l.amount)::bigint AS amount
       FROM point_lots l
      WHERE l.tenant_id = $1 AND l.earned_at >= $3 AND l.earned_at < $2
      GROUP BY 1`,
    [tenantId, asOf, since, monthSeconds, maxAge],
  );
  const redeemed = await q.query<{ full_age: number; age: number; points: number }>(
    `SELECT LEAST(floor(extract(epoch FROM ($2::timestamptz - l.earned_at)) / $4)::int, $5) AS full_age,
            GREATEST(0, floor(extract(epoch FROM (e.occurred_at - l.earned_at)) / $4)::int) AS age, sum(a.points)::bigint AS points
       FROM lot_allocations a
       JOIN ledger_entries e ON e.tenant_id = a.tenant_id AND e.id = a.entry_id
       JOIN point_lots l ON l.tenant_id = a.tenant_id AND l.id = a.lot_id
      WHERE a.tenant_id = $1 AND a.entry_id IS NOT NULL AND e.type IN ('redeem', 'redemption_cancel')
        AND l.earned_at >= $3 AND l.earned_at < $2 AND e.occurred_at < $2
      GROUP BY 1, 2`,
    [tenantId, asOf, since, monthSeconds, maxAge],
  );
  const flat = await q.query<{ redeemed: number; issued: number }>(
    `SELECT coalesce(-sum(points) FILTER (WHERE type IN ('redeem', 'redemption_cancel')), 0)::bigint AS redeemed,
            coalesce(sum(points) FILTER (WHERE type = 'earn'), 0)::bigint AS issued
       FROM ledger_entries
      WHERE tenant_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
    [tenantId, yearAgo, asOf],
  );
  return { issued: issued.rows, redeemed: redeemed.rows, flat: flat.rows[0]! };
}

/** Members counted in members per tier (not erased). */
export async function countMembers(q: Queryable, tenantId: string): Promise<number> {
  const res = await q.query(`SELECT count(*)::int AS n FROM members WHERE tenant_id = $1 AND status <> 'erased'`, [tenantId]);
  return res.rows[0].n;
}

/** The tiers members hold now (members with a tier state; the others hold the base tier), not erased. */
export async function tiersHeldNow(q: Queryable, tenantId: string): Promise<Array<{ tier_id: string | null; members: number }>> {
  const res = await q.query<{ tier_id: string | null; members: number }>(
    `SELECT mt.tier_id, count(*)::int AS members
       FROM member_tiers mt JOIN members m ON m.tenant_id = mt.tenant_id AND m.id = mt.member_id
      WHERE mt.tenant_id = $1 AND m.status <> 'erased'
      GROUP BY mt.tier_id`,
    [tenantId],
  );
  return res.rows;
}
