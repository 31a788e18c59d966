/**
 * The ledger's invariants as SQL, for the property test, the crash test and an operator's check: each query
 * returns the rows that break one (an empty result is a healthy ledger).
 */
import type { Queryable } from '../../platform/db/db.js';

export interface Violation {
  invariant: string;
  row: Record<string, unknown>;
}

const CHECKS: Array<{ invariant: string; sql: string }> = [
  {
    invariant: 'the entries of a member sum to available + pending + held',
    sql: `SELECT b.member_id, b.available, b.pending, b.held, coalesce(e.points, 0) AS entries, coalesce(e.pending_points, 0) AS entries_pending
            FROM member_balances b
            LEFT JOIN (SELECT member_id, sum(points) AS points, sum(pending_points) AS pending_points
                         FROM ledger_entries WHERE tenant_id = $1 GROUP BY member_id) e ON e.member_id = b.member_id
           WHERE b.tenant_id = $1
             AND (coalesce(e.points, 0) <> b.available + b.pending + b.held OR coalesce(e.pending_points, 0) <> b.pending)`,
  },
  {
    invariant: 'every member with entries has a balance',
    sql: `SELECT DISTINCT e.member_id FROM ledger_entries e
           WHERE e.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM member_balances b WHERE b.tenant_id = $1 AND b.member_id = e.member_id)`,
  },
  {
    invariant: "a lot's allocations sum to what it no longer holds (amount - remaining)",
    sql: `SELECT l.id, l.amount, l.remaining, coalesce(a.points, 0) AS allocated
            FROM point_lots l
            LEFT JOIN (SELECT lot_id, sum(points) AS points FROM lot_allocations WHERE tenant_id = $1 GROUP BY lot_id) a ON a.lot_id = l.id
           WHERE l.tenant_id = $1 AND coalesce(a.points, 0) <> l.amount - l.remaining`,
  },
  {
    invariant: 'pending = the remaining points of pending lots; held = the points of open holds',
    sql: `SELECT b.member_id, b.pending, coalesce(p.points, 0) AS pending_lots, b.held, coalesce(h.points, 0) AS open_holds
            FROM member_balances b
            LEFT JOIN (SELECT member_id, sum(remaining) AS points FROM point_lots WHERE tenant_id = $1 AND state = 'pending' GROUP BY member_id) p ON p.member_id = b.member_id
            LEFT JOIN (SELECT member_id, sum(points) AS points FROM holds WHERE tenant_id = $1 AND status = 'held' GROUP BY member_id) h ON h.member_id = b.member_id
           WHERE b.tenant_id = $1 AND (b.pending <> coalesce(p.points, 0) OR b.held <> coalesce(h.points, 0))`,
  },
  {
    invariant: 'available = the remaining points of active lots (0 of them while the balance is negative)',
    sql: `SELECT b.member_id, b.available, coalesce(a.points, 0) AS active_lots
            FROM member_balances b
            LEFT JOIN (SELECT member_id, sum(remaining) AS points FROM point_lots WHERE tenant_id = $1 AND state = 'active' GROUP BY member_id) a ON a.member_id = b.member_id
           WHERE b.tenant_id = $1 AND greatest(b.available, 0) <> coalesce(a.points, 0)`,
  },
  {
    invariant: "a hold's open allocations equal its points",
    sql: `SELECT h.id, h.points, coalesce(a.points, 0) AS allocated
            FROM holds h
            LEFT JOIN (SELECT hold_id, sum(points) AS points FROM lot_allocations WHERE tenant_id = $1 AND hold_id IS NOT NULL GROUP BY hold_id) a ON a.hold_id = h.id
           WHERE h.tenant_id = $1 AND coalesce(a.points, 0) <> CASE WHEN h.status = 'held' THEN h.points ELSE 0 END`,
  },
  {
    invariant: 'lot states agree with what they hold',
    sql: `SELECT id, state, remaining FROM point_lots
           WHERE tenant_id = $1 AND ((state IN ('spent', 'expired', 'cancelled') AND remaining <> 0) OR (state IN ('active', 'pending') AND remaining = 0))`,
  },
  {
    invariant: 'an order earns at most once: one earning entry per purchase',
    sql: `SELECT transaction_id, count(*) FROM ledger_entries
           WHERE tenant_id = $1 AND type = 'earn' AND transaction_id IS NOT NULL GROUP BY transaction_id HAVING count(*) > 1`,
  },
  {
    invariant: "a purchase's entries never take back more than it earned",
    sql: `SELECT transaction_id, sum(points) FROM ledger_entries
           WHERE tenant_id = $1 AND transaction_id IS NOT NULL AND type IN ('earn', 'claw_back', 'reverse')
           GROUP BY transaction_id HAVING sum(points) < 0`,
  },
];

/** Every invariant broken in the tenant's ledger; `allowNegative` false also flags negative balances. */
export async function ledgerViolations(db: Queryable, tenantId: string, opts: { allowNegative: boolean }): Promise<Violation[]> {
  const checks = [...CHECKS];
  if (!opts.allowNegative) {
    checks.push({ invariant: 'no balance is negative', sql: `SELECT member_id, available FROM member_balances WHERE tenant_id = $1 AND available < 0` });
  }
  const found: Violation[] = [];
  for (const c of checks) {
    const res = await db.query(c.sql, [tenantId]);
    for (const row of res.rows) found.push({ invariant: c.invariant, row });
  }
  return found;
}
