/**
 * SQL for member_balances, ledger_entries, point_lots, lot_allocations and holds. The ledger service is the only
 * caller; every write here runs with the member's balance row locked (lockBalance) except the batch jobs, which
 * lock their members first.
 */
import { prepared, type Queryable } from '../../platform/db/db.js';
import { newId } from '../../platform/ids.js';

export interface BalanceRow {
  member_id: string;
  available: number;
  pending: number;
  held: number;
  lifetime_earned: number;
  redeemed: number;
  expired: number;
  debt: number;
  last_activity_at: Date | null;
  updated_at: Date;
}

export type EntryType = 'earn' | 'activate' | 'redeem' | 'redemption_cancel' | 'expire' | 'adjust' | 'claw_back' | 'reverse' | 'debt_repay';
/** What may cause a ledger entry: one list for the type and the HTTP schema's enum. */
export const SOURCE_TYPES = ['transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system', 'reward', 'stamp_card', 'referral', 'achievement', 'tier', 'case'] as const;
export type SourceType = (typeof SOURCE_TYPES)[number];
export type LotState = 'pending' | 'active' | 'spent' | 'expired' | 'cancelled';

export interface EntryRow {
  id: string;
  member_id: string;
  type: EntryType;
  points: number;
  pending_points: number;
  reason: string | null;
  source_type: SourceType;
  source_id: string | null;
  transaction_id: string | null;
  actor: string | null;
  details: Record<string, unknown> | null;
  occurred_at: Date;
  created_at: Date;
}

export interface LotRow {
  id: string;
  member_id: string;
  entry_id: string;
  transaction_id: string | null;
  amount: number;
  remaining: number;
  state: LotState;
  earned_at: Date;
  activates_at: Date | null;
  expires_at: Date | null;
}

export interface HoldRow {
  id: string;
  member_id: string;
  points: number;
  order_ref: string | null;
  status: 'held' | 'captured' | 'released' | 'expired';
  expires_at: Date;
  captured_points: number | null;
  redemption_id: string | null;
  created_at: Date;
  closed_at: Date | null;
}

const BALANCE_COLS = 'member_id, available, pending, held, lifetime_earned, redeemed, expired, debt, last_activity_at, updated_at';
const ENTRY_COLS = 'id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at';
const LOT_COLS = 'id, member_id, entry_id, transaction_id, amount, remaining, state, earned_at, activates_at, expires_at';
const HOLD_COLS = 'id, member_id, points, order_ref, status, expires_at, captured_points, redemption_id, created_at, closed_at';

/** The outbox event each entry type emits. */
export const ENTRY_EVENT: Record<EntryType, string> = {
  earn: 'points.earned',
  activate: 'points.activated',
  redeem: 'points.redeemed',
  redemption_cancel: 'points.restored',
  expire: 'points.expired',
  adjust: 'points.adjusted',
  claw_back: 'points.clawed_back',
  reverse: 'points.reversed',
  debt_repay: 'points.debt_repaid',
};

// ── Balances ────────────────────────────────────────────────────────────────

/**
 * Locks the member's balance row (creating it on first use) and returns it. Every change to a member's points takes
 * this lock first, so two writes for one member run one after the other; a write touches one member, so two writes
 * never wait on each other in opposite orders (no deadlock).
 */
const LOCK_BALANCE = prepared('ledger.lock_balance', `SELECT ${BALANCE_COLS} FROM member_balances WHERE tenant_id = $1 AND member_id = $2 FOR UPDATE`);

export async function lockBalance(db: Queryable, tenantId: string, memberId: string, now: Date): Promise<BalanceRow> {
  const sel = LOCK_BALANCE;
  const found = await db.query<BalanceRow>(sel, [tenantId, memberId]);
  if (found.rows[0]) return found.rows[0];
  await db.query(
    `INSERT INTO member_balances (tenant_id, member_id, updated_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    [tenantId, memberId, now],
  );
  return (await db.query<BalanceRow>(sel, [tenantId, memberId])).rows[0]!;
}

/** Locks several members' balance rows in member-id order (the batch jobs). Rows must exist. */
export async function lockBalances(db: Queryable, tenantId: string, memberIds: string[]): Promise<BalanceRow[]> {
  const res = await db.query<BalanceRow>(
    `SELECT ${BALANCE_COLS} FROM member_balances WHERE tenant_id = $1 AND member_id = ANY($2::uuid[]) ORDER BY member_id FOR UPDATE`,
    [tenantId, memberIds],
  );
  return res.rows;
}

export async function getBalance(db: Queryable, tenantId: string, memberId: string): Promise<BalanceRow | null> {
  const res = await db.query<BalanceRow>(`SELECT ${BALANCE_COLS} FROM member_balances WHERE tenant_id = $1 AND member_id = $2`, [tenantId, memberId]);
  return res.rows[0] ?? null;
}

const SAVE_BALANCE = prepared('ledger.save_balance', `UPDATE member_balances
        SET available = $3, pending = $4, held = $5, lifetime_earned = $6, redeemed = $7, expired = $8, debt = $9,
            last_activity_at = $10, updated_at = $11
      WHERE tenant_id = $1 AND member_id = $2`);

export async function saveBalance(db: Queryable, tenantId: string, b: BalanceRow): Promise<void> {
  await db.query(
    SAVE_BALANCE,
    [tenantId, b.member_id, b.available, b.pending, b.held, b.lifetime_earned, b.redeemed, b.expired, b.debt, b.last_activity_at, b.updated_at],
  );
}

// ── Entries ─────────────────────────────────────────────────────────────────

export type NewEntry = Omit<EntryRow, 'id'> & { id?: string };

export interface NewLot {
  id: string;
  amount: number;
  state: LotState;
  activates_at: Date | null;
  expires_at: Date | null;
}

/** Payload of the outbox event of an entry: ids and numbers, nothing personal. */
function eventPayload(e: NewEntry & { id: string }, balance: BalanceRow | null): Record<string, unknown> {
  return {
    entry_id: e.id, member_id: e.member_id, type: e.type, points: e.points, pending_points: e.pending_points,
    reason: e.reason, source_type: e.source_type, source_id: e.source_id, transaction_id: e.transaction_id,
    ...(balance ? { balance: { available: balance.available, pending: balance.pending, held: balance.held } } : {}),
  };
}

/**
 * Inserts an entry and its outbox event in one statement; when `lot` is given, the lot it creates too (an earning);
 * with `saveBalance`, the balance row too (one round trip for the common write). `balanceAfter` also goes into the
 * event so a webhook consumer sees the new balance without asking.
 */
export async function insertEntry(
  db: Queryable, tenantId: string, e: NewEntry,
  opts: { lot?: NewLot; balanceAfter?: BalanceRow; saveBalance?: boolean } = {},
): Promise<EntryRow> {
  const id = e.id ?? newId();
  const lot = opts.lot;
  const res = await db.query<EntryRow>(
    INSERT_ENTRY,
    [tenantId, id, e.member_id, e.type, e.points, e.pending_points, e.reason, e.source_type, e.source_id, e.transaction_id,
      e.actor, e.details === null ? null : JSON.stringify(e.details), e.occurred_at, e.created_at,
      lot?.id ?? null, lot?.amount ?? null, lot?.state ?? null, lot?.activates_at ?? null, lot?.expires_at ?? null,
      newId(), ENTRY_EVENT[e.type], JSON.stringify(eventPayload({ ...e, id }, opts.balanceAfter ?? null)),
      opts.saveBalance && opts.balanceAfter ? JSON.stringify(opts.balanceAfter) : null],
  );
  return res.rows[0]!;
}

const INSERT_ENTRY = prepared('ledger.insert_entry', `WITH entry AS (
       INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       RETURNING ${ENTRY_COLS}
     ), lot AS (
       INSERT INTO point_lots (tenant_id, id, member_id, entry_id, transaction_id, amount, remaining, state, earned_at, activates_at, expires_at)
       SELECT $1, $15, $3, $2, $10, $16, $16, $17, $13, $18, $19 WHERE $15::uuid IS NOT NULL
     ), event AS (
       INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
       VALUES ($1, $20, $21, 'member', $3, $3, $22, $14)
     ), balance AS (
       UPDATE member_balances
          SET available = b.available, pending = b.pending, held = b.held, lifetime_earned = b.lifetime_earned,
              redeemed = b.redeemed, expired = b.expired, debt = b.debt, last_activity_at = b.last_activity_at, updated_at = b.updated_at
         FROM json_populate_record(NULL::member_balances, $23::json) AS b
        WHERE $23::json IS NOT NULL AND member_balances.tenant_id = $1 AND member_balances.member_id = $3
     )
     SELECT * FROM entry`);

/** Many entries and their events in one statement (the batch jobs). */
export async function insertEntries(db: Queryable, tenantId: string, entries: Array<NewEntry & { id: string }>, balances: Map<string, BalanceRow>): Promise<void> {
  if (entries.length === 0) return;
  await db.query(
    `WITH e AS (
       SELECT * FROM json_to_recordset($2::json) AS x(id uuid, member_id uuid, type text, points bigint, pending_points bigint, reason text,
              source_type text, source_id text, transaction_id uuid, actor text, details jsonb, occurred_at timestamptz, created_at timestamptz,
              event_id uuid, event_type text, payload jsonb)
     ), ins AS (
       INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at)
       SELECT $1, id, member_id, type, points, pending_points, reason, source_type, source_id, transaction_id, actor, details, occurred_at, created_at FROM e
     )
     INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
     SELECT $1, event_id, event_type, 'member', member_id::text, member_id, payload, created_at FROM e`,
    [tenantId, JSON.stringify(entries.map((e) => ({
      ...e, event_id: newId(), event_type: ENTRY_EVENT[e.type], payload: eventPayload(e, balances.get(e.member_id) ?? null),
    })))],
  );
}

export interface EntryFilter {
  types?: EntryType[];
  from?: Date;
  to?: Date;
  afterId?: string;
  limit: number;
}

export async function listEntries(db: Queryable, tenantId: string, memberId: string, f: EntryFilter): Promise<EntryRow[]> {
  const res = await db.query<EntryRow>(
    `SELECT ${ENTRY_COLS} FROM ledger_entries
      WHERE tenant_id = $1 AND member_id = $2
        AND ($3::text[] IS NULL OR type = ANY($3))
        AND ($4::timestamptz IS NULL OR created_at >= $4)
        AND ($5::timestamptz IS NULL OR created_at < $5)
        AND ($6::uuid IS NULL OR id < $6)
      ORDER BY id DESC
      LIMIT $7`,
    [tenantId, memberId, f.types ?? null, f.from ?? null, f.to ?? null, f.afterId ?? null, f.limit],
  );
  return res.rows;
}

/**
 * Per member among `memberIds`: the points earned with business time in [from, to), net of what claw-backs and
 * reversals took back (leaderboards). Adjustments are not earnings.
 */
export async function earnedBetween(db: Queryable, tenantId: string, memberIds: string[], from: Date, to: Date): Promise<Map<string, number>> {
  if (memberIds.length === 0) return new Map();
  const res = await db.query<{ member_id: string; points: number }>(
    `SELECT member_id, sum(points)::float8 AS points FROM ledger_entries
      WHERE tenant_id = $1 AND member_id = ANY($2::uuid[]) AND type IN ('earn', 'claw_back', 'reverse')
        AND occurred_at >= $3 AND occurred_at < $4
      GROUP BY member_id`,
    [tenantId, memberIds, from, to],
  );
  return new Map(res.rows.map((r) => [r.member_id, r.points]));
}

// ── Lots and allocations ────────────────────────────────────────────────────

export interface Taken {
  lot_id: string;
  points: number;
  /** The lot's state before: 'pending' or 'active'. */
  state: 'pending' | 'active';
}

/**
 * Takes up to `points` from the member's lots in spending order and records the allocations to `entryId` or
 * `holdId`, in one statement: only the lots of `transactionId` when given; pending before active, then oldest
 * expiry first (no expiry last), then oldest earned. A pending lot emptied this way is 'cancelled' (its points
 * never became spendable).
 */
export async function takeFromLots(
  db: Queryable, tenantId: string, memberId: string, points: number,
  opts: { entryId?: string; holdId?: string; states: Array<'pending' | 'active'>; transactionId?: string | null; now: Date },
): Promise<Taken[]> {
  if (points <= 0) return [];
  const res = await db.query<Taken>(
    TAKE_FROM_LOTS,
    [tenantId, memberId, points, opts.transactionId ?? null, opts.states,
      opts.entryId ?? null, opts.holdId ?? null, opts.now],
  );
  return res.rows;
}

const TAKE_FROM_LOTS = prepared('ledger.take_from_lots', `WITH candidates AS (
       SELECT id, remaining, state,
              sum(remaining) OVER (ORDER BY (state = 'pending') DESC, expires_at ASC NULLS LAST, earned_at, id
                                   ROWS UNBOUNDED PRECEDING) AS running
         FROM point_lots
        WHERE tenant_id = $1 AND member_id = $2 AND remaining > 0 AND state = ANY($5::text[])
          AND ($4::uuid IS NULL OR transaction_id = $4::uuid)
     ), picked AS (
       SELECT id, state, LEAST(remaining, $3 - (running - remaining)) AS take FROM candidates WHERE running - remaining < $3
     ), updated AS (
       UPDATE point_lots l
          SET remaining = l.remaining - p.take,
              state = CASE WHEN l.remaining - p.take > 0 THEN l.state WHEN l.state = 'pending' THEN 'cancelled' ELSE 'spent' END
         FROM picked p
        WHERE l.tenant_id = $1 AND l.id = p.id
       RETURNING l.id AS lot_id, p.take AS points, p.state
     ), alloc AS (
       INSERT INTO lot_allocations (tenant_id, lot_id, member_id, entry_id, hold_id, points, created_at)
       SELECT $1, lot_id, $2, $6, $7, points, $8 FROM updated
     )
     SELECT lot_id, points::bigint AS points, state FROM updated`);

/** What an entry or hold currently holds per lot (its allocations net of returns), with the lots' expiry. */
export async function allocationsOf(db: Queryable, tenantId: string, of: { entryId?: string; holdId?: string }): Promise<Array<{ lot_id: string; points: number; expires_at: Date | null; state: LotState }>> {
  const res = await db.query(
    `SELECT a.lot_id, sum(a.points)::bigint AS points, l.expires_at, l.state
       FROM lot_allocations a JOIN point_lots l ON l.tenant_id = a.tenant_id AND l.id = a.lot_id
      WHERE a.tenant_id = $1 AND ${of.entryId ? 'a.entry_id = $2' : 'a.hold_id = $2'}
      GROUP BY a.lot_id, l.expires_at, l.state, l.earned_at
     HAVING sum(a.points) > 0
      ORDER BY l.expires_at ASC NULLS LAST, l.earned_at, a.lot_id`,
    [tenantId, of.entryId ?? of.holdId],
  );
  return res.rows;
}

/**
 * Gives points back to lots: a negative allocation against the entry or hold that had them, the lot's remaining
 * raised and the lot active again (the caller expires at once what went back to a lot past its expiry).
 */
export async function returnToLots(db: Queryable, tenantId: string, memberId: string, parts: Array<{ lot_id: string; points: number }>, from: { entryId?: string; holdId?: string }, now: Date): Promise<void> {
  if (parts.length === 0) return;
  await db.query(
    `WITH p AS (SELECT * FROM unnest($3::uuid[], $4::bigint[]) AS p(lot_id, points)),
     upd AS (
       UPDATE point_lots l SET remaining = l.remaining + p.points, state = 'active'
         FROM p WHERE l.tenant_id = $1 AND l.id = p.lot_id
     )
     INSERT INTO lot_allocations (tenant_id, lot_id, member_id, entry_id, hold_id, points, created_at)
     SELECT $1, lot_id, $2, $5, $6, -points, $7 FROM p`,
    [tenantId, memberId, parts.map((p) => p.lot_id), parts.map((p) => p.points), from.entryId ?? null, from.holdId ?? null, now],
  );
}

/** Records allocations to an entry without touching lots' remaining (a hold's lots passing to its capture). */
export async function allocate(db: Queryable, tenantId: string, memberId: string, parts: Array<{ lot_id: string; points: number }>, to: { entryId?: string; holdId?: string }, now: Date): Promise<void> {
  if (parts.length === 0) return;
  await db.query(
    `INSERT INTO lot_allocations (tenant_id, lot_id, member_id, entry_id, hold_id, points, created_at)
     SELECT $1, lot_id, $2, $5, $6, points, $7 FROM unnest($3::uuid[], $4::bigint[]) AS p(lot_id, points)`,
    [tenantId, memberId, parts.map((p) => p.lot_id), parts.map((p) => p.points), to.entryId ?? null, to.holdId ?? null, now],
  );
}

export async function lotsOfTransaction(db: Queryable, tenantId: string, transactionId: string): Promise<LotRow[]> {
  const res = await db.query<LotRow>(`SELECT ${LOT_COLS} FROM point_lots WHERE tenant_id = $1 AND transaction_id = $2 ORDER BY id`, [tenantId, transactionId]);
  return res.rows;
}

/** Active lots with points left, oldest first (what the inactivity policy would expire). */
export async function activeLots(db: Queryable, tenantId: string, memberId: string): Promise<LotRow[]> {
  const res = await db.query<LotRow>(
    `SELECT ${LOT_COLS} FROM point_lots WHERE tenant_id = $1 AND member_id = $2 AND remaining > 0 AND state = 'active' ORDER BY earned_at, id`,
    [tenantId, memberId],
  );
  return res.rows;
}

/** Active lots with points left that expire before `until`, soonest first. */
export async function expiringLots(db: Queryable, tenantId: string, memberId: string, until: Date): Promise<LotRow[]> {
  const res = await db.query<LotRow>(
    `SELECT ${LOT_COLS} FROM point_lots
      WHERE tenant_id = $1 AND member_id = $2 AND remaining > 0 AND state IN ('active', 'pending') AND expires_at < $3
      ORDER BY expires_at, earned_at, id`,
    [tenantId, memberId, until],
  );
  return res.rows;
}


/**
 * Per member, the active lots with points left that expire in (from, until], soonest first (the messaging triggers'
 * "points expiring" scan). One statement over the expiry index for the whole window: the scan reads each lot once a
 * run instead of re-aggregating per page of members.
 */
export async function expiringByMember(db: Queryable, tenantId: string, from: Date, until: Date): Promise<Array<{ member_id: string; lots: Array<{ expires_at: Date; points: number }> }>> {
  const res = await db.query<{ member_id: string; expires: Date[]; points: string[] }>(
    `SELECT member_id, array_agg(expires_at ORDER BY expires_at) AS expires, array_agg(remaining::text ORDER BY expires_at) AS points
       FROM point_lots
      WHERE tenant_id = $1 AND state = 'active' AND remaining > 0 AND expires_at IS NOT NULL AND expires_at > $2 AND expires_at <= $3
      GROUP BY member_id
      ORDER BY member_id`,
    [tenantId, from, until],
  );
  return res.rows.map((r) => ({ member_id: r.member_id, lots: r.expires.map((at, i) => ({ expires_at: at, points: Number(r.points[i]) })) }));
}

// ── Batch jobs: activation and expiry ───────────────────────────────────────

/** Members with pending lots due for activation, at most `limit` lots' worth. */
export async function membersWithDueActivation(db: Queryable, tenantId: string, now: Date, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT DISTINCT member_id FROM (
       SELECT member_id FROM point_lots WHERE tenant_id = $1 AND state = 'pending' AND activates_at <= $2 ORDER BY activates_at LIMIT $3
     ) due ORDER BY member_id`,
    [tenantId, now, limit],
  );
  return res.rows.map((r) => r.member_id);
}

/**
 * Activates the due pending lots of the given (locked) members in one statement: the lots, one `activate` entry
 * and one points.activated event per member, the balances (pending to available). Returns, per member, the points
 * and the balance before, so the caller can settle a negative balance or a debt from them.
 */
export async function activateMembersLots(db: Queryable, tenantId: string, entryIdByMember: Map<string, string>, now: Date): Promise<Array<{ member_id: string; entry_id: string; points: number; available_before: number; debt: number }>> {
  const members = [...entryIdByMember.keys()];
  const res = await db.query(
    `WITH m AS (SELECT * FROM unnest($2::uuid[], $3::uuid[]) AS m(member_id, entry_id)),
     upd AS (
       UPDATE point_lots l SET state = 'active'
         FROM m
        WHERE l.tenant_id = $1 AND l.member_id = m.member_id AND l.state = 'pending' AND l.activates_at <= $4
          AND l.member_id = ANY($2::uuid[])
       RETURNING l.member_id, l.remaining, m.entry_id
     ), per_member AS (
       SELECT member_id, entry_id, sum(remaining)::bigint AS points, count(*) AS lots FROM upd GROUP BY member_id, entry_id
     ), before AS (
       SELECT b.member_id, b.available, b.debt FROM member_balances b JOIN per_member p ON p.member_id = b.member_id WHERE b.tenant_id = $1
     ), entries AS (
       INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, details, occurred_at, created_at)
       SELECT $1, entry_id, member_id, 'activate', 0, -points, 'pending period over', 'system', jsonb_build_object('lots', lots), $4, $4 FROM per_member
     ), bal AS (
       UPDATE member_balances b SET available = b.available + p.points, pending = b.pending - p.points, updated_at = $4
         FROM per_member p WHERE b.tenant_id = $1 AND b.member_id = p.member_id
       RETURNING b.member_id, b.available, b.pending, b.held
     ), events AS (
       INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
       SELECT $1, gen_random_uuid(), 'points.activated', 'member', p.member_id::text, p.member_id,
              jsonb_build_object('entry_id', p.entry_id, 'member_id', p.member_id, 'type', 'activate', 'points', 0,
                                 'pending_points', -p.points, 'source_type', 'system', 'lots', p.lots,
                                 'balance', jsonb_build_object('available', b.available, 'pending', b.pending, 'held', b.held)),
              $4
         FROM per_member p JOIN bal b ON b.member_id = p.member_id
     )
     SELECT p.member_id, p.entry_id, p.points, b.available AS available_before, b.debt
       FROM per_member p JOIN before b ON b.member_id = p.member_id`,
    [tenantId, members, members.map((m) => entryIdByMember.get(m)), now],
  );
  return res.rows;
}

/** Members with active lots past their expiry, at most `limit` lots' worth. */
export async function membersWithDueExpiry(db: Queryable, tenantId: string, now: Date, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT DISTINCT member_id FROM (
       SELECT member_id FROM point_lots
        WHERE tenant_id = $1 AND state = 'active' AND remaining > 0 AND expires_at IS NOT NULL AND expires_at <= $2
        ORDER BY expires_at LIMIT $3
     ) due ORDER BY member_id`,
    [tenantId, now, limit],
  );
  return res.rows.map((r) => r.member_id);
}

/** Members whose last activity is before `cutoff` and who still hold points (the inactivity policy). */
export async function membersInactiveSince(db: Queryable, tenantId: string, cutoff: Date, limit: number): Promise<string[]> {
  const res = await db.query<{ member_id: string }>(
    `SELECT member_id FROM member_balances
      WHERE tenant_id = $1 AND available > 0 AND last_activity_at < $2
      ORDER BY member_id LIMIT $3`,
    [tenantId, cutoff, limit],
  );
  return res.rows.map((r) => r.member_id);
}

/**
 * Expires the given (locked) members' lots: the due ones (`dueBefore`) and `alsoLots`, or all active ones
 * (`dueBefore` null: the inactivity policy). One statement writes everything: the lots, one allocation per lot, one `expire` entry and
 * one points.expired event per member (entry ids given, time-ordered), and the balances. Returns points per member.
 * (Foreign keys between rows written by one statement are checked at its end, so the entries may come after
 * the allocations that reference them.)
 */
export async function expireMembersLots(db: Queryable, tenantId: string, entryIdByMember: Map<string, string>, dueBefore: Date | null, now: Date, reason: string, alsoLots: string[] = []): Promise<Map<string, number>> {
  const members = [...entryIdByMember.keys()];
  const res = await db.query<{ member_id: string; points: number }>(
    `WITH m AS (SELECT * FROM unnest($2::uuid[], $3::uuid[]) AS m(member_id, entry_id)),
     old AS (
       SELECT l.id, l.member_id, l.remaining, m.entry_id
         FROM point_lots l JOIN m ON m.member_id = l.member_id
        WHERE l.tenant_id = $1 AND l.state = 'active' AND l.remaining > 0
          AND ($4::timestamptz IS NULL OR (l.expires_at IS NOT NULL AND l.expires_at <= $4) OR l.id = ANY($7::uuid[]))
          AND l.member_id = ANY($2::uuid[])
          FOR UPDATE OF l
     ), per_member AS (
       SELECT member_id, entry_id, sum(remaining)::bigint AS points, count(*) AS lots FROM old GROUP BY member_id, entry_id
     ), upd AS (
       UPDATE point_lots l SET remaining = 0, state = 'expired' FROM old WHERE l.tenant_id = $1 AND l.id = old.id
     ), entries AS (
       INSERT INTO ledger_entries (tenant_id, id, member_id, type, points, pending_points, reason, source_type, details, occurred_at, created_at)
       SELECT $1, entry_id, member_id, 'expire', -points, 0, $6, 'system', jsonb_build_object('lots', lots), $5, $5 FROM per_member
     ), alloc AS (
       INSERT INTO lot_allocations (tenant_id, lot_id, member_id, entry_id, points, created_at)
       SELECT $1, id, member_id, entry_id, remaining, $5 FROM old
     ), bal AS (
       UPDATE member_balances b SET available = b.available - p.points, expired = b.expired + p.points, updated_at = $5
         FROM per_member p WHERE b.tenant_id = $1 AND b.member_id = p.member_id
       RETURNING b.member_id, b.available, b.pending, b.held
     ), events AS (
       INSERT INTO outbox_events (tenant_id, id, type, aggregate_type, aggregate_id, member_id, payload, occurred_at)
       SELECT $1, gen_random_uuid(), 'points.expired', 'member', p.member_id::text, p.member_id,
              jsonb_build_object('entry_id', p.entry_id, 'member_id', p.member_id, 'type', 'expire', 'points', -p.points,
                                 'pending_points', 0, 'reason', $6::text, 'source_type', 'system', 'lots', p.lots,
                                 'balance', jsonb_build_object('available', b.available, 'pending', b.pending, 'held', b.held)),
              $5
         FROM per_member p JOIN bal b ON b.member_id = p.member_id
     )
     SELECT member_id, points FROM per_member`,
    [tenantId, members, members.map((m) => entryIdByMember.get(m)), dueBefore, now, reason, alsoLots],
  );
  return new Map(res.rows.map((r) => [r.member_id, r.points]));
}

/** Writes many balances at once (the batch jobs). */
export async function saveBalances(db: Queryable, tenantId: string, rows: BalanceRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `UPDATE member_balances b
        SET available = x.available, pending = x.pending, held = x.held, expired = x.expired, debt = x.debt,
            redeemed = x.redeemed, lifetime_earned = x.lifetime_earned, updated_at = x.updated_at
       FROM json_to_recordset($2::json) AS x(member_id uuid, available bigint, pending bigint, held bigint, expired bigint, debt bigint,
                                             redeemed bigint, lifetime_earned bigint, updated_at timestamptz)
      WHERE b.tenant_id = $1 AND b.member_id = x.member_id`,
    [tenantId, JSON.stringify(rows)],
  );
}

// ── Holds ───────────────────────────────────────────────────────────────────

export async function insertHold(db: Queryable, tenantId: string, h: Omit<HoldRow, 'captured_points' | 'redemption_id' | 'closed_at' | 'status'>): Promise<HoldRow> {
  const res = await db.query<HoldRow>(
    `INSERT INTO holds (tenant_id, id, member_id, points, order_ref, status, expires_at, created_at)
     VALUES ($1, $2, $3, $4, $5, 'held', $6, $7) RETURNING ${HOLD_COLS}`,
    [tenantId, h.id, h.member_id, h.points, h.order_ref, h.expires_at, h.created_at],
  );
  return res.rows[0]!;
}

export async function getHold(db: Queryable, tenantId: string, id: string): Promise<HoldRow | null> {
  const res = await db.query<HoldRow>(`SELECT ${HOLD_COLS} FROM holds WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function closeHold(db: Queryable, tenantId: string, id: string, status: HoldRow['status'], now: Date, captured?: { points: number; redemptionId: string }): Promise<HoldRow> {
  const res = await db.query<HoldRow>(
    `UPDATE holds SET status = $3, closed_at = $4, captured_points = $5, redemption_id = $6
      WHERE tenant_id = $1 AND id = $2 RETURNING ${HOLD_COLS}`,
    [tenantId, id, status, now, captured?.points ?? null, captured?.redemptionId ?? null],
  );
  return res.rows[0]!;
}

/** Open holds of a member past their expiry (released at the member's next write). */
export async function dueHoldsOfMember(db: Queryable, tenantId: string, memberId: string, now: Date): Promise<HoldRow[]> {
  const res = await db.query<HoldRow>(
    `SELECT ${HOLD_COLS} FROM holds WHERE tenant_id = $1 AND member_id = $2 AND status = 'held' AND expires_at <= $3 ORDER BY id`,
    [tenantId, memberId, now],
  );
  return res.rows;
}

/** Open holds past their expiry across the tenant: (hold id, member id) pairs, oldest first. */
export async function dueHolds(db: Queryable, tenantId: string, now: Date, limit: number): Promise<Array<{ id: string; member_id: string }>> {
  const res = await db.query(
    `SELECT id, member_id FROM holds WHERE tenant_id = $1 AND status = 'held' AND expires_at <= $2 ORDER BY expires_at, id LIMIT $3`,
    [tenantId, now, limit],
  );
  return res.rows;
}

export async function listHolds(db: Queryable, tenantId: string, memberId: string, afterId: string | undefined, limit: number): Promise<HoldRow[]> {
  const res = await db.query<HoldRow>(
    `SELECT ${HOLD_COLS} FROM holds WHERE tenant_id = $1 AND member_id = $2 AND ($3::uuid IS NULL OR id < $3) ORDER BY id DESC LIMIT $4`,
    [tenantId, memberId, afterId ?? null, limit],
  );
  return res.rows;
}

// ── Tier qualification (the tiers module reads these through the Ledger service) ────────────────────────────

/** A member and the half-open window [from, to) of business time (`from` null: since the beginning). */
export interface MemberWindow {
  member_id: string;
  from: Date | null;
  to: Date;
}

/**
 * Earned points that are active, per member and window, by the entries' business time: an earning counts when its
 * points are spendable (at once, or at its `activate` entry), a claw-back or reversal takes off what it took from
 * earned points including a shortfall recorded as debt, and a positive adjustment counts. Spending, expiry and
 * debt repayment change nothing: they are not earning.
 */
export async function qualifyingPoints(db: Queryable, tenantId: string, windows: MemberWindow[]): Promise<Map<string, number>> {
  if (windows.length === 0) return new Map();
  const res = await db.query<{ member_id: string; points: string }>(
    `SELECT w.member_id,
            coalesce(sum(e.points - e.pending_points
                         - CASE WHEN e.type IN ('claw_back', 'reverse') AND e.details->>'policy' = 'debt'
                                THEN coalesce((e.details->>'shortfall')::bigint, 0) ELSE 0 END), 0)::text AS points
       FROM unnest($2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS w(member_id, from_at, to_at)
       LEFT JOIN ledger_entries e
         ON e.tenant_id = $1 AND e.member_id = w.member_id
        AND e.occurred_at < w.to_at AND (w.from_at IS NULL OR e.occurred_at >= w.from_at)
        AND (e.type IN ('earn', 'activate', 'claw_back', 'reverse') OR (e.type = 'adjust' AND e.points > 0))
      GROUP BY w.member_id`,
    [tenantId, windows.map((w) => w.member_id), windows.map((w) => w.from), windows.map((w) => w.to)],
  );
  return new Map(res.rows.map((r) => [r.member_id, Number(r.points)]));
}

/**
 * Entries that change earned points, after the entry `afterId` (null: from the first), oldest first, by primary key
 * (ids are UUID v7, so time-ordered): whose member's qualification may have changed.
 */
export async function earningEntriesAfter(db: Queryable, tenantId: string, afterId: string | null, limit: number): Promise<Array<{ id: string; member_id: string }>> {
  const res = await db.query<{ id: string; member_id: string }>(
    `SELECT id, member_id FROM ledger_entries
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) AND type IN ('earn', 'activate', 'claw_back', 'reverse', 'adjust')
      ORDER BY id LIMIT $3`,
    [tenantId, afterId, limit],
  );
  return res.rows;
}
