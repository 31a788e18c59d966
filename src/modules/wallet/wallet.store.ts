/**
 * SQL for the wallet: `wallet_balances` and `wallet_entries`. An entry and the balance it changes are written by one
 * statement, so neither exists without the other; the balance row is the member's lock (see debit).
 */
import { prepared, type Queryable } from '../../platform/db/db.js';

export const WALLET_SOURCE_TYPES = [
  'transaction', 'event', 'rule', 'campaign', 'admin', 'redemption', 'hold', 'system',
  'reward', 'stamp_card', 'referral', 'achievement', 'tier',
  'cashback', 'refund', 'checkout', 'voucher', 'case',
] as const;
export type WalletSourceType = (typeof WALLET_SOURCE_TYPES)[number];

export interface WalletBalanceRow {
  member_id: string;
  currency: string;
  balance: number;
  credited: number;
  debited: number;
  updated_at: Date | null;
}

export interface WalletEntryRow {
  id: string;
  member_id: string;
  currency: string;
  type: 'credit' | 'debit';
  amount: number;
  balance_after: number;
  reason: string | null;
  source_type: WalletSourceType;
  source_id: string | null;
  order_ref: string | null;
  actor: string | null;
  created_at: Date;
}

export interface NewWalletEntry {
  id: string;
  member_id: string;
  currency: string;
  /** Positive, in minor units; the sign comes from credit/debit. */
  amount: number;
  reason: string | null;
  source_type: WalletSourceType;
  source_id: string | null;
  order_ref: string | null;
  actor: string | null;
  created_at: Date;
}

const ENTRY_COLS = 'id, member_id, currency, type, amount, balance_after, reason, source_type, source_id, order_ref, actor, created_at';
const BALANCE_COLS = 'member_id, currency, balance, credited, debited, updated_at';

const entryParams = (tenantId: string, e: NewWalletEntry) =>
  [tenantId, e.member_id, e.currency, e.amount, e.created_at, e.id, e.reason, e.source_type, e.source_id, e.order_ref, e.actor];

// The balance row is created by the first credit; the upsert locks it like the debit's UPDATE does.
const CREDIT = prepared('wallet.credit', `WITH b AS (
       INSERT INTO wallet_balances AS w (tenant_id, member_id, currency, balance, credited, debited, updated_at)
       VALUES ($1, $2, $3, $4, $4, 0, $5)
       ON CONFLICT (tenant_id, member_id, currency) DO UPDATE
          SET balance = w.balance + EXCLUDED.balance, credited = w.credited + EXCLUDED.credited, updated_at = EXCLUDED.updated_at
       RETURNING balance
     )
     INSERT INTO wallet_entries (tenant_id, id, member_id, currency, type, amount, balance_after, reason, source_type, source_id, order_ref, actor, created_at)
     SELECT $1, $6, $2, $3, 'credit', $4, b.balance, $7, $8, $9, $10, $11, $5 FROM b
     RETURNING ${ENTRY_COLS}`);

/**
 * The debit is one UPDATE guarded by `balance >= amount`. Concurrent debits of one member queue on the row lock; each
 * re-checks the guard against the balance the one before it left (PostgreSQL re-evaluates the WHERE clause on the
 * updated row), so none overdraws. No row back: not enough credit (or no wallet yet).
 */
const DEBIT = prepared('wallet.debit', `WITH b AS (
       UPDATE wallet_balances
          SET balance = balance - $4, debited = debited + $4, updated_at = $5
        WHERE tenant_id = $1 AND member_id = $2 AND currency = $3 AND balance >= $4
       RETURNING balance
     )
     INSERT INTO wallet_entries (tenant_id, id, member_id, currency, type, amount, balance_after, reason, source_type, source_id, order_ref, actor, created_at)
     SELECT $1, $6, $2, $3, 'debit', -$4::bigint, b.balance, $7, $8, $9, $10, $11, $5 FROM b
     RETURNING ${ENTRY_COLS}`);

export async function credit(db: Queryable, tenantId: string, e: NewWalletEntry): Promise<WalletEntryRow> {
  return (await db.query<WalletEntryRow>(CREDIT, entryParams(tenantId, e))).rows[0]!;
}

export async function debit(db: Queryable, tenantId: string, e: NewWalletEntry): Promise<WalletEntryRow | null> {
  return (await db.query<WalletEntryRow>(DEBIT, entryParams(tenantId, e))).rows[0] ?? null;
}

export async function getBalance(db: Queryable, tenantId: string, memberId: string, currency: string): Promise<WalletBalanceRow | null> {
  const res = await db.query<WalletBalanceRow>(
    `SELECT ${BALANCE_COLS} FROM wallet_balances WHERE tenant_id = $1 AND member_id = $2 AND currency = $3`,
    [tenantId, memberId, currency],
  );
  return res.rows[0] ?? null;
}

/** Every currency the member holds credit in (the GDPR export). */
export async function balancesOf(db: Queryable, tenantId: string, memberId: string): Promise<WalletBalanceRow[]> {
  const res = await db.query<WalletBalanceRow>(`SELECT ${BALANCE_COLS} FROM wallet_balances WHERE tenant_id = $1 AND member_id = $2 ORDER BY currency`, [tenantId, memberId]);
  return res.rows;
}

export async function getEntry(db: Queryable, tenantId: string, id: string): Promise<WalletEntryRow | null> {
  const res = await db.query<WalletEntryRow>(`SELECT ${ENTRY_COLS} FROM wallet_entries WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Locks the member's balance row in this currency (a refund reads what was refunded before under it). */
export async function lockBalance(db: Queryable, tenantId: string, memberId: string, currency: string): Promise<void> {
  await db.query(`SELECT 1 FROM wallet_balances WHERE tenant_id = $1 AND member_id = $2 AND currency = $3 FOR UPDATE`, [tenantId, memberId, currency]);
}

/** What has been refunded of a debit so far (credits whose source is that debit). */
export async function refundedOf(db: Queryable, tenantId: string, memberId: string, debitId: string): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT coalesce(sum(amount), 0) AS n FROM wallet_entries
      WHERE tenant_id = $1 AND member_id = $2 AND source_type = 'refund' AND source_id = $3`,
    [tenantId, memberId, debitId],
  );
  return Number(res.rows[0]!.n);
}

/** Newest first. */
export async function listEntries(db: Queryable, tenantId: string, memberId: string, f: { currency?: string; beforeId?: string; limit: number }): Promise<WalletEntryRow[]> {
  const res = await db.query<WalletEntryRow>(
    `SELECT ${ENTRY_COLS} FROM wallet_entries
      WHERE tenant_id = $1 AND member_id = $2
        AND ($3::text IS NULL OR currency = $3)
        AND ($4::uuid IS NULL OR id < $4)
      ORDER BY id DESC
      LIMIT $5`,
    [tenantId, memberId, f.currency ?? null, f.beforeId ?? null, f.limit],
  );
  return res.rows;
}
