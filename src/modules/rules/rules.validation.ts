/**
 * What a stored rule must be, checked field by field with the field's name in every error, and the normalised
 * definition (the rule as the engines take it) built from valid input. Pure: used by RulesService, and by the HTTP
 * layer to report every bad field of a body at once.
 */
import jsonLogic from 'json-logic-js';
import type { FieldError } from '../../platform/errors.js';
import { EVENT_NAME_RE } from './rules.events.js';
import type { AnyRule, EarnData, EventData, LineData, RuleCaps, RuleKind } from './rules.types.js';

export const RULE_KINDS = ['base', 'multiplier', 'bonus', 'event'] as const satisfies readonly RuleKind[];
export const ROUNDINGS = ['floor', 'round', 'ceil'] as const;
export const STACKINGS = ['combine', 'best_of', 'exclusive'] as const;
export const LIMIT_PERIODS = ['ever', 'day', 'week', 'month', 'year'] as const;
export const CAP_NAMES = ['per_transaction', 'per_member_day', 'per_member_month', 'total'] as const;

export const RULE_LIMITS = {
  name: 200,
  priority: 1_000_000,
  points: 1_000_000,
  rateUnits: 1_000_000_000,
  factorMin: 101,
  factorMax: 100_000,
  cap: 1_000_000_000_000,
  limitCount: 1_000_000,
  conditionBytes: 10_240,
  conditionDepth: 20,
};

const COMMON_FIELDS = ['kind', 'name', 'priority', 'active', 'valid_from', 'valid_until', 'condition', 'caps', 'pending_days'] as const;
export const KIND_FIELDS: Record<RuleKind, readonly string[]> = {
  base: ['rate', 'rounding'],
  multiplier: ['factor_percent', 'rounding', 'line_filter', 'stacking'],
  bonus: ['points', 'stacking'],
  event: ['event', 'points', 'limit'],
};
const ALL_FIELDS = new Set<string>([...COMMON_FIELDS, ...Object.values(KIND_FIELDS).flat()]);

/** A rule as a client writes it (POST /v1/earn-rules); the kind decides which of the optional fields apply. */
export interface RuleInput {
  kind: RuleKind;
  name: string;
  priority?: number;
  active?: boolean;
  valid_from?: string | null;
  valid_until?: string | null;
  condition?: Record<string, unknown> | null;
  caps?: RuleCaps | null;
  pending_days?: number | null;
  rate?: { points: number; per_units: number };
  rounding?: (typeof ROUNDINGS)[number];
  factor_percent?: number;
  line_filter?: Record<string, unknown> | null;
  stacking?: (typeof STACKINGS)[number];
  points?: number;
  event?: string;
  limit?: { count: number; per: (typeof LIMIT_PERIODS)[number] } | null;
}

/** A change (PATCH): any field but `kind`; null clears an optional one. */
export type RulePatch = Partial<Omit<RuleInput, 'kind'>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const fmt = (n: number) => n.toLocaleString('en-US');
const oneOf = (values: readonly string[]) => `must be one of: ${values.join(', ')}`;

function checkInt(errs: FieldError[], field: string, v: unknown, min: number, max: number): void {
  if (!isInt(v, min, max)) errs.push({ field, detail: `must be a whole number from ${fmt(min)} to ${fmt(max)}` });
}

const TIMESTAMP_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/i;
const isTimestamp = (v: unknown): v is string => typeof v === 'string' && TIMESTAMP_RE.test(v) && !Number.isNaN(Date.parse(v));

// ── JSON Logic ──────────────────────────────────────────────────────────────

/**
 * The operators of json-logic-js 2.x: its `operations` table and the ones `apply` handles itself. `log` is left out
 * on purpose: it writes to the server's standard output on every evaluation.
 */
export const JSON_LOGIC_OPERATORS = new Set([
  '==', '===', '!=', '!==', '>', '>=', '<', '<=', '!!', '!', '%', 'in', 'cat', 'substr', '+', '*', '-', '/', 'min', 'max',
  'merge', 'var', 'missing', 'missing_some',
  'if', '?:', 'and', 'or', 'filter', 'map', 'reduce', 'all', 'none', 'some',
]);

const SAMPLE_LINE: LineData = { sku: 'SKU-1', category: 'shoes', quantity: 2, unit_price: 2500, discount: 0, net: 5000, excluded: false };
const SAMPLE_EARN: EarnData = {
  basket: { currency: 'EUR', total: 5000, eligible_amount: 5000, quantity: 2, skus: ['SKU-1'], categories: ['shoes'] },
  lines: [SAMPLE_LINE], channel: 'online', store: null, day_of_week: 3, hour: 12, minute: 0, date: '2026-03-04',
  tier: 'gold', attributes: {}, first_purchase: false,
};
const SAMPLE_EVENT: EventData = {
  event: { name: 'review_written', properties: {} }, tier: 'gold', attributes: {}, day_of_week: 3, hour: 12, date: '2026-03-04',
};
/** An audience (who a reward, a campaign or a segment is for): over the member's tier and attributes. */
const SAMPLE_MEMBER: AudienceData = { tier: 'gold', attributes: {} };
export type LogicTarget = 'earn' | 'line' | 'event' | 'member';
const SAMPLES: Record<LogicTarget, unknown> = { earn: SAMPLE_EARN, line: SAMPLE_LINE, event: SAMPLE_EVENT, member: SAMPLE_MEMBER };

/** What an audience condition sees of a member. */
export interface AudienceData {
  tier: string | null;
  attributes: Record<string, unknown>;
}

/** Whether a member is in an audience (a condition validated with logicError(…, 'member')); null is everyone. */
export function inAudience(condition: unknown, member: AudienceData): boolean {
  if (condition === null || condition === undefined) return true;
  return Boolean(jsonLogic.truthy(jsonLogic.apply(condition as never, { tier: member.tier, attributes: member.attributes ?? {} })));
}

/**
 * Why `value` is not an acceptable JSON Logic condition, or null. A condition is an object of at most 10 KB and
 * nesting depth 20; every object in it is one operator known to json-logic-js (an object with several keys would
 * silently be a literal, always true); it must evaluate on sample data of its target without an error.
 */
export function logicError(value: unknown, target: LogicTarget): string | null {
  if (!isObject(value)) return 'must be a JSON Logic object such as {"==": [{"var": "channel"}, "online"]}, or null';
  // Depth and the NUL character first, without recursion: the checks below recurse.
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 1 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string' && v.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
    if (typeof v === 'number' && !Number.isFinite(v)) return 'numbers must be finite';
    if (v !== null && typeof v === 'object') {
      if (depth > RULE_LIMITS.conditionDepth) return `must not nest deeper than ${RULE_LIMITS.conditionDepth} levels`;
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\u0000')) return 'must not contain the NUL character (\\u0000)';
        stack.push({ v: x, depth: depth + 1 });
      }
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > RULE_LIMITS.conditionBytes) return `must be at most ${RULE_LIMITS.conditionBytes} bytes as JSON (is ${bytes})`;
  const opError = operatorError(value);
  if (opError) return opError;
  try {
    jsonLogic.apply(value as never, structuredClone(SAMPLES[target]));
  } catch (err) {
    return `is not valid JSON Logic: ${(err as Error).message}`;
  }
  return null;
}

function operatorError(node: unknown): string | null {
  if (Array.isArray(node)) {
    for (const x of node) {
      const e = operatorError(x);
      if (e) return e;
    }
    return null;
  }
  if (!isObject(node)) return null;
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    return `must be JSON Logic: every object is one operator with its arguments, found ${keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}`}`;
  }
  const op = keys[0]!;
  if (op === 'log') return 'must not use the operator "log" (it writes to the server log on every evaluation)';
  if (!JSON_LOGIC_OPERATORS.has(op)) return `uses an unknown JSON Logic operator: Unrecognized operation ${JSON.stringify(op)}`;
  return operatorError(node[op]);
}

function checkLogic(errs: FieldError[], field: string, v: unknown, target: LogicTarget): void {
  if (v === null) return;
  const e = logicError(v, target);
  if (e) errs.push({ field, detail: e });
}

// ── Rules ───────────────────────────────────────────────────────────────────

function checkCaps(errs: FieldError[], v: unknown, kind: RuleKind | null): void {
  if (v === null) return;
  if (!isObject(v)) {
    errs.push({ field: 'caps', detail: `must be an object with any of ${CAP_NAMES.join(', ')}, or null` });
    return;
  }
  for (const [k, x] of Object.entries(v)) {
    const field = `caps.${k}`;
    if (!(CAP_NAMES as readonly string[]).includes(k)) errs.push({ field, detail: 'is not a known field' });
    else if (kind === 'event' && k !== 'total') errs.push({ field, detail: 'is not used by event rules (limit sets how often a member may earn)' });
    else if (x !== null) checkInt(errs, field, x, 1, RULE_LIMITS.cap);
  }
}

function checkObjectFields(errs: FieldError[], field: string, v: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(v)) if (!known.includes(k)) errs.push({ field: `${field}.${k}`, detail: 'is not a known field' });
}

/**
 * Every problem of a whole rule (a create body, or the current rule merged with a change). Tolerates any input, so
 * the HTTP layer can run it beside the schema.
 */
export function validateRule(input: unknown): FieldError[] {
  if (!isObject(input)) return [{ field: '(body)', detail: 'must be an object' }];
  const errs: FieldError[] = [];
  const i = input;
  const kind = (RULE_KINDS as readonly unknown[]).includes(i.kind) ? (i.kind as RuleKind) : null;
  if (i.kind === undefined) errs.push({ field: 'kind', detail: 'is required' });
  else if (!kind) errs.push({ field: 'kind', detail: oneOf(RULE_KINDS) });

  for (const k of Object.keys(i)) {
    if (!ALL_FIELDS.has(k)) errs.push({ field: k, detail: 'is not a known field' });
    else if (kind && !(COMMON_FIELDS as readonly string[]).includes(k) && !KIND_FIELDS[kind].includes(k)) {
      errs.push({ field: k, detail: `is not used by ${kind} rules` });
    }
  }

  if (i.name === undefined) errs.push({ field: 'name', detail: 'is required' });
  else if (typeof i.name !== 'string' || i.name.trim() === '' || i.name.length > RULE_LIMITS.name || /[\u0000-\u001f\u007f]/.test(i.name)) {
    errs.push({ field: 'name', detail: `must be 1 to ${RULE_LIMITS.name} characters with a visible one and no control characters` });
  }
  if (i.priority !== undefined) checkInt(errs, 'priority', i.priority, -RULE_LIMITS.priority, RULE_LIMITS.priority);
  if (i.active !== undefined && typeof i.active !== 'boolean') errs.push({ field: 'active', detail: 'must be true or false' });
  for (const f of ['valid_from', 'valid_until'] as const) {
    if (i[f] !== undefined && i[f] !== null && !isTimestamp(i[f])) errs.push({ field: f, detail: 'must be an RFC 3339 timestamp such as 2026-03-01T00:00:00Z, or null' });
  }
  if (isTimestamp(i.valid_from) && isTimestamp(i.valid_until) && Date.parse(i.valid_from) >= Date.parse(i.valid_until)) {
    errs.push({ field: 'valid_until', detail: 'must be after valid_from' });
  }
  if (i.condition !== undefined) checkLogic(errs, 'condition', i.condition, kind === 'event' ? 'event' : 'earn');
  if (i.caps !== undefined) checkCaps(errs, i.caps, kind);
  if (i.pending_days !== undefined && i.pending_days !== null) checkInt(errs, 'pending_days', i.pending_days, 0, 365);

  const required = (f: string) => {
    if (i[f] === undefined) errs.push({ field: f, detail: `is required for ${kind} rules` });
    return i[f] !== undefined;
  };
  const checkEnum = (f: string, values: readonly string[]) => {
    if (i[f] !== undefined && !values.includes(i[f] as string)) errs.push({ field: f, detail: oneOf(values) });
  };
  if (kind === 'base') {
    if (required('rate')) {
      if (!isObject(i.rate)) errs.push({ field: 'rate', detail: 'must be an object with points and per_units' });
      else {
        checkObjectFields(errs, 'rate', i.rate, ['points', 'per_units']);
        checkInt(errs, 'rate.points', i.rate.points, 1, RULE_LIMITS.points);
        checkInt(errs, 'rate.per_units', i.rate.per_units, 1, RULE_LIMITS.rateUnits);
      }
    }
    checkEnum('rounding', ROUNDINGS);
  } else if (kind === 'multiplier') {
    if (required('factor_percent')) checkInt(errs, 'factor_percent', i.factor_percent, RULE_LIMITS.factorMin, RULE_LIMITS.factorMax);
    checkEnum('rounding', ROUNDINGS);
    checkEnum('stacking', STACKINGS);
    if (i.line_filter !== undefined) checkLogic(errs, 'line_filter', i.line_filter, 'line');
  } else if (kind === 'bonus') {
    if (required('points')) checkInt(errs, 'points', i.points, 1, RULE_LIMITS.points);
    checkEnum('stacking', STACKINGS);
  } else if (kind === 'event') {
    if (required('event') && (typeof i.event !== 'string' || !EVENT_NAME_RE.test(i.event))) {
      errs.push({ field: 'event', detail: 'must be an event name such as sign_up or review_written: a lowercase letter, then up to 63 of a-z, 0-9, _ . -' });
    }
    if (required('points')) checkInt(errs, 'points', i.points, 1, RULE_LIMITS.points);
    if (i.limit !== undefined && i.limit !== null) {
      if (!isObject(i.limit)) errs.push({ field: 'limit', detail: 'must be an object with count and per, or null' });
      else {
        checkObjectFields(errs, 'limit', i.limit, ['count', 'per']);
        if (i.limit.count === undefined) errs.push({ field: 'limit.count', detail: 'is required' });
        else checkInt(errs, 'limit.count', i.limit.count, 1, RULE_LIMITS.limitCount);
        if (i.limit.per === undefined) errs.push({ field: 'limit.per', detail: 'is required' });
        else if (!(LIMIT_PERIODS as readonly unknown[]).includes(i.limit.per)) errs.push({ field: 'limit.per', detail: oneOf(LIMIT_PERIODS) });
      }
    }
  }
  return errs;
}

/** The checks of a change that do not need the current rule: the kind is fixed, at least one field. */
export function validatePatch(input: unknown): FieldError[] {
  if (!isObject(input)) return [{ field: '(body)', detail: 'must be an object' }];
  const errs: FieldError[] = [];
  if (Object.keys(input).length === 0) errs.push({ field: '(body)', detail: 'must change at least one field' });
  if (input.kind !== undefined) errs.push({ field: 'kind', detail: 'cannot be changed: archive this rule and create one of the other kind' });
  for (const k of Object.keys(input)) if (k !== 'kind' && !ALL_FIELDS.has(k)) errs.push({ field: k, detail: 'is not a known field' });
  return errs;
}

const utc = (v: string | null | undefined): string | null => (v == null ? null : new Date(v).toISOString());

/** The rule as the engines take it, from valid input: defaults filled in, timestamps in UTC, empty caps dropped. */
export function toDefinition(id: string, version: number, input: RuleInput): AnyRule {
  const caps = Object.fromEntries(CAP_NAMES.flatMap((k) => (input.caps?.[k] != null ? [[k, input.caps[k]]] : []))) as RuleCaps;
  const common = {
    id, version, name: input.name, priority: input.priority ?? 0, active: input.active ?? true,
    valid_from: utc(input.valid_from), valid_until: utc(input.valid_until),
    condition: (input.condition ?? null) as AnyRule['condition'],
    ...(Object.keys(caps).length > 0 ? { caps } : {}),
    ...(input.pending_days != null ? { pending_days: input.pending_days } : {}),
  };
  switch (input.kind) {
    case 'base':
      return { ...common, kind: 'base', rate: { points: input.rate!.points, per_units: input.rate!.per_units }, rounding: input.rounding ?? 'floor' };
    case 'multiplier':
      return {
        ...common, kind: 'multiplier', factor_percent: input.factor_percent!, rounding: input.rounding ?? 'floor',
        line_filter: (input.line_filter ?? null) as AnyRule['condition'], stacking: input.stacking ?? 'combine',
      };
    case 'bonus':
      return { ...common, kind: 'bonus', points: input.points!, stacking: input.stacking ?? 'combine' };
    case 'event':
      return { ...common, kind: 'event', event: input.event!, points: input.points!, limit: input.limit ? { count: input.limit.count, per: input.limit.per } : null };
  }
}

/** A stored definition as input again (to merge a change onto it). */
export function toInput(def: AnyRule): RuleInput {
  const { id: _id, version: _version, ...rest } = def;
  return { ...rest, caps: def.caps ?? null } as RuleInput;
}
