/**
 * Builds per-customer (x, t_x, T, m_x, x*) summaries from a transaction log with the conventions of the BTYD
 * literature (and of /work/shared/data/README.md): same-day purchases merge into one occasion whose amount is the
 * day's total; x counts repeat occasions (the first purchase is never counted); t_x and T are measured from the
 * first purchase; a week is days / 7; m_x is the mean spend of the repeat occasions (first purchase excluded).
 */
import { DAYS_PER_UNIT, type CustomerSummary, type SummarySet, type TimeUnit } from './clv.types.js';

export interface Purchase {
  customerId: string;
  /** Calendar date of the purchase, `YYYY-MM-DD` (in the tenant's time zone: the caller decides what a day is). */
  date: string;
  /** Amount in major currency units. */
  amount: number;
}

export interface SummaryOptions {
  /** Last calendar day of the calibration period, inclusive (`YYYY-MM-DD`). */
  calibrationEnd: string;
  /** Last calendar day of the holdout period, inclusive; when given, x_star is filled. */
  holdoutEnd?: string;
  unit: TimeUnit;
}

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a `YYYY-MM-DD` date (UTC calendar arithmetic, no time zone involved). */
export function dayNumber(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Date.UTC rolls 1997-02-30 over into March; a date that does not round-trip is not a real date.
  if (new Date(ms).toISOString().slice(0, 10) !== date) throw new RangeError(`not a real date: ${date}`);
  return Math.round(ms / DAY_MS);
}

/**
 * Customers whose first purchase is after calibrationEnd are left out (they have no calibration history).
 * T is the day difference calibrationEnd − first purchase day, as in the literature and the CDNOW files (first
 * purchase 1997-01-01, calibrationEnd 1997-09-30 → 272 days = 38.857 weeks); a first purchase on the last day
 * gives T = 0, which adds nothing to the BG/NBD likelihood (harmless in a fit).
 */
export function summarize(purchases: Purchase[], options: SummaryOptions): SummarySet {
  const calEnd = dayNumber(options.calibrationEnd);
  const holdEnd = options.holdoutEnd === undefined ? undefined : dayNumber(options.holdoutEnd);
  const perCustomer = new Map<string, Map<number, number>>();
  for (const p of purchases) {
    const d = dayNumber(p.date);
    let daysOf = perCustomer.get(p.customerId);
    if (!daysOf) perCustomer.set(p.customerId, (daysOf = new Map()));
    daysOf.set(d, (daysOf.get(d) ?? 0) + p.amount);
  }
  const perUnit = DAYS_PER_UNIT[options.unit];
  const customers: CustomerSummary[] = [];
  for (const [id, daysOf] of perCustomer) {
    const sorted = [...daysOf.keys()].sort((u, v) => u - v);
    const first = sorted[0]!;
    if (first > calEnd) continue;
    const calDays = sorted.filter((d) => d <= calEnd);
    const repeat = calDays.slice(1);
    const x = repeat.length;
    const last = calDays[calDays.length - 1]!;
    const m_x = x === 0 ? 0 : repeat.reduce((s, d) => s + daysOf.get(d)!, 0) / x;
    const summary: CustomerSummary = { id, x, t_x: (last - first) / perUnit, T: (calEnd - first) / perUnit, m_x };
    if (holdEnd !== undefined) summary.x_star = sorted.filter((d) => d > calEnd && d <= holdEnd).length;
    customers.push(summary);
  }
  return { unit: options.unit, customers };
}
