/**
 * The earn rule engine: rules + transaction + member context -> points and why. Pure: no clock, no database; the
 * caller supplies cap counters and records the returned cap_usage. All money arithmetic is BigInt on minor units.
 */
import jsonLogic from 'json-logic-js';
import type {
  BaseRule, CapUsage, EarnContext, EarnData, EarnResult, EarnRule, EarnTransaction, Explanation, LineData,
  Rounding, RuleCaps,
} from './rules.types.js';

const DEFAULT_NON_EARNING = ['points', 'store_credit'];
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

// Building an Intl formatter costs far more than using one: the hot path keeps one per currency and time zone.
const exponents = new Map<string, number>();
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** Minor-unit exponent of a currency (JPY 0, EUR 2, KWD 3), from ICU rather than a hand-kept table. */
export function currencyExponent(currency: string): number {
  let e = exponents.get(currency);
  if (e === undefined) {
    e = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    exponents.set(currency, e);
  }
  return e;
}

function divide(num: bigint, den: bigint, mode: Rounding): bigint {
  const q = num / den;
  const r = num % den;
  if (r === 0n) return q;
  // num and den are never negative here, so truncation equals floor.
  if (mode === 'floor') return q;
  if (mode === 'ceil') return q + 1n;
  return 2n * r >= den ? q + 1n : q; // half up
}

interface LocalTime { day_of_week: number; hour: number; minute: number; date: string; month: string }

export function localTime(iso: string, timeZone: string): LocalTime {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23',
    });
    dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const month = `${get('year')}-${get('month')}`;
  return {
    day_of_week: WEEKDAYS[get('weekday')] ?? 0,
    hour: Number(get('hour')),
    minute: Number(get('minute')),
    date: `${month}-${get('day')}`,
    month,
  };
}

function truthy(logic: unknown, data: unknown): boolean {
  return jsonLogic.truthy(jsonLogic.apply(logic as never, data));
}

/**
 * Earning follows the money actually paid: a line's earning amount is its net times the paid share of the order
 * (total minus points/store-credit payments, over the sum of line nets), so order-level discounts, shipping and
 * non-earning payments are spread proportionally; excluded categories earn nothing.
 */
function earningAmounts(tx: EarnTransaction, ctx: EarnContext) {
  const excluded = new Set(ctx.excluded_categories ?? []);
  const nonEarningMethods = new Set(ctx.non_earning_payment_methods ?? DEFAULT_NON_EARNING);
  const total = BigInt(Math.max(0, tx.total));
  const nonEarning = (tx.payments ?? []).filter((p) => nonEarningMethods.has(p.method))
    .reduce((s, p) => s + BigInt(p.amount), 0n);
  const paid = total > nonEarning ? total - nonEarning : 0n;
  const lines: LineData[] = (tx.lines ?? []).map((l) => {
    const discount = l.discount ?? 0;
    return {
      sku: l.sku, category: l.category ?? null, quantity: l.quantity, unit_price: l.unit_price, discount,
      net: Math.max(0, l.quantity * l.unit_price - discount),
      excluded: l.category != null && excluded.has(l.category),
    };
  });
  const linesNet = lines.reduce((s, l) => s + BigInt(l.net), 0n);
  /** Earning amount (minor units, exact rational kept as numerator over `den`) of the given lines. */
  const den = lines.length > 0 ? (linesNet > 0n ? linesNet : 1n) : 1n;
  const numeratorOf = (pick: (l: LineData) => boolean): bigint => {
    if (lines.length === 0) return paid;
    if (linesNet === 0n) return 0n;
    return lines.filter((l) => !l.excluded && pick(l)).reduce((s, l) => s + BigInt(l.net), 0n) * paid;
  };
  return { lines, den, numeratorOf };
}

function isPromotion(r: EarnRule): r is Exclude<EarnRule, BaseRule> {
  return r.kind !== 'base';
}

export function evaluateEarn(rules: EarnRule[], tx: EarnTransaction, ctx: EarnContext): EarnResult {
  const { lines, den, numeratorOf } = earningAmounts(tx, ctx);
  const allNum = numeratorOf(() => true);
  const eligible = Number(allNum / den);
  const t = localTime(tx.occurred_at, ctx.time_zone);
  const unit = 10n ** BigInt(currencyExponent(tx.currency));
  const data: EarnData = {
    basket: {
      currency: tx.currency, total: tx.total, eligible_amount: eligible,
      quantity: lines.reduce((s, l) => s + l.quantity, 0),
      skus: [...new Set(lines.map((l) => l.sku))],
      categories: [...new Set(lines.flatMap((l) => (l.category ? [l.category] : [])))],
    },
    lines, channel: tx.channel ?? null, store: tx.store_id ?? null,
    day_of_week: t.day_of_week, hour: t.hour, minute: t.minute, date: t.date,
    tier: ctx.tier, attributes: ctx.attributes, first_purchase: ctx.first_purchase,
  };
  const when = Date.parse(tx.occurred_at);
  const ordered = [...rules].sort((a, b) => b.priority - a.priority || a.id.localeCompare(b.id));
  const explanation = new Map<string, Explanation>();
  const explain = (r: EarnRule, e: Omit<Explanation, 'rule_id' | 'rule_name' | 'kind'>) =>
    explanation.set(r.id, { rule_id: r.id, rule_name: r.name, kind: r.kind, ...e });

  // 1. Which rules match at all.
  const matching: EarnRule[] = [];
  for (const r of ordered) {
    if (r.active === false) explain(r, { outcome: 'not_active', points: 0, detail: 'rule is switched off' });
    else if (r.valid_from && when < Date.parse(r.valid_from)) {
      explain(r, { outcome: 'not_yet_valid', points: 0, detail: `valid from ${r.valid_from}` });
    } else if (r.valid_until && when >= Date.parse(r.valid_until)) {
      explain(r, { outcome: 'expired', points: 0, detail: `valid until ${r.valid_until}` });
    } else if (r.condition != null && !truthy(r.condition, data)) {
      explain(r, { outcome: 'condition_false', points: 0, detail: 'condition not met' });
    } else matching.push(r);
  }

  // 2. The base rate: the highest-priority matching base rule; the others are superseded.
  const bases = matching.filter((r): r is BaseRule => r.kind === 'base');
  const base = bases[0];
  for (const r of bases.slice(1)) {
    explain(r, { outcome: 'superseded', points: 0, by_rule_id: base!.id, detail: `base rate set by ${base!.name}` });
  }

  // Points with caps applied; what each cap allowed is kept for the explanation.
  const capped = (r: EarnRule, raw: number) => {
    const caps: RuleCaps = r.caps ?? {};
    const used = ctx.usage?.[r.id] ?? {};
    const limits: [keyof RuleCaps, number | undefined][] = [
      ['per_transaction', caps.per_transaction],
      ['per_member_day', caps.per_member_day == null ? undefined : caps.per_member_day - (used.member_day ?? 0)],
      ['per_member_month', caps.per_member_month == null ? undefined : caps.per_member_month - (used.member_month ?? 0)],
      ['total', caps.total == null ? undefined : caps.total - (used.total ?? 0)],
    ];
    let points = raw;
    const by: (keyof RuleCaps)[] = [];
    for (const [name, left] of limits) {
      if (left !== undefined && Math.max(0, left) < raw) { by.push(name); points = Math.min(points, Math.max(0, left)); }
    }
    return { points, by };
  };

  const tierMilli = BigInt(tierMultiplierMilli(ctx.tier_multiplier));
  const rawPoints = (r: EarnRule): number => {
    if (r.kind === 'bonus') return r.points;
    if (!base) return 0;
    const rateNum = BigInt(base.rate.points);
    const rateDen = BigInt(base.rate.per_units) * unit * den;
    // The member's tier multiplies the base rate's points (in thousandths: 1.5 is exact), rounded once.
    if (r.kind === 'base') return Number(divide(allNum * rateNum * tierMilli, rateDen * 1000n, r.rounding));
    // A factor at or under 100% adds nothing (and would make the BigInt rounding below negative).
    if (r.factor_percent <= 100) return 0;
    const num = r.line_filter != null ? numeratorOf((l) => truthy(r.line_filter, l)) : allNum;
    return Number(divide(num * rateNum * BigInt(r.factor_percent - 100), rateDen * 100n, r.rounding));
  };

  const candidates = new Map<string, { raw: number; points: number; by: (keyof RuleCaps)[] }>();
  for (const r of [...(base ? [base] : []), ...matching.filter(isPromotion)]) {
    const raw = rawPoints(r);
    candidates.set(r.id, { raw, ...capped(r, raw) });
  }

  // 3. Stacking of promotions.
  const promos = matching.filter(isPromotion).filter((r) => candidates.get(r.id)!.raw > 0);
  for (const r of matching.filter(isPromotion)) {
    if (candidates.get(r.id)!.raw <= 0) {
      explain(r, { outcome: 'nothing_to_earn', points: 0, detail: base || r.kind === 'bonus' ? 'no eligible amount' : 'no base rate applies' });
    }
  }
  const exclusive = promos.find((r) => r.stacking === 'exclusive' && candidates.get(r.id)!.points > 0);
  let applied: EarnRule[];
  if (exclusive) {
    applied = [exclusive];
    for (const r of promos) {
      if (r !== exclusive) explain(r, { outcome: 'excluded', points: 0, by_rule_id: exclusive.id, detail: `${exclusive.name} is exclusive` });
    }
  } else {
    const bestOf = promos.filter((r) => r.stacking === 'best_of');
    // Stable sort keeps priority order for ties.
    const best = [...bestOf].sort((a, b) => candidates.get(b.id)!.points - candidates.get(a.id)!.points)[0];
    for (const r of bestOf) {
      if (r !== best) explain(r, { outcome: 'beaten', points: 0, by_rule_id: best!.id, detail: `${best!.name} is worth more` });
    }
    applied = promos.filter((r) => r.stacking !== 'best_of' || r === best);
  }
  if (base) applied.unshift(base);

  let total = 0;
  const cap_usage: CapUsage[] = [];
  for (const r of applied) {
    const c = candidates.get(r.id)!;
    const capInfo = c.by.length > 0 ? { uncapped_points: c.raw, capped_by: c.by } : {};
    if (c.points <= 0) {
      explain(r, { outcome: c.raw > 0 ? 'cap_reached' : 'nothing_to_earn', points: 0, ...capInfo,
        detail: c.raw > 0 ? `cap reached: ${c.by.join(', ')}` : 'no eligible amount' });
      continue;
    }
    total += c.points;
    const tierInfo = r.kind === 'base' && tierMilli !== 1000n ? { tier_multiplier: Number(tierMilli) / 1000 } : {};
    explain(r, { outcome: 'applied', points: c.points, ...capInfo, ...tierInfo, detail: describe(r, base, ctx) });
    if (r.caps) cap_usage.push({ rule_id: r.id, points: c.points, day: t.date, month: t.month });
  }
  return { points: total, eligible_amount: eligible, explanation: ordered.map((r) => explanation.get(r.id)!), cap_usage };
}

/** A tier multiplier as an integer number of thousandths (1.5 -> 1500); absent or below 1 counts as 1. */
export function tierMultiplierMilli(m: number | undefined): number {
  if (m === undefined || !Number.isFinite(m) || m <= 1) return 1000;
  return Math.round(m * 1000);
}

function describe(r: EarnRule, base: BaseRule | undefined, ctx: EarnContext): string {
  if (r.kind === 'base') {
    const milli = tierMultiplierMilli(ctx.tier_multiplier);
    const tier = milli !== 1000 ? `, x${milli / 1000} for tier ${ctx.tier ?? '-'}` : '';
    return `${r.rate.points} point(s) per ${r.rate.per_units} currency unit(s), ${r.rounding}${tier}`;
  }
  if (r.kind === 'bonus') return `fixed bonus of ${r.points}`;
  return `x${r.factor_percent / 100} on the base rate of ${base?.name ?? '-'}${r.line_filter ? ' for matching lines' : ''}`;
}
