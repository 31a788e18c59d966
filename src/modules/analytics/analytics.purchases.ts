/**
 * The one definition of "a purchase that counts" for every analytics figure (docs/analytics.md → Summary): the
 * summary stage, the holdout's x_star, the at-risk stage, the behaviour metrics and the cohort matrix all build their
 * orders from these SQL texts, so one run's member count is the same in the summary, the cohorts and the rest.
 *
 * A counted purchase, as of an end instant (the first instant after the last day looked at):
 * - a `transactions` row of type `purchase`, status `recorded` (a voided order never counts), dated before the end;
 * - not wholly returned by the returns (type `return`, status `recorded`) dated before that same end. Returns are
 *   summed from the return rows, not read from the purchase's `returned_total`: that column is the sum as it stands
 *   now, so a return made after the end would leak into a backtest. A purchase of total 0 that nothing was returned
 *   from counts, as in the literature (CDNOW has eight);
 * - its net amount is total − those returns when it is in the given currency (the run's, the program's), else 0: an
 *   order in another currency is still an order and a purchase day, with no money;
 * - its day is its local calendar date in the tenant's time zone.
 *
 * The builders return SQL text only; every value is a bind parameter whose placeholder the caller passes (`$1` …), and
 * every other piece is a fixed string of the calling module, never input. The returns are one CTE grouped by
 * original_id for the tenant before the end (transactions_original / transactions_occurred), hash-joined to the
 * purchases, which are read by transactions_member (members) or transactions_occurred (the tenant's whole history).
 */

/** Who the purchases are of: members only, or members and non-members (identified by `customer_ref`). */
export type PurchaseCustomers = 'members' | 'members_and_non_members';

export interface CountedPurchasesSql {
  /** Placeholder of the tenant id, e.g. `$1`. */
  tenant: string;
  /** Placeholder (or SQL expression) of the end instant (timestamptz): purchases and returns dated before it. */
  end: string;
  /** Placeholder of the tenant's IANA time zone (the purchase's local day). */
  timeZone: string;
  /** Placeholder of the currency whose orders carry money. */
  currency: string;
  customers: PurchaseCustomers;
  /**
   * Optional placeholder (or expression) of a start instant: only purchases dated at or after it (the holdout's
   * window). The returns are still all those before `end`, whenever the purchase was.
   */
  since?: string | undefined;
  /** Further columns of the purchase row `t` carried through (fixed names of the caller, e.g. `channel`). */
  columns?: readonly string[] | undefined;
}

/**
 * Two CTE definitions, `<name>_returns` and `<name>`, to put after WITH (or after another CTE and a comma). `<name>`
 * has one row per counted purchase:
 * id, member_id (null for a non-member), customer_ref, occurred_at, day (local date), currency, total,
 * returned (the returns before end), money (in the currency), net (minor units; 0 without money), and `columns`.
 */
export function countedPurchasesCtes(name: string, p: CountedPurchasesSql): string {
  const who = p.customers === 'members' ? 't.member_id IS NOT NULL' : '(t.member_id IS NOT NULL OR t.customer_ref IS NOT NULL)';
  const extra = (p.columns ?? []).map((c) => `, t.${c}`).join('');
  return `${name}_returns AS (
  -- The returns known at the end, per purchase (a return dated later does not change what was counted).
  SELECT rt.original_id, sum(rt.total) AS amount
    FROM transactions rt
   WHERE rt.tenant_id = ${p.tenant} AND rt.type = 'return' AND rt.status = 'recorded' AND rt.original_id IS NOT NULL
     AND rt.occurred_at < ${p.end}
   GROUP BY rt.original_id
),
${name} AS (
  SELECT t.id, t.member_id, t.customer_ref, t.occurred_at, (t.occurred_at AT TIME ZONE ${p.timeZone})::date AS day,
         t.currency, t.total, coalesce(r.amount, 0) AS returned, t.currency = ${p.currency} AS money,
         CASE WHEN t.currency = ${p.currency} THEN t.total - coalesce(r.amount, 0) ELSE 0 END AS net${extra}
    FROM transactions t
    LEFT JOIN ${name}_returns r ON r.original_id = t.id
   WHERE t.tenant_id = ${p.tenant} AND t.type = 'purchase' AND t.status = 'recorded' AND ${who}
     AND t.occurred_at < ${p.end}${p.since ? ` AND t.occurred_at >= ${p.since}` : ''}
     -- Not wholly returned; a purchase of total 0 with nothing returned counts.
     AND (r.amount IS NULL OR r.amount = 0 OR t.total > r.amount)
)`;
}
