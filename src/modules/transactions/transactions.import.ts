/**
 * The orders importer: historical purchases and returns from a CSV or NDJSON file, upserted by external_id (see
 * docs/imports.md, "Orders"). Rows carry the canonical order fields of `POST /v1/transactions` and are checked by
 * the same rules: the request schema (through Ajv, as the HTTP layer does) and `TransactionsService.checkOrder`.
 *
 * Two ways of writing, chosen by the upload's `award_points` option:
 *  - `false` (default): purchases are recorded without points, set-based: the batch's members are looked up in one
 *    query, unknown customers enrolled in one (`MembersService.loadHistory`), the orders inserted in one
 *    multi-row INSERT … ON CONFLICT DO NOTHING and their events emitted in one.
 *  - `true`: every order goes through `TransactionsService.record` in file order, so it earns by the rules in force
 *    at its occurred_at exactly as it would have through the API (caps, first purchase, pending and expiry).
 * Returns always go through `record`, after the purchases before them in the file.
 *
 * Batches are written one after the other (`writers: 1`): a return may be in the batch after its purchase, and
 * one member's orders in several batches.
 */
import { Type } from '@sinclair/typebox';
import { withSavepoint, type Tx } from '../../platform/db/db.js';
import { isAppError, uniqueFieldErrors, type FieldError } from '../../platform/errors.js';
import { makeAjv } from '../../platform/http/ajv.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import { Obj, type Locale } from '../../platform/http/schema.js';
import { canonicalJson } from '../../platform/idempotency/idempotency.js';
import { newId } from '../../platform/ids.js';
import type { ApplyResult, Importer, ValidateContext } from '../../platform/imports/imports.js';
import type { Rejection } from '../../platform/imports/imports.store.js';
import { emitMany, type DomainEvent } from '../../platform/outbox/outbox.js';
import type { MemberHistory, MembersService } from '../members/members.service.js';
import type { ProgramsService } from '../programs/programs.service.js';
import type { Program } from '../programs/programs.types.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { CreateTransactionBody, type CreateTransactionInput } from './transactions.schema.js';
import type { TransactionsService } from './transactions.service.js';
import * as store from './transactions.store.js';
import type { EarningRecord, NewTransaction, TransactionRow } from './transactions.store.js';

/** Plain text columns: the order's own fields. */
const TEXT_COLUMNS = [
  'external_id', 'type', 'member_id', 'member_external_id', 'customer_ref', 'occurred_at', 'currency', 'channel', 'store_id',
  'original_external_id', 'original_id',
] as const;
/** A single-line order in flat columns (CSV mostly), instead of a `lines` JSON array. */
const LINE_COLUMNS = ['sku', 'category', 'quantity', 'unit_price', 'discount'] as const;
/** A single payment in flat columns, instead of a `payments` JSON array. */
const PAYMENT_COLUMNS = { payment_method: 'method', payment_amount: 'amount' } as const;
/** Every column an orders file may have, in a sensible order. */
export const ORDER_FILE_COLUMNS = [...TEXT_COLUMNS.slice(0, 8), 'total', ...TEXT_COLUMNS.slice(8), 'lines', 'payments', ...LINE_COLUMNS, ...Object.keys(PAYMENT_COLUMNS)];
const KNOWN = new Set<string>(ORDER_FILE_COLUMNS);
const INTEGER_LINE_FIELDS = new Set(['quantity', 'unit_price', 'discount']);

/** What an order's amounts may no longer do once recorded. */
const SETTLED = "an order's amounts, once recorded, change only through returns and voids";

/** Query parameters of `POST /v1/transactions/import`. */
export const TransactionImportOptions = Obj({
  award_points: Type.Optional(Type.Boolean({
    default: false,
    description: 'false (default): record the orders without points (history). true: every purchase earns by the earn rules in force at its occurred_at, as if it had been sent then.',
  })),
});

/** A valid row: the order as `POST /v1/transactions` would take it, and its digest. */
export interface OrderImportRow {
  input: CreateTransactionInput;
  digest: string;
}

interface Prep {
  program: Program;
  award: boolean;
  locale: Locale;
}

type Row = { line: number; value: OrderImportRow };

export function transactionsImporter(deps: {
  transactions: TransactionsService;
  members: MembersService;
  programs: ProgramsService;
  tenants: TenantsService;
}): Importer<OrderImportRow, Prep> {
  const { transactions, members, programs, tenants } = deps;
  const checkSchema = makeAjv('body').compile(CreateTransactionBody);

  return {
    kind: 'transactions',
    path: '/v1/transactions/import',
    tags: ['transactions', 'imports'],
    keyColumn: 'external_id',
    requiredColumns: ['external_id', 'occurred_at', 'currency', 'total'],
    options: TransactionImportOptions,
    writers: 1,
    description: [
      'Historical orders, one per row, with the fields of `POST /v1/transactions`:',
      `\`${ORDER_FILE_COLUMNS.join('`, `')}\`. \`external_id\`, \`occurred_at\`, \`currency\` and \`total\` are required.`,
      '`lines` and `payments` are JSON arrays (in CSV, a JSON array in one cell); a single-line order may use the columns `sku`, `category`, `quantity`, `unit_price`, `discount` instead, a single payment `payment_method` and `payment_amount`.',
      'Upsert by `external_id`: an order recorded with the same content is `unchanged`; with other content it is rejected, unless it never had an effect on any balance and the import does not award points, in which case it is updated.',
      'Unknown customers (`member_external_id`) are enrolled when the program enrols unknown customers. A return must come after its purchase in the file, or its purchase must already be recorded.',
      '`?award_points=true` awards points by the rules in force at each order\'s occurred_at (order by order, slower). Unknown columns are ignored and listed in `unknown_columns`. See docs/imports.md.',
    ].join(' '),

    knowsColumn: (name) => KNOWN.has(name),

    keyOf(values) {
      const v = values.external_id;
      if (typeof v !== 'string') return null;
      const t = v.trim();
      return t === '' ? null : t;
    },

    async prepare(db, tenantId, options) {
      const program = await programs.get(db, tenantId);
      const tenant = await tenants.getTenant(db, tenantId);
      return { program, award: options.award_points === true, locale: (tenant?.default_locale as Locale | undefined) ?? 'en' };
    },

    validate(values, ctx) {
      return validateRow(values, ctx, (input) => (checkSchema(input) ? [] : ajvToFieldErrors((checkSchema.errors ?? []) as any, 'body')), transactions);
    },

    apply: (tx, tenantId, rows, ctx) => applyBatch(tx, tenantId, rows, ctx, { transactions, members }),
  };
}

// ── Validation ───────────────────────────────────────────────────────────

/** A cell as a value or null: CSV cells are strings, NDJSON values anything; blank means no value. */
function cell(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? null : t;
  }
  return v;
}

/** A whole number from a CSV cell (or a typed NDJSON value); anything else is passed on for the schema to name. */
function integer(v: unknown): unknown {
  const c = cell(v);
  if (typeof c === 'string' && /^-?\d+$/.test(c)) {
    const n = Number(c);
    if (Number.isSafeInteger(n)) return n;
  }
  return c;
}

/** A JSON array cell (`lines`, `payments`): absent, the parsed value, or an error. */
function arrayCell(v: unknown, field: string, example: string, errs: FieldError[]): { given: boolean; value?: unknown } {
  const c = cell(v);
  if (c === null) return { given: false };
  if (typeof c !== 'string') return { given: true, value: c }; // NDJSON: typed (the schema names a wrong type)
  try {
    return { given: true, value: JSON.parse(c) };
  } catch {
    errs.push({ field, detail: `must be a JSON array such as ${example}` });
    return { given: true };
  }
}

/** A field of the API body, as the column of the file that holds it (flat line and payment columns). */
function columnOf(field: string, flatLine: boolean, flatPayment: boolean): string {
  if (flatLine) {
    const m = /^lines\[0\]\.(\w+)$/.exec(field);
    if (m && (LINE_COLUMNS as readonly string[]).includes(m[1]!)) return m[1]!;
  }
  if (flatPayment) {
    if (field === 'payments[0].method') return 'payment_method';
    if (field === 'payments[0].amount') return 'payment_amount';
  }
  return field;
}

function validateRow(
  values: Record<string, unknown>,
  ctx: ValidateContext<Prep>,
  schemaErrors: (input: Record<string, unknown>) => FieldError[],
  transactions: TransactionsService,
): { ok: true; value: OrderImportRow } | { ok: false; errors: FieldError[] } {
  const errs: FieldError[] = [];
  const input: Record<string, unknown> = {};
  for (const c of TEXT_COLUMNS) {
    const v = cell(values[c]);
    if (v !== null) input[c] = v;
  }
  const total = integer(values.total);
  if (total !== null) input.total = total;

  // Lines: a JSON array, or one line in flat columns.
  const lines = arrayCell(values.lines, 'lines', '[{"sku": "A-1", "quantity": 1, "unit_price": 2990}]', errs);
  const flatLine = LINE_COLUMNS.some((c) => cell(values[c]) !== null);
  if (lines.given && flatLine) errs.push({ field: 'lines', detail: `give the lines as a JSON array or one line in the columns ${LINE_COLUMNS.join(', ')}, not both` });
  else if (lines.value !== undefined) input.lines = lines.value;
  else if (flatLine) {
    const line: Record<string, unknown> = {};
    for (const c of LINE_COLUMNS) {
      const v = INTEGER_LINE_FIELDS.has(c) ? integer(values[c]) : cell(values[c]);
      if (v !== null) line[c] = v;
    }
    input.lines = [line];
  }

  // Payments: a JSON array, or one payment in flat columns.
  const payments = arrayCell(values.payments, 'payments', '[{"method": "card", "amount": 4590}]', errs);
  const flatPayment = Object.keys(PAYMENT_COLUMNS).some((c) => cell(values[c]) !== null);
  if (payments.given && flatPayment) errs.push({ field: 'payments', detail: 'give the payments as a JSON array or one payment in the columns payment_method, payment_amount, not both' });
  else if (payments.value !== undefined) input.payments = payments.value;
  else if (flatPayment) {
    const payment: Record<string, unknown> = {};
    const method = cell(values.payment_method);
    const amount = integer(values.payment_amount);
    if (method !== null) payment.method = method;
    if (amount !== null) payment.amount = amount;
    input.payments = [payment];
  }

  if (input.occurred_at === undefined) errs.push({ field: 'occurred_at', detail: 'is required in an import: when the order happened' });

  // The API's rules: the request schema, then the checks it cannot express (only on a body the schema accepts, as the API does).
  const schemaErrs = schemaErrors(input);
  errs.push(...schemaErrs);
  if (schemaErrs.length === 0) errs.push(...transactions.checkOrder(input as CreateTransactionInput, ctx.prep.program, ctx.now));
  if (errs.length > 0) return { ok: false, errors: uniqueFieldErrors(errs.map((e) => ({ ...e, field: columnOf(e.field, flatLine, flatPayment) }))) };

  const order = input as CreateTransactionInput;
  try {
    return { ok: true, value: { input: order, digest: transactions.digestOf(order) } };
  } catch (err) {
    if (isAppError(err)) return { ok: false, errors: err.errors.length > 0 ? err.errors : [{ field: '(row)', detail: err.message }] };
    throw err;
  }
}


// ── Writing ──────────────────────────────────────────────────────────────

type MemberRef = Awaited<ReturnType<MembersService['findMany']>>[number];

const isReturn = (input: CreateTransactionInput) => (input.type ?? 'purchase') === 'return';
const unique = <T>(xs: Array<T | undefined | null>) => [...new Set(xs.filter((x): x is T => x !== undefined && x !== null))];
const fieldErrors = (err: { message: string; errors: FieldError[] }): FieldError[] => (err.errors.length > 0 ? err.errors : [{ field: '(row)', detail: err.message }]);

/** Why a recorded order cannot take the file's other content; null when it can (no effect on any balance, ever). */
function whyNotReplaceable(t: TransactionRow, input: CreateTransactionInput, award: boolean, hasReturns: boolean): FieldError | null {
  const what = `${t.type} ${t.external_id} is already recorded with other details`;
  if (award) return { field: 'external_id', detail: `${what}; an import with award_points=true never changes a recorded order (${SETTLED})` };
  if ((input.type ?? 'purchase') !== t.type) return { field: 'type', detail: `${t.external_id} is already recorded as a ${t.type}` };
  if (t.type === 'return') return { field: 'external_id', detail: `${what}; a recorded return cannot be changed (void it and record a new one)` };
  if (t.status === 'voided') return { field: 'external_id', detail: `${what} and voided; a voided order cannot be changed` };
  if (t.points !== 0 || !t.earning || t.earning.not_earned_reason === null) return { field: 'external_id', detail: `${what} and was judged for points; ${SETTLED}` };
  if (hasReturns) return { field: 'external_id', detail: `${what} and has returns; ${SETTLED}` };
  return null;
}

/** The fields of a recorded order that another content changes. */
function changedFields(t: TransactionRow, next: Omit<NewTransaction, 'source' | 'created_at' | 'id' | 'type' | 'original_id' | 'points' | 'external_id'>): string[] {
  const out: string[] = [];
  const fields = ['member_id', 'customer_ref', 'occurred_at', 'currency', 'total', 'lines', 'channel', 'store_id', 'payments'] as const;
  for (const f of fields) {
    const a = t[f];
    const b = next[f];
    const same = f === 'occurred_at' ? (a as Date).getTime() === (b as Date).getTime() : canonicalJson(a ?? null) === canonicalJson(b ?? null);
    if (!same) out.push(f);
  }
  return out;
}

async function applyBatch(
  tx: Tx,
  tenantId: string,
  rows: Row[],
  ctx: { now: Date; prep: Prep },
  deps: { transactions: TransactionsService; members: MembersService },
): Promise<ApplyResult> {
  const { now, prep } = ctx;
  const { transactions, members } = deps;
  const rejected: Rejection[] = [];
  const reject = (line: number, errs: FieldError[]) => rejected.push({ line, reason: errs.map((e) => `${e.field}: ${e.detail}`).join('; ') });
  let created = 0;
  let updated = 0;
  let unchanged = 0;

  // 1. Orders already recorded: the same content is unchanged; other content is replaced or rejected below.
  const existing = new Map((await store.getManyByExternalId(tx, tenantId, rows.map((r) => r.value.input.external_id))).map((t) => [t.external_id, t]));
  const fresh: Row[] = [];
  const differing: Row[] = [];
  for (const r of rows) {
    const t = existing.get(r.value.input.external_id);
    if (!t) fresh.push(r);
    else if (t.body_digest === r.value.digest) unchanged++;
    else differing.push(r);
  }

  // Returns of this batch by the purchase they name, to keep file order: a purchase replaced after a return of it.
  const returnLines = new Map<string, number>();
  for (const r of rows) {
    const ref = r.value.input.original_external_id;
    if (isReturn(r.value.input) && ref && !returnLines.has(ref)) returnLines.set(ref, r.line);
  }

  // 2. Which differing orders can take the file's content: without points, a purchase that never had an effect on any balance.
  const replace: Array<{ row: Row; current: TransactionRow }> = [];
  if (differing.length > 0) {
    const candidates = prep.award ? [] : differing.filter((r) => whyNotReplaceable(existing.get(r.value.input.external_id)!, r.value.input, false, false) === null);
    // Locked until the batch commits (a return through the API waits), and read again under the lock.
    const locked = new Map((await store.getManyByExternalId(tx, tenantId, candidates.map((r) => r.value.input.external_id), true)).map((t) => [t.external_id, t]));
    const withReturns = await store.purchasesWithReturns(tx, tenantId, [...locked.values()].map((t) => t.id));
    for (const r of differing) {
      const current = locked.get(r.value.input.external_id) ?? existing.get(r.value.input.external_id)!;
      if (current.body_digest === r.value.digest) {
        unchanged++;
        continue;
      }
      const earlierReturn = returnLines.get(current.external_id);
      const why = whyNotReplaceable(current, r.value.input, prep.award, withReturns.has(current.id) || (earlierReturn !== undefined && earlierReturn < r.line));
      if (why) reject(r.line, [why]);
      else replace.push({ row: r, current });
    }
  }

  // 3. Members of the purchases written here. Unknown customers are enrolled when the program allows it, never an
  //    erased one (erasure keeps the external id's hash; an import does not bring erased members back).
  const bulkPurchases = prep.award ? [] : fresh.filter((r) => !isReturn(r.value.input));
  const memberRows = [...bulkPurchases, ...replace.map((x) => x.row), ...(prep.award ? fresh.filter((r) => !isReturn(r.value.input)) : [])];
  const externals = unique(memberRows.map((r) => r.value.input.member_external_id));
  const found = await members.findMany(tx, tenantId, unique(memberRows.map((r) => r.value.input.member_id)), externals);
  const byId = new Map(found.map((m) => [m.id, m]));
  const byExternal = new Map(found.filter((m) => m.external_id !== null).map((m) => [m.external_id!, m]));
  const erased = await members.erasedExternalIds(tx, tenantId, externals.filter((e) => !byExternal.has(e)));
  if (!prep.award && prep.program.enrol_unknown_customers) {
    const firstAt = new Map<string, number>();
    for (const r of memberRows) {
      const e = r.value.input.member_external_id;
      if (!e || byExternal.has(e) || erased.has(e)) continue;
      const at = Date.parse(r.value.input.occurred_at!);
      firstAt.set(e, Math.min(firstAt.get(e) ?? at, at));
    }
    if (firstAt.size > 0) {
      // As the API enrols them: enrolled when they first bought (never in the future), the tenant's locale.
      const enrol: MemberHistory[] = [...firstAt].map(([externalId, at]) => ({
        id: newId(), external_id: externalId, locale: prep.locale, enrolled_at: new Date(Math.min(at, now.getTime())),
      }));
      await members.loadHistory(tx, tenantId, enrol);
      // Also those another request enrolled meanwhile (loadHistory skips an external_id that is taken).
      for (const m of await members.findMany(tx, tenantId, [], [...firstAt.keys()])) byExternal.set(m.external_id!, m);
    }
  }

  /** The order's member and why it earns nothing, as `record` decides them; an error when the row cannot be written. */
  const resolve = (input: CreateTransactionInput): { member: MemberRef | null; reason: string } | FieldError => {
    let member: MemberRef | null = null;
    let reason = 'no_member';
    if (input.member_id) {
      member = byId.get(input.member_id) ?? null;
      if (!member) return { field: 'member_id', detail: 'is not a member of this program' };
    } else if (input.member_external_id) {
      if (erased.has(input.member_external_id)) return { field: 'member_external_id', detail: 'belongs to an erased member; an import does not bring erased members back' };
      member = byExternal.get(input.member_external_id) ?? null;
      if (!member) reason = 'unknown_member';
    }
    if (member) reason = member.status === 'blocked' ? 'member_blocked' : member.status === 'erased' ? 'member_erased' : 'not_awarded';
    return { member, reason };
  };
  const recordOf = (r: Row, id: string) => {
    const input = r.value.input;
    const m = resolve(input);
    if ('field' in m) return m;
    const earning: EarningRecord = { points: 0, kept_points: 0, eligible_amount: 0, not_earned_reason: m.reason, activates_at: null, expires_at: null, explanation: [] };
    return {
      id, external_id: input.external_id, type: 'purchase' as const, member_id: m.member?.id ?? null,
      customer_ref: m.member ? null : input.customer_ref ?? input.member_external_id ?? null, original_id: null,
      occurred_at: new Date(input.occurred_at!), currency: input.currency, total: input.total, lines: input.lines ?? null,
      channel: input.channel ?? null, store_id: input.store_id ?? null, payments: input.payments ?? null, body_digest: r.value.digest,
      points: 0, earning, source: 'import' as const, created_at: now,
    } satisfies NewTransaction;
  };
  const events: DomainEvent[] = [];
  const recorded = (t: NewTransaction) => events.push({
    tenantId, type: 'transaction.recorded', aggregateType: 'transaction', aggregateId: t.id, memberId: t.member_id, occurredAt: now,
    payload: { transaction_id: t.id, external_id: t.external_id, type: 'purchase', member_id: t.member_id, total: t.total, currency: t.currency, points: 0, occurred_at: t.occurred_at.toISOString() },
  });

  // 4. New purchases without points: one INSERT for the batch.
  const rejectedPurchases = new Map<string, number>(); // external_id -> line, for a return of one of them
  if (bulkPurchases.length > 0) {
    const records: Array<{ row: Row; t: NewTransaction }> = [];
    for (const r of bulkPurchases) {
      const t = recordOf(r, newId());
      if ('field' in t) {
        reject(r.line, [t]);
        rejectedPurchases.set(r.value.input.external_id, r.line);
      } else records.push({ row: r, t });
    }
    const inserted = await store.insertTransactions(tx, tenantId, records.map((x) => x.t));
    const raced: Row[] = [];
    for (const { row, t } of records) {
      if (inserted.has(t.id)) {
        created++;
        recorded(t);
      } else raced.push(row);
    }
    // Recorded by another request since step 1 (the insert waited for it): as a re-send, the same content is unchanged.
    const current = new Map((await store.getManyByExternalId(tx, tenantId, raced.map((r) => r.value.input.external_id))).map((t) => [t.external_id, t]));
    for (const r of raced) {
      if (current.get(r.value.input.external_id)?.body_digest === r.value.digest) unchanged++;
      else reject(r.line, [{ field: 'external_id', detail: `${r.value.input.external_id} was recorded with other details while the import ran; ${SETTLED}` }]);
    }
  }

  // 5. Orders replaced by the file's content (no points, no returns: no effect on any balance).
  if (replace.length > 0) {
    const next: Parameters<typeof store.replaceOrders>[2] = [];
    for (const { row, current } of replace) {
      const t = recordOf(row, current.id);
      if ('field' in t) {
        reject(row.line, [t]);
        continue;
      }
      const changed = changedFields(current, t);
      next.push({ ...t, id: current.id });
      updated++;
      events.push({
        tenantId, type: 'transaction.updated', aggregateType: 'transaction', aggregateId: current.id, memberId: t.member_id, occurredAt: now,
        payload: { transaction_id: current.id, external_id: current.external_id, member_id: t.member_id, previous_member_id: current.member_id, changed_fields: changed, source: 'import' },
      });
    }
    await store.replaceOrders(tx, tenantId, next);
  }
  await emitMany(tx, events);

  // 6. Order by order through the service, in file order: returns, and every purchase when points are awarded.
  //    A return takes back what its purchase no longer earns whenever the purchase earned (award: true on a return
  //    only means that); a purchase recorded without points has nothing to take back.
  const purchaseLines = new Map(fresh.filter((r) => !isReturn(r.value.input)).map((r) => [r.value.input.external_id, r.line]));
  const sequential = fresh.filter((r) => prep.award || isReturn(r.value.input));
  for (const r of sequential) {
    const input = r.value.input;
    if (isReturn(input) && input.original_external_id) {
      const purchaseLine = purchaseLines.get(input.original_external_id);
      if (purchaseLine !== undefined && purchaseLine > r.line) {
        reject(r.line, [{ field: 'original_external_id', detail: `its purchase is on line ${purchaseLine}, after this return; a return must come after its purchase in the file` }]);
        continue;
      }
      const rejectedLine = rejectedPurchases.get(input.original_external_id);
      if (rejectedLine !== undefined) {
        reject(r.line, [{ field: 'original_external_id', detail: `its purchase (line ${rejectedLine}) was rejected` }]);
        continue;
      }
    } else if (input.member_external_id && erased.has(input.member_external_id)) {
      reject(r.line, [{ field: 'member_external_id', detail: 'belongs to an erased member; an import does not bring erased members back' }]);
      rejectedPurchases.set(input.external_id, r.line);
      continue;
    }
    try {
      const result = await withSavepoint(tx, () => transactions.record(tx, tenantId, input, { award: isReturn(input) ? true : prep.award, source: 'import' }));
      if (result.created) created++;
      else unchanged++;
    } catch (err) {
      if (!isAppError(err)) throw err;
      const errs = fieldErrors(err).map((e) => (e.field === 'original_external_id' && /is not a purchase recorded/.test(e.detail)
        ? { ...e, detail: `${e.detail}; a return must come after its purchase in the file, or its purchase must already be recorded` }
        : e));
      reject(r.line, errs);
      if (!isReturn(input)) rejectedPurchases.set(input.external_id, r.line);
    }
  }

  return { created, updated, unchanged, rejected };
}
