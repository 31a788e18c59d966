/**
 * SQL for `programs`. Reads join the global `tenants` table (a reference table) for the tenant's currency and time
 * zone, so the hot write paths get the whole program in one query.
 */
import { prepared, type Queryable } from '../../platform/db/db.js';
import { DEFAULT_SETTINGS, type ExpiryPolicy, type Program } from './programs.types.js';

const PROGRAM_COLS = `t.default_currency AS currency, t.time_zone, p.tenant_id AS program_tenant_id,
  p.points_value_points, p.points_value_amount, p.point_cost_points, p.point_cost_amount, p.default_margin_percent,
  p.pending_days, p.expiry, p.negative_balance, p.enrol_unknown_customers, p.excluded_categories,
  p.non_earning_payment_methods, p.hold_minutes, p.updated_at`;

interface Row {
  currency: string;
  time_zone: string;
  program_tenant_id: string | null;
  points_value_points: number;
  points_value_amount: number;
  point_cost_points: number;
  point_cost_amount: number;
  default_margin_percent: string;
  pending_days: number;
  expiry: ExpiryPolicy;
  negative_balance: 'allow' | 'debt';
  enrol_unknown_customers: boolean;
  excluded_categories: string[];
  non_earning_payment_methods: string[];
  hold_minutes: number;
  updated_at: Date | null;
}

function toProgram(r: Row): Program {
  const base = { currency: r.currency.trim(), time_zone: r.time_zone };
  if (r.program_tenant_id === null) {
    // No row: the defaults (fresh copies, so a caller that edits them cannot change DEFAULT_SETTINGS).
    return { ...base, ...structuredClone({ ...DEFAULT_SETTINGS }), updated_at: null };
  }
  return {
    ...base,
    points_value: { points: r.points_value_points, amount: r.points_value_amount },
    point_cost: { points: r.point_cost_points, amount: r.point_cost_amount },
    default_margin_percent: Number(r.default_margin_percent),
    pending_days: r.pending_days,
    expiry: r.expiry,
    negative_balance: r.negative_balance,
    enrol_unknown_customers: r.enrol_unknown_customers,
    excluded_categories: r.excluded_categories,
    non_earning_payment_methods: r.non_earning_payment_methods,
    hold_minutes: r.hold_minutes,
    updated_at: r.updated_at,
  };
}

/** The tenant's program (the defaults when it has no row); null when there is no such tenant. */
const GET_PROGRAM = prepared('programs.get', `SELECT ${PROGRAM_COLS} FROM tenants t LEFT JOIN programs p ON p.tenant_id = t.id WHERE t.id = $1`);

export async function getProgram(db: Queryable, tenantId: string): Promise<Program | null> {
  const res = await db.query<Row>(GET_PROGRAM, [tenantId]);
  return res.rows[0] ? toProgram(res.rows[0]) : null;
}

type Settings = Omit<Program, 'currency' | 'time_zone' | 'updated_at'>;

const settingValues = (s: Settings) => [
  s.points_value.points, s.points_value.amount, s.point_cost.points, s.point_cost.amount, s.default_margin_percent,
  s.pending_days, JSON.stringify(s.expiry), s.negative_balance, s.enrol_unknown_customers, s.excluded_categories,
  s.non_earning_payment_methods, s.hold_minutes,
];

/**
 * The tenant's program, locked for the rest of the transaction. A tenant without a row gets one holding the
 * defaults first (updated_at NULL), so that two first changes at once are serialised too. Null: no such tenant.
 */
export async function lockProgram(tx: Queryable, tenantId: string): Promise<Program | null> {
  await tx.query(
    `INSERT INTO programs (tenant_id, points_value_points, points_value_amount, point_cost_points, point_cost_amount,
                           default_margin_percent, pending_days, expiry, negative_balance, enrol_unknown_customers,
                           excluded_categories, non_earning_payment_methods, hold_minutes, updated_at)
     SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL FROM tenants WHERE id = $1
     ON CONFLICT (tenant_id) DO NOTHING`,
    [tenantId, ...settingValues(DEFAULT_SETTINGS as Settings)],
  );
  const res = await tx.query<Row>(
    `SELECT ${PROGRAM_COLS} FROM tenants t JOIN programs p ON p.tenant_id = t.id WHERE t.id = $1 FOR UPDATE OF p`,
    [tenantId],
  );
  return res.rows[0] ? toProgram(res.rows[0]) : null;
}

/** Writes every setting of a locked program row. */
export async function saveProgram(tx: Queryable, tenantId: string, s: Settings, now: Date): Promise<Program> {
  await tx.query(
    `UPDATE programs
        SET points_value_points = $2, points_value_amount = $3, point_cost_points = $4, point_cost_amount = $5,
            default_margin_percent = $6, pending_days = $7, expiry = $8, negative_balance = $9,
            enrol_unknown_customers = $10, excluded_categories = $11, non_earning_payment_methods = $12,
            hold_minutes = $13, updated_at = $14
      WHERE tenant_id = $1`,
    [tenantId, ...settingValues(s), now],
  );
  return (await getProgram(tx, tenantId))!;
}
