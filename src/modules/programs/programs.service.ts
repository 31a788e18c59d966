/**
 * Program settings: one per tenant, read on every write that earns or spends points (`get`, one query) and changed
 * by an admin (`update`). Date math on these settings is in programs.policy.ts.
 */
import type { Clock } from '../../platform/clock.js';
import { TenantConfig, type TenantCache } from '../../platform/db/tenant-cache.js';
import type { Queryable } from '../../platform/db/db.js';
import { errors, type FieldError } from '../../platform/errors.js';
import { canonicalJson } from '../../platform/idempotency/idempotency.js';
import { emit } from '../../platform/outbox/outbox.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { EXPIRY_KINDS, EXPIRY_PERIODS, NEGATIVE_BALANCE } from './programs.schema.js';
import * as store from './programs.store.js';
import { LIMITS, SETTABLE_FIELDS, type ExpiryPolicy, type Program, type ProgramPatch } from './programs.types.js';

export type { ExpiryPolicy, Program, ProgramPatch, ProgramSettings } from './programs.types.js';

const READ_ONLY: Record<string, string> = {
  currency: "is read-only here: it is the tenant's default_currency (PATCH /v1/tenant)",
  time_zone: "is read-only here: it is the tenant's time_zone (PATCH /v1/tenant)",
  updated_at: 'is read-only',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): boolean => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const fmt = (n: number) => n.toLocaleString('en-US');

function checkInt(errs: FieldError[], field: string, v: unknown, min: number, max: number): void {
  if (!isInt(v, min, max)) errs.push({ field, detail: `must be a whole number from ${fmt(min)} to ${fmt(max)}` });
}

function checkRatio(errs: FieldError[], field: string, v: unknown, minAmount: number): void {
  if (!isObject(v)) {
    errs.push({ field, detail: 'must be an object with points and amount' });
    return;
  }
  for (const k of Object.keys(v)) if (k !== 'points' && k !== 'amount') errs.push({ field: `${field}.${k}`, detail: 'is not a known field' });
  if (v.points === undefined) errs.push({ field: `${field}.points`, detail: 'is required' });
  else checkInt(errs, `${field}.points`, v.points, 1, LIMITS.points);
  if (v.amount === undefined) errs.push({ field: `${field}.amount`, detail: 'is required' });
  else checkInt(errs, `${field}.amount`, v.amount, minAmount, LIMITS.amount);
}

const EXPIRY_FIELDS: Record<ExpiryPolicy['kind'], string[]> = {
  never: [],
  after_earning: ['months', 'days'],
  end_of_period: ['period', 'plus'],
  inactivity: ['months'],
};

function checkExpiry(errs: FieldError[], v: unknown): void {
  if (!isObject(v)) {
    errs.push({ field: 'expiry', detail: 'must be an object with a kind' });
    return;
  }
  const kind = v.kind as ExpiryPolicy['kind'];
  if (!(EXPIRY_KINDS as readonly unknown[]).includes(kind)) {
    errs.push({ field: 'expiry.kind', detail: `must be one of: ${EXPIRY_KINDS.join(', ')}` });
    return;
  }
  const allowed = EXPIRY_FIELDS[kind];
  for (const k of Object.keys(v)) {
    if (k === 'kind') continue;
    if (!['months', 'days', 'period', 'plus'].includes(k)) errs.push({ field: `expiry.${k}`, detail: 'is not a known field' });
    else if (!allowed.includes(k)) errs.push({ field: `expiry.${k}`, detail: `is not used by expiry kind ${kind}` });
  }
  if (kind === 'after_earning') {
    if (v.months !== undefined) checkInt(errs, 'expiry.months', v.months, 0, LIMITS.expiryMonths);
    if (v.days !== undefined) checkInt(errs, 'expiry.days', v.days, 0, LIMITS.expiryDays);
    const months = v.months ?? 0;
    const days = v.days ?? 0;
    if (isInt(months, 0, LIMITS.expiryMonths) && isInt(days, 0, LIMITS.expiryDays) && (months as number) + (days as number) === 0) {
      errs.push({ field: 'expiry.months', detail: 'months or days must be above 0 (use kind never for points that do not expire)' });
    }
  } else if (kind === 'end_of_period') {
    if (v.period === undefined) errs.push({ field: 'expiry.period', detail: 'is required' });
    else if (!(EXPIRY_PERIODS as readonly unknown[]).includes(v.period)) errs.push({ field: 'expiry.period', detail: `must be one of: ${EXPIRY_PERIODS.join(', ')}` });
    if (v.plus !== undefined) checkInt(errs, 'expiry.plus', v.plus, 0, LIMITS.expiryPlus);
  } else if (kind === 'inactivity') {
    if (v.months === undefined) errs.push({ field: 'expiry.months', detail: 'is required' });
    else checkInt(errs, 'expiry.months', v.months, 1, LIMITS.expiryMonths);
  }
}

function checkLabels(errs: FieldError[], field: string, v: unknown): void {
  if (!Array.isArray(v)) {
    errs.push({ field, detail: 'must be an array of strings' });
    return;
  }
  if (v.length > LIMITS.listItems) errs.push({ field, detail: `must have at most ${LIMITS.listItems} items` });
  v.forEach((x, i) => {
    if (typeof x !== 'string' || x.length < 1 || x.length > LIMITS.listItemLength || /[\u0000-\u001f\u007f]/.test(x)) {
      errs.push({ field: `${field}[${i}]`, detail: `must be a string of 1 to ${LIMITS.listItemLength} characters without control characters` });
    }
  });
}

/**
 * Every rule of a PATCH body, naming each bad field (`expiry.months`, `excluded_categories[2]`). Tolerates any input
 * (the HTTP layer runs it beside the schema, the CLI and tests without one).
 */
export function validateProgramPatch(input: unknown): FieldError[] {
  if (!isObject(input)) return [{ field: '(body)', detail: 'must be an object' }];
  const errs: FieldError[] = [];
  for (const k of Object.keys(input)) {
    if (READ_ONLY[k]) errs.push({ field: k, detail: READ_ONLY[k]! });
    else if (!(SETTABLE_FIELDS as readonly string[]).includes(k)) errs.push({ field: k, detail: 'is not a known field' });
  }
  const i = input as Record<string, unknown>;
  if (i.points_value !== undefined) checkRatio(errs, 'points_value', i.points_value, 1);
  if (i.point_cost !== undefined) checkRatio(errs, 'point_cost', i.point_cost, 0);
  if (i.default_margin_percent !== undefined) {
    const v = i.default_margin_percent;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100 || Math.abs(v * 100 - Math.round(v * 100)) > 1e-6) {
      errs.push({ field: 'default_margin_percent', detail: 'must be a number from 0 to 100 with at most 2 decimals' });
    }
  }
  if (i.pending_days !== undefined) checkInt(errs, 'pending_days', i.pending_days, 0, LIMITS.pendingDays);
  if (i.expiry !== undefined) checkExpiry(errs, i.expiry);
  if (i.negative_balance !== undefined && !(NEGATIVE_BALANCE as readonly unknown[]).includes(i.negative_balance)) {
    errs.push({ field: 'negative_balance', detail: `must be one of: ${NEGATIVE_BALANCE.join(', ')}` });
  }
  if (i.enrol_unknown_customers !== undefined && typeof i.enrol_unknown_customers !== 'boolean') {
    errs.push({ field: 'enrol_unknown_customers', detail: 'must be true or false' });
  }
  if (i.excluded_categories !== undefined) checkLabels(errs, 'excluded_categories', i.excluded_categories);
  if (i.non_earning_payment_methods !== undefined) checkLabels(errs, 'non_earning_payment_methods', i.non_earning_payment_methods);
  if (i.hold_minutes !== undefined) checkInt(errs, 'hold_minutes', i.hold_minutes, 1, LIMITS.holdMinutes);
  return errs;
}

/** The stored form of a valid expiry policy: every field of its kind present. */
export function normaliseExpiry(e: ExpiryPolicy): ExpiryPolicy {
  switch (e.kind) {
    case 'after_earning': return { kind: e.kind, months: e.months ?? 0, days: e.days ?? 0 };
    case 'end_of_period': return { kind: e.kind, period: e.period, plus: e.plus ?? 0 };
    case 'inactivity': return { kind: e.kind, months: e.months };
    default: return { kind: 'never' };
  }
}

export class ProgramsService {
  /** Read on every order, changed rarely: kept per process (tenant-cache.ts says how it stays right). */
  private readonly cache: TenantCache<Program>;

  constructor(
    private readonly clock: Clock,
    private readonly tenants: TenantsService,
    private readonly config: TenantConfig = new TenantConfig(null),
  ) {
    this.cache = config.cache();
  }

  /** The program of a tenant with its time zone: the defaults until it is first changed. One query, or none. */
  async get(q: Queryable, tenantId: string): Promise<Program> {
    const program = await this.cache.get(tenantId, async () => {
      const found = await store.getProgram(q, tenantId);
      if (!found) throw errors.notFound('tenant', tenantId);
      return found;
    });
    // A copy: callers may not change what the next order reads.
    return structuredClone(program);
  }

  /** The semantic checks of a PATCH body, for the HTTP layer to report beside the schema's. */
  checkFields(input: unknown): FieldError[] {
    return validateProgramPatch(input);
  }

  /**
   * Changes the settings sent (each replaced whole). Emits program.updated with the names of the settings whose
   * value changed; a patch that changes nothing writes nothing.
   */
  async update(tx: Queryable, tenantId: string, patch: ProgramPatch): Promise<Program> {
    const errs = validateProgramPatch(patch);
    if (errs.length) throw errors.validation(errs);
    if (!(await this.tenants.getTenant(tx, tenantId))) throw errors.notFound('tenant', tenantId);
    const current = await store.lockProgram(tx, tenantId);
    if (!current) throw errors.notFound('tenant', tenantId);

    const next: Program = { ...current };
    const changed: string[] = [];
    for (const k of SETTABLE_FIELDS) {
      if (patch[k] === undefined) continue;
      let value: unknown = patch[k];
      if (k === 'expiry') value = normaliseExpiry(patch.expiry!);
      if (k === 'excluded_categories' || k === 'non_earning_payment_methods') value = [...new Set(patch[k])];
      if (canonicalJson(value) === canonicalJson(current[k])) continue;
      (next as unknown as Record<string, unknown>)[k] = value;
      changed.push(k);
    }
    if (changed.length === 0) return current;
    const now = this.clock.now();
    const saved = await store.saveProgram(tx, tenantId, next, now);
    await this.config.changed(tx, tenantId);
    await emit(tx, { tenantId, type: 'program.updated', aggregateType: 'program', aggregateId: tenantId, payload: { changed_fields: changed }, occurredAt: now });
    return saved;
  }
}
