/**
 * The members importer: rows of a CSV or NDJSON file upserted by external_id
 * (see docs/imports.md). Rows are validated with the members module's own
 * rules (the request schema and `validateMemberFields`), and a row changes an
 * existing member the way `PATCH /v1/members/{id}` would: only the columns the
 * file has, attributes merged, time zones in their canonical spelling, consent
 * changes recorded with their history (source `import`) and events emitted.
 *
 * Writing is set-based, one batch (thousands of rows) at a time: the
 * members of the batch are read and locked in one query, then inserted,
 * updated, their consents and events written in a handful of statements. The
 * SQL lives here rather than in members.store.ts because it exists only for
 * this bulk path.
 */
import type { Tx } from '../../platform/db/db.js';
import { uniqueFieldErrors, type FieldError } from '../../platform/errors.js';
import { ajvToFieldErrors } from '../../platform/http/problem.js';
import type { Locale } from '../../platform/http/schema.js';
import { newId } from '../../platform/ids.js';
import type { ApplyResult, Importer, ValidateContext } from '../../platform/imports/imports.js';
import type { Rejection } from '../../platform/imports/imports.store.js';
import { emitMany, type DomainEvent } from '../../platform/outbox/outbox.js';
import type { TenantsService } from '../tenants/tenants.service.js';
import { CHANNELS, CreateMemberBody, type Channel } from './members.schema.js';
import { attributeErrors, validateMemberFields } from './members.service.js';
import { canonicalTimeZone, isoDay } from '../../platform/dates.js';
import { makeAjv } from '../../platform/http/ajv.js';
import { canonicalJson } from '../../platform/idempotency/idempotency.js';


/** Plain columns, in the order of an export. */
export const TEXT_COLUMNS = ['email', 'phone', 'first_name', 'last_name', 'birth_date', 'locale', 'time_zone', 'enrolled_at'] as const;
type TextColumn = (typeof TEXT_COLUMNS)[number];
export const CONSENT_COLUMNS = CHANNELS.map((c) => `consent_${c}`) as Array<`consent_${Channel}`>;
/** The columns of an export, which an import takes back as they are. */
export const MEMBER_FILE_COLUMNS = ['external_id', ...TEXT_COLUMNS, 'attributes', ...CONSENT_COLUMNS] as const;
const KNOWN = new Set<string>(MEMBER_FILE_COLUMNS);
const ATTR_PREFIX = 'attr.';

const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0']);

/** A valid row: only what the file says. */
export interface MemberImportRow {
  externalId: string;
  /** Plain columns present in the file; null clears the field (locale and enrolled_at are never cleared). */
  fields: Partial<Record<TextColumn, string | null>>;
  /** Attribute changes, merged into the member's attributes: null removes a key. */
  attributes: Record<string, unknown> | null;
  /** True when the `attributes` cell was empty or null: remove every attribute (before `attributes` is merged). */
  clearAttributes: boolean;
  consent: Partial<Record<Channel, boolean>>;
}

interface Prep {
  defaultLocale: Locale;
  /** Time zone spelling -> canonical name or null; Intl is slow, files repeat a few zones. */
  zones: Map<string, string | null>;
  zoneErrors: Map<string, FieldError[]>;
}

/** A member as read for an update. */
interface Existing {
  id: string;
  external_id: string;
  status: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  birth_date: string | null;
  locale: string;
  time_zone: string | null;
  attributes: Record<string, unknown>;
  enrolled_at: Date;
}

/** Bits of the columns an UPDATE sets (the others keep their stored value exactly). */
const BIT: Record<TextColumn | 'attributes', number> = {
  email: 1, phone: 2, first_name: 4, last_name: 8, birth_date: 16, locale: 32, time_zone: 64, enrolled_at: 128, attributes: 256,
};

export function membersImporter(tenants: TenantsService): Importer<MemberImportRow, Prep> {
  const checkSchema = makeAjv('body').compile(CreateMemberBody);

  return {
    kind: 'members',
    path: '/v1/members/import',
    tags: ['members', 'imports'],
    keyColumn: 'external_id',
    requiredColumns: ['external_id'],
    description: [
      'Columns (CSV header or NDJSON keys), all optional but `external_id`:',
      `\`${MEMBER_FILE_COLUMNS.join('`, `')}\`, and \`attr.<name>\` for a single attribute.`,
      'Upsert by `external_id`: a new one creates a member, a known one changes only the columns the file has (an empty value clears the field).',
      '`attributes` is a JSON object merged into the member\'s (a key set to null is removed; an empty cell removes all).',
      '`consent_email`, `consent_sms`, `consent_push`: true/false/yes/no/1/0; empty leaves consent as it is. Imported members have no consent unless the file grants it.',
      'Unknown columns are ignored and listed in `unknown_columns`. See docs/imports.md.',
    ].join(' '),

    knowsColumn: (name) => KNOWN.has(name) || (name.startsWith(ATTR_PREFIX) && name.length > ATTR_PREFIX.length),

    keyOf(values) {
      const v = values.external_id;
      if (typeof v !== 'string') return null;
      const t = v.trim();
      return t === '' ? null : t;
    },

    async prepare(db, tenantId) {
      const tenant = await tenants.getTenant(db, tenantId);
      return { defaultLocale: (tenant?.default_locale as Locale | undefined) ?? 'en', zones: new Map(), zoneErrors: new Map() };
    },

    validate(values, ctx) {
      return validateRow(values, ctx, (input) => {
        if (checkSchema(input)) return [];
        return ajvToFieldErrors((checkSchema.errors ?? []) as any, 'body');
      });
    },

    apply: applyBatch,
  };
}

// ── Validation ───────────────────────────────────────────────────────────

/** A cell as text or null: CSV cells are strings, NDJSON values anything; blank means no value. */
function text(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? null : t;
  }
  return v; // a number or object in NDJSON: the schema names the type it should have
}

function parseConsent(v: unknown): boolean | null | 'bad' {
  if (typeof v === 'boolean') return v;
  const t = text(v);
  if (t === null) return null;
  if (typeof t === 'number' && (t === 0 || t === 1)) return t === 1;
  if (typeof t !== 'string') return 'bad';
  const l = t.toLowerCase();
  return TRUE.has(l) ? true : FALSE.has(l) ? false : 'bad';
}

function validateRow(
  values: Record<string, unknown>,
  ctx: ValidateContext<Prep>,
  schemaErrors: (input: Record<string, unknown>) => FieldError[],
): { ok: true; value: MemberImportRow } | { ok: false; errors: FieldError[] } {
  const errs: FieldError[] = [];
  const externalId = text(values.external_id);
  if (externalId === null) errs.push({ field: 'external_id', detail: 'is required: it is the key rows are matched by' });

  const fields: MemberImportRow['fields'] = {};
  const input: Record<string, unknown> = {};
  if (externalId !== null) input.external_id = externalId;
  for (const c of TEXT_COLUMNS) {
    if (!(c in values)) continue;
    const v = text(values[c]);
    // No value for locale or enrolled_at means "keep" (a new member gets the defaults): they cannot be empty.
    if (v === null && (c === 'locale' || c === 'enrolled_at')) continue;
    fields[c] = v as string | null;
    if (c !== 'time_zone') input[c] = v;
  }

  let attributes: Record<string, unknown> | null = null;
  let clearAttributes = false;
  if ('attributes' in values) {
    let raw = values.attributes;
    if (typeof raw === 'string') {
      raw = raw.trim() === '' ? null : safeJson(raw);
      if (raw === undefined) errs.push({ field: 'attributes', detail: 'must be a JSON object such as {"tier": "gold"}' });
    }
    if (raw === null) clearAttributes = true;
    else if (raw !== undefined) {
      if (typeof raw !== 'object' || Array.isArray(raw)) errs.push({ field: 'attributes', detail: 'must be a JSON object such as {"tier": "gold"}' });
      else attributes = { ...(raw as Record<string, unknown>) };
    }
  }
  for (const [k, v] of Object.entries(values)) {
    if (!k.startsWith(ATTR_PREFIX) || k.length === ATTR_PREFIX.length) continue;
    attributes ??= {};
    setKey(attributes, k.slice(ATTR_PREFIX.length), typeof v === 'string' ? (v.trim() === '' ? null : v.trim()) : v ?? null);
  }
  if (attributes !== null) input.attributes = attributes;

  const consent: MemberImportRow['consent'] = {};
  for (const channel of CHANNELS) {
    const column = `consent_${channel}`;
    if (!(column in values)) continue;
    const c = parseConsent(values[column]);
    if (c === 'bad') errs.push({ field: column, detail: 'must be true, false, yes, no, 1 or 0 (or empty to leave consent as it is)' });
    else if (c !== null) consent[channel] = c;
  }

  // The members module's rules: the request schema, then the checks it cannot express.
  for (const e of schemaErrors(input)) errs.push(e.field.startsWith('attributes') ? { field: 'attributes', detail: e.detail } : e);
  const tz = fields.time_zone;
  if (typeof tz === 'string') {
    let zoneErrs = ctx.prep.zoneErrors.get(tz);
    if (!zoneErrs) {
      zoneErrs = tz.length > 64 ? [{ field: 'time_zone', detail: 'must be at most 64 characters' }] : validateMemberFields({ time_zone: tz }, ctx.now);
      if (ctx.prep.zoneErrors.size < 10_000) ctx.prep.zoneErrors.set(tz, zoneErrs);
    }
    errs.push(...zoneErrs);
    if (zoneErrs.length === 0) fields.time_zone = zoneOf(ctx.prep, tz);
  } else if (tz !== undefined && tz !== null) {
    errs.push({ field: 'time_zone', detail: 'must be a string' });
  }
  // One reason per field: the schema's when it has one.
  const reported = new Set(errs.map((e) => e.field));
  errs.push(...validateMemberFields(input, ctx.now).filter((e) => !reported.has(e.field)));
  if (errs.length > 0) return { ok: false, errors: uniqueFieldErrors(errs) };
  return { ok: true, value: { externalId: externalId as string, fields, attributes, clearAttributes, consent } };
}

function zoneOf(prep: Prep, tz: string): string | null {
  let z = prep.zones.get(tz);
  if (z === undefined) {
    z = canonicalTimeZone(tz);
    if (prep.zones.size < 10_000) prep.zones.set(tz, z);
  }
  return z;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}


// ── Writing ──────────────────────────────────────────────────────────────


function mergeAttributes(base: Record<string, unknown>, row: MemberImportRow): Record<string, unknown> {
  const out: Record<string, unknown> = row.clearAttributes ? {} : { ...base };
  for (const [k, v] of Object.entries(row.attributes ?? {})) {
    if (v === null) delete out[k];
    else setKey(out, k, v);
  }
  return out;
}

/** Sets an own property, whatever its name: an attribute may be called `__proto__` without changing the object's prototype. */
function setKey(o: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

async function applyBatch(tx: Tx, tenantId: string, rows: Array<{ line: number; value: MemberImportRow }>, ctx: { now: Date; prep: Prep }): Promise<ApplyResult> {
  const { now } = ctx;
  const rejected: Rejection[] = [];
  const reject = (line: number, errs: FieldError[]) => rejected.push({ line, reason: errs.map((e) => `${e.field}: ${e.detail}`).join('; ') });

  // 1. Erased members are never brought back: their external ids are kept as hashes.
  const erased = new Set<string>();
  const gone = await tx.query<{ external_id: string }>(
    `SELECT k AS external_id FROM unnest($2::text[]) AS k
      WHERE EXISTS (SELECT 1 FROM member_erasures e WHERE e.tenant_id = $1 AND e.external_id_sha256 = sha256(convert_to(k, 'UTF8')))`,
    [tenantId, rows.map((r) => r.value.externalId)],
  );
  for (const r of gone.rows) erased.add(r.external_id);

  // 2. Every other row is tried as a new member first: most rows of a large
  //    import usually are, and the insert's unique check is the lookup an
  //    upfront SELECT would make. Rows whose external_id exists come back
  //    unchanged from ON CONFLICT DO NOTHING and are updated below.
  const memberOf = new Map<number, string>(); // line -> member id, for consent
  const createdLines = new Set<number>();
  const candidates: Array<Record<string, unknown>> = [];
  for (const { line, value: r } of rows) {
    if (erased.has(r.externalId)) {
      reject(line, [{ field: 'external_id', detail: 'belongs to an erased member; an import does not bring erased members back' }]);
      continue;
    }
    // What the row alone says must fit; an existing member's merged attributes are checked again below.
    const attributes = mergeAttributes({}, r);
    const attrErrs = attributeErrors(attributes);
    if (attrErrs.length > 0) {
      reject(line, attrErrs);
      continue;
    }
    candidates.push({
      line, id: newId(), external_id: r.externalId,
      email: r.fields.email ?? null, phone: r.fields.phone ?? null, first_name: r.fields.first_name ?? null, last_name: r.fields.last_name ?? null,
      birth_date: r.fields.birth_date ?? null, locale: r.fields.locale ?? ctx.prep.defaultLocale, time_zone: r.fields.time_zone ?? null,
      attributes, enrolled_at: r.fields.enrolled_at ?? now.toISOString(),
    });
  }
  const conflicted: Array<{ line: number; value: MemberImportRow }> = [];
  if (candidates.length > 0) {
    const res = await tx.query<{ id: string }>(
      `INSERT INTO members (tenant_id, id, external_id, email, phone, first_name, last_name, birth_date, locale, time_zone, attributes, status, enrolled_at, created_at, updated_at)
       SELECT $1, id, external_id, email, phone, first_name, last_name, birth_date, locale, time_zone, attributes, 'active', enrolled_at, $2, $2
         FROM json_to_recordset($3::json) AS s(id uuid, external_id text, email text, phone text, first_name text, last_name text, birth_date date,
                                              locale text, time_zone text, attributes jsonb, enrolled_at timestamptz)
       ON CONFLICT (tenant_id, external_id) DO NOTHING
       RETURNING id`,
      [tenantId, now, JSON.stringify(candidates)],
    );
    const inserted = new Set(res.rows.map((r) => r.id));
    const byLine = new Map(rows.map((r) => [r.line, r]));
    for (const c of candidates) {
      const line = c.line as number;
      if (inserted.has(c.id as string)) {
        createdLines.add(line);
        memberOf.set(line, c.id as string);
      } else conflicted.push(byLine.get(line)!);
    }
  }

  // 3. The members that exist, locked until the batch commits; each row changes one the way a PATCH would.
  const updates: Array<Record<string, unknown>> = [];
  const changedFields = new Map<string, string[]>();
  if (conflicted.length > 0) {
    const found = await tx.query<Existing>(
      `SELECT id, external_id, status, email, phone, first_name, last_name, birth_date, locale, time_zone, attributes, enrolled_at
         FROM members WHERE tenant_id = $1 AND external_id = ANY($2::text[])
        FOR UPDATE`,
      [tenantId, conflicted.map((r) => r.value.externalId)],
    );
    const existing = new Map(found.rows.map((m) => [m.external_id, m]));
    for (const { line, value: r } of conflicted) {
      const m = existing.get(r.externalId);
      if (!m || m.status === 'erased') {
        // Erased (or its external_id changed) between the insert and this read.
        reject(line, [{ field: 'external_id', detail: 'the member with this external_id changed while the import ran; import the row again' }]);
        continue;
      }
      const next: Record<string, unknown> = { ...r.fields };
      if (r.attributes !== null || r.clearAttributes) {
        next.attributes = mergeAttributes(m.attributes, r);
        const attrErrs = attributeErrors(next.attributes as Record<string, unknown>);
        if (attrErrs.length > 0) {
          reject(line, attrErrs.map((e) => ({ ...e, detail: `${e.detail} after merging with the member's attributes` })));
          continue;
        }
      }
      // The resulting member must make sense, not only the row (as for a PATCH).
      const birth = (next.birth_date !== undefined ? next.birth_date : m.birth_date) as string | null;
      const enrolledDay = typeof next.enrolled_at === 'string' ? isoDay(new Date(next.enrolled_at)) : isoDay(m.enrolled_at);
      if (birth && enrolledDay < birth) {
        reject(line, [next.enrolled_at !== undefined ? { field: 'enrolled_at', detail: 'must not be before birth_date' } : { field: 'birth_date', detail: "must not be after the member's enrolled_at" }]);
        continue;
      }
      const changed: string[] = [];
      let mask = 0;
      for (const [k, v] of Object.entries(next)) {
        const was = (m as unknown as Record<string, unknown>)[k];
        const same = k === 'enrolled_at' ? new Date(v as string).getTime() === (was as Date).getTime() : canonicalJson(v) === canonicalJson(was);
        if (!same) {
          changed.push(k);
          mask |= BIT[k as keyof typeof BIT];
        }
      }
      memberOf.set(line, m.id);
      if (changed.length > 0) {
        updates.push({ id: m.id, c: mask, ...next });
        changedFields.set(m.id, changed);
      }
    }
  }

  // 5. Changed members: only the changed columns are written.
  if (updates.length > 0) {
    await tx.query(
      `UPDATE members m SET
          email       = CASE WHEN s.c & 1   <> 0 THEN s.email       ELSE m.email END,
          phone       = CASE WHEN s.c & 2   <> 0 THEN s.phone       ELSE m.phone END,
          first_name  = CASE WHEN s.c & 4   <> 0 THEN s.first_name  ELSE m.first_name END,
          last_name   = CASE WHEN s.c & 8   <> 0 THEN s.last_name   ELSE m.last_name END,
          birth_date  = CASE WHEN s.c & 16  <> 0 THEN s.birth_date  ELSE m.birth_date END,
          locale      = CASE WHEN s.c & 32  <> 0 THEN s.locale      ELSE m.locale END,
          time_zone   = CASE WHEN s.c & 64  <> 0 THEN s.time_zone   ELSE m.time_zone END,
          enrolled_at = CASE WHEN s.c & 128 <> 0 THEN s.enrolled_at ELSE m.enrolled_at END,
          attributes  = CASE WHEN s.c & 256 <> 0 THEN s.attributes  ELSE m.attributes END,
          updated_at  = $2
         FROM json_to_recordset($3::json) AS s(id uuid, c int, email text, phone text, first_name text, last_name text, birth_date date,
                                              locale text, time_zone text, enrolled_at timestamptz, attributes jsonb)
        WHERE m.tenant_id = $1 AND m.id = s.id`,
      [tenantId, now, JSON.stringify(updates)],
    );
  }

  // 6. Consent: a grant, or the withdrawal of an earlier grant, is a change with its history.
  //    "false" for a member who never consented changes nothing: that is already the state.
  const consentInput: Array<{ id: string; member_id: string; channel: Channel; granted: boolean }> = [];
  for (const { line, value: r } of rows) {
    const memberId = memberOf.get(line);
    if (!memberId) continue;
    const fresh = createdLines.has(line);
    for (const channel of CHANNELS) {
      const granted = r.consent[channel];
      // A member created just now has no consent to withdraw.
      if (granted !== undefined && (granted || !fresh)) consentInput.push({ id: newId(), member_id: memberId, channel, granted });
    }
  }
  const consentChanges: Array<{ member_id: string; channel: Channel; granted: boolean }> = [];
  if (consentInput.length > 0) {
    const res = await tx.query<{ member_id: string; channel: Channel; granted: boolean }>(
      `WITH s AS (
         SELECT * FROM json_to_recordset($3::json) AS s(id uuid, member_id uuid, channel text, granted boolean)
       ), up AS (
         INSERT INTO member_consents (tenant_id, member_id, channel, granted, source, updated_at)
         SELECT $1, s.member_id, s.channel, s.granted, 'import', $2 FROM s
          WHERE s.granted
             OR EXISTS (SELECT 1 FROM member_consents c WHERE c.tenant_id = $1 AND c.member_id = s.member_id AND c.channel = s.channel)
         ON CONFLICT (tenant_id, member_id, channel) DO UPDATE
           SET granted = EXCLUDED.granted, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
           WHERE member_consents.granted IS DISTINCT FROM EXCLUDED.granted
         RETURNING member_id, channel, granted
       ), history AS (
         INSERT INTO member_consent_events (tenant_id, id, member_id, channel, granted, source, occurred_at)
         SELECT $1, s.id, up.member_id, up.channel, up.granted, 'import', $2 FROM up JOIN s USING (member_id, channel)
       )
       SELECT member_id, channel, granted FROM up`,
      [tenantId, now, JSON.stringify(consentInput)],
    );
    consentChanges.push(...res.rows);
  }

  // 7. Events, in line order, then the consent changes.
  const events: DomainEvent[] = [];
  const event = (type: string, memberId: string, payload: Record<string, unknown>): DomainEvent => ({
    tenantId, type, aggregateType: 'member', aggregateId: memberId, memberId, payload: { member_id: memberId, ...payload }, occurredAt: now,
  });
  let created = 0;
  let updated = 0;
  let unchanged = 0;
  const consentChanged = new Set(consentChanges.map((c) => c.member_id));
  for (const { line } of rows) {
    const memberId = memberOf.get(line);
    if (!memberId) continue;
    if (createdLines.has(line)) {
      created++;
      events.push(event('member.created', memberId, {}));
      continue;
    }
    const changed = changedFields.get(memberId);
    if (changed) events.push(event('member.updated', memberId, { changed_fields: changed }));
    if (changed || consentChanged.has(memberId)) updated++;
    else unchanged++;
  }
  for (const c of consentChanges) events.push(event('member.consent_changed', c.member_id, { channel: c.channel, granted: c.granted, source: 'import' }));
  await emitMany(tx, events);

  return { created, updated, unchanged, rejected };
}
